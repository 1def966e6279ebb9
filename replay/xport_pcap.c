/* The capture transports: record (a wrapper writing every packet to pcap)
 * and pcap (a capture read as the network). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <seqcast/agent.h>
#include <seqcast/pcap.h>
#include <seqcast/proto/netframe.h>

#define DLT_ETHERNET 1

/* ----------------------------------------------------------------- record */

struct rec {
    struct sc_xport_wrap w; /* first: the base (wrapper) */
    struct sc_xport_params xp;
    struct sc_record_params rp;
    struct sc_record_stats st;
    char *path;
    struct sc_pcapw *pw;
    unsigned seq;          /* number of the file being written (0 = path itself) */
    uint64_t in_file_bytes, in_file_pkts;
    uint16_t ip_id;
    bool dirty;
    uint64_t flushed_ns;
    uint8_t frame[SC_PKT_MAX + SC_UDP4_FRAME_OVERHEAD + 64];
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
    r->st.files_opened++;
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

static void
rec_write(struct rec *r, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
          const uint8_t *data, uint16_t len)
{
    struct sc_udp4_meta m = { .src_ip = src, .dst_ip = dst, .src_port = sport,
                              .dst_port = dport, .ttl = r->xp.ttl ? r->xp.ttl : 1,
                              .ip_id = r->ip_id++ };
    int flen;

    if (!r->pw)
        return; /* a rotation failed: counted in write_errors */
    mac_for(dst, m.dst_mac);
    mac_for(src, m.src_mac);
    flen = sc_udp4_build(r->frame, sizeof(r->frame), &m, data, len, SC_NF_UDP_CSUM);
    if (flen < 0 || sc_pcapw_write(r->pw, realtime_ns(), r->frame, (size_t)flen) < 0) {
        r->st.write_errors++;
        return;
    }
    r->dirty = true;
    r->st.packets++;
    r->st.bytes += (uint64_t)flen;
    r->in_file_pkts++;
    r->in_file_bytes += (uint64_t)flen + 16;
    if ((r->rp.max_bytes && r->in_file_bytes >= r->rp.max_bytes) ||
        (r->rp.max_packets && r->in_file_pkts >= r->rp.max_packets)) {
        if (sc_pcapw_close(r->pw) < 0)
            r->st.write_errors++;
        r->pw = NULL;
        r->seq = r->rp.files ? (r->seq + 1) % r->rp.files : r->seq + 1;
        if (rec_open_file(r, NULL) < 0)
            r->st.write_errors++;
    }
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

    if (!got && r->dirty && r->pw) { /* idle: let readers of the growing file see whole records */
        uint64_t now = sc_clock_now();
        if (now - r->flushed_ns > 100000000u) {
            if (sc_pcapw_flush(r->pw) < 0)
                r->st.write_errors++;
            r->dirty = false;
            r->flushed_ns = now;
        }
    }
    for (uint16_t i = 0; i < got; i++) {
        /* a subscriber's data port: it came to the group; anything else (a
         * publisher never joins the group) came to us */
        uint32_t dst = r->xp.role == SC_XPORT_SUB && pkts[i].lport == r->xp.port ? r->xp.group
                                                                                : rec_local(r);
        rec_write(r, pkts[i].addr, pkts[i].port, dst, pkts[i].lport, pkts[i].data, pkts[i].len);
    }
    x->st = r->w.inner->st;
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

    for (uint16_t i = 0; i < sent; i++)
        rec_write(r, rec_local(r), sport, pkts[i].addr, pkts[i].port, pkts[i].data, pkts[i].len);
    x->st = r->w.inner->st;
    return sent;
}

static void
rec_close(struct sc_xport *x)
{
    struct rec *r = rec_of(x);

    if (r->pw && sc_pcapw_close(r->pw) < 0)
        fprintf(stderr, "seqcast: --record %s: %s\n", r->path, strerror(EIO));
    free(r->path);
    free(r);
}

/* everything else (fd, rx_pending, rx_wait, tx_errors, ...) forwards: the base */
static const struct sc_xport_ops rec_ops = {
    .name = "record", .rx_burst = rec_rx, .tx_burst = rec_tx, .close = rec_close,
};

int
sc_xport_record_wrap(struct sc_xport **out, struct sc_xport *inner,
                     const struct sc_xport_params *xp, const struct sc_record_params *rp,
                     struct sc_err *err)
{
    struct rec *r = calloc(1, sizeof(*r));
    int rc;

    if (!r || !(r->path = strdup(rp->path))) {
        free(r);
        sc_xport_close(inner);
        if (err) {
            err->code = -ENOMEM;
            snprintf(err->msg, sizeof(err->msg), "--record: out of memory");
        }
        return -ENOMEM;
    }
    sc_xport_wrap_init(&r->w, &rec_ops, inner);
    r->xp = *xp;
    r->rp = *rp;
    if ((rc = rec_open_file(r, err)) < 0) {
        r->pw = NULL;
        sc_xport_close(&r->w.x); /* the inner transport too: owned from the call on */
        return rc;
    }
    *out = &r->w.x;
    return 0;
}

const struct sc_record_stats *
sc_xport_record_stats(const struct sc_xport *x)
{
    return &((const struct rec *)(const void *)x)->st;
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
