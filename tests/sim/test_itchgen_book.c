/* Book invariants on a generated day (issue 19): seqcast-itchgen's day of
 * 10,000,000 messages (ITCHGEN_BOOK_MESSAGES=N for another length), written
 * in the ITCH file format, split, decoded by sc_itch_decode and fed to the
 * book engine (<seqcast/book.h>) directly -- the switch below, not the
 * feed handler's glue -- beside the independent live-order model of
 * tests/support/itchday.c.
 *
 * After EVERY message: the rules of the day hold (the model); the engine
 * accepted the operation (no unknown reference: the day is complete); the
 * touched book's BBO equals its best levels (the engine's own depth query)
 * and is not crossed; its levels, each of at least one order and a share an
 * order, sum per side to the model's live orders and shares; the order touched is in the engine with the model's
 * shares, price, side and locate (never 0 shares), or gone when the model
 * says so. At the end: the engine's counters agree with the stream (no
 * clamp, refusal or unknown reference anywhere), and every level of every
 * book (price, orders, shares) equals the model's, summed from its orders. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <seqcast/book.h>
#include <seqcast/itchgen.h>
#include <seqcast/proto/endian.h>
#include <seqcast/proto/itch.h>

#include "tests/support/itchday.h"

#define SYMBOLS 100
#define MAX_LEVELS 4096

static struct sc_book *book;
static struct itchday day;

/* Apply one decoded message to the engine. @return the engine's answer */
static int
apply(const struct sc_itch_msg *m)
{
    switch (m->type) {
    case SC_ITCH_SYSTEM_EVENT: sc_book_system_event(book, m->system_event.event_code); return 0;
    case SC_ITCH_STOCK_DIRECTORY:
        return sc_book_instrument(book, m->locate, m->stock_directory.stock);
    case SC_ITCH_TRADING_ACTION:
        return sc_book_trading_state(book, m->locate, m->trading_action.trading_state,
                                     m->trading_action.reason);
    case SC_ITCH_REG_SHO: return sc_book_reg_sho(book, m->locate, m->reg_sho.action);
    case SC_ITCH_ADD_ORDER:
    case SC_ITCH_ADD_ORDER_MPID:
        return sc_book_add(book, m->locate, m->add.ref,
                           m->add.side == 'B' ? SC_BOOK_BID : SC_BOOK_ASK, m->add.shares,
                           m->add.price);
    case SC_ITCH_ORDER_EXECUTED:
        return sc_book_execute(book, m->exec.ref, m->exec.shares, m->exec.match);
    case SC_ITCH_ORDER_EXECUTED_PRICE:
        return sc_book_execute_price(book, m->exec.ref, m->exec.shares, m->exec.price,
                                     m->exec.match, m->exec.printable == 'Y');
    case SC_ITCH_ORDER_CANCEL: return sc_book_cancel(book, m->cancel.ref, m->cancel.shares);
    case SC_ITCH_ORDER_DELETE: return sc_book_delete(book, m->del.ref);
    case SC_ITCH_ORDER_REPLACE:
        return sc_book_replace(book, m->replace.orig_ref, m->replace.new_ref, m->replace.shares,
                               m->replace.price);
    case SC_ITCH_TRADE: {
        struct sc_book_trade t = { .ref = m->trade.ref, .match = m->trade.match,
                                   .shares = m->trade.shares, .price = m->trade.price,
                                   .locate = m->locate, .kind = 'P', .side = m->trade.side,
                                   .printable = true };
        sc_book_trade(book, &t);
        return 0;
    }
    case SC_ITCH_CROSS_TRADE: {
        struct sc_book_trade t = { .match = m->cross.match, .shares = m->cross.shares,
                                   .price = m->cross.price, .locate = m->locate, .kind = 'Q',
                                   .printable = true, .cross_type = m->cross.cross_type };
        sc_book_trade(book, &t);
        return 0;
    }
    default: return 0; /* I: no book change */
    }
}

/* The order ref in the engine is the model's, or absent from both. */
static void
same_order(uint64_t ref)
{
    const struct itchday_order *o = itchday_find(&day, ref);
    struct sc_book_order bo;
    int rc = sc_book_order(book, ref, &bo);

    if (!o) {
        cr_assert_eq(rc, -ENOENT, "order %llu: gone from the model, in the engine",
                     (unsigned long long)ref);
        return;
    }
    cr_assert_eq(rc, 0, "order %llu: live in the model, not in the engine", (unsigned long long)ref);
    cr_assert_gt(bo.shares, 0, "order %llu with 0 shares left", (unsigned long long)ref);
    cr_assert(bo.shares == o->shares && bo.price == o->price && bo.locate == o->locate &&
                  (int)bo.side == o->side,
              "order %llu: engine %u @ %u loc %u side %d, model %u @ %u loc %u side %d",
              (unsigned long long)ref, bo.shares, bo.price, bo.locate, bo.side, o->shares,
              o->price, o->locate, o->side);
}

/* locate's BBO is its best levels, and the book is not crossed */
static void
bbo_is_best_levels(uint16_t locate)
{
    struct sc_book_bbo bbo;
    struct sc_book_level bid, ask;
    int nb, na;

    cr_assert_eq(sc_book_bbo(book, locate, &bbo), 0);
    nb = sc_book_depth(book, locate, SC_BOOK_BID, &bid, 1);
    na = sc_book_depth(book, locate, SC_BOOK_ASK, &ask, 1);
    if (nb == 0)
        bid = (struct sc_book_level){ 0 };
    if (na == 0)
        ask = (struct sc_book_level){ 0 };
    cr_assert(bbo.bid_price == bid.price && bbo.bid_shares == bid.shares &&
                  bbo.bid_orders == bid.orders,
              "locate %u: BBO bid %u x %llu (%u), best level %u x %llu (%u)", locate,
              bbo.bid_price, (unsigned long long)bbo.bid_shares, bbo.bid_orders, bid.price,
              (unsigned long long)bid.shares, bid.orders);
    cr_assert(bbo.ask_price == ask.price && bbo.ask_shares == ask.shares &&
                  bbo.ask_orders == ask.orders,
              "locate %u: BBO ask %u x %llu (%u), best level %u x %llu (%u)", locate,
              bbo.ask_price, (unsigned long long)bbo.ask_shares, bbo.ask_orders, ask.price,
              (unsigned long long)ask.shares, ask.orders);
    cr_assert(!bbo.bid_price || !bbo.ask_price || bbo.bid_price < bbo.ask_price,
              "locate %u crossed: bid %u, ask %u", locate, bbo.bid_price, bbo.ask_price);
}

/* the levels of locate's side sum to the model's live orders and shares there */
static void
side_totals(uint16_t locate, int side)
{
    static struct sc_book_level lv[MAX_LEVELS];
    int n = sc_book_depth(book, locate, (enum sc_book_side)side, lv, MAX_LEVELS);
    uint64_t shares = 0, orders = 0;

    cr_assert_geq(n, 0);
    for (int j = 0; j < n; j++) {
        cr_assert(lv[j].orders > 0 && lv[j].shares >= lv[j].orders,
                  "locate %u side %d: a level of %u orders and %llu shares", locate, side,
                  lv[j].orders, (unsigned long long)lv[j].shares);
        shares += lv[j].shares;
        orders += lv[j].orders;
    }
    cr_assert(shares == day.shares[locate][side] && orders == day.orders[locate][side],
              "locate %u side %d: levels hold %llu orders, %llu shares; the model %u, %llu",
              locate, side, (unsigned long long)orders, (unsigned long long)shares,
              day.orders[locate][side], (unsigned long long)day.shares[locate][side]);
}

/* ------------------------------------------------ the model's levels, at the end */

struct mlevel {
    uint16_t locate;
    int side;
    uint32_t price;
    uint32_t orders;
    uint64_t shares;
};

struct mlevels {
    struct mlevel *l;
    size_t n, cap;
};

static void
collect(void *ctx, const struct itchday_order *o)
{
    struct mlevels *ml = ctx;

    if (ml->n == ml->cap) {
        ml->cap = ml->cap ? ml->cap * 2 : 1024;
        cr_assert_not_null(ml->l = realloc(ml->l, ml->cap * sizeof(*ml->l)));
    }
    ml->l[ml->n++] = (struct mlevel){ o->locate, o->side, o->price, 1, o->shares };
}

/* by locate, side, then best price first */
static int
cmp_level(const void *a, const void *b)
{
    const struct mlevel *x = a, *y = b;

    if (x->locate != y->locate)
        return x->locate < y->locate ? -1 : 1;
    if (x->side != y->side)
        return x->side < y->side ? -1 : 1;
    if (x->price != y->price)
        return (x->side == 0 ? x->price > y->price : x->price < y->price) ? -1 : 1;
    return 0;
}

static void
levels_equal_the_model(void)
{
    struct mlevels ml = { 0 };
    static struct sc_book_level lv[MAX_LEVELS];
    size_t i = 0, k = 0;

    itchday_each(&day, collect, &ml);
    qsort(ml.l, ml.n, sizeof(*ml.l), cmp_level);
    for (size_t j = 0; j < ml.n; j++) { /* merge each price's orders into a level */
        if (k && !cmp_level(&ml.l[k - 1], &ml.l[j])) {
            ml.l[k - 1].orders++;
            ml.l[k - 1].shares += ml.l[j].shares;
        } else {
            ml.l[k++] = ml.l[j];
        }
    }
    for (uint16_t loc = 1; loc <= SYMBOLS; loc++)
        for (int side = 0; side < 2; side++) {
            int n = sc_book_depth(book, loc, (enum sc_book_side)side, lv, MAX_LEVELS);

            cr_assert_geq(n, 0);
            for (int j = 0; j < n; j++, i++) {
                cr_assert_lt(i, k, "locate %u side %d: the engine has more levels", loc, side);
                cr_assert(ml.l[i].locate == loc && ml.l[i].side == side &&
                              ml.l[i].price == lv[j].price && ml.l[i].orders == lv[j].orders &&
                              ml.l[i].shares == lv[j].shares,
                          "locate %u side %d level %d: engine %u x %llu (%u orders), model "
                          "locate %u side %d %u x %llu (%u orders)",
                          loc, side, j, lv[j].price, (unsigned long long)lv[j].shares,
                          lv[j].orders, ml.l[i].locate, ml.l[i].side, ml.l[i].price,
                          (unsigned long long)ml.l[i].shares, ml.l[i].orders);
            }
        }
    cr_assert_eq(i, k, "the model has %zu levels, the engine %zu", k, i);
    free(ml.l);
}

Test(itchgen_book, book_invariants_after_every_message_of_a_generated_day, .timeout = 600)
{
    const char *env = getenv("ITCHGEN_BOOK_MESSAGES");
    struct sc_itchgen_cfg cfg = { .messages = env ? strtoull(env, NULL, 0) : 10000000,
                                  .symbols = SYMBOLS, .seed = 19 };
    struct sc_book_cfg bc = { .max_orders = SYMBOLS * SC_ITCHGEN_ORDERS_PER_SYMBOL,
                              .max_books = SYMBOLS, .max_levels = MAX_LEVELS };
    struct sc_itchgen *g;
    struct sc_err err = { 0 };
    struct sc_book_stats st;
    static uint8_t buf[1 << 16];
    size_t n;
    char why[256];
    struct timespec t0, t1;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(itchday_init(&day), 0);
    cr_assert_eq(sc_book_create(&book, &bc, &err), 0, "%s", err.msg);
    cr_assert_eq(sc_itchgen_create(&g, &cfg, &err), 0, "%s", err.msg);
    while ((n = sc_itchgen_write(g, buf, sizeof(buf))) > 0) {
        for (size_t off = 0; off < n;) {
            size_t len = sc_load_be16(buf + off);
            struct sc_itch_msg m;
            int rc;

            cr_assert_eq(sc_itch_decode(buf + off + 2, len, &m), (int)len);
            off += 2 + len;
            if (itchday_apply(&day, &m, why, sizeof(why)) < 0)
                cr_assert_fail("message %llu: %s", (unsigned long long)day.messages, why);
            rc = apply(&m);
            cr_assert_eq(rc, 0, "message %llu ('%c'): the engine says %d",
                         (unsigned long long)day.messages, m.type, rc);
            switch (m.type) {
            case 'A':
            case 'F': same_order(m.add.ref); break;
            case 'E':
            case 'C': same_order(m.exec.ref); break;
            case 'X': same_order(m.cancel.ref); break;
            case 'D': same_order(m.del.ref); break;
            case 'U':
                same_order(m.replace.orig_ref);
                same_order(m.replace.new_ref);
                break;
            default: continue;
            }
            bbo_is_best_levels(m.locate);
            side_totals(m.locate, 0);
            side_totals(m.locate, 1);
        }
    }
    if (itchday_end(&day, why, sizeof(why)) < 0)
        cr_assert_fail("%s", why);
    cr_assert_eq(day.messages, cfg.messages);

    sc_book_get_stats(book, &st);
    cr_assert_eq(st.orders_live, day.live, "engine %llu live, the model %llu",
                 (unsigned long long)st.orders_live, (unsigned long long)day.live);
    cr_assert_eq(st.adds, day.by_type['A'] + day.by_type['F']);
    cr_assert_eq(st.executes, day.by_type['E'] + day.by_type['C']);
    cr_assert_eq(st.executes_price, day.by_type['C']);
    cr_assert_eq(st.cancels, day.by_type['X']);
    cr_assert_eq(st.deletes, day.by_type['D']);
    cr_assert_eq(st.replaces, day.by_type['U']);
    cr_assert_eq(st.trades, day.by_type['P'] + day.by_type['Q']);
    cr_assert_eq(st.books, SYMBOLS);
    cr_assert_eq(st.unknown_execute + st.unknown_cancel + st.unknown_delete + st.unknown_replace,
                 0);
    cr_assert_eq(st.exec_clamped + st.cancel_clamped, 0, "an execution or cancel past its order");
    cr_assert_eq(st.dup_ref + st.zero_shares + st.bad_side, 0);
    cr_assert_eq(st.orders_full + st.books_full + st.levels_full + st.stale_books, 0);
    levels_equal_the_model();

    sc_itchgen_destroy(g);
    sc_book_destroy(book);
    itchday_free(&day);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cr_log_info("%llu messages checked in %.1f s", (unsigned long long)cfg.messages,
                (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
}
