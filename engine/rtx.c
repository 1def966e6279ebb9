#include "engine/rtx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/compiler.h"

#define FIFO_POS 0x80000000u /* slot->rtx_pos: a delay FIFO index, else a heap index */

int
sc_rtx_init(struct sc_rtx *r, uint32_t queue_len, uint64_t delay_ns, uint64_t holdoff_ns,
            uint64_t rate_bps, uint64_t min_depth_bits, uint32_t budget)
{
    uint64_t cap = (uint64_t)queue_len + (uint64_t)SC_RTX_SHARE * (SC_RTX_RECEIVERS + 1);
    uint64_t ring = sc_pow2_roundup(cap);

    memset(r, 0, sizeof(*r));
    if (ring >= FIFO_POS)
        return -EINVAL;
    r->fifo = calloc(ring, sizeof(*r->fifo));
    r->heap = calloc(cap, sizeof(*r->heap));
    if (!r->fifo || !r->heap) {
        sc_rtx_fini(r);
        return -ENOMEM;
    }
    r->congested = queue_len;
    r->cap = (uint32_t)cap;
    r->mask = (uint32_t)(ring - 1);
    r->delay_ns = delay_ns;
    r->holdoff_ns = holdoff_ns;
    /* bucket depth: 10 ms of rate, and at least a few packets' worth */
    sc_tbucket_init(&r->rate, rate_bps, rate_bps / 100,
                    min_depth_bits > 12000 * 8 ? min_depth_bits : 12000 * 8);
    sc_rtx_budget_init(&r->budgets, budget);
    return 0;
}

void
sc_rtx_fini(struct sc_rtx *r)
{
    free(r->fifo);
    free(r->heap);
    r->fifo = r->heap = NULL;
}

/* ------------------------------------------------------------ budget */

/* murmur3's finalizer: every bit of the address moves every bit of the hash,
 * so addresses that differ only in their last octets (one subnet) spread over
 * the whole table. The table index is the top bits. */
static inline uint32_t
mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x85ebca6bu;
    x ^= x >> 13;
    x *= 0xc2b2ae35u;
    x ^= x >> 16;
    return x;
}

static inline bool
stale(const struct sc_rtx_receiver *x, uint64_t now_ns)
{
    return now_ns - x->window_start_ns >= SC_NS_PER_S; /* also a clock that went back */
}

/* The address's slot: its own, else the first never-used or stale one on its
 * probe path (claimed for it), else NULL. A never-used slot ends the search:
 * an address is stored at the first free slot of its path, and slots are never
 * emptied again (only left stale), so it cannot lie beyond one. */
static struct sc_rtx_receiver *
lookup(struct sc_rtx_budget *b, uint32_t addr, uint64_t now_ns)
{
    uint32_t h = mix32(addr) >> (32 - SC_RTX_RECEIVERS_BITS);
    struct sc_rtx_receiver *reuse = NULL;

    for (unsigned i = 0; i < SC_RTX_PROBES; i++) {
        struct sc_rtx_receiver *x = &b->recv[(h + i) & (SC_RTX_RECEIVERS - 1)];
        if (!x->window_start_ns) {
            if (!reuse)
                reuse = x;
            break;
        }
        if (x->addr == addr)
            return x;
        if (!reuse && stale(x, now_ns))
            reuse = x;
    }
    if (reuse) {
        reuse->addr = addr;
        reuse->used = 0;
        reuse->window_start_ns = 0; /* stale: the charge starts its second */
        reuse->last_tag = 0;
    }
    return reuse;
}

void
sc_rtx_budget_init(struct sc_rtx_budget *b, uint32_t budget)
{
    memset(b, 0, sizeof(*b));
    b->budget = budget;
}

uint32_t
sc_rtx_budget_charge(struct sc_rtx_budget *b, uint32_t addr, uint32_t n, uint64_t now_ns,
                     struct sc_rtx_receiver **rq)
{
    struct sc_rtx_receiver *x = lookup(b, addr, now_ns);
    uint32_t left;

    if (!x) { /* the table is crowded by addresses active this second */
        x = &b->shared;
        b->budget_shared++;
    }
    if (!x->window_start_ns || stale(x, now_ns)) {
        x->used = 0;
        x->window_start_ns = now_ns ? now_ns : 1;
    }
    left = x->used < b->budget ? b->budget - x->used : 0;
    if (n > left)
        n = left;
    x->used += n;
    *rq = x;
    return n;
}

/* ------------------------------------------------------------ queue */

/* Entries refer to packets by sequence; a packet that leaves the window while
 * queued leaves its entry behind (its slot's rtx_pending cleared), skipped
 * when it comes out. slot->rtx_pos follows the live entry of a pending packet. */

static void
heap_put(struct sc_rtx *r, struct sc_txw *w, uint32_t i, const struct sc_rtx_entry *e)
{
    struct sc_txw_slot *s = sc_txw_get(w, e->seq);

    r->heap[i] = *e;
    if (s && s->rtx_pending)
        s->rtx_pos = i;
}

static void
sift_up(struct sc_rtx *r, struct sc_txw *w, uint32_t i)
{
    struct sc_rtx_entry e = r->heap[i];

    while (i > 0) {
        uint32_t up = (i - 1) / 2;
        if (r->heap[up].tag <= e.tag)
            break;
        heap_put(r, w, i, &r->heap[up]);
        i = up;
    }
    heap_put(r, w, i, &e);
}

static void
sift_down(struct sc_rtx *r, struct sc_txw *w, uint32_t i)
{
    struct sc_rtx_entry e = r->heap[i];

    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= r->nheap)
            break;
        if (c + 1 < r->nheap && r->heap[c + 1].tag < r->heap[c].tag)
            c++;
        if (e.tag <= r->heap[c].tag)
            break;
        heap_put(r, w, i, &r->heap[c]);
        i = c;
    }
    heap_put(r, w, i, &e);
}

static void
heap_push(struct sc_rtx *r, struct sc_txw *w, const struct sc_rtx_entry *e)
{
    r->heap[r->nheap] = *e;
    sift_up(r, w, r->nheap++);
}

static struct sc_rtx_receiver *
requester(struct sc_rtx *r, uint32_t rq)
{
    return sc_rtx_budget_entry(&r->budgets, rq);
}

static uint32_t
requester_index(const struct sc_rtx *r, const struct sc_rtx_receiver *rq)
{
    return sc_rtx_budget_index(&r->budgets, rq);
}

static void
heap_pop(struct sc_rtx *r, struct sc_txw *w)
{
    requester(r, r->heap[0].rq)->queued--;
    if (--r->nheap) {
        r->heap[0] = r->heap[r->nheap];
        sift_down(r, w, 0);
    }
}

/* The requester's tag for one more repair, taken. */
static uint64_t
take_tag(struct sc_rtx *r, struct sc_rtx_receiver *rq)
{
    uint64_t t = (rq->last_tag > r->vtime ? rq->last_tag : r->vtime) + 1;

    rq->last_tag = t;
    return t;
}

/* A NAK for a packet already queued: if this requester's turn comes before
 * the entry's, the entry moves up to it (the receiver with one loss is not
 * left behind a flood's queue because the flood asked first). */
static void
move_up(struct sc_rtx *r, struct sc_txw *w, struct sc_txw_slot *s, struct sc_rtx_receiver *rq)
{
    uint64_t t = (rq->last_tag > r->vtime ? rq->last_tag : r->vtime) + 1;
    struct sc_rtx_entry *e = s->rtx_pos & FIFO_POS ? &r->fifo[s->rtx_pos & r->mask]
                                                   : &r->heap[s->rtx_pos];

    if (t >= e->tag)
        return;
    e->tag = t;
    rq->last_tag = t;
    requester(r, e->rq)->queued--; /* its turn now: counted as its */
    e->rq = requester_index(r, rq);
    rq->queued++;
    if (!(s->rtx_pos & FIFO_POS))
        sift_up(r, w, s->rtx_pos);
}

enum sc_rtx_res
sc_rtx_request(struct sc_rtx *r, struct sc_txw *w, uint64_t seq, uint32_t from_addr,
               uint64_t now_ns)
{
    struct sc_txw_slot *s = sc_txw_get(w, seq);
    struct sc_rtx_receiver *rq;
    struct sc_rtx_entry e;
    bool ok;

    if (!s || seq >= w->next_tx)
        return SC_RTX_OUT_OF_WINDOW;
    ok = sc_rtx_budget_charge(&r->budgets, from_addr, 1, now_ns, &rq) == 1;
    if (!ok) /* held-off NAKs count too: each costs an NCF */
        return SC_RTX_OVER_BUDGET;
    if (s->rtx_sent_ns && now_ns - s->rtx_sent_ns < r->holdoff_ns)
        return SC_RTX_HELD_OFF; /* the repair is on its way to this receiver too */
    if (s->rtx_pending) {
        move_up(r, w, s, rq);
        return SC_RTX_COALESCED;
    }
    if (sc_rtx_queued(r) >= r->congested && rq->queued >= SC_RTX_SHARE)
        return SC_RTX_OVERFLOW; /* congested, and this requester has its share queued */
    s->rtx_pending = true;
    rq->queued++;
    e = (struct sc_rtx_entry){ .seq = seq, .tag = take_tag(r, rq), .due_ns = now_ns + r->delay_ns,
                               .rq = requester_index(r, rq) };
    if (!r->delay_ns && r->head == r->tail) {
        heap_push(r, w, &e); /* due at once: straight to the fair queue */
    } else {
        s->rtx_pos = FIFO_POS | (r->tail & r->mask);
        r->fifo[r->tail++ & r->mask] = e;
    }
    return SC_RTX_QUEUED;
}

bool
sc_rtx_confirm(const struct sc_rtx *r, struct sc_txw *w, uint64_t seq, uint64_t now_ns)
{
    struct sc_txw_slot *s = sc_txw_get(w, seq);

    if (!s)
        return false;
    if (s->ncf_sent_ns && now_ns - s->ncf_sent_ns < r->holdoff_ns / 2)
        return false;
    s->ncf_sent_ns = now_ns ? now_ns : 1;
    return true;
}

/* A queued entry is live while its packet is held and still pending. */
static struct sc_txw_slot *
live(struct sc_txw *w, uint64_t seq)
{
    struct sc_txw_slot *s = sc_txw_get(w, seq);

    return s && s->rtx_pending ? s : NULL;
}

int
sc_rtx_poll(struct sc_rtx *r, struct sc_txw *w, uint64_t now_ns, sc_rtx_send_fn *send, void *ctx)
{
    int sent = 0;

    sc_tbucket_refill(&r->rate, now_ns);
    while (r->head != r->tail && r->fifo[r->head & r->mask].due_ns <= now_ns) {
        struct sc_rtx_entry e = r->fifo[r->head++ & r->mask];
        if (live(w, e.seq))
            heap_push(r, w, &e);
        else
            requester(r, e.rq)->queued--;
    }
    r->wait_bits = 0;
    while (r->nheap) {
        struct sc_rtx_entry e = r->heap[0];
        struct sc_txw_slot *s = live(w, e.seq);
        uint64_t bits;

        if (!s) { /* left the window while queued */
            heap_pop(r, w);
            continue;
        }
        bits = sc_wire_bits(s->len);
        if (r->rate.rate && r->rate.tokens < bits) {
            r->rate_limited++;
            r->wait_bits = bits;
            break;
        }
        if (!send(ctx, e.seq, s))
            break;
        sc_tbucket_take(&r->rate, bits);
        heap_pop(r, w);
        r->vtime = e.tag;
        s->rtx_pending = false;
        s->rtx_sent_ns = now_ns ? now_ns : 1;
        sent++;
    }
    return sent;
}

uint64_t
sc_rtx_deadline(const struct sc_rtx *r)
{
    uint64_t d = r->head == r->tail ? UINT64_MAX : r->fifo[r->head & r->mask].due_ns;

    if (r->nheap) {
        uint64_t t = r->wait_bits ? sc_tbucket_when(&r->rate, r->wait_bits) : 0;
        if (t < d)
            d = t;
    }
    return d;
}
