/*
 * red_query - plans the reads of the query API and `reducerd query` from
 * the contracts: which table, which window type and grouping, which time
 * range, which columns, measures, filters and page. Pure: it validates
 * the request's parameters and fills a plan; src/pg/red_query_pg.c turns
 * the plan into parameterised SQL, red_summary merges stored cells.
 *
 * Every identifier a plan carries comes from a contract (table, column,
 * grouping and key names); every value a caller sent is a parameter
 * value, never SQL text. A bad parameter yields a red_query_error_t that
 * names the parameter and the allowed values (HTTP 400), an unknown
 * aggregation, table or workflow a 404.
 *
 * Summaries tile their range with the coarsest stored windows that fit
 * exactly (months, then weeks or days, then hours at the edges), asking
 * red_window for every boundary, and round edges that do not fall on the
 * finest stored window outward; the plan says which range is covered.
 */
#ifndef RED_QUERY_H
#define RED_QUERY_H

#include "red_attr.h"
#include "red_buf.h"
#include "red_contract.h"
#include "red_qtypes.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** "contracts", "series", ... (static), or NULL. */
const char *red_query_kind_name(red_query_kind_t kind);
/** Parses a kind name. 0 or -EINVAL. */
int red_query_kind_parse(const char *s, red_query_kind_t *out) RED_MUSTCHECK;

/** {"error":{"status":..,"parameter":..,"message":..,"allowed":[..]}} */
void red_query_error_json(const red_query_error_t *e, red_buf_t *out);

/**
 * Plans a request of @p kind on the contracts of @p set (borrowed; must
 * outlive the plan). @p name is the path's name (aggregation, raw table
 * or workflow id), NULL for the others. Returns the plan (caller destroys
 * with red_query_destroy()), or NULL with @p err filled (status 0 with a
 * message: out of memory).
 */
red_query_t *red_query_plan(const red_contract_t *const *contracts,
                            size_t contract_cnt, red_query_kind_t kind,
                            const char *name, const red_query_param_t *params,
                            size_t param_cnt, const red_query_limits_t *lim,
                            red_query_error_t *err);

void red_query_destroy(red_query_t *q);

#endif
