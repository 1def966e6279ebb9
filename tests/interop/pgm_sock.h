/* One way to open an OpenPGM 5.3 socket over UDP encapsulation, shared by the
 * interop peer (tests/interop/pgm_peer.c) and the benchmark peer (bench/peer.c).
 *
 * OpenPGM 5.3 takes its own unicast address (IP_MULTICAST_IF, the SPM path NLA,
 * and the NLA it requires in NAKs) from the host name, not from ifaddr: where
 * repairs matter, the host name must resolve to ifaddr (the tests write a
 * per-namespace /etc/netns/NAME/hosts). Multicast without repairs works on
 * loopback with ifaddr 127.0.0.1.
 *
 * port is used for both of OpenPGM's UDP encapsulation ports, as most OpenPGM
 * deployments do; port 0 leaves both at OpenPGM's defaults (3055 unicast,
 * 3056 multicast: data goes to the group on 3056, the socket that reads NAKs
 * is bound to INADDR_ANY:3056, and receivers NAK to 3055). dport is the PGM
 * data-destination port. Exits on failure (these are test programs). */
#ifndef SEQCAST_TESTS_PGM_SOCK_H
#define SEQCAST_TESTS_PGM_SOCK_H

#include <pgm/pgm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/time.h>

struct pgm_sock_params {
    const char *ifaddr, *group;
    int port, dport; /* port 0: OpenPGM's default encapsulation ports */
    int sender;
    int max_rate;      /* sender: bytes/s (PGM_TXW_MAX_RTE) */
    int txw_sqns;      /* sender: transmit window in packets */
    int nak_bo_us, nak_rpt_us, nak_rdata_us; /* receiver: NAK back-off, repeat, RDATA wait */
    int rcvbuf;        /* receiver: SO_RCVBUF(FORCE) on its socket, 0 = leave */
};

static void
pgm_sock_die(const char *what, pgm_error_t *err)
{
    fprintf(stderr, "openpgm: %s: %s\n", what, err ? err->message : "failed");
    exit(3);
}

static void
pgm_sock_int(pgm_sock_t *s, int opt, int v, const char *name)
{
    if (!pgm_setsockopt(s, IPPROTO_PGM, opt, &v, sizeof(v)))
        pgm_sock_die(name, NULL);
}

static pgm_sock_t *
pgm_sock_open(const struct pgm_sock_params *p)
{
    struct pgm_addrinfo_t *res = NULL;
    pgm_error_t *err = NULL;
    struct pgm_sockaddr_t addr;
    pgm_sock_t *s = NULL;
    char network[256];

    if (!pgm_init(&err))
        pgm_sock_die("pgm_init", err);
    snprintf(network, sizeof(network), "%s;%s", p->ifaddr, p->group);
    if (!pgm_getaddrinfo(network, NULL, &res, &err))
        pgm_sock_die("pgm_getaddrinfo", err);
    if (!pgm_socket(&s, AF_INET, SOCK_SEQPACKET, IPPROTO_UDP, &err))
        pgm_sock_die("pgm_socket", err);
    if (p->port) {
        pgm_sock_int(s, PGM_UDP_ENCAP_UCAST_PORT, p->port, "ucast port");
        pgm_sock_int(s, PGM_UDP_ENCAP_MCAST_PORT, p->port, "mcast port");
    }
    pgm_sock_int(s, PGM_IP_ROUTER_ALERT, 0, "router alert");
    pgm_sock_int(s, PGM_MTU, 1500, "mtu");
    if (p->sender) {
        /* heartbeat SPMs (microseconds) as in OpenPGM's examples, tightened for a LAN */
        static const int hb[] = { 1000, 1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000,
                                  256000, 512000, 1000000 };
        pgm_sock_int(s, PGM_SEND_ONLY, 1, "send only");
        pgm_sock_int(s, PGM_TXW_SQNS, p->txw_sqns, "txw sqns");
        pgm_sock_int(s, PGM_TXW_MAX_RTE, p->max_rate, "txw max rate");
        pgm_sock_int(s, PGM_AMBIENT_SPM, 1000000, "ambient spm");
        if (!pgm_setsockopt(s, IPPROTO_PGM, PGM_HEARTBEAT_SPM, hb, sizeof(hb)))
            pgm_sock_die("heartbeat spm", NULL);
    } else {
        pgm_sock_int(s, PGM_RECV_ONLY, 1, "recv only");
        pgm_sock_int(s, PGM_PASSIVE, 0, "passive");
        pgm_sock_int(s, PGM_RXW_SQNS, 65536, "rxw sqns");
        pgm_sock_int(s, PGM_PEER_EXPIRY, 300 * 1000000, "peer expiry");
        pgm_sock_int(s, PGM_SPMR_EXPIRY, 250 * 1000, "spmr expiry");
        pgm_sock_int(s, PGM_NAK_BO_IVL, p->nak_bo_us, "nak bo ivl");
        pgm_sock_int(s, PGM_NAK_RPT_IVL, p->nak_rpt_us, "nak rpt ivl");
        pgm_sock_int(s, PGM_NAK_RDATA_IVL, p->nak_rdata_us, "nak rdata ivl");
        pgm_sock_int(s, PGM_NAK_DATA_RETRIES, 50, "nak data retries");
        pgm_sock_int(s, PGM_NAK_NCF_RETRIES, 50, "nak ncf retries");
    }
    memset(&addr, 0, sizeof(addr));
    addr.sa_port = (uint16_t)p->dport;
    addr.sa_addr.sport = 0; /* a random data-source port */
    if (!pgm_gsi_create_from_hostname(&addr.sa_addr.gsi, &err))
        pgm_sock_die("gsi", err);
    if (!pgm_bind(s, &addr, sizeof(addr), &err))
        pgm_sock_die("pgm_bind", err);
    for (unsigned i = 0; i < res->ai_recv_addrs_len; i++)
        pgm_setsockopt(s, IPPROTO_PGM, PGM_JOIN_GROUP, &res->ai_recv_addrs[i],
                       sizeof(struct group_req));
    pgm_setsockopt(s, IPPROTO_PGM, PGM_SEND_GROUP, &res->ai_send_addrs[0],
                   sizeof(struct group_req));
    pgm_freeaddrinfo(res);
    pgm_sock_int(s, PGM_MULTICAST_LOOP, 0, "loop"); /* on lo the group is delivered anyway */
    pgm_sock_int(s, PGM_MULTICAST_HOPS, 1, "hops");
    pgm_sock_int(s, PGM_NOBLOCK, 1, "noblock");
    if (!pgm_connect(s, &err))
        pgm_sock_die("pgm_connect", err);
    if (!p->sender && p->rcvbuf > 0) {
        /* libpgm 5.3 has no option for the receive buffer: set it on its socket */
        int fd = -1, size = p->rcvbuf;
        socklen_t l = sizeof(fd);
        if (pgm_getsockopt(s, IPPROTO_PGM, PGM_RECV_SOCK, &fd, &l) && fd >= 0 &&
            setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    }
    return s;
}

/* A sender's OpenPGM socket reads NAKs and runs its timers only from its
 * receive path: drain it without blocking. @return the last pgm_recv status
 * (what to wait on with pgm_sock_wait). */
static int
pgm_sock_pump(pgm_sock_t *s)
{
    static char buf[4096];
    size_t len;
    int st;

    do {
        pgm_error_t *err = NULL;
        st = pgm_recv(s, buf, sizeof(buf), MSG_DONTWAIT, &len, &err);
        if (err)
            pgm_error_free(err);
    } while (st == PGM_IO_STATUS_NORMAL);
    return st;
}

/* Wait for the socket or its next timer (status is the last call's), at most max_us. */
static void
pgm_sock_wait(pgm_sock_t *s, int status, long max_us)
{
    fd_set rd;
    int nfds = 0;
    struct timeval tv = { 0, max_us };
    socklen_t l = sizeof(tv);

    if (status == PGM_IO_STATUS_TIMER_PENDING)
        pgm_getsockopt(s, IPPROTO_PGM, PGM_TIME_REMAIN, &tv, &l);
    else if (status == PGM_IO_STATUS_RATE_LIMITED)
        pgm_getsockopt(s, IPPROTO_PGM, PGM_RATE_REMAIN, &tv, &l);
    if (tv.tv_sec > 0 || tv.tv_usec > max_us) {
        tv.tv_sec = 0;
        tv.tv_usec = max_us;
    }
    FD_ZERO(&rd);
    pgm_select_info(s, &rd, NULL, &nfds);
    select(nfds, &rd, NULL, NULL, &tv);
}

#endif
