/*
 * red_kafka_mock - the embedded Kafka: librdkafka's mock cluster started
 * in this process, listening on 127.0.0.1 on random ports. It speaks the
 * real protocol, so kcat and clients in any language can use it. For
 * development and tests only (it keeps ~5 MiB per partition).
 *
 * Announce its address only after red_kafka_mock_wait_ready(): then every
 * topic created here is visible to clients and a produce request has
 * been acknowledged.
 */
#ifndef RED_KAFKA_MOCK_H
#define RED_KAFKA_MOCK_H

#include "red_attr.h"
#include <stddef.h>

typedef struct red_kafka_mock_s red_kafka_mock_t;

/** A topic to create: its name (borrowed) and partition count. */
typedef struct red_kafka_mock_topic_s {
        const char *name;
        int partitions;
} red_kafka_mock_topic_t;

/** The private topic red_kafka_mock_wait_ready() produces to. */
#define RED_KAFKA_MOCK_READY_TOPIC "_reducerd.embedded.ready"

/**
 * Starts a mock cluster of @p brokers brokers. Returns NULL and fills
 * @p errstr on failure. Caller destroys with red_kafka_mock_destroy().
 */
red_kafka_mock_t *red_kafka_mock_new(int brokers, char *errstr,
                                     size_t errstr_size);

/**
 * Creates the @p cnt topics of @p topics that do not exist yet, all at
 * once (one by one, librdkafka 2.0's mock thread often notices a request
 * only at its next one-second tick). Returns 0, or -1 with a message.
 */
int red_kafka_mock_topics(red_kafka_mock_t *km,
                          const red_kafka_mock_topic_t *topics, size_t cnt,
                          char *errstr, size_t errstr_size) RED_MUSTCHECK;

/**
 * Waits up to @p timeout_ms until the cluster serves clients: a client
 * connected to the bootstrap address sees every topic created here with
 * its partitions and their leaders, and a message produced with acks=all
 * to RED_KAFKA_MOCK_READY_TOPIC is acknowledged. Returns 0, or -1 with
 * what was missing.
 */
int red_kafka_mock_wait_ready(red_kafka_mock_t *km, int timeout_ms,
                              char *errstr, size_t errstr_size) RED_MUSTCHECK;

/** The bootstrap list ("127.0.0.1:port,...", borrowed). */
const char *red_kafka_mock_bootstraps(const red_kafka_mock_t *km);

/** Stops the cluster; accepts NULL. */
void red_kafka_mock_destroy(red_kafka_mock_t *km);

#endif
