#include "netframe.h"

#include <string.h>

#include "csum.h"
#include "endian.h"

uint16_t
sc_ipv4_csum(const uint8_t *hdr, size_t hlen)
{
    return sc_csum_fold(sc_csum_partial(hdr, hlen, 0));
}

void
sc_mcast_mac(uint32_t group, uint8_t mac[6])
{
    const uint8_t *g = (const uint8_t *)&group;

    mac[0] = 0x01;
    mac[1] = 0x00;
    mac[2] = 0x5e;
    mac[3] = g[1] & 0x7F;
    mac[4] = g[2];
    mac[5] = g[3];
}

/* One's-complement sum over the UDP pseudo-header and datagram; with
 * payload_zero, over the pseudo-header and UDP header only, for a payload
 * whose sum is zero (SC_NF_SUMS_ZERO). */
static uint32_t
udp4_sum(const uint8_t *ip, const uint8_t *udp, size_t ulen, bool payload_zero)
{
    uint8_t pseudo[12];

    memcpy(pseudo, ip + 12, 8); /* src, dst */
    pseudo[8] = 0;
    pseudo[9] = SC_IPPROTO_UDP;
    sc_store_be16(pseudo + 10, (uint16_t)ulen);
    if (payload_zero) /* adding 0xFFFF (one's-complement zero) changes no nonzero sum's fold */
        return sc_csum_partial(udp, SC_UDP_HDR_LEN, sc_csum_partial(pseudo, sizeof(pseudo), 0)) +
               0xFFFFu;
    return sc_csum_partial(udp, ulen, sc_csum_partial(pseudo, sizeof(pseudo), 0));
}

int
sc_udp4_build(uint8_t *buf, size_t cap, const struct sc_udp4_meta *m, const void *payload,
              size_t len, unsigned flags)
{
    size_t flen = SC_UDP4_FRAME_OVERHEAD + len;
    uint8_t *ip = buf + SC_ETH_HDR_LEN, *udp = ip + SC_IPV4_HDR_LEN;

    if (len > 65535 - SC_IPV4_HDR_LEN - SC_UDP_HDR_LEN)
        return SC_PERR_OVERSIZE;
    if (cap < flen || cap < SC_ETH_MIN_FRAME)
        return SC_PERR_NOSPACE;
    if (payload)
        memmove(udp + SC_UDP_HDR_LEN, payload, len);
    if (flen < SC_ETH_MIN_FRAME) {
        memset(buf + flen, 0, SC_ETH_MIN_FRAME - flen);
        flen = SC_ETH_MIN_FRAME;
    }
    memcpy(buf, m->dst_mac, 6);
    memcpy(buf + 6, m->src_mac, 6);
    sc_store_be16(buf + 12, SC_ETHERTYPE_IPV4);

    ip[0] = 0x45;
    ip[1] = m->tos;
    sc_store_be16(ip + 2, (uint16_t)(SC_IPV4_HDR_LEN + SC_UDP_HDR_LEN + len));
    sc_store_be16(ip + 4, m->ip_id);
    sc_store_be16(ip + 6, 0x4000); /* DF, no fragments */
    ip[8] = m->ttl;
    ip[9] = SC_IPPROTO_UDP;
    sc_store_be16(ip + 10, 0);
    memcpy(ip + 12, &m->src_ip, 4);
    memcpy(ip + 16, &m->dst_ip, 4);
    if (!(flags & SC_NF_NO_IP_CSUM))
        sc_store_be16(ip + 10, sc_ipv4_csum(ip, SC_IPV4_HDR_LEN));

    sc_store_be16(udp, m->src_port);
    sc_store_be16(udp + 2, m->dst_port);
    sc_store_be16(udp + 4, (uint16_t)(SC_UDP_HDR_LEN + len));
    sc_store_be16(udp + 6, 0);
    if (flags & SC_NF_UDP_CSUM) {
        uint16_t c = sc_csum_fold(udp4_sum(ip, udp, SC_UDP_HDR_LEN + len, flags & SC_NF_SUMS_ZERO));
        sc_store_be16(udp + 6, c == 0 ? 0xFFFF : c); /* 0 on the wire = "none" */
    }
    return (int)flen;
}

int
sc_arp_build(uint8_t *buf, size_t cap, const uint8_t dst[6], const struct sc_arp *a)
{
    uint8_t *p = buf + SC_ETH_HDR_LEN;

    if (cap < SC_ETH_MIN_FRAME)
        return SC_PERR_NOSPACE;
    memcpy(buf, dst, 6);
    memcpy(buf + 6, a->sha, 6);
    sc_store_be16(buf + 12, SC_ETHERTYPE_ARP);
    sc_store_be16(p, 1);                 /* hardware: Ethernet */
    sc_store_be16(p + 2, SC_ETHERTYPE_IPV4);
    p[4] = 6;
    p[5] = 4;
    sc_store_be16(p + 6, a->op);
    memcpy(p + 8, a->sha, 6);
    memcpy(p + 14, &a->spa, 4);
    memcpy(p + 18, a->tha, 6);
    memcpy(p + 24, &a->tpa, 4);
    memset(buf + SC_ETH_HDR_LEN + SC_ARP_LEN, 0,
           SC_ETH_MIN_FRAME - SC_ETH_HDR_LEN - SC_ARP_LEN);
    return SC_ETH_MIN_FRAME;
}

static int
parse_arp(const uint8_t *p, size_t len, struct sc_frame *out)
{
    if (len < SC_ARP_LEN)
        return SC_PERR_SHORT;
    if (sc_load_be16(p) != 1 || sc_load_be16(p + 2) != SC_ETHERTYPE_IPV4 || p[4] != 6 ||
        p[5] != 4)
        return SC_PERR_FIELD;
    out->arp.op = sc_load_be16(p + 6);
    memcpy(out->arp.sha, p + 8, 6);
    memcpy(&out->arp.spa, p + 14, 4);
    memcpy(out->arp.tha, p + 18, 6);
    memcpy(&out->arp.tpa, p + 24, 4);
    out->kind = SC_FRAME_ARP;
    return 0;
}

static int
parse_ipv4(const uint8_t *ip, size_t len, struct sc_frame *out, unsigned flags)
{
    size_t ihl, tot, ulen;
    const uint8_t *udp;

    if (len < SC_IPV4_HDR_LEN)
        return SC_PERR_SHORT;
    if ((ip[0] >> 4) != 4)
        return SC_PERR_VERSION;
    ihl = (size_t)(ip[0] & 0x0F) * 4;
    if (ihl < SC_IPV4_HDR_LEN)
        return SC_PERR_VERSION;
    tot = sc_load_be16(ip + 2);
    if (tot < ihl || tot > len)
        return SC_PERR_LENGTH;
    if (sc_ipv4_csum(ip, ihl) != 0)
        return SC_PERR_CHECKSUM;
    if (sc_load_be16(ip + 6) & 0x3FFF) /* MF set or a fragment offset */
        return SC_PERR_FIELD;
    if (ip[9] != SC_IPPROTO_UDP) {
        out->kind = SC_FRAME_OTHER;
        return 0;
    }
    udp = ip + ihl;
    if (tot - ihl < SC_UDP_HDR_LEN)
        return SC_PERR_SHORT;
    ulen = sc_load_be16(udp + 4);
    if (ulen < SC_UDP_HDR_LEN || ulen != tot - ihl)
        return SC_PERR_LENGTH;
    if (!(flags & SC_NF_NO_UDP_CSUM) && sc_load_be16(udp + 6) != 0 &&
        sc_csum_fold(udp4_sum(ip, udp, ulen, false)) != 0)
        return SC_PERR_CHECKSUM;
    out->kind = SC_FRAME_UDP4;
    memcpy(&out->udp.src_ip, ip + 12, 4);
    memcpy(&out->udp.dst_ip, ip + 16, 4);
    out->udp.ttl = ip[8];
    out->udp.tos = ip[1];
    out->udp.ip_id = sc_load_be16(ip + 4);
    out->udp.src_port = sc_load_be16(udp);
    out->udp.dst_port = sc_load_be16(udp + 2);
    out->payload = udp + SC_UDP_HDR_LEN;
    out->payload_len = (uint16_t)(ulen - SC_UDP_HDR_LEN);
    return 0;
}

int
sc_frame_parse(const uint8_t *buf, size_t len, struct sc_frame *out)
{
    return sc_frame_parse_flags(buf, len, out, 0);
}

int
sc_frame_parse_flags(const uint8_t *buf, size_t len, struct sc_frame *out, unsigned flags)
{
    if (len < SC_ETH_HDR_LEN)
        return SC_PERR_SHORT;
    memcpy(out->dst_mac, buf, 6);
    memcpy(out->src_mac, buf + 6, 6);
    out->ethertype = sc_load_be16(buf + 12);
    switch (out->ethertype) {
    case SC_ETHERTYPE_ARP:
        return parse_arp(buf + SC_ETH_HDR_LEN, len - SC_ETH_HDR_LEN, out);
    case SC_ETHERTYPE_IPV4:
        memcpy(out->udp.dst_mac, buf, 6);
        memcpy(out->udp.src_mac, buf + 6, 6);
        return parse_ipv4(buf + SC_ETH_HDR_LEN, len - SC_ETH_HDR_LEN, out, flags);
    }
    out->kind = SC_FRAME_OTHER;
    return 0;
}
