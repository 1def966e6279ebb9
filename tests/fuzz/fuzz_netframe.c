/* Ethernet/IPv4/UDP/ARP parser: accepted UDP payloads lie inside the frame and
 * a rebuilt frame parses to the same addresses, ports and payload. */
#include <string.h>

#include <seqcast/proto/netframe.h>
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t out[70000];
    struct sc_frame f, g;
    int n;

    if (sc_frame_parse(data, size, &f) != 0)
        return 0;
    if (f.kind == SC_FRAME_UDP4) {
        FUZZ_CHECK(f.payload >= data && f.payload + f.payload_len <= data + size);
        n = sc_udp4_build(out, sizeof(out), &f.udp, f.payload, f.payload_len, SC_NF_UDP_CSUM);
        FUZZ_CHECK(n > 0);
        FUZZ_CHECK(sc_frame_parse(out, (size_t)n, &g) == 0 && g.kind == SC_FRAME_UDP4);
        FUZZ_CHECK(g.udp.src_ip == f.udp.src_ip && g.udp.dst_ip == f.udp.dst_ip);
        FUZZ_CHECK(g.udp.dst_port == f.udp.dst_port && g.payload_len == f.payload_len);
        FUZZ_CHECK(memcmp(g.payload, f.payload, f.payload_len) == 0);
    } else if (f.kind == SC_FRAME_ARP) {
        n = sc_arp_build(out, sizeof(out), f.dst_mac, &f.arp);
        FUZZ_CHECK(sc_frame_parse(out, (size_t)n, &g) == 0 && g.kind == SC_FRAME_ARP);
        FUZZ_CHECK(g.arp.spa == f.arp.spa && g.arp.tpa == f.arp.tpa && g.arp.op == f.arp.op);
    }
    return 0;
}
