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

/** Writes COPY text row @p i (with its newline) into @p buf, which has
 * room for @p size bytes; returns the row's length (snprintf's). */
typedef int (*bench_db_row_fn)(char *buf, size_t size, long i);

/**
 * The database write limit: rows/s of one COPY of @p n rows, written by
 * @p row, into columns @p columns of a new table bench_copy (LIKE @p like
 * INCLUDING ALL: its defaults, generated columns and indexes), dropped
 * after. A row is at most 1024 bytes. The clock covers writing the rows.
 */
double bench_db_copy_rate(PGconn *c, const char *like, const char *columns,
                          long n, bench_db_row_fn row);

/** The messages reducerd has committed (reducerd_offsets), or -1. */
long bench_db_committed(PGconn *c);

#endif
