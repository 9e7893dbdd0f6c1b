/*
 * Integration: `reducerd backfill` and the walkthrough of
 * contracts/README.md. A new contract version that changes what cells
 * mean builds a new table generation; the backfill fills it from the raw
 * rows (agent metrics) or from a Kafka replay (codegen, with `reducerd
 * run` consuming meanwhile) and switches it in: the cells equal those of
 * a fresh run of the same events under the new version, readers see the
 * old or the new generation and never anything else, the worker still on
 * the old version writes nothing after the switch and, reloaded, carries
 * on. A backfill killed with -9 and run again gives the same cells. A
 * repair of the live tables (a range from raw rows, all of it from Kafka
 * with the daemon running) replaces spoilt cells, never adds to them.
 */
#include "red_itest.h"
#include "red_time.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CODEGEN_GROUP "reducerd.codegen_metrics"

/* --- helpers --------------------------------------------------------- */

static const char *const agent_topics[5][2] = {
        {"dev.agent.metrics.routing.v1", "routing_decision_time_ms"},
        {"dev.agent.metrics.state-ops.v1", "state_get_time_ms"},
        {"dev.agent.metrics.coordination.v1", "coordination_overhead_ms"},
        {"dev.agent.metrics.workflow.v1", "workflow_step_count"},
        {"dev.agent.metrics.ai-quorum.v1", "quorum_latency_ms"},
};

/* @p n agent metrics from January to April 2026, in time order (so none
 * is late), timings and counters mixed; returns the path (static). */
static const char *agent_events(itest_t *t, const char *name, int n)
{
        static char path[4096];
        red_time_t start = test_ts("2026-01-01T00:00:00Z");
        int64_t step = 110 * RED_TIME_US_PER_DAY / n;
        FILE *fp;

        snprintf(path, sizeof(path), "%s/%s", t->dir, name);
        fp = fopen(path, "w");
        ck_assert_ptr_nonnull(fp);
        for (int i = 0; i < n; i++) {
                char ts[RED_TIME_FMT_SIZE];
                const char *const *cat = agent_topics[i % 5];

                red_time_format(start + i * step, ts, sizeof(ts));
                fprintf(fp,
                        "{\"_topic\": \"%s\", \"event_type\": "
                        "\"metric.recorded\", \"metric_id\": \"m-%d\", "
                        "\"metric_name\": \"%s\", \"metric_type\": \"%s\", "
                        "\"value\": %d.25, \"unit\": \"ms\", \"agent_id\": "
                        "\"agent-%d\", \"tags\": {\"k\": \"v%d\"}, "
                        "\"timestamp\": \"%s\"}\n",
                        cat[0], i, cat[1], i % 3 ? "counter" : "timing",
                        (i * 37) % 500, i % 4, i % 2, ts);
        }
        ck_assert_int_eq(fclose(fp), 0);
        return path;
}

/* The cells of @p table (key, contract columns, state), one line each in
 * key order: revision, finalized_at and updated_at differ between runs. */
static char *cells(const char *conninfo, const char *table, const char *columns)
{
        char sql[2048];

        snprintf(sql, sizeof(sql),
                 "SELECT coalesce(string_agg(concat_ws('|', aggregation_id, "
                 "window_type, window_start, window_end, %s, md5(state)), "
                 "E'\\n' ORDER BY aggregation_id), '') FROM %s",
                 columns, table);
        return itest_value(conninfo, sql);
}

#define AGENT_COLUMNS                                                          \
        "aggregation_type, metric_name, agent_id, count, sum, min, max, avg, " \
        "p50, p95, p99"
#define CODEGEN_COLUMNS                                                        \
        "aggregation_type, group_key, started_generations, "                   \
        "total_generations, successful_generations, failed_generations, "      \
        "success_rate, duration_statistics::text, quality_statistics::text, "  \
        "cost_statistics::text, stage_statistics::text, "                      \
        "failed_stage_counts::text"

static void assert_same(const char *got, const char *want, const char *what)
{
        size_t line = 1, i = 0;

        while (got[i] && got[i] == want[i]) {
                line += got[i++] == '\n';
        }
        ck_assert_msg(!got[i] && !want[i],
                      "%s differ at line %zu (of %zu bytes and %zu bytes)",
                      what, line, strlen(got), strlen(want));
}

/* A database migrated for @p contracts alone, and loaded from @p events
 * under @p contract: a fresh run of the new version. */
static void fresh_run(itest_t *f, const char *name,
                      const char *const *contracts, const char *const *loads)
{
        const char *mig[8] = {"migrate"};
        size_t n = 1;

        memset(f, 0, sizeof(*f));
        f->kafka_pid = -1;
        f->dir = test_tmpdir();
        f->conninfo = test_pg_create_db(name);
        for (size_t i = 0; contracts[i] && n < 7; i++) {
                mig[n++] = contracts[i];
        }
        mig[n] = NULL;
        free(itest_cmd_ok(f, mig));
        for (size_t i = 0; loads[i]; i += 2) {
                itest_load(f, loads[i], loads[i + 1]);
        }
}

/* --- readers during the switch ---------------------------------------- */

/* A process that reads the table's totals in a loop, writing each new
 * answer (or error) to @p out, until @p stop exists. */
static pid_t reader_start(const char *conninfo, const char *sql,
                          const char *out, const char *stop)
{
        pid_t pid = fork();

        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                PGconn *c = PQconnectdb(conninfo);
                FILE *fp = fopen(out, "w");
                char last[256] = "";

                while (fp && access(stop, F_OK)) {
                        PGresult *res = PQexec(c, sql);
                        char now[256];

                        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                                snprintf(now, sizeof(now), "ERROR %s",
                                         PQerrorMessage(c));
                        } else {
                                snprintf(now, sizeof(now), "%s",
                                         PQgetvalue(res, 0, 0));
                        }
                        PQclear(res);
                        if (strcmp(now, last)) {
                                fprintf(fp, "%s\n", now);
                                fflush(fp);
                                snprintf(last, sizeof(last), "%s", now);
                        }
                        usleep(500);
                }
                if (fp) {
                        fclose(fp);
                }
                PQfinish(c);
                _exit(0);
        }
        return pid;
}

/* Every answer a reader saw is @p old or @p new; the last one is new. */
static void reader_check(pid_t pid, const char *out, const char *stop,
                         const char *old, const char *new)
{
        char *text, *line, *save = NULL, last[256] = "";
        int st;

        test_write_file(stop, "", 0);
        ck_assert_int_eq(waitpid(pid, &st, 0), pid);
        text = test_read_file(out, NULL);
        for (line = strtok_r(text, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                ck_assert_msg(!strcmp(line, old) || !strcmp(line, new),
                              "a reader saw \"%s\" (old: %s, new: %s)", line,
                              old, new);
                snprintf(last, sizeof(last), "%s", line);
        }
        ck_assert_str_eq(last, new);
        free(text);
}

/* --- from raw rows ------------------------------------------------------ */

/* The agent metrics' rollups with a different measure: only timings. */
static char *agent_v2(itest_t *t)
{
        static const char *const edits[] = {
                "version: 1.0.0", "version: 1.1.0",
                "      value: {sketch: value}\n",
                "      value: {sketch: value, where: {metric_type: timing}}\n",
                NULL};

        return itest_edit(t, "contracts/agent_metrics.yaml", "agent_v2.yaml",
                          edits);
}

/* A database with @p n agent metrics loaded under the shipped contract,
 * and migrated for its version 1.1.0 (*@p v2, the file's path): the
 * events' path (static). */
static const char *agent_setup(itest_t *t, const char *name, int n, char **v2)
{
        const char *mig[] = {"migrate", NULL, NULL};
        const char *events;
        char *out;

        itest_init(t, name);
        events = agent_events(t, "agent.jsonl", n);
        itest_load(t, test_path("contracts/agent_metrics.yaml"), events);
        *v2 = agent_v2(t);
        mig[1] = *v2;
        out = itest_cmd_ok(t, mig);
        ck_assert_ptr_nonnull(strstr(out, "\"agent_metrics_rollup_g2\""));
        free(out);
        return events;
}

#define TOTALS                                                                 \
        "SELECT count(*) || '/' || coalesce(sum(count), 0) FROM "              \
        "agent_metrics_rollup"

/*
 * Version 1.1.0 of agent_metrics counts only timings: migrate builds
 * generation 2 of the rollup, the backfill fills it from the raw rows and
 * switches it in while a reader polls the table; the rollup then equals
 * a fresh run under 1.1.0, and the old one is kept as _g1.
 */
START_TEST(raw_rows_fill_a_new_generation)
{
        itest_t t, f;
        char *v2, *out, *got, *want, stop[4096], rout[4096];
        const char *events, *cfg;
        const char *bf[] = {"backfill",      "-c", NULL, "--contract",
                            "agent_metrics", NULL};
        const char *contracts[] = {NULL, NULL};
        const char *loads[] = {NULL, NULL, NULL};
        char *old, *new;
        pid_t reader;

        events = agent_setup(&t, "backfill_raw", 400, &v2);
        contracts[0] = v2;
        loads[0] = v2;
        loads[1] = events;
        fresh_run(&f, "backfill_raw_fresh", contracts, loads);
        old = itest_value(t.conninfo, TOTALS);
        new = itest_value(f.conninfo, TOTALS);
        ck_assert_str_ne(old, new);

        snprintf(stop, sizeof(stop), "%s/stop", t.dir);
        snprintf(rout, sizeof(rout), "%s/reader.txt", t.dir);
        reader = reader_start(t.conninfo, TOTALS, rout, stop);
        cfg = itest_db_config(&t, contracts);
        bf[2] = cfg;
        out = itest_cmd_ok(&t, bf);
        ck_assert_msg(strstr(out, "the new generation is live"), "%s", out);
        free(out);
        reader_check(reader, rout, stop, old, new);

        got = cells(t.conninfo, "agent_metrics_rollup", AGENT_COLUMNS);
        want = cells(f.conninfo, "agent_metrics_rollup", AGENT_COLUMNS);
        ck_assert_ptr_nonnull(strstr(got, "hourly"));
        assert_same(got, want, "the backfilled and the fresh rollups");
        free(got);
        /* the old generation, as it was */
        got = cells(t.conninfo, "agent_metrics_rollup_g1", AGENT_COLUMNS);
        ck_assert_ptr_nonnull(strstr(got, "daily"));
        free(got);
        free(want);
        free(old);
        free(new);
        free(v2);
        itest_fini(&f);
        itest_fini(&t);
}
END_TEST

/* The rollup's cells whose window overlaps [10 Feb, 12 Feb) (@p in) or
 * not: a subquery for cells(). */
#define RANGE_FROM "2026-02-10T00:00:00Z"
#define RANGE_TO   "2026-02-12T00:00:00Z"
#define ROLLUP_IN                                                              \
        "(SELECT * FROM agent_metrics_rollup WHERE window_end > "              \
        "'" RANGE_FROM "' AND window_start < '" RANGE_TO "') r"
#define ROLLUP_OUT                                                             \
        "(SELECT * FROM agent_metrics_rollup WHERE NOT (window_end > "         \
        "'" RANGE_FROM "' AND window_start < '" RANGE_TO "')) r"

/*
 * A repair of the live tables, for a range: with every stored count
 * spoilt, `reducerd backfill --from --to` (twice) gives the windows that
 * overlap the range back their values, replaced and not added to, and
 * leaves the other windows as they are.
 */
START_TEST(range_repair_replaces_cells)
{
        itest_t t;
        char *shipped = strdup(test_path("contracts/agent_metrics.yaml"));
        const char *contracts[] = {shipped, NULL};
        const char *bf[] = {"backfill",      "-c",     NULL,       "--contract",
                            "agent_metrics", "--from", RANGE_FROM, "--to",
                            RANGE_TO,        NULL};
        const char *events;
        char *in, *out_before, *out_spoilt, *got, *out;
        PGconn *c;

        itest_init(&t, "backfill_range");
        events = agent_events(&t, "agent.jsonl", 2000);
        itest_load(&t, shipped, events);
        in = cells(t.conninfo, ROLLUP_IN, AGENT_COLUMNS);
        out_before = cells(t.conninfo, ROLLUP_OUT, AGENT_COLUMNS);
        ck_assert_msg(strstr(in, "|hourly|") && strstr(in, "|daily|"), "%s",
                      in);
        ck_assert_ptr_nonnull(strstr(out_before, "|daily|"));

        c = test_pg_connect(t.conninfo);
        free(test_pg_value(c, "WITH u AS (UPDATE agent_metrics_rollup SET "
                              "count = count + 1000 RETURNING 1) SELECT "
                              "count(*) FROM u"));
        PQfinish(c);
        out_spoilt = cells(t.conninfo, ROLLUP_OUT, AGENT_COLUMNS);
        ck_assert_str_ne(out_spoilt, out_before);

        bf[2] = itest_db_config(&t, contracts);
        for (int i = 0; i < 2; i++) {
                out = itest_cmd_ok(&t, bf);
                ck_assert_msg(strstr(out, "the range's cells replaced"), "%s",
                              out);
                free(out);
                got = cells(t.conninfo, ROLLUP_IN, AGENT_COLUMNS);
                assert_same(got, in, "the repaired and the original cells");
                free(got);
                got = cells(t.conninfo, ROLLUP_OUT, AGENT_COLUMNS);
                assert_same(got, out_spoilt,
                            "the cells outside the range and the spoilt ones");
                free(got);
        }
        free(in);
        free(out_before);
        free(out_spoilt);
        free(shipped);
        itest_fini(&t);
}
END_TEST

/* `reducerd backfill` with failpoints: @p fp ("name:1") kills it with
 * SIGKILL; returns the exit status. */
static int backfill_with(itest_t *t, const char *cfg, const char *contract,
                         const char *fp)
{
        char env[512], fps[256], *out, *err;
        const char *envs[] = {env, fps, NULL};
        const char *argv[] = {test_bin(),   "backfill", "-c", cfg,
                              "--contract", contract,   NULL};
        int rc;

        snprintf(env, sizeof(env), "REDUCERD_POSTGRES_CONNINFO=%s",
                 t->conninfo);
        snprintf(fps, sizeof(fps), "REDUCERD_FAILPOINTS=%s", fp);
        rc = test_run(argv, envs, &out, &err);
        free(out);
        free(err);
        return rc;
}

static long chunks_done(itest_t *t)
{
        char *v = itest_value(t->conninfo,
                              "SELECT coalesce(sum(cardinality(chunks_done)), "
                              "0) FROM reducerd_backfills WHERE state = "
                              "'running'");
        long n = atol(v);

        free(v);
        return n;
}

/*
 * kill -9 after the first partition was written, and again in the middle
 * of the second (before its commit): each run resumes where the last
 * stood, and the finished backfill gives the cells of an uninterrupted
 * one (a fresh run under the new version).
 */
START_TEST(killed_backfill_resumes)
{
        itest_t t, f;
        char *v2, *got, *want;
        const char *events, *cfg;
        const char *contracts[] = {NULL, NULL};
        const char *loads[] = {NULL, NULL, NULL};
        int rc;

        events = agent_setup(&t, "backfill_kill", 300, &v2);
        contracts[0] = v2;
        cfg = itest_db_config(&t, contracts);

        rc = backfill_with(&t, cfg, "agent_metrics", "backfill_chunk:1");
        ck_assert_msg(rc == 128 + SIGKILL, "exit %d", rc);
        ck_assert_int_eq(chunks_done(&t), 1);
        rc = backfill_with(&t, cfg, "agent_metrics",
                           "backfill_before_commit:1");
        ck_assert_msg(rc == 128 + SIGKILL, "exit %d", rc);
        ck_assert_int_eq(chunks_done(&t), 1);
        rc = backfill_with(&t, cfg, "agent_metrics", "");
        ck_assert_int_eq(rc, 0);
        ck_assert_int_eq(chunks_done(&t), 0); /* done: no running record */

        loads[0] = v2;
        loads[1] = events;
        fresh_run(&f, "backfill_kill_fresh", contracts, loads);
        got = cells(t.conninfo, "agent_metrics_rollup", AGENT_COLUMNS);
        want = cells(f.conninfo, "agent_metrics_rollup", AGENT_COLUMNS);
        ck_assert_ptr_nonnull(strstr(got, "daily"));
        assert_same(got, want, "the resumed and the fresh rollups");
        free(got);
        free(want);
        free(v2);
        itest_fini(&f);
        itest_fini(&t);
}
END_TEST

/* --- from a Kafka replay ---------------------------------------------- */

/*
 * codegen_metrics keeps no raw rows: its version 1.1.0 with new quality
 * buckets is built by replaying the topics while `reducerd run` (1.0.0)
 * keeps consuming. Before the switch the worker refuses to reload 1.1.0;
 * after it the worker writes nothing (it says it must be reloaded), a
 * reload with 1.1.0 carries on, and the cells of all the events equal a
 * fresh run under 1.1.0.
 */
START_TEST(kafka_replay_fills_a_new_generation)
{
        itest_t t, f;
        char *shipped = strdup(test_path("contracts/codegen_metrics.yaml"));
        const char *const edits[] = {"{key: low, below: 0.6}",
                                     "{key: low, below: 0.5}", "version: 1.0.0",
                                     "version: 1.1.0", NULL};
        const char *contracts[] = {NULL, NULL};
        const char *loads[] = {NULL, NULL, NULL, NULL, NULL};
        const char *mig[] = {"migrate", NULL, NULL};
        const char *bf[] = {"backfill",        "-c", NULL, "--contract",
                            "codegen_metrics", NULL};
        char *v2, *out, *got, *want, *log, *e1, *e2;
        pid_t w;

        itest_init(&t, "backfill_kafka");
        contracts[0] = shipped;
        itest_kafka(&t, 2, contracts);
        itest_config(&t, contracts, 500, 200, NULL);
        e1 = strdup(itest_generate(&t, "e1.jsonl",
                                   "--events 1200 --days 2 --seed 5 "
                                   "--partitions 2"));
        e2 = strdup(itest_generate(&t, "e2.jsonl",
                                   "--events 300 --days 2 --seed 6 "
                                   "--partitions 2"));
        itest_produce(&t, e1, 1, 1200);
        w = itest_start(&t, NULL, 0);
        ck_assert_msg(itest_wait_committed(&t, CODEGEN_GROUP, 1200, 60000),
                      "committed %ld of 1200",
                      itest_committed(&t, CODEGEN_GROUP));

        v2 = itest_edit(&t, "contracts/codegen_metrics.yaml", "v2.yaml", edits);
        mig[1] = v2;
        free(itest_cmd_ok(&t, mig));
        /* the backfill reads the brokers from a config naming 1.1.0; the
         * worker, told to reload it before the switch, keeps 1.0.0 */
        contracts[0] = v2;
        itest_config(&t, contracts, 500, 200, NULL);
        ck_assert_int_eq(kill(w, SIGHUP), 0);
        ck_assert(itest_wait_log(&t,
                                 "reload refused, keeping the running "
                                 "contracts: contract codegen_metrics 1.1.0",
                                 30000));
        bf[2] = t.config;
        out = itest_cmd_ok(&t, bf);
        ck_assert_msg(strstr(out, "the new generation is live"), "%s", out);
        free(out);

        /* the worker, still on 1.0.0, stops writing ... */
        itest_produce(&t, e2, 1, 300);
        ck_assert(itest_wait_log(&t, "its tables were switched to generation 2",
                                 30000));
        ck_assert_int_eq(itest_committed(&t, CODEGEN_GROUP), 1200);
        /* ... and carries on when reloaded with 1.1.0 */
        ck_assert_int_eq(kill(w, SIGHUP), 0);
        ck_assert_msg(itest_wait_committed(&t, CODEGEN_GROUP, 1500, 60000),
                      "committed %ld of 1500",
                      itest_committed(&t, CODEGEN_GROUP));
        ck_assert_int_eq(itest_stop(w, SIGTERM, 30000), 0);

        loads[0] = v2;
        loads[1] = e1;
        loads[2] = v2;
        loads[3] = e2;
        fresh_run(&f, "backfill_kafka_fresh", contracts, loads);
        got = cells(t.conninfo, "codegen_metrics_aggregated", CODEGEN_COLUMNS);
        want = cells(f.conninfo, "codegen_metrics_aggregated", CODEGEN_COLUMNS);
        ck_assert_ptr_nonnull(strstr(got, "quality_buckets"));
        assert_same(got, want, "the replayed and the fresh cells");
        log = itest_log(&t, 0);
        ck_assert_ptr_nonnull(strstr(log, "reload it (SIGHUP)"));
        free(log);
        free(got);
        free(want);
        free(v2);
        free(e1);
        free(e2);
        free(shipped);
        itest_fini(&f);
        itest_fini(&t);
}
END_TEST

/*
 * A repair of the live tables from Kafka (codegen_metrics keeps no raw
 * rows) while `reducerd run` keeps consuming: with every stored total
 * spoilt, the backfill replays the topics up to the daemon's offsets and
 * gives the cells back their values; the daemon then carries on, and the
 * cells of all the events equal a fresh run.
 */
START_TEST(kafka_repair_replaces_cells)
{
        itest_t t, f;
        char *shipped = strdup(test_path("contracts/codegen_metrics.yaml"));
        const char *contracts[] = {shipped, NULL};
        const char *loads[] = {NULL, NULL, NULL, NULL, NULL};
        const char *bf[] = {"backfill",        "-c", NULL, "--contract",
                            "codegen_metrics", NULL};
        char *before, *spoilt, *got, *want, *out, *e1, *e2;
        PGconn *c;
        pid_t w;

        itest_init(&t, "backfill_kafka_repair");
        itest_kafka(&t, 2, contracts);
        itest_config(&t, contracts, 500, 200, NULL);
        e1 = strdup(itest_generate(&t, "e1.jsonl",
                                   "--events 800 --days 2 --seed 7 "
                                   "--partitions 2"));
        e2 = strdup(itest_generate(&t, "e2.jsonl",
                                   "--events 200 --days 2 --seed 8 "
                                   "--partitions 2"));
        itest_produce(&t, e1, 1, 800);
        w = itest_start(&t, NULL, 0);
        ck_assert_msg(itest_wait_committed(&t, CODEGEN_GROUP, 800, 60000),
                      "committed %ld of 800",
                      itest_committed(&t, CODEGEN_GROUP));
        before = cells(t.conninfo, "codegen_metrics_aggregated",
                       CODEGEN_COLUMNS);
        ck_assert_ptr_nonnull(strstr(before, "|hourly|"));
        c = test_pg_connect(t.conninfo);
        free(test_pg_value(c, "WITH u AS (UPDATE codegen_metrics_aggregated "
                              "SET total_generations = total_generations + "
                              "1000 RETURNING 1) SELECT count(*) FROM u"));
        PQfinish(c);
        spoilt = cells(t.conninfo, "codegen_metrics_aggregated",
                       CODEGEN_COLUMNS);
        ck_assert_str_ne(spoilt, before);

        bf[2] = t.config;
        out = itest_cmd_ok(&t, bf);
        /* every event up to the daemon's offsets, none twice */
        ck_assert_msg(strstr(out, "backfill codegen_metrics: 800 events read; "
                                  "the range's cells replaced"),
                      "%s", out);
        free(out);
        got = cells(t.conninfo, "codegen_metrics_aggregated", CODEGEN_COLUMNS);
        assert_same(got, before, "the repaired and the original cells");
        free(got);

        /* the daemon carries on */
        itest_produce(&t, e2, 1, 200);
        ck_assert_msg(itest_wait_committed(&t, CODEGEN_GROUP, 1000, 60000),
                      "committed %ld of 1000",
                      itest_committed(&t, CODEGEN_GROUP));
        ck_assert_int_eq(itest_stop(w, SIGTERM, 30000), 0);
        loads[0] = shipped;
        loads[1] = e1;
        loads[2] = shipped;
        loads[3] = e2;
        fresh_run(&f, "backfill_kafka_repair_fresh", contracts, loads);
        got = cells(t.conninfo, "codegen_metrics_aggregated", CODEGEN_COLUMNS);
        want = cells(f.conninfo, "codegen_metrics_aggregated", CODEGEN_COLUMNS);
        assert_same(got, want, "the repaired and the fresh cells");
        free(got);
        free(want);
        free(before);
        free(spoilt);
        free(e1);
        free(e2);
        free(shipped);
        itest_fini(&f);
        itest_fini(&t);
}
END_TEST

/* --- the walkthrough ---------------------------------------------------- */

/* The text of the @p nth fenced block of @p lang in @p md (malloc'd). */
static char *block(const char *md, const char *lang, int nth)
{
        char fence[32];
        const char *p = md;

        snprintf(fence, sizeof(fence), "```%s\n", lang);
        for (int i = 0; i <= nth; i++) {
                ck_assert_msg((p = strstr(p, fence)) != NULL,
                              "no block %d of %s", nth, lang);
                p += strlen(fence);
        }
        return strndup(p, (size_t)(strstr(p, "```") - p));
}

/* The lines of a shell here-document (between <<EOF and EOF) with $now
 * replaced by @p now, each given "_topic": @p topic. */
static char *events_of(const char *sh, const char *topic, const char *now)
{
        const char *p = strstr(sh, "<<EOF\n"), *end;
        size_t cap = 8192, len = 0;
        char *out = calloc(1, cap);

        ck_assert_ptr_nonnull(p);
        p += 6;
        end = strstr(p, "\nEOF");
        ck_assert_ptr_nonnull(end);
        while (p < end) {
                const char *nl = strchr(p, '\n'), *var;
                char line[1024];
                int n;

                snprintf(line, sizeof(line), "%.*s", (int)(nl - p), p);
                while ((var = strstr(line, "$now"))) {
                        char tmp[1024];
                        snprintf(tmp, sizeof(tmp), "%.*s%s%s",
                                 (int)(var - line), line, now, var + 4);
                        snprintf(line, sizeof(line), "%s", tmp);
                }
                ck_assert(line[0] == '{');
                n = snprintf(out + len, cap - len, "{\"_topic\": \"%s\", %s\n",
                             topic, line + 1);
                ck_assert(n > 0 && (size_t)n < cap - len);
                len += (size_t)n;
                p = nl + 1;
        }
        return out;
}

/*
 * The walkthrough of contracts/README.md, "New contract in five
 * minutes": its contract, check (and check --postgres: the plan),
 * migrate, run, its events through Kafka, its query: the rows shown. No
 * SQL besides the README's query.
 */
START_TEST(walkthrough_new_contract)
{
        char *md =
                test_markdown_section(test_path("contracts/README.md"),
                                      "## New contract in five minutes", NULL);
        char *yaml = block(md, "yaml", 0), *produce = block(md, "sh", 2);
        char *query = block(md, "sh", 3), *shown = block(md, "text", 0);
        char path[4096], now[RED_TIME_FMT_SIZE], *events, *out, *sql, *psql;
        const char *contracts[] = {path, NULL};
        const char *check[] = {"check", "-c", NULL, NULL};
        const char *check_pg[] = {"check", "-c", NULL, "--postgres", NULL};
        const char *mig[] = {"migrate", "-c", NULL, NULL};
        red_time_t t0 = red_time_now();
        itest_t t;
        pid_t w;

        itest_init(&t, "walkthrough");
        snprintf(path, sizeof(path), "%s/task_metrics.yaml", t.dir);
        test_write_file(path, yaml, strlen(yaml));
        itest_kafka(&t, 1, contracts);
        itest_config(&t, contracts, 100, 100, NULL);
        check[2] = check_pg[2] = mig[2] = t.config;
        out = itest_cmd_ok(&t, check);
        ck_assert_ptr_nonnull(strstr(out, "contract task_metrics 1.0.0"));
        free(out);
        out = itest_cmd_ok(&t, check_pg);
        ck_assert_msg(strstr(out, "CREATE TABLE \"task_metrics_by_agent\"") &&
                              strstr(out, "CREATE TABLE \"task_events\"") &&
                              strstr(out, "run reducerd migrate"),
                      "%s", out);
        free(out);
        free(itest_cmd_ok(&t, mig));
        out = itest_cmd_ok(&t, check_pg);
        ck_assert_ptr_nonnull(strstr(out, "the tables are as the contracts "
                                          "say"));
        free(out);

        w = itest_start(&t, NULL, 0);
        /* the README's events, stamped now (one hour: its table shows
         * one hourly row per agent) */
        red_time_format(t0 - t0 % RED_TIME_US_PER_HOUR + RED_TIME_US_PER_SEC,
                        now, sizeof(now));
        events = events_of(produce, "dev.tasks.completed.v1", now);
        snprintf(path, sizeof(path), "%s/events.jsonl", t.dir);
        test_write_file(path, events, strlen(events));
        itest_produce(&t, path, 1, 4);
        /* and once more: re-sent tasks are stored once */
        itest_produce(&t, path, 1, 4);
        ck_assert_msg(
                itest_wait_committed(&t, "reducerd.task_metrics", 8, 60000),
                "committed %ld of 8",
                itest_committed(&t, "reducerd.task_metrics"));
        ck_assert_int_eq(itest_stop(w, SIGTERM, 30000), 0);

        /* the README's query, as psql prints it */
        sql = strstr(query, "\"");
        ck_assert_ptr_nonnull(sql);
        sql = strndup(sql + 1, strcspn(sql + 1, "\""));
        ck_assert_int_ge(
                asprintf(&psql, "psql -X '%s' -c \"%s\"", t.conninfo, sql), 0);
        {
                FILE *p = popen(psql, "r");
                char buf[8192];
                size_t n;

                ck_assert_ptr_nonnull(p);
                n = fread(buf, 1, sizeof(buf) - 1, p);
                /* psql ends with an empty line the README leaves out */
                while (n && buf[n - 1] == '\n') {
                        n--;
                }
                buf[n++] = '\n';
                buf[n] = '\0';
                ck_assert_int_eq(pclose(p), 0);
                ck_assert_msg(!strcmp(buf, shown),
                              "the README shows:\n%s\npsql printed:\n%s", shown,
                              buf);
        }
        free(psql);
        free(sql);
        free(events);
        free(md);
        free(yaml);
        free(produce);
        free(query);
        free(shown);
        itest_fini(&t);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("backfill");

        test_add_case(s, "raw_rows_fill_a_new_generation",
                      raw_rows_fill_a_new_generation, 120);
        test_add_case(s, "range_repair_replaces_cells",
                      range_repair_replaces_cells, 120);
        test_add_case(s, "killed_backfill_resumes", killed_backfill_resumes,
                      120);
        test_add_case(s, "kafka_replay_fills_a_new_generation",
                      kafka_replay_fills_a_new_generation, 300);
        test_add_case(s, "kafka_repair_replaces_cells",
                      kafka_repair_replaces_cells, 300);
        test_add_case(s, "walkthrough_new_contract", walkthrough_new_contract,
                      180);
        return test_main(s);
}
