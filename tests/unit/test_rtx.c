/* Sender-side repairs (engine/rtx.c): duplicate NAKs within rtx.delay coalesce
 * into one RDATA; a NAK within rtx.holdoff of the last repair of that packet
 * sends nothing more; after the hold-off a NAK is served again; data no longer
 * held is refused; one receiver's budget does not starve another. */
#include <criterion/criterion.h>
#include <string.h>

#include "engine/rtx.h"
#include "engine/txw.h"

#define US 1000ull

static struct sc_txw w;
static struct sc_rtx r;
static uint64_t sent[64];
static unsigned nsent;

static bool
record(void *ctx, uint64_t seq, struct sc_txw_slot *slot)
{
    (void)ctx;
    (void)slot;
    cr_assert_lt(nsent, 64);
    sent[nsent++] = seq;
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
        sc_txw_commit(&w, 100, 1);
    }
    w.next_tx = 10;
    cr_assert_eq(sc_rtx_init(&r, 64, delay_ns, holdoff_ns, 0, budget), 0);
    nsent = 0;
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
        sc_txw_commit(&w, 100, 1001 * US);
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
        sc_txw_commit(&w, 100, 1000 * US);
    }
    w.next_tx = 74;
    cr_assert(sc_rtx_confirm(&r, &w, 64, 1001 * US), "sequence 64 inherited sequence 0's NCF");
    teardown_window();
}
