/*
 * red_sink_alert - the alert rules' decisions in the batch transaction:
 * cooldowns under row locks on reducerd_alert_state, alert rows by COPY,
 * alert.triggered events in the outbox, and a log line per alert once the
 * batch committed.
 */
#ifndef RED_SINK_ALERT_H
#define RED_SINK_ALERT_H

#include "red_alert.h"
#include "red_attr.h"
#include "red_contract.h"
#include "red_sink_io.h"
#include "red_sink_outbox.h"

#include <stddef.h>

typedef struct red_sink_alert_s red_sink_alert_t;

/** For the alert rules of @p c (borrowed; none: writes nothing). NULL on
 * OOM. */
red_sink_alert_t *red_sink_alert_new(const red_contract_t *c);
void red_sink_alert_destroy(red_sink_alert_t *w);

/** On each connection: checks the tables' columns and builds the SQL.
 * 0, or -1 with a message. */
int red_sink_alert_prepare(red_sink_alert_t *w, red_sink_io_t *io, char *errstr,
                           size_t size) RED_MUSTCHECK;

/**
 * Decides which of the batch's matches @p am fire (cooldowns locked and
 * updated), COPYs their rows and queues their events to @p out. Adds the
 * rows written to *@p n.
 */
red_sink_result_t red_sink_alert_write(red_sink_alert_t *w, red_sink_io_t *io,
                                       red_alert_matches_t *am,
                                       red_sink_outbox_t *out, size_t *n,
                                       char *errstr, size_t size) RED_MUSTCHECK;

/** Alerts the last write fired, by severity: CRITICAL, WARNING, INFO. */
const size_t *red_sink_alert_fired(const red_sink_alert_t *w);

/** Logs the alerts the last write fired (after its commit). */
void red_sink_alert_log(const red_sink_alert_t *w,
                        const red_alert_matches_t *am);

#endif
