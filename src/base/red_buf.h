/*
 * red_buf - a growable byte buffer for building COPY data, JSON text,
 * SQL parameter arrays and serialised state without per-item allocation.
 *
 * red_buf_t is a plain struct on purpose: it is embedded in other objects
 * (init/destroy pair) and its data/len are read directly.
 */
#ifndef RED_BUF_H
#define RED_BUF_H

#include "red_attr.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct red_buf_s {
        char *data;  /**< NUL-terminated when len < cap; owned */
        size_t len;  /**< bytes used */
        size_t cap;  /**< bytes allocated */
        bool failed; /**< an allocation failed; the content is truncated */
} red_buf_t;

/** Initialises an empty buffer (no allocation). */
void red_buf_init(red_buf_t *b);
/** Frees the data; accepts NULL. The buffer may be re-initialised. */
void red_buf_destroy(red_buf_t *b);
/** Empties the buffer, keeping its allocation. */
void red_buf_reset(red_buf_t *b);
/** Makes room for @p extra more bytes. Returns 0 or -ENOMEM (and sets failed).
 */
int red_buf_reserve(red_buf_t *b, size_t extra);

void red_buf_append(red_buf_t *b, const void *data, size_t len);
void red_buf_puts(red_buf_t *b, const char *s);
void red_buf_putc(red_buf_t *b, char c);
void red_buf_printf(red_buf_t *b, const char *fmt, ...) RED_PRINTF(2, 3);
void red_buf_put_i64(red_buf_t *b, int64_t v);
/** Shortest decimal text that reads back to the same double ("%.17g" trimmed).
 */
void red_buf_put_double(red_buf_t *b, double v);
/** A JSON string literal with quotes and escapes: \" \\ \b \f \n \r \t,
 * other bytes below 0x20 as \u00xx, the rest as they are (PostgreSQL's
 * jsonb prints strings the same way). */
void red_buf_put_json_str(red_buf_t *b, const char *s, size_t len);
/** Text for PostgreSQL COPY (text format): escapes \\, tab, newline, CR. */
void red_buf_put_copy_str(red_buf_t *b, const char *s, size_t len);

/** Takes the data out (caller frees); the buffer is left empty. */
char *red_buf_steal(red_buf_t *b, size_t *lenp);

#endif
