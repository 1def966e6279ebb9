/* Kernel UDP transport: recvmmsg/sendmmsg bursts.
 *
 * Publisher: one socket bound to INADDR_ANY:nak_port sends everything (ODATA,
 * RDATA, NCF, SPM to the group) and receives unicast NAKs/SPMRs; when port
 * differs from nak_port a second socket on INADDR_ANY:port takes NAKs from
 * OpenPGM-style peers, which send them to the data port. Both set
 * IP_MULTICAST_ALL=0: they never join the group, and without it Linux would
 * hand them every group datagram that any socket on the host joined.
 *
 * Subscriber: one socket bound to group:port and joined on the configured
 * interface receives the feed. Binding to the group address (not INADDR_ANY)
 * means a unicast NAK sent to this host's port can never land on a
 * subscriber's socket -- the failure OpenPGM has when publisher and subscriber
 * share a host and a port. A second socket, bound to an ephemeral port at
 * open (x.local_port), sends our NAKs, with IP_RECVERR: an ICMP error for a
 * NAK (nothing listens on the port NAKed, the host is unreachable) is queued
 * on it and read back by tx_errors -- how a subscriber learns that its NAKs go
 * nowhere. On a MoldUDP64 channel (sub_unicast) that socket is read as well
 * (rx[1]): re-request servers answer by unicast to where the request came
 * from. A PGM subscriber never reads it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/compiler.h"
#include "engine/transport/transport.h"

/* UDP GRO on the subscriber's socket (UDP_GRO, Linux >= 5.0): the kernel may
 * hand over a run of datagrams of one flow as one, with their size in a control
 * message -- on loopback and veth the publisher's GSO runs arrive so, never cut
 * up. They are read into the transport's own buffers and copied out one
 * datagram per packet buffer; what the caller had no room for waits here
 * (rx_pending) for the next call. */
#define GRO_MSGS 8
#define GRO_BUF 65536

struct gro_msg {
    uint32_t len, addr; /* addr: network order */
    uint16_t seg, port; /* seg: datagram size, 0 = one datagram */
};

/* recvmmsg's arguments for the GRO buffers, built once (a busy-polling
 * subscriber calls rx_burst millions of times a second, mostly for nothing) */
struct gro_io {
    uint8_t buf[GRO_MSGS][GRO_BUF];
    struct mmsghdr mh[GRO_MSGS];
    struct iovec iov[GRO_MSGS];
    struct sockaddr_in from[GRO_MSGS];
    _Alignas(struct cmsghdr) char cbuf[GRO_MSGS][CMSG_SPACE(sizeof(int))];
};

struct udp {
    struct sc_xport x;
    bool gro;                 /* subscriber: UDP_GRO is on */
    struct gro_io *gio;
    struct gro_msg gm[GRO_MSGS];
    unsigned gro_n, gro_cur;  /* messages held, the one being split */
    uint32_t gro_off;         /* where its next datagram starts */
    bool gro_short;           /* the read that filled them came back short (socket empty) */
    bool blocking;            /* rx[0]'s O_NONBLOCK is off (reads pass MSG_DONTWAIT) */
    uint32_t rcvtimeo_ms;     /* rx[0]'s SO_RCVTIMEO while blocking (a power of two) */
    int rx[2];   /* receive sockets, -1 if unused */
    uint16_t rx_port[2];
    int tx;      /* the socket we send from */
    bool recverr; /* tx has IP_RECVERR (subscriber): ICMP errors queue on it */
    bool gso;    /* send runs of equal datagrams with UDP_SEGMENT */
    int epfd;    /* readable when any rx socket is */
};

static struct udp *
udp_of(struct sc_xport *x)
{
    return sc_container_of(x, struct udp, x);
}

static int
fail(struct sc_err *err, int code, const char *what, const struct sc_xport_params *p)
{
    char g[INET_ADDRSTRLEN], i[INET_ADDRSTRLEN];

    if (err) {
        inet_ntop(AF_INET, &p->group, g, sizeof(g));
        inet_ntop(AF_INET, &p->interface, i, sizeof(i));
        err->code = code;
        snprintf(err->msg, sizeof(err->msg), "udp %s:%u (interface %s, NAK port %u): %s: %s", g,
                 p->port, i, p->nak_port, what, strerror(-code));
    }
    return code;
}

static int
set_int(int fd, int level, int opt, int v)
{
    return setsockopt(fd, level, opt, &v, sizeof(v)) < 0 ? -errno : 0;
}

static int
sized_buffers(int fd, const struct sc_xport_params *p, struct sc_xport_stats *st)
{
    int v = 0;
    socklen_t l = sizeof(v);

    /* SO_*BUFFORCE goes past net.core.*mem_max when we are allowed to */
    if (p->rcvbuf && set_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, (int)p->rcvbuf) < 0)
        set_int(fd, SOL_SOCKET, SO_RCVBUF, (int)p->rcvbuf);
    if (p->sndbuf && set_int(fd, SOL_SOCKET, SO_SNDBUFFORCE, (int)p->sndbuf) < 0)
        set_int(fd, SOL_SOCKET, SO_SNDBUF, (int)p->sndbuf);
    if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &l) == 0) {
        st->rcvbuf_requested = p->rcvbuf;
        st->rcvbuf_effective = (uint64_t)v / 2; /* the kernel reports double */
    }
    return 0;
}

static int
open_socket(const struct sc_xport_params *p, uint32_t bind_addr, uint16_t port, bool reuse,
            struct sc_xport_stats *st, const char **what)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), rc;

    *what = "socket";
    if (fd < 0)
        return -errno;
    sa.sin_addr.s_addr = bind_addr;
    if (reuse && (rc = set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1)) < 0) {
        *what = "SO_REUSEADDR";
        goto out_close;
    }
    /* only traffic of groups this socket joined itself */
    if ((rc = set_int(fd, IPPROTO_IP, IP_MULTICAST_ALL, 0)) < 0) {
        *what = "IP_MULTICAST_ALL";
        goto out_close;
    }
    sized_buffers(fd, p, st);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        rc = -errno;
        *what = "bind";
        goto out_close;
    }
    return fd;

out_close:
    close(fd);
    return rc;
}

static int
multicast_tx_options(int fd, const struct sc_xport_params *p, const char **what)
{
    struct in_addr ifa = { .s_addr = p->interface };
    int rc;

    *what = "IP_MULTICAST_IF";
    if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &ifa, sizeof(ifa)) < 0)
        return -errno;
    *what = "IP_MULTICAST_TTL";
    if ((rc = set_int(fd, IPPROTO_IP, IP_MULTICAST_TTL, p->ttl)) < 0)
        return rc;
    *what = "IP_MULTICAST_LOOP";
    return set_int(fd, IPPROTO_IP, IP_MULTICAST_LOOP, p->loop ? 1 : 0);
}

/* read up to GRO_MSGS (possibly coalesced) messages into the GRO buffers */
static void
gro_setup(struct gro_io *g)
{
    for (int i = 0; i < GRO_MSGS; i++) {
        g->iov[i] = (struct iovec){ g->buf[i], GRO_BUF };
        g->mh[i].msg_hdr = (struct msghdr){ .msg_name = &g->from[i],
                                            .msg_namelen = sizeof(g->from[i]),
                                            .msg_iov = &g->iov[i], .msg_iovlen = 1,
                                            .msg_control = g->cbuf[i],
                                            .msg_controllen = sizeof(g->cbuf[i]) };
    }
}

/* flags: MSG_DONTWAIT, or MSG_WAITFORONE to sleep for the first (rx_wait).
 * @return what recvmmsg returned (datagrams read, truncated ones included) */
static int
gro_read(struct udp *u, int flags)
{
    struct gro_io *g = u->gio;
    struct mmsghdr *mh = g->mh;
    struct sockaddr_in *from = g->from;
    int r;

    u->gro_n = u->gro_cur = 0;
    u->gro_off = 0;
    do
        r = recvmmsg(u->rx[0], mh, GRO_MSGS, flags, NULL);
    while (r < 0 && errno == EINTR && flags == MSG_DONTWAIT); /* a sleep ends at a signal */
    u->gro_short = r < GRO_MSGS;
    for (int i = 0; i < r; i++) {
        struct msghdr *h = &mh[i].msg_hdr;
        struct gro_msg *m = &u->gm[u->gro_n];
        struct cmsghdr *c;
        bool trunc = h->msg_flags & MSG_TRUNC;

        *m = (struct gro_msg){ .len = mh[i].msg_len, .addr = from[i].sin_addr.s_addr,
                               .port = ntohs(from[i].sin_port) };
        for (c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) /* the kernel's controllen */
            if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
                int seg;
                memcpy(&seg, CMSG_DATA(c), sizeof(seg));
                m->seg = seg > 0 && (uint32_t)seg < m->len ? (uint16_t)seg : 0;
                u->x.st.rx_gro_msgs += m->seg != 0;
            }
        /* what the kernel changed, back for the next call */
        h->msg_namelen = sizeof(from[i]);
        h->msg_controllen = sizeof(g->cbuf[i]);
        if (trunc) {
            u->x.st.rx_truncated++;
            continue;
        }
        if ((unsigned)i != u->gro_n) /* keep the buffers in step with gm[] after a skipped one */
            memmove(g->buf[u->gro_n], g->buf[i], m->len);
        u->gro_n++;
    }
    return r;
}

static uint16_t read_socket(struct udp *u, int s, struct sc_pkt *pkts, uint16_t want);

static uint16_t
gro_rx(struct udp *u, struct sc_pkt *pkts, uint16_t n)
{
    uint16_t got = 0;
    bool drained = u->gro_cur < u->gro_n && u->gro_short; /* what waits came from a short read */

    for (;;) {
        while (got < n && u->gro_cur < u->gro_n) {
            const struct gro_msg *m = &u->gm[u->gro_cur];
            uint32_t left = m->len - u->gro_off, take = m->seg && m->seg < left ? m->seg : left;
            struct sc_pkt *p = &pkts[got];
            if (take > p->cap) {
                u->x.st.rx_truncated++;
            } else if (take) {
                memcpy(p->data, u->gio->buf[u->gro_cur] + u->gro_off, take);
                p->len = (uint16_t)take;
                p->addr = m->addr;
                p->port = m->port;
                p->lport = u->rx_port[0];
                u->x.st.rx_pkts++;
                u->x.st.rx_bytes += take;
                got++;
            }
            u->gro_off += take;
            if (u->gro_off >= m->len) {
                u->gro_cur++;
                u->gro_off = 0;
            }
        }
        if (got == n || u->gro_cur < u->gro_n)
            return got;
        if (drained)
            return got; /* this call's read emptied the socket: no second one to hear EAGAIN */
        if (u->rx[1] >= 0 && (got += read_socket(u, 1, pkts + got, (uint16_t)(n - got))) == n)
            return got; /* answers to our requests (sub_unicast), once per read of the group */
        drained = gro_read(u, MSG_DONTWAIT) < GRO_MSGS;
        if (!u->gro_n)
            return got;
    }
}

/* rx_wait: a subscriber with GRO sleeps in the read itself, its datagrams
 * landing in the GRO buffers for the next rx_burst -- one system call per
 * wake-up instead of poll + read. SO_RCVTIMEO counts in jiffies (a read may
 * sleep a jiffy or two longer than asked), so only long waits take that path,
 * and they ask for less: the largest power of two of milliseconds at most the
 * wait less SLEEP_READ_SLACK_MS, between 8 ms and 1 s. A wait cut short is
 * harmless (the caller waits again); the timeout is set only when that power
 * of two changes, so a steady caller pays no extra system call, and an idle
 * subscriber waiting 100 ms at a time wakes every 64 ms, not every 10.
 * Short waits -- NAK timers of microseconds -- are left to the caller's poll
 * (-1), which has nanoseconds. */
#define SLEEP_READ_MIN_NS 15000000u
#define SLEEP_READ_SLACK_MS 5u
#define SLEEP_READ_MAX_MS 1024u

static int
udp_rx_wait(struct sc_xport *x, uint64_t timeout_ns)
{
    struct udp *u = udp_of(x);
    uint64_t want_ms;
    uint32_t ms = 8;

    /* (what the GRO buffers still hold, sc_xport_rx_wait has answered already);
     * with a second socket to hear (sub_unicast) the caller polls both */
    if (!u->gro || timeout_ns < SLEEP_READ_MIN_NS || u->rx[1] >= 0)
        return -1;
    want_ms = timeout_ns / 1000000u - SLEEP_READ_SLACK_MS;
    while (ms < SLEEP_READ_MAX_MS && 2 * (uint64_t)ms <= want_ms)
        ms *= 2;
    if (ms != u->rcvtimeo_ms) { /* first, so a blocking read always has a timeout */
        struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };
        if (setsockopt(u->rx[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
            return -1;
        u->rcvtimeo_ms = ms;
    }
    if (!u->blocking) {
        int fl = fcntl(u->rx[0], F_GETFL);
        if (fl < 0 || fcntl(u->rx[0], F_SETFL, fl & ~O_NONBLOCK) < 0)
            return -1;
        u->blocking = true;
    }
    gro_read(u, MSG_WAITFORONE);
    return u->gro_n > 0;
}

static bool
udp_rx_pending(const struct sc_xport *x)
{
    const struct udp *u = sc_container_of_const(x, struct udp, x);
    return u->gro_cur < u->gro_n;
}

static uint16_t
udp_rx(struct sc_xport *x, struct sc_pkt *pkts, uint16_t n)
{
    struct udp *u = udp_of(x);
    uint16_t got = 0;
    unsigned ready = 1; /* bit s: read rx[s] */

    if (u->gro)
        return gro_rx(u, pkts, n);
    if (n > SC_BURST)
        n = SC_BURST;
    if (u->rx[1] >= 0) {
        /* two sockets (the publisher's NAK and data ports, a MoldUDP64
         * subscriber's group and request sockets): one epoll_wait says which
         * has anything, instead of a read of each that mostly hears EAGAIN */
        struct epoll_event ev[2];
        int ne = epoll_wait(u->epfd, ev, 2, 0);
        ready = 0;
        for (int i = 0; i < ne; i++)
            ready |= 1u << ev[i].data.u32;
    }
    for (int s = 0; s < 2 && got < n; s++)
        if (u->rx[s] >= 0 && (ready & (1u << s)))
            got += read_socket(u, s, pkts + got, (uint16_t)(n - got));
    return got;
}

/* One recvmmsg of rx[s] into pkts[0..want): @return the datagrams kept
 * (truncated ones are counted and leave no hole). */
static uint16_t
read_socket(struct udp *u, int s, struct sc_pkt *pkts, uint16_t want)
{
    struct mmsghdr mh[SC_BURST];
    struct iovec iov[SC_BURST];
    struct sockaddr_in from[SC_BURST];
    uint16_t got = 0;
    int r;

    for (uint16_t i = 0; i < want; i++) {
        iov[i].iov_base = pkts[i].data;
        iov[i].iov_len = pkts[i].cap;
        memset(&mh[i].msg_hdr, 0, sizeof(mh[i].msg_hdr));
        mh[i].msg_hdr.msg_iov = &iov[i];
        mh[i].msg_hdr.msg_iovlen = 1;
        mh[i].msg_hdr.msg_name = &from[i];
        mh[i].msg_hdr.msg_namelen = sizeof(from[i]);
    }
    do
        r = recvmmsg(u->rx[s], mh, want, MSG_DONTWAIT, NULL);
    while (r < 0 && errno == EINTR);
    for (int i = 0; i < r; i++) {
        struct sc_pkt *p = &pkts[got];
        if (mh[i].msg_hdr.msg_flags & MSG_TRUNC) {
            u->x.st.rx_truncated++;
            continue;
        }
        /* compact: a truncated datagram leaves no hole in pkts */
        if (p->data != iov[i].iov_base)
            memmove(p->data, iov[i].iov_base, mh[i].msg_len);
        p->len = (uint16_t)mh[i].msg_len;
        p->addr = from[i].sin_addr.s_addr;
        p->port = ntohs(from[i].sin_port);
        p->lport = u->rx_port[s];
        u->x.st.rx_pkts++;
        u->x.st.rx_bytes += p->len;
        got++;
    }
    return got;
}

/* UDP GSO (UDP_SEGMENT, Linux >= 4.18): a run of datagrams to the same
 * destination with the same length (the last may be shorter) goes down as one
 * sendmsg whose iovec lists them all; the kernel builds one large packet, takes
 * it through the stack once and cuts it into the datagrams at the device (or
 * at the receiving socket on loopback and veth). Full-size packets of a busy
 * stream are exactly such runs. */
#define GSO_MAX_BYTES 65000 /* under the 64 KiB an IP packet can carry */

struct txmsg {
    uint16_t first, count; /* the packets it carries */
    _Alignas(struct cmsghdr) char cmsg[CMSG_SPACE(sizeof(uint16_t))];
};

static uint16_t
udp_tx(struct sc_xport *x, const struct sc_pkt *pkts, uint16_t n)
{
    struct udp *u = udp_of(x);
    struct mmsghdr mh[SC_BURST];
    struct iovec iov[SC_BURST];
    struct sockaddr_in to[SC_BURST];
    struct txmsg tm[SC_BURST];
    uint16_t done = 0, nm = 0, sent_msgs = 0;
    int retry_at = -1; /* the message already sent a second time after an error */

    if (n > SC_BURST)
        n = SC_BURST;
    for (uint16_t i = 0; i < n; i++) {
        iov[i].iov_base = pkts[i].data;
        iov[i].iov_len = pkts[i].len;
    }
    /* group the burst into messages: runs for GSO, else one datagram each */
    for (uint16_t i = 0; i < n;) {
        uint16_t k = 1;
        size_t bytes = pkts[i].len;
        if (u->gso)
            while (i + k < n && pkts[i + k].addr == pkts[i].addr &&
                   pkts[i + k].port == pkts[i].port && pkts[i + k - 1].len == pkts[i].len &&
                   pkts[i + k].len <= pkts[i].len && bytes + pkts[i + k].len <= GSO_MAX_BYTES) {
                bytes += pkts[i + k].len;
                k++;
            }
        to[nm] = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(pkts[i].port) };
        to[nm].sin_addr.s_addr = pkts[i].addr;
        memset(&mh[nm].msg_hdr, 0, sizeof(mh[nm].msg_hdr));
        mh[nm].msg_hdr.msg_iov = &iov[i];
        mh[nm].msg_hdr.msg_iovlen = k;
        mh[nm].msg_hdr.msg_name = &to[nm];
        mh[nm].msg_hdr.msg_namelen = sizeof(to[nm]);
        tm[nm].first = i;
        tm[nm].count = k;
        if (k > 1) {
            struct cmsghdr *c;
            uint16_t seg = pkts[i].len;
            mh[nm].msg_hdr.msg_control = tm[nm].cmsg;
            mh[nm].msg_hdr.msg_controllen = sizeof(tm[nm].cmsg);
            c = CMSG_FIRSTHDR(&mh[nm].msg_hdr);
            c->cmsg_level = SOL_UDP;
            c->cmsg_type = UDP_SEGMENT;
            c->cmsg_len = CMSG_LEN(sizeof(seg));
            memcpy(CMSG_DATA(c), &seg, sizeof(seg));
        }
        nm++;
        i = (uint16_t)(i + k);
    }
    while (sent_msgs < nm) {
        int r = sendmmsg(u->tx, mh + sent_msgs, nm - sent_msgs, MSG_DONTWAIT);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (u->recverr && retry_at != sent_msgs) {
                /* with IP_RECVERR an ICMP error for an earlier datagram is
                 * also reported once by the next send, which sends nothing:
                 * the error waits in the queue for tx_errors; send again */
                retry_at = sent_msgs;
                continue;
            }
            if (errno == EAGAIN || errno == ENOBUFS)
                break; /* back-pressure: the caller keeps the rest */
            if (tm[sent_msgs].count > 1 && (errno == EINVAL || errno == EIO ||
                                            errno == ENOPROTOOPT || errno == EOPNOTSUPP)) {
                /* this kernel or device cannot segment: send datagrams one by one from now */
                u->gso = false;
                x->st.gso_disabled++;
                return (uint16_t)(done + udp_tx(x, pkts + done, (uint16_t)(n - done)));
            }
            /* a datagram the kernel refuses outright (e.g. no route): drop that
             * message, count it, carry on with the rest */
            x->st.tx_dropped += tm[sent_msgs].count;
            done = (uint16_t)(done + tm[sent_msgs].count);
            sent_msgs++;
            continue;
        }
        for (int m = 0; m < r; m++) {
            const struct txmsg *t = &tm[sent_msgs + m];
            for (uint16_t i = 0; i < t->count; i++)
                x->st.tx_bytes += pkts[t->first + i].len;
            x->st.tx_pkts += t->count;
            x->st.tx_gso_sends += t->count > 1;
            done = (uint16_t)(done + t->count);
        }
        sent_msgs = (uint16_t)(sent_msgs + r);
    }
    return done;
}

/* tx_errors: the sending socket's error queue, non-blocking. Each entry is
 * the ICMP error (origin ICMP) with the original datagram's destination in
 * msg_name and the ICMP's sender after the extended error. */
static uint16_t
udp_tx_errors(struct sc_xport *x, struct sc_xport_txerr *errs, uint16_t n)
{
    struct udp *u = udp_of(x);
    uint16_t got = 0;

    if (!u->recverr)
        return 0;
    while (got < n) {
        struct sockaddr_in to;
        _Alignas(struct cmsghdr) char cbuf[CMSG_SPACE(sizeof(struct sock_extended_err) +
                                                      sizeof(struct sockaddr_in))];
        char data[64];
        struct iovec iov = { data, sizeof(data) };
        struct msghdr mh = { .msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = &iov,
                             .msg_iovlen = 1, .msg_control = cbuf,
                             .msg_controllen = sizeof(cbuf) };
        struct cmsghdr *c;

        if (recvmsg(u->tx, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
            if (errno == EINTR)
                continue;
            break; /* EAGAIN: the queue is empty */
        }
        for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
            struct sock_extended_err ee;
            struct sc_xport_txerr *e = &errs[got];
            if (c->cmsg_level != IPPROTO_IP || c->cmsg_type != IP_RECVERR ||
                c->cmsg_len < CMSG_LEN(sizeof(ee)))
                continue;
            memcpy(&ee, CMSG_DATA(c), sizeof(ee));
            if (ee.ee_origin != SO_EE_ORIGIN_ICMP)
                continue;
            *e = (struct sc_xport_txerr){ .addr = to.sin_addr.s_addr, .port = ntohs(to.sin_port),
                                          .icmp_type = ee.ee_type, .icmp_code = ee.ee_code,
                                          .err = (int)ee.ee_errno };
            if (c->cmsg_len >= CMSG_LEN(sizeof(ee) + sizeof(struct sockaddr_in))) {
                struct sockaddr_in off; /* SO_EE_OFFENDER: right after the extended error */
                memcpy(&off, CMSG_DATA(c) + sizeof(ee), sizeof(off));
                if (off.sin_family == AF_INET)
                    e->reporter = off.sin_addr.s_addr;
            }
            got++;
            break;
        }
    }
    return got;
}

static int
udp_fd(const struct sc_xport *x)
{
    return sc_container_of_const(x, struct udp, x)->epfd;
}

static void
udp_close(struct sc_xport *x)
{
    struct udp *u = udp_of(x);

    for (int s = 0; s < 2; s++)
        if (u->rx[s] >= 0 && u->rx[s] != u->tx)
            close(u->rx[s]);
    if (u->tx >= 0)
        close(u->tx);
    if (u->epfd >= 0)
        close(u->epfd);
    free(u->gio);
    free(u);
}

static const struct sc_xport_ops udp_ops = {
    .name = "udp", .rx_burst = udp_rx, .tx_burst = udp_tx, .fd = udp_fd,
    .rx_pending = udp_rx_pending, .rx_wait = udp_rx_wait, .tx_errors = udp_tx_errors,
    .close = udp_close,
};

int
sc_xport_udp_open(struct sc_xport **out, const struct sc_xport_params *p, struct sc_err *err)
{
    struct udp *u = calloc(1, sizeof(*u));
    const char *what = "";
    int rc;

    if (!u)
        return fail(err, -ENOMEM, "allocation", p);
    u->x.ops = &udp_ops;
    u->x.local_addr = p->interface;
    u->rx[0] = u->rx[1] = u->tx = u->epfd = -1;
    u->gso = p->gso;

    if (p->role == SC_XPORT_PUB) {
        rc = open_socket(p, htonl(INADDR_ANY), p->nak_port, true, &u->x.st, &what);
        if (rc < 0)
            goto out_fail;
        u->rx[0] = u->tx = rc;
        u->rx_port[0] = p->nak_port;
        u->x.local_port = p->nak_port;
        if (p->port != p->nak_port) {
            rc = open_socket(p, htonl(INADDR_ANY), p->port, true, &u->x.st, &what);
            if (rc < 0)
                goto out_fail;
            u->rx[1] = rc;
            u->rx_port[1] = p->port;
        }
        if ((rc = multicast_tx_options(u->tx, p, &what)) < 0)
            goto out_fail;
    } else {
        struct ip_mreq mreq = { .imr_multiaddr = { p->group }, .imr_interface = { p->interface } };
        if (p->role == SC_XPORT_SUB) {
            /* bound to the group, so other groups on the port stay out; with a
             * B line bound to the port, and IP_MULTICAST_ALL 0 keeps it to the
             * two groups this socket joins */
            rc = open_socket(p, p->group_b ? htonl(INADDR_ANY) : p->group, p->port, true,
                             &u->x.st, &what);
            if (rc < 0)
                goto out_fail;
            u->rx[0] = rc;
            u->rx_port[0] = p->port;
            if (setsockopt(u->rx[0], IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq)) < 0) {
                rc = -errno;
                what = "IP_ADD_MEMBERSHIP (join the group on the interface)";
                goto out_fail;
            }
            mreq.imr_multiaddr.s_addr = p->group_b;
            if (p->group_b &&
                setsockopt(u->rx[0], IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq)) < 0) {
                rc = -errno;
                what = "IP_ADD_MEMBERSHIP (join group_b, the B line, on the interface)";
                goto out_fail;
            }
            /* GRO with GSO (one switch): runs arrive whole, if the kernel can */
            if (p->gso && (u->gio = malloc(sizeof(*u->gio))) &&
                set_int(u->rx[0], SOL_UDP, UDP_GRO, 1) == 0) {
                gro_setup(u->gio);
                u->gro = true;
            }
        }
        u->tx = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (u->tx < 0) {
            rc = -errno;
            what = "socket";
            goto out_fail;
        }
        if ((rc = multicast_tx_options(u->tx, p, &what)) < 0)
            goto out_fail;
        /* best effort: without it a subscriber still sees NAKs go unanswered */
        u->recverr = p->role == SC_XPORT_SUB && set_int(u->tx, IPPROTO_IP, IP_RECVERR, 1) == 0;
        if (p->role == SC_XPORT_SUB) {
            /* an ephemeral port now, not at the first send: local_port can say it,
             * and on a MoldUDP64 channel answers come back here, told from the
             * group's by it */
            struct sockaddr_in sa = { .sin_family = AF_INET };
            socklen_t sl = sizeof(sa);
            if (p->sub_unicast)
                sized_buffers(u->tx, p, &u->x.st);
            if (bind(u->tx, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
                getsockname(u->tx, (struct sockaddr *)&sa, &sl) < 0) {
                rc = -errno;
                what = p->sub_unicast ? "bind (the socket re-requests leave from)"
                                      : "bind (the socket NAKs leave from)";
                goto out_fail;
            }
            u->x.local_port = ntohs(sa.sin_port);
            if (p->sub_unicast) {
                u->rx[1] = u->tx;
                u->rx_port[1] = u->x.local_port;
            }
        }
    }

    u->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (u->epfd < 0) {
        rc = -errno;
        what = "epoll_create1";
        goto out_fail;
    }
    for (int s = 0; s < 2; s++) {
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)s };
        if (u->rx[s] >= 0 && epoll_ctl(u->epfd, EPOLL_CTL_ADD, u->rx[s], &ev) < 0) {
            rc = -errno;
            what = "epoll_ctl";
            goto out_fail;
        }
    }
    *out = &u->x;
    return 0;

out_fail:
    fail(err, rc, what, p);
    udp_close(&u->x);
    return rc;
}
