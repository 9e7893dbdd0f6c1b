/*
 * Operating reducerd (issue 7): /metrics reconciles with what was produced,
 * /readyz follows Postgres, SIGHUP reloads (or keeps the old contract when
 * the new one is broken) without losing or double-counting events, logs
 * are one JSON object a line and never carry a secret.
 */
#include "red_itest.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define GROUP "reducerd.codegen_metrics"
#define HTTP  "http:\n  listen: \"127.0.0.1:0\"\n"

static const char *contract(void)
{
        return test_path("contracts/codegen_metrics.yaml");
}

static char *scrape(int port)
{
        char *body;
        int status = itest_http_get(port, "/metrics", &body);

        ck_assert_int_eq(status, 200);
        return body;
}

START_TEST(metrics_reconcile)
{
        itest_t t;
        const char *cs[] = {contract(), NULL};
        const char *file;
        char *expected, *m;
        long n, dead;
        double consumed, applied, dlq = 0, dropped, cells;
        pid_t pid;
        int port;

        itest_init(&t, "ops_metrics");
        itest_kafka(&t, 3, cs);
        itest_config(&t, cs, 1000, 200, HTTP);
        file = itest_generate(&t, "events.jsonl",
                              "--events 8000 --days 1 --partitions 3 "
                              "--poison 20 --seed 21");
        n = 8000;
        expected = itest_reduce(contract(), file);
        dead = itest_dead_letters(expected);
        ck_assert_int_gt(dead, 50);
        pid = itest_start(&t, NULL, 1);
        port = itest_http_port(&t, 1);
        itest_produce(&t, file, 1, n);
        ck_assert(itest_wait_committed(&t, GROUP, n, 120000));
        /* the last batch's counters land right after its commit (the
         * assertions below tell what they are if they never get there) */
        itest_wait_metric(port,
                          "reducerd_events_consumed_total{contract=\""
                          "codegen_metrics\"}",
                          (double)n, 10000);
        m = scrape(port);
        consumed = itest_metric(m, "reducerd_events_consumed_total{contract="
                                   "\"codegen_metrics\"}");
        applied = itest_metric(m, "reducerd_events_applied_total{contract="
                                  "\"codegen_metrics\"}");
        dropped = itest_metric(m, "reducerd_events_late_total{contract="
                                  "\"codegen_metrics\",policy=\"dropped\"}");
        for (const char *p = m; (p = strstr(p, "\nreducerd_events_dead_"
                                               "lettered_total{"));
             p++) {
                dlq += atof(strchr(p, '}') + 2);
        }
        ck_assert_int_eq((long)consumed, n);
        ck_assert_int_eq((long)dlq, dead);
        ck_assert_int_eq((long)(applied + dlq + dropped), (long)consumed);
        ck_assert_double_gt(itest_metric(m, "reducerd_batches_total{contract="
                                            "\"codegen_metrics\"}"),
                            0);
        ck_assert_ptr_nonnull(strstr(m, "reducerd_batch_commit_seconds_"
                                        "bucket{contract=\"codegen_metrics\","
                                        "le=\"+Inf\"}"));
        ck_assert_ptr_nonnull(strstr(m, "reducerd_build_info{version="));
        ck_assert_double_eq(itest_metric(m, "reducerd_postgres_up{contract="
                                            "\"codegen_metrics\"}"),
                            1);
        cells = itest_metric(m, "reducerd_fsm_transitions_total{contract="
                                "\"codegen_metrics\",result=\"accepted\"}");
        ck_assert_double_gt(cells, 100);
        free(m);
        itest_compare_table(&t, expected, "codegen_metrics_aggregated",
                            "aggregation_id");
        ck_assert_int_eq(itest_stop(pid, SIGTERM, 30000), 0);
        free(expected);
        itest_fini(&t);
}
END_TEST

static void allow_connections(itest_t *t, bool allow)
{
        PGconn *c = test_pg_connect("dbname=postgres");
        const char *db = strchr(t->conninfo, '=') + 1;
        char sql[512];

        snprintf(sql, sizeof(sql), "ALTER DATABASE %s ALLOW_CONNECTIONS %s", db,
                 allow ? "true" : "false");
        test_pg_exec(c, sql);
        if (!allow) {
                snprintf(sql, sizeof(sql),
                         "SELECT pg_terminate_backend(pid) FROM "
                         "pg_stat_activity WHERE datname = '%s'",
                         db);
                test_pg_exec(c, sql);
        }
        PQfinish(c);
}

static int readyz(int port)
{
        char *body;
        int st = itest_http_get(port, "/readyz", &body);

        free(body);
        return st;
}

/* A /readyz status awaited by wait_ready(). */
typedef struct ready_wait_s {
        int port;
        int want;
} ready_wait_t;

static bool ready_is(void *opaque)
{
        ready_wait_t *w = opaque;

        return readyz(w->port) == w->want;
}

static bool wait_ready(int port, int want, long ms)
{
        ready_wait_t w = {port, want};

        return test_wait_every(ready_is, &w, ms, 100);
}

START_TEST(readiness_follows_postgres)
{
        itest_t t;
        const char *cs[] = {contract(), NULL};
        char *body;
        pid_t pid;
        int port;

        itest_init(&t, "ops_ready");
        itest_kafka(&t, 2, cs);
        itest_config(&t, cs, 1000, 200, HTTP);
        pid = itest_start(&t, NULL, 1);
        port = itest_http_port(&t, 1);
        ck_assert_int_eq(itest_http_get(port, "/healthz", &body), 200);
        free(body);
        ck_assert_msg(wait_ready(port, 200, 60000), "never became ready");
        allow_connections(&t, false);
        ck_assert_msg(wait_ready(port, 503, 30000),
                      "still ready without Postgres");
        ck_assert_int_eq(itest_http_get(port, "/readyz", &body), 503);
        ck_assert_msg(strstr(body, "PostgreSQL unreachable"), "%s", body);
        free(body);
        ck_assert_int_eq(itest_http_get(port, "/healthz", &body), 200);
        free(body);
        allow_connections(&t, true);
        ck_assert_msg(wait_ready(port, 200, 60000),
                      "not ready again after Postgres came back");
        ck_assert_int_eq(itest_stop(pid, SIGTERM, 30000), 0);
        itest_fini(&t);
}
END_TEST

/* Rewrites @p src into @p dst replacing every @p from with @p to. */
static void rewrite(const char *src, const char *dst, const char *from,
                    const char *to)
{
        char *text = test_read_file(src, NULL), *p;
        FILE *fp = fopen(dst, "w");

        ck_assert_ptr_nonnull(fp);
        for (p = text; *p;) {
                char *hit = from ? strstr(p, from) : NULL;
                if (!hit) {
                        fputs(p, fp);
                        break;
                }
                fwrite(p, 1, (size_t)(hit - p), fp);
                fputs(to, fp);
                p = hit + strlen(from);
        }
        ck_assert_int_eq(fclose(fp), 0);
        free(text);
}

static bool log_has(itest_t *t, const char *what, int count)
{
        char *log = itest_log(t, 1);
        int n = 0;

        for (const char *p = log; (p = strstr(p, what)); p++) {
                n++;
        }
        free(log);
        return n >= count;
}

/* A log line awaited by wait_log(). */
typedef struct log_wait_s {
        itest_t *t;
        const char *what;
        int count;
} log_wait_t;

static bool log_reached(void *opaque)
{
        log_wait_t *w = opaque;

        return log_has(w->t, w->what, w->count);
}

/* Waits until worker 1 logged @p what @p count times. */
static bool wait_log(itest_t *t, const char *what, int count, long ms)
{
        log_wait_t w = {t, what, count};

        return test_wait_every(log_reached, &w, ms, 100);
}

START_TEST(sighup_reload)
{
        itest_t t;
        char copy[4096], events[4096];
        const char *cs[] = {copy, NULL};
        const char *file;
        char *expected, *v2;
        pid_t pid;

        itest_init(&t, "ops_reload");
        snprintf(copy, sizeof(copy), "%s/codegen.yaml", t.dir);
        rewrite(contract(), copy, NULL, NULL);
        itest_kafka(&t, 3, cs);
        itest_config(&t, cs, 500, 200, HTTP);
        file = itest_generate(&t, "gen.jsonl",
                              "--events 6000 --days 1 --partitions 3 "
                              "--seed 4");
        /* the third part names a node type only version 2 allows */
        snprintf(events, sizeof(events), "%s/events.jsonl", t.dir);
        {
                char *text = test_read_file(file, NULL), *p = text;
                FILE *fp = fopen(events, "w");
                for (int line = 1; *p; line++) {
                        char *nl = strchr(p, '\n');
                        *nl = '\0';
                        if (line > 4000) {
                                char *c;
                                while ((c = strstr(p, "\"compute\""))) {
                                        memcpy(c, "\"adapte\"", 8);
                                        memmove(c + 8, c + 9,
                                                strlen(c + 9) + 1);
                                }
                        }
                        fprintf(fp, "%s\n", p);
                        p = nl + 1;
                }
                fclose(fp);
                free(text);
        }
        v2 = strdup(copy);
        pid = itest_start(&t, NULL, 1);
        itest_produce(&t, events, 1, 2000);
        ck_assert(itest_wait_committed(&t, GROUP, 2000, 120000));

        /* a broken contract: refused, the old one keeps running */
        rewrite(contract(), copy, "    windows: [hourly",
                "    windws: [hourly");
        kill(pid, SIGHUP);
        ck_assert_msg(wait_log(&t, "reload refused", 1, 20000),
                      "no refusal logged");
        ck_assert_msg(log_has(&t, "unknown key", 1),
                      "the refusal does not point at the problem");
        /* a grouping given as a mapping: its error path once freed the
         * windows list twice and the reload killed the daemon (SIGABRT) */
        rewrite(contract(), copy, "node_type_grouping: [node_type]",
                "node_type_grouping: {a: b}");
        kill(pid, SIGHUP);
        for (long long until = test_now_ms() + 20000;
             test_now_ms() < until && !log_has(&t, "reload refused", 2);) {
                usleep(100 * 1000);
        }
        ck_assert_msg(log_has(&t, "got a mapping", 1),
                      "the second refusal is not logged");
        ck_assert_int_eq(itest_poll(pid), -2);
        itest_produce(&t, events, 2001, 2000);
        ck_assert(itest_wait_committed(&t, GROUP, 4000, 120000));
        ck_assert_int_eq(itest_poll(pid), -2);

        /* version 2: node type "adapte" allowed, effective after SIGHUP */
        rewrite(contract(), copy,
                "enum: [effect, compute, reducer, orchestrator]",
                "enum: [effect, compute, reducer, orchestrator, adapte]");
        kill(pid, SIGHUP);
        ck_assert_msg(wait_log(&t, "running 1 pipeline", 2, 60000),
                      "the pipelines did not restart");
        itest_produce(&t, events, 4001, 2000);
        ck_assert(itest_wait_committed(&t, GROUP, 6000, 120000));
        /* exactly what version 2 makes of all 6000 events: the first 4000
         * never mention the new type, so both versions agree on them */
        expected = itest_reduce(copy, events);
        ck_assert_ptr_nonnull(strstr(expected, "\"group_key\":\"adapte\""));
        ck_assert_ptr_null(strstr(expected, "\"dead_letter\""));
        itest_compare_table(&t, expected, "codegen_metrics_aggregated",
                            "aggregation_id");
        ck_assert_int_eq(itest_stop(pid, SIGTERM, 30000), 0);
        free(v2);
        free(expected);
        itest_fini(&t);
}
END_TEST

START_TEST(json_logs_without_secrets)
{
        itest_t t;
        const char *cs[] = {contract(), NULL};
        char yaml[1024], *log;
        pid_t pid;
        int lines = 0;

        itest_init(&t, "ops_secrets");
        itest_kafka(&t, 1, cs);
        /* a password in the conninfo (ignored by trust auth) and a SASL
         * password in the Kafka properties */
        snprintf(yaml, sizeof(yaml), HTTP "log:\n  format: json\n");
        itest_config(&t, cs, 1000, 200, yaml);
        {
                char *conf = test_read_file(t.config, NULL), *p;
                char fixed[8192];
                p = strstr(conf, "conninfo: \"");
                ck_assert_ptr_nonnull(p);
                p += strlen("conninfo: \"");
                snprintf(fixed, sizeof(fixed),
                         "%.*spassword=S3cretPgPassword %s", (int)(p - conf),
                         conf, p);
                p = strstr(fixed, "    heartbeat.interval.ms");
                memmove(p + strlen("    sasl.password: S3cretKafkaPass\n"), p,
                        strlen(p) + 1);
                memcpy(p, "    sasl.password: S3cretKafkaPass\n",
                       strlen("    sasl.password: S3cretKafkaPass\n"));
                test_write_file(t.config, fixed, strlen(fixed));
                free(conf);
        }
        pid = itest_start(&t, NULL, 1);
        itest_http_port(&t, 1);
        /* stopped once it has run a while (assigned), or at the deadline:
         * the log is checked either way */
        wait_log(&t, "assigned", 1, 30000);
        ck_assert_int_eq(itest_stop(pid, SIGTERM, 30000), 0);
        log = itest_log(&t, 1);
        ck_assert_msg(!strstr(log, "S3cret"), "a secret was logged");
        for (char *p = log; *p;) {
                char *nl = strchr(p, '\n');
                json_t *j;
                *nl = '\0';
                if (*p == '{') {
                        j = json_loads(p, 0, NULL);
                        ck_assert_msg(j, "not JSON: %s", p);
                        ck_assert_ptr_nonnull(json_object_get(j, "level"));
                        ck_assert_ptr_nonnull(json_object_get(j, "msg"));
                        json_decref(j);
                        lines++;
                }
                p = nl + 1;
        }
        ck_assert_int_ge(lines, 5);
        free(log);

        /* failures name host and port, never the password */
        {
                char env[256];
                const char *envs[] = {env, NULL};
                const char *argv[] = {test_bin(), "run", "-c", t.config, NULL};
                char *out, *err;
                snprintf(env, sizeof(env),
                         "REDUCERD_POSTGRES_CONNINFO=host=127.0.0.1 port=1 "
                         "dbname=x password=S3cretPgPassword");
                ck_assert_int_ne(test_run(argv, envs, &out, &err), 0);
                ck_assert_msg(strstr(err, "127.0.0.1:1"), "%s", err);
                ck_assert_msg(!strstr(err, "S3cret"), "%s", err);
                free(out);
                free(err);
        }
        itest_fini(&t);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("ops");

        test_add_case(s, "metrics", metrics_reconcile, 600);
        test_add_case(s, "ready", readiness_follows_postgres, 600);
        test_add_case(s, "reload", sighup_reload, 600);
        test_add_case(s, "secrets", json_logs_without_secrets, 600);
        return test_main(s);
}
