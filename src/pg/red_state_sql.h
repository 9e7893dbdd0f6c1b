/*
 * red_state_sql - SQL of a state sink that the writer and the readers
 * share: the effective status (the staleness rule as a CASE expression,
 * the same rule red_state_effective() applies in C), and the columns'
 * stored values read back as red_state values.
 */
#ifndef RED_STATE_SQL_H
#define RED_STATE_SQL_H

#include "red_attr.h"
#include "red_buf.h"
#include "red_contract.h"

#include <jansson.h>
#include <stdbool.h>

/**
 * Appends the effective status of state @p s as an SQL expression to
 * @p out: the status column, or the staleness rule's value when the
 * newest of its time columns plus factor x interval is older than the
 * SQL expression @p clock (e.g. "$1" or "now()"). Columns are prefixed
 * with @p alias ("" or "n."). Without a staleness rule, the status is
 * NULL. Returns 0, or -EINVAL for a name that is no identifier.
 */
int red_state_sql_effective(const red_state_t *s, const char *alias,
                            const char *clock, red_buf_t *out) RED_MUSTCHECK;

/** Appends @p text as an SQL string literal ('' doubled). */
void red_state_sql_literal(const char *text, red_buf_t *out);

/**
 * Appends the select-list expression that reads column @p col of table
 * alias @p alias back as text red_state_sql_value() parses: timestamps
 * as microseconds since the epoch, JSON as its text. -EINVAL for a name
 * that is no identifier.
 */
int red_state_sql_select(const red_state_col_t *col, const char *alias,
                         red_buf_t *out) RED_MUSTCHECK;

/** The value of @p col from its red_state_sql_select() text (a new
 * reference), or NULL for SQL NULL or text that does not parse. */
json_t *red_state_sql_value(const red_state_col_t *col, const char *text);

#endif
