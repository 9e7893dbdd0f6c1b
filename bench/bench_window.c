/* Micro-benchmark of zoned window starts against the UTC hot path. */
#include "red_window.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define N_CALLS 4000000
#define RING    (1 << 16) /* distinct instants, cycled */
#define ROUNDS  3         /* best of, to dodge scheduler noise */

static volatile red_time_t sink;

static double now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Instants spread over [from, from + span) like event times of a stream. */
static red_time_t *make_ring(red_time_t from, red_time_t span)
{
        red_time_t *ring = malloc(RING * sizeof(*ring));
        uint64_t x = 0x243f6a8885a308d3u;

        if (!ring) {
                exit(1);
        }
        for (size_t i = 0; i < RING; i++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                ring[i] = from + (red_time_t)(x % (uint64_t)span);
        }
        return ring;
}

/* Best ns per red_window_starts_tz() call (tz NULL: red_window_starts). */
static double time_starts(const red_time_t *ring, const red_tz_t *tz,
                          int utc_plain)
{
        red_time_t starts[RED_WINDOW__CNT];
        double best = 1e30;

        for (int round = 0; round < ROUNDS; round++) {
                double t0 = now_ns(), ns;

                for (size_t i = 0; i < N_CALLS; i++) {
                        if (utc_plain) {
                                red_window_starts(ring[i & (RING - 1)], starts);
                        } else {
                                red_window_starts_tz(ring[i & (RING - 1)], tz,
                                                     starts);
                        }
                        sink = starts[RED_WINDOW_MONTHLY];
                }
                ns = (now_ns() - t0) / N_CALLS;
                best = ns < best ? ns : best;
        }
        return best;
}

static red_tz_t *load(const char *name)
{
        char err[512];
        red_tz_t *tz = red_tz_load(name, err, sizeof(err));

        if (!tz) {
                fprintf(stderr, "bench_window: %s\n", err);
                exit(1);
        }
        return tz;
}

int main(void)
{
        static const char *const zones[] = {"Europe/Berlin", "Asia/Kathmandu",
                                            "Australia/Lord_Howe"};
        /* 2024-01-01 .. 2028-01-01, and 2100 (the footer rule's years) */
        red_time_t *now =
                make_ring(INT64_C(1704067200000000), INT64_C(126230400000000));
        red_time_t *later =
                make_ring(INT64_C(4102444800000000), INT64_C(31536000000000));
        double base = time_starts(now, NULL, 1), ns;

        printf("red_window_starts (UTC): %.1f ns/call (%d calls, best of "
               "%d)\n",
               base, N_CALLS, ROUNDS);
        ns = time_starts(now, NULL, 0);
        printf("red_window_starts_tz(NULL): %.1f ns/call, ratio %.2f\n", ns,
               ns / base);
        for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
                red_tz_t *tz = load(zones[z]);
                double ns_later = time_starts(later, tz, 0);

                ns = time_starts(now, tz, 0);
                printf("red_window_starts_tz(%s): %.1f ns/call, ratio %.2f; "
                       "in 2100 (rule evaluated): %.1f ns/call, ratio %.2f\n",
                       zones[z], ns, ns / base, ns_later, ns_later / base);
                red_tz_destroy(tz);
        }
        free(now);
        free(later);
        return 0;
}
