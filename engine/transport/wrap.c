/* The wrapper base: every op a wrapper does not define forwards to the
 * transport it wraps, so none is lost behind it (rx_wait once was, behind the
 * loss and record wrappers: a subscriber on them never slept in its read).
 * One ownership rule for all of them: the wrapper closes the inner transport
 * when it is closed (include/seqcast/xport.h). */
#include <seqcast/xport.h>

static struct sc_xport_wrap *
wrap_of(struct sc_xport *x)
{
    return (struct sc_xport_wrap *)(void *)x; /* the base is the first member */
}

static const struct sc_xport_wrap *
wrap_of_const(const struct sc_xport *x)
{
    return (const struct sc_xport_wrap *)(const void *)x;
}

static uint16_t
fwd_rx_burst(struct sc_xport *x, struct sc_pkt *p, uint16_t n)
{
    struct sc_xport_wrap *w = wrap_of(x);
    uint16_t got = sc_xport_rx(w->inner, p, n);

    x->st = w->inner->st;
    return got;
}

static uint16_t
fwd_tx_burst(struct sc_xport *x, const struct sc_pkt *p, uint16_t n)
{
    struct sc_xport_wrap *w = wrap_of(x);
    uint16_t sent = sc_xport_tx(w->inner, p, n); /* counts its tx_calls */

    x->st = w->inner->st;
    return sent;
}

static uint16_t
fwd_tx_frames(struct sc_xport *x, const struct sc_pkt *f, uint16_t n)
{
    struct sc_xport_wrap *w = wrap_of(x);
    uint16_t sent = w->inner->ops->tx_frames(w->inner, f, n);

    x->st = w->inner->st;
    return sent;
}

static uint16_t
fwd_rx_lend(struct sc_xport *x, struct sc_pkt *p, uint16_t n)
{
    struct sc_xport_wrap *w = wrap_of(x);
    uint16_t got = sc_xport_rx_lend(w->inner, p, n);

    x->st = w->inner->st;
    return got;
}

static void
fwd_rx_release(struct sc_xport *x)
{
    sc_xport_rx_release(wrap_of(x)->inner);
}

static int
fwd_fd(const struct sc_xport *x)
{
    return sc_xport_fd(wrap_of_const(x)->inner);
}

static bool
fwd_rx_pending(const struct sc_xport *x)
{
    return sc_xport_rx_pending(wrap_of_const(x)->inner);
}

static int
fwd_rx_wait(struct sc_xport *x, uint64_t timeout_ns)
{
    struct sc_xport *in = wrap_of(x)->inner;

    return in->ops->rx_wait(in, timeout_ns);
}

static uint16_t
fwd_tx_errors(struct sc_xport *x, struct sc_xport_txerr *e, uint16_t n)
{
    return sc_xport_tx_errors(wrap_of(x)->inner, e, n);
}

static bool
fwd_tx_busy(struct sc_xport *x, const uint8_t *data)
{
    return sc_xport_tx_busy(wrap_of(x)->inner, data);
}

static void
wrap_close(struct sc_xport *x)
{
    struct sc_xport_wrap *w = wrap_of(x);

    sc_xport_close(w->inner);
    if (w->fini)
        w->fini(x); /* may free w */
}

void
sc_xport_wrap_init(struct sc_xport_wrap *w, const struct sc_xport_ops *ops, struct sc_xport *inner)
{
    const struct sc_xport_ops *in = inner->ops;

    w->inner = inner;
    w->ops = *ops;
    w->fini = ops->close;
    w->ops.close = wrap_close;
    if (!w->ops.rx_burst && !w->ops.rx_lend && in->rx_lend) {
        w->ops.rx_lend = fwd_rx_lend;
        w->ops.rx_release = fwd_rx_release;
    }
    if (!w->ops.rx_burst)
        w->ops.rx_burst = fwd_rx_burst;
    if (!w->ops.tx_burst)
        w->ops.tx_burst = fwd_tx_burst;
    if (!w->ops.tx_frames && in->tx_frames)
        w->ops.tx_frames = fwd_tx_frames;
    if (!w->ops.fd && in->fd)
        w->ops.fd = fwd_fd;
    if (!w->ops.rx_pending && in->rx_pending)
        w->ops.rx_pending = fwd_rx_pending;
    if (!w->ops.rx_wait && in->rx_wait)
        w->ops.rx_wait = fwd_rx_wait;
    if (!w->ops.tx_errors && in->tx_errors)
        w->ops.tx_errors = fwd_tx_errors;
    if (!w->ops.tx_busy && in->tx_busy)
        w->ops.tx_busy = fwd_tx_busy;
    w->x.ops = &w->ops;
    w->x.local_addr = inner->local_addr;
    w->x.local_port = inner->local_port;
    w->x.burst = inner->burst;
    w->x.st = inner->st;
}
