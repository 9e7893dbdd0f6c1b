/* Unit: red_discovery, the etcd mirror's wanted and held keys compared. */
#include "red_discovery.h"
#include "red_test.h"

#include <stdlib.h>
#include <string.h>

static void add(red_discovery_set_t *s, const char *key, const char *value,
                int64_t ttl, int64_t lease)
{
        ck_assert_int_eq(red_discovery_set_add(s, key, value, ttl, lease), 0);
}

static int64_t lease_of(void *opaque, int64_t ttl_s)
{
        (void)opaque;
        return ttl_s == 90 ? 7 : ttl_s == 30 ? 8 : 0;
}

/* Every key of both sets in one state; repairs in key order. */
START_TEST(diff_states)
{
        red_discovery_set_t want, have;
        red_discovery_action_t *acts;
        size_t counts[RED_DISCOVERY__CNT];
        long n;

        red_discovery_set_init(&want);
        red_discovery_set_init(&have);
        /* unsorted on purpose */
        add(&want, "/p/d", "{\"d\":1}", 90, 0);
        add(&want, "/p/a", "{\"a\":1}", 90, 0);
        add(&want, "/p/b", "{\"b\":1}", 30, 0);
        add(&want, "/p/c", "{\"c\":1}", 90, 0);
        add(&have, "/p/c", "{\"c\":2}", 0, 7); /* changed value */
        add(&have, "/p/a", "{\"a\":1}", 0, 7); /* agrees */
        add(&have, "/p/b", "{\"b\":1}", 0, 7); /* wrong lease */
        add(&have, "/p/z", "{}", 0, 0);        /* stray */
        red_discovery_set_sort(&want);
        red_discovery_set_sort(&have);
        n = red_discovery_diff(&want, &have, lease_of, NULL, &acts, counts);
        ck_assert_int_eq(n, 4);
        ck_assert_int_eq(counts[RED_DISCOVERY_AGREE], 1);
        ck_assert_int_eq(counts[RED_DISCOVERY_DIFFERENT], 2);
        ck_assert_int_eq(counts[RED_DISCOVERY_MISSING], 1);
        ck_assert_int_eq(counts[RED_DISCOVERY_STRAY], 1);
        ck_assert_int_eq(acts[0].state, RED_DISCOVERY_DIFFERENT);
        ck_assert_str_eq(acts[0].want->key, "/p/b");
        ck_assert_int_eq(acts[1].state, RED_DISCOVERY_DIFFERENT);
        ck_assert_str_eq(acts[1].want->key, "/p/c");
        ck_assert_int_eq(acts[2].state, RED_DISCOVERY_MISSING);
        ck_assert_str_eq(acts[2].want->key, "/p/d");
        ck_assert_ptr_null(acts[2].have);
        ck_assert_int_eq(acts[3].state, RED_DISCOVERY_STRAY);
        ck_assert_str_eq(acts[3].have->key, "/p/z");
        ck_assert_ptr_null(acts[3].want);
        ck_assert_double_eq_tol(red_discovery_ratio(counts), 1.0 / 5, 1e-12);
        free(acts);

        /* without lease comparison, b agrees */
        n = red_discovery_diff(&want, &have, NULL, NULL, &acts, counts);
        ck_assert_int_eq(n, 3);
        ck_assert_int_eq(counts[RED_DISCOVERY_AGREE], 2);
        free(acts);
        red_discovery_set_destroy(&want);
        red_discovery_set_destroy(&have);
}
END_TEST

/* Nothing on either side: everything agrees; one side empty: all drift. */
START_TEST(diff_edges)
{
        red_discovery_set_t want, have;
        red_discovery_action_t *acts;
        size_t counts[RED_DISCOVERY__CNT];

        red_discovery_set_init(&want);
        red_discovery_set_init(&have);
        ck_assert_int_eq(
                red_discovery_diff(&want, &have, NULL, NULL, &acts, counts), 0);
        ck_assert_ptr_null(acts);
        ck_assert_double_eq(red_discovery_ratio(counts), 1.0);
        add(&have, "/p/x", "1", 0, 0);
        add(&have, "/p/y", "1", 0, 0);
        ck_assert_int_eq(
                red_discovery_diff(&want, &have, NULL, NULL, &acts, counts), 2);
        ck_assert_int_eq(counts[RED_DISCOVERY_STRAY], 2);
        ck_assert_double_eq(red_discovery_ratio(counts), 0.0);
        free(acts);
        red_discovery_set_move(&want, &have);
        ck_assert_int_eq(want.cnt, 2);
        ck_assert_int_eq(have.cnt, 0);
        ck_assert_int_eq(
                red_discovery_diff(&want, &have, NULL, NULL, &acts, counts), 2);
        ck_assert_int_eq(counts[RED_DISCOVERY_MISSING], 2);
        free(acts);
        red_discovery_set_destroy(&want);
        red_discovery_set_destroy(&have);
}
END_TEST

START_TEST(ttl)
{
        ck_assert_int_eq(red_discovery_ttl(10, true, 30, 3), 30);
        ck_assert_int_eq(red_discovery_ttl(0.4, true, 30, 3), 2);
        ck_assert_int_eq(red_discovery_ttl(0, true, 30, 3), 90);
        ck_assert_int_eq(red_discovery_ttl(-5, true, 30, 3), 90);
        ck_assert_int_eq(red_discovery_ttl(10, false, 30, 3), 90);
        ck_assert_int_eq(red_discovery_ttl(0.01, true, 30, 1), 1);
        ck_assert_int_eq(red_discovery_ttl(1e300, true, 30, 3), 1000000000);
        ck_assert_str_eq(red_discovery_state_name(RED_DISCOVERY_STRAY),
                         "stray");
}
END_TEST

int main(void)
{
        Suite *s = suite_create("discovery");
        TCase *tc = tcase_create("discovery");

        tcase_add_test(tc, diff_states);
        tcase_add_test(tc, diff_edges);
        tcase_add_test(tc, ttl);
        suite_add_tcase(s, tc);
        return test_main(s);
}
