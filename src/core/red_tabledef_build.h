/*
 * red_tabledef_build - what the parts of red_tabledef share (not for
 * other modules): the builder's state, the building blocks that append
 * tables, columns, keys, indexes and meanings, and one builder per kind
 * of sink (red_tabledef_aggs.c: aggregations; red_tabledef_sinks.c: raw
 * sinks, the workflow state machine, alerts), which
 * red_tabledef_set_build() (red_tabledef_build.c) runs in order.
 *
 * A failed allocation sets oom in the state and the block does nothing
 * more (a NULL result); red_tabledef_set_build() reports it once at the end,
 * so the builders read as declarations.
 */
#ifndef RED_TABLEDEF_BUILD_H
#define RED_TABLEDEF_BUILD_H

#include "red_attr.h"
#include "red_buf.h"
#include "red_tabledef.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct build_s {
        const red_contract_t *c;
        red_tabledef_set_t *out;
        bool oom;
        char *errstr;
        size_t size;
} build_t;

/* --- building blocks (red_tabledef_build.c) ------------------------------- */

/* A copy of @p s (NULL stays NULL). */
/* A formatted string (malloc'd). */
char *red_tabledef_build_fmt(build_t *b, const char *f, ...) RED_PRINTF(2, 3);
/* A new table of @p sink (a static name) declared by @p owner. */
red_tabledef_t *red_tabledef_build_table(build_t *b, const char *name,
                                         const char *sink, const char *owner);
/* A column: @p type as format_type() prints it, @p def an SQL literal or
 * NULL, @p comment NULL for none. */
red_coldef_t *red_tabledef_build_col(build_t *b, red_tabledef_t *t,
                                     const char *name, const char *type,
                                     bool not_null, const char *def,
                                     const char *comment);
/* The contract's column_types: entry @p ct (may be NULL) over @p col. */
void red_tabledef_build_col_override(build_t *b, red_coldef_t *col,
                                     const red_coltype_t *ct);
/* The next column of the primary key. */
void red_tabledef_build_pkey(build_t *b, red_tabledef_t *t, const char *col);
/* An index <table>_<suffix> on @p cols (NULL-terminated); @p method NULL
 * for btree; @p where an engine-made predicate or NULL. */
red_idxdef_t *red_tabledef_build_idx(build_t *b, red_tabledef_t *t,
                                     const char *suffix, const char *method,
                                     const char *where,
                                     const char *const *cols);
/* The indexes a contract asks for (indexes:). */
void red_tabledef_build_idx_contract(build_t *b, red_tabledef_t *t,
                                     const red_index_t *ix, size_t cnt);
/* A meaning part (takes @p name and @p text). */
void red_tabledef_build_meaning(build_t *b, red_tabledef_t *t,
                                red_meaning_kind_t kind, char *name,
                                char *text);
/* The meanings every table has: the types of the columns that have none
 * yet, the layout, the indexes. Last, once the table is complete. */
void red_tabledef_build_meanings_common(build_t *b, red_tabledef_t *t);

/* varchar(n) for text of at most @p max characters, text when unbounded
 * (@p max < 0). */
void red_tabledef_build_text_type(int64_t max, char *out, size_t size);
/* The longest text of a field's values: its max_length, or that of a
 * uuid, integer or boolean; -1 when unbounded. */
int64_t red_tabledef_build_field_max_len(const red_contract_t *c, int slot);
/* Whether every kind of @p kinds gives field @p slot a value (requires it
 * or has a default), and there is one such kind. */
bool red_tabledef_build_field_always(const red_contract_t *c, uint64_t kinds,
                                     int slot);
/* The SQL type of a field's values in a column. */
void red_tabledef_build_field_type(const red_contract_t *c, int slot, char *out,
                                   size_t size);
/* What a field means: its name, type and where its value comes from. */
void red_tabledef_build_field_text(red_buf_t *d, const red_contract_t *c,
                                   int slot);
/* The shortest text that reads back as @p v. */
void red_tabledef_build_put_num(red_buf_t *d, double v);

/* --- one builder per kind of sink ---------------------------------------- */

int red_tabledef_build_aggregations(build_t *b);
int red_tabledef_build_raws(build_t *b);
int red_tabledef_build_fsm(build_t *b);
int red_tabledef_build_alerts(build_t *b);
/* red_tabledef_state.c: a state's table and its lists (its history is a
 * raw sink's table) */
int red_tabledef_build_states(build_t *b);

#endif
