/* red_pgpool - bounded, lazily opened PostgreSQL connections for readers. */
#include "red_pgpool.h"

#include "red_pg.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct red_pgpool_s {
        pthread_mutex_t lock;
        pthread_cond_t back; /* a connection came back or closed */
        char *conninfo;
        size_t max;
        size_t open; /* idle + in use */
        PGconn **idle;
        size_t idle_cnt;
        red_pgpool_setup_cb *setup;
        void *opaque;
};

red_pgpool_t *red_pgpool_new(const char *conninfo, size_t max,
                             red_pgpool_setup_cb *setup, void *opaque)
{
        red_pgpool_t *p = calloc(1, sizeof(*p));

        if (!p) {
                return NULL;
        }
        p->max = max ? max : 1;
        p->setup = setup;
        p->opaque = opaque;
        if (!(p->conninfo = strdup(conninfo ? conninfo : "")) ||
            !(p->idle = calloc(p->max, sizeof(*p->idle)))) {
                free(p->conninfo);
                free(p);
                return NULL;
        }
        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->back, NULL);
        return p;
}

void red_pgpool_destroy(red_pgpool_t *p)
{
        if (!p) {
                return;
        }
        for (size_t i = 0; i < p->idle_cnt; i++) {
                PQfinish(p->idle[i]);
        }
        pthread_cond_destroy(&p->back);
        pthread_mutex_destroy(&p->lock);
        free(p->idle);
        free(p->conninfo);
        free(p);
}

/* Opens and prepares a connection (outside the lock: it blocks). */
static PGconn *open_one(red_pgpool_t *p, char *errstr, size_t size)
{
        PGconn *c = red_pg_connect(p->conninfo, errstr, size);

        if (c && p->setup && p->setup(p->opaque, c, errstr, size)) {
                PQfinish(c);
                c = NULL;
        }
        if (!c) {
                pthread_mutex_lock(&p->lock);
                p->open--;
                pthread_cond_signal(&p->back);
                pthread_mutex_unlock(&p->lock);
        }
        return c;
}

PGconn *red_pgpool_get(red_pgpool_t *p, long wait_ms, char *errstr,
                       size_t errstr_size)
{
        struct timespec until;
        PGconn *c = NULL;

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += wait_ms / 1000;
        until.tv_nsec += (wait_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&p->lock);
        for (;;) {
                while (p->idle_cnt) {
                        c = p->idle[--p->idle_cnt];
                        if (PQstatus(c) == CONNECTION_OK) {
                                pthread_mutex_unlock(&p->lock);
                                return c;
                        }
                        /* the server went away meanwhile */
                        PQfinish(c);
                        p->open--;
                }
                if (p->open < p->max) {
                        p->open++;
                        pthread_mutex_unlock(&p->lock);
                        return open_one(p, errstr, errstr_size);
                }
                if (pthread_cond_timedwait(&p->back, &p->lock, &until) ==
                    ETIMEDOUT) {
                        break;
                }
        }
        pthread_mutex_unlock(&p->lock);
        snprintf(errstr, errstr_size,
                 "all %zu PostgreSQL connections of the API are busy "
                 "(api.pg_connections)",
                 p->max);
        return NULL;
}

void red_pgpool_put(red_pgpool_t *p, PGconn *conn, bool reusable)
{
        if (!conn) {
                return;
        }
        if (reusable && (PQstatus(conn) != CONNECTION_OK ||
                         PQtransactionStatus(conn) != PQTRANS_IDLE)) {
                reusable = false;
        }
        if (!reusable) {
                PQfinish(conn);
        }
        pthread_mutex_lock(&p->lock);
        if (reusable) {
                p->idle[p->idle_cnt++] = conn;
        } else {
                p->open--;
        }
        pthread_cond_signal(&p->back);
        pthread_mutex_unlock(&p->lock);
}
