/*
 * red_alert_window - rules over an aggregation's windows (alerts.
 * window_rules), pure: which cells a rule judges, the judgement of one
 * cell, and the state machine of an alert instance.
 *
 * An instance is (rule, scope), the scope being the cell's window type,
 * grouping and key values: "success rate of node type effect, hourly". It
 * follows the newest window of its scope: a change to an older window (a
 * late event) is not judged, a newer window's judgement replaces the
 * older one. Its states:
 *
 *   inactive --holds--> pending --holds for `for`--> firing
 *   firing --does not hold--> inactive (a resolution)
 *   pending --does not hold--> inactive
 *
 * Time is event time, as everywhere in reducerd: a judgement on a change
 * counts at the newest event time of the batch's delta for the cell, a
 * judgement at finality at the window's end. A rule fires again for a
 * scope only `cooldown` after its last resolution (flapping is damped),
 * and only cells with at least min_events events are judged. The caller
 * keeps instances (the daemon: Postgres rows locked in the batch
 * transaction) and calls red_alert_window_step() in window order.
 */
#ifndef RED_ALERT_WINDOW_H
#define RED_ALERT_WINDOW_H

#include "red_attr.h"
#include "red_buf.h"
#include "red_cell.h"
#include "red_contract.h"
#include "red_uuid.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum {
        RED_WA_INACTIVE = 0,
        RED_WA_PENDING,
        RED_WA_FIRING,
} red_alert_window_state_t;

/** "inactive", "pending", "firing"; and back (-1: unknown). */
const char *red_alert_window_state_name(red_alert_window_state_t s);
int red_alert_window_state_parse(const char *s);

/** An alert instance's state. */
typedef struct red_alert_window_s {
        red_alert_window_state_t state;
        red_time_t window_start; /**< newest window judged, INT64_MIN none */
        red_time_t since;        /**< pending or firing since */
        red_time_t resolved;     /**< last resolution (cooldown), or
                                      INT64_MIN */
} red_alert_window_t;

/** A fresh instance (inactive, nothing judged). */
void red_alert_window_init(red_alert_window_t *st);

/** The judgement of one cell by one rule. */
typedef struct red_alert_window_eval_s {
        int rule; /**< index in alerts->window_rules */
        red_window_type_t wt;
        red_time_t window_start, window_end;
        red_time_t time; /**< event time of the judgement */
        bool holds;      /**< value op threshold */
        bool final;
        double value;
        int grouping;    /**< index in the aggregation's groupings */
        char scope[512]; /**< JSON array: window, grouping, key values */
        char group[256]; /**< the key values joined by "/" */
        char keys[512];  /**< the key values, each NUL-terminated ... */
        unsigned short key_off[8]; /**< ... starting here (8 at most) */
} red_alert_window_eval_t;

/** Key value @p k of a judgement ("" past the eighth or when cut). */
const char *red_alert_window_key(const red_alert_window_eval_t *e, size_t k);

/**
 * Judges @p cell by window rule @p rule of @p c: false when the rule does
 * not look at this cell (another aggregation, grouping, window or key, a
 * change to a final-only rule), it has fewer than min_events events, or
 * the value is null. @p final: the cell just became final.
 */
bool red_alert_window_judge(const red_contract_t *c, int rule,
                            const red_cell_t *cell, bool final,
                            red_alert_window_eval_t *out);

typedef enum {
        RED_WA_NONE = 0,
        RED_WA_FIRED,
        RED_WA_RESOLVED,
} red_alert_window_event_t;

/** Moves instance @p st by judgement @p e (see the file comment). */
red_alert_window_event_t
red_alert_window_step(const red_window_rule_t *r, red_alert_window_t *st,
                      const red_alert_window_eval_t *e);

/** uuid5 of contract, rule, scope and the time it fired: stable across
 * replays; a resolution carries the id of the firing it ends. */
void red_alert_window_id(const red_contract_t *c,
                         const red_alert_window_eval_t *e, red_time_t fired,
                         red_uuid_t *out);

/** The rule's message for @p e (red_window_rule_t.message). */
void red_alert_window_message(const red_contract_t *c,
                              const red_alert_window_eval_t *e, red_buf_t *out);

/**
 * Alertmanager labels of the instance (a JSON object): alertname (the
 * rule id), severity, contract, aggregation, grouping, window, group and
 * each key column, source "reducerd".
 */
void red_alert_window_labels(const red_contract_t *c,
                             const red_alert_window_eval_t *e, red_buf_t *out);

/**
 * The alert as a JSON object for the contract's topic and the webhooks:
 * alert_id, rule_id, status ("firing" or "resolved"), severity,
 * metric_name (the value as written), threshold, actual_value, message,
 * tags (the labels), window, window_start, window_end, group,
 * triggered_at (or resolved_at).
 */
void red_alert_window_json(const red_contract_t *c,
                           const red_alert_window_eval_t *e,
                           const red_uuid_t *id, bool resolved, red_buf_t *out);

#endif
