/* red_pipeline - the consumer loop of one contract: poll, reduce, write once, repeat. */
#include "red_pipeline.h"
#include "red_kafka_conf.h"

#include "red_failpoint.h"
#include "red_frontier.h"
#include "red_log.h"
#include "red_rows.h"
#include "red_sink.h"
#include "red_time.h"

#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const double red_pipeline_latency_bounds_ms[15] = {
        5, 10, 25, 50, 100, 250, 500, 750, 1000, 1500, 2500, 5000, 10000,
        30000, 60000};
const double red_pipeline_size_bounds[15] = {
        1, 10, 50, 100, 500, 1000, 2500, 5000, 10000, 20000, 50000, 100000,
        250000, 500000, 1000000};

/* An assigned partition: where Postgres says it stands, and the batch. */
typedef struct part_s {
        char *topic;
        int32_t partition;
        int64_t committed;  /* next offset stored in Postgres (-1: beginning) */
        int64_t fetched;    /* last offset added + 1, or -1 */
        int64_t lag;
        int64_t dead_through; /* dead letters sent up to here (offset + 1) */
        int64_t queried;    /* monotonic µs of the last watermark query */
        bool empty;         /* nothing to read at the last query */
        bool held;          /* paused: running ahead of the frontier */
} part_t;

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

        part_t *parts;
        size_t part_cnt, part_cap;
        size_t last_part;

        /* messages added since the last flush (they live in the core,
         * which hands them back through on_done once written) */
        size_t msg_cnt;
        size_t batch_bytes;
        int64_t batch_started; /* monotonic µs of the first of them */
        size_t reorder_limit;  /* buffered events before a forced release */
        int64_t backoff_ms;
        bool processed;        /* the core has processed the batch */
        bool flushing;         /* inside flush_batch (rebalances may nest) */
        bool in_rebalance;     /* inside the rebalance callback */
        bool backlog;          /* the last release hit the batch cap */
        int64_t t_frontier, t_release, t_write; /* µs, last batch */

        atomic_long dlq_pending;
        atomic_long dlq_failed;

        int64_t last_finalize;
        int64_t last_lag;
        int64_t last_flush;
        int64_t last_progress;
        int64_t last_probe;
        uint64_t last_consumed;

        pthread_mutex_t lock;
        red_pipeline_stats_t stats;
};

/* ------------------------------------------------------------------ */
/* set-up                                                              */
/* ------------------------------------------------------------------ */

static void on_dlq_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m,
                            void *opaque)
{
        red_pipeline_t *p = opaque;

        (void)rk;
        if (m->err) {
                atomic_fetch_add(&p->dlq_failed, 1);
                red_log_error("pipeline", "%s: dead letter to %s not "
                                          "delivered: %s",
                              p->c->name, rd_kafka_topic_name(m->rkt),
                              rd_kafka_err2str(m->err));
        }
        atomic_fetch_sub(&p->dlq_pending, 1);
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts,
                         void *opaque);

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

red_pipeline_t *red_pipeline_new(const red_contract_t *c,
                                 const red_config_t *conf,
                                 const char *brokers, char *errstr,
                                 size_t errstr_size)
{
        red_pipeline_t *p = calloc(1, sizeof(*p));
        rd_kafka_conf_t *kc;
        char err[512], id[300];

        if (!p) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        pthread_mutex_init(&p->lock, NULL);
        p->c = c;
        p->conf = conf;
        p->reorder_limit = (size_t)conf->batch_max_events * 10;
        if (!(p->core = red_core_new(c, (size_t)conf->workflows_max_live,
                                     conf->workflows_terminal_ttl_s *
                                             RED_TIME_US_PER_SEC,
                                     on_done, NULL, errstr, errstr_size))) {
                goto err;
        }
        if (!(p->sink = red_sink_new(c, conf->postgres_conninfo,
                                     conf->instance_id))) {
                snprintf(errstr, errstr_size, "out of memory");
                goto err;
        }
        snprintf(id, sizeof(id), "reducerd-%s-%s", c->name,
                 conf->instance_id);
        if (!(kc = red_kafka_conf_consumer(conf, brokers, id,
                                           c->consumer_group, errstr,
                                           errstr_size))) {
                goto err;
        }
        rd_kafka_conf_set_opaque(kc, p);
        rd_kafka_conf_set_rebalance_cb(kc, rebalance_cb);
        rd_kafka_conf_set_error_cb(kc, kafka_error_cb);
        if (!(p->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, kc, err,
                                         sizeof(err)))) {
                rd_kafka_conf_destroy(kc);
                snprintf(errstr, errstr_size, "kafka consumer: %s", err);
                goto err;
        }
        rd_kafka_poll_set_consumer(p->consumer);
        if (!(kc = red_kafka_conf_producer(conf, brokers, id, errstr,
                                           errstr_size))) {
                goto err;
        }
        rd_kafka_conf_set_opaque(kc, p);
        rd_kafka_conf_set_dr_msg_cb(kc, on_dlq_delivery);
        if (!(p->dlq = rd_kafka_new(RD_KAFKA_PRODUCER, kc, err,
                                    sizeof(err)))) {
                rd_kafka_conf_destroy(kc);
                snprintf(errstr, errstr_size, "kafka producer: %s", err);
                goto err;
        }
        p->stats.kafka_up = true;
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
        if (p->dlq) {
                rd_kafka_flush(p->dlq, 5000);
                rd_kafka_destroy(p->dlq);
        }
        red_sink_destroy(p->sink);
        red_core_destroy(p->core);
        for (size_t i = 0; i < p->part_cnt; i++) {
                free(p->parts[i].topic);
        }
        free(p->parts);
        pthread_mutex_destroy(&p->lock);
        free(p);
}

const red_contract_t *red_pipeline_contract(const red_pipeline_t *p)
{
        return p->c;
}

/* ------------------------------------------------------------------ */
/* partitions                                                          */
/* ------------------------------------------------------------------ */

static part_t *part_find(red_pipeline_t *p, const char *topic,
                         int32_t partition)
{
        if (p->last_part < p->part_cnt &&
            p->parts[p->last_part].partition == partition &&
            !strcmp(p->parts[p->last_part].topic, topic)) {
                return &p->parts[p->last_part];
        }
        for (size_t i = 0; i < p->part_cnt; i++) {
                if (p->parts[i].partition == partition &&
                    !strcmp(p->parts[i].topic, topic)) {
                        p->last_part = i;
                        return &p->parts[i];
                }
        }
        return NULL;
}

static int part_add(red_pipeline_t *p, const char *topic, int32_t partition,
                    int64_t committed)
{
        part_t *pt = part_find(p, topic, partition);

        if (!pt) {
                if (p->part_cnt == p->part_cap) {
                        size_t ncap = p->part_cap ? p->part_cap * 2 : 16;
                        part_t *np = realloc(p->parts, ncap * sizeof(*np));
                        if (!np) {
                                return -ENOMEM;
                        }
                        p->parts = np;
                        p->part_cap = ncap;
                }
                pt = &p->parts[p->part_cnt];
                if (!(pt->topic = strdup(topic))) {
                        return -ENOMEM;
                }
                pt->partition = partition;
                pt->dead_through = 0;
                p->part_cnt++;
        }
        pt->committed = committed;
        pt->fetched = committed;
        pt->lag = -1;
        pt->queried = 0;
        pt->empty = false;
        pt->held = false;
        return 0;
}

static void part_remove(red_pipeline_t *p, const char *topic,
                        int32_t partition)
{
        part_t *pt = part_find(p, topic, partition);

        if (pt) {
                free(pt->topic);
                *pt = p->parts[--p->part_cnt];
                p->last_part = 0;
        }
}

static void stats_assignment(red_pipeline_t *p, bool joined)
{
        pthread_mutex_lock(&p->lock);
        p->stats.partitions = p->part_cnt;
        p->stats.assigned = p->part_cnt > 0;
        p->stats.joined = joined;
        pthread_mutex_unlock(&p->lock);
}

/* ------------------------------------------------------------------ */
/* Postgres availability                                               */
/* ------------------------------------------------------------------ */

static void set_pg_up(red_pipeline_t *p, bool up)
{
        pthread_mutex_lock(&p->lock);
        p->stats.pg_up = up;
        pthread_mutex_unlock(&p->lock);
}

/* Sleeps @p ms while keeping the consumer's group membership alive. */
static void wait_polling(red_pipeline_t *p, int64_t ms)
{
        int64_t until = red_time_mono_us() + ms * 1000;

        if (p->in_rebalance) {
                /* no polling inside the rebalance callback */
                struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
                nanosleep(&ts, NULL);
                return;
        }
        while (!atomic_load(&p->stop) && red_time_mono_us() < until) {
                /* partitions are paused, so only events come back */
                rd_kafka_message_t *m = rd_kafka_consumer_poll(p->consumer,
                                                               50);
                if (m) {
                        /* fetched before the pause took effect: it will be
                         * fetched again after the seek/resume */
                        rd_kafka_message_destroy(m);
                }
        }
}

static void backoff(red_pipeline_t *p)
{
        p->backoff_ms = p->backoff_ms ? p->backoff_ms * 2 : 100;
        if (p->backoff_ms > p->conf->postgres_retry_max_ms) {
                p->backoff_ms = p->conf->postgres_retry_max_ms;
        }
}

/* Connects if needed; false when Postgres is not reachable now. */
static bool ensure_pg(red_pipeline_t *p)
{
        char err[1024];

        if (red_sink_connected(p->sink)) {
                return true;
        }
        if (red_sink_connect(p->sink, err, sizeof(err))) {
                red_log_error("postgres", "%s: %s", p->c->name, err);
                pthread_mutex_lock(&p->lock);
                p->stats.pg_errors++;
                p->stats.pg_up = false;
                pthread_mutex_unlock(&p->lock);
                return false;
        }
        red_log_info("postgres", "%s: connected to %s", p->c->name,
                     red_sink_where(p->sink));
        pthread_mutex_lock(&p->lock);
        p->stats.pg_reconnects++;
        p->stats.pg_up = true;
        pthread_mutex_unlock(&p->lock);
        return true;
}

/* ------------------------------------------------------------------ */
/* assignment                                                          */
/* ------------------------------------------------------------------ */

/* Reads the stored offsets of @p parts and sets them as start positions;
 * loads their watermarks into the core. Retries while Postgres is down;
 * false only when stopping. */
static bool load_positions(red_pipeline_t *p,
                           rd_kafka_topic_partition_list_t *parts)
{
        const char **topics = calloc((size_t)parts->cnt + 1, sizeof(char *));
        int32_t *ids = calloc((size_t)parts->cnt + 1, sizeof(int32_t));
        int64_t *next = calloc((size_t)parts->cnt + 1, sizeof(int64_t));
        red_time_t *wm = calloc((size_t)parts->cnt + 1, sizeof(red_time_t));
        char err[1024];
        bool ok = false;

        if (!topics || !ids || !next || !wm) {
                goto done;
        }
        for (int i = 0; i < parts->cnt; i++) {
                topics[i] = parts->elems[i].topic;
                ids[i] = parts->elems[i].partition;
        }
        while (!atomic_load(&p->stop)) {
                red_sink_result_t r = RED_SINK_RETRY;
                if (ensure_pg(p)) {
                        r = red_sink_offsets(p->sink, topics, ids,
                                             (size_t)parts->cnt,
                                             p->generation, next, wm, err,
                                             sizeof(err));
                        if (r) {
                                red_log_error("postgres",
                                              "%s: reading offsets: %s",
                                              p->c->name, err);
                        }
                }
                if (r == RED_SINK_OK) {
                        ok = true;
                        break;
                }
                backoff(p);
                wait_polling(p, p->backoff_ms);
        }
        p->backoff_ms = 0;
        for (int i = 0; ok && i < parts->cnt; i++) {
                parts->elems[i].offset = next[i] >= 0
                                                 ? next[i]
                                                 : RD_KAFKA_OFFSET_BEGINNING;
                if (part_add(p, topics[i], ids[i], next[i]) ||
                    red_core_set_watermark(p->core, topics[i], ids[i],
                                           wm[i])) {
                        ok = false;
                }
        }
done:
        free(topics);
        free(ids);
        free(next);
        free(wm);
        return ok;
}

static void flush_batch(red_pipeline_t *p, bool revoking);
static void forget_batch(red_pipeline_t *p);

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts,
                         void *opaque)
{
        red_pipeline_t *p = opaque;
        bool cooperative = !strcmp(rd_kafka_rebalance_protocol(rk),
                                   "COOPERATIVE");
        rd_kafka_error_t *kerr = NULL;

        p->in_rebalance = true;
        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                p->generation++;
                if (!load_positions(p, parts)) {
                        red_log_warn("pipeline", "%s: stopping during "
                                                 "assignment",
                                     p->c->name);
                }
                red_log_info("pipeline",
                             "%s: assigned %d partition%s (%s), positions "
                             "from Postgres",
                             p->c->name, parts->cnt,
                             parts->cnt == 1 ? "" : "s",
                             cooperative ? "cooperative" : "eager");
                if (cooperative) {
                        kerr = rd_kafka_incremental_assign(rk, parts);
                } else {
                        rd_kafka_assign(rk, parts);
                }
        } else {
                red_failpoint("in_revoke");
                if (p->flushing) {
                        /* revoked while a write was being retried: give the
                         * batch up, the next owner resumes from Postgres */
                        forget_batch(p);
                } else {
                        /* commit what we have before the partitions go */
                        flush_batch(p, true);
                }
                for (int i = 0; i < parts->cnt; i++) {
                        /* what is still buffered is the next owner's */
                        red_core_drop_partition(p->core, parts->elems[i].topic,
                                                parts->elems[i].partition);
                        part_remove(p, parts->elems[i].topic,
                                    parts->elems[i].partition);
                }
                red_log_info("pipeline", "%s: revoked %d partition%s",
                             p->c->name, parts->cnt,
                             parts->cnt == 1 ? "" : "s");
                if (cooperative) {
                        kerr = rd_kafka_incremental_unassign(rk, parts);
                } else {
                        rd_kafka_assign(rk, NULL);
                }
        }
        if (kerr) {
                red_log_error("kafka", "%s: rebalance: %s", p->c->name,
                              rd_kafka_error_string(kerr));
                rd_kafka_error_destroy(kerr);
        }
        p->in_rebalance = false;
        stats_assignment(p, err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS ||
                                    p->part_cnt > 0);
}

/* ------------------------------------------------------------------ */
/* the batch                                                           */
/* ------------------------------------------------------------------ */

/* Forgets the batch and everything buffered (all of it will be consumed
 * again from the positions in Postgres). */
static void forget_batch(red_pipeline_t *p)
{
        red_core_rollback(p->core);
        p->msg_cnt = 0;
        p->batch_bytes = 0;
        p->processed = false;
        for (size_t i = 0; i < p->part_cnt; i++) {
                p->parts[i].fetched = p->parts[i].committed;
        }
}

/* The batch will not be written: forget it and go back to the offsets in
 * Postgres for every assigned partition. */
static void drop_batch(red_pipeline_t *p)
{
        rd_kafka_topic_partition_list_t *list;
        rd_kafka_error_t *kerr;

        forget_batch(p);
        if (!p->part_cnt) {
                return;
        }
        list = rd_kafka_topic_partition_list_new((int)p->part_cnt);
        for (size_t i = 0; i < p->part_cnt; i++) {
                rd_kafka_topic_partition_list_add(list, p->parts[i].topic,
                                                  p->parts[i].partition);
        }
        if (load_positions(p, list)) {
                kerr = rd_kafka_seek_partitions(p->consumer, list, 10000);
                if (kerr) {
                        red_log_error("kafka", "%s: seek: %s", p->c->name,
                                      rd_kafka_error_string(kerr));
                        rd_kafka_error_destroy(kerr);
                }
        }
        rd_kafka_topic_partition_list_destroy(list);
}

static void add_message(red_pipeline_t *p, rd_kafka_message_t *m)
{
        const char *topic = rd_kafka_topic_name(m->rkt);
        part_t *pt = part_find(p, topic, m->partition);
        red_msg_t view, *v = &view;
        rd_kafka_headers_t *hdrs = NULL;
        rd_kafka_timestamp_type_t tstype;
        int64_t ts;
        const void *hv;
        size_t hlen;

        if (!pt || (pt->fetched >= 0 && m->offset < pt->fetched)) {
                /* not ours, or already read: a leftover of a seek */
                red_log_debug("pipeline",
                              "%s: skipping %s[%d]@%lld (%s, read up to "
                              "%lld)",
                              p->c->name, topic, (int)m->partition,
                              (long long)m->offset,
                              pt ? "already read" : "not assigned",
                              pt ? (long long)pt->fetched : -1LL);
                rd_kafka_message_destroy(m);
                return;
        }
        memset(v, 0, sizeof(*v));
        v->topic = topic;
        v->partition = m->partition;
        v->offset = m->offset;
        v->key = m->key;
        v->key_len = m->key_len;
        v->value = m->payload;
        v->value_len = m->len;
        ts = rd_kafka_message_timestamp(m, &tstype);
        v->timestamp = ts >= 0 ? ts * 1000 : -1;
        if (!rd_kafka_message_headers(m, &hdrs) &&
            !rd_kafka_header_get_last(hdrs, "event_type", &hv, &hlen) && hv) {
                v->header_type = hv;
                v->header_type_len = hlen;
        }
        if (!p->msg_cnt) {
                p->batch_started = red_time_mono_us();
        }
        p->msg_cnt++;
        p->batch_bytes += m->len;
        pt->fetched = m->offset + 1;
        if (red_core_add(p->core, v, red_time_now(), m)) {
                red_log_error("pipeline", "%s: out of memory", p->c->name);
                atomic_store(&p->stop, true);
        }
}

/* Produces the batch's dead letters and waits until Kafka has them. A batch
 * consumed again (replay, fenced, Postgres retry) skips the letters this
 * worker already sent for its partitions; after a crash or a rebalance they
 * may be sent twice (at least once). */
static bool send_dead_letters(red_pipeline_t *p)
{
        const red_dead_letter_t *dl;
        size_t cnt;
        bool ok;

        dl = red_core_dead_letters(p->core, &cnt);
        if (!cnt) {
                return true;
        }
        atomic_store(&p->dlq_failed, 0);
        for (size_t i = 0; i < cnt; i++) {
                const red_msg_t *m = dl[i].msg;
                part_t *pt = part_find(p, m->topic, m->partition);
                char part[16], off[24];
                rd_kafka_headers_t *h;
                rd_kafka_resp_err_t e;

                if (pt && m->offset < pt->dead_through) {
                        continue;
                }
                h = rd_kafka_headers_new(6);

                snprintf(part, sizeof(part), "%d", (int)m->partition);
                snprintf(off, sizeof(off), "%lld", (long long)m->offset);
                rd_kafka_header_add(h, "error_code", -1,
                                    red_dlq_code_name(dl[i].code), -1);
                rd_kafka_header_add(h, "error_detail", -1, dl[i].detail, -1);
                rd_kafka_header_add(h, "source_topic", -1, m->topic, -1);
                rd_kafka_header_add(h, "source_partition", -1, part, -1);
                rd_kafka_header_add(h, "source_offset", -1, off, -1);
                rd_kafka_header_add(h, "contract", -1, p->c->name, -1);
                atomic_fetch_add(&p->dlq_pending, 1);
                do {
                        e = rd_kafka_producev(
                                p->dlq, RD_KAFKA_V_TOPIC(p->c->dead_letter_topic),
                                RD_KAFKA_V_KEY(m->key, m->key_len),
                                RD_KAFKA_V_VALUE((void *)m->value,
                                                 m->value_len),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
                        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                                rd_kafka_poll(p->dlq, 50);
                        }
                } while (e == RD_KAFKA_RESP_ERR__QUEUE_FULL);
                if (e) {
                        atomic_fetch_sub(&p->dlq_pending, 1);
                        rd_kafka_headers_destroy(h);
                        red_log_error("pipeline", "%s: dead letter: %s",
                                      p->c->name, rd_kafka_err2str(e));
                        return false;
                }
        }
        rd_kafka_flush(p->dlq, 30000);
        ok = atomic_load(&p->dlq_pending) == 0 &&
             atomic_load(&p->dlq_failed) == 0;
        for (size_t i = 0; ok && i < cnt; i++) {
                part_t *pt = part_find(p, dl[i].msg->topic,
                                       dl[i].msg->partition);

                if (pt && dl[i].msg->offset >= pt->dead_through) {
                        pt->dead_through = dl[i].msg->offset + 1;
                }
        }
        return ok;
}

static void observe(red_pipeline_t *p, size_t events, double latency_ms)
{
        int b;

        pthread_mutex_lock(&p->lock);
        p->stats.batches++;
        for (int i = 0; i < 3; i++) {
                p->stats.alerts[i] += red_sink_alerts_fired(p->sink)[i];
        }
        for (b = 0; b < 15 && latency_ms > red_pipeline_latency_bounds_ms[b];
             b++) {
        }
        p->stats.latency_buckets[b]++;
        p->stats.latency_sum_ms += latency_ms;
        for (b = 0; b < 15 && (double)events > red_pipeline_size_bounds[b];
             b++) {
        }
        p->stats.size_buckets[b]++;
        p->stats.size_sum += (double)events;
        p->stats.core = *red_core_counters(p->core);
        p->stats.buffered = red_core_buffered(p->core);
        if (p->c->fsm) {
                p->stats.live_workflows =
                        red_workflows_count(red_core_workflows(p->core));
        }
        pthread_mutex_unlock(&p->lock);
}

/* Offsets of the batch: where the core says each moved partition stands. */
static size_t batch_offsets(red_pipeline_t *p, red_sink_offset_t *offs)
{
        size_t cnt, n = 0;
        const red_position_t *pos = red_core_positions(p->core, &cnt);

        for (size_t i = 0; i < cnt; i++) {
                part_t *pt = part_find(p, pos[i].topic, pos[i].partition);
                if (!pt) {
                        continue;
                }
                offs[n].topic = pt->topic;
                offs[n].partition = pt->partition;
                offs[n].prev = pt->committed;
                offs[n].next = pos[i].offset;
                offs[n].watermark = pos[i].watermark;
                n++;
        }
        return n;
}

/* True when the consumer has read everything the partition holds now. */
static bool caught_up(red_pipeline_t *p, part_t *pt)
{
        int64_t lo, hi, now;

        /* the high watermark is cached from fetch responses (-1: no
         * response yet) */
        if (rd_kafka_get_watermark_offsets(p->consumer, pt->topic,
                                           pt->partition, &lo, &hi) ||
            hi < 0) {
                return false;
        }
        if (pt->fetched >= 0) {
                return pt->fetched >= hi;
        }
        if (hi == 0) {
                return true; /* never held a message */
        }
        /* nothing delivered yet but the log has an end: it may all have
         * been deleted by retention (the cached low watermark is only
         * kept with statistics on), so ask the broker, at most once a
         * second per partition */
        now = red_time_mono_us();
        if (now - pt->queried >= 1000000) {
                pt->queried = now;
                pt->empty = !rd_kafka_query_watermark_offsets(
                                    p->consumer, pt->topic, pt->partition, &lo,
                                    &hi, 1000) &&
                            lo >= 0 && hi == lo;
        }
        return pt->empty;
}

/* The reorder frontier (red_frontier.h) over the assigned partitions. */
static red_time_t frontier(red_pipeline_t *p)
{
        red_frontier_t f;

        red_frontier_init(&f, red_time_now(), p->c->idle_wait_us);
        for (size_t i = 0; i < p->part_cnt; i++) {
                part_t *pt = &p->parts[i];

                red_frontier_add(&f, i,
                                 red_core_max_time(p->core, pt->topic,
                                                   pt->partition),
                                 caught_up(p, pt) ? RED_FRONTIER_CAUGHT_UP
                                                  : RED_FRONTIER_READING);
        }
        if (f.holder != SIZE_MAX && red_log_enabled(RED_LOG_DEBUG)) {
                const part_t *holder = &p->parts[f.holder];
                char ts[RED_TIME_FMT_SIZE] = "none";
                int64_t lo = -1, hi = -1;

                rd_kafka_get_watermark_offsets(p->consumer, holder->topic,
                                               holder->partition, &lo, &hi);
                if (f.time != INT64_MIN) {
                        red_time_format(f.time, ts, sizeof(ts));
                }
                red_log_debug("pipeline",
                              "%s: frontier %s held by %s[%d] (read up to "
                              "%lld of %lld)",
                              p->c->name, ts, holder->topic,
                              (int)holder->partition,
                              (long long)holder->fetched, (long long)hi);
        }
        return f.time;
}

static void commit_kafka(red_pipeline_t *p, const red_sink_offset_t *offs,
                         size_t n)
{
        rd_kafka_topic_partition_list_t *list;

        /* for lag tools only: Postgres holds the offsets that count */
        list = rd_kafka_topic_partition_list_new((int)n);
        for (size_t i = 0; i < n; i++) {
                rd_kafka_topic_partition_list_add(list, offs[i].topic,
                                                  offs[i].partition)
                        ->offset = offs[i].next;
        }
        rd_kafka_commit(p->consumer, list, 1);
        rd_kafka_topic_partition_list_destroy(list);
}

/* Pauses or resumes one partition. */
static void hold_partition(red_pipeline_t *p, part_t *pt, bool hold)
{
        rd_kafka_topic_partition_list_t *l =
                rd_kafka_topic_partition_list_new(1);

        rd_kafka_topic_partition_list_add(l, pt->topic, pt->partition);
        if (hold) {
                rd_kafka_pause_partitions(p->consumer, l);
        } else {
                rd_kafka_resume_partitions(p->consumer, l);
        }
        rd_kafka_topic_partition_list_destroy(l);
        pt->held = hold;
}

/*
 * Watermark alignment: while too many events wait in the reorder buffer,
 * the partitions running ahead of the frontier are paused so that the ones
 * holding it catch up; memory stays bounded and the order stays exact.
 */
static void align(red_pipeline_t *p, red_time_t f)
{
        size_t buffered = red_core_buffered(p->core);
        size_t held = 0;

        /* a held partition that no longer runs ahead may now be the one
         * the frontier waits for */
        for (size_t i = 0; i < p->part_cnt; i++) {
                part_t *pt = &p->parts[i];
                if (pt->held && red_core_max_time(p->core, pt->topic,
                                                  pt->partition) <= f) {
                        hold_partition(p, pt, false);
                }
        }
        if (buffered > p->reorder_limit) {
                for (size_t i = 0; i < p->part_cnt; i++) {
                        part_t *pt = &p->parts[i];
                        if (!pt->held &&
                            red_core_max_time(p->core, pt->topic,
                                              pt->partition) > f) {
                                hold_partition(p, pt, true);
                                held++;
                        }
                }
                if (held) {
                        red_log_debug("pipeline",
                                      "%s: %zu events wait for slower "
                                     "partitions; pausing %zu partitions "
                                     "that run ahead",
                                     p->c->name, buffered, held);
                }
        } else if (buffered < p->reorder_limit / 2) {
                for (size_t i = 0; i < p->part_cnt; i++) {
                        if (p->parts[i].held) {
                                hold_partition(p, &p->parts[i], false);
                                held++;
                        }
                }
                if (held) {
                        red_log_debug("pipeline", "%s: resumed %zu partitions",
                                      p->c->name, held);
                }
        }
}

/*
 * Releases what the frontier allows and writes the batch: dead letters to
 * Kafka (flushed), then one Postgres transaction with the positions.
 * Retries while Postgres or Kafka is down (partitions paused, back-off),
 * unless @p revoking: then a failure gives the batch up so the rebalance
 * can go on (the next owner starts from Postgres' positions).
 */
static void flush_batch(red_pipeline_t *p, bool revoking)
{
        red_sink_offset_t *offs;
        size_t n, missing_cnt, dead_cnt;
        const red_uuid_t *missing;
        rd_kafka_topic_partition_list_t *paused = NULL;
        char err[2048];

        if ((!p->msg_cnt && !red_core_buffered(p->core)) || p->flushing) {
                return;
        }
        offs = calloc(p->part_cnt + 1, sizeof(*offs));
        if (!offs) {
                atomic_store(&p->stop, true);
                return;
        }
        p->flushing = true;
        if (!p->msg_cnt) {
                /* a batch of buffered events only: it starts now */
                p->batch_started = red_time_mono_us();
        }
        for (int attempt = 0;; attempt++) {
                red_sink_result_t r = RED_SINK_RETRY;

                if (!p->msg_cnt && !red_core_buffered(p->core)) {
                        break; /* given up by a rebalance meanwhile */
                }
                if (atomic_load(&p->stop) && attempt > 0 && !revoking) {
                        /* a stop during an outage: give the batch up; it is
                         * consumed again from Postgres' positions */
                        forget_batch(p);
                        break;
                }
                if (!ensure_pg(p)) {
                        goto retry;
                }
                if (!p->processed) {
                        int64_t t0 = red_time_mono_us();
                        red_time_t f = frontier(p);
                        long got;
                        p->t_frontier = red_time_mono_us() - t0;
                        t0 = red_time_mono_us();
                        got = red_core_release(
                                p->core, f, (size_t)p->conf->batch_max_events);
                        if (got < 0) {
                                goto oom;
                        }
                        /* more is ready: the next batch follows at once */
                        p->backlog = got >= p->conf->batch_max_events &&
                                     red_core_buffered(p->core) > 0;
                        align(p, f);
                        p->t_release = red_time_mono_us() - t0;
                        missing = red_core_missing(p->core, &missing_cnt);
                        if (missing_cnt &&
                            red_sink_load_workflows(
                                    p->sink, missing, missing_cnt,
                                    red_core_workflows(p->core), err,
                                    sizeof(err))) {
                                red_log_error("postgres",
                                              "%s: loading workflows: %s",
                                              p->c->name, err);
                                goto retry;
                        }
                        if ((r = red_sink_raw_lookup(p->sink, p->core, err,
                                                     sizeof(err)))) {
                                red_log_error("postgres",
                                              "%s: looking up stored rows: "
                                              "%s",
                                              p->c->name, err);
                                goto retry;
                        }
                        /* the sink applies the events while Postgres
                         * inserts the first rows */
                        p->processed = true;
                }
                red_core_dead_letters(p->core, &dead_cnt);
                n = batch_offsets(p, offs);
                if (!red_core_released(p->core) && !dead_cnt) {
                        bool moved = false;
                        for (size_t i = 0; i < n; i++) {
                                moved |= offs[i].next != offs[i].prev;
                        }
                        if (!moved) {
                                /* everything waits in the reorder buffer;
                                 * the counters of what was added are kept
                                 * for the batch that writes it */
                                red_core_commit(p->core);
                                p->msg_cnt = 0;
                                p->batch_bytes = 0;
                                p->processed = false;
                                break;
                        }
                }
                if (!send_dead_letters(p)) {
                        pthread_mutex_lock(&p->lock);
                        p->stats.dlq_errors++;
                        pthread_mutex_unlock(&p->lock);
                        goto retry;
                }
                for (size_t i = 0; i < n && red_log_enabled(RED_LOG_DEBUG);
                     i++) {
                        red_log_debug("pipeline", "%s: position %s[%d] %lld -> "
                                                  "%lld",
                                      p->c->name, offs[i].topic,
                                      (int)offs[i].partition,
                                      (long long)offs[i].prev,
                                      (long long)offs[i].next);
                }
                {
                        int64_t t0 = red_time_mono_us();
                        r = red_sink_write(p->sink, p->core, offs, n,
                                           p->generation, err, sizeof(err));
                        p->t_write = red_time_mono_us() - t0;
                }
                if (r == RED_SINK_OK) {
                        double latency = (double)(red_time_mono_us() -
                                                  p->batch_started) /
                                         1000.0;
                        size_t events = red_core_released(p->core) + dead_cnt;

                        for (size_t i = 0; i < n; i++) {
                                part_find(p, offs[i].topic, offs[i].partition)
                                        ->committed = offs[i].next;
                        }
                        commit_kafka(p, offs, n);
                        red_core_commit(p->core);
                        p->msg_cnt = 0;
                        p->batch_bytes = 0;
                        p->processed = false;
                        observe(p, events, latency);
                        red_log_debug("pipeline",
                                      "%s: committed %zu events in %.1f ms "
                                      "(%zu rows, %zu buffered; frontier "
                                      "%.1f, release %.1f, apply and "
                                      "write %.1f ms)",
                                      p->c->name, events, latency,
                                      red_sink_last_rows(p->sink),
                                      red_core_buffered(p->core),
                                      p->t_frontier / 1e3, p->t_release / 1e3,
                                      p->t_write / 1e3);
                        set_pg_up(p, true);
                        p->backoff_ms = 0;
                        break;
                }
                if (r == RED_SINK_REPLAY) {
                        red_log_info("pipeline",
                                     "%s: consuming the batch again: %s",
                                     p->c->name, err);
                        pthread_mutex_lock(&p->lock);
                        p->stats.replayed++;
                        pthread_mutex_unlock(&p->lock);
                        drop_batch(p);
                        break;
                }
                if (r == RED_SINK_FENCED) {
                        red_log_warn("pipeline", "%s: batch fenced: %s",
                                     p->c->name, err);
                        pthread_mutex_lock(&p->lock);
                        p->stats.fenced++;
                        pthread_mutex_unlock(&p->lock);
                        drop_batch(p);
                        break;
                }
                red_log_error("postgres", "%s: batch not written: %s",
                              p->c->name, err);
                pthread_mutex_lock(&p->lock);
                p->stats.pg_errors++;
                pthread_mutex_unlock(&p->lock);
        retry:
                set_pg_up(p, red_sink_connected(p->sink));
                if (revoking) {
                        red_log_warn("pipeline",
                                     "%s: giving the batch up during a "
                                     "rebalance; the next owner resumes "
                                     "from the stored positions",
                                     p->c->name);
                        forget_batch(p);
                        break;
                }
                if (!paused && p->part_cnt) {
                        paused = rd_kafka_topic_partition_list_new(
                                (int)p->part_cnt);
                        for (size_t i = 0; i < p->part_cnt; i++) {
                                rd_kafka_topic_partition_list_add(
                                        paused, p->parts[i].topic,
                                        p->parts[i].partition);
                        }
                        rd_kafka_pause_partitions(p->consumer, paused);
                        red_log_warn("pipeline",
                                     "%s: paused %d partitions until the "
                                     "batch can be written",
                                     p->c->name, paused->cnt);
                }
                backoff(p);
                wait_polling(p, p->backoff_ms);
                continue;
        oom:
                red_log_error("pipeline", "%s: out of memory", p->c->name);
                atomic_store(&p->stop, true);
                forget_batch(p);
                break;
        }
        p->flushing = false;
        if (paused) {
                /* partitions held for alignment stay paused */
                rd_kafka_topic_partition_list_t *resume =
                        rd_kafka_topic_partition_list_new(paused->cnt);
                for (int i = 0; i < paused->cnt; i++) {
                        part_t *pt = part_find(p, paused->elems[i].topic,
                                               paused->elems[i].partition);
                        if (pt && !pt->held) {
                                rd_kafka_topic_partition_list_add(
                                        resume, pt->topic, pt->partition);
                        }
                }
                rd_kafka_resume_partitions(p->consumer, resume);
                rd_kafka_topic_partition_list_destroy(resume);
                rd_kafka_topic_partition_list_destroy(paused);
                red_log_info("pipeline", "%s: resumed", p->c->name);
        }
        free(offs);
}

/* ------------------------------------------------------------------ */
/* the thread                                                          */
/* ------------------------------------------------------------------ */

static void update_lag(red_pipeline_t *p)
{
        for (size_t i = 0; i < p->part_cnt; i++) {
                int64_t lo, hi;
                part_t *pt = &p->parts[i];
                if (rd_kafka_get_watermark_offsets(p->consumer, pt->topic,
                                                   pt->partition, &lo,
                                                   &hi) ||
                    hi < 0) {
                        pt->lag = -1;
                        continue;
                }
                pt->lag = hi - (pt->committed >= 0 ? pt->committed : lo);
                if (pt->lag < 0) {
                        pt->lag = 0;
                }
        }
}

size_t red_pipeline_lag(red_pipeline_t *p, red_pipeline_lag_t *out,
                        size_t max)
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

/* Every 10 s with news: one line on what was written. */
static void progress(red_pipeline_t *p, int64_t now)
{
        const red_core_counters_t *k = red_core_counters(p->core);
        uint64_t lag = 0;

        if (now - p->last_progress < 10000000 ||
            k->consumed == p->last_consumed) {
                return;
        }
        for (size_t i = 0; i < p->part_cnt; i++) {
                lag += p->parts[i].lag > 0 ? (uint64_t)p->parts[i].lag : 0;
        }
        red_log_info("pipeline",
                     "%s: +%llu events in %.0f s: %llu consumed = %llu "
                     "applied + %llu dead-lettered + %llu late-dropped + "
                     "%llu duplicates; lag %llu",
                     p->c->name,
                     (unsigned long long)(k->consumed - p->last_consumed),
                     (double)(now - p->last_progress) / 1e6,
                     (unsigned long long)k->consumed,
                     (unsigned long long)k->applied,
                     (unsigned long long)k->dead_lettered,
                     (unsigned long long)k->late_dropped,
                     (unsigned long long)k->duplicates,
                     (unsigned long long)lag);
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

static void periodic(red_pipeline_t *p)
{
        int64_t now = red_time_mono_us();
        char err[1024];
        long fin;

        progress(p, now);
        probe_kafka(p, now);

        if (now - p->last_lag > 1000000) {
                p->last_lag = now;
                pthread_mutex_lock(&p->lock);
                update_lag(p);
                pthread_mutex_unlock(&p->lock);
        }
        if (now - p->last_finalize > 2000000 && !p->msg_cnt) {
                p->last_finalize = now;
                /* idle: a lost connection is noticed and mended here */
                if (!red_sink_connected(p->sink) && !ensure_pg(p)) {
                        set_pg_up(p, false);
                        return;
                }
                if (!p->c->agg_cnt) {
                        return;
                }
                if (red_sink_finalize(p->sink, &fin, err, sizeof(err))) {
                        red_log_warn("postgres", "%s: finalising cells: %s",
                                     p->c->name, err);
                        set_pg_up(p, red_sink_connected(p->sink));
                } else if (fin) {
                        red_log_info("pipeline", "%s: %ld cells final",
                                     p->c->name, fin);
                }
        }
}

static void *run(void *arg)
{
        red_pipeline_t *p = arg;
        rd_kafka_topic_partition_list_t *topics;
        rd_kafka_resp_err_t err;
        int64_t max_us = p->conf->batch_max_ms * 1000;

        topics = rd_kafka_topic_partition_list_new((int)p->c->input_cnt);
        for (size_t i = 0; i < p->c->input_cnt; i++) {
                rd_kafka_topic_partition_list_add(topics, p->c->inputs[i].topic,
                                                  RD_KAFKA_PARTITION_UA);
        }
        while (!atomic_load(&p->stop) && !ensure_pg(p)) {
                backoff(p);
                red_log_warn("postgres", "%s: retrying in %lld ms",
                             p->c->name, (long long)p->backoff_ms);
                struct timespec ts = {p->backoff_ms / 1000,
                                      (p->backoff_ms % 1000) * 1000000};
                nanosleep(&ts, NULL);
        }
        p->backoff_ms = 0;
        err = rd_kafka_subscribe(p->consumer, topics);
        rd_kafka_topic_partition_list_destroy(topics);
        if (err) {
                red_log_error("kafka", "%s: subscribe: %s", p->c->name,
                              rd_kafka_err2str(err));
                return NULL;
        }
        red_log_info("pipeline", "%s: consuming %zu topics as group %s",
                     p->c->name, p->c->input_cnt, p->c->consumer_group);
        p->last_progress = red_time_mono_us();
        while (!atomic_load(&p->stop)) {
                int64_t timeout = 100;
                rd_kafka_message_t *m;

                if (p->msg_cnt) {
                        int64_t left = (p->batch_started + max_us -
                                        red_time_mono_us()) /
                                       1000;
                        timeout = left < 0 ? 0 : left < 100 ? left : 100;
                }
                m = rd_kafka_consumer_poll(p->consumer, (int)timeout);
                if (m) {
                        if (m->err) {
                                if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                                        red_log_warn("kafka", "%s: %s",
                                                     p->c->name,
                                                     rd_kafka_message_errstr(m));
                                }
                                rd_kafka_message_destroy(m);
                        } else {
                                pthread_mutex_lock(&p->lock);
                                p->stats.kafka_up = true;
                                pthread_mutex_unlock(&p->lock);
                                p->last_probe = red_time_mono_us();
                                add_message(p, m);
                        }
                }
                if (p->msg_cnt &&
                    (p->backlog ||
                     p->msg_cnt >= (size_t)p->conf->batch_max_events ||
                     p->batch_bytes >= (size_t)p->conf->batch_max_bytes ||
                     red_time_mono_us() - p->batch_started >= max_us)) {
                        flush_batch(p, false);
                        p->last_flush = red_time_mono_us();
                } else if (!p->msg_cnt && red_core_buffered(p->core) &&
                           (p->backlog ||
                            red_time_mono_us() - p->last_flush >= max_us)) {
                        /* events wait for the frontier: look again */
                        flush_batch(p, false);
                        p->last_flush = red_time_mono_us();
                }
                periodic(p);
        }
        /* graceful stop: write what we have, then leave the group */
        flush_batch(p, false);
        rd_kafka_consumer_close(p->consumer);
        red_log_info("pipeline", "%s: stopped", p->c->name);
        return NULL;
}

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
