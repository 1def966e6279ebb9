/* Rewinds in one process over real Unix sockets, with simulated time: the
 * order server serving a message source (sc_osrv_create_source, as the
 * archive does) and the rewind client (engine/rewind.c). A rewind from 1 of
 * 100,000 messages, verified byte for byte, carries on into messages appended
 * while it runs with no gap and no duplicate at the seam; a range one archive
 * lacks comes from the other, one both lack is reported once as final and
 * the stream goes on after it; an archive that dies mid-rewind is failed over
 * from with nothing lost or repeated; a reader that takes nothing is closed at
 * the timeout while another session is served in full. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <seqcast/order.h>
#include <seqcast/proto/endian.h>
#include <seqcast/proto/soup.h>

#include "engine/order_int.h"
#include <seqcast/rewind.h>

#define MS(x) ((uint64_t)(x) * 1000000u)
#define MAXGAPS 4

struct src {
    uint64_t last;
    uint32_t ngaps;
    uint64_t gap[MAXGAPS][2];
};

static size_t
msg_of(uint64_t seq, uint8_t *b)
{
    size_t n = 8 + seq % 41;

    sc_store_be64(b, seq);
    for (size_t i = 8; i < n; i++)
        b[i] = (uint8_t)(seq * 31 + i);
    return n;
}

static uint64_t
src_last(void *ctx)
{
    return ((struct src *)ctx)->last;
}

static int
src_get(void *ctx, uint32_t reader, uint64_t seq, const void **m, uint64_t *to)
{
    static uint8_t buf[64];
    struct src *s = ctx;

    (void)reader;
    *m = buf;
    for (uint32_t i = 0; i < s->ngaps; i++)
        if (seq >= s->gap[i][0] && seq <= s->gap[i][1]) {
            *to = s->gap[i][1];
            return -ENODATA;
        }
    return (int)msg_of(seq, buf);
}

struct got {
    uint64_t next, msgs, bad, gaps;
    uint64_t gap[MAXGAPS][2];
};

static void
on_msg(void *ctx, uint64_t seq, const void *m, size_t len)
{
    struct got *g = ctx;
    uint8_t b[64];
    size_t n = msg_of(seq, b);

    if (seq != g->next || len != n || memcmp(m, b, n))
        g->bad++;
    g->next = seq + 1;
    g->msgs++;
}

static void
on_gap(void *ctx, uint64_t from, uint64_t to, const char *why)
{
    struct got *g = ctx;

    (void)why;
    if (g->gaps < MAXGAPS) {
        g->gap[g->gaps][0] = from;
        g->gap[g->gaps][1] = to;
    }
    if (from != g->next)
        g->bad++;
    g->gaps++;
    g->next = to + 1;
}

static char path[2][108];
static struct sc_config cfg;

static void
setup(void)
{
    char y[1024];
    struct sc_err err;

    for (int i = 0; i < 2; i++) {
        snprintf(path[i], sizeof(path[i]), "/tmp/seqcast-rewind-test-%d-%d.sock", (int)getpid(), i);
        unlink(path[i]);
    }
    snprintf(y, sizeof(y),
             "sessions:\n"
             "  - name: A\n    listen: unix:%s\n    heartbeat: 1s\n    timeout: 3s\n"
             "  - name: B\n    listen: unix:%s\n    heartbeat: 1s\n    timeout: 3s\n",
             path[0], path[1]);
    sc_config_init(&cfg);
    cr_assert_eq(sc_config_load_string(&cfg, "t.yaml", y, strlen(y), &err), 0, "%s", err.msg);
}

static void
teardown(void)
{
    unlink(path[0]);
    unlink(path[1]);
}

static struct sc_osrv *
server(int i, struct src *s)
{
    struct sc_osrv_source os = {s, src_last, src_get};
    struct sc_osrv *srv;
    struct sc_err err;

    cr_assert_eq(sc_osrv_create_source(&srv, &cfg.sessions[i], &os, &err), 0, "%s", err.msg);
    return srv;
}

static struct sc_rewind *
client(int nservers, uint64_t from, uint64_t until, struct got *g)
{
    struct sc_rewind_cfg rc = {.nservers = (uint32_t)nservers, .heartbeat_ns = MS(1000),
                               .timeout_ns = MS(3000), .reconnect_ns = MS(100)};
    struct sc_rewind *r;
    struct sc_err err;

    for (int i = 0; i < nservers; i++)
        snprintf(rc.servers[i], sizeof(rc.servers[i]), "unix:%s", path[i]);
    g->next = from;
    cr_assert_eq(sc_rewind_create(&r, &rc, from, until, on_msg, on_gap, g, &err), 0, "%s",
                 err.msg);
    return r;
}

static uint64_t t = MS(1000);

/* one simulated millisecond */
static void
step(struct sc_osrv **s, int ns, struct sc_rewind *r)
{
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < ns; i++)
            if (s[i])
                sc_osrv_do_work(s[i], t);
        if (r)
            sc_rewind_do_work(r, t);
    }
    t += MS(1);
}

Test(rewind, from_1_of_100000_then_live_with_no_gap_or_duplicate_at_the_seam, .init = setup,
     .fini = teardown, .timeout = 60)
{
    struct src a = {.last = 100000};
    struct sc_osrv *s[1] = {server(0, &a)};
    struct got g = {0};
    struct sc_rewind *r = client(1, 1, 0, &g);
    struct sc_rewind_stats st;
    struct sc_osrv_stats ss;

    for (int i = 0; i < 20000 && g.next <= 100000; i++)
        step(s, 1, r);
    cr_assert_eq(g.next, 100001, "history: next %llu", (unsigned long long)g.next);
    /* live: appended while the session runs, a few at a time */
    for (int i = 0; i < 3000; i++) {
        a.last += i % 7;
        step(s, 1, r);
    }
    for (int i = 0; i < 100; i++)
        step(s, 1, r);
    sc_rewind_get_stats(r, &st);
    sc_osrv_get_stats(s[0], &ss);
    cr_assert_eq(g.bad, 0, "messages out of order or wrong: %llu", (unsigned long long)g.bad);
    cr_assert_eq(g.msgs, a.last, "delivered %llu of %llu", (unsigned long long)g.msgs,
                 (unsigned long long)a.last);
    cr_assert_eq(st.duplicates, 0);
    cr_assert_eq(st.logins, 1);
    cr_assert_eq(ss.tx_sequenced, a.last, "the server sent each once");
    cr_assert_eq(ss.replayed, 100000);
    sc_rewind_destroy(r);
    sc_osrv_destroy(s[0]);
}

Test(rewind, a_range_one_archive_lacks_comes_from_the_other_and_one_both_lack_is_not_in_archive,
     .init = setup, .fini = teardown, .timeout = 60)
{
    struct src a = {.last = 3000, .ngaps = 2, .gap = {{500, 600}, {900, 950}}};
    struct src b = {.last = 3000, .ngaps = 2, .gap = {{550, 560}, {900, 950}}};
    struct sc_osrv *s[2] = {server(0, &a), server(1, &b)};
    struct got g = {0};
    struct sc_rewind *r = client(2, 1, 2000, &g);
    struct sc_rewind_stats st;
    struct sc_osrv_stats sa, sb;

    for (int i = 0; i < 5000 && !sc_rewind_done(r); i++)
        step(s, 2, r);
    cr_assert(sc_rewind_done(r), "stopped at %llu", (unsigned long long)g.next);
    sc_rewind_get_stats(r, &st);
    sc_osrv_get_stats(s[0], &sa);
    sc_osrv_get_stats(s[1], &sb);
    cr_assert_eq(g.bad, 0);
    cr_assert_eq(g.gaps, 2, "final gaps: %llu", (unsigned long long)g.gaps);
    cr_assert_eq(g.gap[0][0], 550);
    cr_assert_eq(g.gap[0][1], 560);
    cr_assert_eq(g.gap[1][0], 900);
    cr_assert_eq(g.gap[1][1], 950);
    cr_assert_eq(g.msgs, 2000 - 11 - 51);
    cr_assert_eq(st.duplicates, 0);
    cr_assert_geq(sa.closed_gap + sb.closed_gap, 4);
    sc_rewind_destroy(r);
    sc_osrv_destroy(s[0]);
    sc_osrv_destroy(s[1]);
}

Test(rewind, an_archive_that_dies_mid_rewind_is_failed_over_from, .init = setup,
     .fini = teardown, .timeout = 60)
{
    struct src a = {.last = 60000}, b = {.last = 60000};
    struct sc_osrv *s[2] = {server(0, &a), server(1, &b)};
    struct got g = {0};
    struct sc_rewind *r = client(2, 1, 60000, &g);
    struct sc_rewind_stats st;

    for (int i = 0; i < 20000 && g.next < 10000; i++)
        step(s, 2, r);
    cr_assert(g.next >= 10000 && g.next < 60000, "at %llu", (unsigned long long)g.next);
    sc_osrv_destroy(s[0]); /* dies */
    s[0] = NULL;
    for (int i = 0; i < 20000 && !sc_rewind_done(r); i++)
        step(s, 2, r);
    sc_rewind_get_stats(r, &st);
    cr_assert(sc_rewind_done(r), "stopped at %llu", (unsigned long long)g.next);
    cr_assert_eq(g.bad, 0);
    cr_assert_eq(g.msgs, 60000);
    cr_assert_eq(g.gaps, 0);
    cr_assert_geq(st.failovers, 1);
    cr_assert_eq(st.logins, 2);
    cr_assert_eq(sc_rewind_server(r), 1);
    sc_rewind_destroy(r);
    sc_osrv_destroy(s[1]);
}

Test(rewind, a_reader_that_takes_nothing_is_closed_and_does_not_hold_up_another, .init = setup,
     .fini = teardown, .timeout = 60)
{
    struct src a = {.last = 200000};
    struct sc_osrv *s[1] = {server(0, &a)};
    struct sockaddr_un ad = {.sun_family = AF_UNIX};
    struct sc_osrv_stats ss;
    struct got g = {0};
    struct sc_rewind *r;
    uint8_t b[64];
    int fd = socket(AF_UNIX, SOCK_STREAM, 0), n;

    memcpy(ad.sun_path, path[0], strlen(path[0]) + 1);
    cr_assert_eq(connect(fd, (struct sockaddr *)&ad, sizeof(ad)), 0);
    n = sc_soup_encode_login_request(b, sizeof(b), "", "", "", 1);
    cr_assert_eq(write(fd, b, (size_t)n), n);
    for (int i = 0; i < 100; i++)
        step(s, 1, NULL);
    r = client(1, 1, 200000, &g);
    for (int i = 0; i < 20000 && !sc_rewind_done(r); i++) {
        if (i % 500 == 0) /* the idle reader keeps its session alive: its input is fine */
            cr_assert_eq(send(fd, "\0\1R", 3, MSG_NOSIGNAL), 3);
        step(s, 1, r);
    }
    cr_assert(sc_rewind_done(r), "the reading client stopped at %llu", (unsigned long long)g.next);
    cr_assert_eq(g.bad, 0);
    cr_assert_eq(g.msgs, 200000);
    for (int i = 0; i < 4000; i++) {
        if (i % 500 == 0)
            send(fd, "\0\1R", 3, MSG_NOSIGNAL);
        step(s, 1, NULL);
    }
    sc_osrv_get_stats(s[0], &ss);
    cr_assert_eq(ss.closed_slow, 1, "closed_slow %llu", (unsigned long long)ss.closed_slow);
    cr_assert_gt(ss.output_full, 0);
    cr_assert_eq(ss.closed_timeout, 0);
    close(fd);
    sc_rewind_destroy(r);
    sc_osrv_destroy(s[0]);
}

/* Log in on a raw socket asking for seq; the sequence Login Accepted names. */
static uint64_t
raw_login(struct sc_osrv *s, uint64_t seq, int *fdp)
{
    struct sockaddr_un ad = {.sun_family = AF_UNIX};
    struct sc_soup_pkt p;
    uint8_t b[256];
    size_t got = 0;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0), n;

    memcpy(ad.sun_path, path[0], strlen(path[0]) + 1);
    cr_assert_eq(connect(fd, (struct sockaddr *)&ad, sizeof(ad)), 0);
    n = sc_soup_encode_login_request(b, sizeof(b), "", "", "", seq);
    cr_assert_eq(write(fd, b, (size_t)n), n);
    for (int i = 0; i < 50 && got < 2 + SC_SOUP_LOGIN_ACCEPTED_LEN; i++) {
        struct sc_osrv *ss[1] = {s};
        ssize_t k;
        step(ss, 1, NULL);
        /* the Login Accepted alone: what follows it is the test's */
        if ((k = recv(fd, b + got, 2 + SC_SOUP_LOGIN_ACCEPTED_LEN - got, MSG_DONTWAIT)) > 0)
            got += (size_t)k;
    }
    cr_assert_gt(sc_soup_parse(b, got, 1024, SC_SOUP_FROM_SERVER, &p), 0);
    cr_assert_eq(p.type, SC_SOUP_LOGIN_ACCEPTED);
    *fdp = fd;
    return p.accepted.seq;
}

Test(rewind, login_0_starts_live_one_ahead_of_the_archive_is_capped_below_its_first_is_a_gap,
     .init = setup, .fini = teardown, .timeout = 60)
{
    struct src a = {.last = 500, .ngaps = 1, .gap = {{1, 99}}}; /* retention took 1..99 */
    struct sc_osrv *s[1] = {server(0, &a)};
    struct sc_osrv_stats ss;
    uint8_t b[4096];
    struct sc_soup_pkt p;
    uint64_t from, to;
    char why[32];
    ssize_t n = 0;
    int fd0, fd1, fd2;

    cr_assert_eq(raw_login(s[0], 0, &fd0), 501, "login 0: the next message archived");
    cr_assert_eq(raw_login(s[0], 1000000, &fd1), 501, "ahead: capped at the next");
    cr_assert_eq(raw_login(s[0], 50, &fd2), 50);
    for (int i = 0; i < 50; i++)
        step(s, 1, NULL);
    sc_osrv_get_stats(s[0], &ss);
    cr_assert_eq(ss.login_seq_ahead, 1);
    cr_assert_eq(ss.closed_gap, 1);
    cr_assert_eq(ss.tx_sequenced, 0, "nothing sent: the two live ones wait, the third has a gap");
    for (int i = 0; i < 20 && n <= 0; i++)
        n = recv(fd2, b, sizeof(b), MSG_DONTWAIT);
    cr_assert_gt(sc_soup_parse(b, (size_t)n, 1024, SC_SOUP_FROM_SERVER, &p), 0);
    cr_assert_eq(p.type, SC_SOUP_DEBUG);
    cr_assert_eq(sc_osrv_parse_gap(p.payload, p.payload_len, &from, &to, why, sizeof(why)), 0);
    cr_assert_eq(from, 50);
    cr_assert_eq(to, 99);
    cr_assert_str_eq(why, "not_received");
    cr_assert_eq(recv(fd2, b, sizeof(b), MSG_DONTWAIT), 0, "closed after it");
    a.last = 510; /* live: both sessions get 501..510 */
    for (int i = 0; i < 20; i++)
        step(s, 1, NULL);
    sc_osrv_get_stats(s[0], &ss);
    cr_assert_eq(ss.tx_sequenced, 20);
    close(fd0);
    close(fd1);
    close(fd2);
    sc_osrv_destroy(s[0]);
}

/* 40 logins from 1 that never read, at once: each would take its output
 * buffer's worth from the source in one do_work (the archive's recording
 * stalled for it and lost live messages); all of them together get at most
 * about a MiB a do_work, in turns, and each gets its share. */
Test(rewind, many_logins_from_1_share_a_bounded_read_per_do_work_in_turns, .init = setup,
     .fini = teardown, .timeout = 60)
{
    enum { N = 40 };
    struct src a = {.last = 200000};
    struct sc_osrv *s[1] = {server(0, &a)};
    struct sockaddr_un ad = {.sun_family = AF_UNIX};
    struct sc_osrv_stats ss;
    uint8_t b[4096];
    int fd[N], n;

    memcpy(ad.sun_path, path[0], strlen(path[0]) + 1);
    n = sc_soup_encode_login_request(b, sizeof(b), "", "", "", 1);
    for (int i = 0; i < N; i++) {
        int rcv = 4096;
        fd[i] = socket(AF_UNIX, SOCK_STREAM, 0);
        setsockopt(fd[i], SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
        cr_assert_eq(connect(fd[i], (struct sockaddr *)&ad, sizeof(ad)), 0);
        cr_assert_eq(write(fd[i], b, (size_t)n), n);
    }
    sc_osrv_do_work(s[0], t);
    sc_osrv_get_stats(s[0], &ss);
    cr_assert_eq(ss.logins, N);
    /* 1 MiB and one message past it, of messages 11 bytes or more with their header */
    cr_assert_leq(ss.tx_sequenced, (1u << 20) / 11 + 1, "one do_work queued %llu messages",
                  (unsigned long long)ss.tx_sequenced);
    for (int i = 0; i < 400; i++) {
        sc_osrv_do_work(s[0], t);
        t += MS(1);
    }
    for (int i = 0; i < N; i++)
        cr_assert_gt(recv(fd[i], b, sizeof(b), MSG_DONTWAIT), 0, "session %d got nothing", i);
    for (int i = 0; i < N; i++)
        close(fd[i]);
    sc_osrv_destroy(s[0]);
}

/* ------------------------------- hostile servers against the client */

/* A server that answers every connection with a fixed script (whatever the
 * login asked), then closes it (or keeps it open and drains it: hang). */
struct fake {
    int lfd, fd;
    uint32_t accepts;
    bool hang;
    uint32_t trickle, ticks; /* hang: a byte of a packet that never ends every `trickle` */
    size_t len;
    uint8_t out[1024];
};

static void
fake_listen(struct fake *f, int i)
{
    struct sockaddr_un ad = {.sun_family = AF_UNIX};

    f->fd = -1;
    f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    memcpy(ad.sun_path, path[i], strlen(path[i]) + 1);
    cr_assert_eq(bind(f->lfd, (struct sockaddr *)&ad, sizeof(ad)), 0);
    cr_assert_eq(listen(f->lfd, 16), 0);
}

static void
fake_put(struct fake *f, uint8_t type, const void *payload, size_t len)
{
    cr_assert_leq(f->len + 3 + len, sizeof(f->out));
    sc_soup_put_hdr(f->out + f->len, type, (uint16_t)len);
    memcpy(f->out + f->len + 3, payload, len);
    f->len += 3 + len;
}

static void
fake_accepted(struct fake *f, uint64_t seq)
{
    int n = sc_soup_encode_login_accepted(f->out + f->len, sizeof(f->out) - f->len, "A", seq);

    cr_assert_gt(n, 0);
    f->len += (size_t)n;
}

static void
fake_msg(struct fake *f, uint64_t seq)
{
    uint8_t b[64];

    fake_put(f, SC_SOUP_SEQUENCED, b, msg_of(seq, b));
}

static void
fake_step(struct fake *f)
{
    uint8_t b[256];

    if (f->fd >= 0) {
        ssize_t n = recv(f->fd, b, sizeof(b), MSG_DONTWAIT);
        if (f->trickle && ++f->ticks % f->trickle == 0)
            send(f->fd, "x", 1, MSG_NOSIGNAL);
        if (n == 0 || (n < 0 && errno != EAGAIN)) {
            close(f->fd);
            f->fd = -1;
        }
        return;
    }
    if ((f->fd = accept4(f->lfd, NULL, NULL, SOCK_NONBLOCK)) < 0)
        return;
    f->accepts++;
    cr_assert_eq(send(f->fd, f->out, f->len, MSG_NOSIGNAL), (ssize_t)f->len);
    if (!f->hang) {
        close(f->fd);
        f->fd = -1;
    }
}

static void
fake_close(struct fake *f)
{
    if (f->fd >= 0)
        close(f->fd);
    close(f->lfd);
}

/* one simulated millisecond against fake servers */
static void
fstep(struct fake *f, int n, struct sc_rewind *r)
{
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < n; i++)
            fake_step(&f[i]);
        sc_rewind_do_work(r, t);
    }
    t += MS(1);
}

Test(rewind, a_login_accepted_ahead_of_the_request_is_a_gap_not_a_silent_skip, .init = setup,
     .fini = teardown, .timeout = 30)
{
    struct fake f[1] = {{0}};
    struct got g = {0};
    struct sc_rewind *r;
    struct sc_rewind_stats st;

    fake_listen(&f[0], 0);
    fake_accepted(&f[0], 1000); /* asked for 5 */
    fake_msg(&f[0], 1000);
    fake_msg(&f[0], 1001);
    r = client(1, 5, 1001, &g);
    for (int i = 0; i < 2000 && !sc_rewind_done(r); i++)
        fstep(f, 1, r);
    sc_rewind_get_stats(r, &st);
    cr_assert_eq(g.bad, 0, "delivered out of order (5..999 skipped unreported)");
    cr_assert_eq(g.gaps, 1);
    cr_assert_eq(g.gap[0][0], 5);
    cr_assert_eq(g.gap[0][1], 999);
    cr_assert(sc_rewind_done(r), "stopped at %llu", (unsigned long long)g.next);
    cr_assert_eq(g.msgs, 2);
    cr_assert_eq(st.duplicates, 0);
    sc_rewind_destroy(r);
    fake_close(&f[0]);
}

Test(rewind, a_gap_debug_packet_with_absurd_fields_is_ignored, .init = setup, .fini = teardown,
     .timeout = 30)
{
    static const char *bad[] = {
        "gap 5 3 not_held",                      /* FROM > TO */
        "gap 0 3 not_held",                      /* FROM 0 */
        "gap 1 -1 not_held",                     /* %llu takes it as 2^64 - 1 */
        "gap -1 5 not_held",
        "gap +1 5 not_held",
        "gap  1 5 not_held",                     /* two blanks */
        "gap 1 18446744073709551615 not_held",   /* 2^64 - 1: TO + 1 wraps to 0 */
        "gap 1 18446744073709551616 not_held",   /* 2^64 */
        "gap 1 99999999999999999999999 not_held", /* 23 digits */
        "gap x y not_held",
        "gap 1 5",
        "gap 1 5 ",
    };
    struct fake f[1] = {{0}};
    struct got g = {0};
    struct sc_rewind *r;
    struct sc_rewind_stats st;
    uint64_t from, to;
    char why[32];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(sc_osrv_parse_gap(bad[i], strlen(bad[i]), &from, &to, why, sizeof(why)),
                     -EINVAL, "%s", bad[i]);
    cr_assert_eq(sc_osrv_parse_gap("gap 1 18446744073709551614 x", 28, &from, &to, why, 32), 0);
    cr_assert_eq(to, UINT64_MAX - 1);
    /* the client, from a server that sends them all after its login, then 1..3:
     * the stream goes on as if they were not there */
    fake_listen(&f[0], 0);
    fake_accepted(&f[0], 1);
    fake_put(&f[0], SC_SOUP_DEBUG, "gap 1 -1 not_held", 17);
    fake_put(&f[0], SC_SOUP_DEBUG, "gap 1 18446744073709551615 not_held", 35);
    fake_put(&f[0], SC_SOUP_DEBUG, "gap 1 18446744073709551616 not_held", 35);
    fake_put(&f[0], SC_SOUP_DEBUG, "gap 2 1 not_held", 16);
    fake_put(&f[0], SC_SOUP_DEBUG, "\xff\x00gap", 5);
    for (uint64_t s = 1; s <= 3; s++)
        fake_msg(&f[0], s);
    r = client(1, 1, 3, &g);
    for (int i = 0; i < 2000 && !sc_rewind_done(r); i++)
        fstep(f, 1, r);
    sc_rewind_get_stats(r, &st);
    cr_assert(sc_rewind_done(r), "stopped at %llu", (unsigned long long)sc_rewind_next(r));
    cr_assert_eq(g.bad, 0);
    cr_assert_eq(g.gaps, 0);
    cr_assert_eq(g.msgs, 3);
    cr_assert_eq(st.gaps_seen, 0);
    sc_rewind_destroy(r);
    fake_close(&f[0]);
}

Test(rewind, servers_that_accept_then_drop_or_send_garbage_are_retried_at_the_reconnect_pace,
     .init = setup, .fini = teardown, .timeout = 30)
{
    struct fake f[2] = {{0}, {0}};
    struct got g = {0};
    struct sc_rewind *r;
    struct sc_rewind_stats st;

    fake_listen(&f[0], 0);
    fake_listen(&f[1], 1);
    fake_accepted(&f[0], 1); /* then closes */
    fake_accepted(&f[1], 1);
    memcpy(f[1].out + f[1].len, "\0\0\0", 3); /* then a packet of length 0 */
    f[1].len += 3;
    r = client(2, 1, 0, &g);
    for (int i = 0; i < 1000; i++) /* a second; reconnect_ns is 100 ms */
        fstep(f, 2, r);
    sc_rewind_get_stats(r, &st);
    cr_assert_eq(g.msgs, 0);
    cr_assert_eq(g.gaps, 0);
    cr_assert_geq(st.protocol_errors, 1);
    cr_assert_geq(f[0].accepts, 5);
    cr_assert_leq(st.connects, 2 * 12, "a reconnect loop: %llu connects in a second",
                  (unsigned long long)st.connects);
    sc_rewind_destroy(r);
    fake_close(&f[0]);
    fake_close(&f[1]);
}

Test(rewind, a_server_trickling_bytes_of_a_packet_that_never_ends_times_out, .init = setup,
     .fini = teardown, .timeout = 30)
{
    struct fake f[2] = {{0}, {0}};
    struct got g = {0};
    struct sc_rewind *r;
    struct sc_rewind_stats st;

    fake_listen(&f[0], 0);
    fake_listen(&f[1], 1);
    fake_accepted(&f[0], 1);
    memcpy(f[0].out + f[0].len, "\xff\xff+", 3); /* a Debug packet of 65,534 bytes, */
    f[0].len += 3;
    f[0].hang = true;
    f[0].trickle = 200; /* a byte every 100 ms (two fake_steps a millisecond) */
    fake_accepted(&f[1], 1);
    for (uint64_t s = 1; s <= 3; s++)
        fake_msg(&f[1], s);
    r = client(2, 1, 3, &g);
    for (int i = 0; i < 10000 && !sc_rewind_done(r); i++)
        fstep(f, 2, r);
    sc_rewind_get_stats(r, &st);
    cr_assert(sc_rewind_done(r), "held by the trickle at %llu", (unsigned long long)g.next);
    cr_assert_eq(st.timeouts, 1);
    cr_assert_eq(g.msgs, 3);
    cr_assert_eq(g.bad, 0);
    sc_rewind_destroy(r);
    fake_close(&f[0]);
    fake_close(&f[1]);
}

/* Accepted at 0 (sequences start at 1) or with its own sequence: nothing delivered;
 * behind the request: what it repeats is counted, not delivered twice. */
Test(rewind, a_login_accepted_at_0_is_refused_and_one_behind_is_not_delivered_twice,
     .init = setup, .fini = teardown, .timeout = 30)
{
    struct fake f[2] = {{0}, {0}};
    struct got g = {0};
    struct sc_rewind *r;
    struct sc_rewind_stats st;

    fake_listen(&f[0], 0);
    fake_listen(&f[1], 1);
    fake_accepted(&f[0], 0);
    fake_msg(&f[0], 10);
    fake_accepted(&f[1], 7); /* asked for 10 */
    for (uint64_t s = 7; s <= 12; s++)
        fake_msg(&f[1], s);
    r = client(2, 10, 12, &g);
    for (int i = 0; i < 2000 && !sc_rewind_done(r); i++)
        fstep(f, 2, r);
    sc_rewind_get_stats(r, &st);
    cr_assert(sc_rewind_done(r));
    cr_assert_eq(g.bad, 0);
    cr_assert_eq(g.msgs, 3);
    cr_assert_eq(st.duplicates, 3);
    cr_assert_geq(st.protocol_errors, 1);
    sc_rewind_destroy(r);
    fake_close(&f[0]);
    fake_close(&f[1]);
}

/* ------------------------------------------ the subscriber's recovery */

#include <arpa/inet.h>

#include "engine/recovery.h"

struct app {
    uint64_t next, msgs, bad, losses, lost_first, lost_last;
    int reason;
    uint64_t repairs, rep_first, rep_last, rep_packets, rep_wait_ns; /* on_repair */
    int rep_how;
};

static void
app_repair(void *ctx, const struct sc_sub_event *ev)
{
    struct app *a = ctx;

    a->repairs++;
    a->rep_first = ev->repair.first;
    a->rep_last = ev->repair.last;
    a->rep_packets = ev->repair.packets;
    a->rep_wait_ns = ev->repair.wait_ns;
    a->rep_how = ev->repair.how;
}

static void
app_msg(void *ctx, const struct sc_source *src, uint64_t seq, const void *m, size_t len)
{
    struct app *a = ctx;
    uint8_t b[64];
    size_t n = msg_of(seq, b);

    (void)src;
    if (seq != a->next || len != n || memcmp(m, b, n))
        a->bad++;
    a->next = seq + 1;
    a->msgs++;
}

static void
app_event(void *ctx, const struct sc_sub_event *ev)
{
    struct app *a = ctx;

    if (ev->type != SC_EV_LOSS)
        return;
    if (!a->losses++)
        a->lost_first = ev->loss.first;
    a->lost_last = ev->loss.last;
    a->reason = ev->loss.reason;
    if (ev->loss.first != a->next)
        a->bad++;
    a->next = ev->loss.last + 1;
}

static uint16_t tcp_port;
static struct sc_channel_cfg rch;

static struct sc_osrv *
tcp_server(struct src *s)
{
    struct sc_osrv_source os = {s, src_last, src_get};
    struct sc_session_cfg sc = cfg.sessions[0];
    struct sc_osrv *srv;
    struct sc_err err;

    snprintf(sc.listen, sizeof(sc.listen), "tcp:127.0.0.1:%u", tcp_port);
    cr_assert_eq(sc_osrv_create_source(&srv, &sc, &os, &err), 0, "%s", err.msg);
    return srv;
}

static void
rsetup(void)
{
    setup();
    tcp_port = (uint16_t)(20000 + getpid() % 20000);
    rch = cfg.channels[0];
    rch.recovery.nrewind = 1;
    inet_pton(AF_INET, "127.0.0.1", &rch.recovery.rewind[0].addr);
    rch.recovery.rewind[0].port = tcp_port;
}

static const struct sc_source live_src = {.name = "live"};

/* the live stream: message seq through the subscriber's callbacks */
static void
live(struct sc_sub_callbacks *cb, uint64_t seq)
{
    uint8_t b[64];
    size_t n = msg_of(seq, b);

    cb->on_msg(cb->ctx, &live_src, seq, b, n);
}

static void
live_loss(struct sc_sub_callbacks *cb, uint64_t first, uint64_t last)
{
    struct sc_sub_event ev = {.type = SC_EV_LOSS, .src = &live_src};

    ev.loss.reason = SC_LOSS_NOT_IN_WINDOW;
    ev.loss.first = first;
    ev.loss.last = last;
    ev.loss.packets = last - first + 1;
    cb->on_event(cb->ctx, &ev);
}

static void
rstep(struct sc_osrv *s, struct sc_recovery *r)
{
    for (int k = 0; k < 2; k++) {
        if (s)
            sc_osrv_do_work(s, t);
        sc_recovery_do_work(r, t);
    }
    t += MS(1);
}

/* Live 1..10,000 at 5 a millisecond with 2,000..2,999 lost (not_in_window);
 * the archive holds all of it, growing as live does. */
static int per_ms = 5;

static void
lossy_run(struct sc_recovery *r, struct sc_sub_callbacks *cb, struct src *a, struct sc_osrv *s,
          uint64_t first_live)
{
    for (uint64_t seq = first_live; seq <= 10000;) {
        for (int k = 0; k < per_ms && seq <= 10000; k++, seq++) {
            a->last = seq;
            if (seq == 2000)
                live_loss(cb, 2000, 2999);
            if (seq < 2000 || seq > 2999)
                live(cb, seq);
        }
        rstep(s, r);
    }
    for (int i = 0; i < 2000; i++)
        rstep(s, r);
}

/* A recovery (rch) with the archive a behind a server (none: no server), the
 * live stream from first_live; what the application got in *app, the counters
 * in *st. */
static void
run_recovery(struct src *a, bool server, uint64_t first_live, struct app *app,
             struct sc_sub_stats *st)
{
    struct sc_osrv *s = server ? tcp_server(a) : NULL;
    struct sc_sub_callbacks acb = {app_msg, app_event, app, app_repair}, cb;
    struct sc_recovery *r;
    struct sc_err err;

    app->next = 1;
    cr_assert_eq(sc_recovery_create(&r, &rch, &acb, &cb, &err), 0, "%s", err.msg);
    lossy_run(r, &cb, a, s, first_live);
    memset(st, 0, sizeof(*st));
    sc_recovery_stats(r, st);
    cr_assert_eq(app->bad, 0, "out of order, repeated or wrong: %llu", (unsigned long long)app->bad);
    sc_recovery_destroy(r);
    sc_osrv_destroy(s);
}

Test(recovery, a_loss_the_window_cannot_repair_comes_from_the_archive_and_merges_into_live,
     .init = rsetup, .fini = teardown, .timeout = 60)
{
    struct src a = {0};
    struct app app = {0};
    struct sc_sub_stats st;

    run_recovery(&a, true, 1, &app, &st);
    cr_assert_eq(app.losses, 0, "loss reported: %llu-%llu", (unsigned long long)app.lost_first,
                 (unsigned long long)app.lost_last);
    cr_assert_eq(app.msgs, 10000, "delivered %llu", (unsigned long long)app.msgs);
    cr_assert_eq(st.recoveries, 1);
    cr_assert_geq(st.msgs_rewind, 1000);
    cr_assert_gt(st.msgs_held, 0);
    cr_assert_eq(st.msgs_delivered, 10000);
    /* said as a repair: the rewound range, from the loss's first message */
    cr_assert_eq(app.repairs, 1);
    cr_assert_eq(app.rep_how, SC_REPAIR_REWIND);
    cr_assert_eq(app.rep_first, 2000);
    cr_assert_geq(app.rep_last, 2999);
    cr_assert_eq(app.rep_packets, st.msgs_rewind);
    cr_assert_eq(app.rep_last - app.rep_first + 1, app.rep_packets);
    cr_assert_gt(app.rep_wait_ns, 0);
}

Test(recovery, late_join_archive_with_a_small_hold_restarts_and_still_merges, .init = rsetup,
     .fini = teardown, .timeout = 60)
{
    struct src a = {.last = 5000};
    struct app app = {0};
    struct sc_sub_stats st;

    rch.late_join = SC_LATE_JOIN_ARCHIVE;
    rch.recovery.hold_bytes = 4096; /* about 90 messages, fewer than live brings a step */
    per_ms = 200;
    run_recovery(&a, true, 5001, &app, &st); /* joined at 5,001 */
    per_ms = 5;
    cr_assert_eq(app.losses, 0);
    cr_assert_eq(app.msgs, 10000, "delivered %llu", (unsigned long long)app.msgs);
    cr_assert_eq(st.recoveries, 1);
    cr_assert_gt(st.recovery_hold_restarts, 0, "the hold never filled");
}

Test(recovery, a_range_the_archive_lacks_is_not_in_archive_and_nothing_else, .init = rsetup,
     .fini = teardown, .timeout = 60)
{
    struct src a = {.ngaps = 1, .gap = {{2500, 2600}}};
    struct app app = {0};
    struct sc_sub_stats st;

    run_recovery(&a, true, 1, &app, &st);
    cr_assert_eq(app.losses, 1);
    cr_assert_eq(app.lost_first, 2500);
    cr_assert_eq(app.lost_last, 2600);
    cr_assert_eq(app.reason, SC_LOSS_NOT_IN_ARCHIVE);
    cr_assert_eq(app.msgs, 10000 - 101);
    cr_assert_eq(st.lost_not_in_archive, 101);
}

Test(recovery, no_archive_reachable_reports_the_wait_after_recovery_timeout, .init = rsetup,
     .fini = teardown, .timeout = 60)
{
    struct src a = {0};
    struct app app = {0};
    struct sc_sub_stats st;

    rch.recovery.timeout_ns = MS(2000);
    run_recovery(&a, false, 1, &app, &st); /* no server */
    cr_assert_eq(app.losses, 1);
    cr_assert_eq(app.lost_first, 2000);
    cr_assert_eq(app.lost_last, 2999);
    cr_assert_eq(app.reason, SC_LOSS_NOT_IN_ARCHIVE);
    cr_assert_eq(app.msgs, 9000, "delivered %llu", (unsigned long long)app.msgs);
}
