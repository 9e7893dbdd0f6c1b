/*
 * Integration: nothing lost in the Kafka edge (issue 12). Every message is
 * counted once, where it arrives, whatever happens to it (empty values and
 * tombstones included) and whichever replica commits it; offsets the
 * broker no longer has, or that belong to another log, are found, logged,
 * counted and handled by kafka.offset_gap_policy.
 */
#include "red_itest.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define GROUP         "reducerd.codegen_metrics"
#define HTTP          "http:\n  listen: \"127.0.0.1:0\"\n"
#define STARTED_TOPIC "dev.omninode-bridge.codegen.generation-started.v1"
#define SERIES(name)  name "{contract=\"codegen_metrics\"}"

static const char *contract(void)
{
        return test_path("contracts/codegen_metrics.yaml");
}

/* The counters of one replica's /metrics. */
typedef struct counts_s {
        double consumed, applied, dead, dropped, dups, empty;
} counts_t;

static counts_t counts_of(int port)
{
        char *m;
        counts_t k = {0};

        ck_assert_int_eq(itest_http_get(port, "/metrics", &m), 200);
        k.consumed = itest_metric(m, SERIES("reducerd_events_consumed_total"));
        k.applied = itest_metric(m, SERIES("reducerd_events_applied_total"));
        k.dropped = itest_metric(m, "reducerd_events_late_total{contract="
                                    "\"codegen_metrics\",policy=\"dropped\"}");
        k.dups = itest_metric(m, SERIES("reducerd_events_duplicate_total"));
        k.empty = itest_metric(m, "reducerd_events_dead_lettered_total{"
                                  "contract=\"codegen_metrics\",reason="
                                  "\"empty_value\"}");
        for (const char *p = m; (p = strstr(p, "\nreducerd_events_dead_"
                                               "lettered_total{"));
             p++) {
                k.dead += atof(strchr(p, '}') + 2);
        }
        free(m);
        return k;
}

/* The replicas' counters summed, once their consumed total reaches want. */
typedef struct sum_wait_s {
        const int *ports;
        int cnt;
        double want;
        counts_t sum;
} sum_wait_t;

static bool sum_reached(void *opaque)
{
        sum_wait_t *w = opaque;

        memset(&w->sum, 0, sizeof(w->sum));
        for (int i = 0; i < w->cnt; i++) {
                counts_t k = counts_of(w->ports[i]);

                /* each replica reconciles on its own */
                ck_assert_int_eq((long)k.consumed, (long)(k.applied + k.dead +
                                                          k.dropped + k.dups));
                w->sum.consumed += k.consumed;
                w->sum.applied += k.applied;
                w->sum.dead += k.dead;
                w->sum.dropped += k.dropped;
                w->sum.dups += k.dups;
                w->sum.empty += k.empty;
        }
        return w->sum.consumed >= w->want;
}

/*
 * Issue 12, item 4. A stream with 2 % poison, plus empty values and
 * tombstones, read by two replicas while a third joins (a rebalance
 * revokes partitions with dead letters waiting behind buffered events):
 * summed over the replicas, consumed equals what was produced, counted one
 * by one, every poison message and every empty one is one dead letter,
 * and each replica's counters reconcile.
 */
START_TEST(counted_once)
{
        itest_t t;
        const char *cs[] = {contract(), NULL};
        const char *file;
        char *expected;
        long n, dead, empties = 0;
        pid_t w[4];
        int ports[3];
        sum_wait_t sw = {.ports = ports, .cnt = 3};

        itest_init(&t, "offsets_counted");
        itest_kafka(&t, 3, cs);
        itest_config(&t, cs, 500, 200, HTTP);
        file = itest_generate(&t, "events.jsonl",
                              "--events 12000 --days 1 --partitions 3 "
                              "--poison 20 --seed 31");
        n = itest_lines(file);
        expected = itest_reduce(contract(), file);
        dead = itest_dead_letters(expected);
        ck_assert_int_gt(dead, 150);
        for (int i = 1; i <= 2; i++) {
                w[i] = itest_start(&t, NULL, i);
                ports[i - 1] = itest_http_port(&t, i);
        }
        itest_produce(&t, file, 1, n / 2);
        for (int32_t part = 0; part < 3; part++) {
                itest_produce_raw(&t, STARTED_TOPIC, part, "", 0, 4);
                itest_produce_raw(&t, STARTED_TOPIC, part, NULL, 0, 3);
                empties += 7;
        }
        ck_assert(itest_wait_committed(&t, GROUP, n / 8, 120000));
        w[3] = itest_start(&t, NULL, 3);
        ports[2] = itest_http_port(&t, 3);
        itest_produce(&t, file, 1 + n / 2, n - n / 2);
        ck_assert_msg(itest_wait_committed(&t, GROUP, n + empties, 180000),
                      "%ld of %ld", itest_committed(&t, GROUP), n + empties);
        sw.want = (double)(n + empties);
        ck_assert_msg(test_wait_every(sum_reached, &sw, 20000, 200),
                      "the replicas count %.0f consumed of %ld",
                      sw.sum.consumed, n + empties);
        ck_assert_int_eq((long)sw.sum.consumed, n + empties);
        ck_assert_int_eq((long)sw.sum.dead, dead + empties);
        ck_assert_int_eq((long)sw.sum.empty, empties);
        ck_assert_int_eq((long)sw.sum.applied,
                         n - dead - (long)sw.sum.dropped - (long)sw.sum.dups);
        itest_compare_table(&t, expected, "codegen_metrics_aggregated",
                            "aggregation_id");
        for (int i = 1; i <= 3; i++) {
                ck_assert_int_eq(itest_stop(w[i], SIGTERM, 60000), 0);
        }
        free(expected);
        itest_fini(&t);
}
END_TEST

/* --- offset gaps --------------------------------------------------- */

#define STARTED(p) STARTED_TOPIC "[" #p "]"
#define LOGS       HTTP "log:\n  format: json\n"

/* The stored position of the started topic's partition @p part. */
static long stored_at(itest_t *t, int part, int *epoch)
{
        PGconn *c = test_pg_connect(t->conninfo);
        char sql[512], *v;
        long next;

        snprintf(sql, sizeof(sql),
                 "SELECT next_offset || ' ' || epoch FROM reducerd_offsets "
                 "WHERE consumer_group = '%s' AND topic = '%s' AND "
                 "partition = %d",
                 GROUP, STARTED_TOPIC, part);
        v = test_pg_value(c, sql);
        ck_assert_int_eq(sscanf(v, "%ld %d", &next, epoch), 2);
        free(v);
        PQfinish(c);
        return next;
}

/* A worker's log holding a line, once it does. */
typedef struct line_wait_s {
        itest_t *t;
        int n;
        const char *text;
} line_wait_t;

static bool line_logged(void *opaque)
{
        line_wait_t *w = opaque;
        char *log = itest_log(w->t, w->n);
        bool found = strstr(log, w->text) != NULL;

        free(log);
        return found;
}

static void wait_line(itest_t *t, int n, const char *text)
{
        line_wait_t w = {t, n, text};

        ck_assert_msg(test_wait_every(line_logged, &w, 60000, 100),
                      "worker %d never logged: %s", n, text);
}

/* Every line of worker @p n's log is one JSON object: librdkafka's own
 * lines come through reducerd's logger too. */
static void assert_json_log(itest_t *t, int n)
{
        char *log = itest_log(t, n), *save = NULL;

        for (char *l = strtok_r(log, "\n", &save); l;
             l = strtok_r(NULL, "\n", &save)) {
                json_t *j = json_loads(l, 0, NULL);

                ck_assert_msg(json_is_object(j), "worker %d: not JSON: %s", n,
                              l);
                json_decref(j);
        }
        free(log);
}

static double metric_of(int port, const char *series)
{
        char *m;
        double v;

        ck_assert_int_eq(itest_http_get(port, "/metrics", &m), 200);
        v = itest_metric(m, series);
        free(m);
        return v;
}

static double gaps_of(int port, const char *cause)
{
        char series[256];

        snprintf(series, sizeof(series),
                 "reducerd_offset_gaps_total{contract=\"codegen_metrics\","
                 "cause=\"%s\"}",
                 cause);
        return metric_of(port, series);
}

/* Starts worker @p n under @p policy; returns its pid, its port in
 * *@p port. */
static pid_t start_worker(itest_t *t, int n, const char *policy, int *port)
{
        char env[64];
        const char *envs[] = {env, NULL};
        pid_t pid;

        snprintf(env, sizeof(env), "REDUCERD_KAFKA_OFFSET_GAP_POLICY=%s",
                 policy);
        pid = itest_start(t, envs, n);
        *port = itest_http_port(t, n);
        return pid;
}

/*
 * Issue 12, item 3, under @p policy. The started topic's three partitions
 * are read to offset 300; then
 *  1. retention: partition 2 is filled past the embedded Kafka's 5 MiB
 *     while no worker runs, so the log starts beyond the stored 300;
 *  2. a new, empty cluster (the stored offsets are another cluster's):
 *     partition 0 gets 100 messages (a shorter log than stored),
 *     partition 1 600 (a longer one: the message at 299 is another),
 *     partition 2 50.
 * Each gap gives its error line with both offsets and its counter; fail
 * stops the partition and /readyz says so, reset reads the new log from
 * its start and counts the reset and the messages skipped.
 */
static void offset_gaps(const char *policy)
{
        itest_t t;
        const char *cs[] = {contract(), NULL};
        bool reset = !strcmp(policy, "reset");
        char filler[1000], *body;
        int64_t lo, hi;
        int port, epoch;
        pid_t w;

        memset(filler, 'x', sizeof(filler));
        itest_init(&t, "offsets_gaps");
        itest_kafka(&t, 3, cs);
        itest_config(&t, cs, 500, 200, LOGS);
        for (int32_t part = 0; part < 3; part++) {
                itest_produce_raw(&t, STARTED_TOPIC, part, "not json", 8, 300);
        }
        w = start_worker(&t, 1, policy, &port);
        ck_assert(itest_wait_committed(&t, GROUP, 900, 60000));
        ck_assert_int_eq(itest_stop(w, SIGTERM, 30000), 0);

        /* 1. retention went past the stored offset of partition 2 */
        for (int i = 0; i < 9; i++) {
                itest_produce_raw(&t, STARTED_TOPIC, 2, filler, sizeof(filler),
                                  1000);
        }
        itest_watermarks(&t, STARTED_TOPIC, 2, &lo, &hi);
        ck_assert_int_gt(lo, 300);
        w = start_worker(&t, 2, policy, &port);
        wait_line(&t, 2,
                  STARTED(2) ": offset 300, where the partition stands, is "
                             "not in the broker's log");
        ck_assert_double_eq(gaps_of(port, "out_of_range"), 1);
        if (reset) {
                ck_assert(itest_wait_committed(&t, GROUP, 600 + hi, 60000));
                ck_assert_int_eq(stored_at(&t, 2, &epoch), hi);
                ck_assert_int_eq(epoch, 1);
                ck_assert_double_eq(metric_of(port, SERIES("reducerd_offset_"
                                                           "resets_total")),
                                    1);
                ck_assert_double_eq(metric_of(port,
                                              "reducerd_offsets_skipped_total{"
                                              "contract=\"codegen_metrics\","
                                              "reason=\"reset\"}"),
                                    (double)(lo - 300));
                ck_assert(itest_wait_metric(
                        port, SERIES("reducerd_events_consumed_total"),
                        (double)(hi - lo), 10000));
        } else {
                wait_line(&t, 2, STARTED(2) ": not consumed any more");
                ck_assert_double_eq(
                        metric_of(port, SERIES("reducerd_partitions_stopped")),
                        1);
                ck_assert_int_eq(itest_http_get(port, "/readyz", &body), 503);
                ck_assert_msg(strstr(body, "not consumed after an offset gap "
                                           "(" STARTED(2)),
                              "%s", body);
                free(body);
                ck_assert_int_eq(stored_at(&t, 2, &epoch), 300);
                ck_assert_int_eq(epoch, 0);
        }
        ck_assert_int_eq(itest_stop(w, SIGTERM, 30000), 0);

        /* 2. a new cluster: shorter, longer, and an emptied partition */
        itest_kafka_stop(&t);
        itest_kafka(&t, 3, cs);
        itest_config(&t, cs, 500, 200, LOGS);
        itest_produce_raw(&t, STARTED_TOPIC, 0, "not json", 8, 100);
        itest_produce_raw(&t, STARTED_TOPIC, 1, "not json", 8, 600);
        itest_produce_raw(&t, STARTED_TOPIC, 2, "not json", 8, 50);
        w = start_worker(&t, 3, policy, &port);
        wait_line(&t, 3,
                  STARTED(0) ": offset 300, where the partition stands, is "
                             "not in the broker's log 0..100");
        wait_line(&t, 3,
                  STARTED(1) ": the message at offset 299 is not the one the "
                             "stored position 300 was taken after");
        ck_assert(itest_wait_metric(port,
                                    "reducerd_offset_gaps_total{"
                                    "contract=\"codegen_metrics\","
                                    "cause=\"log_changed\"}",
                                    1, 10000));
        ck_assert(itest_wait_metric(port,
                                    "reducerd_offset_gaps_total{"
                                    "contract=\"codegen_metrics\","
                                    "cause=\"out_of_range\"}",
                                    2, 10000));
        if (reset) {
                ck_assert(itest_wait_committed(&t, GROUP, 750, 60000));
                ck_assert_int_eq(stored_at(&t, 0, &epoch), 100);
                ck_assert_int_eq(epoch, 1);
                ck_assert_int_eq(stored_at(&t, 1, &epoch), 600);
                ck_assert_int_eq(epoch, 1);
                ck_assert_int_eq(stored_at(&t, 2, &epoch), 50);
                ck_assert_int_eq(epoch, 2);
                ck_assert(itest_wait_metric(
                        port, SERIES("reducerd_events_consumed_total"), 750,
                        10000));
                ck_assert_double_eq(metric_of(port, SERIES("reducerd_offset_"
                                                           "resets_total")),
                                    3);
        } else {
                ck_assert(itest_wait_metric(
                        port, SERIES("reducerd_partitions_stopped"), 3, 10000));
                ck_assert_int_eq(itest_http_get(port, "/readyz", &body), 503);
                free(body);
                ck_assert_double_eq(
                        metric_of(port,
                                  SERIES("reducerd_events_consumed_total")),
                        0);
                ck_assert_int_eq(stored_at(&t, 0, &epoch), 300);
        }
        ck_assert_int_eq(itest_stop(w, SIGTERM, 30000), 0);
        for (int n = 1; n <= 3; n++) {
                assert_json_log(&t, n);
        }
        itest_fini(&t);
}

START_TEST(gaps_fail)
{
        offset_gaps("fail");
}
END_TEST

START_TEST(gaps_reset)
{
        offset_gaps("reset");
}
END_TEST

/*
 * The second `./dev run`: the embedded Kafka is new and empty, the
 * database remembers offsets from the first run. Whatever the policy,
 * the embedded cluster resets, and says so.
 */
START_TEST(embedded_resets)
{
        itest_t t;
        const char *cs[] = {contract(), NULL};
        int port, epoch;
        pid_t w;

        itest_init(&t, "offsets_embedded");
        itest_kafka(&t, 3, cs);
        itest_config(&t, cs, 500, 200, HTTP);
        itest_produce_raw(&t, STARTED_TOPIC, 1, "not json", 8, 40);
        w = start_worker(&t, 1, "fail", &port);
        ck_assert(itest_wait_committed(&t, GROUP, 40, 60000));
        ck_assert_int_eq(itest_stop(w, SIGTERM, 30000), 0);
        itest_kafka_stop(&t); /* the config says "embedded" from here */
        itest_config(&t, cs, 500, 200, HTTP);
        w = start_worker(&t, 2, "fail", &port);
        wait_line(&t, 2, "the embedded Kafka starts empty");
        wait_line(&t, 2,
                  STARTED(1) ": reading from offset 0, the start of the "
                             "broker's log (kafka.offset_gap_policy reset, as "
                             "always with the embedded cluster");
        ck_assert(itest_wait_metric(port,
                                    SERIES("reducerd_offset_resets_"
                                           "total"),
                                    1, 10000));
        ck_assert_int_eq(stored_at(&t, 1, &epoch), 0);
        ck_assert_int_eq(epoch, 1);
        ck_assert_int_eq(itest_stop(w, SIGTERM, 30000), 0);
        itest_fini(&t);
}
END_TEST

/* librdkafka's own lines (here: no broker answers) come through
 * reducerd's logger, as JSON when log.format says so. */
START_TEST(librdkafka_logs)
{
        itest_t t;
        const char *cs[] = {contract(), NULL};
        pid_t w;

        itest_init(&t, "offsets_logs");
        t.bootstrap = strdup("127.0.0.1:1");
        itest_config(&t, cs, 500, 200, LOGS);
        w = itest_start(&t, NULL, 1);
        wait_line(&t, 1, "\"component\":\"librdkafka\"");
        wait_line(&t, 1, "Connection refused");
        ck_assert_int_eq(itest_stop(w, SIGTERM, 30000), 0);
        assert_json_log(&t, 1);
        itest_fini(&t);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("offsets");

        /* each can be run alone: CK_RUN_CASE=counted */
        test_add_case(s, "counted", counted_once, 600);
        test_add_case(s, "gaps_fail", gaps_fail, 600);
        test_add_case(s, "gaps_reset", gaps_reset, 600);
        test_add_case(s, "embedded", embedded_resets, 600);
        test_add_case(s, "logs", librdkafka_logs, 600);
        return test_main(s);
}
