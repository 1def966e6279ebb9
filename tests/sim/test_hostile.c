/* Hostile input, on the simulated network: random bytes, truncated packets,
 * wrong checksums, NAKs outside the window and a NAK flood from one host, all
 * while a real stream with loss is being repaired. Each kind must end up in its
 * own counter; nothing crashes; the honest subscribers still get every message
 * once, in order. Spoofed sources (SPMs from many addresses, more than the
 * source table holds, refreshed every source_timeout, newcomers all the time)
 * must not keep a publisher that starts after them out; source_allow drops
 * them before they become sources. NAKs that reach no one are reported once.
 *
 * The publisher under a NAK flood from many (spoofed) addresses: NAKs whose
 * source NLA is not the publisher's are dropped and counted; NCFs and the SPMs
 * answering NAKs for data no longer held stay within their limits however many
 * NAKs come; repairs stay within rtx.rate counted as data_rate counts; and a
 * subscriber with real losses still gets every repair. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "engine/channel.h"
#include "engine/pub_int.h"
#include "engine/sub_int.h"
#include <seqcast/proto/endian.h>
#include <seqcast/proto/mold.h>
#include <seqcast/proto/pgm.h>
#include "tests/support/sim.h"
#include "tests/support/testutil.h"

#define ATTACKER "198.18.9.9"
#define S(x) ((uint64_t)(x) * 1000000000u)

static struct sim sim;

static uint32_t
ip(const char *s)
{
    return inet_addr(s);
}

/* a NAK the publisher would accept, for wire sequence sqn */
static int
forge_nak(uint8_t *b, size_t cap, uint32_t sqn, const struct sc_channel_cfg *ch)
{
    struct sc_pgm_pkt k;
    uint32_t pub = ip("198.18.0.1");

    memset(&k, 0, sizeof(k));
    sc_pub_tsi(sim.pub, k.gsi, &k.dport);
    k.sport = ch->pgm_port;
    k.type = SC_PGM_NAK;
    k.nak.sqn = sqn;
    k.nak.src.afi = k.nak.grp.afi = SC_PGM_AFI_IP;
    memcpy(k.nak.src.addr, &pub, 4);
    memcpy(k.nak.grp.addr, &ch->group.s_addr, 4);
    return sc_pgm_encode(b, cap, &k);
}

static void
attack_round(uint64_t *rng, const struct sc_channel_cfg *ch, uint64_t round)
{
    uint8_t b[1600];
    uint32_t pub = ip("198.18.0.1"), me = ip(ATTACKER);
    uint16_t nak_port = sc_channel_nak_port(ch, SC_XPORT_PUB); /* where the publisher listens */
    size_t n = 1 + tu_rand(rng) % 1500;
    int len;

    /* 1. random bytes, at the group and at the publisher's NAK port */
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)tu_rand(rng);
    sc_memnet_inject(sim.net, me, 40000, ch->group.s_addr, ch->port, b, (uint16_t)n);
    sc_memnet_inject(sim.net, me, 40000, pub, nak_port, b, (uint16_t)n);
    /* 2. a valid NAK, truncated */
    len = forge_nak(b, sizeof(b), 5, ch);
    sc_memnet_inject(sim.net, me, 40000, pub, nak_port, b, (uint16_t)(len - 1 - round % 20));
    /* 3. a valid NAK with a wrong checksum */
    len = forge_nak(b, sizeof(b), 6, ch);
    b[7] ^= 0x5a;
    sc_memnet_inject(sim.net, me, 40000, pub, nak_port, b, (uint16_t)len);
    /* 4. NAKs far outside the window */
    len = forge_nak(b, sizeof(b), 0x40000000u + (uint32_t)round, ch);
    sc_memnet_inject(sim.net, me, 40000, pub, nak_port, b, (uint16_t)len);
    /* 5. a NAK flood for data the publisher holds: 500 per round from one host,
     * ~300,000 a second, far past the per-receiver budget (20,000/s) */
    for (int i = 0; i < 500; i++) {
        len = forge_nak(b, sizeof(b), (uint32_t)(tu_rand(rng) % 64), ch);
        sc_memnet_inject(sim.net, me, 40000, pub, nak_port, b, (uint16_t)len);
    }
    /* 6. a valid ODATA with a wrong checksum, at the subscribers */
    {
        struct sc_pgm_pkt k;
        memset(&k, 0, sizeof(k));
        sc_pub_tsi(sim.pub, k.gsi, &k.sport);
        k.dport = ch->pgm_port;
        k.type = SC_PGM_ODATA;
        k.data.sqn = 3;
        k.tsdu = (const uint8_t *)"evil";
        k.tsdu_len = 4;
        len = sc_pgm_encode(b, sizeof(b), &k);
        b[len - 1] ^= 1;
        sc_memnet_inject(sim.net, me, 40000, ch->group.s_addr, ch->port, b, (uint16_t)len);
    }
}

Test(hostile, garbage_and_floods_are_counted_and_the_stream_survives, .timeout = 120)
{
    struct sc_loss_params lp = { .seed = 21, .drop_ppm = 30000 };
    struct sc_channel_cfg ch;
    struct sc_pub_stats ps;
    uint64_t rng = 5, rounds = 0, bad_pub = 0, bad_sub = 0;
    const uint64_t n = 200000;

    sim_channel(&ch);
    sim_init(&sim, &ch, 3, &lp, NULL);
    for (uint64_t sent = 0; sent < n; sent += 2000) {
        sim_publish(&sim, 2000, 64);
        attack_round(&rng, &ch, rounds++);
    }
    cr_assert(sim_drain(&sim, n, S(5)), "the honest subscribers did not catch up");
    for (unsigned i = 0; i < sim.nsubs; i++) {
        struct sim_source *so = sim_source(&sim, i, 0);
        struct sc_sub_stats st;
        cr_assert_eq(sim.subs[i].order_errors + sim.subs[i].content_errors, 0, "%s",
                     sim.subs[i].first_error);
        cr_assert_eq(so->nloss, 0, "subscriber %u lost data", i);
        cr_assert_eq(so->delivered, n);
        sc_sub_get_stats(sim.subs[i].sub, &st);
        for (int c = 0; c < 13; c++)
            bad_sub += st.rx_bad[c];
        cr_assert_eq(st.sources_up, 1, "garbage must not become a source");
        cr_assert_eq(st.nak_unanswered + st.nak_unreachable, 0, "answered NAKs reported");
        cr_assert_eq(sim.subs[i].nak_events, 0);
    }
    sc_pub_get_stats(sim.pub, &ps);
    for (int c = 0; c < 13; c++)
        bad_pub += ps.rx_bad[c];
    printf("# publisher: %llu malformed dropped (checksum %llu, short %llu), %llu NAKs outside "
           "the window, %llu over the per-receiver budget; subscribers: %llu malformed\n",
           (unsigned long long)bad_pub, (unsigned long long)ps.rx_bad[-SC_PERR_CHECKSUM],
           (unsigned long long)ps.rx_bad[-SC_PERR_SHORT], (unsigned long long)ps.nak_out_of_window,
           (unsigned long long)ps.nak_over_budget, (unsigned long long)bad_sub);
    /* wrong checksums and truncations (a cut packet fails its checksum first:
     * the checksum covers the whole datagram) */
    cr_assert_geq(ps.rx_bad[-SC_PERR_CHECKSUM], 2 * rounds, "damaged NAKs not counted");
    cr_assert_geq(ps.nak_out_of_window, rounds, "NAKs outside the window not counted");
    cr_assert_gt(ps.nak_over_budget, 0, "the flood was never limited");
    cr_assert_geq(bad_sub, 3 * rounds, "subscribers did not count the garbage");
    sim_fini(&sim);
}

/* Every truncation and every single-bit flip of real packets: no crash, and
 * each is either accepted (a flip the checksum cannot see is impossible: PGM
 * checksums catch all single-bit errors) or dropped with a reason. */
Test(hostile, every_truncation_and_bit_flip_is_rejected)
{
    struct sc_channel_cfg ch;
    uint8_t b[256], c[256];
    int len;

    sim_channel(&ch);
    sim_init(&sim, &ch, 1, NULL, NULL);
    len = forge_nak(b, sizeof(b), 7, &ch);
    for (int cut = 0; cut < len; cut++) {
        struct sc_pgm_pkt k;
        cr_assert_lt(sc_pgm_decode(b, (size_t)cut, &k, 0), 0, "truncated to %d accepted", cut);
    }
    for (int bit = 0; bit < len * 8; bit++) {
        struct sc_pgm_pkt k;
        memcpy(c, b, (size_t)len);
        c[bit / 8] ^= (uint8_t)(1 << (bit % 8));
        cr_assert_lt(sc_pgm_decode(c, (size_t)len, &k, 0), 0, "bit %d flip accepted", bit);
        sc_memnet_inject(sim.net, ip(ATTACKER), 40000, ip("198.18.0.1"), ch.port, c,
                         (uint16_t)len);
    }
    sim_run_for(&sim, 1000000);
    sim_fini(&sim);
}

/* ---------------------------------------------------------------- spoofed sources */

#define JUNK_NET "198.18.50.0"
#define JUNK_MASK "255.255.255.0"
#define JUNK_LONG 24 /* more than the table's 16 places */

/* An SPM of a session that will never send data, from an address of its own
 * (198.18.50.x) and a GSI of its own: an empty window (trail 0, lead -1), as a
 * publisher announces itself. */
static void
junk_spm(const struct sc_channel_cfg *ch, unsigned id, uint32_t sqn)
{
    struct sc_pgm_pkt k;
    uint8_t b[256];
    uint32_t from = htonl(ntohl(ip(JUNK_NET)) + 1 + id % 250);
    int len;

    memset(&k, 0, sizeof(k));
    k.type = SC_PGM_SPM;
    k.gsi[0] = 0xde;
    k.gsi[1] = 0xad;
    k.gsi[2] = (uint8_t)(id >> 8);
    k.gsi[3] = (uint8_t)id;
    k.sport = (uint16_t)(1000 + id);
    k.dport = ch->pgm_port;
    k.spm.sqn = sqn;
    k.spm.trail = 0;
    k.spm.lead = UINT32_MAX;
    k.spm.nla.afi = SC_PGM_AFI_IP;
    memcpy(k.spm.nla.addr, &from, 4);
    len = sc_pgm_encode(b, sizeof(b), &k);
    cr_assert_gt(len, 0);
    sc_memnet_inject(sim.net, from, 40000, ch->group.s_addr, ch->port, b, (uint16_t)len);
}

struct junk {
    uint64_t next_refresh[JUNK_LONG]; /* each long-lived one: one SPM per source_timeout */
    uint32_t sqn;
    uint64_t next_new;  /* a fresh one, heard once, every 50 ms */
    unsigned fresh, sent;
};

/* the spoofed SPMs due by now */
static void
junk_due(struct junk *j, const struct sc_channel_cfg *ch)
{
    for (unsigned i = 0; i < JUNK_LONG; i++)
        if (sim.now >= j->next_refresh[i]) {
            junk_spm(ch, i, j->sqn++);
            j->sent++;
            j->next_refresh[i] = sim.now + ch->source_timeout_ns - S(1) / 10;
        }
    if (sim.now >= j->next_new) {
        junk_spm(ch, 1000 + j->fresh++, j->sqn++);
        j->sent++;
        j->next_new = sim.now + S(1) / 20;
    }
}

/* the subscribers alone (the publisher has not started), junk arriving */
static void
junk_only(struct junk *j, const struct sc_channel_cfg *ch, uint64_t ns)
{
    uint64_t end = sim.now + ns;

    while (sim.now < end) {
        junk_due(j, ch);
        for (unsigned i = 0; i < sim.nsubs; i++)
            while (sc_sub_do_work(sim.subs[i].sub, sim.now) > 0)
                ;
        sim.now += S(1) / 1000;
    }
}

/* sim_drain with the junk still coming: every subscriber has caught up with
 * want messages of the publisher, or max_ns passed */
static bool
drain_with_junk(struct junk *j, const struct sc_channel_cfg *ch, uint64_t want, uint64_t max_ns)
{
    uint64_t end = sim.now + max_ns;

    while (sim.now < end) {
        bool all = true;
        for (unsigned i = 0; i < sim.nsubs && all; i++) {
            struct sim_source *so = sim_source(&sim, i, 0);
            all = so && so->next > want;
        }
        if (all)
            return true;
        junk_due(j, ch);
        sim_run_for(&sim, S(1) / 1000);
    }
    return false;
}

/* The attack of issue 16: spoofed sources, each refreshed by one SPM per
 * source_timeout, hold every place of the source table (24 of them for 16
 * places, the first arriving 10 ms apart); 6 s later a publisher starts, and
 * from then on fresh ones come and go, one every 50 ms. It must be delivered completely, while
 * the junk keeps coming; the junk never grows the buffer pool (capped at one
 * window: a further holder would count rx_pool_grow_failed). */
Test(hostile, spoofed_sources_cannot_keep_a_publisher_out, .timeout = 120)
{
    struct sc_loss_params lp = { .seed = 8, .drop_ppm = 10000 };
    struct sc_channel_cfg ch;
    struct junk j = { .next_new = 0 };
    const uint64_t n = 20000;

    sim_channel(&ch);
    cr_assert_eq(ch.max_sources, 16);
    sim_init(&sim, &ch, 2, &lp, NULL);
    sim.ignore_net = ip(JUNK_NET);
    sim.ignore_mask = ip(JUNK_MASK);
    for (unsigned i = 0; i < JUNK_LONG; i++)
        j.next_refresh[i] = sim.now + i * (S(1) / 100);
    j.next_new = UINT64_MAX; /* every place held by a live (refreshed) one ... */
    for (unsigned i = 0; i < sim.nsubs; i++)
        sc_sub_cap_pool(sim.subs[i].sub, 1);
    junk_only(&j, &ch, S(6));
    j.next_new = sim.now; /* ... and from now on more come and go */
    for (uint64_t sent = 0; sent < n; sent += 500) {
        sim_publish(&sim, 500, 16);
        junk_due(&j, &ch);
    }
    cr_assert(drain_with_junk(&j, &ch, n, S(12)), "the publisher was not delivered");
    for (unsigned i = 0; i < sim.nsubs; i++) {
        struct sim_source *so = sim_source(&sim, i, 0);
        struct sc_sub_stats st;
        sc_sub_get_stats(sim.subs[i].sub, &st);
        printf("# sub %u: %u junk SPMs; sources up %llu (junk %u), evicted %llu, forgotten "
               "%llu, refused %llu; delivered %llu\n", i, j.sent,
               (unsigned long long)st.sources_up, sim.subs[i].ignored_up,
               (unsigned long long)st.sources_evicted, (unsigned long long)st.sources_forgotten,
               (unsigned long long)st.source_table_full,
               (unsigned long long)(so ? so->delivered : 0));
        cr_assert_not_null(so, "subscriber %u never saw the publisher", i);
        cr_assert_eq(sim.subs[i].order_errors + sim.subs[i].content_errors, 0, "%s",
                     sim.subs[i].first_error);
        cr_assert_eq(so->join, SC_JOIN_FROM_START);
        cr_assert_eq(so->delivered, n, "subscriber %u: %llu of %llu delivered", i,
                     (unsigned long long)so->delivered, (unsigned long long)n);
        cr_assert_eq(so->nloss, 0);
        cr_assert(!so->down, "the publisher was taken down");
        /* every junk source came up; each one that left did so by eviction
         * (none ever sent data; none timed out: refreshed, or evicted first) */
        cr_assert_gt(sim.subs[i].ignored_up, 16);
        cr_assert_gt(st.sources_evicted, 0);
        cr_assert_eq(st.sources_evicted, sim.subs[i].evicted_down);
        cr_assert_eq(st.sources_up, 1 + sim.subs[i].ignored_up);
        cr_assert_eq(st.source_table_full, 0, "a newcomer was refused with junk in the table");
        cr_assert_eq(st.rx_pool_grow_failed, 0, "junk sources made the pool grow");
    }
    sim_fini(&sim);
}

/* source_allow: packets from elsewhere are dropped before they are parsed,
 * each counted; the junk never becomes a source. */
Test(hostile, source_allow_keeps_spoofed_sources_out, .timeout = 60)
{
    struct sc_channel_cfg ch;
    struct junk j = { .next_new = 0 };
    const uint64_t n = 5000;
    struct sc_config cfg;
    struct sc_err err;

    sc_config_init(&cfg);
    cr_assert_eq(sc_config_set(&cfg, "source_allow=198.18.0.0/24, 10.9.8.7", &err), 0, "%s",
                 err.msg);
    sim_channel(&ch);
    ch.nsource_allow = cfg.channels[0].nsource_allow;
    memcpy(ch.source_allow, cfg.channels[0].source_allow, sizeof(ch.source_allow));
    cr_assert_eq(ch.nsource_allow, 2);
    sim_init(&sim, &ch, 1, NULL, NULL);
    sim.ignore_net = ip(JUNK_NET);
    sim.ignore_mask = ip(JUNK_MASK);
    j.next_new = sim.now;
    junk_only(&j, &ch, S(1));
    for (uint64_t sent = 0; sent < n; sent += 500) {
        sim_publish(&sim, 500, 16);
        junk_due(&j, &ch);
    }
    cr_assert(drain_with_junk(&j, &ch, n, S(5)));
    {
        struct sim_source *so = sim_source(&sim, 0, 0);
        struct sc_sub_stats st;
        sc_sub_get_stats(sim.subs[0].sub, &st);
        cr_assert_not_null(so);
        cr_assert_eq(so->delivered, n);
        cr_assert_eq(st.sources_up, 1, "a spoofed source came up");
        cr_assert_eq(sim.subs[0].ignored_up, 0);
        cr_assert_eq(st.rx_source_denied, j.sent, "%llu of %u junk packets denied",
                     (unsigned long long)st.rx_source_denied, j.sent);
        cr_assert_eq(st.spm_received + st.odata_received + st.rdata_received + st.ncf_received,
                     st.rx_pkts - st.rx_source_denied, "a denied packet was read as PGM");
    }
    sim_fini(&sim);
}

/* A publisher that never hears this subscriber's NAKs (they are all lost on
 * the way): the packets it cannot repair are lost after nak.ncf_retries NAKs
 * with no NCF, and the subscriber says so once -- the source, where the NAKs
 * went (auto: the data port) -- and counts each packet given up that way. */
Test(hostile, naks_that_reach_no_one_are_reported_once, .timeout = 60)
{
    struct sc_loss_params tx_loss = { .seed = 3, .drop_ppm = 5000, .on_tx = true };
    struct sc_loss_params naks_lost = { .seed = 4, .drop_ppm = 1000000, .on_tx = true };
    struct sc_channel_cfg ch;
    struct sc_sub_stats st;
    struct sim_source *so;
    const uint64_t n = 20000;

    sim_channel(&ch);
    cr_assert_eq(ch.nak_port, 0, "nak_port is auto by default");
    sim_init(&sim, &ch, 1, &naks_lost, &tx_loss);
    sim_publish(&sim, n, 16);
    cr_assert(sim_drain(&sim, n, S(5)));
    so = sim_source(&sim, 0, 0);
    sc_sub_get_stats(sim.subs[0].sub, &st);
    printf("# %llu NAKs sent, %llu NCFs, %llu packets lost, %llu of them unanswered\n",
           (unsigned long long)st.naks_sent, (unsigned long long)st.ncf_received,
           (unsigned long long)st.lost_packets, (unsigned long long)st.nak_unanswered);
    cr_assert_gt(so->nloss, 1, "the publisher's losses were not lost for this subscriber");
    cr_assert_eq(st.ncf_received, 0);
    cr_assert_eq(sim.subs[0].nak_events, 1, "%u reports", sim.subs[0].nak_events);
    cr_assert_eq(sim.subs[0].nak_reason, SC_NAK_NO_NCF);
    cr_assert_str_eq(sim.subs[0].nak_src.name, so->name);
    cr_assert_eq(sim.subs[0].nak_addr, ip("198.18.0.1"));
    cr_assert_eq(sim.subs[0].nak_port, ch.port, "auto: NAKs go to the data port");
    cr_assert_eq(st.nak_unanswered, st.lost_packets);
    cr_assert_eq(st.nak_unreachable, 0);
    sim_fini(&sim);
}

/* ------------------------------------------------------------ NAK floods */

#define PUB_ADDR "198.18.0.1"
#define SPOOFED 250 /* flood sources: 198.18.100.0 .. 198.18.100.249 */
#define PUB_NAK_PORT(c) sc_channel_nak_port((c), SC_XPORT_PUB) /* where the publisher reads NAKs */

static uint32_t
spoofed(unsigned i)
{
    return htonl(0xc6126400u + i);
}

/* A NAK naming the publisher's session, source NLA (afi, addr), for the wire
 * sequences sqns[0..n) (n <= 63: the rest in OPT_NAK_LIST). */
static int
forge_nak_list(uint8_t *b, size_t cap, const struct sc_channel_cfg *ch, uint16_t afi,
               const uint8_t *nla, const uint32_t *sqns, unsigned n)
{
    struct sc_pgm_pkt k;

    memset(&k, 0, sizeof(k));
    sc_pub_tsi(sim.pub, k.gsi, &k.dport);
    k.sport = ch->pgm_port;
    k.type = SC_PGM_NAK;
    k.nak.sqn = sqns[0];
    k.nak.src.afi = afi;
    memcpy(k.nak.src.addr, nla, afi == SC_PGM_AFI_IP6 ? 16 : 4);
    k.nak.grp.afi = SC_PGM_AFI_IP;
    memcpy(k.nak.grp.addr, &ch->group.s_addr, 4);
    if (n > 1) {
        k.opt.present = SC_PGM_HAS_NAK_LIST;
        k.opt.nak_list_len = (uint8_t)(n - 1);
        memcpy(k.opt.nak_list, sqns + 1, (n - 1) * sizeof(uint32_t));
    }
    return sc_pgm_encode(b, cap, &k);
}

/* n NAKs from random spoofed addresses, each for 63 random sequences the
 * publisher holds (src NLA right: only the budget, the queue and the limits
 * stand in their way) */
static void
flood_in_window(uint64_t *rng, const struct sc_channel_cfg *ch, unsigned n)
{
    uint32_t pub = ip(PUB_ADDR), sqns[63];
    struct sc_pub_stats ps;
    uint8_t b[512];

    sc_pub_get_stats(sim.pub, &ps);
    for (unsigned i = 0; i < n; i++) {
        int len;
        for (unsigned k = 0; k < 63; k++)
            sqns[k] = (uint32_t)(ps.window_trail +
                                 tu_rand(rng) % (ps.window_lead - ps.window_trail + 1));
        len = forge_nak_list(b, sizeof(b), ch, SC_PGM_AFI_IP, (const uint8_t *)&pub, sqns, 63);
        sc_memnet_inject(sim.net, spoofed((unsigned)(tu_rand(rng) % SPOOFED)), 40000, pub,
                         PUB_NAK_PORT(ch), b, (uint16_t)len);
    }
}

/* a NAK for 63 sequences far outside the window, from a spoofed address */
static void
flood_out_of_window(uint64_t *rng, const struct sc_channel_cfg *ch)
{
    uint32_t pub = ip(PUB_ADDR), sqns[63], first = 0x40000000u + (uint32_t)(tu_rand(rng) % 1000000);
    uint8_t b[512];
    int len;

    for (unsigned k = 0; k < 63; k++)
        sqns[k] = first + k;
    len = forge_nak_list(b, sizeof(b), ch, SC_PGM_AFI_IP, (const uint8_t *)&pub, sqns, 63);
    sc_memnet_inject(sim.net, spoofed((unsigned)(tu_rand(rng) % SPOOFED)), 40000, ip(PUB_ADDR),
                     PUB_NAK_PORT(ch), b, (uint16_t)len);
}

/* Every NAK must name the publisher in its source NLA (RFC 3208 s.8.3), as
 * OpenPGM requires: an IPv6 NLA or another IPv4 address gets no NCF and no
 * repair, only a count (they used to be answered: 200 of 200 each). The
 * publisher's own addresses -- the one its SPMs advertise (source) and the one
 * its data comes from -- are accepted. */
Test(hostile, naks_with_a_foreign_or_ipv6_source_nla_are_dropped_and_counted, .timeout = 60)
{
    static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
    struct sc_channel_cfg ch;
    struct sc_pub_stats a, b, c;
    uint32_t foreign = ip("198.18.77.7"), pub = ip(PUB_ADDR), sq;
    uint8_t pkt[512];
    int len;

    sim_channel(&ch);
    inet_pton(AF_INET, "198.18.0.50", &ch.source); /* advertised in SPMs */
    sim_init(&sim, &ch, 1, NULL, NULL);
    sim_publish(&sim, 2000, 64);
    sim_run_for(&sim, 1000000);
    sc_pub_get_stats(sim.pub, &a);
    for (unsigned i = 0; i < 200; i++) {
        sq = (uint32_t)(a.window_trail + i % 8);
        len = forge_nak_list(pkt, sizeof(pkt), &ch, SC_PGM_AFI_IP6, v6, &sq, 1);
        sc_memnet_inject(sim.net, spoofed(i), 40000, pub, PUB_NAK_PORT(&ch), pkt, (uint16_t)len);
        len = forge_nak_list(pkt, sizeof(pkt), &ch, SC_PGM_AFI_IP, (const uint8_t *)&foreign, &sq,
                             1);
        sc_memnet_inject(sim.net, spoofed(i), 40000, pub, PUB_NAK_PORT(&ch), pkt, (uint16_t)len);
        sim_run_for(&sim, 50000);
    }
    sc_pub_get_stats(sim.pub, &b);
    cr_assert_eq(b.nak_bad_nla - a.nak_bad_nla, 400);
    cr_assert_eq(b.naks_received, a.naks_received, "a NAK with a foreign NLA was accepted");
    cr_assert_eq(b.ncf_sent, a.ncf_sent, "%llu NCFs for NAKs with a foreign NLA",
                 (unsigned long long)(b.ncf_sent - a.ncf_sent));
    cr_assert_eq(b.rdata_sent, a.rdata_sent, "%llu repairs for NAKs with a foreign NLA",
                 (unsigned long long)(b.rdata_sent - a.rdata_sent));
    /* the advertised NLA and the data's own source address: served */
    for (unsigned i = 0; i < 2; i++) {
        sq = (uint32_t)(a.window_trail + 20 + i);
        len = forge_nak_list(pkt, sizeof(pkt), &ch, SC_PGM_AFI_IP,
                             (const uint8_t *)(i ? &pub : &ch.source.s_addr), &sq, 1);
        sc_memnet_inject(sim.net, spoofed(i), 40000, pub, PUB_NAK_PORT(&ch), pkt, (uint16_t)len);
        sim_run_for(&sim, 50000);
    }
    sc_pub_get_stats(sim.pub, &c);
    cr_assert_eq(c.naks_received - b.naks_received, 2);
    cr_assert_eq(c.ncf_sent - b.ncf_sent, 2);
    cr_assert_eq(c.rdata_sent - b.rdata_sent, 2);
    cr_assert_eq(c.nak_bad_nla, b.nak_bad_nla);
    sim_fini(&sim);
}

/* 80,000 NAKs for data the publisher holds, in one second, from 250 addresses,
 * 63 sequences each: the NCFs stay within rtx.ncf_rate (each confirming up to
 * 63 sequences, those of one read together) -- they used to be one per NAK,
 * 80,000 multicasts to every receiver. What the limit held back is counted. */
Test(hostile, an_in_window_nak_flood_gets_ncfs_within_the_rate, .timeout = 120)
{
    struct sc_channel_cfg ch;
    struct sc_pub_stats a, b;
    uint64_t rng = 77, ncfs;

    sim_channel(&ch);
    sim_init(&sim, &ch, 1, NULL, NULL);
    sim_publish(&sim, 20000, 64);
    sc_pub_get_stats(sim.pub, &a);
    for (unsigned step = 0; step < 20000; step++) { /* 1 s of 50 us steps, 4 NAKs each */
        sim_publish(&sim, 64, 64);
        flood_in_window(&rng, &ch, 4);
    }
    sim_run_for(&sim, 1000000);
    sc_pub_get_stats(sim.pub, &b);
    ncfs = b.ncf_sent - a.ncf_sent;
    printf("# in-window NAK flood: %llu NAKs (%llu sqns) in 1 s -> %llu NCFs, %llu sqns not "
           "confirmed by the rate, %llu over budget, %llu repairs\n",
           (unsigned long long)(b.naks_received - a.naks_received),
           (unsigned long long)(b.nak_sqns - a.nak_sqns), (unsigned long long)ncfs,
           (unsigned long long)(b.ncf_rate_limited - a.ncf_rate_limited),
           (unsigned long long)(b.nak_over_budget - a.nak_over_budget),
           (unsigned long long)(b.rdata_sent - a.rdata_sent));
    cr_assert_eq(b.naks_received - a.naks_received, 80000, "the flood did not arrive");
    /* 1.05 s at the rate, plus the bucket (1/100 of the rate) */
    cr_assert_leq(ncfs, (uint64_t)ch.rtx.ncf_rate * 105 / 100 + ch.rtx.ncf_rate / 100,
                  "%llu NCFs in 1 s at rtx.ncf_rate %u", (unsigned long long)ncfs,
                  ch.rtx.ncf_rate);
    cr_assert_gt(b.ncf_rate_limited - a.ncf_rate_limited, 0);
    sim_fini(&sim);
}

/* 8,000 NAKs for data no longer held, in one second: an SPM answers them, one
 * per spm.answer_interval (lan 1 ms) -- not one per NAK. */
Test(hostile, out_of_window_naks_get_one_spm_per_interval, .timeout = 120)
{
    struct sc_channel_cfg ch;
    struct sc_pub_stats a, b;
    uint64_t rng = 78, spms, answers_max;

    sim_channel(&ch);
    sim_init(&sim, &ch, 1, NULL, NULL);
    sim_publish(&sim, 64 * 20000, 64); /* a second: past the start-up SPMs */
    sc_pub_get_stats(sim.pub, &a);
    for (unsigned step = 0; step < 20000; step++) { /* 1 s: 8,000 NAKs, 2 every 5 steps */
        sim_publish(&sim, 64, 64);
        if (step % 5 == 0 || step % 5 == 2)
            flood_out_of_window(&rng, &ch);
    }
    sc_pub_get_stats(sim.pub, &b);
    spms = b.spm_sent - a.spm_sent;
    answers_max = 1000000000ull / ch.spm.answer_interval_ns + 1;
    printf("# 8,000 out-of-window NAKs in 1 s: %llu SPMs (%llu requests answered by another's "
           "SPM)\n", (unsigned long long)spms,
           (unsigned long long)(b.spm_answers_held - a.spm_answers_held));
    cr_assert_eq(b.naks_received - a.naks_received, 8000);
    cr_assert_eq(b.nak_out_of_window - a.nak_out_of_window, 8000 * 63);
    cr_assert_leq(spms, answers_max + 20, "%llu SPMs for 8,000 NAKs in a second",
                  (unsigned long long)spms); /* + the heartbeats of a steady stream */
    cr_assert_geq(b.spm_answers_held - a.spm_answers_held, 8000 - answers_max);
    sim_fini(&sim);
}

/* Repairs within rtx.rate, counted as data_rate counts: IP datagram bits.
 * Raw 8-byte messages make 32-byte PGM packets, 60 bytes on the wire: counting
 * only the PGM bytes let 1.9 times the rate out. A flood keeps the repair
 * queue full for one second. */
Test(hostile, repairs_on_the_wire_stay_within_rtx_rate, .timeout = 120)
{
    const uint64_t rate = 1000000, pkt = SC_PGM_HDR_LEN + SC_PGM_DATA_BODY_LEN + 8;
    struct sc_channel_cfg ch;
    struct sc_pub_stats a, b;
    uint64_t rng = 79, bits;

    sim_channel(&ch);
    ch.framing = SC_FRAMING_RAW;
    ch.rtx.rate_bps = rate;
    sim_init(&sim, &ch, 1, NULL, NULL);
    sim.msg_size = 8;
    sim_publish(&sim, 20000, 1);
    sc_pub_get_stats(sim.pub, &a);
    for (unsigned step = 0; step < 20000; step++) {
        sim_publish(&sim, 1, 1);
        flood_in_window(&rng, &ch, 1);
    }
    sc_pub_get_stats(sim.pub, &b);
    bits = (b.rdata_sent - a.rdata_sent) * (pkt + 28) * 8;
    printf("# rtx.rate 1 Mbit/s under a flood: %llu repairs, %llu bits on the wire in 1 s\n",
           (unsigned long long)(b.rdata_sent - a.rdata_sent), (unsigned long long)bits);
    cr_assert_leq(bits, rate + 12000 * 8, "%llu bits of repairs in 1 s at rtx.rate 1 Mbit/s",
                  (unsigned long long)bits); /* + the bucket: a few packets' worth */
    cr_assert_geq(bits, rate * 9 / 10, "the flood did not keep the repairs at the rate");
    sim_fini(&sim);
}

/* The flood of issue 16 -- 250 spoofed addresses, NAKs of 63 sequences for held
 * data (80,000 a second), NAKs for data long gone, NAKs with foreign NLAs,
 * malformed packets -- while two subscribers lose 1 % of what they receive:
 * both get every message, once, in order, repaired in time; each kind of
 * hostile input is counted where it belongs. */
Test(hostile, subscribers_with_real_losses_are_repaired_during_a_nak_flood, .timeout = 300)
{
    struct sc_loss_params lp = { .seed = 31, .drop_ppm = 10000 };
    struct sc_channel_cfg ch;
    struct sc_pub_stats ps;
    uint32_t pub = ip(PUB_ADDR), foreign = ip("198.18.77.7");
    uint64_t rng = 80, sent = 0, lost = 0;
    uint8_t b[1600];

    sim_channel(&ch);
    sim_init(&sim, &ch, 2, &lp, NULL);
    for (unsigned step = 0; step < 20000; step++, sent += 64) { /* 1 s */
        size_t n = 1 + tu_rand(&rng) % 1000;
        uint32_t sq = (uint32_t)step;
        int len;
        sim_publish(&sim, 64, 64);
        flood_in_window(&rng, &ch, 4);
        if (step % 5 == 0 || step % 5 == 2)
            flood_out_of_window(&rng, &ch);
        len = forge_nak_list(b, sizeof(b), &ch, SC_PGM_AFI_IP, (const uint8_t *)&foreign, &sq, 1);
        sc_memnet_inject(sim.net, spoofed(step % SPOOFED), 40000, pub, PUB_NAK_PORT(&ch), b,
                         (uint16_t)len);
        for (size_t i = 0; i < n; i++)
            b[i] = (uint8_t)tu_rand(&rng);
        sc_memnet_inject(sim.net, spoofed(step % SPOOFED), 40000, pub, PUB_NAK_PORT(&ch), b,
                         (uint16_t)n);
    }
    cr_assert(sim_drain(&sim, sent, S(5)), "the subscribers did not catch up");
    for (unsigned i = 0; i < sim.nsubs; i++) {
        struct sim_source *so = sim_source(&sim, i, 0);
        cr_assert_eq(sim.subs[i].order_errors + sim.subs[i].content_errors, 0, "%s",
                     sim.subs[i].first_error);
        cr_assert_eq(so->nloss, 0, "subscriber %u: loss %llu..%llu (reason %d)", i,
                     (unsigned long long)so->loss[0].first, (unsigned long long)so->loss[0].last,
                     so->loss[0].reason);
        cr_assert_eq(so->delivered, sent);
        lost += sc_xport_loss_stats(sim.subs[i].loss_x)->dropped;
    }
    sc_pub_get_stats(sim.pub, &ps);
    printf("# NAK flood (250 addresses): %llu NAKs, %llu sqns (%llu over budget, %llu outside "
           "the window, %llu coalesced, %llu held off, %llu queue full), %llu foreign NLAs, "
           "%llu malformed; %llu NCFs (%llu sqns held back), %llu SPMs (%llu requests served "
           "by another's), %llu repairs; subscribers lost %llu packets, all repaired\n",
           (unsigned long long)ps.naks_received, (unsigned long long)ps.nak_sqns,
           (unsigned long long)ps.nak_over_budget, (unsigned long long)ps.nak_out_of_window,
           (unsigned long long)ps.nak_coalesced, (unsigned long long)ps.nak_held_off,
           (unsigned long long)ps.nak_rtx_overflow, (unsigned long long)ps.nak_bad_nla,
           (unsigned long long)(ps.rx_bad[-SC_PERR_CHECKSUM] + ps.rx_bad[-SC_PERR_SHORT]),
           (unsigned long long)ps.ncf_sent, (unsigned long long)ps.ncf_rate_limited,
           (unsigned long long)ps.spm_sent, (unsigned long long)ps.spm_answers_held,
           (unsigned long long)ps.rdata_sent, (unsigned long long)lost);
    cr_assert_gt(lost, 0, "the loss wrapper lost nothing: the test would prove nothing");
    cr_assert_eq(ps.nak_bad_nla, 20000);
    cr_assert_gt(ps.nak_out_of_window, 0);
    cr_assert_leq(ps.ncf_sent, (uint64_t)ch.rtx.ncf_rate * 2);
    sim_fini(&sim);
}

/* ------------------------------------------------------ MoldUDP64 requests */

#include <malloc.h>

#include "engine/rereq_srv.h"
#include "tests/support/moldrig.h"

static struct rig mrig;

/* Two seconds of hostile requests at a MoldUDP64 publisher carrying a live
 * stream (100,000 msg/s): 2,000 spoofed addresses asking for the most they can
 * (count 65,534: a full packet each, 2.4 times rtx.rate), absurd counts (0 and
 * 65,535), sequence 0 and 2^64-1, another session, datagrams of every wrong
 * length -- 24 a step, most of what the publisher reads -- while an honest
 * listener asks for 10 recent messages every 100 ms. Each kind is counted
 * under its own reason; the live data leaves in the step it was published (the
 * flood does not slow the stream); the responses stay within rtx.rate; the
 * response queue stays within its bound and memory does not grow; the honest
 * listener gets every answer, right, within two rounds of the requesters (the
 * rest of the round being served, then its own; a round is at most one full
 * packet per requester -- 1,025: the table and the shared budget -- 61 ms at
 * 200 Mbit/s; served first come first served, it waited up to 168 ms, the
 * whole queue). */
Test(hostile, mold_request_floods_are_counted_and_bounded_and_honest_requests_answered,
     .timeout = 120)
{
    const uint64_t rtx_rate = 200000000; /* 200 Mbit/s of responses */
    struct sc_pub_stats a, b, st;
    uint64_t rng = 99, sent[6] = { 0 }, asked = 0, queued_max = 0, t0, wait_max = 0;
    uint64_t honest_t[256];
    size_t honest = 0;
    struct mallinfo2 m0, m1;
    uint8_t junk[1500];

    rig_channel(&mrig.ch);
    mrig.ch.rtx.rate_bps = rtx_rate;
    mrig.ch.mold.request_max = 65534;
    rig_init(&mrig, &mrig.ch, NULL, NULL);
    mrig.mcq.discard = true;
    rig_publish(&mrig, 20000);
    rig_run_for(&mrig, RIG_MS);
    sc_pub_get_stats(mrig.pub, &a);
    m0 = mallinfo2();
    t0 = mrig.now;
    for (unsigned step = 0; step < 20000; step++) { /* 2 s of 100 us steps */
        uint64_t lead = mrig.sent;
        for (int k = 0; k < 24; k++) {
            uint32_t from = htonl(0xc6160000u + (uint32_t)(tu_rand(&rng) % 2000));
            uint16_t port = (uint16_t)(1024 + tu_rand(&rng) % 60000);
            unsigned kind = (unsigned)(tu_rand(&rng) % 6);
            switch (kind) {
            case 0: /* the most it may ask for, of held data */
                rig_request(&mrig, from, port, RIG_SESSION, lead - tu_rand(&rng) % 15000, 65534);
                break;
            case 1: /* absurd counts: 0 and 65,535 */
                rig_request(&mrig, from, port, RIG_SESSION, 1 + tu_rand(&rng) % lead,
                            tu_rand(&rng) % 2 ? 0 : 0xFFFF);
                break;
            case 2: /* sequence 0 */
                rig_request(&mrig, from, port, RIG_SESSION, 0, 10);
                break;
            case 3: /* sequence 2^64-1 */
                rig_request(&mrig, from, port, RIG_SESSION, UINT64_MAX, 65534);
                break;
            case 4: /* another session */
                rig_request(&mrig, from, port, "NASDAQ0001", 1 + tu_rand(&rng) % lead, 10);
                break;
            case 5: { /* the wrong length: 0..19, 21..1500 bytes */
                size_t n = tu_rand(&rng) % 1500;
                n += n >= 20;
                for (size_t i = 0; i < n; i++)
                    junk[i] = (uint8_t)tu_rand(&rng);
                memcpy(junk, RIG_SESSION " ", n < 10 ? n : 10);
                rig_inject(&mrig, from, port, junk, (uint16_t)n);
                break;
            }
            }
            sent[kind]++;
        }
        if (step % 1000 == 0) { /* the honest listener, every 100 ms */
            cr_assert_lt(honest, 256);
            rig_request(&mrig, rig_lst(), RIG_LST_PORT, RIG_SESSION, lead - 9, 10);
            honest_t[honest++] = mrig.now;
        }
        rig_publish(&mrig, 10);
        rig_tick(&mrig);
        cr_assert_eq(mrig.mcq.msgs, mrig.sent, "step %u: %llu of %llu messages out", step,
                     (unsigned long long)mrig.mcq.msgs, (unsigned long long)mrig.sent);
        sc_pub_get_stats(mrig.pub, &st);
        if (st.mold_resp_queued > queued_max)
            queued_max = st.mold_resp_queued;
    }
    m1 = mallinfo2();
    rig_run_for(&mrig, 300 * RIG_MS);
    sc_pub_get_stats(mrig.pub, &b);
    asked = sent[0] + sent[1] + sent[2] + sent[3] + sent[4];
    printf("# MoldUDP64 request flood, 2 s: %llu requests (%llu for 65,534 held, %llu absurd "
           "counts, %llu seq 0, %llu seq 2^64-1, %llu other session) + %llu wrong lengths; "
           "%llu answered (%llu messages, %llu bytes), %llu over budget, %llu dropped at the "
           "queue (at most %llu queued), %llu waits for rtx.rate; honest: %zu asked, %zu "
           "answered; heap %+lld bytes\n",
           (unsigned long long)asked, (unsigned long long)sent[0], (unsigned long long)sent[1],
           (unsigned long long)sent[2], (unsigned long long)sent[3], (unsigned long long)sent[4],
           (unsigned long long)sent[5], (unsigned long long)(b.mold_req_answered - a.mold_req_answered),
           (unsigned long long)(b.mold_resp_msgs - a.mold_resp_msgs),
           (unsigned long long)(b.mold_resp_bytes - a.mold_resp_bytes),
           (unsigned long long)(b.mold_req_over_budget - a.mold_req_over_budget),
           (unsigned long long)(b.mold_req_dropped - a.mold_req_dropped),
           (unsigned long long)queued_max,
           (unsigned long long)(b.mold_rate_limited - a.mold_rate_limited), honest,
           mrig.ucq.n, (long long)(m1.uordblks - m0.uordblks));
    /* counted, each under its reason */
    cr_assert_eq(b.mold_requests - a.mold_requests, asked + honest);
    cr_assert_eq(b.mold_req_count_zero + b.mold_req_over_max, sent[1]);
    cr_assert_gt(b.mold_req_count_zero, 0);
    cr_assert_gt(b.mold_req_over_max, 0);
    cr_assert_eq(b.mold_req_seq_zero, sent[2]);
    cr_assert_eq(b.mold_req_not_sent, sent[3]);
    cr_assert_eq(b.mold_req_wrong_session, sent[4]);
    cr_assert_eq(b.rx_bad[-SC_PERR_SHORT] + b.rx_bad[-SC_PERR_LENGTH], sent[5]);
    cr_assert_eq(b.mold_req_answered - a.mold_req_answered + b.mold_req_over_budget +
                     b.mold_req_dropped + b.mold_resp_queued,
                 sent[0] + honest, "a valid request neither answered nor refused");
    cr_assert_gt(b.mold_req_dropped, 0, "the flood never congested the queue");
    /* bounded: the responses within rtx.rate (IP datagram bits; + the bucket),
     * the queue within its size, memory flat */
    cr_assert_leq((b.mold_resp_bytes - a.mold_resp_bytes +
                   28 * (b.mold_req_answered - a.mold_req_answered)) * 8,
                  rtx_rate * (mrig.now - t0) / RIG_S + rtx_rate / 100 + 12000 * 8);
    cr_assert_leq(queued_max, SC_REREQ_QUEUE + SC_REREQ_SHARE * (SC_RTX_RECEIVERS + 1));
    cr_assert_lt(m1.uordblks - m0.uordblks, 256 * 1024, "the heap grew by %zu bytes",
                 m1.uordblks - m0.uordblks);
    /* the honest listener: every request answered, right, in time */
    cr_assert_eq(mrig.ucq.n, honest, "%zu of %zu honest requests answered", mrig.ucq.n, honest);
    for (size_t i = 0; i < honest; i++) {
        char why[160];
        cr_assert(rig_check_blocks(&mrig, &mrig.ucq.p[i], why, sizeof(why)), "%s", why);
        cr_assert_eq(mrig.ucq.p[i].h.count, 10);
        if (mrig.ucq.p[i].t - honest_t[i] > wait_max)
            wait_max = mrig.ucq.p[i].t - honest_t[i];
    }
    printf("# the honest listener waited at most %.1f ms\n", (double)wait_max / 1e6);
    cr_assert_leq(wait_max, 2 * 1025 * 12000 * RIG_S / rtx_rate + RIG_MS);
    rig_fini(&mrig);
}
