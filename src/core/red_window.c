/* red_window - calendar window boundaries in UTC or in a time zone. */
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

/* --- windows in a time zone ---------------------------------------------- */

/*
 * A zoned window is computed on local wall-clock values (the instant plus
 * its offset, floored with the UTC calendar code above, which is just
 * arithmetic on a time line) and mapped back to the first instant whose
 * local time reaches the label. The zone's offset range bounds both
 * searches, so they touch only the transitions near the answer.
 */

/* What the three zoned functions need to know about an instant. */
typedef struct zoned_s {
        const red_tz_t *tz;
        red_tz_span_t span; /* the instant's span of constant offset */
        red_time_t reached; /* the latest local time reached so far */
        int32_t max_off;    /* the zone's largest offset */
} zoned_t;

static inline red_time_t off_us(int32_t off)
{
        return (red_time_t)off * RED_TIME_US_PER_SEC;
}

/*
 * The latest local time reached up to @p t: t's own local time, unless a
 * fall-back shortly before set the clocks back and they have not caught up
 * yet. A fall-back rewinds by at most @p jump_us (the zone's offset range),
 * so only transitions that recent are looked at.
 */
static void zoned_init(zoned_t *z, const red_tz_t *tz, red_time_t t)
{
        red_tz_span_t s;
        int32_t min_off;
        red_time_t jump_us;

        z->tz = tz;
        red_tz_offset_range(tz, &min_off, &z->max_off);
        jump_us = off_us(z->max_off) - off_us(min_off);
        red_tz_span(tz, t, &z->span);
        z->reached = t + off_us(z->span.off);
        s = z->span;
        while (s.start != INT64_MIN && t - s.start < jump_us) {
                if (s.off_before > s.off) {
                        /* local time just before the clocks went back */
                        red_time_t before = s.start - 1 + off_us(s.off_before);

                        if (before > z->reached) {
                                z->reached = before;
                        }
                }
                red_tz_span(tz, s.start - 1, &s);
        }
}

/*
 * The first instant whose local time is at least @p label, i.e. where the
 * window labelled @p label starts (at a transition when the label falls in
 * a gap, at the earlier instant when it occurs twice).
 */
static red_time_t zoned_first(const zoned_t *z, red_time_t label)
{
        /* local time never exceeds instant + max_off: nothing before lo */
        red_time_t lo = label - off_us(z->max_off);
        red_tz_span_t s = z->span;

        if (lo < s.start || lo >= s.end) {
                red_tz_span(z->tz, lo, &s);
        }
        for (;;) {
                red_time_t at = label - off_us(s.off);

                if (at < s.start) {
                        at = s.start; /* the clocks jumped over the label */
                }
                if (at < s.end) {
                        return at;
                }
                red_tz_span(z->tz, s.end, &s);
        }
}

/* @p bound (red_window_start or red_window_end) of @p t in zone @p tz. */
static red_time_t
zoned_bound(red_time_t (*bound)(red_window_type_t, red_time_t),
            red_window_type_t wt, red_time_t t, const red_tz_t *tz)
{
        zoned_t z;

        if (!tz || (unsigned)wt >= RED_WINDOW__CNT) {
                return bound(wt, t);
        }
        zoned_init(&z, tz, t);
        /* both floor the local time to its label first */
        return zoned_first(&z, bound(wt, z.reached));
}

red_time_t red_window_start_tz(red_window_type_t wt, red_time_t t,
                               const red_tz_t *tz)
{
        return zoned_bound(red_window_start, wt, t, tz);
}

red_time_t red_window_end_tz(red_window_type_t wt, red_time_t start,
                             const red_tz_t *tz)
{
        return zoned_bound(red_window_end, wt, start, tz);
}

void red_window_starts_tz(red_time_t t, const red_tz_t *tz,
                          red_time_t starts[RED_WINDOW__CNT])
{
        red_time_t labels[RED_WINDOW__CNT];
        zoned_t z;
        int i;

        if (!tz) {
                red_window_starts(t, starts);
                return;
        }
        zoned_init(&z, tz, t);
        red_window_starts(z.reached, labels);
        for (i = 0; i < RED_WINDOW__CNT; i++) {
                starts[i] = zoned_first(&z, labels[i]);
        }
}
