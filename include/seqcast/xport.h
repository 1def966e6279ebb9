/* seqcast transports: how a channel's packets reach the network.
 *
 * A transport is an ops table that moves bursts of UDP payloads (PGM or
 * MoldUDP64 packets) with their IPv4 addresses and ports. Publishers and
 * subscribers run on any of them:
 *
 *   udp     kernel sockets (recvmmsg/sendmmsg, UDP GSO/GRO): the default
 *   dpdk    raw Ethernet through a DPDK port (kernel bypass; transport: dpdk)
 *   pcap    a capture read as the network (<seqcast/pcap.h>)
 *
 * and wrappers stack on top of any of them: loss (seeded damage, below),
 * record (every packet to pcap, <seqcast/pcap.h>), or your own. The usual
 * stack of seqcast-sub --loss 2 --record f.pcap:
 *
 *   struct sc_xport *x;
 *   sc_xport_open(&x, &cfg, ch, SC_XPORT_SUB, &err);   // the channel's transport
 *   sc_xport_loss_wrap(&x, x, &loss);                  // damage what arrives
 *   sc_xport_record_wrap(&x, x, &xp, &rec, &err);      // record what the engine sees
 *   sc_sub_create_on(&sub, ch, x, &cb, 0, &err);       // the subscriber owns x now
 *
 * Ownership: a wrap or create_on call owns the transport it is given from the
 * call on -- on success it closes it when it is closed itself, on failure it
 * has closed it before returning. So a failed set-up never leaks and never
 * double-closes, whichever step failed.
 *
 * Addressing is IPv4 (network order) + UDP port (host order). A publisher
 * endpoint receives unicast NAKs/SPMRs on its NAK port (and on the data port,
 * where OpenPGM peers send them) and sends to the group; a subscriber endpoint
 * receives the group's traffic on the data port and sends unicast NAKs.
 */
#ifndef SEQCAST_XPORT_H
#define SEQCAST_XPORT_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <seqcast/config.h>
#include <seqcast/err.h>

#define SC_BURST 32      /* packets per burst, the most any call moves -- unless the
                            transport says more (sc_xport.burst) */
#define SC_BURST_MAX 128 /* the most a transport's burst may be */
#define SC_PKT_MAX 65535

/* tx: data is a buffer of the publisher's window (sc_pkt.flags), for a
 * transport with tx_busy: the SC_XPORT_TX_HEADROOM bytes before data are the
 * transport's own, and the buffer stays as it is until tx_busy says the
 * transport let go of it -- so the transport may send the buffer itself
 * (DPDK: attached to an mbuf) instead of a copy. */
#define SC_PKT_WINDOW 0x1
#define SC_XPORT_TX_HEADROOM 128
/* tx: data is a PGM packet carrying its checksum, so its one's-complement sum
 * is zero: a recorder makes the frame's UDP checksum without reading it */
#define SC_PKT_PGM_CSUM 0x2

struct sc_pkt {
    uint8_t *data;
    uint16_t len;   /* bytes in data */
    uint16_t cap;   /* rx: capacity of data */
    uint32_t addr;  /* rx: sender's address; tx: destination (network order) */
    uint16_t port;  /* rx: sender's port; tx: destination port */
    uint16_t lport; /* rx: the local port it arrived on */
    uint16_t flags; /* tx: SC_PKT_WINDOW, SC_PKT_PGM_CSUM or 0 (a wrapper that copies a
                       packet clears SC_PKT_WINDOW) */
};

/* An error the network returned for a datagram sent earlier (kernel UDP:
 * ICMP destination unreachable, from the sending socket's error queue). */
struct sc_xport_txerr {
    uint32_t addr;      /* the datagram's destination (network order) */
    uint16_t port;      /* its destination port */
    uint8_t icmp_type;  /* 3: destination unreachable */
    uint8_t icmp_code;  /* 3: port unreachable (nothing listens); 0/1: net/host; 13: filtered */
    int err;            /* the errno it maps to, e.g. ECONNREFUSED for port unreachable */
    uint32_t reporter;  /* who sent the ICMP (network order), 0 if unknown */
};

struct sc_xport;

struct sc_xport_ops {
    const char *name;
    /* Fill up to n caller-provided buffers (data/cap set); returns how many. */
    uint16_t (*rx_burst)(struct sc_xport *x, struct sc_pkt *pkts, uint16_t n);
    /* Send up to n packets; returns how many the transport took. The caller
     * keeps the rest (back-pressure). */
    uint16_t (*tx_burst)(struct sc_xport *x, const struct sc_pkt *pkts, uint16_t n);
    /* Optional (raw-Ethernet transports): send n whole Ethernet frames as they
     * are (data/len); returns how many were taken, like tx_burst. NULL if the
     * transport has no link layer of its own (kernel UDP). */
    uint16_t (*tx_frames)(struct sc_xport *x, const struct sc_pkt *frames, uint16_t n);
    /* A descriptor that becomes readable when rx_burst has work; NULL or -1:
     * none (a poll-mode transport: spin). */
    int (*fd)(const struct sc_xport *x);
    /* Optional: true when rx_burst has packets already taken from the kernel
     * (so fd will not become readable for them): the caller must not block. */
    bool (*rx_pending)(const struct sc_xport *x);
    /* Optional: sleep until rx_burst has work or timeout_ns passes, possibly
     * reading ahead into the transport's own buffers (then rx_pending is true):
     * one system call where waiting on fd and then reading is two. Returns 1
     * if rx_burst has work, 0 on timeout or a signal, -1 if it will not sleep
     * in a read for this wait (the caller polls fd instead, as for NULL). */
    int (*rx_wait)(struct sc_xport *x, uint64_t timeout_ns);
    /* Optional: errors the network returned for datagrams sent earlier, oldest
     * first, each once: fills up to n, returns how many (0: none, or the
     * transport cannot tell -- NULL is the same). A subscriber's kernel UDP
     * transport reports them (IP_RECVERR on its sending socket). */
    uint16_t (*tx_errors)(struct sc_xport *x, struct sc_xport_txerr *errs, uint16_t n);
    /* Optional: the transport sends SC_PKT_WINDOW packets in place (zero copy);
     * true while it still holds the window buffer whose packet starts at data
     * (a device has not finished with it): the publisher neither reuses nor
     * rewrites that buffer until it is false. NULL: every packet is copied,
     * the window needs no headroom. */
    bool (*tx_busy)(struct sc_xport *x, const uint8_t *data);
    /* Optional, a pair (receive in place): as rx_burst (cap, set by the
     * caller, is the most it takes: a longer packet is dropped and counted
     * rx_truncated), but each packet's data points into the transport's own
     * buffer, lent until rx_release, which the caller calls before its next
     * rx_lend or rx_burst. A caller that keeps a packet past that copies it.
     * NULL: the caller reads with rx_burst (kernel UDP). */
    uint16_t (*rx_lend)(struct sc_xport *x, struct sc_pkt *pkts, uint16_t n);
    void (*rx_release)(struct sc_xport *x);
    /* Release everything (a wrapper: its own state; see sc_xport_wrap_init). */
    void (*close)(struct sc_xport *x);
};

struct sc_xport_stats {
    uint64_t rx_pkts, rx_bytes, rx_truncated;
    uint64_t tx_pkts, tx_bytes, tx_dropped; /* dropped: the kernel/queue refused them */
    uint64_t tx_gso_sends;    /* kernel UDP: sends that carried a run of packets (UDP GSO) */
    uint64_t gso_disabled;    /* kernel UDP: 1 if the kernel refused GSO and it was turned off */
    uint64_t rx_gro_msgs;     /* kernel UDP: reads that carried a run of datagrams (UDP GRO) */
    uint64_t tx_calls;        /* sc_xport_tx calls (counted here, for every transport) */
    uint64_t rcvbuf_requested, rcvbuf_effective;
    /* raw-Ethernet transports */
    uint64_t rx_filtered;     /* frames not for us: other groups, ports, protocols */
    uint64_t rx_malformed;    /* frames that failed Ethernet/IPv4/UDP parsing */
    uint64_t arp_replies;     /* ARP answered for our own address */
    uint64_t tx_no_mbuf;      /* mbuf pool exhausted */
    uint64_t tx_no_neighbour; /* unicast to an address whose MAC is not known yet (ARP sent) */
    uint64_t tx_zero_copy;    /* packets sent from the window's buffer itself, not a copy */
    /* the record wrapper (<seqcast/pcap.h>, struct sc_record_stats) */
    uint64_t record_packets, record_dropped, record_waited, record_write_errors;
};

/* Every transport starts with this (a wrapper's copy of the innermost
 * transport's stats is kept current by the forwarding ops). */
struct sc_xport {
    const struct sc_xport_ops *ops;
    uint32_t local_addr; /* the unicast address peers reach us at (network order) */
    uint16_t local_port; /* the port our datagrams leave from (0: not known until sent) */
    uint16_t burst;      /* the most packets a call to it moves, up to SC_BURST_MAX
                            (DPDK: dpdk.burst); 0: SC_BURST. The engine's sends and a
                            subscriber's reads come in bursts of this size */
    struct sc_xport_stats st;
};

enum sc_xport_role {
    SC_XPORT_PUB = 0,
    SC_XPORT_SUB,
    SC_XPORT_SEND_ONLY, /* udp: one unbound socket with the multicast options, nothing
                           received (seqcast-replay); other transports treat it as PUB */
};

/* What a transport needs to know of a channel (sc_xport_params_from). */
struct sc_xport_params {
    enum sc_xport_role role;
    uint32_t group;     /* network order */
    uint32_t group_b;   /* the B line, 0 = none (subscriber: joins both) */
    uint16_t port;      /* multicast data port */
    uint16_t nak_port;  /* unicast NAK port: where a publisher listens, where a subscriber
                           sends (nak_port: auto resolved for the role; never 0) */
    uint32_t interface; /* network order */
    uint8_t ttl;
    bool loop;
    bool gso;
    bool sub_unicast; /* subscriber: also receive unicast where its requests leave from
                         (MoldUDP64 answers; kernel UDP: the sending socket, bound to an
                         ephemeral port; DPDK: its address at a port of its own) */
    uint64_t rcvbuf, sndbuf;
    uint32_t window; /* publisher: packets its window holds (window.packets); DPDK zero copy
                        keeps an mbuf attached to each buffer */
};

/* The channel's transport for a role: kernel UDP, or DPDK (cfg->dpdk) when
 * the channel says transport: dpdk. @return 0, or a negative errno with err
 * saying what failed (the port is in use, no such interface address, DPDK
 * not built in, ...). */
int sc_xport_open(struct sc_xport **out, const struct sc_config *cfg,
                  const struct sc_channel_cfg *ch, enum sc_xport_role role, struct sc_err *err);

/* The transport description of a channel for a role. */
void sc_xport_params_from(struct sc_xport_params *x, const struct sc_channel_cfg *ch,
                          enum sc_xport_role role);

/* ------------------------------------------------------------------ calls */

/* The transport's burst (sc_xport.burst), SC_BURST when it says none */
static inline unsigned
sc_xport_burst(const struct sc_xport *x)
{
    return x->burst && x->burst <= SC_BURST_MAX ? x->burst : SC_BURST;
}

/* Receive in place (the rx_lend/rx_release pair; the caller checked rx_lend) */
static inline uint16_t
sc_xport_rx_lend(struct sc_xport *x, struct sc_pkt *p, uint16_t n)
{
    return x->ops->rx_lend(x, p, n);
}

static inline void
sc_xport_rx_release(struct sc_xport *x)
{
    x->ops->rx_release(x);
}

static inline bool
sc_xport_rx_pending(const struct sc_xport *x)
{
    return x->ops->rx_pending && x->ops->rx_pending(x);
}

static inline uint16_t
sc_xport_rx(struct sc_xport *x, struct sc_pkt *p, uint16_t n)
{
    return x->ops->rx_burst(x, p, n);
}

static inline uint16_t
sc_xport_tx(struct sc_xport *x, const struct sc_pkt *p, uint16_t n)
{
    x->st.tx_calls++;
    return x->ops->tx_burst(x, p, n);
}

static inline uint16_t
sc_xport_tx_errors(struct sc_xport *x, struct sc_xport_txerr *errs, uint16_t n)
{
    return x->ops->tx_errors ? x->ops->tx_errors(x, errs, n) : 0;
}

static inline int
sc_xport_fd(const struct sc_xport *x)
{
    return x->ops->fd ? x->ops->fd(x) : -1;
}

/* See tx_busy in struct sc_xport_ops. */
static inline bool
sc_xport_tx_busy(struct sc_xport *x, const uint8_t *data)
{
    return x->ops->tx_busy && x->ops->tx_busy(x, data);
}

/* Sleep until there is something to read or timeout_ns passes: the
 * transport's rx_wait, else a poll on its fd (none: return 0 at once).
 * @return 1 if there is something to read, 0 otherwise. */
static inline int
sc_xport_rx_wait(struct sc_xport *x, uint64_t timeout_ns)
{
    struct pollfd p = { .fd = sc_xport_fd(x), .events = POLLIN };
    struct timespec ts = { (time_t)(timeout_ns / 1000000000u), (long)(timeout_ns % 1000000000u) };
    int r;

    if (sc_xport_rx_pending(x))
        return 1;
    if (x->ops->rx_wait && (r = x->ops->rx_wait(x, timeout_ns)) >= 0)
        return r;
    if (p.fd < 0)
        return 0;
    return ppoll(&p, 1, &ts, NULL) > 0;
}

/* Safe on NULL. */
static inline void
sc_xport_close(struct sc_xport *x)
{
    if (x)
        x->ops->close(x);
}

/* --------------------------------------------------------------- wrappers */

/* The base every wrapper starts with (first member): the transport it hands
 * out, the one it wraps, and its ops with every op it does not define
 * forwarding to the inner transport -- rx_burst, tx_burst, tx_frames, fd,
 * rx_pending, rx_wait, tx_errors, tx_busy (an op the inner transport lacks stays
 * absent), so an op added to the table is never lost behind a wrapper. The
 * forwarders keep x.st a copy of the inner transport's stats. rx_lend and
 * rx_release forward only when the wrapper does not define rx_burst (one that
 * sees what is received must see it all: the record and loss wrappers take
 * the copying read). x.burst is the
 * inner transport's: a wrapper whose own ops take fewer sets it back. */
struct sc_xport_wrap {
    struct sc_xport x;
    struct sc_xport *inner;
    struct sc_xport_ops ops;
    void (*fini)(struct sc_xport *x); /* the wrapper's own close */
};

/* Make w a wrapper of inner with ops (ops->name and the ops it overrides;
 * ops->close, if set, releases the wrapper's own state and may free w). The
 * wrapper's close closes inner first, then runs ops->close. An override may
 * call the inner transport itself through w->inner. */
void sc_xport_wrap_init(struct sc_xport_wrap *w, const struct sc_xport_ops *ops,
                        struct sc_xport *inner);

/* ------------------------------------------------------------------- loss */

/* Seeded impairments, applied to what the endpoint receives (each subscriber
 * sees its own losses, as on a real multicast tree) or, with on_tx, to what it
 * sends (every receiver loses the same packets, as with loss on the sender's
 * link). Deterministic for a given seed and call sequence. A packet held back
 * for reordering goes after the next 1 to reorder_depth packets that pass; a
 * call that passes none (a read that finds nothing, a send of 0 packets)
 * releases one held packet, so none waits forever. */
struct sc_loss_params {
    uint64_t seed;
    uint32_t drop_ppm;    /* independent loss, parts per million */
    uint32_t burst_ppm;   /* chance per packet that a burst of burst_len losses starts */
    uint32_t burst_len;
    uint32_t reorder_ppm; /* chance a packet is held back and delivered after the next ones */
    uint32_t reorder_depth; /* 0 = 3 */
    uint32_t dup_ppm;     /* chance a packet is delivered twice */
    uint64_t cut_from;    /* drop every packet numbered [cut_from, cut_from + cut_count) */
    uint64_t cut_count;   /* (0-based, in the order they pass): an outage of known extent */
    bool on_tx;           /* damage what this endpoint sends instead of what it receives */
};

struct sc_loss_stats {
    uint64_t seen, dropped, burst_dropped, cut, reordered, duplicated;
    uint64_t oversize; /* larger than the wrapper's 2048-byte buffers: dropped (jumbo frames) */
};

/* Wrap inner (owned from the call on). @return 0 or -ENOMEM. */
int sc_xport_loss_wrap(struct sc_xport **out, struct sc_xport *inner,
                       const struct sc_loss_params *p);
/* x must be what sc_xport_loss_wrap returned. */
const struct sc_loss_stats *sc_xport_loss_stats(const struct sc_xport *x);

#endif
