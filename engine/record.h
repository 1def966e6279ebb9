/* The sequenced record on disk, shared by the order journal (engine/journal.c)
 * and the archive's segments (engine/archive/store.c): one encoder, one
 * verifier, one recovery scan.
 *
 *   v2 record:  length u32 BE | sequence u64 BE | CRC-32 u32 BE | payload
 *               the CRC covers length, sequence and payload: a damaged header,
 *               a record out of place and zero-filled blocks all fail it
 *   v1 record:  length u32 BE | CRC-32 of the payload u32 BE | payload
 *
 * The length field's low 16 bits are the payload's length (at most 65,535);
 * its high bits are flags a file format may allow (flags_ok): the archive's
 * SC_REC_GAP. A reader that allows none (the journal) takes a flagged record
 * for a record with an impossible length.
 *
 * Sequence rule of a scan: contiguous (the journal: the n-th record carries
 * first + n - 1) or increasing (the archive: each record's sequence is above
 * the last one's end; a record may cover several sequences, see sc_rec_span).
 */
#ifndef SC_ENGINE_RECORD_H
#define SC_ENGINE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SC_REC_V1_HDR 8
#define SC_REC_V2_HDR 16
#define SC_REC_MAX_LEN 65535u
#define SC_REC_LEN_MASK 0xFFFFu
/* a gap record: its payload is the number of sequences it covers (u64 BE,
 * from its own sequence on), none of which the file holds */
#define SC_REC_GAP 0x80000000u

/* CRC-32 (IEEE 802.3, reflected), continuing from c (0 to start) */
uint32_t sc_crc32(uint32_t c, const void *p, size_t n);

static inline size_t
sc_rec_hdr_len(int version)
{
    return version == 1 ? SC_REC_V1_HDR : SC_REC_V2_HDR;
}

/* Write the header of a record at h, its payload (len bytes, at payload) being
 * already in place or elsewhere. lenf: the length with its flags. */
void sc_rec_put_header(uint8_t *h, int version, uint64_t seq, const uint8_t *payload,
                       uint32_t lenf);
/* Does the header h (hdr_len bytes) match payload? (v2: also carrying seq,
 * unless seq is 0) */
bool sc_rec_check(const uint8_t *h, int version, uint64_t seq, const uint8_t *payload);

/* A record as read back */
struct sc_rec {
    uint64_t seq;           /* v2; v1: its position */
    uint32_t flags;         /* the length field's high bits */
    uint32_t len;           /* payload bytes */
    const uint8_t *payload;
};

/* The last sequence a record covers: seq, or for a gap record seq + count - 1 */
uint64_t sc_rec_span_end(const struct sc_rec *r);

/* Is there a valid record at pos of m[0, size)? want_seq: the sequence it must
 * carry (v2), or 0 to accept any in [lo, hi]. @return its size (header +
 * payload) with *r filled, or 0 with *why saying what is wrong. */
uint64_t sc_rec_at(const uint8_t *m, uint64_t size, uint64_t pos, int version, uint32_t flags_ok,
                   uint64_t want_seq, uint64_t lo, uint64_t hi, struct sc_rec *r, const char **why);

struct sc_rec_scan {
    uint64_t records;   /* good records from start */
    uint64_t good_end;  /* where they end */
    uint64_t last;      /* the last sequence they cover (first - 1 if none) */
    const char *why;    /* what is wrong at good_end, if it is not the end */
    bool damaged;       /* a valid record follows the bad one */
    uint64_t next_good; /* the first one's offset */
    uint64_t next_seq;  /* ... and sequence */
    uint64_t after;     /* valid records after the bad one */
};

/* Called for each good record in order; a negative return stops the scan with it. */
typedef int (*sc_rec_fn)(void *arg, uint64_t pos, const struct sc_rec *r);

/* Walk the records of m[start, size) -- the first carrying first (contiguous)
 * or at least first (increasing) -- calling fn on each good one, and classify
 * what stops the walk: the end, a torn tail (nothing valid after the bad
 * record) or damage (a valid record follows it; the search accepts sequences
 * above the last good one -- contiguous: bounded by the bytes left). */
int sc_rec_scan(const uint8_t *m, uint64_t size, uint64_t start, int version, uint32_t flags_ok,
                bool contiguous, uint64_t first, sc_rec_fn fn, void *arg, struct sc_rec_scan *out);

#endif
