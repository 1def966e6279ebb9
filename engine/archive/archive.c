/* The archive agent: a subscriber whose every delivered message goes into a
 * store (engine/archive/store.c). <seqcast/archive.h> has the contract. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <seqcast/archive.h>

#include "engine/archive/store.h"
#include "engine/order_int.h"
#include "engine/rate.h"
#include "engine/rereq_srv.h"

#define RX_BURST 64

#define NS_S 1000000000ull
#define RETRY_NS NS_S  /* appends stopped: try again this often */
#define RETAIN_NS NS_S /* retention: checked this often */
#define SYNC_POLL_NS 1000000ull /* a sync in flight: looked at this often */
#define WRITE_BUFFER (1u << 20) /* records reach the file a pwrite per MiB and per wake-up */

struct sc_archive {
    struct sc_astore store;
    struct sc_sub *sub;
    struct sc_archive_stats st; /* the agent's own counters (the store's are added at get) */
    bool have_src;
    struct sc_source src;
    uint64_t now;
    uint64_t retry_at;  /* appends stopped until then (0: appending) */
    int error;
    uint64_t next_retain;
    uint64_t next_sync, sync_interval; /* fsync batch: the next sync starts then at the earliest */
    int64_t wall_off_ns; /* wall clock - now, read once at create */
    /* the re-request server (sock >= 0) */
    int sock, epfd;
    struct sc_channel_cfg ch;
    struct sc_rereq_srv srv;
    struct sc_rereq_source srv_src;
    struct sc_pub_stats srv_st;
    struct sc_astore_cursor srv_cur; /* the re-request server's reading position */
    /* the rewind server (or NULL), and a reading position per session slot */
    struct sc_osrv *rew;
    struct sc_astore_cursor *rcur;
    uint32_t nrcur;
    sc_sub_event_fn *on_sub_event; /* the params' (a loss log), or NULL */
    void *sub_event_ctx;
    uint8_t rx[65536];
};

static bool
same_source(const struct sc_source *a, const struct sc_source *b)
{
    return !memcmp(a->gsi, b->gsi, sizeof(a->gsi)) && a->sport == b->sport &&
           !memcmp(a->session, b->session, sizeof(a->session));
}

/* A failed append or gap: stop appending for a while. */
static void
stopped(struct sc_archive *a, int rc)
{
    if (!a->error)
        a->st.appends_stopped++;
    a->error = rc;
    a->retry_at = a->now + RETRY_NS;
}

static void
on_msg(void *ctx, const struct sc_source *src, uint64_t seq, const void *msg, size_t len)
{
    struct sc_archive *a = ctx;
    int rc;

    if (!a->have_src) {
        a->have_src = true;
        a->src = *src;
        memcpy(a->srv.session, src->session, sizeof(a->srv.session));
    } else if (!same_source(&a->src, src)) {
        a->st.msgs_other_source++;
        return;
    }
    if (len > 65535) {
        a->st.msgs_too_long++;
        return;
    }
    if (a->retry_at && a->now < a->retry_at) {
        if (seq > a->store.last)
            a->st.msgs_not_archived++;
        return;
    }
    rc = sc_astore_append(&a->store, seq, msg, (uint16_t)len);
    if (rc == 0) {
        a->retry_at = 0;
        a->error = 0;
        a->st.msgs_archived++;
        a->st.bytes_archived += len;
    } else if (rc == -EEXIST) {
        a->st.msgs_duplicate++;
    } else {
        a->st.msgs_not_archived++;
        stopped(a, rc);
    }
}

/* Repairs (SC_EV_REPAIR) go only to the params' on_sub_event. */
static void
on_repair(void *ctx, const struct sc_sub_event *ev)
{
    struct sc_archive *a = ctx;

    a->on_sub_event(a->sub_event_ctx, ev);
}

static void
on_event(void *ctx, const struct sc_sub_event *ev)
{
    struct sc_archive *a = ctx;
    int rc;

    if (a->on_sub_event)
        a->on_sub_event(a->sub_event_ctx, ev);
    if (ev->type == SC_EV_SOURCE_UP && !a->have_src) {
        a->have_src = true;
        a->src = *ev->src;
        memcpy(a->srv.session, ev->src->session, sizeof(a->srv.session));
    }
    if (ev->type != SC_EV_LOSS || (a->have_src && !same_source(&a->src, ev->src)))
        return;
    if (ev->loss.last == UINT64_MAX) {
        a->st.loss_unbounded++; /* recorded as a gap when data resumes */
        return;
    }
    if (a->retry_at && a->now < a->retry_at)
        return; /* the next append that works records it */
    if ((rc = sc_astore_gap(&a->store, ev->loss.first, ev->loss.last)) < 0)
        stopped(a, rc);
}

/* ------------------------------------------------ the archive as a source */

static void
arc_range(void *ctx, uint64_t *lo, uint64_t *end)
{
    const struct sc_astore *s = &((struct sc_archive *)ctx)->store;

    *end = s->last + 1;
    *lo = s->last && s->first <= s->last ? s->first : *end;
}

static uint32_t
arc_walk(void *ctx, uint64_t first, uint32_t max, uint32_t max_bytes, struct sc_mold_enc *e)
{
    struct sc_archive *a = ctx;
    struct sc_astore_rec r;
    uint32_t n = 0, bytes = 0;

    for (uint64_t seq = first; n < max; seq++) {
        const void *m;
        int len = sc_astore_read_at(&a->store, &a->srv_cur, seq, &m, &r);
        if (len < 0) /* a gap, damage, the end: the response stops before it */
            break;
        if (n && bytes + sc_mold_msg_size((uint16_t)len) > max_bytes)
            break;
        if (e)
            sc_mold_enc_add(e, m, (uint16_t)len);
        bytes += (uint32_t)sc_mold_msg_size((uint16_t)len);
        n++;
    }
    return n;
}

/* ---------------------------------- the archive as a rewind's source */

static uint64_t
rew_last(void *ctx)
{
    return ((struct sc_archive *)ctx)->store.durable_last;
}

static int
rew_get(void *ctx, uint32_t reader, uint64_t seq, const void **msg, uint64_t *to)
{
    struct sc_archive *a = ctx;
    struct sc_astore *s = &a->store;
    struct sc_astore_rec r = {seq, seq};
    int rc = reader < a->nrcur ? sc_astore_read_at(s, &a->rcur[reader], seq, msg, &r) : -EIO;

    if (rc == -ERANGE) /* below the first held: retention deleted it, or never held */
        r.to = s->last && seq < s->first ? s->first - 1 : seq;
    *to = r.to;
    return rc;
}

static bool
send_resp(void *ctx, uint8_t *data, uint16_t len, uint32_t addr, uint16_t port)
{
    struct sc_archive *a = ctx;
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};

    to.sin_addr.s_addr = addr;
    if (sendto(a->sock, data, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0 &&
        (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS))
        return false; /* stays queued */
    return true;
}

/* Add fd to the agent's epoll (made on first use, with the subscriber's fd). */
static int
watch_fd(struct sc_archive *a, int fd)
{
    struct epoll_event ev = {.events = EPOLLIN};

    if (a->epfd < 0) {
        if ((a->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
            return -errno;
        ev.data.fd = sc_sub_fd(a->sub);
        if (ev.data.fd >= 0 && epoll_ctl(a->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) < 0)
            return -errno;
    }
    ev.data.fd = fd;
    return epoll_ctl(a->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static int
rewind_init(struct sc_archive *a, const struct sc_archive_params *p, struct sc_err *err)
{
    struct sc_osrv_source src = {a, rew_last, rew_get};
    struct sc_session_cfg sc;
    int rc;

    if (!p->rewind_session) {
        snprintf(err->msg, sizeof(err->msg), "archive: a rewind needs its session's settings");
        return err->code = -EINVAL;
    }
    sc = *p->rewind_session;
    if (strlen(p->rewind) >= sizeof(sc.listen)) {
        snprintf(err->msg, sizeof(err->msg), "archive: rewind endpoint too long");
        return err->code = -EINVAL;
    }
    snprintf(sc.listen, sizeof(sc.listen), "%s", p->rewind);
    if (!(a->rcur = calloc(sc.max_connections ? sc.max_connections : 1, sizeof(*a->rcur)))) {
        snprintf(err->msg, sizeof(err->msg), "archive: out of memory");
        return err->code = -ENOMEM;
    }
    a->nrcur = sc.max_connections;
    if ((rc = sc_osrv_create_source(&a->rew, &sc, &src, err)) < 0)
        return rc;
    if ((rc = watch_fd(a, sc_osrv_fd(a->rew))) < 0) {
        err->code = rc;
        snprintf(err->msg, sizeof(err->msg), "archive: rewind: epoll: %s", strerror(-rc));
    }
    return rc;
}

static int
serve_init(struct sc_archive *a, const struct sc_config *cfg, const char *channel,
           const struct sc_archive_params *p, struct sc_err *err)
{
    const struct sc_channel_cfg *ch = NULL;
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(p->serve_port)};
    int one = 1, rc;
    const char *what = "socket";

    for (uint32_t i = 0; i < cfg->nchannels && !ch; i++)
        if (!channel || !strcmp(cfg->channels[i].name, channel))
            ch = &cfg->channels[i];
    if (!ch || ch->protocol != SC_PROTOCOL_MOLDUDP64) {
        snprintf(err->msg, sizeof(err->msg),
                 "archive: re-requests are MoldUDP64's: the channel is not protocol: moldudp64");
        return err->code = -EINVAL;
    }
    a->ch = *ch;
    in.sin_addr.s_addr = p->serve_addr;
    /* the session: learnt from the first source heard */
    if ((rc = sc_rereq_srv_init(&a->srv, &a->ch, (const uint8_t[SC_MOLD_SESSION_LEN]){0},
                                a->ch.mtu - SC_IP_UDP_OVERHEAD, &a->srv_st)) < 0) {
        what = "server";
        goto fail;
    }
    a->srv_src = (struct sc_rereq_source){a, arc_range, arc_walk};
    if ((a->sock = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
        goto fail_errno;
    what = "bind";
    setsockopt(a->sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(a->sock, (struct sockaddr *)&in, sizeof(in)) < 0)
        goto fail_errno;
    what = "epoll";
    if ((rc = watch_fd(a, a->sock)) < 0)
        goto fail;
    return 0;
fail_errno:
    rc = -errno;
fail:
    err->code = rc;
    snprintf(err->msg, sizeof(err->msg), "archive: re-request server on port %u: %s: %s",
             p->serve_port, what, strerror(-rc));
    return rc;
}

int
sc_archive_create(struct sc_archive **out, const struct sc_config *cfg, const char *channel,
                  const struct sc_archive_params *p, struct sc_err *err)
{
    struct sc_astore_cfg sc = {p->segment_bytes, p->index_bytes, p->retain_bytes, p->retain_age_s,
                               p->fsync, WRITE_BUFFER};
    struct sc_sub_callbacks cb = {on_msg, on_event, NULL};
    struct sc_archive *a = calloc(1, sizeof(*a));
    struct timespec rt, mt;
    int rc;

    *out = NULL;
    if (!a) {
        if (err) {
            err->code = -ENOMEM;
            snprintf(err->msg, sizeof(err->msg), "archive: out of memory");
        }
        return -ENOMEM;
    }
    if (!p->dir || !p->dir[0]) {
        free(a);
        if (err) {
            err->code = -EINVAL;
            snprintf(err->msg, sizeof(err->msg), "archive: no directory given");
        }
        return -EINVAL;
    }
    if ((rc = sc_astore_open(&a->store, p->dir, &sc, err)) < 0) {
        free(a);
        return rc;
    }
    cb.ctx = a;
    a->on_sub_event = p->on_sub_event;
    a->sub_event_ctx = p->sub_event_ctx;
    cb.on_repair = p->on_sub_event ? on_repair : NULL;
    a->sock = a->epfd = -1;
    if ((rc = sc_sub_create(&a->sub, cfg, channel, &cb, err)) < 0) {
        sc_astore_close(&a->store);
        free(a);
        return rc;
    }
    if ((p->serve_port && (rc = serve_init(a, cfg, channel, p, err)) < 0) ||
        (p->rewind && (rc = rewind_init(a, p, err)) < 0)) {
        sc_archive_destroy(a);
        return rc;
    }
    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_MONOTONIC, &mt);
    a->sync_interval = p->fsync_interval_ns;
    a->wall_off_ns = ((int64_t)rt.tv_sec - mt.tv_sec) * (int64_t)NS_S + (rt.tv_nsec - mt.tv_nsec);
    *out = a;
    return 0;
}

int
sc_archive_do_work(struct sc_archive *a, uint64_t now)
{
    int n, rc;

    a->now = now;
    n = sc_sub_do_work(a->sub, now);
    if (a->sock >= 0) {
        for (int k = 0; k < RX_BURST; k++) {
            struct sockaddr_in from;
            socklen_t fl = sizeof(from);
            ssize_t got = recvfrom(a->sock, a->rx, sizeof(a->rx), 0, (struct sockaddr *)&from, &fl);
            struct sc_pkt pk;
            if (got < 0)
                break;
            pk = (struct sc_pkt){a->rx, (uint16_t)got, sizeof(a->rx) - 1, from.sin_addr.s_addr,
                                 ntohs(from.sin_port), 0};
            sc_rereq_srv_request(&a->srv, &a->srv_src, &pk, now);
            n++;
        }
        n += sc_rereq_srv_poll(&a->srv, &a->srv_src, now, send_resp, a);
    }
    /* fsync batch: the store's thread syncs what was appended while this one
     * receives (an fdatasync here stalled the receive loop: a full-rate feed
     * overran the socket and the publisher's window), a sync every
     * sync_interval at most (back to back they were 2,000-5,000 a second at
     * 1 M msg/s, a busy vCPU's worth on two); the write buffer reaches the
     * file every wake-up either way */
    if ((rc = sc_astore_sync_poll(&a->store)) >= 0) {
        if (now < a->next_sync) {
            rc = sc_astore_flush(&a->store);
        } else {
            rc = sc_astore_sync_start(&a->store);
            if (sc_astore_syncing(&a->store))
                a->next_sync = now + a->sync_interval;
        }
    }
    if (rc < 0)
        stopped(a, rc); /* rolled back: recorded as a gap by the next append */
    if (now >= a->next_retain) {
        sc_astore_retain(&a->store, (time_t)(((int64_t)now + a->wall_off_ns) / (int64_t)NS_S));
        a->next_retain = now + RETAIN_NS;
    }
    if (a->rew) /* after the sync: sessions get what is durable */
        n += sc_osrv_do_work(a->rew, now);
    return n;
}

uint64_t
sc_archive_deadline(const struct sc_archive *a, uint64_t now)
{
    uint64_t d = sc_sub_deadline(a->sub, now), r;

    if (a->sock >= 0 && (r = sc_rereq_srv_deadline(&a->srv)) < d)
        d = r;
    if (a->rew && (r = sc_osrv_deadline(a->rew, now)) < d)
        d = r;
    if (sc_astore_syncing(&a->store) && now + SYNC_POLL_NS < d)
        d = now + SYNC_POLL_NS; /* collect it: durable_last moves the rewinds on */
    else if (a->store.dirty && a->next_sync < d)
        d = a->next_sync; /* appended, not yet synced: start one then */
    return a->next_retain < d ? a->next_retain : d;
}

int
sc_archive_wait(struct sc_archive *a, uint64_t timeout_ns)
{
    struct epoll_event ev;
    int n;

    if (a->epfd < 0)
        return sc_sub_wait(a->sub, timeout_ns);
    n = epoll_wait(a->epfd, &ev, 1,
                   timeout_ns >= 3600 * NS_S ? 3600 * 1000 : (int)((timeout_ns + 999999) / 1000000));
    return n > 0 ? 1 : 0;
}

int
sc_archive_fd(const struct sc_archive *a)
{
    return a->epfd >= 0 ? a->epfd : sc_sub_fd(a->sub);
}

SC_AGENT_DEFINE(archive, struct sc_archive)

static void
store_stats(const struct sc_astore *s, struct sc_archive_stats *st)
{
    st->gaps_recorded = s->st.gaps;
    st->gap_msgs = s->st.gap_seqs;
    st->write_errors = s->st.write_errors;
    st->disk_full = s->st.disk_full;
    st->syncs = s->st.syncs;
    st->sync_errors = s->st.sync_errors;
    st->rolled_back = s->st.rolled_back;
    st->segments_made = s->st.segments_made;
    st->segments_deleted = s->st.segments_deleted;
    st->torn_bytes = s->st.torn_bytes;
    st->damaged_ranges = s->st.damaged_ranges;
    st->damaged_msgs = s->st.damaged_seqs;
    st->read_errors = s->st.read_errors;
    st->segments = s->nseg;
    st->bytes_stored = s->bytes;
    st->first_seq = s->last && s->first <= s->last ? s->first : 0;
    st->last_seq = s->last;
}

void
sc_archive_get_stats(const struct sc_archive *a, struct sc_archive_stats *st)
{
    *st = a->st;
    store_stats(&a->store, st);
}

void
sc_archive_get_server_stats(const struct sc_archive *a, struct sc_pub_stats *st)
{
    *st = a->srv_st;
    st->mold_resp_queued = a->sock >= 0 ? sc_rereq_srv_queued(&a->srv) : 0;
}

void
sc_archive_get_rewind_stats(const struct sc_archive *a, struct sc_osrv_stats *st)
{
    if (a->rew)
        sc_osrv_get_stats(a->rew, st);
    else
        memset(st, 0, sizeof(*st));
}

struct sc_sub *
sc_archive_sub(struct sc_archive *a)
{
    return a->sub;
}

int
sc_archive_error(const struct sc_archive *a)
{
    return a->error;
}

const char *
sc_archive_damage(const struct sc_archive *a)
{
    return a->store.damage_msg[0] ? a->store.damage_msg : NULL;
}

void
sc_archive_destroy(struct sc_archive *a)
{
    if (!a)
        return;
    sc_osrv_destroy(a->rew);
    sc_sub_destroy(a->sub);
    for (uint32_t i = 0; i < a->nrcur; i++)
        sc_astore_cursor_free(&a->rcur[i]);
    free(a->rcur);
    sc_astore_cursor_free(&a->srv_cur);
    sc_astore_close(&a->store);
    if (a->sock >= 0)
        close(a->sock);
    sc_rereq_srv_fini(&a->srv); /* (nothing to free without a server) */
    if (a->epfd >= 0)
        close(a->epfd);
    free(a);
}

/* -------------------------------------------------------------- reader */

struct sc_archive_reader {
    struct sc_astore store;
};

int
sc_archive_reader_open(struct sc_archive_reader **out, const char *dir, struct sc_err *err)
{
    struct sc_astore_cfg cfg = {.fsync = SC_FSYNC_NONE};
    struct sc_archive_reader *r = calloc(1, sizeof(*r));
    int rc;

    *out = NULL;
    if (!r)
        return -ENOMEM;
    if ((rc = sc_astore_open(&r->store, dir, &cfg, err)) < 0) {
        free(r);
        return rc;
    }
    *out = r;
    return 0;
}

void
sc_archive_reader_range(const struct sc_archive_reader *r, uint64_t *first, uint64_t *last)
{
    *first = r->store.last ? r->store.first : 1;
    *last = r->store.last;
}

int
sc_archive_read(struct sc_archive_reader *r, uint64_t seq, void *buf, size_t cap, uint64_t *from,
                uint64_t *to)
{
    struct sc_astore_rec rec = {0, 0};
    int rc = sc_astore_read(&r->store, seq, buf, cap, &rec);

    *from = rec.from;
    *to = rec.to;
    return rc;
}

const char *
sc_archive_reader_damage(const struct sc_archive_reader *r)
{
    return r->store.damage_msg[0] ? r->store.damage_msg : NULL;
}

void
sc_archive_reader_stats(const struct sc_archive_reader *r, struct sc_archive_stats *st)
{
    memset(st, 0, sizeof(*st));
    store_stats(&r->store, st);
}

void
sc_archive_reader_close(struct sc_archive_reader *r)
{
    if (!r)
        return;
    sc_astore_close(&r->store);
    free(r);
}
