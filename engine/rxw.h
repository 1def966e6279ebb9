/* Receive window of one source.
 *
 *    next                                   end
 *     |<-- MISSING / HAVE / LOST, any mix -->|
 *   delivered up to next - 1                   nothing known at or beyond end
 *
 * Invariants: next <= end; end - next <= capacity (end is exclusive, so an
 * empty window never needs a sequence below zero). A slot is a PGM packet, or
 * on a MoldUDP64 channel one message (responses re-packetize: packets are not
 * the unit there). A HAVE slot holds a pool buffer (MoldUDP64: a reference to
 * it, shared by the messages of one packet); MISSING slots carry their NAK state (nak.c); LOST slots are
 * skipped by delivery, which reports them as a typed loss event. Sequences are
 * 64-bit; slots are indexed by sequence & mask.
 */
#ifndef SC_ENGINE_RXW_H
#define SC_ENGINE_RXW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sc_rxw_state {
    SC_RXW_EMPTY = 0, /* beyond lead, or delivered */
    SC_RXW_MISSING,
    SC_RXW_HAVE,
    SC_RXW_LOST,
};

enum sc_nak_state {
    SC_NAK_BACKOFF = 0, /* waiting a random time before NAKing */
    SC_NAK_WAIT_NCF,    /* NAK sent, waiting for the source to confirm */
    SC_NAK_WAIT_DATA,   /* confirmed (NCF or a peer's NAK), waiting for the repair */
};

struct sc_rxw_slot {
    uint8_t state;       /* enum sc_rxw_state */
    uint8_t nak_state;   /* enum sc_nak_state, while MISSING */
    uint8_t ncf_retries; /* NAKs sent without an NCF */
    uint8_t data_retries; /* NCFs without the data */
    uint8_t loss_reason; /* enum sc_loss_reason, when LOST */
    bool nakked;         /* a NAK went out for it (repairs are counted) */
    uint16_t tsdu_off;   /* HAVE: payload position in buf (MoldUDP64: the message's) */
    uint16_t tsdu_len;
    bool rq_first;       /* MoldUDP64: the first message of a request since it went missing */
    uint8_t rq_tries;    /* MoldUDP64: data_retries when that request went out */
    uint32_t missing_us; /* MISSING: when it was found missing (now_ns / 1000, mod 2^32),
                            for repair_wait; it fits the padding */
    uint64_t nak_due_ns; /* MISSING: when its current state times out */
    uint8_t *buf;        /* HAVE: pool buffer */
    uint64_t frag_first; /* HAVE: sequence of its APDU's first packet */
    uint32_t apdu_len;   /* HAVE: 0 when the packet is a whole APDU */
    uint32_t frag_off;
};

enum sc_rxw_res {
    SC_RXW_IN_ORDER = 0, /* the next one, or in order beyond */
    SC_RXW_FILLED_GAP,   /* repaired a hole */
    SC_RXW_NEW_GAP,      /* beyond end: a hole opened */
    SC_RXW_DUPLICATE,    /* already held, or already delivered */
    SC_RXW_TOO_LATE,     /* already declared lost */
    SC_RXW_RES_COUNT
};

struct sc_rxw {
    uint64_t next; /* next sequence to deliver */
    uint64_t end;  /* one past the highest sequence known */
    uint32_t mask;
    struct sc_rxw_slot *slot;
};

static inline struct sc_rxw_slot *
sc_rxw_slot(struct sc_rxw *w, uint64_t seq)
{
    return &w->slot[seq & w->mask];
}

static inline uint64_t
sc_rxw_capacity(const struct sc_rxw *w)
{
    return (uint64_t)w->mask + 1;
}

static inline bool
sc_rxw_in_window(const struct sc_rxw *w, uint64_t seq)
{
    return seq >= w->next && seq < w->end;
}

#endif
