/*
 * red_partition - range partitions of reducerd's tables: one per day
 * (<table>_YYYY_MM_DD) or per calendar month (<table>_YYYY_MM), created
 * when missing (serialised between workers by a transaction advisory
 * lock): in a transaction of their own before a batch's (the sink), or
 * inside the writing transaction; dropped past retention.
 */
#ifndef RED_PARTITION_H
#define RED_PARTITION_H

#include "red_attr.h"
#include "red_contract.h"
#include "red_time.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct red_partition_cache_s red_partition_cache_t;

/** The partition of @p table holding @p t: its name and [from, to). */
void red_partition_of(const char *table, red_partition_t gran, red_time_t t,
                      char *name, size_t size, red_time_t *from,
                      red_time_t *to);

/**
 * Fill factor of partitions whose rows are updated in place (aggregate
 * cells): half of each page stays free, so an update finds room on its
 * page and is HOT (no index entries, ~3x cheaper). 0 elsewhere: the table's
 * default (append-only rows fill their pages).
 */
#define RED_PARTITION_FILLFACTOR_UPDATED 50

/** A per-connection cache of partitions known to exist. */
red_partition_cache_t *red_partition_cache_new(void);
void red_partition_cache_destroy(red_partition_cache_t *pc);
/** Forgets everything (after a rollback or a "no partition" error). */
void red_partition_cache_clear(red_partition_cache_t *pc);

/**
 * Makes sure the partition of @p table for @p t exists, within the
 * caller's open transaction; a new one gets @p fillfactor (0: default).
 * Returns 0 or -1 with the server's message.
 */
int red_partition_ensure(PGconn *conn, red_partition_cache_t *pc,
                         const char *table, red_partition_t gran,
                         int fillfactor, red_time_t t, char *errstr,
                         size_t errstr_size) RED_MUSTCHECK;

/**
 * 1 when the partition of @p table for @p t exists (remembered in @p pc
 * then), 0 when it does not, -1 with the server's message. Takes no lock.
 */
int red_partition_exists(PGconn *conn, red_partition_cache_t *pc,
                         const char *table, red_partition_t gran, red_time_t t,
                         char *errstr, size_t errstr_size) RED_MUSTCHECK;

/**
 * Creates the partition of @p table for @p t if missing, in a transaction
 * of its own (no transaction may be open), so that the parent's ACCESS
 * EXCLUSIVE lock that CREATE TABLE ... PARTITION OF takes is held for
 * that statement only, not for the rest of a batch. Remembered in @p pc
 * (may be NULL). Returns 0 or -1 with the server's message.
 */
int red_partition_create_alone(PGconn *conn, red_partition_cache_t *pc,
                               const char *table, red_partition_t gran,
                               int fillfactor, red_time_t t, char *errstr,
                               size_t errstr_size) RED_MUSTCHECK;

/**
 * Creates the partitions from now through @p days_ahead days and drops the
 * ones whose whole range ended before now - @p retention_us (0 keeps
 * everything). Each step is its own transaction. Adds to *@p created and
 * *@p dropped. Returns 0 or -1 with a message.
 */
int red_partition_maintain(PGconn *conn, const char *table,
                           red_partition_t gran, int fillfactor,
                           int64_t retention_us, red_time_t now, int days_ahead,
                           int *created, int *dropped, char *errstr,
                           size_t errstr_size) RED_MUSTCHECK;

#endif
