/* NASDAQ TotalView-ITCH 5.0 messages (nasdaq-itch50-moldudp64.md s.3-5).
 *
 *   0      1        3          5           11
 *   | type | locate | tracking | timestamp | body ...   every type has one fixed length
 *
 * One message is what one MoldUDP64 block (or one record of NASDAQ's 2-byte-length
 * files) carries; the caller's length is the framing's. The codec checks the type and
 * that length, nothing else: code values (side, event code, ...) and alpha fields are
 * kept as the raw bytes, so every accepted message re-encodes to the same bytes and
 * the consumer decides what an unexpected code means.
 *
 * Numbers: integers big-endian; the timestamp (6 bytes, ns since midnight) as
 * uint64_t; Price(4) (4 implied decimals) as uint32_t; Price(8) (8 implied decimals,
 * the MWCB levels of V) as uint64_t. Stock symbols, MPIDs and other alpha fields are
 * char arrays of the wire's raw bytes (space-padded, no NUL); sc_itch_stock_str()
 * trims a symbol.
 *
 * Speed: sc_itch_decode is one table look-up (length by type) and one comparison,
 * then, on x86-64 with AVX-512 VBMI, a masked load of the message's bytes, a byte
 * permutation by the type's map (every field is some of the message's bytes, in
 * some order) and a store of the 64-byte struct: nothing branches on the type, so
 * a mix of types costs what one type does. Elsewhere (sc_itch_decode_portable) a
 * switch on the type does the field loads; on a real mix it mispredicts on most
 * messages.
 * A consumer that dispatches on the type itself can use sc_itch_msg_len() to check a
 * message and then read only the fields it needs.
 */
#ifndef SC_PROTO_ITCH_H
#define SC_PROTO_ITCH_H

#include <stddef.h>
#include <stdint.h>

#include "perr.h"

enum sc_itch_type {
    SC_ITCH_SYSTEM_EVENT = 'S',
    SC_ITCH_STOCK_DIRECTORY = 'R',
    SC_ITCH_TRADING_ACTION = 'H',
    SC_ITCH_REG_SHO = 'Y',
    SC_ITCH_MP_POSITION = 'L',
    SC_ITCH_MWCB_DECLINE = 'V',
    SC_ITCH_MWCB_STATUS = 'W',
    SC_ITCH_IPO_QUOTING = 'K',
    SC_ITCH_LULD_COLLAR = 'J',
    SC_ITCH_OPERATIONAL_HALT = 'h',
    SC_ITCH_ADD_ORDER = 'A',
    SC_ITCH_ADD_ORDER_MPID = 'F',
    SC_ITCH_ORDER_EXECUTED = 'E',
    SC_ITCH_ORDER_EXECUTED_PRICE = 'C',
    SC_ITCH_ORDER_CANCEL = 'X',
    SC_ITCH_ORDER_DELETE = 'D',
    SC_ITCH_ORDER_REPLACE = 'U',
    SC_ITCH_TRADE = 'P',
    SC_ITCH_CROSS_TRADE = 'Q',
    SC_ITCH_BROKEN_TRADE = 'B',
    SC_ITCH_NOII = 'I',
    SC_ITCH_RPII = 'N',
    SC_ITCH_DLCR = 'O',
};

#define SC_ITCH_NTYPES 23
#define SC_ITCH_HDR_LEN 11
#define SC_ITCH_MAX_LEN 50                        /* the longest type, I */
#define SC_ITCH_STOCK_LEN 8
#define SC_ITCH_MPID_LEN 4
#define SC_ITCH_TS_MAX ((UINT64_C(1) << 48) - 1)  /* the 6-byte field's largest value */
#define SC_ITCH_PRICE4_ONE 10000u                 /* Price(4) of 1.0000 */
#define SC_ITCH_PRICE8_ONE UINT64_C(100000000)    /* Price(8) of 1.00000000 */

/* Length of a message of each type (type byte included); 0 = not an ITCH 5.0 type. */
extern const uint8_t sc_itch_len_table[256];

/* The 23 type bytes, in the order of the reference's summary table. */
extern const uint8_t sc_itch_types[SC_ITCH_NTYPES];

/* @return the length of a message of this type, 0 for an unknown type */
static inline unsigned
sc_itch_msg_len(uint8_t type)
{
    return sc_itch_len_table[type];
}

/* S */
struct sc_itch_system_event {
    char event_code; /* O S Q M E C */
};

/* R */
struct sc_itch_stock_directory {
    char stock[SC_ITCH_STOCK_LEN];
    char market_category;
    char financial_status;
    uint32_t round_lot_size;
    char round_lots_only;
    char issue_classification;
    char issue_subtype[2];
    char authenticity;
    char short_sale_threshold;
    char ipo_flag;
    char luld_tier;
    char etp_flag;
    uint32_t etp_leverage_factor;
    char inverse;
};

/* H */
struct sc_itch_trading_action {
    char stock[SC_ITCH_STOCK_LEN];
    char trading_state; /* H P Q T */
    char reserved;
    char reason[4];
};

/* Y */
struct sc_itch_reg_sho {
    char stock[SC_ITCH_STOCK_LEN];
    char action; /* 0 1 2 */
};

/* L (MPID comes before the stock on the wire) */
struct sc_itch_mp_position {
    char mpid[SC_ITCH_MPID_LEN];
    char stock[SC_ITCH_STOCK_LEN];
    char primary_mm;
    char mm_mode;
    char state;
};

/* V: Price(8) */
struct sc_itch_mwcb_decline {
    uint64_t level1, level2, level3;
};

/* W */
struct sc_itch_mwcb_status {
    char breached_level; /* 1 2 3 */
};

/* K */
struct sc_itch_ipo_quoting {
    char stock[SC_ITCH_STOCK_LEN];
    uint32_t release_time; /* seconds since midnight */
    char qualifier;        /* A C */
    uint32_t price;
};

/* J (upper before lower on the wire) */
struct sc_itch_luld_collar {
    char stock[SC_ITCH_STOCK_LEN];
    uint32_t ref_price;
    uint32_t upper_price;
    uint32_t lower_price;
    uint32_t extension;
};

/* h */
struct sc_itch_operational_halt {
    char stock[SC_ITCH_STOCK_LEN];
    char market_code; /* Q B X */
    char action;      /* H T */
};

/* A and F; for A, mpid is zeroed (NASDAQ suggests showing "NSDQ") */
struct sc_itch_add_order {
    uint64_t ref;
    char side; /* B S */
    uint32_t shares;
    char stock[SC_ITCH_STOCK_LEN];
    uint32_t price;
    char mpid[SC_ITCH_MPID_LEN];
};

/* E and C; for E, printable and price are zero (the trade is at the order's price) */
struct sc_itch_order_executed {
    uint64_t ref;
    uint32_t shares;
    uint64_t match;
    char printable; /* C: Y N */
    uint32_t price; /* C: the execution price */
};

/* X: shares is the number cancelled (a delta) */
struct sc_itch_order_cancel {
    uint64_t ref;
    uint32_t shares;
};

/* D */
struct sc_itch_order_delete {
    uint64_t ref;
};

/* U: shares is the new total; side, stock, MPID carry over from the original */
struct sc_itch_order_replace {
    uint64_t orig_ref;
    uint64_t new_ref;
    uint32_t shares;
    uint32_t price;
};

/* P */
struct sc_itch_trade {
    uint64_t ref;
    char side;
    uint32_t shares;
    char stock[SC_ITCH_STOCK_LEN];
    uint32_t price;
    uint64_t match;
};

/* Q: shares is 8 bytes here */
struct sc_itch_cross_trade {
    uint64_t shares;
    char stock[SC_ITCH_STOCK_LEN];
    uint32_t price;
    uint64_t match;
    char cross_type; /* O C H A (I in older editions) */
};

/* B */
struct sc_itch_broken_trade {
    uint64_t match;
};

/* I */
struct sc_itch_noii {
    uint64_t paired_shares;
    uint64_t imbalance_shares;
    char direction;
    char stock[SC_ITCH_STOCK_LEN];
    uint32_t far_price;
    uint32_t near_price;
    uint32_t ref_price;
    char cross_type;
    char price_variation;
};

/* N */
struct sc_itch_rpii {
    char stock[SC_ITCH_STOCK_LEN];
    char interest_flag; /* B S A N */
};

/* O */
struct sc_itch_dlcr {
    char stock[SC_ITCH_STOCK_LEN];
    char open_eligibility; /* N Y */
    uint32_t min_price;
    uint32_t max_price;
    uint32_t near_price;
    uint64_t near_time;
    uint32_t lower_collar;
    uint32_t upper_collar;
};

/* A decoded message: the header, then the body of `type` (the union member named
 * by the type's letter in the comment beside it). */
struct sc_itch_msg {
    uint8_t type; /* enum sc_itch_type */
    uint16_t locate;
    uint16_t tracking;
    uint64_t ts; /* ns since midnight, < 2^48 */
    union {
        struct sc_itch_system_event system_event;       /* S */
        struct sc_itch_stock_directory stock_directory; /* R */
        struct sc_itch_trading_action trading_action;   /* H */
        struct sc_itch_reg_sho reg_sho;                 /* Y */
        struct sc_itch_mp_position mp_position;         /* L */
        struct sc_itch_mwcb_decline mwcb_decline;       /* V */
        struct sc_itch_mwcb_status mwcb_status;         /* W */
        struct sc_itch_ipo_quoting ipo_quoting;         /* K */
        struct sc_itch_luld_collar luld_collar;         /* J */
        struct sc_itch_operational_halt operational_halt; /* h */
        struct sc_itch_add_order add;                   /* A F */
        struct sc_itch_order_executed exec;             /* E C */
        struct sc_itch_order_cancel cancel;             /* X */
        struct sc_itch_order_delete del;                /* D */
        struct sc_itch_order_replace replace;           /* U */
        struct sc_itch_trade trade;                     /* P */
        struct sc_itch_cross_trade cross;               /* Q */
        struct sc_itch_broken_trade broken;             /* B */
        struct sc_itch_noii noii;                       /* I */
        struct sc_itch_rpii rpii;                       /* N */
        struct sc_itch_dlcr dlcr;                       /* O */
    };
};

/* Decode one message of exactly len bytes. Only buf[0..len) is read.
 * @return len (> 0), or SC_PERR_SHORT (len 0, or fewer bytes than the type's
 *         length: a truncated message), SC_PERR_TYPE (not an ITCH 5.0 type),
 *         SC_PERR_LENGTH (more bytes than the type's length). On success every
 *         field of the type is set, and so are the bytes of *m the type does not
 *         use, to zero on the vector path (see sc_itch_decode_impl) and left as
 *         they were on the portable one. On an error *m is unspecified.
 */
int sc_itch_decode(const uint8_t *buf, size_t len, struct sc_itch_msg *m);

/* sc_itch_decode without its vector path: the type switch, on every machine.
 * Same results and same fields; bytes *m's type does not use are not written.
 * For comparisons (tests, benchmarks); sc_itch_decode picks the faster one. */
int sc_itch_decode_portable(const uint8_t *buf, size_t len, struct sc_itch_msg *m);

/* The path sc_itch_decode takes on this machine: "avx512vbmi" (x86-64 with
 * AVX-512 VBMI: one byte permutation per message, no branch on the type) or
 * "portable" (the type switch). */
const char *sc_itch_decode_impl(void);

/* Encode m->type's fields. Members the type does not carry (A's mpid, E's
 * printable and price) are ignored.
 * @return bytes written (the type's length), or SC_PERR_TYPE, SC_PERR_FIELD (ts
 *         over SC_ITCH_TS_MAX), SC_PERR_NOSPACE (cap under the type's length).
 */
int sc_itch_encode(uint8_t *buf, size_t cap, const struct sc_itch_msg *m);

/* A symbol without its padding: copies stock without its trailing spaces into
 * out and NUL-terminates it (a space inside a symbol is kept).
 * @return the length copied, 0..8
 */
size_t sc_itch_stock_str(const char stock[SC_ITCH_STOCK_LEN], char out[SC_ITCH_STOCK_LEN + 1]);

/* "Add Order" for 'A'; NULL for an unknown type. */
const char *sc_itch_type_name(uint8_t type);

#endif
