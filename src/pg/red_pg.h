/*
 * red_pg - small helpers around libpq: connecting with an error that names
 * host and port, running commands, classifying errors as retriable.
 */
#ifndef RED_PG_H
#define RED_PG_H

#include "red_attr.h"
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

/**
 * Connects with @p conninfo (libpq keyword/value string or URI; empty uses
 * libpq defaults and PG* variables), application_name "reducerd" and a
 * 10 s connect timeout unless the conninfo sets them. On failure returns
 * NULL with "cannot connect to PostgreSQL at HOST:PORT: reason" in
 * @p errstr (never the password: libpq's reason is redacted, see
 * red_redact()). Caller closes with PQfinish().
 */
PGconn *red_pg_connect(const char *conninfo, char *errstr, size_t errstr_size);

/** "host:port/dbname" of a connection, for logs (no secrets). */
void red_pg_describe(const PGconn *conn, char *buf, size_t size);

/**
 * Runs @p sql (one or more statements, no parameters) and expects success.
 * Returns 0, or -1 with the server message in @p errstr.
 */
int red_pg_exec(PGconn *conn, const char *sql, char *errstr,
                size_t errstr_size) RED_MUSTCHECK;

/**
 * Runs @p sql with @p n text parameters @p vals (NULL for SQL null) and
 * expects rows or a command. Returns the result (the caller PQclear()s
 * it), or NULL with the server message in @p errstr.
 */
PGresult *red_pg_params(PGconn *conn, const char *sql, int n,
                        const char *const *vals, char *errstr,
                        size_t errstr_size);

/**
 * True when an error is worth retrying on a fresh transaction or
 * connection: connection loss (class 08), serialization failure and
 * deadlock (40), insufficient resources (53: disk full, out of memory, too
 * many connections), operator intervention (57: shutdown, cancel), system
 * errors (58), a lock not available. Never a data error (22, 23) or a
 * schema one (42). @p res may be NULL (connection error).
 */
bool red_pg_retriable(const PGconn *conn, const PGresult *res);

/**
 * Copies the first line of the error of @p res (or of the connection)
 * into @p errstr, credentials redacted (red_redact()).
 */
void red_pg_error(const PGconn *conn, const PGresult *res, char *errstr,
                  size_t errstr_size);

/**
 * Returns a validated, double-quoted SQL identifier for @p name in @p buf
 * (at most 63 bytes of [a-z0-9_], starting with a letter or underscore).
 * Returns 0 or -EINVAL.
 */
int red_pg_ident(const char *name, char *buf, size_t size) RED_MUSTCHECK;

#endif
