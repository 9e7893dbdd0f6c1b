/*
 * red_cell - one aggregation cell: its key (aggregation, window type and
 * start, grouping, key values) and the mergeable state of every measure
 * of the aggregation (counts, exact sums, min/max, sketches, keyed
 * sub-measures). Cells are deltas: a batch builds fresh cells, the sink
 * merges them into the stored state; merge is commutative and associative,
 * so workers may contribute to one cell in any order.
 *
 * Sums are exact: values are kept as 128-bit integers of 10^-precision
 * units, so counts and sums never depend on order or batching.
 */
#ifndef RED_CELL_H
#define RED_CELL_H

#include "red_attr.h"
#include "red_buf.h"
#include "red_contract.h"
#include "red_event.h"
#include "red_uuid.h"
#include "red_window.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct red_cell_s red_cell_t;

/** A cell key for lookups (borrowed strings). */
typedef struct red_cell_key_s {
        const red_agg_t *agg;
        red_window_type_t wt;
        red_time_t start;
        int grouping;
        const char *const *keys; /**< agg->key_cnt values */
        const size_t *lens;
        uint64_t group_hash; /**< red_cell_group_hash() of the above */
} red_cell_key_t;

/**
 * A new empty cell for @p key (the key strings are copied). @p alpha is
 * the sketches' relative accuracy. NULL on OOM. Destroy with
 * red_cell_destroy().
 */
red_cell_t *red_cell_new(const red_cell_key_t *key, double alpha);
void red_cell_destroy(red_cell_t *cell);

/**
 * The key of @p cell into @p key, for lookups and red_cell_new(); the key
 * strings are borrowed from the cell (valid while it lives).
 */
void red_cell_key_of(const red_cell_t *cell, red_cell_key_t *key);

/**
 * A new empty cell with @p cell's key in aggregation @p agg (NULL: the
 * cell's own; another one must have the same key columns, e.g. the same
 * aggregation of another contract version). @p alpha is the sketches'
 * relative accuracy. NULL on OOM. Destroy with red_cell_destroy().
 */
red_cell_t *red_cell_new_like(const red_cell_t *cell, const red_agg_t *agg,
                              double alpha);

/** Hash of (aggregation, grouping, key values): once per grouping. */
uint64_t red_cell_group_hash(const red_agg_t *agg, int grouping,
                             const char *const *keys, const size_t *lens);
/** Hash of a key (from its group_hash), and the red_map equality test
 * (item: a cell, key: a red_cell_key_t). */
uint64_t red_cell_key_hash(const red_cell_key_t *key);
bool red_cell_key_eq(const void *cell, const void *key);
uint64_t red_cell_hash(const red_cell_t *cell);

const red_agg_t *red_cell_agg(const red_cell_t *cell);
red_window_type_t red_cell_window_type(const red_cell_t *cell);
red_time_t red_cell_window_start(const red_cell_t *cell);
red_time_t red_cell_window_end(const red_cell_t *cell);
int red_cell_grouping(const red_cell_t *cell);
/** The i-th key value (NUL-terminated, borrowed). */
const char *red_cell_key(const red_cell_t *cell, size_t i);
size_t red_cell_key_len(const red_cell_t *cell, size_t i);
/**
 * The stable cell id: uuid5(red_uuid_ns_reducerd,
 * "<table>/<window_type>/<window_start>/<grouping>/<key>/...").
 */
void red_cell_id(const red_cell_t *cell, red_uuid_t *out);
/** Output order: aggregation, window type, start, grouping, keys. */
int red_cell_cmp(const red_cell_t *a, const red_cell_t *b);

/**
 * Whether @p ev moves a measure of @p agg: a count it counts, a value a
 * sum, stats or sketch takes, a value a count_by or by measure keys by.
 * An event that moves none makes no cell (red_aggregator).
 */
bool red_cell_moves(const red_agg_t *agg, const red_event_t *ev);

/**
 * Applies one event to every measure it feeds. 0, -ENOMEM, or -ERANGE when
 * a sum or a weighted count would leave its range (it never wraps; the
 * measures before it have taken the event). Decoded events stay within
 * RED_NUMBER_LIMIT, which makes -ERANGE need 10^14 of the largest values in one
 * cell.
 */
int red_cell_apply(red_cell_t *cell, const red_event_t *ev) RED_MUSTCHECK;

/**
 * Merges @p src into @p dst (same key). Returns 0, -ENOMEM, or with a
 * message -EINVAL (sketches of different accuracy) or -ERANGE (a sum would
 * leave its range: it never wraps).
 */
int red_cell_merge(red_cell_t *dst, const red_cell_t *src, char *errstr,
                   size_t errstr_size) RED_MUSTCHECK;

/**
 * Serialises the measures (names, kinds, states; keyed entries sorted) in
 * a stable binary format for the `state` column.
 */
int red_cell_serialize(const red_cell_t *cell, red_buf_t *out) RED_MUSTCHECK;

/**
 * Merges a serialised state into @p cell. Measures are matched by name and
 * kind, so a contract that adds or drops measures keeps the others;
 * changed precisions are rescaled. 0, -ENOMEM, or with a message -EINVAL
 * (not a state, truncated, corrupt) or -ERANGE (a sum would leave its
 * range, also when rescaled to a finer precision).
 */
int red_cell_merge_serialized(red_cell_t *cell, const void *data, size_t len,
                              char *errstr, size_t errstr_size) RED_MUSTCHECK;

/**
 * Renders column @p col as JSON text into @p out (a number, an object, or
 * nothing and *@p is_null = true).
 */
void red_cell_render(const red_cell_t *cell, const red_column_t *col,
                     red_buf_t *out, bool *is_null);

/**
 * Reads output @p ref of a top-level measure ((measure index << 16) | a
 * RED_OUT_* code, as in red_contract.h; a quantile code is any RED_OUT_Q0
 * + round(q * 10000)). Returns false for null (no values yet, or a ref
 * the measure does not have), else sets *@p out.
 */
bool red_cell_value(const red_cell_t *cell, int ref, double *out);

/** Number of events that reached the cell (any measure). */
uint64_t red_cell_events(const red_cell_t *cell);

/** The newest event time applied to the cell or to a cell merged into it
 * (a serialised state carries none), INT64_MIN if none. */
red_time_t red_cell_latest(const red_cell_t *cell);

struct red_expr_s;
/** Evaluates an expression over the cell's measures (references as
 * resolved by the contract loader); false for null. */
bool red_cell_eval(const red_cell_t *cell, const struct red_expr_s *e,
                   double *out);

#endif
