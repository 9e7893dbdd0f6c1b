/* red_pipeline - one contract's consumer loop: poll, reduce, write once. */
#include "red_pipeline.h"

#include "red_dmetrics.h"
#include "red_failpoint.h"
#include "red_kafka_conf.h"
#include "red_log.h"
#include "red_pipeline_batch.h"
#include "red_pipeline_dlq.h"
#include "red_pipeline_gaps.h"
#include "red_pipeline_impl.h"
#include "red_pipeline_parts.h"
#include "red_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* --- librdkafka callbacks --------------------------------------------- */

static void kafka_error_cb(rd_kafka_t *rk, int err, const char *reason,
                           void *opaque)
{
        red_pipeline_t *p = opaque;

        (void)rk;
        if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ||
            err == RD_KAFKA_RESP_ERR__TRANSPORT) {
                pthread_mutex_lock(&p->lock);
                p->stats.kafka_up = false;
                pthread_mutex_unlock(&p->lock);
        }
        red_log_warn("kafka", "%s: %s: %s", p->c->name,
                     rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

/* The core is done with a message (red_core_done_cb). */
static void on_done(void *opaque, void *arg)
{
        (void)arg;
        rd_kafka_message_destroy(opaque);
}

/* Partitions come: each starts where Postgres says, never at Kafka's
 * committed offset (a copy for lag tools only). */
static rd_kafka_error_t *assign(red_pipeline_t *p, rd_kafka_t *rk,
                                rd_kafka_topic_partition_list_t *parts,
                                bool cooperative)
{
        /* counts assignments; stored with the offsets as the owner's */
        p->generation++;
        if (!red_pipeline_parts_load(p, parts)) {
                red_log_warn("pipeline", "%s: stopping during assignment",
                             p->c->name);
        }
        red_log_info("pipeline",
                     "%s: assigned %d partition%s (%s), positions from "
                     "Postgres",
                     p->c->name, parts->cnt, parts->cnt == 1 ? "" : "s",
                     cooperative ? "cooperative" : "eager");
        if (cooperative) {
                rd_kafka_error_t *kerr = rd_kafka_incremental_assign(rk, parts);
                if (!kerr) {
                        red_pipeline_parts_assigned(p, parts);
                        red_pipeline_gaps_log_starts(p);
                }
                return kerr;
        }
        rd_kafka_assign(rk, parts);
        red_pipeline_parts_assigned(p, parts);
        red_pipeline_gaps_log_starts(p);
        return NULL;
}

/* Partitions go: what was read from them is written first, while they
 * are still ours; what is still buffered is the next owner's. */
static rd_kafka_error_t *revoke(red_pipeline_t *p, rd_kafka_t *rk,
                                rd_kafka_topic_partition_list_t *parts,
                                bool cooperative)
{
        red_failpoint("in_revoke");
        if (p->flushing) {
                /* revoked while a write was being retried (the flush polls
                 * while it waits): give the batch up, the next owner
                 * resumes from Postgres */
                red_pipeline_batch_forget(p);
        } else {
                /* commit what we have before the partitions go */
                red_pipeline_batch_flush(p, true);
        }
        for (int i = 0; i < parts->cnt; i++) {
                /* what is still buffered is the next owner's */
                red_core_drop_partition(p->core, parts->elems[i].topic,
                                        parts->elems[i].partition);
                red_pipeline_parts_remove(p, parts->elems[i].topic,
                                          parts->elems[i].partition);
        }
        red_log_info("pipeline", "%s: revoked %d partition%s", p->c->name,
                     parts->cnt, parts->cnt == 1 ? "" : "s");
        if (cooperative) {
                return rd_kafka_incremental_unassign(rk, parts);
        }
        rd_kafka_assign(rk, NULL);
        return NULL;
}

/*
 * The rebalance callback runs on the pipeline's thread, inside
 * rd_kafka_consumer_poll() (the loop's, or the one a flush waits in).
 * Both protocols: eager (everything is revoked, then a new assignment
 * comes whole: rd_kafka_assign) and cooperative (only the partitions that
 * move: rd_kafka_incremental_assign/unassign). Nothing may poll while it
 * runs (in_rebalance: waits sleep instead).
 */
static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
        red_pipeline_t *p = opaque;
        bool cooperative =
                !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
        bool assigned = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
        rd_kafka_error_t *kerr;

        p->in_rebalance = true;
        kerr = assigned ? assign(p, rk, parts, cooperative)
                        : revoke(p, rk, parts, cooperative);
        if (kerr) {
                red_log_error("kafka", "%s: rebalance: %s", p->c->name,
                              rd_kafka_error_string(kerr));
                rd_kafka_error_destroy(kerr);
        }
        p->in_rebalance = false;
        red_pipeline_parts_publish(p, assigned || p->part_cnt > 0);
}

/* --- set-up ----------------------------------------------------------- */

/* The consumer-group member, with our callbacks. */
static int open_consumer(red_pipeline_t *p, const char *brokers,
                         const char *client_id, char *errstr,
                         size_t errstr_size)
{
        rd_kafka_conf_t *kc;
        char err[512];

        if (!(kc = red_kafka_conf_consumer(p->conf, brokers, client_id,
                                           p->c->consumer_group, errstr,
                                           errstr_size))) {
                return -1;
        }
        rd_kafka_conf_set_opaque(kc, p);
        rd_kafka_conf_set_rebalance_cb(kc, rebalance_cb);
        rd_kafka_conf_set_error_cb(kc, kafka_error_cb);
        if (!(p->consumer =
                      rd_kafka_new(RD_KAFKA_CONSUMER, kc, err, sizeof(err)))) {
                rd_kafka_conf_destroy(kc);
                snprintf(errstr, errstr_size, "kafka consumer: %s", err);
                return -1;
        }
        /* one queue: messages and callbacks come from consumer_poll */
        rd_kafka_poll_set_consumer(p->consumer);
        return 0;
}

red_pipeline_t *red_pipeline_new(const red_contract_t *c,
                                 const red_config_t *conf, const char *brokers,
                                 char *errstr, size_t errstr_size)
{
        red_pipeline_t *p = calloc(1, sizeof(*p));
        char id[300];

        if (!p) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        pthread_mutex_init(&p->lock, NULL);
        p->c = c;
        p->conf = conf;
        /* the embedded cluster is new at every start: positions stored by
         * an earlier run can only be reset */
        p->gap_policy =
                red_config_kafka_embedded(conf)
                        ? RED_GAP_POLICY_RESET
                        : (red_gap_policy_t)conf->kafka_offset_gap_policy;
        p->reorder_limit = (size_t)conf->batch_max_events * 10;
        if (!(p->core = red_core_new(c, (size_t)conf->workflows_max_live,
                                     conf->workflows_terminal_ttl_s *
                                             RED_TIME_US_PER_SEC,
                                     on_done, NULL, errstr, errstr_size))) {
                goto err;
        }
        if (!(p->sink = red_sink_new(c, conf->postgres_conninfo,
                                     conf->instance_id)) ||
            !(p->rule_fired = calloc(red_sink_alert_rule_cnt(p->sink) + 1,
                                     sizeof(uint64_t))) ||
            !(p->rule_resolved = calloc(red_sink_alert_rule_cnt(p->sink) + 1,
                                        sizeof(uint64_t)))) {
                snprintf(errstr, errstr_size, "out of memory");
                goto err;
        }
        /* Alertmanager forgets a firing window alert 4 re-send intervals
         * after it was last sent (Prometheus does the same) */
        red_sink_set_alert_delivery(p->sink, red_config_alert_delivery(conf),
                                    4 * conf->alerting_resend_interval_s *
                                            RED_TIME_US_PER_SEC);
        snprintf(id, sizeof(id), "reducerd-%s-%s", c->name, conf->instance_id);
        if (open_consumer(p, brokers, id, errstr, errstr_size) ||
            red_pipeline_dlq_open(p, brokers, id, errstr, errstr_size)) {
                goto err;
        }
        p->stats.kafka_up = true;
        if (!(p->metrics = calloc(c->metric_values ? c->metric_values : 1,
                                  sizeof(double))) ||
            !(p->state_counts = calloc(c->fsm ? c->fsm->state_cnt : 1,
                                       sizeof(int64_t)))) {
                snprintf(errstr, errstr_size, "out of memory");
                goto err;
        }
        memcpy(p->metrics, red_core_metrics(p->core),
               c->metric_values * sizeof(double));
        return p;
err:
        red_pipeline_destroy(p);
        return NULL;
}

void red_pipeline_destroy(red_pipeline_t *p)
{
        if (!p) {
                return;
        }
        /* the core holds messages: it goes before the consumer */
        red_core_destroy(p->core);
        p->core = NULL;
        if (p->consumer) {
                rd_kafka_destroy(p->consumer);
        }
        red_pipeline_dlq_close(p);
        red_sink_destroy(p->sink);
        free(p->rule_fired);
        free(p->rule_resolved);
        red_pipeline_parts_destroy(p);
        for (size_t i = 0; i < p->deferred_cnt; i++) {
                rd_kafka_message_destroy(p->deferred[i]);
        }
        free(p->deferred);
        pthread_mutex_destroy(&p->lock);
        free(p->metrics);
        free(p->state_counts);
        free(p);
}

const red_contract_t *red_pipeline_contract(const red_pipeline_t *p)
{
        return p->c;
}

/* --- periodic work ---------------------------------------------------- */

/* Every 10 s with news: one line on what was written, and an error when
 * the counters do not reconcile (each term is counted where it happens,
 * red_core_counters_t, so a message that went nowhere shows here). */
static void progress(red_pipeline_t *p, int64_t now)
{
        const red_core_counters_t *k = red_core_counters(p->core);
        uint64_t lag = 0, accounted;

        if (now - p->last_progress < 10000000 ||
            k->consumed == p->last_consumed) {
                return;
        }
        accounted =
                k->applied + k->dead_lettered + k->late_dropped + k->duplicates;
        if (accounted != k->consumed && accounted != p->last_accounted) {
                red_log_error("pipeline",
                              "%s: counters do not reconcile: %llu consumed, "
                              "%llu applied, dead-lettered, dropped or "
                              "duplicate",
                              p->c->name, (unsigned long long)k->consumed,
                              (unsigned long long)accounted);
                p->last_accounted = accounted;
        }
        for (size_t i = 0; i < p->part_cnt; i++) {
                lag += p->parts[i].lag > 0 ? (uint64_t)p->parts[i].lag : 0;
        }
        red_log_info(
                "pipeline",
                "%s: +%llu events in %.0f s: %llu consumed = %llu "
                "applied + %llu dead-lettered + %llu late-dropped + "
                "%llu duplicates; lag %llu",
                p->c->name,
                (unsigned long long)(k->consumed - p->last_consumed),
                (double)(now - p->last_progress) / 1e6,
                (unsigned long long)k->consumed, (unsigned long long)k->applied,
                (unsigned long long)k->dead_lettered,
                (unsigned long long)k->late_dropped,
                (unsigned long long)k->duplicates, (unsigned long long)lag);
        p->last_consumed = k->consumed;
        p->last_progress = now;
}

/* Every 5 s, and only while no message proves it: can we reach a broker? */
static void probe_kafka(red_pipeline_t *p, int64_t now)
{
        const struct rd_kafka_metadata *md;
        bool up;

        if (now - p->last_probe < 5000000) {
                return;
        }
        p->last_probe = now;
        up = rd_kafka_metadata(p->consumer, 0, NULL, &md, 1000) ==
             RD_KAFKA_RESP_ERR_NO_ERROR;
        if (up) {
                rd_kafka_metadata_destroy(md);
        }
        pthread_mutex_lock(&p->lock);
        if (p->stats.kafka_up != up) {
                red_log_warn("kafka", "%s: brokers %s", p->c->name,
                             up ? "reachable again" : "unreachable");
        }
        p->stats.kafka_up = up;
        pthread_mutex_unlock(&p->lock);
}

/* Every 2 s while no batch is open: cells whose windows every partition
 * has passed become final (red_frontier.h on why the clock plays no part). */
static void finalize(red_pipeline_t *p)
{
        char err[1024];
        long fin;

        /* idle: a lost connection is noticed and mended here */
        if (!red_sink_connected(p->sink) && !red_pipeline_ensure_pg(p)) {
                red_pipeline_set_pg_up(p, false);
                return;
        }
        if (!p->c->agg_cnt) {
                return;
        }
        if (red_sink_finalize(p->sink, &fin, err, sizeof(err))) {
                red_log_warn("postgres", "%s: finalising cells: %s", p->c->name,
                             err);
                red_pipeline_set_pg_up(p, red_sink_connected(p->sink));
        } else if (fin) {
                red_log_info("pipeline", "%s: %ld cells final", p->c->name,
                             fin);
                red_pipeline_count_alerts(p);
        }
}

/*
 * Every second while no batch is open: the state sinks' staleness sweep.
 * Its clock is the event-time frontier (where every assigned partition is
 * caught up, the wall clock less idle_wait), never ahead of the wall
 * clock: a worker that lags behind its partitions does not declare a
 * node stale whose heartbeat it has not read yet. Only the rows of the
 * partitions this worker owns are judged.
 */
static void sweep(red_pipeline_t *p)
{
        red_time_t clock = red_pipeline_parts_frontier(p, true),
                   now = red_time_now();
        int32_t *parts;
        size_t cnt = 0;
        char err[1024];
        long changed = 0;

        if (!p->c->state_cnt || !p->part_cnt || clock == INT64_MIN ||
            !red_sink_connected(p->sink)) {
                return;
        }
        if (clock > now) {
                clock = now;
        }
        if (!(parts = calloc(p->part_cnt, sizeof(*parts)))) {
                return;
        }
        for (size_t i = 0; i < p->part_cnt; i++) {
                bool seen = false;
                for (size_t k = 0; k < cnt; k++) {
                        seen |= parts[k] == p->parts[i].partition;
                }
                if (!seen) {
                        parts[cnt++] = p->parts[i].partition;
                }
        }
        if (red_sink_sweep(p->sink, clock, parts, cnt, &changed, err,
                           sizeof(err))) {
                red_log_warn("postgres", "%s: staleness sweep: %s", p->c->name,
                             err);
        } else if (changed) {
                size_t tcnt;
                red_state_table_t **ts = red_core_states(p->core, &tcnt);
                /* the rows changed behind the core's back */
                for (size_t k = 0; k < tcnt; k++) {
                        red_state_table_forget(ts[k]);
                }
                red_log_info("pipeline", "%s: %ld state rows changed status",
                             p->c->name, changed);
        }
        free(parts);
}

/* Once, when the worker first reaches Postgres: the state sinks' start
 * events (e.g. the registry asks running nodes to announce themselves). */
static void start_events(red_pipeline_t *p)
{
        char err[1024];

        if (p->start_sent || !p->c->state_cnt || !red_sink_connected(p->sink)) {
                return;
        }
        if (red_sink_start_events(p->sink, err, sizeof(err))) {
                red_log_warn("postgres", "%s: start events: %s", p->c->name,
                             err);
                return;
        }
        p->start_sent = true;
}

/* Every 15 s while no batch is open, for the contract's gauges of
 * workflows per state (metrics: with source workflows): the counts of the
 * current-state table. Every replica reads the same table. */
static void count_states(red_pipeline_t *p, int64_t now)
{
        const red_contract_t *c = p->c;
        int64_t counts[RED_CONTRACT_MAX_STATES];
        char err[1024];

        if (now - p->last_states < 15000000 || !red_dmetrics_has_states(c) ||
            !red_sink_connected(p->sink)) {
                return;
        }
        p->last_states = now;
        if (red_sink_count_states(p->sink, counts, err, sizeof(err))) {
                red_log_warn("postgres", "%s: counting workflows by state: %s",
                             c->name, err);
                red_pipeline_set_pg_up(p, red_sink_connected(p->sink));
                return;
        }
        pthread_mutex_lock(&p->lock);
        memcpy(p->state_counts, counts, c->fsm->state_cnt * sizeof(*counts));
        p->states_known = true;
        red_dmetrics_set_states(c, p->metrics, p->state_counts);
        pthread_mutex_unlock(&p->lock);
}

static void periodic(red_pipeline_t *p)
{
        int64_t now = red_time_mono_us();

        progress(p, now);
        probe_kafka(p, now);
        if (now - p->last_lag > 1000000) {
                p->last_lag = now;
                pthread_mutex_lock(&p->lock);
                red_pipeline_parts_update_lag(p);
                pthread_mutex_unlock(&p->lock);
                red_pipeline_parts_unstall(p);
        }
        if (now - p->last_finalize > 2000000 && !p->msg_cnt) {
                p->last_finalize = now;
                finalize(p);
                red_pipeline_gaps_retry(p);
        }
        if (!p->msg_cnt) {
                count_states(p, now);
        }
        if (now - p->last_sweep > 1000000 && !p->msg_cnt &&
            !red_core_buffered(p->core)) {
                p->last_sweep = now;
                start_events(p);
                sweep(p);
        }
}

/* --- the thread ------------------------------------------------------- */

/* Before joining the group: Postgres must answer (the first assignment
 * reads the positions from it). */
static void wait_for_postgres(red_pipeline_t *p)
{
        while (!atomic_load(&p->stop) && !red_pipeline_ensure_pg(p)) {
                red_pipeline_backoff(p);
                red_log_warn("postgres", "%s: retrying in %lld ms", p->c->name,
                             (long long)p->backoff_ms);
                struct timespec ts = {p->backoff_ms / 1000,
                                      (p->backoff_ms % 1000) * 1000000};
                nanosleep(&ts, NULL);
        }
        p->backoff_ms = 0;
}

static bool subscribe(red_pipeline_t *p)
{
        rd_kafka_topic_partition_list_t *topics;
        rd_kafka_resp_err_t err;

        topics = rd_kafka_topic_partition_list_new((int)p->c->input_cnt);
        for (size_t i = 0; i < p->c->input_cnt; i++) {
                rd_kafka_topic_partition_list_add(topics, p->c->inputs[i].topic,
                                                  RD_KAFKA_PARTITION_UA);
        }
        err = rd_kafka_subscribe(p->consumer, topics);
        rd_kafka_topic_partition_list_destroy(topics);
        if (err) {
                red_log_error("kafka", "%s: subscribe: %s", p->c->name,
                              rd_kafka_err2str(err));
                return false;
        }
        red_log_info("pipeline", "%s: consuming %zu topics as group %s",
                     p->c->name, p->c->input_cnt, p->c->consumer_group);
        return true;
}

/* How long a poll may wait: until the open batch is due, 100 ms at most;
 * 5 ms while a CRITICAL alert waits for the frontier (which moves with the
 * clock), 20 ms while other events wait for it; not at all while a
 * backlog is ready. */
static int poll_timeout(red_pipeline_t *p, int64_t max_us)
{
        int64_t left;

        if (p->backlog) {
                /* the next batch is ready in the reorder buffer: it goes
                 * at once (flush_due()), without waiting for a message */
                return 0;
        }
        if (red_core_urgent(p->core) != INT64_MAX) {
                return 5;
        }
        if (!p->msg_cnt) {
                return red_core_buffered(p->core) ? 20 : 100;
        }
        left = (p->batch_started + max_us - red_time_mono_us()) / 1000;
        return left < 0 ? 0 : left < 100 ? (int)left : 100;
}

/* Takes one message or event from the consumer (callbacks run in here),
 * after the offset errors a flush's wait kept; false when nothing came
 * (the consumer is idle). */
static bool poll_once(red_pipeline_t *p, int timeout_ms)
{
        rd_kafka_message_t *m;

        for (size_t i = 0; i < p->deferred_cnt; i++) {
                red_pipeline_gaps_out_of_range(p, p->deferred[i]);
                rd_kafka_message_destroy(p->deferred[i]);
        }
        p->deferred_cnt = 0;
        if (!(m = rd_kafka_consumer_poll(p->consumer, timeout_ms))) {
                return false;
        }
        if (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET) {
                /* the offset a partition needs is not in the log */
                red_pipeline_gaps_out_of_range(p, m);
                rd_kafka_message_destroy(m);
                return true;
        }
        if (m->err) {
                if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                        red_log_warn("kafka", "%s: %s", p->c->name,
                                     rd_kafka_message_errstr(m));
                }
                rd_kafka_message_destroy(m);
                return true;
        }
        pthread_mutex_lock(&p->lock);
        p->stats.kafka_up = true;
        pthread_mutex_unlock(&p->lock);
        p->last_probe = red_time_mono_us();
        red_pipeline_batch_add(p, m);
        return true;
}

/*
 * Whether to flush now. An open batch goes at batch.max_events,
 * batch.max_bytes or batch.max_ms, or at once while a backlog is ready or
 * a CRITICAL alert can be released. Events that only wait in the reorder
 * buffer (their batch went without them) go as soon as the frontier
 * passes the oldest of them while the consumer is idle: the frontier moves
 * with the clock once the partitions holding it turn IDLE, at the end of
 * a burst or after a lone event, and that is when they are due, not
 * batch.max_ms later. While messages stream in, the open batch takes
 * them along.
 */
static bool flush_due(red_pipeline_t *p, int64_t max_us, bool idle)
{
        int64_t now = red_time_mono_us();
        red_time_t urgent = red_core_urgent(p->core);

        /* a CRITICAL alert waits only for the event-time order: as soon as
         * the frontier passes it, it is written, whatever the batch size
         * (README "Alert delivery"). Looked at while the consumer is idle:
         * while messages stream in, the partitions still reading hold the
         * frontier anyway, and the batch goes at batch.max_ms. */
        if (urgent != INT64_MAX && idle &&
            red_pipeline_parts_frontier(p, true) > urgent) {
                return true;
        }
        if (p->msg_cnt) {
                return p->backlog ||
                       p->msg_cnt >= (size_t)p->conf->batch_max_events ||
                       p->batch_bytes >= (size_t)p->conf->batch_max_bytes ||
                       now - p->batch_started >= max_us;
        }
        return red_core_buffered(p->core) &&
               (p->backlog || now - p->last_flush >= max_us ||
                (idle && red_pipeline_parts_frontier(p, true) >
                                 red_core_next_release(p->core)));
}

static void *run(void *arg)
{
        red_pipeline_t *p = arg;
        int64_t max_us = p->conf->batch_max_ms * 1000;

        wait_for_postgres(p);
        if (!subscribe(p)) {
                return NULL;
        }
        p->last_progress = red_time_mono_us();
        while (!atomic_load(&p->stop)) {
                bool idle = !poll_once(p, poll_timeout(p, max_us));

                if (flush_due(p, max_us, idle)) {
                        red_pipeline_batch_flush(p, false);
                        p->last_flush = red_time_mono_us();
                }
                periodic(p);
        }
        /* graceful stop: write what we have, then leave the group */
        red_pipeline_batch_flush(p, false);
        rd_kafka_consumer_close(p->consumer);
        red_log_info("pipeline", "%s: stopped", p->c->name);
        return NULL;
}

/* --- the interface ---------------------------------------------------- */

int red_pipeline_start(red_pipeline_t *p, char *errstr, size_t errstr_size)
{
        int r = pthread_create(&p->thread, NULL, run, p);

        if (r) {
                snprintf(errstr, errstr_size, "pthread_create: %s",
                         strerror(r));
                return -1;
        }
        p->started = true;
        return 0;
}

void red_pipeline_stop(red_pipeline_t *p)
{
        atomic_store(&p->stop, true);
}

void red_pipeline_join(red_pipeline_t *p)
{
        if (p->started) {
                pthread_join(p->thread, NULL);
                p->started = false;
        }
}

void red_pipeline_stats(red_pipeline_t *p, red_pipeline_stats_t *out)
{
        pthread_mutex_lock(&p->lock);
        *out = p->stats;
        pthread_mutex_unlock(&p->lock);
}

void red_pipeline_metrics(red_pipeline_t *p, double *out)
{
        pthread_mutex_lock(&p->lock);
        memcpy(out, p->metrics, p->c->metric_values * sizeof(double));
        pthread_mutex_unlock(&p->lock);
}

size_t red_pipeline_lag(red_pipeline_t *p, red_pipeline_lag_t *out, size_t max)
{
        size_t n = 0;

        pthread_mutex_lock(&p->lock);
        for (size_t i = 0; i < p->part_cnt && n < max; i++, n++) {
                snprintf(out[n].topic, sizeof(out[n].topic), "%s",
                         p->parts[i].topic);
                out[n].partition = p->parts[i].partition;
                out[n].lag = p->parts[i].lag;
        }
        pthread_mutex_unlock(&p->lock);
        return n;
}

size_t red_pipeline_alert_rules(red_pipeline_t *p, uint64_t *fired,
                                uint64_t *resolved, size_t max)
{
        size_t n = red_sink_alert_rule_cnt(p->sink);

        pthread_mutex_lock(&p->lock);
        for (size_t i = 0; i < n && i < max; i++) {
                fired[i] = p->rule_fired[i];
                resolved[i] = p->rule_resolved[i];
        }
        pthread_mutex_unlock(&p->lock);
        return n < max ? n : max;
}
