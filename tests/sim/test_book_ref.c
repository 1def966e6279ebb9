/* The order-book engine against an independent reference book, on a long
 * random stream (1,000,000 operations; BOOK_REF_OPS=N for another length):
 * adds, executions (E and C, some for more than the order holds), partial
 * cancels, deletes, replaces (same price and new), operations on unknown
 * references, duplicate references and trades, on 8 instruments around prices
 * that wander, with a session gap and a rebuild from the reference's orders
 * every 50,000 operations.
 *
 * The reference is written here from the ITCH semantics alone: orders in a
 * plain array sorted by reference (bsearch), levels in plain arrays sorted
 * best first (linear search), no hashing, no caching.
 *
 * After EVERY operation: each instrument's BBO and depth-10 on both sides
 * equal the reference's; BBO equals the best levels of the engine's own
 * depth; the last on_bbo of every book equals its BBO (and none repeated an
 * unchanged one); the order touched is in the engine exactly as in the
 * reference (or gone), never with 0 shares; an execution's trade never
 * exceeds what its order held. Every 10,000 operations and at the end, the
 * whole engine: every reference order in it, the live count equal, and every
 * level's total equal to the sum of the engine's own orders at it. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <seqcast/book.h>

#include "tests/support/testutil.h"

#define NLOC 8
#define DEPTH 10
#define TICK 100
#define SWEEP_EVERY 10000
#define GAP_EVERY 50000

static const uint16_t locs[NLOC] = { 1, 2, 3, 100, 200, 1000, 65535, 7 };

/* ------------------------------------------------------------ reference */

struct rord {
    uint64_t ref;
    uint32_t price;
    uint32_t shares;
    int li; /* index in locs[] */
    int side;
};

struct rlvl {
    uint32_t price;
    uint32_t orders;
    uint64_t shares;
};

static struct {
    struct rord *o;
    size_t n, cap;
    struct rlvl *lv[NLOC][2];
    size_t nlv[NLOC][2];
    bool exists[NLOC];
} R;

static bool
better(int side, uint32_t a, uint32_t b)
{
    return side == 0 ? a > b : a < b;
}

static size_t
r_find(uint64_t ref, bool *found)
{
    size_t lo = 0, hi = R.n;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;

        if (R.o[mid].ref < ref)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < R.n && R.o[lo].ref == ref;
    return lo;
}

static void
r_level(int li, int side, uint32_t price, int64_t dshares, int dorders)
{
    struct rlvl *l = R.lv[li][side];
    size_t n = R.nlv[li][side], i = 0;

    while (i < n && better(side, l[i].price, price))
        i++;
    if (i == n || l[i].price != price) {
        cr_assert_gt(dorders, 0, "reference: no level %u to take from", price);
        memmove(&l[i + 1], &l[i], (n - i) * sizeof(*l));
        l[i] = (struct rlvl){ .price = price };
        R.nlv[li][side] = ++n;
    }
    l[i].shares = (uint64_t)((int64_t)l[i].shares + dshares);
    l[i].orders = (uint32_t)((int)l[i].orders + dorders);
    if (!l[i].orders) {
        cr_assert_eq(l[i].shares, 0);
        memmove(&l[i], &l[i + 1], (n - i - 1) * sizeof(*l));
        R.nlv[li][side] = n - 1;
    }
}

static void
r_add(uint64_t ref, int li, int side, uint32_t shares, uint32_t price)
{
    bool found;
    size_t i = r_find(ref, &found);

    cr_assert(!found);
    if (R.n == R.cap) {
        R.cap = R.cap ? R.cap * 2 : 4096;
        R.o = realloc(R.o, R.cap * sizeof(*R.o));
    }
    memmove(&R.o[i + 1], &R.o[i], (R.n - i) * sizeof(*R.o));
    R.o[i] = (struct rord){ ref, price, shares, li, side };
    R.n++;
    r_level(li, side, price, shares, 1);
    R.exists[li] = true;
}

/* take shares off order i; remove it at 0 */
static void
r_reduce(size_t i, uint32_t shares)
{
    struct rord *o = &R.o[i];

    if (shares >= o->shares) {
        r_level(o->li, o->side, o->price, -(int64_t)o->shares, -1);
        memmove(&R.o[i], &R.o[i + 1], (R.n - i - 1) * sizeof(*R.o));
        R.n--;
    } else {
        o->shares -= shares;
        r_level(o->li, o->side, o->price, -(int64_t)shares, 0);
    }
}

/* ---------------------------------------------------------- the engine side */

static struct sc_book_bbo cb_bbo[NLOC];
static bool cb_seen[NLOC];
static struct sc_book_trade cb_trade;
static int cb_trades;

static int
li_of(uint16_t loc)
{
    for (int i = 0; i < NLOC; i++)
        if (locs[i] == loc)
            return i;
    cr_assert_fail("a callback for locate %u, not one of ours", loc);
    return -1;
}

static void
on_bbo(void *ctx, const struct sc_book_bbo *q)
{
    int li = li_of(q->locate);

    (void)ctx;
    if (cb_seen[li])
        cr_assert(q->bid_price != cb_bbo[li].bid_price || q->bid_shares != cb_bbo[li].bid_shares ||
                      q->ask_price != cb_bbo[li].ask_price ||
                      q->ask_shares != cb_bbo[li].ask_shares,
                  "on_bbo repeated an unchanged BBO of %u", q->locate);
    cb_bbo[li] = *q;
    cb_seen[li] = true;
}

static void
on_trade(void *ctx, const struct sc_book_trade *t)
{
    (void)ctx;
    cb_trade = *t;
    cb_trades++;
}

static uint64_t op_no;

static void
check_book(const struct sc_book *b, int li)
{
    struct sc_book_bbo q;
    struct sc_book_level lv[DEPTH];
    int rc = sc_book_bbo(b, locs[li], &q);

    if (!R.exists[li]) {
        cr_assert_eq(rc, -ENOENT, "op %llu: book %u exists early", (unsigned long long)op_no,
                     locs[li]);
        return;
    }
    cr_assert_eq(rc, 0, "op %llu: no book %u", (unsigned long long)op_no, locs[li]);
    for (int side = 0; side < 2; side++) {
        int n = sc_book_depth(b, locs[li], side, lv, DEPTH);
        size_t rn = R.nlv[li][side] < DEPTH ? R.nlv[li][side] : DEPTH;
        uint32_t px = side ? q.ask_price : q.bid_price, ord = side ? q.ask_orders : q.bid_orders;
        uint64_t sh = side ? q.ask_shares : q.bid_shares;

        cr_assert_eq((size_t)n, rn, "op %llu: book %u side %d: %d levels, reference %zu",
                     (unsigned long long)op_no, locs[li], side, n, rn);
        for (int i = 0; i < n; i++) {
            const struct rlvl *r = &R.lv[li][side][i];

            cr_assert(lv[i].price == r->price && lv[i].shares == r->shares &&
                          lv[i].orders == r->orders,
                      "op %llu: book %u side %d level %d: engine %u x %llu (%u), reference "
                      "%u x %llu (%u)",
                      (unsigned long long)op_no, locs[li], side, i, lv[i].price,
                      (unsigned long long)lv[i].shares, lv[i].orders, r->price,
                      (unsigned long long)r->shares, r->orders);
            cr_assert_gt(lv[i].shares, 0);
        }
        /* the BBO is the best level */
        cr_assert(n ? px == lv[0].price && sh == lv[0].shares && ord == lv[0].orders
                    : px == 0 && sh == 0 && ord == 0,
                  "op %llu: book %u side %d: BBO is not the best level", (unsigned long long)op_no,
                  locs[li], side);
    }
    /* on_bbo told the present BBO */
    if (cb_seen[li] || q.bid_orders || q.ask_orders)
        cr_assert(cb_bbo[li].bid_price == q.bid_price && cb_bbo[li].bid_shares == q.bid_shares &&
                      cb_bbo[li].ask_price == q.ask_price && cb_bbo[li].ask_shares == q.ask_shares,
                  "op %llu: book %u: the last on_bbo is not the BBO", (unsigned long long)op_no,
                  locs[li]);
}

/* the engine holds order ref exactly as the reference does (or not at all) */
static void
check_order(const struct sc_book *b, uint64_t ref)
{
    struct sc_book_order o;
    bool found;
    size_t i = r_find(ref, &found);
    int rc = sc_book_order(b, ref, &o);

    if (!found) {
        cr_assert_eq(rc, -ENOENT, "op %llu: ref %llu should be gone", (unsigned long long)op_no,
                     (unsigned long long)ref);
        return;
    }
    cr_assert_eq(rc, 0, "op %llu: ref %llu missing", (unsigned long long)op_no,
                 (unsigned long long)ref);
    cr_assert(o.shares > 0, "a 0-share order kept");
    cr_assert(o.price == R.o[i].price && o.shares == R.o[i].shares &&
                  o.locate == locs[R.o[i].li] && (int)o.side == R.o[i].side,
              "op %llu: ref %llu differs", (unsigned long long)op_no, (unsigned long long)ref);
}

/* every level total is the sum of the engine's own orders at it */
static void
sweep(const struct sc_book *b)
{
    static struct sc_book_level lv[4096];
    struct sc_book_stats st;
    struct sc_book_order o;

    sc_book_get_stats(b, &st);
    cr_assert_eq(st.orders_live, R.n, "op %llu: %llu live, reference %zu",
                 (unsigned long long)op_no, (unsigned long long)st.orders_live, R.n);
    for (int li = 0; li < NLOC; li++) {
        if (!R.exists[li])
            continue;
        for (int side = 0; side < 2; side++) {
            int n = sc_book_depth(b, locs[li], side, lv, 4096);
            uint64_t *sum = calloc((size_t)n + 1, sizeof(uint64_t));
            uint32_t *cnt = calloc((size_t)n + 1, sizeof(uint32_t));

            cr_assert_lt(n, 4096);
            cr_assert_eq((size_t)n, R.nlv[li][side]);
            for (size_t i = 0; i < R.n; i++) {
                int k;

                if (R.o[i].li != li || R.o[i].side != side)
                    continue;
                cr_assert_eq(sc_book_order(b, R.o[i].ref, &o), 0);
                cr_assert_gt(o.shares, 0);
                for (k = 0; k < n && lv[k].price != o.price; k++)
                    ;
                cr_assert_lt(k, n, "an order at %u, no level there", o.price);
                sum[k] += o.shares;
                cnt[k]++;
            }
            for (int k = 0; k < n; k++) {
                cr_assert(lv[k].shares == sum[k] && lv[k].orders == cnt[k],
                          "op %llu: book %u side %d level %u: total %llu (%u) but its orders "
                          "sum to %llu (%u)",
                          (unsigned long long)op_no, locs[li], side, lv[k].price,
                          (unsigned long long)lv[k].shares, lv[k].orders,
                          (unsigned long long)sum[k], cnt[k]);
                cr_assert(k == 0 || better(side, lv[k - 1].price, lv[k].price));
            }
            free(sum);
            free(cnt);
        }
    }
}

/* ---------------------------------------------------------------- stream */

static uint64_t rs = 0x5eed;
static uint32_t mid[NLOC];

static uint64_t
rnd(uint64_t n)
{
    return tu_rand(&rs) % n;
}

/* a price near the book's side of mid: mostly within a few ticks, now and
 * then far away */
static uint32_t
price_near(int li, int side)
{
    uint64_t k = (uint64_t)__builtin_ctzll(tu_rand(&rs) | (UINT64_C(1) << 40)) + rnd(4);

    if (rnd(50) == 0)
        k = rnd(400);
    return side == 0 ? mid[li] - (uint32_t)(1 + k) * TICK : mid[li] + (uint32_t)(1 + k) * TICK;
}

/* the reference's best price of a side, 0 when empty */
static uint32_t
r_best(int li, int side)
{
    return R.nlv[li][side] ? R.lv[li][side][0].price : 0;
}

/* an order at the top of a random book side, or any order */
static size_t
pick_order(void)
{
    int li = (int)rnd(NLOC), side = (int)rnd(2);
    uint32_t best = r_best(li, side);

    if (best && rnd(2))
        for (size_t i = 0; i < R.n; i++)
            if (R.o[i].li == li && R.o[i].side == side && R.o[i].price == best)
                return i;
    return rnd(R.n);
}

static uint32_t
shares_any(void)
{
    return rnd(4) ? (uint32_t)(1 + rnd(10)) * 100 : (uint32_t)(1 + rnd(2000));
}

static uint64_t
ops_wanted(void)
{
    const char *e = getenv("BOOK_REF_OPS");

    return e ? strtoull(e, NULL, 10) : 1000000;
}

Test(book_ref, engine_agrees_with_the_reference_after_every_operation, .timeout = 600)
{
    /* 8,192 orders (the stream's peak is ~4,000): a ring of 16,384 slots, which
     * the longer-lived orders outlive, so the overflow map is exercised */
    struct sc_book_cfg cfg = { .max_orders = 1 << 13, .max_books = NLOC, .max_levels = 4096,
                               .on_bbo = on_bbo, .on_trade = on_trade };
    struct sc_book *b;
    struct sc_err err;
    uint64_t next_ref = 1000, n_ops = ops_wanted();
    uint64_t done[8] = { 0 };
    struct sc_book_stats st;

    cr_assert_eq(sc_book_create(&b, &cfg, &err), 0, "%s", err.msg);
    for (int li = 0; li < NLOC; li++) {
        mid[li] = (uint32_t)(100000 + rnd(5000000)) / TICK * TICK;
        R.lv[li][0] = calloc(8192, sizeof(struct rlvl));
        R.lv[li][1] = calloc(8192, sizeof(struct rlvl));
    }
    sc_book_instrument(b, locs[0], "AAPL    ");
    sc_book_instrument(b, locs[3], "MSFT    ");
    R.exists[0] = R.exists[3] = true; /* named by a directory entry: empty books */

    for (op_no = 1; op_no <= n_ops; op_no++) {
        uint64_t dice = rnd(1000), touched = 0, touched2 = 0;
        int li = (int)rnd(NLOC);
        /* about 4,000 orders live: above, an add becomes a delete */
        const uint64_t add_share = 380;

        if (rnd(20) == 0) {
            int step = (int)rnd(3) - 1;

            mid[li] = (uint32_t)((int)mid[li] + step * TICK);
        }
        if (dice < add_share && R.n > 4000)
            dice = 800;
        if (dice < add_share || R.n == 0) {
            int side = (int)rnd(2);
            uint32_t px = price_near(li, side), sh = shares_any(), best = r_best(li, side);

            if (best && rnd(3) == 0) /* join the best, or improve on it by a tick */
                px = best + (uint32_t)rnd(2) * (side ? -TICK : TICK);
            uint64_t ref = next_ref++;

            int rc = sc_book_add(b, locs[li], ref, side, sh, px);

            if (rc) {
                struct sc_book_stats e;

                sc_book_get_stats(b, &e);
                cr_assert_fail("op %llu: add refused (%d): %llu live, %llu levels, "
                               "orders_full %llu levels_full %llu dup %llu",
                               (unsigned long long)op_no, rc, (unsigned long long)e.orders_live,
                               (unsigned long long)e.levels_live,
                               (unsigned long long)e.orders_full,
                               (unsigned long long)e.levels_full, (unsigned long long)e.dup_ref);
            }
            r_add(ref, li, side, sh, px);
            touched = ref;
            done[0]++;
        } else if (dice < 600) { /* execute, E or C: the top of a book, or any order */
            size_t i = pick_order();
            struct rord o = R.o[i];
            uint32_t want = rnd(20) ? (uint32_t)(1 + rnd(o.shares)) : o.shares + 1 + (uint32_t)rnd(500);
            uint32_t got = want < o.shares ? want : o.shares;
            bool with_price = rnd(3) == 0;
            int before = cb_trades;

            if (with_price)
                cr_assert_eq(sc_book_execute_price(b, o.ref, want, o.price + TICK, op_no, true), 0);
            else
                cr_assert_eq(sc_book_execute(b, o.ref, want, op_no), 0);
            cr_assert_eq(cb_trades, before + 1);
            cr_assert_eq(cb_trade.shares, got, "op %llu: an execution of %llu from an order of %u",
                         (unsigned long long)op_no, (unsigned long long)cb_trade.shares, o.shares);
            cr_assert_leq(cb_trade.shares, o.shares, "an execution exceeds its order");
            cr_assert_eq(cb_trade.price, with_price ? o.price + TICK : o.price);
            cr_assert_eq(cb_trade.locate, locs[o.li]);
            r_reduce(i, want);
            touched = o.ref;
            done[1]++;
        } else if (dice < 720) { /* partial cancel */
            size_t i = pick_order();
            struct rord o = R.o[i];
            uint32_t want = rnd(30) ? (uint32_t)(1 + rnd(o.shares)) : o.shares + (uint32_t)rnd(100);

            cr_assert_eq(sc_book_cancel(b, o.ref, want), 0);
            r_reduce(i, want);
            touched = o.ref;
            done[2]++;
        } else if (dice < 850) { /* delete */
            size_t i = pick_order();
            uint64_t ref = R.o[i].ref;

            cr_assert_eq(sc_book_delete(b, ref), 0);
            r_reduce(i, UINT32_MAX);
            touched = ref;
            done[3]++;
        } else if (dice < 980) { /* replace */
            size_t i = pick_order();
            struct rord o = R.o[i];
            uint64_t nref = next_ref++;
            uint32_t px = rnd(5) == 0 ? o.price : price_near(o.li, o.side), sh = shares_any();

            cr_assert_eq(sc_book_replace(b, o.ref, nref, sh, px), 0, "op %llu",
                         (unsigned long long)op_no);
            r_reduce(i, UINT32_MAX);
            r_add(nref, o.li, o.side, sh, px);
            touched = o.ref;
            touched2 = nref;
            done[4]++;
        } else if (dice < 990) { /* an unknown reference, of each kind */
            uint64_t ghost = (UINT64_C(1) << 62) + op_no;

            switch (rnd(4)) {
            case 0: cr_assert_eq(sc_book_execute(b, ghost, 10, 0), -ENOENT); break;
            case 1: cr_assert_eq(sc_book_cancel(b, ghost, 10), -ENOENT); break;
            case 2: cr_assert_eq(sc_book_delete(b, ghost), -ENOENT); break;
            default:
                cr_assert_eq(sc_book_replace(b, ghost, next_ref, 10, mid[li]), -ENOENT);
                touched2 = next_ref++;
                break;
            }
            touched = ghost;
            done[5]++;
        } else if (dice < 995) { /* a live reference added again */
            struct rord o = R.o[rnd(R.n)];

            cr_assert_eq(sc_book_add(b, locs[o.li], o.ref, 0, 100, mid[o.li]), -EEXIST);
            touched = o.ref;
            done[6]++;
        } else { /* a trade off the book */
            struct sc_book_trade t = { .kind = 'P', .locate = locs[li], .shares = 100,
                                       .price = mid[li], .match = op_no };
            int before = cb_trades;

            sc_book_trade(b, &t);
            cr_assert_eq(cb_trades, before + 1);
            done[7]++;
        }

        for (int k = 0; k < NLOC; k++)
            check_book(b, k);
        if (touched)
            check_order(b, touched);
        if (touched2)
            check_order(b, touched2);
        if (op_no % SWEEP_EVERY == 0)
            sweep(b);
        if (op_no % GAP_EVERY == 0) {
            /* a session gap, then one book rebuilt from the reference's orders
             * (a snapshot), the others declared whole */
            int rl = (int)rnd(NLOC);
            struct sc_book_bbo q;

            sc_book_mark_all_stale(b);
            for (int k = 0; k < NLOC; k++)
                if (R.exists[k])
                    cr_assert(sc_book_bbo(b, locs[k], &q) == 0 && q.stale);
            if (R.exists[rl]) {
                int cleared = sc_book_clear(b, locs[rl]);
                int mine = 0;

                for (size_t i = 0; i < R.n; i++)
                    if (R.o[i].li == rl) {
                        mine++;
                        cr_assert_eq(sc_book_add(b, locs[rl], R.o[i].ref, R.o[i].side,
                                                 R.o[i].shares, R.o[i].price),
                                     0);
                    }
                cr_assert_eq(cleared, mine);
            }
            sc_book_rebuilt_all(b);
            for (int k = 0; k < NLOC; k++) {
                if (R.exists[k])
                    cr_assert(sc_book_bbo(b, locs[k], &q) == 0 && !q.stale);
                check_book(b, k);
            }
            sweep(b);
        }
    }
    sweep(b);
    sc_book_get_stats(b, &st);
    cr_assert_eq(st.adds, done[0] + st.cleared_orders, "re-added snapshot orders count as adds");
    cr_assert_eq(st.executes, done[1]);
    cr_assert_eq(st.cancels, done[2]);
    cr_assert_eq(st.deletes, done[3]);
    cr_assert_eq(st.replaces, done[4]);
    cr_assert_eq(st.unknown_execute + st.unknown_cancel + st.unknown_delete + st.unknown_replace,
                 done[5]);
    cr_assert_eq(st.dup_ref, done[6]);
    cr_assert_eq(st.trades, done[7]);
    cr_assert_gt(st.exec_clamped, 0);
    cr_assert_gt(st.cancel_clamped, 0);
    /* the stream's long-lived orders outlived the ring's span: the overflow
     * map was exercised, not only the ring */
    cr_assert_gt(st.orders_overflowed, 1000, "%llu orders overflowed",
                 (unsigned long long)st.orders_overflowed);
    /* sides outgrew their first 32 levels into the level pool, and blocks
     * were handed on: the moves were checked after every operation */
    cr_assert_gt(st.levels_side_peak, 64, "a side's peak: %llu levels",
                 (unsigned long long)st.levels_side_peak);
    cr_assert_gt(st.sides_grown, 2 * NLOC, "%llu sides grown", (unsigned long long)st.sides_grown);
    cr_log_info("%llu operations: %llu adds, %llu executions (%llu clamped), %llu cancels, "
                "%llu deletes, %llu replaces, %llu unknown, %llu duplicates, %llu BBO updates; "
                "%zu orders live at the end, peak %llu",
                (unsigned long long)n_ops, (unsigned long long)done[0],
                (unsigned long long)done[1], (unsigned long long)st.exec_clamped,
                (unsigned long long)done[2], (unsigned long long)done[3],
                (unsigned long long)done[4], (unsigned long long)done[5],
                (unsigned long long)done[6], (unsigned long long)st.bbo_updates, R.n,
                (unsigned long long)st.orders_peak);
    sc_book_destroy(b);
    for (int li = 0; li < NLOC; li++) {
        free(R.lv[li][0]);
        free(R.lv[li][1]);
    }
    free(R.o);
}
