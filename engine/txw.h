/* Transmit window: the packets a publisher keeps for repair.
 *
 *   trail                 next_tx                  trail + count - 1 (lead)
 *     |<---- sent, repairable ---->|<---- stored, not yet sent ---->|
 *
 * Sequences are 64-bit here; only the codec folds them to PGM's 32 bits.
 * Slots are indexed by sequence & mask (capacity a power of two). A packet
 * leaves the window when the window is full (the oldest sent packet makes
 * room) or when it is older than the window's time bound; unsent packets are
 * never evicted -- a full window of unsent packets refuses new ones (-EAGAIN
 * at the API). Buffers are allocated once, at init.
 */
#ifndef SC_ENGINE_TXW_H
#define SC_ENGINE_TXW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sc_txw_slot {
    uint8_t *buf;
    uint16_t len;
    uint16_t msgs;      /* messages it holds, numbered from msg_first (0: none counted --
                           raw framing, a fragment, an End of Session block) */
    uint64_t msg_first;
    bool rtx_pending; /* a repair is queued (coalesces duplicate NAKs) */
    uint32_t rtx_pos; /* while rtx_pending: where its queue entry is (engine/rtx.c) */
    uint64_t stored_ns;
    uint64_t rtx_sent_ns; /* last repair sent (0 = none): NAKs soon after it are held off */
    uint64_t ncf_sent_ns; /* last NCF that confirmed it (0 = none): no second one soon after */
};

struct sc_txw {
    uint64_t trail;   /* oldest sequence held */
    uint64_t count;   /* packets held */
    uint64_t next_tx; /* next sequence to send as ODATA */
    uint64_t evicted;
    uint32_t mask;
    uint32_t buf_size;
    uint32_t headroom; /* bytes before each buffer that belong to the transport */
    struct sc_txw_slot *slot;
    uint8_t *mem;
    /* Optional: true while buf (a buffer of this window) must not be reused --
     * a zero-copy transport still holds it (sc_xport_tx_busy) */
    bool (*busy)(void *ctx, const uint8_t *buf);
    void *busy_ctx;
};

int sc_txw_init(struct sc_txw *w, uint32_t packets, uint32_t buf_size, uint64_t first_seq);
/* The same, with headroom bytes (rounded up to a multiple of 64) in front of
 * every buffer: a zero-copy transport's (SC_XPORT_TX_HEADROOM). */
int sc_txw_init_room(struct sc_txw *w, uint32_t packets, uint32_t buf_size, uint32_t headroom,
                     uint64_t first_seq);
void sc_txw_fini(struct sc_txw *w);

static inline uint64_t
sc_txw_lead(const struct sc_txw *w) /* trail - 1 when empty */
{
    return w->trail + w->count - 1;
}

static inline uint32_t
sc_txw_capacity(const struct sc_txw *w)
{
    return w->mask + 1;
}

/* The slot of seq if the window holds it, else NULL. */
static inline struct sc_txw_slot *
sc_txw_get(struct sc_txw *w, uint64_t seq)
{
    if (seq - w->trail >= w->count) /* also catches seq < trail (unsigned) */
        return NULL;
    return &w->slot[seq & w->mask];
}

/* The buffer for the next sequence (trail + count), evicting the oldest sent
 * packet when full. NULL when the window is full of unsent packets, or when
 * that buffer is still busy (w->busy): nothing evicted then. */
uint8_t *sc_txw_reserve(struct sc_txw *w);

/* Is none of the buffers of the next n sequences busy (w->busy)? Then n
 * reserves in a row each return a buffer, if the window also has room for n
 * more unsent packets. */
bool sc_txw_none_busy(struct sc_txw *w, uint32_t n);

/* Store the reserved buffer as the next sequence, len bytes long, holding
 * messages [msg_first, msg_first + msgs). */
void sc_txw_commit(struct sc_txw *w, uint16_t len, uint64_t msg_first, uint16_t msgs,
                   uint64_t now_ns);

/* The sent packet holding message msg: a binary search over [trail, next_tx),
 * whose packets must each hold messages, numbered without gaps (a MoldUDP64
 * channel's window). @return its sequence, or UINT64_MAX when no sent packet
 * holds msg. */
uint64_t sc_txw_find_msg(struct sc_txw *w, uint64_t msg);

/* Drop sent packets older than max_age. @return how many left. */
uint64_t sc_txw_expire(struct sc_txw *w, uint64_t now_ns, uint64_t max_age_ns);

/* Forget the packets stored but not sent (a close that gave up on its
 * transport): the window ends at next_tx - 1. @return how many. */
uint64_t sc_txw_drop_unsent(struct sc_txw *w);

#endif
