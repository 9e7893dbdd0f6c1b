/*
 * red_pipeline_impl - the inside of a pipeline, shared by the files that
 * implement it and by no other module:
 *
 *   red_pipeline.c        life cycle, the thread's loop, the rebalance
 *                         callback, periodic work
 *   red_pipeline_parts.c  the assigned partitions: stored positions, the
 *                         frontier, pauses for alignment, lag
 *   red_pipeline_batch.c  the batch: add, release, write once, or retry
 *   red_pipeline_dlq.c    the dead-letter producer
 *   red_pipeline_gaps.c   offsets that were not read as they came
 *   red_pipeline_impl.c   Postgres availability and back-off
 *
 * One thread, the pipeline's, runs all of it: librdkafka calls the
 * rebalance and error callbacks from rd_kafka_consumer_poll() on it. Other
 * threads read only the stats and the partitions' lag, under the lock.
 */
#ifndef RED_PIPELINE_IMPL_H
#define RED_PIPELINE_IMPL_H

#include "red_attr.h"
#include "red_config.h"
#include "red_contract.h"
#include "red_core.h"
#include "red_pipeline_stats.h"
#include "red_sink.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct red_pipeline_s red_pipeline_t;
typedef struct red_pipeline_dlq_s red_pipeline_dlq_t;

/* An assigned partition: where Postgres says it stands, and the batch. */
typedef struct red_pipeline_part_s {
        char *topic;
        int32_t partition;
        int64_t committed; /* next offset stored in Postgres (-1: beginning) */
        int64_t fetched;   /* last offset added + 1, or -1 */
        int64_t lag;
        int64_t dead_through;   /* dead letters sent up to here (offset + 1) */
        int64_t queried;        /* monotonic µs of the last watermark query */
        int64_t reseek;         /* sought back here after a gap, or -1 */
        int64_t verify;         /* read from here first, the message the
                                   stored position was taken after, or -1 */
        uint64_t verify_digest; /* its stored red_core_msg_digest() */
        int64_t reset_prev;     /* a reset not yet recorded in Postgres: */
        int64_t reset_next;     /* its arguments (red_pipeline_gaps.c) */
        int64_t last_arrival;   /* monotonic µs of its last message (or of
                                   its assignment): idle for the frontier */
        bool empty;             /* nothing to read at the last query */
        bool held;              /* paused: running ahead of the frontier */
        bool stopped;           /* not consumed: an offset gap under
                                   kafka.offset_gap_policy fail */
        bool reset_pending;     /* reset_prev/next wait for Postgres */
} red_pipeline_part_t;

struct red_pipeline_s {
        const red_contract_t *c;
        const red_config_t *conf;
        pthread_t thread;
        bool started;
        atomic_bool stop;

        rd_kafka_t *consumer;
        rd_kafka_t *dlq;
        red_core_t *core;
        red_sink_t *sink;
        int generation;

        red_pipeline_part_t *parts;
        size_t part_cnt, part_cap;
        size_t last_part;

        /* messages added since the last flush (they live in the core,
         * which hands them back through on_done once written) */
        size_t msg_cnt;
        size_t batch_bytes;
        int64_t batch_started; /* monotonic µs of the first of them */
        size_t reorder_limit;  /* buffered events that pause the fast ones */
        int64_t backoff_ms;
        bool processed;    /* released and prepared: a retry only writes */
        bool flushing;     /* inside flush (rebalances may nest) */
        bool in_rebalance; /* inside the rebalance callback */
        bool all_paused;   /* a flush holds every partition paused */
        bool backlog;      /* the last release hit the batch cap */
        int64_t t_frontier, t_release, t_write; /* µs, last batch */
        /* data PostgreSQL refused, being narrowed down (batch.c) */
        size_t isolate_max; /* batch limit while narrowing, 0: not */
        long isolate_left;  /* events of the refused batch still to pass */
        bool isolate_rows;  /* one event at a time (red_core_release_one) */

        red_gap_policy_t gap_policy; /* in effect (embedded: reset) */
        /* offset errors polled while a flush waited, handled after it */
        rd_kafka_message_t **deferred;
        size_t deferred_cnt, deferred_cap;

        red_pipeline_dlq_t *dlq_state; /* red_pipeline_dlq.c */

        /* monotonic µs of the last message, resume or assignment: a
         * message after idle_wait without any is a stream starting again
         * (red_pipeline_parts_arrival()) */
        int64_t last_activity;
        int64_t last_finalize;
        int64_t last_sweep; /* the state sinks' staleness sweep */
        bool start_sent;    /* the state sinks' start events */
        int64_t last_lag;
        int64_t last_flush;
        int64_t last_progress;
        int64_t last_probe;
        int64_t last_states;
        uint64_t last_consumed;
        uint64_t last_accounted; /* of the last reconciliation error */

        pthread_mutex_t lock;
        red_pipeline_stats_t stats;
        /* alerts fired and resolved by rule (red_sink_alert_rule_cnt():
         * the per-event rules, then the window rules), under the lock */
        uint64_t *rule_fired, *rule_resolved;
        /* the contract's domain series (red_dmetrics.h): the core's totals
         * as of the last commit, the workflow gauges from state_counts */
        double *metrics;
        int64_t *state_counts; /* per FSM state, once read */
        bool states_known;
};

/** Adds the alerts the sink's last write or finalisation fired and
 * resolved to the stats (under the lock). */
void red_pipeline_count_alerts(red_pipeline_t *p);

/** Adds one to a counter of p->stats under the lock. */
void red_pipeline_count(red_pipeline_t *p, uint64_t *counter);

/** Records whether Postgres is reachable (stats.pg_up). */
void red_pipeline_set_pg_up(red_pipeline_t *p, bool up);

/** Connects the sink if needed; false when Postgres is not reachable now. */
bool red_pipeline_ensure_pg(red_pipeline_t *p);

/** Doubles the back-off (from 100 ms, up to postgres.retry_max_ms). */
void red_pipeline_backoff(red_pipeline_t *p);

/** Waits @p ms while keeping the consumer's group membership alive (no
 * polling inside the rebalance callback: a plain sleep there). Messages
 * polled meanwhile are dropped (read again after the wait), except offset
 * errors, kept in p->deferred for the loop. */
void red_pipeline_wait(red_pipeline_t *p, int64_t ms);


#endif
