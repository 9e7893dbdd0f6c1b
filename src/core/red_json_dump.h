/*
 * red_json_dump - a jansson value's JSON text written into a red_buf_t
 * byte for byte as json_dumps() writes it (compact, any value, keys sorted
 * or in insertion order), without json_dumps()'s allocations: its growing
 * string buffer, the copy it returns and, with sorted keys, an array of
 * the keys of every object. The state sinks render each value of a row
 * twice per change (their events and their COPY text), so this is on the
 * hot path of a registration.
 *
 * The bytes are jansson's 2.14 (the version reducerd builds with;
 * tests/unit/test_json_dump.c compares the two): strings escape '"', '\\'
 * and the bytes below 0x20 (\b \f \n \r \t, others as \u00XX with
 * upper-case hex) and keep the rest as they are; integers as "%lld"; reals
 * as "%.17g" with ".0" added when neither '.' nor 'e' appears and the
 * exponent without '+' or leading zeros. What this does not write itself
 * (a string or a member name that is not valid UTF-8, a tree nested deeper
 * than JSON_PARSER_MAX_DEPTH) it leaves to json_dumps().
 */
#ifndef RED_JSON_DUMP_H
#define RED_JSON_DUMP_H

#include "red_attr.h"
#include "red_buf.h"

#include <jansson.h>
#include <stdbool.h>

/**
 * Appends the text json_dumps(@p j, JSON_COMPACT | JSON_ENCODE_ANY, and
 * JSON_SORT_KEYS when @p sort) returns to @p out (@p j borrowed). 0; -1
 * when json_dumps() returns NULL for @p j (@p out is then as it was) or
 * memory ran out (out->failed is set).
 */
int red_json_dump(const json_t *j, bool sort, red_buf_t *out) RED_MUSTCHECK;

#endif
