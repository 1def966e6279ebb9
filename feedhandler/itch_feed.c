/* The ITCH 5.0 feed glue (<seqcast/itch.h>): decode, count by type, apply to
 * the book.
 *
 * Counting is one increment of by_type[type] per message; the stats struct's
 * msgs_<type> fields are filled from it on request (TYPES below names every
 * field, so a type missing from the counter list does not compile).
 *
 * The batch calls look PREFETCH_AHEAD records ahead: for the types that name
 * an order (A F E C X D U: the reference at byte 11), the order map's slot and
 * the top of the book's sides are prefetched before the records in between
 * are applied. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <seqcast/itch.h>
#include <seqcast/proto/endian.h>
#include <seqcast/proto/mold.h>

#include "engine/compiler.h"

#ifndef PREFETCH_AHEAD
#define PREFETCH_AHEAD 4 /* records; 0 turns prefetching off (measured: 2-4 and 10-16 took the
                            generated day to 63 ns a message in memory, 5-8 to 72: 4) */
#endif

/* A F E C X D U, as bits of (type - 'A') */
#define ORDER_TYPES (1u << ('A' - 'A') | 1u << ('F' - 'A') | 1u << ('E' - 'A') | \
                     1u << ('C' - 'A') | 1u << ('X' - 'A') | 1u << ('D' - 'A') | 1u << ('U' - 'A'))

#define TYPES(T)                                                                           \
    T(S) T(R) T(H) T(Y) T(L) T(V) T(W) T(K) T(J) T(h) T(A) T(F) T(E) T(C) T(X) T(D) T(U)   \
    T(P) T(Q) T(B) T(I) T(N) T(O)

/* The message being applied. The order types' fast path applies them from
 * the wire and points src at their bytes, which sc_itch_feed_current decodes
 * into m on demand. Inside a call src is the caller's buffer; before a call
 * returns, pin() copies the last message's bytes into raw: the same contract
 * as decoding every message, for one copy a call instead of one a message. */
struct current {
    const uint8_t *src; /* when !valid: the bytes m is to be decoded from */
    uint8_t raw[48];    /* src's copy once the call that brought it returns */
    uint8_t len;
    bool valid;
    struct sc_itch_msg m;
};

/* The order message p (19..40 bytes) is current; m is decoded on demand. */
static inline void
keep(struct current *c, const uint8_t *p, size_t len)
{
    c->src = p;
    c->len = (uint8_t)len;
    c->valid = false;
}

/* Before a call returns: current's bytes out of the caller's buffer. */
static inline void
pin(struct current *c)
{
    if (!c->valid && c->src != c->raw) {
        memcpy(c->raw, c->src, c->len);
        c->src = c->raw;
    }
}

/* A F E C X D U: the types that name an order (the reference at byte 11) */
static inline bool
is_order_type(uint8_t type)
{
    unsigned t = (unsigned)type - 'A';

    return t < 32 && (ORDER_TYPES >> t & 1);
}

struct sc_itch_feed {
    struct sc_book *book;
    sc_itch_raw_fn *on_raw;
    void *ctx;
    struct current *cur; /* &cur_store: writable through a const feed (a cache) */
    struct current cur_store;
    uint8_t fast_len[256]; /* A F E C X D U: their length; every other type 0 */
    uint64_t by_type[256];
    struct sc_itch_feed_stats st; /* the rest: bad[], loss, blocks */
};

int
sc_itch_feed_create(struct sc_itch_feed **out, const struct sc_itch_feed_cfg *cfg,
                    struct sc_err *err)
{
    struct sc_itch_feed *f;

    *out = NULL;
    if (!cfg || !cfg->book) {
        if (err) {
            err->code = -EINVAL;
            snprintf(err->msg, sizeof(err->msg), "itch feed: no book to apply messages to");
        }
        return -EINVAL;
    }
    if (!(f = calloc(1, sizeof(*f)))) {
        if (err) {
            err->code = -ENOMEM;
            snprintf(err->msg, sizeof(err->msg), "itch feed: out of memory");
        }
        return -ENOMEM;
    }
    f->book = cfg->book;
    f->cur = &f->cur_store;
    f->cur->valid = true;
    for (unsigned t = 0; t < 256; t++)
        f->fast_len[t] = is_order_type((uint8_t)t) ? sc_itch_len_table[t] : 0;
    f->on_raw = cfg->on_raw;
    f->ctx = cfg->ctx;
    *out = f;
    return 0;
}

void
sc_itch_feed_destroy(struct sc_itch_feed *f)
{
    free(f);
}

static void
trade(struct sc_itch_feed *f, const struct sc_itch_msg *m)
{
    struct sc_book_trade t = { .locate = m->locate, .kind = (char)m->type, .printable = true };

    switch (m->type) {
    case SC_ITCH_TRADE:
        t.ref = m->trade.ref;
        t.match = m->trade.match;
        t.shares = m->trade.shares;
        t.price = m->trade.price;
        t.side = m->trade.side;
        break;
    case SC_ITCH_CROSS_TRADE:
        t.match = m->cross.match;
        t.shares = m->cross.shares;
        t.price = m->cross.price;
        t.cross_type = m->cross.cross_type;
        break;
    default: /* B: the trade it names no longer counts */
        t.match = m->broken.match;
        t.printable = false;
        break;
    }
    sc_book_trade(f->book, &t);
}

/* m (f->cur) of type `type`: the caller's copy of m->type, from a register
 * or the message's first byte, so that dispatching on it need not wait for
 * the decoder's stores to m */
static inline void
apply(struct sc_itch_feed *f, const struct sc_itch_msg *m, uint8_t type)
{
    struct sc_book *b = f->book;

    f->by_type[type]++;
    switch (type) {
    case SC_ITCH_ADD_ORDER:
    case SC_ITCH_ADD_ORDER_MPID:
        /* a side neither B nor S goes to the book as such: refused and counted there */
        sc_book_add(b, m->locate, m->add.ref,
                    m->add.side == 'B'   ? SC_BOOK_BID
                    : m->add.side == 'S' ? SC_BOOK_ASK
                                         : (enum sc_book_side)2,
                    m->add.shares, m->add.price);
        break;
    case SC_ITCH_ORDER_EXECUTED:
        sc_book_execute(b, m->exec.ref, m->exec.shares, m->exec.match);
        break;
    case SC_ITCH_ORDER_EXECUTED_PRICE:
        sc_book_execute_price(b, m->exec.ref, m->exec.shares, m->exec.price, m->exec.match,
                              m->exec.printable == 'Y');
        break;
    case SC_ITCH_ORDER_CANCEL:
        sc_book_cancel(b, m->cancel.ref, m->cancel.shares);
        break;
    case SC_ITCH_ORDER_DELETE:
        sc_book_delete(b, m->del.ref);
        break;
    case SC_ITCH_ORDER_REPLACE:
        sc_book_replace(b, m->replace.orig_ref, m->replace.new_ref, m->replace.shares,
                        m->replace.price);
        break;
    case SC_ITCH_TRADE:
    case SC_ITCH_CROSS_TRADE:
    case SC_ITCH_BROKEN_TRADE:
        trade(f, m);
        break;
    case SC_ITCH_STOCK_DIRECTORY:
        sc_book_instrument(b, m->locate, m->stock_directory.stock);
        break;
    case SC_ITCH_TRADING_ACTION:
        sc_book_trading_state(b, m->locate, m->trading_action.trading_state,
                              m->trading_action.reason);
        break;
    case SC_ITCH_REG_SHO:
        sc_book_reg_sho(b, m->locate, m->reg_sho.action);
        break;
    case SC_ITCH_SYSTEM_EVENT:
        sc_book_system_event(b, m->system_event.event_code);
        break;
    default: /* L V W K J h I N O */
        if (f->on_raw)
            f->on_raw(f->ctx, m);
        break;
    }
}

void
sc_itch_feed_apply(struct sc_itch_feed *f, const struct sc_itch_msg *m)
{
    if (m != &f->cur->m)
        f->cur->m = *m;
    f->cur->valid = true;
    apply(f, &f->cur->m, f->cur->m.type);
}

static int
bad(struct sc_itch_feed *f, int rc)
{
    f->st.bad_msgs++;
    f->st.bad[-rc <= SC_PERR_COUNT ? -rc : 0]++;
    return rc;
}

/* A F E C X D U of exactly their length, applied from the wire: the fields
 * the book takes are read where the codec would read them (proto/itch.c's
 * layouts), and nothing else is decoded. The same effect as decode + apply. */
static inline void
apply_order(struct sc_itch_feed *f, const uint8_t *p, uint8_t type)
{
    struct sc_book *b = f->book;
    uint64_t ref = sc_load_be64(p + 11);

    switch (type) {
    case 'A':
    case 'F':
        /* B: bid (0), S: ask (1), anything else 2 (refused, counted); without a
         * branch: buys and sells come in no order a predictor could learn */
        sc_book_add(b, sc_load_be16(p + 1), ref,
                    (enum sc_book_side)((unsigned)(p[19] != 'B') +
                                        ((unsigned)(p[19] != 'B') & (unsigned)(p[19] != 'S'))),
                    sc_load_be32(p + 20), sc_load_be32(p + 32));
        break;
    case 'E':
        sc_book_execute(b, ref, sc_load_be32(p + 19), sc_load_be64(p + 23));
        break;
    case 'C':
        sc_book_execute_price(b, ref, sc_load_be32(p + 19), sc_load_be32(p + 32),
                              sc_load_be64(p + 23), p[31] == 'Y');
        break;
    case 'X':
        sc_book_cancel(b, ref, sc_load_be32(p + 19));
        break;
    case 'D':
        sc_book_delete(b, ref);
        break;
    default: /* U */
        sc_book_replace(b, ref, sc_load_be64(p + 19), sc_load_be32(p + 27),
                        sc_load_be32(p + 31));
        break;
    }
}

/* One message; current's bytes left in the caller's buffer (pin them). */
static inline int
feed_one(struct sc_itch_feed *f, const uint8_t *p, size_t len)
{
    uint8_t type = len ? p[0] : 0;
    int rc;

    if (likely(len == f->fast_len[type] && len)) {
        keep(f->cur, p, len);
        f->by_type[type]++;
        apply_order(f, p, type);
        return type;
    }
    rc = sc_itch_decode(p, len, &f->cur->m);
    if (unlikely(rc < 0)) {
        f->cur->len = 0; /* m is undefined now: current() answers zeros */
        f->cur->valid = false;
        return bad(f, rc);
    }
    f->cur->valid = true;
    apply(f, &f->cur->m, type);
    return type;
}

int
sc_itch_feed_msg(struct sc_itch_feed *f, const void *msg, size_t len)
{
    int rc = feed_one(f, msg, len);

    pin(f->cur);
    return rc;
}

/* For the types that name an order (the reference at byte 11; U: the
 * original), the order map's slot of the message at p (len bytes) and the
 * top of its book's sides (the locate at byte 1). */
static inline void
prefetch_msg(const struct sc_itch_feed *f, const uint8_t *p, size_t len)
{
    if (len == f->fast_len[p[0]]) {
        sc_book_prefetch(f->book, sc_load_be64(p + SC_ITCH_HDR_LEN));
        sc_book_prefetch_book(f->book, sc_load_be16(p + 1));
    }
}

int
sc_itch_feed_mold(struct sc_itch_feed *f, const void *block, size_t len)
{
    struct sc_mold_iter it, ahead;
    struct sc_mold_hdr h;
    const uint8_t *msg;
    uint16_t mlen;
    uint64_t seq;
    int rc, n = 0;

    if ((rc = sc_mold_iter_init(&it, block, len, &h)) < 0) {
        f->st.bad_blocks++;
        return rc;
    }
    ahead = it;
    for (int i = 0; i < PREFETCH_AHEAD && sc_mold_iter_next(&ahead, &seq, &msg, &mlen); i++)
        if (mlen)
            prefetch_msg(f, msg, mlen);
    while (sc_mold_iter_next(&it, &seq, &msg, &mlen)) {
        const uint8_t *pm;
        uint16_t pl;
        if (PREFETCH_AHEAD && sc_mold_iter_next(&ahead, &seq, &pm, &pl) && pl)
            prefetch_msg(f, pm, pl);
        feed_one(f, msg, mlen);
        n++;
    }
    pin(f->cur);
    return n;
}

size_t
sc_itch_feed_file(struct sc_itch_feed *f, const void *buf, size_t len)
{
    const uint8_t *p = buf, *end = p + len, *a = p;

    /* a: the record PREFETCH_AHEAD records ahead of p (or the end of the whole ones) */
    for (int i = 0; i < PREFETCH_AHEAD && end - a >= 2; i++) {
        size_t l = (size_t)a[0] << 8 | a[1];
        if ((size_t)(end - a) < 2 + l)
            break;
        if (l)
            prefetch_msg(f, a + 2, l);
        a += 2 + l;
    }
    while (end - p >= 2) {
        size_t l = (size_t)p[0] << 8 | p[1];
        if ((size_t)(end - p) < 2 + l)
            break;
        if (PREFETCH_AHEAD && end - a >= 2) {
            size_t al = (size_t)a[0] << 8 | a[1];
            if ((size_t)(end - a) >= 2 + al) {
                if (al)
                    prefetch_msg(f, a + 2, al);
                a += 2 + al;
            }
        }
        feed_one(f, p + 2, l);
        p += 2 + l;
    }
    pin(f->cur);
    return (size_t)(p - (const uint8_t *)buf);
}

void
sc_itch_feed_truncated(struct sc_itch_feed *f, size_t bytes)
{
    f->st.truncated += bytes;
}

void
sc_itch_feed_loss(struct sc_itch_feed *f, uint64_t first, uint64_t last)
{
    f->st.loss_events++;
    if (last != UINT64_MAX && last >= first)
        f->st.lost_msgs += last - first + 1;
    sc_book_mark_all_stale(f->book);
}

const struct sc_itch_msg *
sc_itch_feed_current(const struct sc_itch_feed *f)
{
    struct current *c = f->cur;

    if (!c->valid) {
        if (!c->len || sc_itch_decode(c->src, c->len, &c->m) < 0)
            memset(&c->m, 0, sizeof(c->m));
        c->valid = true;
    }
    return &c->m;
}

struct sc_book *
sc_itch_feed_book(const struct sc_itch_feed *f)
{
    return f->book;
}

void
sc_itch_feed_get_stats(const struct sc_itch_feed *f, struct sc_itch_feed_stats *st)
{
    *st = f->st;
    st->msgs = 0;
#define COPY(c)                                                                            \
    st->msgs_##c = f->by_type[(uint8_t)#c[0]];                                             \
    st->msgs += st->msgs_##c;
    TYPES(COPY)
#undef COPY
}
