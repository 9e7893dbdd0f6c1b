/*
 * red_weight - the weight an event counts with (contract `weight:`), e.g.
 * 1 / sample_rate for an event a producer sampled at that rate.
 *
 * A weight is kept as an integer of 10^-RED_WEIGHT_DIGITS units (fixed
 * point), so that weighted counts, sums and sketch buckets stay integers:
 * they add exactly and merge in any order to the same state, as unweighted
 * ones do. Estimator and error: contracts/README.md "Weights".
 */
#ifndef RED_WEIGHT_H
#define RED_WEIGHT_H

#include "red_contract.h"
#include "red_event.h"

#include <stddef.h>
#include <stdint.h>

/** Decimal digits a weight keeps. */
#define RED_WEIGHT_DIGITS 6
/** The weight 1 in weight units. */
#define RED_WEIGHT_ONE INT64_C(1000000)
/** The largest weight (a sample rate of 10^-6): with it a weighted term of
 * a sum (value x weight) stays far inside a cell's 128-bit sum. */
#define RED_WEIGHT_MAX 1e6

/**
 * Sets @p ev->weight from contract @p c's weight field (RED_WEIGHT_ONE
 * without one, or when the event lacks the field). Returns 0, or -ERANGE
 * with a detail naming the field when the weight is not finite, not above
 * 0, rounds to less than one unit (10^-6) or exceeds RED_WEIGHT_MAX: such
 * an event is a dead letter (out_of_range).
 */
int red_weight_of(const red_contract_t *c, red_event_t *ev, char *detail,
                  size_t detail_size);

#endif
