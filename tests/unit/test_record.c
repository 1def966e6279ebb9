/* The record wrapper (replay/xport_pcap.c): its writer thread writes the
 * capture the synchronous writer wrote, byte for byte (frames, IPv4 ids,
 * timestamps, rotation); a full ring drops (counted exactly: the capture holds
 * every packet not counted) or waits (nothing lost); closing writes what the
 * ring holds; an idle ring is flushed for readers of the growing file. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <seqcast/pcap.h>
#include <seqcast/proto/netframe.h>
#include <seqcast/proto/pgm.h>

#include "replay/record_int.h"
#include "tests/support/testutil.h"

#define LOCAL 0x0a000001u   /* 10.0.0.1, host order */
#define PEER 0x0a000002u    /* 10.0.0.2 */
#define GROUP 0xefc00a01u   /* 239.192.10.1 */
#define DPORT 7400
#define NPORT 7401
#define MAXPKT 2000

/* ------------------------------------------------------------ the inner transport */

struct fake {
    struct sc_xport x;
    const struct sc_pkt *rx; /* what the next rx_burst returns */
    uint16_t rx_n;
};

static uint16_t
fake_rx(struct sc_xport *x, struct sc_pkt *p, uint16_t n)
{
    struct fake *f = (struct fake *)(void *)x;
    uint16_t k = 0;

    for (; k < n && k < f->rx_n; k++) {
        memcpy(p[k].data, f->rx[k].data, f->rx[k].len);
        p[k].len = f->rx[k].len;
        p[k].addr = f->rx[k].addr;
        p[k].port = f->rx[k].port;
        p[k].lport = f->rx[k].lport;
    }
    f->rx_n = 0;
    return k;
}

static uint16_t
fake_tx(struct sc_xport *x, const struct sc_pkt *p, uint16_t n)
{
    (void)x;
    (void)p;
    return n;
}

static void
fake_close(struct sc_xport *x)
{
    free(x);
}

static const struct sc_xport_ops fake_ops = {
    .name = "fake", .rx_burst = fake_rx, .tx_burst = fake_tx, .close = fake_close,
};

static struct fake *
fake_new(void)
{
    struct fake *f = calloc(1, sizeof(*f));

    cr_assert_not_null(f);
    f->x.ops = &fake_ops;
    f->x.local_addr = htonl(LOCAL);
    f->x.local_port = 40001;
    return f;
}

/* ------------------------------------------------------------------ hooks */

static uint64_t clock_next;

static uint64_t
test_clock(void *arg)
{
    (void)arg;
    clock_next += 1237 + (clock_next % 7) * 1000000; /* ns steps, some across a second */
    return clock_next;
}

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_open;
static unsigned writer_delay_us;

static void
gate(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&gate_mu);
    while (!gate_open)
        pthread_cond_wait(&gate_cv, &gate_mu);
    pthread_mutex_unlock(&gate_mu);
    if (writer_delay_us)
        usleep(writer_delay_us);
}

static void
gate_set(bool open)
{
    pthread_mutex_lock(&gate_mu);
    gate_open = open;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
}

/* ------------------------------------------------------------------- rig */

static char dir[] = "/tmp/seqcast-record-XXXXXX";

static void
setup(void)
{
    strcpy(dir, "/tmp/seqcast-record-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    clock_next = 1765000000ull * 1000000000u + 999000000u;
    gate_open = true;
    writer_delay_us = 0;
}

static void
teardown(void)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

static struct sc_xport *
wrap(struct fake **fp, enum sc_xport_role role, const struct sc_record_params *rp0,
     const struct sc_record_hooks *h)
{
    struct sc_xport_params xp = { .role = role, .group = htonl(GROUP), .port = DPORT,
                                  .nak_port = NPORT, .interface = htonl(LOCAL), .ttl = 4 };
    struct sc_record_params rp = *rp0;
    struct sc_xport *x = NULL;
    struct sc_err err = { 0 };
    char *path = malloc(256);

    *fp = fake_new();
    snprintf(path, 256, "%s/%s", dir, rp.path);
    rp.path = path;
    cr_assert_eq(sc_xport_record_wrap(&x, &(*fp)->x, &xp, &rp, &err), 0, "%s", err.msg);
    free(path); /* the wrapper keeps its own copy */
    if (h)
        sc_xport_record_set_hooks(x, h);
    return x;
}

/* The capture dir/name holds packets numbered from 0 (their first 4 bytes),
 * in order, each len bytes and carrying its number as its IPv4 id.
 * @return how many. */
static uint64_t
read_numbered(const char *name, uint16_t len)
{
    char path[300];
    struct sc_pcapr *rd;
    struct sc_capd d;
    struct sc_err err;
    uint64_t n = 0;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    rd = sc_pcapr_open(path, NULL, &err);
    cr_assert_not_null(rd, "%s", err.msg);
    while (sc_pcapr_next(rd, &d) == 1) {
        uint32_t k;
        uint16_t id;
        memcpy(&k, d.payload, 4);
        memcpy(&id, d.frame + 14 + 4, 2);
        cr_assert_eq(k, n, "packet %llu of the capture is packet %u", (unsigned long long)n, k);
        cr_assert_eq(d.len, len);
        cr_assert_eq(ntohs(id), (uint16_t)n, "its IPv4 id");
        n++;
    }
    sc_pcapr_close(rd);
    return n;
}

/* ------------------------------------------------------ the expected capture */

/* The synchronous writer, as the wrapper was before its writer thread: each
 * packet, in the order the transport moved it, stamped by the clock (one
 * reading for the packets of one call), numbered
 * by the next IPv4 id, built by sc_udp4_build with the UDP checksum and
 * multicast or 02:53:<address> MACs, written by sc_pcapw_write; a new file
 * after max_packets. */
struct ref {
    struct sc_pcapw *w;
    unsigned seq, in_file, max;
    uint16_t ip_id;
};

static void
ref_mac(uint32_t ip_be, uint8_t mac[6])
{
    if (sc_ipv4_is_multicast(ip_be)) {
        sc_mcast_mac(ip_be, mac);
        return;
    }
    mac[0] = 0x02;
    mac[1] = 0x53;
    memcpy(mac + 2, &ip_be, 4);
}

static void
ref_open(struct ref *rf)
{
    char name[300];

    if (rf->seq)
        snprintf(name, sizeof(name), "%s/want.pcap.%u", dir, rf->seq);
    else
        snprintf(name, sizeof(name), "%s/want.pcap", dir);
    rf->w = sc_pcapw_open(name, 1, NULL);
    cr_assert_not_null(rf->w);
    rf->in_file = 0;
}

static void
ref_write(struct ref *rf, uint64_t ts, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
          const uint8_t *data, uint16_t len)
{
    static uint8_t frame[SC_PKT_MAX + 128];
    struct sc_udp4_meta m = { .src_ip = src, .dst_ip = dst, .src_port = sport, .dst_port = dport,
                              .ttl = 4, .ip_id = rf->ip_id++ };
    int flen;

    ref_mac(dst, m.dst_mac);
    ref_mac(src, m.src_mac);
    flen = sc_udp4_build(frame, sizeof(frame), &m, data, len, SC_NF_UDP_CSUM);
    cr_assert_gt(flen, 0);
    cr_assert_eq(sc_pcapw_write(rf->w, ts, frame, (size_t)flen), 0);
    if (rf->max && ++rf->in_file >= rf->max) {
        sc_pcapw_close(rf->w);
        rf->seq++;
        ref_open(rf);
    }
}

static void
fill(uint8_t *b, uint16_t len, uint64_t *seed)
{
    for (uint16_t i = 0; i < len; i++)
        b[i] = (uint8_t)tu_rand(seed);
}

/* A publisher's and a subscriber's traffic of every size class (empty,
 * frames padded to 60 bytes, MTU-size, jumbo, the largest datagram), sent and
 * received in bursts of 1 to 32, rotating every 7 packets: both captures
 * (the wrapper's, and the synchronous writer's with the same clock) are the
 * same files, byte for byte. */
Test(record, the_writer_thread_writes_the_synchronous_writers_capture, .init = setup,
     .fini = teardown, .timeout = 30)
{
    static const uint16_t sizes[] = { 0, 1, 17, 18, 100, 288, 1344, 1400, 1472, 9000, 65507 };
    static uint8_t buf[40][SC_PKT_MAX];
    const struct sc_record_hooks h = { .clock = test_clock };
    struct sc_record_params rp = { .path = "got.pcap", .max_packets = 7 };
    uint64_t seed = 42, t0 = clock_next;
    unsigned total = 0, files;
    struct sc_pkt pkts[32];

    for (int role = 0; role < 2; role++) {
        struct fake *f;
        struct sc_xport *x;
        struct ref rf = { .max = 7 };
        struct sc_record_stats st;

        clock_next = t0;
        rp.path = role ? "got-sub.pcap" : "got.pcap";
        x = wrap(&f, role ? SC_XPORT_SUB : SC_XPORT_PUB, &rp, &h);
        /* the reference runs after the wrapper, on the same clock from t0 */
        total = 0;
        for (unsigned b = 0; b < 40; b++) {
            uint16_t n = (uint16_t)(1 + tu_rand(&seed) % 32);
            for (uint16_t i = 0; i < n; i++) {
                pkts[i].data = buf[i];
                pkts[i].len = sizes[tu_rand(&seed) % (sizeof(sizes) / sizeof(sizes[0]))];
                pkts[i].cap = SC_PKT_MAX;
                fill(buf[i], pkts[i].len, &seed);
                pkts[i].addr = htonl(b % 3 ? PEER : GROUP);
                pkts[i].port = (uint16_t)(b % 3 ? 50000 + i : DPORT);
                pkts[i].lport = (uint16_t)(b % 2 ? DPORT : NPORT);
                pkts[i].flags = 0; /* not the window's: copied */
            }
            if (b % 2) { /* received */
                static uint8_t rxbuf[32][SC_PKT_MAX];
                struct sc_pkt in[32];
                for (uint16_t i = 0; i < 32; i++)
                    in[i] = (struct sc_pkt){ .data = rxbuf[i], .cap = SC_PKT_MAX };
                f->rx = pkts;
                f->rx_n = n;
                cr_assert_eq(sc_xport_rx(x, in, 32), n);
            } else {
                cr_assert_eq(sc_xport_tx(x, pkts, n), n);
            }
            total += n;
        }
        sc_xport_record_stats(x, &st);
        cr_assert_eq(st.dropped + st.waited, 0);
        sc_xport_close(x);

        /* the same traffic through the synchronous writer */
        clock_next = t0;
        seed = 42;
        ref_open(&rf);
        for (unsigned b = 0; b < 40; b++) {
            uint16_t n = (uint16_t)(1 + tu_rand(&seed) % 32);
            uint64_t ts = test_clock(NULL); /* one reading a burst */
            for (uint16_t i = 0; i < n; i++) {
                uint16_t len = sizes[tu_rand(&seed) % (sizeof(sizes) / sizeof(sizes[0]))];
                uint32_t peer = htonl(b % 3 ? PEER : GROUP);
                uint16_t pport = (uint16_t)(b % 3 ? 50000 + i : DPORT);
                uint16_t lport = (uint16_t)(b % 2 ? DPORT : NPORT);
                fill(buf[i], len, &seed);
                if (b % 2) /* received: to the group on a subscriber's data port, else to us */
                    ref_write(&rf, ts, peer, pport,
                              role && lport == DPORT ? htonl(GROUP) : htonl(LOCAL), lport,
                              buf[i], len);
                else /* sent from the inner transport's port */
                    ref_write(&rf, ts, htonl(LOCAL), 40001, peer, pport, buf[i], len);
            }
        }
        sc_pcapw_close(rf.w);
        files = rf.seq + 1;
        cr_assert_eq(files, total / 7 + 1);
        for (unsigned k = 0; k < files; k++) {
            char a[300], b[300];
            size_t la = 0, lb = 0;
            uint8_t *ga, *gb;
            snprintf(a, sizeof(a), "%s/%s%s%.0u", dir, rp.path, k ? "." : "", k);
            snprintf(b, sizeof(b), "%s/want.pcap%s%.0u", dir, k ? "." : "", k);
            ga = tu_slurp(a, &la);
            gb = tu_slurp(b, &lb);
            cr_assert(ga && gb, "%s or %s unreadable", a, b);
            cr_assert_eq(la, lb, "%s: %zu bytes, the synchronous writer's %zu", a, la, lb);
            cr_assert_eq(memcmp(ga, gb, la), 0, "%s differs from the synchronous writer's", a);
            free(ga);
            free(gb);
            remove(b);
        }
        seed = 42;
    }
    cr_assert_gt(total, 100);
}

/* A publisher's PGM packets (SC_PKT_PGM_CSUM: their one's-complement sum is
 * zero) get their frames' UDP checksum from the headers alone; the capture is
 * still the synchronous writer's (every checksum computed over the payload)
 * byte for byte -- for PGM ODATA of every size class, and beside them packets
 * of no PGM (a MoldUDP64 channel's) without the flag. */
Test(record, a_pgm_packets_udp_checksum_is_made_from_its_headers, .init = setup,
     .fini = teardown, .timeout = 30)
{
    enum { N = 28 };
    static const uint16_t tsdu[] = { 0, 1, 2, 100, 233, 500, 1376 }; /* odd lengths too */
    static uint8_t data[N][1500];
    const struct sc_record_hooks h = { .clock = test_clock };
    struct sc_record_params rp = { .path = "pgm.pcap" };
    const uint8_t gsi[6] = { 1, 2, 3, 4, 5, 6 };
    struct sc_pgm_odata_tmpl t;
    struct sc_pkt pkts[N];
    struct ref rf = { 0 };
    struct fake *f;
    struct sc_xport *x;
    uint64_t seed = 9, t0 = clock_next, ts;
    char a[300], b[300];
    size_t la = 0, lb = 0;
    uint8_t *ga, *gb;

    sc_pgm_odata_tmpl_init(&t, 40001, DPORT, gsi);
    for (unsigned i = 0; i < N; i++) {
        uint16_t n = tsdu[i % (sizeof(tsdu) / sizeof(tsdu[0]))];
        bool pgm = i % 4 != 3; /* every fourth: no PGM, no flag */
        fill(data[i] + SC_PGM_HDR_LEN + SC_PGM_DATA_BODY_LEN, n, &seed);
        if (pgm)
            pkts[i].len = (uint16_t)sc_pgm_encode_odata(data[i], &t, i * 7919u, 0, n);
        else
            fill(data[i], pkts[i].len = (uint16_t)(SC_PGM_HDR_LEN + SC_PGM_DATA_BODY_LEN + n), &seed);
        pkts[i].data = data[i];
        pkts[i].addr = htonl(GROUP);
        pkts[i].port = DPORT;
        pkts[i].flags = pgm ? SC_PKT_PGM_CSUM : 0;
    }
    x = wrap(&f, SC_XPORT_PUB, &rp, &h);
    cr_assert_eq(sc_xport_tx(x, pkts, N / 2), N / 2);
    cr_assert_eq(sc_xport_tx(x, pkts + N / 2, N / 2), N / 2);
    sc_xport_close(x);

    clock_next = t0;
    snprintf(b, sizeof(b), "%s/want.pcap", dir);
    cr_assert_not_null(rf.w = sc_pcapw_open(b, 1, NULL));
    for (unsigned k = 0; k < 2; k++) {
        ts = test_clock(NULL);
        for (unsigned i = k * N / 2; i < (k + 1) * N / 2; i++)
            ref_write(&rf, ts, htonl(LOCAL), 40001, htonl(GROUP), DPORT, data[i], pkts[i].len);
    }
    sc_pcapw_close(rf.w);
    snprintf(a, sizeof(a), "%s/pgm.pcap", dir);
    ga = tu_slurp(a, &la);
    gb = tu_slurp(b, &lb);
    cr_assert(ga && gb);
    cr_assert_eq(la, lb, "%zu bytes, the synchronous writer's %zu", la, lb);
    cr_assert_eq(memcmp(ga, gb, la), 0, "the capture differs from the synchronous writer's");
    free(ga);
    free(gb);
}

/* With --record-full drop and the writer held, a full ring drops: every
 * packet offered is either in the capture or counted, the counter (also in
 * the link stats) is exact, and the capture holds the first packets in order
 * (their IPv4 ids 0..n-1: a dropped packet's id is never reused). */
Test(record, a_full_ring_drops_and_counts_every_drop, .init = setup, .fini = teardown,
     .timeout = 30)
{
    const struct sc_record_hooks h = { .clock = test_clock, .before_write = gate };
    struct sc_record_params rp = { .path = "drop.pcap", .ring_bytes = 1, .full = SC_RECORD_DROP };
    static uint8_t data[32][1000];
    struct sc_pkt pkts[32];
    struct sc_record_stats st;
    struct fake *f;
    struct sc_xport *x;
    uint64_t got, offered = 0;

    gate_set(false);
    x = wrap(&f, SC_XPORT_PUB, &rp, &h);
    for (unsigned b = 0; b < 125; b++) {
        for (uint16_t i = 0; i < 32; i++) {
            uint32_t k = (uint32_t)offered++;
            memcpy(data[i], &k, 4);
            pkts[i] = (struct sc_pkt){ .data = data[i], .len = sizeof(data[i]),
                                       .addr = htonl(GROUP), .port = DPORT };
        }
        cr_assert_eq(sc_xport_tx(x, pkts, 32), 32);
    }
    sc_xport_record_stats(x, &st);
    cr_assert_gt(st.dropped, 0, "the ring (256 KiB) took all 4000 packets of 1000 bytes");
    cr_assert_lt(st.dropped, offered);
    cr_assert_eq(x->st.record_dropped, st.dropped, "the link counter");
    cr_assert_eq(st.waited, 0);
    gate_set(true);
    sc_xport_close(x); /* writes what the ring holds */

    got = read_numbered("drop.pcap", sizeof(data[0]));
    cr_assert_eq(got + st.dropped, offered, "%llu in the capture + %llu dropped != %llu offered",
                 (unsigned long long)got, (unsigned long long)st.dropped,
                 (unsigned long long)offered);
}

/* With --record-full block (the default) and a slow writer, the traffic waits
 * for room (counted), and closing writes everything: none lost. */
Test(record, a_full_ring_waits_and_closing_writes_everything, .init = setup, .fini = teardown,
     .timeout = 60)
{
    const struct sc_record_hooks h = { .before_write = gate };
    struct sc_record_params rp = { .path = "block.pcap", .ring_bytes = 256 << 10 };
    static uint8_t data[1400];
    struct sc_pkt p = { .data = data, .len = sizeof(data), .addr = htonl(GROUP), .port = DPORT };
    struct sc_record_stats st;
    struct fake *f;
    struct sc_xport *x;

    writer_delay_us = 20;
    x = wrap(&f, SC_XPORT_PUB, &rp, &h);
    for (uint32_t k = 0; k < 3000; k++) {
        memcpy(data, &k, 4);
        cr_assert_eq(sc_xport_tx(x, &p, 1), 1);
    }
    sc_xport_record_stats(x, &st);
    cr_assert_gt(st.waited, 0, "3000 packets of 1400 bytes did not fill 256 KiB");
    cr_assert_eq(x->st.record_waited, st.waited);
    cr_assert_eq(st.dropped, 0);
    writer_delay_us = 0;
    sc_xport_close(x);

    cr_assert_eq(read_numbered("block.pcap", sizeof(data)), 3000);
}

/* A recording left open with nothing to write is flushed within a fraction
 * of a second: a reader of the growing file sees whole records. */
Test(record, an_idle_recording_is_flushed_for_readers, .init = setup, .fini = teardown,
     .timeout = 30)
{
    struct sc_record_params rp = { .path = "live.pcap" };
    static uint8_t data[300];
    struct sc_pkt p = { .data = data, .len = sizeof(data), .addr = htonl(GROUP), .port = DPORT };
    struct sc_record_stats st;
    struct sc_pcapr *rd;
    struct sc_capd d;
    struct sc_err err;
    struct fake *f;
    struct sc_xport *x = wrap(&f, SC_XPORT_PUB, &rp, NULL);
    char path[300];
    int n = 0;

    for (int i = 0; i < 3; i++)
        cr_assert_eq(sc_xport_tx(x, &p, 1), 1);
    usleep(400000);
    sc_xport_record_stats(x, &st);
    cr_assert_eq(st.packets, 3);
    cr_assert_eq(st.files_opened, 1);
    snprintf(path, sizeof(path), "%s/live.pcap", dir);
    rd = sc_pcapr_open(path, NULL, &err);
    cr_assert_not_null(rd, "%s", err.msg);
    while (sc_pcapr_next(rd, &d) == 1)
        n++;
    sc_pcapr_close(rd);
    cr_assert_eq(n, 3, "the open recording shows %d of 3 packets", n);
    sc_xport_close(x);
}

/* A ring over 1 GiB is refused, the inner transport closed (owned). */
Test(record, a_ring_over_1_gib_is_refused, .init = setup, .fini = teardown)
{
    struct sc_xport_params xp = { .role = SC_XPORT_PUB, .port = DPORT, .nak_port = NPORT };
    struct sc_record_params rp = { .path = "/nonexistent-never-created.pcap",
                                   .ring_bytes = (1ull << 30) + 1 };
    struct sc_xport *x = NULL;
    struct sc_err err = { 0 };

    cr_assert_eq(sc_xport_record_wrap(&x, &fake_new()->x, &xp, &rp, &err), -EINVAL);
    cr_assert(strstr(err.msg, "1 GiB") != NULL, "%s", err.msg);
    cr_assert_null(x);
}
