/*
 * red_syncprod - a producer that waits: one message at a time is sent and
 * the call returns once the broker acknowledged it (acks=all, idempotent:
 * red_kafka_conf_producer()), or with the reason it was not. The node
 * registry's HTTP and CLI writes use it, so that Kafka stays the log of
 * record: a registration is accepted exactly when it is in the topic.
 * Thread-safe: any number of threads may send at once.
 */
#ifndef RED_SYNCPROD_H
#define RED_SYNCPROD_H

#include "red_attr.h"
#include "red_config.h"

#include <stddef.h>

typedef struct red_syncprod_s red_syncprod_t;

/**
 * A producer for @p brokers with the kafka.* settings of @p conf
 * (borrowed: read here only). Returns NULL with a message.
 */
red_syncprod_t *red_syncprod_new(const red_config_t *conf, const char *brokers,
                                 const char *client_id, char *errstr,
                                 size_t errstr_size);
void red_syncprod_destroy(red_syncprod_t *p);

/**
 * Sends @p value (@p len bytes) keyed by @p key to @p topic with a header
 * event_type = @p event_type (may be NULL), and waits up to @p timeout_ms
 * for the broker's acknowledgement. Returns 0, or -1 with the reason.
 */
int red_syncprod_send(red_syncprod_t *p, const char *topic, const char *key,
                      const char *value, size_t len, const char *event_type,
                      int timeout_ms, char *errstr,
                      size_t errstr_size) RED_MUSTCHECK;

#endif
