/* The subscriber agent: sources, receive windows, repair, in-order delivery.
 *
 * Receive path: rx_burst straight into pool buffers -> source_allow (the
 * packet's IP source) -> PGM decode (checksum) -> the source (GSI + TSI port;
 * new ones are created, in a full table in the place of one that never sent
 * data) -> ODATA/RDATA go into
 * the source's receive window (a hole arms NAK back-offs, nak.c), SPMs update
 * where NAKs go and reveal tail loss and the source's trailing edge, NCFs and
 * peer NAKs suppress our own NAKs -> delivery of everything now in order.
 *
 * Internal 64-bit sequences are the wire's 32-bit ones widened, offset by
 * 2^32 (SEQ_BASE) so that "one before the first" never goes below zero;
 * raw-framing users see them without the offset.
 *
 * MoldUDP64 channels (protocol: moldudp64) are a strategy inside the same
 * agent: the source table, receive windows, NAK state machine (no NCF: nak.c
 * with no_ncf), loss events, timeouts and delivery callbacks are shared; the
 * receive path (mold_packet), the window's unit (a message, not a packet) and
 * repair (re-requests, rereq.c) differ. sc_sub_do_work picks the strategy
 * once per call, so a PGM subscriber's pass is what it was.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/bigmem.h"
#include "engine/channel.h"
#include "engine/compiler.h"
#include "engine/ipc.h"
#include "engine/nak.h"
#include "engine/recovery.h"
#include "engine/rereq.h"
#include "engine/rxw.h"
#include "engine/sub_int.h"
#include "engine/timerwheel.h"
#include <seqcast/proto/endian.h>
#include <seqcast/proto/mold.h>
#include <seqcast/proto/pgm.h>
#include <seqcast/proto/seq.h>

#define SEQ_BASE (UINT64_C(1) << 32)
#define IP_UDP_OVERHEAD 28
#define TX_BUF_SIZE 512

struct source {
    bool used;
    /* not used, but remembered: the session timed out here (SOURCE_DOWN
     * timeout) and, if the same TSI is heard again, goes on after what was
     * delivered instead of joining afresh (which would skip messages, or
     * deliver the session again from its start) */
    bool resumable;
    /* timed out less than a source_timeout ago: its window (gaps and the data
     * after them) is still held, so a session heard again in time loses
     * nothing; when the grace runs out it is settled (gaps reported lost) */
    bool held;
    struct sc_sub *sub;
    struct sc_source id;
    struct sc_rxw w;
    struct sc_nak nak;
    struct sc_timer nak_timer, idle_timer;
    uint64_t last_heard_ns;
    uint32_t spm_sqn;
    bool have_spm, fin;
    /* ODATA or RDATA accepted from it: it holds buffers (a window of the pool
     * is kept for it) and is never evicted for a newcomer */
    bool had_data;
    uint32_t naks_unanswered; /* NAK packets sent since its last NCF or RDATA */
    uint64_t answer_srtt_ns, answer_var_ns; /* MoldUDP64: how long answers take (rereq.h) */
    bool nak_fault_said;      /* SC_EV_NAK_UNANSWERED emitted (once per source) */
    enum sc_join join;
    uint64_t start; /* the first sequence this subscriber follows */
    bool delivered_any;
    /* batched framing: message sequence bookkeeping for loss ranges */
    bool have_msg_seq;
    uint64_t last_msg_seq;
    /* a run of lost packets not yet reported (reported when the next data is
     * delivered, which tells where it ended in message numbers) */
    uint64_t loss_pkts, loss_first, loss_last;
    uint8_t loss_reason;
    uint8_t *reasm; /* APDU reassembly, 64 KiB */
    /* MoldUDP64: one past the highest message known to exist (from data,
     * heartbeats, End of Session); the window covers [next, min(high, next +
     * capacity)), the rest is added as delivery moves it */
    uint64_t high;
    /* MoldUDP64: catching up (late_join first or window) while next is below
     * this -- the first message seen at the join, then the end of whatever
     * did not fit in the window meanwhile: data beyond the window is dropped
     * and asked for in its turn, instead of pushing the window on */
    uint64_t catchup;
    uint64_t eos_seq; /* End of Session's sequence (the session's end), when fin */
    /* MoldUDP64: ended by End of Session and remembered (a free place all the
     * same), so that its End of Session repeats start nothing */
    bool ended;
    /* its counters (sc_sub_get_source), zeroed when a new session takes the place */
    struct {
        uint64_t msgs, gaps, naks, repaired, lost, loss_events, runs;
    } n;
    /* the repairs of one gap not said yet (on_repair): first..last holds
     * them and what is still missing between them; said when a repair
     * elsewhere comes, or once no repair can extend it */
    struct {
        bool open;
        uint8_t how; /* enum sc_repair_how */
        uint16_t port;
        uint32_t addr;
        uint32_t wait_us;
        uint64_t first, last, count;
    } rep;
};

struct sc_sub {
    struct sc_channel_cfg ch;
    struct sc_xport *x;
    struct sc_sub_callbacks cb;
    struct sc_tw tw;
    uint64_t rng;
    struct sc_sub_stats st;
    uint32_t buf_size;
    uint32_t window;
    uint16_t nak_dport; /* the UDP port NAKs go to (sc_channel_nak_port) */
    unsigned nsrc;      /* ch.max_sources */
    struct source *src; /* [nsrc] */
    /* receive buffer pool (a stack of free buffers): chunk 0 (one window and
     * two bursts) from create, one window more for each further source that
     * holds buffers at once (pool_fit); [nsrc] */
    uint8_t **chunk;
    unsigned nchunks, max_chunks;
    uint8_t **free_bufs;
    uint32_t nfree, npool;
    /* the read's buffers, kept from one do_work to the next: in[0..nin) hold a
     * free buffer each (only those a packet kept are replaced) */
    struct sc_pkt in[SC_BURST_MAX];
    uint16_t nin;
    uint16_t burst; /* packets per read: the transport's (sc_xport_burst) */
    /* receive in place (a PGM channel on a transport with rx_lend): in[] holds
     * the packets lent by a read, until their release; lending while on_packet
     * looks at them */
    bool lend, lending;
    /* NAKs out, flushed once per do_work */
    struct sc_pkt txq[SC_BURST];
    unsigned ntx;
    uint8_t txbuf[SC_BURST][TX_BUF_SIZE];
    uint64_t now_ns; /* of the current do_work, for callbacks from timers */
    bool clock_started;
    /* MoldUDP64 */
    bool mold;
    uint32_t rx_cap;   /* bytes a read buffer offers (MoldUDP64: less its trailer) */
    bool mold_session; /* mold.session set: only it is followed */
    uint8_t mold_sess[SC_MOLD_SESSION_LEN]; /* ... as on the wire */
    struct sc_rereq rereq;
    struct sc_recovery *rec; /* recovery.rewind set: between delivery and the callbacks */
    /* transport: ipc -- the whole agent is the log's reader (engine/ipc.c);
     * every call goes there instead, and nothing else is set up */
    struct sc_ipc_reader *ipc;
    /* the application's on_repair (not the recovery's wrapped callbacks), and
     * how many sources have a repair run open */
    sc_sub_event_fn *on_repair;
    void *repair_ctx;
    unsigned rep_open;
};

/* ---------------------------------------------------------------- pool */

static uint8_t *
buf_get(struct sc_sub *s)
{
    return s->nfree ? s->free_bufs[--s->nfree] : NULL;
}

static void
buf_put(struct sc_sub *s, uint8_t *b)
{
    s->free_bufs[s->nfree++] = b;
}

/* Every source that holds buffers (followed, or timed out and held for its
 * grace, and sent data: one that only sent SPMs holds none) may fill its whole
 * window: the pool grows by a window for each such source beyond the first,
 * when its first data arrives -- an allocation on that rare event,
 * never per packet, and never returned before destroy. (A pool of one window
 * shared by four sources with losses ran dry: every buffer sat in a window
 * waiting for a repair that could no longer be read.) If memory runs out the
 * sources share what there is, and on_data keeps reading going. */
static void
pool_fit(struct sc_sub *s)
{
    unsigned holders = 0;

    for (unsigned i = 0; i < s->nsrc; i++)
        holders += (s->src[i].used || s->src[i].held) && s->src[i].had_data;
    while (s->nchunks < holders) {
        uint32_t n = s->window;
        uint8_t *mem = s->nchunks < s->max_chunks ? sc_mem_big_reserve((size_t)n * s->buf_size)
                                                  : NULL;
        uint8_t **fb = mem ? realloc(s->free_bufs, (s->npool + n) * sizeof(*fb)) : NULL;
        if (!fb) {
            free(mem);
            s->st.rx_pool_grow_failed++;
            return;
        }
        s->free_bufs = fb;
        s->chunk[s->nchunks++] = mem;
        s->npool += n;
        for (uint32_t i = 0; i < n; i++)
            buf_put(s, mem + (size_t)i * s->buf_size);
    }
}

/* ---------------------------------------------------------------- events */

static void
emit_event(struct sc_sub *s, const struct sc_sub_event *ev)
{
    if (s->cb.on_event)
        s->cb.on_event(s->cb.ctx, ev);
}

/* Report the pending run of lost packets. next_first is the first message
 * sequence delivered after it (batched), or 0 when none is (the end is then
 * unknown, UINT64_MAX). */
static void
report_loss(struct source *src, uint64_t next_first)
{
    struct sc_sub *s = src->sub;
    struct sc_sub_event ev = { .type = SC_EV_LOSS, .src = &src->id };

    if (!src->loss_pkts)
        return;
    if (src->join == SC_JOIN_WINDOW && !src->delivered_any) {
        /* a window joiner's stream starts at the first message it delivers: what
         * the publisher dropped before that was never promised to it. Counted,
         * and the start moves; every gap after it is a loss event. */
        s->st.rx_before_join += src->loss_pkts;
        src->loss_pkts = 0;
        return;
    }
    ev.loss.reason = (enum sc_loss_reason)src->loss_reason;
    ev.loss.packets = src->loss_pkts;
    if (s->ch.framing == SC_FRAMING_RAW || s->mold) { /* MoldUDP64: slots are messages */
        ev.loss.first = src->loss_first - (s->mold ? 0 : SEQ_BASE);
        ev.loss.last = src->loss_last - (s->mold ? 0 : SEQ_BASE);
    } else {
        ev.loss.first = src->have_msg_seq ? src->last_msg_seq + 1
                        : src->join == SC_JOIN_FROM_START ? 1 : 0;
        ev.loss.last = next_first ? next_first - 1 : UINT64_MAX;
        if (next_first && ev.loss.last < ev.loss.first)
            ev.loss.last = ev.loss.first; /* cannot happen with a sane publisher */
    }
    s->st.loss_events++;
    src->n.loss_events++;
    src->n.lost += ev.loss.packets;
    emit_event(s, &ev);
    src->loss_pkts = 0;
}

/* ---------------------------------------------------------------- delivery */

static void
deliver_apdu(struct source *src, const uint8_t *apdu, uint32_t len, uint64_t first_pkt)
{
    struct sc_sub *s = src->sub;
    struct sc_mold_iter it;
    struct sc_mold_hdr h;
    const uint8_t *m;
    uint16_t ml;
    uint64_t seq, skip = 0;

    if (s->ch.framing == SC_FRAMING_RAW) {
        report_loss(src, 0);
        src->delivered_any = true;
        src->n.msgs++;
        s->st.msgs_delivered++;
        s->st.bytes_delivered += len;
        s->cb.on_msg(s->cb.ctx, &src->id, first_pkt - SEQ_BASE, apdu, len);
        return;
    }
    if (sc_mold_iter_init(&it, apdu, len, &h) < 0) {
        s->st.rx_bad_payload++;
        return;
    }
    /* every block names the next message number -- a heartbeat or the End of
     * Session block (the publisher's last ODATA) too: a loss before it ends
     * just before that number */
    report_loss(src, h.seq);
    if (h.count == SC_MOLD_COUNT_HEARTBEAT || h.count == SC_MOLD_COUNT_EOS)
        return;
    /* the block's messages are consecutive from h.seq: those at or below the
     * last delivered are a publisher bug or a replay -- never delivered twice */
    if (src->have_msg_seq && h.seq <= src->last_msg_seq) {
        skip = src->last_msg_seq - h.seq + 1;
        if (skip > h.count)
            skip = h.count;
        s->st.duplicates += skip;
    }
    if (skip == h.count)
        return;
    src->have_msg_seq = true;
    src->delivered_any = true;
    src->last_msg_seq = h.seq + h.count - 1; /* (iter_init: no wrap) */
    src->n.msgs += h.count - skip;
    /* iter_init checked every length: the block is walked without its
     * iterator's checks; the counters move once a block */
    for (uint64_t i = 0; i < skip; i++)
        sc_mold_iter_next(&it, &seq, &m, &ml);
    {
        const uint8_t *p = it.p;
        uint64_t bytes = 0, n = h.count - skip;
        seq = h.seq + skip;
        for (uint64_t i = 0; i < n; i++) {
            ml = sc_load_be16(p);
            s->cb.on_msg(s->cb.ctx, &src->id, seq++, p + 2, ml);
            bytes += ml;
            p += 2u + ml;
        }
        s->st.msgs_delivered += n;
        s->st.bytes_delivered += bytes;
    }
}

static void
lose_slot(struct source *src, struct sc_rxw_slot *sl, uint64_t seq, uint8_t reason)
{
    if (!src->loss_pkts) {
        src->loss_first = seq;
        src->loss_reason = reason;
    }
    src->loss_last = seq;
    src->loss_pkts++;
    if (sl->state == SC_RXW_HAVE)
        buf_put(src->sub, sl->buf);
    sl->state = SC_RXW_EMPTY;
}

/* Is the APDU starting at next complete? @return its packet count, 0 if a
 * fragment is still missing, -1 if it can never complete (a fragment lost). */
static int
apdu_ready(struct source *src, uint64_t first)
{
    struct sc_rxw_slot *f = sc_rxw_slot(&src->w, first);
    uint32_t have = 0;
    int n = 0;

    for (uint64_t q = first; have < f->apdu_len; q++, n++) {
        struct sc_rxw_slot *x;
        if (q >= src->w.end)
            return 0;
        x = sc_rxw_slot(&src->w, q);
        if (x->state == SC_RXW_MISSING)
            return 0;
        if (x->state != SC_RXW_HAVE || x->frag_first != first || x->frag_off != have ||
            x->apdu_len != f->apdu_len)
            return -1;
        have += x->tsdu_len;
    }
    return have == f->apdu_len ? n : -1;
}

static void source_down(struct source *src, enum sc_down_reason why);

static void
deliver(struct source *src)
{
    struct sc_sub *s = src->sub;
    struct sc_rxw *w = &src->w;

    while (w->next < w->end) {
        struct sc_rxw_slot *sl = sc_rxw_slot(w, w->next);
        int n;

        if (sl->state == SC_RXW_MISSING)
            break;
        if (sl->state == SC_RXW_LOST) {
            lose_slot(src, sl, w->next, sl->loss_reason);
            w->next++;
            continue;
        }
        if (sl->apdu_len == 0) {
            deliver_apdu(src, sl->buf + sl->tsdu_off, sl->tsdu_len, w->next);
            buf_put(s, sl->buf);
            sl->state = SC_RXW_EMPTY;
            w->next++;
            continue;
        }
        /* a fragment: deliver its APDU once every piece is here */
        if (sl->frag_first != w->next || (n = apdu_ready(src, w->next)) < 0) {
            lose_slot(src, sl, w->next, SC_LOSS_RETRIES); /* part of an APDU that lost a piece */
            w->next++;
            continue;
        }
        if (n == 0)
            break;
        {
            uint32_t off = 0;
            for (int i = 0; i < n; i++) {
                struct sc_rxw_slot *x = sc_rxw_slot(w, w->next + (uint64_t)i);
                memcpy(src->reasm + off, x->buf + x->tsdu_off, x->tsdu_len);
                off += x->tsdu_len;
            }
            deliver_apdu(src, src->reasm, off, w->next);
            for (int i = 0; i < n; i++) {
                struct sc_rxw_slot *x = sc_rxw_slot(w, w->next);
                buf_put(s, x->buf);
                x->state = SC_RXW_EMPTY;
                w->next++;
            }
        }
    }
    if (src->fin && w->next == w->end)
        source_down(src, SC_DOWN_FIN);
}

/* ---------------------------------------------------------------- NAKs */

static void
arm_nak_timer(struct source *src, uint64_t due)
{
    if (!sc_timer_pending(&src->nak_timer) || due < src->nak_timer.expires << SC_TW_TICK_SHIFT)
        sc_tw_arm(&src->sub->tw, &src->nak_timer, due);
}

/* Say src's open repair run (on_repair). */
static void
repair_say(struct source *src)
{
    struct sc_sub *s = src->sub;
    const uint64_t base = s->mold ? 0 : SEQ_BASE;
    struct sc_sub_event ev = { .type = SC_EV_REPAIR, .src = &src->id };

    if (!src->rep.open)
        return;
    src->rep.open = false;
    s->rep_open--;
    src->n.runs++;
    if (!s->on_repair)
        return;
    ev.repair.how = (enum sc_repair_how)src->rep.how;
    ev.repair.first = src->rep.first - base;
    ev.repair.last = src->rep.last - base;
    ev.repair.packets = src->rep.count;
    ev.repair.wait_ns = (uint64_t)src->rep.wait_us * 1000;
    ev.repair.addr = src->rep.addr;
    ev.repair.port = src->rep.port;
    s->on_repair(s->repair_ctx, &ev);
}

#define REPAIR_REACH 64 /* a repair this far from a gap's run, all missing between, joins it */

static bool
is_missing(struct source *src, uint64_t q)
{
    return q >= src->w.next && q < src->w.end &&
           sc_rxw_slot(&src->w, q)->state == SC_RXW_MISSING;
}

/* Is every packet strictly between a and b missing? */
static bool
missing_between(struct source *src, uint64_t a, uint64_t b)
{
    for (uint64_t q = a + 1; q < b; q++)
        if (!is_missing(src, q))
            return false;
    return true;
}

/* Runs no repair can extend any more are said (nothing missing in them, nor
 * just before or after them): once per do_work, while any is open. */
static void
repairs_said(struct sc_sub *s)
{
    for (unsigned i = 0; i < s->nsrc && s->rep_open; i++) {
        struct source *src = &s->src[i];
        bool open = false;
        if (!src->rep.open)
            continue;
        if (is_missing(src, src->rep.last + 1) || is_missing(src, src->rep.first - 1))
            continue;
        for (uint64_t q = src->rep.first > src->w.next ? src->rep.first : src->w.next;
             q <= src->rep.last && !open; q++)
            open = is_missing(src, q);
        if (!open)
            repair_say(src);
    }
}

/* A missing packet (message) seq arrived: how long it was missing, for the mean
 * and the longest repair latency (repair_wait, repair_wait_max: microseconds);
 * the source's repair run takes it (how, and where we NAKed: addr, port). */
static void
repair_wait(struct source *src, const struct sc_rxw_slot *sl, uint64_t seq, uint64_t now_ns,
            enum sc_repair_how how, uint32_t addr, uint16_t port)
{
    struct sc_sub *s = src->sub;
    uint32_t us = (uint32_t)(now_ns / 1000) - sl->missing_us;

    s->st.repair_wait += us;
    if (us > s->st.repair_wait_max)
        s->st.repair_wait_max = us;
    src->n.repaired++;
    /* the same gap: within the run, or only missing packets between them */
    if (src->rep.open &&
        (how != src->rep.how || addr != src->rep.addr ||
         (seq < src->rep.first &&
          (src->rep.first - seq > REPAIR_REACH || !missing_between(src, seq, src->rep.first))) ||
         (seq > src->rep.last &&
          (seq - src->rep.last > REPAIR_REACH || !missing_between(src, src->rep.last, seq)))))
        repair_say(src);
    if (!src->rep.open) {
        src->rep.open = true;
        s->rep_open++;
        src->rep.first = src->rep.last = seq;
        src->rep.count = 0;
        src->rep.wait_us = 0;
        src->rep.how = (uint8_t)how;
        src->rep.addr = addr;
        src->rep.port = port;
    }
    if (seq < src->rep.first)
        src->rep.first = seq;
    if (seq > src->rep.last)
        src->rep.last = seq;
    src->rep.count++;
    if (us > src->rep.wait_us)
        src->rep.wait_us = us;
}

static void
mark_missing(struct source *src, uint64_t first, uint64_t end, uint64_t now_ns)
{
    for (uint64_t q = first; q < end; q++)
        sc_nak_missing(&src->nak, &src->w, q, now_ns);
    if (first < end) {
        src->sub->st.gaps++;
        src->n.gaps++;
        arm_nak_timer(src, now_ns + 1000); /* the earliest back-off is >= 1 us */
    }
}

static void
send_nak(void *ctx, const uint64_t *seqs, unsigned n)
{
    struct source *src = ctx;
    struct sc_sub *s = src->sub;
    struct sc_pgm_pkt k;
    uint32_t sqns[SC_NAK_MAX_LIST];
    uint8_t *b;
    int len;

    if (s->ntx == SC_BURST) {
        sc_xport_tx(s->x, s->txq, (uint16_t)s->ntx);
        s->ntx = 0;
    }
    b = s->txbuf[s->ntx];
    for (unsigned i = 0; i < n; i++)
        sqns[i] = (uint32_t)seqs[i]; /* the wire's 32 bits */
    /* upstream: from the data-destination port to the source's TSI port */
    sc_pgm_pkt_init(&k, SC_PGM_NAK, src->id.gsi, s->ch.pgm_port, src->id.sport);
    sc_pgm_set_nak(&k, src->id.addr, s->ch.group.s_addr, sqns, n);
    len = sc_pgm_encode(b, TX_BUF_SIZE, &k);
    if (len <= 0)
        return;
    s->txq[s->ntx++] = (struct sc_pkt){ .data = b, .len = (uint16_t)len, .addr = src->id.addr,
                                        .port = s->nak_dport };
    src->naks_unanswered++;
    src->n.naks++;
    s->st.naks_sent++;
    s->st.nak_sqns += n;
}

/* The source does not answer our NAKs: say so once (the likely cause is
 * where they go -- nak_port, or the address its SPMs advertise), and count. */
static void
nak_fault(struct source *src, enum sc_nak_fault why, uint8_t icmp_code, uint32_t addr,
          uint16_t port)
{
    struct sc_sub *s = src->sub;
    struct sc_sub_event ev = { .type = SC_EV_NAK_UNANSWERED, .src = &src->id };

    if (src->nak_fault_said)
        return;
    src->nak_fault_said = true;
    ev.nak.reason = why;
    ev.nak.addr = addr;
    ev.nak.port = port;
    ev.nak.icmp_code = icmp_code;
    ev.nak.naks = src->naks_unanswered;
    emit_event(s, &ev);
}

static void
slot_lost(void *ctx, uint64_t seq)
{
    struct source *src = ctx;
    struct sc_sub *s = src->sub;
    struct sc_rxw_slot *sl = sc_rxw_slot(&src->w, seq);

    /* given up while waiting for an NCF, with at least as many NAKs in a row
     * unanswered (neither NCF nor RDATA since): not a lost repair -- the
     * source never heard us */
    if (sl->nak_state == SC_NAK_WAIT_NCF && src->naks_unanswered >= s->ch.nak.ncf_retries) {
        s->st.nak_unanswered++;
        nak_fault(src, SC_NAK_NO_NCF, 0, src->id.addr, s->nak_dport);
    }
    sl->state = SC_RXW_LOST;
    sl->loss_reason = SC_LOSS_RETRIES;
    s->st.lost_packets++;
}

static bool mold_requests_go_to(const struct sc_sub *s, const struct source *src, uint32_t addr,
                                uint16_t port);

/* ICMP errors returned for our NAKs (kernel UDP, IP_RECVERR): each counted,
 * and the sources NAKed there told about once. Read just before NAKs are
 * sent, so a subscriber that sends none pays nothing; the error for a NAK
 * shows at the next one (a gap unanswered is NAKed nak.ncf_retries times).
 * MoldUDP64: the same for re-requests, and the servers they went to. */
static void
read_tx_errors(struct sc_sub *s)
{
    struct sc_xport_txerr e[8];
    uint16_t n;

    do {
        n = sc_xport_tx_errors(s->x, e, 8);
        for (uint16_t i = 0; i < n; i++) {
            if (e[i].icmp_type != 3) /* only destination unreachable says "nobody there" */
                continue;
            s->st.nak_unreachable++;
            for (unsigned j = 0; j < s->nsrc; j++)
                if (s->src[j].used &&
                    (s->mold ? mold_requests_go_to(s, &s->src[j], e[i].addr, e[i].port)
                             : s->src[j].id.addr == e[i].addr && e[i].port == s->nak_dport))
                    nak_fault(&s->src[j], SC_NAK_UNREACHABLE, e[i].icmp_code, e[i].addr,
                              e[i].port);
        }
    } while (n == 8);
}

static void mold_nak_fire(struct source *src, uint64_t now_ns);

static void
nak_fire(struct sc_timer *t, uint64_t now_ns)
{
    struct source *src = sc_container_of(t, struct source, nak_timer);
    uint64_t next;

    if (src->sub->mold) {
        mold_nak_fire(src, now_ns);
        return;
    }
    next = sc_nak_poll(&src->nak, &src->w, now_ns, send_nak, slot_lost, src);

    if (next != UINT64_MAX)
        sc_tw_arm(&src->sub->tw, &src->nak_timer, next);
    deliver(src);
}

/* Every packet still missing before end (at most the window's end) can no
 * longer be repaired, for reason: lost, reported when delivery reaches it. */
static void
give_up(struct source *src, uint64_t end, uint8_t reason)
{
    if (end > src->w.end)
        end = src->w.end;
    for (uint64_t q = src->w.next; q < end; q++) {
        struct sc_rxw_slot *sl = sc_rxw_slot(&src->w, q);
        if (sl->state == SC_RXW_MISSING) {
            sl->state = SC_RXW_LOST;
            sl->loss_reason = reason;
            src->sub->st.lost_packets++;
        }
    }
}

/* Everything missing before trail is gone from the publisher's window. */
static void
apply_trail(struct source *src, uint64_t trail)
{
    give_up(src, trail, SC_LOSS_NOT_IN_WINDOW);
}

/* Make room for seq: a gap wider than the receive window cannot be repaired.
 * Costs at most one window's worth of slots, however far ahead seq is. */
static void
make_room(struct source *src, uint64_t seq)
{
    struct sc_rxw *w = &src->w;
    uint64_t cap = sc_rxw_capacity(w), new_next;

    if (seq < w->next + cap)
        return;
    new_next = seq + 1 - cap;
    give_up(src, new_next, SC_LOSS_RX_WINDOW);
    deliver(src);
    while (w->next < new_next && w->next < w->end) { /* pieces of an APDU that cannot finish */
        lose_slot(src, sc_rxw_slot(w, w->next), w->next, SC_LOSS_RX_WINDOW);
        w->next++;
    }
    if (w->next < new_next) { /* never seen at all: one step, not one per sequence */
        uint64_t n = new_next - w->next;
        if (!src->loss_pkts) {
            src->loss_first = w->next;
            src->loss_reason = SC_LOSS_RX_WINDOW;
        }
        src->loss_last = new_next - 1;
        src->loss_pkts += n;
        src->sub->st.lost_packets += n;
        w->next = new_next;
    }
    if (w->end < w->next)
        w->end = w->next;
}

/* ---------------------------------------------------------------- sources */

static void settle(struct source *src);
static void mold_settle(struct source *src);

static void
idle_fire(struct sc_timer *t, uint64_t now_ns)
{
    struct source *src = sc_container_of(t, struct source, idle_timer);
    uint64_t due = src->last_heard_ns + src->sub->ch.source_timeout_ns;

    if (src->held) { /* the grace is over: give up what it still owes */
        src->held = false;
        settle(src);
    } else if (now_ns >= due) {
        source_down(src, SC_DOWN_TIMEOUT);
        sc_tw_arm(&src->sub->tw, &src->idle_timer, now_ns + src->sub->ch.source_timeout_ns);
    } else {
        sc_tw_arm(&src->sub->tw, &src->idle_timer, due);
    }
}

/* Give up a source's gaps: whatever is still missing is lost, what it holds is
 * delivered in order, pieces of unfinished APDUs are discarded, all reported.
 * The window is then empty, at its end. */
static void
settle(struct source *src)
{
    struct sc_sub *s = src->sub;

    repair_say(src);
    /* whatever is still missing is lost; deliver what remains in order */
    give_up(src, src->w.end, SC_LOSS_SOURCE_GONE);
    src->fin = false; /* no recursion through deliver() */
    if (s->mold) {
        mold_settle(src);
    } else {
        deliver(src);
        for (uint64_t q = src->w.next; q < src->w.end; q++) { /* pieces of an unfinished APDU */
            struct sc_rxw_slot *sl = sc_rxw_slot(&src->w, q);
            if (sl->state == SC_RXW_HAVE || sl->state == SC_RXW_LOST)
                lose_slot(src, sl, q, SC_LOSS_SOURCE_GONE);
        }
    }
    report_loss(src, 0);
    sc_tw_cancel(&s->tw, &src->nak_timer);
    sc_nak_reset(&src->nak);
    for (uint64_t q = src->w.next; q < src->w.end; q++)
        sc_rxw_slot(&src->w, q)->state = SC_RXW_EMPTY;
    src->w.next = src->w.end;
    src->loss_pkts = 0;
}

/* FIN: the session is over, settle it now. Evicted (it never sent data):
 * settle what its SPMs announced, forget it. Timeout: it may only be out of
 * reach -- stop NAKing, keep its window for a grace of another source_timeout
 * (idle_fire settles it then), and remember it so that, heard again, it
 * resumes where it stopped. */
static void
source_down(struct source *src, enum sc_down_reason why)
{
    struct sc_sub *s = src->sub;
    struct sc_sub_event ev = { .type = SC_EV_SOURCE_DOWN, .src = &src->id };

    if (why != SC_DOWN_TIMEOUT)
        settle(src);
    ev.down.reason = why;
    s->st.sources_down++;
    emit_event(s, &ev);
    sc_tw_cancel(&s->tw, &src->nak_timer);
    sc_tw_cancel(&s->tw, &src->idle_timer);
    src->used = false;
    src->resumable = why == SC_DOWN_TIMEOUT;
    src->held = why == SC_DOWN_TIMEOUT;
    src->ended = s->mold && why == SC_DOWN_FIN;
}

/* The entry of k's session: followed, or timed out and remembered. */
static struct source *
find_source(struct sc_sub *s, const struct sc_pgm_pkt *k)
{
    for (unsigned i = 0; i < s->nsrc; i++) {
        struct source *src = &s->src[i];
        if ((src->used || src->resumable) && src->id.sport == k->sport &&
            !memcmp(src->id.gsi, k->gsi, 6))
            return src;
    }
    return NULL;
}

/* A remembered session gives its place away: a held window is settled. */
static void
forget(struct source *src)
{
    struct sc_sub *s = src->sub;

    if (src->held) {
        src->held = false;
        settle(src);
    }
    sc_tw_cancel(&s->tw, &src->idle_timer);
    src->resumable = false;
    s->st.sources_forgotten++;
}

static struct source *
older(struct source *a, struct source *b)
{
    return !a || b->last_heard_ns < a->last_heard_ns ? b : a;
}

/* An entry for a new session, the caller starts it. In this order: a free
 * one; a remembered session that never sent data; the followed source that
 * never sent data (SPMs only) heard least recently, evicted -- whoever can
 * send SPMs from enough addresses must not keep a publisher out; the
 * remembered session heard least recently. A source that sent data is never
 * evicted: NULL when every entry holds one. */
static struct source *
take_entry(struct sc_sub *s)
{
    struct source *quiet_mem = NULL, *quiet = NULL, *mem = NULL, *ended = NULL;

    for (unsigned i = 0; i < s->nsrc; i++) {
        struct source *src = &s->src[i];
        if (!src->used && !src->resumable) {
            if (!src->ended)
                return src;
            ended = older(ended, src); /* free, but remembered: last among the free */
            continue;
        }
        if (src->used && !src->had_data)
            quiet = older(quiet, src);
        else if (!src->used && !src->had_data)
            quiet_mem = older(quiet_mem, src);
        else if (!src->used)
            mem = older(mem, src);
    }
    if (ended) {
        ended->ended = false;
        return ended;
    }
    if (quiet_mem) {
        forget(quiet_mem);
        return quiet_mem;
    }
    if (quiet) {
        s->st.sources_evicted++;
        source_down(quiet, SC_DOWN_EVICTED);
        return quiet;
    }
    if (mem)
        forget(mem);
    return mem;
}

/* A remembered session heard again (SC_JOIN_RESUMED): it goes on after what
 * was delivered; back within its grace, its gaps are NAKed afresh. */
static void
resume_source(struct sc_sub *s, struct source *src, uint32_t from, uint64_t now_ns)
{
    struct sc_sub_event ev = { .type = SC_EV_SOURCE_UP, .src = &src->id };

    src->used = true;
    src->resumable = false;
    if (src->held) { /* back within the grace: NAK its gaps afresh */
        src->held = false;
        for (uint64_t q = src->w.next; q < src->w.end; q++)
            if (sc_rxw_slot(&src->w, q)->state == SC_RXW_MISSING) {
                sc_nak_missing(&src->nak, &src->w, q, now_ns);
                sc_rxw_slot(&src->w, q)->rq_first = false;
                sc_rxw_slot(&src->w, q)->rq_tries = 0;
            }
        arm_nak_timer(src, now_ns + 1000);
    }
    src->join = SC_JOIN_RESUMED;
    src->fin = false;
    src->id.addr = from;
    src->last_heard_ns = now_ns;
    ev.up.join = src->join;
    ev.up.first_packet = src->w.next - (s->mold ? 0 : SEQ_BASE);
    s->st.sources_up++;
    sc_tw_arm(&s->tw, &src->idle_timer, now_ns + s->ch.source_timeout_ns);
    pool_fit(s);
    emit_event(s, &ev);
}

/* A new source. Where its stream starts for us (DESIGN s.6 late join):
 * from its first packet if its window still starts at sequence 0 (we are
 * there from the beginning), else the live edge or its window's trail. */
static void
start_source(struct sc_sub *s, struct source *src, const struct sc_pgm_pkt *k, uint32_t from,
             uint64_t now_ns)
{
    const bool spm = k->type == SC_PGM_SPM;
    uint32_t trail = spm ? k->spm.trail : k->data.trail;
    uint32_t lead = spm ? k->spm.lead : k->data.sqn;
    uint64_t cap = s->window, next;
    struct sc_sub_event ev = { .type = SC_EV_SOURCE_UP, .src = &src->id };
    static const char hex[] = "0123456789abcdef";

    if (src->resumable) { /* find_source matched its TSI: the same session */
        resume_source(s, src, from, now_ns);
        return; /* what it sent meanwhile is a gap like any other: NAKed */
    }
    src->used = true;
    memcpy(src->id.gsi, k->gsi, 6);
    src->id.sport = k->sport;
    src->id.addr = from;
    for (int i = 0; i < 6; i++) {
        src->id.name[2 * i] = hex[k->gsi[i] >> 4];
        src->id.name[2 * i + 1] = hex[k->gsi[i] & 0xF];
    }
    snprintf(src->id.name + 12, sizeof(src->id.name) - 12, ".%u", k->sport);
    src->have_spm = false;
    src->fin = false;
    src->had_data = false;
    src->naks_unanswered = 0;
    src->nak_fault_said = false;
    src->answer_srtt_ns = src->answer_var_ns = 0;
    src->nak.rdata_least_ns = 0;
    sc_rereq_forget(&s->rereq, src);
    src->have_msg_seq = false;
    src->delivered_any = false;
    src->loss_pkts = 0;
    src->last_heard_ns = now_ns;
    memset(&src->n, 0, sizeof(src->n));

    if (trail == 0 && (uint32_t)(lead + 1) <= cap) {
        src->join = SC_JOIN_FROM_START;
        next = SEQ_BASE;
    } else if (s->ch.late_join != SC_LATE_JOIN_LIVE) { /* window, or first: what it holds */
        uint64_t l = SEQ_BASE + lead, t = sc_seq32_widen(l, trail);
        src->join = SC_JOIN_WINDOW;
        next = l + 1 - t > cap ? l + 1 - cap : t;
    } else {
        src->join = SC_JOIN_LIVE;
        next = SEQ_BASE + lead + (spm ? 1 : 0);
    }
    src->w.next = src->w.end = src->start = next;
    ev.up.join = src->join;
    ev.up.first_packet = next - SEQ_BASE;
    s->st.sources_up++;
    sc_tw_arm(&s->tw, &src->idle_timer, now_ns + s->ch.source_timeout_ns);
    pool_fit(s);
    emit_event(s, &ev);
}

/* ---------------------------------------------------------------- receive */

/* Data for src; returns true when the buffer was kept by the window. */
static bool
on_data(struct sc_sub *s, struct source *src, const struct sc_pgm_pkt *k, uint8_t *buf,
        uint64_t now_ns)
{
    struct sc_rxw *w = &src->w;
    uint64_t seq = sc_seq32_widen(w->end, k->data.sqn);
    struct sc_rxw_slot *sl;
    bool keeps;

    if (k->type == SC_PGM_RDATA) {
        s->st.rdata_received++;
        src->naks_unanswered = 0; /* a repair: someone's NAK was heard */
    } else {
        s->st.odata_received++;
    }
    if (unlikely(!src->had_data)) {
        src->had_data = true;
        pool_fit(s); /* the first data: its window of buffers */
    }
    apply_trail(src, sc_seq32_widen(seq, k->data.trail));
    if (seq < w->next) {
        if (seq < src->start)
            s->st.rx_before_join++;
        else
            s->st.duplicates++;
        deliver(src);
        return false;
    }
    make_room(src, seq);
    sl = sc_rxw_slot(w, seq);
    if (seq < w->end && sl->state != SC_RXW_MISSING) {
        s->st.duplicates++; /* held already, or too late: already reported lost */
        return false;
    }
    /* lent (receive in place): only the next in order, whole, is not kept */
    keeps = seq != w->next || (k->opt.present & SC_PGM_HAS_FRAGMENT);
    if (unlikely(!s->nfree) && (s->lending ? keeps : seq != w->next)) {
        /* No free buffer to take this one's place in the read burst: keeping
         * it would shrink the burst, and once every buffer waited in a window
         * for a repair, reading -- and with it the repairs -- would stop. It
         * stays missing (NAKed again); the next in order is always kept, as
         * delivering it gives its buffer back at once. */
        s->st.rx_pool_empty++;
        if (seq >= w->end) {
            mark_missing(src, w->end, seq + 1, now_ns);
            w->end = seq + 1;
        }
        return false;
    }
    if (seq >= w->end) {
        mark_missing(src, w->end, seq, now_ns);
        w->end = seq + 1;
    } else {
        s->st.repaired++;
        repair_wait(src, sl, seq, now_ns,
                    k->type == SC_PGM_RDATA ? SC_REPAIR_NAK : SC_REPAIR_LATE,
                    sl->nakked ? src->id.addr : 0, sl->nakked ? s->nak_dport : 0);
    }
    if (s->lending) {
        /* receive in place: the next in order is delivered from the lent
         * packet; anything kept (out of order, a fragment) is copied, up to
         * the end of its TSDU, into a pool buffer (there is one: see above) */
        uint8_t *b;
        if (!keeps) {
            deliver_apdu(src, k->tsdu, k->tsdu_len, seq);
            sl->state = SC_RXW_EMPTY;
            w->next++;
            deliver(src);
            return false;
        }
        b = buf_get(s);
        memcpy(b, buf, (size_t)(k->tsdu - buf) + k->tsdu_len);
        sl->tsdu_off = (uint16_t)(k->tsdu - buf);
        buf = b;
    } else {
        sl->tsdu_off = (uint16_t)(k->tsdu - buf);
    }
    sl->state = SC_RXW_HAVE;
    sl->buf = buf;
    sl->tsdu_len = k->tsdu_len;
    if (k->opt.present & SC_PGM_HAS_FRAGMENT) {
        sl->frag_first = sc_seq32_widen(seq, k->opt.frag.first_sqn);
        sl->apdu_len = k->opt.frag.apdu_len;
        sl->frag_off = k->opt.frag.offset;
    } else {
        sl->apdu_len = 0;
    }
    deliver(src);
    return true;
}

static void
on_spm(struct sc_sub *s, struct source *src, const struct sc_pgm_pkt *k, uint64_t now_ns)
{
    uint64_t lead;

    s->st.spm_received++;
    if (src->have_spm && sc_seq32_lt(k->spm.sqn, src->spm_sqn))
        return; /* older than one we have seen */
    src->have_spm = true;
    src->spm_sqn = k->spm.sqn;
    if (k->spm.nla.afi == SC_PGM_AFI_IP)
        memcpy(&src->id.addr, k->spm.nla.addr, 4); /* where NAKs go from now on */
    lead = sc_seq32_widen(src->w.end, k->spm.lead);
    apply_trail(src, sc_seq32_widen(lead, k->spm.trail));
    if (lead + 1 > src->w.end && (uint32_t)(k->spm.lead + 1) != k->spm.trail) {
        make_room(src, lead);
        if (lead + 1 > src->w.end) { /* tail loss: data we never saw */
            mark_missing(src, src->w.end, lead + 1, now_ns);
            src->w.end = lead + 1;
        }
    }
    if (k->opt.present & SC_PGM_HAS_FIN)
        src->fin = true;
    deliver(src);
}

static void
on_ncf_or_peer_nak(struct sc_sub *s, struct source *src, const struct sc_pgm_pkt *k,
                   uint64_t now_ns)
{
    uint32_t sqns[1 + SC_PGM_MAX_NAK_LIST];
    unsigned n = 0;

    if (k->type == SC_PGM_NCF) {
        s->st.ncf_received++;
        src->naks_unanswered = 0;
    }
    sqns[n++] = k->nak.sqn;
    for (unsigned i = 0; i < k->opt.nak_list_len; i++)
        sqns[n++] = k->opt.nak_list[i];
    for (unsigned i = 0; i < n; i++)
        if (sc_nak_confirmed(&src->nak, &src->w, sc_seq32_widen(src->w.end, sqns[i]), now_ns))
            s->st.nak_suppressed++;
    arm_nak_timer(src, now_ns + src->nak.p.rdata_ns);
}

static bool
source_allowed(const struct sc_channel_cfg *ch, uint32_t addr)
{
    for (uint32_t i = 0; i < ch->nsource_allow; i++) {
        const struct sc_cidr *c = &ch->source_allow[i];
        uint32_t mask = c->prefix ? htonl(~UINT32_C(0) << (32 - c->prefix)) : 0;
        if ((addr & mask) == c->addr.s_addr)
            return true;
    }
    return false;
}

/* @return true when the buffer was kept. */
static bool
on_packet(struct sc_sub *s, struct sc_pkt *pk, uint64_t now_ns)
{
    struct sc_pgm_pkt k;
    struct source *src;
    bool downstream_nak;
    int rc;

    if (s->ch.nsource_allow && !source_allowed(&s->ch, pk->addr)) {
        s->st.rx_source_denied++; /* before the checksum: the cheapest drop */
        return false;
    }
    rc = sc_pgm_decode(pk->data, pk->len, &k, 0);
    if (rc < 0) {
        s->st.rx_bad[-rc]++;
        return false;
    }
    /* a peer's NAK seen on the group: upstream ports, but it names our source */
    downstream_nak = k.type == SC_PGM_NAK;
    if ((!downstream_nak && k.dport != s->ch.pgm_port) ||
        (downstream_nak && k.sport != s->ch.pgm_port)) {
        s->st.rx_not_ours++;
        return false;
    }
    if (downstream_nak) { /* look the source up by (GSI, its TSI port = dport) */
        k.sport = k.dport;
        k.dport = s->ch.pgm_port;
    }
    switch (k.type) {
    case SC_PGM_ODATA:
    case SC_PGM_RDATA:
    case SC_PGM_SPM:
    case SC_PGM_NCF:
    case SC_PGM_NAK:
        break;
    default:
        s->st.rx_wrong_type++;
        return false;
    }
    src = find_source(s, &k);
    if (!src || !src->used) {
        const bool remembered = src != NULL;
        if (k.type == SC_PGM_NCF || k.type == SC_PGM_NAK)
            return false; /* nothing to confirm for a source we do not follow yet */
        if (k.type == SC_PGM_RDATA && k.data.trail != 0 && !remembered) {
            /* a repair for someone else is old data, not the live edge: wait for
             * ODATA or an SPM to decide where this subscriber starts */
            s->st.rx_before_join++;
            return false;
        }
        if ((k.opt.present & SC_PGM_HAS_FIN) && !remembered) {
            /* the session is over (publishers repeat the FIN a few times, so
             * this is also what follows our own SOURCE_DOWN): nothing to join,
             * and a source started here would NAK a window no one serves.
             * (A session lost to a timeout resumes: its tail may need repair.) */
            s->st.rx_before_join++;
            return false;
        }
        if (!src && !(src = take_entry(s))) {
            s->st.source_table_full++;
            return false;
        }
        start_source(s, src, &k, pk->addr, now_ns);
    }
    src->last_heard_ns = now_ns;
    switch (k.type) {
    case SC_PGM_ODATA:
    case SC_PGM_RDATA:
        return on_data(s, src, &k, pk->data, now_ns);
    case SC_PGM_SPM:
        on_spm(s, src, &k, now_ns);
        return false;
    default:
        on_ncf_or_peer_nak(s, src, &k, now_ns);
        return false;
    }
}

/* ---------------------------------------------------------------- MoldUDP64 */

/* A downstream packet is the MoldUDP64 header and its message blocks as the
 * whole UDP payload; the receive window holds a message per slot (answers to
 * requests re-packetize, so packets are not the unit):
 *
 *      next             end                       high
 *   ----|--MISSING/HAVE/LOST--|-- known, not in the window --|-->
 *        (at most rx_window)    added as delivery moves next
 *
 * Messages beyond the window's capacity (a gap wider than rx_window): as on a
 * PGM channel, the window moves on and the oldest of the gap is given up
 * (rx_window) -- except while a late joiner catches up (src->catchup), when
 * what does not fit is dropped and requested once the window gets there.
 *
 * A HAVE slot points into the pool buffer of its packet (offset, length);
 * the buffer counts the messages it holds in the window in a trailer of
 * MOLD_REF_SIZE bytes after rx_cap (which reads never fill) and goes back to
 * the pool when the last of them is delivered. A packet whose first message
 * is the next one, with nothing missing or held, is delivered straight from
 * the read buffer (the fast path): the window is not touched. */
#define MOLD_REF_SIZE 8
/* A packet numbered further than this past the highest message known is
 * dropped (rx_seq_jump): no day's session is that long, and taken as a gap it
 * would ask for billions of messages. */
#define MOLD_MAX_JUMP (UINT64_C(1) << 31)

static uint32_t *
buf_refs(const struct sc_sub *s, uint8_t *b)
{
    return (uint32_t *)(void *)(b + s->rx_cap);
}

static void
buf_unref(struct sc_sub *s, uint8_t *b)
{
    if (--*buf_refs(s, b) == 0)
        buf_put(s, b);
}

static bool
mold_requests_go_to(const struct sc_sub *s, const struct source *src, uint32_t addr, uint16_t port)
{
    for (unsigned k = 0; k < (s->rereq.nservers ? s->rereq.nservers : 1); k++) {
        struct sc_rereq_dest d = sc_rereq_server(&s->rereq, src->id.addr, k);
        if (d.addr == addr && d.port == port)
            return true;
    }
    for (unsigned k = 0; k < s->rereq.nsecond; k++)
        if (s->rereq.second[k].addr == addr && s->rereq.second[k].port == port)
            return true;
    return false;
}

/* [first, end) are missing: they start one back-off together (a gap the
 * data or a heartbeat revealed is counted by the caller, not each widening of
 * the window over messages already known to be missing). */
static void
mold_missing(struct source *src, uint64_t first, uint64_t end, uint64_t now_ns)
{
    sc_nak_missing_run(&src->nak, &src->w, first, end, now_ns); /* one request, not one each */
    for (uint64_t q = first; q < end; q++) {
        sc_rxw_slot(&src->w, q)->rq_first = false;
        sc_rxw_slot(&src->w, q)->rq_tries = 0;
    }
    if (first < end)
        arm_nak_timer(src, now_ns + 1000); /* the earliest back-off is >= 1 us */
}

/* Messages [first, end) are lost for reason: they join the run that loss
 * events report (a run ends where the reason changes or a message is
 * delivered). Counted in lost_packets where they were given up, not here. */
static void
mold_lose(struct source *src, uint64_t first, uint64_t end, uint8_t reason)
{
    if (src->loss_pkts && (reason != src->loss_reason || first != src->loss_last + 1))
        report_loss(src, 0);
    if (!src->loss_pkts) {
        src->loss_first = first;
        src->loss_reason = reason;
    }
    src->loss_last = end - 1;
    src->loss_pkts += end - first;
}

static inline void
mold_msg(struct source *src, uint64_t seq, const uint8_t *m, uint16_t len)
{
    struct sc_sub *s = src->sub;

    src->delivered_any = true;
    src->n.msgs++;
    s->st.msgs_delivered++;
    s->st.bytes_delivered += len;
    s->cb.on_msg(s->cb.ctx, &src->id, seq, m, len);
}

/* Deliver what is in order, report what was lost on the way. */
static void
mold_deliver(struct source *src)
{
    struct sc_sub *s = src->sub;
    struct sc_rxw *w = &src->w;

    while (w->next < w->end) {
        struct sc_rxw_slot *sl = sc_rxw_slot(w, w->next);

        if (sl->state == SC_RXW_MISSING)
            break;
        if (sl->state == SC_RXW_LOST) {
            mold_lose(src, w->next, w->next + 1, sl->loss_reason);
        } else {
            if (unlikely(src->loss_pkts))
                report_loss(src, 0);
            mold_msg(src, w->next, sl->buf + sl->tsdu_off, sl->tsdu_len);
            buf_unref(s, sl->buf);
        }
        sl->state = SC_RXW_EMPTY;
        w->next++;
    }
}

/* Deliver, then widen the window toward high, and end the session once
 * everything before its End of Session is delivered or lost. A run of lost
 * messages is reported when a message is delivered after it, or when nothing
 * more is known to be missing (so a gap given up one message at a time, as
 * random back-offs run out, is one loss event). */
static void
mold_advance(struct source *src, uint64_t now_ns)
{
    struct sc_rxw *w = &src->w;

    mold_deliver(src);
    if (src->high > w->end) {
        uint64_t cap = sc_rxw_capacity(w);
        uint64_t end = src->high - w->next > cap ? w->next + cap : src->high;
        if (end > w->end) {
            mold_missing(src, w->end, end, now_ns);
            w->end = end;
        }
    }
    if (src->loss_pkts && w->next == w->end && src->high == w->end)
        report_loss(src, 0);
    if (unlikely(src->fin) && w->next >= src->eos_seq)
        source_down(src, SC_DOWN_FIN);
}

/* Room for message q: the oldest of the window is given up (rx_window),
 * delivered or lost, and what never was in it is lost in one step. */
static void
mold_make_room(struct source *src, uint64_t q)
{
    struct sc_rxw *w = &src->w;
    uint64_t new_next;

    if (q - w->next < sc_rxw_capacity(w))
        return;
    new_next = q + 1 - sc_rxw_capacity(w);
    give_up(src, new_next, SC_LOSS_RX_WINDOW);
    mold_deliver(src); /* everything below new_next is HAVE or LOST now */
    if (w->next < new_next) {
        mold_lose(src, w->next, new_next, SC_LOSS_RX_WINDOW);
        src->sub->st.lost_packets += new_next - w->next;
        w->next = w->end = new_next;
    }
}

/* Messages below upto exist (data, a heartbeat, End of Session). */
static void
mold_known(struct source *src, uint64_t upto)
{
    struct sc_rxw *w = &src->w;

    if (upto > src->high)
        src->high = upto;
    if (src->high - w->next <= sc_rxw_capacity(w))
        return;
    if (w->next < src->catchup)
        src->catchup = src->high; /* catching up: fetched in its turn */
    else
        mold_make_room(src, src->high - 1);
}

/* The session is over (End of Session, eviction, the grace after a timeout
 * ran out): give_up made every missing message in the window LOST; deliver
 * the window, and what is known beyond it is lost as well, in one step. */
static void
mold_settle(struct source *src)
{
    struct sc_rxw *w = &src->w;

    mold_deliver(src);
    if (src->high > w->end) {
        mold_lose(src, w->end, src->high, SC_LOSS_SOURCE_GONE);
        src->sub->st.lost_packets += src->high - w->end;
        w->next = w->end = src->high;
    }
}

static void
mold_request(void *ctx, const uint64_t *seqs, unsigned n)
{
    struct source *src = ctx;

    sc_rereq_add(&src->sub->rereq, src, src->id.session, src->id.addr, &src->w, seqs, n);
}

/* A request the coalescer closed: into the send queue (flushed once per
 * do_work, as NAKs). */
static void
mold_emit(void *ctx, const void *owner, const uint8_t session[SC_MOLD_SESSION_LEN],
          struct sc_rereq_dest to, uint64_t first, uint32_t count, bool retry)
{
    struct sc_sub *s = ctx;
    struct source *src = (struct source *)(uintptr_t)owner;
    struct sc_mold_hdr h = { .seq = first, .count = (uint16_t)count };
    uint8_t *b;

    if (s->ntx == SC_BURST) {
        sc_xport_tx(s->x, s->txq, (uint16_t)s->ntx);
        s->ntx = 0;
    }
    b = s->txbuf[s->ntx];
    memcpy(h.session, session, SC_MOLD_SESSION_LEN);
    if (sc_mold_encode_request(b, TX_BUF_SIZE, &h) < 0)
        return;
    s->txq[s->ntx++] = (struct sc_pkt){ .data = b, .len = SC_MOLD_REQUEST_LEN, .addr = to.addr,
                                        .port = to.port };
    src->naks_unanswered++;
    src->n.naks++;
    s->st.requests_sent++;
    s->st.request_msgs += count;
    s->st.request_retries += retry;
}

/* Given up after nak.data_retries requests; with as many requests in a row
 * unanswered (no answer from the source's servers since), not a lost answer
 * but a server that never hears us: said once. */
static void
mold_slot_lost(void *ctx, uint64_t seq)
{
    struct source *src = ctx;
    struct sc_sub *s = src->sub;
    struct sc_rxw_slot *sl = sc_rxw_slot(&src->w, seq);

    if (src->naks_unanswered >= s->ch.nak.data_retries && !src->nak_fault_said) {
        /* the last request went out before retry() counted its expiry */
        struct sc_rereq_dest d = sc_rereq_server_for(&s->rereq, src->id.addr, sl,
                                                     sl->data_retries ? sl->data_retries - 1u : 0);
        s->st.nak_unanswered++;
        nak_fault(src, SC_NAK_NO_NCF, 0, d.addr, d.port);
    }
    sl->state = SC_RXW_LOST;
    sl->loss_reason = SC_LOSS_RETRIES;
    s->st.lost_packets++;
}

static void
mold_nak_fire(struct source *src, uint64_t now_ns)
{
    uint64_t next = sc_nak_poll(&src->nak, &src->w, now_ns, mold_request, mold_slot_lost, src);

    if (next != UINT64_MAX)
        sc_tw_arm(&src->sub->tw, &src->nak_timer, next);
    mold_advance(src, now_ns);
}

/* An answer (a downstream packet by unicast to the port requests leave from),
 * its messages already in the window: what the server says it no longer
 * holds is lost (not_in_window), the rest of a partly answered request is
 * asked for again at once (rereq.c). */
static void
mold_answer(struct sc_sub *s, struct source *src, uint32_t from, uint64_t seq, uint16_t count,
            uint64_t now_ns)
{
    struct sc_rereq_verdict v;

    sc_rereq_answer(&s->rereq, src, src->id.addr, &src->nak, &src->w, from, seq, count, now_ns,
                    &v);
    if (v.took_ns) { /* RFC 6298's estimate; no wait for an answer is shorter than
                        srtt + 4 rttvar (at most 60 s, nak.rdata's own limit) */
        uint64_t d, wait;
        if (!src->answer_srtt_ns) {
            src->answer_srtt_ns = v.took_ns;
            src->answer_var_ns = v.took_ns / 2;
        } else {
            d = v.took_ns > src->answer_srtt_ns ? v.took_ns - src->answer_srtt_ns
                                                : src->answer_srtt_ns - v.took_ns;
            src->answer_var_ns = (3 * src->answer_var_ns + d) / 4;
            src->answer_srtt_ns = (7 * src->answer_srtt_ns + v.took_ns) / 8;
        }
        wait = src->answer_srtt_ns + 4 * src->answer_var_ns;
        if (wait > 60 * UINT64_C(1000000000))
            wait = 60 * UINT64_C(1000000000);
        src->nak.rdata_least_ns = wait;
        if (wait / 1000 > s->st.answer_wait_peak && wait > s->ch.nak.rdata_ns)
            s->st.answer_wait_peak = wait / 1000;
    }
    s->st.not_in_window_answers += v.not_held;
    s->st.lost_packets += v.gone;
    s->st.request_continued += v.again;
    s->st.requests_second_line += v.second;
    if (v.again || v.second)
        arm_nak_timer(src, now_ns);
}

static void
mold_name(struct sc_source *id, const uint8_t session[SC_MOLD_SESSION_LEN])
{
    size_t n = SC_MOLD_SESSION_LEN;

    memcpy(id->session, session, SC_MOLD_SESSION_LEN);
    while (n && session[n - 1] == ' ')
        n--;
    for (size_t i = 0; i < n; i++)
        id->name[i] = session[i] >= 0x20 && session[i] < 0x7F ? (char)session[i] : '?';
    id->name[n] = '\0';
}

/* The entry of a session: followed, timed out and remembered, or ended. */
static struct source *
find_mold_source(struct sc_sub *s, const uint8_t session[SC_MOLD_SESSION_LEN])
{
    for (unsigned i = 0; i < s->nsrc; i++) {
        struct source *src = &s->src[i];
        if ((src->used || src->resumable || src->ended) &&
            !memcmp(src->id.session, session, SC_MOLD_SESSION_LEN))
            return src;
    }
    return NULL;
}

/* A new session (or a remembered one heard again). Where its stream starts:
 * at message 1 if that is where it is (its first heartbeat, or data from 1);
 * else late_join: live at the first message of this packet (a heartbeat's:
 * the next one), first and window from message 1 -- what the server no longer
 * holds is then a loss event (first) or not promised (window, rx_before_join). */
static void
mold_start_source(struct sc_sub *s, struct source *src, const struct sc_mold_hdr *h,
                  uint32_t from, uint64_t now_ns)
{
    struct sc_sub_event ev = { .type = SC_EV_SOURCE_UP, .src = &src->id };
    uint64_t next;

    if (src->resumable) {
        resume_source(s, src, from, now_ns);
        return;
    }
    src->used = true;
    src->ended = false;
    memset(&src->id, 0, sizeof(src->id));
    mold_name(&src->id, h->session);
    src->id.addr = from;
    src->have_spm = false;
    src->fin = false;
    src->had_data = false;
    src->naks_unanswered = 0;
    src->nak_fault_said = false;
    src->have_msg_seq = false;
    src->delivered_any = false;
    src->loss_pkts = 0;
    src->eos_seq = 0;
    src->last_heard_ns = now_ns;
    memset(&src->n, 0, sizeof(src->n));
    if (h->seq == 1) {
        src->join = SC_JOIN_FROM_START;
        next = 1;
    } else if (s->ch.late_join == SC_LATE_JOIN_LIVE) {
        src->join = SC_JOIN_LIVE;
        next = h->seq;
    } else {
        src->join = s->ch.late_join == SC_LATE_JOIN_FIRST ? SC_JOIN_FIRST : SC_JOIN_WINDOW;
        next = 1;
    }
    src->w.next = src->w.end = src->start = next;
    src->high = src->catchup = h->seq > next ? h->seq : next;
    ev.up.join = src->join;
    ev.up.first_packet = next;
    s->st.sources_up++;
    sc_tw_arm(&s->tw, &src->idle_timer, now_ns + s->ch.source_timeout_ns);
    pool_fit(s);
    emit_event(s, &ev);
}

/* A packet of a session not followed: start it, or say why not. */
static struct source *
mold_join(struct sc_sub *s, struct source *src, const struct sc_mold_hdr *h, uint32_t from,
          bool answer, uint64_t now_ns)
{
    if (src && src->ended) { /* its End of Session, repeated; a straggler */
        s->st.rx_session_ended++;
        return NULL;
    }
    if (answer) {
        s->st.rx_not_ours++; /* an answer for a session not followed (any more) */
        return NULL;
    }
    if (h->count == SC_MOLD_COUNT_EOS && !src && s->ch.late_join == SC_LATE_JOIN_LIVE) {
        s->st.rx_session_ended++; /* over: nothing to join at its live edge */
        return NULL;
    }
    if (!src && !(src = take_entry(s))) {
        s->st.source_table_full++;
        return NULL;
    }
    mold_start_source(s, src, h, from, now_ns);
    return src;
}

/* A heartbeat or End of Session: the next message number (a larger one than
 * known reveals a tail loss). By unicast: the server's not-in-window answer. */
static void
mold_tail(struct sc_sub *s, struct source *src, const struct sc_mold_hdr *h, bool answer,
          uint32_t from, uint64_t now_ns)
{
    if (answer) {
        s->st.rdata_received++;
        mold_answer(s, src, from, h->seq, SC_MOLD_COUNT_HEARTBEAT, now_ns);
        mold_advance(src, now_ns);
        return;
    }
    if (h->count == SC_MOLD_COUNT_EOS) {
        s->st.eos_received++;
        if (!src->fin) {
            src->fin = true;
            src->eos_seq = h->seq;
        }
    } else {
        s->st.heartbeats_received++;
    }
    s->st.gaps += h->seq > src->high;
    src->n.gaps += h->seq > src->high;
    mold_known(src, h->seq);
    mold_advance(src, now_ns);
}

/* Data: each message into its slot (or delivered at once: the fast path).
 * @return true when the buffer was kept (messages of it wait in the window). */
static bool
mold_data(struct sc_sub *s, struct source *src, struct sc_mold_iter *it,
          const struct sc_mold_hdr *h, uint8_t *buf, bool answer, uint32_t from,
          uint64_t now_ns)
{
    struct sc_rxw *w = &src->w;
    const uint64_t end = h->seq + h->count; /* no wrap: the codec refuses one */
    const uint8_t *m;
    uint64_t q = 0;
    uint32_t kept = 0;
    uint16_t ml;

    if (answer)
        s->st.rdata_received++;
    else
        s->st.odata_received++;
    if (unlikely(!src->had_data)) {
        src->had_data = true;
        pool_fit(s); /* the first data: its window of buffers */
    }
    if (likely(w->next == w->end && src->high == w->end && h->seq <= w->next && end > w->next)) {
        /* in order with nothing missing or held: straight from the packet */
        while (sc_mold_iter_next(it, &q, &m, &ml))
            if (q >= w->next)
                mold_msg(src, q, m, ml);
        s->st.msg_duplicates += w->next - h->seq;
        w->next = w->end = src->high = end;
        if (unlikely(src->fin) && w->next >= src->eos_seq)
            source_down(src, SC_DOWN_FIN);
        return false;
    }
    if (end <= w->next) { /* all of it delivered already (the B line's copy, a late answer) */
        s->st.duplicates++;
        s->st.msg_duplicates += h->count;
        return false;
    }
    s->st.gaps += h->seq > src->high;
    src->n.gaps += h->seq > src->high;
    mold_known(src, end);
    if (unlikely(!s->nfree) && !(h->seq <= w->next && w->next < end)) {
        /* no free buffer to take this one's place in the read burst (on_data
         * says why): only the packet holding the next message is kept */
        s->st.rx_pool_empty++;
        mold_advance(src, now_ns);
        return false;
    }
    while (sc_mold_iter_next(it, &q, &m, &ml)) {
        struct sc_rxw_slot *sl;
        if (q < w->next) {
            s->st.msg_duplicates++;
            continue;
        }
        if (q - w->next >= sc_rxw_capacity(w)) { /* catching up (mold_known) */
            s->st.rx_beyond_window++; /* this and the rest: asked for in their turn */
            break;
        }
        sl = sc_rxw_slot(w, q);
        if (q >= w->end) {
            mold_missing(src, w->end, q, now_ns);
            w->end = q + 1;
        } else if (sl->state != SC_RXW_MISSING) {
            s->st.msg_duplicates++;
            continue;
        } else {
            s->st.repaired++;
            repair_wait(src, sl, q, now_ns, answer ? SC_REPAIR_REREQUEST : SC_REPAIR_LATE,
                        answer ? from : 0, 0);
            s->st.request_suppressed += sl->nak_state == SC_NAK_BACKOFF;
        }
        sl->state = SC_RXW_HAVE;
        sl->buf = buf;
        sl->tsdu_off = (uint16_t)(m - buf);
        sl->tsdu_len = ml;
        kept++;
    }
    if (kept)
        *buf_refs(s, buf) = kept;
    else if (q < w->next + sc_rxw_capacity(w))
        s->st.duplicates++; /* it brought nothing new (not: nothing fitted) */
    if (answer)
        mold_answer(s, src, from, h->seq, h->count, now_ns);
    mold_advance(src, now_ns);
    return kept > 0;
}

/* @return true when the buffer was kept. */
static bool
mold_packet(struct sc_sub *s, struct sc_pkt *pk, uint64_t now_ns)
{
    struct sc_mold_iter it;
    struct sc_mold_hdr h;
    struct source *src;
    const bool answer = pk->lport != s->ch.port; /* unicast, to where requests leave from */
    int rc;

    if (s->ch.nsource_allow && !source_allowed(&s->ch, pk->addr)) {
        s->st.rx_source_denied++; /* before parsing: the cheapest drop */
        return false;
    }
    rc = sc_mold_iter_init(&it, pk->data, pk->len, &h);
    if (rc < 0) {
        s->st.rx_bad[-rc]++;
        return false;
    }
    if (s->mold_session && memcmp(h.session, s->mold_sess, SC_MOLD_SESSION_LEN)) {
        s->st.rx_wrong_session++;
        return false;
    }
    src = find_mold_source(s, h.session);
    if (!src || !src->used) {
        if (!(src = mold_join(s, src, &h, pk->addr, answer, now_ns)))
            return false;
    }
    if (unlikely(h.seq > src->high && h.seq - src->high > MOLD_MAX_JUMP)) {
        s->st.rx_seq_jump++;
        return false;
    }
    src->last_heard_ns = now_ns;
    if (answer)
        src->naks_unanswered = 0;
    if (h.count == SC_MOLD_COUNT_HEARTBEAT || h.count == SC_MOLD_COUNT_EOS) {
        mold_tail(s, src, &h, answer, pk->addr, now_ns);
        return false;
    }
    return mold_data(s, src, &it, &h, pk->data, answer, pk->addr, now_ns);
}

/* One do_work for one protocol: `mold` is a constant at both calls, so each
 * is compiled with its own receive path and neither tests the protocol per
 * packet. */
static inline __attribute__((always_inline)) int
do_work(struct sc_sub *s, uint64_t now_ns, const bool mold)
{
    struct sc_pkt *in = s->in;
    int work = 0;

    s->now_ns = now_ns;
    s->rereq.now_ns = now_ns; /* when the requests made in this call go out */
    if (unlikely(!s->clock_started)) { /* the wheel starts at the first real time */
        sc_tw_init(&s->tw, now_ns);
        s->clock_started = true;
    }
    /* Drain the socket (bounded) before timers: after a stall, the NCFs and
     * repairs that answer our NAKs are queued there, and a timer that fired
     * first would retry -- or give up -- without having seen them. */
    for (int burst = 0; !mold && s->lend && burst < 64; burst++) {
        /* receive in place: the packets lent by the transport, looked at where
         * they are (on_data copies what it keeps), given back */
        uint16_t got = sc_xport_rx_lend(s->x, in, s->burst);
        s->lending = true;
        for (uint16_t i = 0; i < got; i++)
            on_packet(s, &in[i], now_ns);
        s->lending = false;
        sc_xport_rx_release(s->x);
        work += got;
        if (got < s->burst)
            break;
    }
    for (int burst = 0; (mold || !s->lend) && burst < 64; burst++) {
        uint16_t want, got, keep = 0;
        bool holes = false;
        while (s->nin < s->burst && s->nfree) /* top up after packets kept buffers */
            s->in[s->nin++] = (struct sc_pkt){ .data = buf_get(s),
                                               .cap = (uint16_t)(mold ? s->rx_cap : s->buf_size) };
        if (!(want = s->nin)) {
            s->st.rx_pool_empty++; /* every buffer is in a window: back-pressure to the kernel */
            break;
        }
        got = sc_xport_rx(s->x, in, want);
        /* a buffer a packet kept (in a window, or delivered from there later)
         * leaves in[]: a free one takes its place at once (one delivered in
         * order came back to the pool already), so in[] stays full without
         * moving the rest; only when the pool runs dry are the others moved
         * down over the holes */
        for (uint16_t i = 0; i < got; i++)
            if ((mold ? mold_packet(s, &in[i], now_ns) : on_packet(s, &in[i], now_ns)) &&
                !(in[i].data = buf_get(s)))
                holes = true;
        if (unlikely(holes)) {
            for (uint16_t i = 0; i < want; i++)
                if (in[i].data)
                    in[keep++].data = in[i].data;
            s->nin = keep;
        }
        work += got;
        if (got < want)
            break;
    }
    work += sc_tw_expire(&s->tw, now_ns);
    if (mold)
        sc_rereq_flush(&s->rereq); /* the request the timers' batches left open */
    if (s->ntx) {
        read_tx_errors(s);
        sc_xport_tx(s->x, s->txq, (uint16_t)s->ntx);
        s->ntx = 0;
        work++;
    }
    return work;
}

int
sc_sub_do_work(struct sc_sub *s, uint64_t now_ns)
{
    int n;

    if (unlikely(s->ipc))
        return sc_ipcr_do_work(s->ipc, now_ns);
    n = unlikely(s->rec != NULL) ? sc_recovery_do_work(s->rec, now_ns) : 0;
    n += unlikely(s->mold) ? do_work(s, now_ns, true) : do_work(s, now_ns, false);
    if (unlikely(s->rep_open))
        repairs_said(s);
    return n;
}

void
sc_sub_cap_pool(struct sc_sub *s, unsigned chunks)
{
    s->max_chunks = chunks < s->nsrc ? chunks : s->nsrc;
}

int
sc_sub_fd(const struct sc_sub *s)
{
    if (s->ipc)
        return sc_ipcr_fd(s->ipc); /* an inotify watch of the log, poked by its writer */
    return sc_xport_fd(s->x);
}

int
sc_sub_wait(struct sc_sub *s, uint64_t timeout_ns)
{
    if (s->ipc)
        return sc_ipcr_wait(s->ipc, timeout_ns);
    if (sc_xport_fd(s->x) < 0 && !s->x->ops->rx_wait)
        return sc_xport_rx_pending(s->x) ? 1 : -1; /* a poll-mode transport: spin */
    if (s->rec && sc_recovery_fd(s->rec) >= 0 && sc_xport_fd(s->x) >= 0) {
        /* a rewind runs: its socket wakes us too */
        struct pollfd p[2] = {{sc_xport_fd(s->x), POLLIN, 0}, {sc_recovery_fd(s->rec), POLLIN, 0}};
        struct timespec ts = {(time_t)(timeout_ns / 1000000000u), (long)(timeout_ns % 1000000000u)};
        if (sc_xport_rx_pending(s->x))
            return 1;
        return ppoll(p, 2, timeout_ns > 3600000000000ull ? NULL : &ts, NULL) > 0;
    }
    return sc_xport_rx_wait(s->x, timeout_ns);
}

uint64_t
sc_sub_deadline(const struct sc_sub *s, uint64_t now_ns)
{
    uint64_t d, r;

    if (s->ipc)
        return sc_ipcr_deadline(s->ipc, now_ns);
    if (sc_xport_rx_pending(s->x))
        return 0; /* packets already read from the kernel wait for do_work */
    d = sc_tw_next_ns(&s->tw); /* the timers' due times are absolute */
    if (s->rec && (r = sc_recovery_deadline(s->rec, now_ns)) < d)
        d = r;
    return d;
}

SC_AGENT_DEFINE(sub, struct sc_sub)

void
sc_sub_get_stats(const struct sc_sub *s, struct sc_sub_stats *st)
{
    *st = s->st;
    if (s->ipc)
        return;
    st->rx_pkts = s->x->st.rx_pkts;
    st->rx_bytes = s->x->st.rx_bytes;
    st->tx_pkts = s->x->st.tx_pkts;
    st->tx_bytes = s->x->st.tx_bytes;
    st->rcvbuf_requested = s->x->st.rcvbuf_requested;
    st->rcvbuf_effective = s->x->st.rcvbuf_effective;
    sc_link_stats_from(&st->link, &s->x->st);
    if (s->rec)
        sc_recovery_stats(s->rec, st);
    st->lag = 0;
    for (unsigned i = 0; i < s->nsrc; i++) {
        const struct source *src = &s->src[i];
        uint64_t end = s->mold ? src->high : src->w.end;
        if ((src->used || src->held) && end > src->w.next && end - src->w.next > st->lag)
            st->lag = end - src->w.next;
    }
}

int
sc_sub_get_source(const struct sc_sub *s, unsigned i, struct sc_sub_source_stats *st)
{
    const struct source *src;
    const uint64_t base = s->mold ? 0 : SEQ_BASE;
    uint64_t end;

    if (s->ipc || i >= s->nsrc)
        return -ENOENT;
    src = &s->src[i];
    memset(st, 0, sizeof(*st));
    if (!src->id.name[0])
        return 0; /* never held a source */
    st->src = src->id;
    st->msgs_delivered = src->n.msgs;
    st->gaps = src->n.gaps;
    st->naks_sent = src->n.naks;
    st->repaired = src->n.repaired;
    st->lost_packets = src->n.lost;
    st->loss_events = src->n.loss_events;
    st->repair_runs = src->n.runs;
    if (s->ch.framing == SC_FRAMING_BATCHED && !s->mold)
        st->last_seq = src->have_msg_seq ? src->last_msg_seq : 0;
    else
        st->last_seq = src->delivered_any && src->w.next > base ? src->w.next - 1 - base : 0;
    end = s->mold ? src->high : src->w.end;
    st->lead = end > base ? end - 1 - base : 0;
    st->lag = (src->used || src->held) && end > src->w.next ? end - src->w.next : 0;
    for (uint64_t q = src->w.next; q < src->w.end; q++)
        st->missing += src->w.slot[q & src->w.mask].state == SC_RXW_MISSING;
    st->up = src->used;
    return 1;
}

/* ---------------------------------------------------------------- lifecycle */

static void
free_sub(struct sc_sub *s)
{
    sc_ipcr_destroy(s->ipc);
    for (unsigned i = 0; s->src && i < s->nsrc; i++) {
        free(s->src[i].w.slot);
        free(s->src[i].reasm);
        sc_nak_fini(&s->src[i].nak);
    }
    free(s->src);
    free(s->free_bufs);
    for (unsigned i = 0; i < s->nchunks; i++)
        free(s->chunk[i]);
    free(s->chunk);
    sc_recovery_destroy(s->rec);
    sc_xport_close(s->x);
    free(s);
}

int
sc_sub_create_on(struct sc_sub **out, const struct sc_channel_cfg *ch, struct sc_xport *x,
                 const struct sc_sub_callbacks *cb, uint64_t seed, struct sc_err *err)
{
    struct sc_sub *s = calloc(1, sizeof(*s));
    struct sc_nak_params np;
    uint32_t window = (uint32_t)sc_pow2_roundup(ch->rx_window_packets);

    if (!s) {
        sc_xport_close(x);
        goto out_nomem;
    }
    s->ch = *ch;
    s->x = x;
    s->cb = *cb;
    s->on_repair = cb->on_repair;
    s->repair_ctx = cb->ctx;
    if (ch->recovery.nrewind && sc_recovery_create(&s->rec, ch, cb, &s->cb, err) < 0) {
        sc_xport_close(x);
        free(s);
        return -ENOMEM;
    }
    if (s->ch.late_join == SC_LATE_JOIN_ARCHIVE) /* the recovery rewinds; the stream is live */
        s->ch.late_join = SC_LATE_JOIN_LIVE;
    s->rng = seed ? seed : sc_seed_random();
    s->window = window;
    s->buf_size = ch->mtu - IP_UDP_OVERHEAD < 1472 ? 1472 : ch->mtu - IP_UDP_OVERHEAD;
    s->rx_cap = s->buf_size;
    s->nak_dport = sc_channel_nak_port(ch, SC_XPORT_SUB);
    if ((s->mold = ch->protocol == SC_PROTOCOL_MOLDUDP64)) {
        s->rx_cap = (s->buf_size + 7) & ~7u;
        s->buf_size = s->rx_cap + MOLD_REF_SIZE;
        s->nak_dport = ch->port; /* auto: requests go to the data's source at the data port */
        s->mold_session = ch->mold.session[0] != '\0';
        memset(s->mold_sess, ' ', sizeof(s->mold_sess));
        memcpy(s->mold_sess, ch->mold.session, strnlen(ch->mold.session, sizeof(s->mold_sess)));
        sc_rereq_init(&s->rereq, ch, mold_emit, s);
    }
    s->nsrc = ch->max_sources ? ch->max_sources : 1;
    s->src = calloc(s->nsrc, sizeof(*s->src));
    s->chunk = calloc(s->nsrc, sizeof(*s->chunk));
    if (!s->src || !s->chunk)
        goto out_free;
    s->burst = (uint16_t)sc_xport_burst(x);
    s->lend = x->ops->rx_lend && x->ops->rx_release && ch->protocol != SC_PROTOCOL_MOLDUDP64;
    for (unsigned i = 0; s->lend && i < SC_BURST_MAX; i++)
        s->in[i].cap = (uint16_t)s->buf_size; /* the most a lent packet may be: a copy fits a buffer */
    s->npool = window + 2 * s->burst;
    s->chunk[0] = sc_mem_big_alloc((size_t)s->npool * s->buf_size);
    s->nchunks = 1;
    s->max_chunks = s->nsrc;
    s->free_bufs = malloc(s->npool * sizeof(*s->free_bufs));
    if (!s->chunk[0] || !s->free_bufs)
        goto out_free;
    for (uint32_t i = 0; i < s->npool; i++)
        buf_put(s, s->chunk[0] + (size_t)i * s->buf_size);
    np = (struct sc_nak_params){ ch->nak.backoff_ns, ch->nak.repeat_ns, ch->nak.rdata_ns,
                                 ch->nak.ncf_retries, ch->nak.data_retries, ch->nak.ramp,
                                 s->mold };
    for (unsigned i = 0; i < s->nsrc; i++) {
        struct source *src = &s->src[i];
        src->sub = s;
        src->w.mask = window - 1;
        src->w.slot = calloc(window, sizeof(*src->w.slot));
        src->reasm = malloc(SC_PGM_MAX_APDU);
        if (!src->w.slot || !src->reasm || sc_nak_init(&src->nak, &np, &s->rng, window) < 0)
            goto out_free;
        sc_timer_init(&src->nak_timer, nak_fire);
        sc_timer_init(&src->idle_timer, idle_fire);
    }
    *out = s;
    return 0;

out_free:
    free_sub(s);
out_nomem:
    if (err) {
        err->code = -ENOMEM;
        snprintf(err->msg, sizeof(err->msg),
                 "subscriber %.31s: out of memory (receive window of %u packets, %u sources)",
                 ch->name, window, ch->max_sources);
    }
    return -ENOMEM;
}

int
sc_sub_create(struct sc_sub **out, const struct sc_config *cfg, const char *channel,
              const struct sc_sub_callbacks *cb, struct sc_err *err)
{
    const struct sc_channel_cfg *ch = sc_channel_find(cfg, channel, err);
    struct sc_xport *x;
    int rc;

    if (!ch)
        return err ? err->code : -ENOENT;
    if (ch->transport == SC_TRANSPORT_IPC) {
        struct sc_sub *s = calloc(1, sizeof(*s));
        if (!s)
            return -ENOMEM;
        s->ch = *ch;
        s->cb = *cb;
        if ((rc = sc_ipcr_create(&s->ipc, ch, cb, &s->st, err)) < 0) {
            free(s);
            return rc;
        }
        *out = s;
        return 0;
    }
    if ((rc = sc_xport_open(&x, cfg, ch, SC_XPORT_SUB, err)) < 0)
        return rc;
    return sc_sub_create_on(out, ch, x, cb, 0, err);
}

void
sc_sub_destroy(struct sc_sub *s)
{
    if (s)
        free_sub(s);
}
