/*
 * red_pipeline - one contract's worker: a thread that owns a Kafka
 * consumer-group member, the reducer core and the Postgres sink.
 *
 * poll -> core (decode, late policy, FSM, aggregate) -> dead letters
 * produced and flushed -> one Postgres transaction (offsets CAS) -> Kafka
 * offsets committed for lag tools. Offsets live in Postgres: on assignment
 * each partition is sought to its stored offset (after checking the
 * message stored with it: the same log?). While Postgres is down the
 * partitions are paused and the batch is retried with back-off; every
 * resume seeks to the offset needed next. A fenced batch is dropped and
 * the partitions re-sought. Offsets are read without a hole; a stored
 * offset the broker's log does not hold follows kafka.offset_gap_policy
 * (red_pipeline_gaps.h).
 */
#ifndef RED_PIPELINE_H
#define RED_PIPELINE_H

#include "red_attr.h"
#include "red_config.h"
#include "red_contract.h"
#include "red_core.h"
#include "red_pipeline_stats.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct red_pipeline_s red_pipeline_t;

/**
 * A pipeline for @p c (borrowed) with the service config @p conf
 * (borrowed) and the bootstrap servers @p brokers. Returns NULL with a
 * message. Destroy with red_pipeline_destroy() after red_pipeline_join().
 */
red_pipeline_t *red_pipeline_new(const red_contract_t *c,
                                 const red_config_t *conf, const char *brokers,
                                 char *errstr, size_t errstr_size);

/** Starts the thread. 0 or -1 with a message. */
int red_pipeline_start(red_pipeline_t *p, char *errstr,
                       size_t errstr_size) RED_MUSTCHECK;

/** Asks for a graceful stop: the batch is committed, the consumer closed. */
void red_pipeline_stop(red_pipeline_t *p);

/** Waits for the thread to end. */
void red_pipeline_join(red_pipeline_t *p);

void red_pipeline_destroy(red_pipeline_t *p);

/** A snapshot of the pipeline's numbers. */
void red_pipeline_stats(red_pipeline_t *p, red_pipeline_stats_t *out);

/** The contract's domain series (red_dmetrics.h): copies its
 * c->metric_values values into @p out. */
void red_pipeline_metrics(red_pipeline_t *p, double *out);

/** Per-partition consumer lag for metrics: fills up to @p max entries of
 * @p out, returns how many. */
size_t red_pipeline_lag(red_pipeline_t *p, red_pipeline_lag_t *out, size_t max);

/**
 * Alerts fired and resolved so far by rule: the contract's per-event
 * rules, then its window rules, @p max at most into each array. Returns
 * the number of rules.
 */
size_t red_pipeline_alert_rules(red_pipeline_t *p, uint64_t *fired,
                                uint64_t *resolved, size_t max);

const red_contract_t *red_pipeline_contract(const red_pipeline_t *p);

#endif
