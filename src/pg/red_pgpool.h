/*
 * red_pgpool - a small pool of PostgreSQL connections for the read API,
 * shared by its threads: at most `max` connections, opened on demand,
 * prepared once by the caller's setup callback (statement timeout,
 * read-only transactions, UTC), and closed when a user reports them
 * broken. Ingest never uses it: the API's reads cannot take a
 * connection the pipeline needs. Thread-safe.
 */
#ifndef RED_PGPOOL_H
#define RED_PGPOOL_H

#include "red_attr.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct red_pgpool_s red_pgpool_t;

/** Prepares a new connection. 0, or -1 with a message. */
typedef int(red_pgpool_setup_cb)(void *opaque, PGconn *conn, char *errstr,
                                 size_t errstr_size);

/**
 * A pool for @p conninfo (copied; never logged) of at most @p max
 * connections. @p setup (may be NULL) runs on each new connection. NULL on
 * OOM. Destroy with red_pgpool_destroy() once every connection is back.
 */
red_pgpool_t *red_pgpool_new(const char *conninfo, size_t max,
                             red_pgpool_setup_cb *setup, void *opaque);

/** Closes the idle connections and frees the pool; accepts NULL. */
void red_pgpool_destroy(red_pgpool_t *p);

/**
 * An idle connection, or a new one while fewer than max are open, else
 * waits up to @p wait_ms for one to come back. Returns NULL with a
 * message (cannot connect, or all busy). Give it back with
 * red_pgpool_put().
 */
PGconn *red_pgpool_get(red_pgpool_t *p, long wait_ms, char *errstr,
                       size_t errstr_size);

/** Gives @p conn back; with !@p reusable (broken, or mid-transaction) it
 * is closed instead. */
void red_pgpool_put(red_pgpool_t *p, PGconn *conn, bool reusable);

#endif
