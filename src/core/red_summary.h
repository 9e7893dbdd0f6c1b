/*
 * red_summary - the summary and top queries' arithmetic: the stored cells
 * of a range's tiles are merged group by group into one cell each (counts
 * and sums add, min/max fold, sketches merge bucket by bucket), and the
 * rows are read from the merged cell, so every quantile is the quantile
 * of the union of the range's events (within the sketch's relative
 * accuracy), never an average of stored percentiles.
 *
 * The caller (src/pg/red_query_pg.c) feeds stored rows in group order:
 * red_summary_group() when the group changes, red_summary_merge() for each
 * row's state. Depending on the plan, finished groups become rows of a
 * red_format_t at once (summary), or are kept (the N best for top; all of
 * them for the Prometheus exposition, which lists metric by metric) and
 * written by red_summary_finish(). Pure: no I/O.
 */
#ifndef RED_SUMMARY_H
#define RED_SUMMARY_H

#include "red_attr.h"
#include "red_buf.h"
#include "red_format.h"
#include "red_query.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct red_summary_s red_summary_t;

/**
 * A summary of plan @p q (borrowed, RED_QUERY_SUMMARY or _TOP). Rows go
 * to @p fmt (borrowed; NULL for RED_FORMAT_PROMETHEUS), whose columns it
 * names. NULL on OOM. Destroy with red_summary_destroy().
 */
red_summary_t *red_summary_new(const red_query_t *q, red_format_t *fmt);
void red_summary_destroy(red_summary_t *s);

/** The result of red_summary_group(). */
typedef enum {
        RED_SUMMARY_MORE = 0, /**< go on feeding the group's rows */
        RED_SUMMARY_SKIP,     /**< a grouping the contract no longer has:
                                   its rows are ignored */
        RED_SUMMARY_FULL,     /**< the page is full: stop; see
                                   red_summary_next_cursor() */
        RED_SUMMARY_ERROR,    /**< see errstr */
} red_summary_step_t;

/**
 * Starts the group (@p grouping, @p keys: the aggregation's key_cnt
 * values) of the rows that follow, finishing the previous group (its row
 * may be written to @p out).
 */
red_summary_step_t red_summary_group(red_summary_t *s, const char *grouping,
                                     const char *const *keys,
                                     const size_t *lens, red_buf_t *out,
                                     char *errstr, size_t errstr_size);

/** Merges one stored `state` into the current group. 0 or -1 with a
 * message (corrupt state, OOM). */
int red_summary_merge(red_summary_t *s, const void *state, size_t len,
                      char *errstr, size_t errstr_size) RED_MUSTCHECK;

/**
 * Finishes the last group and writes what was kept (top rows, the
 * Prometheus text). 0, or -1 with a message (Prometheus: more groups than
 * the plan's limit).
 */
int red_summary_finish(red_summary_t *s, red_buf_t *out, char *errstr,
                       size_t errstr_size) RED_MUSTCHECK;

/** The cursor of the next page (after RED_SUMMARY_FULL), else NULL. */
const char *red_summary_next_cursor(const red_summary_t *s);

/** Groups finished so far. */
size_t red_summary_groups(const red_summary_t *s);

/**
 * The range and the tiles the plan reads, as JSON members for the
 * envelope: "range":{"from":..,"to":..,"requested_from":..,..},
 * "tiles":[{"window":"monthly","from":..,"to":..,"windows":2},..].
 */
void red_summary_meta(const red_query_t *q, red_buf_t *out);

#endif
