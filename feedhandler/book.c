/* The order-book engine (<seqcast/book.h>).
 *
 * The tables, all allocated at create:
 *
 *   ring        ref & rmask -> the latest order of that slot (32-byte slots,
 *               a power of two >= 2 x max_orders, 2^22 at most). ITCH numbers its
 *               orders in sequence and most operations touch recent orders, so
 *               adds walk the ring in address order and a lookup is one
 *               compare in a line the cache holds. An order still live when a
 *               later reference takes its slot moves to:
 *
 *   overflow    ref -> order, open addressing with Robin Hood probing and
 *   map         backward-shift deletion (no tombstones), 32-byte slots, a
 *               power-of-two capacity >= max_orders / 0.7 (load <= 0.7 even
 *               if every live order were there)
 *
 *                 slot: ref | priority | price | shares | book + 1 | side
 *                 book + 1 = 0: empty; along a probe sequence no entry is
 *                 nearer its home slot than the one looked for would be
 *                 there, so a lookup stops at the first entry that is
 *
 *               The home slot keeps runs of 8 consecutive references in
 *               consecutive slots and scatters the runs by a hash. A lookup
 *               reaches the map only for a reference within the bounds of
 *               what it held since it was last empty.
 *
 *   sides       per book and side, an array of price levels {key, orders,
 *               shares} sorted by key with the BEST LEVEL LAST (key = price
 *               for bids, ~price for asks), up to max_levels long:
 *
 *                 [ worst ... ... next-best | best ]   n entries
 *                                                  ^ BBO = a[n - 1]
 *
 *               An order keeps its price, not its level: an operation finds
 *               the level by scanning down from the top a few entries (then
 *               bisecting). Most operations are near the top of the book, so
 *               the level is in the cache line the BBO check reads anyway, and
 *               the memmove that opens or closes a level moves only the few
 *               levels above it. Depth-N reads the last N entries.
 *
 *               A side starts in its book's place in the books' fixed area
 *               (FIRST_CAP levels); one that outgrows it moves to a block
 *               twice as large from the level pool, and so on up to
 *               max_levels (a block it leaves goes to its size's free list,
 *               for the next side that grows to that size). Most books are
 *               shallow and a few deep: memory follows the levels held, not
 *               max_books x max_levels. Each block is a gap of zeroed levels
 *               (the sentinels below a[0]), the levels, and move_top's room;
 *               neighbouring books' sides are 15 cache lines apart, so their
 *               tops do not share cache sets.
 *               (docs/ARCHITECTURE.md, "The order-book engine", has the
 *               measurements behind these choices.)
 *
 * A book's best bid and offer as last reported are kept with it; after each
 * change to one side the top of that side is compared with them, and on_bbo
 * runs only when price or shares moved.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <seqcast/book.h>

#include "engine/bigmem.h"
#include "engine/compiler.h"

#define MAX_ORDERS_LIMIT (UINT32_C(1) << 28)
#define MAX_LEVELS_LIMIT (UINT32_C(1) << 20)
#define MAX_BOOKS_LIMIT 65535u
#define SCAN_TOP 12    /* levels scanned down from the best before bisecting */
#define RUN_BITS 3    /* references kept side by side in the order map: 2^3 */
#define RUN_MASK ((UINT64_C(1) << RUN_BITS) - 1)
#define RING_MAX (UINT64_C(1) << 22) /* ring slots at most (128 MiB) */
#define SIDE_GAP 16   /* levels before each side's array: SCAN_TOP sentinels, and a skew */
#define SIDE_TAIL SCAN_TOP /* levels after it: room for move_top's fixed-size moves */
#define FIRST_CAP 32u /* levels of a side in the books' fixed area */
#define CLASSES 16    /* level-pool block sizes: FIRST_CAP << 1 .. 15 levels (2^20 >= max_levels) */
#define LEVEL_POOL_DEFAULT (UINT32_C(1) << 21) /* level-pool slots (32 MiB) */
#define LEVEL_POOL_LIMIT (UINT32_C(1) << 30)

struct order {
    uint64_t ref;
    uint64_t prio;
    uint32_t price;
    uint32_t shares;
    uint16_t book1; /* index in books[] + 1; 0 = an empty slot */
    uint8_t side;
};

struct level {
    uint32_t key; /* price (bid), ~price (ask): ascending, best last */
    uint32_t orders;
    uint64_t shares;
};

struct side {
    struct level *a;
    uint32_t n;
    uint32_t last_price; /* top as last reported to on_bbo */
    uint64_t last_shares;
};

/* A book. What an operation touches is in its first two cache lines: the
 * sides and locate (line 0), the counters (line 1); the rest (names, state)
 * is read by queries and the rare messages that set it. */
struct bk {
    struct side side[2]; /* 48 bytes */
    uint32_t orders;     /* live orders (the stats' gauge) */
    uint16_t locate;
    bool stale;
    uint8_t cls;         /* each side's block: FIRST_CAP << class levels; side 0's in bits 0-3 */
    uint64_t adds;
    uint64_t executes, cancels, deletes, replaces, trades, bbo_updates, refused, stale_periods;
    struct sc_book_info info; /* symbol, state; its locate, stale and stats are filled on query */
} __attribute__((aligned(64)));

/* fill_info names every per-book counter: a new one goes into struct bk too */
_Static_assert(sizeof(struct sc_book_instr_stats) == 12 * sizeof(uint64_t),
               "a per-book counter was added: keep it in struct bk and fill_info");

struct sc_book {
    struct order *ring; /* ref & rmask -> the latest order of that slot */
    uint64_t rmask;
    uint64_t ovf_n;          /* orders in the overflow map */
    uint64_t ovf_lo, ovf_hi; /* bounds of the references it ever held since it was last empty */
    struct order *map; /* the overflow map */
    uint64_t mask;
    unsigned hshift; /* 64 - log2(capacity) + RUN_BITS: home()'s shift */
    uint32_t max_orders;
    uint32_t max_levels;
    uint32_t max_books;
    uint32_t nbooks;
    uint64_t prio;
    struct bk *books;
    struct level *levels; /* every side's first place (FIRST_CAP levels) */
    struct level *pool;   /* the level pool: blocks of the sides that outgrew it */
    uint64_t pool_slots, pool_top; /* its levels; those handed out so far */
    struct level *pool_free[CLASSES]; /* freed blocks by class, linked through a[0] */
    uint16_t *loc2book;   /* locate -> book index + 1, 0 = none */
    bool session_stale;
    struct sc_book_system sys;
    struct sc_book_stats st;
    struct sc_book_cfg cfg;
    size_t bytes;
};

/* ---------------------------------------------------------------- order map */

/* ref's home slot: runs of 2^RUN_BITS consecutive references keep consecutive
 * slots, each run placed by a Fibonacci hash of its number (a multiply, the
 * top bits). */
static inline uint64_t
home(const struct sc_book *b, uint64_t ref)
{
    return ((ref >> RUN_BITS) * UINT64_C(0x9E3779B97F4A7C15) >> b->hshift << RUN_BITS) |
           (ref & RUN_MASK);
}

/* How far the entry in slot i is from its home slot. Computed, not stored:
 * a stored distance would have to be wide enough for any cluster. */
static inline uint64_t
dist(const struct sc_book *b, const struct order *o, uint64_t i)
{
    return (i - home(b, o->ref)) & b->mask;
}

static inline struct order *
map_find(const struct sc_book *b, uint64_t ref)
{
    uint64_t i = home(b, ref);

    for (uint64_t d = 0;; d++, i = (i + 1) & b->mask) {
        struct order *o = &b->map[i];

        if (!o->book1)
            return NULL;
        if (o->ref == ref)
            return o;
        if (dist(b, o, i) < d)
            return NULL;
    }
}

/* Where ref would be placed: the first slot empty or nearer its home than
 * ref would be there. @return -EEXIST when ref is live; 0 and the slot and
 * distance in *at, *dist. */
static inline int
map_probe(const struct sc_book *b, uint64_t ref, uint64_t *at, uint64_t *dp)
{
    uint64_t i = home(b, ref), d = 0;

    for (;; d++, i = (i + 1) & b->mask) {
        const struct order *o = &b->map[i];

        if (!o->book1 || (o->ref != ref && dist(b, o, i) < d))
            break;
        if (o->ref == ref)
            return -EEXIST;
    }
    *at = i;
    *dp = d;
    return 0;
}

/* Place e at slot i, distance d (from map_probe, nothing changed since),
 * displacing entries nearer their home forward. */
static inline void
map_place(struct sc_book *b, uint64_t i, uint64_t d, struct order e)
{
    for (;; d++, i = (i + 1) & b->mask) {
        struct order *o = &b->map[i];
        uint64_t od;

        if (!o->book1) {
            *o = e;
            return;
        }
        od = dist(b, o, i);
        if (od < d) {
            struct order t = *o;

            *o = e;
            e = t;
            d = od;
        }
    }
}

/* Remove the entry at o: the entries after it that are not at home move one
 * slot back. */
static inline void
map_remove(struct sc_book *b, struct order *o)
{
    uint64_t i = (uint64_t)(o - b->map);

    for (;;) {
        uint64_t j = (i + 1) & b->mask;
        struct order *n = &b->map[j];

        if (!n->book1 || dist(b, n, j) == 0)
            break;
        b->map[i] = *n;
        i = j;
    }
    b->map[i].book1 = 0;
}

/* ------------------------------------------------------------------ orders:
 * the ring in front of the overflow map. A reference's ring slot is ref &
 * rmask. A new order takes its slot; the order there before it (one that
 * outlived rmask + 1 later references, or another reference of the same
 * slot) moves to the overflow map. A lookup reads the slot and, only when the
 * reference could be in the overflow map (within the bounds of what it held
 * since it was last empty), the map. ITCH numbers orders in sequence, so adds
 * walk the ring in address order and most operations find recent orders in
 * lines the cache holds. */

static inline bool
in_ring(const struct sc_book *b, const struct order *o)
{
    return o >= b->ring && o <= b->ring + b->rmask;
}

static inline struct order *
order_find(const struct sc_book *b, uint64_t ref)
{
    struct order *r = &b->ring[ref & b->rmask];

    if (likely(r->book1 && r->ref == ref))
        return r;
    if (b->ovf_n && ref >= b->ovf_lo && ref <= b->ovf_hi)
        return map_find(b, ref);
    return NULL;
}

/* The slot for a new order ref (not live: order_find said so), its fields
 * to be written by the caller, field by field: an order built on the stack
 * and copied would be read back as 16-byte words over narrower stores, which
 * the store buffer cannot forward (measured: a fifth of the add's time). */
static inline struct order *
order_slot(struct sc_book *b, uint64_t ref)
{
    struct order *r = &b->ring[ref & b->rmask];

    if (unlikely(r->book1)) {
        uint64_t at = 0, d = 0;

        (void)map_probe(b, r->ref, &at, &d); /* not there: it was in the ring */
        if (!b->ovf_n++) {
            b->ovf_lo = b->ovf_hi = r->ref;
        } else {
            b->ovf_lo = r->ref < b->ovf_lo ? r->ref : b->ovf_lo;
            b->ovf_hi = r->ref > b->ovf_hi ? r->ref : b->ovf_hi;
        }
        map_place(b, at, d, *r);
        b->st.orders_overflowed++;
    }
    return r;
}

static inline void
order_set(struct order *o, uint64_t ref, uint64_t prio, uint32_t price, uint32_t shares,
          uint16_t book1, uint8_t side)
{
    o->ref = ref;
    o->prio = prio;
    o->price = price;
    o->shares = shares;
    o->book1 = book1;
    o->side = side;
}

/* Remove o (from order_find). */
static inline void
order_remove(struct sc_book *b, struct order *o)
{
    if (likely(in_ring(b, o))) {
        o->book1 = 0;
        return;
    }
    map_remove(b, o);
    b->ovf_n--;
}

/* ----------------------------------------------------------------- levels */

static inline uint32_t
key_of(unsigned side, uint32_t price)
{
    return side ? ~price : price;
}

static inline uint32_t
price_of(unsigned side, uint32_t key)
{
    return side ? ~key : key;
}

/* The position of key in sd: *found, or where to insert it (the entries from
 * there up move one place). The top SCAN_TOP keys are compared without a
 * branch (SCAN_TOP entries of sentinels below a[0] hold key 0, which is never above
 * a key): the count above key is the distance from the top. Only a key below
 * them all is bisected for. */
static inline uint32_t
side_find(const struct side *sd, uint32_t key, bool *found)
{
    const struct level *top = sd->a + sd->n;
    uint32_t above = 0, lo;

#pragma GCC unroll 12
    for (int j = 1; j <= SCAN_TOP; j++)
        above += top[-j].key > key;
    if (likely(above < SCAN_TOP)) {
        lo = sd->n - above;
        /* a[-1] is a sentinel: read without a branch on lo */
        *found = (lo > 0) & ((sd->a + lo)[-1].key == key);
        return lo - *found;
    }
    /* below the scanned top: the first entry with key >= key in [0, n - SCAN_TOP),
     * bisected without a branch on the keys (a conditional move a step) */
    const struct level *base = sd->a;
    uint32_t len = sd->n - SCAN_TOP;

    for (uint32_t m = len; m > 1; m -= m / 2)
        base += (base[m / 2 - 1].key < key) * (m / 2); /* a multiply: gcc made the ?: a branch */
    lo = (uint32_t)(base - sd->a) + (len > 0 && base->key < key);
    *found = sd->a[lo].key == key;
    return lo;
}

/* The level of a live order: it holds the order, so it is there. */
static inline struct level *
level_of(struct bk *bk, const struct order *o)
{
    struct side *sd = &bk->side[o->side];
    bool found;

    return &sd->a[side_find(sd, key_of(o->side, o->price), &found)];
}

/* Move SCAN_TOP - 1 levels from src to dst, one apart, whatever of them is
 * past the side's top (SIDE_TAIL levels of room after each side): a fixed
 * size, so no branch on how many (glibc's memmove branches on the size, and
 * the levels above a change near the top vary from 0 to SCAN_TOP - 1). */
static inline void
move_top(struct level *dst, const struct level *src)
{
    struct level t[SCAN_TOP - 1];

    memcpy(t, src, sizeof(t));
    memcpy(dst, t, sizeof(t));
}

/* ------------------------------------------------------------ level pool */

/* Levels a block of class c takes: its gap, its levels, move_top's room. */
static inline uint64_t
block_slots(unsigned c)
{
    return ((uint64_t)FIRST_CAP << c) + SIDE_GAP + SIDE_TAIL;
}

static inline unsigned
side_cls(const struct bk *bk, unsigned s)
{
    return (bk->cls >> (4 * s)) & 15u;
}

/* Move side s of bk (full: FIRST_CAP << class levels) to a block twice the
 * size: a freed one of that class, else the pool's next. The gap of a block
 * is never written (its levels start at a[0], the free list's link too), so
 * its sentinels are the zeroes the pool was allocated with.
 * @return 0; -ENOSPC the pool is used up (counted) */
static int
side_grow(struct sc_book *b, struct bk *bk, unsigned s)
{
    struct side *sd = &bk->side[s];
    unsigned c = side_cls(bk, s), nc = c + 1;
    struct level *a;

    if ((a = b->pool_free[nc])) {
        memcpy(&b->pool_free[nc], a, sizeof(a));
    } else if (b->pool_top + block_slots(nc) <= b->pool_slots) {
        a = b->pool + b->pool_top + SIDE_GAP;
        b->pool_top += block_slots(nc);
        b->st.level_pool_taken = b->pool_top;
    } else {
        b->st.level_pool_full++;
        return -ENOSPC;
    }
    memcpy(a, sd->a, sd->n * sizeof(*a));
    if (c) { /* a pool block: to its free list (the fixed area's place stays the book's) */
        memcpy(sd->a, &b->pool_free[c], sizeof(sd->a));
        b->pool_free[c] = sd->a;
    }
    sd->a = a;
    bk->cls = (uint8_t)((bk->cls & ~(15u << (4 * s))) | nc << (4 * s));
    b->st.sides_grown++;
    return 0;
}

/* Close the level at lv of side s (its last order went). */
static inline void
level_close(struct sc_book *b, struct bk *bk, unsigned s, struct level *lv)
{
    struct side *sd = &bk->side[s];
    uint32_t pos = (uint32_t)(lv - sd->a);

    if (likely(sd->n - pos <= SCAN_TOP))
        move_top(lv, lv + 1);
    else
        memmove(lv, lv + 1, (sd->n - pos - 1) * sizeof(*lv));
    sd->n--;
    b->st.levels_live--;
}

/* The level of price on side, opened when new. @return it (valid until the
 * side next changes), NULL when the side holds max_levels already or the level
 * pool cannot hold it (counted). */
static inline struct level *
level_get(struct sc_book *b, struct bk *bk, unsigned side, uint32_t price)
{
    struct side *sd = &bk->side[side];
    uint32_t key = key_of(side, price);
    bool found;
    uint32_t pos = side_find(sd, key, &found);
    struct level *lv = &sd->a[pos];

    if (found)
        return lv;
    if (unlikely(sd->n == b->max_levels)) {
        b->st.levels_full++;
        return NULL;
    }
    if (unlikely(sd->n == FIRST_CAP << side_cls(bk, side))) {
        if (side_grow(b, bk, side) < 0)
            return NULL;
        lv = &sd->a[pos];
    }
    if (likely(sd->n - pos < SCAN_TOP))
        move_top(lv + 1, lv);
    else
        memmove(lv + 1, lv, (sd->n - pos) * sizeof(*lv));
    lv->key = key;
    lv->orders = 0;
    lv->shares = 0;
    if (++sd->n > b->st.levels_side_peak)
        b->st.levels_side_peak = sd->n;
    b->st.levels_live++;
    return lv;
}

/* ------------------------------------------------------------------ books */

static void
fill_bbo(const struct bk *bk, struct sc_book_bbo *out)
{
    memset(out, 0, sizeof(*out));
    out->locate = bk->locate;
    out->stale = bk->stale;
    if (bk->side[0].n) {
        const struct level *lv = &bk->side[0].a[bk->side[0].n - 1];

        out->bid_price = price_of(0, lv->key);
        out->bid_shares = lv->shares;
        out->bid_orders = lv->orders;
    }
    if (bk->side[1].n) {
        const struct level *lv = &bk->side[1].a[bk->side[1].n - 1];

        out->ask_price = price_of(1, lv->key);
        out->ask_shares = lv->shares;
        out->ask_orders = lv->orders;
    }
}

/* Take side's top into its last reported values. @return whether it moved. */
static inline bool
top_moved(struct side *sd, unsigned side)
{
    uint32_t price = 0;
    uint64_t shares = 0;

    if (sd->n) {
        const struct level *lv = &sd->a[sd->n - 1];

        price = price_of(side, lv->key);
        shares = lv->shares;
    }
    if (!((price ^ sd->last_price) | (shares ^ sd->last_shares))) /* one branch, not two */
        return false;
    sd->last_price = price;
    sd->last_shares = shares;
    return true;
}

static void
bbo_report(struct sc_book *b, struct bk *bk)
{
    b->st.bbo_updates++;
    bk->bbo_updates++;
    if (b->cfg.on_bbo) {
        struct sc_book_bbo q;

        fill_bbo(bk, &q);
        b->cfg.on_bbo(b->cfg.ctx, &q);
    }
}

/* After a change to one side of bk: on_bbo if its top moved. */
static inline void
bbo_check(struct sc_book *b, struct bk *bk, unsigned side)
{
    if (top_moved(&bk->side[side], side))
        bbo_report(b, bk);
}

/* After a change to both sides: one on_bbo if either top moved. */
static void
bbo_check2(struct sc_book *b, struct bk *bk)
{
    bool m0 = top_moved(&bk->side[0], 0), m1 = top_moved(&bk->side[1], 1);

    if (m0 || m1)
        bbo_report(b, bk);
}

static void
fill_info(const struct bk *bk, struct sc_book_info *out)
{
    *out = bk->info;
    out->locate = bk->locate;
    out->stale = bk->stale;
    out->stats = (struct sc_book_instr_stats){
        .adds = bk->adds, .executes = bk->executes, .cancels = bk->cancels,
        .deletes = bk->deletes, .replaces = bk->replaces, .trades = bk->trades,
        .bbo_updates = bk->bbo_updates, .refused = bk->refused,
        .stale_periods = bk->stale_periods, .orders = bk->orders,
        .bid_levels = bk->side[0].n, .ask_levels = bk->side[1].n,
    };
}

static void
state_changed(struct sc_book *b, const struct bk *bk, enum sc_book_change what)
{
    if (b->cfg.on_state) {
        struct sc_book_info info;

        fill_info(bk, &info);
        b->cfg.on_state(b->cfg.ctx, &info, what);
    }
}

static void
set_stale(struct sc_book *b, struct bk *bk, bool stale)
{
    if (bk->stale == stale)
        return;
    bk->stale = stale;
    if (stale) {
        b->st.stale_books++;
        bk->stale_periods++;
    } else {
        b->st.stale_books--;
    }
    state_changed(b, bk, SC_BOOK_CHG_STALE);
}

static inline struct bk *
book_find(const struct sc_book *b, uint16_t locate)
{
    uint16_t k = b->loc2book[locate];

    return k ? &b->books[k - 1] : NULL;
}

/* locate's book, created on first use. NULL past max_books (counted). */
static inline struct bk *
book_get(struct sc_book *b, uint16_t locate)
{
    uint16_t k = b->loc2book[locate];
    struct bk *bk;

    if (likely(k))
        return &b->books[k - 1];
    if (b->nbooks == b->max_books) {
        b->st.books_full++;
        return NULL;
    }
    bk = &b->books[b->nbooks++];
    b->loc2book[locate] = (uint16_t)b->nbooks;
    bk->locate = locate;
    b->st.books++;
    if (b->session_stale) {
        b->st.stale_marks++;
        set_stale(b, bk, true);
    }
    return bk;
}

/* A limit refused an order of bk: it no longer mirrors the feed. */
static void
refused(struct sc_book *b, struct bk *bk)
{
    bk->refused++;
    if (!bk->stale)
        b->st.stale_marks++;
    set_stale(b, bk, true);
}

/* ----------------------------------------------------------------- orders */

/* Take o out of its level and the map. */
static inline void
order_unlink(struct sc_book *b, struct bk *bk, struct order *o)
{
    struct level *lv = level_of(bk, o);

    lv->shares -= o->shares;
    if (--lv->orders == 0)
        level_close(b, bk, o->side, lv);
    order_remove(b, o);
    b->st.orders_live--;
    bk->orders--;
}

static inline int
order_add(struct sc_book *b, struct bk *bk, uint64_t ref, unsigned side, uint32_t shares,
          uint32_t price)
{
    struct level *lv;

    if (unlikely(b->st.orders_live >= b->max_orders)) {
        b->st.orders_full++;
        refused(b, bk);
        return -ENOSPC;
    }
    if (unlikely(order_find(b, ref) != NULL)) {
        b->st.dup_ref++;
        return -EEXIST;
    }
    lv = level_get(b, bk, side, price);
    if (unlikely(!lv)) { /* levels_full or level_pool_full */
        refused(b, bk);
        return -ENOSPC;
    }
    lv->shares += shares;
    lv->orders++;
    order_set(order_slot(b, ref), ref, ++b->prio, price, shares,
              (uint16_t)(bk - b->books + 1), (uint8_t)side);
    if (++b->st.orders_live > b->st.orders_peak)
        b->st.orders_peak = b->st.orders_live;
    bk->orders++;
    bbo_check(b, bk, side);
    return 0;
}

int
sc_book_add(struct sc_book *b, uint16_t locate, uint64_t ref, enum sc_book_side side,
            uint32_t shares, uint32_t price)
{
    struct bk *bk;
    int rc;

    if (unlikely((unsigned)side > SC_BOOK_ASK)) {
        b->st.bad_side++;
        return -EINVAL;
    }
    if (unlikely(!shares)) {
        b->st.zero_shares++;
        return -EINVAL;
    }
    bk = book_get(b, locate);
    if (unlikely(!bk))
        return -ENOSPC;
    rc = order_add(b, bk, ref, (unsigned)side, shares, price);
    if (likely(rc == 0)) {
        b->st.adds++;
        bk->adds++;
    }
    return rc;
}

enum reduce_kind { R_EXEC, R_EXEC_PRICE, R_CANCEL };

static inline int
reduce(struct sc_book *b, uint64_t ref, uint32_t shares, enum reduce_kind kind,
       uint32_t price, uint64_t match, bool printable)
{
    struct order *o = order_find(b, ref);
    struct bk *bk;
    unsigned side;

    if (unlikely(!o)) {
        if (kind == R_CANCEL)
            b->st.unknown_cancel++;
        else
            b->st.unknown_execute++;
        return -ENOENT;
    }
    bk = &b->books[o->book1 - 1];
    side = o->side;
    if (unlikely(shares > o->shares)) {
        shares = o->shares;
        if (kind == R_CANCEL)
            b->st.cancel_clamped++;
        else
            b->st.exec_clamped++;
    }
    if (kind == R_CANCEL) {
        b->st.cancels++;
        bk->cancels++;
    } else {
        b->st.executes++;
        bk->executes++;
        if (kind == R_EXEC_PRICE)
            b->st.executes_price++;
        if (b->cfg.on_trade) {
            struct sc_book_trade t = {
                .ref = ref, .match = match, .shares = shares,
                .price = kind == R_EXEC_PRICE ? price : o->price, .locate = bk->locate,
                .kind = kind == R_EXEC_PRICE ? 'C' : 'E', .side = side ? 'S' : 'B',
                .printable = kind == R_EXEC_PRICE ? printable : true,
            };

            b->cfg.on_trade(b->cfg.ctx, &t);
        }
    }
    if (shares == o->shares) {
        order_unlink(b, bk, o);
    } else {
        o->shares -= shares;
        level_of(bk, o)->shares -= shares;
    }
    bbo_check(b, bk, side);
    return 0;
}

int
sc_book_execute(struct sc_book *b, uint64_t ref, uint32_t shares, uint64_t match)
{
    return reduce(b, ref, shares, R_EXEC, 0, match, true);
}

int
sc_book_execute_price(struct sc_book *b, uint64_t ref, uint32_t shares, uint32_t price,
                      uint64_t match, bool printable)
{
    return reduce(b, ref, shares, R_EXEC_PRICE, price, match, printable);
}

int
sc_book_cancel(struct sc_book *b, uint64_t ref, uint32_t shares)
{
    return reduce(b, ref, shares, R_CANCEL, 0, 0, false);
}

int
sc_book_delete(struct sc_book *b, uint64_t ref)
{
    struct order *o = order_find(b, ref);
    struct bk *bk;
    unsigned side;

    if (unlikely(!o)) {
        b->st.unknown_delete++;
        return -ENOENT;
    }
    bk = &b->books[o->book1 - 1];
    side = o->side;
    b->st.deletes++;
    bk->deletes++;
    order_unlink(b, bk, o);
    bbo_check(b, bk, side);
    return 0;
}

int
sc_book_replace(struct sc_book *b, uint64_t ref, uint64_t new_ref, uint32_t shares,
                uint32_t price)
{
    struct order *o = order_find(b, ref), old;
    struct bk *bk;
    int rc;

    if (unlikely(!o)) {
        b->st.unknown_replace++;
        return -ENOENT;
    }
    bk = &b->books[o->book1 - 1];
    old = *o;
    b->st.replaces++;
    bk->replaces++;
    if (unlikely(!shares || (new_ref != ref && order_find(b, new_ref) != NULL))) {
        order_unlink(b, bk, o);
        if (!shares) {
            b->st.zero_shares++;
            rc = -EINVAL;
        } else {
            b->st.dup_ref++;
            rc = -EEXIST;
        }
        bbo_check(b, bk, old.side);
        return rc;
    }
    if (price == old.price) {
        /* the same level: no level closed and reopened */
        struct level *lv = level_of(bk, &old);

        lv->shares = lv->shares - old.shares + shares;
        order_remove(b, o);
        order_set(order_slot(b, new_ref), new_ref, ++b->prio, old.price, shares, old.book1,
                  old.side);
        bbo_check(b, bk, old.side);
        return 0;
    }
    order_unlink(b, bk, o);
    rc = order_add(b, bk, new_ref, old.side, shares, price);
    if (rc < 0)
        bbo_check(b, bk, old.side);
    return rc;
}

void
sc_book_prefetch(const struct sc_book *b, uint64_t ref)
{
    /* its ring slot (an order in the overflow map, rare, is not prefetched) */
    __builtin_prefetch(&b->ring[ref & b->rmask]);
}

void
sc_book_prefetch_book(const struct sc_book *b, uint16_t locate)
{
    const struct bk *bk = book_find(b, locate);

    if (bk) {
        for (unsigned s = 0; s < 2; s++) {
            const struct side *sd = &bk->side[s];

            __builtin_prefetch(sd->a + sd->n - 1);
        }
    }
}

void
sc_book_trade(struct sc_book *b, const struct sc_book_trade *t)
{
    struct bk *bk = t->locate ? book_find(b, t->locate) : NULL;

    b->st.trades++;
    if (bk)
        bk->trades++;
    if (b->cfg.on_trade)
        b->cfg.on_trade(b->cfg.ctx, t);
}

/* ------------------------------------------------------------------ state */

static void
copy_trim(char *dst, const char *src, size_t n)
{
    memcpy(dst, src, n);
    dst[n] = 0;
    while (n && dst[n - 1] == ' ')
        dst[--n] = 0;
}

int
sc_book_instrument(struct sc_book *b, uint16_t locate, const char symbol[8])
{
    struct bk *bk = book_get(b, locate);
    char sym[9];

    if (!bk)
        return -ENOSPC;
    copy_trim(sym, symbol, 8);
    if (strcmp(sym, bk->info.symbol) != 0) {
        memcpy(bk->info.symbol, sym, sizeof(sym));
        state_changed(b, bk, SC_BOOK_CHG_SYMBOL);
    }
    return 0;
}

int
sc_book_locate_of(const struct sc_book *b, const char symbol[8])
{
    char sym[9];

    copy_trim(sym, symbol, 8);
    for (uint32_t i = 0; i < b->nbooks; i++)
        if (sym[0] && strcmp(b->books[i].info.symbol, sym) == 0)
            return b->books[i].locate;
    return -ENOENT;
}

int
sc_book_trading_state(struct sc_book *b, uint16_t locate, char state, const char reason[4])
{
    struct bk *bk = book_get(b, locate);
    char r[5] = "";

    b->st.state_changes++;
    if (!bk)
        return -ENOSPC;
    if (reason)
        copy_trim(r, reason, 4);
    if (bk->info.trading_state != state || strcmp(bk->info.reason, r) != 0) {
        bk->info.trading_state = state;
        memcpy(bk->info.reason, r, sizeof(r));
        state_changed(b, bk, SC_BOOK_CHG_TRADING);
    }
    return 0;
}

int
sc_book_reg_sho(struct sc_book *b, uint16_t locate, char action)
{
    struct bk *bk = book_get(b, locate);

    b->st.reg_sho++;
    if (!bk)
        return -ENOSPC;
    if (bk->info.reg_sho != action) {
        bk->info.reg_sho = action;
        state_changed(b, bk, SC_BOOK_CHG_REG_SHO);
    }
    return 0;
}

void
sc_book_system_event(struct sc_book *b, char code)
{
    struct sc_book_system *s = &b->sys;

    b->st.system_events++;
    s->last_event = code;
    switch (code) {
    case 'O': s->messages = true; break;
    case 'S': s->system_hours = true; break;
    case 'Q': s->market_hours = true; break;
    case 'M': s->market_hours = false; break;
    case 'E': s->system_hours = false; s->market_hours = false; break;
    case 'C': s->messages = false; s->system_hours = false; s->market_hours = false; break;
    default: break;
    }
    if (b->cfg.on_system)
        b->cfg.on_system(b->cfg.ctx, s);
}

void
sc_book_system(const struct sc_book *b, struct sc_book_system *out)
{
    *out = b->sys;
}

/* ------------------------------------------------------------- staleness */

int
sc_book_mark_stale(struct sc_book *b, uint16_t locate)
{
    struct bk *bk = book_find(b, locate);

    if (!bk)
        return -ENOENT;
    if (!bk->stale)
        b->st.stale_marks++;
    set_stale(b, bk, true);
    return 0;
}

void
sc_book_mark_all_stale(struct sc_book *b)
{
    b->st.session_stale++;
    b->session_stale = true;
    for (uint32_t i = 0; i < b->nbooks; i++) {
        if (!b->books[i].stale)
            b->st.stale_marks++;
        set_stale(b, &b->books[i], true);
    }
}

int
sc_book_rebuilt(struct sc_book *b, uint16_t locate)
{
    struct bk *bk = book_find(b, locate);

    if (!bk)
        return -ENOENT;
    if (bk->stale)
        b->st.rebuilt++;
    set_stale(b, bk, false);
    return 0;
}

void
sc_book_rebuilt_all(struct sc_book *b)
{
    b->session_stale = false;
    for (uint32_t i = 0; i < b->nbooks; i++) {
        if (b->books[i].stale)
            b->st.rebuilt++;
        set_stale(b, &b->books[i], false);
    }
}

/* Every level of bk back to the pool, both sides empty. */
static void
book_empty(struct sc_book *b, struct bk *bk)
{
    for (unsigned s = 0; s < 2; s++) {
        struct side *sd = &bk->side[s];

        b->st.levels_live -= sd->n;
        sd->n = 0;
    }
    b->st.orders_live -= bk->orders;
    b->st.cleared_orders += bk->orders;
    bk->orders = 0;
    bbo_check2(b, bk);
}

int
sc_book_clear(struct sc_book *b, uint16_t locate)
{
    struct bk *bk = book_find(b, locate);
    uint16_t k;
    uint64_t n = 0;

    if (!bk)
        return -ENOENT;
    k = (uint16_t)(bk - b->books);
    for (uint64_t i = 0; i <= b->rmask && n < bk->orders; i++) {
        if (b->ring[i].book1 == k + 1) {
            b->ring[i].book1 = 0;
            n++;
        }
    }
    /* map_remove shifts later entries back into slot i: look at it again.
     * Entries only move back from slots already looked at, or into them from
     * slot 0 at the wrap (looked at first), so none is missed. */
    for (uint64_t i = 0; i <= b->mask && n < bk->orders;) {
        struct order *o = &b->map[i];

        if (o->book1 == k + 1) {
            order_remove(b, o);
            n++;
        } else {
            i++;
        }
    }
    book_empty(b, bk);
    return (int)n;
}

void
sc_book_clear_all(struct sc_book *b)
{
    memset(b->ring, 0, (b->rmask + 1) * sizeof(b->ring[0]));
    memset(b->map, 0, (b->mask + 1) * sizeof(b->map[0]));
    b->ovf_n = 0;
    for (uint32_t i = 0; i < b->nbooks; i++)
        book_empty(b, &b->books[i]);
}

/* ---------------------------------------------------------------- queries */

int
sc_book_bbo(const struct sc_book *b, uint16_t locate, struct sc_book_bbo *out)
{
    const struct bk *bk = book_find(b, locate);

    if (!bk)
        return -ENOENT;
    fill_bbo(bk, out);
    return 0;
}

int
sc_book_depth(const struct sc_book *b, uint16_t locate, enum sc_book_side side,
              struct sc_book_level *out, size_t n)
{
    const struct bk *bk = book_find(b, locate);
    const struct side *sd;
    size_t k;

    if (!bk || (unsigned)side > SC_BOOK_ASK)
        return -ENOENT;
    sd = &bk->side[side];
    for (k = 0; k < n && k < sd->n; k++) {
        const struct level *lv = &sd->a[sd->n - 1 - k];

        out[k].price = price_of(side, lv->key);
        out[k].orders = lv->orders;
        out[k].shares = lv->shares;
    }
    return (int)k;
}

int
sc_book_info(const struct sc_book *b, uint16_t locate, struct sc_book_info *out)
{
    const struct bk *bk = book_find(b, locate);

    if (!bk)
        return -ENOENT;
    fill_info(bk, out);
    return 0;
}

int
sc_book_order(const struct sc_book *b, uint64_t ref, struct sc_book_order *out)
{
    const struct order *o = order_find(b, ref);

    if (!o)
        return -ENOENT;
    out->ref = o->ref;
    out->priority = o->prio;
    out->price = o->price;
    out->shares = o->shares;
    out->locate = b->books[o->book1 - 1].locate;
    out->side = o->side ? SC_BOOK_ASK : SC_BOOK_BID;
    return 0;
}

size_t
sc_book_books(const struct sc_book *b, uint16_t *locates, size_t n)
{
    for (size_t i = 0; i < n && i < b->nbooks; i++)
        locates[i] = b->books[i].locate;
    return b->nbooks;
}

void
sc_book_get_stats(const struct sc_book *b, struct sc_book_stats *st)
{
    *st = b->st;
}

size_t
sc_book_memory(const struct sc_book *b)
{
    return b->bytes;
}

/* ---------------------------------------------------------------- set-up */

static int
fail(struct sc_err *err, int code, const char *what, uint64_t v, uint64_t max)
{
    if (err) {
        err->code = code;
        snprintf(err->msg, sizeof(err->msg), "book: %s %llu out of range (1 .. %llu)", what,
                 (unsigned long long)v, (unsigned long long)max);
    }
    return code;
}

int
sc_book_create(struct sc_book **bp, const struct sc_book_cfg *cfg, struct sc_err *err)
{
    struct sc_book *b;
    uint64_t cap, rcap;
    size_t map_bytes, ring_bytes, side_bytes, per_book, pool_bytes;

    *bp = NULL;
    if (!cfg->max_orders || cfg->max_orders > MAX_ORDERS_LIMIT)
        return fail(err, -EINVAL, "max_orders", cfg->max_orders, MAX_ORDERS_LIMIT);
    if (!cfg->max_books || cfg->max_books > MAX_BOOKS_LIMIT)
        return fail(err, -EINVAL, "max_books", cfg->max_books, MAX_BOOKS_LIMIT);
    if (!cfg->max_levels || cfg->max_levels > MAX_LEVELS_LIMIT)
        return fail(err, -EINVAL, "max_levels", cfg->max_levels, MAX_LEVELS_LIMIT);
    if (cfg->level_pool > LEVEL_POOL_LIMIT)
        return fail(err, -EINVAL, "level_pool", cfg->level_pool, LEVEL_POOL_LIMIT);
    b = calloc(1, sizeof(*b));
    if (!b)
        goto nomem;
    b->cfg = *cfg;
    b->max_orders = cfg->max_orders;
    b->max_books = cfg->max_books;
    b->max_levels = cfg->max_levels;
    /* load <= 0.7 at max_orders */
    cap = sc_pow2_roundup((uint64_t)cfg->max_orders * 10 / 7 + 1);
    if (cap < 16)
        cap = 16;
    b->mask = cap - 1;
    b->hshift = 64 - (unsigned)__builtin_ctzll(cap) + RUN_BITS;
    map_bytes = cap * sizeof(struct order);
    /* the ring: two slots an order up to max_orders (an order outlives the ring
     * only past twice max_orders later references), RING_MAX at most */
    rcap = sc_pow2_roundup((uint64_t)cfg->max_orders * 2);
    if (rcap > RING_MAX)
        rcap = RING_MAX;
    b->rmask = rcap - 1;
    ring_bytes = rcap * sizeof(struct order);
    /* a book's first place: a gap, its bids, room, a gap, its asks, room; the
     * gaps (zeroed: the sentinels) */
    per_book = 2 * block_slots(0);
    side_bytes = (size_t)cfg->max_books * per_book * sizeof(struct level);
    b->pool_slots = cfg->level_pool ? cfg->level_pool : LEVEL_POOL_DEFAULT;
    pool_bytes = b->pool_slots * sizeof(struct level);
    b->map = sc_mem_big_alloc(map_bytes);
    b->ring = sc_mem_big_alloc(ring_bytes);
    b->levels = sc_mem_big_alloc(side_bytes);
    b->pool = sc_mem_big_alloc(pool_bytes);
    b->books = aligned_alloc(64, cfg->max_books * sizeof(struct bk));
    if (b->books)
        memset(b->books, 0, cfg->max_books * sizeof(struct bk));
    b->loc2book = calloc(65536, sizeof(uint16_t));
    if (!b->map || !b->ring || !b->levels || !b->pool || !b->books || !b->loc2book)
        goto nomem;
    b->bytes = sizeof(*b) + ring_bytes + map_bytes + side_bytes + pool_bytes +
               cfg->max_books * sizeof(struct bk) + 65536 * sizeof(uint16_t);
    for (uint32_t i = 0; i < cfg->max_books; i++) {
        b->books[i].side[0].a = b->levels + (size_t)i * per_book + SIDE_GAP;
        b->books[i].side[1].a = b->levels + (size_t)i * per_book + per_book / 2 + SIDE_GAP;
        /* side[0]'s tail ends where side[1]'s gap begins */
    }
    *bp = b;
    return 0;
nomem:
    sc_book_destroy(b);
    if (err) {
        err->code = -ENOMEM;
        snprintf(err->msg, sizeof(err->msg),
                 "book: cannot allocate the tables for %u orders, %u books and a level pool "
                 "of %llu levels", cfg->max_orders, cfg->max_books,
                 (unsigned long long)(cfg->level_pool ? cfg->level_pool : LEVEL_POOL_DEFAULT));
    }
    return -ENOMEM;
}

void
sc_book_destroy(struct sc_book *b)
{
    if (!b)
        return;
    free(b->map);
    free(b->ring);
    free(b->levels);
    free(b->pool);
    free(b->books);
    free(b->loc2book);
    free(b);
}
