/* Deterministic simulations (mem + loss transports, integer clock): every
 * subscriber delivers every message exactly once, in order, under random loss,
 * burst loss, reordering and duplication; NAK implosion stays bounded as
 * subscribers grow; a restarted publisher is a new source; data aged out of the
 * window becomes a typed loss event with the exact range, then delivery goes on. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <seqcast/shmstat.h>

#include "apps/msggen.h"
#include "engine/channel.h"
#include "engine/pub_int.h"
#include "engine/sub_int.h"
#include "tests/support/sim.h"


#define MSGS 1000000
#define S(x) ((uint64_t)(x) * 1000000000u)

static struct sim sim;

static uint64_t
sub_drops(struct sim *s)
{
    uint64_t d = 0;
    for (unsigned i = 0; i < s->nsubs; i++)
        if (s->subs[i].loss_x) {
            const struct sc_loss_stats *ls = sc_xport_loss_stats(s->subs[i].loss_x);
            d += ls->dropped + ls->burst_dropped;
        }
    return d;
}

/* every subscriber: all n messages of the (only) source, once, in order, no loss */
static void
assert_all_delivered(struct sim *s, uint64_t n, const char *what)
{
    for (unsigned i = 0; i < s->nsubs; i++) {
        struct sim_sub *ss = &s->subs[i];
        struct sim_source *so = sim_source(s, i, s->npub - 1);
        cr_assert_not_null(so, "%s: subscriber %u never saw the source", what, i);
        cr_assert_eq(ss->order_errors + ss->content_errors, 0, "%s: subscriber %u: %s", what, i,
                     ss->first_error);
        cr_assert_eq(so->nloss, 0, "%s: subscriber %u: loss event %llu..%llu reason %d", what, i,
                     (unsigned long long)so->loss[0].first, (unsigned long long)so->loss[0].last,
                     so->loss[0].reason);
        cr_assert_eq(so->delivered, n, "%s: subscriber %u delivered %llu of %llu", what, i,
                     (unsigned long long)so->delivered, (unsigned long long)n);
        cr_assert_eq(so->join, SC_JOIN_FROM_START);
    }
}

static void
run_loss(const char *what, unsigned nsubs, const struct sc_loss_params *lp, uint64_t n,
         int framing)
{
    struct sc_channel_cfg ch;
    struct sc_pub_stats ps;
    uint64_t drops;

    sim_channel(&ch);
    ch.framing = framing;
    sim_init(&sim, &ch, nsubs, lp, NULL);
    sim_publish(&sim, n, 64);
    /* 15 s: a burst of losses at the very end, when only heartbeats follow, can
     * silence a subscriber for seconds -- past source_timeout, and back within
     * its grace: it must then resume and lose nothing */
    cr_assert(sim_drain(&sim, n, S(15)), "%s: not caught up after 15 s of simulated time", what);
    assert_all_delivered(&sim, n, what);
    sc_pub_get_stats(sim.pub, &ps);
    drops = sub_drops(&sim);
    cr_log_info("%s: %u subscriber(s), %llu packets lost, publisher got %llu NAK sqns "
                "(%.3f per lost packet), sent %llu RDATA, %llu NCF",
                what, nsubs, (unsigned long long)drops, (unsigned long long)ps.nak_sqns,
                drops ? (double)ps.nak_sqns / (double)drops : 0.0,
                (unsigned long long)ps.rdata_sent, (unsigned long long)ps.ncf_sent);
    printf("# %s: %u sub(s), %llu lost packets, %.3f NAK sqns at the publisher per lost packet\n",
           what, nsubs, (unsigned long long)drops,
           drops ? (double)ps.nak_sqns / (double)drops : 0.0);
    if (lp && (lp->drop_ppm || lp->burst_ppm))
        cr_assert_gt(drops, 0, "the loss wrapper lost nothing: the test would prove nothing");
    sim_fini(&sim);
}

Test(sim, one_subscriber_loss_0_1_percent, .timeout = 120)
{
    struct sc_loss_params lp = { .seed = 1, .drop_ppm = 1000 };
    run_loss("0.1% loss", 1, &lp, MSGS, SC_FRAMING_BATCHED);
}

Test(sim, one_subscriber_loss_5_percent, .timeout = 120)
{
    struct sc_loss_params lp = { .seed = 2, .drop_ppm = 50000 };
    run_loss("5% loss", 1, &lp, MSGS, SC_FRAMING_BATCHED);
}

Test(sim, burst_loss_20_packets, .timeout = 120)
{
    struct sc_loss_params lp = { .seed = 3, .burst_ppm = 2000, .burst_len = 20 };
    run_loss("20-packet bursts", 1, &lp, MSGS, SC_FRAMING_BATCHED);
}

Test(sim, reorder_and_duplicate, .timeout = 120)
{
    struct sc_loss_params lp = { .seed = 4, .drop_ppm = 10000, .reorder_ppm = 50000,
                                 .reorder_depth = 5, .dup_ppm = 50000 };
    run_loss("reorder+dup+1% loss", 1, &lp, MSGS, SC_FRAMING_BATCHED);
}

Test(sim, raw_framing_with_fragments, .timeout = 120)
{
    struct sc_loss_params lp = { .seed = 5, .drop_ppm = 20000, .reorder_ppm = 10000 };
    struct sc_channel_cfg ch;

    sim_channel(&ch);
    ch.framing = SC_FRAMING_RAW;
    sim_init(&sim, &ch, 2, &lp, NULL);
    sim.msg_size = 0;
    sim_publish(&sim, 50000, 16);
    cr_assert(sim_drain(&sim, 50000, S(5))); /* the checker knows one size at a time */
    sim.msg_size = 4000; /* three fragments each */
    {
        uint64_t before = sim.sent;
        sim_publish(&sim, 2000, 2);
        cr_assert_eq(sim.sent, before + 2000);
    }
    cr_assert(sim_drain(&sim, 52000, S(5)));
    for (unsigned i = 0; i < sim.nsubs; i++) {
        struct sim_source *so = sim_source(&sim, i, 0);
        cr_assert_eq(sim.subs[i].order_errors + sim.subs[i].content_errors, 0, "%s",
                     sim.subs[i].first_error);
        cr_assert_eq(so->nloss, 0);
        cr_assert_eq(so->delivered, 52000);
    }
    sim_fini(&sim);
}

/* Receive in place (a transport with rx_lend): the subscriber parses and
 * delivers from the lent packets, copies what it keeps, and gives each burst
 * back before the next read -- the lender poisons what is given back, so a
 * packet kept without its copy would deliver poison. Every message arrives,
 * once, in order, with its content, under loss, reordering and duplication
 * (kept packets: out of order, repaired), batched and raw with fragments. */
Test(sim, receive_in_place_delivers_every_message_from_lent_packets, .timeout = 120)
{
    struct sc_loss_params lp = { .seed = 6, .drop_ppm = 20000, .reorder_ppm = 30000,
                                 .reorder_depth = 5, .dup_ppm = 20000 };
    struct sc_channel_cfg ch;

    sim_lend = true;
    run_loss("in place: reorder+dup+2% loss", 2, &lp, 300000, SC_FRAMING_BATCHED);
    sim_channel(&ch);
    ch.framing = SC_FRAMING_RAW;
    sim_lend = true;
    sim_init(&sim, &ch, 2, &lp, NULL);
    sim.msg_size = 0;
    sim_publish(&sim, 20000, 16);
    cr_assert(sim_drain(&sim, 20000, S(5)));
    sim.msg_size = 4000; /* three fragments each */
    sim_publish(&sim, 2000, 2);
    cr_assert(sim_drain(&sim, 22000, S(5)));
    for (unsigned i = 0; i < sim.nsubs; i++) {
        struct sim_source *so = sim_source(&sim, i, 0);
        struct sim_lender *l = sim.subs[i].lender;
        struct sc_sub_stats st;
        cr_assert_eq(sim.subs[i].order_errors + sim.subs[i].content_errors, 0, "%s",
                     sim.subs[i].first_error);
        cr_assert_eq(so->nloss, 0);
        cr_assert_eq(so->delivered, 22000);
        sc_sub_get_stats(sim.subs[i].sub, &st);
        printf("# in place, raw: subscriber %u: %llu reads lent %llu packets, %llu released, "
               "%llu repaired\n", i, (unsigned long long)l->lends,
               (unsigned long long)l->lent_pkts, (unsigned long long)l->releases,
               (unsigned long long)st.repaired);
        cr_assert_gt(l->lent_pkts, 20000, "the subscriber did not read in place");
        cr_assert_eq(l->releases, l->lends, "a read lent packets that were not given back");
        cr_assert_eq(l->unreleased, 0, "a read before the last one's release");
        cr_assert_gt(st.repaired, 0, "nothing was kept out of order: the test proves little");
    }
    sim_fini(&sim);
}

Test(sim, thirty_two_subscribers_5_percent, .timeout = 300)
{
    struct sc_loss_params lp = { .seed = 6, .drop_ppm = 50000 };
    run_loss("32 subs, 5% loss", 32, &lp, MSGS, SC_FRAMING_BATCHED);
}

Test(sim, thirty_two_subscribers_mixed_damage, .timeout = 300)
{
    struct sc_loss_params lp = { .seed = 7, .drop_ppm = 1000, .burst_ppm = 500, .burst_len = 20,
                                 .reorder_ppm = 20000, .dup_ppm = 20000 };
    run_loss("32 subs, 0.1% + bursts + reorder + dup", 32, &lp, MSGS, SC_FRAMING_BATCHED);
}

/* NAKs reaching the publisher per lost packet must not grow with the number of
 * subscribers: NCFs suppress the NAKs of receivers still in back-off. Nor may
 * the NCFs (each wakes every subscriber): the NAKs of receivers the first NCF
 * had not reached yet get no second one. */
Test(sim, nak_suppression_bounds_implosion, .timeout = 300)
{
    struct sc_loss_params lp = { .seed = 8, .on_tx = true, .drop_ppm = 20000 };
    struct sc_channel_cfg ch;
    struct sc_pub_stats ps;
    double per[2], ncf[2];
    uint64_t held[2];
    const unsigned n[2] = { 1, 32 };

    for (int k = 0; k < 2; k++) {
        sim_channel(&ch);
        /* loss on the publisher's link: every subscriber misses the same packets,
         * the worst case for implosion */
        sim_init(&sim, &ch, n[k], NULL, &lp);
        /* a 2 us clock: finer than the 50 us back-off, as on a real LAN, where an
         * NCF can overtake the back-offs still running (at a coarser step every
         * timer would expire in the same step and nothing could be suppressed) */
        sim.step_ns = 2000;
        sim_publish(&sim, 300000, 3);
        cr_assert(sim_drain(&sim, 300000, S(5)));
        assert_all_delivered(&sim, 300000, "shared loss");
        sc_pub_get_stats(sim.pub, &ps);
        per[k] = (double)ps.nak_sqns / (double)(ps.rdata_sent ? ps.rdata_sent : 1);
        ncf[k] = (double)ps.ncf_sent / (double)(ps.rdata_sent ? ps.rdata_sent : 1);
        held[k] = ps.nak_ncf_held;
        printf("# shared 2%% loss, %u subscriber(s): %llu NAK sqns at the publisher for %llu "
               "repairs: %.2f per repaired packet; %llu NCFs, %.2f per repaired packet (%llu "
               "NAK sqns not confirmed twice)\n", n[k], (unsigned long long)ps.nak_sqns,
               (unsigned long long)ps.rdata_sent, per[k], (unsigned long long)ps.ncf_sent,
               ncf[k], (unsigned long long)ps.nak_ncf_held);
        sim_fini(&sim);
    }
    cr_assert_leq(per[1], 2.2, "32 subscribers: %.2f NAKs per repaired packet", per[1]);
    cr_assert_leq(per[1], 2.2 * per[0], "implosion: %.2f vs %.2f with one subscriber", per[1],
                  per[0]);
    cr_assert_leq(ncf[1], 1.25 * ncf[0], "NCF storm: %.2f NCFs per repair with 32 subscribers, "
                  "%.2f with one", ncf[1], ncf[0]);
    /* the stat says where the duplicate NAKs went: with one subscriber none */
    cr_assert_eq(held[0], 0);
    cr_assert_gt(held[1], 0);
}

/* A publisher killed mid-stream and started again is a new source (new GSI):
 * the old one is reported down, the new one delivers from its start. */
Test(sim, publisher_restart_is_a_new_source, .timeout = 120)
{
    struct sc_loss_params lp = { .seed = 9, .drop_ppm = 10000 };
    struct sc_channel_cfg ch;
    struct sim_source *a, *b;

    sim_channel(&ch);
    sim_init(&sim, &ch, 4, &lp, NULL);
    sim_publish(&sim, 200000, 64);
    sim_drain(&sim, 200000, S(1));
    sim_new_publisher(&sim, NULL); /* crash + restart: no goodbye */
    sim_publish(&sim, 100000, 64);
    cr_assert(sim_drain(&sim, 100000, S(5)), "the new source is wedged");
    sim.step_ns = 1000000;
    sim_run_for(&sim, S(6)); /* past source_timeout (5 s) */
    for (unsigned i = 0; i < sim.nsubs; i++) {
        a = sim_source(&sim, i, 0);
        b = sim_source(&sim, i, 1);
        cr_assert(a && b, "subscriber %u saw %u sources", i, sim.subs[i].nsrc);
        cr_assert_str_neq(a->name, b->name);
        cr_assert_eq(a->delivered, 200000);
        cr_assert(a->down && a->down_reason == SC_DOWN_TIMEOUT);
        cr_assert_eq(b->delivered, 100000);
        cr_assert_eq(b->join, SC_JOIN_FROM_START);
        cr_assert_eq(sim.subs[i].order_errors + sim.subs[i].content_errors, 0, "%s",
                     sim.subs[i].first_error);
    }
    sim_fini(&sim);
}

/* A subscriber cut off for longer than the publisher's window: the data it
 * missed is gone. It must get typed loss events whose ranges are exact -- its
 * deliveries and losses cover 1..N contiguously, each message once (checked as
 * they happen by the harness) -- then delivery continues. */
Test(sim, aged_out_data_is_a_typed_loss_then_delivery_continues, .timeout = 120)
{
    /* subscriber 0 misses 2,000 packets in a row; the window holds 256 */
    struct sc_loss_params lp = { .seed = 10, .cut_from = 500, .cut_count = 2000 };
    struct sc_channel_cfg ch;
    struct sc_pub_stats ps;
    struct sim_source *so;
    uint64_t lost = 0, lost_pkts = 0;
    const uint64_t n = 60000;

    sim_channel(&ch);
    ch.window_packets = 256;
    sim_init(&sim, &ch, 1, &lp, NULL);
    sim.msg_size = 100; /* 14 messages per packet */
    sim_publish(&sim, n, 64);
    cr_assert(sim_drain(&sim, n, S(5)), "the subscriber never caught up");
    so = sim_source(&sim, 0, 0);
    cr_assert_eq(sim.subs[0].order_errors + sim.subs[0].content_errors, 0, "%s",
                 sim.subs[0].first_error);
    cr_assert_gt(so->nloss, 0, "no loss event for data no longer held");
    for (unsigned i = 0; i < so->nloss; i++) {
        cr_assert_eq(so->loss[i].reason, SC_LOSS_NOT_IN_WINDOW, "loss %u reason %d", i,
                     so->loss[i].reason);
        cr_assert_neq(so->loss[i].last, UINT64_MAX);
        lost += so->loss[i].last - so->loss[i].first + 1;
        lost_pkts += so->loss[i].packets;
        printf("# loss event %u: messages %llu..%llu (%llu packets), data no longer held\n", i,
               (unsigned long long)so->loss[i].first, (unsigned long long)so->loss[i].last,
               (unsigned long long)so->loss[i].packets);
    }
    cr_assert_eq(so->delivered + lost, n, "delivered %llu + lost %llu != %llu",
                 (unsigned long long)so->delivered, (unsigned long long)lost,
                 (unsigned long long)n);
    cr_assert_leq(lost_pkts, 2000, "more packets lost than were cut");
    cr_assert_geq(lost_pkts, 2000 - 256 - 64, "the window could not have repaired that much");
    cr_assert_eq(so->next, n + 1, "delivery continued to the end");
    sc_pub_get_stats(sim.pub, &ps);
    cr_assert_gt(ps.nak_out_of_window, 0);
    sim_fini(&sim);
}

/* Late join: a subscriber arriving mid-stream starts at the live edge (live)
 * or recovers what the publisher still holds (window), says which, and then
 * delivers contiguously to the end without loss. */
Test(sim, late_join_live_and_window, .timeout = 120)
{
    struct sc_loss_params lp = { .seed = 11, .drop_ppm = 10000 };
    struct sc_channel_cfg ch;
    struct sim_source *early, *live, *win;
    const uint64_t before = 100000, after = 50000;

    sim_channel(&ch);
    ch.window_packets = 1024;
    sim.msg_size = 100;
    sim_init(&sim, &ch, 1, &lp, NULL);
    sim.msg_size = 100;
    sim_publish(&sim, before, 64); /* ~7,000 packets: the window (1,024) has moved on */
    cr_assert(sim_drain(&sim, before, S(1))); /* everything sent before they join */
    sim_add_sub(&sim, &lp, SC_LATE_JOIN_LIVE);
    sim_add_sub(&sim, &lp, SC_LATE_JOIN_WINDOW);
    sim_publish(&sim, after, 64);
    cr_assert(sim_drain(&sim, before + after, S(5)));
    early = sim_source(&sim, 0, 0);
    live = sim_source(&sim, 1, 0);
    win = sim_source(&sim, 2, 0);
    cr_assert_eq(early->join, SC_JOIN_FROM_START);
    cr_assert_eq(early->delivered, before + after);
    cr_assert_eq(live->join, SC_JOIN_LIVE);
    cr_assert_eq(win->join, SC_JOIN_WINDOW);
    printf("# late join: live started at message %llu, window at %llu (of %llu published)\n",
           (unsigned long long)live->first, (unsigned long long)win->first,
           (unsigned long long)before);
    cr_assert_gt(live->first, before, "live must start at the live edge");
    cr_assert_lt(win->first, before - 10000, "window must recover what the publisher holds");
    cr_assert_gt(win->first, 1, "the window had moved: the start of the stream is gone");
    for (unsigned i = 0; i < 3; i++) {
        struct sim_source *so = sim_source(&sim, i, 0);
        uint64_t lost = 0;
        cr_assert_eq(sim.subs[i].order_errors + sim.subs[i].content_errors, 0, "%s",
                     sim.subs[i].first_error);
        /* the window joiner races a window that keeps moving (1,024 packets turn over
         * in ~10 ms here): what leaves before its repair is a typed loss, nothing else */
        for (unsigned k = 0; k < so->nloss; k++) {
            cr_assert(i == 2 && so->loss[k].reason == SC_LOSS_NOT_IN_WINDOW,
                      "subscriber %u: loss %llu..%llu reason %d", i,
                      (unsigned long long)so->loss[k].first, (unsigned long long)so->loss[k].last,
                      so->loss[k].reason);
            lost += so->loss[k].last - so->loss[k].first + 1;
        }
        cr_assert_eq(so->first + so->delivered + lost - 1, before + after,
                     "subscriber %u: deliveries and losses do not cover the stream", i);
    }
    sim_fini(&sim);
}

/* A publisher ends its session: it repeats the FIN. The first FIN ends the
 * source once everything is delivered; the repeats that follow must not start
 * a new source (which would NAK the whole ended session and report it lost). */
Test(sim, repeated_fin_after_the_end_starts_nothing, .timeout = 60)
{
    struct sc_channel_cfg ch;

    sim_channel(&ch);
    sim_init(&sim, &ch, 3, NULL, NULL);
    sim_publish(&sim, 5000, 64);
    cr_assert(sim_drain(&sim, 5000, S(1)));
    cr_assert(sim_close(&sim, S(1)), "the publisher did not finish closing");
    sim_run_for(&sim, S(1));
    for (unsigned i = 0; i < sim.nsubs; i++) {
        struct sim_sub *u = &sim.subs[i];
        struct sc_sub_stats st;
        sc_sub_get_stats(u->sub, &st);
        cr_assert_eq(u->nsrc, 1, "subscriber %u saw %u sources", i, u->nsrc);
        cr_assert(u->src[0].down && u->src[0].down_reason == SC_DOWN_FIN);
        cr_assert_eq(u->src[0].delivered, 5000);
        cr_assert_eq(u->src[0].nloss, 0, "subscriber %u: %u loss events after the end", i,
                     u->src[0].nloss);
        cr_assert_eq(st.sources_up, 1);
        cr_assert_eq(st.naks_sent, 0);
    }
    sim_fini(&sim);
}

/* A burst after a pause whose last packet is lost: the heartbeat schedule
 * restarts with the burst, so the first heartbeat SPM (spm.heartbeat[0] after
 * the data) reveals the tail and it is repaired within a couple of
 * milliseconds -- not when the pause's long heartbeat step comes due. */
static uint64_t
tail_repair_ns(uint64_t cut_from, uint64_t cut_count, uint64_t *seen_at_end,
               uint64_t *cut)
{
    struct sc_loss_params lp = { .seed = 12, .cut_from = cut_from, .cut_count = cut_count };
    struct sc_channel_cfg ch;
    struct sim_source *so;
    uint64_t t_end, t = UINT64_MAX;

    sim_channel(&ch);
    sim_init(&sim, &ch, 1, &lp, NULL);
    sim.step_ns = 10000; /* 10 us */
    sim.msg_size = 1000; /* one message a packet */
    sim_publish(&sim, 100, 1);
    cr_assert(sim_drain(&sim, 100, S(1)));
    sim_run_for(&sim, S(2)); /* a pause: the heartbeat schedule reaches spm.ambient */
    sim_publish(&sim, 20, 1); /* a burst, then quiet */
    t_end = sim.now;
    while (sim.now < t_end + S(3)) {
        so = sim_source(&sim, 0, 0);
        if (so->next > 120) {
            t = sim.now - t_end;
            break;
        }
        sim_run_for(&sim, sim.step_ns);
    }
    *seen_at_end = sc_xport_loss_stats(sim.subs[0].loss_x)->seen;
    *cut = sc_xport_loss_stats(sim.subs[0].loss_x)->cut;
    cr_assert_eq(sim.subs[0].order_errors + sim.subs[0].content_errors, 0, "%s",
                 sim.subs[0].first_error);
    sim_fini(&sim);
    return t;
}

Test(sim, tail_loss_after_a_pause_is_repaired_at_the_first_heartbeat, .timeout = 60)
{
    uint64_t seen, cut, t;

    /* a clean run first: the packets the subscriber sees before the last ODATA */
    t = tail_repair_ns(UINT64_MAX, 0, &seen, &cut);
    cr_assert_lt(t, 200000, "without loss the burst took %llu ns", (unsigned long long)t);
    /* the same run, deterministic, with that last ODATA dropped */
    t = tail_repair_ns(seen - 1, 1, &seen, &cut);
    cr_assert_eq(cut, 1, "the cut dropped %llu packets", (unsigned long long)cut);
    printf("# lost final packet of a burst after a 2 s pause: delivered %.3f ms after the burst\n",
           (double)t / 1e6);
    cr_assert_lt(t, 500000, "tail repaired only after %llu ns", (unsigned long long)t);
}

/* A subscriber that hears nothing from a session for longer than
 * source_timeout (its link down: data and heartbeats lost), then hears the
 * same session again, must go on from where it stopped: the messages sent
 * meanwhile are still in the publisher's window, so they are repaired and
 * everything is delivered once, in order -- not skipped (joining live) nor
 * delivered again from the start. */
static void
outage_run(uint64_t cut_from, uint64_t cut_count, uint64_t *seen_before, uint64_t *seen_after)
{
    struct sc_loss_params lp = { .seed = 13, .cut_from = cut_from, .cut_count = cut_count };
    struct sc_channel_cfg ch;

    sim_channel(&ch);
    ch.spm.ambient_ns = 100000000;    /* 100 ms */
    ch.source_timeout_ns = 300000000; /* 300 ms */
    sim_init(&sim, &ch, 1, &lp, NULL);
    sim.step_ns = 10000;
    sim.msg_size = 1000; /* one message a packet */
    sim_publish(&sim, 100, 1);
    cr_assert(sim_drain(&sim, 100, S(1)));
    *seen_before = sc_xport_loss_stats(sim.subs[0].loss_x)->seen;
    sim_publish(&sim, 20, 1);  /* the outage starts here ... */
    sim_run_for(&sim, S(1));   /* ... and lasts past source_timeout */
    *seen_after = sc_xport_loss_stats(sim.subs[0].loss_x)->seen;
    sim_publish(&sim, 20, 1);  /* the link is back */
}

Test(sim, a_session_heard_again_after_a_timeout_resumes, .timeout = 60)
{
    uint64_t before, after, b2, a2;
    struct sim_source *so;
    struct sc_sub_stats st;

    outage_run(UINT64_MAX, 0, &before, &after); /* clean: where the outage's packets are */
    sim_fini(&sim);
    outage_run(before, after - before, &b2, &a2);
    cr_assert_eq(sc_xport_loss_stats(sim.subs[0].loss_x)->cut, after - before);
    cr_assert(sim_drain(&sim, 140, S(2)), "the session did not resume to message 140");
    so = sim_source(&sim, 0, 0);
    sc_sub_get_stats(sim.subs[0].sub, &st);
    printf("# outage of %llu packets (%.1f s): source down %llu, up %llu, join %d, %llu repaired, "
           "%u loss events\n", (unsigned long long)(after - before), 1.0,
           (unsigned long long)st.sources_down, (unsigned long long)st.sources_up, so->last_join,
           (unsigned long long)st.repaired, so->nloss);
    cr_assert_eq(sim.subs[0].order_errors + sim.subs[0].content_errors, 0, "%s",
                 sim.subs[0].first_error);
    cr_assert_eq(so->nloss, 0, "loss event %llu..%llu reason %d for data the publisher still held",
                 (unsigned long long)so->loss[0].first, (unsigned long long)so->loss[0].last,
                 so->loss[0].reason);
    cr_assert_eq(so->delivered, 140, "delivered %llu of 140", (unsigned long long)so->delivered);
    cr_assert_eq(st.sources_down, 1, "the timeout was not reported");
    cr_assert_eq(so->last_join, SC_JOIN_RESUMED);
    sim_fini(&sim);
}

/* Heartbeats exist to reveal a lost tail when the stream goes quiet; on a steady
 * stream the next data packet reveals a loss anyway. So a steady stream costs
 * at most one heartbeat SPM per packet (the first step, when it comes clearly
 * before the next data), none when the first step would race the next data; the
 * publisher's deadline does not fall between packets for anything else (a timer
 * left to re-arm itself woke it every packet or two); and a lost final packet
 * is still revealed within a few inter-packet gaps. */
static void
steady_stream(uint64_t gap_ns, uint64_t cut_from, uint64_t *odata, uint64_t *spm,
              uint64_t *tail_ns, uint64_t *seen, uint64_t *early)
{
    struct sc_loss_params lp = { .seed = 14, .cut_from = cut_from, .cut_count = 1 };
    struct sc_channel_cfg ch;
    struct sc_pub_stats a, b;
    uint64_t t_end;

    *early = 0;
    sim_channel(&ch);
    sim_init(&sim, &ch, 1, &lp, NULL);
    sim.step_ns = 2000; /* the agents run every 2 us, as a polling loop would */
    sim.msg_size = 1000; /* one message a packet */
    for (unsigned i = 0; i < 1050; i++) {
        if (i == 50) /* the publisher has seen the pace */
            sc_pub_get_stats(sim.pub, &a);
        if (i == 1049)
            sc_pub_get_stats(sim.pub, &b);
        sim_publish(&sim, 1, 1);
        if (i == 1049)
            break;
        /* a publisher that sleeps until its deadline once the packet is out:
         * does it want to wake before the next data, for anything but a
         * heartbeat it sends? */
        sim_run_for(&sim, sim.step_ns);
        if (i >= 50 && sc_pub_deadline(sim.pub, sim.now) < sim.now + gap_ns - 2 * sim.step_ns)
            (*early)++;
        sim_run_for(&sim, gap_ns - 2 * sim.step_ns);
    }
    *odata = b.odata_sent - a.odata_sent; /* 999 packets and the gaps after them */
    *spm = b.spm_sent - a.spm_sent;
    t_end = sim.now - sim.step_ns; /* when the last message was sent */
    *tail_ns = UINT64_MAX;
    while (sim.now < t_end + S(1)) {
        if (sim_source(&sim, 0, 0)->next > 1050) {
            *tail_ns = sim.now - t_end;
            break;
        }
        sim_run_for(&sim, sim.step_ns);
    }
    *seen = sc_xport_loss_stats(sim.subs[0].loss_x)->seen;
    cr_assert_eq(sim.subs[0].order_errors + sim.subs[0].content_errors, 0, "%s",
                 sim.subs[0].first_error);
    sim_fini(&sim);
}

Test(sim, a_steady_stream_sends_few_heartbeats_and_still_reveals_a_lost_tail, .timeout = 60)
{
    static const uint64_t gaps[] = { 1000000, 100000, 20000 }; /* 1k, 10k, 50k msg/s */
    static const double max_per_pkt[] = { 1.05, 0.05, 0.05 };

    for (unsigned i = 0; i < sizeof(gaps) / sizeof(gaps[0]); i++) {
        uint64_t odata, spm, tail, seen, o2, s2, tail2, seen2, early, e2;

        steady_stream(gaps[i], UINT64_MAX, &odata, &spm, &tail, &seen, &early);
        cr_assert_eq(odata, 999);
        cr_assert_lt(tail, gaps[i] + 20000, "clean run: the last message took %llu ns",
                     (unsigned long long)tail);
        printf("# steady stream, one packet every %llu us: %.3f heartbeat SPMs per packet\n",
               (unsigned long long)(gaps[i] / 1000), (double)spm / (double)odata);
        cr_assert_leq((double)spm / (double)odata, max_per_pkt[i],
                      "%llu SPMs for %llu packets at a %llu ns gap", (unsigned long long)spm,
                      (unsigned long long)odata, (unsigned long long)gaps[i]);
        /* and no timer wake-up between packets beyond the heartbeats it sends */
        cr_assert_leq(early, spm + 2, "%llu of 999 gaps had a publisher deadline before the next "
                      "data, for %llu SPMs", (unsigned long long)early, (unsigned long long)spm);
        /* the same run with the final ODATA (the last packet seen when the last
         * message was delivered) dropped: revealed by a heartbeat, repaired */
        steady_stream(gaps[i], seen - 1, &o2, &s2, &tail2, &seen2, &e2);
        printf("# ... its lost final packet delivered %.3f ms after the stream stopped\n",
               (double)tail2 / 1e6);
        cr_assert_lt(tail2, 2 * gaps[i] + 200000, "tail repaired only after %llu ns",
                     (unsigned long long)tail2);
    }
}

/* A receiver learns from an SPM where to send its NAKs (OpenPGM's gives up at
 * once on a loss it cannot NAK yet). On a steady stream data suppresses the
 * heartbeats, so a session that announced itself only once would leave a
 * receiver that missed that SPM unable to repair anything until spm.ambient:
 * the spm.heartbeat steps run once more at start-up whatever the data does --
 * and cost nothing after that. */
Test(sim, a_steady_stream_announces_its_source_again_within_milliseconds, .timeout = 60)
{
    struct sc_channel_cfg ch;
    struct sc_pub_stats st;
    uint64_t step_sum = 0, want_early = 1, spm_early, spm_1s, t0;
    const uint64_t gap = 50000, early = 10000000; /* 20,000 msg/s; the first 10 ms */

    sim_channel(&ch);
    for (unsigned i = 0; i < ch.spm.nheartbeat; i++) /* SPMs due in the first 10 ms */
        if ((step_sum += ch.spm.heartbeat_ns[i]) <= early)
            want_early++;
    cr_assert_geq(want_early, 4, "lan's heartbeat steps should fit several SPMs in 10 ms");
    sim_init(&sim, &ch, 1, NULL, NULL);
    sim.step_ns = 2000;
    sim.msg_size = 1000; /* one message a packet */
    t0 = sim.now;
    while (sim.now - t0 < early) {
        sim_publish(&sim, 1, 1);
        sim_run_for(&sim, gap - sim.step_ns);
    }
    sc_pub_get_stats(sim.pub, &st);
    spm_early = st.spm_sent;
    while (sim.now - t0 < S(1)) {
        sim_publish(&sim, 1, 1);
        sim_run_for(&sim, gap - sim.step_ns);
    }
    sc_pub_get_stats(sim.pub, &st);
    spm_1s = st.spm_sent;
    printf("# steady stream at 20,000 msg/s: %llu SPMs in its first 10 ms, %llu in its first "
           "second (%llu packets)\n", (unsigned long long)spm_early, (unsigned long long)spm_1s,
           (unsigned long long)st.odata_sent);
    cr_assert_geq(spm_early, want_early, "%llu SPMs in the first 10 ms, want %llu",
                  (unsigned long long)spm_early, (unsigned long long)want_early);
    /* the start-up steps, an ambient SPM: no more */
    cr_assert_leq(spm_1s, 1 + ch.spm.nheartbeat + 1, "%llu SPMs in the first second",
                  (unsigned long long)spm_1s);
    cr_assert_eq(sim.subs[0].order_errors + sim.subs[0].content_errors, 0, "%s",
                 sim.subs[0].first_error);
    sim_fini(&sim);
}

/* A/B lines (group_b): the publisher sends every packet to both groups, the
 * subscriber takes whichever copy comes first. With 5 % independent loss on
 * every copy, a packet is missing only when both copies are (0.25 %): every
 * message arrives once, in order, and NAKs fall to a small fraction of the
 * single-line case; the second copies are counted as duplicates, and they cost
 * no extra transport call. */
Test(sim, a_b_lines_hide_independent_losses, .timeout = 120)
{
    struct sc_loss_params lp = { .seed = 15, .drop_ppm = 50000 };
    struct sc_channel_cfg ch;
    struct sc_pub_stats ps;
    struct sc_sub_stats st;
    uint64_t drops, single_naks, single_calls;
    const uint64_t n = 100000;

    /* one line first: the NAKs that loss costs */
    sim_channel(&ch);
    sim_init(&sim, &ch, 1, &lp, NULL);
    sim_publish(&sim, n, 16);
    cr_assert(sim_drain(&sim, n, S(5)));
    assert_all_delivered(&sim, n, "one line, 5% loss");
    sc_pub_get_stats(sim.pub, &ps);
    single_naks = ps.nak_sqns;
    single_calls = ps.link.tx_calls;
    sim_fini(&sim);

    inet_pton(AF_INET, "239.198.0.2", &ch.group_b);
    sim_init(&sim, &ch, 1, &lp, NULL);
    sim_publish(&sim, n, 16);
    cr_assert(sim_drain(&sim, n, S(5)), "A/B: not caught up");
    assert_all_delivered(&sim, n, "A/B lines, 5% loss on each copy");
    sc_pub_get_stats(sim.pub, &ps);
    sc_sub_get_stats(sim.subs[0].sub, &st);
    drops = sub_drops(&sim);
    printf("# A/B lines, 5%% loss on every copy: %llu copies lost, %llu NAK sqns (one line: "
           "%llu), %llu B-line copies sent, %llu duplicates dropped\n",
           (unsigned long long)drops, (unsigned long long)ps.nak_sqns,
           (unsigned long long)single_naks, (unsigned long long)ps.line_b_sent,
           (unsigned long long)st.duplicates);
    cr_assert_gt(drops, 0);
    cr_assert_eq(ps.line_b_dropped, 0);
    cr_assert_geq(ps.line_b_sent, ps.odata_sent, "not every packet went on the B line");
    cr_assert_lt(ps.nak_sqns * 10, single_naks, "A/B did not hide the losses: %llu vs %llu NAKs",
                 (unsigned long long)ps.nak_sqns, (unsigned long long)single_naks);
    cr_assert_gt(st.duplicates, ps.odata_sent * 8 / 10, "the second copies were not dropped");
    /* a small burst's A and B copies leave in one transport call (one wake-up
     * of a receiver for both), not two */
    printf("# transport send calls: %llu with A/B lines, %llu with one line\n",
           (unsigned long long)ps.link.tx_calls, (unsigned long long)single_calls);
    cr_assert_lt(ps.link.tx_calls * 10, single_calls * 12, "A/B: %llu send calls, one line %llu",
                 (unsigned long long)ps.link.tx_calls, (unsigned long long)single_calls);
    sim_fini(&sim);
}

/* Four sources at once into one subscriber, each with thousands of packets
 * held behind its gaps (slow repairs): each gets its own window of buffers
 * (the pool grows by a window per further source), so four lose nothing, as
 * one would not. Capped at one window (as if memory ran out) the pool runs
 * dry: data that cannot be delivered at once is then left missing and NAKed
 * again, reading never stops, and every source still reaches its end --
 * each message delivered once and in order, or reported lost. (A shared pool
 * of one window used to wedge here: every buffer waited in a window for a
 * repair that could no longer be read.) */
static void
run_four_sources(unsigned cap, struct sc_sub_stats *st)
{
    struct sc_loss_params lp = { .seed = 21, .drop_ppm = 50000 };
    struct sc_channel_cfg ch;
    const uint64_t n = 200000;
    uint64_t end;

    sim_channel(&ch);
    ch.rx_window_packets = 16384;
    ch.nak.backoff_ns = 2000000; /* slow repairs: thousands of packets held per source */
    sim_init(&sim, &ch, 1, &lp, NULL);
    sim.msg_size = 1000; /* a message a packet: 64 packets a step from each source */
    if (cap)
        sc_sub_cap_pool(sim.subs[0].sub, cap);
    for (int i = 0; i < 3; i++)
        sim_add_publisher(&sim);
    sim_publish(&sim, n, 64);
    end = sim.now + S(10);
    for (;;) { /* until every source has delivered everything, or 10 s */
        bool all = sim.subs[0].nsrc == 4;
        for (unsigned k = 0; k < sim.subs[0].nsrc && all; k++)
            all = sim.subs[0].src[k].next > n;
        if (all || sim.now >= end)
            break;
        sim_run_for(&sim, 1000000);
    }
    /* the publishers end their sessions: what is still missing is reported lost */
    cr_assert(sim_close(&sim, S(1)), "the publishers did not finish closing");
    sim_run_for(&sim, S(2));
    cr_assert_eq(sim.subs[0].order_errors + sim.subs[0].content_errors, 0, "%s",
                 sim.subs[0].first_error);
    cr_assert_eq(sim.subs[0].nsrc, 4);
    for (unsigned k = 0; k < 4; k++) {
        struct sim_source *so = &sim.subs[0].src[k];
        cr_assert(so->down && so->down_reason == SC_DOWN_FIN,
                  "source %u never reached its end (at message %llu)", k,
                  (unsigned long long)so->next);
    }
    sc_sub_get_stats(sim.subs[0].sub, st);
    printf("# 4 sources, pool %s: %llu of %llu delivered, pool empty %llu times, %llu repaired\n",
           cap ? "capped at one window" : "a window per source",
           (unsigned long long)st->msgs_delivered, (unsigned long long)(4 * n),
           (unsigned long long)st->rx_pool_empty, (unsigned long long)st->repaired);
}

Test(sim, four_sources_each_get_a_window_of_buffers, .timeout = 120)
{
    struct sc_sub_stats st;

    run_four_sources(0, &st);
    for (unsigned k = 0; k < 4; k++) {
        cr_assert_eq(sim.subs[0].src[k].delivered, 200000, "source %u", k);
        cr_assert_eq(sim.subs[0].src[k].nloss, 0, "source %u", k);
    }
    cr_assert_eq(st.rx_pool_empty, 0);
    cr_assert_eq(st.rx_pool_grow_failed, 0);
    cr_assert_gt(st.repaired, 10000, "losses were in flight on every source");
    sim_fini(&sim);
}

Test(sim, four_sources_on_a_pool_that_runs_dry_keep_reading, .timeout = 120)
{
    struct sc_sub_stats st;

    run_four_sources(1, &st);
    cr_assert_gt(st.rx_pool_grow_failed, 0);
    cr_assert_gt(st.rx_pool_empty, 0, "the pool never ran dry: the test proves nothing");
    for (unsigned k = 0; k < 4; k++)
        cr_assert_gt(sim.subs[0].src[k].delivered, 200000 / 10, "source %u", k);
    sim_fini(&sim);
}

/* The last messages of a session are lost and can no longer be repaired (the
 * publisher closes, then is gone): the loss event names exactly which ones --
 * the End of Session block, the session's last ODATA, gives the number after
 * them -- where the FIN SPMs alone left the range open (UINT64_MAX), and a
 * subscriber counting to N could not know it had reached N. */
Test(sim, a_lost_tail_at_the_end_of_a_session_is_an_exact_loss, .timeout = 60)
{
    struct sc_loss_params lp = { .seed = 14 };
    struct sc_channel_cfg ch;
    struct sim_source *so;
    uint64_t seen;

    sim_channel(&ch);
    sim_init(&sim, &ch, 1, &lp, NULL);
    sim.step_ns = 10000;
    sim.msg_size = 1000; /* one message a packet */
    sim_publish(&sim, 97, 1);
    cr_assert(sim_drain(&sim, 97, S(1)));
    sim_run_for(&sim, S(1)); /* quiet: the heartbeats after the data are over */
    seen = sc_xport_loss_stats(sim.subs[0].loss_x)->seen;
    sim_fini(&sim);

    /* the same run, with the next three packets the subscriber sees cut: the
     * last three messages (or two, if a heartbeat SPM came between them) */
    lp.cut_from = seen;
    lp.cut_count = 3;
    sim_init(&sim, &ch, 1, &lp, NULL);
    sim.step_ns = 10000;
    sim.msg_size = 1000;
    sim_publish(&sim, 97, 1);
    cr_assert(sim_drain(&sim, 97, S(1)));
    sim_run_for(&sim, S(1));
    cr_assert_eq(sc_xport_loss_stats(sim.subs[0].loss_x)->seen, seen, "the runs diverged");
    sim_publish(&sim, 3, 1);
    sc_pub_close(sim.pub, sim.now); /* End of Session and FIN are on their way... */
    while (!sc_pub_closed(sim.pub)) /* (the publisher alone: no NAK reaches it meanwhile) */
        sc_pub_do_work(sim.pub, sim.now += sim.step_ns);
    sim_stop_publisher(&sim); /* ... and nobody will answer a NAK */
    sim_run_for(&sim, S(2));
    so = sim_source(&sim, 0, 0);
    cr_assert_eq(sim.subs[0].order_errors + sim.subs[0].content_errors, 0, "%s",
                 sim.subs[0].first_error);
    cr_assert_eq(sc_xport_loss_stats(sim.subs[0].loss_x)->cut, 3);
    cr_assert_eq(so->nloss, 1, "%u loss events", so->nloss);
    cr_assert_neq(so->loss[0].last, UINT64_MAX, "the lost tail's range is open");
    cr_assert_eq(so->loss[0].last, 100, "loss %llu..%llu", (unsigned long long)so->loss[0].first,
                 (unsigned long long)so->loss[0].last);
    cr_assert_geq(so->loss[0].first, 98);
    cr_assert_eq(so->delivered + (so->loss[0].last - so->loss[0].first + 1), 100);
    cr_assert(so->down && so->down_reason == SC_DOWN_FIN, "the session did not end");
    printf("# lost tail at the end of a session: loss event %llu..%llu, then end of session\n",
           (unsigned long long)so->loss[0].first, (unsigned long long)so->loss[0].last);
    sim_fini(&sim);
}

/* ------------------------------------------------------------ closing */

/* Closing is a state do_work drains with the real clock. With data_rate set, a
 * whole window of data is still unsent when the application closes (and so
 * the End of Session block has no room yet): do_work sends it within the rate,
 * then the block, then the FIN. sc_pub_close used to spin do_work 100,000 times
 * at the same instant, when the rate let nothing more out: it gave up on the
 * backlog (close_unsent) and announced the end before it. */
Test(sim, closing_sends_a_rate_limited_backlog_then_the_end, .timeout = 60)
{
    const uint64_t n = 1024, rate = 10000000;
    struct sc_channel_cfg ch;
    struct sc_pub_stats ps;
    uint8_t buf[1000];
    uint64_t t0, took;
    struct sim_source *so;

    sim_channel(&ch);
    ch.window_packets = 1024;
    ch.data_rate_bps = rate;
    sim_init(&sim, &ch, 1, NULL, NULL);
    sim.msg_size = sizeof(buf); /* one message a packet */
    for (uint64_t i = 1; i <= n; i++) { /* all at once: the whole window unsent */
        sc_msggen_fill(i, buf, sizeof(buf));
        cr_assert_eq(sc_pub_send(sim.pub, buf, sizeof(buf), sim.now), 0, "message %llu",
                     (unsigned long long)i);
    }
    sim.sent = n;
    t0 = sim.now;
    sc_pub_close(sim.pub, sim.now);
    cr_assert_eq(sc_pub_send(sim.pub, buf, 8, sim.now), -EPIPE, "a message after the close");
    cr_assert_not(sc_pub_closed(sim.pub));
    cr_assert(sim_close(&sim, S(10)), "not closed after 10 s");
    took = sim.now - t0;
    sim_run_for(&sim, S(1));
    sc_pub_get_stats(sim.pub, &ps);
    so = sim_source(&sim, 0, 0);
    printf("# close with %llu packets unsent at %llu Mbit/s: closed after %.3f s\n",
           (unsigned long long)n, (unsigned long long)(rate / 1000000), (double)took / 1e9);
    cr_assert_eq(ps.close_unsent, 0);
    cr_assert_eq(ps.odata_sent, n + 1, "%llu ODATA: the End of Session block is missing",
                 (unsigned long long)ps.odata_sent);
    /* at the rate: n packets of 1,046 bytes (+ 28), less the bucket's 10 ms */
    cr_assert_geq(took, n * (1046 + 28) * 8 * 1000 / (rate / 1000000) - 10000000, "%llu ns",
                  (unsigned long long)took);
    cr_assert_eq(sim.subs[0].order_errors + sim.subs[0].content_errors, 0, "%s",
                 sim.subs[0].first_error);
    cr_assert_eq(so->delivered, n);
    cr_assert_eq(so->nloss, 0);
    cr_assert(so->down && so->down_reason == SC_DOWN_FIN, "the session did not end");
    sim_fini(&sim);
}

/* A transport that takes nothing (a peer gone: a memif without its client).
 * Closing gives up after close_timeout without progress -- time, not passes:
 * a frozen clock never gets there -- counts what was never sent, and never
 * sends it after the FIN. */
static uint16_t
refuse_rx(struct sc_xport *x, struct sc_pkt *p, uint16_t n)
{
    (void)x;
    (void)p;
    (void)n;
    return 0;
}

static uint16_t
refuse_tx(struct sc_xport *x, const struct sc_pkt *p, uint16_t n)
{
    (void)x;
    (void)p;
    (void)n;
    return 0;
}

static void
refuse_close(struct sc_xport *x)
{
    (void)x;
}

Test(sim, closing_gives_up_on_a_transport_that_takes_nothing, .timeout = 60)
{
    static const struct sc_xport_ops ops = { .name = "refuse", .rx_burst = refuse_rx,
                                             .tx_burst = refuse_tx, .close = refuse_close };
    struct sc_xport x = { .ops = &ops, .local_addr = inet_addr("198.18.0.1") };
    struct sc_channel_cfg ch;
    struct sc_pub_stats ps;
    struct sc_pub *p;
    struct sc_err err;
    uint64_t now = S(1), closed_at = 0;

    sim_channel(&ch);
    cr_assert_eq(sc_pub_create_on(&p, &ch, &x, 9, &err), 0, "%s", err.msg);
    for (int i = 0; i < 10; i++) {
        cr_assert_eq(sc_pub_send(p, "ten bytes!", 10, now), 0);
        cr_assert_eq(sc_pub_flush(p, now), 0);
    }
    sc_pub_do_work(p, now);
    sc_pub_close(p, now);
    for (int i = 0; i < 100000; i++) /* a frozen clock: passes are not time */
        sc_pub_do_work(p, now);
    cr_assert_not(sc_pub_closed(p), "gave up without any time passing");
    for (uint64_t t = now; t <= now + 2 * ch.close_timeout_ns; t += 1000000) {
        sc_pub_do_work(p, t);
        if (sc_pub_closed(p)) {
            closed_at = t;
            break;
        }
        cr_assert_leq(sc_pub_deadline(p, t), t + ch.close_timeout_ns);
    }
    cr_assert_geq(closed_at, now + ch.close_timeout_ns, "gave up early");
    cr_assert_lt(closed_at, now + ch.close_timeout_ns + 2000000, "gave up late");
    sc_pub_get_stats(p, &ps);
    cr_assert_eq(ps.close_unsent, 11, "10 packets and the End of Session block, counted %llu",
                 (unsigned long long)ps.close_unsent);
    cr_assert_eq(ps.odata_sent, 0);
    cr_assert_eq(ps.window_lead + 1, ps.window_trail, "the unsent packets were kept");
    sc_pub_destroy(p);
}

/* After the FIN the publisher goes on repairing: a subscriber that lost the
 * session's last packets gets them (and the End of Session block) back. */
Test(sim, repairs_are_served_after_the_fin, .timeout = 60)
{
    struct sc_loss_params lp = { .seed = 15 };
    struct sc_channel_cfg ch;
    struct sc_pub_stats at_close, after;
    struct sim_source *so;
    uint64_t seen;

    sim_channel(&ch);
    sim_init(&sim, &ch, 1, &lp, NULL);
    sim.step_ns = 10000;
    sim.msg_size = 1000;
    sim_publish(&sim, 100, 1);
    cr_assert(sim_drain(&sim, 100, S(1)));
    sim_run_for(&sim, S(1));
    seen = sc_xport_loss_stats(sim.subs[0].loss_x)->seen;
    sim_fini(&sim);

    lp.cut_from = seen; /* the subscriber loses what comes next: the tail, the block, a FIN */
    lp.cut_count = 4;
    sim_init(&sim, &ch, 1, &lp, NULL);
    sim.step_ns = 10000;
    sim.msg_size = 1000;
    sim_publish(&sim, 100, 1);
    cr_assert(sim_drain(&sim, 100, S(1)));
    sim_run_for(&sim, S(1));
    sim_publish(&sim, 2, 1);
    sc_pub_close(sim.pub, sim.now);
    while (!sc_pub_closed(sim.pub)) /* the publisher alone until the FIN is out */
        sc_pub_do_work(sim.pub, sim.now += sim.step_ns);
    sc_pub_get_stats(sim.pub, &at_close);
    sim_run_for(&sim, S(1));
    sc_pub_get_stats(sim.pub, &after);
    so = sim_source(&sim, 0, 0);
    cr_assert_eq(sc_xport_loss_stats(sim.subs[0].loss_x)->cut, 4);
    cr_assert_gt(after.rdata_sent, at_close.rdata_sent, "nothing repaired after the FIN");
    cr_assert_eq(sim.subs[0].order_errors + sim.subs[0].content_errors, 0, "%s",
                 sim.subs[0].first_error);
    cr_assert_eq(so->delivered, 102);
    cr_assert_eq(so->nloss, 0, "loss %llu..%llu", (unsigned long long)so->loss[0].first,
                 (unsigned long long)so->loss[0].last);
    cr_assert(so->down && so->down_reason == SC_DOWN_FIN);
    sim_fini(&sim);
}

/* The repair latency (repair_wait, repair_wait_max): every repaired
 * packet adds how long it was missing, on the simulation's clock -- at least
 * a NAK's round trip, which here is never 0 -- and the longest is kept. */
Test(sim, repair_latency_is_counted, .timeout = 60)
{
    struct sc_loss_params lp = { .seed = 5, .drop_ppm = 50000 };
    struct sc_channel_cfg ch;
    struct sc_sub_stats st;
    double mean;

    sim_channel(&ch);
    sim_init(&sim, &ch, 1, &lp, NULL);
    sim_publish(&sim, 100000, 64);
    cr_assert(sim_drain(&sim, 100000, S(15)));
    assert_all_delivered(&sim, 100000, "repair latency");
    sc_sub_get_stats(sim.subs[0].sub, &st);
    cr_assert_gt(st.repaired, 100, "5 %% loss must have needed repairs (%llu)",
                 (unsigned long long)st.repaired);
    mean = (double)st.repair_wait / (double)st.repaired;
    printf("# %llu repaired, mean repair latency %.1f us, longest %llu us (step %llu ns)\n",
           (unsigned long long)st.repaired, mean, (unsigned long long)st.repair_wait_max,
           (unsigned long long)sim.step_ns);
    cr_assert_gt(mean, 0, "no repair latency counted");
    cr_assert_geq((double)st.repair_wait_max, mean);
    cr_assert_lt(st.repair_wait_max, 5000000, "a repair slower than 5 s: %llu us",
                 (unsigned long long)st.repair_wait_max);
    sim_fini(&sim);
}

/* Per-source counters (sc_sub_get_source) and repair events (on_repair), two
 * sources under 5 % loss: each source's counters add up to the subscriber's,
 * nothing is missing or behind at the end, every repaired packet is in exactly
 * one repair event (their packets add up to repaired), and a counters file
 * shows one source block per source, labelled with its GSI and port, the
 * other places vacant. */
Test(sim, per_source_counters_and_repair_events, .timeout = 60)
{
    struct sc_loss_params lp = { .seed = 9, .drop_ppm = 50000 };
    struct sc_channel_cfg ch;
    struct sc_sub_stats st;
    struct sc_sub_source_stats so[2], x;
    struct sc_shmstat_params sp = { "/tmp", "sim-test", "per-source", 0, 0 };
    struct sc_shmstat *shm;
    struct sc_shmstat_snap *snap;
    struct sc_err err = { 0 };
    const uint64_t n = 50000;
    uint64_t msgs = 0, gaps = 0, naks = 0, repaired = 0, lost = 0, runs = 0, end;
    unsigned found = 0, blocks = 0, vacant = 0;
    int rc;

    sim_channel(&ch);
    sim_init(&sim, &ch, 1, &lp, NULL);
    sim_add_publisher(&sim);
    sim_publish(&sim, n, 64);
    end = sim.now + S(15);
    for (;;) {
        bool all = sim.subs[0].nsrc == 2;
        for (unsigned k = 0; k < sim.subs[0].nsrc && all; k++)
            all = sim.subs[0].src[k].next > n;
        if (all || sim.now >= end)
            break;
        sim_run_for(&sim, 1000000);
    }
    sim_run_for(&sim, 1000000);
    cr_assert_eq(sim.subs[0].order_errors + sim.subs[0].content_errors, 0, "%s",
                 sim.subs[0].first_error);
    sc_sub_get_stats(sim.subs[0].sub, &st);
    for (unsigned i = 0; (rc = sc_sub_get_source(sim.subs[0].sub, i, &x)) >= 0; i++) {
        if (!rc)
            continue;
        cr_assert_lt(found, 2, "more than two sources");
        so[found++] = x;
        msgs += x.msgs_delivered;
        gaps += x.gaps;
        naks += x.naks_sent;
        repaired += x.repaired;
        lost += x.lost_packets;
        runs += x.repair_runs;
        cr_assert_eq(x.msgs_delivered, n, "%s", x.src.name);
        cr_assert_eq(x.last_seq, n, "%s: the last message delivered", x.src.name);
        cr_assert_eq(x.lag, 0, "%s: nothing behind at the end", x.src.name);
        cr_assert_eq(x.missing, 0);
        cr_assert_eq(x.up, 1);
        cr_assert_gt(x.lead, 0);
        cr_assert_gt(x.repaired, 0, "%s: 5 %% loss needed repairs", x.src.name);
    }
    cr_assert_eq(rc, -ENOENT, "past the table");
    cr_assert_eq(found, 2);
    cr_assert_str_neq(so[0].src.name, so[1].src.name);
    cr_assert_eq(msgs, st.msgs_delivered);
    cr_assert_eq(gaps, st.gaps);
    cr_assert_eq(naks, st.naks_sent);
    cr_assert_eq(repaired, st.repaired);
    cr_assert_eq(lost, st.lost_packets);
    cr_assert_eq(st.lag, 0);
    printf("# 2 sources: %llu repaired in %llu repair events (%llu runs), %llu gaps\n",
           (unsigned long long)st.repaired, (unsigned long long)sim.subs[0].repair_events,
           (unsigned long long)runs, (unsigned long long)st.gaps);
    cr_assert_eq(sim.subs[0].repair_bad, 0, "repair events with fields that disagree");
    cr_assert_eq(sim.subs[0].repair_packets, st.repaired, "each repair in one event");
    cr_assert_eq(sim.subs[0].repair_events, runs);
    cr_assert_lt(sim.subs[0].repair_events, st.repaired, "a gap's repairs in one event");

    /* the counters file: a block per place, two of them the sources */
    cr_assert_eq(sc_shmstat_create(&shm, &sp, &err), 0, "%s", err.msg);
    cr_assert_eq(sc_shmstat_add_sub(shm, sim.subs[0].sub, "channel=sim", &err), 0, "%s", err.msg);
    cr_assert_eq(sc_shmstat_open(shm, &err), 0, "%s", err.msg);
    cr_assert_eq(sc_shmstat_read(sc_shmstat_path(shm), &snap, &err), 0, "%s", err.msg);
    for (uint32_t b = 0; b < snap->nblocks; b++) {
        const struct sc_shmstat_rblock *rb = &snap->blocks[b];
        char want[SC_SHMSTAT_LABELS];
        uint64_t v;
        if (rb->set != SC_COUNTERS_SUB_SOURCE)
            continue;
        blocks++;
        if (rb->vacant) {
            vacant++;
            cr_assert_str_eq(rb->labels, "");
            continue;
        }
        for (unsigned k = 0; k < 2; k++) {
            const struct sc_source *s = &so[k].src;
            snprintf(want, sizeof(want),
                     "channel=sim,source=%s,gsi=%02x%02x%02x%02x%02x%02x,port=%u", s->name,
                     s->gsi[0], s->gsi[1], s->gsi[2], s->gsi[3], s->gsi[4], s->gsi[5], s->sport);
            if (!strcmp(rb->labels, want)) {
                cr_assert(sc_shmstat_value(rb, "msgs_delivered", &v));
                cr_assert_eq(v, so[k].msgs_delivered);
                cr_assert(sc_shmstat_value(rb, "repaired", &v));
                cr_assert_eq(v, so[k].repaired);
                so[k].up = 2; /* seen */
            }
        }
    }
    cr_assert_eq(so[0].up + so[1].up, 4, "both sources' blocks, labelled with GSI and port");
    cr_assert_eq(blocks, ch.max_sources < SC_SHMSTAT_SOURCES ? ch.max_sources : SC_SHMSTAT_SOURCES);
    cr_assert_eq(vacant, blocks - 2);
    sc_shmstat_snap_free(snap);
    sc_shmstat_destroy(shm);
    sim_fini(&sim);
}
