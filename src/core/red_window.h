/*
 * red_window - event-time calendar windows in UTC: hourly, daily, weekly
 * (ISO week, Monday 00:00) and monthly (calendar month).
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
int red_window_type_parse(const char *s, red_window_type_t *out)
    RED_MUSTCHECK;

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

#endif
