/* red_buf - growable byte buffer with text/JSON/COPY append helpers. */
#include "red_buf.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void red_buf_init(red_buf_t *b)
{
        memset(b, 0, sizeof(*b));
}

void red_buf_destroy(red_buf_t *b)
{
        if (!b) {
                return;
        }
        free(b->data);
        memset(b, 0, sizeof(*b));
}

void red_buf_reset(red_buf_t *b)
{
        b->len = 0;
        b->failed = false;
        if (b->data) {
                b->data[0] = '\0';
        }
}

int red_buf_reserve(red_buf_t *b, size_t extra)
{
        size_t need = b->len + extra + 1, cap;
        char *p;

        if (need <= b->cap) {
                return 0;
        }
        cap = b->cap ? b->cap : 256;
        while (cap < need) {
                cap *= 2;
        }
        p = realloc(b->data, cap);
        if (!p) {
                b->failed = true;
                return -ENOMEM;
        }
        b->data = p;
        b->cap = cap;
        return 0;
}

void red_buf_append(red_buf_t *b, const void *data, size_t len)
{
        if (red_buf_reserve(b, len)) {
                return;
        }
        memcpy(b->data + b->len, data, len);
        b->len += len;
        b->data[b->len] = '\0';
}

void red_buf_puts(red_buf_t *b, const char *s)
{
        red_buf_append(b, s, strlen(s));
}

void red_buf_putc(red_buf_t *b, char c)
{
        if (red_buf_reserve(b, 1)) {
                return;
        }
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
}

void red_buf_printf(red_buf_t *b, const char *fmt, ...)
{
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0 || red_buf_reserve(b, (size_t)n)) {
                return;
        }
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
        b->len += (size_t)n;
}

void red_buf_put_i64(red_buf_t *b, int64_t v)
{
        char tmp[24];
        char *p = tmp + sizeof(tmp);
        uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

        do {
                *--p = (char)('0' + u % 10);
                u /= 10;
        } while (u);
        if (v < 0) {
                *--p = '-';
        }
        red_buf_append(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

void red_buf_put_double(red_buf_t *b, double v)
{
        char tmp[32];
        int n;

        if (!isfinite(v)) {
                /* JSON has no NaN/Inf; the callers never produce them, but
                 * a null is safer than invalid JSON. */
                red_buf_puts(b, "null");
                return;
        }
        if (fabs(v) < 1e15 && v == (double)(int64_t)v) {
                red_buf_put_i64(b, (int64_t)v);
                return;
        }
        if (fabs(v) >= 1e-4 && fabs(v) < 1e9) {
                /* Up to six decimals that read back exactly: the digits
                 * %.15g would print (at most 15 significant ones, which
                 * always round-trip; fixed notation in this range), without
                 * printf. r / 1e6 is correctly rounded, as strtod is. */
                double r = nearbyint(v * 1e6);
                if (r / 1e6 == v) {
                        int64_t x = (int64_t)(r < 0 ? -r : r);
                        char frac[7];
                        int digits = 6;

                        if (r < 0) {
                                red_buf_putc(b, '-');
                        }
                        red_buf_put_i64(b, x / 1000000);
                        for (int k = 5, f = (int)(x % 1000000); k >= 0;
                             k--, f /= 10) {
                                frac[k] = (char)('0' + f % 10);
                        }
                        while (digits > 0 && frac[digits - 1] == '0') {
                                digits--;
                        }
                        red_buf_putc(b, '.');
                        red_buf_append(b, frac, (size_t)digits);
                        return;
                }
        }
        /* Shortest of %.15g..%.17g that round-trips. */
        for (int prec = 15; prec <= 17; prec++) {
                n = snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
                if (strtod(tmp, NULL) == v) {
                        break;
                }
        }
        red_buf_append(b, tmp, (size_t)n);
}

void red_buf_put_json_str(red_buf_t *b, const char *s, size_t len)
{
        static const char hex[] = "0123456789abcdef";
        size_t start = 0;

        red_buf_putc(b, '"');
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                const char *esc = NULL;
                char u[6];

                if (c >= 0x20 && c != '"' && c != '\\') {
                        continue;
                }
                red_buf_append(b, s + start, i - start);
                start = i + 1;
                switch (c) {
                case '"':
                        esc = "\\\"";
                        break;
                case '\\':
                        esc = "\\\\";
                        break;
                case '\b':
                        esc = "\\b";
                        break;
                case '\f':
                        esc = "\\f";
                        break;
                case '\n':
                        esc = "\\n";
                        break;
                case '\r':
                        esc = "\\r";
                        break;
                case '\t':
                        esc = "\\t";
                        break;
                default:
                        memcpy(u, "\\u00", 4);
                        u[4] = hex[c >> 4];
                        u[5] = hex[c & 15];
                        red_buf_append(b, u, 6);
                        continue;
                }
                red_buf_puts(b, esc);
        }
        red_buf_append(b, s + start, len - start);
        red_buf_putc(b, '"');
}

/* True when none of the 8 bytes of @p w is a backslash or below 0x20 (the
 * only bytes COPY text escapes); exact for the whole word, word-at-a-time. */
static bool copy_word_plain(uint64_t w)
{
        const uint64_t ones = UINT64_C(0x0101010101010101);
        const uint64_t highs = UINT64_C(0x8080808080808080);
        uint64_t bs = w ^ (ones * '\\');

        return !(((bs - ones) & ~bs & highs) |
                 ((w - ones * 0x20) & ~w & highs));
}

void red_buf_put_copy_str(red_buf_t *b, const char *s, size_t len)
{
        size_t start = 0, i = 0;

        while (i < len) {
                const char *esc;
                uint64_t w;

                if (i + 8 <= len) {
                        memcpy(&w, s + i, 8);
                        if (copy_word_plain(w)) {
                                i += 8;
                                continue;
                        }
                }
                switch (s[i]) {
                case '\\':
                        esc = "\\\\";
                        break;
                case '\t':
                        esc = "\\t";
                        break;
                case '\n':
                        esc = "\\n";
                        break;
                case '\r':
                        esc = "\\r";
                        break;
                default:
                        i++;
                        continue;
                }
                red_buf_append(b, s + start, i - start);
                red_buf_append(b, esc, 2);
                start = ++i;
        }
        red_buf_append(b, s + start, len - start);
}

char *red_buf_steal(red_buf_t *b, size_t *lenp)
{
        char *p = b->data;

        if (lenp) {
                *lenp = b->len;
        }
        if (!p) {
                p = calloc(1, 1);
        }
        red_buf_init(b);
        return p;
}
