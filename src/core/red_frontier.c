/* red_frontier - the event-time reorder frontier over a set of partitions. */
#include "red_frontier.h"

void red_frontier_init(red_frontier_t *f, red_time_t now, int64_t idle_wait_us)
{
        f->now = now;
        f->idle_wait_us = idle_wait_us;
        f->time = INT64_MAX;
        f->holder = SIZE_MAX;
}

red_time_t red_frontier_bound(red_time_t newest, red_frontier_input_t input,
                              red_time_t now, int64_t idle_wait_us)
{
        red_time_t idle;

        switch (input) {
        case RED_FRONTIER_FINISHED:
                return INT64_MAX;
        case RED_FRONTIER_IDLE:
                /* a producer on a quiet topic may still send events as
                 * old as the clock minus idle_wait */
                idle = now - idle_wait_us;
                return newest > idle ? newest : idle;
        case RED_FRONTIER_CAUGHT_UP:
                /* the next event is no older than the last one, even if
                 * it comes a moment later */
        case RED_FRONTIER_READING:
        default:
                return newest;
        }
}

void red_frontier_add(red_frontier_t *f, size_t idx, red_time_t newest,
                      red_frontier_input_t input)
{
        red_time_t t =
                red_frontier_bound(newest, input, f->now, f->idle_wait_us);

        if (t < f->time) {
                f->time = t;
                f->holder = idx;
        }
}
