/*
 * Tests for the summary arithmetic (red_summary) on plans of red_query:
 * cells stored for every window type are merged over the tiles of random
 * ranges, aligned or not; counts and sums equal a recomputation from the
 * events, quantiles are within the sketch's accuracy of the nearest-rank
 * truth and equal to the quantiles of the union's sketch, whatever the
 * tiles; top ranks, pages and the Prometheus text.
 */
#include "red_cell.h"
#include "red_cursor.h"
#include "red_decode.h"
#include "red_map.h"
#include "red_outputs.h"
#include "red_query.h"
#include "red_summary.h"
#include "red_test.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static red_contract_t *cq; /* tests/data/contracts/query.yaml */

static void setup(void)
{
        char err[2048];

        cq = red_contract_load(test_path("tests/data/contracts/query.yaml"),
                               err, sizeof(err));
        ck_assert_msg(cq != NULL, "%s", err);
}

static void teardown(void)
{
        red_contract_destroy(cq);
}

static red_time_t tm(const char *s)
{
        red_time_t t;

        ck_assert_msg(red_time_parse(s, strlen(s), &t) == 0, "%s", s);
        return t;
}

static uint64_t rnd(uint64_t *x)
{
        uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
}

/* Plans "kind name ?k=v&k=v" on the test contract. */
static red_query_t *plan(red_query_kind_t kind, const char *name,
                         const char *const *kv, red_query_error_t *err)
{
        static const red_query_limits_t lim = {
                .max_rows = 5000,
                .max_export_rows = 2000000,
                .now = INT64_C(1780000000000000)};
        const red_contract_t *set[1] = {cq};
        red_query_param_t p[32];
        size_t n = 0;

        for (; kv && kv[0]; kv += 2) {
                p[n].name = kv[0];
                p[n++].value = kv[1];
        }
        return red_query_plan(set, 1, kind, name, p, n, &lim, err);
}

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
        Suite *s = suite_create("summary");
        TCase *sum = tcase_create("summary");

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
