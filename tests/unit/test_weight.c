/*
 * Tests for red_weight and weighted aggregations (contract `weight:`):
 * which weights are dead letters; every weight 1 gives exactly the
 * unweighted rows; a stream sampled at 10 % with weight 1 / rate
 * estimates the unsampled stream's counts and sums within the documented
 * error (randomised, several seeds); weighted quantiles are within the
 * sketch's relative accuracy of the weighted nearest-rank truth (through
 * a contract and in the sketch alone); sketch counts change units exactly;
 * weighted cells merge exactly in any batching; stored states of either
 * kind merge into cells of the other.
 */
#include "cell_fixtures.h"
#include "red_decode.h"
#include "red_sketch.h"
#include "red_test.h"
#include "red_weight.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TOPIC "test.weighted.requests"
#define NOW   "2026-12-01T00:00:00Z"

static red_contract_t *wc; /* tests/data/contracts/weighted.yaml */
static red_contract_t *uc; /* the same without its weight: line */

/* The weighted contract's text with its weight: line taken out. */
static red_contract_t *load_unweighted(void)
{
        char *text = test_read_file(
                test_path("tests/data/contracts/weighted.yaml"), NULL);
        char *w = strstr(text, "weight: {"), *dir = test_tmpdir(), path[4096];
        char err[2048];
        red_contract_t *c;

        ck_assert_ptr_nonnull(w);
        memmove(w, strchr(w, '\n') + 1, strlen(strchr(w, '\n') + 1) + 1);
        snprintf(path, sizeof(path), "%s/unweighted.yaml", dir);
        test_write_file(path, text, strlen(text));
        c = red_contract_load(path, err, sizeof(err));
        ck_assert_msg(c, "%s", err);
        ck_assert_ptr_null(c->weight);
        free(text);
        free(dir);
        return c;
}

static void setup(void)
{
        wc = load("tests/data/contracts/weighted.yaml");
        uc = load_unweighted();
}

static void teardown(void)
{
        red_contract_destroy(wc);
        red_contract_destroy(uc);
}

/* One request of the test stream. */
typedef struct req_s {
        int route; /* 0..2: a, b, c */
        bool ok;
        double latency;
        int64_t bytes;
        double rate; /* sample_rate sent; NAN: none (not sampled) */
} req_t;

/*
 * Decodes @p r for @p c (the message is one request at 10:00 + @p i
 * seconds on 2026-11-02) into @p ev; returns the dead-letter code and
 * leaves the detail in @p detail. The text lives in @p text.
 */
static red_dlq_code_t decode_req(const red_contract_t *c, const req_t *r,
                                 long i, red_event_t *ev, red_value_t *vals,
                                 red_msg_t *msg, char *text, size_t size,
                                 char *detail, size_t dsize)
{
        int n = snprintf(text, size,
                         "{\"event_type\":\"REQUEST\",\"timestamp\":\"2026-11-"
                         "02T10:%02ld:%02ldZ\",\"payload\":{\"request_id\":"
                         "\"c0000000-0000-4000-8000-%012ld\",\"route\":\"%c\","
                         "\"ok\":%s,\"latency_ms\":%.17g,\"bytes\":%lld",
                         (i / 60) % 60, i % 60, i, 'a' + r->route,
                         r->ok ? "true" : "false", r->latency,
                         (long long)r->bytes);

        if (!isnan(r->rate)) {
                n += snprintf(text + n, size - (size_t)n,
                              ",\"sample_rate\":%.17g", r->rate);
        }
        snprintf(text + n, size - (size_t)n, "}}");
        memset(msg, 0, sizeof(*msg));
        msg->topic = TOPIC;
        msg->offset = i;
        msg->value = text;
        msg->value_len = strlen(text);
        msg->timestamp = -1;
        ev->values = vals;
        return red_decode(c, msg, tm(NOW), ev, detail, dsize);
}

/* Applies requests [from, to) to @p ag (every one must decode). */
static void apply_reqs(red_aggregator_t *ag, const red_contract_t *c,
                       const req_t *reqs, size_t from, size_t to)
{
        red_value_t vals[64];
        red_event_t ev;
        red_msg_t msg;
        char text[512], detail[256];

        ck_assert_uint_le(c->slot_cnt, 64);
        for (size_t i = from; i < to; i++) {
                red_dlq_code_t code = decode_req(
                        c, &reqs[i], (long)(i % 3600), &ev, vals, &msg, text,
                        sizeof(text), detail, sizeof(detail));
                ck_assert_msg(code == RED_DLQ_NONE, "%s", detail);
                ck_assert_int_eq(red_aggregator_apply(ag, &ev), 0);
                red_decode_release(&ev);
        }
}

static red_aggregator_t *aggregate_reqs(const red_contract_t *c,
                                        const req_t *reqs, size_t n)
{
        red_aggregator_t *ag = red_aggregator_new(c);

        ck_assert_ptr_nonnull(ag);
        apply_reqs(ag, c, reqs, 0, n);
        return ag;
}

/* The cell of window @p wt, grouping @p g and key @p key. */
static red_cell_t *cell_of(red_aggregator_t *ag, red_window_type_t wt,
                           const char *g, const char *key)
{
        size_t n;
        red_cell_t **cells = red_aggregator_cells(ag, &n);

        for (size_t i = 0; i < n; i++) {
                const red_agg_t *a = red_cell_agg(cells[i]);
                if (red_cell_window_type(cells[i]) == wt &&
                    !strcmp(a->groupings[red_cell_grouping(cells[i])].name,
                            g) &&
                    !strcmp(red_cell_key(cells[i], 0), key)) {
                        return cells[i];
                }
        }
        ck_abort_msg("no cell %s/%s", g, key);
        return NULL;
}

/* Output @p name ("requests", "latency.p50", ...) of @p cell. */
static double out(const red_cell_t *cell, const char *name)
{
        const red_agg_t *a = red_cell_agg(cell);
        const char *dot = strchr(name, '.');
        size_t len = dot ? (size_t)(dot - name) : strlen(name);
        static const struct {
                const char *name;
                int code;
        } codes[] = {{"count", RED_OUT_COUNT},   {"sum", RED_OUT_SUM},
                     {"avg", RED_OUT_AVG},       {"events", RED_OUT_EVENTS},
                     {"p50", RED_OUT_Q0 + 5000}, {"p90", RED_OUT_Q0 + 9000},
                     {"p99", RED_OUT_Q0 + 9900}};
        double v;

        for (size_t m = 0; m < a->measure_cnt; m++) {
                int code = a->measures[m].kind == RED_MEAS_SUM ? RED_OUT_SUM
                                                               : RED_OUT_COUNT;
                if (strlen(a->measures[m].name) != len ||
                    strncmp(a->measures[m].name, name, len)) {
                        continue;
                }
                for (size_t k = 0; dot && k < sizeof(codes) / sizeof(*codes);
                     k++) {
                        if (!strcmp(codes[k].name, dot + 1)) {
                                code = codes[k].code;
                        }
                }
                ck_assert_msg(red_cell_value(cell, ((int)m << 16) | code, &v),
                              "%s is null", name);
                return v;
        }
        ck_abort_msg("no measure %s", name);
        return NAN;
}

/* ------------------------------------------------------------------ */
/* the weight of an event                                              */
/* ------------------------------------------------------------------ */

START_TEST(dead_letters)
{
        static const struct {
                double rate;
                red_dlq_code_t code;
                const char *detail;
                int64_t weight;
        } cases[] = {
                {0.1, RED_DLQ_NONE, NULL, 10 * RED_WEIGHT_ONE},
                {0.15, RED_DLQ_NONE, NULL, 6666667},
                {1, RED_DLQ_NONE, NULL, RED_WEIGHT_ONE},
                {0, RED_DLQ_OUT_OF_RANGE,
                 "sample_rate: 0 gives the weight inf (a weight must be "
                 "finite and above 0)",
                 0},
                {1e-7, RED_DLQ_OUT_OF_RANGE,
                 "sample_rate: 1e-07 gives the weight 1e+07, above the "
                 "largest 1e+06",
                 0},
                {-0.5, RED_DLQ_OUT_OF_RANGE, "sample_rate: -0.5 is below", 0},
        };
        red_value_t vals[64];
        red_event_t ev;
        red_msg_t msg;
        char text[512], detail[256];

        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                req_t r = {1, true, 12.5, 100, cases[i].rate};
                red_dlq_code_t code =
                        decode_req(wc, &r, (long)i, &ev, vals, &msg, text,
                                   sizeof(text), detail, sizeof(detail));
                ck_assert_msg(code == cases[i].code, "rate %g: %s",
                              cases[i].rate, detail);
                if (code == RED_DLQ_NONE) {
                        ck_assert_int_eq(ev.weight, cases[i].weight);
                        red_decode_release(&ev);
                } else {
                        ck_assert_msg(strstr(detail, cases[i].detail),
                                      "rate %g: %s", cases[i].rate, detail);
                }
        }
        /* no rate: weight 1; no weight: line: weight 1 whatever is sent */
        {
                req_t r = {0, true, 1, 1, NAN};
                ck_assert_int_eq(decode_req(wc, &r, 9, &ev, vals, &msg, text,
                                            sizeof(text), detail,
                                            sizeof(detail)),
                                 RED_DLQ_NONE);
                ck_assert_int_eq(ev.weight, RED_WEIGHT_ONE);
                red_decode_release(&ev);
                r.rate = 0.5;
                ck_assert_int_eq(decode_req(uc, &r, 9, &ev, vals, &msg, text,
                                            sizeof(text), detail,
                                            sizeof(detail)),
                                 RED_DLQ_NONE);
                ck_assert_int_eq(ev.weight, RED_WEIGHT_ONE);
                red_decode_release(&ev);
        }
}
END_TEST

/* A plain weight field: negative, zero and tiny weights are dead letters. */
START_TEST(plain_weight_field)
{
        static const char *yaml =
                "contract: plain\nversion: 1.0.0\ndead_letter_topic: dl\n"
                "inputs: [{topic: t, events: [e]}]\n"
                "events:\n  e:\n    types: [E]\n    fields:\n"
                "      w: {type: number}\n      n: {type: integer}\n"
                "weight: w\n";
        static const struct {
                const char *w;
                int64_t weight; /* -1: out_of_range */
        } cases[] = {{"2.5", 2500000},  {"1e6", 1000000000000},
                     {"0.0000004", -1}, {"0", -1},
                     {"-2", -1},        {"0.0000006", 1}};
        char *dir = test_tmpdir(), path[4096], err[1024], text[256];
        red_contract_t *c;

        snprintf(path, sizeof(path), "%s/plain.yaml", dir);
        test_write_file(path, yaml, strlen(yaml));
        ck_assert_msg((c = red_contract_load(path, err, sizeof(err))), "%s",
                      err);
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                red_value_t vals[8];
                red_event_t ev = {.values = vals};
                red_msg_t msg = {.topic = "t", .timestamp = -1};
                red_dlq_code_t code;

                snprintf(text, sizeof(text),
                         "{\"event_type\":\"E\",\"timestamp\":\"2026-01-01T00:"
                         "00:00Z\",\"w\":%s}",
                         cases[i].w);
                msg.value = text;
                msg.value_len = strlen(text);
                code = red_decode(c, &msg, tm(NOW), &ev, err, sizeof(err));
                if (cases[i].weight < 0) {
                        ck_assert_msg(code == RED_DLQ_OUT_OF_RANGE, "w %s",
                                      cases[i].w);
                        ck_assert_msg(strstr(err, "w: "), "%s", err);
                        continue;
                }
                ck_assert_msg(code == RED_DLQ_NONE, "w %s: %s", cases[i].w,
                              err);
                ck_assert_int_eq(ev.weight, cases[i].weight);
                red_decode_release(&ev);
        }
        red_contract_destroy(c);
        /* the weight needs a number field */
        snprintf(text, sizeof(text), "%s", yaml);
        strcpy(strstr(text, "weight: w"), "weight: {from: n, as: sideways}\n");
        test_write_file(path, text, strlen(text));
        ck_assert_ptr_null(red_contract_load(path, err, sizeof(err)));
        ck_assert_msg(strstr(err, "weight.as: \"sideways\" is not valid "
                                  "(allowed: value, inverse)"),
                      "%s", err);
        free(dir);
}
END_TEST

/* ------------------------------------------------------------------ */
/* estimates                                                           */
/* ------------------------------------------------------------------ */

/* A request stream: 5 % errors, log-normal-ish latencies, sizes. */
static req_t *gen_reqs(uint64_t seed, size_t n)
{
        req_t *reqs = calloc(n, sizeof(*reqs));
        uint64_t x = seed;

        for (size_t i = 0; i < n; i++) {
                reqs[i].route = (int)(test_rand(&x) % 3);
                reqs[i].ok = test_unif(&x) >= 0.05;
                reqs[i].latency =
                        exp(3 + 1.2 * (test_unif(&x) + test_unif(&x) - 1)) *
                        (1 + reqs[i].route);
                reqs[i].bytes = (int64_t)(test_rand(&x) % 100000);
                reqs[i].rate = NAN;
        }
        return reqs;
}

/* Same cells and rows (and state bytes, with @p same_state). */
static void assert_same_rows(red_aggregator_t *a, red_aggregator_t *b,
                             bool same_state)
{
        size_t na, nb;
        red_cell_t **ca = red_aggregator_cells(a, &na);
        red_cell_t **cb = red_aggregator_cells(b, &nb);
        red_buf_t x, y;

        ck_assert_uint_eq(na, nb);
        red_buf_init(&x);
        red_buf_init(&y);
        for (size_t i = 0; i < na; i++) {
                if (same_state) {
                        serialize(ca[i], &x);
                        serialize(cb[i], &y);
                        ck_assert(x.len == y.len &&
                                  !memcmp(x.data, y.data, x.len));
                }
                row(ca[i], &x);
                row(cb[i], &y);
                ck_assert_msg(!strcmp(x.data, y.data), "%s\n%s", x.data,
                              y.data);
        }
        red_buf_destroy(&x);
        red_buf_destroy(&y);
}

/* Every request with sample_rate 1 (or none): the weighted contract's rows
 * are exactly the unweighted contract's. */
START_TEST(weight_one_is_exact)
{
        req_t *reqs = gen_reqs(5, 3000);
        red_aggregator_t *a, *b;

        for (size_t i = 0; i < 3000; i++) {
                reqs[i].rate = i % 2 ? 1 : NAN;
        }
        a = aggregate_reqs(wc, reqs, 3000);
        b = aggregate_reqs(uc, reqs, 3000);
        assert_same_rows(a, b, false);
        red_aggregator_destroy(a);
        red_aggregator_destroy(b);
        free(reqs);
}
END_TEST

/*
 * The estimator (Horvitz-Thompson): each sampled event stands for 1 / p
 * events, so the weighted count estimates the unsampled count without
 * bias, with standard error sqrt(sum over all events of (1 - p) / p); a
 * weighted sum likewise, with sqrt(sum of (1 - p) / p x^2). Errors are
 * critical and never sampled, so their count is exact. Each seed's
 * estimates must lie within 4 standard errors (a miss has probability
 * 6e-5 per check), and the sampled count is shown exactly.
 */
START_TEST(sampled_within_error)
{
        const size_t n = 40000;
        const double p = 0.1;

        for (uint64_t seed = 1; seed <= 8; seed++) {
                req_t *reqs = gen_reqs(seed * 977, n);
                uint64_t x = seed;
                double count[3] = {0}, var_n[3] = {0}, bytes = 0, var_b = 0;
                double total = 0, var_total = 0, errors = 0;
                size_t sampled = 0, kept = 0;
                red_aggregator_t *ag;
                red_cell_t *all;

                /* the truth, then sampling at the producer: errors bypass */
                for (size_t i = 0; i < n; i++) {
                        req_t *r = &reqs[i];
                        count[r->route]++;
                        total++;
                        bytes += (double)r->bytes;
                        if (!r->ok) {
                                errors++;
                                reqs[kept++] = *r; /* no rate sent */
                                continue;
                        }
                        var_n[r->route] += (1 - p) / p;
                        var_total += (1 - p) / p;
                        var_b += (1 - p) / p * (double)r->bytes *
                                 (double)r->bytes;
                        if (test_unif(&x) < p) {
                                r->rate = p;
                                reqs[kept++] = *r;
                                sampled++;
                        }
                }
                ag = aggregate_reqs(wc, reqs, kept);
                all = cell_of(ag, RED_WINDOW_DAILY, "total", "all");
                ck_assert_msg(fabs(out(all, "requests") - total) <=
                                      4 * sqrt(var_total),
                              "seed %llu: %g requests estimated, %g true "
                              "(se %g)",
                              (unsigned long long)seed, out(all, "requests"),
                              total, sqrt(var_total));
                ck_assert_double_eq(out(all, "requests.events"), (double)kept);
                ck_assert_uint_eq(red_cell_events(all), kept);
                ck_assert_double_eq(out(all, "errors"), errors);
                ck_assert_msg(
                        fabs(out(all, "bytes") - bytes) <= 4 * sqrt(var_b),
                        "seed %llu: bytes %g estimated, %g true",
                        (unsigned long long)seed, out(all, "bytes"), bytes);
                for (int rt = 0; rt < 3; rt++) {
                        char key[2] = {(char)('a' + rt), 0};
                        red_cell_t *c =
                                cell_of(ag, RED_WINDOW_DAILY, "per_route", key);
                        ck_assert_msg(fabs(out(c, "requests") - count[rt]) <=
                                              4 * sqrt(var_n[rt]),
                                      "seed %llu route %s: %g estimated, %g "
                                      "true",
                                      (unsigned long long)seed, key,
                                      out(c, "requests"), count[rt]);
                }
                (void)sampled;
                red_aggregator_destroy(ag);
                free(reqs);
        }
}
END_TEST

/* ------------------------------------------------------------------ */
/* weighted quantiles                                                  */
/* ------------------------------------------------------------------ */

typedef struct wv_s {
        double v;
        int64_t w; /* weight units */
} wv_t;

static int cmp_wv(const void *a, const void *b)
{
        double x = ((const wv_t *)a)->v, y = ((const wv_t *)b)->v;

        return x < y ? -1 : x > y;
}

/* The weighted nearest-rank quantile: the smallest value at which the
 * cumulative weight reaches ceil(q x total) units. */
static double weighted_rank(wv_t *v, size_t n, double q)
{
        int64_t total = 0, cum = 0, rank;

        qsort(v, n, sizeof(*v), cmp_wv);
        for (size_t i = 0; i < n; i++) {
                total += v[i].w;
        }
        rank = (int64_t)ceil(q * (double)total);
        rank = rank < 1 ? 1 : rank;
        for (size_t i = 0; i < n; i++) {
                cum += v[i].w;
                if (cum >= rank) {
                        return v[i].v;
                }
        }
        return v[n - 1].v;
}

/* Rates of 1 to 15 % and unsampled events: the daily cell's quantiles
 * are within the sketch's 1 % of the weighted truth. */
START_TEST(weighted_quantiles)
{
        /* per route two rates; slower routes are sampled more thinly, so
         * the weighted quantiles differ from the unweighted ones */
        static const double rates[3][2] = {
                {NAN, 0.15}, {0.07, 0.03}, {0.01, 0.01}};
        static const double qs[] = {0.5, 0.9, 0.99};
        const size_t n = 20000;

        for (uint64_t seed = 1; seed <= 4; seed++) {
                req_t *reqs = gen_reqs(seed, n);
                wv_t *wv = calloc(n, sizeof(*wv));
                uint64_t x = seed * 31;
                red_aggregator_t *ag;
                red_cell_t *all;

                for (size_t i = 0; i < n; i++) {
                        double rate = rates[reqs[i].route][test_rand(&x) % 2];
                        reqs[i].rate = rate;
                        wv[i].v = reqs[i].latency;
                        wv[i].w = isnan(rate)
                                          ? RED_WEIGHT_ONE
                                          : llround(1 / rate * RED_WEIGHT_ONE);
                }
                ag = aggregate_reqs(wc, reqs, n);
                all = cell_of(ag, RED_WINDOW_DAILY, "total", "all");
                for (size_t k = 0; k < 3; k++) {
                        char name[32];
                        double truth = weighted_rank(wv, n, qs[k]), got;
                        snprintf(name, sizeof(name), "latency.p%d",
                                 (int)lround(qs[k] * 100));
                        got = out(all, name);
                        ck_assert_msg(fabs(got - truth) <= 0.01 * truth,
                                      "seed %llu %s: %g, truth %g",
                                      (unsigned long long)seed, name, got,
                                      truth);
                }
                red_aggregator_destroy(ag);
                free(wv);
                free(reqs);
        }
}
END_TEST

/* The sketch alone: values with integer weights (red_sketch_add_n) give
 * every quantile within alpha of the weighted nearest-rank truth. */
START_TEST(sketch_weighted_ranks)
{
        const size_t n = 5000;
        wv_t *wv = calloc(n, sizeof(*wv));
        uint64_t x = 11;
        char err[128];
        red_sketch_t *sk = red_sketch_new(0.01, err, sizeof(err));

        ck_assert_ptr_nonnull(sk);
        for (size_t i = 0; i < n; i++) {
                wv[i].v = exp(8 * test_unif(&x) - 2);
                /* a weight of 1 to 100 with six decimals */
                wv[i].w = (int64_t)(RED_WEIGHT_ONE +
                                    test_rand(&x) % (99 * RED_WEIGHT_ONE));
                ck_assert_int_eq(
                        red_sketch_add_n(sk, wv[i].v, (uint64_t)wv[i].w), 0);
        }
        for (int k = 1; k < 1000; k++) {
                double q = k / 1000.0, truth = weighted_rank(wv, n, q);
                double got = red_sketch_quantile(sk, q);
                ck_assert_msg(fabs(got - truth) <= 0.01 * truth,
                              "q %g: %g, truth %g", q, got, truth);
        }
        red_sketch_destroy(sk);
        free(wv);
}
END_TEST

/* Rescaling a sketch's counts: up is exact and keeps every quantile, down
 * rounds each bucket; a count that would wrap changes nothing. */
START_TEST(sketch_rescale)
{
        char err[128];
        red_sketch_t *sk = red_sketch_new(0.01, err, sizeof(err)), *orig;

        for (int i = 1; i <= 1000; i++) {
                ck_assert_int_eq(red_sketch_add(sk, i * 0.37), 0);
        }
        ck_assert_int_eq(red_sketch_add(sk, 0), 0);
        ck_assert_int_eq(red_sketch_add(sk, -5), 0);
        orig = red_sketch_dup(sk);
        ck_assert_int_eq(red_sketch_rescale(sk, RED_WEIGHT_DIGITS), 0);
        ck_assert_uint_eq(red_sketch_count(sk), 1002 * RED_WEIGHT_ONE);
        for (int k = 0; k <= 100; k++) {
                ck_assert(red_sketch_quantile(sk, k / 100.0) ==
                          red_sketch_quantile(orig, k / 100.0));
        }
        ck_assert_int_eq(red_sketch_rescale(sk, -RED_WEIGHT_DIGITS), 0);
        ck_assert(red_sketch_equal(sk, orig));
        ck_assert_int_eq(red_sketch_rescale(sk, 19), -EOVERFLOW);
        ck_assert(red_sketch_equal(sk, orig));
        ck_assert_int_eq(red_sketch_rescale(sk, 20), -EINVAL);
        red_sketch_destroy(sk);
        red_sketch_destroy(orig);

        /* 0.4 and 0.6 of a unit: the first bucket goes, the second is 1 */
        sk = red_sketch_new(0.01, err, sizeof(err));
        ck_assert_int_eq(red_sketch_add_n(sk, 2, 400000), 0);
        ck_assert_int_eq(red_sketch_add_n(sk, 50, 600000), 0);
        ck_assert_int_eq(red_sketch_rescale(sk, -6), 0);
        ck_assert_uint_eq(red_sketch_count(sk), 1);
        ck_assert_double_eq(red_sketch_max(sk), 50); /* min and max stay */
        /* nothing left: empty */
        ck_assert_int_eq(red_sketch_rescale(sk, -1), 0);
        ck_assert_uint_eq(red_sketch_count(sk), 0);
        ck_assert(isnan(red_sketch_min(sk)));
        red_sketch_destroy(sk);
}
END_TEST

/* ------------------------------------------------------------------ */
/* merging                                                             */
/* ------------------------------------------------------------------ */

/* Into @p dst (contract @p c) the serialised state of every cell of
 * @p src, each merged into a cell with its key. */
static void merge_stored(red_aggregator_t *dst, const red_contract_t *c,
                         red_aggregator_t *src)
{
        size_t n;
        red_cell_t **cells = red_aggregator_cells(src, &n);
        red_buf_t b;
        char err[256];

        red_buf_init(&b);
        for (size_t i = 0; i < n; i++) {
                red_cell_t *cell = red_cell_new_like(cells[i], &c->aggs[0],
                                                     c->sketch_alpha);
                serialize(cells[i], &b);
                ck_assert_int_eq(red_cell_merge_serialized(cell, b.data, b.len,
                                                           err, sizeof(err)),
                                 0);
                ck_assert_int_eq(
                        red_aggregator_merge_cell(dst, cell, err, sizeof(err)),
                        0);
                red_cell_destroy(cell);
        }
        red_buf_destroy(&b);
}

/* Batches merged through the stored state, in reverse order, equal one
 * pass: the same state bytes and rows. */
START_TEST(weighted_merge_is_exact)
{
        const size_t n = 6000;
        req_t *reqs = gen_reqs(3, n);
        uint64_t x = 3;
        red_aggregator_t *one, *merged = red_aggregator_new(wc);

        for (size_t i = 0; i < n; i++) {
                static const double rates[] = {NAN, 0.01, 0.15, 0.3};
                reqs[i].rate = rates[test_rand(&x) % 4];
        }
        one = aggregate_reqs(wc, reqs, n);
        for (size_t end = n; end > 0; end -= 1000) {
                red_aggregator_t *part = red_aggregator_new(wc);
                apply_reqs(part, wc, reqs, end - 1000, end);
                merge_stored(merged, wc, part);
                red_aggregator_destroy(part);
        }
        assert_same_rows(one, merged, true);
        red_aggregator_destroy(one);
        red_aggregator_destroy(merged);
        free(reqs);
}
END_TEST

/*
 * A contract that gains a weight keeps its stored (unweighted, version 1)
 * states: each stored event counts with weight 1, sketches included; and
 * one that drops it reads weighted states back. With every weight 1 both
 * ways give the rows of one unweighted pass.
 */
START_TEST(states_cross_weighting)
{
        const size_t n = 4000;
        req_t *reqs = gen_reqs(9, n);
        red_aggregator_t *truth, *ua, *wa, *into_w, *into_u;

        truth = aggregate_reqs(uc, reqs, n);
        ua = aggregate_reqs(uc, reqs, n / 2);
        wa = red_aggregator_new(wc);
        apply_reqs(wa, wc, reqs, n / 2, n);
        /* the weighted contract reads the old unweighted states */
        into_w = red_aggregator_new(wc);
        merge_stored(into_w, wc, ua);
        merge_stored(into_w, wc, wa);
        /* and the other way round */
        into_u = red_aggregator_new(uc);
        merge_stored(into_u, uc, ua);
        merge_stored(into_u, uc, wa);
        assert_same_rows(truth, into_w, false);
        assert_same_rows(truth, into_u, true);
        /* version 1 without a weight, 2 with the weight digits */
        {
                size_t n1, n2;
                red_cell_t *c1 = red_aggregator_cells(into_u, &n1)[0];
                red_cell_t *c2 = red_aggregator_cells(into_w, &n2)[0];
                red_buf_t b;
                char err[256];

                red_buf_init(&b);
                serialize(c1, &b);
                ck_assert_mem_eq(b.data, "RC\x01", 3);
                serialize(c2, &b);
                ck_assert_mem_eq(b.data, "RC\x02\x06", 4);
                b.data[3] = 10; /* no such weight digits */
                ck_assert_int_eq(red_cell_merge_serialized(c1, b.data, b.len,
                                                           err, sizeof(err)),
                                 -EINVAL);
                ck_assert_str_eq(err, "cell state: not a reducerd cell state "
                                      "(version 1 or 2 expected)");
                red_buf_destroy(&b);
        }
        red_aggregator_destroy(truth);
        red_aggregator_destroy(ua);
        red_aggregator_destroy(wa);
        red_aggregator_destroy(into_w);
        red_aggregator_destroy(into_u);
        free(reqs);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("weight");
        TCase *tc = tcase_create("weight");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, dead_letters);
        tcase_add_test(tc, plain_weight_field);
        tcase_add_test(tc, weight_one_is_exact);
        tcase_add_test(tc, sampled_within_error);
        tcase_add_test(tc, weighted_quantiles);
        tcase_add_test(tc, sketch_weighted_ranks);
        tcase_add_test(tc, sketch_rescale);
        tcase_add_test(tc, weighted_merge_is_exact);
        tcase_add_test(tc, states_cross_weighting);
        suite_add_tcase(s, tc);
        return test_main(s);
}
