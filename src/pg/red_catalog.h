/*
 * red_catalog - what the database says a table is: its columns (type as
 * format_type() prints it, NOT NULL, default as pg_get_expr() prints it,
 * comment), primary key, partition key, the partitioned children of a
 * table partitioned by window type, its other indexes, fill factor and
 * comment. red_schema compares this for the table a contract wants
 * (created as a temporary table and read back, so both sides are spelled
 * by the same server) with the table that exists.
 */
#ifndef RED_CATALOG_H
#define RED_CATALOG_H

#include "red_attr.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct red_catcol_s {
        char *name;
        char *type;
        bool not_null;
        char *def;     /**< NULL: no default */
        char *comment; /**< NULL: none */
} red_catcol_t;

typedef struct red_catidx_s {
        char *name;
        char *def; /**< from "USING": "btree (a, b) WHERE (...)", with
                      "UNIQUE " in front of unique ones */
} red_catidx_t;

typedef struct red_catchild_s {
        char *name;
        char *bound;   /**< e.g. "FOR VALUES IN ('hourly')" */
        char *partkey; /**< e.g. "RANGE (window_start)" */
} red_catchild_t;

typedef struct red_catalog_table_s {
        char *name;
        bool exists;
        red_catcol_t *cols;
        size_t col_cnt;
        char *pkey;    /**< "a, b", or NULL without one */
        char *partkey; /**< pg_get_partkeydef(), NULL when not partitioned */
        red_catchild_t *children; /**< partitioned children only */
        size_t child_cnt;
        red_catidx_t *idx; /**< indexes other than the primary key's */
        size_t idx_cnt;
        int fillfactor; /**< 0: not set */
        char *comment;
} red_catalog_table_t;

/**
 * Reads table @p name of the current schema, or of this session's
 * temporary schema when @p temp. A missing table gives exists = false.
 * Returns 0, or -1 with the server's message. Free with
 * red_catalog_table_free() either way.
 */
int red_catalog_table(PGconn *conn, bool temp, const char *name,
                      red_catalog_table_t *out, char *errstr,
                      size_t errstr_size) RED_MUSTCHECK;
void red_catalog_table_free(red_catalog_table_t *t);

const red_catcol_t *red_catalog_table_col(const red_catalog_table_t *t,
                                          const char *name);
const red_catidx_t *red_catalog_table_idx(const red_catalog_table_t *t,
                                          const char *name);
const red_catchild_t *red_catalog_table_child(const red_catalog_table_t *t,
                                              const char *name);

#endif
