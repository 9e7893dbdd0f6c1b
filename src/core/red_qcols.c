/* red_qcols - a plan's output columns: defaults, columns=, quantiles, top. */
#include "red_qcols.h"

#include "red_outputs.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The fixed columns of the engine's alert and workflow tables (see
 * migrations/ and src/pg/red_sink_alert.c). */
static const char *const alert_cols[] = {
        "alert_id",     "rule_id", "severity", "metric_name",    "threshold",
        "actual_value", "message", "tags",     "correlation_id", NULL};
static const char *const history_cols[] = {"transition_id",
                                           "workflow_id",
                                           "from_state",
                                           "to_state",
                                           "event",
                                           "transition_timestamp",
                                           "guard_conditions_met",
                                           "reason",
                                           "metadata",
                                           NULL};
/* The red_val_type_t of a contract column: expressions are numbers,
 * objects JSON. */
static red_val_type_t red_qcols_type(const red_column_t *col)
{
        return col->kind == RED_COL_EXPR ? RED_VAL_NUMBER : RED_VAL_JSON;
}

/* --- output columns --------------------------------------------------- */

static int add_col(red_query_t *q, red_query_error_t *e, const char *name,
                   red_qcol_src_t src, int index, red_val_type_t type)
{
        red_qcol_t *n = realloc(q->cols, (q->col_cnt + 1) * sizeof(*n));

        if (!n) {
                return red_qparam_oom(e);
        }
        q->cols = n;
        n[q->col_cnt] = (red_qcol_t){NULL, src, index, type};
        if (!(n[q->col_cnt].name = strdup(name))) {
                return red_qparam_oom(e);
        }
        q->col_cnt++;
        return 0;
}

static int add_sql_col(red_query_t *q, red_query_error_t *e, const char *name)
{
        return add_col(q, e, name, RED_QCOL_SQL, 0, RED_VAL_TEXT);
}

/* The measure outputs a summary shows by default. */
static int add_measure_cols(red_query_t *q, red_query_error_t *e)
{
        static const int stats[] = {RED_OUT_COUNT, RED_OUT_SUM, RED_OUT_AVG,
                                    RED_OUT_MIN, RED_OUT_MAX};
        const red_agg_t *agg = q->agg;
        char name[256];

        for (size_t i = 0; i < agg->measure_cnt; i++) {
                const red_measure_t *m = &agg->measures[i];
                int base = (int)i << 16;
                size_t n = 0;
                int refs[5 + RED_QUERY_MAX_QUANTILES];
                switch (m->kind) {
                case RED_MEAS_COUNT:
                        refs[n++] = base | RED_OUT_COUNT;
                        break;
                case RED_MEAS_SUM:
                        refs[n++] = base | RED_OUT_SUM;
                        refs[n++] = base | RED_OUT_COUNT;
                        break;
                case RED_MEAS_STATS:
                case RED_MEAS_SKETCH:
                        for (size_t k = 0; k < 5; k++) {
                                refs[n++] = base | stats[k];
                        }
                        for (size_t k = 0;
                             m->kind == RED_MEAS_SKETCH && k < q->quantile_cnt;
                             k++) {
                                refs[n++] =
                                        base |
                                        (RED_OUT_Q0 +
                                         (int)lround(q->quantiles[k] * 10000));
                        }
                        break;
                default:
                        break;
                }
                for (size_t k = 0; k < n; k++) {
                        red_outputs_name(agg, refs[k], name, sizeof(name));
                        if (add_col(q, e, name, RED_QCOL_MEASURE, refs[k],
                                    red_outputs_is_count(refs[k])
                                            ? RED_VAL_INT
                                            : RED_VAL_NUMBER)) {
                                return -1;
                        }
                }
        }
        return 0;
}

/* Every column a kind can show, in the default order. */
int red_qcols_default(red_query_t *q, red_query_error_t *e)
{
        const red_agg_t *agg = q->agg;
        int r = 0;

        switch (q->kind) {
        case RED_QUERY_SERIES: {
                static const char *const head[] = {
                        "aggregation_id", "window_type", "window_start",
                        "window_end", NULL};
                static const char *const tail[] = {"revision", "finalized_at",
                                                   "updated_at", NULL};
                for (const char *const *c = head; *c && !r; c++) {
                        r = add_sql_col(q, e, *c);
                }
                r = r ? r : add_sql_col(q, e, agg->grouping_column);
                for (size_t i = 0; i < agg->key_cnt && !r; i++) {
                        r = add_sql_col(q, e, agg->key_columns[i]);
                }
                for (size_t i = 0; i < agg->column_cnt && !r; i++) {
                        r = add_sql_col(q, e, agg->columns[i].name);
                }
                for (const char *const *c = tail; *c && !r; c++) {
                        r = add_sql_col(q, e, *c);
                }
                return r;
        }
        case RED_QUERY_SUMMARY:
        case RED_QUERY_TOP:
                r = add_col(q, e, agg->grouping_column, RED_QCOL_GROUPING, 0,
                            RED_VAL_TEXT);
                for (size_t i = 0; i < agg->key_cnt && !r; i++) {
                        r = add_col(q, e, agg->key_columns[i], RED_QCOL_KEY,
                                    (int)i, RED_VAL_TEXT);
                }
                r = r ? r
                      : add_col(q, e, "from", RED_QCOL_FROM, 0, RED_VAL_TIME);
                r = r ? r : add_col(q, e, "to", RED_QCOL_TO, 0, RED_VAL_TIME);
                r = r ? r : add_measure_cols(q, e);
                for (size_t i = 0; i < agg->column_cnt && !r; i++) {
                        r = add_col(q, e, agg->columns[i].name, RED_QCOL_COLUMN,
                                    (int)i, red_qcols_type(&agg->columns[i]));
                }
                return r;
        case RED_QUERY_RAW:
                for (size_t i = 0; i < q->raw->column_cnt && !r; i++) {
                        r = add_sql_col(q, e, q->raw->columns[i].name);
                }
                return r ? r : add_sql_col(q, e, q->raw->time_column);
        case RED_QUERY_ALERTS:
                for (const char *const *c = alert_cols; *c && !r; c++) {
                        r = add_sql_col(q, e, *c);
                }
                if (!r && q->contract->alerts->scope_slot >= 0) {
                        r = add_sql_col(
                                q, e,
                                q->contract->slot_names[q->contract->alerts
                                                                ->scope_slot]);
                }
                return r ? r : add_sql_col(q, e, "triggered_at");
        case RED_QUERY_WORKFLOW:
                for (const char *const *c = history_cols; *c && !r; c++) {
                        r = add_sql_col(q, e, *c);
                }
                return r;
        case RED_QUERY_WORKFLOWS:
                r = add_sql_col(q, e, "current_state");
                return r ? r
                         : add_col(q, e, "count", RED_QCOL_SQL, 0, RED_VAL_INT);
        default:
                return 0;
        }
}

/* columns=a,b,c: a subset of the default columns (any quantile of a
 * sketch measure too), in the order given. */
int red_qcols_select(red_qparam_ctx_t *pc, red_query_t *q)
{
        red_qcol_t *sel = NULL;
        size_t n = 0, cap = 1;
        const char *v;
        char *copy, *tok, *save = NULL;
        int r = red_qparam_get(pc, "columns", &v);

        if (r <= 0) {
                return r;
        }
        for (const char *p = v; *p; p++) {
                cap += *p == ',';
        }
        if (!(copy = strdup(v)) || !(sel = calloc(cap, sizeof(*sel)))) {
                free(copy);
                return red_qparam_oom(pc->err);
        }
        for (tok = strtok_r(copy, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save)) {
                size_t i;
                int ref = -1;
                for (i = 0; i < q->col_cnt && strcmp(q->cols[i].name, tok);
                     i++) {
                }
                if (i == q->col_cnt && (q->kind == RED_QUERY_SUMMARY ||
                                        q->kind == RED_QUERY_TOP)) {
                        ref = red_outputs_parse(q->agg, tok);
                }
                if (i == q->col_cnt && ref < 0) {
                        red_qparam_fail(pc->err, 400, "columns",
                                        "unknown column \"%.64s\"", tok);
                        for (i = 0; i < q->col_cnt; i++) {
                                red_qparam_allow(pc->err, q->cols[i].name);
                        }
                        goto fail;
                }
                for (size_t k = 0; k < n; k++) {
                        if (!strcmp(sel[k].name, tok)) {
                                red_qparam_fail(
                                        pc->err, 400, "columns",
                                        "column \"%.64s\" is named twice", tok);
                                goto fail;
                        }
                }
                sel[n] = i < q->col_cnt ? q->cols[i]
                                        : (red_qcol_t){NULL, RED_QCOL_MEASURE,
                                                       ref, RED_VAL_NUMBER};
                if (!(sel[n].name = strdup(tok))) {
                        red_qparam_oom(pc->err);
                        goto fail;
                }
                n++;
        }
        if (!n) {
                red_qparam_fail(pc->err, 400, "columns",
                                "columns names no column");
                goto fail;
        }
        for (size_t i = 0; i < q->col_cnt; i++) {
                free(q->cols[i].name);
        }
        free(q->cols);
        free(copy);
        q->cols = sel;
        q->col_cnt = n;
        return 0;
fail:
        for (size_t k = 0; k < n; k++) {
                free(sel[k].name);
        }
        free(sel);
        free(copy);
        return -1;
}

/* --- quantiles, top --------------------------------------------------- */

int red_qcols_quantiles(red_qparam_ctx_t *pc, red_query_t *q)
{
        const char *v = "0.5,0.95,0.99";
        char *copy, *tok, *save = NULL;
        int r = red_qparam_get(pc, "quantiles", &v);

        if (r < 0) {
                return -1;
        }
        if (!(copy = strdup(v)) ||
            !(q->quantiles =
                      calloc(RED_QUERY_MAX_QUANTILES, sizeof(*q->quantiles)))) {
                free(copy);
                return red_qparam_oom(pc->err);
        }
        for (tok = strtok_r(copy, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save)) {
                int code = red_outputs_quantile(tok);
                double qv = (double)(code - RED_OUT_Q0) / 10000.0;
                bool dup = false;
                if (code < 0) {
                        red_qparam_fail(
                                pc->err, 400, "quantiles",
                                "quantiles: \"%.64s\" is not a quantile", tok);
                        red_qparam_allow(pc->err,
                                         "0 to 1 with at most 4 decimals "
                                         "(0.5, 0.99, 0.999)");
                        red_qparam_allow(pc->err, "pNN (p50, p99, p99_9)");
                        free(copy);
                        return -1;
                }
                for (size_t i = 0; i < q->quantile_cnt; i++) {
                        dup |= q->quantiles[i] == qv;
                }
                if (dup) {
                        continue;
                }
                if (q->quantile_cnt == RED_QUERY_MAX_QUANTILES) {
                        free(copy);
                        return red_qparam_fail(pc->err, 400, "quantiles",
                                               "quantiles: at most %d",
                                               RED_QUERY_MAX_QUANTILES);
                }
                q->quantiles[q->quantile_cnt++] = qv;
        }
        free(copy);
        return 0;
}

int red_qcols_top(red_qparam_ctx_t *pc, red_query_t *q)
{
        static const char *const orders[] = {"desc", "asc", NULL};
        const char *v = NULL;
        int order, r = red_qparam_get(pc, "by", &v);

        q->top_ref = -1;
        q->top_column = -1;
        if (r < 0 || red_qparam_choice(pc, "order", orders, 0, &order) < 0 ||
            red_qparam_int(pc, "n", 1, RED_QUERY_MAX_TOP, 10, &q->limit) < 0) {
                return -1;
        }
        q->desc = order == 0;
        for (size_t i = 0; v && i < q->agg->column_cnt; i++) {
                if (q->agg->columns[i].kind == RED_COL_EXPR &&
                    !strcmp(q->agg->columns[i].name, v)) {
                        q->top_column = (int)i;
                        return 0;
                }
        }
        if (v && (q->top_ref = red_outputs_parse(q->agg, v)) >= 0) {
                return 0;
        }
        red_qparam_fail(pc->err, 400, "by",
                        v ? "by \"%.64s\" is no measure output or "
                            "number column"
                          : "by is required%.0s",
                        v ? v : "");
        for (size_t i = 0; i < q->col_cnt; i++) {
                if (q->cols[i].src == RED_QCOL_MEASURE ||
                    (q->cols[i].src == RED_QCOL_COLUMN &&
                     q->cols[i].type == RED_VAL_NUMBER)) {
                        red_qparam_allow(pc->err, q->cols[i].name);
                }
        }
        return -1;
}
