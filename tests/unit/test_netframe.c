/* Ethernet II / IPv4 / UDP / ARP: build, parse, checksums, multicast MACs. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include <seqcast/proto/endian.h>
#include <seqcast/proto/netframe.h>

static struct sc_udp4_meta
meta(void)
{
    struct sc_udp4_meta m = { .src_mac = { 2, 0, 0, 0, 0, 1 }, .ttl = 1,
                              .src_port = 40000, .dst_port = 3056, .ip_id = 7 };
    m.src_ip = inet_addr("198.18.0.1");
    m.dst_ip = inet_addr("239.192.0.1");
    sc_mcast_mac(m.dst_ip, m.dst_mac);
    return m;
}

Test(netframe, multicast_mac_mapping)
{
    uint8_t mac[6];
    const uint8_t want1[6] = { 0x01, 0x00, 0x5e, 0x40, 0x00, 0x01 };
    const uint8_t want2[6] = { 0x01, 0x00, 0x5e, 0x7f, 0xff, 0xfa };

    sc_mcast_mac(inet_addr("239.192.0.1"), mac); /* bit 24 of the group is dropped */
    cr_assert_arr_eq(mac, want1, 6);
    sc_mcast_mac(inet_addr("239.255.255.250"), mac);
    cr_assert_arr_eq(mac, want2, 6);
    sc_mcast_mac(inet_addr("224.127.255.250"), mac); /* aliases of 239.255.255.250 */
    cr_assert_arr_eq(mac, want2, 6);
    cr_assert(sc_ipv4_is_multicast(inet_addr("224.0.0.1")));
    cr_assert(!sc_ipv4_is_multicast(inet_addr("198.18.0.1")));
}

Test(netframe, udp_round_trip_with_checksums)
{
    uint8_t b[2048];
    struct sc_udp4_meta m = meta();
    struct sc_frame f;
    int n;

    n = sc_udp4_build(b, sizeof(b), &m, "payload!", 8, SC_NF_UDP_CSUM);
    cr_assert_eq(n, 60, "short frames are padded to 60");
    cr_assert_eq(sc_frame_parse(b, (size_t)n, &f), 0);
    cr_assert_eq(f.kind, SC_FRAME_UDP4);
    cr_assert_eq(f.payload_len, 8);
    cr_assert_eq(memcmp(f.payload, "payload!", 8), 0);
    cr_assert_eq(f.udp.src_ip, m.src_ip);
    cr_assert_eq(f.udp.dst_ip, m.dst_ip);
    cr_assert_eq(f.udp.dst_port, 3056);
    cr_assert_eq(f.udp.ttl, 1);
    cr_assert_arr_eq(f.dst_mac, m.dst_mac, 6);

    b[14 + 20 + 8 + 1] ^= 0x20; /* payload damage: the UDP checksum catches it */
    cr_assert_eq(sc_frame_parse(b, (size_t)n, &f), SC_PERR_CHECKSUM);
    n = sc_udp4_build(b, sizeof(b), &m, "payload!", 8, 0); /* UDP checksum 0 = none */
    b[14 + 20 + 8 + 1] ^= 0x20;
    cr_assert_eq(sc_frame_parse(b, (size_t)n, &f), 0);
    b[14 + 8] ^= 1; /* TTL damage: the IPv4 header checksum catches it */
    cr_assert_eq(sc_frame_parse(b, (size_t)n, &f), SC_PERR_CHECKSUM);
}

/* The raw-Ethernet path skips UDP checksums (PGM carries its own): a frame whose
 * UDP checksum is wrong -- e.g. a partial sum left by checksum offload -- is
 * accepted with SC_NF_NO_UDP_CSUM, and rejected without it. */
Test(netframe, udp_checksum_can_be_left_to_the_payload)
{
    uint8_t b[256];
    struct sc_udp4_meta m = meta();
    struct sc_frame f;
    int n = sc_udp4_build(b, sizeof(b), &m, "pgm", 3, SC_NF_UDP_CSUM);

    b[14 + 20 + 6] ^= 0x55; /* damage the UDP checksum only */
    cr_assert_eq(sc_frame_parse(b, (size_t)n, &f), SC_PERR_CHECKSUM);
    cr_assert_eq(sc_frame_parse_flags(b, (size_t)n, &f, SC_NF_NO_UDP_CSUM), 0);
    cr_assert_eq(f.payload_len, 3);
    b[14 + 8] ^= 1; /* the IPv4 header checksum is still verified */
    cr_assert_eq(sc_frame_parse_flags(b, (size_t)n, &f, SC_NF_NO_UDP_CSUM), SC_PERR_CHECKSUM);
}

Test(netframe, ip_checksum_known_value)
{
    /* RFC 1071 style example: a well-known header (Wikipedia's IPv4 example) */
    uint8_t h[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                      0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };

    cr_assert_eq(sc_ipv4_csum(h, 20), 0xb861);
    sc_store_be16(h + 10, 0xb861);
    cr_assert_eq(sc_ipv4_csum(h, 20), 0);
}

Test(netframe, rejects_malformed)
{
    uint8_t b[2048];
    struct sc_udp4_meta m = meta();
    struct sc_frame f;
    int n = sc_udp4_build(b, sizeof(b), &m, NULL, 100, 0);
    uint8_t orig[2048];

    memset(b + 42, 0xAB, 100);
    n = sc_udp4_build(b, sizeof(b), &m, NULL, 100, 0);
    memcpy(orig, b, (size_t)n);
    cr_assert_eq(sc_frame_parse(b, 13, &f), SC_PERR_SHORT);
    cr_assert_eq(sc_frame_parse(b, 14 + 19, &f), SC_PERR_SHORT);
    cr_assert_eq(sc_frame_parse(b, (size_t)n - 1, &f), SC_PERR_LENGTH, "IP total > bytes");
    b[14] = 0x65; /* IPv6 version nibble in an IPv4 ethertype */
    cr_assert_eq(sc_frame_parse(b, (size_t)n, &f), SC_PERR_VERSION);
    b[14] = 0x44; /* IHL 4 */
    cr_assert_eq(sc_frame_parse(b, (size_t)n, &f), SC_PERR_VERSION);
    memcpy(b, orig, (size_t)n);
    sc_store_be16(b + 14 + 6, 0x2000); /* MF: a fragment */
    sc_store_be16(b + 14 + 10, 0);
    sc_store_be16(b + 14 + 10, sc_ipv4_csum(b + 14, 20));
    cr_assert_eq(sc_frame_parse(b, (size_t)n, &f), SC_PERR_FIELD);
    memcpy(b, orig, (size_t)n);
    sc_store_be16(b + 14 + 20 + 4, 50); /* UDP length disagrees with IP */
    cr_assert_eq(sc_frame_parse(b, (size_t)n, &f), SC_PERR_LENGTH);
    memcpy(b, orig, (size_t)n);
    b[14 + 9] = 6; /* TCP: well-formed, not ours */
    sc_store_be16(b + 14 + 10, 0);
    sc_store_be16(b + 14 + 10, sc_ipv4_csum(b + 14, 20));
    cr_assert_eq(sc_frame_parse(b, (size_t)n, &f), 0);
    cr_assert_eq(f.kind, SC_FRAME_OTHER);
    sc_store_be16(b + 12, 0x86DD);
    cr_assert_eq(sc_frame_parse(b, (size_t)n, &f), 0);
    cr_assert_eq(f.kind, SC_FRAME_OTHER);
    cr_assert_eq(sc_udp4_build(b, 50, &m, NULL, 100, 0), SC_PERR_NOSPACE);
}

Test(netframe, arp_round_trip)
{
    uint8_t b[64], bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    struct sc_arp a = { .op = SC_ARP_REQUEST, .sha = { 2, 0, 0, 0, 0, 2 } }, *r;
    struct sc_frame f;
    int n;

    a.spa = inet_addr("198.18.0.2");
    a.tpa = inet_addr("198.18.0.1");
    n = sc_arp_build(b, sizeof(b), bcast, &a);
    cr_assert_eq(n, 60);
    cr_assert_eq(sc_frame_parse(b, (size_t)n, &f), 0);
    cr_assert_eq(f.kind, SC_FRAME_ARP);
    r = &f.arp;
    cr_assert_eq(r->op, SC_ARP_REQUEST);
    cr_assert_eq(r->tpa, a.tpa);
    cr_assert_eq(r->spa, a.spa);
    cr_assert_arr_eq(r->sha, a.sha, 6);
    b[14 + 4] = 8; /* hardware length 8: not Ethernet/IPv4 ARP */
    cr_assert_eq(sc_frame_parse(b, (size_t)n, &f), SC_PERR_FIELD);
    cr_assert_eq(sc_frame_parse(b, 14 + 27, &f), SC_PERR_SHORT);
}
