/*
 * red_pipeline_stats - the numbers a pipeline reports: counters, state
 * flags and the batch histograms. The pipeline keeps them under its lock;
 * red_pipeline_stats() copies them out for /metrics and the logs.
 */
#ifndef RED_PIPELINE_STATS_H
#define RED_PIPELINE_STATS_H

#include "red_core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Live numbers of a pipeline (copied out under its lock). */
typedef struct red_pipeline_stats_s {
        red_core_counters_t core; /**< committed batches */
        uint64_t batches;
        uint64_t fenced;
        uint64_t replayed;  /**< batches consumed again (a raw row race) */
        uint64_t alerts[3]; /**< alerts fired: CRITICAL, WARNING, INFO */
        uint64_t alerts_resolved[3]; /**< window alerts resolved, ditto */
        uint64_t pg_errors;
        uint64_t pg_reconnects;
        uint64_t dlq_errors;
        uint64_t live_workflows;
        bool kafka_up;
        bool pg_up;
        bool assigned; /**< owns at least one partition */
        bool joined;   /**< holds an assignment from the group (maybe empty) */
        size_t partitions;
        uint64_t buffered; /**< events in the reorder buffer */
        /* histograms: upper bounds in ms / events, last bucket +Inf */
        uint64_t latency_buckets[16];
        double latency_sum_ms;
        uint64_t size_buckets[16];
        double size_sum;
} red_pipeline_stats_t;

/** Upper bounds of the histograms' first 15 buckets. */
extern const double red_pipeline_latency_bounds_ms[15];
extern const double red_pipeline_size_bounds[15];

/** Per-partition consumer lag ("topic", partition, lag) for metrics. */
typedef struct red_pipeline_lag_s {
        char topic[256];
        int32_t partition;
        int64_t lag; /**< -1 unknown */
} red_pipeline_lag_t;

/** Counts a committed batch of @p events that took @p latency_ms from its
 * first message to its commit: batches and both histograms. */
void red_pipeline_stats_observe(red_pipeline_stats_t *st, size_t events,
                                double latency_ms);

#endif
