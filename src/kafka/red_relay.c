/* red_relay - the transactional outbox relay: Postgres rows to Kafka, at least
 * once. */
#include "red_relay.h"

#include "red_buf.h"
#include "red_failpoint.h"
#include "red_log.h"
#include "red_pg.h"
#include "red_kafka_conf.h"
#include "red_time.h"

#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* pg_try_advisory_xact_lock key: "redurely" */
#define RELAY_LOCK_KEY "7310597925069219705"
#define RELAY_BATCH    5000

struct red_relay_s {
        const red_config_t *conf;
        rd_kafka_t *rk;
        PGconn *conn;
        pthread_t thread;
        bool started;
        atomic_bool stop;
        atomic_long pending;
        char *delivered; /* per row of the pass: 1 when acknowledged */
        pthread_mutex_t lock;
        red_relay_stats_t stats;
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m,
                        void *opaque)
{
        red_relay_t *r = opaque;
        size_t idx = (size_t)(uintptr_t)m->_private;

        (void)rk;
        if (!m->err) {
                r->delivered[idx] = 1;
        } else {
                red_log_error("relay", "publish to %s failed: %s",
                              rd_kafka_topic_name(m->rkt),
                              rd_kafka_err2str(m->err));
                pthread_mutex_lock(&r->lock);
                r->stats.publish_errors++;
                pthread_mutex_unlock(&r->lock);
        }
        atomic_fetch_sub(&r->pending, 1);
}

red_relay_t *red_relay_new(const red_config_t *conf, const char *brokers,
                           char *errstr, size_t errstr_size)
{
        red_relay_t *r = calloc(1, sizeof(*r));
        rd_kafka_conf_t *kc;
        char err[512], id[300];

        if (!r || !(r->delivered = calloc(RELAY_BATCH, 1))) {
                free(r);
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        pthread_mutex_init(&r->lock, NULL);
        r->conf = conf;
        r->stats.depth = -1;
        snprintf(id, sizeof(id), "reducerd-relay-%s", conf->instance_id);
        if (!(kc = red_kafka_conf_producer(conf, brokers, id, err,
                                           sizeof(err)))) {
                goto err;
        }
        rd_kafka_conf_set_opaque(kc, r);
        rd_kafka_conf_set_dr_msg_cb(kc, on_delivery);
        if (!(r->rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, err, sizeof(err)))) {
                rd_kafka_conf_destroy(kc);
                goto err;
        }
        return r;
err:
        snprintf(errstr, errstr_size, "relay producer: %s", err);
        red_relay_destroy(r);
        return NULL;
}

void red_relay_destroy(red_relay_t *r)
{
        if (!r) {
                return;
        }
        if (r->rk) {
                rd_kafka_flush(r->rk, 5000);
                rd_kafka_destroy(r->rk);
        }
        if (r->conn) {
                PQfinish(r->conn);
        }
        free(r->delivered);
        pthread_mutex_destroy(&r->lock);
        free(r);
}

void red_relay_stats(red_relay_t *r, red_relay_stats_t *out)
{
        pthread_mutex_lock(&r->lock);
        *out = r->stats;
        pthread_mutex_unlock(&r->lock);
}

static bool connect_pg(red_relay_t *r)
{
        char err[1024];

        if (r->conn && PQstatus(r->conn) == CONNECTION_OK) {
                return true;
        }
        if (r->conn) {
                PQfinish(r->conn);
        }
        r->conn = red_pg_connect(r->conf->postgres_conninfo, err, sizeof(err));
        if (!r->conn) {
                red_log_warn("relay", "%s", err);
                return false;
        }
        if (red_pg_exec(r->conn, "LISTEN reducerd_outbox", err, sizeof(err))) {
                red_log_warn("relay", "LISTEN: %s", err);
                PQfinish(r->conn);
                r->conn = NULL;
                return false;
        }
        return true;
}

/* Waits for a NOTIFY (or @p ms) without holding a transaction. */
static void wait_notify(red_relay_t *r, int ms)
{
        struct pollfd pfd;
        PGnotify *n;

        if (!r->conn || PQsocket(r->conn) < 0) {
                struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
                nanosleep(&ts, NULL);
                return;
        }
        pfd.fd = PQsocket(r->conn);
        pfd.events = POLLIN;
        if (poll(&pfd, 1, ms) > 0) {
                PQconsumeInput(r->conn);
        }
        while ((n = PQnotifies(r->conn))) {
                PQfreemem(n);
        }
}

/* One pass: returns the number of rows published, -1 on error, -2 when
 * another replica relays. */
static long pass(red_relay_t *r)
{
        PGresult *res = NULL, *del;
        red_buf_t ids;
        char err[1024];
        const char *vals[1];
        long done = 0;
        int rows;

        if (red_pg_exec(r->conn, "BEGIN", err, sizeof(err))) {
                return -1;
        }
        res = PQexec(r->conn,
                     "SELECT pg_try_advisory_xact_lock(" RELAY_LOCK_KEY ")");
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                goto fail;
        }
        if (PQgetvalue(res, 0, 0)[0] != 't') {
                PQclear(res);
                if (red_pg_exec(r->conn, "COMMIT", err, sizeof(err))) {
                        return -1;
                }
                pthread_mutex_lock(&r->lock);
                r->stats.active = false;
                pthread_mutex_unlock(&r->lock);
                return -2;
        }
        PQclear(res);
        res = PQexec(r->conn, "SELECT id, topic, key, payload FROM "
                              "reducerd_outbox ORDER BY id LIMIT 5000");
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                goto fail;
        }
        rows = PQntuples(res);
        memset(r->delivered, 0, RELAY_BATCH);
        for (int i = 0; i < rows; i++) {
                rd_kafka_resp_err_t e;
                const char *key =
                        PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2);

                atomic_fetch_add(&r->pending, 1);
                do {
                        e = rd_kafka_producev(
                                r->rk, RD_KAFKA_V_TOPIC(PQgetvalue(res, i, 1)),
                                RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
                                RD_KAFKA_V_VALUE(
                                        PQgetvalue(res, i, 3),
                                        (size_t)PQgetlength(res, i, 3)),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_OPAQUE((void *)(uintptr_t)i),
                                RD_KAFKA_V_END);
                        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                                rd_kafka_poll(r->rk, 50);
                        }
                } while (e == RD_KAFKA_RESP_ERR__QUEUE_FULL);
                if (e) {
                        atomic_fetch_sub(&r->pending, 1);
                        red_log_error("relay", "produce: %s",
                                      rd_kafka_err2str(e));
                        break;
                }
                if (i == rows / 2) {
                        red_failpoint("during_publish");
                }
        }
        rd_kafka_flush(r->rk, 30000);
        red_buf_init(&ids);
        red_buf_putc(&ids, '{');
        for (int i = 0; i < rows; i++) {
                if (r->delivered[i]) {
                        if (done++) {
                                red_buf_putc(&ids, ',');
                        }
                        red_buf_puts(&ids, PQgetvalue(res, i, 0));
                }
        }
        red_buf_putc(&ids, '}');
        vals[0] = ids.data;
        del = PQexecParams(r->conn,
                           "DELETE FROM reducerd_outbox WHERE id = "
                           "ANY($1::bigint[])",
                           1, NULL, vals, NULL, NULL, 0);
        red_buf_destroy(&ids);
        if (PQresultStatus(del) != PGRES_COMMAND_OK) {
                PQclear(del);
                goto fail;
        }
        PQclear(del);
        /* the depth: the rows after this pass's last (an index range that
         * skips the rows just deleted, which a plain count(*) would wade
         * through until vacuum: 30 ms a pass behind a registration
         * storm), plus this pass's rows not delivered */
        {
                PGresult *cnt;
                const char *last[1] = {rows ? PQgetvalue(res, rows - 1, 0)
                                            : "-1"};
                cnt = PQexecParams(r->conn,
                                   "SELECT count(*) FROM reducerd_outbox "
                                   "WHERE id > $1::bigint",
                                   1, NULL, last, NULL, NULL, 0);
                if (PQresultStatus(cnt) == PGRES_TUPLES_OK) {
                        pthread_mutex_lock(&r->lock);
                        r->stats.depth = atol(PQgetvalue(cnt, 0, 0)) +
                                         (long)(rows - done);
                        pthread_mutex_unlock(&r->lock);
                }
                PQclear(cnt);
        }
        PQclear(res);
        if (red_pg_exec(r->conn, "COMMIT", err, sizeof(err))) {
                red_log_warn("relay", "commit: %s", err);
                return -1;
        }
        pthread_mutex_lock(&r->lock);
        r->stats.published += (uint64_t)done;
        r->stats.active = true;
        pthread_mutex_unlock(&r->lock);
        return done < rows ? -1 : done;
fail:
        red_pg_error(r->conn, res, err, sizeof(err));
        red_log_warn("relay", "%s", err);
        PQclear(res);
        if (red_pg_exec(r->conn, "ROLLBACK", err, sizeof(err))) {
                /* connection gone */
        }
        return -1;
}

static void *run(void *arg)
{
        red_relay_t *r = arg;
        int idle_ms = 100;

        while (!atomic_load(&r->stop)) {
                long n;

                if (!connect_pg(r)) {
                        wait_notify(r, 1000);
                        continue;
                }
                n = pass(r);
                if (n > 0) {
                        idle_ms = 100;
                        continue; /* more may be waiting */
                }
                if (n == -1) {
                        idle_ms = idle_ms < 5000 ? idle_ms * 2 : 5000;
                } else if (n == -2) {
                        idle_ms = 1000; /* another replica relays */
                } else {
                        idle_ms = 1000;
                }
                wait_notify(r, idle_ms);
        }
        /* a last pass so a graceful stop leaves little behind */
        if (connect_pg(r)) {
                for (int i = 0; i < 20 && pass(r) > 0; i++) {
                }
        }
        return NULL;
}

int red_relay_start(red_relay_t *r, char *errstr, size_t errstr_size)
{
        int e = pthread_create(&r->thread, NULL, run, r);

        if (e) {
                snprintf(errstr, errstr_size, "pthread_create: %s",
                         strerror(e));
                return -1;
        }
        r->started = true;
        return 0;
}

void red_relay_stop(red_relay_t *r)
{
        atomic_store(&r->stop, true);
}

void red_relay_join(red_relay_t *r)
{
        if (r->started) {
                pthread_join(r->thread, NULL);
                r->started = false;
        }
}
