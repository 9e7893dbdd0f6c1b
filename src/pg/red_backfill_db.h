/*
 * red_backfill_db - the database side of `reducerd backfill`: its record
 * in reducerd_backfills (what is done, so that an interrupted backfill
 * resumes), and the recomputed cells written over a range, chunk by
 * chunk.
 *
 * A chunk is one partition of a target table. Its transaction writes the
 * recomputed cells over the stored ones (the sink's cell writer in
 * replace mode: the revision is bumped, the state replaced, not merged),
 * deletes the cells of the replaced windows that the recomputation did
 * not produce, marks final what the watermark passed, and adds the chunk
 * to the record: a crash leaves every chunk either as it was or replaced,
 * and a resumed run skips the chunks done.
 */
#ifndef RED_BACKFILL_DB_H
#define RED_BACKFILL_DB_H

#include "red_aggregator.h"
#include "red_attr.h"
#include "red_contract.h"
#include "red_rebuild.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct red_backfill_db_s red_backfill_db_t;

/**
 * Connects to @p conninfo to backfill the aggregations of @p c (borrowed)
 * whose bit is set in @p aggs, writing table generation @p gen (0: the
 * live names). NULL with a message on failure.
 */
red_backfill_db_t *red_backfill_db_new(const red_contract_t *c,
                                       const char *conninfo, uint64_t aggs,
                                       int gen, char *errstr,
                                       size_t errstr_size);
void red_backfill_db_destroy(red_backfill_db_t *db);

/** The connection (borrowed), for the caller's own transactions. */
PGconn *red_backfill_db_conn(red_backfill_db_t *db);

/** What a backfill found of an earlier, interrupted run. */
typedef struct red_backfill_resume_s {
        bool resumed;
        char *end_offsets;   /**< kafka: the JSON recorded, or NULL */
        red_time_t snapshot; /**< raw: when the rows were read, or 0 */
} red_backfill_resume_t;

/**
 * Finds the running record of the same backfill (contract, generation,
 * @p source, range) or makes one. Fills @p out (free end_offsets). 0 or
 * -1 with a message.
 */
int red_backfill_db_begin(red_backfill_db_t *db, const char *source,
                          red_time_t from, red_time_t to,
                          red_backfill_resume_t *out, char *errstr,
                          size_t errstr_size) RED_MUSTCHECK;

/** Records what the first run read to (kafka: @p end_offsets JSON; raw:
 * @p snapshot), for a resumed run to read the same. */
int red_backfill_db_set_source(red_backfill_db_t *db, const char *end_offsets,
                               red_time_t snapshot, char *errstr,
                               size_t errstr_size) RED_MUSTCHECK;

/** Progress of a write: called after each chunk (done of total). */
typedef void red_backfill_db_progress_fn(void *arg, size_t done, size_t total,
                                         const char *chunk);

/**
 * Replaces the cells of range @p rr with the cells of @p cells (the
 * recomputed ones), chunk by chunk; chunks recorded as done are skipped.
 * With @p in_txn the caller holds an open transaction and every chunk is
 * written in it (nothing recorded per chunk). 0 or -1 with a message.
 */
int red_backfill_db_write(red_backfill_db_t *db, red_aggregator_t *cells,
                          const red_rebuild_range_t *rr, bool in_txn,
                          red_backfill_db_progress_fn *progress, void *arg,
                          char *errstr, size_t errstr_size) RED_MUSTCHECK;

/**
 * In the caller's transaction: merges those of @p cells (deltas of events
 * the written cells do not hold) that range @p rr replaced into the
 * target tables, as a batch would. 0 or -1 with a message.
 */
int red_backfill_db_merge(red_backfill_db_t *db, red_aggregator_t *cells,
                          const red_rebuild_range_t *rr, char *errstr,
                          size_t errstr_size) RED_MUSTCHECK;

/** Marks the record done. */
int red_backfill_db_finish(red_backfill_db_t *db, char *errstr,
                           size_t errstr_size) RED_MUSTCHECK;

#endif
