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

#define GROUP "reducerd.codegen_metrics"
#define HTTP "http:\n  listen: \"127.0.0.1:0\"\n"
#define STARTED_TOPIC "dev.omninode-bridge.codegen.generation-started.v1"
#define SERIES(name) name "{contract=\"codegen_metrics\"}"

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

static long dead_letters_in(const char *reduce_output)
{
        long n = 0;

        for (const char *p = reduce_output; (p = strstr(p, "{\"dead_letter\""));
             p++) {
                n++;
        }
        return n;
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
                ck_assert_int_eq((long)k.consumed,
                                 (long)(k.applied + k.dead + k.dropped +
                                        k.dups));
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
        n = lines_of(file);
        expected = itest_reduce(contract(), file);
        dead = dead_letters_in(expected);
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

int main(void)
{
        Suite *s = suite_create("offsets");

        /* each can be run alone: CK_RUN_CASE=counted */
        test_add_case(s, "counted", counted_once, 600);
        return test_main(s);
}
