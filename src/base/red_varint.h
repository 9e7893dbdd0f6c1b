/*
 * red_varint - unsigned LEB128 ("varint") and zigzag, the integers of the
 * binary formats (cell states, sketches).
 *
 * A varint holds 7 bits per byte, least significant group first; the high
 * bit of a byte says another follows. A 64-bit value takes 1..10 bytes.
 *
 * The encoder writes the shortest form only, and the decoder accepts
 * exactly that: it rejects over-long forms (a last byte of 0 after the
 * first, e.g. 80 00 for 0), values past 64 bits (a tenth byte other than
 * 0 or 1, or an eleventh byte) and tells truncation (the input ends inside
 * a varint) apart from both. So every value has exactly one encoding, equal
 * states serialise to equal bytes, and a corrupt state cannot slip an
 * alias through. Formats written before this module used the same
 * shortest-form encoder, so what they stored still decodes.
 *
 * Header only: the functions are small and sit on the hot paths of the
 * sketch and cell codecs.
 */
#ifndef RED_VARINT_H
#define RED_VARINT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/** The longest varint: a 64-bit value takes at most 10 bytes. */
#define RED_VARINT_MAX 10

/** red_varint_decode(): the input ends inside the varint. */
#define RED_VARINT_TRUNCATED 0
/** red_varint_decode(): an over-long form or a value past 64 bits. */
#define RED_VARINT_BAD (-1)

/**
 * Writes @p v in its shortest form to @p out (room for RED_VARINT_MAX
 * bytes) and returns the number of bytes written (1..10).
 */
static inline size_t red_varint_encode(uint64_t v, uint8_t *out)
{
        size_t n = 0;

        while (v >= 0x80) {
                out[n++] = (uint8_t)(v | 0x80);
                v >>= 7;
        }
        out[n++] = (uint8_t)v;
        return n;
}

/** The number of bytes red_varint_encode() writes for @p v. */
static inline size_t red_varint_len(uint64_t v)
{
        size_t n = 1;

        while (v >= 0x80) {
                v >>= 7;
                n++;
        }
        return n;
}

/**
 * Reads one varint from the @p avail bytes at @p p into *@p v. Returns the
 * number of bytes it takes (1..10), RED_VARINT_TRUNCATED when the input
 * ends inside it, RED_VARINT_BAD for an over-long form or a value past 64
 * bits. *@p v is written only on success.
 */
static inline int red_varint_decode(const uint8_t *p, size_t avail, uint64_t *v)
{
        uint64_t u = 0;

        for (size_t i = 0; i < RED_VARINT_MAX; i++) {
                uint8_t b;

                if (i == avail) {
                        return RED_VARINT_TRUNCATED;
                }
                b = p[i];
                /* the tenth byte holds bit 63 only */
                if (i == RED_VARINT_MAX - 1 && b > 1) {
                        return RED_VARINT_BAD;
                }
                u |= (uint64_t)(b & 0x7f) << (7 * i);
                if (!(b & 0x80)) {
                        /* a last 0 byte adds nothing: over-long */
                        if (b == 0 && i > 0) {
                                return RED_VARINT_BAD;
                        }
                        *v = u;
                        return (int)i + 1;
                }
        }
        return RED_VARINT_BAD;
}

/** Zigzag: 0, -1, 1, -2, ... to 0, 1, 2, 3, ... (small magnitudes stay
 * short). */
static inline uint64_t red_varint_zigzag(int64_t v)
{
        uint64_t u = (uint64_t)v << 1;

        return v < 0 ? ~u : u;
}

/** The inverse of red_varint_zigzag(). */
static inline int64_t red_varint_unzigzag(uint64_t u)
{
        uint64_t s = (u & 1) ? ~(u >> 1) : u >> 1;
        int64_t v;

        /* the bits as they are: no implementation-defined conversion */
        memcpy(&v, &s, sizeof(v));
        return v;
}

#endif
