/*
 * red_qtypes - the records of a query plan (red_query.h plans them,
 * red_qparam.h parses the parameters into them, src/pg executes them).
 * Plain data: the planner fills them, the others read them.
 */
#ifndef RED_QTYPES_H
#define RED_QTYPES_H

#include "red_contract.h"
#include "red_format.h"
#include "red_tiles.h"
#include "red_time.h"
#include "red_window.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
        RED_QUERY_CONTRACTS, /**< the contracts as declared */
        RED_QUERY_SERIES,    /**< stored rows of one window type */
        RED_QUERY_SUMMARY,   /**< one merged row per group over a range */
        RED_QUERY_TOP,       /**< the summary's top/bottom N groups */
        RED_QUERY_RAW,       /**< raw rows of one table */
        RED_QUERY_WORKFLOW,  /**< one workflow: history, current state */
        RED_QUERY_WORKFLOWS, /**< workflow counts by state */
        RED_QUERY_ALERTS,    /**< alert rows */
        RED_QUERY__CNT
} red_query_kind_t;

/** One request parameter (borrowed strings). Names may repeat. */
typedef struct red_query_param_s {
        const char *name;
        const char *value;
} red_query_param_t;

/** Bounds from the configuration. */
typedef struct red_query_limits_s {
        int64_t max_rows;        /**< rows of a page (json, csv, table) and
                                      groups of a summary */
        int64_t max_export_rows; /**< rows of an ndjson stream */
        red_time_t now;          /**< "now" in from/to and their defaults */
} red_query_limits_t;

/** Rows of a page when the request names no limit (bounded by max_rows). */
#define RED_QUERY_DEFAULT_ROWS 1000
/** Largest `n` of a top query. */
#define RED_QUERY_MAX_TOP 1000
/** Most quantiles one request may ask for. */
#define RED_QUERY_MAX_QUANTILES 16

typedef struct red_query_error_s {
        int status;     /**< 400 or 404 */
        char param[64]; /**< the parameter at fault, or "" */
        char message[512];
        char allowed[2048];      /**< allowed values, ", "-separated, or "" */
        char allowed_json[4096]; /**< the same as a JSON array, or "" */
} red_query_error_t;

/** Where an output column's value comes from. */
typedef enum {
        RED_QCOL_SQL,      /**< a stored column, selected by name */
        RED_QCOL_GROUPING, /**< summary: the grouping's name */
        RED_QCOL_KEY,      /**< summary: key column `index` */
        RED_QCOL_FROM,     /**< summary: start of the covered range */
        RED_QCOL_TO,       /**< summary: end of the covered range */
        RED_QCOL_MEASURE,  /**< summary: measure output `index` (a ref) */
        RED_QCOL_COLUMN,   /**< summary: contract column `index`, rendered
                                from the merged state */
} red_qcol_src_t;

typedef struct red_qcol_s {
        char *name; /**< output name; for SQL the column's name */
        red_qcol_src_t src;
        int index;           /**< see red_qcol_src_t */
        red_val_type_t type; /**< SQL columns: set from the result */
} red_qcol_t;

/** How a filter's values are passed to SQL. */
typedef enum {
        RED_QVAL_TEXT,
        RED_QVAL_BIGINT,
        RED_QVAL_FLOAT,
        RED_QVAL_BOOL,
        RED_QVAL_UUID,
} red_qval_t;

/**
 * column = any of values, or, with json_key, column @> {json_key: value}
 * for any of values; or, with metadata, column @> {json_key: value}.
 */
typedef struct red_qfilter_s {
        char *column;   /**< stored column name (from the contract) */
        char *json_key; /**< object column member, or NULL */
        red_qval_t type;
        char **values; /**< any of these (OR) */
        size_t value_cnt;
} red_qfilter_t;

typedef struct red_query_s {
        red_query_kind_t kind;
        red_format_kind_t format;
        const red_contract_t *contract; /**< the one addressed, or NULL */
        const red_agg_t *agg;           /**< series, summary, top */
        const red_raw_t *raw;           /**< raw */
        const char *table;              /**< the table read (borrowed) */
        const char *time_column;        /**< series/raw/alerts/workflows */

        int grouping;             /**< index, or -1: every grouping */
        red_window_type_t window; /**< series */
        bool has_range;
        red_time_t from, to;                 /**< as asked (after defaults) */
        red_time_t covered_from, covered_to; /**< summary, top */
        red_tile_t *tiles;
        size_t tile_cnt;

        red_qcol_t *cols; /**< the output columns, in order */
        size_t col_cnt;
        red_qfilter_t *filters;
        size_t filter_cnt;

        double *quantiles; /**< summary, top */
        size_t quantile_cnt;
        int top_ref;    /**< top: measure ref, or -1 */
        int top_column; /**< top: contract column, or -1 */
        bool desc;      /**< top: largest first; rows:
                             newest first */
        int64_t limit;  /**< rows (top: n) */
        char **cursor;  /**< decoded cursor values, or NULL */
        size_t cursor_cnt;
        char **order_by; /**< the key columns of the order
                              (their values make a cursor) */
        size_t order_cnt;
        char *workflow_id; /**< canonical uuid text */
        int64_t offset;    /**< raw without unique fields */
} red_query_t;

#endif
