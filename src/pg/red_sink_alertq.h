/*
 * red_sink_alertq - the batch's alerts for delivery: COPYed into
 * reducerd_alert_outbox in the batch transaction (migrations/0008), with
 * a NOTIFY that wakes the delivery worker of `reducerd run` once the
 * batch commits. Off (adds nothing) while no destination is configured.
 */
#ifndef RED_SINK_ALERTQ_H
#define RED_SINK_ALERTQ_H

#include "red_attr.h"
#include "red_sink_io.h"
#include "red_uuid.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct red_sink_alertq_s red_sink_alertq_t;

/** Empty and off, for contract @p contract (copied). NULL on OOM. */
red_sink_alertq_t *red_sink_alertq_new(const char *contract);
void red_sink_alertq_destroy(red_sink_alertq_t *q);

/** Whether alerts are queued for delivery at all. */
void red_sink_alertq_enable(red_sink_alertq_t *q, bool on);
bool red_sink_alertq_enabled(const red_sink_alertq_t *q);

/** Forgets the alerts of the last batch. */
void red_sink_alertq_reset(red_sink_alertq_t *q);

/** One queued alert (strings borrowed for the call; JSON objects as text). */
typedef struct red_sink_alertq_item_s {
        const red_uuid_t *alert_id;
        const char *rule_id;
        const char *severity;
        bool resolved;
        const char *labels;
        const char *annotations;
        const char *payload;
        red_time_t starts_at;
        red_time_t ends_at; /**< resolved: when; firing: INT64_MIN */
        int64_t hold_us;
        const char *generator; /**< query API path, or NULL */
} red_sink_alertq_item_t;

/** Queues @p it (nothing when off). An allocation failure is reported by
 * red_sink_alertq_write(). */
void red_sink_alertq_add(red_sink_alertq_t *q,
                         const red_sink_alertq_item_t *it);

/** COPYs what was added since the reset and NOTIFYs the worker. */
red_sink_result_t red_sink_alertq_write(red_sink_alertq_t *q, red_sink_io_t *io,
                                        char *errstr,
                                        size_t size) RED_MUSTCHECK;

#endif
