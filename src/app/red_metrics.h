/*
 * red_metrics - the Prometheus text of /metrics, rendered from the
 * pipelines', the relay's and the alert delivery's counters (series listed in
 * deploy/METRICS.md), then the domain series the contracts declare
 * (metrics:).
 */
#ifndef RED_METRICS_H
#define RED_METRICS_H

#include "red_buf.h"
#include "red_deliver.h"
#include "red_pipeline.h"
#include "red_relay.h"

#include <stddef.h>

/** @p deliver may be NULL (no alert destination configured). */
void red_metrics_render(red_buf_t *out, red_pipeline_t *const *pipes,
                        size_t cnt, red_relay_t *relay, red_deliver_t *deliver);

#endif
