/* red_http - /metrics, /healthz, /readyz over libmicrohttpd. */
#include "red_http.h"

#include "red_listen.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct red_http_s {
        struct MHD_Daemon *mhd;
        red_http_metrics_cb *metrics;
        red_http_ready_cb *ready;
        void *opaque;
        int port;
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

red_http_t *red_http_start(const char *listen, red_http_metrics_cb *metrics,
                           red_http_ready_cb *ready, void *opaque, char *errstr,
                           size_t errstr_size)
{
        struct addrinfo *ai =
                red_listen_resolve("http.listen", listen, errstr, errstr_size);
        const union MHD_DaemonInfo *info;
        red_http_t *h;

        if (!ai) {
                return NULL;
        }
        if (!(h = calloc(1, sizeof(*h)))) {
                freeaddrinfo(ai);
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        h->metrics = metrics;
        h->ready = ready;
        h->opaque = opaque;
        h->mhd = MHD_start_daemon(
                MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
                        (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0),
                0, NULL, NULL, handle, h, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
                MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_END);
        freeaddrinfo(ai);
        if (!h->mhd) {
                snprintf(errstr, errstr_size,
                         "http.listen \"%s\": cannot listen (address in use "
                         "or not local?)",
                         listen);
                free(h);
                return NULL;
        }
        info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
        h->port = info ? info->port : 0;
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
