/*
 * Tests for red_frontier: the bound each partition puts on the reorder
 * frontier, which partition holds it, and the frontier driving the core's
 * release the way the daemon and `reduce` drive it.
 */
#include "red_contract.h"
#include "red_core.h"
#include "red_frontier.h"
#include "red_test.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEC RED_TIME_US_PER_SEC
#define T0  INT64_C(1762423200000000) /* 2025-11-06T10:00:00Z */
#define NOW INT64_C(1762473600000000) /* 2025-11-07T00:00:00Z */

START_TEST(no_partition_no_bound)
{
        red_frontier_t f;

        red_frontier_init(&f, NOW, 2 * SEC);
        ck_assert_int_eq(f.time, INT64_MAX);
        ck_assert_uint_eq(f.holder, SIZE_MAX);
}
END_TEST

START_TEST(bound_per_input)
{
        /* reading: the newest event read */
        ck_assert_int_eq(
                red_frontier_bound(T0, RED_FRONTIER_READING, NOW, 2 * SEC), T0);
        ck_assert_int_eq(red_frontier_bound(INT64_MIN, RED_FRONTIER_READING,
                                            NOW, 2 * SEC),
                         INT64_MIN);
        /* caught up a moment ago: the newest event read, like reading (a
         * live stream of old events is caught up most of the time) */
        ck_assert_int_eq(
                red_frontier_bound(T0, RED_FRONTIER_CAUGHT_UP, NOW, 2 * SEC),
                T0);
        ck_assert_int_eq(red_frontier_bound(INT64_MIN, RED_FRONTIER_CAUGHT_UP,
                                            NOW, 2 * SEC),
                         INT64_MIN);
        /* idle: the later of the newest and the clock - idle_wait */
        ck_assert_int_eq(
                red_frontier_bound(T0, RED_FRONTIER_IDLE, NOW, 2 * SEC),
                NOW - 2 * SEC);
        ck_assert_int_eq(
                red_frontier_bound(NOW - SEC, RED_FRONTIER_IDLE, NOW, 2 * SEC),
                NOW - SEC);
        ck_assert_int_eq(
                red_frontier_bound(INT64_MIN, RED_FRONTIER_IDLE, NOW, 2 * SEC),
                NOW - 2 * SEC);
        /* finished: no bound, whatever it read */
        ck_assert_int_eq(
                red_frontier_bound(T0, RED_FRONTIER_FINISHED, NOW, 2 * SEC),
                INT64_MAX);
}
END_TEST

/* One partition as the caller sees it. */
typedef struct part_in_s {
        red_time_t newest;
        red_frontier_input_t input;
} part_in_t;

#define READ(t)   ((part_in_t){(t), RED_FRONTIER_READING})
#define CAUGHT(t) ((part_in_t){(t), RED_FRONTIER_CAUGHT_UP})
#define IDLE(t)   ((part_in_t){(t), RED_FRONTIER_IDLE})
#define DONE(t)   ((part_in_t){(t), RED_FRONTIER_FINISHED})

/* The frontier at NOW over @p cnt partitions, added with their indexes. */
static red_frontier_t over(int64_t idle_wait_us, const part_in_t *parts,
                           size_t cnt)
{
        red_frontier_t f;

        red_frontier_init(&f, NOW, idle_wait_us);
        for (size_t i = 0; i < cnt; i++) {
                red_frontier_add(&f, i, parts[i].newest, parts[i].input);
        }
        return f;
}

/* over() must give the frontier @p want_t, held by partition @p want_h. */
#define CHECK_OVER(idle, want_t, want_h, ...)                                  \
        do {                                                                   \
                const part_in_t in_[] = {__VA_ARGS__};                         \
                red_frontier_t f_ =                                            \
                        over((idle), in_, sizeof(in_) / sizeof(*in_));         \
                ck_assert_int_eq(f_.time, (want_t));                           \
                ck_assert_uint_eq(f_.holder, (want_h));                        \
        } while (0)

START_TEST(smallest_bound_holds)
{
        CHECK_OVER(2 * SEC, T0 + 10 * SEC, 1, READ(T0 + 30 * SEC),
                   READ(T0 + 10 * SEC), READ(T0 + 20 * SEC));
}
END_TEST

/* Equal bounds: the first partition added holds the frontier. */
START_TEST(first_of_equal_bounds_holds)
{
        CHECK_OVER(2 * SEC, T0, 0, READ(T0), READ(T0));
        CHECK_OVER(2 * SEC, NOW - 2 * SEC, 1, READ(NOW), IDLE(T0),
                   READ(NOW - 2 * SEC));
}
END_TEST

/* A partition that can deliver but has not yet holds everything back. */
START_TEST(silent_reader_holds_everything)
{
        CHECK_OVER(2 * SEC, INT64_MIN, 1, READ(T0), READ(INT64_MIN));
}
END_TEST

/* A quiet topic delays a busy one by idle_wait at most. */
START_TEST(quiet_partition_delays_by_idle_wait)
{
        red_time_t busy = NOW - SEC / 2, hour_ago = NOW - 3600 * SEC;

        /* idle since an hour ago: holds at now - idle_wait */
        CHECK_OVER(2 * SEC, NOW - 2 * SEC, 1, READ(busy), IDLE(hour_ago));
        /* with a short idle_wait the busy partition holds it */
        CHECK_OVER(SEC / 10, busy, 0, READ(busy), IDLE(hour_ago));
        /* old data (a backfill) is not held back by the clock */
        CHECK_OVER(2 * SEC, T0, 0, READ(T0), IDLE(INT64_MIN));
}
END_TEST

/*
 * Issue 12, item 5: a live stream of historic events. The topic of the
 * started events is read to its end for a moment, while the completed
 * events of the same hour wait on another topic: the started partition
 * still holds the frontier at its newest event, or the completed events
 * would overtake the started ones they belong to.
 */
START_TEST(caught_up_for_a_moment_holds)
{
        CHECK_OVER(2 * SEC, T0, 1, READ(T0 + 60 * SEC), CAUGHT(T0));
        /* holds even what it has not delivered yet */
        CHECK_OVER(2 * SEC, INT64_MIN, 1, READ(T0), CAUGHT(INT64_MIN));
}
END_TEST

START_TEST(finished_bounds_nothing)
{
        CHECK_OVER(2 * SEC, T0 + SEC, 1, DONE(T0), READ(T0 + SEC));
        CHECK_OVER(2 * SEC, INT64_MAX, SIZE_MAX, DONE(T0), DONE(INT64_MIN));
}
END_TEST

/* --- the frontier driving the core --------------------------------- */

#define TOPIC "dev.omninode-bridge.codegen.generation-started.v1"

typedef struct input_s {
        char text[512];
        red_msg_t msg;
} input_t;

/* A started event of its own workflow at T0 + @p sec on partition @p part. */
static void started(input_t *in, int32_t part, int64_t offset, int sec)
{
        char ts[RED_TIME_FMT_SIZE];

        red_time_format(T0 + sec * SEC, ts, sizeof(ts));
        snprintf(in->text, sizeof(in->text),
                 "{\"event_type\":\"NODE_GENERATION_STARTED\",\"timestamp\":"
                 "\"%s\",\"payload\":{\"workflow_id\":\"a0000000-0000-4000-"
                 "8000-%012d\",\"node_type\":\"effect\",\"domain\":\"api\"}}",
                 ts, sec);
        memset(&in->msg, 0, sizeof(in->msg));
        in->msg.topic = TOPIC;
        in->msg.partition = part;
        in->msg.offset = offset;
        in->msg.timestamp = -1;
        in->msg.value = in->text;
        in->msg.value_len = strlen(in->text);
}

/* Releases up to the frontier of partitions 0 and 1, applies and commits;
 * returns the event times released, in order, as seconds after T0. */
static size_t release(red_core_t *core, const red_frontier_input_t inp[2],
                      int *secs, size_t max)
{
        red_frontier_t f;
        size_t n;

        red_frontier_init(&f, NOW, 2 * SEC);
        for (int32_t k = 0; k < 2; k++) {
                red_frontier_add(&f, (size_t)k,
                                 red_core_max_time(core, TOPIC, k), inp[k]);
        }
        ck_assert_int_ge(red_core_release(core, f.time, 0), 0);
        n = red_core_released(core);
        ck_assert_uint_le(n, max);
        for (size_t i = 0; i < n; i++) {
                const red_event_t *ev = red_core_released_event(core, i);

                ck_assert_ptr_nonnull(ev);
                secs[i] = (int)((ev->time - T0) / SEC);
        }
        ck_assert_int_eq(red_core_process(core), 0);
        red_core_commit(core);
        return n;
}

START_TEST(frontier_drives_release)
{
        char err[2048];
        red_contract_t *c = red_contract_load(
                test_path("contracts/codegen_metrics.yaml"), err, sizeof(err));
        red_core_t *core;
        input_t in[3];
        const red_frontier_input_t reading[2] = {RED_FRONTIER_READING,
                                                 RED_FRONTIER_READING};
        const red_frontier_input_t p1_done[2] = {RED_FRONTIER_READING,
                                                 RED_FRONTIER_FINISHED};
        const red_frontier_input_t all_done[2] = {RED_FRONTIER_FINISHED,
                                                  RED_FRONTIER_FINISHED};
        int secs[4];

        ck_assert_msg(c != NULL, "%s", err);
        core = red_core_new(c, 1000, INT64_MAX / 2, NULL, NULL, err,
                            sizeof(err));
        ck_assert_msg(core != NULL, "%s", err);

        /* nothing added yet: partition 0 has not spoken, nothing goes */
        ck_assert_uint_eq(release(core, reading, secs, 0), 0);

        /* partition 0 at 0 s and 10 s, partition 1 at 5 s */
        started(&in[0], 0, 0, 0);
        started(&in[1], 0, 1, 10);
        started(&in[2], 1, 0, 5);
        for (int i = 0; i < 3; i++) {
                ck_assert_int_eq(red_core_add(core, &in[i].msg, NOW, NULL), 0);
        }
        ck_assert_uint_eq(red_core_buffered(core), 3);

        /* both reading: the frontier is 5 s, only what is older goes */
        ck_assert_uint_eq(release(core, reading, secs, 3), 1);
        ck_assert_int_eq(secs[0], 0);

        /* partition 1 finished: partition 0's 10 s bounds; 5 s goes, 10 s
         * (not older than the frontier) waits */
        ck_assert_uint_eq(release(core, p1_done, secs, 3), 1);
        ck_assert_int_eq(secs[0], 5);
        ck_assert_uint_eq(red_core_buffered(core), 1);

        /* all finished: the rest goes */
        ck_assert_uint_eq(release(core, all_done, secs, 3), 1);
        ck_assert_int_eq(secs[0], 10);
        ck_assert_uint_eq(red_core_buffered(core), 0);
        ck_assert_uint_eq(red_core_counters(core)->applied, 3);

        red_core_destroy(core);
        red_contract_destroy(c);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("frontier");
        TCase *tc = tcase_create("frontier");

        tcase_add_test(tc, no_partition_no_bound);
        tcase_add_test(tc, bound_per_input);
        tcase_add_test(tc, smallest_bound_holds);
        tcase_add_test(tc, first_of_equal_bounds_holds);
        tcase_add_test(tc, silent_reader_holds_everything);
        tcase_add_test(tc, quiet_partition_delays_by_idle_wait);
        tcase_add_test(tc, caught_up_for_a_moment_holds);
        tcase_add_test(tc, finished_bounds_nothing);
        tcase_add_test(tc, frontier_drives_release);
        suite_add_tcase(s, tc);
        return test_main(s);
}
