/* The kernel UDP transport over loopback multicast: a burst mixing runs of
 * equal-size datagrams (sent as UDP GSO runs) with odd sizes arrives as exactly
 * the datagrams sent, in order, byte for byte -- with GSO/GRO on (then some
 * sends must have been GSO runs, the subscriber must have read runs whole, and
 * a reader with room for 5 packets at a time finds the rest of a run waiting,
 * rx_pending) and with them off; the publisher reads NAKs on both its ports; a
 * subscriber sleeps until data or its timeout (rx_wait); a subscriber whose
 * NAKs come back as ICMP port unreachable says so once (IP_RECVERR); a
 * MoldUDP64 subscriber reads the answers to its requests, a PGM one never
 * reads its sending socket. */
#include <arpa/inet.h>
#include <errno.h>
#include <criterion/criterion.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/channel.h"
#include "engine/sub_int.h"
#include "engine/transport/transport.h"
#include <seqcast/proto/pgm.h>

#define NPKT 32

static uint16_t
len_of(unsigned i)
{
    /* 0-11: 1200 B (a run), 12: 1000 (ends that run, shorter), 13: 1300 alone,
     * 14-29: 100 B (a run), 30: 60, 31: 100 again */
    return i < 12 ? 1200 : i == 12 ? 1000 : i == 13 ? 1300 : i == 30 ? 60 : 100;
}

static void
run(bool gso, uint16_t port)
{
    struct sc_xport_params pp = { .role = SC_XPORT_PUB, .port = port, .nak_port = port + 1,
                                  .ttl = 0, .loop = true, .gso = gso, .rcvbuf = 1 << 20 };
    struct sc_xport_params sp = pp;
    struct sc_xport *pub, *sub;
    struct sc_err err;
    static uint8_t out[NPKT][1400], in[NPKT + 8][2048];
    struct sc_pkt tx[NPKT], rx[NPKT + 8];
    unsigned got = 0, calls = 0;
    bool saw_pending = false;
    uint16_t sent;

    inet_pton(AF_INET, "239.192.77.3", &pp.group);
    inet_pton(AF_INET, "127.0.0.1", &pp.interface);
    sp.group = pp.group;
    sp.interface = pp.interface;
    sp.role = SC_XPORT_SUB;
    cr_assert_eq(sc_xport_udp_open(&sub, &sp, &err), 0, "%s", err.msg);
    cr_assert_eq(sc_xport_udp_open(&pub, &pp, &err), 0, "%s", err.msg);
    for (unsigned i = 0; i < NPKT; i++) {
        for (unsigned b = 0; b < len_of(i); b++)
            out[i][b] = (uint8_t)(i * 7 + b);
        tx[i] = (struct sc_pkt){ .data = out[i], .len = len_of(i), .addr = pp.group,
                                 .port = port };
    }
    sent = sc_xport_tx(pub, tx, NPKT);
    cr_assert_eq(sent, NPKT);
    for (int tries = 0; got < NPKT && tries < 200; tries++) {
        uint16_t n;
        for (unsigned i = 0; i < NPKT + 8; i++)
            rx[i] = (struct sc_pkt){ .data = in[i], .cap = sizeof(in[i]) };
        n = sc_xport_rx(sub, rx, 5); /* less than a run: the rest must wait, not vanish */
        calls++;
        saw_pending |= sc_xport_rx_pending(sub);
        for (uint16_t k = 0; k < n; k++, got++) {
            cr_assert_lt(got, NPKT, "more datagrams than were sent");
            cr_assert_eq(rx[k].len, len_of(got), "datagram %u: %u bytes, sent %u", got, rx[k].len,
                         len_of(got));
            cr_assert_arr_eq(rx[k].data, out[got], rx[k].len, "datagram %u differs", got);
        }
        if (got < NPKT && !n)
            nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
    }
    cr_assert_eq(got, NPKT, "received %u of %u datagrams", got, NPKT);
    if (gso) {
        cr_assert_gt(pub->st.tx_gso_sends + pub->st.gso_disabled, 0,
                     "no GSO run sent, and GSO was not turned off either");
        if (pub->st.tx_gso_sends) {
            cr_assert_gt(sub->st.rx_gro_msgs, 0, "GSO runs sent, none read whole (UDP_GRO)");
            cr_assert(saw_pending, "a run longer than the reader's room left nothing pending");
        }
    } else {
        cr_assert_eq(pub->st.tx_gso_sends, 0);
        cr_assert_eq(sub->st.rx_gro_msgs, 0);
        cr_assert(!saw_pending);
    }
    cr_log_info("%u receive calls", calls);
    cr_assert_eq(pub->st.tx_pkts, NPKT);
    sc_xport_close(pub);
    sc_xport_close(sub);
}

Test(udp, burst_with_gso_arrives_as_sent)
{
    run(true, 47710);
}

Test(udp, burst_without_gso_arrives_as_sent)
{
    run(false, 47720);
}

/* The publisher listens on two ports (NAKs to nak_port, and OpenPGM-style to
 * the data port): a datagram to either is read, each with the port it came in
 * on, and a quiet publisher reads nothing (its epoll fd says which socket has
 * anything before any read). */
Test(udp, the_publisher_reads_both_of_its_ports)
{
    struct sc_xport_params pp = { .role = SC_XPORT_PUB, .port = 47730, .nak_port = 47731,
                                  .ttl = 0, .loop = false, .rcvbuf = 1 << 20 };
    struct sc_xport *pub;
    struct sc_err err;
    struct sockaddr_in to = { .sin_family = AF_INET };
    static uint8_t in[8][2048];
    struct sc_pkt rx[8];
    unsigned seen_nak = 0, seen_data = 0;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    inet_pton(AF_INET, "239.192.77.4", &pp.group);
    inet_pton(AF_INET, "127.0.0.1", &pp.interface);
    cr_assert_eq(sc_xport_udp_open(&pub, &pp, &err), 0, "%s", err.msg);
    for (unsigned i = 0; i < 8; i++)
        rx[i] = (struct sc_pkt){ .data = in[i], .cap = sizeof(in[i]) };
    cr_assert_eq(sc_xport_rx(pub, rx, 8), 0, "a quiet publisher read something");
    to.sin_addr.s_addr = pp.interface;
    for (int k = 0; k < 3; k++) {
        to.sin_port = htons(k == 1 ? pp.port : pp.nak_port);
        cr_assert_eq(sendto(fd, "nak", 3, 0, (struct sockaddr *)&to, sizeof(to)), 3);
    }
    for (int tries = 0; seen_nak + seen_data < 3 && tries < 100; tries++) {
        uint16_t n = sc_xport_rx(pub, rx, 8);
        for (uint16_t i = 0; i < n; i++) {
            cr_assert_eq(rx[i].len, 3);
            seen_nak += rx[i].lport == pp.nak_port;
            seen_data += rx[i].lport == pp.port;
        }
        if (!n)
            nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
    }
    cr_assert_eq(seen_nak, 2, "%u of 2 datagrams to nak_port read", seen_nak);
    cr_assert_eq(seen_data, 1, "%u of 1 datagram to the data port read", seen_data);
    cr_assert_eq(pub->st.rx_pkts, 3);
    close(fd);
    sc_xport_close(pub);
}

static uint64_t
mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* rx_wait: a subscriber sleeps until data comes or the timeout passes -- a long
 * wait in the read itself (GRO), whose datagrams then wait for rx_burst
 * (rx_pending) and arrive as sent; a short wait (a NAK timer) by poll. */
Test(udp, a_subscriber_sleeps_until_data_or_the_timeout)
{
    struct sc_xport_params pp = { .role = SC_XPORT_PUB, .port = 47740, .nak_port = 47741,
                                  .ttl = 0, .loop = true, .gso = true, .rcvbuf = 1 << 20 };
    struct sc_xport_params sp;
    struct sc_xport *pub, *sub;
    struct sc_err err;
    static uint8_t out[3][200], in[8][2048];
    struct sc_pkt tx[3], rx[8];
    uint64_t t;
    uint16_t n;
    int r;

    inet_pton(AF_INET, "239.192.77.5", &pp.group);
    inet_pton(AF_INET, "127.0.0.1", &pp.interface);
    sp = pp;
    sp.role = SC_XPORT_SUB;
    cr_assert_eq(sc_xport_udp_open(&sub, &sp, &err), 0, "%s", err.msg);
    cr_assert_eq(sc_xport_udp_open(&pub, &pp, &err), 0, "%s", err.msg);

    t = mono_ns(); /* nothing comes: a short wait, then a long one, each ends on time */
    r = sc_xport_rx_wait(sub, 200000);
    cr_assert_eq(r, 0);
    cr_assert_geq(mono_ns() - t, 150000, "a 200 us wait returned after %llu ns",
                  (unsigned long long)(mono_ns() - t));
    t = mono_ns();
    r = sc_xport_rx_wait(sub, 30000000);
    cr_assert_eq(r, 0);
    cr_assert_geq(mono_ns() - t, 5000000, "a 30 ms wait returned after %llu ns",
                  (unsigned long long)(mono_ns() - t));
    cr_assert_lt(mono_ns() - t, 1000000000u, "a 30 ms wait took a second");
    /* an idle subscriber waiting long sleeps long (not 10 ms at a time), yet
     * not past the time it asked for (256 ms asked of the kernel; the bound
     * leaves a loaded machine's scheduling delay) */
    t = mono_ns();
    r = sc_xport_rx_wait(sub, 300000000);
    cr_assert_eq(r, 0);
    cr_assert_geq(mono_ns() - t, 100000000, "a 300 ms wait returned after %llu ns",
                  (unsigned long long)(mono_ns() - t));
    cr_assert_lt(mono_ns() - t, 450000000, "a 300 ms wait took %llu ns",
                 (unsigned long long)(mono_ns() - t));

    for (unsigned i = 0; i < 3; i++) {
        memset(out[i], (int)(i + 1), sizeof(out[i]));
        tx[i] = (struct sc_pkt){ .data = out[i], .len = (uint16_t)(100 + i), .addr = pp.group,
                                 .port = pp.port };
    }
    cr_assert_eq(sc_xport_tx(pub, tx, 3), 3);
    t = mono_ns();
    r = sc_xport_rx_wait(sub, 2000000000u); /* data already there: at once */
    cr_assert_eq(r, 1);
    cr_assert_lt(mono_ns() - t, 500000000u);
    for (unsigned i = 0; i < 8; i++)
        rx[i] = (struct sc_pkt){ .data = in[i], .cap = sizeof(in[i]) };
    n = sc_xport_rx(sub, rx, 8);
    if (n < 3) /* the wait may have slept for the first only: the rest follow at once */
        n = (uint16_t)(n + sc_xport_rx(sub, rx + n, (uint16_t)(8 - n)));
    cr_assert_eq(n, 3, "read %u of 3 datagrams after the wait", n);
    for (unsigned i = 0; i < 3; i++) {
        cr_assert_eq(rx[i].len, 100 + i);
        cr_assert_arr_eq(rx[i].data, out[i], rx[i].len);
    }
    cr_assert(!sc_xport_rx_pending(sub));
    sc_xport_close(pub);
    sc_xport_close(sub);
}

/* The subscriber's sending socket (IP_RECVERR): a datagram to a closed port
 * comes back as an ICMP error that tx_errors reads once, with the datagram's
 * destination; the kernel also reports it on the next send, which must not
 * cost that next datagram. */
Test(udp, a_subscriber_reads_icmp_errors_and_loses_no_send_to_them)
{
    struct sc_xport_params sp = { .role = SC_XPORT_SUB, .port = 47760, .ttl = 0 };
    struct sc_xport *sub;
    struct sc_err err;
    struct sc_xport_txerr e[4];
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t al = sizeof(a);
    uint8_t nak[20] = { 0 };
    struct sc_pkt p = { .data = nak, .len = sizeof(nak) };
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    uint16_t n = 0;

    inet_pton(AF_INET, "239.192.77.7", &sp.group);
    inet_pton(AF_INET, "127.0.0.1", &sp.interface);
    a.sin_addr.s_addr = sp.interface;
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    close(fd); /* a port surely closed */
    cr_assert_eq(sc_xport_udp_open(&sub, &sp, &err), 0, "%s", err.msg);
    p.addr = sp.interface;
    p.port = ntohs(a.sin_port);
    cr_assert_eq(sc_xport_tx_errors(sub, e, 4), 0);
    for (int k = 0; k < 2; k++) {
        cr_assert_eq(sc_xport_tx(sub, &p, 1), 1);
        nanosleep(&(struct timespec){ 0, 20000000 }, NULL); /* the ICMP is back */
    }
    cr_assert_eq(sub->st.tx_pkts, 2, "%llu of 2 sent (a pending error took one)",
                 (unsigned long long)sub->st.tx_pkts);
    cr_assert_eq(sub->st.tx_dropped, 0);
    for (int tries = 0; n < 2 && tries < 100; tries++) {
        n = (uint16_t)(n + sc_xport_tx_errors(sub, e + n, (uint16_t)(4 - n)));
        if (n < 2)
            nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
    }
    cr_assert_eq(n, 2, "%u ICMP errors read for 2 datagrams", n);
    for (int k = 0; k < 2; k++) {
        cr_assert_eq(e[k].addr, p.addr);
        cr_assert_eq(e[k].port, p.port);
        cr_assert_eq(e[k].icmp_type, 3);
        cr_assert_eq(e[k].icmp_code, 3);
        cr_assert_eq(e[k].err, ECONNREFUSED);
        cr_assert_eq(e[k].reporter, sp.interface);
    }
    cr_assert_eq(sc_xport_tx_errors(sub, e, 4), 0, "an error read twice");
    sc_xport_close(sub);
}

struct nak_events {
    unsigned n;
    struct sc_sub_event first;
};

static void
ignore_msg(void *ctx, const struct sc_source *src, uint64_t seq, const void *msg, size_t len)
{
    (void)ctx, (void)src, (void)seq, (void)msg, (void)len;
}

static void
count_nak_events(void *ctx, const struct sc_sub_event *ev)
{
    struct nak_events *e = ctx;
    if (ev->type == SC_EV_NAK_UNANSWERED && !e->n++)
        e->first = *ev;
}

/* a raw-framing ODATA of session 1.2.3.4.5.6 port 4242 */
static void
send_odata(int fd, const struct sc_channel_cfg *ch, uint32_t sqn)
{
    struct sc_pgm_pkt k;
    uint8_t b[256];
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(ch->port),
                              .sin_addr = ch->group };
    int len;

    memset(&k, 0, sizeof(k));
    k.type = SC_PGM_ODATA;
    memcpy(k.gsi, "\1\2\3\4\5\6", 6);
    k.sport = 4242;
    k.dport = ch->pgm_port;
    k.data.sqn = sqn;
    k.data.trail = 0;
    k.tsdu = (const uint8_t *)"payload!";
    k.tsdu_len = 8;
    len = sc_pgm_encode(b, sizeof(b), &k);
    cr_assert_gt(len, 0);
    cr_assert_eq(sendto(fd, b, (size_t)len, 0, (struct sockaddr *)&to, sizeof(to)), len);
}

/* A subscriber NAKs a gap to a port where nothing listens: the ICMP port
 * unreachable that comes back (IP_RECVERR on its sending socket) is counted,
 * reported once as SC_EV_NAK_UNANSWERED with where the NAKs went, and the
 * error the kernel then reports on the next send drops no NAK. */
Test(udp, naks_to_a_closed_port_are_reported_once)
{
    struct sc_config cfg;
    struct sc_channel_cfg ch;
    struct sc_xport_params sp;
    struct sc_xport *x;
    struct sc_sub *sub;
    struct sc_sub_stats st;
    struct sc_err err;
    struct nak_events ev = { 0 };
    struct sc_sub_callbacks cb = { ignore_msg, count_nak_events, &ev };
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t al = sizeof(a);
    int fd = socket(AF_INET, SOCK_DGRAM, 0), off = 0;
    struct in_addr lo;
    uint64_t end;

    /* a port surely closed: the kernel's choice, given back */
    inet_pton(AF_INET, "127.0.0.1", &lo);
    a.sin_addr = lo;
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    close(fd);
    sc_config_init(&cfg);
    ch = cfg.channels[0];
    inet_pton(AF_INET, "239.192.77.6", &ch.group);
    ch.port = 47750;
    ch.nak_port = ntohs(a.sin_port);
    ch.interface = lo;
    ch.framing = SC_FRAMING_RAW;
    sc_xport_params_from(&sp, &ch, SC_XPORT_SUB);
    cr_assert_eq(sc_xport_udp_open(&x, &sp, &err), 0, "%s", err.msg);
    cr_assert_eq(sc_sub_create_on(&sub, &ch, x, &cb, 1, &err), 0, "%s", err.msg);

    fd = socket(AF_INET, SOCK_DGRAM, 0);
    cr_assert_eq(setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &lo, sizeof(lo)), 0);
    cr_assert_eq(setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &off, sizeof(off)), 0);
    send_odata(fd, &ch, 0);
    send_odata(fd, &ch, 2); /* 1 is missing: NAKed to 127.0.0.1:nak_port, retried */
    end = mono_ns() + 2000000000u;
    do {
        sc_sub_do_work(sub, mono_ns());
        sc_sub_get_stats(sub, &st);
        nanosleep(&(struct timespec){ 0, 100000 }, NULL);
    } while (mono_ns() < end && (st.lost_packets == 0 || st.nak_unreachable < 2));
    printf("# %llu NAKs sent, %llu ICMP unreachable read, %llu packets lost (%llu unanswered)\n",
           (unsigned long long)st.naks_sent, (unsigned long long)st.nak_unreachable,
           (unsigned long long)st.lost_packets, (unsigned long long)st.nak_unanswered);
    cr_assert_gt(st.naks_sent, 1);
    cr_assert_geq(st.nak_unreachable, 2, "the ICMP errors were not read");
    cr_assert_eq(ev.n, 1, "%u reports, expected one", ev.n);
    cr_assert_eq(ev.first.nak.reason, SC_NAK_UNREACHABLE);
    cr_assert_eq(ev.first.nak.icmp_code, 3, "ICMP code %u, not port unreachable",
                 ev.first.nak.icmp_code);
    cr_assert_eq(ev.first.nak.addr, lo.s_addr);
    cr_assert_eq(ev.first.nak.port, ch.nak_port);
    cr_assert_eq(st.lost_packets, 1, "the gap was not given up on after its retries");
    cr_assert_eq(st.link.tx_dropped, 0, "a NAK was dropped on a pending ICMP error");
    cr_assert_eq(st.tx_pkts, st.naks_sent);
    close(fd);
    sc_sub_destroy(sub);
}

/* A MoldUDP64 subscriber (sub_unicast) reads the socket its requests leave
 * from: a server's unicast answer to the request's source address and port
 * arrives beside the group's data, told apart by lport (the request port, not
 * the data port) -- with GRO on and off. A PGM subscriber's sending socket is
 * never read: an answer to it stays unread and its fd does not wake. */
static void
answers(bool gso, bool unicast, uint16_t port)
{
    struct sc_xport_params sp = { .role = SC_XPORT_SUB, .port = port, .nak_port = port,
                                  .ttl = 0, .loop = true, .gso = gso, .rcvbuf = 1 << 20,
                                  .sub_unicast = unicast };
    struct sc_xport *sub;
    struct sc_err err;
    struct sockaddr_in srv = { .sin_family = AF_INET }, from, grp = { .sin_family = AF_INET };
    socklen_t sl = sizeof(srv), fl = sizeof(from);
    static uint8_t in[8][2048], req[] = "request";
    struct sc_pkt rx[8], rq = { .data = req, .len = 7 };
    struct in_addr lo;
    char buf[64];
    int fd = socket(AF_INET, SOCK_DGRAM, 0), mc = socket(AF_INET, SOCK_DGRAM, 0);
    unsigned answers = 0, data = 0;
    uint16_t req_port = 0;

    inet_pton(AF_INET, "239.192.77.9", &sp.group);
    inet_pton(AF_INET, "127.0.0.1", &sp.interface);
    lo.s_addr = sp.interface;
    cr_assert_eq(sc_xport_udp_open(&sub, &sp, &err), 0, "%s", err.msg);
    srv.sin_addr = lo;
    cr_assert_eq(bind(fd, (struct sockaddr *)&srv, sizeof(srv)), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&srv, &sl), 0);
    rq.addr = srv.sin_addr.s_addr;
    rq.port = ntohs(srv.sin_port);
    cr_assert_eq(sc_xport_tx(sub, &rq, 1), 1);
    cr_assert_eq(recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl), 7);
    req_port = ntohs(from.sin_port);
    cr_assert_neq(req_port, port, "requests leave from the data port");
    cr_assert_eq(sendto(fd, "answer", 6, 0, (struct sockaddr *)&from, fl), 6);
    setsockopt(mc, IPPROTO_IP, IP_MULTICAST_IF, &lo, sizeof(lo));
    grp.sin_addr.s_addr = sp.group;
    grp.sin_port = htons(port);
    cr_assert_eq(sendto(mc, "data", 4, 0, (struct sockaddr *)&grp, sizeof(grp)), 4);
    for (int tries = 0; answers + data < 2 && tries < 100; tries++) {
        uint16_t n;
        for (unsigned i = 0; i < 8; i++)
            rx[i] = (struct sc_pkt){ .data = in[i], .cap = sizeof(in[i]) };
        n = sc_xport_rx(sub, rx, 8);
        for (uint16_t i = 0; i < n; i++) {
            bool a = rx[i].len == 6 && !memcmp(rx[i].data, "answer", 6);
            cr_assert(a || (rx[i].len == 4 && !memcmp(rx[i].data, "data", 4)));
            cr_assert_eq(rx[i].lport, a ? req_port : port, "lport %u", rx[i].lport);
            answers += a;
            data += !a;
        }
        if (!n)
            nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
    }
    cr_assert_eq(data, 1);
    if (unicast) {
        cr_assert_eq(answers, 1, "the answer was not read");
    } else {
        struct pollfd p = { .fd = sc_xport_fd(sub), .events = POLLIN };
        nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
        cr_assert_eq(answers, 0, "a PGM subscriber read its sending socket");
        cr_assert_eq(poll(&p, 1, 0), 0, "a PGM subscriber's fd woke for its sending socket");
    }
    close(fd);
    close(mc);
    sc_xport_close(sub);
}

Test(udp, a_moldudp64_subscriber_reads_the_answers_with_gro)
{
    answers(true, true, 47760);
}

Test(udp, a_moldudp64_subscriber_reads_the_answers_without_gro)
{
    answers(false, true, 47762);
}

Test(udp, a_pgm_subscriber_never_reads_its_sending_socket)
{
    answers(true, false, 47764);
}

/* local_port is the port a transport's datagrams leave from, known at open:
 * a subscriber's (PGM or MoldUDP64) is the ephemeral port its NAKs and
 * re-requests carry, a publisher's its NAK port -- what a receiver sees as
 * the source port, and what the record wrapper writes into captures. */
Test(udp, local_port_is_where_datagrams_leave_from)
{
    for (int k = 0; k < 3; k++) {
        struct sc_xport_params xp = { .role = k == 2 ? SC_XPORT_PUB : SC_XPORT_SUB,
                                      .port = 47790, .nak_port = 47791, .ttl = 0,
                                      .sub_unicast = k == 1 };
        struct sc_xport *x;
        struct sc_err err;
        struct sockaddr_in a = { .sin_family = AF_INET }, from;
        socklen_t al = sizeof(a), fl = sizeof(from);
        uint8_t b[8] = "probe!!", got[16];
        struct sc_pkt p = { .data = b, .len = sizeof(b) };
        int fd = socket(AF_INET, SOCK_DGRAM, 0);

        inet_pton(AF_INET, "239.192.77.9", &xp.group);
        inet_pton(AF_INET, "127.0.0.1", &xp.interface);
        a.sin_addr.s_addr = xp.interface;
        cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
        cr_assert_eq(sc_xport_udp_open(&x, &xp, &err), 0, "%s", err.msg);
        cr_assert_neq(x->local_port, 0, "case %d: no local port at open", k);
        if (xp.role == SC_XPORT_PUB)
            cr_assert_eq(x->local_port, xp.nak_port);
        p.addr = xp.interface;
        p.port = ntohs(a.sin_port);
        cr_assert_eq(sc_xport_tx(x, &p, 1), 1);
        cr_assert_eq(recvfrom(fd, got, sizeof(got), 0, (struct sockaddr *)&from, &fl), 8);
        cr_assert_eq(ntohs(from.sin_port), x->local_port, "case %d: sent from %u, local_port %u",
                     k, ntohs(from.sin_port), x->local_port);
        sc_xport_close(x);
        close(fd);
    }
}
