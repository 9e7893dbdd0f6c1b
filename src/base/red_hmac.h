/*
 * red_hmac - HMAC-SHA256 (OpenSSL's libcrypto), for signed webhooks.
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

#endif
