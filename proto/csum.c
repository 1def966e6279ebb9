#include "csum.h"

#include <string.h>

/* One's-complement sums are byte-order independent (RFC 1071 s.2(B)): we add
 * native-endian 32-bit words into a 64-bit accumulator and byte-swap the folded
 * 16-bit result once at the end, which is several times faster than summing
 * big-endian 16-bit words one by one. */
uint32_t
sc_csum_partial(const void *buf, size_t len, uint32_t sum)
{
    const uint8_t *p = buf;
    uint64_t acc = 0;
    uint32_t w;

    while (len >= 16) {
        uint32_t a, b, c, d;
        memcpy(&a, p, 4);
        memcpy(&b, p + 4, 4);
        memcpy(&c, p + 8, 4);
        memcpy(&d, p + 12, 4);
        acc += (uint64_t)a + b + c + d;
        p += 16;
        len -= 16;
    }
    while (len >= 4) {
        memcpy(&w, p, 4);
        acc += w;
        p += 4;
        len -= 4;
    }
    if (len >= 2) {
        uint16_t h;
        memcpy(&h, p, 2);
        acc += h;
        p += 2;
        len -= 2;
    }
    if (len) {
        /* the odd byte is the high byte of a big-endian word: in native
         * little-endian memory order that is the low byte */
        uint8_t tail[2] = { p[0], 0 };
        uint16_t h;
        memcpy(&h, tail, 2);
        acc += h;
    }
    /* fold 64 -> 16 in native order, then swap to network order */
    acc = (acc & 0xFFFFFFFF) + (acc >> 32);
    acc = (acc & 0xFFFFFFFF) + (acc >> 32);
    acc = (acc & 0xFFFF) + (acc >> 16);
    acc = (acc & 0xFFFF) + (acc >> 16);
    acc = (acc & 0xFFFF) + (acc >> 16);
    uint16_t folded = (uint16_t)acc;
    if (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
        folded = __builtin_bswap16(folded);
    return sum + folded;
}
