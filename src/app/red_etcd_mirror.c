/* red_etcd_mirror - the registry's healthy nodes in etcd, kept in sync. */
#include "red_etcd_mirror.h"

#include "red_discovery_pg.h"
#include "red_etcd.h"
#include "red_log.h"
#include "red_pg.h"
#include "red_time.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* pg_try_advisory_lock key: "redetcdm" */
#define MIRROR_LOCK_KEY "8243106315010892909"
/* the most distinct lease TTLs (health-check intervals) kept at once */
#define MAX_LEASES 64

/* One lease, shared by the keys of one TTL. */
typedef struct lease_s {
        int64_t ttl_s;   /* wanted */
        int64_t id;      /* 0: none granted (or lost) */
        int64_t next_us; /* monotonic: the next keepalive */
        int64_t every_us;
        bool used; /* by a key written in the last pass */
} lease_t;

struct red_etcd_mirror_s {
        const red_config_t *conf;
        const red_state_t *registry;
        red_etcd_t *etcd;
        PGconn *conn;
        bool locked;
        bool pg_up;
        red_discovery_set_t held; /* what etcd holds, as far as we know */
        bool held_known;          /* false: read it back (reconcile) */
        lease_t leases[MAX_LEASES];
        size_t lease_cnt;
        int64_t next_reconcile_us;
        pthread_t thread;
        bool started;
        atomic_bool stop;
        pthread_mutex_t lock;
        red_etcd_mirror_stats_t stats;
};

red_etcd_mirror_t *red_etcd_mirror_new(const red_config_t *conf,
                                       const red_state_t *registry,
                                       char *errstr, size_t errstr_size)
{
        red_etcd_mirror_t *m = calloc(1, sizeof(*m));

        if (!m) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        pthread_mutex_init(&m->lock, NULL);
        m->conf = conf;
        m->registry = registry;
        m->pg_up = true;
        m->stats.up = true; /* so that the first failure is logged */
        red_discovery_set_init(&m->held);
        if (!(m->etcd = red_etcd_new(&conf->registry_etcd_endpoints,
                                     (long)conf->registry_etcd_timeout_ms,
                                     errstr, errstr_size))) {
                red_etcd_mirror_destroy(m);
                return NULL;
        }
        return m;
}

void red_etcd_mirror_destroy(red_etcd_mirror_t *m)
{
        if (!m) {
                return;
        }
        red_etcd_destroy(m->etcd);
        if (m->conn) {
                PQfinish(m->conn);
        }
        red_discovery_set_destroy(&m->held);
        pthread_mutex_destroy(&m->lock);
        free(m);
}

void red_etcd_mirror_stats(red_etcd_mirror_t *m, red_etcd_mirror_stats_t *out)
{
        pthread_mutex_lock(&m->lock);
        *out = m->stats;
        pthread_mutex_unlock(&m->lock);
}

/* --- state changes, logged once each ------------------------------------ */

static void etcd_failed(red_etcd_mirror_t *m, const char *what, const char *err)
{
        bool was;

        pthread_mutex_lock(&m->lock);
        was = m->stats.up;
        m->stats.up = false;
        pthread_mutex_unlock(&m->lock);
        if (was) {
                red_log_warn("etcd",
                             "etcd unreachable (%s: %s): the registry goes "
                             "on without its mirror, which catches up once "
                             "etcd answers",
                             what, err);
        }
        m->held_known = false; /* read it back when etcd answers */
}

static void etcd_answered(red_etcd_mirror_t *m)
{
        bool was;

        pthread_mutex_lock(&m->lock);
        was = m->stats.up;
        m->stats.up = true;
        pthread_mutex_unlock(&m->lock);
        if (!was) {
                red_log_info("etcd", "etcd answers again: reconciling");
        }
}

static void pg_failed(red_etcd_mirror_t *m, const char *err)
{
        if (m->pg_up) {
                red_log_warn("etcd", "mirror: PostgreSQL: %s", err);
        }
        m->pg_up = false;
        if (m->conn && PQstatus(m->conn) != CONNECTION_OK) {
                PQfinish(m->conn);
                m->conn = NULL;
                m->locked = false;
        }
}

/* --- leases ----------------------------------------------------------------
 */

static lease_t *lease_find(red_etcd_mirror_t *m, int64_t ttl_s)
{
        for (size_t i = 0; i < m->lease_cnt; i++) {
                if (m->leases[i].ttl_s == ttl_s) {
                        return &m->leases[i];
                }
        }
        return NULL;
}

/* The lease a wanted key of this TTL is to be on: its granted id, or 0
 * when none is granted yet (any lease held then differs). */
static int64_t lease_for(void *opaque, int64_t ttl_s)
{
        red_etcd_mirror_t *m = opaque;
        lease_t *l = lease_find(m, ttl_s);

        if (!l && m->lease_cnt == MAX_LEASES) {
                l = &m->leases[MAX_LEASES - 1]; /* as lease_get() does */
        }
        return l ? l->id : 0;
}

/* The lease of @p ttl_s, granted when there is none: its id, or 0 (the
 * failure handled). */
static int64_t lease_get(red_etcd_mirror_t *m, int64_t ttl_s)
{
        lease_t *l = lease_find(m, ttl_s);
        int64_t id, granted;
        char err[512];

        if (!l) {
                if (m->lease_cnt == MAX_LEASES) {
                        /* more distinct intervals than leases: the longest
                         * TTL kept serves the rest */
                        l = &m->leases[MAX_LEASES - 1];
                        return l->id ? l->id : lease_get(m, l->ttl_s);
                }
                l = &m->leases[m->lease_cnt++];
                memset(l, 0, sizeof(*l));
                l->ttl_s = ttl_s;
        }
        l->used = true;
        if (l->id) {
                return l->id;
        }
        if (red_etcd_lease_grant(m->etcd, ttl_s, &id, &granted, err,
                                 sizeof(err))) {
                etcd_failed(m, "lease grant", err);
                return 0;
        }
        etcd_answered(m);
        l->id = id;
        /* renewed three times per TTL */
        l->every_us = (granted > 0 ? granted : ttl_s) * RED_TIME_US_PER_SEC / 3;
        l->next_us = red_time_mono_us() + l->every_us;
        pthread_mutex_lock(&m->lock);
        m->stats.leases_granted++;
        pthread_mutex_unlock(&m->lock);
        return id;
}

/* Renews the leases that are due; a lease etcd lost is forgotten, so
 * that its keys differ and the next pass writes them on a new one. */
static void keepalive(red_etcd_mirror_t *m)
{
        int64_t now = red_time_mono_us();
        bool down = false;
        char err[512];

        for (size_t i = 0; i < m->lease_cnt; i++) {
                lease_t *l = &m->leases[i];
                int64_t ttl, retry = l->every_us < RED_TIME_US_PER_SEC
                                             ? l->every_us
                                             : RED_TIME_US_PER_SEC;
                int r;

                if (!l->id || l->next_us > now) {
                        continue;
                }
                if (down) {
                        l->next_us = now + retry;
                        continue;
                }
                r = red_etcd_lease_keepalive(m->etcd, l->id, &ttl, err,
                                             sizeof(err));
                if (r == RED_ETCD_ENOLEASE) {
                        etcd_answered(m);
                        red_log_info("etcd",
                                     "lease of %lld s gone (etcd restarted "
                                     "empty, or the lease expired): its "
                                     "keys go on a new one",
                                     (long long)l->ttl_s);
                        l->id = 0;
                        m->held_known = false;
                } else if (r) {
                        /* again within a second (before the TTL runs out,
                         * with luck), not at once: no busy loop */
                        l->next_us = now + retry;
                        etcd_failed(m, "lease keepalive", err);
                        down = true;
                } else {
                        etcd_answered(m);
                        l->next_us = now + l->every_us;
                }
        }
}

/* --- one pass ------------------------------------------------------------ */

static void count_write(red_etcd_mirror_t *m, int op, bool ok)
{
        pthread_mutex_lock(&m->lock);
        m->stats.writes[op][ok ? RED_MIRROR_OK : RED_MIRROR_FAILED]++;
        pthread_mutex_unlock(&m->lock);
}

/* Makes one repair; false when etcd failed (the pass stops). */
static bool repair(red_etcd_mirror_t *m, const red_discovery_action_t *a)
{
        char err[512];
        int r;

        if (a->state == RED_DISCOVERY_STRAY) {
                r = red_etcd_delete(m->etcd, a->have->key, err, sizeof(err));
                count_write(m, RED_MIRROR_DELETE, r == 0);
                if (r) {
                        etcd_failed(m, "delete", err);
                        return false;
                }
                etcd_answered(m);
                return true;
        }
        for (int attempt = 0; attempt < 2; attempt++) {
                int64_t lease = lease_get(m, a->want->ttl_s);

                if (!lease) {
                        return false;
                }
                r = red_etcd_put(m->etcd, a->want->key, a->want->value, lease,
                                 err, sizeof(err));
                if (r == RED_ETCD_ENOLEASE) {
                        /* lost since it was granted: grant another */
                        lease_find(m, a->want->ttl_s)->id = 0;
                        continue;
                }
                count_write(m, RED_MIRROR_PUT, r == 0);
                if (r) {
                        etcd_failed(m, "put", err);
                        return false;
                }
                etcd_answered(m);
                return true;
        }
        count_write(m, RED_MIRROR_PUT, false);
        etcd_failed(m, "put", "the lease granted is not found");
        return false;
}

/*
 * Reads the wanted keys from PostgreSQL; on a reconcile (@p full) reads
 * what etcd holds, else compares with what the last pass left; makes the
 * repairs. What etcd holds is known after a pass that went through.
 */
static void pass(red_etcd_mirror_t *m, bool full)
{
        red_discovery_set_t want, have;
        red_discovery_action_t *acts = NULL;
        size_t counts[RED_DISCOVERY__CNT];
        char err[1024];
        long n;
        bool ok = true;

        red_discovery_set_init(&want);
        red_discovery_set_init(&have);
        if (red_discovery_pg_wanted(m->conn, m->registry,
                                    m->conf->registry_etcd_prefix,
                                    (double)m->conf->registry_etcd_lease_factor,
                                    &want, err, sizeof(err))) {
                pg_failed(m, err);
                goto done;
        }
        if (!m->pg_up) {
                red_log_info("etcd", "mirror: PostgreSQL answers again");
                m->pg_up = true;
        }
        if (full) {
                if (red_etcd_range_prefix(m->etcd,
                                          m->conf->registry_etcd_prefix, &have,
                                          err, sizeof(err))) {
                        etcd_failed(m, "range", err);
                        /* nothing agrees with an etcd that does not answer */
                        memset(counts, 0, sizeof(counts));
                        counts[RED_DISCOVERY_MISSING] = want.cnt;
                        pthread_mutex_lock(&m->lock);
                        memcpy(m->stats.found, counts, sizeof(counts));
                        m->stats.compared = true;
                        m->stats.reconciles[RED_MIRROR_FAILED]++;
                        pthread_mutex_unlock(&m->lock);
                        goto done;
                }
                etcd_answered(m);
                red_discovery_set_sort(&have);
                red_discovery_set_move(&m->held, &have);
                m->held_known = true;
        }
        for (size_t i = 0; i < m->lease_cnt; i++) {
                m->leases[i].used = false;
        }
        n = red_discovery_diff(&want, &m->held, lease_for, m, &acts, counts);
        if (n < 0) {
                red_log_warn("etcd", "mirror: out of memory");
                goto done;
        }
        if (full) {
                pthread_mutex_lock(&m->lock);
                memcpy(m->stats.found, counts, sizeof(counts));
                m->stats.compared = true;
                for (long i = 0; i < n; i++) {
                        m->stats.repairs[acts[i].state]++;
                }
                pthread_mutex_unlock(&m->lock);
                if (n) {
                        red_log_info("etcd",
                                     "reconcile: %zu key%s missing, %zu "
                                     "different, %zu stray: repairing",
                                     counts[RED_DISCOVERY_MISSING],
                                     counts[RED_DISCOVERY_MISSING] == 1 ? ""
                                                                        : "s",
                                     counts[RED_DISCOVERY_DIFFERENT],
                                     counts[RED_DISCOVERY_STRAY]);
                }
        }
        for (long i = 0; ok && i < n; i++) {
                ok = repair(m, &acts[i]);
        }
        if (!ok) {
                m->held_known = false;
                if (full) {
                        pthread_mutex_lock(&m->lock);
                        m->stats.reconciles[RED_MIRROR_FAILED]++;
                        pthread_mutex_unlock(&m->lock);
                }
                goto done;
        }
        /* etcd now holds what is wanted, on the current leases */
        for (size_t i = 0; i < want.cnt; i++) {
                lease_t *l = lease_find(m, want.items[i].ttl_s);
                if (!l && m->lease_cnt == MAX_LEASES) {
                        l = &m->leases[MAX_LEASES - 1];
                }
                want.items[i].lease = l ? l->id : 0;
                if (l) {
                        l->used = true;
                }
        }
        red_discovery_set_move(&m->held, &want);
        /* the rows say which nodes etcd has (discovery_registered) */
        if ((n || full) &&
            red_discovery_pg_flag(m->conn, m->registry,
                                  m->conf->registry_etcd_prefix, &m->held, err,
                                  sizeof(err)) < 0) {
                pg_failed(m, err);
        }
        /* leases no key uses any more: let them expire */
        for (size_t i = 0; i < m->lease_cnt;) {
                if (!m->leases[i].used) {
                        m->leases[i] = m->leases[--m->lease_cnt];
                } else {
                        i++;
                }
        }
        if (full) {
                pthread_mutex_lock(&m->lock);
                m->stats.reconciles[RED_MIRROR_OK]++;
                pthread_mutex_unlock(&m->lock);
                /* after repairs, the next pass reads etcd again: the
                 * gauge then says whether they took, and does not show
                 * the drift found for a whole interval */
                m->next_reconcile_us =
                        red_time_mono_us() +
                        (n ? 0
                           : m->conf->registry_etcd_reconcile_interval_s *
                                         RED_TIME_US_PER_SEC);
        }
done:
        free(acts);
        red_discovery_set_destroy(&want);
        red_discovery_set_destroy(&have);
}

/* --- the thread -------------------------------------------------------- */

/* A connection holding the mirror's lock; false when another replica
 * mirrors or PostgreSQL does not answer. */
static bool take_lock(red_etcd_mirror_t *m)
{
        PGresult *res;
        char err[1024];
        bool got;

        if (m->conn && PQstatus(m->conn) != CONNECTION_OK) {
                PQfinish(m->conn);
                m->conn = NULL;
                m->locked = false;
        }
        if (!m->conn) {
                if (!(m->conn = red_pg_connect(m->conf->postgres_conninfo, err,
                                               sizeof(err)))) {
                        pg_failed(m, err);
                        return false;
                }
                if (red_pg_exec(m->conn, "SET TIME ZONE 'UTC'", err,
                                sizeof(err))) {
                        pg_failed(m, err);
                        return false;
                }
        }
        if (m->locked) {
                return true;
        }
        res = PQexec(m->conn,
                     "SELECT pg_try_advisory_lock(" MIRROR_LOCK_KEY ")");
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                red_pg_error(m->conn, res, err, sizeof(err));
                PQclear(res);
                pg_failed(m, err);
                return false;
        }
        got = PQgetvalue(res, 0, 0)[0] == 't';
        PQclear(res);
        if (got) {
                m->locked = true;
                m->held_known = false;
                red_log_info("etcd",
                             "mirroring the node registry's healthy nodes "
                             "into etcd under %s",
                             m->conf->registry_etcd_prefix);
        }
        pthread_mutex_lock(&m->lock);
        m->stats.active = got;
        pthread_mutex_unlock(&m->lock);
        return got;
}

/* Sleeps until @p until_us (monotonic) or a stop. */
static void nap(red_etcd_mirror_t *m, int64_t until_us)
{
        while (!atomic_load(&m->stop)) {
                int64_t left = until_us - red_time_mono_us();
                struct timespec ts = {0, 0};

                if (left <= 0) {
                        return;
                }
                if (left > 50000) {
                        left = 50000;
                }
                ts.tv_nsec = (long)left * 1000;
                nanosleep(&ts, NULL);
        }
}

static void *run(void *arg)
{
        red_etcd_mirror_t *m = arg;
        int64_t sync_us =
                m->conf->registry_etcd_sync_interval_ms * INT64_C(1000);

        m->next_reconcile_us = red_time_mono_us();
        while (!atomic_load(&m->stop)) {
                int64_t start = red_time_mono_us(), next;

                if (!take_lock(m)) {
                        nap(m, start + RED_TIME_US_PER_SEC);
                        continue;
                }
                pass(m, !m->held_known || start >= m->next_reconcile_us);
                keepalive(m);
                next = start + sync_us;
                for (size_t i = 0; i < m->lease_cnt; i++) {
                        if (m->leases[i].id && m->leases[i].next_us < next) {
                                next = m->leases[i].next_us;
                        }
                }
                nap(m, next);
        }
        return NULL;
}

int red_etcd_mirror_start(red_etcd_mirror_t *m, char *errstr,
                          size_t errstr_size)
{
        int e = pthread_create(&m->thread, NULL, run, m);

        if (e) {
                snprintf(errstr, errstr_size, "pthread_create: %s",
                         strerror(e));
                return -1;
        }
        m->started = true;
        return 0;
}

void red_etcd_mirror_stop(red_etcd_mirror_t *m)
{
        atomic_store(&m->stop, true);
}

void red_etcd_mirror_join(red_etcd_mirror_t *m)
{
        if (m->started) {
                pthread_join(m->thread, NULL);
                m->started = false;
        }
}

/* --- /metrics ------------------------------------------------------------ */

void red_etcd_mirror_metrics(red_etcd_mirror_t *m, red_buf_t *out)
{
        static const char *const ops[] = {"put", "delete"};
        static const char *const outcomes[] = {"ok", "failed"};
        red_etcd_mirror_stats_t st;

        if (!m) {
                return;
        }
        red_etcd_mirror_stats(m, &st);
        red_buf_printf(out,
                       "# HELP reducerd_registry_etcd_up Whether etcd "
                       "answered the mirror's last request\n"
                       "# TYPE reducerd_registry_etcd_up gauge\n"
                       "reducerd_registry_etcd_up %d\n"
                       "# HELP reducerd_registry_etcd_active Whether this "
                       "replica runs the mirror (one at a time)\n"
                       "# TYPE reducerd_registry_etcd_active gauge\n"
                       "reducerd_registry_etcd_active %d\n",
                       st.up ? 1 : 0, st.active ? 1 : 0);
        if (st.compared) {
                red_buf_printf(out,
                               "# HELP reducerd_registry_etcd_consistency_"
                               "ratio Share of the mirror's keys (healthy "
                               "nodes in PostgreSQL, keys in etcd) whose etcd "
                               "entry agrees with PostgreSQL, at the last "
                               "reconcile before its repairs\n"
                               "# TYPE reducerd_registry_etcd_consistency_"
                               "ratio gauge\n"
                               "reducerd_registry_etcd_consistency_ratio "
                               "%.6g\n",
                               red_discovery_ratio(st.found));
                red_buf_puts(out, "# HELP reducerd_registry_etcd_keys Keys "
                                  "by state at the last reconcile, before "
                                  "its repairs\n"
                                  "# TYPE reducerd_registry_etcd_keys "
                                  "gauge\n");
                for (int k = 0; k < RED_DISCOVERY__CNT; k++) {
                        red_buf_printf(out,
                                       "reducerd_registry_etcd_keys{state="
                                       "\"%s\"} %zu\n",
                                       red_discovery_state_name(
                                               (red_discovery_state_t)k),
                                       st.found[k]);
                }
        }
        red_buf_puts(out, "# HELP reducerd_registry_etcd_writes_total "
                          "Mirror writes to etcd by operation and outcome\n"
                          "# TYPE reducerd_registry_etcd_writes_total "
                          "counter\n");
        for (int o = 0; o < RED_MIRROR__OPS; o++) {
                for (int r = 0; r < RED_MIRROR__OUTCOMES; r++) {
                        red_buf_printf(out,
                                       "reducerd_registry_etcd_writes_total{"
                                       "operation=\"%s\",outcome=\"%s\"} "
                                       "%llu\n",
                                       ops[o], outcomes[r],
                                       (unsigned long long)st.writes[o][r]);
                }
        }
        red_buf_puts(out, "# HELP reducerd_registry_etcd_repairs_total Keys "
                          "reconciles found drifted and rewrote (missing, "
                          "different) or deleted (stray)\n"
                          "# TYPE reducerd_registry_etcd_repairs_total "
                          "counter\n");
        for (int k = RED_DISCOVERY_MISSING; k < RED_DISCOVERY__CNT; k++) {
                red_buf_printf(
                        out,
                        "reducerd_registry_etcd_repairs_total{state="
                        "\"%s\"} %llu\n",
                        red_discovery_state_name((red_discovery_state_t)k),
                        (unsigned long long)st.repairs[k]);
        }
        red_buf_printf(out,
                       "# HELP reducerd_registry_etcd_reconciles_total "
                       "Reconciles by outcome (failed: etcd or PostgreSQL "
                       "did not answer)\n"
                       "# TYPE reducerd_registry_etcd_reconciles_total "
                       "counter\n"
                       "reducerd_registry_etcd_reconciles_total{outcome="
                       "\"ok\"} %llu\n"
                       "reducerd_registry_etcd_reconciles_total{outcome="
                       "\"failed\"} %llu\n"
                       "# HELP reducerd_registry_etcd_leases_granted_total "
                       "Leases the mirror was granted (one per TTL; again "
                       "after etcd lost one)\n"
                       "# TYPE reducerd_registry_etcd_leases_granted_total "
                       "counter\n"
                       "reducerd_registry_etcd_leases_granted_total %llu\n",
                       (unsigned long long)st.reconciles[RED_MIRROR_OK],
                       (unsigned long long)st.reconciles[RED_MIRROR_FAILED],
                       (unsigned long long)st.leases_granted);
}
