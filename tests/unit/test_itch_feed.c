/* The ITCH 5.0 glue (feedhandler/itch_feed.c, <seqcast/itch.h>): every type
 * reaches the right book operation with the right fields; counts by type;
 * malformed and unknown messages counted by class and skipped, never fatal;
 * a MoldUDP64 block and a buffer in NASDAQ's file framing (records cut by the
 * buffer's end kept for the next call); a loss marks every book stale. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <seqcast/book.h>
#include <seqcast/itch.h>
#include <seqcast/proto/mold.h>

static struct sc_book *book;
static struct sc_itch_feed *feed;

static struct seen {
    int trades, raws, bbos;
    struct sc_book_trade trade;
    struct sc_itch_msg raw;
    uint64_t bbo_ts; /* sc_itch_feed_current's timestamp inside on_bbo */
} seen;

static void
on_trade(void *ctx, const struct sc_book_trade *t)
{
    (void)ctx;
    seen.trades++;
    seen.trade = *t;
}

static void
on_bbo(void *ctx, const struct sc_book_bbo *q)
{
    (void)ctx;
    (void)q;
    seen.bbos++;
    seen.bbo_ts = sc_itch_feed_current(feed)->ts;
}

static void
on_raw(void *ctx, const struct sc_itch_msg *m)
{
    cr_assert_eq(ctx, &seen);
    seen.raws++;
    seen.raw = *m;
}

static void
setup(void)
{
    struct sc_book_cfg bc = { .max_orders = 1024, .max_books = 16, .max_levels = 64,
                              .on_bbo = on_bbo, .on_trade = on_trade };
    struct sc_itch_feed_cfg fc = { .on_raw = on_raw, .ctx = &seen };
    struct sc_err err;

    memset(&seen, 0, sizeof(seen));
    cr_assert_eq(sc_book_create(&book, &bc, &err), 0, "%s", err.msg);
    fc.book = book;
    cr_assert_eq(sc_itch_feed_create(&feed, &fc, &err), 0, "%s", err.msg);
}

static void
teardown(void)
{
    sc_itch_feed_destroy(feed);
    sc_book_destroy(book);
}

TestSuite(itch_feed, .init = setup, .fini = teardown);

/* encode m into buf; @return its length */
static size_t
enc(uint8_t *buf, struct sc_itch_msg *m)
{
    int n = sc_itch_encode(buf, SC_ITCH_MAX_LEN, m);
    cr_assert_gt(n, 0, "encode %c", m->type);
    return (size_t)n;
}

/* encode and feed one message */
static int
feed_msg(struct sc_itch_msg *m)
{
    uint8_t b[SC_ITCH_MAX_LEN];
    size_t n = enc(b, m);
    return sc_itch_feed_msg(feed, b, n);
}

static void
stock(char *dst, const char *s)
{
    memset(dst, ' ', 8);
    memcpy(dst, s, strlen(s));
}

static struct sc_itch_msg
msg(char type, uint16_t locate)
{
    static uint64_t ts = 1000;
    struct sc_itch_msg m;
    memset(&m, 0, sizeof(m));
    m.type = (uint8_t)type;
    m.locate = locate;
    m.ts = ts += 7;
    return m;
}

static void
add(char type, uint16_t loc, uint64_t ref, char side, uint32_t shares, uint32_t price)
{
    struct sc_itch_msg m = msg(type, loc);
    m.add.ref = ref;
    m.add.side = side;
    m.add.shares = shares;
    m.add.price = price;
    stock(m.add.stock, "AAPL");
    cr_assert_eq(feed_msg(&m), type);
}

static uint32_t
order_shares(uint64_t ref)
{
    struct sc_book_order o;
    return sc_book_order(book, ref, &o) == 0 ? o.shares : 0;
}

Test(itch_feed, reference_data_and_state)
{
    struct sc_itch_msg m = msg('R', 12);
    struct sc_book_info info;
    struct sc_book_system sys;

    stock(m.stock_directory.stock, "AAPL");
    cr_assert_eq(feed_msg(&m), 'R');
    cr_assert_eq(sc_book_locate_of(book, "AAPL    "), 12);
    m = msg('H', 12);
    m.trading_action.trading_state = 'H';
    memcpy(m.trading_action.reason, "T1  ", 4);
    feed_msg(&m);
    m = msg('Y', 12);
    m.reg_sho.action = '1';
    feed_msg(&m);
    cr_assert_eq(sc_book_info(book, 12, &info), 0);
    cr_assert_str_eq(info.symbol, "AAPL");
    cr_assert_eq(info.trading_state, 'H');
    cr_assert_str_eq(info.reason, "T1");
    cr_assert_eq(info.reg_sho, '1');
    m = msg('S', 0);
    m.system_event.event_code = 'Q';
    feed_msg(&m);
    sc_book_system(book, &sys);
    cr_assert_eq(sys.last_event, 'Q');
    cr_assert(sys.market_hours);
}

Test(itch_feed, order_messages_change_the_book)
{
    struct sc_itch_msg m;
    struct sc_book_bbo q;
    struct sc_book_order o;

    add('A', 5, 100, 'B', 300, 1000000);
    add('F', 5, 101, 'S', 200, 1010000);
    cr_assert_eq(seen.bbos, 2);
    cr_assert_eq(seen.bbo_ts, sc_itch_feed_current(feed)->ts, "the message's time in on_bbo");
    cr_assert_eq(sc_book_bbo(book, 5, &q), 0);
    cr_assert_eq(q.bid_price, 1000000);
    cr_assert_eq(q.bid_shares, 300);
    cr_assert_eq(q.ask_price, 1010000);
    cr_assert_eq(sc_book_order(book, 101, &o), 0);
    cr_assert_eq(o.side, SC_BOOK_ASK);

    m = msg('E', 5); /* execute 50 at the order's price */
    m.exec.ref = 100, m.exec.shares = 50, m.exec.match = 9;
    feed_msg(&m);
    cr_assert_eq(order_shares(100), 250);
    cr_assert_eq(seen.trade.kind, 'E');
    cr_assert_eq(seen.trade.price, 1000000);
    cr_assert_eq(seen.trade.match, 9);

    m = msg('C', 5); /* execute 30 at a price of its own, not printable */
    m.exec.ref = 100, m.exec.shares = 30, m.exec.match = 10, m.exec.printable = 'N';
    m.exec.price = 999900;
    feed_msg(&m);
    cr_assert_eq(order_shares(100), 220);
    cr_assert_eq(seen.trade.kind, 'C');
    cr_assert_eq(seen.trade.price, 999900);
    cr_assert_not(seen.trade.printable);

    m = msg('X', 5); /* cancel 20 */
    m.cancel.ref = 100, m.cancel.shares = 20;
    feed_msg(&m);
    cr_assert_eq(order_shares(100), 200);

    m = msg('U', 5); /* replace 100 by 102: new shares and price, same side */
    m.replace.orig_ref = 100, m.replace.new_ref = 102, m.replace.shares = 700;
    m.replace.price = 1000100;
    feed_msg(&m);
    cr_assert_eq(sc_book_order(book, 100, &o), -ENOENT);
    cr_assert_eq(sc_book_order(book, 102, &o), 0);
    cr_assert_eq(o.shares, 700);
    cr_assert_eq(o.price, 1000100);
    cr_assert_eq(o.side, SC_BOOK_BID);

    m = msg('D', 5);
    m.del.ref = 101;
    feed_msg(&m);
    cr_assert_eq(sc_book_order(book, 101, &o), -ENOENT);
    cr_assert_eq(sc_book_bbo(book, 5, &q), 0);
    cr_assert_eq(q.ask_price, 0);
    cr_assert_eq(q.bid_price, 1000100);

    /* a side neither B nor S: refused by the book, counted there */
    struct sc_book_stats bs;
    add('A', 5, 103, '?', 100, 1000000);
    sc_book_get_stats(book, &bs);
    cr_assert_eq(bs.bad_side, 1);
    /* an unknown reference: counted by the book */
    m = msg('D', 5);
    m.del.ref = 77777;
    feed_msg(&m);
    sc_book_get_stats(book, &bs);
    cr_assert_eq(bs.unknown_delete, 1);
}

Test(itch_feed, trades_are_reported_without_a_book_change)
{
    struct sc_itch_msg m = msg('P', 5);
    struct sc_book_stats bs;

    add('A', 5, 100, 'B', 300, 1000000);
    m.trade.ref = 0, m.trade.side = 'B', m.trade.shares = 400, m.trade.price = 1000500;
    m.trade.match = 41;
    stock(m.trade.stock, "AAPL");
    feed_msg(&m);
    cr_assert_eq(seen.trade.kind, 'P');
    cr_assert_eq(seen.trade.shares, 400);
    cr_assert_eq(seen.trade.price, 1000500);
    cr_assert_eq(seen.trade.side, 'B');
    cr_assert_eq(seen.trade.locate, 5);
    cr_assert(seen.trade.printable);
    m = msg('Q', 5);
    m.cross.shares = UINT64_C(5000000000), m.cross.price = 1000000, m.cross.match = 42;
    m.cross.cross_type = 'O';
    stock(m.cross.stock, "AAPL");
    feed_msg(&m);
    cr_assert_eq(seen.trade.kind, 'Q');
    cr_assert_eq(seen.trade.shares, UINT64_C(5000000000), "Q's 8-byte shares");
    cr_assert_eq(seen.trade.cross_type, 'O');
    m = msg('B', 5);
    m.broken.match = 41;
    feed_msg(&m);
    cr_assert_eq(seen.trade.kind, 'B');
    cr_assert_eq(seen.trade.match, 41);
    cr_assert_not(seen.trade.printable);
    cr_assert_eq(seen.trades, 3);
    cr_assert_eq(order_shares(100), 300, "trades leave the book alone");
    sc_book_get_stats(book, &bs);
    cr_assert_eq(bs.trades, 3);
}

Test(itch_feed, other_types_are_counted_and_given_to_on_raw)
{
    static const char others[] = "LVWKJhINO";
    struct sc_itch_feed_stats st;

    for (int i = 0; others[i]; i++) {
        struct sc_itch_msg m = msg(others[i], 3);
        cr_assert_eq(feed_msg(&m), others[i]);
        cr_assert_eq(seen.raws, i + 1);
        cr_assert_eq(seen.raw.type, (uint8_t)others[i]);
        cr_assert_eq(seen.raw.ts, m.ts);
    }
    sc_itch_feed_get_stats(feed, &st);
    cr_assert_eq(st.msgs, 9);
    cr_assert_eq(st.msgs_L + st.msgs_V + st.msgs_W + st.msgs_K + st.msgs_J + st.msgs_h +
                     st.msgs_I + st.msgs_N + st.msgs_O, 9);
    cr_assert_eq(st.msgs_h, 1);
    cr_assert_eq(st.msgs_O, 1);
    cr_assert_eq(st.msgs_A, 0);
}

Test(itch_feed, counts_every_type)
{
    struct sc_itch_feed_stats st;
    const struct sc_counter_desc *d;
    size_t n;

    for (int i = 0; i < SC_ITCH_NTYPES; i++)
        for (int k = 0; k <= i; k++) { /* type i, i + 1 times */
            struct sc_itch_msg m = msg((char)sc_itch_types[i], 1);
            feed_msg(&m);
        }
    sc_itch_feed_get_stats(feed, &st);
    d = sc_counter_descs(SC_COUNTERS_ITCH_FEED, &n);
    for (int i = 0; i < SC_ITCH_NTYPES; i++) {
        char name[16];
        bool found = false;
        snprintf(name, sizeof(name), "msgs_%c", sc_itch_types[i]);
        for (size_t j = 0; j < n; j++)
            if (!strcmp(d[j].name, name)) {
                cr_assert_eq(sc_counter_get(&d[j], &st), (uint64_t)i + 1, "%s", name);
                found = true;
            }
        cr_assert(found, "no counter %s", name);
    }
    cr_assert_eq(st.msgs, SC_ITCH_NTYPES * (SC_ITCH_NTYPES + 1) / 2);
    cr_assert_eq(st.bad_msgs, 0);
}

Test(itch_feed, malformed_and_unknown_are_counted_and_skipped)
{
    uint8_t b[SC_ITCH_MAX_LEN + 4] = { 0 };
    struct sc_itch_msg m = msg('D', 5);
    struct sc_itch_feed_stats st;
    size_t n;

    add('A', 5, 100, 'B', 300, 1000000);
    m.del.ref = 100;
    n = enc(b, &m);
    cr_assert_eq(sc_itch_feed_msg(feed, b, n - 1), SC_PERR_SHORT);
    cr_assert_eq(sc_itch_feed_msg(feed, b, n + 1), SC_PERR_LENGTH);
    cr_assert_eq(sc_itch_feed_msg(feed, b, 0), SC_PERR_SHORT);
    b[0] = 'z'; /* a type this edition does not know */
    cr_assert_eq(sc_itch_feed_msg(feed, b, n), SC_PERR_TYPE);
    cr_assert_eq(order_shares(100), 300, "nothing of them applied");
    b[0] = 'D';
    cr_assert_eq(sc_itch_feed_msg(feed, b, n), 'D', "the next good message applies");
    cr_assert_eq(order_shares(100), 0);
    sc_itch_feed_get_stats(feed, &st);
    cr_assert_eq(st.bad_msgs, 4);
    cr_assert_eq(st.bad[-SC_PERR_SHORT], 2);
    cr_assert_eq(st.bad[-SC_PERR_LENGTH], 1);
    cr_assert_eq(st.bad[-SC_PERR_TYPE], 1);
    cr_assert_eq(st.msgs, 2);
}

Test(itch_feed, a_moldudp64_block)
{
    uint8_t blk[1400], b[SC_ITCH_MAX_LEN];
    static const uint8_t session[10] = "SESSION001";
    struct sc_mold_enc e;
    struct sc_itch_feed_stats st;

    cr_assert_eq(sc_mold_enc_init(&e, blk, sizeof(blk), session, 1), 0);
    for (uint64_t r = 1; r <= 20; r++) {
        struct sc_itch_msg m = msg('A', 2);
        m.add.ref = r, m.add.side = 'S', m.add.shares = 100, m.add.price = 500000 + r * 100;
        cr_assert_eq(sc_mold_enc_add(&e, b, (uint16_t)enc(b, &m)), 0);
    }
    b[0] = 'z';
    cr_assert_eq(sc_mold_enc_add(&e, b, 5), 0); /* an unknown type inside: skipped */
    {
        struct sc_itch_msg m = msg('D', 2);
        m.del.ref = 1;
        cr_assert_eq(sc_mold_enc_add(&e, b, (uint16_t)enc(b, &m)), 0);
    }
    cr_assert_eq(sc_itch_feed_mold(feed, blk, e.len), 22);
    sc_itch_feed_get_stats(feed, &st);
    cr_assert_eq(st.msgs_A, 20);
    cr_assert_eq(st.msgs_D, 1);
    cr_assert_eq(st.bad[-SC_PERR_TYPE], 1);
    cr_assert_eq(order_shares(1), 0);
    cr_assert_eq(order_shares(20), 100);
    /* a block that does not parse: nothing applied, counted */
    cr_assert_lt(sc_itch_feed_mold(feed, blk, e.len - 1), 0);
    sc_itch_feed_get_stats(feed, &st);
    cr_assert_eq(st.bad_blocks, 1);
    cr_assert_eq(st.msgs, 21);
}

/* NASDAQ's file framing, whole and cut at every byte: the same books */
Test(itch_feed, a_file_buffer_cut_anywhere)
{
    static uint8_t file[64 * 1024];
    size_t len = 0;
    struct sc_itch_feed_stats st;
    struct sc_book_stats want, got;

    for (uint64_t r = 1; r <= 300; r++) {
        struct sc_itch_msg m = msg('A', (uint16_t)(1 + r % 3));
        size_t n;
        m.add.ref = r, m.add.side = r & 1 ? 'B' : 'S', m.add.shares = 100 * (uint32_t)r;
        m.add.price = 100000 + (uint32_t)(r % 17) * 100;
        n = enc(file + len + 2, &m);
        file[len] = 0, file[len + 1] = (uint8_t)n;
        len += 2 + n;
        if (r % 3 == 0) { /* then cancel part of an earlier one */
            m = msg('X', 1);
            m.cancel.ref = r / 2, m.cancel.shares = 10;
            n = enc(file + len + 2, &m);
            file[len] = 0, file[len + 1] = (uint8_t)n;
            len += 2 + n;
        }
    }
    file[len] = 0, file[len + 1] = 0; /* a record of length 0: counted, skipped */
    len += 2;
    cr_assert_eq(sc_itch_feed_file(feed, file, len), len);
    sc_itch_feed_get_stats(feed, &st);
    cr_assert_eq(st.msgs_A, 300);
    cr_assert_eq(st.msgs_X, 100);
    cr_assert_eq(st.bad[-SC_PERR_SHORT], 1);
    sc_book_get_stats(book, &want);

    for (size_t cut = 0; cut < 120; cut += 7) { /* two calls, cut at many places */
        size_t used;
        teardown();
        setup();
        used = sc_itch_feed_file(feed, file, cut);
        cr_assert_leq(used, cut);
        cr_assert_gt(used + 2 + SC_ITCH_MAX_LEN, cut, "a whole record was left behind");
        cr_assert_eq(sc_itch_feed_file(feed, file + used, len - used), len - used);
        sc_book_get_stats(book, &got);
        cr_assert_eq(got.orders_live, want.orders_live);
        cr_assert_eq(got.cancels, want.cancels);
        cr_assert_eq(got.adds, want.adds);
        cr_assert_eq(got.levels_live, want.levels_live);
    }
    /* a buffer holding only part of a length prefix: nothing consumed */
    cr_assert_eq(sc_itch_feed_file(feed, file, 1), 0);
}

Test(itch_feed, a_loss_marks_every_book_stale)
{
    struct sc_book_info info;
    struct sc_itch_feed_stats st;

    add('A', 1, 10, 'B', 100, 100000);
    add('A', 2, 11, 'B', 100, 100000);
    sc_itch_feed_loss(feed, 1001, 1010);
    sc_itch_feed_loss(feed, 2000, UINT64_MAX);
    for (uint16_t l = 1; l <= 2; l++) {
        cr_assert_eq(sc_book_info(book, l, &info), 0);
        cr_assert(info.stale, "book %u not stale", l);
    }
    add('A', 3, 12, 'B', 100, 100000); /* first seen after the gap: stale too */
    cr_assert_eq(sc_book_info(book, 3, &info), 0);
    cr_assert(info.stale);
    sc_itch_feed_get_stats(feed, &st);
    cr_assert_eq(st.loss_events, 2);
    cr_assert_eq(st.lost_msgs, 10);
    cr_assert_eq(order_shares(12), 100, "stale books keep applying");
}

Test(itch_feed, create_needs_a_book)
{
    struct sc_itch_feed *f;
    struct sc_itch_feed_cfg fc = { 0 };
    struct sc_err err;

    cr_assert_eq(sc_itch_feed_create(&f, &fc, &err), -EINVAL);
    cr_assert_null(f);
    cr_assert(strstr(err.msg, "book"));
    cr_assert_eq(sc_itch_feed_book(feed), book);
}

/* The order types are applied straight from the wire (the fast path):
 * sc_itch_feed_current still gives the whole message, decoded, after the call
 * returns and the caller's buffer is reused; one byte more or less than the
 * type's length is malformed, counted and not applied. */
Test(itch_feed, order_types_fast_path_keeps_current_and_lengths)
{
    static const char types[] = "AFECXDU";
    struct sc_itch_feed_stats st;
    uint64_t bad = 0;

    for (const char *t = types; *t; t++) {
        struct sc_itch_msg m = msg(*t, 9);
        uint8_t buf[SC_ITCH_MAX_LEN + 1], want[SC_ITCH_MAX_LEN], again[SC_ITCH_MAX_LEN];
        size_t n;

        /* every byte of the message set (references, shares, prices, match) */
        memset(&m.add, 0, sizeof(m) - offsetof(struct sc_itch_msg, add));
        switch (*t) {
        case 'A': case 'F':
            m.add.ref = 0x0102030405060708ull, m.add.side = 'S', m.add.shares = 0x11223344;
            m.add.price = 0x55667788;
            stock(m.add.stock, "ZZZZZZZZ");
            if (*t == 'F')
                memcpy(m.add.mpid, "MPID", 4);
            break;
        case 'E': case 'C':
            m.exec.ref = 0x0a0b0c0d0e0f1011ull, m.exec.shares = 0x21222324;
            m.exec.match = 0x3132333435363738ull;
            if (*t == 'C')
                m.exec.printable = 'Y', m.exec.price = 0x41424344;
            break;
        case 'X':
            m.cancel.ref = 0x5152535455565758ull, m.cancel.shares = 0x61626364;
            break;
        case 'D':
            m.del.ref = 0x7172737475767778ull;
            break;
        default:
            m.replace.orig_ref = 0x8182838485868788ull, m.replace.new_ref = 0x9192939495969798ull;
            m.replace.shares = 0xa1a2a3a4, m.replace.price = 0xb1b2b3b4;
            break;
        }
        n = enc(buf, &m);
        memcpy(want, buf, n);
        cr_assert_eq(sc_itch_feed_msg(feed, buf, n), *t);
        memset(buf, 0xee, sizeof(buf)); /* the caller reuses its buffer */
        /* current, encoded again, is the message byte for byte */
        cr_assert_eq(sc_itch_encode(again, sizeof(again), sc_itch_feed_current(feed)), (int)n);
        cr_assert_eq(memcmp(again, want, n), 0, "%c: current is not the message", *t);

        n = enc(buf, &m);
        cr_assert_lt(sc_itch_feed_msg(feed, buf, n - 1), 0, "%c one byte short", *t);
        buf[n] = 0;
        cr_assert_lt(sc_itch_feed_msg(feed, buf, n + 1), 0, "%c one byte long", *t);
        bad += 2;
    }
    sc_itch_feed_get_stats(feed, &st);
    cr_assert_eq(st.bad_msgs, bad);
    cr_assert_eq(st.msgs_A + st.msgs_F + st.msgs_E + st.msgs_C + st.msgs_X + st.msgs_D +
                     st.msgs_U, 7);
}

/* The batch calls apply order messages from the caller's buffer: inside the
 * call, current is the message being applied (the first three adds move the
 * BBO: on_bbo sees each one's time); after the call, the last message (an add
 * behind the best, no callback read it), whatever the caller then does with
 * its buffer. File framing, then a MoldUDP64 block. */
Test(itch_feed, batch_calls_keep_current_past_the_callers_buffer)
{
    uint8_t file[4 * (2 + SC_ITCH_MAX_LEN)], blk[1500], want[SC_ITCH_MAX_LEN],
        again[SC_ITCH_MAX_LEN];
    uint64_t ts[4];
    size_t flen = 0, n = 0;
    struct sc_mold_enc e;

    for (int i = 0; i < 4; i++) {
        struct sc_itch_msg m = msg('A', 3);

        m.add.ref = 100 + (uint64_t)i, m.add.side = 'B', m.add.shares = 100;
        m.add.price = i < 3 ? 1000 + (uint32_t)i : 900; /* better bids, then a worse one */
        stock(m.add.stock, "ZZZZ");
        ts[i] = m.ts;
        n = enc(file + flen + 2, &m);
        file[flen] = 0, file[flen + 1] = (uint8_t)n;
        memcpy(want, file + flen + 2, n);
        flen += 2 + n;
    }
    seen.bbos = 0;
    cr_assert_eq(sc_itch_feed_file(feed, file, flen), flen);
    cr_assert_eq(seen.bbos, 3);
    cr_assert_eq(seen.bbo_ts, ts[2], "inside the call: the message being applied");
    memset(file, 0xee, sizeof(file)); /* the caller reuses its buffer */
    cr_assert_eq(sc_itch_encode(again, sizeof(again), sc_itch_feed_current(feed)), (int)n);
    cr_assert_eq(memcmp(again, want, n), 0, "file: current is not the last message");

    cr_assert_eq(sc_mold_enc_init(&e, blk, sizeof(blk), (const uint8_t *)"SESSION001", 1), 0);
    for (int i = 0; i < 4; i++) {
        struct sc_itch_msg m = msg('A', 3);
        uint8_t b[SC_ITCH_MAX_LEN];

        m.add.ref = 200 + (uint64_t)i, m.add.side = 'S', m.add.shares = 50;
        m.add.price = i < 3 ? 2000 - (uint32_t)i : 3000;
        stock(m.add.stock, "ZZZZ");
        ts[i] = m.ts;
        n = enc(b, &m);
        memcpy(want, b, n);
        cr_assert_eq(sc_mold_enc_add(&e, b, (uint16_t)n), 0);
    }
    seen.bbos = 0;
    cr_assert_eq(sc_itch_feed_mold(feed, blk, e.len), 4);
    cr_assert_eq(seen.bbos, 3);
    cr_assert_eq(seen.bbo_ts, ts[2]);
    memset(blk, 0xee, sizeof(blk));
    cr_assert_eq(sc_itch_encode(again, sizeof(again), sc_itch_feed_current(feed)), (int)n);
    cr_assert_eq(memcmp(again, want, n), 0, "mold: current is not the last message");
}
