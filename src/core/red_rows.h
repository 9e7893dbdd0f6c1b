/*
 * red_rows - the JSON form of every row reducerd writes: aggregation
 * cells, FSM history and current-state rows, dead letters. `reduce` prints
 * them and the publisher sends them; the keys are the table's columns.
 */
#ifndef RED_ROWS_H
#define RED_ROWS_H

#include "red_buf.h"
#include "red_cell.h"
#include "red_dlq.h"
#include "red_fsm.h"
#include "red_workflows.h"

/**
 * A cell row: aggregation_id, window_type, window_start, window_end, the
 * grouping and key columns, then the contract's columns. @p extra, when
 * not NULL, is appended as more members (e.g. "\"revision\":3").
 */
void red_rows_cell_json(const red_cell_t *cell, const char *extra,
                        red_buf_t *out);

/** A workflow_state_history row. */
void red_rows_history_json(const red_fsm_t *fsm, const red_fsm_row_t *row,
                           red_buf_t *out);

/** The metadata object of a current-state row (remembered fields, partition).
 */
void red_rows_workflow_metadata(const red_contract_t *c, const red_wf_t *wf,
                                red_buf_t *out);

/** A workflow_state_current row. */
void red_rows_current_json(const red_contract_t *c, const red_wf_t *wf,
                           red_buf_t *out);

/** An object value as compact JSON with sorted keys. */
void red_rows_object_json(const red_value_t *v, red_buf_t *out);

/** A raw row of sink @p r for @p ev: its columns and the time column. */
void red_rows_raw_json(const red_contract_t *c, const red_raw_t *r,
                       const red_event_t *ev, red_buf_t *out);

/**
 * The identity of a raw row within its table: each unique field as
 * Postgres prints it (text, integer, uuid) in red_rows_ident_part() form,
 * then the event time in microseconds since the epoch.
 */
void red_rows_raw_ident(const red_raw_t *r, const red_event_t *ev,
                        red_buf_t *out);
/** One part of an identity: "<length>:<text>". */
void red_rows_ident_part(red_buf_t *out, const char *text, size_t len);

/** A dead letter: code, detail, source topic/partition/offset/key. */
void red_rows_dead_letter_json(const red_contract_t *c,
                               const red_dead_letter_t *d, red_buf_t *out);

#endif
