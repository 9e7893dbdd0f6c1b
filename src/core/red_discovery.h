/*
 * red_discovery - what the discovery mirror of the node registry (etcd,
 * src/app/red_etcd_mirror) should hold, and how what it holds differs:
 * one entry per healthy node, its key (prefix + node_id), its value (the
 * node as JSON text) and the TTL of its lease (factor x the node's
 * health-check interval); the comparison of the wanted set with what etcd
 * holds (or what the mirror last wrote), entry by entry, into the repairs
 * to make and the counts of the consistency gauge. Pure.
 */
#ifndef RED_DISCOVERY_H
#define RED_DISCOVERY_H

#include "red_attr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** One key: wanted (from Postgres) or held (in etcd). Owned strings. */
typedef struct red_discovery_entry_s {
        char *key;
        char *value;
        int64_t ttl_s; /**< wanted: its lease's TTL; held: 0 */
        int64_t lease; /**< held: the lease it is attached to (0: none) */
} red_discovery_entry_t;

/** A set of entries; red_discovery_set_sort() orders them by key. */
typedef struct red_discovery_set_s {
        red_discovery_entry_t *items;
        size_t cnt, cap;
} red_discovery_set_t;

void red_discovery_set_init(red_discovery_set_t *s);
/** Adds a copy of @p key and @p value. 0, or -ENOMEM. */
int red_discovery_set_add(red_discovery_set_t *s, const char *key,
                          const char *value, int64_t ttl_s,
                          int64_t lease) RED_MUSTCHECK;
/** Orders by key (byte order, as etcd does). */
void red_discovery_set_sort(red_discovery_set_t *s);
/** Empties the set (keeps it usable). */
void red_discovery_set_clear(red_discovery_set_t *s);
void red_discovery_set_destroy(red_discovery_set_t *s);
/** Moves @p from into @p to (emptied first); @p from ends empty. */
void red_discovery_set_move(red_discovery_set_t *to, red_discovery_set_t *from);

/** How a key stands. */
typedef enum {
        RED_DISCOVERY_AGREE,     /**< same value, on the wanted lease */
        RED_DISCOVERY_MISSING,   /**< wanted, not held: to put */
        RED_DISCOVERY_DIFFERENT, /**< held with another value or lease: put */
        RED_DISCOVERY_STRAY,     /**< held, not wanted: to delete */
        RED_DISCOVERY__CNT
} red_discovery_state_t;

/** "agree", "missing", "different", "stray". */
const char *red_discovery_state_name(red_discovery_state_t st);

/** One repair: put @p want (MISSING, DIFFERENT) or delete @p have's key
 * (STRAY). Both borrowed from the sets compared. */
typedef struct red_discovery_action_s {
        red_discovery_state_t state;
        const red_discovery_entry_t *want;
        const red_discovery_entry_t *have;
} red_discovery_action_t;

/**
 * The lease a wanted entry of TTL @p ttl_s should be on, or -1 when the
 * leases are not to be compared.
 */
typedef int64_t(red_discovery_lease_cb)(void *opaque, int64_t ttl_s);

/**
 * Compares @p want with @p have (both sorted): fills @p counts (every
 * key of either set in exactly one state) and returns the repairs in
 * key order in *@p actions (malloc'd; caller frees; NULL when none).
 * Returns the number of repairs, or -ENOMEM.
 */
long red_discovery_diff(const red_discovery_set_t *want,
                        const red_discovery_set_t *have,
                        red_discovery_lease_cb *lease_for, void *opaque,
                        red_discovery_action_t **actions,
                        size_t counts[RED_DISCOVERY__CNT]) RED_MUSTCHECK;

/** The share of keys that agree among all keys of both sets (1 when
 * there are none). */
double red_discovery_ratio(const size_t counts[RED_DISCOVERY__CNT]);

/**
 * The lease TTL of a node: @p factor x its health-check interval
 * @p interval_s (no interval, or not positive: @p default_s), rounded up
 * to whole seconds, at least 1.
 */
int64_t red_discovery_ttl(double interval_s, bool has_interval,
                          double default_s, double factor);

#endif
