/*
 * red_recompute - a contract's cells computed again from its events, the
 * way the daemon computes them: the same core (decode, event-time order,
 * enrichment, aggregation), batch after batch, with each batch's cell
 * deltas merged into one set of whole cells. A re-sent event whose raw
 * row an earlier batch stored is skipped as the daemon skips it; a
 * workflow the events need and have not seen is loaded from the
 * current-state table, as the daemon loads it.
 *
 *   red_recompute_add() per message (the caller keeps it valid until the
 *   done callback), red_recompute_flush(frontier), ..., cells.
 */
#ifndef RED_RECOMPUTE_H
#define RED_RECOMPUTE_H

#include "red_aggregator.h"
#include "red_attr.h"
#include "red_contract.h"
#include "red_core.h"

#include <stdint.h>

typedef struct red_recompute_s red_recompute_t;

/**
 * For @p c (borrowed). @p done (may be NULL) releases the caller's
 * message handles. With @p conninfo the missing workflows are loaded from
 * the database (NULL: they stay missing, as in `reducerd reduce`). NULL
 * with a message.
 */
red_recompute_t *red_recompute_new(const red_contract_t *c,
                                   const char *conninfo, red_core_done_cb *done,
                                   void *done_arg, char *errstr,
                                   size_t errstr_size);
void red_recompute_destroy(red_recompute_t *rc);

/** Adds a message (see red_core_add()). 0 or -ENOMEM. */
int red_recompute_add(red_recompute_t *rc, const red_msg_t *msg,
                      void *opaque) RED_MUSTCHECK;

/** The newest event time added from a partition (red_core_max_time()). */
red_time_t red_recompute_max_time(const red_recompute_t *rc, const char *topic,
                                  int32_t partition);

/**
 * Applies the buffered events older than @p frontier (INT64_MAX: all)
 * and merges the batch's cells into the result. 0, or -1 with a message.
 */
int red_recompute_flush(red_recompute_t *rc, red_time_t frontier, char *errstr,
                        size_t errstr_size) RED_MUSTCHECK;

/** The cells so far (borrowed). */
red_aggregator_t *red_recompute_cells(red_recompute_t *rc);

#endif
