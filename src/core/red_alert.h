/*
 * red_alert - threshold rules of a contract's `alerts` (pure).
 *
 * The core finds the matches (threshold crossed) of every applied event in
 * event-time order. Whether a match fires depends on the rule's cooldown:
 * red_alert_cooldown() walks the matches against a state of "last fired"
 * times per (rule, scope). `reduce` keeps that state in memory; the daemon
 * reads it from Postgres under a row lock inside the batch transaction, so
 * a rule fires at most once per cooldown across all replicas.
 */
#ifndef RED_ALERT_H
#define RED_ALERT_H

#include "red_attr.h"
#include "red_buf.h"
#include "red_contract.h"
#include "red_event.h"
#include "red_uuid.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct red_alert_match_s {
        int rule;        /**< index in alerts->rules */
        red_time_t time; /**< the event's time */
        double value;
        const red_event_t *ev; /**< borrowed; valid until the batch commits */
        char scope[256];       /**< the scope field's text, or "" */
        bool fires;            /**< set by red_alert_cooldown() */
} red_alert_match_t;

typedef struct red_alert_matches_s {
        red_alert_match_t *items;
        size_t cnt, cap;
} red_alert_matches_t;

/** @p v compared with @p threshold by @p op. */
bool red_alert_crosses(red_alert_op_t op, double v, double threshold);

/** True when @p ev crosses a CRITICAL rule (cooldowns aside). */
bool red_alert_critical(const red_alerts_t *a, const red_event_t *ev);

/** Appends the rules @p ev crosses. 0 or -ENOMEM. */
int red_alert_evaluate(const red_alerts_t *a, const red_event_t *ev,
                       red_alert_matches_t *out) RED_MUSTCHECK;

typedef struct red_alert_state_s red_alert_state_t;

red_alert_state_t *red_alert_state_new(void);
void red_alert_state_destroy(red_alert_state_t *st);
/** Last fired time of (rule, scope), or INT64_MIN. */
red_time_t red_alert_state_get(const red_alert_state_t *st, const char *rule_id,
                               const char *scope);
int red_alert_state_set(red_alert_state_t *st, const char *rule_id,
                        const char *scope, red_time_t t) RED_MUSTCHECK;

/**
 * Decides which matches fire (in order): a rule fires when it never fired
 * for the scope or its cooldown has passed since, in event time. Updates
 * @p st. 0 or -ENOMEM.
 */
int red_alert_cooldown(const red_alerts_t *a, red_alert_match_t *m, size_t cnt,
                       red_alert_state_t *st) RED_MUSTCHECK;

/** Appends the text of placeholder @p name (e.g. "value") and returns
 * true, or returns false for a name it does not know. */
typedef bool red_alert_fill_fn(const void *ctx, const char *name,
                               red_buf_t *out);

/** Renders message template @p tpl: each {name} that @p fill knows is
 * replaced, anything else stays as written. */
void red_alert_template(const char *tpl, red_alert_fill_fn *fill,
                        const void *ctx, red_buf_t *out);

/** The placeholders every rule has: {value}, {threshold}, {operator},
 * {severity} (a red_alert_fill_fn's common part). */
bool red_alert_fill_rule(const char *name, double value, double threshold,
                         red_alert_op_t op, const char *severity,
                         red_buf_t *out);

/** The rule's message with {metric_name} {value} {threshold} {operator}
 * {severity} {agent_id} filled in. */
void red_alert_message(const red_contract_t *c, const red_alert_match_t *m,
                       red_buf_t *out);

/** uuid5 of contract, rule and the source message: stable across replays. */
void red_alert_id(const red_contract_t *c, const red_alert_match_t *m,
                  red_uuid_t *out);

/**
 * The alert as a JSON object: alert_id, rule_id, severity, metric_name,
 * threshold, actual_value, message, tags, correlation_id, the scope under
 * its field's name (when the rules have a scope), triggered_at.
 */
void red_alert_json(const red_contract_t *c, const red_alert_match_t *m,
                    red_buf_t *out);

#endif
