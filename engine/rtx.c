#include "engine/rtx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/compiler.h"

#define NS_PER_S UINT64_C(1000000000)

int
sc_rtx_init(struct sc_rtx *r, uint32_t queue_len, uint64_t delay_ns, uint64_t holdoff_ns,
            uint64_t rate_bps, uint32_t budget)
{
    uint64_t cap = sc_pow2_roundup(queue_len);

    memset(r, 0, sizeof(*r));
    r->q = calloc(cap, sizeof(*r->q));
    if (!r->q)
        return -ENOMEM;
    r->mask = (uint32_t)(cap - 1);
    r->delay_ns = delay_ns;
    r->holdoff_ns = holdoff_ns;
    r->rate_bps = rate_bps;
    r->budget = budget;
    return 0;
}

void
sc_rtx_fini(struct sc_rtx *r)
{
    free(r->q);
    r->q = NULL;
}

/* Charge one sequence to a receiver's budget for the current second. The
 * table is open-addressed by address; a slot idle for a second is reusable. */
static bool
charge(struct sc_rtx *r, uint32_t addr, uint64_t now_ns)
{
    uint32_t h = (addr * 2654435761u) & (SC_RTX_RECEIVERS - 1);

    for (unsigned i = 0; i < 16; i++) {
        struct sc_rtx_receiver *x = &r->recv[(h + i) & (SC_RTX_RECEIVERS - 1)];
        bool stale = now_ns - x->window_start_ns >= NS_PER_S;
        if (x->addr != addr && x->window_start_ns && !stale)
            continue;
        if (x->addr != addr || stale) {
            x->addr = addr;
            x->used = 0;
            x->window_start_ns = now_ns ? now_ns : 1;
        }
        if (x->used >= r->budget)
            return false;
        x->used++;
        return true;
    }
    return true; /* table crowded around this address: do not punish it */
}

enum sc_rtx_res
sc_rtx_request(struct sc_rtx *r, struct sc_txw *w, uint64_t seq, uint32_t from_addr,
               uint64_t now_ns)
{
    struct sc_txw_slot *s = sc_txw_get(w, seq);

    if (!s || seq >= w->next_tx)
        return SC_RTX_OUT_OF_WINDOW;
    if (!charge(r, from_addr, now_ns)) /* held-off NAKs count too: each costs an NCF */
        return SC_RTX_OVER_BUDGET;
    if (s->rtx_sent_ns && now_ns - s->rtx_sent_ns < r->holdoff_ns)
        return SC_RTX_HELD_OFF; /* the repair is on its way to this receiver too */
    if (s->rtx_pending)
        return SC_RTX_COALESCED;
    if (r->tail - r->head > r->mask)
        return SC_RTX_OVERFLOW;
    s->rtx_pending = true;
    r->q[r->tail++ & r->mask] = (struct sc_rtx_entry){ seq, now_ns + r->delay_ns };
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

static void
refill(struct sc_rtx *r, uint64_t now_ns)
{
    uint64_t cap = r->rate_bps / 100; /* bucket depth: 10 ms of rate */

    if (cap < 12000 * 8)
        cap = 12000 * 8; /* at least a few packets' worth */
    if (r->last_refill_ns == 0 || now_ns < r->last_refill_ns) {
        r->tokens = cap;
    } else {
        uint64_t dt = now_ns - r->last_refill_ns;
        uint64_t add = dt > NS_PER_S ? r->rate_bps : (r->rate_bps * dt) / NS_PER_S;
        r->tokens = r->tokens + add > cap ? cap : r->tokens + add;
    }
    r->last_refill_ns = now_ns;
}

int
sc_rtx_poll(struct sc_rtx *r, struct sc_txw *w, uint64_t now_ns, sc_rtx_send_fn *send, void *ctx)
{
    int sent = 0;

    if (r->rate_bps)
        refill(r, now_ns);
    while (r->head != r->tail) {
        struct sc_rtx_entry *e = &r->q[r->head & r->mask];
        struct sc_txw_slot *s;

        if (e->due_ns > now_ns)
            break;
        s = sc_txw_get(w, e->seq);
        if (!s || !s->rtx_pending) { /* left the window while queued */
            r->head++;
            continue;
        }
        if (r->rate_bps && r->tokens < (uint64_t)s->len * 8) {
            r->rate_limited++;
            break;
        }
        if (!send(ctx, e->seq, s))
            break;
        if (r->rate_bps)
            r->tokens -= (uint64_t)s->len * 8;
        s->rtx_pending = false;
        s->rtx_sent_ns = now_ns ? now_ns : 1;
        r->head++;
        sent++;
    }
    return sent;
}

uint64_t
sc_rtx_deadline(const struct sc_rtx *r)
{
    return r->head == r->tail ? UINT64_MAX : r->q[r->head & r->mask].due_ns;
}
