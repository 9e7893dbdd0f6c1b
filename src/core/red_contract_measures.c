/* red_contract_measures - an aggregation's measures and columns. */
#include "red_contract_load.h"

#include "red_buf.h"
#include "red_expr.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * A measure is the state a cell keeps (a count, an exact sum, stats, a
 * sketch, counts per value, or measures per value); a column is what a
 * row shows of it: an expression over measure outputs ("done",
 * "seconds.p95", "ok / total"), a JSON object of such expressions, or a
 * JSON object per value of a by measure (each:).
 */

/* --- measures ------------------------------------------------------------ */

/* in the order of red_meas_kind_t */
static const char *const meas_keys[] = {"count",    "sum", "stats",  "sketch",
                                        "count_by", "by",  "recent", NULL};

static int measure_of(red_loader_t *ld, const red_yaml_node_t *key,
                      const red_yaml_node_t *n, const char *owner, bool nested,
                      red_measure_t *m);

int red_contract_load_measures(red_loader_t *ld, const red_yaml_node_t *n,
                               const char *what, bool nested,
                               red_measure_t **out, size_t *cnt)
{
        if (red_yaml_expect(n, RED_YAML_MAP, what, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        if (!red_yaml_size(n)) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: at least one measure is needed",
                                      what);
        }
        *out = calloc(red_yaml_size(n), sizeof(**out));
        if (!*out) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(n); i++) {
                int r;
                (*cnt)++;
                if ((r = measure_of(ld, red_yaml_key(n, i),
                                    red_yaml_value(n, i), what, nested,
                                    &(*out)[i]))) {
                        return r;
                }
                for (size_t j = 0; j < i; j++) {
                        if (!strcmp((*out)[j].name, (*out)[i].name)) {
                                return red_yaml_error(
                                        ld->errstr, ld->size,
                                        red_yaml_key(n, i),
                                        "%s: measure %s is defined twice", what,
                                        (*out)[i].name);
                        }
                }
        }
        return 0;
}

/* keep: how many distinct values a recent measure keeps (default 5). */
static int keep_of(red_loader_t *ld, const red_yaml_node_t *n, const char *what,
                   red_measure_t *m)
{
        const red_yaml_node_t *kv = red_yaml_get(n, "keep");
        int64_t k = 5;
        int r;

        if (kv && m->kind != RED_MEAS_RECENT) {
                return red_yaml_error(ld->errstr, ld->size, kv,
                                      "%s: keep belongs to recent measures",
                                      what);
        }
        if (kv && (r = red_yaml_to_int64(kv, what, &k, ld->errstr, ld->size))) {
                return r;
        }
        if (k < 1 || k > RED_RECENT_MAX_KEEP) {
                return red_yaml_error(ld->errstr, ld->size, kv,
                                      "%s: keep %lld is out of range "
                                      "(allowed: 1..%d)",
                                      what, (long long)k, RED_RECENT_MAX_KEEP);
        }
        m->keep = (int)k;
        return 0;
}

/*
 * One measure: exactly one of count: kinds, sum/stats/sketch: number
 * field, count_by/by: field to key by, recent: field whose last few
 * distinct values are kept; then on: (kinds that contribute), where:
 * (conditions), precision: (decimal digits an exact sum keeps: 6 for
 * numbers, 0 for integers by default), keep: (recent: how many), and for
 * by its measures.
 */
static int measure_of(red_loader_t *ld, const red_yaml_node_t *key,
                      const red_yaml_node_t *n, const char *owner, bool nested,
                      red_measure_t *m)
{
        static const char *const keys[] = {
                "count",    "sum",    "stats", "sketch", "count_by",
                "by",       "recent", "on",    "where",  "precision",
                "measures", "keep",   NULL};
        const red_yaml_node_t *v = NULL, *kv;
        char what[256];
        int r, found = 0;

        if ((r = red_contract_load_ident(ld, key, "measure", 63, &m->name))) {
                return r;
        }
        snprintf(what, sizeof(what), "%s measure %s", owner, m->name);
        if ((r = red_yaml_check_keys(n, what, keys, ld->errstr, ld->size))) {
                return r;
        }
        for (int k = 0; meas_keys[k]; k++) {
                if ((kv = red_yaml_get(n, meas_keys[k]))) {
                        found++;
                        v = kv;
                        m->kind = (red_meas_kind_t)k;
                }
        }
        if (found != 1) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: exactly one of count, sum, stats, "
                                      "sketch, count_by, by, recent is "
                                      "needed",
                                      what);
        }
        if (nested && m->kind == RED_MEAS_BY) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "%s: by measures cannot be nested", what);
        }
        m->slot = -1;
        m->on = ~UINT64_C(0) >> (64 - ld->c->kind_cnt);
        if (m->kind == RED_MEAS_COUNT) {
                if ((r = red_contract_load_kinds(ld, v, what, &m->on))) {
                        return r;
                }
        } else {
                red_field_type_t t;
                if ((r = red_contract_load_slot(ld, v, what, &m->slot))) {
                        return r;
                }
                t = ld->c->slot_types[m->slot];
                if (m->kind <= RED_MEAS_SKETCH && t != RED_FT_NUMBER &&
                    t != RED_FT_INTEGER) {
                        return red_yaml_error(ld->errstr, ld->size, v,
                                              "%s: field %s is a %s; this "
                                              "measure needs a number",
                                              what, ld->c->slot_names[m->slot],
                                              red_contract_field_type_name(t));
                }
                if (m->kind >= RED_MEAS_COUNT_BY &&
                    (t == RED_FT_NUMBER || t == RED_FT_OBJECT ||
                     t == RED_FT_ARRAY || t == RED_FT_TIMESTAMP)) {
                        return red_yaml_error(ld->errstr, ld->size, v,
                                              "%s: cannot group by a %s "
                                              "field",
                                              what,
                                              red_contract_field_type_name(t));
                }
                m->precision = t == RED_FT_NUMBER ? 6 : 0;
        }
        if ((kv = red_yaml_get(n, "on"))) {
                uint64_t on;
                if ((r = red_contract_load_kinds(ld, kv, what, &on))) {
                        return r;
                }
                m->on &= on;
        }
        if ((kv = red_yaml_get(n, "where")) &&
            (r = red_contract_load_conds(ld, kv, what, &m->where,
                                         &m->where_cnt))) {
                return r;
        }
        if ((kv = red_yaml_get(n, "precision"))) {
                int64_t p;
                if ((r = red_yaml_to_int64(kv, what, &p, ld->errstr,
                                           ld->size))) {
                        return r;
                }
                if (p < 0 || p > 9 || m->kind == RED_MEAS_COUNT ||
                    m->kind >= RED_MEAS_COUNT_BY) {
                        return red_yaml_error(ld->errstr, ld->size, kv,
                                              "%s: precision applies to sum, "
                                              "stats and sketch (allowed: "
                                              "0..9)",
                                              what);
                }
                m->precision = (int)p;
        }
        if ((r = keep_of(ld, n, what, m))) {
                return r;
        }
        kv = red_yaml_get(n, "measures");
        if (m->kind == RED_MEAS_BY) {
                if (!kv) {
                        return red_yaml_error(ld->errstr, ld->size, n,
                                              "%s: a by measure needs "
                                              "\"measures\"",
                                              what);
                }
                return red_contract_load_measures(ld, kv, what, true, &m->sub,
                                                  &m->sub_cnt);
        }
        if (kv) {
                return red_yaml_error(ld->errstr, ld->size, kv,
                                      "%s: \"measures\" belongs to by "
                                      "measures",
                                      what);
        }
        return 0;
}

void red_contract_load_free_measures(red_measure_t *m, size_t cnt)
{
        for (size_t i = 0; m && i < cnt; i++) {
                free(m[i].name);
                red_contract_load_conds_free(m[i].where, m[i].where_cnt);
                red_contract_load_free_measures(m[i].sub, m[i].sub_cnt);
        }
        free(m);
}

/* --- column expressions ------------------------------------------------- */

/* The measures an expression may name: the aggregation's, or within
 * each: those of the by measure. */
typedef struct resolve_ctx_s {
        const red_measure_t *measures;
        size_t cnt;
} resolve_ctx_t;

/*
 * red_expr's name resolver: "measure" or "measure.output" to a reference
 * (RED_REF_MEASURE / RED_REF_OUTPUT of red_contract.h); 0, or -1 with the
 * reason in @p errstr. Counts and sums have one output, so their bare
 * name will do; stats and sketches must name theirs.
 */
static int resolve_ref(void *opaque, const char *name, int *ref, char *errstr,
                       size_t size)
{
        const resolve_ctx_t *rc = opaque;
        const char *dot = strchr(name, '.');
        size_t len = dot ? (size_t)(dot - name) : strlen(name);
        const red_measure_t *m = NULL;
        int idx = -1, out;

        for (size_t i = 0; i < rc->cnt; i++) {
                if (strlen(rc->measures[i].name) == len &&
                    !strncmp(rc->measures[i].name, name, len)) {
                        m = &rc->measures[i];
                        idx = (int)i;
                }
        }
        if (!m) {
                snprintf(errstr, size, "unknown measure \"%.*s\"", (int)len,
                         name);
                return -1;
        }
        if (m->kind >= RED_MEAS_COUNT_BY) {
                snprintf(errstr, size,
                         "measure %s holds %s; use it as a whole column or "
                         "with each:",
                         m->name,
                         m->kind == RED_MEAS_RECENT ? "a list of values"
                                                    : "one value per key");
                return -1;
        }
        if (!dot) {
                if (m->kind == RED_MEAS_COUNT) {
                        out = RED_OUT_COUNT;
                } else if (m->kind == RED_MEAS_SUM) {
                        out = RED_OUT_SUM;
                } else {
                        snprintf(
                                errstr, size,
                                "measure %s has several outputs; name one "
                                "(allowed: %s.count, .sum, .avg, .min, .max%s)",
                                m->name, m->name,
                                m->kind == RED_MEAS_SKETCH ? ", .p50, .p95, "
                                                             ".p99, .pNN"
                                                           : "");
                        return -1;
                }
        } else if (!strcmp(dot + 1, "events")) {
                out = RED_OUT_EVENTS; /* unweighted: how many were sampled */
        } else if (m->kind == RED_MEAS_COUNT) {
                snprintf(errstr, size,
                         "measure %s is a count; use it as %s (or %s.events, "
                         "its unweighted count)",
                         m->name, m->name, m->name);
                return -1;
        } else if (!strcmp(dot + 1, "count")) {
                out = RED_OUT_COUNT;
        } else if (!strcmp(dot + 1, "sum")) {
                out = RED_OUT_SUM;
        } else if (m->kind == RED_MEAS_SUM) {
                snprintf(errstr, size,
                         "measure %s is a sum (allowed: %s, "
                         "%s.count, %s.sum, %s.events); use stats for "
                         "min/max/avg",
                         m->name, m->name, m->name, m->name, m->name);
                return -1;
        } else if (!strcmp(dot + 1, "avg")) {
                out = RED_OUT_AVG;
        } else if (!strcmp(dot + 1, "min")) {
                out = RED_OUT_MIN;
        } else if (!strcmp(dot + 1, "max")) {
                out = RED_OUT_MAX;
        } else if (m->kind == RED_MEAS_SKETCH && dot[1] == 'p' &&
                   isdigit((unsigned char)dot[2])) {
                /* p50, p99, p99_9 (= 99.9th percentile), p100 */
                char *end;
                double pct = strtod(dot + 2, &end);
                if (*end == '_' && isdigit((unsigned char)end[1])) {
                        double frac = strtod(end + 1, &end);
                        int digits = (int)strspn(strchr(dot + 2, '_') + 1,
                                                 "0123456789");
                        pct += frac / pow(10, digits);
                }
                if (*end || pct > 100) {
                        snprintf(errstr, size,
                                 "\"%s\" is not a percentile (allowed: e.g. "
                                 "%s.p50, %s.p99, %s.p99_9)",
                                 dot + 1, m->name, m->name, m->name);
                        return -1;
                }
                out = RED_OUT_Q0 + (int)lround(pct * 100);
        } else {
                snprintf(errstr, size,
                         "measure %s has no output \"%s\" (allowed: count, "
                         "sum, avg, min, max, events%s)",
                         m->name, dot + 1,
                         m->kind == RED_MEAS_SKETCH ? ", pNN" : "");
                return -1;
        }
        *ref = (idx << 16) | out;
        return 0;
}

/* An expression over the measures of @p rc into *out (the column owns it). */
static int expr_of(red_loader_t *ld, const red_yaml_node_t *n, const char *what,
                   resolve_ctx_t *rc, red_expr_t **out)
{
        const char *s;
        char err[512];

        if (red_yaml_kind(n) != RED_YAML_SCALAR || red_yaml_is_null(n)) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: expected an expression", what);
        }
        s = red_yaml_str(n);
        *out = red_expr_parse(s, resolve_ref, rc, err, sizeof(err));
        if (!*out) {
                return red_yaml_error(ld->errstr, ld->size, n, "%s: %s", what,
                                      err);
        }
        return 0;
}

/* {key: expression, ...}: a JSON object column (also each's value). */
static int object_of(red_loader_t *ld, const red_yaml_node_t *n,
                     const char *what, resolve_ctx_t *rc, red_column_t *col)
{
        size_t cnt = red_yaml_size(n);
        int r;

        col->keys = calloc(cnt + 1, sizeof(*col->keys));
        col->exprs = calloc(cnt + 1, sizeof(*col->exprs));
        if (!col->keys || !col->exprs) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < cnt; i++) {
                col->key_cnt++;
                if ((r = red_contract_load_str(ld, red_yaml_key(n, i), what,
                                               &col->keys[i])) ||
                    (r = expr_of(ld, red_yaml_value(n, i), what, rc,
                                 &col->exprs[i]))) {
                        return r;
                }
        }
        return 0;
}

/* {each: by_measure, value: expression or {key: expression}}: one value
 * per key of the by measure, over its per-key measures. */
static int each_of(red_loader_t *ld, const red_agg_t *a,
                   const red_yaml_node_t *n, const red_yaml_node_t *v,
                   const char *what, red_column_t *col)
{
        static const char *const keys[] = {"each", "value", NULL};
        const red_measure_t *m = NULL;
        resolve_ctx_t rc;
        const char *mname;
        int r;

        col->kind = RED_COL_EACH;
        if ((r = red_yaml_check_keys(n, what, keys, ld->errstr, ld->size)) ||
            (r = red_yaml_to_str(v, what, &mname, ld->errstr, ld->size))) {
                return r;
        }
        for (size_t i = 0; i < a->measure_cnt; i++) {
                if (!strcmp(a->measures[i].name, mname)) {
                        m = &a->measures[i];
                        col->measure = (int)i;
                }
        }
        if (!m || m->kind != RED_MEAS_BY) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "%s: each needs a by measure, \"%s\" "
                                      "is not one",
                                      what, mname);
        }
        rc.measures = m->sub;
        rc.cnt = m->sub_cnt;
        if (!(v = red_contract_load_required(ld, n, what, "value", "", &r))) {
                return r;
        }
        if (red_yaml_kind(v) == RED_YAML_MAP) {
                return object_of(ld, v, what, &rc, col);
        }
        /* a recent sub-measure: its values, as a whole */
        for (size_t i = 0; i < m->sub_cnt; i++) {
                if (m->sub[i].kind == RED_MEAS_RECENT &&
                    red_yaml_kind(v) == RED_YAML_SCALAR &&
                    !strcmp(m->sub[i].name, red_yaml_str(v))) {
                        col->sub = (int)i;
                        return 0;
                }
        }
        return expr_of(ld, v, what, &rc, &col->expr);
}

/* --- alert values ------------------------------------------------------- */

int red_contract_load_agg_value(red_loader_t *ld, const red_agg_t *a,
                                const red_yaml_node_t *n, const char *what,
                                int *column, struct red_expr_s **expr)
{
        resolve_ctx_t rc = {a->measures, a->measure_cnt};

        *column = -1;
        if (red_yaml_kind(n) == RED_YAML_SCALAR && !red_yaml_is_null(n)) {
                for (size_t i = 0; i < a->column_cnt; i++) {
                        if (a->columns[i].kind == RED_COL_EXPR &&
                            !strcmp(a->columns[i].name, red_yaml_str(n))) {
                                *column = (int)i;
                                return 0;
                        }
                }
        }
        return expr_of(ld, n, what, &rc, expr);
}

/* --- columns ------------------------------------------------------------- */

/* The definition as written, on one line: what the column means. */
static void source_of(red_buf_t *b, const red_yaml_node_t *n)
{
        if (red_yaml_kind(n) == RED_YAML_SCALAR) {
                red_buf_puts(b, red_yaml_str(n));
                return;
        }
        red_buf_putc(b, red_yaml_kind(n) == RED_YAML_MAP ? '{' : '[');
        for (size_t i = 0; i < red_yaml_size(n); i++) {
                red_buf_puts(b, i ? ", " : "");
                if (red_yaml_kind(n) == RED_YAML_MAP) {
                        red_buf_printf(
                                b, "%s: ", red_yaml_str(red_yaml_key(n, i)));
                        source_of(b, red_yaml_value(n, i));
                } else {
                        source_of(b, red_yaml_item(n, i));
                }
        }
        red_buf_putc(b, red_yaml_kind(n) == RED_YAML_MAP ? '}' : ']');
}

/* A scalar names a count_by measure (its counts as a JSON object), a
 * recent measure (its values as a JSON array) or is an expression; a
 * mapping is an object of expressions, or each: over a by measure. */
int red_contract_load_column(red_loader_t *ld, const red_agg_t *a,
                             const red_yaml_node_t *key,
                             const red_yaml_node_t *n, red_column_t *col)
{
        resolve_ctx_t rc = {a->measures, a->measure_cnt};
        const red_yaml_node_t *v;
        char what[256];
        int r;

        if ((r = red_contract_load_ident(ld, key, "column", 63, &col->name))) {
                return r;
        }
        snprintf(what, sizeof(what), "aggregation %s column %s", a->name,
                 col->name);
        col->measure = -1;
        col->sub = -1;
        {
                red_buf_t src;
                red_buf_init(&src);
                source_of(&src, n);
                if (src.failed || !(col->source = red_buf_steal(&src, NULL))) {
                        red_buf_destroy(&src);
                        return -ENOMEM;
                }
        }
        if (red_yaml_kind(n) == RED_YAML_SCALAR) {
                for (size_t i = 0; i < a->measure_cnt; i++) {
                        red_meas_kind_t k = a->measures[i].kind;
                        if ((k == RED_MEAS_COUNT_BY || k == RED_MEAS_RECENT) &&
                            !strcmp(a->measures[i].name, red_yaml_str(n))) {
                                col->kind = k == RED_MEAS_RECENT
                                                    ? RED_COL_RECENT
                                                    : RED_COL_COUNTS;
                                col->measure = (int)i;
                                return 0;
                        }
                }
                col->kind = RED_COL_EXPR;
                return expr_of(ld, n, what, &rc, &col->expr);
        }
        if (red_yaml_expect(n, RED_YAML_MAP, what, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        if (!(v = red_yaml_get(n, "each"))) {
                col->kind = RED_COL_OBJECT;
                return object_of(ld, n, what, &rc, col);
        }
        return each_of(ld, a, n, v, what, col);
}

void red_contract_load_free_column(red_column_t *col)
{
        free(col->name);
        free(col->source);
        red_expr_destroy(col->expr);
        for (size_t i = 0; i < col->key_cnt; i++) {
                free(col->keys[i]);
                red_expr_destroy(col->exprs[i]);
        }
        free(col->keys);
        free(col->exprs);
}
