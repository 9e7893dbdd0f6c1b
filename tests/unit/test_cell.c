/*
 * Tests for red_cell and red_aggregator: merging batch deltas equals one
 * pass (any batching, any merge order), the state format round-trips and
 * survives contract changes and corruption, sums are exact, rendering
 * (nulls, division by zero, sorted and escaped objects) and percentile
 * accuracy. Also the event generator the tests and benches share.
 */
#include "gen_events_lib.c"

#include "red_aggregator.h"
#include "red_cell.h"
#include "red_decode.h"
#include "red_rows.h"
#include "red_test.h"

#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define START "2025-11-03T00:00:00Z"

static red_contract_t *cg; /* contracts/codegen_metrics.yaml */
static red_contract_t *cr; /* tests/data/contracts/cell_render.yaml */

static red_contract_t *load(const char *rel)
{
        char err[2048];
        red_contract_t *c = red_contract_load(test_path(rel), err, sizeof(err));

        ck_assert_msg(c != NULL, "%s", err);
        return c;
}

static red_time_t tm(const char *s)
{
        red_time_t t;

        ck_assert_int_eq(red_time_parse(s, strlen(s), &t), 0);
        return t;
}

static void setup(void)
{
        cg = load("contracts/codegen_metrics.yaml");
        cr = load("tests/data/contracts/cell_render.yaml");
}

static void teardown(void)
{
        red_contract_destroy(cg);
        red_contract_destroy(cr);
}

/* ------------------------------------------------------------------ */
/* decoded streams                                                     */
/* ------------------------------------------------------------------ */

typedef struct stream_s {
        char *text; /* every line (the events borrow from it) */
        size_t *off, *len;
        const char **topics;
        red_event_t *evs;
        red_value_t *vals;
        red_msg_t *msgs;
        size_t cnt;
} stream_t;

/* @p n generated lines, poison-free. */
static void stream_gen(stream_t *st, uint64_t seed, size_t n, double days)
{
        size_t cap = n * 700, used = 0;
        gen_opts_t o;
        gen_line_t l;
        gen_t *g;

        memset(st, 0, sizeof(*st));
        gen_opts_default(&o);
        o.events = n;
        o.seed = seed;
        o.days = days;
        o.start = tm(START);
        ck_assert_ptr_nonnull(g = gen_new(&o));
        st->text = malloc(cap);
        st->off = calloc(n, sizeof(*st->off));
        st->len = calloc(n, sizeof(*st->len));
        st->topics = calloc(n, sizeof(*st->topics));
        ck_assert(st->text && st->off && st->len && st->topics);
        while (gen_next(g, &l)) {
                ck_assert_uint_lt(used + l.len, cap);
                memcpy(st->text + used, l.text, l.len);
                st->off[st->cnt] = used;
                st->len[st->cnt] = l.len;
                st->topics[st->cnt] = l.topic; /* static strings */
                used += l.len;
                st->cnt++;
        }
        gen_destroy(g);
        ck_assert_uint_eq(st->cnt, n);
}

/* Decodes the stream for contract @p c (every line must decode). */
static void stream_decode(stream_t *st, const red_contract_t *c)
{
        char detail[512];

        st->evs = calloc(st->cnt, sizeof(*st->evs));
        st->vals = calloc(st->cnt * c->slot_cnt, sizeof(*st->vals));
        st->msgs = calloc(st->cnt, sizeof(*st->msgs));
        ck_assert(st->evs && st->vals && st->msgs);
        for (size_t i = 0; i < st->cnt; i++) {
                red_msg_t *m = &st->msgs[i];
                m->topic = st->topics[i];
                m->value = st->text + st->off[i];
                m->value_len = st->len[i];
                m->timestamp = -1;
                m->offset = (int64_t)i;
                st->evs[i].values = st->vals + i * c->slot_cnt;
                ck_assert_msg(red_decode(c, m, INT64_MAX / 2, &st->evs[i],
                                         detail,
                                         sizeof(detail)) == RED_DLQ_NONE,
                              "line %zu: %s", i, detail);
        }
}

static void stream_release(stream_t *st)
{
        for (size_t i = 0; st->evs && i < st->cnt; i++) {
                red_decode_release(&st->evs[i]);
        }
        free(st->evs);
        free(st->vals);
        free(st->msgs);
        st->evs = NULL;
        st->vals = NULL;
        st->msgs = NULL;
}

static void stream_free(stream_t *st)
{
        stream_release(st);
        free(st->text);
        free(st->off);
        free(st->len);
        free(st->topics);
}

static red_aggregator_t *aggregate(const red_contract_t *c, const stream_t *st,
                                   size_t from, size_t to)
{
        red_aggregator_t *ag = red_aggregator_new(c);

        ck_assert_ptr_nonnull(ag);
        for (size_t i = from; i < to; i++) {
                ck_assert_int_eq(red_aggregator_apply(ag, &st->evs[i]), 0);
        }
        return ag;
}

static void serialize(const red_cell_t *cell, red_buf_t *b)
{
        red_buf_reset(b);
        ck_assert_int_eq(red_cell_serialize(cell, b), 0);
        ck_assert(!b->failed);
}

static void row(const red_cell_t *cell, red_buf_t *b)
{
        red_buf_reset(b);
        red_rows_cell_json(cell, NULL, b);
        ck_assert(!b->failed);
}

/* Same cells, same state bytes, same rows. */
static void assert_same(red_aggregator_t *a, red_aggregator_t *b,
                        const char *what)
{
        red_buf_t x, y;
        size_t na, nb;
        red_cell_t **ca = red_aggregator_cells(a, &na);
        red_cell_t **cb = red_aggregator_cells(b, &nb);

        ck_assert_msg(na == nb, "%s: %zu cells != %zu", what, na, nb);
        red_buf_init(&x);
        red_buf_init(&y);
        for (size_t i = 0; i < na; i++) {
                ck_assert_msg(!red_cell_cmp(ca[i], cb[i]), "%s: cell %zu key",
                              what, i);
                ck_assert_uint_eq(red_cell_events(ca[i]),
                                  red_cell_events(cb[i]));
                serialize(ca[i], &x);
                serialize(cb[i], &y);
                ck_assert_msg(x.len == y.len && !memcmp(x.data, y.data, x.len),
                              "%s: state of cell %zu differs", what, i);
                row(ca[i], &x);
                row(cb[i], &y);
                ck_assert_msg(!strcmp(x.data, y.data),
                              "%s: row %zu differs:\n%s\n%s", what, i, x.data,
                              y.data);
        }
        red_buf_destroy(&x);
        red_buf_destroy(&y);
}

static void merge_all(red_aggregator_t *dst, red_aggregator_t *src)
{
        char err[256];
        size_t n;
        red_cell_t **cells = red_aggregator_cells(src, &n);

        for (size_t i = 0; i < n; i++) {
                ck_assert_int_eq(red_aggregator_merge_cell(dst, cells[i], err,
                                                           sizeof(err)),
                                 0);
        }
}

/* ------------------------------------------------------------------ */
/* merge exactness                                                     */
/* ------------------------------------------------------------------ */

START_TEST(merge_equals_single_pass)
{
        static const uint64_t seeds[] = {1, 2, 3};
        static const size_t means[] = {40, 700, 6000};

        for (size_t si = 0; si < 3; si++) {
                stream_t st;
                red_aggregator_t *one;
                gen_rng_t rng;

                stream_gen(&st, seeds[si], 20000, 3);
                stream_decode(&st, cg);
                one = aggregate(cg, &st, 0, st.cnt);
                ck_assert_uint_gt(red_aggregator_count(one), 500);
                gen_rng_seed(&rng, seeds[si] * 77);

                for (size_t mi = 0; mi < 3; mi++) {
                        red_aggregator_t **parts = NULL, *merged, *tree;
                        red_cell_t **all = NULL;
                        size_t np = 0, nall = 0;
                        char what[64];

                        /* random batches, each its own aggregator */
                        for (size_t i = 0; i < st.cnt;) {
                                size_t len =
                                        1 +
                                        gen_below(&rng,
                                                  (uint32_t)(2 * means[mi]));
                                size_t end =
                                        i + len < st.cnt ? i + len : st.cnt;
                                parts = realloc(parts,
                                                (np + 1) * sizeof(*parts));
                                parts[np++] = aggregate(cg, &st, i, end);
                                i = end;
                        }
                        /* every batch cell, merged in a shuffled order */
                        for (size_t p = 0; p < np; p++) {
                                size_t n;
                                red_cell_t **c =
                                        red_aggregator_cells(parts[p], &n);
                                all = realloc(all, (nall + n) * sizeof(*all));
                                memcpy(all + nall, c, n * sizeof(*c));
                                nall += n;
                        }
                        for (size_t i = nall; i > 1; i--) {
                                size_t j = gen_below(&rng, (uint32_t)i);
                                red_cell_t *t = all[i - 1];
                                all[i - 1] = all[j];
                                all[j] = t;
                        }
                        merged = red_aggregator_new(cg);
                        for (size_t i = 0; i < nall; i++) {
                                char err[256];
                                ck_assert_int_eq(red_aggregator_merge_cell(
                                                         merged, all[i], err,
                                                         sizeof(err)),
                                                 0);
                        }
                        snprintf(what, sizeof(what),
                                 "seed %llu, batches ~%zu, shuffled",
                                 (unsigned long long)seeds[si], means[mi]);
                        assert_same(one, merged, what);

                        /* pairwise, bottom up (associativity) */
                        while (np > 1) {
                                size_t k = 0;
                                for (size_t p = 0; p < np; p += 2) {
                                        red_aggregator_t *m =
                                                red_aggregator_new(cg);
                                        merge_all(m, parts[p]);
                                        red_aggregator_destroy(parts[p]);
                                        if (p + 1 < np) {
                                                merge_all(m, parts[p + 1]);
                                                red_aggregator_destroy(
                                                        parts[p + 1]);
                                        }
                                        parts[k++] = m;
                                }
                                np = k;
                        }
                        tree = parts[0];
                        snprintf(what, sizeof(what),
                                 "seed %llu, batches ~%zu, tree",
                                 (unsigned long long)seeds[si], means[mi]);
                        assert_same(one, tree, what);
                        red_aggregator_destroy(tree);
                        red_aggregator_destroy(merged);
                        free(parts);
                        free(all);
                }
                red_aggregator_destroy(one);
                stream_free(&st);
        }
}
END_TEST

/* Cells merged into themselves twice count twice: merge is a sum. */
START_TEST(merge_adds)
{
        stream_t st;
        red_aggregator_t *one, *twice;

        stream_gen(&st, 5, 3000, 1);
        stream_decode(&st, cg);
        one = aggregate(cg, &st, 0, st.cnt);
        twice = red_aggregator_new(cg);
        merge_all(twice, one);
        merge_all(twice, one);
        {
                size_t n1, n2;
                red_cell_t **a = red_aggregator_cells(one, &n1);
                red_cell_t **b = red_aggregator_cells(twice, &n2);
                ck_assert_uint_eq(n1, n2);
                for (size_t i = 0; i < n1; i++) {
                        ck_assert_uint_eq(2 * red_cell_events(a[i]),
                                          red_cell_events(b[i]));
                }
        }
        red_aggregator_destroy(twice);
        red_aggregator_destroy(one);
        stream_free(&st);
}
END_TEST

/* ------------------------------------------------------------------ */
/* serialisation                                                       */
/* ------------------------------------------------------------------ */

/* An empty cell with @p cell's key, in aggregation @p a (same shape). */
static red_cell_t *empty_like(const red_cell_t *cell, const red_agg_t *a)
{
        const char *keys[8];
        size_t lens[8];
        red_cell_key_t key;
        red_cell_t *n;

        ck_assert_uint_le(a->key_cnt, 8);
        for (size_t i = 0; i < a->key_cnt; i++) {
                keys[i] = red_cell_key(cell, i);
                lens[i] = red_cell_key_len(cell, i);
        }
        key.agg = a;
        key.wt = red_cell_window_type(cell);
        key.start = red_cell_window_start(cell);
        key.grouping = red_cell_grouping(cell);
        key.keys = keys;
        key.lens = lens;
        key.group_hash = red_cell_group_hash(a, key.grouping, keys, lens);
        ck_assert_ptr_nonnull(n = red_cell_new(&key, cg->sketch_alpha));
        ck_assert_uint_eq(red_cell_hash(n), red_cell_key_hash(&key));
        ck_assert(red_cell_key_eq(n, &key));
        return n;
}

START_TEST(serialize_round_trip)
{
        stream_t st;
        red_aggregator_t *ag;
        red_cell_t **cells, *big = NULL;
        red_buf_t a, b, c;
        size_t n, biggest = 0, rejected = 0, accepted = 0;
        char err[256];

        stream_gen(&st, 11, 8000, 2);
        stream_decode(&st, cg);
        ag = aggregate(cg, &st, 0, st.cnt);
        cells = red_aggregator_cells(ag, &n);
        red_buf_init(&a);
        red_buf_init(&b);
        red_buf_init(&c);
        for (size_t i = 0; i < n; i++) {
                red_cell_t *e = empty_like(cells[i], &cg->aggs[0]);
                serialize(cells[i], &a);
                ck_assert_int_eq(red_cell_merge_serialized(e, a.data, a.len,
                                                           err, sizeof(err)),
                                 0);
                serialize(e, &b);
                ck_assert_uint_eq(a.len, b.len);
                ck_assert_int_eq(memcmp(a.data, b.data, a.len), 0);
                row(cells[i], &b);
                row(e, &c);
                ck_assert_str_eq(b.data, c.data);
                ck_assert_uint_eq(red_cell_events(e),
                                  red_cell_events(cells[i]));
                red_cell_destroy(e);
                if (a.len > biggest) {
                        biggest = a.len;
                        big = cells[i];
                }
        }
        /* every prefix of the biggest state is rejected, cleanly */
        serialize(big, &a);
        for (size_t len = 0; len < a.len; len++) {
                red_cell_t *e = empty_like(big, &cg->aggs[0]);
                err[0] = '\0';
                ck_assert_msg(red_cell_merge_serialized(e, a.data, len, err,
                                                        sizeof(err)) == -EINVAL,
                              "prefix %zu of %zu accepted", len, a.len);
                ck_assert_str_ne(err, "");
                red_cell_destroy(e);
        }
        /* trailing bytes too */
        red_buf_putc(&a, 0);
        {
                red_cell_t *e = empty_like(big, &cg->aggs[0]);
                ck_assert_int_eq(red_cell_merge_serialized(e, a.data, a.len,
                                                           err, sizeof(err)),
                                 -EINVAL);
                red_cell_destroy(e);
        }
        /* any single corrupted byte: accepted or rejected, never a crash */
        serialize(big, &a);
        for (size_t pos = 0; pos < a.len; pos++) {
                static const unsigned char flips[] = {0xff, 0x80, 0x01, 0x7f};
                for (size_t f = 0; f < sizeof(flips); f++) {
                        red_cell_t *e = empty_like(big, &cg->aggs[0]);
                        unsigned char old = (unsigned char)a.data[pos];
                        int r;
                        a.data[pos] = (char)(old ^ flips[f]);
                        r = red_cell_merge_serialized(e, a.data, a.len, err,
                                                      sizeof(err));
                        ck_assert(r == 0 || r == -EINVAL);
                        rejected += r != 0;
                        accepted += r == 0;
                        a.data[pos] = (char)old;
                        /* whatever got in renders */
                        row(e, &b);
                        red_cell_destroy(e);
                }
        }
        ck_assert_uint_gt(rejected, 0);
        ck_assert_uint_gt(accepted, 0);
        /* not a cell state at all */
        {
                red_cell_t *e = empty_like(big, &cg->aggs[0]);
                ck_assert_int_eq(red_cell_merge_serialized(e, "XY\1", 3, err,
                                                           sizeof(err)),
                                 -EINVAL);
                ck_assert_ptr_nonnull(strstr(err, "not a reducerd cell state"));
                red_cell_destroy(e);
        }
        red_buf_destroy(&a);
        red_buf_destroy(&b);
        red_buf_destroy(&c);
        red_aggregator_destroy(ag);
        stream_free(&st);
}
END_TEST

/* The rendered value of column @p name in @p cell ("null" when null). */
static char *render_col(const red_cell_t *cell, const char *name)
{
        const red_agg_t *a = red_cell_agg(cell);
        red_buf_t b;
        bool is_null;

        for (size_t i = 0; i < a->column_cnt; i++) {
                if (strcmp(a->columns[i].name, name)) {
                        continue;
                }
                red_buf_init(&b);
                red_cell_render(cell, &a->columns[i], &b, &is_null);
                if (is_null) {
                        ck_assert_uint_eq(b.len, 0);
                        red_buf_destroy(&b);
                        return strdup("null");
                }
                return red_buf_steal(&b, NULL);
        }
        ck_abort_msg("no column %s", name);
        return NULL;
}

START_TEST(states_across_contract_versions)
{
        red_contract_t *cx =
                load("tests/data/contracts/cell_codegen_extra.yaml");
        const red_agg_t *ax = &cx->aggs[0];
        red_aggregator_t *ag, *agx;
        red_cell_t **cells, **cellsx;
        stream_t st;
        size_t n, nx, with_stages = 0;
        red_buf_t a, b;
        char err[256];

        stream_gen(&st, 21, 4000, 1);
        stream_decode(&st, cg);
        ag = aggregate(cg, &st, 0, st.cnt);
        stream_release(&st);
        stream_decode(&st, cx);
        agx = aggregate(cx, &st, 0, st.cnt);
        cells = red_aggregator_cells(ag, &n);
        cellsx = red_aggregator_cells(agx, &nx);
        ck_assert_uint_eq(n, nx);
        red_buf_init(&a);
        red_buf_init(&b);
        for (size_t i = 0; i < n; i++) {
                red_cell_t *e;

                /* the extra measure is skipped by the shipped contract */
                e = empty_like(cellsx[i], &cg->aggs[0]);
                serialize(cellsx[i], &a);
                ck_assert_int_eq(red_cell_merge_serialized(e, a.data, a.len,
                                                           err, sizeof(err)),
                                 0);
                serialize(e, &a);
                serialize(cells[i], &b);
                ck_assert_uint_eq(a.len, b.len);
                ck_assert_int_eq(memcmp(a.data, b.data, a.len), 0);
                red_cell_destroy(e);

                /* and stays empty when the state lacks it */
                e = empty_like(cells[i], ax);
                serialize(cells[i], &a);
                ck_assert_int_eq(red_cell_merge_serialized(e, a.data, a.len,
                                                           err, sizeof(err)),
                                 0);
                for (size_t k = 0; k < ax->column_cnt; k++) {
                        const char *name = ax->columns[k].name;
                        char *got = render_col(e, name);
                        char *want = render_col(cellsx[i], name);
                        if (!strcmp(name, "stage_events")) {
                                ck_assert_str_eq(got, "0");
                                with_stages += strcmp(want, "0") != 0;
                        } else {
                                ck_assert_str_eq(got, want);
                        }
                        free(got);
                        free(want);
                }
                red_cell_destroy(e);
        }
        /* not vacuous: the extra measure had counts to drop */
        ck_assert_uint_gt(with_stages, 20);
        red_buf_destroy(&a);
        red_buf_destroy(&b);
        red_aggregator_destroy(ag);
        red_aggregator_destroy(agx);
        stream_free(&st);
        red_contract_destroy(cx);
}
END_TEST

/* ------------------------------------------------------------------ */
/* hand-made events of cell_render.yaml                                */
/* ------------------------------------------------------------------ */

typedef struct hev_s {
        red_event_t ev;
        red_value_t vals[32];
} hev_t;

static void hev_init(hev_t *h, const red_contract_t *c, const char *kind,
                     const char *time)
{
        memset(h, 0, sizeof(*h));
        ck_assert_uint_le(c->slot_cnt, 32);
        h->ev.values = h->vals;
        for (size_t k = 0; k < c->kind_cnt; k++) {
                if (!strcmp(c->kinds[k].name, kind)) {
                        h->ev.kind = &c->kinds[k];
                }
        }
        ck_assert_ptr_nonnull(h->ev.kind);
        h->ev.time = tm(time);
}

static red_value_t *hval(hev_t *h, const red_contract_t *c, const char *f)
{
        int slot = red_contract_slot(c, f);

        ck_assert_int_ge(slot, 0);
        return &h->vals[slot];
}

static void set_num(hev_t *h, const red_contract_t *c, const char *f, double d)
{
        red_value_t *v = hval(h, c, f);

        v->type = RED_FT_NUMBER;
        v->d = d;
}

static void set_str(hev_t *h, const red_contract_t *c, const char *f,
                    const char *s)
{
        red_value_t *v = hval(h, c, f);

        v->type = RED_FT_STRING;
        v->s.p = s;
        v->s.len = strlen(s);
}

static void set_bool(hev_t *h, const red_contract_t *c, const char *f, bool b)
{
        red_value_t *v = hval(h, c, f);

        v->type = RED_FT_BOOLEAN;
        v->b = b;
}

/* The hourly cell "total/all" at 2025-11-06T10:00. */
static red_cell_t *new_cell(const red_contract_t *c)
{
        const char *keys[1] = {"all"};
        size_t lens[1] = {3};
        red_cell_key_t key = {.agg = &c->aggs[0],
                              .wt = RED_WINDOW_HOURLY,
                              .start = tm("2025-11-06T10:00:00Z"),
                              .grouping = 0,
                              .keys = keys,
                              .lens = lens};
        red_cell_t *cell;

        key.group_hash = red_cell_group_hash(key.agg, 0, keys, lens);
        ck_assert_ptr_nonnull(cell = red_cell_new(&key, c->sketch_alpha));
        return cell;
}

static void apply(red_cell_t *cell, const hev_t *h)
{
        ck_assert_int_eq(red_cell_apply(cell, &h->ev), 0);
}

static void assert_col(const red_cell_t *cell, const char *name,
                       const char *want)
{
        char *got = render_col(cell, name);

        ck_assert_msg(!strcmp(got, want), "%s: got %s, want %s", name, got,
                      want);
        free(got);
}

START_TEST(exact_sums)
{
        red_cell_t *cell = new_cell(cr), *other;
        gen_rng_t rng;
        double vals[5000];
        red_buf_t a, b;
        hev_t h;

        /* 0.1 a million times is 100000, not 100000.00000133288 */
        hev_init(&h, cr, "done", "2025-11-06T10:15:00Z");
        set_num(&h, cr, "amount", 0.1);
        for (int i = 0; i < 1000000; i++) {
                apply(cell, &h);
        }
        assert_col(cell, "total_amount", "100000");
        assert_col(cell, "done_count", "1000000");
        ck_assert_uint_eq(red_cell_events(cell), 1000000);
        red_cell_destroy(cell);

        /* many decimals, three orders: the same state and sum */
        gen_rng_seed(&rng, 3);
        for (size_t i = 0; i < 5000; i++) {
                vals[i] = (double)gen_range(&rng, -5000000000LL, 5000000000LL) /
                          1e9 * 123.456789;
        }
        red_buf_init(&a);
        red_buf_init(&b);
        for (int order = 0; order < 3; order++) {
                other = new_cell(cr);
                for (size_t i = 0; i < 5000; i++) {
                        size_t k = order == 0   ? i
                                   : order == 1 ? 4999 - i
                                                : (i * 2654435761u) % 5000;
                        set_num(&h, cr, "amount", vals[k]);
                        apply(other, &h);
                }
                serialize(other, order ? &b : &a);
                if (order) {
                        ck_assert_uint_eq(a.len, b.len);
                        ck_assert_int_eq(memcmp(a.data, b.data, a.len), 0);
                }
                red_cell_destroy(other);
        }
        red_buf_destroy(&a);
        red_buf_destroy(&b);
}
END_TEST

START_TEST(render_nulls)
{
        red_cell_t *cell = new_cell(cr);
        hev_t h;

        /* nothing yet: counts 0, sums 0, stats null */
        assert_col(cell, "done_count", "0");
        assert_col(cell, "total_amount", "0");
        assert_col(cell, "ratio", "null");
        assert_col(cell, "rate", "-1");
        assert_col(cell, "avg_seconds", "null");
        assert_col(cell, "p95", "null");
        assert_col(cell, "seconds_range", "null");
        assert_col(cell, "per_step", "null");
        assert_col(cell, "reasons", "null");

        /* failures only: 0 / n is 0, stats still null */
        hev_init(&h, cr, "failed", "2025-11-06T10:01:00Z");
        set_str(&h, cr, "reason", "timeout");
        apply(cell, &h);
        apply(cell, &h);
        assert_col(cell, "ratio", "0");
        assert_col(cell, "rate", "0");
        assert_col(cell, "avg_seconds", "null");
        assert_col(cell, "reasons", "{\"timeout\":2}");

        /* a done event without seconds: the sketch stays empty */
        hev_init(&h, cr, "done", "2025-11-06T10:02:00Z");
        set_str(&h, cr, "step", "build");
        apply(cell, &h);
        assert_col(cell, "ratio", "0.5");
        assert_col(cell, "p50", "null");
        assert_col(cell, "per_step",
                   "{\"build\":{\"runs\":1,\"bad\":0,\"avg\":null}}");
        set_num(&h, cr, "seconds", 2.5);
        apply(cell, &h);
        assert_col(cell, "avg_seconds", "2.5");
        assert_col(cell, "seconds_range", "{\"min\":2.5,\"max\":2.5}");
        assert_col(cell, "p50", "2.5");
        assert_col(cell, "ratio", "1");
        red_cell_destroy(cell);

        /* done only: division by zero is null, coalesce replaces it */
        cell = new_cell(cr);
        hev_init(&h, cr, "done", "2025-11-06T10:02:00Z");
        apply(cell, &h);
        assert_col(cell, "ratio", "null");
        assert_col(cell, "rate", "-1");
        red_cell_destroy(cell);
}
END_TEST

START_TEST(render_objects_sorted_and_escaped)
{
        static const char *const reasons[] = {
                "zeta",  "alpha", "Mid", "alpha", "a\"b\\c\n\x01\xc3\xa9",
                "alpha", "",      "zeta"};
        static const char *const steps[] = {"validate", "build", "Zip",
                                            "build"};
        red_cell_t *cell = new_cell(cr);
        red_buf_t b;
        json_t *parsed;
        hev_t h;

        hev_init(&h, cr, "failed", "2025-11-06T10:03:00Z");
        for (size_t i = 0; i < sizeof(reasons) / sizeof(*reasons); i++) {
                set_str(&h, cr, "reason", reasons[i]);
                apply(cell, &h);
        }
        assert_col(cell, "reasons",
                   "{\"\":1,\"Mid\":1,\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\":1,"
                   "\"alpha\":3,\"zeta\":2}");
        hev_init(&h, cr, "done", "2025-11-06T10:04:00Z");
        for (size_t i = 0; i < 4; i++) {
                set_str(&h, cr, "step", steps[i]);
                set_bool(&h, cr, "ok", i != 3);
                set_num(&h, cr, "seconds", (double)(i + 1));
                apply(cell, &h);
        }
        assert_col(cell, "per_step",
                   "{\"Zip\":{\"runs\":1,\"bad\":0,\"avg\":3},"
                   "\"build\":{\"runs\":2,\"bad\":1,\"avg\":3},"
                   "\"validate\":{\"runs\":1,\"bad\":0,\"avg\":1}}");
        /* the whole row is JSON, and the keys read back */
        red_buf_init(&b);
        row(cell, &b);
        parsed = json_loads(b.data, 0, NULL);
        ck_assert_ptr_nonnull(parsed);
        ck_assert_int_eq(json_integer_value(json_object_get(
                                 json_object_get(parsed, "reasons"),
                                 "a\"b\\c\n\x01\xc3\xa9")),
                         1);
        ck_assert_str_eq(
                json_string_value(json_object_get(parsed, "window_start")),
                "2025-11-06T10:00:00Z");
        ck_assert_str_eq(
                json_string_value(json_object_get(parsed, "window_end")),
                "2025-11-06T11:00:00Z");
        ck_assert_str_eq(json_string_value(json_object_get(parsed, "grouping")),
                         "total");
        ck_assert_str_eq(
                json_string_value(json_object_get(parsed, "group_key")), "all");
        json_decref(parsed);
        red_buf_destroy(&b);
        red_cell_destroy(cell);

        /* many distinct values (past the linear search): still one
         * entry per value, sorted */
        cell = new_cell(cr);
        hev_init(&h, cr, "failed", "2025-11-06T10:03:00Z");
        for (int round = 0; round < 2; round++) {
                for (int i = 0; i < 40; i++) {
                        char *r = malloc(8);
                        snprintf(r, 8, "r%02d", (i * 17 + round * 5) % 40);
                        set_str(&h, cr, "reason", r);
                        apply(cell, &h);
                        free(r);
                }
        }
        {
                red_buf_t want;
                char *got = render_col(cell, "reasons");
                red_buf_init(&want);
                red_buf_putc(&want, '{');
                for (int i = 0; i < 40; i++) {
                        red_buf_printf(&want, "%s\"r%02d\":2", i ? "," : "", i);
                }
                red_buf_putc(&want, '}');
                ck_assert_str_eq(got, want.data);
                red_buf_destroy(&want);
                free(got);
        }
        red_cell_destroy(cell);

        /* a key with a NUL byte (only a corrupt state can carry one) */
        cell = new_cell(cr);
        hev_init(&h, cr, "failed", "2025-11-06T10:03:00Z");
        hval(&h, cr, "reason")->type = RED_FT_STRING;
        hval(&h, cr, "reason")->s.p = "n\0ul";
        hval(&h, cr, "reason")->s.len = 4;
        apply(cell, &h);
        apply(cell, &h);
        assert_col(cell, "reasons", "{\"n\\u0000ul\":2}");
        red_cell_destroy(cell);
}
END_TEST

START_TEST(precision_and_measures_change)
{
        red_contract_t *c2 = load("tests/data/contracts/cell_render_v2.yaml");
        static const double amounts[] = {0.0016, 1.2504, 2.0004};
        red_cell_t *six = new_cell(cr), *three = new_cell(c2), *e;
        char err[256];
        red_buf_t b;
        hev_t h, h2;

        hev_init(&h, cr, "done", "2025-11-06T10:05:00Z");
        hev_init(&h2, c2, "done", "2025-11-06T10:05:00Z");
        for (size_t i = 0; i < 3; i++) {
                set_num(&h, cr, "amount", amounts[i]);
                set_num(&h2, c2, "amount", amounts[i]);
                apply(six, &h);
                apply(three, &h2);
        }
        hev_init(&h, cr, "failed", "2025-11-06T10:06:00Z");
        set_str(&h, cr, "reason", "oom");
        apply(six, &h);
        assert_col(six, "total_amount", "3.2524");
        assert_col(three, "total_amount", "3.252");
        assert_col(three, "again", "3");

        red_buf_init(&b);
        /* 6 decimals into 3: rescaled; reasons unknown there: skipped;
         * again absent from the state: stays 0 */
        e = new_cell(c2);
        serialize(six, &b);
        ck_assert_int_eq(
                red_cell_merge_serialized(e, b.data, b.len, err, sizeof(err)),
                0);
        assert_col(e, "total_amount", "3.252");
        assert_col(e, "again", "0");
        assert_col(e, "done_count", "3");
        ck_assert_uint_eq(red_cell_events(e), 4);
        red_cell_destroy(e);
        /* 3 decimals into 6 */
        e = new_cell(cr);
        serialize(three, &b);
        ck_assert_int_eq(
                red_cell_merge_serialized(e, b.data, b.len, err, sizeof(err)),
                0);
        assert_col(e, "total_amount", "3.252");
        assert_col(e, "reasons", "null");
        assert_col(e, "done_count", "3");
        red_cell_destroy(e);
        red_buf_destroy(&b);
        red_cell_destroy(six);
        red_cell_destroy(three);
        red_contract_destroy(c2);
}
END_TEST

/*
 * A cell of cell_render.yaml with every measure kind, multi-byte varints
 * (counts past 127, a key longer than 127 bytes), negative and fractional
 * sums and a sketch: the state today's encoder writes for it is
 * golden_state[] below. Stored states must keep decoding, whatever
 * changes in the codec.
 */
static red_cell_t *golden_cell(void)
{
        static const char *const steps[] = {"build", "test", "deploy"};
        red_cell_t *cell = new_cell(cr);
        char long_reason[131];
        hev_t h;

        for (int i = 0; i < 300; i++) {
                hev_init(&h, cr, "done", "2025-11-06T10:20:00Z");
                set_num(&h, cr, "amount", (i % 7 - 3) * 1234.5678);
                set_num(&h, cr, "seconds", 0.25 * (i % 40 + 1));
                set_str(&h, cr, "step", steps[i % 3]);
                set_bool(&h, cr, "ok", i % 5 != 0);
                apply(cell, &h);
        }
        memset(long_reason, 'x', sizeof(long_reason) - 1);
        long_reason[sizeof(long_reason) - 1] = '\0';
        for (int i = 0; i < 130; i++) {
                hev_init(&h, cr, "failed", "2025-11-06T10:40:00Z");
                set_str(&h, cr, "reason", i % 2 ? "timeout" : long_reason);
                apply(cell, &h);
        }
        return cell;
}

/* golden_cell(), serialised by the state encoder of version 1 (before the codec split). */
static const char golden_state[] =
        "524301ae030604646f6e6500ac02066661696c656400820106616d6f756e7401"
        "06ac0298f83d23ffffffffffffffffffffffff04780b2468efacc004780b2468"
        "efac40077365636f6e64730306ac02e072a95800000000000000000000000000"
        "0000000000d03f0000000000002440de01d17b14ae47e17a843f8010ac020000"
        "00000000d03f0000000000002440008901ba0108000000000000000000000000"
        "0000000000000000000000000000000000000000000008000000000000000000"
        "0000000000000000000008000000000000000000000000000800000000000000"
        "0000000008000000000000000008000000000000080000000000000800000000"
        "0008000000000800000000080000000800000008000000080000000800000800"
        "0008000008000800000800070000070007000700070007000700070007070007"
        "0700070700070700070707000700000573746570730503056275696c64030472"
        "756e730064036261640014077365636f6e6473020664603fa71d000000000000"
        "000000000000000000000000d03f0000000000002440066465706c6f79030472"
        "756e730064036261640014077365636f6e6473020664603fa71d000000000000"
        "000000000000000000000000d03f00000000000024400474657374030472756e"
        "730064036261640014077365636f6e647302066420f45a1d0000000000000000"
        "00000000000000000000d03f000000000000244007726561736f6e7304020774"
        "696d656f75744182017878787878787878787878787878787878787878787878"
        "7878787878787878787878787878787878787878787878787878787878787878"
        "7878787878787878787878787878787878787878787878787878787878787878"
        "7878787878787878787878787878787878787878787878787878787878787878"
        "787878787878787878787841";

START_TEST(state_golden)
{
        static const struct {
                const char *p;
                size_t len;
        } aliases[] = {{"\x83\x00", 2},
                       {"\x83\x80\x80\x80\x80\x80\x80\x80\x7f", 9}};
        red_cell_t *cell = golden_cell(), *back = new_cell(cr);
        size_t len = strlen(golden_state) / 2;
        unsigned char *bytes = malloc(len);
        red_buf_t a, b;
        char err[256];

        for (size_t i = 0; i < len; i++) {
                unsigned x;
                ck_assert_int_eq(sscanf(golden_state + 2 * i, "%2x", &x), 1);
                bytes[i] = (unsigned char)x;
        }
        /* the encoder still writes these bytes */
        red_buf_init(&a);
        serialize(cell, &a);
        ck_assert_uint_eq(a.len, len);
        ck_assert_int_eq(memcmp(a.data, bytes, len), 0);
        /* and the decoder reads them back to the same values */
        ck_assert_int_eq(red_cell_merge_serialized(back, bytes, len, err,
                                                   sizeof(err)),
                         0);
        ck_assert_uint_eq(red_cell_events(back), 430);
        assert_col(back, "done_count", "300");
        assert_col(back, "total_amount", "-3703.7034");
        assert_col(back, "avg_seconds", "4.958333333333333");
        assert_col(back, "seconds_range", "{\"min\":0.25,\"max\":10}");
        assert_col(back, "per_step",
                   "{\"build\":{\"runs\":100,\"bad\":20,\"avg\":4.975},"
                   "\"deploy\":{\"runs\":100,\"bad\":20,\"avg\":4.975},"
                   "\"test\":{\"runs\":100,\"bad\":20,\"avg\":4.925}}");
        red_buf_init(&b);
        row(cell, &a);
        row(back, &b);
        ck_assert_str_eq(a.data, b.data);
        /* the events count, 430 = ae 03, spelt over-long (ae 83 00) or
         * past 64 bits: each value has one encoding, the rest is corrupt */
        ck_assert_uint_eq(bytes[3], 0xae);
        ck_assert_uint_eq(bytes[4], 0x03);
        for (size_t i = 0; i < sizeof(aliases) / sizeof(*aliases); i++) {
                red_buf_reset(&b);
                red_buf_append(&b, (const char *)bytes, 4);
                red_buf_append(&b, aliases[i].p, aliases[i].len);
                red_buf_append(&b, (const char *)bytes + 5, len - 5);
                red_cell_destroy(back);
                back = new_cell(cr);
                ck_assert_int_eq(red_cell_merge_serialized(back, b.data, b.len,
                                                           err, sizeof(err)),
                                 -EINVAL);
                ck_assert_str_eq(err, "cell state: truncated or corrupt");
        }
        red_buf_destroy(&a);
        red_buf_destroy(&b);
        free(bytes);
        red_cell_destroy(cell);
        red_cell_destroy(back);
}
END_TEST

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

START_TEST(percentiles_within_one_percent)
{
        static const struct {
                const char *col;
                double q;
        } qs[] = {{"p50", 0.50}, {"p95", 0.95}, {"p99", 0.99}};
        const size_t n = 100000;
        double *xs = malloc(n * sizeof(*xs));
        red_cell_t *cell = new_cell(cr);
        gen_rng_t rng;
        hev_t h;

        gen_rng_seed(&rng, 12345);
        hev_init(&h, cr, "done", "2025-11-06T10:30:00Z");
        for (size_t i = 0; i < n; i++) {
                /* lognormal-ish latencies, 1 ms .. minutes */
                double u1 = ((double)(gen_u64(&rng) >> 11) + 0.5) * 0x1p-53;
                double u2 = ((double)(gen_u64(&rng) >> 11) + 0.5) * 0x1p-53;
                xs[i] = exp(1.0 + 1.6 * sqrt(-2 * log(u1)) *
                                          cos(6.283185307179586 * u2));
                set_num(&h, cr, "seconds", xs[i]);
                apply(cell, &h);
        }
        qsort(xs, n, sizeof(*xs), cmp_double);
        for (size_t k = 0; k < 3; k++) {
                size_t rank = (size_t)ceil(qs[k].q * (double)n);
                double want = xs[(rank ? rank : 1) - 1];
                char *got = render_col(cell, qs[k].col);
                double v = strtod(got, NULL);
                ck_assert_msg(fabs(v - want) <= 0.01 * want,
                              "%s: %s vs exact %.17g", qs[k].col, got, want);
                free(got);
        }
        {
                char want[64], *got = render_col(cell, "seconds_range");
                snprintf(want, sizeof(want), "{\"min\":");
                ck_assert_ptr_nonnull(strstr(got, want));
                free(got);
        }
        free(xs);
        red_cell_destroy(cell);
}
END_TEST

START_TEST(cell_keys)
{
        red_cell_t *a = new_cell(cr), *b = new_cell(cr);
        red_uuid_t ia, ib;
        char s[RED_UUID_STR_SIZE];

        ck_assert_int_eq(red_cell_cmp(a, b), 0);
        ck_assert_uint_eq(red_cell_hash(a), red_cell_hash(b));
        red_cell_id(a, &ia);
        red_cell_id(b, &ib);
        ck_assert_int_eq(red_uuid_cmp(&ia, &ib), 0);
        red_uuid_format(&ia, s);
        ck_assert_int_eq(s[14], '5'); /* a version-5 UUID */
        ck_assert_str_eq(red_cell_key(a, 0), "all");
        ck_assert_uint_eq(red_cell_key_len(a, 0), 3);
        ck_assert_int_eq(red_cell_window_end(a), tm("2025-11-06T11:00:00Z"));
        red_cell_destroy(a);
        red_cell_destroy(b);
}
END_TEST

/* ------------------------------------------------------------------ */
/* the generator (tests/tools/gen_events_lib.c, tests/tools/gen_events.c)             */
/* ------------------------------------------------------------------ */

static char *gen_all(const gen_opts_t *o, size_t *lenp, size_t *lines)
{
        red_buf_t b;
        gen_line_t l;
        gen_t *g = gen_new(o);

        ck_assert_ptr_nonnull(g);
        red_buf_init(&b);
        *lines = 0;
        while (gen_next(g, &l)) {
                red_buf_append(&b, l.text, l.len);
                red_buf_putc(&b, '\n');
                (*lines)++;
        }
        gen_destroy(g);
        ck_assert(!b.failed);
        return red_buf_steal(&b, lenp);
}

START_TEST(generator_deterministic)
{
        gen_opts_t o;
        size_t la, lb, lc, na, nb, nc;
        char *a, *b, *c;

        gen_opts_default(&o);
        o.events = 30000;
        o.poison_permille = 30;
        o.late_permille = 20;
        a = gen_all(&o, &la, &na);
        b = gen_all(&o, &lb, &nb);
        ck_assert_uint_eq(na, 30000);
        ck_assert_uint_eq(la, lb);
        ck_assert_int_eq(memcmp(a, b, la), 0);
        o.seed = 2;
        c = gen_all(&o, &lc, &nc);
        ck_assert_uint_eq(nc, 30000);
        ck_assert(lc != la || memcmp(a, c, la));
        free(a);
        free(b);
        free(c);
        o.events = 0;
        a = gen_all(&o, &la, &na);
        ck_assert_uint_eq(na, 0);
        free(a);
        o.events = 1;
        a = gen_all(&o, &la, &na);
        ck_assert_uint_eq(na, 1);
        free(a);
}
END_TEST

START_TEST(generator_stream_shape)
{
        static const char *const vectors[][2] = {
                /* Kafka's own murmur2 test vectors (UtilsTest) */
                {"21", "-973932308"},
                {"foobar", "-790332482"},
                {"a-little-bit-long-string", "-985981536"},
                {"a-little-bit-longer-string", "-1486304829"},
                {"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                 "-58897971"},
                {"abc", "479470107"},
        };
        gen_opts_t o;
        gen_line_t l;
        gen_t *g;
        red_time_t last = INT64_MIN, first = INT64_MIN;
        size_t n = 0, late = 0, failed = 0, terminal = 0, spellings[2] = {0};
        size_t shapes[2] = {0}, names[2] = {0};
        json_t *wfs = json_object();

        for (size_t i = 0; i < 6; i++) {
                char got[16];
                snprintf(got, sizeof(got), "%d",
                         (int32_t)gen_murmur2(vectors[i][0],
                                              strlen(vectors[i][0])));
                ck_assert_str_eq(got, vectors[i][1]);
        }
        gen_opts_default(&o);
        o.events = 40000;
        o.days = 2;
        o.partitions = 7;
        o.late_permille = 30;
        o.start = tm(START);
        ck_assert_ptr_null(gen_topics_from(&o, cg));
        for (int k = 0; k < GEN_KIND_CNT; k++) {
                ck_assert_str_eq(o.topics[k], gen_default_topics[k]);
        }
        ck_assert_ptr_nonnull(g = gen_new(&o));
        while (gen_next(g, &l)) {
                json_t *j = json_loadb(l.text, l.len, 0, NULL), *p, *v;
                const char *wf, *type;
                json_int_t step, part;

                ck_assert_ptr_nonnull(j);
                n++;
                ck_assert_str_eq(
                        json_string_value(json_object_get(j, "_topic")),
                        o.topics[l.kind]);
                ck_assert_ptr_eq(l.topic, o.topics[l.kind]);
                ck_assert(json_is_string(json_object_get(j, "event_id")));
                p = json_object_get(j, "payload");
                shapes[p != NULL]++;
                if (!p) {
                        p = j;
                }
                wf = json_string_value(json_object_get(p, "workflow_id"));
                ck_assert_ptr_nonnull(wf);
                ck_assert_str_eq(json_string_value(json_object_get(j, "_key")),
                                 wf);
                part = json_integer_value(json_object_get(j, "_partition"));
                ck_assert_int_eq(part, gen_partition_of(wf, strlen(wf), 7));
                ck_assert_int_lt(part, 7);
                ck_assert_int_eq(part, l.partition);
                names[json_object_get(j, "timestamp") != NULL]++;
                if ((type = json_string_value(
                             json_object_get(j, "event_type")))) {
                        spellings[!strncmp(type, "CODEGEN_", 8)]++;
                }
                /* time order, except the late workflows' lines */
                if (l.late) {
                        late++;
                        ck_assert_int_le(l.time, last);
                } else {
                        ck_assert_int_ge(l.time, last);
                        last = l.time;
                }
                if (first == INT64_MIN) {
                        first = l.time;
                }
                /* each workflow in order: started, stages 1.., end */
                v = json_object_get(wfs, wf);
                step = v ? json_integer_value(v) : -1;
                switch (l.kind) {
                case GEN_STARTED:
                        ck_assert_ptr_null(v);
                        step = 0;
                        break;
                case GEN_STAGE:
                        ck_assert_int_eq(json_integer_value(json_object_get(
                                                 p, "stage_number")),
                                         step + 1);
                        step++;
                        break;
                default:
                        ck_assert_int_ge(step, 1);
                        terminal++;
                        failed += l.kind == GEN_FAILED;
                        step = 99;
                        break;
                }
                json_object_set_new(wfs, wf, json_integer(step));
                json_decref(j);
        }
        gen_destroy(g);
        json_decref(wfs);
        ck_assert_uint_eq(n, 40000);
        ck_assert_int_eq(first, tm(START));
        /* about two days */
        ck_assert_int_gt(last - first, 36 * RED_TIME_US_PER_HOUR);
        ck_assert_int_lt(last - first, 60 * RED_TIME_US_PER_HOUR);
        ck_assert_uint_gt(late, 200);
        ck_assert_uint_gt(failed, terminal / 20);
        ck_assert_uint_lt(failed, terminal / 5);
        ck_assert_uint_gt(spellings[0], 5000);
        ck_assert_uint_gt(spellings[1], 5000);
        ck_assert_uint_gt(shapes[0], 5000);
        ck_assert_uint_gt(shapes[1], 5000);
        ck_assert_uint_gt(names[0], 5000);
        ck_assert_uint_gt(names[1], 5000);
}
END_TEST

START_TEST(generator_poison_keeps_metadata)
{
        gen_opts_t o;
        gen_line_t l;
        gen_t *g;
        size_t objects = 0, others = 0;

        gen_opts_default(&o);
        o.events = 3000;
        o.poison_permille = 1000;
        o.partitions = 5;
        ck_assert_ptr_nonnull(g = gen_new(&o));
        while (gen_next(g, &l)) {
                char want[256], *text = strndup(l.text, l.len);
                json_t *j = json_loadb(l.text, l.len, 0, NULL);

                ck_assert_int_gt(l.poison, 0);
                snprintf(want, sizeof(want), "\"_topic\":\"%s\"", l.topic);
                ck_assert_msg(strstr(text, want), "no %s in %s", want, text);
                snprintf(want, sizeof(want), "\"_key\":\"%.*s\"",
                         (int)l.key_len, l.key);
                ck_assert_msg(strstr(text, want), "no %s in %s", want, text);
                snprintf(want, sizeof(want), "\"_partition\":%d",
                         (int)l.partition);
                ck_assert_msg(strstr(text, want), "no %s in %s", want, text);
                if (json_is_object(j)) {
                        ck_assert_str_eq(
                                json_string_value(json_object_get(j, "_topic")),
                                l.topic);
                        objects++;
                } else {
                        others++;
                }
                json_decref(j);
                free(text);
        }
        gen_destroy(g);
        ck_assert_uint_gt(objects, 1000);
        ck_assert_uint_gt(others, 400);
}
END_TEST

/* RED_GEN_EVENTS, else build/tests/gen_events next to RED_BIN's reducerd. */
static const char *gen_events_bin(void)
{
        static char path[4096];
        const char *env = getenv("RED_GEN_EVENTS");
        char dir[4096];

        if (env && *env) {
                return env;
        }
        snprintf(dir, sizeof(dir), "%s", test_bin());
        snprintf(path, sizeof(path), "%s/../tests/gen_events", dirname(dir));
        return path;
}

START_TEST(generator_command)
{
        const char *argv[] = {gen_events_bin(),
                              "--events",
                              "5000",
                              "--seed",
                              "9",
                              "--poison",
                              "40",
                              "--late",
                              "10",
                              "--partitions",
                              "3",
                              "--days",
                              "0.5",
                              "--start",
                              "2025-11-03T00:00:00Z",
                              "--contract",
                              test_path("contracts/codegen_metrics.yaml"),
                              NULL};
        const char *both[] = {gen_events_bin(),       "--days", "1",
                              "--workflows-per-hour", "10",     NULL};
        const char *bad[] = {gen_events_bin(), "--poison", "1001", NULL};
        gen_opts_t o;
        size_t len, lines;
        char *out, *err, *want;

        ck_assert_int_eq(test_run(argv, NULL, &out, &err), 0);
        gen_opts_default(&o);
        o.events = 5000;
        o.seed = 9;
        o.poison_permille = 40;
        o.late_permille = 10;
        o.partitions = 3;
        o.days = 0.5;
        want = gen_all(&o, &len, &lines);
        ck_assert_uint_eq(strlen(out), len);
        ck_assert_int_eq(memcmp(out, want, len), 0);
        free(out);
        free(err);
        free(want);

        ck_assert_int_eq(test_run(both, NULL, &out, &err), 2);
        ck_assert_ptr_nonnull(strstr(err, "not both"));
        free(out);
        free(err);
        ck_assert_int_eq(test_run(bad, NULL, &out, &err), 2);
        ck_assert_ptr_nonnull(strstr(err, "--poison"));
        free(out);
        free(err);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("cell");
        TCase *tm_ = tcase_create("merge");
        TCase *ts = tcase_create("state");
        TCase *tr = tcase_create("render");
        TCase *tg = tcase_create("generator");

        tcase_add_checked_fixture(tm_, setup, teardown);
        tcase_add_checked_fixture(ts, setup, teardown);
        tcase_add_checked_fixture(tr, setup, teardown);
        tcase_add_checked_fixture(tg, setup, teardown);
        tcase_add_test(tm_, merge_equals_single_pass);
        tcase_add_test(tm_, merge_adds);
        tcase_set_timeout(tm_, 300);
        tcase_add_test(ts, serialize_round_trip);
        tcase_add_test(ts, states_across_contract_versions);
        tcase_add_test(ts, precision_and_measures_change);
        tcase_add_test(ts, state_golden);
        tcase_set_timeout(ts, 300);
        tcase_add_test(tr, exact_sums);
        tcase_add_test(tr, render_nulls);
        tcase_add_test(tr, render_objects_sorted_and_escaped);
        tcase_add_test(tr, percentiles_within_one_percent);
        tcase_add_test(tr, cell_keys);
        tcase_set_timeout(tr, 120);
        tcase_add_test(tg, generator_deterministic);
        tcase_add_test(tg, generator_stream_shape);
        tcase_add_test(tg, generator_poison_keeps_metadata);
        tcase_add_test(tg, generator_command);
        suite_add_tcase(s, tm_);
        suite_add_tcase(s, ts);
        suite_add_tcase(s, tr);
        suite_add_tcase(s, tg);
        return test_main(s);
}
