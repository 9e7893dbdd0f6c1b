/* red_syncprod - produce one message and wait for the broker's ack. */
#include "red_syncprod.h"

#include "red_kafka_conf.h"
#include "red_time.h"

#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One send waiting for its delivery report. */
typedef struct waiter_s {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool done;
        rd_kafka_resp_err_t err;
        int refs; /* the caller and the report */
} waiter_t;

struct red_syncprod_s {
        rd_kafka_t *rk;
        pthread_t thread; /* serves the delivery reports */
        atomic_bool stop;
        bool started;
};

static void waiter_unref(waiter_t *w)
{
        bool last;

        pthread_mutex_lock(&w->lock);
        last = --w->refs == 0;
        pthread_mutex_unlock(&w->lock);
        if (last) {
                pthread_mutex_destroy(&w->lock);
                pthread_cond_destroy(&w->cond);
                free(w);
        }
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m,
                        void *opaque)
{
        waiter_t *w = m->_private;

        (void)rk;
        (void)opaque;
        pthread_mutex_lock(&w->lock);
        w->done = true;
        w->err = m->err;
        pthread_cond_signal(&w->cond);
        pthread_mutex_unlock(&w->lock);
        waiter_unref(w);
}

static void *serve_reports(void *arg)
{
        red_syncprod_t *p = arg;

        while (!atomic_load(&p->stop)) {
                rd_kafka_poll(p->rk, 100);
        }
        return NULL;
}

red_syncprod_t *red_syncprod_new(const red_config_t *conf, const char *brokers,
                                 const char *client_id, char *errstr,
                                 size_t errstr_size)
{
        red_syncprod_t *p = calloc(1, sizeof(*p));
        rd_kafka_conf_t *kc;
        char err[512];

        if (!p) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        if (!(kc = red_kafka_conf_producer(conf, brokers, client_id, err,
                                           sizeof(err)))) {
                goto err;
        }
        /* a registration waits for one message: no batching delay; and a
         * message not delivered within 10 s fails for good, so that a
         * caller told "no" is not surprised by a late delivery (a caller
         * that timed out earlier cannot know: the events are idempotent
         * enough to be sent again) */
        if (rd_kafka_conf_set(kc, "linger.ms", "0", err, sizeof(err)) !=
                    RD_KAFKA_CONF_OK ||
            rd_kafka_conf_set(kc, "message.timeout.ms", "10000", err,
                              sizeof(err)) != RD_KAFKA_CONF_OK) {
                rd_kafka_conf_destroy(kc);
                goto err;
        }
        rd_kafka_conf_set_dr_msg_cb(kc, on_delivery);
        if (!(p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, err, sizeof(err)))) {
                rd_kafka_conf_destroy(kc);
                goto err;
        }
        if (pthread_create(&p->thread, NULL, serve_reports, p)) {
                snprintf(err, sizeof(err), "cannot start a thread");
                goto err;
        }
        p->started = true;
        return p;
err:
        snprintf(errstr, errstr_size, "producer: %s", err);
        red_syncprod_destroy(p);
        return NULL;
}

void red_syncprod_destroy(red_syncprod_t *p)
{
        if (!p) {
                return;
        }
        if (p->rk) {
                rd_kafka_flush(p->rk, 5000);
        }
        atomic_store(&p->stop, true);
        if (p->started) {
                pthread_join(p->thread, NULL);
        }
        if (p->rk) {
                rd_kafka_destroy(p->rk);
        }
        free(p);
}

int red_syncprod_send(red_syncprod_t *p, const char *topic, const char *key,
                      const char *value, size_t len, const char *event_type,
                      int timeout_ms, char *errstr, size_t errstr_size)
{
        waiter_t *w = calloc(1, sizeof(*w));
        rd_kafka_headers_t *hdrs = NULL;
        rd_kafka_resp_err_t err;
        struct timespec until;
        int r = -1;

        if (!w) {
                snprintf(errstr, errstr_size, "out of memory");
                return -1;
        }
        pthread_mutex_init(&w->lock, NULL);
        pthread_cond_init(&w->cond, NULL);
        w->refs = 2;
        if (event_type) {
                hdrs = rd_kafka_headers_new(1);
                rd_kafka_header_add(hdrs, "event_type", -1, event_type, -1);
        }
        err = rd_kafka_producev(p->rk, RD_KAFKA_V_TOPIC(topic),
                                RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
                                RD_KAFKA_V_VALUE((void *)value, len),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(w),
                                RD_KAFKA_V_END);
        if (err) {
                /* not queued: no report will come, the headers are ours */
                rd_kafka_headers_destroy(hdrs);
                snprintf(errstr, errstr_size, "%s: %s", topic,
                         rd_kafka_err2str(err));
                w->refs = 1;
                waiter_unref(w);
                return -1;
        }
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += timeout_ms / 1000;
        until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000;
        }
        pthread_mutex_lock(&w->lock);
        while (!w->done && pthread_cond_timedwait(&w->cond, &w->lock, &until) !=
                                   ETIMEDOUT) {
        }
        if (!w->done) {
                snprintf(errstr, errstr_size,
                         "%s: no acknowledgement from Kafka within %d ms",
                         topic, timeout_ms);
        } else if (w->err) {
                snprintf(errstr, errstr_size, "%s: %s", topic,
                         rd_kafka_err2str(w->err));
        } else {
                r = 0;
        }
        pthread_mutex_unlock(&w->lock);
        waiter_unref(w);
        return r;
}
