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
    cfg.dpdk.burst = SC_BURST + 1;
    rc = sc_xport_dpdk_open(&x, &p, &cfg.dpdk, &err);
    if (rc == -ENOTSUP)
        cr_skip_test("built without DPDK: %s", err.msg);
    cr_assert_eq(rc, -EINVAL);
    cr_assert(strstr(err.msg, "dpdk.burst 33"), "%s", err.msg);
    cr_assert_lt(sc_config_set(&cfg, "dpdk.burst=64", &err), 0, "the config took 64");
    cr_assert(strstr(err.msg, "32"), "%s", err.msg);
}
