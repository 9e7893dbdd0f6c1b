/* red_pipeline_batch - release, dead letters, one transaction, or retry. */
#include "red_pipeline_batch.h"

#include "red_failpoint.h"
#include "red_dmetrics.h"
#include "red_log.h"
#include "red_pipeline_dlq.h"
#include "red_pipeline_gaps.h"
#include "red_pipeline_parts.h"
#include "red_replay.h"
#include "red_time.h"

#include <stdlib.h>
#include <string.h>

/* --- adding ----------------------------------------------------------- */

void red_pipeline_batch_add(red_pipeline_t *p, rd_kafka_message_t *m)
{
        const char *topic = rd_kafka_topic_name(m->rkt);
        red_pipeline_part_t *pt =
                red_pipeline_parts_find(p, topic, m->partition);
        red_msg_t view, *v = &view;

        if (pt && pt->verify >= 0 && !red_pipeline_gaps_verify(p, pt, m)) {
                /* the message the stored position was taken after: it
                 * was applied before, it only tells which log this is */
                rd_kafka_message_destroy(m);
                return;
        }
        if (pt && pt->fetched < 0) {
                /* nothing read yet and no stored position, and the log's
                 * start unknown since the assignment
                 * (red_pipeline_gaps_log_starts()): ask for it, or, when
                 * the broker does not answer, begin with this one */
                pt->fetched = red_pipeline_gaps_log_start(p, pt);
                if (pt->fetched < 0) {
                        pt->fetched = m->offset;
                }
        }
        if (!pt || pt->stopped ||
            (pt->fetched >= 0 && m->offset < pt->fetched)) {
                /* not ours, or already read: a leftover of a seek */
                red_log_debug("pipeline",
                              "%s: skipping %s[%d]@%lld (%s, read up to "
                              "%lld)",
                              p->c->name, topic, (int)m->partition,
                              (long long)m->offset,
                              !pt           ? "not assigned"
                              : pt->stopped ? "stopped by an offset gap"
                                            : "already read",
                              pt ? (long long)pt->fetched : -1LL);
                rd_kafka_message_destroy(m);
                return;
        }
        if (pt->reseek < 0 && red_failpoint_hit("skip_message")) {
                /* the tests' stand-in for a consumer that skips an offset
                 * (librdkafka 2.0.2 around pause and resume) */
                rd_kafka_message_destroy(m);
                return;
        }
        if (pt->fetched >= 0 && m->offset > pt->fetched &&
            !red_pipeline_gaps_accept(p, pt, m->offset)) {
                /* offsets we never saw: never applied across */
                rd_kafka_message_destroy(m);
                return;
        }
        /* the view borrows from the message, which the core keeps */
        red_replay_view(m, v);
        if (!p->msg_cnt) {
                p->batch_started = red_time_mono_us();
        }
        p->msg_cnt++;
        p->batch_bytes += m->len;
        pt->fetched = m->offset + 1;
        pt->reseek = -1;
        red_pipeline_parts_arrival(p, pt);
        if (red_core_add(p->core, v, red_time_now(), m)) {
                red_log_error("pipeline", "%s: out of memory", p->c->name);
                atomic_store(&p->stop, true);
        }
}

/* --- ending a batch --------------------------------------------------- */

/* The batch is over (written, or not to be written): a new one starts
 * with the next message. */
static void batch_reset(red_pipeline_t *p)
{
        p->msg_cnt = 0;
        p->batch_bytes = 0;
        p->processed = false;
}

void red_pipeline_batch_forget(red_pipeline_t *p)
{
        red_core_rollback(p->core);
        batch_reset(p);
        for (size_t i = 0; i < p->part_cnt; i++) {
                p->parts[i].fetched = p->parts[i].committed;
                p->parts[i].reseek = -1;
        }
}

/* The batch will not be written: forget it and go back to the offsets in
 * Postgres for every assigned partition. */
static void drop_batch(red_pipeline_t *p)
{
        rd_kafka_topic_partition_list_t *list;
        rd_kafka_error_t *kerr;

        red_pipeline_batch_forget(p);
        if (!p->part_cnt) {
                return;
        }
        list = red_pipeline_parts_list(p);
        if (red_pipeline_parts_load(p, list)) {
                /* asynchronous: effective at once for what poll returns
                 * (librdkafka 2.0.2 also cuts a seek's timeout 1000-fold) */
                kerr = rd_kafka_seek_partitions(p->consumer, list, 0);
                if (kerr) {
                        red_log_error("kafka", "%s: seek: %s", p->c->name,
                                      rd_kafka_error_string(kerr));
                        rd_kafka_error_destroy(kerr);
                }
        }
        rd_kafka_topic_partition_list_destroy(list);
}

/* Offsets of the batch: where the core says each moved partition stands,
 * with the offset Postgres holds now for the compare-and-set. */
static size_t batch_offsets(red_pipeline_t *p, red_sink_offset_t *offs)
{
        size_t cnt, n = 0;
        const red_position_t *pos = red_core_positions(p->core, &cnt);

        for (size_t i = 0; i < cnt; i++) {
                red_pipeline_part_t *pt = red_pipeline_parts_find(
                        p, pos[i].topic, pos[i].partition);
                if (!pt) {
                        continue;
                }
                offs[n].topic = pt->topic;
                offs[n].partition = pt->partition;
                offs[n].prev = pt->committed;
                offs[n].next = pos[i].offset;
                offs[n].watermark = pos[i].watermark;
                /* which log the position belongs to (red_pipeline_gaps.h) */
                offs[n].last_offset = pos[i].last_offset;
                offs[n].last_digest = pos[i].last_digest;
                n++;
        }
        return n;
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

/* The numbers of a committed batch, for /metrics. */
static void observe(red_pipeline_t *p, size_t events, double latency_ms)
{
        red_pipeline_count_alerts(p);
        pthread_mutex_lock(&p->lock);
        red_pipeline_stats_observe(&p->stats, events, latency_ms);
        p->stats.core = *red_core_counters(p->core);
        p->stats.buffered = red_core_buffered(p->core);
        memcpy(p->metrics, red_core_metrics(p->core),
               p->c->metric_values * sizeof(double));
        if (p->states_known) {
                red_dmetrics_set_states(p->c, p->metrics, p->state_counts);
        }
        if (p->c->fsm) {
                p->stats.live_workflows =
                        red_workflows_count(red_core_workflows(p->core));
        }
        pthread_mutex_unlock(&p->lock);
}

/* --- the steps of a flush --------------------------------------------- */

/*
 * A flush is a sequence of steps, tried again as a whole while Postgres or
 * Kafka fails (STEP_RETRY). Steps 1-3 prepare the batch once; a retry
 * after a failed write starts at step 4 with the same events.
 *   1. release_events     the events older than the frontier, in order
 *   2. load_workflows     their workflows that are not in memory, and
 *                         load_states their state rows
 *   3. find_stored_rows   their keys and raw rows stored already
 *                         (duplicates)
 *   4. only_buffered      nothing to write: the batch ends here
 *   5. red_pipeline_dlq_send   dead letters, delivered before the commit
 *   6. write_batch        one Postgres transaction, positions included
 *   7. batch_committed / batch_refused / batch_rejected (the data)
 */
typedef enum step_e {
        STEP_NEXT,  /* go on with the next step */
        STEP_DONE,  /* the flush is over: written, empty or given up */
        STEP_RETRY, /* Postgres or Kafka failed: back off and try again */
        STEP_OOM,   /* out of memory: stop the pipeline */
} step_t;

/* --- data PostgreSQL refused ------------------------------------------ */

/*
 * PostgreSQL refused the batch for its data (SQLSTATE class 22 or 23: a
 * value a column type or a constraint does not take). Writing the same
 * batch again fails the same way for ever, so the guilty events become
 * dead letters (storage_rejected, with the server's words) and the rest
 * is committed; the batch is consumed again from the stored positions
 * (red_core_refuse() holds the verdicts across the rollback):
 * - when the failed statement names the row (a raw table's COPY line), its
 *   message is refused at once;
 * - else the batch is narrowed down: consumed again in batches of half its
 *   events (isolate_max), halved while they fail, doubled while they
 *   commit, until as many events as it had are through (isolate_left).
 *   A release keeps a partition's events in order, so the smallest such
 *   batch may still hold several; if it fails, the events go one at a
 *   time (isolate_rows, red_core_release_one()), and the one that fails
 *   alone is refused.
 * Each verdict and each narrowing costs one replay of the batch.
 */

/* Refuses message @p m for the reason @p err. False on OOM. */
static bool refuse(red_pipeline_t *p, const red_msg_t *m, const char *err)
{
        red_log_warn("pipeline",
                     "%s: PostgreSQL refused the event of %s[%d]@%lld; it "
                     "goes to the dead-letter topic: %s",
                     p->c->name, m->topic, (int)m->partition,
                     (long long)m->offset, err);
        if (red_core_refuse(p->core, m, err)) {
                red_log_error("pipeline", "%s: out of memory", p->c->name);
                atomic_store(&p->stop, true);
                return false;
        }
        return true;
}

/* Refuses every event of the batch (one, at most a few); false when there
 * is none (the data refused is no event's: retried as a failure). */
static bool refuse_all(red_pipeline_t *p, const char *err)
{
        size_t n = red_core_released(p->core), refused = 0;

        for (size_t i = 0; i < n; i++) {
                const red_event_t *ev = red_core_released_event(p->core, i);

                if (ev && !refuse(p, ev->msg, err)) {
                        return false;
                }
                refused += ev != NULL;
        }
        return refused > 0;
}

/* Back to batches of batch.max_events. */
static void narrowing_done(red_pipeline_t *p)
{
        if (p->isolate_max) {
                red_log_info("pipeline", "%s: the refused batch is through",
                             p->c->name);
        }
        p->isolate_max = 0;
        p->isolate_left = 0;
        p->isolate_rows = false;
}

/* STEP_DONE: the batch goes again with a verdict or a smaller limit;
 * STEP_RETRY: nothing to narrow down (no event in the batch). */
static step_t batch_rejected(red_pipeline_t *p, const char *err)
{
        const red_msg_t *m = red_sink_rejected(p->sink);
        size_t n = red_core_released(p->core);

        red_pipeline_count(p, &p->stats.pg_errors);
        if ((long)n > p->isolate_left) {
                p->isolate_left = (long)n;
        }
        if (m || n <= 1 || p->isolate_rows) {
                /* the event named, or the batch's only one */
                if (m ? !refuse(p, m, err) : !refuse_all(p, err)) {
                        if (!atomic_load(&p->stop)) {
                                red_log_error("postgres",
                                              "%s: batch not written, and no "
                                              "event of it to blame: %s",
                                              p->c->name, err);
                        }
                        return STEP_RETRY;
                }
                if (p->isolate_rows) {
                        narrowing_done(p);
                }
        } else if (p->isolate_max == 1) {
                p->isolate_rows = true;
                red_log_warn("pipeline",
                             "%s: PostgreSQL refused the data of %zu events "
                             "released together (%s); consuming them again "
                             "one at a time",
                             p->c->name, n, err);
        } else {
                size_t half = n / 2;
                p->isolate_max = p->isolate_max && p->isolate_max / 2 < half
                                         ? p->isolate_max / 2
                                         : half;
                red_log_warn("pipeline",
                             "%s: PostgreSQL refused the data of a batch of "
                             "%zu events (%s); consuming it again in batches "
                             "of %zu to find the event",
                             p->c->name, n, err, p->isolate_max);
        }
        red_pipeline_count(p, &p->stats.replayed);
        drop_batch(p);
        return STEP_DONE;
}

/* A batch committed while narrowing down: the limit doubles (not one
 * event at a time), and returns to batch.max_events once the refused
 * batch's events are through. */
static void narrowing_passed(red_pipeline_t *p, size_t events)
{
        if (!p->isolate_max && !p->isolate_rows) {
                return;
        }
        p->isolate_left -= (long)events;
        if (p->isolate_left <= 0) {
                narrowing_done(p);
        } else if (!p->isolate_rows &&
                   p->isolate_max < (size_t)p->conf->batch_max_events / 2) {
                p->isolate_max *= 2;
        }
}

/* How many events a batch releases: batch.max_events, or fewer while
 * data PostgreSQL refused is narrowed down (batch_rejected()). */
static size_t batch_limit(const red_pipeline_t *p)
{
        return p->isolate_max ? p->isolate_max
                              : (size_t)p->conf->batch_max_events;
}

/* 1. Moves the buffered events older than the frontier into the batch,
 * batch_limit() at most, and pauses the partitions running ahead if the
 * reorder buffer is too full. */
static step_t release_events(red_pipeline_t *p)
{
        int64_t t0 = red_time_mono_us();
        red_time_t f = red_pipeline_parts_frontier(p, false);
        size_t limit = batch_limit(p);
        long got;

        p->t_frontier = red_time_mono_us() - t0;
        t0 = red_time_mono_us();
        got = p->isolate_rows ? red_core_release_one(p->core, f)
                              : red_core_release(p->core, f, limit);
        if (got < 0) {
                return STEP_OOM;
        }
        /* more is ready: the next batch follows at once */
        p->backlog = (size_t)got >= limit && red_core_buffered(p->core) > 0;
        red_pipeline_parts_align(p, f);
        p->t_release = red_time_mono_us() - t0;
        return STEP_NEXT;
}

/* 2. Restores the workflows the released events need from Postgres (the
 * core keeps a bounded number in memory). */
static step_t load_workflows(red_pipeline_t *p, char *err, size_t size)
{
        size_t cnt;
        const red_uuid_t *missing = red_core_missing(p->core, &cnt);

        if (cnt &&
            red_sink_load_workflows(p->sink, missing, cnt,
                                    red_core_workflows(p->core), err, size)) {
                red_log_error("postgres", "%s: loading workflows: %s",
                              p->c->name, err);
                return STEP_RETRY;
        }
        return STEP_NEXT;
}

/* 2b. Restores the state rows the released events need (the core keeps
 * a bounded number in memory). */
static step_t load_states(red_pipeline_t *p, char *err, size_t size)
{
        if (red_sink_load_states(p->sink, p->core, err, size)) {
                red_log_error("postgres", "%s: loading state rows: %s",
                              p->c->name, err);
                return STEP_RETRY;
        }
        return STEP_NEXT;
}

/* 3. Marks the released events whose dedupe keys or raw rows are stored
 * already: they are duplicates and skipped everywhere. */
static step_t find_stored_rows(red_pipeline_t *p, char *err, size_t size)
{
        red_sink_result_t r =
                red_sink_dedupe_lookup(p->sink, p->core, err, size);

        if (!r) {
                r = red_sink_raw_lookup(p->sink, p->core, err, size);
        }
        if (r == RED_SINK_REJECTED) {
                return batch_rejected(p, err);
        }
        if (r) {
                red_log_error("postgres", "%s: looking up stored rows: %s",
                              p->c->name, err);
                return STEP_RETRY;
        }
        return STEP_NEXT;
}

/* Steps 1-3, once per batch. A failure before the end repeats them all:
 * the next try releases with a newer frontier (the core adds to the
 * released events). */
static step_t prepare(red_pipeline_t *p, char *err, size_t size)
{
        step_t s;

        if (p->processed) {
                return STEP_NEXT;
        }
        if ((s = release_events(p)) != STEP_NEXT ||
            (s = load_workflows(p, err, size)) != STEP_NEXT ||
            (s = load_states(p, err, size)) != STEP_NEXT ||
            (s = find_stored_rows(p, err, size)) != STEP_NEXT) {
                return s;
        }
        /* ready: the sink applies the events while Postgres inserts the
         * first rows */
        p->processed = true;
        return STEP_NEXT;
}

/* 4. True when there is nothing to write: no event released, no dead
 * letter, no position moved (everything waits in the reorder buffer). */
static bool only_buffered(red_pipeline_t *p, const red_sink_offset_t *offs,
                          size_t n, size_t dead_cnt)
{
        if (red_core_released(p->core) || dead_cnt) {
                return false;
        }
        for (size_t i = 0; i < n; i++) {
                if (offs[i].next != offs[i].prev) {
                        return false;
                }
        }
        return true;
}

/* The batch's events applied (red_sink_work_fn): red_sink_write() runs it
 * while Postgres inserts the batch's first rows. */
static int apply_events(void *core)
{
        return red_core_process(core);
}

/* 6. One Postgres transaction: rows, cells, outbox, and the positions by
 * compare-and-set on the ones stored and the owner's generation. The
 * events are applied inside it (apply_events), while Postgres copies. */
static red_sink_result_t write_batch(red_pipeline_t *p,
                                     const red_sink_offset_t *offs, size_t n,
                                     char *err, size_t size)
{
        red_sink_result_t r;
        int64_t t0;

        for (size_t i = 0; i < n && red_log_enabled(RED_LOG_DEBUG); i++) {
                red_log_debug("pipeline", "%s: position %s[%d] %lld -> %lld",
                              p->c->name, offs[i].topic, (int)offs[i].partition,
                              (long long)offs[i].prev, (long long)offs[i].next);
        }
        t0 = red_time_mono_us();
        r = red_sink_write(p->sink, p->core, offs, n, p->generation,
                           apply_events, p->core, err, size);
        p->t_write = red_time_mono_us() - t0;
        return r;
}

/* 7a. Written: the new positions are the stored ones, Kafka gets a copy
 * for lag tools, and the core lets the batch's messages go. */
static void batch_committed(red_pipeline_t *p, const red_sink_offset_t *offs,
                            size_t n, size_t dead_cnt)
{
        double latency =
                (double)(red_time_mono_us() - p->batch_started) / 1000.0;
        size_t events = red_core_released(p->core) + dead_cnt;

        for (size_t i = 0; i < n; i++) {
                red_pipeline_parts_find(p, offs[i].topic, offs[i].partition)
                        ->committed = offs[i].next;
        }
        commit_kafka(p, offs, n);
        narrowing_passed(p, red_core_released(p->core));
        red_core_commit(p->core);
        batch_reset(p);
        observe(p, events, latency);
        red_log_debug("pipeline",
                      "%s: committed %zu events in %.1f ms (%zu rows, %zu "
                      "buffered; frontier %.1f, release %.1f, apply and "
                      "write %.1f ms)",
                      p->c->name, events, latency, red_sink_last_rows(p->sink),
                      red_core_buffered(p->core), p->t_frontier / 1e3,
                      p->t_release / 1e3, p->t_write / 1e3);
        red_pipeline_set_pg_up(p, true);
        p->backoff_ms = 0;
}

/* 7b. Rolled back for good: a raw row stored meanwhile (replay) or another
 * worker owns a partition now (fenced). The batch is consumed again from
 * the stored positions, by us or by the new owner. */
static void batch_refused(red_pipeline_t *p, red_sink_result_t r,
                          const char *err)
{
        if (r == RED_SINK_REPLAY) {
                red_log_info("pipeline", "%s: consuming the batch again: %s",
                             p->c->name, err);
                red_pipeline_count(p, &p->stats.replayed);
        } else {
                red_log_warn("pipeline", "%s: batch fenced: %s", p->c->name,
                             err);
                red_pipeline_count(p, &p->stats.fenced);
        }
        drop_batch(p);
}

/* One try at writing the batch: the steps above in order. */
static step_t try_write(red_pipeline_t *p, red_sink_offset_t *offs, char *err,
                        size_t size)
{
        size_t n, dead_cnt;
        red_sink_result_t r;
        step_t s;

        if (!red_pipeline_ensure_pg(p)) {
                return STEP_RETRY;
        }
        if ((s = prepare(p, err, size)) != STEP_NEXT) {
                return s;
        }
        red_core_dead_letters(p->core, &dead_cnt);
        n = batch_offsets(p, offs);
        if (only_buffered(p, offs, n, dead_cnt)) {
                /* the counters of what was added are kept for the batch
                 * that writes it */
                red_core_commit(p->core);
                batch_reset(p);
                return STEP_DONE;
        }
        if (!red_pipeline_dlq_send(p)) {
                red_pipeline_count(p, &p->stats.dlq_errors);
                return STEP_RETRY;
        }
        r = write_batch(p, offs, n, err, size);
        switch (r) {
        case RED_SINK_OK:
                batch_committed(p, offs, n, dead_cnt);
                return STEP_DONE;
        case RED_SINK_REPLAY:
        case RED_SINK_FENCED:
                batch_refused(p, r, err);
                return STEP_DONE;
        case RED_SINK_REJECTED:
                return batch_rejected(p, err);
        case RED_SINK_FATAL:
                /* not the data, not the connection: the schema or the
                 * permissions, which an operator fixes; nothing to skip */
                red_log_error("postgres",
                              "%s: batch not written, until an operator "
                              "fixes this: %s",
                              p->c->name, err);
                red_pipeline_count(p, &p->stats.pg_errors);
                return STEP_RETRY;
        default:
                red_log_error("postgres", "%s: batch not written: %s",
                              p->c->name, err);
                red_pipeline_count(p, &p->stats.pg_errors);
                return STEP_RETRY;
        }
}

/* --- the flush -------------------------------------------------------- */

void red_pipeline_batch_flush(red_pipeline_t *p, bool revoking)
{
        red_sink_offset_t *offs;
        bool paused = false;
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
        for (int tries = 0;; tries++) {
                step_t s;

                if (!p->msg_cnt && !red_core_buffered(p->core)) {
                        break; /* given up by a rebalance meanwhile */
                }
                if (atomic_load(&p->stop) && tries > 0 && !revoking) {
                        /* a stop during an outage: give the batch up; it is
                         * consumed again from Postgres' positions */
                        red_pipeline_batch_forget(p);
                        break;
                }
                s = try_write(p, offs, err, sizeof(err));
                if (s == STEP_DONE) {
                        break;
                }
                if (s == STEP_OOM) {
                        red_log_error("pipeline", "%s: out of memory",
                                      p->c->name);
                        atomic_store(&p->stop, true);
                        red_pipeline_batch_forget(p);
                        break;
                }
                red_pipeline_set_pg_up(p, red_sink_connected(p->sink));
                if (revoking) {
                        red_log_warn("pipeline",
                                     "%s: giving the batch up during a "
                                     "rebalance; the next owner resumes "
                                     "from the stored positions",
                                     p->c->name);
                        red_pipeline_batch_forget(p);
                        break;
                }
                if (!paused) {
                        /* memory stays bounded while the batch waits */
                        red_pipeline_parts_pause_all(p);
                        red_log_warn("pipeline",
                                     "%s: paused %zu partitions until the "
                                     "batch can be written",
                                     p->c->name, p->part_cnt);
                        paused = true;
                }
                red_pipeline_backoff(p);
                red_pipeline_wait(p, p->backoff_ms);
                /* what piles up meanwhile shows as lag */
                red_pipeline_parts_query_lag(p, 500);
        }
        p->flushing = false;
        if (paused) {
                /* each from the offset it needs next: what the wait polled
                 * and threw away is read again */
                red_pipeline_parts_resume_all(p);
                red_log_info("pipeline", "%s: resumed", p->c->name);
        }
        free(offs);
}
