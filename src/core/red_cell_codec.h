/*
 * red_cell_codec - the binary format of a cell's measure states (the
 * `state` column of an aggregate table), written and merged back. The
 * layout is described in red_cell_codec.c; red_cell_serialize() and
 * red_cell_merge_serialized() (red_cell.h) are its public face.
 */
#ifndef RED_CELL_CODEC_H
#define RED_CELL_CODEC_H

#include "red_attr.h"
#include "red_buf.h"
#include "red_cell_state.h"

#include <stddef.h>
#include <stdint.h>

/**
 * Appends the state of @p cnt measures @p ms (states @p m) and the cell's
 * @p events count to @p out. @p wdigits: the weight units of the states,
 * 0 unweighted (format version 1, as before weights), else 10^-wdigits
 * (version 2, with the weighted counts). Keyed entries are sorted first
 * (in place: the sets are the states', not const), so equal states give
 * equal bytes. 0, -ENOMEM or -EINVAL (an unknown measure kind).
 */
int red_cell_codec_write(uint64_t events, int wdigits, const red_mstate_t *m,
                         const red_measure_t *ms, size_t cnt,
                         red_buf_t *out) RED_MUSTCHECK;

/**
 * Merges the state in @p data (@p len bytes) into @p m (measures @p ms,
 * weighed in 10^-@p wdigits units, 0: unweighted) and adds its events
 * count to *@p events. Measures are matched by name and kind, so a
 * contract that adds or drops measures keeps the others; sums of another
 * precision are rescaled, and so are weighted counts and sketch buckets
 * of other weight units (a state from before weights counts each event
 * with weight 1); unknown measures are skipped. 0, -ENOMEM, or with a
 * message in @p errstr -EINVAL (not a cell state, truncated or corrupt) or
 * -ERANGE (a sum or a count would leave its range).
 */
int red_cell_codec_merge(const void *data, size_t len, int wdigits,
                         uint64_t *events, red_mstate_t *m,
                         const red_measure_t *ms, size_t cnt, char *errstr,
                         size_t errstr_size) RED_MUSTCHECK;

#endif
