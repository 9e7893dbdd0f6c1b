/*
 * Tests for red_alert_window and red_alert_notify: the shipped contracts'
 * rules over windows, which cells a rule judges (aggregation, grouping,
 * window, keys, min_events, final-only) and at which event time, the
 * instance state machine (for, cooldown after a resolution, older windows
 * ignored, resolution), labels, annotations and the alert JSON, the
 * Alertmanager and webhook bodies, and HMAC-SHA256 (RFC 4231 vectors).
 */
#include "red_alert_notify.h"
#include "red_alert_window.h"
#include "red_hmac.h"
#include "red_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define T_WORKFLOW "dev.agent.metrics.workflow.v1"

static red_contract_t *am; /* contracts/agent_metrics.yaml */
static red_time_t now;

static void setup(void)
{
        am = test_contract("contracts/agent_metrics.yaml");
        now = test_time("2025-11-07T12:00:00Z");
}

static void teardown(void)
{
        red_contract_destroy(am);
}

static int rule_index(const red_contract_t *c, const char *id)
{
        for (size_t i = 0; i < c->alerts->window_rule_cnt; i++) {
                if (!strcmp(c->alerts->window_rules[i].id, id)) {
                        return (int)i;
                }
        }
        ck_abort_msg("no window rule %s", id);
        return -1;
}

/* A per_metric (or per_agent) cell of the rollup, @p wt, starting at
 * @p start, with @p n metrics @p name = @p value, the i-th at start + i s. */
static red_cell_t *rollup_cell(red_window_type_t wt, const char *start,
                               const char *grouping, const char *name, int n,
                               double value)
{
        const red_agg_t *a = &am->aggs[0];
        const char *keys[2] = {name, "*"};
        size_t lens[2] = {strlen(name), 1};
        red_cell_key_t key = {0};
        red_cell_t *cell;
        red_time_t t0 = test_time(start);

        key.agg = a;
        key.wt = wt;
        key.start = t0;
        key.grouping = !strcmp(grouping, "per_metric") ? 0 : 1;
        if (key.grouping == 1) {
                keys[1] = "agent-1";
                lens[1] = 7;
        }
        key.keys = keys;
        key.lens = lens;
        key.group_hash = red_cell_group_hash(a, key.grouping, keys, lens);
        cell = red_cell_new(&key, am->sketch_alpha);
        ck_assert_ptr_nonnull(cell);
        for (int i = 0; i < n; i++) {
                char ts[RED_TIME_FMT_SIZE];
                test_event_t *te;

                red_time_format(t0 + (red_time_t)i * 1000000, ts, sizeof(ts));
                te = test_event(am, T_WORKFLOW, 0, i, now,
                                "{\"timestamp\":\"%s\",\"metric_id\":\"m%d\","
                                "\"metric_name\":\"%s\",\"metric_type\":"
                                "\"rate\",\"value\":%g,\"unit\":\"%%\","
                                "\"agent_id\":\"agent-1\"}",
                                ts, i, name, value);
                ck_assert_int_eq(red_cell_apply(cell, &te->ev), 0);
                test_event_free(te);
        }
        return cell;
}

START_TEST(shipped_rules)
{
        red_contract_t *cg = test_contract("contracts/codegen_metrics.yaml");
        const red_window_rule_t *r;

        ck_assert_uint_eq(am->alerts->window_rule_cnt, 3);
        r = &am->alerts->window_rules[rule_index(am, "workflow_success_rate_"
                                                     "hourly")];
        ck_assert_str_eq(r->severity, "CRITICAL");
        ck_assert_int_eq(r->op, RED_OP_LT);
        ck_assert(r->threshold == 80);
        ck_assert_int_ge(r->column, 0); /* the column avg */
        ck_assert_uint_eq(r->windows, 1u << RED_WINDOW_HOURLY);
        ck_assert_uint_eq(r->where_cnt, 1);
        ck_assert_str_eq(r->where_values[0], "workflow_success_rate");
        ck_assert_uint_eq(r->min_events, 10);
        ck_assert_str_eq(r->metric, "workflow_success_rate");
        ck_assert_str_eq(am->alerts
                                 ->window_rules[rule_index(am, "routing_cache_"
                                                               "hit_rate_"
                                                               "hourly")]
                                 .severity,
                         "WARNING");
        /* codegen: alerts without per-event rules */
        ck_assert_ptr_nonnull(cg->alerts);
        ck_assert_uint_eq(cg->alerts->rule_cnt, 0);
        ck_assert_uint_eq(cg->alerts->on, 0);
        ck_assert_uint_eq(cg->alerts->window_rule_cnt, 2);
        r = &cg->alerts->window_rules[rule_index(cg, "codegen_duration_p99_"
                                                     "high")];
        ck_assert_int_eq(r->column, -1); /* duration.p99: an expression */
        ck_assert_ptr_nonnull(r->expr);
        red_contract_destroy(cg);
}
END_TEST

START_TEST(judging_cells)
{
        int rule = rule_index(am, "workflow_success_rate_hourly");
        red_cell_t *low =
                rollup_cell(RED_WINDOW_HOURLY, "2025-11-07T10:00:00Z",
                            "per_metric", "workflow_success_rate", 10, 50);
        red_cell_t *few =
                rollup_cell(RED_WINDOW_HOURLY, "2025-11-07T10:00:00Z",
                            "per_metric", "workflow_success_rate", 9, 50);
        red_cell_t *other =
                rollup_cell(RED_WINDOW_HOURLY, "2025-11-07T10:00:00Z",
                            "per_metric", "routing_cache_hit_rate", 10, 50);
        red_cell_t *daily =
                rollup_cell(RED_WINDOW_DAILY, "2025-11-07T00:00:00Z",
                            "per_metric", "workflow_success_rate", 10, 50);
        red_cell_t *agent =
                rollup_cell(RED_WINDOW_HOURLY, "2025-11-07T10:00:00Z",
                            "per_agent", "workflow_success_rate", 10, 50);
        red_alert_window_eval_t e;

        ck_assert(red_alert_window_judge(am, rule, low, false, &e));
        ck_assert(e.holds);
        ck_assert(e.value == 50);
        ck_assert(!e.final);
        ck_assert_str_eq(e.scope, "[\"hourly\",\"per_metric\","
                                  "\"workflow_success_rate\",\"*\"]");
        ck_assert_str_eq(e.group, "workflow_success_rate/*");
        ck_assert_str_eq(red_alert_window_key(&e, 0), "workflow_success_rate");
        ck_assert_str_eq(red_alert_window_key(&e, 1), "*");
        /* a change counts at the newest event time of the cell */
        ck_assert_int_eq(e.time, test_time("2025-11-07T10:00:09Z"));
        ck_assert_int_eq(e.window_end, test_time("2025-11-07T11:00:00Z"));
        /* at finality, at the window's end */
        ck_assert(red_alert_window_judge(am, rule, low, true, &e));
        ck_assert(e.final);
        ck_assert_int_eq(e.time, test_time("2025-11-07T11:00:00Z"));
        /* fewer than min_events, another metric, window or grouping */
        ck_assert(!red_alert_window_judge(am, rule, few, false, &e));
        ck_assert(!red_alert_window_judge(am, rule, other, false, &e));
        ck_assert(!red_alert_window_judge(am, rule, daily, false, &e));
        ck_assert(!red_alert_window_judge(am, rule, agent, false, &e));
        /* the same cell above the threshold: judged, does not hold */
        red_cell_destroy(few);
        few = rollup_cell(RED_WINDOW_HOURLY, "2025-11-07T10:00:00Z",
                          "per_metric", "workflow_success_rate", 10, 95);
        ck_assert(red_alert_window_judge(am, rule, few, false, &e));
        ck_assert(!e.holds);
        red_cell_destroy(low);
        red_cell_destroy(few);
        red_cell_destroy(other);
        red_cell_destroy(daily);
        red_cell_destroy(agent);
}
END_TEST

/* A judgement of window @p ws (ISO) at @p t (ISO). */
static red_alert_window_eval_t judgement(const char *ws, const char *t,
                                         bool holds)
{
        red_alert_window_eval_t e;

        memset(&e, 0, sizeof(e));
        e.window_start = test_time(ws);
        e.window_end = e.window_start + RED_TIME_US_PER_HOUR;
        e.time = test_time(t);
        e.holds = holds;
        return e;
}

START_TEST(instance_states)
{
        red_window_rule_t r = {0};
        red_alert_window_t st;
        red_alert_window_eval_t e;

        r.cooldown_us = 10 * RED_TIME_US_PER_MIN;
        red_alert_window_init(&st);
        /* no for: fires at once, stays, resolves */
        e = judgement("2025-11-07T10:00:00Z", "2025-11-07T10:05:00Z", true);
        ck_assert_int_eq(red_alert_window_step(&r, &st, &e), RED_WA_FIRED);
        ck_assert_int_eq(st.state, RED_WA_FIRING);
        ck_assert_int_eq(st.since, e.time);
        e = judgement("2025-11-07T10:00:00Z", "2025-11-07T10:06:00Z", true);
        ck_assert_int_eq(red_alert_window_step(&r, &st, &e), RED_WA_NONE);
        /* an older window changing is not news */
        e = judgement("2025-11-07T09:00:00Z", "2025-11-07T10:07:00Z", false);
        ck_assert_int_eq(red_alert_window_step(&r, &st, &e), RED_WA_NONE);
        ck_assert_int_eq(st.state, RED_WA_FIRING);
        e = judgement("2025-11-07T10:00:00Z", "2025-11-07T10:08:00Z", false);
        ck_assert_int_eq(red_alert_window_step(&r, &st, &e), RED_WA_RESOLVED);
        ck_assert_int_eq(st.state, RED_WA_INACTIVE);
        ck_assert_int_eq(st.resolved, e.time);
        /* within the cooldown after the resolution: pending, no firing */
        e = judgement("2025-11-07T10:00:00Z", "2025-11-07T10:12:00Z", true);
        ck_assert_int_eq(red_alert_window_step(&r, &st, &e), RED_WA_NONE);
        ck_assert_int_eq(st.state, RED_WA_PENDING);
        /* a newer window, after the cooldown */
        e = judgement("2025-11-07T11:00:00Z", "2025-11-07T11:00:30Z", true);
        ck_assert_int_eq(red_alert_window_step(&r, &st, &e), RED_WA_FIRED);
        ck_assert_int_eq(st.window_start, e.window_start);

        /* for: 10 minutes of holding in event time */
        r.for_us = 10 * RED_TIME_US_PER_MIN;
        red_alert_window_init(&st);
        e = judgement("2025-11-07T10:00:00Z", "2025-11-07T10:01:00Z", true);
        ck_assert_int_eq(red_alert_window_step(&r, &st, &e), RED_WA_NONE);
        ck_assert_int_eq(st.state, RED_WA_PENDING);
        e = judgement("2025-11-07T10:00:00Z", "2025-11-07T10:10:59Z", true);
        ck_assert_int_eq(red_alert_window_step(&r, &st, &e), RED_WA_NONE);
        e = judgement("2025-11-07T10:00:00Z", "2025-11-07T10:11:00Z", true);
        ck_assert_int_eq(red_alert_window_step(&r, &st, &e), RED_WA_FIRED);
        /* pending that clears never fired: nothing to resolve */
        red_alert_window_init(&st);
        e = judgement("2025-11-07T10:00:00Z", "2025-11-07T10:01:00Z", true);
        ck_assert_int_eq(red_alert_window_step(&r, &st, &e), RED_WA_NONE);
        e = judgement("2025-11-07T10:00:00Z", "2025-11-07T10:02:00Z", false);
        ck_assert_int_eq(red_alert_window_step(&r, &st, &e), RED_WA_NONE);
        ck_assert_int_eq(st.state, RED_WA_INACTIVE);
        ck_assert_str_eq(red_alert_window_state_name(RED_WA_FIRING), "firing");
        ck_assert_int_eq(red_alert_window_state_parse("pending"),
                         RED_WA_PENDING);
        ck_assert_int_eq(red_alert_window_state_parse("gone"), -1);
}
END_TEST

START_TEST(window_alert_rendering)
{
        int rule = rule_index(am, "workflow_success_rate_hourly");
        red_cell_t *low =
                rollup_cell(RED_WINDOW_HOURLY, "2025-11-07T10:00:00Z",
                            "per_metric", "workflow_success_rate", 10, 50);
        red_alert_window_eval_t e;
        red_uuid_t id, id2;
        red_buf_t b;
        json_t *j;

        ck_assert(red_alert_window_judge(am, rule, low, false, &e));
        red_buf_init(&b);
        red_alert_window_message(am, &e, &b);
        ck_assert_str_eq(b.data, "Workflow success rate 50% over the hour "
                                 "from 2025-11-07T10:00:00Z (<80%)");
        red_buf_reset(&b);
        red_alert_window_labels(am, &e, &b);
        j = json_loads(b.data, 0, NULL);
        ck_assert_ptr_nonnull(j);
        ck_assert_str_eq(json_string_value(json_object_get(j, "alertname")),
                         "workflow_success_rate_hourly");
        ck_assert_str_eq(json_string_value(json_object_get(j, "severity")),
                         "CRITICAL");
        ck_assert_str_eq(json_string_value(json_object_get(j, "contract")),
                         "agent_metrics");
        ck_assert_str_eq(json_string_value(json_object_get(j, "window")),
                         "hourly");
        ck_assert_str_eq(json_string_value(json_object_get(j, "grouping")),
                         "per_metric");
        ck_assert_str_eq(json_string_value(json_object_get(j, "metric_name")),
                         "workflow_success_rate");
        ck_assert_str_eq(json_string_value(json_object_get(j, "agent_id")),
                         "*");
        json_decref(j);
        /* ids: stable per firing time, distinct per firing */
        red_alert_window_id(am, &e, e.time, &id);
        red_alert_window_id(am, &e, e.time, &id2);
        ck_assert(!red_uuid_cmp(&id, &id2));
        red_alert_window_id(am, &e, e.time + 1, &id2);
        ck_assert(red_uuid_cmp(&id, &id2));
        red_buf_reset(&b);
        red_alert_window_json(am, &e, &id, true, &b);
        j = json_loads(b.data, 0, NULL);
        ck_assert_ptr_nonnull(j);
        ck_assert_str_eq(json_string_value(json_object_get(j, "status")),
                         "resolved");
        ck_assert_str_eq(json_string_value(json_object_get(j, "metric_name")),
                         "workflow_success_rate");
        ck_assert(json_number_value(json_object_get(j, "actual_value")) == 50);
        ck_assert_str_eq(json_string_value(json_object_get(j, "resolved_at")),
                         "2025-11-07T10:00:09Z");
        ck_assert_str_eq(json_string_value(json_object_get(j, "window_start")),
                         "2025-11-07T10:00:00Z");
        json_decref(j);
        red_buf_reset(&b);
        red_alert_notify_window_annotations(am, &e, &id, &b);
        j = json_loads(b.data, 0, NULL);
        ck_assert_str_eq(json_string_value(json_object_get(j, "value")), "50");
        ck_assert_str_eq(json_string_value(json_object_get(j, "threshold")),
                         "80");
        json_decref(j);
        red_buf_reset(&b);
        red_alert_notify_window_generator(am, &e, &b);
        ck_assert_str_eq(b.data,
                         "/v1/aggregations/agent_metrics_rollup/series?"
                         "window=hourly&grouping=per_metric&from=2025-11-07T10:"
                         "00:00Z&to=2025-11-07T11:00:00Z");
        red_buf_destroy(&b);
        red_cell_destroy(low);
}
END_TEST

START_TEST(alertmanager_and_webhook_bodies)
{
        red_alert_note_t n[2] = {{0}};
        red_time_t t = test_time("2025-11-07T10:00:00Z");
        red_buf_t b;
        json_t *j, *a;

        n[0].alert_id = "0b6c2f57-8f0e-4d8b-9a57-2f7f3f1f0001";
        n[0].status = "firing";
        n[0].contract = "agent_metrics";
        n[0].rule_id = "r1";
        n[0].severity = "CRITICAL";
        n[0].labels = "{\"alertname\":\"r1\"}";
        n[0].annotations = "{\"summary\":\"s\"}";
        n[0].payload = "{\"x\":1}";
        n[0].starts_at = t;
        n[0].ends_at = INT64_MIN;
        n[0].hold_us = 300 * RED_TIME_US_PER_SEC;
        n[0].generator = "/v1/alerts?rule=r1";
        n[1] = n[0];
        n[1].status = "resolved";
        n[1].ends_at = t + 60 * RED_TIME_US_PER_SEC;
        red_buf_init(&b);
        /* now after the start: a firing alert holds from now */
        red_alert_notify_am(n, 2, t + 3600 * RED_TIME_US_PER_SEC,
                            "http://reducerd:9465/", &b);
        j = json_loads(b.data, 0, NULL);
        ck_assert_ptr_nonnull(j);
        ck_assert_uint_eq(json_array_size(j), 2);
        a = json_array_get(j, 0);
        ck_assert_str_eq(json_string_value(json_object_get(
                                 json_object_get(a, "labels"), "alertname")),
                         "r1");
        ck_assert_str_eq(json_string_value(json_object_get(a, "startsAt")),
                         "2025-11-07T10:00:00Z");
        ck_assert_str_eq(json_string_value(json_object_get(a, "endsAt")),
                         "2025-11-07T11:05:00Z");
        ck_assert_str_eq(json_string_value(json_object_get(a, "generatorURL")),
                         "http://reducerd:9465/v1/alerts?rule=r1");
        a = json_array_get(j, 1);
        ck_assert_str_eq(json_string_value(json_object_get(a, "endsAt")),
                         "2025-11-07T10:01:00Z");
        json_decref(j);
        /* no base: no generatorURL; an end before the start is clamped */
        red_buf_reset(&b);
        n[1].ends_at = t - 1;
        red_alert_notify_am(&n[1], 1, t, "", &b);
        j = json_loads(b.data, 0, NULL);
        a = json_array_get(j, 0);
        ck_assert_ptr_null(json_object_get(a, "generatorURL"));
        ck_assert_str_eq(json_string_value(json_object_get(a, "endsAt")),
                         "2025-11-07T10:00:00Z");
        json_decref(j);
        red_buf_reset(&b);
        red_alert_notify_webhook(&n[0], NULL, &b);
        j = json_loads(b.data, 0, NULL);
        ck_assert_ptr_nonnull(j);
        ck_assert_str_eq(json_string_value(json_object_get(j, "alert_id")),
                         n[0].alert_id);
        ck_assert_str_eq(json_string_value(json_object_get(j, "status")),
                         "firing");
        ck_assert(json_is_null(json_object_get(j, "ends_at")));
        ck_assert(json_is_null(json_object_get(j, "generator_url")));
        ck_assert(json_integer_value(json_object_get(
                          json_object_get(j, "alert"), "x")) == 1);
        json_decref(j);
        red_buf_destroy(&b);
}
END_TEST

START_TEST(hmac_sha256)
{
        char hex[RED_HMAC_HEX_SIZE];
        const char *msg = "what do ya want for nothing?";
        const void *parts[2] = {msg, msg + 10};
        size_t lens[2] = {10, strlen(msg) - 10};
        const void *one[1] = {msg};
        size_t one_len[1] = {strlen(msg)};

        /* RFC 4231 test case 2, the message in one part and in two */
        ck_assert_int_eq(red_hmac_sha256_hex("Jefe", 4, one, one_len, 1, hex),
                         0);
        ck_assert_str_eq(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739"
                              "839dec58b964ec3843");
        ck_assert_int_eq(red_hmac_sha256_hex("Jefe", 4, parts, lens, 2, hex),
                         0);
        ck_assert_str_eq(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739"
                              "839dec58b964ec3843");
}
END_TEST

START_TEST(sha256)
{
        static const unsigned char abc[RED_HMAC_SHA256_SIZE] = {
                0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
                0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
                0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
                0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
        const void *parts[3] = {"a", "", "bc"};
        size_t lens[3] = {1, 0, 2};
        unsigned char md[RED_HMAC_SHA256_SIZE];
        red_hmac_hasher_t *h = red_hmac_hasher_new();

        /* FIPS 180-2's "abc", in parts (an empty one too), twice: the
         * context is reused */
        ck_assert_ptr_nonnull(h);
        for (int round = 0; round < 2; round++) {
                memset(md, 0, sizeof(md));
                ck_assert_int_eq(red_hmac_hasher_sha256(h, parts, lens, 3, md),
                                 0);
                ck_assert_mem_eq(md, abc, sizeof(abc));
        }
        red_hmac_hasher_destroy(h);
        red_hmac_hasher_destroy(NULL);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("alert_window");
        TCase *tc = tcase_create("alert_window");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, shipped_rules);
        tcase_add_test(tc, judging_cells);
        tcase_add_test(tc, instance_states);
        tcase_add_test(tc, window_alert_rendering);
        tcase_add_test(tc, alertmanager_and_webhook_bodies);
        tcase_add_test(tc, hmac_sha256);
        tcase_add_test(tc, sha256);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        return test_main(suite());
}
