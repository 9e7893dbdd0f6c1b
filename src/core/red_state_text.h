/*
 * red_state_text - the text of a state sink's `text_of` column
 * (contracts/README.md "state"), computed from the row's current values as
 * PostgreSQL would compute it from the same row as stored. The sink writes
 * JSON columns as jansson's text, which PostgreSQL parses into jsonb, so
 * each value is what jsonb's ->> gives for it: strings as they are, numbers
 * as numeric prints them, objects and arrays in jsonb's text format and
 * member order (shorter names first, then bytewise).
 */
#ifndef RED_STATE_TEXT_H
#define RED_STATE_TEXT_H

#include "red_contract.h"

#include <jansson.h>

/**
 * The text of column @p col (a RED_RULE_TEXT column) of a row whose column
 * values are @p vals (per column of the state; NULL is SQL NULL): a new
 * JSON string, or NULL when out of memory.
 */
json_t *red_state_text_of(const red_state_col_t *col, json_t *const *vals);

#endif
