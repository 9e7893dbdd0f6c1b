/*
 * red_tiles - covers a time range with stored windows: the edges are
 * rounded outward to the finest window type an aggregation stores, then
 * the coarsest windows that fit exactly go in the middle (months, then
 * weeks or days), finer ones at the edges (hours). Every boundary comes
 * from red_window (start and end of a window at an instant), so other
 * calendars plug in without changing this; a coarser type whose
 * boundaries are not boundaries of the finest one (months over weeks) is
 * never used. Pure.
 */
#ifndef RED_TILES_H
#define RED_TILES_H

#include "red_attr.h"
#include "red_time.h"
#include "red_window.h"

#include <stddef.h>
#include <stdint.h>

/** A run of windows of one type: those starting in [from, to). */
typedef struct red_tile_s {
        red_window_type_t wt;
        red_time_t from, to;
        size_t windows; /**< how many */
} red_tile_t;

/**
 * Tiles [@p from, @p to) with the window types of @p windows (a mask of
 * 1 << red_window_type_t) in time zone @p tz (borrowed; NULL = UTC: the
 * aggregation's time_zone, so the tiles are the windows it stores). Sets the
 * range covered and a malloc'd array of runs in time order (caller frees). 0,
 * -EINVAL (empty mask or range) or -ENOMEM.
 */
int red_tiles_plan(uint32_t windows, const red_tz_t *tz, red_time_t from,
                   red_time_t to, red_time_t *covered_from,
                   red_time_t *covered_to, red_tile_t **tiles,
                   size_t *cnt) RED_MUSTCHECK;

#endif
