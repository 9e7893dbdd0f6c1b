/*
 * red_sink_dedupe - contract deduplication in PostgreSQL (a contract's
 * `dedupe`): the seen-keys table reducerd_dedupe (migrations/0007; its
 * keys key_hash and source, SHA-256 hashes computed here: 0014), with
 * an in-memory filter in front (red_seen.h) so that most batches cost no
 * query.
 *
 * Before a batch is applied, its dedupe keys (red_core_dedupe_keys()) are
 * judged: a key the filter holds within the horizon is a duplicate; one
 * of a partition whose stored keys the filter covers, and does not hold,
 * is new; the others are looked up in the table (one query). A partition
 * is covered once its keys around the batch's times were loaded (one
 * query per partition after each assignment, bounded), and stays covered
 * as the owner stores its keys: the offsets' compare-and-set makes it the
 * only writer of that partition's keys. In the batch transaction the new
 * keys are COPYed; a key stored meanwhile from another partition at the
 * same event time violates the table's primary key, the batch is rolled
 * back and consumed again, and the next batches look every key up for a
 * while (as the raw rows do).
 */
#ifndef RED_SINK_DEDUPE_H
#define RED_SINK_DEDUPE_H

#include "red_attr.h"
#include "red_contract.h"
#include "red_core.h"
#include "red_sink_io.h"

#include <stddef.h>
#include <stdint.h>

/** Stored keys the filter holds at most, per contract (about 36 bytes
 * each): past it, the oldest go into Bloom filters (2 bytes each, 16
 * times as many keys at most: red_seen.h), beyond those their time range
 * is looked up. */
#define RED_SINK_DEDUPE_FILTER_KEYS (1 << 19)

typedef struct red_sink_dedupe_s red_sink_dedupe_t;

/** For contract @p c (borrowed); a writer that does nothing when the
 * contract has no `dedupe`. NULL on OOM. */
red_sink_dedupe_t *red_sink_dedupe_new(const red_contract_t *c);
void red_sink_dedupe_destroy(red_sink_dedupe_t *d);

/** The partitions were assigned (again): keys of them stored by others
 * meanwhile are not in the filter; they are loaded before their next
 * batch. */
void red_sink_dedupe_assigned(red_sink_dedupe_t *d, const char *const *topics,
                              const int32_t *partitions, size_t cnt);

/**
 * Marks the released events of @p core whose dedupe key was stored within
 * the horizon as duplicates (red_core_dedupe_seen()); outside the batch
 * transaction, before the events are applied.
 */
red_sink_result_t red_sink_dedupe_mark(red_sink_dedupe_t *d, red_sink_io_t *io,
                                       red_core_t *core, char *errstr,
                                       size_t size) RED_MUSTCHECK;

/** The partition holding the keys of time @p t (red_sink_io_partition()),
 * when the contract deduplicates. */
red_sink_result_t red_sink_dedupe_partition_at(red_sink_dedupe_t *d,
                                               red_sink_io_t *io, red_time_t t,
                                               char *errstr,
                                               size_t size) RED_MUSTCHECK;

/**
 * COPYs the keys of the batch's applied events into reducerd_dedupe
 * (partitions first), in the batch transaction. Adds the rows to *@p n.
 * RED_SINK_REPLAY on a unique violation (the next batches look their keys
 * up).
 */
red_sink_result_t red_sink_dedupe_write(red_sink_dedupe_t *d, red_sink_io_t *io,
                                        red_core_t *core, size_t *n,
                                        char *errstr,
                                        size_t size) RED_MUSTCHECK;

/** The transaction of the last write committed: its keys are stored. */
void red_sink_dedupe_committed(red_sink_dedupe_t *d);

/** The COMMIT of the last write failed, so its outcome is unknown: the
 * partitions of its keys are loaded again before their next batch. */
void red_sink_dedupe_uncertain(red_sink_dedupe_t *d);

#endif
