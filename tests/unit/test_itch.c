/* ITCH 5.0 codec: one message of every type written byte by byte from the
 * reference's layout tables (nasdaq-itch50-moldudp64.md s.4), decoded field by
 * field and re-encoded to the same bytes; every wrong length, unknown types,
 * truncation, boundary values, random bodies round-tripping.
 *
 * The reference gives no hex dumps of real messages, so there are no golden
 * captures here: the vectors are the layout tables transcribed by hand, with
 * values chosen so that every field of a message differs from its neighbours
 * (a field read at the wrong offset or width gets another value). */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <seqcast/proto/itch.h>
#include "tests/support/testutil.h"

/* ---------------------------------------------------------------- vectors */

static const uint8_t msg_S[] = {
    'S',                                /*  0 type: System Event */
    0x00, 0x00,                         /*  1 stock locate 0 (market-wide) */
    0x00, 0x02,                         /*  3 tracking 2 */
    0x09, 0xD2, 0x92, 0x29, 0xE0, 0x00, /*  5 timestamp 10,800,000,000,000 (03:00:00) */
    'O',                                /* 11 event code: start of messages */
};

static const uint8_t msg_R[] = {
    'R',                                /*  0 type: Stock Directory */
    0x00, 0x08,                         /*  1 stock locate 8 */
    0x00, 0x03,                         /*  3 tracking 3 */
    0x0A, 0xA4, 0x25, 0xB3, 0xD5, 0x15, /*  5 timestamp 11,700,123,456,789 */
    'S', 'P', 'X', 'L', ' ', ' ', ' ', ' ', /* 11 stock "SPXL" */
    'P',                                /* 19 market category: NYSE Arca */
    ' ',                                /* 20 financial status: n/a */
    0x00, 0x00, 0x00, 0x64,             /* 21 round lot size 100 */
    'N',                                /* 25 round lots only: no */
    'Q',                                /* 26 issue classification: other */
    'E', ' ',                           /* 27 issue sub-type "E " */
    'P',                                /* 29 authenticity: production */
    'N',                                /* 30 short sale threshold: no */
    ' ',                                /* 31 IPO flag: n/a */
    '2',                                /* 32 LULD tier 2 */
    'Y',                                /* 33 ETP flag: yes */
    0x00, 0x00, 0x00, 0x03,             /* 34 ETP leverage factor 3 */
    'N',                                /* 38 inverse: no */
};

static const uint8_t msg_H[] = {
    'H',                                /*  0 type: Stock Trading Action */
    0x00, 0x0D,                         /*  1 stock locate 13 */
    0x00, 0x04,                         /*  3 tracking 4 */
    0x16, 0xEB, 0x55, 0x0C, 0x60, 0x00, /*  5 timestamp 25,200,000,000,000 */
    'M', 'S', 'F', 'T', ' ', ' ', ' ', ' ', /* 11 stock "MSFT" */
    'H',                                /* 19 trading state: halted */
    ' ',                                /* 20 reserved */
    'L', 'U', 'D', 'P',                 /* 21 reason "LUDP" */
};

static const uint8_t msg_Y[] = {
    'Y',                                /*  0 type: Reg SHO restriction */
    0x00, 0x0E,                         /*  1 locate 14 */
    0x00, 0x05,                         /*  3 tracking 5 */
    0x1A, 0x31, 0x85, 0xC5, 0x00, 0x01, /*  5 timestamp 28,800,000,000,001 */
    'T', 'S', 'L', 'A', ' ', ' ', ' ', ' ', /* 11 stock "TSLA" */
    '1',                                /* 19 Reg SHO action: restriction in effect */
};

static const uint8_t msg_L[] = {
    'L',                                /*  0 type: Market Participant Position */
    0x00, 0x0F,                         /*  1 locate 15 */
    0x00, 0x06,                         /*  3 tracking 6 */
    0x1B, 0xD4, 0x9E, 0x21, 0x50, 0x02, /*  5 timestamp 30,600,000,000,002 */
    'G', 'S', 'C', 'O',                 /* 11 MPID "GSCO" (before the stock) */
    'N', 'V', 'D', 'A', ' ', ' ', ' ', ' ', /* 15 stock "NVDA" */
    'Y',                                /* 23 primary market maker */
    'N',                                /* 24 market maker mode: normal */
    'A',                                /* 25 state: active */
};

static const uint8_t msg_V[] = {
    'V',                                /*  0 type: MWCB Decline Level */
    0x00, 0x00,                         /*  1 locate 0 */
    0x00, 0x07,                         /*  3 tracking 7 */
    0x1D, 0x77, 0xB6, 0x7D, 0xA0, 0x03, /*  5 timestamp 32,400,000,000,003 */
    0x00, 0x00, 0x00, 0x5B, 0x88, 0xE9, 0x12, 0xC0, /* 11 level 1: 3931.39000000 */
    0x00, 0x00, 0x00, 0x55, 0x25, 0x3D, 0x62, 0x40, /* 19 level 2: 3656.97000000 */
    0x00, 0x00, 0x00, 0x4A, 0xDA, 0x3C, 0xD6, 0x40, /* 27 level 3: 3214.89000000 */
};

static const uint8_t msg_W[] = {
    'W',                                /*  0 type: MWCB Status */
    0x00, 0x00,                         /*  1 locate 0 */
    0x00, 0x08,                         /*  3 tracking 8 */
    0x1E, 0x49, 0x42, 0xAB, 0xC8, 0x04, /*  5 timestamp 33,300,000,000,004 */
    '1',                                /* 11 breached level 1 */
};

static const uint8_t msg_K[] = {
    'K',                                /*  0 type: IPO Quoting Period Update */
    0x00, 0x15,                         /*  1 locate 21 */
    0x00, 0x09,                         /*  3 tracking 9 */
    0x1E, 0xEC, 0x3D, 0xEC, 0x20, 0x05, /*  5 timestamp 34,000,000,000,005 */
    'R', 'D', 'D', 'T', ' ', ' ', ' ', ' ', /* 11 stock "RDDT" */
    0x00, 0x00, 0xA1, 0xB8,             /* 19 release time 41,400 s (11:30:00) */
    'A',                                /* 23 qualifier: anticipated */
    0x00, 0x05, 0x30, 0x20,             /* 24 IPO price 34.0000 */
};

static const uint8_t msg_J[] = {
    'J',                                /*  0 type: LULD Auction Collar */
    0x00, 0x16,                         /*  1 locate 22 */
    0x00, 0x0A,                         /*  3 tracking 10 */
    0x1F, 0x03, 0x86, 0x63, 0x08, 0x06, /*  5 timestamp 34,100,000,000,006 */
    'G', 'M', 'E', ' ', ' ', ' ', ' ', ' ', /* 11 stock "GME" */
    0x00, 0x03, 0xD0, 0x90,             /* 19 reference price 25.0000 */
    0x00, 0x04, 0x32, 0x38,             /* 23 upper collar 27.5000 (upper first) */
    0x00, 0x03, 0x6E, 0xE8,             /* 27 lower collar 22.5000 */
    0x00, 0x00, 0x00, 0x01,             /* 31 extension 1 */
};

static const uint8_t msg_h[] = {
    'h',                                /*  0 type: Operational Halt */
    0x00, 0x17,                         /*  1 locate 23 */
    0x00, 0x0B,                         /*  3 tracking 11 */
    0x1F, 0x0F, 0x2A, 0x9E, 0x7C, 0x07, /*  5 timestamp 34,150,000,000,007 */
    'A', 'M', 'C', ' ', ' ', ' ', ' ', ' ', /* 11 stock "AMC" */
    'Q',                                /* 19 market code: Nasdaq */
    'H',                                /* 20 action: halted */
};

static const uint8_t msg_A[] = {
    'A',                                /*  0 type: Add Order */
    0x00, 0x18,                         /*  1 locate 24 */
    0x00, 0x0C,                         /*  3 tracking 12 */
    0x1F, 0x1A, 0xCE, 0xDB, 0xD2, 0x40, /*  5 timestamp 34,200,000,123,456 */
    0x00, 0x00, 0x01, 0x1F, 0x71, 0xFB, 0x04, 0xCB, /* 11 order ref 1,234,567,890,123 */
    'B',                                /* 19 side: buy */
    0x00, 0x00, 0x00, 0x64,             /* 20 shares 100 */
    'A', 'A', 'P', 'L', ' ', ' ', ' ', ' ', /* 24 stock "AAPL" */
    0x00, 0x1C, 0xEA, 0x58,             /* 32 price 189.5000 */
};

static const uint8_t msg_F[] = {
    'F',                                /*  0 type: Add Order with MPID */
    0x00, 0x19,                         /*  1 locate 25 */
    0x00, 0x0D,                         /*  3 tracking 13 */
    0x1F, 0x1A, 0xCE, 0xDD, 0x84, 0x47, /*  5 timestamp 34,200,000,234,567 */
    0x00, 0x00, 0x01, 0x1F, 0x71, 0xFB, 0x04, 0xCC, /* 11 order ref 1,234,567,890,124 */
    'S',                                /* 19 side: sell */
    0x00, 0x00, 0x00, 0xC8,             /* 20 shares 200 */
    'A', 'A', 'P', 'L', ' ', ' ', ' ', ' ', /* 24 stock "AAPL" */
    0x00, 0x1C, 0xEE, 0xA4,             /* 32 price 189.6100 */
    'U', 'B', 'S', 'S',                 /* 36 attribution "UBSS" */
};

static const uint8_t msg_E[] = {
    'E',                                /*  0 type: Order Executed */
    0x00, 0x18,                         /*  1 locate 24 */
    0x00, 0x0E,                         /*  3 tracking 14 */
    0x1F, 0x1A, 0xCE, 0xE9, 0x32, 0x40, /*  5 timestamp 34,200,001,000,000 */
    0x00, 0x00, 0x01, 0x1F, 0x71, 0xFB, 0x04, 0xCB, /* 11 order ref 1,234,567,890,123 */
    0x00, 0x00, 0x00, 0x28,             /* 19 executed shares 40 */
    0x00, 0x00, 0x00, 0x00, 0x3A, 0xDE, 0x68, 0xB1, /* 23 match 987,654,321 */
};

static const uint8_t msg_C[] = {
    'C',                                /*  0 type: Order Executed With Price */
    0x00, 0x18,                         /*  1 locate 24 */
    0x00, 0x0F,                         /*  3 tracking 15 */
    0x1F, 0x1A, 0xCE, 0xF8, 0x74, 0x80, /*  5 timestamp 34,200,002,000,000 */
    0x00, 0x00, 0x01, 0x1F, 0x71, 0xFB, 0x04, 0xCC, /* 11 order ref 1,234,567,890,124 */
    0x00, 0x00, 0x00, 0x32,             /* 19 executed shares 50 */
    0x00, 0x00, 0x00, 0x00, 0x3A, 0xDE, 0x68, 0xB2, /* 23 match 987,654,322 */
    'Y',                                /* 31 printable */
    0x00, 0x1C, 0xEE, 0x40,             /* 32 execution price 189.6000 */
};

static const uint8_t msg_X[] = {
    'X',                                /*  0 type: Order Cancel */
    0x00, 0x18,                         /*  1 locate 24 */
    0x00, 0x10,                         /*  3 tracking 16 */
    0x1F, 0x1A, 0xCF, 0x07, 0xB6, 0xC0, /*  5 timestamp 34,200,003,000,000 */
    0x00, 0x00, 0x01, 0x1F, 0x71, 0xFB, 0x04, 0xCB, /* 11 order ref 1,234,567,890,123 */
    0x00, 0x00, 0x00, 0x0A,             /* 19 cancelled shares 10 */
};

static const uint8_t msg_D[] = {
    'D',                                /*  0 type: Order Delete */
    0x00, 0x18,                         /*  1 locate 24 */
    0x00, 0x11,                         /*  3 tracking 17 */
    0x1F, 0x1A, 0xCF, 0x16, 0xF9, 0x00, /*  5 timestamp 34,200,004,000,000 */
    0x00, 0x00, 0x01, 0x1F, 0x71, 0xFB, 0x04, 0xCB, /* 11 order ref 1,234,567,890,123 */
};

static const uint8_t msg_U[] = {
    'U',                                /*  0 type: Order Replace */
    0x00, 0x18,                         /*  1 locate 24 */
    0x00, 0x12,                         /*  3 tracking 18 */
    0x1F, 0x1A, 0xCF, 0x26, 0x3B, 0x40, /*  5 timestamp 34,200,005,000,000 */
    0x00, 0x00, 0x01, 0x1F, 0x71, 0xFB, 0x04, 0xCC, /* 11 original ref 1,234,567,890,124 */
    0x00, 0x00, 0x01, 0x1F, 0x71, 0xFB, 0x05, 0x18, /* 19 new ref 1,234,567,890,200 */
    0x00, 0x00, 0x01, 0x2C,             /* 27 shares 300 */
    0x00, 0x1C, 0xEC, 0x4C,             /* 31 price 189.5500 */
};

static const uint8_t msg_P[] = {
    'P',                                /*  0 type: Trade (non-cross) */
    0x00, 0x18,                         /*  1 locate 24 */
    0x00, 0x13,                         /*  3 tracking 19 */
    0x1F, 0x1A, 0xCF, 0x35, 0x7D, 0x80, /*  5 timestamp 34,200,006,000,000 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 11 order ref 0 (zero-filled) */
    'B',                                /* 19 side */
    0x00, 0x00, 0x01, 0xF4,             /* 20 shares 500 */
    'A', 'A', 'P', 'L', ' ', ' ', ' ', ' ', /* 24 stock "AAPL" */
    0x00, 0x1C, 0xEB, 0x20,             /* 32 price 189.5200 */
    0x00, 0x00, 0x00, 0x00, 0x3A, 0xDE, 0x68, 0xB3, /* 36 match 987,654,323 */
};

static const uint8_t msg_Q[] = {
    'Q',                                /*  0 type: Cross Trade */
    0x00, 0x18,                         /*  1 locate 24 */
    0x00, 0x14,                         /*  3 tracking 20 */
    0x1F, 0x1A, 0xCF, 0x44, 0xBF, 0xC0, /*  5 timestamp 34,200,007,000,000 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x12, 0xD6, 0x87, /* 11 shares 1,234,567 (8 bytes) */
    'A', 'A', 'P', 'L', ' ', ' ', ' ', ' ', /* 19 stock "AAPL" */
    0x00, 0x1C, 0xEB, 0x84,             /* 27 cross price 189.5300 */
    0x00, 0x00, 0x00, 0x00, 0x3A, 0xDE, 0x68, 0xB4, /* 31 match 987,654,324 */
    'O',                                /* 39 cross type: opening */
};

static const uint8_t msg_B[] = {
    'B',                                /*  0 type: Broken Trade */
    0x00, 0x18,                         /*  1 locate 24 */
    0x00, 0x15,                         /*  3 tracking 21 */
    0x1F, 0x1A, 0xCF, 0x54, 0x02, 0x00, /*  5 timestamp 34,200,008,000,000 */
    0x00, 0x00, 0x00, 0x00, 0x3A, 0xDE, 0x68, 0xB1, /* 11 match 987,654,321 */
};

static const uint8_t msg_I[] = {
    'I',                                /*  0 type: NOII */
    0x00, 0x18,                         /*  1 locate 24 */
    0x00, 0x16,                         /*  3 tracking 22 */
    0x1F, 0xD5, 0x12, 0x91, 0x30, 0x00, /*  5 timestamp 35,000,000,000,000 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xA0, /* 11 paired shares 100,000 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x61, 0xA8, /* 19 imbalance shares 25,000 */
    'B',                                /* 27 direction: buy (before the stock) */
    'A', 'A', 'P', 'L', ' ', ' ', ' ', ' ', /* 28 stock "AAPL" */
    0x00, 0x1C, 0xD6, 0xD0,             /* 36 far price 189.0000 */
    0x00, 0x1C, 0xDA, 0xB8,             /* 40 near price 189.1000 */
    0x00, 0x1C, 0xDE, 0xA0,             /* 44 current reference price 189.2000 */
    'C',                                /* 48 cross type: closing */
    '1',                                /* 49 price variation: 1-1.99% */
};

static const uint8_t msg_N[] = {
    'N',                                /*  0 type: RPII */
    0x00, 0x18,                         /*  1 locate 24 */
    0x00, 0x17,                         /*  3 tracking 23 */
    0x33, 0xD7, 0x58, 0xC0, 0x90, 0x00, /*  5 timestamp 57,000,000,000,000 */
    'A', 'A', 'P', 'L', ' ', ' ', ' ', ' ', /* 11 stock "AAPL" */
    'A',                                /* 19 interest: both sides */
};

static const uint8_t msg_O[] = {
    'O',                                /*  0 type: DLCR Price Discovery */
    0x00, 0x1A,                         /*  1 locate 26 */
    0x00, 0x18,                         /*  3 tracking 24 */
    0x34, 0xC0, 0x2D, 0x65, 0xA0, 0x00, /*  5 timestamp 58,000,000,000,000 */
    'X', 'Y', 'Z', ' ', ' ', ' ', ' ', ' ', /* 11 stock "XYZ" */
    'Y',                                /* 19 open eligibility: eligible */
    0x00, 0x01, 0x38, 0x80,             /* 20 minimum allowable price 8.0000 */
    0x00, 0x02, 0xBF, 0x20,             /* 24 maximum allowable price 18.0000 */
    0x00, 0x01, 0xD4, 0xC0,             /* 28 near execution price 12.0000 */
    0x00, 0x00, 0x20, 0xBD, 0xE7, 0x36, 0x40, 0x00, /* 32 near execution time 36,000,000,000,000 */
    0x00, 0x01, 0xA5, 0xE0,             /* 40 lower price range collar 10.8000 */
    0x00, 0x02, 0x03, 0xA0,             /* 44 upper price range collar 13.2000 */
};

static const struct vec {
    uint8_t type;
    const uint8_t *b;
    size_t len;
} vecs[] = {
#define V(t) { (uint8_t)(#t)[0], msg_##t, sizeof(msg_##t) }
    V(S), V(R), V(H), V(Y), V(L), V(V), V(W), V(K), V(J), V(h), V(A), V(F),
    V(E), V(C), V(X), V(D), V(U), V(P), V(Q), V(B), V(I), V(N), V(O),
#undef V
};
#define NVECS (sizeof(vecs) / sizeof(vecs[0]))

/* decode b, check the header, re-encode and compare: the common part of every
 * per-type test */
static void
decode_ok(const uint8_t *b, size_t len, struct sc_itch_msg *m, uint16_t locate, uint16_t tracking,
          uint64_t ts)
{
    uint8_t out[SC_ITCH_MAX_LEN + 8];

    memset(m, 0xA5, sizeof(*m)); /* fields the decoder forgets show up as 0xA5.. */
    cr_assert_eq(sc_itch_decode(b, len, m), (int)len, "%c", b[0]);
    cr_assert_eq(m->type, b[0]);
    cr_assert_eq(m->locate, locate, "%c: locate %u", b[0], m->locate);
    cr_assert_eq(m->tracking, tracking, "%c: tracking %u", b[0], m->tracking);
    cr_assert_eq(m->ts, ts, "%c: ts %llu", b[0], (unsigned long long)m->ts);
    cr_assert_eq(sc_itch_msg_len(b[0]), len);
    memset(out, 0xEE, sizeof(out));
    cr_assert_eq(sc_itch_encode(out, sizeof(out), m), (int)len, "%c", b[0]);
    cr_assert_arr_eq(out, b, len, "%c: re-encoded bytes differ", b[0]);
    cr_assert_eq(out[len], 0xEE, "%c: encoder wrote past the message", b[0]);
}

#define STOCK_EQ(field, s) cr_assert_arr_eq(field, s, 8, "stock")

/* ---------------------------------------------------------------- every type */

Test(itch, S_system_event)
{
    struct sc_itch_msg m;
    decode_ok(msg_S, sizeof(msg_S), &m, 0, 2, UINT64_C(10800000000000));
    cr_assert_eq(m.system_event.event_code, 'O');
}

Test(itch, R_stock_directory)
{
    struct sc_itch_msg m;
    const struct sc_itch_stock_directory *r = &m.stock_directory;
    decode_ok(msg_R, sizeof(msg_R), &m, 8, 3, UINT64_C(11700123456789));
    STOCK_EQ(r->stock, "SPXL    ");
    cr_assert_eq(r->market_category, 'P');
    cr_assert_eq(r->financial_status, ' ');
    cr_assert_eq(r->round_lot_size, 100);
    cr_assert_eq(r->round_lots_only, 'N');
    cr_assert_eq(r->issue_classification, 'Q');
    cr_assert(r->issue_subtype[0] == 'E' && r->issue_subtype[1] == ' ');
    cr_assert_eq(r->authenticity, 'P');
    cr_assert_eq(r->short_sale_threshold, 'N');
    cr_assert_eq(r->ipo_flag, ' ');
    cr_assert_eq(r->luld_tier, '2');
    cr_assert_eq(r->etp_flag, 'Y');
    cr_assert_eq(r->etp_leverage_factor, 3);
    cr_assert_eq(r->inverse, 'N');
}

Test(itch, H_trading_action)
{
    struct sc_itch_msg m;
    decode_ok(msg_H, sizeof(msg_H), &m, 13, 4, UINT64_C(25200000000000));
    STOCK_EQ(m.trading_action.stock, "MSFT    ");
    cr_assert_eq(m.trading_action.trading_state, 'H');
    cr_assert_eq(m.trading_action.reserved, ' ');
    cr_assert_arr_eq(m.trading_action.reason, "LUDP", 4);
}

Test(itch, Y_reg_sho)
{
    struct sc_itch_msg m;
    decode_ok(msg_Y, sizeof(msg_Y), &m, 14, 5, UINT64_C(28800000000001));
    STOCK_EQ(m.reg_sho.stock, "TSLA    ");
    cr_assert_eq(m.reg_sho.action, '1');
}

Test(itch, L_mp_position)
{
    struct sc_itch_msg m;
    decode_ok(msg_L, sizeof(msg_L), &m, 15, 6, UINT64_C(30600000000002));
    cr_assert_arr_eq(m.mp_position.mpid, "GSCO", 4);
    STOCK_EQ(m.mp_position.stock, "NVDA    ");
    cr_assert_eq(m.mp_position.primary_mm, 'Y');
    cr_assert_eq(m.mp_position.mm_mode, 'N');
    cr_assert_eq(m.mp_position.state, 'A');
}

Test(itch, V_mwcb_decline)
{
    struct sc_itch_msg m;
    decode_ok(msg_V, sizeof(msg_V), &m, 0, 7, UINT64_C(32400000000003));
    cr_assert_eq(m.mwcb_decline.level1, UINT64_C(393139000000)); /* 3931.39 in Price(8) */
    cr_assert_eq(m.mwcb_decline.level2, UINT64_C(365697000000));
    cr_assert_eq(m.mwcb_decline.level3, UINT64_C(321489000000));
    cr_assert_eq(m.mwcb_decline.level1 / SC_ITCH_PRICE8_ONE, 3931);
}

Test(itch, W_mwcb_status)
{
    struct sc_itch_msg m;
    decode_ok(msg_W, sizeof(msg_W), &m, 0, 8, UINT64_C(33300000000004));
    cr_assert_eq(m.mwcb_status.breached_level, '1');
}

Test(itch, K_ipo_quoting)
{
    struct sc_itch_msg m;
    decode_ok(msg_K, sizeof(msg_K), &m, 21, 9, UINT64_C(34000000000005));
    STOCK_EQ(m.ipo_quoting.stock, "RDDT    ");
    cr_assert_eq(m.ipo_quoting.release_time, 41400);
    cr_assert_eq(m.ipo_quoting.qualifier, 'A');
    cr_assert_eq(m.ipo_quoting.price, 340000);
}

Test(itch, J_luld_collar)
{
    struct sc_itch_msg m;
    decode_ok(msg_J, sizeof(msg_J), &m, 22, 10, UINT64_C(34100000000006));
    STOCK_EQ(m.luld_collar.stock, "GME     ");
    cr_assert_eq(m.luld_collar.ref_price, 250000);
    cr_assert_eq(m.luld_collar.upper_price, 275000);
    cr_assert_eq(m.luld_collar.lower_price, 225000);
    cr_assert_eq(m.luld_collar.extension, 1);
}

Test(itch, h_operational_halt)
{
    struct sc_itch_msg m;
    decode_ok(msg_h, sizeof(msg_h), &m, 23, 11, UINT64_C(34150000000007));
    STOCK_EQ(m.operational_halt.stock, "AMC     ");
    cr_assert_eq(m.operational_halt.market_code, 'Q');
    cr_assert_eq(m.operational_halt.action, 'H');
}

Test(itch, A_add_order)
{
    struct sc_itch_msg m;
    decode_ok(msg_A, sizeof(msg_A), &m, 24, 12, UINT64_C(34200000123456));
    cr_assert_eq(m.add.ref, UINT64_C(1234567890123));
    cr_assert_eq(m.add.side, 'B');
    cr_assert_eq(m.add.shares, 100);
    STOCK_EQ(m.add.stock, "AAPL    ");
    cr_assert_eq(m.add.price, 1895000);
    cr_assert_arr_eq(m.add.mpid, "\0\0\0\0", 4, "A carries no attribution: zeroed");
}

Test(itch, F_add_order_mpid)
{
    struct sc_itch_msg m;
    decode_ok(msg_F, sizeof(msg_F), &m, 25, 13, UINT64_C(34200000234567));
    cr_assert_eq(m.add.ref, UINT64_C(1234567890124));
    cr_assert_eq(m.add.side, 'S');
    cr_assert_eq(m.add.shares, 200);
    STOCK_EQ(m.add.stock, "AAPL    ");
    cr_assert_eq(m.add.price, 1896100);
    cr_assert_arr_eq(m.add.mpid, "UBSS", 4);
}

Test(itch, E_order_executed)
{
    struct sc_itch_msg m;
    decode_ok(msg_E, sizeof(msg_E), &m, 24, 14, UINT64_C(34200001000000));
    cr_assert_eq(m.exec.ref, UINT64_C(1234567890123));
    cr_assert_eq(m.exec.shares, 40);
    cr_assert_eq(m.exec.match, UINT64_C(987654321));
    cr_assert_eq(m.exec.printable, 0, "E has no printable flag: zeroed");
    cr_assert_eq(m.exec.price, 0, "E has no price: zeroed");
}

Test(itch, C_order_executed_price)
{
    struct sc_itch_msg m;
    decode_ok(msg_C, sizeof(msg_C), &m, 24, 15, UINT64_C(34200002000000));
    cr_assert_eq(m.exec.ref, UINT64_C(1234567890124));
    cr_assert_eq(m.exec.shares, 50);
    cr_assert_eq(m.exec.match, UINT64_C(987654322));
    cr_assert_eq(m.exec.printable, 'Y');
    cr_assert_eq(m.exec.price, 1896000);
}

Test(itch, X_order_cancel)
{
    struct sc_itch_msg m;
    decode_ok(msg_X, sizeof(msg_X), &m, 24, 16, UINT64_C(34200003000000));
    cr_assert_eq(m.cancel.ref, UINT64_C(1234567890123));
    cr_assert_eq(m.cancel.shares, 10);
}

Test(itch, D_order_delete)
{
    struct sc_itch_msg m;
    decode_ok(msg_D, sizeof(msg_D), &m, 24, 17, UINT64_C(34200004000000));
    cr_assert_eq(m.del.ref, UINT64_C(1234567890123));
}

Test(itch, U_order_replace)
{
    struct sc_itch_msg m;
    decode_ok(msg_U, sizeof(msg_U), &m, 24, 18, UINT64_C(34200005000000));
    cr_assert_eq(m.replace.orig_ref, UINT64_C(1234567890124));
    cr_assert_eq(m.replace.new_ref, UINT64_C(1234567890200));
    cr_assert_eq(m.replace.shares, 300);
    cr_assert_eq(m.replace.price, 1895500);
}

Test(itch, P_trade)
{
    struct sc_itch_msg m;
    decode_ok(msg_P, sizeof(msg_P), &m, 24, 19, UINT64_C(34200006000000));
    cr_assert_eq(m.trade.ref, 0);
    cr_assert_eq(m.trade.side, 'B');
    cr_assert_eq(m.trade.shares, 500);
    STOCK_EQ(m.trade.stock, "AAPL    ");
    cr_assert_eq(m.trade.price, 1895200);
    cr_assert_eq(m.trade.match, UINT64_C(987654323));
}

Test(itch, Q_cross_trade)
{
    struct sc_itch_msg m;
    decode_ok(msg_Q, sizeof(msg_Q), &m, 24, 20, UINT64_C(34200007000000));
    cr_assert_eq(m.cross.shares, UINT64_C(1234567));
    STOCK_EQ(m.cross.stock, "AAPL    ");
    cr_assert_eq(m.cross.price, 1895300);
    cr_assert_eq(m.cross.match, UINT64_C(987654324));
    cr_assert_eq(m.cross.cross_type, 'O');
}

Test(itch, B_broken_trade)
{
    struct sc_itch_msg m;
    decode_ok(msg_B, sizeof(msg_B), &m, 24, 21, UINT64_C(34200008000000));
    cr_assert_eq(m.broken.match, UINT64_C(987654321));
}

Test(itch, I_noii)
{
    struct sc_itch_msg m;
    decode_ok(msg_I, sizeof(msg_I), &m, 24, 22, UINT64_C(35000000000000));
    cr_assert_eq(m.noii.paired_shares, UINT64_C(100000));
    cr_assert_eq(m.noii.imbalance_shares, UINT64_C(25000));
    cr_assert_eq(m.noii.direction, 'B');
    STOCK_EQ(m.noii.stock, "AAPL    ");
    cr_assert_eq(m.noii.far_price, 1890000);
    cr_assert_eq(m.noii.near_price, 1891000);
    cr_assert_eq(m.noii.ref_price, 1892000);
    cr_assert_eq(m.noii.cross_type, 'C');
    cr_assert_eq(m.noii.price_variation, '1');
}

Test(itch, N_rpii)
{
    struct sc_itch_msg m;
    decode_ok(msg_N, sizeof(msg_N), &m, 24, 23, UINT64_C(57000000000000));
    STOCK_EQ(m.rpii.stock, "AAPL    ");
    cr_assert_eq(m.rpii.interest_flag, 'A');
}

Test(itch, O_dlcr)
{
    struct sc_itch_msg m;
    decode_ok(msg_O, sizeof(msg_O), &m, 26, 24, UINT64_C(58000000000000));
    STOCK_EQ(m.dlcr.stock, "XYZ     ");
    cr_assert_eq(m.dlcr.open_eligibility, 'Y');
    cr_assert_eq(m.dlcr.min_price, 80000);
    cr_assert_eq(m.dlcr.max_price, 180000);
    cr_assert_eq(m.dlcr.near_price, 120000);
    cr_assert_eq(m.dlcr.near_time, UINT64_C(36000000000000));
    cr_assert_eq(m.dlcr.lower_collar, 108000);
    cr_assert_eq(m.dlcr.upper_collar, 132000);
}

/* ---------------------------------------------------------------- the tables */

Test(itch, length_table_has_exactly_the_23_types)
{
    static const struct {
        uint8_t t;
        unsigned len;
    } want[] = { /* the reference's s.3.3 */
        { 'S', 12 }, { 'R', 39 }, { 'H', 25 }, { 'Y', 20 }, { 'L', 26 }, { 'V', 35 },
        { 'W', 12 }, { 'K', 28 }, { 'J', 35 }, { 'h', 21 }, { 'A', 36 }, { 'F', 40 },
        { 'E', 31 }, { 'C', 36 }, { 'X', 23 }, { 'D', 19 }, { 'U', 35 }, { 'P', 44 },
        { 'Q', 40 }, { 'B', 19 }, { 'I', 50 }, { 'N', 20 }, { 'O', 48 },
    };
    unsigned known = 0;

    cr_assert_eq(NVECS, SC_ITCH_NTYPES);
    for (size_t i = 0; i < SC_ITCH_NTYPES; i++) {
        cr_assert_eq(sc_itch_msg_len(want[i].t), want[i].len, "%c", want[i].t);
        cr_assert_eq(sc_itch_types[i], want[i].t);
        cr_assert_eq(vecs[i].len, want[i].len, "vector %c", vecs[i].type);
        cr_assert_not_null(sc_itch_type_name(want[i].t));
        cr_assert(want[i].len <= SC_ITCH_MAX_LEN);
    }
    for (int t = 0; t < 256; t++)
        known += sc_itch_msg_len((uint8_t)t) != 0;
    cr_assert_eq(known, SC_ITCH_NTYPES);
    cr_assert_null(sc_itch_type_name('Z'));
    cr_assert_str_eq(sc_itch_type_name('h'), "Operational Halt");
}

/* ---------------------------------------------------------------- rejects */

Test(itch, every_wrong_length_is_rejected_with_its_class)
{
    uint8_t b[SC_ITCH_MAX_LEN + 2];
    struct sc_itch_msg m;

    for (size_t i = 0; i < NVECS; i++) {
        size_t n = vecs[i].len;
        memcpy(b, vecs[i].b, n);
        b[n] = 0;
        cr_assert_eq(sc_itch_decode(b, n - 1, &m), SC_PERR_SHORT, "%c one short", b[0]);
        cr_assert_eq(sc_itch_decode(b, n + 1, &m), SC_PERR_LENGTH, "%c one long", b[0]);
        /* truncated anywhere, down to the type byte alone */
        for (size_t k = 1; k < n; k++)
            cr_assert_eq(sc_itch_decode(b, k, &m), SC_PERR_SHORT, "%c cut at %zu", b[0], k);
        /* the framing's length belongs to another type */
        for (size_t j = 0; j < NVECS; j++)
            if (vecs[j].len != n)
                cr_assert_eq(sc_itch_decode(b, vecs[j].len, &m) < 0 ? 1 : 0, 1);
    }
    cr_assert_eq(sc_itch_decode(b, 0, &m), SC_PERR_SHORT, "empty");
}

Test(itch, unknown_types_are_rejected)
{
    uint8_t b[64] = { 0 };
    struct sc_itch_msg m;
    unsigned rejected = 0;

    for (int t = 0; t < 256; t++) {
        if (sc_itch_msg_len((uint8_t)t))
            continue;
        b[0] = (uint8_t)t;
        for (size_t len = 1; len <= sizeof(b); len++)
            cr_assert_eq(sc_itch_decode(b, len, &m), SC_PERR_TYPE, "type 0x%02x len %zu", t, len);
        rejected++;
    }
    cr_assert_eq(rejected, 256 - SC_ITCH_NTYPES);
    /* ITCH 4.1's 'T' (seconds) and 'M', and lowercase letters but 'h' */
    b[0] = 'T';
    cr_assert_eq(sc_itch_decode(b, 5, &m), SC_PERR_TYPE);
    b[0] = 'a';
    cr_assert_eq(sc_itch_decode(b, 36, &m), SC_PERR_TYPE);
    cr_assert_str_eq(sc_perr_name(SC_PERR_TYPE), "type");
}

Test(itch, encoder_rejects)
{
    uint8_t out[SC_ITCH_MAX_LEN];
    struct sc_itch_msg m;

    cr_assert_eq(sc_itch_decode(msg_A, sizeof(msg_A), &m), (int)sizeof(msg_A));
    cr_assert_eq(sc_itch_encode(out, sizeof(msg_A) - 1, &m), SC_PERR_NOSPACE);
    cr_assert_eq(sc_itch_encode(out, sizeof(msg_A), &m), (int)sizeof(msg_A));
    m.ts = SC_ITCH_TS_MAX + 1;
    cr_assert_eq(sc_itch_encode(out, sizeof(out), &m), SC_PERR_FIELD, "a timestamp over 48 bits");
    m.ts = 0;
    m.type = 'Z';
    cr_assert_eq(sc_itch_encode(out, sizeof(out), &m), SC_PERR_TYPE);
}

/* ---------------------------------------------------------------- boundaries */

Test(itch, boundary_values)
{
    uint8_t b[SC_ITCH_MAX_LEN], out[SC_ITCH_MAX_LEN];
    struct sc_itch_msg m;

    /* A: timestamp 2^48-1, the largest order reference, zero shares, the
     * largest Price(4) the field holds and the spec's maximum, 200,000.0000 */
    memcpy(b, msg_A, sizeof(msg_A));
    memset(b + 5, 0xFF, 6);
    memset(b + 11, 0xFF, 8);
    memset(b + 20, 0x00, 4);
    memset(b + 32, 0xFF, 4);
    cr_assert_eq(sc_itch_decode(b, sizeof(msg_A), &m), (int)sizeof(msg_A));
    cr_assert_eq(m.ts, SC_ITCH_TS_MAX);
    cr_assert_eq(m.ts, (UINT64_C(1) << 48) - 1);
    cr_assert_eq(m.tracking, 12, "the timestamp's bits must not leak into tracking");
    cr_assert_eq(m.add.ref, UINT64_MAX);
    cr_assert_eq(m.add.shares, 0);
    cr_assert_eq(m.add.price, UINT32_MAX);
    cr_assert_eq(sc_itch_encode(out, sizeof(out), &m), (int)sizeof(msg_A));
    cr_assert_arr_eq(out, b, sizeof(msg_A));
    b[32] = 0x77, b[33] = 0x35, b[34] = 0x94, b[35] = 0x00;
    cr_assert_eq(sc_itch_decode(b, sizeof(msg_A), &m), (int)sizeof(msg_A));
    cr_assert_eq(m.add.price, 200000u * SC_ITCH_PRICE4_ONE);

    /* timestamp 0 and tracking 0xFFFF: the two halves of the 8 bytes at offset 3 */
    memset(b + 3, 0xFF, 2);
    memset(b + 5, 0x00, 6);
    cr_assert_eq(sc_itch_decode(b, sizeof(msg_A), &m), (int)sizeof(msg_A));
    cr_assert_eq(m.ts, 0);
    cr_assert_eq(m.tracking, 0xFFFF);
    cr_assert_eq(sc_itch_encode(out, sizeof(out), &m), (int)sizeof(msg_A));
    cr_assert_arr_eq(out, b, sizeof(msg_A));

    /* V: Price(8) levels at their 64-bit limits */
    memcpy(b, msg_V, sizeof(msg_V));
    memset(b + 11, 0xFF, 8);
    memset(b + 19, 0x00, 8);
    memset(b + 27, 0x80, 1);
    cr_assert_eq(sc_itch_decode(b, sizeof(msg_V), &m), (int)sizeof(msg_V));
    cr_assert_eq(m.mwcb_decline.level1, UINT64_MAX);
    cr_assert_eq(m.mwcb_decline.level2, 0);
    cr_assert_eq(m.mwcb_decline.level3, UINT64_C(0x8000004ADA3CD640), "top bit set");
    cr_assert_eq(sc_itch_encode(out, sizeof(out), &m), (int)sizeof(msg_V));
    cr_assert_arr_eq(out, b, sizeof(msg_V));

    /* Q: zero shares (no cross happened), 8-byte shares at the top */
    memcpy(b, msg_Q, sizeof(msg_Q));
    memset(b + 11, 0x00, 8);
    cr_assert_eq(sc_itch_decode(b, sizeof(msg_Q), &m), (int)sizeof(msg_Q));
    cr_assert_eq(m.cross.shares, 0);
    memset(b + 11, 0xFF, 8);
    cr_assert_eq(sc_itch_decode(b, sizeof(msg_Q), &m), (int)sizeof(msg_Q));
    cr_assert_eq(m.cross.shares, UINT64_MAX);

    /* E, X, U with zero shares, still accepted (the book decides) */
    memcpy(b, msg_X, sizeof(msg_X));
    memset(b + 19, 0, 4);
    cr_assert_eq(sc_itch_decode(b, sizeof(msg_X), &m), (int)sizeof(msg_X));
    cr_assert_eq(m.cancel.shares, 0);
}

Test(itch, stock_symbol_trim)
{
    char out[SC_ITCH_STOCK_LEN + 1];

    cr_assert_eq(sc_itch_stock_str("AAPL    ", out), 4);
    cr_assert_str_eq(out, "AAPL");
    cr_assert_eq(sc_itch_stock_str("ABCDEFGH", out), 8);
    cr_assert_str_eq(out, "ABCDEFGH");
    cr_assert_eq(sc_itch_stock_str("        ", out), 0);
    cr_assert_str_eq(out, "");
    cr_assert_eq(sc_itch_stock_str("BRK A   ", out), 5, "a space inside is kept");
    cr_assert_str_eq(out, "BRK A");
    cr_assert_eq(sc_itch_stock_str("Z       ", out), 1);
    cr_assert_str_eq(out, "Z");
}

/* Random bodies of every type: any bytes under a known type and its exact length
 * decode, and re-encode to themselves. */
Test(itch, random_bodies_round_trip)
{
    uint64_t s = 0x9E3779B97F4A7C15u;
    uint8_t b[SC_ITCH_MAX_LEN], out[SC_ITCH_MAX_LEN];
    struct sc_itch_msg m;

    for (int r = 0; r < 2000; r++) {
        for (size_t i = 0; i < SC_ITCH_NTYPES; i++) {
            unsigned n = sc_itch_msg_len(sc_itch_types[i]);
            for (unsigned k = 0; k < n; k++)
                b[k] = (uint8_t)tu_rand(&s);
            b[0] = sc_itch_types[i];
            cr_assert_eq(sc_itch_decode(b, n, &m), (int)n);
            cr_assert(m.ts <= SC_ITCH_TS_MAX);
            cr_assert_eq(sc_itch_encode(out, sizeof(out), &m), (int)n);
            cr_assert_arr_eq(out, b, n, "%c round %d", b[0], r);
        }
    }
}

/* ---------------------------------------------------------------- the two paths */

/* sc_itch_decode (the vector path where the CPU has it) and the portable switch
 * agree on every result and every field: each type byte, each length up to
 * past the longest, random bodies. On the vector path the whole struct is
 * compared (bytes a type does not use are zero there, and left zero by the
 * portable decode in a zeroed struct); on a portable-only machine the two are
 * one function and this is the round trip again. */
Test(itch, decode_paths_agree)
{
    bool vec = strcmp(sc_itch_decode_impl(), "portable") != 0;
    uint64_t s = 0x2545F4914F6CDD1Du;
    uint8_t b[SC_ITCH_MAX_LEN + 4], out[SC_ITCH_MAX_LEN];
    struct sc_itch_msg mv, mp;
    unsigned ok = 0;

    for (int r = 0; r < 40; r++) {
        for (int t = 0; t < 256; t++) {
            for (size_t len = 0; len <= sizeof(b); len++) {
                for (size_t k = 0; k < sizeof(b); k++)
                    b[k] = (uint8_t)tu_rand(&s);
                b[0] = (uint8_t)t;
                memset(&mv, 0xA5, sizeof(mv));
                memset(&mp, 0, sizeof(mp));
                int rv = sc_itch_decode(b, len, &mv), rp = sc_itch_decode_portable(b, len, &mp);
                cr_assert_eq(rv, rp, "type 0x%02x len %zu: %d vs portable %d", t, len, rv, rp);
                if (rv < 0)
                    continue;
                ok++;
                if (vec) {
                    cr_assert_arr_eq(&mv, &mp, sizeof(mv), "%c: the struct differs", t);
                } else {
                    cr_assert_eq(sc_itch_encode(out, sizeof(out), &mp), (int)len);
                    cr_assert_arr_eq(out, b, len);
                }
            }
        }
    }
    cr_assert_eq(ok, 40 * SC_ITCH_NTYPES);
}

/* sc_itch_decode_impl names the path sc_itch_decode takes: the vector path
 * zeroes what a type does not use, the portable one leaves it. */
Test(itch, decode_impl_names_the_path)
{
    const char *impl = sc_itch_decode_impl();
    struct sc_itch_msg m;
    uint8_t rest[sizeof(m)];

    cr_assert(strcmp(impl, "avx512vbmi") == 0 || strcmp(impl, "portable") == 0, "%s", impl);
    memset(&m, 0xA5, sizeof(m));
    cr_assert_eq(sc_itch_decode(msg_S, sizeof(msg_S), &m), (int)sizeof(msg_S));
    cr_assert_eq(m.system_event.event_code, 'O');
    memset(rest, strcmp(impl, "portable") == 0 ? 0xA5 : 0, sizeof(rest));
    size_t after = offsetof(struct sc_itch_msg, system_event.event_code) + 1;
    cr_assert_arr_eq((uint8_t *)&m + after, rest, sizeof(m) - after, "%s", impl);
}

/* Only the message's bytes are read: every type decodes (on both paths) with
 * its first byte at the start of a page that follows an unreadable page, and
 * its last byte at the end of a page that precedes one. A read outside
 * [buf, buf + len) faults. */
Test(itch, decode_reads_only_the_message)
{
    long pg = sysconf(_SC_PAGESIZE);
    uint8_t *map = mmap(NULL, (size_t)pg * 3, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                        -1, 0);
    struct sc_itch_msg m;

    cr_assert_neq(map, MAP_FAILED);
    cr_assert_eq(mprotect(map, (size_t)pg, PROT_NONE), 0);
    cr_assert_eq(mprotect(map + 2 * pg, (size_t)pg, PROT_NONE), 0);
    for (size_t i = 0; i < NVECS; i++) {
        size_t n = vecs[i].len;
        uint8_t *first = map + pg, *last = map + 2 * pg - n;

        memcpy(first, vecs[i].b, n);
        cr_assert_eq(sc_itch_decode(first, n, &m), (int)n, "%c", vecs[i].type);
        cr_assert_eq(sc_itch_decode_portable(first, n, &m), (int)n, "%c", vecs[i].type);
        memcpy(last, vecs[i].b, n);
        cr_assert_eq(sc_itch_decode(last, n, &m), (int)n, "%c", vecs[i].type);
        cr_assert_eq(sc_itch_decode_portable(last, n, &m), (int)n, "%c", vecs[i].type);
        memcpy(last + 1, vecs[i].b, n - 1); /* cut short at the page's end */
        cr_assert_eq(sc_itch_decode(last + 1, n - 1, &m), SC_PERR_SHORT, "%c", vecs[i].type);
    }
    munmap(map, (size_t)pg * 3);
}
