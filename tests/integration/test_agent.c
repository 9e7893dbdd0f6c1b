/*
 * Integration: agent metrics (contracts/agent_metrics.yaml) through the
 * embedded Kafka into PostgreSQL next to the codegen contract in one
 * `reducerd run`, compared with `reducerd reduce` over the same events:
 * raw rows in daily partitions created by the writing transactions,
 * re-sent metrics stored once, rollups, alerts with their cooldown and
 * their events, dead letters with reasons; then `reducerd maintain`.
 */
#include "red_itest.h"
#include "red_time.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GROUP         "reducerd.agent_metrics"
#define CODEGEN_GROUP "reducerd.codegen_metrics"
#define ALERT_TOPIC   "dev.agent.alerts.v1"
#define DLQ_TOPIC     "dev.agent.metrics.dead-letter.v1"
#define PARTITIONS    3
#define HTTP          "http:\n  listen: \"127.0.0.1:0\"\n"

static const char *const categories[5][4] = {
        /* topic suffix, table, two metric names */
        {"routing", "agent_routing_metrics", "routing_decision_time_ms",
         "routing_cache_hit_rate"},
        {"state-ops", "agent_state_metrics", "state_get_time_ms",
         "state_snapshot_size_kb"},
        {"coordination", "agent_coordination_metrics",
         "coordination_overhead_ms", "coordination_agent_count"},
        {"workflow", "agent_workflow_metrics", "workflow_execution_time_ms",
         "workflow_success_rate"},
        {"ai-quorum", "agent_quorum_metrics", "quorum_latency_ms",
         "quorum_consensus_score"},
};

/* Per metric name: a typical value and one that crosses its rules. */
static double value_of(const char *name, bool crossing, uint64_t r)
{
        double jitter = (double)(r % 1000) / 1000.0;

        if (strstr(name, "rate")) {
                return crossing ? 40 + 30 * jitter : 85 + 10 * jitter;
        }
        if (strstr(name, "score")) {
                return crossing ? 0.3 + 0.2 * jitter : 0.8 + 0.2 * jitter;
        }
        if (strstr(name, "count")) {
                return crossing ? 11 + (double)(r % 20) : (double)(r % 10);
        }
        if (strstr(name, "size_kb")) {
                return crossing ? 600 + 100 * jitter : 50 + 40 * jitter;
        }
        if (!strcmp(name, "coordination_overhead_ms")) {
                return crossing ? 6000 + 8000 * jitter : 500 + 2000 * jitter;
        }
        if (!strcmp(name, "workflow_execution_time_ms")) {
                return crossing ? 12000 + 5000 * jitter : 1000 + 3000 * jitter;
        }
        return crossing ? 60 + 100 * jitter : 1 + 4 * jitter;
}

static uint64_t next(uint64_t *x)
{
        uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
}

typedef struct counts_s {
        long lines, resent, invalid;
} counts_t;

/*
 * @p n metrics over the three days before now, in time order with up to
 * 20 s of disorder, as the reference collector sends them (nested
 * envelope, no key); 2% are sent a second time a little later on another
 * partition; 1% are invalid in one of five ways.
 */
static void write_metrics(const char *path, long n, counts_t *k)
{
        FILE *fp = fopen(path, "w");
        red_time_t start = red_time_now() - 3 * 86400 * INT64_C(1000000);
        red_time_t step = (3 * 86400 - 3600) * INT64_C(1000000) / n;
        char(*resend)[1024] = calloc((size_t)n, sizeof(*resend));
        uint64_t x = 7;

        ck_assert_ptr_nonnull(fp);
        ck_assert_ptr_nonnull(resend);
        memset(k, 0, sizeof(*k));
        for (long i = 0; i < n; i++) {
                uint64_t r = next(&x);
                int cat = (int)(r % 5), part = (int)((r >> 8) % PARTITIONS);
                const char *name = categories[cat][2 + (r >> 12) % 2];
                /* agent-0 misbehaves often: its rules fire and cool down */
                int agent = (int)((r >> 16) % 9);
                bool crossing =
                        agent == 0 ? (r >> 20) % 2 : (r >> 20) % 50 == 0;
                red_time_t t = start + i * step +
                               (red_time_t)((r >> 24) % 20) * 1000000;
                char ts[RED_TIME_FMT_SIZE], line[1024], agent_json[64];
                char value[64];
                int bad = (r >> 32) % 100 == 0 ? (int)((r >> 40) % 5) + 1 : 0;

                red_time_format(t, ts, sizeof(ts));
                snprintf(value, sizeof(value), "%.4f",
                         value_of(name, crossing, r >> 44));
                if (agent == 8) {
                        snprintf(agent_json, sizeof(agent_json), "null");
                } else {
                        snprintf(agent_json, sizeof(agent_json), "\"agent-%d\"",
                                 agent);
                }
                snprintf(
                        line, sizeof(line),
                        "{\"event_type\":\"metric.recorded\",\"event_version\":"
                        "\"v1\",\"event_id\":\"e-%ld\",\"timestamp\":\"%s\","
                        "\"source_service\":\"omninode-bridge\","
                        "\"correlation_id\":\"c-%ld\",\"payload\":{"
                        "\"metric_id\":\"m-%ld\",\"metric_name\":\"%s\","
                        "\"metric_type\":\"%s\",\"value\":%s,\"unit\":\"%s\","
                        "\"tags\":{\"host\":\"h%d\"%s},\"agent_id\":%s,"
                        "\"correlation_id\":\"c-%ld\"%s},"
                        "\"_topic\":\"dev.agent.metrics.%s.v1\","
                        "\"_partition\":%d}\n",
                        i, ts, i / 10, i,
                        bad == 2   ? ""
                        : bad == 3 ? "xxxxxxxxxxxxxxxxxxxxxxxxx"
                                     "xxxxxxxxxxxxxxxxxxxxxxxxx"
                                     "xxxxxxxxxxxxxxxxxxxxxxxxx"
                                     "xxxxxxxxxxxxxxxxxxxxxxxxxx"
                                   : name,
                        bad == 1               ? "histogram"
                        : strstr(name, "rate") ? "rate"
                        : strstr(name, "_ms")  ? "timing"
                                               : "gauge",
                        bad == 4 ? "NaN" : value,
                        strstr(name, "_ms") ? "ms" : "1", (int)(r % 4),
                        bad == 5 ? ",\"retries\":3" : "", agent_json, i / 10,
                        /* a third was sampled by its producer: the rollups
                         * weigh it (state format 2 through Postgres) */
                        (r >> 56) % 3 == 0 ? ",\"sample_rate\":0.04" : "",
                        categories[cat][0], part);
                fputs(line, fp);
                k->lines++;
                k->invalid += bad != 0;
                if (!bad && (r >> 48) % 50 == 0) {
                        /* re-sent later, to another partition */
                        char *p = strstr(line, "\"_partition\":");
                        snprintf(p, sizeof(line) - (size_t)(p - line),
                                 "\"_partition\":%d}\n",
                                 (part + 1) % PARTITIONS);
                        memcpy(resend[(i + 40) % n], line, sizeof(line));
                }
                if (resend[i][0]) {
                        fputs(resend[i], fp);
                        k->lines++;
                        k->resent++;
                }
        }
        free(resend);
        fclose(fp);
}

static long count(PGconn *c, const char *sql)
{
        char *v = test_pg_value(c, sql);
        long n = atol(v);

        free(v);
        return n;
}

/* Names of the day partitions of @p table, comma-separated and sorted. */
static char *partitions_of(PGconn *c, const char *table)
{
        char sql[512];

        snprintf(sql, sizeof(sql),
                 "SELECT coalesce(string_agg(c.relname, ',' ORDER BY "
                 "c.relname), '') FROM pg_inherits i JOIN pg_class c ON "
                 "c.oid = i.inhrelid WHERE i.inhparent = '%s'::regclass",
                 table);
        return test_pg_value(c, sql);
}

/* agent_routing_metrics_YYYY_MM_DD of the day holding @p secs. */
static void day_partition(int64_t secs, char *buf, size_t size)
{
        time_t t = (time_t)secs;
        struct tm tm;
        char day[16];

        gmtime_r(&t, &tm);
        strftime(day, sizeof(day), "%Y_%m_%d", &tm);
        snprintf(buf, size, "agent_routing_metrics_%s", day);
}

static void check_dead_letters(itest_t *t, long want)
{
        static const char *const reasons[] = {
                "metric_type: \"histogram\" is not one of the allowed values",
                "metric_name: 0 characters, allowed 1..100",
                "metric_name: 101 characters, allowed 1..100",
                "NaN and Infinity are not JSON numbers",
                "tags.retries: expected a string, got an integer"};
        json_t *msgs = itest_consume(t, DLQ_TOPIC), *m;
        bool seen[5] = {false};
        size_t i;

        ck_assert_int_eq((long)json_array_size(msgs), want);
        json_array_foreach(msgs, i, m)
        {
                const char *detail = json_string_value(json_object_get(
                        json_object_get(m, "headers"), "error_detail"));
                ck_assert_ptr_nonnull(detail);
                for (size_t r = 0; r < 5; r++) {
                        seen[r] |= strstr(detail, reasons[r]) != NULL;
                }
        }
        for (size_t r = 0; r < 5; r++) {
                ck_assert_msg(seen[r], "no dead letter says \"%s\"",
                              reasons[r]);
        }
        json_decref(msgs);
}

static void check_alert_events(itest_t *t, long want)
{
        json_t *msgs = itest_consume(t, ALERT_TOPIC), *m, *ids = json_object();
        size_t i;

        json_array_foreach(msgs, i, m)
        {
                json_t *v = json_object_get(m, "value");
                json_t *pl = json_object_get(v, "payload");

                ck_assert_str_eq(
                        json_string_value(json_object_get(v, "event_type")),
                        "alert.triggered");
                for (const char *const *f =
                             (const char *const[]){
                                     "alert_id", "severity", "metric_name",
                                     "threshold", "actual_value", "message",
                                     "tags", "correlation_id", NULL};
                     *f; f++) {
                        ck_assert_msg(json_object_get(pl, *f),
                                      "alert event "
                                      "without %s",
                                      *f);
                }
                json_object_set(
                        ids, json_string_value(json_object_get(pl, "alert_id")),
                        json_true());
        }
        /* the relay delivers at least once; every alert got out */
        ck_assert_int_eq((long)json_object_size(ids), want);
        json_decref(ids);
        json_decref(msgs);
}

/*
 * The shipped agent contract without its window rules, in the test's
 * directory: this suite compares the per-event alerts with `reduce`, which
 * has no batches to judge windows on (tests/integration/test_alerts.c
 * covers the window rules). Returns the path (static).
 */
static const char *per_event_rules_only(itest_t *t)
{
        static char path[4200];
        char *text =
                test_read_file(test_path("contracts/agent_metrics.yaml"), NULL);
        char *cut = strstr(text, "\n  window_rules:");

        ck_assert_ptr_nonnull(cut);
        cut[1] = '\0';
        snprintf(path, sizeof(path), "%s/agent_metrics.yaml", t->dir);
        test_write_file(path, text, strlen(text));
        free(text);
        return path;
}

START_TEST(metrics_to_postgres)
{
        const char *cs[] = {test_path("contracts/codegen_metrics.yaml"), NULL,
                            NULL};
        char path[4200], *expected, *codegen_expected, *m, *parts, *after;
        char maintain_now[RED_TIME_FMT_SIZE];
        const char *codegen;
        long n = 6000, rows = 0, stored, alerts, codegen_n = 2000;
        counts_t k;
        itest_t t;
        PGconn *c;
        pid_t pid;
        int port;

        itest_init(&t, "agent");
        cs[1] = per_event_rules_only(&t);
        itest_kafka(&t, PARTITIONS, cs);
        itest_config(&t, cs, 1000, 200, HTTP);
        snprintf(path, sizeof(path), "%s/metrics.jsonl", t.dir);
        write_metrics(path, n, &k);
        codegen = itest_generate(&t, "codegen.jsonl",
                                 "--events 2000 --partitions 3");
        expected = itest_reduce(cs[1], path);
        codegen_expected = itest_reduce(cs[0], codegen);
        c = test_pg_connect(t.conninfo);
        for (size_t i = 0; i < 5; i++) {
                parts = partitions_of(c, categories[i][1]);
                ck_assert_str_eq(parts, "");
                free(parts);
        }

        itest_produce(&t, path, 1, k.lines);
        itest_produce(&t, codegen, 1, codegen_n);
        pid = itest_start(&t, NULL, 1);
        port = itest_http_port(&t, 1);
        ck_assert_msg(itest_wait_committed(&t, GROUP, k.lines, 180000),
                      "agent metrics: %ld of %ld committed",
                      itest_committed(&t, GROUP), k.lines);
        ck_assert(itest_wait_committed(&t, CODEGEN_GROUP, codegen_n, 180000));

        /* rows: the reduce output exactly, one per metric_id */
        for (size_t i = 0; i < 5; i++) {
                char sql[256];
                rows += itest_compare_table(&t, expected, categories[i][1],
                                            "metric_id");
                snprintf(sql, sizeof(sql),
                         "SELECT count(*) - count(DISTINCT metric_id) FROM "
                         "%s",
                         categories[i][1]);
                ck_assert_int_eq(count(c, sql), 0);
        }
        stored = k.lines - k.resent - k.invalid;
        ck_assert_int_eq(rows, stored);
        ck_assert_int_gt(k.resent, 50);
        ck_assert_int_gt(itest_compare_table(&t, expected,
                                             "agent_metrics_rollup",
                                             "aggregation_id"),
                         100);
        /* alert ids name the source message (topic/partition/offset),
         * which `reduce` numbers by line */
        alerts = itest_compare_rows(
                &t, expected, "agent_alerts",
                (const char *const[]){"alert_id", "created_at", NULL});
        ck_assert_int_gt(alerts, 20);
        /* a rule fires at most once per 5 minutes for an agent, and the
         * busy agent's rules did fire again after their cooldown */
        ck_assert_int_eq(count(c, "SELECT count(*) FROM (SELECT triggered_at "
                                  "- lag(triggered_at) OVER (PARTITION BY "
                                  "rule_id, agent_id ORDER BY triggered_at) "
                                  "AS gap FROM agent_alerts) g WHERE gap < "
                                  "interval '5 minutes'"),
                         0);
        ck_assert_int_gt(count(c, "SELECT max(n) FROM (SELECT count(*) AS n "
                                  "FROM agent_alerts WHERE agent_id = "
                                  "'agent-0' GROUP BY rule_id) r"),
                         1);
        /* the codegen contract ran in the same process */
        ck_assert_int_gt(itest_compare_table(&t, codegen_expected,
                                             "codegen_metrics_aggregated",
                                             "aggregation_id"),
                         10);

        /* daily partitions of the past days, created by the writes (none
         * existed before; maintenance creates today's and later ones) */
        parts = partitions_of(c, "agent_routing_metrics");

        /* the last batch's counters land right after its commit (the
         * assertions below tell what they are if they never get there) */
        itest_wait_metric(port,
                          "reducerd_events_consumed_total{contract="
                          "\"agent_metrics\"}",
                          (double)k.lines, 10000);
        ck_assert_int_eq(itest_http_get(port, "/metrics", &m), 200);
        ck_assert_int_eq((long)itest_metric(m, "reducerd_events_duplicate_"
                                               "total{contract=\"agent_"
                                               "metrics\"}"),
                         k.resent);
        ck_assert_int_eq((long)(itest_metric(m, "reducerd_alerts_total{"
                                                "contract=\"agent_metrics\","
                                                "severity=\"CRITICAL\"}") +
                                itest_metric(m, "reducerd_alerts_total{"
                                                "contract=\"agent_metrics\","
                                                "severity=\"WARNING\"}") +
                                itest_metric(m, "reducerd_alerts_total{"
                                                "contract=\"agent_metrics\","
                                                "severity=\"INFO\"}")),
                         alerts);
        free(m);
        check_dead_letters(&t, k.invalid);
        check_alert_events(&t, alerts);
        ck_assert_int_eq(itest_stop(pid, SIGTERM, 30000), 0);

        /* 92 days on: the data's days are past the 90-day retention and
         * the next week exists */
        red_time_format(red_time_now() + 92 * 86400 * INT64_C(1000000),
                        maintain_now, sizeof(maintain_now));
        {
                const char *argv[] = {test_bin(), "maintain",   "-c", t.config,
                                      "--now",    maintain_now, NULL};
                char *out, *err;
                int rc = test_run(argv, NULL, &out, &err);
                ck_assert_msg(rc == 0, "maintain: %s", err);
                free(out);
                free(err);
        }
        after = partitions_of(c, "agent_routing_metrics");
        for (int d = 1; d <= 3; d++) {
                /* the data's days: written, then past retention */
                char name[64];
                day_partition(red_time_now() / 1000000 - d * 86400, name,
                              sizeof(name));
                ck_assert_msg(strstr(parts, name), "no %s in %s", name, parts);
                ck_assert_msg(!strstr(after, name), "%s survived retention",
                              name);
        }
        for (int d = 92; d <= 95; d++) {
                /* and the coming days are there */
                char name[64];
                day_partition(red_time_now() / 1000000 + d * 86400, name,
                              sizeof(name));
                ck_assert_msg(strstr(after, name), "no %s in %s", name, after);
        }
        ck_assert_int_eq(count(c, "SELECT count(*) FROM "
                                  "agent_routing_metrics"),
                         0);
        free(parts);
        free(after);
        PQfinish(c);
        free(expected);
        free(codegen_expected);
        itest_fini(&t);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("agent");
        TCase *tc = tcase_create("agent");

        tcase_set_timeout(tc, 600);
        tcase_add_test(tc, metrics_to_postgres);
        suite_add_tcase(s, tc);
        return test_main(s);
}
