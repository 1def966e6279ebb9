/* An independent check of a generated ITCH day, for tests: a plain model of
 * the live orders (a chained hash map, no speed tricks), written from the
 * ITCH 5.0 rules alone and sharing nothing with the generator or the book
 * engine. Each decoded message is checked against the model, then applied.
 *
 * The rules (itchday_apply says which one broke):
 *   timestamps never decrease; system events come as O S Q M E C, once each,
 *   nothing before O or after C; the directory names locates 1, 2, ... with
 *   distinct, space-padded upper-case tickers before start of system hours;
 *   A, F and U's new reference are each above every reference before; E, C,
 *   X, D and U name a live order, with its locate; E and C take at most what
 *   the order holds, X less than it holds (a whole cancel is a D); nothing
 *   executes on a halted symbol; match numbers increase; prices are whole
 *   cents; orders come only during system hours; one halt (H 'H') and its
 *   resume (H 'T'); one opening cross per symbol after start of market
 *   hours, one closing cross per symbol after its end. */
#ifndef SC_TESTS_ITCHDAY_H
#define SC_TESTS_ITCHDAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <seqcast/proto/itch.h>

struct itchday_order {
    uint64_t ref;
    uint32_t shares, price;
    uint16_t locate;
    int side; /* 0 bid, 1 ask */
    struct itchday_order *next;
};

struct itchday {
    struct itchday_order **bucket; /* ITCHDAY_BUCKETS chains */
    uint64_t live;                 /* orders live */
    uint64_t max_ref, last_match, ts;
    uint64_t messages, by_type[256];
    char events[8];   /* the system events so far, in order */
    int nevents;
    uint32_t symbols; /* named by R */
    char (*stock)[SC_ITCH_STOCK_LEN]; /* by locate */
    uint64_t (*shares)[2];            /* live shares by locate and side */
    uint32_t (*orders)[2];            /* live orders by locate and side */
    uint16_t halted;                  /* the locate halted now, 0 none */
    int halts, resumes;
    uint32_t cross_open, cross_close;
};

/* @return 0, -1 out of memory */
int itchday_init(struct itchday *d);
void itchday_free(struct itchday *d);
/* Check one decoded message against the rules and the model, then apply it.
 * @return 0, or -1 with the broken rule in why */
int itchday_apply(struct itchday *d, const struct sc_itch_msg *m, char *why, size_t n);
/* The day is complete: every system event, one opening and one closing cross
 * per symbol, the halt resumed. @return 0, or -1 with why */
int itchday_end(const struct itchday *d, char *why, size_t n);
/* A live order, or NULL. */
const struct itchday_order *itchday_find(const struct itchday *d, uint64_t ref);
/* Call fn for every live order. */
void itchday_each(const struct itchday *d, void (*fn)(void *ctx, const struct itchday_order *o),
                  void *ctx);

#endif
