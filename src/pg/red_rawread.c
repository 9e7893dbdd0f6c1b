/* red_rawread - raw rows back as events, in event-time order. */
#include "red_rawread.h"

#include "red_buf.h"
#include "red_ddl.h"
#include "red_pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct red_rawread_s {
        PGconn *conn;
        red_time_t snapshot;
        PGresult *rows; /* of the last fetch */
};

/* SELECT src, time, json FROM one source's table in the time range. */
static void source_sql(red_buf_t *b, const red_rebuild_src_t *s, size_t idx)
{
        const red_raw_t *r = s->raw;

        red_buf_printf(b, "SELECT %zu AS src, (extract(epoch FROM t.", idx);
        red_ddl_ident(b, r->time_column);
        red_buf_puts(b, ") * 1000000)::bigint AS at, json_build_object("
                        "'event_type', ");
        red_buf_printf(b, "$%zu::text, 'event_timestamp', t.", idx + 3);
        red_ddl_ident(b, r->time_column);
        for (size_t k = 0; k < s->kind->field_cnt; k++) {
                const red_field_t *f = &s->kind->fields[k];
                const char *col = red_rebuild_column(r, f->slot);

                if (!col) {
                        continue;
                }
                red_buf_puts(b, ", ");
                /* field names are validated identifiers */
                red_ddl_literal(b, f->name);
                red_buf_puts(b, ", t.");
                red_ddl_ident(b, col);
        }
        red_buf_puts(b, ")::text AS ev FROM ");
        red_ddl_ident(b, s->table);
        red_buf_puts(b, " t WHERE t.");
        red_ddl_ident(b, r->time_column);
        red_buf_puts(b, " >= coalesce($1::timestamptz, '-infinity') AND t.");
        red_ddl_ident(b, r->time_column);
        red_buf_puts(b, " < coalesce($2::timestamptz, 'infinity')");
}

void red_rawread_close(red_rawread_t *rd)
{
        if (!rd) {
                return;
        }
        PQclear(rd->rows);
        if (rd->conn) {
                PQfinish(rd->conn);
        }
        free(rd);
}

static const char *bound(red_time_t t, char *buf, size_t size)
{
        if (t == INT64_MIN || t == INT64_MAX) {
                return NULL;
        }
        red_time_format(t, buf, size);
        return buf;
}

red_rawread_t *red_rawread_open(const char *conninfo,
                                const red_rebuild_src_t *srcs, size_t cnt,
                                red_time_t from, red_time_t to, char *errstr,
                                size_t size)
{
        red_rawread_t *rd = calloc(1, sizeof(*rd));
        char f[RED_TIME_FMT_SIZE], t[RED_TIME_FMT_SIZE];
        const char **vals = calloc(cnt + 3, sizeof(*vals));
        PGresult *res = NULL;
        red_buf_t q;

        red_buf_init(&q);
        if (!rd || !vals) {
                snprintf(errstr, size, "out of memory");
                goto err;
        }
        if (!(rd->conn = red_pg_connect(conninfo, errstr, size))) {
                goto err;
        }
        /* one snapshot for every table, and times printed in UTC */
        if (red_pg_exec(rd->conn,
                        "SET TIME ZONE 'UTC'; BEGIN ISOLATION LEVEL "
                        "REPEATABLE READ READ ONLY",
                        errstr, size)) {
                goto err;
        }
        res = PQexec(rd->conn, "SELECT (extract(epoch FROM now()) * "
                               "1000000)::bigint");
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                red_pg_error(rd->conn, res, errstr, size);
                goto err;
        }
        rd->snapshot = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
        res = NULL;
        red_buf_puts(&q, "DECLARE red_rawread NO SCROLL CURSOR FOR ");
        for (size_t i = 0; i < cnt; i++) {
                if (i) {
                        red_buf_puts(&q, " UNION ALL ");
                }
                source_sql(&q, &srcs[i], i);
                vals[i + 2] = srcs[i].kind->types[0];
        }
        red_buf_puts(&q, " ORDER BY at, src");
        vals[0] = bound(from, f, sizeof(f));
        vals[1] = bound(to, t, sizeof(t));
        if (q.failed) {
                snprintf(errstr, size, "raw tables: an unusable name");
                goto err;
        }
        res = PQexecParams(rd->conn, q.data, (int)cnt + 2, NULL, vals, NULL,
                           NULL, 0);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                red_pg_error(rd->conn, res, errstr, size);
                goto err;
        }
        PQclear(res);
        red_buf_destroy(&q);
        free(vals);
        return rd;
err:
        PQclear(res);
        red_buf_destroy(&q);
        free(vals);
        red_rawread_close(rd);
        return NULL;
}

red_time_t red_rawread_snapshot(const red_rawread_t *rd)
{
        return rd->snapshot;
}

long red_rawread_next(red_rawread_t *rd, size_t max, char *errstr, size_t size)
{
        char sql[64];

        PQclear(rd->rows);
        snprintf(sql, sizeof(sql), "FETCH %zu FROM red_rawread", max);
        rd->rows = PQexec(rd->conn, sql);
        if (PQresultStatus(rd->rows) != PGRES_TUPLES_OK) {
                red_pg_error(rd->conn, rd->rows, errstr, size);
                PQclear(rd->rows);
                rd->rows = NULL;
                return -1;
        }
        return PQntuples(rd->rows);
}

const char *red_rawread_row(const red_rawread_t *rd, size_t i, size_t *len,
                            size_t *src, red_time_t *time)
{
        *src = strtoul(PQgetvalue(rd->rows, (int)i, 0), NULL, 10);
        *time = strtoll(PQgetvalue(rd->rows, (int)i, 1), NULL, 10);
        *len = (size_t)PQgetlength(rd->rows, (int)i, 2);
        return PQgetvalue(rd->rows, (int)i, 2);
}

int red_rawread_since(PGconn *conn, const red_rebuild_src_t *srcs, size_t cnt,
                      red_time_t since, red_time_t oldest, red_time_t *first,
                      char *errstr, size_t size)
{
        char ts[RED_TIME_FMT_SIZE], old[RED_TIME_FMT_SIZE];
        const char *vals[2] = {ts, old};
        PGresult *res;
        red_buf_t q;
        int r = -1;

        *first = INT64_MAX;
        red_time_format(since, ts, sizeof(ts));
        red_time_format(oldest, old, sizeof(old));
        red_buf_init(&q);
        red_buf_puts(&q, "SELECT (extract(epoch FROM min(at)) * "
                         "1000000)::bigint FROM (");
        for (size_t i = 0; i < cnt; i++) {
                red_buf_puts(&q, i ? " UNION ALL SELECT min(t."
                                   : "SELECT "
                                     "min(t.");
                red_ddl_ident(&q, srcs[i].raw->time_column);
                red_buf_puts(&q, ") AS at FROM ");
                red_ddl_ident(&q, srcs[i].table);
                red_buf_puts(&q, " t WHERE t.created_at >= $1::timestamptz "
                                 "AND t.");
                red_ddl_ident(&q, srcs[i].raw->time_column);
                red_buf_puts(&q, " >= $2::timestamptz");
        }
        red_buf_puts(&q, ") s");
        if (q.failed) {
                snprintf(errstr, size, "raw tables: an unusable name");
                red_buf_destroy(&q);
                return -1;
        }
        res = PQexecParams(conn, q.data, 2, NULL, vals, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                red_pg_error(conn, res, errstr, size);
        } else {
                if (!PQgetisnull(res, 0, 0)) {
                        *first = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
                }
                r = 0;
        }
        PQclear(res);
        red_buf_destroy(&q);
        return r;
}
