/* The ITCH generator (<seqcast/itchgen.h>).
 *
 * The day is planned at create as a list of segments (system events, the
 * directory, the crosses, the halt and resume, and the bodies of orders
 * between them), each with its message count and time span; a message's
 * timestamp is its place in its segment's span plus a jitter under one
 * message's share of it, never below the previous one.
 *
 * The live-order model, the generator's own (not the book engine's):
 *
 *   ord[0 .. nlive)   every live order, dense: a delete moves the last one
 *                     into the hole, so a uniformly random live order is one
 *                     draw
 *   sym[s].head[side] each symbol side's orders, a doubly-linked list
 *                     threaded through ord[] (prev/next indexes), most recent
 *                     first, so an execution finds the side's best order
 *                     (price, then the lowest reference: time priority) by
 *                     one walk of at most SYM_MAX orders
 *
 * Both are allocated once, ord[] to the live bound; nothing is allocated
 * while generating. Random numbers: xoshiro256** seeded by splitmix64 from
 * cfg.seed; integer arithmetic only, so a seed gives the same bytes
 * everywhere.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <seqcast/itchgen.h>
#include <seqcast/proto/endian.h>

#define TICK 100u              /* Price(4) of one cent */
#define MIN_MID (100u * TICK)  /* the mid never goes under $1.00 */
#define MAX_OFFSET 25u         /* an order rests at most 25 ticks from the mid */
#define NIL UINT32_MAX
#define NS_PER_S UINT64_C(1000000000)
#define HMS(h, m, s) ((UINT64_C(3600) * (h) + UINT64_C(60) * (m) + (s)) * NS_PER_S)
#define MAX_MESSAGES (UINT64_C(1) << 40)
/* a symbol's live orders at most: an execution walks one side's list */
#define SYM_MAX (4 * SC_ITCHGEN_ORDERS_PER_SYMBOL)

/* The order mix of a body, per 10,000 messages (I aside: the imbalance
 * windows draw it first). With ~7 % of NOII, A ~39 %, D ~37 %, U ~8 %. */
enum { W_A = 4200, W_F = 120, W_D = 3950, W_U = 880, W_E = 440, W_C = 40, W_X = 220, W_P = 150 };
_Static_assert(W_A + W_F + W_D + W_U + W_E + W_C + W_X + W_P == 10000, "the mix is per 10,000");

struct gord {
    uint64_t ref;
    uint32_t price;
    uint32_t shares;
    uint32_t prev, next; /* the symbol side's list */
    uint16_t sym;        /* index in sym[] (locate - 1) */
    uint8_t side;        /* 0 bid, 1 ask */
};

struct gsym {
    char stock[SC_ITCH_STOCK_LEN];
    uint32_t mid;
    uint32_t head[2]; /* the most recent order first */
    uint32_t n;       /* live orders, both sides: at most SYM_MAX */
};

enum seg_kind { SEG_SYS, SEG_DIR, SEG_ACTION, SEG_SHO, SEG_CROSS, SEG_BODY, SEG_HALT, SEG_RESUME };

struct seg {
    uint8_t kind;
    char code;          /* SYS: the event; CROSS, BODY: the cross type of Q / I */
    uint16_t noii_pm;   /* BODY: per mille of NOII */
    uint64_t count;
    uint64_t t0, t1;    /* the span of its timestamps */
};

#define MAX_SEGS 24

struct sc_itchgen {
    struct sc_itchgen_cfg cfg;
    uint64_t rng[4];
    struct seg seg[MAX_SEGS];
    unsigned nseg, si; /* segments, the current one */
    uint64_t sj;       /* messages of it done */
    uint64_t step_q;   /* its span per message, 16.16 fixed point */
    uint64_t step;     /* ... whole ns */
    uint64_t ts;       /* the last timestamp */
    uint64_t next_ref, next_match;
    struct gord *ord;
    uint32_t nlive, max_live;
    struct gsym *sym;
    uint32_t nsym, nsho;
    uint32_t *cum; /* the symbols' cumulative weights, for picking one */
    uint32_t halted; /* its index in sym[]; halted between SEG_HALT and SEG_RESUME */
    bool halt_on;
    bool sweep_on; /* a sweep under way: the side of the symbol */
    uint32_t sweep_sym, sweep_side;
    struct sc_itchgen_stats st;
};

/* ------------------------------------------------------------ random numbers */

static uint64_t
splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static inline uint64_t
rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t
rnd(struct sc_itchgen *g)
{
    uint64_t *s = g->rng, r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

/* uniform in [0, n), n < 2^32 (the bias of the multiply-shift, < n / 2^32, does not matter here) */
static inline uint32_t
below(struct sc_itchgen *g, uint32_t n)
{
    return (uint32_t)(((rnd(g) >> 32) * n) >> 32);
}

/* --------------------------------------------------------------- the symbols */

static const char *const famous[] = {
    "AAPL", "MSFT", "AMZN", "NVDA", "GOOGL", "META", "TSLA", "AVGO", "COST", "PEP",
    "NFLX", "ADBE", "AMD",  "CSCO", "INTC",  "QCOM", "TXN",  "AMGN", "INTU", "SBUX",
    "ISRG", "GILD", "MDLZ", "BKNG", "ADP",   "REGN", "VRTX", "PYPL", "MU",   "QQQ",
};
#define NFAMOUS (sizeof(famous) / sizeof(famous[0]))

static void
pad(char out[SC_ITCH_STOCK_LEN], const char *s)
{
    size_t n = strlen(s);

    memset(out, ' ', SC_ITCH_STOCK_LEN);
    memcpy(out, s, n);
}

/* The tickers: the famous ones first, then 4-letter names (v * 7919 + 12345)
 * mod 26^4 for v = 0, 1, ... -- a bijection, so never a repeat -- skipping
 * those the famous list holds. */
static void
name_symbols(struct sc_itchgen *g)
{
    uint32_t v = 0;

    for (uint32_t i = 0; i < g->nsym; i++) {
        char s[5];

        if (i < NFAMOUS) {
            pad(g->sym[i].stock, famous[i]);
            continue;
        }
        for (;;) {
            uint32_t x = (uint32_t)((v++ * UINT64_C(7919) + 12345) % (26 * 26 * 26 * 26));
            bool taken = false;

            for (int k = 3; k >= 0; k--, x /= 26)
                s[k] = (char)('A' + x % 26);
            s[4] = 0;
            for (size_t f = 0; f < NFAMOUS && !taken; f++)
                taken = !strcmp(s, famous[f]);
            if (!taken)
                break;
        }
        pad(g->sym[i].stock, s);
    }
}

/* A symbol by activity: weight 10^7 / (index + 3), the busiest first. */
static uint32_t
pick_symbol(struct sc_itchgen *g)
{
    uint32_t r = below(g, g->cum[g->nsym - 1]), lo = 0, hi = g->nsym - 1;

    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;

        if (g->cum[mid] > r)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* ------------------------------------------------------------- live orders */

static void
unlink_ord(struct sc_itchgen *g, uint32_t i)
{
    struct gord *o = &g->ord[i];

    if (o->prev != NIL)
        g->ord[o->prev].next = o->next;
    else
        g->sym[o->sym].head[o->side] = o->next;
    if (o->next != NIL)
        g->ord[o->next].prev = o->prev;
    g->sym[o->sym].n--;
}

static void
remove_ord(struct sc_itchgen *g, uint32_t i)
{
    uint32_t last = --g->nlive;

    unlink_ord(g, i);
    if (i != last) { /* the last one fills the hole; its neighbours follow */
        struct gord *o = &g->ord[i];

        *o = g->ord[last];
        if (o->prev != NIL)
            g->ord[o->prev].next = i;
        else
            g->sym[o->sym].head[o->side] = i;
        if (o->next != NIL)
            g->ord[o->next].prev = i;
    }
    g->st.orders_live = g->nlive;
}

/* A resting price for a new order on side: 1 to MAX_OFFSET ticks from the
 * mid on its own side, mostly near. */
static uint32_t
rest_price(struct sc_itchgen *g, const struct gsym *s, int side)
{
    uint32_t r = below(g, 100), k = r < 20 ? 1 : r < 40 ? 2 : r < 55 ? 3 : r < 65 ? 4
                                                                        : 5 + below(g, MAX_OFFSET - 4);

    return side ? s->mid + k * TICK : s->mid - k * TICK;
}

/* Round lots mostly (100 to 500, now and then up to 20 times more), some odd lots. */
static uint32_t
order_shares(struct sc_itchgen *g)
{
    uint32_t lots;

    if (below(g, 10) == 0)
        return 1 + below(g, 99);
    lots = 1 + below(g, 5);
    if (below(g, 8) == 0)
        lots *= 1 + below(g, 20);
    return lots * 100;
}

static uint64_t
new_ref(struct sc_itchgen *g)
{
    uint64_t r = g->next_ref;

    g->next_ref += 1 + below(g, 4);
    return r;
}

/* ------------------------------------------------------------ the messages */

static void
del(struct sc_itchgen *g, struct sc_itch_msg *m, uint32_t i)
{
    m->type = SC_ITCH_ORDER_DELETE;
    m->locate = (uint16_t)(g->ord[i].sym + 1);
    m->del.ref = g->ord[i].ref;
    remove_ord(g, i);
    g->st.deletes++;
}

static void
add(struct sc_itchgen *g, struct sc_itch_msg *m, bool mpid)
{
    static const char mpids[][SC_ITCH_MPID_LEN] = { { 'G', 'S', 'C', 'O' }, { 'M', 'S', 'C', 'O' },
                                                    { 'U', 'B', 'S', 'S' }, { 'J', 'P', 'M', 'S' },
                                                    { 'N', 'I', 'T', 'E' }, { 'V', 'I', 'R', 'T' },
                                                    { 'C', 'D', 'R', 'G' }, { 'S', 'G', 'M', 'A' } };
    uint32_t si = pick_symbol(g), i;
    struct gsym *s = &g->sym[si];
    int side = (int)below(g, 2);
    struct gord *o;
    uint64_t ref;

    if (s->n >= SYM_MAX) { /* the symbol is full: its side's most recent order goes instead */
        g->st.adds_capped++;
        del(g, m, s->head[side] != NIL ? s->head[side] : s->head[!side]);
        return;
    }
    /* one draw per statement: an initializer list's order of evaluation is not fixed */
    i = g->nlive++;
    o = &g->ord[i];
    s->n++;
    ref = new_ref(g);
    uint32_t price = rest_price(g, s, side);
    uint32_t shares = order_shares(g);

    *o = (struct gord){ .ref = ref, .price = price, .shares = shares, .prev = NIL,
                        .next = s->head[side], .sym = (uint16_t)si, .side = (uint8_t)side };
    if (o->next != NIL)
        g->ord[o->next].prev = i;
    s->head[side] = i;
    m->type = mpid ? SC_ITCH_ADD_ORDER_MPID : SC_ITCH_ADD_ORDER;
    m->locate = (uint16_t)(si + 1);
    m->add = (struct sc_itch_add_order){ .ref = o->ref, .side = side ? 'S' : 'B',
                                         .shares = o->shares, .price = o->price };
    memcpy(m->add.stock, s->stock, SC_ITCH_STOCK_LEN);
    if (mpid)
        memcpy(m->add.mpid, mpids[below(g, 8)], SC_ITCH_MPID_LEN);
    else
        m->add.mpid[0] = m->add.mpid[1] = m->add.mpid[2] = m->add.mpid[3] = 0;
    g->st.orders_live = g->nlive;
    if (g->nlive > g->st.orders_peak)
        g->st.orders_peak = g->nlive;
    if (mpid)
        g->st.adds_mpid++;
    else
        g->st.adds++;
}

static void
cancel(struct sc_itchgen *g, struct sc_itch_msg *m, uint32_t i)
{
    struct gord *o = &g->ord[i];
    uint32_t n;

    if (o->shares < 2) { /* X leaves some: a whole cancel is a D */
        del(g, m, i);
        return;
    }
    n = o->shares > 100 && below(g, 2) ? 100 * (1 + below(g, (o->shares - 1) / 100))
                                       : 1 + below(g, o->shares - 1);
    o->shares -= n;
    m->type = SC_ITCH_ORDER_CANCEL;
    m->locate = (uint16_t)(o->sym + 1);
    m->cancel = (struct sc_itch_order_cancel){ .ref = o->ref, .shares = n };
    g->st.cancels++;
}

static void
replace(struct sc_itchgen *g, struct sc_itch_msg *m, uint32_t i)
{
    struct gord *o = &g->ord[i];
    uint64_t orig = o->ref;

    o->ref = new_ref(g);
    o->price = rest_price(g, &g->sym[o->sym], o->side);
    o->shares = order_shares(g);
    m->type = SC_ITCH_ORDER_REPLACE;
    m->locate = (uint16_t)(o->sym + 1);
    m->replace = (struct sc_itch_order_replace){ .orig_ref = orig, .new_ref = o->ref,
                                                 .shares = o->shares, .price = o->price };
    g->st.replaces++;
}

/* An execution (E, or C with a price) against the best order of symbol
 * si's side (price, then time): all of it when full, else most often all,
 * sometimes part. When it empties the level next to the mid (or nothing
 * rested there), the mid moves a tick toward that side -- nothing rests at
 * the new mid, so the book stays uncrossed -- and a sweep of that side ends.
 * @return false when the side is empty (nothing done). */
static bool
execute(struct sc_itchgen *g, struct sc_itch_msg *m, uint32_t si, uint32_t side, bool with_price,
        bool full)
{
    struct gsym *s = &g->sym[si];
    uint32_t touch_px = side ? s->mid + TICK : s->mid - TICK, best = NIL, touch = 0, n;
    struct gord *o;

    for (uint32_t k = s->head[side]; k != NIL; k = g->ord[k].next) {
        const struct gord *c = &g->ord[k];

        touch += c->price == touch_px;
        if (best == NIL ||
            (side ? c->price < g->ord[best].price : c->price > g->ord[best].price) ||
            (c->price == g->ord[best].price && c->ref < g->ord[best].ref))
            best = k;
    }
    if (best == NIL) {
        g->sweep_on = false;
        return false;
    }
    o = &g->ord[best];
    n = full || o->shares < 2 || below(g, 10) < 6 ? o->shares : 1 + below(g, o->shares - 1);
    m->locate = (uint16_t)(si + 1);
    m->exec = (struct sc_itch_order_executed){ .ref = o->ref, .shares = n,
                                               .match = g->next_match++ };
    if (with_price) {
        m->type = SC_ITCH_ORDER_EXECUTED_PRICE;
        m->exec.printable = below(g, 10) ? 'Y' : 'N';
        m->exec.price = o->price;
        g->st.executes_price++;
    } else {
        m->type = SC_ITCH_ORDER_EXECUTED;
        g->st.executes++;
    }
    if (n == o->shares) {
        touch -= o->price == touch_px;
        remove_ord(g, best);
    } else {
        o->shares -= n;
    }
    if (touch == 0) {
        if (side || s->mid - TICK >= MIN_MID) {
            s->mid = side ? s->mid + TICK : s->mid - TICK;
            g->st.price_moves++;
        }
        if (g->sweep_on && g->sweep_sym == si && g->sweep_side == side)
            g->sweep_on = false;
    }
    return true;
}

/* An E or C draw: the next order of a sweep under way (an aggressive order
 * taking the level next to the mid, one E at a time, then the mid moves);
 * else the best order of a random live order's side, a third of the time
 * starting a sweep there. Never the halted symbol. @return false when none
 * could be made. */
static bool
execution(struct sc_itchgen *g, struct sc_itch_msg *m, bool with_price)
{
    if (g->sweep_on && !(g->halt_on && g->sweep_sym == g->halted) &&
        execute(g, m, g->sweep_sym, g->sweep_side, with_price, true))
        return true;
    g->sweep_on = false;
    for (int tries = 0; tries < 4 && g->nlive; tries++) {
        const struct gord *o = &g->ord[below(g, g->nlive)];
        uint32_t si = o->sym, side = o->side;

        if (g->halt_on && si == g->halted)
            continue;
        if (below(g, 3) == 0) {
            g->sweep_on = true;
            g->sweep_sym = si;
            g->sweep_side = side;
        }
        return execute(g, m, si, side, with_price, g->sweep_on);
    }
    return false;
}

static void
trade(struct sc_itchgen *g, struct sc_itch_msg *m, uint32_t si)
{
    const struct gsym *s = &g->sym[si];

    m->type = SC_ITCH_TRADE;
    m->locate = (uint16_t)(si + 1);
    /* a non-displayed order at the mid; NASDAQ sends reference 0 and side B */
    m->trade = (struct sc_itch_trade){ .ref = 0, .side = 'B', .shares = order_shares(g),
                                       .price = s->mid, .match = g->next_match++ };
    memcpy(m->trade.stock, s->stock, SC_ITCH_STOCK_LEN);
    g->st.trades++;
}

static void
noii(struct sc_itchgen *g, struct sc_itch_msg *m, char cross_type)
{
    static const char dirs[] = { 'B', 'S', 'N', 'O' };
    static const char variation[] = { 'L', 'L', 'L', '1', '2', ' ' };
    uint32_t si = pick_symbol(g);
    const struct gsym *s = &g->sym[si];
    uint64_t paired = 100 * (uint64_t)below(g, 50000);
    char dir = dirs[below(g, 4)];
    uint32_t off = below(g, 5) * TICK;
    uint64_t imbalance = dir == 'N' ? 0 : 100 * (uint64_t)(1 + below(g, 5000));
    char var = variation[below(g, sizeof(variation))];

    m->type = SC_ITCH_NOII;
    m->locate = (uint16_t)(si + 1);
    m->noii = (struct sc_itch_noii){
        .paired_shares = paired,
        .imbalance_shares = imbalance,
        .direction = dir,
        .far_price = dir == 'S' ? s->mid - off : s->mid + off,
        .near_price = s->mid,
        .ref_price = s->mid,
        .cross_type = cross_type,
        .price_variation = var,
    };
    memcpy(m->noii.stock, s->stock, SC_ITCH_STOCK_LEN);
    g->st.noii++;
}

/* One message of a body. Draws that cannot be made -- nothing live, the
 * halted symbol, the live bound -- become the nearest that can. */
static void
body(struct sc_itchgen *g, struct sc_itch_msg *m, const struct seg *sg)
{
    uint32_t r;

    if (sg->noii_pm && below(g, 1000) < sg->noii_pm) {
        noii(g, m, sg->code);
        return;
    }
    r = below(g, 10000);
    if (r < W_A + W_F) {
        if (g->nlive < g->max_live) {
            add(g, m, r >= W_A);
            return;
        }
        g->st.adds_capped++;
        del(g, m, below(g, g->nlive));
        return;
    }
    r -= W_A + W_F;
    if (r < W_P) {
        uint32_t si = pick_symbol(g);

        if (!(g->halt_on && si == g->halted)) {
            trade(g, m, si);
            return;
        }
    } else if (g->nlive) {
        uint32_t i = below(g, g->nlive);

        r -= W_P;
        if (r < W_D) {
            /* under the bound, a quarter of its shortfall's share of deletes
             * are adds instead: the books fill, then hold near the bound */
            if (below(g, 4 * g->max_live) < g->max_live - g->nlive) {
                add(g, m, false);
                g->st.deletes_filled++;
                return;
            }
            del(g, m, i);
            return;
        }
        r -= W_D;
        if (r < W_U) {
            replace(g, m, i);
            return;
        }
        r -= W_U;
        if (r < W_X) {
            cancel(g, m, i);
            return;
        }
        r -= W_X;
        if (execution(g, m, r >= W_E))
            return;
    }
    if (g->nlive < g->max_live)
        add(g, m, false);
    else
        del(g, m, below(g, g->nlive));
}

/* --------------------------------------------------------------- the plan */

static struct seg *
plan(struct sc_itchgen *g, uint8_t kind, char code, uint64_t count, uint64_t t0, uint64_t t1)
{
    struct seg *s = &g->seg[g->nseg++];

    *s = (struct seg){ .kind = kind, .code = code, .count = count, .t0 = t0, .t1 = t1 };
    return s;
}

uint64_t
sc_itchgen_min_messages(uint32_t symbols)
{
    uint64_t n = symbols;

    /* 6 S; R, H, Q 'O', Q 'C' per symbol; the Reg SHO few; halt and resume */
    return 6 + 4 * n + (symbols / 20 ? (symbols / 20 > 10 ? 10 : symbols / 20) : 1) + 2;
}

static void
plan_day(struct sc_itchgen *g)
{
    uint64_t n = g->nsym, body = g->cfg.messages - sc_itchgen_min_messages(g->nsym);
    uint64_t pre = body * 6 / 100, preopen = body * 3 / 100, reg = body * 77 / 100,
             close = body * 10 / 100, post = body - pre - preopen - reg - close;
    uint64_t r1 = reg * 120 / 380, r2 = reg * 5 / 380, r3 = reg - r1 - r2;
    uint64_t us = 1000;

    plan(g, SEG_SYS, 'O', 1, HMS(3, 0, 0) + 42 * us, HMS(3, 0, 0) + 43 * us);
    plan(g, SEG_DIR, 0, n, HMS(3, 0, 0) + 100 * us, HMS(3, 0, 1));
    plan(g, SEG_ACTION, 'T', n, HMS(3, 0, 1), HMS(3, 0, 2));
    plan(g, SEG_SHO, '2', g->nsho, HMS(3, 0, 2), HMS(3, 0, 3));
    plan(g, SEG_SYS, 'S', 1, HMS(4, 0, 0), HMS(4, 0, 0) + 1);
    plan(g, SEG_BODY, 0, pre, HMS(4, 0, 0) + 10 * us, HMS(9, 28, 0));
    plan(g, SEG_BODY, 'O', preopen, HMS(9, 28, 0), HMS(9, 30, 0))->noii_pm = 600;
    plan(g, SEG_SYS, 'Q', 1, HMS(9, 30, 0), HMS(9, 30, 0) + 1);
    plan(g, SEG_CROSS, 'O', n, HMS(9, 30, 0) + 50 * us, HMS(9, 30, 0) + 50 * us + n * 2 * us);
    plan(g, SEG_BODY, 0, r1, HMS(9, 30, 1), HMS(11, 30, 0));
    plan(g, SEG_HALT, 'H', 1, HMS(11, 30, 0), HMS(11, 30, 0) + 1);
    plan(g, SEG_BODY, 0, r2, HMS(11, 30, 0) + 10 * us, HMS(11, 35, 0));
    plan(g, SEG_RESUME, 'T', 1, HMS(11, 35, 0), HMS(11, 35, 0) + 1);
    plan(g, SEG_BODY, 0, r3, HMS(11, 35, 0) + 10 * us, HMS(15, 50, 0));
    plan(g, SEG_BODY, 'C', close, HMS(15, 50, 0), HMS(16, 0, 0))->noii_pm = 500;
    plan(g, SEG_SYS, 'M', 1, HMS(16, 0, 0), HMS(16, 0, 0) + 1);
    plan(g, SEG_CROSS, 'C', n, HMS(16, 0, 0) + 50 * us, HMS(16, 0, 0) + 50 * us + n * 2 * us);
    plan(g, SEG_BODY, 0, post, HMS(16, 0, 1), HMS(20, 0, 0));
    plan(g, SEG_SYS, 'E', 1, HMS(20, 0, 0), HMS(20, 0, 0) + 1);
    plan(g, SEG_SYS, 'C', 1, HMS(20, 5, 0), HMS(20, 5, 0) + 1);
}

/* Enter segment si (skipping empty ones): its time step. @return false past the last. */
static bool
enter(struct sc_itchgen *g)
{
    while (g->si < g->nseg && g->seg[g->si].count == 0)
        g->si++;
    if (g->si >= g->nseg)
        return false;
    {
        const struct seg *s = &g->seg[g->si];
        uint64_t span = s->t1 - s->t0;

        g->step_q = (span << 16) / s->count;
        g->step = span / s->count;
        g->sj = 0;
    }
    return true;
}

int
sc_itchgen_create(struct sc_itchgen **gp, const struct sc_itchgen_cfg *cfg, struct sc_err *err)
{
    struct sc_itchgen *g;
    uint64_t x;

    *gp = NULL;
    if (cfg->symbols < 1 || cfg->symbols > SC_ITCHGEN_MAX_SYMBOLS) {
        if (err)
            snprintf(err->msg, sizeof(err->msg), "symbols %u: expected 1 to %u", cfg->symbols,
                     SC_ITCHGEN_MAX_SYMBOLS);
        goto inval;
    }
    if (cfg->messages < sc_itchgen_min_messages(cfg->symbols) || cfg->messages > MAX_MESSAGES) {
        if (err)
            snprintf(err->msg, sizeof(err->msg),
                     "messages %llu: a day of %u symbols has %llu to %llu messages",
                     (unsigned long long)cfg->messages, cfg->symbols,
                     (unsigned long long)sc_itchgen_min_messages(cfg->symbols),
                     (unsigned long long)MAX_MESSAGES);
        goto inval;
    }
    if (!(g = calloc(1, sizeof(*g))))
        goto nomem;
    g->cfg = *cfg;
    g->nsym = cfg->symbols;
    g->nsho = cfg->symbols / 20 ? (cfg->symbols / 20 > 10 ? 10 : cfg->symbols / 20) : 1;
    g->max_live = cfg->symbols * SC_ITCHGEN_ORDERS_PER_SYMBOL;
    g->sym = calloc(g->nsym, sizeof(*g->sym));
    g->cum = calloc(g->nsym, sizeof(*g->cum));
    g->ord = calloc(g->max_live, sizeof(*g->ord));
    if (!g->sym || !g->cum || !g->ord) {
        sc_itchgen_destroy(g);
        goto nomem;
    }
    x = cfg->seed;
    for (int i = 0; i < 4; i++)
        g->rng[i] = splitmix64(&x);
    name_symbols(g);
    for (uint32_t i = 0; i < g->nsym; i++) {
        /* $2 to ~$500, most under $100 */
        uint32_t cents = 200 + below(g, 2000);

        cents += (cents - 200) * below(g, 25);

        g->sym[i].mid = cents * TICK;
        g->sym[i].head[0] = g->sym[i].head[1] = NIL;
        g->cum[i] = (i ? g->cum[i - 1] : 0) + 10000000u / (i + 3);
    }
    g->halted = below(g, g->nsym);
    g->next_ref = 1 + below(g, 1000);
    g->next_match = 1 + below(g, 1000);
    g->st.symbols = g->nsym;
    plan_day(g);
    enter(g);
    *gp = g;
    return 0;
inval:
    if (err)
        err->code = -EINVAL;
    return -EINVAL;
nomem:
    if (err) {
        err->code = -ENOMEM;
        snprintf(err->msg, sizeof(err->msg), "itchgen: out of memory (%u symbols)", cfg->symbols);
    }
    return -ENOMEM;
}

void
sc_itchgen_destroy(struct sc_itchgen *g)
{
    if (!g)
        return;
    free(g->ord);
    free(g->cum);
    free(g->sym);
    free(g);
}

static void
system_event(struct sc_itchgen *g, struct sc_itch_msg *m, char code)
{
    m->type = SC_ITCH_SYSTEM_EVENT;
    m->locate = 0;
    m->system_event.event_code = code;
    g->st.system_events++;
}

static void
trading_action(struct sc_itchgen *g, struct sc_itch_msg *m, uint32_t si, char state,
               const char reason[4])
{
    m->type = SC_ITCH_TRADING_ACTION;
    m->locate = (uint16_t)(si + 1);
    memcpy(m->trading_action.stock, g->sym[si].stock, SC_ITCH_STOCK_LEN);
    m->trading_action.trading_state = state;
    m->trading_action.reserved = ' ';
    memcpy(m->trading_action.reason, reason, 4);
    g->st.trading_actions++;
}

static void
directory(struct sc_itchgen *g, struct sc_itch_msg *m, uint32_t si)
{
    static const char category[] = { 'Q', 'Q', 'G', 'S' }; /* Global Select, Global, Capital */

    m->type = SC_ITCH_STOCK_DIRECTORY;
    m->locate = (uint16_t)(si + 1);
    m->stock_directory = (struct sc_itch_stock_directory){
        .market_category = si < NFAMOUS ? 'Q' : category[below(g, 4)],
        .financial_status = 'N',
        .round_lot_size = 100,
        .round_lots_only = 'N',
        .issue_classification = 'C',
        .issue_subtype = { 'Z', ' ' },
        .authenticity = 'P',
        .short_sale_threshold = 'N',
        .ipo_flag = 'N',
        .luld_tier = si < 100 ? '1' : '2',
        .etp_flag = 'N',
        .etp_leverage_factor = 0,
        .inverse = 'N',
    };
    memcpy(m->stock_directory.stock, g->sym[si].stock, SC_ITCH_STOCK_LEN);
    g->st.directory++;
}

static void
cross(struct sc_itchgen *g, struct sc_itch_msg *m, uint32_t si, char type)
{
    m->type = SC_ITCH_CROSS_TRADE;
    m->locate = (uint16_t)(si + 1);
    m->cross = (struct sc_itch_cross_trade){ .shares = 100 * (uint64_t)below(g, 100000),
                                             .price = g->sym[si].mid,
                                             .match = g->next_match++, .cross_type = type };
    memcpy(m->cross.stock, g->sym[si].stock, SC_ITCH_STOCK_LEN);
    g->st.crosses++;
}

int
sc_itchgen_next(struct sc_itchgen *g, struct sc_itch_msg *m)
{
    const struct seg *s;
    uint64_t ts;

    if (g->si >= g->nseg)
        return 0;
    s = &g->seg[g->si];
    ts = s->t0 + ((g->sj * g->step_q) >> 16);
    if (g->step > 1) /* a jitter under one message's share of the span */
        ts += below(g, g->step > UINT32_MAX ? UINT32_MAX : (uint32_t)g->step);
    if (ts < g->ts)
        ts = g->ts;
    g->ts = m->ts = ts;
    m->tracking = 0;
    switch (s->kind) {
    case SEG_SYS: system_event(g, m, s->code); break;
    case SEG_DIR: directory(g, m, (uint32_t)g->sj); break;
    case SEG_ACTION: trading_action(g, m, (uint32_t)g->sj, 'T', "    "); break;
    case SEG_SHO: /* a few symbols, spread over the directory */
        m->type = SC_ITCH_REG_SHO;
        m->locate = (uint16_t)(g->sj * g->nsym / g->nsho + 1);
        memcpy(m->reg_sho.stock, g->sym[m->locate - 1].stock, SC_ITCH_STOCK_LEN);
        m->reg_sho.action = s->code;
        g->st.reg_sho++;
        break;
    case SEG_CROSS: cross(g, m, (uint32_t)g->sj, s->code); break;
    case SEG_HALT:
        trading_action(g, m, g->halted, 'H', "T1  ");
        g->halt_on = true;
        break;
    case SEG_RESUME:
        trading_action(g, m, g->halted, 'T', "    ");
        g->halt_on = false;
        break;
    default: body(g, m, s); break;
    }
    g->st.messages++;
    if (++g->sj == s->count) {
        g->si++;
        enter(g);
    }
    return 1;
}

size_t
sc_itchgen_write(struct sc_itchgen *g, uint8_t *buf, size_t cap)
{
    size_t pos = 0;
    struct sc_itch_msg m;

    while (cap - pos >= SC_ITCHGEN_RECORD_MAX && sc_itchgen_next(g, &m) == 1) {
        int n = sc_itch_encode(buf + pos + 2, cap - pos - 2, &m);

        if (n < 0) /* the generator made a message its own codec refuses: a bug here */
            abort();
        sc_store_be16(buf + pos, (uint16_t)n);
        pos += 2 + (size_t)n;
    }
    return pos;
}

int
sc_itchgen_symbol(const struct sc_itchgen *g, uint16_t locate, char out[SC_ITCH_STOCK_LEN])
{
    if (locate == 0 || locate > g->nsym)
        return -ENOENT;
    memcpy(out, g->sym[locate - 1].stock, SC_ITCH_STOCK_LEN);
    return 0;
}

void
sc_itchgen_get_stats(const struct sc_itchgen *g, struct sc_itchgen_stats *st)
{
    *st = g->st;
}
