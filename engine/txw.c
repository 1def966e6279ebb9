#include "engine/txw.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/bigmem.h"
#include "engine/compiler.h"

int
sc_txw_init_room(struct sc_txw *w, uint32_t packets, uint32_t buf_size, uint32_t headroom,
                 uint64_t first_seq)
{
    uint64_t cap = sc_pow2_roundup(packets);
    uint64_t stride;

    headroom = (headroom + 63u) & ~63u;
    stride = headroom ? (headroom + buf_size + 63u) & ~(uint64_t)63 : buf_size;
    memset(w, 0, sizeof(*w));
    w->mask = (uint32_t)(cap - 1);
    w->buf_size = buf_size;
    w->headroom = headroom;
    w->trail = w->next_tx = first_seq;
    w->slot = calloc(cap, sizeof(*w->slot));
    w->mem = sc_mem_big_alloc(cap * stride);
    if (!w->slot || !w->mem) {
        sc_txw_fini(w);
        return -ENOMEM;
    }
    for (uint64_t i = 0; i < cap; i++)
        w->slot[i].buf = w->mem + i * stride + headroom;
    return 0;
}

int
sc_txw_init(struct sc_txw *w, uint32_t packets, uint32_t buf_size, uint64_t first_seq)
{
    return sc_txw_init_room(w, packets, buf_size, 0, first_seq);
}

void
sc_txw_fini(struct sc_txw *w)
{
    free(w->slot);
    free(w->mem); /* sc_mem_big_alloc memory is malloc's */
    w->slot = NULL;
    w->mem = NULL;
}

static void
evict_oldest(struct sc_txw *w)
{
    w->slot[w->trail & w->mask].rtx_pending = false;
    w->trail++;
    w->count--;
    w->evicted++;
}

uint8_t *
sc_txw_reserve(struct sc_txw *w)
{
    uint8_t *b = w->slot[(w->trail + w->count) & w->mask].buf;

    if (w->count == sc_txw_capacity(w) && w->trail == w->next_tx)
        return NULL; /* everything held is still unsent */
    if (unlikely(w->busy) && w->busy(w->busy_ctx, b))
        return NULL; /* the transport still sends it */
    if (w->count == sc_txw_capacity(w))
        evict_oldest(w);
    return b;
}

bool
sc_txw_none_busy(struct sc_txw *w, uint32_t n)
{
    if (likely(!w->busy))
        return true;
    for (uint32_t i = 0; i < n; i++)
        if (w->busy(w->busy_ctx, w->slot[(w->trail + w->count + i) & w->mask].buf))
            return false;
    return true;
}

void
sc_txw_commit(struct sc_txw *w, uint16_t len, uint64_t msg_first, uint16_t msgs, uint64_t now_ns)
{
    struct sc_txw_slot *s = &w->slot[(w->trail + w->count) & w->mask];

    s->len = len;
    s->msg_first = msg_first;
    s->msgs = msgs;
    s->rtx_pending = false;
    s->stored_ns = now_ns;
    s->rtx_sent_ns = 0;
    s->ncf_sent_ns = 0;
    w->count++;
    /* the next packet's buffer was last written a whole window ago (tens of
     * MB): fetch its header and first bytes now, while the application is
     * between messages, instead of missing the cache on the send path */
    {
        const uint8_t *next = w->slot[(w->trail + w->count) & w->mask].buf;
        __builtin_prefetch(next, 1);
        __builtin_prefetch(next + 64, 1);
        if (w->headroom) { /* and what a zero-copy transport writes there: frame, refcount */
            __builtin_prefetch(next - 64, 1);
            __builtin_prefetch(next - w->headroom, 1);
        }
    }
}

uint64_t
sc_txw_expire(struct sc_txw *w, uint64_t now_ns, uint64_t max_age_ns)
{
    uint64_t n = 0;

    while (w->count && w->trail < w->next_tx &&
           w->slot[w->trail & w->mask].stored_ns + max_age_ns < now_ns) {
        evict_oldest(w);
        n++;
    }
    return n;
}

uint64_t
sc_txw_drop_unsent(struct sc_txw *w)
{
    uint64_t n = w->trail + w->count - w->next_tx;

    w->count -= n;
    return n;
}

uint64_t
sc_txw_find_msg(struct sc_txw *w, uint64_t msg)
{
    uint64_t lo = w->trail, hi = w->next_tx; /* the answer, if any, is in [lo, hi) */

    if (lo >= hi || msg < w->slot[lo & w->mask].msg_first)
        return UINT64_MAX;
    while (hi - lo > 1) { /* invariant: slot(lo).msg_first <= msg */
        uint64_t mid = lo + (hi - lo) / 2;
        if (w->slot[mid & w->mask].msg_first <= msg)
            lo = mid;
        else
            hi = mid;
    }
    {
        const struct sc_txw_slot *s = &w->slot[lo & w->mask];
        return msg - s->msg_first < s->msgs ? lo : UINT64_MAX;
    }
}
