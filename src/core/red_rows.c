/* red_rows - JSON renderings of cells, FSM rows and dead letters. */
#include "red_rows.h"

#include "red_time.h"

#include <stdlib.h>

#include <string.h>

static void put_key(red_buf_t *out, const char *key)
{
        red_buf_put_json_str(out, key, strlen(key));
        red_buf_putc(out, ':');
}

static void put_str(red_buf_t *out, const char *key, const char *val)
{
        if (key) {
                put_key(out, key);
        }
        red_buf_put_json_str(out, val, strlen(val));
}

static void put_time(red_buf_t *out, const char *key, red_time_t t)
{
        char ts[RED_TIME_FMT_SIZE];

        red_time_format(t, ts, sizeof(ts));
        put_str(out, key, ts);
}

static void put_uuid(red_buf_t *out, const char *key, const red_uuid_t *u)
{
        char s[RED_UUID_STR_SIZE];

        red_uuid_format(u, s);
        put_str(out, key, s);
}

void red_rows_cell_json(const red_cell_t *cell, const char *extra,
                        red_buf_t *out)
{
        const red_agg_t *a = red_cell_agg(cell);
        red_uuid_t id;

        red_cell_id(cell, &id);
        red_buf_putc(out, '{');
        put_uuid(out, "aggregation_id", &id);
        red_buf_putc(out, ',');
        put_str(out, "window_type",
                red_window_type_name(red_cell_window_type(cell)));
        red_buf_putc(out, ',');
        put_time(out, "window_start", red_cell_window_start(cell));
        red_buf_putc(out, ',');
        put_time(out, "window_end", red_cell_window_end(cell));
        red_buf_putc(out, ',');
        put_str(out, a->grouping_column,
                a->groupings[red_cell_grouping(cell)].name);
        for (size_t i = 0; i < a->key_cnt; i++) {
                red_buf_putc(out, ',');
                put_str(out, a->key_columns[i], red_cell_key(cell, i));
        }
        for (size_t i = 0; i < a->column_cnt; i++) {
                bool is_null;

                red_buf_putc(out, ',');
                put_key(out, a->columns[i].name);
                red_cell_render(cell, &a->columns[i], out, &is_null);
                if (is_null) {
                        red_buf_puts(out, "null");
                }
        }
        if (extra && *extra) {
                red_buf_putc(out, ',');
                red_buf_puts(out, extra);
        }
        red_buf_putc(out, '}');
}

static void put_state(red_buf_t *out, const char *key, const red_fsm_t *fsm,
                      int state)
{
        put_key(out, key);
        if (state < 0 || state >= (int)fsm->state_cnt) {
                red_buf_puts(out, "null");
        } else {
                red_buf_put_json_str(out, fsm->states[state],
                                     strlen(fsm->states[state]));
        }
}

static void put_json(red_buf_t *out, const json_t *j)
{
        char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS |
                                            JSON_ENCODE_ANY)
                    : NULL;

        red_buf_puts(out, s ? s : "{}");
        free(s);
}

void red_rows_history_json(const red_fsm_t *fsm, const red_fsm_row_t *row,
                           red_buf_t *out)
{
        red_buf_putc(out, '{');
        put_uuid(out, "transition_id", &row->transition_id);
        red_buf_putc(out, ',');
        put_uuid(out, "workflow_id", &row->workflow_id);
        red_buf_putc(out, ',');
        put_state(out, "from_state", fsm, row->from_state);
        red_buf_putc(out, ',');
        put_state(out, "to_state", fsm, row->to_state);
        red_buf_putc(out, ',');
        put_str(out, "event", row->event ? row->event : "");
        red_buf_putc(out, ',');
        put_time(out, "transition_timestamp", row->time);
        red_buf_putc(out, ',');
        put_key(out, "guard_conditions_met");
        red_buf_puts(out, row->accepted ? "true" : "false");
        red_buf_putc(out, ',');
        put_key(out, "reason");
        if (row->reason) {
                red_buf_put_json_str(out, row->reason, strlen(row->reason));
        } else {
                red_buf_puts(out, "null");
        }
        red_buf_putc(out, ',');
        put_key(out, "metadata");
        put_json(out, row->metadata);
        red_buf_putc(out, '}');
}

void red_rows_workflow_metadata(const red_contract_t *c, const red_wf_t *wf,
                                red_buf_t *out)
{
        bool first = true;

        red_buf_putc(out, '{');
        for (size_t i = 0; i < c->remember_cnt; i++) {
                if (!wf->remembered[i]) {
                        continue;
                }
                if (!first) {
                        red_buf_putc(out, ',');
                }
                first = false;
                put_str(out, c->slot_names[c->remember_slots[i]],
                        wf->remembered[i]);
        }
        /* workflows.totals so far, under the target's name (the sink
         * restores them from here) */
        for (size_t i = 0; i < c->total_cnt && i < RED_WF_MAX_TOTALS; i++) {
                if (wf->totals[i] == 0) {
                        continue;
                }
                if (!first) {
                        red_buf_putc(out, ',');
                }
                first = false;
                put_key(out, c->slot_names[c->total_targets[i]]);
                red_buf_printf(out, "%.15g", wf->totals[i]);
        }
        if (wf->partition >= 0) {
                if (!first) {
                        red_buf_putc(out, ',');
                }
                put_key(out, "kafka_partition");
                red_buf_put_i64(out, wf->partition);
        }
        red_buf_putc(out, '}');
}

void red_rows_current_json(const red_contract_t *c, const red_wf_t *wf,
                           red_buf_t *out)
{
        const red_fsm_t *fsm = c->fsm;

        red_buf_putc(out, '{');
        put_uuid(out, "workflow_id", &wf->id);
        red_buf_putc(out, ',');
        put_state(out, "current_state", fsm,
                  wf->state == RED_WF_NONE ? -1 : wf->state);
        red_buf_putc(out, ',');
        put_state(out, "previous_state", fsm,
                  wf->previous_state == RED_WF_NONE ? -1 : wf->previous_state);
        red_buf_putc(out, ',');
        put_time(out, "state_entry_time", wf->state_entry_time);
        red_buf_putc(out, ',');
        put_key(out, "transition_count");
        red_buf_put_i64(out, wf->transition_count);
        red_buf_putc(out, ',');
        put_key(out, "metadata");
        red_rows_workflow_metadata(c, wf, out);
        red_buf_putc(out, '}');
}

void red_rows_dead_letter_json(const red_contract_t *c,
                               const red_dead_letter_t *d, red_buf_t *out)
{
        const red_msg_t *m = d->msg;

        red_buf_putc(out, '{');
        put_str(out, "contract", c->name);
        red_buf_putc(out, ',');
        put_str(out, "error_code", red_dlq_code_name(d->code));
        red_buf_putc(out, ',');
        put_str(out, "error_detail", d->detail);
        red_buf_putc(out, ',');
        put_str(out, "topic", m->topic ? m->topic : "");
        red_buf_putc(out, ',');
        put_key(out, "partition");
        red_buf_put_i64(out, m->partition);
        red_buf_putc(out, ',');
        put_key(out, "offset");
        red_buf_put_i64(out, m->offset);
        red_buf_putc(out, ',');
        put_key(out, "key");
        if (m->key) {
                red_buf_put_json_str(out, m->key, m->key_len);
        } else {
                red_buf_puts(out, "null");
        }
        red_buf_putc(out, '}');
}

void red_rows_object_json(const red_value_t *v, red_buf_t *out)
{
        json_t *o = v->j ? json_incref(v->j)
                         : json_loadb(v->raw, v->raw_len, JSON_ALLOW_NUL, NULL);
        char *j = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

        red_buf_puts(out, j ? j : "{}");
        free(j);
        json_decref(o);
}

/* A value as JSON (null when absent). */
static void red_rows_value_json(const red_value_t *v, red_buf_t *out)
{
        char tmp[RED_TIME_FMT_SIZE > RED_UUID_STR_SIZE ? RED_TIME_FMT_SIZE
                                                       : RED_UUID_STR_SIZE];

        if (!v) {
                red_buf_puts(out, "null");
                return;
        }
        switch (v->type) {
        case RED_FT_STRING:
                red_buf_put_json_str(out, v->s.p, v->s.len);
                break;
        case RED_FT_INTEGER:
                red_buf_put_i64(out, v->i);
                break;
        case RED_FT_NUMBER:
                red_buf_put_double(out, v->d);
                break;
        case RED_FT_BOOLEAN:
                red_buf_puts(out, v->b ? "true" : "false");
                break;
        case RED_FT_UUID:
                red_uuid_format(&v->u, tmp);
                put_str(out, NULL, tmp);
                break;
        case RED_FT_TIMESTAMP:
                red_time_format(v->t, tmp, sizeof(tmp));
                put_str(out, NULL, tmp);
                break;
        case RED_FT_OBJECT:
        case RED_FT_ARRAY:
                red_rows_object_json(v, out);
                break;
        default:
                red_buf_puts(out, "null");
                break;
        }
}

void red_rows_raw_json(const red_contract_t *c, const red_raw_t *r,
                       const red_event_t *ev, red_buf_t *out)
{
        (void)c;
        red_buf_putc(out, '{');
        for (size_t i = 0; i < r->column_cnt; i++) {
                put_key(out, r->columns[i].name);
                red_rows_value_json(red_event_value(ev, r->columns[i].slot),
                                    out);
                red_buf_putc(out, ',');
        }
        put_time(out, r->time_column, ev->time);
        red_buf_putc(out, '}');
}

void red_rows_raw_ident(const red_raw_t *r, const red_event_t *ev,
                        red_buf_t *out)
{
        char u[RED_UUID_STR_SIZE];

        for (size_t k = 0; k < r->unique_cnt; k++) {
                const red_value_t *v = red_event_value(ev, r->unique[k]);

                if (v && v->type == RED_FT_STRING) {
                        red_rows_ident_part(out, v->s.p, v->s.len);
                } else if (v && v->type == RED_FT_INTEGER) {
                        snprintf(u, sizeof(u), "%lld", (long long)v->i);
                        red_rows_ident_part(out, u, strlen(u));
                } else if (v && v->type == RED_FT_UUID) {
                        red_uuid_format(&v->u, u);
                        red_rows_ident_part(out, u, 36);
                } else {
                        red_rows_ident_part(out, "", 0);
                }
        }
        red_buf_put_i64(out, ev->time);
}

void red_rows_ident_part(red_buf_t *out, const char *text, size_t len)
{
        red_buf_put_i64(out, (int64_t)len);
        red_buf_putc(out, ':');
        red_buf_append(out, text, len);
}
