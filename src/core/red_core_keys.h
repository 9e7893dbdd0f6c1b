/*
 * red_core_keys - the identities of a core's batch (red_core_impl.h): the
 * raw rows with unique fields of the released events and their dedupe
 * keys (the contract's `dedupe`), which the caller looks up in its
 * storage (red_core_raw_keys(), red_core_dedupe_keys() and the functions
 * that mark what it found, in red_core.h); a second event of one identity
 * in the batch is a duplicate at once.
 */
#ifndef RED_CORE_KEYS_H
#define RED_CORE_KEYS_H

#include "red_attr.h"
#include "red_core_impl.h"

/** The key sets of a new core. 0 or -ENOMEM (red_core_keys_destroy()
 * cleans up). */
int red_core_keys_init(red_core_t *core) RED_MUSTCHECK;
/** Notes the identities of the events released from index @p first on.
 * 0 or -ENOMEM. */
int red_core_keys_note(red_core_t *core, size_t first) RED_MUSTCHECK;
/** Forgets the batch's identities (commit, rollback). */
void red_core_keys_clear(red_core_t *core);
/** Frees what the identities hold; accepts a core whose init failed. */
void red_core_keys_destroy(red_core_t *core);

#endif
