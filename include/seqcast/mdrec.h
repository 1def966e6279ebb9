/* seqcast market-data records: what seqcast-feedhandler --publish ipc:NAME
 * writes to a same-host IPC channel for strategy processes -- one record per
 * message, fixed layout, the host's byte order (the channel never leaves the
 * machine), every field at a fixed offset (checked below).
 *
 * A reader subscribes to the channel like any other (transport: ipc,
 * sc_sub_create) and switches on the first byte:
 *
 *   static void on_msg(void *ctx, const struct sc_source *src, uint64_t seq,
 *                      const void *msg, size_t len)
 *   {
 *       const uint8_t *m = msg;
 *       if (m[0] == SC_MDREC_BBO && len >= sizeof(struct sc_mdrec_bbo)) {
 *           struct sc_mdrec_bbo q;
 *           memcpy(&q, msg, sizeof(q));   // the payload need not be aligned
 *           ...
 *       }
 *   }
 *
 * Prices are the feed's: 4 implied decimals (ITCH 5.0), 0 = no price. A record
 * may grow at its end in a later version (version tells); readers take
 * len >= sizeof and ignore the rest.
 */
#ifndef SEQCAST_MDREC_H
#define SEQCAST_MDREC_H

#include <stddef.h>
#include <stdint.h>

#define SC_MDREC_VERSION 1
#define SC_MDREC_BBO 'Q'   /* a book's best bid or offer changed */
#define SC_MDREC_TRADE 'T' /* a trade: an execution of a resting order, or reported */

struct sc_mdrec_bbo {
    uint8_t type;       /* SC_MDREC_BBO */
    uint8_t version;    /* SC_MDREC_VERSION */
    uint16_t locate;    /* the feed's instrument number */
    uint8_t stale;      /* 1: the book may be wrong (data was lost) */
    uint8_t pad_[3];
    char symbol[8];     /* space-padded, as in the feed's directory; "" if not named yet */
    uint64_t ts;        /* the feed's timestamp: ns since midnight */
    uint32_t bid_price; /* 0: no bid */
    uint32_t ask_price; /* 0: no offer */
    uint32_t bid_orders;
    uint32_t ask_orders;
    uint64_t bid_shares;
    uint64_t ask_shares;
};

struct sc_mdrec_trade {
    uint8_t type;       /* SC_MDREC_TRADE */
    uint8_t version;    /* SC_MDREC_VERSION */
    uint16_t locate;    /* 0 when not known (a broken trade) */
    char kind;          /* 'E', 'C' (an order executed), 'P', 'Q', 'B' (reported) */
    char side;          /* 'B' or 'S' (the resting order's), or 0 */
    uint8_t printable;  /* 1: counts toward volume */
    char cross_type;    /* Q: 'O', 'C', 'H', 'A' / 'I'; else 0 */
    char symbol[8];
    uint64_t ts;        /* ns since midnight */
    uint64_t shares;
    uint64_t match;     /* match number (B: the broken trade's) */
    uint64_t ref;       /* the resting order's reference (E, C), else 0 */
    uint32_t price;
    uint32_t pad_;
};

_Static_assert(sizeof(struct sc_mdrec_bbo) == 56, "sc_mdrec_bbo is 56 bytes");
_Static_assert(offsetof(struct sc_mdrec_bbo, ts) == 16, "sc_mdrec_bbo.ts at 16");
_Static_assert(offsetof(struct sc_mdrec_bbo, bid_shares) == 40, "sc_mdrec_bbo.bid_shares at 40");
_Static_assert(sizeof(struct sc_mdrec_trade) == 56, "sc_mdrec_trade is 56 bytes");
_Static_assert(offsetof(struct sc_mdrec_trade, ts) == 16, "sc_mdrec_trade.ts at 16");
_Static_assert(offsetof(struct sc_mdrec_trade, price) == 48, "sc_mdrec_trade.price at 48");

#endif
