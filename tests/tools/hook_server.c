/* hook_server - collects request bodies and hands them to the caller. */
#include "hook_server.h"

#include <stdlib.h>
#include <string.h>

typedef struct hook_s {
        hook_fn *fn;
        void *arg;
} hook_t;

typedef struct upload_s {
        char *data;
        size_t len;
} upload_t;

static hook_t hook;

const char *hook_header(struct MHD_Connection *c, const char *name)
{
        const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);

        return v ? v : "";
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *data,
                                  size_t *size, void **state)
{
        const hook_t *h = cls;
        upload_t *u = *state;
        struct MHD_Response *resp;
        enum MHD_Result r;
        unsigned status;

        (void)method;
        (void)version;
        if (!u) {
                *state = calloc(1, sizeof(upload_t));
                return *state ? MHD_YES : MHD_NO;
        }
        if (*size) {
                char *n = realloc(u->data, u->len + *size + 1);
                if (!n) {
                        return MHD_NO;
                }
                memcpy(n + u->len, data, *size);
                u->data = n;
                u->len += *size;
                u->data[u->len] = '\0';
                *size = 0;
                return MHD_YES;
        }
        status = h->fn(h->arg, url, c, u->data ? u->data : "");
        free(u->data);
        free(u);
        *state = NULL;
        resp = MHD_create_response_from_buffer(2, (void *)"ok",
                                               MHD_RESPMEM_PERSISTENT);
        r = MHD_queue_response(c, status, resp);
        MHD_destroy_response(resp);
        return r;
}

struct MHD_Daemon *hook_server_start(hook_fn *fn, void *arg, int *port)
{
        struct MHD_Daemon *d;

        hook.fn = fn;
        hook.arg = arg;
        d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
                             on_request, &hook, MHD_OPTION_END);
        if (d) {
                *port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
        }
        return d;
}
