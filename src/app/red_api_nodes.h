/*
 * red_api_nodes - the node registry's routes of the API server:
 *
 *   GET    /v1/nodes/search                      search (red_nodes.h)
 *   GET    /v1/nodes/discover/capability/{name}  search with capability=
 *   GET    /v1/nodes/discover/type/{type}        search with node_type=
 *   GET    /v1/nodes/discover/healthy/{type}     ... and health_status=healthy
 *   GET    /v1/nodes/{id}                        one live node
 *   POST   /v1/nodes                             NODE_INTROSPECTION
 *   PUT    /v1/nodes/{id}/health                 NODE_HEARTBEAT
 *   DELETE /v1/nodes/{id}                        NODE_DEREGISTRATION
 *
 * Writes publish the contract's event to its Kafka topic and answer once
 * the broker acknowledged it (202): Kafka stays the log of record, the
 * pipeline makes the rows. Reads run on the API's PostgreSQL pool. The
 * counters (requests by operation and outcome, write and search latency)
 * are rendered for /metrics.
 */
#ifndef RED_API_NODES_H
#define RED_API_NODES_H

#include "red_buf.h"
#include "red_config.h"

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

/* red_api.h's handle (not included: red_api.c includes this header) */
typedef struct red_api_s red_api_t;

typedef struct red_api_nodes_s red_api_nodes_t;

/** The routes' state; Kafka from kafka.brokers of @p conf (read now) unless
 * it is "embedded". NULL on OOM. */
red_api_nodes_t *red_api_nodes_new(const red_config_t *conf);
void red_api_nodes_destroy(red_api_nodes_t *n);

/** Where writes go from now on (copied); the producer is made anew. */
void red_api_nodes_set_brokers(red_api_nodes_t *n, const char *brokers);

/** Whether @p url is one of the routes above. */
bool red_api_nodes_route(const char *url);

/** libmicrohttpd's access handler for those routes (red_api.c calls it;
 * *@p con_cls is the routes' own, freed by red_api_nodes_completed()). */
enum MHD_Result red_api_nodes_handle(red_api_t *api, red_api_nodes_t *n,
                                     struct MHD_Connection *conn,
                                     const char *url, const char *method,
                                     const char *upload, size_t *upload_size,
                                     void **con_cls);

/** Frees what a request kept in @p con_cls when it is the routes' own;
 * accepts anything else (and NULL). */
void red_api_nodes_completed(void *con_cls);

/** The routes' series in Prometheus text, and the live nodes by type and
 * health (read from PostgreSQL on @p api's pool). */
void red_api_nodes_metrics(red_api_t *api, red_api_nodes_t *n, red_buf_t *out);

#endif
