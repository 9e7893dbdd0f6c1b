/*
 * Tests for the query planner (red_query, red_qparam, red_outputs),
 * the tiling of ranges (red_tiles) and the summary arithmetic
 * (red_summary): parameters are checked with messages that name the
 * parameter and its allowed values; ranges are tiled exactly with the
 * coarsest windows; a summary over random ranges equals a recomputation
 * from the events, and its quantiles are those of the union of the
 * range's events (within the sketch's accuracy of the nearest-rank
 * truth), whatever the tiles.
 */
#include "red_cell.h"
#include "red_cursor.h"
#include "red_decode.h"
#include "red_map.h"
#include "red_outputs.h"
#include "red_qparam.h"
#include "red_query.h"
#include "red_summary.h"
#include "red_test.h"
#include "red_tiles.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
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

/* The runs cover [cf, ct) exactly, in order, on their own boundaries. */
static void check_cover(const red_tile_t *t, size_t n, red_time_t cf,
                        red_time_t ct)
{
        red_time_t at = cf;

        ck_assert_uint_gt(n, 0);
        for (size_t i = 0; i < n; i++) {
                red_time_t s = t[i].from;
                size_t w = 0;
                ck_assert_int_eq(t[i].from, at);
                ck_assert_int_eq(red_window_start(t[i].wt, s), s);
                while (s < t[i].to) {
                        s = red_window_end(t[i].wt, s);
                        w++;
                }
                ck_assert_int_eq(s, t[i].to);
                ck_assert_uint_eq(w, t[i].windows);
                at = t[i].to;
        }
        ck_assert_int_eq(at, ct);
}

START_TEST(tiles_ninety_days)
{
        static const char *const all[] = {"hourly", "daily", "weekly",
                                          "monthly", NULL};
        red_tile_t *t;
        size_t n;
        red_time_t cf, ct;

        /* 2026-01-01 .. 2026-04-01: three whole months, nothing else */
        ck_assert_int_eq(red_tiles_plan(mask(all), tm("2026-01-01"),
                                        tm("2026-04-01"), &cf, &ct, &t, &n),
                         0);
        ck_assert_uint_eq(n, 1);
        ck_assert_int_eq(t[0].wt, RED_WINDOW_MONTHLY);
        ck_assert_uint_eq(t[0].windows, 3);
        check_cover(t, n, cf, ct);
        free(t);

        /* unaligned edges are rounded outward to hours; hours, days and
         * weeks at the edges, months in the middle */
        ck_assert_int_eq(red_tiles_plan(mask(all), tm("2026-01-14T10:30:00Z"),
                                        tm("2026-04-13T05:00:01Z"), &cf, &ct,
                                        &t, &n),
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
        ck_assert_int_eq(red_tiles_plan(mask(wm), tm("2026-01-01"),
                                        tm("2026-06-01"), &cf, &ct, &t, &n),
                         0);
        check_cover(t, n, cf, ct);
        for (size_t i = 0; i < n; i++) {
                ck_assert_int_eq(t[i].wt, RED_WINDOW_WEEKLY);
        }
        ck_assert_int_eq(cf, tm("2025-12-29"));
        free(t);
        /* only days: rounded outward to days */
        ck_assert_int_eq(red_tiles_plan(mask(daily), tm("2026-03-03T12:00:00Z"),
                                        tm("2026-03-05T00:00:01Z"), &cf, &ct,
                                        &t, &n),
                         0);
        ck_assert_int_eq(cf, tm("2026-03-03"));
        ck_assert_int_eq(ct, tm("2026-03-06"));
        ck_assert_uint_eq(n, 1);
        ck_assert_uint_eq(t[0].windows, 3);
        free(t);
        ck_assert_int_eq(red_tiles_plan(0, 0, 1, &cf, &ct, &t, &n), -EINVAL);
        ck_assert_int_eq(red_tiles_plan(mask(daily), 5, 5, &cf, &ct, &t, &n),
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
                ck_assert_int_eq(red_tiles_plan(m, from, to, &cf, &ct, &t, &n),
                                 0);
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

/* ------------------------------------------------------------------ */
/* summaries against a recomputation                                   */
/* ------------------------------------------------------------------ */

#define EVENTS 4000
static const char *const hosts[] = {"alpha", "beta", "gamma"};
static const char *const zones[] = {"z1", "z2", "z3", NULL};

typedef struct ev_s {
        red_time_t t;
        int host, zone; /* zone 3: absent (default "nowhere") */
        double latency;
        long bytes;
        bool ok;
} ev_t;

typedef struct world_s {
        ev_t evs[EVENTS];
        red_map_t *cells;  /* stored cells of every window type */
        red_cell_t **list; /* the same, for sorting */
        size_t cnt;
} world_t;

static world_t *w;

static const char *key_of(const ev_t *e, int grouping)
{
        return grouping == 0   ? hosts[e->host]
               : grouping == 1 ? (e->zone < 3 ? zones[e->zone] : "nowhere")
                               : "all";
}

/* Decodes the JSON of @p e and applies it to its cell of every window
 * type and grouping, as the engine would store them. */
static void store(const ev_t *e, int idx)
{
        const red_agg_t *agg = &cq->aggs[0];
        char json[512], ts[RED_TIME_FMT_SIZE], zone[32] = "", detail[256];
        red_value_t *vals = calloc(cq->slot_cnt, sizeof(*vals));
        red_event_t ev = {.values = vals};
        red_msg_t m = {0};

        red_time_format(e->t, ts, sizeof(ts));
        if (e->zone < 3) {
                snprintf(zone, sizeof(zone), "\"zone\":\"%s\",",
                         zones[e->zone]);
        }
        snprintf(json, sizeof(json),
                 "{\"event_type\":\"REQUEST\",\"timestamp\":\"%s\","
                 "\"request_id\":\"00000000-0000-4000-8000-%012d\","
                 "\"host\":\"%s\",%s\"latency_ms\":%.3f,\"bytes\":%ld,"
                 "\"ok\":%s}",
                 ts, idx, hosts[e->host], zone, e->latency, e->bytes,
                 e->ok ? "true" : "false");
        m.topic = "test.requests";
        m.value = json;
        m.value_len = strlen(json);
        m.timestamp = -1;
        ck_assert_msg(red_decode(cq, &m, INT64_MAX / 2, &ev, detail,
                                 sizeof(detail)) == RED_DLQ_NONE,
                      "%s: %s", json, detail);
        for (int wt = 0; wt < RED_WINDOW__CNT; wt++) {
                for (int g = 0; g < 3; g++) {
                        const char *k = key_of(e, g);
                        size_t len = strlen(k);
                        red_cell_key_t key = {
                                .agg = agg,
                                .wt = (red_window_type_t)wt,
                                .start = red_window_start(wt, e->t),
                                .grouping = g,
                                .keys = &k,
                                .lens = &len};
                        red_cell_t *cell;
                        uint64_t h;
                        key.group_hash = red_cell_group_hash(agg, g, &k, &len);
                        h = red_cell_key_hash(&key);
                        cell = red_map_find(w->cells, h, red_cell_key_eq, &key);
                        if (!cell) {
                                cell = red_cell_new(&key, cq->sketch_alpha);
                                ck_assert_ptr_nonnull(cell);
                                ck_assert_int_eq(
                                        red_map_insert(w->cells, h, cell), 0);
                                w->list = realloc(w->list,
                                                  (w->cnt + 1) * sizeof(cell));
                                w->list[w->cnt++] = cell;
                        }
                        ck_assert_int_eq(red_cell_apply(cell, &ev), 0);
                }
        }
        red_decode_release(&ev);
        free(vals);
}

static void world_setup(void)
{
        uint64_t x = 7;
        red_time_t t0 = tm("2026-01-10T05:17:00Z");

        setup();
        w = calloc(1, sizeof(*w));
        w->cells = red_map_new();
        for (int i = 0; i < EVENTS; i++) {
                ev_t *e = &w->evs[i];
                uint64_t r = rnd(&x);
                /* ~110 days, some hours busy, some empty */
                e->t = t0 +
                       (red_time_t)(r % (110ull * 86400)) * RED_TIME_US_PER_SEC;
                e->host = (int)((r >> 40) % 3);
                e->zone = (int)((r >> 44) % 4);
                /* spread over four decades: sketch accuracy matters */
                e->latency = 0.5 * exp((double)((r >> 20) % 10000) / 1100.0) +
                             (double)(i % 7) * 0.001;
                e->bytes = (long)((r >> 48) % 5000);
                e->ok = (r >> 60) % 10 != 0;
                store(e, i);
        }
}

static void world_teardown(void)
{
        for (size_t i = 0; i < w->cnt; i++) {
                red_cell_destroy(w->list[i]);
        }
        free(w->list);
        red_map_destroy(w->cells);
        free(w);
        teardown();
}

/* What the SQL of red_query_pg sends: the plan's tiles, ordered by group. */
static int cmp_group(const void *a, const void *b)
{
        const red_cell_t *x = *(red_cell_t *const *)a;
        const red_cell_t *y = *(red_cell_t *const *)b;
        const red_agg_t *agg = red_cell_agg(x);
        int c = strcmp(agg->groupings[red_cell_grouping(x)].name,
                       agg->groupings[red_cell_grouping(y)].name);

        return c ? c : strcmp(red_cell_key(x, 0), red_cell_key(y, 0));
}

static bool in_tiles(const red_query_t *q, const red_cell_t *c)
{
        for (size_t i = 0; i < q->tile_cnt; i++) {
                if (red_cell_window_type(c) == q->tiles[i].wt &&
                    red_cell_window_start(c) >= q->tiles[i].from &&
                    red_cell_window_start(c) < q->tiles[i].to) {
                        return true;
                }
        }
        return false;
}

/* Runs plan @p q over the stored cells the way the executor does. */
static char *run_summary(const red_query_t *q)
{
        red_format_t *fmt = q->format == RED_FORMAT_PROMETHEUS
                                    ? NULL
                                    : red_format_new(q->format, q->col_cnt);
        red_summary_t *s = red_summary_new(q, fmt);
        red_cell_t **rows = calloc(w->cnt, sizeof(*rows));
        size_t n = 0;
        red_buf_t out, st;
        char err[256];

        ck_assert_ptr_nonnull(s);
        red_buf_init(&out);
        red_buf_init(&st);
        for (size_t i = 0; i < w->cnt; i++) {
                const red_cell_t *c = w->list[i];
                bool wanted =
                        q->grouping < 0 || red_cell_grouping(c) == q->grouping;
                if (wanted && in_tiles(q, c)) {
                        rows[n++] = w->list[i];
                }
        }
        qsort(rows, n, sizeof(*rows), cmp_group);
        if (fmt) {
                red_format_begin(fmt, &out);
        }
        for (size_t i = 0; i < n; i++) {
                if (!i || cmp_group(&rows[i - 1], &rows[i])) {
                        const char *k = red_cell_key(rows[i], 0);
                        size_t len = strlen(k);
                        red_summary_step_t step = red_summary_group(
                                s,
                                q->agg->groupings[red_cell_grouping(rows[i])]
                                        .name,
                                &k, &len, &out, err, sizeof(err));
                        ck_assert_msg(step != RED_SUMMARY_ERROR, "%s", err);
                        if (step == RED_SUMMARY_FULL) {
                                break;
                        }
                }
                red_buf_reset(&st);
                ck_assert_int_eq(red_cell_serialize(rows[i], &st), 0);
                ck_assert_int_eq(
                        red_summary_merge(s, st.data, st.len, err, sizeof(err)),
                        0);
        }
        ck_assert_msg(red_summary_finish(s, &out, err, sizeof(err)) == 0, "%s",
                      err);
        if (fmt) {
                red_buf_t meta;
                red_buf_init(&meta);
                red_summary_meta(q, &meta);
                red_format_end(fmt, red_summary_next_cursor(s), meta.data,
                               &out);
                red_buf_destroy(&meta);
        }
        red_summary_destroy(s);
        red_format_destroy(fmt);
        red_buf_destroy(&st);
        free(rows);
        return red_buf_steal(&out, NULL);
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

/* Checks one summary row against the events of its group in [cf, ct). */
static void check_row(json_t *row, int grouping, red_time_t cf, red_time_t ct)
{
        const char *key = json_string_value(json_object_get(row, "group_key"));
        double *lat = malloc(EVENTS * sizeof(double));
        long n = 0, failures = 0, bytes = 0;

        for (int i = 0; i < EVENTS; i++) {
                const ev_t *e = &w->evs[i];
                if (e->t < cf || e->t >= ct ||
                    strcmp(key_of(e, grouping), key)) {
                        continue;
                }
                /* as decoded: three decimals */
                lat[n++] = round(e->latency * 1000) / 1000;
                failures += !e->ok;
                bytes += e->bytes;
        }
        ck_assert_int_eq(json_integer_value(json_object_get(row, "requests")),
                         n);
        ck_assert_int_eq(json_integer_value(json_object_get(row, "failures")),
                         failures);
        ck_assert(json_number_value(json_object_get(row, "bytes")) ==
                  (double)bytes);
        ck_assert_int_eq(
                json_integer_value(json_object_get(row, "latency.count")), n);
        qsort(lat, (size_t)n, sizeof(double), cmp_double);
        ck_assert(json_number_value(json_object_get(row, "latency.min")) ==
                  lat[0]);
        ck_assert(json_number_value(json_object_get(row, "latency.max")) ==
                  lat[n - 1]);
        for (int k = 0; k < 3; k++) {
                static const double qs[] = {0.5, 0.95, 0.99};
                static const char *const names[] = {
                        "latency.p50", "latency.p95", "latency.p99"};
                long rank = (long)ceil(qs[k] * (double)n - 1e-9);
                double truth = lat[(rank < 1 ? 1 : rank) - 1];
                double got = json_number_value(json_object_get(row, names[k]));
                ck_assert_msg(fabs(got - truth) <=
                                      cq->sketch_alpha * truth + 1e-9,
                              "%s %s: %g, nearest rank %g", key, names[k], got,
                              truth);
        }
        free(lat);
}

START_TEST(summary_random_ranges)
{
        uint64_t x = 99;

        for (int i = 0; i < 40; i++) {
                red_time_t base = tm("2026-01-08");
                red_time_t from =
                        base + (red_time_t)(rnd(&x) % (60ull * 86400)) *
                                       RED_TIME_US_PER_SEC;
                red_time_t to =
                        from + (red_time_t)(1 + rnd(&x) % (70ull * 86400)) *
                                       RED_TIME_US_PER_SEC;
                char f[RED_TIME_FMT_SIZE], t[RED_TIME_FMT_SIZE];
                const char *g =
                        (const char *[]){"by_host", "by_zone", "total"}[i % 3];
                const char *kv[] = {"from", f, "to", t, "grouping", g, NULL};
                red_query_error_t err;
                red_query_t *q;
                json_t *doc, *row;
                size_t k;
                char *out;

                /* aligned ranges every fourth time */
                if (i % 4 == 0) {
                        from = red_window_start(RED_WINDOW_DAILY, from);
                        to = red_window_start(RED_WINDOW_DAILY, to) +
                             RED_TIME_US_PER_DAY;
                }
                red_time_format(from, f, sizeof(f));
                red_time_format(to, t, sizeof(t));
                q = plan(RED_QUERY_SUMMARY, "requests", kv, &err);
                ck_assert_msg(q != NULL, "%s", err.message);
                out = run_summary(q);
                doc = json_loads(out, 0, NULL);
                ck_assert_msg(doc != NULL, "%s", out);
                ck_assert_uint_gt(json_array_size(json_object_get(doc, "data")),
                                  0);
                json_array_foreach(json_object_get(doc, "data"), k, row)
                {
                        check_row(row, i % 3, q->covered_from, q->covered_to);
                }
                ck_assert_str_eq(
                        json_string_value(json_object_get(
                                json_object_get(doc, "range"), "from")),
                        json_string_value(json_object_get(
                                json_array_get(json_object_get(doc, "data"), 0),
                                "from")));
                json_decref(doc);
                free(out);
                red_query_destroy(q);
        }
}
END_TEST

/* The merged quantile is the quantile of the union's sketch, exactly. */
START_TEST(summary_equals_union)
{
        const char *kv[] = {"from",      "2026-01-20T03:00:00Z",
                            "to",        "2026-04-02T17:00:00Z",
                            "grouping",  "total",
                            "quantiles", "0.5,0.9,0.999",
                            NULL};
        red_query_error_t err;
        red_query_t *q = plan(RED_QUERY_SUMMARY, "requests", kv, &err);
        const red_agg_t *agg = &cq->aggs[0];
        const char *k = "all";
        size_t len = 3;
        red_cell_key_t key = {
                .agg = agg, .grouping = 2, .keys = &k, .lens = &len};
        red_cell_t *uni = red_cell_new(&key, cq->sketch_alpha);
        json_t *doc, *row;
        char *out;

        ck_assert_msg(q != NULL, "%s", err.message);
        for (size_t i = 0; i < w->cnt; i++) {
                const red_cell_t *c = w->list[i];
                if (red_cell_window_type(c) == RED_WINDOW_HOURLY &&
                    red_cell_grouping(c) == 2 &&
                    red_cell_window_start(c) >= q->covered_from &&
                    red_cell_window_start(c) < q->covered_to) {
                        ck_assert_int_eq(red_cell_merge(uni, c, err.message,
                                                        sizeof(err.message)),
                                         0);
                }
        }
        out = run_summary(q);
        doc = json_loads(out, 0, NULL);
        row = json_array_get(json_object_get(doc, "data"), 0);
        ck_assert_ptr_nonnull(row);
        for (int i = 0; i < 3; i++) {
                static const char *const names[] = {
                        "latency.p50", "latency.p90", "latency.p99_9"};
                int ref = red_outputs_parse(agg, names[i]);
                double v;
                ck_assert(red_cell_value(uni, ref, &v));
                ck_assert_msg(
                        json_number_value(json_object_get(row, names[i])) == v,
                        "%s", names[i]);
        }
        /* several tile types were merged, not just hours */
        ck_assert_uint_gt(q->tile_cnt, 3);
        json_decref(doc);
        free(out);
        red_cell_destroy(uni);
        red_query_destroy(q);
}
END_TEST

START_TEST(summary_top_and_pages)
{
        const char *top[] = {"from",     "2026-01-10", "to",    "2026-05-01",
                             "grouping", "by_zone",    "by",    "latency.p99",
                             "n",        "3",          "order", "asc",
                             NULL};
        const char *page[] = {"from",  "2026-01-10", "to", "2026-05-01",
                              "limit", "4",          NULL};
        red_query_error_t err;
        red_query_t *q = plan(RED_QUERY_TOP, "requests", top, &err);
        json_t *doc, *data;
        double prev = -1;
        size_t i;
        json_t *row;
        char *out;

        ck_assert_msg(q != NULL, "%s", err.message);
        out = run_summary(q);
        doc = json_loads(out, 0, NULL);
        data = json_object_get(doc, "data");
        /* four zones, the three lowest p99 in ascending order */
        ck_assert_int_eq(json_array_size(data), 3);
        json_array_foreach(data, i, row)
        {
                double v =
                        json_number_value(json_object_get(row, "latency.p99"));
                ck_assert(v >= prev);
                prev = v;
        }
        json_decref(doc);
        free(out);
        red_query_destroy(q);

        /* 3 hosts + 4 zones + 1 total = 8 groups: two pages of four */
        q = plan(RED_QUERY_SUMMARY, "requests", page, &err);
        ck_assert_msg(q != NULL, "%s", err.message);
        out = run_summary(q);
        doc = json_loads(out, 0, NULL);
        ck_assert_int_eq(json_array_size(json_object_get(doc, "data")), 4);
        ck_assert(json_is_string(json_object_get(doc, "next_cursor")));
        {
                char **c = NULL;
                ck_assert_int_eq(
                        red_cursor_decode(json_string_value(json_object_get(
                                                  doc, "next_cursor")),
                                          2, &c),
                        0);
                /* by_host alpha, beta, gamma, then by_zone nowhere */
                ck_assert_str_eq(c[0], "by_zone");
                ck_assert_str_eq(c[1], "nowhere");
                red_cursor_free(c, 2);
        }
        json_decref(doc);
        free(out);
        red_query_destroy(q);
}
END_TEST

START_TEST(summary_prometheus)
{
        const char *kv[] = {"from",       "2026-01-10", "to",
                            "2026-05-01", "grouping",   "by_host",
                            "format",     "prometheus", NULL};
        red_query_error_t err;
        red_query_t *q = plan(RED_QUERY_SUMMARY, "requests", kv, &err);
        char *out;

        ck_assert_msg(q != NULL, "%s", err.message);
        out = run_summary(q);
        ck_assert_ptr_nonnull(strstr(out, "# TYPE reducerd_requests_latency "
                                          "summary\n"));
        ck_assert_ptr_nonnull(
                strstr(out, "reducerd_requests_latency{grouping=\"by_host\","
                            "group_key=\"beta\",quantile=\"0.99\"} "));
        ck_assert_ptr_nonnull(strstr(out,
                                     "reducerd_requests_latency_count{grouping="
                                     "\"by_host\",group_key=\"gamma\"} "));
        ck_assert_ptr_nonnull(strstr(out, "# TYPE reducerd_requests_requests "
                                          "gauge\n"));
        ck_assert_ptr_nonnull(strstr(out, "# TYPE reducerd_requests_size_max "
                                          "gauge\n"));
        free(out);
        red_query_destroy(q);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("query");
        TCase *tc = tcase_create("plan");
        TCase *sum = tcase_create("summary");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, tiles_ninety_days);
        tcase_add_test(tc, tiles_nesting);
        tcase_add_test(tc, tiles_random_ranges);
        tcase_add_test(tc, plan_series_defaults);
        tcase_add_test(tc, plan_bad_parameters);
        tcase_add_test(tc, plan_summary_columns);
        tcase_add_test(tc, plan_prometheus_bounded);
        tcase_add_test(tc, plan_raw_filters);
        tcase_add_test(tc, plan_cursor_round_trip);
        tcase_add_test(tc, plan_times);
        tcase_add_test(tc, outputs_names);
        suite_add_tcase(s, tc);
        tcase_add_unchecked_fixture(sum, world_setup, world_teardown);
        tcase_set_timeout(sum, 120);
        tcase_add_test(sum, summary_random_ranges);
        tcase_add_test(sum, summary_equals_union);
        tcase_add_test(sum, summary_top_and_pages);
        tcase_add_test(sum, summary_prometheus);
        suite_add_tcase(s, sum);
        return s;
}

int main(void)
{
        return test_main(suite());
}
