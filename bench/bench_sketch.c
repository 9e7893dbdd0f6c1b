/* Micro-benchmark of red_sketch: add against a log() baseline, merge, format.
 */
#include "red_sketch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define N_ADDS       10000000
#define RING         (1 << 20) /* distinct input values, cycled */
#define ROUNDS       3         /* best of, to dodge scheduler noise */
#define N_MERGES     20000
#define N_SERIALIZES 20000
#define N_QUANTILES  200000

static volatile double sink;

static double now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* splitmix64 + Box-Muller: lognormal like request latencies in ms. */
static uint64_t rng_state = 0x5eed;

static double rng_uniform(void)
{
        uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));

        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        z ^= z >> 31;
        return ((double)(z >> 11) + 0.5) * 0x1p-53;
}

static double rng_lognormal(void)
{
        double u1 = rng_uniform(), u2 = rng_uniform();
        double n = sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);

        return exp(3 + 1.5 * n);
}

static red_sketch_t *new_sketch(void)
{
        char errstr[256];
        red_sketch_t *sk;

        sk = red_sketch_new(RED_SKETCH_DEFAULT_ALPHA, errstr, sizeof(errstr));
        if (!sk) {
                fprintf(stderr, "bench_sketch: %s\n", errstr);
                exit(1);
        }
        return sk;
}

static red_sketch_t *filled_sketch(size_t n)
{
        red_sketch_t *sk = new_sketch();

        for (size_t i = 0; i < n; i++) {
                if (red_sketch_add(sk, rng_lognormal()) != 0) {
                        fprintf(stderr, "bench_sketch: add failed\n");
                        exit(1);
                }
        }
        return sk;
}

int main(void)
{
        double *vals = malloc(RING * sizeof(*vals));
        double best_add = INFINITY, best_base = INFINITY, t0, ns;
        red_sketch_t *sk, *src, *dst, *back;
        uint8_t *buf;
        size_t len;
        int failed = 0;

        if (!vals) {
                return 1;
        }
        for (size_t i = 0; i < RING; i++) {
                vals[i] = rng_lognormal();
        }

        for (int round = 0; round < ROUNDS; round++) {
                t0 = now_ns();
                for (size_t i = 0; i < N_ADDS; i++) {
                        sink = log(vals[i & (RING - 1)]);
                }
                ns = (now_ns() - t0) / N_ADDS;
                best_base = ns < best_base ? ns : best_base;

                sk = new_sketch();
                t0 = now_ns();
                for (size_t i = 0; i < N_ADDS; i++) {
                        failed |= red_sketch_add(sk, vals[i & (RING - 1)]);
                }
                ns = (now_ns() - t0) / N_ADDS;
                best_add = ns < best_add ? ns : best_add;
                sink = red_sketch_quantile(sk, 0.99);
                red_sketch_destroy(sk);
        }
        if (failed) {
                fprintf(stderr, "bench_sketch: add failed\n");
                return 1;
        }
        printf("sketch add: %.1f ns/add, %.1f Madds/s "
               "(%d adds of lognormal values, best of %d)\n",
               best_add, 1e3 / best_add, N_ADDS, ROUNDS);
        printf("log() baseline: %.1f ns/value; add/baseline ratio %.2f\n",
               best_base, best_add / best_base);

        /* Merge: an hourly sketch into a daily one (steady state). */
        src = filled_sketch(100000);
        dst = filled_sketch(100000);
        t0 = now_ns();
        for (int i = 0; i < N_MERGES; i++) {
                failed |= red_sketch_merge(dst, src);
        }
        ns = (now_ns() - t0) / N_MERGES;
        printf("sketch merge: %.0f ns/merge (1e5-value sketches)\n", ns);

        /* Serialise / deserialise a 1e6-value sketch. */
        sk = filled_sketch(1000000);
        len = red_sketch_serialize(sk, NULL, 0);
        buf = malloc(len);
        if (!buf) {
                return 1;
        }
        t0 = now_ns();
        for (int i = 0; i < N_SERIALIZES; i++) {
                if (red_sketch_serialize(sk, buf, len) != len) {
                        failed = 1;
                }
        }
        ns = (now_ns() - t0) / N_SERIALIZES;
        printf("sketch serialize: %.0f ns, %zu bytes (1e6 values; "
               "1e5 values: %zu bytes)\n",
               ns, len, red_sketch_serialize(src, NULL, 0));
        t0 = now_ns();
        for (int i = 0; i < N_SERIALIZES; i++) {
                back = red_sketch_deserialize(buf, len, NULL, 0);
                failed |= !back || !red_sketch_equal(back, sk);
                red_sketch_destroy(back);
        }
        ns = (now_ns() - t0) / N_SERIALIZES;
        printf("sketch deserialize: %.0f ns (with equality check)\n", ns);

        t0 = now_ns();
        for (int i = 0; i < N_QUANTILES; i++) {
                sink = red_sketch_quantile(sk, (i % 1000) / 1000.0);
        }
        ns = (now_ns() - t0) / N_QUANTILES;
        printf("sketch quantile: %.0f ns/query\n", ns);

        red_sketch_destroy(sk);
        red_sketch_destroy(src);
        red_sketch_destroy(dst);
        free(buf);
        free(vals);
        if (failed) {
                fprintf(stderr, "bench_sketch: an operation failed\n");
                return 1;
        }
        return 0;
}
