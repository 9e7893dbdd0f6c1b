/* red_cell_codec - the stored binary state of a cell: writer and reader. */
#include "red_cell_codec.h"

#include "red_varint.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/*
 * The format (version 1). "varint" is red_varint's shortest-form LEB128;
 * fixed-size fields are little-endian.
 *
 *   "RC" 1, varint events, varint measures, then per measure: name
 *   (varint length + bytes), kind byte, and its state:
 *     COUNT     varint n
 *     SUM/STATS/SKETCH  precision byte, varint n, [if n: sum as 16
 *               bytes LE (two's complement), min and max as 8-byte LE
 *               IEEE doubles], and for SKETCH a varint length + the
 *               sketch's own format (red_sketch.h)
 *     COUNT_BY  varint entries, each key (varint length + bytes) + varint
 *               count, sorted by key
 *     BY        varint entries, each key + varint measures + measures
 *     RECENT    varint entries, each key + zigzag varint event time (µs),
 *               sorted by key (kind 6: read by versions that know it)
 *
 * Version 2 is the state of a weighted aggregation: "RC" 2, a byte with
 * the weight digits d (weights are integers of 10^-d), then as version 1
 * with each count followed by its weighted count (varint, in weight
 * units): COUNT n w; SUM/STATS/SKETCH n [if n: w wmin sum min max], wmin
 * the smallest weight of a value; COUNT_BY entries key count w. Sums are sums
 * of value x weight and sketch buckets count weight units. Unweighted
 * aggregations keep writing version 1.
 *
 * Measures carry their names and kinds so that a state outlives contract
 * changes: the reader matches them by name and kind, skips the ones the
 * contract dropped and leaves new ones empty; a sum stored with another
 * precision is rescaled, and weighted counts and sketch buckets of other
 * weight units too (a version 1 state weighs every event 1).
 */

#define STATE_MAGIC0   'R'
#define STATE_MAGIC1   'C'
#define STATE_VERSION  1 /* unweighted */
#define STATE_WEIGHTED 2

/* --- writer ------------------------------------------------------- */

static void put_varint(red_buf_t *b, uint64_t v)
{
        uint8_t tmp[RED_VARINT_MAX];

        red_buf_append(b, (const char *)tmp, red_varint_encode(v, tmp));
}

static void put_u64le(red_buf_t *b, uint64_t v)
{
        char tmp[8];

        for (int i = 0; i < 8; i++) {
                tmp[i] = (char)(v >> (8 * i));
        }
        red_buf_append(b, tmp, 8);
}

static void put_double(red_buf_t *b, double d)
{
        uint64_t u;

        memcpy(&u, &d, 8);
        put_u64le(b, u);
}

static void put_bytes(red_buf_t *b, const char *p, size_t len)
{
        put_varint(b, len);
        red_buf_append(b, p, len);
}

static int write_list(const red_mstate_t *m, const red_measure_t *ms,
                      size_t cnt, int wd, red_buf_t *b);

static void write_sketch(const red_sketch_t *sk, red_buf_t *b)
{
        size_t need = sk ? red_sketch_serialize(sk, NULL, 0) : 0;

        put_varint(b, need);
        if (need && !red_buf_reserve(b, need)) {
                red_sketch_serialize(sk, (uint8_t *)b->data + b->len, need);
                b->len += need;
                b->data[b->len] = '\0';
        }
}

/* A count, and its weighted count when the state is weighted (@p wd). */
static void put_count(red_buf_t *b, uint64_t n, uint64_t w, int wd)
{
        put_varint(b, n);
        if (wd) {
                put_varint(b, w);
        }
}

static int write_one(const red_mstate_t *st, const red_measure_t *ms, int wd,
                     red_buf_t *b)
{
        red_keyed_t *k = st->keyed;

        put_bytes(b, ms->name, strlen(ms->name));
        red_buf_putc(b, (char)ms->kind);
        switch (ms->kind) {
        case RED_MEAS_COUNT:
                put_count(b, st->n, st->w, wd);
                return 0;
        case RED_MEAS_SUM:
        case RED_MEAS_STATS:
        case RED_MEAS_SKETCH:
                red_buf_putc(b, (char)ms->precision);
                put_varint(b, st->n);
                if (st->n) {
                        unsigned __int128 u = (unsigned __int128)st->sum;
                        if (wd) {
                                put_varint(b, st->w);
                                put_varint(b, st->wmin);
                        }
                        put_u64le(b, (uint64_t)u);
                        put_u64le(b, (uint64_t)(u >> 64));
                        put_double(b, st->min);
                        put_double(b, st->max);
                }
                if (ms->kind == RED_MEAS_SKETCH) {
                        write_sketch(st->sk, b);
                }
                return 0;
        case RED_MEAS_COUNT_BY:
        case RED_MEAS_BY:
        case RED_MEAS_RECENT:
                put_varint(b, k ? k->cnt : 0);
                red_cell_state_keyed_sort(k);
                for (size_t i = 0; k && i < k->cnt; i++) {
                        put_bytes(b, k->items[i]->key, k->items[i]->len);
                        if (ms->kind == RED_MEAS_RECENT) {
                                put_varint(b, red_varint_zigzag(
                                                      k->items[i]->time));
                        } else if (ms->kind == RED_MEAS_COUNT_BY) {
                                put_count(b, k->items[i]->count, k->items[i]->w,
                                          wd);
                        } else {
                                int r = write_list(k->items[i]->sub, ms->sub,
                                                   ms->sub_cnt, wd, b);
                                if (r) {
                                        return r;
                                }
                        }
                }
                return 0;
        default:
                return -EINVAL;
        }
}

static int write_list(const red_mstate_t *m, const red_measure_t *ms,
                      size_t cnt, int wd, red_buf_t *b)
{
        put_varint(b, cnt);
        for (size_t i = 0; i < cnt; i++) {
                int r = write_one(&m[i], &ms[i], wd, b);
                if (r) {
                        return r;
                }
        }
        return 0;
}

int red_cell_codec_write(uint64_t events, int wdigits, const red_mstate_t *m,
                         const red_measure_t *ms, size_t cnt, red_buf_t *out)
{
        int r;

        red_buf_putc(out, STATE_MAGIC0);
        red_buf_putc(out, STATE_MAGIC1);
        red_buf_putc(out, wdigits ? STATE_WEIGHTED : STATE_VERSION);
        if (wdigits) {
                red_buf_putc(out, (char)wdigits);
        }
        put_varint(out, events);
        r = write_list(m, ms, cnt, wdigits, out);
        return r ? r : out->failed ? -ENOMEM : 0;
}

/* --- reader ------------------------------------------------------- */

/* The input and whether it went wrong; the readers return 0 once it has. */
typedef struct reader_s {
        const unsigned char *p, *end;
        bool bad;
        bool weighted; /* version 2: counts come with weighted counts */
        int sd;        /* the stored weight digits (version 1: 0) */
        int cd;        /* the cell's weight digits (0: unweighted) */
} reader_t;

/* A varint (shortest form only, as red_varint reads it), or 0 and bad. */
static uint64_t get_varint(reader_t *r)
{
        uint64_t v = 0;
        int n = red_varint_decode(r->p, (size_t)(r->end - r->p), &v);

        if (n <= 0) {
                r->bad = true;
                return 0;
        }
        r->p += n;
        return v;
}

static uint64_t get_u64le(reader_t *r)
{
        uint64_t v = 0;

        if (r->end - r->p < 8) {
                r->bad = true;
                return 0;
        }
        for (int i = 0; i < 8; i++) {
                v |= (uint64_t)r->p[i] << (8 * i);
        }
        r->p += 8;
        return v;
}

static double get_double(reader_t *r)
{
        uint64_t u = get_u64le(r);
        double d;

        memcpy(&d, &u, 8);
        return d;
}

static const unsigned char *get_bytes(reader_t *r, size_t *len)
{
        const unsigned char *p;

        *len = (size_t)get_varint(r);
        if (r->bad || (size_t)(r->end - r->p) < *len) {
                r->bad = true;
                return NULL;
        }
        p = r->p;
        r->p += *len;
        return p;
}

/*
 * A weighted count @p v read in the stored weight units into the cell's
 * (0 for an unweighted cell). -ERANGE past 2^64 units.
 */
static int scale_weight(const reader_t *r, uint64_t *v)
{
        int d;

        if (!r->cd) {
                *v = 0;
                return 0;
        }
        for (d = r->sd; d < r->cd; d++) {
                if (__builtin_mul_overflow(*v, 10, v)) {
                        return -ERANGE;
                }
        }
        for (; d > r->cd; d--) {
                *v = *v / 10 + (*v % 10 >= 5);
        }
        return 0;
}

/* A count and its weighted count: read when the state is weighted, else
 * the count itself (weight 1 each), in the cell's units. */
static int get_count(reader_t *r, uint64_t *n, uint64_t *w)
{
        *n = get_varint(r);
        *w = r->weighted ? get_varint(r) : *n;
        return scale_weight(r, w);
}

static int count_range(const red_measure_t *ms, char *errstr, size_t size)
{
        snprintf(errstr, size,
                 "measure %s: the stored weighted count does not fit the "
                 "contract's weight units",
                 ms ? ms->name : "?");
        return -ERANGE;
}

/* Rescales a sum stored with precision @p from to precision @p to
 * (rounding half away from zero when digits are dropped). -ERANGE when
 * the finer precision does not hold it. */
static int rescale(red_i128_t *v, int from, int to)
{
        while (from < to) {
                if (__builtin_mul_overflow(*v, 10, v)) {
                        return -ERANGE;
                }
                from++;
        }
        while (from > to) {
                red_i128_t q = *v / 10, rem = *v % 10;
                *v = q + (rem >= 5 ? 1 : rem <= -5 ? -1 : 0);
                from--;
        }
        return 0;
}

static int read_list(red_mstate_t *m, const red_measure_t *ms, size_t cnt,
                     uint64_t records, reader_t *r, char *errstr, size_t size);

/* The sum/stats/sketch part of a record into @p tmp. */
static int read_stats(red_mstate_t *tmp, const red_measure_t *ms, int kind,
                      reader_t *r, char *errstr, size_t size)
{
        size_t len;
        const unsigned char *p;
        int prec;

        if (r->p >= r->end) {
                r->bad = true;
                return 0;
        }
        prec = *r->p++;
        if (prec > 9) {
                r->bad = true; /* no contract keeps more digits */
                return 0;
        }
        tmp->n = get_varint(r);
        if (tmp->n) {
                uint64_t lo, hi;
                /* unweighted: n values of weight 1 */
                tmp->w = r->weighted ? get_varint(r) : tmp->n;
                tmp->wmin = r->weighted ? get_varint(r) : 1;
                if (scale_weight(r, &tmp->w) || scale_weight(r, &tmp->wmin)) {
                        return count_range(ms, errstr, size);
                }
                if (r->cd && !tmp->wmin) {
                        tmp->wmin = 1; /* rounded away in coarser units */
                }
                lo = get_u64le(r);
                hi = get_u64le(r);
                tmp->sum = (red_i128_t)(((unsigned __int128)hi << 64) | lo);
                tmp->min = get_double(r);
                tmp->max = get_double(r);
        }
        if (ms && rescale(&tmp->sum, prec, ms->precision)) {
                snprintf(errstr, size,
                         "measure %s: the stored sum (precision %d) does not "
                         "fit precision %d",
                         ms->name, prec, ms->precision);
                return -ERANGE;
        }
        if (kind != RED_MEAS_SKETCH) {
                return 0;
        }
        p = get_bytes(r, &len);
        if (p && len && ms) {
                tmp->sk = red_sketch_deserialize(p, len, errstr, size);
                if (!tmp->sk) {
                        return -EINVAL;
                }
                /* buckets count stored weight units: make them the cell's */
                if (r->cd != r->sd &&
                    red_sketch_rescale(tmp->sk, r->cd - r->sd)) {
                        return count_range(ms, errstr, size);
                }
        }
        return 0;
}

/* The entries of a COUNT_BY, BY or RECENT record into @p tmp. */
static int read_keyed(red_mstate_t *tmp, const red_measure_t *ms, int kind,
                      reader_t *r, char *errstr, size_t size)
{
        uint64_t cnt = get_varint(r);
        int rc = 0;

        for (uint64_t i = 0; i < cnt && !r->bad && !rc; i++) {
                size_t len;
                const unsigned char *k = get_bytes(r, &len);
                red_keyed_entry_t *e = NULL;

                if (!k) {
                        break;
                }
                if (kind == RED_MEAS_RECENT) {
                        red_time_t t = red_varint_unzigzag(get_varint(r));
                        if (ms && red_cell_state_recent_note(&tmp->keyed, ms,
                                                             (const char *)k,
                                                             len, t)) {
                                return -ENOMEM;
                        }
                        continue;
                }
                if (ms && !(e = red_cell_state_keyed_get(
                                    &tmp->keyed, ms, (const char *)k, len))) {
                        return -ENOMEM;
                }
                if (kind == RED_MEAS_COUNT_BY) {
                        uint64_t c, w;
                        if (get_count(r, &c, &w) ||
                            (e && __builtin_add_overflow(e->w, w, &e->w))) {
                                return count_range(ms, errstr, size);
                        }
                        if (e) {
                                e->count += c;
                        }
                } else {
                        /* sub-measures are matched by name, too */
                        uint64_t n = get_varint(r);
                        rc = read_list(e ? e->sub : NULL, e ? ms->sub : NULL,
                                       e ? ms->sub_cnt : 0, n, r, errstr, size);
                }
        }
        return rc;
}

/*
 * Reads one measure record of kind @p kind and merges it into @p st
 * (measure @p ms); both NULL: the record is read and skipped.
 */
static int read_one(red_mstate_t *st, const red_measure_t *ms, int kind,
                    reader_t *r, char *errstr, size_t size)
{
        red_mstate_t tmp;
        int rc = 0;

        red_cell_state_init(&tmp, 1);
        switch (kind) {
        case RED_MEAS_COUNT:
                if (get_count(r, &tmp.n, &tmp.w)) {
                        rc = count_range(ms, errstr, size);
                }
                break;
        case RED_MEAS_SUM:
        case RED_MEAS_STATS:
        case RED_MEAS_SKETCH:
                rc = read_stats(&tmp, ms, kind, r, errstr, size);
                break;
        case RED_MEAS_COUNT_BY:
        case RED_MEAS_BY:
        case RED_MEAS_RECENT:
                rc = read_keyed(&tmp, ms, kind, r, errstr, size);
                break;
        default:
                r->bad = true;
                break;
        }
        if (!rc && !r->bad && st) {
                rc = red_cell_state_merge(st, &tmp, ms, 1, errstr, size);
        }
        if (ms) {
                red_cell_state_free(&tmp, ms, 1);
        }
        return rc;
}

/* Reads @p records measure records; they are matched to @p ms by name and
 * kind, unknown ones are read and skipped. */
static int read_list(red_mstate_t *m, const red_measure_t *ms, size_t cnt,
                     uint64_t records, reader_t *r, char *errstr, size_t size)
{
        for (uint64_t i = 0; i < records && !r->bad; i++) {
                size_t len;
                const unsigned char *name = get_bytes(r, &len);
                int kind, rc;
                size_t j;

                if (!name || r->p >= r->end) {
                        r->bad = true;
                        break;
                }
                kind = *r->p++;
                for (j = 0; j < cnt; j++) {
                        if (strlen(ms[j].name) == len &&
                            !memcmp(ms[j].name, name, len) &&
                            (int)ms[j].kind == kind) {
                                break;
                        }
                }
                rc = read_one(j < cnt ? &m[j] : NULL, j < cnt ? &ms[j] : NULL,
                              kind, r, errstr, size);
                if (rc) {
                        return rc;
                }
        }
        return 0;
}

int red_cell_codec_merge(const void *data, size_t len, int wdigits,
                         uint64_t *events, red_mstate_t *m,
                         const red_measure_t *ms, size_t cnt, char *errstr,
                         size_t errstr_size)
{
        reader_t r = {.p = data,
                      .end = (const unsigned char *)data + len,
                      .cd = wdigits};
        uint64_t records;
        int rc;

        if (len < 3 || r.p[0] != STATE_MAGIC0 || r.p[1] != STATE_MAGIC1 ||
            (r.p[2] != STATE_VERSION && r.p[2] != STATE_WEIGHTED) ||
            (r.p[2] == STATE_WEIGHTED && (len < 4 || r.p[3] > 9))) {
                snprintf(errstr, errstr_size,
                         "cell state: not a reducerd cell state (version %d "
                         "or %d expected)",
                         STATE_VERSION, STATE_WEIGHTED);
                return -EINVAL;
        }
        r.weighted = r.p[2] == STATE_WEIGHTED;
        r.sd = r.weighted ? r.p[3] : 0;
        r.p += r.weighted ? 4 : 3;
        *events += get_varint(&r);
        records = get_varint(&r);
        rc = read_list(m, ms, cnt, records, &r, errstr, errstr_size);
        if (!rc && (r.bad || r.p != r.end)) {
                snprintf(errstr, errstr_size,
                         "cell state: truncated or corrupt");
                return -EINVAL;
        }
        return rc;
}
