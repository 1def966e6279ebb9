#include "apps/idset.h"

#include <stdlib.h>

static uint64_t
home(uint64_t key, uint64_t mask)
{
    return (key * 0x9E3779B97F4A7C15ull) & mask;
}

static void
put(uint64_t *slot, uint64_t mask, uint64_t key)
{
    uint64_t h = home(key, mask);
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
    for (h = home(key, s->mask); s->slot[h]; h = (h + 1) & s->mask)
        if (s->slot[h] == key)
            return false;
    s->slot[h] = key;
    s->n++;
    return true;
}

static uint64_t *
find(const struct sc_idset *s, uint64_t key)
{
    if (!s->slot)
        return NULL;
    for (uint64_t h = home(key, s->mask); s->slot[h]; h = (h + 1) & s->mask)
        if (s->slot[h] == key)
            return &s->slot[h];
    return NULL;
}

bool
sc_idset_has(const struct sc_idset *s, uint64_t id)
{
    return find(s, id + 1) != NULL;
}

/* Linear probing without tombstones: after emptying a slot, move back any
 * later key of the run whose home does not lie cyclically in (hole, its slot]. */
bool
sc_idset_del(struct sc_idset *s, uint64_t id)
{
    uint64_t *p = find(s, id + 1), hole, i;

    if (!p)
        return false;
    hole = (uint64_t)(p - s->slot);
    s->slot[hole] = 0;
    s->n--;
    for (i = (hole + 1) & s->mask; s->slot[i]; i = (i + 1) & s->mask) {
        uint64_t h = home(s->slot[i], s->mask);
        if (((i - h) & s->mask) >= ((i - hole) & s->mask)) {
            s->slot[hole] = s->slot[i];
            s->slot[i] = 0;
            hole = i;
        }
    }
    return true;
}

void
sc_idset_free(struct sc_idset *s)
{
    free(s->slot);
    s->slot = NULL;
}
