/*
 * red_query_pg - runs a query plan (red_query.h) in PostgreSQL: builds
 * the SQL from the plan (identifiers from the contracts, validated and
 * quoted; every value a parameter), reads the rows and writes them in
 * the plan's format, merging stored cells for summaries (red_summary.h).
 *
 * Output is pulled: red_query_pg_fill() hands out what is ready, so the HTTP
 * server can stream. Pages (json, csv, table) and summaries are computed
 * within red_query_pg_start(), in one statement, before anything is sent;
 * an NDJSON export reads through a server-side cursor in a read-only
 * transaction, a batch per fill, so memory stays bounded and every FETCH
 * runs under the statement timeout however slowly the client reads.
 */
#ifndef RED_QUERY_PG_H
#define RED_QUERY_PG_H

#include "red_attr.h"
#include "red_buf.h"
#include "red_contract.h"
#include "red_query.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct red_query_pg_s red_query_pg_t;

/** Rows per FETCH of an export. */
#define RED_QEXEC_FETCH 2000

/**
 * Prepares a reader's session on @p conn: statement_timeout
 * @p statement_timeout_ms, idle-in-transaction timeout
 * @p idle_timeout_ms, read-only transactions, UTC and ISO dates.
 * 0, or -1 with a message.
 */
int red_query_pg_session(PGconn *conn, long statement_timeout_ms,
                         long idle_timeout_ms, char *errstr,
                         size_t errstr_size) RED_MUSTCHECK;

/**
 * Starts plan @p q (borrowed, like @p conn and the contracts, until
 * red_query_pg_destroy()). @p contracts are those the plan was made from
 * (for RED_QUERY_CONTRACTS). Returns NULL with an HTTP status in
 * *@p status (404 unknown workflow, 503 timeout or database unavailable,
 * 500 otherwise) and a message.
 */
red_query_pg_t *red_query_pg_start(PGconn *conn, const red_query_t *q,
                                   const red_contract_t *const *contracts,
                                   size_t contract_cnt, int *status,
                                   char *errstr, size_t errstr_size);

/**
 * Appends the next output to @p out, at least @p want bytes unless the
 * result ends first. Returns 1 when more follows, 0 when everything was
 * handed out, -1 on an error (message in @p errstr; the output so far is
 * incomplete).
 */
int red_query_pg_fill(red_query_pg_t *x, red_buf_t *out, size_t want,
                      char *errstr, size_t errstr_size) RED_MUSTCHECK;

/** The cursor of the next page once everything was handed out, or NULL
 * (the last page). */
const char *red_query_pg_next_cursor(const red_query_pg_t *x);

/**
 * Ends the work (an export left early rolls its transaction back) and
 * frees it. Returns whether the connection is clean for another query.
 * Accepts NULL (returns true).
 */
bool red_query_pg_destroy(red_query_pg_t *x);

#endif
