/* The capture transports: record (a wrapper writing every packet to pcap)
 * and pcap (a capture read as the network). */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <seqcast/agent.h>
#include <seqcast/pcap.h>
#include <seqcast/proto/netframe.h>

#include "replay/record_int.h"

#define DLT_ETHERNET 1

/* ----------------------------------------------------------------- record */

/* The ring between the traffic (one producer: the thread that sends and
 * receives on the transport) and the writer thread (the one consumer). head
 * and tail count bytes from the start and only grow; the entry at tail is the
 * oldest not written, [tail, head) is full:
 *
 *     0          tail & mask            head & mask               cap
 *     |  free    | ent | ent | ... | ent |  free (or a pad entry)  |
 *
 * An entry is a header, then its frame: the payload copied at
 * SC_UDP4_FRAME_OVERHEAD, the headers in front of it built in place by the
 * writer. An entry never wraps: one that does not fit before cap starts at 0
 * after a pad entry (size 0) -- or, with fewer than a header's bytes left,
 * after an implied one. The producer publishes entries by a release store of
 * head (once per burst), the writer frees them by a release store of tail. */
#define REC_RING_DEFAULT (64u << 20)
#define REC_RING_MIN (256u << 10) /* two of the largest entries and their pads */
#define REC_RING_MAX (1ull << 30)
#define REC_FLUSH_NS 100000000u   /* idle this long with unwritten records: flushed */
#define REC_IDLE_NS 1000000       /* the writer's sleep when the ring is empty */
#define REC_MIN_FRAME 60

struct rec_ent {
    uint64_t ts_ns;
    uint32_t src, dst;     /* network order */
    uint16_t sport, dport;
    uint16_t ip_id, len;   /* len: the UDP payload */
    uint32_t size;         /* the entry's bytes (a multiple of 8); 0: a pad to the ring's end */
    uint32_t nf_flags;     /* sc_udp4_build's flags for its frame */
};

struct rec {
    struct sc_xport_wrap w; /* first: the base (wrapper) */
    struct sc_xport_params xp;
    struct sc_record_params rp;
    struct sc_record_hooks hooks;
    /* the producer's */
    _Alignas(64) uint64_t head, tail_seen;
    uint64_t dropped, waited; /* written here, read by any thread (relaxed) */
    uint16_t ip_id;
    /* the writer's */
    _Alignas(64) uint64_t tail;
    uint64_t packets, bytes, files_opened, write_errors; /* as dropped and waited */
    char *path;
    struct sc_pcapw *pw;
    unsigned seq;          /* number of the file being written (0 = path itself) */
    uint64_t in_file_bytes, in_file_pkts;
    bool dirty;
    uint64_t flushed_ns;
    /* shared */
    _Alignas(64) bool stop;
    bool started;
    pthread_t thread;
    uint8_t *ring;
    uint64_t cap, mask;
};

static struct rec *
rec_of(struct sc_xport *x)
{
    return (struct rec *)(void *)x;
}

static uint64_t
realtime_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t
ld(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* a counter only its one thread writes: readers elsewhere load it relaxed */
static void
bump(uint64_t *p, uint64_t by)
{
    __atomic_store_n(p, *p + by, __ATOMIC_RELAXED);
}

static int
rec_open_file(struct rec *r, struct sc_err *err)
{
    char name[4096];

    if (r->seq == 0)
        snprintf(name, sizeof(name), "%s", r->path);
    else
        snprintf(name, sizeof(name), "%s.%u", r->path, r->seq);
    r->pw = sc_pcapw_open(name, DLT_ETHERNET, err);
    if (!r->pw)
        return err ? err->code : -EIO;
    bump(&r->files_opened, 1);
    r->in_file_bytes = r->in_file_pkts = 0;
    return 0;
}

static void
mac_for(uint32_t ip_be, uint8_t mac[6])
{
    if (sc_ipv4_is_multicast(ip_be)) {
        sc_mcast_mac(ip_be, mac);
        return;
    }
    mac[0] = 0x02; /* locally administered, derived from the address */
    mac[1] = 0x53;
    memcpy(mac + 2, &ip_be, 4);
}

/* The writer thread: one entry to the file. */
static void
rec_write(struct rec *r, struct rec_ent *e)
{
    uint8_t *frame = (uint8_t *)(e + 1);
    struct sc_udp4_meta m = { .src_ip = e->src, .dst_ip = e->dst, .src_port = e->sport,
                              .dst_port = e->dport, .ttl = r->xp.ttl ? r->xp.ttl : 1,
                              .ip_id = e->ip_id };
    size_t room = e->size - sizeof(*e);
    int flen;

    if (!r->pw) { /* a rotation failed to open its file */
        bump(&r->write_errors, 1);
        return;
    }
    mac_for(e->dst, m.dst_mac);
    mac_for(e->src, m.src_mac);
    flen = sc_udp4_build(frame, room, &m, NULL, e->len, e->nf_flags);
    if (flen < 0 || sc_pcapw_write(r->pw, e->ts_ns, frame, (size_t)flen) < 0) {
        bump(&r->write_errors, 1);
        return;
    }
    r->dirty = true;
    bump(&r->packets, 1);
    bump(&r->bytes, (uint64_t)flen);
    r->in_file_pkts++;
    r->in_file_bytes += (uint64_t)flen + 16;
    if ((r->rp.max_bytes && r->in_file_bytes >= r->rp.max_bytes) ||
        (r->rp.max_packets && r->in_file_pkts >= r->rp.max_packets)) {
        if (sc_pcapw_close(r->pw) < 0)
            bump(&r->write_errors, 1);
        r->pw = NULL;
        r->seq = r->rp.files ? (r->seq + 1) % r->rp.files : r->seq + 1;
        if (rec_open_file(r, NULL) < 0)
            bump(&r->write_errors, 1);
    }
}

/* The writer thread: everything published so far. @return entries written. */
static uint64_t
rec_drain(struct rec *r)
{
    uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE), n = 0;

    while (r->tail != head) {
        uint64_t pos = r->tail & r->mask;
        struct rec_ent *e = (struct rec_ent *)(void *)(r->ring + pos);

        if (r->cap - pos < sizeof(*e) || e->size == 0) {
            r->tail += r->cap - pos;
            continue;
        }
        if (r->hooks.before_write)
            r->hooks.before_write(r->hooks.arg);
        rec_write(r, e);
        r->tail += e->size;
        __atomic_store_n(&r->tail, r->tail, __ATOMIC_RELEASE);
        n++;
    }
    __atomic_store_n(&r->tail, r->tail, __ATOMIC_RELEASE);
    return n;
}

static void *
rec_writer(void *arg)
{
    struct rec *r = arg;
    const struct timespec idle = { 0, REC_IDLE_NS };

    for (;;) {
        bool stop = __atomic_load_n(&r->stop, __ATOMIC_ACQUIRE);

        if (rec_drain(r))
            continue;
        if (stop) /* set after the last entry was published: all written */
            break;
        if (r->dirty && r->pw) { /* idle: let readers of the growing file see whole records */
            uint64_t now = sc_clock_now();
            if (now - r->flushed_ns > REC_FLUSH_NS) {
                if (sc_pcapw_flush(r->pw) < 0)
                    bump(&r->write_errors, 1);
                r->dirty = false;
                r->flushed_ns = now;
            }
        }
        nanosleep(&idle, NULL);
    }
    return NULL;
}

/* The producer: room for need bytes at head (after a pad if they do not fit
 * before the ring's end). @return the bytes to skip first, or -1 if full. */
static int64_t
rec_room(struct rec *r, uint64_t need)
{
    uint64_t pos = r->head & r->mask;
    uint64_t skip = r->cap - pos < need ? r->cap - pos : 0;

    if (r->head + skip + need - r->tail_seen > r->cap) {
        r->tail_seen = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
        if (r->head + skip + need - r->tail_seen > r->cap)
            return -1;
    }
    return (int64_t)skip;
}

/* The producer: pkts into the ring, with the addresses their frames will
 * carry (received: from each one's sender; sent: from local:sport), stamped
 * with one clock reading for the burst (the packets of one call cross the
 * transport together). Every packet takes the next IPv4 id, a dropped one
 * too: a gap in the ids of a capture shows where. A sent packet flagged
 * SC_PKT_PGM_CSUM gets its frame's UDP checksum from the headers alone (its
 * payload sums to zero): the writer does not read the payload for it. */
static void
rec_put(struct rec *r, const struct sc_pkt *pkts, uint16_t n, bool rx, uint32_t local,
        uint16_t sport)
{
    uint64_t ts = r->hooks.clock ? r->hooks.clock(r->hooks.arg) : realtime_ns();

    for (uint16_t i = 0; i < n; i++) {
        const struct sc_pkt *p = &pkts[i];
        size_t frame = SC_UDP4_FRAME_OVERHEAD + (size_t)p->len;
        uint64_t need = (sizeof(struct rec_ent) + (frame < REC_MIN_FRAME ? REC_MIN_FRAME : frame) +
                         7) & ~(uint64_t)7;
        uint16_t ip_id = r->ip_id++;
        int64_t skip = rec_room(r, need);
        struct rec_ent *e;

        if (skip < 0) {
            if (r->rp.full == SC_RECORD_DROP) {
                bump(&r->dropped, 1);
                continue;
            }
            bump(&r->waited, 1);
            __atomic_store_n(&r->head, r->head, __ATOMIC_RELEASE); /* this burst's so far */
            while ((skip = rec_room(r, need)) < 0)
                sched_yield();
        }
        if (skip) {
            if ((uint64_t)skip >= sizeof(*e))
                ((struct rec_ent *)(void *)(r->ring + (r->head & r->mask)))->size = 0;
            r->head += (uint64_t)skip;
        }
        e = (struct rec_ent *)(void *)(r->ring + (r->head & r->mask));
        e->ts_ns = ts;
        if (rx) {
            e->src = p->addr;
            e->sport = p->port;
            /* a subscriber's data port: it came to the group; anything else (a
             * publisher never joins the group) came to us */
            e->dst = r->xp.role == SC_XPORT_SUB && p->lport == r->xp.port ? r->xp.group : local;
            e->dport = p->lport;
        } else {
            e->src = local;
            e->sport = sport;
            e->dst = p->addr;
            e->dport = p->port;
        }
        e->ip_id = ip_id;
        e->len = p->len;
        e->size = (uint32_t)need;
        e->nf_flags = SC_NF_UDP_CSUM | (!rx && (p->flags & SC_PKT_PGM_CSUM) ? SC_NF_SUMS_ZERO : 0);
        memcpy((uint8_t *)(e + 1) + SC_UDP4_FRAME_OVERHEAD, p->data, p->len);
        r->head += need;
    }
    __atomic_store_n(&r->head, r->head, __ATOMIC_RELEASE);
}

static void
rec_link_stats(struct rec *r, struct sc_xport *x)
{
    x->st = r->w.inner->st;
    x->st.record_packets = ld(&r->packets);
    x->st.record_dropped = ld(&r->dropped);
    x->st.record_waited = ld(&r->waited);
    x->st.record_write_errors = ld(&r->write_errors);
}

static uint32_t
rec_local(const struct rec *r)
{
    return r->w.inner->local_addr ? r->w.inner->local_addr : r->xp.interface;
}

static uint16_t
rec_rx(struct sc_xport *x, struct sc_pkt *pkts, uint16_t n)
{
    struct rec *r = rec_of(x);
    uint16_t got = sc_xport_rx(r->w.inner, pkts, n);

    if (got)
        rec_put(r, pkts, got, true, rec_local(r), 0);
    rec_link_stats(r, x);
    return got;
}

static uint16_t
rec_tx(struct sc_xport *x, const struct sc_pkt *pkts, uint16_t n)
{
    struct rec *r = rec_of(x);
    uint16_t sent = sc_xport_tx(r->w.inner, pkts, n);
    /* the port the inner transport sends from; a guess when it cannot say */
    uint16_t sport = r->w.inner->local_port ? r->w.inner->local_port
                     : r->xp.role == SC_XPORT_PUB ? r->xp.nak_port
                                                  : r->xp.port;

    if (sent)
        rec_put(r, pkts, sent, false, rec_local(r), sport);
    rec_link_stats(r, x);
    return sent;
}

static void
rec_free(struct rec *r)
{
    if (r->ring)
        munmap(r->ring, r->cap);
    free(r->path);
    free(r);
}

static void
rec_close(struct sc_xport *x)
{
    struct rec *r = rec_of(x);

    if (r->started) {
        __atomic_store_n(&r->stop, true, __ATOMIC_RELEASE);
        pthread_join(r->thread, NULL);
    }
    if (r->pw && sc_pcapw_close(r->pw) < 0)
        fprintf(stderr, "seqcast: --record %s: %s\n", r->path, strerror(EIO));
    rec_free(r);
}

/* everything else (fd, rx_pending, rx_wait, tx_errors, ...) forwards: the base */
static const struct sc_xport_ops rec_ops = {
    .name = "record", .rx_burst = rec_rx, .tx_burst = rec_tx, .close = rec_close,
};

static int
rec_fail(struct sc_err *err, int code, const char *what)
{
    if (err) {
        err->code = code;
        snprintf(err->msg, sizeof(err->msg), "--record: %s", what);
    }
    return code;
}

int
sc_xport_record_wrap(struct sc_xport **out, struct sc_xport *inner,
                     const struct sc_xport_params *xp, const struct sc_record_params *rp,
                     struct sc_err *err)
{
    uint64_t want = rp->ring_bytes ? rp->ring_bytes : REC_RING_DEFAULT, cap = REC_RING_MIN;
    struct rec *r = NULL;
    sigset_t all, old;
    int rc;

    if (want > REC_RING_MAX || (unsigned)rp->full > SC_RECORD_DROP) {
        sc_xport_close(inner);
        return rec_fail(err, -EINVAL,
                        want > REC_RING_MAX ? "ring size over 1 GiB" : "unknown policy when full");
    }
    while (cap < want)
        cap <<= 1;
    if (!(r = calloc(1, sizeof(*r))) || !(r->path = strdup(rp->path))) {
        free(r);
        sc_xport_close(inner);
        return rec_fail(err, -ENOMEM, "out of memory");
    }
    /* faulted in now: a page first touched on the hot path cost the publisher
     * 6 % of its time at 1344 B */
    r->ring = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
                   -1, 0);
    if (r->ring == MAP_FAILED) {
        free(r->path);
        free(r);
        sc_xport_close(inner);
        return rec_fail(err, -ENOMEM, "out of memory");
    }
    sc_xport_wrap_init(&r->w, &rec_ops, inner);
    r->xp = *xp;
    r->rp = *rp;
    r->rp.path = NULL; /* the caller's: r->path is ours */
    r->cap = cap;
    r->mask = cap - 1;
    if ((rc = rec_open_file(r, err)) < 0) {
        r->pw = NULL;
        sc_xport_close(&r->w.x); /* the inner transport too: owned from the call on */
        return rc;
    }
    /* the writer takes no signal: the program's handlers run on its own threads */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = -pthread_create(&r->thread, NULL, rec_writer, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc < 0) {
        sc_xport_close(&r->w.x);
        return rec_fail(err, rc, "cannot start the writer thread");
    }
    r->started = true;
    pthread_setname_np(r->thread, "sc-record");
    *out = &r->w.x;
    return 0;
}

void
sc_xport_record_stats(const struct sc_xport *x, struct sc_record_stats *st)
{
    const struct rec *r = (const struct rec *)(const void *)x;

    st->packets = ld(&r->packets);
    st->bytes = ld(&r->bytes);
    st->files_opened = ld(&r->files_opened);
    st->write_errors = ld(&r->write_errors);
    st->dropped = ld(&r->dropped);
    st->waited = ld(&r->waited);
}

void
sc_xport_record_set_hooks(struct sc_xport *x, const struct sc_record_hooks *h)
{
    rec_of(x)->hooks = *h;
}

/* ---------------------------------------------------------- capture source */

struct cap {
    struct sc_xport x;
    struct sc_pcapr *r;
    struct sc_xport_params xp;
    bool done, damaged;
};

static struct cap *
cap_of(struct sc_xport *x)
{
    return (struct cap *)(void *)x; /* x is the first member */
}

static uint16_t
cap_rx(struct sc_xport *x, struct sc_pkt *pkts, uint16_t n)
{
    struct cap *c = cap_of(x);
    struct sc_capd d;
    uint16_t o = 0;

    while (o < n && !c->done) {
        int rc = sc_pcapr_next(c->r, &d);
        if (rc <= 0) {
            c->damaged = rc < 0;
            c->done = true;
            break;
        }
        if (d.dst_port != c->xp.port || (c->xp.group && d.dst_ip != c->xp.group)) {
            x->st.rx_filtered++;
            continue;
        }
        if (d.len > pkts[o].cap) {
            x->st.rx_truncated++;
            continue;
        }
        memcpy(pkts[o].data, d.payload, d.len);
        pkts[o].len = d.len;
        pkts[o].addr = d.src_ip;
        pkts[o].port = d.src_port;
        pkts[o].lport = d.dst_port;
        x->st.rx_pkts++;
        x->st.rx_bytes += d.len;
        o++;
    }
    return o;
}

static uint16_t
cap_tx(struct sc_xport *x, const struct sc_pkt *pkts, uint16_t n)
{
    for (uint16_t i = 0; i < n; i++) {
        x->st.tx_pkts++;
        x->st.tx_bytes += pkts[i].len;
    }
    return n; /* into the void: a capture answers no NAK */
}

static void
cap_close(struct sc_xport *x)
{
    struct cap *c = cap_of(x);

    sc_pcapr_close(c->r);
    free(c);
}

static const struct sc_xport_ops cap_ops = {
    .name = "pcap", .rx_burst = cap_rx, .tx_burst = cap_tx, .fd = NULL, .close = cap_close,
};

int
sc_xport_pcap_open(struct sc_xport **out, const char *path, const char *filter,
                   const struct sc_xport_params *xp, struct sc_err *err)
{
    struct cap *c = calloc(1, sizeof(*c));

    if (!c) {
        if (err) {
            err->code = -ENOMEM;
            snprintf(err->msg, sizeof(err->msg), "%s: out of memory", path);
        }
        return -ENOMEM;
    }
    if (!(c->r = sc_pcapr_open(path, filter, err))) {
        free(c);
        return err ? err->code : -EIO;
    }
    c->x.ops = &cap_ops;
    c->x.local_addr = xp->interface;
    c->xp = *xp;
    *out = &c->x;
    return 0;
}

bool
sc_xport_pcap_done(const struct sc_xport *x)
{
    return ((const struct cap *)(const void *)x)->done;
}

const char *
sc_xport_pcap_error(const struct sc_xport *x)
{
    const struct cap *c = ((const struct cap *)(const void *)x);
    return c->damaged ? sc_pcapr_error(c->r) : NULL;
}

const struct sc_pcapr_stats *
sc_xport_pcap_stats(const struct sc_xport *x)
{
    return sc_pcapr_stats(((const struct cap *)(const void *)x)->r);
}
