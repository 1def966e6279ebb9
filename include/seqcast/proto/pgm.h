/* PGM (RFC 3208) packets as carried over UDP, decoded and encoded.
 *
 * Layout of every packet (all fields big-endian, wire-specs.md s.1.2):
 *
 *   0      2      4    5     6      8             14       16
 *   | sport | dport |type|opts | csum |     GSI     | tsdu_len |  body | options | TSDU
 *
 * Pure code: no allocation, no I/O, libc only. The decoder checks every length
 * before reading, verifies the checksum (mandatory for ODATA/RDATA, optional --
 * zero -- for the rest), walks the option chain strictly and returns one
 * enum sc_perr class per kind of damage. The decoded view points into the input
 * buffer (tsdu), so the buffer must outlive it.
 */
#ifndef SC_PROTO_PGM_H
#define SC_PROTO_PGM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "perr.h"

enum sc_pgm_type {
    SC_PGM_SPM = 0x00,
    SC_PGM_POLL = 0x01,
    SC_PGM_POLR = 0x02,
    SC_PGM_ODATA = 0x04,
    SC_PGM_RDATA = 0x05,
    SC_PGM_NAK = 0x08,
    SC_PGM_NNAK = 0x09,
    SC_PGM_NCF = 0x0A,
    SC_PGM_SPMR = 0x0C,
    SC_PGM_ACK = 0x0D,
};

/* header "options" byte */
#define SC_PGM_OPT_PRESENT 0x01
#define SC_PGM_OPT_NETWORK 0x02
#define SC_PGM_OPT_VAR_PKTLEN 0x40
#define SC_PGM_OPT_PARITY 0x80

/* option types (low 7 bits of an option's first byte) */
#define SC_PGM_OPT_LENGTH 0x00
#define SC_PGM_OPT_FRAGMENT 0x01
#define SC_PGM_OPT_NAK_LIST 0x02
#define SC_PGM_OPT_JOIN 0x03
#define SC_PGM_OPT_SYN 0x0D
#define SC_PGM_OPT_FIN 0x0E
#define SC_PGM_OPT_RST 0x0F
#define SC_PGM_OPT_END 0x80

#define SC_PGM_HDR_LEN 16
#define SC_PGM_DATA_BODY_LEN 8     /* sqn + trail */
#define SC_PGM_MAX_NAK_LIST 62     /* extra sqns in OPT_NAK_LIST; +1 in the header */
#define SC_PGM_MAX_OPTIONS 16
#define SC_PGM_MAX_APDU 65535
#define SC_PGM_MAX_TPDU 65535

#define SC_PGM_AFI_IP 1
#define SC_PGM_AFI_IP6 2

/* which options a packet carries (struct sc_pgm_opts.present) */
#define SC_PGM_HAS_FRAGMENT (1u << 0)
#define SC_PGM_HAS_NAK_LIST (1u << 1)
#define SC_PGM_HAS_SYN (1u << 2)
#define SC_PGM_HAS_FIN (1u << 3)
#define SC_PGM_HAS_RST (1u << 4)
#define SC_PGM_HAS_JOIN (1u << 5)

struct sc_pgm_nla {
    uint16_t afi;     /* SC_PGM_AFI_IP or SC_PGM_AFI_IP6 */
    uint8_t addr[16]; /* IPv4 in the first 4 bytes, network order */
};

struct sc_pgm_frag {
    uint32_t first_sqn; /* sqn of the APDU's first fragment */
    uint32_t offset;    /* byte offset of this fragment in the APDU */
    uint32_t apdu_len;  /* whole APDU length */
};

struct sc_pgm_opts {
    uint32_t present; /* SC_PGM_HAS_* */
    struct sc_pgm_frag frag;
    uint32_t join_min_sqn;
    uint8_t rst_code; /* OPT_RST byte 3: N bit 0x40 + 6-bit error code */
    uint8_t nak_list_len;
    uint32_t nak_list[SC_PGM_MAX_NAK_LIST];
    uint8_t skipped; /* options of other types, skipped safely */
};

struct sc_pgm_pkt {
    uint16_t sport;
    uint16_t dport;
    uint8_t type;    /* enum sc_pgm_type */
    uint8_t flags;   /* header options byte; the encoder derives PRESENT/NETWORK */
    uint16_t csum;   /* as on the wire (decode only) */
    uint8_t gsi[6];
    union {
        struct {
            uint32_t sqn, trail, lead;
            struct sc_pgm_nla nla;
        } spm;
        struct {
            uint32_t sqn, trail;
        } data; /* ODATA, RDATA */
        struct {
            uint32_t sqn;
            struct sc_pgm_nla src, grp;
        } nak; /* NAK, NNAK, NCF */
    };
    struct sc_pgm_opts opt;
    const uint8_t *tsdu; /* decode: points into the input; encode: see sc_pgm_encode */
    uint16_t tsdu_len;
};

/* Decoder flags */
#define SC_PGM_DEC_NO_CSUM 0x1 /* skip checksum verification (already verified) */

/* Decode one PGM packet of exactly len bytes (a UDP payload).
 * @return 0, or a negative enum sc_perr: SHORT, VERSION, TYPE, OPTIONS,
 *         LENGTH (TSDU length vs bytes present), CHECKSUM, OVERSIZE, ADDRESS,
 *         FIELD (e.g. an inconsistent OPT_FRAGMENT).
 */
int sc_pgm_decode(const uint8_t *buf, size_t len, struct sc_pgm_pkt *out, unsigned flags);

/* The length of the PGM packet at the start of buf, which may be followed by
 * more bytes: a capture taken on the sending host (loopback, veth) shows a UDP
 * GSO send as one datagram holding several PGM packets back to back. Reads the
 * type body, the option area's OPT_LENGTH and the TSDU length; validates
 * nothing else (decode each piece with sc_pgm_decode).
 * @return the length (<= len), or SC_PERR_SHORT / VERSION / TYPE / ADDRESS /
 *         OPTIONS. */
int sc_pgm_packet_len(const uint8_t *buf, size_t len);

/* A packet to encode: type, GSI and ports set, everything else zero (no
 * options, no TSDU). Downstream packets (SPM, ODATA, RDATA, NCF) go from the
 * source's TSI port to the data-destination port; upstream ones (NAK, SPMR)
 * the other way round. */
void sc_pgm_pkt_init(struct sc_pgm_pkt *k, uint8_t type, const uint8_t gsi[6], uint16_t sport,
                     uint16_t dport);

/* An IPv4 NLA (addr in network order). */
void sc_pgm_nla_ipv4(struct sc_pgm_nla *n, uint32_t addr);

/* A NAK's or NCF's body: source and group NLAs (IPv4, network order) and the
 * sequences asked for or confirmed -- sqns[0] in the header, the rest (up to
 * SC_PGM_MAX_NAK_LIST) in OPT_NAK_LIST. */
void sc_pgm_set_nak(struct sc_pgm_pkt *k, uint32_t src, uint32_t grp, const uint32_t *sqns,
                    unsigned n);

/* Bytes the header, type body and options of p take (the TSDU starts there). */
size_t sc_pgm_header_len(const struct sc_pgm_pkt *p);

/* Encode p into buf and fill in the checksum.
 * The TSDU is copied from p->tsdu (p->tsdu_len bytes); when p->tsdu is NULL the
 * caller has already placed it at buf + sc_pgm_header_len(p) (in-place encode).
 * @return the packet length, or SC_PERR_NOSPACE / SC_PERR_OVERSIZE /
 *         SC_PERR_OPTIONS (e.g. a NAK list longer than 62) / SC_PERR_TYPE.
 */
int sc_pgm_encode(uint8_t *buf, size_t cap, const struct sc_pgm_pkt *p);

/* ODATA without options -- a publisher's every packet -- from a template: the
 * fields fixed for a source (ports, type, GSI) are laid out once with their
 * checksum partial sum, so a packet costs four stores and the sum of the
 * bytes that change (about a quarter of the generic sc_pgm_encode's work; the
 * result is byte for byte what sc_pgm_encode gives). */
struct sc_pgm_odata_tmpl {
    uint8_t hdr[SC_PGM_HDR_LEN]; /* TSDU length and checksum zero */
    uint32_t sum;                /* sc_csum_partial of hdr */
};

void sc_pgm_odata_tmpl_init(struct sc_pgm_odata_tmpl *t, uint16_t sport, uint16_t dport,
                            const uint8_t gsi[6]);

/* Write the header of an ODATA whose tsdu_len-byte TSDU the caller has placed
 * at buf + SC_PGM_HDR_LEN + SC_PGM_DATA_BODY_LEN. @return the packet length. */
size_t sc_pgm_encode_odata(uint8_t *buf, const struct sc_pgm_odata_tmpl *t, uint32_t sqn,
                           uint32_t trail, uint16_t tsdu_len);

/* Checksum of a whole encoded packet (its csum field is treated as zero). The
 * value to put on the wire: never 0, which means "no checksum". */
uint16_t sc_pgm_checksum(const uint8_t *pkt, size_t len);

/* Turn a stored ODATA into the RDATA that repairs it: type and trail change,
 * the checksum is updated incrementally. The packet must have been produced by
 * sc_pgm_encode (or accepted by sc_pgm_decode). */
void sc_pgm_make_rdata(uint8_t *pkt, uint32_t trail);

/* The TSI port/GSI pair identifies a source: GSI (6) + data-source port (2). */
struct sc_pgm_tsi {
    uint8_t gsi[6];
    uint16_t sport;
};

static inline bool
sc_pgm_is_upstream(uint8_t type)
{
    return type == SC_PGM_NAK || type == SC_PGM_NNAK || type == SC_PGM_SPMR ||
           type == SC_PGM_POLR || type == SC_PGM_ACK;
}

const char *sc_pgm_type_str(uint8_t type);

#endif
