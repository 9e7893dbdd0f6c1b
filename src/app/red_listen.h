/*
 * red_listen - a listen address setting ("host:port", "[::1]:port"; port
 * 0 picks a free one) turned into a listening socket: the ops endpoint
 * (red_http) and the read API (red_api) open theirs the same way, so a
 * failure names the setting, the address and the port.
 */
#ifndef RED_LISTEN_H
#define RED_LISTEN_H

#include <netdb.h>
#include <stddef.h>

/**
 * Resolves @p listen and binds and listens on it (non-blocking,
 * close-on-exec, SO_REUSEADDR). Returns the socket (the caller owns it) or
 * -1 with e.g. "http.listen \"127.0.0.1:9464\": cannot listen on
 * 127.0.0.1:9464 (bind: Address already in use)" in @p errstr.
 */
int red_listen_socket(const char *setting, const char *listen, char *errstr,
                      size_t errstr_size);

#endif
