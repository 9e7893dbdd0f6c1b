/* red_kafka_conf - librdkafka configuration shared by reducerd's clients. */
#include "red_kafka_conf.h"

#include "red_log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* --- building a configuration ---------------------------------------- */

typedef struct prop_s {
        const char *key, *value;
} prop_t;

/* Every member of a consumer group. */
static bool red_kafka_conf_consumer_only(const char *prop);

static const prop_t consumer_defaults[] = {
        /* offsets live in Postgres, with the batch: librdkafka neither
         * commits nor stores them (we commit a copy for lag tools) */
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        /* a stored offset outside the broker's log is an error event for
         * the pipeline (kafka.offset_gap_policy), never a silent jump; a
         * partition with no offset in Postgres is assigned at its start */
        {"auto.offset.reset", "error"},
        {"enable.partition.eof", "false"},
        /* librdkafka 2.0.2 has no fetch.queue.backoff.ms: a deep pre-fetch
         * queue keeps the consumer from stalling */
        {"queued.min.messages", "500000"},
        {"queued.max.messages.kbytes", "262144"},
        {"fetch.wait.max.ms", "100"},
        {NULL, NULL}};

/* Dead letters and the outbox: no duplicates from retries, nothing lost
 * once acknowledged. */
static const prop_t producer_defaults[] = {{"enable.idempotence", "true"},
                                           {"acks", "all"},
                                           {"linger.ms", "5"},
                                           {NULL, NULL}};

/* librdkafka's own log lines, from any of its threads, through ours:
 * one format, one level threshold, JSON when configured. */
static void log_line(const rd_kafka_t *rk, int level, const char *fac,
                     const char *buf)
{
        /* syslog levels: 0-3 errors, 4 warnings, 5-6 notices, 7 debug */
        red_log_level_t l = level <= 3   ? RED_LOG_ERROR
                            : level == 4 ? RED_LOG_WARN
                            : level <= 6 ? RED_LOG_INFO
                                         : RED_LOG_DEBUG;

        red_log(l, "librdkafka", "%s: %s: %s", rd_kafka_name(rk), fac, buf);
}

void red_kafka_conf_route_logs(rd_kafka_conf_t *kc)
{
        rd_kafka_conf_set_log_cb(kc, log_line);
}

/* A refused value is an error (STYLE.md 10), never skipped. */
static int set(rd_kafka_conf_t *kc, const char *key, const char *value,
               char *errstr, size_t size)
{
        char err[512];

        if (rd_kafka_conf_set(kc, key, value, err, sizeof(err)) !=
            RD_KAFKA_CONF_OK) {
                snprintf(errstr, size, "kafka property %s: %s", key, err);
                return -EINVAL;
        }
        return 0;
}

/*
 * Our defaults first: the ones every client takes, a consumer's group
 * (@p group; NULL for a producer) and its defaults or a producer's. Then
 * the user's kafka.properties, last so they may override ours (the config
 * loader refuses the ones that would break exactly-once); consumer-only
 * ones are skipped for producers, where librdkafka would only warn.
 */
static rd_kafka_conf_t *build(const red_config_t *conf, const char *brokers,
                              const char *client_id, const char *group,
                              char *errstr, size_t size)
{
        rd_kafka_conf_t *kc = rd_kafka_conf_new();
        const prop_t *d = group ? consumer_defaults : producer_defaults;

        red_kafka_conf_route_logs(kc);
        if (set(kc, "bootstrap.servers", brokers, errstr, size) ||
            set(kc, "client.id", client_id, errstr, size) ||
            set(kc, "log_level", "4", errstr, size) ||
            (group && set(kc, "group.id", group, errstr, size))) {
                goto err;
        }
        for (; d->key; d++) {
                if (set(kc, d->key, d->value, errstr, size)) {
                        goto err;
                }
        }
        for (size_t i = 0; i < conf->kafka_property_cnt; i++) {
                const red_kv_t *kv = &conf->kafka_properties[i];

                if (!group && red_kafka_conf_consumer_only(kv->key)) {
                        continue;
                }
                if (set(kc, kv->key, kv->value, errstr, size)) {
                        goto err;
                }
        }
        return kc;
err:
        rd_kafka_conf_destroy(kc);
        return NULL;
}

rd_kafka_conf_t *red_kafka_conf_consumer(const red_config_t *conf,
                                         const char *brokers,
                                         const char *client_id,
                                         const char *group, char *errstr,
                                         size_t errstr_size)
{
        return build(conf, brokers, client_id, group, errstr, errstr_size);
}

rd_kafka_conf_t *red_kafka_conf_producer(const red_config_t *conf,
                                         const char *brokers,
                                         const char *client_id, char *errstr,
                                         size_t errstr_size)
{
        return build(conf, brokers, client_id, NULL, errstr, errstr_size);
}

/* --- checking kafka.properties ---------------------------------------- */

int red_kafka_conf_check(const red_config_t *conf, char *errstr,
                         size_t errstr_size)
{
        rd_kafka_conf_t *kc = rd_kafka_conf_new();
        char kerr[512];
        int r = 0;

        for (size_t i = 0; i < conf->kafka_property_cnt; i++) {
                const red_kv_t *kv = &conf->kafka_properties[i];

                if (rd_kafka_conf_set(kc, kv->key, kv->value, kerr,
                                      sizeof(kerr)) != RD_KAFKA_CONF_OK) {
                        snprintf(errstr, errstr_size,
                                 "%s: kafka.properties.%s: %s", kv->origin,
                                 kv->key, kerr);
                        r = -EINVAL;
                        break;
                }
        }
        rd_kafka_conf_destroy(kc);
        return r;
}

/* True for librdkafka properties that only consumers take (producers
 * built from the same kafka.properties skip them). */
static bool red_kafka_conf_consumer_only(const char *prop)
{
        static const char *const prefixes[] = {"partition.assignment.strategy",
                                               "session.timeout.ms",
                                               "heartbeat.interval.ms",
                                               "group.",
                                               "fetch.",
                                               "queued.",
                                               "max.poll.interval.ms",
                                               "auto.offset.reset",
                                               "enable.auto.",
                                               "auto.commit.",
                                               "isolation.level",
                                               "check.crcs",
                                               "enable.partition.eof",
                                               "coordinator.query.interval.ms",
                                               "allow.auto.create.topics",
                                               "consume.callback.max.messages",
                                               NULL};

        for (const char *const *p = prefixes; *p; p++) {
                if (!strncmp(prop, *p, strlen(*p))) {
                        return true;
                }
        }
        return false;
}
