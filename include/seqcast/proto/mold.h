/* MoldUDP64 1.00 blocks: the batched payload of seqcast's ODATA.
 *
 *   0          10                 18      20
 *   | session  | first sequence   | count | len | msg | len | msg | ...
 *
 * count 0 is a heartbeat, 0xFFFF the end of session (both header only, the
 * sequence is then the next expected one); 1..65534 messages otherwise. The
 * parser validates the whole block up front (every length prefix inside the
 * datagram, count blocks exactly filling it), so iteration cannot fail halfway
 * and a consumer never delivers half a packet.
 */
#ifndef SC_PROTO_MOLD_H
#define SC_PROTO_MOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "perr.h"

#define SC_MOLD_HDR_LEN 20
#define SC_MOLD_SESSION_LEN 10
#define SC_MOLD_COUNT_HEARTBEAT 0
#define SC_MOLD_COUNT_EOS 0xFFFF
#define SC_MOLD_MAX_COUNT 0xFFFE
#define SC_MOLD_REQUEST_LEN 20

struct sc_mold_hdr {
    uint8_t session[SC_MOLD_SESSION_LEN];
    uint64_t seq;   /* sequence of the first message (next expected for HB/EOS) */
    uint16_t count; /* messages; 0 heartbeat; 0xFFFF end of session */
};

/* Encoder appending messages into a caller buffer. */
struct sc_mold_enc {
    uint8_t *buf;
    size_t cap;
    size_t len;
    uint16_t count;
};

/* Start a block in buf (writes the header with count 0).
 * @return 0, or SC_PERR_NOSPACE if cap < SC_MOLD_HDR_LEN. */
int sc_mold_enc_init(struct sc_mold_enc *e, uint8_t *buf, size_t cap,
                     const uint8_t session[SC_MOLD_SESSION_LEN], uint64_t first_seq);

/* Bytes a message of len takes in a block. */
static inline size_t
sc_mold_msg_size(uint16_t len)
{
    return 2u + len;
}

/* (a copy of up to 64 bytes in overlapping 16-, 8- or 4-byte moves, no call:
 * a library memcpy of a 32-byte message cost the publisher 15 instructions of
 * its ~150 a message -- callgrind, bench/instr.sh. Every move stays inside
 * [0, n); GCC's -Warray-bounds and -Wstringop-overread, not knowing n, warned
 * for callers' shorter buffers, hence the pragmas.) */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wstringop-overread"
#endif
static inline void
sc_mold_copy_(uint8_t *d, const uint8_t *s, size_t n)
{
    if (n > 64) {
        memcpy(d, s, n);
    } else if (n >= 16) {
        memcpy(d, s, 16);
        memcpy(d + n - 16, s + n - 16, 16);
        if (n > 32) {
            memcpy(d + 16, s + 16, 16);
            memcpy(d + n - 32, s + n - 32, 16);
        }
    } else if (n >= 8) {
        memcpy(d, s, 8);
        memcpy(d + n - 8, s + n - 8, 8);
    } else if (n >= 4) {
        memcpy(d, s, 4);
        memcpy(d + n - 4, s + n - 4, 4);
    } else {
        for (size_t i = 0; i < n; i++)
            d[i] = s[i];
    }
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/* Append one message. @return 0, SC_PERR_NOSPACE (does not fit; the block is
 * unchanged) or SC_PERR_OVERSIZE (the block already holds 65534 messages).
 * (Inline: it is the publisher's per-message path.) */
static inline int
sc_mold_enc_add(struct sc_mold_enc *e, const void *msg, uint16_t len)
{
    uint8_t *p;

    if (e->count >= SC_MOLD_MAX_COUNT)
        return SC_PERR_OVERSIZE;
    if (e->cap - e->len < sc_mold_msg_size(len))
        return SC_PERR_NOSPACE;
    p = e->buf + e->len;
    p[0] = (uint8_t)(len >> 8);
    p[1] = (uint8_t)len;
    sc_mold_copy_(p + 2, (const uint8_t *)msg, len);
    e->len += sc_mold_msg_size(len);
    e->count++;
    e->buf[18] = (uint8_t)(e->count >> 8);
    e->buf[19] = (uint8_t)e->count;
    return 0;
}

/* Header-only packets: heartbeat (count 0) and end of session (0xFFFF). */
int sc_mold_encode_hdr(uint8_t *buf, size_t cap, const struct sc_mold_hdr *h);

/* A re-request packet (listener -> server): session, first seq, count. */
int sc_mold_encode_request(uint8_t *buf, size_t cap, const struct sc_mold_hdr *h);
int sc_mold_decode_request(const uint8_t *buf, size_t len, struct sc_mold_hdr *h);

struct sc_mold_iter {
    const uint8_t *p;
    const uint8_t *end;
    uint16_t left;
    uint64_t seq;
};

/* Validate a downstream block and start iterating its messages.
 * @return 0, or SC_PERR_SHORT (under 20 bytes), SC_PERR_LENGTH (a length prefix
 *         runs past the datagram, the blocks do not fill it exactly, or a
 *         heartbeat/EOS carries data), SC_PERR_OVERSIZE (sequence range wraps 2^64).
 */
int sc_mold_iter_init(struct sc_mold_iter *it, const uint8_t *buf, size_t len,
                      struct sc_mold_hdr *hdr);

/* Next message; false when the block is exhausted. (Inline: the subscriber's
 * per-message path; sc_mold_iter_init validated every length.) */
static inline bool
sc_mold_iter_next(struct sc_mold_iter *it, uint64_t *seq, const uint8_t **msg, uint16_t *len)
{
    if (it->left == 0)
        return false;
    *len = (uint16_t)(it->p[0] << 8 | it->p[1]);
    *msg = it->p + 2;
    *seq = it->seq++;
    it->p += 2u + *len;
    it->left--;
    return true;
}

#endif
