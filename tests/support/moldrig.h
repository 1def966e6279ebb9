/* A MoldUDP64 publisher on the in-process network, watched by a scripted
 * listener: an integer clock, every packet the publisher sends recorded with
 * the time it left, requests injected from any address and port. The tests
 * of the publisher side of MoldUDP64 channels (tests/sim/test_mold_pub.c,
 * tests/sim/test_hostile.c) read what it recorded.
 *
 *   publisher 198.18.0.1 ──multicast──> listener (group)           mc[]
 *                        └─(group_b)──> listener (group_b)         mcb[]
 *                        └─unicast────> 198.18.1.1:40001           uc[]
 *                        <─requests─── anyone (rig_request)
 */
#ifndef SC_TESTS_MOLDRIG_H
#define SC_TESTS_MOLDRIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <seqcast/config.h>
#include <seqcast/proto/mold.h>
#include <seqcast/pub.h>

#include "engine/transport/transport.h"

#define RIG_PUB_ADDR "198.18.0.1"
#define RIG_LST_ADDR "198.18.1.1" /* the listener's unicast address ... */
#define RIG_LST_PORT 40001        /* ... and the port its requests leave from */
#define RIG_SESSION "SEQCAST01"   /* mold.session of rig_channel (9 characters: padded) */
#define RIG_MS UINT64_C(1000000)
#define RIG_S UINT64_C(1000000000)

struct rig_pkt {
    uint64_t t;          /* when it left (the clock of the do_work that sent it) */
    uint32_t to;         /* group, or the unicast address it reached */
    uint16_t to_port;
    uint16_t len;
    struct sc_mold_hdr h;
    bool valid;          /* a well-formed downstream packet (sc_mold_iter_init) */
    uint8_t *data;       /* a copy of the UDP payload */
};

struct rig_list {
    struct rig_pkt *p;
    size_t n, cap;
    bool discard;         /* count only: nothing kept (a long run, memory measured) */
    uint64_t seen, msgs;  /* packets, and messages in data packets, kept or not */
};

struct rig {
    struct sc_memnet *net;
    struct sc_channel_cfg ch;
    struct sc_pub *pub;
    struct sc_xport *pub_x; /* the publisher's transport (under any wrapper) */
    struct sc_xport *mc, *mcb, *uc;
    uint64_t now, step_ns;
    uint64_t sent;  /* messages published (message n has sequence n) */
    size_t size;    /* message size; 0 = msggen's mixed sizes */
    struct rig_list mcq, mcbq, ucq; /* what reached the group, group_b and the listener */
};

/* The lan channel with protocol: moldudp64 and mold.session RIG_SESSION. */
void rig_channel(struct sc_channel_cfg *ch);

/* A rig for ch; wrap, when set, wraps the publisher's transport (a recorder). */
void rig_init(struct rig *r, const struct sc_channel_cfg *ch,
              int (*wrap)(struct sc_xport **out, struct sc_xport *inner, void *arg), void *arg);
void rig_fini(struct rig *r);

/* One clock step: the publisher's do_work, then everything it sent recorded. */
void rig_tick(struct rig *r);
void rig_run_for(struct rig *r, uint64_t ns);
/* Ticks until the clock reaches t. */
void rig_run_until(struct rig *r, uint64_t t);

/* Publish n more messages at the current time (msggen content, r->size), then
 * flush: they leave with the next tick. */
void rig_publish(struct rig *r, uint64_t n);

/* A 20-byte request as from addr:port, to the publisher's data port. */
void rig_request(struct rig *r, uint32_t addr, uint16_t port, const char *session,
                 uint64_t seq, uint16_t count);
/* Any bytes, as from addr:port, to the publisher's data port. */
void rig_inject(struct rig *r, uint32_t addr, uint16_t port, const void *data, uint16_t len);

/* The listener's address, network order. */
uint32_t rig_lst(void);

/* Every message block of p is message m of msggen (its sequence), of r's
 * size: @return true, else false with why filled. */
bool rig_check_blocks(const struct rig *r, const struct rig_pkt *p, char *why, size_t len);

/* Forget what was recorded. */
void rig_clear(struct rig *r);

/* Packets of a list with count c (SC_MOLD_COUNT_HEARTBEAT, _EOS), or data
 * packets (c = 1: any count in 1..65534). */
size_t rig_count(const struct rig_list *l, unsigned c);

#endif
