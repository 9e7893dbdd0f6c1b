/*
 * Alerts that reach people, end to end: reducerd on the embedded Kafka and
 * Postgres, the real Alertmanager (Debian's prometheus-alertmanager,
 * started here on loopback, clustering off, group_wait 0s) whose receiver
 * is a webhook server inside this test, and a signed generic webhook to
 * the same server. One scenario, in order:
 *
 *  1. a CRITICAL per-event alert reaches Alertmanager's receiver and the
 *     webhook with its labels, annotations and event time; the webhook's
 *     HMAC-SHA256 signature verifies; a window rule judged only on final
 *     cells (`evaluate: final`, added to the shipped contract here) fires
 *     once the events at `now` make an hour three hours back final, at
 *     that hour's end;
 *  2. the workflow success rate of an hour drops below 80 % (a window
 *     rule): the alert fires; the rate recovers: it resolves (endsAt);
 *  3. Alertmanager is stopped for 30 s while two alerts are raised, then
 *     started again: both arrive; /metrics counts the alerts by rule and
 *     severity, the deliveries by outcome, their latency, an empty queue;
 *  4. reducerd is killed (SIGKILL, failpoint before_delivery) after the
 *     batch committed and before it delivered: the alert is in
 *     reducerd_alert_outbox and arrives after a restart;
 *  5. the webhook answers 500 once: the alert is retried and delivered,
 *     once more at most.
 */
#include "hook_server.h"
#include "red_buf.h"
#include "red_hmac.h"
#include "red_itest.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define AM_BIN  "/usr/bin/prometheus-alertmanager"
#define GROUP   "reducerd.agent_metrics"
#define SECRET  "test-hmac-key"
#define ROUTING "dev.agent.metrics.routing.v1"

/* --- the webhook server ------------------------------------------------ */

/* What the server received: one entry per request (path, headers, body)
 * and, from Alertmanager's notifications, one per alert in them. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *requests;  /* [{path, status, alert_id, ts, sig, body}] */
static json_t *am_alerts; /* the alerts of Alertmanager's notifications */
static int fail_direct;   /* answer 500 to this many /direct requests */

/* Records a request (and Alertmanager's alerts); /direct answers 500
 * while fail_direct says so. */
static unsigned on_hook(void *arg, const char *url, struct MHD_Connection *c,
                        const char *data)
{
        unsigned status = 200;
        json_t *body = json_loads(data, 0, NULL);

        (void)arg;
        pthread_mutex_lock(&lock);
        if (!strcmp(url, "/direct") && fail_direct > 0) {
                fail_direct--;
                status = 500;
        }
        json_array_append_new(
                requests,
                json_pack("{s:s,s:i,s:s,s:s,s:s,s:s}", "path", url, "status",
                          status, "alert_id",
                          hook_header(c, "X-Reducerd-Alert-Id"), "ts",
                          hook_header(c, "X-Reducerd-Timestamp"), "sig",
                          hook_header(c, "X-Reducerd-Signature"), "body",
                          data));
        if (!strcmp(url, "/am") && body) {
                size_t i;
                json_t *a;
                json_array_foreach(json_object_get(body, "alerts"), i, a)
                {
                        json_array_append(am_alerts, a);
                }
        }
        pthread_mutex_unlock(&lock);
        json_decref(body);
        return status;
}

/* --- Alertmanager -------------------------------------------------------- */

static pid_t am_pid;

static void am_stop(void)
{
        if (am_pid > 0) {
                itest_stop(am_pid, SIGTERM, 10000);
                am_pid = 0;
        }
}

/* Alertmanager on 127.0.0.1:@p port, sending every notification (and
 * resolution) to the test's /am at once: group_wait 0s, one alert per
 * group. Dies with the test process (PR_SET_PDEATHSIG) on every path. */
static void am_start(itest_t *t, int port, int hook_port)
{
        char cfg[4200], data[4200], listen[64], log[4200];

        snprintf(cfg, sizeof(cfg), "%s/alertmanager.yml", t->dir);
        snprintf(data, sizeof(data), "%s/alertmanager", t->dir);
        snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
        snprintf(log, sizeof(log), "%s/alertmanager.log", t->dir);
        {
                char text[2048];
                int n = snprintf(text, sizeof(text),
                                 "route:\n  receiver: test\n  group_by: "
                                 "['...']\n  group_wait: 0s\n  "
                                 "group_interval: 1s\n  repeat_interval: "
                                 "1h\nreceivers:\n  - name: test\n    "
                                 "webhook_configs:\n      - url: "
                                 "http://127.0.0.1:%d/am\n        "
                                 "send_resolved: true\n",
                                 hook_port);
                test_write_file(cfg, text, (size_t)n);
        }
        am_pid = fork();
        ck_assert_int_ge(am_pid, 0);
        if (am_pid == 0) {
                char a1[4300], a2[4300], a3[128];
                int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

                prctl(PR_SET_PDEATHSIG, SIGKILL);
                dup2(fd, 1);
                dup2(fd, 2);
                snprintf(a1, sizeof(a1), "--config.file=%s", cfg);
                snprintf(a2, sizeof(a2), "--storage.path=%s", data);
                snprintf(a3, sizeof(a3), "--web.listen-address=%s", listen);
                execl(AM_BIN, AM_BIN, a1, a2, a3,
                      "--cluster.listen-address=", (char *)NULL);
                _exit(127);
        }
        atexit(am_stop);
}

/* --- waiting for what arrived ----------------------------------------------
 */

typedef struct want_s {
        const char *alertname, *status, *label, *value;
        json_t *found; /* the Alertmanager alert, borrowed */
} want_t;

/* An alert of Alertmanager's notifications with alertname, status and
 * one more label. */
static bool am_has(void *opaque)
{
        want_t *w = opaque;
        size_t i;
        json_t *a;

        pthread_mutex_lock(&lock);
        w->found = NULL;
        json_array_foreach(am_alerts, i, a)
        {
                json_t *l = json_object_get(a, "labels");
                const char *v = json_string_value(json_object_get(l, w->label));
                if (!strcmp(json_string_value(json_object_get(l, "alertname")),
                            w->alertname) &&
                    !strcmp(json_string_value(json_object_get(a, "status")),
                            w->status) &&
                    v && !strcmp(v, w->value)) {
                        w->found = a;
                }
        }
        pthread_mutex_unlock(&lock);
        return w->found != NULL;
}

static json_t *wait_am(const char *alertname, const char *status,
                       const char *label, const char *value, long ms)
{
        want_t w = {alertname, status, label, value, NULL};

        ck_assert_msg(test_wait_for(am_has, &w, ms),
                      "Alertmanager did not notify %s %s {%s=%s}", status,
                      alertname, label, value);
        return w.found;
}

/* Requests to /direct whose body is about @p rule and @p agent. */
typedef struct direct_s {
        const char *rule, *agent;
        int ok, failed;
        json_t *last_ok; /* borrowed */
} direct_t;

static bool direct_count(void *opaque)
{
        direct_t *d = opaque;
        size_t i;
        json_t *r;

        pthread_mutex_lock(&lock);
        d->ok = d->failed = 0;
        json_array_foreach(requests, i, r)
        {
                json_t *b = json_loads(
                        json_string_value(json_object_get(r, "body")), 0, NULL);
                json_t *l = json_object_get(b, "labels");
                const char *rule =
                        json_string_value(json_object_get(b, "rule_id"));
                const char *agent =
                        json_string_value(json_object_get(l, "agent_id"));

                if (strcmp(json_string_value(json_object_get(r, "path")),
                           "/direct") ||
                    !rule || strcmp(rule, d->rule) || !agent ||
                    strcmp(agent, d->agent)) {
                        json_decref(b);
                        continue;
                }
                if (json_integer_value(json_object_get(r, "status")) == 200) {
                        d->ok++;
                        d->last_ok = r;
                } else {
                        d->failed++;
                }
                json_decref(b);
        }
        pthread_mutex_unlock(&lock);
        return d->ok > 0;
}

/* The signature of a webhook request verifies with the secret. */
static void assert_signed(json_t *r)
{
        const char *ts = json_string_value(json_object_get(r, "ts"));
        const char *body = json_string_value(json_object_get(r, "body"));
        const char *sig = json_string_value(json_object_get(r, "sig"));
        const void *parts[3] = {ts, ".", body};
        size_t lens[3] = {strlen(ts), 1, strlen(body)};
        char hex[RED_HMAC_HEX_SIZE], want[80];

        ck_assert_int_gt(strlen(ts), 0);
        ck_assert_int_eq(red_hmac_sha256_hex(SECRET, strlen(SECRET), parts,
                                             lens, 3, hex),
                         0);
        snprintf(want, sizeof(want), "sha256=%s", hex);
        ck_assert_str_eq(sig, want);
}

/* --- producing -------------------------------------------------------------
 */

/* @p n metrics @p name = @p value of @p agent at @p ts into @p topic. */
static void produce(itest_t *t, const char *topic, const char *name,
                    double value, const char *agent, const char *ts, int n)
{
        static int seq;
        char path[4200];
        FILE *fp;

        snprintf(path, sizeof(path), "%s/produce-%d.jsonl", t->dir, ++seq);
        fp = fopen(path, "w");
        ck_assert_ptr_nonnull(fp);
        for (int i = 0; i < n; i++) {
                fprintf(fp,
                        "{\"_topic\":\"%s\",\"_partition\":%d,\"metric_id\":"
                        "\"m-%d-%d\",\"metric_name\":\"%s\",\"metric_type\":"
                        "\"rate\",\"value\":%g,\"unit\":\"ms\",\"agent_id\":"
                        "\"%s\",\"timestamp\":\"%s\"}\n",
                        topic, i % 3, seq, i, name, value, agent, ts);
        }
        fclose(fp);
        itest_produce(t, path, 1, n);
}

static long outbox_rows(PGconn *c, const char *where)
{
        char sql[512], *v;
        long n;

        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM reducerd_alert_outbox WHERE %s", where);
        v = test_pg_value(c, sql);
        n = atol(v);
        free(v);
        return n;
}

typedef struct outbox_wait_s {
        PGconn *c;
        const char *where;
} outbox_wait_t;

static bool outbox_nonempty(void *opaque)
{
        outbox_wait_t *w = opaque;
        return outbox_rows(w->c, w->where) > 0;
}

static bool outbox_empty(void *opaque)
{
        return !outbox_nonempty(opaque);
}

/* /metrics of worker 1 once its queue is empty and every alert so far
 * was delivered: @p body (malloc'd). */
typedef struct settled_s {
        int port;
        char *body;
} settled_t;

static bool metrics_settled(void *opaque)
{
        settled_t *s = opaque;

        free(s->body);
        s->body = NULL;
        ck_assert_int_eq(itest_http_get(s->port, "/metrics", &s->body), 200);
        return itest_metric(s->body, "reducerd_alert_queue_depth") == 0;
}

/* The alert series after steps 1 to 3 (worker 1: counters since it
 * started; deploy/METRICS.md). */
static void assert_alert_metrics(int port)
{
        static const char *const exact[][2] = {
                {"reducerd_alert_rule_events_total{contract=\"agent_metrics\","
                 "rule=\"routing_decision_critical\",severity=\"CRITICAL\","
                 "event=\"fired\"}",
                 "3"},
                /* the per-event rule on the same 10 events: once per
                 * agent within its cooldown */
                {"reducerd_alert_rule_events_total{contract=\"agent_metrics\","
                 "rule=\"workflow_success_rate_critical\",severity="
                 "\"CRITICAL\",event=\"fired\"}",
                 "1"},
                {"reducerd_alert_rule_events_total{contract=\"agent_metrics\","
                 "rule=\"workflow_success_rate_hourly\",severity="
                 "\"CRITICAL\",event=\"fired\"}",
                 "1"},
                {"reducerd_alert_rule_events_total{contract=\"agent_metrics\","
                 "rule=\"workflow_success_rate_hourly\",severity="
                 "\"CRITICAL\",event=\"resolved\"}",
                 "1"},
                {"reducerd_alert_rule_events_total{contract=\"agent_metrics\","
                 "rule=\"routing_cache_hit_rate_hourly\",severity="
                 "\"WARNING\",event=\"fired\"}",
                 "0"},
                {"reducerd_alert_rule_events_total{contract=\"agent_metrics\","
                 "rule=\"routing_cache_hit_rate_final\",severity="
                 "\"WARNING\",event=\"fired\"}",
                 "1"},
                {"reducerd_alerts_total{contract=\"agent_metrics\",severity="
                 "\"CRITICAL\"}",
                 "5"},
                {"reducerd_alerts_resolved_total{contract=\"agent_metrics\","
                 "severity=\"CRITICAL\"}",
                 "1"},
                {"reducerd_alert_queue_depth", "0"},
        };
        /* at least: 6 alerts (3 of routing_decision_critical, one of
         * workflow_success_rate_critical, a window alert and its
         * resolution) to each destination; Alertmanager refused while
         * down */
        static const char *const least[][2] = {
                {"reducerd_alert_deliveries_total{destination="
                 "\"alertmanager\",outcome=\"delivered\"}",
                 "6"},
                {"reducerd_alert_deliveries_total{destination="
                 "\"webhook\",outcome=\"delivered\"}",
                 "6"},
                {"reducerd_alert_deliveries_total{destination="
                 "\"alertmanager\",outcome=\"failed\"}",
                 "1"},
                {"reducerd_alert_delivery_seconds_count", "6"},
        };
        settled_t st = {port, NULL};

        ck_assert(test_wait_for(metrics_settled, &st, 30000));
        for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
                ck_assert_msg(itest_metric(st.body, exact[i][0]) ==
                                      atof(exact[i][1]),
                              "%s is %g, not %s", exact[i][0],
                              itest_metric(st.body, exact[i][0]), exact[i][1]);
        }
        for (size_t i = 0; i < sizeof(least) / sizeof(least[0]); i++) {
                ck_assert_msg(itest_metric(st.body, least[i][0]) >=
                                      atof(least[i][1]),
                              "%s is %g, under %s", least[i][0],
                              itest_metric(st.body, least[i][0]), least[i][1]);
        }
        /* the outage's alerts waited over 30 s: above the 10 s bucket */
        ck_assert_double_lt(
                itest_metric(st.body, "reducerd_alert_delivery_seconds_bucket"
                                      "{le=\"10\"}"),
                itest_metric(st.body, "reducerd_alert_delivery_seconds_count"));
        free(st.body);
}

/*
 * The shipped agent contract plus one window rule judged on final cells
 * only, in the test's directory (the shipped rules judge every change;
 * the hours they watch do not become final while the test runs). Returns
 * the path (static).
 */
static const char *with_final_rule(itest_t *t)
{
        static const char rule[] =
                "    - {id: routing_cache_hit_rate_final, aggregation: "
                "agent_metrics_rollup,\n"
                "       grouping: per_metric, windows: hourly, where: "
                "{metric_name: routing_cache_hit_rate},\n"
                "       value: avg, op: lt, threshold: 60, severity: WARNING, "
                "evaluate: final,\n"
                "       message: \"Cache hit rate {value}% in the final hour "
                "from {window_start}\"}\n";
        static char path[4200];
        char *text =
                test_read_file(test_path("contracts/agent_metrics.yaml"), NULL);
        char *at = strstr(text, "\n  window_rules:\n");
        red_buf_t b;

        /* the rule goes first in the list */
        ck_assert_ptr_nonnull(at);
        at += strlen("\n  window_rules:\n");
        red_buf_init(&b);
        red_buf_append(&b, text, (size_t)(at - text));
        red_buf_puts(&b, rule);
        red_buf_puts(&b, at);
        ck_assert(!b.failed);
        snprintf(path, sizeof(path), "%s/agent_metrics.yaml", t->dir);
        test_write_file(path, b.data, b.len);
        red_buf_destroy(&b);
        free(text);
        return path;
}

/* --- the scenario ------------------------------------------------------------
 */

START_TEST(alerts_reach_people)
{
        const char *cs[] = {NULL, NULL};
        const char *fail_env[] = {"REDUCERD_FAILPOINTS=before_delivery:1",
                                  NULL};
        char extra[8192], secret[4200], now_ts[RED_TIME_FMT_SIZE];
        char hour_ts[RED_TIME_FMT_SIZE], later_ts[RED_TIME_FMT_SIZE];
        char old_ts[RED_TIME_FMT_SIZE];
        struct MHD_Daemon *hooks;
        int hook_port, am_port = test_free_port(), status;
        red_time_t now = red_time_now() / 1000 * 1000, hour;
        direct_t d = {0};
        json_t *a;
        itest_t t;
        PGconn *c;
        pid_t pid;
        int64_t t0;

        if (access(AM_BIN, X_OK)) {
                ck_abort_msg("%s is missing (Debian package "
                             "prometheus-alertmanager; ./dev installs it)",
                             AM_BIN);
        }
        requests = json_array();
        am_alerts = json_array();
        itest_init(&t, "alerts");
        cs[0] = with_final_rule(&t);
        itest_kafka(&t, 3, cs);
        hooks = hook_server_start(on_hook, NULL, &hook_port);
        ck_assert_ptr_nonnull(hooks);
        am_start(&t, am_port, hook_port);
        snprintf(secret, sizeof(secret), "%s/hook.secret", t.dir);
        test_write_file(secret, SECRET "\n", strlen(SECRET) + 1);
        snprintf(extra, sizeof(extra),
                 "http:\n  listen: \"127.0.0.1:0\"\nalerting:\n  "
                 "alertmanager_urls: "
                 "[\"http://127.0.0.1:%d\"]\n  webhooks:\n    direct: "
                 "\"http://127.0.0.1:%d/direct\"\n  webhook_secret_files:\n"
                 "    direct: \"%s\"\n  webhook_timeouts_ms:\n    direct: "
                 "2000\n  retry_max_ms: 1000\n  generator_url: "
                 "\"http://reducerd.test:9465\"\n",
                 am_port, hook_port, secret);
        itest_config(&t, cs, 1000, 100, extra);
        c = test_pg_connect(t.conninfo);
        pid = itest_start(&t, NULL, 1);

        /* 1. a CRITICAL per-event alert; before it, 5 cache hit rates of
         * 40 % in the hour three hours back (too few for the shipped
         * hourly rule's min_events), and with it a metric at now on each
         * partition of the topic, so that the watermark of every partition
         * leaves that hour (and its 5 minutes of grace) behind */
        hour = now / RED_TIME_US_PER_HOUR * RED_TIME_US_PER_HOUR;
        red_time_format(hour - 3 * RED_TIME_US_PER_HOUR +
                                10 * RED_TIME_US_PER_MIN,
                        old_ts, sizeof(old_ts));
        produce(&t, ROUTING, "routing_cache_hit_rate", 40, "agent-2", old_ts,
                5);
        red_time_format(now, now_ts, sizeof(now_ts));
        produce(&t, ROUTING, "routing_decision_time_ms", 150, "agent-7", now_ts,
                1);
        produce(&t, ROUTING, "queue_depth", 1, "agent-0", now_ts, 3);
        a = wait_am("routing_decision_critical", "firing", "agent_id",
                    "agent-7", 60000);
        {
                json_t *l = json_object_get(a, "labels");
                json_t *n = json_object_get(a, "annotations");

                ck_assert_str_eq(
                        json_string_value(json_object_get(l, "severity")),
                        "CRITICAL");
                ck_assert_str_eq(
                        json_string_value(json_object_get(l, "contract")),
                        "agent_metrics");
                ck_assert_str_eq(
                        json_string_value(json_object_get(l, "metric_name")),
                        "routing_decision_time_ms");
                ck_assert_str_eq(
                        json_string_value(json_object_get(n, "summary")),
                        "Routing too slow: 150ms (>100ms)");
                ck_assert_str_eq(json_string_value(json_object_get(n, "value")),
                                 "150");
                ck_assert_str_eq(
                        json_string_value(json_object_get(n, "threshold")),
                        "100");
                ck_assert_int_eq(test_time(json_string_value(
                                         json_object_get(a, "startsAt"))),
                                 now);
                ck_assert_ptr_nonnull(strstr(
                        json_string_value(json_object_get(a, "generatorURL")),
                        "http://reducerd.test:9465/v1/alerts?contract="
                        "agent_metrics&rule=routing_decision_critical"));
        }
        d.rule = "routing_decision_critical";
        d.agent = "agent-7";
        ck_assert(test_wait_for(direct_count, &d, 30000));
        assert_signed(d.last_ok);
        /* the final hour's judgement, at the hour's end */
        a = wait_am("routing_cache_hit_rate_final", "firing", "window",
                    "hourly", 60000);
        {
                json_t *n = json_object_get(a, "annotations");
                char hs[RED_TIME_FMT_SIZE];

                red_time_format(hour - 3 * RED_TIME_US_PER_HOUR, hs,
                                sizeof(hs));
                ck_assert_str_eq(
                        json_string_value(json_object_get(
                                json_object_get(a, "labels"), "severity")),
                        "WARNING");
                ck_assert_str_eq(json_string_value(json_object_get(n, "value")),
                                 "40");
                ck_assert_str_eq(
                        json_string_value(json_object_get(n, "window_start")),
                        hs);
                ck_assert_int_eq(test_time(json_string_value(
                                         json_object_get(a, "startsAt"))),
                                 hour - 2 * RED_TIME_US_PER_HOUR);
        }

        /* 2. the hour's workflow success rate under 80 %, then over it */
        red_time_format(hour + 1000000, hour_ts, sizeof(hour_ts));
        red_time_format(hour + 2000000, later_ts, sizeof(later_ts));
        produce(&t, "dev.agent.metrics.workflow.v1", "workflow_success_rate",
                50, "agent-1", hour_ts, 10);
        a = wait_am("workflow_success_rate_hourly", "firing", "window",
                    "hourly", 60000);
        {
                json_t *l = json_object_get(a, "labels");
                json_t *n = json_object_get(a, "annotations");
                char hs[RED_TIME_FMT_SIZE];

                red_time_format(hour, hs, sizeof(hs));
                ck_assert_str_eq(
                        json_string_value(json_object_get(l, "severity")),
                        "CRITICAL");
                ck_assert_str_eq(
                        json_string_value(json_object_get(l, "grouping")),
                        "per_metric");
                ck_assert_str_eq(
                        json_string_value(json_object_get(l, "metric_name")),
                        "workflow_success_rate");
                ck_assert_str_eq(json_string_value(json_object_get(n, "value")),
                                 "50");
                ck_assert_str_eq(
                        json_string_value(json_object_get(n, "window_start")),
                        hs);
                /* it fired at the event time of the batch's events */
                ck_assert_int_eq(test_time(json_string_value(
                                         json_object_get(a, "startsAt"))),
                                 hour + 1000000);
        }
        produce(&t, "dev.agent.metrics.workflow.v1", "workflow_success_rate",
                100, "agent-1", later_ts, 30);
        a = wait_am("workflow_success_rate_hourly", "resolved", "window",
                    "hourly", 60000);
        ck_assert_int_eq(
                test_time(json_string_value(json_object_get(a, "startsAt"))),
                hour + 1000000);
        ck_assert_int_eq(
                test_time(json_string_value(json_object_get(a, "endsAt"))),
                hour + 2000000);
        /* resolved by the batch that lifted the average over 80 */
        ck_assert_double_ge(
                atof(json_string_value(json_object_get(
                        json_object_get(a, "annotations"), "value"))),
                80);

        /* 3. Alertmanager down for 30 s: the alerts wait in Postgres */
        am_stop();
        produce(&t, ROUTING, "routing_decision_time_ms", 150, "agent-8", now_ts,
                1);
        produce(&t, ROUTING, "routing_decision_time_ms", 170, "agent-6", now_ts,
                1);
        {
                outbox_wait_t w = {c, "rule_id = 'routing_decision_critical' "
                                      "AND labels->>'agent_id' = 'agent-8' "
                                      "AND attempts > 0"};
                outbox_wait_t w6 = {c, "rule_id = 'routing_decision_critical' "
                                       "AND labels->>'agent_id' = 'agent-6' "
                                       "AND attempts > 0"};
                ck_assert(test_wait_for(outbox_nonempty, &w, 30000));
                ck_assert(test_wait_for(outbox_nonempty, &w6, 30000));
        }
        t0 = test_now_ms();
        while (test_now_ms() - t0 < 30000) {
                /* the outage the acceptance asks for, not a wait for a
                 * result: the alert must still be in the table after it */
                usleep(200000);
        }
        ck_assert_int_eq(outbox_rows(c,
                                     "labels->>'agent_id' IN ('agent-8', "
                                     "'agent-6') AND "
                                     "rule_id = 'routing_decision_critical'"),
                         2);
        am_start(&t, am_port, hook_port);
        wait_am("routing_decision_critical", "firing", "agent_id", "agent-8",
                60000);
        a = wait_am("routing_decision_critical", "firing", "agent_id",
                    "agent-6", 60000);
        ck_assert_str_eq(json_string_value(json_object_get(
                                 json_object_get(a, "annotations"), "value")),
                         "170");

        /* 4. killed between the commit and the delivery */
        {
                outbox_wait_t w = {c, "true"};
                ck_assert(test_wait_for(outbox_empty, &w, 30000));
        }
        assert_alert_metrics(itest_http_port(&t, 1));
        ck_assert_int_eq(itest_stop(pid, SIGTERM, 30000), 0);
        pid = itest_start(&t, fail_env, 2);
        produce(&t, ROUTING, "routing_decision_time_ms", 150, "agent-9", now_ts,
                1);
        status = itest_stop(pid, 0, 60000);
        ck_assert_int_eq(status, 128 + SIGKILL);
        ck_assert_int_eq(outbox_rows(c,
                                     "labels->>'agent_id' = 'agent-9' AND "
                                     "rule_id = 'routing_decision_critical'"),
                         1);
        d.agent = "agent-9";
        direct_count(&d);
        ck_assert_int_eq(d.ok, 0);
        pid = itest_start(&t, NULL, 3);
        wait_am("routing_decision_critical", "firing", "agent_id", "agent-9",
                60000);
        ck_assert(test_wait_for(direct_count, &d, 30000));

        /* 5. the webhook fails once: retried, delivered once */
        pthread_mutex_lock(&lock);
        fail_direct = 1;
        pthread_mutex_unlock(&lock);
        produce(&t, ROUTING, "routing_decision_time_ms", 150, "agent-5", now_ts,
                1);
        d.agent = "agent-5";
        ck_assert(test_wait_for(direct_count, &d, 30000));
        ck_assert_int_eq(d.failed, 1);
        ck_assert_int_eq(d.ok, 1);
        assert_signed(d.last_ok);
        /* taken by both destinations: out of the table, and nothing is
         * sent again once it is: one success in all */
        {
                outbox_wait_t w = {c, "true"};
                ck_assert(test_wait_for(outbox_empty, &w, 30000));
        }
        direct_count(&d);
        ck_assert_int_eq(d.failed, 1);
        ck_assert_int_eq(d.ok, 1);

        ck_assert_int_eq(itest_stop(pid, SIGTERM, 30000), 0);
        am_stop();
        MHD_stop_daemon(hooks);
        PQfinish(c);
        json_decref(requests);
        json_decref(am_alerts);
        itest_fini(&t);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("alerts");

        test_add_case(s, "alerts_reach_people", alerts_reach_people, 600);
        return test_main(s);
}
