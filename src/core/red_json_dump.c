/* red_json_dump - json_dumps()'s text without its allocations. */
#include "red_json_dump.h"

#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Members of an object sorted on the stack; more take one allocation. */
#define SORT_STACK 16

/* What the fast writer leaves to json_dumps(). */
#define FALLBACK (-1)

/* --- strings ---------------------------------------------------------------
 */

/*
 * The length of the UTF-8 sequence at @p s (at most @p len bytes) as
 * jansson's utf8_iterate() accepts it (no overlong forms, surrogates or
 * code points above U+10FFFF), or 0 when it refuses it.
 */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
        uint32_t cp;
        size_t n;

        if (s[0] >= 0xC2 && s[0] <= 0xDF) {
                n = 2;
                cp = s[0] & 0x1Fu;
        } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
                n = 3;
                cp = s[0] & 0x0Fu;
        } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
                n = 4;
                cp = s[0] & 0x07u;
        } else {
                return 0;
        }
        if (n > len) {
                return 0;
        }
        for (size_t i = 1; i < n; i++) {
                if (s[i] < 0x80 || s[i] > 0xBF) {
                        return 0;
                }
                cp = (cp << 6) | (s[i] & 0x3Fu);
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) ||
            (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000)) {
                return 0;
        }
        return n;
}

/* A string literal as jansson's dump_string() writes it without
 * JSON_ENSURE_ASCII and JSON_ESCAPE_SLASH. FALLBACK for text that is not
 * UTF-8 (jansson refuses it, or for a member name writes a part). */
static int put_str(red_buf_t *b, const char *s, size_t len)
{
        static const char hex[] = "0123456789ABCDEF";
        const unsigned char *u = (const unsigned char *)s;
        size_t start = 0, i = 0;

        red_buf_putc(b, '"');
        while (i < len) {
                unsigned char c = u[i];
                char esc[6] = {'\\', 0, '0', '0', 0, 0};
                size_t n = 2;

                if (c >= 0x80) {
                        size_t k = utf8_seq(u + i, len - i);
                        if (!k) {
                                return FALLBACK;
                        }
                        i += k;
                        continue;
                }
                if (c >= 0x20 && c != '"' && c != '\\') {
                        i++;
                        continue;
                }
                switch (c) {
                case '"':
                case '\\':
                        esc[1] = (char)c;
                        break;
                case '\b':
                        esc[1] = 'b';
                        break;
                case '\f':
                        esc[1] = 'f';
                        break;
                case '\n':
                        esc[1] = 'n';
                        break;
                case '\r':
                        esc[1] = 'r';
                        break;
                case '\t':
                        esc[1] = 't';
                        break;
                default:
                        esc[1] = 'u';
                        esc[4] = hex[c >> 4];
                        esc[5] = hex[c & 15];
                        n = 6;
                        break;
                }
                red_buf_append(b, s + start, i - start);
                red_buf_append(b, esc, n);
                start = ++i;
        }
        red_buf_append(b, s + start, len - start);
        red_buf_putc(b, '"');
        return 0;
}

/* --- numbers ---------------------------------------------------------------
 */

/* A real as jansson's jsonp_dtostr() writes it at precision 17. */
static int put_real(red_buf_t *b, double v)
{
        char buf[100], *e;
        const char *point;
        int n = snprintf(buf, sizeof(buf), "%.17g", v);
        size_t len;

        if (n < 0 || (size_t)n >= sizeof(buf)) {
                return FALLBACK;
        }
        len = (size_t)n;
        /* a locale's decimal point back to '.' (jansson's from_locale) */
        point = localeconv()->decimal_point;
        if (*point != '.' && (e = strchr(buf, *point))) {
                *e = '.';
        }
        if (!strchr(buf, '.') && !strchr(buf, 'e')) {
                memcpy(buf + len, ".0", 3);
                len += 2;
        }
        /* no '+' and no leading zeros in the exponent */
        if ((e = strchr(buf, 'e'))) {
                char *start = e + 1, *end = e + 2;
                if (*start == '-') {
                        start++;
                }
                while (*end == '0') {
                        end++;
                }
                if (end != start) {
                        memmove(start, end, len - (size_t)(end - buf));
                        len -= (size_t)(end - start);
                }
        }
        red_buf_append(b, buf, len);
        return 0;
}

/* --- values ----------------------------------------------------------------
 */

typedef struct member_s {
        const char *key;
        size_t len;
        json_t *v;
} member_t;

/* jansson's compare_keys(): bytes, then the shorter first. */
static int member_cmp(const member_t *a, const member_t *b)
{
        int r = memcmp(a->key, b->key, a->len < b->len ? a->len : b->len);

        if (r) {
                return r;
        }
        return a->len < b->len ? -1 : a->len > b->len;
}

static int member_qcmp(const void *a, const void *b)
{
        return member_cmp(a, b);
}

static int dump(const json_t *j, bool sort, size_t depth, red_buf_t *b);

static int dump_sorted(const json_t *j, size_t depth, red_buf_t *b)
{
        member_t stack[SORT_STACK], *m = stack;
        size_t n = json_object_size(j), i = 0;
        int r = 0;

        if (n > SORT_STACK && !(m = malloc(n * sizeof(*m)))) {
                b->failed = true;
                return 0;
        }
        for (void *it = json_object_iter((json_t *)j); it && i < n;
             it = json_object_iter_next((json_t *)j, it), i++) {
                m[i].key = json_object_iter_key(it);
                m[i].len = json_object_iter_key_len(it);
                m[i].v = json_object_iter_value(it);
        }
        if (n <= SORT_STACK) {
                /* insertion sort: a few members, no calls through qsort */
                for (size_t k = 1; k < i; k++) {
                        member_t x = m[k];
                        size_t p = k;
                        for (; p && member_cmp(&m[p - 1], &x) > 0; p--) {
                                m[p] = m[p - 1];
                        }
                        m[p] = x;
                }
        } else {
                qsort(m, i, sizeof(*m), member_qcmp);
        }
        red_buf_putc(b, '{');
        for (size_t k = 0; !r && k < i; k++) {
                if (k) {
                        red_buf_putc(b, ',');
                }
                if (!(r = put_str(b, m[k].key, m[k].len))) {
                        red_buf_putc(b, ':');
                        r = dump(m[k].v, true, depth + 1, b);
                }
        }
        red_buf_putc(b, '}');
        if (m != stack) {
                free(m);
        }
        return r;
}

static int dump_object(const json_t *j, bool sort, size_t depth, red_buf_t *b)
{
        bool first = true;

        if (sort && json_object_size(j) > 1) {
                return dump_sorted(j, depth, b);
        }
        red_buf_putc(b, '{');
        for (void *it = json_object_iter((json_t *)j); it;
             it = json_object_iter_next((json_t *)j, it)) {
                int r;
                if (!first) {
                        red_buf_putc(b, ',');
                }
                first = false;
                if ((r = put_str(b, json_object_iter_key(it),
                                 json_object_iter_key_len(it)))) {
                        return r;
                }
                red_buf_putc(b, ':');
                if ((r = dump(json_object_iter_value(it), sort, depth + 1,
                              b))) {
                        return r;
                }
        }
        red_buf_putc(b, '}');
        return 0;
}

static int dump(const json_t *j, bool sort, size_t depth, red_buf_t *b)
{
        size_t n;
        int r;

        if (!j || depth > JSON_PARSER_MAX_DEPTH) {
                return FALLBACK; /* (a loop, which jansson refuses) */
        }
        switch (json_typeof(j)) {
        case JSON_NULL:
                red_buf_append(b, "null", 4);
                return 0;
        case JSON_TRUE:
                red_buf_append(b, "true", 4);
                return 0;
        case JSON_FALSE:
                red_buf_append(b, "false", 5);
                return 0;
        case JSON_INTEGER:
                red_buf_put_i64(b, json_integer_value(j));
                return 0;
        case JSON_REAL:
                return put_real(b, json_real_value(j));
        case JSON_STRING:
                return put_str(b, json_string_value(j), json_string_length(j));
        case JSON_ARRAY:
                n = json_array_size(j);
                red_buf_putc(b, '[');
                for (size_t i = 0; i < n; i++) {
                        if (i) {
                                red_buf_putc(b, ',');
                        }
                        if ((r = dump(json_array_get(j, i), sort, depth + 1,
                                      b))) {
                                return r;
                        }
                }
                red_buf_putc(b, ']');
                return 0;
        case JSON_OBJECT:
                return dump_object(j, sort, depth, b);
        }
        return FALLBACK;
}

int red_json_dump(const json_t *j, bool sort, red_buf_t *out)
{
        size_t start = out->len;
        char *text;

        if (!dump(j, sort, 0, out)) {
                return out->failed ? -1 : 0;
        }
        /* what jansson writes otherwise, or refuses */
        out->len = start;
        if (out->data) {
                out->data[start] = '\0';
        }
        if (!(text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY |
                                           (sort ? JSON_SORT_KEYS : 0)))) {
                return -1;
        }
        red_buf_puts(out, text);
        free(text);
        return out->failed ? -1 : 0;
}
