/* red_pipeline_impl - counters, Postgres availability, back-off. */
#include "red_pipeline_impl.h"

#include "red_log.h"
#include "red_time.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void red_pipeline_count(red_pipeline_t *p, uint64_t *counter)
{
        pthread_mutex_lock(&p->lock);
        (*counter)++;
        pthread_mutex_unlock(&p->lock);
}

void red_pipeline_set_pg_up(red_pipeline_t *p, bool up)
{
        pthread_mutex_lock(&p->lock);
        p->stats.pg_up = up;
        pthread_mutex_unlock(&p->lock);
}

bool red_pipeline_ensure_pg(red_pipeline_t *p)
{
        char err[1024];

        if (red_sink_connected(p->sink)) {
                return true;
        }
        if (red_sink_connect(p->sink, err, sizeof(err))) {
                red_log_error("postgres", "%s: %s", p->c->name, err);
                pthread_mutex_lock(&p->lock);
                p->stats.pg_errors++;
                p->stats.pg_up = false;
                pthread_mutex_unlock(&p->lock);
                return false;
        }
        red_log_info("postgres", "%s: connected to %s", p->c->name,
                     red_sink_where(p->sink));
        pthread_mutex_lock(&p->lock);
        p->stats.pg_reconnects++;
        p->stats.pg_up = true;
        pthread_mutex_unlock(&p->lock);
        return true;
}

void red_pipeline_backoff(red_pipeline_t *p)
{
        p->backoff_ms = p->backoff_ms ? p->backoff_ms * 2 : 100;
        if (p->backoff_ms > p->conf->postgres_retry_max_ms) {
                p->backoff_ms = p->conf->postgres_retry_max_ms;
        }
}

/* Keeps an offset error for the loop: the partition stopped fetching and
 * waits for the gap policy. False when out of memory (it is dropped, and
 * the partition is found by its lag). */
static bool defer(red_pipeline_t *p, rd_kafka_message_t *m)
{
        if (p->deferred_cnt == p->deferred_cap) {
                size_t ncap = p->deferred_cap ? p->deferred_cap * 2 : 8;
                rd_kafka_message_t **n =
                        realloc(p->deferred, ncap * sizeof(*n));
                if (!n) {
                        return false;
                }
                p->deferred = n;
                p->deferred_cap = ncap;
        }
        p->deferred[p->deferred_cnt++] = m;
        return true;
}

void red_pipeline_wait(red_pipeline_t *p, int64_t ms)
{
        int64_t until = red_time_mono_us() + ms * 1000;

        if (p->in_rebalance) {
                /* no polling inside the rebalance callback */
                struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
                nanosleep(&ts, NULL);
                return;
        }
        while (!atomic_load(&p->stop) && red_time_mono_us() < until) {
                /* partitions are paused, so mostly events come back */
                rd_kafka_message_t *m = rd_kafka_consumer_poll(p->consumer, 50);
                if (m && m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET &&
                    defer(p, m)) {
                        continue;
                }
                if (m) {
                        /* not added: read again from the offset each
                         * partition needs once the wait is over
                         * (red_pipeline_parts_resume_all() seeks) */
                        rd_kafka_message_destroy(m);
                }
        }
}

void red_pipeline_count_alerts(red_pipeline_t *p)
{
        const size_t *f = red_sink_alerts_fired(p->sink);
        const size_t *r = red_sink_alerts_resolved(p->sink);
        const size_t *rf = red_sink_alert_rules_fired(p->sink);
        const size_t *rr = red_sink_alert_rules_resolved(p->sink);

        pthread_mutex_lock(&p->lock);
        for (int i = 0; i < 3; i++) {
                p->stats.alerts[i] += f[i];
                p->stats.alerts_resolved[i] += r[i];
        }
        for (size_t i = 0; i < red_sink_alert_rule_cnt(p->sink); i++) {
                p->rule_fired[i] += rf[i];
                p->rule_resolved[i] += rr[i];
        }
        pthread_mutex_unlock(&p->lock);
}
