/* red_contract_sinks - a contract's raw sinks and alert rules. */
#include "red_contract_load.h"

#include "red_time.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- raw sinks ----------------------------------------------------------- */

/* A unique field identifies rows: a required string, integer or uuid in
 * every kind stored. */
static int unique_field_check(red_loader_t *ld, const red_yaml_node_t *at,
                              const char *what, uint64_t on, int slot)
{
        const red_contract_t *c = ld->c;
        red_field_type_t t = c->slot_types[slot];

        if (t != RED_FT_STRING && t != RED_FT_INTEGER && t != RED_FT_UUID) {
                return red_yaml_error(ld->errstr, ld->size, at,
                                      "%s: unique field %s is a %s (allowed: "
                                      "string, integer, uuid)",
                                      what, c->slot_names[slot],
                                      red_contract_field_type_name(t));
        }
        for (size_t k = 0; k < c->kind_cnt; k++) {
                const red_kind_t *kind = &c->kinds[k];
                bool required = false;

                if (!(on & (UINT64_C(1) << kind->index))) {
                        continue;
                }
                for (size_t f = 0; f < kind->field_cnt; f++) {
                        required |= kind->fields[f].slot == slot &&
                                    kind->fields[f].required;
                }
                if (!required) {
                        return red_yaml_error(ld->errstr, ld->size, at,
                                              "%s: unique field %s must be "
                                              "required in event %s",
                                              what, c->slot_names[slot],
                                              kind->name);
                }
        }
        return 0;
}

/* tables: {input topic: table}: a raw sink may store each topic's events
 * in a table of its own. */
static int raw_tables_of(red_loader_t *ld, const red_yaml_node_t *v,
                         const char *what, red_raw_t *r)
{
        int rc;

        if (red_yaml_expect(v, RED_YAML_MAP, what, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        r->topics = calloc(red_yaml_size(v) + 1, sizeof(char *));
        r->tables = calloc(red_yaml_size(v) + 1, sizeof(char *));
        if (!r->topics || !r->tables) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(v); i++) {
                r->table_cnt++;
                if ((rc = red_contract_load_topic(ld, red_yaml_key(v, i), what,
                                                  &r->topics[i])) ||
                    (rc = red_contract_load_ident(ld, red_yaml_value(v, i),
                                                  what, TABLE_NAME_MAX,
                                                  &r->tables[i]))) {
                        return rc;
                }
                if (!red_contract_input(ld->c, r->topics[i])) {
                        return red_yaml_error(ld->errstr, ld->size,
                                              red_yaml_key(v, i),
                                              "%s: topic %s is not an input "
                                              "of the contract",
                                              what, r->topics[i]);
                }
        }
        return 0;
}

/* unique: the fields that, with the event time, identify a row (the
 * sink skips rows it stored before). */
static int unique_of(red_loader_t *ld, const red_yaml_node_t *v,
                     const char *what, red_raw_t *r)
{
        char **names = NULL;
        size_t cnt = 0;
        int rc;

        if ((rc = red_contract_load_strlist(ld, v, what, &names, &cnt))) {
                return rc;
        }
        if (!(r->unique = calloc(cnt + 1, sizeof(int)))) {
                rc = -ENOMEM;
                goto err;
        }
        for (size_t i = 0; i < cnt; i++) {
                int slot = red_contract_slot(ld->c, names[i]);
                if (slot < 0) {
                        rc = red_yaml_error(ld->errstr, ld->size, v,
                                            "%s: unique: unknown field "
                                            "\"%s\"",
                                            what, names[i]);
                        goto err;
                }
                if ((rc = unique_field_check(ld, v, what, r->on, slot))) {
                        goto err;
                }
                r->unique[r->unique_cnt++] = slot;
        }
err:
        red_contract_load_strlist_free(names, cnt);
        return rc;
}

/* columns: {column: field}; every unique field needs one. */
static int raw_columns_of(red_loader_t *ld, const red_yaml_node_t *n,
                          const red_yaml_node_t *v, const char *what,
                          red_raw_t *r)
{
        int rc;

        if (red_yaml_expect(v, RED_YAML_MAP, what, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        r->columns = calloc(red_yaml_size(v) + 1, sizeof(*r->columns));
        if (!r->columns) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(v); i++) {
                red_raw_column_t *col = &r->columns[r->column_cnt++];
                if ((rc = red_contract_load_ident(ld, red_yaml_key(v, i), what,
                                                  63, &col->name)) ||
                    (rc = red_contract_load_slot(ld, red_yaml_value(v, i), what,
                                                 &col->slot))) {
                        return rc;
                }
                if (!strcmp(col->name, r->time_column) ||
                    !strcmp(col->name, "created_at")) {
                        return red_yaml_error(ld->errstr, ld->size,
                                              red_yaml_key(v, i),
                                              "%s: column %s is written by "
                                              "the engine (event time, "
                                              "insertion time)",
                                              what, col->name);
                }
        }
        for (size_t u = 0; u < r->unique_cnt; u++) {
                bool found = false;
                for (size_t i = 0; i < r->column_cnt; i++) {
                        found |= r->columns[i].slot == r->unique[u];
                }
                if (!found) {
                        return red_yaml_error(
                                ld->errstr, ld->size, red_yaml_get(n, "unique"),
                                "%s: unique field %s has no "
                                "column",
                                what, ld->c->slot_names[r->unique[u]]);
                }
        }
        return 0;
}

static int raw_of(red_loader_t *ld, const red_yaml_node_t *n, red_raw_t *r)
{
        static const char *const keys[] = {
                "name",      "on",     "tables",  "time_column", "partition",
                "retention", "unique", "columns", NULL};
        const red_yaml_node_t *v;
        char what[128];
        int rc;

        if ((rc = red_yaml_check_keys(n, "raw", keys, ld->errstr, ld->size))) {
                return rc;
        }
        if (!(v = red_contract_load_required(ld, n, "raw", "name", "", &rc)) ||
            (rc = red_contract_load_ident(ld, v, "raw name", 63, &r->name))) {
                return rc;
        }
        snprintf(what, sizeof(what), "raw %s", r->name);
        if (!(v = red_contract_load_required(ld, n, what, "on", "", &rc)) ||
            (rc = red_contract_load_kinds(ld, v, what, &r->on))) {
                return rc;
        }
        if (!(v = red_contract_load_required(ld, n, what, "tables",
                                             " (input topic: table)", &rc)) ||
            (rc = raw_tables_of(ld, v, what, r))) {
                return rc;
        }
        if ((v = red_yaml_get(n, "time_column"))) {
                rc = red_contract_load_ident(ld, v, what, 63, &r->time_column);
        } else if (!(r->time_column = strdup("timestamp"))) {
                rc = -ENOMEM;
        }
        if (rc) {
                return rc;
        }
        r->partition = RED_PART_DAILY;
        if ((v = red_yaml_get(n, "partition")) &&
            (rc = red_contract_load_partition(ld, v, what, &r->partition))) {
                return rc;
        }
        if ((v = red_yaml_get(n, "retention")) &&
            (rc = red_contract_load_duration(ld, v, what, &r->retention_us))) {
                return rc;
        }
        if ((v = red_yaml_get(n, "unique")) &&
            (rc = unique_of(ld, v, what, r))) {
                return rc;
        }
        if (!(v = red_contract_load_required(ld, n, what, "columns",
                                             " (column: field)", &rc))) {
                return rc;
        }
        return raw_columns_of(ld, n, v, what, r);
}

int red_contract_load_raws(red_loader_t *ld, const red_yaml_node_t *n)
{
        red_contract_t *c = ld->c;

        if (red_yaml_expect(n, RED_YAML_SEQ, "raw", ld->errstr, ld->size)) {
                return -EINVAL;
        }
        c->raws = calloc(red_yaml_size(n) + 1, sizeof(*c->raws));
        if (!c->raws) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(n); i++) {
                int r;
                c->raws[i].index = (int)i;
                c->raw_cnt++;
                if ((r = raw_of(ld, red_yaml_item(n, i), &c->raws[i]))) {
                        return r;
                }
        }
        return 0;
}

void red_contract_load_free_raws(red_raw_t *r, size_t cnt)
{
        for (size_t i = 0; r && i < cnt; i++) {
                free(r[i].name);
                red_contract_load_strlist_free(r[i].topics, r[i].table_cnt);
                red_contract_load_strlist_free(r[i].tables, r[i].table_cnt);
                free(r[i].time_column);
                free(r[i].unique);
                for (size_t k = 0; r[i].columns && k < r[i].column_cnt; k++) {
                        free(r[i].columns[k].name);
                }
                free(r[i].columns);
        }
        free(r);
}

/* --- alert rules -------------------------------------------------------- */

/* {id, metric, op, threshold, severity, message, cooldown}: a rule fires
 * when the value of an event whose match field equals metric compares
 * with the threshold. */
static int rule_of(red_loader_t *ld, const red_yaml_node_t *n,
                   int64_t default_cooldown, red_alert_rule_t *r)
{
        static const char *const keys[] = {"id",        "metric",   "op",
                                           "threshold", "severity", "message",
                                           "cooldown",  NULL};
        static const char *const severities[] = {"CRITICAL", "WARNING", "INFO"};
        const red_yaml_node_t *v;
        const char *s;
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
                                     &r->threshold, ld->errstr, ld->size))) {
                return rc;
        }
        v = red_yaml_get(n, "op");
        if ((rc = red_yaml_to_str(v, what, &s, ld->errstr, ld->size))) {
                return rc;
        }
        r->op = (red_alert_op_t)-1;
        for (int i = 0; i < 4; i++) {
                if (!strcmp(s, red_contract_alert_op_name((red_alert_op_t)i))) {
                        r->op = (red_alert_op_t)i;
                }
        }
        if ((int)r->op < 0) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "%s: operator \"%s\" is not valid "
                                      "(allowed: gt, lt, gte, lte)",
                                      what, s);
        }
        v = red_yaml_get(n, "severity");
        if ((rc = red_contract_load_str(ld, v, what, &r->severity))) {
                return rc;
        }
        if (strcmp(r->severity, severities[0]) &&
            strcmp(r->severity, severities[1]) &&
            strcmp(r->severity, severities[2])) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "%s: severity \"%s\" is not valid "
                                      "(allowed: CRITICAL, WARNING, INFO)",
                                      what, r->severity);
        }
        if ((v = red_yaml_get(n, "message"))) {
                rc = red_contract_load_str(ld, v, what, &r->message);
        } else if (!(r->message = strdup("{metric_name} {operator} "
                                         "{threshold}: actual={value}"))) {
                rc = -ENOMEM;
        }
        if (rc) {
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
                                  &a->rules[i]))) {
                        return rc;
                }
                for (size_t j = 0; j < i; j++) {
                        if (!strcmp(a->rules[j].id, a->rules[i].id)) {
                                return red_yaml_error(
                                        ld->errstr, ld->size,
                                        red_yaml_item(v, i),
                                        "alert rule %s is defined twice",
                                        a->rules[i].id);
                        }
                }
        }
        return 0;
}

int red_contract_load_alerts(red_loader_t *ld, const red_yaml_node_t *n)
{
        /* the first 3 are required */
        static const char *const keys[] = {
                "on",    "match",   "value",    "scope", "tags", "correlation",
                "table", "publish", "cooldown", "rules", NULL};
        red_alerts_t *a;
        const red_yaml_node_t *v;
        int64_t cooldown = 5 * RED_TIME_US_PER_MIN;
        int rc;

        if ((rc = red_yaml_check_keys(n, "alerts", keys, ld->errstr,
                                      ld->size))) {
                return rc;
        }
        if (!(a = ld->c->alerts = calloc(1, sizeof(*a)))) {
                return -ENOMEM;
        }
        a->scope_slot = a->tags_slot = a->correlation_slot = -1;
        for (const char *const *k = keys; k < keys + 3; k++) {
                if (!red_contract_load_required(ld, n, "alerts", *k, "", &rc)) {
                        return rc;
                }
        }
        if ((rc = alert_fields_of(ld, n, a))) {
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
        if (!(v = red_contract_load_required(ld, n, "alerts", "rules", "",
                                             &rc))) {
                return rc;
        }
        return rules_of(ld, v, cooldown, a);
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
        free(a->rules);
        free(a->table);
        free(a->publish.topic);
        free(a->publish.event_type);
        free(a);
}
