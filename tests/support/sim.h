/* A deterministic simulation: one publisher and N subscribers on the in-process
 * network (mem transport), each subscriber behind its own seeded loss wrapper,
 * an integer clock. Every delivery is checked as it happens: per source, each
 * message exactly once, in order, with the generated content; losses must come
 * as typed events and, with the deliveries, cover the stream exactly. */
#ifndef SC_TESTS_SIM_H
#define SC_TESTS_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include <seqcast/config.h>
#include <seqcast/pub.h>
#include <seqcast/sub.h>

#include "engine/transport/transport.h"

#define SIM_MAX_SUBS 40
#define SIM_MAX_LOSS 256
#define SIM_MAX_SOURCES 4

struct sim_loss {
    uint64_t first, last, packets;
    int reason;
};

struct sim_source { /* what one subscriber saw of one source */
    char name[24];
    uint64_t next;      /* next message number expected */
    uint64_t last_seq;  /* raw framing: one past the last packet sequence delivered */
    uint64_t delivered; /* messages */
    int join, last_join;
    uint64_t first; /* the first message it delivered */
    bool down;
    int down_reason;
    unsigned nloss;
    struct sim_loss loss[SIM_MAX_LOSS];
};

/* A subscriber's lending transport (sim_lend): its packets read from the
 * transport below into buffers of its own, lent (rx_lend), and poisoned when
 * released -- a subscriber that used a lent packet after its release would
 * deliver the poison */
struct sim_lender {
    struct sc_xport_wrap w;
    uint8_t buf[SC_BURST_MAX][2048];
    uint16_t nlent;
    uint64_t lends, lent_pkts, releases, unreleased; /* unreleased: a lend before the release */
};

struct sim_sub {
    struct sc_sub *sub;
    struct sc_xport *loss_x; /* its loss wrapper (for the stats) */
    struct sim_lender *lender; /* with sim_lend */
    unsigned nsrc;
    struct sim_source src[SIM_MAX_SOURCES];
    uint64_t order_errors, content_errors;
    char first_error[200];
    unsigned ignored_up, ignored_down, evicted_down; /* events of ignored sources */
    unsigned nak_events; /* SC_EV_NAK_UNANSWERED: the first one's fields */
    struct sc_source nak_src;
    enum sc_nak_fault nak_reason;
    uint32_t nak_addr;
    uint16_t nak_port;
    /* SC_EV_REPAIR (on_repair): how many, the packets they say, and those whose
     * fields disagree (first > last, more packets than the range, no wait) */
    uint64_t repair_events, repair_packets, repair_bad;
};

struct sim {
    struct sc_memnet *net;
    struct sc_channel_cfg ch;
    struct sc_pub *pub;
    unsigned npub; /* publishers created so far (restarts) */
    struct sc_pub *more[SIM_MAX_SOURCES - 1]; /* concurrent publishers, sending what pub sends */
    unsigned nmore;
    unsigned nsubs;
    struct sim_sub subs[SIM_MAX_SUBS];
    uint64_t now;
    uint64_t step_ns;
    size_t msg_size; /* 0 = mixed sizes */
    uint64_t sent;   /* messages published by the current publisher */
    /* sources whose address is in ignore_net/ignore_mask (network order; mask
     * 0 = none) are not tracked: hostile tests' spoofed sources; their up and
     * down events are only counted */
    uint32_t ignore_net, ignore_mask;
};

/* Set before sim_init: the subscribers receive in place (struct sim_lender
 * between each one and its loss wrapper). Cleared by sim_fini. */
extern bool sim_lend;

/* A channel for simulations: defaults (lan) with overrides applied by the caller. */
void sim_channel(struct sc_channel_cfg *ch);

/* loss: each subscriber's receive side (seed varied per subscriber);
 * tx_loss: the publisher's link (every subscriber sees the same losses). */
void sim_init(struct sim *s, const struct sc_channel_cfg *ch, unsigned nsubs,
              const struct sc_loss_params *loss, const struct sc_loss_params *tx_loss);
void sim_new_publisher(struct sim *s, const struct sc_loss_params *tx_loss);
void sim_fini(struct sim *s);

/* Another publisher beside pub, at its own address, from now on sending every
 * message sim_publish sends (its own source at each subscriber, seen in order
 * of first arrival). */
void sim_add_publisher(struct sim *s);

/* Every publisher ends its session (sc_pub_close), and the clock runs, every
 * agent with it, until all of them are closed (sc_pub_closed) or max_ns
 * passes. @return true if all closed. */
bool sim_close(struct sim *s, uint64_t max_ns);

/* The publisher goes away without a word more (no repairs, no SPMs). */
void sim_stop_publisher(struct sim *s);

/* A subscriber that joins now, with its own late-join policy. */
void sim_add_sub(struct sim *s, const struct sc_loss_params *loss, enum sc_late_join lj);

/* Publish n messages at `per_step` per clock step, running every agent. */
void sim_publish(struct sim *s, uint64_t n, unsigned per_step);

/* Run the clock until every subscriber has caught up with `want` messages of
 * the current publisher (deliveries + reported losses) or max_ns passes.
 * @return true if caught up. */
bool sim_drain(struct sim *s, uint64_t want, uint64_t max_ns);
void sim_run_for(struct sim *s, uint64_t ns);

/* The source a subscriber saw from the n-th publisher (0-based), or NULL. */
struct sim_source *sim_source(struct sim *s, unsigned sub, unsigned pub_index);

#endif
