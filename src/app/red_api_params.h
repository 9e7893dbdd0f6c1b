/*
 * red_api_params - a request's query-string parameters as the query
 * planner and the node registry's search read them (red_query_param_t),
 * collected from libmicrohttpd up to a limit the caller sets: the read
 * API (red_api) and the registry's routes (red_api_nodes) share it.
 */
#ifndef RED_API_PARAMS_H
#define RED_API_PARAMS_H

#include "red_attr.h"
#include "red_qtypes.h"

#include <microhttpd.h>
#include <stddef.h>

/**
 * Collects the query-string parameters of @p conn into @p p, in the order
 * of the request, at most @p limit of them (@p p has room for @p limit at
 * least). Names and values are borrowed from the request and stay valid
 * until it completes; a parameter without a value gets "".
 * Returns 0 with their count in @p cnt, or -E2BIG when the request has
 * more than @p limit (@p cnt then counts the @p limit collected).
 */
int red_api_params_collect(struct MHD_Connection *conn, red_query_param_t *p,
                           size_t limit, size_t *cnt) RED_MUSTCHECK;

#endif
