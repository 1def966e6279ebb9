/* The MoldUDP64 subscriber (protocol: moldudp64) against a scripted
 * MoldUDP64 server on the in-process network, with an integer clock.
 *
 * The server is this file's own (it shares nothing with engine/pub.c): it
 * sends downstream packets to the group (and the B line), heartbeats and End
 * of Session when told to, withholds the packets a test says, and reads the
 * requests that reach it -- recording each -- and answers them or not: from
 * the first message asked for, one datagram's worth, by unicast to where the
 * request came from (or to the group); a request older than what it holds is
 * answered from its oldest message, or with a unicast heartbeat naming it
 * (seqcast's not-in-window extension, docs/PROTOCOL.md).
 *
 * Every subscriber's deliveries are checked as they happen: each message once,
 * in order from where its SOURCE_UP said, with the generated content; a loss
 * event must start exactly at the next message expected.
 *
 * The last suite builds a capture as exchanges record one (802.1Q tags,
 * arbitrary source ports, sequence numbers from 14,000,000) with the public
 * pcap writer and runs seqcast-sub --pcap on it.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <seqcast/config.h>
#include <seqcast/pcap.h>
#include <seqcast/proto/mold.h>
#include <seqcast/proto/netframe.h>
#include <seqcast/sub.h>

#include "apps/msggen.h"
#include "engine/transport/transport.h"

#define SRV_ADDR "198.18.0.1"
#define SRV2_ADDR "198.18.0.2"
#define MAX_SUBS 32
#define MAX_LOSS 64
#define MAX_REQS 8192
#define PAYLOAD 1472 /* MTU 1500 less IPv4 and UDP */

static const char SESSION[] = "MOLDSIM001";

/* ------------------------------------------------------------ the world */

struct req {
    uint64_t first, at;
    uint16_t count;
    unsigned server;
};

struct msrv {
    struct sc_xport *x[2]; /* the re-request servers; x[0] also sends the feed */
    unsigned nx;
    uint8_t session[SC_MOLD_SESSION_LEN];
    uint64_t next;    /* the next message number */
    uint64_t oldest;  /* the oldest message still held */
    bool answer;      /* answer requests at all */
    bool to_group;    /* answers to the group instead of the requester */
    unsigned per_pkt; /* most messages in a packet (data and answers); 0 = what fits */
    size_t msg_size;  /* 0 = mixed, 8 to 64 bytes */
    uint64_t nreq, answers, heartbeat_answers;
    uint64_t hb_ns;   /* a heartbeat when nothing went to the group for this long (0: none) */
    uint64_t last_tx; /* when something last went to the group */
    uint64_t delay_ns; /* a slow server (an archive): answers a request this late, */
    unsigned per_tick_answers; /* at most this many a tick (0: no limit) */
    struct req req[MAX_REQS];
    struct slow {
        struct sc_mold_hdr h;
        uint32_t addr;
        uint16_t port;
        unsigned server;
        uint64_t due;
    } slow[MAX_REQS];
    unsigned slow_head, slow_tail;
};

struct msub {
    struct sc_sub *sub;
    struct sc_xport *loss_x;
    bool up;
    uint64_t next, first, delivered;
    int join, down_reason;
    unsigned ups, downs, nloss;
    struct mloss {
        uint64_t first, last, packets;
        int reason;
    } loss[MAX_LOSS];
    uint64_t errors;
    char first_error[200];
    unsigned foreign_up, foreign_evicted; /* events of other sessions (hostile tests) */
    uint64_t foreign_msgs;
    unsigned nak_events;
    enum sc_nak_fault nak_reason;
    uint32_t nak_addr;
    uint16_t nak_port;
};

struct world {
    struct sc_memnet *net;
    struct sc_channel_cfg ch;
    struct msrv srv;
    unsigned nsubs;
    struct msub subs[MAX_SUBS];
    uint64_t now, step;
};

static struct world W;

static size_t
msg_size(uint64_t seq)
{
    return W.srv.msg_size ? W.srv.msg_size : 8 + seq % 57;
}

static void __attribute__((format(printf, 2, 3)))
fail_sub(struct msub *m, const char *fmt, ...)
{
    va_list ap;

    if (!m->errors++) {
        va_start(ap, fmt);
        vsnprintf(m->first_error, sizeof(m->first_error), fmt, ap);
        va_end(ap);
    }
}

static void
on_msg(void *ctx, const struct sc_source *src, uint64_t seq, const void *msg, size_t len)
{
    struct msub *m = ctx;

    if (memcmp(src->session, SESSION, SC_MOLD_SESSION_LEN)) {
        m->foreign_msgs++;
        return;
    }
    if (!m->up)
        fail_sub(m, "message %llu before SOURCE_UP", (unsigned long long)seq);
    if (seq != m->next)
        fail_sub(m, "got message %llu, expected %llu", (unsigned long long)seq,
                 (unsigned long long)m->next);
    if (len != msg_size(seq) || !sc_msggen_check(seq, msg, len))
        fail_sub(m, "message %llu: bad content (len %zu)", (unsigned long long)seq, len);
    if (!m->delivered++)
        m->first = seq;
    m->next = seq + 1;
}

static void
on_event(void *ctx, const struct sc_sub_event *ev)
{
    struct msub *m = ctx;

    if (memcmp(ev->src->session, SESSION, SC_MOLD_SESSION_LEN)) {
        m->foreign_up += ev->type == SC_EV_SOURCE_UP;
        m->foreign_evicted += ev->type == SC_EV_SOURCE_DOWN && ev->down.reason == SC_DOWN_EVICTED;
        return;
    }
    switch (ev->type) {
    case SC_EV_SOURCE_UP:
        m->ups++;
        if (!m->up) {
            m->up = true;
            m->join = ev->up.join;
            m->next = ev->up.first_packet;
        }
        if (strcmp(ev->src->name, SESSION))
            fail_sub(m, "source named '%s'", ev->src->name);
        break;
    case SC_EV_SOURCE_DOWN:
        m->downs++;
        m->down_reason = ev->down.reason;
        break;
    case SC_EV_LOSS:
        if (ev->loss.first != m->next)
            fail_sub(m, "loss starts at %llu, expected %llu", (unsigned long long)ev->loss.first,
                     (unsigned long long)m->next);
        if (ev->loss.last < ev->loss.first || ev->loss.last == UINT64_MAX ||
            ev->loss.packets != ev->loss.last - ev->loss.first + 1)
            fail_sub(m, "loss %llu..%llu: not an exact range", (unsigned long long)ev->loss.first,
                     (unsigned long long)ev->loss.last);
        if (m->nloss < MAX_LOSS)
            m->loss[m->nloss++] = (struct mloss){ ev->loss.first, ev->loss.last,
                                                        ev->loss.packets, ev->loss.reason };
        m->next = ev->loss.last + 1;
        break;
    case SC_EV_NAK_UNANSWERED:
        if (!m->nak_events++) {
            m->nak_reason = ev->nak.reason;
            m->nak_addr = ev->nak.addr;
            m->nak_port = ev->nak.port;
        }
        break;
    case SC_EV_REPAIR: /* repairs come through on_repair only */
        fail_sub(m, "a repair entry through on_event");
        break;
    }
}

static void
channel(struct sc_channel_cfg *ch)
{
    struct sc_config cfg;

    sc_config_init(&cfg);
    *ch = cfg.channels[0];
    inet_pton(AF_INET, "239.198.0.9", &ch->group);
    inet_pton(AF_INET, "198.18.1.100", &ch->interface);
    ch->port = 36001;
    ch->protocol = SC_PROTOCOL_MOLDUDP64;
}

static void
add_server(const char *addr, uint16_t port)
{
    struct sc_xport_params xp;
    struct sc_channel_cfg ch = W.ch;

    ch.port = port;
    sc_xport_params_from(&xp, &ch, SC_XPORT_PUB);
    xp.nak_port = port;
    cr_assert_eq(sc_memnet_open(W.net, &W.srv.x[W.srv.nx++], inet_addr(addr), &xp), 0);
}

static void
add_sub(const struct sc_loss_params *loss, enum sc_late_join lj)
{
    unsigned i = W.nsubs++;
    struct msub *m = &W.subs[i];
    struct sc_channel_cfg ch = W.ch;
    struct sc_xport_params xp;
    struct sc_xport *x;
    struct sc_err err;
    struct sc_sub_callbacks cb = { on_msg, on_event, m };
    char addr[32];

    cr_assert_lt(i, MAX_SUBS);
    ch.late_join = lj;
    snprintf(addr, sizeof(addr), "198.18.1.%u", i + 1);
    sc_xport_params_from(&xp, &ch, SC_XPORT_SUB);
    cr_assert(xp.sub_unicast);
    cr_assert_eq(sc_memnet_open(W.net, &x, inet_addr(addr), &xp), 0);
    if (loss) {
        struct sc_loss_params lp = *loss;
        lp.seed = loss->seed * 7919 + i + 1;
        cr_assert_eq(sc_xport_loss_wrap(&m->loss_x, x, &lp), 0);
        x = m->loss_x;
    }
    cr_assert_eq(sc_sub_create_on(&m->sub, &ch, x, &cb, 77 + i, &err), 0, "%s", err.msg);
}

static void
world_init(const struct sc_channel_cfg *ch, unsigned nsubs, const struct sc_loss_params *loss)
{
    memset(&W, 0, sizeof(W));
    W.ch = *ch;
    W.now = 1000000000;
    W.step = 50000;
    W.net = sc_memnet_create(MAX_SUBS + 4, 4096);
    cr_assert_not_null(W.net);
    memcpy(W.srv.session, SESSION, SC_MOLD_SESSION_LEN);
    W.srv.next = W.srv.oldest = 1;
    W.srv.answer = true;
    add_server(SRV_ADDR, ch->port);
    for (unsigned i = 0; i < nsubs; i++)
        add_sub(loss, ch->late_join);
}

static void
world_fini(void)
{
    for (unsigned i = 0; i < W.nsubs; i++)
        sc_sub_destroy(W.subs[i].sub);
    for (unsigned i = 0; i < W.srv.nx; i++)
        sc_xport_close(W.srv.x[i]);
    sc_memnet_destroy(W.net);
}

/* ------------------------------------------------------------ the server */

/* A downstream packet of messages [first, limit), at most max of them, into
 * buf. @return its length; *count the messages in it. */
static uint16_t
build(uint8_t *buf, uint64_t first, uint64_t limit, unsigned max, uint16_t *count)
{
    struct sc_mold_enc e;
    uint8_t m[PAYLOAD];

    cr_assert_eq(sc_mold_enc_init(&e, buf, PAYLOAD, W.srv.session, first), 0);
    for (uint64_t q = first; q < limit && (!max || e.count < max); q++) {
        size_t len = msg_size(q);
        sc_msggen_fill(q, m, len);
        if (sc_mold_enc_add(&e, m, (uint16_t)len) < 0)
            break;
    }
    *count = e.count;
    return (uint16_t)e.len;
}

static void
srv_tx(unsigned server, const uint8_t *buf, uint16_t len, uint32_t addr, uint16_t port)
{
    struct sc_pkt p = { .data = (uint8_t *)(uintptr_t)buf, .len = len, .addr = addr,
                        .port = port };
    cr_assert_eq(sc_xport_tx(W.srv.x[server], &p, 1), 1);
    if (addr == W.ch.group.s_addr)
        W.srv.last_tx = W.now;
}

/* Packets of the next n messages to the group, in order: those for which
 * skip(first message, line) says so are withheld from that line (0: A, 1: B). */
typedef bool skip_fn(uint64_t first, int line);

static void
srv_send(uint64_t n, skip_fn *skip)
{
    uint8_t buf[PAYLOAD];
    uint64_t limit = W.srv.next + n;

    while (W.srv.next < limit) {
        uint16_t cnt, len = build(buf, W.srv.next, limit, W.srv.per_pkt, &cnt);
        for (int line = 0; line < (W.ch.group_b.s_addr ? 2 : 1); line++)
            if (!skip || !skip(W.srv.next, line))
                srv_tx(0, buf, len, line ? W.ch.group_b.s_addr : W.ch.group.s_addr, W.ch.port);
        W.srv.next += cnt;
    }
}

static void
srv_header(uint16_t count)
{
    uint8_t buf[SC_MOLD_HDR_LEN];
    struct sc_mold_hdr h = { .seq = W.srv.next, .count = count };

    memcpy(h.session, W.srv.session, SC_MOLD_SESSION_LEN);
    cr_assert_eq(sc_mold_encode_hdr(buf, sizeof(buf), &h), SC_MOLD_HDR_LEN);
    srv_tx(0, buf, SC_MOLD_HDR_LEN, W.ch.group.s_addr, W.ch.port);
}

/* Answer one request (h) that came to server k from addr:port. */
static void
srv_answer(unsigned k, const struct sc_mold_hdr *h, uint32_t addr, uint16_t port)
{
    uint8_t buf[PAYLOAD];
    uint64_t from = h->seq;
    uint16_t cnt, len;

    if (h->seq < W.srv.oldest) {
        if (h->seq + h->count <= W.srv.oldest) { /* nothing asked for is held */
            struct sc_mold_hdr hb = { .seq = W.srv.oldest, .count = 0 };
            memcpy(hb.session, W.srv.session, SC_MOLD_SESSION_LEN);
            sc_mold_encode_hdr(buf, sizeof(buf), &hb);
            srv_tx(k, buf, SC_MOLD_HDR_LEN, addr, port);
            W.srv.heartbeat_answers++;
            return;
        }
        from = W.srv.oldest;
    }
    len = build(buf, from, h->seq + h->count < W.srv.next ? h->seq + h->count : W.srv.next,
                W.srv.per_pkt, &cnt);
    srv_tx(k, buf, len, W.srv.to_group ? W.ch.group.s_addr : addr,
           W.srv.to_group ? W.ch.port : port);
    W.srv.answers++;
}

/* Read every request that reached the servers and answer it (or not): at
 * once, or, for a slow server, delay_ns later and per_tick_answers a tick,
 * in the order they came. */
static void
srv_serve(void)
{
    static uint8_t bufs[SC_BURST][2048];
    struct sc_pkt in[SC_BURST];
    unsigned answered = 0;

    for (unsigned k = 0; k < W.srv.nx; k++) {
        uint16_t got;
        do {
            for (int i = 0; i < SC_BURST; i++)
                in[i] = (struct sc_pkt){ .data = bufs[i], .cap = sizeof(bufs[i]) };
            got = sc_xport_rx(W.srv.x[k], in, SC_BURST);
            for (uint16_t i = 0; i < got; i++) {
                struct sc_mold_hdr h;
                cr_assert_eq(sc_mold_decode_request(in[i].data, in[i].len, &h), 0);
                cr_assert(!memcmp(h.session, W.srv.session, SC_MOLD_SESSION_LEN));
                if (W.srv.nreq < MAX_REQS)
                    W.srv.req[W.srv.nreq] = (struct req){ h.seq, W.now, h.count, k };
                W.srv.nreq++;
                if (!W.srv.answer || h.seq >= W.srv.next || !h.seq)
                    continue;
                if (!W.srv.delay_ns && !W.srv.per_tick_answers) {
                    srv_answer(k, &h, in[i].addr, in[i].port);
                    continue;
                }
                cr_assert_lt(W.srv.slow_tail - W.srv.slow_head, MAX_REQS, "slow queue full");
                W.srv.slow[W.srv.slow_tail++ % MAX_REQS] =
                    (struct slow){ h, in[i].addr, in[i].port, k, W.now + W.srv.delay_ns };
            }
        } while (got == SC_BURST);
    }
    while (W.srv.slow_head != W.srv.slow_tail &&
           W.srv.slow[W.srv.slow_head % MAX_REQS].due <= W.now &&
           (!W.srv.per_tick_answers || answered < W.srv.per_tick_answers)) {
        struct slow *r = &W.srv.slow[W.srv.slow_head++ % MAX_REQS];
        srv_answer(r->server, &r->h, r->addr, r->port);
        answered++;
    }
}

/* ------------------------------------------------------------ the clock */

static void srv_header(uint16_t count);

static void
tick(void)
{
    if (W.srv.hb_ns && W.now - W.srv.last_tx >= W.srv.hb_ns)
        srv_header(SC_MOLD_COUNT_HEARTBEAT);
    srv_serve();
    for (unsigned i = 0; i < W.nsubs; i++)
        while (sc_sub_do_work(W.subs[i].sub, W.now) > 0)
            ;
    W.now += W.step;
}

static void
run_for(uint64_t ns)
{
    uint64_t end = W.now + ns;
    while (W.now < end)
        tick();
}

/* n messages, pkts_per_tick packets' worth each tick */
static void
publish(uint64_t n, unsigned per_tick, skip_fn *skip)
{
    uint64_t end = W.srv.next + n;

    while (W.srv.next < end) {
        uint64_t before = W.srv.next;
        for (unsigned k = 0; k < per_tick && W.srv.next < end; k++) {
            uint8_t buf[PAYLOAD];
            uint16_t cnt;
            build(buf, W.srv.next, end, W.srv.per_pkt, &cnt);
            srv_send(cnt, skip);
        }
        cr_assert_gt(W.srv.next, before);
        tick();
    }
}

/* Run until every subscriber's next message is past `last` or max_ns passes. */
static bool
drain(uint64_t last, uint64_t max_ns)
{
    uint64_t end = W.now + max_ns;

    for (;;) {
        bool all = true;
        for (unsigned i = 0; i < W.nsubs && all; i++)
            all = W.subs[i].next > last;
        if (all)
            return true;
        if (W.now >= end)
            break;
        tick();
    }
    for (unsigned i = 0; i < W.nsubs; i++) {
        struct sc_sub_stats st;
        sc_sub_get_stats(W.subs[i].sub, &st);
        if (W.subs[i].next <= last)
            printf("# behind: sub %u next %llu of %llu; requests %llu (retries %llu), repaired "
                   "%llu, lost %llu, beyond %llu, pool empty %llu; %s\n",
                   i, (unsigned long long)W.subs[i].next, (unsigned long long)last,
                   (unsigned long long)st.requests_sent, (unsigned long long)st.request_retries,
                   (unsigned long long)st.repaired, (unsigned long long)st.lost_packets,
                   (unsigned long long)st.rx_beyond_window, (unsigned long long)st.rx_pool_empty,
                   W.subs[i].first_error);
    }
    return false;
}

static struct sc_sub_stats
stats(unsigned i)
{
    struct sc_sub_stats st;
    sc_sub_get_stats(W.subs[i].sub, &st);
    return st;
}

/* Every subscriber got [from, last] exactly once, in order, nothing lost. */
static void
assert_complete(uint64_t from, uint64_t last)
{
    for (unsigned i = 0; i < W.nsubs; i++) {
        struct msub *m = &W.subs[i];
        cr_assert_eq(m->errors, 0, "sub %u: %s", i, m->first_error);
        cr_assert_eq(m->nloss, 0, "sub %u: %u loss events, the first %llu..%llu reason %d", i,
                     m->nloss, (unsigned long long)m->loss[0].first,
                     (unsigned long long)m->loss[0].last, m->loss[0].reason);
        cr_assert_eq(m->first, from, "sub %u: first message %llu, expected %llu", i,
                     (unsigned long long)m->first, (unsigned long long)from);
        cr_assert_eq(m->delivered, last - from + 1, "sub %u: %llu delivered, expected %llu", i,
                     (unsigned long long)m->delivered, (unsigned long long)(last - from + 1));
    }
}


/* ------------------------------------------------------------ loss */

static void
loss_run(unsigned nsubs, uint64_t n, unsigned per_tick)
{
    struct sc_channel_cfg ch;
    struct sc_loss_params lp = { .seed = 11, .drop_ppm = 42000, .burst_ppm = 500,
                                 .burst_len = 20 };
    uint64_t reqs = 0, lost = 0, repaired = 0, dropped = 0, seen = 0;

    channel(&ch);
    ch.late_join = SC_LATE_JOIN_FIRST; /* from 1, even if the opening heartbeat is lost */
    /* 43 ms at 1.5M messages/s (a MoldUDP64 window counts messages): more than
     * a repair lost four times in a row takes on the lan profile's ramp */
    ch.rx_window_packets = 65536;
    world_init(&ch, nsubs, &lp);
    W.srv.hb_ns = 1000000; /* every 1 ms of silence: a lost heartbeat is not the end */
    srv_header(SC_MOLD_COUNT_HEARTBEAT); /* the session's opening heartbeat */
    publish(n, per_tick, NULL);
    srv_header(SC_MOLD_COUNT_HEARTBEAT); /* the tail shows */
    cr_assert(drain(n, 2000000000u), "not everything arrived");
    assert_complete(1, n);
    for (unsigned i = 0; i < nsubs; i++) {
        struct sc_sub_stats st = stats(i);
        cr_assert_gt(st.requests_sent, 0);
        cr_assert_gt(st.gaps, 0);
        cr_assert_eq(st.lost_packets, 0);
        reqs += st.requests_sent;
        repaired += st.repaired;
        const struct sc_loss_stats *ls = sc_xport_loss_stats(W.subs[i].loss_x);
        lost += ls->dropped + ls->burst_dropped;
        seen += ls->seen;
        dropped += ls->burst_dropped;
    }
    printf("# %u sub(s), %llu messages: %llu of %llu packets dropped (%.1f %%, %llu in bursts), "
           "%llu messages repaired, %llu requests (%.2f per dropped packet), %llu answers\n",
           nsubs, (unsigned long long)n, (unsigned long long)lost, (unsigned long long)seen,
           seen ? 100.0 * (double)lost / (double)seen : 0.0, (unsigned long long)dropped,
           (unsigned long long)repaired, (unsigned long long)reqs,
           lost ? (double)reqs / (double)lost : 0.0, (unsigned long long)W.srv.answers);
    world_fini();
}

/* 1,000,000 messages, 5 % loss (4.2 % random, 0.8 % in bursts of 20) on what the
 * subscriber receives, answers included: each once, in order, nothing lost. */
Test(mold_sub, exactly_once_under_random_and_burst_loss, .timeout = 300)
{
    loss_run(1, 1000000, 2);
}

/* The same for 32 subscribers, each losing its own 5 %; answers by unicast
 * reach only the one that asked. */
Test(mold_sub, thirty_two_subscribers, .timeout = 300)
{
    loss_run(32, 100000, 2);
}

/* ------------------------------------------------------------ gap detection */

static uint64_t skip_from = UINT64_MAX, skip_to;

static bool
skip_range(uint64_t first, int line)
{
    (void)line;
    return first >= skip_from && first < skip_to;
}

/* A lost tail shows only in the heartbeat that follows it. */
Test(mold_sub, heartbeat_reveals_a_lost_tail)
{
    struct sc_channel_cfg ch;
    struct sc_sub_stats st;

    channel(&ch);
    ch.nak.backoff_ns = 1000;
    world_init(&ch, 1, NULL);
    W.srv.per_pkt = 10;
    W.srv.msg_size = 32;
    skip_from = 91, skip_to = 101;
    publish(100, 1, skip_range);
    run_for(2000000);
    cr_assert_eq(W.subs[0].next, 91);
    cr_assert_eq(W.srv.nreq, 0, "nothing says 91..100 exist yet");
    srv_header(SC_MOLD_COUNT_HEARTBEAT); /* next: 101 */
    run_for(500000);
    cr_assert_eq(W.srv.nreq, 1);
    cr_assert_eq(W.srv.req[0].first, 91);
    cr_assert_eq(W.srv.req[0].count, 10);
    assert_complete(1, 100);
    st = stats(0);
    cr_assert_eq(st.gaps, 1);
    cr_assert_eq(st.heartbeats_received, 1);
    cr_assert_eq(st.repaired, 10);
    cr_assert_eq(W.subs[0].join, SC_JOIN_FROM_START);
    world_fini();
}

/* A block that repeats the last messages delivered and goes on (a feed that
 * resends the tail of its last packet), in order with nothing missing: the
 * fast path delivers only what is new, and counts the repeats. */
Test(mold_sub, an_overlapping_block_in_order_delivers_only_the_new_messages)
{
    struct sc_channel_cfg ch;
    struct sc_sub_stats st;
    uint8_t buf[PAYLOAD];
    uint16_t cnt, len;

    channel(&ch);
    world_init(&ch, 1, NULL);
    W.srv.msg_size = 32;
    len = build(buf, 1, 11, 10, &cnt);
    srv_tx(0, buf, len, W.ch.group.s_addr, W.ch.port);
    tick();
    cr_assert_eq(W.subs[0].next, 11);
    len = build(buf, 6, 16, 10, &cnt); /* 6..15: 6..10 again */
    srv_tx(0, buf, len, W.ch.group.s_addr, W.ch.port);
    W.srv.next = 16;
    tick();
    assert_complete(1, 15);
    st = stats(0);
    cr_assert_eq(st.msgs_delivered, 15);
    cr_assert_eq(st.msg_duplicates, 5);
    cr_assert_eq(st.gaps + st.requests_sent, 0);
    world_fini();
}

/* End of Session reveals a lost tail too; the source ends (FIN) once the tail
 * is delivered; its repeats start nothing. A live joiner that arrives during
 * End of Session joins nothing; one with late_join: first recovers the whole
 * session from the server and ends with it. */
Test(mold_sub, end_of_session)
{
    struct sc_channel_cfg ch;
    struct sc_sub_stats st;

    channel(&ch);
    ch.nak.backoff_ns = 1000;
    world_init(&ch, 1, NULL);
    W.srv.per_pkt = 10;
    W.srv.msg_size = 32;
    skip_from = 91, skip_to = 101;
    publish(100, 1, skip_range);
    run_for(1000000);
    cr_assert_eq(W.subs[0].downs, 0);
    srv_header(SC_MOLD_COUNT_EOS);
    run_for(500000);
    cr_assert_eq(W.srv.nreq, 1);
    cr_assert_eq(W.srv.req[0].first, 91);
    cr_assert_eq(W.srv.req[0].count, 10);
    assert_complete(1, 100);
    cr_assert_eq(W.subs[0].downs, 1);
    cr_assert_eq(W.subs[0].down_reason, SC_DOWN_FIN);
    add_sub(NULL, SC_LATE_JOIN_LIVE);
    add_sub(NULL, SC_LATE_JOIN_FIRST);
    for (int i = 0; i < 3; i++) {
        srv_header(SC_MOLD_COUNT_EOS);
        run_for(1000000);
    }
    st = stats(0);
    cr_assert_eq(st.eos_received, 1);
    cr_assert_eq(st.rx_session_ended, 3, "its repeats: %llu", (unsigned long long)st.rx_session_ended);
    cr_assert_eq(W.subs[0].ups, 1);
    st = stats(1);
    cr_assert_eq(W.subs[1].ups, 0, "a live joiner joins no ended session");
    cr_assert_eq(st.rx_session_ended, 3);
    cr_assert_eq(W.subs[2].ups, 1);
    cr_assert_eq(W.subs[2].join, SC_JOIN_FIRST);
    cr_assert_eq(W.subs[2].first, 1);
    cr_assert_eq(W.subs[2].delivered, 100);
    cr_assert_eq(W.subs[2].errors, 0, "%s", W.subs[2].first_error);
    cr_assert_eq(W.subs[2].nloss, 0);
    cr_assert_eq(W.subs[2].downs, 1);
    cr_assert_eq(W.subs[2].down_reason, SC_DOWN_FIN);
    world_fini();
}

/* ------------------------------------------------------------ requests */

static bool
skip_two(uint64_t first, int line)
{
    (void)line;
    return (first >= 41 && first < 241) || (first >= 261 && first < 271);
}

/* Gaps found at once and due at once (a 1 us back-off) leave as few requests
 * as there are runs, each at most mold.request_count: nak.c hands them over in
 * batches of 63, so a run of 200 crosses three batches. An answer holds 10
 * messages (one "datagram"): the rest is asked for again at once, not after
 * the nak.rdata wait (no retries). */
Test(mold_sub, requests_coalesced_and_limited)
{
    struct sc_channel_cfg ch;
    struct sc_sub_stats st;
    static const struct {
        uint64_t first;
        uint16_t count;
    } want[] = { { 41, 50 }, { 91, 50 }, { 141, 50 }, { 191, 50 }, { 261, 10 } };

    channel(&ch);
    ch.nak.backoff_ns = 1000;
    ch.mold.request_count = 50;
    world_init(&ch, 1, NULL);
    W.srv.per_pkt = 10;
    W.srv.msg_size = 32;
    srv_send(280, skip_two);
    tick(); /* the gaps are seen */
    tick(); /* the back-offs run out: the requests leave */
    tick(); /* answered */
    cr_assert_geq(W.srv.nreq, 5);
    for (unsigned i = 0; i < 5; i++) {
        cr_assert_eq(W.srv.req[i].first, want[i].first, "request %u: first %llu", i,
                     (unsigned long long)W.srv.req[i].first);
        cr_assert_eq(W.srv.req[i].count, want[i].count, "request %u: count %u", i,
                     W.srv.req[i].count);
        cr_assert_eq(W.srv.req[i].at, W.srv.req[0].at, "request %u: not in the same do_work", i);
    }
    run_for(W.step * 8);
    assert_complete(1, 280);
    st = stats(0);
    /* each 50 answered 10 at a time: 4 more requests each */
    cr_assert_eq(W.srv.nreq, 5 + 4 * 4, "%llu requests", (unsigned long long)W.srv.nreq);
    cr_assert_eq(st.request_retries, 0);
    cr_assert_eq(st.request_continued, 4 * (40 + 30 + 20 + 10));
    cr_assert_eq(st.request_msgs, 4 * (50 + 40 + 30 + 20 + 10) + 10);
    world_fini();
}

static bool
skip_41(uint64_t first, int line)
{
    (void)line;
    return first == 41;
}

/* Data that arrives during the back-off (a late copy, a multicast answer to
 * another listener) cancels the request it was waiting for. */
Test(mold_sub, backoff_suppressed_when_the_data_arrives)
{
    struct sc_channel_cfg ch;
    struct sc_sub_stats st0, st1;
    uint8_t buf[PAYLOAD];
    uint16_t cnt, len;

    channel(&ch);
    ch.nak.backoff_ns = 50000000; /* 50 ms: nothing leaves within a tick or two */
    world_init(&ch, 1, NULL);
    W.srv.per_pkt = 10;
    W.srv.msg_size = 32;
    publish(60, 1, skip_41);
    tick();
    len = build(buf, 41, 51, 10, &cnt);
    srv_tx(0, buf, len, W.ch.group.s_addr, W.ch.port); /* a copy, late */
    run_for(100000000);
    assert_complete(1, 60);
    st0 = stats(0);
    cr_assert_eq(st0.requests_sent, 0);
    cr_assert_eq(st0.request_suppressed, 10);
    cr_assert_eq(st0.repaired, 10);
    world_fini();

    /* two listeners lose the same packet; the quick one asks, the server
     * answers to the group, the other one's request is never sent */
    channel(&ch);
    ch.nak.backoff_ns = 1000;
    world_init(&ch, 1, NULL);
    W.ch.nak.backoff_ns = 50000000;
    add_sub(NULL, SC_LATE_JOIN_LIVE);
    W.srv.per_pkt = 10;
    W.srv.msg_size = 32;
    W.srv.to_group = true;
    publish(60, 1, skip_41);
    run_for(100000000);
    assert_complete(1, 60);
    st0 = stats(0), st1 = stats(1);
    cr_assert_eq(W.srv.nreq, 1);
    cr_assert_eq(st0.requests_sent, 1);
    cr_assert_eq(st1.requests_sent, 0);
    cr_assert_eq(st1.request_suppressed, 10);
    world_fini();
}

/* No answer: nak.data_retries requests, the retries to the next server in
 * turn, then a loss event (retries) with the exact range, and the servers'
 * silence said once. The clock runs in 1 us steps under a 50 us random
 * back-off: the gap's 20 messages still leave as one request each time (one
 * back-off for a gap, one for the retries of a poll). */
Test(mold_sub, retries_then_loss)
{
    struct sc_channel_cfg ch;
    struct sc_sub_stats st;
    struct msub *m;

    channel(&ch);
    ch.nak.backoff_ns = 50000;
    ch.nak.rdata_ns = 1000000;
    ch.nak.ramp = false;
    ch.nak.data_retries = 3;
    ch.mold.nrequest_servers = 2;
    inet_pton(AF_INET, SRV_ADDR, &ch.mold.request_servers[0].addr);
    ch.mold.request_servers[0].port = ch.port;
    inet_pton(AF_INET, SRV2_ADDR, &ch.mold.request_servers[1].addr);
    ch.mold.request_servers[1].port = 36101;
    world_init(&ch, 1, NULL);
    W.step = 1000;
    add_server(SRV2_ADDR, 36101);
    W.srv.answer = false;
    W.srv.per_pkt = 10;
    W.srv.msg_size = 32;
    skip_from = 41, skip_to = 61;
    publish(70, 1, skip_range);
    run_for(10000000);
    cr_assert_eq(W.srv.nreq, 3);
    for (unsigned i = 0; i < 3; i++) {
        cr_assert_eq(W.srv.req[i].first, 41);
        cr_assert_eq(W.srv.req[i].count, 20);
        cr_assert_eq(W.srv.req[i].server, i % 2, "request %u went to server %u", i,
                     W.srv.req[i].server);
    }
    cr_assert_geq(W.srv.req[1].at - W.srv.req[0].at, 1000000);
    m = &W.subs[0];
    cr_assert_eq(m->errors, 0, "%s", m->first_error);
    cr_assert_eq(m->nloss, 1);
    cr_assert_eq(m->loss[0].first, 41);
    cr_assert_eq(m->loss[0].last, 60);
    cr_assert_eq(m->loss[0].reason, SC_LOSS_RETRIES);
    cr_assert_eq(m->delivered, 50);
    cr_assert_eq(m->next, 71);
    st = stats(0);
    cr_assert_eq(st.requests_sent, 3);
    cr_assert_eq(st.request_retries, 2);
    cr_assert_eq(st.lost_packets, 20);
    cr_assert_eq(m->nak_events, 1);
    cr_assert_eq(m->nak_reason, SC_NAK_NO_NCF);
    cr_assert_eq(m->nak_addr, inet_addr(SRV_ADDR)); /* the third request's */
    world_fini();
}

/* A server that no longer holds 1..2500 says so (seqcast's extension): a
 * heartbeat by unicast naming its oldest message for requests wholly older,
 * data from its oldest for one that straddles it. A late joiner asking from
 * 1 reports [1, 2500] lost (not_in_window) at once -- no retries -- and
 * delivers the rest. */
Test(mold_sub, not_in_window_answers)
{
    struct sc_channel_cfg ch;
    struct sc_sub_stats st;
    struct msub *m;

    channel(&ch);
    ch.late_join = SC_LATE_JOIN_FIRST;
    world_init(&ch, 0, NULL);
    srv_send(5000, NULL);
    W.srv.oldest = 2501;
    add_sub(NULL, SC_LATE_JOIN_FIRST);
    srv_header(SC_MOLD_COUNT_HEARTBEAT);
    run_for(3000000);
    m = &W.subs[0];
    cr_assert_eq(m->errors, 0, "%s", m->first_error);
    cr_assert_eq(m->join, SC_JOIN_FIRST);
    cr_assert_eq(m->nloss, 1, "%u loss events", m->nloss);
    cr_assert_eq(m->loss[0].first, 1);
    cr_assert_eq(m->loss[0].last, 2500);
    cr_assert_eq(m->loss[0].reason, SC_LOSS_NOT_IN_WINDOW);
    cr_assert_eq(m->delivered, 2500);
    cr_assert_eq(m->first, 2501);
    cr_assert_eq(m->next, 5001);
    st = stats(0);
    cr_assert_eq(st.not_in_window_answers, 3, "%llu", (unsigned long long)st.not_in_window_answers);
    cr_assert_eq(W.srv.heartbeat_answers, 2);
    cr_assert_eq(st.request_retries, 0);
    cr_assert_eq(st.lost_packets, 2500);
    world_fini();
}

/* ------------------------------------------------------------ A/B, late join */

/* The B line's copies come a tick after the A line's; each line misses
 * packets the other has (never both): every message once, no request -- each
 * one pending during the back-off is suppressed by the other line's copy. */
static uint8_t lag_buf[4][PAYLOAD];
static uint16_t lag_len[4];
static unsigned nlag;

static bool
ab_skip(uint64_t first, int line)
{
    uint64_t k = first / 10;
    bool skip_a = k % 7 == 3;

    if (line == 0)
        return skip_a;
    if (!skip_a && k % 5 == 1)
        return true;
    /* the B copy leaves after the sub has seen the next A packet (ab_flush) */
    cr_assert_lt(nlag, 4);
    lag_len[nlag] = build(lag_buf[nlag], first, first + 10, 10, &(uint16_t){ 0 });
    nlag++;
    return true;
}

static void
ab_flush(void)
{
    for (unsigned i = 0; i < nlag; i++)
        srv_tx(0, lag_buf[i], lag_len[i], W.ch.group_b.s_addr, W.ch.port);
    nlag = 0;
}

Test(mold_sub, ab_lines)
{
    struct sc_channel_cfg ch;
    struct sc_sub_stats st;

    channel(&ch);
    inet_pton(AF_INET, "239.198.0.10", &ch.group_b);
    ch.nak.backoff_ns = 1000000;
    world_init(&ch, 1, NULL);
    W.srv.per_pkt = 10;
    W.srv.msg_size = 32;
    srv_header(SC_MOLD_COUNT_HEARTBEAT);
    for (int i = 0; i < 2000; i++) {
        uint8_t keep[4][PAYLOAD];
        uint16_t keep_len[4];
        unsigned nkeep = nlag;
        memcpy(keep, lag_buf, sizeof(keep));
        memcpy(keep_len, lag_len, sizeof(keep_len));
        nlag = 0;
        srv_send(10, ab_skip); /* A now, B queued */
        tick();
        for (unsigned k = 0; k < nkeep; k++) /* B of the tick before */
            srv_tx(0, keep[k], keep_len[k], W.ch.group_b.s_addr, W.ch.port);
    }
    ab_flush();
    run_for(5000000);
    assert_complete(1, 20000);
    st = stats(0);
    cr_assert_eq(st.requests_sent, 0);
    cr_assert_gt(st.request_suppressed, 0);
    cr_assert_gt(st.msg_duplicates, 10000);
    cr_assert_gt(st.duplicates, 1000);
    printf("# A/B: %llu messages suppressed a pending request, %llu duplicate messages\n",
           (unsigned long long)st.request_suppressed, (unsigned long long)st.msg_duplicates);
    world_fini();
}

/* Two listeners join a session at message 20,001: live starts there; first
 * asks for everything from 1 -- more than its 4,096-message window, while the
 * feed goes on -- and catches up. */
Test(mold_sub, late_join_first_and_live, .timeout = 60)
{
    struct sc_channel_cfg ch;
    struct sc_sub_stats st0, st1;

    channel(&ch);
    ch.rx_window_packets = 4096;
    world_init(&ch, 0, NULL);
    srv_send(20000, NULL);
    add_sub(NULL, SC_LATE_JOIN_LIVE);
    add_sub(NULL, SC_LATE_JOIN_FIRST);
    publish(20000, 1, NULL);
    srv_header(SC_MOLD_COUNT_HEARTBEAT);
    cr_assert(drain(40000, 1000000000u));
    st0 = stats(0), st1 = stats(1);
    cr_assert_eq(W.subs[0].join, SC_JOIN_LIVE);
    cr_assert_eq(W.subs[0].first, 20001);
    cr_assert_eq(W.subs[0].delivered, 20000);
    cr_assert_eq(W.subs[0].nloss, 0);
    cr_assert_eq(W.subs[0].errors, 0, "%s", W.subs[0].first_error);
    cr_assert_eq(st0.requests_sent, 0);
    cr_assert_eq(W.subs[1].join, SC_JOIN_FIRST);
    cr_assert_eq(W.subs[1].first, 1);
    cr_assert_eq(W.subs[1].delivered, 40000);
    cr_assert_eq(W.subs[1].nloss, 0);
    cr_assert_eq(W.subs[1].errors, 0, "%s", W.subs[1].first_error);
    cr_assert_gt(st1.rx_beyond_window, 0, "the live feed ran past its window while it caught up");
    printf("# late join first: %llu requests (%llu retries, %llu messages asked again at once), "
           "%llu packets beyond the window dropped and asked for later\n",
           (unsigned long long)st1.requests_sent, (unsigned long long)st1.request_retries,
           (unsigned long long)st1.request_continued, (unsigned long long)st1.rx_beyond_window);
    world_fini();
}

/* A late joiner fetching 20,000 messages from a server answering each
 * request delay_ns late, per_tick answers a tick: delivered whole, none
 * reported not_in_window. @return its stats. */
static struct sc_sub_stats
slow_server_run(struct sc_channel_cfg *ch, uint64_t delay_ns, unsigned per_tick)
{
    struct sc_sub_stats st;

    ch->rx_window_packets = 65536;
    world_init(ch, 0, NULL);
    srv_send(20000, NULL);
    W.srv.delay_ns = delay_ns;
    W.srv.per_tick_answers = per_tick;
    add_sub(NULL, SC_LATE_JOIN_FIRST);
    srv_header(SC_MOLD_COUNT_HEARTBEAT);
    cr_assert(drain(20000, 20000000000ull), "not everything arrived");
    assert_complete(1, 20000);
    st = stats(0);
    cr_assert_gt(st.request_retries, 0, "the server was not slow enough to test late answers");
    cr_assert_eq(st.not_in_window_answers, 0);
    printf("# slow server: %llu requests (%llu retries), %llu answers, %.1f s, answer wait %llu us\n",
           (unsigned long long)st.requests_sent, (unsigned long long)st.request_retries,
           (unsigned long long)W.srv.answers, (double)(W.now - 1000000000) / 1e9,
           (unsigned long long)st.answer_wait_peak);
    world_fini();
    return st;
}

/* A slow re-request server (an archive reading its disk: each answer 6 ms
 * after its request, 2 answers a tick) with the default nak.rdata: requests
 * time out and are sent again, re-cut where earlier answers filled part of a
 * run, while the old ones' answers still arrive. An answer to an older
 * request is still an answer: nothing the server holds is reported lost (it
 * was, as not_in_window, when the subscriber took an answer whose first
 * message no longer began one of its requests for "the server no longer
 * holds what is below"), and the wait follows the server's answers. */
Test(mold_sub, slow_server_late_answers_are_not_loss, .timeout = 120)
{
    struct sc_channel_cfg ch;
    struct sc_sub_stats st;

    channel(&ch);
    st = slow_server_run(&ch, 6000000, 2);
    cr_assert_gt(st.answer_wait_peak, ch.nak.rdata_ns / 1000, "the wait did not follow the server");
}

/* The same with retries enough not to give up (no ramp, 50 of them): late
 * answers to requests since cut differently are not read as not held. */
Test(mold_sub, late_answers_to_recut_requests_are_not_loss, .timeout = 120)
{
    struct sc_channel_cfg ch;

    channel(&ch);
    ch.nak.ramp = false;
    ch.nak.data_retries = 50;
    slow_server_run(&ch, 6000000, 2);
}

/* The same while the live feed goes on, from a server that answers one
 * request a tick (its queue is what makes it slow): the joiner catches up
 * with no loss and no stall. */
Test(mold_sub, slow_server_while_live, .timeout = 120)
{
    struct sc_channel_cfg ch;
    struct sc_sub_stats st;

    channel(&ch);
    ch.rx_window_packets = 65536;
    world_init(&ch, 0, NULL);
    srv_send(20000, NULL);
    W.srv.delay_ns = 2000000;
    W.srv.per_tick_answers = 1;
    add_sub(NULL, SC_LATE_JOIN_FIRST);
    srv_header(SC_MOLD_COUNT_HEARTBEAT);
    publish(20000, 1, NULL);
    srv_header(SC_MOLD_COUNT_HEARTBEAT);
    cr_assert(drain(40000, 60000000000ull), "not everything arrived");
    assert_complete(1, 40000);
    st = stats(0);
    cr_assert_eq(st.not_in_window_answers, 0);
    printf("# slow server, live: %llu requests (%llu retries), %llu answers, %.1f s, answer wait "
           "%llu us\n", (unsigned long long)st.requests_sent, (unsigned long long)st.request_retries,
           (unsigned long long)W.srv.answers, (double)(W.now - 1000000000) / 1e9,
           (unsigned long long)st.answer_wait_peak);
    world_fini();
}

/* ------------------------------------------------------------ hostile input */

static void
inject(uint32_t from, uint16_t from_port, uint32_t to, uint16_t to_port, const void *p,
       size_t len)
{
    sc_memnet_inject(W.net, from, from_port, to, to_port, p, (uint16_t)len);
}

/* a header with any count and session, then `extra` bytes of blocks */
static size_t
raw_pkt(uint8_t *b, const char *session, uint64_t seq, uint16_t count, const uint8_t *blocks,
        size_t extra)
{
    memcpy(b, session, SC_MOLD_SESSION_LEN);
    for (int i = 0; i < 8; i++)
        b[10 + i] = (uint8_t)(seq >> (56 - 8 * i));
    b[18] = (uint8_t)(count >> 8);
    b[19] = (uint8_t)count;
    memcpy(b + 20, blocks, extra);
    return 20 + extra;
}

static bool
skip_7th(uint64_t first, int line)
{
    (void)line;
    return first % 7 == 3;
}

/* An honest session with gaps to repair while packets from elsewhere and from
 * the same group are malformed, of other sessions, or numbered near 2^64:
 * each is counted under its own reason; the honest stream is delivered
 * whole; nothing crashes. mold.session is set: other sessions are dropped. */
Test(mold_sub, hostile_stream, .timeout = 60)
{
    struct sc_channel_cfg ch;
    struct sc_sub_stats st;
    uint32_t evil = inet_addr("198.18.7.7"), group;
    uint8_t b[256];
    static const uint8_t two[] = { 0, 2, 'a', 'b', 0, 1, 'c' };       /* 2 blocks */
    static const uint8_t overrun[] = { 0, 9, 'a', 'b' };               /* length past the end */
    const uint64_t top = UINT64_MAX;
    uint64_t jumps = 0;

    channel(&ch);
    snprintf(ch.mold.session, sizeof(ch.mold.session), "%s", SESSION);
    ch.late_join = SC_LATE_JOIN_FIRST;
    world_init(&ch, 1, NULL);
    W.srv.hb_ns = 1000000;
    group = W.ch.group.s_addr;
    srv_header(SC_MOLD_COUNT_HEARTBEAT);
    for (int round = 0; round < 500; round++) {
        uint64_t next = W.srv.next;
        raw_pkt(b, SESSION, next, 1, two, 4);
        inject(evil, 5000, group, W.ch.port, b, 19); /* a header cut short */
        inject(evil, 5000, group, W.ch.port, b, raw_pkt(b, SESSION, next, 1, overrun, 4));
        inject(evil, 5000, group, W.ch.port, b, raw_pkt(b, SESSION, next, 3, two, sizeof(two)));
        inject(evil, 5000, group, W.ch.port, b, raw_pkt(b, SESSION, next, 0, two, 3)); /* HB+data */
        inject(evil, 5000, group, W.ch.port, b, 7);                                    /* 7 bytes */
        inject(evil, 5000, group, W.ch.port, b, raw_pkt(b, "OTHERSESS1", next, 2, two, sizeof(two)));
        inject(evil, 5000, group, W.ch.port, b, raw_pkt(b, "OTHERSESS1", next, 0xFFFF, two, 0));
        /* the right session, numbered near 2^64: jumps, and one the codec refuses */
        inject(evil, 5000, group, W.ch.port, b, raw_pkt(b, SESSION, top - 10, 2, two, sizeof(two)));
        inject(evil, 5000, group, W.ch.port, b, raw_pkt(b, SESSION, top, 0, two, 0));
        inject(evil, 5000, group, W.ch.port, b, raw_pkt(b, SESSION, top, 0xFFFF, two, 0));
        inject(evil, 5000, group, W.ch.port, b, raw_pkt(b, SESSION, top - 1, 2, two, sizeof(two)));
        /* by unicast to where requests leave from: a forged "answer" far ahead */
        inject(evil, 5000, inet_addr("198.18.1.1"), 40000, b,
               raw_pkt(b, SESSION, top - 3, 0, two, 0));
        jumps += 4;
        publish(100, 1, skip_7th);
    }
    srv_header(SC_MOLD_COUNT_HEARTBEAT);
    cr_assert(drain(W.srv.next - 1, 1000000000u));
    assert_complete(1, W.srv.next - 1);
    st = stats(0);
    cr_assert_eq(st.sources_up, 1);
    cr_assert_eq(st.rx_bad[-SC_PERR_SHORT], 1000, "%llu", (unsigned long long)st.rx_bad[-SC_PERR_SHORT]);
    cr_assert_eq(st.rx_bad[-SC_PERR_LENGTH], 1500, "%llu", (unsigned long long)st.rx_bad[-SC_PERR_LENGTH]);
    cr_assert_eq(st.rx_bad[-SC_PERR_OVERSIZE], 500);
    cr_assert_eq(st.rx_wrong_session, 1000);
    cr_assert_eq(st.rx_seq_jump, jumps, "%llu", (unsigned long long)st.rx_seq_jump);
    cr_assert_eq(st.msgs_delivered, W.srv.next - 1);
    cr_assert_gt(st.requests_sent, 0);
    world_fini();
}

/* Every session a source (mold.session ""): the source-table rules of PGM
 * channels. Heartbeat-only sessions from many addresses take places and
 * evict one another; the one that sent data keeps its place and is delivered
 * whole; source_allow drops the rest before they are parsed. */
Test(mold_sub, source_table_rules)
{
    struct sc_channel_cfg ch;
    struct sc_sub_stats st;
    uint8_t b[64];
    char sess[16];

    channel(&ch);
    ch.max_sources = 2;
    world_init(&ch, 1, NULL);
    W.ch.nsource_allow = 1;
    inet_pton(AF_INET, SRV_ADDR, &W.ch.source_allow[0].addr);
    W.ch.source_allow[0].prefix = 32;
    add_sub(NULL, SC_LATE_JOIN_LIVE); /* sub 1: only the server's address */
    srv_header(SC_MOLD_COUNT_HEARTBEAT);
    for (int round = 0; round < 50; round++) {
        snprintf(sess, sizeof(sess), "SPAM%06d", round);
        sc_memnet_inject(W.net, inet_addr("198.18.9.1") + htonl((uint32_t)round), 6000,
                         W.ch.group.s_addr, W.ch.port, b,
                         (uint16_t)raw_pkt(b, sess, 1000, 0, b, 0));
        publish(40, 1, NULL);
    }
    srv_header(SC_MOLD_COUNT_HEARTBEAT);
    run_for(1000000);
    assert_complete(1, 2000);
    st = stats(0);
    cr_assert_eq(W.subs[0].foreign_up, 50);
    cr_assert_eq(W.subs[0].foreign_evicted, 49, "%u", W.subs[0].foreign_evicted);
    cr_assert_eq(st.sources_evicted, 49);
    cr_assert_eq(st.source_table_full, 0);
    st = stats(1);
    cr_assert_eq(W.subs[1].foreign_up, 0);
    cr_assert_eq(st.rx_source_denied, 50);
    world_fini();
}

/* ------------------------------------------------------------ a capture */

#define CAP_GROUP "239.198.50.1"
#define CAP_PORT 26477
#define CAP_FIRST 14000000u
#define CAP_PKTS 3000

struct capw {
    struct sc_pcapw *w;
    uint64_t ts;
    unsigned n;
};

/* One 802.1Q-tagged Ethernet/IPv4/UDP frame, as a switch port mirror
 * records an exchange's feed. */
static void
cap_frame(struct capw *c, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
          const uint8_t *payload, size_t len)
{
    uint8_t f[2048], t[2048];
    struct sc_udp4_meta m = { .src_ip = src, .dst_ip = dst, .src_port = sport,
                              .dst_port = dport, .ttl = 32, .ip_id = (uint16_t)c->n };
    int fl;

    sc_mcast_mac(dst, m.dst_mac);
    memcpy(m.src_mac, "\x00\x1b\x21\x0a\x0b\x0c", 6);
    fl = sc_udp4_build(f, sizeof(f), &m, payload, len, SC_NF_UDP_CSUM);
    cr_assert_gt(fl, 0);
    memcpy(t, f, 12);
    memcpy(t + 12, "\x81\x00\x00\x65", 4); /* TPID 0x8100, VLAN 101 */
    memcpy(t + 16, f + 12, (size_t)fl - 12);
    cr_assert_eq(sc_pcapw_write(c->w, c->ts, t, (size_t)fl + 4), 0);
    c->ts += 20000;
    c->n++;
}

/* seqcast-sub --pcap on a MoldUDP64 feed as an exchange sends it and a
 * capture records it: 802.1Q tags, source ports that change, sequence numbers
 * from 14,000,000, heartbeats, End of Session, other feeds on the same link.
 * Packets missing from the capture -- one, a run of five, and the tail
 * (found by the heartbeat and End of Session that follow it) -- are reported
 * as exactly those message ranges; every other message is delivered once, in
 * order, byte for byte. */
Test(mold_pcap, exchange_capture_exact_ranges, .timeout = 60)
{
    const char *bdir = getenv("BUILD") ? getenv("BUILD") : "build";
    char dir[] = "/tmp/seqcast-moldpcap-XXXXXX", path[128], out[128], cmd[1024], json[8192];
    uint8_t pkt[PAYLOAD], m[PAYLOAD];
    struct sc_err err;
    struct capw c = { .ts = UINT64_C(1700000000) * 1000000000u };
    uint32_t src = inet_addr("198.18.50.1"), grp = inet_addr(CAP_GROUP);
    uint64_t seq = CAP_FIRST, gaps[3][2];
    unsigned ngaps = 0;
    FILE *p, *o, *e;
    size_t jl;
    uint8_t *want;
    size_t want_len = 0, want_cap = 8u << 20;
    int rc;

    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/feed.pcap", dir);
    snprintf(out, sizeof(out), "%s/out.bin", dir);
    cr_assert_not_null(c.w = sc_pcapw_open(path, 1 /* DLT_EN10MB */, &err), "%s", err.msg);
    want = malloc(want_cap);
    memcpy(W.srv.session, "NASDAQTV01", SC_MOLD_SESSION_LEN);
    W.srv.msg_size = 0;
    for (unsigned k = 0; k < CAP_PKTS; k++) {
        uint16_t cnt, len = build(pkt, seq, UINT64_MAX, 0, &cnt);
        bool missing = k == 100 || (k >= 500 && k < 505) || k >= CAP_PKTS - 3;
        if (missing) {
            if (ngaps && gaps[ngaps - 1][1] + 1 == seq)
                gaps[ngaps - 1][1] = seq + cnt - 1;
            else
                gaps[ngaps][0] = seq, gaps[ngaps][1] = seq + cnt - 1, ngaps++;
        } else {
            cap_frame(&c, src, (uint16_t)(50000 + k % 7), grp, CAP_PORT, pkt, len);
            for (uint64_t q = seq; q < seq + cnt; q++) { /* what --output must hold */
                size_t l = msg_size(q);
                sc_msggen_fill(q, m, l);
                cr_assert_lt(want_len + 2 + l, want_cap);
                want[want_len++] = (uint8_t)(l >> 8);
                want[want_len++] = (uint8_t)l;
                memcpy(want + want_len, m, l);
                want_len += l;
            }
        }
        if (k % 50 == 7) /* another feed on the link: filtered out */
            cap_frame(&c, src, 50001, inet_addr("239.198.50.2"), CAP_PORT, pkt, len);
        if (k % 200 == 199) { /* a heartbeat in a quiet moment: next = seq + cnt */
            struct sc_mold_hdr h = { .seq = seq + cnt, .count = 0 };
            memcpy(h.session, W.srv.session, SC_MOLD_SESSION_LEN);
            sc_mold_encode_hdr(m, sizeof(m), &h);
            if (!missing)
                cap_frame(&c, src, 50003, grp, CAP_PORT, m, SC_MOLD_HDR_LEN);
        }
        seq += cnt;
    }
    for (int i = 0; i < 2; i++) { /* the tail shows: a heartbeat, then End of Session */
        struct sc_mold_hdr h = { .seq = seq, .count = i ? SC_MOLD_COUNT_EOS : 0 };
        memcpy(h.session, W.srv.session, SC_MOLD_SESSION_LEN);
        sc_mold_encode_hdr(m, sizeof(m), &h);
        cap_frame(&c, src, 50004, grp, CAP_PORT, m, SC_MOLD_HDR_LEN);
    }
    cr_assert_eq(sc_pcapw_close(c.w), 0);
    cr_assert_eq(ngaps, 3);

    snprintf(cmd, sizeof(cmd),
             "%s/bin/seqcast-sub --pcap %s --set protocol=moldudp64 --group %s:%u --quiet "
             "--output %s 2>%s/err.txt",
             bdir, path, CAP_GROUP, CAP_PORT, out, dir);
    cr_assert_not_null(p = popen(cmd, "r"), "%s", cmd);
    jl = fread(json, 1, sizeof(json) - 1, p);
    json[jl] = '\0';
    rc = pclose(p);
    cr_assert_eq(WEXITSTATUS(rc), 1, "exit %d (loss: 1): %s", WEXITSTATUS(rc), json);
    for (unsigned i = 0; i < ngaps; i++) {
        char r1[128], r2[128];
        snprintf(r1, sizeof(r1), "{\"first\": %llu, \"last\": %llu, \"reason\": \"retries\"}",
                 (unsigned long long)gaps[i][0], (unsigned long long)gaps[i][1]);
        snprintf(r2, sizeof(r2), "{\"first\": %llu, \"last\": %llu, \"reason\": \"rx_window\"}",
                 (unsigned long long)gaps[i][0], (unsigned long long)gaps[i][1]);
        cr_assert(strstr(json, r1) || strstr(json, r2), "range %llu..%llu not reported: %s",
                  (unsigned long long)gaps[i][0], (unsigned long long)gaps[i][1], json);
    }
    {
        char lost[64], ranges[64];
        uint64_t nlost = 0;
        for (unsigned i = 0; i < ngaps; i++)
            nlost += gaps[i][1] - gaps[i][0] + 1;
        snprintf(lost, sizeof(lost), "\"lost_messages\": %llu,", (unsigned long long)nlost);
        cr_assert(strstr(json, lost), "%s in %s", lost, json);
        snprintf(ranges, sizeof(ranges), "\"loss_events\": %u,", ngaps);
        cr_assert(strstr(json, ranges), "%s in %s", ranges, json);
    }
    /* what was delivered: every other message, once, in order, byte for byte */
    cr_assert_not_null(o = fopen(out, "rb"));
    {
        uint8_t *got = malloc(want_cap);
        size_t gl = fread(got, 1, want_cap, o);
        cr_assert_eq(gl, want_len, "--output has %zu bytes, expected %zu", gl, want_len);
        cr_assert(!memcmp(got, want, want_len), "--output differs from the capture's messages");
        free(got);
    }
    fclose(o);
    snprintf(cmd, sizeof(cmd), "%s/err.txt", dir);
    if ((e = fopen(cmd, "r"))) {
        char line[256];
        while (fgets(line, sizeof(line), e))
            printf("# seqcast-sub: %s", line);
        fclose(e);
    }
    printf("# capture: %u frames, first sequence %u, %u gaps; %s", c.n, CAP_FIRST, ngaps, json);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
    free(want);
}
