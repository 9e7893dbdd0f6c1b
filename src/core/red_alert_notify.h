/*
 * red_alert_notify - what alert destinations receive, pure: Alertmanager's
 * v2 API (POST /api/v2/alerts, a JSON array of postable alerts) and the
 * body of a generic webhook, rendered from a row of the alert outbox;
 * and the labels, annotations and query links of per-event alerts.
 *
 * A firing alert is sent with endsAt = max(now, startsAt) + its hold time
 * (Alertmanager resolves it by itself after that unless it is sent again:
 * per-event alerts hold for their rule's cooldown, firing window alerts
 * are re-sent while they fire); a resolved one with its end time.
 */
#ifndef RED_ALERT_NOTIFY_H
#define RED_ALERT_NOTIFY_H

#include "red_alert.h"
#include "red_alert_window.h"
#include "red_buf.h"
#include "red_contract.h"
#include "red_time.h"

#include <stddef.h>
#include <stdint.h>

/** One queued alert, as the delivery worker reads it (all borrowed). */
typedef struct red_alert_note_s {
        const char *alert_id;
        const char *status; /**< "firing" or "resolved" */
        const char *contract;
        const char *rule_id;
        const char *severity;
        const char *labels;      /**< JSON object of strings */
        const char *annotations; /**< JSON object of strings */
        const char *payload;     /**< JSON object: the alert */
        red_time_t starts_at;
        red_time_t ends_at;    /**< resolved: when; firing: INT64_MIN */
        int64_t hold_us;       /**< firing: how long it stays active */
        const char *generator; /**< query API path, or NULL */
} red_alert_note_t;

/**
 * The postable alerts of @p n[0..cnt) as a JSON array, at time @p now;
 * generatorURL is @p base + the note's path when both are there.
 */
void red_alert_notify_am(const red_alert_note_t *n, size_t cnt, red_time_t now,
                         const char *base, red_buf_t *out);

/**
 * A webhook body: {"version": "1", alert_id, status, contract, rule_id,
 * severity, starts_at, ends_at (null while firing), labels, annotations,
 * generator_url (or null), alert: the payload}.
 */
void red_alert_notify_webhook(const red_alert_note_t *n, const char *base,
                              red_buf_t *out);

/** Labels of a per-event alert: alertname (the rule id), severity,
 * contract, metric_name, the scope field (e.g. agent_id) when set,
 * source "reducerd". */
void red_alert_notify_labels(const red_contract_t *c,
                             const red_alert_match_t *m, red_buf_t *out);

/** Annotations of a per-event alert: summary (the message), value,
 * threshold, alert_id. */
void red_alert_notify_annotations(const red_contract_t *c,
                                  const red_alert_match_t *m,
                                  const red_uuid_t *id, red_buf_t *out);

/** Annotations of a window alert: summary, value, threshold,
 * window_start, window_end, alert_id. */
void red_alert_notify_window_annotations(const red_contract_t *c,
                                         const red_alert_window_eval_t *e,
                                         const red_uuid_t *id, red_buf_t *out);

/** The read API path that shows what a per-event alert is about (the
 * rule's alerts around it). */
void red_alert_notify_generator(const red_contract_t *c,
                                const red_alert_match_t *m, red_buf_t *out);

/** The read API path of a window alert's series (its window). */
void red_alert_notify_window_generator(const red_contract_t *c,
                                       const red_alert_window_eval_t *e,
                                       red_buf_t *out);

#endif
