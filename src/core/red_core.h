/*
 * red_core - one contract's reducer core, with no I/O.
 *
 * Messages are added as they arrive: decoded (dead letter on bad input)
 * and judged late or not against their partition's watermark at arrival.
 * Good events wait in an event-time reorder buffer: a release takes, from
 * each partition, the prefix of buffered events older than a frontier
 * (the caller's: the smallest newest-event time over the partitions that
 * can still deliver) and applies them in (event time, kind, topic,
 * partition, offset) order: workflow FSM and enrichment, then aggregation
 * into cell deltas. So the events of one workflow spread over several
 * topics are applied in event-time order, in the daemon and in `reduce`
 * alike, however the topics interleave.
 *
 *   red_core_add() per message
 *   red_core_release(frontier)
 *   red_core_missing() -> load those workflows (daemon: one SQL query)
 *   red_state_table_missing() of each red_core_states() -> load those rows
 *   red_core_raw_keys(), red_core_dedupe_keys() -> mark what is stored
 *                     already (duplicates)
 *   red_core_process()
 *   write cells, history rows, dead letters, positions somewhere
 *   red_core_commit() or red_core_rollback()
 *
 * A position is the offset of a partition's first event still buffered
 * (or the next offset): everything before it is applied. Its watermark
 * covers exactly the events before it, so a replay from a position judges
 * lateness as the first run did.
 */
#ifndef RED_CORE_H
#define RED_CORE_H

#include "red_attr.h"
#include "red_aggregator.h"
#include "red_alert.h"
#include "red_contract.h"
#include "red_core_types.h"
#include "red_decode.h"
#include "red_fsm.h"
#include "red_state.h"
#include "red_workflows.h"

#include <stddef.h>
#include <stdint.h>

/**
 * A message's digest: its Kafka timestamp, key and value hashed. Stored
 * with a position (red_position_t.last_digest), it tells the log the
 * position was taken on from another one with a message at that offset
 * (a topic deleted and recreated).
 */
uint64_t red_core_msg_digest(const red_msg_t *msg);

/**
 * A core for @p c (borrowed; must outlive the core). @p done (may be NULL)
 * releases the caller's message handles. Returns NULL with a message.
 */
red_core_t *red_core_new(const red_contract_t *c, size_t max_live_workflows,
                         int64_t terminal_ttl_us, red_core_done_cb *done,
                         void *done_arg, char *errstr, size_t errstr_size);
void red_core_destroy(red_core_t *core);

/**
 * Adds a message: the view is copied (its pointers must stay valid until
 * @p opaque is handed to the done callback). 0 or -ENOMEM.
 */
int red_core_add(red_core_t *core, const red_msg_t *msg, red_time_t now,
                 void *opaque) RED_MUSTCHECK;

/** The newest event time added from a partition, INT64_MIN if none. */
red_time_t red_core_max_time(const red_core_t *core, const char *topic,
                             int32_t partition);
/** Events waiting in the reorder buffer. */
size_t red_core_buffered(const red_core_t *core);
/** Events of one partition waiting in the reorder buffer. */
size_t red_core_part_buffered(const red_core_t *core, const char *topic,
                              int32_t partition);

/**
 * The event time of the oldest buffered event that crosses a CRITICAL
 * alert rule (INT64_MAX: none): the caller writes a batch as soon as the
 * frontier passes it, without waiting for the batch to fill.
 */
red_time_t red_core_urgent(const red_core_t *core);

/**
 * The time a frontier must pass for the next release to take something:
 * the oldest event time among the partitions' first buffered events
 * (a release takes a prefix of each partition), INT64_MAX when nothing is
 * buffered.
 */
red_time_t red_core_next_release(const red_core_t *core);

/**
 * Moves the buffered events older than @p frontier (per partition, a
 * prefix) into the batch in event-time order; INT64_MAX releases all.
 * With @p max > 0 the frontier is lowered to the time of the max-th
 * oldest releasable event, so a batch stays small while the order stays
 * exact (a release always takes everything older than a time bound).
 * Returns the number released (or -ENOMEM).
 */
long red_core_release(red_core_t *core, red_time_t frontier, size_t max);

/**
 * Moves one buffered event into the batch: of the partitions whose first
 * buffered event is older than @p frontier, the oldest such event (ties
 * in the usual order). It may leave ahead of older events behind it in its
 * partition, which a release never lets happen: for narrowing down a
 * batch that storage refused to the one event it refuses (the pipeline),
 * never for normal batches. Returns 1, 0 (none releasable) or -ENOMEM.
 */
long red_core_release_one(red_core_t *core, red_time_t frontier);

/** Workflow ids the released events need that are not in memory. */
const red_uuid_t *red_core_missing(red_core_t *core, size_t *cntp);

/** The raw-row identities of the released events (red_core_raw_key_t,
 * red_core_types.h), for the caller to check against its storage. Valid
 * until commit/rollback. */
const red_core_raw_key_t *red_core_raw_keys(const red_core_t *core,
                                            size_t *cntp);

/** Key @p i is stored already: its event is a duplicate and is skipped
 * (counted in duplicates, not applied anywhere). Before process. */
void red_core_raw_stored(red_core_t *core, size_t i);

/**
 * The contract's state tables, one per `state:` sink (borrowed): before
 * process, restore the rows red_state_table_missing() names and call
 * red_state_table_loaded(); after process, the dirty rows and events are
 * the batch's. At most RED_CORE_STATE_ROWS rows of each stay in memory
 * between batches (fewer when max_live_workflows is lower).
 */
#define RED_CORE_STATE_ROWS 100000
red_state_table_t **red_core_states(red_core_t *core, size_t *cntp);
/** The dedupe keys of the released events (red_core_dedupe_key_t,
 * red_core_types.h; none without the contract's `dedupe`), for the
 * caller to check against what is stored. Valid until commit/rollback. */
const red_core_dedupe_key_t *red_core_dedupe_keys(const red_core_t *core,
                                                  size_t *cntp);

/** Dedupe key @p i was stored within the horizon: its event is a
 * duplicate and is skipped (counted in duplicates). Before process. */
void red_core_dedupe_seen(red_core_t *core, size_t i);

/** The workflow table (for loaders to restore records into). */
red_workflows_t *red_core_workflows(red_core_t *core);

/** Applies the released events. 0, -ENOMEM, or -ERANGE (a cell's sum or
 * weighted count would leave its range: red_cell_apply()). */
int red_core_process(red_core_t *core) RED_MUSTCHECK;

/** The batch's results (borrowed, valid until commit/rollback). */
red_aggregator_t *red_core_cells(red_core_t *core);
red_fsm_rows_t *red_core_rows(red_core_t *core);
const red_dead_letter_t *red_core_dead_letters(const red_core_t *core,
                                               size_t *cntp);
/** The alert rules the batch's events crossed, in event-time order
 * (cooldowns not applied yet: red_alert_cooldown() decides). */
red_alert_matches_t *red_core_alerts(red_core_t *core);

/** The @p i-th event released by the batch (i < red_core_released()), in
 * the order applied; NULL when it was skipped as a duplicate. */
const red_event_t *red_core_released_event(const red_core_t *core, size_t i);

/** Messages added since the last commit, and events released in the batch. */
size_t red_core_batch_size(const red_core_t *core);
size_t red_core_released(const red_core_t *core);

/**
 * Positions of the partitions the batch moved (borrowed, valid until
 * commit/rollback).
 */
const red_position_t *red_core_positions(red_core_t *core, size_t *cntp);

/**
 * Sets where a partition starts (on assignment, from Postgres): its
 * watermark; any buffered state of the partition is dropped.
 */
int red_core_set_watermark(red_core_t *core, const char *topic,
                           int32_t partition,
                           red_time_t watermark) RED_MUSTCHECK;
/**
 * Storage refused the event of @p msg for its data (PostgreSQL's words in
 * @p detail, copied): after a rollback, when the message at its topic,
 * partition and offset is added again, it becomes a dead letter with
 * code storage_rejected and that detail instead of an event. Held until
 * a commit passes the offset or the partition is dropped. 0 or -ENOMEM.
 */
int red_core_refuse(red_core_t *core, const red_msg_t *msg,
                    const char *detail) RED_MUSTCHECK;

/** Drops a partition's buffered messages (after a revoke) and what storage
 * refused of it. */
void red_core_drop_partition(red_core_t *core, const char *topic,
                             int32_t partition);

/** The batch is durable: counters advance, applied messages are done. */
void red_core_commit(red_core_t *core);
/** The batch was not written: everything buffered is dropped too (the
 * caller re-reads from the stored positions). */
void red_core_rollback(red_core_t *core);

const red_core_counters_t *red_core_counters(const red_core_t *core);
/** The committed totals of the contract's domain series (red_dmetrics.h;
 * c->metric_values entries, the workflow gauges NAN). Borrowed. */
const double *red_core_metrics(const red_core_t *core);
const red_contract_t *red_core_contract(const red_core_t *core);

#endif
