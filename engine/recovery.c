/* A subscriber's recovery from archives (engine/recovery.h has the contract). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <seqcast/rewind.h>

#include "engine/recovery.h"

#define HB_NS 1000000000ull
#define TIMEOUT_NS 3000000000ull
#define RECONNECT_NS 100000000ull

struct sc_recovery {
    struct sc_sub_callbacks app;
    struct sc_rewind_cfg rc;
    const struct sc_channel_cfg *ch;
    uint64_t now;
    bool late_archive, joined;
    uint64_t from;          /* late_join: archive */
    bool have_src;
    struct sc_source src;   /* the source recovered */
    bool active;            /* a rewind runs; live messages are held */
    bool have_next;
    uint64_t next;          /* the next sequence the application gets */
    uint64_t progress_at;   /* active: when next last moved */
    struct sc_rewind *rw;
    struct sc_rewind_stats rw_done; /* the counters of rewinds finished */
    /* the hold: [h_first, h_end) as (u16 length, bytes) records */
    uint8_t *hold;
    size_t cap, len;
    uint64_t h_first, h_end;
    uint64_t timeout_ns;
    uint64_t taken_events, taken_msgs; /* the subscriber's loss events it took over */
    /* a rewind started for a loss: said as a repair (app.on_repair) when it merges */
    bool rep_loss;
    uint64_t rep_first, rep_msgs, rep_at;
    struct sc_sub_stats st; /* its counters only */
};

static bool
same_source(const struct sc_source *a, const struct sc_source *b)
{
    return !memcmp(a->gsi, b->gsi, sizeof(a->gsi)) && a->sport == b->sport &&
           !memcmp(a->session, b->session, sizeof(a->session));
}

static void
to_app(struct sc_recovery *r, const struct sc_source *src, uint64_t seq, const void *m,
       size_t len)
{
    r->next = seq + 1;
    r->have_next = true;
    r->progress_at = r->now;
    r->st.msgs_delivered++;
    r->st.bytes_delivered += len;
    r->app.on_msg(r->app.ctx, src, seq, m, len);
}

static void
lost(struct sc_recovery *r, uint64_t first, uint64_t last)
{
    struct sc_sub_event ev = {.type = SC_EV_LOSS, .src = &r->src};

    ev.loss.reason = SC_LOSS_NOT_IN_ARCHIVE;
    ev.loss.first = first;
    ev.loss.last = last;
    ev.loss.packets = last - first + 1;
    r->st.lost_not_in_archive += last - first + 1;
    r->st.loss_events++;
    r->next = last + 1;
    r->progress_at = r->now;
    if (r->app.on_event)
        r->app.on_event(r->app.ctx, &ev);
}

static void
hold_clear(struct sc_recovery *r)
{
    r->st.recovery_dropped += r->h_end - r->h_first;
    r->len = 0;
    r->h_first = r->h_end = 0;
}

static void
stop_rewind(struct sc_recovery *r)
{
    struct sc_rewind_stats st;

    if (!r->rw)
        return;
    sc_rewind_get_stats(r->rw, &st);
    r->rw_done.failovers += st.failovers;
    sc_rewind_destroy(r->rw);
    r->rw = NULL;
}

/* The rewind reached the hold: deliver it, stop the rewind. */
static void
merge(struct sc_recovery *r)
{
    size_t off = 0;

    if (!r->active || r->h_end == r->h_first || r->next < r->h_first)
        return;
    if (r->rep_loss && r->app.on_repair && r->st.msgs_rewind > r->rep_msgs) {
        struct sc_sub_event ev = {.type = SC_EV_REPAIR, .src = &r->src};
        ev.repair.how = SC_REPAIR_REWIND;
        ev.repair.first = r->rep_first;
        ev.repair.last = r->next - 1;
        ev.repair.packets = r->st.msgs_rewind - r->rep_msgs;
        ev.repair.wait_ns = r->now > r->rep_at ? r->now - r->rep_at : 1;
        r->app.on_repair(r->app.ctx, &ev);
    }
    r->rep_loss = false;
    for (uint64_t seq = r->h_first; seq < r->h_end; seq++) {
        uint16_t n;
        memcpy(&n, r->hold + off, 2);
        if (seq >= r->next) {
            r->st.msgs_held++;
            to_app(r, &r->src, seq, r->hold + off + 2, n);
        } else {
            r->st.recovery_dropped++;
        }
        off += 2 + (size_t)n;
    }
    r->len = 0;
    r->h_first = r->h_end = 0;
    r->active = false; /* the rewind is stopped after its do_work: this may run inside it */
}

static void
rw_msg(void *ctx, uint64_t seq, const void *m, size_t len)
{
    struct sc_recovery *r = ctx;

    if (!r->active || seq < r->next)
        return;
    r->st.msgs_rewind++;
    to_app(r, &r->src, seq, m, len);
    merge(r);
}

static void
rw_gap(void *ctx, uint64_t from, uint64_t to, const char *why)
{
    struct sc_recovery *r = ctx;

    (void)why;
    if (!r->active || to < r->next)
        return;
    if (r->h_end > r->h_first && to >= r->h_first)
        to = r->h_first - 1; /* what is held is not lost */
    if (from < r->next)
        from = r->next;
    if (to >= from)
        lost(r, from, to);
    merge(r);
}

static void
start(struct sc_recovery *r, uint64_t from)
{
    struct sc_err err;

    r->active = true;
    r->next = from;
    r->have_next = true;
    r->progress_at = r->now;
    r->st.recoveries++;
    r->rep_loss = false; /* the caller says when it starts for a loss */
    r->rep_first = from;
    r->rep_msgs = r->st.msgs_rewind;
    r->rep_at = r->now;
    stop_rewind(r);
    if (sc_rewind_create(&r->rw, &r->rc, from, 0, rw_msg, rw_gap, r, &err) < 0)
        r->rw = NULL; /* only out of memory: the timeout reports the loss */
}

static void
hold(struct sc_recovery *r, uint64_t seq, const void *m, size_t len)
{
    if (r->h_end != r->h_first && (seq != r->h_end || r->len + 2 + len > r->cap)) {
        r->st.recovery_hold_restarts++;
        hold_clear(r);
    }
    if (r->len + 2 + len > r->cap) {
        r->st.recovery_dropped++;
        return;
    }
    if (r->h_end == r->h_first)
        r->h_first = r->h_end = seq;
    uint16_t n = (uint16_t)len;
    memcpy(r->hold + r->len, &n, 2);
    memcpy(r->hold + r->len + 2, m, len);
    r->len += 2 + len;
    r->h_end = seq + 1;
}

static void
on_msg(void *ctx, const struct sc_source *src, uint64_t seq, const void *m, size_t len)
{
    struct sc_recovery *r = ctx;

    if (!r->have_src) {
        r->have_src = true;
        r->src = *src;
    } else if (!same_source(&r->src, src)) {
        r->app.on_msg(r->app.ctx, src, seq, m, len); /* not recovered */
        r->st.msgs_delivered++;
        r->st.bytes_delivered += len;
        return;
    }
    if (r->late_archive && !r->joined) {
        r->joined = true;
        if (seq > r->from)
            start(r, r->from);
    }
    if (!r->active) {
        to_app(r, src, seq, m, len);
        return;
    }
    if (seq < r->next) {
        r->st.recovery_dropped++;
        return;
    }
    hold(r, seq, m, len);
    merge(r);
}

static void
on_event(void *ctx, const struct sc_sub_event *ev)
{
    struct sc_recovery *r = ctx;

    if (ev->type == SC_EV_SOURCE_UP && !r->have_src) {
        r->have_src = true;
        r->src = *ev->src;
        if (r->late_archive && ev->up.join != SC_JOIN_FROM_START && r->app.on_event) {
            /* joined mid-stream, but delivery starts at `from`: said so, so an
             * application that takes a late join for a gap (the feed handler's
             * books) knows there is none */
            struct sc_sub_event up = *ev;
            up.up.join = SC_JOIN_ARCHIVE;
            up.up.first_packet = r->from;
            r->app.on_event(r->app.ctx, &up);
            return;
        }
    }
    if (ev->type == SC_EV_LOSS && r->have_src && same_source(&r->src, ev->src) &&
        ev->loss.last != UINT64_MAX) {
        r->taken_events++;
        r->taken_msgs += ev->loss.packets;
        if (!r->active) {
            start(r, r->have_next && r->next < ev->loss.first ? r->next : ev->loss.first);
            r->rep_loss = true;
        }
        /* else: the rewind covers it; the live stream's next message restarts the hold */
        return;
    }
    if (r->app.on_event)
        r->app.on_event(r->app.ctx, ev);
}

int
sc_recovery_do_work(struct sc_recovery *r, uint64_t now)
{
    int n = 0;

    r->now = now;
    if (!r->active) {
        stop_rewind(r); /* merged by a live message */
        return 0;
    }
    if (r->rw)
        n = sc_rewind_do_work(r->rw, now);
    if (!r->active) { /* merged meanwhile */
        stop_rewind(r);
        return n;
    }
    if (r->active && now - r->progress_at >= r->timeout_ns && r->h_end > r->h_first) {
        /* no archive answered: what the hold waits for is reported */
        if (r->next < r->h_first)
            lost(r, r->next, r->h_first - 1);
        merge(r);
        n++;
    }
    return n;
}

uint64_t
sc_recovery_deadline(const struct sc_recovery *r, uint64_t now)
{
    uint64_t d = UINT64_MAX, t;

    if (!r->active)
        return d;
    if (r->rw)
        d = sc_rewind_deadline(r->rw, now);
    if (r->h_end > r->h_first && (t = r->progress_at + r->timeout_ns) < d)
        d = t;
    return d;
}

int
sc_recovery_fd(const struct sc_recovery *r)
{
    return r->active && r->rw ? sc_rewind_fd(r->rw) : -1;
}

void
sc_recovery_stats(const struct sc_recovery *r, struct sc_sub_stats *st)
{
    struct sc_rewind_stats rs = r->rw_done;

    if (r->rw) {
        struct sc_rewind_stats now;
        sc_rewind_get_stats(r->rw, &now);
        rs.failovers += now.failovers;
    }
    st->msgs_delivered = r->st.msgs_delivered;
    st->bytes_delivered = r->st.bytes_delivered;
    /* loss events: those the application got */
    st->loss_events = st->loss_events - r->taken_events + r->st.loss_events;
    st->lost_packets = st->lost_packets - r->taken_msgs + r->st.lost_not_in_archive;
    st->msgs_rewind = r->st.msgs_rewind;
    st->msgs_held = r->st.msgs_held;
    st->recoveries = r->st.recoveries;
    st->recovery_hold_restarts = r->st.recovery_hold_restarts;
    st->recovery_dropped = r->st.recovery_dropped;
    st->lost_not_in_archive = r->st.lost_not_in_archive;
    st->rewind_failovers = rs.failovers;
}

int
sc_recovery_create(struct sc_recovery **out, const struct sc_channel_cfg *ch,
                   const struct sc_sub_callbacks *app, struct sc_sub_callbacks *wrapped,
                   struct sc_err *err)
{
    struct sc_recovery *r = calloc(1, sizeof(*r));

    *out = NULL;
    if (!r || !(r->hold = malloc(ch->recovery.hold_bytes))) {
        free(r);
        if (err) {
            err->code = -ENOMEM;
            snprintf(err->msg, sizeof(err->msg), "subscriber %.31s: out of memory for "
                     "recovery.hold", ch->name);
        }
        return -ENOMEM;
    }
    r->app = *app;
    r->cap = ch->recovery.hold_bytes;
    r->timeout_ns = ch->recovery.timeout_ns;
    r->late_archive = ch->late_join == SC_LATE_JOIN_ARCHIVE;
    r->from = ch->recovery.from;
    r->rc.nservers = ch->recovery.nrewind;
    for (uint32_t i = 0; i < ch->recovery.nrewind; i++) {
        char a[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &ch->recovery.rewind[i].addr, a, sizeof(a));
        snprintf(r->rc.servers[i], sizeof(r->rc.servers[i]), "tcp:%s:%u", a,
                 ch->recovery.rewind[i].port);
    }
    snprintf(r->rc.user, sizeof(r->rc.user), "%s", ch->recovery.user);
    snprintf(r->rc.password, sizeof(r->rc.password), "%s", ch->recovery.password);
    r->rc.heartbeat_ns = HB_NS;
    r->rc.timeout_ns = TIMEOUT_NS;
    r->rc.reconnect_ns = RECONNECT_NS;
    *wrapped = (struct sc_sub_callbacks){on_msg, on_event, r};
    *out = r;
    return 0;
}

void
sc_recovery_destroy(struct sc_recovery *r)
{
    if (!r)
        return;
    stop_rewind(r);
    free(r->hold);
    free(r);
}
