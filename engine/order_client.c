/* SoupBinTCP order client: connect, log in asking for the next expected
 * sequence, deliver sequenced messages, heartbeat, and on silence or a lost
 * connection reconnect with back-off (reconnect.min doubling to .max) and
 * resume where it left off. Rejection and End of Session are final.
 *
 * Its fd is an epoll fd that lives as long as the client: the connection's
 * socket is in it, for input, or for the connect's completion while
 * connecting; between connections it holds nothing. So a runner (or any
 * poller) can sleep on it in every state -- a -1 would mean "poll mode: spin". */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <seqcast/order.h>

#include "engine/osock.h"
#include <seqcast/proto/soup.h>

enum state { DOWN, CONNECTING, LOGGING_IN, UP, DONE };

#define RETRY_NS 1000000u        /* output the kernel refused: again after */
#define WAIT_READ_MIN_NS 10000000u /* a wait this long sleeps in the read (timed in
                                    * scheduler ticks); a shorter one in ppoll */

struct sc_ocli {
    struct sc_session_cfg s;
    enum state st;
    int fd;
    int epfd;             /* holds fd (see above) */
    bool blocked;         /* the last write left output the kernel did not take */
    uint64_t next_seq;    /* next sequenced message expected; 0 = "only new" until login */
    uint64_t backoff_ns, retry_at_ns;
    uint64_t last_rx_ns, last_tx_ns;
    sc_ocli_msg_fn *on_msg;
    sc_ocli_event_fn *on_event;
    void *ctx;
    struct sc_ocli_stats stats;
    /* sc_ocli_wait: the socket turned blocking (every other call passes
     * MSG_DONTWAIT), its receive timeout, and what its read left for do_work */
    bool blocking;
    uint64_t rcvtimeo_us;
    int waited; /* 0: nothing; 1: bytes read (short: the socket is drained); 2: the peer closed */
    bool waited_short;
    size_t rxlen;
    uint8_t rx[3 + 65535];
    struct sc_obuf out;
};

static void
event(struct sc_ocli *c, enum sc_ocli_event ev, uint64_t arg)
{
    if (c->on_event)
        c->on_event(c->ctx, ev, arg);
}

static void
drop(struct sc_ocli *c, uint64_t now, uint64_t why)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->rxlen = 0;
    c->out.len = 0;
    c->blocked = false;
    c->blocking = false;
    c->rcvtimeo_us = 0;
    c->waited = 0;
    if (c->st == DONE)
        return;
    c->st = DOWN;
    c->retry_at_ns = now + c->backoff_ns;
    c->backoff_ns = c->backoff_ns * 2 > c->s.reconnect_max_ns ? c->s.reconnect_max_ns
                                                              : c->backoff_ns * 2;
    c->stats.disconnects++;
    event(c, SC_OCLI_DISCONNECTED, why);
}

static void
start(struct sc_ocli *c, uint64_t now)
{
    struct epoll_event ev = { .events = EPOLLOUT }; /* the connect's completion */
    bool pending;
    int fd = sc_osock_connect(c->s.connect, &pending, NULL);

    c->stats.connects++;
    if (fd >= 0 && epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        close(fd);
        fd = -1;
    }
    if (fd < 0) {
        c->retry_at_ns = now + c->backoff_ns;
        c->backoff_ns = c->backoff_ns * 2 > c->s.reconnect_max_ns ? c->s.reconnect_max_ns
                                                                  : c->backoff_ns * 2;
        return;
    }
    c->fd = fd;
    c->st = CONNECTING;
    c->last_rx_ns = c->last_tx_ns = now;
}

static void
send_login(struct sc_ocli *c, uint64_t now)
{
    uint8_t b[64];
    int n = sc_soup_encode_login_request(b, sizeof(b), c->s.login.name, c->s.login.password,
                                         c->s.session_id[0] ? c->s.session_id : "", c->next_seq);
    if (n > 0)
        sc_obuf_raw(&c->out, b, (size_t)n);
    c->st = LOGGING_IN;
    c->last_tx_ns = now;
}

static void
on_packet(struct sc_ocli *c, const struct sc_soup_pkt *p, uint64_t now)
{
    switch (p->type) {
    case SC_SOUP_LOGIN_ACCEPTED:
        if (c->next_seq && p->accepted.seq > c->next_seq)
            event(c, SC_OCLI_GAP, c->next_seq); /* the server no longer has what we asked for */
        if (c->next_seq && p->accepted.seq < c->next_seq)
            event(c, SC_OCLI_REWOUND, p->accepted.seq); /* it lost what we had from it */
        c->next_seq = p->accepted.seq;
        c->st = UP;
        c->backoff_ns = c->s.reconnect_min_ns;
        c->stats.logins++;
        event(c, SC_OCLI_LOGGED_IN, c->next_seq);
        break;
    case SC_SOUP_LOGIN_REJECTED:
        c->st = DONE;
        event(c, SC_OCLI_REJECTED, (uint64_t)(unsigned char)p->reject_reason);
        break;
    case SC_SOUP_SEQUENCED:
        c->stats.rx_sequenced++;
        c->on_msg(c->ctx, c->next_seq++, p->payload, p->payload_len);
        break;
    case SC_SOUP_SERVER_HEARTBEAT:
        c->stats.rx_heartbeats++;
        break;
    case SC_SOUP_END_OF_SESSION:
        c->st = DONE;
        event(c, SC_OCLI_END_OF_SESSION, 0);
        break;
    }
    (void)now;
}

/* @return the packets handled, + 1 if the connection ended */
static int
read_sock(struct sc_ocli *c, uint64_t now)
{
    int work = 0;

    for (;;) {
        size_t want = sizeof(c->rx) - c->rxlen, off = 0;
        ssize_t n;
        if (c->waited == 2) { /* sc_ocli_wait heard the peer close */
            drop(c, now, 0);
            return work + 1;
        }
        if (c->waited == 1) { /* sc_ocli_wait read these already */
            c->waited = 0;
            n = c->waited_short ? 0 : (ssize_t)want; /* drained, or read on */
        } else {
            n = recv(c->fd, c->rx + c->rxlen, want, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                drop(c, now, 0);
                return work + 1;
            }
            if (n < 0)
                return work;
            c->rxlen += (size_t)n;
        }
        c->last_rx_ns = now;
        for (;;) {
            struct sc_soup_pkt p;
            int rc = sc_soup_parse(c->rx + off, c->rxlen - off, SC_SOUP_MAX_PAYLOAD,
                                   SC_SOUP_FROM_SERVER, &p);
            if (rc == SC_PERR_NEED_MORE)
                break;
            if (rc < 0) {
                c->stats.rx_bad[-rc]++;
                drop(c, now, 2);
                return work + 1;
            }
            off += (size_t)rc;
            on_packet(c, &p, now);
            work++;
            if (c->st == DONE) {
                drop(c, now, 0);
                return work + 1;
            }
        }
        memmove(c->rx, c->rx + off, c->rxlen - off);
        c->rxlen -= off;
        if ((size_t)n < want)
            return work; /* drained: no second read just to hear EAGAIN */
    }
}

int
sc_ocli_send(struct sc_ocli *c, const void *msg, size_t len, uint64_t now_ns)
{
    if (c->st != UP)
        return -ENOTCONN;
    if (sc_obuf_packet(&c->out, SC_SOUP_UNSEQUENCED, msg, len) < 0)
        return -ENOBUFS;
    c->stats.tx_unsequenced++;
    c->last_tx_ns = now_ns;
    return 0;
}

void
sc_ocli_logout(struct sc_ocli *c, uint64_t now_ns)
{
    if (c->fd >= 0) {
        sc_obuf_packet(&c->out, SC_SOUP_LOGOUT_REQUEST, NULL, 0);
        sc_obuf_flush(&c->out, c->fd);
    }
    c->st = DONE;
    drop(c, now_ns, 0);
}

int
sc_ocli_do_work(struct sc_ocli *c, uint64_t now)
{
    int work = 0;

    switch (c->st) {
    case DONE:
        return 0;
    case DOWN:
        if (now < c->retry_at_ns)
            return 0;
        start(c, now);
        return 1;
    case CONNECTING: {
        struct pollfd p = { .fd = c->fd, .events = POLLOUT };
        struct epoll_event ev = { .events = EPOLLIN };
        int e = 0;
        socklen_t l = sizeof(e);
        if (poll(&p, 1, 0) <= 0) {
            if (now - c->last_rx_ns < c->s.timeout_ns)
                return 0;
            drop(c, now, 1);
            return 1;
        }
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &l);
        if (e || epoll_ctl(c->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) { /* now: input */
            drop(c, now, 0);
            return 1;
        }
        send_login(c, now);
        work++;
        break;
    }
    default:
        break;
    }
    work += read_sock(c, now);
    if (c->fd < 0)
        return work;
    if (now - c->last_rx_ns >= c->s.timeout_ns) {
        c->stats.timeouts++;
        drop(c, now, 1);
        return work + 1;
    }
    if (c->st == UP && !c->out.len && now - c->last_tx_ns >= c->s.heartbeat_ns) {
        sc_obuf_packet(&c->out, SC_SOUP_CLIENT_HEARTBEAT, NULL, 0);
        c->stats.tx_heartbeats++;
    }
    return work + sc_ocli_flush(c, now);
}

int
sc_ocli_flush(struct sc_ocli *c, uint64_t now)
{
    if (c->fd < 0 || c->st == CONNECTING || !c->out.len)
        return 0;
    if (sc_obuf_flush(&c->out, c->fd) < 0) {
        drop(c, now, 0);
        return 1;
    }
    c->blocked = c->out.len > 0;
    c->last_tx_ns = now;
    return 1;
}

static uint64_t
later(uint64_t t, uint64_t dt)
{
    return t > UINT64_MAX - dt ? UINT64_MAX : t + dt;
}

uint64_t
sc_ocli_deadline(const struct sc_ocli *c, uint64_t now_ns)
{
    uint64_t d;

    switch (c->st) {
    case DONE: return UINT64_MAX;
    case DOWN: return c->retry_at_ns;
    case CONNECTING: return later(c->last_rx_ns, c->s.timeout_ns); /* or the fd: connected */
    default: break;
    }
    if (c->waited || (c->out.len && !c->blocked))
        return now_ns; /* bytes a wait read, output queued since the last write */
    d = c->out.len ? later(now_ns, RETRY_NS)
        : c->st == UP ? later(c->last_tx_ns, c->s.heartbeat_ns) : UINT64_MAX;
    return later(c->last_rx_ns, c->s.timeout_ns) < d ? later(c->last_rx_ns, c->s.timeout_ns) : d;
}

int
sc_ocli_wait(struct sc_ocli *c, uint64_t timeout_ns)
{
    size_t want = sizeof(c->rx) - c->rxlen;
    uint64_t us;
    ssize_t n;

    if (c->st != UP && c->st != LOGGING_IN) { /* between connections, or connecting */
        struct epoll_event ev;
        return sc_osock_epoll_wait(c->epfd, &ev, 1, timeout_ns) > 0;
    }
    if (c->waited || !want)
        return 1; /* what the last wait read is still to be parsed */
    if (timeout_ns < WAIT_READ_MIN_NS) { /* a timer close by: to the microsecond */
        struct pollfd p = { .fd = c->fd, .events = POLLIN };
        return ppoll(&p, 1, &(struct timespec){ 0, (long)timeout_ns }, NULL) > 0;
    }
    /* whole milliseconds (the kernel counts this timeout in ticks anyway): a
     * caller passing its deadline's remainder changes it, and pays a
     * setsockopt, once a millisecond at most rather than on every call */
    us = (timeout_ns + 999999) / 1000000 * 1000;
    if (us != c->rcvtimeo_us) { /* first, so a blocking read always has a timeout */
        struct timeval tv = { (time_t)(us / 1000000u), (suseconds_t)(us % 1000000u) };
        if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
            return 0;
        c->rcvtimeo_us = us;
    }
    if (!c->blocking) {
        int fl = fcntl(c->fd, F_GETFL);
        if (fl < 0 || fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
            return 0;
        c->blocking = true;
    }
    n = recv(c->fd, c->rx + c->rxlen, want, 0);
    if (n > 0) {
        c->rxlen += (size_t)n;
        c->waited = 1;
        c->waited_short = (size_t)n < want;
        return 1;
    }
    if (n == 0) {
        c->waited = 2;
        return 1;
    }
    return 0; /* the timeout (EAGAIN), a signal, or an error the next do_work's read meets */
}

int
sc_ocli_fd(const struct sc_ocli *c)
{
    return c->epfd;
}

bool
sc_ocli_logged_in(const struct sc_ocli *c)
{
    return c->st == UP;
}

SC_AGENT_DEFINE(ocli, struct sc_ocli)

void
sc_ocli_get_stats(const struct sc_ocli *c, struct sc_ocli_stats *st)
{
    *st = c->stats;
    st->next_seq = c->next_seq;
}

int
sc_ocli_create(struct sc_ocli **out, const struct sc_config *cfg, const char *session,
               uint64_t first_seq, sc_ocli_msg_fn *on_msg, sc_ocli_event_fn *on_event, void *ctx,
               struct sc_err *err)
{
    const struct sc_session_cfg *sc = sc_session_find(cfg, session, false, err);
    struct sc_ocli *c;
    int rc;

    if (!sc)
        return -ENOENT;
    if (!(c = calloc(1, sizeof(*c))) || sc_obuf_init(&c->out, 1u << 20) < 0) {
        free(c);
        if (err) {
            err->code = -ENOMEM;
            snprintf(err->msg, sizeof(err->msg), "session %.40s: out of memory", sc->name);
        }
        return -ENOMEM;
    }
    if ((c->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
        rc = -errno;
        sc_obuf_fini(&c->out);
        free(c);
        if (err) {
            err->code = rc;
            snprintf(err->msg, sizeof(err->msg), "session %.40s: epoll: %s", sc->name,
                     strerror(-rc));
        }
        return rc;
    }
    c->s = *sc;
    if (!c->s.session_id[0])
        snprintf(c->s.session_id, sizeof(c->s.session_id), "%.10s", sc->name);
    c->fd = -1;
    c->next_seq = first_seq;
    c->backoff_ns = sc->reconnect_min_ns;
    c->on_msg = on_msg;
    c->on_event = on_event;
    c->ctx = ctx;
    c->st = DOWN;
    *out = c;
    return 0;
}

void
sc_ocli_destroy(struct sc_ocli *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    close(c->epfd);
    sc_obuf_fini(&c->out);
    free(c);
}
