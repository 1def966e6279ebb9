#include <seqcast/pcap.h>

#include <seqcast/proto/netframe.h>
#include <seqcast/proto/pgm.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdbool.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The writer formats records itself into a buffer of WBUF bytes and writes
 * it out in whole blocks of BLK bytes with O_DIRECT when the file system
 * takes it: the disk reads the buffer, the CPU copies nothing into the page
 * cache (on the bench VM that copy cost a core at 1 GB/s; writes to a new
 * file went 0.3-2.4 GB/s through the page cache, a steady 1.5 GB/s direct).
 * A flush and the close write the last, partial block through a second,
 * buffered descriptor, so the file always ends at its last whole record
 * (the next direct write of that block takes its place). Without O_DIRECT
 * (tmpfs) both are the one buffered descriptor.
 *
 * The file header is libpcap's own (its dumper, into memory: the link type
 * mapped as libpcap maps it, nanosecond magic); each record is libpcap's
 * struct pcap_sf_pkthdr (seconds, nanoseconds, caplen, len: 32 bits, host
 * order) and the frame, as pcap_dump writes them. */
#define WBUF (4u << 20)
#define BLK 4096u
#define SF_PKTHDR 16u

struct sc_pcapw {
    int fd;        /* O_DIRECT, or the same as fd_tail */
    int fd_tail;   /* buffered */
    bool direct;
    bool failed;   /* a write failed: nothing more is written */
    uint8_t *buf;  /* BLK-aligned, WBUF bytes; buf[0] is at file offset off */
    size_t len;
    uint64_t off;  /* a multiple of BLK when direct */
};

/* The 24 bytes libpcap's dumper writes first, for linktype. */
static int
file_header(int linktype, uint8_t *out, size_t cap)
{
    pcap_t *dead = pcap_open_dead_with_tstamp_precision(linktype, 65535,
                                                        PCAP_TSTAMP_PRECISION_NANO);
    char *mem = NULL;
    size_t mlen = 0;
    FILE *f;
    pcap_dumper_t *d;
    int n = -1;

    if (!dead)
        return -1;
    if ((f = open_memstream(&mem, &mlen)) && (d = pcap_dump_fopen(dead, f))) {
        pcap_dump_flush(d);
        if (mlen <= cap) {
            memcpy(out, mem, mlen);
            n = (int)mlen;
        }
        pcap_dump_close(d); /* closes f */
    } else if (f) {
        fclose(f);
    }
    free(mem);
    pcap_close(dead);
    return n;
}

static int
pwrite_all(int fd, const uint8_t *b, size_t n, uint64_t off)
{
    while (n) {
        ssize_t k = pwrite(fd, b, n, (off_t)off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -EIO;
        b += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

/* Write what the buffer holds: whole blocks (direct), everything (buffered). */
static int
push(struct sc_pcapw *w)
{
    size_t n = w->direct ? w->len & ~(size_t)(BLK - 1) : w->len;

    if (w->failed)
        return -EIO;
    if (!n)
        return 0;
    if (pwrite_all(w->fd, w->buf, n, w->off) < 0) {
        if (!w->direct || errno != EINVAL) {
            w->failed = true;
            return -EIO;
        }
        /* a file system that opens O_DIRECT but wants other alignments:
         * buffered from here on (the blocks written so far stay) */
        close(w->fd);
        w->fd = w->fd_tail;
        w->direct = false;
        return push(w);
    }
    memmove(w->buf, w->buf + n, w->len - n);
    w->len -= n;
    w->off += n;
    return 0;
}

struct sc_pcapw *
sc_pcapw_open(const char *path, int linktype, struct sc_err *err)
{
    struct sc_pcapw *w = calloc(1, sizeof(*w));
    int hl;

    if (!w || !(w->buf = aligned_alloc(BLK, WBUF))) {
        free(w);
        if (err) {
            err->code = -ENOMEM;
            snprintf(err->msg, sizeof(err->msg), "%s: out of memory", path);
        }
        return NULL;
    }
    w->fd = w->fd_tail = -1;
    if ((hl = file_header(linktype, w->buf, WBUF)) < 0) {
        if (err) {
            err->code = -EINVAL;
            snprintf(err->msg, sizeof(err->msg), "%s: link type %d: no pcap header", path,
                     linktype);
        }
        goto fail;
    }
    w->len = (size_t)hl;
    w->fd_tail = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd_tail < 0) {
        if (err) {
            err->code = -EIO;
            snprintf(err->msg, sizeof(err->msg), "%s: %s", path, strerror(errno));
        }
        goto fail;
    }
    w->fd = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
    w->direct = w->fd >= 0;
    if (!w->direct)
        w->fd = w->fd_tail;
    return w;

fail:
    free(w->buf);
    free(w);
    return NULL;
}

int
sc_pcapw_write(struct sc_pcapw *w, uint64_t ts_ns, const void *frame, size_t len)
{
    uint32_t h[4] = { (uint32_t)(ts_ns / 1000000000u), (uint32_t)(ts_ns % 1000000000u),
                      (uint32_t)len, (uint32_t)len };

    if (w->failed || len > UINT32_MAX - SF_PKTHDR)
        return -EIO;
    if (w->len + SF_PKTHDR + len > WBUF && push(w) < 0)
        return -EIO;
    if (w->len + SF_PKTHDR + len > WBUF)
        return -EIO; /* over 4 MiB less a block: never a frame */
    memcpy(w->buf + w->len, h, SF_PKTHDR);
    memcpy(w->buf + w->len + SF_PKTHDR, frame, len);
    w->len += SF_PKTHDR + len;
    return 0;
}

int
sc_pcapw_flush(struct sc_pcapw *w)
{
    if (push(w) < 0)
        return -EIO;
    if (w->len && pwrite_all(w->fd_tail, w->buf, w->len, w->off) < 0) {
        w->failed = true;
        return -EIO;
    }
    return 0; /* the tail stays: written again, whole, by the next push */
}

int
sc_pcapw_close(struct sc_pcapw *w)
{
    int rc;

    if (!w)
        return 0;
    rc = sc_pcapw_flush(w);
    if (w->direct)
        close(w->fd);
    if (close(w->fd_tail) < 0)
        rc = -EIO;
    free(w->buf);
    free(w);
    return rc;
}

/* ------------------------------------------------------------------ reading */

#define LT_NULL 0       /* BSD loopback: 4-byte address family, host order */
#define LT_ETHERNET 1
#define LT_RAW 101      /* raw IP (pcap_datalink() says DLT_RAW: 12 or 14) */
#define LT_LINUX_SLL 113
#define LT_IPV4 228
#define LT_LINUX_SLL2 276
#define SCRATCH (65536 + 64)

struct sc_pcapr {
    pcap_t *p;
    char *path, *filter;
    int linktype;
    struct bpf_program prog;
    bool have_prog;
    struct sc_pcapr_stats st;
    struct sc_capd rest;    /* the rest of a split GSO datagram (rest.len > 0) */
    char errbuf[PCAP_ERRBUF_SIZE + 256];
    uint8_t scratch[SCRATCH];
};

static int
set_err(struct sc_err *err, int code, const char *path, const char *what)
{
    if (err) {
        err->code = code;
        snprintf(err->msg, sizeof(err->msg), "%.100s: %.150s", path, what);
    }
    return code;
}

static int
reader_open(struct sc_pcapr *r, struct sc_err *err)
{
    char eb[PCAP_ERRBUF_SIZE] = "";
    int lt;

    r->p = pcap_open_offline_with_tstamp_precision(r->path, PCAP_TSTAMP_PRECISION_NANO, eb);
    if (!r->p)
        return set_err(err, -EIO, r->path, eb[0] ? eb : "cannot be read as pcap or pcapng");
    lt = pcap_datalink(r->p);
    if (lt == DLT_RAW || lt == 12 || lt == 14)
        lt = LT_RAW;
    switch (lt) {
    case LT_NULL: case LT_ETHERNET: case LT_RAW: case LT_LINUX_SLL: case LT_IPV4:
    case LT_LINUX_SLL2:
        break;
    default: {
        char what[160];
        const char *name = pcap_datalink_val_to_name(pcap_datalink(r->p));
        snprintf(what, sizeof(what),
                 "link type %d (%s) is not supported: Ethernet, raw IPv4, Linux cooked or "
                 "loopback captures only",
                 pcap_datalink(r->p), name ? name : "unknown");
        pcap_close(r->p);
        r->p = NULL;
        return set_err(err, -EPROTONOSUPPORT, r->path, what);
    }
    }
    r->linktype = lt;
    if (r->filter) {
        if (r->have_prog)
            pcap_freecode(&r->prog);
        r->have_prog = false;
        if (pcap_compile(r->p, &r->prog, r->filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
            char what[PCAP_ERRBUF_SIZE + 64];
            snprintf(what, sizeof(what), "filter '%s': %s", r->filter, pcap_geterr(r->p));
            pcap_close(r->p);
            r->p = NULL;
            return set_err(err, -EINVAL, r->path, what);
        }
        r->have_prog = true; /* applied in sc_pcapr_next, so filtered records are counted */
    }
    return 0;
}

struct sc_pcapr *
sc_pcapr_open(const char *path, const char *filter, struct sc_err *err)
{
    struct sc_pcapr *r = calloc(1, sizeof(*r));

    if (!r || !(r->path = strdup(path)) || (filter && !(r->filter = strdup(filter)))) {
        if (r)
            free(r->path);
        free(r);
        set_err(err, -ENOMEM, path, "out of memory");
        return NULL;
    }
    if (reader_open(r, err) < 0) {
        sc_pcapr_close(r);
        return NULL;
    }
    return r;
}

/* The IPv4 packet inside a record, rebuilt as an Ethernet frame in scratch
 * when the link layer is not plain Ethernet, so that one parser serves all. */
static const uint8_t *
as_ethernet(struct sc_pcapr *r, const uint8_t *rec, uint32_t len, uint32_t *flen)
{
    uint32_t off, proto_be = 0;

    switch (r->linktype) {
    case LT_ETHERNET:
        if (len >= 18 && rec[12] == 0x81 && rec[13] == 0x00) { /* 802.1Q: drop the tag */
            off = 18;
            memcpy(r->scratch, rec, 12);
            memcpy(r->scratch + 12, rec + 16, 2);
            break;
        }
        *flen = len;
        return rec;
    case LT_NULL:
        if (len < 4)
            return NULL;
        if (!((rec[0] == 2 && rec[1] == 0 && rec[2] == 0 && rec[3] == 0) ||
              (rec[0] == 0 && rec[1] == 0 && rec[2] == 0 && rec[3] == 2)))
            return NULL; /* not AF_INET */
        off = 4;
        proto_be = 0x0800;
        break;
    case LT_RAW: case LT_IPV4:
        if (len < 1 || (rec[0] >> 4) != 4)
            return NULL;
        off = 0;
        proto_be = 0x0800;
        break;
    case LT_LINUX_SLL:
        if (len < 16)
            return NULL;
        off = 16;
        proto_be = (uint32_t)rec[14] << 8 | rec[15];
        break;
    case LT_LINUX_SLL2:
        if (len < 20)
            return NULL;
        off = 20;
        proto_be = (uint32_t)rec[0] << 8 | rec[1];
        break;
    default:
        return NULL;
    }
    if (len < off || len - off + 14 > SCRATCH)
        return NULL;
    if (r->linktype != LT_ETHERNET) {
        memset(r->scratch, 0, 12);
        r->scratch[12] = (uint8_t)(proto_be >> 8);
        r->scratch[13] = (uint8_t)proto_be;
    }
    memcpy(r->scratch + 14, rec + off, len - off);
    *flen = len - off + 14;
    return r->scratch;
}

/* A UDP GSO send captured on the sending host (loopback, veth) is one
 * datagram holding several PGM packets back to back (the kernel cuts it at the
 * device; packet taps see it whole). @return the first packet's length when
 * the payload tiles exactly into two or more PGM packets that each decode with
 * a good checksum, else 0 (an ordinary datagram). */
static uint16_t
gso_first(const uint8_t *p, size_t len)
{
    size_t off = 0;
    unsigned n = 0;
    int first = 0;

    while (off < len) {
        struct sc_pgm_pkt k;
        int l = sc_pgm_packet_len(p + off, len - off);
        if (l <= 0 || sc_pgm_decode(p + off, (size_t)l, &k, 0) < 0)
            return 0;
        if (!n++)
            first = l;
        off += (size_t)l;
    }
    return n >= 2 ? (uint16_t)first : 0;
}

/* the next packet of a split datagram into d */
static int
next_piece(struct sc_pcapr *r, struct sc_capd *d, uint16_t len)
{
    *d = r->rest;
    d->len = len;
    r->rest.payload += len;
    r->rest.len = (uint16_t)(r->rest.len - len);
    r->rest.frame = NULL; /* the record goes out once, with its first packet */
    r->rest.frame_len = 0;
    return 1;
}

static bool
filter_ok(const struct sc_pcapr *r, const struct pcap_pkthdr *h, const u_char *rec)
{
    return pcap_offline_filter(&r->prog, h, rec) != 0;
}

int
sc_pcapr_next(struct sc_pcapr *r, struct sc_capd *d)
{
    struct pcap_pkthdr *h;
    const u_char *rec;
    struct sc_frame f;
    const uint8_t *eth;
    uint32_t flen;
    int rc;

    if (!r->p)
        return 0;
    if (r->rest.len) {
        int l = sc_pgm_packet_len(r->rest.payload, r->rest.len);
        return next_piece(r, d, (uint16_t)l); /* gso_first checked every piece */
    }
    while ((rc = pcap_next_ex(r->p, &h, &rec)) == 1) {
        uint16_t first;
        uint64_t idx = r->st.records++;
        if (r->filter && !filter_ok(r, h, rec)) {
            r->st.filtered++;
            continue;
        }
        if (h->caplen < h->len) {
            r->st.truncated++;
            continue;
        }
        if (!(eth = as_ethernet(r, rec, h->caplen, &flen))) {
            r->st.not_udp++;
            continue;
        }
        rc = sc_frame_parse_flags(eth, flen, &f, SC_NF_NO_UDP_CSUM);
        if (rc < 0) {
            r->st.malformed++;
            continue;
        }
        if (f.kind != SC_FRAME_UDP4) {
            r->st.not_udp++;
            continue;
        }
        r->st.datagrams++;
        d->ts_ns = (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec;
        d->index = idx;
        d->src_ip = f.udp.src_ip;
        d->dst_ip = f.udp.dst_ip;
        d->src_port = f.udp.src_port;
        d->dst_port = f.udp.dst_port;
        d->payload = f.payload;
        d->len = f.payload_len;
        d->frame = rec;
        d->frame_len = h->caplen;
        if (d->len > SC_PGM_HDR_LEN && (first = gso_first(d->payload, d->len)) > 0) {
            r->st.gso_split++;
            r->rest = *d;
            return next_piece(r, d, first);
        }
        return 1;
    }
    if (rc == PCAP_ERROR_BREAK || rc == -2)
        return 0;
    snprintf(r->errbuf, sizeof(r->errbuf), "%s: damaged after record %llu: %s", r->path,
             (unsigned long long)r->st.records, pcap_geterr(r->p));
    return -EIO;
}

int
sc_pcapr_rewind(struct sc_pcapr *r, struct sc_err *err)
{
    if (r->p)
        pcap_close(r->p);
    r->p = NULL;
    r->rest.len = 0;
    return reader_open(r, err);
}

const char *
sc_pcapr_error(const struct sc_pcapr *r)
{
    return r->errbuf;
}

void
sc_pcapr_describe(const struct sc_pcapr_stats *st, char *buf, size_t len)
{
    snprintf(buf, len,
             "%llu records: %llu filtered, %llu not IPv4/UDP, %llu cut short, %llu malformed, "
             "%llu UDP GSO sends split into their packets",
             (unsigned long long)st->records, (unsigned long long)st->filtered,
             (unsigned long long)st->not_udp, (unsigned long long)st->truncated,
             (unsigned long long)st->malformed, (unsigned long long)st->gso_split);
}

const struct sc_pcapr_stats *
sc_pcapr_stats(const struct sc_pcapr *r)
{
    return &r->st;
}

int
sc_pcapr_linktype(const struct sc_pcapr *r)
{
    return r->linktype;
}

void
sc_pcapr_close(struct sc_pcapr *r)
{
    if (!r)
        return;
    if (r->p)
        pcap_close(r->p);
    if (r->have_prog)
        pcap_freecode(&r->prog);
    free(r->path);
    free(r->filter);
    free(r);
}
