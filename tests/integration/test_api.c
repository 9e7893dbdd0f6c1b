/*
 * Integration: the read side against a real PostgreSQL filled by
 * reducerd's core and sink (tests/tools/load_events) and by `reducerd
 * run`. `series` equals the stored rows page by page; `summary` counts and
 * sums equal a recomputation from the input events over random ranges,
 * aligned or not, and its quantiles are within the sketch's relative
 * accuracy of the nearest-rank truth over the union of the range's
 * events; `top` is the sorted summary; CSV parses with Python's csv
 * module; Prometheus text passes `promtool check metrics`; raw rows,
 * workflows and alerts equal SQL over the same tables; `reducerd query`
 * prints what the API answers; an NDJSON export of 10^6 rows streams in
 * bounded memory.
 */
#include "red_buf.h"
#include "red_itest.h"
#include "red_time.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ALPHA 0.01

typedef struct api_s {
        itest_t t;
        pid_t pid;
        int port;
        const char *events; /* the codegen input */
} api_t;

/* A database with the codegen events of CODEGEN_ARGS and the agent
 * metrics of tests/data/api, and `reducerd serve` on it. */
static void api_up(api_t *a, const char *name, const char *api_lines)
{
        itest_init(&a->t, name);
        a->events = itest_api_data(&a->t);
        itest_api_config(&a->t, api_lines);
        a->pid = itest_serve(&a->t, a->t.config, NULL, 0, &a->port);
}

static void api_down(api_t *a)
{
        ck_assert_int_eq(itest_stop(a->pid, SIGTERM, 10000), 0);
        itest_fini(&a->t);
}

static char *get(api_t *a, const char *path, int want)
{
        return itest_api_get(&a->t, a->port, path, want);
}

static json_t *get_json(api_t *a, const char *path)
{
        char *body = get(a, path, 200);
        json_error_t je;
        json_t *doc = json_loads(body, 0, &je);

        ck_assert_msg(doc != NULL, "GET %s: %s: %.300s", path, je.text, body);
        free(body);
        return doc;
}

/* ------------------------------------------------------------------ */
/* the truth, recomputed from the input events                         */
/* ------------------------------------------------------------------ */

static const char *const node_types[] = {"compute", "effect", "orchestrator",
                                         "reducer", "unknown"};
#define NODES 5

typedef struct tev_s {
        red_time_t t;
        int kind; /* 0 started, 1 completed, 2 failed, 3 other */
        int node;
        double duration;
        long tokens;
} tev_t;

typedef struct truth_s {
        tev_t *evs;
        size_t cnt;
} truth_t;

static int node_of(const char *s)
{
        for (int i = 0; i < NODES - 1; i++) {
                if (s && !strcmp(s, node_types[i])) {
                        return i;
                }
        }
        return NODES - 1;
}

/* Reads the events as the contract defines them: kind from the topic,
 * the payload nested or flat, node_type from the workflow's Started
 * event when a Completed or Failed event lacks it, total_tokens from its
 * stages. */
static void truth_read(truth_t *tr, const char *file)
{
        FILE *fp = fopen(file, "r");
        json_t *nodes = json_object(), *stage_tokens = json_object();
        char *line = NULL;
        size_t cap = 0;

        ck_assert_ptr_nonnull(fp);
        memset(tr, 0, sizeof(*tr));
        tr->evs = calloc(30000, sizeof(*tr->evs));
        while (getline(&line, &cap, fp) > 0) {
                json_t *root = json_loads(line, 0, NULL), *pl, *v;
                const char *topic, *ts, *wf;
                tev_t *e = &tr->evs[tr->cnt++];
                ck_assert_ptr_nonnull(root);
                ck_assert_uint_le(tr->cnt, 30000);
                pl = json_object_get(root, "payload");
                pl = json_is_object(pl) ? pl : root;
                topic = json_string_value(json_object_get(root, "_topic"));
                ts = json_string_value(
                        json_object_get(root, "event_timestamp"));
                ts = ts ? ts
                        : json_string_value(json_object_get(root, "timestamp"));
                ck_assert_msg(ts && !red_time_parse(ts, strlen(ts), &e->t),
                              "%s", line);
                e->kind = strstr(topic, "generation-started")     ? 0
                          : strstr(topic, "generation-completed") ? 1
                          : strstr(topic, "generation-failed")    ? 2
                                                                  : 3;
                wf = json_string_value(json_object_get(pl, "workflow_id"));
                v = json_object_get(pl, "node_type");
                if (e->kind == 0) {
                        e->node = node_of(json_string_value(v));
                        json_object_set_new(nodes, wf, json_integer(e->node));
                } else if (json_is_string(v)) {
                        e->node = node_of(json_string_value(v));
                } else {
                        v = json_object_get(nodes, wf);
                        e->node = v ? (int)json_integer_value(v) : NODES - 1;
                }
                e->duration = json_number_value(
                        json_object_get(pl, "total_duration_seconds"));
                /* a Completed event without total_tokens takes its
                 * workflow's stage tokens (workflows.totals), summed from
                 * its Started event on */
                v = json_object_get(stage_tokens, wf);
                e->tokens = json_is_integer(json_object_get(pl, "total_"
                                                                "tokens"))
                                    ? (long)json_integer_value(json_object_get(
                                              pl, "total_tokens"))
                                    : (long)json_integer_value(v);
                if (strstr(topic, "stage-completed") &&
                    json_object_get(nodes, wf)) {
                        json_object_set_new(
                                stage_tokens, wf,
                                json_integer(json_integer_value(v) +
                                             json_integer_value(json_object_get(
                                                     pl, "tokens_consumed"))));
                }
                json_decref(root);
        }
        free(line);
        fclose(fp);
        json_decref(nodes);
        json_decref(stage_tokens);
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

/* One summary row (node_type_grouping) against the events of its node
 * type in [from, to). Returns the completed count. */
static long check_summary_row(const truth_t *tr, json_t *row, red_time_t from,
                              red_time_t to)
{
        const char *key = json_string_value(json_object_get(row, "group_key"));
        int node = node_of(key);
        long n[3] = {0}, tokens = 0, d = 0;
        double *dur = malloc(tr->cnt * sizeof(double));

        for (size_t i = 0; i < tr->cnt; i++) {
                const tev_t *e = &tr->evs[i];
                if (e->t < from || e->t >= to || e->node != node ||
                    e->kind > 2) {
                        continue;
                }
                n[e->kind]++;
                if (e->kind == 1) {
                        dur[d++] = e->duration;
                        tokens += e->tokens;
                }
        }
        ck_assert_int_eq(json_integer_value(json_object_get(row, "started")),
                         n[0]);
        ck_assert_int_eq(json_integer_value(json_object_get(row, "completed")),
                         n[1]);
        ck_assert_int_eq(json_integer_value(json_object_get(row, "failed")),
                         n[2]);
        ck_assert_int_eq(
                (long)json_number_value(json_object_get(row, "tokens.sum")),
                tokens);
        qsort(dur, (size_t)d, sizeof(double), cmp_double);
        for (int k = 0; d && k < 3; k++) {
                static const double qs[] = {0.5, 0.95, 0.99};
                static const char *const names[] = {
                        "duration.p50", "duration.p95", "duration.p99"};
                long rank = (long)ceil(qs[k] * (double)d - 1e-9);
                double truth = dur[(rank < 1 ? 1 : rank) - 1];
                double got = json_number_value(json_object_get(row, names[k]));
                ck_assert_msg(fabs(got - truth) <= ALPHA * truth + 1e-9,
                              "%s %s: %.6f, nearest rank %.6f over %ld", key,
                              names[k], got, truth, d);
        }
        ck_assert(d == 0 || json_number_value(json_object_get(
                                    row, "duration.min")) == dur[0]);
        free(dur);
        return n[1];
}

/* The next_cursor of a page (malloc'd), or NULL; releases the page. */
static char *next_page(json_t *doc)
{
        json_t *next = json_object_get(doc, "next_cursor");
        char *cursor =
                json_is_string(next) ? strdup(json_string_value(next)) : NULL;

        json_decref(doc);
        return cursor;
}

static red_time_t tm(const char *s)
{
        red_time_t t;

        ck_assert_int_eq(red_time_parse(s, strlen(s), &t), 0);
        return t;
}

static red_time_t json_time(json_t *o, const char *key)
{
        const char *s = json_string_value(json_object_get(o, key));

        ck_assert_ptr_nonnull(s);
        return tm(s);
}

/* ------------------------------------------------------------------ */
/* aggregations                                                        */
/* ------------------------------------------------------------------ */

static uint64_t rnd(uint64_t *x)
{
        uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
}

/* summary over random ranges, aligned and not, against the events */
static void check_summaries(api_t *a)
{
        truth_t tr;
        uint64_t x = 5;

        truth_read(&tr, a->events);
        ck_assert_uint_eq(tr.cnt, 20000);
        for (int i = 0; i < 12; i++) {
                red_time_t from = tm("2026-01-01") +
                                  (red_time_t)(rnd(&x) % (70ull * 86400)) *
                                          RED_TIME_US_PER_SEC;
                red_time_t to =
                        from + (red_time_t)(3600 + rnd(&x) % (60ull * 86400)) *
                                       RED_TIME_US_PER_SEC;
                char f[RED_TIME_FMT_SIZE], t[RED_TIME_FMT_SIZE], path[512];
                json_t *doc, *row;
                long completed = 0;
                size_t k;

                if (i % 2 == 0) { /* aligned on days */
                        from -= from % RED_TIME_US_PER_DAY;
                        to -= to % RED_TIME_US_PER_DAY;
                        to += to <= from ? RED_TIME_US_PER_DAY : 0;
                }
                red_time_format(from, f, sizeof(f));
                red_time_format(to, t, sizeof(t));
                snprintf(path, sizeof(path),
                         "/v1/aggregations/codegen_metrics/summary?grouping="
                         "node_type_grouping&from=%s&to=%s",
                         f, t);
                doc = get_json(a, path);
                /* the covered range: rounded outward to hours */
                {
                        json_t *range = json_object_get(doc, "range");
                        red_time_t cf = json_time(range, "from");
                        red_time_t ct = json_time(range, "to");
                        ck_assert_int_le(cf, from);
                        ck_assert_int_gt(cf, from - RED_TIME_US_PER_HOUR);
                        ck_assert_int_ge(ct, to);
                        ck_assert_int_lt(ct, to + RED_TIME_US_PER_HOUR);
                        json_array_foreach(json_object_get(doc, "data"), k, row)
                        {
                                completed +=
                                        check_summary_row(&tr, row, cf, ct);
                        }
                }
                ck_assert_int_gt(completed, 0);
                json_decref(doc);
        }
        free(tr.evs);
}

/* series pages equal the stored rows */
static void check_series(api_t *a)
{
        PGconn *c = test_pg_connect(a->t.conninfo);
        PGresult *res = PQexec(
                c, "SELECT to_json(window_start)#>>'{}', group_key, "
                   "started_generations, success_rate, "
                   "duration_statistics::text, revision FROM "
                   "codegen_metrics_aggregated WHERE window_type = 'daily' "
                   "AND aggregation_type = 'node_type_grouping' AND "
                   "window_start >= '2026-01-01' AND window_start < "
                   "'2026-04-12' ORDER BY window_start, aggregation_type, "
                   "group_key");
        char path[2048], *cursor = NULL;
        int row = 0, pages = 0;

        ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
        ck_assert_int_gt(PQntuples(res), 300);
        do {
                json_t *doc, *r;
                size_t k;
                snprintf(path, sizeof(path),
                         "/v1/aggregations/codegen_metrics/series?window=daily&"
                         "grouping=node_type_grouping&from=2026-01-01&to="
                         "2026-04-12&limit=57&columns=window_start,group_key,"
                         "started_generations,success_rate,"
                         "duration_statistics,revision%s%s",
                         cursor ? "&cursor=" : "", cursor ? cursor : "");
                doc = get_json(a, path);
                pages++;
                json_array_foreach(json_object_get(doc, "data"), k, r)
                {
                        json_t *stored;
                        ck_assert_int_lt(row, PQntuples(res));
                        ck_assert_int_eq(json_time(r, "window_start"),
                                         tm(PQgetvalue(res, row, 0)));
                        ck_assert_str_eq(json_string_value(json_object_get(
                                                 r, "group_key")),
                                         PQgetvalue(res, row, 1));
                        ck_assert_int_eq(json_integer_value(json_object_get(
                                                 r, "started_generations")),
                                         atol(PQgetvalue(res, row, 2)));
                        ck_assert(json_number_value(
                                          json_object_get(r, "success_rate")) ==
                                  strtod(PQgetvalue(res, row, 3), NULL));
                        stored = json_loads(PQgetvalue(res, row, 4), 0, NULL);
                        ck_assert(json_equal(
                                stored,
                                json_object_get(r, "duration_statistics")));
                        json_decref(stored);
                        ck_assert_int_eq(json_integer_value(json_object_get(
                                                 r, "revision")),
                                         atol(PQgetvalue(res, row, 5)));
                        row++;
                }
                free(cursor);
                cursor = next_page(doc);
        } while (cursor);
        ck_assert_int_eq(row, PQntuples(res));
        ck_assert_int_eq(pages, (row + 56) / 57);
        PQclear(res);
        PQfinish(c);
}

static int cmp_p99_desc(const void *a, const void *b)
{
        double x = json_number_value(
                json_object_get(*(json_t *const *)a, "duration.p99"));
        double y = json_number_value(
                json_object_get(*(json_t *const *)b, "duration.p99"));
        return x > y ? -1 : x < y;
}

/* top is the summary sorted */
static void check_top(api_t *a)
{
        json_t *sum = get_json(a, "/v1/aggregations/codegen_metrics/summary?"
                                  "grouping=domain_grouping&from=2026-02-01&"
                                  "to=2026-03-15T06:00:00Z");
        json_t *top = get_json(a, "/v1/aggregations/codegen_metrics/top?"
                                  "grouping=domain_grouping&from=2026-02-01&"
                                  "to=2026-03-15T06:00:00Z&by=duration.p99&"
                                  "n=3");
        json_t *rows = json_object_get(sum, "data");
        size_t n = json_array_size(rows);
        json_t **sorted = calloc(n, sizeof(*sorted));

        ck_assert_uint_ge(n, 5);
        for (size_t i = 0; i < n; i++) {
                sorted[i] = json_array_get(rows, i);
        }
        /* qsort is not stable: compare values, and keys where unequal */
        qsort(sorted, n, sizeof(*sorted), cmp_p99_desc);
        ck_assert_int_eq(json_array_size(json_object_get(top, "data")), 3);
        for (size_t i = 0; i < 3; i++) {
                json_t *t = json_array_get(json_object_get(top, "data"), i);
                ck_assert(
                        json_equal(json_object_get(t, "duration.p99"),
                                   json_object_get(sorted[i], "duration.p99")));
                if (i + 1 < n &&
                    cmp_p99_desc(&sorted[i], &sorted[i + 1]) != 0) {
                        ck_assert(json_equal(t, sorted[i]));
                }
        }
        free(sorted);
        json_decref(sum);
        json_decref(top);
}

/* the text formats: CSV through Python's csv module, Prometheus text
 * through promtool, and the CLI's output equal to the API's */
static void check_formats(api_t *a)
{
        char file[4096], *out, *err, *body, *cli;
        const char *py[] = {"/usr/bin/python3",
                            test_path("tests/tools/csv_check.py"),
                            file,
                            "group_key",
                            "completed",
                            NULL};
        const char *summary = "/v1/aggregations/codegen_metrics/summary?"
                              "grouping=node_type_grouping&from=2026-01-01&"
                              "to=2026-04-01";
        char path[1024];
        json_t *doc = get_json(a, summary), *row;
        size_t k;
        red_buf_t keys;
        int rc;

        /* csv */
        snprintf(path, sizeof(path), "%s&format=csv", summary);
        body = get(a, path, 200);
        snprintf(file, sizeof(file), "%s/summary.csv", a->t.dir);
        test_write_file(file, body, strlen(body));
        rc = test_run(py, NULL, &out, &err);
        ck_assert_msg(rc == 0, "csv: %s", err);
        red_buf_init(&keys);
        red_buf_printf(&keys, "%zu ",
                       json_array_size(json_object_get(doc, "data")));
        json_array_foreach(json_object_get(doc, "data"), k, row)
        {
                red_buf_printf(
                        &keys, "%s%s", k ? "|" : "\ngroup_key=",
                        json_string_value(json_object_get(row, "group_key")));
        }
        ck_assert_ptr_nonnull(
                strstr(out, keys.data + strcspn(keys.data, "\n")));
        ck_assert_int_eq(atol(out),
                         (long)json_array_size(json_object_get(doc, "data")));
        red_buf_destroy(&keys);
        free(out);
        free(err);
        free(body);
        /* the series with JSON columns (commas, quotes) in CSV */
        body = get(a,
                   "/v1/aggregations/codegen_metrics/series?window=weekly&"
                   "from=2026-01-01&to=2026-04-12&format=csv&limit=10000",
                   200);
        test_write_file(file, body, strlen(body));
        py[3] = "stage_statistics";
        py[4] = NULL;
        rc = test_run(py, NULL, &out, &err);
        ck_assert_msg(rc == 0, "csv: %s", err);
        ck_assert_int_gt(atol(out), 50);
        free(out);
        free(err);
        free(body);

        /* prometheus */
        snprintf(path, sizeof(path), "%s&format=prometheus", summary);
        body = get(a, path, 200);
        snprintf(file, sizeof(file), "%s/summary.prom", a->t.dir);
        test_write_file(file, body, strlen(body));
        {
                char cmd[4200];
                snprintf(cmd, sizeof(cmd), "promtool check metrics < '%s' 2>&1",
                         file);
                const char *sh[] = {"/bin/sh", "-c", cmd, NULL};
                rc = test_run(sh, NULL, &out, &err);
                ck_assert_msg(rc == 0, "promtool check metrics: %s", out);
                free(out);
                free(err);
        }
        ck_assert_ptr_nonnull(strstr(body, "reducerd_codegen_metrics_duration{"
                                           "aggregation_type=\"node_type_"
                                           "grouping\",group_key=\"effect\","
                                           "quantile=\"0.99\"} "));
        free(body);

        /* reducerd query prints the same JSON */
        {
                const char *argv[] = {test_bin(),   "query",
                                      "-c",         a->t.config,
                                      "summary",    "codegen_metrics",
                                      "--grouping", "node_type_grouping",
                                      "--from",     "2026-01-01",
                                      "--to",       "2026-04-01",
                                      "--format",   "json",
                                      NULL};
                rc = test_run(argv, NULL, &cli, &err);
                ck_assert_msg(rc == 0, "reducerd query: %s", err);
                body = get(a, summary, 200);
                ck_assert_str_eq(cli, body);
                free(body);
                free(cli);
                free(err);
        }
        /* a bad parameter: exit 2 and the allowed values */
        {
                const char *argv[] = {
                        test_bin(),  "query",       "-c",
                        a->t.config, "series",      "codegen_metrics",
                        "--window",  "fortnightly", NULL};
                rc = test_run(argv, NULL, &out, &err);
                ck_assert_int_eq(rc, 2);
                ck_assert_ptr_nonnull(strstr(err, "--window: window "
                                                  "\"fortnightly\" is not "
                                                  "allowed (allowed: hourly, "
                                                  "daily, weekly, monthly)"));
                free(out);
                free(err);
        }
        json_decref(doc);
}

START_TEST(aggregations)
{
        api_t a;

        api_up(&a, "api_aggregations", NULL);
        check_series(&a);
        check_summaries(&a);
        check_top(&a);
        check_formats(&a);
        api_down(&a);
}
END_TEST

/* ------------------------------------------------------------------ */
/* raw rows, workflows, alerts                                         */
/* ------------------------------------------------------------------ */

/* Follows the cursors of @p path (which ends in a query) and returns the
 * values of @p column, one a line. */
static char *collect(api_t *a, const char *path, const char *column)
{
        red_buf_t out;
        char *cursor = NULL, full[4096];

        red_buf_init(&out);
        red_buf_puts(&out, "");
        do {
                json_t *doc, *r;
                size_t k;
                snprintf(full, sizeof(full), "%s%s%s", path,
                         cursor ? "&cursor=" : "", cursor ? cursor : "");
                doc = get_json(a, full);
                json_array_foreach(json_object_get(doc, "data"), k, r)
                {
                        red_buf_printf(
                                &out, "%s\n",
                                json_string_value(json_object_get(r, column)));
                }
                free(cursor);
                cursor = next_page(doc);
        } while (cursor);
        return red_buf_steal(&out, NULL);
}

static char *sql_lines(PGconn *c, const char *sql)
{
        char full[2048];

        snprintf(full, sizeof(full),
                 "SELECT coalesce(string_agg(v, E'\\n'), '') || CASE WHEN "
                 "count(*) > 0 THEN E'\\n' ELSE '' END FROM (%s) q(v)",
                 sql);
        return test_pg_value(c, full);
}

/* The values of @p column over every page of @p path equal the rows of
 * @p sql (at least @p min of them). */
static void same_rows(api_t *a, PGconn *c, const char *path, const char *column,
                      const char *sql, int min)
{
        char *got = collect(a, path, column), *want = sql_lines(c, sql);
        int rows = 0;

        for (const char *p = want; *p; p++) {
                rows += *p == '\n';
        }
        ck_assert_int_ge(rows, min);
        ck_assert_str_eq(got, want);
        free(got);
        free(want);
}

START_TEST(raw_workflows_alerts)
{
        api_t a;
        PGconn *c;
        char *got, *want, path[512];
        json_t *doc, *r;
        size_t k;
        long total = 0;

        api_up(&a, "api_raw", NULL);
        c = test_pg_connect(a.t.conninfo);
        /* tag filter, pages of 7, both orders */
        same_rows(&a, c,
                  "/v1/raw/agent_routing_metrics?from=2026-03-01&to="
                  "2026-03-09&tag.strategy=smart&limit=7",
                  "metric_id",
                  "SELECT metric_id FROM agent_routing_metrics WHERE "
                  "tags->>'strategy' = 'smart' ORDER BY timestamp, metric_id",
                  20);
        same_rows(&a, c,
                  "/v1/raw/agent_state_metrics?from=2026-03-02&to=2026-03-05&"
                  "agent_id=agent-2&agent_id=agent-4&metric_name="
                  "state_get_time_ms&order=desc&limit=5",
                  "metric_id",
                  "SELECT metric_id FROM agent_state_metrics WHERE agent_id "
                  "IN ('agent-2', 'agent-4') AND metric_name = "
                  "'state_get_time_ms' AND timestamp >= '2026-03-02' AND "
                  "timestamp < '2026-03-05' ORDER BY timestamp DESC, "
                  "metric_id DESC",
                  3);
        /* alerts by severity and rule */
        same_rows(&a, c,
                  "/v1/alerts?from=2026-03-01&to=2026-03-09&severity="
                  "CRITICAL&limit=4",
                  "alert_id",
                  "SELECT alert_id::text FROM agent_alerts WHERE severity = "
                  "'CRITICAL' ORDER BY triggered_at, alert_id",
                  5);
        same_rows(&a, c,
                  "/v1/alerts?from=2026-03-01&to=2026-03-09&rule="
                  "routing_decision_warning&order=desc",
                  "rule_id",
                  "SELECT rule_id FROM agent_alerts WHERE rule_id = "
                  "'routing_decision_warning' ORDER BY triggered_at DESC, "
                  "alert_id DESC",
                  1);
        /* workflows by state */
        doc = get_json(&a, "/v1/workflows");
        json_array_foreach(json_object_get(doc, "data"), k, r)
        {
                char sql[256], *n;
                snprintf(
                        sql, sizeof(sql),
                        "SELECT count(*) FROM workflow_state_current WHERE "
                        "current_state = '%s'",
                        json_string_value(json_object_get(r, "current_state")));
                n = test_pg_value(c, sql);
                ck_assert_int_eq(
                        json_integer_value(json_object_get(r, "count")),
                        atol(n));
                total += atol(n);
                free(n);
        }
        json_decref(doc);
        ck_assert_int_gt(total, 1000);
        /* one workflow: its history rows and current state */
        want = test_pg_value(c, "SELECT workflow_id::text FROM "
                                "workflow_state_current ORDER BY "
                                "transition_count DESC LIMIT 1");
        snprintf(path, sizeof(path), "/v1/workflows/%s?limit=2", want);
        got = collect(&a, path, "to_state");
        {
                char sql[512], *hist;
                snprintf(sql, sizeof(sql),
                         "SELECT to_state FROM workflow_state_history WHERE "
                         "workflow_id = '%s' ORDER BY transition_timestamp, "
                         "transition_id",
                         want);
                hist = sql_lines(c, sql);
                ck_assert_str_eq(got, hist);
                free(hist);
        }
        snprintf(path, sizeof(path), "/v1/workflows/%s", want);
        doc = get_json(&a, path);
        ck_assert_str_eq(
                json_string_value(json_object_get(
                        json_object_get(doc, "current"), "workflow_id")),
                want);
        json_decref(doc);
        free(got);
        free(want);
        free(get(&a, "/v1/workflows/00000000-0000-4000-8000-000000000000",
                 404));
        PQfinish(c);
        api_down(&a);
}
END_TEST

/* ------------------------------------------------------------------ */
/* an export of 10^6 rows                                              */
/* ------------------------------------------------------------------ */

/* Peak resident memory of a process, in KiB (VmHWM). */
static long peak_kib(pid_t pid)
{
        char path[64], *s, *p;
        long kib = -1;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        s = test_read_file(path, NULL);
        if ((p = strstr(s, "VmHWM:"))) {
                kib = atol(p + 6);
        }
        free(s);
        return kib;
}

START_TEST(ndjson_million)
{
        itest_t t;
        PGconn *c;
        pid_t pid;
        int port;
        long before, after;
        char cmd[4096], *out, *err;

        itest_init(&t, "api_export");
        c = test_pg_connect(t.conninfo);
        test_pg_exec(c, "CREATE TABLE agent_routing_metrics_2026_03_01 "
                        "PARTITION OF agent_routing_metrics FOR VALUES FROM "
                        "('2026-03-01') TO ('2026-03-02')");
        test_pg_exec(c, "INSERT INTO agent_routing_metrics (metric_id, "
                        "metric_name, metric_type, value, unit, tags, "
                        "agent_id, timestamp) SELECT 'm-' || i, "
                        "'routing_decision_time_ms', 'timing', i % 977, 'ms', "
                        "'{\"strategy\": \"smart\"}', 'agent-' || i % 7, "
                        "'2026-03-01'::timestamptz + i * interval '80 ms' "
                        "FROM generate_series(1, 1000000) i");
        PQfinish(c);
        itest_api_config(&t, "  max_export_rows: 2000000\n");
        pid = itest_serve(&t, t.config, NULL, 0, &port);
        before = peak_kib(pid);
        /* the whole day as one NDJSON stream, counted as it arrives */
        snprintf(cmd, sizeof(cmd),
                 "curl -sSf 'http://127.0.0.1:%d/v1/raw/agent_routing_metrics?"
                 "from=2026-03-01&to=2026-03-02&format=ndjson' | wc -l",
                 port);
        {
                const char *sh[] = {"/bin/sh", "-c", cmd, NULL};
                ck_assert_int_eq(test_run(sh, NULL, &out, &err), 0);
        }
        ck_assert_int_eq(atol(out), 1000000);
        free(out);
        free(err);
        /* the first and the last row are there, in order */
        snprintf(cmd, sizeof(cmd),
                 "curl -sSf -H 'Accept: application/x-ndjson' "
                 "'http://127.0.0.1:%d/v1/raw/agent_routing_metrics?from="
                 "2026-03-01&to=2026-03-02&columns=metric_id' | sed -n "
                 "'1p;$p'",
                 port);
        {
                const char *sh[] = {"/bin/sh", "-c", cmd, NULL};
                ck_assert_int_eq(test_run(sh, NULL, &out, &err), 0);
        }
        ck_assert_str_eq(out, "{\"metric_id\":\"m-1\"}\n"
                              "{\"metric_id\":\"m-1000000\"}\n");
        free(out);
        free(err);
        after = peak_kib(pid);
        /* about 250 MB went out; the server grew by a few batches */
        ck_assert_msg(after - before < 64 * 1024,
                      "peak memory grew from %ld to %ld KiB", before, after);
        ck_assert_int_eq(itest_stop(pid, SIGTERM, 10000), 0);
        itest_fini(&t);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("api");

        test_add_case(s, "aggregations", aggregations, 600);
        test_add_case(s, "raw_workflows_alerts", raw_workflows_alerts, 600);
        test_add_case(s, "ndjson_million", ndjson_million, 600);
        return s;
}

int main(void)
{
        return test_main(suite());
}
