/*
 * red_top_view - lays out one frame of `reducerd top`: lines of styled
 * text for a terminal of a given size, from the fetched numbers
 * (red_top_data.h). The same frame is drawn with ncurses (styles become
 * colours) or printed as plain text by --once, so the two never differ in
 * what they show. Pure: no I/O.
 *
 * Sections, top to bottom: a header (contract, aggregation, grouping,
 * window type, time; the daemons' state), SUMMARY (the total group over
 * the current hour and the 24 hours up to it) beside PIPELINE (/metrics:
 * consumed, rate, lag, dead letters, late events, outbox, a live
 * events-per-minute sparkline) and MEASURES (sums and averages of the
 * stats measures: tokens, cost), GROUPS (every group of the grouping over
 * 24 h, worst first), TRENDS (sparklines over the window type's last
 * windows), ALERTS or WORKFLOWS. Colours: the contract's alert rules
 * decide the colour of a value of the metric they name (red CRITICAL,
 * yellow WARNING, cyan INFO, green none crossed); the pipeline's state
 * colours itself (red down, yellow dead letters).
 */
#ifndef RED_TOP_VIEW_H
#define RED_TOP_VIEW_H

#include "red_top_data.h"
#include "red_top_frame.h"

#include <stdbool.h>
#include <stddef.h>

/** How the frame is drawn. */
typedef struct red_top_opts_s {
        const char *metrics; /**< the daemons asked, for the header */
        int interval_s;      /**< refresh period; 0: --once */
        bool fixed_time;     /**< --at: "now" is a given instant */
        bool utf8;           /**< block characters for sparklines */
} red_top_opts_t;

/**
 * Lays out @p d for @p sel into @p f (cleared first): @p width columns,
 * @p height lines (0: as many as the sections want, for --once).
 */
void red_top_view(red_top_frame_t *f, const red_top_sel_t *sel,
                  const red_top_data_t *d, const red_top_opts_t *o,
                  size_t width, size_t height);

/** The group GROUPS shows first (the worst), or NULL. */
const json_t *red_top_view_first(const red_top_sel_t *sel,
                                 const red_top_data_t *d);


#endif
