/* The rewind client (engine/rewind.h has the contract). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/order_int.h"
#include "engine/osock.h"
#include <seqcast/rewind.h>
#include <seqcast/proto/soup.h>

enum state { DOWN, CONNECTING, LOGGING_IN, UP, DONE };

#define RX_CAP (1u << 18)  /* input buffer: several packets per read */
#define READS_PER_WORK 16  /* reads per do_work: a fast server does not starve the caller */

struct sc_rewind {
    struct sc_rewind_cfg c;
    enum state st;
    int fd, epfd;
    uint32_t cur;          /* the server connected or tried next */
    uint32_t fails;        /* connections in a row that failed before a login */
    uint64_t next;         /* the next sequence to deliver */
    uint64_t until;        /* 0: no end */
    uint64_t seq;          /* the sequence of the server's next Sequenced Data */
    uint64_t retry_at, last_rx, last_tx, since; /* last_rx: a whole packet */
    uint32_t lack;         /* servers that lack `next` (a bit each) */
    uint64_t lack_to;      /* the smallest end of the range they lack */
    char reason[32];
    bool more;             /* input left unread */
    sc_rewind_msg_fn *on_msg;
    sc_rewind_gap_fn *on_gap;
    void *ctx;
    struct sc_rewind_stats st_;
    size_t rxlen;
    uint8_t rx[RX_CAP];
};

static void
disconnect(struct sc_rewind *r)
{
    if (r->fd >= 0) {
        epoll_ctl(r->epfd, EPOLL_CTL_DEL, r->fd, NULL);
        close(r->fd);
    }
    r->fd = -1;
    r->rxlen = 0;
    r->more = false;
    if (r->st != DONE)
        r->st = DOWN;
}

/* The connection to the current server failed (or it lacks a range): the
 * next server, at once, or after reconnect_ns once every one failed in turn. */
static void
failover(struct sc_rewind *r, uint64_t now)
{
    disconnect(r);
    if (r->lack) /* a server that cannot answer cannot fill the gap either */
        r->lack |= 1u << r->cur;
    r->cur = (r->cur + 1) % r->c.nservers;
    r->st_.failovers++;
    r->retry_at = ++r->fails >= r->c.nservers ? now + r->c.reconnect_ns : now;
    if (r->fails >= r->c.nservers)
        r->fails = 0;
}

static void
deliver(struct sc_rewind *r, const uint8_t *m, size_t len)
{
    uint64_t seq = r->seq++;

    if (seq < r->next) {
        r->st_.duplicates++;
        return;
    }
    r->next = seq + 1;
    r->lack = 0;
    r->fails = 0; /* progress, not a login: a server that accepts and drops is a failure */
    r->st_.msgs++;
    r->st_.bytes += len;
    if (r->on_msg)
        r->on_msg(r->ctx, seq, m, len);
}

static void
send_pkt(struct sc_rewind *r, const uint8_t *b, size_t n, uint64_t now)
{
    /* a login, a heartbeat or a logout: tiny, the socket's buffer takes it */
    if (send(r->fd, b, n, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)n)
        r->last_tx = now;
}

static void
finish(struct sc_rewind *r, uint64_t now)
{
    uint8_t b[3];
    int n;

    if (r->fd >= 0 && (n = sc_soup_encode(b, sizeof(b), SC_SOUP_LOGOUT_REQUEST, NULL, 0)) > 0)
        send_pkt(r, b, (size_t)n, now);
    r->st = DONE;
    disconnect(r);
}

/* A Debug packet naming a range the server lacks: ask the others, or report
 * it once every server lacks it. */
static void
gap_seen(struct sc_rewind *r, uint64_t from, uint64_t to, const char *why, uint64_t now)
{
    uint32_t all = (r->c.nservers >= 32 ? 0 : 1u << r->c.nservers) - 1;

    r->st_.gaps_seen++;
    if (from > r->next) /* messages before it are still owed: another server */
        to = from - 1, why = "cut";
    if (!r->lack || to < r->lack_to)
        r->lack_to = to;
    r->lack |= 1u << r->cur;
    snprintf(r->reason, sizeof(r->reason), "%s", why);
    disconnect(r);
    if ((r->lack & all) == all) {
        uint64_t a = r->next, b = r->lack_to;
        r->st_.gaps_final++;
        r->st_.gap_msgs += b - a + 1;
        r->next = b + 1;
        r->lack = 0;
        if (r->on_gap)
            r->on_gap(r->ctx, a, b, r->reason);
        r->retry_at = now; /* the same server, past the gap */
        if (r->until && r->next > r->until)
            finish(r, now);
        return;
    }
    do
        r->cur = (r->cur + 1) % r->c.nservers;
    while (r->lack & (1u << r->cur));
    r->st_.failovers++;
    r->retry_at = now;
}

/* @return false when the connection is gone */
static bool
parse(struct sc_rewind *r, uint64_t now)
{
    size_t off = 0;

    while (r->fd >= 0) {
        struct sc_soup_pkt p;
        int rc = sc_soup_parse(r->rx + off, r->rxlen - off, SC_SOUP_MAX_PAYLOAD,
                               SC_SOUP_FROM_SERVER, &p);
        if (rc == SC_PERR_NEED_MORE)
            break;
        if (rc < 0) {
            r->st_.protocol_errors++;
            failover(r, now);
            return false;
        }
        off += (size_t)rc;
        r->last_rx = now; /* a whole packet: bytes trickled into one do not hold it */
        switch (p.type) {
        case SC_SOUP_LOGIN_ACCEPTED:
            if (r->st != LOGGING_IN) {
                r->st_.protocol_errors++;
                failover(r, now);
                return false;
            }
            if (!p.accepted.seq) { /* sequences start at 1: its numbering is unusable */
                r->st_.protocol_errors++;
                failover(r, now);
                return false;
            }
            r->st = UP;
            r->seq = p.accepted.seq;
            r->st_.logins++;
            if (r->seq > r->next) { /* it starts past what was asked: it lacks next..seq-1,
                                     * as a gap would say; delivering would skip them */
                gap_seen(r, r->next, r->seq - 1, "skipped", now);
                return false;
            }
            break;
        case SC_SOUP_LOGIN_REJECTED:
            r->st_.rejected++;
            failover(r, now);
            return false;
        case SC_SOUP_SEQUENCED:
            if (r->st != UP) {
                r->st_.protocol_errors++;
                failover(r, now);
                return false;
            }
            deliver(r, p.payload, p.payload_len);
            if (r->until && r->next > r->until) {
                finish(r, now);
                return false;
            }
            break;
        case SC_SOUP_DEBUG: {
            uint64_t from, to;
            char why[32];
            if (r->st == UP &&
                sc_osrv_parse_gap(p.payload, p.payload_len, &from, &to, why, sizeof(why)) == 0 &&
                to >= r->next && from == r->seq) {
                gap_seen(r, from, to, why, now);
                return false;
            }
            break;
        }
        case SC_SOUP_END_OF_SESSION:
            failover(r, now);
            return false;
        default: /* a heartbeat */
            break;
        }
    }
    memmove(r->rx, r->rx + off, r->rxlen - off);
    r->rxlen -= off;
    return true;
}

static int
connect_next(struct sc_rewind *r, uint64_t now)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT};
    struct sc_err err;
    bool inprog;
    int fd = sc_osock_connect(r->c.servers[r->cur], &inprog, &err);

    r->st_.connects++;
    if (fd < 0) {
        failover(r, now);
        return 1;
    }
    r->fd = fd;
    r->since = r->last_rx = now;
    epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev);
    r->st = CONNECTING;
    return 1;
}

static void
login(struct sc_rewind *r, uint64_t now)
{
    struct epoll_event ev = {.events = EPOLLIN};
    uint8_t b[64];
    int n = sc_soup_encode_login_request(b, sizeof(b), r->c.user, r->c.password, "", r->next);

    epoll_ctl(r->epfd, EPOLL_CTL_MOD, r->fd, &ev);
    if (n > 0)
        send_pkt(r, b, (size_t)n, now);
    r->st = LOGGING_IN;
    r->last_rx = now;
}

int
sc_rewind_do_work(struct sc_rewind *r, uint64_t now)
{
    int work = 0;

    if (r->st == DONE)
        return 0;
    if (r->st == DOWN) {
        if (now < r->retry_at)
            return 0;
        work += connect_next(r, now);
    }
    if (r->st == CONNECTING) {
        int e = 0;
        socklen_t l = sizeof(e);
        struct epoll_event ev;
        if (epoll_wait(r->epfd, &ev, 1, 0) == 1) {
            if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &e, &l) < 0 || e) {
                failover(r, now);
                return work + 1;
            }
            login(r, now);
            work++;
        } else if (now - r->since >= r->c.timeout_ns) {
            r->st_.timeouts++;
            failover(r, now);
            return work + 1;
        } else {
            return work;
        }
    }
    r->more = false;
    for (int k = 0; k < READS_PER_WORK && r->fd >= 0; k++) {
        size_t want = sizeof(r->rx) - r->rxlen;
        ssize_t n = recv(r->fd, r->rx + r->rxlen, want, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            failover(r, now);
            return work + 1;
        }
        if (n < 0)
            break;
        work++;
        r->rxlen += (size_t)n;
        if (!parse(r, now))
            return work;
        if ((size_t)n < want)
            break;
        r->more = k + 1 == READS_PER_WORK;
    }
    if (r->fd < 0)
        return work;
    if (now - r->last_rx >= r->c.timeout_ns) {
        r->st_.timeouts++;
        failover(r, now);
        return work + 1;
    }
    if (now - r->last_tx >= r->c.heartbeat_ns) {
        uint8_t b[3];
        int n = sc_soup_encode(b, sizeof(b), SC_SOUP_CLIENT_HEARTBEAT, NULL, 0);
        send_pkt(r, b, (size_t)n, now);
        work++;
    }
    return work;
}

uint64_t
sc_rewind_deadline(const struct sc_rewind *r, uint64_t now)
{
    uint64_t d;

    if (r->st == DONE)
        return UINT64_MAX;
    if (r->st == DOWN)
        return r->retry_at;
    if (r->more)
        return now;
    d = r->last_rx + r->c.timeout_ns;
    if (r->st != CONNECTING && r->last_tx + r->c.heartbeat_ns < d)
        d = r->last_tx + r->c.heartbeat_ns;
    return d;
}

int
sc_rewind_fd(const struct sc_rewind *r)
{
    return r->epfd;
}

int
sc_rewind_wait(struct sc_rewind *r, uint64_t timeout_ns)
{
    struct epoll_event ev;

    /* between connections the epoll holds nothing: this sleeps timeout_ns */
    return sc_osock_epoll_wait(r->epfd, &ev, 1, timeout_ns) > 0;
}

SC_AGENT_DEFINE(rewind, struct sc_rewind)

uint64_t
sc_rewind_next(const struct sc_rewind *r)
{
    return r->next;
}

bool
sc_rewind_done(const struct sc_rewind *r)
{
    return r->st == DONE;
}

uint32_t
sc_rewind_server(const struct sc_rewind *r)
{
    return r->cur;
}

void
sc_rewind_get_stats(const struct sc_rewind *r, struct sc_rewind_stats *st)
{
    *st = r->st_;
}

int
sc_rewind_create(struct sc_rewind **out, const struct sc_rewind_cfg *cfg, uint64_t from,
                 uint64_t until, sc_rewind_msg_fn *on_msg, sc_rewind_gap_fn *on_gap, void *ctx,
                 struct sc_err *err)
{
    struct sc_rewind *r;

    *out = NULL;
    if (!cfg->nservers || cfg->nservers > SC_REWIND_MAX_SERVERS || !from ||
        (until && until < from) || !cfg->timeout_ns || !cfg->heartbeat_ns) {
        if (err) {
            err->code = -EINVAL;
            snprintf(err->msg, sizeof(err->msg),
                     "rewind: 1 to %d servers, a start from 1, a timeout and a heartbeat",
                     SC_REWIND_MAX_SERVERS);
        }
        return -EINVAL;
    }
    if (!(r = calloc(1, sizeof(*r))))
        return -ENOMEM;
    r->c = *cfg;
    r->fd = -1;
    if ((r->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
        int rc = -errno;
        free(r);
        if (err) {
            err->code = rc;
            snprintf(err->msg, sizeof(err->msg), "rewind: epoll: %s", strerror(-rc));
        }
        return rc;
    }
    r->next = from;
    r->until = until;
    r->on_msg = on_msg;
    r->on_gap = on_gap;
    r->ctx = ctx;
    *out = r;
    return 0;
}

void
sc_rewind_destroy(struct sc_rewind *r)
{
    if (!r)
        return;
    disconnect(r);
    close(r->epfd);
    free(r);
}
