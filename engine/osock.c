#include "engine/osock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <seqcast/proto/soup.h>

const struct sc_session_cfg *
sc_session_find(const struct sc_config *cfg, const char *name, bool server, struct sc_err *err)
{
    for (uint32_t i = 0; i < cfg->nsessions; i++) {
        const struct sc_session_cfg *s = &cfg->sessions[i];
        if (name && strcmp(s->name, name))
            continue;
        if ((server ? s->listen : s->connect)[0])
            return s;
        break; /* the one named (or the first) has no address for this end */
    }
    if (err) {
        err->code = -ENOENT;
        snprintf(err->msg, sizeof(err->msg), "%.100s: no session %.40s with a %s address",
                 cfg->origin, name ? name : "(any)", server ? "listen" : "connect");
    }
    return NULL;
}

int
sc_osock_epoll_wait(int epfd, struct epoll_event *evs, int maxev, uint64_t timeout_ns)
{
    static bool no_pwait2; /* a property of the kernel: learnt once */
    uint64_t ms;

    if (!no_pwait2) {
        struct timespec ts = { (time_t)(timeout_ns / 1000000000u),
                               (long)(timeout_ns % 1000000000u) };
        int n = epoll_pwait2(epfd, evs, maxev, &ts, NULL);
        if (n >= 0 || errno != ENOSYS)
            return n;
        no_pwait2 = true;
    }
    ms = (timeout_ns + 999999u) / 1000000u;
    return epoll_wait(epfd, evs, maxev, ms > INT32_MAX ? INT32_MAX : (int)ms);
}

static int
resolve(const char *ep, struct sockaddr_storage *ss, socklen_t *len, struct sc_err *err)
{
    memset(ss, 0, sizeof(*ss));
    if (!strncmp(ep, "unix:", 5)) {
        struct sockaddr_un *u = (struct sockaddr_un *)ss;
        if (strlen(ep + 5) >= sizeof(u->sun_path))
            goto bad;
        u->sun_family = AF_UNIX;
        memcpy(u->sun_path, ep + 5, strlen(ep + 5) + 1);
        *len = sizeof(*u);
        return 0;
    }
    if (!strncmp(ep, "tcp:", 4)) {
        char host[256];
        const char *colon = strrchr(ep + 4, ':');
        struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res;
        if (!colon || (size_t)(colon - ep - 4) >= sizeof(host))
            goto bad;
        snprintf(host, sizeof(host), "%.*s", (int)(colon - ep - 4), ep + 4);
        if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
            goto bad;
        memcpy(ss, res->ai_addr, res->ai_addrlen);
        *len = res->ai_addrlen;
        freeaddrinfo(res);
        return 0;
    }
bad:
    if (err) {
        err->code = -EINVAL;
        snprintf(err->msg, sizeof(err->msg), "endpoint '%.200s': expected tcp:HOST:PORT or "
                                             "unix:/path", ep);
    }
    return -EINVAL;
}

static void
nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* fails harmlessly on unix */
}

int
sc_osock_listen(const char *ep, struct sc_err *err)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd, one = 1, rc;

    if ((rc = resolve(ep, &ss, &len, err)) < 0)
        return rc;
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    if (ss.ss_family == AF_UNIX)
        unlink(((struct sockaddr_un *)&ss)->sun_path); /* a stale socket of a dead server */
    else
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 128) < 0)
        goto fail;
    return fd;
fail:
    rc = -errno;
    if (fd >= 0)
        close(fd);
    if (err) {
        err->code = rc;
        snprintf(err->msg, sizeof(err->msg), "listen %.200s: %s", ep, strerror(-rc));
    }
    return rc;
}

int
sc_osock_connect(const char *ep, bool *in_progress, struct sc_err *err)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd, rc;

    if ((rc = resolve(ep, &ss, &len, err)) < 0)
        return rc;
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    nodelay(fd);
    *in_progress = false;
    if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
        if (errno == EINPROGRESS || errno == EAGAIN) {
            *in_progress = true;
            return fd;
        }
        rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

int
sc_osock_accept(int lfd, struct sc_opeer *peer)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

    if (fd < 0)
        return -errno;
    memset(peer, 0, sizeof(*peer));
    if (ss.ss_family == AF_INET) {
        peer->family = AF_INET;
        memcpy(peer->addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
    } else if (ss.ss_family == AF_INET6) {
        const struct in6_addr *a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            peer->family = AF_INET;
            memcpy(peer->addr, a->s6_addr + 12, 4);
        } else {
            peer->family = AF_INET6;
            memcpy(peer->addr, a->s6_addr, 8);
        }
    } else if (ss.ss_family == AF_UNIX) {
        struct ucred cred;
        socklen_t cl = sizeof(cred);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0) {
            peer->family = AF_UNIX;
            peer->addr[0] = (uint8_t)(cred.uid >> 24);
            peer->addr[1] = (uint8_t)(cred.uid >> 16);
            peer->addr[2] = (uint8_t)(cred.uid >> 8);
            peer->addr[3] = (uint8_t)cred.uid;
        }
    }
    nodelay(fd);
    return fd;
}

int
sc_obuf_init(struct sc_obuf *o, size_t cap)
{
    o->b = malloc(cap);
    o->len = 0;
    o->cap = cap;
    return o->b ? 0 : -ENOMEM;
}

void
sc_obuf_fini(struct sc_obuf *o)
{
    free(o->b);
    o->b = NULL;
}

int
sc_obuf_raw(struct sc_obuf *o, const void *data, size_t len)
{
    if (o->cap - o->len < len)
        return -ENOBUFS;
    if (len) /* heartbeats, End of Session, logout carry no payload (data may be NULL) */
        memcpy(o->b + o->len, data, len);
    o->len += len;
    return 0;
}

int
sc_obuf_packet(struct sc_obuf *o, uint8_t type, const void *payload, size_t len)
{
    uint8_t h[SC_SOUP_HDR_LEN];

    if (o->cap - o->len < SC_SOUP_HDR_LEN + len)
        return -ENOBUFS;
    sc_soup_put_hdr(h, type, (uint16_t)len);
    sc_obuf_raw(o, h, sizeof(h));
    return sc_obuf_raw(o, payload, len);
}

int
sc_obuf_flush(struct sc_obuf *o, int fd)
{
    ssize_t n;

    if (!o->len)
        return 0;
    n = send(fd, o->b, o->len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
    memmove(o->b, o->b + n, o->len - (size_t)n);
    o->len -= (size_t)n;
    return 0;
}
