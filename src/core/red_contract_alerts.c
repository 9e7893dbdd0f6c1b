/* red_contract_alerts - a contract's alert rules: per event, over windows. */
#include "red_contract_load.h"

#include "red_expr.h"
#include "red_time.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- what both kinds of rule share ---------------------------------------- */

/* op: gt, lt, gte, lte. */
static int op_of(red_loader_t *ld, const red_yaml_node_t *v, const char *what,
                 red_alert_op_t *op)
{
        const char *s;
        int rc;

        if ((rc = red_yaml_to_str(v, what, &s, ld->errstr, ld->size))) {
                return rc;
        }
        for (int i = 0; i < 4; i++) {
                if (!strcmp(s, red_contract_alert_op_name((red_alert_op_t)i))) {
                        *op = (red_alert_op_t)i;
                        return 0;
                }
        }
        return red_yaml_error(ld->errstr, ld->size, v,
                              "%s: operator \"%s\" is not valid "
                              "(allowed: gt, lt, gte, lte)",
                              what, s);
}

/* severity: CRITICAL, WARNING or INFO. */
static int severity_of(red_loader_t *ld, const red_yaml_node_t *v,
                       const char *what, char **out)
{
        int rc;

        if ((rc = red_contract_load_str(ld, v, what, out))) {
                return rc;
        }
        if (strcmp(*out, "CRITICAL") && strcmp(*out, "WARNING") &&
            strcmp(*out, "INFO")) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "%s: severity \"%s\" is not valid "
                                      "(allowed: CRITICAL, WARNING, INFO)",
                                      what, *out);
        }
        return 0;
}

/* message: the template, or @p def. */
static int message_of(red_loader_t *ld, const red_yaml_node_t *n,
                      const char *what, const char *def, char **out)
{
        const red_yaml_node_t *v = red_yaml_get(n, "message");

        if (v) {
                return red_contract_load_str(ld, v, what, out);
        }
        return (*out = strdup(def)) ? 0 : -ENOMEM;
}

/* Rule ids are unique over both lists (they name alerts everywhere). */
static int id_unique(red_loader_t *ld, const red_alerts_t *a,
                     const red_yaml_node_t *at, const char *id, size_t rules,
                     size_t window_rules)
{
        for (size_t j = 0; j < rules; j++) {
                if (!strcmp(a->rules[j].id, id)) {
                        goto dup;
                }
        }
        for (size_t j = 0; j < window_rules; j++) {
                if (!strcmp(a->window_rules[j].id, id)) {
                        goto dup;
                }
        }
        return 0;
dup:
        return red_yaml_error(ld->errstr, ld->size, at,
                              "alert rule %s is defined twice", id);
}

/* --- per-event rules --------------------------------------------------------
 */

/* {id, metric, op, threshold, severity, message, cooldown}: a rule fires
 * when the value of an event whose match field equals metric compares
 * with the threshold. */
static int rule_of(red_loader_t *ld, const red_yaml_node_t *n,
                   int64_t default_cooldown, red_alert_rule_t *r)
{
        static const char *const keys[] = {"id",        "metric",   "op",
                                           "threshold", "severity", "message",
                                           "cooldown",  NULL};
        const red_yaml_node_t *v;
        char what[128] = "alert rule";
        int rc;

        if ((rc = red_yaml_check_keys(n, what, keys, ld->errstr, ld->size))) {
                return rc;
        }
        for (const char *const *k = keys; k < keys + 5; k++) {
                if (!red_contract_load_required(ld, n, "alert rule", *k, "",
                                                &rc)) {
                        return rc;
                }
        }
        if ((rc = red_contract_load_ident(ld, red_yaml_get(n, "id"), what, 100,
                                          &r->id))) {
                return rc;
        }
        snprintf(what, sizeof(what), "alert rule %s", r->id);
        if ((rc = red_contract_load_str(ld, red_yaml_get(n, "metric"), what,
                                        &r->metric)) ||
            (rc = red_yaml_to_double(red_yaml_get(n, "threshold"), what,
                                     &r->threshold, ld->errstr, ld->size)) ||
            (rc = op_of(ld, red_yaml_get(n, "op"), what, &r->op)) ||
            (rc = severity_of(ld, red_yaml_get(n, "severity"), what,
                              &r->severity)) ||
            (rc = message_of(ld, n, what,
                             "{metric_name} {operator} {threshold}: "
                             "actual={value}",
                             &r->message))) {
                return rc;
        }
        r->cooldown_us = default_cooldown;
        if ((v = red_yaml_get(n, "cooldown")) &&
            (rc = red_contract_load_duration(ld, v, what, &r->cooldown_us))) {
                return rc;
        }
        return 0;
}

/* on, match, value, scope, tags, correlation: which events are checked,
 * the field naming the metric, the field compared, and what an alert
 * copies from the event. */
static int alert_fields_of(red_loader_t *ld, const red_yaml_node_t *n,
                           red_alerts_t *a)
{
        const red_contract_t *c = ld->c;
        const red_yaml_node_t *v;
        int rc;

        for (const char *const *k =
                     (const char *const[]){"on", "match", "value", NULL};
             *k; k++) {
                if (!red_contract_load_required(ld, n, "alerts (with rules)",
                                                *k, "", &rc)) {
                        return rc;
                }
        }
        if ((rc = red_contract_load_kinds(ld, red_yaml_get(n, "on"), "alerts",
                                          &a->on)) ||
            (rc = red_contract_load_string_slot(ld, red_yaml_get(n, "match"),
                                                "alerts.match",
                                                &a->match_slot)) ||
            (rc = red_contract_load_slot(ld, red_yaml_get(n, "value"),
                                         "alerts.value", &a->value_slot))) {
                return rc;
        }
        if (c->slot_types[a->value_slot] != RED_FT_NUMBER &&
            c->slot_types[a->value_slot] != RED_FT_INTEGER) {
                return red_yaml_error(ld->errstr, ld->size,
                                      red_yaml_get(n, "value"),
                                      "alerts.value: field %s must be a "
                                      "number",
                                      c->slot_names[a->value_slot]);
        }
        if (((v = red_yaml_get(n, "scope")) &&
             (rc = red_contract_load_slot(ld, v, "alerts.scope",
                                          &a->scope_slot))) ||
            ((v = red_yaml_get(n, "tags")) &&
             (rc = red_contract_load_slot(ld, v, "alerts.tags",
                                          &a->tags_slot))) ||
            ((v = red_yaml_get(n, "correlation")) &&
             (rc = red_contract_load_string_slot(ld, v, "alerts.correlation",
                                                 &a->correlation_slot)))) {
                return rc;
        }
        if (a->tags_slot >= 0 && c->slot_types[a->tags_slot] != RED_FT_OBJECT) {
                return red_yaml_error(ld->errstr, ld->size,
                                      red_yaml_get(n, "tags"),
                                      "alerts.tags: field %s must be an "
                                      "object",
                                      c->slot_names[a->tags_slot]);
        }
        return 0;
}

/* rules: a list of rules with distinct ids; @p cooldown is the default. */
static int rules_of(red_loader_t *ld, const red_yaml_node_t *v,
                    int64_t cooldown, red_alerts_t *a)
{
        int rc;

        if (red_yaml_expect(v, RED_YAML_SEQ, "alerts.rules", ld->errstr,
                            ld->size)) {
                return -EINVAL;
        }
        a->rules = calloc(red_yaml_size(v) + 1, sizeof(*a->rules));
        if (!a->rules) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(v); i++) {
                a->rule_cnt++;
                if ((rc = rule_of(ld, red_yaml_item(v, i), cooldown,
                                  &a->rules[i])) ||
                    (rc = id_unique(ld, a, red_yaml_item(v, i), a->rules[i].id,
                                    i, 0))) {
                        return rc;
                }
        }
        return 0;
}

/* --- rules over windows -----------------------------------------------------
 */

/* aggregation, grouping, windows: which cells a window rule judges. */
static int cells_of(red_loader_t *ld, const red_yaml_node_t *n,
                    const char *what, red_window_rule_t *r)
{
        const red_contract_t *c = ld->c;
        const red_yaml_node_t *v = red_yaml_get(n, "aggregation");
        const red_agg_t *a = NULL;
        const char *s;
        int rc;

        if ((rc = red_yaml_to_str(v, what, &s, ld->errstr, ld->size))) {
                return rc;
        }
        for (size_t i = 0; i < c->agg_cnt; i++) {
                if (!strcmp(c->aggs[i].name, s)) {
                        a = &c->aggs[i];
                        r->agg = (int)i;
                }
        }
        if (!a) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "%s: unknown aggregation \"%s\"", what,
                                      s);
        }
        r->grouping = -1;
        if ((v = red_yaml_get(n, "grouping"))) {
                if ((rc = red_yaml_to_str(v, what, &s, ld->errstr, ld->size))) {
                        return rc;
                }
                for (size_t g = 0; g < a->grouping_cnt; g++) {
                        if (!strcmp(a->groupings[g].name, s)) {
                                r->grouping = (int)g;
                        }
                }
                if (r->grouping < 0) {
                        return red_yaml_error(ld->errstr, ld->size, v,
                                              "%s: aggregation %s has no "
                                              "grouping \"%s\"",
                                              what, a->name, s);
                }
        }
        r->windows = a->windows;
        if ((v = red_yaml_get(n, "windows"))) {
                r->windows = 0;
                if ((rc = red_contract_load_windows(ld, v, what,
                                                    &r->windows))) {
                        return rc;
                }
                if (r->windows & ~a->windows) {
                        return red_yaml_error(ld->errstr, ld->size, v,
                                              "%s: aggregation %s does not "
                                              "keep every window named",
                                              what, a->name);
                }
        }
        return 0;
}

/* where: {key column: value}: only the cells of these keys. */
static int where_of(red_loader_t *ld, const red_yaml_node_t *v,
                    const char *what, red_window_rule_t *r)
{
        const red_agg_t *a = &ld->c->aggs[r->agg];
        size_t cnt = red_yaml_size(v);
        int rc;

        if (red_yaml_expect(v, RED_YAML_MAP, what, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        r->where_keys = calloc(cnt + 1, sizeof(int));
        r->where_values = calloc(cnt + 1, sizeof(char *));
        if (!r->where_keys || !r->where_values) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < cnt; i++) {
                const char *col = red_yaml_str(red_yaml_key(v, i));
                int k = red_contract_load_index(a->key_columns, a->key_cnt,
                                                col);

                if (k < 0) {
                        char allowed[256];
                        return red_yaml_error(
                                ld->errstr, ld->size, red_yaml_key(v, i),
                                "%s: where: \"%s\" is not a key column of "
                                "aggregation %s (allowed: %s)",
                                what, col, a->name,
                                red_contract_load_join(a->key_columns,
                                                       a->key_cnt, allowed,
                                                       sizeof(allowed)));
                }
                r->where_keys[i] = k;
                r->where_cnt++;
                if ((rc = red_contract_load_str(ld, red_yaml_value(v, i), what,
                                                &r->where_values[i]))) {
                        return rc;
                }
        }
        return 0;
}

/* for, cooldown, min_events, evaluate. */
static int timing_of(red_loader_t *ld, const red_yaml_node_t *n,
                     const char *what, int64_t default_cooldown,
                     red_window_rule_t *r)
{
        const red_yaml_node_t *v;
        const char *s;
        double d;
        int rc;

        r->cooldown_us = default_cooldown;
        if (((v = red_yaml_get(n, "for")) &&
             (rc = red_contract_load_duration(ld, v, what, &r->for_us))) ||
            ((v = red_yaml_get(n, "cooldown")) &&
             (rc = red_contract_load_duration(ld, v, what, &r->cooldown_us)))) {
                return rc;
        }
        if ((v = red_yaml_get(n, "min_events"))) {
                if ((rc = red_yaml_to_double(v, what, &d, ld->errstr,
                                             ld->size))) {
                        return rc;
                }
                if (d < 0 || d != (double)(uint64_t)d) {
                        return red_yaml_error(ld->errstr, ld->size, v,
                                              "%s: min_events must be a "
                                              "count (0, 1, 2, ...)",
                                              what);
                }
                r->min_events = (uint64_t)d;
        }
        if ((v = red_yaml_get(n, "evaluate"))) {
                if ((rc = red_yaml_to_str(v, what, &s, ld->errstr, ld->size))) {
                        return rc;
                }
                if (strcmp(s, "change") && strcmp(s, "final")) {
                        return red_yaml_error(ld->errstr, ld->size, v,
                                              "%s: evaluate \"%s\" is not "
                                              "valid (allowed: change, "
                                              "final)",
                                              what, s);
                }
                r->final_only = !strcmp(s, "final");
        }
        return 0;
}

/*
 * {id, aggregation, grouping, windows, where, value, op, threshold,
 * severity, message, for, cooldown, min_events, evaluate}: a rule judged
 * on the cells of an aggregation.
 */
static int window_rule_of(red_loader_t *ld, const red_yaml_node_t *n,
                          int64_t default_cooldown, red_window_rule_t *r)
{
        static const char *const keys[] = {
                "id",         "aggregation", "value",    "op",
                "threshold",  "severity",    "grouping", "windows",
                "where",      "message",     "for",      "cooldown",
                "min_events", "evaluate",    "metric",   NULL};
        const red_yaml_node_t *v;
        char what[160] = "alert window rule";
        int rc;

        if ((rc = red_yaml_check_keys(n, what, keys, ld->errstr, ld->size))) {
                return rc;
        }
        for (const char *const *k = keys; k < keys + 6; k++) {
                if (!red_contract_load_required(ld, n, what, *k, "", &rc)) {
                        return rc;
                }
        }
        r->column = -1;
        if ((rc = red_contract_load_ident(ld, red_yaml_get(n, "id"), what, 100,
                                          &r->id))) {
                return rc;
        }
        snprintf(what, sizeof(what), "alert window rule %s", r->id);
        if ((rc = cells_of(ld, n, what, r)) ||
            ((v = red_yaml_get(n, "where")) &&
             (rc = where_of(ld, v, what, r))) ||
            (rc = red_contract_load_str(ld, red_yaml_get(n, "value"), what,
                                        &r->value_text)) ||
            (rc = red_contract_load_str(ld,
                                        red_yaml_get(n, "metric")
                                                ? red_yaml_get(n, "metric")
                                                : red_yaml_get(n, "value"),
                                        what, &r->metric)) ||
            (rc = red_contract_load_agg_value(ld, &ld->c->aggs[r->agg],
                                              red_yaml_get(n, "value"), what,
                                              &r->column, &r->expr)) ||
            (rc = red_yaml_to_double(red_yaml_get(n, "threshold"), what,
                                     &r->threshold, ld->errstr, ld->size)) ||
            (rc = op_of(ld, red_yaml_get(n, "op"), what, &r->op)) ||
            (rc = severity_of(ld, red_yaml_get(n, "severity"), what,
                              &r->severity)) ||
            (rc = message_of(ld, n, what,
                             "{rule}: {value} {operator} {threshold} "
                             "({grouping} {group}, {window} window from "
                             "{window_start})",
                             &r->message))) {
                return rc;
        }
        return timing_of(ld, n, what, default_cooldown, r);
}

/* window_rules: a list; ids distinct from each other and the rules'. */
static int window_rules_of(red_loader_t *ld, const red_yaml_node_t *v,
                           int64_t cooldown, red_alerts_t *a)
{
        int rc;

        if (red_yaml_expect(v, RED_YAML_SEQ, "alerts.window_rules", ld->errstr,
                            ld->size)) {
                return -EINVAL;
        }
        a->window_rules =
                calloc(red_yaml_size(v) + 1, sizeof(*a->window_rules));
        if (!a->window_rules) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(v); i++) {
                red_window_rule_t *r = &a->window_rules[i];

                a->window_rule_cnt++;
                if ((rc = window_rule_of(ld, red_yaml_item(v, i), cooldown,
                                         r)) ||
                    (rc = id_unique(ld, a, red_yaml_item(v, i), r->id,
                                    a->rule_cnt, i))) {
                        return rc;
                }
        }
        return 0;
}

/* --- the section
 * -------------------------------------------------------------- */

int red_contract_load_alerts(red_loader_t *ld, const red_yaml_node_t *n)
{
        static const char *const keys[] = {
                "on",       "match",       "value",        "scope",
                "tags",     "correlation", "table",        "publish",
                "cooldown", "rules",       "window_rules", NULL};
        red_alerts_t *a;
        const red_yaml_node_t *v, *rules, *wrules;
        int64_t cooldown = 5 * RED_TIME_US_PER_MIN;
        int rc;

        if ((rc = red_yaml_check_keys(n, "alerts", keys, ld->errstr,
                                      ld->size))) {
                return rc;
        }
        if (!(a = ld->c->alerts = calloc(1, sizeof(*a)))) {
                return -ENOMEM;
        }
        a->match_slot = a->value_slot = -1;
        a->scope_slot = a->tags_slot = a->correlation_slot = -1;
        rules = red_yaml_get(n, "rules");
        wrules = red_yaml_get(n, "window_rules");
        if (!rules && !wrules) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "alerts: give \"rules\" (per event), "
                                      "\"window_rules\" (over aggregations) "
                                      "or both");
        }
        if (rules && (rc = alert_fields_of(ld, n, a))) {
                return rc;
        }
        if ((v = red_yaml_get(n, "table")) &&
            (rc = red_contract_load_ident(ld, v, "alerts.table", TABLE_NAME_MAX,
                                          &a->table))) {
                return rc;
        }
        if ((v = red_yaml_get(n, "publish")) &&
            (rc = red_contract_load_publish(ld, v, "alerts", &a->publish))) {
                return rc;
        }
        if ((v = red_yaml_get(n, "cooldown")) &&
            (rc = red_contract_load_duration(ld, v, "alerts.cooldown",
                                             &cooldown))) {
                return rc;
        }
        /* an alert nobody can see is a configuration mistake */
        if (!a->table && !a->publish.topic) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "alerts: give a \"table\", a "
                                      "\"publish\" topic or both");
        }
        if (rules && (rc = rules_of(ld, rules, cooldown, a))) {
                return rc;
        }
        return wrules ? window_rules_of(ld, wrules, cooldown, a) : 0;
}

void red_contract_load_free_alerts(red_alerts_t *a)
{
        if (!a) {
                return;
        }
        for (size_t i = 0; a->rules && i < a->rule_cnt; i++) {
                free(a->rules[i].id);
                free(a->rules[i].metric);
                free(a->rules[i].severity);
                free(a->rules[i].message);
        }
        for (size_t i = 0; a->window_rules && i < a->window_rule_cnt; i++) {
                red_window_rule_t *r = &a->window_rules[i];

                free(r->id);
                free(r->where_keys);
                red_contract_load_strlist_free(r->where_values, r->where_cnt);
                free(r->value_text);
                free(r->metric);
                red_expr_destroy(r->expr);
                free(r->severity);
                free(r->message);
        }
        free(a->window_rules);
        free(a->rules);
        free(a->table);
        free(a->publish.topic);
        free(a->publish.event_type);
        free(a);
}
