/*
 * bench_db - the PostgreSQL a benchmark writes to (the PG* variables, as
 * `./dev pg` prints them). Bench code only: it exits on a failure.
 */
#ifndef BENCH_DB_H
#define BENCH_DB_H

#include <libpq-fe.h>

/** A connection to database @p db of the PG* server. */
PGconn *bench_db_connect(const char *db);

/** Runs @p sql, which must succeed. */
void bench_db_exec(PGconn *c, const char *sql);

/** The messages reducerd has committed (reducerd_offsets), or -1. */
long bench_db_committed(PGconn *c);

#endif
