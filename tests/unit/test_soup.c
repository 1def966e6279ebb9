/* SoupBinTCP: golden packets (wire-specs.md s.3.5), every type, padding rules,
 * the stream parser's "need more" versus "malformed", hostile lengths. */
#include <criterion/criterion.h>
#include <string.h>

#include <seqcast/proto/soup.h>
#include "tests/support/testutil.h"

#define MAXP 4096

Test(soup, golden_login_request)
{
    uint8_t want[64], b[64];
    size_t n = tu_hex("002f 4c 555345523031 73656372657420202020 20202020202020202020 "
                      "2020202020202020202020202020202020202031",
                      want, sizeof(want));
    struct sc_soup_pkt p;

    cr_assert_eq(sc_soup_encode_login_request(b, sizeof(b), "USER01", "secret", "", 1), (int)n);
    cr_assert_arr_eq(b, want, n);
    cr_assert_eq(sc_soup_parse(b, n, MAXP, SC_SOUP_FROM_CLIENT, &p), (int)n);
    cr_assert_eq(p.type, 'L');
    cr_assert_str_eq(p.login.user, "USER01");
    cr_assert_str_eq(p.login.password, "secret");
    cr_assert_str_eq(p.login.session, "");
    cr_assert_eq(p.login.seq, 1);
}

Test(soup, golden_server_packets)
{
    uint8_t want[64], b[64];
    struct sc_soup_pkt p;
    size_t n;

    n = tu_hex("001f 41 53455353494f4e303031 2020202020202020202020202020202020202031", want,
               sizeof(want));
    cr_assert_eq(sc_soup_encode_login_accepted(b, sizeof(b), "SESSION001", 1), (int)n);
    cr_assert_arr_eq(b, want, n);
    cr_assert_eq(sc_soup_parse(b, n, MAXP, SC_SOUP_FROM_SERVER, &p), (int)n);
    cr_assert_str_eq(p.accepted.session, "SESSION001");
    cr_assert_eq(p.accepted.seq, 1);

    n = tu_hex("0002 4a 41", want, sizeof(want));
    cr_assert_eq(sc_soup_encode_login_rejected(b, sizeof(b), 'A'), (int)n);
    cr_assert_arr_eq(b, want, n);
    cr_assert_eq(sc_soup_parse(b, n, MAXP, SC_SOUP_FROM_SERVER, &p), (int)n);
    cr_assert_eq(p.reject_reason, 'A');
    cr_assert_eq(sc_soup_encode_login_rejected(b, sizeof(b), 'S'), 4);
    cr_assert_eq(sc_soup_encode_login_rejected(b, sizeof(b), 'X'), SC_PERR_FIELD);

    n = tu_hex("0008 53 01027365712d31", want, sizeof(want));
    cr_assert_eq(sc_soup_encode(b, sizeof(b), 'S', "\x01\x02seq-1", 7), (int)n);
    cr_assert_arr_eq(b, want, n);
    cr_assert_eq(sc_soup_parse(b, n, MAXP, SC_SOUP_FROM_SERVER, &p), (int)n);
    cr_assert_eq(p.payload_len, 7);

    n = tu_hex("000b 2b 64656275672074657874", want, sizeof(want));
    cr_assert_eq(sc_soup_encode(b, sizeof(b), '+', "debug text", 10), (int)n);
    cr_assert_arr_eq(b, want, n);
}

Test(soup, every_type_round_trips)
{
    const struct {
        uint8_t type;
        enum sc_soup_dir dir;
    } t[] = { { 'H', SC_SOUP_FROM_SERVER }, { 'Z', SC_SOUP_FROM_SERVER },
              { 'R', SC_SOUP_FROM_CLIENT }, { 'O', SC_SOUP_FROM_CLIENT },
              { 'U', SC_SOUP_FROM_CLIENT }, { 'S', SC_SOUP_FROM_SERVER },
              { '+', SC_SOUP_FROM_CLIENT }, { '+', SC_SOUP_FROM_SERVER } };
    uint8_t b[32];
    struct sc_soup_pkt p;

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        int has = t[i].type == 'U' || t[i].type == 'S' || t[i].type == '+';
        int n = sc_soup_encode(b, sizeof(b), t[i].type, "abc", has ? 3 : 0);
        cr_assert_eq(n, has ? 6 : 3);
        cr_assert_eq(sc_soup_parse(b, (size_t)n, MAXP, t[i].dir, &p), n);
        cr_assert_eq(p.type, t[i].type);
        /* the other direction rejects it (except debug, allowed both ways) */
        if (t[i].type != '+')
            cr_assert_eq(sc_soup_parse(b, (size_t)n, MAXP,
                                       t[i].dir == SC_SOUP_FROM_SERVER ? SC_SOUP_FROM_CLIENT
                                                                       : SC_SOUP_FROM_SERVER,
                                       &p),
                         SC_PERR_TYPE);
    }
    cr_assert_eq(sc_soup_encode(b, sizeof(b), 'H', "x", 1), SC_PERR_LENGTH);
    cr_assert_eq(sc_soup_encode(b, sizeof(b), 'Q', "", 0), SC_PERR_TYPE);
    cr_assert_eq(sc_soup_encode(b, 5, 'U', "abc", 3), SC_PERR_NOSPACE);
}

/* Feeding a packet one byte at a time gives NEED_MORE until it is complete. */
Test(soup, stream_need_more_versus_complete)
{
    uint8_t b[128];
    struct sc_soup_pkt p;
    int n = sc_soup_encode_login_request(b, sizeof(b), "U", "p", "SESS", 42);
    int m;

    for (int len = 0; len < n; len++)
        cr_assert_eq(sc_soup_parse(b, (size_t)len, MAXP, SC_SOUP_FROM_CLIENT, &p),
                     SC_PERR_NEED_MORE, "len %d", len);
    cr_assert_eq(sc_soup_parse(b, (size_t)n, MAXP, SC_SOUP_FROM_CLIENT, &p), n);
    cr_assert_eq(p.login.seq, 42);
    cr_assert_str_eq(p.login.session, "SESS");

    /* two packets back to back: the parser takes exactly the first */
    m = sc_soup_encode(b + n, sizeof(b) - (size_t)n, 'R', NULL, 0);
    cr_assert_eq(sc_soup_parse(b, (size_t)(n + m), MAXP, SC_SOUP_FROM_CLIENT, &p), n);
    cr_assert_eq(sc_soup_parse(b + n, (size_t)m, MAXP, SC_SOUP_FROM_CLIENT, &p), m);
}

Test(soup, hostile_lengths_rejected_early)
{
    uint8_t b[8] = { 0xFF, 0xFF, 'U' };
    struct sc_soup_pkt p;

    /* 65,535-byte length: rejected from the 2 length bytes, without waiting */
    cr_assert_eq(sc_soup_parse(b, 2, MAXP, SC_SOUP_FROM_CLIENT, &p), SC_PERR_OVERSIZE);
    cr_assert_eq(sc_soup_parse(b, 3, SC_SOUP_MAX_PAYLOAD, SC_SOUP_FROM_CLIENT, &p),
                 SC_PERR_NEED_MORE);
    b[0] = 0;
    b[1] = 0; /* zero length: no type byte */
    cr_assert_eq(sc_soup_parse(b, 2, MAXP, SC_SOUP_FROM_CLIENT, &p), SC_PERR_LENGTH);
    b[1] = 5;
    b[2] = 'Q'; /* unknown type: rejected at byte 3 */
    cr_assert_eq(sc_soup_parse(b, 3, MAXP, SC_SOUP_FROM_CLIENT, &p), SC_PERR_TYPE);
    b[2] = 'R'; /* heartbeat must have length 1 */
    cr_assert_eq(sc_soup_parse(b, 3, MAXP, SC_SOUP_FROM_CLIENT, &p), SC_PERR_LENGTH);
    b[1] = 30;
    b[2] = 'L'; /* login request must be 47 */
    cr_assert_eq(sc_soup_parse(b, 3, MAXP, SC_SOUP_FROM_CLIENT, &p), SC_PERR_LENGTH);
}

Test(soup, padding_rules)
{
    uint8_t b[64];
    struct sc_soup_pkt p;
    int n = sc_soup_encode_login_request(b, sizeof(b), "USER01", "secret", "SESSION001", 7);
    uint8_t orig[64];

    memcpy(orig, b, (size_t)n);
    b[3] = ' '; /* user right-justified: " SER01" */
    cr_assert_eq(sc_soup_parse(b, (size_t)n, MAXP, SC_SOUP_FROM_CLIENT, &p), SC_PERR_PADDING);
    memcpy(b, orig, (size_t)n);
    b[9 + 2] = ' '; /* a space inside the password: "se ret" */
    cr_assert_eq(sc_soup_parse(b, (size_t)n, MAXP, SC_SOUP_FROM_CLIENT, &p), SC_PERR_PADDING);
    memcpy(b, orig, (size_t)n);
    memcpy(b + 29, "7                   ", 20); /* left-justified number */
    cr_assert_eq(sc_soup_parse(b, (size_t)n, MAXP, SC_SOUP_FROM_CLIENT, &p), SC_PERR_PADDING);
    memcpy(b + 29, "                    ", 20); /* blank number */
    cr_assert_eq(sc_soup_parse(b, (size_t)n, MAXP, SC_SOUP_FROM_CLIENT, &p), SC_PERR_PADDING);
    memcpy(b + 29, "00000000000000000012", 20); /* zero-padded: accepted */
    cr_assert_eq(sc_soup_parse(b, (size_t)n, MAXP, SC_SOUP_FROM_CLIENT, &p), n);
    cr_assert_eq(p.login.seq, 12);
    memcpy(b + 29, "99999999999999999999", 20); /* > 2^64 - 1 */
    cr_assert_eq(sc_soup_parse(b, (size_t)n, MAXP, SC_SOUP_FROM_CLIENT, &p), SC_PERR_FIELD);
    memcpy(b + 29, "                 1x2", 20);
    cr_assert_eq(sc_soup_parse(b, (size_t)n, MAXP, SC_SOUP_FROM_CLIENT, &p), SC_PERR_FIELD);
    memcpy(b, orig, (size_t)n);
    memcpy(b + 19, "  SESSION1", 10); /* right-justified session: tolerated */
    cr_assert_eq(sc_soup_parse(b, (size_t)n, MAXP, SC_SOUP_FROM_CLIENT, &p), n);
    cr_assert_str_eq(p.login.session, "SESSION1");
    b[5] = 0x07; /* control character in the user name */
    cr_assert_eq(sc_soup_parse(b, (size_t)n, MAXP, SC_SOUP_FROM_CLIENT, &p), SC_PERR_FIELD);

    cr_assert_eq(sc_soup_encode_login_request(b, sizeof(b), "TOOLONG", "x", "", 0), SC_PERR_FIELD);
    cr_assert_eq(sc_soup_encode_login_request(b, sizeof(b), "a b", "x", "", 0), SC_PERR_FIELD);
    cr_assert_eq(sc_soup_encode_login_accepted(b, sizeof(b), "SESSION0001", 0), SC_PERR_FIELD);
    n = sc_soup_encode_login_accepted(b, sizeof(b), "S", UINT64_MAX);
    cr_assert_eq(sc_soup_parse(b, (size_t)n, MAXP, SC_SOUP_FROM_SERVER, &p), n);
    cr_assert_eq(p.accepted.seq, UINT64_MAX);
}
