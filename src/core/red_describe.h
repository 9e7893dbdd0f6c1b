/*
 * red_describe - the contracts as the query API shows them
 * (GET /v1/contracts, `reducerd query contracts`): one row per contract
 * with its aggregations (windows, groupings, measures and their outputs,
 * columns), raw tables, FSM and alert rules, as declared. Pure.
 */
#ifndef RED_DESCRIBE_H
#define RED_DESCRIBE_H

#include "red_attr.h"
#include "red_buf.h"
#include "red_contract.h"
#include "red_format.h"

#include <stddef.h>

/**
 * Names the columns of @p fmt (borrowed; created with
 * RED_DESCRIBE_COLUMNS columns) and writes one row per contract of
 * @p cs, or only @p only when not NULL. Begin and end are the caller's.
 * 0 or -ENOMEM.
 */
int red_describe_contracts(const red_contract_t *const *cs, size_t cnt,
                           const red_contract_t *only, red_format_t *fmt,
                           red_buf_t *out) RED_MUSTCHECK;

/** contract, version, consumer_group, aggregations, raw, fsm, alerts. */
#define RED_DESCRIBE_COLUMNS 7

/** Names the columns of @p fmt; call before red_format_begin(). */
int red_describe_columns(red_format_t *fmt) RED_MUSTCHECK;

#endif
