#include "engine/rereq_srv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/compiler.h"
#include <arpa/inet.h>

#include <seqcast/proto/endian.h>

int
sc_rereq_srv_init(struct sc_rereq_srv *s, const struct sc_channel_cfg *ch,
                  const uint8_t session[SC_MOLD_SESSION_LEN], uint32_t pkt_max,
                  struct sc_pub_stats *st)
{
    uint64_t cap = SC_REREQ_QUEUE + (uint64_t)SC_REREQ_SHARE * (SC_RTX_RECEIVERS + 1);
    uint64_t min_depth = sc_wire_bits(pkt_max) > 12000 * 8 ? sc_wire_bits(pkt_max) : 12000 * 8;

    memset(s, 0, sizeof(*s));
    s->q = calloc(cap, sizeof(*s->q));
    s->bufs = malloc((size_t)SC_REREQ_BUFS * pkt_max);
    if (!s->q || !s->bufs) {
        sc_rereq_srv_fini(s);
        return -ENOMEM;
    }
    memcpy(s->session, session, SC_MOLD_SESSION_LEN);
    s->ch = ch;
    s->request_max = ch->mold.request_max;
    s->pkt_max = pkt_max;
    s->response_bytes = ch->mold.response_bytes && ch->mold.response_bytes < pkt_max - SC_MOLD_HDR_LEN
                            ? ch->mold.response_bytes
                            : pkt_max - SC_MOLD_HDR_LEN;
    s->cap = (uint32_t)cap;
    s->congested = SC_REREQ_QUEUE;
    sc_rtx_budget_init(&s->budgets, ch->rtx.budget);
    /* as rtx.c's: 10 ms of rate, and always room for the largest packet */
    sc_tbucket_init(&s->rate, ch->rtx.rate_bps, ch->rtx.rate_bps / 100, min_depth);
    s->st = st;
    return 0;
}

void
sc_rereq_srv_fini(struct sc_rereq_srv *s)
{
    free(s->q);
    free(s->bufs);
    s->q = NULL;
    s->bufs = NULL;
}

/* ------------------------------------------------------------ the window */

static void
txw_range(void *ctx, uint64_t *lo, uint64_t *end)
{
    const struct sc_rereq_txw *t = ctx;
    const struct sc_txw *w = t->w;

    *end = *t->sent_end;
    *lo = w->trail < w->next_tx ? w->slot[w->trail & w->mask].msg_first : *end;
}

/* Walk the sent messages from first (held: lo <= first < sent_end) */
static uint32_t
txw_walk(void *ctx, uint64_t first, uint32_t max, uint32_t max_bytes, struct sc_mold_enc *e)
{
    struct sc_txw *w = ((struct sc_rereq_txw *)ctx)->w;
    uint64_t ps = sc_txw_find_msg(w, first);
    uint32_t n = 0, bytes = 0;

    for (; ps < w->next_tx && n < max; ps++) {
        const struct sc_txw_slot *t = sc_txw_get(w, ps);
        const uint8_t *b = t->buf + SC_MOLD_HDR_LEN;
        uint64_t m = t->msg_first;

        for (uint16_t i = 0; i < t->msgs && n < max; i++, m++) {
            uint16_t len = sc_load_be16(b);
            if (m >= first) {
                if (n && bytes + sc_mold_msg_size(len) > max_bytes)
                    return n;
                if (e)
                    sc_mold_enc_add(e, b + 2, len);
                bytes += (uint32_t)sc_mold_msg_size(len);
                n++;
            }
            b += sc_mold_msg_size(len);
        }
    }
    return n;
}

void
sc_rereq_txw_source(struct sc_rereq_source *src, struct sc_rereq_txw *t)
{
    src->ctx = t;
    src->range = txw_range;
    src->walk = txw_walk;
}

/* ------------------------------------------------------------ the queue */

static bool
before(const struct sc_rereq_entry *a, const struct sc_rereq_entry *b)
{
    return a->tag < b->tag || (a->tag == b->tag && a->order < b->order);
}

static void
heap_push(struct sc_rereq_srv *s, const struct sc_rereq_entry *e)
{
    uint32_t i = s->n++;

    while (i > 0 && before(e, &s->q[(i - 1) / 2])) {
        s->q[i] = s->q[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    s->q[i] = *e;
}

static void
heap_pop(struct sc_rereq_srv *s)
{
    struct sc_rereq_entry e = s->q[--s->n];
    uint32_t i = 0;

    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= s->n)
            break;
        if (c + 1 < s->n && before(&s->q[c + 1], &s->q[c]))
            c++;
        if (!before(&s->q[c], &e))
            break;
        s->q[i] = s->q[c];
        i = c;
    }
    if (s->n)
        s->q[i] = e;
}

/* ------------------------------------------------------------ requests */

static bool
allowed(const struct sc_channel_cfg *ch, uint32_t addr)
{
    if (!ch->mold.nrequest_allow)
        return true;
    for (uint32_t i = 0; i < ch->mold.nrequest_allow; i++) {
        const struct sc_cidr *c = &ch->mold.request_allow[i];
        uint32_t mask = c->prefix ? htonl(~0u << (32 - c->prefix)) : 0;
        if ((addr & mask) == c->addr.s_addr)
            return true;
    }
    return false;
}

void
sc_rereq_srv_request(struct sc_rereq_srv *s, const struct sc_rereq_source *src,
                     const struct sc_pkt *pk, uint64_t now_ns)
{
    struct sc_pub_stats *st = s->st;
    struct sc_rtx_receiver *rq;
    struct sc_mold_hdr h;
    uint64_t lo, end, first, sent_end;
    uint32_t want, granted;
    int rc = sc_mold_decode_request(pk->data, pk->len, &h);

    if (rc == SC_PERR_SHORT || rc == SC_PERR_LENGTH) {
        st->rx_bad[-rc]++;
        return;
    }
    st->mold_requests++;
    if (!allowed(s->ch, pk->addr)) {
        st->mold_req_denied++;
        return;
    }
    if (memcmp(h.session, s->session, SC_MOLD_SESSION_LEN)) {
        st->mold_req_wrong_session++;
        return;
    }
    if (h.seq == 0) {
        st->mold_req_seq_zero++;
        return;
    }
    if (h.count == 0) { /* (sc_mold_decode_request's SC_PERR_FIELD, as 0xFFFF) */
        st->mold_req_count_zero++;
        return;
    }
    if (h.count > s->request_max) {
        st->mold_req_over_max++;
        return;
    }
    src->range(src->ctx, &lo, &sent_end);
    if (h.seq >= sent_end) {
        st->mold_req_not_sent++;
        return;
    }
    end = h.seq + h.count < sent_end ? h.seq + h.count : sent_end; /* no wrap: seq < sent_end */
    first = h.seq < lo ? lo : h.seq;
    want = end <= lo ? 1
                     : src->walk(src->ctx, first, (uint32_t)(end - first), s->response_bytes, NULL);
    if (!want) { /* an archive's gap (a window holds all of [lo, sent_end)) */
        st->mold_req_not_held++;
        return;
    }
    granted = sc_rtx_budget_charge(&s->budgets, pk->addr, want, now_ns, &rq);
    if (!granted) {
        st->mold_req_over_budget++;
        return;
    }
    if (sc_rereq_srv_queued(s) >= s->cap ||
        (sc_rereq_srv_queued(s) >= s->congested && rq->queued >= SC_REREQ_SHARE)) {
        rq->used -= granted; /* not sent: not spent */
        st->mold_req_dropped++;
        return;
    }
    if (h.seq < lo)
        st->mold_not_in_window++;
    rq->queued++;
    rq->last_tag = (rq->last_tag > s->vtime ? rq->last_tag : s->vtime) + 1;
    heap_push(s, &(struct sc_rereq_entry){
                     .tag = rq->last_tag, .order = s->arrivals++, .first = first,
                     .count = end <= lo ? 0 : granted, .addr = pk->addr, .port = pk->port,
                     .rq = (uint16_t)sc_rtx_budget_index(&s->budgets, rq) });
}

/* ------------------------------------------------------------ responses */

/* The head entry's packet in buf: the messages still held from e->first on,
 * or a heartbeat at the oldest held when none is. @return its length; *msgs
 * the messages in it. */
static uint16_t
build(struct sc_rereq_srv *s, const struct sc_rereq_source *src, const struct sc_rereq_entry *e,
      uint8_t *buf, uint32_t *msgs)
{
    uint64_t lo, sent_end, first;
    struct sc_mold_hdr h = { .count = SC_MOLD_COUNT_HEARTBEAT };
    struct sc_mold_enc enc;

    src->range(src->ctx, &lo, &sent_end);
    first = e->first > lo ? e->first : lo;
    h.seq = lo;
    *msgs = 0;
    if (e->count && first < e->first + e->count && first < sent_end) {
        /* (the window may have moved on since the request: what is left) */
        sc_mold_enc_init(&enc, buf, s->pkt_max, s->session, first);
        *msgs = src->walk(src->ctx, first, (uint32_t)(e->first + e->count - first),
                          s->response_bytes, &enc);
        if (*msgs)
            return (uint16_t)enc.len;
    }
    memcpy(h.session, s->session, SC_MOLD_SESSION_LEN);
    return (uint16_t)sc_mold_encode_hdr(buf, s->pkt_max, &h);
}

int
sc_rereq_srv_poll(struct sc_rereq_srv *s, const struct sc_rereq_source *src, uint64_t now_ns,
                  sc_rereq_send_fn *send, void *ctx)
{
    int sent = 0;

    sc_tbucket_refill(&s->rate, now_ns);
    s->wait_bits = 0;
    while (s->n) {
        const struct sc_rereq_entry *e = &s->q[0];
        uint8_t *buf = s->bufs + (size_t)(s->next_buf % SC_REREQ_BUFS) * s->pkt_max;
        bool group = s->ch->mold.response == SC_MOLD_RESPONSE_MULTICAST;
        uint32_t msgs;
        uint16_t len = build(s, src, e, buf, &msgs);
        uint64_t bits = sc_wire_bits(len);

        if (!msgs)
            group = false; /* a heartbeat answer is for the requester alone */
        if (s->rate.rate && s->rate.tokens < bits) {
            s->st->mold_rate_limited++;
            s->wait_bits = bits;
            break;
        }
        if (!send(ctx, buf, len, group ? s->ch->group.s_addr : e->addr,
                  group ? s->ch->port : e->port))
            break;
        sc_tbucket_take(&s->rate, bits);
        sc_rtx_budget_entry(&s->budgets, e->rq)->queued--;
        s->vtime = e->tag;
        heap_pop(s);
        s->next_buf++;
        s->st->mold_req_answered++;
        s->st->mold_resp_msgs += msgs;
        s->st->mold_resp_bytes += len;
        sent++;
    }
    return sent;
}

uint64_t
sc_rereq_srv_deadline(const struct sc_rereq_srv *s)
{
    if (!s->n)
        return UINT64_MAX;
    return s->wait_bits ? sc_tbucket_when(&s->rate, s->wait_bits) : 0;
}
