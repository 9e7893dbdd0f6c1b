/* red_sink_io - the sink's connection, statements, COPY, failure classes. */
#include "red_sink_io.h"

#include "red_partition.h"
#include "red_pg.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A partition a batch needs and found missing (red_sink_io_defer()). */
typedef struct noted_s {
        char table[80];
        red_partition_t gran;
        int fillfactor;
        red_time_t from, to; /* its range: one note per partition */
} noted_t;

struct red_sink_io_s {
        char *conninfo;
        PGconn *conn;
        char where[256];
        red_partition_cache_t *parts; /* partitions known to exist */
        bool created_in_tx; /* ensured in the transaction: maybe created */
        bool defer;         /* missing ones are noted, not created */
        noted_t *noted;
        size_t noted_cnt, noted_cap;
        red_sink_io_idle_fn *idle;
        void *idle_arg;
        long rejected_line; /* of the COPY whose data was refused, or 0 */
};

red_sink_io_t *red_sink_io_new(const char *conninfo)
{
        red_sink_io_t *io = calloc(1, sizeof(*io));

        if (!io) {
                return NULL;
        }
        io->conninfo = strdup(conninfo ? conninfo : "");
        io->parts = red_partition_cache_new();
        if (!io->conninfo || !io->parts) {
                red_sink_io_destroy(io);
                return NULL;
        }
        return io;
}

void red_sink_io_destroy(red_sink_io_t *io)
{
        if (!io) {
                return;
        }
        red_sink_io_disconnect(io);
        red_partition_cache_destroy(io->parts);
        free(io->noted);
        free(io->conninfo);
        free(io);
}

void red_sink_io_disconnect(red_sink_io_t *io)
{
        if (io->conn) {
                PQfinish(io->conn);
                io->conn = NULL;
        }
        red_partition_cache_clear(io->parts);
}

int red_sink_io_connect(red_sink_io_t *io, char *errstr, size_t size)
{
        red_sink_io_disconnect(io);
        if (!(io->conn = red_pg_connect(io->conninfo, errstr, size))) {
                return -1;
        }
        red_pg_describe(io->conn, io->where, sizeof(io->where));
        if (red_sink_io_run(io,
                            "SET TIME ZONE 'UTC'; SET client_min_messages = "
                            "warning; SET synchronous_commit = on",
                            errstr, size)) {
                red_sink_io_disconnect(io);
                return -1;
        }
        return 0;
}

bool red_sink_io_connected(const red_sink_io_t *io)
{
        return io->conn && PQstatus(io->conn) == CONNECTION_OK;
}

const char *red_sink_io_where(const red_sink_io_t *io)
{
        return io->where;
}

long red_sink_io_rejected_line(const red_sink_io_t *io)
{
        return io->rejected_line;
}

void red_sink_io_on_idle(red_sink_io_t *io, red_sink_io_idle_fn *fn, void *arg)
{
        io->idle = fn;
        io->idle_arg = arg;
}

/* --- statements ----------------------------------------------------- */

/* The input line a COPY's error context names ("COPY t, line 3, column
 * v: ..."), or 0. */
static long copy_line(const PGresult *res)
{
        const char *ctx = PQresultErrorField(res, PG_DIAG_CONTEXT);
        const char *at;

        if (!ctx || strncmp(ctx, "COPY ", 5) ||
            !(at = strstr(ctx, ", line "))) {
                return 0;
        }
        return strtol(at + 7, NULL, 10);
}

/* A data error (SQLSTATE class 22 or 23): the server's words for the dead
 * letter, "SQLSTATE 22003: ..." with the primary message only. */
static red_sink_result_t rejected(red_sink_io_t *io, const PGresult *res,
                                  const char *state, char *errstr, size_t size)
{
        const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

        io->rejected_line = copy_line(res);
        snprintf(errstr, size, "SQLSTATE %s: %s", state, msg ? msg : "");
        return RED_SINK_REJECTED;
}

/* What a failed statement means for the batch, from its SQLSTATE. */
static red_sink_result_t classify(red_sink_io_t *io, const PGresult *res,
                                  red_sink_result_t on_unique, char *errstr,
                                  size_t size)
{
        const char *state =
                res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

        red_pg_error(io->conn, res, errstr, size);
        if (state && !strcmp(state, "23505") && on_unique != RED_SINK_OK) {
                return on_unique;
        }
        if (state && !strcmp(state, "23514") &&
            strstr(errstr, "no partition")) {
                /* a partition we believed in was dropped */
                red_partition_cache_clear(io->parts);
                return RED_SINK_RETRY;
        }
        if (state && (!strncmp(state, "22", 2) || !strncmp(state, "23", 2))) {
                return rejected(io, res, state, errstr, size);
        }
        return red_pg_retriable(io->conn, res) ? RED_SINK_RETRY
                                               : RED_SINK_FATAL;
}

/* The one check of a result: @p want (or, for PGRES_COMMAND_OK, rows as
 * well) is success; a failure is classified. The result goes to *@p resp
 * on success when asked for, and is cleared otherwise. */
static red_sink_result_t finish(red_sink_io_t *io, PGresult *res,
                                ExecStatusType want,
                                red_sink_result_t on_unique, PGresult **resp,
                                char *errstr, size_t size)
{
        ExecStatusType st = PQresultStatus(res);
        red_sink_result_t r = RED_SINK_OK;

        if (st != want &&
            !(want == PGRES_COMMAND_OK && st == PGRES_TUPLES_OK)) {
                r = classify(io, res, on_unique, errstr, size);
        }
        if (resp && !r) {
                *resp = res;
        } else {
                PQclear(res);
        }
        return r;
}

PGconn *red_sink_io_conn(red_sink_io_t *io)
{
        return io->conn;
}

red_sink_result_t red_sink_io_exec(red_sink_io_t *io, const char *sql, int n,
                                   const char *const *params, PGresult **resp,
                                   char *errstr, size_t size)
{
        PGresult *res =
                n ? PQexecParams(io->conn, sql, n, NULL, params, NULL, NULL, 0)
                  : PQexec(io->conn, sql);

        if (resp) {
                *resp = NULL;
        }
        return finish(io, res, PGRES_COMMAND_OK, RED_SINK_OK, resp, errstr,
                      size);
}

red_sink_result_t red_sink_io_exec_json(red_sink_io_t *io, const char *sql,
                                        const char *contract,
                                        const red_buf_t *json, PGresult **resp,
                                        char *errstr, size_t size)
{
        const char *vals[2] = {contract, json->data};

        if (json->failed || !json->data) {
                snprintf(errstr, size, "out of memory");
                return RED_SINK_RETRY;
        }
        return red_sink_io_exec(io, sql, 2, vals, resp, errstr, size);
}

red_sink_result_t red_sink_io_run(red_sink_io_t *io, const char *sql,
                                  char *errstr, size_t size)
{
        return red_sink_io_exec(io, sql, 0, NULL, NULL, errstr, size);
}

void red_sink_io_rollback(red_sink_io_t *io)
{
        char ignore[256];

        if (red_sink_io_connected(io) &&
            red_sink_io_run(io, "ROLLBACK", ignore, sizeof(ignore))) {
                /* connection gone: the server rolls back */
        }
        if (io->created_in_tx) {
                red_partition_cache_clear(io->parts);
        }
        io->created_in_tx = false;
}

/* --- COPY ----------------------------------------------------------- */

red_sink_result_t red_sink_io_copy_begin(red_sink_io_t *io, const char *sql,
                                         char *errstr, size_t size)
{
        return finish(io, PQexec(io->conn, sql), PGRES_COPY_IN, RED_SINK_OK,
                      NULL, errstr, size);
}

red_sink_result_t red_sink_io_copy_send(red_sink_io_t *io, red_buf_t *data,
                                        char *errstr, size_t size)
{
        if (data->failed) {
                snprintf(errstr, size, "out of memory");
                return RED_SINK_RETRY;
        }
        if (data->len &&
            PQputCopyData(io->conn, data->data, (int)data->len) != 1) {
                red_pg_error(io->conn, NULL, errstr, size);
                return RED_SINK_RETRY;
        }
        red_buf_reset(data);
        return RED_SINK_OK;
}

red_sink_result_t red_sink_io_copy_end(red_sink_io_t *io,
                                       red_sink_result_t on_unique,
                                       char *errstr, size_t size)
{
        red_sink_result_t r = RED_SINK_OK;
        PGresult *res;

        io->rejected_line = 0;
        if (PQputCopyEnd(io->conn, NULL) != 1) {
                red_pg_error(io->conn, NULL, errstr, size);
                return RED_SINK_RETRY;
        }
        /* Postgres still parses and inserts what it was sent: the client's
         * next computation runs meanwhile instead of after the COPY */
        if (io->idle) {
                io->idle(io->idle_arg);
        }
        while ((res = PQgetResult(io->conn))) {
                if (r) {
                        PQclear(res); /* the first failure tells */
                } else {
                        r = finish(io, res, PGRES_COMMAND_OK, on_unique, NULL,
                                   errstr, size);
                }
        }
        return r;
}

red_sink_result_t red_sink_io_copy_in(red_sink_io_t *io, const char *sql,
                                      const red_buf_t *data, char *errstr,
                                      size_t size)
{
        red_sink_result_t r;

        if (data->failed) {
                snprintf(errstr, size, "out of memory");
                return RED_SINK_RETRY;
        }
        if ((r = red_sink_io_copy_begin(io, sql, errstr, size))) {
                return r;
        }
        if (data->len &&
            PQputCopyData(io->conn, data->data, (int)data->len) != 1) {
                red_pg_error(io->conn, NULL, errstr, size);
                return RED_SINK_RETRY;
        }
        return red_sink_io_copy_end(io, RED_SINK_OK, errstr, size);
}

/* --- schema and partitions ------------------------------------------ */

int red_sink_io_check_columns(red_sink_io_t *io, const char *contract,
                              const char *table, const char *const *cols,
                              size_t cnt, char *errstr, size_t size)
{
        const char *vals[1] = {table};
        PGresult *res;
        int rows, r = 0;

        if (red_sink_io_exec(io,
                             "SELECT column_name FROM "
                             "information_schema.columns WHERE table_schema "
                             "= current_schema() AND table_name = $1",
                             1, vals, &res, errstr, size)) {
                return -1;
        }
        rows = PQntuples(res);
        if (rows == 0) {
                snprintf(errstr, size,
                         "table %s does not exist (contract %s): run "
                         "reducerd migrate, which creates the contract's "
                         "tables",
                         table, contract);
                r = -1;
        }
        for (size_t i = 0; !r && i < cnt; i++) {
                int row = 0;

                while (row < rows && strcmp(PQgetvalue(res, row, 0), cols[i])) {
                        row++;
                }
                if (row == rows) {
                        snprintf(errstr, size,
                                 "table %s has no column %s, which contract "
                                 "%s writes: run reducerd migrate, which adds "
                                 "it",
                                 table, cols[i], contract);
                        r = -1;
                }
        }
        PQclear(res);
        return r;
}

/* Notes the partition of @p table for @p t (not noted yet: noted()). */
static int note(red_sink_io_t *io, const char *table, red_partition_t gran,
                int fillfactor, red_time_t t)
{
        char name[128];
        red_time_t from, to;
        noted_t *n;

        red_partition_of(table, gran, t, name, sizeof(name), &from, &to);
        if (strlen(table) >= sizeof(n->table)) {
                return -1;
        }
        if (io->noted_cnt == io->noted_cap) {
                size_t cap = io->noted_cap ? 2 * io->noted_cap : 8;
                noted_t *nn = realloc(io->noted, cap * sizeof(*nn));
                if (!nn) {
                        return -1;
                }
                io->noted = nn;
                io->noted_cap = cap;
        }
        n = &io->noted[io->noted_cnt++];
        snprintf(n->table, sizeof(n->table), "%s", table);
        n->gran = gran;
        n->fillfactor = fillfactor;
        n->from = from;
        n->to = to;
        return 0;
}

/* Already noted: no second look-up for each row of a missing day. */
static bool noted(const red_sink_io_t *io, const char *table,
                  red_partition_t gran, red_time_t t)
{
        for (size_t i = 0; i < io->noted_cnt; i++) {
                const noted_t *n = &io->noted[i];
                if (n->gran == gran && t >= n->from && t < n->to &&
                    !strcmp(n->table, table)) {
                        return true;
                }
        }
        return false;
}

red_sink_result_t red_sink_io_partition(red_sink_io_t *io, const char *table,
                                        red_partition_t gran, int fillfactor,
                                        red_time_t t, char *errstr, size_t size)
{
        int there;

        if (!io->defer) {
                if (red_partition_ensure(io->conn, io->parts, table, gran,
                                         fillfactor, t, errstr, size)) {
                        return RED_SINK_RETRY;
                }
                io->created_in_tx = true;
                return RED_SINK_OK;
        }
        if (noted(io, table, gran, t)) {
                return RED_SINK_OK;
        }
        if ((there = red_partition_exists(io->conn, io->parts, table, gran, t,
                                          errstr, size)) < 0) {
                return RED_SINK_RETRY;
        }
        if (!there && note(io, table, gran, fillfactor, t)) {
                snprintf(errstr, size, "out of memory");
                return RED_SINK_RETRY;
        }
        return RED_SINK_OK;
}

void red_sink_io_defer(red_sink_io_t *io, bool on)
{
        io->defer = on;
        io->noted_cnt = 0;
}

red_sink_result_t red_sink_io_noted(const red_sink_io_t *io, char *errstr,
                                    size_t size)
{
        if (!io->noted_cnt) {
                return RED_SINK_OK;
        }
        snprintf(errstr, size, "partition %s (%s) is missing",
                 io->noted[0].table,
                 io->noted[0].gran == RED_PART_DAILY ? "daily" : "monthly");
        return RED_SINK_PARTITIONS;
}

red_sink_result_t red_sink_io_create_noted(red_sink_io_t *io, char *errstr,
                                           size_t size)
{
        for (size_t i = 0; i < io->noted_cnt; i++) {
                const noted_t *n = &io->noted[i];
                if (red_partition_create_alone(io->conn, io->parts, n->table,
                                               n->gran, n->fillfactor, n->from,
                                               errstr, size)) {
                        return RED_SINK_RETRY;
                }
        }
        io->noted_cnt = 0;
        return RED_SINK_OK;
}

/* --- COPY text format ----------------------------------------------- */

void red_sink_io_put_time(red_buf_t *b, red_time_t t)
{
        char ts[RED_TIME_FMT_SIZE];

        red_time_format(t, ts, sizeof(ts));
        red_buf_puts(b, ts);
}

void red_sink_io_put_uuid(red_buf_t *b, const red_uuid_t *u)
{
        char s[RED_UUID_STR_SIZE];

        red_uuid_format(u, s);
        red_buf_append(b, s, 36);
}

void red_sink_io_put_object(red_buf_t *b, const red_value_t *v)
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

void red_sink_io_put_bytea(red_buf_t *b, const char *data, size_t len)
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

void red_sink_io_put_array_elem(red_buf_t *b, const char *p, size_t len)
{
        red_buf_putc(b, '"');
        for (size_t i = 0; i < len; i++) {
                if (p[i] == '"' || p[i] == '\\') {
                        red_buf_putc(b, '\\');
                }
                red_buf_putc(b, p[i]);
        }
        red_buf_putc(b, '"');
}
