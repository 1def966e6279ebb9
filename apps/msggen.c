#include "apps/msggen.h"

#include <string.h>

size_t
sc_msggen_size(uint64_t seq, size_t size)
{
    if (size)
        return size;
    return seq % 1000 == 999 ? 3000 : 8 + (size_t)(seq % 57); /* now and then, a big one */
}

/* Bytes 8.. are base + 7 * i (mod 256). They are made 16 at a time: a byte
 * vector of the ramp 7 * i, read from a table at i mod 256 (the ramp's
 * period), plus the base in every lane -- byte additions, no carries between
 * lanes (GCC/clang vector extensions: SSE2 on x86-64, NEON on arm64). The
 * first 8 bytes are the sequence, one big-endian store. At 32 B the word-wise
 * generator this replaces cost seqcast-pub 205 instructions a message, more
 * than the engine's whole send path (callgrind; docs/BENCHMARKS.md). */
typedef uint8_t sc_v16 __attribute__((vector_size(16)));

static const struct ramp {
    uint8_t b[256 + 16]; /* b[i] = 7 * i mod 256, and 16 more for a vector read at 255 */
} RAMP = {
#define R1(i) (uint8_t)(7u * (i))
#define R4(i) R1(i), R1(i + 1), R1(i + 2), R1(i + 3)
#define R16(i) R4(i), R4(i + 4), R4(i + 8), R4(i + 12)
#define R64(i) R16(i), R16(i + 16), R16(i + 32), R16(i + 48)
    { R64(0), R64(64), R64(128), R64(192), R16(256) }
#undef R64
#undef R16
#undef R4
#undef R1
};

static inline uint8_t
base_of(uint64_t seq)
{
    return (uint8_t)(seq * 131u + (seq >> 8));
}

static inline sc_v16
chunk(uint8_t base, size_t i) /* bytes i .. i + 15 */
{
    sc_v16 r;
    memcpy(&r, RAMP.b + (i & 255), 16);
    return r + base; /* (the scalar is added to every lane) */
}

static inline uint8_t
byte_at(uint64_t seq, uint8_t base, size_t i)
{
    if (i < 8)
        return (uint8_t)(seq >> (56 - 8 * i));
    return (uint8_t)(base + RAMP.b[i & 255]);
}

void
sc_msggen_fill(uint64_t seq, uint8_t *buf, size_t len)
{
    uint8_t base = base_of(seq);
    size_t i = 0;

    if (len >= 8) {
        uint64_t be = __builtin_bswap64(seq);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        be = seq;
#endif
        memcpy(buf, &be, 8);
        i = 8;
    }
    for (; i + 16 <= len; i += 16) {
        sc_v16 v = chunk(base, i);
        memcpy(buf + i, &v, 16);
    }
    if (len - i >= 8) {
        sc_v16 v = chunk(base, i);
        memcpy(buf + i, &v, 8);
        i += 8;
    }
    for (; i < len; i++)
        buf[i] = byte_at(seq, base, i);
}

bool
sc_msggen_check(uint64_t seq, const uint8_t *buf, size_t len)
{
    uint8_t base = base_of(seq);
    sc_v16 diff = { 0 };
    uint8_t bdiff = 0;
    size_t i = 0;
    uint64_t d[2];

    if (len >= 8) {
        uint64_t be = __builtin_bswap64(seq), w;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        be = seq;
#endif
        memcpy(&w, buf, 8);
        bdiff = w != be;
        i = 8;
    }
    for (; i + 16 <= len; i += 16) {
        sc_v16 v;
        memcpy(&v, buf + i, 16);
        diff |= v ^ chunk(base, i);
    }
    if (len - i >= 8) {
        sc_v16 v = chunk(base, i);
        uint64_t w, x;
        memcpy(&w, buf + i, 8);
        memcpy(&x, &v, 8);
        bdiff |= w != x;
        i += 8;
    }
    for (; i < len; i++)
        bdiff |= (uint8_t)(buf[i] ^ byte_at(seq, base, i));
    memcpy(d, &diff, 16);
    return !(d[0] | d[1] | bdiff);
}
