/* red_query - validates query parameters against the contracts and plans the
 * read. */
#include "red_query.h"

#include "red_cursor.h"
#include "red_outputs.h"
#include "red_qparam.h"
#include "red_uuid.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[RED_QUERY__CNT] = {
        [RED_QUERY_CONTRACTS] = "contracts",
        [RED_QUERY_SERIES] = "series",
        [RED_QUERY_SUMMARY] = "summary",
        [RED_QUERY_TOP] = "top",
        [RED_QUERY_RAW] = "raw",
        [RED_QUERY_WORKFLOW] = "workflow",
        [RED_QUERY_WORKFLOWS] = "workflows",
        [RED_QUERY_ALERTS] = "alerts",
};

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
static const char *const severities[] = {"CRITICAL", "WARNING", "INFO", NULL};

const char *red_query_kind_name(red_query_kind_t kind)
{
        return (unsigned)kind < RED_QUERY__CNT ? kind_names[kind] : NULL;
}

int red_query_kind_parse(const char *s, red_query_kind_t *out)
{
        for (int i = 0; s && i < RED_QUERY__CNT; i++) {
                if (!strcmp(s, kind_names[i])) {
                        *out = (red_query_kind_t)i;
                        return 0;
                }
        }
        return -EINVAL;
}

void red_query_error_json(const red_query_error_t *e, red_buf_t *out)
{
        red_buf_printf(out, "{\"error\":{\"status\":%d",
                       e->status ? e->status : 500);
        if (e->param[0]) {
                red_buf_puts(out, ",\"parameter\":");
                red_buf_put_json_str(out, e->param, strlen(e->param));
        }
        red_buf_puts(out, ",\"message\":");
        red_buf_put_json_str(out, e->message, strlen(e->message));
        if (e->allowed_json[0]) {
                red_buf_printf(out, ",\"allowed\":[%s]", e->allowed_json);
        }
        red_buf_puts(out, "}}\n");
}

red_val_type_t red_query_column_type(const red_column_t *col)
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
                                    RED_REF_OUTPUT(refs[k]) == RED_OUT_COUNT
                                            ? RED_VAL_INT
                                            : RED_VAL_NUMBER)) {
                                return -1;
                        }
                }
        }
        return 0;
}

/* Every column a kind can show, in the default order. */
static int default_cols(red_query_t *q, red_query_error_t *e)
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
                                    (int)i,
                                    red_query_column_type(&agg->columns[i]));
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
static int select_cols(red_qparam_ctx_t *pc, red_query_t *q)
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

static int parse_quantiles(red_qparam_ctx_t *pc, red_query_t *q)
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

static int parse_top(red_qparam_ctx_t *pc, red_query_t *q)
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

/* --- cursors ---------------------------------------------------------- */

static int add_order(red_query_t *q, red_query_error_t *e, const char *col)
{
        char **n = realloc(q->order_by, (q->order_cnt + 1) * sizeof(*n));

        if (!n) {
                return red_qparam_oom(e);
        }
        q->order_by = n;
        if (!(n[q->order_cnt] = strdup(col))) {
                return red_qparam_oom(e);
        }
        q->order_cnt++;
        return 0;
}

/* limit and cursor of a paged kind; the order columns are set. */
/* --- what a request addresses ----------------------------------------- */

typedef struct planner_s {
        const red_contract_t *const *cs;
        size_t cnt;
        const red_query_limits_t *lim;
        red_qparam_ctx_t pc;
        red_query_t *q;
        const char *filter_names[64]; /* for "unknown parameter" */
        size_t filter_cnt;
} planner_t;

static void filter_name(planner_t *pl, const char *name)
{
        if (pl->filter_cnt <
            sizeof(pl->filter_names) / sizeof(*pl->filter_names)) {
                pl->filter_names[pl->filter_cnt++] = name;
        }
}

static int find_agg(planner_t *pl, const char *name)
{
        red_query_error_t *e = pl->pc.err;

        for (size_t i = 0; i < pl->cnt; i++) {
                for (size_t a = 0; name && a < pl->cs[i]->agg_cnt; a++) {
                        if (!strcmp(pl->cs[i]->aggs[a].name, name)) {
                                pl->q->contract = pl->cs[i];
                                pl->q->agg = &pl->cs[i]->aggs[a];
                                pl->q->table = pl->q->agg->table;
                                return 0;
                        }
                }
        }
        red_qparam_fail(e, 404, NULL, "no aggregation \"%.64s\"",
                        name ? name : "");
        for (size_t i = 0; i < pl->cnt; i++) {
                for (size_t a = 0; a < pl->cs[i]->agg_cnt; a++) {
                        red_qparam_allow(e, pl->cs[i]->aggs[a].name);
                }
        }
        return -1;
}

static int find_raw(planner_t *pl, const char *name)
{
        red_query_error_t *e = pl->pc.err;

        for (size_t i = 0; i < pl->cnt; i++) {
                for (size_t r = 0; name && r < pl->cs[i]->raw_cnt; r++) {
                        const red_raw_t *raw = &pl->cs[i]->raws[r];
                        for (size_t t = 0; t < raw->table_cnt; t++) {
                                if (!strcmp(raw->tables[t], name)) {
                                        pl->q->contract = pl->cs[i];
                                        pl->q->raw = raw;
                                        pl->q->table = raw->tables[t];
                                        return 0;
                                }
                        }
                }
        }
        red_qparam_fail(e, 404, NULL, "no raw table \"%.64s\"",
                        name ? name : "");
        for (size_t i = 0; i < pl->cnt; i++) {
                for (size_t r = 0; r < pl->cs[i]->raw_cnt; r++) {
                        for (size_t t = 0; t < pl->cs[i]->raws[r].table_cnt;
                             t++) {
                                red_qparam_allow(e,
                                                 pl->cs[i]->raws[r].tables[t]);
                        }
                }
        }
        return -1;
}

/* The contract= of workflows and alerts: among those having what @p has
 * checks; optional when there is exactly one. */
static int pick_contract(planner_t *pl, bool (*has)(const red_contract_t *),
                         const char *what)
{
        red_query_error_t *e = pl->pc.err;
        const red_contract_t *only = NULL;
        size_t n = 0;
        const char *v = NULL;
        int r = red_qparam_get(&pl->pc, "contract", &v);

        if (r < 0) {
                return -1;
        }
        for (size_t i = 0; i < pl->cnt; i++) {
                if (!has(pl->cs[i])) {
                        continue;
                }
                n++;
                if (!v || !strcmp(v, pl->cs[i]->name)) {
                        only = pl->cs[i];
                }
        }
        if (!n) {
                return red_qparam_fail(e, 404, NULL, "no contract declares %s",
                                       what);
        }
        if (only && (v || n == 1)) {
                pl->q->contract = only;
                return 0;
        }
        red_qparam_fail(e, 400, "contract",
                        v ? "contract \"%.64s\" declares no %s"
                          : "%.0scontract is "
                            "required: several "
                            "declare %s",
                        v ? v : "", what);
        for (size_t i = 0; i < pl->cnt; i++) {
                if (has(pl->cs[i])) {
                        red_qparam_allow(e, pl->cs[i]->name);
                }
        }
        return -1;
}

static bool has_fsm(const red_contract_t *c)
{
        return c->fsm != NULL;
}

static bool has_alert_table(const red_contract_t *c)
{
        return c->alerts && c->alerts->table;
}

/* A grouping's values are a bounded set when every dimension is a
 * constant, buckets, or a field with an enum (Prometheus labels). */
static bool bounded(const red_contract_t *c, const red_agg_t *agg, int g)
{
        for (size_t k = 0; k < agg->key_cnt; k++) {
                const red_dim_t *d = &c->dims[agg->groupings[g].dims[k]];
                if (d->kind != RED_DIM_FIELD) {
                        continue;
                }
                for (size_t i = 0; i < c->kind_cnt; i++) {
                        for (size_t f = 0; f < c->kinds[i].field_cnt; f++) {
                                const red_field_t *fd = &c->kinds[i].fields[f];
                                if (fd->slot == d->slot && !fd->enum_cnt) {
                                        return false;
                                }
                        }
                }
        }
        return true;
}

/* --- per kind --------------------------------------------------------- */

static int key_filters(planner_t *pl)
{
        const red_agg_t *agg = pl->q->agg;

        for (size_t i = 0; i < agg->key_cnt; i++) {
                filter_name(pl, agg->key_columns[i]);
                if (red_qparam_filter(&pl->pc, pl->q, agg->key_columns[i],
                                      agg->key_columns[i], NULL, RED_QVAL_TEXT,
                                      NULL)) {
                        return -1;
                }
        }
        return 0;
}

static int parse_grouping(planner_t *pl)
{
        red_query_t *q = pl->q;
        const char *v;
        int r = red_qparam_get(&pl->pc, "grouping", &v);

        q->grouping = -1;
        if (r <= 0) {
                return r;
        }
        for (size_t g = 0; g < q->agg->grouping_cnt; g++) {
                if (!strcmp(q->agg->groupings[g].name, v)) {
                        q->grouping = (int)g;
                        return 0;
                }
        }
        red_qparam_fail(pl->pc.err, 400, "grouping",
                        "unknown grouping \"%.64s\"", v);
        for (size_t g = 0; g < q->agg->grouping_cnt; g++) {
                red_qparam_allow(pl->pc.err, q->agg->groupings[g].name);
        }
        return -1;
}

static int plan_series(planner_t *pl)
{
        red_query_t *q = pl->q;
        const char *names[RED_WINDOW__CNT + 1] = {NULL};
        int types[RED_WINDOW__CNT], n = 0, w;

        for (int wt = 0; wt < RED_WINDOW__CNT; wt++) {
                if (q->agg->windows & (1u << wt)) {
                        types[n] = wt;
                        names[n++] = red_window_type_name(wt);
                }
        }
        if (red_qparam_choice(&pl->pc, "window", names, 0, &w) < 0 ||
            parse_grouping(pl) ||
            red_qparam_range(&pl->pc, q, pl->lim->now, true) ||
            key_filters(pl) || default_cols(q, pl->pc.err) ||
            select_cols(&pl->pc, q) || red_qparam_order(&pl->pc, q)) {
                return -1;
        }
        q->window = (red_window_type_t)types[w];
        q->time_column = "window_start";
        if (add_order(q, pl->pc.err, "window_start") ||
            add_order(q, pl->pc.err, q->agg->grouping_column)) {
                return -1;
        }
        for (size_t i = 0; i < q->agg->key_cnt; i++) {
                if (add_order(q, pl->pc.err, q->agg->key_columns[i])) {
                        return -1;
                }
        }
        return red_qparam_page(&pl->pc, q, pl->lim);
}

static int plan_summary(planner_t *pl)
{
        red_query_t *q = pl->q;
        red_query_error_t *e = pl->pc.err;
        int r;

        if (parse_grouping(pl) ||
            red_qparam_range(&pl->pc, q, pl->lim->now, true) ||
            parse_quantiles(&pl->pc, q) || key_filters(pl) ||
            default_cols(q, e)) {
                return -1;
        }
        r = red_tiles_plan(q->agg->windows, q->from, q->to, &q->covered_from,
                           &q->covered_to, &q->tiles, &q->tile_cnt);
        if (r) {
                return r == -ENOMEM ? red_qparam_oom(e)
                                    : red_qparam_fail(e, 400, "from",
                                                      "cannot tile the "
                                                      "range");
        }
        if (q->kind == RED_QUERY_TOP) {
                if (parse_top(&pl->pc, q) || select_cols(&pl->pc, q)) {
                        return -1;
                }
        } else {
                int64_t max = pl->lim->max_rows;
                if (select_cols(&pl->pc, q)) {
                        return -1;
                }
                if (add_order(q, e, q->agg->grouping_column)) {
                        return -1;
                }
                for (size_t i = 0; i < q->agg->key_cnt; i++) {
                        if (add_order(q, e, q->agg->key_columns[i])) {
                                return -1;
                        }
                }
                if (q->format == RED_FORMAT_PROMETHEUS) {
                        /* one page: the exposition has no cursor */
                        if (red_qparam_int(&pl->pc, "limit", 1, max, max,
                                           &q->limit) < 0) {
                                return -1;
                        }
                } else if (red_qparam_page(&pl->pc, q, pl->lim)) {
                        return -1;
                }
        }
        if (q->format != RED_FORMAT_PROMETHEUS) {
                return 0;
        }
        for (size_t g = 0; g < q->agg->grouping_cnt; g++) {
                if ((q->grouping < 0 || q->grouping == (int)g) &&
                    !bounded(q->contract, q->agg, (int)g)) {
                        red_qparam_fail(
                                e, 400, q->grouping < 0 ? "format" : "grouping",
                                "format=prometheus needs groupings whose "
                                "values "
                                "are a declared, bounded set (enum, buckets or "
                                "constant); %s is not",
                                q->agg->groupings[g].name);
                        for (size_t k = 0; k < q->agg->grouping_cnt; k++) {
                                if (bounded(q->contract, q->agg, (int)k)) {
                                        red_qparam_allow(
                                                e, q->agg->groupings[k].name);
                                }
                        }
                        return -1;
                }
        }
        return 0;
}

/* The raw column filled by slot @p slot, or NULL. */
static const char *raw_column_of(const red_raw_t *raw, int slot)
{
        for (size_t i = 0; i < raw->column_cnt; i++) {
                if (raw->columns[i].slot == slot) {
                        return raw->columns[i].name;
                }
        }
        return NULL;
}

static int plan_raw(planner_t *pl)
{
        red_query_t *q = pl->q;
        const red_raw_t *raw = q->raw;
        const red_contract_t *c = q->contract;
        const char *objcol = NULL;
        size_t objects = 0;
        char prefix[128];

        if (red_qparam_range(&pl->pc, q, pl->lim->now, true)) {
                return -1;
        }
        q->time_column = raw->time_column;
        for (size_t i = 0; i < raw->column_cnt; i++) {
                red_field_type_t t = c->slot_types[raw->columns[i].slot];
                const char *col = raw->columns[i].name;
                if (t == RED_FT_OBJECT) {
                        objects++;
                        objcol = col;
                        snprintf(prefix, sizeof(prefix), "%s.", col);
                        filter_name(pl, col);
                        if (red_qparam_object_filters(&pl->pc, q, prefix,
                                                      col)) {
                                return -1;
                        }
                        continue;
                }
                if (t == RED_FT_TIMESTAMP) {
                        continue;
                }
                filter_name(pl, col);
                if (red_qparam_filter(&pl->pc, q, col, col, NULL,
                                      red_qparam_type_of(t), NULL)) {
                        return -1;
                }
        }
        /* tag.<key>: the one object column, as the agent metrics' tags */
        if (objects == 1) {
                filter_name(pl, "tag.<key>");
                if (red_qparam_object_filters(&pl->pc, q, "tag.", objcol)) {
                        return -1;
                }
        }
        if (default_cols(q, pl->pc.err) || select_cols(&pl->pc, q) ||
            red_qparam_order(&pl->pc, q)) {
                return -1;
        }
        if (raw->unique_cnt) {
                if (add_order(q, pl->pc.err, raw->time_column)) {
                        return -1;
                }
                for (size_t i = 0; i < raw->unique_cnt; i++) {
                        const char *col = raw_column_of(raw, raw->unique[i]);
                        if (col && add_order(q, pl->pc.err, col)) {
                                return -1;
                        }
                }
        }
        return red_qparam_page(&pl->pc, q, pl->lim);
}

static int plan_workflow(planner_t *pl, const char *id)
{
        red_query_t *q = pl->q;
        red_uuid_t u;
        char canon[RED_UUID_STR_SIZE];

        if (pick_contract(pl, has_fsm, "an fsm")) {
                return -1;
        }
        if (!id || red_uuid_parse(id, strlen(id), &u)) {
                return red_qparam_fail(
                        pl->pc.err, 404, NULL,
                        "no workflow \"%.64s\": workflow ids are UUIDs",
                        id ? id : "");
        }
        red_uuid_format(&u, canon);
        if (!(q->workflow_id = strdup(canon))) {
                return red_qparam_oom(pl->pc.err);
        }
        q->table = q->contract->fsm->history_table;
        q->time_column = "transition_timestamp";
        if (default_cols(q, pl->pc.err) || select_cols(&pl->pc, q) ||
            add_order(q, pl->pc.err, "transition_timestamp") ||
            add_order(q, pl->pc.err, "transition_id")) {
                return -1;
        }
        return red_qparam_page(&pl->pc, q, pl->lim);
}

static int plan_workflows(planner_t *pl)
{
        red_query_t *q = pl->q;
        const red_contract_t *c;

        if (pick_contract(pl, has_fsm, "an fsm")) {
                return -1;
        }
        c = q->contract;
        q->table = c->fsm->current_table;
        q->time_column = "state_entry_time";
        if (red_qparam_range(&pl->pc, q, pl->lim->now, false)) {
                return -1;
        }
        {
                const char **states =
                        calloc(c->fsm->state_cnt + 1, sizeof(*states));
                int r;
                if (!states) {
                        return red_qparam_oom(pl->pc.err);
                }
                for (size_t i = 0; i < c->fsm->state_cnt; i++) {
                        states[i] = c->fsm->states[i];
                }
                r = red_qparam_filter(&pl->pc, q, "state", "current_state",
                                      NULL, RED_QVAL_TEXT, states);
                free(states);
                if (r) {
                        return -1;
                }
        }
        filter_name(pl, "state");
        for (size_t i = 0; i < c->remember_cnt; i++) {
                const char *f = c->slot_names[c->remember_slots[i]];
                filter_name(pl, f);
                if (red_qparam_filter(&pl->pc, q, f, "metadata", f,
                                      RED_QVAL_TEXT, NULL)) {
                        return -1;
                }
        }
        /* one row per state: no pages */
        q->limit = (int64_t)c->fsm->state_cnt;
        return default_cols(q, pl->pc.err);
}

static int plan_alerts(planner_t *pl)
{
        red_query_t *q = pl->q;
        const red_alerts_t *a;
        const char **rules;
        int r;

        if (pick_contract(pl, has_alert_table, "an alerts table")) {
                return -1;
        }
        a = q->contract->alerts;
        q->table = a->table;
        q->time_column = "triggered_at";
        if (red_qparam_range(&pl->pc, q, pl->lim->now, true)) {
                return -1;
        }
        if (!(rules = calloc(a->rule_cnt + 1, sizeof(*rules)))) {
                return red_qparam_oom(pl->pc.err);
        }
        for (size_t i = 0; i < a->rule_cnt; i++) {
                rules[i] = a->rules[i].id;
        }
        r = red_qparam_filter(&pl->pc, q, "rule", "rule_id", NULL,
                              RED_QVAL_TEXT, rules);
        free(rules);
        if (r ||
            red_qparam_filter(&pl->pc, q, "severity", "severity", NULL,
                              RED_QVAL_TEXT, severities) ||
            red_qparam_filter(&pl->pc, q, "metric_name", "metric_name", NULL,
                              RED_QVAL_TEXT, NULL) ||
            red_qparam_filter(&pl->pc, q, "correlation_id", "correlation_id",
                              NULL, RED_QVAL_TEXT, NULL)) {
                return -1;
        }
        filter_name(pl, "rule");
        filter_name(pl, "severity");
        filter_name(pl, "metric_name");
        filter_name(pl, "correlation_id");
        if (a->scope_slot >= 0) {
                const char *s = q->contract->slot_names[a->scope_slot];
                filter_name(pl, s);
                if (red_qparam_filter(&pl->pc, q, s, s, NULL, RED_QVAL_TEXT,
                                      NULL)) {
                        return -1;
                }
        }
        if (default_cols(q, pl->pc.err) || select_cols(&pl->pc, q) ||
            red_qparam_order(&pl->pc, q) ||
            add_order(q, pl->pc.err, "triggered_at") ||
            add_order(q, pl->pc.err, "alert_id")) {
                return -1;
        }
        return red_qparam_page(&pl->pc, q, pl->lim);
}

static int plan_contracts(planner_t *pl)
{
        const char *v;
        int r = red_qparam_get(&pl->pc, "contract", &v);

        if (r <= 0) {
                return r;
        }
        for (size_t i = 0; i < pl->cnt; i++) {
                if (!strcmp(pl->cs[i]->name, v)) {
                        pl->q->contract = pl->cs[i];
                        return 0;
                }
        }
        red_qparam_fail(pl->pc.err, 404, "contract", "no contract \"%.64s\"",
                        v);
        for (size_t i = 0; i < pl->cnt; i++) {
                red_qparam_allow(pl->pc.err, pl->cs[i]->name);
        }
        return -1;
}

/* --- the plan --------------------------------------------------------- */

static int parse_format(planner_t *pl)
{
        static const char *const all[] = {"json",  "ndjson",     "csv",
                                          "table", "prometheus", NULL};
        static const char *const rows[] = {"json", "ndjson", "csv", "table",
                                           NULL};
        bool prom = pl->q->kind == RED_QUERY_SUMMARY ||
                    pl->q->kind == RED_QUERY_TOP;
        int f;

        if (red_qparam_choice(&pl->pc, "format", prom ? all : rows, 0, &f) <
            0) {
                return -1;
        }
        pl->q->format = (red_format_kind_t)f;
        return 0;
}

red_query_t *red_query_plan(const red_contract_t *const *contracts,
                            size_t contract_cnt, red_query_kind_t kind,
                            const char *name, const red_query_param_t *params,
                            size_t param_cnt, const red_query_limits_t *lim,
                            red_query_error_t *err)
{
        planner_t pl = {.cs = contracts, .cnt = contract_cnt, .lim = lim};
        red_query_t *q = calloc(1, sizeof(*q));
        int r = -1;

        memset(err, 0, sizeof(*err));
        pl.pc = (red_qparam_ctx_t){.p = params, .cnt = param_cnt, .err = err};
        if (!q || !(pl.pc.used = calloc(param_cnt + 1, sizeof(bool)))) {
                red_qparam_oom(err);
                goto done;
        }
        pl.q = q;
        q->kind = kind;
        q->grouping = -1;
        q->top_ref = -1;
        q->top_column = -1;
        if (parse_format(&pl)) {
                goto done;
        }
        switch (kind) {
        case RED_QUERY_CONTRACTS:
                r = plan_contracts(&pl);
                break;
        case RED_QUERY_SERIES:
                r = find_agg(&pl, name) ? -1 : plan_series(&pl);
                break;
        case RED_QUERY_SUMMARY:
        case RED_QUERY_TOP:
                r = find_agg(&pl, name) ? -1 : plan_summary(&pl);
                break;
        case RED_QUERY_RAW:
                r = find_raw(&pl, name) ? -1 : plan_raw(&pl);
                break;
        case RED_QUERY_WORKFLOW:
                r = plan_workflow(&pl, name);
                break;
        case RED_QUERY_WORKFLOWS:
                r = plan_workflows(&pl);
                break;
        case RED_QUERY_ALERTS:
                r = plan_alerts(&pl);
                break;
        default:
                red_qparam_fail(err, 404, NULL, "unknown query");
                break;
        }
        if (!r) {
                r = red_qparam_check_unused(&pl.pc, pl.filter_names,
                                            pl.filter_cnt);
        }
done:
        free(pl.pc.used);
        if (r) {
                red_query_destroy(q);
                return NULL;
        }
        return q;
}

void red_query_destroy(red_query_t *q)
{
        if (!q) {
                return;
        }
        for (size_t i = 0; i < q->col_cnt; i++) {
                free(q->cols[i].name);
        }
        free(q->cols);
        for (size_t i = 0; i < q->filter_cnt; i++) {
                free(q->filters[i].column);
                free(q->filters[i].json_key);
                red_qparam_free_strs(q->filters[i].values,
                                     q->filter_cnt ? q->filters[i].value_cnt
                                                   : 0);
        }
        free(q->filters);
        free(q->tiles);
        free(q->quantiles);
        red_cursor_free(q->cursor, q->cursor_cnt);
        red_qparam_free_strs(q->order_by, q->order_cnt);
        free(q->workflow_id);
        free(q);
}
