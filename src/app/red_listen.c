/* red_listen - "host:port" settings resolved for a listening socket. */
#include "red_listen.h"

#include <stdio.h>
#include <string.h>

struct addrinfo *red_listen_resolve(const char *setting, const char *listen,
                                    char *errstr, size_t errstr_size)
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
