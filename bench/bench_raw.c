/*
 * bench_raw - agent metrics into PostgreSQL: raw metric rows/s written by
 * reducerd's core and sink (decode, raw-row identities looked up, rollups
 * and alerts, one transaction per batch with the rows in daily partitions)
 * as a ratio of plain COPY of the same rows into the same tables, in
 * batches of the same size, measured in the same run. Kafka is left out
 * (bench_e2e measures it); this is the write path of issue 6.
 *
 *   bench_raw [-n ROWS] [-b BATCH] [-r ROUNDS] [-c CONTRACT] [-s SPAN_S]
 *             [-d durable|fast|both]
 *
 * The metrics are spread over SPAN_S seconds (default 600) before now, as
 * a busy live stream: a batch then touches each rollup cell (metric and
 * agent, hour and day) about once, as in production; a long span with
 * big batches multiplies the cells per batch instead.
 *
 * Two durability modes in one run, as bench_e2e: PostgreSQL durable
 * (fsync, synchronous_commit, full_page_writes on), then fast (off); the
 * server is restarted in each (bench_pgmode.h) and left as it was found.
 *
 * Needs PostgreSQL through the PG* variables (./dev pg prints them). Uses a
 * database named reducerd_bench_raw, recreated in each mode. Rounds alternate
 * COPY and reducerd over emptied tables; the best of each is reported,
 * and the median of the rounds' own ratios (noise shows as their spread).
 */
#include "bench_db.h"
#include "bench_pgmode.h"
#include "red_contract.h"
#include "red_core.h"
#include "red_log.h"
#include "red_migrate.h"
#include "red_partition.h"
#include "red_schema.h"
#include "red_sink.h"
#include "red_time.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DB "reducerd_bench_raw"

static const char *const topics[5] = {
        "dev.agent.metrics.routing.v1", "dev.agent.metrics.state-ops.v1",
        "dev.agent.metrics.coordination.v1", "dev.agent.metrics.workflow.v1",
        "dev.agent.metrics.ai-quorum.v1"};
static const char *const tables[5] = {
        "agent_routing_metrics", "agent_state_metrics",
        "agent_coordination_metrics", "agent_workflow_metrics",
        "agent_quorum_metrics"};
static const char *const names[5][2] = {
        {"routing_decision_time_ms", "routing_cache_hit_rate"},
        {"state_get_time_ms", "state_snapshot_size_kb"},
        {"coordination_overhead_ms", "coordination_agent_count"},
        {"workflow_execution_time_ms", "workflow_success_rate"},
        {"quorum_latency_ms", "quorum_consensus_score"}};

typedef struct metric_s {
        int cat;
        char *json; /* the message, as the reference collector sends it */
        char *copy; /* the same row in COPY text */
} metric_t;

static void die(const char *what, const char *detail)
{
        fprintf(stderr, "bench_raw: %s%s%s\n", what, detail ? ": " : "",
                detail ? detail : "");
        exit(1);
}

static uint64_t next(uint64_t *x)
{
        uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
}

/* A value in the metric's normal range, or (1 in 100) one that crosses
 * its alert rules. */
static double value_of(const char *name, uint64_t r)
{
        double u = (double)(r % 100000) / 100000.0;
        bool crossing = (r >> 20) % 100 == 0;

        if (strstr(name, "rate")) {
                return crossing ? 50 * u : 85 + 15 * u;
        }
        if (strstr(name, "score")) {
                return crossing ? 0.5 * u : 0.8 + 0.2 * u;
        }
        if (strstr(name, "count")) {
                return crossing ? 11 + 40 * u : 10 * u;
        }
        if (strstr(name, "size_kb")) {
                return crossing ? 500 + 500 * u : 100 * u;
        }
        if (strstr(name, "overhead") || strstr(name, "execution")) {
                return crossing ? 10000 + 5000 * u : 3000 * u;
        }
        return crossing ? 100 + 100 * u : 5 * u;
}

/* @p n metrics over the @p span_s seconds before now, in time order. */
static metric_t *generate(long n, long span_s)
{
        metric_t *m = calloc((size_t)n, sizeof(*m));
        red_time_t start = red_time_now() - (span_s + 60) * INT64_C(1000000);
        red_time_t step = span_s * INT64_C(1000000) / n;
        uint64_t x = 42;

        if (!m) {
                die("out of memory", NULL);
        }
        for (long i = 0; i < n; i++) {
                uint64_t r = next(&x);
                int cat = (int)(r % 5);
                const char *name = names[cat][(r >> 8) % 2];
                char ts[RED_TIME_FMT_SIZE], agent[32], value[32];

                red_time_format(start + i * step, ts, sizeof(ts));
                snprintf(agent, sizeof(agent), "agent-%d",
                         (int)((r >> 12) % 50));
                snprintf(value, sizeof(value), "%.3f", value_of(name, r >> 24));
                m[i].cat = cat;
                if (asprintf(
                            &m[i].json,
                            "{\"event_type\":\"metric.recorded\","
                            "\"event_version\":\"v1\",\"event_id\":\"e-%ld\","
                            "\"timestamp\":\"%s\",\"source_service\":"
                            "\"omninode-bridge\",\"correlation_id\":\"c-%ld\","
                            "\"payload\":{\"metric_id\":\"m-%ld\","
                            "\"metric_name\":\"%s\",\"metric_type\":\"timing\","
                            "\"value\":%s,\"unit\":\"ms\",\"tags\":{\"host\":"
                            "\"h%d\",\"strategy\":\"smart\"},\"agent_id\":"
                            "\"%s\",\"correlation_id\":\"c-%ld\"}}",
                            i, ts, i / 10, i, name, value, (int)(r % 8), agent,
                            i / 10) < 0 ||
                    asprintf(&m[i].copy,
                             "m-%ld\t%s\ttiming\t%s\tms\t{\"host\": \"h%d\", "
                             "\"strategy\": \"smart\"}\t%s\tc-%ld\t%s\n",
                             i, name, value, (int)(r % 8), agent, i / 10,
                             ts) < 0) {
                        die("out of memory", NULL);
                }
        }
        return m;
}

static void empty_tables(PGconn *c)
{
        bench_db_exec(c, "TRUNCATE agent_routing_metrics, agent_state_metrics, "
                         "agent_coordination_metrics, agent_workflow_metrics, "
                         "agent_quorum_metrics, agent_metrics_rollup, "
                         "agent_alerts, reducerd_alert_state, reducerd_outbox, "
                         "reducerd_dedupe");
        bench_db_exec(c, "VACUUM ANALYZE");
}

/* Plain COPY of the rows, a transaction per batch; rows/s. */
static double copy_rate(PGconn *c, const metric_t *m, long n, long batch)
{
        size_t cap = (size_t)batch * 256;
        char *buf[5];
        size_t len[5];
        double t0 = (double)red_time_mono_us();

        for (int k = 0; k < 5; k++) {
                if (!(buf[k] = malloc(cap))) {
                        die("out of memory", NULL);
                }
        }
        for (long i = 0; i < n; i += batch) {
                memset(len, 0, sizeof(len));
                for (long j = i; j < i + batch && j < n; j++) {
                        size_t l = strlen(m[j].copy);
                        memcpy(buf[m[j].cat] + len[m[j].cat], m[j].copy, l);
                        len[m[j].cat] += l;
                }
                bench_db_exec(c, "BEGIN");
                for (int k = 0; k < 5; k++) {
                        char sql[256];
                        snprintf(sql, sizeof(sql),
                                 "COPY %s (metric_id, metric_name, "
                                 "metric_type, value, unit, tags, agent_id, "
                                 "correlation_id, timestamp) FROM STDIN",
                                 tables[k]);
                        bench_db_copy_start(c, sql);
                        bench_db_copy_put(c, buf[k], len[k]);
                        bench_db_copy_end(c);
                }
                bench_db_exec(c, "COMMIT");
        }
        for (int k = 0; k < 5; k++) {
                free(buf[k]);
        }
        return (double)n * 1e6 / ((double)red_time_mono_us() - t0);
}

/* red_sink_work_fn: the batch's events applied. */
static int apply_events(void *core)
{
        return red_core_process(core);
}

typedef struct run_s {
        double rate;     /* rows/s, all of it */
        double db_share; /* of the time: lookup + transaction */
        double lookup_share;
} run_t;

/* reducerd's core and sink over the same messages; rows/s. */
static run_t reducerd_rate(const red_contract_t *c, const metric_t *m, long n,
                           long batch)
{
        char err[2048];
        red_core_t *core =
                red_core_new(c, 1000, 0, NULL, NULL, err, sizeof(err));
        red_sink_t *sink = red_sink_new(c, "dbname=" DB, "bench");
        red_msg_t *msgs = calloc((size_t)batch, sizeof(*msgs));
        int64_t t0, db = 0, lookup = 0;
        long replays = 0;
        red_sink_result_t r;
        run_t out;

        if (!core || !sink || !msgs) {
                die("setting up", err);
        }
        if (red_sink_connect(sink, err, sizeof(err))) {
                die("connecting", err);
        }
        t0 = red_time_mono_us();
        for (long i = 0; i < n; i += batch) {
                long cnt = i + batch <= n ? batch : n - i;
                red_time_t now = red_time_now();
                int64_t d0;

                for (long j = 0; j < cnt; j++) {
                        red_msg_t *g = &msgs[j];
                        memset(g, 0, sizeof(*g));
                        g->topic = topics[m[i + j].cat];
                        g->offset = i + j;
                        g->value = m[i + j].json;
                        g->value_len = strlen(m[i + j].json);
                        g->timestamp = -1;
                        if (red_core_add(core, g, now, NULL)) {
                                die("out of memory", NULL);
                        }
                }
                if (red_core_release(core, INT64_MAX, 0) < 0) {
                        die("out of memory", NULL);
                }
                d0 = red_time_mono_us();
                if (red_sink_raw_lookup(sink, core, err, sizeof(err))) {
                        die("lookup", err);
                }
                lookup += red_time_mono_us() - d0;
                db += red_time_mono_us() - d0;
                /* the events are applied (red_core_process, as the
                 * pipeline does) while Postgres inserts the first table's
                 * rows */
                d0 = red_time_mono_us();
                r = red_sink_write(sink, core, NULL, 0, 0, apply_events, core,
                                   err, sizeof(err));
                db += red_time_mono_us() - d0;
                if (r == RED_SINK_REPLAY) {
                        /* as the pipeline does: the batch again */
                        red_core_rollback(core);
                        i -= batch;
                        replays++;
                        continue;
                }
                if (r) {
                        die("write", err);
                }
                red_core_commit(core);
        }
        if (replays) {
                fprintf(stderr, "bench_raw: %ld batches replayed\n", replays);
        }
        out.rate = (double)n * 1e6 / (double)(red_time_mono_us() - t0);
        out.db_share = (double)db / (double)(red_time_mono_us() - t0);
        out.lookup_share = (double)lookup / (double)(red_time_mono_us() - t0);
        red_sink_destroy(sink);
        red_core_destroy(core);
        free(msgs);
        return out;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

static long count_rows(PGconn *c)
{
        PGresult *r = PQexec(c, "SELECT (SELECT count(*) FROM "
                                "agent_routing_metrics) + (SELECT count(*) "
                                "FROM agent_state_metrics) + (SELECT count(*) "
                                "FROM agent_coordination_metrics) + (SELECT "
                                "count(*) FROM agent_workflow_metrics) + "
                                "(SELECT count(*) FROM agent_quorum_metrics)");
        long v;

        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
                die("count", PQresultErrorMessage(r));
        }
        v = atol(PQgetvalue(r, 0, 0));
        PQclear(r);
        return v;
}

/* One durability mode: a fresh database, then the rounds. */
static void run_mode(const red_contract_t *c, const char *contract,
                     const metric_t *m, long n, long batch, long rounds)
{
        char err[2048];
        const red_migration_t *mig;
        PGconn *admin, *db;
        double best_copy = 0, *ratios;
        run_t best = {0, 0};
        size_t mig_cnt;
        int applied;

        admin = bench_db_connect("postgres");
        bench_db_exec(admin, "DROP DATABASE IF EXISTS " DB);
        bench_db_exec(admin, "CREATE DATABASE " DB);
        db = bench_db_connect(DB);
        mig = red_migrate_builtin(&mig_cnt);
        if (red_migrate_apply(db, mig, mig_cnt, &applied, err, sizeof(err))) {
                die("migrate", err);
        }
        {
                /* the contract's tables, as `reducerd migrate` makes them */
                red_contract_set_t set = {0};
                size_t statements;
                if (red_contract_set_add(&set, contract, err, sizeof(err)) ||
                    red_schema_migrate(db, &set, false, NULL, stderr,
                                       &statements, err, sizeof(err))) {
                        die("migrate", err);
                }
                red_contract_set_destroy(&set);
        }
        for (int k = 0; k < 5; k++) {
                /* the data's days exist for both (COPY cannot make them) */
                int created = 0, dropped = 0;
                if (red_partition_maintain(
                            db, tables[k], RED_PART_DAILY, 0, 0,
                            red_time_now() - 2 * 86400 * INT64_C(1000000), 3,
                            &created, &dropped, err, sizeof(err))) {
                        die("partitions", err);
                }
        }
        if (!(ratios = calloc((size_t)rounds, sizeof(*ratios)))) {
                die("out of memory", NULL);
        }
        for (long r = 0; r < rounds; r++) {
                double cr;
                run_t rr;

                empty_tables(db);
                cr = copy_rate(db, m, n, batch);
                if (count_rows(db) != n) {
                        die("COPY lost rows", NULL);
                }
                empty_tables(db);
                rr = reducerd_rate(c, m, n, batch);
                if (count_rows(db) != n) {
                        die("reducerd lost rows", NULL);
                }
                printf("  round %ld: COPY %.0f rows/s, reducerd %.0f rows/s "
                       "(%.0f%% of its time in Postgres, %.0f%% looking up "
                       "stored rows)\n",
                       r + 1, cr, rr.rate, rr.db_share * 100,
                       rr.lookup_share * 100);
                best_copy = cr > best_copy ? cr : best_copy;
                best = rr.rate > best.rate ? rr : best;
                ratios[r] = rr.rate / cr;
        }
        qsort(ratios, (size_t)rounds, sizeof(*ratios), cmp_double);
        printf("plain COPY:           %.0f rows/s\n", best_copy);
        printf("reducerd (core+sink): %.0f rows/s, %.0f%% in Postgres\n",
               best.rate, best.db_share * 100);
        printf("ratio reducerd/COPY:  %.2f best of each, %.2f median of the "
               "rounds (%.2f..%.2f) (goal >= 0.80)\n",
               best.rate / best_copy,
               rounds % 2 ? ratios[rounds / 2]
                          : (ratios[rounds / 2 - 1] + ratios[rounds / 2]) / 2,
               ratios[0], ratios[rounds - 1]);
        free(ratios);
        PQfinish(db);
        bench_db_exec(admin, "DROP DATABASE " DB);
        PQfinish(admin);
}

int main(int argc, char **argv)
{
        long n = 200000, batch = 20000, rounds = 3, span = 600;
        const char *contract = RED_SOURCE_ROOT "/contracts/agent_metrics.yaml";
        const char *modes = "both";
        char err[2048];
        red_contract_t *c;
        bool was_durable;
        metric_t *m;
        int opt;

        while ((opt = getopt(argc, argv, "n:b:r:c:s:d:")) != -1) {
                switch (opt) {
                case 'd':
                        modes = optarg;
                        break;
                case 's':
                        span = atol(optarg);
                        break;
                case 'c':
                        contract = optarg;
                        break;
                case 'n':
                        n = atol(optarg);
                        break;
                case 'b':
                        batch = atol(optarg);
                        break;
                case 'r':
                        rounds = atol(optarg);
                        break;
                default:
                        fprintf(stderr,
                                "usage: %s [-n ROWS] [-b BATCH] [-r "
                                "ROUNDS] [-c CONTRACT] [-s SPAN_S] [-d "
                                "durable|fast|both]\n",
                                argv[0]);
                        return 2;
                }
        }
        if (n < 1 || batch < 1 || rounds < 1 || span < 1 || span > 86400) {
                die("-n, -b, -r must be positive, -s 1..86400", NULL);
        }
        if (strcmp(modes, "both") && strcmp(modes, "durable") &&
            strcmp(modes, "fast")) {
                die("-d takes durable, fast or both", NULL);
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        /* silent: the generated CRITICAL alerts would log at error level;
         * failures end the run with their own message */
        red_log_setup((red_log_level_t)(RED_LOG_ERROR + 1), false);
        c = red_contract_load(contract, err, sizeof(err));
        if (!c) {
                die("contract", err);
        }
        printf("bench_raw: %ld metric rows over 5 tables and %ld s of event "
               "time (50 agents, 1%% crossing alert thresholds), batches of "
               "%ld, %ld rounds\n",
               n, span, batch, rounds);
        m = generate(n, span);
        /* durable first (what users run), then fast; the server is left in
         * the mode it was found in */
        was_durable = bench_pgmode_durable();
        for (int d = 1; d >= 0; d--) {
                if (strcmp(modes, "both") &&
                    strcmp(modes, d ? "durable" : "fast")) {
                        continue;
                }
                if (!bench_pgmode_set(d)) {
                        printf("-- PostgreSQL %s: skipped, the server runs "
                               "%s and REDUCERD_TEST_PGCTL is not set to "
                               "restart it\n",
                               bench_pgmode_name(d),
                               bench_pgmode_durable() ? "durable" : "fast");
                        continue;
                }
                printf("-- PostgreSQL %s\n", bench_pgmode_name(d));
                run_mode(c, contract, m, n, batch, rounds);
        }
        if (!bench_pgmode_set(was_durable)) {
                fprintf(stderr, "bench_raw: the server was left %s\n",
                        was_durable ? "fast" : "durable");
        }
        red_contract_destroy(c);
        for (long i = 0; i < n; i++) {
                free(m[i].json);
                free(m[i].copy);
        }
        free(m);
        return 0;
}
