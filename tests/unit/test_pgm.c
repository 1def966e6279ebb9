/* PGM codec: golden packets from wire-specs.md s.1.11 (verified in tshark),
 * round trips, every malformed class, boundary sizes, incremental RDATA checksum. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include <seqcast/proto/csum.h>
#include <seqcast/proto/endian.h>
#include <seqcast/proto/pgm.h>
#include "tests/support/testutil.h"

static const uint8_t GSI[6] = { 0x9c, 0x5f, 0x10, 0x23, 0x44, 0xa1 };

struct golden {
    const char *name;
    const char *hex;
};

static const struct golden goldens[] = {
    { "SPM empty window",
      "12341d4c0000d5599c5f102344a1 0000 00000000 00000000 ffffffff 0001 0000 0a000001" },
    { "ODATA hello", "12341d4c04009b039c5f102344a1 000c 00000000 00000000 "
                     "68656c6c6f2c20776f726c64" },
    { "ODATA+SYN", "12341d4c040101679c5f102344a1 0005 00000001 00000000 00040008 8d040000 "
                   "6669727374" },
    { "NAK 3", "1d4c12340800dd939c5f102344a1 0000 00000003 0001 0000 0a000001 0001 0000 efc00001" },
    { "NAK list", "1d4c123408035b549c5f102344a1 0000 00000004 0001 0000 0a000001 0001 0000 "
                  "efc00001 00040014 82100000 00000005 00000006 00000008" },
    { "NCF 3", "12341d4c0a00db939c5f102344a1 0000 00000003 0001 0000 0a000001 0001 0000 efc00001" },
    { "SPMR", "1d4c12340c00d35b9c5f102344a1 0000" },
    { "SPM+FIN", "12341d4c0001473e9c5f102344a1 0000 00000002 00000000 00000008 0001 0000 "
                 "0a000001 00040008 8e040000" },
    { "SPM+RST", "12341d4c000145fd9c5f102344a1 0000 00000003 00000000 00000008 0001 0000 "
                 "0a000001 00040008 8f040040" },
};

/* Every golden packet decodes, and re-encoding the decoded struct gives the
 * identical bytes, checksum included. */
Test(pgm, golden_decode_encode_identical)
{
    for (size_t i = 0; i < sizeof(goldens) / sizeof(goldens[0]); i++) {
        uint8_t in[256], out[256];
        size_t n = tu_hex(goldens[i].hex, in, sizeof(in));
        struct sc_pgm_pkt p;
        int rc = sc_pgm_decode(in, n, &p, 0);
        cr_assert_eq(rc, 0, "%s: decode %s", goldens[i].name, sc_perr_str(rc));
        cr_assert_arr_eq(p.gsi, GSI, 6);
        rc = sc_pgm_encode(out, sizeof(out), &p);
        cr_assert_eq(rc, (int)n, "%s: encoded %d bytes, want %zu", goldens[i].name, rc, n);
        cr_assert_arr_eq(out, in, n, "%s: bytes differ", goldens[i].name);
    }
}

/* sc_pgm_packet_len finds where each golden packet ends when others follow it
 * (a UDP GSO send seen whole in a capture), and refuses a cut one. */
Test(pgm, packet_len_with_more_behind)
{
    for (size_t i = 0; i < sizeof(goldens) / sizeof(goldens[0]); i++) {
        uint8_t in[512];
        size_t n = tu_hex(goldens[i].hex, in, sizeof(in) / 2);
        memcpy(in + n, in, n); /* the same packet again behind it */
        cr_assert_eq(sc_pgm_packet_len(in, 2 * n), (int)n, "%s", goldens[i].name);
        cr_assert_eq(sc_pgm_packet_len(in, n), (int)n, "%s alone", goldens[i].name);
        cr_assert_lt(sc_pgm_packet_len(in, n - 1), 0, "%s cut by one byte", goldens[i].name);
    }
}

Test(pgm, golden_fields)
{
    uint8_t b[256];
    struct sc_pgm_pkt p;
    size_t n;

    n = tu_hex(goldens[0].hex, b, sizeof(b));
    cr_assert_eq(sc_pgm_decode(b, n, &p, 0), 0);
    cr_assert_eq(p.type, SC_PGM_SPM);
    cr_assert_eq(p.sport, 0x1234);
    cr_assert_eq(p.dport, 7500);
    cr_assert_eq(p.spm.lead, 0xFFFFFFFF);
    cr_assert_eq(p.spm.nla.afi, SC_PGM_AFI_IP);
    cr_assert_eq(p.spm.nla.addr[0], 10);
    cr_assert_eq(p.spm.nla.addr[3], 1);

    n = tu_hex(goldens[4].hex, b, sizeof(b));
    cr_assert_eq(sc_pgm_decode(b, n, &p, 0), 0);
    cr_assert_eq(p.type, SC_PGM_NAK);
    cr_assert_eq(p.flags, SC_PGM_OPT_PRESENT | SC_PGM_OPT_NETWORK);
    cr_assert_eq(p.nak.sqn, 4);
    cr_assert_eq(p.opt.nak_list_len, 3);
    cr_assert_eq(p.opt.nak_list[0], 5);
    cr_assert_eq(p.opt.nak_list[2], 8);
    cr_assert_eq(p.nak.grp.addr[0], 0xef);

    n = tu_hex(goldens[2].hex, b, sizeof(b));
    cr_assert_eq(sc_pgm_decode(b, n, &p, 0), 0);
    cr_assert(p.opt.present & SC_PGM_HAS_SYN);
    cr_assert_eq(p.tsdu_len, 5);
    cr_assert_eq(memcmp(p.tsdu, "first", 5), 0);

    n = tu_hex(goldens[8].hex, b, sizeof(b));
    cr_assert_eq(sc_pgm_decode(b, n, &p, 0), 0);
    cr_assert(p.opt.present & SC_PGM_HAS_RST);
    cr_assert_eq(p.opt.rst_code, 0x40);
}

static struct sc_pgm_pkt
odata(uint32_t sqn, const void *payload, uint16_t len)
{
    struct sc_pgm_pkt p = { .sport = 0x1234, .dport = 7500, .type = SC_PGM_ODATA };
    memcpy(p.gsi, GSI, 6);
    p.data.sqn = sqn;
    p.data.trail = sqn > 10 ? sqn - 10 : 0;
    p.tsdu = payload;
    p.tsdu_len = len;
    return p;
}

Test(pgm, fragment_round_trip)
{
    uint8_t payload[1400], b[2048];
    struct sc_pgm_pkt p = odata(100, payload, sizeof(payload)), q;
    int n;

    for (size_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i * 7);
    p.opt.present = SC_PGM_HAS_FRAGMENT;
    p.opt.frag.first_sqn = 99;
    p.opt.frag.offset = 1400;
    p.opt.frag.apdu_len = 3000;
    n = sc_pgm_encode(b, sizeof(b), &p);
    cr_assert_eq(n, 16 + 8 + 4 + 16 + 1400);
    cr_assert_eq(b[5], SC_PGM_OPT_PRESENT, "fragment is not network-significant");
    cr_assert_eq(sc_pgm_decode(b, (size_t)n, &q, 0), 0);
    cr_assert_eq(q.opt.frag.first_sqn, 99);
    cr_assert_eq(q.opt.frag.offset, 1400);
    cr_assert_eq(q.opt.frag.apdu_len, 3000);
    cr_assert_eq(q.tsdu_len, 1400);
    cr_assert_arr_eq(q.tsdu, payload, 1400);
}

Test(pgm, nak_list_boundaries)
{
    uint8_t b[512];
    struct sc_pgm_pkt p = { .sport = 7500, .dport = 0x1234, .type = SC_PGM_NAK }, q;
    int n;

    p.nak.src.afi = p.nak.grp.afi = SC_PGM_AFI_IP;
    p.nak.sqn = 1000;
    p.opt.present = SC_PGM_HAS_NAK_LIST;
    p.opt.nak_list_len = SC_PGM_MAX_NAK_LIST;
    for (unsigned i = 0; i < SC_PGM_MAX_NAK_LIST; i++)
        p.opt.nak_list[i] = 1001 + i;
    n = sc_pgm_encode(b, sizeof(b), &p);
    cr_assert_gt(n, 0);
    cr_assert_eq(sc_pgm_decode(b, (size_t)n, &q, 0), 0);
    cr_assert_eq(q.opt.nak_list_len, 62);
    cr_assert_eq(q.opt.nak_list[61], 1062);

    p.opt.nak_list_len = 63;
    cr_assert_eq(sc_pgm_encode(b, sizeof(b), &p), SC_PERR_OPTIONS);
    p.opt.nak_list_len = 0;
    cr_assert_eq(sc_pgm_encode(b, sizeof(b), &p), SC_PERR_OPTIONS);
}

Test(pgm, boundary_sizes)
{
    static uint8_t payload[65535], b[65536];
    const uint16_t max = 65535 - 16 - 8;
    struct sc_pgm_pkt p = odata(1, payload, max), q;

    cr_assert_eq(sc_pgm_encode(b, sizeof(b), &p), 65535);
    cr_assert_eq(sc_pgm_decode(b, 65535, &q, 0), 0);
    cr_assert_eq(q.tsdu_len, max);
    p.tsdu_len = max + 1;
    cr_assert_eq(sc_pgm_encode(b, sizeof(b), &p), SC_PERR_OVERSIZE);
    cr_assert_eq(sc_pgm_decode(b, 65536, &q, 0), SC_PERR_OVERSIZE);

    p = odata(2, NULL, 0); /* empty ODATA is legal */
    cr_assert_eq(sc_pgm_encode(b, sizeof(b), &p), 24);
    cr_assert_eq(sc_pgm_decode(b, 24, &q, 0), 0);
    cr_assert_eq(q.tsdu_len, 0);

    p = odata(3, payload, 100);
    cr_assert_eq(sc_pgm_encode(b, 123, &p), SC_PERR_NOSPACE);
    cr_assert_eq(sc_pgm_encode(b, 124, &p), 124);
}

Test(pgm, in_place_encode)
{
    uint8_t b[256];
    struct sc_pgm_pkt p = odata(7, NULL, 5), q;
    size_t h = sc_pgm_header_len(&p);

    memcpy(b + h, "abcde", 5);
    cr_assert_eq(sc_pgm_encode(b, sizeof(b), &p), (int)h + 5);
    cr_assert_eq(sc_pgm_decode(b, h + 5, &q, 0), 0);
    cr_assert_eq(memcmp(q.tsdu, "abcde", 5), 0);
}

/* helper: encode then re-checksum after a deliberate corruption */
static void
fix_csum(uint8_t *b, size_t n)
{
    sc_store_be16(b + 6, sc_pgm_checksum(b, n));
}

Test(pgm, rejects_short)
{
    uint8_t b[256];
    struct sc_pgm_pkt q;
    size_t n = tu_hex(goldens[0].hex, b, sizeof(b));

    for (size_t len = 0; len < n; len++)
        cr_assert_lt(sc_pgm_decode(b, len, &q, SC_PGM_DEC_NO_CSUM), 0, "len %zu accepted", len);
    cr_assert_eq(sc_pgm_decode(b, 15, &q, 0), SC_PERR_SHORT);
    cr_assert_eq(sc_pgm_decode(b, 20, &q, SC_PGM_DEC_NO_CSUM), SC_PERR_SHORT);
}

Test(pgm, rejects_version_and_type)
{
    uint8_t b[256];
    struct sc_pgm_pkt q;
    size_t n = tu_hex(goldens[1].hex, b, sizeof(b));

    b[4] = 0x44; /* version 1 */
    fix_csum(b, n);
    cr_assert_eq(sc_pgm_decode(b, n, &q, 0), SC_PERR_VERSION);
    b[4] = 0x14; /* reserved bit */
    fix_csum(b, n);
    cr_assert_eq(sc_pgm_decode(b, n, &q, 0), SC_PERR_VERSION);
    b[4] = 0x03; /* unassigned */
    fix_csum(b, n);
    cr_assert_eq(sc_pgm_decode(b, n, &q, 0), SC_PERR_TYPE);
    b[4] = SC_PGM_ACK; /* PGMCC: not spoken */
    fix_csum(b, n);
    cr_assert_eq(sc_pgm_decode(b, n, &q, 0), SC_PERR_TYPE);
}

Test(pgm, rejects_bad_checksum)
{
    uint8_t b[256];
    struct sc_pgm_pkt q;
    size_t n = tu_hex(goldens[1].hex, b, sizeof(b));

    b[n - 1] ^= 1;
    cr_assert_eq(sc_pgm_decode(b, n, &q, 0), SC_PERR_CHECKSUM);
    cr_assert_eq(sc_pgm_decode(b, n, &q, SC_PGM_DEC_NO_CSUM), 0);
    b[n - 1] ^= 1;
    sc_store_be16(b + 6, 0); /* absent: mandatory for ODATA */
    cr_assert_eq(sc_pgm_decode(b, n, &q, 0), SC_PERR_CHECKSUM);

    n = tu_hex(goldens[0].hex, b, sizeof(b));
    sc_store_be16(b + 6, 0); /* absent on an SPM: allowed */
    cr_assert_eq(sc_pgm_decode(b, n, &q, 0), 0);
}

Test(pgm, rejects_bad_option_chain)
{
    uint8_t b[256];
    struct sc_pgm_pkt q;
    size_t n = tu_hex(goldens[2].hex, b, sizeof(b)); /* ODATA + OPT_LENGTH + OPT_SYN|END */
    const size_t o = 24;                              /* options start */
    uint8_t orig[256];

    memcpy(orig, b, n);
#define EXPECT_OPTS(stmt)                                                                  \
    do {                                                                                   \
        memcpy(b, orig, n);                                                                \
        stmt;                                                                              \
        fix_csum(b, n);                                                                    \
        cr_assert_eq(sc_pgm_decode(b, n, &q, 0), SC_PERR_OPTIONS, "%s", #stmt);            \
    } while (0)
    EXPECT_OPTS(b[o] = SC_PGM_OPT_SYN);       /* first option is not OPT_LENGTH */
    EXPECT_OPTS(b[o + 1] = 8);                /* OPT_LENGTH of the wrong size */
    EXPECT_OPTS(b[o + 3] = 4);                /* total too small */
    EXPECT_OPTS(b[o + 3] = 0x40);             /* total beyond the packet */
    EXPECT_OPTS(b[o + 4] = SC_PGM_OPT_SYN);   /* END bit missing */
    EXPECT_OPTS(b[o + 5] = 3);                /* option length under 4 */
    EXPECT_OPTS(b[o + 5] = 8);                /* option runs past the area */
    EXPECT_OPTS(b[o + 4] = 0x80);             /* a second OPT_LENGTH */
#undef EXPECT_OPTS
    memcpy(b, orig, n);
    b[o + 4] = 0x80 | 0x21; /* unknown option type: skipped safely */
    fix_csum(b, n);
    cr_assert_eq(sc_pgm_decode(b, n, &q, 0), 0);
    cr_assert_eq(q.opt.skipped, 1);
}

Test(pgm, rejects_tsdu_length_mismatch)
{
    uint8_t b[256];
    struct sc_pgm_pkt q;
    size_t n = tu_hex(goldens[1].hex, b, sizeof(b));

    sc_store_be16(b + 14, 11);
    fix_csum(b, n);
    cr_assert_eq(sc_pgm_decode(b, n, &q, 0), SC_PERR_LENGTH);
    sc_store_be16(b + 14, 13);
    fix_csum(b, n);
    cr_assert_eq(sc_pgm_decode(b, n, &q, 0), SC_PERR_LENGTH);

    n = tu_hex(goldens[3].hex, b, sizeof(b)); /* NAK with trailing junk */
    b[n++] = 0;
    b[n++] = 0;
    fix_csum(b, n);
    cr_assert_eq(sc_pgm_decode(b, n, &q, 0), SC_PERR_LENGTH);
}

Test(pgm, rejects_bad_address_and_fragment)
{
    uint8_t b[2048], pl[100] = { 0 };
    struct sc_pgm_pkt p = odata(50, pl, sizeof(pl)), q;
    size_t n = tu_hex(goldens[3].hex, b, sizeof(b));
    int len;

    sc_store_be16(b + 20, 3); /* source NLA AFI 3 */
    fix_csum(b, n);
    cr_assert_eq(sc_pgm_decode(b, n, &q, 0), SC_PERR_ADDRESS);

    p.opt.present = SC_PGM_HAS_FRAGMENT;
    p.opt.frag = (struct sc_pgm_frag){ .first_sqn = 49, .offset = 0, .apdu_len = 99 };
    len = sc_pgm_encode(b, sizeof(b), &p);
    cr_assert_eq(sc_pgm_decode(b, (size_t)len, &q, 0), SC_PERR_FIELD, "apdu < fragment");
    p.opt.frag = (struct sc_pgm_frag){ .first_sqn = 51, .offset = 0, .apdu_len = 300 };
    len = sc_pgm_encode(b, sizeof(b), &p);
    cr_assert_eq(sc_pgm_decode(b, (size_t)len, &q, 0), SC_PERR_FIELD, "first sqn after sqn");
    p.opt.frag = (struct sc_pgm_frag){ .first_sqn = 49, .offset = 250, .apdu_len = 300 };
    len = sc_pgm_encode(b, sizeof(b), &p);
    cr_assert_eq(sc_pgm_decode(b, (size_t)len, &q, 0), SC_PERR_FIELD, "offset past apdu");
    p.opt.frag = (struct sc_pgm_frag){ .first_sqn = 49, .offset = 0, .apdu_len = 70000 };
    len = sc_pgm_encode(b, sizeof(b), &p);
    cr_assert_eq(sc_pgm_decode(b, (size_t)len, &q, 0), SC_PERR_OVERSIZE);
}

static uint16_t
ref_csum(const uint8_t *p, size_t len) /* wire-specs.md s.1.3 reference */
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)(p[len - 1] << 8);
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)~sum;
}

Test(csum, matches_reference_at_every_length_and_alignment)
{
    uint8_t buf[600];
    uint64_t s = 42;

    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)tu_rand(&s);
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len + off <= sizeof(buf); len += 1 + (len > 64) * 13)
            cr_assert_eq(sc_csum_fold(sc_csum_partial(buf + off, len, 0)),
                         ref_csum(buf + off, len), "off %zu len %zu", off, len);
    memset(buf, 0xFF, 64);
    cr_assert_eq(sc_csum_fold(sc_csum_partial(buf, 64, 0)), ref_csum(buf, 64));
}

Test(pgm, rdata_incremental_checksum_equals_full)
{
    uint8_t pl[1500], b[2048];
    uint64_t s = 7;

    for (int k = 0; k < 2000; k++) {
        uint16_t len = (uint16_t)(tu_rand(&s) % sizeof(pl));
        struct sc_pgm_pkt p, q;
        uint32_t trail = (uint32_t)tu_rand(&s);
        int n;

        for (unsigned i = 0; i < len; i++)
            pl[i] = (uint8_t)tu_rand(&s);
        p = odata((uint32_t)tu_rand(&s), pl, len);
        if (k & 1) {
            p.opt.present = SC_PGM_HAS_FRAGMENT;
            p.opt.frag = (struct sc_pgm_frag){ p.data.sqn, 0, len };
        }
        n = sc_pgm_encode(b, sizeof(b), &p);
        sc_pgm_make_rdata(b, trail);
        cr_assert_eq(sc_load_be16(b + 6), sc_pgm_checksum(b, (size_t)n), "iteration %d", k);
        cr_assert_eq(sc_pgm_decode(b, (size_t)n, &q, 0), 0);
        cr_assert_eq(q.type, SC_PGM_RDATA);
        cr_assert_eq(q.data.trail, trail);
        cr_assert_eq(q.data.sqn, p.data.sqn);
    }
}

/* The publisher's template encoder gives byte for byte what the generic one
 * does (checksum included, 0 sent as 0xFFFF), at every TSDU length up to the
 * MTU's, with random ports, GSIs, sequence numbers and payloads. */
Test(pgm, odata_template_equals_generic_encode)
{
    uint8_t pl[1500], a[2048], b[2048];
    uint64_t s = 11;

    for (int k = 0; k < 4000; k++) {
        uint16_t len = (uint16_t)(k < 1500 ? (uint64_t)k : tu_rand(&s) % 1473);
        struct sc_pgm_pkt p = odata((uint32_t)tu_rand(&s), pl, len);
        struct sc_pgm_odata_tmpl t;
        size_t n;
        int m;

        p.sport = (uint16_t)tu_rand(&s);
        p.dport = (uint16_t)tu_rand(&s);
        p.data.trail = (uint32_t)tu_rand(&s);
        for (int i = 0; i < 6; i++)
            p.gsi[i] = (uint8_t)tu_rand(&s);
        for (unsigned i = 0; i < len; i++)
            pl[i] = (uint8_t)tu_rand(&s);
        m = sc_pgm_encode(a, sizeof(a), &p);
        sc_pgm_odata_tmpl_init(&t, p.sport, p.dport, p.gsi);
        memcpy(b + SC_PGM_HDR_LEN + SC_PGM_DATA_BODY_LEN, pl, len);
        n = sc_pgm_encode_odata(b, &t, p.data.sqn, p.data.trail, len);
        cr_assert_eq(n, (size_t)m, "iteration %d", k);
        cr_assert_arr_eq(a, b, n, "iteration %d (len %u)", k, len);
    }
    /* a sum that folds to 0 goes out as 0xFFFF: force one */
    {
        struct sc_pgm_odata_tmpl t;
        struct sc_pgm_pkt q;
        sc_pgm_odata_tmpl_init(&t, 1, 2, GSI);
        memset(b + 24, 0, 2);
        sc_pgm_encode_odata(b, &t, 0, 0, 2);
        /* choose the 2-byte TSDU so that the whole sums to 0xFFFF (checksum 0) */
        {
            uint16_t c = sc_load_be16(b + 6); /* complement of the sum without the TSDU */
            sc_store_be16(b + 24, c == 0xFFFF ? 0 : c);
        }
        sc_pgm_encode_odata(b, &t, 0, 0, 2);
        cr_assert_eq(sc_load_be16(b + 6), 0xFFFF);
        cr_assert_eq(sc_pgm_decode(b, 26, &q, 0), 0, "the 0xFFFF checksum verifies");
    }
}

/* The builders the engine's NAKs and NCFs come from: what they set is what
 * decodes, the list split between the header and OPT_NAK_LIST. */
Test(pgm, nak_builders_encode_what_they_set)
{
    static const uint8_t gsi[6] = { 1, 2, 3, 4, 5, 6 };
    uint32_t sqns[SC_PGM_MAX_NAK_LIST + 1], src = htonl(0xc6120001), grp = htonl(0xefc00001);
    struct sc_pgm_pkt k, d;
    uint8_t b[512];
    int n;

    for (unsigned i = 0; i <= SC_PGM_MAX_NAK_LIST; i++)
        sqns[i] = 1000 + 3 * i;
    for (unsigned cnt = 1; cnt <= SC_PGM_MAX_NAK_LIST + 1; cnt += SC_PGM_MAX_NAK_LIST) {
        sc_pgm_pkt_init(&k, SC_PGM_NAK, gsi, 7500, 4321);
        sc_pgm_set_nak(&k, src, grp, sqns, cnt);
        n = sc_pgm_encode(b, sizeof(b), &k);
        cr_assert_gt(n, 0);
        cr_assert_eq(sc_pgm_decode(b, (size_t)n, &d, 0), 0);
        cr_assert_eq(d.type, SC_PGM_NAK);
        cr_assert_eq(d.sport, 7500);
        cr_assert_eq(d.dport, 4321);
        cr_assert_arr_eq(d.gsi, gsi, 6);
        cr_assert_eq(d.nak.src.afi, SC_PGM_AFI_IP);
        cr_assert_arr_eq(d.nak.src.addr, &src, 4);
        cr_assert_arr_eq(d.nak.grp.addr, &grp, 4);
        cr_assert_eq(d.nak.sqn, sqns[0]);
        cr_assert_eq(d.opt.nak_list_len, cnt - 1);
        cr_assert_eq(!!(d.opt.present & SC_PGM_HAS_NAK_LIST), cnt > 1);
        for (unsigned i = 1; i < cnt; i++)
            cr_assert_eq(d.opt.nak_list[i - 1], sqns[i]);
    }
}
