/* Order sessions in one process over a real Unix socket, with simulated time:
 * an idle session lives on heartbeats alone for 60 s; hostile connections --
 * bad lengths, unknown types, a 65,535-byte length, a login flood, wrong
 * passwords, one that never logs in -- each get their rejection or close and a
 * counter, while an honest client keeps being served; a login fed one byte at a
 * time is accepted. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <seqcast/order.h>

#include <seqcast/proto/soup.h>

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

static void
setup(void)
{
    char y[1024];
    struct sc_err err;

    snprintf(path, sizeof(path), "/tmp/seqcast-order-test-%d.sock", (int)getpid());
    snprintf(y, sizeof(y),
             "sessions:\n"
             "  - name: T1\n"
             "    listen: unix:%s\n"
             "    connect: unix:%s\n"
             "    heartbeat: 1s\n"
             "    timeout: 15s\n"
             "    max_message: 1024\n"
             "    users: [ {name: DESK1, password: pw1} ]\n"
             "    login: {user: DESK1, password: pw1}\n",
             path, path);
    cr_assert_eq(sc_config_load_string(&cfg, "t.yaml", y, strlen(y), &err), 0, "%s", err.msg);
    got = last_seq = 0;
    memset(events, 0, sizeof(events));
}

static void
teardown(void)
{
    unlink(path);
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
    cr_assert_geq(ss.tx_heartbeats, 55, "server heartbeats: %llu", (unsigned long long)ss.tx_heartbeats);
    cr_assert_geq(cs.tx_heartbeats, 55, "client heartbeats: %llu", (unsigned long long)cs.tx_heartbeats);
    cr_assert_leq(ss.tx_heartbeats, 61, "more heartbeats than one a second");
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
    cr_assert_eq(ss.login_rejected_auth, 21);
    cr_assert_eq(ss.login_rejected_session, 1);
    cr_assert_eq(ss.logins, 2, "the client and the byte-at-a-time login");
    cr_assert_eq(read(fd[4], reply, sizeof(reply)), 4);
    cr_assert_eq(reply[2], 'J');
    cr_assert_eq(reply[3], 'A');
    cr_assert_eq(read(fd[5], reply, sizeof(reply)), 4);
    cr_assert_eq(reply[3], 'S');
    run(s, c, 16000); /* the one that never logged in times out; the client lives on */
    sc_osrv_get_stats(s, &ss);
    cr_assert_geq(ss.closed_timeout, 1, "a connection that never logs in must be closed");
    cr_assert(sc_ocli_logged_in(c));
    for (int i = 0; i < 8; i++)
        close(fd[i]);
    for (int i = 0; i < 20; i++)
        close(flood[i]);
    sc_ocli_destroy(c);
    sc_osrv_destroy(s);
}

/* Sequence 0 asks for only new messages; N asks for N onwards; End of Session
 * ends the client for good (no reconnect); a logout closes the connection. */
Test(order, resume_points_end_of_session_and_logout, .init = setup, .fini = teardown)
{
    struct sc_osrv *s;
    struct sc_ocli *from0, *from5;
    struct sc_osrv_stats ss;
    struct sc_ocli_stats cs;
    struct sc_err err;

    t = MS(1000);
    cr_assert_eq(sc_osrv_create(&s, &cfg, "T1", NULL, NULL, &err), 0, "%s", err.msg);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(sc_osrv_send(s, "old", 3, t), i + 1);
    cr_assert_eq(sc_ocli_create(&from0, &cfg, "T1", 0, on_msg, on_event, NULL, &err), 0);
    cr_assert_eq(sc_ocli_create(&from5, &cfg, "T1", 5, on_msg, on_event, NULL, &err), 0);
    for (int k = 0; k < 30; k++) {
        sc_osrv_do_work(s, t);
        sc_ocli_do_work(from0, t);
        sc_ocli_do_work(from5, t);
        t += MS(10);
    }
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
 * runs in it); sc_osrv_do_work says "call again" only while a replay that
 * fills the socket's buffer in steps still has output ready, and 0 when idle. */
Test(order, flush_writes_without_reading_and_do_work_asks_again_only_for_a_replay, .init = setup,
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
        more += sc_osrv_do_work(s, t) > 0;
        sc_ocli_do_work(c, t);
    }
    cr_assert_eq(got, 3000, "replayed %llu of 3000", (unsigned long long)got);
    cr_assert_gt(more, 0, "a replay larger than the socket buffer never asked to be called again");
    cr_assert_eq(sc_osrv_do_work(s, t), 0, "caught up, yet the server asks to be called again");
    cr_assert_eq(sc_osrv_do_work(s, t), 0);

    sc_osrv_send(s, "fill", 4, t); /* queued and written by the server... */
    cr_assert_eq(sc_osrv_do_work(s, t), 0, "written in one go, yet it asks to be called again");
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
 * (no callback runs in a wait); a client not connected is told to sleep some
 * other way; the server's close wakes the client's wait. */
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
    cr_assert_eq(sc_ocli_wait(c, MS(5)), -1, "not connected: nothing to wait on");
    t0 = real_ms();
    cr_assert_eq(sc_osrv_wait(s, 30), 0, "input without a client");
    cr_assert_geq(real_ms() - t0, 25, "the server's wait did not sleep");
    sc_ocli_do_work(c, t); /* connects */
    t0 = real_ms();
    cr_assert_gt(sc_osrv_wait(s, 2000), 0, "the connection did not wake the server");
    cr_assert_lt(real_ms() - t0, 1000);
    run(s, c, 100);
    cr_assert(sc_ocli_logged_in(c));

    cr_assert_eq(sc_ocli_send(c, "order", 5, t), 0);
    cr_assert_eq(sc_ocli_flush(c, t), 1);
    t0 = real_ms();
    cr_assert_gt(sc_osrv_wait(s, 2000), 0, "the order did not wake the server");
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
