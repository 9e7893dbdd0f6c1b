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
#include <time.h>
#include <unistd.h>

#define GROUP     "reducerd.codegen_metrics"
#define OUT_TOPIC "dev.omninode-bridge.codegen.metrics-recorded.v1"
#define DLQ_TOPIC "dev.reducerd.codegen-metrics.dead-letter.v1"

static const char *contract(void)
{
        return test_path("contracts/codegen_metrics.yaml");
}

/*
 * The shipped contract with time.idle_wait set to @p idle_wait, written
 * into @p t's directory. Workflow totals (a Completed without total_tokens
 * takes its stages' sum) follow the order events are applied in; a test
 * that pauses its producer between chunks for longer than idle_wait lets
 * the frontier pass the silent partitions, so the first events of the
 * next chunk may be applied after newer ones (late, as documented), which
 * `reduce` over the whole file never does.
 */
static const char *contract_idle_wait(itest_t *t, const char *idle_wait)
{
        static char path[4096];
        char *text = test_read_file(contract(), NULL), *at, *out;
        size_t len;

        ck_assert_ptr_nonnull(at = strstr(text, "\ntime:\n"));
        at += strlen("\ntime:\n");
        len = strlen(text) + 64;
        out = malloc(len);
        ck_assert_ptr_nonnull(out);
        snprintf(out, len, "%.*s  idle_wait: %s\n%s", (int)(at - text), text,
                 idle_wait, at);
        snprintf(path, sizeof(path), "%s/codegen_metrics.yaml", t->dir);
        test_write_file(path, out, strlen(out));
        free(out);
        free(text);
        return path;
}

static void compare_all(itest_t *t, const char *expected)
{
        long cells = itest_compare_table(
                t, expected, "codegen_metrics_aggregated", "aggregation_id");
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
/* The outbox as last seen by outbox_empty(). */
typedef struct outbox_wait_s {
        PGconn *c;
        char *depth;
} outbox_wait_t;

static bool outbox_empty(void *opaque)
{
        outbox_wait_t *w = opaque;

        free(w->depth);
        w->depth = test_pg_value(w->c, "SELECT count(*) FROM reducerd_outbox");
        return !strcmp(w->depth, "0");
}

static void check_published(itest_t *t)
{
        PGconn *c = test_pg_connect(t->conninfo);
        outbox_wait_t ow = {c, NULL};
        json_t *msgs, *latest = json_object(), *m;
        PGresult *res;
        size_t i;

        ck_assert_msg(test_wait_every(outbox_empty, &ow, 30000, 200),
                      "%s outbox rows not published", ow.depth);
        free(ow.depth);
        msgs = itest_consume(t, OUT_TOPIC);
        json_array_foreach(msgs, i, m)
        {
                json_t *pl =
                        json_object_get(json_object_get(m, "value"), "payload");
                const char *id = json_string_value(
                        json_object_get(pl, "aggregation_id"));
                json_int_t rev =
                        json_integer_value(json_object_get(pl, "revision"));
                json_t *seen = json_object_get(latest, id);

                ck_assert_str_eq(
                        json_string_value(json_object_get(
                                json_object_get(m, "value"), "event_type")),
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
        itest_config(&t, cs, 1000, 300, NULL);
        file = itest_generate(&t, "events.jsonl",
                              "--events 100000 --days 3 --partitions 12 "
                              "--seed 7");
        n = itest_lines(file);
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

/* Crashes (SIGKILL from inside) before commit, after commit, during
 * publish and during revoke; restarted until done: identical rows, every
 * cell change published at least once. */
START_TEST(crash_and_restart)
{
        itest_t t;
        const char *cs[] = {contract(), NULL};
        const char *file;
        char *expected;
        /* every third round also stops gracefully, which revokes */
        itest_crash_t crash = {.group = GROUP,
                               .failpoints = "before_commit:0.04,"
                                             "after_commit:0.04,"
                                             "during_publish:0.15,"
                                             "in_revoke:0.5",
                               .stop_every = 3,
                               .stop_after = 3000,
                               .stop_signal = SIGTERM};
        int crashes;
        long n;

        itest_init(&t, "pipeline_crash");
        itest_kafka(&t, 6, cs);
        itest_config(&t, cs, 1500, 200, NULL);
        file = itest_generate(&t, "events.jsonl",
                              "--events 40000 --days 2 --partitions 6 "
                              "--seed 11");
        n = crash.n = itest_lines(file);
        itest_produce(&t, file, 1, n);
        expected = itest_reduce(contract(), file);
        crashes = itest_crash_rounds(&t, &crash);
        ck_assert_msg(itest_committed(&t, GROUP) == n, "%ld of %ld",
                      itest_committed(&t, GROUP), n);
        ck_assert_msg(crashes >= 3, "only %d crashes happened", crashes);
        compare_all(&t, expected);
        {
                /* done includes the outbox: a last clean worker relays what
                 * the crashed ones left behind */
                pid_t pid = itest_start(&t, NULL, 99);
                check_published(&t);
                ck_assert_int_eq(itest_stop(pid, SIGTERM, 30000), 0);
        }
        free(expected);
        itest_fini(&t);
}
END_TEST

/* Three workers in one group; one is killed and another added while the
 * stream flows: identical rows. */
START_TEST(scale_out)
{
        itest_t t;
        const char *cs[] = {NULL, NULL};
        const char *file;
        char *expected;
        pid_t w[5];
        long n, chunk;

        itest_init(&t, "pipeline_scale");
        /* the producer pauses between chunks, and each chunk starts on
         * some topics a moment before the others: the silence rule
         * (case resume) keeps that in order. A long idle_wait also keeps
         * a sparse partition that is quiet for a while within a chunk on
         * a loaded machine from being overtaken (RED_SCALE_IDLE_WAIT=2s
         * with two busy loops beside it: 6 of 6 runs passed, 4 of 6
         * failed before the silence rule) */
        cs[0] = contract_idle_wait(&t, getenv("RED_SCALE_IDLE_WAIT")
                                               ? getenv("RED_SCALE_IDLE_WAIT")
                                               : "30s");
        itest_kafka(&t, 6, cs);
        itest_config(&t, cs, 2000, 200, NULL);
        file = itest_generate(&t, "events.jsonl",
                              "--events 60000 --days 2 --partitions 6 "
                              "--seed 5");
        n = itest_lines(file);
        chunk = n / 5;
        expected = itest_reduce(cs[0], file);
        for (int i = 1; i <= 3; i++) {
                w[i] = itest_start(&t, NULL, i);
        }
        for (int c = 0; c < 5; c++) {
                itest_produce(&t, file, 1 + c * chunk,
                              c == 4 ? n - 4 * chunk : chunk);
                ck_assert_msg(itest_wait_committed(
                                      &t, GROUP,
                                      c == 4 ? n : (c + 1) * chunk * 9 / 10,
                                      120000),
                              "chunk %d: %ld committed", c,
                              itest_committed(&t, GROUP));
                if (c == 1) {
                        ck_assert_int_eq(itest_stop(w[1], SIGKILL, 10000),
                                         128 + SIGKILL);
                }
                if (c == 2) {
                        w[4] = itest_start(&t, NULL, 4);
                }
        }
        ck_assert(itest_wait_committed(&t, GROUP, n, 120000));
        compare_all(&t, expected);
        check_published(&t);
        for (int i = 2; i <= 4; i++) {
                ck_assert_int_eq(itest_stop(w[i], SIGTERM, 60000), 0);
        }
        free(expected);
        itest_fini(&t);
}
END_TEST

/* Counts the dead letters in reduce output @p expected into @p by_code
 * (error_code -> count); returns how many there are. */
static size_t dead_letters_by_code(const char *expected, json_t *by_code)
{
        size_t dead = 0;

        for (const char *p = expected; (p = strstr(p, "{\"dead_letter\":"));
             p++) {
                json_t *d = json_loads(p, JSON_DISABLE_EOF_CHECK, NULL);
                const char *code = json_string_value(json_object_get(
                        json_object_get(d, "dead_letter"), "error_code"));
                json_t *c = json_object_get(by_code, code);
                json_object_set_new(
                        by_code, code,
                        json_integer(c ? json_integer_value(c) + 1 : 1));
                json_decref(d);
                dead++;
        }
        return dead;
}

/* The dead-letter topic holds the dead letters of reduce output
 * @p expected: each poison message (by source topic, partition and
 * offset) once, with its reason and source, or, when @p at_least_once
 * (rebalances: a batch given up may have sent its letters already), at
 * least once. Returns how many poison messages there are. */
static size_t check_dead_letters(itest_t *t, const char *expected,
                                 bool at_least_once)
{
        json_t *dlq, *m, *want = json_object(), *seen = json_object();
        size_t i, dead = dead_letters_by_code(expected, want);

        dlq = itest_consume(t, DLQ_TOPIC);
        json_array_foreach(dlq, i, m)
        {
                json_t *h = json_object_get(m, "headers");
                const char *code =
                        json_string_value(json_object_get(h, "error_code"));
                json_t *c = json_object_get(want, code);
                char src[512];

                ck_assert_ptr_nonnull(json_object_get(h, "error_detail"));
                ck_assert_ptr_nonnull(json_object_get(h, "source_topic"));
                ck_assert_ptr_nonnull(json_object_get(h, "source_offset"));
                ck_assert_str_eq(
                        json_string_value(json_object_get(h, "contract")),
                        "codegen_metrics");
                snprintf(
                        src, sizeof(src), "%s[%s]@%s",
                        json_string_value(json_object_get(h, "source_topic")),
                        json_string_value(
                                json_object_get(h, "source_partition")),
                        json_string_value(json_object_get(h, "source_offset")));
                if (json_object_get(seen, src)) {
                        ck_assert_msg(at_least_once, "%s dead-lettered twice",
                                      src);
                        continue;
                }
                json_object_set_new(seen, src, json_true());
                ck_assert_msg(c && json_integer_value(c) > 0,
                              "unexpected dead letter code %s", code);
                json_integer_set(c, json_integer_value(c) - 1);
        }
        ck_assert_msg(json_object_size(seen) == dead,
                      "%zu poison messages dead-lettered, %zu expected",
                      json_object_size(seen), dead);
        json_decref(dlq);
        json_decref(seen);
        json_decref(want);
        return dead;
}

/* 1 % poison input: all of it in the dead-letter topic with its reason,
 * the rest exact. */
START_TEST(poison)
{
        itest_t t;
        const char *cs[] = {contract(), NULL};
        const char *file;
        char *expected;
        pid_t pid;
        long n;

        itest_init(&t, "pipeline_poison");
        itest_kafka(&t, 6, cs);
        itest_config(&t, cs, 3000, 200, NULL);
        file = itest_generate(&t, "events.jsonl",
                              "--events 30000 --days 1 --partitions 6 "
                              "--poison 10 --seed 3");
        n = itest_lines(file);
        itest_produce(&t, file, 1, n);
        expected = itest_reduce(contract(), file);
        pid = itest_start(&t, NULL, 1);
        ck_assert(itest_wait_committed(&t, GROUP, n, 180000));
        compare_all(&t, expected);
        ck_assert_int_ge(check_dead_letters(&t, expected, false), 250);
        ck_assert_int_eq(itest_stop(pid, SIGTERM, 30000), 0);
        free(expected);
        itest_fini(&t);
}
END_TEST

static void block_database(itest_t *t, bool block)
{
        PGconn *c = test_pg_connect("dbname=postgres");
        char sql[512];
        const char *db = strchr(t->conninfo, '=') + 1;

        snprintf(sql, sizeof(sql), "ALTER DATABASE %s ALLOW_CONNECTIONS %s", db,
                 block ? "false" : "true");
        test_pg_exec(c, sql);
        if (block) {
                snprintf(sql, sizeof(sql),
                         "SELECT pg_terminate_backend(pid) FROM "
                         "pg_stat_activity WHERE datname = '%s'",
                         db);
                test_pg_exec(c, sql);
        }
        PQfinish(c);
}

/* PostgreSQL unavailable for a while, then restarted, mid-stream: no
 * loss, no duplicates, the service recovers by itself. */
START_TEST(postgres_outage)
{
        itest_t t;
        const char *cs[] = {contract(), NULL};
        const char *file, *pgctl = getenv("REDUCERD_TEST_PGCTL");
        char *expected, cmd[1024];
        pid_t pid;
        long n;

        ck_assert_msg(pgctl, "REDUCERD_TEST_PGCTL is not set (./dev test "
                             "sets it)");
        itest_init(&t, "pipeline_pg");
        itest_kafka(&t, 6, cs);
        itest_config(&t, cs, 1000, 200, NULL);
        file = itest_generate(&t, "events.jsonl",
                              "--events 40000 --days 2 --partitions 6 "
                              "--seed 9");
        n = itest_lines(file);
        expected = itest_reduce(contract(), file);
        pid = itest_start(&t, NULL, 1);
        itest_produce(&t, file, 1, n / 2);
        ck_assert(itest_wait_committed(&t, GROUP, n / 8, 120000));
        /* 1: the database refuses connections for 4 s */
        block_database(&t, true);
        itest_produce(&t, file, 1 + n / 2, n / 4);
        usleep(4000 * 1000);
        block_database(&t, false);
        ck_assert(itest_wait_committed(&t, GROUP, n / 2, 120000));
        /* 2: the server restarts */
        snprintf(cmd, sizeof(cmd), "%s restart -m fast >/dev/null", pgctl);
        ck_assert_msg(system(cmd) == 0, "%s failed", cmd);
        itest_produce(&t, file, 1 + n / 2 + n / 4, n - n / 2 - n / 4);
        ck_assert_msg(itest_wait_committed(&t, GROUP, n, 180000), "%ld of %ld",
                      itest_committed(&t, GROUP), n);
        ck_assert_int_eq(itest_poll(pid), -2); /* still running */
        compare_all(&t, expected);
        check_published(&t);
        ck_assert_int_eq(itest_stop(pid, SIGTERM, 30000), 0);
        free(expected);
        itest_fini(&t);
}
END_TEST

/*
 * An aggregation in Europe/Berlin (tests/data/contracts/tz_berlin.yaml):
 * the pipeline writes exactly the rows of the golden reduce file across
 * both 2026 changes (the 23- and 25-hour days, the two-hour hour), each in
 * the UTC month partition of its window_start.
 */
START_TEST(time_zone)
{
        itest_t t;
        const char *tz = test_path("tests/data/contracts/tz_berlin.yaml");
        const char *cs[] = {tz, NULL};
        const char *mig[] = {"migrate", NULL, NULL};
        const char *file =
                test_path("tests/data/reduce/tz_berlin/dst_2026.jsonl");
        char *expected = test_read_file(test_path("tests/data/reduce/tz_berlin/"
                                                  "dst_2026.expected.jsonl"),
                                        NULL);
        PGconn *c;
        char *v;
        pid_t pid;

        itest_init(&t, "pipeline_tz");
        c = test_pg_connect(t.conninfo);
        /* the contract's table, as `reducerd migrate` builds it */
        mig[1] = tz;
        free(itest_cmd_ok(&t, mig));
        itest_kafka(&t, 1, cs);
        itest_config(&t, cs, 5, 200, NULL);
        itest_produce(&t, file, 1, itest_lines(file));
        pid = itest_start(&t, NULL, 1);
        ck_assert_msg(itest_wait_committed(&t, "reducerd.tz_berlin",
                                           itest_lines(file), 60000),
                      "only %ld offsets committed",
                      itest_committed(&t, "reducerd.tz_berlin"));
        ck_assert_int_eq(
                itest_compare_table(&t, expected, "tz_ticks", "aggregation_id"),
                26);
        /* Berlin's March starts on 02-28 23:00 UTC: the February partition */
        v = test_pg_value(c, "SELECT tableoid::regclass::text FROM tz_ticks "
                             "WHERE window_type = 'monthly' AND window_start "
                             "= '2026-02-28T23:00:00Z'");
        ck_assert_str_eq(v, "tz_ticks_2026_02");
        free(v);
        ck_assert_int_eq(itest_stop(pid, SIGTERM, 30000), 0);
        PQfinish(c);
        free(expected);
        itest_fini(&t);
}
END_TEST

/*
 * Postgres refuses connections for RED_TEST_OUTAGE_S seconds (default 60)
 * while the stream flows at full speed, poison included, and one of two
 * workers is killed meanwhile: the other gets its partitions while it
 * waits for Postgres with its batch. Afterwards
 * every event of every kind (started, stages, terminal: the cells, the
 * history, the current states) is applied and every poison message is in
 * the dead-letter topic: partitions paused, resumed and assigned around
 * the outage skip no offset (issue 12, item 1). The stream stays within
 * what the embedded Kafka keeps (about 5 MiB a partition): beyond it the
 * log itself loses messages (test_offsets.c).
 */
START_TEST(outage_under_load)
{
        itest_t t;
        const char *cs[] = {contract(), NULL};
        const char *file, *len = getenv("RED_TEST_OUTAGE_S");
        char *expected;
        int outage_s = len ? atoi(len) : 60;
        pid_t w[3];
        long n;

        itest_init(&t, "pipeline_outage");
        itest_kafka(&t, 12, cs);
        itest_config(&t, cs, 1000, 200, NULL);
        file = itest_generate(&t, "events.jsonl",
                              "--events 60000 --days 2 --partitions 12 "
                              "--poison 5 --seed 13");
        n = itest_lines(file);
        expected = itest_reduce(contract(), file);
        itest_produce(&t, file, 1, n / 2);
        w[1] = itest_start(&t, NULL, 1);
        w[2] = itest_start(&t, NULL, 2);
        ck_assert(itest_wait_committed(&t, GROUP, n / 10, 120000));
        block_database(&t, true);
        /* the rest arrives while no worker can write */
        itest_produce(&t, file, 1 + n / 2, n - n / 2);
        ck_assert_int_eq(itest_stop(w[2], SIGKILL, 10000), 128 + SIGKILL);
        usleep((useconds_t)outage_s * 1000000);
        block_database(&t, false);
        ck_assert_msg(itest_wait_committed(&t, GROUP, n, 180000), "%ld of %ld",
                      itest_committed(&t, GROUP), n);
        compare_all(&t, expected);
        ck_assert_int_ge(check_dead_letters(&t, expected, true), 250);
        ck_assert_int_eq(itest_stop(w[1], SIGTERM, 60000), 0);
        free(expected);
        itest_fini(&t);
}
END_TEST

/*
 * The consumer skips offsets (REDUCERD_FAILPOINTS skip_message: a polled
 * message never reaches the batch, as librdkafka 2.0.2 could skip around
 * a pause): the next offset shows the gap, or, at the end of what was
 * produced, the consumer's position does, and the partition is read again
 * from the offset needed. Every event applied, no offset skipped.
 */
START_TEST(skipped_offsets_read_again)
{
        itest_t t;
        const char *cs[] = {contract(), NULL};
        const char *env[] = {"REDUCERD_FAILPOINTS=skip_message:0.003",
                             "REDUCERD_FAILPOINT_SEED=12", NULL};
        const char *file;
        char *expected, *log;
        pid_t pid;
        long n;

        itest_init(&t, "pipeline_skipped");
        itest_kafka(&t, 6, cs);
        itest_config(&t, cs, 1000, 200, NULL);
        file = itest_generate(&t, "events.jsonl",
                              "--events 30000 --days 1 --partitions 6 "
                              "--seed 17");
        n = itest_lines(file);
        expected = itest_reduce(contract(), file);
        itest_produce(&t, file, 1, n);
        pid = itest_start(&t, env, 1);
        ck_assert_msg(itest_wait_committed(&t, GROUP, n, 180000), "%ld of %ld",
                      itest_committed(&t, GROUP), n);
        compare_all(&t, expected);
        ck_assert_int_eq(itest_stop(pid, SIGTERM, 30000), 0);
        log = itest_log(&t, 1);
        ck_assert_msg(strstr(log, "offsets not delivered, reading again"),
                      "no offset was skipped: the failpoint did not fire");
        free(log);
        free(expected);
        itest_fini(&t);
}
END_TEST

/* The same with every other polled message skipped, on a short stream:
 * the last message of most partitions is skipped too, with nothing after
 * it to show the gap; the consumer's position shows it. */
START_TEST(skipped_last_offsets_read_again)
{
        itest_t t;
        const char *cs[] = {contract(), NULL};
        const char *env[] = {"REDUCERD_FAILPOINTS=skip_message:0.5",
                             "REDUCERD_FAILPOINT_SEED=5", NULL};
        static const char *const ignore[] = {"transition_id", NULL};
        const char *file;
        char *expected, *log;
        pid_t pid;
        long n;

        itest_init(&t, "pipeline_skipped_last");
        itest_kafka(&t, 6, cs);
        itest_config(&t, cs, 1000, 200, NULL);
        file = itest_generate(&t, "events.jsonl",
                              "--events 600 --days 1 --partitions 6 "
                              "--seed 19");
        n = itest_lines(file);
        expected = itest_reduce(contract(), file);
        itest_produce(&t, file, 1, n);
        pid = itest_start(&t, env, 1);
        ck_assert_msg(itest_wait_committed(&t, GROUP, n, 180000), "%ld of %ld",
                      itest_committed(&t, GROUP), n);
        itest_compare_table(&t, expected, "codegen_metrics_aggregated",
                            "aggregation_id");
        itest_compare_rows(&t, expected, "workflow_state_history", ignore);
        itest_compare_table(&t, expected, "workflow_state_current",
                            "workflow_id");
        ck_assert_int_eq(itest_stop(pid, SIGTERM, 30000), 0);
        log = itest_log(&t, 1);
        ck_assert_msg(strstr(log, "the consumer stands at offset"),
                      "no partition's last offset was skipped");
        free(log);
        free(expected);
        itest_fini(&t);
}
END_TEST

/* One round of live_interleaving: the topics that trickle, and how fast. */
typedef struct trickle_s {
        const char *topic;
        double rate; /* messages a second; the other topics at once */
} trickle_t;

#define STARTED_TOPIC   "dev.omninode-bridge.codegen.generation-started.v1"
#define STAGE_TOPIC     "dev.omninode-bridge.codegen.stage-completed.v1"
#define COMPLETED_TOPIC "dev.omninode-bridge.codegen.generation-completed.v1"
#define FAILED_TOPIC    "dev.omninode-bridge.codegen.generation-failed.v1"

/* The end of a live round: the @p cnt producers @p prod delivered all,
 * worker @p w committed all @p n messages, the tables equal the oracle's
 * @p expected (freed), the worker stops cleanly and the test's scratch
 * goes. */
static void finish_live(itest_t *t, pid_t w, const pid_t *prod, size_t cnt,
                        long n, char *expected)
{
        for (size_t i = 0; i < cnt; i++) {
                ck_assert_int_eq(itest_stop(prod[i], 0, 120000), 0);
        }
        ck_assert_msg(itest_wait_committed(t, GROUP, n, 120000), "%ld of %ld",
                      itest_committed(t, GROUP), n);
        compare_all(t, expected);
        ck_assert_int_eq(itest_stop(w, SIGTERM, 30000), 0);
        free(expected);
        itest_fini(t);
}

/* Produces @p file live while one worker runs, one producer per topic:
 * the topics of @p slow (NULL-terminated) trickle in at their rates, the
 * others arrive at once; then compares with the oracle. */
static void interleave_round(const char *seed, const trickle_t *slow)
{
        static const char *const topics[] = {STARTED_TOPIC, STAGE_TOPIC,
                                             COMPLETED_TOPIC, FAILED_TOPIC,
                                             NULL};
        itest_t t;
        const char *cs[] = {contract(), NULL};
        const char *file;
        char *expected, args[128];
        pid_t w, prod[4];
        long n;

        itest_init(&t, "pipeline_interleave");
        itest_kafka(&t, 6, cs);
        itest_config(&t, cs, 1000, 200, NULL);
        snprintf(args, sizeof(args),
                 "--events 12000 --days 1 --partitions 6 --seed %s", seed);
        file = itest_generate(&t, "events.jsonl", args);
        n = itest_lines(file);
        expected = itest_reduce(contract(), file);
        w = itest_start(&t, NULL, 1);
        for (int i = 0; topics[i]; i++) {
                double rate = 0;
                for (const trickle_t *tr = slow; tr->topic; tr++) {
                        rate = strcmp(tr->topic, topics[i]) ? rate : tr->rate;
                }
                prod[i] = itest_produce_start(&t, file, topics[i], rate);
        }
        finish_live(&t, w, prod, 4, n, expected);
}

/*
 * A live stream of historic events (a week old), each topic sent by its
 * own producer: some topics trickle in over seconds while the others
 * arrive at once. The trickling partitions are read to their end most of
 * the time, yet each holds the reorder frontier at its newest event, so
 * the events of one workflow are applied in event-time order and the
 * tables equal the oracle whatever the interleaving (issue 12, item 5: a
 * partition momentarily read to its end let far older events of other
 * topics through). Three rounds, three interleavings.
 */
START_TEST(live_interleaving)
{
        const trickle_t started_late[] = {{STARTED_TOPIC, 120}, {NULL, 0}};
        const trickle_t stages_late[] = {{STAGE_TOPIC, 700}, {NULL, 0}};
        const trickle_t both_late[] = {
                {STARTED_TOPIC, 150}, {COMPLETED_TOPIC, 100}, {NULL, 0}};

        interleave_round("21", started_late);
        interleave_round("22", stages_late);
        interleave_round("23", both_late);
}
END_TEST

/* Writes the lines [@p first, @p first + @p count) of @p file (0-based)
 * to DIR/@p name; returns the path (static). */
static const char *lines_to(itest_t *t, const char *file, long first,
                            long count, const char *name)
{
        static char path[4096];
        char *text = test_read_file(file, NULL);
        const char *from = text, *to;

        for (long i = 0; i < first && from; i++) {
                from = strchr(from, '\n');
                from = from ? from + 1 : NULL;
        }
        ck_assert_ptr_nonnull(from);
        to = from;
        for (long i = 0; i < count && to && *to; i++) {
                to = strchr(to, '\n');
                to = to ? to + 1 : NULL;
        }
        ck_assert_ptr_nonnull(to);
        snprintf(path, sizeof(path), "%s/%s", t->dir, name);
        test_write_file(path, from, (size_t)(to - from));
        free(text);
        return path;
}

/*
 * The stream stops for longer than idle_wait, so every partition is idle,
 * and starts again with one topic a moment before the others: the
 * second half's stage events arrive first, its started, completed and
 * failed events a second later. The first arrivals must not overtake the
 * rest (red_frontier.h: after a silence of every partition each gets
 * idle_wait again to deliver); applied at once, the stage events of the
 * workflows started in the second half would miss their started event
 * and its remembered node_type, and land in rows the oracle does not
 * have (the scale case's failure between its chunks).
 */
START_TEST(resume_after_silence)
{
        static const char *const later[] = {STARTED_TOPIC, COMPLETED_TOPIC,
                                            FAILED_TOPIC, NULL};
        itest_t t;
        const char *cs[] = {NULL, NULL}, *file, *second;
        char *expected;
        pid_t w, prod[3];
        long n, half;

        itest_init(&t, "pipeline_resume");
        cs[0] = contract_idle_wait(&t, "8s");
        itest_kafka(&t, 6, cs);
        itest_config(&t, cs, 1000, 200, NULL);
        file = itest_generate(&t, "events.jsonl",
                              "--events 10000 --days 1 --partitions 6 "
                              "--seed 31");
        n = itest_lines(file);
        half = n / 2;
        expected = itest_reduce(cs[0], file);
        w = itest_start(&t, NULL, 1);
        itest_produce(&t, file, 1, half);
        ck_assert_msg(itest_wait_committed(&t, GROUP, half, 120000),
                      "%ld of %ld", itest_committed(&t, GROUP), half);
        /* silence: every partition quiet for longer than idle_wait */
        sleep(10);
        second = lines_to(&t, file, half, n - half, "second.jsonl");
        ck_assert_int_eq(
                itest_stop(itest_produce_start(&t, second, STAGE_TOPIC, 0), 0,
                           120000),
                0);
        sleep(1);
        for (int i = 0; later[i]; i++) {
                prod[i] = itest_produce_start(&t, second, later[i], 0);
        }
        finish_live(&t, w, prod, 3, n, expected);
}
END_TEST

/*
 * A lone event that its own batch could not take (the frontier had not
 * passed it) is written once the frontier passes it, not batch.max_ms
 * later. Every message is a batch of its own (max_events 1), batches are
 * otherwise due after a minute (max_ms 60000) and the contract waits 1 s
 * (idle_wait): the event, stamped 3 s ahead, waits in the reorder buffer
 * when its batch goes, and is released about 4 s later, once every
 * partition has been quiet for idle_wait and the clock less idle_wait has
 * passed it. Before, it waited for the next look at the buffer, a minute
 * after that batch.
 */
START_TEST(lone_event_not_held)
{
        static const char wf[] = "b0000000-0000-4000-8000-00000000000b";
        itest_t t;
        const char *cs[] = {NULL, NULL};
        char ts[32], value[512], *rows;
        time_t ahead = time(NULL) + 3;
        PGconn *c;
        pid_t w;

        itest_init(&t, "pipeline_lone");
        cs[0] = contract_idle_wait(&t, "1s");
        itest_kafka(&t, 2, cs);
        itest_config(&t, cs, 1, 60000, NULL);
        w = itest_start(&t, NULL, 1);
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime(&ahead));
        snprintf(value, sizeof(value),
                 "{\"event_type\": \"NODE_GENERATION_STARTED\", "
                 "\"event_id\": \"00000000-0000-4000-8000-0000000000b1\", "
                 "\"timestamp\": \"%s\", \"payload\": {\"workflow_id\": "
                 "\"%s\", \"node_type\": \"effect\", \"domain\": "
                 "\"api\"}}",
                 ts, wf);
        itest_produce_raw(&t, STARTED_TOPIC, 0, value, strlen(value), 1);
        /* a minute would be the old wait: half of it is plenty */
        ck_assert_msg(itest_wait_committed(&t, GROUP, 1, 30000),
                      "the event was not written: %ld committed",
                      itest_committed(&t, GROUP));
        c = test_pg_connect(t.conninfo);
        rows = test_pg_value(c, "SELECT count(*) FROM workflow_state_current "
                                "WHERE workflow_id = "
                                "'b0000000-0000-4000-8000-00000000000b'");
        ck_assert_str_eq(rows, "1");
        free(rows);
        PQfinish(c);
        ck_assert_int_eq(itest_stop(w, SIGTERM, 30000), 0);
        itest_fini(&t);
}
END_TEST

/* The batch is waiting for a row lock of the cells table (another session
 * holds them). */
static bool waits_for_cells(void *opaque)
{
        char *n = test_pg_value(
                opaque, "SELECT count(*) FROM pg_stat_activity WHERE datname "
                        "= current_database() AND wait_event_type = 'Lock' "
                        "AND query LIKE "
                        "'INSERT INTO \"codegen_metrics_aggregated\"%'");
        bool yes = strcmp(n, "0") != 0;

        free(n);
        return yes;
}

/*
 * A batch whose events fall on a new day creates that day's partitions in
 * transactions of their own, before its own: CREATE TABLE ... PARTITION OF
 * takes the parent table's ACCESS EXCLUSIVE lock, which inside the batch's
 * transaction stopped every other replica's writes to the table, and its
 * readers, until the batch committed. Here the second day's batch is held
 * at its cells (another session locks the month's cell rows) after its dedupe
 * step needed the new day: the partition is already there for everyone,
 * and the table can be read meanwhile. Then the results equal `reduce`.
 */
START_TEST(partitions_outside_the_batch)
{
        itest_t t;
        const char *cs[] = {contract(), NULL};
        char *first, *second, *both, *a, *b, *v, path[4096];
        char *expected;
        PGconn *holder, *reader;
        long n1, n2;
        pid_t w;

        itest_init(&t, "pipeline_partitions");
        itest_kafka(&t, 2, cs);
        itest_config(&t, cs, 100000, 300, NULL);
        first = strdup(itest_generate(&t, "first.jsonl",
                                      "--events 6000 --days 1 --partitions 2 "
                                      "--seed 41 --start "
                                      "2026-11-10T00:00:00Z"));
        second = strdup(itest_generate(&t, "second.jsonl",
                                       "--events 6000 --days 1 --partitions "
                                       "2 --seed 43 --start "
                                       "2026-11-12T00:00:00Z"));
        n1 = itest_lines(first);
        n2 = itest_lines(second);
        a = test_read_file(first, NULL);
        b = test_read_file(second, NULL);
        ck_assert_int_gt(asprintf(&both, "%s%s", a, b), 0);
        snprintf(path, sizeof(path), "%s/both.jsonl", t.dir);
        test_write_file(path, both, strlen(both));
        expected = itest_reduce(contract(), path);

        w = itest_start(&t, NULL, 1);
        itest_produce(&t, first, 1, n1);
        ck_assert_msg(itest_wait_committed(&t, GROUP, n1, 120000), "%ld of %ld",
                      itest_committed(&t, GROUP), n1);
        holder = test_pg_connect(t.conninfo);
        test_pg_exec(holder, "BEGIN");
        /* the month's cells: the second day's batch needs them, and no
         * finalisation does before the month is over */
        free(test_pg_value(holder,
                           "SELECT count(*) FROM (SELECT 1 FROM "
                           "codegen_metrics_aggregated WHERE window_type = "
                           "'monthly' FOR UPDATE) x"));
        itest_produce(&t, second, 1, n2);
        reader = test_pg_connect(t.conninfo);
        ck_assert_msg(test_wait_every(waits_for_cells, reader, 60000, 100),
                      "the second day's batch never waited for the cells");
        /* a reader that waits 5 s for a lock fails: the parent table is
         * not locked by the open batch */
        test_pg_exec(reader, "SET lock_timeout = '5s'");
        v = test_pg_value(reader, "SELECT to_regclass('reducerd_dedupe_2026_"
                                  "11_12') IS NOT NULL");
        ck_assert_msg(!strcmp(v, "t"), "the new day's partition is not "
                                       "visible outside the open batch");
        free(v);
        free(test_pg_value(reader, "SELECT count(*) FROM reducerd_dedupe"));
        ck_assert_msg(waits_for_cells(reader), "the batch did not wait");
        test_pg_exec(holder, "COMMIT");
        ck_assert_msg(itest_wait_committed(&t, GROUP, n1 + n2, 120000),
                      "%ld of %ld", itest_committed(&t, GROUP), n1 + n2);
        compare_all(&t, expected);
        ck_assert_int_eq(itest_stop(w, SIGTERM, 30000), 0);
        PQfinish(reader);
        PQfinish(holder);
        free(expected);
        free(both);
        free(a);
        free(b);
        free(first);
        free(second);
        itest_fini(&t);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("pipeline");

        /* each can be run alone: CK_RUN_CASE=crash */
        test_add_case(s, "truth", ground_truth, 900);
        test_add_case(s, "crash", crash_and_restart, 900);
        test_add_case(s, "scale", scale_out, 900);
        test_add_case(s, "poison", poison, 900);
        test_add_case(s, "pgoutage", postgres_outage, 900);
        test_add_case(s, "tz", time_zone, 300);
        test_add_case(s, "outage_load", outage_under_load, 900);
        test_add_case(s, "interleave", live_interleaving, 900);
        test_add_case(s, "resume", resume_after_silence, 300);
        test_add_case(s, "lone", lone_event_not_held, 300);
        test_add_case(s, "partitions", partitions_outside_the_batch, 300);
        test_add_case(s, "skipped", skipped_offsets_read_again, 900);
        test_add_case(s, "skipped_last", skipped_last_offsets_read_again, 900);
        return test_main(s);
}
