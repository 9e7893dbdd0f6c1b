/* Unit tests for red_sketch: accuracy, exact merge, format and bounds. */
#include "red_sketch.h"
#include "red_varint.h"

#include <check.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_PI 3.14159265358979323846

/* Samples per distribution; RED_SKETCH_TEST_N shrinks it (valgrind runs). */
static size_t test_n = 1000000;

/* Quantiles under test, in per mille so the exact rank is integer math. */
static const int quantiles_pm[] = {0,   1,   10,  100, 250, 500,
                                   750, 900, 950, 990, 999, 1000};
#define N_QUANTILES (sizeof(quantiles_pm) / sizeof(quantiles_pm[0]))


/*
 * ------------------------------------------------------------------------
 * Deterministic random numbers (splitmix64)
 * ------------------------------------------------------------------------
 */

typedef struct rng_s {
        uint64_t state;
} rng_t;

static uint64_t rng_next(rng_t *rng)
{
        uint64_t z = (rng->state += UINT64_C(0x9e3779b97f4a7c15));

        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return z ^ (z >> 31);
}

/* Uniform in the open interval (0, 1). */
static double rng_uniform(rng_t *rng)
{
        return ((double)(rng_next(rng) >> 11) + 0.5) * 0x1p-53;
}

static double rng_normal(rng_t *rng)
{
        double u1 = rng_uniform(rng), u2 = rng_uniform(rng);

        return sqrt(-2 * log(u1)) * cos(2 * TEST_PI * u2);
}


/*
 * ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------
 */

enum {
        DIST_UNIFORM,
        DIST_EXPONENTIAL,
        DIST_LOGNORMAL,
        DIST_PARETO,
        DIST_NORMAL,
        DIST_CONSTANT,
        DIST_BIMODAL_ZEROS,
        DIST_COUNT
};

static const char *dist_names[DIST_COUNT] = {
        "uniform(0,1000)",    "exponential(mean 50)", "lognormal(0,3)",
        "pareto(1,1.16)",     "normal(0,100)",        "constant(42.42)",
        "bimodal with zeros",
};

static double dist_sample(int dist, rng_t *rng)
{
        switch (dist) {
        case DIST_UNIFORM:
                return rng_uniform(rng) * 1000;
        case DIST_EXPONENTIAL:
                return -log(rng_uniform(rng)) * 50;
        case DIST_LOGNORMAL:
                /* About 1e-6 .. 1e6: ~1500 buckets at alpha 1 %. */
                return exp(3 * rng_normal(rng));
        case DIST_PARETO:
                return 1 / pow(rng_uniform(rng), 1 / 1.16);
        case DIST_NORMAL:
                return 100 * rng_normal(rng);
        case DIST_CONSTANT:
                return 42.42;
        default: {
                double u = rng_uniform(rng);

                if (u < 0.3) {
                        return 0;
                }
                if (u < 0.65) {
                        return 100 + 10 * rng_normal(rng);
                }
                return 1e4 * exp(0.5 * rng_normal(rng));
        }
        }
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

/* sorted[max(1, ceil(pm / 1000 * n)) - 1] with integer arithmetic. */
static double exact_quantile(const double *sorted, size_t n, int pm)
{
        size_t rank = ((size_t)pm * n + 999) / 1000;

        if (rank < 1) {
                rank = 1;
        }
        return sorted[rank - 1];
}

static red_sketch_t *new_sketch(double alpha, int max_bins)
{
        char errstr[256] = "";
        red_sketch_t *sk;

        sk = red_sketch_new_bounded(alpha, max_bins, errstr, sizeof(errstr));
        ck_assert_msg(sk != NULL, "new_bounded(%g, %d): %s", alpha, max_bins,
                      errstr);
        return sk;
}

/*
 * Check's assertions record a checkpoint with a system call each time, so
 * bulk loops count failures and assert once.
 */
static void add_all(red_sketch_t *sk, const double *v, size_t n)
{
        size_t failed = 0;

        for (size_t i = 0; i < n; i++) {
                failed += red_sketch_add(sk, v[i]) != 0;
        }
        ck_assert_uint_eq(failed, 0);
}

/* Serialises into a malloc'ed buffer of exactly the needed size. */
static uint8_t *serialize(const red_sketch_t *sk, size_t *lenp)
{
        size_t len = red_sketch_serialize(sk, NULL, 0);
        uint8_t *buf = malloc(len);

        ck_assert_ptr_nonnull(buf);
        ck_assert_uint_eq(red_sketch_serialize(sk, buf, len), len);
        *lenp = len;
        return buf;
}

/* Same sketch and same bytes. */
static void assert_identical(const red_sketch_t *a, const red_sketch_t *b,
                             const char *what)
{
        size_t alen, blen;
        uint8_t *abuf, *bbuf;

        ck_assert_msg(red_sketch_equal(a, b), "%s: sketches differ", what);
        abuf = serialize(a, &alen);
        bbuf = serialize(b, &blen);
        ck_assert_msg(alen == blen && memcmp(abuf, bbuf, alen) == 0,
                      "%s: serialisations differ (%zu vs %zu bytes)", what,
                      alen, blen);
        free(abuf);
        free(bbuf);
}

static void merge_ok(red_sketch_t *dst, const red_sketch_t *src)
{
        int r = red_sketch_merge(dst, src);

        ck_assert_msg(r == 0, "merge = %d", r);
}

static red_sketch_t *dup_ok(const red_sketch_t *sk)
{
        red_sketch_t *cp = red_sketch_dup(sk);

        ck_assert_ptr_nonnull(cp);
        return cp;
}

/* A varint of the documented format (red_varint has its own suite). */
static uint64_t parse_varint(const uint8_t *buf, size_t len, size_t *pos)
{
        uint64_t v = 0;
        int n = red_varint_decode(buf + *pos, len - *pos, &v);

        ck_assert_msg(n > 0, "bad varint in serialised sketch");
        *pos += (size_t)n;
        return v;
}

/* Number of (trimmed) bins of each store, read from the wire format. */
static void parse_nbins(const red_sketch_t *sk, uint64_t *pos_bins,
                        uint64_t *neg_bins)
{
        size_t len, pos = 1 + 8;
        uint8_t *buf = serialize(sk, &len);
        uint64_t nb;

        (void)parse_varint(buf, len, &pos); /* max_bins */
        (void)parse_varint(buf, len, &pos); /* count */
        pos += 16;                          /* min, max */
        (void)parse_varint(buf, len, &pos); /* zero */
        for (int i = 0; i < 2; i++) {
                (void)parse_varint(buf, len, &pos); /* offset */
                nb = parse_varint(buf, len, &pos);
                for (uint64_t j = 0; j < nb; j++) {
                        (void)parse_varint(buf, len, &pos);
                }
                *(i == 0 ? pos_bins : neg_bins) = nb;
        }
        ck_assert_uint_eq(pos, len);
        free(buf);
}

static void assert_within(double got, double exact, double alpha,
                          const char *what, double q)
{
        double tol = alpha * fabs(exact) + 1e-12 * fabs(exact);

        ck_assert_msg(fabs(got - exact) <= tol,
                      "%s: q=%g got %.17g, exact %.17g (rel err %.3g > %g)",
                      what, q, got, exact, fabs(got - exact) / fabs(exact),
                      alpha);
}


/*
 * ------------------------------------------------------------------------
 * Accuracy
 * ------------------------------------------------------------------------
 */

static void check_accuracy(int dist, double alpha, int max_bins)
{
        rng_t rng = {.state = 0x5eed0000u + (uint64_t)dist};
        double *v = malloc(test_n * sizeof(*v));
        red_sketch_t *sk = new_sketch(alpha, max_bins);
        char what[128];

        ck_assert_ptr_nonnull(v);
        for (size_t i = 0; i < test_n; i++) {
                v[i] = dist_sample(dist, &rng);
        }
        add_all(sk, v, test_n);
        qsort(v, test_n, sizeof(*v), cmp_double);

        snprintf(what, sizeof(what), "%s alpha %g", dist_names[dist], alpha);
        ck_assert_uint_eq(red_sketch_count(sk), test_n);
        ck_assert_msg(red_sketch_min(sk) == v[0], "%s: min", what);
        ck_assert_msg(red_sketch_max(sk) == v[test_n - 1], "%s: max", what);
        for (size_t i = 0; i < N_QUANTILES; i++) {
                double q = quantiles_pm[i] / 1000.0;
                double exact = exact_quantile(v, test_n, quantiles_pm[i]);

                assert_within(red_sketch_quantile(sk, q), exact, alpha, what,
                              q);
        }
        ck_assert(red_sketch_quantile(sk, 0) == v[0]);
        ck_assert(red_sketch_quantile(sk, 1) == v[test_n - 1]);
        red_sketch_destroy(sk);
        free(v);
}

START_TEST(test_accuracy_default_alpha)
{
        check_accuracy(_i, RED_SKETCH_DEFAULT_ALPHA,
                       RED_SKETCH_DEFAULT_MAX_BINS);
}
END_TEST

START_TEST(test_accuracy_fine_alpha)
{
        check_accuracy(_i, 0.002, 16384);
}
END_TEST

START_TEST(test_accuracy_coarse_alpha)
{
        check_accuracy(_i, 0.05, RED_SKETCH_DEFAULT_MAX_BINS);
}
END_TEST

/* A value exactly on or next to a bucket boundary is still within alpha. */
START_TEST(test_accuracy_bucket_edges)
{
        const double alpha = 0.01, gamma = (1 + alpha) / (1 - alpha);

        for (int i = -3000; i <= 3000; i += 7) {
                double edge = pow(gamma, i);
                double probes[3] = {nextafter(edge, 0), edge,
                                    nextafter(edge, INFINITY)};

                for (int j = 0; j < 3; j++) {
                        red_sketch_t *sk = new_sketch(alpha, 2048);

                        /* Three copies so q = 0.5 is not min or max. */
                        ck_assert_int_eq(red_sketch_add(sk, -1), 0);
                        ck_assert_int_eq(red_sketch_add(sk, probes[j]), 0);
                        ck_assert_int_eq(red_sketch_add(sk, 2 * probes[j]), 0);
                        assert_within(red_sketch_quantile(sk, 0.5), probes[j],
                                      alpha, "bucket edge", 0.5);
                        red_sketch_destroy(sk);
                }
        }
}
END_TEST


/* The reported value of a bucket is clamped into [min, max]. */
START_TEST(test_clamp_to_min_max)
{
        const double gamma = 1.01 / 0.99;
        const double edge = pow(gamma, 100), prev = edge / gamma;
        red_sketch_t *sk = new_sketch(0.01, 2048);

        /* Just below a bucket's upper edge: its value edge * 0.99 < min. */
        ck_assert_int_eq(red_sketch_add(sk, edge * 0.99999), 0);
        ck_assert_int_eq(red_sketch_add(sk, edge * 0.9999), 0);
        ck_assert_int_eq(red_sketch_add(sk, edge * 0.99995), 0);
        ck_assert(red_sketch_quantile(sk, 0.5) == edge * 0.9999);
        red_sketch_clear(sk);

        /* Just above its lower edge: the value prev * 1.01 > max. */
        ck_assert_int_eq(red_sketch_add(sk, prev * 1.00001), 0);
        ck_assert_int_eq(red_sketch_add(sk, prev * 1.00003), 0);
        ck_assert_int_eq(red_sketch_add(sk, prev * 1.00002), 0);
        ck_assert(red_sketch_quantile(sk, 0.5) == prev * 1.00003);
        red_sketch_destroy(sk);
}
END_TEST

static double order_sample(rng_t *rng)
{
        double u = rng_uniform(rng);

        if (u < 0.3) {
                return -exp(2 * rng_normal(rng));
        }
        if (u < 0.4) {
                return 0;
        }
        return exp(2.5 * rng_normal(rng));
}

/*
 * Ascending, descending and shuffled insertion exercise every way a store
 * window grows, moves and collapses; all must give the same sketch, and
 * (without collapsing) accurate quantiles.
 */
START_TEST(test_order_independent)
{
        static const int bins[] = {2048, 16, 1};
        size_t n = test_n / 10;
        rng_t rng = {.state = 77};
        double *v = malloc(n * sizeof(*v));

        ck_assert_ptr_nonnull(v);
        for (size_t i = 0; i < n; i++) {
                v[i] = order_sample(&rng);
        }
        for (size_t b = 0; b < sizeof(bins) / sizeof(bins[0]); b++) {
                red_sketch_t *shuffled = new_sketch(0.01, bins[b]);
                red_sketch_t *up = new_sketch(0.01, bins[b]);
                red_sketch_t *down = new_sketch(0.01, bins[b]);
                size_t failed = 0;

                add_all(shuffled, v, n);
                qsort(v, n, sizeof(*v), cmp_double);
                add_all(up, v, n);
                for (size_t i = n; i > 0; i--) {
                        failed += red_sketch_add(down, v[i - 1]) != 0;
                }
                ck_assert_uint_eq(failed, 0);
                assert_identical(shuffled, up, "shuffled vs ascending");
                assert_identical(shuffled, down, "shuffled vs descending");
                if (bins[b] == 2048) {
                        for (size_t k = 0; k < N_QUANTILES; k++) {
                                double q = quantiles_pm[k] / 1000.0;

                                assert_within(
                                        red_sketch_quantile(up, q),
                                        exact_quantile(v, n, quantiles_pm[k]),
                                        0.01, "ascending insert", q);
                        }
                }
                red_sketch_destroy(shuffled);
                red_sketch_destroy(up);
                red_sketch_destroy(down);
                for (size_t i = n - 1; i > 0; i--) { /* reshuffle */
                        size_t j = rng_next(&rng) % (i + 1);
                        double t = v[i];

                        v[i] = v[j];
                        v[j] = t;
                }
        }
        free(v);
}
END_TEST


/*
 * ------------------------------------------------------------------------
 * Small exact cases
 * ------------------------------------------------------------------------
 */

START_TEST(test_exact_one_value)
{
        red_sketch_t *sk = new_sketch(0.01, 2048);

        ck_assert_int_eq(red_sketch_add(sk, 42.5), 0);
        ck_assert_uint_eq(red_sketch_count(sk), 1);
        ck_assert(red_sketch_min(sk) == 42.5);
        ck_assert(red_sketch_max(sk) == 42.5);
        ck_assert(red_sketch_quantile(sk, 0) == 42.5);
        ck_assert(red_sketch_quantile(sk, 0.5) == 42.5);
        ck_assert(red_sketch_quantile(sk, 0.99) == 42.5);
        ck_assert(red_sketch_quantile(sk, 1) == 42.5);
        red_sketch_destroy(sk);
}
END_TEST

START_TEST(test_exact_two_values)
{
        red_sketch_t *sk = new_sketch(0.01, 2048);

        ck_assert_int_eq(red_sketch_add(sk, 7000), 0);
        ck_assert_int_eq(red_sketch_add(sk, 3), 0);
        ck_assert(red_sketch_quantile(sk, 0) == 3);
        ck_assert(red_sketch_quantile(sk, 0.25) == 3);
        ck_assert(red_sketch_quantile(sk, 0.5) == 3); /* rank 1 */
        ck_assert(red_sketch_quantile(sk, 0.5000001) == 7000);
        ck_assert(red_sketch_quantile(sk, 0.75) == 7000);
        ck_assert(red_sketch_quantile(sk, 1) == 7000);
        red_sketch_destroy(sk);
}
END_TEST

/*
 * Values 1.5^k are one per bucket (1.5 >> gamma^2), so the reported value
 * pins the rank: rank r must report 1.5^(r-1) within alpha and nothing else
 * is within alpha of it.
 */
static void check_ranks(size_t n, double ratio)
{
        red_sketch_t *sk = new_sketch(0.01, 4096);
        rng_t rng = {.state = 7};
        size_t *order = malloc(n * sizeof(*order));
        size_t failed = 0;

        ck_assert_ptr_nonnull(order);
        for (size_t i = 0; i < n; i++) {
                order[i] = i;
        }
        for (size_t i = n - 1; i > 0; i--) { /* shuffle the insertion order */
                size_t j = rng_next(&rng) % (i + 1), t = order[i];

                order[i] = order[j];
                order[j] = t;
        }
        for (size_t i = 0; i < n; i++) {
                failed += red_sketch_add(sk, pow(ratio, order[i])) != 0;
        }
        ck_assert_uint_eq(failed, 0);
        for (size_t k = 0; k <= n; k++) {
                double q = (double)k / (double)n;
                size_t rank = k < 1 ? 1 : k;

                assert_within(red_sketch_quantile(sk, q),
                              pow(ratio, (double)(rank - 1)), 0.01, "rank", q);
        }
        red_sketch_destroy(sk);
        free(order);
}

START_TEST(test_exact_ranks)
{
        red_sketch_t *sk = new_sketch(0.01, 2048);

        check_ranks(100, 1.5);
        check_ranks(1000, 1.05);
        check_ranks(7, 2);

        /* The literals themselves, not k / n. */
        for (int k = 0; k < 100; k++) {
                ck_assert_int_eq(red_sketch_add(sk, pow(1.5, k)), 0);
        }
        assert_within(red_sketch_quantile(sk, 0.95), pow(1.5, 94), 0.01,
                      "n=100 rank 95", 0.95);
        assert_within(red_sketch_quantile(sk, 0.07), pow(1.5, 6), 0.01,
                      "n=100 rank 7", 0.07);
        assert_within(red_sketch_quantile(sk, 0.951), pow(1.5, 95), 0.01,
                      "n=100 rank 96", 0.951);
        assert_within(red_sketch_quantile(sk, 0.01), 1, 0.01, "n=100 rank 1",
                      0.01);
        assert_within(red_sketch_quantile(sk, 0.011), 1.5, 0.01, "n=100 rank 2",
                      0.011);
        red_sketch_destroy(sk);
}
END_TEST

START_TEST(test_empty_and_bad_q)
{
        red_sketch_t *sk = new_sketch(0.01, 2048);

        ck_assert_uint_eq(red_sketch_count(sk), 0);
        ck_assert(isnan(red_sketch_min(sk)));
        ck_assert(isnan(red_sketch_max(sk)));
        ck_assert(isnan(red_sketch_quantile(sk, 0.5)));
        ck_assert(red_sketch_alpha(sk) == 0.01);
        ck_assert_int_eq(red_sketch_add(sk, 1), 0);
        ck_assert(isnan(red_sketch_quantile(sk, -0.01)));
        ck_assert(isnan(red_sketch_quantile(sk, 1.01)));
        ck_assert(isnan(red_sketch_quantile(sk, NAN)));
        ck_assert(red_sketch_quantile(sk, 0.5) == 1);
        red_sketch_destroy(sk);
}
END_TEST

START_TEST(test_zero_bucket_and_negatives)
{
        red_sketch_t *sk = new_sketch(0.01, 2048);
        red_sketch_t *neg0 = new_sketch(0.01, 2048);
        red_sketch_t *pos0 = new_sketch(0.01, 2048);

        /* -5, -0.5, 0, 0, 1e-310 (subnormal: zero bucket), 2, 300 */
        ck_assert_int_eq(red_sketch_add(sk, 300), 0);
        ck_assert_int_eq(red_sketch_add(sk, -0.5), 0);
        ck_assert_int_eq(red_sketch_add(sk, 0), 0);
        ck_assert_int_eq(red_sketch_add(sk, 1e-310), 0);
        ck_assert_int_eq(red_sketch_add(sk, -5), 0);
        ck_assert_int_eq(red_sketch_add(sk, 2), 0);
        ck_assert_int_eq(red_sketch_add(sk, -0.0), 0);
        ck_assert(red_sketch_quantile(sk, 0) == -5);
        assert_within(red_sketch_quantile(sk, 2 / 7.0), -0.5, 0.01, "neg", 0);
        ck_assert(red_sketch_quantile(sk, 3 / 7.0) == 0);
        ck_assert(red_sketch_quantile(sk, 4 / 7.0) == 0);
        ck_assert(red_sketch_quantile(sk, 5 / 7.0) == 0);
        assert_within(red_sketch_quantile(sk, 6 / 7.0), 2, 0.01, "pos", 0);
        ck_assert(red_sketch_quantile(sk, 1) == 300);

        /* -0.0 is stored as 0.0: same sketch, same bytes. */
        ck_assert_int_eq(red_sketch_add(neg0, -0.0), 0);
        ck_assert_int_eq(red_sketch_add(pos0, 0.0), 0);
        assert_identical(neg0, pos0, "-0.0 vs 0.0");
        ck_assert(!signbit(red_sketch_min(neg0)));
        red_sketch_destroy(sk);
        red_sketch_destroy(neg0);
        red_sketch_destroy(pos0);
}
END_TEST

START_TEST(test_add_n_clear_dup)
{
        red_sketch_t *a = new_sketch(0.01, 2048);
        red_sketch_t *b = new_sketch(0.01, 2048);
        red_sketch_t *fresh = new_sketch(0.01, 2048);
        red_sketch_t *cp;

        for (int i = 0; i < 5; i++) {
                ck_assert_int_eq(red_sketch_add(a, 3.25), 0);
                ck_assert_int_eq(red_sketch_add(a, -1e9), 0);
        }
        ck_assert_int_eq(red_sketch_add_n(b, 3.25, 5), 0);
        ck_assert_int_eq(red_sketch_add_n(b, -1e9, 5), 0);
        ck_assert_int_eq(red_sketch_add_n(b, 77, 0), 0); /* no-op */
        assert_identical(a, b, "add_n");

        cp = dup_ok(a);
        assert_identical(a, cp, "dup");
        ck_assert_int_eq(red_sketch_add(cp, 1), 0);
        ck_assert(!red_sketch_equal(a, cp));
        ck_assert_uint_eq(red_sketch_count(a), 10);

        red_sketch_clear(a);
        assert_identical(a, fresh, "clear");
        ck_assert_int_eq(red_sketch_add_n(a, 3.25, 5), 0);
        ck_assert_int_eq(red_sketch_add_n(a, -1e9, 5), 0);
        assert_identical(a, b, "reuse after clear");

        /* Count overflow is refused and changes nothing. */
        ck_assert_int_eq(red_sketch_add_n(fresh, 1, UINT64_MAX), 0);
        ck_assert_int_eq(red_sketch_add_n(fresh, 2, 1), -EOVERFLOW);
        ck_assert_int_eq(red_sketch_add(fresh, 2), -EOVERFLOW);
        ck_assert_int_eq(red_sketch_merge(fresh, b), -EOVERFLOW);
        ck_assert_uint_eq(red_sketch_count(fresh), UINT64_MAX);
        ck_assert(red_sketch_max(fresh) == 1);

        red_sketch_destroy(a);
        red_sketch_destroy(b);
        red_sketch_destroy(cp);
        red_sketch_destroy(fresh);
}
END_TEST


/*
 * ------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------
 */

START_TEST(test_reject_non_finite)
{
        red_sketch_t *sk = new_sketch(0.01, 2048);
        red_sketch_t *before;

        ck_assert_int_eq(red_sketch_add(sk, 5), 0);
        before = dup_ok(sk);
        ck_assert_int_eq(red_sketch_add(sk, NAN), -EINVAL);
        ck_assert_int_eq(red_sketch_add(sk, -NAN), -EINVAL);
        ck_assert_int_eq(red_sketch_add(sk, INFINITY), -EINVAL);
        ck_assert_int_eq(red_sketch_add(sk, -INFINITY), -EINVAL);
        ck_assert_int_eq(red_sketch_add_n(sk, NAN, 3), -EINVAL);
        ck_assert_int_eq(red_sketch_add_n(sk, INFINITY, 3), -EINVAL);
        assert_identical(sk, before, "after rejected values");
        ck_assert_uint_eq(red_sketch_count(sk), 1);
        ck_assert(red_sketch_max(sk) == 5);

        /* The extremes of the finite range are fine. */
        ck_assert_int_eq(red_sketch_add(sk, DBL_MAX), 0);
        ck_assert_int_eq(red_sketch_add(sk, -DBL_MAX), 0);
        ck_assert_int_eq(red_sketch_add(sk, DBL_MIN), 0);
        ck_assert_int_eq(red_sketch_add(sk, 4.9e-324), 0);
        ck_assert(red_sketch_quantile(sk, 1) == DBL_MAX);
        ck_assert(red_sketch_quantile(sk, 0) == -DBL_MAX);
        red_sketch_destroy(sk);
        red_sketch_destroy(before);

        /* Buckets next to DBL_MAX report finite values within alpha. */
        sk = new_sketch(0.01, 2048);
        ck_assert_int_eq(red_sketch_add(sk, DBL_MAX), 0);
        ck_assert_int_eq(red_sketch_add(sk, DBL_MAX * 0.999), 0);
        ck_assert_int_eq(red_sketch_add(sk, -DBL_MAX), 0);
        ck_assert_int_eq(red_sketch_add(sk, -DBL_MAX * 0.999), 0);
        ck_assert_int_eq(red_sketch_add(sk, 1), 0);
        assert_within(red_sketch_quantile(sk, 0.4), -DBL_MAX * 0.999, 0.01,
                      "near -DBL_MAX", 0.4);
        assert_within(red_sketch_quantile(sk, 0.8), DBL_MAX * 0.999, 0.01,
                      "near DBL_MAX", 0.8);
        red_sketch_destroy(sk);
}
END_TEST

START_TEST(test_reject_bad_params)
{
        static const double bad_alpha[] = {0,     -0.1, 0.5,  0.7,      1,
                                           1e-17, NAN,  -NAN, INFINITY, -0.0};
        char errstr[256];

        for (size_t i = 0; i < sizeof(bad_alpha) / sizeof(bad_alpha[0]); i++) {
                errstr[0] = '\0';
                ck_assert_msg(red_sketch_new(bad_alpha[i], errstr,
                                             sizeof(errstr)) == NULL,
                              "alpha %g accepted", bad_alpha[i]);
                ck_assert_msg(strstr(errstr, "alpha") != NULL,
                              "alpha %g: message \"%s\"", bad_alpha[i], errstr);
        }
        errstr[0] = '\0';
        ck_assert_ptr_null(
                red_sketch_new_bounded(0.01, 0, errstr, sizeof(errstr)));
        ck_assert_ptr_nonnull(strstr(errstr, "max_bins"));
        ck_assert_ptr_null(red_sketch_new_bounded(0.01, -5, NULL, 0));
        ck_assert_ptr_null(red_sketch_new_bounded(
                0.01, RED_SKETCH_MAX_BINS_LIMIT + 1, NULL, 0));
}
END_TEST

START_TEST(test_merge_alpha_mismatch)
{
        red_sketch_t *a = new_sketch(0.01, 2048);
        red_sketch_t *b = new_sketch(0.02, 2048);
        red_sketch_t *before;

        ck_assert_int_eq(red_sketch_add(a, 1), 0);
        ck_assert_int_eq(red_sketch_add(a, -10), 0);
        ck_assert_int_eq(red_sketch_add(b, 1000), 0);
        before = dup_ok(a);
        ck_assert_int_eq(red_sketch_merge(a, b), -EINVAL);
        assert_identical(a, before, "dst after rejected merge");
        ck_assert_int_eq(red_sketch_merge(b, a), -EINVAL);
        ck_assert_uint_eq(red_sketch_count(b), 1);
        ck_assert(red_sketch_max(b) == 1000);
        red_sketch_destroy(a);
        red_sketch_destroy(b);
        red_sketch_destroy(before);
}
END_TEST


/*
 * ------------------------------------------------------------------------
 * Merge
 * ------------------------------------------------------------------------
 */

/* Mixed signs, zeros, wide range. */
static double merge_sample(rng_t *rng)
{
        double u = rng_uniform(rng);

        if (u < 0.1) {
                return 0;
        }
        if (u < 0.3) {
                return -exp(4 * rng_normal(rng));
        }
        return exp(5 * rng_normal(rng));
}

static const int merge_bins[] = {2048, 64, 1};

START_TEST(test_merge_exact)
{
        const int max_bins = merge_bins[_i];
        size_t n = test_n / 10;
        rng_t rng = {.state = 99};
        red_sketch_t *part[3], *all, *ab, *ba, *ab_c, *bc, *a_bc, *empty, *cp;
        size_t failed = 0;

        for (int p = 0; p < 3; p++) {
                part[p] = new_sketch(0.01, max_bins);
        }
        all = new_sketch(0.01, max_bins);
        empty = new_sketch(0.01, max_bins);
        for (size_t i = 0; i < n; i++) {
                double v = merge_sample(&rng);
                /* Uneven split so the parts have different ranges. */
                int p = i < n / 2 ? 0 : (i % 3 == 0 ? 1 : 2);

                failed += red_sketch_add(part[p], v * (p + 1)) != 0;
                failed += red_sketch_add(all, v * (p + 1)) != 0;
        }
        ck_assert_uint_eq(failed, 0);

        /* Union. */
        ab = dup_ok(part[0]);
        merge_ok(ab, part[1]);
        ab_c = dup_ok(ab);
        merge_ok(ab_c, part[2]);
        assert_identical(ab_c, all, "(a+b)+c vs union");
        ck_assert(red_sketch_quantile(ab_c, 0.5) ==
                  red_sketch_quantile(all, 0.5));
        ck_assert(red_sketch_quantile(ab_c, 0.99) ==
                  red_sketch_quantile(all, 0.99));

        /* Commutative. */
        ba = dup_ok(part[1]);
        merge_ok(ba, part[0]);
        assert_identical(ab, ba, "a+b vs b+a");

        /* Associative. */
        bc = dup_ok(part[1]);
        merge_ok(bc, part[2]);
        a_bc = dup_ok(part[0]);
        merge_ok(a_bc, bc);
        assert_identical(ab_c, a_bc, "(a+b)+c vs a+(b+c)");

        /* Empty is the identity, on either side. */
        cp = dup_ok(part[0]);
        merge_ok(cp, empty);
        assert_identical(cp, part[0], "a+empty");
        merge_ok(empty, part[0]);
        assert_identical(empty, part[0], "empty+a");

        /* Self merge doubles every count. */
        merge_ok(cp, cp);
        merge_ok(empty, part[0]);
        assert_identical(cp, empty, "a+a (self)");
        ck_assert_uint_eq(red_sketch_count(cp), 2 * red_sketch_count(part[0]));

        for (int p = 0; p < 3; p++) {
                red_sketch_destroy(part[p]);
        }
        red_sketch_destroy(all);
        red_sketch_destroy(ab);
        red_sketch_destroy(ba);
        red_sketch_destroy(ab_c);
        red_sketch_destroy(bc);
        red_sketch_destroy(a_bc);
        red_sketch_destroy(empty);
        red_sketch_destroy(cp);
}
END_TEST

/* Many small merges (the hourly -> daily roll-up) equal one big sketch. */
START_TEST(test_merge_many)
{
        rng_t rng = {.state = 1234};
        red_sketch_t *total = new_sketch(0.01, 2048);
        red_sketch_t *all = new_sketch(0.01, 2048);
        size_t failed = 0;

        for (int h = 0; h < 200; h++) {
                red_sketch_t *hour = new_sketch(0.01, 2048);
                double scale = exp(rng_normal(&rng));

                for (int i = 0; i < 500; i++) {
                        double v = scale * exp(rng_normal(&rng));

                        failed += red_sketch_add(hour, v) != 0;
                        failed += red_sketch_add(all, v) != 0;
                }
                merge_ok(total, hour);
                red_sketch_destroy(hour);
        }
        ck_assert_uint_eq(failed, 0);
        assert_identical(total, all, "200 merged hours vs one sketch");
        red_sketch_destroy(total);
        red_sketch_destroy(all);
}
END_TEST


/*
 * ------------------------------------------------------------------------
 * Bounded memory
 * ------------------------------------------------------------------------
 */

START_TEST(test_bounded_bins)
{
        const int max_bins = 128;
        const double alpha = 0.01;
        size_t n = test_n / 5, i = 0;
        rng_t rng = {.state = 4242};
        double *v = malloc(n * sizeof(*v));
        red_sketch_t *sk = new_sketch(alpha, max_bins);
        red_sketch_t *half[2] = {new_sketch(alpha, max_bins),
                                 new_sketch(alpha, max_bins)};
        uint64_t pos_bins, neg_bins;
        double prev = -INFINITY;
        size_t failed = 0;

        ck_assert_ptr_nonnull(v);
        /*
         * 10 % positive and 5 % negative values log-uniform over
         * 1e-200 .. 1e200 (about 46000 buckets each), 85 % in 1e199 .. 1e200
         * (116 buckets), so every q >= 0.5 lies in the top 128 buckets.
         */
        for (; i < n / 10; i++) {
                v[i] = pow(10, -200 + 400 * rng_uniform(&rng));
        }
        for (; i < n / 10 + n / 20; i++) {
                v[i] = -pow(10, -200 + 400 * rng_uniform(&rng));
        }
        for (; i < n; i++) {
                v[i] = pow(10, 199 + rng_uniform(&rng));
        }
        for (i = n; i > 1; i--) {
                size_t j = rng_next(&rng) % i;
                double t = v[i - 1];

                v[i - 1] = v[j];
                v[j] = t;
        }
        for (i = 0; i < n; i++) {
                failed += red_sketch_add(sk, v[i]) != 0;
                failed += red_sketch_add(half[i & 1], v[i]) != 0;
                if (i % 4096 == 0) {
                        parse_nbins(sk, &pos_bins, &neg_bins);
                        ck_assert_uint_le(pos_bins, max_bins);
                        ck_assert_uint_le(neg_bins, max_bins);
                }
        }
        ck_assert_uint_eq(failed, 0);
        parse_nbins(sk, &pos_bins, &neg_bins);
        ck_assert_uint_eq(pos_bins, max_bins); /* collapsed to the bound */
        ck_assert_uint_eq(neg_bins, max_bins);

        /* Collapsing is order-independent, so merge stays exact. */
        merge_ok(half[0], half[1]);
        assert_identical(half[0], sk, "merged halves, collapsed");

        qsort(v, n, sizeof(*v), cmp_double);
        ck_assert(red_sketch_min(sk) == v[0]);
        ck_assert(red_sketch_max(sk) == v[n - 1]);
        ck_assert_uint_eq(red_sketch_count(sk), n);
        for (size_t k = 0; k < N_QUANTILES; k++) {
                double q = quantiles_pm[k] / 1000.0;

                if (quantiles_pm[k] >= 500) {
                        assert_within(red_sketch_quantile(sk, q),
                                      exact_quantile(v, n, quantiles_pm[k]),
                                      alpha, "bounded upper", q);
                }
        }
        /* Lower quantiles degrade but stay monotone and inside [min, max]. */
        for (int k = 0; k <= 1000; k++) {
                double got = red_sketch_quantile(sk, k / 1000.0);

                ck_assert(got >= prev);
                ck_assert(got >= v[0] && got <= v[n - 1]);
                prev = got;
        }
        red_sketch_destroy(sk);
        red_sketch_destroy(half[0]);
        red_sketch_destroy(half[1]);
        free(v);
}
END_TEST


/*
 * ------------------------------------------------------------------------
 * Serialisation
 * ------------------------------------------------------------------------
 */

/* alpha 0.01, values 1, -2, 0: the documented layout byte for byte. */
static const uint8_t golden[] = {
        0xd1,                                           /* version */
        0x7b, 0x14, 0xae, 0x47, 0xe1, 0x7a, 0x84, 0x3f, /* alpha 0.01 */
        0x80, 0x10,                                     /* max_bins 2048 */
        0x03,                                           /* count */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, /* min -2 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f, /* max 1 */
        0x01,                                           /* zero count */
        0x00, 0x01, 0x01, /* positive: offset 0, 1 bin, count 1 */
        0x46, 0x01, 0x01, /* negative: offset 35 (index of 2), 1 bin */
};

START_TEST(test_serialize_golden)
{
        red_sketch_t *sk = new_sketch(0.01, 2048), *back;
        uint8_t buf[64];
        char errstr[256];
        size_t len;

        ck_assert_int_eq(red_sketch_add(sk, 1), 0);
        ck_assert_int_eq(red_sketch_add(sk, -2), 0);
        ck_assert_int_eq(red_sketch_add(sk, 0), 0);
        len = red_sketch_serialize(sk, buf, sizeof(buf));
        ck_assert_uint_eq(len, sizeof(golden));
        ck_assert_mem_eq(buf, golden, sizeof(golden));

        back = red_sketch_deserialize(golden, sizeof(golden), errstr,
                                      sizeof(errstr));
        ck_assert_msg(back != NULL, "%s", errstr);
        assert_identical(sk, back, "golden round trip");
        ck_assert(red_sketch_quantile(back, 0.5) == 0);
        red_sketch_destroy(sk);
        red_sketch_destroy(back);
}
END_TEST

static red_sketch_t *sample_sketch(size_t n, int max_bins, uint64_t seed)
{
        red_sketch_t *sk = new_sketch(0.01, max_bins);
        rng_t rng = {.state = seed};
        size_t failed = 0;

        for (size_t i = 0; i < n; i++) {
                failed += red_sketch_add(sk, merge_sample(&rng)) != 0;
        }
        ck_assert_uint_eq(failed, 0);
        return sk;
}

START_TEST(test_serialize_round_trip)
{
        red_sketch_t *cases[4];
        char errstr[256];

        cases[0] = new_sketch(0.01, 2048); /* empty */
        cases[1] = sample_sketch(3, 2048, 1);
        cases[2] = sample_sketch(test_n / 10, 2048, 2);
        cases[3] = sample_sketch(test_n / 10, 32, 3); /* collapsed */
        for (int c = 0; c < 4; c++) {
                size_t len, len2;
                uint8_t *buf = serialize(cases[c], &len);
                uint8_t *small = malloc(len + 8);
                red_sketch_t *back;

                ck_assert_ptr_nonnull(small);
                /* A short buffer gets a prefix and nothing past size. */
                memset(small, 0xee, len + 8);
                len2 = red_sketch_serialize(cases[c], small, len / 2);
                ck_assert_uint_eq(len2, len);
                ck_assert_mem_eq(small, buf, len / 2);
                for (size_t i = len / 2; i < len + 8; i++) {
                        ck_assert_uint_eq(small[i], 0xee);
                }

                back = red_sketch_deserialize(buf, len, errstr, sizeof(errstr));
                ck_assert_msg(back != NULL, "case %d: %s", c, errstr);
                assert_identical(cases[c], back, "round trip");
                ck_assert(red_sketch_quantile(back, 0.9) ==
                                  red_sketch_quantile(cases[c], 0.9) ||
                          red_sketch_count(back) == 0);
                /* The decoded sketch keeps working. */
                ck_assert_int_eq(red_sketch_add(back, 12.5), 0);
                ck_assert_int_eq(red_sketch_add(cases[c], 12.5), 0);
                assert_identical(cases[c], back, "add after round trip");
                red_sketch_destroy(back);
                free(buf);
                free(small);
        }
        for (int c = 0; c < 4; c++) {
                red_sketch_destroy(cases[c]);
        }
}
END_TEST

START_TEST(test_deserialize_rejects)
{
        red_sketch_t *sk = sample_sketch(1000, 2048, 5), *back;
        size_t len;
        uint8_t *buf = serialize(sk, &len), *copy;
        char errstr[256];

        /* Every truncation, in an exact-size heap block (valgrind). */
        for (size_t cut = 0; cut < len; cut++) {
                copy = malloc(cut ? cut : 1);
                ck_assert_ptr_nonnull(copy);
                memcpy(copy, buf, cut);
                errstr[0] = '\0';
                back = red_sketch_deserialize(copy, cut, errstr,
                                              sizeof(errstr));
                ck_assert_msg(back == NULL, "prefix of %zu/%zu accepted", cut,
                              len);
                ck_assert_msg(strstr(errstr, "sketch: ") == errstr,
                              "prefix %zu: message \"%s\"", cut, errstr);
                free(copy);
        }
        ck_assert_ptr_null(red_sketch_deserialize(NULL, 0, NULL, 0));

        /* Wrong version byte. */
        copy = malloc(len + 1);
        ck_assert_ptr_nonnull(copy);
        memcpy(copy, buf, len);
        copy[0] = 0xd2;
        ck_assert_ptr_null(
                red_sketch_deserialize(copy, len, errstr, sizeof(errstr)));
        ck_assert_ptr_nonnull(strstr(errstr, "version 0xd2"));

        /* A trailing byte. */
        memcpy(copy, buf, len);
        copy[len] = 0;
        ck_assert_ptr_null(
                red_sketch_deserialize(copy, len + 1, errstr, sizeof(errstr)));
        ck_assert_ptr_nonnull(strstr(errstr, "trailing"));

        /* Over-long and 65-bit varints: corrupt, not truncated. */
        {
                uint8_t longer[sizeof(golden) + 8];

                memset(longer, 0, sizeof(longer));
                memcpy(longer, golden, 11);
                longer[11] = 0x83; /* count 3 in two bytes */
                longer[12] = 0x00;
                memcpy(longer + 13, golden + 12, sizeof(golden) - 12);
                ck_assert_ptr_null(red_sketch_deserialize(
                        longer, sizeof(golden) + 1, errstr, sizeof(errstr)));
                ck_assert_str_eq(errstr, "sketch: corrupt input at byte 11: "
                                         "malformed varint in count "
                                         "(over-long or past 64 bits)");
                memset(longer + 11, 0xff, 9);
                longer[20] = 0x02; /* a tenth byte past bit 63 */
                memcpy(longer + 21, golden + 12, sizeof(golden) - 12 - 8);
                ck_assert_ptr_null(red_sketch_deserialize(
                        longer, sizeof(longer), errstr, sizeof(errstr)));
                ck_assert_ptr_nonnull(strstr(errstr, "malformed varint"));
        }

        /* Count that does not match the bins. */
        memcpy(copy, golden, sizeof(golden));
        copy[11] = 0x04;
        ck_assert_ptr_null(red_sketch_deserialize(copy, sizeof(golden), errstr,
                                                  sizeof(errstr)));
        ck_assert_ptr_nonnull(strstr(errstr, "add up"));

        /* Untrimmed bins: positive store with a trailing zero bin. */
        {
                uint8_t untrimmed[sizeof(golden) + 1];

                memcpy(untrimmed, golden, 29);
                untrimmed[29] = 0x00; /* offset 0 */
                untrimmed[30] = 0x02; /* 2 bins */
                untrimmed[31] = 0x01;
                untrimmed[32] = 0x00;
                memcpy(untrimmed + 33, golden + 32, 3);
                ck_assert_ptr_null(red_sketch_deserialize(
                        untrimmed, sizeof(untrimmed), errstr, sizeof(errstr)));
                ck_assert_ptr_nonnull(strstr(errstr, "untrimmed"));
        }

        /* Bad alpha. */
        memcpy(copy, golden, sizeof(golden));
        copy[8] = 0x7f; /* alpha becomes NaN */
        copy[7] = 0xff;
        ck_assert_ptr_null(red_sketch_deserialize(copy, sizeof(golden), errstr,
                                                  sizeof(errstr)));
        ck_assert_ptr_nonnull(strstr(errstr, "alpha"));

        /* Any single corrupted byte: rejected or a sketch that works. */
        for (size_t i = 0; i < len; i++) {
                for (int x = 1; x < 256; x <<= 1) {
                        memcpy(copy, buf, len);
                        copy[i] ^= (uint8_t)x;
                        back = red_sketch_deserialize(copy, len, NULL, 0);
                        if (back) {
                                (void)red_sketch_quantile(back, 0.5);
                                ck_assert_int_eq(red_sketch_add(back, 1), 0);
                                red_sketch_destroy(back);
                        }
                }
        }
        free(copy);
        free(buf);
        red_sketch_destroy(sk);
}
END_TEST


/*
 * ------------------------------------------------------------------------
 * Runner
 * ------------------------------------------------------------------------
 */

static Suite *sketch_suite(void)
{
        Suite *s = suite_create("sketch");
        TCase *tc;

        tc = tcase_create("accuracy");
        tcase_set_timeout(tc, 600);
        tcase_add_loop_test(tc, test_accuracy_default_alpha, 0, DIST_COUNT);
        tcase_add_loop_test(tc, test_accuracy_fine_alpha, 0, DIST_COUNT);
        tcase_add_loop_test(tc, test_accuracy_coarse_alpha, 0, DIST_COUNT);
        tcase_add_test(tc, test_accuracy_bucket_edges);
        tcase_add_test(tc, test_clamp_to_min_max);
        tcase_add_test(tc, test_order_independent);
        suite_add_tcase(s, tc);

        tc = tcase_create("exact");
        tcase_add_test(tc, test_exact_one_value);
        tcase_add_test(tc, test_exact_two_values);
        tcase_add_test(tc, test_exact_ranks);
        tcase_add_test(tc, test_empty_and_bad_q);
        tcase_add_test(tc, test_zero_bucket_and_negatives);
        tcase_add_test(tc, test_add_n_clear_dup);
        suite_add_tcase(s, tc);

        tc = tcase_create("errors");
        tcase_add_test(tc, test_reject_non_finite);
        tcase_add_test(tc, test_reject_bad_params);
        tcase_add_test(tc, test_merge_alpha_mismatch);
        suite_add_tcase(s, tc);

        tc = tcase_create("merge");
        tcase_set_timeout(tc, 600);
        tcase_add_loop_test(tc, test_merge_exact, 0,
                            sizeof(merge_bins) / sizeof(merge_bins[0]));
        tcase_add_test(tc, test_merge_many);
        suite_add_tcase(s, tc);

        tc = tcase_create("bounded");
        tcase_set_timeout(tc, 600);
        tcase_add_test(tc, test_bounded_bins);
        suite_add_tcase(s, tc);

        tc = tcase_create("serialize");
        tcase_set_timeout(tc, 600);
        tcase_add_test(tc, test_serialize_golden);
        tcase_add_test(tc, test_serialize_round_trip);
        tcase_add_test(tc, test_deserialize_rejects);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        const char *env = getenv("RED_SKETCH_TEST_N");
        SRunner *sr;
        int failed;

        if (env && atol(env) >= 1000) {
                test_n = (size_t)atol(env);
        }
        sr = srunner_create(sketch_suite());
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
