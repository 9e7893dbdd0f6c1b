/*
 * red_pipeline_batch - a pipeline's batch: messages go into the core as
 * they arrive; a flush releases what the frontier allows, sends the dead
 * letters, writes one Postgres transaction with the positions, and only
 * then lets the messages go. Runs on the pipeline's thread
 * (red_pipeline_impl.h).
 */
#ifndef RED_PIPELINE_BATCH_H
#define RED_PIPELINE_BATCH_H

#include "red_pipeline_impl.h"

/** Adds a consumed message to the batch; the core owns @p m from here and
 * hands it back through red_core_done_cb once its batch is written. */
void red_pipeline_batch_add(red_pipeline_t *p, rd_kafka_message_t *m);

/**
 * Releases what the frontier allows and writes the batch. Retries while
 * Postgres or Kafka is down (partitions paused, back-off), unless
 * @p revoking: then a failure gives the batch up so the rebalance can go
 * on. Does nothing when there is nothing to write or a flush is running
 * already (a rebalance inside a flush's wait).
 */
void red_pipeline_batch_flush(red_pipeline_t *p, bool revoking);

/** Forgets the batch and everything buffered: all of it is consumed again
 * from the positions in Postgres. */
void red_pipeline_batch_forget(red_pipeline_t *p);

#endif
