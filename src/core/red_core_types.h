/*
 * red_core_types - the plain values of a core (red_core.h): its counters,
 * a partition's position, a raw-row key, the done callback.
 *
 * A header of its own so that the files implementing the core
 * (red_core_impl.h) need not include red_core.h, whose module is the one
 * they make up.
 */
#ifndef RED_CORE_TYPES_H
#define RED_CORE_TYPES_H

#include "red_contract.h"
#include "red_dlq.h"
#include "red_event.h"
#include "red_fsm.h"

#include <stddef.h>
#include <stdint.h>

typedef struct red_core_s red_core_t;

/**
 * Counters of committed positions. Each message added is counted once the
 * position after it is committed (red_core_commit()): consumed, and, by
 * what became of it, applied, dead_lettered, late_dropped or duplicates.
 * The terms are recorded where they happen and counted per message, not
 * derived from each other, so consumed = applied + dead_lettered +
 * late_dropped + duplicates holds only as long as no message goes
 * unaccounted for. A message behind a buffered one waits with it; a batch
 * rolled back counts nothing (its messages are consumed again).
 */
typedef struct red_core_counters_s {
        uint64_t consumed;
        uint64_t applied;
        uint64_t dead_lettered;
        uint64_t late_dropped;
        uint64_t late_applied; /**< late but applied (policy update), part of
                                  applied */
        uint64_t duplicates;   /**< skipped: their raw row or their dedupe
                                  key was stored already */
        uint64_t dead_by_code[RED_DLQ__CNT];
        uint64_t fsm_results[RED_FSM__CNT]; /**< history rows by result */
} red_core_counters_t;

/** Where a partition stands after the current batch. */
typedef struct red_position_s {
        const char *topic;
        int32_t partition;
        int64_t offset; /**< next offset to consume after a restart */
        red_time_t
                watermark;   /**< of the events before offset; INT64_MIN none */
        int64_t last_offset; /**< the last message before offset, or -1
                                  when the batch holds none */
        uint64_t last_digest; /**< its red_core_msg_digest() */
} red_position_t;

/** Called for every message the core is done with (opaque from add). */
typedef void(red_core_done_cb)(void *opaque, void *arg);

/**
 * A raw row with unique fields of a released event: the first of its
 * identity (table + red_rows_raw_ident()) in the batch. Later ones of the
 * same identity are duplicates already.
 */
typedef struct red_core_raw_key_s {
        const red_raw_t *raw;
        const char *table; /**< borrowed from the contract */
        const red_event_t *ev;
        char *ident; /**< owned by the core */
        size_t ident_len;
        size_t entry; /**< its event's index for red_core_released_event() */
} red_core_raw_key_t;

/**
 * The dedupe key (the contract's `dedupe`) of a released event: the first
 * of its key within the horizon in the batch. Later ones of the same key
 * are duplicates already; events without a value (or an empty string)
 * have none.
 */
typedef struct red_core_dedupe_key_s {
        const red_event_t *ev;
        char *key; /**< its text (integers in decimal, uuids canonical);
                      owned by the core */
        size_t len;
        uint64_t hash; /**< red_map_hash_bytes() of the text */
        size_t entry;  /**< its event's index for red_core_released_event() */
} red_core_dedupe_key_t;

#endif
