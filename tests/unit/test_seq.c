/* 32-bit serial-number helpers and widening to 64 bits across the wrap. */
#include <criterion/criterion.h>

#include <seqcast/proto/seq.h>

Test(seq, compare_across_wrap)
{
    cr_assert(sc_seq32_lt(0xFFFFFFFF, 0));
    cr_assert(sc_seq32_lt(0xFFFFFF00, 0x10));
    cr_assert(sc_seq32_gt(0x10, 0xFFFFFF00));
    cr_assert(!sc_seq32_lt(5, 5));
    cr_assert(sc_seq32_le(5, 5));
    cr_assert(sc_seq32_ge(5, 5));
    cr_assert(sc_seq32_lt(0, 0x7FFFFFFF));
    cr_assert(!sc_seq32_lt(0, 0x80000001)); /* more than half ahead: behind */
    cr_assert_eq(sc_seq32_diff(0xFFFFFFFE, 2), 4);
    cr_assert_eq(sc_seq32_diff(2, 0xFFFFFFFE), -4);
    cr_assert_eq(sc_seq32_diff(0, 0x7FFFFFFF), 0x7FFFFFFF);
}

Test(seq, widen_tracks_epochs)
{
    const uint64_t e = UINT64_C(1) << 32;

    cr_assert_eq(sc_seq32_widen(0, 5), 5);
    cr_assert_eq(sc_seq32_widen(e - 2, 1), e + 1);           /* forward over the wrap */
    cr_assert_eq(sc_seq32_widen(e + 1, 0xFFFFFFFE), e - 2);  /* backward over the wrap */
    cr_assert_eq(sc_seq32_widen(3 * e + 100, 90), 3 * e + 90);
    cr_assert_eq(sc_seq32_widen(3, 0xFFFFFFF0), 0xFFFFFFF0); /* no epoch below 0 */
    for (uint64_t ref = e - 1000; ref < e + 1000; ref += 7)
        for (int d = -500; d <= 500; d += 13)
            cr_assert_eq(sc_seq32_widen(ref, (uint32_t)(ref + (uint64_t)(int64_t)d)),
                         ref + (uint64_t)(int64_t)d);
}
