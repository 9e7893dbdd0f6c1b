/*
 * Integration: embedded Kafka (a separate mock process) -> reducerd ->
 * PostgreSQL, compared row by row with `reducerd reduce` over the same
 * events: one worker, crashes at failpoints, workers killed and added,
 * poison input, a PostgreSQL restart.
 */
#include "red_itest.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GROUP "reducerd.codegen_metrics"
#define OUT_TOPIC "dev.omninode-bridge.codegen.metrics-recorded.v1"
#define DLQ_TOPIC "dev.reducerd.codegen-metrics.dead-letter.v1"

static const char *contract(void)
{
        return test_path("contracts/codegen_metrics.yaml");
}

static long lines_of(const char *file)
{
        char *text = test_read_file(file, NULL);
        long n = 0;

        for (char *p = text; *p; p++) {
                n += *p == '\n';
        }
        free(text);
        return n;
}

static void compare_all(itest_t *t, const char *expected)
{
        long cells = itest_compare_table(t, expected,
                                         "codegen_metrics_aggregated",
                                         "aggregation_id");
        /* transition ids name the source message (topic/partition/offset),
         * which `reduce` numbers by line */
        static const char *const ignore[] = {"transition_id", NULL};
        long hist = itest_compare_rows(t, expected, "workflow_state_history",
                                       ignore);
        long cur = itest_compare_table(t, expected, "workflow_state_current",
                                       "workflow_id");

        ck_assert_int_gt(cells, 100);
        ck_assert_int_gt(hist, 1000);
        ck_assert_int_gt(cur, 1000);
}

/* Every cell's current revision reached the output topic (at least once),
 * and the outbox is empty. */
static void check_published(itest_t *t)
{
        PGconn *c = test_pg_connect(t->conninfo);
        long long deadline = test_now_ms() + 30000;
        char *depth = NULL;
        json_t *msgs, *latest = json_object(), *m;
        PGresult *res;
        size_t i;

        for (;;) {
                free(depth);
                depth = test_pg_value(c, "SELECT count(*) FROM "
                                         "reducerd_outbox");
                if (!strcmp(depth, "0") || test_now_ms() > deadline) {
                        break;
                }
                usleep(200 * 1000);
        }
        ck_assert_msg(!strcmp(depth, "0"), "%s outbox rows not published",
                      depth);
        free(depth);
        msgs = itest_consume(t, OUT_TOPIC);
        json_array_foreach(msgs, i, m) {
                json_t *pl = json_object_get(json_object_get(m, "value"),
                                             "payload");
                const char *id = json_string_value(
                        json_object_get(pl, "aggregation_id"));
                json_int_t rev = json_integer_value(
                        json_object_get(pl, "revision"));
                json_t *seen = json_object_get(latest, id);

                ck_assert_str_eq(json_string_value(json_object_get(
                                         json_object_get(m, "value"),
                                         "event_type")),
                                 "GENERATION_METRICS_RECORDED");
                if (!seen || json_integer_value(seen) < rev) {
                        json_object_set_new(latest, id, json_integer(rev));
                }
        }
        res = PQexec(c, "SELECT aggregation_id, revision FROM "
                        "codegen_metrics_aggregated");
        ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
        for (int r = 0; r < PQntuples(res); r++) {
                json_t *seen = json_object_get(latest, PQgetvalue(res, r, 0));
                ck_assert_msg(seen, "cell %s was never published",
                              PQgetvalue(res, r, 0));
                ck_assert_int_eq(json_integer_value(seen),
                                 atoll(PQgetvalue(res, r, 1)));
        }
        PQclear(res);
        PQfinish(c);
        json_decref(msgs);
        json_decref(latest);
}

START_TEST(ground_truth)
{
        itest_t t;
        const char *cs[] = {contract(), NULL};
        const char *file;
        char *expected;
        long n;
        pid_t pid;

        itest_init(&t, "pipeline_truth");
        itest_kafka(&t, 12, cs);
        itest_config(&t, cs, 5000, 300, NULL);
        file = itest_generate(&t, "events.jsonl",
                              "--events 100000 --days 3 --partitions 12 "
                              "--seed 7");
        n = lines_of(file);
        ck_assert_int_eq(n, 100000);
        itest_produce(&t, file, 1, n);
        expected = itest_reduce(contract(), file);
        pid = itest_start(&t, NULL, 1);
        ck_assert_msg(itest_wait_committed(&t, GROUP, n, 180000),
                      "only %ld of %ld offsets committed",
                      itest_committed(&t, GROUP), n);
        compare_all(&t, expected);
        check_published(&t);
        ck_assert_int_eq(itest_stop(pid, SIGTERM, 30000), 0);
        free(expected);
        itest_fini(&t);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("pipeline");
        TCase *tc = tcase_create("pipeline");

        tcase_set_timeout(tc, 900);
        tcase_add_test(tc, ground_truth);
        suite_add_tcase(s, tc);
        return test_main(s);
}
