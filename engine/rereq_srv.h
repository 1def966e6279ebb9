/* The MoldUDP64 re-request server: what a publisher of a MoldUDP64 channel
 * does with a request (20 bytes: session, first message, count) that reaches
 * its data or NAK port. Part of the publisher agent (engine/pub.c calls it),
 * beside rtx.c, PGM's repair.
 *
 *   request from ADDR:PORT
 *     ├─ not 20 bytes ────────────────────────────> rx_bad (short / length)
 *     ├─ ADDR outside mold.request_allow ─────────> ignored: mold_req_denied
 *     ├─ another session ─────────────────────────> ignored: mold_req_wrong_session
 *     ├─ first 0 / count 0 / count > request_max ─> ignored: mold_req_seq_zero, _count_zero,
 *     │                                                       _over_max
 *     ├─ first not sent yet ──────────────────────> ignored: mold_req_not_sent
 *     ├─ ADDR over its budget (rtx.budget) ───────> ignored: mold_req_over_budget
 *     ├─ queue congested, ADDR holds its share ───> ignored: mold_req_dropped
 *     └─ queued ──(fair between addresses, within rtx.rate)──> response, by unicast
 *                          to ADDR:PORT (mold.response: multicast -> the group)
 *
 * Ignored means no answer at all: MoldUDP64 has no reject packet.
 *
 * Where the messages come from is a source (struct sc_rereq_source): the
 * publisher's transmit window (sc_rereq_txw_source), or the archive's store
 * (engine/archive/archive.c). A source that lacks the first message asked for
 * -- an archive's gap -- gets no answer (mold_req_not_held); one that lacks a
 * later one answers up to it.
 *
 * The response is an ordinary downstream packet: session, seq = the first
 * message returned, count, then the blocks copied from the packets the window
 * holds (starting mid-packet if asked), at most the requested count and
 * mold.response_bytes of blocks -- always the first message. What does not fit
 * is requested again.
 *
 * Sent messages [lo, sent_end): lo is the first message of the oldest sent
 * packet the window holds. A request reaching below lo (seqcast's extension,
 * harmless to other listeners; mold_not_in_window):
 *   first < lo < first + count: answered from lo -- the seq above the one
 *     asked for tells the requester that [first, lo) is gone;
 *   first + count <= lo: a heartbeat (count 0, seq = lo), by unicast to ADDR:PORT.
 *
 * Limits. The budget is rtx.c's per-address table (sc_rtx_budget, its shared
 * overflow for a crowd of addresses) in messages per second: a request is
 * charged the messages its response will hold (a heartbeat answer: 1), and
 * answered with as many as the budget has left. Responses leave within
 * rtx.rate, counted as IP datagram bits (headers included), in the order of
 * start-time fair queueing between addresses (rtx.c's: a response's tag is
 * max(virtual time, its address's last tag) + 1, the smallest tag goes first,
 * arrival order among equals), so an address with one request waits for the
 * rest of the round being served and its own -- at most two responses of each
 * other address queued -- not for a flood's whole queue. Admission: up to
 * SC_REREQ_QUEUE from anyone; past that an address adds only while it has
 * fewer than SC_REREQ_SHARE queued (the queue has room for that), so a flood
 * from many addresses cannot lock out a requester that asks for little. First
 * come first served, a listener waited for the whole queue during a flood from
 * 2,000 addresses (168 ms instead of 122 at 200 Mbit/s), and one asking every
 * 5 ms found its share taken: 19 of 200 answered (tests/sim/test_hostile.c).
 * Memory is sized at init.
 */
#ifndef SC_ENGINE_REREQ_SRV_H
#define SC_ENGINE_REREQ_SRV_H

#include <stdbool.h>
#include <stdint.h>

#include <seqcast/config.h>
#include <seqcast/proto/mold.h>
#include <seqcast/pub.h>
#include <seqcast/xport.h>

#include "engine/rate.h"
#include "engine/rtx.h"
#include "engine/txw.h"

#define SC_REREQ_QUEUE 1024 /* responses queued from anyone before admission is by share */
#define SC_REREQ_SHARE 4    /* responses an address may have queued while congested */
/* Response buffers, used in turn: one more than a burst, so the one being
 * built is never one the caller still holds (it holds at most SC_BURST
 * packets between flushes, and lets go of every response at a flush). */
#define SC_REREQ_BUFS (SC_BURST + 1)

struct sc_rereq_entry {
    uint64_t tag;   /* fair-queueing order, then ... */
    uint64_t order; /* ... arrival */
    uint64_t first; /* the first message to return */
    uint32_t count; /* most messages (what the budget granted); 0 = a heartbeat answer */
    uint32_t addr;  /* the requester (network order) */
    uint16_t port;
    uint16_t rq;    /* its budget entry (sc_rtx_budget_index) */
};

/* Where responses' messages come from. */
struct sc_rereq_source {
    void *ctx;
    /* [*lo, *end): the first message held (end when none is), the first not
     * sent (or archived) yet */
    void (*range)(void *ctx, uint64_t *lo, uint64_t *end);
    /* From first (lo <= first < end): at most max messages, and after the
     * first only while their blocks fit in bytes; each appended to e when it is
     * set. Stops before a message it does not hold. @return how many. */
    uint32_t (*walk)(void *ctx, uint64_t first, uint32_t max, uint32_t bytes,
                     struct sc_mold_enc *e);
};

/* The publisher's window as a source: sent_end is read at every call. */
struct sc_rereq_txw {
    struct sc_txw *w;
    const uint64_t *sent_end;
};
void sc_rereq_txw_source(struct sc_rereq_source *src, struct sc_rereq_txw *t);

struct sc_rereq_srv {
    uint8_t session[SC_MOLD_SESSION_LEN];
    uint32_t request_max;
    uint32_t response_bytes; /* bytes of blocks in a response */
    uint32_t pkt_max;        /* UDP payload of one packet */
    const struct sc_channel_cfg *ch; /* allow-list, response mode, group */
    struct sc_rtx_budget budgets;    /* messages per address per second */
    struct sc_tbucket rate;          /* rtx.rate, bits */
    uint64_t wait_bits;              /* the head response's bits while the rate holds it */
    uint64_t vtime;                  /* the tag of the last response sent */
    uint64_t arrivals;
    uint32_t n, cap, congested;
    struct sc_rereq_entry *q;        /* a binary min-heap by (tag, order) */
    unsigned next_buf;
    uint8_t *bufs; /* SC_REREQ_BUFS response buffers of pkt_max, used in turn */
    struct sc_pub_stats *st;         /* the publisher's: mold_* counters, rx_bad */
};

/* ch stays the caller's (read at every request); pkt_max: the UDP payload that
 * fits the MTU; st: where the counters go. @return 0 or -ENOMEM. */
int sc_rereq_srv_init(struct sc_rereq_srv *s, const struct sc_channel_cfg *ch,
                      const uint8_t session[SC_MOLD_SESSION_LEN], uint32_t pkt_max,
                      struct sc_pub_stats *st);
void sc_rereq_srv_fini(struct sc_rereq_srv *s);

/* One datagram that reached the server; src: where the messages are.
 * Counted under one reason, queued or ignored. */
void sc_rereq_srv_request(struct sc_rereq_srv *s, const struct sc_rereq_source *src,
                          const struct sc_pkt *pk, uint64_t now_ns);

/* Put a response on the way: true if send took it, false on back-pressure
 * (it stays queued). data is the server's: the caller must let go of it at its
 * next flush, and hold at most SC_BURST such packets at once. */
typedef bool sc_rereq_send_fn(void *ctx, uint8_t *data, uint16_t len, uint32_t addr,
                              uint16_t port);

/* Build and send queued responses in their order, within rtx.rate.
 * @return responses sent. */
int sc_rereq_srv_poll(struct sc_rereq_srv *s, const struct sc_rereq_source *src, uint64_t now_ns,
                      sc_rereq_send_fn *send, void *ctx);

/* When poll has something to send: now (the last refill) or when the rate
 * lets the head response go; UINT64_MAX if nothing is queued. */
uint64_t sc_rereq_srv_deadline(const struct sc_rereq_srv *s);

/* Responses queued. */
static inline uint32_t
sc_rereq_srv_queued(const struct sc_rereq_srv *s)
{
    return s->n;
}

#endif
