/* Order-session sockets (engine/osock.c): "tcp:HOST:PORT" and "unix:/path"
 * endpoints, bad ones refused with a message naming them; listen, connect
 * and accept non-blocking (and TCP_NODELAY on TCP); the output buffer's
 * SoupBinTCP framing, its capacity, and partial writes that keep exactly the
 * unwritten tail, in order. TCP binds port 0 on loopback (no fixed ports). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/osock.h"
#include <seqcast/proto/soup.h>

static char upath[108];

static void
setup(void)
{
    snprintf(upath, sizeof(upath), "/tmp/seqcast-osock-test-%d.sock", (int)getpid());
    unlink(upath);
}

static void
teardown(void)
{
    unlink(upath);
}

static bool
nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl >= 0 && (fl & O_NONBLOCK);
}

static bool
cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFD);
    return fl >= 0 && (fl & FD_CLOEXEC);
}

static int
nodelay_of(int fd)
{
    int v = -1;
    socklen_t l = sizeof(v);
    cr_assert_eq(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &l), 0);
    return v;
}

static uint16_t
port_of(int fd)
{
    struct sockaddr_in a;
    socklen_t l = sizeof(a);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &l), 0);
    return ntohs(a.sin_port);
}

/* accept, waiting up to a second for the connection to arrive */
static int
accept_wait(int lfd)
{
    struct pollfd p = { .fd = lfd, .events = POLLIN };
    cr_assert_eq(poll(&p, 1, 1000), 1, "no connection to accept");
    struct sc_opeer peer;

    return sc_osock_accept(lfd, &peer);
}

Test(osock, bad_endpoints_are_refused_with_a_message_naming_them, .init = setup,
     .fini = teardown)
{
    static const char *const bad[] = {
        "", "tcp", "tcp:", "tcp:127.0.0.1", "udp:127.0.0.1:80", "unix",
        "127.0.0.1:80", "tcp:127.0.0.1:no-such-service-name", "TCP:127.0.0.1:80",
    };
    char longp[200];
    struct sc_err err;
    bool inprog;

    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&err, 0, sizeof(err));
        cr_assert_eq(sc_osock_listen(bad[i], &err), -EINVAL, "listen '%s' accepted", bad[i]);
        cr_assert_eq(err.code, -EINVAL);
        cr_assert(strstr(err.msg, bad[i]) != NULL, "'%s' not named in: %s", bad[i], err.msg);
        cr_assert(strstr(err.msg, "tcp:HOST:PORT") != NULL, "%s", err.msg);
        memset(&err, 0, sizeof(err));
        cr_assert_eq(sc_osock_connect(bad[i], &inprog, &err), -EINVAL, "connect '%s'", bad[i]);
        cr_assert_eq(err.code, -EINVAL);
    }
    /* a unix path longer than sun_path (108 bytes with its NUL) */
    memset(longp, 'a', sizeof(longp));
    memcpy(longp, "unix:/nonexistent-seqcast/", 26);
    longp[5 + 108] = 0; /* 108 characters after "unix:": one too many */
    cr_assert_eq(sc_osock_listen(longp, &err), -EINVAL);
    longp[5 + 107] = 0; /* 107: fits (the directory does not exist: a bind error) */
    cr_assert_eq(sc_osock_listen(longp, &err), -ENOENT, "%s", err.msg);
    /* no error struct: still refused, nothing written */
    cr_assert_eq(sc_osock_listen("nope", NULL), -EINVAL);
    cr_assert_eq(sc_osock_connect("nope", &inprog, NULL), -EINVAL);
}

Test(osock, unix_listen_connect_accept_are_non_blocking, .init = setup, .fini = teardown)
{
    char ep[128];
    struct sc_err err;
    struct stat st;
    bool inprog = true;
    int lfd, cfd, afd;
    char c = 0;
    struct sc_opeer peer;

    snprintf(ep, sizeof(ep), "unix:%s", upath);
    lfd = sc_osock_listen(ep, &err);
    cr_assert_geq(lfd, 0, "%s", err.msg);
    cr_assert(nonblocking(lfd) && cloexec(lfd));
    cr_assert_eq(stat(upath, &st), 0);
    cr_assert(S_ISSOCK(st.st_mode));
    cr_assert_eq(sc_osock_accept(lfd, &peer), -EAGAIN, "accepted with nobody connecting");
    cfd = sc_osock_connect(ep, &inprog, &err);
    cr_assert_geq(cfd, 0, "%s", err.msg);
    cr_assert(nonblocking(cfd) && cloexec(cfd));
    afd = accept_wait(lfd);
    cr_assert_geq(afd, 0);
    cr_assert(nonblocking(afd) && cloexec(afd));
    cr_assert_eq(write(cfd, "x", 1), 1);
    {
        struct pollfd p = { .fd = afd, .events = POLLIN };
        cr_assert_eq(poll(&p, 1, 1000), 1);
    }
    cr_assert_eq(read(afd, &c, 1), 1);
    cr_assert_eq(c, 'x');
    cr_assert_eq(read(afd, &c, 1), -1, "a read with nothing waiting blocked or returned data");
    cr_assert_eq(errno, EAGAIN);
    close(afd);
    close(cfd);
    close(lfd);
    /* a stale socket file (a server that died) does not stop a new listener */
    lfd = sc_osock_listen(ep, &err);
    cr_assert_geq(lfd, 0, "stale socket: %s", err.msg);
    close(lfd);
    /* nobody listening: connect fails at once with the errno */
    unlink(upath);
    cr_assert_eq(sc_osock_connect(ep, &inprog, &err), -ENOENT);
}

Test(osock, tcp_listen_connect_accept_with_nodelay)
{
    struct sc_err err;
    char ep[64];
    bool inprog = false;
    int lfd, cfd, afd, soerr = -1;
    socklen_t l = sizeof(soerr);
    uint16_t port;

    lfd = sc_osock_listen("tcp:127.0.0.1:0", &err);
    cr_assert_geq(lfd, 0, "%s", err.msg);
    cr_assert(nonblocking(lfd) && cloexec(lfd));
    {
        int v = 0;
        socklen_t vl = sizeof(v);
        cr_assert_eq(getsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &v, &vl), 0);
        cr_assert_neq(v, 0, "a restarted server could not bind while old connections linger");
    }
    port = port_of(lfd);
    cr_assert_neq(port, 0);
    snprintf(ep, sizeof(ep), "tcp:127.0.0.1:%u", port);
    cfd = sc_osock_connect(ep, &inprog, &err);
    cr_assert_geq(cfd, 0, "%s", err.msg);
    cr_assert(nonblocking(cfd) && cloexec(cfd));
    cr_assert_eq(nodelay_of(cfd), 1);
    if (inprog) {
        struct pollfd p = { .fd = cfd, .events = POLLOUT };
        cr_assert_eq(poll(&p, 1, 1000), 1);
    }
    cr_assert_eq(getsockopt(cfd, SOL_SOCKET, SO_ERROR, &soerr, &l), 0);
    cr_assert_eq(soerr, 0);
    afd = accept_wait(lfd);
    cr_assert_geq(afd, 0);
    cr_assert(nonblocking(afd));
    cr_assert_eq(nodelay_of(afd), 1, "accepted connections must not wait for Nagle");
    close(afd);
    close(cfd);
    close(lfd);
    /* the port is closed now: refused, at once or when the connect completes */
    cfd = sc_osock_connect(ep, &inprog, &err);
    if (cfd >= 0) {
        struct pollfd p = { .fd = cfd, .events = POLLOUT };
        cr_assert(inprog, "connected to a closed port");
        poll(&p, 1, 1000);
        l = sizeof(soerr);
        getsockopt(cfd, SOL_SOCKET, SO_ERROR, &soerr, &l);
        cr_assert_eq(soerr, ECONNREFUSED);
        close(cfd);
    } else {
        cr_assert_eq(cfd, -ECONNREFUSED);
    }
    /* a port in use: listen reports the errno and names the endpoint */
    lfd = sc_osock_listen("tcp:127.0.0.1:0", &err);
    cr_assert_geq(lfd, 0);
    snprintf(ep, sizeof(ep), "tcp:127.0.0.1:%u", port_of(lfd));
    cr_assert_eq(sc_osock_listen(ep, &err), -EADDRINUSE);
    cr_assert_eq(err.code, -EADDRINUSE);
    cr_assert(strstr(err.msg, ep) != NULL, "%s", err.msg);
    close(lfd);
}

Test(osock, obuf_frames_soupbintcp_packets_and_refuses_what_does_not_fit)
{
    struct sc_obuf o;

    cr_assert_eq(sc_obuf_init(&o, 16), 0);
    cr_assert_eq(o.len, 0);
    cr_assert_eq(o.cap, 16);
    cr_assert_eq(sc_obuf_packet(&o, 'S', "hello", 5), 0);
    cr_assert_eq(o.len, 8);
    cr_assert_eq(memcmp(o.b, "\x00\x06Shello", 8), 0, "length = payload + type, big-endian");
    cr_assert_eq(sc_obuf_packet(&o, 'H', NULL, 0), 0, "a packet without payload");
    cr_assert_eq(o.len, 11);
    cr_assert_eq(memcmp(o.b + 8, "\x00\x01H", 3), 0);
    /* 5 bytes left: a 3-byte header + 3 bytes does not fit, and nothing is written */
    cr_assert_eq(sc_obuf_packet(&o, 'U', "abc", 3), -ENOBUFS);
    cr_assert_eq(o.len, 11);
    cr_assert_eq(sc_obuf_packet(&o, 'U', "ab", 2), 0, "exactly the room left");
    cr_assert_eq(o.len, 16);
    cr_assert_eq(sc_obuf_raw(&o, "z", 1), -ENOBUFS);
    cr_assert_eq(sc_obuf_raw(&o, NULL, 0), 0);
    cr_assert_eq(o.len, 16);
    sc_obuf_fini(&o);
    cr_assert_null(o.b);
    cr_assert_eq(sc_obuf_init(&o, 8), 0);
    cr_assert_eq(sc_obuf_raw(&o, "12345678", 8), 0);
    cr_assert_eq(memcmp(o.b, "12345678", 8), 0);
    sc_obuf_fini(&o);
}

/* One flush is one write: what the socket does not take stays queued, in
 * order, and goes with the next flush; a dead peer is an error, not SIGPIPE. */
Test(osock, obuf_flush_keeps_the_unwritten_tail_in_order)
{
    enum { N = 4u << 20 };
    static uint8_t sent[N], got[N];
    struct sc_obuf o;
    int sv[2], small = 4096;
    size_t have = 0, fed = 0;
    unsigned flushes = 0;

    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    for (size_t i = 0; i < N; i++)
        sent[i] = (uint8_t)(i * 131 + i / 977);
    cr_assert_eq(sc_obuf_init(&o, 1u << 20), 0);
    cr_assert_eq(sc_obuf_flush(&o, sv[0]), 0, "an empty buffer");
    while (have < N) {
        size_t before;
        /* top the buffer up, in odd-sized pieces */
        while (fed < N) {
            size_t k = 1 + (fed * 7919) % 60000;
            if (k > N - fed)
                k = N - fed;
            if (sc_obuf_raw(&o, sent + fed, k) < 0)
                break;
            fed += k;
        }
        before = o.len;
        cr_assert_eq(sc_obuf_flush(&o, sv[0]), 0);
        flushes++;
        cr_assert_leq(o.len, before);
        /* what is queued is exactly the tail not yet written */
        cr_assert_eq(memcmp(o.b, sent + fed - o.len, o.len), 0, "queue damaged after a flush");
        /* the peer reads some */
        for (;;) {
            ssize_t r = recv(sv[1], got + have, N - have, MSG_DONTWAIT);
            if (r <= 0)
                break;
            have += (size_t)r;
        }
    }
    cr_assert_eq(o.len, 0);
    cr_assert_eq(memcmp(got, sent, N), 0, "the peer got something else, or out of order");
    cr_assert_gt(flushes, 10, "the socket took everything at once: no partial write was tested");
    /* the peer is gone */
    close(sv[1]);
    cr_assert_eq(sc_obuf_raw(&o, "abc", 3), 0);
    cr_assert_eq(sc_obuf_flush(&o, sv[0]), -EPIPE);
    cr_assert_eq(o.len, 3, "nothing was written: nothing leaves the buffer");
    close(sv[0]);
    sc_obuf_fini(&o);
}
