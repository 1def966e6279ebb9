/* pcap reader (replay/pcap_io.c) and the capture-as-network transport
 * (replay/xport_pcap.c), fed the input as a capture file. Invariants: no
 * crash; every record lands in exactly one bucket (filtered, not UDP, cut
 * short, malformed, returned); indexes stay below the records read and never
 * go back; pieces split out of a UDP GSO datagram are whole PGM packets; a
 * damaged file ends with -EIO and a message, never with a crash or a bogus
 * datagram; reading it again (rewound, or opened afresh) gives the same
 * datagrams; and the transport returns exactly the datagrams for its port. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <seqcast/proto/pgm.h>
#include <seqcast/pcap.h>
#include "tests/fuzz/fuzz.h"

struct digest {
    uint64_t n;    /* datagrams returned */
    uint64_t hash; /* over everything but the index */
    uint64_t port_n, port_hash; /* those for the first datagram's port */
    int rc;        /* how the reading ended */
};

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n--)
        h = (h ^ *b++) * 0x100000001b3ull;
    return h;
}

static uint64_t
hash_datagram(const uint8_t *payload, uint16_t len, uint32_t src, uint16_t sport)
{
    uint64_t h = fnv(0xcbf29ce484222325ull, &len, sizeof(len));
    h = fnv(h, &src, sizeof(src));
    h = fnv(h, &sport, sizeof(sport));
    return fnv(h, payload, len);
}

static void
read_all(struct sc_pcapr *r, struct digest *dg, bool have_port, uint16_t *port)
{
    const struct sc_pcapr_stats *st = sc_pcapr_stats(r);
    const uint64_t rec0 = st->records, dgram0 = st->datagrams, gso0 = st->gso_split;
    uint64_t last_index = 0;
    struct sc_capd d;
    int rc;

    memset(dg, 0, sizeof(*dg));
    while ((rc = sc_pcapr_next(r, &d)) == 1) {
        uint64_t h;
        FUZZ_CHECK(d.payload != NULL);
        FUZZ_CHECK(d.index < st->records);
        FUZZ_CHECK(dg->n == 0 || d.index >= last_index);
        last_index = d.index;
        if (d.frame && d.payload >= d.frame && d.payload < d.frame + d.frame_len)
            FUZZ_CHECK(d.payload + d.len <= d.frame + d.frame_len);
        if (!d.frame) { /* a piece of a GSO datagram: a whole, good PGM packet */
            struct sc_pgm_pkt k;
            FUZZ_CHECK(st->gso_split > gso0);
            FUZZ_CHECK(sc_pgm_decode(d.payload, d.len, &k, 0) == 0);
        }
        h = hash_datagram(d.payload, d.len, d.src_ip, d.src_port);
        dg->hash = fnv(dg->hash, &h, sizeof(h));
        dg->hash = fnv(dg->hash, &d.ts_ns, sizeof(d.ts_ns));
        dg->hash = fnv(dg->hash, &d.dst_ip, sizeof(d.dst_ip));
        if (!have_port) {
            *port = d.dst_port;
            have_port = true;
        }
        if (d.dst_port == *port) {
            dg->port_n++;
            dg->port_hash = fnv(dg->port_hash, &h, sizeof(h));
        }
        dg->n++;
    }
    dg->rc = rc;
    FUZZ_CHECK(rc == 0 || rc == -EIO);
    if (rc < 0)
        FUZZ_CHECK(strstr(sc_pcapr_error(r), "damaged after record") != NULL);
    if (rc == 0)
        FUZZ_CHECK(sc_pcapr_next(r, &d) == 0); /* the end stays the end */
    /* every record read is in exactly one bucket (this pass: stats accumulate) */
    FUZZ_CHECK(st->records == st->filtered + st->not_udp + st->truncated + st->malformed +
                                  st->datagrams);
    FUZZ_CHECK(dg->n >= st->datagrams - dgram0);
    FUZZ_CHECK(dg->n == st->datagrams - dgram0 || st->gso_split > gso0);
    FUZZ_CHECK(st->records >= rec0);
}

/* the capture as a subscriber's network, for one port */
static void
read_as_network(const char *path, uint16_t port, const struct digest *want)
{
    static uint8_t bufs[8][65535];
    struct sc_xport_params xp = { .role = SC_XPORT_SUB, .port = port };
    struct sc_xport *x;
    struct sc_err err;
    uint64_t n = 0, h = 0;

    FUZZ_CHECK(sc_xport_pcap_open(&x, path, NULL, &xp, &err) == 0);
    while (!sc_xport_pcap_done(x)) {
        struct sc_pkt in[8];
        uint16_t got;
        for (int i = 0; i < 8; i++)
            in[i] = (struct sc_pkt){ .data = bufs[i], .cap = 65535 };
        got = x->ops->rx_burst(x, in, 8);
        FUZZ_CHECK(got <= 8);
        for (uint16_t i = 0; i < got; i++) {
            uint64_t k = hash_datagram(in[i].data, in[i].len, in[i].addr, in[i].port);
            FUZZ_CHECK(in[i].lport == port);
            h = fnv(h, &k, sizeof(k));
            n++;
        }
    }
    FUZZ_CHECK(n == want->port_n);
    FUZZ_CHECK(h == want->port_hash);
    FUZZ_CHECK((sc_xport_pcap_error(x) != NULL) == (want->rc < 0));
    FUZZ_CHECK(x->ops->tx_burst(x, NULL, 0) == 0);
    sc_xport_close(x);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    struct sc_err err;
    struct sc_pcapr *r;
    struct digest a, b, c;
    uint16_t port = 0;
    int fd = memfd_create("fuzz-pcap", MFD_CLOEXEC);

    if (fd < 0) {
        snprintf(path, sizeof(path), "/tmp/seqcast-fuzz-pcap-%d", (int)getpid());
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        FUZZ_CHECK(fd >= 0);
        unlink(path);
    }
    FUZZ_CHECK(write(fd, data, size) == (ssize_t)size);
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

    r = sc_pcapr_open(path, NULL, &err);
    if (!r) { /* refused: with a reason, and refused again */
        FUZZ_CHECK(err.code < 0 && err.msg[0]);
        FUZZ_CHECK(sc_pcapr_open(path, NULL, NULL) == NULL);
        close(fd);
        return 0;
    }
    read_all(r, &a, false, &port);
    FUZZ_CHECK(sc_pcapr_rewind(r, &err) == 0);
    read_all(r, &b, true, &port);
    FUZZ_CHECK(a.n == b.n && a.hash == b.hash && a.rc == b.rc);
    FUZZ_CHECK(a.port_n == b.port_n && a.port_hash == b.port_hash);
    sc_pcapr_close(r);
    r = sc_pcapr_open(path, NULL, &err); /* afresh: the same, and the same stats */
    FUZZ_CHECK(r != NULL);
    read_all(r, &c, true, &port);
    FUZZ_CHECK(a.n == c.n && a.hash == c.hash && a.rc == c.rc);
    sc_pcapr_close(r);
    if (a.n)
        read_as_network(path, port, &a);
    close(fd);
    return 0;
}
