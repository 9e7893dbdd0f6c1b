/*
 * red_sink_walert - the rules over windows (alerts.window_rules) in the
 * batch transaction: every merged cell of the batch, and every cell that
 * becomes final, is judged (red_alert_window.h); the judged instances'
 * rows of reducerd_alert_instances are locked in key order, moved through
 * their states, and written back with the alerts that fired (a row in the
 * contract's alerts table, an alert.triggered event on its topic) or
 * resolved (an alert.resolved event), each also queued for delivery.
 */
#ifndef RED_SINK_WALERT_H
#define RED_SINK_WALERT_H

#include "red_alert_window.h"
#include "red_attr.h"
#include "red_cell.h"
#include "red_contract.h"
#include "red_sink_alert.h"
#include "red_sink_alertq.h"
#include "red_sink_io.h"
#include "red_sink_outbox.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct red_sink_walert_s red_sink_walert_t;

/** For the window rules of @p c (borrowed; none: inert). NULL on OOM. */
red_sink_walert_t *red_sink_walert_new(const red_contract_t *c);
void red_sink_walert_destroy(red_sink_walert_t *w);

/** True when the contract has window rules (on aggregation @p agg, or on
 * any with -1). */
bool red_sink_walert_any(const red_sink_walert_t *w, int agg);

/** How long Alertmanager keeps a firing window alert that is not sent
 * again (the delivery worker re-sends them well before). */
void red_sink_walert_set_hold(red_sink_walert_t *w, int64_t hold_us);

/** Forgets the judgements of the last write. */
void red_sink_walert_clear(red_sink_walert_t *w);

/** Judges @p cell (merged, or just final) by every rule; a NULL @p w judges
 * nothing (a backfill recomputes history: no alert fires for it). 0 or
 * -ENOMEM. */
int red_sink_walert_observe(red_sink_walert_t *w, const red_cell_t *cell,
                            bool final) RED_MUSTCHECK;

/**
 * Applies the judgements to their locked instances; fired alerts go to
 * @p rows (the alerts table), both kinds to @p out (when the contract
 * publishes) and @p q.
 */
red_sink_result_t red_sink_walert_write(red_sink_walert_t *w, red_sink_io_t *io,
                                        red_sink_alert_t *rows,
                                        red_sink_outbox_t *out,
                                        red_sink_alertq_t *q, char *errstr,
                                        size_t size) RED_MUSTCHECK;

/** Logs the alerts the last write fired or resolved (after its commit):
 * 10 lines at most, and one line for the rest. */
void red_sink_walert_log(const red_sink_walert_t *w);

/** Window alerts the last write fired and resolved, by severity
 * (CRITICAL, WARNING, INFO), and per window rule (arrays of
 * window_rule_cnt). */
const size_t *red_sink_walert_fired(const red_sink_walert_t *w);
const size_t *red_sink_walert_resolved(const red_sink_walert_t *w);
const size_t *red_sink_walert_rule_fired(const red_sink_walert_t *w);
const size_t *red_sink_walert_rule_resolved(const red_sink_walert_t *w);

#endif
