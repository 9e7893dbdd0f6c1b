/* red_pipeline_gaps - offsets not seen, or not in the log: seek or policy. */
#include "red_pipeline_gaps.h"

#include "red_log.h"
#include "red_pipeline_parts.h"
#include "red_replay.h"

#include <stdio.h>

/* --- holes in a fetch --------------------------------------------------- */

bool red_pipeline_gaps_accept(red_pipeline_t *p, red_pipeline_part_t *pt,
                              int64_t offset)
{
        int64_t need = pt->fetched;

        if (pt->reseek != need) {
                /* the consumer skipped what we need (a resume that went
                 * on from the fetcher's position, a message polled and
                 * thrown away): read it again, once */
                red_log_warn("kafka",
                             "%s: %s[%d]: offset %lld arrived where %lld was "
                             "expected; %lld offsets not delivered, reading "
                             "again from %lld",
                             p->c->name, pt->topic, (int)pt->partition,
                             (long long)offset, (long long)need,
                             (long long)(offset - need), (long long)need);
                pthread_mutex_lock(&p->lock);
                p->stats.gaps[RED_GAP_FETCH]++;
                pthread_mutex_unlock(&p->lock);
                pt->reseek = need;
                red_pipeline_parts_seek(p, pt);
                return false;
        }
        /* read again from where we need, and the broker still starts
         * later: the log has no records there */
        red_log_debug("pipeline",
                      "%s: %s[%d]: no records at offsets %lld..%lld "
                      "(transaction markers or compaction)",
                      p->c->name, pt->topic, (int)pt->partition,
                      (long long)need, (long long)(offset - 1));
        pthread_mutex_lock(&p->lock);
        p->stats.gaps[RED_GAP_NO_RECORDS]++;
        p->stats.offsets_skipped[RED_SKIP_NO_RECORDS] +=
                (uint64_t)(offset - need);
        pthread_mutex_unlock(&p->lock);
        pt->reseek = -1;
        return true;
}

/* --- the policy --------------------------------------------------------- */

/* Records a reset in reducerd_offsets (epoch, reset_at; the position when
 * no message of the partition is in flight). False when Postgres did not
 * take it: red_pipeline_gaps_retry() tries again. */
static bool record_reset(red_pipeline_t *p, red_pipeline_part_t *pt)
{
        char err[1024];
        int64_t stored;

        if (!red_pipeline_ensure_pg(p) ||
            red_sink_offsets_reset(p->sink, pt->topic, pt->partition,
                                   pt->reset_prev, pt->reset_next, &stored, err,
                                   sizeof(err))) {
                pt->reset_pending = true;
                return false;
        }
        pt->reset_pending = false;
        if (pt->reset_next >= 0 && stored == pt->reset_next) {
                pt->committed = stored;
        }
        return true;
}

/* kafka.offset_gap_policy reset: @p pt goes on from @p lo, the start of
 * the broker's log (-1 when unknown); the offsets between @p need and it
 * are gone. */
static void reset_to(red_pipeline_t *p, red_pipeline_part_t *pt, int64_t lo,
                     int64_t need)
{
        uint64_t skipped = lo > need && need >= 0 ? (uint64_t)(lo - need) : 0;
        /* messages of the partition in flight: their batch moves the
         * position; none: the reset moves it, so a restart starts there */
        bool in_flight = pt->fetched != pt->committed;

        red_log_warn("kafka",
                     "%s: %s[%d]: reading from offset %lld, the start of the "
                     "broker's log (kafka.offset_gap_policy reset%s); %llu "
                     "offsets skipped",
                     p->c->name, pt->topic, (int)pt->partition, (long long)lo,
                     red_config_kafka_embedded(p->conf)
                             ? ", as always with the embedded cluster, which "
                               "is new at every start"
                             : "",
                     (unsigned long long)skipped);
        pthread_mutex_lock(&p->lock);
        p->stats.offset_resets++;
        p->stats.offsets_skipped[RED_SKIP_RESET] += skipped;
        pthread_mutex_unlock(&p->lock);
        pt->verify = -1;
        pt->reseek = -1;
        pt->reset_prev = pt->committed;
        pt->reset_next = in_flight || lo < 0 ? -1 : lo;
        pt->fetched = lo;
        /* librdkafka gave the partition up on the error: a seek does not
         * start it again */
        red_pipeline_parts_restart(p, pt);
        record_reset(p, pt);
}

/* kafka.offset_gap_policy fail: @p pt is not consumed any more. */
static void stop(red_pipeline_t *p, red_pipeline_part_t *pt)
{
        rd_kafka_topic_partition_list_t *l =
                rd_kafka_topic_partition_list_new(1);

        red_log_error("kafka",
                      "%s: %s[%d]: not consumed any more "
                      "(kafka.offset_gap_policy fail); to go on, set the "
                      "policy to reset or move the partition's next_offset "
                      "in reducerd_offsets, then restart",
                      p->c->name, pt->topic, (int)pt->partition);
        rd_kafka_topic_partition_list_add(l, pt->topic, pt->partition);
        rd_kafka_pause_partitions(p->consumer, l);
        rd_kafka_topic_partition_list_destroy(l);
        pt->stopped = true;
        pt->verify = -1;
        red_pipeline_parts_publish_stopped(p);
}

/* Counts an offset gap of @p cause on @p pt and applies the policy. */
static void gap(red_pipeline_t *p, red_pipeline_part_t *pt,
                red_gap_cause_t cause, int64_t lo, int64_t need)
{
        pthread_mutex_lock(&p->lock);
        p->stats.gaps[cause]++;
        pthread_mutex_unlock(&p->lock);
        if (p->gap_policy == RED_GAP_POLICY_RESET) {
                reset_to(p, pt, lo, need);
        } else {
                stop(p, pt);
        }
}

/* The broker's log of @p pt: lo..hi, -1 each when it does not answer. */
static void log_bounds(red_pipeline_t *p, const red_pipeline_part_t *pt,
                       int64_t *lo, int64_t *hi)
{
        if (rd_kafka_query_watermark_offsets(p->consumer, pt->topic,
                                             pt->partition, lo, hi, 5000)) {
                *lo = *hi = -1;
        }
}

int64_t red_pipeline_gaps_log_start(red_pipeline_t *p,
                                    const red_pipeline_part_t *pt)
{
        int64_t lo, hi;

        log_bounds(p, pt, &lo, &hi);
        return lo;
}

void red_pipeline_gaps_log_starts(red_pipeline_t *p)
{
        rd_kafka_topic_partition_list_t *l =
                rd_kafka_topic_partition_list_new((int)p->part_cnt);

        for (size_t i = 0; i < p->part_cnt; i++) {
                if (p->parts[i].fetched < 0) {
                        /* a "timestamp" of -2 asks for the earliest offset */
                        rd_kafka_topic_partition_list_add(l, p->parts[i].topic,
                                                          p->parts[i].partition)
                                ->offset = RD_KAFKA_OFFSET_BEGINNING;
                }
        }
        if (l->cnt && !rd_kafka_offsets_for_times(p->consumer, l, 5000)) {
                for (int i = 0; i < l->cnt; i++) {
                        red_pipeline_part_t *pt = red_pipeline_parts_find(
                                p, l->elems[i].topic, l->elems[i].partition);

                        if (pt && pt->fetched < 0 && !l->elems[i].err &&
                            l->elems[i].offset >= 0) {
                                pt->fetched = l->elems[i].offset;
                        }
                }
        }
        rd_kafka_topic_partition_list_destroy(l);
}

/* --- the log a position belongs to -------------------------------------- */

bool red_pipeline_gaps_verify(red_pipeline_t *p, red_pipeline_part_t *pt,
                              const rd_kafka_message_t *m)
{
        red_msg_t v;
        int64_t lo, hi;

        if (m->offset < pt->verify) {
                return false; /* a leftover of an earlier seek */
        }
        if (m->offset > pt->verify) {
                /* that message is gone (retention, compaction): the log
                 * cannot tell, what follows is checked as usual */
                red_log_debug("pipeline",
                              "%s: %s[%d]: offset %lld to verify is gone; "
                              "reading on from %lld",
                              p->c->name, pt->topic, (int)pt->partition,
                              (long long)pt->verify, (long long)m->offset);
                pt->verify = -1;
                return true;
        }
        red_replay_view(m, &v);
        if (red_core_msg_digest(&v) == pt->verify_digest) {
                pt->verify = -1;
                return false;
        }
        log_bounds(p, pt, &lo, &hi);
        red_log_error("kafka",
                      "%s: %s[%d]: the message at offset %lld is not the one "
                      "the stored position %lld was taken after: the log "
                      "(now %lld..%lld) was replaced, e.g. the topic was "
                      "deleted and recreated",
                      p->c->name, pt->topic, (int)pt->partition,
                      (long long)m->offset, (long long)pt->committed,
                      (long long)lo, (long long)hi);
        gap(p, pt, RED_GAP_LOG_CHANGED, lo, -1);
        return false;
}

/* --- offsets the log does not hold -------------------------------------- */

void red_pipeline_gaps_out_of_range(red_pipeline_t *p,
                                    const rd_kafka_message_t *m)
{
        const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "";
        red_pipeline_part_t *pt =
                red_pipeline_parts_find(p, topic, m->partition);
        int64_t lo, hi, need;

        if (!pt || pt->stopped) {
                return;
        }
        /* where the partition stands (reading the message before it to
         * verify it is an implementation detail) */
        need = pt->fetched;
        log_bounds(p, pt, &lo, &hi);
        if (pt->verify >= 0 && lo >= 0 && lo <= pt->committed &&
            pt->committed <= hi) {
                /* only the message to verify is gone: the position still
                 * lies in the log (librdkafka gave the partition up: no
                 * seek starts it again) */
                pt->verify = -1;
                red_pipeline_parts_restart(p, pt);
                return;
        }
        red_log_error("kafka",
                      "%s: %s[%d]: offset %lld, where the partition stands, is "
                      "not in the broker's log %lld..%lld (%s)",
                      p->c->name, pt->topic, (int)pt->partition,
                      (long long)need, (long long)lo, (long long)hi,
                      lo >= 0 && need < lo
                              ? "retention deleted messages before they were "
                                "read"
                      : hi >= 0 && need > hi
                              ? "the log is shorter: the topic was recreated, "
                                "or the position belongs to another cluster"
                              : rd_kafka_err2str(m->err));
        gap(p, pt, RED_GAP_OUT_OF_RANGE, lo, need);
}

void red_pipeline_gaps_retry(red_pipeline_t *p)
{
        for (size_t i = 0; i < p->part_cnt; i++) {
                if (p->parts[i].reset_pending) {
                        record_reset(p, &p->parts[i]);
                }
        }
}
