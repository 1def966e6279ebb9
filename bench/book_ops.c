/* book_ops: the order-book engine (<seqcast/book.h>) on one core, replaying a
 * generated stream of already-decoded operations (no parsing): ns per
 * operation, M operations/s, bytes per live order.
 *
 *   build/bench/book_ops [--ops N] [--live N] [--books N] [--levels N]
 *                        [--recent PCT] [--seed N] [--no-cb] [--prefetch AHEAD]
 *
 * The stream is built first, in memory, then timed alone (on the thread's CPU
 * time, wall time beside it: the machine may be shared). Its mix is an ITCH
 * day's book messages (by count, roughly NASDAQ's: adds 43 %, deletes 39 %,
 * replaces 9 %, executions 6 % (1 in 10 with a price), partial cancels 2 %,
 * trades 1 %), on --books instruments
 * whose activity is skewed (a few carry most of it, as on a real day),
 * around prices that wander; the book is first filled to --live orders and
 * the stream keeps it there. An operation names a live order: with
 * probability --recent % one of the 4,096 most recently added (most orders
 * live briefly), else any. --prefetch AHEAD calls sc_book_prefetch for the
 * operation AHEAD places on, as a feed handler decoding ahead would.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <seqcast/book.h>

enum { OP_ADD, OP_EXEC, OP_EXEC_PX, OP_CANCEL, OP_DELETE, OP_REPLACE, OP_TRADE };

struct op {
    uint64_t ref;
    uint64_t ref2;
    uint32_t shares;
    uint32_t price;
    uint16_t locate;
    uint8_t kind;
    uint8_t side;
};

struct live {
    uint64_t ref;
    uint32_t shares;
    uint32_t price;
    uint16_t locate;
    uint8_t side;
};

static uint64_t rs = 88172645463325252ull;

static uint64_t
rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return rs;
}

static double
now_s(clockid_t clk)
{
    struct timespec ts;

    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t bbo_n, trade_n;
static void
on_bbo(void *ctx, const struct sc_book_bbo *q)
{
    (void)ctx;
    bbo_n += q->bid_price;
}
static void
on_trade(void *ctx, const struct sc_book_trade *t)
{
    (void)ctx;
    trade_n += t->shares;
}

int
main(int argc, char **argv)
{
    uint64_t nops = 20000000, nlive = 1000000, recent = 70;
    uint32_t nbooks = 8000, nlevels = 2048;
    int cb = 1, ahead = 0;
    static const struct option lo[] = {
        { "ops", required_argument, NULL, 'n' },    { "live", required_argument, NULL, 'l' },
        { "books", required_argument, NULL, 'b' },  { "levels", required_argument, NULL, 'v' },
        { "recent", required_argument, NULL, 'r' }, { "seed", required_argument, NULL, 's' },
        { "no-cb", no_argument, NULL, 'c' },        { "prefetch", required_argument, NULL, 'p' },
        { 0, 0, 0, 0 },
    };
    int c;

    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'n': nops = strtoull(optarg, NULL, 0); break;
        case 'l': nlive = strtoull(optarg, NULL, 0); break;
        case 'b': nbooks = (uint32_t)strtoul(optarg, NULL, 0); break;
        case 'v': nlevels = (uint32_t)strtoul(optarg, NULL, 0); break;
        case 'r': recent = strtoull(optarg, NULL, 0); break;
        case 's': rs = strtoull(optarg, NULL, 0) | 1; break;
        case 'c': cb = 0; break;
        case 'p': ahead = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: %s [--ops N] [--live N] [--books N] [--levels N] "
                            "[--recent PCT] [--seed N] [--no-cb] [--prefetch AHEAD]\n", argv[0]);
            return 2;
        }
    }
    if (!nlive || nbooks < 1 || nbooks > 65535)
        return fprintf(stderr, "book_ops: --live >= 1, --books 1..65535\n"), 2;

    /* ---- generate: the fill, then the stream, against a model of the live set */
    uint64_t cap = nlive * 2 + 16, nfill = nlive, total = nfill + nops, next_ref = 1, n = 0;
    struct live *lv = malloc(cap * sizeof(*lv));
    uint64_t *recent_ring = calloc(4096, sizeof(uint64_t)); /* indexes into lv, may be stale */
    struct op *ops = malloc(total * sizeof(*ops));
    uint32_t *mid = malloc((size_t)nbooks * sizeof(uint32_t));
    uint64_t nl = 0, rhead = 0, kinds[7] = { 0 };

    if (!lv || !recent_ring || !ops || !mid)
        return fprintf(stderr, "book_ops: out of memory\n"), 1;
    for (uint32_t i = 0; i < nbooks; i++)
        mid[i] = (uint32_t)(100000 + rnd() % 5000000) / 100 * 100;
    for (uint64_t k = 0; k < total; k++) {
        struct op *o = &ops[n];
        uint64_t d = rnd() % 1000;

        if (k < nfill || nl == 0)
            d = 0;
        else if (d < 450 && nl > nlive + nlive / 16)
            d = 600; /* hold the live count: an add becomes a delete */
        else if (d >= 450 && d < 820 && nl < nlive - nlive / 16)
            d = 0;
        if (d < 450) {
            double u = (double)(rnd() >> 11) / 9007199254740992.0;
            uint32_t b = (uint32_t)(u * u * u * nbooks);
            uint64_t lvl = (uint64_t)__builtin_ctzll(rnd() | (1ull << 40)) + rnd() % 3;

            if (rnd() % 64 == 0)
                mid[b] = mid[b] + (rnd() & 1 ? 100 : -100);
            if (rnd() % 50 == 0)
                lvl = rnd() % 200;
            o->kind = OP_ADD;
            o->locate = (uint16_t)(b + 1);
            o->side = (uint8_t)(rnd() & 1);
            o->price = o->side ? mid[b] + (uint32_t)(1 + lvl) * 100 : mid[b] - (uint32_t)(1 + lvl) * 100;
            o->shares = rnd() % 4 ? (uint32_t)(1 + rnd() % 5) * 100 : (uint32_t)(1 + rnd() % 1000);
            o->ref = next_ref++;
            lv[nl] = (struct live){ o->ref, o->shares, o->price, o->locate, o->side };
            recent_ring[rhead++ & 4095] = nl;
            nl++;
        } else if (d >= 990) {
            o->kind = OP_TRADE;
            o->locate = (uint16_t)(1 + rnd() % nbooks);
            o->shares = 100;
        } else {
            /* an operation on a live order */
            uint64_t i = rnd() % 100 < recent ? recent_ring[rnd() % 4096] : rnd() % nl;
            struct live *x;

            if (i >= nl)
                i = rnd() % nl;
            x = &lv[i];
            o->ref = x->ref;
            if (d < 820) {            /* delete */
                o->kind = OP_DELETE;
                lv[i] = lv[--nl];
            } else if (d < 910) {     /* replace */
                o->kind = OP_REPLACE;
                o->ref2 = next_ref++;
                o->shares = (uint32_t)(1 + rnd() % 5) * 100;
                o->price = rnd() % 4 ? x->price + (x->side ? -100u : 100u) * (uint32_t)(rnd() % 3)
                                     : x->price;
                x->ref = o->ref2;
                x->shares = o->shares;
                x->price = o->price;
                recent_ring[rhead++ & 4095] = i;
            } else if (d < 970) {     /* execute */
                o->kind = rnd() % 10 ? OP_EXEC : OP_EXEC_PX;
                o->shares = x->shares > 100 && rnd() % 2 ? 100 : x->shares;
                o->price = x->price;
                x->shares -= o->shares;
                if (!x->shares)
                    lv[i] = lv[--nl];
            } else {                  /* partial cancel */
                o->kind = OP_CANCEL;
                o->shares = x->shares > 1 ? x->shares / 2 : 1;
                x->shares -= o->shares;
                if (!x->shares)
                    lv[i] = lv[--nl];
            }
        }
        n++;
    }
    free(lv);
    free(recent_ring);
    free(mid);

    /* ---- run */
    struct sc_book_cfg cfg = { .max_orders = (uint32_t)(nlive * 2), .max_books = nbooks,
                               .max_levels = nlevels };
    struct sc_book *b;
    struct sc_err err;

    if (cb) {
        cfg.on_bbo = on_bbo;
        cfg.on_trade = on_trade;
    }
    if (sc_book_create(&b, &cfg, &err) < 0)
        return fprintf(stderr, "book_ops: %s\n", err.msg), 1;
    double t0 = 0, t1, c0 = 0, c1;
    for (uint64_t k = 0; k < total; k++) {
        const struct op *o = &ops[k];

        if (ahead && k + (uint64_t)ahead < total)
            sc_book_prefetch(b, ops[k + (uint64_t)ahead].ref);
        if (k == nfill) {
            t0 = now_s(CLOCK_MONOTONIC);
            c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
        }
        switch (o->kind) {
        case OP_ADD: sc_book_add(b, o->locate, o->ref, o->side, o->shares, o->price); break;
        case OP_EXEC: sc_book_execute(b, o->ref, o->shares, k); break;
        case OP_EXEC_PX: sc_book_execute_price(b, o->ref, o->shares, o->price, k, true); break;
        case OP_CANCEL: sc_book_cancel(b, o->ref, o->shares); break;
        case OP_DELETE: sc_book_delete(b, o->ref); break;
        case OP_REPLACE: sc_book_replace(b, o->ref, o->ref2, o->shares, o->price); break;
        default: {
            struct sc_book_trade t = { .kind = 'P', .locate = o->locate, .shares = o->shares };

            sc_book_trade(b, &t);
            break;
        }
        }
        if (k >= nfill)
            kinds[o->kind]++;
    }
    t1 = now_s(CLOCK_MONOTONIC);
    c1 = now_s(CLOCK_THREAD_CPUTIME_ID);

    struct sc_book_stats st;
    double secs = c1 - c0; /* CPU time: the machine may be shared */

    sc_book_get_stats(b, &st);
    printf("{\"ops\": %llu, \"cpu_seconds\": %.3f, \"wall_seconds\": %.3f, \"ns_per_op\": %.1f, "
           "\"mops_per_s\": %.2f,\n"
           " \"mix\": {\"add\": %llu, \"execute\": %llu, \"execute_price\": %llu, \"cancel\": %llu, "
           "\"delete\": %llu, \"replace\": %llu, \"trade\": %llu},\n"
           " \"books\": %llu, \"live_orders\": %llu, \"peak_orders\": %llu, \"levels\": %llu, "
           "\"bbo_updates\": %llu,\n"
           " \"unknown\": %llu, \"refused\": %llu,\n"
           " \"memory_bytes\": %zu, \"bytes_per_max_order\": %.1f, \"bytes_per_peak_order\": %.1f}\n",
           (unsigned long long)nops, secs, t1 - t0, secs * 1e9 / (double)nops, (double)nops / secs / 1e6,
           (unsigned long long)kinds[OP_ADD], (unsigned long long)kinds[OP_EXEC],
           (unsigned long long)kinds[OP_EXEC_PX], (unsigned long long)kinds[OP_CANCEL],
           (unsigned long long)kinds[OP_DELETE], (unsigned long long)kinds[OP_REPLACE],
           (unsigned long long)kinds[OP_TRADE], (unsigned long long)st.books,
           (unsigned long long)st.orders_live, (unsigned long long)st.orders_peak,
           (unsigned long long)st.levels_live, (unsigned long long)st.bbo_updates,
           (unsigned long long)(st.unknown_execute + st.unknown_cancel + st.unknown_delete +
                                st.unknown_replace),
           (unsigned long long)(st.orders_full + st.levels_full + st.books_full + st.dup_ref),
           sc_book_memory(b), (double)sc_book_memory(b) / cfg.max_orders,
           (double)sc_book_memory(b) / (double)st.orders_peak);
    sc_book_destroy(b);
    free(ops);
    return st.orders_full + st.levels_full + st.books_full ? 1 : 0;
}
