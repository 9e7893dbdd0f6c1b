/*
 * Tests for red_cell and red_aggregator: merging batch deltas equals one
 * pass (any batching, any merge order), sums are exact, rendering (nulls,
 * division by zero, sorted and escaped objects), percentile accuracy and
 * cell keys. The stored state format has its own suite (test_cell_codec.c).
 * Also the event generator the tests and benches share.
 */
#include "gen_events_lib.c"

#include "cell_fixtures.h"
#include "red_rows.h"
#include "red_test.h"

#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/* No events, no cells; listing them is fine (qsort of nothing: the
 * sanitizer build flagged qsort(NULL, 0, ...)). */
START_TEST(empty_aggregator)
{
        red_aggregator_t *ag = red_aggregator_new(cg);
        size_t n = 99;

        ck_assert_ptr_nonnull(ag);
        (void)red_aggregator_cells(ag, &n);
        ck_assert_uint_eq(n, 0);
        ck_assert_uint_eq(red_aggregator_count(ag), 0);
        red_aggregator_clear(ag);
        (void)red_aggregator_cells(ag, &n);
        ck_assert_uint_eq(n, 0);
        red_aggregator_destroy(ag);
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
/* hand-made events of cell_render.yaml                                */
/* ------------------------------------------------------------------ */

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

/*
 * Two cells of contract @p c with an amount of 1e15 (the largest a number
 * field takes) merged into each other in turn, the sum growing like
 * Fibonacci's, until a merge is refused (or 400 rounds). Every sum that
 * got in must be positive: none wrapped. Returns the refusing merge's
 * result with its message in @p err; *@p full is the cell with the
 * largest sum (destroy both).
 */
static int merge_until_full(const red_contract_t *c, red_cell_t **full,
                            red_cell_t **other, char *err, size_t size)
{
        red_cell_t *x = new_cell(c), *y;
        int r = 0;
        hev_t h;

        hev_init(&h, c, "done", "2025-11-06T10:15:00Z");
        set_num(&h, c, "amount", 1e15);
        apply(x, &h);
        ck_assert_ptr_nonnull(y = red_cell_new_like(x, NULL, c->sketch_alpha));
        *full = x;
        *other = y;
        for (int i = 0; i < 400 && !r; i++) {
                red_cell_t *dst = i % 2 ? x : y, *src = i % 2 ? y : x;
                char *sum;

                err[0] = '\0';
                if ((r = red_cell_merge(dst, src, err, size))) {
                        break;
                }
                sum = render_col(dst, "total_amount");
                ck_assert_msg(strtod(sum, NULL) > 0, "round %d: sum %s", i,
                              sum);
                free(sum);
                *full = dst;
                *other = src;
        }
        return r;
}

START_TEST(sums_never_wrap)
{
        red_contract_t *c2 = load("tests/data/contracts/cell_render_v2.yaml");
        red_cell_t *x = new_cell(cr), *y, *e;
        char err[256];
        red_buf_t b;
        hev_t h;

        /* a value no sum can take (decode keeps these out) is refused
         * rather than clamped or wrapped */
        hev_init(&h, cr, "done", "2025-11-06T10:15:00Z");
        set_num(&h, cr, "amount", 1e300);
        ck_assert_int_eq(red_cell_apply(x, &h.ev), -ERANGE);
        assert_col(x, "total_amount", "0");
        set_num(&h, cr, "amount", -1e300);
        ck_assert_int_eq(red_cell_apply(x, &h.ev), -ERANGE);
        assert_col(x, "total_amount", "0");
        red_cell_destroy(x);

        /* the merge that would leave the range fails, naming the measure */
        ck_assert_int_eq(merge_until_full(cr, &x, &y, err, sizeof(err)),
                         -ERANGE);
        ck_assert_ptr_nonnull(strstr(err, "measure amount"));
        red_cell_destroy(x);
        red_cell_destroy(y);

        /* a stored sum that does not fit a finer precision: refused */
        ck_assert_int_eq(merge_until_full(c2, &x, &y, err, sizeof(err)),
                         -ERANGE); /* c2: amount at precision 3 */
        red_buf_init(&b);
        serialize(x, &b);
        e = new_cell(cr); /* precision 6: a thousand times the units */
        ck_assert_int_eq(
                red_cell_merge_serialized(e, b.data, b.len, err, sizeof(err)),
                -ERANGE);
        ck_assert_ptr_nonnull(strstr(err, "measure amount"));
        red_cell_destroy(e);
        red_buf_destroy(&b);
        red_cell_destroy(x);
        red_cell_destroy(y);
        red_contract_destroy(c2);
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
        red_cell_t *a = new_cell(cr), *b = new_cell(cr), *like;
        red_cell_key_t key;
        red_uuid_t ia, ib;
        hev_t h;
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

        /* a cell's own key finds it, and only it */
        hev_init(&h, cr, "done", "2025-11-06T10:15:00Z");
        apply(a, &h);
        red_cell_key_of(a, &key);
        ck_assert_ptr_eq(key.agg, red_cell_agg(a));
        ck_assert_uint_eq(red_cell_key_hash(&key), red_cell_hash(a));
        ck_assert(red_cell_key_eq(a, &key));
        ck_assert_str_eq(key.keys[0], "all");
        key.start += RED_TIME_US_PER_HOUR;
        ck_assert(!red_cell_key_eq(a, &key));
        /* a new cell like it: same key, id and hash, nothing applied */
        ck_assert_ptr_nonnull(like = red_cell_new_like(a, NULL, 0.01));
        ck_assert_int_eq(red_cell_cmp(a, like), 0);
        ck_assert_uint_eq(red_cell_hash(like), red_cell_hash(a));
        red_cell_id(like, &ib);
        ck_assert_int_eq(red_uuid_cmp(&ia, &ib), 0);
        ck_assert_uint_eq(red_cell_events(a), 1);
        ck_assert_uint_eq(red_cell_events(like), 0);
        red_cell_destroy(like);
        red_cell_destroy(a);
        red_cell_destroy(b);
}
END_TEST

/* ------------------------------------------------------------------ */
/* the generator (tests/tools/gen_events_lib.c, tests/tools/gen_events.c) */
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
        o.start = tm(STREAM_START);
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
        ck_assert_int_eq(first, tm(STREAM_START));
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
        TCase *tr = tcase_create("render");
        TCase *tg = tcase_create("generator");

        tcase_add_checked_fixture(tm_, cell_setup, cell_teardown);
        tcase_add_checked_fixture(tr, cell_setup, cell_teardown);
        tcase_add_checked_fixture(tg, cell_setup, cell_teardown);
        tcase_add_test(tm_, merge_equals_single_pass);
        tcase_add_test(tm_, merge_adds);
        tcase_add_test(tm_, empty_aggregator);
        tcase_set_timeout(tm_, 300);
        tcase_add_test(tr, exact_sums);
        tcase_add_test(tr, sums_never_wrap);
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
        suite_add_tcase(s, tr);
        suite_add_tcase(s, tg);
        return test_main(s);
}
