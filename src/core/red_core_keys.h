/*
 * red_core_keys - the identities of a core's batch (red_core_impl.h): the
 * raw rows with unique fields of the released events, which the caller
 * looks up in its storage (red_core_raw_keys(), red_core_raw_stored() in
 * red_core.h); a second event of one identity in the batch is a
 * duplicate at once.
 */
#ifndef RED_CORE_KEYS_H
#define RED_CORE_KEYS_H

#include "red_attr.h"
#include "red_core_impl.h"

/** Notes the identities of the events released from index @p first on.
 * 0 or -ENOMEM. */
int red_core_keys_note(red_core_t *core, size_t first) RED_MUSTCHECK;

#endif
