/*
 * Tests for the query planner (red_query, red_qparam, red_qcols,
 * red_outputs) and the tiling of ranges (red_tiles): parameters are
 * checked with messages that name the parameter and its allowed values;
 * ranges are tiled exactly with the coarsest windows.
 * tests/unit/test_summary.c checks what the summaries compute.
 */
#include "red_cursor.h"
#include "red_outputs.h"
#include "red_qparam.h"
#include "red_query.h"
#include "red_test.h"
#include "red_tiles.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static red_contract_t *cq; /* tests/data/contracts/query.yaml */
static red_contract_t *cg; /* contracts/codegen_metrics.yaml */
static red_contract_t *ca; /* contracts/agent_metrics.yaml */
static const red_contract_t *set[3];

static red_contract_t *load(const char *rel)
{
        char err[2048];
        red_contract_t *c = red_contract_load(test_path(rel), err, sizeof(err));

        ck_assert_msg(c != NULL, "%s", err);
        return c;
}

static void setup(void)
{
        cq = load("tests/data/contracts/query.yaml");
        cg = load("contracts/codegen_metrics.yaml");
        ca = load("contracts/agent_metrics.yaml");
        set[0] = cq;
        set[1] = cg;
        set[2] = ca;
}

static void teardown(void)
{
        red_contract_destroy(cq);
        red_contract_destroy(cg);
        red_contract_destroy(ca);
}

static red_time_t tm(const char *s)
{
        red_time_t t;

        ck_assert_msg(red_time_parse(s, strlen(s), &t) == 0, "%s", s);
        return t;
}

static const red_query_limits_t lim = {
        .max_rows = 5000,
        .max_export_rows = 2000000,
        .now = INT64_C(1780000000000000) /* 2026-05-28T20:26:40Z */};

/* Plans "kind name ?k=v&k=v" (params as a NULL-terminated k, v list). */
static red_query_t *plan(red_query_kind_t kind, const char *name,
                         const char *const *kv, red_query_error_t *err)
{
        red_query_param_t p[32];
        size_t n = 0;

        for (; kv && kv[0]; kv += 2) {
                p[n].name = kv[0];
                p[n++].value = kv[1];
        }
        return red_query_plan(set, 3, kind, name, p, n, &lim, err);
}

static red_query_error_t expect_error(red_query_kind_t kind, const char *name,
                                      const char *const *kv, int status,
                                      const char *param)
{
        red_query_error_t err;
        red_query_t *q = plan(kind, name, kv, &err);

        ck_assert_msg(q == NULL, "planned although it should fail on %s",
                      param);
        ck_assert_int_eq(err.status, status);
        ck_assert_str_eq(err.param, param);
        return err;
}

/* ------------------------------------------------------------------ */
/* tiles                                                               */
/* ------------------------------------------------------------------ */

static uint32_t mask(const char *const *names)
{
        uint32_t m = 0;

        for (; *names; names++) {
                red_window_type_t wt;
                ck_assert_int_eq(red_window_type_parse(*names, &wt), 0);
                m |= 1u << wt;
        }
        return m;
}

/* The runs cover [cf, ct) exactly, in order, on their own boundaries
 * (in zone @p tz). */
static void check_cover_tz(const red_tile_t *t, size_t n, red_time_t cf,
                           red_time_t ct, const red_tz_t *tz)
{
        red_time_t at = cf;

        ck_assert_uint_gt(n, 0);
        for (size_t i = 0; i < n; i++) {
                red_time_t s = t[i].from;
                size_t w = 0;
                ck_assert_int_eq(t[i].from, at);
                ck_assert_int_eq(red_window_start_tz(t[i].wt, s, tz), s);
                while (s < t[i].to) {
                        s = red_window_end_tz(t[i].wt, s, tz);
                        w++;
                }
                ck_assert_int_eq(s, t[i].to);
                ck_assert_uint_eq(w, t[i].windows);
                at = t[i].to;
        }
        ck_assert_int_eq(at, ct);
}

static void check_cover(const red_tile_t *t, size_t n, red_time_t cf,
                        red_time_t ct)
{
        check_cover_tz(t, n, cf, ct, NULL);
}

START_TEST(tiles_ninety_days)
{
        static const char *const all[] = {"hourly", "daily", "weekly",
                                          "monthly", NULL};
        red_tile_t *t;
        size_t n;
        red_time_t cf, ct;

        /* 2026-01-01 .. 2026-04-01: three whole months, nothing else */
        ck_assert_int_eq(red_tiles_plan(mask(all), NULL, tm("2026-01-01"),
                                        tm("2026-04-01"), &cf, &ct, &t, &n),
                         0);
        ck_assert_uint_eq(n, 1);
        ck_assert_int_eq(t[0].wt, RED_WINDOW_MONTHLY);
        ck_assert_uint_eq(t[0].windows, 3);
        check_cover(t, n, cf, ct);
        free(t);

        /* unaligned edges are rounded outward to hours; hours, days and
         * weeks at the edges, months in the middle */
        ck_assert_int_eq(
                red_tiles_plan(mask(all), NULL, tm("2026-01-14T10:30:00Z"),
                               tm("2026-04-13T05:00:01Z"), &cf, &ct, &t, &n),
                0);
        ck_assert_int_eq(cf, tm("2026-01-14T10:00:00Z"));
        ck_assert_int_eq(ct, tm("2026-04-13T06:00:00Z"));
        check_cover(t, n, cf, ct);
        ck_assert_int_eq(t[0].wt, RED_WINDOW_HOURLY);
        ck_assert_uint_eq(t[0].windows, 14);
        for (size_t i = 0; i < n; i++) {
                if (t[i].wt == RED_WINDOW_MONTHLY) {
                        ck_assert_int_eq(t[i].from, tm("2026-02-01"));
                        ck_assert_int_eq(t[i].to, tm("2026-04-01"));
                }
        }
        /* left: 14 h, 4 days (15..18 Jan), the ISO week from Monday
         * 19 Jan, 6 days (26..31 Jan); 2 months; right: 5 days (1..5 Apr),
         * the week from Monday 6 Apr, 6 h: 8 runs, 37 windows */
        ck_assert_uint_eq(n, 8);
        {
                size_t windows = 0;
                for (size_t i = 0; i < n; i++) {
                        windows += t[i].windows;
                }
                ck_assert_uint_eq(windows, 14 + 4 + 1 + 6 + 2 + 5 + 1 + 6);
        }
        free(t);
}
END_TEST

START_TEST(tiles_nesting)
{
        static const char *const wm[] = {"weekly", "monthly", NULL};
        static const char *const daily[] = {"daily", NULL};
        red_tile_t *t;
        size_t n;
        red_time_t cf, ct;

        /* months do not start on Mondays: with weeks finest, no months */
        ck_assert_int_eq(red_tiles_plan(mask(wm), NULL, tm("2026-01-01"),
                                        tm("2026-06-01"), &cf, &ct, &t, &n),
                         0);
        check_cover(t, n, cf, ct);
        for (size_t i = 0; i < n; i++) {
                ck_assert_int_eq(t[i].wt, RED_WINDOW_WEEKLY);
        }
        ck_assert_int_eq(cf, tm("2025-12-29"));
        free(t);
        /* only days: rounded outward to days */
        ck_assert_int_eq(
                red_tiles_plan(mask(daily), NULL, tm("2026-03-03T12:00:00Z"),
                               tm("2026-03-05T00:00:01Z"), &cf, &ct, &t, &n),
                0);
        ck_assert_int_eq(cf, tm("2026-03-03"));
        ck_assert_int_eq(ct, tm("2026-03-06"));
        ck_assert_uint_eq(n, 1);
        ck_assert_uint_eq(t[0].windows, 3);
        free(t);
        ck_assert_int_eq(red_tiles_plan(0, NULL, 0, 1, &cf, &ct, &t, &n),
                         -EINVAL);
        ck_assert_int_eq(
                red_tiles_plan(mask(daily), NULL, 5, 5, &cf, &ct, &t, &n),
                -EINVAL);
}
END_TEST

static uint64_t rnd(uint64_t *x)
{
        uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
}

START_TEST(tiles_random_ranges)
{
        static const char *const sets[][5] = {
                {"hourly", "daily", "weekly", "monthly", NULL},
                {"hourly", "daily", NULL},
                {"hourly", "monthly", NULL},
                {"daily", "weekly", NULL},
        };
        uint64_t x = 42;

        for (int i = 0; i < 2000; i++) {
                uint32_t m = mask(sets[i % 4]);
                red_time_t from = tm("2024-01-01") +
                                  (red_time_t)(rnd(&x) % (800 * 86400ull)) *
                                          RED_TIME_US_PER_SEC;
                red_time_t to = from + 1 +
                                (red_time_t)(rnd(&x) % (400 * 86400ull)) *
                                        RED_TIME_US_PER_SEC;
                red_time_t cf, ct;
                red_tile_t *t;
                size_t n, hours = 0;
                ck_assert_int_eq(
                        red_tiles_plan(m, NULL, from, to, &cf, &ct, &t, &n), 0);
                ck_assert_int_le(cf, from);
                ck_assert_int_ge(ct, to);
                check_cover(t, n, cf, ct);
                /* the coarsest first: at most two runs of each type */
                for (size_t k = 0; k < n; k++) {
                        hours += t[k].wt == RED_WINDOW_HOURLY;
                        ck_assert(k == 0 || t[k].wt != t[k - 1].wt);
                }
                ck_assert_uint_le(hours, 2);
                free(t);
        }
}
END_TEST

/*
 * An aggregation in Europe/Berlin stores local windows: the tiles must be
 * those windows (a range that is one local month is one monthly window,
 * 743 hours long in March), whatever the range.
 */
START_TEST(tiles_time_zone)
{
        static const char *const all[] = {"hourly", "daily", "weekly",
                                          "monthly", NULL};
        char err[256];
        red_tz_t *tz = red_tz_load("Europe/Berlin", err, sizeof(err));
        uint64_t x = 7;
        red_tile_t *t;
        size_t n;
        red_time_t cf, ct;

        ck_assert_msg(tz, "%s", err);
        ck_assert_int_eq(
                red_tiles_plan(mask(all), tz, tm("2026-02-28T23:00:00Z"),
                               tm("2026-03-31T22:00:00Z"), &cf, &ct, &t, &n),
                0);
        ck_assert_uint_eq(n, 1);
        ck_assert_int_eq(t[0].wt, RED_WINDOW_MONTHLY);
        ck_assert_int_eq(t[0].to - t[0].from, 743 * RED_TIME_US_PER_HOUR);
        free(t);
        /* in UTC the same range is hours, days and weeks */
        ck_assert_int_eq(
                red_tiles_plan(mask(all), NULL, tm("2026-02-28T23:00:00Z"),
                               tm("2026-03-31T22:00:00Z"), &cf, &ct, &t, &n),
                0);
        ck_assert_uint_gt(n, 1);
        free(t);
        /* local day edges: 2026-03-29 is 23 hours, 10-25 is 25 */
        ck_assert_int_eq(
                red_tiles_plan(mask(all), tz, tm("2026-03-28T23:30:00Z"),
                               tm("2026-03-29T21:00:00Z"), &cf, &ct, &t, &n),
                0);
        ck_assert_int_eq(cf, tm("2026-03-28T23:00:00Z"));
        ck_assert_int_eq(ct, tm("2026-03-29T21:00:00Z"));
        check_cover_tz(t, n, cf, ct, tz);
        free(t);
        for (int i = 0; i < 500; i++) {
                red_time_t from = tm("2026-01-01") +
                                  (red_time_t)(rnd(&x) % (400 * 86400ull)) *
                                          RED_TIME_US_PER_SEC;
                red_time_t to = from + 1 +
                                (red_time_t)(rnd(&x) % (200 * 86400ull)) *
                                        RED_TIME_US_PER_SEC;
                ck_assert_int_eq(red_tiles_plan(mask(all), tz, from, to, &cf,
                                                &ct, &t, &n),
                                 0);
                ck_assert_int_le(cf, from);
                ck_assert_int_ge(ct, to);
                check_cover_tz(t, n, cf, ct, tz);
                free(t);
        }
        red_tz_destroy(tz);
}
END_TEST

/* ------------------------------------------------------------------ */
/* planning                                                            */
/* ------------------------------------------------------------------ */

START_TEST(plan_series_defaults)
{
        red_query_error_t err;
        const char *kv[] = {"grouping", "node_type_grouping", "group_key",
                            "effect",   "group_key",          "x' OR '1'='1",
                            NULL};
        red_query_t *q = plan(RED_QUERY_SERIES, "codegen_metrics", kv, &err);

        ck_assert_msg(q != NULL, "%s", err.message);
        ck_assert_int_eq(q->window, RED_WINDOW_HOURLY);
        ck_assert_str_eq(q->table, "codegen_metrics_aggregated");
        ck_assert_int_eq(q->to, lim.now);
        ck_assert_int_eq(q->from, lim.now - 24 * RED_TIME_US_PER_HOUR);
        ck_assert_int_eq(q->limit, RED_QUERY_DEFAULT_ROWS);
        /* a value with SQL in it is a value, nothing else */
        ck_assert_uint_eq(q->filter_cnt, 1);
        ck_assert_str_eq(q->filters[0].column, "group_key");
        ck_assert_uint_eq(q->filters[0].value_cnt, 2);
        ck_assert_str_eq(q->filters[0].values[1], "x' OR '1'='1");
        ck_assert_uint_eq(q->order_cnt, 3);
        ck_assert_str_eq(q->cols[0].name, "aggregation_id");
        red_query_destroy(q);
}
END_TEST

START_TEST(plan_bad_parameters)
{
        red_query_error_t e;
        red_buf_t b;
        json_t *doc;

        e = expect_error(RED_QUERY_SERIES, "codegen_metrics",
                         (const char *[]){"window", "minutely", NULL}, 400,
                         "window");
        ck_assert_str_eq(e.allowed, "hourly, daily, weekly, monthly");
        red_buf_init(&b);
        red_query_error_json(&e, &b);
        doc = json_loads(b.data, 0, NULL);
        ck_assert_ptr_nonnull(doc);
        ck_assert_str_eq(json_string_value(json_object_get(
                                 json_object_get(doc, "error"), "parameter")),
                         "window");
        ck_assert_int_eq(json_array_size(json_object_get(
                                 json_object_get(doc, "error"), "allowed")),
                         4);
        json_decref(doc);
        red_buf_destroy(&b);

        e = expect_error(
                RED_QUERY_SUMMARY, "codegen_metrics",
                (const char *[]){"grouping", "x'; DROP TABLE t; --", NULL}, 400,
                "grouping");
        ck_assert_ptr_nonnull(strstr(e.allowed, "node_type_grouping"));
        expect_error(RED_QUERY_SUMMARY, "codegen_metrics",
                     (const char *[]){"grouping", "time_window", "grouping",
                                      "time_window", NULL},
                     400, "grouping");
        e = expect_error(RED_QUERY_SUMMARY, "codegen_metrics",
                         (const char *[]){"colour", "red", NULL}, 400,
                         "colour");
        ck_assert_ptr_nonnull(strstr(e.allowed, "quantiles"));
        ck_assert_ptr_nonnull(strstr(e.allowed, "group_key"));
        expect_error(RED_QUERY_SERIES, "codegen_metrics",
                     (const char *[]){"from", "2026-02-01", "to", "2026-01-01",
                                      NULL},
                     400, "from");
        expect_error(RED_QUERY_SERIES, "codegen_metrics",
                     (const char *[]){"from", "yesterday", NULL}, 400, "from");
        expect_error(RED_QUERY_SERIES, "codegen_metrics",
                     (const char *[]){"limit", "5001", NULL}, 400, "limit");
        expect_error(RED_QUERY_SERIES, "codegen_metrics",
                     (const char *[]){"limit", "-1", NULL}, 400, "limit");
        expect_error(RED_QUERY_SERIES, "codegen_metrics",
                     (const char *[]){"limit", "99999999999999999999999", NULL},
                     400, "limit");
        expect_error(RED_QUERY_SERIES, "codegen_metrics",
                     (const char *[]){"cursor", "bm90IGEgY3Vyc29y", NULL}, 400,
                     "cursor");
        e = expect_error(RED_QUERY_SERIES, "codegen_metrics",
                         (const char *[]){"columns", "group_key,state", NULL},
                         400, "columns");
        ck_assert_ptr_null(strstr(e.allowed, "state"));
        expect_error(RED_QUERY_SERIES, "codegen_metrics",
                     (const char *[]){"format", "xml", NULL}, 400, "format");
        expect_error(RED_QUERY_SERIES, "codegen_metrics",
                     (const char *[]){"format", "prometheus", NULL}, 400,
                     "format");
        expect_error(RED_QUERY_SUMMARY, "codegen_metrics",
                     (const char *[]){"quantiles", "0.5,1.5", NULL}, 400,
                     "quantiles");
        expect_error(RED_QUERY_SUMMARY, "codegen_metrics",
                     (const char *[]){"quantiles", "0.12345", NULL}, 400,
                     "quantiles");
        expect_error(RED_QUERY_TOP, "codegen_metrics",
                     (const char *[]){"by", "duration_statistics", NULL}, 400,
                     "by");
        expect_error(RED_QUERY_TOP, "codegen_metrics",
                     (const char *[]){"by", "started", "n", "1001", NULL}, 400,
                     "n");
        e = expect_error(RED_QUERY_SERIES, "nope", NULL, 404, "");
        ck_assert_ptr_nonnull(strstr(e.allowed, "agent_metrics_rollup"));
        expect_error(RED_QUERY_RAW, "codegen_metrics_aggregated", NULL, 404,
                     "");
        expect_error(RED_QUERY_WORKFLOW, "not-a-uuid", NULL, 404, "");
        expect_error(RED_QUERY_RAW, "agent_routing_metrics",
                     (const char *[]){"tag.", "x", NULL}, 400, "tag.");
        expect_error(RED_QUERY_RAW, "requests_raw",
                     (const char *[]){"request_id", "123", NULL}, 400,
                     "request_id");
        expect_error(RED_QUERY_ALERTS, NULL,
                     (const char *[]){"severity", "LOUD", NULL}, 400,
                     "severity");
        e = expect_error(RED_QUERY_WORKFLOWS, NULL,
                         (const char *[]){"state", "sleeping", NULL}, 400,
                         "state");
        ck_assert_ptr_nonnull(strstr(e.allowed, "validating"));
}
END_TEST

START_TEST(plan_summary_columns)
{
        red_query_error_t err;
        const char *kv[] = {"from",
                            "2026-01-01",
                            "to",
                            "2026-04-01",
                            "quantiles",
                            "0.5,p99_9",
                            "columns",
                            "group_key,duration.p99_9,duration.p75,completed,"
                            "success_rate",
                            NULL};
        red_query_t *q = plan(RED_QUERY_SUMMARY, "codegen_metrics", kv, &err);

        ck_assert_msg(q != NULL, "%s", err.message);
        ck_assert_uint_eq(q->quantile_cnt, 2);
        ck_assert(q->quantiles[1] == 0.999);
        ck_assert_uint_eq(q->col_cnt, 5);
        ck_assert_int_eq(q->cols[0].src, RED_QCOL_KEY);
        ck_assert_int_eq(q->cols[1].src, RED_QCOL_MEASURE);
        /* any quantile of a sketch, named or not in quantiles= */
        ck_assert_int_eq(q->cols[2].src, RED_QCOL_MEASURE);
        ck_assert_int_eq(RED_REF_OUTPUT(q->cols[2].index), RED_OUT_Q0 + 7500);
        ck_assert_int_eq(q->cols[4].src, RED_QCOL_COLUMN);
        ck_assert_uint_eq(q->tile_cnt, 1);
        ck_assert_int_eq(q->grouping, -1);
        red_query_destroy(q);
}
END_TEST

START_TEST(plan_prometheus_bounded)
{
        red_query_error_t e, err;
        red_query_t *q;

        /* codegen: every dimension is an enum, buckets or a constant */
        q = plan(RED_QUERY_SUMMARY, "codegen_metrics",
                 (const char *[]){"format", "prometheus", NULL}, &err);
        ck_assert_msg(q != NULL, "%s", err.message);
        ck_assert_int_eq(q->limit, lim.max_rows);
        red_query_destroy(q);
        /* agent metric names are free text: no labels from them */
        e = expect_error(RED_QUERY_SUMMARY, "agent_metrics_rollup",
                         (const char *[]){"format", "prometheus", NULL}, 400,
                         "format");
        ck_assert_str_eq(e.allowed, "");
        /* zones are free text, hosts an enum */
        e = expect_error(RED_QUERY_SUMMARY, "requests",
                         (const char *[]){"format", "prometheus", "grouping",
                                          "by_zone", NULL},
                         400, "grouping");
        ck_assert_str_eq(e.allowed, "by_host, total");
}
END_TEST

START_TEST(plan_raw_filters)
{
        red_query_error_t err;
        const char *kv[] = {"tag.strategy", "smart",    "tag.strategy",
                            "fast",         "agent_id", "a-1",
                            "order",        "desc",     "format",
                            "ndjson",       NULL};
        red_query_t *q = plan(RED_QUERY_RAW, "agent_routing_metrics", kv, &err);

        ck_assert_msg(q != NULL, "%s", err.message);
        ck_assert_uint_eq(q->filter_cnt, 2);
        ck_assert_str_eq(q->filters[0].column, "agent_id");
        ck_assert_ptr_null(q->filters[0].json_key);
        ck_assert_str_eq(q->filters[1].column, "tags");
        ck_assert_str_eq(q->filters[1].json_key, "strategy");
        ck_assert_uint_eq(q->filters[1].value_cnt, 2);
        ck_assert(q->desc);
        ck_assert_int_eq(q->limit, lim.max_export_rows);
        ck_assert_str_eq(q->order_by[0], "timestamp");
        ck_assert_str_eq(q->order_by[1], "metric_id");
        ck_assert_str_eq(q->cols[q->col_cnt - 1].name, "timestamp");
        red_query_destroy(q);

        /* a uuid filter is canonicalised */
        q = plan(RED_QUERY_RAW, "requests_raw",
                 (const char *[]){"request_id",
                                  "0A6E7D1C4B5F4E8AA6B1C2D3E4F5A6B7", NULL},
                 &err);
        ck_assert_msg(q != NULL, "%s", err.message);
        ck_assert_str_eq(q->filters[0].values[0],
                         "0a6e7d1c-4b5f-4e8a-a6b1-c2d3e4f5a6b7");
        ck_assert_int_eq(q->filters[0].type, RED_QVAL_UUID);
        red_query_destroy(q);
}
END_TEST

START_TEST(plan_cursor_round_trip)
{
        red_query_error_t err;
        const char *vals[] = {"2026-01-01 00:00:00+00", "node_type_grouping",
                              "effect"};
        red_buf_t b;
        red_query_t *q;

        red_buf_init(&b);
        red_cursor_encode(vals, NULL, 3, &b);
        q = plan(RED_QUERY_SERIES, "codegen_metrics",
                 (const char *[]){"cursor", b.data, NULL}, &err);
        ck_assert_msg(q != NULL, "%s", err.message);
        ck_assert_uint_eq(q->cursor_cnt, 3);
        ck_assert_str_eq(q->cursor[2], "effect");
        red_query_destroy(q);
        /* a series cursor is not a summary cursor (two values) */
        expect_error(RED_QUERY_SUMMARY, "codegen_metrics",
                     (const char *[]){"cursor", b.data, NULL}, 400, "cursor");
        red_buf_destroy(&b);
}
END_TEST

START_TEST(plan_times)
{
        red_time_t t;

        ck_assert_int_eq(red_qparam_time("now", 1000, &t), 0);
        ck_assert_int_eq(t, 1000);
        ck_assert_int_eq(red_qparam_time("now-90d", lim.now, &t), 0);
        ck_assert_int_eq(t, lim.now - 90 * RED_TIME_US_PER_DAY);
        ck_assert_int_eq(red_qparam_time("2026-01-01T10:00:00+02:00", 0, &t),
                         0);
        ck_assert_int_eq(t, tm("2026-01-01T08:00:00Z"));
        ck_assert_int_ne(red_qparam_time("now+1d", 0, &t), 0);
        ck_assert_int_ne(red_qparam_time("now-99999999999d", 0, &t), 0);
        ck_assert_int_ne(red_qparam_time("", 0, &t), 0);
}
END_TEST

START_TEST(outputs_names)
{
        const red_agg_t *agg = &cg->aggs[0];
        char name[64];
        int ref;

        ck_assert_int_eq(red_outputs_quantile("0.999"), RED_OUT_Q0 + 9990);
        ck_assert_int_eq(red_outputs_quantile("p99_99"), RED_OUT_Q0 + 9999);
        ck_assert_int_eq(red_outputs_quantile("p100"), RED_OUT_Q0 + 10000);
        ck_assert_int_eq(red_outputs_quantile("p101"), -1);
        ck_assert_int_eq(red_outputs_quantile("0.5x"), -1);
        ref = red_outputs_parse(agg, "duration.p99_9");
        ck_assert_int_ge(ref, 0);
        red_outputs_name(agg, ref, name, sizeof(name));
        ck_assert_str_eq(name, "duration.p99_9");
        ref = red_outputs_parse(agg, "completed");
        red_outputs_name(agg, ref, name, sizeof(name));
        ck_assert_str_eq(name, "completed");
        ck_assert_int_eq(red_outputs_parse(agg, "completed.avg"), -1);
        ck_assert_int_eq(red_outputs_parse(agg, "quality.p50"), -1);
        ck_assert_int_eq(red_outputs_parse(agg, "stages"), -1);
        ck_assert_int_eq(red_outputs_parse(agg, "failed_stages.count"), -1);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("query");
        TCase *tc = tcase_create("plan");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, tiles_ninety_days);
        tcase_add_test(tc, tiles_nesting);
        tcase_add_test(tc, tiles_random_ranges);
        tcase_add_test(tc, tiles_time_zone);
        tcase_add_test(tc, plan_series_defaults);
        tcase_add_test(tc, plan_bad_parameters);
        tcase_add_test(tc, plan_summary_columns);
        tcase_add_test(tc, plan_prometheus_bounded);
        tcase_add_test(tc, plan_raw_filters);
        tcase_add_test(tc, plan_cursor_round_trip);
        tcase_add_test(tc, plan_times);
        tcase_add_test(tc, outputs_names);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        return test_main(suite());
}
