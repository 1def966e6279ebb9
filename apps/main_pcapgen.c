/* seqcast-pcapgen: write captures of every packet seqcast speaks, made by the
 * project's own encoders, for Wireshark checks, demos and test data.
 *
 *   pgm.pcap         every PGM type and option seqcast sends, UDP-encapsulated
 *   soupbintcp.pcap  every SoupBinTCP type, over real-looking TCP conversations
 *   moldudp64.pcap   MoldUDP64 data, heartbeat and end-of-session blocks
 *   --corrupt adds pgm_bad.pcap (two bad checksums) and soupbintcp_bad.pcap
 *   (a left-justified sequence number), which a dissector must flag.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <seqcast/proto/csum.h>
#include <seqcast/proto/endian.h>
#include <seqcast/proto/mold.h>
#include <seqcast/proto/netframe.h>
#include <seqcast/proto/pgm.h>
#include <seqcast/proto/soup.h>
#include <seqcast/pcap.h>
#include "apps/msggen.h"

#define DLT_ETHERNET 1
#define PUB_IP "198.18.0.1"
#define SUB_IP "198.18.0.2"
#define GROUP_IP "239.192.0.1"
#define MCAST_PORT 3056
#define NAK_PORT 3055
#define TSI_PORT 0x1234
#define DATA_PORT 7500
#define SOUP_PORT 15000
#define MOLD_PORT 30001

static const uint8_t GSI[6] = { 0x9c, 0x5f, 0x10, 0x23, 0x44, 0xa1 };
static const uint8_t PUB_MAC[6] = { 0x02, 0x53, 0x43, 0x00, 0x00, 0x01 };
static const uint8_t SUB_MAC[6] = { 0x02, 0x53, 0x43, 0x00, 0x00, 0x02 };

#define DLT_RAW_IP 12   /* raw IPv4 (written as LINKTYPE_RAW, 101) */
#define DLT_SLL 113     /* Linux cooked capture */
#define DLT_WIFI 105    /* IEEE 802.11: a link type seqcast does not read */
#define APDU_LEN 3000   /* the fragmented APDU of pgm.pcap */

struct gen {
    struct sc_pcapw *w;
    uint64_t ts;
    int frames;
    int linktype; /* 0 = Ethernet; DLT_RAW_IP or DLT_SLL: the frame is re-wrapped */
};

static uint32_t
ip(const char *s)
{
    return inet_addr(s);
}

static void
emit(struct gen *g, const uint8_t *frame, int len)
{
    if (len < 0) {
        fprintf(stderr, "seqcast-pcapgen: encoder error: %s\n", sc_perr_str(len));
        exit(1);
    }
    if (g->linktype && len > SC_ETH_HDR_LEN) { /* the IPv4 packet without Ethernet padding */
        uint8_t out[2048];
        size_t ip_len = (size_t)frame[16] << 8 | frame[17], hl = 0;
        if (g->linktype == DLT_SLL) { /* packet type, ARPHRD_ETHER, address, protocol */
            static const uint8_t sll[16] = { 0, 2, 0, 1, 0, 6, 0x02, 0x53, 0x43, 0, 0, 1, 0, 0,
                                             0x08, 0x00 };
            memcpy(out, sll, hl = sizeof(sll));
        }
        memcpy(out + hl, frame + SC_ETH_HDR_LEN, ip_len);
        sc_pcapw_write(g->w, g->ts, out, hl + ip_len);
    } else {
        sc_pcapw_write(g->w, g->ts, frame, (size_t)len);
    }
    g->ts += 1000000; /* 1 ms apart */
    g->frames++;
}

/* A UDP datagram from src to dst (multicast destinations get the mapped MAC). */
static void
udp(struct gen *g, const char *src, const char *dst, uint16_t sport, uint16_t dport,
    const uint8_t *payload, int len)
{
    uint8_t frame[2048];
    struct sc_udp4_meta m = { .ttl = 64, .src_port = sport, .dst_port = dport };

    if (len < 0) {
        emit(g, NULL, len);
        return;
    }
    m.src_ip = ip(src);
    m.dst_ip = ip(dst);
    memcpy(m.src_mac, !strcmp(src, PUB_IP) ? PUB_MAC : SUB_MAC, 6);
    if (sc_ipv4_is_multicast(m.dst_ip)) {
        sc_mcast_mac(m.dst_ip, m.dst_mac);
        m.ttl = 1; /* multicast stays on the link */
    } else
        memcpy(m.dst_mac, !strcmp(dst, PUB_IP) ? PUB_MAC : SUB_MAC, 6);
    m.ip_id = (uint16_t)g->frames;
    emit(g, frame, sc_udp4_build(frame, sizeof(frame), &m, payload, (size_t)len, SC_NF_UDP_CSUM));
}

static struct sc_pgm_pkt
down(uint8_t type)
{
    struct sc_pgm_pkt p = { .sport = TSI_PORT, .dport = DATA_PORT, .type = type };

    memcpy(p.gsi, GSI, 6);
    return p;
}

static struct sc_pgm_pkt
nak_like(uint8_t type, uint32_t sqn)
{
    struct sc_pgm_pkt p = down(type);
    uint32_t a = ip(PUB_IP), gr = ip(GROUP_IP);

    if (type != SC_PGM_NCF) { /* upstream: ports swap */
        p.sport = DATA_PORT;
        p.dport = TSI_PORT;
    }
    p.nak.sqn = sqn;
    p.nak.src.afi = p.nak.grp.afi = SC_PGM_AFI_IP;
    memcpy(p.nak.src.addr, &a, 4);
    memcpy(p.nak.grp.addr, &gr, 4);
    return p;
}

static struct sc_pgm_pkt
spm(uint32_t sqn, uint32_t trail, uint32_t lead)
{
    struct sc_pgm_pkt p = down(SC_PGM_SPM);
    uint32_t a = ip(PUB_IP);

    p.spm.sqn = sqn;
    p.spm.trail = trail;
    p.spm.lead = lead;
    p.spm.nla.afi = SC_PGM_AFI_IP;
    memcpy(p.spm.nla.addr, &a, 4);
    return p;
}

static struct sc_pgm_pkt
odata(uint32_t sqn, const void *payload, uint16_t len)
{
    struct sc_pgm_pkt p = down(SC_PGM_ODATA);

    p.data.sqn = sqn;
    p.data.trail = 0;
    p.tsdu = payload;
    p.tsdu_len = len;
    return p;
}

static void
pgm_to_group(struct gen *g, const struct sc_pgm_pkt *p)
{
    uint8_t b[2048];
    udp(g, PUB_IP, GROUP_IP, 40000, MCAST_PORT, b, sc_pgm_encode(b, sizeof(b), p));
}

static void
pgm_to_source(struct gen *g, const struct sc_pgm_pkt *p)
{
    uint8_t b[2048];
    udp(g, SUB_IP, PUB_IP, 40001, NAK_PORT, b, sc_pgm_encode(b, sizeof(b), p));
}

/* Open DIR/name for g. @return 0, or 1 after saying why. */
static int
open_capture(struct gen *g, const char *dir, const char *name, int linktype)
{
    char path[4096];
    struct sc_err err;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (!(g->w = sc_pcapw_open(path, linktype, &err))) {
        fprintf(stderr, "seqcast-pcapgen: %s\n", err.msg);
        return 1;
    }
    return 0;
}

static const uint8_t *
apdu_3000(void)
{
    static uint8_t apdu[APDU_LEN];

    for (size_t i = 0; i < sizeof(apdu); i++)
        apdu[i] = (uint8_t)('A' + i % 26);
    return apdu;
}

/* pgm_bad.pcap: two bad checksums and a good packet */
static void
pgm_bad(struct gen *g)
{
    uint8_t b[256];
    struct sc_pgm_pkt p = odata(0, "hello, world", 12);
    int n = sc_pgm_encode(b, sizeof(b), &p);

    b[n - 1] ^= 0x01; /* payload damaged after the checksum was computed */
    udp(g, PUB_IP, GROUP_IP, 40000, MCAST_PORT, b, n);
    p = nak_like(SC_PGM_NAK, 3);
    n = sc_pgm_encode(b, sizeof(b), &p);
    sc_store_be16(b + 6, (uint16_t)(sc_load_be16(b + 6) + 1)); /* wrong checksum */
    udp(g, SUB_IP, PUB_IP, 40001, NAK_PORT, b, n);
    p = odata(1, "fine", 4); /* control: a good packet in the same capture */
    pgm_to_group(g, &p);
}

/* frames 1-6: SPM, ODATA plain, with SYN, fragmented, a MoldUDP64 block */
static void
pgm_data(struct gen *g, const uint8_t *apdu)
{
    static const uint8_t sess[10] = { 'S', 'E', 'Q', 'C', 'A', 'S', 'T', '0', '0', '1' };
    uint8_t block[256];
    struct sc_mold_enc me;
    struct sc_pgm_pkt p;

    p = spm(0, 0, 0xFFFFFFFF); /* 1: empty window */
    pgm_to_group(g, &p);
    p = odata(0, "hello, world", 12); /* 2 */
    pgm_to_group(g, &p);
    p = odata(1, "first", 5); /* 3: OPT_SYN */
    p.opt.present = SC_PGM_HAS_SYN;
    pgm_to_group(g, &p);
    p = odata(2, apdu, 1400); /* 4, 5: an APDU in two fragments */
    p.opt.present = SC_PGM_HAS_FRAGMENT;
    p.opt.frag = (struct sc_pgm_frag){ 2, 0, APDU_LEN };
    pgm_to_group(g, &p);
    p = odata(3, apdu + 1400, 1400);
    p.opt.present = SC_PGM_HAS_FRAGMENT;
    p.opt.frag = (struct sc_pgm_frag){ 2, 1400, APDU_LEN };
    pgm_to_group(g, &p);
    sc_mold_enc_init(&me, block, sizeof(block), sess, 1); /* 6: a batched block */
    sc_mold_enc_add(&me, "\x41msg-1", 6);
    sc_mold_enc_add(&me, "\x41msg-2", 6);
    sc_mold_enc_add(&me, "\x41msg-3", 6);
    p = odata(4, block, (uint16_t)me.len);
    pgm_to_group(g, &p);
}

static struct sc_pgm_pkt
with_nak_list(struct sc_pgm_pkt p)
{
    p.opt.present = SC_PGM_HAS_NAK_LIST;
    p.opt.nak_list_len = 3;
    p.opt.nak_list[0] = 6;
    p.opt.nak_list[1] = 7;
    p.opt.nak_list[2] = 9;
    return p;
}

/* frames 7-13: NAK, NCF (each also with a list), RDATA, SPMR, NNAK */
static void
pgm_repair(struct gen *g, const uint8_t *apdu)
{
    struct sc_pgm_pkt p;
    uint8_t b[2048];
    int n;

    p = nak_like(SC_PGM_NAK, 3); /* 7 */
    pgm_to_source(g, &p);
    p = with_nak_list(nak_like(SC_PGM_NAK, 5)); /* 8: with a list */
    pgm_to_source(g, &p);
    p = nak_like(SC_PGM_NCF, 3); /* 9 */
    pgm_to_group(g, &p);
    p = with_nak_list(nak_like(SC_PGM_NCF, 5)); /* 10: with the same list */
    pgm_to_group(g, &p);
    p = odata(3, apdu + 1400, 1400); /* 11: RDATA repairing sqn 3 -- the stored ODATA
                                        rewritten, as the engine does */
    p.opt.present = SC_PGM_HAS_FRAGMENT;
    p.opt.frag = (struct sc_pgm_frag){ 2, 1400, APDU_LEN };
    n = sc_pgm_encode(b, sizeof(b), &p);
    sc_pgm_make_rdata(b, 1);
    udp(g, PUB_IP, GROUP_IP, 40002, MCAST_PORT, b, n);
    p = nak_like(SC_PGM_SPMR, 0); /* 12: header only (tshark shows it as UDP data) */
    pgm_to_source(g, &p);
    p = nak_like(SC_PGM_NNAK, 3); /* 13 */
    pgm_to_source(g, &p);
}

/* frames 14-18: JOIN, FIN on data, SPMs: heartbeat, FIN, RST */
static void
pgm_end(struct gen *g)
{
    struct sc_pgm_pkt p;

    p = odata(5, "join me", 7); /* 14: OPT_JOIN */
    p.opt.present = SC_PGM_HAS_JOIN;
    p.opt.join_min_sqn = 2;
    pgm_to_group(g, &p);
    p = odata(6, "last", 4); /* 15: OPT_FIN on the last data */
    p.opt.present = SC_PGM_HAS_FIN;
    pgm_to_group(g, &p);
    p = spm(1, 0, 6); /* 16: heartbeat with the window */
    pgm_to_group(g, &p);
    p = spm(2, 0, 6); /* 17: OPT_FIN */
    p.opt.present = SC_PGM_HAS_FIN;
    pgm_to_group(g, &p);
    p = spm(3, 0, 6); /* 18: OPT_RST with the N bit */
    p.opt.present = SC_PGM_HAS_RST;
    p.opt.rst_code = 0x40;
    pgm_to_group(g, &p);
}

/* The frame list here is mirrored by the expectations in tests/integration/test_wireshark.c. */
static int
gen_pgm(const char *dir, bool corrupt)
{
    struct gen g = { .ts = UINT64_C(1700000000) * 1000000000u };
    const uint8_t *apdu = apdu_3000();

    if (open_capture(&g, dir, corrupt ? "pgm_bad.pcap" : "pgm.pcap", DLT_ETHERNET))
        return 1;
    if (corrupt) {
        pgm_bad(&g);
    } else {
        pgm_data(&g, apdu);
        pgm_repair(&g, apdu);
        pgm_end(&g);
    }
    return sc_pcapw_close(g.w) ? 1 : 0;
}

/* ----------------------------------------------------------------- TCP */

struct tcp_conn {
    const char *cip, *sip;
    uint16_t cport, sport;
    uint32_t cseq, sseq; /* next sequence number each side sends */
};

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_PSH 0x08
#define TH_ACK 0x10

/* an IPv4 header without options, DF set, its checksum computed */
static void
ipv4_hdr(uint8_t *ipb, uint32_t src, uint32_t dst, uint8_t proto, size_t payload_len, uint16_t id)
{
    ipb[0] = 0x45;
    ipb[1] = 0;
    sc_store_be16(ipb + 2, (uint16_t)(SC_IPV4_HDR_LEN + payload_len));
    sc_store_be16(ipb + 4, id);
    sc_store_be16(ipb + 6, 0x4000);
    ipb[8] = 64;
    ipb[9] = proto;
    sc_store_be16(ipb + 10, 0);
    memcpy(ipb + 12, &src, 4);
    memcpy(ipb + 16, &dst, 4);
    sc_store_be16(ipb + 10, sc_ipv4_csum(ipb, SC_IPV4_HDR_LEN));
}

/* a 20-byte TCP header and data at t, its checksum over the pseudo-header of ipb */
static void
tcp_hdr(uint8_t *t, const uint8_t *ipb, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
        uint8_t flags, const void *data, size_t len)
{
    uint8_t pseudo[12];
    size_t tl = 20 + len;

    sc_store_be16(t, sport);
    sc_store_be16(t + 2, dport);
    sc_store_be32(t + 4, seq);
    sc_store_be32(t + 8, (flags & TH_ACK) ? ack : 0);
    t[12] = 5 << 4;
    t[13] = flags;
    sc_store_be16(t + 14, 65535);
    sc_store_be16(t + 16, 0);
    sc_store_be16(t + 18, 0);
    if (len)
        memcpy(t + 20, data, len);
    memcpy(pseudo, ipb + 12, 8);
    pseudo[8] = 0;
    pseudo[9] = 6;
    sc_store_be16(pseudo + 10, (uint16_t)tl);
    sc_store_be16(t + 16,
                  sc_csum_fold(sc_csum_partial(t, tl, sc_csum_partial(pseudo, sizeof(pseudo), 0))));
}

static void
tcp_seg(struct gen *g, struct tcp_conn *c, bool from_client, uint8_t flags, const void *data,
        size_t len)
{
    uint8_t f[2048];
    uint8_t *ipb = f + SC_ETH_HDR_LEN;
    uint32_t *seq = from_client ? &c->cseq : &c->sseq, ack = from_client ? c->sseq : c->cseq;
    size_t flen = SC_ETH_HDR_LEN + SC_IPV4_HDR_LEN + 20 + len;

    memcpy(f, from_client ? PUB_MAC : SUB_MAC, 6);
    memcpy(f + 6, from_client ? SUB_MAC : PUB_MAC, 6);
    sc_store_be16(f + 12, SC_ETHERTYPE_IPV4);
    ipv4_hdr(ipb, ip(from_client ? c->cip : c->sip), ip(from_client ? c->sip : c->cip), 6, 20 + len,
             (uint16_t)g->frames);
    tcp_hdr(ipb + SC_IPV4_HDR_LEN, ipb, from_client ? c->cport : c->sport,
            from_client ? c->sport : c->cport, *seq, ack, flags, data, len);
    *seq += (uint32_t)len + ((flags & (TH_SYN | TH_FIN)) ? 1 : 0);
    if (flen < SC_ETH_MIN_FRAME) {
        memset(f + flen, 0, SC_ETH_MIN_FRAME - flen);
        flen = SC_ETH_MIN_FRAME;
    }
    emit(g, f, (int)flen);
}

static void
tcp_open(struct gen *g, struct tcp_conn *c)
{
    tcp_seg(g, c, true, TH_SYN, NULL, 0);
    tcp_seg(g, c, false, TH_SYN | TH_ACK, NULL, 0);
    tcp_seg(g, c, true, TH_ACK, NULL, 0);
}

static void
tcp_close(struct gen *g, struct tcp_conn *c)
{
    tcp_seg(g, c, false, TH_FIN | TH_ACK, NULL, 0);
    tcp_seg(g, c, true, TH_FIN | TH_ACK, NULL, 0);
    tcp_seg(g, c, false, TH_ACK, NULL, 0);
}

static void
soup(struct gen *g, struct tcp_conn *c, bool from_client, const uint8_t *b, int n)
{
    if (n < 0) {
        emit(g, NULL, n);
        return;
    }
    tcp_seg(g, c, from_client, TH_PSH | TH_ACK, b, (size_t)n);
}

/* a login request with a left-justified sequence number */
static void
soup_bad(struct gen *g)
{
    struct tcp_conn c = { SUB_IP, PUB_IP, 40001, SOUP_PORT, 1000, 5000 };
    uint8_t b[512];
    int n;

    tcp_open(g, &c);
    n = sc_soup_encode_login_request(b, sizeof(b), "USER01", "secret", "", 1);
    memcpy(b + 29, "1                   ", 20); /* left-justified number */
    soup(g, &c, true, b, n);
    tcp_close(g, &c);
}

/* a session with every packet type, coalesced and split segments */
static void
soup_session(struct gen *g)
{
    struct tcp_conn c = { SUB_IP, PUB_IP, 40001, SOUP_PORT, 1000, 5000 };
    uint8_t b[512];
    int n, m;

    tcp_open(g, &c);
    soup(g, &c, true, b, sc_soup_encode_login_request(b, sizeof(b), "USER01", "secret", "", 1));
    soup(g, &c, false, b, sc_soup_encode_login_accepted(b, sizeof(b), "SESSION001", 1));
    soup(g, &c, false, b, sc_soup_encode(b, sizeof(b), 'S', "\x01\x02seq-1", 7));
    soup(g, &c, true, b, sc_soup_encode(b, sizeof(b), 'U', "O order-1", 9));
    soup(g, &c, false, b, sc_soup_encode(b, sizeof(b), 'H', NULL, 0));
    soup(g, &c, true, b, sc_soup_encode(b, sizeof(b), 'R', NULL, 0));
    soup(g, &c, true, b, sc_soup_encode(b, sizeof(b), '+', "debug text", 10));
    n = sc_soup_encode(b, sizeof(b), 'S', "\x01\x02seq-2", 7); /* two packets, one segment */
    m = sc_soup_encode(b + n, sizeof(b) - (size_t)n, 'H', NULL, 0);
    soup(g, &c, false, b, n + m);
    n = sc_soup_encode(b, sizeof(b), 'S', "ack order-1 seq-3", 17); /* one packet, two segments */
    soup(g, &c, false, b, 8);
    soup(g, &c, false, b + 8, n - 8);
    soup(g, &c, false, b, sc_soup_encode(b, sizeof(b), 'Z', NULL, 0));
    soup(g, &c, true, b, sc_soup_encode(b, sizeof(b), 'O', NULL, 0));
    tcp_close(g, &c);
}

/* a login refused on its own connection: a bad password, an unknown session */
static void
soup_rejected(struct gen *g, uint16_t cport, uint32_t cseq, const char *password,
              const char *session, char reason)
{
    struct tcp_conn c = { SUB_IP, PUB_IP, cport, SOUP_PORT, cseq, cseq + 4000 };
    uint8_t b[512];

    tcp_open(g, &c);
    soup(g, &c, true, b,
         sc_soup_encode_login_request(b, sizeof(b), "USER01", password, session, 1));
    soup(g, &c, false, b, sc_soup_encode_login_rejected(b, sizeof(b), reason));
    tcp_close(g, &c);
}

/* The frame list here is mirrored by the expectations in tests/integration/test_wireshark.c. */
static int
gen_soup(const char *dir, bool corrupt)
{
    struct gen g = { .ts = UINT64_C(1700000000) * 1000000000u };

    if (open_capture(&g, dir, corrupt ? "soupbintcp_bad.pcap" : "soupbintcp.pcap", DLT_ETHERNET))
        return 1;
    if (corrupt) {
        soup_bad(&g);
    } else {
        soup_session(&g);
        soup_rejected(&g, 40002, 2000, "wrong", "", 'A');
        soup_rejected(&g, 40003, 3000, "secret", "OLDSESSION", 'S');
    }
    return sc_pcapw_close(g.w) ? 1 : 0;
}

static int
gen_mold(const char *dir)
{
    static const uint8_t sess[10] = { 'S', 'E', 'Q', 'C', 'A', 'S', 'T', '0', '0', '1' };
    struct gen g = { .ts = UINT64_C(1700000000) * 1000000000u };
    struct sc_mold_hdr h = { .seq = 3, .count = SC_MOLD_COUNT_HEARTBEAT };
    struct sc_mold_enc e;
    uint8_t b[256];

    if (open_capture(&g, dir, "moldudp64.pcap", DLT_ETHERNET))
        return 1;
    memcpy(h.session, sess, 10);
    sc_mold_enc_init(&e, b, sizeof(b), sess, 1);
    sc_mold_enc_add(&e, "S\x00\x01", 3);
    sc_mold_enc_add(&e, "hello", 5);
    udp(&g, PUB_IP, GROUP_IP, 40000, MOLD_PORT, b, (int)e.len);
    udp(&g, PUB_IP, GROUP_IP, 40000, MOLD_PORT, b, sc_mold_encode_hdr(b, sizeof(b), &h));
    h.seq = 3;
    h.count = SC_MOLD_COUNT_EOS;
    udp(&g, PUB_IP, GROUP_IP, 40000, MOLD_PORT, b, sc_mold_encode_hdr(b, sizeof(b), &h));
    return sc_pcapw_close(g.w) ? 1 : 0;
}

/* ODATA sqn carrying message sqn + 1 (32 generated bytes) in a MoldUDP64 block */
static void
feed_odata(struct gen *g, uint32_t sqn)
{
    static const uint8_t sess[SC_MOLD_SESSION_LEN] = "FEED000001";
    uint8_t msg[32], block[64];
    struct sc_mold_enc me;
    struct sc_pgm_pkt p;

    sc_msggen_fill(sqn + 1, msg, sizeof(msg));
    sc_mold_enc_init(&me, block, sizeof(block), sess, sqn + 1);
    sc_mold_enc_add(&me, msg, sizeof(msg));
    p = odata(sqn, block, (uint16_t)me.len);
    pgm_to_group(g, &p);
}

/* A feed as seqcast-pub sends it (defaults: 239.192.0.1:3056, PGM port 7500):
 * an SPM, then n ODATA each carrying one 32-byte generated message (sequence =
 * sqn + 1, so seqcast-sub --verify checks every byte), an SPM every 100 packets
 * and a final SPM with FIN; 100 us apart. ODATA hole_from..hole_to (sqns,
 * inclusive) are left out when hole_to >= hole_from: the messages
 * hole_from + 1 .. hole_to + 1 are missing, and nobody can repair them. */
static int
gen_feed(const char *dir, const char *name, uint32_t n, int64_t hole_from, int64_t hole_to,
         int linktype)
{
    struct gen g = { .ts = UINT64_C(1700000000) * 1000000000u, .linktype = linktype };
    struct sc_pgm_pkt p;
    uint32_t spm_sqn = 0;

    if (open_capture(&g, dir, name, linktype ? linktype : DLT_ETHERNET))
        return 1;
    p = spm(spm_sqn++, 0, UINT32_MAX);
    pgm_to_group(&g, &p);
    for (uint32_t sqn = 0; sqn < n; sqn++) {
        if (sqn % 100 == 99) {
            p = spm(spm_sqn++, 0, sqn - 1);
            pgm_to_group(&g, &p);
        }
        if ((int64_t)sqn >= hole_from && (int64_t)sqn <= hole_to) {
            g.ts += 100000;
            continue;
        }
        feed_odata(&g, sqn);
        g.ts -= 900000; /* emit() steps 1 ms; a feed is denser */
    }
    p = spm(spm_sqn, 0, n - 1);
    p.opt.present |= SC_PGM_HAS_FIN;
    pgm_to_group(&g, &p);
    if (sc_pcapw_close(g.w) < 0) {
        fprintf(stderr, "seqcast-pcapgen: %s/%s: write failed\n", dir, name);
        return 1;
    }
    return 0;
}

/* A MoldUDP64 feed as an exchange's link carries it and a capture appliance
 * records it: 802.1Q-tagged Ethernet (VLAN 42), the feed's source port
 * changing once (the exchange's sender restarted its socket), sequence numbers
 * from MOLD_FEED_FIRST, 1 to 5 generated messages per packet (the number is
 * the sequence: seqcast-sub --verify checks every byte), a heartbeat every 100
 * packets, another feed on the same link (another port: filtered), and three
 * End of Session packets. Packets hole_from..hole_to (0-based, inclusive) are
 * left out when hole_to >= hole_from. */
#define MOLD_FEED_FIRST 14000000ull
#define MOLD_FEED_GROUP "239.198.18.77"
#define MOLD_FEED_PORT 26400
#define MOLD_FEED_PACKETS 1000

static void
udp_vlan(struct gen *g, uint16_t sport, uint16_t dport, const uint8_t *payload, int len)
{
    uint8_t frame[2048], tagged[2052];
    struct sc_udp4_meta m = { .ttl = 31, .src_port = sport, .dst_port = dport,
                              .ip_id = (uint16_t)g->frames };
    int n;

    m.src_ip = ip("198.18.40.1");
    m.dst_ip = ip(MOLD_FEED_GROUP);
    memcpy(m.src_mac, PUB_MAC, 6);
    sc_mcast_mac(m.dst_ip, m.dst_mac);
    n = sc_udp4_build(frame, sizeof(frame), &m, payload, (size_t)len, SC_NF_UDP_CSUM);
    if (n < 0) {
        emit(g, NULL, n);
        return;
    }
    memcpy(tagged, frame, 12);              /* the MACs */
    sc_store_be16(tagged + 12, 0x8100);     /* 802.1Q */
    sc_store_be16(tagged + 14, 42);         /* priority 0, VLAN 42 */
    memcpy(tagged + 16, frame + 12, (size_t)n - 12);
    emit(g, tagged, n + 4);
}

static int
gen_mold_feed(const char *dir, const char *name, int hole_from, int hole_to)
{
    static const uint8_t sess[SC_MOLD_SESSION_LEN] = "NSDQ00042A";
    struct gen g = { .ts = UINT64_C(1765000000) * 1000000000u };
    uint64_t seq = MOLD_FEED_FIRST;
    struct sc_mold_hdr h;
    uint8_t b[1500], msg[64];

    if (open_capture(&g, dir, name, DLT_ETHERNET))
        return 1;
    memcpy(h.session, sess, sizeof(sess));
    h.seq = seq;
    h.count = SC_MOLD_COUNT_HEARTBEAT;
    for (int pkt = 0; pkt < MOLD_FEED_PACKETS; pkt++) {
        struct sc_mold_enc e;
        uint16_t sport = pkt < MOLD_FEED_PACKETS / 2 ? 26477 : 26481;
        int n = 1 + pkt % 5;
        if (pkt % 100 == 99) {
            h.seq = seq;
            h.count = SC_MOLD_COUNT_HEARTBEAT;
            udp_vlan(&g, sport, MOLD_FEED_PORT, b, sc_mold_encode_hdr(b, sizeof(b), &h));
        }
        if (pkt % 250 == 7) { /* another feed on the link: its heartbeat */
            h.seq = 777;
            h.count = SC_MOLD_COUNT_HEARTBEAT;
            udp_vlan(&g, 26478, MOLD_FEED_PORT + 1, b, sc_mold_encode_hdr(b, sizeof(b), &h));
        }
        sc_mold_enc_init(&e, b, sizeof(b), sess, seq);
        for (int i = 0; i < n; i++, seq++) {
            size_t len = 20 + seq % 40;
            sc_msggen_fill(seq, msg, len);
            sc_mold_enc_add(&e, msg, (uint16_t)len);
        }
        if (pkt >= hole_from && pkt <= hole_to)
            g.ts += 1000000;
        else
            udp_vlan(&g, sport, MOLD_FEED_PORT, b, (int)e.len);
        g.ts -= 900000; /* emit() steps 1 ms; a feed is denser */
    }
    h.seq = seq;
    h.count = SC_MOLD_COUNT_EOS;
    for (int i = 0; i < 3; i++)
        udp_vlan(&g, 26481, MOLD_FEED_PORT, b, sc_mold_encode_hdr(b, sizeof(b), &h));
    if (sc_pcapw_close(g.w) < 0) {
        fprintf(stderr, "seqcast-pcapgen: %s/%s: write failed\n", dir, name);
        return 1;
    }
    return 0;
}

/* wifi.pcap: one frame of a link nobody here reads */
static int
gen_wifi(const char *dir)
{
    static const uint8_t beacon[24] = { 0x80, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    struct gen g = { .ts = UINT64_C(1700000000) * 1000000000u };

    if (open_capture(&g, dir, "wifi.pcap", DLT_WIFI))
        return 1;
    sc_pcapw_write(g.w, g.ts, beacon, sizeof(beacon));
    return sc_pcapw_close(g.w) < 0;
}

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: seqcast-pcapgen [--out DIR] [--corrupt]\n"
            "\n"
            "Writes captures of every packet type seqcast speaks, built by its own encoders:\n"
            "  DIR/pgm.pcap         PGM over UDP (ports %d and %d): SPM, ODATA (with SYN,\n"
            "                       FRAGMENT, JOIN, FIN and a MoldUDP64 block), NAK and NCF\n"
            "                       (with a NAK list), RDATA, SPMR, NNAK, SPM with FIN and RST\n"
            "  DIR/soupbintcp.pcap  SoupBinTCP 4.0 on TCP port %d: every packet type\n"
            "  DIR/moldudp64.pcap   MoldUDP64 on UDP port %d: data, heartbeat, end of session\n"
            "  DIR/feed.pcap        a 1000-packet feed to 239.192.0.1:3056 as seqcast-pub sends\n"
            "                       it (seqcast-sub --pcap --verify reads it whole)\n"
            "  DIR/feed_hole.pcap   the same without ODATA 100-109 (messages 101-110): a\n"
            "                       hole nobody can repair\n"
            "  DIR/feed_rawip.pcap, DIR/feed_sll.pcap  feed.pcap as raw IP and Linux cooked\n"
            "                       captures\n"
            "  DIR/mold_feed.pcap   a native MoldUDP64 feed to 239.198.18.77:26400 as an\n"
            "                       exchange's link carries it: 802.1Q VLAN 42, sequences from\n"
            "                       14,000,000 (3,000 messages), heartbeats, End of Session\n"
            "  DIR/mold_feed_hole.pcap  the same without packets 300-309\n"
            "  DIR/wifi.pcap        an 802.11 link (not read)\n"
            "\n"
            "  -o, --out DIR   where to write (default .)\n"
            "  -c, --corrupt   also write pgm_bad.pcap and soupbintcp_bad.pcap, which a\n"
            "                  dissector must flag (bad checksums, bad padding)\n"
            "  -h, --help      this text\n"
            "\n"
            "Inspect with:  tshark -r DIR/pgm.pcap -d udp.port==%d-%d,pgm -V\n",
            NAK_PORT, MCAST_PORT, SOUP_PORT, MOLD_PORT, NAK_PORT, MCAST_PORT);
}

struct opts {
    const char *dir;
    bool corrupt;
};

/* @return -1 to go on, else the exit status. */
static int
parse(int argc, char **argv, struct opts *o)
{
    static const struct option opts[] = { { "out", required_argument, NULL, 'o' },
                                           { "corrupt", no_argument, NULL, 'c' },
                                           { "help", no_argument, NULL, 'h' },
                                           { NULL, 0, NULL, 0 } };
    int c;

    while ((c = getopt_long(argc, argv, "o:ch", opts, NULL)) != -1) {
        switch (c) {
        case 'o': o->dir = optarg; break;
        case 'c': o->corrupt = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "seqcast-pcapgen: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    return -1;
}

/* Every capture into o->dir (made if missing). @return the exit status: 1 if
 * any could not be written (each said). */
static int
generate(const struct opts *o)
{
    const char *dir = o->dir;
    int rc = 0;

    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "seqcast-pcapgen: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    rc |= gen_pgm(dir, false) | gen_soup(dir, false) | gen_mold(dir);
    rc |= gen_feed(dir, "feed.pcap", 1000, 1, 0, 0);
    rc |= gen_feed(dir, "feed_hole.pcap", 1000, 100, 109, 0);
    rc |= gen_feed(dir, "feed_rawip.pcap", 1000, 1, 0, DLT_RAW_IP);
    rc |= gen_feed(dir, "feed_sll.pcap", 1000, 1, 0, DLT_SLL);
    rc |= gen_mold_feed(dir, "mold_feed.pcap", 1, 0);
    rc |= gen_mold_feed(dir, "mold_feed_hole.pcap", 300, 309);
    rc |= gen_wifi(dir);
    if (o->corrupt)
        rc |= gen_pgm(dir, true) | gen_soup(dir, true);
    return rc;
}

int
main(int argc, char **argv)
{
    struct opts o = { .dir = "." };
    int rc;

    if ((rc = parse(argc, argv, &o)) >= 0)
        return rc;
    return generate(&o);
}
