/*
 * red_uuid - 128-bit UUIDs (RFC 4122 / RFC 9562): parse, format, random
 * version 4, name-based version 5 (SHA-1), compare and hash.
 *
 * red_uuid_t is a plain value type on purpose (public struct, copied by
 * assignment, no lifetime); the 16 bytes are in network (big-endian) order,
 * exactly as written in the text form.
 */
#ifndef RED_UUID_H
#define RED_UUID_H

#include "red_attr.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct red_uuid_s {
        uint8_t b[16];
} red_uuid_t;

/** Bytes needed for the canonical text form plus its NUL. */
#define RED_UUID_STR_SIZE 37

/**
 * Parses the canonical 8-4-4-4-12 hex form (either case) or 32 hex digits
 * without hyphens. @p s is borrowed, exactly @p len bytes (no NUL needed),
 * and nothing else may surround the digits (no braces, no "urn:uuid:").
 * Returns 0 and sets *out, or -EINVAL leaving *out unchanged.
 */
int red_uuid_parse(const char *s, size_t len, red_uuid_t *out) RED_MUSTCHECK;

/** Writes the lowercase canonical form and a NUL into @p out. */
void red_uuid_format(const red_uuid_t *u, char out[RED_UUID_STR_SIZE]);

/**
 * A random (version 4) UUID from a per-thread xoshiro256** generator seeded
 * once per thread from getrandom() (reseeded in a child after fork()).
 * Thread-safe, no lock, no system call per call. Not for secrets.
 */
void red_uuid_v4(red_uuid_t *out);

/**
 * The name-based version 5 UUID of @p name (@p len bytes, borrowed) in
 * namespace @p ns: SHA-1(ns bytes || name), identical to Python's
 * uuid.uuid5(ns, name) for a UTF-8 name.
 */
void red_uuid_v5(red_uuid_t *out, const red_uuid_t *ns, const void *name,
                 size_t len);

/** True when all 16 bytes are zero. */
bool red_uuid_is_nil(const red_uuid_t *u);
/** Byte-wise (= text) order: negative, 0 or positive like memcmp. */
int red_uuid_cmp(const red_uuid_t *a, const red_uuid_t *b);
/** A well-mixed 64-bit hash for hash tables (stable across runs). */
uint64_t red_uuid_hash(const red_uuid_t *u);

/**
 * Namespace for reducerd's deterministic ids:
 * 38fd29a8-eb47-5e36-904c-23c54af1e341
 *   = uuid5(NAMESPACE_URL, "https://reducerd.dev/ns").
 */
extern const red_uuid_t red_uuid_ns_reducerd;

#endif
