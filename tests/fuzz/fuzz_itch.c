/* ITCH 5.0 codec. The input is read three ways: as one message, as NASDAQ's
 * file format (2-byte length, message, ...) and as a MoldUDP64 block. For every
 * message: an accepted one re-encodes byte-identical and is exactly its type's
 * length; a rejected one gets exactly the class its length and type call for
 * (SHORT, TYPE or LENGTH), a known codec class; and the portable decode gives
 * the same result and the same fields as sc_itch_decode (its vector path where
 * the CPU has one). */
#include <string.h>

#include <seqcast/proto/endian.h>
#include <seqcast/proto/itch.h>
#include <seqcast/proto/mold.h>
#include "tests/fuzz/fuzz.h"

static void
check(const uint8_t *b, size_t n)
{
    uint8_t out[SC_ITCH_MAX_LEN + 1];
    struct sc_itch_msg m, mp;
    int rc = sc_itch_decode(b, n, &m);
    unsigned want = n ? sc_itch_msg_len(b[0]) : 0;

    FUZZ_CHECK(sc_itch_decode_portable(b, n, &mp) == rc);

    if (rc < 0)
        FUZZ_CHECK(sc_perr_name(rc) != NULL);
    if (n == 0) {
        FUZZ_CHECK(rc == SC_PERR_SHORT);
    } else if (want == 0) {
        FUZZ_CHECK(rc == SC_PERR_TYPE);
        FUZZ_CHECK(sc_itch_type_name(b[0]) == NULL);
    } else if (n < want) {
        FUZZ_CHECK(rc == SC_PERR_SHORT);
    } else if (n > want) {
        FUZZ_CHECK(rc == SC_PERR_LENGTH);
    } else {
        FUZZ_CHECK(rc == (int)n && n <= SC_ITCH_MAX_LEN);
        FUZZ_CHECK(m.type == b[0] && m.ts <= SC_ITCH_TS_MAX);
        FUZZ_CHECK(m.locate == sc_load_be16(b + 1) && m.tracking == sc_load_be16(b + 3));
        FUZZ_CHECK(sc_itch_type_name(b[0]) != NULL);
        FUZZ_CHECK(sc_itch_encode(out, n - 1, &m) == SC_PERR_NOSPACE);
        memset(out, 0xEE, sizeof(out));
        FUZZ_CHECK(sc_itch_encode(out, sizeof(out), &m) == (int)n);
        FUZZ_CHECK(memcmp(out, b, n) == 0);
        FUZZ_CHECK(out[n] == 0xEE);
        memset(out, 0xEE, sizeof(out));
        FUZZ_CHECK(sc_itch_encode(out, sizeof(out), &mp) == (int)n);
        FUZZ_CHECK(memcmp(out, b, n) == 0);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sc_mold_iter it;
    struct sc_mold_hdr h;
    const uint8_t *p = data, *end = data + size, *msg;
    uint16_t len;
    uint64_t seq;

    check(data, size);

    /* the file format; a record cut by the end of the input is checked as it is */
    while (end - p >= 2) {
        size_t n = sc_load_be16(p);
        p += 2;
        if (n > (size_t)(end - p))
            n = (size_t)(end - p);
        check(p, n);
        p += n;
    }

    if (sc_mold_iter_init(&it, data, size, &h) == 0)
        while (sc_mold_iter_next(&it, &seq, &msg, &len))
            check(msg, len);
    return 0;
}
