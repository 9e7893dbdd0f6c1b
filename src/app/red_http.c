/* red_http - /metrics, /healthz, /readyz over libmicrohttpd. */
#include "red_http.h"

#include "red_listen.h"
#include "red_log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

struct red_http_s {
        struct MHD_Daemon *mhd;
        red_http_metrics_cb *metrics;
        red_http_ready_cb *ready;
        void *opaque;
        int port;
        bool starting;       /* MHD_start_daemon() is running */
        char start_msg[512]; /* libmicrohttpd's last word while starting */
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status,
                             const char *type, const char *body, size_t len)
{
        struct MHD_Response *res = MHD_create_response_from_buffer(
                len, (void *)body, MHD_RESPMEM_MUST_COPY);
        enum MHD_Result r;

        if (!res) {
                return MHD_NO;
        }
        MHD_add_response_header(res, "Content-Type", type);
        r = MHD_queue_response(conn, status, res);
        MHD_destroy_response(res);
        return r;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn,
                              const char *url, const char *method,
                              const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
        red_http_t *h = cls;
        char reason[512];
        enum MHD_Result r;

        (void)version;
        (void)upload;
        (void)upload_size;
        (void)con_cls;
        if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
                return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
                             "GET only\n", 9);
        }
        if (!strcmp(url, "/metrics")) {
                red_buf_t b;
                red_buf_init(&b);
                h->metrics(h->opaque, &b);
                r = reply(conn, MHD_HTTP_OK,
                          "text/plain; version=0.0.4; charset=utf-8",
                          b.data ? b.data : "", b.len);
                red_buf_destroy(&b);
                return r;
        }
        if (!strcmp(url, "/healthz")) {
                return reply(conn, MHD_HTTP_OK, "text/plain", "ok\n", 3);
        }
        if (!strcmp(url, "/readyz")) {
                if (h->ready(h->opaque, reason, sizeof(reason))) {
                        return reply(conn, MHD_HTTP_OK, "text/plain", "ready\n",
                                     6);
                }
                strncat(reason, "\n", sizeof(reason) - strlen(reason) - 1);
                return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain",
                             reason, strlen(reason));
        }
        return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain",
                     "not found (try /metrics, /healthz, /readyz)\n", 44);
}

/* --- capacity ----------------------------------------------------- */

/* Descriptors kept for everything else the process opens: Kafka and
 * Postgres connections, the embedded cluster, files. */
#define FD_RESERVE 256
/* Connections only other addresses may take: however many idle
 * connections one client holds, a probe from elsewhere (the kubelet, a
 * load balancer) still gets in. */
#define OTHERS_MIN 16
/* An idle connection is closed after this long: a scrape or a probe is
 * one quick request, a client that sends nothing only holds a slot. */
#define IDLE_TIMEOUT_S 5
/* Per-connection memory: our requests are a request line and a few
 * headers; thousands of idle connections must not cost 32 KiB each. */
#define CONN_MEMORY (8 * 1024)

/* How many connections to serve: what the open-files limit allows after
 * the reserve (epoll has no FD_SETSIZE ceiling), within sane bounds. */
static unsigned capacity(void)
{
        struct rlimit rl;
        rlim_t n = 1024;

        if (!getrlimit(RLIMIT_NOFILE, &rl)) {
                n = rl.rlim_cur == RLIM_INFINITY ? 65536 + FD_RESERVE
                                                 : rl.rlim_cur;
        }
        n = n > FD_RESERVE + 64 ? n - FD_RESERVE : 64;
        return n > 65536 ? 65536u : (unsigned)n;
}

/* At most this many from one address: all but the share kept for others. */
static unsigned per_address(unsigned cap)
{
        return cap - (cap / 16 > OTHERS_MIN ? cap / 16 : OTHERS_MIN);
}

/* --- libmicrohttpd's messages ------------------------------------ */

/* While starting, libmicrohttpd's last message is kept for the error
 * returned; afterwards its messages (mostly about single connections,
 * e.g. a client over its limit) are debug lines, never a flood. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
        red_http_t *h = cls;
        char msg[512];

        vsnprintf(msg, sizeof(msg), fmt, ap);
        msg[strcspn(msg, "\n")] = '\0';
        if (h->starting) {
                snprintf(h->start_msg, sizeof(h->start_msg), "%s", msg);
        } else {
                red_log_debug("http", "%s", msg);
        }
}

red_http_t *red_http_start(const char *listen, red_http_metrics_cb *metrics,
                           red_http_ready_cb *ready, void *opaque, char *errstr,
                           size_t errstr_size)
{
        const union MHD_DaemonInfo *info;
        red_http_t *h;
        unsigned cap;
        int fd = red_listen_socket("http.listen", listen, errstr, errstr_size);

        if (fd < 0) {
                return NULL;
        }
        if (!(h = calloc(1, sizeof(*h)))) {
                close(fd);
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        h->metrics = metrics;
        h->ready = ready;
        h->opaque = opaque;
        h->starting = true;
        cap = capacity();
        h->mhd = MHD_start_daemon(
                MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL,
                NULL, handle, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
                MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
                MHD_OPTION_CONNECTION_LIMIT, cap,
                MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_address(cap),
                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S,
                MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
                MHD_OPTION_END);
        if (!h->mhd) {
                snprintf(errstr, errstr_size,
                         "http.listen \"%s\": cannot start the HTTP server%s%s",
                         listen, h->start_msg[0] ? ": " : "", h->start_msg);
                close(fd);
                free(h);
                return NULL;
        }
        h->starting = false;
        info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
        h->port = info ? info->port : 0;
        red_log_debug("http",
                      "serving up to %u connections, at most %u "
                      "from one address; idle ones close after %d s",
                      cap, per_address(cap), IDLE_TIMEOUT_S);
        return h;
}

int red_http_port(const red_http_t *h)
{
        return h->port;
}

void red_http_stop(red_http_t *h)
{
        if (!h) {
                return;
        }
        MHD_stop_daemon(h->mhd);
        free(h);
}
