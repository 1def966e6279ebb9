/* The order-book engine (feedhandler/book.c, <seqcast/book.h>), operation by
 * operation: each one's exact effect on orders, levels, BBO and counters, and
 * its callbacks; executions and cancels clamped to the order; replace takes a
 * new reference, keeps side and instrument, and loses priority; operations on
 * unknown references counted by kind; every limit (orders, books, levels)
 * refuses, counts and marks the book stale; trading state, Reg SHO, system
 * events; staleness, clear and rebuild; depth order on both sides; the order
 * map under colliding reference patterns and a full fill-and-drain. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <seqcast/book.h>

#include "tests/support/testutil.h"

#define BID SC_BOOK_BID
#define ASK SC_BOOK_ASK

/* what the callbacks saw */
static struct seen {
    int bbo_calls;
    struct sc_book_bbo bbo;
    int trade_calls;
    struct sc_book_trade trade;
    int state_calls;
    struct sc_book_info info;
    enum sc_book_change what;
    int system_calls;
    struct sc_book_system sys;
} seen;

static void
on_bbo(void *ctx, const struct sc_book_bbo *q)
{
    (void)ctx;
    seen.bbo_calls++;
    seen.bbo = *q;
}

static void
on_trade(void *ctx, const struct sc_book_trade *t)
{
    (void)ctx;
    seen.trade_calls++;
    seen.trade = *t;
}

static void
on_state(void *ctx, const struct sc_book_info *info, enum sc_book_change what)
{
    (void)ctx;
    seen.state_calls++;
    seen.info = *info;
    seen.what = what;
}

static void
on_system(void *ctx, const struct sc_book_system *s)
{
    (void)ctx;
    seen.system_calls++;
    seen.sys = *s;
}

static struct sc_book *
mk(uint32_t orders, uint32_t books, uint32_t levels)
{
    struct sc_book_cfg cfg = { .max_orders = orders, .max_books = books, .max_levels = levels,
                               .on_bbo = on_bbo, .on_trade = on_trade, .on_state = on_state,
                               .on_system = on_system };
    struct sc_book *b;
    struct sc_err err = { 0 };

    memset(&seen, 0, sizeof(seen));
    cr_assert_eq(sc_book_create(&b, &cfg, &err), 0, "%s", err.msg);
    return b;
}

static struct sc_book_stats
stats(const struct sc_book *b)
{
    struct sc_book_stats st;

    sc_book_get_stats(b, &st);
    return st;
}

static struct sc_book_bbo
bbo(const struct sc_book *b, uint16_t locate)
{
    struct sc_book_bbo q;

    cr_assert_eq(sc_book_bbo(b, locate, &q), 0, "no book %u", locate);
    return q;
}

static void
check_level(const struct sc_book *b, uint16_t loc, enum sc_book_side s, int i, uint32_t price,
            uint64_t shares, uint32_t orders)
{
    struct sc_book_level lv[64];
    int n = sc_book_depth(b, loc, s, lv, 64);

    cr_assert_gt(n, i, "side %d has %d levels, not %d", s, n, i + 1);
    cr_assert_eq(lv[i].price, price, "side %d level %d price %u != %u", s, i, lv[i].price, price);
    cr_assert_eq(lv[i].shares, shares, "side %d level %d shares %llu != %llu", s, i,
                 (unsigned long long)lv[i].shares, (unsigned long long)shares);
    cr_assert_eq(lv[i].orders, orders, "side %d level %d orders %u != %u", s, i, lv[i].orders,
                 orders);
}

static int
levels(const struct sc_book *b, uint16_t loc, enum sc_book_side s)
{
    struct sc_book_level lv[1024];

    return sc_book_depth(b, loc, s, lv, 1024);
}

Test(book, create_checks_every_size_and_says_which)
{
    struct sc_book *b = (void *)1;
    struct sc_err err = { 0 };
    struct sc_book_cfg cfg = { .max_orders = 10, .max_books = 4, .max_levels = 8 };

    cfg.max_orders = 0;
    cr_assert_eq(sc_book_create(&b, &cfg, &err), -EINVAL);
    cr_assert_null(b);
    cr_assert(strstr(err.msg, "max_orders"), "%s", err.msg);
    cfg.max_orders = 10;
    cfg.max_books = 65536;
    cr_assert_eq(sc_book_create(&b, &cfg, &err), -EINVAL);
    cr_assert(strstr(err.msg, "max_books"), "%s", err.msg);
    cfg.max_books = 4;
    cfg.max_levels = 0;
    cr_assert_eq(sc_book_create(&b, &cfg, &err), -EINVAL);
    cr_assert(strstr(err.msg, "max_levels"), "%s", err.msg);
    cfg.max_levels = 8;
    cfg.level_pool = (1u << 30) + 1;
    cr_assert_eq(sc_book_create(&b, &cfg, &err), -EINVAL);
    cr_assert(strstr(err.msg, "level_pool"), "%s", err.msg);
    cfg.level_pool = 1000;
    cr_assert_eq(sc_book_create(&b, &cfg, &err), 0);
    cr_assert_gt(sc_book_memory(b), 10 * 32 + 4 * 2 * 60 * 16 + 1000 * 16, "the pool counted");
    sc_book_destroy(b);
    sc_book_destroy(NULL);
}

Test(book, add_builds_levels_best_first_on_both_sides)
{
    struct sc_book *b = mk(64, 4, 16);
    struct sc_book_bbo q;
    struct sc_book_order o;

    cr_assert_eq(sc_book_add(b, 7, 1, BID, 100, 10000), 0);
    cr_assert_eq(seen.bbo_calls, 1);
    cr_assert_eq(seen.bbo.locate, 7);
    cr_assert_eq(seen.bbo.bid_price, 10000);
    cr_assert_eq(seen.bbo.bid_shares, 100);
    cr_assert_eq(seen.bbo.ask_orders, 0);
    cr_assert_eq(sc_book_add(b, 7, 2, BID, 50, 9900), 0);
    cr_assert_eq(seen.bbo_calls, 1, "a level under the best changes no BBO");
    cr_assert_eq(sc_book_add(b, 7, 3, BID, 30, 10000), 0);
    cr_assert_eq(seen.bbo_calls, 2, "more shares at the best: a BBO change");
    cr_assert_eq(seen.bbo.bid_shares, 130);
    cr_assert_eq(seen.bbo.bid_orders, 2);
    cr_assert_eq(sc_book_add(b, 7, 4, ASK, 200, 10100), 0);
    cr_assert_eq(sc_book_add(b, 7, 5, ASK, 10, 10050), 0);
    cr_assert_eq(sc_book_add(b, 7, 6, ASK, 20, 10200), 0);
    cr_assert_eq(sc_book_add(b, 7, 7, BID, 5, 10010), 0);
    q = bbo(b, 7);
    cr_assert_eq(q.bid_price, 10010);
    cr_assert_eq(q.bid_shares, 5);
    cr_assert_eq(q.ask_price, 10050);
    cr_assert_eq(q.ask_shares, 10);
    cr_assert(!q.stale);
    /* bids highest first, asks lowest first */
    check_level(b, 7, BID, 0, 10010, 5, 1);
    check_level(b, 7, BID, 1, 10000, 130, 2);
    check_level(b, 7, BID, 2, 9900, 50, 1);
    check_level(b, 7, ASK, 0, 10050, 10, 1);
    check_level(b, 7, ASK, 1, 10100, 200, 1);
    check_level(b, 7, ASK, 2, 10200, 20, 1);
    cr_assert_eq(levels(b, 7, BID), 3);
    {
        struct sc_book_level lv[2];

        cr_assert_eq(sc_book_depth(b, 7, ASK, lv, 2), 2, "depth stops at n");
    }
    cr_assert_eq(sc_book_order(b, 3, &o), 0);
    cr_assert_eq(o.locate, 7);
    cr_assert_eq(o.side, BID);
    cr_assert_eq(o.price, 10000);
    cr_assert_eq(o.shares, 30);
    cr_assert_eq(stats(b).adds, 7);
    cr_assert_eq(stats(b).orders_live, 7);
    cr_assert_eq(stats(b).levels_live, 6);
    cr_assert_eq(stats(b).levels_side_peak, 3, "3 levels a side at most");
    cr_assert_eq(sc_book_delete(b, 7), 0);
    cr_assert_eq(stats(b).levels_side_peak, 3, "a peak stays when the side shrinks");
    cr_assert_eq(sc_book_add(b, 7, 7, BID, 5, 10010), 0);
    cr_assert_eq(stats(b).books, 1);
    cr_assert_eq(sc_book_bbo(b, 8, &q), -ENOENT);
    cr_assert_eq(sc_book_depth(b, 8, BID, NULL, 0), -ENOENT);
    sc_book_destroy(b);
}

Test(book, add_refuses_duplicates_zero_shares_and_bad_sides)
{
    struct sc_book *b = mk(64, 4, 16);

    cr_assert_eq(sc_book_add(b, 1, 9, BID, 100, 500), 0);
    cr_assert_eq(sc_book_add(b, 2, 9, ASK, 100, 600), -EEXIST);
    cr_assert_eq(sc_book_add(b, 1, 10, BID, 0, 500), -EINVAL);
    cr_assert_eq(sc_book_add(b, 1, 11, (enum sc_book_side)2, 10, 500), -EINVAL);
    cr_assert_eq(stats(b).dup_ref, 1);
    cr_assert_eq(stats(b).zero_shares, 1);
    cr_assert_eq(stats(b).bad_side, 1);
    cr_assert_eq(stats(b).adds, 1, "refused adds are not adds");
    cr_assert_eq(stats(b).orders_live, 1);
    check_level(b, 1, BID, 0, 500, 100, 1);
    sc_book_destroy(b);
}

Test(book, execute_takes_shares_and_reports_the_trade_at_the_order_price)
{
    struct sc_book *b = mk(64, 4, 16);
    struct sc_book_order o;

    sc_book_add(b, 3, 100, ASK, 300, 2500);
    sc_book_add(b, 3, 101, ASK, 100, 2500);
    cr_assert_eq(sc_book_execute(b, 100, 120, 777), 0);
    cr_assert_eq(seen.trade_calls, 1);
    cr_assert_eq(seen.trade.kind, 'E');
    cr_assert_eq(seen.trade.ref, 100);
    cr_assert_eq(seen.trade.match, 777);
    cr_assert_eq(seen.trade.shares, 120);
    cr_assert_eq(seen.trade.price, 2500);
    cr_assert_eq(seen.trade.locate, 3);
    cr_assert_eq(seen.trade.side, 'S');
    cr_assert(seen.trade.printable);
    cr_assert_eq(sc_book_order(b, 100, &o), 0);
    cr_assert_eq(o.shares, 180);
    check_level(b, 3, ASK, 0, 2500, 280, 2);
    cr_assert_eq(seen.bbo.ask_shares, 280);
    /* the rest of it: the order leaves, the level stays for 101 */
    cr_assert_eq(sc_book_execute(b, 100, 180, 778), 0);
    cr_assert_eq(sc_book_order(b, 100, &o), -ENOENT);
    check_level(b, 3, ASK, 0, 2500, 100, 1);
    cr_assert_eq(stats(b).executes, 2);
    cr_assert_eq(stats(b).exec_clamped, 0);
    cr_assert_eq(stats(b).orders_live, 1);
    sc_book_destroy(b);
}

Test(book, execute_with_price_keeps_the_order_price_and_reports_its_own)
{
    struct sc_book *b = mk(64, 4, 16);
    struct sc_book_order o;

    sc_book_add(b, 3, 5, BID, 100, 4000);
    cr_assert_eq(sc_book_execute_price(b, 5, 40, 3990, 9, false), 0);
    cr_assert_eq(seen.trade.kind, 'C');
    cr_assert_eq(seen.trade.price, 3990);
    cr_assert_eq(seen.trade.shares, 40);
    cr_assert_eq(seen.trade.side, 'B');
    cr_assert(!seen.trade.printable);
    cr_assert_eq(sc_book_order(b, 5, &o), 0);
    cr_assert_eq(o.price, 4000, "C does not move the order");
    cr_assert_eq(o.shares, 60);
    check_level(b, 3, BID, 0, 4000, 60, 1);
    cr_assert_eq(stats(b).executes, 1);
    cr_assert_eq(stats(b).executes_price, 1);
    sc_book_destroy(b);
}

Test(book, executions_and_cancels_past_the_order_are_clamped_and_counted)
{
    struct sc_book *b = mk(64, 4, 16);
    struct sc_book_order o;

    sc_book_add(b, 3, 1, BID, 100, 4000);
    sc_book_add(b, 3, 2, BID, 100, 3000);
    cr_assert_eq(sc_book_execute(b, 1, 150, 1), 0);
    cr_assert_eq(seen.trade.shares, 100, "the trade reports what the order held");
    cr_assert_eq(sc_book_order(b, 1, &o), -ENOENT);
    cr_assert_eq(stats(b).exec_clamped, 1);
    cr_assert_eq(levels(b, 3, BID), 1);
    cr_assert_eq(sc_book_cancel(b, 2, 500), 0);
    cr_assert_eq(sc_book_order(b, 2, &o), -ENOENT);
    cr_assert_eq(stats(b).cancel_clamped, 1);
    cr_assert_eq(levels(b, 3, BID), 0);
    cr_assert_eq(bbo(b, 3).bid_price, 0);
    cr_assert_eq(bbo(b, 3).bid_shares, 0);
    cr_assert_eq(stats(b).orders_live, 0);
    cr_assert_eq(stats(b).levels_live, 0);
    sc_book_destroy(b);
}

Test(book, cancel_is_partial_and_delete_removes_whatever_is_left)
{
    struct sc_book *b = mk(64, 4, 16);
    struct sc_book_order o;
    int trades;

    sc_book_add(b, 3, 1, ASK, 100, 4000);
    sc_book_add(b, 3, 2, ASK, 50, 4100);
    trades = seen.trade_calls;
    cr_assert_eq(sc_book_cancel(b, 1, 30), 0);
    cr_assert_eq(seen.trade_calls, trades, "a cancel is no trade");
    cr_assert_eq(sc_book_order(b, 1, &o), 0);
    cr_assert_eq(o.shares, 70);
    check_level(b, 3, ASK, 0, 4000, 70, 1);
    cr_assert_eq(sc_book_delete(b, 1), 0);
    cr_assert_eq(sc_book_order(b, 1, &o), -ENOENT);
    check_level(b, 3, ASK, 0, 4100, 50, 1);
    cr_assert_eq(seen.bbo.ask_price, 4100);
    cr_assert_eq(seen.bbo.ask_shares, 50);
    cr_assert_eq(stats(b).cancels, 1);
    cr_assert_eq(stats(b).deletes, 1);
    sc_book_destroy(b);
}

Test(book, replace_moves_the_order_under_its_new_reference_and_side)
{
    struct sc_book *b = mk(64, 4, 16);
    struct sc_book_order o;

    sc_book_add(b, 4, 10, ASK, 100, 5000);
    sc_book_add(b, 4, 11, ASK, 100, 5100);
    cr_assert_eq(sc_book_replace(b, 10, 20, 70, 5200), 0);
    cr_assert_eq(sc_book_order(b, 10, &o), -ENOENT, "the old reference is gone");
    cr_assert_eq(sc_book_order(b, 20, &o), 0);
    cr_assert_eq(o.locate, 4);
    cr_assert_eq(o.side, ASK, "side carried over");
    cr_assert_eq(o.price, 5200);
    cr_assert_eq(o.shares, 70);
    check_level(b, 4, ASK, 0, 5100, 100, 1);
    check_level(b, 4, ASK, 1, 5200, 70, 1);
    cr_assert_eq(levels(b, 4, ASK), 2, "the old level closed");
    cr_assert_eq(seen.bbo.ask_price, 5100);
    /* later messages use the new reference */
    cr_assert_eq(sc_book_execute(b, 20, 10, 1), 0);
    cr_assert_eq(sc_book_execute(b, 10, 10, 2), -ENOENT);
    cr_assert_eq(stats(b).replaces, 1);
    cr_assert_eq(stats(b).adds, 2, "a replace is not an add");
    cr_assert_eq(stats(b).orders_live, 2);
    sc_book_destroy(b);
}

Test(book, replace_loses_priority_even_at_the_same_price)
{
    struct sc_book *b = mk(64, 4, 16);
    struct sc_book_order o1, o2, o3;

    sc_book_add(b, 4, 1, BID, 100, 5000);
    sc_book_add(b, 4, 2, BID, 100, 5000);
    cr_assert_eq(sc_book_order(b, 1, &o1), 0);
    cr_assert_eq(sc_book_order(b, 2, &o2), 0);
    cr_assert_lt(o1.priority, o2.priority, "first come, first in the queue");
    cr_assert_eq(sc_book_replace(b, 1, 3, 150, 5000), 0);
    cr_assert_eq(sc_book_order(b, 3, &o3), 0);
    cr_assert_gt(o3.priority, o2.priority, "the replaced order is now behind 2");
    cr_assert_eq(o3.shares, 150);
    check_level(b, 4, BID, 0, 5000, 250, 2);
    cr_assert_eq(seen.bbo.bid_shares, 250);
    /* a smaller size at the same price loses priority too */
    cr_assert_eq(sc_book_replace(b, 2, 4, 50, 5000), 0);
    cr_assert_eq(sc_book_order(b, 4, &o2), 0);
    cr_assert_gt(o2.priority, o3.priority);
    check_level(b, 4, BID, 0, 5000, 200, 2);
    sc_book_destroy(b);
}

Test(book, replace_refusals_remove_the_old_order_and_count)
{
    struct sc_book *b = mk(64, 4, 16);
    struct sc_book_order o;

    sc_book_add(b, 4, 1, BID, 100, 5000);
    sc_book_add(b, 4, 2, BID, 100, 4900);
    sc_book_add(b, 4, 3, BID, 100, 4800);
    cr_assert_eq(sc_book_replace(b, 1, 2, 10, 5000), -EEXIST);
    cr_assert_eq(sc_book_order(b, 1, &o), -ENOENT, "U says 1 is gone");
    cr_assert_eq(sc_book_order(b, 2, &o), 0);
    cr_assert_eq(o.shares, 100, "2 untouched");
    cr_assert_eq(stats(b).dup_ref, 1);
    cr_assert_eq(sc_book_replace(b, 2, 5, 0, 4900), -EINVAL);
    cr_assert_eq(sc_book_order(b, 2, &o), -ENOENT);
    cr_assert_eq(sc_book_order(b, 5, &o), -ENOENT);
    cr_assert_eq(stats(b).zero_shares, 1);
    cr_assert_eq(levels(b, 4, BID), 1);
    cr_assert_eq(bbo(b, 4).bid_price, 4800);
    cr_assert_eq(seen.bbo.bid_price, 4800);
    /* same reference, new price: allowed */
    cr_assert_eq(sc_book_replace(b, 3, 3, 5, 4700), 0);
    cr_assert_eq(sc_book_order(b, 3, &o), 0);
    cr_assert_eq(o.price, 4700);
    sc_book_destroy(b);
}

Test(book, unknown_references_are_counted_by_kind_and_change_nothing)
{
    struct sc_book *b = mk(64, 4, 16);
    struct sc_book_stats st;
    struct sc_book_order o;
    int calls;

    sc_book_add(b, 4, 1, BID, 100, 5000);
    calls = seen.bbo_calls + seen.trade_calls;
    cr_assert_eq(sc_book_execute(b, 99, 10, 1), -ENOENT);
    cr_assert_eq(sc_book_execute_price(b, 99, 10, 1, 1, true), -ENOENT);
    cr_assert_eq(sc_book_cancel(b, 99, 10), -ENOENT);
    cr_assert_eq(sc_book_cancel(b, 98, 10), -ENOENT);
    cr_assert_eq(sc_book_delete(b, 99), -ENOENT);
    cr_assert_eq(sc_book_replace(b, 99, 100, 10, 5000), -ENOENT);
    cr_assert_eq(sc_book_order(b, 100, &o), -ENOENT, "U's new reference stays unknown");
    cr_assert_eq(sc_book_execute(b, 100, 1, 1), -ENOENT);
    st = stats(b);
    cr_assert_eq(st.unknown_execute, 3);
    cr_assert_eq(st.unknown_cancel, 2);
    cr_assert_eq(st.unknown_delete, 1);
    cr_assert_eq(st.unknown_replace, 1);
    cr_assert_eq(st.executes + st.cancels + st.deletes + st.replaces, 0);
    cr_assert_eq(seen.bbo_calls + seen.trade_calls, calls);
    check_level(b, 4, BID, 0, 5000, 100, 1);
    sc_book_destroy(b);
}

Test(book, max_orders_refuses_counts_and_marks_the_book_stale)
{
    struct sc_book *b = mk(3, 4, 16);
    struct sc_book_info info;

    cr_assert_eq(sc_book_add(b, 1, 1, BID, 10, 100), 0);
    cr_assert_eq(sc_book_add(b, 2, 2, BID, 10, 100), 0);
    cr_assert_eq(sc_book_add(b, 1, 3, ASK, 10, 200), 0);
    seen.state_calls = 0;
    cr_assert_eq(sc_book_add(b, 1, 4, ASK, 10, 300), -ENOSPC);
    cr_assert_eq(stats(b).orders_full, 1);
    cr_assert_eq(stats(b).orders_live, 3);
    cr_assert_eq(seen.state_calls, 1);
    cr_assert_eq(seen.what, SC_BOOK_CHG_STALE);
    cr_assert(seen.info.stale);
    cr_assert_eq(seen.info.locate, 1);
    cr_assert(bbo(b, 1).stale);
    cr_assert(!bbo(b, 2).stale, "only the refused order's book");
    cr_assert_eq(sc_book_info(b, 1, &info), 0);
    cr_assert_eq(info.stats.refused, 1);
    cr_assert_eq(stats(b).stale_books, 1);
    /* room again after a delete */
    cr_assert_eq(sc_book_delete(b, 2), 0);
    cr_assert_eq(sc_book_add(b, 1, 4, ASK, 10, 300), 0);
    sc_book_destroy(b);
}

Test(book, max_books_refuses_a_new_instrument)
{
    struct sc_book *b = mk(64, 2, 16);

    cr_assert_eq(sc_book_instrument(b, 100, "AAA     "), 0);
    cr_assert_eq(sc_book_add(b, 200, 1, BID, 10, 100), 0);
    cr_assert_eq(sc_book_add(b, 300, 2, BID, 10, 100), -ENOSPC);
    cr_assert_eq(sc_book_instrument(b, 300, "CCC     "), -ENOSPC);
    cr_assert_eq(sc_book_trading_state(b, 300, 'H', "T1  "), -ENOSPC);
    cr_assert_eq(stats(b).books_full, 3);
    cr_assert_eq(stats(b).books, 2);
    cr_assert_eq(sc_book_add(b, 100, 3, BID, 10, 100), 0, "known books still take orders");
    cr_assert_eq(sc_book_books(b, NULL, 0), 2);
    sc_book_destroy(b);
}

Test(book, max_levels_refuses_a_new_price_but_not_a_known_one)
{
    struct sc_book *b = mk(64, 4, 3);

    for (uint32_t i = 0; i < 3; i++)
        cr_assert_eq(sc_book_add(b, 1, i + 1, BID, 10, 100 + i), 0);
    cr_assert_eq(sc_book_add(b, 1, 10, BID, 10, 99), -ENOSPC);
    cr_assert_eq(stats(b).levels_full, 1);
    cr_assert(bbo(b, 1).stale);
    cr_assert_eq(sc_book_add(b, 1, 11, BID, 10, 101), 0, "a known price");
    cr_assert_eq(sc_book_add(b, 1, 12, ASK, 10, 500), 0, "the other side has its own room");
    check_level(b, 1, BID, 1, 101, 20, 2);
    /* a replace to a new price on a full side: its old level closes first when
     * it was alone there (room), else the new one is refused (old removed) */
    cr_assert_eq(sc_book_replace(b, 1, 13, 10, 50), 0, "100 closed, 50 opened");
    cr_assert_eq(stats(b).levels_full, 1);
    cr_assert_eq(sc_book_replace(b, 11, 15, 10, 40), -ENOSPC, "101 keeps order 2");
    cr_assert_eq(stats(b).levels_full, 2);
    {
        struct sc_book_order o;

        cr_assert_eq(sc_book_order(b, 11, &o), -ENOENT);
        cr_assert_eq(sc_book_order(b, 15, &o), -ENOENT);
    }
    check_level(b, 1, BID, 0, 102, 10, 1);
    check_level(b, 1, BID, 1, 101, 10, 1);
    check_level(b, 1, BID, 2, 50, 10, 1);
    sc_book_destroy(b);
}

/* Side s of loc holds n levels of 7 shares and one order each, from best down by step. */
static void
check_side(const struct sc_book *b, uint16_t loc, enum sc_book_side s, uint32_t best, int n,
           int step)
{
    struct sc_book_level lv[1024];

    cr_assert_eq(sc_book_depth(b, loc, s, lv, 1024), n, "side %d of %u: %d levels", s, loc, n);
    for (int i = 0; i < n; i++)
        cr_assert(lv[i].price == best - (uint32_t)(i * step) && lv[i].shares == 7 &&
                      lv[i].orders == 1,
                  "side %d of %u level %d: %u x %llu (%u orders), expected %u x 7", s, loc, i,
                  lv[i].price, (unsigned long long)lv[i].shares, lv[i].orders,
                  best - (uint32_t)(i * step));
}

Test(book, sides_outgrow_their_first_32_levels_into_the_level_pool)
{
    /* a pool of 248 levels: one block of 64 (92 with its gap and room) and one
     * of 128 (156) */
    struct sc_book_cfg cfg = { .max_orders = 1024, .max_books = 4, .max_levels = 1000,
                               .level_pool = 92 + 156 };
    struct sc_book *b;
    struct sc_err err = { 0 };
    uint64_t ref = 1;

    cr_assert_eq(sc_book_create(&b, &cfg, &err), 0, "%s", err.msg);
    /* book 1's bids: 64 levels, each new one the worst (the bottom of the
     * array, beside the sentinels), then one more as the best */
    for (uint32_t i = 0; i < 64; i++)
        cr_assert_eq(sc_book_add(b, 1, ref++, BID, 7, 1000 - i), 0, "level %u", i);
    cr_assert_eq(stats(b).sides_grown, 1, "32 -> 64");
    cr_assert_eq(stats(b).level_pool_taken, 92);
    check_side(b, 1, BID, 1000, 64, 1);
    cr_assert_eq(sc_book_add(b, 1, ref++, BID, 7, 1001), 0);
    cr_assert_eq(stats(b).sides_grown, 2, "64 -> 128");
    cr_assert_eq(stats(b).level_pool_taken, 248);
    check_side(b, 1, BID, 1001, 65, 1);
    cr_assert_eq(bbo(b, 1).bid_price, 1001);
    /* book 2's bids take the block of 64 book 1 left (the pool is used up) */
    uint64_t ref2 = ref;

    for (uint32_t i = 0; i < 64; i++)
        cr_assert_eq(sc_book_add(b, 2, ref++, BID, 7, 10 + 2 * i), 0, "bid level %u", i);
    cr_assert_eq(stats(b).sides_grown, 3);
    cr_assert_eq(stats(b).level_pool_taken, 248, "a freed block reused");
    /* the 65th: no block of 128 left -- refused, counted, stale; the side whole */
    cr_assert_eq(sc_book_add(b, 2, ref++, BID, 7, 5), -ENOSPC);
    cr_assert_eq(stats(b).level_pool_full, 1);
    cr_assert_eq(stats(b).levels_full, 0, "not max_levels");
    cr_assert(bbo(b, 2).stale);
    cr_assert(!bbo(b, 1).stale);
    check_side(b, 2, BID, 10 + 2 * 63, 64, 2);
    cr_assert_eq(sc_book_add(b, 2, ref++, ASK, 7, 9000), 0, "the other side has its own room");
    /* down to 4 levels: the top's scan reads the reused block's sentinels */
    for (uint64_t r = ref2 + 4; r < ref2 + 64; r++)
        cr_assert_eq(sc_book_delete(b, r), 0);
    check_side(b, 2, BID, 16, 4, 2);
    cr_assert_eq(sc_book_add(b, 2, ref++, BID, 7, 9), 0);
    cr_assert_eq(sc_book_add(b, 2, ref++, BID, 7, 17), 0);
    {
        const uint32_t want[] = { 17, 16, 14, 12, 10, 9 };

        cr_assert_eq(levels(b, 2, BID), 6);
        for (int i = 0; i < 6; i++)
            check_level(b, 2, BID, i, want[i], 7, 1);
    }
    /* book 1 emptied from the best down, then refilled: its block stays */
    for (uint64_t r = 65; r >= 1; r--)
        cr_assert_eq(sc_book_delete(b, r), 0);
    cr_assert_eq(levels(b, 1, BID), 0);
    cr_assert_eq(bbo(b, 1).bid_price, 0);
    for (uint32_t i = 0; i < 100; i++)
        cr_assert_eq(sc_book_add(b, 1, ref++, BID, 7, 2000 + 3 * i), 0);
    check_side(b, 1, BID, 2000 + 3 * 99, 100, 3);
    cr_assert_eq(stats(b).sides_grown, 3, "no move: 100 fit its 128");
    sc_book_destroy(b);
}

Test(book, instruments_are_named_by_the_directory_or_learned_unnamed)
{
    struct sc_book *b = mk(64, 8, 16);
    struct sc_book_info info;
    uint16_t locs[8];

    cr_assert_eq(sc_book_instrument(b, 12, "AAPL    "), 0);
    cr_assert_eq(seen.what, SC_BOOK_CHG_SYMBOL);
    cr_assert_str_eq(seen.info.symbol, "AAPL");
    cr_assert_eq(sc_book_add(b, 13, 1, BID, 1, 1), 0);
    cr_assert_eq(sc_book_info(b, 13, &info), 0);
    cr_assert_str_eq(info.symbol, "", "an unnamed book");
    cr_assert_eq(sc_book_instrument(b, 13, "MSFT    "), 0);
    cr_assert_eq(sc_book_info(b, 13, &info), 0);
    cr_assert_str_eq(info.symbol, "MSFT");
    cr_assert_eq(info.stats.orders, 1, "naming keeps its orders");
    cr_assert_eq(sc_book_locate_of(b, "MSFT    "), 13);
    cr_assert_eq(sc_book_locate_of(b, "AAPL    "), 12);
    cr_assert_eq(sc_book_locate_of(b, "IBM     "), -ENOENT);
    cr_assert_eq(sc_book_books(b, locs, 8), 2);
    cr_assert_eq(locs[0], 12);
    cr_assert_eq(locs[1], 13);
    sc_book_destroy(b);
}

Test(book, trading_state_reg_sho_and_system_events_are_tracked)
{
    struct sc_book *b = mk(64, 8, 16);
    struct sc_book_info info;
    struct sc_book_system sys;

    cr_assert_eq(sc_book_trading_state(b, 5, 'H', "T1  "), 0);
    cr_assert_eq(seen.state_calls, 1);
    cr_assert_eq(seen.what, SC_BOOK_CHG_TRADING);
    cr_assert_eq(seen.info.trading_state, 'H');
    cr_assert_str_eq(seen.info.reason, "T1");
    cr_assert_eq(sc_book_trading_state(b, 5, 'H', "T1  "), 0);
    cr_assert_eq(seen.state_calls, 1, "no change, no callback");
    cr_assert_eq(sc_book_trading_state(b, 5, 'T', "    "), 0);
    cr_assert_eq(seen.state_calls, 2);
    cr_assert_eq(sc_book_reg_sho(b, 5, '1'), 0);
    cr_assert_eq(seen.what, SC_BOOK_CHG_REG_SHO);
    cr_assert_eq(sc_book_info(b, 5, &info), 0);
    cr_assert_eq(info.trading_state, 'T');
    cr_assert_str_eq(info.reason, "");
    cr_assert_eq(info.reg_sho, '1');
    cr_assert_eq(stats(b).state_changes, 3);
    cr_assert_eq(stats(b).reg_sho, 1);

    sc_book_system(b, &sys);
    cr_assert_eq(sys.last_event, 0);
    sc_book_system_event(b, 'O');
    sc_book_system_event(b, 'S');
    sc_book_system_event(b, 'Q');
    cr_assert_eq(seen.system_calls, 3);
    cr_assert(seen.sys.messages && seen.sys.system_hours && seen.sys.market_hours);
    sc_book_system_event(b, 'M');
    sc_book_system(b, &sys);
    cr_assert(!sys.market_hours && sys.system_hours && sys.messages);
    cr_assert_eq(sys.last_event, 'M');
    sc_book_system_event(b, 'E');
    sc_book_system_event(b, 'C');
    sc_book_system(b, &sys);
    cr_assert(!sys.messages && !sys.system_hours && !sys.market_hours);
    cr_assert_eq(stats(b).system_events, 6);
    sc_book_destroy(b);
}

Test(book, trades_without_book_change_are_reported_and_counted)
{
    struct sc_book *b = mk(64, 8, 16);
    struct sc_book_trade p = { .kind = 'P', .locate = 5, .shares = 300, .price = 1234,
                               .match = 42, .side = 'B', .printable = true };
    struct sc_book_trade q = { .kind = 'Q', .locate = 5, .shares = 0, .cross_type = 'O' };
    struct sc_book_trade brk = { .kind = 'B', .match = 42 };
    struct sc_book_info info;

    sc_book_add(b, 5, 1, BID, 10, 1000);
    sc_book_trade(b, &p);
    cr_assert_eq(seen.trade_calls, 1);
    cr_assert_eq(seen.trade.kind, 'P');
    cr_assert_eq(seen.trade.shares, 300);
    sc_book_trade(b, &q);
    sc_book_trade(b, &brk);
    cr_assert_eq(seen.trade.kind, 'B');
    cr_assert_eq(seen.trade_calls, 3);
    cr_assert_eq(stats(b).trades, 3);
    cr_assert_eq(sc_book_info(b, 5, &info), 0);
    cr_assert_eq(info.stats.trades, 2, "B names no instrument");
    check_level(b, 5, BID, 0, 1000, 10, 1);
    sc_book_destroy(b);
}

Test(book, stale_marks_rebuild_and_session_gaps)
{
    struct sc_book *b = mk(64, 8, 16);
    struct sc_book_info info;

    sc_book_add(b, 1, 1, BID, 10, 100);
    sc_book_add(b, 2, 2, BID, 10, 100);
    cr_assert_eq(sc_book_mark_stale(b, 9), -ENOENT);
    seen.state_calls = 0;
    cr_assert_eq(sc_book_mark_stale(b, 1), 0);
    cr_assert_eq(seen.state_calls, 1);
    cr_assert(seen.info.stale);
    cr_assert_eq(sc_book_mark_stale(b, 1), 0);
    cr_assert_eq(seen.state_calls, 1, "already stale: no callback");
    cr_assert(bbo(b, 1).stale);
    cr_assert(!bbo(b, 2).stale);
    cr_assert_eq(stats(b).stale_books, 1);
    cr_assert_eq(sc_book_rebuilt(b, 1), 0);
    cr_assert_eq(seen.state_calls, 2);
    cr_assert(!seen.info.stale);
    cr_assert(!bbo(b, 1).stale);
    cr_assert_eq(stats(b).rebuilt, 1);

    /* a session gap: every book, and books first seen afterwards */
    sc_book_mark_all_stale(b);
    cr_assert(bbo(b, 1).stale && bbo(b, 2).stale);
    sc_book_add(b, 3, 3, ASK, 10, 100);
    cr_assert(bbo(b, 3).stale, "a book first seen after the gap may have missed orders");
    cr_assert_eq(stats(b).stale_books, 3);
    cr_assert_eq(stats(b).session_stale, 1);
    cr_assert_eq(sc_book_rebuilt(b, 2), 0);
    cr_assert(!bbo(b, 2).stale);
    cr_assert(bbo(b, 1).stale);
    sc_book_rebuilt_all(b);
    cr_assert(!bbo(b, 1).stale && !bbo(b, 3).stale);
    sc_book_add(b, 4, 4, ASK, 10, 100);
    cr_assert(!bbo(b, 4).stale, "the session is whole again");
    cr_assert_eq(stats(b).stale_books, 0);
    cr_assert_eq(sc_book_info(b, 1, &info), 0);
    cr_assert_eq(info.stats.stale_periods, 2);
    sc_book_destroy(b);
}

Test(book, clear_removes_one_books_orders_and_the_rebuild_adds_them_again)
{
    struct sc_book *b = mk(256, 8, 64);
    struct sc_book_order o;
    struct sc_book_info info;

    for (uint64_t r = 1; r <= 120; r++)
        cr_assert_eq(sc_book_add(b, (uint16_t)(r % 3), r, r % 2 ? BID : ASK, 10,
                                 (uint32_t)(1000 + (r % 2 ? -1 : 1) * (int)(r % 17))),
                     0);
    sc_book_mark_stale(b, 1);
    seen.bbo_calls = 0;
    cr_assert_eq(sc_book_clear(b, 1), 40);
    cr_assert_eq(seen.bbo_calls, 1, "the emptied book's BBO reported once");
    cr_assert_eq(seen.bbo.bid_orders + seen.bbo.ask_orders, 0);
    cr_assert(bbo(b, 1).stale, "clearing is not rebuilding");
    cr_assert_eq(levels(b, 1, BID) + levels(b, 1, ASK), 0);
    cr_assert_eq(stats(b).orders_live, 80);
    cr_assert_eq(stats(b).cleared_orders, 40);
    for (uint64_t r = 1; r <= 120; r++)
        cr_assert_eq(sc_book_order(b, r, &o), r % 3 == 1 ? -ENOENT : 0, "ref %llu",
                     (unsigned long long)r);
    /* the snapshot: two orders, then rebuilt */
    cr_assert_eq(sc_book_add(b, 1, 1000, BID, 5, 990), 0);
    cr_assert_eq(sc_book_add(b, 1, 1001, ASK, 6, 1010), 0);
    cr_assert_eq(sc_book_rebuilt(b, 1), 0);
    cr_assert(!bbo(b, 1).stale);
    cr_assert_eq(bbo(b, 1).bid_price, 990);
    cr_assert_eq(sc_book_info(b, 1, &info), 0);
    cr_assert_eq(info.stats.orders, 2);
    sc_book_clear_all(b);
    cr_assert_eq(stats(b).orders_live, 0);
    cr_assert_eq(stats(b).levels_live, 0);
    cr_assert_eq(sc_book_order(b, 2, &o), -ENOENT);
    cr_assert_eq(sc_book_add(b, 2, 2, BID, 10, 100), 0, "the map works after a clear");
    cr_assert_eq(sc_book_clear(b, 7), -ENOENT);
    sc_book_destroy(b);
}

/* deep levels (past the scanned top: the bisecting path) land in order */
Test(book, many_levels_stay_sorted_on_both_sides)
{
    struct sc_book *b = mk(4096, 2, 1024);
    static uint8_t used[2][2000];
    uint64_t s = 7;
    struct sc_book_level lv[1024];
    int n;

    memset(used, 0, sizeof(used));
    for (uint64_t r = 1; r <= 1500; r++) {
        unsigned side = (unsigned)(tu_rand(&s) & 1);
        uint32_t px = 1 + (uint32_t)(tu_rand(&s) % 1999);

        cr_assert_eq(sc_book_add(b, 1, r, side, 1, px), 0);
        used[side][px] = 1;
    }
    for (unsigned side = 0; side < 2; side++) {
        uint32_t want = 0;
        int k = 0;

        for (uint32_t px = 0; px < 2000; px++)
            want += used[side][px];
        n = sc_book_depth(b, 1, side, lv, 1024);
        cr_assert_eq((uint32_t)n, want);
        for (int i = 0; i + 1 < n; i++)
            cr_assert(side == BID ? lv[i].price > lv[i + 1].price : lv[i].price < lv[i + 1].price);
        for (uint32_t px = 0; px < 2000; px++)
            k += used[side][px];
        cr_assert_eq(k, n);
    }
    /* remove every other order: levels that empty close, in place */
    for (uint64_t r = 1; r <= 1500; r += 2)
        cr_assert_eq(sc_book_delete(b, r), 0);
    cr_assert_eq(stats(b).orders_live, 750);
    sc_book_destroy(b);
}

/* references that share their low bits, or come in strides of the table's
 * size: the map still finds every one, and draining it leaves it empty */
Test(book, order_map_survives_colliding_patterns_and_a_full_drain)
{
    const uint32_t max = 5000;
    struct sc_book *b = mk(max, 1, 8);
    static const uint64_t strides[] = { 1, 8192, UINT64_C(1) << 32, UINT64_C(0x9E3779B97F4A7C15) };
    struct sc_book_order o;

    static bool gone[5000];

    for (unsigned k = 0; k < 4; k++) {
        for (uint64_t i = 0; i < max; i++)
            cr_assert_eq(sc_book_add(b, 1, (i + 1) * strides[k], BID, 1, 100), 0);
        cr_assert_eq(sc_book_add(b, 1, (max + 1) * strides[k], BID, 1, 100), -ENOSPC);
        for (uint64_t i = 0; i < max; i++)
            cr_assert_eq(sc_book_order(b, (i + 1) * strides[k], &o), 0);
        /* delete in a shuffled order (2654435761 is prime to 5000: a permutation),
         * checking every reference now and then */
        memset(gone, 0, sizeof(gone));
        for (uint64_t i = 0; i < max; i++) {
            uint64_t j = (i * 2654435761u) % max;

            cr_assert_eq(sc_book_delete(b, (j + 1) * strides[k]), 0, "stride %u i %llu", k,
                         (unsigned long long)i);
            gone[j] = true;
            if (i % 499 == 0)
                for (uint64_t m = 0; m < max; m++)
                    cr_assert_eq(sc_book_order(b, (m + 1) * strides[k], &o),
                                 gone[m] ? -ENOENT : 0);
        }
        cr_assert_eq(stats(b).orders_live, 0);
        cr_assert_eq(levels(b, 1, BID), 0);
    }
    sc_book_destroy(b);
}

/* Orders that outlive the ring's span of later references (max_orders 16:
 * a ring of 32 slots) move to the overflow map and stay whole: found,
 * executed, replaced, refused as duplicates, cleared. */
Test(book, long_lived_orders_outlive_the_ring)
{
    struct sc_book *b = mk(16, 2, 8);
    struct sc_book_order o;

    cr_assert_eq(sc_book_add(b, 1, 5, BID, 100, 1000), 0);  /* long-lived */
    cr_assert_eq(sc_book_add(b, 2, 6, ASK, 200, 2000), 0);  /* long-lived */
    for (uint64_t r = 7; r < 7 + 1000; r++) {                /* 1,000 short-lived */
        cr_assert_eq(sc_book_add(b, 1, r, BID, 1, 990), 0);
        cr_assert_eq(sc_book_delete(b, r), 0);
    }
    cr_assert_geq(stats(b).orders_overflowed, 2);
    cr_assert_eq(sc_book_order(b, 5, &o), 0);
    cr_assert_eq(o.shares, 100);
    cr_assert_eq(sc_book_add(b, 1, 5, BID, 1, 1000), -EEXIST, "a duplicate of an overflowed order");
    cr_assert_eq(sc_book_execute(b, 5, 40, 1), 0);
    check_level(b, 1, BID, 0, 1000, 60, 1);
    /* a reference whose ring slot is 5's (5 + 32) is a different order */
    cr_assert_eq(sc_book_add(b, 1, 37, BID, 7, 1000), 0);
    check_level(b, 1, BID, 0, 1000, 67, 2);
    cr_assert_eq(sc_book_order(b, 5, &o), 0);
    cr_assert_eq(o.shares, 60);
    cr_assert_eq(sc_book_replace(b, 6, 22, 50, 2100), 0);    /* out of the overflow map */
    cr_assert_eq(sc_book_order(b, 6, &o), -ENOENT);
    cr_assert_eq(sc_book_order(b, 22, &o), 0);
    cr_assert_eq(o.price, 2100);
    cr_assert_eq(sc_book_clear(b, 1), 2, "5 (overflow) and 37 (ring)");
    cr_assert_eq(sc_book_order(b, 5, &o), -ENOENT);
    cr_assert_eq(sc_book_order(b, 37, &o), -ENOENT);
    cr_assert_eq(sc_book_delete(b, 22), 0);
    cr_assert_eq(stats(b).orders_live, 0);
    sc_book_destroy(b);
}

/* References anywhere in 64 bits, in the ring or the overflow map, keep their
 * order's fields and priority (a query's): an order moved to the map by a
 * later reference of its ring slot keeps its priority. A ring of 32 slots. */
Test(book, high_references_and_priorities)
{
    struct sc_book *b = mk(16, 2, 8);
    const uint64_t top = (UINT64_C(1) << 37) - 1, past = UINT64_C(1) << 37;
    struct sc_book_order o, o2, o3;

    cr_assert_eq(sc_book_add(b, 1, top, BID, 10, 1000), 0);
    cr_assert_eq(sc_book_add(b, 1, past, BID, 20, 1000), 0);
    cr_assert_eq(sc_book_add(b, 1, past + 31, BID, 30, 1000), 0); /* top's ring slot */
    cr_assert_eq(sc_book_add(b, 1, UINT64_MAX, ASK, 40, 2000), 0);
    cr_assert_geq(stats(b).orders_overflowed, 1, "top, to the map");
    cr_assert_eq(sc_book_order(b, top, &o), 0);
    cr_assert_eq(o.shares, 10);
    cr_assert_eq(sc_book_order(b, past, &o2), 0);
    cr_assert_eq(o2.shares, 20);
    cr_assert_gt(o2.priority, o.priority);
    cr_assert_eq(sc_book_order(b, past + 31, &o3), 0);
    cr_assert_eq(o3.shares, 30);
    cr_assert_eq(sc_book_order(b, past - 1 + 32, &o3), 0, "past + 31 is past - 1 + 32");
    cr_assert_eq(sc_book_order(b, past + 63, &o3), -ENOENT, "same slot, not that order");
    cr_assert_eq(sc_book_add(b, 1, past, BID, 1, 1000), -EEXIST);
    check_level(b, 1, BID, 0, 1000, 60, 3);
    cr_assert_eq(sc_book_execute(b, UINT64_MAX, 15, 1), 0);
    cr_assert_eq(sc_book_order(b, UINT64_MAX, &o3), 0);
    cr_assert_eq(o3.shares, 25);
    cr_assert_eq(o3.side, ASK);
    cr_assert_eq(sc_book_delete(b, past), 0);
    cr_assert_eq(sc_book_order(b, past, &o2), -ENOENT);
    /* a ring order moved to the map by a later reference of its slot keeps
     * its priority */
    cr_assert_eq(sc_book_add(b, 2, 3, ASK, 5, 3000), 0);
    cr_assert_eq(sc_book_order(b, 3, &o), 0);
    cr_assert_eq(sc_book_add(b, 2, 3 + 32, ASK, 6, 3000), 0);
    cr_assert_geq(stats(b).orders_overflowed, 2);
    cr_assert_eq(sc_book_order(b, 3, &o2), 0);
    cr_assert_eq(o2.priority, o.priority, "the priority moved with the order");
    cr_assert_eq(o2.shares, 5);
    cr_assert_eq(sc_book_order(b, 35, &o3), 0);
    cr_assert_gt(o3.priority, o2.priority);
    cr_assert_eq(sc_book_clear(b, 1), 3);
    cr_assert_eq(sc_book_order(b, top, &o), -ENOENT);
    cr_assert_eq(sc_book_order(b, past + 31, &o), -ENOENT);
    cr_assert_eq(stats(b).orders_live, 2);
    sc_book_destroy(b);
}

/* Opening and closing a level within SCAN_TOP of the top moves a fixed block
 * of levels (past the top too, into room kept after each side): sides filled
 * to max_levels at the top and at the bottom, then emptied from either end,
 * stay exact, and so does the next book, whose sentinels lie just after. */
Test(book, full_sides_moved_at_the_top_leave_their_neighbours_whole)
{
    struct sc_book *b = mk(256, 4, 16);
    uint64_t ref = 1;

    /* book 1: 16 asks, each a new best; the 8 best closed and opened again
     * (what a move carries past the top is then no longer zeros) */
    for (int round = 0; round < 3; round++) {
        for (uint32_t i = 0; i < 16; i++)
            if (round == 0 || i >= 8)
                cr_assert_eq(sc_book_add(b, 1, ref++, ASK, 10 + i, 2000 - i), 0);
        if (round < 2)
            for (uint64_t r = ref - 1; r > ref - 9; r--)
                cr_assert_eq(sc_book_delete(b, r), 0);
    }
    for (uint32_t i = 0; i < 16; i++) /* and 16 bids, each a new worst: 0-15 moved up */
        cr_assert_eq(sc_book_add(b, 1, ref++, BID, 25 - i, 1015 - i), 0);
    cr_assert_eq(sc_book_add(b, 2, ref++, BID, 5, 100), 0); /* book 2 after it */
    cr_assert_eq(sc_book_add(b, 2, ref++, BID, 6, 101), 0);
    cr_assert_eq(sc_book_add(b, 2, ref++, BID, 7, 99), 0);
    cr_assert_eq(sc_book_add(b, 2, ref++, ASK, 8, 300), 0);
    check_level(b, 2, BID, 0, 101, 6, 1);
    check_level(b, 2, BID, 1, 100, 5, 1);
    check_level(b, 2, BID, 2, 99, 7, 1);
    check_level(b, 2, ASK, 0, 300, 8, 1);
    for (int i = 0; i < 16; i++) {
        check_level(b, 1, ASK, i, 1985 + (uint32_t)i, 25 - (uint64_t)i, 1);
        check_level(b, 1, BID, i, 1015 - (uint32_t)i, 25 - (uint64_t)i, 1);
    }
    /* close the best levels one by one: the longest moves the other way */
    for (uint64_t r = 32; r >= 25; r--) /* the live asks: 25-32 (best first), 1-8 */
        cr_assert_eq(sc_book_delete(b, r), 0);
    for (uint64_t r = 8; r >= 1; r--)
        cr_assert_eq(sc_book_delete(b, r), 0);
    cr_assert_eq(bbo(b, 1).ask_price, 0);
    for (uint64_t r = 48; r >= 37; r--) /* the 12 worst bids, worst first: 15-4 moved down */
        cr_assert_eq(sc_book_delete(b, r), 0);
    for (int i = 0; i < 4; i++)
        check_level(b, 1, BID, i, 1015 - (uint32_t)i, 25 - (uint64_t)i, 1);
    cr_assert_eq(sc_book_depth(b, 1, BID, (struct sc_book_level[8]){ 0 }, 8), 4);
    check_level(b, 2, BID, 0, 101, 6, 1);
    check_level(b, 2, BID, 2, 99, 7, 1);
    cr_assert_eq(stats(b).levels_full, 0);
    sc_book_destroy(b);
}

/* The prefetch hints read, never write: known and unknown references and
 * instruments, refs whose home slot is the map's last, leave every book,
 * order and counter as they were. */
Test(book, prefetch_hints_change_nothing)
{
    struct sc_book *b = mk(64, 4, 8);
    struct sc_book_stats before, after;
    struct sc_book_bbo q0, q1;
    struct sc_book_order o;

    cr_assert_eq(sc_book_add(b, 7, 11, BID, 100, 5000), 0);
    cr_assert_eq(sc_book_add(b, 7, 12, ASK, 200, 5100), 0);
    before = stats(b);
    q0 = bbo(b, 7);
    for (uint64_t r = 0; r < 4096; r++) {
        sc_book_prefetch(b, r * UINT64_C(0x9E3779B97F4A7C15));
        sc_book_prefetch_book(b, (uint16_t)r);
    }
    sc_book_prefetch(b, UINT64_MAX);
    after = stats(b);
    q1 = bbo(b, 7);
    cr_assert_eq(memcmp(&before, &after, sizeof(before)), 0, "a hint changed a counter");
    cr_assert_eq(memcmp(&q0, &q1, sizeof(q0)), 0, "a hint changed the BBO");
    cr_assert_eq(sc_book_order(b, 11, &o), 0);
    cr_assert_eq(o.shares, 100);
    cr_assert_eq(sc_book_books(b, NULL, 0), 1, "a hint created a book");
    cr_assert_eq(sc_book_bbo(b, 8, &q1), -ENOENT);
    sc_book_destroy(b);
}
