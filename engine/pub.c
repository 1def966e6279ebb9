/* The publisher agent: batching, ODATA, NAK handling, repairs, heartbeats.
 *
 * Send path: sc_pub_send appends to the open packet (a MoldUDP64 block in the
 * transmit window's next buffer, framing: batched) or stores the message as
 * its own APDU (framing: raw); APDUs larger than one TPDU become OPT_FRAGMENT
 * runs. The ODATA header is encoded in place when the packet closes. do_work
 * sends what is stored, oldest first, in sendmmsg bursts.
 *
 * Each do_work: new ODATA (within the data rate); read NAKs and SPMRs -> the
 * sequences confirmed in the whole read go out as NCFs of up to 63 (within
 * rtx.ncf_rate), requests that only an SPM answers (SPMRs, NAKs for data no
 * longer held) get one SPM per spm.answer_interval; timers (batch deadline,
 * heartbeat SPMs); window age limit; due repairs (RDATA, within the
 * retransmit rate); one flush of everything queued.
 *
 * Closing is a state, driven by do_work with the caller's clock:
 *
 *   OPEN ──sc_pub_close──> CLOSING ──all data and the End of Session block
 *                            │         sent──> 3 SPMs with OPT_FIN ──> CLOSED
 *                            └─transport took nothing for close_timeout──> gives up
 *                              on the rest (close_unsent), FIN SPMs ──> CLOSED
 *
 * CLOSED still answers NAKs and heartbeats (with OPT_FIN) until destroy.
 *
 * protocol: moldudp64 is a strategy inside the same agent: everything above
 * is shared (batching, batch_delay, data rate, window, A/B lines, closing,
 * counters) but for what goes on the wire and what comes back:
 *   - a data packet is the MoldUDP64 block alone, no PGM header (data_off 0),
 *     and a message must fit one (-EMSGSIZE);
 *   - heartbeats (count 0, seq = the first message not sent yet) instead of
 *     SPMs: one at once when the session starts, then whenever no data left
 *     for mold.heartbeat;
 *   - closing ends, after the backlog, with End of Session (count 0xFFFF)
 *     instead of the FIN SPMs; sc_pub_closed once the first is out; repeated
 *     every mold.heartbeat for mold.eos_time;
 *   - what arrives are re-requests, for the server (engine/rereq_srv.c), which
 *     answers from the window within its limits; no NAK, NCF or SPMR.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/channel.h"
#include "engine/compiler.h"
#include "engine/ipc.h"
#include "engine/pub_int.h"
#include "engine/rate.h"
#include "engine/rereq_srv.h"
#include "engine/rtx.h"
#include "engine/timerwheel.h"
#include "engine/txw.h"
#include <seqcast/proto/endian.h>
#include <seqcast/proto/mold.h>
#include <seqcast/proto/pgm.h>
#include <seqcast/proto/seq.h>

#define ODATA_HDR (SC_PGM_HDR_LEN + SC_PGM_DATA_BODY_LEN)
#define FRAG_OPT_LEN (4 + 16)
#define CTRL_BUFS 64
#define CTRL_BUF_SIZE 512
#define RX_BUF_SIZE 2048
#define RTX_QUEUE 8192 /* repairs queued from anyone before admission is by share (rtx.h) */
#define NCF_MAX (1 + SC_PGM_MAX_NAK_LIST) /* sequences one NCF confirms */

enum txq_kind { TXQ_CTRL, TXQ_ODATA, TXQ_RDATA, TXQ_RESP /* a MoldUDP64 response */ };

enum pub_state { PUB_OPEN, PUB_CLOSING, PUB_CLOSED };

struct sc_pub {
    struct sc_channel_cfg ch;
    struct sc_xport *x;
    struct sc_txw w;
    struct sc_rtx rtx;
    struct sc_tw tw;
    struct sc_timer spm_timer;
    struct sc_pub_stats st;

    uint8_t gsi[6];
    uint16_t sport;     /* TSI port */
    uint32_t nla;       /* unicast address we advertise for NAKs */
    uint8_t session[SC_MOLD_SESSION_LEN];
    uint32_t tpdu_max;  /* PGM packet bytes that fit the MTU */
    uint32_t tsdu_max;  /* payload of an unfragmented ODATA */
    uint32_t max_msg;   /* sc_pub_max_msg, set at create (the per-message path reads it) */
    uint32_t frag_max;  /* payload of a fragment */
    struct sc_pgm_odata_tmpl odata_tmpl; /* this source's ODATA header */
    bool mold;          /* protocol: moldudp64 */
    uint32_t data_off;  /* where a packet's MoldUDP64 block starts: after the ODATA header, or 0 */

    /* the open batched packet */
    bool open;
    uint8_t *open_buf;
    uint64_t batch_due_ns; /* when it closes by batch_delay; UINT64_MAX when none is open */
    struct sc_mold_enc enc;
    uint64_t next_msg_seq;

    /* heartbeats */
    uint32_t spm_sqn;
    unsigned hb_index;
    uint64_t hb_due_ns;
    unsigned intro_index;  /* the start-up SPMs (spm_intro_step): the next step */
    uint64_t intro_due_ns; /* UINT64_MAX once the schedule has run out */
    uint64_t last_spm_ns;
    uint64_t last_data_ns;
    uint64_t data_gap_ns; /* mean gap between data sends while steady, else 0 */
    bool started, clock_started;

    /* SPMs answering SPMRs and NAKs for data no longer held */
    bool spm_answer;         /* one is owed */
    uint64_t last_answer_ns; /* when the last went (0 = never) */

    /* NCFs: the sequences confirmed in this read, one NCF per NCF_MAX */
    uint32_t ncf_list[NCF_MAX];
    unsigned nncf;
    struct sc_tbucket ncf_rate; /* packets */

    /* data rate limit */
    struct sc_tbucket data_rate; /* bits */
    uint64_t rate_wait_bits;     /* the next ODATA's bits while the rate holds it, else 0 */

    /* MoldUDP64: heartbeats, End of Session, re-requests */
    uint64_t sent_msg_end;   /* the first message not sent yet (heartbeats carry it) */
    uint64_t mold_hb_due_ns; /* the next heartbeat, or End of Session repeat; UINT64_MAX: none */
    uint64_t eos_until_ns;   /* End of Session repeats until then */
    struct sc_rereq_srv srv;
    struct sc_rereq_txw srv_txw; /* the server's source: the window */
    struct sc_rereq_source srv_src;

    /* closing */
    enum pub_state state;
    bool eos_owed;        /* the End of Session block waits for room in the window */
    bool fin_out;         /* closing is over: the FIN SPMs are out, or it gave up */
    uint64_t close_left;  /* packets left to send at the last progress */
    uint64_t close_progress_ns;

    /* output queue, flushed once per do_work */
    struct sc_pkt txq[SC_BURST_MAX];
    uint16_t pkt_flags; /* on window packets: SC_PKT_PGM_CSUM but for MoldUDP64, and
                           SC_PKT_WINDOW for a zero-copy transport */
    uint8_t txq_kind[SC_BURST_MAX];
    unsigned ntx;
    unsigned burst;        /* packets per send: the transport's (sc_xport_burst) */
    uint64_t odata_queued; /* next ODATA sequence to queue (>= w.next_tx) */
    unsigned ctrl_next;
    uint8_t ctrl[CTRL_BUFS][CTRL_BUF_SIZE];

    uint8_t rx[SC_BURST][RX_BUF_SIZE];
    uint8_t apdu[SC_PGM_MAX_APDU + SC_MOLD_HDR_LEN + 2]; /* staging for fragmented APDUs */

    /* transport: ipc -- the whole agent is the log's writer (engine/ipc.c);
     * every call above goes there instead, and nothing else is set up */
    struct sc_ipc_writer *ipc;
};

/* ------------------------------------------------------------ helpers */

static struct sc_pgm_pkt
downstream(const struct sc_pub *p, uint8_t type)
{
    struct sc_pgm_pkt k;

    sc_pgm_pkt_init(&k, type, p->gsi, p->sport, p->ch.pgm_port);
    return k;
}

static int flush_txq(struct sc_pub *p);

static bool
window_busy(void *ctx, const uint8_t *buf)
{
    struct sc_pub *p = ctx;

    return sc_xport_tx_busy(p->x, buf);
}

static void
enqueue(struct sc_pub *p, uint8_t *data, uint16_t len, uint32_t addr, uint16_t port, uint8_t kind)
{
    if (p->ntx == p->burst)
        flush_txq(p);
    if (p->ntx == p->burst) {
        p->st.tx_backpressure++; /* still full: the transport refuses; drop control packets */
        return;
    }
    p->txq[p->ntx] = (struct sc_pkt){ .data = data, .len = len, .addr = addr, .port = port,
                                      .flags = kind == TXQ_ODATA || kind == TXQ_RDATA ? p->pkt_flags : 0 };
    p->txq_kind[p->ntx++] = kind;
}

static uint8_t *
ctrl_buf(struct sc_pub *p)
{
    return p->ctrl[p->ctrl_next++ % CTRL_BUFS];
}

/* The B line: what goes to the group goes to group_b too, in the same order
 * (runs stay runs for GSO). A copy the transport refuses is not retried -- the
 * A copy is out and repairs cover both -- but counted.
 *
 * A burst of at most half the transport's burst goes out as A copies then B copies in one
 * transport call (one sendmmsg): both copies are queued at a receiver before
 * it runs, so it reads them in one wake-up instead of being woken twice per
 * packet. Larger bursts send the B copies in a second call.
 * @return the A copies sent (the first ones of txq). */
static uint16_t
send_lines(struct sc_pub *p)
{
    struct sc_pkt b[SC_BURST_MAX];
    unsigned na = p->ntx, nb = 0, nb_sent_a = 0;
    bool one_call = na <= p->burst / 2;
    unsigned off = one_call ? na : 0; /* where the B copies start in b[] */
    uint16_t sent, sent_a, sent_b;

    if (one_call)
        memcpy(b, p->txq, na * sizeof(b[0]));
    for (unsigned i = 0; i < na; i++)
        if (p->txq[i].addr == p->ch.group.s_addr) {
            b[off + nb] = p->txq[i];
            b[off + nb++].addr = p->ch.group_b.s_addr;
        }
    if (one_call) {
        sent = sc_xport_tx(p->x, b, (uint16_t)(na + nb));
        sent_a = (uint16_t)(sent < na ? sent : na);
        sent_b = (uint16_t)(sent - sent_a);
    } else {
        sent_a = sc_xport_tx(p->x, p->txq, (uint16_t)na);
        sent_b = 0;
    }
    for (unsigned i = 0; i < sent_a; i++) /* the B copies owed: those of the A copies sent */
        nb_sent_a += p->txq[i].addr == p->ch.group.s_addr;
    if (!one_call && nb_sent_a)
        sent_b = sc_xport_tx(p->x, b, (uint16_t)nb_sent_a);
    p->st.line_b_sent += sent_b;
    p->st.line_b_dropped += nb_sent_a - sent_b;
    return sent_a;
}

/* Send what is queued. Unsent ODATA is re-queued from w.next_tx next time;
 * unsent repairs are dropped (the receiver NAKs again) because their buffers
 * belong to the window, which the application may recycle before the retry --
 * MoldUDP64 responses too (theirs are the server's, reused in turn); unsent
 * control packets stay queued. */
static int
flush_txq(struct sc_pub *p)
{
    uint16_t sent;
    unsigned keep = 0;

    if (!p->ntx)
        return 0;
    sent = p->ch.group_b.s_addr ? send_lines(p) : sc_xport_tx(p->x, p->txq, (uint16_t)p->ntx);
    for (unsigned i = 0; i < sent; i++) {
        switch (p->txq_kind[i]) {
        case TXQ_ODATA:
            if (p->mold) {
                const struct sc_txw_slot *s = sc_txw_get(&p->w, p->w.next_tx);
                p->sent_msg_end = s->msg_first + s->msgs;
            }
            p->w.next_tx++;
            p->st.odata_sent++;
            break;
        case TXQ_RDATA:
            p->st.rdata_sent++;
            break;
        }
    }
    if (sent < p->ntx) {
        p->st.tx_backpressure++;
        for (unsigned i = sent; i < p->ntx; i++)
            if (p->txq_kind[i] == TXQ_CTRL) {
                p->txq[keep] = p->txq[i];
                p->txq_kind[keep++] = TXQ_CTRL;
            } else if (p->txq_kind[i] == TXQ_ODATA) { /* not sent: not spent */
                sc_tbucket_give(&p->data_rate, sc_wire_bits(p->txq[i].len));
            } else if (p->txq_kind[i] == TXQ_RESP) { /* the requester asks again */
                p->st.mold_resp_unsent++;
            }
        p->odata_queued = p->w.next_tx;
    }
    p->ntx = keep;
    return sent;
}

static void
queue_spm(struct sc_pub *p, uint64_t now_ns)
{
    struct sc_pgm_pkt k = downstream(p, SC_PGM_SPM);
    uint8_t *b = ctrl_buf(p);
    int n;

    k.spm.sqn = p->spm_sqn++;
    k.spm.trail = (uint32_t)p->w.trail;
    k.spm.lead = (uint32_t)(p->w.next_tx - 1); /* the last ODATA sent */
    sc_pgm_nla_ipv4(&k.spm.nla, p->nla);
    if (p->state == PUB_CLOSED) /* not while closing: the data after lead is still to come */
        k.opt.present = SC_PGM_HAS_FIN;
    n = sc_pgm_encode(b, CTRL_BUF_SIZE, &k);
    if (n > 0) {
        enqueue(p, b, (uint16_t)n, p->ch.group.s_addr, p->ch.port, TXQ_CTRL);
        p->st.spm_sent++;
    }
    p->last_spm_ns = now_ns;
    if (p->spm_answer) { /* any SPM answers whoever asked for one */
        p->spm_answer = false;
        p->last_answer_ns = now_ns ? now_ns : 1;
    }
}

/* An SPMR, or a NAK for data no longer held: the SPM's trail (and NLA) is the
 * answer, and one SPM answers everyone who asked before it went. At most one
 * per spm.answer_interval (do_work sends it): a flood of such requests cannot
 * turn into a multicast flood. */
static void
want_spm_answer(struct sc_pub *p)
{
    if (p->spm_answer)
        p->st.spm_answers_held++;
    p->spm_answer = true;
}

static bool
spm_answer_due(const struct sc_pub *p, uint64_t now_ns)
{
    return p->spm_answer && (!p->last_answer_ns ||
                             now_ns - p->last_answer_ns >= p->ch.spm.answer_interval_ns);
}

/* ------------------------------------------------------------ heartbeats */

/* The SPM timer's next due time: the heartbeat step, the ambient SPM, or the
 * start-up schedule's next step, whichever comes first. */
static void
spm_arm(struct sc_pub *p)
{
    uint64_t due = p->last_spm_ns + p->ch.spm.ambient_ns;

    if (p->hb_due_ns < due)
        due = p->hb_due_ns;
    if (p->intro_due_ns < due)
        due = p->intro_due_ns;
    sc_tw_arm(&p->tw, &p->spm_timer, due);
}

/* The start-up SPMs: after the session's first SPM, the spm.heartbeat steps
 * run once more whatever the data does (on a steady stream data suppresses the
 * heartbeats, so the first SPM would be the only one until spm.ambient). A
 * receiver learns from an SPM where to send NAKs -- OpenPGM's gives up at once
 * on any loss it cannot NAK yet -- so a lost first SPM must be followed by
 * others within milliseconds, not a second later (lan: 11 SPMs in 0.7 s). */
static void
spm_intro_step(struct sc_pub *p, uint64_t now_ns)
{
    const struct sc_channel_cfg *c = &p->ch;

    p->intro_due_ns = p->intro_index < c->spm.nheartbeat
                          ? now_ns + c->spm.heartbeat_ns[p->intro_index++]
                          : UINT64_MAX;
}

/* Heartbeat SPMs after data: spm.heartbeat[0], [1], ... after the last data,
 * then every spm.ambient. New data restarts the schedule and re-arms the timer
 * (once per burst sent, O(1)), so a steady stream never wakes the publisher for
 * a heartbeat it will not send. */
static void
spm_fire(struct sc_timer *t, uint64_t now_ns)
{
    struct sc_pub *p = sc_container_of(t, struct sc_pub, spm_timer);
    bool hb = now_ns >= p->hb_due_ns, intro = now_ns >= p->intro_due_ns;

    if (hb || intro || now_ns >= p->last_spm_ns + p->ch.spm.ambient_ns) {
        queue_spm(p, now_ns); /* one SPM, whichever schedules it serves */
        if (intro)
            spm_intro_step(p, now_ns);
        if (hb) {
            if (p->hb_index < p->ch.spm.nheartbeat)
                p->hb_index++;
            p->hb_due_ns = now_ns + (p->hb_index < p->ch.spm.nheartbeat
                                         ? p->ch.spm.heartbeat_ns[p->hb_index]
                                         : p->ch.spm.ambient_ns);
            /* a steady stream: no more heartbeats until its data is late */
            if (p->data_gap_ns && p->hb_due_ns < p->last_data_ns + 2 * p->data_gap_ns)
                p->hb_due_ns = p->last_data_ns + 2 * p->data_gap_ns;
        }
    }
    spm_arm(p);
}

/* Heartbeats reveal a lost tail when the stream goes quiet; while it flows
 * steadily the next data packet reveals a loss anyway, and every SPM wakes every
 * subscriber. So on a steady stream (mean gap G between data sends, at most
 * HB_STEADY_MAX_NS) the schedule sends at most one heartbeat before the data is
 * late (2 G): its first step if that comes clearly before the next data
 * (heartbeat[0] <= G/2), else none. A lan stream at 1,000 msg/s thus costs one
 * SPM per packet instead of three, at 10,000 msg/s none instead of about one;
 * a lost final packet is still revealed within about 2 G. */
#define HB_STEADY_MAX_NS 10000000ull /* 10 ms */

static void
data_sent(struct sc_pub *p, uint64_t now_ns)
{
    uint64_t h0 = p->ch.spm.heartbeat_ns[0], g = now_ns - p->last_data_ns;

    if (!p->last_data_ns || g > HB_STEADY_MAX_NS)
        p->data_gap_ns = 0; /* after a pause: not steady (yet) */
    else if (!p->data_gap_ns)
        p->data_gap_ns = g;
    else
        p->data_gap_ns = (p->data_gap_ns * 7 + g) / 8;
    p->last_data_ns = now_ns;
    p->hb_index = 0;
    p->hb_due_ns = now_ns + h0;
    if (p->data_gap_ns && 2 * h0 > p->data_gap_ns && h0 < 2 * p->data_gap_ns)
        p->hb_due_ns = now_ns + 2 * p->data_gap_ns; /* the first step would race the data */
    /* Re-arm at the new due time (or the ambient SPM's, if sooner), once per
     * burst sent -- O(1) on the wheel. Leaving an earlier timer to fire and
     * re-arm itself lazily cost a wake-up of the publisher per packet or two on
     * a steady 10,000 msg/s stream (5,000 a second) for nothing to send. */
    spm_arm(p);
}

/* ------------------------------------------------------------ MoldUDP64 heartbeats */

/* A header-only packet to the group (both lines): a heartbeat (count 0) or
 * End of Session (0xFFFF), seq = the first message not sent yet -- a listener
 * that has not seen the messages before it lost them. */
static void
queue_mold_hdr(struct sc_pub *p, uint16_t count)
{
    struct sc_mold_hdr h = { .seq = p->sent_msg_end, .count = count };
    uint8_t *b = ctrl_buf(p);
    int n;

    memcpy(h.session, p->session, SC_MOLD_SESSION_LEN);
    n = sc_mold_encode_hdr(b, CTRL_BUF_SIZE, &h);
    enqueue(p, b, (uint16_t)n, p->ch.group.s_addr, p->ch.port, TXQ_CTRL);
    if (count == SC_MOLD_COUNT_EOS)
        p->st.mold_eos_sent++;
    else
        p->st.mold_heartbeats++;
}

/* The next heartbeat mold.heartbeat after the last (no drift on an idle
 * stream), or after now when that is already past. */
static uint64_t
mold_next_due(const struct sc_pub *p, uint64_t now_ns)
{
    uint64_t hb = p->ch.mold.heartbeat_ns, due = p->mold_hb_due_ns + hb;

    return p->mold_hb_due_ns <= now_ns && due > now_ns ? due : now_ns + hb;
}

/* Due: a heartbeat, or while closed an End of Session repeat (for
 * mold.eos_time after the first, then nothing). @return work done. */
static int
mold_heartbeat(struct sc_pub *p, uint64_t now_ns)
{
    if (p->state != PUB_CLOSED) {
        queue_mold_hdr(p, SC_MOLD_COUNT_HEARTBEAT);
    } else if (now_ns < p->eos_until_ns) {
        queue_mold_hdr(p, SC_MOLD_COUNT_EOS);
    } else {
        p->mold_hb_due_ns = UINT64_MAX;
        return 0;
    }
    p->mold_hb_due_ns = mold_next_due(p, now_ns);
    return 1;
}

/* ------------------------------------------------------------ send path */

static int
encode_odata(struct sc_pub *p, uint8_t *buf, uint32_t tsdu_len, const struct sc_pgm_frag *frag,
             uint64_t seq)
{
    struct sc_pgm_pkt k;

    if (likely(!frag)) /* the per-packet case: from the template */
        return (int)sc_pgm_encode_odata(buf, &p->odata_tmpl, (uint32_t)seq, (uint32_t)p->w.trail,
                                        (uint16_t)tsdu_len);
    k = downstream(p, SC_PGM_ODATA);
    k.data.sqn = (uint32_t)seq;
    k.data.trail = (uint32_t)p->w.trail;
    k.tsdu_len = (uint16_t)tsdu_len;
    k.opt.present = SC_PGM_HAS_FRAGMENT;
    k.opt.frag = *frag;
    return sc_pgm_encode(buf, p->tpdu_max, &k);
}

/* The open block is done: a MoldUDP64 packet as it is, or behind the ODATA
 * header encoded in place. */
static void
close_block(struct sc_pub *p, uint64_t now_ns)
{
    uint64_t seq = p->w.trail + p->w.count;
    int n;

    if (!p->open)
        return;
    sc_store_be16(p->enc.buf + 18, p->enc.count); /* sc_pub_send's appends leave it */
    n = p->mold ? (int)p->enc.len
                : encode_odata(p, p->open_buf, (uint32_t)p->enc.len, NULL, seq);
    sc_txw_commit(&p->w, (uint16_t)n, p->next_msg_seq - p->enc.count, p->enc.count, now_ns);
    p->open = false;
    p->batch_due_ns = UINT64_MAX;
}

static uint64_t
unsent(const struct sc_pub *p)
{
    return p->w.trail + p->w.count - p->w.next_tx;
}

/* Store an APDU as a run of OPT_FRAGMENT packets (all or nothing). */
static int
store_fragmented(struct sc_pub *p, const uint8_t *apdu, uint32_t len, uint64_t now_ns)
{
    uint32_t nfrag = (len + p->frag_max - 1) / p->frag_max;
    uint64_t first = p->w.trail + p->w.count;
    struct sc_pgm_frag f = { .first_sqn = (uint32_t)first, .apdu_len = len };

    if (nfrag > sc_txw_capacity(&p->w) / 2)
        return -EMSGSIZE; /* the window could not hold it for repair */
    if (unsent(p) + nfrag > sc_txw_capacity(&p->w) || !sc_txw_none_busy(&p->w, nfrag))
        return -EAGAIN; /* every reserve below must return a buffer */
    for (uint32_t i = 0; i < nfrag; i++) {
        uint8_t *b = sc_txw_reserve(&p->w);
        uint32_t chunk = len - f.offset < p->frag_max ? len - f.offset : p->frag_max;
        int n;
        memcpy(b + ODATA_HDR + FRAG_OPT_LEN, apdu + f.offset, chunk);
        n = encode_odata(p, b, chunk, &f, first + i);
        sc_txw_commit(&p->w, (uint16_t)n, 0, 0, now_ns);
        f.offset += chunk;
    }
    return 0;
}

static int
send_raw(struct sc_pub *p, const void *msg, size_t len, uint64_t now_ns)
{
    uint8_t *b;
    int n;

    if (len > SC_PGM_MAX_APDU)
        return -EMSGSIZE;
    if (len > p->tsdu_max)
        return store_fragmented(p, msg, (uint32_t)len, now_ns);
    if (!(b = sc_txw_reserve(&p->w)))
        return -EAGAIN;
    memcpy(b + ODATA_HDR, msg, len);
    n = encode_odata(p, b, (uint32_t)len, NULL, p->w.trail + p->w.count);
    sc_txw_commit(&p->w, (uint16_t)n, 0, 0, now_ns);
    return 0;
}

static int
send_batched(struct sc_pub *p, const void *msg, size_t len, uint64_t now_ns)
{
    if (unlikely(len > p->max_msg)) /* MoldUDP64: one packet, it has no fragments */
        return -EMSGSIZE;
    if (p->open && p->enc.cap - p->enc.len < sc_mold_msg_size((uint16_t)len))
        close_block(p, now_ns);
    if (SC_MOLD_HDR_LEN + sc_mold_msg_size((uint16_t)len) > p->tsdu_max) {
        /* too big for one packet: a block of its own, fragmented */
        struct sc_mold_enc e;
        int rc;
        sc_mold_enc_init(&e, p->apdu, sizeof(p->apdu), p->session, p->next_msg_seq);
        sc_mold_enc_add(&e, msg, (uint16_t)len);
        rc = store_fragmented(p, p->apdu, (uint32_t)e.len, now_ns);
        if (rc == 0)
            p->next_msg_seq++;
        return rc;
    }
    if (!p->open) {
        uint8_t *b = sc_txw_reserve(&p->w);
        if (!b)
            return -EAGAIN;
        p->open_buf = b;
        sc_mold_enc_init(&p->enc, b + p->data_off, p->tsdu_max, p->session, p->next_msg_seq);
        p->open = true;
        /* not a wheel timer: a block a flush closes (every message, at low
         * latency) would pay an arm and a cancel for nothing; sc_pub_do_work
         * and sc_pub_deadline look at the due time instead */
        if (p->ch.batch_delay_ns)
            p->batch_due_ns = now_ns + p->ch.batch_delay_ns;
    }
    sc_mold_enc_add(&p->enc, msg, (uint16_t)len);
    p->next_msg_seq++;
    if (!p->ch.batch_delay_ns || p->enc.cap - p->enc.len < sc_mold_msg_size(1))
        close_block(p, now_ns);
    return 0;
}

/* The timer wheel starts at the first real time the application passes. */
static void
clock_start(struct sc_pub *p, uint64_t now_ns)
{
    if (unlikely(!p->clock_started)) {
        sc_tw_init(&p->tw, now_ns);
        p->clock_started = true;
    }
}

static __attribute__((noinline)) int
send_slow(struct sc_pub *p, const void *msg, size_t len, uint64_t now_ns)
{
    if (unlikely(p->ipc))
        return sc_ipcw_send(p->ipc, msg, len, now_ns);
    int rc;

    if (unlikely(p->state != PUB_OPEN))
        return -EPIPE;
    clock_start(p, now_ns);
    rc = p->ch.framing == SC_FRAMING_RAW ? send_raw(p, msg, len, now_ns)
                                             : send_batched(p, msg, len, now_ns);
    if (rc == 0) {
        p->st.msgs_sent++;
        p->st.bytes_sent += len;
    }
    return rc;
}

/* The common case first, with nothing to save or restore: a block is open
 * (batched framing, batch_delay, the session open), the message fits with
 * room for another after it, so it neither closes a block nor opens one --
 * send_batched's outcome, without its calls (bench/instr.sh). Everything
 * else goes the general way. */
/* sc_pub_send's append (the checks are its own) */
static inline int
append(struct sc_pub *p, const void *msg, size_t len)
{
    struct sc_mold_enc *e = &p->enc;
    uint8_t *d = e->buf + e->len;

    d[0] = (uint8_t)(len >> 8);
    d[1] = (uint8_t)len;
    sc_mold_copy_(d + 2, (const uint8_t *)msg, len);
    e->len += sc_mold_msg_size((uint16_t)len);
    e->count++;
    p->next_msg_seq++;
    p->st.msgs_sent++;
    p->st.bytes_sent += len;
    return 0;
}

/* over 64 bytes: the copy calls memcpy, out of line so that sc_pub_send's own
 * path saves no registers (a tail call) */
static __attribute__((noinline)) int
append_long(struct sc_pub *p, const void *msg, size_t len)
{
    return append(p, msg, len);
}

int
sc_pub_send(struct sc_pub *p, const void *msg, size_t len, uint64_t now_ns)
{
    struct sc_mold_enc *e = &p->enc;

    /* A block is open between calls only with batch_delay set and the session
     * open (send_batched closes it at once otherwise, sc_pub_close before
     * closing): p->open says all three. Room for this message and one more
     * bounds len below max_msg and the block's count below SC_MOLD_MAX_COUNT
     * (a block is under 64 KiB), so sc_mold_enc_add's checks are not repeated,
     * and the count goes into the block's header when it closes (close_block). */
    if (likely(p->open && len <= UINT16_MAX &&
               e->cap - e->len >= sc_mold_msg_size((uint16_t)len) + sc_mold_msg_size(1)))
        return len <= 64 ? append(p, msg, len) : append_long(p, msg, len);
    if (p->ipc) /* a tail call: sc_ipcw_send has its own common case */
        return sc_ipcw_send(p->ipc, msg, len, now_ns);
    return send_slow(p, msg, len, now_ns);
}

static uint32_t
max_msg(const struct sc_pub *p)
{
    if (p->ipc)
        return sc_ipcw_max_msg(p->ipc);
    if (p->ch.framing == SC_FRAMING_RAW)
        return 65535;
    if (p->mold) /* one packet: the header and the block's length field */
        return p->tsdu_max - SC_MOLD_HDR_LEN - 2;
    return SC_PGM_MAX_APDU - SC_MOLD_HDR_LEN - 2;
}

int
sc_pub_send_loss(struct sc_pub *p, const struct sc_sub_event *ev, uint64_t now_ns)
{
    if (!p->ipc)
        return -EOPNOTSUPP; /* a network channel's numbers are its own: nothing to carry */
    return sc_ipcw_loss(p->ipc, ev, now_ns);
}

size_t
sc_pub_max_msg(const struct sc_pub *p)
{
    return p->max_msg;
}

int
sc_pub_flush(struct sc_pub *p, uint64_t now_ns)
{
    if (p->ipc)
        return 0; /* every message is out when sent */
    close_block(p, now_ns);
    return 0;
}

/* Queue stored ODATA within the data rate. @return packets queued. */
static int
queue_odata(struct sc_pub *p, uint64_t now_ns)
{
    uint64_t end = p->w.trail + p->w.count;
    int n = 0;

    if (p->odata_queued < p->w.next_tx)
        p->odata_queued = p->w.next_tx;
    sc_tbucket_refill(&p->data_rate, now_ns);
    p->rate_wait_bits = 0;
    while (p->odata_queued < end && p->ntx < p->burst) {
        struct sc_txw_slot *s = sc_txw_get(&p->w, p->odata_queued);
        uint64_t bits = sc_wire_bits(s->len);
        if (!sc_tbucket_take(&p->data_rate, bits)) {
            p->st.data_rate_limited++;
            p->rate_wait_bits = bits;
            break;
        }
        enqueue(p, s->buf, s->len, p->ch.group.s_addr, p->ch.port, TXQ_ODATA);
        p->odata_queued++;
        n++;
    }
    if (n && p->mold)
        p->mold_hb_due_ns = now_ns + p->ch.mold.heartbeat_ns; /* data restarts the heartbeats */
    else if (n)
        data_sent(p, now_ns);
    return n;
}

/* ------------------------------------------------------------ NAKs */

static bool
send_rdata(void *ctx, uint64_t seq, struct sc_txw_slot *s)
{
    struct sc_pub *p = ctx;

    (void)seq;
    if (p->ntx == p->burst)
        flush_txq(p);
    if (p->ntx == p->burst)
        return false;
    if (unlikely(p->pkt_flags & SC_PKT_WINDOW) && sc_xport_tx_busy(p->x, s->buf))
        return false; /* a device still sends it: not rewritten now, repaired later */
    sc_pgm_make_rdata(s->buf, (uint32_t)p->w.trail);
    enqueue(p, s->buf, s->len, p->ch.group.s_addr, p->ch.port, TXQ_RDATA);
    return true;
}

/* Multicast the NCF for the sequences collected (one packet, OPT_NAK_LIST for
 * more than one), within rtx.ncf_rate. One held back is not sent later: the
 * repair it announces is on its way and tells the receivers itself. */
static void
send_ncf(struct sc_pub *p, uint64_t now_ns)
{
    struct sc_pgm_pkt c;
    uint8_t *b;
    int len;

    if (!p->nncf)
        return;
    sc_tbucket_refill(&p->ncf_rate, now_ns);
    if (!sc_tbucket_take(&p->ncf_rate, 1)) {
        p->st.ncf_rate_limited += p->nncf;
        p->nncf = 0;
        return;
    }
    c = downstream(p, SC_PGM_NCF);
    b = ctrl_buf(p);
    sc_pgm_set_nak(&c, p->nla, p->ch.group.s_addr, p->ncf_list, p->nncf);
    len = sc_pgm_encode(b, CTRL_BUF_SIZE, &c);
    if (len > 0) {
        enqueue(p, b, (uint16_t)len, p->ch.group.s_addr, p->ch.port, TXQ_CTRL);
        p->st.ncf_sent++;
    }
    p->nncf = 0;
}

/* The NAK's source NLA must name this publisher (RFC 3208 s.8.3: the unicast
 * NLA of the source of the missing data), as OpenPGM requires: the address it
 * advertises in its SPMs, or the one its data comes from (a receiver that has
 * not seen an SPM yet NAKs that one). IPv6 or anyone else's address: not ours. */
static bool
nla_is_ours(const struct sc_pub *p, const struct sc_pgm_nla *n)
{
    uint32_t a;

    if (n->afi != SC_PGM_AFI_IP)
        return false;
    memcpy(&a, n->addr, 4);
    return a == p->nla || (a == p->x->local_addr && a != 0);
}

static void
on_nak(struct sc_pub *p, const struct sc_pgm_pkt *k, uint32_t from, uint64_t now_ns)
{
    uint32_t sqns[1 + SC_PGM_MAX_NAK_LIST];
    unsigned n = 0;
    bool outside = false;
    uint64_t lead = p->w.next_tx ? p->w.next_tx - 1 : 0;

    if (!nla_is_ours(p, &k->nak.src)) {
        p->st.nak_bad_nla++;
        return;
    }
    if (k->nak.grp.afi != SC_PGM_AFI_IP || memcmp(k->nak.grp.addr, &p->ch.group.s_addr, 4)) {
        p->st.rx_not_ours++;
        return;
    }
    p->st.naks_received++;
    sqns[n++] = k->nak.sqn;
    for (unsigned i = 0; i < k->opt.nak_list_len; i++)
        sqns[n++] = k->opt.nak_list[i];
    p->st.nak_sqns += n;
    for (unsigned i = 0; i < n; i++) {
        uint64_t seq = sc_seq32_widen(lead, sqns[i]);
        switch (sc_rtx_request(&p->rtx, &p->w, seq, from, now_ns)) {
        case SC_RTX_QUEUED:
            break;
        case SC_RTX_COALESCED:
            p->st.nak_coalesced++;
            break;
        case SC_RTX_HELD_OFF:
            p->st.nak_held_off++;
            break;
        case SC_RTX_OUT_OF_WINDOW:
            p->st.nak_out_of_window++;
            outside = true;
            continue;
        case SC_RTX_OVER_BUDGET:
            p->st.nak_over_budget++;
            continue;
        case SC_RTX_OVERFLOW:
            p->st.nak_rtx_overflow++;
            continue;
        }
        /* held, repaired or to be: confirmed, unless an NCF just did that. The
         * NCF goes once the whole read is handled (do_work), carrying every
         * sequence confirmed in it: one multicast per read, not per NAK. */
        if (!sc_rtx_confirm(&p->rtx, &p->w, seq, now_ns)) {
            p->st.nak_ncf_held++;
            continue;
        }
        p->ncf_list[p->nncf++] = sqns[i];
        if (p->nncf == NCF_MAX)
            send_ncf(p, now_ns);
    }
    /* data no longer held: an SPM, whose trail lets the receiver declare the
     * loss at once instead of retrying */
    if (outside)
        want_spm_answer(p);
}

/* A MoldUDP64 response on its way (the server's buffer): false when the
 * transport is full even after a flush (it stays queued at the server). */
static bool
send_resp(void *ctx, uint8_t *data, uint16_t len, uint32_t addr, uint16_t port)
{
    struct sc_pub *p = ctx;

    if (p->ntx == p->burst)
        flush_txq(p);
    if (p->ntx == p->burst)
        return false;
    enqueue(p, data, len, addr, port, TXQ_RESP);
    return true;
}

static void
on_packet(struct sc_pub *p, const struct sc_pkt *pk, uint64_t now_ns)
{
    struct sc_pgm_pkt k;
    int rc;

    if (p->mold) { /* a re-request, or nothing we take */
        sc_rereq_srv_request(&p->srv, &p->srv_src, pk, now_ns);
        return;
    }
    rc = sc_pgm_decode(pk->data, pk->len, &k, 0);

    if (rc < 0) {
        p->st.rx_bad[-rc]++;
        return;
    }
    if (!sc_pgm_is_upstream(k.type)) {
        p->st.rx_wrong_type++;
        return;
    }
    if (memcmp(k.gsi, p->gsi, 6) || k.dport != p->sport || k.sport != p->ch.pgm_port) {
        p->st.rx_not_ours++;
        return;
    }
    switch (k.type) {
    case SC_PGM_NAK:
        on_nak(p, &k, pk->addr, now_ns);
        break;
    case SC_PGM_SPMR:
        p->st.spmr_received++;
        want_spm_answer(p);
        break;
    default:
        p->st.rx_wrong_type++; /* NNAK, POLR, ACK: not used by this source */
        break;
    }
}

/* ------------------------------------------------------------ closing */

/* Batched framing: the session's last ODATA is a MoldUDP64 End of Session
 * block (count 0xFFFF, seq = the next message number), sequenced and held for
 * repair like any data. A subscriber that lost the tail learns from it exactly
 * which messages it lost; the FIN SPMs alone would leave that range open (the
 * message numbers of a lost block are inside it). @return false while the
 * window holds only unsent data (send some first). */
static bool
queue_end_of_session(struct sc_pub *p, uint64_t now_ns)
{
    struct sc_mold_hdr h = { .seq = p->next_msg_seq, .count = SC_MOLD_COUNT_EOS };
    uint8_t *b = sc_txw_reserve(&p->w);
    int n;

    if (!b)
        return false;
    memcpy(h.session, p->session, SC_MOLD_SESSION_LEN);
    sc_mold_encode_hdr(b + ODATA_HDR, SC_MOLD_HDR_LEN, &h);
    n = encode_odata(p, b, SC_MOLD_HDR_LEN, NULL, p->w.trail + p->w.count);
    sc_txw_commit(&p->w, (uint16_t)n, 0, 0, now_ns);
    return true;
}

static void
try_end_of_session(struct sc_pub *p, uint64_t now_ns)
{
    if (p->eos_owed && queue_end_of_session(p, now_ns))
        p->eos_owed = false;
}

/* Three SPMs with OPT_FIN (as OpenPGM sends), each in a send of its own (in
 * one UDP GSO send a single loss would take all three). MoldUDP64: the first
 * End of Session. */
static void
send_fin(struct sc_pub *p, uint64_t now_ns)
{
    p->state = PUB_CLOSED;
    if (p->mold) { /* End of Session, then its repeats (mold_heartbeat) */
        queue_mold_hdr(p, SC_MOLD_COUNT_EOS);
        flush_txq(p);
        p->eos_until_ns = now_ns + p->ch.mold.eos_time_ns;
        p->mold_hb_due_ns = now_ns + p->ch.mold.heartbeat_ns;
        return;
    }
    for (int i = 0; i < 3; i++) {
        queue_spm(p, now_ns);
        flush_txq(p);
    }
}

/* CLOSING, after this do_work's data went out: the FIN once everything is
 * sent (the End of Session block included). Progress is the backlog
 * shrinking, or the data rate holding it back; a transport that takes nothing
 * for close_timeout (a peer gone: a memif without its client) is given up on,
 * and what it never took is counted and forgotten -- never sent after the FIN.
 * @return work done. */
static int
close_step(struct sc_pub *p, uint64_t now_ns)
{
    uint64_t left = unsent(p) + p->eos_owed;

    if (!left) {
        send_fin(p, now_ns);
        return 1;
    }
    if (left < p->close_left || p->rate_wait_bits) {
        p->close_left = left;
        p->close_progress_ns = now_ns;
        return 0;
    }
    if (now_ns - p->close_progress_ns < p->ch.close_timeout_ns)
        return 0;
    p->st.close_unsent += left;
    sc_txw_drop_unsent(&p->w);
    p->odata_queued = p->w.next_tx;
    p->eos_owed = false;
    send_fin(p, now_ns);
    p->fin_out = true; /* whether the FIN SPMs leave or not: nothing more to wait for */
    return 1;
}

int
sc_pub_close(struct sc_pub *p, uint64_t now_ns)
{
    if (p->ipc) {
        sc_ipcw_close(p->ipc, now_ns); /* readers see it at once: nothing to send */
        p->state = PUB_CLOSED;
        p->fin_out = true;
        return 0;
    }
    if (p->state != PUB_OPEN)
        return 0;
    clock_start(p, now_ns);
    close_block(p, now_ns);
    p->state = PUB_CLOSING;
    /* the End of Session block before any SPM says FIN: a subscriber settles
     * a source once it holds everything up to the FIN's lead */
    p->eos_owed = p->ch.framing == SC_FRAMING_BATCHED && !p->mold;
    try_end_of_session(p, now_ns); /* else once the window has room */
    p->close_left = unsent(p) + p->eos_owed;
    p->close_progress_ns = now_ns;
    return 0;
}

bool
sc_pub_closed(const struct sc_pub *p)
{
    return p->fin_out;
}

/* ------------------------------------------------------------ agent */

int
sc_pub_do_work(struct sc_pub *p, uint64_t now_ns)
{
    struct sc_pkt in[SC_BURST];
    uint16_t got;
    int work = 0;

    if (unlikely(p->ipc))
        return sc_ipcw_do_work(p->ipc, now_ns);
    clock_start(p, now_ns);
    if (unlikely(!p->started) && p->mold) {
        /* the session announces itself at once (a late joiner learns it),
         * alone in its send */
        p->started = true;
        queue_mold_hdr(p, SC_MOLD_COUNT_HEARTBEAT);
        flush_txq(p);
        p->mold_hb_due_ns = now_ns + p->ch.mold.heartbeat_ns;
        work++;
    } else if (unlikely(!p->started)) {
        p->started = true;
        p->last_spm_ns = now_ns;
        /* Announce the source (and where NAKs go) at once, twice, each SPM in
         * a send of its own (in one UDP GSO send, with each other or with the
         * first data, a loss on the way -- veth, loopback -- would take all):
         * an OpenPGM receiver defines its window from the first packet it
         * sees, and only an SPM (lead = before the first data) puts ODATA 0
         * inside it -- a lost first SPM and a lost ODATA 0 lost message 0 */
        for (int i = 0; i < 2; i++) {
            queue_spm(p, now_ns);
            flush_txq(p);
        }
        spm_intro_step(p, now_ns); /* then more, whatever the data does */
        data_sent(p, now_ns);
        p->last_data_ns = 0;
        work++;
    }
    if (now_ns >= p->batch_due_ns) /* batch_delay is up: out in this call */
        close_block(p, now_ns);
    if (unlikely(p->state == PUB_CLOSING))
        try_end_of_session(p, now_ns);
    /* New data first, so a live message never waits behind the NAK read (a
     * system call); up to 8 bursts per call, so NAKs are read again soon.
     * Repairs follow in the same call. */
    for (int b = 0; b < 8; b++) {
        int q = queue_odata(p, now_ns);
        work += q;
        if (p->ntx < p->burst)
            break;
        flush_txq(p);
        if (p->ntx == p->burst || q == 0)
            break; /* back-pressure */
    }
    flush_txq(p);
    if (unlikely(p->state == PUB_CLOSING))
        work += close_step(p, now_ns);
    for (unsigned i = 0; i < SC_BURST; i++) {
        in[i].data = p->rx[i];
        in[i].cap = RX_BUF_SIZE;
    }
    got = sc_xport_rx(p->x, in, SC_BURST);
    for (uint16_t i = 0; i < got; i++)
        on_packet(p, &in[i], now_ns);
    work += got;
    if (p->mold) {
        if (now_ns >= p->mold_hb_due_ns)
            work += mold_heartbeat(p, now_ns);
        sc_txw_expire(&p->w, now_ns, p->ch.window_ns);
        work += sc_rereq_srv_poll(&p->srv, &p->srv_src, now_ns, send_resp, p);
    } else {
        send_ncf(p, now_ns); /* what this read confirmed */
        work += sc_tw_expire(&p->tw, now_ns);
        if (spm_answer_due(p, now_ns)) {
            queue_spm(p, now_ns);
            work++;
        }
        sc_txw_expire(&p->w, now_ns, p->ch.window_ns);
        work += sc_rtx_poll(&p->rtx, &p->w, now_ns, send_rdata, p);
    }
    flush_txq(p);
    if (p->state == PUB_CLOSED && !p->ntx)
        p->fin_out = true;
    return work;
}

int
sc_pub_fd(const struct sc_pub *p)
{
    if (p->ipc)
        return -1;
    return sc_xport_fd(p->x);
}

int
sc_pub_wait(struct sc_pub *p, uint64_t timeout_ns)
{
    if (p->ipc)
        return sc_ipcw_wait(p->ipc, timeout_ns);
    if (sc_xport_fd(p->x) < 0 && !p->x->ops->rx_wait)
        return -1; /* a poll-mode transport: spin */
    return sc_xport_rx_wait(p->x, timeout_ns);
}

SC_AGENT_DEFINE(pub, struct sc_pub)

uint64_t
sc_pub_deadline(const struct sc_pub *p, uint64_t now_ns)
{
    (void)now_ns; /* every due time is absolute; a past one means at once */
    if (p->ipc)
        return sc_ipcw_deadline(p->ipc, now_ns);
    uint64_t d = sc_tw_next_ns(&p->tw), r = sc_rtx_deadline(&p->rtx);

    if (r < d)
        d = r;
    if (p->mold) {
        r = sc_rereq_srv_deadline(&p->srv);
        if (r < d)
            d = r;
        if (p->mold_hb_due_ns < d)
            d = p->mold_hb_due_ns;
    }
    if (p->batch_due_ns < d)
        d = p->batch_due_ns;
    if (p->spm_answer) {
        uint64_t a = p->last_answer_ns + p->ch.spm.answer_interval_ns;
        if (a < d)
            d = a;
    }
    if (p->ntx || (p->state == PUB_CLOSING && !unsent(p)))
        return 0; /* work waiting now: queued packets, or the FIN */
    if (unsent(p)) {
        /* data waiting: now, or when the data rate lets the next packet go */
        uint64_t t = p->rate_wait_bits ? sc_tbucket_when(&p->data_rate, p->rate_wait_bits) : 0;
        if (p->state == PUB_CLOSING) {
            uint64_t give_up = p->close_progress_ns + p->ch.close_timeout_ns;
            if (give_up < t)
                t = give_up;
        }
        if (t < d)
            d = t;
    }
    return d;
}

void
sc_pub_get_stats(const struct sc_pub *p, struct sc_pub_stats *st)
{
    *st = p->st;
    if (p->ipc) {
        sc_ipcw_stats(p->ipc, st);
        return;
    }
    st->rtx_rate_limited = p->rtx.rate_limited;
    st->nak_budget_shared = p->rtx.budgets.budget_shared;
    st->mold_budget_shared = p->srv.budgets.budget_shared;
    st->mold_resp_queued = p->mold ? sc_rereq_srv_queued(&p->srv) : 0;
    st->window_evicted = p->w.evicted;
    st->window_trail = p->w.trail;
    st->window_lead = p->w.trail + p->w.count - 1;
    st->next_msg_seq = p->ch.framing == SC_FRAMING_RAW ? p->w.trail + p->w.count : p->next_msg_seq;
    st->rx_pkts = p->x->st.rx_pkts;
    st->rx_bytes = p->x->st.rx_bytes;
    st->tx_pkts = p->x->st.tx_pkts;
    st->tx_bytes = p->x->st.tx_bytes;
    st->rcvbuf_requested = p->x->st.rcvbuf_requested;
    st->rcvbuf_effective = p->x->st.rcvbuf_effective;
    sc_link_stats_from(&st->link, &p->x->st);
}

void
sc_pub_tsi(const struct sc_pub *p, uint8_t gsi[6], uint16_t *sport)
{
    memcpy(gsi, p->gsi, 6);
    *sport = p->sport;
}

/* ------------------------------------------------------------ lifecycle */

int
sc_pub_create_on(struct sc_pub **out, const struct sc_channel_cfg *ch, struct sc_xport *x,
                 uint64_t seed, struct sc_err *err)
{
    static const char hex[] = "0123456789ABCDEF";
    struct sc_pub *p;
    uint64_t r = seed ? seed : sc_seed_random(), min_depth;
    int rc;

    if (ch->protocol != SC_PROTOCOL_MOLDUDP64 && !ch->source.s_addr && !x->local_addr) {
        /* SPMs would tell receivers to NAK 0.0.0.0, which is themselves */
        sc_xport_close(x);
        if (err) {
            err->code = -EINVAL;
            snprintf(err->msg, sizeof(err->msg),
                     "publisher %s: no unicast address to advertise for NAKs (interface "
                     "0.0.0.0 and no source): set interface or source",
                     ch->name);
        }
        return -EINVAL;
    }
    if (!(p = calloc(1, sizeof(*p)))) {
        rc = -ENOMEM;
        goto out_err;
    }
    p->ch = *ch;
    p->x = x;
    p->burst = sc_xport_burst(x);
    p->mold = ch->protocol == SC_PROTOCOL_MOLDUDP64;
    p->data_off = p->mold ? 0 : ODATA_HDR;
    p->tpdu_max = ch->mtu - SC_IP_UDP_OVERHEAD;
    p->tsdu_max = p->tpdu_max - p->data_off;
    p->frag_max = p->tsdu_max - FRAG_OPT_LEN;
    p->max_msg = max_msg(p);
    for (int i = 0; i < 6; i++)
        p->gsi[i] = (uint8_t)(sc_rand(&r) >> 24);
    do
        p->sport = (uint16_t)(sc_rand(&r) >> 40);
    while (p->sport == 0 || p->sport == ch->pgm_port);
    for (int i = 0; i < SC_MOLD_SESSION_LEN; i++)
        p->session[i] = (uint8_t)hex[(p->gsi[i / 2] >> (i % 2 ? 0 : 4)) & 0xF];
    if (ch->mold.session[0]) { /* left-justified, space-padded */
        memset(p->session, ' ', SC_MOLD_SESSION_LEN);
        memcpy(p->session, ch->mold.session, strnlen(ch->mold.session, SC_MOLD_SESSION_LEN));
    }
    p->nla = ch->source.s_addr ? ch->source.s_addr : x->local_addr;
    p->next_msg_seq = p->sent_msg_end = 1;
    p->mold_hb_due_ns = UINT64_MAX; /* from the session's start */
    /* a zero-copy transport sends the window's buffers themselves: room in
     * front of each for its frame, and no buffer reused while it holds it */
    rc = sc_txw_init_room(&p->w, ch->window_packets, p->tpdu_max,
                          x->ops->tx_busy ? SC_XPORT_TX_HEADROOM : 0, 0);
    if (rc < 0)
        goto out_free;
    p->pkt_flags = p->mold ? 0 : SC_PKT_PGM_CSUM;
    if (x->ops->tx_busy) {
        p->w.busy = window_busy;
        p->w.busy_ctx = p;
        p->pkt_flags |= SC_PKT_WINDOW;
    }
    /* the rate buckets: 10 ms of rate, and always room for the largest packet */
    min_depth = sc_wire_bits(p->tpdu_max) > 12000 * 8 ? sc_wire_bits(p->tpdu_max) : 12000 * 8;
    /* the repair of the protocol: PGM's queue of RDATA, or the re-request server */
    p->srv_txw = (struct sc_rereq_txw){&p->w, &p->sent_msg_end};
    sc_rereq_txw_source(&p->srv_src, &p->srv_txw);
    rc = p->mold ? sc_rereq_srv_init(&p->srv, &p->ch, p->session, p->tpdu_max, &p->st)
                 : sc_rtx_init(&p->rtx, RTX_QUEUE, ch->rtx.delay_ns, ch->rtx.holdoff_ns,
                               ch->rtx.rate_bps, min_depth, ch->rtx.budget);
    if (rc < 0)
        goto out_txw;
    sc_tbucket_init(&p->data_rate, ch->data_rate_bps, ch->data_rate_bps / 100, min_depth);
    sc_tbucket_init(&p->ncf_rate, ch->rtx.ncf_rate, ch->rtx.ncf_rate / 100, 16);
    sc_pgm_odata_tmpl_init(&p->odata_tmpl, p->sport, ch->pgm_port, p->gsi);
    p->batch_due_ns = UINT64_MAX;
    sc_timer_init(&p->spm_timer, spm_fire);
    p->intro_due_ns = UINT64_MAX; /* armed when the session starts */
    *out = p;
    return 0;

out_txw:
    sc_txw_fini(&p->w);
out_free:
    free(p);
out_err:
    sc_xport_close(x);
    if (err) {
        err->code = rc;
        snprintf(err->msg, sizeof(err->msg), "publisher %s: out of memory (window of %u packets)",
                 ch->name, ch->window_packets);
    }
    return rc;
}

int
sc_pub_create(struct sc_pub **out, const struct sc_config *cfg, const char *channel,
              struct sc_err *err)
{
    const struct sc_channel_cfg *ch = sc_channel_find(cfg, channel, err);
    struct sc_xport *x;
    int rc;

    if (!ch)
        return err ? err->code : -ENOENT;
    if (ch->transport == SC_TRANSPORT_IPC) {
        struct sc_pub *p = calloc(1, sizeof(*p));
        if (!p)
            return -ENOMEM;
        p->ch = *ch;
        if ((rc = sc_ipcw_create(&p->ipc, ch, &p->st, err)) < 0) {
            free(p);
            return rc;
        }
        p->max_msg = max_msg(p); /* (the log's, now that it exists) */
        *out = p;
        return 0;
    }
    if ((rc = sc_xport_open(&x, cfg, ch, SC_XPORT_PUB, err)) < 0)
        return rc;
    return sc_pub_create_on(out, ch, x, 0, err);
}

void
sc_pub_destroy(struct sc_pub *p)
{
    if (!p)
        return;
    if (p->ipc) {
        sc_ipcw_destroy(p->ipc);
        free(p);
        return;
    }
    sc_rereq_srv_fini(&p->srv);
    sc_rtx_fini(&p->rtx);
    sc_xport_close(p->x); /* first: a zero-copy device may still hold window buffers */
    sc_txw_fini(&p->w);
    free(p);
}
