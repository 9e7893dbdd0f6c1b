/* red_kafka_mock - librdkafka's in-process mock cluster as the embedded Kafka.
 */
#include "red_kafka_mock.h"

#include "red_kafka_conf.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct red_kafka_mock_s {
        rd_kafka_t *rk; /* owner handle the mock cluster needs */
        rd_kafka_mock_cluster_t *mcluster;
        char **topics;
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

int red_kafka_mock_topic(red_kafka_mock_t *km, const char *topic,
                         int partitions, char *errstr, size_t errstr_size)
{
        rd_kafka_resp_err_t err;
        char **nt;

        for (size_t i = 0; i < km->topic_cnt; i++) {
                if (!strcmp(km->topics[i], topic)) {
                        return 0;
                }
        }
        err = rd_kafka_mock_topic_create(km->mcluster, topic, partitions, 1);
        if (err) {
                snprintf(errstr, errstr_size,
                         "embedded kafka: cannot create topic %s: %s", topic,
                         rd_kafka_err2str(err));
                return -1;
        }
        nt = realloc(km->topics, (km->topic_cnt + 1) * sizeof(*nt));
        if (!nt || !(nt[km->topic_cnt] = strdup(topic))) {
                if (nt) {
                        km->topics = nt;
                }
                snprintf(errstr, errstr_size, "out of memory");
                return -1;
        }
        km->topics = nt;
        km->topic_cnt++;
        return 0;
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
                free(km->topics[i]);
        }
        free(km->topics);
        free(km);
}
