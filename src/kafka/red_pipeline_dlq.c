/* red_pipeline_dlq - dead letters to Kafka before the batch commits. */
#include "red_pipeline_dlq.h"

#include "red_kafka_conf.h"
#include "red_log.h"
#include "red_pipeline_parts.h"

#include <stdio.h>

/* A delivery report (on the thread that polls or flushes the producer). */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m,
                        void *opaque)
{
        red_pipeline_t *p = opaque;

        (void)rk;
        if (m->err) {
                atomic_fetch_add(&p->dlq_failed, 1);
                red_log_error("pipeline",
                              "%s: dead letter to %s not "
                              "delivered: %s",
                              p->c->name, rd_kafka_topic_name(m->rkt),
                              rd_kafka_err2str(m->err));
        }
        atomic_fetch_sub(&p->dlq_pending, 1);
}

int red_pipeline_dlq_open(red_pipeline_t *p, const char *brokers,
                          const char *client_id, char *errstr,
                          size_t errstr_size)
{
        rd_kafka_conf_t *kc;
        char err[512];

        if (!(kc = red_kafka_conf_producer(p->conf, brokers, client_id, errstr,
                                           errstr_size))) {
                return -1;
        }
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
}

/* The headers of a dead letter: why, and where it came from. */
static rd_kafka_headers_t *letter_headers(red_pipeline_t *p,
                                          const red_dead_letter_t *dl)
{
        rd_kafka_headers_t *h = rd_kafka_headers_new(6);
        const red_msg_t *m = dl->msg;
        char part[16], off[24];

        snprintf(part, sizeof(part), "%d", (int)m->partition);
        snprintf(off, sizeof(off), "%lld", (long long)m->offset);
        rd_kafka_header_add(h, "error_code", -1, red_dlq_code_name(dl->code),
                            -1);
        rd_kafka_header_add(h, "error_detail", -1, dl->detail, -1);
        rd_kafka_header_add(h, "source_topic", -1, m->topic, -1);
        rd_kafka_header_add(h, "source_partition", -1, part, -1);
        rd_kafka_header_add(h, "source_offset", -1, off, -1);
        rd_kafka_header_add(h, "contract", -1, p->c->name, -1);
        return h;
}

/* Queues one dead letter, waiting while the producer's queue is full.
 * False when librdkafka refuses it. */
static bool produce(red_pipeline_t *p, const red_dead_letter_t *dl)
{
        rd_kafka_headers_t *h = letter_headers(p, dl);
        const red_msg_t *m = dl->msg;
        rd_kafka_resp_err_t e;

        atomic_fetch_add(&p->dlq_pending, 1);
        do {
                e = rd_kafka_producev(
                        p->dlq, RD_KAFKA_V_TOPIC(p->c->dead_letter_topic),
                        RD_KAFKA_V_KEY(m->key, m->key_len),
                        RD_KAFKA_V_VALUE((void *)m->value, m->value_len),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                        RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
                if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                        rd_kafka_poll(p->dlq, 50);
                }
        } while (e == RD_KAFKA_RESP_ERR__QUEUE_FULL);
        if (e) {
                /* the headers are ours again only when producev failed */
                atomic_fetch_sub(&p->dlq_pending, 1);
                rd_kafka_headers_destroy(h);
                red_log_error("pipeline", "%s: dead letter: %s", p->c->name,
                              rd_kafka_err2str(e));
                return false;
        }
        return true;
}

/*
 * A batch consumed again (replay, fenced, Postgres retry) skips the letters
 * this worker already delivered for its partitions (dead_through); after a
 * crash or a rebalance they may be sent twice (at least once).
 */
bool red_pipeline_dlq_send(red_pipeline_t *p)
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
                red_pipeline_part_t *pt =
                        red_pipeline_parts_find(p, m->topic, m->partition);

                if (pt && m->offset < pt->dead_through) {
                        continue;
                }
                if (!produce(p, &dl[i])) {
                        return false;
                }
        }
        rd_kafka_flush(p->dlq, 30000);
        ok = atomic_load(&p->dlq_pending) == 0 &&
             atomic_load(&p->dlq_failed) == 0;
        for (size_t i = 0; ok && i < cnt; i++) {
                red_pipeline_part_t *pt = red_pipeline_parts_find(
                        p, dl[i].msg->topic, dl[i].msg->partition);

                if (pt && dl[i].msg->offset >= pt->dead_through) {
                        pt->dead_through = dl[i].msg->offset + 1;
                }
        }
        return ok;
}
