/* bench_db - the benchmarks' PostgreSQL connection and statements. */
#include "bench_db.h"

#include <stdio.h>
#include <stdlib.h>

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
