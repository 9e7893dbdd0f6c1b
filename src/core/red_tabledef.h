/*
 * red_tabledef - the tables a contract owns, derived from the contract:
 * columns (the contract's and the engine's) with SQL types, primary key,
 * partitioning, indexes, fill factor and comments, and the *meaning* of
 * each table-shaping part (a column's definition, a grouping's
 * dimensions, a window type, the layout), which schema evolution compares
 * between contract versions (red_schema in the pg layer renders and
 * applies the SQL).
 *
 * One builder per kind of sink yields the definitions of its tables
 * (aggregation, raw, fsm, alerts, state); a new kind of sink adds its builder
 * to the list in red_tabledef.c and nothing else changes.
 */
#ifndef RED_TABLEDEF_H
#define RED_TABLEDEF_H

#include "red_attr.h"
#include "red_contract.h"
#include "red_sqltype.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Fill factor of tables whose rows are updated in place by every batch
 * (cells, current workflow states): half of each page stays free, so an
 * update finds room on its page and is HOT (no new index entries). */
#define RED_TABLEDEF_FILLFACTOR_UPDATED 50

typedef struct red_coldef_s {
        char *name;
        char *type; /**< as format_type() prints it */
        bool not_null;
        char *def; /**< default: an SQL literal or now(), or NULL */
        char *comment;
} red_coldef_t;

typedef struct red_idxdef_s {
        char *name; /**< the full index name */
        char *method;
        char **columns;
        size_t column_cnt;
        char *where; /**< engine-made predicate, or NULL */
        bool unique;
} red_idxdef_t;

typedef enum {
        RED_TPART_NONE,
        RED_TPART_RANGE,   /**< by range of part_column, in gran */
        RED_TPART_WINDOWS, /**< by window_type (a child per window type),
                              each by range of window_start */
} red_tpart_t;

/** How a change of a part is judged when the contract changes. */
typedef enum {
        RED_MEANING_COLUMN,   /**< new: added; changed or gone: refused */
        RED_MEANING_WINDOW,   /**< new: fine; gone: refused */
        RED_MEANING_GROUPING, /**< new: fine; changed or gone: refused */
        RED_MEANING_LAYOUT,   /**< changed: refused */
        RED_MEANING_INDEX,    /**< anything: applied online */
} red_meaning_kind_t;

/** One table-shaping part of a table and what it means, as text. */
typedef struct red_meaning_s {
        char *name; /**< e.g. "column success_rate", "window hourly" */
        char *text;
        red_meaning_kind_t kind;
} red_meaning_t;

typedef struct red_tabledef_s {
        char *name;
        const char *sink; /**< "aggregation", "raw", "fsm", "alerts",
                             "state" */
        char *owner;      /**< e.g. "aggregation codegen_metrics" */
        int agg;          /**< index of its aggregation, or -1 */
        red_coldef_t *cols;
        size_t col_cnt;
        char **pkey;
        size_t pkey_cnt;
        red_tpart_t part;
        char *part_column;
        red_partition_t gran; /**< RANGE */
        uint32_t windows;     /**< WINDOWS: the children's window types */
        red_partition_t window_gran[RED_WINDOW__CNT];
        red_idxdef_t *idx;
        size_t idx_cnt;
        int fillfactor; /**< 0: the default; a partitioned table's
                           partitions get it */
        char *comment;
        red_meaning_t *meanings;
        size_t meaning_cnt;
} red_tabledef_t;

/** The tables of one contract (owned). */
typedef struct red_tabledef_set_s {
        red_tabledef_t *items;
        size_t cnt;
} red_tabledef_set_t;

/**
 * The tables contract @p c (borrowed) declares, in the order of its
 * sections. Returns 0, or -ENOMEM / -EINVAL with a message; on error
 * @p out is left empty. Free with red_tabledef_set_destroy().
 */
int red_tabledef_set_build(const red_contract_t *c, red_tabledef_set_t *out,
                           char *errstr, size_t errstr_size) RED_MUSTCHECK;
void red_tabledef_set_destroy(red_tabledef_set_t *defs);

/** The table named @p name, or NULL. */
const red_tabledef_t *red_tabledef_set_find(const red_tabledef_set_t *defs,
                                            const char *name);
/** The column named @p name of @p t, or NULL. */
const red_coldef_t *red_tabledef_col(const red_tabledef_t *t, const char *name);
/** The meaning part named @p name of @p t, or NULL. */
const red_meaning_t *red_tabledef_meaning(const red_tabledef_t *t,
                                          const char *name);

/**
 * What the engine writes into column @p col of aggregation @p a: JSON
 * for objects and counts per value; for an expression, INTEGER when it
 * combines counts only (never null), DECIMAL for a bare exact sum, FLOAT
 * otherwise. Sets *@p integral for INTEGER.
 */
red_sqlt_class_t red_tabledef_agg_class(const red_agg_t *a,
                                        const red_column_t *col,
                                        bool *integral);

/** What a raw column filled from a field of type @p t holds. */
red_sqlt_class_t red_tabledef_field_class(red_field_type_t t);

#endif
