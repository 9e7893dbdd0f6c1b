/* red_api_params - a request's query-string parameters, up to a limit. */
#include "red_api_params.h"

#include <errno.h>
#include <stdbool.h>

/* What the iteration over the request's arguments fills. */
typedef struct collect_s {
        red_query_param_t *p;
        size_t limit;
        size_t cnt;
        bool too_many;
} collect_t;

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind,
                               const char *key, const char *value)
{
        collect_t *c = cls;

        (void)kind;
        if (c->cnt == c->limit) {
                c->too_many = true;
                return MHD_NO;
        }
        c->p[c->cnt].name = key;
        c->p[c->cnt++].value = value ? value : "";
        return MHD_YES;
}

int red_api_params_collect(struct MHD_Connection *conn, red_query_param_t *p,
                           size_t limit, size_t *cnt)
{
        collect_t c = {p, limit, 0, false};

        MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect, &c);
        *cnt = c.cnt;
        return c.too_many ? -E2BIG : 0;
}
