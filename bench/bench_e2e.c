/*
 * bench_e2e - end-to-end throughput of reducerd (embedded Kafka -> reducerd
 * -> PostgreSQL, all on this machine), with two baselines measured in the
 * same run over the same data: kcat reading the same topics to /dev/null
 * (the Kafka read limit) and COPY of as many workflow history rows (the
 * database write limit). Prints events/s, the ratios and the batch commit
 * latency (first message of a batch to its commit) p50/p99/max.
 *
 *   bench_e2e [-n EVENTS] [-p PARTITIONS] [-b BATCH_MAX_EVENTS] [-m
 * BATCH_MAX_MS]
 *
 * Needs PostgreSQL through the PG* variables (./dev pg prints them) and
 * kcat. Uses a database named reducerd_bench_e2e, recreated each run.
 */
#include "red_time.h"

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

static void run(const char *cmd)
{
        if (system(cmd) != 0) {
                fprintf(stderr, "bench_e2e: failed: %s\n", cmd);
                exit(1);
        }
}

static PGconn *connect_db(const char *db)
{
        char ci[128];
        PGconn *c;

        snprintf(ci, sizeof(ci), "dbname=%s", db);
        c = PQconnectdb(ci);
        if (PQstatus(c) != CONNECTION_OK) {
                fprintf(stderr, "bench_e2e: %s (set PG* as ./dev pg prints)\n",
                        PQerrorMessage(c));
                exit(1);
        }
        return c;
}

static void exec_sql(PGconn *c, const char *sql)
{
        PGresult *r = PQexec(c, sql);

        if (PQresultStatus(r) != PGRES_COMMAND_OK &&
            PQresultStatus(r) != PGRES_TUPLES_OK) {
                fprintf(stderr, "bench_e2e: %s: %s\n", sql,
                        PQresultErrorMessage(r));
                exit(1);
        }
        PQclear(r);
}

static long committed(PGconn *c)
{
        PGresult *r = PQexec(c, "SELECT coalesce(sum(greatest(next_offset, "
                                "0)), 0) FROM reducerd_offsets");
        long n = PQresultStatus(r) == PGRES_TUPLES_OK
                         ? atol(PQgetvalue(r, 0, 0))
                         : -1;

        PQclear(r);
        return n;
}

/* The database write limit: COPY of @p n history-shaped rows. */
static double copy_rate(PGconn *c, long n)
{
        char *buf = malloc(256 * 100000), *p;
        double t0, t1;
        PGresult *r;

        exec_sql(c, "CREATE TABLE bench_copy (LIKE workflow_state_history "
                    "INCLUDING ALL)");
        t0 = now_s();
        r = PQexec(c, "COPY bench_copy (transition_id, workflow_id, "
                      "from_state, to_state, event, transition_timestamp, "
                      "guard_conditions_met, reason, metadata) FROM STDIN");
        if (PQresultStatus(r) != PGRES_COPY_IN) {
                die(PQresultErrorMessage(r));
        }
        PQclear(r);
        for (long done = 0; done < n;) {
                p = buf;
                for (long k = 0; k < 100000 && done < n; k++, done++) {
                        p += sprintf(p,
                                     "%08lx-0000-4000-8000-%012lx\t"
                                     "%08lx-0000-4000-8000-000000000000\t"
                                     "pending\tanalyzing\tstart_analysis\t"
                                     "2026-11-20T10:%02ld:%02ld.%"
                                     "06ldZ\tt\t\\N\t{}\n",
                                     done, done, done / 4, (done / 60) % 60,
                                     done % 60, done % 1000000);
                }
                if (PQputCopyData(c, buf, (int)(p - buf)) != 1) {
                        die(PQerrorMessage(c));
                }
        }
        if (PQputCopyEnd(c, NULL) != 1) {
                die(PQerrorMessage(c));
        }
        while ((r = PQgetResult(c))) {
                if (PQresultStatus(r) != PGRES_COMMAND_OK) {
                        die(PQresultErrorMessage(r));
                }
                PQclear(r);
        }
        t1 = now_s();
        free(buf);
        exec_sql(c, "DROP TABLE bench_copy");
        return (double)n / (t1 - t0);
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
        long n = 200000, batch = 20000, batch_ms = 500, parts = 24;
        char cmd[8192], bootstrap[256] = "", path[PATH_MAX], *slash;
        double t0, t1, kcat_rate, copy, e2e, lat[4096];
        int opt, lat_cnt = 0, mock_in[2];
        pid_t mock, reducerd;
        PGconn *admin, *c;
        FILE *fp;

        while ((opt = getopt(argc, argv, "n:p:b:m:")) != -1) {
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
                default:
                        fprintf(stderr,
                                "usage: %s [-n EVENTS] [-p PARTITIONS] "
                                "[-b BATCH_MAX_EVENTS] [-m "
                                "BATCH_MAX_MS]\n",
                                argv[0]);
                        return 2;
                }
        }
        if (!realpath(argv[0], path) || !(slash = strrchr(path, '/'))) {
                die("cannot locate the build directory");
        }
        *slash = '\0';
        snprintf(bindir, sizeof(bindir), "%.4000s/..", path);
        if (!mkdtemp(workdir)) {
                die("mkdtemp");
        }
        printf("bench_e2e: %ld events, %ld partitions per topic, batches of "
               "%ld events / %ld ms, in %s\n",
               n, parts, batch, batch_ms, workdir);

        /* the embedded Kafka in its own process */
        if (pipe(mock_in)) {
                die("pipe");
        }
        snprintf(path, sizeof(path), "%s/bootstrap", workdir);
        if ((mock = fork()) == 0) {
                char p[16];
                const char *av[16] = {"kafka_mock_server", "-p", p};
                int k = 3;
                snprintf(p, sizeof(p), "%ld", parts);
                for (int i = 0; topics[i]; i++) {
                        av[k++] = topics[i];
                }
                av[k] = NULL;
                dup2(mock_in[0], 0);
                close(mock_in[1]);
                if (!freopen(path, "w", stdout)) {
                        _exit(127);
                }
                snprintf(cmd, sizeof(cmd), "%s/tests/kafka_mock_server",
                         bindir);
                execv(cmd, (char *const *)av);
                _exit(127);
        }
        close(mock_in[0]);
        for (int i = 0; i < 100 && !bootstrap[0]; i++) {
                usleep(100 * 1000);
                if ((fp = fopen(path, "r"))) {
                        if (!fgets(bootstrap, sizeof(bootstrap), fp)) {
                                bootstrap[0] = '\0';
                        }
                        fclose(fp);
                }
        }
        bootstrap[strcspn(bootstrap, "\n")] = '\0';
        if (!bootstrap[0]) {
                die("the mock Kafka did not start");
        }

        /* events of the last days, produced before anything reads them */
        snprintf(cmd, sizeof(cmd),
                 "%s/tests/gen_events --events %ld --days 3 --partitions %ld "
                 "--seed 42 --start $(date -u -d '-5 days' "
                 "+%%Y-%%m-%%dT00:00:00Z) > %s/events.jsonl",
                 bindir, n, parts, workdir);
        run(cmd);
        t0 = now_s();
        snprintf(cmd, sizeof(cmd),
                 "%s/tests/produce_jsonl -b %s -P %s/events.jsonl 2>/dev/null",
                 bindir, bootstrap, workdir);
        run(cmd);
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
        run(cmd);
        t1 = now_s();
        kcat_rate = (double)n / (t1 - t0);
        printf("kcat -C to /dev/null (Kafka limit): %9.0f events/s\n",
               kcat_rate);

        /* a fresh, migrated database */
        admin = connect_db("postgres");
        exec_sql(admin, "SET client_min_messages = warning");
        exec_sql(admin, "DROP DATABASE IF EXISTS " DB);
        exec_sql(admin, "CREATE DATABASE " DB);
        snprintf(cmd, sizeof(cmd),
                 "REDUCERD_POSTGRES_CONNINFO=dbname=" DB
                 " %s/src/reducerd migrate "
                 "%s/contracts/codegen_metrics.yaml >/dev/null",
                 bindir, RED_SOURCE_ROOT);
        run(cmd);
        c = connect_db(DB);

        /* baseline 2: COPY of as many history rows */
        copy = copy_rate(c, n);
        printf("COPY of history rows (DB limit):    %9.0f rows/s\n", copy);

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
                "contracts:\n  paths: [\"%s/contracts/codegen_metrics.yaml\"]\n"
                "batch:\n  max_events: %ld\n  max_ms: %ld\n"
                "http:\n  listen: \"\"\nlog:\n  level: debug\n",
                bootstrap, RED_SOURCE_ROOT, batch, batch_ms);
        fclose(fp);
        snprintf(path, sizeof(path), "%s/reducerd.log", workdir);
        if ((reducerd = fork()) == 0) {
                char conf[PATH_MAX];
                snprintf(conf, sizeof(conf), "%s/reducerd.yaml", workdir);
                if (!freopen(path, "w", stderr)) {
                        _exit(127);
                }
                snprintf(cmd, sizeof(cmd), "%s/src/reducerd", bindir);
                execl(cmd, "reducerd", "run", "-c", conf, (char *)NULL);
                _exit(127);
        }
        /* the clock starts when the group has assigned the partitions */
        for (int i = 0;; i++) {
                char line[1024];
                bool assigned = false;
                if (i > 600) {
                        die("reducerd got no assignment in 60 s");
                }
                usleep(100 * 1000);
                if (!(fp = fopen(path, "r"))) {
                        continue;
                }
                while (fgets(line, sizeof(line), fp)) {
                        assigned |= strstr(line, "assigned") != NULL;
                }
                fclose(fp);
                if (assigned) {
                        break;
                }
        }
        t0 = now_s();
        while (committed(c) < n) {
                usleep(20 * 1000);
                if (now_s() - t0 > 600) {
                        die("reducerd did not finish in 10 minutes");
                }
        }
        t1 = now_s();
        e2e = (double)n / (t1 - t0);
        kill(reducerd, SIGTERM);
        waitpid(reducerd, NULL, 0);
        if ((fp = fopen(path, "r"))) {
                char line[1024];
                while (fgets(line, sizeof(line), fp) && lat_cnt < 4096) {
                        char *p = strstr(line, " events in ");
                        if (p && strstr(line, "committed")) {
                                lat[lat_cnt++] = atof(p + 11);
                        }
                }
                fclose(fp);
        }
        qsort(lat, (size_t)lat_cnt, sizeof(*lat), cmp_double);
        printf("reducerd end to end:                %9.0f events/s "
               "(%.2f s)\n",
               e2e, t1 - t0);
        printf("ratio reducerd / kcat:              %9.2f\n", e2e / kcat_rate);
        printf("ratio reducerd / COPY rows:         %9.2f\n", e2e / copy);
        if (lat_cnt) {
                printf("batch commit latency (%d batches):   p50 %.0f ms, p99 "
                       "%.0f ms, max %.0f ms (goal p99 <= %ld ms)\n",
                       lat_cnt, lat[lat_cnt / 2],
                       lat[(int)((lat_cnt - 1) * 0.99)], lat[lat_cnt - 1],
                       batch_ms + 250);
        }
        printf("goal >= 50000 events/s: %s\n",
               e2e >= 50000 ? "met" : "NOT met");
        close(mock_in[1]);
        waitpid(mock, NULL, 0);
        PQfinish(c);
        exec_sql(admin, "DROP DATABASE IF EXISTS " DB);
        PQfinish(admin);
        if (!getenv("RED_KEEP_BENCH_DIR")) {
                snprintf(cmd, sizeof(cmd), "rm -rf %s", workdir);
                run(cmd);
        }
        return 0;
}
