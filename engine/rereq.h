/* Repair by re-request (MoldUDP64), the subscriber's side: nak.c's state
 * machine run with no_ncf, its batches turned into 20-byte requests.
 *
 *   sc_nak_poll ──missing messages, ascending──> sc_rereq_add ──> the open
 *   request grows while the next message is the one after it, of the same
 *   source, for the same server, under request_count; else it is emitted and
 *   a new one opens ──sc_rereq_flush (end of do_work)──> the last one emitted
 *
 * so the runs of one do_work (every source's timer that fired in it, each
 * poll's batches of 63) leave as few requests as there are runs. Where a
 * request goes: the k-th request for a message (k = its data_retries, 0 the
 * first) goes to mold.request_servers[k mod n]; with none configured, to the
 * data's source address at the channel's data port (auto).
 *
 * Answers are downstream packets sent by unicast to the port requests leave
 * from. A server answers from the first message asked for, one datagram's
 * worth; seqcast's server (docs/PROTOCOL.md) also answers a request older
 * than its window, from the window's first message, or with a unicast
 * heartbeat (count 0) whose sequence is the oldest message it holds.
 * sc_rereq_answer tells an ordinary answer from a not-held one: an answer
 * whose first message starts a request sent to that server (the last
 * SC_REREQ_SENT requests are remembered; beyond them, a slot that began a
 * request since it went missing: rq_first) is ordinary, however late -- a
 * slow server still answers requests that timed out and were sent again, cut
 * differently; any other, and every unicast heartbeat, names the server's
 * oldest message, so the messages below it that wait for a request to that
 * server are gone (LOST, not_in_window). Either way what follows the answer
 * in its request (a server sends one datagram's worth) is asked for again at
 * once, not after a timeout.
 *
 * An answer matched to its request (the oldest one still open with that
 * first message, to that server: servers answer in order) gives the time it
 * took. The caller keeps a smoothed estimate of it per source (RFC 6298's,
 * as TCP's retransmission timer) and no wait for an answer is shorter,
 * doubled at each retry (sc_nak.rdata_least_ns): with a server slower than
 * nak.rdata (an archive reading its disk, a queue of requests, a budget spent)
 * requests are not sent again, and given up on, while their answers are on
 * the way; a server never heard from is given up on after nak.rdata's retries
 * as before. Nothing allocates.
 */
#ifndef SC_ENGINE_REREQ_H
#define SC_ENGINE_REREQ_H

#include <stdbool.h>
#include <stdint.h>

#include <seqcast/config.h>
#include <seqcast/proto/mold.h>

#include "engine/nak.h"
#include "engine/rxw.h"

struct sc_rereq_dest {
    uint32_t addr; /* network order */
    uint16_t port;
};

/* Hands one request to the transport queue: its source (owner), session, where
 * to, the range, and whether it asks again for a message whose last request got
 * no answer within nak.rdata (a retry; a continuation of a partial answer is
 * not one). */
typedef void sc_rereq_emit_fn(void *ctx, const void *owner,
                              const uint8_t session[SC_MOLD_SESSION_LEN], struct sc_rereq_dest to,
                              uint64_t first, uint32_t count, bool retry);

#define SC_REREQ_SENT 256 /* requests remembered (a power of 2) */

struct sc_rereq_sent {
    const void *owner; /* its source; NULL: answered (or never used) */
    uint64_t first;
    uint64_t at_ns;    /* when it was handed to the transport queue */
    uint32_t to;       /* the server's address */
};

struct sc_rereq {
    uint32_t max_count; /* mold.request_count */
    uint16_t data_port;
    unsigned nservers;  /* 0: auto */
    struct sc_rereq_dest server[SC_CFG_MAX_REQUEST_SERVERS];
    unsigned nsecond;   /* recovery.request_servers (0: none) */
    struct sc_rereq_dest second[SC_CFG_MAX_REQUEST_SERVERS];
    sc_rereq_emit_fn *emit;
    void *ctx;
    /* the request being coalesced */
    bool open, retry;
    const void *owner; /* its source */
    uint8_t session[SC_MOLD_SESSION_LEN];
    struct sc_rereq_dest to;
    uint64_t first;
    uint32_t count;
    uint64_t now_ns; /* the caller's clock, set before sc_rereq_add / flush */
    uint32_t nsent;  /* requests emitted; the last SC_REREQ_SENT of them: */
    struct sc_rereq_sent sent[SC_REREQ_SENT];
};

void sc_rereq_init(struct sc_rereq *q, const struct sc_channel_cfg *ch, sc_rereq_emit_fn *emit,
                   void *ctx);

/* Where the k-th request for a message of a source whose data comes from
 * data_addr goes. */
struct sc_rereq_dest sc_rereq_server(const struct sc_rereq *q, uint32_t data_addr, unsigned k);

/* The second line: a message a server says it no longer holds (a not-held
 * answer, see above) is asked for again at once of recovery.request_servers,
 * in turn, with nak.data_retries requests of its own, and lost only when they
 * say so too or do not answer. A slot's line is kept in ncf_retries, which a
 * MoldUDP64 slot never uses (no NCF) and nak.c zeroes when it goes missing. */
#define SC_REREQ_SECOND(sl) ((sl)->ncf_retries)
/* Where the k-th request for slot sl goes (its line's servers). */
struct sc_rereq_dest sc_rereq_server_for(const struct sc_rereq *q, uint32_t data_addr,
                                         const struct sc_rxw_slot *sl, unsigned k);

/* A batch of sc_nak_poll for one source (owner): its missing messages seqs[n],
 * ascending, each just sent to WAIT-DATA. Marks each slot's rq_first. */
void sc_rereq_add(struct sc_rereq *q, const void *owner, const uint8_t session[SC_MOLD_SESSION_LEN],
                  uint32_t data_addr, struct sc_rxw *w, const uint64_t *seqs, unsigned n);

/* A source is gone (its slot reused): forget its requests. */
void sc_rereq_forget(struct sc_rereq *q, const void *owner);

/* Emit the open request, if any (once per do_work, after the timers). */
void sc_rereq_flush(struct sc_rereq *q);

struct sc_rereq_verdict {
    uint64_t gone;  /* messages made LOST, reason not_in_window */
    uint64_t second; /* messages not held, set to be asked of the second line now */
    uint64_t again; /* messages set to be asked for again at once (due now) */
    bool not_held;  /* the answer said the server no longer holds some of it */
    uint64_t took_ns; /* matched to its request: how long it took (else 0) */
};

/* A unicast answer from `from` to source owner, whose data comes from
 * data_addr: its first message seq and count (0: a heartbeat, the
 * not-in-window answer), its messages already in the window. Applies it to
 * w's slots (see above); the caller counts, arms the NAK timer for what is
 * due now, delivers. */
void sc_rereq_answer(struct sc_rereq *q, const void *owner, uint32_t data_addr, struct sc_nak *n,
                     struct sc_rxw *w, uint32_t from, uint64_t seq, uint16_t count,
                     uint64_t now_ns, struct sc_rereq_verdict *v);

#endif
