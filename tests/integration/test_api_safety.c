/*
 * Integration: the read API under hostile and careful use. Unknown
 * names, SQL metacharacters in every parameter, huge limits, ranges of
 * 10 000 years, a 1 MB query string and slow clients get clear 4xx
 * answers or bounded work and leave the tables as they were; a bearer
 * token, gzip and HTTPS work; the OpenAPI document is served as built,
 * every example in it runs, and it passes the linter; `reducerd run`
 * with http.api: true keeps ingesting while its API is hammered; the
 * README's "Reading results" commands run.
 */
#include "red_itest.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* A TCP connection to the API, or -1. */
static int dial(int port)
{
        struct sockaddr_in sa = {.sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)port)};
        int fd = socket(AF_INET, SOCK_STREAM, 0);

        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
                if (fd >= 0) {
                        close(fd);
                }
                return -1;
        }
        return fd;
}

/* Sends @p len bytes, reads the answer's status line (0: none). */
static int raw_status(int port, const char *req, size_t len)
{
        int fd = dial(port), status = 0;
        char buf[256];
        ssize_t n;
        size_t off = 0;

        ck_assert_int_ge(fd, 0);
        while (off < len) {
                ssize_t w = send(fd, req + off, len - off, MSG_NOSIGNAL);
                if (w <= 0) {
                        break; /* the server may answer and close early */
                }
                off += (size_t)w;
        }
        n = recv(fd, buf, sizeof(buf) - 1, 0);
        if (n > 0) {
                buf[n] = '\0';
                sscanf(buf, "HTTP/1.%*d %d", &status);
        }
        close(fd);
        return status;
}

typedef struct srv_s {
        itest_t t;
        pid_t pid;
        int port;
} srv_t;

static void srv_up(srv_t *s, const char *name, const char *api_lines,
                   const char *const *env)
{
        itest_init(&s->t, name);
        itest_api_data(&s->t);
        itest_api_config(&s->t, api_lines);
        s->pid = itest_serve(&s->t, s->t.config, env, 0, &s->port);
}

static void srv_down(srv_t *s)
{
        ck_assert_int_eq(itest_stop(s->pid, SIGTERM, 10000), 0);
        itest_fini(&s->t);
}

static int status_of(srv_t *s, const char *path)
{
        char url[16384], *body;
        int st;

        snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", s->port, path);
        st = itest_curl(&s->t, url, NULL, &body, NULL, NULL);
        /* every error is JSON that says what went wrong */
        if (st >= 400) {
                json_t *doc = json_loads(body, 0, NULL);
                ck_assert_msg(
                        doc && json_object_get(json_object_get(doc, "error"),
                                               "message"),
                        "%s: %d %s", path, st, body);
                json_decref(doc);
        }
        free(body);
        return st;
}

/* ------------------------------------------------------------------ */
/* hostile requests                                                    */
/* ------------------------------------------------------------------ */

static const char *const endpoints[] = {
        "/v1/contracts?",
        "/v1/aggregations/codegen_metrics/series?",
        "/v1/aggregations/codegen_metrics/summary?",
        "/v1/aggregations/codegen_metrics/top?by=started&",
        "/v1/aggregations/agent_metrics_rollup/summary?",
        "/v1/raw/agent_routing_metrics?",
        "/v1/workflows?",
        "/v1/workflows/dfa73969-c27f-4839-81a0-555c5ffe5416?",
        "/v1/alerts?",
        NULL};

static const char *const params[] = {"format",
                                     "from",
                                     "to",
                                     "window",
                                     "grouping",
                                     "columns",
                                     "limit",
                                     "cursor",
                                     "quantiles",
                                     "by",
                                     "n",
                                     "order",
                                     "group_key",
                                     "metric_name",
                                     "agent_id",
                                     "tag.strategy",
                                     "tags.region",
                                     "state",
                                     "node_type",
                                     "severity",
                                     "rule",
                                     "contract",
                                     "correlation_id",
                                     NULL};

static const char *const evil[] = {
        "x'); DROP TABLE codegen_metrics_aggregated; --",
        "\"; DELETE FROM agent_alerts; --",
        "1 OR 1=1",
        "$1::text",
        "\\x00\\\\'",
        "{\"a\":1}",
        NULL};

static long count(PGconn *c, const char *sql)
{
        char *v = test_pg_value(c, sql);
        long n = atol(v);

        free(v);
        return n;
}

START_TEST(hostile)
{
        srv_t s;
        PGconn *c;
        long cells, alerts, raws;
        char path[16384], *req;
        int st, fds[60];
        size_t big = 1024 * 1024;

        srv_up(&s, "api_hostile", "  timeout_s: 2\n", NULL);
        c = test_pg_connect(s.t.conninfo);
        cells = count(c, "SELECT count(*) FROM codegen_metrics_aggregated");
        alerts = count(c, "SELECT count(*) FROM agent_alerts");
        raws = count(c, "SELECT count(*) FROM agent_routing_metrics");

        /* SQL in every parameter of every endpoint: a 4xx or an answer,
         * never a server error */
        for (size_t e = 0; endpoints[e]; e++) {
                for (size_t p = 0; params[p]; p++) {
                        for (size_t v = 0; evil[v]; v++) {
                                char *val = itest_urlenc(evil[v]);
                                snprintf(path, sizeof(path), "%s%s=%s",
                                         endpoints[e], params[p], val);
                                st = status_of(&s, path);
                                ck_assert_msg(st == 200 || st == 400 ||
                                                      st == 404,
                                              "%s: %d", path, st);
                                free(val);
                        }
                }
        }
        /* and in the names of the path */
        ck_assert_int_eq(status_of(&s, "/v1/aggregations/x%27%3B%20DROP%20"
                                       "TABLE%20t%3B--/summary"),
                         404);
        ck_assert_int_eq(status_of(&s, "/v1/raw/agent_alerts%27--"), 404);
        ck_assert_int_eq(status_of(&s, "/v1/workflows/1%27%20OR%20%271"), 404);
        ck_assert_int_eq(status_of(&s, "/v1/nope"), 404);
        ck_assert_int_eq(count(c, "SELECT count(*) FROM "
                                  "codegen_metrics_aggregated"),
                         cells);
        ck_assert_int_eq(count(c, "SELECT count(*) FROM agent_alerts"), alerts);
        ck_assert_int_eq(count(c, "SELECT count(*) FROM agent_routing_metrics"),
                         raws);

        /* unknown names, huge limits */
        ck_assert_int_eq(status_of(&s, "/v1/contracts?contract=nope"), 404);
        ck_assert_int_eq(status_of(&s, "/v1/alerts?contract=codegen_metrics"),
                         400);
        ck_assert_int_eq(status_of(&s, "/v1/aggregations/codegen_metrics/"
                                       "series?columns=nope"),
                         400);
        ck_assert_int_eq(status_of(&s, "/v1/aggregations/codegen_metrics/"
                                       "series?limit=1000000000000"),
                         400);
        ck_assert_int_eq(status_of(&s, "/v1/raw/agent_routing_metrics?format="
                                       "ndjson&limit=99999999999"),
                         400);
        ck_assert_int_eq(status_of(&s, "/v1/aggregations/codegen_metrics/top?"
                                       "by=started&n=1000000"),
                         400);
        /* 10 000 years: a few tiles, bounded rows */
        ck_assert_int_eq(status_of(&s, "/v1/aggregations/codegen_metrics/"
                                       "summary?from=0000-01-01&to="
                                       "9999-12-31T23:59:59Z"),
                         200);
        ck_assert_int_eq(status_of(&s, "/v1/aggregations/codegen_metrics/"
                                       "top?by=duration.p99&from=0000-01-01"
                                       "&to=9999-12-31"),
                         200);
        ck_assert_int_eq(status_of(&s, "/v1/aggregations/codegen_metrics/"
                                       "series?window=monthly&limit=3&from="
                                       "0000-01-01&to=9999-12-31"),
                         200);
        ck_assert_int_eq(status_of(&s, "/v1/raw/agent_routing_metrics?from="
                                       "0000-01-01&to=9999-12-31&limit=3"),
                         200);
        ck_assert_int_eq(status_of(&s, "/v1/alerts?from=0001-01-01&to=now"),
                         200);
        /* 300 parameters */
        {
                size_t n =
                        (size_t)snprintf(path, sizeof(path), "/v1/contracts?");
                for (int i = 0; i < 300; i++) {
                        n += (size_t)snprintf(path + n, sizeof(path) - n,
                                              "p%d=1&", i);
                }
                ck_assert_int_eq(status_of(&s, path), 400);
        }
        /* exactly as many parameters as are allowed (256) and a format
         * from the Accept header on top: planned like any other request
         * (p0 is unknown), and the server still answers */
        {
                char url[16384], *body;
                const char *accept[] = {"-H", "Accept: text/csv", NULL};
                size_t n = (size_t)snprintf(url, sizeof(url),
                                            "http://127.0.0.1:%d/v1/alerts?",
                                            s.port);
                for (int i = 0; i < 256; i++) {
                        n += (size_t)snprintf(url + n, sizeof(url) - n,
                                              "%sp%d=1", i ? "&" : "", i);
                }
                st = itest_curl(&s.t, url, accept, &body, NULL, NULL);
                ck_assert_msg(st == 400 && strstr(body, "p0"), "%d %s", st,
                              body);
                free(body);
                ck_assert_int_eq(status_of(&s, "/v1/contracts"), 200);
        }
        /* a 1 MB query string */
        req = malloc(big + 256);
        memcpy(req, "GET /v1/contracts?a=", 20);
        memset(req + 20, 'x', big);
        memcpy(req + 20 + big, " HTTP/1.1\r\nHost: x\r\n\r\n", 23);
        st = raw_status(s.port, req, big + 43);
        ck_assert_msg(st >= 400 && st < 500, "1 MB query string: %d", st);
        free(req);
        /* not a reader */
        {
                char url[256], *body;
                const char *post[] = {"-X", "POST", NULL};
                snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/contracts",
                         s.port);
                ck_assert_int_eq(itest_curl(&s.t, url, post, &body, NULL, NULL),
                                 405);
                free(body);
        }
        /* slow clients: sixty half-sent requests take no answer away from
         * a normal client, and are closed after api.timeout_s */
        for (int i = 0; i < 60; i++) {
                fds[i] = dial(s.port);
                ck_assert_int_ge(fds[i], 0);
                ck_assert_int_eq(send(fds[i], "GET /v1/contracts HTTP/1.1\r\n",
                                      28, MSG_NOSIGNAL),
                                 28);
        }
        ck_assert_int_eq(status_of(&s, "/v1/aggregations/codegen_metrics/"
                                       "summary?from=2026-01-01&to="
                                       "2026-04-01"),
                         200);
        for (int i = 0; i < 60; i++) {
                char b[64];
                struct timeval tv = {15, 0};
                setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
                /* 0: closed by the server (or an answer, then closed) */
                ck_assert_int_ge(recv(fds[i], b, sizeof(b), 0), 0);
                close(fds[i]);
        }
        PQfinish(c);
        srv_down(&s);
}
END_TEST

/* ------------------------------------------------------------------ */
/* token, gzip, TLS                                                    */
/* ------------------------------------------------------------------ */

#define TOKEN "s3cret-T0ken-for-the-test"

START_TEST(token_gzip_tls)
{
        const char *env[] = {"REDUCERD_API_TOKEN=" TOKEN, NULL};
        const char *bearer[] = {"-H", "Authorization: Bearer " TOKEN, NULL};
        const char *wrong[] = {"-H", "Authorization: Bearer s3cret", NULL};
        const char *gz[] = {"-H",           "Authorization: Bearer " TOKEN,
                            "-H",           "Accept-Encoding: gzip",
                            "--compressed", NULL};
        srv_t s;
        char url[512], *plain, *zipped, *head, *log, path[4096];
        int tls_port;
        pid_t tls_pid;

        srv_up(&s, "api_security", NULL, env);
        snprintf(url, sizeof(url),
                 "http://127.0.0.1:%d/v1/aggregations/codegen_metrics/"
                 "summary?from=2026-01-01&to=2026-04-01",
                 s.port);
        ck_assert_int_eq(itest_curl(&s.t, url, NULL, &plain, NULL, &head), 401);
        ck_assert_ptr_nonnull(strstr(head, "www-authenticate: bearer"));
        free(plain);
        free(head);
        ck_assert_int_eq(itest_curl(&s.t, url, wrong, &plain, NULL, NULL), 401);
        free(plain);
        ck_assert_int_eq(itest_curl(&s.t, url, bearer, &plain, NULL, &head),
                         200);
        ck_assert_ptr_null(strstr(head, "content-encoding"));
        free(head);
        ck_assert_int_eq(itest_curl(&s.t, url, gz, &zipped, NULL, &head), 200);
        ck_assert_ptr_nonnull(strstr(head, "content-encoding: gzip"));
        ck_assert_str_eq(zipped, plain);
        free(zipped);
        free(plain);
        free(head);
        /* a gzip'd stream */
        snprintf(url, sizeof(url),
                 "http://127.0.0.1:%d/v1/raw/agent_routing_metrics?from="
                 "2026-03-01&to=2026-03-09&format=ndjson",
                 s.port);
        ck_assert_int_eq(itest_curl(&s.t, url, gz, &zipped, NULL, &head), 200);
        ck_assert_ptr_nonnull(strstr(head, "content-encoding: gzip"));
        ck_assert_ptr_nonnull(strstr(head, "transfer-encoding: chunked"));
        ck_assert_int_eq(strspn(zipped, "{"), 1);
        free(zipped);
        free(head);
        /* the token is in no log line */
        snprintf(path, sizeof(path), "%s/serve-0.log", s.t.dir);
        log = test_read_file(path, NULL);
        ck_assert_ptr_null(strstr(log, TOKEN));
        free(log);

        /* HTTPS with a certificate made for the test */
        {
                char cmd[8192], *out, *err;
                const char *sh[] = {"/bin/sh", "-c", cmd, NULL};
                char lines[4096];
                snprintf(cmd, sizeof(cmd),
                         "cd '%s' && openssl req -x509 -newkey rsa:2048 "
                         "-nodes -keyout key.pem -out cert.pem -days 1 "
                         "-subj /CN=127.0.0.1 -addext "
                         "subjectAltName=IP:127.0.0.1 2>&1",
                         s.t.dir);
                ck_assert_msg(test_run(sh, NULL, &out, &err) == 0, "%s", out);
                free(out);
                free(err);
                snprintf(lines, sizeof(lines),
                         "  tls_cert: \"%s/cert.pem\"\n"
                         "  tls_key: \"%s/key.pem\"\n",
                         s.t.dir, s.t.dir);
                itest_api_config(&s.t, lines);
                tls_pid = itest_serve(&s.t, s.t.config, NULL, 1, &tls_port);
                snprintf(path, sizeof(path), "%s/cert.pem", s.t.dir);
                {
                        const char *ca[] = {"--cacert", path, NULL};
                        snprintf(url, sizeof(url),
                                 "https://127.0.0.1:%d/v1/contracts", tls_port);
                        ck_assert_int_eq(
                                itest_curl(&s.t, url, ca, &plain, NULL, NULL),
                                200);
                        ck_assert_ptr_nonnull(strstr(plain, "codegen_metrics"));
                        free(plain);
                }
                /* plain HTTP to the TLS port gets no answer */
                snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/contracts",
                         tls_port);
                ck_assert_int_ne(
                        itest_curl(&s.t, url, NULL, &plain, NULL, NULL), 200);
                free(plain);
                ck_assert_int_eq(itest_stop(tls_pid, SIGTERM, 10000), 0);
        }
        srv_down(&s);
}
END_TEST

/* ------------------------------------------------------------------ */
/* the OpenAPI document                                                */
/* ------------------------------------------------------------------ */

/* Nodes search-test-000..005 of the registry's reference fixture (the
 * OpenAPI examples name them), registered now. */
static void registry_data(itest_t *t, const char *contract)
{
        static const char *const types[] = {"effect", "compute", "reducer",
                                            "orchestrator"};
        char path[4200], now[RED_TIME_FMT_SIZE];
        const char *mig[] = {"migrate", contract, NULL};
        FILE *fp;

        free(itest_cmd_ok(t, mig));
        snprintf(path, sizeof(path), "%s/nodes.jsonl", t->dir);
        ck_assert_ptr_nonnull(fp = fopen(path, "w"));
        red_time_format(red_time_now(), now, sizeof(now));
        for (int i = 0; i < 6; i++) {
                fprintf(fp,
                        "{\"event_type\":\"NODE_INTROSPECTION\","
                        "\"timestamp\":\"%s\",\"_key\":"
                        "\"search-test-%03d\",\"payload\":{\"node_id\":"
                        "\"search-test-%03d\",\"node_name\":"
                        "\"SearchTestNode%03d\",\"node_type\":\"%s\","
                        "\"version\":\"1.0.%d\",\"capabilities\":[{"
                        "\"name\":\"capability_%d\",\"description\":"
                        "\"Test capability %d\"}],\"endpoints\":{\"http\":"
                        "\"http://127.0.0.1:%d\"},\"health_check\":{"
                        "\"endpoint\":\"/health\",\"interval_seconds\":"
                        "3600},\"metadata\":{\"index\":%d}}}\n",
                        now, i, i, i, types[i % 4], i, i % 5, i % 5, 9000 + i,
                        i);
        }
        ck_assert_int_eq(fclose(fp), 0);
        ck_assert_int_eq(itest_load(t, contract, path), 6);
}

START_TEST(openapi_examples)
{
        itest_t t;
        pid_t pid;
        int port;
        char base[128], script[4096], doc[4096], registry[4096], *served, *file,
                *out, *err;
        const char *argv[] = {"/usr/bin/python3", script, doc, base, NULL};
        const char *cs[] = {registry, NULL};
        FILE *fp;

        /* copies: test_path() reuses its few buffers */
        snprintf(script, sizeof(script), "%s",
                 test_path("tests/tools/openapi_examples.py"));
        snprintf(doc, sizeof(doc), "%s", test_path("src/app/openapi.json"));
        snprintf(registry, sizeof(registry), "%s",
                 test_path("contracts/node_registry.yaml"));

        /* the read side's data, the node registry's, and a Kafka for the
         * registry's writes (POST, PUT, DELETE answer once it has them) */
        itest_init(&t, "api_openapi");
        itest_api_data(&t);
        registry_data(&t, registry);
        itest_kafka(&t, 1, cs);
        snprintf(t.config, sizeof(t.config), "%s/reducerd.yaml", t.dir);
        ck_assert_ptr_nonnull(fp = fopen(t.config, "w"));
        fprintf(fp,
                "postgres:\n  conninfo: \"%s\"\n"
                "kafka:\n  brokers: \"%s\"\n"
                "contracts:\n  paths:\n    - \"%s\"\n    - \"%s\"\n"
                "    - \"%s\"\napi:\n  listen: \"127.0.0.1:0\"\n",
                t.conninfo, t.bootstrap,
                test_path("contracts/codegen_metrics.yaml"),
                test_path("contracts/agent_metrics.yaml"), registry);
        ck_assert_int_eq(fclose(fp), 0);
        pid = itest_serve(&t, t.config, NULL, 0, &port);

        served = itest_api_get(&t, port, "/v1/openapi.json", 200);
        file = test_read_file(doc, NULL);
        ck_assert_str_eq(served, file);
        free(served);
        free(file);
        snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
        ck_assert_msg(test_run(argv, NULL, &out, &err) == 0, "%s%s", out, err);
        {
                char *p = strstr(out, " examples executed");
                ck_assert_ptr_nonnull(p);
                while (p > out && p[-1] != '\n') {
                        p--;
                }
                /* every operation, each example set */
                ck_assert_int_ge(atoi(p), 35);
        }
        /* the registry's: searched, read, and written (to Kafka) */
        ck_assert_ptr_nonnull(strstr(out, "getNode [one_node]: 200"));
        ck_assert_ptr_nonnull(strstr(out, "registerNode [register]: 202"));
        ck_assert_ptr_nonnull(strstr(out, "heartbeatNode [heartbeat]: 202"));
        ck_assert_ptr_nonnull(strstr(out, "deregisterNode [deregister]: 202"));
        ck_assert_ptr_nonnull(
                strstr(out, "healthyNodesByType [one_type]: 200"));
        {
                json_t *msgs = itest_consume(
                        &t,
                        "dev.omninode-bridge.registry.node-introspection.v1");
                ck_assert_int_ge(json_array_size(msgs), 1);
                json_decref(msgs);
        }
        free(out);
        free(err);
        ck_assert_int_eq(itest_stop(pid, SIGTERM, 10000), 0);
        itest_fini(&t);
}
END_TEST

START_TEST(openapi_lint)
{
        const char *mods = getenv("RED_NODE_MODULES");
        char bin[4096], *out, *err;
        const char *argv[] = {bin, "lint", test_path("src/app/openapi.json"),
                              NULL};

        snprintf(bin, sizeof(bin), "%s/.bin/redocly",
                 mods ? mods : "(RED_NODE_MODULES unset)");
        ck_assert_msg(mods && access(bin, X_OK) == 0,
                      "the OpenAPI linter @redocly/cli is not installed at "
                      "%s: ./dev build installs it (npm install --prefix "
                      ".dev/node @redocly/cli@1.25.15) and ./dev test sets "
                      "RED_NODE_MODULES",
                      bin);
        ck_assert_msg(test_run(argv, NULL, &out, &err) == 0,
                      "redocly lint src/app/openapi.json:\n%s%s", out, err);
        ck_assert_msg(strstr(out, "valid") || strstr(err, "valid"), "%s%s", out,
                      err);
        free(out);
        free(err);
}
END_TEST

/* ------------------------------------------------------------------ */
/* the API inside `reducerd run`                                       */
/* ------------------------------------------------------------------ */

/* A child that requests @p url in a loop until killed. */
static pid_t hammer(const char *url)
{
        pid_t pid = fork();

        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                char cmd[2048];
                snprintf(cmd, sizeof(cmd),
                         "exec >/dev/null 2>&1; while :; do curl -s "
                         "--max-time 5 '%s'; done",
                         url);
                execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
                _exit(127);
        }
        return pid;
}

START_TEST(run_serves_api)
{
        const char *cs[] = {test_path("contracts/codegen_metrics.yaml"), NULL};
        itest_t t;
        const char *file;
        pid_t pid, load[3];
        int api_port, http_port, fds[40], started = 0;
        char url[512], *body, *text;
        long n;
        json_t *doc, *row;
        size_t k;

        itest_init(&t, "api_run");
        itest_kafka(&t, 6, cs);
        itest_config(&t, cs, 2000, 200,
                     "http:\n  listen: \"127.0.0.1:0\"\n  api: true\n"
                     "api:\n  listen: \"127.0.0.1:0\"\n  threads: 2\n"
                     "  timeout_s: 3\n  pg_connections: 2\n");
        file = itest_generate(&t, "events.jsonl",
                              "--events 20000 --days 2 --partitions 6 "
                              "--seed 3");
        pid = itest_start(&t, NULL, 0);
        api_port = itest_api_port(&t, "reducerd-0.log");
        http_port = itest_http_port(&t, 0);
        /* readers that never stop, and slow clients holding connections */
        snprintf(url, sizeof(url),
                 "http://127.0.0.1:%d/v1/aggregations/codegen_metrics/"
                 "summary?from=now-30d",
                 api_port);
        load[0] = hammer(url);
        load[1] = hammer(url);
        snprintf(url, sizeof(url),
                 "http://127.0.0.1:%d/v1/aggregations/codegen_metrics/"
                 "series?from=now-30d&format=ndjson",
                 api_port);
        load[2] = hammer(url);
        for (int i = 0; i < 40; i++) {
                fds[i] = dial(api_port);
                ck_assert_int_ge(fds[i], 0);
                ck_assert_int_eq(
                        send(fds[i], "GET /v1/contr", 13, MSG_NOSIGNAL), 13);
        }
        itest_produce(&t, file, 1, 20000);
        ck_assert_msg(itest_wait_committed(&t, "reducerd.codegen_metrics",
                                           20000, 180000),
                      "only %ld of 20000 offsets committed under API load",
                      itest_committed(&t, "reducerd.codegen_metrics"));
        ck_assert_int_eq(itest_http_get(http_port, "/healthz", &body), 200);
        free(body);
        for (int i = 0; i < 3; i++) {
                kill(load[i], SIGKILL);
                waitpid(load[i], NULL, 0);
        }
        for (int i = 0; i < 40; i++) {
                close(fds[i]);
        }
        /* what the API says equals the input */
        text = test_read_file(file, NULL);
        for (char *p = text; (p = strstr(p, "generation-started")); p++) {
                started++;
        }
        free(text);
        body = itest_api_get(&t, api_port,
                             "/v1/aggregations/codegen_metrics/summary?"
                             "grouping=time_window&from=now-30d&columns="
                             "started",
                             200);
        doc = json_loads(body, 0, NULL);
        n = 0;
        json_array_foreach(json_object_get(doc, "data"), k, row)
        {
                n += (long)json_integer_value(json_object_get(row, "started"));
        }
        ck_assert_int_eq(n, started);
        json_decref(doc);
        free(body);
        ck_assert_int_eq(itest_stop(pid, SIGTERM, 30000), 0);
        itest_fini(&t);
}
END_TEST

/* ------------------------------------------------------------------ */
/* the README                                                          */
/* ------------------------------------------------------------------ */

START_TEST(readme_reading_results)
{
        srv_t s;
        char *sec = test_markdown_section(test_path("README.md"),
                                          "## Reading results", NULL);
        char *block = strstr(sec, "```sh\n"), *end, *line, *save = NULL;
        char env_ci[1024], port[16], bindir[4096];
        const char *env[] = {env_ci, NULL};
        int ran = 0;

        srv_up(&s, "api_readme", NULL, NULL);
        ck_assert_ptr_nonnull(block);
        block += 6;
        ck_assert_ptr_nonnull(end = strstr(block, "```"));
        *end = '\0';
        snprintf(bindir, sizeof(bindir), "%s", test_bin());
        *strrchr(bindir, '/') = '\0';
        snprintf(env_ci, sizeof(env_ci), "REDUCERD_POSTGRES_CONNINFO=%s",
                 s.t.conninfo);
        snprintf(port, sizeof(port), "%d", s.port);
        for (line = strtok_r(block, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                char cmd[8192], *p, *out, *err;
                const char *sh[] = {"/bin/sh", "-c", cmd, NULL};
                size_t n;
                int rc;
                if (strncmp(line, "reducerd query", 14) &&
                    strncmp(line, "curl", 4)) {
                        continue;
                }
                /* the test's server instead of 127.0.0.1:9465 */
                /* reducerd is the one just built */
                n = (size_t)snprintf(cmd, sizeof(cmd),
                                     "cd '%s' && PATH='%s':\"$PATH\" && ",
                                     test_srcdir(), bindir);
                for (p = line; *p && n < sizeof(cmd) - 16;) {
                        if (!strncmp(p, "127.0.0.1:9465", 14)) {
                                n += (size_t)snprintf(cmd + n, sizeof(cmd) - n,
                                                      "127.0.0.1:%s", port);
                                p += 14;
                        } else {
                                cmd[n++] = *p++;
                        }
                }
                cmd[n] = '\0';
                rc = test_run(sh, env, &out, &err);
                ck_assert_msg(rc == 0 && *out, "README: %s\nexit %d\n%s%s",
                              line, rc, out, err);
                if (strstr(line, "fortnightly")) {
                        ck_assert_ptr_nonnull(strstr(out, "\"parameter\":"
                                                          "\"window\""));
                } else if (strstr(line, "wc -l")) {
                        ck_assert_int_gt(atol(out), 100);
                } else {
                        ck_assert_ptr_null(strstr(out, "\"error\""));
                }
                free(out);
                free(err);
                ran++;
        }
        ck_assert_int_ge(ran, 9);
        free(sec);
        srv_down(&s);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("api_safety");

        test_add_case(s, "hostile", hostile, 900);
        test_add_case(s, "token_gzip_tls", token_gzip_tls, 300);
        test_add_case(s, "openapi_examples", openapi_examples, 300);
        test_add_case(s, "openapi_lint", openapi_lint, 300);
        test_add_case(s, "run_serves_api", run_serves_api, 600);
        test_add_case(s, "readme_reading_results", readme_reading_results, 300);
        return s;
}

int main(void)
{
        return test_main(suite());
}
