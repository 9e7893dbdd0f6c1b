/*
 * bench_e2e - end-to-end throughput of reducerd (embedded Kafka -> reducerd
 * -> PostgreSQL, all on this machine), against baselines measured in the
 * same run over the same data:
 * - kcat reading the same topics to /dev/null (the Kafka read limit);
 * - COPY of as many workflow history rows (the database write limit);
 * - "ELT in Postgres": COPY of the same events as jsonb, then ONE rollup
 *   statement that computes the same cells (the four calendar windows and
 *   the four groupings of the codegen contract, percentile_cont for the
 *   quantiles, the stage statistics and failed-stage counts), as a
 *   Postgres user would do without a stream reducer.
 * Prints events/s, the ratios reducerd / kcat, reducerd / COPY rows and
 * reducerd / ELT, the batch commit latency (first message of a batch to
 * its commit, from reducerd's /metrics histogram) p50/p99 and reducerd's
 * peak RSS.
 *
 * Two durability modes in one run: PostgreSQL with fsync,
 * synchronous_commit and full_page_writes on (what users run), then off.
 * The server is restarted in each mode (bench_pgmode.h) and left as it was
 * found; without REDUCERD_TEST_PGCTL only the mode it runs in is measured.
 *
 *   bench_e2e [-n EVENTS] [-p PARTITIONS] [-b BATCH_MAX_EVENTS] [-m
 * BATCH_MAX_MS] [-d durable|fast|both] [-r REPLICAS]
 *
 * Needs PostgreSQL through the PG* variables (./dev pg prints them), kcat
 * and curl. Uses a database named reducerd_bench_e2e, recreated per mode.
 * reducerd runs at log level info.
 */
#include "bench_db.h"
#include "bench_pgmode.h"
#include "bench_proc.h"
#include "red_time.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <limits.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define DB "reducerd_bench_e2e"

static char bindir[PATH_MAX];
static char workdir[] = "/tmp/reducerd-bench-XXXXXX";

static const char *const topics[] = {
        "dev.omninode-bridge.codegen.generation-started.v1",
        "dev.omninode-bridge.codegen.stage-completed.v1",
        "dev.omninode-bridge.codegen.generation-completed.v1",
        "dev.omninode-bridge.codegen.generation-failed.v1",
        "dev.omninode-bridge.codegen.workflow.v1",
        "dev.reducerd.codegen-metrics.dead-letter.v1",
        "dev.omninode-bridge.codegen.metrics-recorded.v1",
        NULL};

static double now_s(void)
{
        return (double)red_time_mono_us() / 1e6;
}

static void die(const char *what)
{
        fprintf(stderr, "bench_e2e: %s\n", what);
        exit(1);
}

/* A history-shaped row for the database write limit. */
static int history_row(char *buf, size_t size, long i)
{
        return snprintf(buf, size,
                        "%08lx-0000-4000-8000-%012lx\t"
                        "%08lx-0000-4000-8000-000000000000\t"
                        "pending\tanalyzing\tstart_analysis\t"
                        "2026-11-20T10:%02ld:%02ld.%06ldZ\tt\t\\N\t{}\n",
                        i, i, i / 4, (i / 60) % 60, i % 60, i % 1000000);
}

/* --- the ELT baseline -------------------------------------------------- */

/*
 * What a Postgres user does without a stream reducer: the events as they
 * arrive in a jsonb table, then one statement computing the cells of
 * codegen_metrics_aggregated: every window type (date_trunc: hour, day,
 * ISO week, month) times every grouping (node_type, quality bucket,
 * domain, all), node_type and domain taken from the workflow's Started
 * event when an event lacks them, stage durations normalised to ms,
 * quantiles by percentile_cont. It does less than reducerd (no FSM, no
 * dedupe, no late-data policy, no outbox), so the ratio flatters ELT.
 */
static const char elt_rollup[] =
        "CREATE TABLE elt_cells AS "
        "WITH e AS ( "
        " SELECT CASE ev->>'_topic' "
        "  WHEN 'dev.omninode-bridge.codegen.generation-started.v1' THEN "
        "'started' "
        "  WHEN 'dev.omninode-bridge.codegen.stage-completed.v1' THEN "
        "'stage_completed' "
        "  WHEN 'dev.omninode-bridge.codegen.generation-completed.v1' THEN "
        "'completed' "
        "  WHEN 'dev.omninode-bridge.codegen.generation-failed.v1' THEN "
        "'failed' ELSE 'workflow' END AS kind, "
        "  coalesce(ev->'payload', ev) AS p, "
        "  coalesce(ev->>'timestamp', ev->>'event_timestamp')::timestamptz AS "
        "ts "
        " FROM elt_events), "
        "f AS ( "
        " SELECT kind, ts, p->>'workflow_id' AS wf, p->>'node_type' AS nt, "
        "p->>'domain' AS dom, "
        "  (p->>'total_duration_seconds')::float8 AS dur, "
        "  (p->>'quality_score')::float8 AS q, "
        "  (p->>'total_tokens')::bigint AS tokens, "
        "  (p->>'total_cost_usd')::numeric AS cost, "
        "  p->>'stage_name' AS stage, "
        "  coalesce((p->>'duration_ms')::float8, "
        "(p->>'duration_seconds')::float8 * 1000) AS stage_ms, "
        "  (p->>'success')::bool AS success, "
        "  (p->>'tokens_consumed')::bigint AS stage_tokens, "
        "  (p->>'cost_usd')::numeric AS stage_cost, "
        "  p->>'failed_stage' AS failed_stage "
        " FROM e), "
        "wfs AS ( "
        " SELECT wf, max(nt) AS nt, max(dom) AS dom FROM f WHERE kind = "
        "'started' GROUP BY wf), "
        "w AS ( "
        " SELECT f.*, coalesce(f.nt, wfs.nt, 'unknown') AS node_type, "
        "coalesce(f.dom, wfs.dom, 'unknown') AS domain, "
        "  CASE WHEN q < 0.6 THEN 'low' WHEN q < 0.8 THEN 'medium' WHEN q IS "
        "NOT NULL THEN 'high' END AS quality_bucket "
        " FROM f LEFT JOIN wfs USING (wf)), "
        "x AS ( "
        " SELECT w.kind, w.dur, w.q, w.tokens, w.cost, w.stage, w.stage_ms, "
        "w.success, w.stage_tokens, w.stage_cost, w.failed_stage, "
        "  win.wt, win.ws, g.agg, g.gkey FROM w "
        " CROSS JOIN LATERAL (VALUES ('hourly', date_trunc('hour', ts)), "
        "('daily', date_trunc('day', ts)), ('weekly', date_trunc('week', ts)), "
        "('monthly', date_trunc('month', ts))) win(wt, ws) "
        " CROSS JOIN LATERAL (VALUES ('node_type_grouping', node_type), "
        "('quality_buckets', quality_bucket), ('domain_grouping', domain), "
        "('time_window', 'all')) g(agg, gkey) "
        " WHERE g.gkey IS NOT NULL), "
        "cells AS ( "
        " SELECT wt, ws, agg, gkey, "
        "  count(*) FILTER (WHERE kind = 'started') AS started, "
        "  count(*) FILTER (WHERE kind = 'completed') AS completed, "
        "  count(*) FILTER (WHERE kind = 'failed') AS failed, "
        "  percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY dur) "
        "AS duration_p, "
        "  avg(dur) AS duration_avg, min(dur) AS duration_min, max(dur) AS "
        "duration_max, "
        "  avg(q) AS quality_avg, min(q) AS quality_min, max(q) AS "
        "quality_max, "
        "  sum(tokens) AS tokens, sum(cost) AS cost "
        " FROM x GROUP BY wt, ws, agg, gkey), "
        "stages AS ( "
        " SELECT wt, ws, agg, gkey, jsonb_object_agg(stage, s) AS "
        "stage_statistics FROM ( "
        "  SELECT wt, ws, agg, gkey, stage, "
        "   jsonb_build_object('total_executions', count(*), 'failure_count', "
        "count(*) FILTER (WHERE NOT success), "
        "   'avg_duration_ms', avg(stage_ms), 'p95_duration_ms', "
        "percentile_cont(0.95) WITHIN GROUP (ORDER BY stage_ms), "
        "   'total_tokens', sum(stage_tokens), 'total_cost_usd', "
        "sum(stage_cost)) AS s "
        "  FROM x WHERE kind = 'stage_completed' GROUP BY wt, ws, agg, gkey, "
        "stage) s "
        " GROUP BY wt, ws, agg, gkey), "
        "fails AS ( "
        " SELECT wt, ws, agg, gkey, jsonb_object_agg(failed_stage, n) AS "
        "failed_stage_counts FROM ( "
        "  SELECT wt, ws, agg, gkey, failed_stage, count(*) AS n FROM x WHERE "
        "kind = 'failed' "
        "  GROUP BY wt, ws, agg, gkey, failed_stage) f "
        " GROUP BY wt, ws, agg, gkey) "
        "SELECT * FROM cells LEFT JOIN stages USING (wt, ws, agg, gkey) LEFT "
        "JOIN fails USING (wt, ws, agg, gkey)";

/* COPY of the events as jsonb, then the rollup: events/s of the two, and
 * how many cells the rollup made. */
static double elt_rate(PGconn *c, const char *events, long n, long *cells)
{
        size_t cap = 1 << 20, len = 0;
        char *buf = malloc(cap + 4096), line[65536];
        double t0, t1;
        PGresult *r;
        FILE *fp = fopen(events, "r");

        if (!buf || !fp) {
                die("ELT: cannot read the events");
        }
        bench_db_exec(c, "SET TimeZone = 'UTC'");
        /* the sorts of percentile_cont in memory, as a user would set it */
        bench_db_exec(c, "SET work_mem = '256MB'");
        bench_db_exec(c, "CREATE TABLE elt_events (ev jsonb NOT NULL)");
        t0 = now_s();
        bench_db_copy_start(c, "COPY elt_events FROM STDIN");
        while (fgets(line, sizeof(line), fp)) {
                /* COPY text: a backslash is written twice */
                for (const char *s = line; *s; s++) {
                        if (*s == '\\') {
                                buf[len++] = '\\';
                        }
                        buf[len++] = *s;
                }
                if (len >= cap) {
                        bench_db_copy_put(c, buf, len);
                        len = 0;
                }
        }
        fclose(fp);
        bench_db_copy_put(c, buf, len);
        bench_db_copy_end(c);
        r = PQexec(c, elt_rollup);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
                die(PQresultErrorMessage(r));
        }
        *cells = atol(PQcmdTuples(r));
        PQclear(r);
        t1 = now_s();
        free(buf);
        bench_db_exec(c, "DROP TABLE elt_events, elt_cells");
        return (double)n / (t1 - t0);
}

/* --- reducerd's own numbers -------------------------------------------- */

typedef struct latency_s {
        double le[16];         /* upper bounds, s; the last +Inf */
        unsigned long cum[16]; /* cumulative counts */
        int cnt;               /* buckets read */
        double sum;            /* s */
        double consumed;       /* events read, all replicas */
} latency_t;

/* Adds the batch commit histogram of reducerd's /metrics to @p h (zeroed
 * before the first replica's; the replicas have the same buckets). */
static void scrape_latency(int port, latency_t *h)
{
        char cmd[256], line[1024];
        int at = 0;
        FILE *fp;

        snprintf(cmd, sizeof(cmd),
                 "curl -sf http://127.0.0.1:%d/metrics 2>/dev/null", port);
        if (!(fp = popen(cmd, "r"))) {
                return;
        }
        while (fgets(line, sizeof(line), fp)) {
                const char *b = "reducerd_batch_commit_seconds_bucket{";
                const char *s = "reducerd_batch_commit_seconds_sum{";
                const char *c = "reducerd_events_consumed_total{";
                char *le;

                if (!strncmp(line, b, strlen(b)) && at < 16 &&
                    (le = strstr(line, "le=\""))) {
                        le += 4;
                        h->le[at] = strncmp(le, "+Inf", 4) ? atof(le) : 1e300;
                        h->cum[at++] += strtoul(strchr(le, ' ') + 1, NULL, 10);
                        h->cnt = at > h->cnt ? at : h->cnt;
                } else if (!strncmp(line, s, strlen(s))) {
                        h->sum += atof(strchr(line, ' ') + 1);
                } else if (!strncmp(line, c, strlen(c))) {
                        h->consumed += atof(strchr(line, ' ') + 1);
                }
        }
        pclose(fp);
}

/* The @p q quantile of the histogram in ms, interpolated within its bucket
 * as Prometheus' histogram_quantile() does; -1 when empty. */
static double quantile_ms(const latency_t *h, double q)
{
        unsigned long total = h->cnt ? h->cum[h->cnt - 1] : 0;
        double rank = q * (double)total, lo = 0;

        if (!total) {
                return -1;
        }
        for (int i = 0; i < h->cnt; i++) {
                unsigned long below = i ? h->cum[i - 1] : 0;
                if ((double)h->cum[i] >= rank) {
                        if (h->le[i] > 1e299) {
                                return lo * 1000; /* the last finite bound */
                        }
                        return 1000 *
                               (lo + (h->le[i] - lo) * (rank - (double)below) /
                                             (double)(h->cum[i] - below));
                }
                lo = h->le[i];
        }
        return lo * 1000;
}

/* Peak resident set of process @p pid, MiB (VmHWM). */
static double peak_rss_mib(pid_t pid)
{
        char path[64], line[256];
        double kib = 0;
        FILE *fp;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        if (!(fp = fopen(path, "r"))) {
                return 0;
        }
        while (fgets(line, sizeof(line), fp)) {
                if (!strncmp(line, "VmHWM:", 6)) {
                        kib = atof(line + 6);
                }
        }
        fclose(fp);
        return kib / 1024;
}

/* --- one mode ---------------------------------------------------------- */

#define MAX_REPLICAS 8

typedef struct setup_s {
        const char *bootstrap;
        long n, batch, batch_ms, replicas;
        double kcat;
} setup_t;

/* A fresh migrated database, the two database baselines and reducerd
 * over the same events, in the server's present durability mode. */
static void run_mode(const setup_t *s, const char *mode)
{
        char cmd[8192], path[PATH_MAX], events[PATH_MAX], conf[PATH_MAX];
        double t0, t1, t_first = 0, t_shown = 0, copy, elt, e2e, rss;
        bool progress = getenv("RED_BENCH_PROGRESS") != NULL;
        long done, first = 0;
        int ports[MAX_REPLICAS];
        pid_t reducerd[MAX_REPLICAS];
        latency_t h;
        long cells;
        PGconn *admin, *c;
        FILE *fp;

        printf("-- PostgreSQL %s\n", mode);
        admin = bench_db_connect("postgres");
        bench_db_exec(admin, "SET client_min_messages = warning");
        bench_db_exec(admin, "DROP DATABASE IF EXISTS " DB);
        bench_db_exec(admin, "CREATE DATABASE " DB);
        snprintf(cmd, sizeof(cmd),
                 "REDUCERD_POSTGRES_CONNINFO=dbname=" DB
                 " %s/src/reducerd migrate "
                 "%s/contracts/codegen_metrics.yaml >/dev/null",
                 bindir, RED_SOURCE_ROOT);
        bench_proc_run(cmd);
        c = bench_db_connect(DB);

        /* baseline 2: COPY of as many history rows */
        copy = bench_db_copy_rate(c, "workflow_state_history",
                                  "transition_id, workflow_id, from_state, "
                                  "to_state, event, transition_timestamp, "
                                  "guard_conditions_met, reason, metadata",
                                  s->n, history_row);
        printf("COPY of history rows (DB limit):    %9.0f rows/s\n", copy);
        /* baseline 3: ELT in Postgres */
        snprintf(events, sizeof(events), "%s/events.jsonl", workdir);
        elt = elt_rate(c, events, s->n, &cells);
        printf("ELT (COPY jsonb + one rollup):      %9.0f events/s (%ld "
               "cells)\n",
               elt, cells);
        bench_db_exec(c, "VACUUM ANALYZE");

        /* reducerd: its replicas in one consumer group */
        for (long r = 0; r < s->replicas; r++) {
                ports[r] = bench_proc_free_port();
                snprintf(conf, sizeof(conf), "%s/reducerd-%ld.yaml", workdir,
                         r);
                if (!(fp = fopen(conf, "w"))) {
                        die("cannot write the config");
                }
                fprintf(fp,
                        "kafka:\n  brokers: \"%s\"\n  properties:\n"
                        "    partition.assignment.strategy: "
                        "range,roundrobin\n"
                        "    session.timeout.ms: \"6000\"\n"
                        "postgres:\n  conninfo: \"dbname=" DB "\"\n"
                        "contracts:\n  paths: "
                        "[\"%s/contracts/codegen_metrics.yaml\"]\n"
                        "batch:\n  max_events: %ld\n  max_ms: %ld\n"
                        "http:\n  listen: \"127.0.0.1:%d\"\nlog:\n  level: "
                        "%s\n",
                        s->bootstrap, RED_SOURCE_ROOT, s->batch, s->batch_ms,
                        ports[r],
                        getenv("RED_BENCH_LOG") ? getenv("RED_BENCH_LOG")
                                                : "info");
                fclose(fp);
                snprintf(path, sizeof(path), "%s/reducerd-%s-%ld.log", workdir,
                         strncmp(mode, "durable", 7) ? "fast" : "durable", r);
                reducerd[r] = bench_proc_reducerd_spawn(bindir, conf, path);
        }
        /* the clock starts when every replica has its first assignment */
        for (long r = 0; r < s->replicas; r++) {
                snprintf(path, sizeof(path), "%s/reducerd-%s-%ld.log", workdir,
                         strncmp(mode, "durable", 7) ? "fast" : "durable", r);
                bench_proc_reducerd_wait(path);
        }
        t0 = now_s();
        while ((done = bench_db_committed(c)) < s->n) {
                if (done > 0 && !first) {
                        first = done;
                        t_first = now_s();
                }
                usleep(20 * 1000);
                if (progress && now_s() - t_shown >= 1) {
                        t_shown = now_s();
                        printf("  %6.1f s: %ld events committed\n",
                               t_shown - t0, done);
                }
                if (now_s() - t0 > 600) {
                        die("reducerd did not finish in 10 minutes");
                }
        }
        t1 = now_s();
        e2e = (double)s->n / (t1 - t0);
        memset(&h, 0, sizeof(h));
        rss = 0;
        for (long r = 0; r < s->replicas; r++) {
                double one = peak_rss_mib(reducerd[r]);
                scrape_latency(ports[r], &h);
                rss = one > rss ? one : rss;
                kill(reducerd[r], SIGTERM);
        }
        for (long r = 0; r < s->replicas; r++) {
                waitpid(reducerd[r], NULL, 0);
        }
        printf("reducerd end to end:                %9.0f events/s "
               "(%.2f s, peak RSS %.0f MiB%s)\n",
               e2e, t1 - t0, rss, s->replicas > 1 ? " per replica" : "");
        /* the start holds every event for the contract's idle_wait while
         * the topics no event goes to stay quiet (contracts/README.md,
         * "Event-time ordering"): a fixed cost of each start, which the
         * rate after the first commit leaves out. reducerd reads and
         * decodes the events meanwhile, so that rate is the processing of
         * a backlog already read (bench/README.md) */
        if (first && first < s->n && t1 > t_first) {
                printf("  after the first commit:           %9.0f events/s "
                       "(first commit after %.2f s, %ld events)\n",
                       (double)(s->n - first) / (t1 - t_first), t_first - t0,
                       first);
        }
        /* offsets count what the embedded Kafka dropped too */
        if (h.cnt && h.consumed < (double)s->n) {
                printf("  WARNING: reducerd read %.0f of the %ld events: the "
                       "embedded Kafka dropped the oldest (about 5 MiB per "
                       "partition); use a smaller -n or more partitions (-p)\n",
                       h.consumed, s->n);
        }
        printf("ratio reducerd / kcat:              %9.2f (goal >= 0.5)\n",
               e2e / s->kcat);
        if (first && first < s->n && t1 > t_first) {
                printf("  after the first commit:           %9.2f\n",
                       (double)(s->n - first) / (t1 - t_first) / s->kcat);
        }
        printf("ratio reducerd / COPY rows:         %9.2f\n", e2e / copy);
        printf("ratio reducerd / ELT:               %9.2f (goal >= 2)\n",
               e2e / elt);
        if (h.cnt) {
                unsigned long cnt = h.cum[h.cnt - 1];
                printf("batch commit latency (%lu batches):  p50 %.0f ms, "
                       "p99 %.0f ms, mean %.0f ms (goal p99 <= %ld ms)\n",
                       cnt, quantile_ms(&h, 0.5), quantile_ms(&h, 0.99),
                       cnt ? h.sum * 1000 / (double)cnt : 0, s->batch_ms + 250);
        } else {
                printf("batch commit latency: /metrics not read\n");
        }
        PQfinish(c);
        bench_db_exec(admin, "DROP DATABASE IF EXISTS " DB);
        PQfinish(admin);
}

int main(int argc, char **argv)
{
        long n = 200000, batch = 20000, batch_ms = 500, parts = 24,
             replicas = 1;
        char cmd[8192];
        const char *modes = "both", *bootstrap;
        double t0, t1;
        int opt;
        bool was_durable, ok;
        bench_mock_t mock;
        setup_t s;

        while ((opt = getopt(argc, argv, "n:p:b:m:d:r:")) != -1) {
                switch (opt) {
                case 'n':
                        n = atol(optarg);
                        break;
                case 'p':
                        parts = atol(optarg);
                        break;
                case 'b':
                        batch = atol(optarg);
                        break;
                case 'm':
                        batch_ms = atol(optarg);
                        break;
                case 'd':
                        modes = optarg;
                        break;
                case 'r':
                        replicas = atol(optarg);
                        break;
                default:
                        fprintf(stderr,
                                "usage: %s [-n EVENTS] [-p PARTITIONS] "
                                "[-b BATCH_MAX_EVENTS] [-m BATCH_MAX_MS] "
                                "[-d durable|fast|both] [-r REPLICAS]\n",
                                argv[0]);
                        return 2;
                }
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (replicas < 1 || replicas > MAX_REPLICAS) {
                die("-r takes 1 to 8 replicas");
        }
        if (strcmp(modes, "both") && strcmp(modes, "durable") &&
            strcmp(modes, "fast")) {
                die("-d takes durable, fast or both");
        }
        bench_proc_dirs(argv[0], bindir, sizeof(bindir), workdir);
        printf("bench_e2e: %ld events, %ld partitions per topic, batches of "
               "%ld events / %ld ms, %ld replica%s, in %s\n",
               n, parts, batch, batch_ms, replicas, replicas == 1 ? "" : "s",
               workdir);

        /* the embedded Kafka in its own process */
        bench_proc_mock_start(&mock, bindir, workdir, parts, topics);
        bootstrap = mock.bootstrap;

        /* events of the last days, produced before anything reads them */
        snprintf(cmd, sizeof(cmd),
                 "%s/tests/gen_events --events %ld --days 3 --partitions %ld "
                 "--seed 42 --start $(date -u -d '-5 days' "
                 "+%%Y-%%m-%%dT00:00:00Z) > %s/events.jsonl",
                 bindir, n, parts, workdir);
        bench_proc_run(cmd);
        t0 = now_s();
        snprintf(cmd, sizeof(cmd),
                 "%s/tests/produce_jsonl -b %s -P %s/events.jsonl 2>/dev/null",
                 bindir, bootstrap, workdir);
        bench_proc_run(cmd);
        t1 = now_s();
        printf("produce (librdkafka, idempotent):   %9.0f events/s\n",
               (double)n / (t1 - t0));

        /* baseline 1: kcat reads every input topic to its end */
        t0 = now_s();
        cmd[0] = '\0';
        for (int i = 0; i < 5; i++) {
                char one[512];
                snprintf(one, sizeof(one),
                         "kcat -C -b %s -t %s -o beginning -e -q > /dev/null "
                         "2>&1 & ",
                         bootstrap, topics[i]);
                strcat(cmd, one);
        }
        strcat(cmd, "wait");
        bench_proc_run(cmd);
        t1 = now_s();
        s.kcat = (double)n / (t1 - t0);
        printf("kcat -C to /dev/null (Kafka limit): %9.0f events/s\n", s.kcat);
        s.bootstrap = bootstrap;
        s.n = n;
        s.batch = batch;
        s.batch_ms = batch_ms;
        s.replicas = replicas;

        /* durable first (what users run), then fast; the server is left in
         * the mode it was found in */
        was_durable = bench_pgmode_durable();
        for (int d = 1; d >= 0; d--) {
                const char *mode = bench_pgmode_name(d);
                if (strcmp(modes, "both") &&
                    strcmp(modes, d ? "durable" : "fast")) {
                        continue;
                }
                ok = bench_pgmode_set(d);
                if (!ok) {
                        printf("-- PostgreSQL %s: skipped, the server runs "
                               "%s and REDUCERD_TEST_PGCTL is not set to "
                               "restart it\n",
                               mode,
                               bench_pgmode_durable() ? "durable" : "fast");
                        continue;
                }
                run_mode(&s, mode);
        }
        if (!bench_pgmode_set(was_durable)) {
                fprintf(stderr, "bench_e2e: the server was left %s\n",
                        was_durable ? "fast" : "durable");
        }
        bench_proc_mock_stop(&mock);
        if (!getenv("RED_KEEP_BENCH_DIR")) {
                snprintf(cmd, sizeof(cmd), "rm -rf %s", workdir);
                bench_proc_run(cmd);
        }
        return 0;
}
