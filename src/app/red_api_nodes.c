/* red_api_nodes - the node registry's HTTP routes: search, discovery,
 * registration through Kafka. */
#include "red_api_nodes.h"

#include "red_api_impl.h"
#include "red_api_params.h"
#include "red_log.h"
#include "red_nodes.h"
#include "red_nodes_pg.h"
#include "red_syncprod.h"
#include "red_qparam.h"
#include "red_time.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A request's own state (con_cls), told from others by its magic. */
#define REQ_MAGIC 0x6e6f6465u /* "node" */
/* Largest body a write takes. */
#define MAX_BODY (256 * 1024)
/* How long a write waits for Kafka's acknowledgement. */
#define ACK_TIMEOUT_MS 15000
/* Most query parameters of a search, with the fixed ones of a discovery
 * path (MAX_FIXED at most). */
#define MAX_PARAMS 64
#define MAX_FIXED  2

typedef struct req_s {
        uint32_t magic;
        red_buf_t body;
        bool too_large;
} req_t;

static const red_state_t *registry(const red_contract_set_t *set,
                                   const red_contract_t **c);

/* --- metrics ---------------------------------------------------------- */

enum { OP_REGISTER, OP_HEARTBEAT, OP_DEREGISTER, OP_SEARCH, OP_GET, OP__CNT };
enum { OUT_OK, OUT_INVALID, OUT_NOT_FOUND, OUT_UNAVAILABLE, OUT__CNT };
static const char *const op_names[] = {"register", "heartbeat", "deregister",
                                       "search", "get"};
static const char *const out_names[] = {"ok", "invalid", "not_found",
                                        "unavailable"};
static const double bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                0.25,  0.5,    1,     2.5,  5,     10};
#define BOUND_CNT (sizeof(bounds) / sizeof(*bounds))

typedef struct hist_s {
        uint64_t buckets[BOUND_CNT];
        uint64_t count;
        double sum;
} hist_t;

struct red_api_nodes_s {
        const red_config_t *conf; /* read at start only */
        pthread_mutex_t lock;
        char *brokers; /* NULL: writes unavailable */
        red_syncprod_t *pub;
        char instance[256];
        uint64_t requests[OP__CNT][OUT__CNT];
        hist_t write_latency, search_latency;
};

static void observe(hist_t *h, double seconds)
{
        for (size_t i = 0; i < BOUND_CNT; i++) {
                if (seconds <= bounds[i]) {
                        h->buckets[i]++;
                }
        }
        h->count++;
        h->sum += seconds;
}

static void count(red_api_nodes_t *n, int op, int outcome, int64_t t0)
{
        double s = (double)(red_time_mono_us() - t0) / 1e6;

        pthread_mutex_lock(&n->lock);
        n->requests[op][outcome]++;
        if (outcome == OUT_OK && op <= OP_DEREGISTER) {
                observe(&n->write_latency, s);
        } else if (op == OP_SEARCH) {
                observe(&n->search_latency, s);
        }
        pthread_mutex_unlock(&n->lock);
}

static void hist_text(red_buf_t *out, const char *name, const char *help,
                      const hist_t *h)
{
        red_buf_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help,
                       name);
        for (size_t i = 0; i < BOUND_CNT; i++) {
                red_buf_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name,
                               bounds[i], (unsigned long long)h->buckets[i]);
        }
        red_buf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n", name,
                       (unsigned long long)h->count);
        red_buf_printf(out, "%s_sum %.9g\n%s_count %llu\n", name, h->sum, name,
                       (unsigned long long)h->count);
}

/* registry_nodes{node_type, health_status}: the live nodes by type and
 * effective health, read from PostgreSQL at scrape time. */
static void node_counts(red_api_t *api, red_buf_t *out)
{
        red_nodes_count_t cnt[64];
        const red_contract_set_t *set;
        const red_state_t *st;
        void *hold;
        PGconn *pg;
        char err[1024];
        int n = -1;

        set = red_api_contracts(api, &hold);
        if ((st = registry(set, NULL)) &&
            (pg = red_api_pg(api, err, sizeof(err)))) {
                n = red_nodes_pg_counts(pg, st, cnt, 64, err, sizeof(err));
                red_api_pg_done(api, pg, PQstatus(pg) == CONNECTION_OK);
                if (n < 0) {
                        red_log_warn("api", "registry counts: %s", err);
                }
        }
        red_api_contracts_done(api, hold);
        if (n < 0) {
                return; /* no registry, or no database: no series */
        }
        red_buf_puts(out, "# HELP registry_nodes Live (not deregistered) "
                          "nodes by type and effective health\n"
                          "# TYPE registry_nodes gauge\n");
        for (int i = 0; i < n; i++) {
                red_buf_printf(out,
                               "registry_nodes{node_type=\"%s\","
                               "health_status=\"%s\"} %ld\n",
                               cnt[i].node_type, cnt[i].health, cnt[i].count);
        }
}

void red_api_nodes_metrics(red_api_t *api, red_api_nodes_t *n, red_buf_t *out)
{
        uint64_t reg = 0;

        node_counts(api, out);

        pthread_mutex_lock(&n->lock);
        red_buf_puts(out, "# HELP registry_requests_total Node registry API "
                          "requests by operation and outcome\n"
                          "# TYPE registry_requests_total counter\n");
        for (int o = 0; o < OP__CNT; o++) {
                for (int k = 0; k < OUT__CNT; k++) {
                        red_buf_printf(out,
                                       "registry_requests_total{operation="
                                       "\"%s\",outcome=\"%s\"} %llu\n",
                                       op_names[o], out_names[k],
                                       (unsigned long long)n->requests[o][k]);
                }
        }
        for (int k = 0; k < OUT__CNT; k++) {
                reg += n->requests[OP_REGISTER][k];
        }
        red_buf_printf(out,
                       "# HELP registrations_total Registrations received "
                       "by the API (POST /v1/nodes), any outcome\n"
                       "# TYPE registrations_total counter\n"
                       "registrations_total %llu\n"
                       "# HELP registrations_successful_total Registrations "
                       "the API published to Kafka (broker acknowledged)\n"
                       "# TYPE registrations_successful_total counter\n"
                       "registrations_successful_total %llu\n",
                       (unsigned long long)reg,
                       (unsigned long long)n->requests[OP_REGISTER][OUT_OK]);
        hist_text(out, "registration_duration_seconds",
                  "Registry writes from request to Kafka acknowledgement",
                  &n->write_latency);
        hist_text(out, "registry_search_duration_seconds",
                  "Node searches from request to response", &n->search_latency);
        pthread_mutex_unlock(&n->lock);
}

/* --- life cycle -------------------------------------------------------- */

red_api_nodes_t *red_api_nodes_new(const red_config_t *conf)
{
        red_api_nodes_t *n = calloc(1, sizeof(*n));

        if (!n) {
                return NULL;
        }
        n->conf = conf;
        pthread_mutex_init(&n->lock, NULL);
        snprintf(n->instance, sizeof(n->instance), "reducerd-api-%s",
                 conf->instance_id);
        if (strcmp(conf->kafka_brokers, "embedded") &&
            !(n->brokers = strdup(conf->kafka_brokers))) {
                red_api_nodes_destroy(n);
                return NULL;
        }
        return n;
}

void red_api_nodes_destroy(red_api_nodes_t *n)
{
        if (!n) {
                return;
        }
        red_syncprod_destroy(n->pub);
        free(n->brokers);
        pthread_mutex_destroy(&n->lock);
        free(n);
}

void red_api_nodes_set_brokers(red_api_nodes_t *n, const char *brokers)
{
        char *copy = brokers ? strdup(brokers) : NULL;
        red_syncprod_t *old;

        pthread_mutex_lock(&n->lock);
        free(n->brokers);
        n->brokers = copy;
        old = n->pub;
        n->pub = NULL;
        pthread_mutex_unlock(&n->lock);
        red_syncprod_destroy(old);
}

/* The producer, made on the first write (a `serve` that only reads never
 * connects to Kafka). NULL with a message. The config is read at start
 * only: conf is not kept for later. */
static red_syncprod_t *producer(red_api_nodes_t *n, const red_config_t *conf,
                                char *err, size_t size)
{
        red_syncprod_t *p;

        pthread_mutex_lock(&n->lock);
        if (!n->pub && n->brokers) {
                n->pub = red_syncprod_new(conf, n->brokers, n->instance, err,
                                          size);
        } else if (!n->brokers) {
                snprintf(err, size,
                         "kafka.brokers is \"embedded\": this process has no "
                         "Kafka to publish registrations to (reducerd serve "
                         "cannot reach the embedded cluster of reducerd run; "
                         "set kafka.brokers or REDUCERD_KAFKA_BROKERS to its "
                         "bootstrap address, or use the API of reducerd run "
                         "with http.api: true)");
        }
        p = n->pub;
        pthread_mutex_unlock(&n->lock);
        return p;
}

/* --- routes ------------------------------------------------------------ */

bool red_api_nodes_route(const char *url)
{
        return !strcmp(url, "/v1/nodes") || !strncmp(url, "/v1/nodes/", 10);
}

void red_api_nodes_completed(void *con_cls)
{
        req_t *q = con_cls;

        if (q && q->magic == REQ_MAGIC) {
                red_buf_destroy(&q->body);
                q->magic = 0;
                free(q);
        }
}

static enum MHD_Result error(struct MHD_Connection *conn, int status,
                             const char *param, const char *msg)
{
        red_query_error_t e;

        memset(&e, 0, sizeof(e));
        e.status = status;
        snprintf(e.param, sizeof(e.param), "%s", param ? param : "");
        snprintf(e.message, sizeof(e.message), "%.500s", msg);
        return red_api_reply_error(conn, &e);
}

/* The registry among the contracts served, or an error reply. */
static const red_state_t *registry(const red_contract_set_t *set,
                                   const red_contract_t **c)
{
        return red_nodes_find((const red_contract_t *const *)set->items,
                              set->cnt, c);
}

/* A search with the request's parameters and @p fixed ones (a discovery
 * path's filter). */
static enum MHD_Result search(red_api_t *api, red_api_nodes_t *n,
                              struct MHD_Connection *conn,
                              const red_query_param_t *fixed, size_t fixed_cnt)
{
        int64_t t0 = red_time_mono_us();
        const red_contract_set_t *set;
        const red_contract_t *c = NULL;
        const red_state_t *st;
        red_nodes_search_t s;
        red_query_error_t e;
        red_query_param_t p[MAX_PARAMS];
        size_t cnt;
        void *hold;
        PGconn *pg;
        red_buf_t out;
        char err[1024];
        enum MHD_Result r;
        int ok;

        if (red_api_params_collect(conn, p, MAX_PARAMS - MAX_FIXED, &cnt)) {
                count(n, OP_SEARCH, OUT_INVALID, t0);
                return error(conn, 400, NULL, "too many query parameters");
        }
        for (size_t i = 0; i < fixed_cnt; i++) {
                p[cnt++] = fixed[i];
        }
        set = red_api_contracts(api, &hold);
        if (!(st = registry(set, &c))) {
                red_api_contracts_done(api, hold);
                count(n, OP_SEARCH, OUT_NOT_FOUND, t0);
                return error(conn, 404, NULL,
                             "no contract has the node registry (a state "
                             "sink writing " RED_NODES_TABLE ")");
        }
        if (red_nodes_search_parse(c, p, cnt, &s, &e)) {
                red_api_contracts_done(api, hold);
                count(n, OP_SEARCH, OUT_INVALID, t0);
                return red_api_reply_error(conn, &e);
        }
        red_buf_init(&out);
        if (!(pg = red_api_pg(api, err, sizeof(err)))) {
                ok = -2;
        } else {
                ok = red_nodes_pg_search(pg, st, &s, &out, err, sizeof(err));
                red_api_pg_done(api, pg, PQstatus(pg) == CONNECTION_OK);
        }
        red_nodes_search_free(&s);
        red_api_contracts_done(api, hold);
        if (ok) {
                red_log_warn("api", "node search: %s", err);
                count(n, OP_SEARCH, OUT_UNAVAILABLE, t0);
                r = error(conn, ok == -2 ? 503 : 500, NULL, err);
        } else {
                red_buf_putc(&out, '\n');
                count(n, OP_SEARCH, OUT_OK, t0);
                r = red_api_reply(conn, 200, out.data, out.len);
        }
        red_buf_destroy(&out);
        return r;
}

static enum MHD_Result get_node(red_api_t *api, red_api_nodes_t *n,
                                struct MHD_Connection *conn, const char *id)
{
        int64_t t0 = red_time_mono_us();
        const red_contract_set_t *set;
        const red_state_t *st;
        void *hold;
        PGconn *pg;
        red_buf_t out;
        char err[1024];
        bool found = false;
        enum MHD_Result r;
        int ok = -2;

        set = red_api_contracts(api, &hold);
        if (!(st = registry(set, NULL))) {
                red_api_contracts_done(api, hold);
                count(n, OP_GET, OUT_NOT_FOUND, t0);
                return error(conn, 404, NULL, "no node registry is served");
        }
        red_buf_init(&out);
        if ((pg = red_api_pg(api, err, sizeof(err)))) {
                ok = red_nodes_pg_get(pg, st, id, &out, &found, err,
                                      sizeof(err));
                red_api_pg_done(api, pg, PQstatus(pg) == CONNECTION_OK);
        }
        red_api_contracts_done(api, hold);
        if (ok) {
                count(n, OP_GET, OUT_UNAVAILABLE, t0);
                r = error(conn, ok == -2 ? 503 : 500, NULL, err);
        } else if (!found) {
                count(n, OP_GET, OUT_NOT_FOUND, t0);
                snprintf(err, sizeof(err),
                         "node %.200s is not registered (or deregistered)", id);
                r = error(conn, 404, NULL, err);
        } else {
                red_buf_putc(&out, '\n');
                count(n, OP_GET, OUT_OK, t0);
                r = red_api_reply(conn, 200, out.data, out.len);
        }
        red_buf_destroy(&out);
        return r;
}

/* POST, PUT, DELETE: the event published, once Kafka has it. */
static enum MHD_Result write_node(red_api_t *api, red_api_nodes_t *n,
                                  struct MHD_Connection *conn,
                                  red_nodes_op_t op, const char *id,
                                  const req_t *q)
{
        static const int ops[] = {OP_REGISTER, OP_HEARTBEAT, OP_DEREGISTER};
        int64_t t0 = red_time_mono_us();
        const red_contract_set_t *set;
        const red_contract_t *c = NULL;
        red_nodes_write_t w;
        red_query_error_t e;
        red_syncprod_t *pub;
        red_buf_t out;
        void *hold;
        char err[1024];
        enum MHD_Result r;

        if (q->too_large) {
                count(n, ops[op], OUT_INVALID, t0);
                return error(conn, 413, NULL,
                             "the body is larger than 256 KiB");
        }
        set = red_api_contracts(api, &hold);
        if (!registry(set, &c)) {
                red_api_contracts_done(api, hold);
                count(n, ops[op], OUT_NOT_FOUND, t0);
                return error(conn, 404, NULL, "no node registry is served");
        }
        if (red_nodes_event(c, op, q->body.data ? q->body.data : "",
                            q->body.len, id, "api", red_time_now(), &w, &e)) {
                red_api_contracts_done(api, hold);
                count(n, ops[op],
                      e.status == 400 ? OUT_INVALID : OUT_UNAVAILABLE, t0);
                return red_api_reply_error(conn, &e);
        }
        if (!(pub = producer(n, n->conf, err, sizeof(err))) ||
            red_syncprod_send(pub, w.topic, w.key, w.value, w.len, w.event_type,
                              ACK_TIMEOUT_MS, err, sizeof(err))) {
                red_api_contracts_done(api, hold);
                red_nodes_write_free(&w);
                red_log_warn("api", "node registry write: %s", err);
                count(n, ops[op], OUT_UNAVAILABLE, t0);
                return error(conn, 503, NULL, err);
        }
        red_buf_init(&out);
        red_nodes_write_answer(&w, &out);
        red_api_contracts_done(api, hold);
        red_nodes_write_free(&w);
        count(n, ops[op], OUT_OK, t0);
        r = red_api_reply(conn, 202, out.data, out.len);
        red_buf_destroy(&out);
        return r;
}

/* The path after /v1/nodes/ split at its first slash. */
static bool split(const char *rest, char *first, size_t size, const char **tail)
{
        size_t len = strcspn(rest, "/");

        if (!len || len >= size) {
                return false;
        }
        memcpy(first, rest, len);
        first[len] = '\0';
        *tail = rest[len] ? rest + len + 1 : NULL;
        return true;
}

static enum MHD_Result dispatch(red_api_t *api, red_api_nodes_t *n,
                                struct MHD_Connection *conn, const char *url,
                                const char *method, const req_t *q)
{
        bool get = !strcmp(method, MHD_HTTP_METHOD_GET) ||
                   !strcmp(method, MHD_HTTP_METHOD_HEAD);
        const char *rest = url[9] ? url + 10 : "", *tail = NULL;
        char seg[512], arg[512];
        red_query_param_t fixed[MAX_FIXED];

        if (!*rest) {
                if (!strcmp(method, MHD_HTTP_METHOD_POST)) {
                        return write_node(api, n, conn, RED_NODES_REGISTER,
                                          NULL, q);
                }
                return error(conn, 405, NULL,
                             "/v1/nodes takes POST (a registration); search "
                             "with GET /v1/nodes/search");
        }
        if (!split(rest, seg, sizeof(seg), &tail)) {
                return error(conn, 404, NULL, "no such node route");
        }
        if (get && !strcmp(seg, "search") && !tail) {
                return search(api, n, conn, NULL, 0);
        }
        if (get && !strcmp(seg, "discover") && tail &&
            split(tail, arg, sizeof(arg), &tail) && tail && *tail &&
            !strchr(tail, '/')) {
                if (!strcmp(arg, "capability") || !strcmp(arg, "type")) {
                        fixed[0].name = !strcmp(arg, "type") ? "node_type"
                                                             : "capability";
                        fixed[0].value = tail;
                        return search(api, n, conn, fixed, 1);
                }
                if (!strcmp(arg, "healthy")) {
                        fixed[0] = (red_query_param_t){"node_type", tail};
                        fixed[1] =
                                (red_query_param_t){"health_status", "healthy"};
                        return search(api, n, conn, fixed, 2);
                }
        }
        if (!tail) {
                if (get) {
                        return get_node(api, n, conn, seg);
                }
                if (!strcmp(method, MHD_HTTP_METHOD_DELETE)) {
                        return write_node(api, n, conn, RED_NODES_DEREGISTER,
                                          seg, q);
                }
                return error(conn, 405, NULL,
                             "/v1/nodes/{id} takes GET or DELETE");
        }
        if (!strcmp(tail, "health")) {
                if (!strcmp(method, MHD_HTTP_METHOD_PUT)) {
                        return write_node(api, n, conn, RED_NODES_HEARTBEAT,
                                          seg, q);
                }
                return error(conn, 405, NULL,
                             "/v1/nodes/{id}/health takes PUT");
        }
        return error(conn, 404, NULL,
                     "no such node route (GET /v1 lists them)");
}

enum MHD_Result red_api_nodes_handle(red_api_t *api, red_api_nodes_t *n,
                                     struct MHD_Connection *conn,
                                     const char *url, const char *method,
                                     const char *upload, size_t *upload_size,
                                     void **con_cls)
{
        req_t *q = *con_cls;

        if (!q) {
                /* headers only so far */
                if (!(q = calloc(1, sizeof(*q)))) {
                        return MHD_NO;
                }
                q->magic = REQ_MAGIC;
                red_buf_init(&q->body);
                *con_cls = q;
                return MHD_YES;
        }
        if (*upload_size) {
                if (q->body.len + *upload_size > MAX_BODY) {
                        q->too_large = true;
                } else {
                        red_buf_append(&q->body, upload, *upload_size);
                }
                *upload_size = 0;
                return MHD_YES;
        }
        if (q->body.failed) {
                return MHD_NO;
        }
        return dispatch(api, n, conn, url, method, q);
}
