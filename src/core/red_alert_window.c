/* red_alert_window - judging cells, alert instances' states, rendering. */
#include "red_alert_window.h"

#include "red_alert.h"
#include "red_expr.h"
#include "red_time.h"

#include <stdio.h>
#include <string.h>

/* The index of key column @p name, or -1. */
static int key_index(const red_agg_t *a, const char *name)
{
        for (size_t k = 0; k < a->key_cnt && k < 8; k++) {
                if (!strcmp(a->key_columns[k], name)) {
                        return (int)k;
                }
        }
        return -1;
}

static const char *const state_names[] = {"inactive", "pending", "firing"};

const char *red_alert_window_state_name(red_alert_window_state_t s)
{
        return (unsigned)s < 3 ? state_names[s] : "inactive";
}

int red_alert_window_state_parse(const char *s)
{
        for (int i = 0; i < 3; i++) {
                if (!strcmp(s, state_names[i])) {
                        return i;
                }
        }
        return -1;
}

void red_alert_window_init(red_alert_window_t *st)
{
        st->state = RED_WA_INACTIVE;
        st->window_start = INT64_MIN;
        st->since = INT64_MIN;
        st->resolved = INT64_MIN;
}

/* --- judging ------------------------------------------------------------- */

/* The rule looks at this cell: aggregation, grouping, window, keys. */
static bool looks_at(const red_contract_t *c, const red_window_rule_t *r,
                     const red_cell_t *cell)
{
        if (red_cell_agg(cell) != &c->aggs[r->agg] ||
            (r->grouping >= 0 && red_cell_grouping(cell) != r->grouping) ||
            !(r->windows & (1u << red_cell_window_type(cell)))) {
                return false;
        }
        for (size_t i = 0; i < r->where_cnt; i++) {
                size_t k = (size_t)r->where_keys[i];

                if (red_cell_key_len(cell, k) != strlen(r->where_values[i]) ||
                    memcmp(red_cell_key(cell, k), r->where_values[i],
                           red_cell_key_len(cell, k))) {
                        return false;
                }
        }
        return true;
}

const char *red_alert_window_key(const red_alert_window_eval_t *e, size_t k)
{
        return k < 8 && e->key_off[k] < sizeof(e->keys)
                       ? e->keys + e->key_off[k]
                       : "";
}

/* The key values into e->keys (cut to fit; "" past the eighth). */
static void keys_of(const red_agg_t *a, const red_cell_t *cell,
                    red_alert_window_eval_t *out)
{
        size_t pos = 0;

        for (size_t k = 0; k < 8; k++) {
                size_t len = k < a->key_cnt ? red_cell_key_len(cell, k) : 0;

                if (pos + len + 1 > sizeof(out->keys)) {
                        len = 0;
                        if (pos >= sizeof(out->keys)) {
                                out->key_off[k] = sizeof(out->keys);
                                continue;
                        }
                }
                out->key_off[k] = (unsigned short)pos;
                if (len) {
                        memcpy(out->keys + pos, red_cell_key(cell, k), len);
                }
                out->keys[pos + len] = '\0';
                pos += len + 1;
        }
}

/* scope: ["window", "grouping", "key", ...]; group: "key/key". */
static void scope_of(const red_agg_t *a, const red_cell_t *cell,
                     red_alert_window_eval_t *out)
{
        red_buf_t b;
        size_t pos = 0;

        red_buf_init(&b);
        red_buf_printf(&b, "[\"%s\",",
                       red_window_type_name(red_cell_window_type(cell)));
        red_buf_put_json_str(
                &b, a->groupings[red_cell_grouping(cell)].name,
                strlen(a->groupings[red_cell_grouping(cell)].name));
        out->group[0] = '\0';
        for (size_t k = 0; k < a->key_cnt; k++) {
                red_buf_putc(&b, ',');
                red_buf_put_json_str(&b, red_cell_key(cell, k),
                                     red_cell_key_len(cell, k));
                pos += (size_t)snprintf(
                        out->group + pos,
                        pos < sizeof(out->group) ? sizeof(out->group) - pos : 0,
                        "%s%.*s", k ? "/" : "", (int)red_cell_key_len(cell, k),
                        red_cell_key(cell, k));
        }
        red_buf_putc(&b, ']');
        snprintf(out->scope, sizeof(out->scope), "%s", b.data ? b.data : "[]");
        red_buf_destroy(&b);
}

bool red_alert_window_judge(const red_contract_t *c, int rule,
                            const red_cell_t *cell, bool final,
                            red_alert_window_eval_t *out)
{
        const red_window_rule_t *r = &c->alerts->window_rules[rule];
        const red_agg_t *a = &c->aggs[r->agg];
        const red_expr_t *e =
                r->column >= 0 ? a->columns[r->column].expr : r->expr;
        red_time_t latest;
        double v;

        if (!looks_at(c, r, cell) || (r->final_only && !final) ||
            red_cell_events(cell) < r->min_events ||
            !red_cell_eval(cell, e, &v)) {
                return false;
        }
        memset(out, 0, sizeof(*out));
        out->rule = rule;
        out->wt = red_cell_window_type(cell);
        out->window_start = red_cell_window_start(cell);
        out->window_end = red_cell_window_end(cell);
        latest = red_cell_latest(cell);
        out->time = final || latest == INT64_MIN ? out->window_end : latest;
        out->final = final;
        out->value = v;
        out->holds = red_alert_crosses(r->op, v, r->threshold);
        out->grouping = red_cell_grouping(cell);
        scope_of(a, cell, out);
        keys_of(a, cell, out);
        return true;
}

/* --- the state machine ------------------------------------------------------
 */

red_alert_window_event_t red_alert_window_step(const red_window_rule_t *r,
                                               red_alert_window_t *st,
                                               const red_alert_window_eval_t *e)
{
        if (st->window_start != INT64_MIN &&
            e->window_start < st->window_start) {
                return RED_WA_NONE; /* an older window changed: not news */
        }
        st->window_start = e->window_start;
        if (!e->holds) {
                red_alert_window_state_t was = st->state;

                st->state = RED_WA_INACTIVE;
                if (was == RED_WA_FIRING) {
                        st->resolved = e->time;
                        return RED_WA_RESOLVED;
                }
                return RED_WA_NONE;
        }
        if (st->state == RED_WA_FIRING) {
                return RED_WA_NONE;
        }
        if (st->state == RED_WA_INACTIVE) {
                st->state = RED_WA_PENDING;
                st->since = e->time;
        }
        /* pending: fires once it held `for` (at once without one) and the
         * cooldown since the last resolution passed */
        if (e->time - st->since < r->for_us ||
            (st->resolved != INT64_MIN &&
             e->time < st->resolved + r->cooldown_us)) {
                return RED_WA_NONE;
        }
        st->state = RED_WA_FIRING;
        st->since = e->time;
        return RED_WA_FIRED;
}

/* --- rendering ---------------------------------------------------------------
 */

void red_alert_window_id(const red_contract_t *c,
                         const red_alert_window_eval_t *e, red_time_t fired,
                         red_uuid_t *out)
{
        char name[1024];
        int n = snprintf(name, sizeof(name), "%s/%s/%s/%lld", c->name,
                         c->alerts->window_rules[e->rule].id, e->scope,
                         (long long)fired);

        red_uuid_v5(out, &red_uuid_ns_reducerd, name,
                    n < 0                      ? 0
                    : (size_t)n < sizeof(name) ? (size_t)n
                                               : sizeof(name) - 1);
}

/* What a window rule's placeholders stand for. */
typedef struct eval_ctx_s {
        const red_contract_t *c;
        const red_alert_window_eval_t *e;
} eval_ctx_t;

static bool fill_eval(const void *ctx, const char *name, red_buf_t *out)
{
        const eval_ctx_t *ec = ctx;
        const red_alert_window_eval_t *e = ec->e;
        const red_window_rule_t *r = &ec->c->alerts->window_rules[e->rule];
        const red_agg_t *a = &ec->c->aggs[r->agg];
        char ts[RED_TIME_FMT_SIZE];
        int k;

        if (red_alert_fill_rule(name, e->value, r->threshold, r->op,
                                r->severity, out)) {
                return true;
        }
        if (!strcmp(name, "rule")) {
                red_buf_puts(out, r->id);
        } else if (!strcmp(name, "window")) {
                red_buf_puts(out, red_window_type_name(e->wt));
        } else if (!strcmp(name, "window_start") ||
                   !strcmp(name, "window_end")) {
                red_time_format(name[7] == 's' ? e->window_start
                                               : e->window_end,
                                ts, sizeof(ts));
                red_buf_puts(out, ts);
        } else if (!strcmp(name, "grouping")) {
                red_buf_puts(out, a->groupings[e->grouping].name);
        } else if (!strcmp(name, "group")) {
                red_buf_puts(out, e->group);
        } else if ((k = key_index(a, name)) >= 0) {
                red_buf_puts(out, red_alert_window_key(e, (size_t)k));
        } else {
                return false;
        }
        return true;
}

void red_alert_window_message(const red_contract_t *c,
                              const red_alert_window_eval_t *e, red_buf_t *out)
{
        eval_ctx_t ec = {c, e};

        red_alert_template(c->alerts->window_rules[e->rule].message, fill_eval,
                           &ec, out);
}

void red_alert_window_labels(const red_contract_t *c,
                             const red_alert_window_eval_t *e, red_buf_t *out)
{
        const red_window_rule_t *r = &c->alerts->window_rules[e->rule];
        const red_agg_t *a = &c->aggs[r->agg];
        const char *g = a->groupings[e->grouping].name;

        red_buf_puts(out, "{\"alertname\":");
        red_buf_put_json_str(out, r->id, strlen(r->id));
        red_buf_printf(out, ",\"severity\":\"%s\",\"contract\":", r->severity);
        red_buf_put_json_str(out, c->name, strlen(c->name));
        red_buf_puts(out, ",\"aggregation\":");
        red_buf_put_json_str(out, a->name, strlen(a->name));
        red_buf_puts(out, ",\"grouping\":");
        red_buf_put_json_str(out, g, strlen(g));
        red_buf_printf(out, ",\"window\":\"%s\",\"group\":",
                       red_window_type_name(e->wt));
        red_buf_put_json_str(out, e->group, strlen(e->group));
        for (size_t k = 0; k < a->key_cnt && k < 8; k++) {
                const char *v = red_alert_window_key(e, k);

                /* a key column named like a fixed label would replace it */
                if (!strcmp(a->key_columns[k], "alertname") ||
                    !strcmp(a->key_columns[k], "severity") ||
                    !strcmp(a->key_columns[k], "contract")) {
                        continue;
                }
                red_buf_putc(out, ',');
                red_buf_put_json_str(out, a->key_columns[k],
                                     strlen(a->key_columns[k]));
                red_buf_putc(out, ':');
                red_buf_put_json_str(out, v, strlen(v));
        }
        red_buf_puts(out, ",\"source\":\"reducerd\"}");
}

void red_alert_window_json(const red_contract_t *c,
                           const red_alert_window_eval_t *e,
                           const red_uuid_t *id, bool resolved, red_buf_t *out)
{
        const red_window_rule_t *r = &c->alerts->window_rules[e->rule];
        char uid[RED_UUID_STR_SIZE], ts[RED_TIME_FMT_SIZE];
        red_buf_t msg;

        red_uuid_format(id, uid);
        red_buf_init(&msg);
        red_alert_window_message(c, e, &msg);
        red_buf_printf(out, "{\"alert_id\":\"%s\",\"rule_id\":", uid);
        red_buf_put_json_str(out, r->id, strlen(r->id));
        red_buf_printf(out,
                       ",\"status\":\"%s\",\"severity\":\"%s\","
                       "\"metric_name\":",
                       resolved ? "resolved" : "firing", r->severity);
        red_buf_put_json_str(out, r->metric, strlen(r->metric));
        red_buf_puts(out, ",\"threshold\":");
        red_buf_put_double(out, r->threshold);
        red_buf_puts(out, ",\"actual_value\":");
        red_buf_put_double(out, e->value);
        red_buf_puts(out, ",\"message\":");
        red_buf_put_json_str(out, msg.data ? msg.data : "", msg.len);
        red_buf_puts(out, ",\"tags\":");
        red_alert_window_labels(c, e, out);
        red_buf_printf(out, ",\"window\":\"%s\"", red_window_type_name(e->wt));
        red_time_format(e->window_start, ts, sizeof(ts));
        red_buf_printf(out, ",\"window_start\":\"%s\"", ts);
        red_time_format(e->window_end, ts, sizeof(ts));
        red_buf_printf(out, ",\"window_end\":\"%s\",\"group\":", ts);
        red_buf_put_json_str(out, e->group, strlen(e->group));
        red_time_format(e->time, ts, sizeof(ts));
        red_buf_printf(out, ",\"%s\":\"%s\"}",
                       resolved ? "resolved_at" : "triggered_at", ts);
        red_buf_destroy(&msg);
}
