/* The receiver's NAK state machine (engine/nak.c, RFC 3208 s.6.3), transition
 * by transition, on a bare receive window and a recording send/lost pair:
 *
 *   MISSING -> BACK-OFF (uniform in [1 us, backoff]) -> NAK sent -> WAIT-NCF
 *   WAIT-NCF --NCF--> WAIT-DATA --data--> done
 *   WAIT-NCF --expires--> BACK-OFF (retry) ... LOST after ncf_retries NAKs
 *   WAIT-DATA --expires--> BACK-OFF (retry) ... LOST after data_retries NCFs
 *   BACK-OFF --NCF or a peer's NAK--> WAIT-DATA, our NAK never sent
 *
 * Times are exact: the back-off is predicted from a copy of the generator, the
 * ramp's waits are repeat (rdata) >> 3, >> 2, >> 1, then the full value. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "engine/compiler.h"
#include "engine/nak.h"

#define US 1000ull
#define MS 1000000ull
#define BASE 1000 /* first sequence of the window */

static struct sc_rxw w;
static struct sc_nak n;
static uint64_t rng;

static struct {
    unsigned calls;
    unsigned sizes[512];
    uint64_t seqs[512];
    unsigned nseqs;
    uint64_t lost[512];
    unsigned nlost;
} rec;

static void
on_send(void *ctx, const uint64_t *seqs, unsigned count)
{
    cr_assert_eq(ctx, &rec);
    cr_assert_gt(count, 0, "an empty NAK list was sent");
    cr_assert_leq(count, SC_NAK_MAX_LIST);
    cr_assert_lt(rec.calls, 512);
    rec.sizes[rec.calls++] = count;
    for (unsigned i = 0; i < count; i++) {
        cr_assert_lt(rec.nseqs, 512);
        rec.seqs[rec.nseqs++] = seqs[i];
    }
}

static void
on_lost(void *ctx, uint64_t seq)
{
    cr_assert_eq(ctx, &rec);
    cr_assert_lt(rec.nlost, 512);
    rec.lost[rec.nlost++] = seq;
    /* as the subscriber does: the slot is given up */
    sc_rxw_slot(&w, seq)->state = SC_RXW_LOST;
}

static uint64_t
poll_at(uint64_t now)
{
    return sc_nak_poll(&n, &w, now, on_send, on_lost, &rec);
}

static void
clear_rec(void)
{
    memset(&rec, 0, sizeof(rec));
}

static void
setup_with(uint64_t backoff, uint64_t repeat, uint64_t rdata, uint32_t ncf_retries,
           uint32_t data_retries, bool ramp, uint32_t window)
{
    struct sc_nak_params p = { backoff, repeat, rdata, ncf_retries, data_retries, ramp };

    memset(&w, 0, sizeof(w));
    w.mask = window - 1;
    w.slot = calloc(window, sizeof(*w.slot));
    cr_assert_not_null(w.slot);
    w.next = w.end = BASE;
    rng = 12345;
    cr_assert_eq(sc_nak_init(&n, &p, &rng, window), 0);
    clear_rec();
}

static void
teardown(void)
{
    sc_nak_fini(&n);
    free(w.slot);
}

/* the receiver saw sequences up to end - 1 with [first, end - 1) missing */
static void
gap(uint64_t first, uint64_t end, uint64_t now)
{
    for (uint64_t q = first; q < end; q++)
        sc_nak_missing(&n, &w, q, now);
    for (uint64_t q = w.end; q < end; q++)
        if (q < first)
            sc_rxw_slot(&w, q)->state = SC_RXW_HAVE;
    if (end > w.end)
        w.end = end;
}

/* the back-off the next sc_nak_missing / retry will draw */
static uint64_t
next_backoff(uint64_t backoff)
{
    uint64_t copy = rng;
    return 1000 + sc_rand(&copy) % (backoff - 999);
}

static struct sc_rxw_slot *
slot(uint64_t seq)
{
    return sc_rxw_slot(&w, seq);
}

Test(nak, a_gap_backs_off_then_naks_once_at_the_due_time_exactly)
{
    uint64_t t0 = 5 * MS, b, due;

    setup_with(50 * US, 2 * MS, 4 * MS, 10, 10, true, 64);
    b = next_backoff(50 * US);
    gap(BASE, BASE + 1, t0);
    cr_assert_eq(slot(BASE)->state, SC_RXW_MISSING);
    cr_assert_eq(slot(BASE)->nak_state, SC_NAK_BACKOFF);
    cr_assert_eq(slot(BASE)->nak_due_ns, t0 + b);
    cr_assert_not(slot(BASE)->nakked);
    cr_assert_eq(poll_at(t0), t0 + b, "poll returns the next due time");
    cr_assert_eq(poll_at(t0 + b - 1), t0 + b);
    cr_assert_eq(rec.calls, 0, "NAK sent before its back-off expired");
    due = poll_at(t0 + b); /* due exactly now: sent */
    cr_assert_eq(rec.calls, 1);
    cr_assert_eq(rec.sizes[0], 1);
    cr_assert_eq(rec.seqs[0], BASE);
    cr_assert_eq(slot(BASE)->nak_state, SC_NAK_WAIT_NCF);
    cr_assert(slot(BASE)->nakked);
    cr_assert_eq(due, t0 + b + (2 * MS >> 3), "first wait for the NCF is repeat / 8");
    cr_assert_eq(slot(BASE)->nak_due_ns, due);
    cr_assert_eq(poll_at(due - 1), due);
    cr_assert_eq(rec.calls, 1, "a second NAK while waiting for the NCF");
    cr_assert_eq(rec.nlost, 0);
    teardown();
}

Test(nak, the_back_off_is_uniform_in_one_microsecond_to_backoff)
{
    uint64_t lo = UINT64_MAX, hi = 0;

    setup_with(50 * US, 2 * MS, 4 * MS, 10, 10, true, 4096);
    for (uint64_t q = BASE; q < BASE + 4000; q++) {
        uint64_t want = next_backoff(50 * US), d;
        gap(q, q + 1, 0);
        d = slot(q)->nak_due_ns;
        cr_assert_eq(d, want, "seq %llu", (unsigned long long)q);
        cr_assert_geq(d, 1 * US);
        cr_assert_leq(d, 50 * US);
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }
    cr_assert_lt(lo, 2 * US, "the back-off never came near its minimum: %llu",
                 (unsigned long long)lo);
    cr_assert_gt(hi, 49 * US, "the back-off never came near nak.backoff: %llu",
                 (unsigned long long)hi);
    teardown();
    /* a back-off at the minimum is exactly 1 us */
    setup_with(1000, 2 * MS, 4 * MS, 10, 10, true, 64);
    gap(BASE, BASE + 1, 7);
    cr_assert_eq(slot(BASE)->nak_due_ns, 7 + 1000);
    teardown();
}

/* No NCF ever: exactly ncf_retries NAKs, at back-off + ramped waits, then LOST. */
static void
no_ncf_ever(uint32_t retries, bool ramp)
{
    const uint64_t repeat = 2 * MS, t0 = 1 * MS;
    uint64_t t = t0, want_nak[64];

    setup_with(1000, repeat, 4 * MS, retries, 10, ramp, 64); /* back-off exactly 1 us */
    gap(BASE, BASE + 1, t0);
    for (uint32_t k = 0; k < retries; k++) {
        t += 1000; /* back-off */
        want_nak[k] = t;
        t += ramp && k < 3 ? repeat >> (3 - k) : repeat; /* wait for the NCF */
    }
    /* poll every microsecond: every NAK must go out at its own time, none other */
    {
        unsigned seen = 0;
        for (uint64_t now = t0; now <= t + 2000 && rec.nlost == 0; now += 1000) {
            unsigned before = rec.calls;
            poll_at(now);
            if (rec.calls > before) {
                cr_assert_lt(seen, retries, "NAK %u sent: only %u allowed", seen + 1, retries);
                cr_assert_eq(now, want_nak[seen], "NAK %u at %llu, want %llu", seen + 1,
                             (unsigned long long)now, (unsigned long long)want_nak[seen]);
                seen++;
            }
            if (rec.nlost)
                cr_assert_eq(now, t, "lost at %llu, want %llu (after the last wait)",
                             (unsigned long long)now, (unsigned long long)t);
        }
        cr_assert_eq(seen, retries, "%u NAKs before the loss, want %u", seen, retries);
    }
    cr_assert_eq(rec.nlost, 1);
    cr_assert_eq(rec.lost[0], BASE);
    cr_assert_eq(poll_at(t + 10 * MS), UINT64_MAX, "a lost sequence is forgotten");
    cr_assert_eq(rec.calls, retries);
    teardown();
}

Test(nak, without_an_ncf_exactly_ncf_retries_naks_then_lost_at_the_ramp_times)
{
    no_ncf_ever(1, true);
    no_ncf_ever(2, true);
    no_ncf_ever(5, true);
    no_ncf_ever(10, true);
}

Test(nak, without_ramp_every_wait_is_the_full_repeat)
{
    no_ncf_ever(4, false);
}

Test(nak, an_ncf_after_our_nak_waits_for_the_data_and_the_data_ends_it)
{
    uint64_t b, t, due;

    setup_with(50 * US, 2 * MS, 4 * MS, 10, 10, true, 64);
    b = next_backoff(50 * US);
    gap(BASE, BASE + 1, 0);
    poll_at(b);
    cr_assert_eq(rec.calls, 1);
    t = b + 100 * US; /* the NCF */
    cr_assert_not(sc_nak_confirmed(&n, &w, BASE, t), "an NCF after our NAK suppressed nothing");
    cr_assert_eq(slot(BASE)->nak_state, SC_NAK_WAIT_DATA);
    cr_assert_eq(slot(BASE)->nak_due_ns, t + (4 * MS >> 3), "first wait for data is rdata / 8");
    due = poll_at(t + 1);
    cr_assert_eq(due, t + (4 * MS >> 3));
    cr_assert_eq(rec.calls, 1);
    /* the repair arrives: the sequence leaves the list, nothing more is sent */
    slot(BASE)->state = SC_RXW_HAVE;
    cr_assert_eq(poll_at(t + 100 * MS), UINT64_MAX);
    cr_assert_eq(rec.calls, 1);
    cr_assert_eq(rec.nlost, 0);
    teardown();
}

/* NCF after each NAK, the repair never: exactly data_retries NAKs, then LOST;
 * the waits for the data ramp (rdata >> 3, >> 2, >> 1, rdata). */
Test(nak, ncfs_without_the_data_give_up_after_data_retries)
{
    const uint64_t rdata = 4 * MS;
    const uint32_t retries = 5;
    uint64_t now = 0;
    unsigned ncfs = 0;

    setup_with(1000, 2 * MS, rdata, 10, retries, true, 64);
    gap(BASE, BASE + 1, 0);
    while (rec.nlost == 0 && now < 1000 * MS) {
        unsigned before = rec.calls;
        uint64_t due = poll_at(now);
        if (rec.calls > before) { /* our NAK: the source confirms at once */
            uint64_t want_wait = ncfs < 3 ? rdata >> (3 - ncfs) : rdata;
            cr_assert_eq(rec.seqs[rec.nseqs - 1], BASE);
            cr_assert_not(sc_nak_confirmed(&n, &w, BASE, now));
            cr_assert_eq(slot(BASE)->nak_due_ns, now + want_wait, "NCF %u: wait %llu", ncfs + 1,
                         (unsigned long long)(slot(BASE)->nak_due_ns - now));
            ncfs++;
            due = slot(BASE)->nak_due_ns;
        }
        if (due == UINT64_MAX)
            break;
        cr_assert_gt(due, now, "a poll left a timer due now without acting on it");
        now = due;
    }
    cr_assert_eq(rec.calls, retries, "%u NAKs, want %u", rec.calls, retries);
    cr_assert_eq(ncfs, retries);
    cr_assert_eq(rec.nlost, 1);
    teardown();
}

/* no_ncf (MoldUDP64 re-requests): the waits for the data are rdata's ramp
 * until the server is heard from; once its answers are known to take
 * rdata_least_ns, no wait is shorter and each request asked again doubles it,
 * up to 1 s (or the answer time itself if longer): a server that answers is
 * busy, not gone. data_retries still bounds the requests. */
static uint64_t
request_waits(uint64_t least, uint64_t *waits, unsigned max)
{
    uint64_t now = 0, due;
    unsigned k = 0;

    setup_with(1000, 2 * MS, 4 * MS, 10, 12, true, 64);
    n.p.no_ncf = true;
    n.rdata_least_ns = least;
    gap(BASE, BASE + 1, 0);
    while (rec.nlost == 0 && (due = poll_at(now)) != UINT64_MAX) {
        if (slot(BASE)->nak_state == SC_NAK_WAIT_DATA && k < max &&
            slot(BASE)->data_retries == k) /* just asked: its wait */
            waits[k++] = slot(BASE)->nak_due_ns - now;
        now = due;
    }
    cr_assert_eq(rec.calls, 12, "%u requests, want data_retries", rec.calls);
    cr_assert_eq(rec.nlost, 1);
    teardown();
    return now;
}

Test(nak, requests_to_a_server_that_answers_back_off_exponentially)
{
    uint64_t waits[12], total;

    total = request_waits(0, waits, 12);
    for (unsigned k = 0; k < 12; k++)
        cr_assert_eq(waits[k], k < 3 ? (4 * MS) >> (3 - k) : 4 * MS, "never heard: wait %u", k);
    cr_assert_lt(total, 50 * MS, "a silent server is given up on in nak.rdata's time");
    total = request_waits(1 * MS, waits, 12);
    for (unsigned k = 0; k < 12; k++) {
        uint64_t want = (1 * MS) << (k < 10 ? k : 10);
        if (want > 1000 * MS)
            want = 1000 * MS; /* the cap */
        uint64_t ramp = k < 3 ? (4 * MS) >> (3 - k) : 4 * MS;
        cr_assert_eq(waits[k], want > ramp ? want : ramp, "answering server: wait %u is %llu", k,
                     (unsigned long long)waits[k]);
    }
    cr_assert_gt(total, 2000 * MS, "the requests span a server's budget second");
    /* a time learnt while the server's queue was long: over the cap, it is the wait */
    request_waits(1500 * MS, waits, 12);
    for (unsigned k = 0; k < 12; k++)
        cr_assert_eq(waits[k], 1500 * MS, "slow server: wait %u is %llu", k,
                     (unsigned long long)waits[k]);
}

/* WAIT-DATA expires: back to back-off and a NAK again; the ramp of the NCF
 * wait goes on from where it was (its retry count is not reset). */
Test(nak, a_wait_for_data_that_expires_naks_again)
{
    uint64_t t;

    setup_with(1000, 2 * MS, 4 * MS, 10, 10, true, 64);
    gap(BASE, BASE + 1, 0);
    poll_at(1000);
    cr_assert_eq(rec.calls, 1);
    sc_nak_confirmed(&n, &w, BASE, 2000);
    t = 2000 + (4 * MS >> 3);
    poll_at(t - 1);
    cr_assert_eq(slot(BASE)->nak_state, SC_NAK_WAIT_DATA);
    poll_at(t);
    cr_assert_eq(slot(BASE)->nak_state, SC_NAK_BACKOFF);
    cr_assert_eq(slot(BASE)->data_retries, 1);
    cr_assert_eq(slot(BASE)->nak_due_ns, t + 1000);
    cr_assert_eq(rec.calls, 1, "the retry must back off first");
    poll_at(t + 1000);
    cr_assert_eq(rec.calls, 2);
    cr_assert_eq(slot(BASE)->nak_state, SC_NAK_WAIT_NCF);
    cr_assert_eq(slot(BASE)->nak_due_ns, t + 1000 + (2 * MS >> 3),
                 "no NCF was missed yet: the NCF wait is still the first step");
    /* the NCF wait expires: retry count 1, next wait repeat / 4 */
    poll_at(t + 1000 + (2 * MS >> 3));
    cr_assert_eq(slot(BASE)->ncf_retries, 1);
    cr_assert_eq(slot(BASE)->nak_state, SC_NAK_BACKOFF);
    poll_at(t + 2000 + (2 * MS >> 3));
    cr_assert_eq(rec.calls, 3);
    cr_assert_eq(slot(BASE)->nak_due_ns, t + 2000 + (2 * MS >> 3) + (2 * MS >> 2));
    /* a second NCF: the data wait is now the second step, rdata / 4 */
    sc_nak_confirmed(&n, &w, BASE, t + 3 * MS);
    cr_assert_eq(slot(BASE)->nak_due_ns, t + 3 * MS + (4 * MS >> 2));
    teardown();
}

/* An NCF (or a peer's NAK) while we are still in back-off: our NAK is never
 * sent, we wait for the repair, and the call says it suppressed one. */
Test(nak, an_ncf_during_back_off_suppresses_our_nak)
{
    uint64_t b;

    setup_with(50 * US, 2 * MS, 4 * MS, 10, 10, true, 64);
    b = next_backoff(50 * US);
    cr_assert_gt(b, 1000, "pick a seed whose back-off leaves room before it");
    gap(BASE, BASE + 3, 0); /* three missing */
    cr_assert(sc_nak_confirmed(&n, &w, BASE + 1, b - 1), "suppression not reported");
    cr_assert_eq(slot(BASE + 1)->nak_state, SC_NAK_WAIT_DATA);
    cr_assert_eq(slot(BASE + 1)->nak_due_ns, b - 1 + (4 * MS >> 3));
    cr_assert_not(slot(BASE + 1)->nakked);
    /* every back-off expires: the other two are NAKed, the confirmed one not */
    poll_at(60 * US);
    cr_assert_eq(rec.nseqs, 2, "%u sequences NAKed", rec.nseqs);
    cr_assert_eq(rec.seqs[0], BASE);
    cr_assert_eq(rec.seqs[1], BASE + 2);
    /* a second confirmation of a sequence already waiting for data suppresses nothing */
    cr_assert_not(sc_nak_confirmed(&n, &w, BASE + 1, 70 * US));
    cr_assert_not(sc_nak_confirmed(&n, &w, BASE, 70 * US), "BASE was NAKed: nothing to suppress");
    /* the repair comes: still never NAKed */
    slot(BASE + 1)->state = SC_RXW_HAVE;
    poll_at(100 * MS);
    for (unsigned i = 0; i < rec.nseqs; i++)
        cr_assert_neq(rec.seqs[i], BASE + 1);
    teardown();
}

Test(nak, a_confirmation_outside_the_window_or_for_data_held_changes_nothing)
{
    setup_with(50 * US, 2 * MS, 4 * MS, 10, 10, true, 64);
    gap(BASE + 2, BASE + 3, 0); /* BASE, BASE + 1 held, BASE + 2 missing */
    slot(BASE)->state = SC_RXW_HAVE;
    cr_assert_not(sc_nak_confirmed(&n, &w, BASE, 10));
    cr_assert_eq(slot(BASE)->state, SC_RXW_HAVE);
    cr_assert_not(sc_nak_confirmed(&n, &w, BASE + 3, 10), "beyond the end");
    cr_assert_not(sc_nak_confirmed(&n, &w, BASE - 1, 10), "before next");
    cr_assert_eq(slot(BASE + 3)->state, SC_RXW_EMPTY);
    cr_assert_eq(slot(BASE + 2)->nak_state, SC_NAK_BACKOFF);
    teardown();
}

/* Every sequence due at one poll goes in one NAK list of up to 63 (the header's
 * sequence + 62 in OPT_NAK_LIST), oldest first; 100 due make a 63 and a 37. */
Test(nak, due_sequences_are_grouped_in_lists_of_at_most_63_in_order)
{
    setup_with(50 * US, 2 * MS, 4 * MS, 10, 10, true, 256);
    gap(BASE, BASE + 100, 0);
    poll_at(50 * US);
    cr_assert_eq(rec.calls, 2);
    cr_assert_eq(rec.sizes[0], 63);
    cr_assert_eq(rec.sizes[1], 37);
    cr_assert_eq(rec.nseqs, 100);
    for (unsigned i = 0; i < 100; i++)
        cr_assert_eq(rec.seqs[i], BASE + i, "position %u: %llu", i,
                     (unsigned long long)rec.seqs[i]);
    teardown();
    /* exactly 63: one list; exactly 126: two full lists */
    setup_with(50 * US, 2 * MS, 4 * MS, 10, 10, true, 256);
    gap(BASE, BASE + 63, 0);
    poll_at(50 * US);
    cr_assert_eq(rec.calls, 1);
    cr_assert_eq(rec.sizes[0], 63);
    teardown();
    setup_with(50 * US, 2 * MS, 4 * MS, 10, 10, true, 256);
    gap(BASE, BASE + 126, 0);
    poll_at(50 * US);
    cr_assert_eq(rec.calls, 2);
    cr_assert_eq(rec.sizes[0], 63);
    cr_assert_eq(rec.sizes[1], 63);
    teardown();
}

/* Only the sequences whose back-off expired go in the list; the others wait
 * for their own time, and the poll returns the earliest of them. */
Test(nak, a_poll_sends_only_what_is_due_and_returns_the_earliest_pending)
{
    uint64_t due[20], first_left = UINT64_MAX, got;
    const uint64_t mid = 25 * US;
    unsigned want = 0;

    setup_with(50 * US, 2 * MS, 4 * MS, 10, 10, true, 64);
    gap(BASE, BASE + 20, 0);
    for (unsigned i = 0; i < 20; i++) {
        due[i] = slot(BASE + i)->nak_due_ns;
        if (due[i] <= mid)
            want++;
        else if (due[i] < first_left)
            first_left = due[i];
    }
    cr_assert(want > 0 && want < 20, "the seed should split the back-offs");
    got = poll_at(mid);
    cr_assert_eq(rec.nseqs, want);
    for (unsigned i = 0, k = 0; i < 20; i++)
        if (due[i] <= mid) {
            cr_assert_eq(rec.seqs[k], BASE + i);
            k++;
        }
    cr_assert_leq(got, first_left);
    cr_assert_eq(got, first_left < mid + (2 * MS >> 3) ? first_left : mid + (2 * MS >> 3));
    teardown();
}

/* Sequences that stop being missing (repaired, or passed by the window's
 * trailing edge) leave the list without a NAK or a loss; the rest stay. */
Test(nak, repaired_and_passed_sequences_leave_the_list)
{
    setup_with(1000, 2 * MS, 4 * MS, 10, 10, true, 64);
    gap(BASE, BASE + 10, 0);
    slot(BASE + 3)->state = SC_RXW_HAVE;
    slot(BASE + 7)->state = SC_RXW_HAVE;
    w.next = BASE + 2; /* BASE, BASE + 1 delivered or given up by the caller */
    poll_at(1000);
    cr_assert_eq(rec.nseqs, 6);
    {
        static const uint64_t want[] = { 2, 4, 5, 6, 8, 9 };
        for (unsigned i = 0; i < 6; i++)
            cr_assert_eq(rec.seqs[i], BASE + want[i]);
    }
    cr_assert_eq(rec.nlost, 0);
    /* the trail passes everything: nothing left */
    w.next = w.end;
    cr_assert_eq(poll_at(100 * MS), UINT64_MAX);
    cr_assert_eq(rec.nlost, 0);
    cr_assert_eq(rec.calls, 1);
    teardown();
}

Test(nak, reset_forgets_every_gap_and_a_gap_can_open_again)
{
    setup_with(1000, 2 * MS, 4 * MS, 10, 10, true, 64);
    gap(BASE, BASE + 5, 0);
    sc_nak_reset(&n);
    cr_assert_eq(poll_at(1 * MS), UINT64_MAX);
    cr_assert_eq(rec.calls, 0);
    /* a sequence missing again starts afresh: back-off, retries 0 */
    slot(BASE)->ncf_retries = 7;
    slot(BASE)->data_retries = 7;
    slot(BASE)->nakked = true;
    gap(BASE, BASE + 1, 2 * MS);
    cr_assert_eq(slot(BASE)->ncf_retries, 0);
    cr_assert_eq(slot(BASE)->data_retries, 0);
    cr_assert_not(slot(BASE)->nakked);
    cr_assert_eq(slot(BASE)->nak_state, SC_NAK_BACKOFF);
    poll_at(2 * MS + 1000);
    cr_assert_eq(rec.calls, 1);
    teardown();
}

/* The list holds a window's worth: a full window of gaps all NAKed, none
 * twice, none lost from the list. */
Test(nak, a_whole_window_of_gaps_is_followed)
{
    setup_with(1000, 2 * MS, 4 * MS, 10, 10, true, 128);
    gap(BASE, BASE + 128, 0);
    poll_at(1000);
    cr_assert_eq(rec.nseqs, 128);
    for (unsigned i = 0; i < 128; i++)
        cr_assert_eq(rec.seqs[i], BASE + i);
    teardown();
}

/* Many sequences, each given its own fate, against a model of the machine:
 * every NAK at its time, every loss after exactly its retries. */
Test(nak, many_gaps_each_lost_after_exactly_the_retries)
{
    unsigned naks[40] = { 0 };
    uint64_t now = 0;

    setup_with(50 * US, 2 * MS, 4 * MS, 3, 10, true, 64);
    gap(BASE, BASE + 40, 0);
    while (rec.nlost < 40 && now < 1000 * MS) {
        unsigned from = rec.nseqs;
        uint64_t due = poll_at(now);
        for (unsigned i = from; i < rec.nseqs; i++)
            naks[rec.seqs[i] - BASE]++;
        if (due == UINT64_MAX)
            break;
        cr_assert_gt(due, now);
        now = due;
    }
    cr_assert_eq(rec.nlost, 40);
    for (unsigned i = 0; i < 40; i++)
        cr_assert_eq(naks[i], 3, "seq %u NAKed %u times", i, naks[i]);
    teardown();
}
