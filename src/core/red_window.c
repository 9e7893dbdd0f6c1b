/* red_window - UTC calendar window boundaries: hour, day, ISO week, month. */
#include "red_window.h"

#include <errno.h>
#include <string.h>

static const char *const window_names[RED_WINDOW__CNT] = {
    [RED_WINDOW_HOURLY] = "hourly",
    [RED_WINDOW_DAILY] = "daily",
    [RED_WINDOW_WEEKLY] = "weekly",
    [RED_WINDOW_MONTHLY] = "monthly",
};

/* Division rounding towards minus infinity (b > 0): times before 1970 are
 * negative. */
static inline int64_t floor_div(int64_t a, int64_t b)
{
        int64_t q = a / b;

        if ((a % b) < 0) {
                q--;
        }
        return q;
}

/* Days since 1970-01-01 back to the Monday of the ISO week (0 for a Monday). */
static inline int64_t days_since_monday(int64_t days)
{
        /* 1970-01-01 was a Thursday: days + 3 is a multiple of 7 on Mondays. */
        int64_t r = (days + 3) % 7;

        return r < 0 ? r + 7 : r;
}

const char *red_window_type_name(red_window_type_t wt)
{
        if ((unsigned)wt >= RED_WINDOW__CNT) {
                return NULL;
        }
        return window_names[wt];
}

int red_window_type_parse(const char *s, red_window_type_t *out)
{
        int i;

        if (!s || !out) {
                return -EINVAL;
        }
        for (i = 0; i < RED_WINDOW__CNT; i++) {
                if (strcmp(s, window_names[i]) == 0) {
                        *out = (red_window_type_t)i;
                        return 0;
                }
        }
        return -EINVAL;
}

red_time_t red_window_start(red_window_type_t wt, red_time_t t)
{
        int64_t days;
        red_civil_t c;

        switch (wt) {
        case RED_WINDOW_HOURLY:
                return floor_div(t, RED_TIME_US_PER_HOUR) *
                       RED_TIME_US_PER_HOUR;
        case RED_WINDOW_DAILY:
                return floor_div(t, RED_TIME_US_PER_DAY) * RED_TIME_US_PER_DAY;
        case RED_WINDOW_WEEKLY:
                days = floor_div(t, RED_TIME_US_PER_DAY);
                return (days - days_since_monday(days)) * RED_TIME_US_PER_DAY;
        case RED_WINDOW_MONTHLY:
                days = floor_div(t, RED_TIME_US_PER_DAY);
                red_time_to_civil(t, &c);
                return (days - (c.day - 1)) * RED_TIME_US_PER_DAY;
        default:
                return t;
        }
}

red_time_t red_window_end(red_window_type_t wt, red_time_t start)
{
        red_civil_t c;

        switch (wt) {
        case RED_WINDOW_HOURLY:
                return red_window_start(wt, start) + RED_TIME_US_PER_HOUR;
        case RED_WINDOW_DAILY:
                return red_window_start(wt, start) + RED_TIME_US_PER_DAY;
        case RED_WINDOW_WEEKLY:
                return red_window_start(wt, start) + 7 * RED_TIME_US_PER_DAY;
        case RED_WINDOW_MONTHLY:
                red_time_to_civil(start, &c);
                /* from_civil turns month 13 into January of the next year. */
                c.month++;
                c.day = 1;
                c.hour = 0;
                c.minute = 0;
                c.second = 0;
                c.usec = 0;
                return red_time_from_civil(&c);
        default:
                return start;
        }
}

void red_window_starts(red_time_t t, red_time_t starts[RED_WINDOW__CNT])
{
        int64_t days = floor_div(t, RED_TIME_US_PER_DAY);
        int64_t day_start = days * RED_TIME_US_PER_DAY;
        red_civil_t c;

        red_time_to_civil(t, &c);
        /* The hour floor lies within the same day: day start + whole hours. */
        starts[RED_WINDOW_HOURLY] = day_start + c.hour * RED_TIME_US_PER_HOUR;
        starts[RED_WINDOW_DAILY] = day_start;
        starts[RED_WINDOW_WEEKLY] =
            (days - days_since_monday(days)) * RED_TIME_US_PER_DAY;
        starts[RED_WINDOW_MONTHLY] = (days - (c.day - 1)) * RED_TIME_US_PER_DAY;
}
