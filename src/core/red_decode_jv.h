/*
 * red_decode_jv - the JSON value views both decode paths read fields
 * through: a token of the message (fast path) or a jansson value (tree
 * path), and the words a dead letter's detail uses for their types.
 */
#ifndef RED_DECODE_JV_H
#define RED_DECODE_JV_H

#include "red_json_scan.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A JSON value: a span of the message (fast path, the scanner's token)
 * or a jansson value (tree path). */
typedef struct red_decode_jv_s {
        red_json_type_t t;
        bool esc;      /* fast string: has escapes */
        const char *p; /* fast: the token (strings: between the quotes);
                          tree strings: the value */
        size_t len;
        int64_t i; /* RED_JSON_INT */
        double d;  /* RED_JSON_REAL, tree path */
        json_t *j; /* tree path: the value */
} red_decode_jv_t;

/** The view of scanned token @p k (inline: the fast path reads every
 * member through it). */
static inline void red_decode_jv_of(red_decode_jv_t *v, const red_json_tok_t *k)
{
        v->t = k->t;
        v->esc = k->esc;
        v->p = k->p;
        v->len = k->len;
        v->i = k->i;
        v->j = NULL; /* d: read from the token, never from here */
}
/** The view of jansson value @p j (borrowed). */
void red_decode_jv_from_json(json_t *j, red_decode_jv_t *v);
/** "an object", "a string", ... "null": a type as a detail names it. */
const char *red_decode_jv_type_name(red_json_type_t t);

#endif
