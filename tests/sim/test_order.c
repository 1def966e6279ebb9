/* Order sessions in one process over a real Unix socket, with simulated time:
 * an idle session lives on heartbeats alone for 60 s; hostile connections --
 * bad lengths, unknown types, a 65,535-byte length, a login flood, wrong
 * passwords, one that never logs in -- each get their rejection or close and a
 * counter, while an honest client keeps being served; a login fed one byte at a
 * time is accepted. Limits: 100 connections trickling a login a byte every 2 s
 * do not keep a client out; failed logins lock an address out, and a full
 * lockout table still limits (TCP from several loopback addresses); a full
 * session table refuses a login. The journal: appends the disk refuses and a
 * batch whose sync fails are never acknowledged (the sync's loss reported),
 * and the sequence stays whole. Create failures say why. The agent contract:
 * deadlines alone keep an idle session alive and name every timer, and one
 * runner on one thread serves two servers, a client and the application's
 * agents, asleep while nothing is due. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <seqcast/agent.h>
#include <seqcast/order.h>

#include <seqcast/proto/endian.h>
#include <seqcast/proto/soup.h>

#include "engine/journal.h"
#include "engine/order_int.h"

#define MS(x) ((uint64_t)(x) * 1000000u)

static struct sc_config cfg;
static char path[108];
static uint64_t got, last_seq, events[8];

static void
on_msg(void *ctx, uint64_t seq, const void *msg, size_t len)
{
    (void)ctx;
    (void)msg;
    (void)len;
    if (seq == last_seq + 1)
        got++;
    last_seq = seq;
}

static void
on_event(void *ctx, enum sc_ocli_event ev, uint64_t arg)
{
    (void)ctx;
    (void)arg;
    events[ev]++;
}

static char jpath[108];

/* session T1 on a Unix socket, plus `extra` lines of YAML (indented 4) */
static void
load(const char *extra)
{
    char y[2048];
    struct sc_err err;

    snprintf(y, sizeof(y),
             "sessions:\n"
             "  - name: T1\n"
             "    listen: unix:%s\n"
             "    connect: unix:%s\n"
             "    heartbeat: 1s\n"
             "    timeout: 15s\n"
             "    max_message: 1024\n"
             "    users: [ {name: DESK1, password: pw1} ]\n"
             "    login: {user: DESK1, password: pw1}\n"
             "%s",
             path, path, extra);
    cr_assert_eq(sc_config_load_string(&cfg, "t.yaml", y, strlen(y), &err), 0, "%s", err.msg);
}

static void
setup(void)
{
    snprintf(path, sizeof(path), "/tmp/seqcast-order-test-%d.sock", (int)getpid());
    snprintf(jpath, sizeof(jpath), "/tmp/seqcast-order-test-%d.jnl", (int)getpid());
    unlink(jpath);
    load("");
    got = last_seq = 0;
    memset(events, 0, sizeof(events));
}

static void
teardown(void)
{
    unlink(path);
    unlink(jpath);
}

static int
raw_connect(void)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    memcpy(a.sun_path, path, strlen(path) + 1);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0, "connect: %s", strerror(errno));
    return fd;
}

/* run both agents for `ms` of simulated time in 10 ms steps */
static uint64_t t;
static void
run(struct sc_osrv *s, struct sc_ocli *c, uint64_t ms)
{
    for (uint64_t end = t + MS(ms); t < end; t += MS(10)) {
        for (int k = 0; k < 3; k++) { /* let bytes cross the socket within a step */
            sc_osrv_do_work(s, t);
            if (c)
                sc_ocli_do_work(c, t);
        }
    }
}

Test(order, idle_session_lives_on_heartbeats, .init = setup, .fini = teardown)
{
    struct sc_osrv *s;
    struct sc_ocli *c;
    struct sc_osrv_stats ss;
    struct sc_ocli_stats cs;
    struct sc_err err;

    t = MS(1000);
    cr_assert_eq(sc_osrv_create(&s, &cfg, "T1", NULL, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(sc_ocli_create(&c, &cfg, "T1", 1, on_msg, on_event, NULL, &err), 0, "%s",
                 err.msg);
    run(s, c, 200);
    cr_assert(sc_ocli_logged_in(c));
    run(s, c, 60000); /* 60 s, nothing to say: heartbeats only */
    sc_osrv_get_stats(s, &ss);
    sc_ocli_get_stats(c, &cs);
    cr_assert(sc_ocli_logged_in(c), "the idle session died");
    cr_assert_eq(cs.logins, 1);
    cr_assert_eq(ss.closed_timeout, 0);
    cr_assert_eq(events[SC_OCLI_DISCONNECTED], 0);
    cr_assert_geq(ss.heartbeats, 55, "server heartbeats: %llu", (unsigned long long)ss.heartbeats);
    cr_assert_geq(cs.tx_heartbeats, 55, "client heartbeats: %llu", (unsigned long long)cs.tx_heartbeats);
    cr_assert_leq(ss.heartbeats, 61, "more heartbeats than one a second");
    sc_ocli_destroy(c);
    sc_osrv_destroy(s);
}

Test(order, a_peer_that_stops_talking_is_dropped_at_the_timeout, .init = setup, .fini = teardown)
{
    struct sc_osrv *s;
    struct sc_ocli *c;
    struct sc_osrv_stats ss;
    struct sc_err err;
    uint64_t stopped;

    t = MS(1000);
    cr_assert_eq(sc_osrv_create(&s, &cfg, "T1", NULL, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(sc_ocli_create(&c, &cfg, "T1", 1, on_msg, on_event, NULL, &err), 0, "%s",
                 err.msg);
    run(s, c, 2000);
    stopped = t;
    /* the client is frozen: only the server runs. Its silence began with its last
     * heartbeat, at most one interval (1 s) before it froze: the close must come
     * 14 to 15 s after the freeze, inside the timeout's +-10 % */
    run(s, NULL, 13900);
    sc_osrv_get_stats(s, &ss);
    cr_assert_eq(ss.closed_timeout, 0, "closed before 14 s of silence");
    run(s, NULL, 1200);
    sc_osrv_get_stats(s, &ss);
    cr_assert_eq(ss.closed_timeout, 1, "not closed 15.1 s after the client froze (at %llu ns)",
                 (unsigned long long)stopped);
    sc_ocli_destroy(c);
    sc_osrv_destroy(s);
}

Test(order, hostile_connections_are_counted_and_the_honest_client_is_served, .init = setup,
     .fini = teardown)
{
    struct sc_osrv *s;
    struct sc_ocli *c;
    struct sc_osrv_stats ss;
    struct sc_err err;
    uint8_t b[128], reply[16];
    int fd[8], n, flood[20];

    t = MS(1000);
    cr_assert_eq(sc_osrv_create(&s, &cfg, "T1", NULL, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(sc_ocli_create(&c, &cfg, "T1", 1, on_msg, on_event, NULL, &err), 0, "%s",
                 err.msg);
    run(s, c, 100);
    cr_assert(sc_ocli_logged_in(c));

    fd[0] = raw_connect(); /* zero length */
    cr_assert_eq(write(fd[0], "\x00\x00", 2), 2);
    fd[1] = raw_connect(); /* unknown type */
    cr_assert_eq(write(fd[1], "\x00\x01Q", 3), 3);
    fd[2] = raw_connect(); /* a 65,535-byte length: refused from the header, no waiting */
    cr_assert_eq(write(fd[2], "\xff\xff", 2), 2);
    fd[3] = raw_connect(); /* data before a login */
    cr_assert_eq(write(fd[3], "\x00\x02U!", 4), 4);
    fd[4] = raw_connect(); /* wrong password: rejected with 'A' */
    n = sc_soup_encode_login_request(b, sizeof(b), "DESK1", "wrong", "", 1);
    cr_assert_eq(write(fd[4], b, (size_t)n), n);
    fd[5] = raw_connect(); /* unknown session: rejected with 'S' */
    n = sc_soup_encode_login_request(b, sizeof(b), "DESK1", "pw1", "NOPE", 1);
    cr_assert_eq(write(fd[5], b, (size_t)n), n);
    fd[6] = raw_connect(); /* a valid login, one byte at a time */
    n = sc_soup_encode_login_request(b, sizeof(b), "DESK1", "pw1", "", 0);
    for (int i = 0; i < n; i++) {
        cr_assert_eq(write(fd[6], b + i, 1), 1);
        run(s, c, 10);
    }
    fd[7] = raw_connect(); /* never logs in */
    for (int i = 0; i < 20; i++) { /* a login flood with a wrong password */
        flood[i] = raw_connect();
        n = sc_soup_encode_login_request(b, sizeof(b), "DESK1", "guess", "", 1);
        cr_assert_eq(write(flood[i], b, (size_t)n), n);
    }
    for (int i = 0; i < 100; i++) { /* the honest stream goes on meanwhile */
        sc_osrv_send(s, "fill", 4, t);
        run(s, c, 10);
    }
    sc_osrv_get_stats(s, &ss);
    cr_assert_eq(got, 100, "the honest client got %llu of 100", (unsigned long long)got);
    cr_assert_eq(ss.rx_bad[-SC_PERR_LENGTH], 1);
    cr_assert_geq(ss.rx_bad[-SC_PERR_TYPE], 2, "unknown type + data before login");
    cr_assert_eq(ss.rx_bad[-SC_PERR_OVERSIZE], 1);
    /* lockout.failures (5): the wrong password of fd[4] and four of the flood
     * are heard; then the address is locked and the other 16 are closed unheard */
    cr_assert_eq(ss.login_rejected_auth, 5, "heard %llu wrong passwords",
                 (unsigned long long)ss.login_rejected_auth);
    cr_assert_eq(ss.lockouts, 1);
    cr_assert_eq(ss.login_locked_out, 16);
    cr_assert_leq(read(flood[19], reply, sizeof(reply)), 0, "a locked-out login got an answer");
    cr_assert_eq(ss.login_rejected_session, 1);
    cr_assert_eq(ss.logins, 2, "the client and the byte-at-a-time login");
    cr_assert_eq(read(fd[4], reply, sizeof(reply)), 4);
    cr_assert_eq(reply[2], 'J');
    cr_assert_eq(reply[3], 'A');
    cr_assert_eq(read(fd[5], reply, sizeof(reply)), 4);
    cr_assert_eq(reply[3], 'S');
    run(s, c, 16000); /* the one that never logged in times out; the client lives on */
    sc_osrv_get_stats(s, &ss);
    cr_assert_eq(ss.closed_login_timeout, 1, "a connection that never logs in must be closed");
    cr_assert_eq(ss.closed_timeout, 1, "the byte-at-a-time login, silent since");
    cr_assert_eq(ss.pending, 0);
    cr_assert(sc_ocli_logged_in(c));
    for (int i = 0; i < 8; i++)
        close(fd[i]);
    for (int i = 0; i < 20; i++)
        close(flood[i]);
    sc_ocli_destroy(c);
    sc_osrv_destroy(s);
}

/* Sequence 0 asks for only new messages; N asks for N onwards; beyond what
 * the journal holds is counted at the server and reported by the client (its
 * server lost messages); End of Session ends the client for good (no
 * reconnect); a logout closes the connection. */
Test(order, resume_points_end_of_session_and_logout, .init = setup, .fini = teardown)
{
    struct sc_osrv *s;
    struct sc_ocli *from0, *from5, *from15, *from11;
    struct sc_osrv_stats ss;
    struct sc_ocli_stats cs;
    struct sc_err err;

    t = MS(1000);
    cr_assert_eq(sc_osrv_create(&s, &cfg, "T1", NULL, NULL, &err), 0, "%s", err.msg);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(sc_osrv_send(s, "old", 3, t), i + 1);
    cr_assert_eq(sc_ocli_create(&from0, &cfg, "T1", 0, on_msg, on_event, NULL, &err), 0);
    cr_assert_eq(sc_ocli_create(&from5, &cfg, "T1", 5, on_msg, on_event, NULL, &err), 0);
    cr_assert_eq(sc_ocli_create(&from15, &cfg, "T1", 15, on_msg, on_event, NULL, &err), 0);
    cr_assert_eq(sc_ocli_create(&from11, &cfg, "T1", 11, on_msg, on_event, NULL, &err), 0);
    for (int k = 0; k < 30; k++) {
        sc_osrv_do_work(s, t);
        sc_ocli_do_work(from0, t);
        sc_ocli_do_work(from5, t);
        sc_ocli_do_work(from15, t);
        sc_ocli_do_work(from11, t);
        t += MS(10);
    }
    sc_osrv_get_stats(s, &ss);
    cr_assert_eq(ss.login_seq_ahead, 1, "asking for 15 of 10 is not counted, or 11 (the next) is");
    sc_ocli_get_stats(from11, &cs);
    cr_assert_eq(cs.next_seq, 11);
    sc_ocli_destroy(from11);
    cr_assert_eq(events[SC_OCLI_REWOUND], 1, "the client did not report its server's loss");
    sc_ocli_get_stats(from15, &cs);
    cr_assert_eq(cs.next_seq, 11);
    sc_ocli_destroy(from15);
    sc_ocli_get_stats(from0, &cs);
    cr_assert_eq(cs.rx_sequenced, 0, "0 means only new messages");
    cr_assert_eq(cs.next_seq, 11);
    sc_ocli_get_stats(from5, &cs);
    cr_assert_eq(cs.rx_sequenced, 6, "5 means 5..10");
    sc_osrv_send(s, "new", 3, t);
    for (int k = 0; k < 10; k++) {
        sc_osrv_do_work(s, t);
        sc_ocli_do_work(from0, t);
        sc_ocli_do_work(from5, t);
        t += MS(10);
    }
    sc_ocli_get_stats(from0, &cs);
    cr_assert_eq(cs.rx_sequenced, 1);
    sc_ocli_logout(from5, t);
    sc_osrv_end_session(s, t);
    for (int k = 0; k < 50; k++) {
        sc_osrv_do_work(s, t);
        sc_ocli_do_work(from0, t);
        t += MS(100);
    }
    sc_osrv_get_stats(s, &ss);
    cr_assert_eq(ss.closed_logout, 1);
    cr_assert_eq(events[SC_OCLI_END_OF_SESSION], 1);
    cr_assert(!sc_ocli_logged_in(from0));
    sc_ocli_get_stats(from0, &cs);
    cr_assert_eq(cs.connects, 1, "no reconnect after End of Session");
    sc_ocli_destroy(from0);
    sc_ocli_destroy(from5);
    sc_osrv_destroy(s);
}

static uint64_t orders_seen;
static void
on_order(void *ctx, uint32_t conn, const char *user, const void *msg, size_t len)
{
    (void)ctx;
    (void)conn;
    (void)user;
    (void)msg;
    (void)len;
    orders_seen++;
}

/* sc_ocli_flush writes the queued order at once and reads nothing (no callback
 * runs in it); sc_osrv_deadline says "at once" only while a replay that fills
 * the socket's buffer in steps still has output ready, or a message was sent
 * since the last do_work; do_work reports its work, and 0 when idle. */
Test(order, flush_writes_without_reading_and_the_deadline_is_now_only_for_a_replay, .init = setup,
     .fini = teardown)
{
    static uint8_t big[1000];
    struct sc_osrv *s;
    struct sc_ocli *c;
    struct sc_ocli_stats cs;
    struct sc_err err;
    int more = 0, k;

    t = MS(1000);
    orders_seen = 0;
    cr_assert_eq(sc_osrv_create(&s, &cfg, "T1", on_order, NULL, &err), 0, "%s", err.msg);
    for (int i = 0; i < 3000; i++) /* 3 MB: more than a Unix socket's buffer */
        cr_assert_eq(sc_osrv_send(s, big, sizeof(big), t), i + 1);
    cr_assert_eq(sc_ocli_create(&c, &cfg, "T1", 1, on_msg, on_event, NULL, &err), 0, "%s",
                 err.msg);
    for (k = 0; k < 20000 && got < 3000; k++) { /* the replay: the server never waits */
        sc_osrv_do_work(s, t);
        more += sc_osrv_deadline(s, t) <= t;
        sc_ocli_do_work(c, t);
    }
    cr_assert_eq(got, 3000, "replayed %llu of 3000", (unsigned long long)got);
    cr_assert_gt(more, 0, "a replay larger than the socket buffer never asked to be called again");
    sc_osrv_do_work(s, t);
    cr_assert_gt(sc_osrv_deadline(s, t), t, "caught up, yet the server asks to be called again");
    cr_assert_eq(sc_osrv_do_work(s, t), 0, "idle, yet it reports work");

    sc_osrv_send(s, "fill", 4, t); /* queued and written by the server... */
    cr_assert_leq(sc_osrv_deadline(s, t), t, "a message sent, yet no call asked for");
    cr_assert_gt(sc_osrv_do_work(s, t), 0, "it wrote, yet reports no work");
    cr_assert_gt(sc_osrv_deadline(s, t), t, "written in one go, yet it asks to be called again");
    cr_assert_eq(sc_ocli_send(c, "order", 5, t), 0);
    cr_assert_eq(sc_ocli_flush(c, t), 1, "a queued order was not written");
    cr_assert_eq(got, 3000, "flush read the socket (a message callback ran)");
    cr_assert_eq(sc_ocli_flush(c, t), 0, "nothing left to write");
    for (k = 0; k < 100 && orders_seen < 1; k++)
        sc_osrv_do_work(s, t);
    cr_assert_eq(orders_seen, 1, "the flushed order did not reach the server");
    sc_ocli_do_work(c, t); /* ...and read by the client only here */
    cr_assert_eq(got, 3001);
    sc_ocli_get_stats(c, &cs);
    cr_assert_eq(cs.tx_unsequenced, 1);
    sc_ocli_destroy(c);
    sc_osrv_destroy(s);
}

static uint64_t
real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* sc_osrv_wait and sc_ocli_wait sleep until input comes (or their timeout),
 * in the read itself; what they learn or read waits for the next do_work
 * (no callback runs in a wait); a client not connected sleeps its timeout
 * (nothing can arrive), a shorter wait is timed to the microsecond; the
 * server's close wakes the client's wait. */
Test(order, waits_sleep_until_input_and_leave_the_work_to_do_work, .init = setup,
     .fini = teardown)
{
    struct sc_osrv *s;
    struct sc_ocli *c;
    struct sc_err err;
    uint64_t t0;
    int k;

    t = MS(1000);
    orders_seen = 0;
    cr_assert_eq(sc_osrv_create(&s, &cfg, "T1", on_order, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(sc_ocli_create(&c, &cfg, "T1", 1, on_msg, on_event, NULL, &err), 0, "%s",
                 err.msg);
    t0 = real_ms();
    cr_assert_eq(sc_ocli_wait(c, MS(30)), 0, "not connected: input from nowhere");
    cr_assert_geq(real_ms() - t0, 25, "not connected: the client's wait did not sleep");
    t0 = real_ms();
    cr_assert_eq(sc_osrv_wait(s, MS(30)), 0, "input without a client");
    cr_assert_geq(real_ms() - t0, 25, "the server's wait did not sleep");
    sc_ocli_do_work(c, t); /* connects */
    t0 = real_ms();
    cr_assert_gt(sc_osrv_wait(s, MS(2000)), 0, "the connection did not wake the server");
    cr_assert_lt(real_ms() - t0, 1000);
    run(s, c, 100);
    cr_assert(sc_ocli_logged_in(c));

    cr_assert_eq(sc_ocli_send(c, "order", 5, t), 0);
    cr_assert_eq(sc_ocli_flush(c, t), 1);
    t0 = real_ms();
    cr_assert_eq(sc_osrv_wait(s, MS(2000)), 1, "the order did not wake the server");
    cr_assert_lt(real_ms() - t0, 1000);
    cr_assert_eq(orders_seen, 0, "a callback ran in the wait");
    sc_osrv_do_work(s, t);
    cr_assert_eq(orders_seen, 1);
    cr_assert_eq(sc_osrv_send(s, "ack", 3, t), 1);
    sc_osrv_do_work(s, t); /* writes it */
    t0 = real_ms();
    cr_assert_eq(sc_ocli_wait(c, MS(2000)), 1, "the acknowledgement did not wake the client");
    cr_assert_lt(real_ms() - t0, 1000);
    cr_assert_eq(got, 0, "a callback ran in the wait");
    cr_assert_eq(sc_ocli_wait(c, MS(2000)), 1, "read bytes still wait for do_work");
    sc_ocli_do_work(c, t);
    cr_assert_eq(got, 1, "do_work did not deliver what the wait read");

    t0 = real_ms();
    cr_assert_eq(sc_ocli_wait(c, MS(30)), 0, "input from nowhere");
    cr_assert_geq(real_ms() - t0, 25, "the client's wait did not sleep");
    t0 = real_ms();
    for (k = 0; k < 100; k++) /* 100 waits of 100 us: ppoll, not a read timed in ticks */
        cr_assert_eq(sc_ocli_wait(c, 100000), 0, "input from nowhere");
    cr_assert_geq(real_ms() - t0, 9, "100 waits of 100 us took %llu ms",
                  (unsigned long long)(real_ms() - t0));
    cr_assert_lt(real_ms() - t0, 60, "100 waits of 100 us took %llu ms: rounded up to ticks",
                 (unsigned long long)(real_ms() - t0));
    sc_ocli_do_work(c, t);
    cr_assert(sc_ocli_logged_in(c), "a timed-out wait broke the session");

    sc_osrv_destroy(s); /* the server goes away: the client's wait wakes, do_work reports it */
    for (k = 0; k < 3 && !events[SC_OCLI_DISCONNECTED]; k++) {
        t0 = real_ms();
        sc_ocli_wait(c, MS(2000));
        cr_assert_lt(real_ms() - t0, 1000, "the close did not wake the client");
        sc_ocli_do_work(c, t);
    }
    cr_assert_eq(events[SC_OCLI_DISCONNECTED], 1);
    sc_ocli_destroy(c);
}

/* The deadlines are enough: calling the agents only at their deadlines (and
 * reading what crossed the socket meanwhile) keeps an idle session alive on
 * heartbeats for 60 s, in about two calls a second; a login deadline and the
 * client's reconnect back-off are deadlines too. */
Test(order, deadlines_name_every_timer, .init = setup, .fini = teardown)
{
    struct sc_osrv *s;
    struct sc_ocli *c;
    struct sc_osrv_stats ss;
    struct sc_ocli_stats cs;
    struct sc_err err;
    uint64_t end, calls = 0, dropped;
    int fd;

    load("    reconnect: {min: 300ms, max: 1s}\n");
    t = MS(1000);
    cr_assert_eq(sc_osrv_create(&s, &cfg, "T1", NULL, NULL, &err), 0, "%s", err.msg);
    sc_osrv_do_work(s, t);
    cr_assert_eq(sc_osrv_deadline(s, t), UINT64_MAX, "no connection, yet a timer");
    fd = raw_connect(); /* never logs in: closed at its login deadline, 3 s */
    sc_osrv_do_work(s, t);
    cr_assert_eq(sc_osrv_deadline(s, t), t + MS(3000), "the login deadline");
    t = sc_osrv_deadline(s, t);
    sc_osrv_do_work(s, t);
    sc_osrv_get_stats(s, &ss);
    cr_assert_eq(ss.closed_login_timeout, 1);
    close(fd);

    cr_assert_eq(sc_ocli_create(&c, &cfg, "T1", 1, on_msg, on_event, NULL, &err), 0, "%s",
                 err.msg);
    run(s, c, 100);
    cr_assert(sc_ocli_logged_in(c));
    for (end = t + MS(60000); t < end; calls++) {
        uint64_t ds = sc_osrv_deadline(s, t), dc = sc_ocli_deadline(c, t);
        cr_assert_gt(ds, t, "the server asks for a call at once, idle");
        cr_assert_gt(dc, t, "the client asks for a call at once, idle");
        cr_assert_leq(dc, t + MS(1000), "the client's next heartbeat is no deadline");
        t = ds < dc ? ds : dc;
        for (int k = 0; k < 2; k++) { /* a heartbeat written, then read by the other */
            sc_osrv_do_work(s, t);
            sc_ocli_do_work(c, t);
        }
    }
    sc_osrv_get_stats(s, &ss);
    sc_ocli_get_stats(c, &cs);
    cr_assert(sc_ocli_logged_in(c), "the session died on deadlines alone");
    cr_assert_eq(ss.closed_timeout, 0);
    cr_assert_eq(cs.logins, 1);
    cr_assert_geq(ss.heartbeats, 55);
    cr_assert_geq(cs.tx_heartbeats, 55);
    cr_assert_leq(calls, 130, "%llu calls for 60 idle seconds", (unsigned long long)calls);

    sc_osrv_destroy(s); /* the client loses its server: it retries after the back-off */
    for (int k = 0; k < 3 && !events[SC_OCLI_DISCONNECTED]; k++)
        sc_ocli_do_work(c, t);
    cr_assert_eq(events[SC_OCLI_DISCONNECTED], 1);
    dropped = t;
    cr_assert_eq(sc_ocli_deadline(c, t), dropped + MS(300), "the back-off");
    t = sc_ocli_deadline(c, t);
    sc_ocli_do_work(c, t); /* no server: refused, the back-off doubles */
    sc_ocli_get_stats(c, &cs);
    cr_assert_eq(cs.connects, 2);
    cr_assert_eq(sc_ocli_deadline(c, t), t + MS(600));
    sc_ocli_logout(c, t);
    cr_assert_eq(sc_ocli_deadline(c, t), UINT64_MAX, "logged out, yet a timer");
    sc_ocli_destroy(c);
}

static struct sc_osrv *acking; /* the server on_ack_order answers through */
static uint64_t acks_sent;
static void on_ack_order(void *ctx, uint32_t conn, const char *user, const void *msg, size_t len);

static char path_b[108];
static uint64_t thread_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* the application of the runner test: orders to the client, one at a time
 * (B acknowledges each), then one message to A's raw client */
struct app {
    struct sc_ocli *cli;
    struct sc_osrv *a;
    int sent, told;
};

static int
app_work(void *self, uint64_t now)
{
    struct app *p = self;

    if (p->sent < 100 && (uint64_t)p->sent == got && sc_ocli_logged_in(p->cli)) {
        cr_assert_eq(sc_ocli_send(p->cli, &p->sent, sizeof(p->sent), now), 0);
        sc_ocli_flush(p->cli, now);
        p->sent++;
        return 1;
    }
    if (p->sent == 100 && got == 100 && !p->told) { /* the session is idle: now A */
        cr_assert_eq(sc_osrv_send(p->a, "to A", 4, now), 1);
        p->told = 1;
        return 1;
    }
    return 0;
}

/* A's client, a raw connection, as an agent too (the runner wakes on its
 * input): when A's message came */
struct raw {
    int fd;
    size_t len;
    uint8_t b[512];
    uint64_t got_at;
};

static int
raw_work(void *self, uint64_t now)
{
    struct raw *w = self;
    struct sc_soup_pkt p;
    ssize_t n = recv(w->fd, w->b + w->len, sizeof(w->b) - w->len, MSG_DONTWAIT);
    size_t off = 0;
    int rc;

    if (n <= 0)
        return 0;
    w->len += (size_t)n;
    while ((rc = sc_soup_parse(w->b + off, w->len - off, 1024, SC_SOUP_FROM_SERVER, &p)) > 0) {
        if (p.type == SC_SOUP_SEQUENCED && p.payload_len == 4 && !memcmp(p.payload, "to A", 4))
            w->got_at = now;
        off += (size_t)rc;
    }
    return 1;
}

static int
raw_fd(const void *self)
{
    return ((const struct raw *)self)->fd;
}

/* One runner on one thread serves two servers and a client, with the
 * application's work as a fourth agent: it sleeps (not spins) while the
 * client waits to reconnect to a server not up yet -- the client's fd is
 * valid between connections -- and while all is idle; the client's orders
 * are acknowledged by B; a message sent on A outside its do_work goes out at
 * once (its deadline says so), not at A's next heartbeat a second later. */
Test(order, one_runner_serves_two_servers_and_a_client, .init = setup, .fini = teardown,
     .timeout = 30)
{
    static const struct sc_agent_ops app_ops = { "app", app_work, NULL, NULL, NULL };
    static const struct sc_agent_ops raw_ops = { "raw", raw_work, NULL, NULL, raw_fd };
    static struct raw raw;
    struct sc_osrv *a, *b;
    struct sc_ocli *c;
    struct sc_runner *r;
    struct sc_err err;
    struct app app = { 0 };
    uint8_t login[64];
    uint64_t t0, cpu0, told_at = 0;
    char y[1024];
    int n;

    snprintf(path_b, sizeof(path_b), "/tmp/seqcast-order-test-%d-b.sock", (int)getpid());
    snprintf(y, sizeof(y),
             "sessions:\n"
             "  - name: A\n"
             "    listen: unix:%s\n"
             "    users: [ {name: DESK1, password: pw1} ]\n"
             "  - name: B\n"
             "    listen: unix:%s\n"
             "    connect: unix:%s\n"
             "    reconnect: {min: 100ms, max: 100ms}\n"
             "    users: [ {name: DESK1, password: pw1} ]\n"
             "    login: {user: DESK1, password: pw1}\n",
             path, path_b, path_b);
    unlink(path_b);
    cr_assert_eq(sc_config_load_string(&cfg, "t.yaml", y, strlen(y), &err), 0, "%s", err.msg);
    cr_assert_eq(sc_osrv_create(&a, &cfg, "A", NULL, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(sc_ocli_create(&c, &cfg, "B", 1, on_msg, on_event, NULL, &err), 0, "%s",
                 err.msg);
    app.cli = c;
    app.a = a;
    cr_assert_eq(sc_runner_create(&r, SC_IDLE_SLEEP, &err), 0);
    cr_assert_eq(sc_runner_add(r, sc_osrv_agent(a)), 0);
    cr_assert_eq(sc_runner_add(r, sc_ocli_agent(c)), 0);
    cr_assert_eq(sc_runner_add(r, (struct sc_agent){ &app_ops, &app }), 0);

    /* B is not up: the client retries every 100 ms, the runner sleeps between */
    t0 = sc_clock_now();
    cpu0 = thread_ns();
    while (sc_clock_now() - t0 < MS(300))
        sc_runner_run_once(r, MS(100));
    cr_assert_lt(thread_ns() - cpu0, MS(100), "the runner spun: %llu ms of CPU in 300 ms",
                 (unsigned long long)((thread_ns() - cpu0) / 1000000));
    {
        struct sc_ocli_stats cs;
        sc_ocli_get_stats(c, &cs);
        cr_assert_geq(cs.connects, 3, "no retries: %llu", (unsigned long long)cs.connects);
    }

    memset(&raw, 0, sizeof(raw));
    raw.fd = raw_connect(); /* A's client logs in */
    n = sc_soup_encode_login_request(login, sizeof(login), "DESK1", "pw1", "", 1);
    cr_assert_eq(write(raw.fd, login, (size_t)n), n);
    cr_assert_eq(sc_runner_add(r, (struct sc_agent){ &raw_ops, &raw }), 0);
    cr_assert_eq(sc_osrv_create(&b, &cfg, "B", on_ack_order, NULL, &err), 0, "%s", err.msg);
    acking = b;
    acks_sent = 0;
    cr_assert_eq(sc_runner_add(r, sc_osrv_agent(b)), 0);
    t0 = sc_clock_now();
    while (sc_clock_now() - t0 < MS(10000) && !raw.got_at) {
        sc_runner_run_once(r, MS(1000)); /* sleeps end on input and deadlines only */
        if (app.told && !told_at)
            told_at = sc_runner_now(r);
    }
    cr_assert_eq(got, 100, "the client got %llu of 100 acknowledgements",
                 (unsigned long long)got);
    cr_assert_eq(acks_sent, 100);
    cr_assert(told_at, "the application never turned to A");
    cr_assert(raw.got_at, "A's client never got its message");
    cr_assert_lt(raw.got_at - told_at, MS(500), "A sent its message %llu ms late",
                 (unsigned long long)((raw.got_at - told_at) / 1000000));

    t0 = sc_clock_now(); /* all idle: heartbeats only */
    cpu0 = thread_ns();
    while (sc_clock_now() - t0 < MS(300))
        sc_runner_run_once(r, MS(100));
    cr_assert_lt(thread_ns() - cpu0, MS(100), "idle, the runner spun: %llu ms of CPU",
                 (unsigned long long)((thread_ns() - cpu0) / 1000000));
    cr_assert(sc_ocli_logged_in(c));
    close(raw.fd);
    sc_runner_destroy(r);
    sc_ocli_destroy(c);
    sc_osrv_destroy(a);
    sc_osrv_destroy(b);
    unlink(path_b);
}

/* ------------------------------------------------------------- limits */


/* an order gateway in one line: every order gets a sequenced answer */
static void
on_ack_order(void *ctx, uint32_t conn, const char *user, const void *msg, size_t len)
{
    (void)ctx;
    (void)conn;
    (void)user;
    if (sc_osrv_send(acking, msg, len, t) > 0)
        acks_sent++;
}

struct attacker {
    int fd;
    int sent;         /* bytes of its login sent on this connection */
    uint64_t next_ns; /* its next byte */
};

static void
attack(struct attacker *a, const uint8_t *login, uint64_t *connects)
{
    char b;

    if (a->fd >= 0) { /* closed by the server? (a relentless attacker comes back at once) */
        ssize_t r = recv(a->fd, &b, 1, MSG_DONTWAIT | MSG_PEEK);
        if (r == 0 || (r < 0 && errno != EAGAIN)) {
            close(a->fd);
            a->fd = -1;
        }
    }
    if (a->fd < 0) {
        struct sockaddr_un u = { .sun_family = AF_UNIX };
        memcpy(u.sun_path, path, strlen(path) + 1);
        a->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (connect(a->fd, (struct sockaddr *)&u, sizeof(u)) < 0) {
            close(a->fd); /* the backlog is full: again next step */
            a->fd = -1;
            return;
        }
        (*connects)++;
        a->sent = 0;
        a->next_ns = t;
    }
    if (t >= a->next_ns && a->sent < 48) { /* never the 49th byte: never a whole login */
        if (send(a->fd, login + a->sent, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1)
            a->sent++;
        a->next_ns = t + MS(2000);
    }
}

/* The measured attack: connections that never log in, each trickling a byte
 * of a Login Request every 2 s, more of them than there are places. The
 * login deadline runs from the accept whatever arrives, and a full pending
 * table makes room by closing its oldest: the honest client logs in at once
 * and gets every acknowledgement while the attack goes on. */
Test(order, a_trickle_of_login_bytes_does_not_keep_a_client_out, .init = setup,
     .fini = teardown)
{
    enum { N = 100 };
    static struct attacker att[N];
    struct sc_osrv *s;
    struct sc_ocli *c = NULL;
    struct sc_osrv_stats ss;
    struct sc_err err;
    uint8_t login[64];
    uint64_t connects = 0, t_connect = 0, t_login = 0;
    int sent = 0;

    cr_assert_eq(sc_soup_encode_login_request(login, sizeof(login), "DESK1", "pw1", "", 1), 49);
    t = MS(1000);
    acks_sent = 0;
    cr_assert_eq(sc_osrv_create(&s, &cfg, "T1", on_ack_order, NULL, &err), 0, "%s", err.msg);
    acking = s;
    for (int i = 0; i < N; i++)
        att[i].fd = -1;
    for (uint64_t end = t + MS(25000); t < end; t += MS(10)) {
        for (int i = 0; i < N; i++)
            attack(&att[i], login, &connects);
        if (!c && t >= MS(11000)) { /* the attack has been at it for 10 s */
            cr_assert_eq(sc_ocli_create(&c, &cfg, "T1", 1, on_msg, on_event, NULL, &err), 0,
                         "%s", err.msg);
            t_connect = t;
        }
        for (int k = 0; k < 3; k++) {
            sc_osrv_do_work(s, t);
            if (c)
                sc_ocli_do_work(c, t);
        }
        if (c && sc_ocli_logged_in(c)) {
            if (!t_login)
                t_login = t;
            if (sent < 100 && sc_ocli_send(c, &sent, sizeof(sent), t) == 0)
                sent++;
        }
        sc_osrv_get_stats(s, &ss);
        cr_assert_leq(ss.pending, 64, "more pending connections than max_pending");
    }
    sc_osrv_get_stats(s, &ss);
    cr_assert(t_login, "the honest client never logged in (%llu attacker connections)",
              (unsigned long long)connects);
    cr_assert_leq(t_login - t_connect, MS(100), "logged in %llu ms after connecting",
                  (unsigned long long)((t_login - t_connect) / 1000000));
    cr_assert_eq(got, 100, "the honest client got %llu of 100 acknowledgements",
                 (unsigned long long)got);
    cr_assert_eq(ss.logins, 1, "an attacker logged in");
    cr_assert_eq(events[SC_OCLI_DISCONNECTED], 0);
    cr_assert_gt(ss.pending_evicted, 0, "a full pending table made no room");
    cr_assert_gt(connects, 2 * N, "the attack stopped");
    for (int i = 0; i < N; i++)
        if (att[i].fd >= 0)
            close(att[i].fd);
    sc_ocli_destroy(c);
    sc_osrv_destroy(s);
}

/* A connection that sends a byte of its login every 500 ms is closed 3 s
 * (login_timeout) after its accept all the same. */
Test(order, bytes_do_not_extend_the_login_deadline, .init = setup, .fini = teardown)
{
    struct sc_osrv *s;
    struct sc_osrv_stats ss;
    struct sc_err err;
    uint8_t login[64];
    uint64_t t0, closed = 0;
    int fd, sent = 0;
    char b;

    cr_assert_eq(sc_soup_encode_login_request(login, sizeof(login), "DESK1", "pw1", "", 1), 49);
    t = MS(1000);
    cr_assert_eq(sc_osrv_create(&s, &cfg, "T1", NULL, NULL, &err), 0, "%s", err.msg);
    fd = raw_connect();
    sc_osrv_do_work(s, t); /* accepted */
    t0 = t;
    for (; t < t0 + MS(10000) && !closed; t += MS(10)) {
        if ((t - t0) % MS(500) == 0 && sent < 48)
            cr_assert_eq(send(fd, login + sent++, 1, MSG_NOSIGNAL), 1);
        sc_osrv_do_work(s, t);
        if (recv(fd, &b, 1, MSG_DONTWAIT) == 0)
            closed = t;
    }
    sc_osrv_get_stats(s, &ss);
    cr_assert_eq(ss.closed_login_timeout, 1, "not closed in 10 s");
    cr_assert_eq(closed - t0, MS(3000), "closed %llu ms after the accept",
                 (unsigned long long)((closed - t0) / 1000000));
    close(fd);
    sc_osrv_destroy(s);
}

/* A login on a new raw connection; the server runs until it answers or
 * closes. @return the answer's type ('A', 'J'), 0 if closed unheard. */
static int
try_login(struct sc_osrv *s, int fd, const char *pw, char *reason)
{
    uint8_t b[64];
    int n = sc_soup_encode_login_request(b, sizeof(b), "DESK1", pw, "", 1);
    ssize_t r = -1;

    cr_assert_eq(write(fd, b, (size_t)n), n);
    for (int k = 0; k < 20 && r < 0; k++) {
        sc_osrv_do_work(s, t);
        r = recv(fd, b, sizeof(b), MSG_DONTWAIT);
        if (r < 0 && errno != EAGAIN)
            r = 0; /* reset: closed unheard */
    }
    close(fd);
    cr_assert_geq(r, 0, "no answer");
    if (r >= 4 && reason)
        *reason = (char)b[3];
    return r >= 3 ? b[2] : 0;
}

/* lockout.failures failed logins from one address (here a Unix-socket peer:
 * its uid) within lockout.window lock it out for lockout.duration: even a
 * right password is not heard meanwhile. Failures spread wider than the
 * window do not add up. */
Test(order, failed_logins_lock_their_address_out, .init = setup, .fini = teardown)
{
    struct sc_osrv *s;
    struct sc_osrv_stats ss;
    struct sc_err err;
    char why = 0;

    load("    lockout: {failures: 3, window: 10s, duration: 30s}\n");
    t = MS(1000);
    cr_assert_eq(sc_osrv_create(&s, &cfg, "T1", NULL, NULL, &err), 0, "%s", err.msg);
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(try_login(s, raw_connect(), "guess", &why), 'J');
        cr_assert_eq(why, 'A');
        t += MS(100);
    }
    t += MS(10000); /* past the window: these two no longer count */
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(try_login(s, raw_connect(), "guess", NULL), 'J');
        t += MS(100);
    }
    sc_osrv_get_stats(s, &ss);
    cr_assert_eq(ss.lockouts, 0, "failures 10 s apart added up");
    cr_assert_eq(try_login(s, raw_connect(), "guess", NULL), 'J'); /* the third in the window */
    cr_assert_eq(try_login(s, raw_connect(), "pw1", NULL), 0, "a locked-out address was heard");
    cr_assert_eq(try_login(s, raw_connect(), "guess", NULL), 0);
    sc_osrv_get_stats(s, &ss);
    cr_assert_eq(ss.lockouts, 1);
    cr_assert_eq(ss.login_locked_out, 2);
    cr_assert_eq(ss.login_rejected_auth, 5);
    cr_assert_eq(ss.logins, 0);
    t += MS(29000);
    cr_assert_eq(try_login(s, raw_connect(), "pw1", NULL), 0, "unlocked before the duration");
    t += MS(1100);
    cr_assert_eq(try_login(s, raw_connect(), "pw1", NULL), 'A', "still locked after it");
    sc_osrv_get_stats(s, &ss);
    cr_assert_eq(ss.logins, 1);
    cr_assert_eq(ss.login_locked_out, 3);
    sc_osrv_destroy(s);
}

static uint16_t tcp_port;

/* a TCP connection to the server from 127.0.0.<host> */
static int
tcp_from(int host)
{
    struct sockaddr_in src = { .sin_family = AF_INET }, dst = { .sin_family = AF_INET };
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    src.sin_addr.s_addr = htonl(0x7F000000u | (uint32_t)host);
    dst.sin_addr.s_addr = htonl(0x7F000001u);
    dst.sin_port = htons(tcp_port);
    cr_assert_eq(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0, "bind: %s", strerror(errno));
    cr_assert_eq(connect(fd, (struct sockaddr *)&dst, sizeof(dst)), 0, "connect: %s",
                 strerror(errno));
    return fd;
}

/* The lockout table is fixed (lockout.addresses). Full of locked addresses,
 * it counts the failures of every other address in one shared entry: the
 * limit degrades to one for all of them, never to none. */
Test(order, a_full_lockout_table_still_limits, .init = setup, .fini = teardown)
{
    struct sc_osrv *s;
    struct sc_osrv_stats ss;
    struct sc_err err;
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    char y[1024];
    int probe = socket(AF_INET, SOCK_STREAM, 0);

    /* a free port (the config wants a real one) */
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(0x7F000001u);
    cr_assert_eq(bind(probe, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(getsockname(probe, (struct sockaddr *)&a, &al), 0);
    close(probe);
    tcp_port = ntohs(a.sin_port);
    snprintf(y, sizeof(y),
             "sessions:\n"
             "  - name: T1\n"
             "    listen: tcp:127.0.0.1:%u\n"
             "    users: [ {name: DESK1, password: pw1} ]\n"
             "    lockout: {failures: 2, duration: 60s, addresses: 8}\n",
             tcp_port);
    cr_assert_eq(sc_config_load_string(&cfg, "t.yaml", y, strlen(y), &err), 0, "%s", err.msg);
    t = MS(1000);
    cr_assert_eq(sc_osrv_create(&s, &cfg, "T1", NULL, NULL, &err), 0, "%s", err.msg);
    for (int h = 2; h < 10; h++) /* 8 addresses fill the table, each locked */
        for (int i = 0; i < 2; i++)
            cr_assert_eq(try_login(s, tcp_from(h), "guess", NULL), 'J');
    sc_osrv_get_stats(s, &ss);
    cr_assert_eq(ss.lockouts, 8);
    cr_assert_eq(ss.lockout_table_full, 0);
    cr_assert_eq(try_login(s, tcp_from(2), "pw1", NULL), 0, "a locked address was heard");
    cr_assert_eq(try_login(s, tcp_from(10), "pw1", NULL), 'A', "an innocent address refused");
    for (int i = 0; i < 2; i++) /* a ninth address: no room */
        cr_assert_eq(try_login(s, tcp_from(10), "guess", NULL), 'J');
    sc_osrv_get_stats(s, &ss);
    cr_assert_eq(ss.lockout_table_full, 2);
    cr_assert_eq(ss.lockouts, 9, "failures beyond the table went unlimited");
    cr_assert_eq(try_login(s, tcp_from(10), "guess", NULL), 0);
    cr_assert_eq(try_login(s, tcp_from(11), "pw1", NULL), 0, "the shared entry does not hold");
    t += MS(60000);
    cr_assert_eq(try_login(s, tcp_from(11), "pw1", NULL), 'A');
    cr_assert_eq(try_login(s, tcp_from(2), "pw1", NULL), 'A');
    sc_osrv_destroy(s);
}

/* max_connections logged in: a further good login is closed (counted), and
 * the sessions there go on. */
Test(order, a_full_session_table_refuses_a_login, .init = setup, .fini = teardown)
{
    struct sc_osrv *s;
    struct sc_ocli *c;
    struct sc_osrv_stats ss;
    struct sc_err err;

    load("    max_connections: 1\n    max_pending: 2\n");
    t = MS(1000);
    cr_assert_eq(sc_osrv_create(&s, &cfg, "T1", NULL, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(sc_ocli_create(&c, &cfg, "T1", 1, on_msg, on_event, NULL, &err), 0, "%s",
                 err.msg);
    run(s, c, 100);
    cr_assert(sc_ocli_logged_in(c));
    cr_assert_eq(try_login(s, raw_connect(), "pw1", NULL), 0, "a login beyond max_connections");
    sc_osrv_get_stats(s, &ss);
    cr_assert_eq(ss.refused_full, 1);
    cr_assert_eq(ss.logins, 1);
    sc_osrv_send(s, "x", 1, t);
    run(s, c, 100);
    cr_assert_eq(got, 1);
    sc_ocli_destroy(c);
    sc_osrv_destroy(s);
}

/* ------------------------------------------------------------ journal */

static int fail_syncs;
static long write_room = -1;

static int
bad_fdatasync(int fd)
{
    if (fail_syncs > 0) {
        fail_syncs--;
        errno = EIO;
        return -1;
    }
    return fdatasync(fd);
}

static ssize_t
full_pwrite(int fd, const void *b, size_t n, off_t off)
{
    if (write_room >= 0 && (long)n > write_room) {
        errno = ENOSPC;
        return -1;
    }
    return pwrite(fd, b, n, off);
}

static int64_t seq_of[64];   /* per order: what sc_osrv_send returned */
static uint64_t lost_first, lost_last, lost_calls;
static int lost_err;
static uint8_t ids_got[64];  /* per order: acknowledgements received */
static uint64_t acks_got, bad_acks;

static void
on_id_order(void *ctx, uint32_t conn, const char *user, const void *msg, size_t len)
{
    (void)ctx;
    (void)conn;
    (void)user;
    cr_assert_eq(len, 1);
    seq_of[*(const uint8_t *)msg] = sc_osrv_send(acking, msg, len, t);
}

static void
on_lost(void *ctx, uint64_t first, uint64_t last, int err)
{
    (void)ctx;
    lost_first = first;
    lost_last = last;
    lost_err = err;
    lost_calls++;
}

static void
on_id_ack(void *ctx, uint64_t seq, const void *msg, size_t len)
{
    uint8_t id = *(const uint8_t *)msg;
    (void)ctx;
    if (seq != last_seq + 1 || len != 1 || (int64_t)seq != seq_of[id])
        bad_acks++; /* out of sequence, or not the number the journal gave it */
    last_seq = seq;
    ids_got[id]++;
    acks_got++;
}

static void
orders(struct sc_osrv *s, struct sc_ocli *c, int from, int to)
{
    for (int i = from; i <= to; i++) {
        uint8_t id = (uint8_t)i;
        cr_assert_eq(sc_ocli_send(c, &id, 1, t), 0);
    }
    sc_ocli_flush(c, t);
    run(s, c, 100);
}

/* fsync: batch on a file whose disk fills up, then fails a sync: an order
 * whose acknowledgement the journal refused gets none, a batch whose sync
 * failed is rolled back before anything of it is sent (and reported, with
 * the right numbers), and once the disk works the resent orders are
 * acknowledged under the numbers given back: the client's sequence has no
 * gap and no repeat, and the journal holds exactly what was acknowledged. */
Test(order, acknowledgements_go_out_only_once_durable, .init = setup, .fini = teardown)
{
    char extra[256];
    struct sc_osrv *s;
    struct sc_ocli *c;
    struct sc_osrv_stats ss;
    struct sc_journal *j, jj;
    struct sc_err err;
    uint8_t m[16];

    snprintf(extra, sizeof(extra), "    journal: %s\n    fsync: batch\n", jpath);
    load(extra);
    t = MS(1000);
    memset(seq_of, 0, sizeof(seq_of));
    memset(ids_got, 0, sizeof(ids_got));
    acks_got = bad_acks = lost_calls = 0;
    fail_syncs = 0;
    write_room = -1;
    cr_assert_eq(sc_osrv_create(&s, &cfg, "T1", on_id_order, NULL, &err), 0, "%s", err.msg);
    acking = s;
    sc_osrv_on_lost(s, on_lost);
    j = sc_osrv_journal(s);
    j->sys_fdatasync = bad_fdatasync;
    j->sys_pwrite = full_pwrite;
    cr_assert_eq(sc_ocli_create(&c, &cfg, "T1", 1, on_id_ack, on_event, NULL, &err), 0, "%s",
                 err.msg);
    run(s, c, 100);
    cr_assert(sc_ocli_logged_in(c));

    orders(s, c, 0, 9);
    cr_assert_eq(acks_got, 10);
    write_room = 0; /* the disk is full */
    orders(s, c, 10, 14);
    for (int i = 10; i <= 14; i++)
        cr_assert_eq(seq_of[i], -ENOSPC, "order %d: %lld", i, (long long)seq_of[i]);
    cr_assert_eq(acks_got, 10, "acknowledged without a journal record");
    write_room = -1;
    fail_syncs = 1; /* room again, but this batch's fdatasync fails */
    orders(s, c, 15, 19);
    cr_assert_eq(seq_of[15], 11);
    cr_assert_eq(seq_of[19], 15);
    cr_assert_eq(lost_calls, 1, "the rolled-back batch was not reported");
    cr_assert_eq(lost_first, 11);
    cr_assert_eq(lost_last, 15);
    cr_assert_eq(lost_err, -EIO);
    cr_assert_eq(acks_got, 10, "acknowledged before (without) a successful sync");
    sc_osrv_get_stats(s, &ss);
    cr_assert_eq(ss.journal_write_errors, 5);
    cr_assert_eq(ss.journal_sync_errors, 1);
    cr_assert_eq(ss.journal_rolled_back, 5);
    cr_assert_eq(ss.journal_msgs, 10);
    cr_assert_eq(sc_osrv_durable(s), 10);

    orders(s, c, 10, 19); /* the client resends; the disk works */
    cr_assert_eq(acks_got, 20);
    cr_assert_eq(bad_acks, 0, "the sequence has a gap, a repeat or a wrong number");
    for (int i = 0; i < 20; i++)
        cr_assert_eq(ids_got[i], 1, "order %d acknowledged %d times", i, ids_got[i]);
    cr_assert_eq(sc_osrv_durable(s), 20);
    cr_assert_eq(lost_calls, 1);
    sc_ocli_destroy(c);
    sc_osrv_destroy(s);
    cr_assert_eq(sc_journal_open(&jj, jpath, SC_FSYNC_NONE, &err), 0, "%s", err.msg);
    cr_assert_eq(jj.count, 20);
    for (uint64_t q = 1; q <= 20; q++) {
        cr_assert_eq(sc_journal_read(&jj, q, m, sizeof(m)), 1);
        cr_assert_eq((int64_t)q, seq_of[m[0]], "record %llu holds order %d",
                     (unsigned long long)q, m[0]);
    }
    sc_journal_close(&jj);
}

/* ------------------------------------------------------------- create */

Test(order, create_failures_say_why, .init = setup, .fini = teardown)
{
    char extra[256];
    struct sc_osrv *s;
    struct sc_err err;
    uint8_t x = 'X';
    int fd;

    snprintf(extra, sizeof(extra), "    journal: /tmp\n");
    load(extra);
    memset(&err, 0, sizeof(err));
    cr_assert_lt(sc_osrv_create(&s, &cfg, "T1", NULL, NULL, &err), 0);
    cr_assert(strstr(err.msg, "journal /tmp") != NULL, "%s", err.msg);
    cr_assert_lt(err.code, 0);

    snprintf(extra, sizeof(extra), "    journal: %s\n", jpath);
    load(extra);
    cr_assert_eq(sc_osrv_create(&s, &cfg, "T1", NULL, NULL, &err), 0, "%s", err.msg);
    for (int i = 0; i < 20; i++)
        sc_osrv_send(s, "message", 7, 0);
    sc_osrv_destroy(s);
    fd = open(jpath, O_WRONLY);
    cr_assert_eq(pwrite(fd, &x, 1, 4 + 5 * (16 + 7) + 20), 1); /* in record 6 */
    close(fd);
    memset(&err, 0, sizeof(err));
    cr_assert_eq(sc_osrv_create(&s, &cfg, "T1", NULL, NULL, &err), -EUCLEAN);
    cr_assert(strstr(err.msg, "record 6 at byte 119") != NULL, "%s", err.msg);

    {
        const char *y = "sessions:\n  - name: T1\n    listen: unix:/nonexistent/dir/sock\n";
        cr_assert_eq(sc_config_load_string(&cfg, "t.yaml", y, strlen(y), &err), 0, "%s",
                     err.msg);
    }
    memset(&err, 0, sizeof(err));
    cr_assert_lt(sc_osrv_create(&s, &cfg, "T1", NULL, NULL, &err), 0);
    cr_assert(strstr(err.msg, "/nonexistent/dir/sock") != NULL, "%s", err.msg);
}

/* Out of memory: both creates fill err (they used to return -ENOMEM with it
 * untouched, and seqcast-orderd printed whatever was in it). */
Test(order, create_out_of_memory_fills_err, .init = setup, .fini = teardown)
{
#if defined(__SANITIZE_ADDRESS__)
    cr_skip_test("an address-space limit and AddressSanitizer's shadow memory do not mix");
#else
    struct sc_osrv *s;
    struct sc_ocli *c;
    struct sc_err err;
    struct rlimit rl;
    long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    cr_assert_eq(fscanf(f, "%ld", &pages), 1);
    fclose(f);
    /* the address space there is now and 512 KiB more: not the 64 MiB of
     * output buffers a server needs, nor the 1 MiB a client's */
    rl.rlim_cur = rl.rlim_max = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (512u << 10);
    cr_assert_eq(setrlimit(RLIMIT_AS, &rl), 0);
    memset(&err, 0, sizeof(err));
    cr_assert_eq(sc_osrv_create(&s, &cfg, "T1", NULL, NULL, &err), -ENOMEM);
    cr_assert_eq(err.code, -ENOMEM);
    cr_assert(strstr(err.msg, "out of memory") != NULL, "err.msg: '%s'", err.msg);
    memset(&err, 0, sizeof(err));
    cr_assert_eq(sc_ocli_create(&c, &cfg, "T1", 1, on_msg, on_event, NULL, &err), -ENOMEM);
    cr_assert(strstr(err.msg, "out of memory") != NULL, "err.msg: '%s'", err.msg);
#endif
}
