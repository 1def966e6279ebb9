/* Sender-side repairs (engine/rtx.c): duplicate NAKs within rtx.delay coalesce
 * into one RDATA; a NAK within rtx.holdoff of the last repair of that packet
 * sends nothing more; after the hold-off a NAK is served again; data no longer
 * held is refused; one receiver's budget does not starve another, for any
 * number of addresses (a crowded table shares one budget, never none); repairs
 * go out fairly between requesters; rtx.rate counts IP datagram bits. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "engine/rtx.h"
#include "engine/txw.h"

#define US 1000ull

static struct sc_txw w;
static struct sc_rtx r;
static uint64_t sent[64];
static unsigned nsent;
static unsigned accept_left = ~0u; /* sends record() takes before it refuses */

static bool
record(void *ctx, uint64_t seq, struct sc_txw_slot *slot)
{
    (void)ctx;
    (void)slot;
    if (!accept_left)
        return false;
    accept_left--;
    cr_assert_lt(nsent, 64);
    sent[nsent++] = seq;
    return true;
}

static bool
count_only(void *ctx, uint64_t seq, struct sc_txw_slot *slot)
{
    (void)seq;
    (void)slot;
    ++*(uint64_t *)ctx;
    return true;
}

static void
setup_window(uint64_t delay_ns, uint64_t holdoff_ns, uint32_t budget)
{
    cr_assert_eq(sc_txw_init(&w, 64, 256, 0), 0);
    for (int i = 0; i < 10; i++) { /* sequences 0..9, all sent */
        uint8_t *b = sc_txw_reserve(&w);
        cr_assert_not_null(b);
        memset(b, i, 100);
        sc_txw_commit(&w, 100, 0, 0, 1);
    }
    w.next_tx = 10;
    cr_assert_eq(sc_rtx_init(&r, 64, delay_ns, holdoff_ns, 0, 0, budget), 0);
    nsent = 0;
    accept_left = ~0u;
}

static void
teardown_window(void)
{
    sc_rtx_fini(&r);
    sc_txw_fini(&w);
}

Test(rtx, duplicates_within_the_delay_coalesce_into_one_repair)
{
    setup_window(20 * US, 0, 1000);
    cr_assert_eq(sc_rtx_request(&r, &w, 3, 1, 1000 * US), SC_RTX_QUEUED);
    cr_assert_eq(sc_rtx_request(&r, &w, 3, 2, 1010 * US), SC_RTX_COALESCED);
    cr_assert_eq(sc_rtx_poll(&r, &w, 1019 * US, record, NULL), 0, "sent before its delay");
    cr_assert_eq(sc_rtx_poll(&r, &w, 1020 * US, record, NULL), 1);
    cr_assert_eq(sent[0], 3);
    /* no hold-off configured: the next NAK is served again */
    cr_assert_eq(sc_rtx_request(&r, &w, 3, 2, 1021 * US), SC_RTX_QUEUED);
    cr_assert_eq(sc_rtx_poll(&r, &w, 1041 * US, record, NULL), 1);
    teardown_window();
}

Test(rtx, a_nak_soon_after_a_repair_is_held_off_then_served_again)
{
    setup_window(0, 300 * US, 1000);
    cr_assert_eq(sc_rtx_request(&r, &w, 5, 1, 1000 * US), SC_RTX_QUEUED);
    cr_assert_eq(sc_rtx_poll(&r, &w, 1000 * US, record, NULL), 1, "no delay: at once");
    /* late NAKs from receivers the repair had not reached yet */
    cr_assert_eq(sc_rtx_request(&r, &w, 5, 2, 1050 * US), SC_RTX_HELD_OFF);
    cr_assert_eq(sc_rtx_request(&r, &w, 5, 1, 1299 * US), SC_RTX_HELD_OFF);
    cr_assert_eq(sc_rtx_poll(&r, &w, 1299 * US, record, NULL), 0);
    /* a different packet is not affected */
    cr_assert_eq(sc_rtx_request(&r, &w, 6, 2, 1100 * US), SC_RTX_QUEUED);
    cr_assert_eq(sc_rtx_poll(&r, &w, 1100 * US, record, NULL), 1);
    /* the repair itself was lost: the receiver asks again after its NCF wait */
    cr_assert_eq(sc_rtx_request(&r, &w, 5, 1, 1300 * US), SC_RTX_QUEUED);
    cr_assert_eq(sc_rtx_poll(&r, &w, 1300 * US, record, NULL), 1);
    cr_assert_eq(nsent, 3);
    cr_assert_eq(sent[0], 5);
    cr_assert_eq(sent[1], 6);
    cr_assert_eq(sent[2], 5);
    teardown_window();
}

Test(rtx, a_reused_slot_forgets_the_old_repair)
{
    setup_window(0, 300 * US, 1000);
    cr_assert_eq(sc_rtx_request(&r, &w, 0, 1, 1000 * US), SC_RTX_QUEUED);
    cr_assert_eq(sc_rtx_poll(&r, &w, 1000 * US, record, NULL), 1);
    /* fill the window until sequence 64 takes sequence 0's slot */
    for (int i = 10; i <= 64; i++) {
        uint8_t *b = sc_txw_reserve(&w);
        cr_assert_not_null(b);
        sc_txw_commit(&w, 100, 0, 0, 1001 * US);
        w.next_tx = (uint64_t)i + 1;
    }
    cr_assert_eq(sc_rtx_request(&r, &w, 0, 1, 1001 * US), SC_RTX_OUT_OF_WINDOW);
    cr_assert_eq(sc_rtx_request(&r, &w, 64, 1, 1001 * US), SC_RTX_QUEUED,
                 "the new packet in the slot inherited the old one's hold-off");
    teardown_window();
}

Test(rtx, one_receivers_budget_does_not_starve_another)
{
    setup_window(0, 0, 3);
    for (uint64_t s = 0; s < 3; s++)
        cr_assert_eq(sc_rtx_request(&r, &w, s, 1, 1000 * US), SC_RTX_QUEUED);
    cr_assert_eq(sc_rtx_request(&r, &w, 3, 1, 1000 * US), SC_RTX_OVER_BUDGET);
    cr_assert_eq(sc_rtx_request(&r, &w, 3, 2, 1000 * US), SC_RTX_QUEUED);
    cr_assert_eq(sc_rtx_poll(&r, &w, 1000 * US, record, NULL), 4);
    teardown_window();
}

/* One NCF per burst of NAKs: a sequence an NCF confirmed less than holdoff / 2
 * ago is not confirmed again (that NCF, multicast, reached every receiver; with
 * 32 receivers each NAK's own NCF woke all 32), then it is; a sequence no
 * longer held is never confirmed; a reused slot starts unconfirmed. */
Test(rtx, an_ncf_confirms_a_sequence_once_per_half_hold_off)
{
    setup_window(0, 300 * US, 1000);
    cr_assert(sc_rtx_confirm(&r, &w, 4, 1000 * US), "first NAK: confirmed");
    cr_assert_not(sc_rtx_confirm(&r, &w, 4, 1001 * US), "a second NAK 1 us later");
    cr_assert_not(sc_rtx_confirm(&r, &w, 4, 1149 * US), "149 us later: still held");
    cr_assert(sc_rtx_confirm(&r, &w, 5, 1149 * US), "another sequence is its own");
    cr_assert(sc_rtx_confirm(&r, &w, 4, 1150 * US), "150 us later: confirmed again");
    cr_assert_not(sc_rtx_confirm(&r, &w, 4, 1151 * US), "and held again from then");
    cr_assert_not(sc_rtx_confirm(&r, &w, 10, 1200 * US), "not sent yet: not held");
    teardown_window();

    setup_window(0, 0, 1000); /* no hold-off: every NAK is confirmed */
    cr_assert(sc_rtx_confirm(&r, &w, 4, 1000 * US));
    cr_assert(sc_rtx_confirm(&r, &w, 4, 1000 * US));
    teardown_window();
}

Test(rtx, a_reused_slot_starts_unconfirmed)
{
    setup_window(0, 300 * US, 1000);
    cr_assert(sc_rtx_confirm(&r, &w, 0, 1000 * US));
    for (int i = 10; i < 74; i++) { /* a whole window later, slot 0 holds sequence 64 */
        cr_assert_not_null(sc_txw_reserve(&w));
        sc_txw_commit(&w, 100, 0, 0, 1000 * US);
    }
    w.next_tx = 74;
    cr_assert(sc_rtx_confirm(&r, &w, 64, 1001 * US), "sequence 64 inherited sequence 0's NCF");
    teardown_window();
}

/* The measured case of issue 16: 64 receivers in one /16 (127.0.x.y), each
 * asking for 2,520 sequences in a second against a budget of 2,000. Each is
 * over its budget by 520: 33,280 in all. (The old hash kept the first octet
 * and two bits of the second: every address shared one slot's probe run, 16
 * found a slot and the rest were "not punished": 8,320.) */
Test(rtx, the_budget_holds_per_address_in_one_subnet)
{
    uint64_t over = 0, now = 5000000000ull;

    setup_window(0, 0, 2000);
    for (int k = 0; k < 2520; k++)
        for (uint32_t a = 0; a < 64; a++) {
            uint32_t addr = htonl(0x7f000000u | (a * 37 % 256) << 8 | (a * 11 % 256));
            if (sc_rtx_request(&r, &w, (uint64_t)(k % 10), addr, now + (uint64_t)k * 100 * US) ==
                SC_RTX_OVER_BUDGET)
                over++;
        }
    cr_assert_eq(over, 64ull * (2520 - 2000), "over budget: %llu", (unsigned long long)over);
    cr_assert_eq(r.budgets.budget_shared, 0, "64 addresses fit the table");
    teardown_window();
}

/* More addresses than the table holds, all in one second: those that find no
 * slot share one budget -- a flood from many addresses is throttled as a
 * group, never let through. A second later the slots are free again. */
Test(rtx, addresses_beyond_the_table_share_one_budget)
{
    const uint32_t naddr = 4 * SC_RTX_RECEIVERS, budget = 4, asks = 8;
    uint64_t allowed = 0, over = 0, now = 5000000000ull;

    setup_window(0, 0, budget);
    for (uint32_t a = 0; a < naddr; a++)
        for (uint32_t k = 0; k < asks; k++) {
            enum sc_rtx_res res = sc_rtx_request(&r, &w, k % 10, htonl(0xc6120000u + a), now + a);
            if (res == SC_RTX_OVER_BUDGET)
                over++;
            else
                allowed++;
        }
    printf("# %u addresses x %u sequences, budget %u: %llu allowed, %llu over budget, %llu "
           "charged to the shared budget\n", naddr, asks, budget, (unsigned long long)allowed,
           (unsigned long long)over, (unsigned long long)r.budgets.budget_shared);
    cr_assert_leq(allowed, (uint64_t)SC_RTX_RECEIVERS * budget + budget,
                  "%llu allowed: more than one budget per slot plus the shared one",
                  (unsigned long long)allowed);
    cr_assert_gt(r.budgets.budget_shared, 0);
    /* every address that fits has its own budget: the table fills up */
    cr_assert_geq(allowed, (uint64_t)SC_RTX_RECEIVERS * budget * 3 / 4);
    /* a second later: stale slots are reused, new addresses have budgets again */
    over = r.budgets.budget_shared;
    for (uint32_t a = 0; a < 64; a++)
        cr_assert_neq(sc_rtx_request(&r, &w, 0, htonl(0x0a000000u + a), now + 2000000000ull),
                      SC_RTX_OVER_BUDGET, "address %u after the second", a);
    cr_assert_eq(r.budgets.budget_shared, over, "a fresh address was sent to the shared budget");
    teardown_window();
}

/* Repairs go out fairly between requesters: a receiver with one loss is not
 * served after everything a flood of NAKs from another address queued first,
 * and a NAK for a repair already queued for the flood moves it up. */
Test(rtx, a_receiver_with_one_loss_is_served_before_a_floods_queue)
{
    uint32_t flood = htonl(0xc6120909u), honest = htonl(0xc6120101u);

    setup_window(0, 0, 1000);
    for (uint64_t s = 0; s < 8; s++)
        cr_assert_eq(sc_rtx_request(&r, &w, s, flood, 1000 * US), SC_RTX_QUEUED);
    cr_assert_eq(sc_rtx_request(&r, &w, 9, honest, 1001 * US), SC_RTX_QUEUED);
    accept_left = 2;
    cr_assert_eq(sc_rtx_poll(&r, &w, 1002 * US, record, NULL), 2);
    cr_assert(sent[0] == 9 || sent[1] == 9, "the honest repair waited behind the flood's: %llu %llu",
              (unsigned long long)sent[0], (unsigned long long)sent[1]);
    /* the flood's last one, asked for by the honest receiver too */
    cr_assert_eq(sc_rtx_request(&r, &w, 7, honest, 1003 * US), SC_RTX_COALESCED);
    accept_left = 2;
    cr_assert_eq(sc_rtx_poll(&r, &w, 1004 * US, record, NULL), 2);
    cr_assert(sent[2] == 7 || sent[3] == 7, "the coalesced repair kept the flood's turn: %llu %llu",
              (unsigned long long)sent[2], (unsigned long long)sent[3]);
    accept_left = ~0u;
    cr_assert_eq(sc_rtx_poll(&r, &w, 1005 * US, record, NULL), 5, "the rest, all of it");
    teardown_window();
}

/* rtx.rate counts what data_rate counts: the IP datagram (PGM packet + 28
 * bytes of IP and UDP headers). 100-byte packets are 1,024 bits on the wire,
 * not 800: in one second at 1 Mbit/s at most (1 Mbit + the bucket) / 1,024 of
 * them. (Counting 800 let 1.28 times the rate out.) */
Test(rtx, the_repair_rate_counts_ip_and_udp_headers)
{
    const uint64_t rate = 1000000, depth = 12000 * 8, t0 = 5000000000ull;
    uint64_t n = 0, bits;

    cr_assert_eq(sc_txw_init(&w, 64, 256, 0), 0);
    for (int i = 0; i < 10; i++) {
        cr_assert_not_null(sc_txw_reserve(&w));
        sc_txw_commit(&w, 100, 0, 0, 1);
    }
    w.next_tx = 10;
    cr_assert_eq(sc_rtx_init(&r, 64, 0, 0, rate, 0, UINT32_MAX), 0);
    for (uint64_t t = t0; t < t0 + 1000000000ull; t += 100 * US) {
        for (uint64_t s = 0; s < 10; s++)
            sc_rtx_request(&r, &w, s, 1, t);
        sc_rtx_poll(&r, &w, t, count_only, &n);
    }
    bits = n * (100 + 28) * 8;
    printf("# 1 s at rtx.rate 1 Mbit/s: %llu repairs, %llu bits on the wire\n",
           (unsigned long long)n, (unsigned long long)bits);
    cr_assert_leq(bits, rate + depth, "%llu bits in a second at 1 Mbit/s", (unsigned long long)bits);
    cr_assert_geq(bits, rate - 2 * 1024, "the limit held back more than the rate");
    cr_assert_gt(r.rate_limited, 0);
    /* held back: the deadline is when the bucket has the next repair's bits */
    cr_assert_gt(sc_rtx_deadline(&r), t0 + 1000000000ull - 100 * US);
    cr_assert_leq(sc_rtx_deadline(&r), t0 + 1000000000ull + 1024 * 1000000000ull / rate);
    teardown_window();
}

/* Admission is fair too: a flood that fills the queue (more asked for than the
 * rate sends) keeps a receiver that asks for little out of nothing. Past
 * queue_len, each requester adds only while it has fewer than SC_RTX_SHARE
 * repairs queued. */
Test(rtx, a_flood_that_fills_the_queue_does_not_lock_out_a_receiver)
{
    uint32_t flood = htonl(0xc6120909u), honest = htonl(0xc6120101u);
    uint64_t refused = 0;

    cr_assert_eq(sc_txw_init(&w, 512, 256, 0), 0);
    for (int i = 0; i < 400; i++) {
        cr_assert_not_null(sc_txw_reserve(&w));
        sc_txw_commit(&w, 100, 0, 0, 1);
    }
    w.next_tx = 400;
    cr_assert_eq(sc_rtx_init(&r, 64, 0, 0, 0, 0, UINT32_MAX), 0);
    for (uint64_t s = 0; s < 300; s++)
        refused += sc_rtx_request(&r, &w, s, flood, 1000 * US) == SC_RTX_OVERFLOW;
    cr_assert_eq(refused, 300 - 64, "the flood took %llu", (unsigned long long)(300 - refused));
    for (uint64_t s = 300; s < 300 + SC_RTX_SHARE; s++)
        cr_assert_eq(sc_rtx_request(&r, &w, s, honest, 1001 * US), SC_RTX_QUEUED,
                     "the honest receiver's repair %llu was refused", (unsigned long long)s);
    cr_assert_eq(sc_rtx_request(&r, &w, 399, honest, 1001 * US), SC_RTX_OVERFLOW,
                 "past its share");
    /* served fairly: the honest receiver's 16 alternate with the flood's first
     * 16, not after all 64 of them */
    accept_left = 2 * SC_RTX_SHARE;
    cr_assert_eq(sc_rtx_poll(&r, &w, 1002 * US, record, NULL), 2 * SC_RTX_SHARE);
    {
        unsigned honest_sent = 0;
        for (unsigned i = 0; i < nsent; i++)
            honest_sent += sent[i] >= 300;
        cr_assert_eq(honest_sent, SC_RTX_SHARE, "%u of the first %u repairs were the honest "
                     "receiver's", honest_sent, nsent);
    }
    teardown_window();
}
