/*
 * red_sink_fsm - the workflow FSM's tables: history rows by COPY, current
 * states upserted through a temp table, state-change events; and the
 * current states read back for workflows the core no longer holds, and
 * counted per state for the contract's gauges.
 */
#ifndef RED_SINK_FSM_H
#define RED_SINK_FSM_H

#include "red_attr.h"
#include "red_contract.h"
#include "red_fsm.h"
#include "red_sink_io.h"
#include "red_sink_outbox.h"
#include "red_workflows.h"

#include <stddef.h>
#include <stdint.h>

typedef struct red_sink_fsm_s red_sink_fsm_t;

/** For the FSM of @p c (borrowed; a contract without one writes nothing).
 * NULL on OOM. */
red_sink_fsm_t *red_sink_fsm_new(const red_contract_t *c);
void red_sink_fsm_destroy(red_sink_fsm_t *w);
/** For a replay (backfill, recompute): the workflows loaded keep their
 * state and remembered fields but not their workflows.totals, which the
 * events read again sum anew (else they would count twice). */
void red_sink_fsm_replaying(red_sink_fsm_t *w);

/** On each connection: checks the tables' columns and creates the
 * session's temp table. 0, or -1 with a message. */
int red_sink_fsm_prepare(red_sink_fsm_t *w, red_sink_io_t *io, char *errstr,
                         size_t size) RED_MUSTCHECK;

/**
 * Restores the workflows @p ids (those stored) into @p t from the
 * current-state table. 0, or -1 with a message.
 */
int red_sink_fsm_load(red_sink_fsm_t *w, red_sink_io_t *io,
                      const red_uuid_t *ids, size_t cnt, red_workflows_t *t,
                      char *errstr, size_t size) RED_MUSTCHECK;

/**
 * Counts the workflows per current state into @p counts (the FSM's
 * state_cnt entries). Outside a transaction. 0, or -1 with a message.
 */
int red_sink_fsm_count_states(red_sink_fsm_t *w, red_sink_io_t *io,
                              int64_t *counts, char *errstr,
                              size_t size) RED_MUSTCHECK;

/** The history partition holding transitions of time @p t
 * (red_sink_io_partition()), when the contract has a workflow machine. */
red_sink_result_t red_sink_fsm_partition_at(red_sink_fsm_t *w,
                                            red_sink_io_t *io, red_time_t t,
                                            char *errstr,
                                            size_t size) RED_MUSTCHECK;

/**
 * In the batch transaction: COPYs @p rows into the history table and
 * upserts the dirty workflows of @p wfs. Adds the rows written to *@p n.
 */
red_sink_result_t red_sink_fsm_write(red_sink_fsm_t *w, red_sink_io_t *io,
                                     const red_fsm_rows_t *rows,
                                     red_workflows_t *wfs, size_t *n,
                                     char *errstr, size_t size) RED_MUSTCHECK;

/** Queues a state-change event per accepted transition of @p rows, when
 * the FSM publishes. */
void red_sink_fsm_outbox(red_sink_fsm_t *w, const red_fsm_rows_t *rows,
                         red_sink_outbox_t *out);

#endif
