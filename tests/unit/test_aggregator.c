/*
 * Tests for red_aggregator: every event goes to every window type and
 * every grouping whose dimensions it has (calendar windows at their
 * boundaries, bucket and field dimensions, defaults and constants), the
 * cells' values and output order, merging batch deltas into one result,
 * and enrichment (node type and domain a Failed event takes from its
 * workflow) as the core runs it: FSM engine first, then the aggregator.
 */
#include "red_aggregator.h"
#include "red_fsm.h"
#include "red_rows.h"
#include "red_test.h"
#include "red_workflows.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define T_STARTED   "dev.omninode-bridge.codegen.generation-started.v1"
#define T_STAGE     "dev.omninode-bridge.codegen.stage-completed.v1"
#define T_COMPLETED "dev.omninode-bridge.codegen.generation-completed.v1"
#define T_FAILED    "dev.omninode-bridge.codegen.generation-failed.v1"
#define T_WORKFLOW  "dev.omninode-bridge.codegen.workflow.v1"
#define T_ROUTING   "dev.agent.metrics.routing.v1"
#define WF          "d0000000-0000-4000-8000-0000000000" /* + 2 digits */

static red_contract_t *cg; /* contracts/codegen_metrics.yaml */
static red_contract_t *am; /* contracts/agent_metrics.yaml */
static red_time_t now;

static test_event_t *evs[64];
static size_t ev_cnt;

static void setup(void)
{
        cg = test_contract("contracts/codegen_metrics.yaml");
        am = test_contract("contracts/agent_metrics.yaml");
        now = test_time("2025-12-31T00:00:00Z");
        ev_cnt = 0;
}

static void teardown(void)
{
        for (size_t i = 0; i < ev_cnt; i++) {
                test_event_free(evs[i]);
        }
        red_contract_destroy(cg);
        red_contract_destroy(am);
}

static red_event_t *keep(test_event_t *te)
{
        ck_assert_uint_lt(ev_cnt, sizeof(evs) / sizeof(evs[0]));
        evs[ev_cnt++] = te;
        return &te->ev;
}

/* ------------------------------------------------------------------ */
/* events                                                              */
/* ------------------------------------------------------------------ */

/* Workflow n's id (n < 100; static buffer rotation of 4). */
static const char *wf(int n)
{
        static char ids[4][40];
        static int next;
        char *b = ids[next++ % 4];

        snprintf(b, sizeof(ids[0]), WF "%02d", n);
        return b;
}

/* The node_type and domain members (each left out when NULL). */
static const char *dims(const char *node, const char *domain)
{
        static char out[4][128];
        static int next;
        char *b = out[next++ % 4];
        int len = 0;

        b[0] = '\0';
        if (node) {
                len = snprintf(b, sizeof(out[0]), ",\"node_type\":\"%s\"",
                               node);
        }
        if (domain) {
                snprintf(b + len, sizeof(out[0]) - (size_t)len,
                         ",\"domain\":\"%s\"", domain);
        }
        return b;
}

static red_event_t *started(int w, const char *iso, const char *node,
                            const char *domain)
{
        return keep(test_event(cg, T_STARTED, 0, (int64_t)ev_cnt, now,
                               "{\"event_type\":\"NODE_GENERATION_STARTED\","
                               "\"timestamp\":\"%s\",\"workflow_id\":\"%s\"%s}",
                               iso, wf(w), dims(node, domain)));
}

/* @p more: further members, starting with a comma, or "". */
static red_event_t *completed(int w, const char *iso, const char *node,
                              const char *domain, double seconds,
                              double quality, const char *more)
{
        return keep(test_event(cg, T_COMPLETED, 0, (int64_t)ev_cnt, now,
                               "{\"event_type\":\"NODE_GENERATION_COMPLETED\","
                               "\"timestamp\":\"%s\",\"workflow_id\":\"%s\"%s,"
                               "\"total_duration_seconds\":%g,"
                               "\"quality_score\":%g%s}",
                               iso, wf(w), dims(node, domain), seconds, quality,
                               more));
}

static red_event_t *failed(int w, const char *iso, const char *node,
                           const char *domain, const char *stage)
{
        return keep(test_event(cg, T_FAILED, 0, (int64_t)ev_cnt, now,
                               "{\"event_type\":\"NODE_GENERATION_FAILED\","
                               "\"timestamp\":\"%s\",\"workflow_id\":\"%s\"%s,"
                               "\"failed_stage\":\"%s\"}",
                               iso, wf(w), dims(node, domain), stage));
}

static red_event_t *stage(int w, const char *iso, const char *name, int number,
                          double ms, bool success)
{
        return keep(test_event(cg, T_STAGE, 0, (int64_t)ev_cnt, now,
                               "{\"event_type\":\"NODE_GENERATION_STAGE_"
                               "COMPLETED\",\"timestamp\":\"%s\","
                               "\"workflow_id\":\"%s\",\"stage_name\":\"%s\","
                               "\"stage_number\":%d,\"duration_ms\":%g,"
                               "\"success\":%s}",
                               iso, wf(w), name, number, ms,
                               success ? "true" : "false"));
}

static red_event_t *metric(const char *name, double value, const char *agent,
                           const char *iso)
{
        char agent_json[128] = "";

        if (agent) {
                snprintf(agent_json, sizeof(agent_json), ",\"agent_id\":\"%s\"",
                         agent);
        }
        return keep(test_event(am, T_ROUTING, 0, (int64_t)ev_cnt, now,
                               "{\"event_type\":\"metric.recorded\","
                               "\"timestamp\":\"%s\",\"metric_id\":\"m%zu\","
                               "\"metric_name\":\"%s\",\"metric_type\":"
                               "\"gauge\",\"value\":%g,\"unit\":\"u\"%s}",
                               iso, ev_cnt, name, value, agent_json));
}

/* ------------------------------------------------------------------ */
/* cells                                                               */
/* ------------------------------------------------------------------ */

static red_aggregator_t *ag_new(const red_contract_t *c)
{
        red_aggregator_t *ag = red_aggregator_new(c);

        ck_assert_ptr_nonnull(ag);
        return ag;
}

static void apply(red_aggregator_t *ag, const red_event_t *ev)
{
        ck_assert_int_eq(red_aggregator_apply(ag, ev), 0);
}

static const char *grouping_of(const red_cell_t *cell)
{
        return red_cell_agg(cell)->groupings[red_cell_grouping(cell)].name;
}

/* ------------------------------------------------------------------ */
/* routing: windows x groupings                                        */
/* ------------------------------------------------------------------ */

START_TEST(every_window_every_grouping)
{
        red_aggregator_t *ag = ag_new(cg);
        static const char *const groupings[4] = {
                "node_type_grouping", "quality_buckets", "domain_grouping",
                "time_window"};
        static const char *const keys[4] = {"compute", "medium", "api", "all"};
        /* Thursday 2025-11-06 12:34:56: the hour, the day, the ISO week
         * from Monday 11-03, the month */
        static const char *const starts[4][2] = {
                {"2025-11-06T12:00:00Z", "2025-11-06T13:00:00Z"},
                {"2025-11-06T00:00:00Z", "2025-11-07T00:00:00Z"},
                {"2025-11-03T00:00:00Z", "2025-11-10T00:00:00Z"},
                {"2025-11-01T00:00:00Z", "2025-12-01T00:00:00Z"}};
        red_cell_t **cells;
        size_t n;

        apply(ag, completed(1, "2025-11-06T12:34:56Z", "compute", "api", 10,
                            0.75, ""));
        cells = red_aggregator_cells(ag, &n);
        ck_assert_uint_eq(n, 16);
        ck_assert_uint_eq(red_aggregator_count(ag), 16);
        /* output order: window type, start, grouping, keys */
        for (int w = 0; w < 4; w++) {
                for (int g = 0; g < 4; g++) {
                        red_cell_t *cell = cells[w * 4 + g];
                        json_t *j = test_cell_row(cell);

                        ck_assert_int_eq(red_cell_window_type(cell), w);
                        ck_assert_int_eq(red_cell_window_start(cell),
                                         test_time(starts[w][0]));
                        ck_assert_int_eq(red_cell_window_end(cell),
                                         test_time(starts[w][1]));
                        ck_assert_str_eq(grouping_of(cell), groupings[g]);
                        ck_assert_str_eq(red_cell_key(cell, 0), keys[g]);
                        ck_assert_uint_eq(red_cell_events(cell), 1);
                        ck_assert_str_eq(json_string_value(json_object_get(
                                                 j, "aggregation_type")),
                                         groupings[g]);
                        ck_assert_str_eq(json_string_value(json_object_get(
                                                 j, "group_key")),
                                         keys[g]);
                        ck_assert_str_eq(json_string_value(json_object_get(
                                                 j, "window_start")),
                                         starts[w][0]);
                        ck_assert_double_eq(
                                test_json_number(j, "successful_generations",
                                                 NULL),
                                1);
                        json_decref(j);
                }
        }
        red_aggregator_destroy(ag);
        red_aggregator_destroy(NULL);
}
END_TEST

START_TEST(groupings_need_their_dimensions)
{
        red_aggregator_t *ag = ag_new(cg);
        red_cell_t **cells;
        size_t n;

        /* a stage event has no quality score (quality_buckets has no
         * default: skipped) and no node type or domain (default
         * "unknown") */
        apply(ag, stage(1, "2025-11-06T10:00:00Z", "parse", 1, 5, true));
        cells = red_aggregator_cells(ag, &n);
        ck_assert_uint_eq(n, 12);
        for (size_t i = 0; i < n; i++) {
                ck_assert_str_ne(grouping_of(cells[i]), "quality_buckets");
                ck_assert_str_eq(red_cell_key(cells[i], 0),
                                 strcmp(grouping_of(cells[i]), "time_window")
                                         ? "unknown"
                                         : "all");
        }
        /* no started/completed/failed: counts are zero, not absent */
        ck_assert_double_eq(test_cell_number(test_cell(ag, RED_WINDOW_HOURLY,
                                                       "2025-11-06T10:00:00Z",
                                                       "time_window", "all"),
                                             "total_generations"),
                            0);
        red_aggregator_destroy(ag);

        /* agent metrics: per_agent needs agent_id, per_metric has the
         * constant "*" as its second key */
        ag = ag_new(am);
        apply(ag, metric("state_get_time_ms", 3, NULL, "2025-11-06T10:00:00Z"));
        cells = red_aggregator_cells(ag, &n);
        ck_assert_uint_eq(n, 2);
        for (size_t i = 0; i < n; i++) {
                ck_assert_str_eq(grouping_of(cells[i]), "per_metric");
                ck_assert_str_eq(red_cell_key(cells[i], 0),
                                 "state_get_time_ms");
                ck_assert_str_eq(red_cell_key(cells[i], 1), "*");
        }
        apply(ag, metric("state_get_time_ms", 5, "a7", "2025-11-06T10:30:00Z"));
        cells = red_aggregator_cells(ag, &n);
        ck_assert_uint_eq(n, 4);
        ck_assert_str_eq(red_cell_key(cells[0], 1), "*");
        ck_assert_str_eq(grouping_of(cells[1]), "per_agent");
        ck_assert_str_eq(red_cell_key(cells[1], 1), "a7");
        ck_assert_uint_eq(red_cell_events(cells[0]), 2);
        ck_assert_uint_eq(red_cell_events(cells[1]), 1);
        ck_assert_double_eq(test_cell_number(cells[0], "sum"), 8);
        ck_assert_double_eq(test_cell_number(cells[1], "sum"), 5);
        red_aggregator_destroy(ag);
}
END_TEST

START_TEST(calendar_boundaries)
{
        red_aggregator_t *ag = ag_new(cg);
        /* Sunday 11-30 ends the week of 11-24 and the month; Monday 12-01
         * 00:00 starts a new hour, day, week and month */
        static const char *const times[] = {
                "2025-11-30T23:59:59.999999Z", "2025-12-01T00:00:00Z",
                "2025-12-01T00:59:59Z", "2025-12-07T23:59:59Z"};
        static const struct {
                red_window_type_t wt;
                const char *start;
                double started;
        } want[] = {
                {RED_WINDOW_HOURLY, "2025-11-30T23:00:00Z", 1},
                {RED_WINDOW_HOURLY, "2025-12-01T00:00:00Z", 2},
                {RED_WINDOW_HOURLY, "2025-12-07T23:00:00Z", 1},
                {RED_WINDOW_DAILY, "2025-11-30T00:00:00Z", 1},
                {RED_WINDOW_DAILY, "2025-12-01T00:00:00Z", 2},
                {RED_WINDOW_DAILY, "2025-12-07T00:00:00Z", 1},
                {RED_WINDOW_WEEKLY, "2025-11-24T00:00:00Z", 1},
                {RED_WINDOW_WEEKLY, "2025-12-01T00:00:00Z", 3},
                {RED_WINDOW_MONTHLY, "2025-11-01T00:00:00Z", 1},
                {RED_WINDOW_MONTHLY, "2025-12-01T00:00:00Z", 3},
        };
        const size_t nwant = sizeof(want) / sizeof(want[0]);

        for (size_t i = 0; i < 4; i++) {
                apply(ag, started((int)i, times[i], "effect", "ml"));
        }
        /* three groupings with a key (no quality: no bucket) */
        ck_assert_uint_eq(red_aggregator_count(ag), nwant * 3);
        for (size_t i = 0; i < nwant; i++) {
                red_cell_t *cell = test_cell(ag, want[i].wt, want[i].start,
                                             "time_window", "all");
                ck_assert_double_eq(
                        test_cell_number(cell, "started_generations"),
                        want[i].started);
                cell = test_cell(ag, want[i].wt, want[i].start,
                                 "node_type_grouping", "effect");
                ck_assert_double_eq(
                        test_cell_number(cell, "started_generations"),
                        want[i].started);
        }
        red_aggregator_destroy(ag);
}
END_TEST

START_TEST(dimension_texts)
{
        const red_dim_t *bucket = NULL, *all = NULL, *node = NULL;
        red_dim_t by_number = {.kind = RED_DIM_FIELD}, by_flag, by_id, by_dur;
        static const struct {
                double q;
                const char *bucket;
        } qs[] = {{0, "low"},         {0.5999, "low"}, {0.6, "medium"},
                  {0.7999, "medium"}, {0.8, "high"},   {1, "high"}};
        char buf[48];
        const char *p;
        size_t len;
        red_event_t *ev;

        for (size_t i = 0; i < cg->dim_cnt; i++) {
                if (!strcmp(cg->dims[i].name, "quality_bucket")) {
                        bucket = &cg->dims[i];
                } else if (!strcmp(cg->dims[i].name, "all")) {
                        all = &cg->dims[i];
                } else if (!strcmp(cg->dims[i].name, "node_type")) {
                        node = &cg->dims[i];
                }
        }
        ck_assert(bucket && all && node);
        /* buckets: the first whose `below` is greater than the value */
        for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
                ev = completed(1, "2025-11-06T10:00:00Z", NULL, NULL, 1,
                               qs[i].q, "");
                ck_assert(red_aggregator_dim_text(bucket, ev, buf, &p, &len));
                ck_assert_msg(len == strlen(qs[i].bucket) &&
                                      !memcmp(p, qs[i].bucket, len),
                              "%g: %.*s", qs[i].q, (int)len, p);
                /* an absent field takes the default; a constant is itself */
                ck_assert(red_aggregator_dim_text(node, ev, buf, &p, &len));
                ck_assert_int_eq(len, 7);
                ck_assert_int_eq(memcmp(p, "unknown", 7), 0);
                ck_assert(red_aggregator_dim_text(all, ev, buf, &p, &len));
                ck_assert_int_eq(len, 3);
                ck_assert_int_eq(memcmp(p, "all", 3), 0);
        }
        ev = started(1, "2025-11-06T10:00:00Z", "reducer", NULL);
        ck_assert(red_aggregator_dim_text(node, ev, buf, &p, &len));
        ck_assert_int_eq(len, 7);
        ck_assert_int_eq(memcmp(p, "reducer", 7), 0);
        /* no score, no default: no text */
        ck_assert(!red_aggregator_dim_text(bucket, ev, buf, &p, &len));

        /* field dimensions over integers, booleans and uuids as text */
        ev = stage(7, "2025-11-06T10:00:00Z", "x", 4, 12.5, false);
        by_number.slot = red_contract_slot(cg, "stage_number");
        by_flag = by_number;
        by_flag.slot = red_contract_slot(cg, "success");
        by_id = by_number;
        by_id.slot = red_contract_slot(cg, "workflow_id");
        by_dur = by_number;
        by_dur.slot = red_contract_slot(cg, "duration_ms");
        ck_assert(red_aggregator_dim_text(&by_number, ev, buf, &p, &len));
        ck_assert_int_eq(len, 1);
        ck_assert_int_eq(p[0], '4');
        ck_assert(red_aggregator_dim_text(&by_flag, ev, buf, &p, &len));
        ck_assert_int_eq(len, 5);
        ck_assert_int_eq(memcmp(p, "false", 5), 0);
        ck_assert(red_aggregator_dim_text(&by_id, ev, buf, &p, &len));
        ck_assert_int_eq(len, 36);
        ck_assert_int_eq(memcmp(p, wf(7), 36), 0);
        /* a number is no group key */
        ck_assert(!red_aggregator_dim_text(&by_dur, ev, buf, &p, &len));
        by_dur.def = "n/a";
        ck_assert(red_aggregator_dim_text(&by_dur, ev, buf, &p, &len));
        ck_assert_int_eq(len, 3);
}
END_TEST

/* ------------------------------------------------------------------ */
/* values                                                              */
/* ------------------------------------------------------------------ */

/* One hour of node type compute: three completed, one failed, two stages. */
static void hour_of_compute(red_aggregator_t *ag, int first)
{
        apply(ag, completed(first, "2025-11-06T10:01:00Z", "compute", "api", 10,
                            0.5,
                            ",\"total_tokens\":100,"
                            "\"total_cost_usd\":0.1"));
        apply(ag,
              completed(first + 1, "2025-11-06T10:02:00Z", "compute", "api", 20,
                        0.7, ",\"total_tokens\":200,\"total_cost_usd\":0.2"));
        /* no tokens or cost (the FSM engine would fill in its workflow's
         * stage sums, red_fsm: none here), so no figure in the averages */
        apply(ag, completed(first + 2, "2025-11-06T10:03:00Z", "compute",
                            "data", 60, 0.9, ""));
        apply(ag, failed(first + 3, "2025-11-06T10:04:00Z", "compute", "api",
                         "stage3"));
        apply(ag, stage(first, "2025-11-06T10:05:00Z", "parse", 1, 100, true));
        apply(ag,
              stage(first + 1, "2025-11-06T10:06:00Z", "parse", 1, 300, false));
}

START_TEST(cell_values)
{
        red_aggregator_t *ag = ag_new(cg);
        red_cell_t *cell;
        json_t *j, *st;
        double p50;

        hour_of_compute(ag, 1);
        cell = test_cell(ag, RED_WINDOW_HOURLY, "2025-11-06T10:00:00Z",
                         "time_window", "all");
        ck_assert_uint_eq(red_cell_events(cell), 6);
        j = test_cell_row(cell);
        ck_assert_double_eq(test_json_number(j, "started_generations", NULL),
                            0);
        ck_assert_double_eq(test_json_number(j, "total_generations", NULL), 4);
        ck_assert_double_eq(test_json_number(j, "successful_generations", NULL),
                            3);
        ck_assert_double_eq(test_json_number(j, "failed_generations", NULL), 1);
        ck_assert_double_eq(test_json_number(j, "success_rate", NULL), 0.75);
        ck_assert_double_eq(
                test_json_number(j, "duration_statistics", "avg_seconds", NULL),
                30);
        ck_assert_double_eq(
                test_json_number(j, "duration_statistics", "min_seconds", NULL),
                10);
        ck_assert_double_eq(
                test_json_number(j, "duration_statistics", "max_seconds", NULL),
                60);
        /* a sketch quantile: within the 1 % relative accuracy */
        p50 = test_json_number(j, "duration_statistics", "p50_seconds", NULL);
        ck_assert_double_le(fabs(p50 - 20), 0.2);
        ck_assert_double_eq_tol(
                test_json_number(j, "quality_statistics", "avg_score", NULL),
                0.7, 1e-9);
        ck_assert_double_eq(
                test_json_number(j, "quality_statistics", "min_score", NULL),
                0.5);
        ck_assert_double_eq(
                test_json_number(j, "cost_statistics", "total_tokens", NULL),
                300);
        ck_assert_double_eq_tol(
                test_json_number(j, "cost_statistics", "total_cost_usd", NULL),
                0.3, 1e-9);
        ck_assert_double_eq(test_json_number(j, "cost_statistics",
                                             "avg_tokens_per_generation", NULL),
                            150);
        st = json_object_get(json_object_get(j, "stage_statistics"), "parse");
        ck_assert_ptr_nonnull(st);
        ck_assert_double_eq(test_json_number(st, "total_executions", NULL), 2);
        ck_assert_double_eq(test_json_number(st, "failure_count", NULL), 1);
        ck_assert_double_eq(test_json_number(st, "avg_duration_ms", NULL), 200);
        ck_assert_double_le(
                fabs(test_json_number(st, "p95_duration_ms", NULL) - 300), 3);
        ck_assert_double_eq(
                test_json_number(j, "failed_stage_counts", "stage3", NULL), 1);
        json_decref(j);

        /* groupings split the same events: domains api and data */
        ck_assert_double_eq(
                test_cell_number(test_cell(ag, RED_WINDOW_HOURLY,
                                           "2025-11-06T10:00:00Z",
                                           "domain_grouping", "api"),
                                 "total_generations"),
                3);
        ck_assert_double_eq(
                test_cell_number(test_cell(ag, RED_WINDOW_HOURLY,
                                           "2025-11-06T10:00:00Z",
                                           "domain_grouping", "data"),
                                 "total_generations"),
                1);
        /* quality buckets count completed events only */
        ck_assert_double_eq(
                test_cell_number(test_cell(ag, RED_WINDOW_DAILY,
                                           "2025-11-06T00:00:00Z",
                                           "quality_buckets", "low"),
                                 "successful_generations"),
                1);
        ck_assert_double_eq(
                test_cell_number(test_cell(ag, RED_WINDOW_DAILY,
                                           "2025-11-06T00:00:00Z",
                                           "quality_buckets", "high"),
                                 "total_generations"),
                1);
        red_aggregator_destroy(ag);
}
END_TEST

START_TEST(alternating_keys_and_clear)
{
        red_aggregator_t *ag = ag_new(cg);

        /* events alternate between two cells of every window: each keeps
         * its own count */
        for (int i = 0; i < 10; i++) {
                apply(ag, started(i, "2025-11-06T10:00:00Z",
                                  i % 2 ? "effect" : "compute", "api"));
        }
        ck_assert_double_eq(
                test_cell_number(test_cell(ag, RED_WINDOW_MONTHLY,
                                           "2025-11-01T00:00:00Z",
                                           "node_type_grouping", "effect"),
                                 "started_generations"),
                5);
        ck_assert_double_eq(
                test_cell_number(test_cell(ag, RED_WINDOW_HOURLY,
                                           "2025-11-06T10:00:00Z",
                                           "domain_grouping", "api"),
                                 "started_generations"),
                10);
        ck_assert_uint_eq(red_aggregator_count(ag), 16);
        /* a cleared aggregator starts from nothing, also for the cell it
         * applied to last */
        red_aggregator_clear(ag);
        ck_assert_uint_eq(red_aggregator_count(ag), 0);
        apply(ag, started(20, "2025-11-06T10:00:00Z", "effect", "api"));
        ck_assert_uint_eq(red_aggregator_count(ag), 12);
        ck_assert_double_eq(
                test_cell_number(test_cell(ag, RED_WINDOW_HOURLY,
                                           "2025-11-06T10:00:00Z",
                                           "node_type_grouping", "effect"),
                                 "started_generations"),
                1);
        red_aggregator_destroy(ag);
}
END_TEST

/*
 * A value no sum can take (the decoder keeps these out; only a caller that
 * bypasses it gets one) fails the event with -ERANGE, not -ENOMEM, so the
 * pipeline's log says what went wrong.
 */
START_TEST(out_of_range_is_erange)
{
        red_aggregator_t *ag = ag_new(am);
        red_event_t *ev;
        int slot = red_contract_slot(am, "value");

        ck_assert_int_ge(slot, 0);
        apply(ag, metric("state_get_time_ms", 3, NULL, "2025-11-06T10:00:00Z"));
        ev = metric("state_get_time_ms", 4, NULL, "2025-11-06T10:05:00Z");
        ck_assert_int_eq(ev->values[slot].type, RED_FT_NUMBER);
        ev->values[slot].d = 1e300;
        ck_assert_int_eq(red_aggregator_apply(ag, ev), -ERANGE);
        ev->values[slot].d = -1e300;
        ck_assert_int_eq(red_aggregator_apply(ag, ev), -ERANGE);
        red_aggregator_destroy(ag);
}
END_TEST

/* ------------------------------------------------------------------ */
/* merging deltas                                                      */
/* ------------------------------------------------------------------ */

static void merge_into(red_aggregator_t *dst, red_aggregator_t *src)
{
        char err[256];
        size_t n;
        red_cell_t **cells = red_aggregator_cells(src, &n);

        for (size_t i = 0; i < n; i++) {
                ck_assert_int_eq(red_aggregator_merge_cell(dst, cells[i], err,
                                                           sizeof(err)),
                                 0);
        }
}

/* Every row of @p ag, one per line (malloc'd). */
static char *rows_text(red_aggregator_t *ag)
{
        red_buf_t b;
        size_t n;
        red_cell_t **cells = red_aggregator_cells(ag, &n);

        red_buf_init(&b);
        for (size_t i = 0; i < n; i++) {
                red_rows_cell_json(cells[i], NULL, &b);
                red_buf_putc(&b, '\n');
        }
        ck_assert(!b.failed);
        return red_buf_steal(&b, NULL);
}

START_TEST(merged_deltas_equal_one_pass)
{
        red_aggregator_t *one = ag_new(cg), *b1 = ag_new(cg), *b2 = ag_new(cg),
                         *result = ag_new(cg);
        char *want, *got;
        size_t n;

        /* batch 1: an hour of compute; batch 2: the same hour again (other
         * workflows) and a failed effect/ml event the next day */
        hour_of_compute(b1, 1);
        hour_of_compute(b2, 11);
        apply(b2, failed(30, "2025-11-07T09:00:00Z", "effect", "ml", "x"));
        for (size_t i = 0; i < ev_cnt; i++) {
                apply(one, &evs[i]->ev);
        }
        merge_into(result, b1);
        /* the first batch's cells arrive alone */
        red_aggregator_cells(b1, &n);
        ck_assert_uint_eq(red_aggregator_count(result), n);
        merge_into(result, b2);
        want = rows_text(one);
        got = rows_text(result);
        ck_assert_str_eq(got, want);
        free(got);
        /* the keys are the union: b1's 9 keys x 4 windows, and b2 adds the
         * effect and ml keys (4 windows each) and the next day's hour and
         * day of time_window (its week and month exist) */
        ck_assert_uint_eq(red_aggregator_count(b1), 36);
        ck_assert_uint_eq(red_aggregator_count(result), 36 + 4 + 4 + 2);
        ck_assert_double_eq(
                test_cell_number(test_cell(result, RED_WINDOW_WEEKLY,
                                           "2025-11-03T00:00:00Z",
                                           "time_window", "all"),
                                 "total_generations"),
                9);

        /* merge adds: a delta merged twice counts twice */
        merge_into(result, b1);
        ck_assert_double_eq(
                test_cell_number(test_cell(result, RED_WINDOW_HOURLY,
                                           "2025-11-06T10:00:00Z",
                                           "node_type_grouping", "compute"),
                                 "total_generations"),
                12);
        free(want);
        red_aggregator_destroy(one);
        red_aggregator_destroy(b1);
        red_aggregator_destroy(b2);
        red_aggregator_destroy(result);
}
END_TEST

/* ------------------------------------------------------------------ */
/* enrichment                                                          */
/* ------------------------------------------------------------------ */

START_TEST(enriched_dimensions)
{
        red_workflows_t *wfs =
                red_workflows_new(0, -1, cg->fsm->terminal, cg->remember_cnt);
        red_fsm_engine_t *eng = red_fsm_engine_new(cg, wfs);
        red_aggregator_t *ag = ag_new(cg);
        red_fsm_rows_t rows = {0};
        red_event_t *seq[5];
        const char *hour = "2025-11-06T10:00:00Z";

        ck_assert_ptr_nonnull(eng);
        /* workflow 1 started as compute/api, fails without them; workflow
         * 2 is initialised explicitly as a reducer and completes without a
         * node type; workflow 3 was never seen */
        seq[0] = started(1, "2025-11-06T10:00:00Z", "compute", "api");
        seq[1] = failed(1, "2025-11-06T10:01:00Z", NULL, NULL, "stage2");
        seq[2] = keep(test_event(cg, T_WORKFLOW, 0, 99, now,
                                 "{\"event_type\":\"WORKFLOW_INITIALIZED\","
                                 "\"timestamp\":\"2025-11-06T10:02:00Z\","
                                 "\"workflow_id\":\"%s\","
                                 "\"node_type\":\"reducer\"}",
                                 wf(2)));
        seq[3] = completed(2, "2025-11-06T10:03:00Z", NULL, "testing", 5, 0.95,
                           "");
        seq[4] = failed(3, "2025-11-06T10:04:00Z", NULL, NULL, "stage1");
        for (int i = 0; i < 5; i++) {
                ck_assert_int_eq(red_fsm_engine_apply(eng, seq[i], &rows), 0);
                apply(ag, seq[i]);
        }
        ck_assert_double_eq(
                test_cell_number(test_cell(ag, RED_WINDOW_HOURLY, hour,
                                           "node_type_grouping", "compute"),
                                 "failed_generations"),
                1);
        ck_assert_double_eq(
                test_cell_number(test_cell(ag, RED_WINDOW_HOURLY, hour,
                                           "domain_grouping", "api"),
                                 "failed_generations"),
                1);
        ck_assert_double_eq(
                test_cell_number(test_cell(ag, RED_WINDOW_HOURLY, hour,
                                           "node_type_grouping", "reducer"),
                                 "successful_generations"),
                1);
        /* the event's own domain wins over nothing remembered */
        ck_assert_double_eq(
                test_cell_number(test_cell(ag, RED_WINDOW_HOURLY, hour,
                                           "domain_grouping", "testing"),
                                 "successful_generations"),
                1);
        /* failing that, unknown */
        ck_assert_double_eq(
                test_cell_number(test_cell(ag, RED_WINDOW_HOURLY, hour,
                                           "node_type_grouping", "unknown"),
                                 "failed_generations"),
                1);
        ck_assert_double_eq(
                test_cell_number(test_cell(ag, RED_WINDOW_HOURLY, hour,
                                           "domain_grouping", "unknown"),
                                 "total_generations"),
                1);
        ck_assert_double_eq(
                test_cell_number(test_cell(ag, RED_WINDOW_HOURLY, hour,
                                           "time_window", "all"),
                                 "total_generations"),
                3);
        red_fsm_rows_destroy(&rows);
        red_fsm_engine_destroy(eng);
        red_workflows_destroy(wfs);
        red_aggregator_destroy(ag);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("aggregator");
        TCase *tr = tcase_create("routing");
        TCase *tv = tcase_create("values");
        TCase *tm = tcase_create("merge");
        TCase *te = tcase_create("enrichment");

        tcase_add_checked_fixture(tr, setup, teardown);
        tcase_add_checked_fixture(tv, setup, teardown);
        tcase_add_checked_fixture(tm, setup, teardown);
        tcase_add_checked_fixture(te, setup, teardown);
        tcase_add_test(tr, every_window_every_grouping);
        tcase_add_test(tr, groupings_need_their_dimensions);
        tcase_add_test(tr, calendar_boundaries);
        tcase_add_test(tr, dimension_texts);
        tcase_add_test(tv, cell_values);
        tcase_add_test(tv, alternating_keys_and_clear);
        tcase_add_test(tv, out_of_range_is_erange);
        tcase_add_test(tm, merged_deltas_equal_one_pass);
        tcase_add_test(te, enriched_dimensions);
        suite_add_tcase(s, tr);
        suite_add_tcase(s, tv);
        suite_add_tcase(s, tm);
        suite_add_tcase(s, te);
        return test_main(s);
}
