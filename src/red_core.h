/*
 * red_core - one contract's reducer core for a batch of messages, with no
 * I/O: decode (dead letters for bad input), late-data policy against the
 * per-partition watermarks, workflow FSM and enrichment, aggregation into
 * cell deltas. The daemon and `reduce` drive it the same way:
 *
 *   for each message: red_core_add()
 *   red_core_missing() -> load those workflows (daemon: one SQL query)
 *   red_core_process()
 *   read cells, history rows, dead letters; write them somewhere
 *   red_core_commit() or red_core_rollback()
 *
 * Messages are borrowed: the caller keeps them alive until commit/rollback.
 */
#ifndef RED_CORE_H
#define RED_CORE_H

#include "red_aggregator.h"
#include "red_contract.h"
#include "red_decode.h"
#include "red_fsm.h"
#include "red_workflows.h"

#include <stddef.h>
#include <stdint.h>

typedef struct red_core_s red_core_t;

/** Counters of committed batches; consumed = applied + dead_lettered + late_dropped. */
typedef struct red_core_counters_s {
        uint64_t consumed;
        uint64_t applied;
        uint64_t dead_lettered;
        uint64_t late_dropped;
        uint64_t late_applied; /**< late but applied (policy update), part of applied */
        uint64_t dead_by_code[RED_DLQ__CNT];
        uint64_t fsm_results[RED_FSM__CNT]; /**< history rows by result */
} red_core_counters_t;

typedef struct red_dead_letter_s {
        const red_msg_t *msg; /**< borrowed */
        red_dlq_code_t code;
        char *detail;         /**< owned by the core */
} red_dead_letter_t;

/** A partition's watermark as the batch leaves it. */
typedef struct red_watermark_s {
        char *topic;
        int32_t partition;
        red_time_t max_time;  /**< largest event time seen, or INT64_MIN */
        red_time_t watermark; /**< max_time - max_out_of_orderness */
        bool changed;         /**< moved in the current batch */
} red_watermark_t;

/**
 * A core for @p c (borrowed; must outlive the core). Returns NULL with a
 * message on failure. Destroy with red_core_destroy().
 */
red_core_t *red_core_new(const red_contract_t *c, size_t max_live_workflows,
                         int64_t terminal_ttl_us, char *errstr,
                         size_t errstr_size);
void red_core_destroy(red_core_t *core);

/** Adds a message to the batch and decodes it. 0 or -ENOMEM. */
int red_core_add(red_core_t *core, const red_msg_t *msg, red_time_t now)
        __attribute__((warn_unused_result));

/** Workflow ids the batch needs that are not in memory (borrowed). */
const red_uuid_t *red_core_missing(red_core_t *core, size_t *cntp);

/** The workflow table (for loaders to restore records into). */
red_workflows_t *red_core_workflows(red_core_t *core);

/** Applies the batch's events in order. 0 or -ENOMEM. */
int red_core_process(red_core_t *core) __attribute__((warn_unused_result));

/** The batch's results (borrowed, valid until commit/rollback). */
red_aggregator_t *red_core_cells(red_core_t *core);
red_fsm_rows_t *red_core_rows(red_core_t *core);
const red_dead_letter_t *red_core_dead_letters(const red_core_t *core,
                                               size_t *cntp);
size_t red_core_batch_size(const red_core_t *core);

/** Watermarks of every partition seen (borrowed array). */
red_watermark_t *red_core_watermarks(red_core_t *core, size_t *cntp);
/** The watermark of a partition, or INT64_MIN when unknown. */
red_time_t red_core_watermark(const red_core_t *core, const char *topic,
                              int32_t partition);
/** Sets a partition's watermark (on assignment, from Postgres). */
int red_core_set_watermark(red_core_t *core, const char *topic,
                           int32_t partition, red_time_t watermark)
        __attribute__((warn_unused_result));

/** The batch is durable: counters advance, workflows commit, memory is evicted. */
void red_core_commit(red_core_t *core);
/** The batch was not written: its effects are forgotten. */
void red_core_rollback(red_core_t *core);

const red_core_counters_t *red_core_counters(const red_core_t *core);

const red_contract_t *red_core_contract(const red_core_t *core);

#endif
