/*
 * red_frontier - the event-time reorder frontier: how far the reorder
 * buffer may be applied, from what each input partition can still
 * deliver. Pure: the caller passes the clock.
 *
 * Kafka orders the messages of one partition and nothing across
 * partitions or topics, yet the events of one workflow sit on several
 * topics (one per event type). The core (red_core.h) therefore buffers
 * good events and applies them in event-time order: every buffered event
 * older than the frontier is released, the rest wait. The frontier is the
 * smallest bound any partition puts on the event times it may still
 * deliver:
 *
 *  - READING: it holds messages not read yet. Producers stamp events as
 *    they send them, so a partition delivers roughly in time order: what
 *    comes next is not older than the newest event read so far, which is
 *    its bound (INT64_MIN while it has delivered nothing: then nothing is
 *    applied until it has). An event that is older anyway is applied
 *    after newer ones and judged by the contract's late policy.
 *  - CAUGHT_UP: read to its end, for now. A producer may append to it at
 *    any moment, and what it sends next is as old as what it sent last:
 *    a live stream of historic events (a replay, a backfill running at
 *    full speed) keeps its partitions caught up most of the time. So it
 *    holds the frontier at its newest event, like a partition READING.
 *  - IDLE: caught up, and nothing arrived for idle_wait while it was read
 *    (wall clock, the caller measures it; after a silence of every
 *    partition, from the moment the stream starts again, so the partitions
 *    whose messages come a moment later are not overtaken). Holding the
 * frontier at its newest event would stall every busy partition behind a quiet
 * topic, yet a producer that starts again stamps events about "now" (a little
 * behind producers on other topics). So it counts with its newest event or now
 * - idle_wait, whichever is later: a quiet topic delays the others by about
 * idle_wait, and old data (a backfill) is not held back by it.
 *  - FINISHED: it will deliver nothing more (the end of `reduce`'s input):
 *    no bound.
 *
 * Ordering is not finality. Applying events early is safe: a cell that
 * changes again gets a new revision. Declaring a cell final is a promise
 * that it will not change, so finality follows the partitions' watermarks
 * (newest event minus max_out_of_orderness, stored with the offsets),
 * which move with events only, never with the clock: a cell is final once
 * the smallest watermark over all partitions passes its window end +
 * grace (red_sink_finalize), and an idle partition holds finality back,
 * because a producer may still write into the window through it.
 */
#ifndef RED_FRONTIER_H
#define RED_FRONTIER_H

#include "red_time.h"

#include <stddef.h>
#include <stdint.h>

/** What a partition can still deliver (see the file comment). */
typedef enum red_frontier_input_e {
        RED_FRONTIER_READING,   /**< messages not read yet */
        RED_FRONTIER_CAUGHT_UP, /**< read to its end a moment ago */
        RED_FRONTIER_IDLE,      /**< read to its end, quiet for idle_wait */
        RED_FRONTIER_FINISHED,  /**< nothing more, ever */
} red_frontier_input_t;

/**
 * The frontier over the partitions added so far. Embedded by the caller
 * and filled by red_frontier_init(); it owns nothing, so there is no
 * destroy.
 */
typedef struct red_frontier_s {
        red_time_t now;       /**< the caller's clock, for IDLE */
        int64_t idle_wait_us; /**< the contract's idle_wait */
        red_time_t time;      /**< the frontier; INT64_MAX: no bound */
        size_t holder;        /**< index of the partition holding it, or
                                   SIZE_MAX when none does */
} red_frontier_t;

/** Starts a frontier over no partition (time INT64_MAX) at clock @p now. */
void red_frontier_init(red_frontier_t *f, red_time_t now, int64_t idle_wait_us);

/**
 * The bound one partition puts on the frontier: @p newest (the newest
 * event time read from it, INT64_MIN if none) while READING or CAUGHT_UP,
 * the later of @p newest and @p now - @p idle_wait_us when IDLE, INT64_MAX
 * when FINISHED.
 */
red_time_t red_frontier_bound(red_time_t newest, red_frontier_input_t input,
                              red_time_t now, int64_t idle_wait_us);

/**
 * Adds partition @p idx (the caller's index, reported as the holder) with
 * its newest event time and input state. The first partition with the
 * smallest bound holds the frontier.
 */
void red_frontier_add(red_frontier_t *f, size_t idx, red_time_t newest,
                      red_frontier_input_t input);

#endif
