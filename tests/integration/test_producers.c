/*
 * Integration: producing events from any language. kcat, Python
 * (confluent-kafka and kafka-python) and Node (kafkajs) each send one
 * code-generation workflow into the embedded Kafka in their own way; one
 * reducerd worker must land every workflow in PostgreSQL (state row and
 * aggregates), and a message with a wrong field must reach the dead-letter
 * topic naming the field. The producers (tests/producers/) are the examples
 * of the README's "Producing events" section; the "docs" case keeps them
 * identical.
 */
#include "red_itest.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define GROUP           "reducerd.codegen_metrics"
#define DLQ_TOPIC       "dev.reducerd.codegen-metrics.dead-letter.v1"
#define COMPLETED_TOPIC "dev.omninode-bridge.codegen.generation-completed.v1"
#define README_MD       "README.md"
/* the section, from its heading up to the next "## " heading */
#define SECTION "## Producing events"

/* What each program under tests/producers/ sends (see the program). */
typedef struct producer_s {
        const char *file;
        const char *workflow_id;
        const char *node_type;
        const char *domain;
        const char *quality_score;
        long code_generation_ms; /* the code_generation stage's duration */
} producer_t;

static const producer_t producers[] = {
        {"kcat.sh", "5f1c2b8e-0a51-4c36-9d0e-0000000000a1", "effect", "api",
         "0.91", 15000},
        {"produce.py", "5f1c2b8e-0a51-4c36-9d0e-0000000000b2", "compute", "ml",
         "0.72", 12000},
        {"produce_kafka_python.py", "5f1c2b8e-0a51-4c36-9d0e-0000000000c3",
         "reducer", "data", "0.55", 9500},
        {"produce.js", "5f1c2b8e-0a51-4c36-9d0e-0000000000d4", "orchestrator",
         "infrastructure", "0.85", 14000},
};
#define PRODUCER_CNT        (sizeof(producers) / sizeof(producers[0]))
#define EVENTS_PER_WORKFLOW 6 /* started, four stages, completed */

#define BAD_WORKFLOW "5f1c2b8e-0a51-4c36-9d0e-0000000000e5"

static const char *contract(void)
{
        return test_path("contracts/codegen_metrics.yaml");
}

static bool ends_with(const char *s, const char *suffix)
{
        size_t n = strlen(s), k = strlen(suffix);

        return n >= k && !strcmp(s + n - k, suffix);
}

/* Where kafkajs is installed (./dev installs it into .dev/node; when npm
 * failed there, it says why in RED_NODE_MODULES_ERROR). */
static const char *node_modules(void)
{
        const char *dir = getenv("RED_NODE_MODULES");
        const char *why = getenv("RED_NODE_MODULES_ERROR");
        static char probe[4096];

        if (!dir || !*dir) {
                dir = test_path(".dev/node/node_modules");
        }
        snprintf(probe, sizeof(probe), "%s/kafkajs/package.json", dir);
        ck_assert_msg(access(probe, R_OK) == 0,
                      "kafkajs is not installed in %s%s%s: run ./dev build "
                      "(it runs npm install --prefix .dev/node kafkajs@2) "
                      "or point RED_NODE_MODULES at a node_modules folder "
                      "holding kafkajs; only the Node producer needs it",
                      dir, why ? ": " : "", why ? why : "");
        return dir;
}

static bool is_node(const producer_t *p)
{
        return ends_with(p->file, ".js");
}

/* Runs one producer program the way its language runs it. */
static void run_producer(itest_t *t, const producer_t *p)
{
        char rel[256], path[4096], nodepath[4200], *out, *err;
        const char *argv[6], *env[2] = {NULL, NULL};
        size_t n = 0;
        int rc;

        snprintf(rel, sizeof(rel), "tests/producers/%s", p->file);
        snprintf(path, sizeof(path), "%s", test_path(rel));
        if (ends_with(p->file, ".sh")) {
                argv[n++] = "/bin/sh";
        } else if (ends_with(p->file, ".py")) {
                argv[n++] = "/usr/bin/python3";
        } else {
                argv[n++] = "/usr/bin/env";
                argv[n++] = "node";
                snprintf(nodepath, sizeof(nodepath), "NODE_PATH=%s",
                         node_modules());
                env[0] = nodepath;
        }
        argv[n++] = path;
        argv[n++] = t->bootstrap;
        argv[n++] = p->workflow_id;
        argv[n] = NULL;
        rc = test_run(argv, env, &out, &err);
        ck_assert_msg(rc == 0, "%s exited with %d:\n%s%s", p->file, rc, out,
                      err);
        free(out);
        free(err);
}

/* One SQL value, compared as text. */
static void expect_sql(PGconn *c, const char *want, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void expect_sql(PGconn *c, const char *want, const char *fmt, ...)
{
        char sql[2048], *got;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(sql, sizeof(sql), fmt, ap);
        va_end(ap);
        got = test_pg_value(c, sql);
        ck_assert_msg(got && !strcmp(got, want), "%s\n  expected %s, got %s",
                      sql, want, got ? got : "NULL");
        free(got);
}

/* The event time the producers use too: five minutes ago, ISO-8601 UTC. */
static void recent_time(char *buf, size_t size)
{
        time_t now = time(NULL) - 300;
        struct tm tm;

        gmtime_r(&now, &tm);
        strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A Completed event whose quality_score is a string, sent with kcat;
 * returns the message (caller frees). */
static char *produce_bad(itest_t *t)
{
        char file[4096], when[32], value[1024], *out, *err;
        /* clang-format off */
        const char *argv[] = {"/usr/bin/env", "kcat", "-P", "-b", t->bootstrap,
                              "-t", COMPLETED_TOPIC, "-k", BAD_WORKFLOW,
                              "-l", file, NULL};
        /* clang-format on */
        int rc;

        recent_time(when, sizeof(when));
        snprintf(value, sizeof(value),
                 "{\"event_type\":\"NODE_GENERATION_COMPLETED\","
                 "\"event_timestamp\":\"%s\",\"payload\":{"
                 "\"workflow_id\":\"%s\",\"node_type\":\"effect\","
                 "\"total_duration_seconds\":3.5,"
                 "\"quality_score\":\"0.9\"}}\n",
                 when, BAD_WORKFLOW);
        snprintf(file, sizeof(file), "%s/bad.jsonl", t->dir);
        test_write_file(file, value, strlen(value));
        rc = test_run(argv, NULL, &out, &err);
        ck_assert_msg(rc == 0, "kcat exited with %d: %s", rc, err);
        free(out);
        free(err);
        value[strcspn(value, "\n")] = '\0';
        return strdup(value);
}

static void check_workflow(PGconn *c, const producer_t *p)
{
        static const char *const windows[] = {"hourly", "daily", "weekly",
                                              "monthly"};
        char avg[32];

        /* started -> analyzing -> generating -> validating -> completed */
        expect_sql(c, "completed/validating/4",
                   "SELECT current_state || '/' || previous_state || '/' || "
                   "transition_count FROM workflow_state_current WHERE "
                   "workflow_id = '%s'",
                   p->workflow_id);
        /* node types are distinct per producer: each group holds one
         * workflow, in every window type (summed over windows in case the
         * workflow straddles a boundary) */
        for (size_t w = 0; w < 4; w++) {
                expect_sql(c, "1/1/1/0",
                           "SELECT sum(started_generations) || '/' || "
                           "sum(total_generations) || '/' || "
                           "sum(successful_generations) || '/' || "
                           "sum(failed_generations) FROM "
                           "codegen_metrics_aggregated WHERE aggregation_type "
                           "= 'node_type_grouping' AND group_key = '%s' AND "
                           "window_type = '%s'",
                           p->node_type, windows[w]);
                expect_sql(c, "1",
                           "SELECT sum(successful_generations) FROM "
                           "codegen_metrics_aggregated WHERE aggregation_type "
                           "= 'domain_grouping' AND group_key = '%s' AND "
                           "window_type = '%s'",
                           p->domain, windows[w]);
        }
        /* the hourly cell of the completion carries its quality score */
        snprintf(avg, sizeof(avg), "1/%s", p->quality_score);
        expect_sql(c, avg,
                   "SELECT a.successful_generations || '/' || "
                   "(a.quality_statistics->>'avg_score') FROM "
                   "codegen_metrics_aggregated a JOIN workflow_state_current "
                   "s ON s.workflow_id = '%s' WHERE a.aggregation_type = "
                   "'node_type_grouping' AND a.group_key = '%s' AND "
                   "a.window_type = 'hourly' AND a.window_start <= "
                   "s.state_entry_time AND s.state_entry_time < a.window_end",
                   p->workflow_id, p->node_type);
        /* stage durations arrive in milliseconds, whatever the unit sent */
        snprintf(avg, sizeof(avg), "%ld", p->code_generation_ms);
        expect_sql(c, avg,
                   "SELECT sum((stage_statistics->'code_generation'->>"
                   "'avg_duration_ms')::numeric) FROM "
                   "codegen_metrics_aggregated WHERE aggregation_type = "
                   "'node_type_grouping' AND group_key = '%s' AND "
                   "window_type = 'hourly'",
                   p->node_type);
}

static void check_dead_letter(itest_t *t, const char *bad)
{
        json_t *dlq = itest_consume(t, DLQ_TOPIC), *m, *h, *sent;
        const char *detail;

        ck_assert_msg(json_array_size(dlq) == 1,
                      "%zu dead letters, expected only the bad message",
                      json_array_size(dlq));
        m = json_array_get(dlq, 0);
        h = json_object_get(m, "headers");
        ck_assert_str_eq(json_string_value(json_object_get(m, "key")),
                         BAD_WORKFLOW);
        sent = json_loads(bad, 0, NULL);
        ck_assert_msg(json_equal(sent, json_object_get(m, "value")),
                      "the dead letter does not carry the original message");
        ck_assert_str_eq(json_string_value(json_object_get(h, "error_code")),
                         "wrong_type");
        detail = json_string_value(json_object_get(h, "error_detail"));
        ck_assert_msg(detail && strstr(detail, "quality_score"),
                      "error_detail does not name the field: %s",
                      detail ? detail : "(none)");
        ck_assert_str_eq(json_string_value(json_object_get(h, "source_topic")),
                         COMPLETED_TOPIC);
        ck_assert_str_eq(json_string_value(json_object_get(h, "contract")),
                         "codegen_metrics");
        json_decref(sent);
        json_decref(dlq);
}

/* Runs the producers @p want selects against one worker and checks that
 * each workflow landed; with @p bad, also a message with a wrong field,
 * which must reach the dead-letter topic. */
static void produce_and_check(const char *name,
                              bool (*want)(const producer_t *),
                              bool bad_message)
{
        itest_t t;
        const char *cs[] = {contract(), NULL};
        long total = bad_message ? 1 : 0, cnt = 0;
        char *bad = NULL, want_totals[64];
        PGconn *c;
        pid_t pid;

        for (size_t i = 0; i < PRODUCER_CNT; i++) {
                cnt += want(&producers[i]);
        }
        total += cnt * EVENTS_PER_WORKFLOW;
        itest_init(&t, name);
        itest_kafka(&t, 3, cs);
        itest_config(&t, cs, 100, 200, NULL);
        pid = itest_start(&t, NULL, 1);
        for (size_t i = 0; i < PRODUCER_CNT; i++) {
                if (want(&producers[i])) {
                        run_producer(&t, &producers[i]);
                }
        }
        if (bad_message) {
                bad = produce_bad(&t);
        }
        ck_assert_msg(itest_wait_committed(&t, GROUP, total, 120000),
                      "only %ld of %ld messages committed (worker log: %s)",
                      itest_committed(&t, GROUP), total, t.dir);
        ck_assert_int_eq(itest_committed(&t, GROUP), total);
        ck_assert_int_eq(itest_poll(pid), -2); /* still running */

        c = test_pg_connect(t.conninfo);
        for (size_t i = 0; i < PRODUCER_CNT; i++) {
                if (want(&producers[i])) {
                        check_workflow(c, &producers[i]);
                }
        }
        /* these, and nothing else, in the time_window rows */
        snprintf(want_totals, sizeof(want_totals), "%ld/%ld/0", cnt, cnt);
        expect_sql(c, want_totals,
                   "SELECT sum(started_generations) || '/' || "
                   "sum(successful_generations) || '/' || "
                   "sum(failed_generations) FROM codegen_metrics_aggregated "
                   "WHERE aggregation_type = 'time_window' AND window_type = "
                   "'hourly'");
        {
                /* quality buckets: low < 0.6 <= medium < 0.8 <= high */
                long n[3] = {0, 0, 0};
                char buckets[128] = "", *b = buckets;
                static const char *const names[] = {"high", "low", "medium"};
                for (size_t i = 0; i < PRODUCER_CNT; i++) {
                        double q = atof(producers[i].quality_score);
                        if (want(&producers[i])) {
                                n[q >= 0.8 ? 0 : q < 0.6 ? 1 : 2]++;
                        }
                }
                for (int k = 0; k < 3; k++) {
                        if (n[k]) {
                                b += sprintf(b, "%s%s=%ld",
                                             b == buckets ? "" : " ", names[k],
                                             n[k]);
                        }
                }
                expect_sql(c, buckets,
                           "SELECT string_agg(group_key || '=' || n, ' ' "
                           "ORDER BY group_key) FROM (SELECT group_key, "
                           "sum(successful_generations) n FROM "
                           "codegen_metrics_aggregated WHERE aggregation_type "
                           "= 'quality_buckets' AND window_type = 'hourly' "
                           "GROUP BY group_key) q");
        }
        snprintf(want_totals, sizeof(want_totals), "%ld", cnt);
        expect_sql(c, want_totals,
                   "SELECT count(*) FROM workflow_state_current");
        if (bad_message) {
                expect_sql(c, "0",
                           "SELECT count(*) FROM workflow_state_current "
                           "WHERE workflow_id = '" BAD_WORKFLOW "'");
        }
        PQfinish(c);

        if (bad_message) {
                check_dead_letter(&t, bad);
        }
        ck_assert_int_eq(itest_stop(pid, SIGTERM, 30000), 0);
        free(bad);
        itest_fini(&t);
}

static bool not_node(const producer_t *p)
{
        return !is_node(p);
}

/* kcat and the two Python clients, and a message with a wrong field. */
START_TEST(any_language)
{
        produce_and_check("producers", not_node, true);
}
END_TEST

/* kafkajs, in its own case: without npm only this one fails. */
START_TEST(node)
{
        node_modules(); /* fail early and clearly without kafkajs */
        produce_and_check("producers_node", is_node, false);
}
END_TEST

/* The README's "Producing events" section shows the programs this test
 * runs, character for character. */
START_TEST(docs_show_the_tested_programs)
{
        char *doc = test_markdown_section(test_path(README_MD), SECTION, NULL);

        for (size_t i = 0; i < PRODUCER_CNT; i++) {
                char rel[256];
                char *text;

                snprintf(rel, sizeof(rel), "tests/producers/%s",
                         producers[i].file);
                text = test_read_file(test_path(rel), NULL);
                ck_assert_msg(strstr(doc, text) != NULL,
                              "%s, section \"%s\", does not contain the "
                              "text of %s: copy it into its code block "
                              "unchanged",
                              README_MD, SECTION, rel);
                free(text);
        }
        free(doc);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("producers");
        TCase *tc = tcase_create("docs");

        tcase_add_test(tc, docs_show_the_tested_programs);
        suite_add_tcase(s, tc);
        tc = tcase_create("any_language");
        tcase_set_timeout(tc, 600);
        tcase_add_test(tc, any_language);
        suite_add_tcase(s, tc);
        tc = tcase_create("node");
        tcase_set_timeout(tc, 600);
        tcase_add_test(tc, node);
        suite_add_tcase(s, tc);
        return test_main(s);
}
