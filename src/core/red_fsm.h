/*
 * red_fsm - the workflow state machine engine: applies a contract's `fsm`
 * triggers to decoded events, keeps the workflows' current state in a
 * red_workflows_t table, produces one history row per transition attempt,
 * and does the `workflows.remember` and `workflows.totals` enrichment.
 *
 * Semantics (contracts/README.md "fsm", DESIGN.md "FSM"): triggers are
 * tried in contract order and every matching one acts. An initialize
 * trigger opens a workflow (no history row); a transition trigger runs
 * the reference checks in order - unknown workflow, invalid transition,
 * wrong event, guard - and appends one row, accepted or rejected, with the
 * reference's reason text. All times are event times, so replaying the
 * same events gives the same rows, ids included.
 *
 * Pure core: no I/O, no clock, not thread-safe (one engine per pipeline).
 */
#ifndef RED_FSM_H
#define RED_FSM_H

#include "red_attr.h"
#include "red_contract.h"
#include "red_event.h"
#include "red_workflows.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
        RED_FSM_ACCEPTED,
        RED_FSM_NOT_FOUND,
        RED_FSM_INVALID_TRANSITION,
        RED_FSM_WRONG_EVENT,
        RED_FSM_GUARD_FAILED,
        RED_FSM_ALREADY_INITIALIZED,
        RED_FSM_INVALID_STATE,
        RED_FSM__CNT
} red_fsm_result_t;

/**
 * "accepted", "not_found", "invalid_transition", "wrong_event",
 * "guard_failed", "already_initialized", "invalid_state" (static; metric
 * label values), or NULL for a bad value.
 */
const char *red_fsm_result_name(red_fsm_result_t r);

/** One history row: a transition attempt. */
typedef struct red_fsm_row_s {
        /**
         * Deterministic: uuid5(red_uuid_ns_reducerd,
         * "<topic>/<partition>/<offset>/<n>") with n the row's index within
         * its message; without a source message
         * "<workflow_id>/<event time µs>/<kind>/<n>".
         */
        red_uuid_t transition_id;
        red_uuid_t workflow_id;
        int from_state;  /**< -1 unknown (workflow not found) */
        int to_state;    /**< -1 could not be determined */
        char *event;     /**< event name (owned) */
        red_time_t time; /**< the event's time */
        bool accepted;
        red_fsm_result_t result;
        char *reason; /**< NULL when accepted, else the text (owned) */
        /**
         * Owned reference: the payload's "metadata" object if it has one,
         * else the envelope metadata object, else NULL.
         */
        json_t *metadata;
        int32_t partition; /**< source partition, -1 without a message */
        int64_t offset;    /**< source offset, -1 without a message */
} red_fsm_row_t;

/** Plain vector of rows; initialise by zeroing. */
typedef struct red_fsm_rows_s {
        red_fsm_row_t *items;
        size_t cnt, cap;
} red_fsm_rows_t;

/** Frees every row's strings and metadata reference; keeps the capacity. */
void red_fsm_rows_clear(red_fsm_rows_t *rows);

/** red_fsm_rows_clear() and frees the array; @p rows may be reused. */
void red_fsm_rows_destroy(red_fsm_rows_t *rows);

typedef struct red_fsm_engine_s red_fsm_engine_t;

/**
 * An engine for contract @p c (borrowed; must outlive the engine) over the
 * workflow table @p wfs (borrowed; created with at least c->remember_cnt
 * remembered fields and c->fsm's terminal mask). c->fsm may be NULL: the
 * engine then only does the workflows.remember enrichment, keyed by
 * c->workflow_key_slot, creating state-less records on demand. Returns
 * NULL on OOM, or when c->remember_cnt exceeds the table's
 * remember_cnt. Caller destroys with red_fsm_engine_destroy().
 */
red_fsm_engine_t *red_fsm_engine_new(const red_contract_t *c,
                                     red_workflows_t *wfs);

/** Frees the engine (not the contract or the table); accepts NULL. */
void red_fsm_engine_destroy(red_fsm_engine_t *e);

/**
 * Applies the contract's triggers to @p ev (in trigger order; each matching
 * trigger acts), appends history rows to @p rows, updates and touches the
 * workflow records, then remembers/enriches: for each
 * c->remember_slots[i], a record lacking remembered[i] takes the event's
 * value; an event lacking the value gets the record's (a RED_FT_STRING
 * borrowing the table's interned copy, valid until the record is evicted
 * or rolled back). Then workflows.totals: the record adds the event's
 * source values, and an event whose kind declares a target it lacks gets
 * the record's sum (0 for an unknown workflow). An event without the key
 * does nothing.
 * Returns 0 or -ENOMEM; rejected transitions are rows, never errors. On
 * -ENOMEM the batch must be rolled back (red_workflows_rollback()).
 */
int red_fsm_engine_apply(red_fsm_engine_t *e, red_event_t *ev,
                         red_fsm_rows_t *rows) RED_MUSTCHECK;

/**
 * RED_FSM__CNT counters, indexed by red_fsm_result_t, since the engine was
 * made: one per transition attempt (= history row) and one per refused
 * initialisation (already_initialized, invalid_state). Successful
 * initialisations are counted by red_fsm_engine_initialized().
 */
const uint64_t *red_fsm_engine_counters(const red_fsm_engine_t *e);

/** Workflows initialised by the engine since it was made. */
uint64_t red_fsm_engine_initialized(const red_fsm_engine_t *e);

#endif
