/* red_daemon - service start-up, the supervising main loop and shutdown. */
#include "red_daemon.h"

#include "red_cli.h"
#include "red_config.h"
#include "red_contract.h"
#include "red_failpoint.h"
#include "red_kafka_mock.h"
#include "red_log.h"
#include "red_maintain.h"
#include "red_migrate.h"
#include "red_pg.h"
#include "red_pipeline.h"
#include "red_relay.h"
#include "red_time.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;

static void on_stop(int sig)
{
        if (stop_requested) {
                /* second signal: leave at once */
                _exit(128 + sig);
        }
        stop_requested = sig;
}

static void on_hup(int sig)
{
        (void)sig;
        reload_requested = 1;
}

static void install_signals(void)
{
        struct sigaction sa;

        memset(&sa, 0, sizeof(sa));
        sigemptyset(&sa.sa_mask);
        sa.sa_handler = on_stop;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sa.sa_handler = on_hup;
        sigaction(SIGHUP, &sa, NULL);
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, NULL);
}

/* Topics the embedded cluster must have: inputs, dead letters, outputs. */
static int create_topics(red_kafka_mock_t *km, const red_contract_set_t *set,
                         int partitions, char *errstr, size_t size)
{
        for (size_t i = 0; i < set->cnt; i++) {
                const red_contract_t *c = set->items[i];

                for (size_t t = 0; t < c->input_cnt; t++) {
                        if (red_kafka_mock_topic(km, c->inputs[t].topic,
                                                 partitions, errstr, size)) {
                                return -1;
                        }
                }
                if (red_kafka_mock_topic(km, c->dead_letter_topic, partitions,
                                         errstr, size)) {
                        return -1;
                }
                for (size_t a = 0; a < c->agg_cnt; a++) {
                        if (c->aggs[a].publish.topic &&
                            red_kafka_mock_topic(km, c->aggs[a].publish.topic,
                                                 1, errstr, size)) {
                                return -1;
                        }
                }
                if (c->fsm && c->fsm->publish.topic &&
                    red_kafka_mock_topic(km, c->fsm->publish.topic, partitions,
                                         errstr, size)) {
                        return -1;
                }
        }
        return 0;
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

/* The database must be reachable and migrated before anything starts. */
static int check_database(const red_config_t *conf)
{
        char err[1024], where[256];
        size_t want;
        PGconn *conn = red_pg_connect(conf->postgres_conninfo, err,
                                      sizeof(err));
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
                red_log_error("daemon",
                              "database %s is not migrated (%s); run "
                              "reducerd migrate",
                              where, PQresultErrorField(res,
                                                        PG_DIAG_MESSAGE_PRIMARY));
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
        PGconn *conn = red_pg_connect(conf->postgres_conninfo, err,
                                      sizeof(err));

        if (!conn) {
                red_log_warn("maintain", "%s", err);
                return;
        }
        if (red_maintain_run(conn, set, (int)conf->maintain_days_ahead,
                             red_time_now(), &res, err, sizeof(err))) {
                red_log_warn("maintain", "%s", err);
        } else if (res.created || res.dropped || res.workflows_deleted) {
                red_log_info("maintain",
                             "partitions created %d, dropped %d; %ld old "
                             "workflows deleted",
                             res.created, res.dropped, res.workflows_deleted);
        }
        PQfinish(conn);
}

int red_daemon_run(const red_daemon_opts_t *opts)
{
        red_config_t *conf;
        red_contract_set_t set = {0};
        red_kafka_mock_t *km = NULL;
        red_pipeline_t **pipes = NULL;
        red_relay_t *relay = NULL;
        const char *brokers;
        char err[2048], version[256];
        int64_t last_maintain = 0;
        int rc = 1;

        if (!(conf = red_config_load(opts->config_path, err, sizeof(err)))) {
                fprintf(stderr, "%s\n", err);
                return 1;
        }
        red_log_setup((red_log_level_t)conf->log_level, conf->log_json);
        red_cli_version_string(version, sizeof(version));
        red_log_info("daemon", "%s starting as %s (config %s)", version,
                     conf->instance_id,
                     conf->path ? conf->path : "embedded defaults");
        red_failpoint_init();
        install_signals();
        if (red_contract_set_load(&set, conf, err, sizeof(err))) {
                red_log_error("daemon", "%s", err);
                goto done;
        }
        for (size_t i = 0; i < set.cnt; i++) {
                red_log_info("daemon", "contract %s %s from %s (group %s)",
                             set.items[i]->name, set.items[i]->version,
                             set.items[i]->path, set.items[i]->consumer_group);
        }
        brokers = conf->kafka_brokers;
        if (red_config_kafka_embedded(conf)) {
                if (!(km = red_kafka_mock_new((int)conf->kafka_embedded_brokers,
                                              err, sizeof(err))) ||
                    create_topics(km, &set, (int)conf->kafka_embedded_partitions,
                                  err, sizeof(err))) {
                        red_log_error("daemon", "%s", err);
                        goto done;
                }
                brokers = red_kafka_mock_bootstraps(km);
                red_log_info("daemon",
                             "embedded Kafka (librdkafka mock cluster) "
                             "listening; bootstrap servers: %s",
                             brokers);
                if (opts->bootstrap_file &&
                    write_bootstrap_file(opts->bootstrap_file, brokers)) {
                        goto done;
                }
        }
        if (check_database(conf)) {
                goto done;
        }
        maintain(conf, &set);
        last_maintain = red_time_mono_us();
        if (!(relay = red_relay_new(conf, brokers, err, sizeof(err))) ||
            red_relay_start(relay, err, sizeof(err))) {
                red_log_error("daemon", "%s", err);
                goto done;
        }
        pipes = calloc(set.cnt, sizeof(*pipes));
        for (size_t i = 0; pipes && i < set.cnt; i++) {
                pipes[i] = red_pipeline_new(set.items[i], conf, brokers, err,
                                            sizeof(err));
                if (!pipes[i] || red_pipeline_start(pipes[i], err,
                                                    sizeof(err))) {
                        red_log_error("daemon", "%s: %s", set.items[i]->name,
                                      err);
                        goto done;
                }
        }
        red_log_info("daemon", "running %zu pipeline%s", set.cnt,
                     set.cnt == 1 ? "" : "s");

        while (!stop_requested) {
                struct timespec ts = {0, 100 * 1000000};

                nanosleep(&ts, NULL);
                if (reload_requested) {
                        reload_requested = 0;
                        red_log_warn("daemon",
                                     "SIGHUP: reloading is handled by "
                                     "restarting the pipelines (not yet "
                                     "wired)");
                }
                if (red_time_mono_us() - last_maintain >
                    conf->maintain_interval_s * RED_TIME_US_PER_SEC) {
                        maintain(conf, &set);
                        last_maintain = red_time_mono_us();
                }
        }
        red_log_info("daemon", "signal %d: finishing the current batches",
                     (int)stop_requested);
        rc = 0;
done:
        for (size_t i = 0; pipes && i < set.cnt; i++) {
                if (pipes[i]) {
                        red_pipeline_stop(pipes[i]);
                }
        }
        for (size_t i = 0; pipes && i < set.cnt; i++) {
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
        red_kafka_mock_destroy(km);
        red_contract_set_destroy(&set);
        red_log_info("daemon", "stopped");
        red_config_destroy(conf);
        return rc;
}
