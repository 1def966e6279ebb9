/* Scripted peers: one subscriber (or one publisher) on the in-process network,
 * facing hand-made packets from a test that plays the other side, on an
 * integer clock. Each test pins one behaviour to its exact value -- where a
 * joiner starts; how many NAKs go out, when, and to whom; that an NCF or a
 * peer's NAK in back-off means no NAK at all; that a repeated message number
 * or a packet given up on is never delivered; when a hole becomes a typed loss
 * (retries, the source's trail, the receive window, a silent source); that a
 * malformed OPT_NAK_LIST is dropped under its codec class; which NAKs the
 * publisher serves (its group, its budget, its hold-off, data it has sent and
 * still holds); when heartbeat SPMs and batched blocks go out; that a window
 * held back by the data rate never drops what it has not sent -- so that a
 * mechanism that breaks fails here, not merely somewhere in a statistic. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/channel.h"
#include "engine/pub_int.h"
#include "engine/sub_int.h"
#include <seqcast/proto/endian.h>
#include <seqcast/proto/mold.h>
#include <seqcast/proto/pgm.h>
#include "tests/support/sim.h"

#define US 1000ull
#define MS 1000000ull
#define S(x) ((uint64_t)(x) * 1000000000u)
#define SRC_ADDR "198.18.0.1"
#define SUB_ADDR "198.18.1.1"
#define PEER_ADDR "198.18.1.2"
#define TSI_PORT 4660

static const uint8_t GSI[6] = { 0x9c, 0x5f, 0x10, 0x23, 0x44, 0xa1 };
static const uint8_t SESSION[SC_MOLD_SESSION_LEN] = { 'S', 'C', 'R', 'I', 'P', 'T', 'E', 'D', '0',
                                                      '1' };

struct nak_seen {
    uint64_t t;
    uint8_t type;
    uint32_t sqns[1 + SC_PGM_MAX_NAK_LIST];
    unsigned n;
};

/* one subscriber; the test is its source */
static struct rig {
    struct sc_memnet *net;
    struct sc_channel_cfg ch;
    struct sc_sub *sub;
    struct sc_xport *src_ep; /* the source's unicast endpoint: the NAKs arrive here */
    uint64_t now, step;
    uint64_t msgs[8192];
    uint64_t msg_t[8192];
    uint16_t msg_sport[8192]; /* the source's TSI port */
    unsigned nmsgs;
    struct {
        struct sc_sub_event ev;
        uint64_t t;
    } ev[64];
    unsigned nev;
    unsigned nak_unanswered; /* SC_EV_NAK_UNANSWERED events (not in ev[]) */
    struct nak_seen naks[256];
    unsigned nnaks;
    unsigned content_errors;
    bool raw; /* framing: raw -- keep the bytes of the first deliveries */
    uint8_t body[16][256];
    size_t body_len[16];
} rig;

static uint32_t
ip(const char *s)
{
    return inet_addr(s);
}

static void
on_msg(void *ctx, const struct sc_source *src, uint64_t seq, const void *msg, size_t len)
{
    (void)ctx;
    if (rig.raw && rig.nmsgs < 16) {
        rig.body_len[rig.nmsgs] = len;
        memcpy(rig.body[rig.nmsgs], msg, len < 256 ? len : 256);
    } else if (!rig.raw && (len != 8 || sc_load_be64(msg) != seq)) {
        rig.content_errors++;
    }
    cr_assert_lt(rig.nmsgs, 8192);
    rig.msg_sport[rig.nmsgs] = src->sport;
    rig.msg_t[rig.nmsgs] = rig.now;
    rig.msgs[rig.nmsgs++] = seq;
}

static void
on_event(void *ctx, const struct sc_sub_event *ev)
{
    (void)ctx;
    if (ev->type == SC_EV_NAK_UNANSWERED) { /* said once per source: counted apart */
        rig.nak_unanswered++;
        return;
    }
    cr_assert_lt(rig.nev, 64);
    rig.ev[rig.nev].ev = *ev;
    rig.ev[rig.nev].ev.src = NULL;
    rig.ev[rig.nev++].t = rig.now;
}

static void
rig_init(const struct sc_channel_cfg *ch)
{
    struct sc_xport_params xp;
    struct sc_xport *x;
    struct sc_err err;
    struct sc_sub_callbacks cb = { on_msg, on_event, NULL };

    memset(&rig, 0, sizeof(rig));
    rig.ch = *ch;
    rig.raw = ch->framing == SC_FRAMING_RAW;
    rig.now = S(1);
    rig.step = 1 * US;
    rig.net = sc_memnet_create(8, 4096);
    cr_assert_not_null(rig.net);
    sc_xport_params_from(&xp, ch, SC_XPORT_SUB);
    cr_assert_eq(sc_memnet_open(rig.net, &x, ip(SUB_ADDR), &xp), 0);
    cr_assert_eq(sc_sub_create_on(&rig.sub, ch, x, &cb, 77, &err), 0, "%s", err.msg);
    sc_xport_params_from(&xp, ch, SC_XPORT_PUB);
    cr_assert_eq(sc_memnet_open(rig.net, &rig.src_ep, ip(SRC_ADDR), &xp), 0);
}

static void
rig_fini(void)
{
    sc_sub_destroy(rig.sub);
    sc_xport_close(rig.src_ep);
    sc_memnet_destroy(rig.net);
}

static struct sc_sub_stats
stats(void)
{
    struct sc_sub_stats st;
    sc_sub_get_stats(rig.sub, &st);
    return st;
}

/* run the subscriber now, then collect what reached the source */
static void
rig_work(void)
{
    uint8_t bufs[8][2048];
    struct sc_pkt in[8];
    uint16_t got;

    while (sc_sub_do_work(rig.sub, rig.now) > 0)
        ;
    do {
        for (int i = 0; i < 8; i++)
            in[i] = (struct sc_pkt){ .data = bufs[i], .cap = sizeof(bufs[i]) };
        got = rig.src_ep->ops->rx_burst(rig.src_ep, in, 8);
        for (uint16_t i = 0; i < got; i++) {
            struct sc_pgm_pkt k;
            struct nak_seen *n;
            cr_assert_eq(sc_pgm_decode(in[i].data, in[i].len, &k, 0), 0,
                         "the subscriber sent a malformed packet");
            cr_assert_eq(k.type, SC_PGM_NAK, "the subscriber sent a %s", sc_pgm_type_str(k.type));
            cr_assert_eq(in[i].lport, sc_channel_nak_port(&rig.ch, SC_XPORT_SUB));
            cr_assert_eq(k.dport, TSI_PORT);
            cr_assert_eq(memcmp(k.gsi, GSI, 6), 0);
            cr_assert_lt(rig.nnaks, 256);
            n = &rig.naks[rig.nnaks++];
            n->t = rig.now;
            n->type = k.type;
            n->sqns[n->n++] = k.nak.sqn;
            for (unsigned j = 0; j < k.opt.nak_list_len; j++)
                n->sqns[n->n++] = k.opt.nak_list[j];
        }
    } while (got == 8);
}

static void
rig_run_until(uint64_t t)
{
    while (rig.now < t) {
        rig_work();
        rig.now += rig.step;
    }
}

/* how many NAKs named seq, and when the i-th did */
static unsigned
naks_for(uint32_t seq, uint64_t *when, unsigned max)
{
    unsigned c = 0;
    for (unsigned i = 0; i < rig.nnaks; i++)
        for (unsigned j = 0; j < rig.naks[i].n; j++)
            if (rig.naks[i].sqns[j] == seq) {
                if (when && c < max)
                    when[c] = rig.naks[i].t;
                c++;
            }
    return c;
}

static void
send_to_group(const uint8_t *b, int len, const char *from)
{
    cr_assert_gt(len, 0);
    sc_memnet_inject(rig.net, ip(from), 40000, rig.ch.group.s_addr, rig.ch.port, b, (uint16_t)len);
}

/* ODATA or RDATA sqn (trail) carrying messages first .. first + count - 1 */
static uint16_t tsi_port = TSI_PORT; /* the source port data() and odata() use */

static void
data(uint8_t type, uint32_t sqn, uint32_t trail, uint64_t first, unsigned count)
{
    uint8_t b[1500], tsdu[1400];
    struct sc_mold_enc e;
    struct sc_pgm_pkt k;

    cr_assert_eq(sc_mold_enc_init(&e, tsdu, sizeof(tsdu), SESSION, first), 0);
    for (unsigned i = 0; i < count; i++) {
        uint8_t m[8];
        sc_store_be64(m, first + i);
        cr_assert_eq(sc_mold_enc_add(&e, m, 8), 0);
    }
    memset(&k, 0, sizeof(k));
    k.type = type;
    k.sport = tsi_port;
    k.dport = rig.ch.pgm_port;
    memcpy(k.gsi, GSI, 6);
    k.data.sqn = sqn;
    k.data.trail = trail;
    k.tsdu = tsdu;
    k.tsdu_len = (uint16_t)e.len;
    send_to_group(b, sc_pgm_encode(b, sizeof(b), &k), SRC_ADDR);
}

/* ODATA sqn carrying the 4 messages 4 sqn + 1 .. 4 sqn + 4 */
static void
odata(uint32_t sqn, uint32_t trail)
{
    data(SC_PGM_ODATA, sqn, trail, 4 * (uint64_t)sqn + 1, 4);
}

static void
rdata(uint32_t sqn, uint32_t trail)
{
    data(SC_PGM_RDATA, sqn, trail, 4 * (uint64_t)sqn + 1, 4);
}

static void
spm(uint32_t spm_sqn, uint32_t trail, uint32_t lead)
{
    uint8_t b[200];
    struct sc_pgm_pkt k;
    uint32_t a = ip(SRC_ADDR);

    memset(&k, 0, sizeof(k));
    k.type = SC_PGM_SPM;
    k.sport = TSI_PORT;
    k.dport = rig.ch.pgm_port;
    memcpy(k.gsi, GSI, 6);
    k.spm.sqn = spm_sqn;
    k.spm.trail = trail;
    k.spm.lead = lead;
    k.spm.nla.afi = SC_PGM_AFI_IP;
    memcpy(k.spm.nla.addr, &a, 4);
    send_to_group(b, sc_pgm_encode(b, sizeof(b), &k), SRC_ADDR);
}

/* an NCF from the source, or a NAK another receiver multicast (peer) */
static void
nak_like(uint8_t type, const uint32_t *sqns, unsigned n, const char *from)
{
    uint8_t b[400];
    struct sc_pgm_pkt k;
    uint32_t a = ip(SRC_ADDR);

    memset(&k, 0, sizeof(k));
    k.type = type;
    if (type == SC_PGM_NCF) {
        k.sport = TSI_PORT;
        k.dport = rig.ch.pgm_port;
    } else { /* upstream ports, as the peer sent it */
        k.sport = rig.ch.pgm_port;
        k.dport = TSI_PORT;
    }
    memcpy(k.gsi, GSI, 6);
    k.nak.sqn = sqns[0];
    k.nak.src.afi = k.nak.grp.afi = SC_PGM_AFI_IP;
    memcpy(k.nak.src.addr, &a, 4);
    memcpy(k.nak.grp.addr, &rig.ch.group.s_addr, 4);
    if (n > 1) {
        k.opt.present = SC_PGM_HAS_NAK_LIST;
        k.opt.nak_list_len = (uint8_t)(n - 1);
        memcpy(k.opt.nak_list, sqns + 1, (n - 1) * sizeof(uint32_t));
    }
    send_to_group(b, sc_pgm_encode(b, sizeof(b), &k), from);
}

static void
ncf(uint32_t sqn)
{
    nak_like(SC_PGM_NCF, &sqn, 1, SRC_ADDR);
}

static const struct sc_sub_event *
event(unsigned i, enum sc_sub_event_type type)
{
    cr_assert_lt(i, rig.nev, "event %u never came (%u events)", i, rig.nev);
    cr_assert_eq(rig.ev[i].ev.type, type, "event %u is type %d, want %d", i, rig.ev[i].ev.type,
                 type);
    return &rig.ev[i].ev;
}

static void
expect_msgs(uint64_t first, uint64_t last)
{
    cr_assert_eq(rig.content_errors, 0);
    cr_assert_eq(rig.nmsgs, last - first + 1, "%u messages delivered, want %llu..%llu", rig.nmsgs,
                 (unsigned long long)first, (unsigned long long)last);
    for (unsigned i = 0; i < rig.nmsgs; i++)
        cr_assert_eq(rig.msgs[i], first + i, "delivery %u is message %llu, want %llu", i,
                     (unsigned long long)rig.msgs[i], (unsigned long long)(first + i));
}

static void
lan(struct sc_channel_cfg *ch)
{
    sim_channel(ch);
}

/* ------------------------------------------------------------ duplicates */

/* A block whose first message numbers repeat the previous block's last ones
 * (a replay, a publisher bug): each message number is delivered once. */
Test(scripted, a_message_number_a_later_block_repeats_is_delivered_once, .timeout = 20)
{
    struct sc_channel_cfg ch;

    lan(&ch);
    rig_init(&ch);
    data(SC_PGM_ODATA, 0, 0, 1, 3); /* messages 1, 2, 3 */
    rig_work();
    data(SC_PGM_ODATA, 1, 0, 3, 3); /* 3 again, then 4, 5 */
    rig_work();
    data(SC_PGM_ODATA, 2, 0, 2, 5); /* 2..6: only 6 is new */
    rig_work();
    expect_msgs(1, 6);
    cr_assert_eq(stats().duplicates, 1 + 4, "each repeated message number is counted");
    cr_assert_eq(stats().msgs_delivered, 6);
    rig_fini();
}

/* A packet held or delivered already, sent again (an RDATA answering someone
 * else's NAK, a duplicating network): never delivered twice, counted. */
Test(scripted, a_packet_repeated_by_rdata_or_odata_is_delivered_once, .timeout = 20)
{
    struct sc_channel_cfg ch;

    lan(&ch);
    rig_init(&ch);
    odata(0, 0);
    odata(1, 0);
    rig_work();
    expect_msgs(1, 8);
    rdata(0, 0); /* delivered already */
    odata(1, 0);
    rig_work();
    expect_msgs(1, 8);
    cr_assert_eq(stats().duplicates, 2);
    odata(3, 0); /* 2 missing: 3 is held */
    rig_work();
    odata(3, 0);
    rdata(3, 0); /* held already */
    rig_work();
    cr_assert_eq(stats().duplicates, 4);
    expect_msgs(1, 8);
    rdata(2, 0); /* the repair: 2 then 3, once each */
    rig_work();
    expect_msgs(1, 16);
    cr_assert_eq(stats().repaired, 1);
    rdata(2, 0);
    rdata(3, 0);
    rig_work();
    expect_msgs(1, 16);
    cr_assert_eq(stats().duplicates, 6);
    rig_fini();
}

/* A packet given up on (its NAKs unanswered) that turns up afterwards is too
 * late: the loss was reported, delivering it now would break the order. */
Test(scripted, a_packet_that_arrives_after_its_loss_was_reported_is_not_delivered, .timeout = 20)
{
    struct sc_channel_cfg ch;

    lan(&ch);
    ch.nak.backoff_ns = 1 * US;
    ch.nak.ncf_retries = 1;
    rig_init(&ch);
    odata(0, 0);
    odata(2, 0);
    rig_run_until(rig.now + 2 * MS);
    event(0, SC_EV_SOURCE_UP);
    event(1, SC_EV_LOSS);
    cr_assert_eq(rig.nmsgs, 8);
    rdata(1, 0);
    odata(1, 0);
    rig_work();
    cr_assert_eq(rig.nmsgs, 8, "the lost packet was delivered after its loss event");
    cr_assert_eq(stats().duplicates, 2);
    rig_fini();
}

/* ------------------------------------------------------------ late join */

/* late_join: live. The first packet heard is an SPM with lead L: L was sent
 * before we came, so the stream starts at L + 1; heard first as ODATA n, it
 * starts at n. Nothing before the start is NAKed or delivered. */
Test(scripted, a_live_joiner_starts_after_an_spms_lead_or_at_the_first_odata, .timeout = 20)
{
    struct sc_channel_cfg ch;
    const struct sc_sub_event *up;

    lan(&ch);
    rig_init(&ch);
    spm(7, 100, 200);
    rig_work();
    up = event(0, SC_EV_SOURCE_UP);
    cr_assert_eq(up->up.join, SC_JOIN_LIVE);
    cr_assert_eq(up->up.first_packet, 201, "an SPM's lead was sent before we joined: start %llu",
                 (unsigned long long)up->up.first_packet);
    odata(200, 100); /* late: before our start */
    odata(201, 100);
    odata(202, 100);
    rig_run_until(rig.now + 10 * MS);
    expect_msgs(4 * 201 + 1, 4 * 203);
    cr_assert_eq(stats().rx_before_join, 1);
    cr_assert_eq(rig.nnaks, 0, "a live joiner NAKed data from before its start");
    cr_assert_eq(rig.nev, 1, "no loss event for what came before the start");
    rig_fini();

    rig_init(&ch);
    odata(300, 100);
    rig_work();
    up = event(0, SC_EV_SOURCE_UP);
    cr_assert_eq(up->up.join, SC_JOIN_LIVE);
    cr_assert_eq(up->up.first_packet, 300);
    expect_msgs(4 * 300 + 1, 4 * 301);
    spm(8, 100, 300); /* the SPM that follows names what we have: nothing to repair */
    odata(299, 100);
    rig_run_until(rig.now + 10 * MS);
    expect_msgs(4 * 300 + 1, 4 * 301);
    cr_assert_eq(rig.nnaks, 0);
    rig_fini();
}

/* late_join: window. It starts at the publisher's trail -- or one receive
 * window back from the lead when the publisher holds more than that -- and
 * NAKs everything from there. */
Test(scripted, a_window_joiner_starts_at_the_trail_or_one_window_before_the_lead, .timeout = 20)
{
    struct sc_channel_cfg ch;
    const struct sc_sub_event *up;
    unsigned asked = 0;

    lan(&ch);
    ch.late_join = SC_LATE_JOIN_WINDOW;
    rig_init(&ch);
    spm(1, 150, 200);
    rig_run_until(rig.now + 200 * US);
    up = event(0, SC_EV_SOURCE_UP);
    cr_assert_eq(up->up.join, SC_JOIN_WINDOW);
    cr_assert_eq(up->up.first_packet, 150);
    for (uint32_t q = 140; q <= 210; q++) {
        unsigned c = naks_for(q, NULL, 0);
        cr_assert_eq(c, q >= 150 && q <= 200 ? 1u : 0u, "sequence %u NAKed %u times", q, c);
        asked += c;
    }
    cr_assert_eq(asked, 51);
    rig_fini();

    ch.rx_window_packets = 16;
    rig_init(&ch);
    spm(1, 100, 200);
    rig_work();
    up = event(0, SC_EV_SOURCE_UP);
    cr_assert_eq(up->up.join, SC_JOIN_WINDOW);
    cr_assert_eq(up->up.first_packet, 200 + 1 - 16, "one receive window before the lead");
    rig_fini();
}

/* A subscriber that is there when the session starts (the trail is still 0
 * and the lead within one receive window) gets it from packet 0. */
Test(scripted, a_subscriber_present_from_the_start_starts_at_packet_zero, .timeout = 20)
{
    struct sc_channel_cfg ch;
    const struct sc_sub_event *up;

    lan(&ch);
    ch.rx_window_packets = 16;
    rig_init(&ch);
    spm(0, 0, 0xFFFFFFFFu); /* a new session's first SPM: nothing sent yet */
    rig_work();
    up = event(0, SC_EV_SOURCE_UP);
    cr_assert_eq(up->up.join, SC_JOIN_FROM_START);
    cr_assert_eq(up->up.first_packet, 0);
    odata(0, 0);
    rig_work();
    expect_msgs(1, 4);
    rig_fini();

    rig_init(&ch);
    odata(15, 0); /* lead 15: 16 packets, one receive window */
    rig_run_until(rig.now + 200 * US);
    up = event(0, SC_EV_SOURCE_UP);
    cr_assert_eq(up->up.join, SC_JOIN_FROM_START);
    cr_assert_eq(up->up.first_packet, 0);
    for (uint32_t q = 0; q < 15; q++)
        cr_assert_eq(naks_for(q, NULL, 0), 1, "sequence %u not NAKed once", q);
    rig_fini();

    rig_init(&ch);
    odata(16, 0); /* 17 packets: more than the window holds, so joined live */
    rig_work();
    up = event(0, SC_EV_SOURCE_UP);
    cr_assert_eq(up->up.join, SC_JOIN_LIVE);
    cr_assert_eq(up->up.first_packet, 16);
    rig_fini();
}

/* ------------------------------------------------------------ NAK rounds */

/* No NCF ever: exactly nak.ncf_retries NAKs for the hole, the first after the
 * back-off (1 us here), each next one a back-off after the previous wait --
 * repeat / 8, / 4, / 2, then repeat (nak.ramp) -- and the loss event when the
 * last wait ends, followed by the data held behind the hole. */
static void
unanswered_naks(uint32_t retries)
{
    struct sc_channel_cfg ch;
    uint64_t t0, want, when[64];
    const struct sc_sub_event *loss;
    unsigned n;

    lan(&ch);
    ch.nak.backoff_ns = 1 * US; /* exactly 1 us: the times are exact */
    ch.nak.ncf_retries = retries;
    rig_init(&ch);
    odata(0, 0);
    odata(2, 0);
    t0 = rig.now;
    rig_run_until(t0 + 40 * MS);
    n = naks_for(1, when, 64);
    cr_assert_eq(n, retries, "%u NAKs before the loss, want nak.ncf_retries = %u", n, retries);
    cr_assert_eq(rig.nnaks, retries, "NAKs for other sequences");
    want = t0;
    for (uint32_t k = 0; k < retries; k++) {
        want += 1 * US;
        cr_assert(when[k] >= want && when[k] <= want + 2 * US, "NAK %u at +%llu ns, want +%llu",
                  k + 1, (unsigned long long)(when[k] - t0), (unsigned long long)(want - t0));
        want = when[k] + (k < 3 ? ch.nak.repeat_ns >> (3 - k) : ch.nak.repeat_ns);
    }
    cr_assert_eq(rig.nev, 2);
    loss = event(1, SC_EV_LOSS);
    cr_assert_eq(loss->loss.reason, SC_LOSS_RETRIES);
    cr_assert_eq(loss->loss.packets, 1);
    cr_assert_eq(loss->loss.first, 5);
    cr_assert_eq(loss->loss.last, 8);
    cr_assert(rig.ev[1].t >= want && rig.ev[1].t <= want + 2 * US,
              "loss declared at +%llu ns, want +%llu", (unsigned long long)(rig.ev[1].t - t0),
              (unsigned long long)(want - t0));
    cr_assert_eq(rig.nmsgs, 8);
    cr_assert_eq(rig.msgs[4], 9, "the data after the hole");
    cr_assert_eq(rig.msg_t[4], rig.ev[1].t, "delivered as soon as the hole is given up");
    cr_assert_eq(stats().lost_packets, 1);
    cr_assert_eq(stats().naks_sent, retries);
    rig_fini();
}

Test(scripted, without_an_ncf_exactly_ncf_retries_naks_then_a_loss_at_the_ramp_times, .timeout = 20)
{
    unanswered_naks(1);
    unanswered_naks(3);
    unanswered_naks(6);
}

/* Every NAK confirmed at once, the repair never sent: exactly
 * nak.data_retries NAKs, then the loss. */
Test(scripted, confirmed_naks_without_a_repair_give_up_after_data_retries, .timeout = 20)
{
    struct sc_channel_cfg ch;
    unsigned answered = 0;

    lan(&ch);
    ch.nak.backoff_ns = 1 * US;
    ch.nak.data_retries = 4;
    ch.nak.ncf_retries = 50;
    rig_init(&ch);
    odata(0, 0);
    odata(2, 0);
    while (rig.now < S(1) + 100 * MS && rig.nev < 2) {
        rig_work();
        while (answered < rig.nnaks) { /* the source confirms every NAK, repairs nothing */
            ncf(1);
            answered++;
        }
        rig.now += rig.step;
    }
    cr_assert_eq(naks_for(1, NULL, 0), 4, "%u NAKs", naks_for(1, NULL, 0));
    cr_assert_eq(stats().ncf_received, 4);
    cr_assert_eq(event(1, SC_EV_LOSS)->loss.reason, SC_LOSS_RETRIES);
    rig_fini();
}

/* ------------------------------------------------------------ suppression */

/* An NCF for a sequence still in back-off: our NAK for it is never sent, the
 * suppression is counted, and the repair that follows fills the hole. */
Test(scripted, an_ncf_during_back_off_means_our_nak_is_never_sent, .timeout = 20)
{
    struct sc_channel_cfg ch;

    lan(&ch); /* back-off 50 us */
    rig_init(&ch);
    odata(0, 0);
    odata(2, 0);
    rig_work(); /* the hole opens now; the back-off is at least 1 us */
    ncf(1);     /* someone else's NAK was confirmed */
    rig_run_until(rig.now + 400 * US); /* well inside the first wait for data (rdata / 8) */
    cr_assert_eq(naks_for(1, NULL, 0), 0, "NAK sent after the NCF");
    cr_assert_eq(stats().nak_suppressed, 1);
    rdata(1, 0);
    rig_run_until(rig.now + 10 * MS);
    expect_msgs(1, 12);
    cr_assert_eq(stats().naks_sent, 0);
    cr_assert_eq(rig.nev, 1);
    rig_fini();
}

/* The same with another receiver's NAK, multicast on the group. */
Test(scripted, a_peer_nak_during_back_off_suppresses_ours, .timeout = 20)
{
    struct sc_channel_cfg ch;
    uint32_t q = 1;

    lan(&ch);
    rig_init(&ch);
    odata(0, 0);
    odata(2, 0);
    rig_work();
    nak_like(SC_PGM_NAK, &q, 1, PEER_ADDR);
    rig_run_until(rig.now + 400 * US);
    cr_assert_eq(naks_for(1, NULL, 0), 0, "NAK sent after a peer's NAK");
    cr_assert_eq(stats().nak_suppressed, 1);
    cr_assert_eq(stats().ncf_received, 0);
    /* no repair: after the wait for data we NAK ourselves */
    rig_run_until(rig.now + 10 * MS);
    cr_assert_geq(naks_for(1, NULL, 0), 1);
    rig_fini();
}

/* An NCF lists several sequences (OPT_NAK_LIST): it confirms every one. */
Test(scripted, an_ncf_with_a_nak_list_confirms_every_sequence_in_it, .timeout = 20)
{
    struct sc_channel_cfg ch;
    const uint32_t q[3] = { 1, 3, 2 };

    lan(&ch);
    rig_init(&ch);
    odata(0, 0);
    odata(4, 0);
    rig_work();
    nak_like(SC_PGM_NCF, q, 3, SRC_ADDR);
    rig_run_until(rig.now + 400 * US);
    cr_assert_eq(rig.nnaks, 0, "a sequence of the list was NAKed");
    cr_assert_eq(stats().nak_suppressed, 3);
    rig_fini();
}

/* An NCF with a malformed OPT_NAK_LIST is dropped as a bad option chain:
 * it confirms nothing. */
Test(scripted, an_ncf_with_a_malformed_nak_list_is_dropped, .timeout = 20)
{
    struct sc_channel_cfg ch;
    uint8_t b[200];
    struct sc_pgm_pkt k;
    uint32_t a = ip(SRC_ADDR);
    size_t len;

    lan(&ch);
    rig_init(&ch);
    odata(0, 0);
    odata(2, 0);
    rig_work();
    memset(&k, 0, sizeof(k));
    k.type = SC_PGM_NCF;
    k.sport = TSI_PORT;
    k.dport = ch.pgm_port;
    memcpy(k.gsi, GSI, 6);
    k.nak.sqn = 1;
    k.nak.src.afi = k.nak.grp.afi = SC_PGM_AFI_IP;
    memcpy(k.nak.src.addr, &a, 4);
    memcpy(k.nak.grp.addr, &ch.group.s_addr, 4);
    len = sc_pgm_header_len(&k);
    cr_assert_eq(sc_pgm_encode(b, sizeof(b), &k), (int)len);
    /* OPT_LENGTH (total 4 + 10), OPT_NAK_LIST of length 10: 1.5 sequences */
    b[5] |= SC_PGM_OPT_PRESENT | SC_PGM_OPT_NETWORK;
    memcpy(b + len, "\x00\x04\x00\x0e\x82\x0a\x00\x00\x00\x00\x00\x01\x00\x00", 14);
    len += 14;
    sc_store_be16(b + 6, 0);
    sc_store_be16(b + 6, sc_pgm_checksum(b, len));
    send_to_group(b, (int)len, SRC_ADDR);
    rig_run_until(rig.now + 200 * US); /* one back-off (<= 50 us), not the repeat (250 us) */
    cr_assert_eq(stats().rx_bad[-SC_PERR_OPTIONS], 1);
    cr_assert_eq(stats().ncf_received, 0);
    cr_assert_eq(stats().nak_suppressed, 0);
    cr_assert_eq(naks_for(1, NULL, 0), 1, "the hole is NAKed as if no NCF came");
    rig_fini();
}

/* ------------------------------------------------------------ publisher side */

static struct prig {
    struct sc_memnet *net;
    struct sc_channel_cfg ch;
    struct sc_pub *pub;
    struct sc_xport *cap; /* a receiver on the group: what the publisher multicasts */
    uint64_t now;
    uint64_t spin_ns; /* the step while the deadline says "now" (work waiting) */
    uint8_t gsi[6];
    uint16_t sport;
    struct {
        uint64_t t;
        struct sc_pgm_pkt k;
        uint64_t hash; /* of the TSDU */
    } pk[4096];
    unsigned npk;
} prig;

static uint64_t
fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    while (n--)
        h = (h ^ *p++) * 0x100000001b3ull;
    return h;
}

static void
prig_init(const struct sc_channel_cfg *ch)
{
    struct sc_xport_params xp;
    struct sc_xport *x;
    struct sc_err err;

    memset(&prig, 0, sizeof(prig));
    prig.ch = *ch;
    prig.now = S(1);
    prig.spin_ns = 64;
    prig.net = sc_memnet_create(8, 8192);
    sc_xport_params_from(&xp, ch, SC_XPORT_PUB);
    cr_assert_eq(sc_memnet_open(prig.net, &x, ip(SRC_ADDR), &xp), 0);
    cr_assert_eq(sc_pub_create_on(&prig.pub, ch, x, 5, &err), 0, "%s", err.msg);
    sc_pub_tsi(prig.pub, prig.gsi, &prig.sport);
    sc_xport_params_from(&xp, ch, SC_XPORT_SUB);
    cr_assert_eq(sc_memnet_open(prig.net, &prig.cap, ip(SUB_ADDR), &xp), 0);
}

static void
prig_fini(void)
{
    sc_pub_destroy(prig.pub);
    sc_xport_close(prig.cap);
    sc_memnet_destroy(prig.net);
}

static struct sc_pub_stats
pstats(void)
{
    struct sc_pub_stats st;
    sc_pub_get_stats(prig.pub, &st);
    return st;
}

static void
prig_work(void)
{
    static uint8_t bufs[32][2048];
    struct sc_pkt in[32];
    uint16_t got;

    sc_pub_do_work(prig.pub, prig.now);
    do {
        for (int i = 0; i < 32; i++)
            in[i] = (struct sc_pkt){ .data = bufs[i], .cap = sizeof(bufs[i]) };
        got = prig.cap->ops->rx_burst(prig.cap, in, 32);
        for (uint16_t i = 0; i < got; i++) {
            cr_assert_lt(prig.npk, 4096);
            cr_assert_eq(sc_pgm_decode(in[i].data, in[i].len, &prig.pk[prig.npk].k, 0), 0);
            prig.pk[prig.npk].hash = fnv1a(prig.pk[prig.npk].k.tsdu, prig.pk[prig.npk].k.tsdu_len);
            prig.pk[prig.npk].k.tsdu = NULL; /* the buffer is reused */
            prig.pk[prig.npk++].t = prig.now;
        }
    } while (got == 32);
}

/* Run as an event loop would: wake at the publisher's deadline. */
static void
prig_run_until(uint64_t t)
{
    while (prig.now < t) {
        uint64_t d;
        prig_work();
        d = sc_pub_deadline(prig.pub, prig.now);
        prig.now = d > prig.now ? (d < t ? d : t) : prig.now + prig.spin_ns;
    }
}

static void
prig_send(unsigned n)
{
    uint8_t m[8];

    for (unsigned i = 0; i < n; i++) {
        sc_store_be64(m, i);
        cr_assert_eq(sc_pub_send(prig.pub, m, 8, prig.now), 0);
    }
    sc_pub_flush(prig.pub, prig.now);
    prig_work();
}

/* A NAK from a receiver to the publisher's NAK port, with an option area
 * given as raw bytes (NULL: a well-formed NAK list of the sqns after the first). */
static void
nak_to_pub(const uint32_t *sqns, unsigned n, const uint8_t *opts, size_t olen)
{
    uint8_t b[600];
    struct sc_pgm_pkt k;
    uint32_t a = ip(SRC_ADDR);
    int len;

    memset(&k, 0, sizeof(k));
    k.type = SC_PGM_NAK;
    k.sport = prig.ch.pgm_port;
    k.dport = prig.sport;
    memcpy(k.gsi, prig.gsi, 6);
    k.nak.sqn = sqns[0];
    k.nak.src.afi = k.nak.grp.afi = SC_PGM_AFI_IP;
    memcpy(k.nak.src.addr, &a, 4);
    memcpy(k.nak.grp.addr, &prig.ch.group.s_addr, 4);
    if (!opts && n > 1) {
        k.opt.present = SC_PGM_HAS_NAK_LIST;
        k.opt.nak_list_len = (uint8_t)(n - 1);
        memcpy(k.opt.nak_list, sqns + 1, (n - 1) * sizeof(uint32_t));
    }
    len = sc_pgm_encode(b, sizeof(b), &k);
    cr_assert_gt(len, 0);
    if (opts) {
        b[5] |= SC_PGM_OPT_PRESENT | SC_PGM_OPT_NETWORK;
        memcpy(b + len, opts, olen);
        len += (int)olen;
        sc_store_be16(b + 6, 0);
        sc_store_be16(b + 6, sc_pgm_checksum(b, (size_t)len));
    }
    sc_memnet_inject(prig.net, ip(SUB_ADDR), 40000, ip(SRC_ADDR),
                     sc_channel_nak_port(&prig.ch, SC_XPORT_PUB), b,
                     (uint16_t)len);
}

static unsigned
count_type(uint8_t type, unsigned from)
{
    unsigned c = 0;
    for (unsigned i = from; i < prig.npk; i++)
        c += prig.pk[i].k.type == type;
    return c;
}

/* A NAK whose OPT_NAK_LIST length is not 4 + 4 n (n >= 1) -- with an option
 * chain otherwise consistent, so only that check can catch it -- is dropped
 * as a bad option chain: no NCF, no repair, not counted as a NAK. A good list
 * next to it is served: one NCF echoing the three sequences, three repairs. */
Test(scripted, a_nak_with_a_malformed_nak_list_length_is_rejected, .timeout = 20)
{
    static const struct {
        const char *what;
        uint8_t opts[16];
        size_t len;
    } bad[] = {
        /* OPT_LENGTH total 14 | OPT_NAK_LIST|END, length 10 (4 + 6) */
        { "length 10", "\x00\x04\x00\x0e\x82\x0a\x00\x00\x00\x00\x00\x01\x00\x00", 14 },
        /* OPT_LENGTH total 8 | OPT_NAK_LIST|END, length 4: no sequence at all */
        { "length 4", "\x00\x04\x00\x08\x82\x04\x00\x00", 8 },
        /* OPT_LENGTH total 13 | OPT_NAK_LIST|END, length 9 */
        { "length 9", "\x00\x04\x00\x0d\x82\x09\x00\x00\x00\x00\x00\x01\x00", 13 },
    };
    struct sc_channel_cfg ch;
    struct sc_pub_stats st;
    const uint32_t q[3] = { 1, 2, 3 };
    unsigned from;

    lan(&ch);
    prig_init(&ch);
    prig_run_until(prig.now + 1 * MS);
    prig_send(1);
    for (int i = 0; i < 4; i++) { /* packets 0..4 */
        prig.now += 10 * US;
        prig_send(1);
    }
    prig_run_until(prig.now + 1 * MS);
    cr_assert_eq(pstats().odata_sent, 5);
    from = prig.npk;
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        nak_to_pub(q, 1, bad[i].opts, bad[i].len);
        prig_run_until(prig.now + 100 * US);
        st = pstats();
        cr_assert_eq(st.rx_bad[-SC_PERR_OPTIONS], i + 1, "%s: not dropped as a bad option chain",
                     bad[i].what);
        cr_assert_eq(st.naks_received, 0, "%s: accepted", bad[i].what);
        cr_assert_eq(st.ncf_sent, 0, "%s: confirmed", bad[i].what);
        cr_assert_eq(count_type(SC_PGM_RDATA, from), 0, "%s: repaired", bad[i].what);
    }
    nak_to_pub(q, 3, NULL, 0); /* the same, well-formed */
    prig_run_until(prig.now + 100 * US);
    st = pstats();
    cr_assert_eq(st.naks_received, 1);
    cr_assert_eq(st.nak_sqns, 3);
    cr_assert_eq(st.ncf_sent, 1);
    cr_assert_eq(count_type(SC_PGM_NCF, from), 1);
    for (unsigned i = from; i < prig.npk; i++)
        if (prig.pk[i].k.type == SC_PGM_NCF) {
            cr_assert_eq(prig.pk[i].k.nak.sqn, 1);
            cr_assert_eq(prig.pk[i].k.opt.nak_list_len, 2);
            cr_assert_eq(prig.pk[i].k.opt.nak_list[0], 2);
            cr_assert_eq(prig.pk[i].k.opt.nak_list[1], 3);
        }
    cr_assert_eq(count_type(SC_PGM_RDATA, from), 3);
    prig_fini();
}

/* Heartbeats: after every burst of data -- not only the first -- SPMs come at
 * exactly spm.heartbeat[0], then [1], [2], ... apart, each naming the last
 * packet sent as its lead; then nothing until spm.ambient. */
Test(scripted, heartbeat_spms_follow_every_burst_at_the_schedule, .timeout = 20)
{
    struct sc_channel_cfg ch;
    uint64_t t_burst[3], sum = 0;

    lan(&ch);
    prig_init(&ch);
    for (unsigned i = 0; i < ch.spm.nheartbeat; i++)
        sum += ch.spm.heartbeat_ns[i];
    cr_assert_lt(sum + 100 * MS, ch.spm.ambient_ns, "the schedule must end before spm.ambient");
    prig_run_until(prig.now + sum + 10 * MS); /* the start-up SPMs are over */
    for (int b = 0; b < 3; b++) {
        unsigned from, nspm = 0;
        uint64_t last;

        prig.now += 10 * MS;
        from = prig.npk;
        prig_send(3); /* a burst: one packet */
        t_burst[b] = prig.now;
        cr_assert_eq(count_type(SC_PGM_ODATA, from), 1, "burst %d went out in one packet", b);
        prig_run_until(t_burst[b] + sum + 50 * MS);
        last = t_burst[b];
        for (unsigned i = from; i < prig.npk; i++) {
            const struct sc_pgm_pkt *k = &prig.pk[i].k;
            uint64_t gap, want;
            if (k->type != SC_PGM_SPM)
                continue;
            cr_assert_lt(nspm, ch.spm.nheartbeat, "burst %d: more SPMs than the schedule has", b);
            gap = prig.pk[i].t - last;
            want = ch.spm.heartbeat_ns[nspm];
            cr_assert(gap >= want && gap <= want + 3 * US,
                      "burst %d, heartbeat %u: %llu ns after the previous, want spm.heartbeat[%u] "
                      "= %llu", b, nspm, (unsigned long long)gap, nspm, (unsigned long long)want);
            cr_assert_eq(k->spm.lead, (uint32_t)b, "burst %d: SPM lead %u", b, k->spm.lead);
            cr_assert_eq(k->spm.trail, 0);
            last = prig.pk[i].t;
            nspm++;
        }
        cr_assert_eq(nspm, ch.spm.nheartbeat, "burst %d: %u heartbeats, want %u", b, nspm,
                     ch.spm.nheartbeat);
    }
    prig_fini();
}

/* A publisher held back by its data rate for longer than window.time keeps
 * every packet it has not sent: they all go out and every message arrives;
 * what leaves the window by age is only ever what was sent. */
Test(scripted, a_window_held_back_longer_than_window_time_keeps_what_is_unsent, .timeout = 20)
{
    static struct sim sim;
    struct sc_channel_cfg ch;
    struct sc_pub_stats ps;
    const uint64_t n = 300; /* one message a packet: ~1,050 bytes each */
    uint64_t end;

    sim_channel(&ch);
    ch.data_rate_bps = 8000000;  /* 1 MB/s: ~1 ms a packet, ~0.3 s for the lot */
    ch.window_ns = 1 * MS;       /* far shorter than the backlog takes to drain */
    sim_init(&sim, &ch, 1, NULL, NULL);
    sim.msg_size = 1000;
    sim_publish(&sim, n, (unsigned)n); /* all queued at once */
    end = sim.now + S(2);
    while (sim.now < end) {
        sim_run_for(&sim, 100 * US);
        sc_pub_get_stats(sim.pub, &ps);
        cr_assert_leq(ps.window_evicted, ps.odata_sent, "evicted %llu with %llu sent",
                      (unsigned long long)ps.window_evicted, (unsigned long long)ps.odata_sent);
        cr_assert_leq(ps.window_trail, ps.odata_sent, "the trail passed unsent packets");
        if (sim_source(&sim, 0, 0) && sim_source(&sim, 0, 0)->next > n && ps.window_evicted == n)
            break;
    }
    sc_pub_get_stats(sim.pub, &ps);
    cr_assert_gt(ps.data_rate_limited, 0, "the rate never held anything back");
    cr_assert_eq(ps.odata_sent, n);
    cr_assert_eq(ps.window_evicted, n, "sent and older than window.time: all gone by now");
    cr_assert_not_null(sim_source(&sim, 0, 0));
    cr_assert_eq(sim.subs[0].order_errors + sim.subs[0].content_errors, 0, "%s",
                 sim.subs[0].first_error);
    cr_assert_eq(sim_source(&sim, 0, 0)->delivered, n);
    cr_assert_eq(sim_source(&sim, 0, 0)->nloss, 0);
    sim_fini(&sim);
}

/* Once a packet is given up on (LOST), it is too late even if delivery has
 * not reached it yet (an earlier hole still waits for its repair): data for it
 * that turns up is dropped as a duplicate, and the loss is reported where it
 * falls -- never a loss counted and the data delivered as well. */
Test(scripted, a_packet_given_up_on_is_too_late_even_before_delivery_reaches_it, .timeout = 20)
{
    struct sc_channel_cfg ch;
    const struct sc_sub_event *loss;
    uint64_t t0;

    lan(&ch);
    ch.nak.ncf_retries = 1; /* unconfirmed: lost after one NAK and repeat / 8 */
    rig_init(&ch);
    odata(0, 0);
    odata(3, 0); /* 1 and 2 missing */
    rig_work();
    t0 = rig.now;
    ncf(1); /* 1 waits for its repair (rdata / 8 = 500 us); 2 is NAKed, unconfirmed */
    rig_run_until(t0 + 400 * US);
    cr_assert_eq(naks_for(2, NULL, 0), 1);
    cr_assert_eq(naks_for(1, NULL, 0), 0);
    cr_assert_eq(stats().lost_packets, 1, "2 is given up on at <= 50 + 250 us");
    cr_assert_eq(rig.nmsgs, 4, "nothing after the hole at 1 yet");
    rdata(2, 0); /* too late */
    rig_run_until(t0 + 450 * US);
    cr_assert_eq(stats().duplicates, 1, "data for a lost packet was taken");
    rdata(1, 0);
    rig_run_until(t0 + 500 * US);
    cr_assert_eq(rig.nmsgs, 12);
    for (unsigned i = 0; i < 8; i++)
        cr_assert_eq(rig.msgs[i], 1 + i);
    for (unsigned i = 8; i < 12; i++)
        cr_assert_eq(rig.msgs[i], 13 + i - 8, "delivery %u: %llu", i,
                     (unsigned long long)rig.msgs[i]);
    cr_assert_eq(rig.nev, 2);
    loss = event(1, SC_EV_LOSS);
    cr_assert_eq(loss->loss.first, 9);
    cr_assert_eq(loss->loss.last, 12);
    cr_assert_eq(loss->loss.packets, 1);
    cr_assert_eq(loss->loss.reason, SC_LOSS_RETRIES);
    cr_assert_eq(stats().lost_packets, 1);
    cr_assert_eq(stats().repaired, 1);
    rig_fini();
}

/* A NAK for a packet stored but not sent yet (held back by the data rate) is
 * not repaired -- a repair would overtake its own ODATA -- but answered as
 * outside the window; the packet then goes out once, as ODATA. A NAK for a
 * packet sent is repaired. */
Test(scripted, a_nak_for_a_packet_not_yet_sent_is_not_repaired, .timeout = 20)
{
    struct sc_channel_cfg ch;
    struct sc_pub_stats st;
    uint8_t m[1000];
    uint64_t sent;
    uint32_t q[2];
    bool odata_seen[64] = { false };

    lan(&ch);
    ch.data_rate_bps = 1000000; /* ~11 packets at once, then one every ~9 ms */
    prig_init(&ch);
    prig.spin_ns = 10 * US; /* a loop polling every 10 us while the rate holds data back */
    prig_run_until(prig.now + 1 * MS);
    memset(m, 'm', sizeof(m));
    for (int i = 0; i < 20; i++) /* one message a packet */
        cr_assert_eq(sc_pub_send(prig.pub, m, sizeof(m), prig.now), 0);
    sc_pub_flush(prig.pub, prig.now);
    prig_work();
    sent = pstats().odata_sent;
    cr_assert(sent > 3 && sent < 20, "%llu of 20 sent at once", (unsigned long long)sent);
    q[0] = (uint32_t)sent;     /* the next to go, not sent yet */
    q[1] = (uint32_t)sent + 5; /* stored, further back */
    nak_to_pub(q, 2, NULL, 0);
    prig_work();
    st = pstats();
    cr_assert_eq(st.nak_out_of_window, 2);
    cr_assert_eq(st.rdata_sent, 0, "a packet not sent yet was repaired");
    q[0] = 3;
    nak_to_pub(q, 1, NULL, 0);
    prig_run_until(prig.now + 1 * S(1));
    st = pstats();
    cr_assert_eq(st.odata_sent, 20);
    cr_assert_eq(st.rdata_sent, 1);
    for (unsigned i = 0; i < prig.npk; i++) {
        const struct sc_pgm_pkt *k = &prig.pk[i].k;
        if (k->type == SC_PGM_ODATA) {
            cr_assert_lt(k->data.sqn, 64);
            cr_assert_not(odata_seen[k->data.sqn], "ODATA %u sent twice", k->data.sqn);
            odata_seen[k->data.sqn] = true;
        } else if (k->type == SC_PGM_RDATA) {
            cr_assert_eq(k->data.sqn, 3);
            cr_assert(odata_seen[3], "RDATA before its ODATA");
        }
    }
    prig_fini();
}

/* The trail in ODATA (the oldest packet the source still holds) moving past a
 * hole: the hole can no longer be repaired, so it is a loss at once, typed
 * "not in the window" -- no NAK for it, no waiting out the retries. */
Test(scripted, an_odata_trail_past_a_hole_declares_it_lost_at_once, .timeout = 20)
{
    struct sc_channel_cfg ch;
    const struct sc_sub_event *loss;

    lan(&ch);
    rig_init(&ch);
    odata(0, 0);
    odata(2, 0); /* 1 missing: back-off started */
    rig_work();
    odata(3, 2); /* the source holds 2.. only */
    rig_work();
    cr_assert_eq(rig.nev, 2, "no loss event at once");
    loss = event(1, SC_EV_LOSS);
    cr_assert_eq(loss->loss.reason, SC_LOSS_NOT_IN_WINDOW);
    cr_assert_eq(loss->loss.first, 5);
    cr_assert_eq(loss->loss.last, 8);
    cr_assert_eq(loss->loss.packets, 1);
    cr_assert_eq(rig.nmsgs, 12, "the data after the hole waits no longer");
    for (unsigned i = 0; i < 12; i++)
        cr_assert_eq(rig.msgs[i], i < 4 ? 1 + i : 9 + (i - 4));
    rig_run_until(rig.now + 10 * MS);
    cr_assert_eq(rig.nnaks, 0, "a packet the source no longer holds was NAKed");
    cr_assert_eq(stats().lost_packets, 1);
    rig_fini();
}

/* A source that falls silent with a hole open: SOURCE_DOWN (timeout) at
 * source_timeout after it was last heard; its window is held for another
 * source_timeout, then the hole is reported lost as "source gone" and the data
 * held behind it is delivered. */
Test(scripted, a_silent_source_goes_down_and_its_gaps_end_as_source_gone, .timeout = 20)
{
    struct sc_channel_cfg ch;
    const struct sc_sub_event *ev;
    uint64_t t0;

    lan(&ch);
    ch.source_timeout_ns = 100 * MS;
    ch.nak.ncf_retries = 255; /* the NAKs cannot give up first */
    ch.nak.ramp = false;
    ch.nak.repeat_ns = 10 * MS;
    rig_init(&ch);
    odata(0, 0);
    odata(2, 0);
    rig_work();
    t0 = rig.now;
    rig.step = 10 * US;
    rig_run_until(t0 + 250 * MS);
    cr_assert_eq(rig.nev, 3, "%u events", rig.nev);
    ev = event(1, SC_EV_SOURCE_DOWN);
    cr_assert_eq(ev->down.reason, SC_DOWN_TIMEOUT);
    cr_assert(rig.ev[1].t >= t0 + 100 * MS && rig.ev[1].t <= t0 + 100 * MS + 20 * US,
              "down at +%llu ns", (unsigned long long)(rig.ev[1].t - t0));
    ev = event(2, SC_EV_LOSS);
    cr_assert_eq(ev->loss.reason, SC_LOSS_SOURCE_GONE);
    cr_assert_eq(ev->loss.first, 5);
    cr_assert_eq(ev->loss.last, 8);
    cr_assert(rig.ev[2].t >= t0 + 200 * MS && rig.ev[2].t <= t0 + 200 * MS + 20 * US,
              "lost at +%llu ns", (unsigned long long)(rig.ev[2].t - t0));
    cr_assert_eq(rig.nmsgs, 8);
    cr_assert_eq(rig.msgs[3], 4);
    cr_assert_eq(rig.msgs[4], 9, "the data held behind the hole");
    cr_assert_eq(rig.msg_t[4], rig.ev[2].t);
    cr_assert_lt(naks_for(1, NULL, 0), 12, "NAKs went on after the source was down");
    rig_fini();
}

/* framing: raw -- an APDU in OPT_FRAGMENT pieces is delivered whole once every
 * piece is there; pieces whose offsets do not line up can never make it: they
 * are a loss (packet range), never a garbled message. */
static void
fragment(uint32_t sqn, uint32_t first, uint32_t off, uint32_t apdu_len, const char *bytes,
         uint16_t n)
{
    uint8_t b[400];
    struct sc_pgm_pkt k;

    memset(&k, 0, sizeof(k));
    k.type = SC_PGM_ODATA;
    k.sport = TSI_PORT;
    k.dport = rig.ch.pgm_port;
    memcpy(k.gsi, GSI, 6);
    k.data.sqn = sqn;
    k.tsdu = (const uint8_t *)bytes;
    k.tsdu_len = n;
    if (apdu_len) {
        k.opt.present = SC_PGM_HAS_FRAGMENT;
        k.opt.frag = (struct sc_pgm_frag){ first, off, apdu_len };
    }
    send_to_group(b, sc_pgm_encode(b, sizeof(b), &k), SRC_ADDR);
}

Test(scripted, fragments_that_do_not_line_up_are_a_loss_not_a_garbled_message, .timeout = 20)
{
    struct sc_channel_cfg ch;
    const struct sc_sub_event *loss;

    lan(&ch);
    ch.framing = SC_FRAMING_RAW;
    rig_init(&ch);
    fragment(2, 0, 20, 30, "CCCCCCCCCC", 10); /* out of order: held */
    fragment(0, 0, 0, 30, "AAAAAAAAAA", 10);
    fragment(1, 0, 10, 30, "BBBBBBBBBB", 10);
    rig_work();
    cr_assert_eq(rig.nmsgs, 1);
    cr_assert_eq(rig.msgs[0], 0, "raw framing: the first packet's sequence");
    cr_assert_eq(rig.body_len[0], 30);
    cr_assert_eq(memcmp(rig.body[0], "AAAAAAAAAABBBBBBBBBBCCCCCCCCCC", 30), 0);
    fragment(3, 3, 0, 30, "DDDDDDDDDD", 10);
    fragment(4, 3, 20, 30, "FFFFFFFFFF", 10); /* says 20 where 10 belongs */
    fragment(5, 3, 10, 30, "EEEEEEEEEE", 10);
    fragment(6, 0, 0, 0, "whole", 5);
    rig_run_until(rig.now + 100 * US);
    cr_assert_eq(rig.nmsgs, 2, "%u messages: a garbled APDU was delivered", rig.nmsgs);
    cr_assert_eq(rig.msgs[1], 6);
    cr_assert_eq(rig.body_len[1], 5);
    cr_assert_eq(memcmp(rig.body[1], "whole", 5), 0);
    loss = event(1, SC_EV_LOSS);
    cr_assert_eq(loss->loss.first, 3);
    cr_assert_eq(loss->loss.last, 5);
    cr_assert_eq(loss->loss.packets, 3);
    rig_fini();
}

/* The publisher serves NAKs for its own group only: a NAK naming another
 * group is not ours -- no NCF, no repair, counted. */
Test(scripted, a_nak_naming_another_group_is_not_served, .timeout = 20)
{
    struct sc_channel_cfg ch;
    struct sc_pub_stats st;
    uint8_t b[200];
    struct sc_pgm_pkt k;
    uint32_t src = ip(SRC_ADDR);
    unsigned from;
    int len;

    lan(&ch);
    prig_init(&ch);
    prig_run_until(prig.now + 1 * MS);
    prig_send(1);
    prig_run_until(prig.now + 1 * MS);
    from = prig.npk;
    memset(&k, 0, sizeof(k));
    k.type = SC_PGM_NAK;
    k.sport = ch.pgm_port;
    k.dport = prig.sport;
    memcpy(k.gsi, prig.gsi, 6);
    k.nak.sqn = 0;
    k.nak.src.afi = k.nak.grp.afi = SC_PGM_AFI_IP;
    memcpy(k.nak.src.addr, &src, 4); /* the source's NLA: the publisher checks it */
    k.nak.grp.addr[0] = 239;
    k.nak.grp.addr[1] = 1;
    k.nak.grp.addr[2] = 2;
    k.nak.grp.addr[3] = 3;
    len = sc_pgm_encode(b, sizeof(b), &k);
    sc_memnet_inject(prig.net, ip(SUB_ADDR), 40000, ip(SRC_ADDR),
                     sc_channel_nak_port(&ch, SC_XPORT_PUB), b, (uint16_t)len);
    prig_run_until(prig.now + 1 * MS);
    st = pstats();
    cr_assert_eq(st.rx_not_ours, 1);
    cr_assert_eq(st.naks_received, 0);
    cr_assert_eq(count_type(SC_PGM_NCF, from) + count_type(SC_PGM_RDATA, from), 0);
    /* the same NAK for our group is served */
    memcpy(k.nak.grp.addr, &ch.group.s_addr, 4);
    len = sc_pgm_encode(b, sizeof(b), &k);
    sc_memnet_inject(prig.net, ip(SUB_ADDR), 40000, ip(SRC_ADDR),
                     sc_channel_nak_port(&ch, SC_XPORT_PUB), b, (uint16_t)len);
    prig_run_until(prig.now + 1 * MS);
    cr_assert_eq(pstats().naks_received, 1);
    cr_assert_eq(count_type(SC_PGM_NCF, from), 1);
    cr_assert_eq(count_type(SC_PGM_RDATA, from), 1);
    prig_fini();
}

/* framing: raw -- a message that fills one packet goes as one ODATA without
 * OPT_FRAGMENT; one byte more, or exactly N fragments' worth, goes as exactly
 * the fragments it needs, each naming the APDU's first packet, its offset and
 * length, with the bytes in order. */
Test(scripted, a_large_message_is_sent_as_exactly_the_fragments_it_needs, .timeout = 20)
{
    /* per packet: MTU - IP/UDP (28) - PGM header (16) - ODATA body (8); a
     * fragment also carries OPT_LENGTH + OPT_FRAGMENT (20) */
    struct sc_channel_cfg ch;
    static uint8_t m[8000];
    size_t tsdu_max, frag_max;
    struct {
        size_t len;
        unsigned pkts;
    } cases[4];
    uint32_t next_sqn = 0;

    lan(&ch);
    ch.framing = SC_FRAMING_RAW;
    tsdu_max = ch.mtu - 28 - 16 - 8;
    frag_max = tsdu_max - 20;
    cases[0].len = tsdu_max, cases[0].pkts = 1;
    cases[1].len = tsdu_max + 1, cases[1].pkts = 2;
    cases[2].len = 2 * frag_max, cases[2].pkts = 2;
    cases[3].len = 5 * frag_max + 1, cases[3].pkts = 6;
    for (size_t i = 0; i < sizeof(m); i++)
        m[i] = (uint8_t)(i * 7 + i / 251);
    prig_init(&ch);
    prig_run_until(prig.now + 1 * MS);
    for (unsigned c = 0; c < 4; c++) {
        unsigned from = prig.npk, got = 0;
        uint32_t off = 0;
        cr_assert_eq(sc_pub_send(prig.pub, m, cases[c].len, prig.now), 0);
        prig_run_until(prig.now + 1 * MS);
        for (unsigned i = from; i < prig.npk; i++) {
            const struct sc_pgm_pkt *k = &prig.pk[i].k;
            if (k->type != SC_PGM_ODATA)
                continue;
            cr_assert_eq(k->data.sqn, next_sqn + got);
            if (cases[c].pkts == 1) {
                cr_assert_not(k->opt.present & SC_PGM_HAS_FRAGMENT);
                cr_assert_eq(k->tsdu_len, cases[c].len);
            } else {
                cr_assert(k->opt.present & SC_PGM_HAS_FRAGMENT);
                cr_assert_eq(k->opt.frag.first_sqn, next_sqn);
                cr_assert_eq(k->opt.frag.apdu_len, cases[c].len);
                cr_assert_eq(k->opt.frag.offset, off, "case %u piece %u: offset %u, want %u", c,
                             got, k->opt.frag.offset, off);
                cr_assert_gt(k->tsdu_len, 0, "case %u: an empty fragment", c);
                cr_assert_leq(k->tsdu_len, frag_max);
            }
            cr_assert_eq(prig.pk[i].hash, fnv1a(m + off, k->tsdu_len), "case %u piece %u bytes",
                         c, got);
            off += k->tsdu_len;
            got++;
        }
        cr_assert_eq(got, cases[c].pkts, "case %u (%zu bytes): %u packets, want %u", c,
                     cases[c].len, got, cases[c].pkts);
        cr_assert_eq(off, cases[c].len);
        next_sqn += got;
    }
    prig_fini();
}

/* A NAK for a packet that has left the window: no repair, and an SPM at once
 * (in the same pass) whose trail is past it, so the receiver declares the loss
 * now instead of retrying for milliseconds. */
Test(scripted, a_nak_for_data_no_longer_held_is_answered_by_an_spm_at_once, .timeout = 20)
{
    struct sc_channel_cfg ch;
    struct sc_pub_stats st;
    const uint32_t q = 2;
    unsigned from, spms = 0;

    lan(&ch);
    ch.window_packets = 16;
    prig_init(&ch);
    prig_run_until(prig.now + 1 * MS);
    for (int i = 0; i < 40; i++) { /* 40 packets: 0..23 have left the window */
        prig_send(1);
        prig.now += 10 * US;
    }
    prig_run_until(prig.now + 200 * MS); /* the heartbeats are over */
    cr_assert_eq(pstats().window_trail, 24);
    from = prig.npk;
    nak_to_pub(&q, 1, NULL, 0);
    prig_work(); /* one pass */
    st = pstats();
    cr_assert_eq(st.nak_out_of_window, 1);
    cr_assert_eq(count_type(SC_PGM_RDATA, from) + count_type(SC_PGM_NCF, from), 0);
    for (unsigned i = from; i < prig.npk; i++)
        if (prig.pk[i].k.type == SC_PGM_SPM) {
            cr_assert_eq(prig.pk[i].k.spm.trail, 24);
            cr_assert_eq(prig.pk[i].k.spm.lead, 39);
            spms++;
        }
    cr_assert_eq(spms, 1, "%u SPMs in the pass that read the NAK", spms);
    prig_fini();
}

/* Implicit batching: a message not flushed leaves batch_delay after it was
 * queued -- not before, not a batch_delay later -- with the messages queued
 * meanwhile in the same packet. */
Test(scripted, an_unflushed_message_leaves_batch_delay_after_it_was_queued, .timeout = 20)
{
    struct sc_channel_cfg ch;
    uint8_t m[8] = { 0 };
    uint64_t t0;
    unsigned from;

    lan(&ch);
    ch.batch_delay_ns = 200 * US;
    prig_init(&ch);
    prig_run_until(prig.now + 1 * S(1)); /* the start-up SPMs are over */
    from = prig.npk;
    t0 = prig.now;
    cr_assert_eq(sc_pub_send(prig.pub, m, 8, t0), 0);
    prig_run_until(t0 + 50 * US);
    cr_assert_eq(sc_pub_send(prig.pub, m, 8, prig.now), 0);
    prig_run_until(t0 + 1 * MS);
    cr_assert_eq(count_type(SC_PGM_ODATA, from), 1);
    for (unsigned i = from; i < prig.npk; i++)
        if (prig.pk[i].k.type == SC_PGM_ODATA) {
            cr_assert(prig.pk[i].t >= t0 + 200 * US && prig.pk[i].t <= t0 + 200 * US + 2 * US,
                      "the block left at +%llu ns, want +200 us",
                      (unsigned long long)(prig.pk[i].t - t0));
            cr_assert_eq(prig.pk[i].k.tsdu_len, SC_MOLD_HDR_LEN + 2 * (2 + 8), "both messages");
        }
    prig_fini();
}

/* An SPM names where NAKs go (its NLA): from then on they go there, not to the
 * address the data came from. */
Test(scripted, naks_go_to_the_address_the_spm_names, .timeout = 20)
{
    struct sc_channel_cfg ch;
    struct sc_xport_params xp;
    struct sc_xport *other;
    uint8_t b[200], buf[2048];
    struct sc_pgm_pkt k;
    struct sc_pkt in = { .data = buf, .cap = sizeof(buf) };
    uint32_t a = ip("198.18.0.77");

    lan(&ch);
    rig_init(&ch);
    sc_xport_params_from(&xp, &ch, SC_XPORT_PUB);
    cr_assert_eq(sc_memnet_open(rig.net, &other, a, &xp), 0);
    memset(&k, 0, sizeof(k));
    k.type = SC_PGM_SPM;
    k.sport = TSI_PORT;
    k.dport = ch.pgm_port;
    memcpy(k.gsi, GSI, 6);
    k.spm.lead = 0xFFFFFFFFu;
    k.spm.nla.afi = SC_PGM_AFI_IP;
    memcpy(k.spm.nla.addr, &a, 4);
    send_to_group(b, sc_pgm_encode(b, sizeof(b), &k), SRC_ADDR);
    odata(0, 0);
    odata(2, 0);
    rig_run_until(rig.now + 200 * US);
    cr_assert_eq(rig.nnaks, 0, "the NAK went to the data's sender");
    cr_assert_eq(other->ops->rx_burst(other, &in, 1), 1, "no NAK at the SPM's address");
    cr_assert_eq(sc_pgm_decode(buf, in.len, &k, 0), 0);
    cr_assert_eq(k.type, SC_PGM_NAK);
    cr_assert_eq(k.nak.sqn, 1);
    sc_xport_close(other);
    rig_fini();
}

/* A repair heard before anything else of a session is old data (someone
 * else's NAK): it is no place to join. The subscriber waits for ODATA or an
 * SPM to decide where it starts. */
Test(scripted, a_repair_is_not_where_a_new_subscriber_joins, .timeout = 20)
{
    struct sc_channel_cfg ch;
    const struct sc_sub_event *up;

    lan(&ch);
    rig_init(&ch);
    rdata(50, 40);
    rig_work();
    cr_assert_eq(rig.nev, 0, "a source started at a repair");
    cr_assert_eq(stats().rx_before_join, 1);
    cr_assert_eq(rig.nmsgs, 0);
    odata(60, 40);
    rig_run_until(rig.now + 1 * MS);
    up = event(0, SC_EV_SOURCE_UP);
    cr_assert_eq(up->up.first_packet, 60);
    expect_msgs(4 * 60 + 1, 4 * 61);
    cr_assert_eq(rig.nnaks, 0);
    rig_fini();
}

/* A new session announces itself with two SPMs at once, each in a send of its
 * own (a loss on the way takes one, not both), before any data. */
Test(scripted, a_session_starts_with_two_spms_in_separate_sends, .timeout = 20)
{
    struct sc_channel_cfg ch;
    struct sc_pub_stats st;
    unsigned at_start = 0;

    lan(&ch);
    prig_init(&ch);
    prig_work(); /* the first pass */
    st = pstats();
    for (unsigned i = 0; i < prig.npk; i++) {
        cr_assert_eq(prig.pk[i].k.type, SC_PGM_SPM);
        cr_assert_eq(prig.pk[i].k.spm.lead, 0xFFFFFFFFu, "nothing sent yet");
        cr_assert_eq(prig.pk[i].k.spm.trail, 0);
        cr_assert_eq(prig.pk[i].k.spm.sqn, at_start, "SPM sequence numbers count up");
        at_start++;
    }
    cr_assert_eq(at_start, 2, "%u SPMs at start", at_start);
    cr_assert_eq(st.link.tx_calls, 2, "both in one send: one loss would take both");
    prig_fini();
}

/* rtx.budget: one receiver's NAKs beyond its budget in a second are refused
 * (counted) -- and a second later it has its whole budget again. */
Test(scripted, a_receivers_nak_budget_is_per_second, .timeout = 20)
{
    struct sc_channel_cfg ch;
    uint64_t t0;
    uint32_t q = 0;

    lan(&ch);
    ch.rtx.budget = 5;
    ch.rtx.holdoff_ns = 0;
    prig_init(&ch);
    prig_run_until(prig.now + 1 * MS);
    for (int i = 0; i < 8; i++) {
        prig_send(1);
        prig.now += 10 * US;
    }
    prig_run_until(prig.now + 100 * MS);
    t0 = prig.now;
    for (q = 0; q < 7; q++) { /* 7 sequences in one NAK each, from one receiver */
        nak_to_pub(&q, 1, NULL, 0);
        prig_work();
    }
    cr_assert_eq(pstats().nak_over_budget, 2, "%llu over the budget of 5",
                 (unsigned long long)pstats().nak_over_budget);
    prig.now = t0 + S(1) - 1;
    q = 7;
    nak_to_pub(&q, 1, NULL, 0);
    prig_work();
    cr_assert_eq(pstats().nak_over_budget, 3, "the second is not over yet");
    prig.now = t0 + S(1);
    for (q = 0; q < 5; q++) {
        nak_to_pub(&q, 1, NULL, 0);
        prig_work();
    }
    cr_assert_eq(pstats().nak_over_budget, 3, "a new second, a new budget");
    prig_fini();
}

/* A gap that outgrows the receive window: what falls out of it is lost, typed
 * "receive window" (not the source's window: the source may still hold it). */
Test(scripted, a_gap_wider_than_the_receive_window_is_lost_as_such, .timeout = 20)
{
    struct sc_channel_cfg ch;
    const struct sc_sub_event *loss;

    lan(&ch);
    ch.rx_window_packets = 16;
    rig_init(&ch);
    odata(0, 0);
    odata(10, 0); /* 1..9 missing, NAKs on their way */
    rig_work();
    odata(30, 0); /* the window must move to 15..30 */
    rig_work();
    loss = event(1, SC_EV_LOSS);
    cr_assert_eq(loss->loss.reason, SC_LOSS_RX_WINDOW);
    cr_assert_eq(loss->loss.first, 5);
    cr_assert_eq(loss->loss.last, 40);
    cr_assert_eq(loss->loss.packets, 9);
    cr_assert_eq(rig.nmsgs, 8, "the data at 10 follows the loss");
    cr_assert_eq(rig.msgs[4], 41);
    rig_fini();
}

/* A steady stream (one packet every G = 1 ms): one heartbeat after each packet,
 * at spm.heartbeat[0]; when the stream stops, the next heartbeat comes when
 * the data is late -- 2 G after the last packet -- and the schedule goes on
 * from there: SPM k + 1 at max(SPM k + spm.heartbeat[k], last + 2 G). */
Test(scripted, after_a_steady_stream_stops_the_heartbeats_wait_for_the_data_to_be_late,
     .timeout = 20)
{
    struct sc_channel_cfg ch;
    const uint64_t g = 1 * MS;
    uint64_t last = 0, want, t_prev = 0;
    unsigned from = 0, tail = 0, spm_between = 0, k = 0;

    lan(&ch);
    prig_init(&ch);
    prig_run_until(prig.now + S(1)); /* the start-up SPMs are over */
    for (int i = 0; i < 50; i++) {
        if (i == 10)
            from = prig.npk; /* the pace is known by now */
        prig_send(1);
        last = prig.now;
        if (i == 49)
            tail = prig.npk;
        prig_run_until(prig.now + g);
    }
    for (unsigned i = from; i < prig.npk; i++) {
        if (prig.pk[i].k.type == SC_PGM_ODATA) {
            t_prev = prig.pk[i].t;
            continue;
        }
        if (prig.pk[i].k.type != SC_PGM_SPM)
            continue;
        spm_between++;
        cr_assert(prig.pk[i].t - t_prev >= ch.spm.heartbeat_ns[0] &&
                      prig.pk[i].t - t_prev <= ch.spm.heartbeat_ns[0] + 3 * US,
                  "a heartbeat %llu ns after the data",
                  (unsigned long long)(prig.pk[i].t - t_prev));
    }
    cr_assert_eq(spm_between, 40, "%u heartbeats for 40 packets", spm_between);
    /* the stream has stopped: what follows its last packet */
    prig_run_until(last + 20 * MS);
    want = last + ch.spm.heartbeat_ns[0];
    for (unsigned i = tail; i < prig.npk && k < 5; i++) {
        if (prig.pk[i].k.type != SC_PGM_SPM)
            continue;
        cr_assert(prig.pk[i].t >= want && prig.pk[i].t <= want + 3 * US,
                  "heartbeat %u after the stream stopped at +%llu us, want +%llu us", k,
                  (unsigned long long)((prig.pk[i].t - last) / US),
                  (unsigned long long)((want - last) / US));
        want = prig.pk[i].t + ch.spm.heartbeat_ns[k + 1];
        if (want < last + 2 * g)
            want = last + 2 * g;
        k++;
    }
    cr_assert_eq(k, 5, "%u heartbeats in the 20 ms after the stream", k);
    prig_fini();
}

/* rtx.holdoff after a repair: a NAK within it is not repaired again, but
 * confirmed (an NCF) -- unless an NCF for it went out less than rtx.holdoff / 2
 * ago; after the hold-off a NAK is repaired again. */
Test(scripted, a_nak_soon_after_a_repair_is_confirmed_not_repaired, .timeout = 20)
{
    struct sc_channel_cfg ch;
    struct sc_pub_stats st;
    uint64_t t0;
    const uint32_t q = 3;
    unsigned from;

    lan(&ch); /* rtx.holdoff 300 us, rtx.delay 0 */
    prig_init(&ch);
    prig_run_until(prig.now + 1 * MS);
    for (int i = 0; i < 5; i++) {
        prig_send(1);
        prig.now += 10 * US;
    }
    prig_run_until(prig.now + 100 * MS);
    from = prig.npk;
    t0 = prig.now;
    nak_to_pub(&q, 1, NULL, 0);
    prig_work();
    cr_assert_eq(count_type(SC_PGM_NCF, from), 1);
    cr_assert_eq(count_type(SC_PGM_RDATA, from), 1);
    prig.now = t0 + ch.rtx.holdoff_ns / 2 + 50 * US; /* held off; its NCF is old enough */
    nak_to_pub(&q, 1, NULL, 0);
    prig_work();
    st = pstats();
    cr_assert_eq(st.nak_held_off, 1);
    cr_assert_eq(count_type(SC_PGM_RDATA, from), 1, "repaired again within the hold-off");
    cr_assert_eq(count_type(SC_PGM_NCF, from), 2, "a held-off NAK is still confirmed");
    prig.now += 10 * US; /* held off, and confirmed 10 us ago */
    nak_to_pub(&q, 1, NULL, 0);
    prig_work();
    st = pstats();
    cr_assert_eq(st.nak_held_off, 2);
    cr_assert_eq(st.nak_ncf_held, 1);
    cr_assert_eq(count_type(SC_PGM_NCF, from), 2, "a second NCF within rtx.holdoff / 2");
    prig.now = t0 + ch.rtx.holdoff_ns; /* the hold-off is over: repaired again */
    nak_to_pub(&q, 1, NULL, 0);
    prig_work();
    cr_assert_eq(count_type(SC_PGM_RDATA, from), 2);
    cr_assert_eq(count_type(SC_PGM_NCF, from), 2, "the NCF of 100 us ago still stands");
    cr_assert_eq(pstats().nak_ncf_held, 2);
    prig_fini();
}

/* A session is its GSI and its TSI port: two ports of one GSI are two sources,
 * each with its own stream (a restarted process may keep its GSI). */
Test(scripted, two_tsi_ports_of_one_gsi_are_two_sources, .timeout = 20)
{
    struct sc_channel_cfg ch;
    unsigned a = 0, b = 0;

    lan(&ch);
    rig_init(&ch);
    odata(0, 0);
    tsi_port = TSI_PORT + 1;
    odata(0, 0);
    odata(1, 0);
    tsi_port = TSI_PORT;
    odata(1, 0);
    rig_run_until(rig.now + 1 * MS);
    cr_assert_eq(stats().sources_up, 2);
    cr_assert_eq(event(0, SC_EV_SOURCE_UP)->up.first_packet, 0);
    cr_assert_eq(event(1, SC_EV_SOURCE_UP)->up.first_packet, 0);
    cr_assert_eq(rig.nmsgs, 16, "%u messages: one session's packets taken for the other's",
                 rig.nmsgs);
    for (unsigned i = 0; i < rig.nmsgs; i++) {
        unsigned *n = rig.msg_sport[i] == TSI_PORT ? &a : &b;
        cr_assert_eq(rig.msgs[i], 1 + *n, "port %u: message %llu, want %u", rig.msg_sport[i],
                     (unsigned long long)rig.msgs[i], 1 + *n);
        (*n)++;
    }
    cr_assert_eq(a, 8);
    cr_assert_eq(b, 8);
    cr_assert_eq(stats().duplicates, 0);
    rig_fini();
}

/* A subscriber there from the start that never gets packet 0: the loss event
 * names message 1 as the first lost (not 0), up to the first it delivers. */
Test(scripted, a_lost_first_packet_is_a_loss_from_message_one, .timeout = 20)
{
    struct sc_channel_cfg ch;
    const struct sc_sub_event *loss;

    lan(&ch);
    ch.nak.backoff_ns = 1 * US;
    ch.nak.ncf_retries = 1;
    rig_init(&ch);
    odata(1, 0); /* from the start: 0 is missing */
    rig_run_until(rig.now + 2 * MS);
    cr_assert_eq(event(0, SC_EV_SOURCE_UP)->up.join, SC_JOIN_FROM_START);
    loss = event(1, SC_EV_LOSS);
    cr_assert_eq(loss->loss.first, 1);
    cr_assert_eq(loss->loss.last, 4);
    cr_assert_eq(loss->loss.packets, 1);
    expect_msgs(5, 8);
    rig_fini();
}

/* An APDU in fragments is stored all or nothing: when the unsent packets and
 * its fragments would overfill the window, -EAGAIN and nothing stored; one
 * over half the window can never be held for repair: -EMSGSIZE. */
Test(scripted, a_fragmented_message_that_does_not_fit_is_refused_whole, .timeout = 20)
{
    struct sc_channel_cfg ch;
    static uint8_t m[20000];
    size_t frag_max;
    struct sc_pub_stats st;

    lan(&ch);
    ch.framing = SC_FRAMING_RAW;
    ch.window_packets = 16;
    frag_max = ch.mtu - 28 - 16 - 8 - 20;
    prig_init(&ch);
    prig_run_until(prig.now + 1 * MS);
    for (int i = 0; i < 10; i++) /* 10 packets, not sent yet (no do_work) */
        cr_assert_eq(sc_pub_send(prig.pub, m, 100, prig.now), 0);
    cr_assert_eq(sc_pub_send(prig.pub, m, 4 * frag_max, prig.now), 0, "4 fragments: 14 of 16");
    cr_assert_eq(sc_pub_send(prig.pub, m, 3 * frag_max, prig.now), -EAGAIN, "3 more: 17 of 16");
    sc_pub_get_stats(prig.pub, &st);
    cr_assert_eq(st.window_lead - st.window_trail + 1, 14, "a part of the refused APDU was stored");
    cr_assert_eq(sc_pub_send(prig.pub, m, 2 * frag_max, prig.now), 0, "2 more: 16 of 16");
    cr_assert_eq(sc_pub_send(prig.pub, m, 9 * frag_max, prig.now), -EMSGSIZE);
    prig_run_until(prig.now + 1 * MS);
    cr_assert_eq(pstats().odata_sent, 16);
    cr_assert_eq(sc_pub_send(prig.pub, m, 3 * frag_max, prig.now), 0, "sent: room again");
    prig_fini();
}

/* sc_pub_deadline: 0 while stored data waits to be sent (a loop must not
 * sleep on it), a time in the future once it is out. */
Test(scripted, the_deadline_is_now_while_data_waits_to_be_sent, .timeout = 20)
{
    struct sc_channel_cfg ch;
    uint8_t m[8] = { 0 };

    lan(&ch);
    prig_init(&ch);
    prig_run_until(prig.now + 1 * MS);
    cr_assert_gt(sc_pub_deadline(prig.pub, prig.now), prig.now);
    cr_assert_eq(sc_pub_send(prig.pub, m, 8, prig.now), 0);
    sc_pub_flush(prig.pub, prig.now);
    cr_assert_leq(sc_pub_deadline(prig.pub, prig.now), prig.now,
                  "a stored packet waits for do_work");
    sc_pub_do_work(prig.pub, prig.now);
    cr_assert_gt(sc_pub_deadline(prig.pub, prig.now), prig.now);
    prig_fini();
}

/* Closing: the End of Session block goes out as the last ODATA (MoldUDP64
 * count 0xFFFF naming the next message number), then three SPMs with OPT_FIN
 * (as OpenPGM), whose lead is that last ODATA. */
Test(scripted, close_sends_the_end_of_session_block_then_three_fin_spms, .timeout = 20)
{
    struct sc_channel_cfg ch;
    unsigned from, fins = 0, odata_n = 0;
    uint32_t last_sqn = 0;

    lan(&ch);
    prig_init(&ch);
    prig_run_until(prig.now + 1 * MS);
    prig_send(5); /* messages 1..5 in packet 0 */
    prig_run_until(prig.now + 1 * MS);
    from = prig.npk;
    sc_pub_close(prig.pub, prig.now);
    prig_work();
    for (unsigned i = from; i < prig.npk; i++) {
        const struct sc_pgm_pkt *k = &prig.pk[i].k;
        if (k->type == SC_PGM_ODATA) {
            cr_assert_eq(fins, 0, "data after a FIN");
            cr_assert_eq(k->tsdu_len, SC_MOLD_HDR_LEN, "the End of Session block is header only");
            last_sqn = k->data.sqn;
            odata_n++;
        } else if (k->type == SC_PGM_SPM && (k->opt.present & SC_PGM_HAS_FIN)) {
            cr_assert_eq(k->spm.lead, last_sqn);
            fins++;
        }
    }
    cr_assert_eq(odata_n, 1);
    cr_assert_eq(last_sqn, 1);
    cr_assert_eq(fins, 3, "%u FIN SPMs", fins);
    prig_fini();
}

/* A transport that takes at most 3 packets a call, and nothing every other
 * call (a socket buffer that keeps filling up). */
struct stingy {
    struct sc_xport x;
    struct sc_xport *inner;
    unsigned calls;
};

static uint16_t
stingy_rx(struct sc_xport *x, struct sc_pkt *p, uint16_t n)
{
    struct stingy *s = (struct stingy *)x;
    return s->inner->ops->rx_burst(s->inner, p, n);
}

static uint16_t
stingy_tx(struct sc_xport *x, const struct sc_pkt *p, uint16_t n)
{
    struct stingy *s = (struct stingy *)x;
    uint16_t take = s->calls++ % 2 ? 0 : (n < 3 ? n : 3);
    return take ? sc_xport_tx(s->inner, p, take) : 0;
}

static void
stingy_close(struct sc_xport *x)
{
    struct stingy *s = (struct stingy *)x;
    sc_xport_close(s->inner);
    free(s);
}

static const struct sc_xport_ops stingy_ops = {
    .name = "stingy", .rx_burst = stingy_rx, .tx_burst = stingy_tx, .close = stingy_close,
};

/* Back-pressure: what the transport refuses is sent later -- every ODATA once,
 * in sequence order, none skipped; every SPM and NCF queued reaches the wire
 * (control packets wait for the next send) -- and each refusal is counted. */
Test(scripted, data_the_transport_refuses_is_sent_later_once_and_in_order, .timeout = 20)
{
    struct sc_channel_cfg ch;
    struct sc_xport_params xp;
    struct stingy *st = calloc(1, sizeof(*st));
    struct sc_err err;
    struct sc_pub_stats ps;
    uint32_t want = 0;
    uint8_t m[1000];

    lan(&ch);
    memset(&prig, 0, sizeof(prig));
    prig.ch = ch;
    prig.now = S(1);
    prig.spin_ns = 10 * US;
    prig.net = sc_memnet_create(8, 8192);
    sc_xport_params_from(&xp, &ch, SC_XPORT_PUB);
    cr_assert_not_null(st);
    cr_assert_eq(sc_memnet_open(prig.net, &st->inner, ip(SRC_ADDR), &xp), 0);
    st->x.ops = &stingy_ops;
    st->x.local_addr = st->inner->local_addr;
    cr_assert_eq(sc_pub_create_on(&prig.pub, &ch, &st->x, 5, &err), 0, "%s", err.msg);
    sc_pub_tsi(prig.pub, prig.gsi, &prig.sport);
    sc_xport_params_from(&xp, &ch, SC_XPORT_SUB);
    cr_assert_eq(sc_memnet_open(prig.net, &prig.cap, ip(SUB_ADDR), &xp), 0);
    memset(m, 'x', sizeof(m));
    for (int round = 0; round < 10; round++) { /* bursts of 20 one-message packets */
        uint32_t q = (uint32_t)round;
        for (int i = 0; i < 20; i++)
            cr_assert_eq(sc_pub_send(prig.pub, m, sizeof(m), prig.now), 0);
        sc_pub_flush(prig.pub, prig.now);
        prig_run_until(prig.now + 1 * MS);
        nak_to_pub(&q, 1, NULL, 0); /* an NCF to send too */
        prig_run_until(prig.now + 1 * MS);
    }
    prig_run_until(prig.now + 10 * MS);
    ps = pstats();
    cr_assert_eq(ps.odata_sent, 200);
    cr_assert_eq(ps.ncf_sent, 10);
    cr_assert_eq(count_type(SC_PGM_NCF, 0), ps.ncf_sent, "NCFs lost to back-pressure");
    cr_assert_eq(count_type(SC_PGM_SPM, 0), ps.spm_sent, "SPMs lost to back-pressure");
    cr_assert_gt(ps.tx_backpressure, 0, "the transport never refused: the test proves nothing");
    for (unsigned i = 0; i < prig.npk; i++)
        if (prig.pk[i].k.type == SC_PGM_ODATA) {
            cr_assert_eq(prig.pk[i].k.data.sqn, want, "ODATA %u where %u was due",
                         prig.pk[i].k.data.sqn, want);
            want++;
        }
    cr_assert_eq(want, 200);
    prig_fini();
}
