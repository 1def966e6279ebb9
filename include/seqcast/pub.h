/* seqcast publisher: sequenced PGM multicast with repair.
 *
 * An agent (<seqcast/agent.h>), not a thread: the application calls
 * sc_pub_do_work() from its own loop, or has a runner call it (sc_pub_agent).
 * Time is always a parameter (now_ns, CLOCK_MONOTONIC); the library never
 * reads the clock (the runner does, once per cycle).
 *
 *   struct sc_pub *pub;
 *   sc_pub_create(&pub, &cfg, "itch", &err);
 *   sc_pub_send(pub, msg, len, now);          // batched into packets
 *   sc_pub_do_work(pub, now);                 // sends, repairs, heartbeats
 *   ...
 *   sc_pub_close(pub, now);                   // the end: marks the session closing
 *   while (!sc_pub_closed(pub))               // do_work sends the rest, then the FIN
 *       sc_runner_run_once(runner, 10000000); //   (a runner holding sc_pub_agent(pub))
 *   ... go on a while: late NAKs for the tail are repaired
 *   sc_pub_destroy(pub);
 *
 * Messages are batched implicitly: a packet leaves when it is full, when
 * sc_pub_flush() is called, or when its oldest message has waited the
 * channel's batch_delay. With framing: batched every message gets a 64-bit
 * sequence number (MoldUDP64 block, first message 1); with framing: raw every
 * message is one PGM APDU (OpenPGM's format). Messages larger than a packet
 * are fragmented (OPT_FRAGMENT). Nothing allocates after create.
 *
 * A channel with protocol: moldudp64 sends the MoldUDP64 blocks as the whole
 * UDP payload (no PGM), with heartbeats and End of Session instead of SPMs,
 * and answers re-requests from its window instead of NAKs; a message must fit
 * one packet (-EMSGSIZE). docs/PROTOCOL.md, section 6.
 */
#ifndef SEQCAST_PUB_H
#define SEQCAST_PUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <seqcast/agent.h>
#include <seqcast/config.h>
#include <seqcast/err.h>
#include <seqcast/stats.h>

struct sc_pub;

/* Every counter is in SC_PUB_COUNTERS (<seqcast/counters.h>), with what it
 * means; docs/COUNTERS.md lists them. */
struct sc_pub_stats {
    SC_PUB_COUNTERS(SC_COUNTER_FIELD)
    uint64_t rx_bad[SC_PERR_COUNT + 1]; /* dropped, by codec class: index -enum sc_perr */
    struct sc_link_stats link;
};

/* Create a publisher for one channel of cfg (NULL channel = the first).
 * @return 0, or a negative errno with err->msg saying what failed (e.g. the
 *         NAK port is in use, the interface has no such address). */
int sc_pub_create(struct sc_pub **out, const struct sc_config *cfg, const char *channel,
                  struct sc_err *err);

/* Queue one message. @return 0; -EMSGSIZE if it exceeds 65535 bytes (raw),
 * 65533 (batched) or one packet (MoldUDP64: mtu - 50); -EAGAIN if the rate limit has let the unsent backlog fill
 * the window (call sc_pub_do_work and retry); -EPIPE after sc_pub_close. */
int sc_pub_send(struct sc_pub *p, const void *msg, size_t len, uint64_t now_ns);

/* transport: ipc: pass a loss on to the log's readers -- ev (SC_EV_LOSS, a
 * subscriber's) goes into the log where the next message would, and each
 * reader reports it as its own SC_EV_LOSS with ev's reason, range (the
 * upstream numbers) and packets, between the messages written before and
 * after (seqcast-sub --republish). @return as sc_pub_send; -EOPNOTSUPP on a
 * network channel. */
struct sc_sub_event;
int sc_pub_send_loss(struct sc_pub *p, const struct sc_sub_event *ev, uint64_t now_ns);

/* The largest message sc_pub_send takes on this channel: 65535 (raw), 65533
 * (batched PGM: fragmented) or what one packet holds (MoldUDP64: mtu - 50). */
size_t sc_pub_max_msg(const struct sc_pub *p);

/* Close the open packet now instead of waiting for batch_delay. @return 0. */
int sc_pub_flush(struct sc_pub *p, uint64_t now_ns);

/* Send what is due, answer NAKs and SPMRs, repair, heartbeat.
 * @return the amount of work done (0 = idle). */
int sc_pub_do_work(struct sc_pub *p, uint64_t now_ns);

/* Readable when NAKs are waiting; -1 with a poll-mode transport (DPDK). */
int sc_pub_fd(const struct sc_pub *p);

/* The latest time sc_pub_do_work must run again: timers, the batch delay,
 * the data rate's next packet; <= now_ns when work waits (queued packets, a
 * backlog the rate allows), UINT64_MAX if nothing is pending. */
uint64_t sc_pub_deadline(const struct sc_pub *p, uint64_t now_ns);

/* Sleep until NAKs arrive or timeout_ns passes. @return 1 if input waits, 0
 * if none came (the timeout, a signal), -1 with a poll-mode transport (spin
 * on do_work instead). */
int sc_pub_wait(struct sc_pub *p, uint64_t timeout_ns);

/* The publisher as an agent, for a runner (<seqcast/agent.h>). */
struct sc_agent sc_pub_agent(struct sc_pub *p);

struct sc_xport;

/* A publisher on a transport the caller built (include/seqcast/xport.h: the
 * channel's own, wrapped in loss or record, a capture, your own). ch is one
 * of a config's channels (sc_config_channel). x is owned from the call on:
 * closed by sc_pub_destroy, or before returning on failure. seed picks the
 * session's GSI and TSI port (0: random, as sc_pub_create). */
int sc_pub_create_on(struct sc_pub **out, const struct sc_channel_cfg *ch, struct sc_xport *x,
                     uint64_t seed, struct sc_err *err);

/* End the session. Sends nothing itself and returns at once: it closes the
 * open packet and marks the session closing; sc_pub_do_work, called with the
 * real time as always, then sends the backlog within data_rate, with batched
 * framing a last ODATA holding a MoldUDP64 End of Session block (the next
 * message number: a subscriber that lost the tail reports exactly which
 * messages), then three SPMs with OPT_FIN so subscribers see the end at once.
 * A transport that takes nothing for the channel's close_timeout (its peer
 * gone) is given up on: what it never took is counted in close_unsent and
 * never sent. Later calls do nothing. MoldUDP64: after the backlog, End of
 * Session packets instead of the block and the FIN, the first at once, then
 * every mold.heartbeat for mold.eos_time (keep calling do_work that long).
 * @return 0. */
int sc_pub_close(struct sc_pub *p, uint64_t now_ns);

/* True once closing is over: everything sent and the FIN SPMs (MoldUDP64: the
 * first End of Session) out, or given up on, see sc_pub_close. Keep calling do_work afterwards for as long as
 * receivers may NAK the tail: repairs are served until sc_pub_destroy. */
bool sc_pub_closed(const struct sc_pub *p);

void sc_pub_get_stats(const struct sc_pub *p, struct sc_pub_stats *st);

/* Safe on NULL. */
void sc_pub_destroy(struct sc_pub *p);

#endif
