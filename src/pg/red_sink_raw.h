/*
 * red_sink_raw - the row-by-row tables (`raw` sinks): the stored rows of a
 * batch found before it is applied, its rows COPYed table by table in its
 * transaction.
 *
 * Duplicates are decided by the tables' unique keys. A producer that
 * re-sends does so for a while, so after a batch met a stored row the
 * next batches look their rows up first (red_sink_raw_mark_stored()) and
 * the core skips the stored ones everywhere (rows, aggregates, alerts).
 * A row stored anyway (by another worker after the lookup, or while no
 * lookup ran) fails the COPY with a unique violation; the batch is then
 * rolled back and consumed again, looked up first (RED_SINK_REPLAY).
 */
#ifndef RED_SINK_RAW_H
#define RED_SINK_RAW_H

#include "red_attr.h"
#include "red_contract.h"
#include "red_core.h"
#include "red_sink_io.h"

#include <stddef.h>

typedef struct red_sink_raw_s red_sink_raw_t;

/** For the raw sinks of @p c (borrowed). NULL on OOM. */
red_sink_raw_t *red_sink_raw_new(const red_contract_t *c);
void red_sink_raw_destroy(red_sink_raw_t *w);

/** On each connection: checks the tables' columns and builds the SQL.
 * 0, or -1 with a message. */
int red_sink_raw_prepare(red_sink_raw_t *w, red_sink_io_t *io, char *errstr,
                         size_t size) RED_MUSTCHECK;

/**
 * Marks the released events of @p core whose rows are stored already
 * (red_core_raw_stored()), while batches still look rows up; outside the
 * batch transaction, before the events are applied.
 */
red_sink_result_t red_sink_raw_mark_stored(red_sink_raw_t *w, red_sink_io_t *io,
                                           red_core_t *core, char *errstr,
                                           size_t size) RED_MUSTCHECK;

/**
 * Groups the rows of @p core's released events by table, in order; sets
 * *@p tables to the number of tables that get rows.
 */
red_sink_result_t red_sink_raw_plan(red_sink_raw_t *w, red_core_t *core,
                                    size_t *tables, char *errstr,
                                    size_t size) RED_MUSTCHECK;

/**
 * COPYs the rows of the @p i-th table of the plan (partitions first),
 * streamed in pieces. Adds the rows written to *@p n. RED_SINK_REPLAY on
 * a unique violation (the next batches look their rows up);
 * RED_SINK_REJECTED when PostgreSQL refuses a row's data (see
 * red_sink_raw_rejected()).
 */
red_sink_result_t red_sink_raw_write(red_sink_raw_t *w, red_sink_io_t *io,
                                     size_t i, size_t *n, char *errstr,
                                     size_t size) RED_MUSTCHECK;

/** The partitions holding rows of time @p t, in every raw table of the
 * contract (red_sink_io_partition()). */
red_sink_result_t red_sink_raw_partition_at(red_sink_raw_t *w,
                                            red_sink_io_t *io, red_time_t t,
                                            char *errstr,
                                            size_t size) RED_MUSTCHECK;

/** After RED_SINK_REJECTED from red_sink_raw_write(): the message whose
 * row PostgreSQL refused, or NULL when it did not say which. Reset by
 * red_sink_raw_plan(). */
const red_msg_t *red_sink_raw_rejected(const red_sink_raw_t *w);

#endif
