/* pcap files (replay/pcap_io.c): what the writer writes reads back the same
 * (addresses, ports, payload, the frame, nanosecond timestamps, record
 * indexes); microsecond files are scaled to ns; every supported link type
 * (Ethernet with and without a VLAN tag, raw IPv4, Linux cooked SLL and SLL2,
 * BSD loopback) gives the same datagrams; an unsupported one is refused by
 * name; non-UDP, cut-short and malformed records are skipped and counted; a
 * file damaged mid-way reads up to its last good record, then says so. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <seqcast/proto/endian.h>
#include <seqcast/proto/netframe.h>
#include <seqcast/proto/pgm.h>
#include <seqcast/pcap.h>

#include "tests/support/testutil.h"

static char path[64];

static void
setup(void)
{
    snprintf(path, sizeof(path), "/tmp/seqcast-pcap-io-test-%d.pcap", (int)getpid());
    unlink(path);
}

static void
teardown(void)
{
    unlink(path);
}

#define SRC_IP 0x0100000aU /* 10.0.0.1 in network order (little-endian host) */
#define DST_IP 0x0101c6efU /* 239.198.1.1 */

/* An Ethernet/IPv4/UDP frame carrying payload "datagram <i>" padded to plen. */
static int
udp_frame(uint8_t *buf, size_t cap, unsigned i, size_t plen, uint16_t dport)
{
    struct sc_udp4_meta m = { .src_ip = SRC_IP, .dst_ip = DST_IP, .src_port = 40000,
                              .dst_port = dport, .ttl = 1 };
    uint8_t payload[2000];

    memset(payload, (int)(i & 0xFF), sizeof(payload));
    snprintf((char *)payload, sizeof(payload), "datagram %u", i);
    sc_mcast_mac(DST_IP, m.dst_mac);
    m.src_mac[0] = 2;
    return sc_udp4_build(buf, cap, &m, payload, plen, 0);
}

static void
check_datagram(const struct sc_capd *d, unsigned i, size_t plen, uint16_t dport)
{
    char want[32];
    int n = snprintf(want, sizeof(want), "datagram %u", i);

    cr_assert_eq(d->src_ip, SRC_IP);
    cr_assert_eq(d->dst_ip, DST_IP);
    cr_assert_eq(d->src_port, 40000);
    cr_assert_eq(d->dst_port, dport);
    cr_assert_eq(d->len, plen, "datagram %u: %u bytes, want %zu", i, d->len, plen);
    cr_assert_eq(memcmp(d->payload, want, (size_t)n), 0, "datagram %u: wrong payload", i);
    for (size_t k = (size_t)n + 1; k < plen; k++)
        cr_assert_eq(d->payload[k], (uint8_t)i, "datagram %u byte %zu", i, k);
}

Test(pcap_io, written_frames_read_back_with_nanosecond_timestamps, .init = setup,
     .fini = teardown)
{
    static const uint64_t ts[] = { 1700000000123456789ull, 1700000000123456790ull,
                                   1700000001000000000ull, 999999999ull, 0 };
    struct sc_err err;
    struct sc_pcapw *w = sc_pcapw_open(path, DLT_EN10MB, &err);
    struct sc_pcapr *r;
    struct sc_capd d;
    uint8_t f[2100];
    int flen[5];

    cr_assert_not_null(w, "%s", err.msg);
    for (unsigned i = 0; i < 5; i++) {
        flen[i] = udp_frame(f, sizeof(f), i, 20 + 300 * i, 5000);
        cr_assert_gt(flen[i], 0);
        cr_assert_eq(sc_pcapw_write(w, ts[i], f, (size_t)flen[i]), 0);
    }
    cr_assert_eq(sc_pcapw_flush(w), 0);
    cr_assert_eq(sc_pcapw_close(w), 0);
    cr_assert_eq(sc_pcapw_close(NULL), 0);

    r = sc_pcapr_open(path, NULL, &err);
    cr_assert_not_null(r, "%s", err.msg);
    cr_assert_eq(sc_pcapr_linktype(r), DLT_EN10MB);
    for (int pass = 0; pass < 2; pass++) { /* and again after a rewind */
        for (unsigned i = 0; i < 5; i++) {
            cr_assert_eq(sc_pcapr_next(r, &d), 1, "pass %d record %u", pass, i);
            cr_assert_eq(d.ts_ns, ts[i], "record %u: ts %llu, want %llu", i,
                         (unsigned long long)d.ts_ns, (unsigned long long)ts[i]);
            if (pass == 0) /* a rewind does not reset it: it counts records since open */
                cr_assert_eq(d.index, i);
            check_datagram(&d, i, 20 + 300 * i, 5000);
            udp_frame(f, sizeof(f), i, 20 + 300 * i, 5000);
            cr_assert_eq(d.frame_len, (uint32_t)flen[i]);
            cr_assert_eq(memcmp(d.frame, f, (size_t)flen[i]), 0, "the record as captured");
        }
        cr_assert_eq(sc_pcapr_next(r, &d), 0, "end of file");
        cr_assert_eq(sc_pcapr_next(r, &d), 0, "still the end");
        if (pass == 0)
            cr_assert_eq(sc_pcapr_rewind(r, &err), 0, "%s", err.msg);
    }
    {
        const struct sc_pcapr_stats *st = sc_pcapr_stats(r);
        cr_assert_eq(st->records, 10);
        cr_assert_eq(st->datagrams, 10);
        cr_assert_eq(st->not_udp + st->truncated + st->malformed + st->filtered, 0);
    }
    sc_pcapr_close(r);
    sc_pcapr_close(NULL);
}

/* A hand-made classic pcap (microsecond or nanosecond magic) */
struct rawrec {
    uint32_t sec, frac, caplen, len;
    const uint8_t *data;
};

static void
write_raw(const char *p, uint32_t magic, uint32_t linktype, uint32_t snaplen,
          const struct rawrec *recs, unsigned n, size_t cut_last)
{
    FILE *f = fopen(p, "wb");
    uint32_t h[6] = { magic, 2 | 4u << 16, 0, 0, snaplen, linktype };

    cr_assert_not_null(f);
    fwrite(h, 4, 6, f);
    for (unsigned i = 0; i < n; i++) {
        uint32_t rh[4] = { recs[i].sec, recs[i].frac, recs[i].caplen, recs[i].len };
        size_t body = recs[i].caplen;
        if (i == n - 1 && cut_last)
            body = cut_last < body ? body - cut_last : 0;
        fwrite(rh, 4, 4, f);
        if (recs[i].data) /* NULL: a header alone (one whose lengths are damaged) */
            fwrite(recs[i].data, 1, body, f);
    }
    fclose(f);
}

Test(pcap_io, microsecond_files_are_scaled_to_nanoseconds, .init = setup, .fini = teardown)
{
    uint8_t f[200];
    int n = udp_frame(f, sizeof(f), 1, 30, 5000);
    struct rawrec rec[2] = { { 1700000000, 123456, (uint32_t)n, (uint32_t)n, f },
                             { 1700000000, 999999, (uint32_t)n, (uint32_t)n, f } };
    struct sc_err err;
    struct sc_pcapr *r;
    struct sc_capd d;

    write_raw(path, 0xa1b2c3d4, 1, 65535, rec, 2, 0);
    r = sc_pcapr_open(path, NULL, &err);
    cr_assert_not_null(r, "%s", err.msg);
    cr_assert_eq(sc_pcapr_next(r, &d), 1);
    cr_assert_eq(d.ts_ns, 1700000000123456000ull, "%llu", (unsigned long long)d.ts_ns);
    cr_assert_eq(sc_pcapr_next(r, &d), 1);
    cr_assert_eq(d.ts_ns, 1700000000999999000ull);
    sc_pcapr_close(r);
    /* a nanosecond file by hand: taken as is */
    rec[0].frac = 7;
    write_raw(path, 0xa1b23c4d, 1, 65535, rec, 1, 0);
    r = sc_pcapr_open(path, NULL, &err);
    cr_assert_not_null(r, "%s", err.msg);
    cr_assert_eq(sc_pcapr_next(r, &d), 1);
    cr_assert_eq(d.ts_ns, 1700000000000000007ull);
    sc_pcapr_close(r);
}

/* The same IPv4 packet under every link type we read gives the same datagram. */
Test(pcap_io, every_supported_link_type_gives_the_same_datagram, .init = setup,
     .fini = teardown)
{
    uint8_t eth[300], rec[400];
    int n = udp_frame(eth, sizeof(eth), 9, 77, 5001);
    const uint8_t *ip = eth + 14;
    size_t iplen = (size_t)n - 14;
    struct {
        int dlt;
        size_t hlen;
        const char *what;
    } lt[] = {
        { DLT_EN10MB, 0, "Ethernet" },
        { DLT_EN10MB, 4, "Ethernet + 802.1Q" },
        { DLT_RAW, 0, "raw IP" },
        { 228 /* DLT_IPV4 */, 0, "IPv4" },
        { 113 /* DLT_LINUX_SLL */, 16, "Linux cooked" },
        { 276 /* DLT_LINUX_SLL2 */, 20, "Linux cooked v2" },
        { DLT_NULL, 4, "BSD loopback" },
    };

    for (unsigned k = 0; k < sizeof(lt) / sizeof(lt[0]); k++) {
        struct sc_err err;
        struct sc_pcapw *w;
        struct sc_pcapr *r;
        struct sc_capd d;
        size_t len;

        memset(rec, 0, sizeof(rec));
        if (lt[k].dlt == DLT_EN10MB && lt[k].hlen == 0) {
            memcpy(rec, eth, (size_t)n);
            len = (size_t)n;
        } else if (lt[k].dlt == DLT_EN10MB) { /* a VLAN tag after the MACs */
            memcpy(rec, eth, 12);
            rec[12] = 0x81;
            rec[13] = 0x00;
            rec[14] = 0x00;
            rec[15] = 0x2a;
            memcpy(rec + 16, eth + 12, (size_t)n - 12);
            len = (size_t)n + 4;
        } else {
            if (lt[k].dlt == 113) {
                rec[14] = 0x08; /* protocol: IPv4 */
            } else if (lt[k].dlt == 276) {
                rec[0] = 0x08; /* protocol first in SLL2 */
            } else if (lt[k].dlt == DLT_NULL) {
                uint32_t af = 2; /* AF_INET, host order */
                memcpy(rec, &af, 4);
            }
            memcpy(rec + lt[k].hlen, ip, iplen);
            len = lt[k].hlen + iplen;
        }
        w = sc_pcapw_open(path, lt[k].dlt, &err);
        cr_assert_not_null(w, "%s: %s", lt[k].what, err.msg);
        cr_assert_eq(sc_pcapw_write(w, 5, rec, len), 0);
        cr_assert_eq(sc_pcapw_close(w), 0);
        r = sc_pcapr_open(path, NULL, &err);
        cr_assert_not_null(r, "%s: %s", lt[k].what, err.msg);
        cr_assert_eq(sc_pcapr_next(r, &d), 1, "%s: no datagram", lt[k].what);
        check_datagram(&d, 9, 77, 5001);
        cr_assert_eq(d.ts_ns, 5);
        cr_assert_eq(d.frame_len, len, "%s: the record as captured", lt[k].what);
        cr_assert_eq(sc_pcapr_next(r, &d), 0);
        cr_assert_eq(sc_pcapr_stats(r)->datagrams, 1);
        sc_pcapr_close(r);
    }
}

Test(pcap_io, unsupported_link_types_and_non_captures_are_refused_by_name, .init = setup,
     .fini = teardown)
{
    struct sc_err err;
    struct sc_pcapw *w;
    FILE *f;

    w = sc_pcapw_open(path, 105 /* IEEE 802.11 */, &err);
    cr_assert_not_null(w);
    sc_pcapw_close(w);
    memset(&err, 0, sizeof(err));
    cr_assert_null(sc_pcapr_open(path, NULL, &err));
    cr_assert_eq(err.code, -EPROTONOSUPPORT);
    cr_assert(strstr(err.msg, "link type 105") != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, path) != NULL, "%s", err.msg);
    /* not a capture at all */
    f = fopen(path, "wb");
    fputs("this is not a capture, just some text long enough to have a header\n", f);
    fclose(f);
    memset(&err, 0, sizeof(err));
    cr_assert_null(sc_pcapr_open(path, NULL, &err));
    cr_assert_eq(err.code, -EIO);
    cr_assert(strstr(err.msg, path) != NULL, "%s", err.msg);
    /* empty, and missing */
    f = fopen(path, "wb");
    fclose(f);
    cr_assert_null(sc_pcapr_open(path, NULL, &err));
    unlink(path);
    memset(&err, 0, sizeof(err));
    cr_assert_null(sc_pcapr_open(path, NULL, &err));
    cr_assert_eq(err.code, -EIO);
    cr_assert_null(sc_pcapr_open(path, NULL, NULL), "no error struct: still refused");
    /* a filter that does not compile */
    w = sc_pcapw_open(path, DLT_EN10MB, &err);
    sc_pcapw_close(w);
    cr_assert_null(sc_pcapr_open(path, "udp port banana", &err));
    cr_assert_eq(err.code, -EINVAL);
    cr_assert(strstr(err.msg, "banana") != NULL, "%s", err.msg);
    /* a writer on a path that cannot be created */
    cr_assert_null(sc_pcapw_open("/nonexistent-seqcast-dir/x.pcap", DLT_EN10MB, &err));
    cr_assert_eq(err.code, -EIO);
    cr_assert(strstr(err.msg, "/nonexistent-seqcast-dir/x.pcap") != NULL, "%s", err.msg);
}

/* Records that are not ours are skipped, each counted under its reason,
 * and the good ones around them are returned with their record indexes. */
Test(pcap_io, skipped_records_are_counted_by_reason, .init = setup, .fini = teardown)
{
    uint8_t good[200], arp[64], bad_ip[200], tcp[200], frag[200];
    int n = udp_frame(good, sizeof(good), 3, 40, 5000);
    struct sc_arp a = { .op = SC_ARP_REQUEST, .spa = SRC_IP, .tpa = DST_IP };
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    int na = sc_arp_build(arp, sizeof(arp), bcast, &a);
    struct sc_err err;
    struct sc_pcapr *r;
    struct sc_capd d;

    memcpy(bad_ip, good, (size_t)n);
    bad_ip[14 + 10] ^= 0xFF; /* IPv4 header checksum */
    memcpy(tcp, good, (size_t)n);
    tcp[14 + 9] = 6;            /* protocol TCP ... */
    tcp[14 + 10] = tcp[14 + 11] = 0;
    sc_store_be16(tcp + 14 + 10, sc_ipv4_csum(tcp + 14, 20)); /* ... with a good header */
    memcpy(frag, good, (size_t)n);
    frag[14 + 6] = 0x20; /* more fragments */
    frag[14 + 10] = frag[14 + 11] = 0;
    sc_store_be16(frag + 14 + 10, sc_ipv4_csum(frag + 14, 20));
    {
        struct rawrec rec[] = {
            { 1, 0, (uint32_t)na, (uint32_t)na, arp },         /* 0: not UDP */
            { 1, 1, (uint32_t)n, (uint32_t)n, good },          /* 1: returned */
            { 1, 2, (uint32_t)n - 10, (uint32_t)n, good },     /* 2: cut short by the snap length */
            { 1, 3, (uint32_t)n, (uint32_t)n, bad_ip },        /* 3: malformed */
            { 1, 4, (uint32_t)n, (uint32_t)n, tcp },           /* 4: not UDP */
            { 1, 5, (uint32_t)n, (uint32_t)n, frag },          /* 5: malformed (fragment) */
            { 1, 6, (uint32_t)n, (uint32_t)n, good },          /* 6: returned */
        };
        write_raw(path, 0xa1b23c4d, 1, 65535, rec, 7, 0);
    }
    r = sc_pcapr_open(path, NULL, &err);
    cr_assert_not_null(r, "%s", err.msg);
    cr_assert_eq(sc_pcapr_next(r, &d), 1);
    cr_assert_eq(d.index, 1);
    cr_assert_eq(d.ts_ns, 1000000001);
    cr_assert_eq(sc_pcapr_next(r, &d), 1);
    cr_assert_eq(d.index, 6);
    check_datagram(&d, 3, 40, 5000);
    cr_assert_eq(sc_pcapr_next(r, &d), 0);
    {
        const struct sc_pcapr_stats *st = sc_pcapr_stats(r);
        char line[256];
        cr_assert_eq(st->records, 7);
        cr_assert_eq(st->datagrams, 2);
        cr_assert_eq(st->not_udp, 2);
        cr_assert_eq(st->truncated, 1);
        cr_assert_eq(st->malformed, 2);
        cr_assert_eq(st->filtered, 0);
        sc_pcapr_describe(st, line, sizeof(line));
        cr_assert(strstr(line, "7 records") && strstr(line, "2 not IPv4/UDP") &&
                      strstr(line, "1 cut short") && strstr(line, "2 malformed"),
                  "%s", line);
    }
    sc_pcapr_close(r);
    /* with a filter: records it rejects are counted as filtered, not read further */
    r = sc_pcapr_open(path, "udp port 5001", &err);
    cr_assert_not_null(r, "%s", err.msg);
    cr_assert_eq(sc_pcapr_next(r, &d), 0);
    cr_assert_eq(sc_pcapr_stats(r)->records, 7);
    cr_assert_eq(sc_pcapr_stats(r)->filtered, 7);
    cr_assert_eq(sc_pcapr_stats(r)->datagrams, 0);
    sc_pcapr_close(r);
}

/* A file cut in the middle of a record (a crash while capturing): everything
 * before it is read, then -EIO with a message naming the last good record. */
Test(pcap_io, a_file_damaged_mid_record_reads_to_the_last_good_record, .init = setup,
     .fini = teardown)
{
    uint8_t f[300];
    int n = udp_frame(f, sizeof(f), 4, 100, 5000);
    struct rawrec rec[4] = {
        { 1, 0, (uint32_t)n, (uint32_t)n, f },
        { 1, 1, (uint32_t)n, (uint32_t)n, f },
        { 1, 2, (uint32_t)n, (uint32_t)n, f },
        { 1, 3, (uint32_t)n, (uint32_t)n, f },
    };
    struct sc_err err;
    struct sc_pcapr *r;
    struct sc_capd d;

    write_raw(path, 0xa1b23c4d, 1, 65535, rec, 4, 30); /* the 4th record lacks 30 bytes */
    r = sc_pcapr_open(path, NULL, &err);
    cr_assert_not_null(r, "%s", err.msg);
    for (unsigned i = 0; i < 3; i++) {
        cr_assert_eq(sc_pcapr_next(r, &d), 1, "record %u", i);
        cr_assert_eq(d.index, i);
    }
    cr_assert_eq(sc_pcapr_next(r, &d), -EIO, "a damaged tail read as a clean end");
    cr_assert(strstr(sc_pcapr_error(r), "damaged after record 3") != NULL, "%s",
              sc_pcapr_error(r));
    cr_assert(strstr(sc_pcapr_error(r), path) != NULL, "%s", sc_pcapr_error(r));
    sc_pcapr_close(r);
    /* a record header that claims more than any snap length: damaged too */
    rec[1].caplen = rec[1].len = 0x7fffffff;
    rec[1].data = NULL; /* only the header: there are not 2 GB of frame to write */
    write_raw(path, 0xa1b23c4d, 1, 65535, rec, 2, 0);
    r = sc_pcapr_open(path, NULL, &err);
    cr_assert_not_null(r, "%s", err.msg);
    cr_assert_eq(sc_pcapr_next(r, &d), 1);
    cr_assert_eq(sc_pcapr_next(r, &d), -EIO);
    sc_pcapr_close(r);
}

/* A UDP GSO send seen on the sending host: one datagram holding several PGM
 * packets back to back is returned as those packets, the record once. */
Test(pcap_io, a_gso_datagram_is_split_into_its_pgm_packets, .init = setup, .fini = teardown)
{
    uint8_t pl[1200], fr[1400];
    struct sc_pgm_pkt k;
    struct sc_err err;
    struct sc_pcapw *w;
    struct sc_pcapr *r;
    struct sc_capd d;
    size_t off = 0;
    int sizes[3], n;
    struct sc_udp4_meta m = { .src_ip = SRC_IP, .dst_ip = DST_IP, .src_port = 40000,
                              .dst_port = 5000, .ttl = 1 };

    for (int i = 0; i < 3; i++) {
        uint8_t tsdu[300];
        memset(&k, 0, sizeof(k));
        k.type = SC_PGM_ODATA;
        k.sport = 1234;
        k.dport = 7500;
        k.data.sqn = 10 + (uint32_t)i;
        memset(tsdu, 'a' + i, sizeof(tsdu));
        k.tsdu = tsdu;
        k.tsdu_len = (uint16_t)(100 + 50 * i);
        sizes[i] = sc_pgm_encode(pl + off, sizeof(pl) - off, &k);
        cr_assert_gt(sizes[i], 0);
        off += (size_t)sizes[i];
    }
    n = sc_udp4_build(fr, sizeof(fr), &m, pl, off, 0);
    cr_assert_gt(n, 0);
    w = sc_pcapw_open(path, DLT_EN10MB, &err);
    cr_assert_not_null(w);
    sc_pcapw_write(w, 42, fr, (size_t)n);
    sc_pcapw_close(w);
    r = sc_pcapr_open(path, NULL, &err);
    cr_assert_not_null(r);
    off = 0;
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(sc_pcapr_next(r, &d), 1, "piece %d", i);
        cr_assert_eq(d.len, sizes[i], "piece %d: %u bytes, want %d", i, d.len, sizes[i]);
        cr_assert_eq(memcmp(d.payload, pl + off, (size_t)sizes[i]), 0);
        cr_assert_eq(sc_pgm_decode(d.payload, d.len, &k, 0), 0);
        cr_assert_eq(k.data.sqn, 10 + (uint32_t)i);
        cr_assert_eq(d.index, 0);
        cr_assert_eq(d.ts_ns, 42);
        if (i == 0)
            cr_assert_not_null(d.frame, "the record goes out with its first packet");
        else
            cr_assert_null(d.frame, "the record went out twice");
        off += (size_t)sizes[i];
    }
    cr_assert_eq(sc_pcapr_next(r, &d), 0);
    cr_assert_eq(sc_pcapr_stats(r)->gso_split, 1);
    cr_assert_eq(sc_pcapr_stats(r)->records, 1);
    sc_pcapr_close(r);
}

/* The writer writes the file libpcap's dumper writes, byte for byte (the
 * header for each link type, every record header, frames of every size up to
 * over the snap length, 9 MB in all: the 4 MiB buffer written out in blocks,
 * O_DIRECT on a disk), and after each flush the file is exactly the dumper's
 * records so far: a reader of the growing file sees whole records only. */
Test(pcap_io, the_writer_writes_libpcaps_file_byte_for_byte, .init = setup, .fini = teardown,
     .timeout = 60)
{
    static const int lts[] = { DLT_EN10MB, DLT_RAW, 113 /* Linux SLL */ };
    static uint8_t frame[65600];
    char ref[80];
    struct sc_err err;

    snprintf(ref, sizeof(ref), "%s.libpcap", path);
    for (size_t k = 0; k < sizeof(lts) / sizeof(lts[0]); k++) {
        pcap_t *dead = pcap_open_dead_with_tstamp_precision(lts[k], 65535,
                                                            PCAP_TSTAMP_PRECISION_NANO);
        pcap_dumper_t *d = pcap_dump_open(dead, ref);
        struct sc_pcapw *w = sc_pcapw_open(path, lts[k], &err);
        uint64_t seed = 7 + k, ts = 1765000000999999000ull;
        size_t total = 0;

        cr_assert_not_null(d);
        cr_assert_not_null(w, "%s", err.msg);
        for (unsigned i = 0; total < (k ? 300000u : 9000000u); i++) {
            struct pcap_pkthdr h;
            size_t len = i % 97 == 0 ? 65600 : (size_t)(seed = seed * 6364136223846793005ull + 1) >> 53;
            memset(frame, (int)i, len);
            ts += (seed >> 40) % 3000000000ull;
            h.ts.tv_sec = (time_t)(ts / 1000000000u);
            h.ts.tv_usec = (suseconds_t)(ts % 1000000000u);
            h.caplen = h.len = (bpf_u_int32)len;
            pcap_dump((u_char *)d, &h, frame);
            cr_assert_eq(sc_pcapw_write(w, ts, frame, len), 0);
            total += len + 16;
            if (i % 1000 == 999) { /* a flush: the file so far, whole */
                size_t la = 0, lb = 0;
                uint8_t *a, *b;
                cr_assert_eq(sc_pcapw_flush(w), 0);
                pcap_dump_flush(d);
                a = tu_slurp(path, &la);
                b = tu_slurp(ref, &lb);
                cr_assert(a && b);
                cr_assert_eq(la, lb, "after record %u: %zu bytes, libpcap's %zu", i, la, lb);
                cr_assert_eq(memcmp(a, b, la), 0, "after record %u", i);
                free(a);
                free(b);
            }
        }
        pcap_dump_close(d);
        pcap_close(dead);
        cr_assert_eq(sc_pcapw_close(w), 0);
        {
            size_t la = 0, lb = 0;
            uint8_t *a = tu_slurp(path, &la), *b = tu_slurp(ref, &lb);
            cr_assert(a && b);
            cr_assert_eq(la, lb, "link type %d: %zu bytes, libpcap's %zu", lts[k], la, lb);
            cr_assert_eq(memcmp(a, b, la), 0, "link type %d: not libpcap's bytes", lts[k]);
            free(a);
            free(b);
        }
    }
    unlink(ref);
}
