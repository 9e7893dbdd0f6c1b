/*
 * red_pipeline - one contract's worker: a thread that owns a Kafka
 * consumer-group member, the reducer core and the Postgres sink.
 *
 * poll -> core (decode, late policy, FSM, aggregate) -> dead letters
 * produced and flushed -> one Postgres transaction (offsets CAS) -> Kafka
 * offsets committed for lag tools. Offsets live in Postgres: on assignment
 * each partition is sought to its stored offset. While Postgres is down
 * the partitions are paused and the batch is retried with back-off; a
 * fenced batch is dropped and the partitions re-sought.
 */
#ifndef RED_PIPELINE_H
#define RED_PIPELINE_H

#include "red_attr.h"
#include "red_config.h"
#include "red_contract.h"
#include "red_core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct red_pipeline_s red_pipeline_t;

/** Live numbers of a pipeline (copied out under its lock). */
typedef struct red_pipeline_stats_s {
        red_core_counters_t core;   /**< committed batches */
        uint64_t batches;
        uint64_t fenced;
        uint64_t replayed;  /**< batches consumed again (a raw row race) */
        uint64_t alerts[3]; /**< alerts fired: CRITICAL, WARNING, INFO */
        uint64_t pg_errors;
        uint64_t pg_reconnects;
        uint64_t dlq_errors;
        uint64_t live_workflows;
        bool kafka_up;
        bool pg_up;
        bool assigned;   /**< owns at least one partition */
        bool joined;     /**< holds an assignment from the group (maybe empty) */
        size_t partitions;
        uint64_t buffered; /**< events in the reorder buffer */
        /* histograms: upper bounds in ms / events, last bucket +Inf */
        uint64_t latency_buckets[16];
        double latency_sum_ms;
        uint64_t size_buckets[16];
        double size_sum;
} red_pipeline_stats_t;

extern const double red_pipeline_latency_bounds_ms[15];
extern const double red_pipeline_size_bounds[15];

/**
 * A pipeline for @p c (borrowed) with the service config @p conf
 * (borrowed) and the bootstrap servers @p brokers. Returns NULL with a
 * message. Destroy with red_pipeline_destroy() after red_pipeline_join().
 */
red_pipeline_t *red_pipeline_new(const red_contract_t *c,
                                 const red_config_t *conf,
                                 const char *brokers, char *errstr,
                                 size_t errstr_size);

/** Starts the thread. 0 or -1 with a message. */
int red_pipeline_start(red_pipeline_t *p, char *errstr, size_t errstr_size)
        RED_MUSTCHECK;

/** Asks for a graceful stop: the batch is committed, the consumer closed. */
void red_pipeline_stop(red_pipeline_t *p);

/** Waits for the thread to end. */
void red_pipeline_join(red_pipeline_t *p);

void red_pipeline_destroy(red_pipeline_t *p);

/** A snapshot of the pipeline's numbers. */
void red_pipeline_stats(red_pipeline_t *p, red_pipeline_stats_t *out);

/** Per-partition consumer lag ("topic", partition, lag) for metrics. */
typedef struct red_pipeline_lag_s {
        char topic[256];
        int32_t partition;
        int64_t lag; /**< -1 unknown */
} red_pipeline_lag_t;
size_t red_pipeline_lag(red_pipeline_t *p, red_pipeline_lag_t *out,
                        size_t max);

const red_contract_t *red_pipeline_contract(const red_pipeline_t *p);

#endif
