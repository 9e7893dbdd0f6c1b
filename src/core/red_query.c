/* red_query - plans reads from the contracts, checking their parameters. */
#include "red_query.h"

#include "red_cursor.h"
#include "red_qcols.h"
#include "red_qparam.h"
#include "red_uuid.h"

#include <errno.h>
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
            key_filters(pl) || red_qcols_default(q, pl->pc.err) ||
            red_qcols_select(&pl->pc, q) || red_qparam_order(&pl->pc, q)) {
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
            red_qcols_quantiles(&pl->pc, q) || key_filters(pl) ||
            red_qcols_default(q, e)) {
                return -1;
        }
        r = red_tiles_plan(q->agg->windows, q->agg->tz, q->from, q->to,
                           &q->covered_from, &q->covered_to, &q->tiles,
                           &q->tile_cnt);
        if (r) {
                return r == -ENOMEM ? red_qparam_oom(e)
                                    : red_qparam_fail(e, 400, "from",
                                                      "cannot tile the "
                                                      "range");
        }
        if (q->kind == RED_QUERY_TOP) {
                if (red_qcols_top(&pl->pc, q) || red_qcols_select(&pl->pc, q)) {
                        return -1;
                }
        } else {
                int64_t max = pl->lim->max_rows;
                if (red_qcols_select(&pl->pc, q)) {
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
        if (red_qcols_default(q, pl->pc.err) || red_qcols_select(&pl->pc, q) ||
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
        if (red_qcols_default(q, pl->pc.err) || red_qcols_select(&pl->pc, q) ||
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
        return red_qcols_default(q, pl->pc.err);
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
        if (red_qcols_default(q, pl->pc.err) || red_qcols_select(&pl->pc, q) ||
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
