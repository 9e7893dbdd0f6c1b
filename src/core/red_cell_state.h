/*
 * red_cell_state - the mergeable state of a cell's measures, shared by the
 * cell (apply, render: red_cell.c) and its binary codec (red_cell_codec.c).
 * Private to those two: everything else goes through red_cell.h.
 *
 * One red_mstate_t per measure; which members a measure uses depends on
 * its kind. COUNT_BY and BY measures keep one entry per distinct value
 * (a BY entry holds one state per sub-measure), RECENT ones an entry for
 * each of their last few values (at most keep + 1, so never hashed).
 */
#ifndef RED_CELL_STATE_H
#define RED_CELL_STATE_H

#include "red_attr.h"
#include "red_contract.h"
#include "red_map.h"
#include "red_sketch.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Exact sums: 128-bit integers of 10^-precision units. */
__extension__ typedef __int128 red_i128_t;

typedef struct red_keyed_s red_keyed_t;

/**
 * State of one measure. In a weighted aggregation (red_agg_t.weighted)
 * every event counts with its weight: w is the weighted count in weight
 * units (red_weight.h), sum the sum of value x weight, the sketch's
 * buckets count weight units; n stays the unweighted count. Unweighted,
 * w is 0 and n is the count.
 */
typedef struct red_mstate_s {
        uint64_t n;         /**< COUNT: the count; SUM/STATS/SKETCH: values */
        uint64_t w;         /**< weighted: n weighed, in weight units */
        uint64_t wmin;      /**< weighted: the smallest weight of a value
                                 (exact extreme quantiles), 0 while empty */
        red_i128_t sum;     /**< in 10^-precision units */
        double min, max;    /**< +inf / -inf while empty */
        red_sketch_t *sk;   /**< SKETCH, owned; NULL while empty */
        red_keyed_t *keyed; /**< COUNT_BY, BY, owned; NULL while empty */
} red_mstate_t;

/** One distinct value of a COUNT_BY or BY measure. */
typedef struct red_keyed_entry_s {
        char *key; /**< owned, NUL-terminated (may hold NULs) */
        size_t len;
        uint64_t hash;
        uint64_t count;    /**< COUNT_BY */
        uint64_t w;        /**< COUNT_BY, weighted: in weight units */
        red_time_t time;   /**< RECENT: the newest event time with it */
        red_mstate_t *sub; /**< BY: one state per sub-measure, owned */
} red_keyed_entry_t;

/*
 * Entries are searched linearly while few (stage names, error codes: no
 * hashing per event and cell); past RED_KEYED_LINEAR they get a hash map.
 */
#define RED_KEYED_LINEAR 16

struct red_keyed_s {
        red_map_t *map; /**< NULL while cnt <= RED_KEYED_LINEAR */
        red_keyed_entry_t **items;
        size_t cnt, cap;
};

/** Sets @p cnt states to empty (they own nothing yet). */
void red_cell_state_init(red_mstate_t *m, size_t cnt);

/** Frees what @p cnt states own (not the array itself); @p ms their
 * measures. */
void red_cell_state_free(red_mstate_t *m, const red_measure_t *ms, size_t cnt);

/**
 * The entry for the value (@p p, @p len) of measure @p ms, created (empty)
 * when absent; *@p kp is created on first use. NULL on OOM.
 */
red_keyed_entry_t *red_cell_state_keyed_get(red_keyed_t **kp,
                                            const red_measure_t *ms,
                                            const char *p, size_t len);

/** Sorts the entries by value, bytewise (the array is reordered in
 * place); accepts NULL. */
void red_cell_state_keyed_sort(red_keyed_t *k);

/**
 * RECENT: entry (@p p, @p len) seen at @p time (created when absent; an
 * older time does not move it back), then the oldest entries dropped
 * until @p ms->keep remain (oldest: smallest time, then largest value, so
 * the result does not depend on the order of events or merges). 0 or
 * -ENOMEM.
 */
int red_cell_state_recent_note(red_keyed_t **kp, const red_measure_t *ms,
                               const char *p, size_t len,
                               red_time_t time) RED_MUSTCHECK;

/** RECENT: the entries newest first (time descending, then value
 * ascending) into @p out (room for RED_RECENT_MAX_KEEP + 1); their count. */
size_t red_cell_state_recent_order(const red_keyed_t *k,
                                   const red_keyed_entry_t **out);

/**
 * Merges @p cnt states @p src into @p dst (measures @p ms; both weighed in
 * the same units). 0, -ENOMEM, or with a message in @p errstr -EINVAL
 * (sketches of different accuracy) or -ERANGE (a sum or a weighted count
 * would leave its range: they never wrap).
 */
int red_cell_state_merge(red_mstate_t *dst, const red_mstate_t *src,
                         const red_measure_t *ms, size_t cnt, char *errstr,
                         size_t errstr_size) RED_MUSTCHECK;

#endif
