#include "engine/nak.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/compiler.h"

int
sc_nak_init(struct sc_nak *n, const struct sc_nak_params *p, uint64_t *rng, uint32_t capacity)
{
    uint64_t cap = sc_pow2_roundup(capacity);

    memset(n, 0, sizeof(*n));
    n->list = malloc(cap * sizeof(*n->list));
    if (!n->list)
        return -ENOMEM;
    n->mask = (uint32_t)(cap - 1);
    n->p = *p;
    n->rng = rng;
    return 0;
}

void
sc_nak_fini(struct sc_nak *n)
{
    free(n->list);
    n->list = NULL;
}

void
sc_nak_reset(struct sc_nak *n)
{
    n->head = n->tail = 0;
    n->rdata_least_ns = 0;
}

static uint64_t
backoff(struct sc_nak *n)
{
    /* NAK_RB_IVL: uniform in (0, backoff], as OpenPGM does (1 us minimum) */
    return 1000 + sc_rand(n->rng) % (n->p.backoff_ns > 1000 ? n->p.backoff_ns - 999 : 1);
}

/* the wait for an NCF (repeat) or the data (rdata) after the k-th try */
static uint64_t
wait_ns(const struct sc_nak *n, uint64_t full, uint32_t k)
{
    return n->p.ramp && k < 3 ? full >> (3 - k) : full;
}

/* The wait for the data after the k-th request (k = 0 the first): nak.rdata
 * (ramped); from a server that answers (rdata_least_ns: the time its answers
 * take) at least that, doubled at each request asked again, but never
 * doubled past SC_NAK_BACKOFF_CAP_NS -- a server that answers is busy (a
 * queue, a per-requester budget of a second) when it leaves a request
 * unanswered, not gone, and asking it faster only adds to its queue or its
 * budget (RFC 6298's back-off of TCP's timer). The cap keeps a time learnt
 * while the server's queue was long from growing into minutes for a repair
 * lost later. A server never heard from keeps nak.rdata's waits. */
#define SC_NAK_BACKOFF_CAP_NS UINT64_C(1000000000)

static uint64_t
data_wait_ns(const struct sc_nak *n, uint32_t k)
{
    uint64_t w = wait_ns(n, n->p.rdata_ns, k);
    uint64_t least = n->rdata_least_ns;

    if (least) {
        uint64_t cap = least > SC_NAK_BACKOFF_CAP_NS ? least : SC_NAK_BACKOFF_CAP_NS;
        uint64_t b = least << (k < 10 ? k : 10);
        if (b > cap)
            b = cap;
        if (w < b)
            w = b;
    }
    return w;
}

/* A wait ran out -- for the NCF (our NAK was not heard) or for the data (the
 * repair was lost): back to back-off for another NAK, unless that wait has
 * run out its retries. *shared: with no_ncf, the back-off drawn for the
 * first retry of this poll (0: none yet), taken by the rest.
 * @return false when the sequence is lost. */
static bool
retry(struct sc_nak *n, struct sc_rxw_slot *s, uint64_t now_ns, uint64_t *shared)
{
    bool ncf = s->nak_state == SC_NAK_WAIT_NCF;
    uint8_t *tries = ncf ? &s->ncf_retries : &s->data_retries;

    if (++*tries >= (ncf ? n->p.ncf_retries : n->p.data_retries))
        return false;
    s->nak_state = SC_NAK_BACKOFF;
    if (!n->p.no_ncf) {
        s->nak_due_ns = now_ns + backoff(n);
    } else {
        if (!*shared)
            *shared = backoff(n);
        s->nak_due_ns = now_ns + *shared;
    }
    return true;
}

/* Drop the sequences that are no longer missing (delivered, repaired, lost)
 * from the FIFO, keeping its order. */
static void
compact(struct sc_nak *n, struct sc_rxw *w)
{
    uint32_t keep = n->head;

    for (uint32_t i = n->head; i != n->tail; i++) {
        uint64_t seq = n->list[i & n->mask];
        if (seq >= w->next && sc_rxw_slot(w, seq)->state == SC_RXW_MISSING)
            n->list[keep++ & n->mask] = seq;
    }
    n->tail = keep;
}

static void
missing(struct sc_nak *n, struct sc_rxw *w, uint64_t seq, uint64_t now_ns, uint64_t due_ns)
{
    struct sc_rxw_slot *s = sc_rxw_slot(w, seq);

    s->state = SC_RXW_MISSING;
    s->missing_us = (uint32_t)(now_ns / 1000);
    s->nak_state = SC_NAK_BACKOFF;
    s->ncf_retries = s->data_retries = 0;
    s->nakked = false;
    s->nak_due_ns = due_ns;
    /* the list holds at most the window's worth: gaps inside the window. Full,
     * it still holds sequences sc_nak_poll has not walked since they stopped
     * missing (a window's worth delivered, then a gap as wide): compacted. */
    if (unlikely(n->tail - n->head > n->mask))
        compact(n, w);
    if (n->tail - n->head <= n->mask)
        n->list[n->tail++ & n->mask] = seq;
}

void
sc_nak_missing(struct sc_nak *n, struct sc_rxw *w, uint64_t seq, uint64_t now_ns)
{
    missing(n, w, seq, now_ns, now_ns + backoff(n));
}

void
sc_nak_missing_run(struct sc_nak *n, struct sc_rxw *w, uint64_t first, uint64_t end,
                   uint64_t now_ns)
{
    uint64_t due = now_ns + backoff(n);

    for (uint64_t q = first; q < end; q++)
        missing(n, w, q, now_ns, due);
}

bool
sc_nak_confirmed(struct sc_nak *n, struct sc_rxw *w, uint64_t seq, uint64_t now_ns)
{
    struct sc_rxw_slot *s;
    bool suppressed;

    (void)n;
    if (!sc_rxw_in_window(w, seq))
        return false;
    s = sc_rxw_slot(w, seq);
    if (s->state != SC_RXW_MISSING)
        return false;
    suppressed = s->nak_state == SC_NAK_BACKOFF;
    s->nak_state = SC_NAK_WAIT_DATA;
    s->nak_due_ns = now_ns + data_wait_ns(n, s->data_retries);
    return suppressed;
}

uint64_t
sc_nak_poll(struct sc_nak *n, struct sc_rxw *w, uint64_t now_ns, sc_nak_send_fn *send,
            sc_nak_lost_fn *lost, void *ctx)
{
    uint64_t batch[SC_NAK_MAX_LIST], next_due = UINT64_MAX, shared = 0;
    unsigned nb = 0;
    uint32_t keep = n->head;

    /* walk the FIFO, compacting out sequences that are no longer missing */
    for (uint32_t i = n->head; i != n->tail; i++) {
        uint64_t seq = n->list[i & n->mask];
        struct sc_rxw_slot *s;

        if (!sc_rxw_in_window(w, seq))
            continue;
        s = sc_rxw_slot(w, seq);
        if (s->state != SC_RXW_MISSING)
            continue;
        if (s->nak_due_ns <= now_ns) {
            switch (s->nak_state) {
            case SC_NAK_BACKOFF:
                if (unlikely(n->p.no_ncf)) {
                    s->nak_state = SC_NAK_WAIT_DATA;
                    s->nak_due_ns = now_ns + data_wait_ns(n, s->data_retries);
                } else {
                    s->nak_state = SC_NAK_WAIT_NCF;
                    s->nak_due_ns = now_ns + wait_ns(n, n->p.repeat_ns, s->ncf_retries);
                }
                s->nakked = true;
                batch[nb++] = seq;
                if (nb == SC_NAK_MAX_LIST) {
                    send(ctx, batch, nb);
                    nb = 0;
                }
                break;
            case SC_NAK_WAIT_NCF:
            case SC_NAK_WAIT_DATA:
                if (!retry(n, s, now_ns, &shared)) {
                    lost(ctx, seq);
                    continue;
                }
                break;
            }
        }
        if (s->nak_due_ns < next_due)
            next_due = s->nak_due_ns;
        n->list[keep++ & n->mask] = seq;
    }
    n->tail = keep;
    if (nb)
        send(ctx, batch, nb);
    return next_due;
}
