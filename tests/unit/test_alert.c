/*
 * Tests for red_alert: thresholds with each operator at and around the
 * threshold, several rules per event, cooldowns per rule and scope in
 * event time (across calls, with per-rule overrides), the message
 * template, the stable alert id and the alert row/event JSON, on the
 * shipped agent-metrics contract and tests/data/contracts/alert_rules.yaml.
 */
#include "red_alert.h"
#include "red_test.h"

#include <stdlib.h>
#include <string.h>

#define T_ROUTING "dev.agent.metrics.routing.v1"
#define T_GAUGES  "test.gauges"

static red_contract_t *am; /* contracts/agent_metrics.yaml */
static red_contract_t *ar; /* tests/data/contracts/alert_rules.yaml */
static red_time_t now;
static red_alert_matches_t matches;

/* Events of a test, freed by the teardown (matches borrow them). */
static test_event_t *evs[128];
static size_t ev_cnt;

static void setup(void)
{
        am = test_contract("contracts/agent_metrics.yaml");
        ar = test_contract("tests/data/contracts/alert_rules.yaml");
        now = test_time("2025-11-07T00:00:00Z");
        memset(&matches, 0, sizeof(matches));
        ev_cnt = 0;
}

static void teardown(void)
{
        for (size_t i = 0; i < ev_cnt; i++) {
                test_event_free(evs[i]);
        }
        free(matches.items);
        red_contract_destroy(am);
        red_contract_destroy(ar);
}

static const red_event_t *keep(test_event_t *te)
{
        ck_assert_uint_lt(ev_cnt, sizeof(evs) / sizeof(evs[0]));
        evs[ev_cnt++] = te;
        return &te->ev;
}

/* A metric.recorded event of the agent contract; agent may be NULL. */
static const red_event_t *metric(const char *name, const char *value,
                                 const char *agent, const char *iso,
                                 int64_t offset)
{
        char agent_json[128] = "";

        if (agent) {
                snprintf(agent_json, sizeof(agent_json), ",\"agent_id\":\"%s\"",
                         agent);
        }
        return keep(test_event(am, T_ROUTING, 2, offset, now,
                               "{\"event_type\":\"metric.recorded\","
                               "\"timestamp\":\"%s\",\"metric_id\":\"m%lld\","
                               "\"metric_name\":\"%s\",\"metric_type\":"
                               "\"timing\",\"value\":%s,\"unit\":\"ms\"%s}",
                               iso, (long long)offset, name, value,
                               agent_json));
}

/* A gauge (or note) of the alert_rules contract; level NULL = absent. */
static const red_event_t *gauge(const char *type, const char *name,
                                const char *level, int64_t offset)
{
        char level_json[64] = "";

        if (level) {
                snprintf(level_json, sizeof(level_json), ",\"level\":%s",
                         level);
        }
        return keep(test_event(ar, T_GAUGES, 0, offset, now,
                               "{\"event_type\":\"%s\",\"timestamp\":"
                               "\"2025-11-06T10:00:00Z\",\"name\":\"%s\"%s,"
                               "\"agent_id\":\"host-1\"}",
                               type, name, level_json));
}

/* Evaluates @p ev alone; returns the rule ids matched, space separated. */
static const char *rules_of(const red_contract_t *c, const red_event_t *ev)
{
        static char ids[256];
        size_t first = matches.cnt;

        ck_assert_int_eq(red_alert_evaluate(c->alerts, ev, &matches), 0);
        ids[0] = '\0';
        for (size_t i = first; i < matches.cnt; i++) {
                const red_alert_match_t *m = &matches.items[i];
                ck_assert_ptr_eq(m->ev, ev);
                ck_assert_int_eq(m->time, ev->time);
                ck_assert(!m->fires);
                snprintf(ids + strlen(ids), sizeof(ids) - strlen(ids), "%s%s",
                         i > first ? " " : "", c->alerts->rules[m->rule].id);
        }
        return ids;
}

/* ------------------------------------------------------------------ */
/* thresholds                                                          */
/* ------------------------------------------------------------------ */

START_TEST(operators_at_the_threshold)
{
        /* hot: gt 80, warm: gte 60, cold: lt 0, empty (fuel): lte 5 */
        ck_assert_str_eq(rules_of(ar, gauge("GAUGE", "temp", "81", 0)),
                         "hot warm");
        ck_assert_str_eq(rules_of(ar, gauge("GAUGE", "temp", "80", 1)), "warm");
        ck_assert_str_eq(rules_of(ar, gauge("GAUGE", "temp", "60", 2)), "warm");
        ck_assert_str_eq(rules_of(ar, gauge("GAUGE", "temp", "59", 3)), "");
        ck_assert_str_eq(rules_of(ar, gauge("GAUGE", "temp", "0", 4)), "");
        ck_assert_str_eq(rules_of(ar, gauge("GAUGE", "temp", "-1", 5)), "cold");
        ck_assert_str_eq(rules_of(ar, gauge("GAUGE", "fuel", "5", 6)), "empty");
        ck_assert_str_eq(rules_of(ar, gauge("GAUGE", "fuel", "-3", 7)),
                         "empty");
        ck_assert_str_eq(rules_of(ar, gauge("GAUGE", "fuel", "6", 8)), "");
        /* the metric name must match exactly */
        ck_assert_str_eq(rules_of(ar, gauge("GAUGE", "Temp", "99", 9)), "");
        ck_assert_str_eq(rules_of(ar, gauge("GAUGE", "tem", "99", 10)), "");
        ck_assert_str_eq(rules_of(ar, gauge("GAUGE", "temps", "99", 11)), "");
        /* no value, or a kind the rules are not `on` */
        ck_assert_str_eq(rules_of(ar, gauge("GAUGE", "temp", NULL, 12)), "");
        ck_assert_str_eq(rules_of(ar, gauge("NOTE", "temp", "99", 13)), "");
        /* integer values are compared as numbers */
        ck_assert_uint_eq(matches.cnt, 7);
        ck_assert_double_eq(matches.items[0].value, 81);
        ck_assert_double_eq(matches.items[4].value, -1);
        /* no scope declared: none */
        for (size_t i = 0; i < matches.cnt; i++) {
                ck_assert_str_eq(matches.items[i].scope, "");
        }
}
END_TEST

START_TEST(several_rules_and_scopes)
{
        const char *ts = "2025-11-06T10:00:00Z";

        /* routing: critical gt 100, warning gt 50, info gt 20 */
        ck_assert_str_eq(rules_of(am, metric("routing_decision_time_ms",
                                             "100.5", "a1", ts, 0)),
                         "routing_decision_critical routing_decision_warning "
                         "routing_decision_info");
        ck_assert_str_eq(rules_of(am, metric("routing_decision_time_ms", "100",
                                             "a1", ts, 1)),
                         "routing_decision_warning routing_decision_info");
        ck_assert_str_eq(rules_of(am, metric("routing_decision_time_ms", "20",
                                             "a1", ts, 2)),
                         "");
        /* lt rules */
        ck_assert_str_eq(rules_of(am, metric("workflow_success_rate", "79.9",
                                             NULL, ts, 3)),
                         "workflow_success_rate_critical");
        ck_assert_str_eq(rules_of(am, metric("workflow_success_rate", "80",
                                             NULL, ts, 4)),
                         "");
        ck_assert_str_eq(rules_of(am, metric("quorum_consensus_score", "0.59",
                                             "q", ts, 5)),
                         "quorum_consensus_critical");
        ck_assert_str_eq(
                rules_of(am, metric("unknown_metric", "1e9", "a1", ts, 6)), "");
        ck_assert_uint_eq(matches.cnt, 7);
        /* the scope is the agent_id's text, "" without one */
        ck_assert_str_eq(matches.items[0].scope, "a1");
        ck_assert_double_eq(matches.items[0].value, 100.5);
        ck_assert_str_eq(matches.items[5].scope, "");
        ck_assert_str_eq(matches.items[6].scope, "q");
        ck_assert_double_eq_tol(matches.items[6].value, 0.59, 1e-12);

        /* matches accumulate past the first allocation, intact */
        for (int i = 0; i < 40; i++) {
                ck_assert_str_eq(
                        rules_of(am, metric("coordination_overhead_"
                                            "ms",
                                            "20000", "a2", ts, 100 + i)),
                        "coordination_overhead_critical "
                        "coordination_overhead_warning");
        }
        ck_assert_uint_eq(matches.cnt, 87);
        ck_assert_str_eq(am->alerts->rules[matches.items[0].rule].id,
                         "routing_decision_critical");
        ck_assert_str_eq(am->alerts->rules[matches.items[86].rule].id,
                         "coordination_overhead_warning");
        ck_assert_int_eq(matches.items[86].ev->msg->offset, 139);
}
END_TEST

/* ------------------------------------------------------------------ */
/* cooldowns                                                           */
/* ------------------------------------------------------------------ */

/* Runs the cooldown over matches [from, cnt); returns "1"/"0" per match. */
static const char *fires(red_alert_state_t *st, const red_contract_t *c,
                         size_t from)
{
        static char out[128];

        ck_assert_int_eq(red_alert_cooldown(c->alerts, matches.items + from,
                                            matches.cnt - from, st),
                         0);
        for (size_t i = from; i < matches.cnt; i++) {
                out[i - from] = matches.items[i].fires ? '1' : '0';
        }
        out[matches.cnt - from] = '\0';
        return out;
}

START_TEST(cooldown_per_rule_and_scope)
{
        red_alert_state_t *st = red_alert_state_new();
        const char *crit = "routing_decision_critical";
        size_t first;

        ck_assert_ptr_nonnull(st);
        /* 150 crosses three rules; each event below adds three matches */
        static const struct {
                const char *agent, *iso;
        } seq[] = {
                {"a1", "2025-11-06T10:00:00Z"},        /* fires */
                {"a1", "2025-11-06T10:01:00Z"},        /* cooling */
                {"a2", "2025-11-06T10:01:00Z"},        /* other scope */
                {"a1", "2025-11-06T10:04:59.999999Z"}, /* 1 us short */
                {"a1", "2025-11-06T10:05:00Z"},        /* 5m on: fires */
                {"a1", "2025-11-06T10:09:00Z"},        /* from 10:05 */
        };
        for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
                rules_of(am, metric("routing_decision_time_ms", "150",
                                    seq[i].agent, seq[i].iso, (int64_t)i));
        }
        ck_assert_str_eq(fires(st, am, 0), "111"
                                           "000"
                                           "111"
                                           "000"
                                           "111"
                                           "000");
        ck_assert_int_eq(red_alert_state_get(st, crit, "a1"),
                         test_time("2025-11-06T10:05:00Z"));
        ck_assert_int_eq(red_alert_state_get(st, crit, "a2"),
                         test_time("2025-11-06T10:01:00Z"));
        ck_assert_int_eq(red_alert_state_get(st, crit, "a3"), INT64_MIN);
        ck_assert_int_eq(red_alert_state_get(st, "routing_decision_info", "a1"),
                         test_time("2025-11-06T10:05:00Z"));

        /* the state carries over to the next batch */
        first = matches.cnt;
        rules_of(am, metric("routing_decision_time_ms", "150", "a1",
                            "2025-11-06T10:09:59Z", 10));
        rules_of(am, metric("routing_decision_time_ms", "60", "a1",
                            "2025-11-06T10:10:00Z", 11));
        ck_assert_str_eq(fires(st, am, first), "000"
                                               "11");

        /* as it does when loaded from storage (the daemon's row lock) */
        ck_assert_int_eq(red_alert_state_set(st, crit, "a9",
                                             test_time("2025-11-06T11:00:00Z")),
                         0);
        first = matches.cnt;
        rules_of(am, metric("routing_decision_time_ms", "101", "a9",
                            "2025-11-06T11:04:00Z", 12));
        ck_assert_str_eq(fires(st, am, first), "011");
        red_alert_state_destroy(st);
        red_alert_state_destroy(NULL);
}
END_TEST

START_TEST(cooldown_overrides)
{
        red_alert_state_t *st = red_alert_state_new();

        /* hot: 10m (the alerts' default), warm: 1m, empty: 0s; no scope */
        for (int i = 0; i < 4; i++) {
                ck_assert_str_eq(rules_of(ar, gauge("GAUGE", "temp", "90", i)),
                                 "hot warm");
                matches.items[matches.cnt - 1].time =
                        matches.items[matches.cnt - 2].time =
                                test_time("2025-11-06T10:00:00Z") +
                                i * 40 * RED_TIME_US_PER_SEC;
        }
        /* 0s, 40s, 80s, 120s: hot once; warm at 0, 80 (>= 60s after 0),
         * not at 120 (40s after 80) */
        ck_assert_str_eq(fires(st, ar, 0), "11"
                                           "00"
                                           "01"
                                           "00");
        ck_assert_uint_eq(ar->alerts->rules[1].cooldown_us,
                          60 * RED_TIME_US_PER_SEC);
        /* no cooldown: every match fires, even at the same time */
        for (int i = 0; i < 3; i++) {
                ck_assert_str_eq(
                        rules_of(ar, gauge("GAUGE", "fuel", "1", 10 + i)),
                        "empty");
        }
        ck_assert_str_eq(fires(st, ar, 8), "111");
        red_alert_state_destroy(st);
}
END_TEST

/* ------------------------------------------------------------------ */
/* rendering                                                           */
/* ------------------------------------------------------------------ */

static const char *message(const red_contract_t *c, const red_alert_match_t *m)
{
        static char text[512];
        red_buf_t b;

        red_buf_init(&b);
        red_alert_message(c, m, &b);
        ck_assert(!b.failed);
        snprintf(text, sizeof(text), "%s", b.data ? b.data : "");
        red_buf_destroy(&b);
        return text;
}

static json_t *alert_json(const red_contract_t *c, const red_alert_match_t *m)
{
        red_buf_t b;
        json_error_t err;
        json_t *j;

        red_buf_init(&b);
        red_alert_json(c, m, &b);
        ck_assert(!b.failed);
        j = json_loadb(b.data, b.len, 0, &err);
        ck_assert_msg(j != NULL, "%s: %s", err.text, b.data);
        red_buf_destroy(&b);
        return j;
}

static const char *str_at(json_t *j, const char *key)
{
        json_t *v = json_object_get(j, key);

        ck_assert_msg(json_is_string(v), "%s is not a string", key);
        return json_string_value(v);
}

static double num_at(json_t *j, const char *key)
{
        json_t *v = json_object_get(j, key);

        ck_assert_msg(json_is_number(v), "%s is not a number", key);
        return json_number_value(v);
}

START_TEST(messages)
{
        const char *ts = "2025-11-06T10:00:00Z";
        const red_alert_match_t *m;

        rules_of(am, metric("routing_decision_time_ms", "150", "a1", ts, 0));
        ck_assert_uint_eq(matches.cnt, 3);
        ck_assert_str_eq(message(am, &matches.items[0]),
                         "Routing too slow: 150ms (>100ms)");
        ck_assert_str_eq(message(am, &matches.items[1]),
                         "Routing slow: 150ms (>50ms)");
        /* the INFO rule has no message: the default */
        ck_assert_str_eq(message(am, &matches.items[2]),
                         "routing_decision_time_ms gt 20: actual=150");
        rules_of(am, metric("quorum_consensus_score", "0.125", "q", ts, 1));
        ck_assert_str_eq(message(am, &matches.items[3]),
                         "Quorum consensus score 0.125 (<0.6)");
        /* every placeholder; unknown ones and a stray brace stay */
        rules_of(ar, gauge("GAUGE", "temp", "81", 2));
        m = &matches.items[4];
        ck_assert_str_eq(ar->alerts->rules[m->rule].id, "hot");
        ck_assert_str_eq(message(ar, m),
                         "temp=81 gt 80 (CRITICAL) on host-1 {unknown} {");
}
END_TEST

START_TEST(alert_rows)
{
        const red_event_t *ev;
        red_uuid_t id;
        char ids[RED_UUID_STR_SIZE];
        json_t *j, *tags;

        ev = keep(test_event(am, T_ROUTING, 2, 17, now,
                             "{\"event_type\":\"metric.recorded\","
                             "\"timestamp\":\"2025-11-06T10:00:00.25Z\","
                             "\"metric_id\":\"m17\",\"metric_name\":"
                             "\"routing_decision_time_ms\",\"metric_type\":"
                             "\"timing\",\"value\":150.5,\"unit\":\"ms\","
                             "\"agent_id\":\"a1\",\"correlation_id\":\"c-1\","
                             "\"tags\":{\"z\":\"1\",\"a\":\"\\\"q\\\"\"}}"));
        ck_assert_int_eq(red_alert_evaluate(am->alerts, ev, &matches), 0);
        ck_assert_uint_eq(matches.cnt, 3);

        /* the id is uuid5(reducerd, "contract/rule/topic/partition/offset")
         * (values from Python's uuid.uuid5) */
        red_alert_id(am, &matches.items[0], &id);
        red_uuid_format(&id, ids);
        ck_assert_str_eq(ids, "e227d9f6-79ba-5022-b649-91f7d3748fb4");
        red_alert_id(am, &matches.items[1], &id);
        red_uuid_format(&id, ids);
        ck_assert_str_eq(ids, "ca9385b8-f4b7-5207-9231-730ec6733a40");

        j = alert_json(am, &matches.items[0]);
        ck_assert_uint_eq(json_object_size(j), 11);
        ck_assert_str_eq(str_at(j, "alert_id"),
                         "e227d9f6-79ba-5022-b649-91f7d3748fb4");
        ck_assert_str_eq(str_at(j, "rule_id"), "routing_decision_critical");
        ck_assert_str_eq(str_at(j, "severity"), "CRITICAL");
        ck_assert_str_eq(str_at(j, "metric_name"), "routing_decision_time_ms");
        ck_assert_double_eq(num_at(j, "threshold"), 100);
        ck_assert_double_eq(num_at(j, "actual_value"), 150.5);
        ck_assert_str_eq(str_at(j, "message"),
                         "Routing too slow: 150.5ms (>100ms)");
        ck_assert_str_eq(str_at(j, "correlation_id"), "c-1");
        ck_assert_str_eq(str_at(j, "agent_id"), "a1");
        ck_assert_str_eq(str_at(j, "triggered_at"),
                         "2025-11-06T10:00:00.250000Z");
        tags = json_object_get(j, "tags");
        ck_assert_uint_eq(json_object_size(tags), 2);
        ck_assert_str_eq(str_at(tags, "a"), "\"q\"");
        ck_assert_str_eq(str_at(tags, "z"), "1");
        json_decref(j);
        /* each rule its own severity */
        j = alert_json(am, &matches.items[1]);
        ck_assert_str_eq(str_at(j, "severity"), "WARNING");
        ck_assert_double_eq(num_at(j, "threshold"), 50);
        json_decref(j);
        j = alert_json(am, &matches.items[2]);
        ck_assert_str_eq(str_at(j, "severity"), "INFO");
        ck_assert_str_eq(str_at(j, "rule_id"), "routing_decision_info");
        json_decref(j);

        /* without scope value, tags or correlation: null, {} and null */
        rules_of(am, metric("routing_decision_time_ms", "30", NULL,
                            "2025-11-06T10:00:00Z", 18));
        j = alert_json(am, &matches.items[3]);
        ck_assert(json_is_null(json_object_get(j, "agent_id")));
        ck_assert(json_is_null(json_object_get(j, "correlation_id")));
        ck_assert_uint_eq(json_object_size(json_object_get(j, "tags")), 0);
        json_decref(j);

        /* rules without scope, tags or correlation declared: no scope key */
        rules_of(ar, gauge("GAUGE", "temp", "81", 3));
        j = alert_json(ar, &matches.items[4]);
        ck_assert_uint_eq(json_object_size(j), 10);
        ck_assert_ptr_null(json_object_get(j, "agent_id"));
        ck_assert_str_eq(str_at(j, "alert_id"),
                         "0e927d21-bf8c-59a7-9cad-3a194b7837d6");
        ck_assert(json_is_null(json_object_get(j, "correlation_id")));
        ck_assert_str_eq(str_at(j, "triggered_at"), "2025-11-06T10:00:00Z");
        json_decref(j);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("alert");
        TCase *tt = tcase_create("thresholds");
        TCase *tc = tcase_create("cooldown");
        TCase *tr = tcase_create("render");

        tcase_add_checked_fixture(tt, setup, teardown);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_checked_fixture(tr, setup, teardown);
        tcase_add_test(tt, operators_at_the_threshold);
        tcase_add_test(tt, several_rules_and_scopes);
        tcase_add_test(tc, cooldown_per_rule_and_scope);
        tcase_add_test(tc, cooldown_overrides);
        tcase_add_test(tr, messages);
        tcase_add_test(tr, alert_rows);
        suite_add_tcase(s, tt);
        suite_add_tcase(s, tc);
        suite_add_tcase(s, tr);
        return test_main(s);
}
