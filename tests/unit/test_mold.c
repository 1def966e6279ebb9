/* MoldUDP64 block encoder and iterator: golden packets (wire-specs.md s.2.5),
 * round trips, malformed blocks, boundary sizes. */
#include <criterion/criterion.h>
#include <string.h>

#include <seqcast/proto/mold.h>
#include "tests/support/testutil.h"

static const uint8_t SESSION[10] = { 'N', 'Q', 'T', 'V', '0', '0', '0', '0', '0', '1' };

Test(mold, golden_data_block)
{
    uint8_t want[64], b[64];
    size_t n = tu_hex("4e515456303030303031 0000000000000001 0002 0003 530001 0005 68656c6c6f",
                      want, sizeof(want));
    struct sc_mold_enc e;
    struct sc_mold_iter it;
    struct sc_mold_hdr h;
    const uint8_t *m;
    uint16_t len;
    uint64_t seq;

    cr_assert_eq(sc_mold_enc_init(&e, b, sizeof(b), SESSION, 1), 0);
    cr_assert_eq(sc_mold_enc_add(&e, "\x53\x00\x01", 3), 0);
    cr_assert_eq(sc_mold_enc_add(&e, "hello", 5), 0);
    cr_assert_eq(e.len, n);
    cr_assert_arr_eq(b, want, n);

    cr_assert_eq(sc_mold_iter_init(&it, want, n, &h), 0);
    cr_assert_eq(h.count, 2);
    cr_assert_eq(h.seq, 1);
    cr_assert(sc_mold_iter_next(&it, &seq, &m, &len));
    cr_assert_eq(seq, 1);
    cr_assert_eq(len, 3);
    cr_assert(sc_mold_iter_next(&it, &seq, &m, &len));
    cr_assert_eq(seq, 2);
    cr_assert_eq(len, 5);
    cr_assert_eq(memcmp(m, "hello", 5), 0);
    cr_assert(!sc_mold_iter_next(&it, &seq, &m, &len));
}

Test(mold, golden_header_only_packets)
{
    uint8_t want[32], b[32];
    struct sc_mold_hdr h = { .seq = 3, .count = SC_MOLD_COUNT_HEARTBEAT }, g;
    struct sc_mold_iter it;
    size_t n;

    memcpy(h.session, SESSION, 10);
    n = tu_hex("4e515456303030303031 0000000000000003 0000", want, sizeof(want));
    cr_assert_eq(sc_mold_encode_hdr(b, sizeof(b), &h), (int)n);
    cr_assert_arr_eq(b, want, n);
    cr_assert_eq(sc_mold_iter_init(&it, b, n, &g), 0);
    cr_assert_eq(g.count, 0);

    h.seq = 4;
    h.count = SC_MOLD_COUNT_EOS;
    n = tu_hex("4e515456303030303031 0000000000000004 ffff", want, sizeof(want));
    cr_assert_eq(sc_mold_encode_hdr(b, sizeof(b), &h), (int)n);
    cr_assert_arr_eq(b, want, n);
    cr_assert_eq(sc_mold_iter_init(&it, b, n, &g), 0);
    cr_assert_eq(g.count, 0xFFFF);
    b[n] = 0; /* an end of session with extra data */
    cr_assert_eq(sc_mold_iter_init(&it, b, n + 1, &g), SC_PERR_LENGTH);

    h.seq = 1;
    h.count = 2;
    n = tu_hex("4e515456303030303031 0000000000000001 0002", want, sizeof(want));
    cr_assert_eq(sc_mold_encode_request(b, sizeof(b), &h), (int)n);
    cr_assert_arr_eq(b, want, n);
    cr_assert_eq(sc_mold_decode_request(b, n, &g), 0);
    cr_assert_eq(g.count, 2);
    cr_assert_eq(sc_mold_decode_request(b, n - 1, &g), SC_PERR_SHORT);
    cr_assert_eq(sc_mold_decode_request(b, n + 1, &g), SC_PERR_LENGTH);
    /* a request's count is 1..0xFFFE: 0 and End of Session's 0xFFFF are not
     * encoded, and refused when read */
    h.count = 0xFFFE;
    cr_assert_eq(sc_mold_encode_request(b, sizeof(b), &h), (int)n);
    cr_assert_eq(sc_mold_decode_request(b, n, &g), 0);
    cr_assert_eq(g.count, 0xFFFE);
    h.count = SC_MOLD_COUNT_EOS;
    cr_assert_eq(sc_mold_encode_request(b, sizeof(b), &h), SC_PERR_FIELD);
    h.count = 0;
    cr_assert_eq(sc_mold_encode_request(b, sizeof(b), &h), SC_PERR_FIELD);
    b[18] = b[19] = 0xFF;
    cr_assert_eq(sc_mold_decode_request(b, n, &g), SC_PERR_FIELD);
    b[18] = b[19] = 0;
    cr_assert_eq(sc_mold_decode_request(b, n, &g), SC_PERR_FIELD);
}

Test(mold, rejects_malformed_blocks)
{
    uint8_t b[64];
    struct sc_mold_iter it;
    struct sc_mold_hdr h;
    size_t n = tu_hex("4e515456303030303031 0000000000000001 0002 0003 530001 0005 68656c6c6f",
                      b, sizeof(b));

    cr_assert_eq(sc_mold_iter_init(&it, b, 19, &h), SC_PERR_SHORT);
    cr_assert_eq(sc_mold_iter_init(&it, b, n - 1, &h), SC_PERR_LENGTH); /* truncated message */
    cr_assert_eq(sc_mold_iter_init(&it, b, n + 0, &h), 0);
    b[n] = 0xAA;
    cr_assert_eq(sc_mold_iter_init(&it, b, n + 1, &h), SC_PERR_LENGTH); /* trailing bytes */
    b[19] = 3; /* count says 3, only 2 present */
    cr_assert_eq(sc_mold_iter_init(&it, b, n, &h), SC_PERR_LENGTH);
    b[19] = 1; /* count says 1, 2 present */
    cr_assert_eq(sc_mold_iter_init(&it, b, n, &h), SC_PERR_LENGTH);
    b[19] = 2;
    b[21] = 9; /* first message claims 9 bytes */
    cr_assert_eq(sc_mold_iter_init(&it, b, n, &h), SC_PERR_LENGTH);
    b[21] = 3;
    memset(b + 10, 0xFF, 8); /* sequence range would wrap 2^64 */
    cr_assert_eq(sc_mold_iter_init(&it, b, n, &h), SC_PERR_OVERSIZE);
}

Test(mold, encoder_capacity_and_boundaries)
{
    static uint8_t b[20 + 2 * 65534 + 100];
    static uint8_t big[65535];
    struct sc_mold_enc e;
    struct sc_mold_iter it;
    struct sc_mold_hdr h;
    const uint8_t *m;
    uint16_t len;
    uint64_t seq;

    cr_assert_eq(sc_mold_enc_init(&e, b, 19, SESSION, 1), SC_PERR_NOSPACE);
    cr_assert_eq(sc_mold_enc_init(&e, b, 30, SESSION, 1), 0);
    cr_assert_eq(sc_mold_enc_add(&e, "12345678", 8), 0); /* 20 + 10 = 30: exactly full */
    cr_assert_eq(sc_mold_enc_add(&e, "", 0), SC_PERR_NOSPACE);
    cr_assert_eq(e.count, 1);

    /* a 65535-byte message and a zero-length one */
    cr_assert_eq(sc_mold_enc_init(&e, b, sizeof(b), SESSION, 100), 0);
    cr_assert_eq(sc_mold_enc_add(&e, big, 65535), 0);
    cr_assert_eq(sc_mold_enc_add(&e, "", 0), 0);
    cr_assert_eq(sc_mold_iter_init(&it, b, e.len, &h), 0);
    cr_assert(sc_mold_iter_next(&it, &seq, &m, &len));
    cr_assert_eq(len, 65535);
    cr_assert(sc_mold_iter_next(&it, &seq, &m, &len));
    cr_assert_eq(len, 0);
    cr_assert_eq(seq, 101);

    /* the count field tops out at 65534 messages */
    cr_assert_eq(sc_mold_enc_init(&e, b, sizeof(b), SESSION, 1), 0);
    for (unsigned i = 0; i < SC_MOLD_MAX_COUNT; i++)
        cr_assert_eq(sc_mold_enc_add(&e, "", 0), 0);
    cr_assert_eq(sc_mold_enc_add(&e, "", 0), SC_PERR_OVERSIZE);
    cr_assert_eq(sc_mold_iter_init(&it, b, e.len, &h), 0);
    cr_assert_eq(h.count, SC_MOLD_MAX_COUNT);
}

/* The encoder's copy (inline, in overlapping pieces up to 64 bytes) writes
 * every length exactly: each message read back equals what went in, and
 * nothing past the block is touched. */
Test(mold, encoder_copies_every_length_exactly)
{
    static uint8_t buf[9000], msg[300];
    static const uint8_t session[SC_MOLD_SESSION_LEN] = "COPYTEST00";
    struct sc_mold_enc e;
    struct sc_mold_iter it;
    struct sc_mold_hdr h;
    uint64_t seq;
    const uint8_t *m;
    uint16_t ml, n = 0;

    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 37 + 11);
    memset(buf, 0xEE, sizeof(buf));
    cr_assert_eq(sc_mold_enc_init(&e, buf, 8000, session, 100), 0);
    for (uint16_t len = 0; len <= 120; len++) /* 0..120: every branch of the copy */
        cr_assert_eq(sc_mold_enc_add(&e, msg + (len % 7), len), 0, "len %u", len);
    cr_assert_eq(sc_mold_enc_add(&e, msg, 300), 0);
    for (size_t i = e.len; i < sizeof(buf); i++)
        cr_assert_eq(buf[i], 0xEE, "byte %zu past the block written", i);
    cr_assert_eq(sc_mold_iter_init(&it, buf, e.len, &h), 0);
    cr_assert_eq(h.count, 122);
    while (sc_mold_iter_next(&it, &seq, &m, &ml)) {
        uint16_t want = n <= 120 ? n : 300;
        cr_assert_eq(seq, 100u + n);
        cr_assert_eq(ml, want, "message %u: length %u", n, ml);
        cr_assert(!memcmp(m, n <= 120 ? msg + (n % 7) : msg, ml), "message %u differs", n);
        n++;
    }
    cr_assert_eq(n, 122);
}
