/* SoupBinTCP order client: connect, log in asking for the next expected
 * sequence, deliver sequenced messages, heartbeat, and on silence or a lost
 * connection reconnect with back-off (reconnect.min doubling to .max) and
 * resume where it left off. Rejection and End of Session are final. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <seqcast/order.h>

#include "engine/osock.h"
#include <seqcast/proto/soup.h>

enum state { DOWN, CONNECTING, LOGGING_IN, UP, DONE };

struct sc_ocli {
    struct sc_session_cfg s;
    enum state st;
    int fd;
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
    c->blocking = false;
    c->rcvtimeo_us = 0;
    c->waited = 0;
    if (c->st == DONE)
        return;
    c->st = DOWN;
    c->retry_at_ns = now + c->backoff_ns;
    c->backoff_ns = c->backoff_ns * 2 > c->s.reconnect_max_ns ? c->s.reconnect_max_ns
                                                              : c->backoff_ns * 2;
    c->stats.reconnects++;
    event(c, SC_OCLI_DISCONNECTED, why);
}

static void
start(struct sc_ocli *c, uint64_t now)
{
    bool pending;
    int fd = sc_osock_connect(c->s.connect, &pending, NULL);

    c->stats.connects++;
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

static void
read_sock(struct sc_ocli *c, uint64_t now)
{
    for (;;) {
        size_t want = sizeof(c->rx) - c->rxlen, off = 0;
        ssize_t n;
        if (c->waited == 2) { /* sc_ocli_wait heard the peer close */
            drop(c, now, 0);
            return;
        }
        if (c->waited == 1) { /* sc_ocli_wait read these already */
            c->waited = 0;
            n = c->waited_short ? 0 : (ssize_t)want; /* drained, or read on */
        } else {
            n = recv(c->fd, c->rx + c->rxlen, want, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                drop(c, now, 0);
                return;
            }
            if (n < 0)
                return;
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
                return;
            }
            off += (size_t)rc;
            on_packet(c, &p, now);
            if (c->st == DONE) {
                drop(c, now, 0);
                return;
            }
        }
        memmove(c->rx, c->rx + off, c->rxlen - off);
        c->rxlen -= off;
        if ((size_t)n < want)
            return; /* drained: no second read just to hear EAGAIN */
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
        int e = 0;
        socklen_t l = sizeof(e);
        if (poll(&p, 1, 0) <= 0) {
            if (now - c->last_rx_ns >= c->s.timeout_ns)
                drop(c, now, 1);
            return 0;
        }
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &l);
        if (e) {
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
    read_sock(c, now);
    if (c->fd < 0)
        return work + 1;
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
    c->last_tx_ns = now;
    return 1;
}

int
sc_ocli_wait(struct sc_ocli *c, uint64_t timeout_ns)
{
    /* whole milliseconds (the kernel counts this timeout in ticks anyway): a
     * caller passing its deadline's remainder changes it, and pays a
     * setsockopt, once a millisecond at most rather than on every call */
    uint64_t us = (timeout_ns + 999999) / 1000000 * 1000;
    size_t want = sizeof(c->rx) - c->rxlen;
    ssize_t n;

    if (c->fd < 0 || (c->st != UP && c->st != LOGGING_IN))
        return -1; /* connecting, or waiting to retry: the caller sleeps */
    if (c->waited || !want)
        return 1; /* what the last wait read is still to be parsed */
    if (us < 1000)
        us = 1000;
    if (us != c->rcvtimeo_us) { /* first, so a blocking read always has a timeout */
        struct timeval tv = { (time_t)(us / 1000000u), (suseconds_t)(us % 1000000u) };
        if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
            return -1;
        c->rcvtimeo_us = us;
    }
    if (!c->blocking) {
        int fl = fcntl(c->fd, F_GETFL);
        if (fl < 0 || fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
            return -1;
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
    return c->fd;
}

int
sc_ocli_logged_in(const struct sc_ocli *c)
{
    return c->st == UP;
}

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
    const struct sc_session_cfg *sc = NULL;
    struct sc_ocli *c;

    for (uint32_t i = 0; i < cfg->nsessions && !sc; i++)
        if (!session || !strcmp(cfg->sessions[i].name, session))
            sc = &cfg->sessions[i];
    if (!sc || !sc->connect[0]) {
        if (err) {
            err->code = -ENOENT;
            snprintf(err->msg, sizeof(err->msg), "%.100s: no session %.40s with a connect address",
                     cfg->origin, session ? session : "(any)");
        }
        return -ENOENT;
    }
    if (!(c = calloc(1, sizeof(*c))) || sc_obuf_init(&c->out, 1u << 20) < 0) {
        free(c);
        if (err) {
            err->code = -ENOMEM;
            snprintf(err->msg, sizeof(err->msg), "session %.40s: out of memory", sc->name);
        }
        return -ENOMEM;
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
    sc_obuf_fini(&c->out);
    free(c);
}
