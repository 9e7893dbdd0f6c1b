/*
 * red_deliver - the alert delivery worker of `reducerd run`: posts the
 * rows of reducerd_alert_outbox (queued by the batches, migrations/0008)
 * to Alertmanager's v2 API and to the generic webhooks with libcurl.
 *
 * At least once and in order: rows are taken in id order by one replica
 * at a time (a transaction advisory lock), a row remembers the
 * destinations that took it (done) and is deleted once all did; a
 * destination that fails (an error, a timeout, a status other than 2xx)
 * is backed off (doubling, up to alerting.retry_max_ms) and its rows wait
 * in the table, for it alone, through outages and restarts. A NOTIFY from
 * the committing batch wakes the worker, so a queued alert leaves within
 * milliseconds. Firing window alerts are re-sent to Alertmanager every
 * alerting.resend_interval_s from reducerd_alert_instances.
 *
 * Webhook requests carry X-Reducerd-Alert-Id, and with a secret
 * X-Reducerd-Timestamp (Unix seconds) and X-Reducerd-Signature:
 * "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body).
 */
#ifndef RED_DELIVER_H
#define RED_DELIVER_H

#include "red_attr.h"
#include "red_config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct red_deliver_s red_deliver_t;

/** Destination kinds, for the counters. */
enum { RED_DELIVER_ALERTMANAGER, RED_DELIVER_WEBHOOK, RED_DELIVER__KINDS };

typedef struct red_deliver_stats_s {
        uint64_t delivered[RED_DELIVER__KINDS]; /**< alerts taken */
        uint64_t failed[RED_DELIVER__KINDS];    /**< failed requests */
        uint64_t resent; /**< firing window alerts sent again */
        int64_t depth;   /**< rows waiting at the last look, -1 unknown */
        /* from queueing (the batch's commit) to the last destination,
         * seconds: upper bounds red_deliver_latency_bounds, last +Inf */
        uint64_t latency_buckets[12];
        double latency_sum;
} red_deliver_stats_t;

extern const double red_deliver_latency_bounds[11];

/**
 * For the alerting.* settings of @p conf (borrowed; reads the webhook
 * secret files now). NULL with a message when a secret file cannot be
 * read.
 */
red_deliver_t *red_deliver_new(const red_config_t *conf, char *errstr,
                               size_t errstr_size);
int red_deliver_start(red_deliver_t *d, char *errstr,
                      size_t errstr_size) RED_MUSTCHECK;
/** Stops after a last pass. */
void red_deliver_stop(red_deliver_t *d);
void red_deliver_join(red_deliver_t *d);
void red_deliver_destroy(red_deliver_t *d);
void red_deliver_stats(red_deliver_t *d, red_deliver_stats_t *out);

#endif
