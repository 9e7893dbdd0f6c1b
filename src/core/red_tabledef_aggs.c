/* red_tabledef_aggs - the table of an aggregation's cells, and what its
 * columns, groupings and windows mean. */
#include "red_tabledef_build.h"

#include "red_expr.h"
#include "red_outputs.h"
#include "red_tz.h"

#include <stdio.h>
#include <string.h>

static void kinds_text(red_buf_t *d, const red_contract_t *c, uint64_t mask)
{
        bool first = true;

        red_buf_putc(d, '[');
        for (size_t k = 0; k < c->kind_cnt; k++) {
                if (mask & (UINT64_C(1) << c->kinds[k].index)) {
                        red_buf_printf(d, "%s%s", first ? "" : ", ",
                                       c->kinds[k].name);
                        first = false;
                }
        }
        red_buf_putc(d, ']');
}

static void const_text(red_buf_t *d, const red_const_t *v)
{
        switch (v->type) {
        case RED_FT_INTEGER:
                red_buf_printf(d, "%lld", (long long)v->i);
                break;
        case RED_FT_NUMBER:
                red_tabledef_build_put_num(d, v->d);
                break;
        case RED_FT_BOOLEAN:
                red_buf_puts(d, v->b ? "true" : "false");
                break;
        default:
                red_buf_printf(d, "\"%s\"", v->s ? v->s : "");
                break;
        }
}

/* A measure's definition: what it counts or sums, over which events. */
static void measure_text(red_buf_t *d, const red_contract_t *c,
                         const red_measure_t *m)
{
        static const char *const kinds[] = {
                "count", "sum", "stats", "sketch", "count_by", "by", "recent"};

        red_buf_printf(d, "%s: %s", m->name, kinds[m->kind]);
        if (m->slot >= 0) {
                red_buf_putc(d, ' ');
                red_tabledef_build_field_text(d, c, m->slot);
        }
        red_buf_puts(d, " on ");
        kinds_text(d, c, m->on);
        for (size_t i = 0; i < m->where_cnt; i++) {
                red_buf_printf(d, "%s%s = ", i ? ", " : " where ",
                               c->slot_names[m->where[i].slot]);
                const_text(d, &m->where[i].value);
        }
        if (m->kind == RED_MEAS_SUM || m->kind == RED_MEAS_STATS ||
            m->kind == RED_MEAS_SKETCH) {
                red_buf_printf(d, " precision %d", m->precision);
        }
        if (m->kind == RED_MEAS_SKETCH) {
                red_buf_puts(d, " accuracy ");
                red_tabledef_build_put_num(d, c->sketch_alpha);
        }
        if (m->sub_cnt) {
                red_buf_puts(d, " {");
                for (size_t i = 0; i < m->sub_cnt; i++) {
                        if (i) {
                                red_buf_puts(d, "; ");
                        }
                        measure_text(d, c, &m->sub[i]);
                }
                red_buf_putc(d, '}');
        }
}

typedef struct refs_s {
        const red_agg_t *a;
        uint64_t measures; /* bit per measure referenced */
} refs_t;

static void note_ref(void *opaque, int ref)
{
        refs_t *r = opaque;
        int m = RED_REF_MEASURE(ref);

        if (m >= 0 && m < 64) {
                r->measures |= UINT64_C(1) << m;
        }
}

/* A reference is a count (an integer, never null) when it names a count
 * measure, any measure's .count or its .events. A weighted count is an
 * estimate: a whole number only where a column is that count alone (the
 * engine rounds it), not inside an expression. */
static bool ref_is_count(void *opaque, int ref)
{
        const red_agg_t *a = opaque;
        int m = RED_REF_MEASURE(ref);

        return m >= 0 && (size_t)m < a->measure_cnt &&
               ((RED_REF_OUTPUT(ref) == RED_OUT_COUNT && !a->weighted) ||
                RED_REF_OUTPUT(ref) == RED_OUT_EVENTS);
}

red_sqlt_class_t red_tabledef_agg_class(const red_agg_t *a,
                                        const red_column_t *col, bool *integral)
{
        int ref;

        *integral = false;
        if (col->kind != RED_COL_EXPR) {
                return RED_SQLT_JSON;
        }
        if ((red_expr_is_ref(col->expr, &ref) && red_outputs_is_count(ref) &&
             RED_REF_MEASURE(ref) >= 0 &&
             (size_t)RED_REF_MEASURE(ref) < a->measure_cnt) ||
            red_expr_integral(col->expr, ref_is_count, (void *)a)) {
                *integral = true;
                return RED_SQLT_INTEGER;
        }
        if (red_expr_is_ref(col->expr, &ref) &&
            RED_REF_OUTPUT(ref) == RED_OUT_SUM) {
                return RED_SQLT_DECIMAL;
        }
        return RED_SQLT_FLOAT;
}

/* A contract column of an aggregation: its type from what the engine
 * writes, and what it means: its definition and the measures it reads. */
static void agg_column(build_t *b, red_tabledef_t *t, const red_agg_t *a,
                       const red_column_t *col)
{
        const red_contract_t *c = b->c;
        bool integral;
        red_sqlt_class_t cls = red_tabledef_agg_class(a, col, &integral);
        refs_t refs = {a, 0};
        red_coldef_t *cd;
        red_buf_t d;

        if (cls == RED_SQLT_INTEGER) {
                cd = red_tabledef_build_col(b, t, col->name, "bigint", true,
                                            "0", NULL);
        } else {
                cd = red_tabledef_build_col(b, t, col->name,
                                            cls == RED_SQLT_JSON ? "jsonb"
                                            : cls == RED_SQLT_DECIMAL
                                                    ? "numeric"
                                                    : "double precision",
                                            false, NULL, NULL);
        }
        red_tabledef_build_col_override(
                b, cd,
                red_contract_coltype_find(a->coltypes, a->coltype_cnt,
                                          col->name));
        if (cd) {
                cd->comment = red_tabledef_build_fmt(b, "%s", col->source);
        }
        /* each: reads the by measure's own measures (in its text) */
        for (size_t k = 0; col->kind != RED_COL_EACH && k < col->key_cnt; k++) {
                red_expr_refs(col->exprs[k], note_ref, &refs);
        }
        if (col->expr && col->kind != RED_COL_EACH) {
                red_expr_refs(col->expr, note_ref, &refs);
        }
        if (col->measure >= 0 && col->measure < 64) {
                refs.measures |= UINT64_C(1) << col->measure;
        }
        red_buf_init(&d);
        red_buf_printf(&d, "%s%s%s%s = %s", cd ? cd->type : "",
                       cd && cd->not_null ? " not null" : "",
                       cd && cd->def ? " default " : "",
                       cd && cd->def ? cd->def : "", col->source);
        for (size_t m = 0; m < a->measure_cnt && m < 64; m++) {
                if (refs.measures & (UINT64_C(1) << m)) {
                        red_buf_puts(&d, "; ");
                        measure_text(&d, c, &a->measures[m]);
                }
        }
        if (d.failed) {
                b->oom = true;
        }
        red_tabledef_build_meaning(
                b, t, RED_MEANING_COLUMN,
                red_tabledef_build_fmt(b, "column %s", col->name),
                red_buf_steal(&d, NULL));
}

/* The dimension filling a key column: text of at most how many
 * characters (-1: unbounded). */
static int64_t dim_max_len(const red_contract_t *c, const red_dim_t *dim)
{
        int64_t max = 0;

        switch (dim->kind) {
        case RED_DIM_CONSTANT:
                return (int64_t)strlen(dim->constant);
        case RED_DIM_BUCKETS:
                for (size_t i = 0; i < dim->bucket_cnt; i++) {
                        int64_t l = (int64_t)strlen(dim->buckets[i].key);
                        max = l > max ? l : max;
                }
                return max;
        default:
                max = red_tabledef_build_field_max_len(c, dim->slot);
                if (max >= 0 && dim->def && (int64_t)strlen(dim->def) > max) {
                        max = (int64_t)strlen(dim->def);
                }
                return max;
        }
}

static void dim_text(red_buf_t *d, const red_contract_t *c,
                     const red_dim_t *dim)
{
        red_buf_printf(d, "%s = ", dim->name);
        switch (dim->kind) {
        case RED_DIM_CONSTANT:
                red_buf_printf(d, "constant \"%s\"", dim->constant);
                break;
        case RED_DIM_BUCKETS:
                red_buf_printf(d, "buckets of %s:", c->slot_names[dim->slot]);
                for (size_t i = 0; i < dim->bucket_cnt; i++) {
                        const red_bucket_t *bk = &dim->buckets[i];
                        red_buf_printf(d, " %s", bk->key);
                        if (bk->has_below) {
                                red_buf_puts(d, " < ");
                                red_tabledef_build_put_num(d, bk->below);
                                red_buf_putc(d, ',');
                        }
                }
                break;
        default:
                red_buf_printf(d, "field %s", c->slot_names[dim->slot]);
                if (dim->def) {
                        red_buf_printf(d, " default \"%s\"", dim->def);
                }
                break;
        }
}

/* Cells of one aggregation: the seed's layout, e.g.
 * codegen_metrics_aggregated. */
static void agg_table(build_t *b, const red_agg_t *a)
{
        const red_contract_t *c = b->c;
        static const char *const id_cols[] = {"aggregation_id", NULL};
        static const char *const open_cols[] = {"window_end", NULL};
        char owner[160], type[64];
        red_tabledef_t *t;

        snprintf(owner, sizeof(owner), "aggregation %s", a->name);
        if (!(t = red_tabledef_build_table(b, a->table, "aggregation",
                                           owner))) {
                return;
        }
        t->agg = a->index;
        t->comment =
                a->description
                        ? red_tabledef_build_fmt(b, "%s", a->description)
                        : red_tabledef_build_fmt(b,
                                                 "Cells of aggregation %s of "
                                                 "contract %s (reducerd).",
                                                 a->name, c->name);
        red_tabledef_build_col(b, t, "aggregation_id", "uuid", true, NULL,
                               "uuid v5 of the cell key (stable)");
        red_tabledef_build_col(b, t, "window_type", "character varying(50)",
                               true, NULL, "hourly, daily, weekly or monthly");
        red_tabledef_build_col(b, t, "window_start", "timestamp with time zone",
                               true, NULL, "start of the calendar window");
        red_tabledef_build_col(b, t, "window_end", "timestamp with time zone",
                               true, NULL, "end of the window (exclusive)");
        red_tabledef_build_col_override(
                b,
                red_tabledef_build_col(b, t, a->grouping_column,
                                       "character varying(50)", true, NULL,
                                       "the grouping of the cell"),
                red_contract_coltype_find(a->coltypes, a->coltype_cnt,
                                          a->grouping_column));
        for (size_t k = 0; k < a->key_cnt; k++) {
                int64_t max = 0;
                red_buf_t d;

                red_buf_init(&d);
                red_buf_puts(&d, "dimension of each grouping:");
                for (size_t g = 0; g < a->grouping_cnt; g++) {
                        const red_dim_t *dim =
                                &c->dims[a->groupings[g].dims[k]];
                        int64_t l = dim_max_len(c, dim);
                        max = max < 0 || l < 0 ? -1 : (l > max ? l : max);
                        red_buf_printf(&d, " %s: %s;", a->groupings[g].name,
                                       dim->name);
                }
                red_tabledef_build_text_type(max, type, sizeof(type));
                if (d.failed) {
                        b->oom = true;
                }
                red_tabledef_build_col_override(
                        b,
                        red_tabledef_build_col(b, t, a->key_columns[k], type,
                                               true, NULL, d.data),
                        red_contract_coltype_find(a->coltypes, a->coltype_cnt,
                                                  a->key_columns[k]));
                red_buf_destroy(&d);
        }
        for (size_t k = 0; k < a->column_cnt; k++) {
                agg_column(b, t, a, &a->columns[k]);
        }
        red_tabledef_build_col(
                b, t, "state", "bytea", true, NULL,
                "the mergeable state: counts, exact sums, sketches");
        red_tabledef_build_col(b, t, "revision", "bigint", true, "0",
                               "bumped on every change of the cell");
        red_tabledef_build_col(b, t, "finalized_at", "timestamp with time zone",
                               false, NULL,
                               "when the watermark passed window_end + grace");
        red_tabledef_build_col(b, t, "updated_at", "timestamp with time zone",
                               true, "now()", NULL);
        red_tabledef_build_pkey(b, t, "window_type");
        red_tabledef_build_pkey(b, t, "window_start");
        red_tabledef_build_pkey(b, t, a->grouping_column);
        for (size_t k = 0; k < a->key_cnt; k++) {
                red_tabledef_build_pkey(b, t, a->key_columns[k]);
        }
        if (a->partition_by_window) {
                t->part = RED_TPART_WINDOWS;
                t->windows = a->windows;
                memcpy(t->window_gran, a->window_partition,
                       sizeof(t->window_gran));
        } else {
                t->part = RED_TPART_RANGE;
                t->gran = a->partition;
        }
        t->part_column = red_tabledef_build_fmt(b, "window_start");
        t->fillfactor = RED_TABLEDEF_FILLFACTOR_UPDATED;
        red_tabledef_build_idx(b, t, "id", NULL, NULL, id_cols);
        /* the finaliser looks for open cells whose window has passed */
        red_tabledef_build_idx(b, t, "open", NULL, "finalized_at IS NULL",
                               open_cols);
        red_tabledef_build_idx_contract(b, t, a->indexes, a->index_cnt);
        for (int w = 0; w < RED_WINDOW__CNT; w++) {
                if (a->windows & (1u << w)) {
                        const char *wn =
                                red_window_type_name((red_window_type_t)w);
                        red_tabledef_build_meaning(
                                b, t, RED_MEANING_WINDOW,
                                red_tabledef_build_fmt(b, "window %s", wn),
                                red_tabledef_build_fmt(
                                        b, "%s windows in %s", wn,
                                        a->tz ? red_tz_name(a->tz) : "UTC"));
                }
        }
        for (size_t g = 0; g < a->grouping_cnt; g++) {
                red_buf_t d;

                red_buf_init(&d);
                for (size_t k = 0; k < a->key_cnt; k++) {
                        red_buf_printf(&d, "%s%s: ", k ? "; " : "",
                                       a->key_columns[k]);
                        dim_text(&d, c, &c->dims[a->groupings[g].dims[k]]);
                }
                if (d.failed) {
                        b->oom = true;
                }
                red_tabledef_build_meaning(
                        b, t, RED_MEANING_GROUPING,
                        red_tabledef_build_fmt(b, "grouping %s",
                                               a->groupings[g].name),
                        red_buf_steal(&d, NULL));
        }
        red_tabledef_build_meanings_common(b, t);
}

int red_tabledef_build_aggregations(build_t *b)
{
        for (size_t i = 0; i < b->c->agg_cnt; i++) {
                agg_table(b, &b->c->aggs[i]);
        }
        return 0;
}
