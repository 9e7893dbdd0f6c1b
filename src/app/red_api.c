/* red_api - GET /v1 on libmicrohttpd: routes, auth, formats, gzip, streams. */
#include "red_api.h"

#include "red_api_impl.h"
#include "red_api_nodes.h"
#include "red_api_params.h"
#include "red_buf.h"
#include "red_listen.h"
#include "red_log.h"
#include "red_openapi.h"
#include "red_pgpool.h"
#include "red_query.h"
#include "red_query_pg.h"
#include "red_time.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/* How long a request waits for a free PostgreSQL connection. */
#define POOL_WAIT_MS 2000
/* Bytes produced per step of a streamed export. */
#define STREAM_CHUNK (64 * 1024)
/* Most query parameters of one request (a 1 MB query string is refused
 * long before: libmicrohttpd keeps the request line in 64 KiB). */
#define MAX_PARAMS 256

/* The contracts, shared by the requests in flight; swapped on reload. */
typedef struct cset_s {
        red_contract_set_t set;
        int refs;
} cset_t;

struct red_api_s {
        struct MHD_Daemon *mhd;
        red_pgpool_t *pool;
        pthread_mutex_t lock;
        cset_t *cur;
        char *token; /* bearer token or NULL; never logged */
        long statement_ms;
        int64_t max_rows, max_export_rows;
        int port;
        char *tls_cert, *tls_key;
        red_api_nodes_t *nodes; /* the node registry's routes */
};

/* --- contracts --------------------------------------------------------- */

static cset_t *cset_take(red_contract_set_t *set)
{
        cset_t *c = calloc(1, sizeof(*c));

        if (c) {
                c->set = *set;
                c->refs = 1;
                memset(set, 0, sizeof(*set));
        }
        return c;
}

static cset_t *acquire(red_api_t *api)
{
        cset_t *c;

        pthread_mutex_lock(&api->lock);
        c = api->cur;
        c->refs++;
        pthread_mutex_unlock(&api->lock);
        return c;
}

static void release(red_api_t *api, cset_t *c)
{
        bool last;

        pthread_mutex_lock(&api->lock);
        last = --c->refs == 0;
        pthread_mutex_unlock(&api->lock);
        if (last) {
                red_contract_set_destroy(&c->set);
                free(c);
        }
}

void red_api_reload(red_api_t *api, red_contract_set_t *set)
{
        cset_t *c = cset_take(set), *old;

        if (!c) {
                red_log_error("api", "reload: out of memory; keeping the "
                                     "contracts served");
                red_contract_set_destroy(set);
                return;
        }
        pthread_mutex_lock(&api->lock);
        old = api->cur;
        api->cur = c;
        pthread_mutex_unlock(&api->lock);
        release(api, old);
}

/* --- responses --------------------------------------------------------- */

/* Whether the client takes gzip: Accept-Encoding lists it without q=0. */
static bool wants_gzip(struct MHD_Connection *conn)
{
        const char *p = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                    "Accept-Encoding");

        while (p && *p) {
                const char *end, *qv;
                size_t len;
                p += strspn(p, " ,");
                len = strcspn(p, ",; ");
                end = p + strcspn(p, ",");
                if (len == 4 && !strncasecmp(p, "gzip", 4)) {
                        qv = strstr(p, "q=");
                        return !qv || qv > end || strtod(qv + 2, NULL) > 0;
                }
                p = end;
        }
        return false;
}

/* Compresses @p len bytes into a gzip member. NULL on failure. */
static char *gzip_all(const char *data, size_t len, size_t *out_len)
{
        z_stream z;
        size_t cap;
        char *out;

        memset(&z, 0, sizeof(z));
        if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
            Z_OK) {
                return NULL;
        }
        cap = deflateBound(&z, len) + 64;
        if (!(out = malloc(cap))) {
                deflateEnd(&z);
                return NULL;
        }
        z.next_in = (Bytef *)data;
        z.avail_in = (uInt)len;
        z.next_out = (Bytef *)out;
        z.avail_out = (uInt)cap;
        if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
                deflateEnd(&z);
                free(out);
                return NULL;
        }
        *out_len = cap - z.avail_out;
        deflateEnd(&z);
        return out;
}

static void common_headers(struct MHD_Response *res, const char *type)
{
        MHD_add_response_header(res, "Content-Type", type);
        MHD_add_response_header(res, "Cache-Control", "no-store");
        MHD_add_response_header(res, "Vary", "Accept, Accept-Encoding");
        MHD_add_response_header(res, "X-Content-Type-Options", "nosniff");
}

/* A whole body, compressed when the client takes gzip. */
static enum MHD_Result send_body(struct MHD_Connection *conn, unsigned status,
                                 const char *type, const char *body, size_t len,
                                 const char *next_cursor)
{
        struct MHD_Response *res;
        enum MHD_Result r;
        char *gz = NULL;
        size_t gz_len = 0;

        if (len > 256 && wants_gzip(conn)) {
                gz = gzip_all(body, len, &gz_len);
        }
        res = gz ? MHD_create_response_from_buffer(gz_len, gz,
                                                   MHD_RESPMEM_MUST_FREE)
                 : MHD_create_response_from_buffer(len, (void *)body,
                                                   MHD_RESPMEM_MUST_COPY);
        if (!res) {
                free(gz);
                return MHD_NO;
        }
        common_headers(res, type);
        if (gz) {
                MHD_add_response_header(res, "Content-Encoding", "gzip");
        }
        if (next_cursor) {
                MHD_add_response_header(res, "X-Next-Cursor", next_cursor);
        }
        if (status == MHD_HTTP_UNAUTHORIZED) {
                MHD_add_response_header(res, "WWW-Authenticate",
                                        "Bearer realm=\"reducerd\"");
        }
        if (status == MHD_HTTP_SERVICE_UNAVAILABLE) {
                MHD_add_response_header(res, "Retry-After", "1");
        }
        if (status == MHD_HTTP_METHOD_NOT_ALLOWED) {
                MHD_add_response_header(res, "Allow", "GET, HEAD");
        }
        r = MHD_queue_response(conn, status, res);
        MHD_destroy_response(res);
        return r;
}

static enum MHD_Result send_error(struct MHD_Connection *conn,
                                  const red_query_error_t *e)
{
        red_buf_t b;
        enum MHD_Result r;

        red_buf_init(&b);
        red_query_error_json(e, &b);
        r = send_body(conn, e->status ? (unsigned)e->status : 500,
                      "application/json", b.data ? b.data : "", b.len, NULL);
        red_buf_destroy(&b);
        return r;
}

static enum MHD_Result fail(struct MHD_Connection *conn, int status,
                            const char *fmt, ...) RED_PRINTF(3, 4);

static enum MHD_Result fail(struct MHD_Connection *conn, int status,
                            const char *fmt, ...)
{
        red_query_error_t e;
        va_list ap;

        memset(&e, 0, sizeof(e));
        e.status = status;
        va_start(ap, fmt);
        vsnprintf(e.message, sizeof(e.message), fmt, ap);
        va_end(ap);
        return send_error(conn, &e);
}

/* --- for the other handlers (red_api_impl.h) ---------------------------- */

enum MHD_Result red_api_reply(struct MHD_Connection *conn, unsigned status,
                              const char *body, size_t len)
{
        return send_body(conn, status, "application/json", body, len, NULL);
}

enum MHD_Result red_api_reply_error(struct MHD_Connection *conn,
                                    const red_query_error_t *e)
{
        return send_error(conn, e);
}

PGconn *red_api_pg(red_api_t *api, char *errstr, size_t size)
{
        return red_pgpool_get(api->pool, POOL_WAIT_MS, errstr, size);
}

void red_api_pg_done(red_api_t *api, PGconn *conn, bool reusable)
{
        red_pgpool_put(api->pool, conn, reusable);
}

const red_contract_set_t *red_api_contracts(red_api_t *api, void **hold)
{
        cset_t *c = acquire(api);

        *hold = c;
        return &c->set;
}

void red_api_contracts_done(red_api_t *api, void *hold)
{
        release(api, hold);
}

/* --- streaming ---------------------------------------------------------- */

/* An export in flight: the pooled connection stays with it until the
 * response is freed (sent, or the client went away). */
typedef struct stream_s {
        red_api_t *api;
        cset_t *cs;
        red_query_t *q;
        PGconn *pg;
        red_query_pg_t *x;
        bool gzip;
        z_stream z;
        red_buf_t raw, out;
        size_t off;
        bool ended;
} stream_t;

static void stream_free(void *cls)
{
        stream_t *st = cls;
        bool clean = red_query_pg_destroy(st->x);

        red_pgpool_put(st->api->pool, st->pg, clean);
        red_query_destroy(st->q);
        release(st->api, st->cs);
        if (st->gzip) {
                deflateEnd(&st->z);
        }
        red_buf_destroy(&st->raw);
        red_buf_destroy(&st->out);
        free(st);
}

/* Produces the next piece of the body into st->out. -1 on error. */
static int stream_more(stream_t *st)
{
        char err[512];
        int more;

        red_buf_reset(&st->raw);
        more = red_query_pg_fill(st->x, &st->raw, STREAM_CHUNK, err,
                                 sizeof(err));
        if (more < 0) {
                red_log_warn("api", "export ended early: %s", err);
                return -1;
        }
        if (!st->gzip) {
                red_buf_append(&st->out, st->raw.data, st->raw.len);
        } else {
                unsigned char tmp[16384];
                st->z.next_in = (Bytef *)st->raw.data;
                st->z.avail_in = (uInt)st->raw.len;
                do {
                        int zr;
                        st->z.next_out = tmp;
                        st->z.avail_out = sizeof(tmp);
                        zr = deflate(&st->z, more ? Z_NO_FLUSH : Z_FINISH);
                        if (zr == Z_STREAM_ERROR) {
                                return -1;
                        }
                        red_buf_append(&st->out, tmp,
                                       sizeof(tmp) - st->z.avail_out);
                } while (st->z.avail_out == 0 || (!more && st->z.avail_in));
        }
        st->ended = !more;
        return st->out.failed ? -1 : 0;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
        stream_t *st = cls;
        size_t n;

        (void)pos;
        while (st->off == st->out.len) {
                if (st->ended) {
                        return MHD_CONTENT_READER_END_OF_STREAM;
                }
                red_buf_reset(&st->out);
                st->off = 0;
                if (stream_more(st)) {
                        return MHD_CONTENT_READER_END_WITH_ERROR;
                }
        }
        n = st->out.len - st->off < max ? st->out.len - st->off : max;
        memcpy(buf, st->out.data + st->off, n);
        st->off += n;
        return (ssize_t)n;
}

/* --- requests ----------------------------------------------------------- */

/* The format an Accept header asks for, or NULL (the default). */
static const char *accepted_format(struct MHD_Connection *conn,
                                   red_query_kind_t kind)
{
        static const struct {
                const char *type, *format;
        } types[] = {
                {"application/json", "json"},
                {"application/x-ndjson", "ndjson"},
                {"application/ndjson", "ndjson"},
                {"application/jsonl", "ndjson"},
                {"text/csv", "csv"},
                {"text/plain", NULL}, /* table, or Prometheus text */
        };
        const char *accept =
                MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");
        const char *p = accept;

        while (p && *p) {
                size_t len;
                p += strspn(p, " ,");
                len = strcspn(p, ",;");
                for (size_t i = 0; i < sizeof(types) / sizeof(*types); i++) {
                        if (strlen(types[i].type) != len ||
                            strncasecmp(p, types[i].type, len)) {
                                continue;
                        }
                        if (types[i].format) {
                                return types[i].format;
                        }
                        return kind == RED_QUERY_SUMMARY ||
                                               kind == RED_QUERY_TOP
                                       ? "prometheus"
                                       : "table";
                }
                p += strcspn(p, ",");
        }
        return NULL;
}

/* /v1/... to a kind and its name. False for an unknown path. */
static bool route(const char *url, red_query_kind_t *kind, char *name,
                  size_t size)
{
        static const char *const agg_kinds[] = {"series", "summary", "top"};
        const char *rest, *slash;

        name[0] = '\0';
        if (strncmp(url, "/v1/", 4)) {
                return false;
        }
        rest = url + 4;
        if (!strcmp(rest, "contracts")) {
                *kind = RED_QUERY_CONTRACTS;
                return true;
        }
        if (!strcmp(rest, "workflows")) {
                *kind = RED_QUERY_WORKFLOWS;
                return true;
        }
        if (!strcmp(rest, "alerts")) {
                *kind = RED_QUERY_ALERTS;
                return true;
        }
        if (!strncmp(rest, "workflows/", 10) && rest[10] &&
            !strchr(rest + 10, '/')) {
                *kind = RED_QUERY_WORKFLOW;
                snprintf(name, size, "%s", rest + 10);
                return strlen(rest + 10) < size;
        }
        if (!strncmp(rest, "raw/", 4) && rest[4] && !strchr(rest + 4, '/')) {
                *kind = RED_QUERY_RAW;
                snprintf(name, size, "%s", rest + 4);
                return strlen(rest + 4) < size;
        }
        if (!strncmp(rest, "aggregations/", 13) &&
            (slash = strchr(rest + 13, '/')) && slash > rest + 13 &&
            (size_t)(slash - (rest + 13)) < size) {
                for (size_t i = 0; i < 3; i++) {
                        if (!strcmp(slash + 1, agg_kinds[i])) {
                                *kind = (red_query_kind_t)(RED_QUERY_SERIES +
                                                           i);
                                snprintf(name, size, "%.*s",
                                         (int)(slash - (rest + 13)), rest + 13);
                                return true;
                        }
                }
        }
        return false;
}

/* Constant-time comparison of the bearer token. */
static bool authorized(const red_api_t *api, struct MHD_Connection *conn)
{
        const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                    "Authorization");
        size_t tl, hl;
        unsigned char diff = 0;

        if (!api->token) {
                return true;
        }
        if (!h || strncasecmp(h, "Bearer ", 7)) {
                return false;
        }
        h += 7;
        tl = strlen(api->token);
        hl = strlen(h);
        for (size_t i = 0; i < tl; i++) {
                diff |= (unsigned char)(api->token[i] ^ (i < hl ? h[i] : 0));
        }
        return diff == 0 && hl == tl;
}

static const char index_body[] =
        "{\"endpoints\":[\"/v1/contracts\",\"/v1/aggregations/{name}/series\","
        "\"/v1/aggregations/{name}/summary\",\"/v1/aggregations/{name}/top\","
        "\"/v1/raw/{table}\",\"/v1/workflows\",\"/v1/workflows/{id}\","
        "\"/v1/alerts\",\"/v1/nodes/search\",\"/v1/nodes/{id}\","
        "\"/v1/nodes/discover/capability/{name}\","
        "\"/v1/nodes/discover/type/{type}\",\"/v1/nodes/discover/healthy/"
        "{type}\","
        "\"/v1/openapi.json\"]}\n";

/* Runs a plan: a whole body, or a stream for an export. */
static enum MHD_Result run(red_api_t *api, struct MHD_Connection *conn,
                           cset_t *cs, red_query_t *q)
{
        char err[1024];
        int status = 500;
        PGconn *pg = NULL;
        red_query_pg_t *x = NULL;
        enum MHD_Result r;
        red_buf_t body;

        for (int attempt = 0; attempt < 2 && !x; attempt++) {
                if (!(pg = red_pgpool_get(api->pool, POOL_WAIT_MS, err,
                                          sizeof(err)))) {
                        status = 503;
                        break;
                }
                x = red_query_pg_start(
                        pg, q, (const red_contract_t *const *)cs->set.items,
                        cs->set.cnt, &status, err, sizeof(err));
                if (!x) {
                        bool dead = PQstatus(pg) != CONNECTION_OK;
                        red_pgpool_put(api->pool, pg, !dead);
                        pg = NULL;
                        /* a connection the server closed meanwhile: once
                         * more on a fresh one */
                        if (!dead) {
                                break;
                        }
                }
        }
        if (!x) {
                red_query_destroy(q);
                release(api, cs);
                if (status >= 500) {
                        red_log_warn("api", "%s", err);
                }
                return fail(conn, status, "%s", err);
        }
        if (q->format == RED_FORMAT_NDJSON) {
                stream_t *st = calloc(1, sizeof(*st));
                struct MHD_Response *res;
                if (!st) {
                        red_query_pg_destroy(x);
                        red_pgpool_put(api->pool, pg, false);
                        red_query_destroy(q);
                        release(api, cs);
                        return MHD_NO;
                }
                *st = (stream_t){
                        .api = api, .cs = cs, .q = q, .pg = pg, .x = x};
                red_buf_init(&st->raw);
                red_buf_init(&st->out);
                st->gzip = wants_gzip(conn) &&
                           deflateInit2(&st->z, 6, Z_DEFLATED, 15 + 16, 8,
                                        Z_DEFAULT_STRATEGY) == Z_OK;
                res = MHD_create_response_from_callback(
                        MHD_SIZE_UNKNOWN, STREAM_CHUNK, stream_read, st,
                        stream_free);
                if (!res) {
                        stream_free(st);
                        return MHD_NO;
                }
                common_headers(res, red_format_content_type(q->format));
                if (st->gzip) {
                        MHD_add_response_header(res, "Content-Encoding",
                                                "gzip");
                }
                r = MHD_queue_response(conn, MHD_HTTP_OK, res);
                MHD_destroy_response(res);
                return r;
        }
        red_buf_init(&body);
        if (red_query_pg_fill(x, &body, SIZE_MAX, err, sizeof(err)) < 0) {
                status = 500;
        } else {
                status = 200;
        }
        {
                const char *next = red_query_pg_next_cursor(x);
                char *next_copy = next ? strdup(next) : NULL;
                bool clean = red_query_pg_destroy(x);
                red_pgpool_put(api->pool, pg, clean);
                r = status == 200
                            ? send_body(conn, 200,
                                        red_format_content_type(q->format),
                                        body.data ? body.data : "", body.len,
                                        q->format == RED_FORMAT_JSON
                                                ? NULL
                                                : next_copy)
                            : fail(conn, 500, "%s", err);
                free(next_copy);
        }
        red_buf_destroy(&body);
        red_query_destroy(q);
        release(api, cs);
        return r;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn,
                              const char *url, const char *method,
                              const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
        static int seen;
        red_api_t *api = cls;
        red_query_kind_t kind;
        red_query_error_t e;
        red_query_limits_t lim;
        char name[256];
        /* the request's, and the format an Accept header asks for */
        red_query_param_t p[MAX_PARAMS + 1];
        size_t cnt;
        bool has_format = false;
        const char *accepted;
        cset_t *cs;
        red_query_t *q;

        (void)version;
        if (red_api_nodes_route(url)) {
                /* the registry's routes read bodies and write */
                if (!*con_cls && !authorized(api, conn)) {
                        *con_cls = &seen;
                        return fail(conn, MHD_HTTP_UNAUTHORIZED,
                                    "missing or wrong bearer token "
                                    "(Authorization: Bearer ...)");
                }
                if (*con_cls == &seen) {
                        return MHD_YES; /* the refused request's body */
                }
                return red_api_nodes_handle(api, api->nodes, conn, url, method,
                                            upload, upload_size, con_cls);
        }
        (void)upload;
        if (!*con_cls) {
                /* headers only so far */
                *con_cls = &seen;
                return MHD_YES;
        }
        if (*upload_size) {
                /* a body on a GET is ignored */
                *upload_size = 0;
                return MHD_YES;
        }
        if (strcmp(method, MHD_HTTP_METHOD_GET) &&
            strcmp(method, MHD_HTTP_METHOD_HEAD)) {
                return fail(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
                            "the API is read-only but for /v1/nodes: GET or "
                            "HEAD");
        }
        if (!authorized(api, conn)) {
                return fail(conn, MHD_HTTP_UNAUTHORIZED,
                            "missing or wrong bearer token (Authorization: "
                            "Bearer ...)");
        }
        if (!strcmp(url, "/v1") || !strcmp(url, "/v1/") || !strcmp(url, "/")) {
                return send_body(conn, 200, "application/json", index_body,
                                 sizeof(index_body) - 1, NULL);
        }
        if (!strcmp(url, "/v1/openapi.json")) {
                return send_body(conn, 200, "application/json",
                                 red_openapi_json, red_openapi_json_len, NULL);
        }
        if (!route(url, &kind, name, sizeof(name))) {
                return fail(conn, MHD_HTTP_NOT_FOUND,
                            "no such endpoint (GET /v1 lists them; "
                            "/v1/openapi.json describes them)");
        }
        if (red_api_params_collect(conn, p, MAX_PARAMS, &cnt)) {
                return fail(conn, MHD_HTTP_BAD_REQUEST,
                            "more than %d query parameters", MAX_PARAMS);
        }
        for (size_t i = 0; i < cnt; i++) {
                has_format |= !strcmp(p[i].name, "format");
        }
        if (!has_format && (accepted = accepted_format(conn, kind))) {
                /* the slot past MAX_PARAMS */
                p[cnt].name = "format";
                p[cnt++].value = accepted;
        }
        lim = (red_query_limits_t){api->max_rows, api->max_export_rows,
                                   red_time_now()};
        cs = acquire(api);
        q = red_query_plan((const red_contract_t *const *)cs->set.items,
                           cs->set.cnt, kind, name[0] ? name : NULL, p, cnt,
                           &lim, &e);
        if (!q) {
                release(api, cs);
                return send_error(conn, &e);
        }
        return run(api, conn, cs, q);
}

/* --- the server ---------------------------------------------------------- */

/* A request is over: what the registry's routes kept for it goes. */
static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
        (void)cls;
        (void)conn;
        (void)toe;
        red_api_nodes_completed(*con_cls);
        *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
        char msg[512];

        (void)cls;
        vsnprintf(msg, sizeof(msg), fmt, ap);
        msg[strcspn(msg, "\n")] = '\0';
        red_log_warn("api", "%s", msg);
}

static int setup_session(void *opaque, PGconn *conn, char *errstr, size_t size)
{
        red_api_t *api = opaque;

        /* an export's transaction may wait for a slow client between two
         * fetches, but not forever */
        return red_query_pg_session(conn, api->statement_ms,
                                    api->statement_ms + 120000, errstr, size);
}

static char *read_file(const red_config_t *conf, const char *rel, char *errstr,
                       size_t size)
{
        char *path = red_config_path(conf, rel), *data = NULL;
        FILE *fp = path ? fopen(path, "rb") : NULL;
        long len;

        if (!fp || fseek(fp, 0, SEEK_END) || (len = ftell(fp)) < 0 ||
            len > 1024 * 1024 || fseek(fp, 0, SEEK_SET) ||
            !(data = calloc(1, (size_t)len + 1)) ||
            fread(data, 1, (size_t)len, fp) != (size_t)len) {
                snprintf(errstr, size, "%s: %s", path ? path : rel,
                         fp ? "unreadable or larger than 1 MiB"
                            : strerror(errno));
                free(data);
                data = NULL;
        }
        if (fp) {
                fclose(fp);
        }
        free(path);
        return data;
}

red_api_t *red_api_start(const red_config_t *conf, red_contract_set_t *set,
                         char *errstr, size_t errstr_size)
{
        const char *listen = conf->api_listen;
        int fd = red_listen_socket("api.listen", listen, errstr, errstr_size);
        const union MHD_DaemonInfo *info;
        red_api_t *api;
        unsigned flags;

        if (fd < 0) {
                return NULL;
        }
        if (!(api = calloc(1, sizeof(*api)))) {
                close(fd);
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        pthread_mutex_init(&api->lock, NULL);
        api->statement_ms = (long)conf->api_statement_timeout_ms;
        api->max_rows = conf->api_max_rows;
        api->max_export_rows = conf->api_max_export_rows;
        if (*conf->api_token && !(api->token = strdup(conf->api_token))) {
                goto oom;
        }
        if (*conf->api_tls_cert &&
            (!(api->tls_cert = read_file(conf, conf->api_tls_cert, errstr,
                                         errstr_size)) ||
             !(api->tls_key = read_file(conf, conf->api_tls_key, errstr,
                                        errstr_size)))) {
                goto err;
        }
        if (!(api->cur = cset_take(set)) ||
            !(api->pool = red_pgpool_new(conf->postgres_conninfo,
                                         (size_t)conf->api_pg_connections,
                                         setup_session, api)) ||
            !(api->nodes = red_api_nodes_new(conf))) {
                goto oom;
        }
        flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
                (api->tls_cert ? MHD_USE_TLS : 0);
        api->mhd = MHD_start_daemon(
                flags, 0, NULL, NULL, handle, api, MHD_OPTION_EXTERNAL_LOGGER,
                mhd_log, NULL, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
                MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
                MHD_OPTION_THREAD_POOL_SIZE, (unsigned)conf->api_threads,
                MHD_OPTION_CONNECTION_LIMIT,
                (unsigned)conf->api_max_connections,
                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)conf->api_timeout_s,
                MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
                /* without TLS the list ends here */
                api->tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END,
                api->tls_cert, MHD_OPTION_HTTPS_MEM_KEY, api->tls_key,
                MHD_OPTION_END);
        if (!api->mhd) {
                snprintf(errstr, errstr_size,
                         "api.listen \"%s\": cannot start the API server "
                         "(a bad TLS certificate or key?)",
                         listen);
                goto err;
        }
        fd = -1; /* the server's now */
        info = MHD_get_daemon_info(api->mhd, MHD_DAEMON_INFO_BIND_PORT);
        api->port = info ? info->port : 0;
        red_log_info("api", "read API on %s://%.*s:%d (%lld threads%s)",
                     api->tls_cert ? "https" : "http",
                     (int)(strrchr(listen, ':') - listen), listen, api->port,
                     (long long)conf->api_threads,
                     api->token ? ", bearer token required" : "");
        return api;
oom:
        snprintf(errstr, errstr_size, "out of memory");
err:
        if (fd >= 0) {
                close(fd);
        }
        if (api->cur) {
                /* give the contracts back to the caller */
                *set = api->cur->set;
                free(api->cur);
                api->cur = NULL;
        }
        red_pgpool_destroy(api->pool);
        red_api_nodes_destroy(api->nodes);
        free(api->token);
        free(api->tls_cert);
        free(api->tls_key);
        pthread_mutex_destroy(&api->lock);
        free(api);
        return NULL;
}

int red_api_port(const red_api_t *api)
{
        return api->port;
}

void red_api_set_brokers(red_api_t *api, const char *brokers)
{
        red_api_nodes_set_brokers(api->nodes, brokers);
}

void red_api_registry_metrics(red_api_t *api, red_buf_t *out)
{
        if (api) {
                red_api_nodes_metrics(api, api->nodes, out);
        }
}

void red_api_stop(red_api_t *api)
{
        if (!api) {
                return;
        }
        MHD_stop_daemon(api->mhd);
        red_api_nodes_destroy(api->nodes);
        red_pgpool_destroy(api->pool);
        release(api, api->cur);
        if (api->token) {
                /* the secret does not outlive the server in memory */
                memset(api->token, 0, strlen(api->token));
        }
        free(api->token);
        free(api->tls_cert);
        free(api->tls_key);
        pthread_mutex_destroy(&api->lock);
        free(api);
}
