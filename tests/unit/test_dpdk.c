/* The DPDK transport honours dpdk.burst: every rte_eth_rx_burst asks the port
 * for at most that many frames, and a send of the engine's burst reaches
 * rte_eth_tx_burst in pieces of at most that many -- all of them taken, in
 * order. A net_ring port (EAL with --no-huge) loops what it sends back to its
 * receive queue; ethdev callbacks see each call's size. A value the engine
 * cannot use is refused with a message.
 *
 * Run under the heavy lock (DPDK); skipped when built without DPDK or when EAL
 * cannot start here. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <seqcast/config.h>
#include <seqcast/pub.h>
#include <seqcast/sub.h>

#include "engine/transport/transport.h"

/* The few ethdev calls the test needs, declared weak: the test links the
 * library's DPDK objects, but is compiled without DPDK's headers (and with
 * DPDK=0 these are NULL, and the test skips). */
struct rte_mbuf;
typedef uint16_t (*rx_cb_fn)(uint16_t port, uint16_t queue, struct rte_mbuf *pkts[],
                             uint16_t nb_pkts, uint16_t max_pkts, void *user);
typedef uint16_t (*tx_cb_fn)(uint16_t port, uint16_t queue, struct rte_mbuf *pkts[],
                             uint16_t nb_pkts, void *user);
extern const void *rte_eth_add_rx_callback(uint16_t port, uint16_t queue, rx_cb_fn fn, void *user)
    __attribute__((weak));
extern const void *rte_eth_add_tx_callback(uint16_t port, uint16_t queue, tx_cb_fn fn, void *user)
    __attribute__((weak));
extern int rte_eth_dev_get_port_by_name(const char *name, uint16_t *port) __attribute__((weak));

struct calls {
    unsigned n, max; /* calls, and the largest burst asked (rx) or handed (tx) */
    unsigned frames;
};

static uint16_t
on_rx(uint16_t port, uint16_t queue, struct rte_mbuf *pkts[], uint16_t nb_pkts, uint16_t max_pkts,
      void *user)
{
    struct calls *c = user;

    (void)port;
    (void)queue;
    (void)pkts;
    c->n++;
    c->max = max_pkts > c->max ? max_pkts : c->max;
    c->frames += nb_pkts;
    return nb_pkts;
}

static uint16_t
on_tx(uint16_t port, uint16_t queue, struct rte_mbuf *pkts[], uint16_t nb_pkts, void *user)
{
    struct calls *c = user;

    (void)port;
    (void)queue;
    (void)pkts;
    c->n++;
    c->max = nb_pkts > c->max ? nb_pkts : c->max;
    c->frames += nb_pkts;
    return nb_pkts;
}

static void
params(struct sc_xport_params *p)
{
    memset(p, 0, sizeof(*p));
    p->role = SC_XPORT_SUB; /* receives the group's traffic: what it sends comes back */
    p->group = inet_addr("239.198.16.1");
    p->port = 31700;
    p->nak_port = 31701;
    p->interface = inet_addr("198.18.16.1");
    p->ttl = 1;
}

/* Open a net_ring port with this burst, callbacks on its queues. */
static struct sc_xport *
open_ring(const char *dev, uint16_t burst, struct calls *rx, struct calls *tx)
{
    struct sc_config cfg;
    struct sc_xport_params p;
    struct sc_xport *x;
    struct sc_err err = { 0 };
    uint16_t port;
    int rc;

    sc_config_init(&cfg);
    snprintf(cfg.dpdk.device, sizeof(cfg.dpdk.device), "%s", dev);
    cfg.dpdk.no_huge = true;
    cfg.dpdk.burst = burst;
    cfg.dpdk.mempool_size = 1023;
    cfg.dpdk.mempool_cache = 32;
    params(&p);
    rc = sc_xport_dpdk_open(&x, &p, &cfg.dpdk, &err);
    if (rc == -ENOTSUP)
        cr_skip_test("built without DPDK: %s", err.msg);
    if (rc < 0)
        cr_skip_test("DPDK could not start a net_ring port here: %s", err.msg);
    cr_assert_eq(rte_eth_dev_get_port_by_name(dev, &port), 0);
    cr_assert_not_null(rte_eth_add_rx_callback(port, 0, on_rx, rx));
    cr_assert_not_null(rte_eth_add_tx_callback(port, 0, on_tx, tx));
    return x;
}

/* Send SC_BURST packets, numbered, and read them back. */
static void
round_trip(struct sc_xport *x, unsigned *reads)
{
    uint8_t out[SC_BURST][64], in[SC_BURST][2048];
    struct sc_pkt tx[SC_BURST], rx[SC_BURST];
    unsigned got = 0;

    for (unsigned i = 0; i < SC_BURST; i++) {
        memset(out[i], (int)i, sizeof(out[i]));
        tx[i] = (struct sc_pkt){ .data = out[i], .len = sizeof(out[i]),
                                 .addr = inet_addr("239.198.16.1"), .port = 31700 };
    }
    cr_assert_eq(sc_xport_tx(x, tx, SC_BURST), SC_BURST, "the port did not take the burst");
    *reads = 0;
    for (int tries = 0; got < SC_BURST && tries < 1000; tries++) {
        uint16_t n;
        for (unsigned i = 0; i < SC_BURST; i++)
            rx[i] = (struct sc_pkt){ .data = in[i], .cap = sizeof(in[i]) };
        n = sc_xport_rx(x, rx, SC_BURST);
        if (!n)
            continue;
        (*reads)++;
        for (uint16_t i = 0; i < n; i++, got++) {
            cr_assert_eq(rx[i].len, 64);
            cr_assert_eq(rx[i].data[0], got, "frame %u out of order (%u)", got, rx[i].data[0]);
        }
    }
    cr_assert_eq(got, SC_BURST, "%u of %d frames came back", got, SC_BURST);
}

Test(dpdk, the_configured_burst_reaches_the_port, .timeout = 60)
{
    struct calls rx4 = { 0 }, tx4 = { 0 }, rx32 = { 0 }, tx32 = { 0 };
    struct sc_xport *x;
    unsigned reads;

    if (!rte_eth_add_rx_callback || !rte_eth_add_tx_callback || !rte_eth_dev_get_port_by_name)
        cr_skip_test("built without DPDK (no ethdev library linked)");
    x = open_ring("net_ring0", 4, &rx4, &tx4);
    round_trip(x, &reads);
    printf("# dpdk.burst 4: %u rx calls (largest asked %u), %u tx calls (largest %u)\n", rx4.n,
           rx4.max, tx4.n, tx4.max);
    cr_assert_eq(rx4.max, 4, "rte_eth_rx_burst asked for %u frames", rx4.max);
    cr_assert_eq(tx4.max, 4, "rte_eth_tx_burst was handed %u frames", tx4.max);
    cr_assert_eq(tx4.frames, SC_BURST);
    cr_assert_eq(tx4.n, SC_BURST / 4, "%u pieces for a burst of %d", tx4.n, SC_BURST);
    cr_assert_eq(reads, SC_BURST / 4, "%u reads returned frames", reads);
    sc_xport_close(x);

    x = open_ring("net_ring1", 32, &rx32, &tx32); /* the default: the engine's whole burst */
    round_trip(x, &reads);
    cr_assert_eq(rx32.max, 32);
    cr_assert_eq(tx32.max, 32);
    cr_assert_eq(tx32.n, 1);
    cr_assert_eq(reads, 1);
    sc_xport_close(x);
}

/* Refused before anything starts (the config's range says the same). */
Test(dpdk, a_burst_the_engine_cannot_use_is_refused)
{
    struct sc_config cfg;
    struct sc_xport_params p;
    struct sc_xport *x;
    struct sc_err err = { 0 };
    int rc;

    sc_config_init(&cfg);
    params(&p);
    cfg.dpdk.burst = SC_BURST_MAX + 1;
    rc = sc_xport_dpdk_open(&x, &p, &cfg.dpdk, &err);
    if (rc == -ENOTSUP)
        cr_skip_test("built without DPDK: %s", err.msg);
    cr_assert_eq(rc, -EINVAL);
    cr_assert(strstr(err.msg, "dpdk.burst 129"), "%s", err.msg);
    cr_assert_lt(sc_config_set(&cfg, "dpdk.burst=129", &err), 0, "the config took 129");
    cr_assert(strstr(err.msg, "128"), "%s", err.msg);
    cr_assert_lt(sc_config_set(&cfg, "dpdk.burst=0", &err), 0, "the config took 0");
    cr_assert_eq(sc_config_set(&cfg, "dpdk.burst=128", &err), 0, "%s", err.msg);
    cr_assert_eq(cfg.dpdk.burst, 128);
}

static void
drop_msg(void *ctx, const struct sc_source *src, uint64_t seq, const void *msg, size_t len)
{
    (void)ctx;
    (void)src;
    (void)seq;
    (void)msg;
    (void)len;
}

/* dpdk.burst is the engine's burst too: a publisher on the port queues and
 * sends that many packets at a time (one rte_eth_tx_burst of 64, where the
 * engine's fixed burst made two of 32), and a subscriber's read asks the port
 * for that many. */
Test(dpdk, the_engine_sends_and_reads_in_bursts_of_dpdk_burst, .timeout = 60)
{
    struct calls rx = { 0 }, tx = { 0 }, srx = { 0 }, stx = { 0 };
    struct sc_config cfg;
    struct sc_channel_cfg ch;
    struct sc_sub_callbacks cb = { .on_msg = drop_msg };
    struct sc_pub *pub;
    struct sc_sub *sub;
    struct sc_xport *x;
    struct sc_err err = { 0 };
    uint8_t msg[64] = { 0 };

    if (!rte_eth_add_rx_callback || !rte_eth_add_tx_callback || !rte_eth_dev_get_port_by_name)
        cr_skip_test("built without DPDK (no ethdev library linked)");
    sc_config_init(&cfg);
    ch = cfg.channels[0];
    ch.group.s_addr = inet_addr("239.198.16.1");
    ch.port = 31700;
    ch.nak_port = 31701;
    ch.interface.s_addr = inet_addr("198.18.16.1");
    ch.framing = SC_FRAMING_RAW; /* a packet a message */

    x = open_ring("net_ring4", 64, &rx, &tx);
    cr_assert_eq(sc_xport_burst(x), 64);
    cr_assert_eq(sc_pub_create_on(&pub, &ch, x, 5, &err), 0, "%s", err.msg);
    sc_pub_do_work(pub, 1000000000u); /* the two SPMs, each alone */
    tx.max = 0;
    for (unsigned i = 0; i < 100; i++)
        cr_assert_geq(sc_pub_send(pub, msg, sizeof(msg), 1000000000u), 0);
    sc_pub_do_work(pub, 1000000000u);
    printf("# dpdk.burst 64: the publisher handed the port %u frames in one call, %u in all\n",
           tx.max, tx.frames);
    cr_assert_eq(tx.max, 64, "the publisher's largest send was %u packets", tx.max);
    sc_pub_destroy(pub);

    x = open_ring("net_ring5", 64, &srx, &stx);
    cr_assert_eq(sc_sub_create_on(&sub, &ch, x, &cb, 7, &err), 0, "%s", err.msg);
    sc_sub_do_work(sub, 1000000000u);
    cr_assert_eq(srx.max, 64, "the subscriber's read asked for %u frames", srx.max);
    sc_sub_destroy(sub);
}

/* Receive in place: rx_lend hands out the frames' payloads in their mbufs --
 * the bytes sent, in order -- and rx_release frees them: 1,000,000 packets
 * through a pool of 1,023 mbufs, which a leak of one mbuf a burst would empty
 * within 32 bursts (the port would then refuse the sends). A packet over the
 * caller's cap is dropped and counted. */
Test(dpdk, lent_packets_are_the_bytes_sent_and_their_mbufs_come_back, .timeout = 120)
{
    struct calls rx = { 0 }, tx = { 0 };
    uint8_t out[SC_BURST][64];
    struct sc_pkt t[SC_BURST], l[SC_BURST];
    struct sc_xport *x;
    uint64_t got = 0, sent = 0;

    if (!rte_eth_add_rx_callback || !rte_eth_add_tx_callback || !rte_eth_dev_get_port_by_name)
        cr_skip_test("built without DPDK (no ethdev library linked)");
    x = open_ring("net_ring6", 32, &rx, &tx);
    cr_assert_not_null(x->ops->rx_lend);
    cr_assert_not_null(x->ops->rx_release);
    for (unsigned i = 0; i < SC_BURST; i++)
        t[i] = (struct sc_pkt){ .data = out[i], .len = sizeof(out[i]),
                                .addr = inet_addr("239.198.16.1"), .port = 31700 };
    while (sent < 1000000) {
        for (unsigned i = 0; i < SC_BURST; i++) {
            uint64_t k = sent + i;
            memset(out[i], (int)(k * 13), sizeof(out[i]));
            memcpy(out[i], &k, sizeof(k));
        }
        cr_assert_eq(sc_xport_tx(x, t, SC_BURST), SC_BURST, "the port refused a send after %llu "
                     "packets (%llu mbufs short)", (unsigned long long)sent,
                     (unsigned long long)x->st.tx_no_mbuf);
        sent += SC_BURST;
        for (int tries = 0; got < sent && tries < 100; tries++) {
            uint16_t n;
            for (unsigned i = 0; i < SC_BURST; i++)
                l[i] = (struct sc_pkt){ .cap = 2048 };
            n = sc_xport_rx_lend(x, l, SC_BURST);
            for (uint16_t i = 0; i < n; i++, got++) {
                uint64_t k;
                cr_assert_eq(l[i].len, 64);
                memcpy(&k, l[i].data, sizeof(k));
                cr_assert_eq(k, got, "packet %llu lent as %llu", (unsigned long long)got,
                             (unsigned long long)k);
                cr_assert_eq(l[i].data[63], (uint8_t)(got * 13));
            }
            sc_xport_rx_release(x);
        }
        cr_assert_eq(got, sent, "%llu of %llu lent back", (unsigned long long)got,
                     (unsigned long long)sent);
    }
    cr_assert_eq(x->st.rx_pkts, sent);
    for (unsigned i = 0; i < SC_BURST; i++)
        l[i] = (struct sc_pkt){ .cap = 63 };
    cr_assert_eq(sc_xport_tx(x, t, 1), 1);
    cr_assert_eq(sc_xport_rx_lend(x, l, SC_BURST), 0, "a packet over the cap was lent");
    sc_xport_rx_release(x);
    cr_assert_eq(x->st.rx_truncated, 1);
    sc_xport_close(x);
}

/* A buffer laid out as the publisher's window keeps it for a zero-copy
 * transport: SC_XPORT_TX_HEADROOM bytes in front of the packet. */
struct wbuf {
    _Alignas(64) uint8_t room[SC_XPORT_TX_HEADROOM];
    uint8_t data[256];
};

static struct sc_xport *
open_pub(const char *dev, bool zero_copy)
{
    struct sc_config cfg;
    struct sc_xport_params p;
    struct sc_xport *x;
    struct sc_err err = { 0 };
    int rc;

    sc_config_init(&cfg);
    snprintf(cfg.dpdk.device, sizeof(cfg.dpdk.device), "%s", dev);
    cfg.dpdk.no_huge = true;
    cfg.dpdk.mempool_size = 1023;
    cfg.dpdk.mempool_cache = 32;
    cfg.dpdk.tx_zero_copy = zero_copy;
    params(&p);
    p.role = SC_XPORT_PUB;
    rc = sc_xport_dpdk_open(&x, &p, &cfg.dpdk, &err);
    if (rc == -ENOTSUP)
        cr_skip_test("built without DPDK: %s", err.msg);
    if (rc < 0)
        cr_skip_test("DPDK could not start a net_ring port here: %s", err.msg);
    return x;
}

/* Read until n packets came back (packet k checked against w[k % SC_BURST]),
 * or give up; n = 0: read a few times (what comes is filtered). */
static unsigned
read_back(struct sc_xport *x, struct wbuf *w, unsigned n)
{
    static uint8_t in[SC_BURST][2048];
    struct sc_pkt rx[SC_BURST];
    unsigned got = 0;

    for (int tries = 0; (n ? got < n : tries < 10) && tries < 1000; tries++) {
        uint16_t k;
        for (unsigned i = 0; i < SC_BURST; i++)
            rx[i] = (struct sc_pkt){ .data = in[i], .cap = sizeof(in[i]) };
        k = sc_xport_rx(x, rx, SC_BURST);
        for (uint16_t i = 0; i < k; i++, got++) {
            const struct wbuf *e = &w[got % SC_BURST];
            cr_assert_eq(rx[i].len, sizeof(e->data));
            cr_assert(memcmp(rx[i].data, e->data, sizeof(e->data)) == 0,
                      "packet %u came back changed", got);
        }
    }
    return got;
}

/* dpdk.tx_zero_copy: window packets leave attached, not copied. A net_ring
 * port holds what it is sent in its ring until it is read back -- as a NIC
 * holds a packet until it is on the wire -- so tx_busy is true for exactly
 * that time, and a buffer sent again while out is copied (its headers must not
 * change under the first send). The first frame, multicast, comes back to
 * teach the port its own MAC, so the rest can go to its own address (the
 * publisher's NAK port: kept by its RX filter). */
Test(dpdk, window_packets_leave_attached_and_busy_until_the_port_lets_go, .timeout = 60)
{
    static struct wbuf w[SC_BURST];
    struct sc_pkt tx[SC_BURST];
    struct sc_xport *x;

    if (!rte_eth_dev_get_port_by_name)
        cr_skip_test("built without DPDK (no ethdev library linked)");
    x = open_pub("net_ring2", true);
    cr_assert_not_null(x->ops->tx_busy, "a zero-copy publisher's transport has tx_busy");
    for (unsigned i = 0; i < SC_BURST; i++) {
        for (unsigned j = 0; j < sizeof(w[i].data); j++)
            w[i].data[j] = (uint8_t)(i * 7 + j);
        tx[i] = (struct sc_pkt){ .data = w[i].data, .len = sizeof(w[i].data),
                                 .addr = inet_addr("198.18.16.1"), .port = 31701,
                                 .flags = SC_PKT_WINDOW };
    }
    tx[0].addr = inet_addr("239.198.16.1"); /* learn our MAC from our own frame */
    cr_assert_eq(sc_xport_tx(x, tx, 1), 1);
    cr_assert(sc_xport_tx_busy(x, w[0].data), "out in the ring, yet not busy");
    cr_assert_eq(read_back(x, w, 0), 0);
    cr_assert_not(sc_xport_tx_busy(x, w[0].data), "read back (filtered), yet still busy");
    cr_assert_eq(x->st.tx_zero_copy, 1);

    tx[0].addr = inet_addr("198.18.16.1");
    cr_assert_eq(sc_xport_tx(x, tx, SC_BURST), SC_BURST);
    cr_assert_eq(x->st.tx_zero_copy, 1 + SC_BURST, "%llu sent attached",
                 (unsigned long long)x->st.tx_zero_copy);
    for (unsigned i = 0; i < SC_BURST; i++)
        cr_assert(sc_xport_tx_busy(x, w[i].data), "packet %u out in the ring, yet not busy", i);
    cr_assert_eq(sc_xport_tx(x, tx, 1), 1, "a busy buffer sent again");
    cr_assert_eq(x->st.tx_zero_copy, 1 + SC_BURST, "a busy buffer was attached twice");
    cr_assert_eq(read_back(x, w, SC_BURST + 1), SC_BURST + 1, "not every packet came back");
    for (unsigned i = 0; i < SC_BURST; i++)
        cr_assert_not(sc_xport_tx_busy(x, w[i].data), "packet %u read back, yet busy", i);
    sc_xport_close(x);
}

/* dpdk.tx_zero_copy: false -- every packet copied, no tx_busy (the window
 * keeps no headroom), the same bytes arrive. */
Test(dpdk, without_tx_zero_copy_every_packet_is_copied, .timeout = 60)
{
    static struct wbuf w[2];
    struct sc_pkt tx[2];
    struct sc_xport *x;

    if (!rte_eth_dev_get_port_by_name)
        cr_skip_test("built without DPDK (no ethdev library linked)");
    x = open_pub("net_ring3", false);
    cr_assert_null(x->ops->tx_busy);
    for (unsigned i = 0; i < 2; i++) {
        memset(w[i].data, 0x40 + (int)i, sizeof(w[i].data));
        tx[i] = (struct sc_pkt){ .data = w[i].data, .len = sizeof(w[i].data),
                                 .addr = inet_addr("198.18.16.1"), .port = 31701,
                                 .flags = SC_PKT_WINDOW };
    }
    tx[0].addr = inet_addr("239.198.16.1");
    cr_assert_eq(sc_xport_tx(x, tx, 1), 1);
    read_back(x, w, 0);
    tx[0].addr = inet_addr("198.18.16.1");
    cr_assert_eq(sc_xport_tx(x, tx, 2), 2);
    cr_assert_eq(read_back(x, w, 2), 2);
    cr_assert_eq(x->st.tx_zero_copy, 0);
    sc_xport_close(x);
}
