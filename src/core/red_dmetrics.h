/*
 * red_dmetrics - a contract's domain Prometheus series (metrics:,
 * red_contract.h), counted per batch and rendered as Prometheus text.
 *
 * The applied events of a batch and its FSM history rows go into the
 * batch's values; commit adds them to the totals, rollback forgets them,
 * so the series count exactly what the committed batches applied (like
 * reducerd_events_applied_total). Values live in one array of
 * c->metric_values doubles: metric m's series s starts at
 * m->offset + s * m->width; a counter has one value, a histogram its
 * bucket_cnt + 1 bucket counts (not cumulative, the last is +Inf) and the
 * sum. The series index enumerates the labels' values, the last label
 * fastest. Gauges of workflows per state are not counted here: their
 * values are NAN (not rendered) until the caller fills them in from the
 * current-state table with red_dmetrics_set_states().
 *
 * Pure core: no I/O, not thread-safe (one per pipeline).
 */
#ifndef RED_DMETRICS_H
#define RED_DMETRICS_H

#include "red_buf.h"
#include "red_contract.h"
#include "red_event.h"
#include "red_fsm.h"

#include <stddef.h>
#include <stdint.h>

typedef struct red_dmetrics_s red_dmetrics_t;

/** Counters for @p c (borrowed; must outlive them). NULL on OOM. Caller
 * destroys with red_dmetrics_destroy(). */
red_dmetrics_t *red_dmetrics_new(const red_contract_t *c);
void red_dmetrics_destroy(red_dmetrics_t *m);

/** Counts an applied event (after the FSM's enrichment) in the batch. */
void red_dmetrics_event(red_dmetrics_t *m, const red_event_t *ev);

/** Counts the batch's FSM history rows. */
void red_dmetrics_rows(red_dmetrics_t *m, const red_fsm_rows_t *rows);

/** The batch is durable: its values join the totals. */
void red_dmetrics_commit(red_dmetrics_t *m);
/** The batch was not written: its values are dropped. */
void red_dmetrics_rollback(red_dmetrics_t *m);

/** The committed totals (c->metric_values entries; borrowed). */
const double *red_dmetrics_totals(const red_dmetrics_t *m);

/** Whether @p c declares a gauge of workflows per state. */
bool red_dmetrics_has_states(const red_contract_t *c);

/**
 * Fills the workflow gauges of @p vals (c->metric_values entries) from
 * @p counts, the workflows per FSM state (c->fsm->state_cnt entries).
 */
void red_dmetrics_set_states(const red_contract_t *c, double *vals,
                             const int64_t *counts);

/**
 * The Prometheus text of @p c's series with values @p vals: HELP and TYPE,
 * then one line per series with contract="<name>" and its labels.
 */
void red_dmetrics_render(const red_contract_t *c, const double *vals,
                         red_buf_t *out);

#endif
