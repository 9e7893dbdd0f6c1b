/*
 * Golden tests through `reducerd reduce`: every tests/data/reduce/<contract>/
 * X.jsonl must print exactly X.expected.jsonl (reviewed by hand), in one
 * batch or many, and the batched runs must be clean under valgrind's
 * memcheck; plus assertions on the reference scenario's rows so the
 * semantics are checked independently of the snapshot.
 */
#include "red_test.h"

#include <dirent.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOW "2025-11-07T00:00:00Z"

/* valgrind from PATH (posix_spawn wants a path), or NULL. */
static const char *valgrind_path(void)
{
        static char path[4096];
        const char *dirs = getenv("PATH");

        while (dirs && *dirs) {
                size_t len = strcspn(dirs, ":");

                snprintf(path, sizeof(path), "%.*s/valgrind", (int)len, dirs);
                if (len && access(path, X_OK) == 0) {
                        return path;
                }
                dirs += len + (dirs[len] == ':');
        }
        return NULL;
}

/* True when reducerd is built with a sanitizer (-Db_sanitize): it checks
 * its memory itself then, and valgrind cannot run it. */
static bool sanitized(void)
{
        const char *s = getenv("RED_SANITIZE");

        return s && *s && strcmp(s, "none");
}

/*
 * Runs `reducerd reduce` and returns its stdout. With @p memcheck (always
 * under `meson test --setup=valgrind`, which sets RED_VALGRIND) it runs
 * under memcheck, and an invalid read fails the run even when the output
 * happens to be right: a freed string that still compares equal is the
 * typical case. A sanitizer build runs as it is and fails by itself.
 */
static char *reduce(const char *contract, const char *input, const char *batch,
                    bool memcheck)
{
        const char *argv[16];
        char *out, *err;
        size_t n = 0;
        int rc;

        if ((memcheck || getenv("RED_VALGRIND")) && !sanitized()) {
                const char *vg = valgrind_path();

                ck_assert_msg(vg, "valgrind is not on PATH (./dev installs "
                                  "it)");
                argv[n++] = vg;
                argv[n++] = "-q";
                argv[n++] = "--error-exitcode=99";
                argv[n++] = "--leak-check=full";
                argv[n++] = "--errors-for-leak-kinds=definite";
        }
        argv[n++] = test_bin();
        argv[n++] = "reduce";
        argv[n++] = "--contract";
        argv[n++] = contract;
        argv[n++] = "--input";
        argv[n++] = input;
        argv[n++] = "--now";
        argv[n++] = NOW;
        if (batch) {
                argv[n++] = "--batch";
                argv[n++] = batch;
        }
        argv[n] = NULL;
        rc = test_run(argv, NULL, &out, &err);
        /* Check cannot carry a whole valgrind report: its start is enough */
        ck_assert_msg(rc == 0, "reduce %s (batch %s): exit %d: %.3000s", input,
                      batch ? batch : "all", rc, err);
        free(err);
        return out;
}

/* Every golden input reduced with each of @p batches (NULL: one batch)
 * must print its expected file. */
static void check_goldens(const char *const *batches, size_t batch_cnt,
                          bool memcheck)
{
        const char *root = test_path("tests/data/reduce");
        DIR *d = opendir(root);
        struct dirent *cd;
        int seen = 0;

        ck_assert_ptr_nonnull(d);
        while ((cd = readdir(d))) {
                char dir[4096], contract[4096];
                DIR *inner;
                struct dirent *fe;

                if (cd->d_name[0] == '.') {
                        continue;
                }
                snprintf(dir, sizeof(dir), "%s/%s", root, cd->d_name);
                /* a shipped contract, else a test contract of that name */
                snprintf(contract, sizeof(contract), "%s/contracts/%s.yaml",
                         test_srcdir(), cd->d_name);
                if (access(contract, R_OK)) {
                        snprintf(contract, sizeof(contract),
                                 "%s/tests/data/contracts/%s.yaml",
                                 test_srcdir(), cd->d_name);
                }
                ck_assert_ptr_nonnull(inner = opendir(dir));
                while ((fe = readdir(inner))) {
                        char in[4200], exp[4300];
                        size_t len = strlen(fe->d_name);
                        char *want;

                        if (len < 7 || strcmp(fe->d_name + len - 6, ".jsonl") ||
                            strstr(fe->d_name, ".expected.")) {
                                continue;
                        }
                        snprintf(in, sizeof(in), "%s/%s", dir, fe->d_name);
                        snprintf(exp, sizeof(exp), "%s/%.*s.expected.jsonl",
                                 dir, (int)(len - 6), fe->d_name);
                        want = test_read_file(exp, NULL);
                        for (size_t b = 0; b < batch_cnt; b++) {
                                char *got = reduce(contract, in, batches[b],
                                                   memcheck);
                                ck_assert_msg(!strcmp(got, want),
                                              "%s (batch %s) differs from "
                                              "%s",
                                              in,
                                              batches[b] ? batches[b] : "all",
                                              exp);
                                free(got);
                        }
                        free(want);
                        seen++;
                }
                closedir(inner);
        }
        closedir(d);
        ck_assert_int_ge(seen, 2);
}

START_TEST(golden_files)
{
        const char *batches[] = {NULL, "1", "2", "3", "5"};

        check_goldens(batches, sizeof(batches) / sizeof(*batches), false);
}
END_TEST

/*
 * Batches end while partitions still have lines ahead, so the lines of
 * one batch are done (freed) while the next batch's frontier still looks
 * at their partitions: run exactly that under memcheck.
 */
START_TEST(golden_batches_memcheck)
{
        const char *batches[] = {"1", "2", "5"};

        check_goldens(batches, sizeof(batches) / sizeof(*batches), true);
}
END_TEST

/* Parses reduce output into a list of row objects of @p table. */
static json_t *rows_of(const char *out, const char *table)
{
        json_t *rows = json_array();
        const char *p = out;

        while (*p) {
                const char *nl = strchr(p, '\n');
                json_t *line = json_loadb(p, (size_t)(nl - p), 0, NULL), *t;

                ck_assert_ptr_nonnull(line);
                t = json_object_get(line, "table");
                if (t && !strcmp(json_string_value(t), table)) {
                        json_array_append(rows, json_object_get(line, "row"));
                }
                json_decref(line);
                p = nl + 1;
        }
        return rows;
}

static json_t *find_cell(json_t *rows, const char *wt, const char *agg,
                         const char *key)
{
        size_t i;
        json_t *r;

        json_array_foreach(rows, i, r)
        {
                if (!strcmp(json_string_value(
                                    json_object_get(r, "window_type")),
                            wt) &&
                    !strcmp(json_string_value(
                                    json_object_get(r, "aggregation_type")),
                            agg) &&
                    !strcmp(json_string_value(json_object_get(r, "group_key")),
                            key)) {
                        return r;
                }
        }
        ck_abort_msg("no cell %s/%s/%s", wt, agg, key);
        return NULL;
}

static long long num(json_t *obj, const char *key)
{
        return json_integer_value(json_object_get(obj, key));
}

static double dbl(json_t *obj, const char *k1, const char *k2)
{
        json_t *v = json_object_get(obj, k1);

        if (k2) {
                v = json_object_get(v, k2);
        }
        ck_assert_msg(json_is_number(v), "%s.%s is not a number", k1,
                      k2 ? k2 : "");
        return json_number_value(v);
}

START_TEST(reference_semantics)
{
        char *out = reduce(test_path("contracts/codegen_metrics.yaml"),
                           test_path("tests/data/reduce/codegen_metrics/"
                                     "reference.jsonl"),
                           NULL, false);
        json_t *cells = rows_of(out, "codegen_metrics_aggregated");
        json_t *hist = rows_of(out, "workflow_state_history");
        json_t *cur = rows_of(out, "workflow_state_current");
        json_t *c, *a;
        const char *wts[] = {"hourly", "daily", "weekly", "monthly"};

        /* 3 node types + 3 buckets + 3 domains + all, for 4 window types */
        ck_assert_int_eq(json_array_size(cells), 40);
        for (int w = 0; w < 4; w++) {
                c = find_cell(cells, wts[w], "quality_buckets", "low");
                ck_assert_int_eq(num(c, "successful_generations"), 1);
                ck_assert_double_eq(dbl(c, "quality_statistics", "avg_score"),
                                    0.4);
                c = find_cell(cells, wts[w], "quality_buckets", "medium");
                ck_assert_double_eq(dbl(c, "quality_statistics", "avg_score"),
                                    0.7);
                c = find_cell(cells, wts[w], "quality_buckets", "high");
                ck_assert_double_eq(dbl(c, "quality_statistics", "avg_score"),
                                    0.9);
                /* quality buckets count completed events only */
                ck_assert_int_eq(num(c, "started_generations"), 0);
                ck_assert_int_eq(num(c, "total_generations"), 1);

                /* effect: A completed, D failed (node_type from Started) */
                c = find_cell(cells, wts[w], "node_type_grouping", "effect");
                ck_assert_int_eq(num(c, "started_generations"), 2);
                ck_assert_int_eq(num(c, "total_generations"), 2);
                ck_assert_int_eq(num(c, "failed_generations"), 1);
                ck_assert_double_eq(dbl(c, "success_rate", NULL), 0.5);
                ck_assert_int_eq(
                        json_integer_value(json_object_get(
                                json_object_get(c, "failed_stage_counts"),
                                "prompt_parsing")),
                        1);
                /* C's Completed has no domain: it takes Started's "data" */
                c = find_cell(cells, wts[w], "domain_grouping", "data");
                ck_assert_int_eq(num(c, "successful_generations"), 1);

                a = find_cell(cells, wts[w], "time_window", "all");
                ck_assert_int_eq(num(a, "started_generations"), 4);
                ck_assert_int_eq(num(a, "total_generations"), 4);
                ck_assert_double_eq(dbl(a, "success_rate", NULL), 0.75);
                ck_assert_double_eq(
                        dbl(a, "duration_statistics", "avg_seconds"), 45);
                ck_assert_double_eq(
                        dbl(a, "duration_statistics", "min_seconds"), 30);
                /* p50 of {30, 45, 60} is 45, within the sketch's 1 % */
                ck_assert_double_eq_tol(
                        dbl(a, "duration_statistics", "p50_seconds"), 45, 0.45);
                ck_assert_double_eq(dbl(a, "cost_statistics", "total_tokens"),
                                    3000);
                ck_assert_double_eq_tol(
                        dbl(a, "cost_statistics", "total_cost_usd"), 0.03,
                        1e-12);
        }
        c = find_cell(cells, "weekly", "time_window", "all");
        ck_assert_str_eq(json_string_value(json_object_get(c, "window_start")),
                         "2025-11-03T00:00:00Z"); /* a Monday */
        c = find_cell(cells, "monthly", "time_window", "all");
        ck_assert_str_eq(json_string_value(json_object_get(c, "window_end")),
                         "2025-12-01T00:00:00Z");

        /* workflow A: happy path, 4 accepted transitions, in order */
        ck_assert_int_eq(json_array_size(hist), 8);
        {
                const char *to[] = {"analyzing", "generating", "validating",
                                    "completed"};
                for (int i = 0; i < 4; i++) {
                        json_t *h = json_array_get(hist, (size_t)i);
                        ck_assert_str_eq(json_string_value(json_object_get(
                                                 h, "to_state")),
                                         to[i]);
                        ck_assert(json_is_true(
                                json_object_get(h, "guard_conditions_met")));
                }
        }
        c = json_array_get(cur, 0);
        ck_assert_str_eq(json_string_value(json_object_get(c, "current_state")),
                         "completed");
        ck_assert_int_eq(num(c, "transition_count"), 4);
        json_decref(cells);
        json_decref(hist);
        json_decref(cur);
        free(out);
}
END_TEST

/*
 * Windows in Europe/Berlin across the 2026 changes, against values worked
 * out by hand from the zone's rules (CET +01:00, CEST +02:00 from
 * 2026-03-29 01:00 UTC to 2026-10-25 01:00 UTC). The values are powers of
 * two, so a window's sum names the events in it.
 */
START_TEST(berlin_windows)
{
        char *out = reduce(test_path("tests/data/contracts/tz_berlin.yaml"),
                           test_path("tests/data/reduce/tz_berlin/"
                                     "dst_2026.jsonl"),
                           NULL, false);
        json_t *rows = rows_of(out, "tz_ticks");
        static const struct {
                const char *wt, *start, *end;
                long long ticks, sum;
        } want[] = {
                /* Sunday 03-29 starts at local midnight (23:00 UTC the day
                 * before) and lasts 23 hours: 02:00-03:00 does not exist */
                {"daily", "2026-03-27T23:00:00Z", "2026-03-28T23:00:00Z", 1, 1},
                {"daily", "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z", 4,
                 2 + 4 + 8 + 16},
                {"daily", "2026-03-29T22:00:00Z", "2026-03-30T22:00:00Z", 1,
                 32},
                /* local hour 01 (CET), then 03 (CEST): both one hour */
                {"hourly", "2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z", 1,
                 4},
                {"hourly", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z", 1,
                 8},
                /* the ISO week of Monday 03-23 ends at Monday 03-30 00:00
                 * CEST: 167 hours */
                {"weekly", "2026-03-22T23:00:00Z", "2026-03-29T22:00:00Z", 5,
                 31},
                {"monthly", "2026-02-28T23:00:00Z", "2026-03-31T22:00:00Z", 6,
                 63},
                /* Sunday 10-25 lasts 25 hours; its 02:00 hour two */
                {"daily", "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z", 4,
                 256 + 512 + 1024 + 2048},
                {"hourly", "2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z", 2,
                 512 + 1024},
                {"monthly", "2026-09-30T22:00:00Z", "2026-10-31T23:00:00Z", 6,
                 8064},
        };

        ck_assert_int_eq(json_array_size(rows), 26);
        for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++) {
                json_t *r, *hit = NULL;
                size_t k;
                json_array_foreach(rows, k, r)
                {
                        if (!strcmp(json_string_value(
                                            json_object_get(r, "window_type")),
                                    want[i].wt) &&
                            !strcmp(json_string_value(
                                            json_object_get(r, "window_start")),
                                    want[i].start)) {
                                hit = r;
                        }
                }
                ck_assert_msg(hit, "no %s window at %s", want[i].wt,
                              want[i].start);
                ck_assert_str_eq(
                        json_string_value(json_object_get(hit, "window_end")),
                        want[i].end);
                ck_assert_int_eq(num(hit, "ticks"), want[i].ticks);
                ck_assert_int_eq(num(hit, "value_sum"), want[i].sum);
        }
        json_decref(rows);
        free(out);
}
END_TEST

/* The hourly codegen cell of grouping @p agg and key @p key in @p cells. */
static json_t *hourly(json_t *cells, const char *agg, const char *key)
{
        return find_cell(cells, "hourly", agg, key);
}

/*
 * What the codegen events carry that cells used to drop
 * (tests/data/reduce/codegen_metrics/audit.jsonl): stage tokens and cost
 * per stage, and in cost_statistics for a Completed event without its
 * own totals; the last five distinct error messages per failed stage,
 * newest first; the guard values a trigger set in the history rows'
 * metadata; and no cell from events that move no measure.
 */
START_TEST(audit_items)
{
        char *out = reduce(test_path("contracts/codegen_metrics.yaml"),
                           test_path("tests/data/reduce/codegen_metrics/"
                                     "audit.jsonl"),
                           NULL, false);
        json_t *cells = rows_of(out, "codegen_metrics_aggregated");
        json_t *hist = rows_of(out, "workflow_state_history");
        json_t *c, *h, *m, *errs, *want;
        size_t i;

        /* E's stages: 100 + 250 tokens, 0.002 + 0.003 USD; its Completed
         * has no totals and takes theirs */
        c = hourly(cells, "node_type_grouping", "compute");
        ck_assert_double_eq(dbl(c, "cost_statistics", "total_tokens"), 350);
        ck_assert_double_eq_tol(dbl(c, "cost_statistics", "total_cost_usd"),
                                0.005, 1e-12);
        ck_assert_double_eq(dbl(json_object_get(c, "stage_statistics"),
                                "intelligence_gathering", "total_tokens"),
                            250);
        ck_assert_double_eq_tol(dbl(json_object_get(c, "stage_statistics"),
                                    "prompt_parsing", "total_cost_usd"),
                                0.002, 1e-12);

        /* seven failures at code_generation, six distinct messages: the
         * newest five, newest first ("rate limited" is the oldest) */
        c = hourly(cells, "node_type_grouping", "effect");
        errs = json_object_get(json_object_get(c, "failed_stage_errors"),
                               "code_generation");
        want = json_pack("[sssss]", "model unavailable", "quota exceeded",
                         "out of memory", "syntax error in template",
                         "LLM timeout");
        ck_assert_msg(json_equal(errs, want), "%s",
                      json_dumps(errs, JSON_COMPACT));
        json_decref(want);

        /* history rows keep the guard values their trigger set */
        h = json_array_get(hist, 0);
        ck_assert_str_eq(json_string_value(json_object_get(h, "event")),
                         "start_analysis");
        m = json_object_get(h, "metadata");
        ck_assert(json_is_true(json_object_get(m, "has_requirements")));

        /* W has only WORKFLOW_* events: a history row with its envelope
         * metadata, and no cell anywhere (six keys x four windows are
         * E's and the failures') */
        json_array_foreach(hist, i, h)
        {
                if (!strcmp(json_string_value(json_object_get(h, "workflow_"
                                                                 "id")),
                            "a1000000-0000-4000-8000-000000000001")) {
                        m = json_object_get(h, "metadata");
                        ck_assert_str_eq(json_string_value(json_object_get(
                                                 m, "requested_by")),
                                         "ops");
                }
        }
        ck_assert_int_eq(json_array_size(cells), 24);
        json_array_foreach(cells, i, c)
        {
                ck_assert_int_gt(num(c, "started_generations") +
                                         num(c, "total_generations"),
                                 0);
        }
        json_decref(cells);
        json_decref(hist);
        free(out);
}
END_TEST

/* Workflow events alone make history rows and no cell at all. */
START_TEST(workflow_events_make_no_cells)
{
        char *dir = test_tmpdir(), path[4096], *out;
        const char *lines =
                "{\"event_type\":\"WORKFLOW_INITIALIZED\",\"timestamp\":"
                "\"2025-11-06T10:00:00Z\",\"workflow_id\":\"a2000000-0000-"
                "4000-8000-000000000002\",\"node_type\":\"effect\","
                "\"_topic\":\"dev.omninode-bridge.codegen.workflow.v1\"}\n"
                "{\"event_type\":\"WORKFLOW_TRANSITION_REQUESTED\","
                "\"timestamp\":\"2025-11-06T10:00:01Z\",\"workflow_id\":"
                "\"a2000000-0000-4000-8000-000000000002\",\"event\":"
                "\"fail_workflow\",\"_topic\":\"dev.omninode-bridge.codegen."
                "workflow.v1\"}\n";

        snprintf(path, sizeof(path), "%s/wf.jsonl", dir);
        test_write_file(path, lines, strlen(lines));
        out = reduce(test_path("contracts/codegen_metrics.yaml"), path, NULL,
                     false);
        ck_assert_msg(!strstr(out, "codegen_metrics_aggregated"), "%s", out);
        ck_assert_msg(strstr(out, "\"cells\":0,\"transitions\":1"), "%s", out);
        free(out);
        free(dir);
}
END_TEST

/* A 1 MB payload is dead-lettered as too_large and the counts reconcile. */
START_TEST(too_large_and_reconcile)
{
        char *dir = test_tmpdir(), path[4096], *out, *big;
        size_t n = 1100 * 1000;
        json_t *root, *sum;
        const char *p;

        snprintf(path, sizeof(path), "%s/big.jsonl", dir);
        big = malloc(n + 512);
        p = "{\"event_type\":\"NODE_GENERATION_STARTED\",\"timestamp\":"
            "\"2025-11-06T10:00:00Z\",\"payload\":{\"workflow_id\":"
            "\"a0000000-0000-4000-8000-00000000000a\",\"prompt\":\"";
        strcpy(big, p);
        memset(big + strlen(p), 'x', n);
        strcpy(big + strlen(p) + n,
               "\"}}\n{\"event_type\":\"NODE_GENERATION_"
               "STARTED\",\"timestamp\":\"2025-11-06T10:00:"
               "00Z\",\"payload\":{\"workflow_id\":\"a0000000-"
               "0000-4000-8000-00000000000b\"}}\n");
        test_write_file(path, big, strlen(big));
        out = reduce(test_path("contracts/codegen_metrics.yaml"), path, NULL,
                     false);
        ck_assert_msg(strstr(out, "\"error_code\":\"too_large\""), "%s", out);
        p = strstr(out, "{\"summary\":");
        ck_assert_ptr_nonnull(p);
        root = json_loads(p, 0, NULL);
        sum = json_object_get(root, "summary");
        ck_assert_int_eq(num(sum, "consumed"), 2);
        ck_assert_int_eq(num(sum, "applied"), 1);
        ck_assert_int_eq(num(sum, "dead_lettered"), 1);
        json_decref(root);
        free(big);
        free(out);
        free(dir);
}
END_TEST

/* The malformed file: one dead letter per bad line with its reason, and
 * consumed = applied + dead_lettered + late_dropped. */
START_TEST(malformed_reasons)
{
        char *out = reduce(test_path("contracts/codegen_metrics.yaml"),
                           test_path("tests/data/reduce/codegen_metrics/"
                                     "malformed.jsonl"),
                           NULL, false);
        const char *codes[] = {
                "invalid_json",       "missing_field", "out_of_range",
                "unknown_event_type", "wrong_type",    "future_timestamp",
                "not_an_object",      "not_allowed",   "invalid_timestamp"};
        const char *details[] = {"workflow_id: required field is missing",
                                 "quality_score: 1.7 is above the maximum 1",
                                 "stage_number: 0 is below the minimum 1",
                                 "total_duration_seconds: expected a number, "
                                 "got a string"};
        json_t *root, *sum;
        const char *p;

        for (size_t i = 0; i < sizeof(codes) / sizeof(*codes); i++) {
                char pat[128];
                snprintf(pat, sizeof(pat), "\"error_code\":\"%s\"", codes[i]);
                ck_assert_msg(strstr(out, pat), "no %s dead letter", codes[i]);
        }
        for (size_t i = 0; i < sizeof(details) / sizeof(*details); i++) {
                ck_assert_msg(strstr(out, details[i]), "no \"%s\"", details[i]);
        }
        p = strstr(out, "{\"summary\":");
        root = json_loads(p, 0, NULL);
        sum = json_object_get(root, "summary");
        ck_assert_int_eq(num(sum, "consumed"),
                         num(sum, "applied") + num(sum, "dead_lettered") +
                                 num(sum, "late_dropped"));
        ck_assert_int_eq(num(sum, "dead_lettered"), 11);
        json_decref(root);
        free(out);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("reduce");
        TCase *tc = tcase_create("reduce");

        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, golden_files);
        tcase_add_test(tc, golden_batches_memcheck);
        tcase_add_test(tc, reference_semantics);
        tcase_add_test(tc, berlin_windows);
        tcase_add_test(tc, audit_items);
        tcase_add_test(tc, workflow_events_make_no_cells);
        tcase_add_test(tc, too_large_and_reconcile);
        tcase_add_test(tc, malformed_reasons);
        suite_add_tcase(s, tc);
        return test_main(s);
}
