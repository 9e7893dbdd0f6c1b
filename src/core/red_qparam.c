/* red_qparam - query parameters: values, bounds, ranges, filters, pages. */
#include "red_qparam.h"

#include "red_buf.h"
#include "red_cursor.h"
#include "red_uuid.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- errors ----------------------------------------------------------- */

int red_qparam_fail(red_query_error_t *e, int status, const char *param,
                    const char *fmt, ...)
{
        va_list ap;

        e->status = status;
        snprintf(e->param, sizeof(e->param), "%s", param ? param : "");
        va_start(ap, fmt);
        vsnprintf(e->message, sizeof(e->message), fmt, ap);
        va_end(ap);
        e->allowed[0] = '\0';
        e->allowed_json[0] = '\0';
        return -1;
}

/* Appends one allowed value to the error (text and JSON forms). */
void red_qparam_allow(red_query_error_t *e, const char *item)
{
        size_t len = strlen(e->allowed), jlen = strlen(e->allowed_json);
        red_buf_t b;

        snprintf(e->allowed + len, sizeof(e->allowed) - len, "%s%s",
                 len ? ", " : "", item);
        red_buf_init(&b);
        red_buf_put_json_str(&b, item, strlen(item));
        if (!b.failed && jlen + b.len + 2 < sizeof(e->allowed_json)) {
                snprintf(e->allowed_json + jlen, sizeof(e->allowed_json) - jlen,
                         "%s%s", jlen ? "," : "", b.data);
        }
        red_buf_destroy(&b);
}

/* Appends every value of a NULL-terminated list. */
static void red_qparam_allow_list(red_query_error_t *e,
                                  const char *const *items)
{
        for (; *items; items++) {
                red_qparam_allow(e, *items);
        }
}

int red_qparam_oom(red_query_error_t *e)
{
        return red_qparam_fail(e, 0, NULL, "out of memory");
}

/* --- parameters ------------------------------------------------------- */


static void known(red_qparam_ctx_t *pc, const char *name)
{
        if (pc->known_cnt < sizeof(pc->known) / sizeof(*pc->known)) {
                pc->known[pc->known_cnt++] = name;
        }
}

/* The single value of @p name: 1 found, 0 absent, -1 given twice. */
int red_qparam_get(red_qparam_ctx_t *pc, const char *name, const char **value)
{
        int found = 0;

        known(pc, name);
        for (size_t i = 0; i < pc->cnt; i++) {
                if (strcmp(pc->p[i].name, name)) {
                        continue;
                }
                if (found) {
                        return red_qparam_fail(pc->err, 400, name,
                                               "%s is given more than once",
                                               name);
                }
                pc->used[i] = true;
                *value = pc->p[i].value;
                found = 1;
        }
        return found;
}

/* Every value of @p name (each may also be a comma-separated list when
 * @p commas): a malloc'd array of borrowed strings in *vals. */
static int red_qparam_get_all(red_qparam_ctx_t *pc, const char *name,
                              char ***vals, size_t *cnt)
{
        *vals = NULL;
        *cnt = 0;
        for (size_t i = 0; i < pc->cnt; i++) {
                char **nv;
                if (strcmp(pc->p[i].name, name)) {
                        continue;
                }
                pc->used[i] = true;
                if (!(nv = realloc(*vals, (*cnt + 1) * sizeof(*nv))) ||
                    !(nv[*cnt] = strdup(pc->p[i].value))) {
                        *vals = nv ? nv : *vals;
                        return red_qparam_oom(pc->err);
                }
                *vals = nv;
                (*cnt)++;
        }
        return 0;
}

/* The first parameter no step took: unknown for this kind. */
int red_qparam_check_unused(red_qparam_ctx_t *pc, const char *const *filters,
                            size_t filter_cnt)
{
        for (size_t i = 0; i < pc->cnt; i++) {
                if (pc->used[i]) {
                        continue;
                }
                red_qparam_fail(pc->err, 400, pc->p[i].name,
                                "unknown parameter \"%s\"", pc->p[i].name);
                for (size_t k = 0; k < pc->known_cnt; k++) {
                        red_qparam_allow(pc->err, pc->known[k]);
                }
                for (size_t k = 0; k < filter_cnt; k++) {
                        red_qparam_allow(pc->err, filters[k]);
                }
                return -1;
        }
        return 0;
}

int red_qparam_int(red_qparam_ctx_t *pc, const char *name, int64_t lo,
                   int64_t hi, int64_t def, int64_t *out)
{
        const char *v;
        char *end;
        long long n;
        int r = red_qparam_get(pc, name, &v);

        if (r <= 0) {
                *out = def;
                return r;
        }
        errno = 0;
        n = strtoll(v, &end, 10);
        if (errno || end == v || *end || !isdigit((unsigned char)*v) ||
            n < lo || n > hi) {
                red_qparam_fail(pc->err, 400, name,
                                "%s must be an integer from %lld to %lld, not "
                                "\"%.64s\"",
                                name, (long long)lo, (long long)hi, v);
                return -1;
        }
        *out = n;
        return 0;
}

int red_qparam_choice(red_qparam_ctx_t *pc, const char *name,
                      const char *const *choices, int def, int *out)
{
        const char *v;
        int r = red_qparam_get(pc, name, &v);

        *out = def;
        if (r <= 0) {
                return r;
        }
        for (int i = 0; choices[i]; i++) {
                if (!strcmp(choices[i], v)) {
                        *out = i;
                        return 0;
                }
        }
        red_qparam_fail(pc->err, 400, name, "%s \"%.64s\" is not allowed", name,
                        v);
        red_qparam_allow_list(pc->err, choices);
        return -1;
}

/* --- time ------------------------------------------------------------- */

int red_qparam_time(const char *s, red_time_t now, red_time_t *out)
{
        int64_t d;

        if (!strcmp(s, "now")) {
                *out = now;
                return 0;
        }
        if (!strncmp(s, "now-", 4)) {
                if (red_time_parse_duration(s + 4, strlen(s + 4),
                                            RED_TIME_US_PER_SEC, &d) ||
                    d > now - INT64_C(-62167219200000000)) {
                        return -EINVAL;
                }
                *out = now - d;
                return 0;
        }
        return red_time_parse(s, strlen(s), out) ? -EINVAL : 0;
}

int red_qparam_range(red_qparam_ctx_t *pc, red_query_t *q, red_time_t now,
                     bool required_default)
{
        static const char *const names[2] = {"from", "to"};
        red_time_t t[2];
        bool given[2];

        for (int i = 0; i < 2; i++) {
                const char *v;
                int r = red_qparam_get(pc, names[i], &v);
                if (r < 0) {
                        return -1;
                }
                given[i] = r == 1;
                if (given[i] && red_qparam_time(v, now, &t[i])) {
                        red_qparam_fail(pc->err, 400, names[i],
                                        "%s \"%.64s\" is not a time", names[i],
                                        v);
                        red_qparam_allow(pc->err, "ISO-8601 (2026-01-01, "
                                                  "2026-01-01T12:00:00Z)");
                        red_qparam_allow(pc->err, "now");
                        red_qparam_allow(pc->err,
                                         "now-DURATION (now-24h, now-90d)");
                        return -1;
                }
        }
        if (!given[0] && !given[1] && !required_default) {
                return 0;
        }
        if (!given[1]) {
                t[1] = now;
        }
        if (!given[0]) {
                t[0] = t[1] - 24 * RED_TIME_US_PER_HOUR;
        }
        if (t[0] >= t[1]) {
                return red_qparam_fail(pc->err, 400, given[0] ? "from" : "to",
                                       "from must be before to");
        }
        q->has_range = true;
        q->from = t[0];
        q->to = t[1];
        return 0;
}

/* --- filters ---------------------------------------------------------- */

/* Checks (and canonicalises) a filter value of @p type in place. */
static int check_value(red_qparam_ctx_t *pc, const char *param, red_qval_t type,
                       char **v)
{
        char *end, *w, canon[RED_UUID_STR_SIZE];
        red_uuid_t u;
        double d;

        if (strlen(*v) > 1000) {
                return red_qparam_fail(pc->err, 400, param,
                                       "%s: a value longer than 1000 bytes",
                                       param);
        }
        switch (type) {
        case RED_QVAL_BIGINT:
                errno = 0;
                (void)strtoll(*v, &end, 10);
                if (errno || end == *v || *end) {
                        return red_qparam_fail(pc->err, 400, param,
                                               "%s \"%.64s\" is not an integer",
                                               param, *v);
                }
                return 0;
        case RED_QVAL_FLOAT:
                d = strtod(*v, &end);
                if (end == *v || *end || !isfinite(d)) {
                        return red_qparam_fail(pc->err, 400, param,
                                               "%s \"%.64s\" is not a number",
                                               param, *v);
                }
                return 0;
        case RED_QVAL_BOOL:
                if (strcmp(*v, "true") && strcmp(*v, "false")) {
                        red_qparam_fail(pc->err, 400, param,
                                        "%s \"%.64s\" is not allowed", param,
                                        *v);
                        red_qparam_allow(pc->err, "true");
                        red_qparam_allow(pc->err, "false");
                        return -1;
                }
                return 0;
        case RED_QVAL_UUID:
                if (red_uuid_parse(*v, strlen(*v), &u)) {
                        return red_qparam_fail(pc->err, 400, param,
                                               "%s \"%.64s\" is not a UUID",
                                               param, *v);
                }
                red_uuid_format(&u, canon);
                if (!(w = strdup(canon))) {
                        return red_qparam_oom(pc->err);
                }
                free(*v);
                *v = w;
                return 0;
        case RED_QVAL_TEXT:
                return 0;
        }
        return 0;
}

void red_qparam_free_strs(char **v, size_t cnt)
{
        for (size_t i = 0; v && i < cnt; i++) {
                free(v[i]);
        }
        free(v);
}

/* Adds a filter with the values of parameter @p param (all of them). */
int red_qparam_filter(red_qparam_ctx_t *pc, red_query_t *q, const char *param,
                      const char *column, const char *json_key, red_qval_t type,
                      const char *const *choices)
{
        red_qfilter_t *f;
        char **vals;
        size_t cnt;

        if (red_qparam_get_all(pc, param, &vals, &cnt)) {
                red_qparam_free_strs(vals, cnt);
                return -1;
        }
        if (!cnt) {
                return 0;
        }
        for (size_t i = 0; i < cnt; i++) {
                bool ok = !choices;
                if (check_value(pc, param, type, &vals[i])) {
                        red_qparam_free_strs(vals, cnt);
                        return -1;
                }
                for (size_t k = 0; choices && choices[k] && !ok; k++) {
                        ok = !strcmp(choices[k], vals[i]);
                }
                if (!ok) {
                        red_qparam_fail(pc->err, 400, param,
                                        "%s \"%.64s\" is not allowed", param,
                                        vals[i]);
                        red_qparam_allow_list(pc->err, choices);
                        red_qparam_free_strs(vals, cnt);
                        return -1;
                }
        }
        if (!(f = realloc(q->filters, (q->filter_cnt + 1) * sizeof(*f)))) {
                red_qparam_free_strs(vals, cnt);
                return red_qparam_oom(pc->err);
        }
        q->filters = f;
        f = &f[q->filter_cnt];
        memset(f, 0, sizeof(*f));
        f->type = type;
        f->values = vals;
        f->value_cnt = cnt;
        q->filter_cnt++;
        if (!(f->column = strdup(column)) ||
            (json_key && !(f->json_key = strdup(json_key)))) {
                return red_qparam_oom(pc->err);
        }
        return 0;
}

red_qval_t red_qparam_type_of(red_field_type_t t)
{
        switch (t) {
        case RED_FT_INTEGER:
                return RED_QVAL_BIGINT;
        case RED_FT_NUMBER:
                return RED_QVAL_FLOAT;
        case RED_FT_BOOLEAN:
                return RED_QVAL_BOOL;
        case RED_FT_UUID:
                return RED_QVAL_UUID;
        default:
                return RED_QVAL_TEXT;
        }
}

/*
 * Filters on a JSON object column: "<prefix><key>=value" for every
 * parameter with that prefix; one filter per key (values OR'd).
 */
int red_qparam_object_filters(red_qparam_ctx_t *pc, red_query_t *q,
                              const char *prefix, const char *column)
{
        size_t plen = strlen(prefix);

        for (size_t i = 0; i < pc->cnt; i++) {
                const char *name = pc->p[i].name, *key = name + plen;
                bool seen = false;
                if (pc->used[i] || strncmp(name, prefix, plen)) {
                        continue;
                }
                if (!*key || strlen(key) > 200) {
                        return red_qparam_fail(
                                pc->err, 400, name,
                                "%s: a key of 1 to 200 bytes must follow "
                                "\"%s\"",
                                name, prefix);
                }
                for (size_t k = 0; k < q->filter_cnt && !seen; k++) {
                        seen = q->filters[k].json_key &&
                               !strcmp(q->filters[k].json_key, key) &&
                               !strcmp(q->filters[k].column, column);
                }
                if (!seen && red_qparam_filter(pc, q, name, column, key,
                                               RED_QVAL_TEXT, NULL)) {
                        return -1;
                }
        }
        return 0;
}

int red_qparam_page(red_qparam_ctx_t *pc, red_query_t *q,
                    const red_query_limits_t *lim)
{
        int64_t max = q->format == RED_FORMAT_NDJSON ? lim->max_export_rows
                                                     : lim->max_rows;
        int64_t def = q->format == RED_FORMAT_NDJSON ? max
                      : max < RED_QUERY_DEFAULT_ROWS ? max
                                                     : RED_QUERY_DEFAULT_ROWS;
        size_t want = q->order_cnt ? q->order_cnt : 1;
        const char *v;
        int r;

        if (red_qparam_int(pc, "limit", 1, max, def, &q->limit) < 0 ||
            (r = red_qparam_get(pc, "cursor", &v)) < 0) {
                return -1;
        }
        if (!r) {
                return 0;
        }
        if (red_cursor_decode(v, want, &q->cursor)) {
                return red_qparam_fail(
                        pc->err, 400, "cursor",
                        "cursor is not a next_cursor of this query");
        }
        q->cursor_cnt = want;
        if (!q->order_cnt) {
                char *end;
                long long off = strtoll(q->cursor[0], &end, 10);
                if (*end || end == q->cursor[0] || off < 0) {
                        return red_qparam_fail(
                                pc->err, 400, "cursor",
                                "cursor is not a next_cursor of this "
                                "query");
                }
                q->offset = off;
        }
        return 0;
}

int red_qparam_order(red_qparam_ctx_t *pc, red_query_t *q)
{
        static const char *const orders[] = {"asc", "desc", NULL};
        int o;

        if (red_qparam_choice(pc, "order", orders, 0, &o) < 0) {
                return -1;
        }
        q->desc = o == 1;
        return 0;
}
