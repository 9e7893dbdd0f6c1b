/* red_daemon - service start-up, the supervising main loop and shutdown. */
#include "red_daemon.h"

#include "red_api.h"
#include "red_appconf.h"
#include "red_signals.h"

#include "red_kafka_conf.h"
#include "red_version.h"
#include "red_config.h"
#include "red_contract.h"
#include "red_failpoint.h"
#include "red_http.h"
#include "red_kafka_mock.h"
#include "red_log.h"
#include "red_maintain.h"
#include "red_metrics.h"
#include "red_migrate.h"
#include "red_pg.h"
#include "red_pipeline.h"
#include "red_redact.h"
#include "red_deliver.h"
#include "red_etcd_mirror.h"
#include "red_nodes.h"
#include "red_relay.h"
#include "red_schema.h"
#include "red_serve.h"
#include "red_time.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* How long the embedded Kafka may take to serve its first client. */
#define EMBEDDED_READY_MS 30000

/* Clients holding idle HTTP connections, many partitions and brokers all
 * take descriptors: use what the hard limit allows, as servers commonly
 * do (the HTTP server sizes its capacity from the result). */
static void raise_fd_limit(void)
{
        struct rlimit rl;
        rlim_t was;

        if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= rl.rlim_max) {
                return;
        }
        was = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl)) {
                red_log_warn("daemon",
                             "cannot raise the open-files limit "
                             "from %llu: %s",
                             (unsigned long long)was, strerror(errno));
                return;
        }
        red_log_debug("daemon", "open-files limit raised from %llu to %llu",
                      (unsigned long long)was, (unsigned long long)rl.rlim_cur);
}

/* Topics the embedded cluster must have: inputs, dead letters, outputs;
 * created at once (see red_kafka_mock_topics). */
static int create_topics(red_kafka_mock_t *km, const red_contract_set_t *set,
                         int partitions, char *errstr, size_t size)
{
        red_kafka_mock_topic_t *topics;
        size_t cnt = 0, max = 0;
        int r;

        for (size_t i = 0; i < set->cnt; i++) {
                max += set->items[i]->input_cnt + set->items[i]->agg_cnt + 3 +
                       4 * set->items[i]->state_cnt;
        }
        if (!(topics = calloc(max + 1, sizeof(*topics)))) {
                snprintf(errstr, size, "out of memory");
                return -1;
        }
        for (size_t i = 0; i < set->cnt; i++) {
                const red_contract_t *c = set->items[i];

                for (size_t t = 0; t < c->input_cnt; t++) {
                        topics[cnt++] = (red_kafka_mock_topic_t){
                                c->inputs[t].topic, partitions};
                }
                topics[cnt++] = (red_kafka_mock_topic_t){c->dead_letter_topic,
                                                         partitions};
                for (size_t a = 0; a < c->agg_cnt; a++) {
                        if (c->aggs[a].publish.topic) {
                                topics[cnt++] = (red_kafka_mock_topic_t){
                                        c->aggs[a].publish.topic, 1};
                        }
                }
                if (c->alerts && c->alerts->publish.topic) {
                        topics[cnt++] = (red_kafka_mock_topic_t){
                                c->alerts->publish.topic, partitions};
                }
                if (c->fsm && c->fsm->publish.topic) {
                        topics[cnt++] = (red_kafka_mock_topic_t){
                                c->fsm->publish.topic, partitions};
                }
                for (size_t k = 0; k < c->state_cnt; k++) {
                        const red_state_t *st = &c->states[k];
                        const red_publish_t *pubs[] = {
                                &st->on_created, &st->on_deleted,
                                &st->on_status, &st->on_start};
                        for (int p = 0; p < 4; p++) {
                                if (pubs[p]->topic) {
                                        topics[cnt++] =
                                                (red_kafka_mock_topic_t){
                                                        pubs[p]->topic,
                                                        partitions};
                                }
                        }
                }
        }
        r = red_kafka_mock_topics(km, topics, cnt, errstr, size);
        free(topics);
        return r;
}

static int write_bootstrap_file(const char *path, const char *bootstrap)
{
        char tmp[4096];
        FILE *fp;

        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        if (!(fp = fopen(tmp, "w")) || fprintf(fp, "%s\n", bootstrap) < 0 ||
            fclose(fp) || rename(tmp, path)) {
                red_log_error("daemon", "cannot write %s: %s", path,
                              strerror(errno));
                return -1;
        }
        return 0;
}

/* Whether every contract of @p set is the one its tables were built for
 * (red_schema_live()): a new version whose generation is still being
 * built must not write. 0, or -1 with the first reason in @p err. An
 * unreachable database is not a reason here (the pipelines wait for it
 * and check again when they connect). */
static int check_contracts(const red_config_t *conf,
                           const red_contract_set_t *set, char *err,
                           size_t size)
{
        PGconn *conn = red_pg_connect(conf->postgres_conninfo, err, size);
        int gen, r = 0;

        if (!conn) {
                red_log_warn("daemon", "%s", err);
                return 0;
        }
        for (size_t i = 0; !r && i < set->cnt; i++) {
                r = red_schema_live(conn, set->items[i], &gen, err, size);
        }
        PQfinish(conn);
        return r;
}

/* The database must be reachable and migrated before anything starts. */
static int check_database(const red_config_t *conf)
{
        char err[1024], where[256];
        size_t want;
        PGconn *conn =
                red_pg_connect(conf->postgres_conninfo, err, sizeof(err));
        PGresult *res;
        int r = -1;

        red_migrate_builtin(&want);
        if (!conn) {
                red_log_error("daemon", "%s", err);
                return -1;
        }
        red_pg_describe(conn, where, sizeof(where));
        res = PQexec(conn, "SELECT count(*) FROM reducerd_schema_migrations");
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                const char *msg =
                        PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
                char reason[512];

                msg = msg ? msg : PQerrorMessage(conn);
                red_redact(reason, sizeof(reason), msg, strcspn(msg, "\n"),
                           conf->postgres_conninfo, PQpass(conn));
                red_log_error("daemon",
                              "database %s is not migrated (%s); run "
                              "reducerd migrate",
                              where, reason);
        } else if ((size_t)atol(PQgetvalue(res, 0, 0)) < want) {
                red_log_error("daemon",
                              "database %s has %s of %zu migrations; run "
                              "reducerd migrate",
                              where, PQgetvalue(res, 0, 0), want);
        } else {
                red_log_info("daemon", "PostgreSQL %s: schema up to date",
                             where);
                r = 0;
        }
        PQclear(res);
        PQfinish(conn);
        return r;
}

static void maintain(const red_config_t *conf, const red_contract_set_t *set)
{
        char err[1024];
        red_maintain_result_t res;
        PGconn *conn =
                red_pg_connect(conf->postgres_conninfo, err, sizeof(err));

        if (!conn) {
                red_log_warn("maintain", "%s", err);
                return;
        }
        if (red_maintain_run(conn, set, (int)conf->maintain_days_ahead,
                             red_time_now(), &res, err, sizeof(err))) {
                red_log_warn("maintain", "%s", err);
        } else if (res.created || res.dropped || res.cells_deleted ||
                   res.workflows_deleted) {
                red_log_info("maintain",
                             "partitions created %d, dropped %d; %ld cells "
                             "past their window's retention and %ld old "
                             "workflows deleted",
                             res.created, res.dropped, res.cells_deleted,
                             res.workflows_deleted);
        }
        PQfinish(conn);
}

/* What runs: swapped as a whole on reload, read by the HTTP thread. */
typedef struct daemon_s {
        pthread_mutex_t lock;
        red_config_t *conf;
        red_contract_set_t set;
        red_pipeline_t **pipes;
        size_t pipe_cnt;
        red_relay_t *relay;
        red_deliver_t *deliver;    /* alert delivery, or NULL: no destination */
        red_etcd_mirror_t *mirror; /* the registry in etcd, or NULL */
        red_kafka_mock_t *km;
        const char *brokers;
        red_api_t *api; /* the read API (http.api), or NULL */
        /* guards api for /metrics, which reads the registry's counts
         * from PostgreSQL: not under lock, so that probes never wait */
        pthread_mutex_t api_lock;
} daemon_t;

static void on_metrics(void *opaque, red_buf_t *out)
{
        daemon_t *d = opaque;

        pthread_mutex_lock(&d->lock);
        red_metrics_render(out, d->pipes, d->pipe_cnt, d->relay, d->deliver);
        red_etcd_mirror_metrics(d->mirror, out);
        pthread_mutex_unlock(&d->lock);
        pthread_mutex_lock(&d->api_lock);
        red_api_registry_metrics(d->api, out);
        pthread_mutex_unlock(&d->api_lock);
}

static bool on_ready(void *opaque, char *reason, size_t size)
{
        daemon_t *d = opaque;
        bool ok = d->pipe_cnt > 0;

        snprintf(reason, size, "%s", ok ? "" : "starting");
        pthread_mutex_lock(&d->lock);
        for (size_t i = 0; ok && i < d->pipe_cnt; i++) {
                red_pipeline_stats_t st;
                const char *name = red_pipeline_contract(d->pipes[i])->name;

                red_pipeline_stats(d->pipes[i], &st);
                if (!st.pg_up) {
                        snprintf(reason, size, "%s: PostgreSQL unreachable",
                                 name);
                        ok = false;
                } else if (!st.kafka_up) {
                        snprintf(reason, size, "%s: Kafka unreachable", name);
                        ok = false;
                } else if (!st.joined) {
                        snprintf(reason, size,
                                 "%s: no assignment from the consumer group "
                                 "yet",
                                 name);
                        ok = false;
                } else if (st.partitions_stopped) {
                        snprintf(reason, size,
                                 "%s: %zu partition%s not consumed after an "
                                 "offset gap (%s%s; kafka.offset_gap_policy "
                                 "fail)",
                                 name, st.partitions_stopped,
                                 st.partitions_stopped == 1 ? "" : "s",
                                 st.stopped_partition,
                                 st.partitions_stopped > 1 ? ", ..." : "");
                        ok = false;
                }
        }
        pthread_mutex_unlock(&d->lock);
        return ok;
}

static void stop_workers(daemon_t *d)
{
        red_pipeline_t **pipes;
        size_t cnt;
        red_relay_t *relay;
        red_deliver_t *deliver;
        red_etcd_mirror_t *mirror;

        pthread_mutex_lock(&d->lock);
        pipes = d->pipes;
        cnt = d->pipe_cnt;
        relay = d->relay;
        deliver = d->deliver;
        mirror = d->mirror;
        d->pipes = NULL;
        d->pipe_cnt = 0;
        d->relay = NULL;
        d->deliver = NULL;
        d->mirror = NULL;
        pthread_mutex_unlock(&d->lock);
        if (mirror) {
                red_etcd_mirror_stop(mirror);
        }
        for (size_t i = 0; i < cnt; i++) {
                if (pipes[i]) {
                        red_pipeline_stop(pipes[i]);
                }
        }
        for (size_t i = 0; i < cnt; i++) {
                if (pipes[i]) {
                        red_pipeline_join(pipes[i]);
                        red_pipeline_destroy(pipes[i]);
                }
        }
        free(pipes);
        if (relay) {
                red_relay_stop(relay);
                red_relay_join(relay);
                red_relay_destroy(relay);
        }
        if (deliver) {
                red_deliver_stop(deliver);
                red_deliver_join(deliver);
                red_deliver_destroy(deliver);
        }
        if (mirror) {
                red_etcd_mirror_join(mirror);
                red_etcd_mirror_destroy(mirror);
        }
}

/* The registry's etcd mirror, when registry.etcd.endpoints is set and a
 * contract has the registry: started, or NULL (none, or a failure logged:
 * the registry works without its mirror). */
static red_etcd_mirror_t *start_mirror(daemon_t *d)
{
        const red_state_t *st;
        red_etcd_mirror_t *m;
        char err[1024];

        if (!d->conf->registry_etcd_endpoints.cnt) {
                return NULL;
        }
        if (!(st = red_nodes_find((const red_contract_t *const *)d->set.items,
                                  d->set.cnt, NULL))) {
                red_log_warn("daemon", "registry.etcd.endpoints is set but "
                                       "no contract has the node registry: "
                                       "no etcd mirror");
                return NULL;
        }
        if (!(m = red_etcd_mirror_new(d->conf, st, err, sizeof(err))) ||
            red_etcd_mirror_start(m, err, sizeof(err))) {
                red_log_error("daemon", "etcd mirror: %s", err);
                red_etcd_mirror_destroy(m);
                return NULL;
        }
        red_log_info("daemon", "mirroring the node registry into etcd at %s%s",
                     d->conf->registry_etcd_endpoints.items[0],
                     d->conf->registry_etcd_endpoints.cnt > 1 ? ", ..." : "");
        return m;
}

static int start_workers(daemon_t *d, char *err, size_t size)
{
        red_pipeline_t **pipes = calloc(d->set.cnt + 1, sizeof(*pipes));
        red_relay_t *relay;
        red_deliver_t *deliver = NULL;
        size_t n = 0;

        if (!pipes) {
                snprintf(err, size, "out of memory");
                return -1;
        }
        if (!(relay = red_relay_new(d->conf, d->brokers, err, size)) ||
            red_relay_start(relay, err, size)) {
                red_relay_destroy(relay);
                free(pipes);
                return -1;
        }
        if (red_config_alert_delivery(d->conf) &&
            (!(deliver = red_deliver_new(d->conf, err, size)) ||
             red_deliver_start(deliver, err, size))) {
                red_deliver_destroy(deliver);
                red_relay_stop(relay);
                red_relay_join(relay);
                red_relay_destroy(relay);
                free(pipes);
                return -1;
        }
        if (deliver) {
                red_log_info("daemon",
                             "delivering alerts to %zu Alertmanager%s and %zu "
                             "webhook%s",
                             d->conf->alerting_alertmanager_urls.cnt,
                             d->conf->alerting_alertmanager_urls.cnt == 1 ? ""
                                                                          : "s",
                             d->conf->alerting_webhook_cnt,
                             d->conf->alerting_webhook_cnt == 1 ? "" : "s");
        }
        for (; n < d->set.cnt; n++) {
                char perr[1024];
                pipes[n] = red_pipeline_new(d->set.items[n], d->conf,
                                            d->brokers, perr, sizeof(perr));
                if (!pipes[n] ||
                    red_pipeline_start(pipes[n], perr, sizeof(perr))) {
                        snprintf(err, size, "%s: %s", d->set.items[n]->name,
                                 perr);
                        break;
                }
        }
        pthread_mutex_lock(&d->lock);
        d->pipes = pipes;
        d->pipe_cnt = n < d->set.cnt && pipes[n] ? n + 1 : n;
        d->relay = relay;
        d->deliver = deliver;
        pthread_mutex_unlock(&d->lock);
        if (n < d->set.cnt) {
                return -1;
        }
        {
                red_etcd_mirror_t *mirror = start_mirror(d);
                pthread_mutex_lock(&d->lock);
                d->mirror = mirror;
                pthread_mutex_unlock(&d->lock);
        }
        red_log_info("daemon", "running %zu pipeline%s", n, n == 1 ? "" : "s");
        return 0;
}

/* SIGHUP: a new config and new contracts, or the old ones if invalid. */
static void reload(daemon_t *d, const red_daemon_opts_t *opts)
{
        red_contract_set_t set;
        red_config_t *conf;
        char err[2048];

        red_log_info("daemon", "SIGHUP: reloading %s and the contracts",
                     opts->config_path ? opts->config_path
                                       : "the embedded defaults");
        if (!(conf = red_config_load(opts->config_path, err, sizeof(err))) ||
            red_kafka_conf_check(conf, err, sizeof(err))) {
                red_config_destroy(conf);
                red_log_error("daemon",
                              "reload refused, keeping the running "
                              "configuration: %s",
                              err);
                return;
        }
        if (red_appconf_contracts(&set, conf, err, sizeof(err))) {
                red_log_error("daemon",
                              "reload refused, keeping the running "
                              "contracts: %s",
                              err);
                red_config_destroy(conf);
                return;
        }
        if (check_contracts(conf, &set, err, sizeof(err))) {
                red_log_error("daemon",
                              "reload refused, keeping the running "
                              "contracts: %s",
                              err);
                red_contract_set_destroy(&set);
                red_config_destroy(conf);
                return;
        }
        if (strcmp(conf->kafka_brokers, d->conf->kafka_brokers) ||
            strcmp(conf->http_listen, d->conf->http_listen)) {
                red_log_warn("daemon", "kafka.brokers and http.listen take "
                                       "effect at the next start");
        }
        if (d->km &&
            create_topics(d->km, &set, (int)conf->kafka_embedded_partitions,
                          err, sizeof(err))) {
                red_log_error("daemon", "reload refused: %s", err);
                red_contract_set_destroy(&set);
                red_config_destroy(conf);
                return;
        }
        /* the batches in flight are committed; the new pipelines start
         * from the positions in Postgres: nothing lost, nothing twice */
        stop_workers(d);
        red_contract_set_destroy(&d->set);
        d->set = set;
        pthread_mutex_lock(&d->lock);
        red_config_destroy(d->conf);
        d->conf = conf;
        pthread_mutex_unlock(&d->lock);
        red_log_setup((red_log_level_t)conf->log_level, conf->log_json);
        if (d->api) {
                red_serve_reload_api(d->api, conf);
        }
        for (size_t i = 0; i < d->set.cnt; i++) {
                red_log_info("daemon", "contract %s %s from %s",
                             d->set.items[i]->name, d->set.items[i]->version,
                             d->set.items[i]->path);
        }
        if (start_workers(d, err, sizeof(err))) {
                red_log_error("daemon", "after reload: %s", err);
        }
}

int red_daemon_run(const red_daemon_opts_t *opts)
{
        daemon_t d;
        red_http_t *http = NULL;
        red_api_t *api = NULL;
        char err[2048], version[256];
        int64_t last_maintain;
        bool wrote_bootstrap = false;
        int rc = 1;

        memset(&d, 0, sizeof(d));
        pthread_mutex_init(&d.lock, NULL);
        pthread_mutex_init(&d.api_lock, NULL);
        if (!(d.conf = red_config_load(opts->config_path, err, sizeof(err))) ||
            red_kafka_conf_check(d.conf, err, sizeof(err))) {
                fprintf(stderr, "%s\n", err);
                red_config_destroy(d.conf);
                return 1;
        }
        red_log_setup((red_log_level_t)d.conf->log_level, d.conf->log_json);
        red_version_string(version, sizeof(version));
        red_log_info("daemon", "%s starting as %s (config %s)", version,
                     d.conf->instance_id,
                     d.conf->path ? d.conf->path : "embedded defaults");
        red_failpoint_init();
        red_signals_install();
        raise_fd_limit();
        if (red_appconf_contracts(&d.set, d.conf, err, sizeof(err))) {
                red_log_error("daemon", "%s", err);
                goto done;
        }
        for (size_t i = 0; i < d.set.cnt; i++) {
                red_log_info("daemon", "contract %s %s from %s (group %s)",
                             d.set.items[i]->name, d.set.items[i]->version,
                             d.set.items[i]->path,
                             d.set.items[i]->consumer_group);
        }
        d.brokers = d.conf->kafka_brokers;
        if (red_config_kafka_embedded(d.conf)) {
                if (!(d.km = red_kafka_mock_new(
                              (int)d.conf->kafka_embedded_brokers, err,
                              sizeof(err))) ||
                    create_topics(d.km, &d.set,
                                  (int)d.conf->kafka_embedded_partitions, err,
                                  sizeof(err))) {
                        red_log_error("daemon", "%s", err);
                        goto done;
                }
                if (red_kafka_mock_wait_ready(d.km, EMBEDDED_READY_MS, err,
                                              sizeof(err))) {
                        red_log_error("daemon", "%s", err);
                        goto done;
                }
                d.brokers = strdup(red_kafka_mock_bootstraps(d.km));
                red_log_info("daemon",
                             "embedded Kafka (librdkafka mock cluster) "
                             "ready; bootstrap servers: %s",
                             d.brokers);
                red_log_info("daemon",
                             "the embedded Kafka starts empty: partitions "
                             "whose offsets in PostgreSQL come from an "
                             "earlier run are read from the new log's start "
                             "(kafka.offset_gap_policy reset)");
        } else {
                d.brokers = strdup(d.conf->kafka_brokers);
        }
        err[0] = '\0';
        if (check_database(d.conf) ||
            check_contracts(d.conf, &d.set, err, sizeof(err))) {
                if (err[0]) {
                        red_log_error("daemon", "%s", err);
                }
                goto done;
        }
        if (*d.conf->http_listen) {
                if (!(http = red_http_start(d.conf->http_listen, on_metrics,
                                            on_ready, &d, err, sizeof(err)))) {
                        red_log_error("daemon", "%s", err);
                        goto done;
                }
                red_log_info("daemon",
                             "http: /metrics /healthz /readyz on %.*s:%d",
                             (int)(strrchr(d.conf->http_listen, ':') -
                                   d.conf->http_listen),
                             d.conf->http_listen, red_http_port(http));
        }
        /* the read API: its own server, threads and connections */
        if (d.conf->http_api) {
                api = red_serve_start_api(d.conf);
                if (!api) {
                        goto done;
                }
                /* registrations go to the Kafka the pipelines read, the
                 * embedded one included */
                red_api_set_brokers(api, d.brokers);
                pthread_mutex_lock(&d.api_lock);
                d.api = api;
                pthread_mutex_unlock(&d.api_lock);
        }
        /* written once nothing at start can fail any more, so that the
         * file always names a cluster that serves (removed at exit) */
        if (d.km && opts->bootstrap_file) {
                if (write_bootstrap_file(opts->bootstrap_file, d.brokers)) {
                        goto done;
                }
                wrote_bootstrap = true;
        }
        maintain(d.conf, &d.set);
        last_maintain = red_time_mono_us();
        if (start_workers(&d, err, sizeof(err))) {
                red_log_error("daemon", "%s", err);
                goto done;
        }
        while (!red_signals_stop()) {
                struct timespec ts = {0, 100 * 1000000};

                nanosleep(&ts, NULL);
                if (red_signals_reload()) {
                        reload(&d, opts);
                }
                if (red_time_mono_us() - last_maintain >
                    d.conf->maintain_interval_s * RED_TIME_US_PER_SEC) {
                        maintain(d.conf, &d.set);
                        last_maintain = red_time_mono_us();
                }
        }
        red_log_info("daemon", "signal %d: finishing the current batches",
                     red_signals_stop());
        rc = 0;
done:
        if (wrote_bootstrap) {
                unlink(opts->bootstrap_file);
        }
        pthread_mutex_lock(&d.api_lock);
        api = d.api;
        d.api = NULL;
        pthread_mutex_unlock(&d.api_lock);
        red_api_stop(api);
        stop_workers(&d);
        red_http_stop(http);
        red_kafka_mock_destroy(d.km);
        red_contract_set_destroy(&d.set);
        red_log_info("daemon", "stopped");
        red_config_destroy(d.conf);
        free((char *)d.brokers);
        pthread_mutex_destroy(&d.lock);
        pthread_mutex_destroy(&d.api_lock);
        return rc;
}
