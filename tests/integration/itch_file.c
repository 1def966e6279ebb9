/* A small, deterministic ITCH 5.0 file for the feed handler's end-to-end
 * tests (tests/integration/feedhandler.sh): NASDAQ's file framing (2-byte
 * big-endian length, then the message), built with sc_itch_encode.
 *
 *   itch_file OUT [MESSAGES [SEED [LIVE]]]   (LIVE: orders live at most, default 4096)
 *
 * System events, a directory of 8 symbols, trading state and Reg SHO, then
 * MESSAGES operations on live orders around a price (adds with and without
 * MPID, executions with and without price, partial cancels, deletes,
 * replaces), trades (P, Q, B), every other type now and then, one record of
 * an unknown type and one cut short (both counted and skipped by the
 * reader), a halt and resume, and the close. Not the synthetic day
 * (seqcast-itchgen): just enough of every type to compare books. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <seqcast/proto/itch.h>

#define NSYM 8
#define LIVE_LIMIT (1u << 20)

static FILE *out;
static uint64_t ts = UINT64_C(14400000000000); /* 04:00 */
static uint64_t rng;

static uint64_t
rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void
put(struct sc_itch_msg *m)
{
    uint8_t b[SC_ITCH_MAX_LEN + 2];
    int n;

    ts += 1 + rnd() % 50000;
    m->ts = ts;
    m->tracking = (uint16_t)rnd();
    n = sc_itch_encode(b + 2, sizeof(b) - 2, m);
    if (n < 0) {
        fprintf(stderr, "itch_file: encode %c: %d\n", m->type, n);
        exit(1);
    }
    b[0] = 0;
    b[1] = (uint8_t)n;
    fwrite(b, 1, (size_t)n + 2, out);
}

static void
sym(char *dst, int i)
{
    static const char *names[NSYM] = { "AAPL", "MSFT", "QQQ", "TSLA", "NVDA", "ZVZZT", "SPY", "A" };
    memset(dst, ' ', 8);
    memcpy(dst, names[i], strlen(names[i]));
}

static void
system_event(char c)
{
    struct sc_itch_msg m = { .type = 'S' };
    m.system_event.event_code = c;
    put(&m);
}

static struct live {
    uint64_t ref;
    uint32_t shares;
    uint16_t locate;
} live[LIVE_LIMIT];
static unsigned nlive, maxlive = 4096;
static uint64_t next_ref = 1000, next_match = 1;
static uint32_t mid[NSYM + 1];

static void
add(uint16_t loc)
{
    struct sc_itch_msg m = { .type = rnd() % 5 ? 'A' : 'F', .locate = loc };
    bool bid = rnd() & 1;

    m.add.ref = next_ref++;
    m.add.side = bid ? 'B' : 'S';
    m.add.shares = 100 * (uint32_t)(1 + rnd() % 10);
    sym(m.add.stock, loc - 1);
    m.add.price = bid ? mid[loc] - 100 * (uint32_t)(1 + rnd() % 20)
                      : mid[loc] + 100 * (uint32_t)(1 + rnd() % 20);
    memcpy(m.add.mpid, "GSCO", 4);
    put(&m);
    live[nlive++] = (struct live){ m.add.ref, m.add.shares, loc };
}

static void
drop(unsigned i)
{
    live[i] = live[--nlive];
}

int
main(int argc, char **argv)
{
    unsigned n = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 20000;
    struct sc_itch_msg m;

    rng = argc > 3 ? strtoull(argv[3], NULL, 10) * 2654435761u + 1 : 88172645463325252ull;
    if (argc > 4 && (maxlive = (unsigned)strtoul(argv[4], NULL, 10)) > LIVE_LIMIT)
        maxlive = LIVE_LIMIT;
    if (argc < 2 || !(out = fopen(argv[1], "wb"))) {
        fprintf(stderr, "usage: itch_file OUT [MESSAGES [SEED [LIVE]]]\n");
        return 2;
    }
    system_event('O');
    system_event('S');
    for (int i = 0; i < NSYM; i++) {
        m = (struct sc_itch_msg){ .type = 'R', .locate = (uint16_t)(i + 1) };
        sym(m.stock_directory.stock, i);
        m.stock_directory.market_category = 'Q';
        m.stock_directory.financial_status = 'N';
        m.stock_directory.round_lot_size = 100;
        m.stock_directory.round_lots_only = 'N';
        put(&m);
        m = (struct sc_itch_msg){ .type = 'H', .locate = (uint16_t)(i + 1) };
        sym(m.trading_action.stock, i);
        m.trading_action.trading_state = 'T';
        memcpy(m.trading_action.reason, "    ", 4);
        put(&m);
        m = (struct sc_itch_msg){ .type = 'Y', .locate = (uint16_t)(i + 1) };
        sym(m.reg_sho.stock, i);
        m.reg_sho.action = '0';
        put(&m);
        mid[i + 1] = (uint32_t)(20 + 30 * i) * SC_ITCH_PRICE4_ONE;
    }
    system_event('Q');
    for (unsigned k = 0; k < n; k++) {
        uint16_t loc = (uint16_t)(1 + rnd() % NSYM);
        unsigned r = (unsigned)(rnd() % 100), i = nlive ? (unsigned)(rnd() % nlive) : 0;
        if (k == n / 3) { /* a halt, and the resume */
            m = (struct sc_itch_msg){ .type = 'H', .locate = 3 };
            sym(m.trading_action.stock, 2);
            m.trading_action.trading_state = 'H';
            memcpy(m.trading_action.reason, "T1  ", 4);
            put(&m);
        } else if (k == n / 3 + 100) {
            m = (struct sc_itch_msg){ .type = 'H', .locate = 3 };
            sym(m.trading_action.stock, 2);
            m.trading_action.trading_state = 'T';
            memcpy(m.trading_action.reason, "    ", 4);
            put(&m);
        } else if (k == n / 2) { /* a type this edition does not know, and a cut message */
            static const uint8_t unknown[] = { 0, 5, 'z', 0, 1, 0, 0 };
            static const uint8_t cut[] = { 0, 6, 'A', 0, 1, 0, 0, 0, 0 };
            fwrite(unknown, 1, sizeof(unknown), out);
            fwrite(cut, 1, sizeof(cut) - 1, out);
        }
        if (k % 500 == 0) /* the price wanders */
            mid[loc] += rnd() & 1 ? 100 : (mid[loc] > 200 * 100 ? -100u : 100);
        if (nlive < 20 || (r < 35 && nlive < maxlive)) { /* full: an execution instead */
            add(loc);
            continue;
        }
        m = (struct sc_itch_msg){ .locate = live[i].locate };
        if (r < 45) {
            uint32_t s = 1 + (uint32_t)(rnd() % live[i].shares);
            m.type = rnd() % 4 ? 'E' : 'C';
            m.exec.ref = live[i].ref;
            m.exec.shares = s;
            m.exec.match = next_match++;
            m.exec.printable = 'Y';
            m.exec.price = mid[live[i].locate];
            put(&m);
            if ((live[i].shares -= s) == 0)
                drop(i);
        } else if (r < 55) {
            uint32_t s = 1 + (uint32_t)(rnd() % live[i].shares);
            m.type = 'X';
            m.cancel.ref = live[i].ref;
            m.cancel.shares = s;
            put(&m);
            if ((live[i].shares -= s) == 0)
                drop(i);
        } else if (r < 72) {
            m.type = 'D';
            m.del.ref = live[i].ref;
            put(&m);
            drop(i);
        } else if (r < 85) {
            m.type = 'U';
            m.replace.orig_ref = live[i].ref;
            m.replace.new_ref = next_ref++;
            m.replace.shares = 100 * (uint32_t)(1 + rnd() % 10);
            m.replace.price = mid[live[i].locate] + 100 * (uint32_t)(rnd() % 5) - 200;
            put(&m);
            live[i].ref = m.replace.new_ref;
            live[i].shares = m.replace.shares;
        } else if (r < 90) {
            m = (struct sc_itch_msg){ .type = 'P', .locate = loc };
            m.trade.side = 'B';
            m.trade.shares = 100;
            sym(m.trade.stock, loc - 1);
            m.trade.price = mid[loc];
            m.trade.match = next_match++;
            put(&m);
        } else if (r < 91) {
            m = (struct sc_itch_msg){ .type = 'Q', .locate = loc };
            m.cross.shares = 5000;
            sym(m.cross.stock, loc - 1);
            m.cross.price = mid[loc];
            m.cross.match = next_match++;
            m.cross.cross_type = 'H';
            put(&m);
        } else if (r < 92) {
            m = (struct sc_itch_msg){ .type = 'B', .locate = loc };
            m.broken.match = next_match - 1;
            put(&m);
        } else {
            static const char others[] = "LVWKJhINO";
            m = (struct sc_itch_msg){ .type = (uint8_t)others[rnd() % 9], .locate = loc };
            switch (m.type) { /* enough fields that a reader shows something */
            case 'L': sym(m.mp_position.stock, loc - 1); memcpy(m.mp_position.mpid, "GSCO", 4); break;
            case 'K': sym(m.ipo_quoting.stock, loc - 1); break;
            case 'J': sym(m.luld_collar.stock, loc - 1); break;
            case 'h': sym(m.operational_halt.stock, loc - 1); break;
            case 'I': sym(m.noii.stock, loc - 1); break;
            case 'N': sym(m.rpii.stock, loc - 1); break;
            case 'O': sym(m.dlcr.stock, loc - 1); break;
            default: break;
            }
            put(&m);
        }
    }
    system_event('M');
    system_event('E');
    system_event('C');
    return fclose(out) ? 1 : 0;
}
