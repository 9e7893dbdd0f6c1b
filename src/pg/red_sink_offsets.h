/*
 * red_sink_offsets - the consumer positions in reducerd_offsets: read on
 * assignment, advanced by compare-and-set in each batch transaction (the
 * fence against zombie workers, see red_sink_offsets_advance()).
 */
#ifndef RED_SINK_OFFSETS_H
#define RED_SINK_OFFSETS_H

#include "red_attr.h"
#include "red_sink_io.h"
#include "red_sink_types.h"

#include <stddef.h>
#include <stdint.h>

/** Checks that reducerd_offsets has the columns written. 0 or -1. */
int red_sink_offsets_prepare(red_sink_io_t *io, const char *contract,
                             char *errstr, size_t size) RED_MUSTCHECK;

/**
 * Makes sure @p group has rows for the @p cnt partitions (owned by
 * @p instance in @p generation when new) and returns their stored
 * positions in @p out (@p cnt entries).
 */
red_sink_result_t red_sink_offsets_load(red_sink_io_t *io, const char *group,
                                        const char *instance,
                                        const char *const *topics,
                                        const int32_t *partitions, size_t cnt,
                                        int generation, red_sink_stored_t *out,
                                        char *errstr,
                                        size_t size) RED_MUSTCHECK;

/**
 * In the open transaction: moves each partition of @p offs from prev to
 * next, only where the stored offset is still prev. RED_SINK_FENCED when
 * one of them moved: another worker owns it now.
 */
red_sink_result_t red_sink_offsets_advance(red_sink_io_t *io, const char *group,
                                           const char *instance,
                                           const red_sink_offset_t *offs,
                                           size_t cnt, int generation,
                                           char *errstr,
                                           size_t size) RED_MUSTCHECK;

/**
 * Records a reset of @p topic[@p partition] by kafka.offset_gap_policy
 * (epoch + 1, reset_at) in its own statement, and moves the position to
 * @p next (>= 0) if it is still @p prev. *@p stored gets the position
 * stored afterwards.
 */
red_sink_result_t red_sink_offsets_reset_row(
        red_sink_io_t *io, const char *group, const char *instance,
        const char *topic, int32_t partition, int64_t prev, int64_t next,
        int64_t *stored, char *errstr, size_t size) RED_MUSTCHECK;

#endif
