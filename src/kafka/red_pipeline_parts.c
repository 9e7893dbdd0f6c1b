/* red_pipeline_parts - assigned partitions: positions, frontier, lag. */
#include "red_pipeline_parts.h"

#include "red_frontier.h"
#include "red_log.h"
#include "red_time.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- the table -------------------------------------------------------- */

red_pipeline_part_t *
red_pipeline_parts_find(red_pipeline_t *p, const char *topic, int32_t partition)
{
        /* messages come in runs of one partition: try the last one first */
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

/* Adds a partition, or resets one assigned again, at its stored
 * position @p st. */
static int part_add(red_pipeline_t *p, const char *topic, int32_t partition,
                    const red_sink_stored_t *st)
{
        red_pipeline_part_t *pt = red_pipeline_parts_find(p, topic, partition);

        if (!pt) {
                if (p->part_cnt == p->part_cap) {
                        size_t ncap = p->part_cap ? p->part_cap * 2 : 16;
                        red_pipeline_part_t *np =
                                realloc(p->parts, ncap * sizeof(*np));
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
                /* a reload (a fenced batch) keeps a partition stopped by
                 * an offset gap stopped; a new assignment checks again */
                pt->stopped = false;
                p->part_cnt++;
        }
        pt->committed = st->next;
        pt->fetched = st->next;
        pt->lag = -1;
        pt->queried = 0;
        pt->empty = false;
        pt->held = false;
        pt->reseek = -1;
        pt->last_arrival = p->last_activity = red_time_mono_us();
        pt->reset_pending = false;
        /* read the message the position was taken after first: the same
         * one, or the log is another (red_pipeline_gaps_verify()) */
        pt->verify = st->last_offset >= 0 && st->last_offset < st->next
                             ? st->last_offset
                             : -1;
        pt->verify_digest = st->last_digest;
        return 0;
}

void red_pipeline_parts_remove(red_pipeline_t *p, const char *topic,
                               int32_t partition)
{
        red_pipeline_part_t *pt = red_pipeline_parts_find(p, topic, partition);

        if (pt) {
                free(pt->topic);
                *pt = p->parts[--p->part_cnt];
                p->last_part = 0;
                red_pipeline_parts_publish_stopped(p);
        }
}

void red_pipeline_parts_destroy(red_pipeline_t *p)
{
        for (size_t i = 0; i < p->part_cnt; i++) {
                free(p->parts[i].topic);
        }
        free(p->parts);
        p->parts = NULL;
        p->part_cnt = p->part_cap = 0;
}

rd_kafka_topic_partition_list_t *red_pipeline_parts_list(red_pipeline_t *p)
{
        rd_kafka_topic_partition_list_t *list =
                rd_kafka_topic_partition_list_new((int)p->part_cnt);

        for (size_t i = 0; i < p->part_cnt; i++) {
                rd_kafka_topic_partition_list_add(list, p->parts[i].topic,
                                                  p->parts[i].partition);
        }
        return list;
}

void red_pipeline_parts_publish_stopped(red_pipeline_t *p)
{
        size_t n = 0;
        const red_pipeline_part_t *first = NULL;

        for (size_t i = 0; i < p->part_cnt; i++) {
                if (p->parts[i].stopped) {
                        first = first ? first : &p->parts[i];
                        n++;
                }
        }
        pthread_mutex_lock(&p->lock);
        p->stats.partitions_stopped = n;
        if (first) {
                snprintf(p->stats.stopped_partition,
                         sizeof(p->stats.stopped_partition), "%s[%d]",
                         first->topic, (int)first->partition);
        } else {
                p->stats.stopped_partition[0] = '\0';
        }
        pthread_mutex_unlock(&p->lock);
}

void red_pipeline_parts_publish(red_pipeline_t *p, bool joined)
{
        pthread_mutex_lock(&p->lock);
        p->stats.partitions = p->part_cnt;
        p->stats.assigned = p->part_cnt > 0;
        p->stats.joined = joined;
        pthread_mutex_unlock(&p->lock);
}

/* --- positions from Postgres ------------------------------------------ */

/* The offset a partition must be read from next: the message to verify
 * (red_pipeline_gaps_verify()), else the one after the last message
 * added, else its stored position, else the log's start. */
static int64_t next_needed(const red_pipeline_part_t *pt)
{
        if (pt->verify >= 0) {
                return pt->verify;
        }
        return pt->fetched >= 0 ? pt->fetched : RD_KAFKA_OFFSET_BEGINNING;
}


bool red_pipeline_parts_load(red_pipeline_t *p,
                             rd_kafka_topic_partition_list_t *list)
{
        size_t cnt = (size_t)list->cnt;
        const char **topics = calloc(cnt + 1, sizeof(char *));
        int32_t *ids = calloc(cnt + 1, sizeof(int32_t));
        red_sink_stored_t *st = calloc(cnt + 1, sizeof(*st));
        char err[1024];
        bool ok = false;

        if (!topics || !ids || !st) {
                goto done;
        }
        for (size_t i = 0; i < cnt; i++) {
                topics[i] = list->elems[i].topic;
                ids[i] = list->elems[i].partition;
        }
        while (!atomic_load(&p->stop)) {
                red_sink_result_t r = RED_SINK_RETRY;
                if (red_pipeline_ensure_pg(p)) {
                        r = red_sink_offsets(p->sink, topics, ids, cnt,
                                             p->generation, st, err,
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
                red_pipeline_backoff(p);
                red_pipeline_wait(p, p->backoff_ms);
        }
        p->backoff_ms = 0;
        for (size_t i = 0; ok && i < cnt; i++) {
                red_pipeline_part_t *pt;

                if (part_add(p, topics[i], ids[i], &st[i]) ||
                    red_core_set_watermark(p->core, topics[i], ids[i],
                                           st[i].watermark)) {
                        ok = false;
                        break;
                }
                pt = red_pipeline_parts_find(p, topics[i], ids[i]);
                /* no stored offset: the partition is read from its start */
                list->elems[i].offset = next_needed(pt);
        }
        red_pipeline_parts_publish_stopped(p);
done:
        free(topics);
        free(ids);
        free(st);
        return ok;
}

/* --- the frontier ----------------------------------------------------- */

/*
 * True when the consumer has read everything the partition holds now:
 * the broker may append to it, but nothing older than what was read is
 * waiting in it, so it can only hold the frontier with what producers
 * will send from now on (red_frontier.h, CAUGHT_UP and IDLE).
 */
static bool caught_up(red_pipeline_t *p, red_pipeline_part_t *pt)
{
        int64_t lo, hi, now;

        if (pt->held || p->all_paused) {
                /* paused: no fetch refreshes the high watermark, which
                 * says nothing about what waits in the log */
                return false;
        }
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

/* Logs which partition holds the frontier back, and how far it is read. */
static void log_holder(red_pipeline_t *p, const red_frontier_t *f)
{
        const red_pipeline_part_t *holder = &p->parts[f->holder];
        char ts[RED_TIME_FMT_SIZE] = "none";
        int64_t lo = -1, hi = -1;

        rd_kafka_get_watermark_offsets(p->consumer, holder->topic,
                                       holder->partition, &lo, &hi);
        if (f->time != INT64_MIN) {
                red_time_format(f->time, ts, sizeof(ts));
        }
        red_log_debug("pipeline",
                      "%s: frontier %s held by %s[%d] (read up to %lld of "
                      "%lld)",
                      p->c->name, ts, holder->topic, (int)holder->partition,
                      (long long)holder->fetched, (long long)hi);
}

/*
 * What the partition can still deliver (red_frontier.h): caught up and
 * quiet for idle_wait is IDLE, merely caught up holds like READING (a live
 * stream of old events is caught up most of the time). Quiet counts from
 * its last message (or its last resume).
 */
static red_frontier_input_t input_of(red_pipeline_t *p, red_pipeline_part_t *pt,
                                     int64_t mono)
{
        if (pt->stopped) {
                /* an offset gap stopped it (kafka.offset_gap_policy fail):
                 * the others go on without it */
                return RED_FRONTIER_FINISHED;
        }
        if (!caught_up(p, pt)) {
                return RED_FRONTIER_READING;
        }
        return mono - pt->last_arrival >= p->c->idle_wait_us
                       ? RED_FRONTIER_IDLE
                       : RED_FRONTIER_CAUGHT_UP;
}

red_time_t red_pipeline_parts_frontier(red_pipeline_t *p, bool quiet)
{
        int64_t mono = red_time_mono_us();
        red_frontier_t f;

        red_frontier_init(&f, red_time_now(), p->c->idle_wait_us);
        for (size_t i = 0; i < p->part_cnt; i++) {
                red_pipeline_part_t *pt = &p->parts[i];

                red_frontier_add(
                        &f, i,
                        red_core_max_time(p->core, pt->topic, pt->partition),
                        input_of(p, pt, mono));
        }
        if (!quiet && f.holder != SIZE_MAX && red_log_enabled(RED_LOG_DEBUG)) {
                log_holder(p, &f);
        }
        return f.time;
}

void red_pipeline_parts_arrival(red_pipeline_t *p, red_pipeline_part_t *pt)
{
        int64_t now = red_time_mono_us();

        if (now - p->last_activity >= p->c->idle_wait_us) {
                /* the stream starts again after every partition was quiet
                 * for idle_wait (none paused, none assigned meanwhile):
                 * the partitions whose messages come a moment later must
                 * not be overtaken by this one, so every partition gets
                 * idle_wait again to show its part (red_frontier.h) */
                for (size_t i = 0; i < p->part_cnt; i++) {
                        p->parts[i].last_arrival = now;
                }
        }
        pt->last_arrival = p->last_activity = now;
}

/* --- pause, resume, seek --------------------------------------------- */

/*
 * librdkafka 2.0.2 resumes a partition after the last message it handed
 * over, which is not always the offset we need next: messages polled
 * while the partition was meant to be paused (a flush's wait destroys
 * them) count as consumed. So after every resume the consumer's position
 * is checked and, where it passed the offset we need, the partition is
 * sought back to it; a pause is undone only here, by the code that knows
 * that offset.
 */

/* Seeks every partition of @p list to the offset it needs next. The seek
 * is asynchronous: it takes effect at once for what poll returns (older
 * fetches are discarded), the fetch restarts in the background. */
static void seek_list(red_pipeline_t *p, rd_kafka_topic_partition_list_t *list)
{
        rd_kafka_error_t *kerr;

        if (!list->cnt) {
                return;
        }
        for (int i = 0; i < list->cnt; i++) {
                red_pipeline_part_t *pt = red_pipeline_parts_find(
                        p, list->elems[i].topic, list->elems[i].partition);
                list->elems[i].offset =
                        pt ? next_needed(pt) : RD_KAFKA_OFFSET_INVALID;
        }
        if ((kerr = rd_kafka_seek_partitions(p->consumer, list, 0))) {
                red_log_error("kafka", "%s: seek: %s", p->c->name,
                              rd_kafka_error_string(kerr));
                rd_kafka_error_destroy(kerr);
        }
}

void red_pipeline_parts_seek(red_pipeline_t *p, red_pipeline_part_t *pt)
{
        rd_kafka_topic_partition_list_t *l =
                rd_kafka_topic_partition_list_new(1);

        rd_kafka_topic_partition_list_add(l, pt->topic, pt->partition);
        seek_list(p, l);
        rd_kafka_topic_partition_list_destroy(l);
}

void red_pipeline_parts_restart(red_pipeline_t *p, red_pipeline_part_t *pt)
{
        bool cooperative = !strcmp(rd_kafka_rebalance_protocol(p->consumer),
                                   "COOPERATIVE");
        rd_kafka_topic_partition_list_t *l;
        rd_kafka_error_t *kerr = NULL;

        if (cooperative) {
                l = rd_kafka_topic_partition_list_new(1);
                rd_kafka_topic_partition_list_add(l, pt->topic, pt->partition)
                        ->offset = next_needed(pt);
                if (!(kerr = rd_kafka_incremental_unassign(p->consumer, l))) {
                        kerr = rd_kafka_incremental_assign(p->consumer, l);
                }
        } else {
                /* the eager protocol assigns all or nothing: everything
                 * starts again where we need it */
                l = red_pipeline_parts_list(p);
                for (int i = 0; i < l->cnt; i++) {
                        l->elems[i].offset = next_needed(
                                red_pipeline_parts_find(p, l->elems[i].topic,
                                                        l->elems[i].partition));
                }
                rd_kafka_assign(p->consumer, l);
        }
        if (kerr) {
                red_log_error("kafka", "%s: %s[%d]: assigning again: %s",
                              p->c->name, pt->topic, (int)pt->partition,
                              rd_kafka_error_string(kerr));
                rd_kafka_error_destroy(kerr);
        }
        rd_kafka_topic_partition_list_destroy(l);
}

/* After a resume: seeks back the partitions of @p list whose consumer
 * position (what librdkafka handed over, where a resume goes on from)
 * passed the offset we need. Only those: a seek throws the prefetched
 * messages away, and alignment resumes partitions all the time. */
static void seek_passed(red_pipeline_t *p,
                        const rd_kafka_topic_partition_list_t *list)
{
        rd_kafka_topic_partition_list_t *pos =
                rd_kafka_topic_partition_list_copy(list);
        rd_kafka_topic_partition_list_t *back =
                rd_kafka_topic_partition_list_new(list->cnt);

        if (!rd_kafka_position(p->consumer, pos)) {
                for (int i = 0; i < pos->cnt; i++) {
                        red_pipeline_part_t *pt = red_pipeline_parts_find(
                                p, pos->elems[i].topic,
                                pos->elems[i].partition);
                        int64_t need = pt ? next_needed(pt) : -1;

                        if (pt && pos->elems[i].offset >= 0 &&
                            (need < 0 || pos->elems[i].offset > need)) {
                                rd_kafka_topic_partition_list_add(
                                        back, pt->topic, pt->partition);
                        }
                }
        }
        seek_list(p, back);
        rd_kafka_topic_partition_list_destroy(back);
        rd_kafka_topic_partition_list_destroy(pos);
}

/* Pauses, or resumes (and seeks back where needed) the partitions of
 * @p list. */
static void pause_list(red_pipeline_t *p, rd_kafka_topic_partition_list_t *list,
                       bool pause)
{
        if (!list->cnt) {
                return;
        }
        if (pause) {
                rd_kafka_pause_partitions(p->consumer, list);
                return;
        }
        for (int i = list->cnt - 1; i >= 0; i--) {
                red_pipeline_part_t *pt = red_pipeline_parts_find(
                        p, list->elems[i].topic, list->elems[i].partition);
                if (pt && pt->stopped) {
                        /* an offset gap stopped it: it stays paused */
                        rd_kafka_topic_partition_list_del_by_idx(list, i);
                }
        }
        rd_kafka_resume_partitions(p->consumer, list);
        seek_passed(p, list);
        for (int i = 0; i < list->cnt; i++) {
                red_pipeline_part_t *pt = red_pipeline_parts_find(
                        p, list->elems[i].topic, list->elems[i].partition);
                if (pt) {
                        /* quiet while paused is not idle: the clock of
                         * red_frontier.h's IDLE starts again, and a
                         * resume is no silence of the stream */
                        pt->last_arrival = p->last_activity =
                                red_time_mono_us();
                }
        }
}

void red_pipeline_parts_pause_all(red_pipeline_t *p)
{
        rd_kafka_topic_partition_list_t *all = red_pipeline_parts_list(p);

        pause_list(p, all, true);
        rd_kafka_topic_partition_list_destroy(all);
        p->all_paused = true;
}

void red_pipeline_parts_resume_all(red_pipeline_t *p)
{
        rd_kafka_topic_partition_list_t *l =
                rd_kafka_topic_partition_list_new((int)p->part_cnt);

        p->all_paused = false;
        for (size_t i = 0; i < p->part_cnt; i++) {
                /* held for alignment: resumed by it, sought then */
                if (!p->parts[i].held) {
                        rd_kafka_topic_partition_list_add(
                                l, p->parts[i].topic, p->parts[i].partition);
                }
        }
        pause_list(p, l, false);
        rd_kafka_topic_partition_list_destroy(l);
}

void red_pipeline_parts_assigned(red_pipeline_t *p,
                                 rd_kafka_topic_partition_list_t *parts)
{
        /* a partition paused when it was revoked is still paused in
         * librdkafka when it comes back: clear it, unless a flush holds
         * everything. No seek: the assignment starts it where we need. */
        if (p->all_paused) {
                rd_kafka_pause_partitions(p->consumer, parts);
        } else {
                rd_kafka_resume_partitions(p->consumer, parts);
        }
}

/* --- alignment -------------------------------------------------------- */

/* Holds or releases one partition; while a flush holds every partition,
 * only the mark changes (the flush's end resumes what is not held). */
static void hold_partition(red_pipeline_t *p, red_pipeline_part_t *pt,
                           bool hold)
{
        rd_kafka_topic_partition_list_t *l =
                rd_kafka_topic_partition_list_new(1);

        pt->held = hold;
        if (!p->all_paused) {
                rd_kafka_topic_partition_list_add(l, pt->topic, pt->partition);
                pause_list(p, l, hold);
        }
        rd_kafka_topic_partition_list_destroy(l);
}

/* True when the partition has read events newer than the frontier. */
static bool runs_ahead(red_pipeline_t *p, const red_pipeline_part_t *pt,
                       red_time_t f)
{
        return red_core_max_time(p->core, pt->topic, pt->partition) > f;
}

/* The events of the partition waiting in the reorder buffer. */
static size_t part_buffered(red_pipeline_t *p, const red_pipeline_part_t *pt)
{
        return red_core_part_buffered(p->core, pt->topic, pt->partition);
}

/*
 * Watermark alignment: while too many events wait in the reorder buffer,
 * the partitions running ahead of the frontier with more than their share
 * of the buffer (the limit over the partitions) are paused, so that the
 * ones holding the frontier catch up; memory stays bounded and the order
 * stays exact. A partition behind, with little buffered, keeps reading
 * even when it is a little ahead: pausing it after every few messages it
 * reads (librdkafka drops what it prefetched for a paused partition) made
 * a backlog larger than the buffer crawl at a few events per batch. A
 * held partition is resumed once it no longer runs ahead or has half its
 * share left, and all are below half the limit (hysteresis, so that a
 * partition is not paused and resumed on every batch).
 */
void red_pipeline_parts_align(red_pipeline_t *p, red_time_t f)
{
        size_t buffered = red_core_buffered(p->core);
        size_t share = p->reorder_limit / (p->part_cnt ? p->part_cnt : 1);
        size_t held = 0;

        /* a held partition that no longer runs ahead may now be the one
         * the frontier waits for */
        for (size_t i = 0; i < p->part_cnt; i++) {
                red_pipeline_part_t *pt = &p->parts[i];
                if (pt->held && (!runs_ahead(p, pt, f) ||
                                 part_buffered(p, pt) <= share / 2)) {
                        hold_partition(p, pt, false);
                }
        }
        if (buffered > p->reorder_limit) {
                for (size_t i = 0; i < p->part_cnt; i++) {
                        red_pipeline_part_t *pt = &p->parts[i];
                        if (!pt->held && runs_ahead(p, pt, f) &&
                            part_buffered(p, pt) > share) {
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

/* --- stalls ------------------------------------------------------------ */

void red_pipeline_parts_unstall(red_pipeline_t *p)
{
        int64_t now = red_time_mono_us();
        rd_kafka_topic_partition_list_t *pos;

        if (p->all_paused || !p->part_cnt) {
                return;
        }
        pos = red_pipeline_parts_list(p);
        if (rd_kafka_position(p->consumer, pos)) {
                rd_kafka_topic_partition_list_destroy(pos);
                return;
        }
        for (int i = 0; i < pos->cnt; i++) {
                red_pipeline_part_t *pt = red_pipeline_parts_find(
                        p, pos->elems[i].topic, pos->elems[i].partition);
                int64_t handed = pos->elems[i].offset;

                if (!pt || pt->held || pt->stopped || pt->fetched < 0 ||
                    handed <= pt->fetched ||
                    now - pt->last_arrival < RED_PIPELINE_STALL_US) {
                        continue;
                }
                /* librdkafka handed over offsets up to handed - 1, which
                 * never reached the batch, and nothing came after them to
                 * show the gap (it was the end of what was produced) */
                red_log_warn("kafka",
                             "%s: %s[%d]: the consumer stands at offset "
                             "%lld, but offsets from %lld were not "
                             "delivered; reading again from %lld",
                             p->c->name, pt->topic, (int)pt->partition,
                             (long long)handed, (long long)pt->fetched,
                             (long long)pt->fetched);
                pthread_mutex_lock(&p->lock);
                p->stats.gaps[RED_GAP_FETCH]++;
                pthread_mutex_unlock(&p->lock);
                pt->last_arrival = now;
                pt->reseek = pt->fetched;
                red_pipeline_parts_seek(p, pt);
        }
        rd_kafka_topic_partition_list_destroy(pos);
}

/* --- lag -------------------------------------------------------------- */

/* Sets @p pt's lag from its log's watermarks @p lo, @p hi (hi < 0:
 * unknown). */
static void set_lag(red_pipeline_part_t *pt, int64_t lo, int64_t hi)
{
        if (hi < 0) {
                pt->lag = -1;
                return;
        }
        /* behind what Postgres holds, not what was read: a batch in memory
         * is not done */
        pt->lag = hi - (pt->committed >= 0 ? pt->committed : lo);
        if (pt->lag < 0) {
                pt->lag = 0;
        }
}

void red_pipeline_parts_update_lag(red_pipeline_t *p)
{
        for (size_t i = 0; i < p->part_cnt; i++) {
                int64_t lo, hi;
                red_pipeline_part_t *pt = &p->parts[i];

                if (rd_kafka_get_watermark_offsets(p->consumer, pt->topic,
                                                   pt->partition, &lo, &hi)) {
                        hi = -1;
                }
                set_lag(pt, lo, hi);
        }
}

void red_pipeline_parts_query_lag(red_pipeline_t *p, int timeout_ms)
{
        for (size_t i = 0; i < p->part_cnt; i++) {
                int64_t lo, hi;
                red_pipeline_part_t *pt = &p->parts[i];

                /* a broker round trip: outside the lock, which the HTTP
                 * threads take to read the lag */
                if (rd_kafka_query_watermark_offsets(p->consumer, pt->topic,
                                                     pt->partition, &lo, &hi,
                                                     timeout_ms)) {
                        continue; /* keep what is known */
                }
                pthread_mutex_lock(&p->lock);
                set_lag(pt, lo, hi);
                pthread_mutex_unlock(&p->lock);
        }
}
