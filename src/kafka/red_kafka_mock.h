/*
 * red_kafka_mock - the embedded Kafka: librdkafka's mock cluster started
 * in this process, listening on 127.0.0.1 on random ports. It speaks the
 * real protocol, so kcat and clients in any language can use it. For
 * development and tests only (it keeps ~5 MiB per partition).
 */
#ifndef RED_KAFKA_MOCK_H
#define RED_KAFKA_MOCK_H

#include "red_attr.h"
#include <stddef.h>

typedef struct red_kafka_mock_s red_kafka_mock_t;

/**
 * Starts a mock cluster of @p brokers brokers. Returns NULL and fills
 * @p errstr on failure. Caller destroys with red_kafka_mock_destroy().
 */
red_kafka_mock_t *red_kafka_mock_new(int brokers, char *errstr,
                                     size_t errstr_size);

/** Creates @p topic with @p partitions partitions; an existing one is kept. */
int red_kafka_mock_topic(red_kafka_mock_t *km, const char *topic,
                         int partitions, char *errstr,
                         size_t errstr_size) RED_MUSTCHECK;

/** The bootstrap list ("127.0.0.1:port,...", borrowed). */
const char *red_kafka_mock_bootstraps(const red_kafka_mock_t *km);

/** Stops the cluster; accepts NULL. */
void red_kafka_mock_destroy(red_kafka_mock_t *km);

#endif
