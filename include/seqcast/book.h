/* seqcast order books: order-level books of many instruments, built from
 * already-decoded exchange operations (NASDAQ TotalView-ITCH 5.0's A/F, E,
 * C, X, D, U; P, Q, B; H, Y, S; R), with best bid/offer and depth-N.
 *
 *   struct sc_book_cfg cfg = { .max_orders = 1 << 22, .max_books = 8192,
 *                              .max_levels = 65536, .on_bbo = show, .ctx = me };
 *   struct sc_book *b;
 *   if (sc_book_create(&b, &cfg, &err) < 0) ...
 *   sc_book_instrument(b, 12, "AAPL    ");                     R
 *   sc_book_add(b, 12, 1001, SC_BOOK_BID, 100, 1850000);        A/F
 *   sc_book_execute(b, 1001, 40, match);                        E
 *   sc_book_replace(b, 1001, 1002, 200, 1850100);               U
 *   sc_book_bbo(b, 12, &bbo);
 *
 * Memory is sized once, at create, from the configuration: nothing is
 * allocated after. A limit reached refuses the operation, counts it and marks
 * the book concerned stale (it no longer mirrors the feed); nothing crashes
 * and nothing is dropped silently. An operation on an order reference that is
 * not in the book (a capture that starts mid-session, a book cleared for a
 * rebuild) is counted by kind and otherwise ignored.
 *
 * Instruments are keyed by stock locate; a directory entry (R) names one, and
 * the first operation on an unnamed locate creates its book (symbol unknown).
 * Order references are global, as ITCH's are: E, C, X, D and U name only the
 * reference, the book remembers its instrument, side and price.
 *
 * Prices are ITCH Price(4): unsigned, 4 implied decimals; 0 is never a
 * displayed price and means "no price" in struct sc_book_bbo.
 *
 * Callbacks run synchronously inside the operation that caused them (the
 * caller knows the message being applied, its timestamp among others). They
 * may query the engine but must not change it.
 *
 * Staleness: a book is stale while it may not mirror the feed -- after a loss
 * the transport reports (sc_book_mark_stale for the instruments concerned,
 * sc_book_mark_all_stale for a session gap: every book, and books first seen
 * before the rebuild), or after a refused add. It stays stale until the
 * rebuilder says it is whole again (sc_book_rebuilt, after sc_book_clear and
 * re-adding the orders of a snapshot or an archive rewind). Operations keep
 * applying to stale books.
 *
 * Not thread-safe: one engine per thread (an agent's loop).
 */
#ifndef SEQCAST_BOOK_H
#define SEQCAST_BOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <seqcast/counters.h>
#include <seqcast/err.h>

struct sc_book;

enum sc_book_side { SC_BOOK_BID = 0, SC_BOOK_ASK = 1 };

/* Every counter of the engine (SC_BOOK_COUNTERS in <seqcast/counters.h>). */
struct sc_book_stats {
    SC_BOOK_COUNTERS(SC_COUNTER_FIELD)
};

/* One instrument's counters (SC_BOOK_INSTR_COUNTERS). */
struct sc_book_instr_stats {
    SC_BOOK_INSTR_COUNTERS(SC_COUNTER_FIELD)
};

/* Top of one book. A side without orders has price, shares and orders 0. */
struct sc_book_bbo {
    uint16_t locate;
    bool stale;
    uint32_t bid_price;
    uint32_t ask_price;
    uint32_t bid_orders;
    uint32_t ask_orders;
    uint64_t bid_shares;
    uint64_t ask_shares;
};

/* One price level: the total displayed shares of its orders, and how many. */
struct sc_book_level {
    uint32_t price;
    uint32_t orders;
    uint64_t shares;
};

/* A trade. The engine reports executions of its orders (E, C: kind 'E' or
 * 'C', price the order's or the execution's, side the resting order's); the
 * caller reports the others through sc_book_trade (P, Q, B: no book change). */
struct sc_book_trade {
    uint64_t ref;       /* the resting order (E, C; P's, usually 0); 0 for Q, B */
    uint64_t match;     /* match number (B: the broken trade's) */
    uint64_t shares;    /* Q's are 8 bytes wide, and may be 0 */
    uint32_t price;
    uint16_t locate;    /* 0 when not known (B) */
    char kind;          /* 'E', 'C', 'P', 'Q', 'B' */
    char side;          /* 'B' or 'S' for E and C (the resting order), as given for P; else 0 */
    bool printable;     /* E: true; C: its Printable flag; as given for P, Q, B */
    char cross_type;    /* Q: 'O', 'C', 'H', 'A' / 'I'; else 0 */
};

/* What changed, in an on_state callback. */
enum sc_book_change {
    SC_BOOK_CHG_TRADING = 1, /* trading state or reason (H) */
    SC_BOOK_CHG_REG_SHO,     /* Reg SHO indicator (Y) */
    SC_BOOK_CHG_STALE,       /* stale flag set or cleared */
    SC_BOOK_CHG_SYMBOL,      /* named by a directory entry (R) */
};

/* One instrument: reference data, state and counters. */
struct sc_book_info {
    uint16_t locate;
    char symbol[9];     /* the 8 characters of its directory entry, NUL-terminated,
                           trailing spaces removed; "" when no entry named it */
    char trading_state; /* 'H' halted, 'P' paused, 'Q' quotation only, 'T' trading; 0 not told */
    char reason[5];     /* the H message's reason, trailing spaces removed */
    char reg_sho;       /* '0', '1', '2' (Y); 0 not told */
    bool stale;
    struct sc_book_instr_stats stats;
};

/* The market-wide system events (S), as of the last one. */
struct sc_book_system {
    char last_event;  /* the last event code, 0 before any */
    bool messages;    /* between start of messages (O) and end of messages (C) */
    bool system_hours; /* between S and E */
    bool market_hours; /* between Q and M */
};

/* One live order, for queries. priority orders the orders of one level in
 * time: lower came first; an add or a replace takes a new, higher one. */
struct sc_book_order {
    uint64_t ref;
    uint64_t priority;
    uint32_t price;
    uint32_t shares;
    uint16_t locate;
    enum sc_book_side side;
};

typedef void sc_book_bbo_fn(void *ctx, const struct sc_book_bbo *bbo);
typedef void sc_book_trade_fn(void *ctx, const struct sc_book_trade *t);
typedef void sc_book_state_fn(void *ctx, const struct sc_book_info *info,
                              enum sc_book_change what);
typedef void sc_book_system_fn(void *ctx, const struct sc_book_system *sys);

struct sc_book_cfg {
    uint32_t max_orders; /* live orders, all books together (1 .. 2^28) */
    uint32_t max_books;  /* instruments (1 .. 65,535) */
    uint32_t max_levels; /* price levels kept per side of each book (1 .. 2^20): every
                            level is kept, this bounds how many */
    uint32_t level_pool; /* levels for the sides that outgrow their first 32, all books
                            together (0: 2,097,152, 32 MiB; at most 2^30): a side that
                            fills its block moves to one twice as large (64, 128, ...
                            levels), taking that + 28 levels from the pool; a block it
                            leaves is kept for the next side that grows to its size.
                            Memory: max_books x 2 x 60 x 16 bytes (every side's first
                            32 levels) + level_pool x 16 bytes */
    sc_book_bbo_fn *on_bbo;       /* a book's best bid or offer changed (price or shares) */
    sc_book_trade_fn *on_trade;   /* E, C executions, and what sc_book_trade reports */
    sc_book_state_fn *on_state;   /* trading state, Reg SHO, staleness, name changed */
    sc_book_system_fn *on_system; /* a system event */
    void *ctx;                    /* passed to every callback */
};

/* Create an engine, every table sized from cfg (the callbacks are copied).
 * @return 0, -EINVAL (a size out of range, err says which), -ENOMEM. */
int sc_book_create(struct sc_book **bp, const struct sc_book_cfg *cfg, struct sc_err *err);
/* Free everything; NULL is a no-op. */
void sc_book_destroy(struct sc_book *b);

/* ------------------------------------------------------------ reference data */

/* A directory entry (R): name locate's instrument (creating its book).
 * @param symbol 8 characters, space padded (not NUL-terminated)
 * @return 0; -ENOSPC past max_books (counted) */
int sc_book_instrument(struct sc_book *b, uint16_t locate, const char symbol[8]);
/* The locate a directory entry gave symbol (8 characters, space padded), or
 * -ENOENT. A linear search: for set-up, not per message. */
int sc_book_locate_of(const struct sc_book *b, const char symbol[8]);

/* -------------------------------------------------------------- book changes */

/* Add an order (A, F): shares at price on side of locate's book (created on
 * first use). @return 0; -EEXIST ref is live; -EINVAL 0 shares or a bad side;
 * -ENOSPC max_orders, max_books or the side's max_levels reached (every
 * refusal counted; a limit marks the book stale) */
int sc_book_add(struct sc_book *b, uint16_t locate, uint64_t ref, enum sc_book_side side,
                uint32_t shares, uint32_t price);
/* Execute shares of ref at its own price (E); reported to on_trade. More
 * shares than it holds are clamped and counted; at 0 it leaves the book.
 * @return 0; -ENOENT ref is not in the book (counted) */
int sc_book_execute(struct sc_book *b, uint64_t ref, uint32_t shares, uint64_t match);
/* The same at a price of the execution's own (C): the book changes as for E
 * (the order keeps its price); on_trade gets price and printable. */
int sc_book_execute_price(struct sc_book *b, uint64_t ref, uint32_t shares, uint32_t price,
                          uint64_t match, bool printable);
/* Cancel shares of ref (X, a partial cancel); more than it holds are clamped
 * and counted, at 0 it leaves the book. @return 0; -ENOENT (counted) */
int sc_book_cancel(struct sc_book *b, uint64_t ref, uint32_t shares);
/* Remove ref (D). @return 0; -ENOENT (counted) */
int sc_book_delete(struct sc_book *b, uint64_t ref);
/* Replace ref by new_ref (U): same instrument and side, new shares and price,
 * and the back of its level's queue (a new priority, even at the same
 * price). @return 0; -ENOENT ref unknown (counted; new_ref stays unknown);
 * -EEXIST new_ref is live (ref removed, new_ref not added); -EINVAL 0 shares
 * (ref removed); -ENOSPC a limit (ref removed, the book marked stale) */
int sc_book_replace(struct sc_book *b, uint64_t ref, uint64_t new_ref, uint32_t shares,
                    uint32_t price);

/* Start loading ref's slot in the ring of recent orders into the cache (an
 * order that outlived the ring, in the overflow map, is not): a feed handler
 * that decodes ahead calls it for a message a few messages before applying
 * it, so that the map's cache miss overlaps the work in between. A hint: no
 * effect on the books. */
void sc_book_prefetch(const struct sc_book *b, uint64_t ref);
/* The same for locate's book: the top price levels of both sides (where an
 * operation's level is searched for first). */
void sc_book_prefetch_book(const struct sc_book *b, uint16_t locate);

/* Report a trade that does not change the book (P, Q, B) to on_trade, and
 * count it (per book too when t->locate names a known book). */
void sc_book_trade(struct sc_book *b, const struct sc_book_trade *t);

/* ------------------------------------------------------------------ state */

/* Stock trading action (H): state 'H', 'P', 'Q' or 'T' and its reason (4
 * characters, space padded; NULL for none). on_state when either changed.
 * @return 0; -ENOSPC past max_books */
int sc_book_trading_state(struct sc_book *b, uint16_t locate, char state, const char reason[4]);
/* Reg SHO short sale price test indicator (Y): '0', '1', '2'. */
int sc_book_reg_sho(struct sc_book *b, uint16_t locate, char action);
/* A system event (S): 'O', 'S', 'Q', 'M', 'E', 'C' (others kept as the last
 * event, changing nothing else). */
void sc_book_system_event(struct sc_book *b, char code);
/* The system events so far. */
void sc_book_system(const struct sc_book *b, struct sc_book_system *out);

/* ------------------------------------------------------------- staleness */

/* Mark locate's book stale (a loss the transport attributes to it).
 * @return 0; -ENOENT no such book */
int sc_book_mark_stale(struct sc_book *b, uint16_t locate);
/* A session gap: every book is stale, and so is every book first seen until
 * sc_book_rebuilt_all (its earlier messages may have been in the gap). */
void sc_book_mark_all_stale(struct sc_book *b);
/* Remove every order of locate's book (a rebuild's start: the snapshot's
 * orders are then added). The stale flag is unchanged. O(the order map):
 * for rebuilds, not per message. @return orders removed; -ENOENT */
int sc_book_clear(struct sc_book *b, uint16_t locate);
/* Remove every order of every book. */
void sc_book_clear_all(struct sc_book *b);
/* The rebuilder says locate's book mirrors the feed again: not stale.
 * @return 0; -ENOENT */
int sc_book_rebuilt(struct sc_book *b, uint16_t locate);
/* Every book rebuilt, and books first seen from now on are not stale. */
void sc_book_rebuilt_all(struct sc_book *b);

/* ---------------------------------------------------------------- queries */

/* locate's top of book. @return 0; -ENOENT no such book */
int sc_book_bbo(const struct sc_book *b, uint16_t locate, struct sc_book_bbo *out);
/* Up to n levels of one side, best first. @return levels written; -ENOENT */
int sc_book_depth(const struct sc_book *b, uint16_t locate, enum sc_book_side side,
                  struct sc_book_level *out, size_t n);
/* locate's reference data, state and counters. @return 0; -ENOENT */
int sc_book_info(const struct sc_book *b, uint16_t locate, struct sc_book_info *out);
/* A live order. @return 0; -ENOENT */
int sc_book_order(const struct sc_book *b, uint64_t ref, struct sc_book_order *out);
/* The locates of the known books, in order of creation; up to n written.
 * @return how many books there are */
size_t sc_book_books(const struct sc_book *b, uint16_t *locates, size_t n);
/* Every counter. */
void sc_book_get_stats(const struct sc_book *b, struct sc_book_stats *st);
/* Bytes the engine allocated at create (all tables). */
size_t sc_book_memory(const struct sc_book *b);

#endif
