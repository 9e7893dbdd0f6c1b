/*
 * red_outputs - the names of an aggregation's measure outputs, as the
 * query API and `reducerd query` show them and accept them: a count or a
 * sum measure by its name ("completed"), the others as "measure.output"
 * ("quality.avg", "duration.count", "duration.p99", "duration.p99_9",
 * "completed.events": the unweighted count of a weighted aggregation).
 * An output is a ref as in red_contract.h: (measure index << 16) | code,
 * quantile codes being RED_OUT_Q0 + basis points (q * 10000), so
 * quantiles have at most four decimals.
 */
#ifndef RED_OUTPUTS_H
#define RED_OUTPUTS_H

#include "red_contract.h"

#include <stdbool.h>
#include <stddef.h>

/** The name of output @p ref of @p agg into @p buf. */
void red_outputs_name(const red_agg_t *agg, int ref, char *buf, size_t size);

/**
 * The ref of output @p name of @p agg: any quantile of a sketch measure;
 * -1 for no such output (count_by, by and recent measures have none).
 */
int red_outputs_parse(const red_agg_t *agg, const char *name);

/**
 * The output code of a quantile written "0.99" (0 to 1, at most four
 * decimals) or "p99" / "p99_9" / "p99_99", or -1.
 */
int red_outputs_quantile(const char *s);

/** Whether output @p ref is a count (shown as a whole number: an
 * estimated, weighted count is rounded to it). */
static inline bool red_outputs_is_count(int ref)
{
        return RED_REF_OUTPUT(ref) == RED_OUT_COUNT ||
               RED_REF_OUTPUT(ref) == RED_OUT_EVENTS;
}

/** The quantile (0..1) of an output code from red_outputs_quantile(). */
#define RED_OUTPUTS_Q(code) ((double)((code)-RED_OUT_Q0) / 10000.0)

#endif
