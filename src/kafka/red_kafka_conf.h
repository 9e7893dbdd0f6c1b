/*
 * red_kafka_conf - librdkafka client configuration shared by every Kafka
 * client reducerd creates (pipeline consumers, the dead-letter and outbox
 * producers): checks of the user's kafka.properties and which of them
 * apply to consumers only.
 */
#ifndef RED_KAFKA_CONF_H
#define RED_KAFKA_CONF_H

#include "red_attr.h"
#include "red_config.h"

#include <stdbool.h>
#include <stddef.h>

/**
 * Checks every kafka.properties entry of @p conf with librdkafka's own
 * rd_kafka_conf_set(). Returns 0, or -EINVAL with "origin: kafka.properties.
 * KEY: librdkafka's reason" in @p errstr.
 */
int red_kafka_conf_check(const red_config_t *conf, char *errstr,
                         size_t errstr_size) RED_MUSTCHECK;

/** True for librdkafka properties that only consumers take (producers
 * built from the same kafka.properties skip them). */
bool red_kafka_conf_consumer_only(const char *prop);

#endif
