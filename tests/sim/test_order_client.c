/* The order client on simulated time over a real Unix socket: with nobody
 * listening, connection attempts come reconnect.min apart, then doubling,
 * capped at reconnect.max; once logged in, a lost connection is retried after
 * reconnect.min again (a login resets the back-off). Resuming at 1, at the
 * next message, at 0 (only new) or beyond the journal replays exactly what was
 * asked for, with no gap event. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <seqcast/order.h>

#define MS(x) ((uint64_t)(x) * 1000000u)

static struct sc_config cfg;
static char path[108];
static unsigned logins, drops;
static uint64_t t, drop_t;

static void
on_msg(void *ctx, uint64_t seq, const void *msg, size_t len)
{
    (void)ctx;
    (void)seq;
    (void)msg;
    (void)len;
}

static void
on_event(void *ctx, enum sc_ocli_event ev, uint64_t arg)
{
    (void)ctx;
    (void)arg;
    logins += ev == SC_OCLI_LOGGED_IN;
    if (ev == SC_OCLI_DISCONNECTED) {
        drops++;
        drop_t = t;
    }
}

static void
setup(void)
{
    char y[1024];
    struct sc_err err;

    snprintf(path, sizeof(path), "/tmp/seqcast-ocli-test-%d.sock", (int)getpid());
    unlink(path);
    snprintf(y, sizeof(y),
             "sessions:\n"
             "  - name: R1\n"
             "    listen: unix:%s\n"
             "    connect: unix:%s\n"
             "    heartbeat: 1s\n"
             "    timeout: 15s\n"
             "    reconnect: {min: 100ms, max: 800ms}\n"
             "    users: [ {name: DESK1, password: pw1} ]\n"
             "    login: {user: DESK1, password: pw1}\n",
             path, path);
    cr_assert_eq(sc_config_load_string(&cfg, "t.yaml", y, strlen(y), &err), 0, "%s", err.msg);
    logins = drops = 0;
}

static void
teardown(void)
{
    unlink(path);
}

/* Run for `ms` in 10 ms steps; record the times of connection attempts. */
static void
run(struct sc_osrv *s, struct sc_ocli *c, uint64_t ms, uint64_t *at, unsigned *nat, unsigned max)
{
    struct sc_ocli_stats st;
    uint64_t before;

    for (uint64_t end = t + MS(ms); t < end; t += MS(10)) {
        sc_ocli_get_stats(c, &st);
        before = st.connects;
        for (int k = 0; k < 3; k++) { /* let bytes cross the socket within a step */
            if (s)
                sc_osrv_do_work(s, t);
            sc_ocli_do_work(c, t);
        }
        sc_ocli_get_stats(c, &st);
        if (st.connects > before && *nat < max)
            at[(*nat)++] = t;
    }
}

Test(order_client, reconnects_back_off_doubling_to_the_max_and_a_login_resets_it, .init = setup,
     .fini = teardown, .timeout = 20)
{
    static const uint64_t want_idle[] = { 100, 200, 400, 800, 800, 800 };
    static const uint64_t want_after[] = { 100, 200, 400 };
    struct sc_ocli *c;
    struct sc_osrv *s;
    struct sc_err err;
    uint64_t at[32];
    unsigned n = 0;

    t = MS(1000);
    cr_assert_eq(sc_ocli_create(&c, &cfg, "R1", 1, on_msg, on_event, NULL, &err), 0, "%s",
                 err.msg);
    run(NULL, c, 3200, at, &n, 32); /* nobody listens */
    cr_assert_eq(n, 7, "%u attempts in 3.2 s", n);
    for (unsigned i = 1; i < n; i++)
        cr_assert_eq(at[i] - at[i - 1], MS(want_idle[i - 1]), "attempt %u came %llu ms after the "
                     "previous, want %llu", i + 1,
                     (unsigned long long)((at[i] - at[i - 1]) / MS(1)),
                     (unsigned long long)want_idle[i - 1]);
    /* a server at last: the next attempt logs in */
    cr_assert_eq(sc_osrv_create(&s, &cfg, "R1", NULL, NULL, &err), 0, "%s", err.msg);
    n = 0;
    run(s, c, 1000, at, &n, 32);
    cr_assert_eq(logins, 1);
    cr_assert(sc_ocli_logged_in(c));
    /* it goes away: retried after reconnect.min, not after the back-off it had reached */
    sc_osrv_destroy(s);
    unlink(path);
    n = 0;
    run(NULL, c, 750, at, &n, 32);
    cr_assert_eq(drops, 1);
    cr_assert_eq(n, 3, "%u attempts in the 750 ms after the loss", n);
    cr_assert_eq(at[0] - drop_t, MS(want_after[0]), "the first retry came %llu ms after the loss",
                 (unsigned long long)((at[0] - drop_t) / MS(1)));
    for (unsigned i = 1; i < n; i++)
        cr_assert_eq(at[i] - at[i - 1], MS(want_after[i]), "after the loss, attempt %u came %llu "
                     "ms after the previous, want %llu", i + 1,
                     (unsigned long long)((at[i] - at[i - 1]) / MS(1)),
                     (unsigned long long)want_after[i]);
    sc_ocli_destroy(c);
}

static uint64_t seqs[16];
static unsigned nseqs, gaps;
static uint64_t login_at;

static void
on_msg2(void *ctx, uint64_t seq, const void *msg, size_t len)
{
    (void)ctx;
    (void)msg;
    (void)len;
    if (nseqs < 16)
        seqs[nseqs] = seq;
    nseqs++;
}

static void
on_event2(void *ctx, enum sc_ocli_event ev, uint64_t arg)
{
    (void)ctx;
    if (ev == SC_OCLI_GAP)
        gaps++;
    if (ev == SC_OCLI_LOGGED_IN)
        login_at = arg;
}

/* Resuming: a client asking for message 1 gets the journal replayed from 1;
 * one asking for the next message (count + 1) or for only new ones (0) gets
 * nothing old -- and none of them is told of a gap, since the server has all
 * they asked for. */
Test(order_client, resume_points_replay_exactly_what_was_asked_and_no_gap, .init = setup,
     .fini = teardown, .timeout = 20)
{
    static const struct {
        uint64_t first_seq, want_login;
        unsigned want_msgs;
    } cases[] = { { 1, 1, 4 }, { 4, 4, 1 }, { 0, 4, 1 }, { 3, 3, 2 }, { 9, 4, 1 } };
    struct sc_err err;
    uint64_t at[4];
    unsigned n = 0;

    t = MS(1000);
    for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct sc_osrv *s;
        struct sc_ocli *c;
        cr_assert_eq(sc_osrv_create(&s, &cfg, "R1", NULL, NULL, &err), 0, "%s", err.msg);
        for (int i = 1; i <= 3; i++) /* the journal holds 1..3 */
            cr_assert_eq(sc_osrv_send(s, "old", 3, t), i);
        nseqs = gaps = 0;
        login_at = 0;
        cr_assert_eq(sc_ocli_create(&c, &cfg, "R1", cases[k].first_seq, on_msg2, on_event2, NULL,
                                    &err), 0, "%s", err.msg);
        run(s, c, 100, at, &n, 4);
        cr_assert(sc_ocli_logged_in(c), "case %u: not logged in", k);
        cr_assert_eq(login_at, cases[k].want_login, "case %u: the stream starts at %llu", k,
                     (unsigned long long)login_at);
        cr_assert_eq(sc_osrv_send(s, "new", 3, t), 4);
        run(s, c, 100, at, &n, 4);
        cr_assert_eq(nseqs, cases[k].want_msgs, "case %u: %u messages", k, nseqs);
        cr_assert_eq(seqs[0], 4 + 1 - cases[k].want_msgs, "case %u: first message %llu", k,
                     (unsigned long long)seqs[0]);
        for (unsigned i = 1; i < nseqs && i < 16; i++)
            cr_assert_eq(seqs[i], seqs[i - 1] + 1);
        cr_assert_eq(gaps, 0, "case %u: a gap event for a resume the server could serve", k);
        sc_ocli_destroy(c);
        sc_osrv_destroy(s);
    }
}
