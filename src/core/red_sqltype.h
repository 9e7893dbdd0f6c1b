/*
 * red_sqltype - the SQL column types a contract may name, and the default
 * values it may give them (column_types:). Only a fixed list of types is
 * accepted, each spelled the way PostgreSQL's format_type() prints it
 * ("varchar(50)" becomes "character varying(50)"), so a type the contract
 * names compares equal to the type the catalog reports.
 */
#ifndef RED_SQLTYPE_H
#define RED_SQLTYPE_H

#include "red_attr.h"

#include <stdbool.h>
#include <stddef.h>

/** What kind of value a type holds, to match it with what is written. */
typedef enum {
        RED_SQLT_TEXT,    /**< text, character varying(n) */
        RED_SQLT_INTEGER, /**< smallint, integer, bigint */
        RED_SQLT_DECIMAL, /**< numeric[(p[,s])] */
        RED_SQLT_FLOAT,   /**< real, double precision */
        RED_SQLT_BOOLEAN,
        RED_SQLT_UUID,
        RED_SQLT_TIME, /**< timestamp with time zone, date */
        RED_SQLT_JSON, /**< jsonb, json */
        RED_SQLT_BYTES,
} red_sqlt_class_t;

/**
 * Parses a type name as written in a contract (case and spaces as in
 * "double precision", "varchar(50)", "numeric(5, 4)", "timestamptz")
 * into its catalog spelling in @p out. Returns 0 and sets *@p cls, or
 * -EINVAL for a type that is not on the list.
 */
int red_sqltype_parse(const char *in, char *out, size_t size,
                      red_sqlt_class_t *cls) RED_MUSTCHECK;

/** The allowed type names, for messages. */
const char *red_sqltype_allowed(void);

/**
 * Whether a column of type class @p cls can hold what the engine writes
 * there: @p value is the class of the engine's own choice for the column.
 * Numbers go into any numeric type (integers only when @p integral),
 * anything into text.
 */
bool red_sqltype_fits(red_sqlt_class_t cls, red_sqlt_class_t value,
                      bool integral);

/**
 * An SQL literal for a default value given in a contract: a number as
 * written, true/false, an empty mapping or sequence as '{}' or '[]' (JSON
 * columns only), any other text in single quotes. Text with quotes,
 * backslashes or control characters is refused (-EINVAL), so the literal
 * needs no escaping. @p is_map: @p value is "{}" or "[]", an empty YAML
 * mapping or sequence.
 */
int red_sqltype_literal(const char *value, bool is_map, red_sqlt_class_t cls,
                        char *out, size_t size) RED_MUSTCHECK;

#endif
