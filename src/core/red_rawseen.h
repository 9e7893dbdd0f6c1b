/*
 * red_rawseen - the raw-row identities a run without a database has
 * stored so far, standing in for the raw tables' unique keys: `reducerd
 * reduce` and a backfill that replays Kafka skip a re-sent event the way
 * the daemon does (red_core_raw_stored()), across batches.
 */
#ifndef RED_RAWSEEN_H
#define RED_RAWSEEN_H

#include "red_attr.h"
#include "red_core.h"

typedef struct red_rawseen_s red_rawseen_t;

/** An empty set; NULL on OOM. */
red_rawseen_t *red_rawseen_new(void);
void red_rawseen_destroy(red_rawseen_t *s);

/** Before red_core_process(): marks the released events whose raw row an
 * earlier batch stored as duplicates. 0 or -ENOMEM. */
int red_rawseen_mark(red_rawseen_t *s, red_core_t *core) RED_MUSTCHECK;

/** After red_core_process(): remembers the identities the batch stored.
 * 0 or -ENOMEM. */
int red_rawseen_keep(red_rawseen_t *s, red_core_t *core) RED_MUSTCHECK;

#endif
