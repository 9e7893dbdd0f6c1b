/*
 * Integration: nothing stuck (issue 12). A message no contract can store
 * must end as a dead letter and let the rest of its batch commit, never
 * stop its contract: messages of 1 MB and more (too large for a dead
 * letter as they are), a number that underflows, event times PostgreSQL
 * cannot store, on a fresh partition. The tables must equal `reducerd
 * reduce` over the good events alone.
 */
#include "red_itest.h"
#include "red_time.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AGENT_GROUP "reducerd.agent_metrics"
#define AGENT_DLQ   "dev.agent.metrics.dead-letter.v1"
#define PARTITIONS  3

static const char *const topics[5][2] = {
        {"dev.agent.metrics.routing.v1", "agent_routing_metrics"},
        {"dev.agent.metrics.state-ops.v1", "agent_state_metrics"},
        {"dev.agent.metrics.coordination.v1", "agent_coordination_metrics"},
        {"dev.agent.metrics.workflow.v1", "agent_workflow_metrics"},
        {"dev.agent.metrics.ai-quorum.v1", "agent_quorum_metrics"},
};

/* One metric line of topic @p topic[@p part]: id, time (ISO), value (JSON
 * text), and @p extra members (JSON text, may be ""). */
static void put_metric(FILE *fp, int topic, int part, const char *id,
                       const char *ts, const char *value, const char *extra)
{
        fprintf(fp,
                "{\"event_type\":\"metric.recorded\",\"timestamp\":\"%s\","
                "\"payload\":{\"metric_id\":\"%s\",\"metric_name\":"
                "\"latency_ms\",\"metric_type\":\"timing\",\"value\":%s,"
                "\"unit\":\"ms\",\"agent_id\":\"agent-%d\"%s},"
                "\"_topic\":\"%s\",\"_partition\":%d}\n",
                ts, id, value, part, extra, topics[topic][0], part);
}

/* @p n good metrics over the last 90 minutes, spread over every topic and
 * partition, in time order. */
static void write_good(const char *path, long n)
{
        FILE *fp = fopen(path, "w");
        red_time_t start = red_time_now() - 90 * RED_TIME_US_PER_MIN;

        ck_assert_ptr_nonnull(fp);
        for (long i = 0; i < n; i++) {
                char ts[RED_TIME_FMT_SIZE], id[32], value[32];

                red_time_format(start + i * (80 * RED_TIME_US_PER_MIN / n), ts,
                                sizeof(ts));
                snprintf(id, sizeof(id), "g-%ld", i);
                snprintf(value, sizeof(value), "%ld.25", i % 40);
                put_metric(fp, (int)(i % 5), (int)(i / 5 % PARTITIONS), id, ts,
                           value, "");
        }
        fclose(fp);
}

/* A tags member padded to about @p bytes. */
static char *padding(size_t bytes)
{
        static const char head[] = ",\"tags\":{\"pad\":\"";
        char *s = malloc(sizeof(head) + bytes + 2);

        ck_assert_ptr_nonnull(s);
        memcpy(s, head, sizeof(head) - 1);
        memset(s + sizeof(head) - 1, 'x', bytes);
        strcpy(s + sizeof(head) - 1 + bytes, "\"}");
        return s;
}

/* What a bad line must become. */
typedef struct bad_s {
        const char *id;     /* metric_id */
        const char *code;   /* error_code of its dead letter */
        bool truncated;     /* its letter keeps only the first bytes */
        const char *detail; /* in its error_detail */
} bad_t;

/* clang-format off */
static const bad_t bads[] = {
        {"big", "too_large", true, "bytes, at most 1048576"},
        {"near-big", "not_allowed", true, "histogram"},
        {"underflow", "out_of_range", false, "underflow"},
        {"year-1", "out_of_range", false, "0001-01-01T00:00:00Z"},
        {"year-9999", "out_of_range", false, "9999-12-31T23:59:00Z is outside"},
        /* refused by PostgreSQL: a CHECK on a raw table names the COPY
         * line; one on the rollups names no event (narrowed down) */
        {"check-666", "storage_rejected", false,
         "SQLSTATE 23514: new row for relation"},
        {"check-777", "storage_rejected", false,
         "violates check constraint \"no_777\""},
};
/* clang-format on */
#define BAD_CNT (sizeof(bads) / sizeof(bads[0]))

/* The bad lines, produced before the good ones: the year-1 metric is the
 * first of its partition, which has no watermark yet. */
static void write_bad(const char *path)
{
        FILE *fp = fopen(path, "w");
        char now[RED_TIME_FMT_SIZE], *pad;

        ck_assert_ptr_nonnull(fp);
        red_time_format(red_time_now() - 30 * RED_TIME_US_PER_MIN, now,
                        sizeof(now));
        /* 1.1 MB: too large to decode, and as a dead letter */
        pad = padding(1100 * 1000);
        put_metric(fp, 0, 0, "big", now, "1", pad);
        free(pad);
        /* 1 MB, decoded but invalid: too large as a dead letter */
        pad = padding(1000 * 1000);
        fprintf(fp,
                "{\"event_type\":\"metric.recorded\",\"timestamp\":\"%s\","
                "\"metric_id\":\"near-big\",\"metric_name\":\"x\","
                "\"metric_type\":\"histogram\",\"value\":1,\"unit\":\"ms\""
                "%s,\"_topic\":\"%s\",\"_partition\":1}\n",
                now, pad, topics[0][0]);
        free(pad);
        put_metric(fp, 2, 2, "underflow", now, "1e-400", "");
        put_metric(fp, 1, 1, "year-1", "0001-01-01T00:00:00Z", "1", "");
        put_metric(fp, 4, 0, "year-9999", "9999-12-31T23:59:00Z", "1", "");
        put_metric(fp, 3, 1, "check-666", now, "666", "");
        put_metric(fp, 2, 0, "check-777", now, "777", "");
        fclose(fp);
}

/* True when dead letter @p m is the one of metric @p id: its value is the
 * message (JSON), or its first bytes (a string). */
static bool letter_of(json_t *m, const char *id)
{
        json_t *v = json_object_get(m, "value");
        char want[64];

        if (json_is_object(v)) {
                json_t *pl = json_object_get(v, "payload");
                const char *got = json_string_value(
                        json_object_get(pl ? pl : v, "metric_id"));
                return got && !strcmp(got, id);
        }
        snprintf(want, sizeof(want), "\"metric_id\":\"%s\"", id);
        return json_is_string(v) && strstr(json_string_value(v), want);
}

/* The dead letters are the bad lines', with their codes; the oversized
 * ones cut to their first bytes, with the original size in a header. */
static void check_dead_letters(itest_t *t, const bad_t *bad, size_t cnt)
{
        json_t *msgs = itest_consume(t, AGENT_DLQ), *m;
        size_t i;

        ck_assert_int_eq(json_array_size(msgs), cnt);
        for (size_t b = 0; b < cnt; b++) {
                bool found = false;

                json_array_foreach(msgs, i, m)
                {
                        json_t *h = json_object_get(m, "headers");
                        const char *cut, *size;

                        if (!letter_of(m, bad[b].id)) {
                                continue;
                        }
                        found = true;
                        ck_assert_str_eq(json_string_value(json_object_get(
                                                 h, "error_code")),
                                         bad[b].code);
                        ck_assert_msg(strstr(json_string_value(json_object_get(
                                                     h, "error_detail")),
                                             bad[b].detail),
                                      "%s: detail %s", bad[b].id,
                                      json_string_value(json_object_get(
                                              h, "error_detail")));
                        ck_assert_ptr_nonnull(
                                json_object_get(h, "source_offset"));
                        cut = json_string_value(
                                json_object_get(h, "payload_truncated"));
                        size = json_string_value(
                                json_object_get(h, "original_size"));
                        if (!bad[b].truncated) {
                                ck_assert_ptr_null(cut);
                                continue;
                        }
                        ck_assert_str_eq(cut, "true");
                        ck_assert_int_gt(atol(size), 1000 * 1000);
                        ck_assert_uint_le(strlen(json_string_value(
                                                  json_object_get(m, "value"))),
                                          1024);
                }
                ck_assert_msg(found, "no dead letter for %s", bad[b].id);
        }
        json_decref(msgs);
}

/* Constraints the engine knows nothing of: PostgreSQL refuses what the
 * decoder accepted. */
static void constrain(itest_t *t)
{
        PGconn *c = test_pg_connect(t->conninfo);

        test_pg_exec(c, "ALTER TABLE agent_workflow_metrics ADD CONSTRAINT "
                        "no_666 CHECK (value <> 666)");
        test_pg_exec(c, "ALTER TABLE agent_metrics_rollup ADD CONSTRAINT "
                        "no_777 CHECK (max <> 777)");
        PQfinish(c);
}

START_TEST(unstorable_input)
{
        const char *cs[] = {test_path("contracts/agent_metrics.yaml"), NULL};
        char good[4200], bad[4200], *expected;
        long n = 1500;
        itest_t t;
        pid_t pid;

        itest_init(&t, "stuck_input");
        itest_kafka(&t, PARTITIONS, cs);
        itest_config(&t, cs, 400, 200, NULL);
        snprintf(good, sizeof(good), "%s/good.jsonl", t.dir);
        snprintf(bad, sizeof(bad), "%s/bad.jsonl", t.dir);
        write_good(good, n);
        write_bad(bad);
        expected = itest_reduce(cs[0], good);
        constrain(&t);
        itest_produce(&t, bad, 1, BAD_CNT);
        itest_produce(&t, good, 1, n);
        pid = itest_start(&t, NULL, 1);
        ck_assert_msg(itest_wait_committed(&t, AGENT_GROUP, n + (long)BAD_CNT,
                                           120000),
                      "%ld of %ld committed", itest_committed(&t, AGENT_GROUP),
                      n + (long)BAD_CNT);
        for (size_t i = 0; i < 5; i++) {
                ck_assert_int_gt(itest_compare_table(&t, expected, topics[i][1],
                                                     "metric_id"),
                                 0);
        }
        ck_assert_int_gt(itest_compare_table(&t, expected,
                                             "agent_metrics_rollup",
                                             "aggregation_id"),
                         0);
        check_dead_letters(&t, bads, BAD_CNT);
        ck_assert_int_eq(itest_stop(pid, SIGTERM, 30000), 0);
        free(expected);
        itest_fini(&t);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("stuck");

        /* each can be run alone: CK_RUN_CASE=input */
        test_add_case(s, "input", unstorable_input, 600);
        return test_main(s);
}
