/*
 * Tests for red_seen, the in-memory filter of stored dedupe keys: the
 * three verdicts by horizon and coverage, evicted keys kept in Bloom
 * filters (a full filter asks about them, never misjudges), dropped
 * generations asked about, coverage lost on reassignment, and the index
 * staying exact through many evictions.
 */
#include "red_seen.h"
#include "red_test.h"

#include <stdlib.h>

#define H  (7 * RED_TIME_US_PER_DAY)
#define T0 INT64_C(1762423200000000) /* 2025-11-06T10:00:00Z */

static uint64_t mix(uint64_t x)
{
        x += 0x9e3779b97f4a7c15ull;
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
        return x ^ (x >> 31);
}

START_TEST(verdicts)
{
        red_seen_t *s = red_seen_new(100, H);

        ck_assert_ptr_nonnull(s);
        /* nothing known of partition 0: the table decides */
        ck_assert_int_eq(red_seen_check(s, 0, mix(1), T0), RED_SEEN_ASK);
        ck_assert(!red_seen_covered(s, 0));
        ck_assert_int_eq(red_seen_cover(s, 0, INT64_MIN), 0);
        ck_assert(red_seen_covered(s, 0));
        ck_assert_int_eq(red_seen_check(s, 0, mix(1), T0), RED_SEEN_NEW);
        ck_assert_int_eq(red_seen_add(s, 0, mix(1), T0), 0);
        /* within the horizon either way, whatever the partition */
        ck_assert_int_eq(red_seen_check(s, 0, mix(1), T0 + H), RED_SEEN_DUP);
        ck_assert_int_eq(red_seen_check(s, 0, mix(1), T0 - H), RED_SEEN_DUP);
        ck_assert_int_eq(red_seen_check(s, 5, mix(1), T0), RED_SEEN_DUP);
        ck_assert_int_eq(red_seen_check(s, 0, mix(1), T0 + H + 1),
                         RED_SEEN_NEW);
        ck_assert_int_eq(red_seen_check(s, 0, mix(2), T0), RED_SEEN_NEW);
        /* another partition: NEW only for what its coverage reaches */
        ck_assert_int_eq(red_seen_check(s, 5, mix(2), T0), RED_SEEN_ASK);
        ck_assert_int_eq(red_seen_cover(s, 5, T0 - H), 0);
        ck_assert_int_eq(red_seen_check(s, 5, mix(2), T0), RED_SEEN_NEW);
        ck_assert_int_eq(red_seen_check(s, 5, mix(2), T0 - 1), RED_SEEN_ASK);
        /* assigned again: others may have stored keys of it */
        red_seen_uncover(s, 5);
        ck_assert_int_eq(red_seen_check(s, 5, mix(2), T0), RED_SEEN_ASK);
        ck_assert_int_eq(red_seen_check(s, 5, mix(1), T0), RED_SEEN_DUP);
        red_seen_uncover(s, 99); /* never seen: nothing happens */
        /* a key stored twice, far apart: both count */
        ck_assert_int_eq(red_seen_add(s, 0, mix(1), T0 + 3 * H), 0);
        ck_assert_int_eq(red_seen_check(s, 0, mix(1), T0 + 2 * H),
                         RED_SEEN_DUP);
        ck_assert_int_eq(red_seen_check(s, 0, mix(1), T0 + 4 * H),
                         RED_SEEN_DUP);
        ck_assert_uint_eq(red_seen_count(s), 2);
        red_seen_destroy(s);
        red_seen_destroy(NULL);
}
END_TEST

START_TEST(full_filter_asks)
{
        red_seen_t *s = red_seen_new(4, H);

        ck_assert_int_eq(red_seen_cover(s, 2, T0 - 10 * H), 0);
        for (int i = 0; i < 5; i++) {
                ck_assert_int_eq(red_seen_add(s, 2, mix((uint64_t)i),
                                              T0 + i * RED_TIME_US_PER_SEC),
                                 0);
        }
        ck_assert_uint_eq(red_seen_count(s), 4);
        /* the first key went into the Bloom filter of evicted keys: it is
         * asked about (the table decides), while a key never stored is
         * still new, whether its horizon reaches the first key's time or
         * not */
        ck_assert_int_eq(red_seen_check(s, 2, mix(0), T0), RED_SEEN_ASK);
        ck_assert_int_eq(red_seen_check(s, 2, mix(0), T0 + H), RED_SEEN_ASK);
        ck_assert_int_eq(red_seen_check(s, 2, mix(0), T0 + H + 1),
                         RED_SEEN_NEW);
        ck_assert_int_eq(red_seen_check(s, 2, mix(99), T0 + H), RED_SEEN_NEW);
        ck_assert_int_eq(red_seen_check(s, 2, mix(99), T0 + H + 1),
                         RED_SEEN_NEW);
        for (int i = 1; i < 5; i++) {
                ck_assert_int_eq(red_seen_check(s, 2, mix((uint64_t)i), T0),
                                 RED_SEEN_DUP);
        }
        red_seen_destroy(s);
}
END_TEST

/* Many keys through a small filter: the held ones are found, the evicted
 * ones are asked about (the index removes exactly what it should). */
START_TEST(index_through_evictions)
{
        const size_t cap = 3000, n = 50000;
        red_seen_t *s = red_seen_new(cap, 0);

        ck_assert_int_eq(red_seen_cover(s, 1, INT64_MIN), 0);
        for (size_t i = 0; i < n; i++) {
                /* few hash bits differ: long probe runs, shifted often */
                uint64_t h = mix(i % 977) & ~UINT64_C(0x1ffff);
                ck_assert_int_eq(
                        red_seen_add(s, 1, h ^ (i << 17), T0 + (red_time_t)i),
                        0);
        }
        ck_assert_uint_eq(red_seen_count(s), cap);
        for (size_t i = 0; i < n; i++) {
                uint64_t h = (mix(i % 977) & ~UINT64_C(0x1ffff)) ^ (i << 17);
                red_seen_verdict_t v =
                        red_seen_check(s, 1, h, T0 + (red_time_t)i);
                ck_assert_int_eq(v, i >= n - cap ? RED_SEEN_DUP : RED_SEEN_ASK);
        }
        red_seen_destroy(s);
}
END_TEST

/* Far more keys than the ring holds: no evicted key is ever called new
 * (a Bloom filter has no false negatives), and keys never stored are
 * new but for the filter's rare false "maybe". */
START_TEST(evicted_keys_stay_known)
{
        const size_t cap = 1000, n = 15000, fresh = 20000;
        red_seen_t *s = red_seen_new(cap, H);
        size_t asked = 0;

        ck_assert_int_eq(red_seen_cover(s, 0, INT64_MIN), 0);
        for (size_t i = 0; i < n; i++) {
                ck_assert_int_eq(red_seen_add(s, 0, mix(i), T0 + (red_time_t)i),
                                 0);
        }
        for (size_t i = 0; i < n; i++) {
                red_seen_verdict_t v = red_seen_check(s, 0, mix(i), T0);
                ck_assert_int_eq(v, i >= n - cap ? RED_SEEN_DUP : RED_SEEN_ASK);
        }
        for (size_t i = 0; i < fresh; i++) {
                asked += red_seen_check(s, 0, mix(n + i), T0) == RED_SEEN_ASK;
        }
        /* 16.4 bits (16384 for 1000 keys) and 7 probes per key: about 1
         * in 1 600 per generation, here 14 of them */
        ck_assert_uint_lt(asked, fresh / 50);
        red_seen_destroy(s);
}
END_TEST

/* Beyond 16 generations the oldest is dropped: the keys of its time range
 * are asked about again, newer ones are not. */
START_TEST(dropped_generation_is_asked)
{
        const size_t cap = 50, n = 50 * 20;
        red_seen_t *s = red_seen_new(cap, RED_TIME_US_PER_SEC);

        ck_assert_int_eq(red_seen_cover(s, 0, INT64_MIN), 0);
        for (size_t i = 0; i < n; i++) {
                /* one key a second */
                ck_assert_int_eq(
                        red_seen_add(s, 0, mix(i),
                                     T0 + (red_time_t)i * RED_TIME_US_PER_SEC),
                        0);
        }
        /* 950 evicted in 19 generations of 50: the first three dropped,
         * so keys 0..149 are unknown now */
        for (size_t i = 0; i < 150; i++) {
                ck_assert_int_eq(
                        red_seen_check(s, 0, mix(i),
                                       T0 + (red_time_t)i *
                                                       RED_TIME_US_PER_SEC),
                        RED_SEEN_ASK);
        }
        /* a key never stored, at a time whose horizon reaches the dropped
         * range, is asked about; later than that it is new */
        ck_assert_int_eq(red_seen_check(s, 0, mix(n + 1),
                                        T0 + 150 * RED_TIME_US_PER_SEC),
                         RED_SEEN_ASK);
        ck_assert_int_eq(red_seen_check(s, 0, mix(n + 1),
                                        T0 + 151 * RED_TIME_US_PER_SEC),
                         RED_SEEN_NEW);
        for (size_t i = 150; i < n; i++) {
                ck_assert_int_ne(
                        red_seen_check(s, 0, mix(i),
                                       T0 + (red_time_t)i *
                                                       RED_TIME_US_PER_SEC),
                        RED_SEEN_NEW);
        }
        red_seen_destroy(s);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("seen");
        TCase *tc = tcase_create("seen");

        tcase_add_test(tc, verdicts);
        tcase_add_test(tc, full_filter_asks);
        tcase_add_test(tc, index_through_evictions);
        tcase_add_test(tc, evicted_keys_stay_known);
        tcase_add_test(tc, dropped_generation_is_asked);
        suite_add_tcase(s, tc);
        return test_main(s);
}
