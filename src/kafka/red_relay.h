/*
 * red_relay - publishes the outbox: rows committed by the batches
 * (cell snapshots, final snapshots, state changes) go to Kafka with an
 * idempotent producer (acks=all) and are deleted once acknowledged. One
 * replica relays at a time (a transaction advisory lock), in id order, so
 * the snapshots of one cell are published in revision order; after a
 * crash the rows are simply still there (at least once).
 */
#ifndef RED_RELAY_H
#define RED_RELAY_H

#include "red_attr.h"
#include "red_config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct red_relay_s red_relay_t;

typedef struct red_relay_stats_s {
        uint64_t published;
        uint64_t publish_errors;
        int64_t depth; /**< outbox rows at the last look, -1 unknown */
        bool active;   /**< holds the relay lock */
} red_relay_stats_t;

red_relay_t *red_relay_new(const red_config_t *conf, const char *brokers,
                           char *errstr, size_t errstr_size);
int red_relay_start(red_relay_t *r, char *errstr,
                    size_t errstr_size) RED_MUSTCHECK;
/** Stops after a last pass over the outbox. */
void red_relay_stop(red_relay_t *r);
void red_relay_join(red_relay_t *r);
void red_relay_destroy(red_relay_t *r);
void red_relay_stats(red_relay_t *r, red_relay_stats_t *out);

#endif
