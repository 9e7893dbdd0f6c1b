/*
 * red_workflows - the live workflow table: one record per workflow key
 * (uuid) that the FSM and the `workflows.remember` enrichment work on.
 *
 * The table is bounded: red_workflows_evict() drops terminal workflows
 * whose last event is older than a TTL, then the least-recently-used clean
 * records while more than max_live are held. An evicted or unknown
 * workflow is reloaded from Postgres by the pipeline (see
 * red_workflows_load_cb) before the batch that needs it is applied.
 *
 * Records never move while they are in the table: the pipeline and the
 * sink keep red_wf_t pointers for the duration of a batch. A pointer stays
 * valid until the record is evicted, forgotten by a rollback, or the table
 * is destroyed.
 *
 * Batches: every change made to a record must be followed by
 * red_workflows_touch() (the FSM engine does this), which puts it in the
 * dirty set; the sink writes the dirty set in the batch's transaction and
 * then calls red_workflows_commit() or, when the transaction failed,
 * red_workflows_rollback(), which forgets the dirty records so that they
 * are reloaded as Postgres has them.
 *
 * Not thread-safe: one table belongs to one pipeline thread.
 */
#ifndef RED_WORKFLOWS_H
#define RED_WORKFLOWS_H

#include "red_attr.h"
#include "red_time.h"
#include "red_uuid.h"

#include <stddef.h>
#include <stdint.h>

/** No state (record not initialised) / no previous state. */
#define RED_WF_NONE 0xff
/** Most remembered fields per workflow (contract `workflows.remember`). */
#define RED_WF_MAX_REMEMBER 4
/** Most summed fields per workflow (contract `workflows.totals`). */
#define RED_WF_MAX_TOTALS 4

/**
 * One live workflow. The table owns it; fields are read and written by the
 * FSM engine and read by the sink. `flags` is the table's own.
 */
typedef struct red_wf_s {
        red_uuid_t id;
        /** Event time of the last accepted transition or of initialisation. */
        red_time_t state_entry_time;
        /** Newest event time seen for it (terminal TTL); INT64_MIN if none. */
        red_time_t last_event_time;
        uint32_t transition_count;
        int32_t partition; /**< of the last event, -1 unknown */
        uint8_t state;     /**< state index, RED_WF_NONE: not initialised */
        uint8_t previous_state; /**< RED_WF_NONE if none */
        uint8_t flags;          /**< internal (dirty, ...) */
        /**
         * Remembered field values: interned NUL-terminated strings owned by
         * the table (set them with red_workflows_remember()), NULL = unset.
         */
        const char *remembered[RED_WF_MAX_REMEMBER];
        /** workflows.totals: the sums of the source fields so far (0 for
         * none), in the contract's order; new and restored records start
         * at 0 (the sink restores stored sums after red_workflows_restore) */
        double totals[RED_WF_MAX_TOTALS];
} red_wf_t;

typedef struct red_workflows_s red_workflows_t;

/**
 * A new empty table.
 * @p max_live: records kept by red_workflows_evict() (0 = unbounded).
 * @p terminal_ttl_us: terminal records whose last_event_time is older than
 *    now - ttl are evicted (negative = never by age).
 * @p terminal_mask: bit s set = state index s is terminal.
 * @p remember_cnt: remembered fields per record (<= RED_WF_MAX_REMEMBER).
 * Returns NULL on OOM or a bad @p remember_cnt. Caller destroys with
 * red_workflows_destroy().
 */
red_workflows_t *red_workflows_new(size_t max_live, int64_t terminal_ttl_us,
                                   uint32_t terminal_mask, size_t remember_cnt);

/** Frees the table, every record and every interned string; accepts NULL. */
void red_workflows_destroy(red_workflows_t *t);

/**
 * The record of @p id, or NULL if it is not in memory. Counts as a use for
 * the LRU order. O(1).
 */
red_wf_t *red_workflows_get(red_workflows_t *t, const red_uuid_t *id);

/**
 * A new record for @p id: state and previous_state RED_WF_NONE,
 * transition_count 0, partition -1, state_entry_time 0, last_event_time
 * INT64_MIN, nothing remembered; it is marked dirty. @p id should not be in
 * the table (if it is, the existing record is returned unchanged).
 * Returns NULL on OOM.
 */
red_wf_t *red_workflows_create(red_workflows_t *t, const red_uuid_t *id);

/**
 * Marks @p wf changed in this batch (idempotent; first-touch order is kept).
 * Call it after every change to a record. Returns 0 or -ENOMEM (the record
 * is then not in the dirty set and the batch must be rolled back).
 */
int red_workflows_touch(red_workflows_t *t, red_wf_t *wf) RED_MUSTCHECK;

/**
 * Sets remembered field @p idx of @p wf to the @p len bytes at @p s
 * (borrowed; copied and interned: equal strings share one refcounted copy,
 * freed when no record uses it) and touches the record. Replaces any old
 * value. Returns 0, -EINVAL for idx >= remember_cnt, or -ENOMEM.
 */
int red_workflows_remember(red_workflows_t *t, red_wf_t *wf, size_t idx,
                           const char *s, size_t len) RED_MUSTCHECK;

/**
 * The records changed since the last commit/rollback, in first-touch order.
 * *out is a borrowed array valid until the next touch, commit or rollback.
 */
size_t red_workflows_dirty(red_workflows_t *t, red_wf_t ***out);

/** The batch is durable: clears the dirty set (the records stay). */
void red_workflows_commit(red_workflows_t *t);

/**
 * The batch was rolled back: forgets every dirty record entirely (its
 * pointer becomes invalid; it will be reloaded from Postgres). Clean
 * records stay.
 */
void red_workflows_rollback(red_workflows_t *t);

/**
 * Between batches: drops terminal records with last_event_time < now - ttl,
 * then least-recently-used clean records while more than max_live are
 * held. Never evicts dirty records. Returns the number evicted.
 */
size_t red_workflows_evict(red_workflows_t *t, red_time_t now);

/**
 * A partition went to another consumer: drops the clean records whose
 * last event came from a partition numbered @p partition (the next owner
 * changes them in Postgres; kept, they would be stale if the partition
 * came back). They are restored from Postgres when needed. Returns the
 * number dropped.
 */
size_t red_workflows_drop_partition(red_workflows_t *t, int32_t partition);

/** Records in memory. */
size_t red_workflows_count(const red_workflows_t *t);

/** remember_cnt given to red_workflows_new(). */
size_t red_workflows_remember_cnt(const red_workflows_t *t);

/** Distinct interned strings currently held (diagnostics and tests). */
size_t red_workflows_interned(const red_workflows_t *t);

/**
 * Loads records from Postgres; the pipeline implements it and calls it
 * with the keys of a batch that are not in memory (red_workflows_get()
 * returned NULL). It calls red_workflows_restore() for every id it finds
 * (ids it does not find stay unknown). Returns 0, or -1 with a message in
 * @p errstr.
 */
typedef int(red_workflows_load_cb)(void *opaque, const red_uuid_t *ids,
                                   size_t cnt, red_workflows_t *t, char *errstr,
                                   size_t errstr_size);

/**
 * Puts a record loaded from Postgres into the table, clean (not dirty).
 * last_event_time starts at @p state_entry_time. @p remembered has
 * remember_cnt entries (NUL-terminated, borrowed and interned; NULL =
 * unset) or is NULL for none. If @p id is already in the table nothing is
 * replaced and the existing record is returned. Returns NULL on OOM.
 */
red_wf_t *red_workflows_restore(red_workflows_t *t, const red_uuid_t *id,
                                uint8_t state, uint8_t previous_state,
                                red_time_t state_entry_time,
                                uint32_t transition_count, int32_t partition,
                                const char *const *remembered);

#endif
