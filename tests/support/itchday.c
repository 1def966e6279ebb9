/* An independent check of a generated ITCH day (itchday.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/itchday.h"

#define ITCHDAY_BUCKETS (1u << 20)
#define NLOC 65536

static size_t
hash(uint64_t ref)
{
    return (size_t)((ref * UINT64_C(0x9e3779b97f4a7c15)) >> 44) & (ITCHDAY_BUCKETS - 1);
}

int
itchday_init(struct itchday *d)
{
    memset(d, 0, sizeof(*d));
    d->bucket = calloc(ITCHDAY_BUCKETS, sizeof(*d->bucket));
    d->stock = calloc(NLOC, sizeof(*d->stock));
    d->shares = calloc(NLOC, sizeof(*d->shares));
    d->orders = calloc(NLOC, sizeof(*d->orders));
    if (!d->bucket || !d->stock || !d->shares || !d->orders) {
        itchday_free(d);
        return -1;
    }
    return 0;
}

void
itchday_free(struct itchday *d)
{
    if (d->bucket)
        for (size_t i = 0; i < ITCHDAY_BUCKETS; i++)
            while (d->bucket[i]) {
                struct itchday_order *o = d->bucket[i];

                d->bucket[i] = o->next;
                free(o);
            }
    free(d->bucket);
    free(d->stock);
    free(d->shares);
    free(d->orders);
    memset(d, 0, sizeof(*d));
}

const struct itchday_order *
itchday_find(const struct itchday *d, uint64_t ref)
{
    for (const struct itchday_order *o = d->bucket[hash(ref)]; o; o = o->next)
        if (o->ref == ref)
            return o;
    return NULL;
}

static struct itchday_order *
find(struct itchday *d, uint64_t ref)
{
    for (struct itchday_order *o = d->bucket[hash(ref)]; o; o = o->next)
        if (o->ref == ref)
            return o;
    return NULL;
}

static int
insert(struct itchday *d, uint64_t ref, uint16_t locate, int side, uint32_t shares, uint32_t price)
{
    struct itchday_order *o = malloc(sizeof(*o));
    size_t h = hash(ref);

    if (!o)
        return -1;
    *o = (struct itchday_order){ .ref = ref, .shares = shares, .price = price, .locate = locate,
                                 .side = side, .next = d->bucket[h] };
    d->bucket[h] = o;
    d->live++;
    d->shares[locate][side] += shares;
    d->orders[locate][side]++;
    return 0;
}

static void
erase(struct itchday *d, uint64_t ref)
{
    for (struct itchday_order **p = &d->bucket[hash(ref)]; *p; p = &(*p)->next)
        if ((*p)->ref == ref) {
            struct itchday_order *o = *p;

            d->shares[o->locate][o->side] -= o->shares;
            d->orders[o->locate][o->side]--;
            d->live--;
            *p = o->next;
            free(o);
            return;
        }
}

void
itchday_each(const struct itchday *d, void (*fn)(void *ctx, const struct itchday_order *o),
             void *ctx)
{
    for (size_t i = 0; i < ITCHDAY_BUCKETS; i++)
        for (const struct itchday_order *o = d->bucket[i]; o; o = o->next)
            fn(ctx, o);
}

__attribute__((format(printf, 3, 4))) static int
fail(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
    return -1;
}

#define FAIL(...) return fail(why, n, __VA_ARGS__)

static bool
after(const struct itchday *d, char ev)
{
    return memchr(d->events, ev, (size_t)d->nevents) != NULL;
}

/* an order's stock locate names a directory entry, with that stock when the message carries it */
static int
check_stock(const struct itchday *d, const struct sc_itch_msg *m, const char *stock, char *why,
            size_t n)
{
    if (m->locate == 0 || m->locate > d->symbols)
        FAIL("%c: locate %u not in the directory (%u symbols)", m->type, m->locate, d->symbols);
    if (stock && memcmp(stock, d->stock[m->locate], SC_ITCH_STOCK_LEN))
        FAIL("%c: locate %u says stock %.8s, the directory %.8s", m->type, m->locate, stock,
             d->stock[m->locate]);
    return 0;
}

static int
check_ticker(const char *s, char *why, size_t n)
{
    int i = 0;

    while (i < SC_ITCH_STOCK_LEN && s[i] >= 'A' && s[i] <= 'Z')
        i++;
    if (i == 0)
        FAIL("R: ticker '%.8s' does not start with a letter", s);
    for (; i < SC_ITCH_STOCK_LEN; i++)
        if (s[i] != ' ')
            FAIL("R: ticker '%.8s' is not upper-case letters padded with spaces", s);
    return 0;
}

static int
check_match(struct itchday *d, const struct sc_itch_msg *m, uint64_t match, char *why, size_t n)
{
    if (match <= d->last_match)
        FAIL("%c: match number %llu after %llu", m->type, (unsigned long long)match,
             (unsigned long long)d->last_match);
    d->last_match = match;
    return 0;
}

/* the live order a message names, with its locate */
static int
live(struct itchday *d, const struct sc_itch_msg *m, uint64_t ref, struct itchday_order **op,
     char *why, size_t n)
{
    if (!(*op = find(d, ref)))
        FAIL("%c: order %llu is not live", m->type, (unsigned long long)ref);
    if ((*op)->locate != m->locate)
        FAIL("%c: order %llu is of locate %u, the message says %u", m->type,
             (unsigned long long)ref, (*op)->locate, m->locate);
    return 0;
}

static int
new_order(struct itchday *d, const struct sc_itch_msg *m, uint64_t ref, int side, uint32_t shares,
          uint32_t price, char *why, size_t n)
{
    if (ref <= d->max_ref)
        FAIL("%c: reference %llu is not above every earlier one (%llu)", m->type,
             (unsigned long long)ref, (unsigned long long)d->max_ref);
    if (shares == 0)
        FAIL("%c: order %llu of 0 shares", m->type, (unsigned long long)ref);
    if (price == 0 || price % 100)
        FAIL("%c: order %llu at price %u, not a whole number of cents", m->type,
             (unsigned long long)ref, price);
    if (!after(d, 'S') || after(d, 'E'))
        FAIL("%c: order %llu outside system hours", m->type, (unsigned long long)ref);
    d->max_ref = ref;
    if (insert(d, ref, m->locate, side, shares, price) < 0)
        FAIL("out of memory");
    return 0;
}

int
itchday_apply(struct itchday *d, const struct sc_itch_msg *m, char *why, size_t n)
{
    static const char order[] = "OSQMEC";
    struct itchday_order *o;

    if (m->ts < d->ts)
        FAIL("%c: timestamp %llu after %llu", m->type, (unsigned long long)m->ts,
             (unsigned long long)d->ts);
    d->ts = m->ts;
    if (d->nevents == 0 && m->type != SC_ITCH_SYSTEM_EVENT)
        FAIL("%c before start of messages", m->type);
    if (after(d, 'C'))
        FAIL("%c after end of messages", m->type);
    d->messages++;
    d->by_type[m->type]++;
    switch (m->type) {
    case SC_ITCH_SYSTEM_EVENT:
        if (d->nevents >= 6 || m->system_event.event_code != order[d->nevents])
            FAIL("S: event '%c' after \"%.*s\" (expected O S Q M E C)",
                 m->system_event.event_code, d->nevents, d->events);
        d->events[d->nevents++] = m->system_event.event_code;
        return 0;
    case SC_ITCH_STOCK_DIRECTORY:
        if (after(d, 'S'))
            FAIL("R: directory entry after start of system hours");
        if (m->locate != d->symbols + 1)
            FAIL("R: locate %u after %u", m->locate, d->symbols);
        if (check_ticker(m->stock_directory.stock, why, n) < 0)
            return -1;
        for (uint32_t l = 1; l <= d->symbols && d->symbols < 2000; l++)
            if (!memcmp(d->stock[l], m->stock_directory.stock, SC_ITCH_STOCK_LEN))
                FAIL("R: ticker %.8s named twice (locates %u and %u)",
                     m->stock_directory.stock, l, m->locate);
        memcpy(d->stock[m->locate], m->stock_directory.stock, SC_ITCH_STOCK_LEN);
        d->symbols++;
        return 0;
    case SC_ITCH_TRADING_ACTION:
        if (check_stock(d, m, m->trading_action.stock, why, n) < 0)
            return -1;
        if (m->trading_action.trading_state == 'H') {
            if (d->halted || d->halts || !after(d, 'Q') || after(d, 'M'))
                FAIL("H: a second halt, or one outside market hours (locate %u)", m->locate);
            d->halted = m->locate;
            d->halts++;
        } else if (m->trading_action.trading_state == 'T') {
            if (d->halted == m->locate) {
                d->halted = 0;
                d->resumes++;
            }
        } else {
            FAIL("H: trading state '%c'", m->trading_action.trading_state);
        }
        return 0;
    case SC_ITCH_REG_SHO:
        if (m->reg_sho.action < '0' || m->reg_sho.action > '2')
            FAIL("Y: action '%c'", m->reg_sho.action);
        return check_stock(d, m, m->reg_sho.stock, why, n);
    case SC_ITCH_ADD_ORDER:
    case SC_ITCH_ADD_ORDER_MPID:
        if (check_stock(d, m, m->add.stock, why, n) < 0)
            return -1;
        if (m->add.side != 'B' && m->add.side != 'S')
            FAIL("%c: side '%c'", m->type, m->add.side);
        return new_order(d, m, m->add.ref, m->add.side == 'S', m->add.shares, m->add.price, why,
                         n);
    case SC_ITCH_ORDER_EXECUTED:
    case SC_ITCH_ORDER_EXECUTED_PRICE:
        if (live(d, m, m->exec.ref, &o, why, n) < 0 ||
            check_match(d, m, m->exec.match, why, n) < 0)
            return -1;
        if (m->exec.shares == 0 || m->exec.shares > o->shares)
            FAIL("%c: %u shares of order %llu, which holds %u", m->type, m->exec.shares,
                 (unsigned long long)o->ref, o->shares);
        if (m->locate == d->halted)
            FAIL("%c: execution on halted locate %u", m->type, m->locate);
        if (m->type == SC_ITCH_ORDER_EXECUTED_PRICE && m->exec.price == 0)
            FAIL("C: price 0");
        if (m->exec.shares == o->shares) {
            erase(d, o->ref);
        } else {
            o->shares -= m->exec.shares;
            d->shares[o->locate][o->side] -= m->exec.shares;
        }
        return 0;
    case SC_ITCH_ORDER_CANCEL:
        if (live(d, m, m->cancel.ref, &o, why, n) < 0)
            return -1;
        if (m->cancel.shares == 0 || m->cancel.shares >= o->shares)
            FAIL("X: %u shares of order %llu, which holds %u (X leaves some)", m->cancel.shares,
                 (unsigned long long)o->ref, o->shares);
        o->shares -= m->cancel.shares;
        d->shares[o->locate][o->side] -= m->cancel.shares;
        return 0;
    case SC_ITCH_ORDER_DELETE:
        if (live(d, m, m->del.ref, &o, why, n) < 0)
            return -1;
        erase(d, o->ref);
        return 0;
    case SC_ITCH_ORDER_REPLACE: {
        int side;

        if (live(d, m, m->replace.orig_ref, &o, why, n) < 0)
            return -1;
        side = o->side;
        erase(d, m->replace.orig_ref);
        return new_order(d, m, m->replace.new_ref, side, m->replace.shares, m->replace.price,
                         why, n);
    }
    case SC_ITCH_TRADE:
        if (check_stock(d, m, m->trade.stock, why, n) < 0 ||
            check_match(d, m, m->trade.match, why, n) < 0)
            return -1;
        if (m->trade.shares == 0 || m->trade.price == 0)
            FAIL("P: %u shares at %u", m->trade.shares, m->trade.price);
        if (m->locate == d->halted)
            FAIL("P: trade on halted locate %u", m->locate);
        return 0;
    case SC_ITCH_CROSS_TRADE:
        if (check_stock(d, m, m->cross.stock, why, n) < 0 ||
            check_match(d, m, m->cross.match, why, n) < 0)
            return -1;
        if (m->cross.cross_type == 'O' && after(d, 'Q') && !after(d, 'M'))
            d->cross_open++;
        else if (m->cross.cross_type == 'C' && after(d, 'M') && !after(d, 'E'))
            d->cross_close++;
        else
            FAIL("Q: cross type '%c' after events \"%.*s\"", m->cross.cross_type, d->nevents,
                 d->events);
        return 0;
    case SC_ITCH_NOII:
        if (m->noii.cross_type != 'O' && m->noii.cross_type != 'C')
            FAIL("I: cross type '%c'", m->noii.cross_type);
        return check_stock(d, m, m->noii.stock, why, n);
    default: FAIL("a message of type '%c', which the generator does not make", m->type);
    }
}

int
itchday_end(const struct itchday *d, char *why, size_t n)
{
    if (d->nevents != 6)
        FAIL("the day ended after system events \"%.*s\"", d->nevents, d->events);
    if (d->cross_open != d->symbols || d->cross_close != d->symbols)
        FAIL("%u opening and %u closing crosses for %u symbols", d->cross_open, d->cross_close,
             d->symbols);
    if (d->halts != 1 || d->resumes != 1 || d->halted)
        FAIL("%d halts, %d resumes (halted now: locate %u)", d->halts, d->resumes, d->halted);
    return 0;
}
