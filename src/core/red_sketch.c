/* red_sketch - DDSketch-style log-bucket quantile sketch with exact merge. */
#include "red_sketch.h"

#include "red_sketch_impl.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Smallest allocation of a store, in bins (clamped to max_bins). */
#define STORE_MIN_CAP 64

/*
 * Keys stay within +-KEY_LIMIT so that key arithmetic (differences, +-
 * max_bins) never overflows int64. |log(x)| < 712 for every indexable x, so
 * an alpha whose 712 / log(gamma) reaches this is rejected.
 */
#define KEY_LIMIT ((int64_t)1 << 60)

#define EXP_MASK UINT64_C(0x7ff0000000000000)


/*
 * ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------
 */

void red_sketch_err(char *errstr, size_t errstr_size, const char *fmt, ...)
{
        va_list ap;

        if (!errstr || errstr_size == 0) {
                return;
        }
        va_start(ap, fmt);
        vsnprintf(errstr, errstr_size, fmt, ap);
        va_end(ap);
}

/* The value a bucket reports: 2 gamma^i / (gamma + 1), in one exp(). */
static double sketch_bucket_value(const red_sketch_t *sk, int64_t index)
{
        return exp((double)index * sk->log_gamma + sk->log_rep);
}

/*
 * The 1-based nearest rank ceil(q * n), clamped to [1, n]. q * n is a few
 * ulps above the intended integer when q is a rounded decimal (0.07 * 100 =
 * 7.000000000000001), so a product within 4 ulps above an integer is taken
 * as that integer.
 */
static uint64_t sketch_rank(double q, uint64_t n)
{
        double x = q * (double)n;
        double r = floor(x);

        if (x - r > x * (4 * DBL_EPSILON)) {
                r += 1;
        }
        if (r < 1) {
                return 1;
        }
        if (r >= (double)n) {
                return n;
        }
        return (uint64_t)r;
}


/*
 * ------------------------------------------------------------------------
 * Stores
 * ------------------------------------------------------------------------
 */

/* Lowest and highest non-empty keys; false when the store is empty. */
bool red_sketch_store_range(const red_sketch_store_t *st, int64_t *lop,
                            int64_t *hip)
{
        uint32_t a = 0, b = st->cap;

        while (a < b && st->bins[a] == 0) {
                a++;
        }
        if (a == b) {
                return false;
        }
        while (st->bins[b - 1] == 0) {
                b--;
        }
        *lop = st->offset + a;
        *hip = st->offset + b - 1;
        return true;
}

/*
 * Plans room for keys [req_lo, req_hi] next to the current content: returns
 * the collapse bottom (lowest key that may stay occupied) and the number of
 * bins the window needs.
 */
static int64_t store_plan(const red_sketch_store_t *st, int64_t req_lo,
                          int64_t req_hi, uint32_t max_bins, uint32_t *needp,
                          bool *hadp, int64_t *dlop, int64_t *dhip)
{
        int64_t lo = req_lo, hi = req_hi, bottom;

        *hadp = red_sketch_store_range(st, dlop, dhip);
        if (*hadp) {
                if (*dlop < lo) {
                        lo = *dlop;
                }
                if (*dhip > hi) {
                        hi = *dhip;
                }
        }
        bottom = hi - (int64_t)max_bins + 1;
        if (lo > bottom) {
                bottom = lo;
        }
        *needp = (uint32_t)(hi - bottom + 1);
        return bottom;
}

/*
 * Grows the allocation so that keys [req_lo, req_hi] will fit. Content and
 * window start are unchanged (new bins are zero), so a failure, or a later
 * failure elsewhere, leaves the store's meaning intact.
 */
static int store_reserve(red_sketch_store_t *st, int64_t req_lo, int64_t req_hi,
                         uint32_t max_bins)
{
        uint32_t need, cap;
        int64_t dlo, dhi;
        bool had;
        uint64_t *bins;

        (void)store_plan(st, req_lo, req_hi, max_bins, &need, &had, &dlo, &dhi);
        if (need <= st->cap) {
                return 0;
        }
        cap = st->cap * 2 > need ? st->cap * 2 : need;
        if (cap < STORE_MIN_CAP) {
                cap = STORE_MIN_CAP;
        }
        if (cap > max_bins) {
                cap = max_bins;
        }
        bins = realloc(st->bins, (size_t)cap * sizeof(*bins));
        if (!bins) {
                return -ENOMEM;
        }
        memset(bins + st->cap, 0, (size_t)(cap - st->cap) * sizeof(*bins));
        st->bins = bins;
        st->cap = cap;
        return 0;
}

/*
 * Makes the window cover keys [req_lo, req_hi] (clamped up to the bottom),
 * folding every occupied key below the collapse bottom into the bottom bin.
 * Returns 0 or -ENOMEM (store unchanged) and the bottom in *bottomp.
 */
static int store_fit(red_sketch_store_t *st, int64_t req_lo, int64_t req_hi,
                     uint32_t max_bins, int64_t *bottomp)
{
        int64_t bottom, dlo, dhi, keep, off;
        uint64_t folded = 0;
        uint32_t need;
        bool had;
        int r;

        r = store_reserve(st, req_lo, req_hi, max_bins);
        if (r) {
                return r;
        }
        bottom = store_plan(st, req_lo, req_hi, max_bins, &need, &had, &dlo,
                            &dhi);
        *bottomp = bottom;

        /* Keep the window if it already covers [bottom, hi], else center. */
        off = st->offset;
        if (bottom < off || bottom + need > off + (int64_t)st->cap) {
                off = bottom - (int64_t)(st->cap - need) / 2;
        }
        if (!had) {
                st->offset = off; /* all bins are zero */
                return 0;
        }

        keep = dlo > bottom ? dlo : bottom;
        if (off == st->offset && keep == dlo) {
                return 0; /* nothing to fold or move */
        }
        for (int64_t k = dlo; k < keep && k <= dhi; k++) {
                folded += st->bins[k - st->offset];
        }
        if (keep <= dhi) {
                size_t len = (size_t)(dhi - keep + 1);
                size_t to = (size_t)(keep - off);

                memmove(st->bins + to, st->bins + (keep - st->offset),
                        len * sizeof(*st->bins));
                memset(st->bins, 0, to * sizeof(*st->bins));
                memset(st->bins + to + len, 0,
                       (st->cap - to - len) * sizeof(*st->bins));
        } else {
                memset(st->bins, 0, (size_t)st->cap * sizeof(*st->bins));
        }
        st->offset = off;
        st->bins[bottom - off] += folded;
        return 0;
}

/* The rare path of an add: the key is outside the window. */
static int store_add_slow(red_sketch_store_t *st, int64_t key, uint64_t n,
                          uint32_t max_bins)
{
        int64_t bottom;
        int r;

        r = store_fit(st, key, key, max_bins, &bottom);
        if (r) {
                return r;
        }
        if (key < bottom) {
                key = bottom;
        }
        st->bins[key - st->offset] += n;
        return 0;
}

/* Adds every bin of src to dst. Call store_reserve() first: cannot fail. */
static void store_merge(red_sketch_store_t *dst, const red_sketch_store_t *src,
                        uint32_t max_bins)
{
        int64_t lo, hi, bottom;

        if (!red_sketch_store_range(src, &lo, &hi)) {
                return;
        }
        if (store_fit(dst, lo, hi, max_bins, &bottom) != 0) {
                return; /* not reached: reserved */
        }
        for (int64_t k = lo; k <= hi; k++) {
                uint64_t c = src->bins[k - src->offset];

                dst->bins[(k < bottom ? bottom : k) - dst->offset] += c;
        }
}

static bool store_equal(const red_sketch_store_t *a,
                        const red_sketch_store_t *b)
{
        int64_t alo = 0, ahi = 0, blo = 0, bhi = 0;
        bool ha = red_sketch_store_range(a, &alo, &ahi);
        bool hb = red_sketch_store_range(b, &blo, &bhi);

        if (ha != hb) {
                return false;
        }
        if (!ha) {
                return true;
        }
        if (alo != blo || ahi != bhi) {
                return false;
        }
        return memcmp(a->bins + (alo - a->offset), b->bins + (blo - b->offset),
                      (size_t)(ahi - alo + 1) * sizeof(*a->bins)) == 0;
}


/*
 * ------------------------------------------------------------------------
 * Life cycle
 * ------------------------------------------------------------------------
 */

red_sketch_t *red_sketch_new_bounded(double alpha, int max_bins, char *errstr,
                                     size_t errstr_size)
{
        red_sketch_t *sk;
        double gamma, log_gamma;

        if (!(alpha > 0 && alpha < 0.5)) {
                red_sketch_err(errstr, errstr_size,
                               "sketch: alpha %g out of range (0, 0.5)", alpha);
                return NULL;
        }
        gamma = (1 + alpha) / (1 - alpha);
        log_gamma = log(gamma);
        if (!(log_gamma > 0) || 712 / log_gamma >= (double)KEY_LIMIT) {
                red_sketch_err(
                        errstr, errstr_size,
                        "sketch: alpha %g too small for double precision",
                        alpha);
                return NULL;
        }
        if (max_bins < 1 || max_bins > RED_SKETCH_MAX_BINS_LIMIT) {
                red_sketch_err(errstr, errstr_size,
                               "sketch: max_bins %d out of range (1 .. %d)",
                               max_bins, RED_SKETCH_MAX_BINS_LIMIT);
                return NULL;
        }
        sk = calloc(1, sizeof(*sk));
        if (!sk) {
                red_sketch_err(errstr, errstr_size, "sketch: out of memory");
                return NULL;
        }
        sk->alpha = alpha;
        sk->gamma = gamma;
        sk->log_gamma = log_gamma;
        sk->multiplier = 1 / log_gamma;
        sk->log_rep = log(2 / (1 + gamma));
        sk->min_indexable = DBL_MIN * gamma;
        sk->max_bins = (uint32_t)max_bins;
        sk->min = INFINITY;
        sk->max = -INFINITY;
        return sk;
}

red_sketch_t *red_sketch_new(double alpha, char *errstr, size_t errstr_size)
{
        return red_sketch_new_bounded(alpha, RED_SKETCH_DEFAULT_MAX_BINS,
                                      errstr, errstr_size);
}

void red_sketch_destroy(red_sketch_t *sk)
{
        if (!sk) {
                return;
        }
        free(sk->stores[RED_SKETCH_STORE_POS].bins);
        free(sk->stores[RED_SKETCH_STORE_NEG].bins);
        free(sk);
}

red_sketch_t *red_sketch_dup(const red_sketch_t *sk)
{
        red_sketch_t *cp;

        cp = malloc(sizeof(*cp));
        if (!cp) {
                return NULL;
        }
        *cp = *sk;
        cp->stores[RED_SKETCH_STORE_POS].bins = NULL;
        cp->stores[RED_SKETCH_STORE_NEG].bins = NULL;
        for (int i = 0; i < 2; i++) {
                const red_sketch_store_t *from = &sk->stores[i];
                red_sketch_store_t *to = &cp->stores[i];

                if (from->cap == 0) {
                        continue;
                }
                to->bins = malloc((size_t)from->cap * sizeof(*to->bins));
                if (!to->bins) {
                        goto err;
                }
                memcpy(to->bins, from->bins,
                       (size_t)from->cap * sizeof(*to->bins));
        }
        return cp;

err:
        red_sketch_destroy(cp);
        return NULL;
}

void red_sketch_clear(red_sketch_t *sk)
{
        for (int i = 0; i < 2; i++) {
                red_sketch_store_t *st = &sk->stores[i];

                if (st->cap > 0) {
                        memset(st->bins, 0,
                               (size_t)st->cap * sizeof(*st->bins));
                }
        }
        sk->count = 0;
        sk->zero = 0;
        sk->min = INFINITY;
        sk->max = -INFINITY;
}


/*
 * ------------------------------------------------------------------------
 * Adding and merging
 * ------------------------------------------------------------------------
 */

/*
 * The hot path: one log(), a truncation-based ceil, a branch-free choice of
 * store and a bounds check that is almost always true.
 */
static inline int sketch_insert(red_sketch_t *sk, double value, uint64_t n)
{
        double mag;

        if (unlikely((red_sketch_dbl_bits(value) & EXP_MASK) == EXP_MASK)) {
                return -EINVAL; /* NaN or +-Inf */
        }
        if (unlikely(sk->count + n < sk->count)) {
                return -EOVERFLOW;
        }
        value += 0.0; /* -0.0 becomes +0.0: min/max stay canonical */
        mag = fabs(value);
        if (likely(mag >= sk->min_indexable)) {
                double y = log(mag) * sk->multiplier;
                int64_t key = (int64_t)y;
                int64_t neg = value < 0;
                red_sketch_store_t *st = &sk->stores[neg];
                uint64_t k;

                key += (double)key < y;   /* ceil(y), |y| < 2^62 */
                key = (key ^ -neg) + neg; /* negate for the neg store */
                k = (uint64_t)(key - st->offset);
                if (likely(k < st->cap)) {
                        st->bins[k] += n;
                } else {
                        int r = store_add_slow(st, key, n, sk->max_bins);

                        if (unlikely(r)) {
                                return r;
                        }
                }
        } else {
                sk->zero += n;
        }
        sk->count += n;
        sk->min = value < sk->min ? value : sk->min;
        sk->max = value > sk->max ? value : sk->max;
        return 0;
}

int red_sketch_add(red_sketch_t *sk, double value)
{
        return sketch_insert(sk, value, 1);
}

int red_sketch_add_n(red_sketch_t *sk, double value, uint64_t n)
{
        if (n == 0) {
                return 0;
        }
        return sketch_insert(sk, value, n);
}

int red_sketch_merge(red_sketch_t *dst, const red_sketch_t *src)
{
        int r;

        if (dst->alpha != src->alpha) {
                return -EINVAL;
        }
        if (src->count == 0) {
                return 0;
        }
        if (dst->count + src->count < dst->count) {
                return -EOVERFLOW;
        }
        if (dst == src) {
                /* Same buckets, every count doubles. */
                for (int i = 0; i < 2; i++) {
                        red_sketch_store_t *st = &dst->stores[i];

                        for (uint32_t k = 0; k < st->cap; k++) {
                                st->bins[k] *= 2;
                        }
                }
                dst->zero *= 2;
                dst->count *= 2;
                return 0;
        }

        /* Allocate everything first so that a failure changes nothing. */
        for (int i = 0; i < 2; i++) {
                int64_t lo, hi;

                if (!red_sketch_store_range(&src->stores[i], &lo, &hi)) {
                        continue;
                }
                r = store_reserve(&dst->stores[i], lo, hi, dst->max_bins);
                if (r) {
                        return r;
                }
        }
        store_merge(&dst->stores[RED_SKETCH_STORE_POS],
                    &src->stores[RED_SKETCH_STORE_POS], dst->max_bins);
        store_merge(&dst->stores[RED_SKETCH_STORE_NEG],
                    &src->stores[RED_SKETCH_STORE_NEG], dst->max_bins);
        dst->zero += src->zero;
        dst->count += src->count;
        dst->min = src->min < dst->min ? src->min : dst->min;
        dst->max = src->max > dst->max ? src->max : dst->max;
        return 0;
}


int red_sketch_rescale(red_sketch_t *sk, int exp10)
{
        uint64_t f = 1, total = 0;

        if (exp10 < -19 || exp10 > 19) {
                return -EINVAL;
        }
        for (int i = 0; i < (exp10 < 0 ? -exp10 : exp10); i++) {
                f *= 10;
        }
        if (exp10 > 0 && sk->count > UINT64_MAX / f) {
                return -EOVERFLOW; /* every count is at most the total */
        }
        for (int i = 0; i < 2; i++) {
                red_sketch_store_t *st = &sk->stores[i];

                for (uint32_t k = 0; k < st->cap; k++) {
                        st->bins[k] = exp10 >= 0 ? st->bins[k] * f
                                                 : st->bins[k] / f +
                                                           (st->bins[k] % f >=
                                                            (f + 1) / 2);
                        total += st->bins[k];
                }
        }
        sk->zero = exp10 >= 0 ? sk->zero * f
                              : sk->zero / f + (sk->zero % f >= (f + 1) / 2);
        sk->count = total + sk->zero;
        if (!sk->count) {
                red_sketch_clear(sk); /* min and max of nothing */
        }
        return 0;
}


/*
 * ------------------------------------------------------------------------
 * Queries
 * ------------------------------------------------------------------------
 */

double red_sketch_quantile(const red_sketch_t *sk, double q)
{
        return red_sketch_quantile_least(sk, q, 1);
}

double red_sketch_quantile_least(const red_sketch_t *sk, double q,
                                 uint64_t least)
{
        const red_sketch_store_t *st;
        uint64_t rank, cum = 0;
        double v;

        if (sk->count == 0 || !(q >= 0 && q <= 1)) {
                return NAN;
        }
        rank = sketch_rank(q, sk->count);
        /* the smallest and the largest value count at least `least`: a
         * rank within it of either end is theirs, exactly */
        if (rank <= least) {
                return sk->min;
        }
        if (rank > sk->count - least) {
                return sk->max;
        }

        /* Negative store: ascending key is descending magnitude. */
        st = &sk->stores[RED_SKETCH_STORE_NEG];
        for (uint32_t k = 0; k < st->cap; k++) {
                cum += st->bins[k];
                if (cum >= rank) {
                        v = -sketch_bucket_value(sk, -(st->offset + k));
                        goto found;
                }
        }
        cum += sk->zero;
        if (cum >= rank) {
                v = 0;
                goto found;
        }
        st = &sk->stores[RED_SKETCH_STORE_POS];
        for (uint32_t k = 0; k < st->cap; k++) {
                cum += st->bins[k];
                if (cum >= rank) {
                        v = sketch_bucket_value(sk, st->offset + k);
                        goto found;
                }
        }
        v = sk->max; /* not reached: the counts add up to count */

found:
        if (v < sk->min) {
                v = sk->min;
        }
        if (v > sk->max) {
                v = sk->max;
        }
        return v;
}

uint64_t red_sketch_count(const red_sketch_t *sk)
{
        return sk->count;
}

double red_sketch_min(const red_sketch_t *sk)
{
        return sk->count ? sk->min : NAN;
}

double red_sketch_max(const red_sketch_t *sk)
{
        return sk->count ? sk->max : NAN;
}

double red_sketch_alpha(const red_sketch_t *sk)
{
        return sk->alpha;
}

bool red_sketch_equal(const red_sketch_t *a, const red_sketch_t *b)
{
        if (a == b) {
                return true;
        }
        return red_sketch_dbl_bits(a->alpha) == red_sketch_dbl_bits(b->alpha) &&
               a->max_bins == b->max_bins && a->count == b->count &&
               a->zero == b->zero &&
               red_sketch_dbl_bits(a->min) == red_sketch_dbl_bits(b->min) &&
               red_sketch_dbl_bits(a->max) == red_sketch_dbl_bits(b->max) &&
               store_equal(&a->stores[RED_SKETCH_STORE_POS],
                           &b->stores[RED_SKETCH_STORE_POS]) &&
               store_equal(&a->stores[RED_SKETCH_STORE_NEG],
                           &b->stores[RED_SKETCH_STORE_NEG]);
}
