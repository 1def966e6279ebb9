/* 32-bit serial-number arithmetic (RFC 1982 style) for PGM sequence fields.
 *
 * PGM's data, SPM and NAK sequence numbers are 32 bits on the wire and wrap. The
 * engine keeps 64-bit sequences everywhere; the only place a 32-bit value is
 * compared or widened is here. "a < b" means b is ahead of a by less than half
 * the number space; computed with unsigned arithmetic, so there is no signed
 * overflow anywhere.
 */
#ifndef SC_PROTO_SEQ_H
#define SC_PROTO_SEQ_H

#include <stdbool.h>
#include <stdint.h>

static inline bool
sc_seq32_lt(uint32_t a, uint32_t b)
{
    return ((a - b) & UINT32_C(0x80000000)) != 0;
}

static inline bool
sc_seq32_le(uint32_t a, uint32_t b)
{
    return a == b || sc_seq32_lt(a, b);
}

static inline bool
sc_seq32_gt(uint32_t a, uint32_t b)
{
    return sc_seq32_lt(b, a);
}

static inline bool
sc_seq32_ge(uint32_t a, uint32_t b)
{
    return a == b || sc_seq32_lt(b, a);
}

/* Signed distance b - a, valid while |b - a| < 2^31. */
static inline int32_t
sc_seq32_diff(uint32_t a, uint32_t b)
{
    uint32_t d = b - a;
    return d < UINT32_C(0x80000000) ? (int32_t)d : -(int32_t)(UINT32_C(0xFFFFFFFF) - d) - 1;
}

/* Widen a 32-bit wire sequence to the 64-bit sequence nearest to ref.
 * ref is a 64-bit sequence the caller already holds (e.g. the window lead).
 * Results below zero are clamped to the value's own epoch-0 reading.
 */
static inline uint64_t
sc_seq32_widen(uint64_t ref, uint32_t s)
{
    int64_t d = sc_seq32_diff((uint32_t)ref, s);
    if (d < 0 && (uint64_t)(-d) > ref)
        return s;
    return (uint64_t)((int64_t)ref + d);
}

#endif
