/* MoldUDP64 iterator: a block it accepts iterates exactly count messages, all
 * inside the datagram, and re-encodes to identical bytes. */
#include <string.h>

#include <seqcast/proto/mold.h>
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t out[1 << 17];
    struct sc_mold_iter it;
    struct sc_mold_hdr h, r;
    struct sc_mold_enc e;
    const uint8_t *m;
    uint16_t len;
    uint64_t seq;
    unsigned n = 0;

    (void)sc_mold_decode_request(data, size, &r);
    if (sc_mold_iter_init(&it, data, size, &h) != 0)
        return 0;
    if (h.count == SC_MOLD_COUNT_HEARTBEAT || h.count == SC_MOLD_COUNT_EOS) {
        FUZZ_CHECK(!sc_mold_iter_next(&it, &seq, &m, &len));
        FUZZ_CHECK(size == SC_MOLD_HDR_LEN);
        return 0;
    }
    FUZZ_CHECK(sc_mold_enc_init(&e, out, sizeof(out), h.session, h.seq) == 0);
    while (sc_mold_iter_next(&it, &seq, &m, &len)) {
        FUZZ_CHECK(m >= data && m + len <= data + size);
        FUZZ_CHECK(seq == h.seq + n);
        FUZZ_CHECK(sc_mold_enc_add(&e, m, len) == 0);
        n++;
    }
    FUZZ_CHECK(n == h.count);
    FUZZ_CHECK(e.len == size && memcmp(out, data, size) == 0);
    return 0;
}
