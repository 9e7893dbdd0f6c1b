/*
 * red_sink_cells - the batch's cell deltas merged into the aggregate
 * tables, under row locks, in three phases so the client's merge can run
 * while Postgres is busy with something else:
 *  A. lock (red_sink_cells_lock): a placeholder row for each new cell, a
 *     row lock on each existing one, in key order (replicas writing the
 *     same cells cannot deadlock); then the locked rows' stored state;
 *  B. merge (red_sink_cells_merge, no I/O): stored state + delta, columns
 *     re-rendered from the merged state, snapshots queued in the outbox;
 *  C. store (red_sink_cells_store): the merged rows written back with the
 *     revision bumped.
 * Also marks the cells the watermark passed as final.
 */
#ifndef RED_SINK_CELLS_H
#define RED_SINK_CELLS_H

#include "red_aggregator.h"
#include "red_attr.h"
#include "red_contract.h"
#include "red_sink_io.h"
#include "red_sink_outbox.h"
#include "red_sink_walert.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct red_sink_cells_s red_sink_cells_t;

/** For the aggregations of @p c (borrowed). NULL on OOM. */
red_sink_cells_t *red_sink_cells_new(const red_contract_t *c);
void red_sink_cells_destroy(red_sink_cells_t *w);

/**
 * For a backfill, before the prepare: write only the aggregations whose
 * bit (by index) is set in @p aggs, in generation @p gen of their tables
 * (red_ddl_name(); 0: the live names), and with @p replace let the
 * batch's cells replace the stored ones (revision still bumped) instead
 * of merging into them.
 */
void red_sink_cells_target(red_sink_cells_t *w, int gen, bool replace,
                           uint64_t aggs);

/**
 * On each connection: checks the tables' columns, builds the SQL and the
 * session's temp tables. 0, or -1 with a message.
 */
int red_sink_cells_prepare(red_sink_cells_t *w, red_sink_io_t *io, char *errstr,
                           size_t size) RED_MUSTCHECK;

/** Phase A for the cells of @p ag (borrowed until the clear). */
red_sink_result_t red_sink_cells_lock(red_sink_cells_t *w, red_sink_io_t *io,
                                      red_aggregator_t *ag, char *errstr,
                                      size_t size) RED_MUSTCHECK;
/** Phase A for @p cnt cells (borrowed until the clear), e.g. one chunk
 * of a backfill. */
red_sink_result_t red_sink_cells_lock_cells(red_sink_cells_t *w,
                                            red_sink_io_t *io,
                                            red_cell_t **cells, size_t cnt,
                                            char *errstr,
                                            size_t size) RED_MUSTCHECK;
/** Phase B; snapshots of published aggregations go to @p out, the merged
 * cells to @p judge (the rules over windows; NULL judges none). */
red_sink_result_t red_sink_cells_merge(red_sink_cells_t *w,
                                       red_sink_outbox_t *out,
                                       red_sink_walert_t *judge, char *errstr,
                                       size_t size) RED_MUSTCHECK;
/** Phase C; adds the rows written to *@p rows. */
red_sink_result_t red_sink_cells_store(red_sink_cells_t *w, red_sink_io_t *io,
                                       size_t *rows, char *errstr,
                                       size_t size) RED_MUSTCHECK;
/** Forgets the batch's cells (after the store or a rollback). */
void red_sink_cells_clear(red_sink_cells_t *w);

/**
 * Marks the cells whose window_end + grace the minimum watermark of
 * @p group passed as final, and queues the final snapshot of published
 * aggregations (events from @p instance). The final cells of aggregations
 * with window rules go to @p judge. Sets *@p finalized.
 */
red_sink_result_t red_sink_cells_finalize(red_sink_cells_t *w,
                                          red_sink_io_t *io,
                                          const char *instance,
                                          red_sink_walert_t *judge,
                                          long *finalized, char *errstr,
                                          size_t size) RED_MUSTCHECK;

#endif
