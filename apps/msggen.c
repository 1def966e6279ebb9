#include "apps/msggen.h"

size_t
sc_msggen_size(uint64_t seq, size_t size)
{
    if (size)
        return size;
    return seq % 1000 == 999 ? 3000 : 8 + (size_t)(seq % 57); /* now and then, a big one */
}

static uint8_t
byte_at(uint64_t seq, size_t i)
{
    if (i < 8)
        return (uint8_t)(seq >> (56 - 8 * i));
    return (uint8_t)(seq * 131u + i * 7u + (seq >> 8));
}

void
sc_msggen_fill(uint64_t seq, uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = byte_at(seq, i);
}

bool
sc_msggen_check(uint64_t seq, const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (buf[i] != byte_at(seq, i))
            return false;
    return true;
}
