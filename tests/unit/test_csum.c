/* The Internet checksum (proto/csum.c): RFC 1071's worked example and other
 * known vectors, odd lengths (the last byte is a high byte), every alignment,
 * chained partial sums, the end-around carry of the fold, and RFC 1624's
 * incremental update against a full recompute. */
#include <criterion/criterion.h>
#include <string.h>

#include <seqcast/proto/csum.h>
#include "tests/support/testutil.h"

/* the obvious implementation: big-endian 16-bit words, end-around carry */
static uint16_t
ref_sum(const uint8_t *p, size_t len)
{
    uint32_t s = 0;

    for (size_t i = 0; i + 1 < len; i += 2)
        s += (uint32_t)p[i] << 8 | p[i + 1];
    if (len & 1)
        s += (uint32_t)p[len - 1] << 8;
    while (s >> 16)
        s = (s & 0xFFFF) + (s >> 16);
    return (uint16_t)s;
}

static uint16_t
folded(const void *p, size_t len)
{
    return sc_csum_fold(sc_csum_partial(p, len, 0));
}

Test(csum, rfc1071_worked_example)
{
    /* RFC 1071 s.3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 */
    static const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

    cr_assert_eq(sc_csum_fold(sc_csum_partial(b, sizeof(b), 0)), (uint16_t)~0xddf2);
    cr_assert_eq(folded(b, sizeof(b)), 0x220d);
}

Test(csum, ipv4_header_known_value)
{
    /* a textbook IPv4 header; its checksum is b861 */
    uint8_t h[20];

    tu_hex("4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7", h, sizeof(h));
    cr_assert_eq(folded(h, 20), 0xb861);
    h[10] = 0xb8;
    h[11] = 0x61;
    cr_assert_eq(folded(h, 20), 0, "a header with its checksum sums to zero");
}

Test(csum, odd_lengths_pad_the_last_byte_as_a_high_byte)
{
    static const uint8_t one[] = { 0x01 };
    static const uint8_t three[] = { 0x01, 0x02, 0x03 };
    static const uint8_t five[] = { 0xff, 0xff, 0xff, 0xff, 0x80 };

    cr_assert_eq(folded(one, 1), (uint16_t)~0x0100);
    cr_assert_eq(folded(three, 3), (uint16_t)~0x0402);
    /* ffff + ffff + 8000 = 2 7ffe -> 7ffe + 2 = 8000 */
    cr_assert_eq(folded(five, 5), (uint16_t)~0x8000);
    cr_assert_eq(folded(one, 0), 0xFFFF, "nothing sums to zero, complemented");
}

Test(csum, fold_carries_end_around_twice)
{
    cr_assert_eq(sc_csum_fold(0), 0xFFFF);
    cr_assert_eq(sc_csum_fold(0xFFFF), 0);
    cr_assert_eq(sc_csum_fold(0x10000), 0xFFFE);        /* 0000 + 1 */
    cr_assert_eq(sc_csum_fold(0x1FFFF), 0xFFFE);        /* ffff + 1 = 1 0000 -> 1 */
    cr_assert_eq(sc_csum_fold(0xFFFFFFFF), 0);          /* ffff + ffff = 1 fffe -> ffff */
    cr_assert_eq(sc_csum_fold(0x12345678), (uint16_t)~(0x5678 + 0x1234));
}

Test(csum, all_ones_and_long_buffers)
{
    static uint8_t b[65536];

    memset(b, 0xFF, sizeof(b));
    cr_assert_eq(folded(b, sizeof(b)), 0, "every word ffff sums to ffff");
    cr_assert_eq(folded(b, 65535), (uint16_t)~ref_sum(b, 65535));
    for (size_t i = 0; i < sizeof(b); i++)
        b[i] = (uint8_t)(i * 7 + 3);
    cr_assert_eq(folded(b, sizeof(b)), (uint16_t)~ref_sum(b, sizeof(b)));
}

/* Buffers past the 64 KiB chunk of the vector sum's 32-bit lanes, random and
 * all ones, every alignment: the reference in 64 bits. */
Test(csum, buffers_of_several_chunks_match_the_reference)
{
    static uint8_t b[3 * 65536 + 200];
    uint64_t r = 11;

    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < sizeof(b); i++)
            b[i] = pass ? 0xFF : (uint8_t)tu_rand(&r);
        for (size_t off = 0; off < 4; off++) {
            size_t len = sizeof(b) - off - (off & 1);
            uint64_t s = 0;
            for (size_t i = 0; i + 1 < len; i += 2)
                s += (uint64_t)b[off + i] << 8 | b[off + i + 1];
            while (s >> 16)
                s = (s & 0xFFFF) + (s >> 16);
            cr_assert_eq(folded(b + off, len), (uint16_t)~s, "pass %d off %zu len %zu", pass, off,
                         len);
        }
    }
}

Test(csum, every_length_and_alignment_matches_the_reference)
{
    static uint8_t buf[600];
    uint64_t r = 5;

    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)tu_rand(&r);
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len + off <= 520; len++)
            cr_assert_eq(folded(buf + off, len), (uint16_t)~ref_sum(buf + off, len),
                         "off %zu len %zu", off, len);
}

/* A partial sum starts from the caller's sum; pieces after the first start at
 * an even offset of the whole: chained, they give the whole's checksum. */
Test(csum, chained_partial_sums_equal_the_whole)
{
    static uint8_t buf[1500];
    uint64_t r = 11;

    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)tu_rand(&r);
    for (int t = 0; t < 2000; t++) {
        size_t len = 1 + tu_rand(&r) % sizeof(buf);
        size_t cut = (tu_rand(&r) % (len + 1)) & ~(size_t)1; /* even */
        uint32_t s = sc_csum_partial(buf, cut, 0);
        s = sc_csum_partial(buf + cut, len - cut, s);
        cr_assert_eq(sc_csum_fold(s), folded(buf, len), "len %zu cut %zu", len, cut);
    }
    /* the caller's sum is added, not replaced */
    cr_assert_eq(sc_csum_partial(buf, 100, 0x1234), 0x1234 + sc_csum_partial(buf, 100, 0));
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') equals recomputing over the data. */
Test(csum, incremental_update_equals_recompute)
{
    uint8_t b[64];
    uint64_t r = 17;

    for (int t = 0; t < 20000; t++) {
        unsigned w = (unsigned)(tu_rand(&r) % 32);
        uint16_t old, new_, c0, c1;
        for (size_t i = 0; i < sizeof(b); i++)
            b[i] = (uint8_t)tu_rand(&r);
        if (t < 64) /* the hard cases: all-zero and all-ones data and words */
            memset(b, t & 1 ? 0xFF : 0, sizeof(b));
        c0 = folded(b, sizeof(b));
        old = (uint16_t)(b[2 * w] << 8 | b[2 * w + 1]);
        new_ = t < 64 ? (uint16_t)(t & 2 ? 0xFFFF : 0) : (uint16_t)tu_rand(&r);
        b[2 * w] = (uint8_t)(new_ >> 8);
        b[2 * w + 1] = (uint8_t)new_;
        c1 = sc_csum_update16(c0, old, new_);
        /* 0 and ffff are the same one's-complement number: compare values */
        if (folded(b, sizeof(b)) == 0 || folded(b, sizeof(b)) == 0xFFFF)
            cr_assert(c1 == 0 || c1 == 0xFFFF, "t %d: %04x", t, c1);
        else
            cr_assert_eq(c1, folded(b, sizeof(b)), "t %d word %u %04x -> %04x", t, w, old, new_);
    }
    /* RFC 1624 s.4's example: an ffff-summing header, a word 5555 -> 3285 */
    cr_assert_eq(sc_csum_update16(0xdd2f, 0x5555, 0x3285), 0x0000);
}
