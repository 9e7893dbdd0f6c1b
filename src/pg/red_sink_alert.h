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
#include "red_sink_alertq.h"
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

/** Forgets the rows of the last batch (at the start of each write). */
void red_sink_alert_reset(red_sink_alert_t *w);

/** A row of the contract's alerts table (strings borrowed). */
typedef struct red_sink_alert_row_s {
        const red_uuid_t *id;
        const char *rule_id;
        const char *severity;
        const char *metric;
        double threshold, value;
        const char *message;
        size_t message_len;
        const red_value_t *tags; /**< an object value, or NULL ... */
        const char *tags_json;   /**< ... JSON text, or NULL: {} */
        const char *correlation; /**< or NULL */
        red_time_t time;
        const char *scope; /**< the scope column's value, or NULL */
} red_sink_alert_row_t;

/** Adds a row to the batch's COPY into the alerts table (none without a
 * table), e.g. of a window alert: red_sink_alert_write() stores it. */
void red_sink_alert_add_row(red_sink_alert_t *w,
                            const red_sink_alert_row_t *row);

/**
 * Decides which of the batch's matches @p am fire (cooldowns locked and
 * updated), COPYs their rows and the rows added before, queues their
 * events to @p out and their deliveries to @p q. Adds the rows of fired
 * per-event alerts to *@p n.
 */
red_sink_result_t red_sink_alert_write(red_sink_alert_t *w, red_sink_io_t *io,
                                       red_alert_matches_t *am,
                                       red_sink_outbox_t *out,
                                       red_sink_alertq_t *q, size_t *n,
                                       char *errstr, size_t size) RED_MUSTCHECK;

/** 0, 1, 2 for CRITICAL, WARNING, INFO (the order of the counters). */
int red_sink_alert_severity(const char *severity);

/** Alerts the last write fired, by severity: CRITICAL, WARNING, INFO. */
const size_t *red_sink_alert_fired(const red_sink_alert_t *w);
/** ... and by rule (an array of alerts->rule_cnt). */
const size_t *red_sink_alert_rule_fired(const red_sink_alert_t *w);

/** Logs the alerts the last write fired (after its commit). */
void red_sink_alert_log(const red_sink_alert_t *w,
                        const red_alert_matches_t *am);

#endif
