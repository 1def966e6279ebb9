/* Sender-side repair handling (RFC 3208 s.5.3): what happens to a NAK.
 *
 *   NAK for seq held in the window ──> NCF at once (by the caller), unless an NCF
 *       │                           confirmed seq less than holdoff/2 ago (the
 *       │                           NAKs of receivers that one had not reached
 *       │                           yet: each NCF wakes every receiver)
 *       ├─ not already pending ──> queued, due at now + delay  (duplicates within
 *       │                           the delay coalesce into the one RDATA)
 *       └─ repaired < holdoff ago ─> nothing more (late NAKs from receivers that
 *                                   had not yet seen the repair)
 *   NAK for seq no longer held ───> counted; the caller answers with an SPM whose
 *                                   trail tells the receiver to give up at once
 *   receiver over its budget ─────> dropped and counted (one lossy receiver cannot
 *                                   starve the rest)
 *
 * The budget: `budget` sequences per NAKing address per second, in a table of
 * SC_RTX_RECEIVERS addresses (the whole address hashed; a slot idle for a
 * second is reused). An address that finds no slot -- the table crowded by
 * addresses active this second, i.e. a flood from many addresses -- is charged
 * to one shared overflow budget of the same size: everyone who does not fit
 * shares one receiver's allowance (counted in budget_shared). Never none.
 *
 * Service is fair between requesters, not first come first served: each
 * queued repair carries a tag, max(virtual time, its requester's last tag) + 1
 * (start-time fair queueing with unit costs), and due repairs go out in tag
 * order. A receiver with one loss is served within one round of the
 * requesters active -- about (requesters / rtx.rate) -- however many repairs a
 * flood of NAKs from other addresses keeps queued. A NAK that coalesces with a
 * repair already queued for someone else moves it up to the earlier tag (and
 * the repair is then counted as its).
 *
 * Admission is fair too: up to queue_len repairs are taken from anyone; past
 * that (congested: more asked for than rtx.rate sends) a requester may add
 * only while it has fewer than SC_RTX_SHARE queued. The queue is sized so that
 * this always has room -- queue_len + SC_RTX_SHARE per requester -- so a
 * flood that fills it cannot lock out a receiver that asks for little.
 *
 *   requests ─> delay FIFO (due = now + delay) ─> when due ─> heap by tag ─> RDATA
 *
 * sc_rtx_poll() sends due repairs within the retransmit rate limit (a token
 * bucket separate from the data rate, counting IP datagram bits as data_rate
 * does). All memory is sized at init: the queue and the table never grow.
 */
#ifndef SC_ENGINE_RTX_H
#define SC_ENGINE_RTX_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/rate.h"
#include "engine/txw.h"

#define SC_RTX_RECEIVERS_BITS 10
#define SC_RTX_RECEIVERS (1u << SC_RTX_RECEIVERS_BITS) /* addresses with a budget of their own */
#define SC_RTX_PROBES 32 /* slots looked at per address before the shared budget */
#define SC_RTX_SHARE 16  /* repairs a requester may have queued while the queue is congested */

enum sc_rtx_res {
    SC_RTX_QUEUED = 0,
    SC_RTX_COALESCED,
    SC_RTX_HELD_OFF,
    SC_RTX_OUT_OF_WINDOW,
    SC_RTX_OVER_BUDGET,
    SC_RTX_OVERFLOW,
};

struct sc_rtx_entry {
    uint64_t seq;
    uint64_t tag;    /* fair-queueing order */
    uint64_t due_ns; /* delay FIFO only */
    uint32_t rq;     /* its requester: recv[rq], or the shared one (SC_RTX_RECEIVERS) */
};

struct sc_rtx_receiver {
    uint32_t addr;
    uint32_t used;            /* sequences charged in the current second */
    uint64_t window_start_ns; /* start of that second; 0 = slot never used */
    uint64_t last_tag;        /* tag of its latest queued repair */
    uint32_t queued;          /* repairs queued as its (kept when the slot changes hands) */
};

/* The per-address budget table (above), on its own for the MoldUDP64
 * re-request server too (engine/rereq_srv.h: messages instead of sequences). */
struct sc_rtx_budget {
    uint32_t budget;        /* units per address per second */
    uint64_t budget_shared; /* charges made to the shared overflow budget */
    struct sc_rtx_receiver shared; /* the overflow budget */
    struct sc_rtx_receiver recv[SC_RTX_RECEIVERS];
};

void sc_rtx_budget_init(struct sc_rtx_budget *b, uint32_t budget);

/* Charge up to n units to addr's budget for the current second.
 * @return how many it had left (0 .. n, charged); *rq its entry (its own slot
 *         or the shared one). */
uint32_t sc_rtx_budget_charge(struct sc_rtx_budget *b, uint32_t addr, uint32_t n,
                              uint64_t now_ns, struct sc_rtx_receiver **rq);

/* The index of an entry (SC_RTX_RECEIVERS: the shared one), and back. */
static inline uint32_t
sc_rtx_budget_index(const struct sc_rtx_budget *b, const struct sc_rtx_receiver *rq)
{
    return rq == &b->shared ? SC_RTX_RECEIVERS : (uint32_t)(rq - b->recv);
}

static inline struct sc_rtx_receiver *
sc_rtx_budget_entry(struct sc_rtx_budget *b, uint32_t i)
{
    return i < SC_RTX_RECEIVERS ? &b->recv[i] : &b->shared;
}

struct sc_rtx {
    uint64_t delay_ns;
    uint64_t holdoff_ns;
    struct sc_rtx_budget budgets; /* sequences per receiver per second */
    struct sc_tbucket rate; /* bits; rate 0 = unlimited */
    uint64_t wait_bits;     /* bits the next repair needs while the rate holds it, else 0 */
    uint64_t vtime;         /* tag of the last repair sent */
    uint32_t congested;     /* queued repairs past which admission is by share */
    uint32_t cap;           /* queued repairs at most (delay FIFO + heap) */
    uint32_t head, tail, mask; /* the delay FIFO, a ring of cap */
    struct sc_rtx_entry *fifo;
    uint32_t nheap;
    struct sc_rtx_entry *heap; /* due repairs, a binary min-heap by tag */
    uint64_t rate_limited;  /* polls the rate limit stopped */
};

/* queue_len: repairs taken from anyone before admission is by share (the
 * queue holds queue_len + SC_RTX_SHARE per requester); rate_bps: retransmit
 * rate (0 = unlimited); min_depth_bits: the bucket holds at least this much
 * (the largest packet, so one always fits). */
int sc_rtx_init(struct sc_rtx *r, uint32_t queue_len, uint64_t delay_ns, uint64_t holdoff_ns,
                uint64_t rate_bps, uint64_t min_depth_bits, uint32_t budget);
void sc_rtx_fini(struct sc_rtx *r);

/* A receiver at from_addr asks for seq. */
enum sc_rtx_res sc_rtx_request(struct sc_rtx *r, struct sc_txw *w, uint64_t seq,
                               uint32_t from_addr, uint64_t now_ns);

/* Whether the NCF answering a NAK should echo seq (held in the window): yes
 * unless an NCF confirmed it less than holdoff / 2 ago, and then it is stamped
 * as confirmed now. Half the hold-off: a receiver whose NAK got no NCF NAKs
 * again after its first NCF wait (lan 250 us, wan 200 ms), past that. */
bool sc_rtx_confirm(const struct sc_rtx *r, struct sc_txw *w, uint64_t seq, uint64_t now_ns);

typedef bool sc_rtx_send_fn(void *ctx, uint64_t seq, struct sc_txw_slot *slot);

/* Send due repairs through send (which returns false on back-pressure: the
 * repair stays queued). @return repairs sent. */
int sc_rtx_poll(struct sc_rtx *r, struct sc_txw *w, uint64_t now_ns, sc_rtx_send_fn *send,
                void *ctx);

/* When sc_rtx_poll has something to send: the oldest queued repair's due time,
 * or when the rate limit lets the next one go; UINT64_MAX if none. */
uint64_t sc_rtx_deadline(const struct sc_rtx *r);

/* Repairs queued (both stages). */
static inline uint32_t
sc_rtx_queued(const struct sc_rtx *r)
{
    return r->tail - r->head + r->nheap;
}

#endif
