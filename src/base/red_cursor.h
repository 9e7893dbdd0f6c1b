/*
 * red_cursor - opaque page tokens: a few text values (the sort key of the
 * last row of a page) packed as "<len>:<bytes>" each and written in
 * URL-safe base64 without padding, so a token travels in a query string
 * as is. A token is not a secret and not signed: whatever it decodes to is
 * only ever a parameter value of the next query.
 */
#ifndef RED_CURSOR_H
#define RED_CURSOR_H

#include "red_attr.h"
#include "red_buf.h"

#include <stddef.h>

/** Longest token red_cursor_decode() accepts. */
#define RED_CURSOR_MAX 8192

/** Appends the token of @p cnt values (@p lens may be NULL) to @p out. */
void red_cursor_encode(const char *const *vals, const size_t *lens, size_t cnt,
                       red_buf_t *out);

/**
 * Decodes a token of exactly @p cnt values into a malloc'd array of
 * malloc'd NUL-terminated strings (free with red_cursor_free()). Values
 * holding NUL bytes are refused. 0, or -EINVAL (not such a token) or
 * -ENOMEM.
 */
int red_cursor_decode(const char *token, size_t cnt,
                      char ***vals) RED_MUSTCHECK;

/** Frees what red_cursor_decode() returned; accepts NULL. */
void red_cursor_free(char **vals, size_t cnt);

#endif
