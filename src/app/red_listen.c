/* red_listen - "host:port" settings resolved for a listening socket. */
#include "red_listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * Resolves @p listen, the value of setting @p setting (named in errors).
 * Returns the first address (caller frees with freeaddrinfo()), or NULL
 * with "setting \"value\": problem" in @p errstr.
 */
static struct addrinfo *red_listen_resolve(const char *setting,
                                           const char *listen, char *errstr,
                                           size_t errstr_size)
{
        const char *colon = strrchr(listen, ':');
        struct addrinfo hints, *ai = NULL;
        char host[256];
        int e;

        if (!colon || colon == listen) {
                snprintf(errstr, errstr_size, "%s \"%s\": expected host:port",
                         setting, listen);
                return NULL;
        }
        snprintf(host, sizeof(host), "%.*s", (int)(colon - listen), listen);
        if (host[0] == '[') { /* [::1]:9464 */
                memmove(host, host + 1, strlen(host));
                host[strcspn(host, "]")] = '\0';
        }
        memset(&hints, 0, sizeof(hints));
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
        if ((e = getaddrinfo(host, colon + 1, &hints, &ai))) {
                snprintf(errstr, errstr_size, "%s \"%s\": %s", setting, listen,
                         gai_strerror(e));
                return NULL;
        }
        return ai;
}

/* The numeric "host:port" of @p ai for messages. */
static void describe(const struct addrinfo *ai, char *buf, size_t size)
{
        char host[INET6_ADDRSTRLEN] = "?", port[16] = "?";

        getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof(host), port,
                    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV);
        snprintf(buf, size, ai->ai_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
                 host, port);
}

/* Binding ourselves (rather than handing libmicrohttpd an address) lets a
 * failure name the address and the port: libmicrohttpd only says "Failed
 * to bind to port 0" when given an address. */
int red_listen_socket(const char *setting, const char *addr, char *errstr,
                      size_t errstr_size)
{
        struct addrinfo *ai =
                red_listen_resolve(setting, addr, errstr, errstr_size);
        char where[INET6_ADDRSTRLEN + 16];
        const char *step = "socket";
        int fd, one = 1;

        if (!ai) {
                return -1;
        }
        describe(ai, where, sizeof(where));
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
                    0);
        if (fd >= 0) {
                step = "bind";
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
                if (!bind(fd, ai->ai_addr, ai->ai_addrlen)) {
                        step = "listen";
                        if (!listen(fd, SOMAXCONN)) {
                                freeaddrinfo(ai);
                                return fd;
                        }
                }
        }
        snprintf(errstr, errstr_size, "%s \"%s\": cannot listen on %s (%s: %s)",
                 setting, addr, where, step, strerror(errno));
        if (fd >= 0) {
                close(fd);
        }
        freeaddrinfo(ai);
        return -1;
}
