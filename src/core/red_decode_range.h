/*
 * red_decode_range - the ranges a decoded value must lie in, so that every
 * value the decoder accepts can be summed exactly and stored by
 * PostgreSQL: numbers finite, within the field's min and max and
 * +-RED_NUMBER_LIMIT, and not so close to zero that they read as 0
 * (underflow: "1e-400" is no double, and PostgreSQL's double precision
 * refuses it); times within RED_TIME_ACCEPT_MIN..RED_TIME_ACCEPT_END
 * (red_event.h). A value outside is an out_of_range dead letter whose
 * detail names the field. Also what an object field's members must be,
 * and JSON holding \u0000 (no text or jsonb column stores it).
 */
#ifndef RED_DECODE_RANGE_H
#define RED_DECODE_RANGE_H

#include "red_attr.h"
#include "red_contract.h"
#include "red_dlq.h"
#include "red_json_scan.h"
#include "red_time.h"

#include <jansson.h>
#include <stdbool.h>

#include <stddef.h>

/**
 * Checks number @p x of field @p f (after its unit scaling). @p text
 * (@p len bytes, may be NULL) is the number as sent, when it was a JSON
 * real: non-zero digits that read as 0 are an underflow. 0, or -1 with
 * the reason in @p detail ("quality_score: 1.7 is above the maximum 1").
 */
int red_decode_range_number(const red_field_t *f, double x, const char *text,
                            size_t len, char *detail,
                            size_t size) RED_MUSTCHECK;

/** Checks time @p t of @p what (a field or envelope member name). 0, or -1
 * with the reason in @p detail. */
int red_decode_range_time(const char *what, red_time_t t, char *detail,
                          size_t size) RED_MUSTCHECK;

/** A member of an object field (parsed) has the type of its `values`. */
bool red_decode_range_member(red_field_type_t want, const json_t *item);
/** The same judged on a member's token (the fast path). */
bool red_decode_range_member_tok(red_field_type_t want,
                                 const red_json_tok_t *v);
/** Any string or member name in @p j holds \u0000, which PostgreSQL
 * cannot store in text or jsonb (NULL: none). */
bool red_decode_range_has_nul(const json_t *j);

/** A string of @p len bytes matches field @p f's pattern (f->regex). */
bool red_decode_range_pattern(const red_field_t *f, const char *s, size_t len);
/** An object field's members (parsed) are all of its `values` type:
 * RED_DLQ_NONE, or RED_DLQ_WRONG_TYPE with @p detail naming the member. */
red_dlq_code_t red_decode_range_members(const red_field_t *f, json_t *obj,
                                        char *detail, size_t size);
/** An array field's items are all of its `values` type, and object items
 * hold the item_required members as non-empty strings: RED_DLQ_NONE, or
 * the code with @p detail naming the item. */
red_dlq_code_t red_decode_range_items(const red_field_t *f, json_t *arr,
                                      char *detail, size_t size);

#endif
