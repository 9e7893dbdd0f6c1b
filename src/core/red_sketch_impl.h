/*
 * red_sketch_impl - the inside of a sketch, shared by red_sketch.c (adding,
 * merging, queries) and red_sketch_codec.c (the serialised format). Private
 * to those two: everything else goes through red_sketch.h, which this
 * header does not include (the two modules must not include each other).
 */
#ifndef RED_SKETCH_IMPL_H
#define RED_SKETCH_IMPL_H

#include "red_attr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Index of each store in red_sketch_s.stores. */
#define RED_SKETCH_STORE_POS 0
#define RED_SKETCH_STORE_NEG 1

/*
 * A dense run of bucket counts: bins[k] counts key offset + k. Every
 * non-empty key lies in the window [offset, offset + cap), and cap never
 * exceeds max_bins, so an add that lands in the window can never break the
 * bound and needs no further checks.
 *
 * The positive store is keyed by index(x), the negative store by
 * -index(|x|): both then collapse their LOWEST keys (smallest positive
 * values, largest negative magnitudes) and both are walked in ascending key
 * order for quantiles. The invariant after any operation is that no key
 * below the bottom (highest occupied key - max_bins + 1) is occupied; a
 * value whose key falls below it is counted in the bottom bin. The bottom
 * only depends on the highest key of all values added, so the final state
 * does not depend on insertion order and merge is exact.
 */
typedef struct red_sketch_store_s {
        uint64_t *bins; /* cap counts; owned */
        int64_t offset; /* key of bins[0] */
        uint32_t cap;   /* allocated bins, <= max_bins */
} red_sketch_store_t;

struct red_sketch_s {
        double alpha;
        double gamma;         /* (1 + alpha) / (1 - alpha) */
        double log_gamma;     /* log(gamma) */
        double multiplier;    /* 1 / log(gamma) */
        double log_rep;       /* log(2 / (1 + gamma)) */
        double min_indexable; /* |x| below this goes to the zero bucket */
        uint64_t count;
        uint64_t zero; /* count of the zero bucket */
        double min;    /* +inf when empty */
        double max;    /* -inf when empty */
        uint32_t max_bins;
        red_sketch_store_t stores[2];
};

/* Lowest and highest non-empty keys; false when the store is empty. */
bool red_sketch_store_range(const red_sketch_store_t *st, int64_t *lop,
                            int64_t *hip);

/* printf into errstr (accepts NULL / 0). */
void red_sketch_err(char *errstr, size_t errstr_size, const char *fmt, ...)
        RED_PRINTF(3, 4);

static inline uint64_t red_sketch_dbl_bits(double v)
{
        uint64_t bits;

        memcpy(&bits, &v, sizeof(bits));
        return bits;
}

static inline double red_sketch_bits_dbl(uint64_t bits)
{
        double v;

        memcpy(&v, &bits, sizeof(v));
        return v;
}

#endif
