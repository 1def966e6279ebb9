/* The transmit window's message index: sc_txw_find_msg finds the sent packet
 * holding a message by binary search, across the ring's wrap, never an unsent
 * or evicted packet. */
#include <criterion/criterion.h>

#include "engine/txw.h"
#include "tests/support/testutil.h"

/* Packets of 1..40 messages, numbered on from 1: every message of every sent
 * packet held is found in its packet; messages of packets evicted, unsent or
 * not stored are not. The window (64 slots) wraps many times. */
Test(txw, find_msg_finds_the_sent_packet_holding_a_message)
{
    struct sc_txw w;
    uint64_t rng = 7, next_msg = 1, first_of[4096];

    cr_assert_eq(sc_txw_init(&w, 64, 64, 0), 0);
    for (uint64_t seq = 0; seq < 4096; seq++) {
        uint16_t n = (uint16_t)(1 + tu_rand(&rng) % 40);
        cr_assert_not_null(sc_txw_reserve(&w));
        sc_txw_commit(&w, 20, next_msg, n, seq);
        first_of[seq] = next_msg;
        next_msg += n;
        if (seq % 3 != 2) /* some stay unsent for a while */
            continue;
        w.next_tx = w.trail + w.count - 1;
        for (uint64_t m = first_of[w.trail]; m < next_msg; m++) {
            uint64_t want = UINT64_MAX;
            for (uint64_t p = w.trail; p < w.next_tx; p++)
                if (m >= first_of[p] && (p + 1 == w.trail + w.count || m < first_of[p + 1]))
                    want = p;
            cr_assert_eq(sc_txw_find_msg(&w, m), want, "message %llu: %llu, want %llu",
                         (unsigned long long)m, (unsigned long long)sc_txw_find_msg(&w, m),
                         (unsigned long long)want);
        }
        if (w.trail)
            cr_assert_eq(sc_txw_find_msg(&w, first_of[w.trail] - 1), UINT64_MAX, "evicted");
        w.next_tx = w.trail + w.count;
    }
    cr_assert_eq(sc_txw_find_msg(&w, 0), UINT64_MAX);
    cr_assert_eq(sc_txw_find_msg(&w, next_msg), UINT64_MAX, "not stored");
    cr_assert_eq(sc_txw_find_msg(&w, UINT64_MAX), UINT64_MAX);
    sc_txw_fini(&w);
}

Test(txw, find_msg_in_an_empty_window)
{
    struct sc_txw w;

    cr_assert_eq(sc_txw_init(&w, 16, 64, 0), 0);
    cr_assert_eq(sc_txw_find_msg(&w, 1), UINT64_MAX);
    cr_assert_not_null(sc_txw_reserve(&w));
    sc_txw_commit(&w, 20, 1, 5, 0);
    cr_assert_eq(sc_txw_find_msg(&w, 1), UINT64_MAX, "stored, not sent");
    w.next_tx = 1;
    cr_assert_eq(sc_txw_find_msg(&w, 1), 0);
    cr_assert_eq(sc_txw_find_msg(&w, 5), 0);
    cr_assert_eq(sc_txw_find_msg(&w, 6), UINT64_MAX);
    sc_txw_fini(&w);
}
