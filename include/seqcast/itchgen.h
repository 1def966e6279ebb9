/* seqcast ITCH generator: a deterministic synthetic NASDAQ TotalView-ITCH 5.0
 * trading day, as decoded messages or as NASDAQ's ITCH file format (each
 * message: a 2-byte big-endian length, then the message -- the framing
 * seqcast-pub --input reads). seqcast-itchgen is its program.
 *
 *   struct sc_itchgen_cfg cfg = { .messages = 1000000, .symbols = 100, .seed = 1 };
 *   struct sc_itchgen *g;
 *   uint8_t buf[1 << 16];
 *   size_t n;
 *   if (sc_itchgen_create(&g, &cfg, &err) < 0) ...
 *   while ((n = sc_itchgen_write(g, buf, sizeof(buf))) > 0)
 *       fwrite(buf, 1, n, out);
 *
 * The day (timestamps in ns since midnight, never decreasing):
 *
 *   03:00  S O (start of messages); the directory: one R per symbol (locates
 *          1..symbols, 8-character space-padded tickers), one H 'T' per
 *          symbol, Reg SHO Y for a few
 *   04:00  S S (start of system hours); pre-market orders
 *   09:28  the opening imbalance window: NOII (I, cross type 'O') among orders
 *   09:30  S Q (start of market hours); the opening cross: one Q 'O' per symbol;
 *          continuous trading; at 11:30 one symbol halts (H 'H', reason "T1")
 *          and resumes at 11:35 (H 'T')
 *   15:50  the closing imbalance window: NOII (I, cross type 'C') among orders
 *   16:00  S M (end of market hours); the closing cross: one Q 'C' per symbol;
 *          post-market orders
 *   20:00  S E (end of system hours); 20:05 S C (end of messages)
 *
 * Orders: adds (A, some F with an MPID), deletes (D), replaces (U, a new
 * reference), executions (E, some C), partial cancels (X) and non-cross
 * trades (P, reference 0) in roughly NASDAQ's proportions (A ~39 %, D ~37 %,
 * U ~8 %, I ~7 %, E ~4 %, X ~2 %; F, C, P ~1 % or less), around a mid price
 * per symbol (tick 100 = 1 cent in Price(4)). Bids rest at least a tick
 * under the mid, offers at least a tick over it, so a book is never crossed;
 * the mid moves a tick when an execution empties the level next to it. An
 * execution takes the best order of its side (price, then time).
 *
 * Validity, by the generator's own model of the live orders (a plain
 * set, not the book engine): order references are unique and increasing
 * (A, F and U's new one); E, C, X, D and U name only live orders; E and C
 * never take more shares than the order holds, X always leaves some; no
 * execution on the halted symbol while it is halted. The live orders are
 * kept under symbols x SC_ITCHGEN_ORDERS_PER_SYMBOL, so memory is bounded
 * whatever the length of the day, and under 4 x SC_ITCHGEN_ORDERS_PER_SYMBOL
 * per symbol, so an execution's search for the best order is short: at
 * either bound an add becomes a delete (of the symbol side's most recent
 * order at the symbol's; counted in adds_capped); under the first, a delete becomes an add with a
 * quarter of the shortfall's share as its chance (deletes_filled), so the
 * books fill early in the day and then hold near the bound. Orders live at
 * the end of the day are not removed.
 *
 * Executions: a third of them start a sweep -- an aggressive order taking
 * the level next to the mid, one E or C at a time, on later execution draws
 * -- after which the mid moves (price_moves).
 *
 * Determinism: the same configuration gives the same bytes, on every run
 * and machine (integer arithmetic only).
 *
 * Not thread-safe: one generator per thread.
 */
#ifndef SEQCAST_ITCHGEN_H
#define SEQCAST_ITCHGEN_H

#include <stddef.h>
#include <stdint.h>

#include <seqcast/counters.h>
#include <seqcast/err.h>
#include <seqcast/proto/itch.h>

#define SC_ITCHGEN_MAX_SYMBOLS 65535u
#define SC_ITCHGEN_ORDERS_PER_SYMBOL 64u
/* The room sc_itchgen_write needs for one record: the length, the longest message. */
#define SC_ITCHGEN_RECORD_MAX (2 + SC_ITCH_MAX_LEN)

struct sc_itchgen;

struct sc_itchgen_cfg {
    uint64_t messages; /* the day's length, every message counted: at least
                          sc_itchgen_min_messages(symbols) */
    uint32_t symbols;  /* instruments, 1 .. SC_ITCHGEN_MAX_SYMBOLS */
    uint64_t seed;     /* any value; the same seed, the same day */
};

/* Every counter of the generator (SC_ITCHGEN_COUNTERS in <seqcast/counters.h>). */
struct sc_itchgen_stats {
    SC_ITCHGEN_COUNTERS(SC_COUNTER_FIELD)
};

/* The fewest messages a day of that many symbols has: its system events,
 * directory, trading actions, Reg SHO, the halt and resume, and the two
 * crosses (every message else is an order, a trade or an imbalance). */
uint64_t sc_itchgen_min_messages(uint32_t symbols);

/* Create a generator (the whole day is planned; the live-order model is
 * allocated, bounded by symbols x SC_ITCHGEN_ORDERS_PER_SYMBOL).
 * @return 0; -EINVAL (symbols out of range, too few messages: err says
 *         which); -ENOMEM */
int sc_itchgen_create(struct sc_itchgen **gp, const struct sc_itchgen_cfg *cfg,
                      struct sc_err *err);
/* Free everything; NULL is a no-op. */
void sc_itchgen_destroy(struct sc_itchgen *g);

/* The next message of the day.
 * @return 1 and *m; 0 once the day is over (cfg.messages given) */
int sc_itchgen_next(struct sc_itchgen *g, struct sc_itch_msg *m);

/* Fill buf with the next whole records of the ITCH file format, encoded by
 * sc_itch_encode, as many as fit.
 * @return bytes written; 0 once the day is over, or when cap is under
 *         SC_ITCHGEN_RECORD_MAX */
size_t sc_itchgen_write(struct sc_itchgen *g, uint8_t *buf, size_t cap);

/* The symbol of a locate the directory names: 8 characters, space padded.
 * @return 0; -ENOENT (0 or past cfg.symbols) */
int sc_itchgen_symbol(const struct sc_itchgen *g, uint16_t locate, char out[SC_ITCH_STOCK_LEN]);

/* Every counter, as of the messages returned so far. */
void sc_itchgen_get_stats(const struct sc_itchgen *g, struct sc_itchgen_stats *st);

#endif
