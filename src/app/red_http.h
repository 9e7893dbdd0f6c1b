/*
 * red_http - the operations endpoint: /metrics (Prometheus text),
 * /healthz and /readyz, served by libmicrohttpd on its own thread.
 * The content comes from the caller's callbacks, called on that thread.
 */
#ifndef RED_HTTP_H
#define RED_HTTP_H

#include "red_buf.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct red_http_s red_http_t;

/** Appends the /metrics text to @p out. */
typedef void(red_http_metrics_cb)(void *opaque, red_buf_t *out);
/** True when ready; otherwise a reason in @p reason. */
typedef bool(red_http_ready_cb)(void *opaque, char *reason, size_t size);

/**
 * Listens on @p listen ("host:port"; port 0 picks a free one). Returns
 * NULL with a message naming the address and port ("http.listen
 * \"127.0.0.1:9464\": cannot listen on 127.0.0.1:9464 (bind: Address
 * already in use)"). Stop with red_http_stop().
 *
 * Probes keep their capacity: the server takes as many connections as the
 * open-files limit allows (less a reserve for Kafka and Postgres), one
 * address never more than 15/16 of them, and idle connections close after
 * 5 s; so clients holding idle connections do not starve /healthz.
 */
red_http_t *red_http_start(const char *listen, red_http_metrics_cb *metrics,
                           red_http_ready_cb *ready, void *opaque, char *errstr,
                           size_t errstr_size);

/** The port actually bound. */
int red_http_port(const red_http_t *h);

/** Stops the server and frees it; accepts NULL. */
void red_http_stop(red_http_t *h);

#endif
