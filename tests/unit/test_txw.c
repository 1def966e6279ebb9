/* The transmit window (engine/txw.c): reserve/commit/get, capacity rounded to
 * a power of two, eviction of the oldest sent packet when full and of sent
 * packets older than the time bound, never of an unsent one, sequences that
 * cross 2^32 (the wire's wrap) without a seam, and the message index:
 * sc_txw_find_msg finds the sent packet holding a message by binary search,
 * across the ring's wrap, never an unsent or evicted packet. */
#include <criterion/criterion.h>
#include <string.h>

#include "engine/txw.h"
#include "tests/support/testutil.h"

#define MS 1000000ull

static struct sc_txw w;

/* store one packet whose bytes are all `fill`, len bytes, at now */
static uint64_t
put(uint8_t fill, uint16_t len, uint64_t now)
{
    uint64_t seq = w.trail + w.count;
    uint8_t *b = sc_txw_reserve(&w);

    cr_assert_not_null(b, "reserve refused seq %llu", (unsigned long long)seq);
    memset(b, fill, len);
    sc_txw_commit(&w, len, 0, 0, now);
    return seq;
}

static void
check_held(uint64_t seq, uint8_t fill, uint16_t len)
{
    struct sc_txw_slot *s = sc_txw_get(&w, seq);

    cr_assert_not_null(s, "seq %llu not held", (unsigned long long)seq);
    cr_assert_eq(s->len, len);
    for (unsigned i = 0; i < len; i++)
        cr_assert_eq(s->buf[i], fill, "seq %llu byte %u", (unsigned long long)seq, i);
}

Test(txw, init_rounds_the_capacity_up_and_starts_empty)
{
    cr_assert_eq(sc_txw_init(&w, 100, 256, 7), 0);
    cr_assert_eq(sc_txw_capacity(&w), 128);
    cr_assert_eq(w.trail, 7);
    cr_assert_eq(w.next_tx, 7);
    cr_assert_eq(w.count, 0);
    cr_assert_eq(sc_txw_lead(&w), 6, "an empty window's lead is trail - 1");
    cr_assert_null(sc_txw_get(&w, 7));
    cr_assert_null(sc_txw_get(&w, 6));
    sc_txw_fini(&w);
    cr_assert_eq(sc_txw_init(&w, 64, 256, 0), 0);
    cr_assert_eq(sc_txw_capacity(&w), 64, "a power of two stays as it is");
    sc_txw_fini(&w);
}

Test(txw, committed_packets_are_held_at_their_sequence_with_their_bytes)
{
    cr_assert_eq(sc_txw_init(&w, 16, 512, 100), 0);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(put((uint8_t)(i + 1), (uint16_t)(100 + i), 5000 + (uint64_t)i),
                     100 + (uint64_t)i);
    cr_assert_eq(w.count, 10);
    cr_assert_eq(sc_txw_lead(&w), 109);
    for (int i = 0; i < 10; i++) {
        check_held(100 + (uint64_t)i, (uint8_t)(i + 1), (uint16_t)(100 + i));
        cr_assert_eq(sc_txw_get(&w, 100 + (uint64_t)i)->stored_ns, 5000 + (uint64_t)i);
    }
    cr_assert_null(sc_txw_get(&w, 99), "below the trail");
    cr_assert_null(sc_txw_get(&w, 110), "beyond the lead");
    cr_assert_null(sc_txw_get(&w, 100 + 16), "same slot as 100, not held");
    /* each slot has a buffer of its own, buf_size apart */
    for (int i = 1; i < 16; i++)
        cr_assert_eq(w.slot[i].buf - w.slot[i - 1].buf, 512);
    sc_txw_fini(&w);
}

Test(txw, a_full_window_evicts_the_oldest_sent_packet_only)
{
    cr_assert_eq(sc_txw_init(&w, 16, 64, 0), 0);
    for (int i = 0; i < 16; i++)
        put((uint8_t)i, 10, 1);
    /* nothing sent yet: a full window of unsent packets refuses more */
    cr_assert_null(sc_txw_reserve(&w));
    cr_assert_eq(w.count, 16);
    cr_assert_eq(w.trail, 0);
    cr_assert_eq(w.evicted, 0);
    /* 3 sent: room for exactly 3 more, the oldest going first */
    w.next_tx = 3;
    sc_txw_get(&w, 0)->rtx_pending = true;
    put(100, 10, 2);
    cr_assert_eq(w.trail, 1);
    cr_assert_eq(w.evicted, 1);
    cr_assert_null(sc_txw_get(&w, 0));
    cr_assert_not(w.slot[16 & w.mask].rtx_pending, "the reused slot kept a queued repair");
    check_held(16, 100, 10);
    put(101, 10, 2);
    put(102, 10, 2);
    cr_assert_eq(w.trail, 3);
    cr_assert_eq(w.evicted, 3);
    cr_assert_null(sc_txw_reserve(&w), "evicted an unsent packet");
    cr_assert_eq(w.trail, 3);
    cr_assert_eq(w.evicted, 3);
    for (int i = 3; i < 16; i++)
        check_held((uint64_t)i, (uint8_t)i, 10);
    sc_txw_fini(&w);
}

Test(txw, commit_resets_a_reused_slots_repair_state)
{
    struct sc_txw_slot *s;

    cr_assert_eq(sc_txw_init(&w, 16, 64, 0), 0);
    for (int i = 0; i < 16; i++)
        put(1, 10, 1);
    w.next_tx = 16;
    s = sc_txw_get(&w, 0);
    s->rtx_pending = true;
    s->rtx_sent_ns = 77;
    s->ncf_sent_ns = 88;
    put(2, 20, 9); /* seq 16 takes slot 0 */
    s = sc_txw_get(&w, 16);
    cr_assert_eq(s, &w.slot[0]);
    cr_assert_not(s->rtx_pending);
    cr_assert_eq(s->rtx_sent_ns, 0);
    cr_assert_eq(s->ncf_sent_ns, 0);
    cr_assert_eq(s->stored_ns, 9);
    cr_assert_eq(s->len, 20);
    sc_txw_fini(&w);
}

/* Age: a sent packet stored at t leaves once now > t + max_age (strictly),
 * oldest first; an unsent one stays however old it is. */
Test(txw, expire_drops_sent_packets_older_than_the_bound_and_never_unsent_ones)
{
    cr_assert_eq(sc_txw_init(&w, 64, 64, 0), 0);
    for (int i = 0; i < 10; i++)
        put((uint8_t)i, 10, (uint64_t)i * MS); /* seq i stored at i ms */
    w.next_tx = 6; /* 0..5 sent */
    cr_assert_eq(sc_txw_expire(&w, 10 * MS, 10 * MS), 0, "nothing is older than 10 ms yet");
    cr_assert_eq(sc_txw_expire(&w, 10 * MS + 1, 10 * MS), 1);
    cr_assert_eq(w.trail, 1);
    cr_assert_eq(sc_txw_expire(&w, 13 * MS, 10 * MS), 2, "stored at 1 and 2 ms: older; 3 ms: not");
    cr_assert_eq(w.trail, 3);
    cr_assert_eq(w.evicted, 3);
    /* long after: every sent packet goes, no unsent one */
    cr_assert_eq(sc_txw_expire(&w, 1000 * MS, 10 * MS), 3);
    cr_assert_eq(w.trail, 6);
    cr_assert_eq(w.count, 4);
    cr_assert_eq(w.evicted, 6);
    for (int i = 6; i < 10; i++)
        check_held((uint64_t)i, (uint8_t)i, 10);
    cr_assert_eq(sc_txw_expire(&w, 100000 * MS, 10 * MS), 0, "expired an unsent packet");
    /* sent at last: they may go */
    w.next_tx = 10;
    cr_assert_eq(sc_txw_expire(&w, 100000 * MS, 10 * MS), 4);
    cr_assert_eq(w.count, 0);
    cr_assert_eq(sc_txw_lead(&w), 9);
    cr_assert_eq(sc_txw_expire(&w, 100000 * MS, 10 * MS), 0, "an empty window");
    sc_txw_fini(&w);
}

/* An out-of-order age (a packet stored earlier behind a newer one) does not
 * let expire skip ahead: it stops at the first young packet. */
Test(txw, expire_stops_at_the_first_packet_too_young)
{
    cr_assert_eq(sc_txw_init(&w, 16, 64, 0), 0);
    put(0, 10, 0);
    put(1, 10, 50 * MS);
    put(2, 10, 0);
    w.next_tx = 3;
    cr_assert_eq(sc_txw_expire(&w, 20 * MS, 10 * MS), 1);
    cr_assert_eq(w.trail, 1);
    check_held(2, 2, 10);
    sc_txw_fini(&w);
}

/* Internal sequences are 64-bit: a window that starts just below 2^32 holds
 * packets across it, each at its own sequence and slot. */
Test(txw, sequences_cross_two_to_the_32_without_a_seam)
{
    const uint64_t first = 0xFFFFFFF8ull;

    cr_assert_eq(sc_txw_init(&w, 16, 64, first), 0);
    for (int i = 0; i < 40; i++) {
        uint64_t seq = put((uint8_t)i, (uint16_t)(8 + i), 1);
        cr_assert_eq(seq, first + (uint64_t)i);
        w.next_tx = seq + 1; /* sent at once */
    }
    cr_assert_eq(w.trail, first + 40 - 16);
    cr_assert_eq(sc_txw_lead(&w), first + 39);
    cr_assert_eq(w.evicted, 24);
    for (int i = 24; i < 40; i++) {
        check_held(first + (uint64_t)i, (uint8_t)i, (uint16_t)(8 + i));
        cr_assert_eq(sc_txw_get(&w, first + (uint64_t)i), &w.slot[(first + (uint64_t)i) & 15]);
    }
    cr_assert_null(sc_txw_get(&w, first + 23));
    cr_assert_null(sc_txw_get(&w, (first + 30) & 0xFFFFFFFFull), "the 32-bit alias is not held");
    sc_txw_fini(&w);
}

/* Random operations against a model: held = [trail, trail + count), unsent
 * never leave, each held packet has the bytes it was given. */
Test(txw, matches_a_model_under_random_operations)
{
    uint64_t r = 99, now = 0;
    uint8_t fill_of[4096];

    cr_assert_eq(sc_txw_init(&w, 32, 32, 1000), 0);
    memset(fill_of, 0, sizeof(fill_of));
    for (int step = 0; step < 20000; step++) {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        now += r % 3 * MS;
        switch (r % 4) {
        case 0:
        case 1: {
            uint64_t want = w.trail + w.count, unsent = w.trail + w.count - w.next_tx;
            uint8_t *b = sc_txw_reserve(&w);
            if (unsent == sc_txw_capacity(&w)) {
                cr_assert_null(b);
                break;
            }
            cr_assert_not_null(b);
            memset(b, (uint8_t)want, 16);
            sc_txw_commit(&w, 16, 0, 0, now);
            fill_of[want % 4096] = (uint8_t)want;
            break;
        }
        case 2:
            if (w.next_tx < w.trail + w.count)
                w.next_tx += 1 + r % (w.trail + w.count - w.next_tx);
            break;
        case 3: {
            uint64_t unsent_before = w.trail + w.count - w.next_tx;
            sc_txw_expire(&w, now, 5 * MS);
            cr_assert_eq(w.trail + w.count - w.next_tx, unsent_before, "expire took unsent data");
            break;
        }
        }
        cr_assert_leq(w.count, sc_txw_capacity(&w));
        cr_assert_leq(w.trail, w.next_tx, "the trail passed an unsent packet");
        cr_assert_leq(w.next_tx, w.trail + w.count);
        if (w.count)
            check_held(w.trail + w.count - 1, fill_of[(w.trail + w.count - 1) % 4096], 16);
        if (w.count)
            check_held(w.trail, fill_of[w.trail % 4096], 16);
    }
    cr_assert_eq(w.evicted, w.trail - 1000);
    sc_txw_fini(&w);
}


/* Packets of 1..40 messages, numbered on from 1: every message of every sent
 * packet held is found in its packet; messages of packets evicted, unsent or
 * not stored are not. The window (64 slots) wraps many times. */
Test(txw, find_msg_finds_the_sent_packet_holding_a_message)
{
    struct sc_txw x;
    uint64_t rng = 7, next_msg = 1, first_of[4096];

    cr_assert_eq(sc_txw_init(&x, 64, 64, 0), 0);
    for (uint64_t seq = 0; seq < 4096; seq++) {
        uint16_t n = (uint16_t)(1 + tu_rand(&rng) % 40);
        cr_assert_not_null(sc_txw_reserve(&x));
        sc_txw_commit(&x, 20, next_msg, n, seq);
        first_of[seq] = next_msg;
        next_msg += n;
        if (seq % 3 != 2) /* some stay unsent for a while */
            continue;
        x.next_tx = x.trail + x.count - 1;
        for (uint64_t m = first_of[x.trail]; m < next_msg; m++) {
            uint64_t want = UINT64_MAX;
            for (uint64_t p = x.trail; p < x.next_tx; p++)
                if (m >= first_of[p] && (p + 1 == x.trail + x.count || m < first_of[p + 1]))
                    want = p;
            cr_assert_eq(sc_txw_find_msg(&x, m), want, "message %llu: %llu, want %llu",
                         (unsigned long long)m, (unsigned long long)sc_txw_find_msg(&x, m),
                         (unsigned long long)want);
        }
        if (x.trail)
            cr_assert_eq(sc_txw_find_msg(&x, first_of[x.trail] - 1), UINT64_MAX, "evicted");
        x.next_tx = x.trail + x.count;
    }
    cr_assert_eq(sc_txw_find_msg(&x, 0), UINT64_MAX);
    cr_assert_eq(sc_txw_find_msg(&x, next_msg), UINT64_MAX, "not stored");
    cr_assert_eq(sc_txw_find_msg(&x, UINT64_MAX), UINT64_MAX);
    sc_txw_fini(&x);
}

Test(txw, find_msg_in_an_empty_window)
{
    struct sc_txw x;

    cr_assert_eq(sc_txw_init(&x, 16, 64, 0), 0);
    cr_assert_eq(sc_txw_find_msg(&x, 1), UINT64_MAX);
    cr_assert_not_null(sc_txw_reserve(&x));
    sc_txw_commit(&x, 20, 1, 5, 0);
    cr_assert_eq(sc_txw_find_msg(&x, 1), UINT64_MAX, "stored, not sent");
    x.next_tx = 1;
    cr_assert_eq(sc_txw_find_msg(&x, 1), 0);
    cr_assert_eq(sc_txw_find_msg(&x, 5), 0);
    cr_assert_eq(sc_txw_find_msg(&x, 6), UINT64_MAX);
    sc_txw_fini(&x);
}

static const uint8_t *busy_buf;

static bool
busy_if(void *ctx, const uint8_t *buf)
{
    (void)ctx;
    return buf == busy_buf;
}

/* A zero-copy transport's window: headroom (a multiple of 64) before every
 * buffer, buffers apart from each other, and a full window does not evict its
 * oldest packet for a buffer the transport still holds (reserve says NULL,
 * the packet stays repairable) -- it does once the transport lets go. */
Test(txw, a_buffer_the_transport_holds_is_not_reused)
{
    uint64_t first;

    cr_assert_eq(sc_txw_init_room(&w, 4, 1472, 100, 0), 0);
    cr_assert_eq(w.headroom, 128);
    for (unsigned i = 0; i < 4; i++) {
        cr_assert_eq((uintptr_t)w.slot[i].buf % 16, 0); /* the transport keeps pointers there */
        if (i)
            cr_assert_geq(w.slot[i].buf - w.slot[i - 1].buf, 1472 + 128);
        memset(w.slot[i].buf - 128, 0xEE, 128); /* the headroom is there to write */
    }
    first = put(1, 100, 0);
    for (int i = 0; i < 3; i++)
        put(2, 100, 0);
    w.next_tx = w.trail + w.count; /* all sent */
    w.busy = busy_if;
    busy_buf = sc_txw_get(&w, first)->buf;
    cr_assert_null(sc_txw_reserve(&w), "the held buffer was handed out again");
    check_held(first, 1, 100);
    cr_assert_eq(w.evicted, 0);
    busy_buf = NULL;
    put(3, 100, 0);
    cr_assert_null(sc_txw_get(&w, first));
    cr_assert_eq(w.evicted, 1);
    sc_txw_fini(&w);
}
