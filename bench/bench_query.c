/*
 * bench_query - the read API over one year of hourly codegen cells (every
 * grouping, every window type): latency p50/p99 of a 90-day summary with
 * p50/p95/p99 for every node type, of a 24-hour series and of a top-5,
 * over HTTP with keep-alive; the same summary through the planner and
 * executor without HTTP; and, in the same run, the plain-SQL queries a
 * user would write without percentiles (sums over the hourly rows) as the
 * baseline. Then summary requests per second over HTTP from concurrent
 * clients.
 *
 *   bench_query [-d DAYS] [-w WORKFLOWS_PER_HOUR] [-n REQUESTS] [-c CLIENTS]
 *               [-s SECONDS] [-t API_THREADS]
 *
 * Needs PostgreSQL through the PG* variables (./dev pg prints them). The
 * data (gen_events, loaded by load_events with reducerd's core and sink)
 * lives in the database reducerd_bench_query and is reused while its
 * shape matches the options. Goals: summary p99 <= 20 ms, >= 500
 * summaries/s over HTTP on this project's 2-core machine.
 */
#include "red_api.h"
#include "red_config.h"
#include "red_contract.h"
#include "red_log.h"
#include "red_migrate.h"
#include "red_pg.h"
#include "red_schema.h"
#include "red_query.h"
#include "red_query_pg.h"
#include "red_time.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DB       "reducerd_bench_query"
#define CONTRACT RED_SOURCE_ROOT "/contracts/codegen_metrics.yaml"
/* the year: 2025-06-01 .. 2026-06-01; the queries look at its end */
#define START        "2025-06-01T00:00:00Z"
#define SUMMARY_FROM "2026-02-15T07:00:00Z"
#define SUMMARY_TO   "2026-05-16T07:00:00Z"
/* started + about four stages + completed or failed (gen_events) */
#define EVENTS_PER_WORKFLOW 7

static void die(const char *what, const char *detail)
{
        fprintf(stderr, "bench_query: %s%s%s\n", what, detail ? ": " : "",
                detail ? detail : "");
        exit(1);
}

static PGconn *connect_db(const char *db)
{
        char ci[128], err[512];
        PGconn *c;

        snprintf(ci, sizeof(ci), "dbname=%s", db);
        if (!(c = red_pg_connect(ci, err, sizeof(err)))) {
                die("set PG* as ./dev pg prints", err);
        }
        return c;
}

static char *value(PGconn *c, const char *sql)
{
        PGresult *r = PQexec(c, sql);
        char *v;

        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
                die(sql, PQerrorMessage(c));
        }
        v = strdup(PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
        PQclear(r);
        return v;
}

/* The year of events, generated and loaded once; reused when the
 * database says it holds the same. */
static void prepare(int days, int per_hour)
{
        PGconn *c = connect_db("postgres");
        char shape[128], sql[512], cmd[2048], err[2048], *have = NULL;
        const red_migration_t *mig;
        size_t cnt;
        int applied;
        PGresult *r;

        snprintf(shape, sizeof(shape), "%s %d days %d/h", START, days,
                 per_hour);
        r = PQexec(c, "SELECT 1 FROM pg_database WHERE datname = '" DB "'");
        if (PQntuples(r)) {
                PGconn *b = connect_db(DB);
                PGresult *m = PQexec(b, "SELECT shape FROM bench_shape");
                if (PQresultStatus(m) == PGRES_TUPLES_OK && PQntuples(m)) {
                        have = strdup(PQgetvalue(m, 0, 0));
                }
                PQclear(m);
                PQfinish(b);
        }
        PQclear(r);
        if (have && !strcmp(have, shape)) {
                printf("data: reusing %s (%s)\n", DB, shape);
                free(have);
                PQfinish(c);
                return;
        }
        free(have);
        PQclear(PQexec(c, "DROP DATABASE IF EXISTS " DB));
        r = PQexec(c, "CREATE DATABASE " DB);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
                die("create database", PQerrorMessage(c));
        }
        PQclear(r);
        PQfinish(c);
        c = connect_db(DB);
        mig = red_migrate_builtin(&cnt);
        if (red_migrate_apply(c, mig, cnt, &applied, err, sizeof(err))) {
                die("migrate", err);
        }
        {
                /* the contract's tables, as `reducerd migrate` makes them */
                red_contract_set_t set = {0};
                size_t statements;
                if (red_contract_set_add(&set, CONTRACT, err, sizeof(err)) ||
                    red_schema_migrate(c, &set, false, NULL, stderr,
                                       &statements, err, sizeof(err))) {
                        die("migrate", err);
                }
                red_contract_set_destroy(&set);
        }
        printf("data: generating and loading %d days at %d workflows/h "
               "(once)...\n",
               days, per_hour);
        fflush(stdout);
        snprintf(cmd, sizeof(cmd),
                 "'%s' --start %s --days %d --events %ld --partitions 12 "
                 "--seed 9 | '%s' -c '%s' -b 20000 -d dbname=%s -",
                 RED_GEN_EVENTS, START, days,
                 (long)days * 24 * per_hour * EVENTS_PER_WORKFLOW,
                 RED_LOAD_EVENTS, CONTRACT, DB);
        if (system(cmd)) {
                die("loading failed", cmd);
        }
        r = PQexec(c, "VACUUM ANALYZE");
        PQclear(r);
        snprintf(sql, sizeof(sql),
                 "CREATE TABLE bench_shape AS SELECT '%s'::text AS shape",
                 shape);
        PQclear(PQexec(c, sql));
        PQfinish(c);
}

/* --- an HTTP/1.1 client with keep-alive ------------------------------- */

typedef struct client_s {
        int fd;
        char *buf;
        size_t cap;
} client_t;

static void client_open(client_t *cl, int port)
{
        struct sockaddr_in sa = {.sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)port)};
        int one = 1;

        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        cl->fd = socket(AF_INET, SOCK_STREAM, 0);
        if (cl->fd < 0 || connect(cl->fd, (struct sockaddr *)&sa, sizeof(sa))) {
                die("connect to the API", NULL);
        }
        setsockopt(cl->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        cl->cap = 1 << 20;
        if (!(cl->buf = malloc(cl->cap))) {
                die("out of memory", NULL);
        }
}

/* GET @p path; returns the body length, fails on anything but 200. */
static size_t client_get(client_t *cl, const char *path)
{
        char req[1024];
        size_t len = 0, body = 0, head = 0, want = 0;
        int n = snprintf(req, sizeof(req),
                         "GET %s HTTP/1.1\r\nHost: bench\r\n\r\n", path);

        if (write(cl->fd, req, (size_t)n) != n) {
                die("write", path);
        }
        for (;;) {
                ssize_t got;
                char *end;
                if (len == cl->cap) {
                        die("response too large", path);
                }
                got = read(cl->fd, cl->buf + len, cl->cap - len);
                if (got <= 0) {
                        die("connection closed", path);
                }
                len += (size_t)got;
                if (!head && (end = memmem(cl->buf, len, "\r\n\r\n", 4))) {
                        char *cl_hdr;
                        head = (size_t)(end - cl->buf) + 4;
                        *end = '\0';
                        if (strncmp(cl->buf, "HTTP/1.1 200", 12)) {
                                die("not 200", cl->buf);
                        }
                        cl_hdr = strcasestr(cl->buf, "Content-Length:");
                        if (!cl_hdr) {
                                die("no Content-Length", path);
                        }
                        want = strtoul(cl_hdr + 15, NULL, 10);
                }
                if (head && len - head >= want) {
                        body = want;
                        break;
                }
        }
        return body;
}

static void client_close(client_t *cl)
{
        close(cl->fd);
        free(cl->buf);
}

/* --- measuring --------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

        return x < y ? -1 : x > y;
}

typedef struct lat_s {
        double p50, p99;
} lat_t;

static lat_t summarize(int64_t *us, int n)
{
        lat_t l;

        qsort(us, (size_t)n, sizeof(*us), cmp_i64);
        l.p50 = (double)us[n / 2] / 1000.0;
        l.p99 = (double)us[(n * 99) / 100] / 1000.0;
        return l;
}

static lat_t http_latency(client_t *cl, const char *path, int n)
{
        int64_t *us = calloc((size_t)n, sizeof(*us));
        lat_t l;

        for (int i = 0; i < 5; i++) {
                client_get(cl, path); /* warm */
        }
        for (int i = 0; i < n; i++) {
                int64_t t0 = red_time_mono_us();
                client_get(cl, path);
                us[i] = red_time_mono_us() - t0;
        }
        l = summarize(us, n);
        free(us);
        return l;
}

static lat_t sql_latency(PGconn *c, const char *sql, int n)
{
        int64_t *us = calloc((size_t)n, sizeof(*us));
        lat_t l;

        for (int i = 0; i < n + 5; i++) {
                int64_t t0 = red_time_mono_us();
                PGresult *r = PQexec(c, sql);
                if (PQresultStatus(r) != PGRES_TUPLES_OK || !PQntuples(r)) {
                        die(sql, PQerrorMessage(c));
                }
                PQclear(r);
                if (i >= 5) {
                        us[i - 5] = red_time_mono_us() - t0;
                }
        }
        l = summarize(us, n);
        free(us);
        return l;
}

/* The summary through red_query and red_query_pg, without HTTP. */
static lat_t direct_latency(const red_contract_t *c, int n)
{
        static const red_query_param_t p[] = {
                {"grouping", "node_type_grouping"},
                {"from", SUMMARY_FROM},
                {"to", SUMMARY_TO},
                {"quantiles", "0.5,0.95,0.99"}};
        red_query_limits_t lim = {10000, 1000000, red_time_now()};
        PGconn *pg = connect_db(DB);
        int64_t *us = calloc((size_t)n, sizeof(*us));
        char err[1024];
        red_buf_t out;
        lat_t l;

        red_buf_init(&out);
        if (red_query_pg_session(pg, 5000, 60000, err, sizeof(err))) {
                die("session", err);
        }
        for (int i = 0; i < n + 5; i++) {
                int64_t t0 = red_time_mono_us();
                red_query_error_t e;
                red_query_t *q =
                        red_query_plan(&c, 1, RED_QUERY_SUMMARY,
                                       "codegen_metrics", p, 4, &lim, &e);
                int status;
                red_query_pg_t *x =
                        q ? red_query_pg_start(pg, q, &c, 1, &status, err,
                                               sizeof(err))
                          : NULL;
                if (!x) {
                        die("summary", q ? err : e.message);
                }
                red_buf_reset(&out);
                if (red_query_pg_fill(x, &out, SIZE_MAX, err, sizeof(err)) <
                    0) {
                        die("summary", err);
                }
                red_query_pg_destroy(x);
                red_query_destroy(q);
                if (i >= 5) {
                        us[i - 5] = red_time_mono_us() - t0;
                }
        }
        l = summarize(us, n);
        free(us);
        red_buf_destroy(&out);
        PQfinish(pg);
        return l;
}

typedef struct load_s {
        int port;
        const char *path;
        volatile int *stop;
        long done;
} load_t;

static void *load_main(void *arg)
{
        load_t *ld = arg;
        client_t cl;

        client_open(&cl, ld->port);
        while (!*ld->stop) {
                client_get(&cl, ld->path);
                ld->done++;
        }
        client_close(&cl);
        return NULL;
}

static double throughput(int port, const char *path, int clients,
                         double seconds)
{
        pthread_t th[64];
        load_t ld[64];
        volatile int stop = 0;
        long total = 0;
        int64_t t0;

        clients = clients > 64 ? 64 : clients;
        t0 = red_time_mono_us();
        for (int i = 0; i < clients; i++) {
                ld[i] = (load_t){port, path, &stop, 0};
                pthread_create(&th[i], NULL, load_main, &ld[i]);
        }
        {
                struct timespec ts = {
                        (time_t)seconds,
                        (long)((seconds - (double)(time_t)seconds) * 1e9)};
                nanosleep(&ts, NULL);
        }
        stop = 1;
        for (int i = 0; i < clients; i++) {
                pthread_join(th[i], NULL);
                total += ld[i].done;
        }
        return (double)total * 1e6 / (double)(red_time_mono_us() - t0);
}

int main(int argc, char **argv)
{
        int days = 365, per_hour = 12, n = 300, clients = 8, threads = 2;
        int opt;
        double seconds = 5;
        char err[2048], path[512];
        red_contract_set_t set = {0};
        red_config_t *conf;
        red_contract_t *c;
        red_api_t *api;
        client_t cl;
        PGconn *pg;
        lat_t sum, ser, top, direct, bsum, bser, btop;
        double rps;
        char *cells;

        while ((opt = getopt(argc, argv, "d:w:n:c:s:t:")) != -1) {
                switch (opt) {
                case 't':
                        threads = atoi(optarg);
                        break;
                case 'd':
                        days = atoi(optarg);
                        break;
                case 'w':
                        per_hour = atoi(optarg);
                        break;
                case 'n':
                        n = atoi(optarg);
                        break;
                case 'c':
                        clients = atoi(optarg);
                        break;
                case 's':
                        seconds = atof(optarg);
                        break;
                default:
                        die("usage: bench_query [-d DAYS] [-w PER_HOUR] [-n "
                            "REQUESTS] [-c CLIENTS] [-s SECONDS] [-t "
                            "THREADS]",
                            NULL);
                }
        }
        red_log_setup(RED_LOG_WARN, false);
        prepare(days, per_hour);
        pg = connect_db(DB);
        cells = value(pg, "SELECT string_agg(window_type || ' ' || n, ', ' "
                          "ORDER BY n DESC) FROM (SELECT window_type, "
                          "count(*) n FROM codegen_metrics_aggregated GROUP "
                          "BY 1) q");
        printf("cells: %s\n", cells);
        free(cells);

        /* the API in this process, on its own port */
        if (!(conf = red_config_load(NULL, err, sizeof(err)))) {
                die("config", err);
        }
        free(conf->api_listen);
        free(conf->postgres_conninfo);
        conf->api_listen = strdup("127.0.0.1:0");
        conf->postgres_conninfo = strdup("dbname=" DB);
        conf->api_threads = threads;
        conf->api_pg_connections = 2 * threads;
        if (red_contract_set_add(&set, CONTRACT, err, sizeof(err))) {
                die("contract", err);
        }
        if (!(api = red_api_start(conf, &set, err, sizeof(err)))) {
                die("api", err);
        }
        /* red_api_start took the set; a second copy for the direct run */
        if (red_contract_set_add(&set, CONTRACT, err, sizeof(err))) {
                die("contract", err);
        }
        c = set.items[0];
        client_open(&cl, red_api_port(api));

        snprintf(path, sizeof(path),
                 "/v1/aggregations/codegen_metrics/summary?grouping="
                 "node_type_grouping&from=%s&to=%s&quantiles=0.5,0.95,0.99",
                 SUMMARY_FROM, SUMMARY_TO);
        sum = http_latency(&cl, path, n);
        direct = direct_latency(c, n);
        ser = http_latency(&cl,
                           "/v1/aggregations/codegen_metrics/series?window="
                           "hourly&from=2026-05-15T07:00:00Z&to="
                           "2026-05-16T07:00:00Z",
                           n);
        top = http_latency(
                &cl,
                "/v1/aggregations/codegen_metrics/top?grouping="
                "domain_grouping&by=duration.p99&n=5&from=" SUMMARY_FROM
                "&to=" SUMMARY_TO,
                n);
        /* what one writes in SQL without percentiles: sums of hourly rows */
        bsum = sql_latency(
                pg,
                "SELECT group_key, sum(started_generations), "
                "sum(successful_generations), "
                "sum(failed_generations), "
                "sum((cost_statistics->>'total_tokens')::numeric) "
                "FROM codegen_metrics_aggregated WHERE window_type "
                "= 'hourly' AND aggregation_type = "
                "'node_type_grouping' AND window_start >= '" SUMMARY_FROM
                "' AND window_start < '" SUMMARY_TO "' GROUP BY group_key",
                n);
        bser = sql_latency(pg,
                           "SELECT aggregation_id, window_type, window_start, "
                           "window_end, aggregation_type, group_key, "
                           "started_generations, total_generations, "
                           "successful_generations, failed_generations, "
                           "success_rate, duration_statistics, "
                           "quality_statistics, cost_statistics, "
                           "stage_statistics, failed_stage_counts, revision, "
                           "finalized_at, updated_at FROM "
                           "codegen_metrics_aggregated WHERE window_type = "
                           "'hourly' AND window_start >= "
                           "'2026-05-15T07:00:00Z' AND window_start < "
                           "'2026-05-16T07:00:00Z' ORDER BY window_start, "
                           "aggregation_type, group_key",
                           n);
        btop = sql_latency(
                pg,
                "SELECT group_key, sum((duration_statistics->>"
                "'avg_seconds')::float8 * successful_generations) "
                "/ nullif(sum(successful_generations), 0) avg "
                "FROM codegen_metrics_aggregated WHERE window_type "
                "= 'hourly' AND aggregation_type = "
                "'domain_grouping' AND window_start >= '" SUMMARY_FROM
                "' AND window_start < '" SUMMARY_TO
                "' GROUP BY group_key ORDER BY avg DESC NULLS LAST "
                "LIMIT 5",
                n);
        client_close(&cl);
        rps = throughput(red_api_port(api), path, clients, seconds);

        printf("%-44s %10s %10s   %s\n", "query (n = each)", "p50 ms", "p99 ms",
               "plain SQL baseline p50 / p99 ms, ratio of p50");
        printf("%-44s %10.2f %10.2f   %.2f / %.2f, %.2f\n",
               "90-day summary, p50/p95/p99, node types", sum.p50, sum.p99,
               bsum.p50, bsum.p99, sum.p50 / bsum.p50);
        printf("%-44s %10.2f %10.2f\n", "  the same without HTTP", direct.p50,
               direct.p99);
        printf("%-44s %10.2f %10.2f   %.2f / %.2f, %.2f\n",
               "24-hour hourly series, all groupings", ser.p50, ser.p99,
               bser.p50, bser.p99, ser.p50 / bser.p50);
        printf("%-44s %10.2f %10.2f   %.2f / %.2f, %.2f\n",
               "top-5 domains by p99 over 90 days", top.p50, top.p99, btop.p50,
               btop.p99, top.p50 / btop.p50);
        printf("summary throughput over HTTP: %.0f requests/s with %d "
               "keep-alive clients (goal >= 500); summary p99 %.2f ms (goal "
               "<= 20)\n",
               rps, clients, sum.p99);
        red_api_stop(api);
        red_contract_set_destroy(&set);
        red_config_destroy(conf);
        PQfinish(pg);
        return 0;
}
