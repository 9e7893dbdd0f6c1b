/*
 * red_sink_io - the floor the sink's writers stand on: one connection,
 * statements with parameters, streamed COPY, partitions on demand, the
 * COPY text format, and what a failure means for the batch.
 *
 * Every statement goes through red_sink_io_exec() or the COPY functions,
 * which check the result, classify a failure by its SQLSTATE and clear
 * what the caller does not keep. The classes: the connection and the
 * server's resources (RED_SINK_RETRY: red_pg_retriable()); the data
 * (SQLSTATE class 22 or 23: RED_SINK_REJECTED, with "SQLSTATE nnnnn:
 * message" as the error, and for a COPY the input line refused); a
 * unique violation the caller handles (RED_SINK_REPLAY for raw rows);
 * anything else (schema, permissions: RED_SINK_FATAL).
 */
#ifndef RED_SINK_IO_H
#define RED_SINK_IO_H

#include "red_attr.h"
#include "red_buf.h"
#include "red_contract.h"
#include "red_event.h"
#include "red_sink_types.h"
#include "red_time.h"
#include "red_uuid.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct red_sink_io_s red_sink_io_t;

/** Client work run while Postgres finishes a COPY (see _on_idle()). */
typedef void red_sink_io_idle_fn(void *arg);

/** Not connected yet; @p conninfo is copied. NULL on OOM. */
red_sink_io_t *red_sink_io_new(const char *conninfo);
void red_sink_io_destroy(red_sink_io_t *io);

/**
 * (Re)connects and sets the session up (UTC, warnings only, synchronous
 * commit). Returns 0, or -1 with a message (credentials redacted).
 */
int red_sink_io_connect(red_sink_io_t *io, char *errstr,
                        size_t size) RED_MUSTCHECK;
void red_sink_io_disconnect(red_sink_io_t *io);
bool red_sink_io_connected(const red_sink_io_t *io);
/** "host:port/db" of the connection, for logs. */
const char *red_sink_io_where(const red_sink_io_t *io);
/** The connection (borrowed; NULL when not connected), for the modules
 * that read the database's state outside a batch. */
PGconn *red_sink_io_conn(red_sink_io_t *io);

/**
 * @p fn (with @p arg, borrowed) runs each time the end of a COPY was sent
 * and Postgres still inserts the rows: the client computes meanwhile.
 */
void red_sink_io_on_idle(red_sink_io_t *io, red_sink_io_idle_fn *fn, void *arg);

/**
 * Runs @p sql with @p n text parameters (0: the simple protocol, several
 * statements allowed) and expects a command or rows. On success hands the
 * result to *@p resp (the caller PQclear()s it) or, with @p resp NULL,
 * clears it. On failure returns what it means for the batch (see
 * red_sink_io_copy_end(); a unique violation is data here:
 * RED_SINK_REJECTED) with the message in @p errstr, and sets *@p resp to
 * NULL.
 */
red_sink_result_t red_sink_io_exec(red_sink_io_t *io, const char *sql, int n,
                                   const char *const *params, PGresult **resp,
                                   char *errstr, size_t size) RED_MUSTCHECK;
/**
 * red_sink_io_exec() of @p sql with $1 = @p contract and $2 = the JSON
 * text in @p json (RED_SINK_RETRY when it failed to grow): the writers
 * pass a batch's keys and values as one jsonb parameter.
 */
red_sink_result_t red_sink_io_exec_json(red_sink_io_t *io, const char *sql,
                                        const char *contract,
                                        const red_buf_t *json, PGresult **resp,
                                        char *errstr,
                                        size_t size) RED_MUSTCHECK;
/** red_sink_io_exec() without parameters or result. */
red_sink_result_t red_sink_io_run(red_sink_io_t *io, const char *sql,
                                  char *errstr, size_t size) RED_MUSTCHECK;
/** ROLLBACK, ignoring a lost connection (the server rolls back then), and
 * forgets the partitions created in the transaction. */
void red_sink_io_rollback(red_sink_io_t *io);

/* --- COPY ---------------------------------------------------------- */

/** Starts COPY ... FROM STDIN; send the data in pieces, then end it. */
red_sink_result_t red_sink_io_copy_begin(red_sink_io_t *io, const char *sql,
                                         char *errstr,
                                         size_t size) RED_MUSTCHECK;
/** Sends @p data (RED_SINK_RETRY if it failed to grow) and empties it. */
red_sink_result_t red_sink_io_copy_send(red_sink_io_t *io, red_buf_t *data,
                                        char *errstr,
                                        size_t size) RED_MUSTCHECK;
/**
 * Ends the COPY; runs the idle work while Postgres inserts the rest.
 * A unique violation returns @p on_unique: RED_SINK_REPLAY where the batch
 * can be looked up and run again (raw rows); RED_SINK_OK leaves it to the
 * rule for data. Other failures: RED_SINK_RETRY when retrying can help
 * (connection, resources, deadlock, serialization, a dropped partition),
 * RED_SINK_REJECTED for the data (red_sink_io_rejected_line() says which
 * line, when the server does), else RED_SINK_FATAL.
 */
red_sink_result_t red_sink_io_copy_end(red_sink_io_t *io,
                                       red_sink_result_t on_unique,
                                       char *errstr, size_t size) RED_MUSTCHECK;
/** After RED_SINK_REJECTED from red_sink_io_copy_end(): the line of the
 * COPY's data (from 1) that PostgreSQL refused, or 0 when it does not
 * say. */
long red_sink_io_rejected_line(const red_sink_io_t *io);
/** The whole of @p data in one COPY (a unique violation is data). */
red_sink_result_t red_sink_io_copy_in(red_sink_io_t *io, const char *sql,
                                      const red_buf_t *data, char *errstr,
                                      size_t size) RED_MUSTCHECK;

/* --- schema and partitions ----------------------------------------- */

/**
 * Checks that @p table has the @p cnt columns @p cols that contract
 * @p contract writes. Returns 0, or -1 with a message that says what to
 * run.
 */
int red_sink_io_check_columns(red_sink_io_t *io, const char *contract,
                              const char *table, const char *const *cols,
                              size_t cnt, char *errstr,
                              size_t size) RED_MUSTCHECK;
/**
 * Makes sure the partition of @p table holding @p t exists, in the open
 * transaction (red_partition_ensure(), cached per connection); while
 * deferring (red_sink_io_defer()), only notes it when it is missing.
 */
red_sink_result_t red_sink_io_partition(red_sink_io_t *io, const char *table,
                                        red_partition_t gran, int fillfactor,
                                        red_time_t t, char *errstr,
                                        size_t size) RED_MUSTCHECK;
/**
 * @p on: red_sink_io_partition() notes missing partitions instead of
 * creating them in the open transaction, where CREATE TABLE ... PARTITION
 * OF would hold the parent's ACCESS EXCLUSIVE lock until the commit and
 * stop every other worker's writes to that table (and readers) meanwhile.
 * Forgets what was noted.
 */
void red_sink_io_defer(red_sink_io_t *io, bool on);
/** RED_SINK_PARTITIONS (naming one) when a missing partition was noted:
 * a step checks before the statements that need them. */
red_sink_result_t red_sink_io_noted(const red_sink_io_t *io, char *errstr,
                                    size_t size) RED_MUSTCHECK;
/** Creates the noted partitions, each in a transaction of its own (none
 * may be open), and forgets them. */
red_sink_result_t red_sink_io_create_noted(red_sink_io_t *io, char *errstr,
                                           size_t size) RED_MUSTCHECK;

/* --- COPY text format ---------------------------------------------- */

void red_sink_io_put_time(red_buf_t *b, red_time_t t);
void red_sink_io_put_uuid(red_buf_t *b, const red_uuid_t *u);
/** An object value: its text as sent, or jansson's dump. */
void red_sink_io_put_object(red_buf_t *b, const red_value_t *v);
/** One element of an array literal ({...}): "text" with " and \\
 * escaped. */
void red_sink_io_put_array_elem(red_buf_t *b, const char *p, size_t len);
/** bytea: \\x and hex. */
void red_sink_io_put_bytea(red_buf_t *b, const char *data, size_t len);

#endif
