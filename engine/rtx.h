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
 * sc_rtx_poll() sends due repairs, oldest first, within the retransmit rate
 * limit (a token bucket separate from the data rate). All memory is sized at
 * init: the queue and the receiver table never grow.
 */
#ifndef SC_ENGINE_RTX_H
#define SC_ENGINE_RTX_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/txw.h"

#define SC_RTX_RECEIVERS 1024 /* receivers tracked for the per-second budget */

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
    uint64_t due_ns;
};

struct sc_rtx_receiver {
    uint32_t addr;
    uint32_t used;
    uint64_t window_start_ns;
};

struct sc_rtx {
    uint64_t delay_ns;
    uint64_t holdoff_ns;
    uint64_t rate_bps; /* 0 = unlimited */
    uint32_t budget;   /* sequences per receiver per second */
    uint64_t tokens;   /* bits */
    uint64_t last_refill_ns;
    uint32_t head, tail, mask;
    struct sc_rtx_entry *q;
    struct sc_rtx_receiver recv[SC_RTX_RECEIVERS];
    uint64_t rate_limited;
};

int sc_rtx_init(struct sc_rtx *r, uint32_t queue_len, uint64_t delay_ns, uint64_t holdoff_ns,
                uint64_t rate_bps, uint32_t budget);
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

/* When the oldest queued repair is due, UINT64_MAX if none. */
uint64_t sc_rtx_deadline(const struct sc_rtx *r);

#endif
