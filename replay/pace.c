/* The replay agent: a capture's datagrams onto a transport, each when it is
 * due (include/seqcast/pcap.h has the contract).
 *
 * One datagram is read ahead: the one due next, whose due time is the
 * deadline. do_work sends it when now reaches it and reads the next:
 *
 *   IDLE --do_work at/after start--> RUN --every pass read, or damage--> FINISH --> DONE
 *   (sc_replay_stop: from any state to DONE, through FINISH)
 *
 * FINISH sends what max batched and lets the loss wrapper release what it
 * holds back (it releases one held packet per call that brings it nothing). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <seqcast/pcap.h>

#define BUDGET 256            /* datagrams per do_work */
#define RELEASE_CALLS 64      /* > the loss wrapper's hold (32): all released */
#define STOP_TRIES 1000       /* sc_replay_stop: offers of a batch the transport refuses */
#define SLEEP_OVER_NS 200000u /* wait: a shorter wait is spun by the runner's cycles ... */
#define SPIN_LAST_NS 100000u  /* ... a longer one sleeps to this short of its end */
#define LINKTYPE_ETHERNET 1

/* |gap error| histogram: values under 256 ns exact, above 128 steps per power
 * of two (a value is reported as its step's middle: within 0.4 %), up to 2^40
 * ns (18 minutes; anything larger counts in the top step). */
#define GH_EXACT 256
#define GH_SUB 128
#define GH_TOP 40
#define GH_N (GH_EXACT + (GH_TOP - 8) * GH_SUB)

enum state { IDLE, RUN, FINISH, DONE };

struct sc_replay {
    struct sc_replay_params p;
    struct sc_loss_params loss;
    struct sc_pcapr *rd;
    struct sc_xport *base, *x; /* the caller's transport; the top of the stack */
    int efd;
    enum state state;
    uint64_t pass, in_pass; /* the pass (1-based); datagrams read in it */
    uint64_t pass_t0, first_ts;
    bool have, measured; /* d holds the next datagram; its gap is counted */
    struct sc_capd d;
    uint64_t due;
    bool sent_any;
    bool end_unseen; /* DONE, and no do_work since: wait returns, efd is readable */
    uint64_t prev_due, prev_sent;
    uint16_t nb, off; /* max: datagrams batched; of those, taken by the transport */
    struct sc_replay_stats st;
    uint64_t gh[GH_N];
    char errbuf[SC_ERR_MSG_MAX];
    struct sc_pkt burst[SC_BURST];
    uint8_t bufs[SC_BURST][SC_PKT_MAX];
};

/* ---------------------------------------------------------------- framer */

/* The frame sender, a wrapper: tx_burst hands whole captured frames to the
 * inner transport's tx_frames, so the loss wrapper can sit on top unchanged. */

static uint16_t
framer_tx(struct sc_xport *x, const struct sc_pkt *p, uint16_t n)
{
    struct sc_xport_wrap *w = (struct sc_xport_wrap *)(void *)x;
    uint16_t k = w->inner->ops->tx_frames(w->inner, p, n);

    x->st = w->inner->st;
    return k;
}

static uint16_t
framer_rx(struct sc_xport *x, struct sc_pkt *p, uint16_t n)
{
    (void)x, (void)p, (void)n;
    return 0; /* send only */
}

static void
framer_close(struct sc_xport *x)
{
    free(x); /* the base closed the inner transport */
}

static const struct sc_xport_ops framer_ops = {
    .name = "frames", .rx_burst = framer_rx, .tx_burst = framer_tx, .close = framer_close,
};

/* ------------------------------------------------------------- histogram */

static unsigned
gh_index(uint64_t v)
{
    unsigned k;

    if (v < GH_EXACT)
        return (unsigned)v;
    k = 63u - (unsigned)__builtin_clzll(v); /* 2^k <= v */
    if (k >= GH_TOP)
        return GH_N - 1;
    return GH_EXACT + (k - 8) * GH_SUB + (unsigned)((v >> (k - 7)) & (GH_SUB - 1));
}

static uint64_t
gh_value(unsigned i)
{
    unsigned k, sub;

    if (i < GH_EXACT)
        return i;
    k = 8 + (i - GH_EXACT) / GH_SUB;
    sub = (i - GH_EXACT) % GH_SUB;
    return ((uint64_t)(GH_SUB + sub) << (k - 7)) + ((uint64_t)1 << (k - 7)) / 2;
}

/* the value of rank (0-based) in sorted order */
static uint64_t
gh_rank(const uint64_t *gh, uint64_t rank)
{
    uint64_t cum = 0;

    for (unsigned i = 0; i < GH_N; i++)
        if ((cum += gh[i]) > rank)
            return gh_value(i);
    return 0;
}

/* ----------------------------------------------------------------- pacing */

static uint64_t
due_of(const struct sc_replay *r)
{
    if (r->p.max)
        return 0;
    if (r->p.pps > 0)
        return r->pass_t0 + (uint64_t)((double)(r->in_pass - 1) * 1e9 / r->p.pps);
    if (r->d.ts_ns <= r->first_ts)
        return r->pass_t0;
    return r->pass_t0 + (uint64_t)((double)(r->d.ts_ns - r->first_ts) / r->p.speed);
}

static int
fail(struct sc_replay *r, const char *msg)
{
    snprintf(r->errbuf, sizeof(r->errbuf), "%s", msg);
    return -1;
}

/* The next datagram into r->d, with its due time; a pass that ends starts the
 * next one at now. @return 1, 0 when every pass is read, -1 damaged (errbuf). */
static int
take(struct sc_replay *r, uint64_t now)
{
    struct sc_err err;

    for (;;) {
        int rc = sc_pcapr_next(r->rd, &r->d);
        if (rc == 1) {
            if (r->in_pass++ == 0)
                r->first_ts = r->d.ts_ns;
            r->due = due_of(r);
            r->st.taken++;
            return 1;
        }
        if (rc < 0)
            return fail(r, sc_pcapr_error(r->rd));
        if (r->in_pass == 0 || (!r->p.forever && r->pass >= r->p.loops))
            return 0; /* the last pass, or one that selected nothing: looping would spin */
        if (sc_pcapr_rewind(r->rd, &err) < 0)
            return fail(r, err.msg);
        r->pass++;
        r->st.passes++;
        r->in_pass = 0;
        r->pass_t0 = now;
    }
}

/* how far the gap before this send strayed from the intended one */
static void
measure(struct sc_replay *r, uint64_t now)
{
    if (r->p.max)
        return;
    if (r->sent_any && r->due >= r->prev_due) {
        int64_t e = (int64_t)(now - r->prev_sent) - (int64_t)(r->due - r->prev_due);
        uint64_t a = e < 0 ? (uint64_t)-e : (uint64_t)e;
        r->gh[gh_index(a)]++;
        r->st.gaps++;
        if (a > r->st.gap_error_max_ns)
            r->st.gap_error_max_ns = a;
    }
    r->sent_any = true;
    r->prev_sent = now;
    r->prev_due = r->due;
}

/* ---------------------------------------------------------------- sending */

/* Offer the batch from off on. @return true when all of it is taken. */
static bool
flush(struct sc_replay *r)
{
    while (r->off < r->nb) {
        uint16_t k = sc_xport_tx(r->x, r->burst + r->off, (uint16_t)(r->nb - r->off));
        if (!k)
            return false; /* back-pressure: the socket buffer or the queue is full */
        r->off = (uint16_t)(r->off + k);
    }
    r->nb = r->off = 0;
    return true;
}

/* Send r->d (max: batch it). @return false if the transport took nothing:
 * r->d stays for the next do_work. */
static bool
send_one(struct sc_replay *r)
{
    const struct sc_capd *d = &r->d;
    uint8_t *buf = r->bufs[r->p.max ? r->nb : 0];
    struct sc_pkt pkt;

    if (r->p.raw_frames && !d->frame) {
        r->st.pieces_skipped++; /* the record went whole with its first packet */
        return true;
    }
    if (r->p.raw_frames && d->frame_len > SC_PKT_MAX) {
        r->st.too_big++; /* a jumbo capture record: no packet buffer holds it */
        return true;
    }
    if (r->p.raw_frames) {
        memcpy(buf, d->frame, d->frame_len);
        pkt = (struct sc_pkt){ .data = buf, .len = (uint16_t)d->frame_len };
    } else {
        memcpy(buf, d->payload, d->len);
        pkt = (struct sc_pkt){ .data = buf, .len = d->len,
                               .addr = r->p.keep_dest ? d->dst_ip : r->p.group,
                               .port = r->p.keep_dest ? d->dst_port : r->p.port };
    }
    if (r->p.max) {
        r->burst[r->nb++] = pkt;
        if (r->nb == SC_BURST)
            flush(r); /* the rest, if refused, before anything else next time */
    } else if (sc_xport_tx(r->x, &pkt, 1) == 0) {
        return false;
    }
    r->st.sent++;
    return true;
}

/* DONE: the end is an event -- a runner asleep on the replay wakes for it. */
static void
end(struct sc_replay *r)
{
    r->state = DONE;
    r->end_unseen = true;
    (void)eventfd_write(r->efd, 1);
}

/* the end seen (the first do_work after it) */
static void
end_seen(struct sc_replay *r)
{
    eventfd_t v;

    if (r->end_unseen) {
        r->end_unseen = false;
        (void)eventfd_read(r->efd, &v);
    }
}

/* FINISH: the batch, then the loss wrapper's held packets. @return true when done. */
static bool
finish(struct sc_replay *r)
{
    if (!flush(r))
        return false;
    if (r->p.loss)
        for (int i = 0; i < RELEASE_CALLS; i++)
            sc_xport_tx(r->x, r->burst, 0);
    end(r);
    return true;
}

static void
begin(struct sc_replay *r, uint64_t now)
{
    r->state = RUN;
    r->pass = 1;
    r->st.passes = 1;
    r->pass_t0 = r->p.start_ns ? r->p.start_ns : now;
}

int
sc_replay_do_work(struct sc_replay *r, uint64_t now)
{
    int work = 0;

    if (r->state == IDLE) {
        if (r->p.start_ns > now)
            return 0;
        begin(r, now);
    }
    if (r->state == FINISH) {
        finish(r);
        return 0;
    }
    if (r->state == DONE)
        end_seen(r);
    if (r->state != RUN || (r->nb == SC_BURST && !flush(r)))
        return 0;
    while (work < BUDGET && r->nb < SC_BURST) {
        if (!r->have) {
            int rc = take(r, now);
            if (rc <= 0) {
                r->state = FINISH;
                finish(r);
                break;
            }
            r->have = true;
            r->measured = false;
        }
        if (r->due > now)
            break;
        if (!r->measured) {
            measure(r, now);
            r->measured = true;
        }
        if (!send_one(r))
            break;
        r->have = false;
        work++;
    }
    return work;
}

uint64_t
sc_replay_deadline(const struct sc_replay *r, uint64_t now)
{
    switch (r->state) {
    case IDLE:
        return r->p.start_ns > now ? r->p.start_ns : now;
    case RUN:
        return r->have && r->nb < SC_BURST && r->due > now ? r->due : now;
    case FINISH:
        return now;
    case DONE:
        break;
    }
    return UINT64_MAX;
}

int
sc_replay_wait(struct sc_replay *r, uint64_t timeout_ns)
{
    struct timespec ts;

    if (r->end_unseen)
        return 1;
    if (timeout_ns <= SLEEP_OVER_NS)
        return 0;
    timeout_ns -= SPIN_LAST_NS;
    ts.tv_sec = (time_t)(timeout_ns / 1000000000u);
    ts.tv_nsec = (long)(timeout_ns % 1000000000u);
    clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
    return 0;
}

int
sc_replay_fd(const struct sc_replay *r)
{
    return r->efd;
}

SC_AGENT_DEFINE(replay, struct sc_replay)

bool
sc_replay_done(const struct sc_replay *r)
{
    return r->state == DONE;
}

void
sc_replay_stop(struct sc_replay *r)
{
    if (r->state == DONE)
        return;
    r->state = FINISH;
    for (int i = 0; i < STOP_TRIES && !finish(r); i++)
        ;
    if (r->state != DONE)
        end(r); /* the transport never took the batch */
}

const char *
sc_replay_error(const struct sc_replay *r)
{
    return r->errbuf[0] ? r->errbuf : NULL;
}

void
sc_replay_stats(const struct sc_replay *r, struct sc_replay_stats *st)
{
    *st = r->st;
    st->gap_error_median_ns = r->st.gaps ? gh_rank(r->gh, r->st.gaps / 2) : 0;
    st->gap_error_p99_ns = r->st.gaps ? gh_rank(r->gh, r->st.gaps * 99 / 100) : 0;
    st->capture = *sc_pcapr_stats(r->rd);
    if (r->p.loss)
        st->loss = *sc_xport_loss_stats(r->x);
    st->link = r->base->st;
}

/* ---------------------------------------------------------------- set-up */

/* "path: what" into err */
static int
set_err(struct sc_err *err, int code, const char *path, const char *what)
{
    if (err) {
        err->code = code;
        snprintf(err->msg, sizeof(err->msg), "%.120s: %.120s", path ? path : "replay", what);
    }
    return code;
}

static int
check_params(const struct sc_replay_params *p, struct sc_err *err)
{
    const char *why = !p->path                            ? "no capture given"
                      : !(p->speed >= 0) || isinf(p->speed) ? "speed must be positive"
                      : !(p->pps >= 0) || isinf(p->pps)   ? "pps must be positive"
                      : p->pps > 0 && p->max              ? "pps and max exclude each other"
                                                          : NULL;

    return why ? set_err(err, -EINVAL, p->path, why) : 0;
}

/* the transport stack on r->base: frames, then loss (each owns what it wraps) */
static int
stack(struct sc_replay *r, struct sc_err *err)
{
    int rc;

    r->x = r->base;
    if (r->p.raw_frames) {
        struct sc_xport_wrap *f;
        if (!r->base->ops->tx_frames || sc_pcapr_linktype(r->rd) != LINKTYPE_ETHERNET)
            return set_err(err, -ENOTSUP, r->p.path,
                           !r->base->ops->tx_frames ? "raw frames: the transport sends no whole "
                                                      "frames (a DPDK port does)"
                                                    : "raw frames: not an Ethernet capture");
        if (!(f = calloc(1, sizeof(*f))))
            return set_err(err, -ENOMEM, r->p.path, "out of memory");
        sc_xport_wrap_init(f, &framer_ops, r->x);
        r->x = &f->x;
    }
    if (r->p.loss) {
        r->loss = *r->p.loss;
        r->loss.on_tx = true;
        r->p.loss = &r->loss;
        if ((rc = sc_xport_loss_wrap(&r->x, r->x, &r->loss)) < 0) {
            r->x = NULL; /* closed by the wrap */
            return set_err(err, rc, r->p.path, "out of memory");
        }
    }
    return 0;
}

int
sc_replay_create(struct sc_replay **out, struct sc_xport *x, const struct sc_replay_params *p,
                 struct sc_err *err)
{
    struct sc_replay *r;
    int rc;

    if ((rc = check_params(p, err)) < 0) {
        sc_xport_close(x);
        return rc;
    }
    if (!(r = calloc(1, sizeof(*r)))) {
        sc_xport_close(x);
        return set_err(err, -ENOMEM, p->path, "out of memory");
    }
    r->p = *p;
    r->p.speed = p->speed > 0 ? p->speed : 1;
    r->p.loops = p->loops ? p->loops : 1;
    r->p.keep_dest = p->keep_dest || p->raw_frames;
    r->base = r->x = x;
    r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (r->efd < 0) {
        rc = set_err(err, -errno, p->path, "eventfd: no descriptor");
        goto fail;
    }
    if (!(r->rd = sc_pcapr_open(p->path, p->filter, err))) {
        rc = err ? err->code : -EIO;
        goto fail;
    }
    if ((rc = stack(r, err)) < 0)
        goto fail;
    *out = r;
    return 0;

fail:
    sc_replay_destroy(r);
    return rc;
}

void
sc_replay_destroy(struct sc_replay *r)
{
    if (!r)
        return;
    sc_xport_close(r->x);
    sc_pcapr_close(r->rd);
    if (r->efd >= 0)
        close(r->efd);
    free(r);
}
