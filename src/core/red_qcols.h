/*
 * red_qcols - the output columns of a query plan: every column a kind can
 * show in its default order (stored columns; for summaries the grouping,
 * keys, covered range, measure outputs and the contract's columns), the
 * subset columns= asks for, the quantiles of sketch measures, and what a
 * top query ranks by. Used by red_query's planner; pure.
 */
#ifndef RED_QCOLS_H
#define RED_QCOLS_H

#include "red_qparam.h"
#include "red_qtypes.h"

/** Appends every column q->kind shows, in the default order. 0 or -1. */
int red_qcols_default(red_query_t *q, red_query_error_t *e);

/** columns=a,b: keeps those (any sketch quantile of a summary too), in
 * that order. 0 or -1 (an unknown or repeated column). */
int red_qcols_select(red_qparam_ctx_t *pc, red_query_t *q);

/** quantiles= into q->quantiles (default 0.5, 0.95, 0.99). 0 or -1. */
int red_qcols_quantiles(red_qparam_ctx_t *pc, red_query_t *q);

/** by=, n= and order= of a top query. 0 or -1. */
int red_qcols_top(red_qparam_ctx_t *pc, red_query_t *q);

#endif
