/* The Internet checksum (RFC 1071), shared by PGM (RFC 3208 s.8) and IPv4.
 *
 * sc_csum_partial() accumulates a 32-bit one's-complement partial sum over a
 * buffer (any length, any alignment), to be chained over several pieces and
 * finished with sc_csum_fold(). Pieces after the first must start at an even
 * offset of the checksummed whole.
 */
#ifndef SC_PROTO_CSUM_H
#define SC_PROTO_CSUM_H

#include <stddef.h>
#include <stdint.h>

uint32_t sc_csum_partial(const void *buf, size_t len, uint32_t sum);

/* Fold a partial sum to 16 bits and complement it: the value that goes on the
 * wire (in host order; store it with sc_store_be16). */
static inline uint16_t
sc_csum_fold(uint32_t sum)
{
    sum = (sum & 0xFFFF) + (sum >> 16);
    sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)~sum;
}

/* RFC 1624 incremental update: the checksum after one 16-bit word of the
 * covered data changed from old to new. */
static inline uint16_t
sc_csum_update16(uint16_t csum, uint16_t old, uint16_t new_)
{
    uint32_t sum = (uint16_t)~csum + (uint32_t)(uint16_t)~old + new_;
    return sc_csum_fold(sum);
}

#endif
