/*
 * red_listen - a listen address setting ("host:port", "[::1]:port"; port
 * 0 picks a free one) resolved for a server socket: the ops endpoint
 * (red_http) and the read API (red_api) read theirs the same way.
 */
#ifndef RED_LISTEN_H
#define RED_LISTEN_H

#include <netdb.h>
#include <stddef.h>

/**
 * Resolves @p listen, the value of setting @p setting (named in errors).
 * Returns the first address (caller frees with freeaddrinfo()), or NULL
 * with "setting \"value\": problem" in @p errstr.
 */
struct addrinfo *red_listen_resolve(const char *setting, const char *listen,
                                    char *errstr, size_t errstr_size);

#endif
