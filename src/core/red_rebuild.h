/*
 * red_rebuild - what a backfill recomputes and from what, with no I/O:
 * the raw tables a contract's cells can be rebuilt from, the windows a
 * time range replaces, and the chunks (target partitions) it writes in.
 *
 * A backfill replaces the cells of every window that overlaps the range,
 * whole: for each window type the range grows to that type's window
 * boundaries (an hour, a day, an ISO week, a month), and every event of
 * those windows is read again, so no replaced cell misses an event.
 */
#ifndef RED_REBUILD_H
#define RED_REBUILD_H

#include "red_attr.h"
#include "red_contract.h"
#include "red_time.h"

#include <stddef.h>

/** One raw table the events of one input topic can be read back from. */
typedef struct red_rebuild_src_s {
        const red_raw_t *raw;
        const char *table; /**< borrowed from the contract */
        const char *topic;
        const red_kind_t *kind; /**< the topic's one kind the sink stores */
} red_rebuild_src_t;

/**
 * Whether the cells of @p c can be rebuilt from its raw tables: every
 * input topic's events are stored (one kind per topic, every field an
 * aggregation reads in a column) and nothing is enriched from other
 * events (`workflows`). Sets *@p out (caller frees) and *@p cnt, one
 * source per input topic; otherwise -EINVAL with the reason, or -ENOMEM.
 */
int red_rebuild_raw_sources(const red_contract_t *c, red_rebuild_src_t **out,
                            size_t *cnt, char *errstr,
                            size_t errstr_size) RED_MUSTCHECK;

/** The column of raw sink @p r filled from field slot @p slot, or NULL. */
const char *red_rebuild_column(const red_raw_t *r, int slot);

/** The windows a backfill of [from, to) replaces and the events it reads. */
typedef struct red_rebuild_range_s {
        red_time_t from[RED_WINDOW__CNT]; /**< per window type: the first */
        red_time_t to[RED_WINDOW__CNT];   /**< window start replaced, and
                                               the end of the last one */
        red_time_t read_from, read_to;    /**< the events to read */
} red_rebuild_range_t;

/**
 * The range of a backfill of [@p from, @p to) for the window types of
 * @p windows (a mask); INT64_MIN / INT64_MAX leave an end open.
 */
void red_rebuild_range(uint32_t windows, red_time_t from, red_time_t to,
                       red_rebuild_range_t *out);

/** Whether a cell of window type @p wt starting at @p start is replaced. */
bool red_rebuild_covers(const red_rebuild_range_t *rr, red_window_type_t wt,
                        red_time_t start);

#endif
