#include "apps/msggen.h"

#include <string.h>

size_t
sc_msggen_size(uint64_t seq, size_t size)
{
    if (size)
        return size;
    return seq % 1000 == 999 ? 3000 : 8 + (size_t)(seq % 57); /* now and then, a big one */
}

static uint8_t
byte_at(uint64_t seq, size_t i)
{
    if (i < 8)
        return (uint8_t)(seq >> (56 - 8 * i));
    return (uint8_t)(seq * 131u + i * 7u + (seq >> 8));
}

/* Bytes 8.. are base + 7 * i (mod 256), made 8 at a time with byte-wise
 * (carry-less) additions in a 64-bit word: at 1344 B a byte-at-a-time
 * generator cost the publisher more than the engine did (perf, make bench). */
#define LANES(b) ((uint64_t)(b) * 0x0101010101010101ull)

static uint8_t
base_of(uint64_t seq)
{
    return (uint8_t)(seq * 131u + (seq >> 8));
}

static uint64_t
add8(uint64_t a, uint64_t b) /* eight independent byte additions, mod 256 each */
{
    const uint64_t h = LANES(0x80);
    return ((a & ~h) + (b & ~h)) ^ ((a ^ b) & h);
}

/* bytes i .. i + 7 of the ramp 7 * i, little-endian in the word */
static uint64_t
ramp_at(size_t i)
{
    uint64_t w = 0;
    for (unsigned k = 0; k < 8; k++)
        w |= (uint64_t)(uint8_t)(7u * (unsigned)(i + k)) << (8 * k);
    return w;
}

static uint64_t
word_le(uint64_t w) /* the word as bytes in memory order */
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return __builtin_bswap64(w);
#else
    return w;
#endif
}

void
sc_msggen_fill(uint64_t seq, uint8_t *buf, size_t len)
{
    uint64_t basev = LANES(base_of(seq)), r = ramp_at(8), step = LANES(56);
    size_t i;

    for (i = 0; i < len && i < 8; i++)
        buf[i] = byte_at(seq, i);
    for (; i + 8 <= len; i += 8, r = add8(r, step)) {
        uint64_t w = word_le(add8(basev, r));
        memcpy(buf + i, &w, 8);
    }
    for (; i < len; i++)
        buf[i] = byte_at(seq, i);
}

bool
sc_msggen_check(uint64_t seq, const uint8_t *buf, size_t len)
{
    uint64_t basev = LANES(base_of(seq)), r = ramp_at(8), step = LANES(56), diff = 0;
    size_t i;

    for (i = 0; i < len && i < 8; i++)
        diff |= (uint8_t)(buf[i] ^ byte_at(seq, i));
    for (; i + 8 <= len; i += 8, r = add8(r, step)) {
        uint64_t w;
        memcpy(&w, buf + i, 8);
        diff |= w ^ word_le(add8(basev, r));
    }
    for (; i < len; i++)
        diff |= (uint8_t)(buf[i] ^ byte_at(seq, i));
    return diff == 0;
}
