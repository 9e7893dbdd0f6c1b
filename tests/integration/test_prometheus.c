/*
 * A real Prometheus (Debian's) on loopback scrapes a running reducerd that
 * consumed known events: the codegen contract's domain series (metrics:)
 * arrive with the values the events imply, the workflow gauges with the
 * counts of workflow_state_current, and deploy/prometheus's rules load.
 */
#include "red_itest.h"

#include <math.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define CODEGEN_DATA "tests/data/dashboards/codegen.jsonl"

static pid_t prometheus_pid, daemon_pid;

/* On every path out of the test, assertion failures included (exit()). */
static void stop_all(void)
{
        if (prometheus_pid > 0) {
                kill(prometheus_pid, SIGKILL);
                waitpid(prometheus_pid, NULL, 0);
                prometheus_pid = 0;
        }
        if (daemon_pid > 0) {
                kill(daemon_pid, SIGKILL);
                waitpid(daemon_pid, NULL, 0);
                daemon_pid = 0;
        }
}

static pid_t start_prometheus(itest_t *t, int port, int target)
{
        char cfg[4096], data[4096], flag[3][4200], log[4096];
        FILE *fp;
        pid_t pid;

        snprintf(cfg, sizeof(cfg), "%s/prometheus.yml", t->dir);
        snprintf(data, sizeof(data), "%s/tsdb", t->dir);
        snprintf(log, sizeof(log), "%s/prometheus.log", t->dir);
        fp = fopen(cfg, "w");
        ck_assert_ptr_nonnull(fp);
        fprintf(fp,
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                "rule_files:\n  - %s\n"
                "scrape_configs:\n  - job_name: reducerd\n"
                "    static_configs:\n      - targets: ['127.0.0.1:%d']\n",
                test_path("deploy/prometheus/reducerd-rules.yaml"), target);
        ck_assert_int_eq(fclose(fp), 0);
        snprintf(flag[0], sizeof(flag[0]), "--config.file=%s", cfg);
        snprintf(flag[1], sizeof(flag[1]), "--storage.tsdb.path=%s", data);
        snprintf(flag[2], sizeof(flag[2]), "--web.listen-address=127.0.0.1:%d",
                 port);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
                dup2(fd, 1);
                dup2(fd, 2);
                execlp("prometheus", "prometheus", flag[0], flag[1], flag[2],
                       "--log.level=warn", (char *)NULL);
                _exit(127);
        }
        return pid;
}

/* --- the HTTP API --------------------------------------------------------- */

typedef struct ask_s {
        int port;
        const char *promql;
        double want;
        double got;
} ask_t;

/* The value of an instant query that returns one sample, or NAN. */
static double instant(int port, const char *promql)
{
        char path[2048], *enc = itest_urlenc(promql), *body;
        json_t *root, *res;
        double v = NAN;

        snprintf(path, sizeof(path), "/api/v1/query?query=%s", enc);
        free(enc);
        if (itest_http_get(port, path, &body) == 200 &&
            (root = json_loads(body, 0, NULL))) {
                res = json_object_get(json_object_get(root, "data"), "result");
                if (json_array_size(res) == 1) {
                        json_t *pair = json_object_get(json_array_get(res, 0),
                                                       "value");
                        const char *s =
                                json_string_value(json_array_get(pair, 1));
                        v = s ? strtod(s, NULL) : NAN;
                }
                json_decref(root);
        }
        free(body);
        return v;
}

static bool answers(void *opaque)
{
        ask_t *a = opaque;

        a->got = instant(a->port, a->promql);
        return fabs(a->got - a->want) < 1e-9;
}

/* Waits until Prometheus answers @p promql with @p want (it scrapes every
 * second; the gauges follow the table every 15 s). */
static void expect(int port, const char *promql, double want)
{
        ask_t a = {port, promql, want, NAN};

        ck_assert_msg(test_wait_every(answers, &a, 60000, 250),
                      "Prometheus answers %s with %g, want %g", promql, a.got,
                      want);
}

static bool ready(void *opaque)
{
        char *body;
        int st = itest_http_get(*(int *)opaque, "/-/ready", &body);

        free(body);
        return st == 200;
}

START_TEST(prometheus_scrapes_domain_series)
{
        const char *cs[] = {test_path("contracts/codegen_metrics.yaml"), NULL};
        itest_t t;
        int port, http;
        char *body;

        atexit(stop_all);
        itest_init(&t, "prometheus");
        itest_kafka(&t, 1, cs);
        itest_config(&t, cs, 1000, 200, "http:\n  listen: \"127.0.0.1:0\"\n");
        daemon_pid = itest_start(&t, NULL, 1);
        http = itest_http_port(&t, 1);
        itest_produce(&t, test_path(CODEGEN_DATA), 1, 33);
        ck_assert(itest_wait_committed(&t, "reducerd.codegen_metrics", 33,
                                       60000));
        port = test_free_port();
        prometheus_pid = start_prometheus(&t, port, http);
        ck_assert_msg(test_wait_every(ready, &port, 60000, 200),
                      "Prometheus did not become ready (%s/prometheus.log)",
                      t.dir);

        /* seven generations ended: five completed, two failed */
        expect(port, "sum(codegen_generations_total)", 7);
        expect(port, "sum(codegen_generations_successful_total)", 5);
        expect(port, "sum(codegen_generations_failed_total)", 2);
        expect(port, "sum(codegen_generations_started_total)", 9);
        expect(port,
               "codegen_generations_total{node_type=\"effect\","
               "domain=\"api\"}",
               2);
        /* the failed compute generation took ml from its Started event */
        expect(port,
               "codegen_generations_failed_total{node_type=\"compute\","
               "domain=\"ml\"}",
               1);
        /* effect durations 2, 4 and 3 s */
        expect(port,
               "codegen_generation_duration_seconds_count{node_type="
               "\"effect\"}",
               3);
        expect(port,
               "codegen_generation_duration_seconds_sum{node_type=\"effect\"}",
               9);
        expect(port,
               "codegen_generation_duration_seconds_bucket{node_type="
               "\"effect\",le=\"2\"}",
               1);
        expect(port,
               "codegen_generation_duration_seconds_bucket{node_type="
               "\"effect\",le=\"3\"}",
               2);
        /* quality 0.9, 0.7, 0.85 for effect: two at or below 0.9 ... */
        expect(port,
               "codegen_quality_score_bucket{node_type=\"effect\","
               "le=\"0.8\"}",
               1);
        expect(port, "sum(codegen_tokens_total)", 8000);
        expect(port, "codegen_tokens_total{node_type=\"effect\"}", 4500);
        /* transitions: six analyses, five validations, all accepted */
        expect(port,
               "workflow_state_transitions_total{to_state=\"analyzing\","
               "result=\"accepted\"}",
               6);
        expect(port,
               "workflow_state_transitions_total{to_state=\"completed\","
               "result=\"accepted\"}",
               5);
        expect(port,
               "sum(workflow_state_transitions_total{result!=\"accepted\"})",
               0);
        /* the gauges: workflow_state_current, read every 15 s */
        expect(port, "workflow_state_count{state=\"completed\"}", 5);
        expect(port, "workflow_state_count{state=\"pending\"}", 1);
        expect(port, "workflow_state_count{state=\"generating\"}", 1);
        expect(port, "active_workflows_count", 2);

        /* the rules of deploy/prometheus loaded and evaluate */
        ck_assert_int_eq(itest_http_get(port, "/api/v1/rules", &body), 200);
        ck_assert_msg(strstr(body, "\"name\":\"reducerd_alerts\"") &&
                              strstr(body, "\"name\":\"reducerd_recording\"") &&
                              !strstr(body, "\"health\":\"err\""),
                      "%s", body);
        free(body);
        expect(port,
               "contract:reducerd_events_dead_lettered:rate5m{contract="
               "\"codegen_metrics\"}",
               0);

        stop_all();
        itest_fini(&t);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("prometheus");

        test_add_case(s, "prometheus", prometheus_scrapes_domain_series, 300);
        return s;
}

int main(void)
{
        return test_main(suite());
}
