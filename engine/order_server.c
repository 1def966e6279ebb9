/* SoupBinTCP order server: one session (one journal), many connections.
 *
 * Connections live in two tables, each sized by the config at create:
 *
 *   pending   accepted, not logged in (max_pending): a login must come within
 *             login_timeout of the accept, however many bytes arrive before
 *             it; when the table is full the oldest is closed for the new one,
 *             so a crowd that never logs in cannot keep a client out
 *   sessions  logged in (max_connections): a good login beyond it is closed
 *
 * A login that fails counts against its peer's address (struct guard); an
 * address with lockout.failures of them within lockout.window is locked out
 * for lockout.duration: its connections are closed unheard.
 *
 * Each do_work, in three phases: (1) accept, read the connections epoll
 * named and parse their packets (a bad one closes that connection only,
 * counted by class; the application's answers are journaled), close what
 * timed out; (2) sync the journal per the fsync policy -- a failed sync rolls
 * back what was not durable and tells the application (sc_osrv_lost_fn);
 * (3) sessions catch up to the journal's durable count (recent messages come
 * from its in-memory tail: no pread), heartbeats go out after `heartbeat` of
 * silence, and every connection's output is written once. Nothing is queued
 * before it is durable, so nothing a failed sync rolls back was ever sent,
 * and a session's next_seq never passes durable + 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <seqcast/order.h>

#include "engine/journal.h"
#include "engine/order_int.h"
#include "engine/osock.h"
#include <seqcast/proto/soup.h>

#define OUT_BUF (1u << 20)
#define PENDING_OUT 64          /* a pending connection only ever answers its login */
#define TAG_LISTEN UINT32_MAX   /* epoll data: the listening socket, */
#define TAG_PENDING 0x80000000u /* TAG_PENDING | a pending slot, or a session slot */
#define ACCEPT_BURST 64         /* accepts per do_work: sessions are served during a flood */
#define WAYS 8                  /* the guard table is set-associative */
#define FD_MARGIN 16            /* descriptors besides the connections' */
#define RETRY_NS 10000000u      /* output the kernel refused, a failed sync: again after */
#define SOURCE_PASS (256u << 10) /* a source's bytes queued per session per do_work, */
#define SOURCE_WORK (1u << 20)   /* and for all sessions: many rewinds (or logins from 1
                                  * that never read, each taking its buffers' worth at
                                  * once) do not hold up the agent beside them */

struct conn {
    int fd;
    bool closing;  /* pending: its rejection is queued; written and closed in phase 3 */
    bool readable; /* epoll said so in this do_work pass */
    bool eos;      /* End of Session queued */
    bool gap;      /* source: a gap's Debug packet queued; closed once it is written */
    uint32_t id;
    struct sc_opeer peer;
    char user[SC_SOUP_USER_LEN + 1];
    uint64_t next_seq;   /* session: next sequenced message it gets (<= durable + 1) */
    uint64_t replay_end; /* session: messages up to this were journaled before its login */
    uint64_t since_ns;   /* pending: accepted at; the login deadline runs from here */
    uint64_t last_rx_ns, last_tx_ns;
    uint64_t drained_ns; /* session: its output was last empty or last made progress */
    size_t rxlen;
    uint8_t *rx;
    struct sc_obuf out;
};

/* Failed logins per peer address. A fixed table of buckets of WAYS entries
 * (the bucket chosen by a seeded hash); a new address takes a free entry or
 * the stalest unlocked one of its bucket; when all are locked, its failures
 * go to `overflow`, which every address without an entry shares: under an
 * attack wider than the table the limit still holds, for all of them. */
struct guard_entry {
    struct sc_opeer peer;
    bool used;
    uint32_t fails;
    uint64_t first_ns, last_ns, until_ns; /* window start, last failure, locked until */
};

struct sc_osrv {
    struct sc_session_cfg s;
    char session_id[SC_SOUP_SESSION_LEN + 1];
    int lfd, epfd, spare_fd;
    uint32_t next_id;
    bool ending;
    /* for sc_osrv_deadline: more output ready at once (a replay), something
     * journaled or End of Session asked since the last do_work, and the
     * earliest timer that do_work left (login deadlines, timeouts, heartbeats,
     * retries) */
    bool more, queued;
    uint64_t timer;
    struct sc_journal j;
    struct sc_osrv_source src; /* src.get set: messages come from it, not from j */
    bool open;                 /* source and no users: any login is accepted */
    sc_osrv_msg_fn *on_msg;
    sc_osrv_lost_fn *on_lost;
    void *ctx;
    struct sc_osrv_stats st;
    struct conn *sess, *pend;
    uint32_t nsess, npend;
    uint32_t sess_hi, pend_hi; /* slots from here up are closed: loops stop here (new
                                * connections take the lowest free slot) */
    size_t work_left;          /* of SOURCE_WORK, in this do_work's phase 3 */
    uint32_t first;            /* the session phase 3 starts at: turns at SOURCE_WORK */
    /* what sc_osrv_wait's epoll_wait answered, for the next do_work */
    struct epoll_event *evs;
    int maxev, nev; /* nev -1: nothing waiting (do_work asks epoll itself) */
    struct guard_entry *guard, overflow;
    uint32_t nbuckets; /* a power of two */
    uint64_t seed;
    uint8_t msg[65536];
};

/* ------------------------------------------------------------ the guard */

static struct guard_entry *
guard_find(struct sc_osrv *s, const struct sc_opeer *p, bool create, uint64_t now)
{
    uint64_t h = s->seed ^ p->family;
    struct guard_entry *b, *victim = NULL;

    for (int i = 0; i < 8; i++)
        h = (h ^ p->addr[i]) * 0x100000001B3ull; /* FNV-1a, seeded */
    h ^= h >> 29;
    b = &s->guard[(h & (s->nbuckets - 1)) * WAYS];
    for (int i = 0; i < WAYS; i++)
        if (b[i].used && !memcmp(&b[i].peer, p, sizeof(*p)))
            return &b[i];
    if (!create)
        return NULL;
    for (int i = 0; i < WAYS; i++) {
        if (!b[i].used) {
            victim = &b[i];
            break;
        }
        if (b[i].until_ns <= now && (!victim || b[i].last_ns < victim->last_ns))
            victim = &b[i];
    }
    if (!victim) {
        s->st.lockout_table_full++;
        return &s->overflow;
    }
    memset(victim, 0, sizeof(*victim));
    victim->used = true;
    victim->peer = *p;
    return victim;
}

static bool
locked_out(struct sc_osrv *s, const struct sc_opeer *p, uint64_t now)
{
    const struct guard_entry *e = guard_find(s, p, false, now);

    return (e ? e->until_ns : s->overflow.until_ns) > now;
}

static void
login_failed(struct sc_osrv *s, const struct sc_opeer *p, uint64_t now)
{
    struct guard_entry *e = guard_find(s, p, true, now);

    if (!e->fails || now - e->first_ns >= s->s.lockout_window_ns) {
        e->fails = 0;
        e->first_ns = now;
    }
    e->last_ns = now;
    if (++e->fails >= s->s.lockout_failures) {
        e->fails = 0;
        e->until_ns = now + s->s.lockout_ns;
        s->st.lockouts++;
    }
}

/* ------------------------------------------------------- connections */

/* The last sequenced message that may be sent. */
static uint64_t
avail(const struct sc_osrv *s)
{
    return s->src.get ? s->src.last(s->src.ctx) : s->j.durable;
}

static bool
is_pending(const struct sc_osrv *s, const struct conn *c)
{
    return c >= s->pend && c < s->pend + s->npend;
}

static void
slot_used(struct sc_osrv *s, struct conn *c)
{
    uint32_t *hi = is_pending(s, c) ? &s->pend_hi : &s->sess_hi;
    uint32_t i = (uint32_t)(c - (is_pending(s, c) ? s->pend : s->sess));

    if (i + 1 > *hi)
        *hi = i + 1;
}

/* c->fd was just set to -1 */
static void
slot_freed(struct sc_osrv *s, struct conn *c)
{
    struct conn *t = is_pending(s, c) ? s->pend : s->sess;
    uint32_t *hi = is_pending(s, c) ? &s->pend_hi : &s->sess_hi;

    while (*hi && t[*hi - 1].fd < 0)
        (*hi)--;
}

static void
conn_close(struct sc_osrv *s, struct conn *c, uint64_t *counter)
{
    if (c->fd < 0)
        return;
    sc_obuf_flush(&c->out, c->fd); /* a rejection or End of Session goes out first */
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL); /* close drops it anyway */
    close(c->fd);
    c->fd = -1;
    c->out.len = 0;
    if (counter)
        (*counter)++;
    s->st.connections--;
    if (is_pending(s, c))
        s->st.pending--;
    slot_freed(s, c);
}

/* constant time in the length of the stored secret */
static bool
same(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned d = (unsigned)(la ^ lb);

    for (size_t i = 0; i < lb; i++)
        d |= (unsigned)(b[i] ^ (i < la ? a[i] : 0));
    return d == 0;
}

static bool parse_session(struct sc_osrv *s, struct conn *c, uint64_t now);

/* A pending connection logged in: it moves to a session slot, with what it
 * sent after its login (orders may follow at once). */
static void
promote(struct sc_osrv *s, struct conn *p, const struct sc_soup_pkt *pkt, size_t used,
        uint64_t now)
{
    struct conn *c = NULL;
    struct epoll_event ev = { .events = EPOLLIN };
    uint64_t end;
    uint8_t b[64];
    int n;

    for (uint32_t i = 0; i < s->nsess && !c; i++)
        if (s->sess[i].fd < 0)
            c = &s->sess[i];
    if (!c) { /* closed, not rejected: a client retries later */
        conn_close(s, p, &s->st.refused_full);
        return;
    }
    ev.data.u32 = (uint32_t)(c - s->sess);
    if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, p->fd, &ev) < 0) {
        s->st.epoll_errors++;
        conn_close(s, p, &s->st.closed_peer);
        return;
    }
    c->fd = p->fd;
    slot_used(s, c);
    c->id = p->id;
    c->peer = p->peer;
    c->eos = false;
    c->readable = true; /* more may wait behind what this read took */
    memcpy(c->user, pkt->login.user, sizeof(c->user));
    c->rxlen = p->rxlen - used;
    memcpy(c->rx, p->rx + used, c->rxlen);
    c->out.len = 0;
    p->fd = -1;
    slot_freed(s, p);
    s->st.pending--;
    /* 0 = only new messages; N = from N (what the journal has, capped at durable + 1) */
    end = avail(s);
    if (pkt->login.seq > end + 1)
        s->st.login_seq_ahead++;
    c->next_seq = pkt->login.seq == 0 || pkt->login.seq > end + 1 ? end + 1 : pkt->login.seq;
    c->replay_end = end;
    c->gap = false;
    c->drained_ns = now;
    n = sc_soup_encode_login_accepted(b, sizeof(b), s->session_id, c->next_seq);
    sc_obuf_raw(&c->out, b, (size_t)n);
    c->last_rx_ns = c->last_tx_ns = now;
    s->st.logins++;
    parse_session(s, c, now);
}

/* Evaluate a login on a pending connection (which it leaves, one way or another). */
static void
on_login(struct sc_osrv *s, struct conn *c, const struct sc_soup_pkt *p, size_t used,
         uint64_t now)
{
    uint8_t b[16];
    bool ok = false;
    int n;

    if (locked_out(s, &c->peer, now)) { /* locked meanwhile: not even evaluated */
        conn_close(s, c, &s->st.login_locked_out);
        return;
    }
    for (uint32_t i = 0; i < s->s.nusers; i++)
        ok |= same(p->login.user, s->s.users[i].name) &
              same(p->login.password, s->s.users[i].password);
    ok |= s->open;
    if (ok && (!p->login.session[0] || !strcmp(p->login.session, s->session_id))) {
        promote(s, c, p, used, now);
        return;
    }
    if (!ok)
        login_failed(s, &c->peer, now);
    n = sc_soup_encode_login_rejected(b, sizeof(b), ok ? SC_SOUP_REJECT_NO_SESSION
                                                       : SC_SOUP_REJECT_NOT_AUTHORIZED);
    sc_obuf_raw(&c->out, b, (size_t)n);
    c->closing = true;
    (*(ok ? &s->st.login_rejected_session : &s->st.login_rejected_auth))++;
}

/* c broke the protocol (class rc): counted, closed. @return -1 */
static int
protocol_error(struct sc_osrv *s, struct conn *c, int rc)
{
    s->st.rx_bad[-rc]++;
    conn_close(s, c, &s->st.closed_protocol);
    return -1;
}

/* The next whole packet of c's input at *off. @return 1 (p filled, *off past
 * it), 0 when more bytes are needed (what was parsed is dropped from c->rx),
 * -1 when c sent a malformed one or one its state does not allow (counted by
 * class, c closed). */
static int
next_packet(struct sc_osrv *s, struct conn *c, size_t *off, struct sc_soup_pkt *p)
{
    int rc = sc_soup_parse(c->rx + *off, c->rxlen - *off, s->s.max_message, SC_SOUP_FROM_CLIENT,
                           p);

    if (rc == SC_PERR_NEED_MORE) {
        memmove(c->rx, c->rx + *off, c->rxlen - *off);
        c->rxlen -= *off;
        return 0;
    }
    if (rc < 0)
        return protocol_error(s, c, rc);
    *off += (size_t)rc;
    return 1;
}

/* Parse what a pending connection sent: debug packets, then its login.
 * @return true while it stays pending and readable. */
static bool
parse_pending(struct sc_osrv *s, struct conn *c, uint64_t now)
{
    struct sc_soup_pkt p;
    size_t off = 0;
    int r;

    while ((r = next_packet(s, c, &off, &p)) > 0) {
        if (p.type == SC_SOUP_LOGIN_REQUEST) {
            on_login(s, c, &p, off, now);
            return false;
        }
        if (p.type != SC_SOUP_DEBUG) /* anything else before a login */
            return protocol_error(s, c, SC_PERR_TYPE) > 0;
    }
    return r == 0;
}

/* Parse what a session sent. @return false if it is closed. */
static bool
parse_session(struct sc_osrv *s, struct conn *c, uint64_t now)
{
    struct sc_soup_pkt p;
    size_t off = 0;
    int r;

    (void)now;
    while ((r = next_packet(s, c, &off, &p)) > 0) {
        if (p.type == SC_SOUP_UNSEQUENCED) {
            s->st.rx_msgs++;
            if (s->on_msg)
                s->on_msg(s->ctx, c->id, c->user, p.payload, p.payload_len);
        } else if (p.type == SC_SOUP_LOGOUT_REQUEST) {
            conn_close(s, c, &s->st.closed_logout);
            return false;
        } else if (p.type == SC_SOUP_LOGIN_REQUEST) { /* a second login */
            return protocol_error(s, c, SC_PERR_TYPE) > 0;
        }
    }
    return r == 0;
}

/* @return 1 if it read anything or closed c, 0 if there was nothing */
static int
read_conn(struct sc_osrv *s, struct conn *c, uint64_t now)
{
    const size_t cap = 3 + s->s.max_message;
    const bool pending = is_pending(s, c);

    for (int reads = 0;; reads++) {
        size_t want = cap - c->rxlen;
        ssize_t n = read(c->fd, c->rx + c->rxlen, want);
        if (n == 0) {
            conn_close(s, c, &s->st.closed_peer);
            return 1;
        }
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR) {
                conn_close(s, c, &s->st.closed_peer);
                return 1;
            }
            return reads > 0;
        }
        c->rxlen += (size_t)n;
        if (!pending) /* a pending connection's deadline does not move */
            c->last_rx_ns = now;
        if (!(pending ? parse_pending(s, c, now) : parse_session(s, c, now)))
            return 1;
        if ((size_t)n < want)
            return 1; /* drained: epoll (level-triggered) reports anything newer */
    }
}

/* A free pending slot; when there is none, the oldest pending connection
 * makes room. */
static struct conn *
pending_slot(struct sc_osrv *s)
{
    struct conn *oldest = NULL;

    for (uint32_t i = 0; i < s->npend; i++) {
        struct conn *c = &s->pend[i];
        if (c->fd < 0)
            return c;
        if (!oldest || c->since_ns < oldest->since_ns)
            oldest = c;
    }
    conn_close(s, oldest, &s->st.pending_evicted);
    return oldest;
}

/* @return the connections taken off the listen queue (accepted or closed) */
static int
accept_new(struct sc_osrv *s, uint64_t now)
{
    int k;

    for (k = 0; k < ACCEPT_BURST; k++) {
        struct epoll_event ev = { .events = EPOLLIN };
        struct sc_opeer peer;
        struct conn *c;
        int fd = sc_osock_accept(s->lfd, &peer);

        if (fd == -EAGAIN || fd == -EINTR)
            return k;
        if (fd < 0) {
            s->st.accept_errors++;
            if ((fd == -EMFILE || fd == -ENFILE) && s->spare_fd >= 0) {
                /* out of descriptors: use the spare to take the connection off
                 * the queue and close it, or the listening socket stays ready
                 * and the loop spins */
                close(s->spare_fd);
                if ((fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
                    close(fd);
                s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
            }
            return k;
        }
        if (locked_out(s, &peer, now)) {
            close(fd);
            s->st.login_locked_out++;
            continue;
        }
        c = pending_slot(s);
        ev.data.u32 = TAG_PENDING | (uint32_t)(c - s->pend);
        if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            s->st.epoll_errors++;
            close(fd);
            continue;
        }
        c->fd = fd;
        slot_used(s, c);
        c->closing = false;
        c->readable = false;
        c->peer = peer;
        c->rxlen = 0;
        c->out.len = 0;
        c->id = ++s->next_id;
        c->since_ns = c->last_rx_ns = c->last_tx_ns = now;
        s->st.accepted++;
        s->st.connections++;
        s->st.pending++;
        /* a login sent with the connect is taken now: a client that logs in at
         * once is a session before later accepts of this burst could evict it */
        read_conn(s, c, now);
    }
    return k;
}

/* A source lacks c's next message: say which range and why in a Debug
 * packet, then close c once it is written (phase 3). */
static void
source_gap(struct sc_osrv *s, struct conn *c, int rc, uint64_t to)
{
    char t[96];
    int n;

    if (rc != -ENODATA && rc != -EBADMSG && rc != -ERANGE) { /* unreadable now */
        conn_close(s, c, &s->st.closed_journal);
        return;
    }
    if (to < c->next_seq)
        to = c->next_seq;
    n = snprintf(t, sizeof(t), "gap %llu %llu %s", (unsigned long long)c->next_seq,
                 (unsigned long long)to,
                 rc == -ENODATA ? "not_received" : rc == -EBADMSG ? "damaged" : "not_held");
    if (sc_obuf_packet(&c->out, SC_SOUP_DEBUG, t, (size_t)n) == 0)
        c->gap = true; /* else the buffer is full: after this write */
}

/* Queue source messages next_seq..last() while the output buffer has room,
 * at most SOURCE_PASS bytes, and what is left of SOURCE_WORK. */
static void
catch_up_source(struct sc_osrv *s, struct conn *c)
{
    uint64_t end = avail(s);
    size_t queued = 0, pass = s->work_left < SOURCE_PASS ? s->work_left : SOURCE_PASS;

    while (!c->gap && c->next_seq <= end && queued < pass) {
        uint64_t to = 0;
        const void *m = NULL;
        int n = s->src.get(s->src.ctx, (uint32_t)(c - s->sess), c->next_seq, &m, &to);
        if (n < 0) {
            source_gap(s, c, n, to);
            return;
        }
        if (sc_obuf_packet(&c->out, SC_SOUP_SEQUENCED, m, (size_t)n) < 0) {
            s->st.output_full++;
            return; /* full: more after this write */
        }
        queued += 3 + (size_t)n;
        s->work_left = s->work_left > 3 + (size_t)n ? s->work_left - 3 - (size_t)n : 0;
        s->st.replayed += c->next_seq <= c->replay_end;
        c->next_seq++;
        s->st.tx_sequenced++;
    }
}

/* Queue journal messages next_seq..durable while the output buffer has room. */
static void
catch_up(struct sc_osrv *s, struct conn *c)
{
    if (s->src.get) {
        catch_up_source(s, c);
        return;
    }
    while (c->next_seq <= s->j.durable) {
        const void *m;
        int n = sc_journal_get(&s->j, c->next_seq, s->msg, sizeof(s->msg), &m);
        if (n < 0) { /* on disk but unreadable now: it cannot be served past this */
            conn_close(s, c, &s->st.closed_journal);
            return;
        }
        if (sc_obuf_packet(&c->out, SC_SOUP_SEQUENCED, m, (size_t)n) < 0) {
            s->st.output_full++;
            return; /* full: more after this write */
        }
        s->st.replayed += c->next_seq <= c->replay_end;
        c->next_seq++;
        s->st.tx_sequenced++;
    }
}

int64_t
sc_osrv_send(struct sc_osrv *s, const void *msg, size_t len, uint64_t now_ns)
{
    int rc;

    (void)now_ns;
    if (s->src.get)
        return -EPERM;
    if (len > 65534)
        return -EMSGSIZE;
    if ((rc = sc_journal_append(&s->j, msg, (uint16_t)len)) < 0)
        return rc; /* counted by the journal; nothing appended */
    s->queued = true;
    return (int64_t)s->j.count;
}

void
sc_osrv_end_session(struct sc_osrv *s, uint64_t now_ns)
{
    (void)now_ns;
    s->ending = true; /* queued in phase 3, after each session's catch-up */
    s->queued = true;
}

static void
take_events(struct sc_osrv *s, int n, bool *listen_ready)
{
    for (int i = 0; i < n; i++) {
        uint32_t tag = s->evs[i].data.u32;
        if (tag == TAG_LISTEN)
            *listen_ready = true;
        else if (tag & TAG_PENDING) {
            if ((tag & ~TAG_PENDING) < s->npend)
                s->pend[tag & ~TAG_PENDING].readable = true;
        } else if (tag < s->nsess) {
            s->sess[tag].readable = true;
        }
    }
}

int
sc_osrv_wait(struct sc_osrv *s, uint64_t timeout_ns)
{
    if (s->nev < 0) { /* nothing kept from an earlier wait */
        s->nev = sc_osock_epoll_wait(s->epfd, s->evs, s->maxev, timeout_ns);
        if (s->nev <= 0) { /* the timeout, or EINTR: a signal (the caller looks at why) */
            if (s->nev < 0 && errno != EINTR)
                s->st.epoll_errors++;
            s->nev = -1;
            return 0;
        }
    }
    return 1;
}

static uint64_t
later(uint64_t t, uint64_t dt)
{
    return t > UINT64_MAX - dt ? UINT64_MAX : t + dt;
}

int
sc_osrv_do_work(struct sc_osrv *s, uint64_t now)
{
    uint64_t before, timer = UINT64_MAX;
    uint32_t hi;
    bool listen_ready = false;
    int work = 0, more = 0, rc;

    /* one system call says which sockets have something -- sc_osrv_wait's, if
     * the caller slept there: accept and read only those */
    if (s->nev < 0 && (s->nev = epoll_wait(s->epfd, s->evs, s->maxev, 0)) < 0 && errno != EINTR)
        s->st.epoll_errors++;
    take_events(s, s->nev, &listen_ready);
    s->nev = -1;
    if (listen_ready)
        work += accept_new(s, now);
    /* 1. read: logins, orders (acknowledgements are journaled) */
    for (uint32_t i = 0; i < s->pend_hi; i++) {
        struct conn *c = &s->pend[i];
        if (c->fd < 0 || c->closing)
            continue;
        if (c->readable) {
            c->readable = false;
            work += read_conn(s, c, now);
        }
        if (c->fd < 0 || c->closing)
            continue;
        if (now - c->since_ns >= s->s.login_timeout_ns) {
            conn_close(s, c, &s->st.closed_login_timeout);
            work++;
        } else if (later(c->since_ns, s->s.login_timeout_ns) < timer) {
            timer = later(c->since_ns, s->s.login_timeout_ns);
        }
    }
    for (uint32_t i = 0; i < s->sess_hi; i++) {
        struct conn *c = &s->sess[i];
        if (c->fd < 0)
            continue;
        if (c->readable) {
            c->readable = false;
            work += read_conn(s, c, now);
        }
        if (c->fd >= 0 && now - c->last_rx_ns >= s->s.timeout_ns) {
            conn_close(s, c, &s->st.closed_timeout);
            work++;
        }
    }
    /* 2. durable before sent (fsync: batch makes one fdatasync cover the batch);
     * what is journaled from here on (an on_lost callback's) is the next call's */
    s->queued = false;
    before = s->j.count;
    if ((rc = sc_journal_sync(&s->j)) < 0 && s->j.count < before && s->on_lost)
        s->on_lost(s->ctx, s->j.count + 1, before, rc);
    if (s->j.dirty && later(now, RETRY_NS) < timer) /* the sync failed: its cut is durable
                                                      * only once one works */
        timer = later(now, RETRY_NS);
    /* 3. send: rejections; replay, live messages, heartbeats -- one write per connection */
    for (uint32_t i = 0; i < s->pend_hi; i++)
        if (s->pend[i].fd >= 0 && s->pend[i].closing) {
            conn_close(s, &s->pend[i], NULL);
            work++;
        }
    s->work_left = SOURCE_WORK;
    hi = s->sess_hi;
    if (s->first >= hi)
        s->first = 0;
    for (uint32_t k = 0; k < hi; k++) {
        struct conn *c = &s->sess[(s->first + k) % hi];
        uint64_t due;
        if (c->fd < 0)
            continue;
        catch_up(s, c);
        if (s->src.get && !s->work_left && c->next_seq <= avail(s))
            more++; /* its turn comes after the agents beside this one */
        if (c->fd < 0) { /* closed: the journal cannot serve it */
            work++;
            continue;
        }
        if (s->ending && !c->eos && c->next_seq > (s->src.get ? avail(s) : s->j.count) &&
            sc_obuf_packet(&c->out, SC_SOUP_END_OF_SESSION, NULL, 0) == 0)
            c->eos = true;
        if (!c->out.len && now - c->last_tx_ns >= s->s.heartbeat_ns) {
            sc_obuf_packet(&c->out, SC_SOUP_SERVER_HEARTBEAT, NULL, 0);
            s->st.heartbeats++;
        }
        if (c->out.len) {
            size_t was = c->out.len;
            if (sc_obuf_flush(&c->out, c->fd) < 0) {
                conn_close(s, c, &s->st.closed_peer);
                work++;
                continue;
            }
            if (c->out.len < was) {
                c->last_tx_ns = now;
                c->drained_ns = now;
                work++;
                /* call again at once only while a replay makes progress: the
                 * epoll fd does not wake a poller for it (it waits on input) */
                more += c->out.len || c->next_seq <= avail(s);
            }
        }
        if (!c->out.len) {
            c->drained_ns = now;
            if (c->gap) { /* its Debug packet is out */
                conn_close(s, c, &s->st.closed_gap);
                work++;
                continue;
            }
        } else if (now - c->drained_ns >= s->s.timeout_ns) {
            /* a reader that took nothing for `timeout`: its output stays bounded */
            conn_close(s, c, &s->st.closed_slow);
            work++;
            continue;
        }
        /* its timers: the timeout; a heartbeat, or output the kernel refused */
        due = c->out.len ? later(now, RETRY_NS) : later(c->last_tx_ns, s->s.heartbeat_ns);
        if (c->out.len && later(c->drained_ns, s->s.timeout_ns) < due)
            due = later(c->drained_ns, s->s.timeout_ns);
        if (later(c->last_rx_ns, s->s.timeout_ns) < due)
            due = later(c->last_rx_ns, s->s.timeout_ns);
        if (due < timer)
            timer = due;
    }
    s->first++; /* the next do_work's SOURCE_WORK starts one session on */
    s->more = more > 0;
    s->timer = timer;
    return work;
}

uint64_t
sc_osrv_deadline(const struct sc_osrv *s, uint64_t now_ns)
{
    /* a replay with output ready, messages journaled (or End of Session) since
     * the last do_work, readiness a wait learnt: at once */
    if (s->more || s->queued || s->nev > 0)
        return now_ns;
    return s->timer;
}

int
sc_osrv_fd(const struct sc_osrv *s)
{
    return s->epfd;
}

SC_AGENT_DEFINE(osrv, struct sc_osrv)

uint64_t
sc_osrv_durable(const struct sc_osrv *s)
{
    return s->j.durable;
}

int
sc_osrv_read(struct sc_osrv *s, uint64_t seq, void *buf, size_t cap)
{
    return sc_journal_read(&s->j, seq, buf, cap);
}

void
sc_osrv_on_lost(struct sc_osrv *s, sc_osrv_lost_fn *on_lost)
{
    s->on_lost = on_lost;
}

struct sc_journal *
sc_osrv_journal(struct sc_osrv *s)
{
    return &s->j;
}

void
sc_osrv_get_stats(const struct sc_osrv *s, struct sc_osrv_stats *st)
{
    *st = s->st;
    st->journal_msgs = s->j.count;
    st->journal_durable = s->j.durable;
    st->journal_torn_bytes = s->j.torn_bytes;
    st->journal_syncs = s->j.syncs;
    st->journal_write_errors = s->j.write_errors;
    st->journal_sync_errors = s->j.sync_errors;
    st->journal_rolled_back = s->j.rolled_back;
    st->journal_read_errors = s->j.read_errors;
}

static int
fail(struct sc_err *err, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
fail(struct sc_err *err, int rc, const char *fmt, ...)
{
    va_list ap;

    if (err) {
        err->code = rc;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return rc;
}

int
sc_osrv_repair(const struct sc_session_cfg *session, time_t stamp, struct sc_journal_repair *r,
               struct sc_err *err)
{
    if (!session->journal[0]) {
        memset(r, 0, sizeof(*r));
        return fail(err, -EINVAL, "session %.40s: its journal is in memory only", session->name);
    }
    return sc_journal_repair(session->journal, stamp, r, err);
}

/* Room for every connection the tables allow: raise the soft limit if it is
 * lower (up to the hard one), else say what is needed. */
static int
enough_fds(const struct sc_session_cfg *sc, struct sc_err *err)
{
    rlim_t need = (rlim_t)sc->max_connections + sc->max_pending + FD_MARGIN;
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
        return 0;
    if (rl.rlim_max >= need) {
        rl.rlim_cur = need;
        if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
            return 0;
    }
    return fail(err, -EMFILE, "session %.40s: max_connections + max_pending need %llu file "
                              "descriptors; the limit is %llu (ulimit -n)",
                sc->name, (unsigned long long)need, (unsigned long long)rl.rlim_max);
}

/* A table of n connections, every one closed. @return NULL without memory
 * (what was allocated is freed by conns_fini). */
static struct conn *
conns_new(struct conn **t, uint32_t n, size_t rx, size_t out)
{
    if (!(*t = calloc(n, sizeof(**t))))
        return NULL;
    for (uint32_t i = 0; i < n; i++)
        (*t)[i].fd = -1;
    for (uint32_t i = 0; i < n; i++)
        if (!((*t)[i].rx = malloc(rx)) || sc_obuf_init(&(*t)[i].out, out) < 0)
            return NULL;
    return *t;
}

static void
conns_fini(struct sc_osrv *s, struct conn *t, uint32_t n)
{
    for (uint32_t i = 0; t && i < n; i++) {
        conn_close(s, &t[i], NULL);
        free(t[i].rx);
        sc_obuf_fini(&t[i].out);
    }
    free(t);
}

static int
create(struct sc_osrv **out, const struct sc_session_cfg *sc, const struct sc_osrv_source *src,
       sc_osrv_msg_fn *on_msg, void *ctx, struct sc_err *err)
{
    struct sc_osrv *s;
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = TAG_LISTEN };
    uint32_t ways;
    int rc;

    if ((rc = enough_fds(sc, err)) < 0)
        return rc;
    if (!(s = calloc(1, sizeof(*s))))
        return fail(err, -ENOMEM, "session %.40s: out of memory", sc->name);
    s->s = *sc;
    snprintf(s->session_id, sizeof(s->session_id), "%.10s", sc->session_id[0] ? sc->session_id
                                                                           : sc->name);
    s->on_msg = on_msg;
    s->ctx = ctx;
    if (src) {
        s->src = *src;
        s->open = sc->nusers == 0;
    }
    s->lfd = s->epfd = s->spare_fd = -1;
    s->j.fd = -1;
    s->nev = -1;
    s->timer = UINT64_MAX;
    s->nsess = sc->max_connections;
    s->npend = sc->max_pending;
    s->maxev = (int)(s->nsess + s->npend + 1);
    for (ways = WAYS; ways < sc->lockout_addresses; ways *= 2)
        ;
    s->nbuckets = ways / WAYS;
    if (getrandom(&s->seed, sizeof(s->seed), GRND_NONBLOCK) != sizeof(s->seed))
        s->seed = (uint64_t)(uintptr_t)s * 0x9E3779B97F4A7C15ull;
    if (!conns_new(&s->sess, s->nsess, 3 + sc->max_message, OUT_BUF) ||
        !conns_new(&s->pend, s->npend, 3 + sc->max_message, PENDING_OUT) ||
        !(s->evs = calloc((size_t)s->maxev, sizeof(*s->evs))) ||
        !(s->guard = calloc(ways, sizeof(*s->guard)))) {
        rc = fail(err, -ENOMEM, "session %.40s: out of memory for %u + %u connections",
                  sc->name, s->nsess, s->npend);
        goto out_free;
    }
    if (!src && (rc = sc_journal_open(&s->j, sc->journal, sc->fsync, err)) < 0)
        goto out_free;
    if ((rc = sc_osock_listen(sc->listen, err)) < 0)
        goto out_free;
    s->lfd = rc;
    if ((s->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
        epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->lfd, &ev) < 0) {
        rc = fail(err, -errno, "session %.40s: epoll: %s", sc->name, strerror(errno));
        goto out_free;
    }
    s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    *out = s;
    return 0;

out_free:
    sc_osrv_destroy(s);
    return rc;
}

int
sc_osrv_create(struct sc_osrv **out, const struct sc_config *cfg, const char *session,
               sc_osrv_msg_fn *on_msg, void *ctx, struct sc_err *err)
{
    const struct sc_session_cfg *sc = sc_session_find(cfg, session, true, err);

    if (!sc)
        return -ENOENT;
    return create(out, sc, NULL, on_msg, ctx, err);
}

int
sc_osrv_create_source(struct sc_osrv **out, const struct sc_session_cfg *sc,
                      const struct sc_osrv_source *src, struct sc_err *err)
{
    if (!src || !src->get || !src->last)
        return fail(err, -EINVAL, "session %.40s: no message source", sc->name);
    return create(out, sc, src, NULL, NULL, err);
}

/* Decimal digits then a space, below UINT64_MAX (TO + 1 is a sequence).
 * @return past the space, or NULL */
static const char *
gap_num(const char *p, uint64_t *v)
{
    const char *q = p;
    uint64_t x = 0;

    for (; *q >= '0' && *q <= '9'; q++) {
        if (x > (UINT64_MAX - 1 - (uint64_t)(*q - '0')) / 10)
            return NULL;
        x = x * 10 + (uint64_t)(*q - '0');
    }
    if (q == p || *q != ' ')
        return NULL;
    *v = x;
    return q + 1;
}

int
sc_osrv_parse_gap(const void *payload, size_t len, uint64_t *from, uint64_t *to, char *reason,
                  size_t cap)
{
    char t[96], r[32];
    const char *p;
    uint64_t a, b;

    if (len < 4 || len >= sizeof(t) || memcmp(payload, "gap ", 4))
        return -EINVAL;
    memcpy(t, payload, len);
    t[len] = 0;
    /* strictly digits: sscanf's %llu takes "-1" (UINT64_MAX), signs and blanks */
    if (!(p = gap_num(t + 4, &a)) || !(p = gap_num(p, &b)) || sscanf(p, "%31s", r) != 1 ||
        !a || b < a)
        return -EINVAL;
    *from = a;
    *to = b;
    if (reason && cap)
        snprintf(reason, cap, "%s", r);
    return 0;
}

void
sc_osrv_destroy(struct sc_osrv *s)
{
    if (!s)
        return;
    conns_fini(s, s->sess, s->nsess);
    conns_fini(s, s->pend, s->npend);
    if (s->lfd >= 0)
        close(s->lfd);
    if (s->epfd >= 0)
        close(s->epfd);
    if (s->spare_fd >= 0)
        close(s->spare_fd);
    sc_journal_close(&s->j);
    free(s->evs);
    free(s->guard);
    free(s);
}
