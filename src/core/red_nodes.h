/*
 * red_nodes - the node registry's search as a plan: the parameters of
 * GET /v1/nodes/search and `reducerd nodes search` (seed 001's
 * ModelSearchQuery) read and checked, with errors that name the parameter
 * and its allowed values; semantic versions. Pure; src/pg/red_nodes_pg
 * runs a plan.
 *
 * The registry is the state sink whose table is registered_nodes
 * (contracts/node_registry.yaml); the allowed node types and health
 * statuses are the enums of its events' fields.
 */
#ifndef RED_NODES_H
#define RED_NODES_H

#include "red_attr.h"
#include "red_buf.h"
#include "red_contract.h"
#include "red_qtypes.h"

#include <stdbool.h>
#include <stdint.h>

/** The table the node registry's search reads. */
#define RED_NODES_TABLE "registered_nodes"

/** Largest page_size. */
#define RED_NODES_MAX_PAGE_SIZE 100

typedef enum {
        RED_NODES_SORT_RELEVANCE,
        RED_NODES_SORT_NAME,
        RED_NODES_SORT_VERSION,
        RED_NODES_SORT_REGISTRATION_TIME,
        RED_NODES_SORT_LAST_HEARTBEAT,
} red_nodes_sort_t;

/** A search (owned strings; NULL: not given). */
typedef struct red_nodes_search_s {
        char *query; /**< free text, trimmed; NULL when empty */
        char *node_type;
        char *health_status; /**< the effective status */
        char *capability;    /**< exact capability name */
        char *version;       /**< exact */
        char *version_min;   /**< inclusive, semantic-version order */
        char *version_max;
        int64_t page;      /**< from 1 */
        int64_t page_size; /**< 1..RED_NODES_MAX_PAGE_SIZE */
        red_nodes_sort_t sort;
        bool desc;
} red_nodes_search_t;

/** The contract and state sink of the node registry among @p cs, or NULL. */
const red_state_t *red_nodes_find(const red_contract_t *const *cs, size_t cnt,
                                  const red_contract_t **contract);

/**
 * Reads a search from @p cnt parameters (names may not repeat; unknown
 * ones are refused): query, node_type, health_status, capability,
 * version, version_min, version_max, page (default 1), page_size (default
 * 10), sort_by (default relevance), sort_order (default desc). The node
 * types and statuses allowed are the enums of contract @p c's node_type
 * and health_status fields. 0, or -1 with @p e set (status 400).
 */
int red_nodes_search_parse(const red_contract_t *c, const red_query_param_t *p,
                           size_t cnt, red_nodes_search_t *s,
                           red_query_error_t *e) RED_MUSTCHECK;

void red_nodes_search_free(red_nodes_search_t *s);

/** The search as the response's "query" member (every field, null when
 * not given). */
void red_nodes_search_json(const red_nodes_search_t *s, red_buf_t *out);

/** "relevance", "name", "version", "registration_time", "last_heartbeat". */
const char *red_nodes_sort_name(red_nodes_sort_t s);

/** Whether @p v is a semantic version "MAJOR.MINOR.PATCH" (ASCII digits). */
bool red_nodes_version_ok(const char *v);

/** Compares two semantic versions numerically (any digit count):
 * <0, 0, >0. */
int red_nodes_version_cmp(const char *a, const char *b);

/** A node write, as it goes to Kafka. */
typedef struct red_nodes_write_s {
        const char *topic;      /**< borrowed from the contract */
        const char *event_type; /**< borrowed from the contract */
        char *key;              /**< the node_id (owned) */
        char *value;            /**< the event's JSON (owned) */
        size_t len;
} red_nodes_write_t;

typedef enum {
        RED_NODES_REGISTER,   /**< NODE_INTROSPECTION */
        RED_NODES_HEARTBEAT,  /**< NODE_HEARTBEAT */
        RED_NODES_DEREGISTER, /**< NODE_DEREGISTRATION */
} red_nodes_op_t;

/**
 * The event for a registry write from an HTTP or CLI body: the kind of
 * @p op of contract @p c (the kinds whose types are NODE_INTROSPECTION,
 * NODE_HEARTBEAT, NODE_DEREGISTRATION), a JSON object body @p body
 * (@p len bytes; may be empty for a deregistration) whose members are the
 * event's fields, @p node_id from the path when not NULL (a body's
 * node_id must then agree), registration_source @p source (when the body
 * names none), event time @p now. The event is decoded by the contract
 * before it is returned, so what a caller is told is accepted is what
 * the pipeline accepts: a 400 error names the dead-letter code's detail.
 * 0, or -1 with @p e set (400, or 500 when the contract lacks the kind).
 */
int red_nodes_event(const red_contract_t *c, red_nodes_op_t op,
                    const char *body, size_t len, const char *node_id,
                    const char *source, red_time_t now, red_nodes_write_t *w,
                    red_query_error_t *e) RED_MUSTCHECK;
void red_nodes_write_free(red_nodes_write_t *w);

/** Appends the answer to a write @p w the broker acknowledged, for the
 * API and the CLI alike: {"success":true,"node_id","event_type","topic",
 * "event"} and a newline. */
void red_nodes_write_answer(const red_nodes_write_t *w, red_buf_t *out);

#endif
