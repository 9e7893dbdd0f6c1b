/*
 * hook_server - a small HTTP server that receives alerts, for the alerts
 * suite and bench_alert: libmicrohttpd on 127.0.0.1, an ephemeral port,
 * its own thread; every request's body is collected and handed to the
 * caller, whose answer is the status sent back.
 */
#ifndef HOOK_SERVER_H
#define HOOK_SERVER_H

#include <microhttpd.h>

/**
 * Called for each request, on the server's thread, with its path, the
 * connection (for hook_header()) and its whole body ("" when none).
 * Returns the HTTP status to answer.
 */
typedef unsigned hook_fn(void *arg, const char *path, struct MHD_Connection *c,
                         const char *body);

/** Starts the server; sets *@p port. NULL when it cannot. Stop with
 * MHD_stop_daemon(). */
struct MHD_Daemon *hook_server_start(hook_fn *fn, void *arg, int *port);

/** The value of request header @p name, or "". */
const char *hook_header(struct MHD_Connection *c, const char *name);

#endif
