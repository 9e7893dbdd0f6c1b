/*
 * bench_db - the PostgreSQL a benchmark writes to (the PG* variables, as
 * `./dev pg` prints them). Bench code only: it exits on a failure.
 */
#ifndef BENCH_DB_H
#define BENCH_DB_H

#include <libpq-fe.h>
#include <stddef.h>

/** A connection to database @p db of the PG* server. */
PGconn *bench_db_connect(const char *db);

/** Runs @p sql, which must succeed. */
void bench_db_exec(PGconn *c, const char *sql);

/** Starts COPY statement @p sql (... FROM STDIN). */
void bench_db_copy_start(PGconn *c, const char *sql);

/** Sends @p len bytes of COPY text. */
void bench_db_copy_put(PGconn *c, const char *data, size_t len);

/** Ends the COPY, which must succeed. */
void bench_db_copy_end(PGconn *c);

/** The messages reducerd has committed (reducerd_offsets), or -1. */
long bench_db_committed(PGconn *c);

#endif
