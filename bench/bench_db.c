/* bench_db - the benchmarks' PostgreSQL connection and statements. */
#include "bench_db.h"

#include "red_time.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The longest row bench_db_copy_rate() takes, and its buffer. */
#define ROW_MAX  1024
#define COPY_BUF (4 * 1024 * 1024)

PGconn *bench_db_connect(const char *db)
{
        char ci[128];
        PGconn *c;

        snprintf(ci, sizeof(ci), "dbname=%s", db);
        c = PQconnectdb(ci);
        if (PQstatus(c) != CONNECTION_OK) {
                fprintf(stderr, "bench: %s (set PG* as ./dev pg prints)\n",
                        PQerrorMessage(c));
                exit(1);
        }
        return c;
}

void bench_db_exec(PGconn *c, const char *sql)
{
        PGresult *r = PQexec(c, sql);

        if (PQresultStatus(r) != PGRES_COMMAND_OK &&
            PQresultStatus(r) != PGRES_TUPLES_OK) {
                fprintf(stderr, "bench: %s: %s\n", sql,
                        PQresultErrorMessage(r));
                exit(1);
        }
        PQclear(r);
}

static void fail(PGconn *c, const char *what)
{
        fprintf(stderr, "bench: %s: %s\n", what, PQerrorMessage(c));
        exit(1);
}

void bench_db_copy_start(PGconn *c, const char *sql)
{
        PGresult *r = PQexec(c, sql);

        if (PQresultStatus(r) != PGRES_COPY_IN) {
                fail(c, sql);
        }
        PQclear(r);
}

void bench_db_copy_put(PGconn *c, const char *data, size_t len)
{
        if (len && PQputCopyData(c, data, (int)len) != 1) {
                fail(c, "COPY");
        }
}

void bench_db_copy_end(PGconn *c)
{
        PGresult *r;

        if (PQputCopyEnd(c, NULL) != 1) {
                fail(c, "COPY");
        }
        while ((r = PQgetResult(c))) {
                if (PQresultStatus(r) != PGRES_COMMAND_OK) {
                        fprintf(stderr, "bench: COPY: %s\n",
                                PQresultErrorMessage(r));
                        exit(1);
                }
                PQclear(r);
        }
}

double bench_db_copy_rate(PGconn *c, const char *like, const char *columns,
                          long n, bench_db_row_fn row)
{
        char *buf = malloc(COPY_BUF), sql[1024];
        size_t len = 0;
        int64_t t0, t1;

        if (!buf) {
                fprintf(stderr, "bench: out of memory\n");
                exit(1);
        }
        snprintf(sql, sizeof(sql),
                 "CREATE TABLE bench_copy (LIKE %s INCLUDING ALL)", like);
        bench_db_exec(c, sql);
        snprintf(sql, sizeof(sql), "COPY bench_copy (%s) FROM STDIN", columns);
        t0 = red_time_mono_us();
        bench_db_copy_start(c, sql);
        for (long i = 0; i < n; i++) {
                int w;
                if (COPY_BUF - len < ROW_MAX) {
                        bench_db_copy_put(c, buf, len);
                        len = 0;
                }
                w = row(buf + len, ROW_MAX, i);
                if (w < 0 || w >= ROW_MAX) {
                        fprintf(stderr, "bench: COPY row %ld: over %d bytes\n",
                                i, ROW_MAX);
                        exit(1);
                }
                len += (size_t)w;
        }
        bench_db_copy_put(c, buf, len);
        bench_db_copy_end(c);
        t1 = red_time_mono_us();
        free(buf);
        bench_db_exec(c, "DROP TABLE bench_copy");
        return (double)n * 1e6 / (double)(t1 - t0);
}

long bench_db_committed(PGconn *c)
{
        PGresult *r = PQexec(c, "SELECT coalesce(sum(greatest(next_offset, "
                                "0)), 0) FROM reducerd_offsets");
        long n = PQresultStatus(r) == PGRES_TUPLES_OK
                         ? atol(PQgetvalue(r, 0, 0))
                         : -1;

        PQclear(r);
        return n;
}
