/* transport: ipc (engine/ipc.c) through the public API, writer and readers in
 * one process with a simulated clock: order and bytes across many wraps,
 * block and drop back-pressure, late join, liveness and a restarted writer,
 * files refused with their reason, damage found mid-stream, a dead reader's
 * slot released. tests/integration/ipc.sh runs real processes. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <seqcast/pub.h>
#include <seqcast/sub.h>

#include "engine/ipc.h"

#define MS 1000000ull
#define S 1000000000ull

static char dir[64];
static struct sc_config cfg;

static void
setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/sc-ipc-test.XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    sc_config_init(&cfg);
    struct sc_err err;
    char set[128];
    snprintf(set, sizeof(set), "ipc.dir=%s", dir);
    cr_assert_eq(sc_config_set(&cfg, "transport=ipc", &err), 0, "%s", err.msg);
    cr_assert_eq(sc_config_set(&cfg, set, &err), 0, "%s", err.msg);
    cr_assert_eq(sc_config_set(&cfg, "ipc.size=64KiB", &err), 0, "%s", err.msg);
    cr_assert_eq(sc_config_set(&cfg, "late_join=window", &err), 0, "%s", err.msg);
}

static void
teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    (void)system(cmd);
}

TestSuite(ipc, .init = setup, .fini = teardown, .timeout = 60);

/* message n: its length and bytes are a function of n */
static size_t
msg_len(uint64_t n)
{
    return n % 97 == 0 ? 3000 : (size_t)(n * 7919 % 300);
}

static void
msg_fill(uint64_t n, uint8_t *b, size_t len)
{
    for (size_t i = 0; i < len; i++)
        b[i] = (uint8_t)(n * 31 + i * 7);
}

struct rd {
    uint64_t next, delivered, bad, losses, lost_first, lost_last, ups, downs;
    enum sc_join join;
    enum sc_down_reason down;
    uint64_t first_packet;
    char name[24];
};

static void
on_msg(void *ctx, const struct sc_source *src, uint64_t seq, const void *msg, size_t len)
{
    struct rd *r = ctx;
    uint8_t want[3000];

    (void)src;
    msg_fill(seq, want, msg_len(seq));
    if (seq != r->next || len != msg_len(seq) || memcmp(msg, want, len))
        r->bad++;
    r->next = seq + 1;
    r->delivered++;
}

static void
on_event(void *ctx, const struct sc_sub_event *ev)
{
    struct rd *r = ctx;

    switch (ev->type) {
    case SC_EV_SOURCE_UP:
        r->ups++;
        r->join = ev->up.join;
        r->first_packet = ev->up.first_packet;
        if (ev->up.join != SC_JOIN_RESUMED)
            r->next = ev->up.first_packet;
        snprintf(r->name, sizeof(r->name), "%s", ev->src->name);
        break;
    case SC_EV_SOURCE_DOWN:
        r->downs++;
        r->down = ev->down.reason;
        break;
    case SC_EV_LOSS:
        cr_assert_eq(ev->loss.reason, SC_LOSS_NOT_IN_WINDOW);
        cr_assert_eq(ev->loss.first, r->next, "a loss starts where delivery stopped");
        if (!r->losses++)
            r->lost_first = ev->loss.first;
        r->lost_last = ev->loss.last;
        r->next = ev->loss.last + 1;
        break;
    default:
        break;
    }
}

static struct sc_sub *
reader(struct rd *r)
{
    struct sc_sub_callbacks cb = { on_msg, on_event, r };
    struct sc_sub *s;
    struct sc_err err;

    cr_assert_eq(sc_sub_create(&s, &cfg, NULL, &cb, &err), 0, "%s", err.msg);
    return s;
}

static struct sc_pub *
writer(void)
{
    struct sc_pub *p;
    struct sc_err err;

    cr_assert_eq(sc_pub_create(&p, &cfg, NULL, &err), 0, "%s", err.msg);
    return p;
}

static int
send_n(struct sc_pub *p, uint64_t n, uint64_t now)
{
    uint8_t b[3000];

    msg_fill(n, b, msg_len(n));
    return sc_pub_send(p, b, msg_len(n), now);
}

/* block: two readers, 300,000 messages through a 64 KiB log (hundreds of
 * wraps, padding records at the end of the ring): each gets every one, in
 * order, byte for byte; the writer was held and said so. */
Test(ipc, block_two_readers_every_byte_in_order)
{
    struct sc_err err;
    struct rd a = { 0 }, b = { 0 };
    struct sc_pub *p;
    struct sc_sub *ra, *rb;
    struct sc_pub_stats ps;
    struct sc_sub_stats sa;
    uint64_t n = 1, now = S, turns = 0;
    const uint64_t N = 300000;

    cr_assert_eq(sc_config_set(&cfg, "ipc.backpressure=block", &err), 0);
    p = writer();
    ra = reader(&a);
    rb = reader(&b);
    sc_sub_do_work(ra, now);
    sc_sub_do_work(rb, now);
    cr_assert_eq(a.join, SC_JOIN_FROM_START);
    while (n <= N) {
        int rc = send_n(p, n, now);
        if (rc == -EAGAIN) {
            sc_pub_do_work(p, now);
            sc_sub_do_work(ra, now);
            if (++turns % 3 == 0) /* b lags a */
                sc_sub_do_work(rb, now);
            now += 1000;
            continue;
        }
        cr_assert_eq(rc, 0);
        n++;
    }
    for (int i = 0; i < 100; i++) {
        sc_sub_do_work(ra, now);
        sc_sub_do_work(rb, now);
    }
    sc_pub_get_stats(p, &ps);
    sc_sub_get_stats(ra, &sa);
    cr_assert_eq(a.delivered, N);
    cr_assert_eq(b.delivered, N);
    cr_assert_eq(a.bad + b.bad + a.losses + b.losses, 0);
    cr_assert_eq(sa.msgs_delivered, N);
    cr_assert_gt(ps.ipc_blocked, 0, "a 64 KiB log holds the writer");
    cr_assert_gt(ps.ipc_stall, 0);
    cr_assert_eq(ps.ipc_readers, 2);
    cr_assert_eq(ps.msgs_sent, N);
    sc_sub_destroy(ra);
    sc_sub_destroy(rb);
    sc_pub_get_stats(p, &ps);
    cr_assert_eq(ps.ipc_readers, 0, "a reader destroyed leaves its slot");
    sc_pub_destroy(p);
}

/* drop: a reader that does not read while the writer laps the log gets one
 * not_in_window loss for exactly what was overwritten, then the rest. */
Test(ipc, drop_slow_reader_gets_typed_loss)
{
    struct rd a = { 0 };
    struct sc_pub *p = writer();
    struct sc_sub *ra = reader(&a);
    struct sc_sub_stats st;
    const uint64_t N = 20000;

    sc_sub_do_work(ra, S);
    cr_assert_eq(a.join, SC_JOIN_FROM_START);
    for (uint64_t n = 1; n <= 10; n++)
        cr_assert_eq(send_n(p, n, S), 0);
    sc_sub_do_work(ra, S);
    cr_assert_eq(a.delivered, 10);
    for (uint64_t n = 11; n <= N; n++)
        cr_assert_eq(send_n(p, n, S), 0, "the writer never waits under drop");
    for (int i = 0; i < 50; i++)
        sc_sub_do_work(ra, S);
    sc_sub_get_stats(ra, &st);
    cr_assert_eq(a.losses, 1);
    cr_assert_eq(a.lost_first, 11);
    cr_assert_eq(a.delivered + (a.lost_last - a.lost_first + 1), N, "delivered + lost = sent");
    cr_assert_eq(a.next, N + 1);
    cr_assert_eq(a.bad, 0);
    cr_assert_eq(st.ipc_lapped, 1);
    cr_assert_eq(st.lost_packets, a.lost_last - a.lost_first + 1);
    sc_sub_destroy(ra);
    sc_pub_destroy(p);
}

/* late_join: live starts after what was written; window at the oldest
 * message the log still holds. */
Test(ipc, late_join_live_and_window)
{
    struct sc_err err;
    struct rd w = { 0 }, l = { 0 };
    struct sc_pub *p = writer();
    struct sc_sub *rw, *rl;

    for (uint64_t n = 1; n <= 5000; n++)
        cr_assert_eq(send_n(p, n, S), 0);
    rw = reader(&w);
    cr_assert_eq(sc_config_set(&cfg, "late_join=live", &err), 0);
    rl = reader(&l);
    sc_sub_do_work(rw, S);
    sc_sub_do_work(rl, S);
    cr_assert_eq(w.join, SC_JOIN_WINDOW);
    cr_assert_gt(w.first_packet, 1);
    cr_assert_eq(l.join, SC_JOIN_LIVE);
    cr_assert_eq(l.first_packet, 5001);
    for (uint64_t n = 5001; n <= 5100; n++)
        cr_assert_eq(send_n(p, n, S), 0);
    for (int i = 0; i < 10; i++) {
        sc_sub_do_work(rw, S);
        sc_sub_do_work(rl, S);
    }
    cr_assert_eq(l.delivered, 100);
    cr_assert_eq(w.delivered, 5100 - w.first_packet + 1);
    cr_assert_eq(w.bad + l.bad + w.losses + l.losses, 0);
    sc_sub_destroy(rw);
    sc_sub_destroy(rl);
    sc_pub_destroy(p);
}

/* A writer that stops beating is SOURCE_DOWN after source_timeout (not
 * before); beating again resumes it; closing is SOURCE_DOWN fin; a second live
 * writer is refused; a new writer under the name is a new source. */
Test(ipc, liveness_close_and_restart)
{
    struct sc_err err;
    struct rd a = { 0 };
    struct sc_pub *p = writer(), *q;
    struct sc_sub *ra = reader(&a);
    const uint64_t T = cfg.channels[0].source_timeout_ns;
    char first[24];

    cr_assert_neq(sc_pub_create(&q, &cfg, NULL, &err), 0, "a second live writer");
    cr_assert(strstr(err.msg, "live writer"), "%s", err.msg);
    sc_pub_do_work(p, S);
    sc_sub_do_work(ra, S);
    cr_assert_eq(a.ups, 1);
    cr_assert_eq(send_n(p, 1, S), 0);
    sc_sub_do_work(ra, S + T);
    cr_assert_eq(a.downs, 0, "silent for exactly source_timeout: still up");
    sc_sub_do_work(ra, S + T + MS);
    cr_assert_eq(a.downs, 1);
    cr_assert_eq(a.down, SC_DOWN_TIMEOUT);
    cr_assert_leq(sc_sub_deadline(ra, S + T + MS), S + T + 200 * MS, "it looks for a new log");
    sc_pub_do_work(p, S + T + 2 * MS); /* alive after all */
    sc_sub_do_work(ra, S + T + 2 * MS);
    cr_assert_eq(a.ups, 2);
    cr_assert_eq(a.join, SC_JOIN_RESUMED);
    cr_assert_eq(send_n(p, 2, S + T + 2 * MS), 0);
    sc_pub_close(p, S + T + 3 * MS);
    cr_assert(sc_pub_closed(p));
    cr_assert_eq(send_n(p, 3, S + T + 3 * MS), -EPIPE);
    sc_sub_do_work(ra, S + T + 3 * MS);
    cr_assert_eq(a.delivered, 2);
    cr_assert_eq(a.downs, 2);
    cr_assert_eq(a.down, SC_DOWN_FIN);
    snprintf(first, sizeof(first), "%s", a.name);
    sc_pub_destroy(p);

    p = writer(); /* restarted: a new session */
    sc_pub_do_work(p, S + T + 4 * MS);
    cr_assert_eq(send_n(p, 1, S + T + 4 * MS), 0);
    sc_sub_do_work(ra, S + T + 500 * MS);
    cr_assert_eq(a.ups, 3);
    cr_assert_str_neq(a.name, first, "a restarted writer is a new source");
    cr_assert_eq(a.join, SC_JOIN_FROM_START);
    cr_assert_eq(a.delivered, 3);
    cr_assert_eq(a.bad, 0);
    sc_sub_destroy(ra);
    sc_pub_destroy(p);
}

/* a file as the writer leaves it, then changed by f */
static void
damaged(void (*f)(uint8_t *map, size_t *len), const char *want)
{
    char path[128];
    struct sc_err err;
    struct sc_sub *s;
    struct rd a = { 0 };
    struct sc_sub_callbacks cb = { on_msg, on_event, &a };
    struct sc_pub *p = writer();
    size_t len = SC_IPC_HDR_SIZE + (64u << 10);
    uint8_t *map;
    int fd;

    cr_assert_eq(send_n(p, 1, S), 0);
    sc_pub_destroy(p);
    snprintf(path, sizeof(path), "%s/seqcast.default", dir);
    fd = open(path, O_RDWR);
    cr_assert_geq(fd, 0);
    map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    cr_assert_neq(map, MAP_FAILED);
    f(map, &len);
    munmap(map, SC_IPC_HDR_SIZE + (64u << 10));
    cr_assert_eq(ftruncate(fd, (off_t)len), 0);
    close(fd);
    cr_assert_neq(sc_sub_create(&s, &cfg, NULL, &cb, &err), 0, "refused: %s", want);
    cr_assert(strstr(err.msg, want), "'%s' in '%s'", want, err.msg);
    cr_assert(strstr(err.msg, path), "the message names the file: %s", err.msg);
}

static void
bad_magic(uint8_t *m, size_t *len)
{
    (void)len;
    m[0] = 'X';
}
static void
version_next(uint8_t *m, size_t *len)
{
    (void)len;
    m[8] = SC_IPC_VERSION + 1;
}
static void
geometry(uint8_t *m, size_t *len)
{
    (void)len;
    m[24] ^= 1; /* log_size: the check sum says so */
}
static void
truncated(uint8_t *m, size_t *len)
{
    (void)m;
    *len = SC_IPC_HDR_SIZE + 1000;
}
static void
short_file(uint8_t *m, size_t *len)
{
    (void)m;
    *len = 10;
}

Test(ipc, refuses_damaged_truncated_and_wrong_version)
{
    damaged(bad_magic, "not a seqcast IPC log");
    damaged(version_next, "version 4, this build reads version 3");
    damaged(geometry, "damaged header");
    damaged(truncated, "truncated");
    damaged(short_file, "truncated");
}

/* Damage under a live reader: a record's length, its kind, its number --
 * SOURCE_DOWN bad log, the reason kept, nothing delivered twice or wrong. */
static void
damage_mid_stream(size_t at, uint8_t x, const char *want)
{
    char path[128];
    struct rd a = { 0 };
    struct sc_pub *p = writer();
    struct sc_sub *ra = reader(&a);
    struct sc_sub_stats st;
    uint8_t *map;
    int fd;

    sc_sub_do_work(ra, S);
    for (uint64_t n = 1; n <= 3; n++)
        cr_assert_eq(send_n(p, n, S), 0);
    snprintf(path, sizeof(path), "%s/seqcast.default", dir);
    fd = open(path, O_RDWR);
    map = mmap(NULL, SC_IPC_HDR_SIZE + (64u << 10), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    cr_assert_neq(map, MAP_FAILED);
    /* message 2's record: after message 1's (16 + msg_len(1), aligned) */
    map[SC_IPC_HDR_SIZE + ((16 + msg_len(1) + 15) & ~15u) + at] ^= x;
    for (int i = 0; i < 5; i++)
        sc_sub_do_work(ra, S);
    sc_sub_get_stats(ra, &st);
    cr_assert_eq(a.downs, 1, "%s", want);
    cr_assert_eq(a.down, SC_DOWN_BAD_LOG);
    cr_assert_eq(a.bad, 0);
    cr_assert_eq(st.ipc_bad_logs, 1);
    munmap(map, SC_IPC_HDR_SIZE + (64u << 10));
    close(fd);
    sc_sub_destroy(ra);
    sc_pub_destroy(p);
}

Test(ipc, damage_mid_stream_stops_the_reader)
{
    damage_mid_stream(1, 0x80, "length");   /* len + 32768: past max_msg */
    damage_mid_stream(4, 0x01, "kind");     /* unknown kind */
    damage_mid_stream(8, 0x04, "sequence"); /* message 6 where 2 was next */
}

/* block: a reader killed while registered holds the writer only until the
 * writer notices its process is gone. */
Test(ipc, dead_reader_released)
{
    struct sc_err err;
    struct sc_pub_stats ps;
    struct sc_pub *p;
    uint64_t n = 1, now = S;
    pid_t pid;
    int status, rc = 0;

    cr_assert_eq(sc_config_set(&cfg, "ipc.backpressure=block", &err), 0);
    p = writer();
    if ((pid = fork()) == 0) { /* registers, then dies without a word */
        struct rd a = { 0 };
        reader(&a);
        _exit(0);
    }
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    sc_pub_get_stats(p, &ps);
    cr_assert_eq(ps.ipc_readers, 1);
    while ((rc = send_n(p, n, now)) == 0)
        n++;
    cr_assert_eq(rc, -EAGAIN, "the dead reader's slot holds the writer");
    sc_pub_do_work(p, now);
    now += 20 * MS;
    sc_pub_do_work(p, now);
    sc_pub_get_stats(p, &ps);
    cr_assert_eq(ps.ipc_readers_reaped, 1);
    cr_assert_eq(ps.ipc_readers, 0);
    cr_assert_eq(send_n(p, n, now), 0);
    sc_pub_destroy(p);
}

/* The header and record checks on their own. */
Test(ipc, record_parser)
{
    uint8_t b[64] = { 0 };
    struct sc_ipc_rec rec;
    char why[160];
    uint32_t len = 5, kind = SC_IPC_DATA;
    uint64_t seq = 9;

    memcpy(b, &len, 4);
    memcpy(b + 4, &kind, 4);
    memcpy(b + 8, &seq, 8);
    cr_assert_eq(sc_ipc_parse_record(b, 64, 1024, 100, &rec, why, sizeof(why)), 32);
    cr_assert_eq(rec.seq, 9);
    cr_assert_eq(sc_ipc_parse_record(b, 20, 1024, 100, &rec, why, sizeof(why)), 0, "needs more");
    cr_assert_eq(sc_ipc_parse_record(b, 10, 1024, 100, &rec, why, sizeof(why)), 0);
    cr_assert_eq(sc_ipc_parse_record(b, 64, 16, 100, &rec, why, sizeof(why)), -EPROTO,
                 "past the ring's end");
    cr_assert_eq(sc_ipc_parse_record(b, 64, 1024, 4, &rec, why, sizeof(why)), -EPROTO,
                 "over max_msg");
    kind = SC_IPC_PAD;
    memcpy(b + 4, &kind, 4);
    len = 1024 - 16;
    memcpy(b, &len, 4);
    cr_assert_eq(sc_ipc_parse_record(b, 64, 1024, 100, &rec, why, sizeof(why)), 1024,
                 "padding: the rest of the ring");
    cr_assert_eq(sc_ipc_parse_record(b, 64, 512, 100, &rec, why, sizeof(why)), -EPROTO,
                 "padding that does not fill the ring");
    seq = 0;
    kind = SC_IPC_DATA;
    len = 1;
    memcpy(b, &len, 4);
    memcpy(b + 4, &kind, 4);
    memcpy(b + 8, &seq, 8);
    cr_assert_eq(sc_ipc_parse_record(b, 64, 1024, 100, &rec, why, sizeof(why)), -EPROTO);
    cr_assert(strstr(why, "numbered 0"));
}

/* drop, with the writer on another thread lapping the reader all the time:
 * whatever the reader delivers is whole and right (a record overwritten while
 * it was copied is thrown away, never delivered), and delivered + lost =
 * sent. */
static void *
hammer(void *arg)
{
    struct sc_pub *p = arg;

    for (uint64_t n = 1; n <= 2000000; n++)
        if (send_n(p, n, S) != 0)
            abort(); /* never under drop */
    sc_pub_close(p, S);
    return NULL;
}

Test(ipc, drop_concurrent_writer_never_tears)
{
    struct rd a = { 0 };
    struct sc_pub *p = writer();
    struct sc_sub *ra = reader(&a);
    struct sc_sub_stats st;
    pthread_t t;
    uint64_t lost;

    sc_sub_do_work(ra, S);
    cr_assert_eq(pthread_create(&t, NULL, hammer, p), 0);
    for (int i = 0; i < 100000000 && !a.downs; i++)
        sc_sub_do_work(ra, S);
    pthread_join(t, NULL);
    sc_sub_get_stats(ra, &st);
    lost = st.lost_packets;
    cr_assert_eq(a.down, SC_DOWN_FIN, "the end of session, not a bad log (%s)",
                 a.down == SC_DOWN_BAD_LOG ? "bad log" : "other");
    cr_assert_eq(a.bad, 0, "%llu messages delivered wrong", (unsigned long long)a.bad);
    cr_assert_eq(a.delivered + lost, 2000000);
    cr_assert_gt(st.ipc_lapped, 0, "the writer lapped the reader");
    sc_sub_destroy(ra);
    sc_pub_destroy(p);
}

/* Writer processes started in the same instant: exactly one gets the log,
 * every other is refused with the reason. (A lock on the log file alone let
 * several through: each looked before another had renamed its new file in
 * place.) Each child says on a pipe whether it won, with the error if not; a
 * winner holds the log until the parent closes `hold`. */
#define RACERS 12

Test(ipc, writers_racing_one_wins)
{
    struct sc_err err;

    /* a large log: each writer takes a while to make its files, the race is wide */
    cr_assert_eq(sc_config_set(&cfg, "ipc.size=32MiB", &err), 0, "%s", err.msg);
    for (int round = 0; round < 3; round++) {
        int go[2], said[2], hold[2], won = 0, refused = 0;
        pid_t kid[RACERS];

        cr_assert_eq(pipe(go), 0);
        cr_assert_eq(pipe(said), 0);
        cr_assert_eq(pipe(hold), 0);
        for (int i = 0; i < RACERS; i++) {
            if ((kid[i] = fork()) == 0) {
                struct sc_pub *p;
                char c, line[sizeof(err.msg) + 2];
                close(go[1]);
                close(hold[1]);
                (void)!read(go[0], &c, 1); /* the start: the parent closes go */
                if (sc_pub_create(&p, &cfg, NULL, &err) == 0) {
                    (void)!write(said[1], "W\n", 2);
                    (void)!read(hold[0], &c, 1);
                    sc_pub_destroy(p);
                    _exit(0);
                }
                snprintf(line, sizeof(line), "%.200s\n", err.code == -EBUSY ? err.msg : "?");
                (void)!write(said[1], line, strlen(line));
                _exit(1);
            }
            cr_assert_gt(kid[i], 0);
        }
        close(go[0]);
        close(hold[0]);
        close(said[1]);
        close(go[1]); /* go */
        FILE *f = fdopen(said[0], "r");
        char line[400];
        for (int i = 0; i < RACERS && fgets(line, sizeof(line), f); i++) {
            if (!strcmp(line, "W\n"))
                won++;
            else if (strstr(line, "has a live writer already"))
                refused++;
            else
                cr_expect_fail("round %d: a writer failed otherwise: %s", round, line);
        }
        fclose(f);
        close(hold[1]);
        for (int i = 0; i < RACERS; i++)
            waitpid(kid[i], NULL, 0);
        cr_assert_eq(won, 1, "round %d: %d writers got the log, %d refused", round, won, refused);
        cr_assert_eq(refused, RACERS - 1, "round %d: %d refused", round, refused);
    }
}

/* Two readers in one runner (SC_IDLE_SLEEP) have no wait of their own to
 * sleep in: the runner ppolls their fds (sc_sub_fd: an inotify watch of the
 * log that the writer pokes). Idle, they must not burn the core; a message
 * must still wake them at once. A writer on another thread sends one every
 * 100 ms; each reaches them within 60 ms. (With fd -1 the runner spun: ~100 %
 * of a core; without the writer's poke a message waited ~1 s.) */
#include <seqcast/agent.h>
#include <time.h>

#define POKES 8
static _Atomic uint64_t poke_sent[POKES + 1];
struct polled {
    uint64_t got, worst_ns;
};

static void
on_msg_polled(void *ctx, const struct sc_source *src, uint64_t seq, const void *msg, size_t len)
{
    struct polled *pr = ctx;
    uint64_t lat;

    (void)src, (void)msg, (void)len;
    if (seq > POKES)
        return;
    lat = sc_clock_now() - atomic_load(&poke_sent[seq]);
    if (lat > pr->worst_ns)
        pr->worst_ns = lat;
    pr->got++;
}

static void *
slow_writer(void *arg)
{
    struct sc_pub *p = arg;

    for (uint64_t n = 1; n <= POKES; n++) {
        for (int i = 0; i < 10; i++) { /* 100 ms of heartbeats */
            sc_pub_do_work(p, sc_clock_now());
            nanosleep(&(struct timespec){ 0, 10 * 1000000 }, NULL);
        }
        atomic_store(&poke_sent[n], sc_clock_now());
        send_n(p, n, sc_clock_now());
        sc_pub_do_work(p, sc_clock_now());
    }
    for (int i = 0; i < 20; i++) {
        sc_pub_do_work(p, sc_clock_now());
        nanosleep(&(struct timespec){ 0, 10 * 1000000 }, NULL);
    }
    return NULL;
}

static uint64_t
thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * S + (uint64_t)ts.tv_nsec;
}

Test(ipc, polled_readers_sleep_in_a_runner)
{
    struct polled a = { 0 }, b = { 0 };
    struct sc_sub_callbacks ca = { on_msg_polled, NULL, &a }, cb = { on_msg_polled, NULL, &b };
    struct sc_pub *p = writer();
    struct sc_sub *ra, *rb;
    struct sc_runner *run;
    struct sc_pub_stats ps;
    struct sc_err err;
    pthread_t t;
    uint64_t cpu, wall;

    cr_assert_eq(sc_sub_create(&ra, &cfg, NULL, &ca, &err), 0, "%s", err.msg);
    cr_assert_eq(sc_sub_create(&rb, &cfg, NULL, &cb, &err), 0, "%s", err.msg);
    cr_assert_eq(sc_runner_create(&run, SC_IDLE_SLEEP, &err), 0, "%s", err.msg);
    sc_runner_add(run, sc_sub_agent(ra));
    sc_runner_add(run, sc_sub_agent(rb));
    sc_pub_do_work(p, sc_clock_now());
    for (int i = 0; i < 10; i++) /* both joined */
        sc_runner_run_once(run, MS);
    cpu = thread_cpu_ns();
    wall = sc_clock_now();
    cr_assert_eq(pthread_create(&t, NULL, slow_writer, p), 0);
    while ((a.got < POKES || b.got < POKES) && sc_clock_now() - wall < 5 * S)
        sc_runner_run_once(run, S); /* unwoken, a reader would sleep to its deadline */
    cpu = thread_cpu_ns() - cpu;
    wall = sc_clock_now() - wall;
    pthread_join(t, NULL);
    sc_pub_get_stats(p, &ps);
    cr_assert_eq(a.got, POKES, "reader a got %llu", (unsigned long long)a.got);
    cr_assert_eq(b.got, POKES, "reader b got %llu", (unsigned long long)b.got);
    cr_expect_lt(cpu, wall / 10, "the runner used %llu ms of CPU in %llu ms",
                 (unsigned long long)(cpu / MS), (unsigned long long)(wall / MS));
    cr_expect_lt(a.worst_ns > b.worst_ns ? a.worst_ns : b.worst_ns, 60 * MS,
                 "a message waited %llu us for a reader asleep (%llu pokes)",
                 (unsigned long long)((a.worst_ns > b.worst_ns ? a.worst_ns : b.worst_ns) / 1000),
                 (unsigned long long)ps.ipc_pokes);
    cr_expect_geq(ps.ipc_pokes, POKES / 2, "the writer poked");
    sc_runner_destroy(run);
    sc_sub_destroy(ra);
    sc_sub_destroy(rb);
    sc_pub_destroy(p);
}

/* A loss upstream of a bridge (sc_pub_send_loss: seqcast-sub --republish)
 * reaches each reader as its own SC_EV_LOSS with the upstream reason, range
 * and packet count, between the messages before and after it; the log's
 * numbers go on without a gap. */
struct lossrd {
    uint64_t msgs, last_seq, losses, msgs_before_loss;
    struct sc_sub_event ev;
    char upstream[32], src[32];
};

static void
on_msg_loss(void *ctx, const struct sc_source *src, uint64_t seq, const void *msg, size_t len)
{
    struct lossrd *l = ctx;
    (void)src, (void)msg, (void)len;
    cr_expect_eq(seq, l->last_seq + 1, "message %llu after %llu", (unsigned long long)seq,
                 (unsigned long long)l->last_seq);
    l->last_seq = seq;
    l->msgs++;
}

static void
on_event_loss(void *ctx, const struct sc_sub_event *ev)
{
    struct lossrd *l = ctx;
    if (ev->type != SC_EV_LOSS)
        return;
    l->ev = *ev;
    snprintf(l->upstream, sizeof(l->upstream), "%s", ev->loss.upstream ? ev->loss.upstream : "(null)");
    snprintf(l->src, sizeof(l->src), "%s", ev->src->name);
    l->losses++;
    l->msgs_before_loss = l->msgs;
}

Test(ipc, upstream_loss_reaches_readers)
{
    struct lossrd a = { 0 }, b = { 0 };
    struct sc_sub_callbacks ca = { on_msg_loss, on_event_loss, &a },
                            cb = { on_msg_loss, on_event_loss, &b };
    struct sc_source up = { .name = "9c5f102344a1.4660" };
    struct sc_sub_event ev = { .type = SC_EV_LOSS, .src = &up };
    struct sc_pub *p = writer();
    struct sc_sub *ra, *rb;
    struct sc_sub_stats st;
    struct sc_pub_stats ps;
    struct sc_err err;

    cr_assert_eq(sc_sub_create(&ra, &cfg, NULL, &ca, &err), 0, "%s", err.msg);
    sc_pub_do_work(p, S);
    sc_sub_do_work(ra, S);
    for (uint64_t n = 1; n <= 5; n++)
        cr_assert_eq(send_n(p, n, S), 0);
    ev.loss.reason = SC_LOSS_RETRIES;
    ev.loss.first = 1006;
    ev.loss.last = 1015;
    ev.loss.packets = 4;
    cr_assert_eq(sc_pub_send_loss(p, &ev, S), 0);
    for (uint64_t n = 6; n <= 8; n++)
        cr_assert_eq(send_n(p, n, S), 0);
    /* a reader joining later from the oldest record sees it too */
    cr_assert_eq(sc_sub_create(&rb, &cfg, NULL, &cb, &err), 0, "%s", err.msg);
    sc_sub_do_work(ra, S);
    sc_sub_do_work(rb, S);
    sc_pub_get_stats(p, &ps);
    cr_assert_eq(ps.ipc_loss_records, 1);
    cr_assert_eq(ps.msgs_sent, 8);
    for (int i = 0; i < 2; i++) {
        struct lossrd *l = i ? &b : &a;
        cr_assert_eq(l->msgs, 8, "reader %d: %llu messages", i, (unsigned long long)l->msgs);
        cr_assert_eq(l->last_seq, 8, "the log's numbers go on without a gap");
        cr_assert_eq(l->losses, 1, "reader %d: %llu losses", i, (unsigned long long)l->losses);
        cr_assert_eq(l->msgs_before_loss, 5, "where it was written");
        cr_assert_eq(l->ev.loss.reason, SC_LOSS_RETRIES);
        cr_assert_eq(l->ev.loss.first, 1006);
        cr_assert_eq(l->ev.loss.last, 1015);
        cr_assert_eq(l->ev.loss.packets, 4);
        cr_assert_str_eq(l->upstream, "9c5f102344a1.4660", "the upstream source's name");
        cr_assert_str_neq(l->src, "9c5f102344a1.4660", "src is the log");
    }
    sc_sub_get_stats(ra, &st);
    cr_assert_eq(st.loss_events, 1);
    cr_assert_eq(st.ipc_upstream_losses, 1);
    cr_assert_eq(st.lost_packets, 4);
    cr_assert_eq(st.ipc_bad_logs, 0);
    sc_sub_destroy(ra);
    sc_sub_destroy(rb);
    sc_pub_destroy(p);
}

/* Polled readers of one process share one inotify instance (a user may have
 * fs.inotify.max_user_instances, 128 by default: one per reader ran out at
 * the 129th). 130 readers of one log: one instance, every sc_sub_fd that one,
 * one watch; a message poked makes it readable and reaches all of them; the
 * instance goes with the last reader. */
static int
inotify_fds(void)
{
    char path[64], link[64];
    int n = 0;

    for (int fd = 0; fd < 4096; fd++) {
        ssize_t l;
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        if ((l = readlink(path, link, sizeof(link) - 1)) < 0)
            continue;
        link[l] = '\0';
        n += strstr(link, "inotify") != NULL;
    }
    return n;
}

#include <poll.h>
#define SHARERS 130

Test(ipc, readers_in_a_process_share_one_inotify_instance)
{
    static struct rd r[SHARERS];
    static struct sc_sub *s[SHARERS];
    struct sc_pub *p = writer();
    struct sc_sub_stats st;
    struct pollfd pfd;
    int before = inotify_fds(), fd0 = -1;

    sc_pub_do_work(p, S);
    for (int i = 0; i < SHARERS; i++) {
        s[i] = reader(&r[i]);
        sc_sub_do_work(s[i], S);
        int fd = sc_sub_fd(s[i]);
        cr_assert_geq(fd, 0, "reader %d has no fd", i);
        if (i == 0)
            fd0 = fd;
        cr_assert_eq(fd, fd0, "reader %d: fd %d, reader 0's %d", i, fd, fd0);
    }
    cr_assert_eq(inotify_fds() - before, 1, "%d inotify instances for %d readers",
                 inotify_fds() - before, SHARERS);
    pfd = (struct pollfd){ .fd = fd0, .events = POLLIN };
    cr_assert_eq(poll(&pfd, 1, 0), 0, "nothing written: not readable");
    cr_assert_eq(send_n(p, 1, S), 0);
    sc_pub_do_work(p, S);
    cr_assert_eq(poll(&pfd, 1, 1000), 1, "the writer's poke wakes the shared instance");
    for (int i = 0; i < SHARERS; i++) {
        sc_sub_do_work(s[i], S);
        cr_assert_eq(r[i].delivered, 1, "reader %d got %llu", i,
                     (unsigned long long)r[i].delivered);
        sc_sub_get_stats(s[i], &st);
        cr_assert_eq(st.ipc_no_inotify, 0);
    }
    cr_assert_eq(poll(&pfd, 1, 0), 0, "drained");
    for (int i = 0; i < SHARERS; i++)
        sc_sub_destroy(s[i]);
    cr_assert_eq(inotify_fds(), before, "the instance goes with the last reader");
    sc_pub_destroy(p);
}

#include <sched.h>

/* After unshare(CLONE_NEWUSER): map uid (the caller's before it) to root in
 * the new namespace -- root or not, a process may map its own uid.
 * @return 0, -1 */
static int
map_own_uid(uid_t uid)
{
    char map[32];
    int f = open("/proc/self/uid_map", O_WRONLY), n = snprintf(map, sizeof(map), "0 %u 1", uid);
    bool ok = f >= 0 && write(f, map, (size_t)n) == n;

    if (f >= 0)
        close(f);
    return ok ? 0 : -1;
}

/* No inotify instance to be had (a user namespace whose limit is 0): the
 * reader counts it (ipc_no_inotify) and its fd is one that never fires, its
 * deadline at most 200 us away -- a runner sleeps in ppoll to it and looks
 * at the log, instead of spinning on fd -1. In a child: the user namespace. */
static int
no_inotify_child(void)
{
    struct rd r = { 0 };
    struct sc_sub *s;
    struct sc_sub_stats st;
    struct sc_pub *p;
    struct sc_err err;
    struct sc_sub_callbacks cb = { on_msg, NULL, &r };
    struct pollfd pfd;
    int fd, f;
    uint64_t now;

    uid_t uid = getuid();

    if (unshare(CLONE_NEWUSER) < 0)
        return 10;
    if (map_own_uid(uid) < 0)
        return 11;
    if ((f = open("/proc/sys/user/max_inotify_instances", O_WRONLY)) < 0 || write(f, "0", 1) != 1)
        return 12;
    close(f);
    if (sc_pub_create(&p, &cfg, NULL, &err) < 0 || sc_sub_create(&s, &cfg, NULL, &cb, &err) < 0)
        return 13;
    sc_pub_do_work(p, S);
    sc_sub_do_work(s, S);
    if ((fd = sc_sub_fd(s)) < 0)
        return 14; /* a runner would spin */
    sc_sub_get_stats(s, &st);
    if (st.ipc_no_inotify != 1)
        return 15;
    now = sc_clock_now();
    if (sc_sub_deadline(s, now) > now + 200000)
        return 16;
    send_n(p, 1, S);
    sc_pub_do_work(p, S);
    pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
    if (poll(&pfd, 1, 0) != 0)
        return 17;
    sc_sub_do_work(s, S);
    if (r.delivered != 1)
        return 18;
    sc_sub_destroy(s);
    sc_pub_destroy(p);
    return 0;
}

Test(ipc, no_inotify_instance_is_counted_and_polled)
{
    int status;
    pid_t pid = fork();

    if (pid == 0)
        _exit(no_inotify_child());
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "the child died");
    cr_assert_eq(WEXITSTATUS(status), 0, "the child failed at step %d", WEXITSTATUS(status));
}

/* block: a reader in another PID namespace (pid 1 there, a live process
 * here) is reaped when it dies and only then -- its slot's lock says, not
 * its pid. (By pid, kill(1, 0) found init alive: the dead reader held the
 * writer for good.) */
Test(ipc, reader_in_another_pid_namespace)
{
    struct sc_err err;
    struct sc_pub_stats ps;
    struct sc_pub *p;
    uint64_t n = 1, now = S;
    int up[2], hold[2], status, rc;
    pid_t mid, g = 0;

    cr_assert_eq(sc_config_set(&cfg, "ipc.backpressure=block", &err), 0);
    p = writer();
    cr_assert_eq(pipe(up), 0);
    cr_assert_eq(pipe(hold), 0);
    if ((mid = fork()) == 0) {
        uid_t uid = getuid();

        close(hold[1]);
        close(up[0]);
        /* without root, a PID namespace needs a user namespace of its own */
        if (unshare(CLONE_NEWPID) < 0 &&
            (unshare(CLONE_NEWUSER | CLONE_NEWPID) < 0 || map_own_uid(uid) < 0))
            _exit(10);
        if ((g = fork()) == 0) { /* pid 1 of the new namespace: registers, then waits */
            struct rd a = { 0 };
            struct sc_sub_callbacks cb = { on_msg, NULL, &a };
            struct sc_sub *s;
            char c;
            if (getpid() != 1 || sc_sub_create(&s, &cfg, NULL, &cb, &err) < 0)
                _exit(11);
            (void)!write(up[1], &(pid_t){ 1 }, sizeof(pid_t));
            (void)!read(hold[0], &c, 1);
            _exit(0);
        }
        (void)!write(up[1], &g, sizeof(g)); /* its pid here */
        waitpid(g, NULL, 0);
        _exit(0);
    }
    close(hold[0]);
    close(up[1]); /* a child that exits early ends the reads below */
    pid_t got[2];
    if (read(up[0], &got[0], sizeof(pid_t)) != (ssize_t)sizeof(pid_t)) {
        cr_assert_eq(waitpid(mid, &status, 0), mid);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 10)
            cr_skip_test("no PID namespace: neither root nor unprivileged user namespaces");
        cr_assert_fail("the reader's side failed (status %#x)", status);
    }
    cr_assert_eq(read(up[0], &got[1], sizeof(pid_t)), (ssize_t)sizeof(pid_t));
    g = got[0] == 1 ? got[1] : got[0];
    cr_assert_gt(g, 1, "the reader's pid here");
    sc_pub_get_stats(p, &ps);
    cr_assert_eq(ps.ipc_readers, 1);
    while ((rc = send_n(p, n, now)) == 0)
        n++;
    cr_assert_eq(rc, -EAGAIN, "the reader holds the writer");
    for (int i = 0; i < 3; i++) {
        sc_pub_do_work(p, now);
        now += 20 * MS;
    }
    sc_pub_get_stats(p, &ps);
    cr_assert_eq(ps.ipc_readers_reaped, 0, "a live reader in another namespace is not reaped");
    cr_assert_eq(send_n(p, n, now), -EAGAIN);
    kill(g, SIGKILL);
    cr_assert_eq(waitpid(mid, &status, 0), mid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
    sc_pub_do_work(p, now);
    now += 20 * MS;
    sc_pub_do_work(p, now);
    sc_pub_get_stats(p, &ps);
    cr_assert_eq(ps.ipc_readers_reaped, 1, "the dead reader is reaped");
    cr_assert_eq(ps.ipc_readers, 0);
    cr_assert_eq(send_n(p, n, now), 0);
    sc_pub_destroy(p);
}
