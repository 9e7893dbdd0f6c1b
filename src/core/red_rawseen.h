/*
 * red_rawseen - what a run without a database has stored so far, standing
 * in for the tables that make re-sent events duplicates: the raw tables'
 * unique keys (raw-row identities) and the seen-keys table of contract
 * deduplication (a contract's `dedupe`). `reducerd reduce` and a backfill
 * that replays Kafka skip a duplicate the way the daemon does
 * (red_core_raw_stored(), red_core_dedupe_seen()), across batches.
 */
#ifndef RED_RAWSEEN_H
#define RED_RAWSEEN_H

#include "red_attr.h"
#include "red_contract.h"
#include "red_core.h"

typedef struct red_rawseen_s red_rawseen_t;

/** An empty memory for the events of @p c (borrowed); NULL on OOM. */
red_rawseen_t *red_rawseen_new(const red_contract_t *c);
void red_rawseen_destroy(red_rawseen_t *s);

/** Before red_core_process(): marks the released events whose raw row or
 * dedupe key an earlier batch stored as duplicates. 0 or -ENOMEM. */
int red_rawseen_mark(red_rawseen_t *s, red_core_t *core) RED_MUSTCHECK;

/** After red_core_process(): remembers what the batch stored. 0 or
 * -ENOMEM. */
int red_rawseen_keep(red_rawseen_t *s, red_core_t *core) RED_MUSTCHECK;

#endif
