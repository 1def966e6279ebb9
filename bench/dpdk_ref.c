/* The reference DPDK publisher of make bench (bench/dpdk.sh, issue 22): the
 * practical limit of a publisher of batched messages into a DPDK port, to set
 * the seqcast DPDK publisher's figure against.
 *
 * It sends the packets seqcast-pub sends on a default PGM channel -- ODATA
 * (sc_pgm_encode_odata, its checksum) carrying one MoldUDP64 block of as many
 * --size messages as fit the MTU, in an IPv4/UDP/Ethernet frame whose IPv4
 * checksum is computed or offloaded as engine/transport/dpdk.c does -- with
 * the same application work per message (apps/msggen.c fills the message,
 * sc_mold_enc_add copies it into the block), but builds each packet directly
 * in an mbuf and bursts 32 at a time: no window, no repair, no timers, no
 * copy of a packet, no NAK or SPM, no session close.
 *
 *   dpdk_ref --device DEVARGS [--count N] [--size BYTES] [--mtu BYTES]
 *
 * Prints one JSON line: messages, packets, seconds (first message to the last
 * burst the port took), msgs_per_s. EAL as seqcast's with dpdk.no_huge. */
#include <arpa/inet.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <seqcast/proto/endian.h>
#include <seqcast/proto/mold.h>
#include <seqcast/proto/netframe.h>
#include <seqcast/proto/pgm.h>

#include "apps/msggen.h"

#define BURST 32
#define HDRS (SC_UDP4_FRAME_OVERHEAD + SC_PGM_HDR_LEN + SC_PGM_DATA_BODY_LEN)

static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
usage(void)
{
    fprintf(stderr, "usage: dpdk_ref --device DEVARGS [--count N] [--size BYTES] [--mtu BYTES]\n");
    return 2;
}

int
main(int argc, char **argv)
{
    static const struct option lo[] = { { "device", required_argument, NULL, 'd' },
                                        { "count", required_argument, NULL, 'n' },
                                        { "size", required_argument, NULL, 's' },
                                        { "mtu", required_argument, NULL, 'm' },
                                        { NULL, 0, NULL, 0 } };
    const char *device = NULL;
    uint64_t count = 1000000, size = 32, mtu = 1500;
    static char args[][300] = { "dpdk_ref", "--no-pci", "--file-prefix", "--lcores", "0",
                                "--log-level=4", "--no-huge", "--no-shconf", "-m", "512", "--vdev" };
    char *eal[sizeof(args) / sizeof(args[0]) + 1];
    int c;

    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'd': device = optarg; break;
        case 'n': count = strtoull(optarg, NULL, 10); break;
        case 's': size = strtoull(optarg, NULL, 10); break;
        case 'm': mtu = strtoull(optarg, NULL, 10); break;
        default: return usage();
        }
    }
    if (!device || !count || !size || mtu < 576 || mtu > 9000 ||
        HDRS - SC_ETH_HDR_LEN + SC_MOLD_HDR_LEN + sc_mold_msg_size((uint16_t)size) > mtu)
        return usage();
    {
        /* one lcore allowed on every CPU we may run on, as engine/transport/dpdk.c */
        cpu_set_t set;
        static char lcores[120];
        char *o = lcores;
        if (sched_getaffinity(0, sizeof(set), &set) == 0) {
            o += snprintf(o, sizeof(lcores), "0@(");
            for (int i = 0; i < CPU_SETSIZE && o < lcores + sizeof(lcores) - 8; i++)
                if (CPU_ISSET(i, &set))
                    o += snprintf(o, (size_t)(lcores + sizeof(lcores) - o), "%s%d",
                                  o[-1] == '(' ? "" : ",", i);
            snprintf(o, (size_t)(lcores + sizeof(lcores) - o), ")");
            snprintf(args[4], sizeof(args[4]), "%s", lcores);
        }
    }
    snprintf(args[2], sizeof(args[2]), "--file-prefix=scref-%d", (int)getpid());
    snprintf(args[10], sizeof(args[10]), "--vdev=%.280s", device);
    for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++)
        eal[i] = args[i];
    eal[sizeof(args) / sizeof(args[0])] = NULL;
    if (rte_eal_init((int)(sizeof(args) / sizeof(args[0])), eal) < 0) {
        fprintf(stderr, "dpdk_ref: EAL: %s\n", rte_strerror(rte_errno));
        return 1;
    }

    uint16_t port = 0, nrx = 1024, ntx = 1024;
    struct rte_eth_conf conf;
    struct rte_eth_dev_info info;
    bool offload = false;
    struct rte_mempool *pool = rte_pktmbuf_pool_create("ref", 8191, 256, 0,
                                                       RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    memset(&conf, 0, sizeof(conf));
    if (rte_eth_dev_info_get(port, &info) == 0 &&
        (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM)) {
        conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
        offload = true;
    }
    if (!pool || rte_eth_dev_configure(port, 1, 1, &conf) < 0 ||
        rte_eth_dev_adjust_nb_rx_tx_desc(port, &nrx, &ntx) < 0 ||
        rte_eth_rx_queue_setup(port, 0, nrx, 0, NULL, pool) < 0 ||
        rte_eth_tx_queue_setup(port, 0, ntx, 0, NULL) < 0 || rte_eth_dev_start(port) < 0) {
        fprintf(stderr, "dpdk_ref: cannot set up the port of %s\n", device);
        return 1;
    }

    /* what a default channel's publisher puts in every frame */
    struct sc_udp4_meta meta = { .src_ip = htonl(0xC6120601), .dst_ip = htonl(0xEFC6120B),
                                 .src_port = 34000, .dst_port = 34001, .ttl = 1 };
    struct rte_ether_addr mac;
    uint8_t frame_tmpl[SC_UDP4_FRAME_OVERHEAD], msg[65536];
    const uint8_t gsi[6] = { 1, 2, 3, 4, 5, 6 };
    uint8_t session[SC_MOLD_SESSION_LEN];
    struct sc_pgm_odata_tmpl odata;
    const size_t tsdu_max = mtu - SC_IPV4_HDR_LEN - SC_UDP_HDR_LEN - SC_PGM_HDR_LEN -
                            SC_PGM_DATA_BODY_LEN;

    rte_eth_macaddr_get(port, &mac);
    memcpy(meta.src_mac, mac.addr_bytes, 6);
    sc_mcast_mac(meta.dst_ip, meta.dst_mac);
    sc_udp4_build(frame_tmpl, 2048, &meta, NULL, 0, SC_NF_NO_IP_CSUM);
    memset(session, '0', sizeof(session));
    sc_pgm_odata_tmpl_init(&odata, 40000, 7500, gsi); /* pgm_port: 7500 */

    uint64_t seq = 1, sqn = 0, packets = 0, t0 = now_ns();
    uint16_t ip_id = 0;
    while (seq <= count) {
        struct rte_mbuf *m[BURST];
        unsigned n = 0, sent = 0;
        if (rte_pktmbuf_alloc_bulk(pool, m, BURST) != 0)
            continue; /* the port still holds them: again */
        for (; n < BURST && seq <= count; n++) {
            uint8_t *f = rte_pktmbuf_mtod(m[n], uint8_t *), *ip = f + SC_ETH_HDR_LEN;
            struct sc_mold_enc e;
            size_t tsdu, len;
            sc_mold_enc_init(&e, f + HDRS, tsdu_max, session, seq);
            for (; seq <= count; seq++) {
                size_t l = sc_msggen_size(seq, size);
                sc_msggen_fill(seq, msg, l);
                if (sc_mold_enc_add(&e, msg, (uint16_t)l) != 0)
                    break;
            }
            tsdu = e.len;
            len = SC_UDP4_FRAME_OVERHEAD +
                  sc_pgm_encode_odata(f + SC_UDP4_FRAME_OVERHEAD, &odata, (uint32_t)sqn++, 0,
                                      (uint16_t)tsdu);
            memcpy(f, frame_tmpl, SC_UDP4_FRAME_OVERHEAD);
            sc_store_be16(ip + 2, (uint16_t)(len - SC_ETH_HDR_LEN));
            sc_store_be16(ip + 4, ip_id++);
            sc_store_be16(ip + SC_IPV4_HDR_LEN + 4, (uint16_t)(len - SC_ETH_HDR_LEN - SC_IPV4_HDR_LEN));
            m[n]->data_len = m[n]->pkt_len = (uint32_t)len;
            if (offload) {
                m[n]->l2_len = SC_ETH_HDR_LEN;
                m[n]->l3_len = SC_IPV4_HDR_LEN;
                m[n]->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
            } else {
                sc_store_be16(ip + 10, sc_ipv4_csum(ip, SC_IPV4_HDR_LEN));
            }
        }
        for (unsigned i = n; i < BURST; i++)
            rte_pktmbuf_free(m[i]);
        while (sent < n)
            sent += rte_eth_tx_burst(port, 0, m + sent, (uint16_t)(n - sent));
        packets += n;
    }
    double secs = (double)(now_ns() - t0) / 1e9;
    printf("{\"dpdk_ref\": {\"device\": \"%s\", \"messages\": %llu, \"size\": %llu, \"packets\": %llu, "
           "\"seconds\": %.4f, \"msgs_per_s\": %.0f}}\n",
           device, (unsigned long long)count, (unsigned long long)size,
           (unsigned long long)packets, secs, (double)count / secs);
    rte_eth_dev_stop(port);
    rte_eth_dev_close(port);
    rte_eal_cleanup();
    return 0;
}
