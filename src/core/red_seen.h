/*
 * red_seen - a bounded in-memory filter in front of the seen-keys table of
 * contract deduplication (a contract's `dedupe`), so that most events cost
 * no query.
 *
 * It holds (key hash, event time) pairs of keys known to be stored, and
 * for each source partition the time from which it holds every key stored
 * from that partition (its coverage: what was loaded from the table on
 * assignment, plus what the owner stored since). For the key of an event
 * at time t from partition P it answers:
 *   RED_SEEN_DUP  a stored key within the horizon of t: a duplicate;
 *   RED_SEEN_NEW  none, and P's coverage reaches back to t - horizon: no
 *                 key of P's events within the horizon was stored;
 *   RED_SEEN_ASK  otherwise: the caller asks the table.
 * NEW speaks for P only: a key stored from another partition is the
 * table's business (its unique key, the caller's lookups).
 *
 * Bounded: at most `capacity` pairs. When full, the pair added first is
 * evicted into a Bloom filter of evicted keys (16 bits a key; a new
 * generation every `capacity` keys, each with the time range of its
 * keys; 16 generations at most). A key not held is NEW only if no
 * generation whose range meets its horizon answers "maybe" (about one
 * key in 1 400 per generation is a false "maybe": then the table
 * decides). Beyond 16 generations the oldest is dropped and events whose
 * horizon reaches its time range are asked about. So a full filter costs
 * few queries and never correctness (a Bloom filter has no false "no");
 * if a generation cannot be allocated, the evicted pair's partition is
 * covered only past its time instead. Keys are compared by a 64-bit hash:
 * two keys that collide within a horizon make the second look seen (about
 * n^2 / 2^65 for n keys).
 *
 * No I/O; the partitions are small integers the caller assigns.
 */
#ifndef RED_SEEN_H
#define RED_SEEN_H

#include "red_attr.h"
#include "red_time.h"

#include <stddef.h>
#include <stdint.h>

typedef struct red_seen_s red_seen_t;

typedef enum {
        RED_SEEN_NEW,
        RED_SEEN_DUP,
        RED_SEEN_ASK,
} red_seen_verdict_t;

/** A filter of at most @p capacity keys (> 0) for @p horizon_us (>= 0).
 * Memory grows with the keys added. NULL on OOM. */
red_seen_t *red_seen_new(size_t capacity, int64_t horizon_us);
/** Frees the filter; accepts NULL. */
void red_seen_destroy(red_seen_t *s);

/** Every key stored from partition @p part with a time >= @p from has
 * been added (INT64_MIN: all of them). 0 or -ENOMEM. */
int red_seen_cover(red_seen_t *s, uint32_t part, red_time_t from) RED_MUSTCHECK;
/** Nothing is known of partition @p part any more (assigned again: others
 * may have stored keys of it meanwhile); its pairs stay, as facts. */
void red_seen_uncover(red_seen_t *s, uint32_t part);
/** True when partition @p part has a coverage (red_seen_cover()). */
bool red_seen_covered(const red_seen_t *s, uint32_t part);

/** Key @p hash of an event at @p t from @p part is stored. 0 or -ENOMEM. */
int red_seen_add(red_seen_t *s, uint32_t part, uint64_t hash,
                 red_time_t t) RED_MUSTCHECK;

/** The verdict on key @p hash of an event at @p t from @p part. */
red_seen_verdict_t red_seen_check(const red_seen_t *s, uint32_t part,
                                  uint64_t hash, red_time_t t);

/** Pairs held. */
size_t red_seen_count(const red_seen_t *s);

#endif
