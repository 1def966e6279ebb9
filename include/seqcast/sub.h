/* seqcast subscriber: an exactly-once, in-order stream per source, or a typed
 * loss event saying precisely what could not be recovered. Never silent.
 *
 * An agent, like the publisher: call sc_sub_do_work(sub, now_ns) from your loop;
 * it reads the network, repairs gaps (NAKs), and calls your callbacks:
 *
 *   on_msg(ctx, src, seq, msg, len)   each message once, in sequence order
 *   on_event(ctx, ev)                 source up / down, loss, NAKs unanswered
 *
 * Sequence numbers: with framing: batched, the publisher's 64-bit message
 * sequence (first message 1); with framing: raw, the 64-bit PGM packet
 * sequence of the message's first packet. Loss events use the same numbers.
 *
 * Late join: a subscriber that is there when a source starts (it sees the
 * source's window still beginning at the session's first packet) gets the
 * whole stream. One that arrives mid-stream starts at the live edge
 * (late_join: live) or recovers what the publisher still holds
 * (late_join: window); the source-up event says which. A window joiner's
 * stream starts at the first message it delivers: what the publisher dropped
 * before that is counted (rx_before_join), not reported as loss.
 *
 * Sources: the channel's max_sources sessions are followed or remembered at
 * once. A newcomer to a full table takes the place of a source that never sent
 * data (only SPMs), the least recently heard (SOURCE_DOWN, SC_DOWN_EVICTED);
 * a source that sent data is never evicted, and with every place taken by such
 * sources the newcomer is refused (source_table_full). With source_allow set,
 * packets from other addresses are dropped before anything else
 * (rx_source_denied).
 *
 * MoldUDP64 channels (protocol: moldudp64) come through the same calls and
 * callbacks. A source is a session (sc_source.session); the A/B copies and the
 * answers to re-requests are the same source. seq is the MoldUDP64 message
 * number. Gaps show in the data, heartbeats and End of Session; they are
 * re-requested (nak.backoff, nak.rdata, nak.data_retries; no NCF exists) from
 * mold.request_servers, and answers arrive by unicast at the port requests
 * leave from. End of Session ends the source (SOURCE_DOWN, SC_DOWN_FIN) once
 * everything before it is delivered or reported lost. late_join: live starts
 * at the first message seen, first requests everything from message 1
 * (SC_JOIN_FIRST); while it catches up, data beyond its receive window
 * (rx_window messages) is dropped and requested when the window reaches it.
 */
#ifndef SEQCAST_SUB_H
#define SEQCAST_SUB_H

#include <stddef.h>
#include <stdint.h>

#include <seqcast/agent.h>
#include <seqcast/config.h>
#include <seqcast/err.h>
#include <seqcast/stats.h>

struct sc_sub;

struct sc_source {
    uint8_t gsi[6];   /* the source's Global Source ID */
    uint16_t sport;   /* its TSI port; GSI + sport identify a session */
    uint32_t addr;    /* IPv4 address NAKs go to (network order) */
    char name[24];    /* "9c5f102344a1.4660": GSI hex and TSI port; MoldUDP64: the
                         session, trailing spaces dropped, unprintable bytes as '?' */
    uint8_t session[10]; /* MoldUDP64 channels: the session as on the wire (gsi and sport
                            are 0; addr is where its data came from) */
};

enum sc_sub_event_type {
    SC_EV_SOURCE_UP = 1,
    SC_EV_SOURCE_DOWN,
    SC_EV_LOSS,
    SC_EV_NAK_UNANSWERED, /* the source does not answer our NAKs: said once per source */
    SC_EV_REPAIR,         /* the repairs of one gap: only to on_repair */
};

enum sc_repair_how {
    SC_REPAIR_NAK = 1,   /* RDATA, after NAKs (ours or a peer's: peer says whose) */
    SC_REPAIR_LATE,      /* the ODATA itself came late (reordering, the B line) */
    SC_REPAIR_REREQUEST, /* MoldUDP64: an answer to a re-request */
    SC_REPAIR_REWIND,    /* recovery.rewind: a loss fetched from an archive instead
                            (addr, port: the archive that served it) */
};

enum sc_nak_fault {
    SC_NAK_UNREACHABLE = 1, /* an ICMP destination unreachable came back for a NAK (port
                               unreachable: nothing listens on the port NAKed) */
    SC_NAK_NO_NCF,          /* nak.ncf_retries NAKs in a row got no NCF and no repair, and a
                               packet was given up on for it (SC_LOSS_RETRIES); MoldUDP64:
                               nak.data_retries requests in a row got no answer */
};

enum sc_loss_reason {
    SC_LOSS_RETRIES = 1,  /* NAKs unanswered or repairs never came, after every retry */
    SC_LOSS_NOT_IN_WINDOW, /* the publisher no longer holds the data (MoldUDP64: the
                              re-request server said so, docs/PROTOCOL.md) */
    SC_LOSS_RX_WINDOW,    /* the gap outgrew this subscriber's receive window */
    SC_LOSS_SOURCE_GONE,  /* the source timed out or ended with the data missing */
    SC_LOSS_NOT_IN_ARCHIVE, /* recovery.rewind: no archive holds it either (or none could be
                               reached within recovery.timeout) */
};

enum sc_join {
    SC_JOIN_FROM_START = 1, /* there from the session's first packet */
    SC_JOIN_LIVE,           /* joined mid-stream at the live edge */
    SC_JOIN_WINDOW,         /* joined mid-stream, recovering the publisher's window */
    SC_JOIN_RESUMED,        /* the same session heard again after its SOURCE_DOWN (timeout):
                               delivery goes on after the last message delivered; what was
                               sent meanwhile is repaired or reported as loss, never skipped */
    SC_JOIN_FIRST,          /* MoldUDP64, late_join: first: joined mid-stream, requesting
                               everything from message 1 */
    SC_JOIN_ARCHIVE,        /* late_join: archive: joined mid-stream; delivery starts at
                               message recovery.from (first_packet), through a rewind from
                               the archives, and goes on live with no gap (the
                               application sees no difference from a join at the start) */
};

enum sc_down_reason {
    SC_DOWN_TIMEOUT = 1, /* silent for source_timeout; its gaps are held for another
                            source_timeout (heard again: SOURCE_UP resumed, nothing lost),
                            then reported as SC_LOSS_SOURCE_GONE */
    SC_DOWN_FIN,         /* the publisher ended the session (OPT_FIN) */
    SC_DOWN_EVICTED,     /* it never sent data (SPMs only) and the source table was full
                            when a new source appeared: its place went to the newcomer */
    SC_DOWN_BAD_LOG,     /* transport: ipc: the log holds something that fails its checks
                            (damaged or hostile file): no longer read; a new log under the
                            name is looked for */
};

struct sc_sub_event {
    enum sc_sub_event_type type;
    const struct sc_source *src;
    union {
        struct {
            enum sc_join join;
            uint64_t first_packet; /* the first PGM packet sequence it will deliver
                                      (MoldUDP64: the first message number) */
        } up;
        struct {
            enum sc_down_reason reason;
        } down;
        struct {
            enum sc_loss_reason reason;
            uint64_t first, last; /* sequence range (inclusive); last is UINT64_MAX when
                                     the end is unknowable (source gone after a tail loss
                                     that took its End of Session block too;
                                     should the same session be heard again, SOURCE_UP with
                                     SC_JOIN_RESUMED, delivery goes on after that gap) */
            uint64_t packets;     /* PGM packets that could not be recovered
                                     (MoldUDP64: messages, last - first + 1) */
            const char *upstream; /* transport: ipc, a loss a bridge's own subscriber
                                     reported (SC_IPC_LOSS): the name of the network
                                     source that lost them, whose numbers first..last
                                     are (src is the log); NULL otherwise. Valid
                                     during the callback. */
        } loss;
        struct {
            enum sc_nak_fault reason;
            uint32_t addr;      /* where the NAKs went: the source's NLA (network order) ... */
            uint16_t port;      /* ... and UDP port (nak_port; auto: the data port) */
            uint8_t icmp_code;  /* SC_NAK_UNREACHABLE: the ICMP code (3 = port unreachable) */
            uint64_t naks;      /* NAK packets sent to the source since its last NCF or repair */
        } nak;
        struct {
            enum sc_repair_how how;
            uint64_t first, last; /* PGM packet sequences (raw framing: as on_msg's; batched:
                                     packets, not messages), MoldUDP64 message numbers */
            uint64_t packets;     /* repaired in first..last (what of it was lost
                                     meanwhile is in a loss event) */
            uint64_t wait_ns;     /* the longest of them from found missing to repaired */
            uint32_t addr;        /* where we NAKed or asked (network order; 0: we did not,
                                     a peer's NAK brought it, or it came late) ... */
            uint16_t port;        /* ... and the port */
        } repair;
    };
};

typedef void sc_sub_msg_fn(void *ctx, const struct sc_source *src, uint64_t seq,
                           const void *msg, size_t len);
typedef void sc_sub_event_fn(void *ctx, const struct sc_sub_event *ev);

struct sc_sub_callbacks {
    sc_sub_msg_fn *on_msg;
    sc_sub_event_fn *on_event; /* may be NULL */
    void *ctx;
    /* may be NULL: SC_EV_REPAIR events, the repairs of one gap each (packets
     * repaired, only missing ones between them, in any order), said once
     * nothing in or beside the gap is missing (a loss log: sc_shmstat_log_sub) */
    sc_sub_event_fn *on_repair;
};

/* Every counter is in SC_SUB_COUNTERS (<seqcast/counters.h>), with what it
 * means; docs/COUNTERS.md lists them. */
struct sc_sub_stats {
    SC_SUB_COUNTERS(SC_COUNTER_FIELD)
    uint64_t rx_bad[SC_PERR_COUNT + 1]; /* dropped, by codec class: index -enum sc_perr */
    struct sc_link_stats link;
};

/* One source's counters (SC_SUB_SOURCE_COUNTERS, <seqcast/counters.h>). */
struct sc_sub_source_stats {
    struct sc_source src;
    SC_SUB_SOURCE_COUNTERS(SC_COUNTER_FIELD)
};

/* @return 0, or a negative errno with err->msg (e.g. the group could not be
 *         joined on the interface). */
int sc_sub_create(struct sc_sub **out, const struct sc_config *cfg, const char *channel,
                  const struct sc_sub_callbacks *cb, struct sc_err *err);

struct sc_xport;

/* A subscriber on a transport the caller built (include/seqcast/xport.h).
 * ch is one of a config's channels (sc_config_channel). x is owned from the
 * call on: closed by sc_sub_destroy, or before returning on failure. seed
 * drives the NAK back-off's randomness (0: random, as sc_sub_create). */
int sc_sub_create_on(struct sc_sub **out, const struct sc_channel_cfg *ch, struct sc_xport *x,
                     const struct sc_sub_callbacks *cb, uint64_t seed, struct sc_err *err);

/* Read, repair, deliver. @return the amount of work done (0 = idle).
 *
 * A runner (<seqcast/agent.h>) holding sc_sub_agent(sub) calls it once per
 * wake-up, then sleeps until sc_sub_deadline() in sc_sub_wait(); a loop of
 * your own does the same:
 *
 *   for (;;) {
 *       sc_sub_do_work(sub, now);
 *       now = sc_clock_now();
 *       d = sc_sub_deadline(sub, now);
 *       if (d > now)
 *           sc_sub_wait(sub, d - now);
 *       now = sc_clock_now();
 *   }
 *
 * Calling it again until it returns 0 costs a read that only hears EAGAIN per
 * wake-up; a wait returns at once anyway if more arrived meanwhile. */
int sc_sub_do_work(struct sc_sub *s, uint64_t now_ns);

/* Sleep until packets arrive or timeout_ns passes. On kernel UDP with
 * gso: true (UDP GRO) a long wait sleeps in the read itself and leaves what
 * it read for the next sc_sub_do_work -- one system call per wake-up, where
 * poll + read is two (shorter waits, as when NAK timers run, poll). It may
 * return early (a long wait sleeps in powers of two of milliseconds, 8 ms to
 * 1 s, within the time asked; or at a signal): loop.
 * @return 1 if packets wait, 0 if none came, -1 with a poll-mode transport
 * (DPDK: nothing to sleep on, spin on sc_sub_do_work). */
int sc_sub_wait(struct sc_sub *s, uint64_t timeout_ns);

/* Readable when packets wait in the kernel (an epoll fd); -1 with a poll-mode
 * transport (DPDK): spin on sc_sub_do_work instead. transport: ipc: an inotify
 * watch of the log that its writer pokes while this reader, idle after a
 * sc_sub_do_work, counts itself asleep (asking for the fd turns that on; -1
 * if the system gives no inotify instance). */
int sc_sub_fd(const struct sc_sub *s);
/* The latest time sc_sub_do_work must run again (NAK and source timers);
 * <= now_ns when packets it has read already wait, UINT64_MAX if nothing is
 * pending. */
uint64_t sc_sub_deadline(const struct sc_sub *s, uint64_t now_ns);

/* The subscriber as an agent, for a runner (<seqcast/agent.h>). */
struct sc_agent sc_sub_agent(struct sc_sub *s);
void sc_sub_get_stats(const struct sc_sub *s, struct sc_sub_stats *st);
/* Place i of the source table (0 .. max_sources - 1): @return 1 and *st when
 * it holds a source -- followed (up 1), or timed out, ended or evicted (up 0,
 * its counters kept until another source takes the place) -- 0 when it never
 * held one, -ENOENT past the table (transport: ipc has none). Reads the
 * source's state: not for every message. */
int sc_sub_get_source(const struct sc_sub *s, unsigned i, struct sc_sub_source_stats *st);

/* Safe on NULL. */
void sc_sub_destroy(struct sc_sub *s);

#endif
