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

/** Why offsets were not read as they came (red_pipeline_gaps.h). */
typedef enum red_gap_cause_e {
        RED_GAP_FETCH,        /**< a fetch skipped offsets: read again */
        RED_GAP_NO_RECORDS,   /**< the log has no records there: accepted */
        RED_GAP_OUT_OF_RANGE, /**< the offset needed is not in the log */
        RED_GAP_LOG_CHANGED,  /**< the log is not the one the stored
                                   position was taken on */
        RED_GAP__CNT
} red_gap_cause_t;

/** Offsets passed without a message, by reason. */
typedef enum red_skip_reason_e {
        RED_SKIP_NO_RECORDS, /**< transaction markers, compaction */
        RED_SKIP_RESET,      /**< gone from the log before they were read,
                                  skipped by a reset */
        RED_SKIP__CNT
} red_skip_reason_t;

/** "fetch", "no_records", ... (the metric labels). */
const char *red_pipeline_gap_cause_name(red_gap_cause_t cause);
const char *red_pipeline_skip_reason_name(red_skip_reason_t reason);

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
        uint64_t gaps[RED_GAP__CNT];
        uint64_t offsets_skipped[RED_SKIP__CNT];
        uint64_t offset_resets;      /**< by kafka.offset_gap_policy reset */
        size_t partitions_stopped;   /**< by kafka.offset_gap_policy fail */
        char stopped_partition[300]; /**< "topic[p]" of the first of them */
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
