/*
 * red_nodes_pg - the node registry's reads in PostgreSQL: the search
 * (full text, trigram similarity and the reference's relevance rules over
 * registered_nodes; filters by type, effective health, capability and
 * semantic-version range; sorting and pages), one node, and the counts by
 * type and health for /metrics. Every value is a parameter; the health a
 * reader sees is the effective status (red_state_sql_effective() at the
 * wall clock).
 */
#ifndef RED_NODES_PG_H
#define RED_NODES_PG_H

#include "red_attr.h"
#include "red_buf.h"
#include "red_contract.h"
#include "red_nodes.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

/**
 * Runs search @p s on @p conn against the registry state @p st and
 * appends the response object to @p out: {success, query, results,
 * total_count, page, page_size, total_pages, execution_time_ms}.
 * Returns 0, or -1 with a message.
 */
int red_nodes_pg_search(PGconn *conn, const red_state_t *st,
                        const red_nodes_search_t *s, red_buf_t *out,
                        char *errstr, size_t size) RED_MUSTCHECK;

/**
 * Appends node @p id (live, not deregistered) as a JSON object to @p out;
 * *@p found false when there is none. 0, or -1 with a message.
 */
int red_nodes_pg_get(PGconn *conn, const red_state_t *st, const char *id,
                     red_buf_t *out, bool *found, char *errstr,
                     size_t size) RED_MUSTCHECK;

/** Live nodes by type and effective health, for /metrics. */
typedef struct red_nodes_count_s {
        char node_type[32];
        char health[32];
        long count;
} red_nodes_count_t;

/** Up to @p max counts into @p out; the number, or -1 with a message. */
int red_nodes_pg_counts(PGconn *conn, const red_state_t *st,
                        red_nodes_count_t *out, size_t max, char *errstr,
                        size_t size);

#endif
