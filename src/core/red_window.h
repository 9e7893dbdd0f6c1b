/*
 * red_window - event-time calendar windows: hourly, daily, weekly (ISO
 * week, Monday 00:00) and monthly (calendar month), in UTC or in a time
 * zone.
 *
 * A window is the half-open interval [start, end) of red_time_t
 * microseconds; an instant exactly on a boundary belongs to the window that
 * starts there. All functions are pure and work on plain values; they are
 * defined for instants between years 0000 and 9999 (far wider in practice,
 * but the int64 edges are not guarded).
 */
#ifndef RED_WINDOW_H
#define RED_WINDOW_H

#include "red_attr.h"
#include "red_time.h"
#include "red_tz.h"

typedef enum {
        RED_WINDOW_HOURLY,
        RED_WINDOW_DAILY,
        RED_WINDOW_WEEKLY,
        RED_WINDOW_MONTHLY,
        RED_WINDOW__CNT
} red_window_type_t;

/** "hourly", "daily", "weekly", "monthly" (static), or NULL for a bad type. */
const char *red_window_type_name(red_window_type_t wt);

/**
 * Parses an exact lowercase window type name (NUL-terminated, borrowed).
 * Returns 0 and sets *out, or -EINVAL for NULL or an unknown name.
 */
int red_window_type_parse(const char *s, red_window_type_t *out) RED_MUSTCHECK;

/**
 * Start of the window of type @p wt that contains @p t: the hour floor;
 * 00:00 UTC of the day; Monday 00:00 UTC of the ISO week; the 1st of the
 * month 00:00 UTC. An invalid @p wt returns @p t unchanged.
 */
red_time_t red_window_start(red_window_type_t wt, red_time_t t);

/**
 * The first boundary strictly after @p start, i.e. the exclusive end of the
 * window that contains @p start (normally called with a window start).
 * Hourly/daily/weekly add 1 h / 1 d / 7 d; monthly goes to the 1st of the
 * next month (28..31 days later, December to January of the next year).
 * An invalid @p wt returns @p start unchanged.
 */
red_time_t red_window_end(red_window_type_t wt, red_time_t start);

/**
 * All window starts of @p t at once, indexed by red_window_type_t, with the
 * civil date computed once (hot path). Equal to calling red_window_start()
 * for each type.
 */
void red_window_starts(red_time_t t, red_time_t starts[RED_WINDOW__CNT]);


/*
 * Windows in a time zone (red_tz_t from base/red_tz.h; NULL = UTC, with
 * exactly the results of the UTC functions above).
 *
 * Windows are defined by local wall-clock labels: the label of an instant
 * is its local time floored to the unit (the hour, the day, the ISO week
 * from Monday, the month). A window starts at the first instant that
 * carries its label and ends where the next label starts; the windows of
 * one type tile the timeline without gaps or overlaps. Hence:
 * - hourly windows are local clock hours: in Asia/Kathmandu (+05:45) they
 *   start at :15 UTC; the hour repeated at a fall-back is one window of
 *   two hours (Berlin, 2026-10-25: 02:00 CEST to 03:00 CET); an hour
 *   skipped at a spring-forward has no window; a 30-minute shift (Lord
 *   Howe) makes a 30- or 90-minute window;
 * - days start at local midnight and last 23, 24 or 25 hours; where
 *   midnight does not exist (a DST gap at midnight, e.g. America/Santiago)
 *   the day starts at the transition, where it occurs twice (a fall-back
 *   from 01:00 to 00:00, e.g. America/Havana) at the first one;
 * - weeks start on Monday's local midnight, months on the 1st's;
 * - hours nest in days, and days in weeks and months: every day, week or
 *   month boundary is an hour boundary, and every week or month boundary a
 *   day boundary.
 * Time never runs backwards for windows: where a fall-back crosses a label
 * boundary, the repeated part stays in the newer window, i.e. the label is
 * that of the latest local time reached so far. Pacific/Chatham falls back
 * from 03:45 to 02:45 every April: 02:45-03:00 comes again after 03:00 and
 * belongs to hour 03, which thus lasts two hours.
 *
 * All three are pure and thread-safe on a loaded zone. An invalid @p wt
 * returns the instant unchanged, like the UTC functions.
 */

/** Start of the window of type @p wt in zone @p tz that contains @p t. */
red_time_t red_window_start_tz(red_window_type_t wt, red_time_t t,
                               const red_tz_t *tz);

/**
 * The exclusive end of the window of type @p wt in zone @p tz that
 * contains @p start (normally called with a window start), i.e. the start
 * of the next window.
 */
red_time_t red_window_end_tz(red_window_type_t wt, red_time_t start,
                             const red_tz_t *tz);

/**
 * All window starts of @p t in zone @p tz, indexed by red_window_type_t:
 * equal to calling red_window_start_tz() for each type, with the zone
 * looked up once (hot path).
 */
void red_window_starts_tz(red_time_t t, const red_tz_t *tz,
                          red_time_t starts[RED_WINDOW__CNT]);

#endif
