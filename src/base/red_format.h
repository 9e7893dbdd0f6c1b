/*
 * red_format - tabular results as JSON, NDJSON, CSV or a terminal table,
 * written row by row into a red_buf_t (no I/O), so a caller can stream a
 * large result in bounded memory.
 *
 * Values arrive as text (as PostgreSQL's text protocol prints them, or as
 * the caller renders them) with a type per column that says how each
 * format writes them:
 *
 *   TEXT    a JSON string; a CSV field as is
 *   INT     a JSON number (anything that is not a JSON number is null)
 *   NUMBER  a JSON number; NaN and infinities are null
 *   BOOL    "t"/"true" -> true, "f"/"false" -> false
 *   JSON    embedded as is (the caller guarantees valid JSON)
 *   TIME    any red_time_parse() text, written canonically
 *           ("2026-01-01T00:00:00Z"); text that does not parse stays text
 *
 * JSON writes {"data":[row, ...],"next_cursor":..., <meta>}; NDJSON one
 * object a line and, when there is a next page, a last line holding only
 * {"next_cursor": "..."}; CSV a header row and RFC 4180 records (CRLF,
 * fields with quotes, commas or line breaks quoted, quotes doubled); TABLE
 * keeps the rows and writes aligned columns at the end (for people).
 */
#ifndef RED_FORMAT_H
#define RED_FORMAT_H

#include "red_attr.h"
#include "red_buf.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum {
        RED_FORMAT_JSON,
        RED_FORMAT_NDJSON,
        RED_FORMAT_CSV,
        RED_FORMAT_TABLE,
        RED_FORMAT_PROMETHEUS, /**< written by the caller (red_summary) */
        RED_FORMAT__CNT
} red_format_kind_t;

typedef enum {
        RED_VAL_TEXT,
        RED_VAL_INT,
        RED_VAL_NUMBER,
        RED_VAL_BOOL,
        RED_VAL_JSON,
        RED_VAL_TIME,
} red_val_type_t;

typedef struct red_format_s red_format_t;

/** "json", "ndjson", "csv", "table", "prometheus" (static), or NULL. */
const char *red_format_name(red_format_kind_t kind);

/** Parses an exact format name. 0, or -EINVAL. */
int red_format_parse(const char *s, red_format_kind_t *out) RED_MUSTCHECK;

/** The HTTP Content-Type of a format (static). */
const char *red_format_content_type(red_format_kind_t kind);

/**
 * A writer of @p kind (not PROMETHEUS) for @p cnt columns, all TEXT and
 * unnamed until red_format_column(). NULL on OOM. Destroy with
 * red_format_destroy().
 */
red_format_t *red_format_new(red_format_kind_t kind, size_t cnt);
void red_format_destroy(red_format_t *f);

/** Names column @p i (copied) and sets its type. 0 or -ENOMEM. */
int red_format_column(red_format_t *f, size_t i, const char *name,
                      red_val_type_t type) RED_MUSTCHECK;

/** Writes what comes before the rows (JSON's opening, CSV's header). */
void red_format_begin(red_format_t *f, red_buf_t *out);

/**
 * Writes one row: @p vals[i] is column i's text (@p lens[i] bytes), NULL
 * for SQL NULL. @p lens may be NULL for NUL-terminated values. TABLE keeps
 * the row and writes nothing yet. 0 or -ENOMEM.
 */
int red_format_row(red_format_t *f, const char *const *vals, const size_t *lens,
                   red_buf_t *out) RED_MUSTCHECK;

/** Rows written so far. */
size_t red_format_rows(const red_format_t *f);

/**
 * Writes what comes after the rows. @p next_cursor (may be NULL) is the
 * token of the next page; @p meta (may be NULL) is more JSON members
 * ("\"range\":{...}") added to the JSON envelope; other formats ignore it.
 */
void red_format_end(red_format_t *f, const char *next_cursor, const char *meta,
                    red_buf_t *out);

#endif
