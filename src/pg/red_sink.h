/*
 * red_sink - writes one contract's batches to PostgreSQL, exactly once.
 *
 * One transaction per batch (DESIGN.md "Exactly-once into Postgres"):
 *  0. hold the contract's table generation (red_sink_schema: its row in
 *     reducerd_contract_schema FOR SHARE);
 *  1. advance reducerd_offsets with compare-and-set on the previous offsets
 *     (first, so a zombie worker is fenced before it writes anything);
 *  2. create missing partitions the batch touches;
 *  3. COPY the dedupe keys (red_sink_dedupe.h), raw rows (skipping
 *     stored identities) and the FSM history rows;
 *     upsert the current workflow states;
 *  4. merge cell deltas under row locks: stored state + delta, columns
 *     re-rendered from the merged state, revision bumped;
 *  5. judge the merged cells by the rules over windows under row locks on
 *     their instances; decide the per-event alerts under row locks on the
 *     rules' cooldown state; COPY the alert rows; upsert the changed state
 *     rows (red_sink_state) and replace their list rows;
 *  6. COPY outbox rows (cell snapshots, state changes, alerts) and the
 *     alerts to deliver (reducerd_alert_outbox), and NOTIFY;
 *  7. COMMIT.
 * Before the batch is applied, red_sink_raw_lookup() tells the core which
 * raw rows are stored already, so a re-sent event is skipped everywhere
 * (rows, aggregates, alerts), not only in its raw table; a raw row that is
 * stored anyway fails the batch (RED_SINK_REPLAY) rather than count twice.
 * The batch's cells and rows are never modified, so a failed write can be
 * retried with the same batch. A failure says what to do next
 * (red_sink_result_t): retry (the connection, the server's resources),
 * consume the batch again (a stored raw row, a fenced worker), or set the
 * data PostgreSQL refused aside (RED_SINK_REJECTED: SQLSTATE class 22 or
 * 23, with red_sink_rejected() naming the message when the statement
 * does).
 *
 * The parts, from the bottom: red_sink_io (connection, statements, COPY,
 * failure classes), red_sink_outbox (outbound events), the writers
 * red_sink_schema, red_sink_offsets, red_sink_dedupe, red_sink_raw,
 * red_sink_fsm, red_sink_cells and red_sink_alert, and this module, the
 * transaction that runs them in order.
 */
#ifndef RED_SINK_H
#define RED_SINK_H

#include "red_attr.h"
#include "red_contract.h"
#include "red_core.h"
#include "red_sink_types.h"
#include "red_workflows.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct red_sink_s red_sink_t;

/**
 * A sink for @p c (borrowed). @p instance names this replica in the offsets
 * table and output events. Not connected yet. NULL on OOM.
 */
red_sink_t *red_sink_new(const red_contract_t *c, const char *conninfo,
                         const char *instance);
void red_sink_destroy(red_sink_t *s);

/**
 * (Re)connects, checks that the contract's tables have the columns it
 * writes, and prepares the session. Returns 0, or -1 with a message.
 */
int red_sink_connect(red_sink_t *s, char *errstr,
                     size_t errstr_size) RED_MUSTCHECK;
bool red_sink_connected(const red_sink_t *s);
/** "host:port/db" of the connection, for logs. */
const char *red_sink_where(const red_sink_t *s);

/**
 * On assignment: makes sure reducerd_offsets has rows for the partitions
 * and returns their stored positions in @p out (@p cnt entries).
 */
red_sink_result_t red_sink_offsets(red_sink_t *s, const char *const *topics,
                                   const int32_t *partitions, size_t cnt,
                                   int generation, red_sink_stored_t *out,
                                   char *errstr, size_t errstr_size);

/**
 * A partition reset by kafka.offset_gap_policy: counts it in its row
 * (epoch, reset_at) and moves its position to @p next (>= 0; -1: leave it
 * to the next batch) if it is still @p prev. *@p stored gets the position
 * stored afterwards. Outside the batch transaction.
 */
red_sink_result_t red_sink_offsets_reset(red_sink_t *s, const char *topic,
                                         int32_t partition, int64_t prev,
                                         int64_t next, int64_t *stored,
                                         char *errstr, size_t errstr_size);

/** Loads workflows from the current-state table (red_workflows_load_cb). */
int red_sink_load_workflows(void *sink, const red_uuid_t *ids, size_t cnt,
                            red_workflows_t *t, char *errstr,
                            size_t errstr_size);

/** Workflows per current state (the FSM's state_cnt entries of
 * @p counts), for the contract's gauges. 0, or -1 with a message. */
int red_sink_count_states(red_sink_t *s, int64_t *counts, char *errstr,
                          size_t errstr_size) RED_MUSTCHECK;

/**
 * Marks the released events whose raw rows (with unique fields) are stored
 * already as duplicates (red_core_raw_stored()). After red_core_release(),
 * before red_core_process(); outside the batch transaction.
 *
 * Re-sent rows are rare, so the query runs only for a while after a batch
 * met one: a batch that writes a stored row fails its COPY with a unique
 * violation, red_sink_write() returns RED_SINK_REPLAY, and the batch,
 * consumed again, is looked up first. The unique key decides; the lookup
 * saves the replays.
 */
red_sink_result_t red_sink_raw_lookup(red_sink_t *s, red_core_t *core,
                                      char *errstr, size_t errstr_size);

/**
 * Marks the released events whose dedupe key (the contract's `dedupe`)
 * was stored within the horizon as duplicates (red_core_dedupe_seen()):
 * the in-memory filter judges most keys; the others, and every key for a
 * while after a batch met one stored meanwhile, are looked up in one
 * query (red_sink_dedupe.h). After red_core_release(), before
 * red_core_process(); outside the batch transaction.
 */
red_sink_result_t red_sink_dedupe_lookup(red_sink_t *s, red_core_t *core,
                                         char *errstr, size_t errstr_size);

/**
 * Writes the core's current batch and the offsets in one transaction.
 *
 * @p work (with @p work_arg; may be NULL) is the caller's part of the
 * batch that the sink reads: the daemon applies the released events there
 * (red_core_process()). The sink calls it exactly once per write, before
 * it reads the batch's cells, rows or alerts from @p core, at the first
 * moment Postgres is busy inserting what was sent (the end of the dedupe
 * keys' or the first raw table's COPY), or else when it needs the
 * results; and, if the write fails before that, on the way out, so the
 * work is always done once the write returns. A failure of @p work fails
 * the write (RED_SINK_RETRY).
 *
 * A partition the batch needs and that does not exist is created in a
 * transaction of its own, and the batch written again (red_sink_io_defer()).
 */
red_sink_result_t red_sink_write(red_sink_t *s, red_core_t *core,
                                 const red_sink_offset_t *offs, size_t cnt,
                                 int generation, red_sink_work_fn *work,
                                 void *work_arg, char *errstr,
                                 size_t errstr_size);

/**
 * Restores the state rows the released events need and the core does not
 * hold (red_core_states()). After red_core_release(), before the batch is
 * applied; outside the batch transaction.
 */
red_sink_result_t red_sink_load_states(red_sink_t *s, red_core_t *core,
                                       char *errstr,
                                       size_t errstr_size) RED_MUSTCHECK;

/**
 * The staleness sweep of the state sinks, in a transaction of its own:
 * live rows of the Kafka @p partitions (@p cnt) whose effective status at
 * @p clock differs from the one last published get it and a status event.
 * *@p changed counts them; when it is not 0, the caller's core must drop
 * its state rows (red_state_table_forget()).
 */
red_sink_result_t red_sink_sweep(red_sink_t *s, red_time_t clock,
                                 const int32_t *partitions, size_t cnt,
                                 long *changed, char *errstr,
                                 size_t errstr_size) RED_MUSTCHECK;

/** The state sinks' start events (e.g. REGISTRY_REQUEST_INTROSPECTION),
 * through the outbox. */
red_sink_result_t red_sink_start_events(red_sink_t *s, char *errstr,
                                        size_t errstr_size) RED_MUSTCHECK;

/**
 * Marks the cells whose window_end + grace the minimum watermark passed
 * as final and queues their final snapshot; with rules over windows, in
 * one transaction that also judges the final cells. Sets *@p finalized.
 */
red_sink_result_t red_sink_finalize(red_sink_t *s, long *finalized,
                                    char *errstr, size_t errstr_size);

/**
 * Queue alerts for delivery (reducerd_alert_outbox; off by default: with
 * no destination nobody would take them out); firing window alerts ask
 * Alertmanager to hold them @p hold_us unless sent again.
 */
void red_sink_set_alert_delivery(red_sink_t *s, bool on, int64_t hold_us);

/**
 * After RED_SINK_REJECTED from red_sink_write(): the message whose event
 * PostgreSQL refused (a raw row: the COPY names its line), or NULL when
 * the statement that failed does not say (the caller narrows the batch
 * down). The error of the write is the server's: "SQLSTATE nnnnn:
 * message".
 */
const red_msg_t *red_sink_rejected(const red_sink_t *s);

/** Alerts the last write or finalisation fired and resolved, by severity:
 * CRITICAL, WARNING, INFO. */
const size_t *red_sink_alerts_fired(const red_sink_t *s);
const size_t *red_sink_alerts_resolved(const red_sink_t *s);
/** ... by rule: the per-event rules, then the window rules (arrays of
 * red_sink_alert_rule_cnt()). */
size_t red_sink_alert_rule_cnt(const red_sink_t *s);
const size_t *red_sink_alert_rules_fired(const red_sink_t *s);
const size_t *red_sink_alert_rules_resolved(const red_sink_t *s);

/** Rows the last write stored (all tables), for metrics and logs. */
size_t red_sink_last_rows(const red_sink_t *s);

#endif
