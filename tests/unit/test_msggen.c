/* The generated messages seqcast-pub --count sends and seqcast-sub --verify
 * checks: the vector generator (16 bytes at a time) must write exactly the documented
 * bytes (the sequence big-endian, then (seq * 131 + 7 * i + (seq >> 8)) mod 256),
 * and the checker must notice any single damaged byte. */
#include <criterion/criterion.h>
#include <string.h>

#include "apps/msggen.h"

static uint8_t
reference(uint64_t seq, size_t i)
{
    if (i < 8)
        return (uint8_t)(seq >> (56 - 8 * i));
    return (uint8_t)(seq * 131u + i * 7u + (seq >> 8));
}

Test(msggen, bytes_match_the_reference_for_every_length)
{
    static uint8_t buf[3100];
    const uint64_t seqs[] = { 1, 2, 255, 256, 999, 123456789, UINT64_C(0xfedcba9876543210) };

    for (size_t s = 0; s < sizeof(seqs) / sizeof(seqs[0]); s++)
        for (size_t len = 0; len <= 600; len += (len < 80 ? 1 : 37)) {
            memset(buf, 0xAA, sizeof(buf));
            sc_msggen_fill(seqs[s], buf, len);
            for (size_t i = 0; i < len; i++)
                cr_assert_eq(buf[i], reference(seqs[s], i), "seq %llu len %zu byte %zu",
                             (unsigned long long)seqs[s], len, i);
            cr_assert_eq(buf[len], 0xAA, "wrote past len %zu", len);
            cr_assert(sc_msggen_check(seqs[s], buf, len));
        }
}

Test(msggen, any_single_damaged_byte_is_noticed)
{
    static uint8_t buf[1344];

    sc_msggen_fill(42, buf, sizeof(buf));
    for (size_t i = 0; i < sizeof(buf); i++) {
        buf[i] ^= 0x01;
        cr_assert(!sc_msggen_check(42, buf, sizeof(buf)), "byte %zu flipped, not noticed", i);
        buf[i] ^= 0x01;
    }
    cr_assert(sc_msggen_check(42, buf, sizeof(buf)));
    cr_assert(!sc_msggen_check(43, buf, sizeof(buf)), "another sequence's bytes accepted");
}
