/*
 * red_api - the read API: GET /v1/... over libmicrohttpd (a thread pool,
 * keep-alive, optional TLS and bearer token), on api.listen. Requests are
 * planned by red_query and run by red_query_pg on the API's own pool of
 * PostgreSQL connections, so neither the daemon's ingest nor its /healthz
 * ever waits for a reader. `reducerd serve` runs it alone; `reducerd run`
 * runs it next to the pipeline when http.api is true.
 *
 * Endpoints: /v1/contracts, /v1/aggregations/{name}/series|summary|top,
 * /v1/raw/{table}, /v1/workflows, /v1/workflows/{id}, /v1/alerts and
 * /v1/openapi.json (src/app/openapi.json, built in). Formats by format= or
 * Accept; gzip when the client accepts it; NDJSON streams.
 */
#ifndef RED_API_H
#define RED_API_H

#include "red_buf.h"
#include "red_config.h"
#include "red_contract.h"

#include <stddef.h>

typedef struct red_api_s red_api_t;

/**
 * Starts the API with the api.* settings of @p conf (borrowed, read at
 * start only) over the contracts of @p set (taken: *@p set is emptied).
 * Returns NULL with a message (address in use, TLS files unreadable...).
 * Stop with red_api_stop().
 */
red_api_t *red_api_start(const red_config_t *conf, red_contract_set_t *set,
                         char *errstr, size_t errstr_size);

/** Serves the contracts of @p set from now on (taken); requests in flight
 * finish with the old ones. */
void red_api_reload(red_api_t *api, red_contract_set_t *set);

/**
 * Where the node registry's writes go (POST/PUT/DELETE /v1/nodes): the
 * bootstrap servers of the Kafka the pipelines read (`run` passes the
 * embedded cluster's address). Without it, kafka.brokers, unless that is
 * "embedded" (`serve` cannot reach the embedded cluster of another
 * process: the writes then answer 503 saying so).
 */
void red_api_set_brokers(red_api_t *api, const char *brokers);

/** Appends the registry API's series (Prometheus text) to @p out;
 * accepts NULL. */
void red_api_registry_metrics(red_api_t *api, red_buf_t *out);

/** The port actually bound (api.listen may say 0). */
int red_api_port(const red_api_t *api);

/** Stops serving, waits for the requests in flight, frees everything;
 * accepts NULL. */
void red_api_stop(red_api_t *api);

#endif
