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

/* --- re-sent events --------------------------------------------------- */

#define CODEGEN_GROUP "reducerd.codegen_metrics"
#define HTTP          "http:\n  listen: \"127.0.0.1:0\"\n"

static long count_lines(const char *text)
{
        long n = 0;

        for (const char *p = text; *p; p++) {
                n += *p == '\n';
        }
        return n;
}

static long lines_in(const char *path)
{
        char *text = test_read_file(path, NULL);
        long n = count_lines(text);

        free(text);
        return n;
}

/* The lines of @p text (modified in place: split at the newlines). */
static char **split_lines(char *text, long *cnt)
{
        char **lines = calloc((size_t)count_lines(text) + 1, sizeof(*lines));
        long n = 0;

        ck_assert_ptr_nonnull(lines);
        for (char *p = text, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
                *nl = '\0';
                lines[n++] = p;
        }
        *cnt = n;
        return lines;
}

/*
 * The stream with 5 % of its events sent a second time, the same bytes
 * later in their partition: within a few dozen lines in each half, and,
 * at the start of the second half, events of the first (they come after
 * a restart, to a group of two replicas). Writes @p a (first half and
 * its re-sends) and @p b; returns how many were re-sent.
 */
static long write_resent(const char *src, const char *a, const char *b)
{
        char *text = test_read_file(src, NULL);
        long n, resent = 0;
        char **lines = split_lines(text, &n);
        FILE *fa = fopen(a, "w"), *fb = fopen(b, "w");
        long *later = calloc((size_t)n + 64, sizeof(*later));
        uint64_t x = 11;

        ck_assert_ptr_nonnull(fa);
        ck_assert_ptr_nonnull(fb);
        ck_assert_ptr_nonnull(later);
        /* later[i]: 1 + the line re-sent after line i, or 0 */
        for (long i = 0; i < n; i++) {
                x = x * 6364136223846793005ull + 1442695040888963407ull;
                if ((x >> 33) % 20 == 0) {
                        long at = i + 5 + (long)((x >> 40) % 40);
                        if (i < n / 2 && (x >> 50) % 4 == 0) {
                                at = n / 2; /* after the restart */
                        }
                        while (at < n + 63 && later[at]) {
                                at++;
                        }
                        later[at] = i + 1;
                        resent++;
                }
        }
        for (long i = 0; i < n + 64; i++) {
                FILE *fp = i < n / 2 ? fa : fb;
                if (i < n) {
                        fprintf(fp, "%s\n", lines[i]);
                }
                if (later[i]) {
                        fprintf(fp, "%s\n", lines[later[i] - 1]);
                }
        }
        fclose(fa);
        fclose(fb);
        free(later);
        free(lines);
        free(text);
        return resent;
}

/* The summary of a `reduce` output counts @p dups duplicates. */
static bool counts_duplicates(const char *out, long dups)
{
        const char *sum = strstr(out, "{\"summary\":");
        char want[64];

        snprintf(want, sizeof(want), "\"duplicates\":%ld,", dups);
        return sum && strstr(sum, want);
}

/* The duplicates counter of a worker's /metrics. */
static double duplicates_of(int port)
{
        char *m = NULL;
        double d;

        ck_assert_int_eq(itest_http_get(port, "/metrics", &m), 200);
        d = itest_metric(m, "reducerd_events_duplicate_total{contract=\""
                            "codegen_metrics\"}");
        free(m);
        return d;
}

/* Waits until the workers' duplicates add up to @p want (the counters
 * move right after each commit). */
typedef struct dup_wait_s {
        const int *ports;
        int cnt;
        double base, want, got;
} dup_wait_t;

static bool duplicates_reached(void *opaque)
{
        dup_wait_t *w = opaque;

        w->got = w->base;
        for (int i = 0; i < w->cnt; i++) {
                w->got += duplicates_of(w->ports[i]);
        }
        return w->got >= w->want;
}

/* 5 % re-sent events (same key and bytes, later in the partition, some
 * after a restart and a rebalance to two replicas) leave Postgres equal
 * to the stream without them, and are counted as duplicates. */
START_TEST(resent_events)
{
        const char *cs[] = {test_path("contracts/codegen_metrics.yaml"), NULL};
        static const char *const ignore[] = {"transition_id", NULL};
        char a[4200], b[4200], *expected, *dedup;
        const char *file;
        long n = 12000, resent, na, nb;
        dup_wait_t w = {0};
        int ports[2];
        pid_t pid[2];
        itest_t t;
        PGconn *c;

        itest_init(&t, "stuck_resent");
        itest_kafka(&t, 6, cs);
        itest_config(&t, cs, 500, 200, HTTP);
        file = itest_generate(&t, "events.jsonl",
                              "--events 12000 --days 1 --partitions 6 "
                              "--seed 5");
        snprintf(a, sizeof(a), "%s/a.jsonl", t.dir);
        snprintf(b, sizeof(b), "%s/b.jsonl", t.dir);
        resent = write_resent(file, a, b);
        ck_assert_int_gt(resent, n / 25);
        expected = itest_reduce(cs[0], file);
        /* reduce finds the same duplicates (its rows differ only in the
         * transition ids, which name the lines) */
        {
                char both[4200], cmd[13000];
                snprintf(both, sizeof(both), "%s/both.jsonl", t.dir);
                snprintf(cmd, sizeof(cmd), "cat '%s' '%s' > '%s'", a, b, both);
                ck_assert_int_eq(system(cmd), 0);
                dedup = itest_reduce(cs[0], both);
                ck_assert_msg(counts_duplicates(dedup, resent),
                              "reduce counts other duplicates than %ld",
                              resent);
                free(dedup);
        }
        na = lines_in(a);
        nb = lines_in(b);
        ck_assert_int_eq(na + nb, n + resent);

        /* the first half with its re-sends, one worker */
        itest_produce(&t, a, 1, na);
        pid[0] = itest_start(&t, NULL, 1);
        ports[0] = itest_http_port(&t, 1);
        ck_assert(itest_wait_committed(&t, CODEGEN_GROUP, na, 120000));
        w.ports = ports;
        w.cnt = 1;
        ck_assert(test_wait_for(duplicates_reached, &w, 30000));
        w.base = w.got;
        ck_assert_int_eq(itest_stop(pid[0], SIGTERM, 30000), 0);

        /* the rest, re-sends of the first half first, two workers */
        itest_produce(&t, b, 1, nb);
        pid[0] = itest_start(&t, NULL, 2);
        pid[1] = itest_start(&t, NULL, 3);
        ports[0] = itest_http_port(&t, 2);
        ports[1] = itest_http_port(&t, 3);
        ck_assert_msg(itest_wait_committed(&t, CODEGEN_GROUP, na + nb, 180000),
                      "%ld of %ld committed",
                      itest_committed(&t, CODEGEN_GROUP), na + nb);
        w.cnt = 2;
        w.want = (double)resent;
        ck_assert_msg(test_wait_for(duplicates_reached, &w, 30000),
                      "%g duplicates counted, %ld re-sent", w.got, resent);
        ck_assert_double_eq(w.got, (double)resent);

        ck_assert_int_gt(itest_compare_table(&t, expected,
                                             "codegen_metrics_aggregated",
                                             "aggregation_id"),
                         100);
        ck_assert_int_gt(itest_compare_rows(&t, expected,
                                            "workflow_state_history", ignore),
                         1000);
        ck_assert_int_gt(itest_compare_table(&t, expected,
                                             "workflow_state_current",
                                             "workflow_id"),
                         100);
        /* one seen key per event */
        c = test_pg_connect(t.conninfo);
        {
                char *v = test_pg_value(c, "SELECT count(*) FROM "
                                           "reducerd_dedupe WHERE contract = "
                                           "'codegen_metrics'");
                ck_assert_int_eq(atol(v), n);
                free(v);
        }
        PQfinish(c);
        for (int i = 0; i < 2; i++) {
                ck_assert_int_eq(itest_stop(pid[i], SIGTERM, 30000), 0);
        }
        free(expected);
        itest_fini(&t);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("stuck");

        /* each can be run alone: CK_RUN_CASE=input */
        test_add_case(s, "input", unstorable_input, 600);
        test_add_case(s, "resent", resent_events, 600);
        return test_main(s);
}
