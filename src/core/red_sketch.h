/*
 * red_sketch - a DDSketch-style quantile sketch with relative accuracy.
 *
 * For any q, red_sketch_quantile(q) is within alpha relative error of the
 * exact nearest-rank value (the element sorted[max(1, ceil(q*n)) - 1]) as
 * long as that value lies in a bucket that was not collapsed (see max_bins).
 *
 * Values are mapped to log buckets: gamma = (1 + alpha) / (1 - alpha),
 * index(x) = ceil(log(x) / log(gamma)); a bucket reports 2 gamma^i /
 * (gamma + 1). Positive values go to a positive store, negative values (by
 * |x|) to a negative store, and values with |x| below about DBL_MIN * gamma
 * to a zero bucket that reports 0. Each store keeps at most max_bins buckets:
 * past that it folds the lowest buckets of the positive store (the largest
 * magnitudes of the negative store) into one, so low quantiles of very wide
 * distributions lose accuracy first. The exact count, min and max are kept;
 * every quantile is clamped into [min, max], and q = 0 / q = 1 return min /
 * max exactly.
 *
 * Merging adds bucket counts, so merge(a, b) is identical to the sketch built
 * from the union of the inputs (also when buckets were collapsed), and merge
 * is commutative and associative.
 *
 * Weights: counts are integers, and a value may count more than once
 * (red_sketch_add_n). A weighted sketch counts each value with its weight
 * in a fixed-point unit (reducerd's weighted aggregations: 10^-6, see
 * red_weight.h), so its counts stay integers and merge exactly as above;
 * quantiles are then weighted nearest-rank ones (the value at which the
 * cumulative weight reaches q times the total weight), within alpha. The
 * serialised format does not record the unit: its owner does (the cell
 * state), and red_sketch_rescale() converts between units, so sketches
 * stored before weights existed (plain counts) still decode and merge.
 *
 * A sketch is not thread-safe; one thread at a time may use it.
 *
 * Serialised format (version 1), all multi-byte fixed fields little-endian,
 * "varint" = unsigned LEB128 in its shortest form (at most 10 bytes; over-long
 * forms are corrupt input, see red_varint.h), "svarint" = zigzag LEB128:
 *
 *     u8       0xd1                  magic (0xd_) and version (1)
 *     u64le    alpha                 IEEE-754 binary64 bits
 *     varint   max_bins              1 .. RED_SKETCH_MAX_BINS_LIMIT
 *     varint   count                 total number of values
 *     u64le    min                   binary64 bits; +inf when count == 0
 *     u64le    max                   binary64 bits; -inf when count == 0
 *     varint   zero count            values with |x| below the min indexable
 *     store    positive values
 *     store    negative values (indexed by |x|)
 *
 * and each store is
 *
 *     svarint  offset                bucket index i of the first bin
 *     varint   nbins                 0 .. max_bins
 *     varint   counts[nbins]         bins i = offset .. offset + nbins - 1
 *
 * Bins are written in ascending bucket index (ascending |x|) for both stores.
 * Leading and trailing empty bins are trimmed (an empty store is offset 0,
 * nbins 0), so equal sketches serialise to identical bytes; the decoder
 * rejects any other layout, unknown versions, trailing bytes and counts that
 * do not add up to count.
 */
#ifndef RED_SKETCH_H
#define RED_SKETCH_H

#include "red_attr.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Default relative accuracy. */
#define RED_SKETCH_DEFAULT_ALPHA 0.01
/** Default bound on the number of buckets per store (positive, negative). */
#define RED_SKETCH_DEFAULT_MAX_BINS 2048
/** Largest max_bins accepted by red_sketch_new_bounded(). */
#define RED_SKETCH_MAX_BINS_LIMIT (1 << 20)
/** First byte of the serialised format. */
#define RED_SKETCH_FORMAT_VERSION 0xd1

typedef struct red_sketch_s red_sketch_t;

/**
 * Creates an empty sketch with relative accuracy @p alpha in (0, 0.5) and
 * RED_SKETCH_DEFAULT_MAX_BINS buckets per store.
 * Returns NULL and writes a message to @p errstr on a bad alpha or OOM.
 * Caller destroys with red_sketch_destroy().
 */
red_sketch_t *red_sketch_new(double alpha, char *errstr,
                             size_t errstr_size) RED_MUSTCHECK;

/**
 * Like red_sketch_new() with at most @p max_bins buckets per store
 * (1 .. RED_SKETCH_MAX_BINS_LIMIT). Caller destroys with red_sketch_destroy().
 */
red_sketch_t *red_sketch_new_bounded(double alpha, int max_bins, char *errstr,
                                     size_t errstr_size) RED_MUSTCHECK;

/** Frees the sketch and everything it owns; accepts NULL. */
void red_sketch_destroy(red_sketch_t *sk);

/**
 * Returns an independent deep copy of @p sk (borrowed), or NULL on OOM.
 * Caller destroys the copy with red_sketch_destroy().
 */
red_sketch_t *red_sketch_dup(const red_sketch_t *sk) RED_MUSTCHECK;

/** Empties the sketch (alpha and max_bins are kept, memory is kept). */
void red_sketch_clear(red_sketch_t *sk);

/**
 * Adds one value. Returns 0, -EINVAL for NaN or +-Inf (nothing is stored),
 * -ENOMEM when a store could not grow or -EOVERFLOW when the count would
 * wrap (the sketch is unchanged).
 * Allocates only when a store grows; -0.0 is stored as 0.0.
 */
int red_sketch_add(red_sketch_t *sk, double value) RED_MUSTCHECK;

/**
 * Adds @p value @p n times (n == 0 is a no-op). Returns 0, -EINVAL for NaN or
 * +-Inf, -ENOMEM, or -EOVERFLOW when the total count would wrap; on error the
 * sketch is unchanged.
 */
int red_sketch_add_n(red_sketch_t *sk, double value, uint64_t n) RED_MUSTCHECK;

/**
 * Adds every value of @p src (borrowed, unchanged; may be @p dst) to @p dst.
 * Returns 0, -EINVAL when the alphas differ, -ENOMEM or -EOVERFLOW; on error
 * @p dst is unchanged. When max_bins differ, @p dst's bound applies.
 */
int red_sketch_merge(red_sketch_t *dst, const red_sketch_t *src) RED_MUSTCHECK;

/**
 * Changes the unit the counts are in: multiplies every count by
 * 10^@p exp10 (exp10 > 0, exact: e.g. a sketch of plain counts becomes one
 * of weight units), or divides it by 10^-exp10 rounding half up (exp10 <
 * 0: a coarser unit; a bucket that rounds to 0 is dropped, a sketch left
 * with no count is emptied; min and max are kept otherwise). Quantiles of
 * a multiplied sketch are unchanged. Returns 0, -EOVERFLOW (nothing
 * changed) when a count would wrap, or -EINVAL for |exp10| > 19.
 */
int red_sketch_rescale(red_sketch_t *sk, int exp10) RED_MUSTCHECK;

/**
 * The nearest-rank quantile: the value of rank r = max(1, ceil(q * n)) within
 * relative error alpha (values in the zero bucket report 0), clamped into
 * [min, max]. A q that is a few ulps above k / n counts as k / n, so
 * q = 0.95 with n = 100 is rank 95. Returns NAN if the sketch is empty or q
 * is not in [0, 1].
 */
double red_sketch_quantile(const red_sketch_t *sk, double q);

/**
 * red_sketch_quantile() of a sketch whose every value counts at least
 * @p least (>= 1; a weighted sketch: the smallest weight added): a rank
 * within @p least of either end is the exact min or max, as rank 1 and
 * rank n are with plain counts (least 1, red_sketch_quantile()).
 */
double red_sketch_quantile_least(const red_sketch_t *sk, double q,
                                 uint64_t least);

/** Number of values added. */
uint64_t red_sketch_count(const red_sketch_t *sk);

/** Exact smallest value added, NAN if empty. */
double red_sketch_min(const red_sketch_t *sk);

/** Exact largest value added, NAN if empty. */
double red_sketch_max(const red_sketch_t *sk);

/** The relative accuracy the sketch was created with. */
double red_sketch_alpha(const red_sketch_t *sk);

/**
 * True when both sketches (borrowed) have the same alpha, max_bins, count,
 * min, max, zero count and non-empty buckets; memory layout does not matter.
 */
bool red_sketch_equal(const red_sketch_t *a, const red_sketch_t *b);

/**
 * Encodes @p sk in the format above. Writes at most @p size bytes to @p buf
 * (which may be NULL when size is 0) and returns the length of the full
 * encoding, like snprintf: the output is complete only if the return value
 * is <= size.
 */
size_t red_sketch_serialize(const red_sketch_t *sk, uint8_t *buf, size_t size);

/**
 * Decodes a sketch from exactly @p len bytes of @p buf (borrowed; never read
 * past len). Returns NULL and writes a message to @p errstr on truncated,
 * corrupt or unknown-version input or OOM. Caller destroys the result with
 * red_sketch_destroy().
 */
red_sketch_t *red_sketch_deserialize(const uint8_t *buf, size_t len,
                                     char *errstr,
                                     size_t errstr_size) RED_MUSTCHECK;

#endif
