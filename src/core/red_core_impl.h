/*
 * red_core_impl - the inside of a core (red_core.h), shared by the files
 * that implement it and by no other module:
 *
 *   red_core.c       adding, late policy, release order, the batch's
 *                    life cycle, positions and counters
 *   red_core_keys.c  the batch's identities: raw-row keys and dedupe
 *                    keys (duplicates of what is stored)
 */
#ifndef RED_CORE_IMPL_H
#define RED_CORE_IMPL_H

#include "red_aggregator.h"
#include "red_alert.h"
#include "red_core_types.h"
#include "red_dmetrics.h"
#include "red_fsm.h"
#include "red_map.h"
#include "red_refusals.h"
#include "red_state.h"
#include "red_workflows.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { E_BUFFERED, E_RELEASED, E_DONE };

/* What became of a message: counted once its position is committed. */
enum {
        O_NONE,      /* not yet (buffered, or released and not processed) */
        O_APPLIED,   /* processed */
        O_DUPLICATE, /* processed, skipped: its raw row or dedupe key was
                        stored */
        O_DEAD,      /* a dead letter (code) */
        O_DROPPED,   /* late, and the policy drops it */
};

/* One added message; per partition in offset order until committed past. */
typedef struct entry_s {
        struct entry_s *next;
        red_msg_t msg; /* copied view */
        void *opaque;
        red_event_t ev; /* decoded; values are the trailing storage */
        uint8_t state;
        uint8_t outcome; /* O_* */
        uint8_t code;    /* O_DEAD: its red_dlq_code_t */
        bool decoded;
        bool late;      /* late, applied anyway (policy update) */
        bool duplicate; /* its raw row is stored already: skipped */
        bool urgent;    /* buffered, and crosses a CRITICAL rule */
        red_value_t values[];
} entry_t;

typedef struct part_s {
        char *topic;
        int32_t partition;
        entry_t *head, *tail;
        size_t buffered;
        red_time_t max_time; /* newest event time added (lateness, frontier) */
        red_time_t committed_max; /* newest event time before the position */
        int64_t next_offset;      /* last added offset + 1, or -1 */
        int64_t position;         /* the position at the last commit, or -1 */
        bool touched;             /* added to since the last commit */
} part_t;

struct red_core_s {
        const red_contract_t *c;
        red_workflows_t *wfs;
        red_fsm_engine_t *fsm;
        red_aggregator_t *ag;
        red_dmetrics_t *dm; /* the contract's domain series */
        red_fsm_rows_t rows;
        red_alert_matches_t alerts;
        red_state_table_t **states; /* one per state sink */
        red_core_done_cb *done;
        void *done_arg;
        size_t entry_size;
        entry_t *free_list;

        part_t *parts;
        size_t part_cnt, part_cap, last_part;
        size_t buffered;
        size_t urgent_cnt;     /* buffered urgent entries */
        red_time_t urgent_min; /* the oldest one's event time */

        /* the batch */
        entry_t **released;
        size_t released_cnt, released_cap;
        size_t added;
        red_dead_letter_t *dead;
        size_t dead_cnt, dead_cap;
        red_uuid_t *missing;
        size_t missing_cnt, missing_cap;
        red_map_t *missing_set;
        red_core_raw_key_t *keys; /* raw rows with unique fields */
        size_t key_cnt, key_cap;
        red_map_t *key_set;
        red_core_dedupe_key_t *dkeys; /* dedupe keys (contract `dedupe`) */
        size_t dkey_cnt, dkey_cap;
        red_map_t *dkey_set;
        red_position_t *positions;
        size_t position_cnt;
        red_core_counters_t batch;

        red_core_counters_t totals;
        red_refusals_t *refused; /* messages storage refused (dead letters) */
};

/* The oldest buffered urgent event again, after some of them went. */
void red_core_urgent_recompute(red_core_t *core);
/* The first entry of @p p still buffered, or NULL. */
entry_t *red_core_first_buffered(const part_t *p);

#endif
