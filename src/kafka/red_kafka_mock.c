/* red_kafka_mock - librdkafka's in-process mock cluster as the embedded Kafka.
 */
#include "red_kafka_mock.h"

#include "red_kafka_conf.h"
#include "red_time.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct red_kafka_mock_s {
        rd_kafka_t *rk; /* owner handle the mock cluster needs */
        rd_kafka_mock_cluster_t *mcluster;
        red_kafka_mock_topic_t *topics; /* created here; names owned */
        size_t topic_cnt;
};

red_kafka_mock_t *red_kafka_mock_new(int brokers, char *errstr,
                                     size_t errstr_size)
{
        red_kafka_mock_t *km = calloc(1, sizeof(*km));
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char err[512];

        if (!km) {
                rd_kafka_conf_destroy(conf);
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        red_kafka_conf_route_logs(conf);
        /* The handle only hosts the cluster; it never connects anywhere,
         * so silence its "no bootstrap.servers" warning. */
        if (rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err)) !=
            RD_KAFKA_CONF_OK) {
                rd_kafka_conf_destroy(conf);
                snprintf(errstr, errstr_size, "embedded kafka: %s", err);
                free(km);
                return NULL;
        }
        km->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
        if (!km->rk) {
                rd_kafka_conf_destroy(conf);
                snprintf(errstr, errstr_size, "embedded kafka: %s", err);
                free(km);
                return NULL;
        }
        km->mcluster = rd_kafka_mock_cluster_new(km->rk, brokers);
        if (!km->mcluster) {
                snprintf(errstr, errstr_size,
                         "embedded kafka: cannot start the mock cluster");
                red_kafka_mock_destroy(km);
                return NULL;
        }
        return km;
}

/* --- topics ------------------------------------------------------- */

static bool known(const red_kafka_mock_t *km, const char *topic)
{
        for (size_t i = 0; i < km->topic_cnt; i++) {
                if (!strcmp(km->topics[i].name, topic)) {
                        return true;
                }
        }
        return false;
}

static int remember(red_kafka_mock_t *km, const char *topic, int partitions)
{
        red_kafka_mock_topic_t *nt =
                realloc(km->topics, (km->topic_cnt + 1) * sizeof(*nt));
        char *name;

        if (!nt) {
                return -1;
        }
        km->topics = nt;
        if (!(name = strdup(topic))) {
                return -1;
        }
        km->topics[km->topic_cnt].name = name;
        km->topics[km->topic_cnt].partitions = partitions;
        km->topic_cnt++;
        return 0;
}

/* One creation request, run on its own thread. */
typedef struct create_s {
        rd_kafka_mock_cluster_t *mcluster;
        const char *name;
        int partitions;
        rd_kafka_resp_err_t err;
        pthread_t thread;
        bool threaded;
} create_t;

static void *create_main(void *arg)
{
        create_t *c = arg;

        c->err = rd_kafka_mock_topic_create(c->mcluster, c->name, c->partitions,
                                            1);
        return NULL;
}

/* At most this many requests wait on the mock thread at once. */
#define CREATE_BATCH 64

int red_kafka_mock_topics(red_kafka_mock_t *km,
                          const red_kafka_mock_topic_t *topics, size_t cnt,
                          char *errstr, size_t errstr_size)
{
        create_t jobs[CREATE_BATCH];
        /* the readiness check's topic comes with the first batch */
        bool ready_topic = !known(km, RED_KAFKA_MOCK_READY_TOPIC);
        size_t i = 0;

        while (i < cnt || ready_topic) {
                size_t n = 0;

                if (ready_topic) {
                        jobs[n++] = (create_t){km->mcluster,
                                               RED_KAFKA_MOCK_READY_TOPIC,
                                               1,
                                               0,
                                               0,
                                               false};
                        ready_topic = false;
                }
                /* the next batch of topics not created yet, each once */
                for (; i < cnt && n < CREATE_BATCH; i++) {
                        bool dup = known(km, topics[i].name);
                        for (size_t j = 0; j < n && !dup; j++) {
                                dup = !strcmp(jobs[j].name, topics[i].name);
                        }
                        if (!dup) {
                                jobs[n++] = (create_t){km->mcluster,
                                                       topics[i].name,
                                                       topics[i].partitions,
                                                       0,
                                                       0,
                                                       false};
                        }
                }
                /* all requests queued at once are served at one wake-up */
                for (size_t j = 0; j < n; j++) {
                        jobs[j].threaded = !pthread_create(
                                &jobs[j].thread, NULL, create_main, &jobs[j]);
                        if (!jobs[j].threaded) {
                                create_main(&jobs[j]);
                        }
                }
                for (size_t j = 0; j < n; j++) {
                        if (jobs[j].threaded) {
                                pthread_join(jobs[j].thread, NULL);
                        }
                }
                for (size_t j = 0; j < n; j++) {
                        if (jobs[j].err) {
                                snprintf(errstr, errstr_size,
                                         "embedded kafka: cannot create topic "
                                         "%s: %s",
                                         jobs[j].name,
                                         rd_kafka_err2str(jobs[j].err));
                                return -1;
                        }
                        if (remember(km, jobs[j].name, jobs[j].partitions)) {
                                snprintf(errstr, errstr_size, "out of memory");
                                return -1;
                        }
                }
        }
        return 0;
}

/* Creates @p topic with @p partitions partitions; an existing one is kept. */
static int red_kafka_mock_topic(red_kafka_mock_t *km, const char *topic,
                                int partitions, char *errstr,
                                size_t errstr_size)
{
        red_kafka_mock_topic_t t = {topic, partitions};

        return red_kafka_mock_topics(km, &t, 1, errstr, errstr_size);
}

/* --- readiness ---------------------------------------------------- */

/* What a client sees of the topics created here: NULL when every one is
 * there with all its partitions led, else the first that is not. */
static const char *missing_topic(const red_kafka_mock_t *km,
                                 const rd_kafka_metadata_t *md)
{
        for (size_t i = 0; i < km->topic_cnt; i++) {
                const rd_kafka_metadata_topic_t *mt = NULL;

                for (int k = 0; k < md->topic_cnt && !mt; k++) {
                        if (!strcmp(md->topics[k].topic, km->topics[i].name)) {
                                mt = &md->topics[k];
                        }
                }
                if (!mt || mt->err ||
                    mt->partition_cnt != km->topics[i].partitions) {
                        return km->topics[i].name;
                }
                for (int p = 0; p < mt->partition_cnt; p++) {
                        if (mt->partitions[p].err ||
                            mt->partitions[p].leader < 0) {
                                return km->topics[i].name;
                        }
                }
        }
        return NULL;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m,
                        void *opaque)
{
        (void)rk;
        (void)opaque;
        *(rd_kafka_resp_err_t *)m->_private = m->err;
}

static int remaining_ms(int64_t deadline)
{
        int64_t left = (deadline - red_time_mono_us()) / 1000;

        return left > 0 ? (int)left : 0;
}

int red_kafka_mock_wait_ready(red_kafka_mock_t *km, int timeout_ms,
                              char *errstr, size_t errstr_size)
{
        int64_t deadline = red_time_mono_us() + (int64_t)timeout_ms * 1000;
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_resp_err_t delivered = RD_KAFKA_RESP_ERR__IN_PROGRESS;
        const char *missing = NULL;
        bool answered = false;
        char tmo[32], err[512];
        rd_kafka_t *rk;
        int r = -1;

        snprintf(tmo, sizeof(tmo), "%d", timeout_ms > 1 ? timeout_ms : 1);
        if (red_kafka_mock_topic(km, RED_KAFKA_MOCK_READY_TOPIC, 1, errstr,
                                 errstr_size)) {
                rd_kafka_conf_destroy(conf);
                return -1;
        }
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
        if (rd_kafka_conf_set(conf, "bootstrap.servers",
                              red_kafka_mock_bootstraps(km), err,
                              sizeof(err)) ||
            rd_kafka_conf_set(conf, "acks", "all", err, sizeof(err)) ||
            rd_kafka_conf_set(conf, "message.timeout.ms", tmo, err,
                              sizeof(err)) ||
            !(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err)))) {
                rd_kafka_conf_destroy(conf);
                snprintf(errstr, errstr_size, "embedded kafka: %s", err);
                return -1;
        }
        /* every topic visible, its partitions led */
        do {
                const rd_kafka_metadata_t *md;
                struct timespec ts = {0, 50 * 1000000};

                if (!rd_kafka_metadata(rk, 1, NULL, &md,
                                       remaining_ms(deadline) + 1)) {
                        answered = true;
                        missing = missing_topic(km, md);
                        rd_kafka_metadata_destroy(md);
                        if (!missing) {
                                break;
                        }
                }
                nanosleep(&ts, NULL);
        } while (remaining_ms(deadline) > 0);
        /* and a produce request acknowledged */
        if (answered && !missing &&
            !rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(RED_KAFKA_MOCK_READY_TOPIC),
                               RD_KAFKA_V_VALUE((void *)"ready", 5),
                               RD_KAFKA_V_OPAQUE(&delivered), RD_KAFKA_V_END)) {
                rd_kafka_flush(rk, remaining_ms(deadline));
        }
        if (!answered) {
                snprintf(errstr, errstr_size,
                         "embedded kafka: no metadata from %s after %d ms",
                         red_kafka_mock_bootstraps(km), timeout_ms);
        } else if (missing) {
                snprintf(errstr, errstr_size,
                         "embedded kafka: topic %s not served after %d ms",
                         missing, timeout_ms);
        } else if (delivered) {
                snprintf(errstr, errstr_size,
                         "embedded kafka: a test message was not "
                         "acknowledged after %d ms: %s",
                         timeout_ms, rd_kafka_err2str(delivered));
        } else {
                r = 0;
        }
        rd_kafka_destroy(rk);
        return r;
}

const char *red_kafka_mock_bootstraps(const red_kafka_mock_t *km)
{
        return rd_kafka_mock_cluster_bootstraps(km->mcluster);
}

void red_kafka_mock_destroy(red_kafka_mock_t *km)
{
        if (!km) {
                return;
        }
        if (km->mcluster) {
                rd_kafka_mock_cluster_destroy(km->mcluster);
        }
        if (km->rk) {
                rd_kafka_destroy(km->rk);
        }
        for (size_t i = 0; i < km->topic_cnt; i++) {
                free((char *)km->topics[i].name);
        }
        free(km->topics);
        free(km);
}
