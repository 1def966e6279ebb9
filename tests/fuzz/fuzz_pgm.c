/* PGM decoder: never reads out of bounds; whatever it accepts re-encodes to a
 * packet that decodes to the same fields. The input is tried twice: as is, and
 * with its checksum fixed so the fuzzer gets past the checksum. */
#include <string.h>

#include <seqcast/proto/endian.h>
#include <seqcast/proto/pgm.h>
#include "tests/fuzz/fuzz.h"

static void
check_round_trip(const struct sc_pgm_pkt *p)
{
    static uint8_t out[65536];
    struct sc_pgm_pkt q;
    int n = sc_pgm_encode(out, sizeof(out), p);

    FUZZ_CHECK(n > 0); /* whatever decodes can be encoded */
    FUZZ_CHECK(sc_pgm_decode(out, (size_t)n, &q, 0) == 0);
    FUZZ_CHECK(q.type == p->type && q.sport == p->sport && q.dport == p->dport);
    FUZZ_CHECK(memcmp(q.gsi, p->gsi, 6) == 0);
    FUZZ_CHECK(q.tsdu_len == p->tsdu_len);
    FUZZ_CHECK(memcmp(q.tsdu, p->tsdu, p->tsdu_len) == 0);
    FUZZ_CHECK(q.opt.present == p->opt.present);
    FUZZ_CHECK(q.opt.nak_list_len == p->opt.nak_list_len);
    if (p->type == SC_PGM_ODATA || p->type == SC_PGM_RDATA)
        FUZZ_CHECK(q.data.sqn == p->data.sqn && q.data.trail == p->data.trail);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[65536 + 16];
    struct sc_pgm_pkt p;

    if (size > 65536)
        return 0;
    if (sc_pgm_decode(data, size, &p, 0) == 0) {
        FUZZ_CHECK(p.tsdu >= data && p.tsdu + p.tsdu_len <= data + size);
        check_round_trip(&p);
    }
    memcpy(buf, data, size);
    if (size >= SC_PGM_HDR_LEN) {
        sc_store_be16(buf + 6, sc_pgm_checksum(buf, size));
        if (sc_pgm_decode(buf, size, &p, 0) == 0) {
            check_round_trip(&p);
            if (p.type == SC_PGM_ODATA) {
                uint8_t copy[65536];
                memcpy(copy, buf, size);
                sc_pgm_make_rdata(copy, 12345);
                FUZZ_CHECK(sc_pgm_decode(copy, size, &p, 0) == 0);
                FUZZ_CHECK(p.type == SC_PGM_RDATA && p.data.trail == 12345);
            }
        }
    }
    return 0;
}
