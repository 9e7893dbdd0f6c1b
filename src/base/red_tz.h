/*
 * red_tz - time zones from the system's tzdata (TZif files) with pure,
 * thread-safe UTC-offset lookups.
 *
 * A zone is loaded once from $TZDIR/<name> (default /usr/share/zoneinfo,
 * Debian's tzdata package), e.g. "Europe/Berlin"; "UTC" is built in and
 * needs no file. The file's 64-bit data (TZif version 2 or later, RFC 8536)
 * gives the transitions; its footer, a POSIX TZ string such as
 * "CET-1CEST,M3.5.0,M10.5.0/3", gives the rule for instants after the last
 * one. Nothing here reads or sets the process's TZ or calls
 * localtime_r/mktime/tzset: a loaded zone is immutable, and every lookup is
 * a pure function of (zone, instant), safe to call from any thread at once.
 *
 * Offsets are seconds east of UTC (Berlin in winter: 3600, New York in
 * winter: -18000). A transition is an instant at which the UTC offset
 * changes; a change of only the abbreviation or the DST flag is none.
 * Leap-second zones (the "right/" tree) are refused: red_time_t counts no
 * leap seconds. Lookups accept a NULL zone and treat it as UTC.
 */
#ifndef RED_TZ_H
#define RED_TZ_H

#include "red_attr.h"
#include "red_time.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct red_tz_s red_tz_t;

/** A change of UTC offset: a plain value. */
typedef struct red_tz_transition_s {
        red_time_t at;      /**< first instant with the new offset */
        int32_t off_before; /**< seconds east of UTC before @c at */
        int32_t off_after;  /**< seconds east of UTC from @c at on */
} red_tz_transition_t;

/**
 * The longest interval around an instant during which the offset does not
 * change: [start, end), bounded by the previous and the next transition.
 */
typedef struct red_tz_span_s {
        red_time_t start;   /**< the previous transition, or INT64_MIN */
        red_time_t end;     /**< the next transition, or INT64_MAX */
        int32_t off;        /**< seconds east of UTC in [start, end) */
        int32_t off_before; /**< offset before start (off if none) */
        int32_t off_after;  /**< offset from end on (off if none) */
} red_tz_span_t;

/**
 * Loads the zone @p name (borrowed), an IANA name such as "Europe/Berlin"
 * or "America/Argentina/Buenos_Aires": letters, digits, '/', '_', '-', '+'
 * and '.', not starting with '/' and without "..". The file is
 * $TZDIR/<name>, or /usr/share/zoneinfo/<name> when TZDIR is unset or
 * empty; "UTC" needs no file.
 *
 * Returns a zone the caller destroys with red_tz_destroy(), or NULL with a
 * message in @p errstr that names the zone or the file and says what is
 * wrong (unknown zone, not a TZif file, truncated, version 1 only, leap
 * seconds, a bad footer rule, ...).
 */
red_tz_t *red_tz_load(const char *name, char *errstr,
                      size_t errstr_size) RED_MUSTCHECK;

/** Frees @p tz; NULL is allowed. */
void red_tz_destroy(red_tz_t *tz);

/** The name @p tz was loaded as (owned by @p tz); "UTC" for NULL. */
const char *red_tz_name(const red_tz_t *tz);

/** The UTC offset in seconds east of UTC at instant @p t. */
int32_t red_tz_offset(const red_tz_t *tz, red_time_t t);

/** The span of constant offset that contains @p t, written to @p out. */
void red_tz_span(const red_tz_t *tz, red_time_t t, red_tz_span_t *out);

/**
 * The last transition at or before @p t. Returns true and fills @p out, or
 * false when the zone has none before @p t.
 */
bool red_tz_prev_transition(const red_tz_t *tz, red_time_t t,
                            red_tz_transition_t *out);

/**
 * The first transition strictly after @p t. Returns true and fills @p out,
 * or false when the offset never changes after @p t.
 */
bool red_tz_next_transition(const red_tz_t *tz, red_time_t t,
                            red_tz_transition_t *out);

/**
 * The smallest and the largest offset the zone ever uses (including local
 * mean time before standard time): bounds that let callers limit a search
 * for the instants of a local time.
 */
void red_tz_offset_range(const red_tz_t *tz, int32_t *min_off,
                         int32_t *max_off);

#endif
