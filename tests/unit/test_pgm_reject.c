/* PGM decoder, hostile edges, each rejected under its exact class (the class
 * is the drop counter an operator sees): every OPT_NAK_LIST length from 4 to
 * 255, control packets claiming a TSDU, packets cut inside an address (SHORT,
 * never a read past the end), a second NAK list, an over-long list at the
 * encoder. Checksums are fixed after each change, so only the check under
 * test can refuse the packet. */
#include <criterion/criterion.h>
#include <string.h>

#include <seqcast/proto/endian.h>
#include <seqcast/proto/pgm.h>

static const uint8_t GSI[6] = { 0x9c, 0x5f, 0x10, 0x23, 0x44, 0xa1 };

static void
fix_csum(uint8_t *b, size_t n)
{
    sc_store_be16(b + 6, 0);
    sc_store_be16(b + 6, sc_pgm_checksum(b, n));
}

static struct sc_pgm_pkt
nak_like(uint8_t type, uint32_t sqn)
{
    struct sc_pgm_pkt k;

    memset(&k, 0, sizeof(k));
    k.type = type;
    k.sport = 7500;
    k.dport = 4660;
    memcpy(k.gsi, GSI, 6);
    k.nak.sqn = sqn;
    k.nak.src.afi = SC_PGM_AFI_IP;
    k.nak.grp.afi = SC_PGM_AFI_IP;
    k.nak.src.addr[0] = 10;
    k.nak.grp.addr[0] = 239;
    return k;
}

/* A NAK whose option area is OPT_LENGTH + one OPT_NAK_LIST|END of length ol
 * carrying sequences 100, 101, ...: the chain is otherwise consistent. */
static size_t
nak_with_list_len(uint8_t *b, size_t cap, unsigned ol)
{
    struct sc_pgm_pkt k = nak_like(SC_PGM_NAK, 99);
    int n = sc_pgm_encode(b, cap, &k);
    size_t len = (size_t)n;

    cr_assert_gt(n, 0);
    b[5] |= SC_PGM_OPT_PRESENT | SC_PGM_OPT_NETWORK;
    b[len] = SC_PGM_OPT_LENGTH;
    b[len + 1] = 4;
    sc_store_be16(b + len + 2, (uint16_t)(4 + ol));
    b[len + 4] = SC_PGM_OPT_NAK_LIST | SC_PGM_OPT_END;
    b[len + 5] = (uint8_t)ol;
    b[len + 6] = b[len + 7] = 0;
    for (unsigned i = 0; 8 + 4 * i <= ol; i++) /* whole words, then the odd bytes */
        sc_store_be32(b + len + 8 + 4 * i, 100 + i);
    for (unsigned i = (ol - 4) / 4 * 4 + 8; i < 4 + ol; i++)
        b[len + i] = 0xAB;
    len += 4 + ol;
    fix_csum(b, len);
    return len;
}

Test(pgm_reject, every_nak_list_length_is_accepted_only_when_it_is_4_plus_4n)
{
    uint8_t b[600];
    struct sc_pgm_pkt q;

    for (unsigned ol = 4; ol <= 255; ol++) {
        size_t len = nak_with_list_len(b, sizeof(b), ol);
        int rc = sc_pgm_decode(b, len, &q, 0);
        unsigned n = (ol - 4) / 4;
        if ((ol - 4) % 4 == 0 && n >= 1 && n <= SC_PGM_MAX_NAK_LIST) {
            cr_assert_eq(rc, 0, "length %u (%u sequences) refused: %d", ol, n, rc);
            cr_assert_eq(q.nak.sqn, 99);
            cr_assert(q.opt.present & SC_PGM_HAS_NAK_LIST);
            cr_assert_eq(q.opt.nak_list_len, n);
            for (unsigned i = 0; i < n; i++)
                cr_assert_eq(q.opt.nak_list[i], 100 + i);
        } else {
            cr_assert_eq(rc, SC_PERR_OPTIONS, "length %u accepted or misclassified: %d", ol, rc);
        }
    }
}

Test(pgm_reject, a_second_nak_list_is_a_bad_option_chain)
{
    uint8_t b[200];
    struct sc_pgm_pkt k = nak_like(SC_PGM_NCF, 1), q;
    int n = sc_pgm_encode(b, sizeof(b), &k);
    size_t len = (size_t)n;
    static const uint8_t opts[] = { 0x00, 0x04, 0x00, 0x14,                         /* total 20 */
                                    0x02, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, /* list */
                                    0x82, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03 }; /* again */

    b[5] |= SC_PGM_OPT_PRESENT | SC_PGM_OPT_NETWORK;
    memcpy(b + len, opts, sizeof(opts));
    len += sizeof(opts);
    fix_csum(b, len);
    cr_assert_eq(sc_pgm_decode(b, len, &q, 0), SC_PERR_OPTIONS);
    b[len - 8] = 0x80 | 0x21; /* the second one an unknown type instead: fine */
    fix_csum(b, len);
    cr_assert_eq(sc_pgm_decode(b, len, &q, 0), 0);
    cr_assert_eq(q.opt.nak_list_len, 1);
    cr_assert_eq(q.opt.nak_list[0], 2);
}

Test(pgm_reject, the_encoder_refuses_an_empty_or_over_long_nak_list)
{
    uint8_t b[600];
    struct sc_pgm_pkt k = nak_like(SC_PGM_NAK, 1), q;

    k.opt.present = SC_PGM_HAS_NAK_LIST;
    k.opt.nak_list_len = 0;
    cr_assert_eq(sc_pgm_encode(b, sizeof(b), &k), SC_PERR_OPTIONS);
    k.opt.nak_list_len = SC_PGM_MAX_NAK_LIST + 1;
    cr_assert_eq(sc_pgm_encode(b, sizeof(b), &k), SC_PERR_OPTIONS);
    k.opt.nak_list_len = SC_PGM_MAX_NAK_LIST;
    for (unsigned i = 0; i < SC_PGM_MAX_NAK_LIST; i++)
        k.opt.nak_list[i] = 2 + i;
    cr_assert_gt(sc_pgm_encode(b, sizeof(b), &k), 0);
    cr_assert_eq(sc_pgm_decode(b, (size_t)sc_pgm_encode(b, sizeof(b), &k), &q, 0), 0);
    cr_assert_eq(q.opt.nak_list_len, SC_PGM_MAX_NAK_LIST);
    cr_assert_eq(q.opt.nak_list[SC_PGM_MAX_NAK_LIST - 1], 1 + SC_PGM_MAX_NAK_LIST);
}

/* SPM, NAK, NCF and SPMR carry no data: a TSDU length other than 0 is a
 * LENGTH error even when the bytes are not there and the checksum is right. */
Test(pgm_reject, a_control_packet_claiming_a_tsdu_is_a_length_error)
{
    static const uint8_t types[] = { SC_PGM_SPM, SC_PGM_NAK, SC_PGM_NCF, SC_PGM_SPMR,
                                     SC_PGM_NNAK };
    uint8_t b[200];
    struct sc_pgm_pkt q;

    for (unsigned i = 0; i < sizeof(types); i++) {
        struct sc_pgm_pkt k = nak_like(types[i], 5);
        int n;
        if (types[i] == SC_PGM_SPM) {
            k.spm.sqn = 1;
            k.spm.lead = 5;
            k.spm.nla.afi = SC_PGM_AFI_IP;
        }
        n = sc_pgm_encode(b, sizeof(b), &k);
        cr_assert_gt(n, 0);
        cr_assert_eq(sc_pgm_decode(b, (size_t)n, &q, 0), 0, "type %u", types[i]);
        sc_store_be16(b + 14, 1);
        fix_csum(b, (size_t)n);
        cr_assert_eq(sc_pgm_decode(b, (size_t)n, &q, 0), SC_PERR_LENGTH, "type %u", types[i]);
        b[n] = 0x55; /* and with the byte there */
        fix_csum(b, (size_t)n + 1);
        cr_assert_eq(sc_pgm_decode(b, (size_t)n + 1, &q, 0), SC_PERR_LENGTH, "type %u", types[i]);
    }
}

/* Cut anywhere inside an address (NLA), a packet is SHORT -- the decoder
 * stops before reading it, whatever the address family claims. */
Test(pgm_reject, a_packet_cut_inside_an_address_is_short)
{
    uint8_t b[200];
    struct sc_pgm_pkt q;

    for (int v6 = 0; v6 < 2; v6++) {
        struct sc_pgm_pkt spm = nak_like(SC_PGM_SPM, 0), nak = nak_like(SC_PGM_NAK, 3);
        size_t nla = v6 ? 20 : 8;
        int n;

        spm.spm.nla.afi = v6 ? SC_PGM_AFI_IP6 : SC_PGM_AFI_IP;
        n = sc_pgm_encode(b, sizeof(b), &spm);
        cr_assert_eq(n, 16 + 12 + (int)nla);
        for (size_t cut = 16; cut < (size_t)n; cut++) {
            fix_csum(b, cut);
            cr_assert_eq(sc_pgm_decode(b, cut, &q, 0), SC_PERR_SHORT, "SPM (%s NLA) cut to %zu",
                         v6 ? "IPv6" : "IPv4", cut);
        }
        nak.nak.src.afi = nak.nak.grp.afi = v6 ? SC_PGM_AFI_IP6 : SC_PGM_AFI_IP;
        n = sc_pgm_encode(b, sizeof(b), &nak);
        cr_assert_eq(n, 16 + 4 + 2 * (int)nla);
        for (size_t cut = 16; cut < (size_t)n; cut++) {
            fix_csum(b, cut);
            cr_assert_eq(sc_pgm_decode(b, cut, &q, 0), SC_PERR_SHORT, "NAK (%s NLAs) cut to %zu",
                         v6 ? "IPv6" : "IPv4", cut);
        }
    }
}

/* The length of a packet followed by others (a GSO capture): exact for each
 * type, options included; a cut one is SHORT. */
Test(pgm_reject, packet_len_reads_each_type_exactly)
{
    uint8_t b[400];
    struct sc_pgm_pkt ks[4];
    uint8_t tsdu[33];
    int lens[4];

    memset(tsdu, 7, sizeof(tsdu));
    ks[0] = nak_like(SC_PGM_SPM, 0);
    ks[0].spm.nla.afi = SC_PGM_AFI_IP6;
    ks[0].opt.present = SC_PGM_HAS_FIN;
    ks[1] = nak_like(SC_PGM_NCF, 9);
    ks[1].opt.present = SC_PGM_HAS_NAK_LIST;
    ks[1].opt.nak_list_len = 3;
    memset(&ks[2], 0, sizeof(ks[2]));
    ks[2].type = SC_PGM_ODATA;
    ks[2].tsdu = tsdu;
    ks[2].tsdu_len = sizeof(tsdu);
    ks[2].opt.present = SC_PGM_HAS_FRAGMENT;
    ks[2].opt.frag.apdu_len = 100;
    ks[3] = nak_like(SC_PGM_SPMR, 0);
    for (int i = 0; i < 4; i++) {
        lens[i] = sc_pgm_encode(b, sizeof(b), &ks[i]);
        cr_assert_gt(lens[i], 0);
        memset(b + lens[i], 0xEE, 50); /* what follows in the datagram */
        cr_assert_eq(sc_pgm_packet_len(b, (size_t)lens[i] + 50), lens[i], "packet %d", i);
        cr_assert_eq(sc_pgm_packet_len(b, (size_t)lens[i]), lens[i]);
        cr_assert_lt(sc_pgm_packet_len(b, (size_t)lens[i] - 1), 0, "packet %d cut by one", i);
    }
}

/* A checksum that folds to 0 would read as "no checksum" (and ODATA/RDATA must
 * carry one): it goes on the wire as ffff, its one's-complement twin, and
 * decodes -- from the generic encoder and from the ODATA template alike. */
Test(pgm_reject, a_checksum_that_folds_to_zero_is_sent_as_ffff)
{
    uint8_t b[64], tsdu[2] = { 0, 0 };
    struct sc_pgm_pkt k, q;
    struct sc_pgm_odata_tmpl t;
    uint16_t c;
    int n;

    memset(&k, 0, sizeof(k));
    k.type = SC_PGM_ODATA;
    k.sport = 4660;
    k.dport = 7500;
    memcpy(k.gsi, GSI, 6);
    k.data.sqn = 77;
    k.tsdu = tsdu;
    k.tsdu_len = 2;
    n = sc_pgm_encode(b, sizeof(b), &k);
    /* the sum without the TSDU word; make the TSDU word its complement */
    c = sc_pgm_checksum(b, (size_t)n); /* ~sum, the TSDU word being 0 */
    tsdu[0] = (uint8_t)(c >> 8);
    tsdu[1] = (uint8_t)c;
    n = sc_pgm_encode(b, sizeof(b), &k);
    cr_assert_eq(sc_load_be16(b + 6), 0xFFFF, "checksum %04x", sc_load_be16(b + 6));
    cr_assert_eq(sc_pgm_decode(b, (size_t)n, &q, 0), 0);
    sc_pgm_odata_tmpl_init(&t, k.sport, k.dport, k.gsi);
    memcpy(b + SC_PGM_HDR_LEN + SC_PGM_DATA_BODY_LEN, tsdu, 2);
    n = (int)sc_pgm_encode_odata(b, &t, 77, 0, 2);
    cr_assert_eq(sc_load_be16(b + 6), 0xFFFF);
    cr_assert_eq(sc_pgm_decode(b, (size_t)n, &q, 0), 0);
}
