/* Big-endian (network order) loads and stores on possibly unaligned buffers.
 *
 * Every wire field in PGM, MoldUDP64, SoupBinTCP and IPv4 is big-endian. Buffers
 * come straight off the network at arbitrary offsets, so fields are read through
 * memcpy (which the compiler turns into a single load) and never by casting.
 */
#ifndef SC_PROTO_ENDIAN_H
#define SC_PROTO_ENDIAN_H

#include <stdint.h>
#include <string.h>

static inline uint16_t
sc_load_be16(const void *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof(v));
    return __builtin_bswap16(v);
}

static inline uint32_t
sc_load_be32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return __builtin_bswap32(v);
}

static inline uint64_t
sc_load_be64(const void *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return __builtin_bswap64(v);
}

static inline void
sc_store_be16(void *p, uint16_t v)
{
    v = __builtin_bswap16(v);
    memcpy(p, &v, sizeof(v));
}

static inline void
sc_store_be32(void *p, uint32_t v)
{
    v = __builtin_bswap32(v);
    memcpy(p, &v, sizeof(v));
}

static inline void
sc_store_be64(void *p, uint64_t v)
{
    v = __builtin_bswap64(v);
    memcpy(p, &v, sizeof(v));
}

#endif
