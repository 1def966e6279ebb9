/* Compiler helpers for engine hot paths. */
#ifndef SC_ENGINE_COMPILER_H
#define SC_ENGINE_COMPILER_H

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define SC_CACHE_LINE 64
#define SC_CACHE_ALIGNED __attribute__((aligned(SC_CACHE_LINE)))
#define SC_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define sc_container_of(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))
#define sc_container_of_const(ptr, type, member)                                          \
    ((const type *)(const void *)((const char *)(ptr) - offsetof(type, member)))

#include <stddef.h>
#include <stdint.h>

static inline uint64_t
sc_pow2_roundup(uint64_t v)
{
    return v <= 1 ? 1 : UINT64_C(1) << (64 - __builtin_clzll(v - 1));
}

/* xorshift64*: the engine's only randomness, seeded per object (tests pass seeds). */
static inline uint64_t
sc_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

#endif
