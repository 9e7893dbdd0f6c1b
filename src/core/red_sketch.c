/* red_sketch - DDSketch-style log-bucket quantile sketch with exact merge. */
#include "red_sketch.h"

#include "red_varint.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Index of each store in red_sketch_s.stores. */
#define STORE_POS 0
#define STORE_NEG 1

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
 * Types
 * ------------------------------------------------------------------------
 */

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
typedef struct sketch_store_s {
        uint64_t *bins; /* cap counts; owned */
        int64_t offset; /* key of bins[0] */
        uint32_t cap;   /* allocated bins, <= max_bins */
} sketch_store_t;

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
        sketch_store_t stores[2];
};


/*
 * ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------
 */

static void sketch_err(char *errstr, size_t errstr_size, const char *fmt, ...)
        RED_PRINTF(3, 4);

static void sketch_err(char *errstr, size_t errstr_size, const char *fmt, ...)
{
        va_list ap;

        if (!errstr || errstr_size == 0) {
                return;
        }
        va_start(ap, fmt);
        vsnprintf(errstr, errstr_size, fmt, ap);
        va_end(ap);
}

static uint64_t dbl_bits(double v)
{
        uint64_t bits;

        memcpy(&bits, &v, sizeof(bits));
        return bits;
}

static double bits_dbl(uint64_t bits)
{
        double v;

        memcpy(&v, &bits, sizeof(v));
        return v;
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
static bool store_range(const sketch_store_t *st, int64_t *lop, int64_t *hip)
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
static int64_t store_plan(const sketch_store_t *st, int64_t req_lo,
                          int64_t req_hi, uint32_t max_bins, uint32_t *needp,
                          bool *hadp, int64_t *dlop, int64_t *dhip)
{
        int64_t lo = req_lo, hi = req_hi, bottom;

        *hadp = store_range(st, dlop, dhip);
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
static int store_reserve(sketch_store_t *st, int64_t req_lo, int64_t req_hi,
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
static int store_fit(sketch_store_t *st, int64_t req_lo, int64_t req_hi,
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
static int store_add_slow(sketch_store_t *st, int64_t key, uint64_t n,
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
static void store_merge(sketch_store_t *dst, const sketch_store_t *src,
                        uint32_t max_bins)
{
        int64_t lo, hi, bottom;

        if (!store_range(src, &lo, &hi)) {
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

static bool store_equal(const sketch_store_t *a, const sketch_store_t *b)
{
        int64_t alo = 0, ahi = 0, blo = 0, bhi = 0;
        bool ha = store_range(a, &alo, &ahi);
        bool hb = store_range(b, &blo, &bhi);

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
                sketch_err(errstr, errstr_size,
                           "sketch: alpha %g out of range (0, 0.5)", alpha);
                return NULL;
        }
        gamma = (1 + alpha) / (1 - alpha);
        log_gamma = log(gamma);
        if (!(log_gamma > 0) || 712 / log_gamma >= (double)KEY_LIMIT) {
                sketch_err(errstr, errstr_size,
                           "sketch: alpha %g too small for double precision",
                           alpha);
                return NULL;
        }
        if (max_bins < 1 || max_bins > RED_SKETCH_MAX_BINS_LIMIT) {
                sketch_err(errstr, errstr_size,
                           "sketch: max_bins %d out of range (1 .. %d)",
                           max_bins, RED_SKETCH_MAX_BINS_LIMIT);
                return NULL;
        }
        sk = calloc(1, sizeof(*sk));
        if (!sk) {
                sketch_err(errstr, errstr_size, "sketch: out of memory");
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
        free(sk->stores[STORE_POS].bins);
        free(sk->stores[STORE_NEG].bins);
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
        cp->stores[STORE_POS].bins = NULL;
        cp->stores[STORE_NEG].bins = NULL;
        for (int i = 0; i < 2; i++) {
                const sketch_store_t *from = &sk->stores[i];
                sketch_store_t *to = &cp->stores[i];

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
                sketch_store_t *st = &sk->stores[i];

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

        if (unlikely((dbl_bits(value) & EXP_MASK) == EXP_MASK)) {
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
                sketch_store_t *st = &sk->stores[neg];
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
                        sketch_store_t *st = &dst->stores[i];

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

                if (!store_range(&src->stores[i], &lo, &hi)) {
                        continue;
                }
                r = store_reserve(&dst->stores[i], lo, hi, dst->max_bins);
                if (r) {
                        return r;
                }
        }
        store_merge(&dst->stores[STORE_POS], &src->stores[STORE_POS],
                    dst->max_bins);
        store_merge(&dst->stores[STORE_NEG], &src->stores[STORE_NEG],
                    dst->max_bins);
        dst->zero += src->zero;
        dst->count += src->count;
        dst->min = src->min < dst->min ? src->min : dst->min;
        dst->max = src->max > dst->max ? src->max : dst->max;
        return 0;
}


/*
 * ------------------------------------------------------------------------
 * Queries
 * ------------------------------------------------------------------------
 */

double red_sketch_quantile(const red_sketch_t *sk, double q)
{
        const sketch_store_t *st;
        uint64_t rank, cum = 0;
        double v;

        if (sk->count == 0 || !(q >= 0 && q <= 1)) {
                return NAN;
        }
        rank = sketch_rank(q, sk->count);
        if (rank == 1) {
                return sk->min;
        }
        if (rank == sk->count) {
                return sk->max;
        }

        /* Negative store: ascending key is descending magnitude. */
        st = &sk->stores[STORE_NEG];
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
        st = &sk->stores[STORE_POS];
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
        return dbl_bits(a->alpha) == dbl_bits(b->alpha) &&
               a->max_bins == b->max_bins && a->count == b->count &&
               a->zero == b->zero && dbl_bits(a->min) == dbl_bits(b->min) &&
               dbl_bits(a->max) == dbl_bits(b->max) &&
               store_equal(&a->stores[STORE_POS], &b->stores[STORE_POS]) &&
               store_equal(&a->stores[STORE_NEG], &b->stores[STORE_NEG]);
}


/*
 * ------------------------------------------------------------------------
 * Serialisation (format in red_sketch.h)
 * ------------------------------------------------------------------------
 */

typedef struct sketch_writer_s {
        uint8_t *buf;
        size_t size;
        size_t pos; /* may run past size: the full length */
} sketch_writer_t;

static void wr_u8(sketch_writer_t *w, uint8_t b)
{
        if (w->pos < w->size) {
                w->buf[w->pos] = b;
        }
        w->pos++;
}

static void wr_u64le(sketch_writer_t *w, uint64_t v)
{
        for (int i = 0; i < 8; i++) {
                wr_u8(w, (uint8_t)(v >> (8 * i)));
        }
}

static void wr_varint(sketch_writer_t *w, uint64_t v)
{
        uint8_t tmp[RED_VARINT_MAX];
        size_t n;

        if (w->pos < w->size && w->size - w->pos >= RED_VARINT_MAX) {
                w->pos += red_varint_encode(v, w->buf + w->pos);
                return;
        }
        if (w->pos >= w->size) {
                w->pos += red_varint_len(v); /* sizing, or past the end */
                return;
        }
        n = red_varint_encode(v, tmp); /* near the end: byte by byte */
        for (size_t i = 0; i < n; i++) {
                wr_u8(w, tmp[i]);
        }
}

static void wr_svarint(sketch_writer_t *w, int64_t v)
{
        wr_varint(w, red_varint_zigzag(v));
}

/* Writes a store by ascending bucket index i = key (pos) or -key (neg). */
static void wr_store(sketch_writer_t *w, const sketch_store_t *st, bool neg)
{
        int64_t lo, hi;

        if (!store_range(st, &lo, &hi)) {
                wr_svarint(w, 0);
                wr_varint(w, 0);
                return;
        }
        wr_svarint(w, neg ? -hi : lo);
        wr_varint(w, (uint64_t)(hi - lo + 1));
        if (neg) {
                for (int64_t k = hi; k >= lo; k--) {
                        wr_varint(w, st->bins[k - st->offset]);
                }
        } else {
                for (int64_t k = lo; k <= hi; k++) {
                        wr_varint(w, st->bins[k - st->offset]);
                }
        }
}

size_t red_sketch_serialize(const red_sketch_t *sk, uint8_t *buf, size_t size)
{
        sketch_writer_t w = {.buf = buf, .size = buf ? size : 0, .pos = 0};

        wr_u8(&w, RED_SKETCH_FORMAT_VERSION);
        wr_u64le(&w, dbl_bits(sk->alpha));
        wr_varint(&w, sk->max_bins);
        wr_varint(&w, sk->count);
        wr_u64le(&w, dbl_bits(sk->min));
        wr_u64le(&w, dbl_bits(sk->max));
        wr_varint(&w, sk->zero);
        wr_store(&w, &sk->stores[STORE_POS], false);
        wr_store(&w, &sk->stores[STORE_NEG], true);
        return w.pos;
}

typedef struct sketch_reader_s {
        const uint8_t *buf;
        size_t len;
        size_t pos;
        const char *what; /* field being read, for messages */
        bool bad_varint;  /* the read failed on a malformed varint */
} sketch_reader_t;

static bool rd_u8(sketch_reader_t *r, uint8_t *v)
{
        if (r->pos >= r->len) {
                return false;
        }
        *v = r->buf[r->pos++];
        return true;
}

static bool rd_u64le(sketch_reader_t *r, uint64_t *v)
{
        uint64_t u = 0;

        if (r->len - r->pos < 8) {
                return false;
        }
        for (int i = 0; i < 8; i++) {
                u |= (uint64_t)r->buf[r->pos + i] << (8 * i);
        }
        r->pos += 8;
        *v = u;
        return true;
}

/*
 * A varint as red_varint reads it: shortest forms only. False when the
 * input ends inside it, or (bad_varint set) when it is malformed.
 */
static bool rd_varint(sketch_reader_t *r, uint64_t *v)
{
        int n = red_varint_decode(r->buf + r->pos, r->len - r->pos, v);

        if (n <= 0) {
                r->bad_varint = n == RED_VARINT_BAD;
                return false;
        }
        r->pos += (size_t)n;
        return true;
}

static bool rd_svarint(sketch_reader_t *r, int64_t *v)
{
        uint64_t u;

        if (!rd_varint(r, &u)) {
                return false;
        }
        *v = red_varint_unzigzag(u);
        return true;
}

/*
 * Reads one store into st (empty on entry). Returns "" when it is fine, NULL
 * when the input ends early, else what is wrong; *sump receives the sum of
 * its counts.
 */
static const char *rd_store(sketch_reader_t *r, sketch_store_t *st, bool neg,
                            uint32_t max_bins, int64_t max_key, uint64_t *sump)
{
        int64_t offset;
        uint64_t nbins, sum = 0;
        uint32_t cap;

        *sump = 0;
        r->what = "store offset";
        if (!rd_svarint(r, &offset)) {
                return NULL; /* the caller reports it (truncated, bad varint) */
        }
        r->what = "store bin count";
        if (!rd_varint(r, &nbins)) {
                return NULL;
        }
        if (nbins == 0) {
                return offset == 0 ? "" : "empty store with an offset";
        }
        if (nbins > max_bins) {
                return "store has more bins than max_bins";
        }
        if (offset < -max_key || offset > max_key ||
            offset + (int64_t)nbins - 1 > max_key) {
                return "store offset out of range for alpha";
        }
        cap = (uint32_t)nbins;
        st->bins = calloc(cap, sizeof(*st->bins));
        if (!st->bins) {
                return "out of memory";
        }
        st->cap = cap;
        /* Internal keys: i (pos) or -i (neg), ascending in bins[]. */
        st->offset = neg ? -(offset + (int64_t)nbins - 1) : offset;
        r->what = "store counts";
        for (uint32_t j = 0; j < cap; j++) {
                uint64_t c;

                if (!rd_varint(r, &c)) {
                        return NULL;
                }
                if (sum + c < sum) {
                        return "bin counts overflow";
                }
                sum += c;
                st->bins[neg ? cap - 1 - j : j] = c;
        }
        if (st->bins[0] == 0 || st->bins[cap - 1] == 0) {
                return "store has untrimmed empty bins";
        }
        *sump = sum;
        return "";
}

red_sketch_t *red_sketch_deserialize(const uint8_t *buf, size_t len,
                                     char *errstr, size_t errstr_size)
{
        sketch_reader_t r = {.buf = buf, .len = buf ? len : 0, .pos = 0};
        red_sketch_t *sk = NULL;
        uint64_t alpha_bits, max_bins, count, min_bits, max_bits, zero;
        uint64_t sums[2];
        const char *problem = NULL;
        size_t at = 0;
        double alpha, min, max;
        int64_t max_key;
        uint8_t version;
        char sub[160];

        r.what = "version";
        if (!rd_u8(&r, &version)) {
                goto truncated;
        }
        if (version != RED_SKETCH_FORMAT_VERSION) {
                sketch_err(errstr, errstr_size,
                           "sketch: unknown format version 0x%02x at byte 0 "
                           "(expected 0x%02x)",
                           version, RED_SKETCH_FORMAT_VERSION);
                return NULL;
        }
        r.what = "alpha";
        if (!rd_u64le(&r, &alpha_bits)) {
                goto truncated;
        }
        r.what = "max_bins";
        at = r.pos;
        if (!rd_varint(&r, &max_bins)) {
                goto truncated;
        }
        if (max_bins > RED_SKETCH_MAX_BINS_LIMIT) {
                problem = "max_bins out of range";
                goto bad;
        }
        alpha = bits_dbl(alpha_bits);
        sk = red_sketch_new_bounded(alpha, (int)max_bins, sub, sizeof(sub));
        if (!sk) {
                sketch_err(errstr, errstr_size, "%s (in serialised input)",
                           sub);
                return NULL;
        }
        r.what = "count";
        if (!rd_varint(&r, &count)) {
                goto truncated;
        }
        r.what = "min";
        if (!rd_u64le(&r, &min_bits)) {
                goto truncated;
        }
        r.what = "max";
        if (!rd_u64le(&r, &max_bits)) {
                goto truncated;
        }
        r.what = "zero count";
        if (!rd_varint(&r, &zero)) {
                goto truncated;
        }
        at = r.pos;
        min = bits_dbl(min_bits);
        max = bits_dbl(max_bits);
        if (count == 0) {
                if (min_bits != dbl_bits(INFINITY) ||
                    max_bits != dbl_bits(-INFINITY)) {
                        problem = "empty sketch with min/max";
                        goto bad;
                }
        } else if (!isfinite(min) || !isfinite(max) || !(min <= max) ||
                   min_bits == dbl_bits(-0.0) || max_bits == dbl_bits(-0.0)) {
                problem = "bad min/max";
                goto bad;
        }

        max_key = (int64_t)ceil(712 * sk->multiplier) + 2;
        for (int i = 0; i < 2; i++) {
                at = r.pos;
                problem = rd_store(&r, &sk->stores[i], i == STORE_NEG,
                                   sk->max_bins, max_key, &sums[i]);
                if (!problem) {
                        goto truncated;
                }
                if (*problem) {
                        goto bad;
                }
        }
        if (r.pos != r.len) {
                at = r.pos;
                problem = "trailing bytes";
                goto bad;
        }
        at = 0;
        if (sums[0] + sums[1] < sums[0] || sums[0] + sums[1] + zero < zero ||
            sums[0] + sums[1] + zero != count) {
                problem = "bin counts do not add up to count";
                goto bad;
        }
        if ((sums[STORE_POS] && max < sk->min_indexable) ||
            (sums[STORE_NEG] && min > -sk->min_indexable) ||
            (zero && (min >= sk->min_indexable || max <= -sk->min_indexable))) {
                problem = "min/max contradict the buckets";
                goto bad;
        }
        sk->count = count;
        sk->zero = zero;
        sk->min = min;
        sk->max = max;
        return sk;

truncated:
        if (r.bad_varint) {
                sketch_err(errstr, errstr_size,
                           "sketch: corrupt input at byte %zu: malformed "
                           "varint in %s (over-long or past 64 bits)",
                           r.pos, r.what);
        } else {
                sketch_err(errstr, errstr_size,
                           "sketch: truncated input: %zu bytes end inside %s",
                           len, r.what);
        }
        red_sketch_destroy(sk);
        return NULL;

bad:
        sketch_err(errstr, errstr_size, "sketch: corrupt input at byte %zu: %s",
                   at, problem);
        red_sketch_destroy(sk);
        return NULL;
}
