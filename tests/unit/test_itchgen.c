/* The ITCH generator (<seqcast/itchgen.h>): a seed gives the same bytes and
 * another seed others; every record decodes (and re-encodes to its bytes);
 * the day keeps ITCH's rules, checked by an independent model of the live
 * orders built from the decoded stream (tests/support/itchday.c); the mix of
 * types is NASDAQ's, roughly; prices move; bad configurations are refused. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <seqcast/itchgen.h>
#include <seqcast/proto/endian.h>
#include <seqcast/proto/itch.h>

#include "tests/support/itchday.h"

struct run {
    struct sc_itchgen_stats st;
    struct itchday day;
    uint8_t *bytes; /* the whole file, when keep */
    size_t len, cap;
    uint32_t lo_px, hi_px; /* locate 1's add prices */
};

/* Generate cfg's day through sc_itchgen_write into a small buffer; split the
 * records, decode each (its length the type's), re-encode it to the same
 * bytes, and check and apply it to the independent model. */
static void
run_day(const struct sc_itchgen_cfg *cfg, struct run *r, bool keep)
{
    struct sc_itchgen *g;
    struct sc_err err = { 0 };
    uint8_t buf[4096];
    size_t n;
    char why[256];

    memset(r, 0, sizeof(*r));
    r->lo_px = UINT32_MAX;
    cr_assert_eq(itchday_init(&r->day), 0);
    cr_assert_eq(sc_itchgen_create(&g, cfg, &err), 0, "%s", err.msg);
    bool short_write = false;

    while ((n = sc_itchgen_write(g, buf, sizeof(buf))) > 0) {
        cr_assert_leq(n, sizeof(buf));
        cr_assert_not(short_write, "a write left room for another record before the day's end");
        short_write = n <= sizeof(buf) - SC_ITCHGEN_RECORD_MAX;
        if (keep) {
            if (r->len + n > r->cap) {
                r->cap = (r->cap + n) * 2;
                cr_assert_not_null(r->bytes = realloc(r->bytes, r->cap));
            }
            memcpy(r->bytes + r->len, buf, n);
            r->len += n;
        }
        for (size_t off = 0; off < n;) {
            struct sc_itch_msg m;
            uint8_t again[SC_ITCH_MAX_LEN];
            size_t len;

            cr_assert_leq(off + 2, n, "a record split across writes");
            len = sc_load_be16(buf + off);
            cr_assert_leq(off + 2 + len, n, "a record split across writes");
            cr_assert_eq(len, sc_itch_msg_len(buf[off + 2]), "type '%c': length %zu",
                         buf[off + 2], len);
            cr_assert_eq(sc_itch_decode(buf + off + 2, len, &m), (int)len,
                         "message %llu ('%c') does not decode",
                         (unsigned long long)r->day.messages + 1, buf[off + 2]);
            cr_assert_eq(sc_itch_encode(again, sizeof(again), &m), (int)len);
            cr_assert_arr_eq(again, buf + off + 2, len, "message %llu re-encodes differently",
                             (unsigned long long)r->day.messages + 1);
            if (itchday_apply(&r->day, &m, why, sizeof(why)) < 0)
                cr_assert_fail("message %llu: %s", (unsigned long long)r->day.messages + 1, why);
            if ((m.type == 'A' || m.type == 'F') && m.locate == 1) {
                r->lo_px = m.add.price < r->lo_px ? m.add.price : r->lo_px;
                r->hi_px = m.add.price > r->hi_px ? m.add.price : r->hi_px;
            }
            off += 2 + len;
        }
    }
    {
        struct sc_itch_msg m;

        cr_assert_eq(sc_itchgen_next(g, &m), 0, "the day goes on after its end");
    }
    if (itchday_end(&r->day, why, sizeof(why)) < 0)
        cr_assert_fail("%s", why);
    sc_itchgen_get_stats(g, &r->st);
    sc_itchgen_destroy(g);
}

static void
run_free(struct run *r)
{
    itchday_free(&r->day);
    free(r->bytes);
}

Test(itchgen, the_same_seed_gives_the_same_bytes_another_seed_others)
{
    struct sc_itchgen_cfg cfg = { .messages = 300000, .symbols = 20, .seed = 7 };
    struct run a, b, c;

    run_day(&cfg, &a, true);
    run_day(&cfg, &b, true);
    cfg.seed = 8;
    run_day(&cfg, &c, true);
    cr_assert_eq(a.len, b.len);
    cr_assert(!memcmp(a.bytes, b.bytes, a.len), "seed 7 twice: different bytes");
    cr_assert(a.len != c.len || memcmp(a.bytes, c.bytes, a.len), "seeds 7 and 8: the same day");
    run_free(&a);
    run_free(&b);
    run_free(&c);
}

Test(itchgen, every_message_decodes_and_the_day_keeps_the_rules, .timeout = 120)
{
    struct sc_itchgen_cfg cfg = { .messages = 2000000, .symbols = 50, .seed = 19 };
    struct run r;
    const struct itchday *d = &r.day;

    run_day(&cfg, &r, false);
    cr_assert_eq(d->messages, cfg.messages);
    cr_assert_eq(d->symbols, cfg.symbols);
    /* the summary is the stream's */
    cr_assert_eq(r.st.messages, d->messages);
    cr_assert_eq(r.st.system_events, d->by_type['S']);
    cr_assert_eq(r.st.directory, d->by_type['R']);
    cr_assert_eq(r.st.trading_actions, d->by_type['H']);
    cr_assert_eq(r.st.trading_actions, cfg.symbols + 2, "one H per symbol, a halt and a resume");
    cr_assert_eq(r.st.reg_sho, d->by_type['Y']);
    cr_assert_eq(r.st.adds, d->by_type['A']);
    cr_assert_eq(r.st.adds_mpid, d->by_type['F']);
    cr_assert_eq(r.st.executes, d->by_type['E']);
    cr_assert_eq(r.st.executes_price, d->by_type['C']);
    cr_assert_eq(r.st.cancels, d->by_type['X']);
    cr_assert_eq(r.st.deletes, d->by_type['D']);
    cr_assert_eq(r.st.replaces, d->by_type['U']);
    cr_assert_eq(r.st.trades, d->by_type['P']);
    cr_assert_eq(r.st.crosses, d->by_type['Q']);
    cr_assert_eq(r.st.noii, d->by_type['I']);
    cr_assert_eq(r.st.symbols, cfg.symbols);
    cr_assert_eq(r.st.orders_live, d->live, "generator %llu live, the model %llu",
                 (unsigned long long)r.st.orders_live, (unsigned long long)d->live);
    cr_assert_leq(r.st.orders_peak, cfg.symbols * SC_ITCHGEN_ORDERS_PER_SYMBOL);
    cr_assert_gt(d->live, cfg.symbols * SC_ITCHGEN_ORDERS_PER_SYMBOL / 2, "the books filled");
    /* the busiest symbol's mid walked: its adds span more than the 2 x 25 ticks around one mid */
    cr_assert_gt(r.hi_px - r.lo_px, 50 * 100, "locate 1's adds span %u", r.hi_px - r.lo_px);
    run_free(&r);
}

/* the shares of each type, against NASDAQ's: A ~38 %, D ~36 %, U ~8 %, I ~7 %, E ~4 %, X ~2 % */
Test(itchgen, the_mix_is_nasdaqs_roughly)
{
    static const struct { char type; double lo, hi; } mix[] = {
        { 'A', 34, 43 }, { 'D', 31, 40 }, { 'U', 6, 10 }, { 'I', 4, 10 }, { 'E', 2.5, 6 },
        { 'X', 1, 3 },   { 'F', 0.3, 2 }, { 'C', 0.05, 1 }, { 'P', 0.3, 2 },
    };
    struct sc_itchgen_cfg cfg = { .messages = 1000000, .symbols = 30, .seed = 3 };
    struct run r;

    run_day(&cfg, &r, false);
    for (size_t i = 0; i < sizeof(mix) / sizeof(mix[0]); i++) {
        double pct = 100.0 * (double)r.day.by_type[(uint8_t)mix[i].type] / (double)r.day.messages;

        cr_expect(pct >= mix[i].lo && pct <= mix[i].hi, "%c: %.2f %% (expected %.2f to %.2f)",
                  mix[i].type, pct, mix[i].lo, mix[i].hi);
    }
    run_free(&r);
}

Test(itchgen, the_shortest_day_has_every_fixed_message_and_no_order)
{
    struct sc_itchgen_cfg cfg = { .symbols = 3, .seed = 1 };
    struct run r;

    cfg.messages = sc_itchgen_min_messages(cfg.symbols);
    run_day(&cfg, &r, false);
    cr_assert_eq(r.day.messages, cfg.messages);
    cr_assert_eq(r.day.by_type['S'], 6);
    cr_assert_eq(r.day.by_type['R'], 3);
    cr_assert_eq(r.day.by_type['Q'], 6);
    cr_assert_eq(r.day.by_type['A'] + r.day.by_type['D'] + r.day.by_type['I'], 0);
    run_free(&r);
}

static int
cmp8(const void *a, const void *b)
{
    return memcmp(a, b, SC_ITCH_STOCK_LEN);
}

Test(itchgen, every_locate_gets_its_own_ticker, .timeout = 60)
{
    struct sc_itchgen_cfg cfg = { .symbols = SC_ITCHGEN_MAX_SYMBOLS, .seed = 5 };
    struct sc_itchgen *g;
    struct sc_err err;
    char (*t)[SC_ITCH_STOCK_LEN] = calloc(SC_ITCHGEN_MAX_SYMBOLS, SC_ITCH_STOCK_LEN);
    struct run r;

    cfg.messages = sc_itchgen_min_messages(cfg.symbols) + 100000;
    cr_assert_eq(sc_itchgen_create(&g, &cfg, &err), 0, "%s", err.msg);
    for (uint32_t l = 1; l <= cfg.symbols; l++)
        cr_assert_eq(sc_itchgen_symbol(g, (uint16_t)l, t[l - 1]), 0);
    cr_assert_eq(sc_itchgen_symbol(g, 0, t[0]), -ENOENT);
    cr_assert(!memcmp(t[0], "AAPL    ", 8));
    qsort(t, cfg.symbols, SC_ITCH_STOCK_LEN, cmp8);
    for (uint32_t i = 1; i < cfg.symbols; i++)
        cr_assert(memcmp(t[i - 1], t[i], SC_ITCH_STOCK_LEN), "%.8s twice", t[i]);
    sc_itchgen_destroy(g);
    free(t);
    run_day(&cfg, &r, false); /* and such a day keeps the rules too */
    cr_assert_eq(r.day.symbols, SC_ITCHGEN_MAX_SYMBOLS);
    run_free(&r);
}

Test(itchgen, bad_configurations_are_refused_with_the_reason)
{
    struct sc_itchgen *g = (struct sc_itchgen *)1;
    struct sc_err err = { 0 };
    struct sc_itchgen_cfg cfg = { .messages = 1000000, .symbols = 0 };

    cr_assert_eq(sc_itchgen_create(&g, &cfg, &err), -EINVAL);
    cr_assert_null(g);
    cr_assert(strstr(err.msg, "symbols"), "%s", err.msg);
    cfg.symbols = SC_ITCHGEN_MAX_SYMBOLS + 1;
    cr_assert_eq(sc_itchgen_create(&g, &cfg, &err), -EINVAL);
    cfg.symbols = 100;
    cfg.messages = sc_itchgen_min_messages(100) - 1;
    cr_assert_eq(sc_itchgen_create(&g, &cfg, &err), -EINVAL);
    cr_assert(strstr(err.msg, "messages"), "%s", err.msg);
    cr_assert_eq(err.code, -EINVAL);
    cfg.messages++;
    cr_assert_eq(sc_itchgen_create(&g, &cfg, NULL), 0);
    sc_itchgen_destroy(g);
    sc_itchgen_destroy(NULL);
}

Test(itchgen, write_puts_only_whole_records)
{
    struct sc_itchgen_cfg cfg = { .messages = 10000, .symbols = 10, .seed = 2 };
    struct sc_itchgen *g;
    uint8_t buf[SC_ITCHGEN_RECORD_MAX];

    cr_assert_eq(sc_itchgen_create(&g, &cfg, NULL), 0);
    cr_assert_eq(sc_itchgen_write(g, buf, sizeof(buf) - 1), 0);
    cr_assert_eq(sc_itchgen_write(g, buf, sizeof(buf)), 2 + 12, "one S record");
    cr_assert_eq(buf[2], 'S');
    cr_assert_eq(buf[2 + 11], 'O');
    sc_itchgen_destroy(g);
}
