/*
 * red_aggregator - the cells of one contract's aggregations touched by a
 * stream of events: every event goes to every window type and every
 * grouping whose dimensions it has, in every aggregation where it moves a
 * measure (red_cell_moves(): no empty cells). In the daemon it holds one
 * batch's deltas; in `reduce` it holds the whole result.
 */
#ifndef RED_AGGREGATOR_H
#define RED_AGGREGATOR_H

#include "red_attr.h"
#include "red_cell.h"
#include "red_contract.h"
#include "red_event.h"

#include <stddef.h>

typedef struct red_aggregator_s red_aggregator_t;

/** NULL on OOM. Caller destroys with red_aggregator_destroy(). */
red_aggregator_t *red_aggregator_new(const red_contract_t *c);
void red_aggregator_destroy(red_aggregator_t *ag);

/** Applies @p ev to all its cells. 0, -ENOMEM or -ERANGE (red_cell_apply). */
int red_aggregator_apply(red_aggregator_t *ag,
                         const red_event_t *ev) RED_MUSTCHECK;

/**
 * The cells in output order (aggregation, window type, start, grouping,
 * keys). Borrowed; valid until the next apply or clear.
 */
red_cell_t **red_aggregator_cells(red_aggregator_t *ag, size_t *cntp);

size_t red_aggregator_count(const red_aggregator_t *ag);

/**
 * Merges @p cell into the cell with the same key (created when absent).
 * 0, -ENOMEM, or -EINVAL / -ERANGE with a message (red_cell_merge).
 */
int red_aggregator_merge_cell(red_aggregator_t *ag, const red_cell_t *cell,
                              char *errstr, size_t errstr_size) RED_MUSTCHECK;

/** Drops every cell. */
void red_aggregator_clear(red_aggregator_t *ag);

/**
 * The text value of dimension @p d for @p ev (borrowed from the event, the
 * contract or @p buf of 48 bytes); false when the event has none.
 */
bool red_aggregator_dim_text(const red_dim_t *d, const red_event_t *ev,
                             char *buf, const char **p, size_t *len);

#endif
