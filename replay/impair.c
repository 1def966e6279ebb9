/* A seeded impairment wrapper around any transport: random loss, burst loss,
 * reordering and duplication, applied to what the endpoint receives (each
 * subscriber sees its own losses, as on a real multicast tree) or to what it
 * sends (every receiver loses the same packets, as with loss on the sender's
 * link). Deterministic for a given seed and call sequence.
 *
 * Survivors go through a FIFO, so a burst never returns more than the caller
 * asked for, and nothing read from the inner transport is lost by accident. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <seqcast/xport.h>

#include "engine/compiler.h"

#define HOLD_MAX 32
#define PKT_BUF 2048
#define FIFO_LEN 256 /* > 2 * SC_BURST + HOLD_MAX: one inner burst always fits */

struct held {
    struct sc_pkt p;
    uint32_t release_after; /* packets still to pass before this one */
    uint8_t data[PKT_BUF];
};

struct loss {
    struct sc_xport_wrap w; /* first: the base (wrapper) */
    struct sc_loss_params p;
    struct sc_loss_stats st;
    uint64_t rng;
    uint32_t burst_left;
    uint64_t truncated; /* longer than the caller's buffer (added to the inner's count) */
    unsigned nheld;
    uint32_t head, tail;
    struct held held[HOLD_MAX];
    struct held fifo[FIFO_LEN];
    uint8_t scratch[SC_BURST][PKT_BUF];
};

static struct loss *
loss_of(struct sc_xport *x)
{
    return (struct loss *)(void *)x;
}

static const struct loss *
loss_of_const(const struct sc_xport *x)
{
    return (const struct loss *)(const void *)x;
}

static bool
chance(struct loss *l, uint32_t ppm)
{
    return ppm && sc_rand(&l->rng) % 1000000u < ppm;
}

static bool
drop_it(struct loss *l)
{
    uint64_t idx = l->st.seen++;

    if (l->p.cut_count && idx >= l->p.cut_from && idx - l->p.cut_from < l->p.cut_count) {
        l->st.cut++;
        return true;
    }
    if (l->burst_left) {
        l->burst_left--;
        l->st.burst_dropped++;
        return true;
    }
    if (l->p.burst_len && chance(l, l->p.burst_ppm)) {
        l->burst_left = l->p.burst_len - 1;
        l->st.burst_dropped++;
        return true;
    }
    if (chance(l, l->p.drop_ppm)) {
        l->st.dropped++;
        return true;
    }
    return false;
}

static void
copy_into(struct held *h, const struct sc_pkt *p)
{
    h->p = *p;
    h->p.data = h->data;
    h->p.flags = 0; /* a copy: not the window's buffer */
    memcpy(h->data, p->data, p->len);
}

static void
push(struct loss *l, const struct sc_pkt *p)
{
    copy_into(&l->fifo[l->tail++ % FIFO_LEN], p);
}

static unsigned
fifo_count(const struct loss *l)
{
    return l->tail - l->head;
}

/* Held packet k into the FIFO; the last held takes its place -- with its data
 * pointer re-aimed at the slot it now occupies (the slot it left is reused by
 * the next packet held). */
static void
release(struct loss *l, unsigned k)
{
    push(l, &l->held[k].p);
    if (k != --l->nheld) {
        l->held[k] = l->held[l->nheld];
        l->held[k].p.data = l->held[k].data;
    }
}

/* Run packets through the impairments into the FIFO. */
static void
impair(struct loss *l, const struct sc_pkt *in, uint16_t n)
{
    for (uint16_t i = 0; i < n; i++) {
        if (in[i].len > PKT_BUF) {
            l->st.oversize++; /* cannot be held for reordering: dropped, and counted */
            continue;
        }
        if (drop_it(l))
            continue;
        if (l->nheld < HOLD_MAX && chance(l, l->p.reorder_ppm)) {
            struct held *h = &l->held[l->nheld++];
            copy_into(h, &in[i]);
            h->release_after =
                1 + (uint32_t)(sc_rand(&l->rng) % (l->p.reorder_depth ? l->p.reorder_depth : 3));
            l->st.reordered++;
            continue;
        }
        push(l, &in[i]);
        if (chance(l, l->p.dup_ppm)) {
            push(l, &in[i]);
            l->st.duplicated++;
        }
        for (unsigned k = 0; k < l->nheld;) {
            if (--l->held[k].release_after == 0)
                release(l, k);
            else
                k++;
        }
    }
}

static void
release_one_held(struct loss *l)
{
    release(l, 0);
}

static uint16_t
loss_rx(struct sc_xport *x, struct sc_pkt *pkts, uint16_t n)
{
    struct loss *l = loss_of(x);
    uint16_t o = 0;

    if (l->p.on_tx)
        return sc_xport_rx(l->w.inner, pkts, n);
    if (fifo_count(l) < n && FIFO_LEN - fifo_count(l) >= 2 * SC_BURST + HOLD_MAX) {
        struct sc_pkt raw[SC_BURST];
        uint16_t got;
        for (uint16_t i = 0; i < SC_BURST; i++) {
            raw[i].data = l->scratch[i];
            raw[i].cap = PKT_BUF;
        }
        got = sc_xport_rx(l->w.inner, raw, SC_BURST);
        impair(l, raw, got);
        if (got == 0 && fifo_count(l) == 0 && l->nheld)
            release_one_held(l); /* idle: held packets must not wait forever */
    }
    while (o < n && fifo_count(l)) {
        struct held *h = &l->fifo[l->head++ % FIFO_LEN];
        if (h->p.len > pkts[o].cap) {
            l->truncated++;
            continue;
        }
        memcpy(pkts[o].data, h->data, h->p.len);
        pkts[o].len = h->p.len;
        pkts[o].addr = h->p.addr;
        pkts[o].port = h->p.port;
        pkts[o].lport = h->p.lport;
        o++;
    }
    x->st = l->w.inner->st;
    x->st.rx_truncated += l->truncated;
    return o;
}

static uint16_t
loss_tx(struct sc_xport *x, const struct sc_pkt *pkts, uint16_t n)
{
    struct loss *l = loss_of(x);

    if (!l->p.on_tx)
        return sc_xport_tx(l->w.inner, pkts, n);
    if (n > SC_BURST)
        n = SC_BURST;
    impair(l, pkts, n);
    if (n == 0 && l->nheld && fifo_count(l) == 0)
        release_one_held(l); /* a call with nothing to send: held packets must not wait forever */
    while (fifo_count(l)) {
        struct held *h = &l->fifo[l->head % FIFO_LEN];
        if (sc_xport_tx(l->w.inner, &h->p, 1) != 1)
            break; /* inner back-pressure: keep it for the next call */
        l->head++;
    }
    x->st = l->w.inner->st;
    return n; /* what was "lost" counts as sent: the sender cannot tell */
}

/* packets wait in the FIFO: the next rx_burst has work without the kernel */
static bool
loss_pending(const struct sc_xport *x)
{
    const struct loss *l = loss_of_const(x);

    return fifo_count(l) > 0 || sc_xport_rx_pending(l->w.inner);
}

static int
loss_wait(struct sc_xport *x, uint64_t timeout_ns)
{
    struct loss *l = loss_of(x);

    if (fifo_count(l))
        return 1;
    return l->w.inner->ops->rx_wait ? l->w.inner->ops->rx_wait(l->w.inner, timeout_ns) : -1;
}

static void
loss_close(struct sc_xport *x)
{
    free(loss_of(x)); /* the base closed the inner transport */
}

/* fd, tx_frames and tx_errors forward to the inner transport (the base) */
static const struct sc_xport_ops loss_ops = {
    .name = "loss", .rx_burst = loss_rx, .tx_burst = loss_tx, .rx_pending = loss_pending,
    .rx_wait = loss_wait, .close = loss_close,
};

int
sc_xport_loss_wrap(struct sc_xport **out, struct sc_xport *inner, const struct sc_loss_params *p)
{
    struct loss *l = calloc(1, sizeof(*l));

    if (!l) {
        sc_xport_close(inner); /* owned from the call on */
        return -ENOMEM;
    }
    sc_xport_wrap_init(&l->w, &loss_ops, inner);
    l->w.x.burst = 0; /* its fifo and scratch take SC_BURST a call, whatever inner takes */
    l->p = *p;
    l->rng = p->seed ? p->seed : 1;
    *out = &l->w.x;
    return 0;
}

const struct sc_loss_stats *
sc_xport_loss_stats(const struct sc_xport *x)
{
    return &loss_of_const(x)->st;
}
