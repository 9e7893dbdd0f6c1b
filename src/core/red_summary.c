/* red_summary - merges stored cells per group: summary, top, Prometheus. */
#include "red_summary.h"

#include "red_cell.h"
#include "red_cursor.h"
#include "red_outputs.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct red_summary_s {
        const red_query_t *q;
        const red_agg_t *agg;
        red_format_t *fmt;
        red_cell_t *cur;   /* the group being merged */
        bool skip;         /* its grouping is unknown: rows ignored */
        size_t groups;     /* finished */
        red_cell_t **kept; /* top: the best so far, best first;
                              prometheus: all */
        double *kept_val;
        size_t kept_cnt, kept_cap;
        red_buf_t cursor; /* of the last row written */
        bool full;
        red_buf_t vals; /* scratch for a row's values */
        size_t *offs, *lens;
        const char **ptrs;
        char from[RED_TIME_FMT_SIZE], to[RED_TIME_FMT_SIZE];
};

red_summary_t *red_summary_new(const red_query_t *q, red_format_t *fmt)
{
        red_summary_t *s = calloc(1, sizeof(*s));
        size_t n = q->col_cnt ? q->col_cnt : 1;

        if (!s) {
                return NULL;
        }
        s->q = q;
        s->agg = q->agg;
        s->fmt = fmt;
        red_buf_init(&s->cursor);
        red_buf_init(&s->vals);
        red_time_format(q->covered_from, s->from, sizeof(s->from));
        red_time_format(q->covered_to, s->to, sizeof(s->to));
        if (!(s->offs = calloc(n, sizeof(*s->offs))) ||
            !(s->lens = calloc(n, sizeof(*s->lens))) ||
            !(s->ptrs = calloc(n, sizeof(*s->ptrs)))) {
                red_summary_destroy(s);
                return NULL;
        }
        for (size_t i = 0; fmt && i < q->col_cnt; i++) {
                if (red_format_column(fmt, i, q->cols[i].name,
                                      q->cols[i].type)) {
                        red_summary_destroy(s);
                        return NULL;
                }
        }
        return s;
}

void red_summary_destroy(red_summary_t *s)
{
        if (!s) {
                return;
        }
        red_cell_destroy(s->cur);
        for (size_t i = 0; i < s->kept_cnt; i++) {
                red_cell_destroy(s->kept[i]);
        }
        free(s->kept);
        free(s->kept_val);
        red_buf_destroy(&s->cursor);
        red_buf_destroy(&s->vals);
        free(s->offs);
        free(s->lens);
        free(s->ptrs);
        free(s);
}

size_t red_summary_groups(const red_summary_t *s)
{
        return s->groups;
}

const char *red_summary_next_cursor(const red_summary_t *s)
{
        return s->full && s->cursor.data ? s->cursor.data : NULL;
}

/* --- rows ------------------------------------------------------------- */

/* The value of output @p ref as JSON number text; false for null. */
static bool put_ref(red_buf_t *b, const red_cell_t *cell, int ref)
{
        double v;

        if (!red_cell_value(cell, ref, &v) || !isfinite(v)) {
                return false;
        }
        if (red_outputs_is_count(ref)) {
                red_buf_put_i64(b, llround(v));
        } else {
                red_buf_put_double(b, v);
        }
        return true;
}

/* Writes @p cell as a row of the plan's columns. */
static int write_row(red_summary_t *s, const red_cell_t *cell, red_buf_t *out)
{
        const red_query_t *q = s->q;
        const red_agg_t *agg = s->agg;

        red_buf_reset(&s->vals);
        for (size_t i = 0; i < q->col_cnt; i++) {
                const red_qcol_t *c = &q->cols[i];
                bool null = false;
                const char *k;
                s->offs[i] = s->vals.len;
                switch (c->src) {
                case RED_QCOL_GROUPING:
                        k = agg->groupings[red_cell_grouping(cell)].name;
                        red_buf_puts(&s->vals, k);
                        break;
                case RED_QCOL_KEY:
                        red_buf_append(
                                &s->vals, red_cell_key(cell, (size_t)c->index),
                                red_cell_key_len(cell, (size_t)c->index));
                        break;
                case RED_QCOL_FROM:
                        red_buf_puts(&s->vals, s->from);
                        break;
                case RED_QCOL_TO:
                        red_buf_puts(&s->vals, s->to);
                        break;
                case RED_QCOL_MEASURE:
                        null = !put_ref(&s->vals, cell, c->index);
                        break;
                case RED_QCOL_COLUMN:
                        red_cell_render(cell, &agg->columns[c->index], &s->vals,
                                        &null);
                        break;
                default:
                        null = true;
                        break;
                }
                s->lens[i] = null ? (size_t)-1 : s->vals.len - s->offs[i];
        }
        if (s->vals.failed) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < q->col_cnt; i++) {
                s->ptrs[i] = s->lens[i] == (size_t)-1
                                     ? NULL
                                     : s->vals.data + s->offs[i];
                if (!s->ptrs[i]) {
                        s->lens[i] = 0;
                }
        }
        return red_format_row(s->fmt, s->ptrs, s->lens, out);
}

/* The cursor of a group: its grouping name and key values. */
static void group_cursor(red_summary_t *s, const red_cell_t *cell)
{
        const char *vals[1 + 16];
        size_t lens[1 + 16], n = 0;

        vals[n] = s->agg->groupings[red_cell_grouping(cell)].name;
        lens[n++] = strlen(vals[0]);
        for (size_t i = 0; i < s->agg->key_cnt && n < 17; i++) {
                vals[n] = red_cell_key(cell, i);
                lens[n++] = red_cell_key_len(cell, i);
        }
        red_buf_reset(&s->cursor);
        red_cursor_encode(vals, lens, n, &s->cursor);
}

/* --- top -------------------------------------------------------------- */

/* The top query's value of a cell, or NAN for null (sorted last). */
static double top_value(const red_summary_t *s, const red_cell_t *cell)
{
        const red_query_t *q = s->q;
        double v = NAN;
        red_buf_t b;
        bool null;

        if (q->top_ref >= 0) {
                return red_cell_value(cell, q->top_ref, &v) ? v : NAN;
        }
        red_buf_init(&b);
        red_cell_render(cell, &s->agg->columns[q->top_column], &b, &null);
        if (!null && b.data) {
                v = strtod(b.data, NULL);
        }
        red_buf_destroy(&b);
        return v;
}

/* True when @p a ranks before @p b (nulls last, ties keep group order). */
static bool better(const red_query_t *q, double a, double b)
{
        if (isnan(a)) {
                return false;
        }
        if (isnan(b)) {
                return true;
        }
        return q->desc ? a > b : a < b;
}

/* Keeps @p cell (taking it) at its rank among the N best. */
static int keep_top(red_summary_t *s, red_cell_t *cell)
{
        size_t n = (size_t)s->q->limit, i;
        double v = top_value(s, cell);

        if (!s->kept && (!(s->kept = calloc(n + 1, sizeof(*s->kept))) ||
                         !(s->kept_val = calloc(n + 1, sizeof(double))))) {
                red_cell_destroy(cell);
                return -ENOMEM;
        }
        for (i = s->kept_cnt; i > 0 && better(s->q, v, s->kept_val[i - 1]);
             i--) {
        }
        if (i >= n) {
                red_cell_destroy(cell);
                return 0;
        }
        if (s->kept_cnt == n) {
                red_cell_destroy(s->kept[--s->kept_cnt]);
        }
        memmove(&s->kept[i + 1], &s->kept[i],
                (s->kept_cnt - i) * sizeof(*s->kept));
        memmove(&s->kept_val[i + 1], &s->kept_val[i],
                (s->kept_cnt - i) * sizeof(*s->kept_val));
        s->kept[i] = cell;
        s->kept_val[i] = v;
        s->kept_cnt++;
        return 0;
}

static int keep_all(red_summary_t *s, red_cell_t *cell)
{
        if (s->kept_cnt == s->kept_cap) {
                size_t cap = s->kept_cap ? 2 * s->kept_cap : 64;
                red_cell_t **k = realloc(s->kept, cap * sizeof(*k));
                if (!k) {
                        red_cell_destroy(cell);
                        return -ENOMEM;
                }
                s->kept = k;
                s->kept_cap = cap;
        }
        s->kept[s->kept_cnt++] = cell;
        return 0;
}

/* --- groups ----------------------------------------------------------- */

/* Ends the current group: a row now, or kept for the end. */
static int end_group(red_summary_t *s, red_buf_t *out)
{
        red_cell_t *cell = s->cur;
        int r = 0;

        s->cur = NULL;
        if (!cell) {
                return 0;
        }
        s->groups++;
        if (s->q->format == RED_FORMAT_PROMETHEUS) {
                return keep_all(s, cell);
        }
        if (s->q->kind == RED_QUERY_TOP) {
                return keep_top(s, cell);
        }
        r = write_row(s, cell, out);
        group_cursor(s, cell);
        red_cell_destroy(cell);
        return r;
}

red_summary_step_t red_summary_group(red_summary_t *s, const char *grouping,
                                     const char *const *keys,
                                     const size_t *lens, red_buf_t *out,
                                     char *errstr, size_t errstr_size)
{
        const red_query_t *q = s->q;
        red_cell_key_t key;
        int g = -1;

        if (end_group(s, out)) {
                snprintf(errstr, errstr_size, "out of memory");
                return RED_SUMMARY_ERROR;
        }
        if (q->kind == RED_QUERY_SUMMARY && (int64_t)s->groups >= q->limit) {
                if (q->format == RED_FORMAT_PROMETHEUS) {
                        snprintf(errstr, errstr_size,
                                 "more than %lld groups: narrow the summary "
                                 "with grouping= or key filters",
                                 (long long)q->limit);
                        return RED_SUMMARY_ERROR;
                }
                s->full = true;
                return RED_SUMMARY_FULL;
        }
        for (size_t i = 0; i < s->agg->grouping_cnt; i++) {
                if (!strcmp(s->agg->groupings[i].name, grouping)) {
                        g = (int)i;
                }
        }
        s->skip = g < 0;
        if (s->skip) {
                return RED_SUMMARY_SKIP;
        }
        key = (red_cell_key_t){
                .agg = s->agg,
                .wt = q->tile_cnt ? q->tiles[0].wt : RED_WINDOW_HOURLY,
                .start = q->covered_from,
                .grouping = g,
                .keys = keys,
                .lens = lens,
        };
        key.group_hash = red_cell_group_hash(s->agg, g, keys, lens);
        if (!(s->cur = red_cell_new(&key, q->contract->sketch_alpha))) {
                snprintf(errstr, errstr_size, "out of memory");
                return RED_SUMMARY_ERROR;
        }
        return RED_SUMMARY_MORE;
}

int red_summary_merge(red_summary_t *s, const void *state, size_t len,
                      char *errstr, size_t errstr_size)
{
        if (s->skip || !s->cur) {
                return 0;
        }
        return red_cell_merge_serialized(s->cur, state, len, errstr,
                                         errstr_size)
                       ? -1
                       : 0;
}

/* --- Prometheus -------------------------------------------------------- */

static void prom_label_value(red_buf_t *out, const char *s, size_t len)
{
        red_buf_putc(out, '"');
        for (size_t i = 0; i < len; i++) {
                if (s[i] == '\\' || s[i] == '"') {
                        red_buf_putc(out, '\\');
                        red_buf_putc(out, s[i]);
                } else if (s[i] == '\n') {
                        red_buf_puts(out, "\\n");
                } else {
                        red_buf_putc(out, s[i]);
                }
        }
        red_buf_putc(out, '"');
}

/* {grouping="..",key=".."[,quantile=".."]} */
static void prom_labels(red_summary_t *s, const red_cell_t *cell,
                        const char *quantile, red_buf_t *out)
{
        const char *g = s->agg->groupings[red_cell_grouping(cell)].name;

        red_buf_printf(out, "{%s=", s->agg->grouping_column);
        prom_label_value(out, g, strlen(g));
        for (size_t i = 0; i < s->agg->key_cnt; i++) {
                red_buf_printf(out, ",%s=", s->agg->key_columns[i]);
                prom_label_value(out, red_cell_key(cell, i),
                                 red_cell_key_len(cell, i));
        }
        if (quantile) {
                red_buf_printf(out, ",quantile=\"%s\"", quantile);
        }
        red_buf_putc(out, '}');
}

/* One sample line per kept group whose output @p ref is not null. */
static void prom_samples(red_summary_t *s, const char *name, const char *suffix,
                         int ref, const char *quantile, red_buf_t *out)
{
        for (size_t i = 0; i < s->kept_cnt; i++) {
                double v;
                if (!red_cell_value(s->kept[i], ref, &v) || !isfinite(v)) {
                        continue;
                }
                red_buf_printf(out, "%s%s", name, suffix);
                prom_labels(s, s->kept[i], quantile, out);
                red_buf_putc(out, ' ');
                if (red_outputs_is_count(ref)) {
                        red_buf_put_i64(out, llround(v));
                } else {
                        red_buf_put_double(out, v);
                }
                red_buf_putc(out, '\n');
        }
}

static void prom_family(red_summary_t *s, const red_measure_t *m,
                        const char *name, const char *suffix, const char *type,
                        const char *what, red_buf_t *out)
{
        const red_contract_t *c = s->q->contract;
        const char *field =
                m->kind == RED_MEAS_COUNT ? NULL : c->slot_names[m->slot];

        red_buf_printf(out, "# HELP %s%s %s: %s of %s", name, suffix,
                       s->agg->name, what, m->name);
        if (field) {
                red_buf_printf(out, " (%s)", field);
        }
        red_buf_printf(out, " over [%s, %s)\n", s->from, s->to);
        red_buf_printf(out, "# TYPE %s%s %s\n", name, suffix, type);
}

static void prom_measure(red_summary_t *s, size_t mi, red_buf_t *out)
{
        const red_measure_t *m = &s->agg->measures[mi];
        int base = (int)mi << 16;
        char name[256];

        snprintf(name, sizeof(name), "reducerd_%s_%s", s->agg->name, m->name);
        switch (m->kind) {
        case RED_MEAS_COUNT:
                prom_family(s, m, name, "", "gauge", "count", out);
                prom_samples(s, name, "", base | RED_OUT_COUNT, NULL, out);
                return;
        case RED_MEAS_SUM:
                prom_family(s, m, name, "", "gauge", "sum", out);
                prom_samples(s, name, "", base | RED_OUT_SUM, NULL, out);
                return;
        case RED_MEAS_STATS:
        case RED_MEAS_SKETCH:
                prom_family(s, m, name, "", "summary",
                            m->kind == RED_MEAS_SKETCH ? "quantiles, sum and "
                                                         "count"
                                                       : "sum and count",
                            out);
                for (size_t k = 0;
                     m->kind == RED_MEAS_SKETCH && k < s->q->quantile_cnt;
                     k++) {
                        char qs[32];
                        snprintf(qs, sizeof(qs), "%g", s->q->quantiles[k]);
                        prom_samples(s, name, "",
                                     base | (RED_OUT_Q0 +
                                             (int)lround(s->q->quantiles[k] *
                                                         10000)),
                                     qs, out);
                }
                prom_samples(s, name, "_sum", base | RED_OUT_SUM, NULL, out);
                prom_samples(s, name, "_count", base | RED_OUT_COUNT, NULL,
                             out);
                prom_family(s, m, name, "_min", "gauge", "smallest value", out);
                prom_samples(s, name, "_min", base | RED_OUT_MIN, NULL, out);
                prom_family(s, m, name, "_max", "gauge", "largest value", out);
                prom_samples(s, name, "_max", base | RED_OUT_MAX, NULL, out);
                return;
        default:
                return;
        }
}

/* --- the end ---------------------------------------------------------- */

int red_summary_finish(red_summary_t *s, red_buf_t *out, char *errstr,
                       size_t errstr_size)
{
        if (!s->full && end_group(s, out)) {
                snprintf(errstr, errstr_size, "out of memory");
                return -1;
        }
        if (s->q->format == RED_FORMAT_PROMETHEUS) {
                if ((int64_t)s->groups > s->q->limit) {
                        snprintf(errstr, errstr_size,
                                 "more than %lld groups: narrow the summary "
                                 "with grouping= or key filters",
                                 (long long)s->q->limit);
                        return -1;
                }
                for (size_t m = 0; m < s->agg->measure_cnt; m++) {
                        prom_measure(s, m, out);
                }
        } else if (s->q->kind == RED_QUERY_TOP) {
                for (size_t i = 0; i < s->kept_cnt; i++) {
                        if (write_row(s, s->kept[i], out)) {
                                snprintf(errstr, errstr_size, "out of memory");
                                return -1;
                        }
                }
        }
        if (out->failed) {
                snprintf(errstr, errstr_size, "out of memory");
                return -1;
        }
        return 0;
}

void red_summary_meta(const red_query_t *q, red_buf_t *out)
{
        char a[RED_TIME_FMT_SIZE], b[RED_TIME_FMT_SIZE];

        red_time_format(q->covered_from, a, sizeof(a));
        red_time_format(q->covered_to, b, sizeof(b));
        red_buf_printf(out, "\"range\":{\"from\":\"%s\",\"to\":\"%s\"", a, b);
        red_time_format(q->from, a, sizeof(a));
        red_time_format(q->to, b, sizeof(b));
        red_buf_printf(out,
                       ",\"requested_from\":\"%s\",\"requested_to\":"
                       "\"%s\"},\"tiles\":[",
                       a, b);
        for (size_t i = 0; i < q->tile_cnt; i++) {
                red_time_format(q->tiles[i].from, a, sizeof(a));
                red_time_format(q->tiles[i].to, b, sizeof(b));
                red_buf_printf(out,
                               "%s{\"window\":\"%s\",\"from\":\"%s\",\"to\":"
                               "\"%s\",\"windows\":%zu}",
                               i ? "," : "",
                               red_window_type_name(q->tiles[i].wt), a, b,
                               q->tiles[i].windows);
        }
        red_buf_puts(out, "]");
        if (q->quantile_cnt) {
                red_buf_puts(out, ",\"quantiles\":[");
                for (size_t i = 0; i < q->quantile_cnt; i++) {
                        if (i) {
                                red_buf_putc(out, ',');
                        }
                        red_buf_put_double(out, q->quantiles[i]);
                }
                red_buf_putc(out, ']');
        }
}
