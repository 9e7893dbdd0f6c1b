/* red_sink_fsm - workflow history rows, current states, state changes. */
#include "red_sink_fsm.h"

#include "red_buf.h"
#include "red_pg.h"
#include "red_rows.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct red_sink_fsm_s {
        const red_contract_t *c;
        const red_fsm_t *fsm; /* NULL: nothing to write */
        char history[80];     /* quoted table names */
        char current[80];
        red_buf_t buf;  /* COPY data */
        red_buf_t json; /* rendering */
        bool no_totals; /* red_sink_fsm_replaying() */
};

red_sink_fsm_t *red_sink_fsm_new(const red_contract_t *c)
{
        red_sink_fsm_t *w = calloc(1, sizeof(*w));

        if (!w) {
                return NULL;
        }
        w->c = c;
        w->fsm = c->fsm;
        red_buf_init(&w->buf);
        red_buf_init(&w->json);
        return w;
}

void red_sink_fsm_replaying(red_sink_fsm_t *w)
{
        w->no_totals = true;
}

void red_sink_fsm_destroy(red_sink_fsm_t *w)
{
        if (!w) {
                return;
        }
        red_buf_destroy(&w->buf);
        red_buf_destroy(&w->json);
        free(w);
}

int red_sink_fsm_prepare(red_sink_fsm_t *w, red_sink_io_t *io, char *errstr,
                         size_t size)
{
        static const char *const hist[] = {"transition_id",
                                           "workflow_id",
                                           "from_state",
                                           "to_state",
                                           "event",
                                           "transition_timestamp",
                                           "guard_conditions_met",
                                           "reason",
                                           "metadata"};
        static const char *const cur[] = {
                "workflow_id",      "current_state",    "previous_state",
                "state_entry_time", "transition_count", "metadata",
                "updated_at"};
        const red_fsm_t *fsm = w->fsm;
        char sql[512];

        if (!fsm) {
                return 0;
        }
        if (red_pg_ident(fsm->history_table, w->history, sizeof(w->history)) ||
            red_pg_ident(fsm->current_table, w->current, sizeof(w->current))) {
                snprintf(errstr, size, "fsm: invalid table name");
                return -1;
        }
        if (red_sink_io_check_columns(io, w->c->name, fsm->history_table, hist,
                                      9, errstr, size) ||
            red_sink_io_check_columns(io, w->c->name, fsm->current_table, cur,
                                      7, errstr, size)) {
                return -1;
        }
        snprintf(sql, sizeof(sql),
                 "CREATE TEMP TABLE IF NOT EXISTS red_tmp_wf AS SELECT "
                 "workflow_id, current_state, previous_state, "
                 "state_entry_time, transition_count, metadata FROM %s WITH "
                 "NO DATA",
                 w->current);
        return red_sink_io_run(io, sql, errstr, size) ? -1 : 0;
}

/* --- reading current states ----------------------------------------- */

/* Restores one stored row of the current-state table. 0 or -ENOMEM. */
static int restore(red_sink_fsm_t *w, const PGresult *res, int row,
                   red_workflows_t *t)
{
        const red_contract_t *c = w->c;
        const red_fsm_t *fsm = w->fsm;
        const char *rem[RED_WF_MAX_REMEMBER] = {NULL};
        int st = red_contract_fsm_state(fsm, PQgetvalue(res, row, 1),
                                        (size_t)PQgetlength(res, row, 1));
        int prev = PQgetisnull(res, row, 2)
                           ? -1
                           : red_contract_fsm_state(
                                     fsm, PQgetvalue(res, row, 2),
                                     (size_t)PQgetlength(res, row, 2));
        json_t *meta;
        int32_t part = -1;
        red_uuid_t id;
        red_wf_t *wf;
        int r = 0;

        if (st < 0 || red_uuid_parse(PQgetvalue(res, row, 0), 36, &id)) {
                /* a state this contract no longer has: leave it */
                return 0;
        }
        meta = json_loads(PQgetvalue(res, row, 5), 0, NULL);
        for (size_t i = 0; i < c->remember_cnt && i < RED_WF_MAX_REMEMBER;
             i++) {
                json_t *v = json_object_get(
                        meta, c->slot_names[c->remember_slots[i]]);
                rem[i] = json_is_string(v) ? json_string_value(v) : NULL;
        }
        if (json_is_integer(json_object_get(meta, "kafka_partition"))) {
                part = (int32_t)json_integer_value(
                        json_object_get(meta, "kafka_partition"));
        }
        if (!(wf = red_workflows_restore(
                      t, &id, (uint8_t)st,
                      prev < 0 ? RED_WF_NONE : (uint8_t)prev,
                      PQgetisnull(res, row, 3)
                              ? 0
                              : strtoll(PQgetvalue(res, row, 3), NULL, 10),
                      (uint32_t)atol(PQgetvalue(res, row, 4)), part, rem))) {
                r = -1;
        }
        /* workflows.totals so far (red_rows_workflow_metadata), unless
         * the events are read again (they would count twice) */
        for (size_t i = 0;
             wf && !w->no_totals && i < c->total_cnt && i < RED_WF_MAX_TOTALS;
             i++) {
                json_t *v = json_object_get(meta,
                                            c->slot_names[c->total_targets[i]]);
                wf->totals[i] = json_is_number(v) ? json_number_value(v) : 0;
        }
        json_decref(meta);
        return r;
}

int red_sink_fsm_load(red_sink_fsm_t *w, red_sink_io_t *io,
                      const red_uuid_t *ids, size_t cnt, red_workflows_t *t,
                      char *errstr, size_t size)
{
        char sql[512];
        const char *vals[1];
        red_buf_t arr;
        PGresult *res;
        red_sink_result_t r;

        if (!w->fsm || !cnt) {
                return 0;
        }
        red_buf_init(&arr);
        red_buf_putc(&arr, '{');
        for (size_t i = 0; i < cnt; i++) {
                if (i) {
                        red_buf_putc(&arr, ',');
                }
                red_sink_io_put_uuid(&arr, &ids[i]);
        }
        red_buf_putc(&arr, '}');
        vals[0] = arr.data;
        snprintf(sql, sizeof(sql),
                 "SELECT workflow_id, current_state, previous_state, "
                 "(extract(epoch FROM state_entry_time) * 1000000)::bigint, "
                 "transition_count, metadata FROM %s WHERE workflow_id = "
                 "ANY($1::uuid[])",
                 w->current);
        r = red_sink_io_exec(io, sql, 1, vals, &res, errstr, size);
        red_buf_destroy(&arr);
        if (r) {
                return -1;
        }
        for (int row = 0; row < PQntuples(res); row++) {
                if (restore(w, res, row, t)) {
                        snprintf(errstr, size, "out of memory");
                        PQclear(res);
                        return -1;
                }
        }
        PQclear(res);
        return 0;
}

/*
 * Workflows per current state, for the contract's gauges: one GROUP BY
 * over the current-state table (its index on current_state serves it).
 * States the contract no longer has are left out.
 */
int red_sink_fsm_count_states(red_sink_fsm_t *w, red_sink_io_t *io,
                              int64_t *counts, char *errstr, size_t size)
{
        char sql[256];
        PGresult *res;

        if (!w->fsm) {
                return 0;
        }
        memset(counts, 0, w->fsm->state_cnt * sizeof(*counts));
        snprintf(sql, sizeof(sql),
                 "SELECT current_state, count(*) FROM %s GROUP BY 1",
                 w->current);
        if (red_sink_io_exec(io, sql, 0, NULL, &res, errstr, size)) {
                return -1;
        }
        for (int row = 0; row < PQntuples(res); row++) {
                int st = red_contract_fsm_state(
                        w->fsm, PQgetvalue(res, row, 0),
                        (size_t)PQgetlength(res, row, 0));
                if (st >= 0) {
                        counts[st] = strtoll(PQgetvalue(res, row, 1), NULL, 10);
                }
        }
        PQclear(res);
        return 0;
}

/* --- the batch's rows ----------------------------------------------- */

/* One history row in COPY text. */
static void history_line(red_sink_fsm_t *w, const red_fsm_row_t *row)
{
        const red_fsm_t *fsm = w->fsm;
        red_buf_t *b = &w->buf;
        char *meta;

        red_sink_io_put_uuid(b, &row->transition_id);
        red_buf_putc(b, '\t');
        red_sink_io_put_uuid(b, &row->workflow_id);
        red_buf_putc(b, '\t');
        red_buf_puts(b, row->from_state >= 0 ? fsm->states[row->from_state]
                                             : "\\N");
        red_buf_putc(b, '\t');
        red_buf_puts(b,
                     row->to_state >= 0 ? fsm->states[row->to_state] : "\\N");
        red_buf_putc(b, '\t');
        red_buf_put_copy_str(b, row->event ? row->event : "",
                             row->event ? strlen(row->event) : 0);
        red_buf_putc(b, '\t');
        red_sink_io_put_time(b, row->time);
        red_buf_puts(b, row->accepted ? "\tt\t" : "\tf\t");
        if (row->reason) {
                red_buf_put_copy_str(b, row->reason, strlen(row->reason));
        } else {
                red_buf_puts(b, "\\N");
        }
        red_buf_putc(b, '\t');
        meta = row->metadata ? json_dumps(row->metadata,
                                          JSON_COMPACT | JSON_SORT_KEYS)
                             : NULL;
        red_buf_put_copy_str(b, meta ? meta : "{}", meta ? strlen(meta) : 2);
        free(meta);
        red_buf_putc(b, '\n');
}

red_sink_result_t red_sink_fsm_partition_at(red_sink_fsm_t *w,
                                            red_sink_io_t *io, red_time_t t,
                                            char *errstr, size_t size)
{
        if (!w->fsm) {
                return RED_SINK_OK;
        }
        return red_sink_io_partition(io, w->fsm->history_table,
                                     w->fsm->history_partition, 0, t, errstr,
                                     size);
}

/* History rows by COPY, in their daily partitions. */
static red_sink_result_t write_history(red_sink_fsm_t *w, red_sink_io_t *io,
                                       const red_fsm_rows_t *rows, char *errstr,
                                       size_t size)
{
        const red_fsm_t *fsm = w->fsm;
        red_sink_result_t r;
        char sql[1024];

        if (!rows->cnt) {
                return RED_SINK_OK;
        }
        red_buf_reset(&w->buf);
        for (size_t i = 0; i < rows->cnt; i++) {
                if ((r = red_sink_io_partition(
                             io, fsm->history_table, fsm->history_partition, 0,
                             rows->items[i].time, errstr, size))) {
                        return r;
                }
                history_line(w, &rows->items[i]);
        }
        if ((r = red_sink_io_noted(io, errstr, size))) {
                return r;
        }
        snprintf(sql, sizeof(sql),
                 "COPY %s (transition_id, workflow_id, from_state, to_state, "
                 "event, transition_timestamp, guard_conditions_met, reason, "
                 "metadata) FROM STDIN",
                 w->history);
        return red_sink_io_copy_in(io, sql, &w->buf, errstr, size);
}

/* Current states upserted from a temp table; metadata keys merge. */
static red_sink_result_t write_current(red_sink_fsm_t *w, red_sink_io_t *io,
                                       red_workflows_t *wfs, char *errstr,
                                       size_t size)
{
        const red_fsm_t *fsm = w->fsm;
        red_wf_t **dirty;
        size_t cnt = red_workflows_dirty(wfs, &dirty);
        red_sink_result_t r;
        char sql[1024];

        red_buf_reset(&w->buf);
        for (size_t i = 0; i < cnt; i++) {
                const red_wf_t *wf = dirty[i];

                if (wf->state == RED_WF_NONE) {
                        continue;
                }
                red_sink_io_put_uuid(&w->buf, &wf->id);
                red_buf_putc(&w->buf, '\t');
                red_buf_puts(&w->buf, fsm->states[wf->state]);
                red_buf_putc(&w->buf, '\t');
                red_buf_puts(&w->buf,
                             wf->previous_state == RED_WF_NONE
                                     ? "\\N"
                                     : fsm->states[wf->previous_state]);
                red_buf_putc(&w->buf, '\t');
                red_sink_io_put_time(&w->buf, wf->state_entry_time);
                red_buf_printf(&w->buf, "\t%u\t", wf->transition_count);
                red_buf_reset(&w->json);
                red_rows_workflow_metadata(w->c, wf, &w->json);
                red_buf_put_copy_str(&w->buf, w->json.data, w->json.len);
                red_buf_putc(&w->buf, '\n');
        }
        if (!w->buf.len) {
                return RED_SINK_OK;
        }
        if ((r = red_sink_io_run(io, "TRUNCATE red_tmp_wf", errstr, size)) ||
            (r = red_sink_io_copy_in(io,
                                     "COPY red_tmp_wf (workflow_id, "
                                     "current_state, previous_state, "
                                     "state_entry_time, transition_count, "
                                     "metadata) FROM STDIN",
                                     &w->buf, errstr, size))) {
                return r;
        }
        /* in key order, like the cells, so replicas cannot deadlock */
        snprintf(sql, sizeof(sql),
                 "INSERT INTO %s AS c (workflow_id, current_state, "
                 "previous_state, state_entry_time, transition_count, "
                 "metadata, updated_at) SELECT workflow_id, current_state, "
                 "previous_state, state_entry_time, transition_count, "
                 "metadata, now() FROM red_tmp_wf ORDER BY workflow_id ON "
                 "CONFLICT (workflow_id) DO UPDATE SET current_state = "
                 "EXCLUDED.current_state, previous_state = "
                 "EXCLUDED.previous_state, state_entry_time = "
                 "EXCLUDED.state_entry_time, transition_count = "
                 "EXCLUDED.transition_count, metadata = c.metadata || "
                 "EXCLUDED.metadata, updated_at = now()",
                 w->current);
        return red_sink_io_run(io, sql, errstr, size);
}

red_sink_result_t red_sink_fsm_write(red_sink_fsm_t *w, red_sink_io_t *io,
                                     const red_fsm_rows_t *rows,
                                     red_workflows_t *wfs, size_t *n,
                                     char *errstr, size_t size)
{
        red_sink_result_t r;

        if (!w->fsm) {
                return RED_SINK_OK;
        }
        if ((r = write_history(w, io, rows, errstr, size))) {
                return r;
        }
        *n += rows->cnt;
        return write_current(w, io, wfs, errstr, size);
}

void red_sink_fsm_outbox(red_sink_fsm_t *w, const red_fsm_rows_t *rows,
                         red_sink_outbox_t *out)
{
        const red_fsm_t *fsm = w->fsm;
        red_buf_t payload;

        if (!fsm || !fsm->publish.topic) {
                return;
        }
        red_buf_init(&payload);
        for (size_t i = 0; i < rows->cnt; i++) {
                const red_fsm_row_t *row = &rows->items[i];
                char wid[RED_UUID_STR_SIZE];

                if (!row->accepted) {
                        continue;
                }
                red_uuid_format(&row->workflow_id, wid);
                red_buf_reset(&payload);
                red_rows_history_json(fsm, row, &payload);
                red_sink_outbox_add(out, fsm->publish.topic, wid,
                                    fsm->publish.event_type,
                                    &row->transition_id, wid, payload.data);
        }
        red_buf_destroy(&payload);
}
