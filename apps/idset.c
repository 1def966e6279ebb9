#include "apps/idset.h"

#include <stdlib.h>

static void
put(uint64_t *slot, uint64_t mask, uint64_t key)
{
    uint64_t h = (key * 0x9E3779B97F4A7C15ull) & mask;
    while (slot[h])
        h = (h + 1) & mask;
    slot[h] = key;
}

bool
sc_idset_add(struct sc_idset *s, uint64_t id)
{
    uint64_t key = id + 1, h;

    if (!s->slot || (s->n + 1) * 2 > s->mask + 1) {
        uint64_t cap = s->slot ? 2 * (s->mask + 1) : 1024;
        uint64_t *n = calloc(cap, sizeof(*n));
        if (!n)
            abort();
        for (uint64_t i = 0; s->slot && i <= s->mask; i++)
            if (s->slot[i])
                put(n, cap - 1, s->slot[i]);
        free(s->slot);
        s->slot = n;
        s->mask = cap - 1;
    }
    for (h = (key * 0x9E3779B97F4A7C15ull) & s->mask; s->slot[h]; h = (h + 1) & s->mask)
        if (s->slot[h] == key)
            return false;
    s->slot[h] = key;
    s->n++;
    return true;
}

void
sc_idset_free(struct sc_idset *s)
{
    free(s->slot);
    s->slot = NULL;
}
