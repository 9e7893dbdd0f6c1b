/*
 * red_map - an open-addressing hash table of item pointers. The caller
 * hashes its keys and supplies the equality test, so one table type
 * serves cells, sub-measure keys and anything else keyed by bytes.
 */
#ifndef RED_MAP_H
#define RED_MAP_H

#include "red_attr.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct red_map_s red_map_t;

/** Returns true when @p item has key @p key. */
typedef bool(red_map_eq_cb)(const void *item, const void *key);

/** An empty map; NULL on OOM. Caller destroys with red_map_destroy(). */
red_map_t *red_map_new(void);
/** Frees the table (not the items); accepts NULL. */
void red_map_destroy(red_map_t *m);

/** The item with @p key and @p hash, or NULL. */
void *red_map_find(const red_map_t *m, uint64_t hash, red_map_eq_cb *eq,
                   const void *key);
/** Adds @p item (its key must not be present). 0 or -ENOMEM. */
int red_map_insert(red_map_t *m, uint64_t hash, void *item) RED_MUSTCHECK;
/** Removes every item (keeps the allocation). */
void red_map_clear(red_map_t *m);
size_t red_map_count(const red_map_t *m);
/**
 * Iterates: *@p pos starts at 0; returns the next item or NULL at the
 * end. Order is the table's, not insertion order.
 */
void *red_map_next(const red_map_t *m, size_t *pos);

/** 64-bit hash of bytes (FNV-1a with a final avalanche). */
uint64_t red_map_hash_bytes(const void *data, size_t len, uint64_t seed);
/** Mixes a 64-bit value into a hash. */
uint64_t red_map_hash_mix(uint64_t h, uint64_t v);

#endif
