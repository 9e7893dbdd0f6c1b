/* red_sketch_codec - the serialised format of a sketch: writer and reader. */
#include "red_sketch.h"

#include "red_sketch_impl.h"
#include "red_varint.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

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
static void wr_store(sketch_writer_t *w, const red_sketch_store_t *st, bool neg)
{
        int64_t lo, hi;

        if (!red_sketch_store_range(st, &lo, &hi)) {
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
        wr_u64le(&w, red_sketch_dbl_bits(sk->alpha));
        wr_varint(&w, sk->max_bins);
        wr_varint(&w, sk->count);
        wr_u64le(&w, red_sketch_dbl_bits(sk->min));
        wr_u64le(&w, red_sketch_dbl_bits(sk->max));
        wr_varint(&w, sk->zero);
        wr_store(&w, &sk->stores[RED_SKETCH_STORE_POS], false);
        wr_store(&w, &sk->stores[RED_SKETCH_STORE_NEG], true);
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
static const char *rd_store(sketch_reader_t *r, red_sketch_store_t *st,
                            bool neg, uint32_t max_bins, int64_t max_key,
                            uint64_t *sump)
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
                red_sketch_err(
                        errstr, errstr_size,
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
        alpha = red_sketch_bits_dbl(alpha_bits);
        sk = red_sketch_new_bounded(alpha, (int)max_bins, sub, sizeof(sub));
        if (!sk) {
                red_sketch_err(errstr, errstr_size, "%s (in serialised input)",
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
        min = red_sketch_bits_dbl(min_bits);
        max = red_sketch_bits_dbl(max_bits);
        if (count == 0) {
                if (min_bits != red_sketch_dbl_bits(INFINITY) ||
                    max_bits != red_sketch_dbl_bits(-INFINITY)) {
                        problem = "empty sketch with min/max";
                        goto bad;
                }
        } else if (!isfinite(min) || !isfinite(max) || !(min <= max) ||
                   min_bits == red_sketch_dbl_bits(-0.0) ||
                   max_bits == red_sketch_dbl_bits(-0.0)) {
                problem = "bad min/max";
                goto bad;
        }

        max_key = (int64_t)ceil(712 * sk->multiplier) + 2;
        for (int i = 0; i < 2; i++) {
                at = r.pos;
                problem =
                        rd_store(&r, &sk->stores[i], i == RED_SKETCH_STORE_NEG,
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
        if ((sums[RED_SKETCH_STORE_POS] && max < sk->min_indexable) ||
            (sums[RED_SKETCH_STORE_NEG] && min > -sk->min_indexable) ||
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
                red_sketch_err(errstr, errstr_size,
                               "sketch: corrupt input at byte %zu: malformed "
                               "varint in %s (over-long or past 64 bits)",
                               r.pos, r.what);
        } else {
                red_sketch_err(
                        errstr, errstr_size,
                        "sketch: truncated input: %zu bytes end inside %s", len,
                        r.what);
        }
        red_sketch_destroy(sk);
        return NULL;

bad:
        red_sketch_err(errstr, errstr_size,
                       "sketch: corrupt input at byte %zu: %s", at, problem);
        red_sketch_destroy(sk);
        return NULL;
}
