/* red_kafka_conf - librdkafka configuration shared by reducerd's clients. */
#include "red_kafka_conf.h"

#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <string.h>

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

bool red_kafka_conf_consumer_only(const char *prop)
{
        static const char *const prefixes[] = {
                "partition.assignment.strategy", "session.timeout.ms",
                "heartbeat.interval.ms", "group.", "fetch.", "queued.",
                "max.poll.interval.ms", "auto.offset.reset", "enable.auto.",
                "auto.commit.", "isolation.level", "check.crcs",
                "enable.partition.eof", "coordinator.query.interval.ms",
                "allow.auto.create.topics", "consume.callback.max.messages",
                NULL};

        for (const char *const *p = prefixes; *p; p++) {
                if (!strncmp(prop, *p, strlen(*p))) {
                        return true;
                }
        }
        return false;
}
