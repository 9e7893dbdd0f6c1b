/*
 * red_api_impl - what the read API's request handlers share (red_api.c,
 * which owns the server, and red_api_nodes.c, the node registry's routes):
 * replies, pooled PostgreSQL connections, the contracts served. Not for
 * other modules.
 */
#ifndef RED_API_IMPL_H
#define RED_API_IMPL_H

#include "red_contract.h"
#include "red_qtypes.h"

#include <libpq-fe.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

/* red_api.h's handle (not included: red_api.c includes this header) */
typedef struct red_api_s red_api_t;

/** A whole JSON body with @p status (gzip'd when the client takes it). */
enum MHD_Result red_api_reply(struct MHD_Connection *conn, unsigned status,
                              const char *body, size_t len);

/** An error object ({"error": {status, parameter, message, allowed}}). */
enum MHD_Result red_api_reply_error(struct MHD_Connection *conn,
                                    const red_query_error_t *e);

/** A pooled connection (waits a while when all are busy), or NULL with a
 * message; give it back with red_api_pg_done(). */
PGconn *red_api_pg(red_api_t *api, char *errstr, size_t size);
void red_api_pg_done(red_api_t *api, PGconn *conn, bool reusable);

/** The contracts served, held until red_api_contracts_done(@p hold). */
const red_contract_set_t *red_api_contracts(red_api_t *api, void **hold);
void red_api_contracts_done(red_api_t *api, void *hold);

#endif
