/* seqcast ITCH feed: NASDAQ TotalView-ITCH 5.0 messages applied to order
 * books -- the glue between a transport's messages and <seqcast/book.h>.
 *
 *   struct sc_book *book;                       sized by the application
 *   sc_book_create(&book, &book_cfg, &err);
 *   struct sc_itch_feed_cfg cfg = { .book = book };
 *   struct sc_itch_feed *f;
 *   sc_itch_feed_create(&f, &cfg, &err);
 *   sc_itch_feed_msg(f, msg, len);              one message (a subscriber's on_msg)
 *   sc_itch_feed_mold(f, block, len);           a MoldUDP64 block's messages
 *   used = sc_itch_feed_file(f, buf, len);      NASDAQ's file framing
 *   sc_itch_feed_loss(f, first, last);          the transport lost messages
 *
 * What each type does to the book (the caller's struct sc_book, not owned):
 *
 *   R  sc_book_instrument (locate -> symbol)   A F  sc_book_add (B bid, S ask)
 *   H  sc_book_trading_state                   E    sc_book_execute
 *   Y  sc_book_reg_sho                         C    sc_book_execute_price
 *   S  sc_book_system_event                    X    sc_book_cancel
 *   P Q B  sc_book_trade (reported, no change) D    sc_book_delete
 *                                              U    sc_book_replace
 *   L V W K J h I N O  counted, and given decoded to on_raw (if set)
 *
 * The book's callbacks (BBO, trades, state) run inside these calls;
 * sc_itch_feed_current() is the message being applied, for its timestamp.
 *
 * Nothing a message holds is fatal. A message that does not decode (shorter
 * or longer than its type's length, an unknown type -- a type a later edition
 * adds) is counted by the codec's class (bad[], <seqcast/proto/perr.h>) and
 * skipped by its framing's length; the next message is applied as usual. An
 * operation the book refuses (an unknown reference, a bad side, a limit) is
 * counted by the book.
 *
 * Loss: sc_itch_feed_loss is a gap in the session's sequence (a subscriber's
 * SC_EV_LOSS): references and directory entries may be missing, so every book
 * is marked stale (sc_book_mark_all_stale) until the application rebuilds it.
 *
 * Speed: the batch calls (a MoldUDP64 block, a file buffer) prefetch the
 * order map's slot of the message a few records ahead (sc_book_prefetch), so
 * its cache miss overlaps the messages in between.
 *
 * Not thread-safe: one feed per thread, like its book.
 */
#ifndef SEQCAST_ITCH_H
#define SEQCAST_ITCH_H

#include <stddef.h>
#include <stdint.h>

#include <seqcast/book.h>
#include <seqcast/counters.h>
#include <seqcast/err.h>
#include <seqcast/proto/itch.h>

struct sc_itch_feed;

/* Every counter of the feed (SC_ITCH_FEED_COUNTERS in <seqcast/counters.h>:
 * msgs_<type> per ITCH type), then the messages skipped by codec class. */
struct sc_itch_feed_stats {
    SC_ITCH_FEED_COUNTERS(SC_COUNTER_FIELD)
    uint64_t bad[SC_PERR_COUNT + 1]; /* index -enum sc_perr: short, length, type */
};

/* A message the book does not take (L V W K J h I N O), decoded. */
typedef void sc_itch_raw_fn(void *ctx, const struct sc_itch_msg *m);

struct sc_itch_feed_cfg {
    struct sc_book *book;   /* where messages go: the caller's, outlives the feed */
    sc_itch_raw_fn *on_raw; /* may be NULL */
    void *ctx;              /* passed to on_raw */
};

/* @return 0; -EINVAL no book (err says so); -ENOMEM */
int sc_itch_feed_create(struct sc_itch_feed **out, const struct sc_itch_feed_cfg *cfg,
                        struct sc_err *err);
/* The book is not destroyed. NULL is a no-op. */
void sc_itch_feed_destroy(struct sc_itch_feed *f);

/* Decode one message of exactly len bytes and apply it.
 * @return its type (> 0), or the codec's SC_PERR_* (counted, nothing applied) */
int sc_itch_feed_msg(struct sc_itch_feed *f, const void *msg, size_t len);

/* Apply a message already decoded (counted as decoded). */
void sc_itch_feed_apply(struct sc_itch_feed *f, const struct sc_itch_msg *m);

/* Every message of one MoldUDP64 downstream packet (heartbeats and End of
 * Session carry none). No sequence check: that is the subscriber's.
 * @return messages in it (bad ones included), or the block's SC_PERR_* (it
 * does not parse: counted in bad_blocks, nothing applied) */
int sc_itch_feed_mold(struct sc_itch_feed *f, const void *block, size_t len);

/* NASDAQ's file framing (2-byte big-endian length, then the message; what
 * seqcast-pub --input reads): apply every whole record in buf.
 * @return bytes consumed -- up to the first record not wholly in buf, which
 * the caller keeps and passes again with what follows (at the end of the
 * file, what is left is a cut record: sc_itch_feed_truncated). */
size_t sc_itch_feed_file(struct sc_itch_feed *f, const void *buf, size_t len);

/* The input ended with bytes of a record cut short: count them. */
void sc_itch_feed_truncated(struct sc_itch_feed *f, size_t bytes);

/* The transport lost messages first..last of the session (last UINT64_MAX: an
 * end it cannot know): every book is marked stale, the loss counted. */
void sc_itch_feed_loss(struct sc_itch_feed *f, uint64_t first, uint64_t last);

/* The message being applied (inside a book callback), else the last one
 * applied; its fields are valid only as long as that. */
const struct sc_itch_msg *sc_itch_feed_current(const struct sc_itch_feed *f);

/* The book messages go to. */
struct sc_book *sc_itch_feed_book(const struct sc_itch_feed *f);

void sc_itch_feed_get_stats(const struct sc_itch_feed *f, struct sc_itch_feed_stats *st);

#endif
