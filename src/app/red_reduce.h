/*
 * red_reduce - `reducerd reduce`: runs a contract over a JSON-lines file of
 * envelopes with no Kafka or Postgres and prints every resulting row. It
 * drives the same core as the daemon, batch by batch, and merges cell
 * deltas the way the Postgres sink does, so its output is what the tables
 * hold after the same input. Users run it as the contract test driver.
 *
 * Input lines may carry "_topic", "_key", "_partition" and "_timestamp"
 * (the Kafka message timestamp) next to the envelope; they stand for the
 * Kafka metadata of the message. The line number is the offset.
 *
 * Output, one JSON object a line, in this order:
 *   {"table": T, "row": {...}}   cells (sorted), history rows (in order),
 *                                current workflow states (by workflow_id)
 *   {"dead_letter": {...}}       in input order
 *   {"summary": {...}}           consumed = applied + dead_lettered +
 * late_dropped
 */
#ifndef RED_REDUCE_H
#define RED_REDUCE_H

#include "red_attr.h"
#include "red_time.h"

#include <stddef.h>
#include <stdio.h>

typedef struct red_reduce_opts_s {
        const char *contract;
        const char *input; /**< path, or "-" for stdin */
        FILE *out;
        size_t batch;   /**< events per batch (0: one batch) */
        red_time_t now; /**< the clock for future-skew checks */
} red_reduce_opts_t;

/** Runs; returns 0, or -1 with a message in @p errstr. */
int red_reduce_run(const red_reduce_opts_t *opts, char *errstr,
                   size_t errstr_size) RED_MUSTCHECK;

#endif
