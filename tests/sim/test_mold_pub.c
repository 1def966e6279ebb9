/* The publisher of a MoldUDP64 channel (protocol: moldudp64), watched on the
 * in-process network by a scripted listener (tests/support/moldrig.h) with an
 * integer clock: the downstream packets (the block alone, filled to the MTU,
 * numbered from 1), heartbeats (at once, while idle, restarted by data), End
 * of Session (after the backlog, repeated for mold.eos_time, sc_pub_closed),
 * and the re-request server: responses (mid-packet start, the MTU, the count
 * and mold.response_bytes, unicast to the requester or multicast), the
 * not_in_window answers, every ignored request under its own counter with no
 * answer, the budget per address with many addresses, rtx.rate counted with
 * headers, A/B lines; and tshark on a recording of all of it. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <seqcast/pcap.h>
#include <seqcast/proto/endian.h>

#include "apps/msggen.h"
#include "engine/rereq_srv.h"
#include "engine/rtx.h"
#include "tests/support/moldrig.h"

#define MS RIG_MS
#define S(x) ((uint64_t)(x) * RIG_S)
#define PKT_MAX (1500 - 28) /* UDP payload at the lan MTU */

static struct rig r;

static void
check(const struct rig_pkt *p)
{
    char why[160];

    cr_assert(rig_check_blocks(&r, p, why, sizeof(why)), "%s", why);
}

/* ---------------------------------------------------------------- downstream */

/* The session's first packet is a heartbeat for message 1, at once and alone;
 * then the data: no PGM header (the session in the first 10 bytes), every
 * packet but the last filled until the next message would not fit, message
 * numbers from 1 without gaps, the content intact. */
Test(mold_pub, a_heartbeat_at_once_then_full_packets_numbered_from_1)
{
    struct rig_list *l = &r.mcq;
    struct sc_pub_stats st;
    uint64_t next = 1, t0;

    rig_channel(&r.ch);
    rig_init(&r, &r.ch, NULL, NULL);
    t0 = r.now;
    rig_tick(&r);
    cr_assert_eq(l->n, 1, "one packet at the session's start");
    cr_assert_eq(l->p[0].len, SC_MOLD_HDR_LEN);
    cr_assert_eq(l->p[0].h.count, SC_MOLD_COUNT_HEARTBEAT);
    cr_assert_eq(l->p[0].h.seq, 1);
    cr_assert_eq(l->p[0].t, t0);
    rig_publish(&r, 10000); /* 40-byte messages: 42 bytes a block, 34 a packet */
    rig_run_for(&r, MS);
    cr_assert_eq(l->n, 1 + (10000 + 33) / 34, "%zu packets", l->n);
    for (size_t i = 1; i < l->n; i++) {
        const struct rig_pkt *p = &l->p[i];
        cr_assert(p->valid);
        check(p);
        cr_assert_eq(memcmp(p->data, RIG_SESSION " ", 10), 0, "not the block alone");
        cr_assert_eq(p->h.seq, next, "packet %zu starts at %llu, not %llu", i,
                     (unsigned long long)p->h.seq, (unsigned long long)next);
        next += p->h.count;
        if (i + 1 < l->n)
            cr_assert_gt(p->len + 42, PKT_MAX, "packet %zu: %u bytes, room for another", i,
                         p->len);
        cr_assert_leq(p->len, PKT_MAX);
    }
    cr_assert_eq(next, 10001);
    sc_pub_get_stats(r.pub, &st);
    cr_assert_eq(st.odata_sent, l->n - 1);
    cr_assert_eq(st.mold_heartbeats, 1);
    cr_assert_eq(st.spm_sent + st.ncf_sent, 0, "no PGM at all");
    cr_assert_eq(st.next_msg_seq, 10001);
    rig_fini(&r);
}

/* A message must fit one packet: MoldUDP64 has no fragments. */
Test(mold_pub, a_message_larger_than_a_packet_is_refused)
{
    static uint8_t big[PKT_MAX];

    rig_channel(&r.ch);
    rig_init(&r, &r.ch, NULL, NULL);
    cr_assert_eq(sc_pub_max_msg(r.pub), PKT_MAX - 22, "sc_pub_max_msg says what fits");
    cr_assert_eq(sc_pub_send(r.pub, big, PKT_MAX - 22, r.now), 0, "the largest that fits");
    cr_assert_eq(sc_pub_send(r.pub, big, PKT_MAX - 21, r.now), -EMSGSIZE);
    rig_fini(&r);
}

/* Idle: a heartbeat every mold.heartbeat, without drift; data restarts the
 * schedule (none sooner than mold.heartbeat after it), and the heartbeat after
 * data carries the next message number. */
Test(mold_pub, heartbeats_while_idle_and_restarted_by_data)
{
    struct rig_list *l = &r.mcq;
    uint64_t t0, t1;
    size_t k;

    rig_channel(&r.ch);
    rig_init(&r, &r.ch, NULL, NULL);
    t0 = r.now;
    rig_run_for(&r, S(1) + MS / 2);
    cr_assert_eq(l->n, 11, "%zu heartbeats in 1 s at 100 ms", l->n);
    for (size_t i = 0; i < l->n; i++) {
        cr_assert_eq(l->p[i].h.count, 0);
        cr_assert_eq(l->p[i].h.seq, 1);
        cr_assert_eq(l->p[i].t, t0 + i * 100 * MS, "heartbeat %zu at +%llu ns", i,
                     (unsigned long long)(l->p[i].t - t0));
    }
    /* data at t1, 35 ms after the last heartbeat */
    rig_run_until(&r, t0 + S(1) + 35 * MS);
    t1 = r.now;
    rig_publish(&r, 3);
    rig_run_for(&r, 350 * MS);
    k = 11;
    cr_assert_eq(l->p[k].h.count, 3, "the data");
    cr_assert_eq(l->p[k].t, t1);
    for (size_t i = k + 1; i < l->n; i++) {
        cr_assert_eq(l->p[i].h.count, 0);
        cr_assert_eq(l->p[i].h.seq, 4, "the heartbeat after data: the next message");
        cr_assert_eq(l->p[i].t, t1 + (i - k) * 100 * MS, "heartbeat at +%llu ns after data",
                     (unsigned long long)(l->p[i].t - t1));
    }
    cr_assert_eq(l->n, k + 1 + 3);

    /* wan: NASDAQ's one a second */
    rig_fini(&r);
    rig_channel(&r.ch);
    r.ch.mold.heartbeat_ns = S(1);
    rig_init(&r, &r.ch, NULL, NULL);
    r.step_ns = MS;
    rig_run_for(&r, S(5) + MS / 2);
    cr_assert_eq(r.mcq.n, 6);
    cr_assert_eq(r.mcq.p[5].t - r.mcq.p[0].t, S(5));
    rig_fini(&r);
}

/* On a steady stream nothing but data goes out; a lost tail shows within one
 * heartbeat of the last data. */
Test(mold_pub, a_steady_stream_sends_no_heartbeats)
{
    struct sc_pub_stats st;

    rig_channel(&r.ch);
    rig_init(&r, &r.ch, NULL, NULL);
    for (int i = 0; i < 2000; i++) { /* 2 s, one message every ms */
        rig_publish(&r, 1);
        rig_run_for(&r, MS);
    }
    sc_pub_get_stats(r.pub, &st);
    cr_assert_eq(st.mold_heartbeats, 1, "only the start-up one: %llu",
                 (unsigned long long)st.mold_heartbeats);
    rig_run_for(&r, 100 * MS + MS / 2);
    sc_pub_get_stats(r.pub, &st);
    cr_assert_eq(st.mold_heartbeats, 2);
    cr_assert_eq(r.mcq.p[r.mcq.n - 1].h.seq, 2001);
    rig_fini(&r);
}

/* ------------------------------------------------------------ End of Session */

/* sc_pub_close with a backlog held back by data_rate: the data first, then
 * End of Session (seq = the next message) -- sc_pub_closed only once it is
 * out -- then again every mold.heartbeat for mold.eos_time and nothing after;
 * no heartbeat meanwhile; requests are served during it. */
Test(mold_pub, end_of_session_after_the_backlog_repeated_for_eos_time)
{
    struct rig_list *l = &r.mcq;
    struct sc_pub_stats st;
    size_t first_eos = 0, neos = 0;
    uint64_t t_eos = 0;

    rig_channel(&r.ch);
    r.ch.data_rate_bps = 10000000; /* 10 Mbit/s: 3,000 packets take 3.6 s */
    rig_init(&r, &r.ch, NULL, NULL);
    rig_tick(&r);
    rig_publish(&r, 100000);
    sc_pub_close(r.pub, r.now);
    cr_assert_eq(sc_pub_send(r.pub, "x", 1, r.now), -EPIPE);
    while (!sc_pub_closed(r.pub)) {
        cr_assert_lt(r.now, 1000 * S(1) + S(10), "never closed");
        cr_assert_eq(rig_count(l, SC_MOLD_COUNT_EOS), 0, "End of Session before closed");
        rig_tick(&r);
    }
    cr_assert_eq(rig_count(l, SC_MOLD_COUNT_EOS), 1, "closed: the first End of Session is out");
    rig_request(&r, rig_lst(), RIG_LST_PORT, RIG_SESSION, 99990, 5);
    rig_run_for(&r, S(3));
    for (size_t i = 0; i < l->n; i++) {
        if (l->p[i].h.count != SC_MOLD_COUNT_EOS)
            continue;
        if (!neos++) {
            first_eos = i;
            t_eos = l->p[i].t;
        }
        cr_assert_eq(l->p[i].len, SC_MOLD_HDR_LEN);
        cr_assert_eq(l->p[i].h.seq, 100001, "End of Session: the next message number");
        cr_assert_eq(l->p[i].t, t_eos + (neos - 1) * 100 * MS, "End of Session %zu at +%llu",
                     neos, (unsigned long long)(l->p[i].t - t_eos));
    }
    cr_assert_eq(neos, 10, "%zu End of Session packets in 1 s at 100 ms", neos);
    for (size_t i = first_eos; i < l->n; i++)
        cr_assert_eq(l->p[i].h.count, SC_MOLD_COUNT_EOS, "packet %zu after End of Session", i);
    {
        uint64_t next = 1;
        for (size_t i = 0; i < first_eos; i++)
            if (l->p[i].h.count) {
                cr_assert_eq(l->p[i].h.seq, next);
                next += l->p[i].h.count;
            }
        cr_assert_eq(next, 100001, "all the backlog before End of Session");
    }
    cr_assert_eq(r.ucq.n, 1, "a request during End of Session is answered");
    cr_assert_eq(r.ucq.p[0].h.seq, 99990);
    cr_assert_eq(r.ucq.p[0].h.count, 5);
    check(&r.ucq.p[0]);
    sc_pub_get_stats(r.pub, &st);
    cr_assert_eq(st.mold_eos_sent, 10);
    cr_assert_eq(st.close_unsent, 0);
    rig_fini(&r);
}

/* mold.eos_time 0: one End of Session and silence. */
Test(mold_pub, eos_time_zero_sends_one)
{
    rig_channel(&r.ch);
    r.ch.mold.eos_time_ns = 0;
    rig_init(&r, &r.ch, NULL, NULL);
    rig_publish(&r, 10);
    rig_tick(&r);
    sc_pub_close(r.pub, r.now);
    rig_run_for(&r, S(1));
    cr_assert(sc_pub_closed(r.pub));
    cr_assert_eq(rig_count(&r.mcq, SC_MOLD_COUNT_EOS), 1);
    cr_assert_eq(r.mcq.p[r.mcq.n - 1].h.count, SC_MOLD_COUNT_EOS, "nothing after it");
    rig_fini(&r);
}

/* ---------------------------------------------------------------- responses */

static void
setup_stream(size_t nmsgs)
{
    rig_channel(&r.ch);
    rig_init(&r, &r.ch, NULL, NULL);
    rig_publish(&r, nmsgs);
    rig_run_for(&r, MS);
    rig_clear(&r);
}

/* A request for messages 40..42 -- packet 2 holds 35..68 -- is answered from
 * the middle of that packet: seq 40, count 3, the same bytes, by unicast to
 * the request's source address and port, and nowhere else. */
Test(mold_pub, a_response_starts_mid_packet_and_goes_to_the_requester)
{
    struct sc_pub_stats st;

    setup_stream(1000);
    rig_request(&r, rig_lst(), RIG_LST_PORT, RIG_SESSION, 40, 3);
    rig_tick(&r);
    cr_assert_eq(r.ucq.n, 1);
    cr_assert_eq(r.mcq.n, 0, "a unicast response reached the group");
    cr_assert_eq(r.ucq.p[0].to, rig_lst());
    cr_assert_eq(r.ucq.p[0].h.seq, 40);
    cr_assert_eq(r.ucq.p[0].h.count, 3);
    cr_assert_eq(r.ucq.p[0].len, SC_MOLD_HDR_LEN + 3 * 42);
    check(&r.ucq.p[0]);
    /* from another port of the same host: answered there (mem: nobody listens) */
    rig_request(&r, rig_lst(), RIG_LST_PORT + 1, RIG_SESSION, 40, 3);
    rig_tick(&r);
    cr_assert_eq(r.ucq.n, 1, "answered to the wrong port");
    sc_pub_get_stats(r.pub, &st);
    cr_assert_eq(st.mold_requests, 2);
    cr_assert_eq(st.mold_req_answered, 2);
    cr_assert_eq(st.mold_resp_msgs, 6);
    cr_assert_eq(st.mold_resp_bytes, 2 * (SC_MOLD_HDR_LEN + 3 * 42));
    rig_fini(&r);
}

/* A response holds what fits one packet (34 blocks of 42 bytes at 1472),
 * across the packets it was sent in; at most the count asked for; at most
 * mold.response_bytes of blocks -- and always the first message. */
Test(mold_pub, a_response_is_capped_by_the_mtu_the_count_and_response_bytes)
{
    struct rig_pkt *p;

    setup_stream(1000);
    rig_request(&r, rig_lst(), RIG_LST_PORT, RIG_SESSION, 50, 1000);
    rig_request(&r, rig_lst(), RIG_LST_PORT, RIG_SESSION, 50, 7);
    rig_request(&r, rig_lst(), RIG_LST_PORT, RIG_SESSION, 995, 100); /* past the end: 6 */
    rig_tick(&r);
    cr_assert_eq(r.ucq.n, 3);
    p = &r.ucq.p[0];
    cr_assert_eq(p->h.seq, 50);
    cr_assert_eq(p->h.count, 34, "count %u: the MTU holds 34", p->h.count);
    cr_assert_leq(p->len, PKT_MAX);
    check(p);
    cr_assert_eq(r.ucq.p[1].h.count, 7);
    check(&r.ucq.p[1]);
    cr_assert_eq(r.ucq.p[2].h.seq, 995);
    cr_assert_eq(r.ucq.p[2].h.count, 6, "what was sent: 995..1000");
    check(&r.ucq.p[2]);
    rig_fini(&r);

    rig_channel(&r.ch);
    r.ch.mold.response_bytes = 200; /* 4 blocks of 42 */
    rig_init(&r, &r.ch, NULL, NULL);
    r.size = 0; /* mixed sizes: 8..64 bytes */
    rig_publish(&r, 300);
    rig_run_for(&r, MS);
    rig_clear(&r);
    r.size = 0;
    rig_request(&r, rig_lst(), RIG_LST_PORT, RIG_SESSION, 100, 1000);
    rig_tick(&r);
    cr_assert_eq(r.ucq.n, 1);
    p = &r.ucq.p[0];
    check(p);
    {
        size_t bytes = 0, n = 0;
        for (uint64_t m = 100; bytes + 2 + sc_msggen_size(m, 0) <= 200; m++, n++)
            bytes += 2 + sc_msggen_size(m, 0);
        cr_assert_eq(p->h.count, n, "count %u, %zu fit in 200 bytes", p->h.count, n);
        cr_assert_eq(p->len, SC_MOLD_HDR_LEN + bytes);
    }
    rig_fini(&r);

    /* blocks that fill response_bytes exactly: all of them (4 of 42 in 168) */
    rig_channel(&r.ch);
    r.ch.mold.response_bytes = 4 * 42;
    rig_init(&r, &r.ch, NULL, NULL);
    rig_publish(&r, 100);
    rig_run_for(&r, MS);
    rig_clear(&r);
    rig_request(&r, rig_lst(), RIG_LST_PORT, RIG_SESSION, 10, 50);
    rig_tick(&r);
    cr_assert_eq(r.ucq.n, 1);
    cr_assert_eq(r.ucq.p[0].h.count, 4, "count %u: 4 blocks of 42 fill 168 bytes",
                 r.ucq.p[0].h.count);
    cr_assert_eq(r.ucq.p[0].len, SC_MOLD_HDR_LEN + 4 * 42);
    check(&r.ucq.p[0]);
    rig_fini(&r);

    /* a message larger than response_bytes still goes: alone */
    rig_channel(&r.ch);
    r.ch.mold.response_bytes = 64;
    rig_init(&r, &r.ch, NULL, NULL);
    r.size = 500;
    rig_publish(&r, 10);
    rig_run_for(&r, MS);
    rig_clear(&r);
    rig_request(&r, rig_lst(), RIG_LST_PORT, RIG_SESSION, 3, 5);
    rig_tick(&r);
    cr_assert_eq(r.ucq.n, 1);
    cr_assert_eq(r.ucq.p[0].h.count, 1);
    check(&r.ucq.p[0]);
    rig_fini(&r);
}

/* mold.response: multicast -- the response goes to the group (both lines),
 * where every listener missing those messages takes it. A heartbeat answer
 * (nothing held) stays unicast. */
Test(mold_pub, multicast_responses_go_to_the_group)
{
    rig_channel(&r.ch);
    r.ch.mold.response = SC_MOLD_RESPONSE_MULTICAST;
    inet_pton(AF_INET, "239.198.0.19", &r.ch.group_b);
    r.ch.window_packets = 16;
    rig_init(&r, &r.ch, NULL, NULL);
    rig_publish(&r, 1000);
    rig_run_for(&r, MS);
    rig_clear(&r);
    rig_request(&r, rig_lst(), RIG_LST_PORT, RIG_SESSION, 900, 2);
    rig_request(&r, rig_lst(), RIG_LST_PORT, RIG_SESSION, 1, 2); /* no longer held */
    rig_tick(&r);
    cr_assert_eq(r.mcq.n, 1);
    cr_assert_eq(r.mcbq.n, 1, "the B line too");
    cr_assert_eq(r.mcq.p[0].h.seq, 900);
    cr_assert_eq(r.mcq.p[0].h.count, 2);
    check(&r.mcq.p[0]);
    cr_assert_eq(r.ucq.n, 1, "the heartbeat answer: to the requester");
    cr_assert_eq(r.ucq.p[0].h.count, 0);
    rig_fini(&r);
}

/* Requests reaching below the window (window.packets 16: the last 16 of 30
 * packets held, messages 477..1000): [1, 11) -> a heartbeat, seq 477, by
 * unicast: [1, 477) is gone; [470, 480) -> answered from 477. Both counted. */
Test(mold_pub, requests_older_than_the_window_learn_what_is_gone)
{
    struct sc_pub_stats st;
    uint64_t lo;

    rig_channel(&r.ch);
    r.ch.window_packets = 16;
    rig_init(&r, &r.ch, NULL, NULL);
    rig_publish(&r, 1000);
    rig_run_for(&r, MS);
    lo = 14 * 34 + 1; /* 30 packets of 34 (the last 14): 14..29 held */
    rig_clear(&r);
    rig_request(&r, rig_lst(), RIG_LST_PORT, RIG_SESSION, 1, 10);
    rig_request(&r, rig_lst(), RIG_LST_PORT, RIG_SESSION, lo - 7, 10);
    rig_request(&r, rig_lst(), RIG_LST_PORT, RIG_SESSION, lo, 1);
    rig_tick(&r);
    cr_assert_eq(r.ucq.n, 3);
    cr_assert_eq(r.mcq.n, 0);
    cr_assert_eq(r.ucq.p[0].h.count, SC_MOLD_COUNT_HEARTBEAT);
    cr_assert_eq(r.ucq.p[0].len, SC_MOLD_HDR_LEN);
    cr_assert_eq(r.ucq.p[0].h.seq, lo, "the oldest message held: %llu, not %llu",
                 (unsigned long long)r.ucq.p[0].h.seq, (unsigned long long)lo);
    cr_assert_eq(r.ucq.p[1].h.seq, lo);
    cr_assert_eq(r.ucq.p[1].h.count, 3, "what was asked for and is held");
    check(&r.ucq.p[1]);
    cr_assert_eq(r.ucq.p[2].h.seq, lo);
    sc_pub_get_stats(r.pub, &st);
    cr_assert_eq(st.mold_not_in_window, 2);
    cr_assert_eq(st.mold_req_answered, 3);
    rig_fini(&r);
}

/* -------------------------------------------------------- ignored requests */

/* Every request the server must not serve is ignored -- no packet to anyone --
 * and counted under its own reason, exactly once. */
Test(mold_pub, every_ignored_request_is_counted_and_unanswered)
{
    struct sc_pub_stats st;
    uint8_t b[64] = { 0 };
    uint32_t other = inet_addr("198.18.77.7");

    rig_channel(&r.ch);
    r.ch.mold.request_max = 100;
    inet_pton(AF_INET, "198.18.1.0", &r.ch.mold.request_allow[0].addr);
    r.ch.mold.request_allow[0].prefix = 24;
    r.ch.mold.nrequest_allow = 1;
    rig_init(&r, &r.ch, NULL, NULL);
    rig_publish(&r, 1000);
    rig_run_for(&r, MS);
    rig_clear(&r);
    rig_request(&r, rig_lst(), RIG_LST_PORT, "SEQCAST02", 10, 1);          /* session */
    rig_request(&r, rig_lst(), RIG_LST_PORT, "SEQCAST01X", 10, 1);         /* session */
    rig_request(&r, rig_lst(), RIG_LST_PORT, RIG_SESSION, 0, 1);           /* seq 0 */
    rig_request(&r, rig_lst(), RIG_LST_PORT, RIG_SESSION, 10, 0);          /* count 0 */
    rig_request(&r, rig_lst(), RIG_LST_PORT, RIG_SESSION, 10, 101);        /* over max */
    rig_request(&r, rig_lst(), RIG_LST_PORT, RIG_SESSION, 10, 0xFFFF);     /* over max */
    rig_request(&r, rig_lst(), RIG_LST_PORT, RIG_SESSION, 1001, 1);        /* not sent yet */
    rig_request(&r, rig_lst(), RIG_LST_PORT, RIG_SESSION, UINT64_MAX, 100); /* not sent */
    rig_request(&r, other, RIG_LST_PORT, RIG_SESSION, 10, 1);              /* not allowed */
    memcpy(b, RIG_SESSION " ", 10);
    b[17] = 10;
    b[19] = 1;
    rig_inject(&r, rig_lst(), RIG_LST_PORT, b, 19);                         /* short */
    rig_inject(&r, rig_lst(), RIG_LST_PORT, b, 21);                         /* long */
    rig_inject(&r, rig_lst(), RIG_LST_PORT, b, 0);                          /* empty */
    rig_tick(&r);
    rig_run_for(&r, MS);
    sc_pub_get_stats(r.pub, &st);
    cr_assert_eq(r.ucq.n, 0, "an ignored request was answered");
    cr_assert_eq(st.mold_requests, 9);
    cr_assert_eq(st.mold_req_wrong_session, 2);
    cr_assert_eq(st.mold_req_seq_zero, 1);
    cr_assert_eq(st.mold_req_count_zero, 1);
    cr_assert_eq(st.mold_req_over_max, 2);
    cr_assert_eq(st.mold_req_not_sent, 2);
    cr_assert_eq(st.mold_req_denied, 1);
    cr_assert_eq(st.rx_bad[-SC_PERR_SHORT], 2);
    cr_assert_eq(st.rx_bad[-SC_PERR_LENGTH], 1);
    cr_assert_eq(st.mold_req_answered + st.mold_req_over_budget + st.mold_req_dropped, 0);
    /* once sent, served */
    rig_publish(&r, 5);
    rig_tick(&r);
    rig_request(&r, rig_lst(), RIG_LST_PORT, RIG_SESSION, 1001, 5);
    rig_tick(&r);
    cr_assert_eq(r.ucq.n, 1, "sent now: served");
    cr_assert_eq(r.ucq.p[0].h.count, 5);
    rig_fini(&r);
}

/* Before the first data the window holds nothing sent: a request for message
 * 1 (the first not sent) is not sent yet -- not a heartbeat answer, which
 * would tell the requester that message 1 is gone. */
Test(mold_pub, a_request_before_any_data_is_not_sent_yet)
{
    struct sc_pub_stats st;

    rig_channel(&r.ch);
    rig_init(&r, &r.ch, NULL, NULL);
    rig_run_for(&r, MS);
    rig_clear(&r);
    rig_request(&r, rig_lst(), RIG_LST_PORT, RIG_SESSION, 1, 1);
    rig_run_for(&r, MS);
    sc_pub_get_stats(r.pub, &st);
    cr_assert_eq(r.ucq.n, 0, "answered before anything was sent");
    cr_assert_eq(st.mold_req_not_sent, 1);
    cr_assert_eq(st.mold_req_answered, 0);
    rig_publish(&r, 1);
    rig_tick(&r);
    rig_request(&r, rig_lst(), RIG_LST_PORT, RIG_SESSION, 1, 1);
    rig_tick(&r);
    cr_assert_eq(r.ucq.n, 1, "sent now: served");
    cr_assert_eq(r.ucq.p[0].h.seq, 1);
    cr_assert_eq(r.ucq.p[0].h.count, 1);
    rig_fini(&r);
}

/* ------------------------------------------------------------------ limits */

/* rtx.budget 100 messages a second per address. One address asking for
 * 34-message responses every 10 ms gets 100 messages in a second (the last
 * response cut to what is left), the rest is counted over budget; the next
 * second it has 100 again. 5,000 addresses (the table holds 1,024) asking at
 * once: each one found room gets its own 100, the rest share one 100. */
Test(mold_pub, the_budget_holds_per_address_and_for_a_crowd, .timeout = 60)
{
    struct sc_pub_stats a, b;
    uint64_t msgs = 0;

    rig_channel(&r.ch);
    r.ch.rtx.budget = 100;
    r.ch.rtx.rate_bps = 0; /* the budget alone */
    rig_init(&r, &r.ch, NULL, NULL);
    rig_publish(&r, 5000);
    rig_run_for(&r, MS);
    rig_clear(&r);
    for (int i = 0; i < 100; i++) { /* 1 s */
        rig_request(&r, rig_lst(), RIG_LST_PORT, RIG_SESSION, 1 + (uint64_t)i * 34, 34);
        rig_run_for(&r, 10 * MS);
    }
    for (size_t i = 0; i < r.ucq.n; i++) {
        check(&r.ucq.p[i]);
        msgs += r.ucq.p[i].h.count;
    }
    sc_pub_get_stats(r.pub, &a);
    cr_assert_eq(msgs, 100, "%llu messages in a second at a budget of 100",
                 (unsigned long long)msgs);
    cr_assert_eq(r.ucq.n, 3, "34 + 34 + the 32 left");
    cr_assert_eq(r.ucq.p[2].h.count, 32);
    cr_assert_eq(a.mold_req_over_budget, 97);
    rig_request(&r, rig_lst(), RIG_LST_PORT, RIG_SESSION, 1, 34);
    rig_tick(&r);
    cr_assert_eq(r.ucq.n, 4, "a new second, a new budget");

    /* the crowd: 5,000 addresses, 20 requests of 34 messages each */
    rig_run_for(&r, S(1));
    sc_pub_get_stats(r.pub, &a);
    for (int k = 0; k < 20; k++) { /* 400 ms: the publisher reads 32 a step */
        for (unsigned i = 0; i < 5000; i++)
            rig_request(&r, htonl(0xc6140000u + i), 5000, RIG_SESSION, 1 + (uint64_t)k * 34,
                        34);
        rig_run_for(&r, 20 * MS);
    }
    sc_pub_get_stats(r.pub, &b);
    msgs = b.mold_resp_msgs - a.mold_resp_msgs;
    printf("# 5,000 addresses x 20 requests, budget 100: %llu messages sent, %llu requests over "
           "budget, %llu charged to the shared budget\n", (unsigned long long)msgs,
           (unsigned long long)(b.mold_req_over_budget - a.mold_req_over_budget),
           (unsigned long long)(b.mold_budget_shared - a.mold_budget_shared));
    cr_assert_leq(msgs, (uint64_t)SC_RTX_RECEIVERS * 100 + 100,
                  "more than one budget per table slot plus the shared one");
    cr_assert_geq(msgs, (uint64_t)SC_RTX_RECEIVERS * 100 * 3 / 4, "the table did not fill");
    cr_assert_gt(b.mold_budget_shared, a.mold_budget_shared);
    cr_assert_gt(b.mold_req_over_budget - a.mold_req_over_budget, 5000 * 15);
    cr_assert_eq(b.mold_req_dropped, 0);
    rig_fini(&r);
}

/* rtx.rate 1 Mbit/s, responses counted with their IP and UDP headers: 1-message
 * responses of 8-byte messages are 30 bytes of payload, 58 on the wire --
 * counting the payload alone let almost twice the rate out. A flood of
 * requests (one requester, its budget out of the way) keeps the queue full for
 * a second; the excess waits (counted), and past the queue's size is dropped
 * (counted). */
Test(mold_pub, responses_stay_within_rtx_rate_counted_with_headers, .timeout = 60)
{
    const uint64_t rate = 1000000;
    struct sc_pub_stats a, b;
    uint64_t bits = 0, t0;

    rig_channel(&r.ch);
    r.ch.rtx.rate_bps = rate;
    r.ch.rtx.budget = 100000000;
    rig_init(&r, &r.ch, NULL, NULL);
    r.size = 8;
    rig_publish(&r, 5000);
    rig_run_for(&r, MS);
    rig_clear(&r);
    sc_pub_get_stats(r.pub, &a);
    t0 = r.now;
    for (int step = 0; step < 10000; step++) { /* 1 s: 30 requests per 100 us step */
        for (int k = 0; k < 30; k++)
            rig_request(&r, rig_lst(), RIG_LST_PORT, RIG_SESSION,
                        1 + (uint64_t)(step + k) % 4000, 1);
        rig_tick(&r);
    }
    sc_pub_get_stats(r.pub, &b);
    for (size_t i = 0; i < r.ucq.n; i++)
        bits += ((uint64_t)r.ucq.p[i].len + 28) * 8;
    printf("# rtx.rate 1 Mbit/s: %zu responses, %llu bits on the wire in %.1f s; %llu waited, "
           "%llu dropped\n", r.ucq.n, (unsigned long long)bits, (double)(r.now - t0) / 1e9,
           (unsigned long long)(b.mold_rate_limited - a.mold_rate_limited),
           (unsigned long long)(b.mold_req_dropped - a.mold_req_dropped));
    cr_assert_eq(r.ucq.n, b.mold_req_answered - a.mold_req_answered);
    cr_assert_leq(bits, rate + 12000 * 8, "%llu bits in 1 s at 1 Mbit/s",
                  (unsigned long long)bits);
    cr_assert_geq(bits, rate * 9 / 10, "the flood did not keep the responses at the rate");
    cr_assert_gt(b.mold_rate_limited, a.mold_rate_limited);
    cr_assert_gt(b.mold_req_dropped, a.mold_req_dropped, "the queue never filled");
    rig_fini(&r);
}

/* A request the full queue drops is not charged to the requester's budget:
 * one address, rtx.budget 2,000 messages, rtx.rate low enough that the queue
 * (SC_REREQ_QUEUE) fills, asks for 2,100 single messages within 10 ms. At most
 * what was sent or queued is charged, under 2,000: none is over budget --
 * charging the dropped ones too ran out the budget at the 2,000th. */
Test(mold_pub, a_request_the_full_queue_drops_costs_no_budget)
{
    struct sc_pub_stats st;

    rig_channel(&r.ch);
    r.ch.rtx.budget = 2000;
    r.ch.rtx.rate_bps = 1000;
    rig_init(&r, &r.ch, NULL, NULL);
    r.size = 8;
    rig_publish(&r, 3000);
    rig_run_for(&r, MS);
    rig_clear(&r);
    for (int k = 0; k < 2100; k++) {
        rig_request(&r, rig_lst(), RIG_LST_PORT, RIG_SESSION, 1 + (uint64_t)k, 1);
        if (k % 30 == 29)
            rig_tick(&r);
    }
    rig_tick(&r);
    sc_pub_get_stats(r.pub, &st);
    cr_assert_eq(st.mold_requests, 2100);
    cr_assert_gt(st.mold_req_dropped, 0, "the queue never filled");
    cr_assert_lt(st.mold_req_answered + SC_REREQ_QUEUE, 2000, "the rate let too much out");
    cr_assert_eq(st.mold_req_over_budget, 0, "%llu requests over budget: dropped ones charged",
                 (unsigned long long)st.mold_req_over_budget);
    rig_fini(&r);
}

/* ------------------------------------------------------------------ A/B lines */

/* group_b: data, heartbeats and End of Session on both lines, identical and
 * in the same order; a unicast response once. */
Test(mold_pub, ab_lines_carry_everything_multicast_and_responses_once)
{
    rig_channel(&r.ch);
    inet_pton(AF_INET, "239.198.0.19", &r.ch.group_b);
    rig_init(&r, &r.ch, NULL, NULL);
    rig_publish(&r, 500);
    rig_run_for(&r, 250 * MS);
    rig_request(&r, rig_lst(), RIG_LST_PORT, RIG_SESSION, 7, 3);
    rig_tick(&r);
    sc_pub_close(r.pub, r.now);
    rig_run_for(&r, S(2));
    cr_assert_gt(rig_count(&r.mcq, 1), 10);
    cr_assert_gt(rig_count(&r.mcq, SC_MOLD_COUNT_HEARTBEAT), 1);
    cr_assert_eq(rig_count(&r.mcq, SC_MOLD_COUNT_EOS), 10);
    cr_assert_eq(r.mcbq.n, r.mcq.n);
    for (size_t i = 0; i < r.mcq.n; i++) {
        cr_assert_eq(r.mcbq.p[i].len, r.mcq.p[i].len);
        cr_assert_eq(memcmp(r.mcbq.p[i].data, r.mcq.p[i].data, r.mcq.p[i].len), 0);
    }
    cr_assert_eq(r.ucq.n, 1);
    rig_fini(&r);
}

/* ------------------------------------------------------------------- tshark */

static int
record(struct sc_xport **out, struct sc_xport *inner, void *arg)
{
    struct sc_record_params rp = { .path = arg };
    struct sc_xport_params xp;
    struct sc_err err;
    int rc;

    sc_xport_params_from(&xp, &r.ch, SC_XPORT_PUB);
    rc = sc_xport_record_wrap(out, inner, &xp, &rp, &err);
    cr_assert_eq(rc, 0, "%s", err.msg);
    return rc;
}

static int
tshark_count(const char *pcap, const char *decode, const char *filter)
{
    char cmd[1024], line[256];
    FILE *f;
    int n = 0;

    snprintf(cmd, sizeof(cmd), "tshark -r %s %s -Y '%s' 2>/dev/null", pcap, decode, filter);
    f = popen(cmd, "r");
    cr_assert_not_null(f);
    while (fgets(line, sizeof(line), f))
        n++;
    pclose(f);
    return n;
}

/* Every packet type the publisher sends or takes, recorded from its transport
 * (--record's wrapper), dissects as MoldUDP64 with no warning: the start-up
 * heartbeat, data, idle heartbeats, requests, responses (mid-packet, a
 * not_in_window heartbeat), End of Session. */
Test(mold_pub, tshark_dissects_every_packet_type, .timeout = 60)
{
    char dir[] = "/tmp/seqcast-moldpub-XXXXXX", pcap[64], decode[128];
    int all, mold, data, hb, eos, req, resp, bad, to_pub;

    if (system("command -v tshark >/dev/null 2>&1") != 0)
        cr_skip_test("tshark not installed: MoldUDP64 dissection NOT checked");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(pcap, sizeof(pcap), "%s/pub.pcap", dir);
    rig_channel(&r.ch);
    r.ch.window_packets = 16;
    rig_init(&r, &r.ch, record, pcap);
    rig_tick(&r);
    rig_publish(&r, 1200);
    rig_run_for(&r, 250 * MS);
    rig_request(&r, rig_lst(), RIG_LST_PORT, RIG_SESSION, 1190, 5); /* mid-packet */
    rig_request(&r, rig_lst(), RIG_LST_PORT, RIG_SESSION, 1, 5);    /* gone: a heartbeat */
    rig_tick(&r);
    sc_pub_close(r.pub, r.now);
    rig_run_for(&r, S(2));
    rig_fini(&r); /* closes the recording */
    snprintf(decode, sizeof(decode), "-d udp.port==%u,moldudp64 -d udp.port==%u,moldudp64",
             r.ch.port, RIG_LST_PORT);
    all = tshark_count(pcap, decode, "udp");
    mold = tshark_count(pcap, decode, "moldudp64");
    data = tshark_count(pcap, decode, "moldudp64.msgblock and ip.dst == 239.198.0.18");
    hb = tshark_count(pcap, decode, "moldudp64.count == 0");
    eos = tshark_count(pcap, decode, "moldudp64.count == 0xffff");
    req = tshark_count(pcap, decode, "moldudp64.count > 0 and moldudp64.count < 0xffff and not "
                                     "moldudp64.msgblock");
    resp = tshark_count(pcap, decode, "moldudp64.msgblock and ip.dst == " RIG_LST_ADDR);
    to_pub = tshark_count(pcap, decode, "moldudp64 and ip.dst == " RIG_PUB_ADDR);
    bad = tshark_count(pcap, decode, "_ws.expert.severity >= \"Warning\" or _ws.malformed");
    printf("# tshark: %d of %d frames MoldUDP64: %d data, %d heartbeats, %d End of Session, %d "
           "requests, %d responses, %d warnings\n", mold, all, data, hb, eos, req, resp, bad);
    cr_assert_gt(all, 40);
    cr_assert_eq(mold, all);
    cr_assert_gt(data, 30);
    cr_assert_eq(hb, 1 + 2 + 1, "start-up, two idle, the not_in_window answer: %d", hb);
    cr_assert_eq(eos, 10);
    cr_assert_eq(req, 2);
    cr_assert_eq(resp, 1);
    cr_assert_eq(to_pub, 2, "the requests, recorded as sent to the publisher: %d", to_pub);
    cr_assert_eq(bad, 0);
    snprintf(decode, sizeof(decode), "rm -rf %s", dir);
    cr_assert_eq(system(decode), 0);
}
