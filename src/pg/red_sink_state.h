/*
 * red_sink_state - the state sinks' tables (contract `state:`): the rows
 * the batch needs read back before it is applied, the changed rows
 * upserted and their list tables replaced in the batch transaction, the
 * created / deleted / status events into the outbox; and, outside the
 * batches, the staleness sweep and the start event.
 */
#ifndef RED_SINK_STATE_H
#define RED_SINK_STATE_H

#include "red_attr.h"
#include "red_core.h"
#include "red_sink_io.h"
#include "red_sink_outbox.h"

#include <stddef.h>
#include <stdint.h>

typedef struct red_sink_state_s red_sink_state_t;

/** The writer of @p c's state sinks (borrowed). NULL on OOM. */
red_sink_state_t *red_sink_state_new(const red_contract_t *c);
void red_sink_state_destroy(red_sink_state_t *w);

/** Checks the tables' columns and creates the session's temp tables.
 * 0, or -1 with a message. */
int red_sink_state_prepare(red_sink_state_t *w, red_sink_io_t *io, char *errstr,
                           size_t size) RED_MUSTCHECK;

/** Restores the rows the core's state tables miss (outside the batch
 * transaction) and marks them loaded. */
red_sink_result_t red_sink_state_load(red_sink_state_t *w, red_sink_io_t *io,
                                      red_core_t *core, char *errstr,
                                      size_t size) RED_MUSTCHECK;

/** In the batch transaction: the dirty rows upserted, their lists
 * replaced, their events added to @p out; *@p n counts the rows. */
red_sink_result_t red_sink_state_write(red_sink_state_t *w, red_sink_io_t *io,
                                       red_core_t *core, red_sink_outbox_t *out,
                                       size_t *n, char *errstr,
                                       size_t size) RED_MUSTCHECK;

/**
 * One transaction of its own: the live rows of the @p cnt Kafka
 * @p partitions whose effective status at @p clock differs from the one
 * last published get it (state_status, revision) and a status event
 * ("stale") in the outbox; at most 1000 per state and call. Sets
 * *@p changed; the caller then drops the rows it holds in memory.
 */
red_sink_result_t red_sink_state_sweep(red_sink_state_t *w, red_sink_io_t *io,
                                       red_sink_outbox_t *out, red_time_t clock,
                                       const int32_t *partitions, size_t cnt,
                                       long *changed, char *errstr,
                                       size_t size) RED_MUSTCHECK;

/** One transaction of its own: the states' start events (publish.start)
 * into the outbox, with the instance that started. */
red_sink_result_t red_sink_state_start(red_sink_state_t *w, red_sink_io_t *io,
                                       red_sink_outbox_t *out,
                                       const char *instance, char *errstr,
                                       size_t size) RED_MUSTCHECK;

#endif
