/* The replay agent (replay/pace.c) with simulated time: captures written here
 * (sc_pcapw_*), a fake transport that notes what each call carried and the
 * simulated time it came at. Pacing by capture time (--speed 1, 2), --pps,
 * --max, loops, the start time, back-pressure, damage through the loss
 * wrapper, destination rewrite vs --keep-dest, raw frames, a damaged capture,
 * the gap-error figures, the end as an event, set-up errors. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <seqcast/pcap.h>
#include <seqcast/proto/netframe.h>

#define T0 UINT64_C(1700000000000000000) /* the captures' first timestamp */
#define START UINT64_C(5000000000)       /* simulated CLOCK_MONOTONIC of the first do_work */
#define MAXSENT 4096

/* ------------------------------------------------------------ the fake */

struct sent {
    uint64_t at;   /* simulated time of the call */
    unsigned call; /* which tx call carried it */
    uint32_t addr;
    uint16_t port, len;
    uint8_t data[64];
};

struct fake {
    struct sc_xport x;
    uint64_t *now;      /* the test's clock: what "at" records */
    unsigned refuse;    /* calls still to refuse (back-pressure) */
    unsigned calls, empty_calls, *closed;
    unsigned n;
    struct sent s[MAXSENT];
};

static struct fake *
fake_of(struct sc_xport *x)
{
    return (struct fake *)(void *)x;
}

static uint16_t
fake_take(struct sc_xport *x, const struct sc_pkt *p, uint16_t n)
{
    struct fake *f = fake_of(x);

    if (n == 0) {
        f->empty_calls++;
        return 0;
    }
    if (f->refuse) {
        f->refuse--;
        return 0;
    }
    f->calls++;
    for (uint16_t i = 0; i < n; i++) {
        struct sent *s = &f->s[f->n++];
        cr_assert_lt(f->n, MAXSENT);
        *s = (struct sent){ .at = *f->now, .call = f->calls, .addr = p[i].addr,
                            .port = p[i].port, .len = p[i].len };
        memcpy(s->data, p[i].data, p[i].len < sizeof(s->data) ? p[i].len : sizeof(s->data));
        x->st.tx_pkts++;
    }
    return n;
}

static uint16_t
fake_rx(struct sc_xport *x, struct sc_pkt *p, uint16_t n)
{
    (void)x, (void)p, (void)n;
    return 0;
}

static void
fake_close(struct sc_xport *x)
{
    struct fake *f = fake_of(x);

    if (f->closed)
        ++*f->closed;
    free(f);
}

static const struct sc_xport_ops fake_ops = {
    .name = "fake", .rx_burst = fake_rx, .tx_burst = fake_take, .close = fake_close,
};
static const struct sc_xport_ops fake_frame_ops = {
    .name = "fake-frames", .rx_burst = fake_rx, .tx_burst = fake_take, .tx_frames = fake_take,
    .close = fake_close,
};

static uint64_t now;
static unsigned closes;

static struct fake *
fake_new(bool frames)
{
    struct fake *f = calloc(1, sizeof(*f));

    cr_assert(f);
    f->x.ops = frames ? &fake_frame_ops : &fake_ops;
    f->now = &now;
    f->closed = &closes;
    return f;
}

/* ------------------------------------------------------------ captures */

static char path[64];

/* Datagram i of a capture: payload "dg <i>" padded to 20 bytes, from
 * 198.18.0.1:40000 to 239.192.0.<1 + i % 2>:<3000 + i % 2>. */
static size_t
frame_of(unsigned i, uint8_t *buf, size_t cap)
{
    struct sc_udp4_meta m = { .ttl = 1, .src_port = 40000, .dst_port = (uint16_t)(3000 + i % 2),
                              .ip_id = (uint16_t)i };
    char payload[20] = { 0 };
    int n;

    snprintf(payload, sizeof(payload), "dg %u", i);
    m.src_ip = inet_addr("198.18.0.1");
    m.dst_ip = i % 2 ? inet_addr("239.192.0.2") : inet_addr("239.192.0.1");
    sc_mcast_mac(m.dst_ip, m.dst_mac);
    n = sc_udp4_build(buf, cap, &m, payload, sizeof(payload), SC_NF_UDP_CSUM);
    cr_assert_gt(n, 0);
    return (size_t)n;
}

/* A capture of n datagrams at T0 + ts[i] (ns). */
static void
write_capture(const uint64_t *ts, unsigned n)
{
    struct sc_err err;
    struct sc_pcapw *w;
    uint8_t frame[256];

    snprintf(path, sizeof(path), "/tmp/test_replay_%d.pcap", getpid());
    w = sc_pcapw_open(path, 1, &err);
    cr_assert(w, "%s", err.msg);
    for (unsigned i = 0; i < n; i++) {
        size_t len = frame_of(i, frame, sizeof(frame));
        cr_assert_eq(sc_pcapw_write(w, T0 + ts[i], frame, len), 0);
    }
    cr_assert_eq(sc_pcapw_close(w), 0);
}

static void
cleanup(void)
{
    if (path[0])
        unlink(path);
}

static unsigned
index_of(const struct sent *s)
{
    unsigned i;

    cr_assert_eq(sscanf((const char *)s->data, "dg %u", &i), 1);
    return i;
}

/* ------------------------------------------------------------ driving */

static struct sc_replay *
create(struct fake *f, struct sc_replay_params p)
{
    struct sc_replay *r = NULL;
    struct sc_err err;

    p.path = path;
    if (!p.keep_dest && !p.group) {
        p.group = inet_addr("239.192.9.9");
        p.port = 4000;
    }
    cr_assert_eq(sc_replay_create(&r, &f->x, &p, &err), 0, "%s", err.msg);
    return r;
}

/* Run as a perfect runner would: do_work at now, then jump to the deadline.
 * @return the do_work calls made. */
static unsigned
run(struct sc_replay *r, uint64_t until)
{
    unsigned calls = 0;

    while (!sc_replay_done(r) && now <= until) {
        uint64_t d;
        sc_replay_do_work(r, now);
        calls++;
        cr_assert_lt(calls, 100000, "no progress");
        d = sc_replay_deadline(r, now);
        if (d == UINT64_MAX)
            break;
        if (d > now)
            now = d;
    }
    return calls;
}

static const uint64_t gaps5[] = { 0, 1000000, 3000000, 3000000, 10000000 };

/* ------------------------------------------------------------ pacing */

TestSuite(replay, .fini = cleanup);

Test(replay, speed_1_sends_each_datagram_at_its_capture_offset)
{
    struct fake *f = fake_new(false);
    struct sc_replay *r;
    struct sc_replay_stats st;

    write_capture(gaps5, 5);
    now = START;
    r = create(f, (struct sc_replay_params){ 0 });
    cr_assert_eq(sc_replay_deadline(r, now), now, "before the first do_work: at once");
    run(r, UINT64_MAX);
    cr_assert_eq(f->n, 5);
    for (unsigned i = 0; i < 5; i++) {
        cr_expect_eq(index_of(&f->s[i]), i);
        cr_expect_eq(f->s[i].at, START + gaps5[i], "datagram %u at +%llu ns", i,
                     (unsigned long long)(f->s[i].at - START));
    }
    cr_expect_eq(f->s[3].call, f->s[2].call + 1, "one transport call per datagram");
    sc_replay_stats(r, &st);
    cr_expect_eq(st.sent, 5);
    cr_expect_eq(st.taken, 5);
    cr_expect_eq(st.passes, 1);
    cr_expect_eq(st.link.tx_pkts, 5);
    cr_expect_eq(st.gaps, 4);
    cr_expect_eq(st.gap_error_max_ns, 0, "on time: no gap error");
    cr_expect_eq(sc_replay_deadline(r, now), UINT64_MAX);
    sc_replay_destroy(r);
}

Test(replay, nothing_goes_before_it_is_due)
{
    struct fake *f = fake_new(false);
    struct sc_replay *r;

    write_capture(gaps5, 5);
    now = START;
    r = create(f, (struct sc_replay_params){ 0 });
    cr_assert_eq(sc_replay_do_work(r, now), 1);
    cr_assert_eq(sc_replay_deadline(r, now), START + 1000000);
    cr_assert_eq(sc_replay_do_work(r, START + 999999), 0);
    cr_assert_eq(f->n, 1);
    now = START + 1000000;
    cr_assert_eq(sc_replay_do_work(r, now), 1);
    cr_assert_eq(f->n, 2);
    /* a late call sends everything it owes at once, in order */
    now = START + 20000000;
    cr_assert_eq(sc_replay_do_work(r, now), 3);
    cr_assert_eq(f->n, 5);
    cr_assert(sc_replay_done(r));
    for (unsigned i = 0; i < 5; i++)
        cr_expect_eq(index_of(&f->s[i]), i);
    sc_replay_destroy(r);
}

Test(replay, speed_2_halves_the_gaps)
{
    struct fake *f = fake_new(false);
    struct sc_replay *r;

    write_capture(gaps5, 5);
    now = START;
    r = create(f, (struct sc_replay_params){ .speed = 2 });
    run(r, UINT64_MAX);
    cr_assert_eq(f->n, 5);
    for (unsigned i = 0; i < 5; i++)
        cr_expect_eq(f->s[i].at, START + gaps5[i] / 2, "datagram %u", i);
    sc_replay_destroy(r);
}

Test(replay, speed_below_1_stretches_the_gaps)
{
    struct fake *f = fake_new(false);
    struct sc_replay *r;

    write_capture(gaps5, 5);
    now = START;
    r = create(f, (struct sc_replay_params){ .speed = 0.5 });
    run(r, UINT64_MAX);
    for (unsigned i = 0; i < 5; i++)
        cr_expect_eq(f->s[i].at, START + gaps5[i] * 2, "datagram %u", i);
    sc_replay_destroy(r);
}

Test(replay, pps_spaces_evenly_whatever_the_timestamps)
{
    struct fake *f = fake_new(false);
    struct sc_replay *r;

    write_capture(gaps5, 5);
    now = START;
    r = create(f, (struct sc_replay_params){ .pps = 4000, .speed = 3 });
    run(r, UINT64_MAX);
    cr_assert_eq(f->n, 5);
    for (unsigned i = 0; i < 5; i++)
        cr_expect_eq(f->s[i].at, START + i * 250000u, "datagram %u", i);
    sc_replay_destroy(r);
}

Test(replay, max_sends_everything_at_once_a_burst_per_call)
{
    uint64_t ts[100];
    struct fake *f = fake_new(false);
    struct sc_replay *r;
    struct sc_replay_stats st;

    for (unsigned i = 0; i < 100; i++)
        ts[i] = (uint64_t)i * 1000000000u; /* a second apart: max ignores it */
    write_capture(ts, 100);
    now = START;
    r = create(f, (struct sc_replay_params){ .max = true });
    run(r, UINT64_MAX);
    cr_assert(sc_replay_done(r));
    cr_assert_eq(now, START, "no time passed");
    cr_assert_eq(f->n, 100);
    cr_expect_eq(f->calls, 4, "32 + 32 + 32 + 4");
    for (unsigned i = 0; i < 100; i++) {
        cr_expect_eq(index_of(&f->s[i]), i);
        cr_expect_eq(f->s[i].call, i / SC_BURST + 1);
    }
    sc_replay_stats(r, &st);
    cr_expect_eq(st.gaps, 0, "max measures no gaps");
    sc_replay_destroy(r);
}

Test(replay, first_pass_starts_at_start_ns)
{
    struct fake *f = fake_new(false);
    struct sc_replay *r;

    write_capture(gaps5, 5);
    now = START;
    r = create(f, (struct sc_replay_params){ .start_ns = START + 7000000 });
    cr_assert_eq(sc_replay_deadline(r, now), START + 7000000);
    cr_assert_eq(sc_replay_do_work(r, START + 6999999), 0);
    cr_assert_eq(f->n, 0);
    /* woken late: the schedule is still counted from start_ns */
    now = START + 8000000;
    run(r, UINT64_MAX);
    cr_assert_eq(f->n, 5);
    cr_expect_eq(f->s[0].at, START + 8000000);
    cr_expect_eq(f->s[1].at, START + 8000000, "due at start + 1 ms: already late");
    cr_expect_eq(f->s[2].at, START + 7000000 + 3000000);
    cr_expect_eq(f->s[4].at, START + 7000000 + 10000000);
    sc_replay_destroy(r);
}

Test(replay, a_timestamp_before_the_first_is_due_at_once)
{
    static const uint64_t ts[] = { 5000000, 1000000, 6000000 };
    struct fake *f = fake_new(false);
    struct sc_replay *r;

    write_capture(ts, 3);
    now = START;
    r = create(f, (struct sc_replay_params){ .speed = 2 });
    run(r, START + 10000000000u);
    cr_assert(sc_replay_done(r), "a timestamp going back must not stall the replay");
    cr_expect_eq(f->s[1].at, START);
    cr_expect_eq(f->s[2].at, START + 500000);
    sc_replay_destroy(r);
}

/* ------------------------------------------------------------ loops */

Test(replay, loops_repeat_the_capture_each_pass_from_where_the_last_ended)
{
    struct fake *f = fake_new(false);
    struct sc_replay *r;
    struct sc_replay_stats st;

    write_capture(gaps5, 5);
    now = START;
    r = create(f, (struct sc_replay_params){ .loops = 3 });
    run(r, UINT64_MAX);
    cr_assert_eq(f->n, 15);
    for (unsigned p = 0; p < 3; p++)
        for (unsigned i = 0; i < 5; i++) {
            const struct sent *s = &f->s[p * 5 + i];
            cr_expect_eq(index_of(s), i);
            cr_expect_eq(s->at, START + p * gaps5[4] + gaps5[i], "pass %u datagram %u", p + 1, i);
        }
    sc_replay_stats(r, &st);
    cr_expect_eq(st.passes, 3);
    cr_expect_eq(st.capture.datagrams, 15);
    cr_expect_eq(st.gaps, 14, "the gap across a pass boundary counts too");
    cr_expect_eq(st.gap_error_max_ns, 0);
    sc_replay_destroy(r);
}

Test(replay, forever_runs_until_stopped)
{
    struct fake *f = fake_new(false);
    struct sc_replay *r;

    write_capture(gaps5, 5);
    now = START;
    r = create(f, (struct sc_replay_params){ .forever = true, .loops = 1 });
    run(r, START + 10 * gaps5[4] + gaps5[2]);
    cr_assert_not(sc_replay_done(r));
    cr_assert_geq(f->n, 50);
    sc_replay_stop(r);
    cr_assert(sc_replay_done(r));
    cr_assert_eq(sc_replay_deadline(r, now), UINT64_MAX);
    sc_replay_destroy(r);
}

Test(replay, a_pass_that_selects_nothing_ends_even_forever, .timeout = 10)
{
    struct fake *f = fake_new(false);
    struct sc_replay *r;
    struct sc_replay_stats st;

    write_capture(gaps5, 5);
    now = START;
    r = create(f, (struct sc_replay_params){ .forever = true, .filter = "udp dst port 9" });
    run(r, UINT64_MAX);
    cr_assert(sc_replay_done(r));
    sc_replay_stats(r, &st);
    cr_expect_eq(st.sent, 0);
    cr_expect_eq(st.capture.filtered, 5);
    cr_expect_eq(f->n, 0);
    sc_replay_destroy(r);
}

Test(replay, the_filter_selects)
{
    struct fake *f = fake_new(false);
    struct sc_replay *r;

    write_capture(gaps5, 5);
    now = START;
    r = create(f, (struct sc_replay_params){ .keep_dest = true, .filter = "udp dst port 3001" });
    run(r, UINT64_MAX);
    cr_assert_eq(f->n, 2);
    cr_expect_eq(index_of(&f->s[0]), 1);
    cr_expect_eq(index_of(&f->s[1]), 3);
    cr_expect_eq(f->s[0].at, START, "the first selected datagram starts the pass");
    cr_expect_eq(f->s[1].at, START + gaps5[3] - gaps5[1]);
    sc_replay_destroy(r);
}

/* ------------------------------------------------------------ destination */

Test(replay, rewrite_sends_everything_to_the_group)
{
    struct fake *f = fake_new(false);
    struct sc_replay *r;

    write_capture(gaps5, 5);
    now = START;
    r = create(f, (struct sc_replay_params){ .group = inet_addr("239.192.7.7"), .port = 5555 });
    run(r, UINT64_MAX);
    cr_assert_eq(f->n, 5);
    for (unsigned i = 0; i < 5; i++) {
        cr_expect_eq(f->s[i].addr, inet_addr("239.192.7.7"));
        cr_expect_eq(f->s[i].port, 5555);
        cr_expect_eq(f->s[i].len, 20, "the UDP payload only");
    }
    sc_replay_destroy(r);
}

Test(replay, keep_dest_sends_each_to_its_captured_destination)
{
    struct fake *f = fake_new(false);
    struct sc_replay *r;

    write_capture(gaps5, 5);
    now = START;
    r = create(f, (struct sc_replay_params){ .keep_dest = true, .group = inet_addr("239.192.7.7"),
                                             .port = 5555 });
    run(r, UINT64_MAX);
    cr_assert_eq(f->n, 5);
    for (unsigned i = 0; i < 5; i++) {
        cr_expect_eq(f->s[i].addr, i % 2 ? inet_addr("239.192.0.2") : inet_addr("239.192.0.1"));
        cr_expect_eq(f->s[i].port, 3000 + i % 2);
    }
    sc_replay_destroy(r);
}

Test(replay, raw_frames_go_byte_for_byte_through_tx_frames)
{
    struct fake *f = fake_new(true);
    struct sc_replay *r;
    uint8_t frame[256];

    write_capture(gaps5, 5);
    now = START;
    r = create(f, (struct sc_replay_params){ .raw_frames = true, .max = true });
    run(r, UINT64_MAX);
    cr_assert_eq(f->n, 5);
    for (unsigned i = 0; i < 5; i++) {
        size_t len = frame_of(i, frame, sizeof(frame));
        cr_expect_eq(f->s[i].len, len);
        cr_expect_eq(memcmp(f->s[i].data, frame, len), 0, "frame %u", i);
    }
    sc_replay_destroy(r);
}

Test(replay, raw_frames_need_a_frame_transport_and_it_is_closed_on_failure)
{
    struct fake *f = fake_new(false);
    struct sc_replay *r = NULL;
    struct sc_err err;

    write_capture(gaps5, 5);
    closes = 0;
    cr_assert_eq(sc_replay_create(&r, &f->x,
                                  &(struct sc_replay_params){ .path = path, .raw_frames = true },
                                  &err),
                 -ENOTSUP);
    cr_expect(strstr(err.msg, "raw frames"), "%s", err.msg);
    cr_expect_eq(closes, 1, "the transport is owned from the call on");
}

Test(replay, raw_frames_need_an_ethernet_capture)
{
    struct fake *f = fake_new(true);
    struct sc_replay *r = NULL;
    struct sc_err err;
    struct sc_pcapw *w;
    uint8_t frame[256];
    size_t len = frame_of(0, frame, sizeof(frame));

    snprintf(path, sizeof(path), "/tmp/test_replay_%d.pcap", getpid());
    w = sc_pcapw_open(path, 12, &err); /* DLT_RAW: the same datagram without Ethernet */
    cr_assert(w, "%s", err.msg);
    cr_assert_eq(sc_pcapw_write(w, T0, frame + 14, len - 14), 0);
    cr_assert_eq(sc_pcapw_close(w), 0);
    closes = 0;
    cr_assert_eq(sc_replay_create(&r, &f->x,
                                  &(struct sc_replay_params){ .path = path, .raw_frames = true },
                                  &err),
                 -ENOTSUP);
    cr_expect(strstr(err.msg, "not an Ethernet capture"), "%s", err.msg);
    cr_expect_eq(closes, 1);
}

/* ------------------------------------------------------------ transport */

Test(replay, back_pressure_keeps_the_datagram_for_the_next_call)
{
    struct fake *f = fake_new(false);
    struct sc_replay *r;

    write_capture(gaps5, 5);
    now = START;
    r = create(f, (struct sc_replay_params){ 0 });
    run(r, START + 1000000 - 1);
    cr_assert_eq(f->n, 1);
    f->refuse = 3;
    now = START + 1000000;
    cr_assert_eq(sc_replay_do_work(r, now), 0);
    cr_assert_eq(sc_replay_deadline(r, now), now, "refused: try again at once");
    cr_assert_eq(sc_replay_do_work(r, now + 10), 0);
    cr_assert_eq(sc_replay_do_work(r, now + 20), 0);
    cr_assert_eq(sc_replay_do_work(r, now + 30), 1);
    cr_assert_eq(f->n, 2);
    cr_expect_eq(index_of(&f->s[1]), 1);
    now += 30;
    run(r, UINT64_MAX);
    cr_assert_eq(f->n, 5);
    for (unsigned i = 0; i < 5; i++)
        cr_expect_eq(index_of(&f->s[i]), i, "none lost, none twice");
    sc_replay_destroy(r);
}

Test(replay, max_back_pressure_offers_the_rest_of_the_burst_first)
{
    uint64_t ts[40] = { 0 };
    struct fake *f = fake_new(false);
    struct sc_replay *r;

    write_capture(ts, 40);
    now = START;
    f->refuse = 2;
    r = create(f, (struct sc_replay_params){ .max = true });
    sc_replay_do_work(r, now);
    cr_assert_eq(f->n, 0);
    cr_assert_eq(sc_replay_deadline(r, now), now);
    run(r, UINT64_MAX);
    cr_assert_eq(f->n, 40);
    for (unsigned i = 0; i < 40; i++)
        cr_expect_eq(index_of(&f->s[i]), i);
    sc_replay_destroy(r);
}

Test(replay, damage_on_tx_through_the_loss_wrapper)
{
    uint64_t ts[1000];
    struct sc_loss_params lp = { .seed = 7, .drop_ppm = 200000, .burst_ppm = 10000,
                                 .burst_len = 5, .dup_ppm = 50000, .reorder_ppm = 100000 };
    struct sc_replay_stats st;
    unsigned first[2000], nfirst = 0;

    for (unsigned i = 0; i < 1000; i++)
        ts[i] = (uint64_t)i * 10000;
    write_capture(ts, 1000);
    for (int run_no = 0; run_no < 2; run_no++) {
        struct fake *f = fake_new(false);
        struct sc_replay *r;
        unsigned seen[1000] = { 0 }, out_of_order = 0, got = 0;
        cr_assert_lt(f->n, 2000);
        now = START;
        r = create(f, (struct sc_replay_params){ .loss = &lp });
        run(r, UINT64_MAX);
        sc_replay_stats(r, &st);
        cr_assert_eq(st.sent, 1000, "every datagram handed to the wrapper");
        cr_assert_eq(st.loss.seen, 1000);
        cr_assert_gt(st.loss.dropped, 100);
        cr_assert_gt(st.loss.burst_dropped, 0);
        cr_assert_gt(st.loss.duplicated, 10);
        cr_assert_gt(st.loss.reordered, 30);
        cr_assert_eq(f->n, 1000 - st.loss.dropped - st.loss.burst_dropped + st.loss.duplicated,
                     "what survives reaches the transport, held ones released at the end");
        cr_assert_eq(st.link.tx_pkts, f->n);
        for (unsigned i = 0; i < f->n; i++) {
            unsigned k = index_of(&f->s[i]);
            if (i && k < index_of(&f->s[i - 1]))
                out_of_order++;
            if (!seen[k]++)
                got++;
            if (run_no == 0)
                first[nfirst++] = k;
            else
                cr_assert_eq(k, first[i], "the same seed, the same damage");
        }
        cr_assert_eq(got, 1000 - st.loss.dropped - st.loss.burst_dropped);
        cr_assert_gt(out_of_order, 0);
        sc_replay_destroy(r);
    }
    cr_assert_eq(nfirst, 1000 - st.loss.dropped - st.loss.burst_dropped + st.loss.duplicated);
}

Test(replay, what_the_loss_wrapper_holds_back_goes_at_the_end)
{
    struct sc_loss_params lp = { .seed = 1, .reorder_ppm = 1000000 }; /* hold every one */
    struct fake *f = fake_new(false);
    struct sc_replay *r;
    struct sc_replay_stats st;

    write_capture(gaps5, 5);
    now = START;
    r = create(f, (struct sc_replay_params){ .loss = &lp });
    run(r, START + gaps5[4] - 1);
    cr_assert_eq(f->n, 0, "all five held");
    run(r, UINT64_MAX);
    cr_assert(sc_replay_done(r));
    sc_replay_stats(r, &st);
    cr_expect_eq(st.loss.reordered, 5);
    cr_assert_eq(f->n, 5, "released when the replay ends");
    cr_expect_eq(f->s[4].at, START + gaps5[4]);
    sc_replay_destroy(r);
}

Test(replay, without_loss_params_nothing_is_damaged)
{
    uint64_t ts[200];
    struct fake *f = fake_new(false);
    struct sc_replay *r;
    struct sc_replay_stats st;

    for (unsigned i = 0; i < 200; i++)
        ts[i] = (uint64_t)i * 10000;
    write_capture(ts, 200);
    now = START;
    r = create(f, (struct sc_replay_params){ .max = true });
    run(r, UINT64_MAX);
    sc_replay_stats(r, &st);
    cr_assert_eq(f->n, 200);
    cr_assert_eq(st.loss.seen, 0);
    for (unsigned i = 0; i < 200; i++)
        cr_assert_eq(index_of(&f->s[i]), i);
    sc_replay_destroy(r);
}

/* ------------------------------------------------------------ figures, end, errors */

Test(replay, gap_error_is_measured_against_the_intended_gaps)
{
    uint64_t ts[101];
    struct fake *f = fake_new(false);
    struct sc_replay *r;
    struct sc_replay_stats st;

    for (unsigned i = 0; i < 101; i++)
        ts[i] = (uint64_t)i * 100000;
    write_capture(ts, 101);
    now = START;
    r = create(f, (struct sc_replay_params){ 0 });
    /* datagram 50 goes 7 us late: the gaps before and after it are 7 us off */
    run(r, START + 50 * 100000 - 1);
    now = START + 50 * 100000 + 7000;
    run(r, UINT64_MAX);
    cr_assert_eq(f->s[50].at, START + 50 * 100000 + 7000);
    cr_assert_eq(f->s[51].at, START + 51 * 100000);
    sc_replay_stats(r, &st);
    cr_expect_eq(st.gaps, 100);
    cr_expect_eq(st.gap_error_max_ns, 7000);
    cr_expect_eq(st.gap_error_median_ns, 0);
    cr_expect(st.gap_error_p99_ns >= 6972 && st.gap_error_p99_ns <= 7028, "p99 %llu ns",
              (unsigned long long)st.gap_error_p99_ns);
    sc_replay_destroy(r);
}

Test(replay, the_end_wakes_a_sleeper_once)
{
    struct fake *f = fake_new(false);
    struct sc_replay *r;
    struct pollfd p;

    write_capture(gaps5, 2);
    now = START;
    r = create(f, (struct sc_replay_params){ 0 });
    p = (struct pollfd){ .fd = sc_replay_fd(r), .events = POLLIN };
    cr_assert_geq(p.fd, 0);
    cr_assert_eq(poll(&p, 1, 0), 0, "not readable while playing");
    cr_assert_eq(sc_replay_wait(r, 1000), 0);
    run(r, UINT64_MAX);
    cr_assert(sc_replay_done(r));
    cr_assert_eq(poll(&p, 1, 0), 1, "the end is an event");
    cr_assert_eq(sc_replay_wait(r, 1000000000), 1, "returns at once, not after a second");
    sc_replay_do_work(r, now);
    cr_assert_eq(poll(&p, 1, 0), 0, "seen: a runner of other agents sleeps again");
    cr_assert_eq(sc_replay_wait(r, 1000), 0);
    sc_replay_destroy(r);
}

Test(replay, as_an_agent_on_a_runner)
{
    static const uint64_t ts[] = { 0, 300000, 600000 };
    struct fake *f = fake_new(false);
    struct sc_replay *r;
    struct sc_runner *run_;
    struct sc_err err;
    uint64_t t0, deadline;
    unsigned cycles = 0;

    write_capture(ts, 3);
    now = 0; /* the fake notes 0: real time runs here */
    r = create(f, (struct sc_replay_params){ 0 });
    cr_assert_eq(sc_runner_create(&run_, SC_IDLE_SLEEP, &err), 0);
    cr_assert_eq(sc_runner_add(run_, sc_replay_agent(r)), 0);
    t0 = sc_clock_now();
    deadline = t0 + 2000000000u;
    while (!sc_replay_done(r) && sc_clock_now() < deadline) {
        sc_runner_run_once(run_, 100000000);
        cycles++;
    }
    cr_assert(sc_replay_done(r));
    cr_assert_eq(f->n, 3);
    cr_expect_geq(sc_clock_now() - t0, 600000, "paced in real time");
    cr_expect_lt(sc_clock_now() - t0, 100000000, "the end woke the runner (no 100 ms sleep)");
    sc_runner_destroy(run_);
    sc_replay_destroy(r);
    (void)cycles;
}

Test(replay, a_damaged_capture_sends_what_is_readable_then_says_where)
{
    uint64_t ts[50];
    struct fake *f = fake_new(false);
    struct sc_replay *r;
    struct sc_replay_stats st;
    FILE *fp;
    long size;

    for (unsigned i = 0; i < 50; i++)
        ts[i] = (uint64_t)i * 1000;
    write_capture(ts, 50);
    fp = fopen(path, "r+");
    cr_assert(fp);
    fseek(fp, 0, SEEK_END);
    size = ftell(fp);
    fclose(fp);
    cr_assert_eq(truncate(path, size - 30), 0); /* the last record cut */
    now = START;
    r = create(f, (struct sc_replay_params){ .loops = 2 });
    run(r, UINT64_MAX);
    cr_assert(sc_replay_done(r));
    cr_assert(sc_replay_error(r));
    cr_expect(strstr(sc_replay_error(r), "damaged after record"), "%s", sc_replay_error(r));
    sc_replay_stats(r, &st);
    cr_expect_eq(st.sent, 49);
    cr_expect_eq(st.passes, 1, "no second pass over a damaged file");
    sc_replay_destroy(r);
}

Test(replay, set_up_errors_say_why_and_close_the_transport)
{
    struct sc_replay *r = NULL;
    struct sc_err err;
    struct sc_replay_params both = { .path = path, .pps = 10, .max = true };
    struct sc_replay_params bad_filter = { .path = path, .filter = "udp porrt 1" };

    write_capture(gaps5, 5);
    closes = 0;
    cr_assert_eq(sc_replay_create(&r, &fake_new(false)->x, &both, &err), -EINVAL);
    cr_expect(strstr(err.msg, "exclude"), "%s", err.msg);
    cr_assert_eq(sc_replay_create(&r, &fake_new(false)->x,
                                  &(struct sc_replay_params){ .path = path, .speed = -1 }, &err),
                 -EINVAL);
    cr_assert_lt(sc_replay_create(&r, &fake_new(false)->x,
                                  &(struct sc_replay_params){ .path = "/nonexistent.pcap" }, &err),
                 0);
    cr_expect(strstr(err.msg, "/nonexistent.pcap"), "%s", err.msg);
    cr_assert_lt(sc_replay_create(&r, &fake_new(false)->x, &bad_filter, &err), 0);
    cr_expect(strstr(err.msg, "porrt"), "%s", err.msg);
    cr_expect_eq(closes, 4);
    cr_expect_null(r);
    sc_replay_destroy(NULL);
}

/* ------------------------------------------------------------ --list */

Test(replay, capd_format_describes_a_datagram)
{
    struct sc_err err;
    struct sc_pcapr *rd;
    struct sc_capd d;
    char line[512], small[16];
    int n;

    write_capture(gaps5, 2);
    rd = sc_pcapr_open(path, NULL, &err);
    cr_assert(rd, "%s", err.msg);
    cr_assert_eq(sc_pcapr_next(rd, &d), 1);
    cr_assert_eq(sc_pcapr_next(rd, &d), 1);
    n = sc_capd_format(line, sizeof(line), &d);
    cr_expect_str_eq(line, "1 1700000000.001000000 198.18.0.1:40000 > 239.192.0.2:3001 len 20 "
                           "fnv b481ff008f7359df not-pgm");
    cr_expect_eq(n, (int)strlen(line));
    cr_expect_eq(sc_capd_format(small, sizeof(small), &d), n, "truncated: the whole length");
    cr_expect_str_eq(small, "1 1700000000.00");
    sc_pcapr_close(rd);
}
