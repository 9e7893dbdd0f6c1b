/*
 * bench_alert - how fast a CRITICAL alert reaches people: a metric that
 * crosses a CRITICAL rule is produced into reducerd's embedded Kafka, and
 * the clock stops when the alert arrives, (a) at a webhook reducerd posts
 * to directly (the moment of its Alertmanager API call: both are posted in
 * the same pass, Alertmanager first) and (b) at the webhook receiver of a
 * real Alertmanager (Debian's prometheus-alertmanager, group_wait 0s).
 * Baseline in the same run: an alert posted straight to Alertmanager's API
 * until its receiver sees it (Alertmanager's own share). Prints p50, p99
 * and max over the alerts; the goal is p99 <= 1 s from produce to the
 * Alertmanager API call (seed 000's CRITICAL response time).
 *
 *   bench_alert [-n ALERTS] [-i INTERVAL_MS]
 *
 * Needs PostgreSQL through the PG* variables (./dev pg prints them) and
 * /usr/bin/prometheus-alertmanager. Uses a database named
 * reducerd_bench_alert, recreated each run.
 */
#include "bench_db.h"
#include "bench_proc.h"
#include "hook_server.h"
#include "red_time.h"

#include <curl/curl.h>
#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <limits.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define DB     "reducerd_bench_alert"
#define AM_BIN "/usr/bin/prometheus-alertmanager"
#define TOPIC  "dev.agent.metrics.state-ops.v1"
#define MAX_N  10000

static char workdir[] = "/tmp/reducerd-bench-alert-XXXXXX";

/* arrival times (monotonic µs) per alert number: direct, via Alertmanager,
 * and the baseline's */
static int64_t sent[MAX_N], direct_at[MAX_N], am_at[MAX_N], base_sent[MAX_N],
        base_at[MAX_N];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void die(const char *what)
{
        fprintf(stderr, "bench_alert: %s\n", what);
        exit(1);
}

/* --- the receiver ---------------------------------------------------- */

/* Every "bench-N" (alert N) and "base-N" (baseline alert N) in @p body. */
static void arrived(const char *url, const char *body)
{
        int64_t now = red_time_mono_us();
        const char *p = body;

        pthread_mutex_lock(&lock);
        /* Alertmanager writes "agent_id":"x", Postgres' jsonb text (the
         * webhook's labels) "agent_id": "x" */
        while ((p = strstr(p, "\"agent_id\":"))) {
                int n;
                p += 11;
                p += strspn(p, " ");
                if (*p++ != '"') {
                        continue;
                }
                if (sscanf(p, "bench-%d\"", &n) == 1 && n >= 0 && n < MAX_N) {
                        int64_t *at =
                                !strcmp(url, "/direct") ? direct_at : am_at;
                        if (!at[n]) {
                                at[n] = now;
                        }
                } else if (sscanf(p, "base-%d\"", &n) == 1 && n >= 0 &&
                           n < MAX_N && !base_at[n]) {
                        base_at[n] = now;
                }
        }
        pthread_mutex_unlock(&lock);
}

static unsigned on_hook(void *arg, const char *url, struct MHD_Connection *c,
                        const char *body)
{
        (void)arg;
        (void)c;
        arrived(url, body);
        return 200;
}

/* --- processes ------------------------------------------------------- */

static pid_t spawn(const char *log, char *const *argv)
{
        pid_t pid = fork();

        if (pid == 0) {
                FILE *f = freopen(log, "a", stdout);
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (!f || dup2(1, 2) < 0) {
                        _exit(127);
                }
                execv(argv[0], argv);
                _exit(127);
        }
        if (pid < 0) {
                die("fork");
        }
        return pid;
}

static void stop(pid_t pid)
{
        int st;

        if (pid > 0) {
                kill(pid, SIGTERM);
                waitpid(pid, &st, 0);
        }
}

static void write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "w");

        if (!f || fputs(text, f) < 0 || fclose(f)) {
                die(path);
        }
}

static long http_status(CURL *c, const char *url, const char *body)
{
        long code = 0;

        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
        if (body) {
                struct curl_slist *h =
                        curl_slist_append(NULL, "Content-Type: "
                                                "application/json");
                curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
                curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
                if (curl_easy_perform(c) == CURLE_OK) {
                        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
                }
                curl_slist_free_all(h);
                curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
                curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
                return code;
        }
        if (curl_easy_perform(c) == CURLE_OK) {
                curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        }
        return code;
}

static size_t discard(char *p, size_t s, size_t n, void *a)
{
        (void)p;
        (void)a;
        return s * n;
}

/* --- numbers --------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
        return x < y ? -1 : x > y;
}

/* p50, p99, max of at[i] - from[i] in ms; returns how many arrived. */
static int report(const char *what, const int64_t *from, const int64_t *at,
                  int n)
{
        int64_t *d = calloc((size_t)n, sizeof(*d));
        int k = 0;

        for (int i = 0; d && i < n; i++) {
                if (at[i] && from[i]) {
                        d[k++] = at[i] - from[i];
                }
        }
        if (!k) {
                printf("%-44s none arrived\n", what);
                free(d);
                return 0;
        }
        qsort(d, (size_t)k, sizeof(*d), cmp_i64);
        printf("%-44s p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms  (%d of %d)\n",
               what, (double)d[k / 2] / 1e3,
               (double)d[(size_t)((k - 1) * 0.99)] / 1e3,
               (double)d[k - 1] / 1e3, k, n);
        free(d);
        return k;
}

static bool all_arrived(const int64_t *at, int n)
{
        bool all = true;

        pthread_mutex_lock(&lock);
        for (int i = 0; i < n; i++) {
                all &= at[i] != 0;
        }
        pthread_mutex_unlock(&lock);
        return all;
}

static void wait_all(const int64_t *at, int n, int64_t timeout_us)
{
        int64_t end = red_time_mono_us() + timeout_us;

        while (!all_arrived(at, n) && red_time_mono_us() < end) {
                usleep(10000);
        }
}

/* --- the run ------------------------------------------------------------- */

int main(int argc, char **argv)
{
        int n = 200, interval_ms = 50, opt, hook_port, am_port, http_port;
        char path[PATH_MAX], bindir[PATH_MAX], bin[PATH_MAX],
                text[4 * PATH_MAX], url[256];
        char bootstrap[256] = "", errstr[512];
        struct MHD_Daemon *hooks;
        rd_kafka_conf_t *kc;
        rd_kafka_t *rk;
        pid_t am, red;
        PGconn *c;
        CURL *curl;
        FILE *fp;

        while ((opt = getopt(argc, argv, "n:i:")) != -1) {
                if (opt == 'n') {
                        n = atoi(optarg);
                } else if (opt == 'i') {
                        interval_ms = atoi(optarg);
                } else {
                        fprintf(stderr,
                                "usage: %s [-n ALERTS] [-i "
                                "INTERVAL_MS]\n",
                                argv[0]);
                        return 2;
                }
        }
        if (n < 1 || n > MAX_N) {
                die("-n: 1..10000");
        }
        if (access(AM_BIN, X_OK)) {
                die(AM_BIN " is missing (apt-get install prometheus-"
                           "alertmanager; ./dev installs it)");
        }
        bench_proc_dirs(argv[0], bindir, sizeof(bindir), workdir);
        snprintf(bin, sizeof(bin), "%.4000s/src/reducerd", bindir);
        curl_global_init(CURL_GLOBAL_DEFAULT);

        /* a fresh database */
        c = bench_db_connect("postgres");
        bench_db_exec(c, "DROP DATABASE IF EXISTS " DB);
        bench_db_exec(c, "CREATE DATABASE " DB);
        PQfinish(c);

        /* the receiver, Alertmanager, reducerd */
        if (!(hooks = hook_server_start(on_hook, NULL, &hook_port))) {
                die("webhook server");
        }
        am_port = bench_proc_free_port();
        http_port = bench_proc_free_port();
        snprintf(path, sizeof(path), "%s/alertmanager.yml", workdir);
        snprintf(text, sizeof(text),
                 "route:\n  receiver: bench\n  group_by: ['...']\n  "
                 "group_wait: 0s\n  group_interval: 1s\n  repeat_interval: "
                 "1h\nreceivers:\n  - name: bench\n    webhook_configs:\n"
                 "      - url: http://127.0.0.1:%d/am\n",
                 hook_port);
        write_file(path, text);
        {
                char a1[PATH_MAX + 20], a2[PATH_MAX + 20], a3[64],
                        log[PATH_MAX];
                char *av[] = {
                        AM_BIN, a1, a2, a3, "--cluster.listen-address=", NULL};
                snprintf(a1, sizeof(a1), "--config.file=%s", path);
                snprintf(a2, sizeof(a2), "--storage.path=%s/am", workdir);
                snprintf(a3, sizeof(a3), "--web.listen-address=127.0.0.1:%d",
                         am_port);
                snprintf(log, sizeof(log), "%s/alertmanager.log", workdir);
                am = spawn(log, av);
        }
        snprintf(path, sizeof(path), "%s/reducerd.yaml", workdir);
        snprintf(text, sizeof(text),
                 "kafka:\n  brokers: embedded\n  properties:\n"
                 "    partition.assignment.strategy: range,roundrobin\n"
                 "    session.timeout.ms: \"6000\"\n"
                 "postgres:\n  conninfo: \"dbname=" DB "\"\n"
                 "contracts:\n  paths: [\"%s/contracts/agent_metrics.yaml\"]\n"
                 "http:\n  listen: 127.0.0.1:%d\n"
                 "alerting:\n  alertmanager_urls: [\"http://127.0.0.1:%d\"]\n"
                 "  webhooks: {direct: \"http://127.0.0.1:%d/direct\"}\n",
                 RED_SOURCE_ROOT, http_port, am_port, hook_port);
        write_file(path, text);
        snprintf(text, sizeof(text), "%s migrate -c %s > %s/migrate.log 2>&1",
                 bin, path, workdir);
        if (system(text)) {
                die("reducerd migrate failed");
        }
        {
                char bfile[PATH_MAX], log[PATH_MAX];
                char *av[] = {bin,   "run", "-c", path, "--bootstrap-file",
                              bfile, NULL};
                snprintf(bfile, sizeof(bfile), "%s/bootstrap", workdir);
                snprintf(log, sizeof(log), "%s/reducerd.log", workdir);
                red = spawn(log, av);
                for (int i = 0; i < 300 && !bootstrap[0]; i++) {
                        usleep(100000);
                        if ((fp = fopen(bfile, "r"))) {
                                if (!fgets(bootstrap, sizeof(bootstrap), fp)) {
                                        bootstrap[0] = '\0';
                                }
                                fclose(fp);
                        }
                }
                bootstrap[strcspn(bootstrap, "\n")] = '\0';
                if (!bootstrap[0]) {
                        die("reducerd did not start its embedded Kafka");
                }
        }
        curl = curl_easy_init();
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/readyz", http_port);
        for (int i = 0; i < 600 && http_status(curl, url, NULL) != 200; i++) {
                usleep(100000);
        }
        printf("bench_alert: %d CRITICAL alerts, one every %d ms, in %s\n", n,
               interval_ms, workdir);

        /* the producer: a metric over state_lock_contention_critical's 50 ms
         * (no WARNING rule shares it), one agent per alert (its scope) */
        kc = rd_kafka_conf_new();
        if (rd_kafka_conf_set(kc, "bootstrap.servers", bootstrap, errstr,
                              sizeof(errstr)) ||
            rd_kafka_conf_set(kc, "linger.ms", "0", errstr, sizeof(errstr)) ||
            !(rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, errstr,
                                sizeof(errstr)))) {
                die(errstr);
        }
        for (int i = -1; i < n; i++) {
                char ts[RED_TIME_FMT_SIZE], msg[512];
                int len;

                red_time_format(red_time_now(), ts, sizeof(ts));
                /* -1: a warm-up alert, not counted */
                len = snprintf(msg, sizeof(msg),
                               "{\"metric_id\":\"b%d\",\"metric_name\":"
                               "\"state_lock_contention_ms\",\"metric_type\":"
                               "\"timing\",\"value\":80,\"unit\":\"ms\","
                               "\"agent_id\":\"%s%d\",\"timestamp\":\"%s\"}",
                               i, i < 0 ? "warmup-" : "bench-", i < 0 ? 0 : i,
                               ts);
                if (i >= 0) {
                        sent[i] = red_time_mono_us();
                }
                if (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(TOPIC),
                                      RD_KAFKA_V_VALUE(msg, (size_t)len),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                      RD_KAFKA_V_END)) {
                        die("produce");
                }
                rd_kafka_poll(rk, 0);
                if (i < 0) {
                        rd_kafka_flush(rk, 5000);
                        usleep(2000000);
                        continue;
                }
                usleep((useconds_t)interval_ms * 1000);
        }
        rd_kafka_flush(rk, 10000);
        wait_all(direct_at, n, 60 * 1000000LL);
        wait_all(am_at, n, 30 * 1000000LL);

        /* baseline: straight to Alertmanager's API */
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/v2/alerts",
                 am_port);
        for (int i = 0; i < n; i++) {
                char body[512];

                snprintf(body, sizeof(body),
                         "[{\"labels\":{\"alertname\":\"bench_baseline\","
                         "\"agent_id\":\"base-%d\"}}]",
                         i);
                base_sent[i] = red_time_mono_us();
                if (http_status(curl, url, body) != 200) {
                        die("posting to Alertmanager");
                }
                usleep((useconds_t)interval_ms * 1000);
        }
        wait_all(base_at, n, 30 * 1000000LL);

        report("produce -> reducerd's POST (direct webhook)", sent, direct_at,
               n);
        report("produce -> webhook behind Alertmanager", sent, am_at, n);
        report("baseline: POST to Alertmanager -> webhook", base_sent, base_at,
               n);

        rd_kafka_destroy(rk);
        curl_easy_cleanup(curl);
        stop(red);
        stop(am);
        MHD_stop_daemon(hooks);
        if (!getenv("RED_KEEP_BENCH_DIR")) {
                snprintf(text, sizeof(text), "rm -rf '%s'", workdir);
                if (system(text)) {
                        /* leave it */
                }
        }
        return 0;
}
