/* The in-process network: deterministic, single-threaded, zero latency.
 * Sending copies each packet into the receiving endpoints' queues at once;
 * what arrives is decided only by the calls made, so a simulation with a fixed
 * seed replays exactly. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/compiler.h"
#include "engine/transport/transport.h"

#define MEM_PKT_MAX 2048
#define MEM_SUB_PORT 40000 /* the port a subscriber endpoint sends from */

struct mem_slot {
    uint16_t len, lport, port;
    uint32_t addr;
    uint8_t data[MEM_PKT_MAX];
};

struct mem_ep {
    struct sc_xport x;
    struct sc_memnet *net;
    struct sc_xport_params p;
    bool open;
    uint32_t head, tail; /* ring of queued packets */
    struct mem_slot *q;
};

struct sc_memnet {
    unsigned max, n, qlen;
    uint64_t queued;
    struct mem_ep *ep;
};

static struct mem_ep *
ep_of(struct sc_xport *x)
{
    return sc_container_of(x, struct mem_ep, x);
}

struct sc_memnet *
sc_memnet_create(unsigned max_endpoints, unsigned queue_len)
{
    struct sc_memnet *net = calloc(1, sizeof(*net));

    if (!net)
        return NULL;
    net->max = max_endpoints;
    net->qlen = (unsigned)sc_pow2_roundup(queue_len);
    net->ep = calloc(max_endpoints, sizeof(*net->ep));
    if (!net->ep) {
        free(net);
        return NULL;
    }
    return net;
}

void
sc_memnet_destroy(struct sc_memnet *net)
{
    if (!net)
        return;
    for (unsigned i = 0; i < net->n; i++)
        free(net->ep[i].q);
    free(net->ep);
    free(net);
}

uint64_t
sc_memnet_queued(const struct sc_memnet *net)
{
    return net->queued;
}

static void
enqueue(struct sc_memnet *net, struct mem_ep *e, uint32_t from, uint16_t from_port,
        uint16_t lport, const uint8_t *data, uint16_t len)
{
    struct mem_slot *s;

    if (len > MEM_PKT_MAX || e->tail - e->head == net->qlen) {
        e->x.st.tx_dropped++; /* the receiver's "socket buffer" overflowed */
        return;
    }
    s = &e->q[e->tail++ & (net->qlen - 1)];
    s->len = len;
    s->lport = lport;
    s->port = from_port;
    s->addr = from;
    memcpy(s->data, data, len);
    net->queued++;
}

static bool
is_mcast(uint32_t a)
{
    return (((const uint8_t *)&a)[0] & 0xF0) == 0xE0;
}

static void
deliver(struct sc_memnet *net, const struct mem_ep *from_ep, uint32_t from, uint16_t from_port,
        uint32_t to, uint16_t to_port, const uint8_t *data, uint16_t len)
{
    for (unsigned i = 0; i < net->n; i++) {
        struct mem_ep *e = &net->ep[i];
        if (!e->open || e == from_ep)
            continue;
        if (is_mcast(to)) {
            if (e->p.role == SC_XPORT_SUB && e->p.port == to_port &&
                (e->p.group == to || (e->p.group_b && e->p.group_b == to)))
                enqueue(net, e, from, from_port, to_port, data, len);
        } else if (e->x.local_addr == to &&
                   (e->p.role == SC_XPORT_PUB ? e->p.nak_port == to_port || e->p.port == to_port
                                              : e->p.sub_unicast && to_port == MEM_SUB_PORT)) {
            enqueue(net, e, from, from_port, to_port, data, len);
            return;
        }
    }
}

void
sc_memnet_inject(struct sc_memnet *net, uint32_t from_addr, uint16_t from_port, uint32_t to,
                 uint16_t to_port, const void *data, uint16_t len)
{
    deliver(net, NULL, from_addr, from_port, to, to_port, data, len);
}

static uint16_t
mem_rx(struct sc_xport *x, struct sc_pkt *pkts, uint16_t n)
{
    struct mem_ep *e = ep_of(x);
    uint16_t i = 0;

    while (i < n && e->head != e->tail) {
        struct mem_slot *s = &e->q[e->head++ & (e->net->qlen - 1)];
        struct sc_pkt *p = &pkts[i];
        e->net->queued--;
        if (s->len > p->cap) {
            x->st.rx_truncated++;
            continue;
        }
        memcpy(p->data, s->data, s->len);
        p->len = s->len;
        p->addr = s->addr;
        p->port = s->port;
        p->lport = s->lport;
        x->st.rx_pkts++;
        x->st.rx_bytes += s->len;
        i++;
    }
    return i;
}

static uint16_t
mem_tx(struct sc_xport *x, const struct sc_pkt *pkts, uint16_t n)
{
    struct mem_ep *e = ep_of(x);
    /* a subscriber sends from an ephemeral port, a publisher from its NAK port */
    uint16_t from_port = x->local_port;

    for (uint16_t i = 0; i < n; i++) {
        deliver(e->net, e, x->local_addr, from_port, pkts[i].addr, pkts[i].port, pkts[i].data,
                pkts[i].len);
        x->st.tx_pkts++;
        x->st.tx_bytes += pkts[i].len;
    }
    return n;
}

static int
mem_fd(const struct sc_xport *x)
{
    (void)x;
    return -1;
}

static void
mem_close(struct sc_xport *x)
{
    struct mem_ep *e = ep_of(x);

    e->net->queued -= e->tail - e->head;
    e->head = e->tail = 0;
    e->open = false;
}

static const struct sc_xport_ops mem_ops = {
    .name = "mem", .rx_burst = mem_rx, .tx_burst = mem_tx, .fd = mem_fd, .close = mem_close,
};

int
sc_memnet_open(struct sc_memnet *net, struct sc_xport **out, uint32_t addr,
               const struct sc_xport_params *p)
{
    struct mem_ep *e = NULL;

    /* reuse a closed endpoint of the same address (a restarted process) */
    for (unsigned i = 0; i < net->n; i++)
        if (!net->ep[i].open && net->ep[i].x.local_addr == addr)
            e = &net->ep[i];
    if (!e) {
        if (net->n == net->max)
            return -ENOSPC;
        e = &net->ep[net->n];
        e->q = calloc(net->qlen, sizeof(*e->q));
        if (!e->q)
            return -ENOMEM;
        net->n++;
    }
    e->x.ops = &mem_ops;
    e->x.local_addr = addr;
    e->x.local_port = p->role == SC_XPORT_PUB ? p->nak_port : MEM_SUB_PORT;
    memset(&e->x.st, 0, sizeof(e->x.st));
    e->net = net;
    e->p = *p;
    e->head = e->tail = 0;
    e->open = true;
    *out = &e->x;
    return 0;
}
