/* Ethernet II / IPv4 / UDP / ARP framing for the raw-Ethernet (DPDK) path.
 *
 *   | dst mac | src mac | 0x0800 | IPv4 (20, no options emitted) | UDP (8) | payload
 *   | dst mac | src mac | 0x0806 | ARP for IPv4 over Ethernet (28)
 *
 * Addresses (struct sc_udp4_meta, struct sc_arp) are in network byte order
 * exactly as on the wire, so they can be compared and copied without swaps.
 * The parser accepts IPv4 options (skips them), rejects fragments (seqcast never
 * sends any, and reassembly is not this layer's job) and verifies the IPv4
 * header checksum; the UDP checksum is verified when present.
 */
#ifndef SC_PROTO_NETFRAME_H
#define SC_PROTO_NETFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "perr.h"

#define SC_ETH_HDR_LEN 14
#define SC_IPV4_HDR_LEN 20
#define SC_UDP_HDR_LEN 8
#define SC_ARP_LEN 28
#define SC_UDP4_FRAME_OVERHEAD (SC_ETH_HDR_LEN + SC_IPV4_HDR_LEN + SC_UDP_HDR_LEN)
#define SC_ETH_MIN_FRAME 60 /* without FCS; shorter frames are padded */

#define SC_ETHERTYPE_IPV4 0x0800
#define SC_ETHERTYPE_ARP 0x0806
#define SC_IPPROTO_UDP 17

#define SC_ARP_REQUEST 1
#define SC_ARP_REPLY 2

struct sc_udp4_meta {
    uint8_t dst_mac[6];
    uint8_t src_mac[6];
    uint32_t src_ip; /* network order */
    uint32_t dst_ip; /* network order */
    uint16_t src_port; /* host order */
    uint16_t dst_port; /* host order */
    uint8_t ttl;
    uint8_t tos;
    uint16_t ip_id;
};

/* Build flags */
#define SC_NF_NO_IP_CSUM 0x1  /* leave the IPv4 checksum 0 (hardware offload fills it) */
#define SC_NF_UDP_CSUM 0x2    /* compute the UDP checksum (optional over IPv4) */
#define SC_NF_SUMS_ZERO 0x4   /* with SC_NF_UDP_CSUM: the payload's one's-complement sum is
                                 zero (0xFFFF), as a PGM packet carrying its checksum's is:
                                 the checksum is made from the headers, the payload unread */

/* Write Ethernet + IPv4 + UDP headers in front of a payload of len bytes
 * already at buf + SC_UDP4_FRAME_OVERHEAD (in-place), or copied from payload
 * when it is not NULL. Frames under 60 bytes are zero-padded.
 * @return the frame length, SC_PERR_NOSPACE or SC_PERR_OVERSIZE. */
int sc_udp4_build(uint8_t *buf, size_t cap, const struct sc_udp4_meta *m, const void *payload,
                  size_t len, unsigned flags);

struct sc_arp {
    uint16_t op;
    uint8_t sha[6];
    uint32_t spa; /* network order */
    uint8_t tha[6];
    uint32_t tpa; /* network order */
};

/* An Ethernet frame carrying an ARP packet; dst is the frame's destination MAC
 * (broadcast for requests). @return frame length (60) or SC_PERR_NOSPACE. */
int sc_arp_build(uint8_t *buf, size_t cap, const uint8_t dst[6], const struct sc_arp *a);

enum sc_frame_kind {
    SC_FRAME_UDP4 = 1,
    SC_FRAME_ARP = 2,
    SC_FRAME_OTHER = 3, /* well-formed but not ours: other ethertype or IP protocol */
};

struct sc_frame {
    enum sc_frame_kind kind;
    uint8_t dst_mac[6];
    uint8_t src_mac[6];
    uint16_t ethertype;
    struct sc_udp4_meta udp; /* SC_FRAME_UDP4 (macs repeated for convenience) */
    const uint8_t *payload;  /* SC_FRAME_UDP4: the UDP payload, into the frame */
    uint16_t payload_len;
    struct sc_arp arp; /* SC_FRAME_ARP */
};

/* Parser flags */
#define SC_NF_NO_UDP_CSUM 0x4 /* do not verify UDP checksums (the payload has its own) */

/* Parse a frame of len bytes (Ethernet padding allowed after the IP packet).
 * @return 0, or SC_PERR_SHORT, SC_PERR_VERSION (not IPv4 / bad IHL),
 *         SC_PERR_LENGTH (IP or UDP length vs bytes present), SC_PERR_CHECKSUM,
 *         SC_PERR_FIELD (fragment, unsupported ARP hardware/protocol). */
int sc_frame_parse(const uint8_t *buf, size_t len, struct sc_frame *out);
int sc_frame_parse_flags(const uint8_t *buf, size_t len, struct sc_frame *out, unsigned flags);

/* IPv4 header checksum over hlen bytes (its checksum field taken as is: 0
 * when computing, the wire value when verifying -> result 0 means valid). */
uint16_t sc_ipv4_csum(const uint8_t *hdr, size_t hlen);

/* 01:00:5e + the low 23 bits of an IPv4 multicast group (network order). */
void sc_mcast_mac(uint32_t group, uint8_t mac[6]);

static inline bool
sc_ipv4_is_multicast(uint32_t addr_be)
{
    return (((const uint8_t *)&addr_be)[0] & 0xF0) == 0xE0;
}

#endif
