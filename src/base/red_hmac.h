/*
 * red_hmac - HMAC-SHA256 (OpenSSL's libcrypto), for signed webhooks, and
 * plain SHA-256 of many short messages (the stored dedupe keys' hashes).
 */
#ifndef RED_HMAC_H
#define RED_HMAC_H

#include "red_attr.h"

#include <stddef.h>

/** Size of the hex digest and its NUL. */
#define RED_HMAC_HEX_SIZE 65

/**
 * HMAC-SHA256 of the @p n parts (@p parts[i], @p lens[i] bytes) taken as
 * one message, under @p key, as 64 lowercase hex digits into @p hex.
 * 0, or -1 when libcrypto fails.
 */
int red_hmac_sha256_hex(const void *key, size_t key_len,
                        const void *const *parts, const size_t *lens, size_t n,
                        char hex[RED_HMAC_HEX_SIZE]) RED_MUSTCHECK;

/** Bytes of a SHA-256 digest. */
#define RED_HMAC_SHA256_SIZE 32

/** A SHA-256 hasher (the digest fetched once, a context reused): for one
 * thread at a time. */
typedef struct red_hmac_hasher_s red_hmac_hasher_t;

/** NULL on OOM or when libcrypto has no SHA-256. */
red_hmac_hasher_t *red_hmac_hasher_new(void);
/** Frees the hasher; accepts NULL. */
void red_hmac_hasher_destroy(red_hmac_hasher_t *h);

/**
 * SHA-256 of the @p n parts (@p parts[i], @p lens[i] bytes) taken as one
 * message, into @p md. 0, or -1 when libcrypto fails.
 */
int red_hmac_hasher_sha256(
        red_hmac_hasher_t *h, const void *const *parts, const size_t *lens,
        size_t n, unsigned char md[RED_HMAC_SHA256_SIZE]) RED_MUSTCHECK;

#endif
