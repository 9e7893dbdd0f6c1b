/*
 * red_qparam - reading a query's parameters into a plan: one value or
 * every value of a name, integers and choices with their bounds, time
 * ranges, filters (checked against their column's type), page limits and
 * cursors, and the errors that name the parameter and its allowed values.
 * Used by red_query's planner; pure.
 */
#ifndef RED_QPARAM_H
#define RED_QPARAM_H

#include "red_attr.h"
#include "red_qtypes.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** The parameters of one request and which of them a step has taken. */
typedef struct red_qparam_ctx_s {
        const red_query_param_t *p;
        size_t cnt;
        bool *used; /**< cnt flags */
        red_query_error_t *err;
        const char *known[24]; /**< names asked for, for messages */
        size_t known_cnt;
} red_qparam_ctx_t;

/** Fills @p e (the allowed values empty); returns -1. */
int red_qparam_fail(red_query_error_t *e, int status, const char *param,
                    const char *fmt, ...) RED_PRINTF(4, 5);
/** Appends an allowed value to @p e. */
void red_qparam_allow(red_query_error_t *e, const char *item);
/** "out of memory" (status 0); returns -1. */
int red_qparam_oom(red_query_error_t *e);

/** The value of @p name: 1 found, 0 absent, -1 given twice (error set). */
int red_qparam_get(red_qparam_ctx_t *pc, const char *name, const char **value);
void red_qparam_free_strs(char **v, size_t cnt);

/** Fails on the first parameter no step took, listing the names asked for
 * and @p filters. 0 or -1. */
int red_qparam_check_unused(red_qparam_ctx_t *pc, const char *const *filters,
                            size_t filter_cnt);

/** An integer in [lo, hi] into *@p out, @p def when absent. 0 or -1. */
int red_qparam_int(red_qparam_ctx_t *pc, const char *name, int64_t lo,
                   int64_t hi, int64_t def, int64_t *out);
/** One of @p choices (NULL-terminated): its index, @p def when absent. */
int red_qparam_choice(red_qparam_ctx_t *pc, const char *name,
                      const char *const *choices, int def, int *out);

/**
 * Parses a time: ISO-8601 (red_time_parse()), "now", or "now-DURATION"
 * (now-24h, now-90d). 0 or -EINVAL.
 */
int red_qparam_time(const char *s, red_time_t now,
                    red_time_t *out) RED_MUSTCHECK;

/**
 * from and to into q->from/to. Absent, to is now and from 24 hours before
 * to; with !@p with_default and neither given, q->has_range stays false.
 */
int red_qparam_range(red_qparam_ctx_t *pc, red_query_t *q, red_time_t now,
                     bool with_default);

/** The value type a filter on a field of type @p t takes. */
red_qval_t red_qparam_type_of(red_field_type_t t);

/**
 * A filter from every value of @p param on @p column (member @p json_key
 * of a JSON column when not NULL), each checked against @p type and, when
 * not NULL, @p choices. Absent: no filter. 0 or -1.
 */
int red_qparam_filter(red_qparam_ctx_t *pc, red_query_t *q, const char *param,
                      const char *column, const char *json_key, red_qval_t type,
                      const char *const *choices);

/** Filters "<prefix><key>=value" on the JSON object @p column. */
int red_qparam_object_filters(red_qparam_ctx_t *pc, red_query_t *q,
                              const char *prefix, const char *column);

/** limit (per format) and cursor (for q->order_by, or an offset). */
int red_qparam_page(red_qparam_ctx_t *pc, red_query_t *q,
                    const red_query_limits_t *lim);

/** order=asc|desc into q->desc. */
int red_qparam_order(red_qparam_ctx_t *pc, red_query_t *q);

#endif
