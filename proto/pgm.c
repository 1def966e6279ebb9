#include "pgm.h"

#include <string.h>

#include "csum.h"
#include "endian.h"
#include "seq.h"

static bool
is_data(uint8_t type)
{
    return type == SC_PGM_ODATA || type == SC_PGM_RDATA;
}

static bool
is_nak_like(uint8_t type)
{
    return type == SC_PGM_NAK || type == SC_PGM_NNAK || type == SC_PGM_NCF;
}

const char *
sc_pgm_type_str(uint8_t type)
{
    switch (type) {
    case SC_PGM_SPM: return "SPM";
    case SC_PGM_POLL: return "POLL";
    case SC_PGM_POLR: return "POLR";
    case SC_PGM_ODATA: return "ODATA";
    case SC_PGM_RDATA: return "RDATA";
    case SC_PGM_NAK: return "NAK";
    case SC_PGM_NNAK: return "NNAK";
    case SC_PGM_NCF: return "NCF";
    case SC_PGM_SPMR: return "SPMR";
    case SC_PGM_ACK: return "ACK";
    }
    return "unknown";
}

uint16_t
sc_pgm_checksum(const uint8_t *pkt, size_t len)
{
    uint32_t sum = sc_csum_partial(pkt, 6, 0);
    uint16_t c;

    if (len > 8)
        sum = sc_csum_partial(pkt + 8, len - 8, sum);
    c = sc_csum_fold(sum);
    return c == 0 ? 0xFFFF : c;
}

static size_t
nla_len(uint16_t afi)
{
    return afi == SC_PGM_AFI_IP ? 8 : afi == SC_PGM_AFI_IP6 ? 20 : 0;
}

static int
decode_nla(const uint8_t *p, size_t rem, struct sc_pgm_nla *nla, size_t *used)
{
    size_t n;

    if (rem < 4)
        return SC_PERR_SHORT;
    nla->afi = sc_load_be16(p);
    n = nla_len(nla->afi);
    if (n == 0)
        return SC_PERR_ADDRESS;
    if (rem < n)
        return SC_PERR_SHORT;
    memset(nla->addr, 0, sizeof(nla->addr));
    memcpy(nla->addr, p + 4, n - 4);
    *used = n;
    return 0;
}

static int
decode_options(const uint8_t *p, size_t rem, struct sc_pgm_opts *o, size_t *used)
{
    size_t total, off = 4;
    unsigned count = 0;
    bool end = false;

    /* The first option must be OPT_LENGTH: type 0 without the END bit, length 4,
     * carrying the length of the whole option area. */
    if (rem < 4 || p[0] != SC_PGM_OPT_LENGTH || p[1] != 4)
        return SC_PERR_OPTIONS;
    total = sc_load_be16(p + 2);
    if (total < 8 || total > rem)
        return SC_PERR_OPTIONS;

    while (off < total) {
        uint8_t ot, ol, type;
        const uint8_t *q = p + off;

        if (total - off < 4)
            return SC_PERR_OPTIONS;
        ot = q[0];
        ol = q[1];
        type = ot & 0x7F;
        if (ol < 4 || ol > total - off || ++count > SC_PGM_MAX_OPTIONS)
            return SC_PERR_OPTIONS;
        switch (type) {
        case SC_PGM_OPT_LENGTH:
            return SC_PERR_OPTIONS; /* only once, first */
        case SC_PGM_OPT_FRAGMENT:
            if (ol != 16 || (o->present & SC_PGM_HAS_FRAGMENT))
                return SC_PERR_OPTIONS;
            o->present |= SC_PGM_HAS_FRAGMENT;
            o->frag.first_sqn = sc_load_be32(q + 4);
            o->frag.offset = sc_load_be32(q + 8);
            o->frag.apdu_len = sc_load_be32(q + 12);
            break;
        case SC_PGM_OPT_NAK_LIST: {
            unsigned n = (ol - 4u) / 4u;
            if ((ol - 4u) % 4u || n < 1 || n > SC_PGM_MAX_NAK_LIST ||
                (o->present & SC_PGM_HAS_NAK_LIST))
                return SC_PERR_OPTIONS;
            o->present |= SC_PGM_HAS_NAK_LIST;
            o->nak_list_len = (uint8_t)n;
            for (unsigned i = 0; i < n; i++)
                o->nak_list[i] = sc_load_be32(q + 4 + 4 * i);
            break;
        }
        case SC_PGM_OPT_JOIN:
            if (ol != 8)
                return SC_PERR_OPTIONS;
            o->present |= SC_PGM_HAS_JOIN;
            o->join_min_sqn = sc_load_be32(q + 4);
            break;
        case SC_PGM_OPT_SYN:
        case SC_PGM_OPT_FIN:
        case SC_PGM_OPT_RST:
            if (ol != 4)
                return SC_PERR_OPTIONS;
            if (type == SC_PGM_OPT_SYN)
                o->present |= SC_PGM_HAS_SYN;
            else if (type == SC_PGM_OPT_FIN)
                o->present |= SC_PGM_HAS_FIN;
            else {
                o->present |= SC_PGM_HAS_RST;
                o->rst_code = q[3] & 0x7F;
            }
            break;
        default:
            o->skipped++; /* known to the RFC or not: its length is trusted, content ignored */
            break;
        }
        off += ol;
        if (ot & SC_PGM_OPT_END) {
            end = true;
            break;
        }
    }
    if (!end || off != total)
        return SC_PERR_OPTIONS;
    *used = total;
    return 0;
}

int
sc_pgm_packet_len(const uint8_t *buf, size_t len)
{
    size_t off = SC_PGM_HDR_LEN, used;
    struct sc_pgm_nla nla;
    uint8_t t;
    int rc;

    if (len < SC_PGM_HDR_LEN)
        return SC_PERR_SHORT;
    t = buf[4];
    if (t & 0xF0)
        return SC_PERR_VERSION;
    if (t == SC_PGM_SPM) {
        if (len - off < 12)
            return SC_PERR_SHORT;
        if ((rc = decode_nla(buf + off + 12, len - off - 12, &nla, &used)) < 0)
            return rc;
        off += 12 + used;
    } else if (is_data(t)) {
        off += 8;
    } else if (is_nak_like(t)) {
        off += 4;
        for (int i = 0; i < 2; i++) {
            if (off > len || (rc = decode_nla(buf + off, len - off, &nla, &used)) < 0)
                return off > len ? SC_PERR_SHORT : rc;
            off += used;
        }
    } else if (t != SC_PGM_SPMR) {
        return SC_PERR_TYPE;
    }
    if (buf[5] & SC_PGM_OPT_PRESENT) {
        if (off + 4 > len || buf[off] != SC_PGM_OPT_LENGTH || buf[off + 1] != 4)
            return off + 4 > len ? SC_PERR_SHORT : SC_PERR_OPTIONS;
        off += sc_load_be16(buf + off + 2);
    }
    off += sc_load_be16(buf + 14);
    return off <= len ? (int)off : SC_PERR_SHORT;
}

int
sc_pgm_decode(const uint8_t *buf, size_t len, struct sc_pgm_pkt *out, unsigned flags)
{
    size_t off = SC_PGM_HDR_LEN, used = 0, rem;
    uint8_t t;
    int rc;

    if (len < SC_PGM_HDR_LEN)
        return SC_PERR_SHORT;
    if (len > SC_PGM_MAX_TPDU)
        return SC_PERR_OVERSIZE;
    t = buf[4];
    if (t & 0xF0) /* version (top 2 bits) must be 0; next 2 bits reserved */
        return SC_PERR_VERSION;
    out->type = t;
    switch (t) {
    case SC_PGM_SPM:
    case SC_PGM_ODATA:
    case SC_PGM_RDATA:
    case SC_PGM_NAK:
    case SC_PGM_NNAK:
    case SC_PGM_NCF:
    case SC_PGM_SPMR:
        break;
    default:
        return SC_PERR_TYPE; /* POLL/POLR/ACK and unassigned types are not spoken */
    }
    out->sport = sc_load_be16(buf);
    out->dport = sc_load_be16(buf + 2);
    out->flags = buf[5];
    out->csum = sc_load_be16(buf + 6);
    memcpy(out->gsi, buf + 8, 6);
    out->tsdu_len = sc_load_be16(buf + 14);
    out->opt.present = 0;
    out->opt.nak_list_len = 0;
    out->opt.skipped = 0;

    if (!(flags & SC_PGM_DEC_NO_CSUM)) {
        if (out->csum == 0) {
            if (is_data(t))
                return SC_PERR_CHECKSUM; /* mandatory for ODATA/RDATA */
        } else if (sc_csum_fold(sc_csum_partial(buf, len, 0)) != 0) {
            return SC_PERR_CHECKSUM;
        }
    }

    rem = len - off;
    if (t == SC_PGM_SPM) {
        if (rem < 12)
            return SC_PERR_SHORT;
        out->spm.sqn = sc_load_be32(buf + off);
        out->spm.trail = sc_load_be32(buf + off + 4);
        out->spm.lead = sc_load_be32(buf + off + 8);
        rc = decode_nla(buf + off + 12, rem - 12, &out->spm.nla, &used);
        if (rc < 0)
            return rc;
        off += 12 + used;
    } else if (is_data(t)) {
        if (rem < 8)
            return SC_PERR_SHORT;
        out->data.sqn = sc_load_be32(buf + off);
        out->data.trail = sc_load_be32(buf + off + 4);
        off += 8;
    } else if (is_nak_like(t)) {
        if (rem < 4)
            return SC_PERR_SHORT;
        out->nak.sqn = sc_load_be32(buf + off);
        off += 4;
        rc = decode_nla(buf + off, len - off, &out->nak.src, &used);
        if (rc < 0)
            return rc;
        off += used;
        rc = decode_nla(buf + off, len - off, &out->nak.grp, &used);
        if (rc < 0)
            return rc;
        off += used;
    }

    if (out->flags & SC_PGM_OPT_PRESENT) {
        rc = decode_options(buf + off, len - off, &out->opt, &used);
        if (rc < 0)
            return rc;
        off += used;
    }

    rem = len - off;
    out->tsdu = buf + off;
    if (!is_data(t)) {
        if (rem != 0 || out->tsdu_len != 0)
            return SC_PERR_LENGTH;
        return 0;
    }
    if (out->tsdu_len != rem)
        return SC_PERR_LENGTH;
    if (out->opt.present & SC_PGM_HAS_FRAGMENT) {
        const uint32_t apdu = out->opt.frag.apdu_len;
        if (apdu > SC_PGM_MAX_APDU)
            return SC_PERR_OVERSIZE;
        if (apdu < out->tsdu_len || out->opt.frag.offset > apdu - out->tsdu_len ||
            sc_seq32_gt(out->opt.frag.first_sqn, out->data.sqn))
            return SC_PERR_FIELD;
    }
    return 0;
}

static size_t
options_len(const struct sc_pgm_opts *o)
{
    size_t n = 0;

    if (o->present & SC_PGM_HAS_NAK_LIST)
        n += 4 + 4u * o->nak_list_len;
    if (o->present & SC_PGM_HAS_FRAGMENT)
        n += 16;
    if (o->present & SC_PGM_HAS_JOIN)
        n += 8;
    if (o->present & SC_PGM_HAS_SYN)
        n += 4;
    if (o->present & SC_PGM_HAS_FIN)
        n += 4;
    if (o->present & SC_PGM_HAS_RST)
        n += 4;
    return n ? n + 4 : 0; /* + OPT_LENGTH */
}

static size_t
body_len(const struct sc_pgm_pkt *p)
{
    switch (p->type) {
    case SC_PGM_SPM: return 12 + nla_len(p->spm.nla.afi);
    case SC_PGM_ODATA:
    case SC_PGM_RDATA: return SC_PGM_DATA_BODY_LEN;
    case SC_PGM_NAK:
    case SC_PGM_NNAK:
    case SC_PGM_NCF: return 4 + nla_len(p->nak.src.afi) + nla_len(p->nak.grp.afi);
    }
    return 0;
}

void
sc_pgm_pkt_init(struct sc_pgm_pkt *k, uint8_t type, const uint8_t gsi[6], uint16_t sport,
                uint16_t dport)
{
    memset(k, 0, offsetof(struct sc_pgm_pkt, opt));
    k->opt.present = 0;
    k->opt.nak_list_len = 0;
    k->type = type;
    memcpy(k->gsi, gsi, 6);
    k->sport = sport;
    k->dport = dport;
    k->tsdu = NULL;
    k->tsdu_len = 0;
}

void
sc_pgm_nla_ipv4(struct sc_pgm_nla *n, uint32_t addr)
{
    n->afi = SC_PGM_AFI_IP;
    memset(n->addr, 0, sizeof(n->addr));
    memcpy(n->addr, &addr, 4);
}

void
sc_pgm_set_nak(struct sc_pgm_pkt *k, uint32_t src, uint32_t grp, const uint32_t *sqns, unsigned n)
{
    sc_pgm_nla_ipv4(&k->nak.src, src);
    sc_pgm_nla_ipv4(&k->nak.grp, grp);
    k->nak.sqn = sqns[0];
    if (n > 1) {
        k->opt.present |= SC_PGM_HAS_NAK_LIST;
        k->opt.nak_list_len = (uint8_t)(n - 1);
        memcpy(k->opt.nak_list, sqns + 1, (n - 1) * sizeof(uint32_t));
    }
}

size_t
sc_pgm_header_len(const struct sc_pgm_pkt *p)
{
    return SC_PGM_HDR_LEN + body_len(p) + options_len(&p->opt);
}

static uint8_t *
put_nla(uint8_t *q, const struct sc_pgm_nla *nla)
{
    size_t n = nla_len(nla->afi);

    sc_store_be16(q, nla->afi);
    sc_store_be16(q + 2, 0);
    memcpy(q + 4, nla->addr, n - 4);
    return q + n;
}

/* Options in RFC order: OPT_LENGTH first, network-significant (NAK list) next,
 * the rest after; the last one carries OPT_END. */
static uint8_t *
put_options(uint8_t *q, const struct sc_pgm_opts *o, size_t total)
{
    uint8_t *last = NULL;

    q[0] = SC_PGM_OPT_LENGTH;
    q[1] = 4;
    sc_store_be16(q + 2, (uint16_t)total);
    q += 4;
    if (o->present & SC_PGM_HAS_NAK_LIST) {
        last = q;
        q[0] = SC_PGM_OPT_NAK_LIST;
        q[1] = (uint8_t)(4 + 4 * o->nak_list_len);
        q[2] = q[3] = 0;
        for (unsigned i = 0; i < o->nak_list_len; i++)
            sc_store_be32(q + 4 + 4 * i, o->nak_list[i]);
        q += q[1];
    }
    if (o->present & SC_PGM_HAS_FRAGMENT) {
        last = q;
        q[0] = SC_PGM_OPT_FRAGMENT;
        q[1] = 16;
        q[2] = q[3] = 0;
        sc_store_be32(q + 4, o->frag.first_sqn);
        sc_store_be32(q + 8, o->frag.offset);
        sc_store_be32(q + 12, o->frag.apdu_len);
        q += 16;
    }
    if (o->present & SC_PGM_HAS_JOIN) {
        last = q;
        q[0] = SC_PGM_OPT_JOIN;
        q[1] = 8;
        q[2] = q[3] = 0;
        sc_store_be32(q + 4, o->join_min_sqn);
        q += 8;
    }
    for (unsigned i = 0; i < 3; i++) {
        static const struct {
            uint32_t has;
            uint8_t type;
        } simple[3] = { { SC_PGM_HAS_SYN, SC_PGM_OPT_SYN },
                        { SC_PGM_HAS_FIN, SC_PGM_OPT_FIN },
                        { SC_PGM_HAS_RST, SC_PGM_OPT_RST } };
        if (!(o->present & simple[i].has))
            continue;
        last = q;
        q[0] = simple[i].type;
        q[1] = 4;
        q[2] = 0;
        q[3] = simple[i].type == SC_PGM_OPT_RST ? (o->rst_code & 0x7F) : 0;
        q += 4;
    }
    last[0] |= SC_PGM_OPT_END;
    return q;
}

int
sc_pgm_encode(uint8_t *buf, size_t cap, const struct sc_pgm_pkt *p)
{
    const bool data = is_data(p->type);
    size_t olen, hlen, total;
    uint8_t *q;

    switch (p->type) {
    case SC_PGM_SPM:
        if (!nla_len(p->spm.nla.afi))
            return SC_PERR_ADDRESS;
        break;
    case SC_PGM_NAK:
    case SC_PGM_NNAK:
    case SC_PGM_NCF:
        if (!nla_len(p->nak.src.afi) || !nla_len(p->nak.grp.afi))
            return SC_PERR_ADDRESS;
        break;
    case SC_PGM_ODATA:
    case SC_PGM_RDATA:
    case SC_PGM_SPMR:
        break;
    default:
        return SC_PERR_TYPE;
    }
    if ((p->opt.present & SC_PGM_HAS_NAK_LIST) &&
        (p->opt.nak_list_len < 1 || p->opt.nak_list_len > SC_PGM_MAX_NAK_LIST))
        return SC_PERR_OPTIONS;
    if (!data && p->tsdu_len)
        return SC_PERR_FIELD;
    olen = options_len(&p->opt);
    hlen = SC_PGM_HDR_LEN + body_len(p) + olen;
    total = hlen + (data ? p->tsdu_len : 0);
    if (total > SC_PGM_MAX_TPDU)
        return SC_PERR_OVERSIZE;
    if (total > cap)
        return SC_PERR_NOSPACE;

    if (data && p->tsdu)
        memmove(buf + hlen, p->tsdu, p->tsdu_len);
    sc_store_be16(buf, p->sport);
    sc_store_be16(buf + 2, p->dport);
    buf[4] = p->type;
    buf[5] = (uint8_t)((p->flags & (SC_PGM_OPT_PARITY | SC_PGM_OPT_VAR_PKTLEN)) |
                       (olen ? SC_PGM_OPT_PRESENT : 0) |
                       ((p->opt.present & SC_PGM_HAS_NAK_LIST) ? SC_PGM_OPT_NETWORK : 0));
    sc_store_be16(buf + 6, 0);
    memcpy(buf + 8, p->gsi, 6);
    sc_store_be16(buf + 14, data ? p->tsdu_len : 0);
    q = buf + SC_PGM_HDR_LEN;
    switch (p->type) {
    case SC_PGM_SPM:
        sc_store_be32(q, p->spm.sqn);
        sc_store_be32(q + 4, p->spm.trail);
        sc_store_be32(q + 8, p->spm.lead);
        q = put_nla(q + 12, &p->spm.nla);
        break;
    case SC_PGM_ODATA:
    case SC_PGM_RDATA:
        sc_store_be32(q, p->data.sqn);
        sc_store_be32(q + 4, p->data.trail);
        q += 8;
        break;
    case SC_PGM_NAK:
    case SC_PGM_NNAK:
    case SC_PGM_NCF:
        sc_store_be32(q, p->nak.sqn);
        q = put_nla(q + 4, &p->nak.src);
        q = put_nla(q, &p->nak.grp);
        break;
    }
    if (olen)
        put_options(q, &p->opt, olen);
    sc_store_be16(buf + 6, sc_pgm_checksum(buf, total));
    return (int)total;
}

void
sc_pgm_odata_tmpl_init(struct sc_pgm_odata_tmpl *t, uint16_t sport, uint16_t dport,
                       const uint8_t gsi[6])
{
    memset(t->hdr, 0, sizeof(t->hdr));
    sc_store_be16(t->hdr, sport);
    sc_store_be16(t->hdr + 2, dport);
    t->hdr[4] = SC_PGM_ODATA;
    memcpy(t->hdr + 8, gsi, 6);
    t->sum = sc_csum_partial(t->hdr, sizeof(t->hdr), 0);
}

size_t
sc_pgm_encode_odata(uint8_t *buf, const struct sc_pgm_odata_tmpl *t, uint32_t sqn,
                    uint32_t trail, uint16_t tsdu_len)
{
    const size_t total = SC_PGM_HDR_LEN + SC_PGM_DATA_BODY_LEN + (size_t)tsdu_len;
    uint16_t c;

    memcpy(buf, t->hdr, SC_PGM_HDR_LEN);
    sc_store_be16(buf + 14, tsdu_len);
    sc_store_be32(buf + SC_PGM_HDR_LEN, sqn);
    sc_store_be32(buf + SC_PGM_HDR_LEN + 4, trail);
    /* the template's words, then everything from the TSDU length on (an even offset) */
    c = sc_csum_fold(sc_csum_partial(buf + 14, total - 14, t->sum));
    sc_store_be16(buf + 6, c == 0 ? 0xFFFF : c);
    return total;
}

void
sc_pgm_make_rdata(uint8_t *pkt, uint32_t trail)
{
    uint16_t csum = sc_load_be16(pkt + 6);
    uint16_t old_w = sc_load_be16(pkt + 4);
    uint16_t new_w = (uint16_t)((SC_PGM_RDATA << 8) | pkt[5]);
    uint8_t *tp = pkt + SC_PGM_HDR_LEN + 4;

    csum = sc_csum_update16(csum, old_w, new_w);
    csum = sc_csum_update16(csum, sc_load_be16(tp), (uint16_t)(trail >> 16));
    csum = sc_csum_update16(csum, sc_load_be16(tp + 2), (uint16_t)trail);
    pkt[4] = SC_PGM_RDATA;
    sc_store_be32(tp, trail);
    sc_store_be16(pkt + 6, csum == 0 ? 0xFFFF : csum);
}
