/* red_sink - one Postgres transaction per batch: offsets CAS, rows, cell merges, outbox. */
#include "red_sink.h"
#include "red_sink_impl.h"

#include "red_buf.h"
#include "red_cell.h"
#include "red_failpoint.h"
#include "red_log.h"
#include "red_map.h"
#include "red_partition.h"
#include "red_pg.h"
#include "red_rows.h"

#include <errno.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENGINE_COLS "aggregation_id, window_type, window_start, window_end"

red_sink_t *red_sink_new(const red_contract_t *c, const char *conninfo,
                         const char *instance)
{
        red_sink_t *s = calloc(1, sizeof(*s));

        if (!s) {
                return NULL;
        }
        s->c = c;
        s->conninfo = strdup(conninfo ? conninfo : "");
        s->instance = strdup(instance);
        s->parts = red_partition_cache_new();
        s->aggs = calloc(c->agg_cnt + 1, sizeof(*s->aggs));
        s->by_id = red_map_new();
        for (size_t i = 0; s->aggs && i < c->agg_cnt; i++) {
                red_buf_init(&s->aggs[i].lines);
        }
        red_buf_init(&s->buf);
        red_buf_init(&s->json);
        red_buf_init(&s->out);
        if (!s->conninfo || !s->instance || !s->parts || !s->aggs ||
            !s->by_id) {
                red_sink_destroy(s);
                return NULL;
        }
        return s;
}

static void agg_batch_clear(agg_sql_t *q);

static void aggs_sql_free(red_sink_t *s)
{
        for (size_t i = 0; s->aggs && i < s->c->agg_cnt; i++) {
                free(s->aggs[i].cols);
                free(s->aggs[i].copy_tmp);
                free(s->aggs[i].copy_keys);
                free(s->aggs[i].insert);
                free(s->aggs[i].select);
                free(s->aggs[i].update);
                agg_batch_clear(&s->aggs[i]);
                red_buf_destroy(&s->aggs[i].lines);
                memset(&s->aggs[i], 0, sizeof(s->aggs[i]));
        }
}

void red_sink_destroy(red_sink_t *s)
{
        if (!s) {
                return;
        }
        if (s->conn) {
                PQfinish(s->conn);
        }
        aggs_sql_free(s);
        free(s->aggs);
        red_sink_raw_free(s);
        red_sink_alert_free(s);
        red_partition_cache_destroy(s->parts);
        red_map_destroy(s->by_id);
        red_buf_destroy(&s->buf);
        red_buf_destroy(&s->json);
        red_buf_destroy(&s->out);
        free(s->conninfo);
        free(s->instance);
        free(s);
}

bool red_sink_connected(const red_sink_t *s)
{
        return s->conn && PQstatus(s->conn) == CONNECTION_OK;
}

const char *red_sink_where(const red_sink_t *s)
{
        return s->where;
}

size_t red_sink_last_rows(const red_sink_t *s)
{
        return s->last_rows;
}

/* ------------------------------------------------------------------ */
/* connecting: schema check and session set-up                         */
/* ------------------------------------------------------------------ */

/* Checks that @p table has every column of the NULL-terminated list. */
int red_sink_check_columns(red_sink_t *s, const char *table,
                         const char *const *cols, size_t cnt, char *errstr,
                         size_t size)
{
        const char *vals[1] = {table};
        PGresult *res = PQexecParams(
                s->conn,
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = $1",
                1, NULL, vals, NULL, NULL, 0);
        int r = 0;

        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                red_pg_error(s->conn, res, errstr, size);
                PQclear(res);
                return -1;
        }
        if (PQntuples(res) == 0) {
                snprintf(errstr, size,
                         "table %s does not exist (contract %s; run "
                         "reducerd migrate, or add a migration for it)",
                         table, s->c->name);
                r = -1;
        }
        for (size_t i = 0; !r && i < cnt; i++) {
                int row;
                for (row = 0; row < PQntuples(res); row++) {
                        if (!strcmp(PQgetvalue(res, row, 0), cols[i])) {
                                break;
                        }
                }
                if (row == PQntuples(res)) {
                        snprintf(errstr, size,
                                 "table %s has no column %s, which contract "
                                 "%s writes (run reducerd migrate, or add "
                                 "it in a migration)",
                                 table, cols[i], s->c->name);
                        r = -1;
                }
        }
        PQclear(res);
        return r;
}

static int agg_prepare(red_sink_t *s, size_t idx, char *errstr, size_t size)
{
        const red_agg_t *a = &s->c->aggs[idx];
        agg_sql_t *q = &s->aggs[idx];
        const char *names[128];
        char qcol[80], grp[80];
        red_buf_t cols, keys, setl, setr, on;
        char *keycols = NULL;
        size_t n = 0;
        int r = -1;

        red_buf_init(&cols);
        red_buf_init(&keys);
        red_buf_init(&setl);
        red_buf_init(&setr);
        red_buf_init(&on);
        if (red_pg_ident(a->table, q->table, sizeof(q->table)) ||
            red_pg_ident(a->grouping_column, grp, sizeof(grp))) {
                snprintf(errstr, size, "invalid table or column name");
                goto done;
        }
        snprintf(q->tmp, sizeof(q->tmp), "red_tmp_%zu", idx);
        names[n++] = "aggregation_id";
        names[n++] = "window_type";
        names[n++] = "window_start";
        names[n++] = "window_end";
        names[n++] = a->grouping_column;
        red_buf_puts(&cols, ENGINE_COLS ", ");
        red_buf_puts(&cols, grp);
        red_buf_printf(&keys, "window_type, window_start, %s", grp);
        red_buf_printf(&on, "t.window_type = s.window_type AND t.window_start "
                            "= s.window_start AND t.%s = s.%s",
                       grp, grp);
        for (size_t k = 0; k < a->key_cnt; k++) {
                if (red_pg_ident(a->key_columns[k], qcol, sizeof(qcol))) {
                        goto done;
                }
                names[n++] = a->key_columns[k];
                red_buf_printf(&cols, ", %s", qcol);
                red_buf_printf(&keys, ", %s", qcol);
                red_buf_printf(&on, " AND t.%s = s.%s", qcol, qcol);
        }
        if (!(keycols = strdup(cols.data))) {
                goto done;
        }
        for (size_t k = 0; k < a->column_cnt && n < 120; k++) {
                if (red_pg_ident(a->columns[k].name, qcol, sizeof(qcol))) {
                        goto done;
                }
                names[n++] = a->columns[k].name;
                red_buf_printf(&cols, ", %s", qcol);
                red_buf_printf(&setl, "%s%s", k ? ", " : "", qcol);
                red_buf_printf(&setr, "%ss.%s", k ? ", " : "", qcol);
        }
        names[n++] = "state";
        names[n++] = "revision";
        names[n++] = "finalized_at";
        names[n++] = "updated_at";
        red_buf_puts(&cols, ", state, revision, finalized_at");
        if (red_sink_check_columns(s, a->table, names, n, errstr, size)) {
                goto done;
        }
        q->cols = red_buf_steal(&cols, NULL);
        if (asprintf(&q->copy_tmp, "COPY %s (%s) FROM STDIN", q->tmp,
                     q->cols) < 0 ||
            asprintf(&q->copy_keys, "COPY %s (%s) FROM STDIN", q->tmp,
                     keycols) < 0 ||
            /* DO UPDATE ... WHERE false: existing rows are locked, not
             * rewritten (one new row version per batch, not two) */
            asprintf(&q->insert,
                     "INSERT INTO %s (%s, state, revision, updated_at) "
                     "SELECT %s, '\\x'::bytea, 0, now() FROM %s ORDER BY %s "
                     "ON CONFLICT (%s) DO UPDATE SET revision = %s.revision "
                     "WHERE false",
                     q->table, keycols, keycols, q->tmp, keys.data,
                     keys.data, q->table) < 0 ||
            asprintf(&q->select,
                     "SELECT t.aggregation_id, t.state, t.revision, "
                     "t.finalized_at IS NOT NULL FROM %s t JOIN %s s ON %s",
                     q->table, q->tmp, on.data) < 0 ||
            asprintf(&q->update,
                     "UPDATE %s t SET (%s, state, revision, updated_at) = "
                     "(%s, s.state, s.revision, now()) FROM %s s WHERE %s",
                     q->table, setl.data, setr.data, q->tmp, on.data) < 0) {
                snprintf(errstr, size, "out of memory");
                goto done;
        }
        {
                char sql[4096];
                snprintf(sql, sizeof(sql),
                         "CREATE TEMP TABLE IF NOT EXISTS %s AS SELECT %s "
                         "FROM %s WITH NO DATA",
                         q->tmp, q->cols, q->table);
                if (red_pg_exec(s->conn, sql, errstr, size)) {
                        goto done;
                }
        }
        r = 0;
done:
        free(keycols);
        red_buf_destroy(&cols);
        red_buf_destroy(&keys);
        red_buf_destroy(&setl);
        red_buf_destroy(&setr);
        red_buf_destroy(&on);
        return r;
}

static int fsm_prepare(red_sink_t *s, char *errstr, size_t size)
{
        static const char *const hist[] = {
                "transition_id", "workflow_id", "from_state", "to_state",
                "event", "transition_timestamp", "guard_conditions_met",
                "reason", "metadata"};
        static const char *const cur[] = {
                "workflow_id", "current_state", "previous_state",
                "state_entry_time", "transition_count", "metadata",
                "updated_at"};
        const red_fsm_t *fsm = s->c->fsm;
        char q[80], sql[512];

        if (!fsm) {
                return 0;
        }
        if (red_sink_check_columns(s, fsm->history_table, hist, 9, errstr, size) ||
            red_sink_check_columns(s, fsm->current_table, cur, 7, errstr, size) ||
            red_pg_ident(fsm->current_table, q, sizeof(q))) {
                return -1;
        }
        snprintf(sql, sizeof(sql),
                 "CREATE TEMP TABLE IF NOT EXISTS red_tmp_wf AS SELECT "
                 "workflow_id, current_state, previous_state, "
                 "state_entry_time, transition_count, metadata FROM %s WITH "
                 "NO DATA",
                 q);
        return red_pg_exec(s->conn, sql, errstr, size);
}

static void disconnect(red_sink_t *s)
{
        if (s->conn) {
                PQfinish(s->conn);
                s->conn = NULL;
        }
        aggs_sql_free(s);
        red_sink_raw_free(s);
        red_sink_alert_free(s);
        red_partition_cache_clear(s->parts);
}

int red_sink_connect(red_sink_t *s, char *errstr, size_t errstr_size)
{
        disconnect(s);
        s->conn = red_pg_connect(s->conninfo, errstr, errstr_size);
        if (!s->conn) {
                return -1;
        }
        red_pg_describe(s->conn, s->where, sizeof(s->where));
        if (red_pg_exec(s->conn,
                        "SET TIME ZONE 'UTC'; SET client_min_messages = "
                        "warning; SET synchronous_commit = on",
                        errstr, errstr_size) ||
            fsm_prepare(s, errstr, errstr_size)) {
                goto err;
        }
        for (size_t i = 0; i < s->c->agg_cnt; i++) {
                if (agg_prepare(s, i, errstr, errstr_size)) {
                        goto err;
                }
        }
        if (red_sink_raw_prepare(s, errstr, errstr_size) ||
            red_sink_alert_prepare(s, errstr, errstr_size)) {
                goto err;
        }
        {
                const char *const off[] = {"consumer_group", "topic",
                                           "partition", "next_offset",
                                           "watermark"};
                if (red_sink_check_columns(s, "reducerd_offsets", off, 5, errstr,
                                  errstr_size)) {
                        goto err;
                }
        }
        return 0;
err:
        disconnect(s);
        return -1;
}

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

red_sink_result_t red_sink_classify(red_sink_t *s, PGresult *res, char *errstr,
                                  size_t size)
{
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE)
                                : NULL;

        red_pg_error(s->conn, res, errstr, size);
        if (state && !strcmp(state, "23505") && s->unique_replays) {
                /* a row of the batch is stored: the batch runs again,
                 * looking stored rows up first */
                s->lookup_credit = LOOKUP_CREDIT;
                return RED_SINK_REPLAY;
        }
        if (state && !strcmp(state, "23514") &&
            strstr(errstr, "no partition")) {
                /* a partition we believed in was dropped */
                red_partition_cache_clear(s->parts);
                return RED_SINK_RETRY;
        }
        return red_pg_retriable(s->conn, res) ? RED_SINK_RETRY
                                              : RED_SINK_FATAL;
}

red_sink_result_t red_sink_exec(red_sink_t *s, const char *sql, char *errstr,
                              size_t size)
{
        PGresult *res = PQexec(s->conn, sql);
        ExecStatusType st = PQresultStatus(res);
        red_sink_result_t r = RED_SINK_OK;

        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
                r = red_sink_classify(s, res, errstr, size);
        }
        PQclear(res);
        return r;
}

/* COPY ... FROM STDIN with the text in @p data. */
red_sink_result_t red_sink_copy_begin(red_sink_t *s, const char *sql,
                                     char *errstr, size_t size)
{
        PGresult *res = PQexec(s->conn, sql);
        red_sink_result_t r = RED_SINK_OK;

        if (PQresultStatus(res) != PGRES_COPY_IN) {
                r = red_sink_classify(s, res, errstr, size);
        }
        PQclear(res);
        return r;
}

red_sink_result_t red_sink_copy_send(red_sink_t *s, red_buf_t *data,
                                     char *errstr, size_t size)
{
        if (data->failed) {
                snprintf(errstr, size, "out of memory");
                return RED_SINK_RETRY;
        }
        if (data->len &&
            PQputCopyData(s->conn, data->data, (int)data->len) != 1) {
                red_pg_error(s->conn, NULL, errstr, size);
                return RED_SINK_RETRY;
        }
        red_buf_reset(data);
        return RED_SINK_OK;
}

red_sink_result_t red_sink_copy_end(red_sink_t *s, char *errstr, size_t size)
{
        red_sink_result_t r = RED_SINK_OK;
        PGresult *res;

        if (PQputCopyEnd(s->conn, NULL) != 1) {
                red_pg_error(s->conn, NULL, errstr, size);
                return RED_SINK_RETRY;
        }
        red_sink_idle(s); /* Postgres still inserts what it was sent */
        while ((res = PQgetResult(s->conn))) {
                if (PQresultStatus(res) != PGRES_COMMAND_OK && !r) {
                        r = red_sink_classify(s, res, errstr, size);
                }
                PQclear(res);
        }
        return r;
}

red_sink_result_t red_sink_copy_in(red_sink_t *s, const char *sql,
                                   const red_buf_t *data, char *errstr,
                                   size_t size)
{
        red_sink_result_t r = red_sink_copy_begin(s, sql, errstr, size);

        if (r) {
                return r;
        }
        if (data->len &&
            PQputCopyData(s->conn, data->data, (int)data->len) != 1) {
                red_pg_error(s->conn, NULL, errstr, size);
                return RED_SINK_RETRY;
        }
        return red_sink_copy_end(s, errstr, size);
}

void red_sink_copy_time(red_buf_t *b, red_time_t t)
{
        char ts[RED_TIME_FMT_SIZE];

        red_time_format(t, ts, sizeof(ts));
        red_buf_puts(b, ts);
}

void red_sink_copy_object(red_buf_t *b, const red_value_t *v)
{
        char *j;

        if (v->raw) {
                red_buf_put_copy_str(b, v->raw, v->raw_len);
                return;
        }
        if (!(j = json_dumps(v->j, JSON_COMPACT))) {
                b->failed = true;
                return;
        }
        red_buf_put_copy_str(b, j, strlen(j));
        free(j);
}

void red_sink_copy_uuid(red_buf_t *b, const red_uuid_t *u)
{
        char s[RED_UUID_STR_SIZE];

        red_uuid_format(u, s);
        red_buf_append(b, s, 36);
}

/* bytea in COPY text format: \\x followed by hex */
static void copy_bytea(red_buf_t *b, const char *data, size_t len)
{
        static const char hex[] = "0123456789abcdef";

        red_buf_puts(b, "\\\\x");
        if (red_buf_reserve(b, len * 2)) {
                return;
        }
        for (size_t i = 0; i < len; i++) {
                b->data[b->len++] = hex[(unsigned char)data[i] >> 4];
                b->data[b->len++] = hex[(unsigned char)data[i] & 15];
        }
        b->data[b->len] = '\0';
}

/* The output envelope (DESIGN.md "Envelope and decoding"). */
void red_sink_envelope(red_sink_t *s, red_buf_t *b, const char *event_type,
                     const red_uuid_t *event_id, const char *correlation_id,
                     const char *payload)
{
        char id[RED_UUID_STR_SIZE], ts[RED_TIME_FMT_SIZE];

        red_uuid_format(event_id, id);
        red_time_format(red_time_now(), ts, sizeof(ts));
        red_buf_puts(b, "{\"envelope_version\":\"1.0\",\"event_id\":\"");
        red_buf_puts(b, id);
        red_buf_puts(b, "\",\"event_type\":");
        red_buf_put_json_str(b, event_type, strlen(event_type));
        red_buf_puts(b, ",\"event_version\":\"1.0\",\"event_timestamp\":\"");
        red_buf_puts(b, ts);
        red_buf_puts(b, "\",\"source_service\":\"reducerd\","
                        "\"source_instance\":");
        red_buf_put_json_str(b, s->instance, strlen(s->instance));
        red_buf_puts(b, ",\"correlation_id\":");
        if (correlation_id) {
                red_buf_put_json_str(b, correlation_id,
                                     strlen(correlation_id));
        } else {
                red_buf_puts(b, "null");
        }
        red_buf_puts(b, ",\"payload\":");
        red_buf_puts(b, payload);
        red_buf_putc(b, '}');
}

/* One outbox COPY line: topic, key, payload. */
void red_sink_outbox_line(red_buf_t *out, const char *topic, const char *key,
                        const red_buf_t *payload)
{
        red_buf_put_copy_str(out, topic, strlen(topic));
        red_buf_putc(out, '\t');
        red_buf_put_copy_str(out, key, strlen(key));
        red_buf_putc(out, '\t');
        red_buf_put_copy_str(out, payload->data, payload->len);
        red_buf_putc(out, '\n');
}

/* ------------------------------------------------------------------ */
/* offsets                                                             */
/* ------------------------------------------------------------------ */

/* Array literals of the offsets batch: {"a","b"}, {1,2}, ... */
static void arrays(const red_sink_offset_t *offs, size_t cnt, red_buf_t *t,
                   red_buf_t *p, red_buf_t *prev, red_buf_t *next,
                   red_buf_t *wm)
{
        red_buf_putc(t, '{');
        red_buf_putc(p, '{');
        red_buf_putc(prev, '{');
        red_buf_putc(next, '{');
        red_buf_putc(wm, '{');
        for (size_t i = 0; i < cnt; i++) {
                const char *sep = i ? "," : "";
                /* topic names are [A-Za-z0-9._-] (checked by the loader) */
                red_buf_printf(t, "%s\"%s\"", sep, offs[i].topic);
                red_buf_printf(p, "%s%d", sep, (int)offs[i].partition);
                red_buf_printf(prev, "%s%lld", sep, (long long)offs[i].prev);
                red_buf_printf(next, "%s%lld", sep, (long long)offs[i].next);
                red_buf_puts(wm, sep);
                if (offs[i].watermark == INT64_MIN) {
                        red_buf_puts(wm, "NULL");
                } else {
                        red_buf_putc(wm, '"');
                        red_sink_copy_time(wm, offs[i].watermark);
                        red_buf_putc(wm, '"');
                }
        }
        red_buf_putc(t, '}');
        red_buf_putc(p, '}');
        red_buf_putc(prev, '}');
        red_buf_putc(next, '}');
        red_buf_putc(wm, '}');
}

red_sink_result_t red_sink_offsets(red_sink_t *s, const char *const *topics,
                                   const int32_t *partitions, size_t cnt,
                                   int generation, int64_t *next,
                                   red_time_t *watermark, char *errstr,
                                   size_t errstr_size)
{
        red_buf_t t, p;
        char gen[16];
        const char *vals[5];
        PGresult *res;
        red_sink_result_t r = RED_SINK_OK;

        red_buf_init(&t);
        red_buf_init(&p);
        red_buf_putc(&t, '{');
        red_buf_putc(&p, '{');
        for (size_t i = 0; i < cnt; i++) {
                red_buf_printf(&t, "%s\"%s\"", i ? "," : "", topics[i]);
                red_buf_printf(&p, "%s%d", i ? "," : "", (int)partitions[i]);
                next[i] = -1;
                watermark[i] = INT64_MIN;
        }
        red_buf_putc(&t, '}');
        red_buf_putc(&p, '}');
        snprintf(gen, sizeof(gen), "%d", generation);
        vals[0] = s->c->consumer_group;
        vals[1] = s->instance;
        vals[2] = gen;
        vals[3] = t.data;
        vals[4] = p.data;
        res = PQexecParams(
                s->conn,
                "INSERT INTO reducerd_offsets (consumer_group, topic, "
                "partition, next_offset, owner, generation) SELECT $1, v.t, "
                "v.p, -1, $2, $3 FROM unnest($4::text[], $5::int[]) AS v(t, "
                "p) ON CONFLICT DO NOTHING",
                5, NULL, vals, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                r = red_sink_classify(s, res, errstr, errstr_size);
                PQclear(res);
                goto done;
        }
        PQclear(res);
        vals[1] = t.data;
        vals[2] = p.data;
        res = PQexecParams(
                s->conn,
                "SELECT o.topic, o.partition, o.next_offset, "
                "(extract(epoch FROM o.watermark) * 1000000)::bigint FROM "
                "reducerd_offsets o JOIN unnest($2::text[], $3::int[]) AS "
                "v(t, p) ON o.topic = v.t AND o.partition = v.p WHERE "
                "o.consumer_group = $1",
                3, NULL, vals, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                r = red_sink_classify(s, res, errstr, errstr_size);
                PQclear(res);
                goto done;
        }
        for (int row = 0; row < PQntuples(res); row++) {
                for (size_t i = 0; i < cnt; i++) {
                        if (strcmp(PQgetvalue(res, row, 0), topics[i]) ||
                            atoi(PQgetvalue(res, row, 1)) != partitions[i]) {
                                continue;
                        }
                        next[i] = strtoll(PQgetvalue(res, row, 2), NULL, 10);
                        if (!PQgetisnull(res, row, 3)) {
                                watermark[i] = strtoll(PQgetvalue(res, row, 3),
                                                       NULL, 10);
                        }
                }
        }
        PQclear(res);
done:
        red_buf_destroy(&t);
        red_buf_destroy(&p);
        return r;
}

static red_sink_result_t advance_offsets(red_sink_t *s,
                                         const red_sink_offset_t *offs,
                                         size_t cnt, int generation,
                                         char *errstr, size_t size)
{
        red_buf_t t, p, prev, next, wm;
        char gen[16];
        const char *vals[8];
        PGresult *res;
        red_sink_result_t r = RED_SINK_OK;

        red_buf_init(&t);
        red_buf_init(&p);
        red_buf_init(&prev);
        red_buf_init(&next);
        red_buf_init(&wm);
        arrays(offs, cnt, &t, &p, &prev, &next, &wm);
        snprintf(gen, sizeof(gen), "%d", generation);
        vals[0] = s->c->consumer_group;
        vals[1] = s->instance;
        vals[2] = gen;
        vals[3] = t.data;
        vals[4] = p.data;
        vals[5] = prev.data;
        vals[6] = next.data;
        vals[7] = wm.data;
        res = PQexecParams(
                s->conn,
                "UPDATE reducerd_offsets o SET next_offset = v.nxt, "
                "watermark = COALESCE(v.wm, o.watermark), owner = $2, "
                "generation = $3, updated_at = now() FROM unnest($4::text[], "
                "$5::int[], $6::bigint[], $7::bigint[], $8::timestamptz[]) AS "
                "v(t, p, prev, nxt, wm) WHERE o.consumer_group = $1 AND "
                "o.topic = v.t AND o.partition = v.p AND o.next_offset = "
                "v.prev",
                8, NULL, vals, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                r = red_sink_classify(s, res, errstr, size);
        } else if ((size_t)atol(PQcmdTuples(res)) != cnt) {
                snprintf(errstr, size,
                         "offsets moved under us (%s of %zu partitions "
                         "matched): another worker owns them now",
                         PQcmdTuples(res), cnt);
                r = RED_SINK_FENCED;
        }
        PQclear(res);
        red_buf_destroy(&t);
        red_buf_destroy(&p);
        red_buf_destroy(&prev);
        red_buf_destroy(&next);
        red_buf_destroy(&wm);
        return r;
}

/* ------------------------------------------------------------------ */
/* workflows                                                           */
/* ------------------------------------------------------------------ */

int red_sink_load_workflows(void *sink, const red_uuid_t *ids, size_t cnt,
                            red_workflows_t *t, char *errstr,
                            size_t errstr_size)
{
        red_sink_t *s = sink;
        const red_contract_t *c = s->c;
        const red_fsm_t *fsm = c->fsm;
        char q[80], sql[512];
        const char *vals[1];
        red_buf_t arr;
        PGresult *res;
        int r = 0;

        if (!fsm || !cnt) {
                return 0;
        }
        if (red_pg_ident(fsm->current_table, q, sizeof(q))) {
                return -1;
        }
        red_buf_init(&arr);
        red_buf_putc(&arr, '{');
        for (size_t i = 0; i < cnt; i++) {
                if (i) {
                        red_buf_putc(&arr, ',');
                }
                red_sink_copy_uuid(&arr, &ids[i]);
        }
        red_buf_putc(&arr, '}');
        vals[0] = arr.data;
        snprintf(sql, sizeof(sql),
                 "SELECT workflow_id, current_state, previous_state, "
                 "(extract(epoch FROM state_entry_time) * 1000000)::bigint, "
                 "transition_count, metadata FROM %s WHERE workflow_id = "
                 "ANY($1::uuid[])",
                 q);
        res = PQexecParams(s->conn, sql, 1, NULL, vals, NULL, NULL, 0);
        red_buf_destroy(&arr);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                red_pg_error(s->conn, res, errstr, errstr_size);
                PQclear(res);
                return -1;
        }
        for (int row = 0; row < PQntuples(res) && !r; row++) {
                const char *rem[RED_WF_MAX_REMEMBER] = {NULL};
                int st = red_fsm_state(fsm, PQgetvalue(res, row, 1),
                                       (size_t)PQgetlength(res, row, 1));
                int prev = PQgetisnull(res, row, 2)
                                   ? -1
                                   : red_fsm_state(
                                             fsm, PQgetvalue(res, row, 2),
                                             (size_t)PQgetlength(res, row, 2));
                json_t *meta = json_loads(PQgetvalue(res, row, 5), 0, NULL);
                int32_t part = -1;
                red_uuid_t id;

                if (st < 0 || red_uuid_parse(PQgetvalue(res, row, 0), 36,
                                             &id)) {
                        /* a state this contract no longer has: leave it */
                        json_decref(meta);
                        continue;
                }
                for (size_t i = 0; i < c->remember_cnt &&
                                   i < RED_WF_MAX_REMEMBER;
                     i++) {
                        json_t *v = json_object_get(
                                meta, c->slot_names[c->remember_slots[i]]);
                        rem[i] = json_is_string(v) ? json_string_value(v)
                                                   : NULL;
                }
                if (json_is_integer(json_object_get(meta, "kafka_partition"))) {
                        part = (int32_t)json_integer_value(
                                json_object_get(meta, "kafka_partition"));
                }
                if (!red_workflows_restore(
                            t, &id, (uint8_t)st,
                            prev < 0 ? RED_WF_NONE : (uint8_t)prev,
                            PQgetisnull(res, row, 3)
                                    ? 0
                                    : strtoll(PQgetvalue(res, row, 3), NULL,
                                              10),
                            (uint32_t)atol(PQgetvalue(res, row, 4)), part,
                            rem)) {
                        snprintf(errstr, errstr_size, "out of memory");
                        r = -1;
                }
                json_decref(meta);
        }
        PQclear(res);
        return r;
}

/* History rows by COPY, current states upserted from a temp table. */
static red_sink_result_t write_fsm(red_sink_t *s, red_core_t *core,
                                   char *errstr, size_t size)
{
        const red_fsm_t *fsm = s->c->fsm;
        red_fsm_rows_t *rows = red_core_rows(core);
        red_workflows_t *wfs = red_core_workflows(core);
        red_wf_t **dirty;
        size_t cnt;
        char qh[80], qc[80], sql[1024];
        red_sink_result_t r;

        if (!fsm) {
                return RED_SINK_OK;
        }
        if (red_pg_ident(fsm->history_table, qh, sizeof(qh)) ||
            red_pg_ident(fsm->current_table, qc, sizeof(qc))) {
                return RED_SINK_FATAL;
        }
        red_buf_reset(&s->buf);
        for (size_t i = 0; i < rows->cnt; i++) {
                const red_fsm_row_t *row = &rows->items[i];
                char *meta;

                if (red_partition_ensure(s->conn, s->parts, fsm->history_table,
                                         fsm->history_partition, 0, row->time,
                                         errstr, size)) {
                        return RED_SINK_RETRY;
                }
                red_sink_copy_uuid(&s->buf, &row->transition_id);
                red_buf_putc(&s->buf, '\t');
                red_sink_copy_uuid(&s->buf, &row->workflow_id);
                red_buf_putc(&s->buf, '\t');
                red_buf_puts(&s->buf, row->from_state >= 0
                                              ? fsm->states[row->from_state]
                                              : "\\N");
                red_buf_putc(&s->buf, '\t');
                red_buf_puts(&s->buf, row->to_state >= 0
                                              ? fsm->states[row->to_state]
                                              : "\\N");
                red_buf_putc(&s->buf, '\t');
                red_buf_put_copy_str(&s->buf, row->event ? row->event : "",
                                     row->event ? strlen(row->event) : 0);
                red_buf_putc(&s->buf, '\t');
                red_sink_copy_time(&s->buf, row->time);
                red_buf_puts(&s->buf, row->accepted ? "\tt\t" : "\tf\t");
                if (row->reason) {
                        red_buf_put_copy_str(&s->buf, row->reason,
                                             strlen(row->reason));
                } else {
                        red_buf_puts(&s->buf, "\\N");
                }
                red_buf_putc(&s->buf, '\t');
                meta = row->metadata ? json_dumps(row->metadata,
                                                  JSON_COMPACT |
                                                          JSON_SORT_KEYS)
                                     : NULL;
                red_buf_put_copy_str(&s->buf, meta ? meta : "{}",
                                     meta ? strlen(meta) : 2);
                free(meta);
                red_buf_putc(&s->buf, '\n');
        }
        if (rows->cnt) {
                snprintf(sql, sizeof(sql),
                         "COPY %s (transition_id, workflow_id, from_state, "
                         "to_state, event, transition_timestamp, "
                         "guard_conditions_met, reason, metadata) FROM STDIN",
                         qh);
                if ((r = red_sink_copy_in(s, sql, &s->buf, errstr, size))) {
                        return r;
                }
        }
        s->last_rows += rows->cnt;

        cnt = red_workflows_dirty(wfs, &dirty);
        red_buf_reset(&s->buf);
        for (size_t i = 0; i < cnt; i++) {
                const red_wf_t *wf = dirty[i];
                if (wf->state == RED_WF_NONE) {
                        continue;
                }
                red_sink_copy_uuid(&s->buf, &wf->id);
                red_buf_putc(&s->buf, '\t');
                red_buf_puts(&s->buf, fsm->states[wf->state]);
                red_buf_putc(&s->buf, '\t');
                red_buf_puts(&s->buf, wf->previous_state == RED_WF_NONE
                                              ? "\\N"
                                              : fsm->states[wf->previous_state]);
                red_buf_putc(&s->buf, '\t');
                red_sink_copy_time(&s->buf, wf->state_entry_time);
                red_buf_printf(&s->buf, "\t%u\t", wf->transition_count);
                red_buf_reset(&s->json);
                red_rows_workflow_metadata(s->c, wf, &s->json);
                red_buf_put_copy_str(&s->buf, s->json.data, s->json.len);
                red_buf_putc(&s->buf, '\n');
        }
        if (!s->buf.len) {
                return RED_SINK_OK;
        }
        if ((r = red_sink_exec(s, "TRUNCATE red_tmp_wf", errstr, size)) ||
            (r = red_sink_copy_in(s,
                         "COPY red_tmp_wf (workflow_id, current_state, "
                         "previous_state, state_entry_time, transition_count, "
                         "metadata) FROM STDIN",
                         &s->buf, errstr, size))) {
                return r;
        }
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
                 qc);
        return red_sink_exec(s, sql, errstr, size);
}

/* State-change events for accepted transitions, when the fsm publishes. */
static void fsm_outbox(red_sink_t *s, red_core_t *core)
{
        const red_fsm_t *fsm = s->c->fsm;
        red_fsm_rows_t *rows = red_core_rows(core);
        red_buf_t payload, env;

        if (!fsm || !fsm->publish.topic) {
                return;
        }
        red_buf_init(&payload);
        red_buf_init(&env);
        for (size_t i = 0; i < rows->cnt; i++) {
                const red_fsm_row_t *row = &rows->items[i];
                char wid[RED_UUID_STR_SIZE];

                if (!row->accepted) {
                        continue;
                }
                red_uuid_format(&row->workflow_id, wid);
                red_buf_reset(&payload);
                red_buf_reset(&env);
                red_rows_history_json(fsm, row, &payload);
                red_sink_envelope(s, &env, fsm->publish.event_type,
                         &row->transition_id, wid, payload.data);
                red_sink_outbox_line(&s->out, fsm->publish.topic, wid, &env);
        }
        red_buf_destroy(&payload);
        red_buf_destroy(&env);
}

/* ------------------------------------------------------------------ */
/* cells                                                               */
/* ------------------------------------------------------------------ */

static bool ref_eq(const void *item, const void *key)
{
        return !red_uuid_cmp(&((const cell_ref_t *)item)->id, key);
}

/* One COPY line of a cell for the temp table: its key columns only
 * (@p full false), or every column we write. */
static int cell_line(red_sink_t *s, red_buf_t *b, const red_cell_t *cell,
                     const red_uuid_t *id, int64_t revision, bool full)
{
        const red_agg_t *a = red_cell_agg(cell);

        red_sink_copy_uuid(b, id);
        red_buf_putc(b, '\t');
        red_buf_puts(b, red_window_type_name(red_cell_window_type(cell)));
        red_buf_putc(b, '\t');
        red_sink_copy_time(b, red_cell_window_start(cell));
        red_buf_putc(b, '\t');
        red_sink_copy_time(b, red_cell_window_end(cell));
        red_buf_putc(b, '\t');
        red_buf_put_copy_str(b, a->groupings[red_cell_grouping(cell)].name,
                             strlen(a->groupings[red_cell_grouping(cell)].name));
        for (size_t k = 0; k < a->key_cnt; k++) {
                red_buf_putc(b, '\t');
                red_buf_put_copy_str(b, red_cell_key(cell, k),
                                     red_cell_key_len(cell, k));
        }
        if (!full) {
                red_buf_putc(b, '\n');
                return b->failed ? -ENOMEM : 0;
        }
        for (size_t k = 0; k < a->column_cnt; k++) {
                bool is_null;

                red_buf_putc(b, '\t');
                red_buf_reset(&s->json);
                red_cell_render(cell, &a->columns[k], &s->json, &is_null);
                if (is_null) {
                        red_buf_puts(b, "\\N");
                } else {
                        red_buf_put_copy_str(b, s->json.data, s->json.len);
                }
        }
        red_buf_putc(b, '\t');
        red_buf_reset(&s->json);
        if (red_cell_serialize(cell, &s->json)) {
                return -ENOMEM;
        }
        copy_bytea(b, s->json.data, s->json.len);
        red_buf_printf(b, "\t%lld\t\\N\n", (long long)revision);
        return b->failed ? -ENOMEM : 0;
}

/* The outbox line of a cell snapshot. */
static void cell_outbox(red_sink_t *s, const red_cell_t *cell,
                        const red_uuid_t *cid, int64_t revision, bool final)
{
        const red_agg_t *a = red_cell_agg(cell);
        char extra[64], id[RED_UUID_STR_SIZE], name[64];
        red_uuid_t eid;
        red_buf_t payload, env;

        if (!a->publish.topic) {
                return;
        }
        red_uuid_format(cid, id);
        /* event ids are stable per (cell, revision): consumers can drop the
         * duplicates an at-least-once relay may deliver */
        snprintf(name, sizeof(name), "%s/%lld", id, (long long)revision);
        red_uuid_v5(&eid, &red_uuid_ns_reducerd, name, strlen(name));
        snprintf(extra, sizeof(extra), "\"revision\":%lld,\"final\":%s",
                 (long long)revision, final ? "true" : "false");
        red_buf_init(&payload);
        red_buf_init(&env);
        red_rows_cell_json(cell, extra, &payload);
        red_sink_envelope(s, &env, a->publish.event_type, &eid, id, payload.data);
        red_sink_outbox_line(&s->out, a->publish.topic, id, &env);
        red_buf_destroy(&payload);
        red_buf_destroy(&env);
}

/* A fresh empty cell with @p cell's key. */
static red_cell_t *cell_like(const red_cell_t *cell, double alpha)
{
        const red_agg_t *a = red_cell_agg(cell);
        const char *keys[16];
        size_t lens[16];
        red_cell_key_t key;

        for (size_t k = 0; k < a->key_cnt && k < 16; k++) {
                keys[k] = red_cell_key(cell, k);
                lens[k] = red_cell_key_len(cell, k);
        }
        key.agg = a;
        key.wt = red_cell_window_type(cell);
        key.start = red_cell_window_start(cell);
        key.grouping = red_cell_grouping(cell);
        key.keys = keys;
        key.lens = lens;
        key.group_hash = red_cell_group_hash(a, key.grouping, keys, lens);
        return red_cell_new(&key, alpha);
}

/* Forgets the batch's cell state (after the store or a rollback). */
static void agg_batch_clear(agg_sql_t *q)
{
        for (size_t i = 0; i < q->nmerged; i++) {
                red_cell_destroy(q->merged[i]);
        }
        free(q->merged);
        free(q->refs);
        PQclear(q->state);
        q->merged = NULL;
        q->refs = NULL;
        q->state = NULL;
        q->n = 0;
        q->nmerged = 0;
        red_buf_reset(&q->lines);
}

/* Phase A: a placeholder row (revision 0) for each new cell, a row lock on
 * each existing one, in key order; then the locked rows' state. */
static red_sink_result_t agg_lock(red_sink_t *s, size_t idx,
                                  red_cell_t **cells, size_t cnt,
                                  char *errstr, size_t size)
{
        const red_agg_t *a = &s->c->aggs[idx];
        agg_sql_t *q = &s->aggs[idx];
        red_sink_result_t r;
        char truncate[64];

        agg_batch_clear(q);
        q->refs = calloc(cnt + 1, sizeof(*q->refs));
        q->merged = calloc(cnt + 1, sizeof(*q->merged));
        if (!q->refs || !q->merged) {
                snprintf(errstr, size, "out of memory");
                return RED_SINK_RETRY;
        }
        for (size_t i = 0; i < cnt; i++) {
                cell_ref_t *ref = &q->refs[q->n];

                if (red_cell_agg(cells[i]) != a) {
                        continue;
                }
                if (red_partition_ensure(s->conn, s->parts, a->table,
                                         a->partition,
                                         RED_PARTITION_FILLFACTOR_UPDATED,
                                         red_cell_window_start(cells[i]),
                                         errstr, size)) {
                        return RED_SINK_RETRY;
                }
                ref->cell = cells[i];
                red_cell_id(cells[i], &ref->id);
                if (red_map_insert(s->by_id, red_uuid_hash(&ref->id), ref) ||
                    cell_line(s, &q->lines, cells[i], &ref->id, 0, false)) {
                        snprintf(errstr, size, "out of memory");
                        return RED_SINK_RETRY;
                }
                q->n++;
        }
        if (!q->n) {
                return RED_SINK_OK;
        }
        snprintf(truncate, sizeof(truncate), "TRUNCATE %s", q->tmp);
        if ((r = red_sink_exec(s, truncate, errstr, size)) ||
            (r = red_sink_copy_in(s, q->copy_keys, &q->lines, errstr, size)) ||
            (r = red_sink_exec(s, q->insert, errstr, size))) {
                return r;
        }
        q->state = PQexecParams(s->conn, q->select, 0, NULL, NULL, NULL, NULL,
                                0);
        if (PQresultStatus(q->state) != PGRES_TUPLES_OK) {
                return red_sink_classify(s, q->state, errstr, size);
        }
        return RED_SINK_OK;
}

/* Phase B, no I/O: stored state + delta, rendered as COPY lines and outbox
 * snapshots. */
static red_sink_result_t agg_merge(red_sink_t *s, size_t idx, char *errstr,
                                   size_t size)
{
        const red_agg_t *a = &s->c->aggs[idx];
        agg_sql_t *q = &s->aggs[idx];
        PGresult *res = q->state;

        red_buf_reset(&q->lines);
        for (int row = 0; res && row < PQntuples(res); row++) {
                bool final = PQgetvalue(res, row, 3)[0] == 't';
                int64_t rev = strtoll(PQgetvalue(res, row, 2), NULL, 10);
                const red_cell_t *out;
                cell_ref_t *ref;
                red_uuid_t id;

                if (red_uuid_parse(PQgetvalue(res, row, 0), 36, &id) ||
                    !(ref = red_map_find(s->by_id, red_uuid_hash(&id), ref_eq,
                                         &id)) ||
                    red_cell_agg(ref->cell) != a) {
                        snprintf(errstr, size,
                                 "table %s returned an unknown cell %s",
                                 a->table, PQgetvalue(res, row, 0));
                        return RED_SINK_FATAL;
                }
                out = ref->cell;
                if (rev > 0) {
                        unsigned char *state;
                        size_t slen;
                        red_cell_t *m = cell_like(ref->cell,
                                                  s->c->sketch_alpha);

                        state = PQunescapeBytea((const unsigned char *)
                                                        PQgetvalue(res, row, 1),
                                                &slen);
                        if (m) {
                                q->merged[q->nmerged++] = m;
                        }
                        errstr[0] = '\0';
                        if (!m || !state ||
                            red_cell_merge_serialized(m, state, slen, errstr,
                                                      size) ||
                            red_cell_merge(m, ref->cell, errstr, size)) {
                                PQfreemem(state);
                                if (!errstr[0]) {
                                        snprintf(errstr, size,
                                                 "out of memory");
                                }
                                return RED_SINK_FATAL;
                        }
                        PQfreemem(state);
                        out = m;
                }
                if (cell_line(s, &q->lines, out, &ref->id, rev + 1, true)) {
                        snprintf(errstr, size, "out of memory");
                        return RED_SINK_RETRY;
                }
                cell_outbox(s, out, &ref->id, rev + 1, final);
        }
        PQclear(q->state);
        q->state = NULL;
        return RED_SINK_OK;
}

/* Phase C: the merged rows written back. */
static red_sink_result_t agg_store(red_sink_t *s, size_t idx, char *errstr,
                                   size_t size)
{
        agg_sql_t *q = &s->aggs[idx];
        red_sink_result_t r;
        char truncate[64];

        if (!q->n) {
                return RED_SINK_OK;
        }
        snprintf(truncate, sizeof(truncate), "TRUNCATE %s", q->tmp);
        if ((r = red_sink_exec(s, truncate, errstr, size)) ||
            (r = red_sink_copy_in(s, q->copy_tmp, &q->lines, errstr, size)) ||
            (r = red_sink_exec(s, q->update, errstr, size))) {
                return r;
        }
        s->last_rows += q->n;
        return RED_SINK_OK;
}

/* ------------------------------------------------------------------ */
/* client work while Postgres finishes a COPY                          */
/* ------------------------------------------------------------------ */

/* The next step of the batch's own computing: the core's events applied,
 * then (once the cells are locked) the cells merged. */
static red_sink_result_t idle_step(red_sink_t *s, char *errstr, size_t size)
{
        red_sink_result_t r = RED_SINK_OK;
        idle_work_t w = s->idle;

        s->idle = IDLE_NONE;
        if (w == IDLE_PROCESS && red_core_process(s->batch_core)) {
                snprintf(errstr, size, "out of memory");
                r = RED_SINK_RETRY;
        }
        for (size_t i = 0; w == IDLE_MERGE && !r && i < s->c->agg_cnt; i++) {
                r = agg_merge(s, i, errstr, size);
        }
        return r;
}

void red_sink_idle(red_sink_t *s)
{
        if (s->idle != IDLE_NONE && s->idle_rc == RED_SINK_OK) {
                s->idle_rc = idle_step(s, s->idle_err, sizeof(s->idle_err));
        }
}

/* Runs the pending step now; a step that failed while a COPY was in
 * flight reports here. */
static red_sink_result_t idle_finish(red_sink_t *s, char *errstr, size_t size)
{
        red_sink_idle(s);
        if (s->idle_rc) {
                snprintf(errstr, size, "%s", s->idle_err);
        }
        return s->idle_rc;
}

red_sink_result_t red_sink_lock_cells(red_sink_t *s, char *errstr,
                                      size_t size)
{
        red_cell_t **cells;
        size_t ncells;
        red_sink_result_t r;

        if (s->cells_locked) {
                return RED_SINK_OK;
        }
        if ((r = idle_finish(s, errstr, size))) {
                return r;
        }
        s->cells_locked = true;
        red_map_clear(s->by_id);
        cells = red_aggregator_cells(red_core_cells(s->batch_core), &ncells);
        for (size_t i = 0; i < s->c->agg_cnt; i++) {
                if ((r = agg_lock(s, i, cells, ncells, errstr, size))) {
                        return r;
                }
        }
        if (s->c->agg_cnt) {
                s->idle = IDLE_MERGE;
        }
        return RED_SINK_OK;
}

/* ------------------------------------------------------------------ */
/* the batch transaction                                               */
/* ------------------------------------------------------------------ */

/*
 * The order keeps both processes busy: the core's events are applied while
 * Postgres inserts the first raw table, the cells are locked before the last
 * one and merged while Postgres inserts it.
 */
red_sink_result_t red_sink_write(red_sink_t *s, red_core_t *core,
                                 const red_sink_offset_t *offs, size_t cnt,
                                 int generation, char *errstr,
                                 size_t errstr_size)
{
        red_sink_result_t r;
        char ignore[256];

        errstr[0] = '\0';
        s->last_rows = 0;
        if (!red_sink_connected(s)) {
                snprintf(errstr, errstr_size, "not connected to PostgreSQL");
                return RED_SINK_RETRY;
        }
        red_buf_reset(&s->out);
        s->batch_core = core;
        s->idle = IDLE_PROCESS;
        s->idle_rc = RED_SINK_OK;
        s->cells_locked = false;
        if ((r = red_sink_exec(s, "BEGIN", errstr, errstr_size))) {
                goto rollback;
        }
        if (cnt && (r = advance_offsets(s, offs, cnt, generation, errstr,
                                        errstr_size))) {
                goto rollback;
        }
        if ((r = red_sink_raw_write(s, core, errstr, errstr_size)) ||
            (r = red_sink_lock_cells(s, errstr, errstr_size)) ||
            (r = idle_finish(s, errstr, errstr_size)) ||
            (r = write_fsm(s, core, errstr, errstr_size))) {
                goto rollback;
        }
        fsm_outbox(s, core);
        for (size_t i = 0; i < s->c->agg_cnt; i++) {
                if ((r = agg_store(s, i, errstr, errstr_size))) {
                        goto rollback;
                }
        }
        if ((r = red_sink_alert_write(s, core, errstr, errstr_size))) {
                goto rollback;
        }
        if (s->out.len) {
                if ((r = red_sink_copy_in(s,
                                 "COPY reducerd_outbox (topic, key, payload) "
                                 "FROM STDIN",
                                 &s->out, errstr, errstr_size)) ||
                    (r = red_sink_exec(s, "NOTIFY reducerd_outbox", errstr,
                              errstr_size))) {
                        goto rollback;
                }
        }
        red_failpoint("before_commit");
        if ((r = red_sink_exec(s, "COMMIT", errstr, errstr_size))) {
                /* the outcome is unknown: the offsets CAS decides on the
                 * next attempt */
                goto done;
        }
        red_failpoint("after_commit");
        red_sink_alert_log(s, core);
        goto done;
rollback:
        if (red_sink_connected(s) &&
            red_pg_exec(s->conn, "ROLLBACK", ignore, sizeof(ignore))) {
                /* connection gone: the server rolls back */
        }
        red_partition_cache_clear(s->parts);
done:
        /* the core's events stay applied when the write fails: the retry
         * writes the same cells */
        if (s->idle == IDLE_PROCESS && red_core_process(core)) {
                snprintf(errstr, errstr_size, "out of memory");
                r = r ? r : RED_SINK_RETRY;
        }
        s->idle = IDLE_NONE;
        s->batch_core = NULL;
        for (size_t i = 0; i < s->c->agg_cnt; i++) {
                agg_batch_clear(&s->aggs[i]);
        }
        return r;
}

/* ------------------------------------------------------------------ */
/* finalisation                                                        */
/* ------------------------------------------------------------------ */

red_sink_result_t red_sink_finalize(red_sink_t *s, long *finalized,
                                    char *errstr, size_t errstr_size)
{
        char grace[32];

        *finalized = 0;
        if (!red_sink_connected(s)) {
                snprintf(errstr, errstr_size, "not connected to PostgreSQL");
                return RED_SINK_RETRY;
        }
        snprintf(grace, sizeof(grace), "%.6f",
                 (double)s->c->grace_us / 1e6);
        for (size_t i = 0; i < s->c->agg_cnt; i++) {
                const red_agg_t *a = &s->c->aggs[i];
                const char *vals[5] = {s->c->consumer_group, grace,
                                       a->publish.topic, a->publish.event_type,
                                       s->instance};
                char sql[3072];
                PGresult *res;

                if (a->publish.topic) {
                        snprintf(
                                sql, sizeof(sql),
                                "WITH wm AS (SELECT min(watermark) AS w FROM "
                                "reducerd_offsets WHERE consumer_group = $1), "
                                "fin AS (UPDATE %s t SET finalized_at = now(), "
                                "updated_at = now() FROM wm WHERE "
                                "t.finalized_at IS NULL AND wm.w IS NOT NULL "
                                "AND t.window_end + make_interval(secs => "
                                "$2::float8) <= wm.w RETURNING t.*) INSERT "
                                "INTO reducerd_outbox (topic, key, payload) "
                                "SELECT $3, f.aggregation_id::text, "
                                "jsonb_build_object('envelope_version', '1.0', "
                                "'event_id', gen_random_uuid(), 'event_type', "
                                "$4::text, 'event_version', '1.0', "
                                "'event_timestamp', to_char(now() AT TIME ZONE "
                                "'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
                                "'source_service', 'reducerd', "
                                "'source_instance', $5::text, "
                                "'correlation_id', f.aggregation_id, "
                                "'payload', (to_jsonb(f) - 'state' - "
                                "'updated_at' - 'finalized_at') || "
                                "jsonb_build_object('window_start', "
                                "to_char(f.window_start AT TIME ZONE 'UTC', "
                                "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
                                "'window_end', to_char(f.window_end AT TIME "
                                "ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
                                "'final', true))::text FROM fin f",
                                s->aggs[i].table);
                } else {
                        snprintf(sql, sizeof(sql),
                                 "WITH wm AS (SELECT min(watermark) AS w "
                                 "FROM reducerd_offsets WHERE consumer_group "
                                 "= $1) UPDATE %s t SET finalized_at = now(), "
                                 "updated_at = now() FROM wm WHERE "
                                 "t.finalized_at IS NULL AND wm.w IS NOT "
                                 "NULL AND t.window_end + make_interval(secs "
                                 "=> $2::float8) <= wm.w",
                                 s->aggs[i].table);
                }
                res = PQexecParams(s->conn, sql, a->publish.topic ? 5 : 2,
                                   NULL, vals, NULL, NULL, 0);
                if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                        red_sink_result_t r = red_sink_classify(s, res, errstr,
                                                       errstr_size);
                        PQclear(res);
                        return r;
                }
                *finalized += atol(PQcmdTuples(res));
                PQclear(res);
        }
        if (*finalized) {
                return red_sink_exec(s, "NOTIFY reducerd_outbox", errstr, errstr_size);
        }
        return RED_SINK_OK;
}
