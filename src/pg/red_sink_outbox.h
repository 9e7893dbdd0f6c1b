/*
 * red_sink_outbox - a batch's outbound events: rendered in the output
 * envelope (DESIGN.md "Envelope and decoding") and COPYed into
 * reducerd_outbox in the batch transaction; the relay publishes them once
 * it commits.
 */
#ifndef RED_SINK_OUTBOX_H
#define RED_SINK_OUTBOX_H

#include "red_attr.h"
#include "red_sink_io.h"
#include "red_uuid.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct red_sink_outbox_s red_sink_outbox_t;

/** Empty; @p instance (copied) names this replica in the envelope. NULL on
 * OOM. */
red_sink_outbox_t *red_sink_outbox_new(const char *instance);
void red_sink_outbox_destroy(red_sink_outbox_t *o);

/** Forgets the events of the last batch. */
void red_sink_outbox_reset(red_sink_outbox_t *o);

/**
 * Adds an event of @p event_type with @p payload (JSON text) for @p topic,
 * keyed by @p key. @p correlation_id may be NULL. An allocation failure
 * is reported by red_sink_outbox_write().
 */
void red_sink_outbox_add(red_sink_outbox_t *o, const char *topic,
                         const char *key, const char *event_type,
                         const red_uuid_t *event_id, const char *correlation_id,
                         const char *payload);

/** COPYs the events added since the reset, and wakes the relay. */
red_sink_result_t red_sink_outbox_write(red_sink_outbox_t *o, red_sink_io_t *io,
                                        char *errstr,
                                        size_t size) RED_MUSTCHECK;

/** Wakes the relay for rows a statement queued itself. */
red_sink_result_t red_sink_outbox_notify(red_sink_io_t *io, char *errstr,
                                         size_t size) RED_MUSTCHECK;

#endif
