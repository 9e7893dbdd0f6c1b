/*
 * bench_registry - the node registry at 10^5 nodes. Registrations end to
 * end: NODE_INTROSPECTION events of N nodes produced to the embedded Kafka
 * (own process), then `reducerd run` with contracts/node_registry.yaml
 * until every offset is committed (registered_nodes and
 * node_capability_index written, NODE_REGISTERED in the outbox); baseline
 * in the same run: COPY of as many rows into a copy of registered_nodes
 * (its indexes and generated version key included, the search text
 * given as reducerd computes it). Then search
 * latency p50/p99 over the N registered nodes (red_nodes_pg_search, as
 * GET /v1/nodes/search runs it, on one connection) for a text query, a
 * type + capability filter and a version range, each next to the plain SQL
 * a user would write for the same rows (substring / containment /
 * array comparison, count and one page; no relevance, no effective
 * health).
 *
 *   bench_registry [-n NODES] [-p PARTITIONS] [-q QUERIES]
 *
 * It also prints the CPU seconds reducerd and its Postgres backends used
 * (from /proc, when Postgres runs on this machine): which side a change
 * moved, and, with their sum close to the run's wall time, that the
 * batch path is serial (each side waits for the other).
 *
 * The embedded Kafka (librdkafka's mock cluster) keeps about 5 MB per
 * partition and drops the oldest messages beyond: hence 24 partitions for
 * 10^5 registrations of ~550 bytes; the bench checks that every node was
 * registered.
 *
 * Needs PostgreSQL through the PG* variables (./dev pg prints them). Uses
 * a database named reducerd_bench_registry, recreated each run. Goals:
 * search p99 <= 10 ms, >= 10 000 registrations/s (the seed: < 50 ms at
 * < 1 000 nodes, > 50 registrations/s).
 */
#include "bench_db.h"
#include "bench_proc.h"
#include "red_contract.h"
#include "red_nodes.h"
#include "red_nodes_pg.h"
#include "red_time.h"

#include <libpq-fe.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define DB       "reducerd_bench_registry"
#define CONTRACT RED_SOURCE_ROOT "/contracts/node_registry.yaml"
#define T_INTRO  "dev.omninode-bridge.registry.node-introspection.v1"

static char bindir[PATH_MAX];
static char workdir[] = "/tmp/reducerd-bench-XXXXXX";

static const char *const topics[] = {
        T_INTRO,
        "dev.omninode-bridge.registry.node-heartbeat.v1",
        "dev.omninode-bridge.registry.node-deregistration.v1",
        "dev.omninode-bridge.registry.dead-letter.v1",
        "dev.omninode-bridge.registry.node-registered.v1",
        "dev.omninode-bridge.registry.node-deregistered.v1",
        "dev.omninode-bridge.registry.node-health-changed.v1",
        "dev.omninode-bridge.registry.request-introspection.v1",
        NULL};
static const char *const types[] = {"effect", "compute", "reducer",
                                    "orchestrator"};

static double now_s(void)
{
        return (double)red_time_mono_us() / 1e6;
}

static void die(const char *what)
{
        fprintf(stderr, "bench_registry: %s\n", what);
        exit(1);
}

/* Node @p i's payload fields (JSON members, no braces). */
static int node_fields(char *buf, size_t size, long i)
{
        return snprintf(buf, size,
                        "\"node_id\":\"bench-node-%06ld\",\"node_name\":"
                        "\"BenchNode%06ld\",\"node_type\":\"%s\",\"version\":"
                        "\"%ld.%ld.%ld\",\"capabilities\":[{\"name\":"
                        "\"capability_%ld\",\"description\":\"Capability %ld "
                        "of the bench\"},{\"name\":\"http_api\"}],"
                        "\"health_check\":{\"endpoint\":\"/health\","
                        "\"interval_seconds\":3600},\"metadata\":{\"index\":"
                        "%ld,\"category\":\"category_%ld\"}",
                        i, i, types[i % 4], i % 3, i / 7 % 20, i % 10, i % 50,
                        i % 50, i, i % 1000);
}

/* Node @p i as a row of registered_nodes, for the database write limit. */
static int node_row(char *buf, size_t size, long i)
{
        return snprintf(buf, size,
                        "bench-node-%06ld\tBenchNode%06ld\t%s\t"
                        "%ld.%ld.%ld\t[{\"name\": "
                        "\"capability_%ld\", \"description\": "
                        "\"Capability %ld of the bench\"}, "
                        "{\"name\": \"http_api\"}]\thealthy\t"
                        "{\"endpoint\": \"/health\", "
                        "\"interval_seconds\": 3600}\t"
                        "2026-12-01T00:00:00Z\t{\"index\": %ld, "
                        "\"category\": \"category_%ld\"}\t"
                        "BenchNode%06ld capability_%ld Capability %ld of the "
                        "bench http_api category_%ld\n",
                        i, i, types[i % 4], i % 3, i / 7 % 20, i % 10, i % 50,
                        i % 50, i, i % 1000, i, i % 50, i % 50, i % 1000);
}

/* CPU seconds (user + system) process @p pid used so far, or -1 when its
 * /proc entry cannot be read (a Postgres on another machine). */
static double cpu_seconds(long pid)
{
        char path[64], buf[1024], *p;
        unsigned long long ut, st;
        FILE *fp;
        size_t len;

        snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
        if (!(fp = fopen(path, "r"))) {
                return -1;
        }
        len = fread(buf, 1, sizeof(buf) - 1, fp);
        fclose(fp);
        buf[len] = '\0';
        /* after the command's closing parenthesis: state is field 3,
         * utime and stime fields 14 and 15 */
        if (!(p = strrchr(buf, ')')) ||
            sscanf(p + 2,
                   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
                   &st) != 2) {
                return -1;
        }
        return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* CPU seconds of the backends of database DB other than @p c's own, or -1
 * when one cannot be read. */
static double backends_cpu(PGconn *c)
{
        PGresult *r = PQexec(c, "SELECT pid FROM pg_stat_activity WHERE "
                                "datname = '" DB "' AND pid <> "
                                "pg_backend_pid()");
        double sum = 0;

        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
                PQclear(r);
                return -1;
        }
        for (int i = 0; i < PQntuples(r) && sum >= 0; i++) {
                double s = cpu_seconds(atol(PQgetvalue(r, i, 0)));
                sum = s < 0 ? -1 : sum + s;
        }
        PQclear(r);
        return sum;
}

/* The machine's load average (the bench shares it with other work). */
static void print_load(const char *when)
{
        char line[128] = "";
        FILE *fp = fopen("/proc/loadavg", "r");

        if (fp) {
                if (!fgets(line, sizeof(line), fp)) {
                        line[0] = '\0';
                }
                fclose(fp);
        }
        line[strcspn(line, "\n")] = '\0';
        printf("load average %s: %s\n", when, line[0] ? line : "unknown");
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

static void report(const char *what, double *ms, int n)
{
        qsort(ms, (size_t)n, sizeof(*ms), cmp_double);
        printf("  %-44s p50 %6.2f ms  p99 %6.2f ms\n", what, ms[n / 2],
               ms[(int)((n - 1) * 0.99)]);
}

/* One search, as the API runs it, @p q times; returns p99 (ms). */
static double bench_search(PGconn *c, const red_contract_t *k,
                           const red_state_t *st, const char *label,
                           const red_query_param_t *p, size_t cnt, int q,
                           long *total)
{
        double *ms = calloc((size_t)q, sizeof(double)), p99;
        red_nodes_search_t s;
        red_query_error_t e;
        red_buf_t out;
        char err[1024];

        if (red_nodes_search_parse(k, p, cnt, &s, &e)) {
                die(e.message);
        }
        red_buf_init(&out);
        for (int i = 0; i < q; i++) {
                double t0 = now_s();
                red_buf_reset(&out);
                if (red_nodes_pg_search(c, st, &s, &out, err, sizeof(err))) {
                        die(err);
                }
                ms[i] = (now_s() - t0) * 1000;
        }
        red_buf_putc(&out, '\0');
        {
                const char *tc = strstr(out.data, "\"total_count\":");
                *total = tc ? atol(tc + 14) : -1;
        }
        red_buf_destroy(&out);
        red_nodes_search_free(&s);
        report(label, ms, q);
        p99 = ms[(int)((q - 1) * 0.99)];
        free(ms);
        return p99;
}

/* The plain SQL of the same rows (count, then one page), @p q times. */
static void bench_plain(PGconn *c, const char *label, const char *where,
                        const char *order, int q)
{
        double *ms = calloc((size_t)q, sizeof(double));
        char count[1024], page[2048];

        snprintf(count, sizeof(count),
                 "SELECT count(*) FROM registered_nodes WHERE deleted_at IS "
                 "NULL AND %s",
                 where);
        snprintf(page, sizeof(page),
                 "SELECT node_id, node_name, node_type, version, "
                 "capabilities, health_status, metadata FROM "
                 "registered_nodes WHERE deleted_at IS NULL AND %s ORDER BY "
                 "%s LIMIT 10",
                 where, order);
        for (int i = 0; i < q; i++) {
                double t0 = now_s();
                bench_db_exec(c, count);
                bench_db_exec(c, page);
                ms[i] = (now_s() - t0) * 1000;
        }
        report(label, ms, q);
        free(ms);
}

int main(int argc, char **argv)
{
        long n = 100000, parts = 24, total;
        int q = 300, opt;
        char cmd[8192], path[PATH_MAX], conf[PATH_MAX], err[2048];
        const char *bootstrap;
        double t0, t1, copy, e2e, worst = 0, cpu_red, cpu_pg;
        bench_mock_t mock;
        pid_t reducerd;
        PGconn *admin, *c;
        red_contract_t *k;
        const red_state_t *st;
        FILE *fp;

        while ((opt = getopt(argc, argv, "n:p:q:")) != -1) {
                switch (opt) {
                case 'n':
                        n = atol(optarg);
                        break;
                case 'p':
                        parts = atol(optarg);
                        break;
                case 'q':
                        q = atoi(optarg);
                        break;
                default:
                        fprintf(stderr,
                                "usage: %s [-n NODES] [-p PARTITIONS] "
                                "[-q QUERIES]\n",
                                argv[0]);
                        return 2;
                }
        }
        if (n < 1000 || q < 10) {
                die("-n is at least 1000, -q at least 10");
        }
        bench_proc_dirs(argv[0], bindir, sizeof(bindir), workdir);
        if (!(k = red_contract_load(CONTRACT, err, sizeof(err))) ||
            !(st = red_contract_state(k, RED_NODES_TABLE))) {
                die(err);
        }
        printf("bench_registry: %ld nodes, %ld partitions per topic, %d "
               "queries each, in %s\n",
               n, parts, q, workdir);
        print_load("at the start");
        fflush(stdout); /* not again from the forked children */

        /* the embedded Kafka in its own process */
        bench_proc_mock_start(&mock, bindir, workdir, parts, topics);
        bootstrap = mock.bootstrap;

        /* the registrations, produced before anything reads them */
        snprintf(path, sizeof(path), "%s/nodes.jsonl", workdir);
        if (!(fp = fopen(path, "w"))) {
                die("cannot write the events");
        }
        {
                char ts[RED_TIME_FMT_SIZE], fields[1024];
                red_time_t base = red_time_now() - 10 * RED_TIME_US_PER_MIN;
                for (long i = 0; i < n; i++) {
                        red_time_format(base + i * 1000, ts, sizeof(ts));
                        node_fields(fields, sizeof(fields), i);
                        fprintf(fp,
                                "{\"event_type\":\"NODE_INTROSPECTION\","
                                "\"timestamp\":\"%s\",\"payload\":{%s},"
                                "\"_topic\":\"" T_INTRO "\",\"_key\":"
                                "\"bench-node-%06ld\",\"_partition\":%ld}\n",
                                ts, fields, i, i % parts);
                }
        }
        fclose(fp);
        snprintf(cmd, sizeof(cmd), "%s/tests/produce_jsonl -b %s -P %.2000s",
                 bindir, bootstrap, path);
        bench_proc_run(cmd);

        /* a fresh, migrated database */
        admin = bench_db_connect("postgres");
        bench_db_exec(admin, "SET client_min_messages = warning");
        bench_db_exec(admin, "DROP DATABASE IF EXISTS " DB);
        bench_db_exec(admin, "CREATE DATABASE " DB);
        snprintf(cmd, sizeof(cmd),
                 "REDUCERD_POSTGRES_CONNINFO=dbname=" DB
                 " %s/src/reducerd migrate >/dev/null",
                 bindir);
        bench_proc_run(cmd);
        c = bench_db_connect(DB);
        /* the database write limit: registered_nodes with its generated
         * column and indexes, and the search text reducerd computes */
        copy = bench_db_copy_rate(c, "registered_nodes",
                                  "node_id, node_name, node_type, version, "
                                  "capabilities, health_status, "
                                  "health_check_config, "
                                  "registration_timestamp, metadata, "
                                  "search_text",
                                  n, node_row);
        printf("COPY into a copy of registered_nodes: %9.0f rows/s\n", copy);

        /* reducerd */
        snprintf(path, sizeof(path), "%s/reducerd.yaml", workdir);
        if (!(fp = fopen(path, "w"))) {
                die("cannot write the config");
        }
        fprintf(fp,
                "kafka:\n  brokers: \"%s\"\n  properties:\n"
                "    partition.assignment.strategy: range,roundrobin\n"
                "    session.timeout.ms: \"6000\"\n"
                "postgres:\n  conninfo: \"dbname=" DB "\"\n"
                "contracts:\n  paths: [\"" CONTRACT "\"]\n"
                "batch:\n  max_events: 10000\n  max_ms: 500\n"
                "http:\n  listen: \"\"\nlog:\n  level: %s\n",
                bootstrap,
                getenv("RED_BENCH_LOG") ? getenv("RED_BENCH_LOG") : "info");
        fclose(fp);
        snprintf(path, sizeof(path), "%s/reducerd.log", workdir);
        snprintf(conf, sizeof(conf), "%s/reducerd.yaml", workdir);
        /* the clock starts when the group has assigned the partitions */
        reducerd = bench_proc_reducerd_start(bindir, conf, path);
        t0 = now_s();
        while (bench_db_committed(c) < n) {
                usleep(20 * 1000);
                if (now_s() - t0 > 900) {
                        die("reducerd did not finish in 15 minutes");
                }
        }
        t1 = now_s();
        e2e = (double)n / (t1 - t0);
        /* before reducerd stops: its backends go with it */
        cpu_red = cpu_seconds((long)reducerd);
        cpu_pg = backends_cpu(c);
        kill(reducerd, SIGTERM);
        waitpid(reducerd, NULL, 0);
        bench_proc_mock_stop(&mock);
        printf("registrations end to end (Kafka -> reducerd -> Postgres): "
               "%9.0f /s (%.2f s)\n",
               e2e, t1 - t0);
        printf("ratio reducerd / COPY rows:           %9.2f\n", e2e / copy);
        if (cpu_red >= 0 && cpu_pg >= 0) {
                printf("CPU used: reducerd %.2f s, its Postgres backends "
                       "%.2f s: %.2f s in the run's %.2f s\n",
                       cpu_red, cpu_pg, cpu_red + cpu_pg, t1 - t0);
        } else {
                printf("CPU used: unknown (Postgres on another machine)\n");
        }
        {
                PGresult *r = PQexec(c, "SELECT count(*) FROM "
                                        "registered_nodes WHERE deleted_at "
                                        "IS NULL");
                long rows = PQresultStatus(r) == PGRES_TUPLES_OK
                                    ? atol(PQgetvalue(r, 0, 0))
                                    : -1;
                PQclear(r);
                if (rows != n) {
                        fprintf(stderr,
                                "bench_registry: %ld nodes registered, not "
                                "%ld\n",
                                rows, n);
                        exit(1);
                }
        }
        bench_db_exec(c, "VACUUM ANALYZE registered_nodes");

        /* searches over the n nodes */
        printf("search over %ld registered nodes (one connection):\n", n);
        {
                red_query_param_t text[] = {{"query", "category_421"}};
                red_query_param_t name[] = {{"query", "BenchNode004242"}};
                red_query_param_t filter[] = {{"node_type", "reducer"},
                                              {"capability", "capability_6"},
                                              {"sort_by", "name"}};
                red_query_param_t range[] = {{"version_min", "1.3.0"},
                                             {"version_max", "1.3.9"},
                                             {"sort_by", "version"}};
                double p99;

                p99 = bench_search(c, k, st,
                                   "text \"category_421\" (relevance)", text, 1,
                                   q, &total);
                worst = p99 > worst ? p99 : worst;
                printf("    %ld matches\n", total);
                bench_plain(c, "  plain SQL: lower(search_text) LIKE",
                            "lower(search_text) LIKE '%category_421%'",
                            "node_name", q);
                p99 = bench_search(c, k, st,
                                   "text \"BenchNode004242\" (a name)", name, 1,
                                   q, &total);
                worst = p99 > worst ? p99 : worst;
                printf("    %ld matches\n", total);
                bench_plain(c, "  plain SQL: lower(node_name) LIKE",
                            "lower(node_name) LIKE '%benchnode004242%'",
                            "node_name", q);
                p99 = bench_search(c, k, st, "filter reducer + capability_6",
                                   filter, 3, q, &total);
                worst = p99 > worst ? p99 : worst;
                printf("    %ld matches\n", total);
                bench_plain(c, "  plain SQL: node_type = AND capabilities @>",
                            "node_type = 'reducer' AND capabilities @> "
                            "'[{\"name\": \"capability_6\"}]'",
                            "node_name", q);
                p99 = bench_search(c, k, st, "version 1.3.0 .. 1.3.9", range, 3,
                                   q, &total);
                worst = p99 > worst ? p99 : worst;
                printf("    %ld matches\n", total);
                bench_plain(c, "  plain SQL: string_to_array(version) BETWEEN",
                            "string_to_array(version, '.')::int[] BETWEEN "
                            "'{1,3,0}' AND '{1,3,9}'",
                            "string_to_array(version, '.')::int[]", q);
        }
        print_load("at the end");
        printf("goal search p99 <= 10 ms: %s (worst p99 %.2f ms)\n",
               worst <= 10 ? "met" : "NOT met", worst);
        printf("goal >= 10000 registrations/s: %s\n",
               e2e >= 10000 ? "met" : "NOT met");
        PQfinish(c);
        bench_db_exec(admin, "DROP DATABASE IF EXISTS " DB);
        PQfinish(admin);
        red_contract_destroy(k);
        if (!getenv("RED_KEEP_BENCH_DIR")) {
                snprintf(cmd, sizeof(cmd), "rm -rf %s", workdir);
                bench_proc_run(cmd);
        }
        return 0;
}
