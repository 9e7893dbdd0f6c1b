/* red_pipeline_dlq - dead letters to Kafka before the batch commits. */
#include "red_pipeline_dlq.h"

#include "red_kafka_conf.h"
#include "red_log.h"
#include "red_pipeline_parts.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Size. A letter must fit the producer's message.max.bytes (librdkafka
 * refuses a larger one at once) and the broker's limit for the topic
 * (Kafka's default max.message.bytes is 1048588; a broker refuses a larger
 * batch in the delivery report). A message of 1 MB or more fits neither,
 * and would be refused on every retry of its batch: the contract would
 * stop for good. So the original bytes go out whole only when they fit
 * with room to spare; a larger letter keeps their first LETTER_PREFIX
 * bytes (and of a key as large) and says so in its headers
 * (payload_truncated, original_size), which also name where the whole
 * message is (source_topic, source_partition, source_offset). A letter the
 * broker still refuses as too large is sent again in that short form.
 */
#define LETTER_ROOM   (64 * 1024) /* headers, a usual key, the framing */
#define LETTER_PREFIX 1024        /* what a truncated letter keeps */

/* Where a letter of the current send stands. */
enum {
        L_SKIP,      /* not sent: delivered before (dead_through) */
        L_PENDING,   /* queued, no report yet */
        L_DONE,      /* delivered */
        L_FAILED,    /* refused: the batch is retried */
        L_TOO_LARGE, /* refused by the broker as too large */
};

/* The producer's letters in flight. Reports come on the thread that polls
 * or flushes the producer, the pipeline's; one of an earlier send (after
 * a flush timed out) carries another sequence number and is ignored. */
struct red_pipeline_dlq_s {
        size_t max_bytes; /* the producer's message.max.bytes */
        uint32_t seq;     /* of the current send */
        unsigned char *state;
        size_t cap;
};

/* A letter's report opaque: the send's sequence number and its index. */
static void *letter_id(uint32_t seq, size_t i)
{
        return (void *)(uintptr_t)(((uint64_t)seq << 32) | (uint32_t)i);
}

/* A delivery report (on the thread that polls or flushes the producer). */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m,
                        void *opaque)
{
        red_pipeline_t *p = opaque;
        red_pipeline_dlq_t *d = p->dlq_state;
        uint64_t id = (uint64_t)(uintptr_t)m->_private;
        size_t i = (uint32_t)id;

        (void)rk;
        if (m->err) {
                red_log_error("pipeline",
                              "%s: dead letter to %s not "
                              "delivered: %s",
                              p->c->name, rd_kafka_topic_name(m->rkt),
                              rd_kafka_err2str(m->err));
        }
        if ((uint32_t)(id >> 32) != d->seq || i >= d->cap) {
                return; /* of an earlier send */
        }
        if (!m->err) {
                d->state[i] = L_DONE;
        } else if (m->err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
                d->state[i] = L_TOO_LARGE;
        } else {
                d->state[i] = L_FAILED;
        }
}

int red_pipeline_dlq_open(red_pipeline_t *p, const char *brokers,
                          const char *client_id, char *errstr,
                          size_t errstr_size)
{
        rd_kafka_conf_t *kc;
        char err[512], max[32];
        size_t len = sizeof(max);

        if (!(p->dlq_state = calloc(1, sizeof(*p->dlq_state)))) {
                snprintf(errstr, errstr_size, "out of memory");
                return -1;
        }
        if (!(kc = red_kafka_conf_producer(p->conf, brokers, client_id, errstr,
                                           errstr_size))) {
                return -1;
        }
        /* librdkafka's default (1000000) unless kafka.properties say more:
         * letters are sized to it */
        if (rd_kafka_conf_get(kc, "message.max.bytes", max, &len) !=
            RD_KAFKA_CONF_OK) {
                snprintf(max, sizeof(max), "1000000");
        }
        p->dlq_state->max_bytes = (size_t)strtoull(max, NULL, 10);
        rd_kafka_conf_set_opaque(kc, p);
        rd_kafka_conf_set_dr_msg_cb(kc, on_delivery);
        if (!(p->dlq = rd_kafka_new(RD_KAFKA_PRODUCER, kc, err, sizeof(err)))) {
                rd_kafka_conf_destroy(kc);
                snprintf(errstr, errstr_size, "kafka producer: %s", err);
                return -1;
        }
        return 0;
}

void red_pipeline_dlq_close(red_pipeline_t *p)
{
        if (p->dlq) {
                rd_kafka_flush(p->dlq, 5000);
                rd_kafka_destroy(p->dlq);
                p->dlq = NULL;
        }
        if (p->dlq_state) {
                free(p->dlq_state->state);
                free(p->dlq_state);
                p->dlq_state = NULL;
        }
}

/* True when @p dl goes out whole: its bytes fit the producer's limit with
 * room for the headers. */
static bool fits(const red_pipeline_t *p, const red_dead_letter_t *dl)
{
        size_t max = p->dlq_state->max_bytes;

        return max > LETTER_ROOM &&
               dl->msg->value_len + dl->msg->key_len <= max - LETTER_ROOM;
}

/* The headers of a dead letter: why, where it came from, and whether its
 * bytes are cut (@p whole false). */
static rd_kafka_headers_t *
letter_headers(red_pipeline_t *p, const red_dead_letter_t *dl, bool whole)
{
        rd_kafka_headers_t *h = rd_kafka_headers_new(9);
        const red_msg_t *m = dl->msg;
        char part[16], off[24], size[24], ksize[24];

        snprintf(part, sizeof(part), "%d", (int)m->partition);
        snprintf(off, sizeof(off), "%lld", (long long)m->offset);
        rd_kafka_header_add(h, "error_code", -1, red_dlq_code_name(dl->code),
                            -1);
        rd_kafka_header_add(h, "error_detail", -1, dl->detail, -1);
        rd_kafka_header_add(h, "source_topic", -1, m->topic, -1);
        rd_kafka_header_add(h, "source_partition", -1, part, -1);
        rd_kafka_header_add(h, "source_offset", -1, off, -1);
        rd_kafka_header_add(h, "contract", -1, p->c->name, -1);
        if (!whole) {
                snprintf(size, sizeof(size), "%zu", m->value_len);
                snprintf(ksize, sizeof(ksize), "%zu", m->key_len);
                rd_kafka_header_add(h, "payload_truncated", -1, "true", -1);
                rd_kafka_header_add(h, "original_size", -1, size, -1);
                rd_kafka_header_add(h, "original_key_size", -1, ksize, -1);
        }
        return h;
}

/* Queues letter @p i (whole, or its first bytes), waiting while the
 * producer's queue is full. False when librdkafka refuses it. */
static bool produce(red_pipeline_t *p, const red_dead_letter_t *dl, size_t i,
                    bool whole)
{
        red_pipeline_dlq_t *d = p->dlq_state;
        rd_kafka_headers_t *h = letter_headers(p, dl, whole);
        const red_msg_t *m = dl->msg;
        size_t vlen = m->value_len, klen = m->key_len;
        rd_kafka_resp_err_t e;

        if (!whole) {
                vlen = vlen < LETTER_PREFIX ? vlen : LETTER_PREFIX;
                klen = klen < LETTER_PREFIX ? klen : LETTER_PREFIX;
        }
        d->state[i] = L_PENDING;
        do {
                e = rd_kafka_producev(p->dlq,
                                      RD_KAFKA_V_TOPIC(p->c->dead_letter_topic),
                                      RD_KAFKA_V_KEY(m->key, klen),
                                      RD_KAFKA_V_VALUE((void *)m->value, vlen),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                      RD_KAFKA_V_HEADERS(h),
                                      RD_KAFKA_V_OPAQUE(letter_id(d->seq, i)),
                                      RD_KAFKA_V_END);
                if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                        rd_kafka_poll(p->dlq, 50);
                }
        } while (e == RD_KAFKA_RESP_ERR__QUEUE_FULL);
        if (e) {
                /* the headers are ours again only when producev failed */
                rd_kafka_headers_destroy(h);
                if (e == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE && whole) {
                        return produce(p, dl, i, false);
                }
                d->state[i] = L_FAILED;
                red_log_error("pipeline", "%s: dead letter: %s", p->c->name,
                              rd_kafka_err2str(e));
                return false;
        }
        return true;
}

/* Room for the states of @p cnt letters, all L_SKIP, and a new sequence
 * number. False on OOM. */
static bool begin_send(red_pipeline_dlq_t *d, size_t cnt)
{
        if (cnt > d->cap) {
                unsigned char *ns = realloc(d->state, cnt);
                if (!ns) {
                        return false;
                }
                d->state = ns;
                d->cap = cnt;
        }
        memset(d->state, L_SKIP, d->cap);
        d->seq++;
        return true;
}

/*
 * A batch consumed again (replay, fenced, Postgres retry) skips the letters
 * this worker already delivered for its partitions (dead_through); after a
 * crash or a rebalance they may be sent twice (at least once).
 */
bool red_pipeline_dlq_send(red_pipeline_t *p)
{
        red_pipeline_dlq_t *d = p->dlq_state;
        const red_dead_letter_t *dl;
        size_t cnt, resent = 0;
        bool ok = true;

        dl = red_core_dead_letters(p->core, &cnt);
        if (!cnt) {
                return true;
        }
        if (!begin_send(d, cnt)) {
                red_log_error("pipeline", "%s: out of memory", p->c->name);
                return false;
        }
        for (size_t i = 0; i < cnt; i++) {
                const red_msg_t *m = dl[i].msg;
                red_pipeline_part_t *pt =
                        red_pipeline_parts_find(p, m->topic, m->partition);

                if (pt && m->offset < pt->dead_through) {
                        continue;
                }
                if (!produce(p, &dl[i], i, fits(p, &dl[i]))) {
                        return false;
                }
        }
        rd_kafka_flush(p->dlq, 30000);
        /* what the broker found too large goes again, cut short */
        for (size_t i = 0; i < cnt; i++) {
                if (d->state[i] == L_TOO_LARGE) {
                        if (!produce(p, &dl[i], i, false)) {
                                return false;
                        }
                        resent++;
                }
        }
        if (resent) {
                red_log_warn("pipeline",
                             "%s: %zu dead letters too large for the broker: "
                             "sent with their first %d bytes",
                             p->c->name, resent, LETTER_PREFIX);
                rd_kafka_flush(p->dlq, 30000);
        }
        for (size_t i = 0; i < cnt; i++) {
                ok = ok && (d->state[i] == L_SKIP || d->state[i] == L_DONE);
        }
        for (size_t i = 0; ok && i < cnt; i++) {
                red_pipeline_part_t *pt = red_pipeline_parts_find(
                        p, dl[i].msg->topic, dl[i].msg->partition);

                if (pt && dl[i].msg->offset >= pt->dead_through) {
                        pt->dead_through = dl[i].msg->offset + 1;
                }
        }
        return ok;
}
