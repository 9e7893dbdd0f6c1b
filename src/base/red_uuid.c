/* red_uuid - UUID text forms, random v4, SHA-1 name-based v5, hashing. */
#include "red_uuid.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/*
 * uuid5(NAMESPACE_URL, "https://reducerd.dev/ns"), i.e. in Python:
 *   uuid.uuid5(uuid.NAMESPACE_URL, "https://reducerd.dev/ns")
 *   -> 38fd29a8-eb47-5e36-904c-23c54af1e341
 * tests/unit/test_uuid.c recomputes it with red_uuid_v5().
 */
const red_uuid_t red_uuid_ns_reducerd = {{0x38, 0xfd, 0x29, 0xa8, 0xeb, 0x47,
                                          0x5e, 0x36, 0x90, 0x4c, 0x23, 0xc5,
                                          0x4a, 0xf1, 0xe3, 0x41}};

static inline uint64_t rotl64(uint64_t x, int k)
{
        return (x << k) | (x >> (64 - k));
}

static inline uint32_t rotl32(uint32_t x, int k)
{
        return (x << k) | (x >> (32 - k));
}

/*
 * ------------------------------------------------------------------------
 * Text forms
 * ------------------------------------------------------------------------
 */

static inline int hexval(unsigned char c)
{
        if ((unsigned)(c - '0') <= 9) {
                return c - '0';
        }
        c |= 0x20; /* ASCII lower case; digits were handled above */
        if ((unsigned)(c - 'a') <= 5) {
                return c - 'a' + 10;
        }
        return -1;
}

int red_uuid_parse(const char *s, size_t len, red_uuid_t *out)
{
        red_uuid_t u;
        size_t i, n = 0;
        bool hyphens;

        if (!s || !out) {
                return -EINVAL;
        }
        if (len == 36) {
                hyphens = true;
        } else if (len == 32) {
                hyphens = false;
        } else {
                return -EINVAL;
        }
        for (i = 0; i < len; i++) {
                int hi, lo;

                if (hyphens && (i == 8 || i == 13 || i == 18 || i == 23)) {
                        if (s[i] != '-') {
                                return -EINVAL;
                        }
                        continue;
                }
                hi = hexval((unsigned char)s[i]);
                lo = hexval((unsigned char)s[i + 1]);
                if (hi < 0 || lo < 0) {
                        return -EINVAL;
                }
                u.b[n++] = (uint8_t)(hi << 4 | lo);
                i++;
        }
        *out = u;
        return 0;
}

void red_uuid_format(const red_uuid_t *u, char out[RED_UUID_STR_SIZE])
{
        static const char hex[] = "0123456789abcdef";
        char *p = out;
        int i;

        for (i = 0; i < 16; i++) {
                if (i == 4 || i == 6 || i == 8 || i == 10) {
                        *p++ = '-';
                }
                *p++ = hex[u->b[i] >> 4];
                *p++ = hex[u->b[i] & 0x0f];
        }
        *p = '\0';
}

/*
 * ------------------------------------------------------------------------
 * Version 4: per-thread xoshiro256**
 *
 * Each thread seeds its own state once from getrandom(), so there is no
 * lock and no system call per UUID. A fork()ed child would otherwise repeat
 * its parent's sequence, so a pthread_atfork() child handler marks the
 * forking thread's state (the only thread in the child) for reseeding.
 * ------------------------------------------------------------------------
 */

static _Thread_local uint64_t rng_state[4];
static _Thread_local bool rng_seeded;
static pthread_once_t rng_atfork_once = PTHREAD_ONCE_INIT;

static void rng_atfork_child(void)
{
        rng_seeded = false;
}

static void rng_atfork_register(void)
{
        /* On failure (ENOMEM) a forked child repeats the parent's ids. */
        (void)pthread_atfork(NULL, NULL, rng_atfork_child);
}

/* splitmix64 step: spreads any seed, including zero, over all 64 bits. */
static uint64_t splitmix64(uint64_t *x)
{
        uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return z ^ (z >> 31);
}

static void rng_seed(void)
{
        uint64_t seed[4] = {0, 0, 0, 0};
        uint8_t *p = (uint8_t *)seed;
        size_t got = 0;
        int i;

        pthread_once(&rng_atfork_once, rng_atfork_register);
        while (got < sizeof(seed)) {
                ssize_t r = getrandom(p + got, sizeof(seed) - got, 0);

                if (r < 0) {
                        if (errno == EINTR) {
                                continue;
                        }
                        break;
                }
                got += (size_t)r;
        }
        if (got < sizeof(seed)) {
                /* No getrandom (very old kernel): mix time, pid and address. */
                struct timespec ts;

                clock_gettime(CLOCK_REALTIME, &ts);
                seed[0] ^= (uint64_t)ts.tv_sec * 1000000000u +
                           (uint64_t)ts.tv_nsec;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                seed[1] ^= (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32);
                seed[2] ^= (uint64_t)getpid();
                seed[3] ^= (uint64_t)(uintptr_t)&rng_state;
        }
        for (i = 0; i < 4; i++) {
                uint64_t x = seed[i];

                rng_state[i] = splitmix64(&x);
        }
        rng_seeded = true;
}

static uint64_t rng_next(void)
{
        uint64_t *s = rng_state;
        uint64_t result = rotl64(s[1] * 5, 7) * 9;
        uint64_t t = s[1] << 17;

        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = rotl64(s[3], 45);
        return result;
}

static void set_version(red_uuid_t *u, int version)
{
        u->b[6] = (uint8_t)((u->b[6] & 0x0f) | (version << 4));
        u->b[8] = (uint8_t)((u->b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
}

void red_uuid_v4(red_uuid_t *out)
{
        uint64_t a, b;

        if (!rng_seeded) {
                rng_seed();
        }
        a = rng_next();
        b = rng_next();
        memcpy(out->b, &a, 8);
        memcpy(out->b + 8, &b, 8);
        set_version(out, 4);
}

/*
 * ------------------------------------------------------------------------
 * Version 5: SHA-1 (FIPS 180-4), only what uuid5 needs
 * ------------------------------------------------------------------------
 */

typedef struct sha1_s {
        uint32_t h[5];
        uint64_t total; /* bytes hashed so far */
        uint8_t block[64];
        size_t fill; /* bytes waiting in block */
} sha1_t;

static void sha1_init(sha1_t *c)
{
        c->h[0] = 0x67452301u;
        c->h[1] = 0xefcdab89u;
        c->h[2] = 0x98badcfeu;
        c->h[3] = 0x10325476u;
        c->h[4] = 0xc3d2e1f0u;
        c->total = 0;
        c->fill = 0;
}

static void sha1_compress(uint32_t h[5], const uint8_t *blk)
{
        uint32_t w[80];
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
        int i;

        for (i = 0; i < 16; i++) {
                w[i] = (uint32_t)blk[4 * i] << 24 |
                       (uint32_t)blk[4 * i + 1] << 16 |
                       (uint32_t)blk[4 * i + 2] << 8 | (uint32_t)blk[4 * i + 3];
        }
        for (i = 16; i < 80; i++) {
                w[i] = rotl32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        }
        for (i = 0; i < 80; i++) {
                uint32_t f, k, tmp;

                if (i < 20) {
                        f = (b & c) | (~b & d);
                        k = 0x5a827999u;
                } else if (i < 40) {
                        f = b ^ c ^ d;
                        k = 0x6ed9eba1u;
                } else if (i < 60) {
                        f = (b & c) | (b & d) | (c & d);
                        k = 0x8f1bbcdcu;
                } else {
                        f = b ^ c ^ d;
                        k = 0xca62c1d6u;
                }
                tmp = rotl32(a, 5) + f + e + k + w[i];
                e = d;
                d = c;
                c = rotl32(b, 30);
                b = a;
                a = tmp;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
}

static void sha1_update(sha1_t *c, const void *data, size_t len)
{
        const uint8_t *p = data;

        c->total += len;
        if (c->fill > 0) {
                size_t take = 64 - c->fill < len ? 64 - c->fill : len;

                memcpy(c->block + c->fill, p, take);
                c->fill += take;
                p += take;
                len -= take;
                if (c->fill < 64) {
                        return;
                }
                sha1_compress(c->h, c->block);
                c->fill = 0;
        }
        while (len >= 64) {
                sha1_compress(c->h, p);
                p += 64;
                len -= 64;
        }
        if (len > 0) {
                memcpy(c->block, p, len);
                c->fill = len;
        }
}

static void sha1_final(sha1_t *c, uint8_t digest[20])
{
        uint64_t bits = c->total * 8;
        int i;

        c->block[c->fill++] = 0x80;
        if (c->fill > 56) {
                memset(c->block + c->fill, 0, 64 - c->fill);
                sha1_compress(c->h, c->block);
                c->fill = 0;
        }
        memset(c->block + c->fill, 0, 56 - c->fill);
        for (i = 0; i < 8; i++) {
                c->block[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
        }
        sha1_compress(c->h, c->block);
        for (i = 0; i < 5; i++) {
                digest[4 * i] = (uint8_t)(c->h[i] >> 24);
                digest[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
                digest[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
                digest[4 * i + 3] = (uint8_t)c->h[i];
        }
}

void red_uuid_v5(red_uuid_t *out, const red_uuid_t *ns, const void *name,
                 size_t len)
{
        sha1_t c;
        uint8_t digest[20];

        sha1_init(&c);
        sha1_update(&c, ns->b, sizeof(ns->b));
        if (len > 0) {
                sha1_update(&c, name, len);
        }
        sha1_final(&c, digest);
        memcpy(out->b, digest, 16);
        set_version(out, 5);
}

/*
 * ------------------------------------------------------------------------
 * Comparison and hashing
 * ------------------------------------------------------------------------
 */

bool red_uuid_is_nil(const red_uuid_t *u)
{
        static const red_uuid_t nil;

        return memcmp(u->b, nil.b, sizeof(u->b)) == 0;
}

int red_uuid_cmp(const red_uuid_t *a, const red_uuid_t *b)
{
        int r = memcmp(a->b, b->b, sizeof(a->b));

        return (r > 0) - (r < 0);
}

/* A murmur3-style 64-bit finaliser: each input bit flips ~half the output. */
static inline uint64_t mix64(uint64_t x)
{
        x ^= x >> 33;
        x *= UINT64_C(0xff51afd7ed558ccd);
        x ^= x >> 33;
        x *= UINT64_C(0xc4ceb9fe1a85ec53);
        x ^= x >> 33;
        return x;
}

uint64_t red_uuid_hash(const red_uuid_t *u)
{
        uint64_t lo, hi;

        memcpy(&lo, u->b, 8);
        memcpy(&hi, u->b + 8, 8);
        return mix64(lo ^ mix64(hi ^ UINT64_C(0x9e3779b97f4a7c15)));
}
