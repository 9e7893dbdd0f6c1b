/* red_hmac - HMAC-SHA256 and SHA-256 over a message in parts. */
#include "red_hmac.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>

/* HMAC_* is deprecated in OpenSSL 3 in favour of EVP_MAC, which Debian
 * 12's libssl-dev has: use that. */
#include <openssl/core_names.h>
#include <openssl/params.h>

int red_hmac_sha256_hex(const void *key, size_t key_len,
                        const void *const *parts, const size_t *lens, size_t n,
                        char hex[RED_HMAC_HEX_SIZE])
{
        EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        EVP_MAC_CTX *ctx = NULL;
        OSSL_PARAM params[2];
        unsigned char md[32];
        size_t md_len = 0;
        int r = -1;

        if (!mac || !(ctx = EVP_MAC_CTX_new(mac))) {
                goto err;
        }
        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                     (char *)"SHA256", 0);
        params[1] = OSSL_PARAM_construct_end();
        /* an empty key is a valid HMAC key; OpenSSL wants a pointer */
        if (!EVP_MAC_init(ctx, key_len ? key : (const void *)"", key_len,
                          params)) {
                goto err;
        }
        for (size_t i = 0; i < n; i++) {
                if (lens[i] && !EVP_MAC_update(ctx, parts[i], lens[i])) {
                        goto err;
                }
        }
        if (!EVP_MAC_final(ctx, md, &md_len, sizeof(md)) || md_len != 32) {
                goto err;
        }
        for (size_t i = 0; i < 32; i++) {
                snprintf(hex + 2 * i, 3, "%02x", md[i]);
        }
        r = 0;
err:
        EVP_MAC_CTX_free(ctx);
        EVP_MAC_free(mac);
        return r;
}

struct red_hmac_hasher_s {
        EVP_MD *md;
        EVP_MD_CTX *ctx;
};

red_hmac_hasher_t *red_hmac_hasher_new(void)
{
        red_hmac_hasher_t *h = calloc(1, sizeof(*h));

        if (!h) {
                return NULL;
        }
        /* fetched once: an implicit fetch per digest costs a lookup */
        if (!(h->md = EVP_MD_fetch(NULL, "SHA256", NULL)) ||
            !(h->ctx = EVP_MD_CTX_new())) {
                red_hmac_hasher_destroy(h);
                return NULL;
        }
        return h;
}

void red_hmac_hasher_destroy(red_hmac_hasher_t *h)
{
        if (!h) {
                return;
        }
        EVP_MD_CTX_free(h->ctx);
        EVP_MD_free(h->md);
        free(h);
}

int red_hmac_hasher_sha256(red_hmac_hasher_t *h, const void *const *parts,
                           const size_t *lens, size_t n,
                           unsigned char md[RED_HMAC_SHA256_SIZE])
{
        unsigned int len = 0;

        if (!EVP_DigestInit_ex2(h->ctx, h->md, NULL)) {
                return -1;
        }
        for (size_t i = 0; i < n; i++) {
                if (lens[i] && !EVP_DigestUpdate(h->ctx, parts[i], lens[i])) {
                        return -1;
                }
        }
        return EVP_DigestFinal_ex(h->ctx, md, &len) &&
                               len == RED_HMAC_SHA256_SIZE
                       ? 0
                       : -1;
}
