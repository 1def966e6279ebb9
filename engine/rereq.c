#include "engine/rereq.h"

#include <string.h>

#include <seqcast/sub.h>

void
sc_rereq_init(struct sc_rereq *q, const struct sc_channel_cfg *ch, sc_rereq_emit_fn *emit,
              void *ctx)
{
    memset(q, 0, sizeof(*q));
    q->max_count = ch->mold.request_count ? ch->mold.request_count : 1;
    if (q->max_count > SC_MOLD_MAX_COUNT)
        q->max_count = SC_MOLD_MAX_COUNT;
    q->data_port = ch->port;
    q->nservers = ch->mold.nrequest_servers;
    if (q->nservers > SC_CFG_MAX_REQUEST_SERVERS)
        q->nservers = SC_CFG_MAX_REQUEST_SERVERS;
    for (unsigned i = 0; i < q->nservers; i++)
        q->server[i] = (struct sc_rereq_dest){ ch->mold.request_servers[i].addr.s_addr,
                                               ch->mold.request_servers[i].port };
    q->nsecond = ch->recovery.nrequest_servers;
    if (q->nsecond > SC_CFG_MAX_REQUEST_SERVERS)
        q->nsecond = SC_CFG_MAX_REQUEST_SERVERS;
    for (unsigned i = 0; i < q->nsecond; i++)
        q->second[i] = (struct sc_rereq_dest){ ch->recovery.request_servers[i].addr.s_addr,
                                               ch->recovery.request_servers[i].port };
    q->emit = emit;
    q->ctx = ctx;
}

struct sc_rereq_dest
sc_rereq_server(const struct sc_rereq *q, uint32_t data_addr, unsigned k)
{
    if (!q->nservers)
        return (struct sc_rereq_dest){ data_addr, q->data_port };
    return q->server[k % q->nservers];
}

struct sc_rereq_dest
sc_rereq_server_for(const struct sc_rereq *q, uint32_t data_addr, const struct sc_rxw_slot *sl,
                    unsigned k)
{
    if (SC_REREQ_SECOND(sl) && q->nsecond)
        return q->second[k % q->nsecond];
    return sc_rereq_server(q, data_addr, k);
}

void
sc_rereq_forget(struct sc_rereq *q, const void *owner)
{
    for (unsigned i = 0; i < SC_REREQ_SENT; i++)
        if (q->sent[i].owner == owner)
            q->sent[i].owner = NULL;
}

void
sc_rereq_flush(struct sc_rereq *q)
{
    if (!q->open)
        return;
    q->open = false;
    q->sent[q->nsent++ & (SC_REREQ_SENT - 1)] =
        (struct sc_rereq_sent){ q->owner, q->first, q->now_ns, q->to.addr };
    q->emit(q->ctx, q->owner, q->session, q->to, q->first, q->count, q->retry);
}

void
sc_rereq_add(struct sc_rereq *q, const void *owner, const uint8_t session[SC_MOLD_SESSION_LEN],
             uint32_t data_addr, struct sc_rxw *w, const uint64_t *seqs, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        struct sc_rxw_slot *sl = sc_rxw_slot(w, seqs[i]);
        struct sc_rereq_dest to = sc_rereq_server_for(q, data_addr, sl, sl->data_retries);

        if (q->open && q->owner == owner && q->to.addr == to.addr && q->to.port == to.port &&
            seqs[i] == q->first + q->count && q->count < q->max_count) {
            q->count++;
            q->retry |= sl->data_retries != sl->rq_tries; /* rq_first stays: an
                                                              earlier request's */
            sl->rq_tries = sl->data_retries;
            continue;
        }
        sc_rereq_flush(q);
        q->open = true;
        q->owner = owner;
        memcpy(q->session, session, SC_MOLD_SESSION_LEN);
        q->to = to;
        q->first = seqs[i];
        q->count = 1;
        q->retry = sl->data_retries != sl->rq_tries; /* its last wait ran out (not a
                                                         continuation of an answer) */
        sl->rq_first = true;
        sl->rq_tries = sl->data_retries;
    }
}

/* Is sl waiting for the answer of a request that went to `from`? */
static bool
waits_on(const struct sc_rereq *q, uint32_t data_addr, const struct sc_rxw_slot *sl,
         uint32_t from)
{
    return sl->state == SC_RXW_MISSING && sl->nak_state == SC_NAK_WAIT_DATA &&
           sc_rereq_server_for(q, data_addr, sl, sl->data_retries).addr == from;
}

/* The oldest request still open from owner to `from` that began at seq:
 * answered now. @return it, or NULL. */
static struct sc_rereq_sent *
match_sent(struct sc_rereq *q, const void *owner, uint32_t from, uint64_t seq)
{
    uint32_t n = q->nsent < SC_REREQ_SENT ? q->nsent : SC_REREQ_SENT;

    for (uint32_t i = q->nsent - n; i != q->nsent; i++) {
        struct sc_rereq_sent *r = &q->sent[i & (SC_REREQ_SENT - 1)];
        if (r->owner == owner && r->first == seq && r->to == from)
            return r;
    }
    return NULL;
}

void
sc_rereq_answer(struct sc_rereq *q, const void *owner, uint32_t data_addr, struct sc_nak *n,
                struct sc_rxw *w, uint32_t from, uint64_t seq, uint16_t count, uint64_t now_ns,
                struct sc_rereq_verdict *v)
{
    struct sc_rereq_sent *r = NULL;
    uint64_t q0;

    memset(v, 0, sizeof(*v));
    if (count != SC_MOLD_COUNT_HEARTBEAT && (r = match_sent(q, owner, from, seq))) {
        r->owner = NULL;
        v->took_ns = now_ns > r->at_ns ? now_ns - r->at_ns : 1;
    }
    if (seq < w->next)
        return; /* everything it could speak of is delivered or given up */
    v->not_held = count == SC_MOLD_COUNT_HEARTBEAT ||
                  !(r || (sc_rxw_in_window(w, seq) && sc_rxw_slot(w, seq)->rq_first));
    if (v->not_held) {
        /* seq is the server's oldest message: what waits on it below seq is
         * gone (the missing messages, ascending, are nak.c's list) */
        for (uint32_t i = n->head; i != n->tail; i++) {
            uint64_t m = n->list[i & n->mask];
            struct sc_rxw_slot *sl;
            if (m >= seq)
                break;
            if (!sc_rxw_in_window(w, m))
                continue;
            sl = sc_rxw_slot(w, m);
            if (!waits_on(q, data_addr, sl, from))
                continue;
            if (q->nsecond && !SC_REREQ_SECOND(sl)) {
                SC_REREQ_SECOND(sl) = 1; /* the second line, from its first try */
                sl->data_retries = sl->rq_tries = 0;
                sl->rq_first = false;
                sl->nak_state = SC_NAK_BACKOFF;
                sl->nak_due_ns = now_ns;
                v->second++;
            } else {
                sl->state = SC_RXW_LOST;
                sl->loss_reason = SC_LOSS_NOT_IN_WINDOW;
                v->gone++;
            }
        }
    }
    if (count == SC_MOLD_COUNT_HEARTBEAT || count == SC_MOLD_COUNT_EOS)
        return;
    /* the rest of the request it answered: the same run of messages waiting
     * on this server, up to the next request's first message */
    q0 = seq + count;
    for (uint64_t m = q0; m < w->end && m - q0 < q->max_count; m++) {
        struct sc_rxw_slot *sl = sc_rxw_slot(w, m);
        if (sl->rq_first)
            break; /* another request's */
        if (sl->state == SC_RXW_HAVE)
            continue;
        if (!waits_on(q, data_addr, sl, from))
            break;
        sl->nak_state = SC_NAK_BACKOFF;
        sl->nak_due_ns = now_ns;
        v->again++;
    }
}
