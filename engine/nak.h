/* Receiver-side NAK scheduling for one source (RFC 3208 s.6.3):
 *
 *   gap seen ──> BACK-OFF (random in (0, backoff]) ──expires──> NAK sent ──> WAIT-NCF
 *   WAIT-NCF ──NCF or peer NAK──> WAIT-DATA (rdata)     ──expires──> retry or LOST
 *   WAIT-NCF ──expires (repeat)──> back to BACK-OFF, or LOST after ncf_retries NAKs
 *   BACK-OFF ──NCF or peer NAK──> WAIT-DATA (our NAK is suppressed)
 *   WAIT-DATA ──expires (rdata)──> back to BACK-OFF, or LOST after data_retries NCFs
 *   (with ramp, the first waits for an NCF and for the data are 1/8, 1/4, 1/2 of
 *   repeat / rdata: a lost NCF or repair on a LAN costs a fraction of the full wait)
 *   any state ──the data arrives──> done;   ──the source's trail passes it──> LOST
 *
 * With no_ncf (MoldUDP64 re-requests: no NCF exists) a request goes straight
 * to WAIT-DATA; only data_retries and rdata apply; and the sequences whose
 * wait runs out in one poll back off together (one draw), so that a request's
 * messages are asked for again in one request.
 *
 * Every sequence whose back-off expired at a poll is NAKed in the same packet
 * (OPT_NAK_LIST, up to 63 per NAK), oldest first. Missing sequences are kept in
 * a FIFO in sequence order (gaps open in order), so a poll costs the number of
 * outstanding gaps, not the window size. Nothing allocates after init.
 */
#ifndef SC_ENGINE_NAK_H
#define SC_ENGINE_NAK_H

#include <stdint.h>

#include "engine/rxw.h"

#define SC_NAK_MAX_LIST 63 /* one in the header + 62 in OPT_NAK_LIST */

struct sc_nak_params {
    uint64_t backoff_ns, repeat_ns, rdata_ns;
    uint32_t ncf_retries, data_retries;
    bool ramp; /* the k-th wait (k = 0, 1, 2) is repeat or rdata >> (3 - k), then the full value */
    bool no_ncf; /* nothing confirms a request: BACK-OFF -> request sent -> WAIT-DATA */
};

struct sc_nak {
    struct sc_nak_params p;
    uint64_t rdata_least_ns; /* no wait for the data is shorter (0: none), doubled at each
                                retry: what the server's answers take (rereq.h) */
    uint64_t *rng;  /* the owner's generator */
    uint64_t *list; /* missing sequences, ascending */
    uint32_t head, tail, mask;
};

int sc_nak_init(struct sc_nak *n, const struct sc_nak_params *p, uint64_t *rng, uint32_t capacity);
void sc_nak_fini(struct sc_nak *n);
void sc_nak_reset(struct sc_nak *n);

/* Sequence seq (inside the window) is missing: start its back-off. */
void sc_nak_missing(struct sc_nak *n, struct sc_rxw *w, uint64_t seq, uint64_t now_ns);

/* [first, end) are missing, one gap: one back-off for all of them, so they
 * are asked for together (MoldUDP64: one request, not one per message). */
void sc_nak_missing_run(struct sc_nak *n, struct sc_rxw *w, uint64_t first, uint64_t end,
                        uint64_t now_ns);

/* An NCF or a peer's NAK for seq: stop our own NAK and wait for the repair.
 * @return true if it suppressed a NAK of ours still in back-off. */
bool sc_nak_confirmed(struct sc_nak *n, struct sc_rxw *w, uint64_t seq, uint64_t now_ns);

typedef void sc_nak_send_fn(void *ctx, const uint64_t *seqs, unsigned count);
typedef void sc_nak_lost_fn(void *ctx, uint64_t seq);

/* Act on every expired timer: send NAK lists, give up after the retries.
 * @return when the next state times out, UINT64_MAX if nothing is missing. */
uint64_t sc_nak_poll(struct sc_nak *n, struct sc_rxw *w, uint64_t now_ns, sc_nak_send_fn *send,
                     sc_nak_lost_fn *lost, void *ctx);

#endif
