/*
 * red_kafka_conf - librdkafka client configuration shared by every Kafka
 * client reducerd creates (pipeline consumers, the dead-letter and outbox
 * producers): the clients' configurations, checks of the user's
 * kafka.properties and which of them apply to consumers only.
 */
#ifndef RED_KAFKA_CONF_H
#define RED_KAFKA_CONF_H

#include "red_attr.h"
#include "red_config.h"

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>

/**
 * A consumer-group member's configuration: our defaults first (@p brokers,
 * @p client_id, group @p group, offsets neither committed nor stored by
 * librdkafka, an offset outside the log reported rather than reset
 * (auto.offset.reset=error), a deep pre-fetch queue, librdkafka's log
 * lines through red_log), then
 * every kafka.properties entry of @p conf (borrowed), which may override
 * them. Returns NULL with "kafka property KEY: reason" in @p errstr when
 * librdkafka refuses a value. The caller owns the result: rd_kafka_new()
 * takes it, else rd_kafka_conf_destroy().
 */
rd_kafka_conf_t *red_kafka_conf_consumer(const red_config_t *conf,
                                         const char *brokers,
                                         const char *client_id,
                                         const char *group, char *errstr,
                                         size_t errstr_size);

/**
 * The producers' configuration (dead letters, the outbox relay): our
 * defaults first (idempotent, acks=all, linger.ms 5), then the
 * kafka.properties entries that are not consumer-only. NULL and ownership
 * as red_kafka_conf_consumer().
 */
rd_kafka_conf_t *red_kafka_conf_producer(const red_config_t *conf,
                                         const char *brokers,
                                         const char *client_id, char *errstr,
                                         size_t errstr_size);

/**
 * Checks every kafka.properties entry of @p conf with librdkafka's own
 * rd_kafka_conf_set(). Returns 0, or -EINVAL with "origin: kafka.properties.
 * KEY: librdkafka's reason" in @p errstr.
 */
int red_kafka_conf_check(const red_config_t *conf, char *errstr,
                         size_t errstr_size) RED_MUSTCHECK;

/** Sends librdkafka's log lines of clients made from @p kc through
 * red_log (component "librdkafka"; its syslog levels mapped onto ours).
 * The configurations above do it already. */
void red_kafka_conf_route_logs(rd_kafka_conf_t *kc);

#endif
