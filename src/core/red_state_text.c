/* red_state_text - the text of a state sink's text_of column (see
 * red_state_text.h). */
#include "red_state_text.h"

#include "red_buf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* jsonb's member order: shorter names first, equal lengths bytewise. */
static int jsonb_key_cmp(const void *a, const void *b)
{
        const char *x = *(const char *const *)a, *y = *(const char *const *)b;
        size_t lx = strlen(x), ly = strlen(y);

        if (lx != ly) {
                return lx < ly ? -1 : 1;
        }
        return memcmp(x, y, lx);
}

/* The member names of object @p o in jsonb's order (a new array the caller
 * frees), or NULL on OOM or when empty (*cntp 0). */
static const char **jsonb_keys(const json_t *o, size_t *cntp)
{
        size_t n = json_object_size(o), i = 0;
        const char **keys;
        const char *k;
        json_t *v;

        *cntp = 0;
        if (!n || !(keys = malloc(n * sizeof(*keys)))) {
                return NULL;
        }
        json_object_foreach((json_t *)o, k, v)
        {
                keys[i++] = k;
        }
        qsort(keys, i, sizeof(*keys), jsonb_key_cmp);
        *cntp = i;
        return keys;
}

/* A number as PostgreSQL's numeric prints what jansson wrote for it:
 * plain decimal notation, as many fraction digits as the text gave
 * ("1.5e-05" is 0.000015, "1e+20" 100000000000000000000). */
static void put_numeric(red_buf_t *out, const char *num)
{
        char digits[64];
        size_t nd = 0, intd = 0;
        long exp = 0, point, scale;
        bool neg = false, seen_point = false, nonzero = false;
        const char *p = num;

        if (*p == '-') {
                neg = true;
                p++;
        }
        for (; *p && *p != 'e' && *p != 'E'; p++) {
                if (*p == '.') {
                        seen_point = true;
                } else if (nd < sizeof(digits)) {
                        nonzero |= *p != '0';
                        digits[nd++] = *p;
                        intd += !seen_point;
                }
        }
        if (*p) {
                exp = strtol(p + 1, NULL, 10);
        }
        /* the point sits after digits[point - 1]; scale fraction digits */
        point = (long)intd + exp;
        scale = (long)(nd - intd) - exp;
        scale = scale < 0 ? 0 : scale;
        if (neg && nonzero) {
                red_buf_putc(out, '-');
        }
        if (point <= 0) {
                red_buf_putc(out, '0');
        } else {
                bool lead = true;
                for (long i = 0; i < point; i++) {
                        char d = i < (long)nd ? digits[i] : '0';
                        if (lead && d == '0' && i < point - 1) {
                                continue;
                        }
                        lead = false;
                        red_buf_putc(out, d);
                }
        }
        if (scale > 0) {
                red_buf_putc(out, '.');
                for (long i = point; i < point + scale; i++) {
                        red_buf_putc(out,
                                     i >= 0 && i < (long)nd ? digits[i] : '0');
                }
        }
}

/* @p v as jsonb's text output writes it: {"a": 1, "b": [true, null]}. */
static void put_jsonb(red_buf_t *out, const json_t *v)
{
        char num[64];
        size_t n;
        const char **keys;

        switch (json_typeof(v)) {
        case JSON_OBJECT:
                keys = jsonb_keys(v, &n);
                if (!keys && json_object_size(v)) {
                        out->failed = true;
                        return;
                }
                red_buf_putc(out, '{');
                for (size_t i = 0; i < n; i++) {
                        red_buf_puts(out, i ? ", " : "");
                        red_buf_put_json_str(out, keys[i], strlen(keys[i]));
                        red_buf_puts(out, ": ");
                        put_jsonb(out, json_object_get(v, keys[i]));
                }
                red_buf_putc(out, '}');
                free(keys);
                return;
        case JSON_ARRAY:
                red_buf_putc(out, '[');
                for (size_t i = 0; i < json_array_size(v); i++) {
                        red_buf_puts(out, i ? ", " : "");
                        put_jsonb(out, json_array_get(v, i));
                }
                red_buf_putc(out, ']');
                return;
        case JSON_STRING:
                red_buf_put_json_str(out, json_string_value(v),
                                     json_string_length(v));
                return;
        case JSON_INTEGER:
        case JSON_REAL:
                /* the text the sink sends PostgreSQL for it */
                n = json_dumpb(v, num, sizeof(num) - 1, JSON_ENCODE_ANY);
                if (!n || n >= sizeof(num)) {
                        out->failed = true;
                        return;
                }
                num[n] = '\0';
                put_numeric(out, num);
                return;
        case JSON_TRUE:
                red_buf_puts(out, "true");
                return;
        case JSON_FALSE:
                red_buf_puts(out, "false");
                return;
        default:
                red_buf_puts(out, "null");
                return;
        }
}

/* What ->> gives for @p v: strings unquoted, others as jsonb text. */
static void put_text(red_buf_t *out, const json_t *v)
{
        if (json_is_string(v)) {
                red_buf_append(out, json_string_value(v),
                               json_string_length(v));
        } else {
                put_jsonb(out, v);
        }
}

/* One piece of the text: a space before every piece but the first. */
static void piece(red_buf_t *out, bool *first)
{
        if (!*first) {
                red_buf_putc(out, ' ');
        }
        *first = false;
}

json_t *red_state_text_of(const red_state_col_t *col, json_t *const *vals)
{
        red_buf_t b;
        bool first = true;
        json_t *nv;

        red_buf_init(&b);
        for (size_t k = 0; k < col->part_cnt; k++) {
                const red_text_part_t *p = &col->parts[k];
                const json_t *v = vals[p->column];
                const char **keys;
                size_t n;

                if (!v || json_is_null(v)) {
                        continue;
                }
                switch (p->kind) {
                case RED_TEXT_VALUE:
                        piece(&b, &first);
                        put_text(&b, v);
                        break;
                case RED_TEXT_ITEMS:
                        /* every object item is a piece, even an empty one:
                         * concat_ws(' ', name, description) is '' */
                        for (size_t j = 0; j < json_array_size(v); j++) {
                                const json_t *item = json_array_get(v, j);
                                bool inner = true;
                                if (!json_is_object(item)) {
                                        continue;
                                }
                                piece(&b, &first);
                                for (size_t m = 0; m < p->member_cnt; m++) {
                                        const json_t *x = json_object_get(
                                                item, p->members[m]);
                                        if (!x || json_is_null(x)) {
                                                continue;
                                        }
                                        piece(&b, &inner);
                                        put_text(&b, x);
                                }
                        }
                        break;
                case RED_TEXT_STRINGS:
                        if (!json_is_object(v)) {
                                break;
                        }
                        keys = jsonb_keys(v, &n);
                        if (!keys && json_object_size(v)) {
                                b.failed = true;
                                break;
                        }
                        for (size_t j = 0; j < n; j++) {
                                const json_t *x = json_object_get(v, keys[j]);
                                if (json_is_string(x)) {
                                        piece(&b, &first);
                                        put_text(&b, x);
                                }
                        }
                        free(keys);
                        break;
                }
        }
        nv = b.failed ? NULL
                      : json_stringn_nocheck(b.data ? b.data : "", b.len);
        red_buf_destroy(&b);
        return nv;
}
