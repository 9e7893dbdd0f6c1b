/*
 * red_state - the rows of one state sink (contract `state:`): one row per
 * key, folded from events by the column rules (latest by event time,
 * first seen, max, count, JSON merge), soft-deleted and revived by
 * declared kinds, with an effective status that a staleness rule
 * overrides. Pure: no I/O.
 *
 * The table holds the rows the batch needs in memory. The caller (the
 * sink, from PostgreSQL) restores the stored rows of the keys
 * red_state_table_missing() names before the batch is applied; `reduce`
 * keeps every row in memory. Applying events in event-time order changes
 * rows and queues outbound events (created, deleted, status changed); the
 * caller writes the dirty rows and the events in its transaction, then
 * commits (or rolls back: the rows are dropped and reloaded).
 *
 * Values are jansson values per column: strings, numbers, booleans,
 * objects and arrays as they are; uuids as text; timestamps as integers
 * of microseconds since the epoch (red_state_value_json() renders them).
 */
#ifndef RED_STATE_H
#define RED_STATE_H

#include "red_attr.h"
#include "red_buf.h"
#include "red_contract.h"
#include "red_event.h"
#include "red_uuid.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** One row (plain record; owned by its table). */
typedef struct red_state_row_s {
        char *key;
        json_t **vals;         /**< per column; NULL is SQL NULL */
        red_time_t *at;        /**< per column: event time of the value,
                                  INT64_MIN never set */
        red_time_t alive_at;   /**< newest create-kind event, or INT64_MIN */
        red_time_t deleted_at; /**< INT64_MIN: live */
        char *status;      /**< the effective status last published, or NULL */
        int32_t partition; /**< Kafka partition of its last event, -1 none */
        int64_t revision;  /**< as stored; bumped by each committed change */
        bool exists;       /**< a row (stored or created in this batch) */
        bool stored;       /**< in the table before this batch */
        bool dirty;        /**< changed in this batch */
        bool list_dirty;   /**< a column a list is made from changed */
} red_state_row_t;

typedef enum {
        RED_STATE_CREATED, /**< created, or revived after a delete */
        RED_STATE_DELETED,
        RED_STATE_STATUS, /**< the effective status changed */
} red_state_change_t;

/** An outbound event of the batch. */
typedef struct red_state_event_s {
        red_state_change_t change;
        char *key;     /**< owned */
        char *payload; /**< JSON object, owned */
        red_uuid_t id; /**< stable: the same change replayed keeps its id */
} red_state_event_t;

typedef struct red_state_table_s red_state_table_t;

/**
 * Rows of state sink @p s of contract @p c (both borrowed). At most
 * @p max_rows stay in memory between batches (0: no bound). NULL on OOM.
 */
red_state_table_t *red_state_table_new(const red_contract_t *c,
                                       const red_state_t *s, size_t max_rows);
void red_state_table_destroy(red_state_table_t *t);

const red_state_t *red_state_table_sink(const red_state_table_t *t);

/** The key of @p ev for this state as text into @p out (RED_UUID_STR_SIZE
 * at least), or NULL when the event is not the state's. */
const char *red_state_event_key(const red_state_table_t *t,
                                const red_event_t *ev, char *out, size_t size);

/** Notes the key of a released event: a key not in memory becomes
 * missing. 0 or -ENOMEM. */
int red_state_table_note(red_state_table_t *t,
                         const red_event_t *ev) RED_MUSTCHECK;

/** The keys noted missing since the last commit (borrowed). */
char *const *red_state_table_missing(const red_state_table_t *t, size_t *cntp);

/**
 * A row for a stored key, to fill from storage (red_state_row_set()):
 * exists and stored, everything else empty. NULL on OOM.
 */
red_state_row_t *red_state_table_restore(red_state_table_t *t, const char *key);

/** Sets column @p col of a restored row (takes the reference to @p v). */
void red_state_row_set(red_state_row_t *row, size_t col, json_t *v,
                       red_time_t at);

/** The missing keys were looked up: those not restored do not exist. 0 or
 * -ENOMEM. */
int red_state_table_loaded(red_state_table_t *t) RED_MUSTCHECK;

/** Applies @p ev (in event-time order). 0 or -ENOMEM. */
int red_state_table_apply(red_state_table_t *t,
                          const red_event_t *ev) RED_MUSTCHECK;

/**
 * Judges every live row in memory against @p clock: a row whose effective
 * status changed becomes dirty and gets a status event ("stale"). For
 * `reduce`, which holds every row; the daemon sweeps in SQL. 0 or -ENOMEM.
 */
int red_state_table_sweep(red_state_table_t *t, red_time_t clock) RED_MUSTCHECK;

/**
 * The effective status of @p row at @p clock: the staleness rule's value
 * when the newest of its time columns plus factor x interval is older
 * than the clock, else the status column (NULL when it is null). NULL
 * without a staleness rule.
 */
const char *red_state_effective(const red_state_table_t *t,
                                const red_state_row_t *row, red_time_t clock);

/** The rows changed in the batch, in key order (borrowed). */
red_state_row_t **red_state_table_dirty(red_state_table_t *t, size_t *cntp);

/** The batch's events, in the order they happened (borrowed). */
const red_state_event_t *red_state_table_events(const red_state_table_t *t,
                                                size_t *cntp);

/** Every row in memory that exists, in key order (for `reduce`; the
 * array is the table's until the next call). */
red_state_row_t **red_state_table_rows(red_state_table_t *t, size_t *cntp);

/** The batch is stored: revisions bump, the batch's lists empty; beyond
 * max_rows the rows are dropped (reloaded on demand). */
void red_state_table_commit(red_state_table_t *t);

/** The batch was not stored: every row is dropped (reloaded on demand). */
void red_state_table_rollback(red_state_table_t *t);

/** Drops every row in memory (after a partition change, or when rows were
 * changed in storage behind the table's back). */
void red_state_table_forget(red_state_table_t *t);

/**
 * The id of a change: a UUIDv5 of contract, state, key, change, time and
 * @p detail (the new status of a status change, else NULL), so that a
 * change replayed after a crash keeps its id.
 */
void red_state_change_id(const red_contract_t *c, const red_state_t *s,
                         const char *key, red_state_change_t change,
                         red_time_t time, const char *detail, red_uuid_t *out);

/**
 * A status event's payload: {key column: key, status column: @p now,
 * "previous_<status column>": @p prev, "reason": @p reason, "changed_at":
 * @p clock}. @p now and @p prev may be NULL (null).
 */
void red_state_status_json(const red_state_t *s, const char *key,
                           const char *now, const char *prev,
                           const char *reason, red_time_t clock,
                           red_buf_t *out);

/* --- rendering ------------------------------------------------------------ */

/** Column @p col's value as JSON (timestamps as ISO-8601, null). */
void red_state_value_json(const red_state_col_t *col, const json_t *v,
                          red_buf_t *out);

/** The row as the table holds it: key, columns, the delete column,
 * state_status. */
void red_state_row_json(const red_state_table_t *t, const red_state_row_t *row,
                        red_buf_t *out);

/** The per-column event times (and "$alive") as the state_times JSON. */
void red_state_times_json(const red_state_table_t *t,
                          const red_state_row_t *row, red_buf_t *out);

/**
 * The items of list @p l of @p row, one per distinct first-column member
 * (the first of each wins): calls @p fn with the members' values in the
 * order of l->columns (NULL when absent or not scalar). Returns what @p fn
 * returned when not 0.
 */
typedef int red_state_item_fn(void *arg, const json_t *const *members);
int red_state_list_items(const red_state_list_t *l, const red_state_row_t *row,
                         red_state_item_fn *fn, void *arg);

#endif
