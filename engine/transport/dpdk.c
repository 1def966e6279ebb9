/* DPDK transport: the same PGM/UDP/IPv4 packets, as raw Ethernet frames
 * through a DPDK port (kernel bypass), framed by proto/netframe.
 *
 * EAL is initialised once per process from the config (built-in arguments
 * first: --no-pci, a file prefix of our own, one lcore mapped to the CPUs we
 * may run on, and either --in-memory with hugepages or --no-huge --no-shconf;
 * then the configured extra arguments). The device (a vdev such as
 * net_af_packet0,iface=veth0 or net_memif0,role=server, or a PCI device) is
 * hot-plugged with rte_dev_probe, so several channels can each have theirs.
 *
 * The port: one RX and one TX queue, promiscuous and all-multicast, IPv4
 * checksum offload when the port offers it (software otherwise). RX keeps only
 * frames for us (subscriber: our group and port, and on a MoldUDP64 channel
 * our address at the port its re-requests leave from, where the answers come
 * back; publisher: our address and NAK ports) and counts the rest; it answers ARP for our own address (kernel
 * receivers must reach us with unicast NAKs) and learns peers' MACs from every
 * frame they send. TX returns how many the port took; the caller keeps the rest.
 * Receiving in place (rx_lend, the subscriber's read): the packets' payloads
 * are lent where they are, in their mbufs, until rx_release frees them.
 *
 * dpdk.burst is the most frames per call to the port: one receive reads at most
 * that many (rte_eth_rx_burst), and a send is cut into pieces of at most that
 * many (rte_eth_tx_burst), stopping at the first piece the port does not take
 * whole. It is also the transport's burst (sc_xport.burst): the engine's
 * sends and a subscriber's reads come in bursts of that size, up to
 * SC_BURST_MAX; other callers (seqcast-replay) send SC_BURST at a time.
 *
 * Zero copy (dpdk.tx_zero_copy, a publisher's transport): a packet of the
 * publisher's window (SC_PKT_WINDOW) is not copied into an mbuf. Its frame
 * headers are written into the SC_XPORT_TX_HEADROOM bytes the window keeps in
 * front of it, and the buffer is sent by an mbuf attached to it as an
 * external buffer (rte_pktmbuf_attach_extbuf) at its first send and kept
 * attached: the buffer's own mbuf, whose pointer and shared info live at the
 * start of the headroom (struct zc_room). The transport holds one reference
 * to that mbuf for good, so a device's free only drops the count back to 1 --
 * no detach, no return to the pool; tx_busy is true while the count is above
 * 1. A buffer already out (the B line's copy in the same burst; a device that
 * still holds the packet) is copied instead, as is one whose mbuf the pool
 * (window-sized) could not give. The software PMDs copy or drop what they are
 * given within rte_eth_tx_burst, so their buffers are never busy after it; the
 * buffers' IOVA is their virtual address, which a NIC would need mapped for
 * DMA (not done here: dpdk.tx_zero_copy: false for a NIC).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "engine/compiler.h"
#include "engine/seterr.h"
#include "engine/transport/transport.h"
#include <seqcast/proto/netframe.h>

#define NEIGHBOURS 64
#define HELD 4096 /* zero copy: attached mbufs a device may still hold (a power of two) */

_Static_assert(SC_CFG_DPDK_BURST_MAX <= SC_BURST_MAX, "dpdk.burst above the engine's largest burst");

struct neighbour {
    uint32_t ip;
    uint8_t mac[6];
};

struct dpdk {
    struct sc_xport x;
    struct sc_xport_params p;
    uint16_t port;
    uint16_t burst;
    struct rte_mempool *pool;
    struct rte_mempool *ext_pool; /* zero copy: mbufs without data room, NULL when off */
    /* zero copy: the attached mbufs the port had not let go of when its tx
     * burst returned, oldest first -- none on a software PMD, so tx_busy
     * answers without touching the window's memory (allocated with it) */
    struct rte_mbuf **held;
    unsigned held_head, held_tail;
    uint8_t mac[6];
    bool csum_offload;
    uint16_t ip_id;
    uint16_t uc_port; /* subscriber with sub_unicast: the port requests leave from, 0 = none */
    uint16_t nlent;   /* receive in place: the mbufs of the packets lent, until released */
    struct rte_mbuf *lent[SC_BURST_MAX];
    unsigned nneigh, next_evict;
    struct neighbour neigh[NEIGHBOURS];
    char name[SC_CFG_PATH_MAX];
};

static bool eal_up;

static struct dpdk *
dpdk_of(struct sc_xport *x)
{
    return sc_container_of(x, struct dpdk, x);
}

/* ------------------------------------------------------------------ EAL */

static int
eal_init(const struct sc_dpdk_cfg *d, struct sc_err *err)
{
    static char store[16 + SC_CFG_MAX_EAL_ARGS][SC_CFG_EAL_ARG_MAX]; /* EAL keeps pointers */
    char *argv[16 + SC_CFG_MAX_EAL_ARGS + 1];
    char lcores[120], *o = lcores;
    cpu_set_t set;
    int argc = 0, rc;

    if (eal_up)
        return 0;
    /* one lcore, allowed on every CPU we may run on: EAL pins the calling
     * thread to its lcore, and a pin to CPU 0 would stack every DPDK process
     * of a test machine on one core */
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        o += snprintf(o, sizeof(lcores), "0@(");
        for (int c = 0; c < CPU_SETSIZE && o < lcores + sizeof(lcores) - 8; c++)
            if (CPU_ISSET(c, &set))
                o += snprintf(o, (size_t)(lcores + sizeof(lcores) - o), "%s%d",
                              o[-1] == '(' ? "" : ",", c);
        snprintf(o, (size_t)(lcores + sizeof(lcores) - o), ")");
    } else {
        snprintf(lcores, sizeof(lcores), "0");
    }
#define ARG(...) (snprintf(store[argc], sizeof(store[0]), __VA_ARGS__), argv[argc] = store[argc], argc++)
    ARG("seqcast");
    ARG("--no-pci");
    ARG("--file-prefix=seqcast-%d", (int)getpid());
    ARG("--lcores");
    ARG("%s", lcores);
    ARG("--log-level=4"); /* warnings and worse */
    if (d->no_huge) {
        ARG("--no-huge");
        ARG("--no-shconf");
        ARG("-m");
        ARG("512");
    } else {
        ARG("--in-memory");
    }
    for (uint32_t i = 0; i < d->neal_args; i++)
        ARG("%s", d->eal_args[i]);
#undef ARG
    argv[argc] = NULL;
    rc = rte_eal_init(argc, argv);
    if (rc < 0) {
        rc = rte_errno ? -rte_errno : -EINVAL;
        return sc_err_set(err, rc,
                    "DPDK EAL initialisation failed (%s): without hugepages, set dpdk.no_huge: "
                    "true or reserve them as root with scripts/hugepages.sh",
                    rte_strerror(-rc));
    }
    eal_up = true;
    return 0;
}

/* --------------------------------------------------------------- neighbours */

static void
learn(struct dpdk *d, uint32_t ip, const uint8_t mac[6])
{
    if (sc_ipv4_is_multicast(ip) || ip == 0 || (mac[0] & 1))
        return;
    for (unsigned i = 0; i < d->nneigh; i++)
        if (d->neigh[i].ip == ip) {
            memcpy(d->neigh[i].mac, mac, 6);
            return;
        }
    if (d->nneigh < NEIGHBOURS) {
        d->neigh[d->nneigh].ip = ip;
        memcpy(d->neigh[d->nneigh++].mac, mac, 6);
    } else { /* full: replace round-robin */
        d->neigh[d->next_evict].ip = ip;
        memcpy(d->neigh[d->next_evict].mac, mac, 6);
        d->next_evict = (d->next_evict + 1) % NEIGHBOURS;
    }
}

static const uint8_t *
lookup(const struct dpdk *d, uint32_t ip)
{
    for (unsigned i = 0; i < d->nneigh; i++)
        if (d->neigh[i].ip == ip)
            return d->neigh[i].mac;
    return NULL;
}

static void
send_frame(struct dpdk *d, struct rte_mbuf *m)
{
    if (rte_eth_tx_burst(d->port, 0, &m, 1) != 1) {
        rte_pktmbuf_free(m);
        d->x.st.tx_dropped++;
    }
}

static void
send_arp(struct dpdk *d, uint16_t op, uint32_t tip, const uint8_t tmac[6])
{
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    struct rte_mbuf *m = rte_pktmbuf_alloc(d->pool);
    struct sc_arp a = { .op = op, .spa = d->p.interface, .tpa = tip };
    int n;

    if (!m) {
        d->x.st.tx_no_mbuf++;
        return;
    }
    memcpy(a.sha, d->mac, 6);
    if (tmac)
        memcpy(a.tha, tmac, 6);
    n = sc_arp_build(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_tailroom(m),
                     op == SC_ARP_REQUEST ? bcast : tmac, &a);
    m->data_len = m->pkt_len = (uint32_t)n;
    send_frame(d, m);
    if (op == SC_ARP_REPLY)
        d->x.st.arp_replies++;
}

/* ----------------------------------------------------------------- bursts */

static bool
for_us(const struct dpdk *d, const struct sc_frame *f)
{
    if (d->p.role == SC_XPORT_SUB)
        return (f->udp.dst_ip == d->p.group && f->udp.dst_port == d->p.port) ||
               (d->uc_port && f->udp.dst_ip == d->p.interface && f->udp.dst_port == d->uc_port);
    return f->udp.dst_ip == d->p.interface &&
           (f->udp.dst_port == d->p.nak_port || f->udp.dst_port == d->p.port);
}

/* One received frame: ARP answered, peers learnt, ours described in *p
 * (payload in the mbuf). @return true if it is ours. */
static bool
rx_frame(struct dpdk *d, struct rte_mbuf *mb, struct sc_pkt *p)
{
    struct sc_frame f;
    const uint8_t *frame = rte_pktmbuf_mtod(mb, const uint8_t *);
    /* UDP checksums are not verified: PGM's own (mandatory for data) covers
     * the payload, and frames from a kernel sender on a veth reach
     * AF_PACKET with checksum offload's partial sums */
    int rc = sc_frame_parse_flags(frame, rte_pktmbuf_data_len(mb), &f, SC_NF_NO_UDP_CSUM);

    if (rc < 0) {
        d->x.st.rx_malformed++;
    } else if (f.kind == SC_FRAME_ARP) {
        learn(d, f.arp.spa, f.arp.sha);
        if (f.arp.op == SC_ARP_REQUEST && f.arp.tpa == d->p.interface)
            send_arp(d, SC_ARP_REPLY, f.arp.spa, f.arp.sha);
    } else if (f.kind != SC_FRAME_UDP4) {
        d->x.st.rx_filtered++;
    } else {
        learn(d, f.udp.src_ip, f.src_mac);
        if (!for_us(d, &f)) {
            d->x.st.rx_filtered++;
        } else {
            p->data = (uint8_t *)(uintptr_t)f.payload;
            p->len = f.payload_len;
            p->addr = f.udp.src_ip;
            p->port = f.udp.src_port;
            p->lport = f.udp.dst_port;
            return true;
        }
    }
    return false;
}

/* A burst of our packets: copied into the caller's buffers (lend false: the
 * mbufs freed at once), or lent -- their payloads where they are, in their
 * mbufs, kept (d->lent) until dpdk_rx_release; the rest freed at once. */
static inline uint16_t
rx_burst(struct sc_xport *x, struct sc_pkt *pkts, uint16_t n, bool lend)
{
    struct dpdk *d = dpdk_of(x);
    struct rte_mbuf *m[SC_BURST_MAX];
    uint16_t got, out = 0;

    if (n > d->burst)
        n = d->burst;
    got = rte_eth_rx_burst(d->port, 0, m, n);
    for (uint16_t i = 0; i < got; i++) {
        struct sc_pkt f, *p = &pkts[out];

        if (!rx_frame(d, m[i], &f)) {
            rte_pktmbuf_free(m[i]);
            continue;
        }
        if (f.len > p->cap) {
            x->st.rx_truncated++;
            rte_pktmbuf_free(m[i]);
            continue;
        }
        if (lend) {
            p->data = f.data;
            d->lent[out] = m[i];
        } else {
            memcpy(p->data, f.data, f.len);
            rte_pktmbuf_free(m[i]);
        }
        p->len = f.len;
        p->addr = f.addr;
        p->port = f.port;
        p->lport = f.lport;
        out++;
        x->st.rx_pkts++;
        x->st.rx_bytes += f.len;
    }
    if (lend)
        d->nlent = out;
    return out;
}

static uint16_t
dpdk_rx(struct sc_xport *x, struct sc_pkt *pkts, uint16_t n)
{
    return rx_burst(x, pkts, n, false);
}

static uint16_t
dpdk_rx_lend(struct sc_xport *x, struct sc_pkt *pkts, uint16_t n)
{
    return rx_burst(x, pkts, n, true);
}

static void
dpdk_rx_release(struct sc_xport *x)
{
    struct dpdk *d = dpdk_of(x);

    if (d->nlent)
        rte_pktmbuf_free_bulk(d->lent, d->nlent);
    d->nlent = 0;
}

/* Send the built mbufs m[0..built) (m[k] made from the caller's pkts[from[k]];
 * bit k of zc set when it is attached to the caller's buffer, not a copy);
 * the caller looked at pkts[0..done). @return how many of the caller's packets
 * were taken: all it looked at, or up to the first the port refused (which,
 * and everything after, stay with the caller: back-pressure). */
static uint16_t
tx_built(struct dpdk *d, const struct sc_pkt *pkts, struct rte_mbuf **m, const uint16_t *from,
         uint16_t built, uint16_t done, uint32_t zc)
{
    uint16_t sent = 0;

    while (sent < built) { /* pieces of dpdk.burst */
        uint16_t piece = built - sent < d->burst ? built - sent : d->burst;
        uint16_t took = rte_eth_tx_burst(d->port, 0, m + sent, piece);
        sent += took;
        if (took < piece)
            break; /* the port is full: the rest stays with the caller */
    }

    for (uint16_t i = 0; i < sent; i++) {
        d->x.st.tx_pkts++;
        d->x.st.tx_bytes += pkts[from[i]].len;
    }
    if (zc) {
        zc &= sent < 32 ? (1u << sent) - 1 : ~0u;
        d->x.st.tx_zero_copy += (uint64_t)__builtin_popcount(zc);
        for (; zc; zc &= zc - 1) { /* still the device's: remembered for tx_busy */
            struct rte_mbuf *b = m[__builtin_ctz(zc)];
            if (rte_mbuf_refcnt_read(b) > 1)
                d->held[d->held_tail++ & (HELD - 1)] = b;
        }
    }
    if (sent < built) {
        done = from[sent];
        for (uint16_t i = sent; i < built; i++)
            rte_pktmbuf_free(m[i]);
    }
    return done;
}

/* ------------------------------------------------------------ zero copy */

static void
ext_free(void *addr, void *opaque)
{
    (void)addr;
    (void)opaque; /* never called: the window holds a reference for good */
}

/* At the start of a window buffer's headroom: the mbuf attached to it (NULL
 * until its first send; the window's memory starts zeroed) and the shared
 * info that attachment needs (its free callback never runs: the mbuf is never
 * detached). */
struct zc_room {
    struct rte_mbuf *m;
    struct rte_mbuf_ext_shared_info sh;
};
_Static_assert(sizeof(struct zc_room) + SC_UDP4_FRAME_OVERHEAD <= SC_XPORT_TX_HEADROOM,
               "the headroom holds the room and the frame's headers");

static struct zc_room *
room(const uint8_t *data)
{
    return (struct zc_room *)(uintptr_t)(data - SC_XPORT_TX_HEADROOM);
}

/* The window packet p framed in place, its mbuf with a reference for the
 * port; NULL when it must be copied instead (out already, or no mbuf). */
static struct rte_mbuf *
attach(struct dpdk *d, const struct sc_pkt *p, const struct sc_udp4_meta *meta)
{
    struct zc_room *r = room(p->data);
    uint8_t *f = p->data - SC_UDP4_FRAME_OVERHEAD;
    struct rte_mbuf *b = r->m;
    int len;

    if (unlikely(!b)) { /* the buffer's first send */
        if (!(b = rte_pktmbuf_alloc(d->ext_pool)))
            return NULL;
        r->sh.free_cb = ext_free;
        r->sh.fcb_opaque = NULL;
        rte_mbuf_ext_refcnt_set(&r->sh, 1);
        rte_pktmbuf_attach_extbuf(b, f, (rte_iova_t)(uintptr_t)f,
                                  (uint16_t)(SC_UDP4_FRAME_OVERHEAD + p->len), &r->sh);
        if (d->csum_offload) {
            b->l2_len = SC_ETH_HDR_LEN;
            b->l3_len = SC_IPV4_HDR_LEN;
            b->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
        }
        r->m = b;
    } else if (rte_mbuf_refcnt_read(b) > 1) {
        return NULL; /* out already: its headers must not change under it */
    }
    if (d->held_tail - d->held_head >= HELD - SC_BURST_MAX)
        return NULL; /* the device holds too many to remember another */
    len = sc_udp4_build(f, SC_UDP4_FRAME_OVERHEAD + (size_t)p->len, meta, NULL, p->len,
                        d->csum_offload ? SC_NF_NO_IP_CSUM : 0);
    if (len < 0)
        return NULL;
    b->buf_len = (uint16_t)len;
    b->data_len = b->pkt_len = (uint32_t)len;
    rte_mbuf_refcnt_set(b, 2); /* ours, and the port's until it frees it */
    return b;
}

static bool
dpdk_tx_busy(struct sc_xport *x, const uint8_t *data)
{
    struct dpdk *d = dpdk_of(x);
    const struct rte_mbuf *m;

    if (likely(d->held_head == d->held_tail))
        return false; /* the device holds none */
    rte_eth_tx_done_cleanup(d->port, 0, 0); /* a device that holds sent mbufs: free them */
    while (d->held_head != d->held_tail &&
           rte_mbuf_refcnt_read(d->held[d->held_head & (HELD - 1)]) <= 1)
        d->held_head++;
    m = room(data)->m;
    return d->held_head != d->held_tail && m && rte_mbuf_refcnt_read(m) > 1;
}

/* Returns how many of the caller's packets were taken: sent, or dropped for
 * good (no MAC for the destination yet, or too large to frame). The first
 * packet the port refused, and everything after it, stay with the caller. */
static uint16_t
dpdk_tx(struct sc_xport *x, const struct sc_pkt *pkts, uint16_t n)
{
    struct dpdk *d = dpdk_of(x);
    struct rte_mbuf *m[SC_BURST_MAX];
    uint16_t from[SC_BURST_MAX]; /* the caller's index of each built frame */
    uint16_t built = 0, done = 0;
    uint32_t zc = 0;

    if (n > SC_BURST_MAX)
        n = SC_BURST_MAX;
    for (; done < n; done++) {
        const struct sc_pkt *p = &pkts[done];
        struct sc_udp4_meta meta = { .src_ip = d->p.interface, .dst_ip = p->addr,
                                     .src_port = d->x.local_port,
                                     .dst_port = p->port, .ip_id = d->ip_id++ };
        struct rte_mbuf *b;
        int len;

        memcpy(meta.src_mac, d->mac, 6);
        if (sc_ipv4_is_multicast(p->addr)) {
            sc_mcast_mac(p->addr, meta.dst_mac);
            meta.ttl = d->p.ttl;
        } else {
            const uint8_t *mac = lookup(d, p->addr);
            if (!mac) { /* ask, and drop this one: the protocol retries */
                send_arp(d, SC_ARP_REQUEST, p->addr, NULL);
                x->st.tx_no_neighbour++;
                continue;
            }
            memcpy(meta.dst_mac, mac, 6);
            meta.ttl = 64;
        }
        if (done + 1 < n && (pkts[done + 1].flags & SC_PKT_WINDOW) && d->ext_pool &&
            room(pkts[done + 1].data)->m) /* the next one's mbuf: last used a window ago */
            rte_prefetch0(room(pkts[done + 1].data)->m);
        if ((p->flags & SC_PKT_WINDOW) && d->ext_pool && (b = attach(d, p, &meta))) {
            zc |= 1u << built;
            from[built] = done;
            m[built++] = b;
            continue;
        } else if (!(b = rte_pktmbuf_alloc(d->pool))) {
            x->st.tx_no_mbuf++;
            break; /* the caller keeps this one and the rest */
        } else {
            len = sc_udp4_build(rte_pktmbuf_mtod(b, uint8_t *), rte_pktmbuf_tailroom(b), &meta,
                                p->data, p->len, d->csum_offload ? SC_NF_NO_IP_CSUM : 0);
            if (len < 0) {
                rte_pktmbuf_free(b);
                x->st.tx_dropped++; /* larger than an mbuf: cannot be framed */
                continue;
            }
            b->data_len = b->pkt_len = (uint32_t)len;
        }
        if (d->csum_offload) {
            b->l2_len = SC_ETH_HDR_LEN;
            b->l3_len = SC_IPV4_HDR_LEN;
            b->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
        }
        from[built] = done;
        m[built++] = b;
    }
    return tx_built(d, pkts, m, from, built, done, zc);
}

/* Whole frames, copied as they are (seqcast-replay --raw-frames). */
static uint16_t
dpdk_tx_frames(struct sc_xport *x, const struct sc_pkt *frames, uint16_t n)
{
    struct dpdk *d = dpdk_of(x);
    struct rte_mbuf *m[SC_BURST_MAX];
    uint16_t built = 0, done = 0;
    uint16_t from[SC_BURST_MAX];

    if (n > SC_BURST_MAX)
        n = SC_BURST_MAX;
    for (; done < n; done++) {
        struct rte_mbuf *b;
        if (!(b = rte_pktmbuf_alloc(d->pool))) {
            x->st.tx_no_mbuf++;
            break;
        }
        if (frames[done].len > rte_pktmbuf_tailroom(b)) {
            rte_pktmbuf_free(b);
            x->st.tx_dropped++; /* larger than an mbuf */
            continue;
        }
        memcpy(rte_pktmbuf_mtod(b, uint8_t *), frames[done].data, frames[done].len);
        b->data_len = b->pkt_len = frames[done].len;
        from[built] = done;
        m[built++] = b;
    }
    return tx_built(d, frames, m, from, built, done, 0);
}

static int
dpdk_fd(const struct sc_xport *x)
{
    (void)x;
    return -1; /* poll mode: spin */
}

static void
dpdk_close(struct sc_xport *x)
{
    struct dpdk *d = dpdk_of(x);

    dpdk_rx_release(x);
    rte_eth_dev_stop(d->port);
    rte_eth_dev_close(d->port);
    rte_mempool_free(d->pool);
    rte_mempool_free(d->ext_pool);
    free(d->held);
    free(d);
}

static const struct sc_xport_ops dpdk_ops = {
    .name = "dpdk", .rx_burst = dpdk_rx, .tx_burst = dpdk_tx, .tx_frames = dpdk_tx_frames,
    .fd = dpdk_fd, .rx_lend = dpdk_rx_lend, .rx_release = dpdk_rx_release, .close = dpdk_close,
};

static const struct sc_xport_ops dpdk_zc_ops = { /* a publisher's, with dpdk.tx_zero_copy */
    .name = "dpdk", .rx_burst = dpdk_rx, .tx_burst = dpdk_tx, .tx_frames = dpdk_tx_frames,
    .fd = dpdk_fd, .tx_busy = dpdk_tx_busy, .rx_lend = dpdk_rx_lend,
    .rx_release = dpdk_rx_release, .close = dpdk_close,
};

/* ------------------------------------------------------------------- open */

int
sc_xport_dpdk_open(struct sc_xport **out, const struct sc_xport_params *p,
                   const struct sc_dpdk_cfg *cfg, struct sc_err *err)
{
    struct dpdk *d;
    struct rte_eth_dev_info info;
    struct rte_eth_conf conf;
    struct rte_ether_addr mac;
    char pool_name[RTE_MEMPOOL_NAMESIZE];
    uint16_t nrx = cfg->rx_desc, ntx = cfg->tx_desc;
    int rc, socket;

    if (cfg->burst < 1 || cfg->burst > SC_CFG_DPDK_BURST_MAX)
        return sc_err_set(err, -EINVAL, "dpdk.burst %u: expected 1 to %d (frames per call to the port, "
                                  "at most the engine's largest burst)", cfg->burst, SC_CFG_DPDK_BURST_MAX);
    if ((rc = eal_init(cfg, err)) < 0)
        return rc;
    if (!(d = calloc(1, sizeof(*d))))
        return sc_err_set(err, -ENOMEM, "%s", "out of memory");
    d->x.ops = &dpdk_ops;
    d->x.local_addr = p->interface;
    d->p = *p;
    d->burst = cfg->burst;
    d->x.burst = cfg->burst;
    if (p->role == SC_XPORT_SUB && p->sub_unicast) {
        /* an ephemeral port of our own address (nothing else shares it): the
         * answers to our requests are told from the group's data by it */
        d->uc_port = (uint16_t)(49152 + (getpid() ^ (uintptr_t)d >> 6) % 16384);
        if (d->uc_port == p->port)
            d->uc_port = d->uc_port == 65535 ? 49152 : d->uc_port + 1;
    }
    /* what tx puts in the UDP source port */
    d->x.local_port = p->role != SC_XPORT_SUB ? p->nak_port : d->uc_port ? d->uc_port : p->port;
    if (cfg->device[0]) {
        char *comma;
        snprintf(d->name, sizeof(d->name), "%s", cfg->device);
        if ((comma = strchr(d->name, ',')))
            *comma = '\0';
        rc = rte_dev_probe(cfg->device);
        if (rc < 0 && rc != -EEXIST) {
            free(d);
            return sc_err_set(err, rc, "DPDK: cannot attach device %.180s (check the devargs and that "
                                 "the interface or socket exists)", cfg->device);
        }
        if (rte_eth_dev_get_port_by_name(d->name, &d->port) != 0) {
            free(d);
            return sc_err_set(err, -ENODEV, "DPDK: device %.180s attached, but no ethdev port by that name",
                        cfg->device);
        }
    } else {
        d->port = cfg->port_id;
    }
    if (!rte_eth_dev_is_valid_port(d->port)) {
        free(d);
        return sc_err_set(err, -ENODEV, "DPDK: no port %.180s (set dpdk.device or dpdk.port_id)",
                    cfg->device[0] ? cfg->device : "0");
    }
    socket = rte_eth_dev_socket_id(d->port);
    if (socket < 0)
        socket = 0;
    snprintf(pool_name, sizeof(pool_name), "sc%u_%p", d->port, (void *)d);
    d->pool = rte_pktmbuf_pool_create(pool_name, cfg->mempool_size, cfg->mempool_cache, 0,
                                      RTE_MBUF_DEFAULT_BUF_SIZE, socket);
    if (d->pool && cfg->tx_zero_copy && p->role != SC_XPORT_SUB) {
        /* an mbuf for each window buffer, no data room of their own (the
         * window rounds its size up to a power of two; the cache's share on top) */
        uint32_t n = 16;
        while (n < p->window)
            n <<= 1;
        snprintf(pool_name, sizeof(pool_name), "sx%u_%p", d->port, (void *)d);
        d->ext_pool = rte_pktmbuf_pool_create(pool_name, n + 2 * cfg->mempool_cache + SC_BURST_MAX,
                                              cfg->mempool_cache, 0, 0, socket);
        if (!d->ext_pool) {
            rc = -rte_errno;
            rte_mempool_free(d->pool);
            free(d);
            return sc_err_set(err, rc, "DPDK: cannot create the zero-copy mbuf pool (%s): lower "
                                 "dpdk.mempool_size, give EAL more memory or set "
                                 "dpdk.tx_zero_copy: false", rte_strerror(-rc));
        }
        if (!(d->held = calloc(HELD, sizeof(*d->held)))) {
            rte_mempool_free(d->ext_pool);
            rte_mempool_free(d->pool);
            free(d);
            return sc_err_set(err, -ENOMEM, "%s", "out of memory");
        }
        d->x.ops = &dpdk_zc_ops;
    }
    if (!d->pool) {
        rc = -rte_errno;
        free(d);
        return sc_err_set(err, rc, "DPDK: cannot create an mbuf pool (%s): lower dpdk.mempool_size or "
                             "give EAL more memory", rte_strerror(-rc));
    }
    memset(&conf, 0, sizeof(conf));
    if (rte_eth_dev_info_get(d->port, &info) == 0 &&
        (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM)) {
        conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
        d->csum_offload = true;
    }
    if ((rc = rte_eth_dev_configure(d->port, 1, 1, &conf)) < 0 ||
        (rc = rte_eth_dev_adjust_nb_rx_tx_desc(d->port, &nrx, &ntx)) < 0 ||
        (rc = rte_eth_rx_queue_setup(d->port, 0, nrx, (unsigned)socket, NULL, d->pool)) < 0 ||
        (rc = rte_eth_tx_queue_setup(d->port, 0, ntx, (unsigned)socket, NULL)) < 0 ||
        (rc = rte_eth_dev_start(d->port)) < 0) {
        rte_mempool_free(d->pool);
        rte_mempool_free(d->ext_pool);
        free(d->held);
        free(d);
        return sc_err_set(err, rc, "DPDK: cannot set up the port: %s", rte_strerror(-rc));
    }
    rte_eth_promiscuous_enable(d->port); /* best effort: not every PMD can */
    rte_eth_allmulticast_enable(d->port);
    rte_eth_macaddr_get(d->port, &mac);
    memcpy(d->mac, mac.addr_bytes, 6);
    *out = &d->x;
    return 0;
}
