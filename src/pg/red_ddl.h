/*
 * red_ddl - the SQL that creates a contract's tables (red_tabledef) and
 * changes them: CREATE TABLE with the columns, primary key and
 * partitioning, the per-window child tables, the indexes, fill factor and
 * COMMENT ON. Identifiers are validated and double-quoted; the only
 * literals are the column defaults red_sqltype validated.
 *
 * A table may be created under another name than the contract declares:
 * generation @p gen > 0 of table T is T_g<gen> (red_schema builds a new
 * generation there and switches it in by renaming), and its indexes and
 * child tables follow the same rule. @p schema "pg_temp" creates it as a
 * temporary table (to read back how the server spells what it would
 * create), NULL in the current schema.
 */
#ifndef RED_DDL_H
#define RED_DDL_H

#include "red_attr.h"
#include "red_buf.h"
#include "red_tabledef.h"

#include <stddef.h>

/** The name of @p declared in generation @p gen (0: @p declared itself).
 * Returns 0 or -EINVAL when it would not be a valid identifier. */
int red_ddl_name(const char *declared, int gen, char *out,
                 size_t size) RED_MUSTCHECK;

/**
 * A name that starts with the table's declared name (an index, a child
 * table) as it is in generation @p gen: the table's generation name
 * followed by the rest. 0 or -EINVAL.
 */
int red_ddl_rename(const char *table, const char *name, int gen, char *out,
                   size_t size) RED_MUSTCHECK;

/** Appends "\"name\"" (validated; an invalid name fails the buffer). */
void red_ddl_ident(red_buf_t *b, const char *name);

/**
 * Appends the statements that create table @p t (all of it: table, child
 * tables per window type, indexes, comments), each ending in ";\n".
 * Returns 0, or -EINVAL for a name that cannot be used.
 */
int red_ddl_create(red_buf_t *b, const red_tabledef_t *t, int gen,
                   const char *schema) RED_MUSTCHECK;

/** "\"name\" type [NOT NULL] [DEFAULT x]" of one column. */
void red_ddl_column(red_buf_t *b, const red_coldef_t *col);

/** CREATE INDEX of @p ix on table @p t in generation @p gen. */
int red_ddl_index(red_buf_t *b, const red_tabledef_t *t, const red_idxdef_t *ix,
                  int gen, const char *schema) RED_MUSTCHECK;

/** "COMMENT ON TABLE table IS 'text';\n", or on table.@p column when not
 * NULL. */
void red_ddl_comment(red_buf_t *b, const char *table, const char *column,
                     const char *text, const char *schema);

/** Appends @p s as a standard-conforming string literal ('..', quotes
 * doubled; no backslash escapes are involved). */
void red_ddl_literal(red_buf_t *b, const char *s);

#endif
