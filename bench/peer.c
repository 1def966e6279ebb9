/* peer: one sender/receiver program for every system `make bench` compares,
 * so each is driven, paced, timed and checked the same way.
 *
 *   peer SYSTEM send|recv [options]     SYSTEM: udp | seqcast | feed | openpgm | zmq
 *
 * udp is the raw-UDP floor: sendmmsg/recvmmsg multicast, no reliability.
 * seqcast uses the library's API (sc_pub / sc_sub), openpgm libpgm 5.3
 * (tests/interop/pgm_sock.h), zmq a ZeroMQ PUB/SUB pair over epgm://.
 *
 * Every message starts with its sequence number (8 bytes, 1..count) and, when
 * paced (--rate), the sender's CLOCK_MONOTONIC time just before the send call
 * (8 more bytes): sender and receiver share the machine's clock, so the
 * receiver measures one-way latency directly into an HDR-style histogram
 * (bench/hist.h). The receiver counts lost and duplicated messages from the
 * sequence numbers and prints one JSON line; it exits 1 if anything was lost
 * or duplicated, which is how a benchmark that loses data fails.
 *
 * Receivers block (poll/recv with a timeout) or, with --busy, spin on
 * non-blocking reads: the same mode for every system in a row.
 *
 * seqcast's receiver adds its repair requests to the JSON line (naks_sent;
 * MoldUDP64: requests_sent, request_msgs); its sender prints one JSON line of
 * every publisher counter on stdout at close ("role": "publisher"), and ends
 * its --linger early on SIGTERM or SIGINT (a script that is done with the
 * publisher's window -- bench/rereq.sh -- stops it so).
 *
 * feed is the ITCH feed handler end to end: seqcast (the same sender and
 * receiver as above; --set protocol=moldudp64 for a MoldUDP64 channel) carries
 * the messages of a seqcast-itchgen day (--symbols, seed 7) instead of
 * numbered ones. The sender encodes the day before it starts, and stamps each
 * message, just before the send call, with its send time in the ITCH
 * timestamp field (CLOCK_MONOTONIC mod 2^48, the field's 6 bytes: what an
 * exchange's own stamp is). The receiver applies each message to an order
 * book (sc_itch_feed_msg into <seqcast/book.h>); in the book's on_bbo callback
 * it takes now - the stamp of the message being applied
 * (sc_itch_feed_current), once per message: only messages that change a best
 * bid or offer are samples ("publisher to BBO callback"). Loss and duplicates
 * are counted from the subscriber's sequence numbers; a book that does not
 * mirror the day (an unknown reference, a refused or malformed message) fails
 * the run like a lost message. Unpaced, the day keeps the generator's
 * timestamps and nothing is sampled. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <seqcast/book.h>
#include <seqcast/counters.h>
#include <seqcast/itch.h>
#include <seqcast/itchgen.h>
#include <seqcast/pub.h>
#include <seqcast/shmstat.h>
#include <seqcast/sub.h>

#include "hist.h"

#ifdef HAVE_PGM
#include "../tests/interop/pgm_sock.h"
#endif
#ifdef HAVE_ZMQ
#include <zmq.h>
#endif

static struct opt {
    const char *sys, *mode, *group, *iface, *label, *curve, *framing, *test, *trace, *ready;
    int port, nak_port, busy;
    size_t size;
    uint64_t count;
    double rate, timeout, idle, linger;
    long pgm_rate;            /* openpgm: bytes/s; zmq: kbit/s (ZMQ_RATE) */
    const char *sets[16];     /* seqcast: --set KEY=VALUE */
    int nsets;
    int nak_bo_us, nak_rpt_us, nak_rdata_us;
    uint32_t symbols;         /* feed: the generated day's instruments */
} o = {
    .group = "239.192.9.1", .iface = "127.0.0.1", .port = 47000, .size = 32, .count = 100000,
    .timeout = 60, .idle = 2, .linger = 1, .framing = "batched", .nak_bo_us = 2000,
    .nak_rpt_us = 20000, .nak_rdata_us = 20000, .symbols = 100,
};

static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
sleep_until(uint64_t t)
{
    struct timespec ts = { (time_t)(t / 1000000000u), (long)(t % 1000000000u) };
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/* ------------------------------------------------------------ receiving side */

static struct rx {
    uint8_t *seen;
    uint64_t got, dups, t_first, t_last, last_lat;
    struct hist lat;
    uint64_t *arrived, *sent; /* --trace: each message's receive and send times, by number */
} rx;

/* Unpaced, the clock is read at the first message of each receive call (rx_now,
 * reset to 0 before each), not per message: reading it costs about as much as
 * a 32-byte message's whole path through the engine. */
static uint64_t rx_now;

/* a system's own figures for the receiver's JSON line (", \"key\": value"...) */
static char rx_extra[512];
static int rx_fail; /* a system's own reason to fail the run (exit 1) */

/* message number s arrived (at now) */
static void
rx_count(uint64_t s, uint64_t now)
{
    if (s >= 1 && s <= o.count) {
        if (rx.seen[s]++)
            rx.dups++;
        else
            rx.got++;
    }
    rx.t_last = now;
    if (!rx.t_first)
        rx.t_first = now;
}

static void
on_msg(const void *msg, size_t len)
{
    uint64_t s, ts, now = rx_now ? rx_now : (rx_now = now_ns());

    if (len < 8)
        return;
    memcpy(&s, msg, 8);
    if (len >= 16) {
        memcpy(&ts, (const uint8_t *)msg + 8, 8);
        if (ts) {
            now = now_ns();
            hist_add(&rx.lat, now > ts ? now - ts : 0);
            if (rx.arrived && s >= 1 && s <= o.count && !rx.arrived[s]) {
                rx.arrived[s] = now;
                rx.sent[s] = ts;
            }
            if (s == o.count)
                rx.last_lat = now > ts ? now - ts : 1; /* the final message (tail-loss test) */
        }
    }
    rx_count(s, now);
}

/* A system: open a sender or a receiver; send one message (blocking until it
 * is accepted); push what is queued; let the sender serve repairs and timers
 * until `until`; receive (deliver through on_msg) waiting at most max_ns. */
struct sys {
    const char *name;
    void (*open)(int sender);
    void (*send)(const void *msg, size_t len);
    void (*flush)(void);
    void (*serve)(uint64_t until);
    void (*recv)(uint64_t max_ns);
    void (*close)(void);
};

/* ------------------------------------------------------------ udp (the floor) */

#define BATCH 64
static int u_fd = -1, u_n;
static int u_gso; /* --gso: UDP_SEGMENT sends, UDP_GRO receives */
static struct sockaddr_in u_dst;
static uint8_t u_buf[BATCH][2048];
static struct mmsghdr u_m[BATCH];
static struct iovec u_iov[BATCH];

static void
udp_open(int sender)
{
    int one = 1, buf = 32 << 20;
    struct in_addr ifa;

    u_fd = socket(AF_INET, SOCK_DGRAM, 0);
    memset(&u_dst, 0, sizeof(u_dst));
    u_dst.sin_family = AF_INET;
    u_dst.sin_port = htons((uint16_t)o.port);
    if (u_fd < 0 || inet_pton(AF_INET, o.group, &u_dst.sin_addr) != 1 ||
        inet_pton(AF_INET, o.iface, &ifa) != 1) {
        fprintf(stderr, "peer udp: bad group or interface\n");
        exit(2);
    }
    for (int i = 0; i < BATCH; i++) {
        u_iov[i] = (struct iovec){ u_buf[i], sizeof(u_buf[i]) };
        u_m[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &u_iov[i], .msg_iovlen = 1 } };
        if (sender) {
            u_m[i].msg_hdr.msg_name = &u_dst;
            u_m[i].msg_hdr.msg_namelen = sizeof(u_dst);
        }
    }
    if (sender) {
        unsigned char ttl = 1;
        setsockopt(u_fd, IPPROTO_IP, IP_MULTICAST_IF, &ifa, sizeof(ifa));
        setsockopt(u_fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, 1);
        setsockopt(u_fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
    } else {
        struct ip_mreq mr = { u_dst.sin_addr, ifa };
        setsockopt(u_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (setsockopt(u_fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
            setsockopt(u_fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
        if (u_gso && setsockopt(u_fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) < 0)
            perror("peer udp: UDP_GRO");
        if (bind(u_fd, (struct sockaddr *)&u_dst, sizeof(u_dst)) < 0 ||
            setsockopt(u_fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0) {
            perror("peer udp: bind/join");
            exit(3);
        }
    }
}

/* --gso: the whole batch as one sendmsg with UDP_SEGMENT (the kernel's best
 * path for equal-size datagrams, the one seqcast's udp transport uses) */

static void
udp_flush_gso(void)
{
    _Alignas(struct cmsghdr) char cbuf[CMSG_SPACE(sizeof(uint16_t))];
    struct msghdr mh = { .msg_name = &u_dst, .msg_namelen = sizeof(u_dst), .msg_iov = u_iov,
                         .msg_iovlen = (size_t)u_n, .msg_control = cbuf,
                         .msg_controllen = sizeof(cbuf) };
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    uint16_t seg = (uint16_t)o.size;

    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(seg));
    memcpy(CMSG_DATA(c), &seg, sizeof(seg));
    while (sendmsg(u_fd, &mh, 0) < 0)
        if (errno != EINTR && errno != EAGAIN && errno != ENOBUFS) {
            perror("peer udp: sendmsg (UDP_SEGMENT)");
            exit(3);
        }
    u_n = 0;
}

static void
udp_flush(void)
{
    int done = 0;

    if (u_gso && u_n > 1) {
        udp_flush_gso();
        return;
    }
    while (done < u_n) {
        int k = sendmmsg(u_fd, u_m + done, (unsigned)(u_n - done), 0);
        if (k > 0)
            done += k;
        else if (errno != EINTR && errno != EAGAIN && errno != ENOBUFS) {
            perror("peer udp: sendmmsg");
            exit(3);
        }
    }
    u_n = 0;
}

static void
udp_send(const void *msg, size_t len)
{
    memcpy(u_buf[u_n], msg, len);
    u_iov[u_n].iov_len = len;
    if (++u_n == BATCH || (u_gso && (size_t)(u_n + 1) * len > 65000))
        udp_flush();
}

static void
udp_serve(uint64_t until)
{
    sleep_until(until);
}

/* --gso on the receiver: UDP_GRO, runs read whole and cut by their segment size */
#define GRO_MSGS 8
static uint8_t u_gro[GRO_MSGS][65536];

static void
udp_recv_gro(void)
{
    struct mmsghdr m[GRO_MSGS];
    struct iovec iov[GRO_MSGS];
    _Alignas(struct cmsghdr) char cb[GRO_MSGS][CMSG_SPACE(sizeof(int))];
    int k;

    for (int i = 0; i < GRO_MSGS; i++) {
        iov[i] = (struct iovec){ u_gro[i], sizeof(u_gro[i]) };
        m[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1,
                                        .msg_control = cb[i], .msg_controllen = sizeof(cb[i]) };
    }
    k = recvmmsg(u_fd, m, GRO_MSGS, MSG_DONTWAIT, NULL);
    for (int i = 0; i < k; i++) {
        size_t seg = m[i].msg_len;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&m[i].msg_hdr); c; c = CMSG_NXTHDR(&m[i].msg_hdr, c))
            if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
                int v;
                memcpy(&v, CMSG_DATA(c), sizeof(v));
                if (v > 0)
                    seg = (size_t)v;
            }
        for (size_t off = 0; off < m[i].msg_len; off += seg)
            on_msg(u_gro[i] + off, m[i].msg_len - off < seg ? m[i].msg_len - off : seg);
    }
}

static void
udp_recv(uint64_t max_ns)
{
    int k;

    if (u_gso) {
        if (!o.busy) {
            struct pollfd p = { .fd = u_fd, .events = POLLIN };
            if (poll(&p, 1, (int)(max_ns / 1000000u) + 1) <= 0)
                return;
        }
        udp_recv_gro();
        return;
    }
    for (int i = 0; i < BATCH; i++)
        u_iov[i].iov_len = sizeof(u_buf[i]);
    if (!o.busy) {
        struct pollfd p = { .fd = u_fd, .events = POLLIN };
        if (poll(&p, 1, (int)(max_ns / 1000000u) + 1) <= 0)
            return;
    }
    k = recvmmsg(u_fd, u_m, BATCH, MSG_DONTWAIT, NULL);
    for (int i = 0; i < k; i++)
        on_msg(u_buf[i], u_m[i].msg_len);
}

static void
udp_close(void)
{
    close(u_fd);
}

/* ------------------------------------------------------------ seqcast */

static struct sc_pub *s_pub;
static struct sc_sub *s_sub;
static struct sc_runner *s_run;
static struct sc_shmstat *s_shm; /* --set stats.shm=on: live counters, as the programs */
static sc_sub_msg_fn *s_on_msg; /* the subscriber's on_msg (seqcast_on_msg unless set) */

static void
seqcast_on_msg(void *ctx, const struct sc_source *src, uint64_t seq, const void *msg, size_t len)
{
    (void)ctx, (void)src, (void)seq;
    on_msg(msg, len);
}

static void
seqcast_open(int sender)
{
    struct sc_config cfg;
    struct sc_err err;
    char a[160];
    const char *keys[] = { "group", "interface", "framing" };
    const char *vals[] = { o.group, o.iface, o.framing };
    int rc;

    sc_config_init(&cfg);
    for (int i = 0; i < 3; i++) {
        snprintf(a, sizeof(a), "%s=%s", keys[i], vals[i]);
        if (sc_config_set(&cfg, a, &err) < 0)
            goto bad;
    }
    snprintf(a, sizeof(a), "port=%d", o.port);
    if (sc_config_set(&cfg, a, &err) < 0)
        goto bad;
    snprintf(a, sizeof(a), "nak_port=%d", o.nak_port ? o.nak_port : o.port + 1);
    if (sc_config_set(&cfg, a, &err) < 0 || sc_config_set(&cfg, "rcvbuf=32MiB", &err) < 0)
        goto bad;
    for (int i = 0; i < o.nsets; i++)
        if (sc_config_set(&cfg, o.sets[i], &err) < 0)
            goto bad;
    if (sender) {
        rc = sc_pub_create(&s_pub, &cfg, NULL, &err);
    } else {
        struct sc_sub_callbacks cb = { .on_msg = s_on_msg ? s_on_msg : seqcast_on_msg };
        rc = sc_sub_create(&s_sub, &cfg, NULL, &cb, &err);
        if (rc == 0 && (rc = sc_runner_create(&s_run, o.busy ? SC_IDLE_SPIN : SC_IDLE_SLEEP,
                                              &err)) == 0)
            rc = sc_runner_add(s_run, sc_sub_agent(s_sub));
    }
    /* the sender's shmstat runs where its engine does (no runner); the receiver's on its runner */
    if (rc == 0 && (rc = sc_shmstat_create_cfg(&s_shm, &cfg.stats, sender ? "peer-send" : "peer-recv",
                                               "bench", &err)) == 0 &&
        (rc = sender ? sc_shmstat_add_pub(s_shm, s_pub, "", &err)
                     : sc_shmstat_add_sub(s_shm, s_sub, "", &err)) >= 0 &&
        (rc = sc_shmstat_open(s_shm, &err)) == 0 && s_shm && !sender)
        rc = sc_runner_add(s_run, sc_shmstat_agent(s_shm));
    if (rc == 0)
        return;
bad:
    fprintf(stderr, "peer seqcast: %s\n", err.msg);
    exit(3);
}

static void
seqcast_send(const void *msg, size_t len)
{
    static unsigned n;
    static uint64_t now;

    if (o.rate || n % 256 == 0)
        now = now_ns();
    while (sc_pub_send(s_pub, msg, len, now) == -EAGAIN)
        sc_pub_do_work(s_pub, now = now_ns());
    /* unpaced: run the engine every 256 messages, as seqcast-pub does (each
     * sc_pub_do_work reads the socket for NAKs: a system call) */
    if (!o.rate && ++n % 256 == 0) {
        while (sc_pub_do_work(s_pub, now) > 0)
            now = now_ns();
        sc_shmstat_do_work(s_shm, now);
    }
}

static void
seqcast_flush(void)
{
    uint64_t now = now_ns();

    sc_pub_flush(s_pub, now);
    sc_pub_do_work(s_pub, now);
    sc_shmstat_do_work(s_shm, now);
}

/* until `until`: run the engine when its deadline comes or a NAK arrives,
 * and sleep otherwise. Not a runner: a runner's cycle starts with do_work,
 * and the engine has just run in the flush that preceded this -- a system
 * call (the NAK read) more per paced message than seqcast-pub makes. */
static void
seqcast_serve(uint64_t until)
{
    for (;;) {
        uint64_t now = now_ns(), due, d;
        struct pollfd p = { .fd = sc_pub_fd(s_pub), .events = POLLIN };
        struct timespec ts;

        if (now >= until)
            return;
        due = sc_pub_deadline(s_pub, now);
        sc_shmstat_do_work(s_shm, now);
        if (due <= now) {
            sc_pub_do_work(s_pub, now);
            continue;
        }
        d = due < until ? due : until;
        ts = (struct timespec){ (time_t)((d - now) / 1000000000u), (long)((d - now) % 1000000000u) };
        if (ppoll(&p, p.fd >= 0 ? 1 : 0, &ts, NULL) > 0)
            sc_pub_do_work(s_pub, now_ns());
    }
}

/* one duty cycle of the receiver's runner: do_work, then (unless --busy)
 * sleep in the subscriber's read until packets or its deadline */
static void
seqcast_recv(uint64_t max_ns)
{
    sc_runner_run_once(s_run, max_ns);
}

/* every publisher counter, one JSON line on stdout */
static void
print_pub_counters(const struct sc_pub_stats *st)
{
    size_t n;
    const struct sc_counter_desc *d = sc_counter_descs(SC_COUNTERS_PUB, &n);

    printf("{\"role\": \"publisher\", \"system\": \"%s\"", o.label ? o.label : "seqcast");
    for (size_t i = 0; d && i < n; i++)
        printf(", \"%s\": %llu", d[i].name, (unsigned long long)sc_counter_get(&d[i], st));
    printf("}\n");
    fflush(stdout);
}

static void
seqcast_close(void)
{
    if (s_pub) {
        struct sc_pub_stats st;
        uint64_t give_up = now_ns() + 30000000000u;
        sc_pub_close(s_pub, now_ns());
        while (!sc_pub_closed(s_pub) && now_ns() < give_up) /* the rest, the end, the FIN */
            seqcast_serve(now_ns() + 1000000u);
        seqcast_serve(now_ns() + 200000000u); /* repairs the end-of-session SPM reveals */
        sc_pub_get_stats(s_pub, &st);
        fprintf(stderr, "peer seqcast: %llu ODATA, %llu NAKs for %llu packets (%llu over budget, "
                "%llu not confirmed twice), %llu NCFs, %llu RDATA, %llu packets read\n",
                (unsigned long long)st.odata_sent, (unsigned long long)st.naks_received,
                (unsigned long long)st.nak_sqns, (unsigned long long)st.nak_over_budget,
                (unsigned long long)st.nak_ncf_held, (unsigned long long)st.ncf_sent,
                (unsigned long long)st.rdata_sent, (unsigned long long)st.rx_pkts);
        print_pub_counters(&st);
    }
    if (s_sub) {
        struct sc_sub_stats st;
        sc_sub_get_stats(s_sub, &st);
        fprintf(stderr, "peer seqcast: %llu NAKs sent, %llu requests sent for %llu messages, "
                "%llu repaired, %llu lost\n",
                (unsigned long long)st.naks_sent, (unsigned long long)st.requests_sent,
                (unsigned long long)st.request_msgs, (unsigned long long)st.repaired,
                (unsigned long long)st.lost_packets);
        snprintf(rx_extra, sizeof(rx_extra),
                 ", \"naks_sent\": %llu, \"requests_sent\": %llu, \"request_msgs\": %llu",
                 (unsigned long long)st.naks_sent, (unsigned long long)st.requests_sent,
                 (unsigned long long)st.request_msgs);
    }
    sc_shmstat_destroy(s_shm);
    sc_pub_destroy(s_pub);
    sc_runner_destroy(s_run);
    sc_sub_destroy(s_sub);
}

/* ------------------------------------------------------------ feed: ITCH end to end */

static uint8_t *f_day;             /* sender: the day, in NASDAQ's file framing */
static size_t f_len, f_off;        /* its bytes; the next record's */
static struct sc_book *f_book;     /* receiver: the books, */
static struct sc_itch_feed *f_feed; /* the ITCH glue in front of them */
static uint64_t f_bytes;
static int f_sampled;              /* the message being applied gave its sample */

/* the message being applied changed a BBO: its one sample */
static void
feed_on_bbo(void *ctx, const struct sc_book_bbo *bbo)
{
    uint64_t now;

    (void)ctx, (void)bbo;
    if (f_sampled || !o.rate)
        return;
    f_sampled = 1;
    now = now_ns();
    /* the stamp is the sender's clock mod 2^48: the difference is too */
    hist_add(&rx.lat, (now - sc_itch_feed_current(f_feed)->ts) & SC_ITCH_TS_MAX);
}

static void
feed_on_msg(void *ctx, const struct sc_source *src, uint64_t seq, const void *msg, size_t len)
{
    (void)ctx, (void)src;
    rx_count(seq, rx_now ? rx_now : (rx_now = now_ns()));
    f_bytes += len;
    f_sampled = 0;
    sc_itch_feed_msg(f_feed, msg, len);
}

static void
feed_open(int sender)
{
    struct sc_err err = { 0 };

    if (sender) { /* the whole day, encoded before the clock starts */
        struct sc_itchgen_cfg gc = { .messages = o.count, .symbols = o.symbols, .seed = 7 };
        struct sc_itchgen *g;
        size_t cap = (size_t)o.count * SC_ITCHGEN_RECORD_MAX, n;

        if (sc_itchgen_create(&g, &gc, &err) < 0) {
            fprintf(stderr, "peer feed: %s\n", err.msg);
            exit(2);
        }
        if (!(f_day = malloc(cap))) {
            fprintf(stderr, "peer feed: no memory for %zu bytes\n", cap);
            exit(3);
        }
        while ((n = sc_itchgen_write(g, f_day + f_len, cap - f_len)) > 0)
            f_len += n;
        sc_itchgen_destroy(g);
    } else { /* sized by the generator's bounds: symbols x its live orders per symbol */
        struct sc_book_cfg bc = { .max_orders = o.symbols * SC_ITCHGEN_ORDERS_PER_SYMBOL * 2,
                                  .max_books = o.symbols, .max_levels = 8 * SC_ITCHGEN_ORDERS_PER_SYMBOL,
                                  .on_bbo = feed_on_bbo };
        struct sc_itch_feed_cfg fc = { 0 };

        if (sc_book_create(&f_book, &bc, &err) < 0 ||
            (fc.book = f_book, sc_itch_feed_create(&f_feed, &fc, &err) < 0)) {
            fprintf(stderr, "peer feed: %s\n", err.msg);
            exit(3);
        }
        s_on_msg = feed_on_msg;
    }
    seqcast_open(sender);
}

/* the day's next message; paced, stamped with msg's send time (bytes 8..15) */
static void
feed_send(const void *msg, size_t len)
{
    uint8_t *m;
    size_t n;

    (void)len;
    if (f_off + 2 > f_len) {
        fprintf(stderr, "peer feed: the day has fewer messages than --count\n");
        exit(3);
    }
    n = (size_t)f_day[f_off] << 8 | f_day[f_off + 1];
    m = f_day + f_off + 2;
    f_off += 2 + n;
    if (o.rate) {
        uint64_t t;
        memcpy(&t, (const uint8_t *)msg + 8, 8);
        for (int i = 0; i < 6; i++) /* the timestamp: 6 bytes big-endian at offset 5 */
            m[5 + i] = (uint8_t)(t >> (40 - 8 * i));
    }
    seqcast_send(m, n);
}

static void
feed_close(void)
{
    seqcast_close();
    if (f_feed) {
        struct sc_itch_feed_stats fs;
        struct sc_book_stats bs;
        size_t k = strlen(rx_extra);
        uint64_t unknown, refused;

        sc_itch_feed_get_stats(f_feed, &fs);
        sc_book_get_stats(f_book, &bs);
        unknown = bs.unknown_execute + bs.unknown_cancel + bs.unknown_delete + bs.unknown_replace;
        refused = bs.dup_ref + bs.orders_full + bs.books_full + bs.levels_full;
        snprintf(rx_extra + k, sizeof(rx_extra) - k,
                 ", \"symbols\": %u, \"msg_bytes_mean\": %.1f, \"bbo_samples\": %llu, "
                 "\"bbo_updates\": %llu, \"unknown_refs\": %llu, \"refused\": %llu, "
                 "\"bad_msgs\": %llu",
                 o.symbols, rx.got ? (double)f_bytes / (double)rx.got : 0.0,
                 (unsigned long long)rx.lat.n, (unsigned long long)bs.bbo_updates,
                 (unsigned long long)unknown, (unsigned long long)refused,
                 (unsigned long long)fs.bad_msgs);
        if (unknown || refused || fs.bad_msgs) {
            fprintf(stderr, "peer feed: the books do not mirror the day: %llu unknown references, "
                    "%llu refused, %llu malformed\n", (unsigned long long)unknown,
                    (unsigned long long)refused, (unsigned long long)fs.bad_msgs);
            rx_fail = 1;
        }
        if (rx.got) /* the JSON line's size: the mean message */
            o.size = (size_t)((double)f_bytes / (double)rx.got + 0.5);
        sc_itch_feed_destroy(f_feed);
        sc_book_destroy(f_book);
    }
    free(f_day);
}

/* ------------------------------------------------------------ OpenPGM */
#ifdef HAVE_PGM
static pgm_sock_t *p_sock;

static void
pg_open(int sender)
{
    struct pgm_sock_params p = {
        .ifaddr = o.iface, .group = o.group, .port = o.port, .dport = o.nak_port ? o.nak_port : 7500,
        .sender = sender, .max_rate = o.pgm_rate ? (int)o.pgm_rate : 200 * 1000 * 1000,
        .txw_sqns = 1 << 20, .nak_bo_us = o.nak_bo_us, .nak_rpt_us = o.nak_rpt_us,
        .nak_rdata_us = o.nak_rdata_us, .rcvbuf = 32 << 20,
    };
    p_sock = pgm_sock_open(&p);
}

static int
pg_pump(void)
{
    return pgm_sock_pump(p_sock);
}

static void
pg_send(const void *msg, size_t len)
{
    size_t wrote = 0;

    for (;;) {
        int st = pgm_send(p_sock, msg, len, &wrote);
        if (st == PGM_IO_STATUS_NORMAL)
            break;
        if (st != PGM_IO_STATUS_RATE_LIMITED && st != PGM_IO_STATUS_WOULD_BLOCK) {
            fprintf(stderr, "peer openpgm: pgm_send failed (%d)\n", st);
            exit(3);
        }
        pgm_sock_wait(p_sock, pg_pump(), 1000);
    }
    if (o.rate)
        pg_pump();
}

static void
pg_flush(void)
{
}

static void
pg_serve(uint64_t until)
{
    for (;;) {
        uint64_t now = now_ns();
        int st = pg_pump();
        if (now >= until)
            return;
        pgm_sock_wait(p_sock, st, (long)((until - now) / 1000u) + 1);
    }
}

static void
pg_recv(uint64_t max_ns)
{
    static char buf[65536];
    size_t len = 0;
    pgm_error_t *err = NULL;
    int st = pgm_recv(p_sock, buf, sizeof(buf), o.busy ? MSG_DONTWAIT : 0, &len, &err);

    if (st == PGM_IO_STATUS_NORMAL)
        on_msg(buf, len);
    else if (st == PGM_IO_STATUS_RESET)
        fprintf(stderr, "peer openpgm: unrecoverable loss (session reset)\n");
    else if (!o.busy)
        pgm_sock_wait(p_sock, st, (long)(max_ns / 1000u));
    if (err)
        pgm_error_free(err);
}

static void
pg_close(void)
{
    pgm_close(p_sock, TRUE);
    pgm_shutdown();
}
#endif

/* ------------------------------------------------------------ ZeroMQ epgm */
#ifdef HAVE_ZMQ
static void *z_ctx, *z_sock;

static void
zm_set(int opt, int v, const char *name)
{
    if (zmq_setsockopt(z_sock, opt, &v, sizeof(v)) < 0) {
        fprintf(stderr, "peer zmq: %s: %s\n", name, zmq_strerror(errno));
        exit(3);
    }
}

static void
zm_open(int sender)
{
    char ep[160];

    z_ctx = zmq_ctx_new();
    z_sock = zmq_socket(z_ctx, sender ? ZMQ_PUB : ZMQ_SUB);
    /* the settings that keep epgm from crawling or dropping: a rate limit high
     * enough for the test (kbit/s), big kernel buffers, unbounded queues (a PUB
     * at its high-water mark drops silently), a window of 10 s for repairs */
    zm_set(ZMQ_RATE, o.pgm_rate ? (int)o.pgm_rate : 1000000, "rate");
    zm_set(ZMQ_RECOVERY_IVL, 10000, "recovery ivl");
    zm_set(ZMQ_SNDBUF, 32 << 20, "sndbuf");
    zm_set(ZMQ_RCVBUF, 32 << 20, "rcvbuf");
    zm_set(ZMQ_SNDHWM, 0, "sndhwm");
    zm_set(ZMQ_RCVHWM, 0, "rcvhwm");
    zm_set(ZMQ_LINGER, 60000, "linger");
    zm_set(ZMQ_MULTICAST_HOPS, 1, "hops");
    if (!sender) {
        zmq_setsockopt(z_sock, ZMQ_SUBSCRIBE, "", 0);
        zm_set(ZMQ_RCVTIMEO, 100, "rcvtimeo");
    }
    snprintf(ep, sizeof(ep), "epgm://%s;%s:%d", o.iface, o.group, o.port);
    if (zmq_connect(z_sock, ep) < 0) { /* epgm: both ends "connect" to the group */
        fprintf(stderr, "peer zmq: %s: %s\n", ep, zmq_strerror(errno));
        exit(3);
    }
}

static void
zm_send(const void *msg, size_t len)
{
    while (zmq_send(z_sock, msg, len, 0) < 0)
        if (errno != EINTR && errno != EAGAIN) {
            fprintf(stderr, "peer zmq: send: %s\n", zmq_strerror(errno));
            exit(3);
        }
}

static void
zm_flush(void)
{
}

static void
zm_recv(uint64_t max_ns)
{
    static char buf[65536];
    int n;

    (void)max_ns; /* ZMQ_RCVTIMEO bounds the wait */
    n = zmq_recv(z_sock, buf, sizeof(buf), o.busy ? ZMQ_DONTWAIT : 0);
    if (n >= 0)
        on_msg(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf));
}

static void
zm_close(void)
{
    zmq_close(z_sock); /* a PUB waits up to ZMQ_LINGER for its queue to leave */
    zmq_ctx_term(z_ctx);
}
#endif

static const struct sys systems[] = {
    { "udp", udp_open, udp_send, udp_flush, udp_serve, udp_recv, udp_close },
    { "seqcast", seqcast_open, seqcast_send, seqcast_flush, seqcast_serve, seqcast_recv, seqcast_close },
    { "feed", feed_open, feed_send, seqcast_flush, seqcast_serve, seqcast_recv, feed_close },
#ifdef HAVE_PGM
    { "openpgm", pg_open, pg_send, pg_flush, pg_serve, pg_recv, pg_close },
#endif
#ifdef HAVE_ZMQ
    { "zmq", zm_open, zm_send, zm_flush, udp_serve, zm_recv, zm_close },
#endif
};

/* ------------------------------------------------------------ the two roles */

static volatile sig_atomic_t stop_linger; /* SIGTERM/SIGINT: end the sender's linger */

static void
on_stop(int sig)
{
    (void)sig;
    stop_linger = 1;
}

static int
run_send(const struct sys *s)
{
    static uint8_t msg[65536];
    uint64_t period = o.rate > 0 ? (uint64_t)(1e9 / o.rate) : 0, start, t0;

    signal(SIGTERM, on_stop);
    signal(SIGINT, on_stop);
    s->open(1);
    s->serve(now_ns() + 300000000u); /* let receivers see the source (SPMs) */
    start = now_ns();
    for (uint64_t i = 1; i <= o.count; i++) {
        memcpy(msg, &i, 8);
        if (period) {
            uint64_t due = start + (i - 1) * period, t;
            if (now_ns() < due)
                s->serve(due);
            t = now_ns();
            memcpy(msg + 8, &t, 8);
            s->send(msg, o.size);
            s->flush();
        } else {
            s->send(msg, o.size);
        }
    }
    s->flush();
    t0 = now_ns() - start;
    /* linger before closing: the stream goes quiet (no end-of-session marker
     * yet), so a lost tail is found only by the system's own heartbeats */
    for (uint64_t end = now_ns() + (uint64_t)(o.linger * 1e9), t; !stop_linger && (t = now_ns()) < end;)
        s->serve(end - t > 50000000u ? t + 50000000u : end); /* a stop is seen within 50 ms */
    s->close();
    fprintf(stderr, "peer %s: sent %llu in %.3f s\n", s->name, (unsigned long long)o.count,
            (double)t0 / 1e9);
    return 0;
}

static int
run_recv(const struct sys *s)
{
    uint64_t end, lost;
    double secs;

    rx.seen = calloc(o.count + 1, 1);
    if (!rx.seen)
        return 3;
    if (o.trace && (!(rx.arrived = calloc(o.count + 1, sizeof(*rx.arrived))) ||
                    !(rx.sent = calloc(o.count + 1, sizeof(*rx.sent)))))
        return 3;
    s->open(0);
    if (o.ready) { /* joined, buffers allocated: the sender may start */
        FILE *f = fopen(o.ready, "w");
        if (!f || fclose(f) != 0) {
            fprintf(stderr, "peer: --ready %s: %s\n", o.ready, strerror(errno));
            return 3;
        }
    }
    end = now_ns() + (uint64_t)(o.timeout * 1e9);
    while (rx.got < o.count) {
        uint64_t now = now_ns();
        if (now >= end || (rx.t_last && now - rx.t_last > (uint64_t)(o.idle * 1e9)))
            break; /* the whole time is up, or the stream went quiet */
        rx_now = 0;
        s->recv(100000000u);
    }
    s->close();
    lost = o.count - rx.got;
    secs = rx.t_last > rx.t_first ? (double)(rx.t_last - rx.t_first) / 1e9 : 0;
    printf("{\"system\": \"%s\", \"transport\": \"%s\", \"size\": %zu, \"test\": \"%s\", "
           "\"mode\": \"%s\", \"rate\": %.0f, \"received\": %llu, \"lost\": %llu, "
           "\"duplicates\": %llu, \"seconds\": %.3f, \"msgs_per_s\": %.0f, \"mb_per_s\": %.1f, "
           "\"framing\": \"%s\"",
           o.label ? o.label : s->name, o.iface[0] == '1' && !strncmp(o.iface, "127.", 4)
                                             ? "udp-loopback" : "udp-veth",
           o.size, o.test ? o.test : (o.rate ? "latency" : "throughput"),
           o.busy ? "busy-poll" : "blocking", o.rate, (unsigned long long)rx.got,
           (unsigned long long)lost, (unsigned long long)rx.dups, secs,
           secs > 0 ? (double)rx.got / secs : 0.0,
           secs > 0 ? (double)rx.got * (double)o.size / secs / 1e6 : 0.0,
           !strcmp(s->name, "seqcast") || !strcmp(s->name, "feed") ? o.framing
           : !strcmp(s->name, "openpgm") ? "raw" /* one APDU per packet */
           : !strcmp(s->name, "zmq") ? "batched" /* ZeroMQ packs messages into APDUs */
           : "-");
    if (o.count >= 1 && rx.seen[o.count] && rx.last_lat)
        printf(", \"last_us\": %.1f", (double)rx.last_lat / 1e3);
    printf("%s", rx_extra);
    if (rx.lat.n)
        printf(", \"p50_us\": %.1f, \"p99_us\": %.1f, \"p999_us\": %.1f, \"max_us\": %.1f",
               (double)hist_pct(&rx.lat, 50) / 1e3, (double)hist_pct(&rx.lat, 99) / 1e3,
               (double)hist_pct(&rx.lat, 99.9) / 1e3, (double)rx.lat.max / 1e3);
    printf("}\n");
    if (o.curve && rx.lat.n) {
        FILE *f = fopen(o.curve, "w");
        if (f) {
            hist_write_curve(&rx.lat, f);
            fclose(f);
        }
    }
    if (rx.arrived) { /* number, send and receive times (ns, CLOCK_MONOTONIC), latency */
        FILE *f = fopen(o.trace, "w");
        if (f) {
            for (uint64_t i = 1; i <= o.count; i++)
                fprintf(f, "%llu %llu %llu %lld\n", (unsigned long long)i,
                        (unsigned long long)rx.sent[i], (unsigned long long)rx.arrived[i],
                        rx.arrived[i] ? (long long)(rx.arrived[i] - rx.sent[i]) : -1LL);
            fclose(f);
        }
    }
    return lost || rx.dups || rx_fail ? 1 : 0;
}

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: peer SYSTEM send|recv [options]\n"
            "  SYSTEM            udp (the raw-UDP floor), seqcast, feed (seqcast carrying an\n"
            "                    ITCH day into order books), openpgm, zmq (built: ");
    for (size_t i = 0; i < sizeof(systems) / sizeof(systems[0]); i++)
        fprintf(f, "%s%s", i ? " " : "", systems[i].name);
    fprintf(f, ")\n"
            "  --group ADDR:PORT multicast group and port (default 239.192.9.1:47000)\n"
            "  --iface ADDR      interface address (default 127.0.0.1)\n"
            "  --nak-port N      seqcast: NAK port (default port+1); openpgm: data-destination port\n"
            "  --size B          message size, >= 8 (>= 16 to carry a timestamp; default 32)\n"
            "  --count N         messages (default 100000)\n"
            "  --rate R          sender: paced at R msgs/s, each timestamped (latency); 0 = flat out\n"
            "  --framing F       seqcast: batched or raw (default batched)\n"
            "  --set KEY=VALUE   seqcast, feed: a channel key, e.g. --set gso=false\n"
            "  --symbols N       feed: the generated day's instruments (default 100); the\n"
            "                    day is --count messages long, its latency samples the\n"
            "                    messages that change a BBO\n"
            "  --gso             udp: the sender sends each batch as one UDP GSO send\n"
            "                    (UDP_SEGMENT), the receiver reads runs whole (UDP_GRO)\n"
            "  --pgm-rate R      openpgm: rate limit in bytes/s; zmq: ZMQ_RATE in kbit/s\n"
            "  --nak-timers B,R,D openpgm receiver: NAK back-off, repeat, RDATA wait in us\n"
            "  --busy            receiver: spin on non-blocking reads instead of blocking\n"
            "  --timeout S       receiver: give up after S seconds (default 60)\n"
            "  --idle S          receiver: stop after S quiet seconds once data came (default 2)\n"
            "  --linger S        sender: serve repairs S seconds after the last message, then\n"
            "                    close (seqcast: end-of-session SPMs; zmq: drain, up to 60 s);\n"
            "                    SIGTERM or SIGINT ends it early. seqcast's sender prints its\n"
            "                    counters as a JSON line on stdout at close\n"
            "  --label NAME      receiver: system name in the JSON line\n"
            "  --test NAME       receiver: test name in the JSON line\n"
            "  --curve FILE      receiver: write the latency percentile curve (for gnuplot)\n"
            "  --trace FILE      receiver, paced: per message its number, send and receive\n"
            "                    times (ns, CLOCK_MONOTONIC; 0 = never) and latency (-1 = never):\n"
            "                    what a tail is made of\n"
            "  --ready FILE      receiver: create FILE once joined and set up (a script\n"
            "                    waits for it before starting the sender)\n"
            "The receiver prints one JSON line and exits 1 if any message was lost or duplicated.\n");
}

int
main(int argc, char **argv)
{
    static const struct option lo[] = {
        { "group", 1, 0, 'g' },   { "iface", 1, 0, 'i' },  { "nak-port", 1, 0, 'n' },
        { "size", 1, 0, 's' },    { "count", 1, 0, 'c' },  { "rate", 1, 0, 'r' },
        { "framing", 1, 0, 'f' }, { "pgm-rate", 1, 0, 'R' }, { "nak-timers", 1, 0, 'T' },
        { "busy", 0, 0, 'b' },    { "timeout", 1, 0, 't' }, { "idle", 1, 0, 'I' },
        { "linger", 1, 0, 'L' },  { "label", 1, 0, 'l' },  { "test", 1, 0, 'X' },
        { "curve", 1, 0, 'C' },   { "help", 0, 0, 'h' },   { "gso", 0, 0, 'G' },
        { "set", 1, 0, 'S' },     { "trace", 1, 0, 'Z' },
        { "ready", 1, 0, 'Y' },   { "symbols", 1, 0, 'y' },
        { 0, 0, 0, 0 },
    };
    static char group[64];
    const struct sys *s = NULL;
    int c;

    /* every system alike: timed waits (NAK back-offs of tens of us) wake on
     * time, not up to the kernel's default 50 us timer slack later */
    if (!getenv("BENCH_DEFAULT_SLACK"))
        prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    if (argc < 3 || (strcmp(argv[2], "send") && strcmp(argv[2], "recv"))) {
        usage(stderr);
        return 2;
    }
    o.sys = argv[1];
    o.mode = argv[2];
    optind = 3;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case 'g': {
            const char *colon = strrchr(optarg, ':');
            if (!colon || (size_t)(colon - optarg) >= sizeof(group)) {
                fprintf(stderr, "peer: --group %s: expected ADDR:PORT\n", optarg);
                return 2;
            }
            snprintf(group, sizeof(group), "%.*s", (int)(colon - optarg), optarg);
            o.group = group;
            o.port = atoi(colon + 1);
            break;
        }
        case 'i': o.iface = optarg; break;
        case 'n': o.nak_port = atoi(optarg); break;
        case 's': o.size = strtoul(optarg, NULL, 10); break;
        case 'c': o.count = strtoull(optarg, NULL, 10); break;
        case 'r': o.rate = atof(optarg); break;
        case 'f': o.framing = optarg; break;
        case 'R': o.pgm_rate = atol(optarg); break;
        case 'T':
            if (sscanf(optarg, "%d,%d,%d", &o.nak_bo_us, &o.nak_rpt_us, &o.nak_rdata_us) != 3) {
                fprintf(stderr, "peer: --nak-timers %s: expected BO,RPT,RDATA in us\n", optarg);
                return 2;
            }
            break;
        case 'b': o.busy = 1; break;
        case 't': o.timeout = atof(optarg); break;
        case 'I': o.idle = atof(optarg); break;
        case 'L': o.linger = atof(optarg); break;
        case 'l': o.label = optarg; break;
        case 'X': o.test = optarg; break;
        case 'C': o.curve = optarg; break;
        case 'Z': o.trace = optarg; break;
        case 'Y': o.ready = optarg; break;
        case 'y': o.symbols = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'G': u_gso = 1; break;
        case 'S':
            if (o.nsets == 16) {
                fprintf(stderr, "peer: at most 16 --set options\n");
                return 2;
            }
            o.sets[o.nsets++] = optarg;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (o.size < 8 || o.size > 65000 || (o.rate > 0 && o.size < 16) || !o.count) {
        fprintf(stderr, "peer: --size must be 8..65000 (16.. with --rate), --count > 0\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof(systems) / sizeof(systems[0]); i++)
        if (!strcmp(systems[i].name, o.sys))
            s = &systems[i];
    if (!s) {
        fprintf(stderr, "peer: unknown or not built system '%s'\n", o.sys);
        return 2;
    }
    if (!strcmp(s->name, "udp") && o.size > sizeof(u_buf[0])) {
        fprintf(stderr, "peer udp: --size at most %zu\n", sizeof(u_buf[0]));
        return 2;
    }
    return o.mode[0] == 's' ? run_send(s) : run_recv(s);
}
