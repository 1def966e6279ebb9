/* SoupBinTCP order server: one session (one journal), many connections.
 *
 * Each do_work, in three phases: (1) accept, read every connection and parse
 * its packets (a bad one closes that connection only, counted by class; the
 * application's answers are journaled); connections silent for `timeout`,
 * logged in or not, are closed; (2) the journal is synced per the fsync policy,
 * so nothing is sent before it is durable; (3) logged-in connections catch up
 * from the journal, heartbeats go out after `heartbeat` of silence, and every
 * connection's output is written once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <seqcast/order.h>

#include "engine/journal.h"
#include "engine/osock.h"
#include <seqcast/proto/soup.h>

#define MAX_CONNS 64
#define OUT_BUF (1u << 20)
#define LISTEN_TAG UINT32_MAX /* epoll data of the listening socket; connections carry their slot */

struct conn {
    int fd;
    bool logged_in, closing;
    bool readable; /* epoll said so in this do_work pass */
    uint32_t id;
    char user[SC_SOUP_USER_LEN + 1];
    uint64_t next_seq; /* next sequenced message this connection gets */
    uint64_t last_rx_ns, last_tx_ns;
    size_t rxlen;
    uint8_t *rx;
    struct sc_obuf out;
};

struct sc_osrv {
    struct sc_session_cfg s;
    char session_id[SC_SOUP_SESSION_LEN + 1];
    int lfd, epfd;
    uint32_t next_id;
    struct sc_journal j;
    sc_osrv_msg_fn *on_msg;
    void *ctx;
    struct sc_osrv_stats st;
    /* what sc_osrv_wait's epoll_wait answered, for the next do_work */
    struct epoll_event evs[MAX_CONNS + 1];
    int nev; /* -1: nothing waiting (do_work asks epoll itself) */
    uint8_t msg[65536];
    struct conn c[MAX_CONNS];
};

static void
conn_close(struct sc_osrv *s, struct conn *c, uint64_t *counter)
{
    if (c->fd < 0)
        return;
    sc_obuf_flush(&c->out, c->fd); /* a rejection or End of Session goes out first */
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    if (counter)
        (*counter)++;
    s->st.connections--;
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

static void
on_login(struct sc_osrv *s, struct conn *c, const struct sc_soup_pkt *p, uint64_t now)
{
    uint8_t b[64];
    bool ok = false;
    int n;

    for (uint32_t i = 0; i < s->s.nusers; i++)
        ok |= same(p->login.user, s->s.users[i].name) &
              same(p->login.password, s->s.users[i].password);
    if (!ok || (p->login.session[0] && strcmp(p->login.session, s->session_id))) {
        char why = ok ? SC_SOUP_REJECT_NO_SESSION : SC_SOUP_REJECT_NOT_AUTHORIZED;
        n = sc_soup_encode_login_rejected(b, sizeof(b), why);
        sc_obuf_raw(&c->out, b, (size_t)n);
        c->closing = true;
        (*(ok ? &s->st.login_rejected_session : &s->st.login_rejected_auth))++;
        return;
    }
    c->logged_in = true;
    memcpy(c->user, p->login.user, sizeof(c->user));
    /* 0 = only new messages; N = from N (what the journal still has, capped at next) */
    c->next_seq = p->login.seq == 0 || p->login.seq > s->j.count + 1 ? s->j.count + 1
                                                                     : p->login.seq;
    n = sc_soup_encode_login_accepted(b, sizeof(b), s->session_id, c->next_seq);
    sc_obuf_raw(&c->out, b, (size_t)n);
    c->last_tx_ns = now;
    s->st.logins++;
}

static void
read_conn(struct sc_osrv *s, struct conn *c, uint64_t now)
{
    const size_t cap = 3 + s->s.max_message;

    for (;;) {
        size_t want = cap - c->rxlen;
        ssize_t n = read(c->fd, c->rx + c->rxlen, want);
        size_t off = 0;
        if (n == 0) {
            conn_close(s, c, &s->st.closed_peer);
            return;
        }
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                conn_close(s, c, &s->st.closed_peer);
            return;
        }
        c->rxlen += (size_t)n;
        c->last_rx_ns = now;
        for (;;) {
            struct sc_soup_pkt p;
            int rc = sc_soup_parse(c->rx + off, c->rxlen - off, s->s.max_message,
                                   SC_SOUP_FROM_CLIENT, &p);
            if (rc == SC_PERR_NEED_MORE)
                break;
            if (rc < 0) {
                s->st.rx_bad[-rc]++;
                conn_close(s, c, &s->st.closed_protocol);
                return;
            }
            off += (size_t)rc;
            if (p.type == SC_SOUP_LOGIN_REQUEST && !c->logged_in && !c->closing) {
                on_login(s, c, &p, now);
            } else if (!c->logged_in && p.type != SC_SOUP_DEBUG) {
                s->st.rx_bad[-SC_PERR_TYPE]++; /* anything before a login, or a second login */
                conn_close(s, c, &s->st.closed_protocol);
                return;
            } else if (p.type == SC_SOUP_UNSEQUENCED) {
                s->st.rx_msgs++;
                if (s->on_msg)
                    s->on_msg(s->ctx, c->id, c->user, p.payload, p.payload_len);
                if (c->fd < 0)
                    return;
            } else if (p.type == SC_SOUP_LOGOUT_REQUEST) {
                conn_close(s, c, &s->st.closed_logout);
                return;
            } else if (p.type == SC_SOUP_LOGIN_REQUEST) {
                s->st.rx_bad[-SC_PERR_TYPE]++;
                conn_close(s, c, &s->st.closed_protocol);
                return;
            }
        }
        memmove(c->rx, c->rx + off, c->rxlen - off);
        c->rxlen -= off;
        if ((size_t)n < want)
            return; /* drained: epoll (level-triggered) reports anything newer */
    }
}

/* Queue journal messages next_seq.. while the output buffer has room. */
static void
catch_up(struct sc_osrv *s, struct conn *c)
{
    while (c->next_seq <= s->j.count && c->out.cap - c->out.len >= 3 + 65535u) {
        int n = sc_journal_read(&s->j, c->next_seq, s->msg, sizeof(s->msg));
        if (n < 0)
            break;
        sc_obuf_packet(&c->out, SC_SOUP_SEQUENCED, s->msg, (size_t)n);
        c->next_seq++;
        s->st.replayed++;
        s->st.tx_sequenced++;
    }
}

int64_t
sc_osrv_send(struct sc_osrv *s, const void *msg, size_t len, uint64_t now_ns)
{
    int rc;

    if (len > 65534)
        return -EMSGSIZE;
    if ((rc = sc_journal_append(&s->j, msg, (uint16_t)len)) < 0) /* durable before sent */
        return rc;
    for (int i = 0; i < MAX_CONNS; i++) {
        struct conn *c = &s->c[i];
        if (c->fd < 0 || !c->logged_in || c->next_seq != s->j.count)
            continue; /* not caught up: it gets this one from the journal */
        if (sc_obuf_packet(&c->out, SC_SOUP_SEQUENCED, msg, len) == 0) {
            c->next_seq++;
            c->last_tx_ns = now_ns;
            s->st.tx_sequenced++;
        }
    }
    return (int64_t)s->j.count;
}

void
sc_osrv_end_session(struct sc_osrv *s, uint64_t now_ns)
{
    for (int i = 0; i < MAX_CONNS; i++)
        if (s->c[i].fd >= 0 && s->c[i].logged_in) {
            sc_obuf_packet(&s->c[i].out, SC_SOUP_END_OF_SESSION, NULL, 0);
            s->c[i].last_tx_ns = now_ns;
        }
}

int
sc_osrv_wait(struct sc_osrv *s, int timeout_ms)
{
    if (s->nev < 0) { /* nothing kept from an earlier wait */
        s->nev = epoll_wait(s->epfd, s->evs, MAX_CONNS + 1, timeout_ms);
        if (s->nev <= 0) { /* the timeout, or EINTR: a signal (the caller looks at why) */
            s->nev = -1;
            return 0;
        }
    }
    return s->nev;
}

int
sc_osrv_do_work(struct sc_osrv *s, uint64_t now)
{
    int more = 0, fd;
    bool listen_ready = false;

    /* one system call says which sockets have something -- sc_osrv_wait's, if
     * the caller slept there: accept and read only those */
    if (s->nev < 0)
        s->nev = epoll_wait(s->epfd, s->evs, MAX_CONNS + 1, 0);
    for (int i = 0; i < s->nev; i++) {
        if (s->evs[i].data.u32 == LISTEN_TAG)
            listen_ready = true;
        else if (s->evs[i].data.u32 < MAX_CONNS)
            s->c[s->evs[i].data.u32].readable = true;
    }
    s->nev = -1;
    while (listen_ready && (fd = sc_osock_accept(s->lfd)) >= 0) {
        struct conn *c = NULL;
        struct epoll_event ev = { .events = EPOLLIN };
        for (int i = 0; i < MAX_CONNS && !c; i++)
            if (s->c[i].fd < 0)
                c = &s->c[i];
        if (!c) { /* full: refuse rather than degrade the sessions we have */
            close(fd);
            s->st.closed_slow++;
            continue;
        }
        c->fd = fd;
        c->logged_in = c->closing = false;
        c->readable = true; /* a login may already be waiting */
        c->rxlen = 0;
        c->out.len = 0;
        c->id = ++s->next_id;
        c->last_rx_ns = c->last_tx_ns = now;
        ev.data.u32 = (uint32_t)(c - s->c);
        epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev);
        s->st.accepted++;
        s->st.connections++;
    }
    /* 1. read: orders arrive, acknowledgements are journaled */
    for (int i = 0; i < MAX_CONNS; i++) {
        struct conn *c = &s->c[i];
        if (c->fd < 0)
            continue;
        if (c->readable) {
            c->readable = false;
            read_conn(s, c, now);
        }
        if (c->fd >= 0 && !c->closing && now - c->last_rx_ns >= s->s.timeout_ns)
            conn_close(s, c, &s->st.closed_timeout);
    }
    /* 2. durable before sent (fsync: batch makes one fdatasync cover the batch) */
    sc_journal_sync(&s->j);
    /* 3. send: replay, live messages, heartbeats -- one write per connection */
    for (int i = 0; i < MAX_CONNS; i++) {
        struct conn *c = &s->c[i];
        if (c->fd < 0)
            continue;
        if (c->closing) { /* a rejected login: the answer goes out, then the connection */
            conn_close(s, c, NULL);
            continue;
        }
        if (c->logged_in) {
            catch_up(s, c);
            if (!c->out.len && now - c->last_tx_ns >= s->s.heartbeat_ns) {
                sc_obuf_packet(&c->out, SC_SOUP_SERVER_HEARTBEAT, NULL, 0);
                s->st.tx_heartbeats++;
            }
        }
        if (c->out.len) {
            size_t before = c->out.len;
            if (sc_obuf_flush(&c->out, c->fd) < 0) {
                conn_close(s, c, &s->st.closed_peer);
                continue;
            }
            if (c->out.len < before) {
                c->last_tx_ns = now;
                /* call again at once only while a replay makes progress: the
                 * epoll fd does not wake a poller for it (it waits on input) */
                more += c->out.len || (c->logged_in && c->next_seq <= s->j.count);
            }
        }
    }
    return more;
}

int
sc_osrv_fd(const struct sc_osrv *s)
{
    return s->epfd;
}

void
sc_osrv_get_stats(const struct sc_osrv *s, struct sc_osrv_stats *st)
{
    *st = s->st;
    st->journal_msgs = s->j.count;
    st->journal_torn_bytes = s->j.torn_bytes;
    st->journal_syncs = s->j.syncs;
}

int
sc_osrv_create(struct sc_osrv **out, const struct sc_config *cfg, const char *session,
               sc_osrv_msg_fn *on_msg, void *ctx, struct sc_err *err)
{
    const struct sc_session_cfg *sc = NULL;
    struct sc_osrv *s;
    struct epoll_event ev = { .events = EPOLLIN };
    int rc;

    for (uint32_t i = 0; i < cfg->nsessions && !sc; i++)
        if (!session || !strcmp(cfg->sessions[i].name, session))
            sc = &cfg->sessions[i];
    if (!sc || !sc->listen[0]) {
        if (err) {
            err->code = -ENOENT;
            snprintf(err->msg, sizeof(err->msg), "%.100s: no session %.40s with a listen address",
                     cfg->origin, session ? session : "(any)");
        }
        return -ENOENT;
    }
    if (!(s = calloc(1, sizeof(*s))))
        return -ENOMEM;
    s->s = *sc;
    snprintf(s->session_id, sizeof(s->session_id), "%.10s", sc->session_id[0] ? sc->session_id
                                                                           : sc->name);
    s->on_msg = on_msg;
    s->ctx = ctx;
    s->lfd = s->epfd = -1;
    s->nev = -1;
    for (int i = 0; i < MAX_CONNS; i++) {
        s->c[i].fd = -1;
        if (!(s->c[i].rx = malloc(3 + sc->max_message)) ||
            sc_obuf_init(&s->c[i].out, OUT_BUF) < 0) {
            rc = -ENOMEM;
            goto out_free;
        }
    }
    if ((rc = sc_journal_open(&s->j, sc->journal, sc->fsync, err)) < 0)
        goto out_free;
    if ((rc = sc_osock_listen(sc->listen, err)) < 0)
        goto out_journal;
    s->lfd = rc;
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    ev.data.u32 = LISTEN_TAG;
    epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->lfd, &ev);
    *out = s;
    return 0;

out_journal:
    sc_journal_close(&s->j);
out_free:
    for (int i = 0; i < MAX_CONNS; i++) {
        free(s->c[i].rx);
        sc_obuf_fini(&s->c[i].out);
    }
    free(s);
    return rc;
}

void
sc_osrv_destroy(struct sc_osrv *s)
{
    if (!s)
        return;
    for (int i = 0; i < MAX_CONNS; i++) {
        conn_close(s, &s->c[i], NULL);
        free(s->c[i].rx);
        sc_obuf_fini(&s->c[i].out);
    }
    if (s->lfd >= 0)
        close(s->lfd);
    if (s->epfd >= 0)
        close(s->epfd);
    sc_journal_close(&s->j);
    free(s);
}
