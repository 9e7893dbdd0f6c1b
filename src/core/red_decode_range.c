/* red_decode_range - the number and time ranges a stored value lies in. */
#include "red_decode_range.h"

#include "red_decode_jv.h"
#include "red_event.h"

#include <math.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The shortest text that reads back as @p x ("0.1", not
 * "0.10000000000000001"). */
static const char *num_text(double x, char buf[32])
{
        for (int prec = 15; prec <= 17; prec++) {
                snprintf(buf, 32, "%.*g", prec, x);
                if (strtod(buf, NULL) == x) {
                        break;
                }
        }
        return buf;
}

/* A JSON number with a non-zero digit before its exponent. */
static bool nonzero_text(const char *p, size_t len)
{
        for (size_t i = 0; i < len && p[i] != 'e' && p[i] != 'E'; i++) {
                if (p[i] >= '1' && p[i] <= '9') {
                        return true;
                }
        }
        return false;
}

int red_decode_range_number(const red_field_t *f, double x, const char *text,
                            size_t len, char *detail, size_t size)
{
        char a[32], b[32];

        if (!isfinite(x)) {
                snprintf(detail, size, "%s: not a finite number", f->name);
                return -1;
        }
        if (x == 0 && text && nonzero_text(text, len)) {
                /* strtod gave 0 with ERANGE: the value is lost, and
                 * PostgreSQL refuses the text; a denormal is kept */
                snprintf(detail, size,
                         "%s: %.*s is closer to zero than a double can hold "
                         "(underflow)",
                         f->name, len > 64 ? 64 : (int)len, text);
                return -1;
        }
        if (f->has_min && x < f->min) {
                snprintf(detail, size, "%s: %s is below the minimum %s",
                         f->name, num_text(x, a), num_text(f->min, b));
                return -1;
        }
        if (f->has_max && x > f->max) {
                snprintf(detail, size, "%s: %s is above the maximum %s",
                         f->name, num_text(x, a), num_text(f->max, b));
                return -1;
        }
        /* beyond what a cell's exact sum takes (red_event.h); integers
         * are int64 and cannot overflow a sum of fewer than 2^64 */
        if (f->type == RED_FT_NUMBER && fabs(x) > RED_NUMBER_LIMIT) {
                snprintf(detail, size,
                         "%s: %s is outside -%g..%g, the range of numbers "
                         "that sums hold exactly",
                         f->name, num_text(x, a), RED_NUMBER_LIMIT,
                         RED_NUMBER_LIMIT);
                return -1;
        }
        return 0;
}

int red_decode_range_time(const char *what, red_time_t t, char *detail,
                          size_t size)
{
        char s[RED_TIME_FMT_SIZE];

        if (t >= RED_TIME_ACCEPT_MIN && t < RED_TIME_ACCEPT_END) {
                return 0;
        }
        red_time_format(t, s, sizeof(s));
        snprintf(detail, size,
                 "%s: %s is outside 0001-02-01..9999-12-01, the times "
                 "reducerd stores",
                 what, s);
        return -1;
}

/* --- object members and JSON ------------------------------------------- */

bool red_decode_range_member(red_field_type_t want, const json_t *item)
{
        switch (want) {
        case RED_FT_STRING:
                return json_is_string(item);
        case RED_FT_NUMBER:
                return json_is_number(item);
        case RED_FT_INTEGER:
                return json_is_integer(item);
        case RED_FT_BOOLEAN:
                return json_is_boolean(item);
        case RED_FT_OBJECT:
                return json_is_object(item);
        default:
                return true;
        }
}

/* A member value of the fast path has the type of an object field's
 * `values` (as red_decode_range_member() judges the same value parsed). */
bool red_decode_range_member_tok(red_field_type_t want, const red_json_tok_t *v)
{
        switch (want) {
        case RED_FT_STRING:
                return v->t == RED_JSON_STR;
        case RED_FT_NUMBER:
                return v->t == RED_JSON_INT || v->t == RED_JSON_REAL;
        case RED_FT_INTEGER:
                return v->t == RED_JSON_INT;
        case RED_FT_BOOLEAN:
                return v->t == RED_JSON_TRUE || v->t == RED_JSON_FALSE;
        default:
                return true;
        }
}

/* Any string or member name with \u0000 (jsonb cannot hold it). */
bool red_decode_range_has_nul(const json_t *j)
{
        const char *key;
        size_t key_len, i;
        json_t *item;

        if (json_is_string(j)) {
                return strlen(json_string_value(j)) != json_string_length(j);
        }
        if (json_is_object(j)) {
                /* names too: red_json_tree keeps \u0000 in them */
                json_object_keylen_foreach((json_t *)j, key, key_len, item)
                {
                        if (memchr(key, '\0', key_len) ||
                            red_decode_range_has_nul(item)) {
                                return true;
                        }
                }
                return false;
        }
        if (json_is_array(j)) {
                json_array_foreach(j, i, item)
                {
                        if (red_decode_range_has_nul(item)) {
                                return true;
                        }
                }
        }
        return false;
}

/* A string matches its field's pattern (regexec needs a C string). */
bool red_decode_range_pattern(const red_field_t *f, const char *s, size_t len)
{
        char small[256], *p = len < sizeof(small) ? small : malloc(len + 1);
        bool ok;

        if (!p) {
                return false;
        }
        memcpy(p, s, len);
        p[len] = '\0';
        ok = !regexec(f->regex, p, 0, NULL, 0);
        if (p != small) {
                free(p);
        }
        return ok;
}

/* The detail for a member (@p key) or item (@p i, when @p key is NULL)
 * of the wrong type. */
static red_dlq_code_t wrong_item(const red_field_t *f, json_t *item,
                                 const char *key, size_t i, char *detail,
                                 size_t size)
{
        const char *want = red_contract_field_type_name(f->values);
        red_decode_jv_t iv;

        red_decode_jv_from_json(item, &iv);
        if (key) {
                snprintf(detail, size, "%s.%.64s: expected a %s, got %s",
                         f->name, key, want, red_decode_jv_type_name(iv.t));
        } else {
                snprintf(detail, size, "%s[%zu]: expected %s %s, got %s",
                         f->name, i,
                         f->values == RED_FT_INTEGER ||
                                         f->values == RED_FT_OBJECT
                                 ? "an"
                                 : "a",
                         want, red_decode_jv_type_name(iv.t));
        }
        return RED_DLQ_WRONG_TYPE;
}

red_dlq_code_t red_decode_range_members(const red_field_t *f, json_t *obj,
                                        char *detail, size_t size)
{
        const char *key;
        json_t *item;

        if (f->values == RED_FT_NONE) {
                return RED_DLQ_NONE;
        }
        json_object_foreach(obj, key, item)
        {
                if (!red_decode_range_member(f->values, item)) {
                        return wrong_item(f, item, key, 0, detail, size);
                }
        }
        return RED_DLQ_NONE;
}

red_dlq_code_t red_decode_range_items(const red_field_t *f, json_t *arr,
                                      char *detail, size_t size)
{
        size_t i;
        json_t *item;

        json_array_foreach(arr, i, item)
        {
                if (f->values != RED_FT_NONE &&
                    !red_decode_range_member(f->values, item)) {
                        return wrong_item(f, item, NULL, i, detail, size);
                }
                for (size_t k = 0; k < f->item_required_cnt; k++) {
                        json_t *m = json_object_get(item, f->item_required[k]);
                        if (!json_is_string(m) || !json_string_length(m)) {
                                snprintf(detail, size,
                                         "%s[%zu].%s: required, a non-empty "
                                         "string",
                                         f->name, i, f->item_required[k]);
                                return RED_DLQ_MISSING_FIELD;
                        }
                }
        }
        return RED_DLQ_NONE;
}
