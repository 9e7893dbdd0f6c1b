/* red_describe - contracts as rows of JSON for GET /v1/contracts. */
#include "red_describe.h"

#include "red_outputs.h"

#include <errno.h>
#include <string.h>

static const char *const columns[RED_DESCRIBE_COLUMNS] = {
        "contract", "version", "consumer_group", "aggregations",
        "raw",      "fsm",     "alerts"};

static const char *const measure_kinds[] = {
        [RED_MEAS_COUNT] = "count",       [RED_MEAS_SUM] = "sum",
        [RED_MEAS_STATS] = "stats",       [RED_MEAS_SKETCH] = "sketch",
        [RED_MEAS_COUNT_BY] = "count_by", [RED_MEAS_BY] = "by",
        [RED_MEAS_RECENT] = "recent",
};

static const char *const column_kinds[] = {
        [RED_COL_EXPR] = "number",           [RED_COL_OBJECT] = "object",
        [RED_COL_EACH] = "object per value", [RED_COL_COUNTS] = "counts",
        [RED_COL_RECENT] = "recent values",
};

int red_describe_columns(red_format_t *fmt)
{
        for (size_t i = 0; i < RED_DESCRIBE_COLUMNS; i++) {
                if (red_format_column(fmt, i, columns[i],
                                      i < 3 ? RED_VAL_TEXT : RED_VAL_JSON)) {
                        return -ENOMEM;
                }
        }
        return 0;
}

static void str(red_buf_t *b, const char *s)
{
        if (s) {
                red_buf_put_json_str(b, s, strlen(s));
        } else {
                red_buf_puts(b, "null");
        }
}

static void key(red_buf_t *b, const char *k, bool first)
{
        if (!first) {
                red_buf_putc(b, ',');
        }
        str(b, k);
        red_buf_putc(b, ':');
}

static void strs(red_buf_t *b, char *const *v, size_t cnt)
{
        red_buf_putc(b, '[');
        for (size_t i = 0; i < cnt; i++) {
                if (i) {
                        red_buf_putc(b, ',');
                }
                str(b, v[i]);
        }
        red_buf_putc(b, ']');
}

static void windows(red_buf_t *b, uint32_t mask)
{
        bool first = true;

        red_buf_putc(b, '[');
        for (int wt = 0; wt < RED_WINDOW__CNT; wt++) {
                if (mask & (1u << wt)) {
                        red_buf_puts(b, first ? "" : ",");
                        str(b, red_window_type_name((red_window_type_t)wt));
                        first = false;
                }
        }
        red_buf_putc(b, ']');
}

/* The names a summary accepts for a measure's outputs. */
static void outputs(red_buf_t *b, const red_agg_t *agg, size_t mi)
{
        static const int codes[] = {
                RED_OUT_COUNT,     RED_OUT_SUM,       RED_OUT_AVG,
                RED_OUT_MIN,       RED_OUT_MAX,       RED_OUT_EVENTS,
                RED_OUT_Q0 + 5000, RED_OUT_Q0 + 9500, RED_OUT_Q0 + 9900};
        bool first = true;
        char name[256];

        red_buf_putc(b, '[');
        for (size_t i = 0; i < sizeof(codes) / sizeof(*codes); i++) {
                int ref = (int)(mi << 16) | codes[i];
                red_outputs_name(agg, ref, name, sizeof(name));
                /* .events only where it differs from the count */
                if (red_outputs_parse(agg, name) != ref ||
                    (codes[i] == RED_OUT_EVENTS && !agg->weighted)) {
                        continue;
                }
                red_buf_puts(b, first ? "" : ",");
                str(b, name);
                first = false;
        }
        red_buf_putc(b, ']');
}

static void measures(red_buf_t *b, const red_contract_t *c,
                     const red_agg_t *agg)
{
        red_buf_putc(b, '[');
        for (size_t i = 0; i < agg->measure_cnt; i++) {
                const red_measure_t *m = &agg->measures[i];
                red_buf_puts(b, i ? ",{" : "{");
                key(b, "name", true);
                str(b, m->name);
                key(b, "kind", false);
                str(b, measure_kinds[m->kind]);
                if (m->kind != RED_MEAS_COUNT) {
                        key(b, "field", false);
                        str(b, c->slot_names[m->slot]);
                }
                key(b, "outputs", false);
                outputs(b, agg, i);
                if (m->kind == RED_MEAS_SKETCH) {
                        key(b, "relative_accuracy", false);
                        red_buf_put_double(b, c->sketch_alpha);
                }
                red_buf_putc(b, '}');
        }
        red_buf_putc(b, ']');
}

static void aggregations(red_buf_t *b, const red_contract_t *c)
{
        red_buf_putc(b, '[');
        for (size_t a = 0; a < c->agg_cnt; a++) {
                const red_agg_t *agg = &c->aggs[a];
                red_buf_puts(b, a ? ",{" : "{");
                key(b, "name", true);
                str(b, agg->name);
                key(b, "table", false);
                str(b, agg->table);
                key(b, "windows", false);
                windows(b, agg->windows);
                key(b, "time_zone", false);
                str(b, red_tz_name(agg->tz));
                key(b, "weighted", false);
                red_buf_puts(b, agg->weighted ? "true" : "false");
                key(b, "grouping_column", false);
                str(b, agg->grouping_column);
                key(b, "key_columns", false);
                strs(b, agg->key_columns, agg->key_cnt);
                key(b, "groupings", false);
                red_buf_putc(b, '{');
                for (size_t g = 0; g < agg->grouping_cnt; g++) {
                        key(b, agg->groupings[g].name, g == 0);
                        red_buf_putc(b, '[');
                        for (size_t k = 0; k < agg->key_cnt; k++) {
                                red_buf_puts(b, k ? "," : "");
                                str(b, c->dims[agg->groupings[g].dims[k]].name);
                        }
                        red_buf_putc(b, ']');
                }
                red_buf_putc(b, '}');
                key(b, "measures", false);
                measures(b, c, agg);
                key(b, "columns", false);
                red_buf_putc(b, '[');
                for (size_t i = 0; i < agg->column_cnt; i++) {
                        red_buf_puts(b, i ? ",{" : "{");
                        key(b, "name", true);
                        str(b, agg->columns[i].name);
                        key(b, "kind", false);
                        str(b, column_kinds[agg->columns[i].kind]);
                        red_buf_putc(b, '}');
                }
                red_buf_puts(b, "]}");
        }
        red_buf_putc(b, ']');
}

static void raws(red_buf_t *b, const red_contract_t *c)
{
        red_buf_putc(b, '[');
        for (size_t r = 0; r < c->raw_cnt; r++) {
                const red_raw_t *raw = &c->raws[r];
                red_buf_puts(b, r ? ",{" : "{");
                key(b, "name", true);
                str(b, raw->name);
                key(b, "tables", false);
                red_buf_putc(b, '{');
                for (size_t t = 0; t < raw->table_cnt; t++) {
                        key(b, raw->topics[t], t == 0);
                        str(b, raw->tables[t]);
                }
                red_buf_putc(b, '}');
                key(b, "time_column", false);
                str(b, raw->time_column);
                key(b, "partition", false);
                str(b, raw->partition == RED_PART_DAILY ? "daily" : "monthly");
                key(b, "columns", false);
                red_buf_putc(b, '[');
                for (size_t i = 0; i < raw->column_cnt; i++) {
                        red_buf_puts(b, i ? "," : "");
                        str(b, raw->columns[i].name);
                }
                red_buf_putc(b, ']');
                key(b, "unique", false);
                red_buf_putc(b, '[');
                for (size_t i = 0; i < raw->unique_cnt; i++) {
                        red_buf_puts(b, i ? "," : "");
                        str(b, c->slot_names[raw->unique[i]]);
                }
                red_buf_puts(b, "]}");
        }
        red_buf_putc(b, ']');
}

static void states(red_buf_t *b, const red_fsm_t *f, uint32_t mask)
{
        bool first = true;

        red_buf_putc(b, '[');
        for (size_t s = 0; s < f->state_cnt; s++) {
                if (mask & (1u << s)) {
                        red_buf_puts(b, first ? "" : ",");
                        str(b, f->states[s]);
                        first = false;
                }
        }
        red_buf_putc(b, ']');
}

static void fsm(red_buf_t *b, const red_fsm_t *f)
{
        if (!f) {
                red_buf_puts(b, "null");
                return;
        }
        red_buf_putc(b, '{');
        key(b, "states", true);
        strs(b, f->states, f->state_cnt);
        key(b, "initial", false);
        str(b, f->states[f->initial]);
        key(b, "terminal", false);
        states(b, f, f->terminal);
        key(b, "transitions", false);
        red_buf_putc(b, '[');
        for (size_t t = 0; t < f->transition_cnt; t++) {
                const red_transition_t *tr = &f->transitions[t];
                red_buf_puts(b, t ? ",{" : "{");
                key(b, "from", true);
                states(b, f, tr->from);
                key(b, "to", false);
                str(b, f->states[tr->to]);
                key(b, "event", false);
                str(b, f->events[tr->event]);
                key(b, "guards", false);
                strs(b, tr->guards, tr->guard_cnt);
                red_buf_putc(b, '}');
        }
        red_buf_putc(b, ']');
        key(b, "history_table", false);
        str(b, f->history_table);
        key(b, "current_table", false);
        str(b, f->current_table);
        red_buf_putc(b, '}');
}

static void alerts(red_buf_t *b, const red_contract_t *c)
{
        const red_alerts_t *a = c->alerts;

        if (!a) {
                red_buf_puts(b, "null");
                return;
        }
        red_buf_putc(b, '{');
        key(b, "table", true);
        str(b, a->table);
        key(b, "match", false);
        str(b, a->match_slot >= 0 ? c->slot_names[a->match_slot] : NULL);
        key(b, "value", false);
        str(b, a->value_slot >= 0 ? c->slot_names[a->value_slot] : NULL);
        key(b, "scope", false);
        str(b, a->scope_slot >= 0 ? c->slot_names[a->scope_slot] : NULL);
        key(b, "rules", false);
        red_buf_putc(b, '[');
        for (size_t r = 0; r < a->rule_cnt; r++) {
                const red_alert_rule_t *rl = &a->rules[r];
                red_buf_puts(b, r ? ",{" : "{");
                key(b, "id", true);
                str(b, rl->id);
                key(b, "metric", false);
                str(b, rl->metric);
                key(b, "op", false);
                str(b, red_contract_alert_op_name(rl->op));
                key(b, "threshold", false);
                red_buf_put_double(b, rl->threshold);
                key(b, "severity", false);
                str(b, rl->severity);
                key(b, "cooldown_s", false);
                red_buf_put_i64(b, rl->cooldown_us / RED_TIME_US_PER_SEC);
                red_buf_putc(b, '}');
        }
        red_buf_puts(b, "]");
        key(b, "window_rules", false);
        red_buf_putc(b, '[');
        for (size_t r = 0; r < a->window_rule_cnt; r++) {
                const red_window_rule_t *w = &a->window_rules[r];
                const red_agg_t *agg = &c->aggs[w->agg];

                red_buf_puts(b, r ? ",{" : "{");
                key(b, "id", true);
                str(b, w->id);
                key(b, "aggregation", false);
                str(b, agg->name);
                key(b, "grouping", false);
                str(b,
                    w->grouping >= 0 ? agg->groupings[w->grouping].name : NULL);
                key(b, "value", false);
                str(b, w->value_text);
                key(b, "op", false);
                str(b, red_contract_alert_op_name(w->op));
                key(b, "threshold", false);
                red_buf_put_double(b, w->threshold);
                key(b, "severity", false);
                str(b, w->severity);
                key(b, "for_s", false);
                red_buf_put_i64(b, w->for_us / RED_TIME_US_PER_SEC);
                red_buf_putc(b, '}');
        }
        red_buf_puts(b, "]}");
}

int red_describe_contracts(const red_contract_t *const *cs, size_t cnt,
                           const red_contract_t *only, red_format_t *fmt,
                           red_buf_t *out)
{
        red_buf_t b;
        int r = 0;

        red_buf_init(&b);
        for (size_t i = 0; i < cnt && !r; i++) {
                const red_contract_t *c = cs[i];
                size_t offs[RED_DESCRIBE_COLUMNS], lens[RED_DESCRIBE_COLUMNS];
                const char *vals[RED_DESCRIBE_COLUMNS];
                if (only && c != only) {
                        continue;
                }
                red_buf_reset(&b);
                for (size_t k = 0; k < RED_DESCRIBE_COLUMNS; k++) {
                        offs[k] = b.len;
                        switch (k) {
                        case 0:
                                red_buf_puts(&b, c->name);
                                break;
                        case 1:
                                red_buf_puts(&b, c->version);
                                break;
                        case 2:
                                red_buf_puts(&b, c->consumer_group);
                                break;
                        case 3:
                                aggregations(&b, c);
                                break;
                        case 4:
                                raws(&b, c);
                                break;
                        case 5:
                                fsm(&b, c->fsm);
                                break;
                        default:
                                alerts(&b, c);
                                break;
                        }
                        lens[k] = b.len - offs[k];
                }
                if (b.failed) {
                        r = -ENOMEM;
                        break;
                }
                for (size_t k = 0; k < RED_DESCRIBE_COLUMNS; k++) {
                        vals[k] = b.data + offs[k];
                }
                r = red_format_row(fmt, vals, lens, out);
        }
        red_buf_destroy(&b);
        return r;
}
