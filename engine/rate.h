/* Token buckets for the publisher's limits: the data rate and the repair rate
 * (bits of IP datagram, counted alike by sc_wire_bits) and the NCF rate
 * (packets). One implementation, so the limits cannot drift apart.
 *
 *   tokens ──(rate per second, fractions carried)──> at most depth
 *   take(cost): only when tokens >= cost; a refused take leaves tokens as they are
 *
 * A bucket starts full. Refilling keeps the remainder of rate × elapsed that
 * did not make a whole token, so calling it every microsecond adds as much as
 * calling it once a second (a per-call truncation let a 100 kbit/s bucket
 * refilled every microsecond never refill at all).
 */
#ifndef SC_ENGINE_RATE_H
#define SC_ENGINE_RATE_H

#include <stdbool.h>
#include <stdint.h>

#define SC_IP_UDP_OVERHEAD 28 /* IPv4 header (no options) + UDP header */
#define SC_NS_PER_S UINT64_C(1000000000)

/* Bits a PGM packet of pgm_len bytes puts on the wire as an IP datagram: what
 * data_rate and rtx.rate both count. */
static inline uint64_t
sc_wire_bits(uint32_t pgm_len)
{
    return ((uint64_t)pgm_len + SC_IP_UDP_OVERHEAD) * 8;
}

struct sc_tbucket {
    uint64_t rate;    /* tokens per second; 0 = unlimited */
    uint64_t depth;   /* most tokens held */
    uint64_t tokens;
    uint64_t frac;    /* rate × ns not yet a whole token (< SC_NS_PER_S) */
    uint64_t last_ns; /* last refill; 0 = never (full) */
};

/* depth is raised to min_depth when smaller. */
static inline void
sc_tbucket_init(struct sc_tbucket *b, uint64_t rate, uint64_t depth, uint64_t min_depth)
{
    b->rate = rate;
    b->depth = depth > min_depth ? depth : min_depth;
    b->tokens = b->depth;
    b->frac = 0;
    b->last_ns = 0;
}

static inline void
sc_tbucket_refill(struct sc_tbucket *b, uint64_t now_ns)
{
    uint64_t dt;

    if (!b->rate)
        return;
    if (!b->last_ns || now_ns < b->last_ns) { /* first use, or a clock that went back */
        b->last_ns = now_ns ? now_ns : 1;
        return;
    }
    dt = now_ns - b->last_ns;
    b->last_ns = now_ns;
    if (dt >= SC_NS_PER_S) {
        b->tokens = b->depth;
        b->frac = 0;
        return;
    }
    {
        unsigned __int128 add = (unsigned __int128)b->rate * dt + b->frac;
        uint64_t whole = (uint64_t)(add / SC_NS_PER_S);
        b->frac = (uint64_t)(add % SC_NS_PER_S);
        b->tokens = whole >= b->depth - b->tokens ? b->depth : b->tokens + whole;
        if (b->tokens == b->depth)
            b->frac = 0;
    }
}

/* Take cost tokens if there are that many. Unlimited buckets always give. */
static inline bool
sc_tbucket_take(struct sc_tbucket *b, uint64_t cost)
{
    if (!b->rate)
        return true;
    if (b->tokens < cost)
        return false;
    b->tokens -= cost;
    return true;
}

/* Give back tokens taken for something that did not happen after all. */
static inline void
sc_tbucket_give(struct sc_tbucket *b, uint64_t cost)
{
    b->tokens = cost >= b->depth - b->tokens ? b->depth : b->tokens + cost;
}

/* When the bucket will hold cost tokens (its last refill time if it does
 * already, UINT64_MAX if it never can). */
static inline uint64_t
sc_tbucket_when(const struct sc_tbucket *b, uint64_t cost)
{
    unsigned __int128 need;

    if (!b->rate || b->tokens >= cost)
        return b->last_ns;
    if (cost > b->depth)
        return UINT64_MAX;
    need = (unsigned __int128)(cost - b->tokens) * SC_NS_PER_S - b->frac;
    return b->last_ns + (uint64_t)((need + b->rate - 1) / b->rate);
}

#endif
