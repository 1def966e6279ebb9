#include "engine/timerwheel.h"

#include <string.h>

#define LEVEL_SHIFT 6
#define MAX_DELTA ((UINT64_C(1) << (LEVEL_SHIFT * SC_TW_LEVELS)) - 1)

void
sc_tw_init(struct sc_tw *tw, uint64_t now_ns)
{
    memset(tw, 0, sizeof(*tw));
    tw->tick = now_ns >> SC_TW_TICK_SHIFT;
    tw->next_tick = UINT64_MAX;
}

void
sc_timer_init(struct sc_timer *t, sc_timer_fn *fn)
{
    t->next = NULL;
    t->pprev = NULL;
    t->expires = 0;
    t->fn = fn;
}

static void
unlink_timer(struct sc_tw *tw, struct sc_timer *t, unsigned level, unsigned slot)
{
    *t->pprev = t->next;
    if (t->next)
        t->next->pprev = t->pprev;
    t->next = NULL;
    t->pprev = NULL;
    if (!tw->slot[level][slot])
        tw->occupied[level] &= ~(UINT64_C(1) << slot);
    tw->armed--;
}

static void
place(struct sc_tw *tw, struct sc_timer *t)
{
    uint64_t delta = t->expires - tw->tick;
    unsigned level = 0, slot;
    struct sc_timer **head;

    if (delta > MAX_DELTA) {
        delta = MAX_DELTA;
        t->expires = tw->tick + delta;
    }
    while (delta >> (LEVEL_SHIFT * (level + 1)))
        level++;
    slot = (unsigned)(t->expires >> (LEVEL_SHIFT * level)) & (SC_TW_SLOTS - 1);
    { /* its event: the tick it fires at (level 0), or its slot's start, where it cascades */
        uint64_t ev = t->expires >> (LEVEL_SHIFT * level) << (LEVEL_SHIFT * level);
        if (ev < tw->next_tick)
            tw->next_tick = ev;
    }
    head = &tw->slot[level][slot];
    t->next = *head;
    if (t->next)
        t->next->pprev = &t->next;
    *head = t;
    t->pprev = head;
    tw->occupied[level] |= UINT64_C(1) << slot;
    t->level = (uint8_t)level;
    t->slot = (uint8_t)slot;
    tw->armed++;
}

void
sc_tw_cancel(struct sc_tw *tw, struct sc_timer *t)
{
    if (t->pprev)
        unlink_timer(tw, t, t->level, t->slot);
}

void
sc_tw_arm(struct sc_tw *tw, struct sc_timer *t, uint64_t expires_ns)
{
    uint64_t e = expires_ns >> SC_TW_TICK_SHIFT;

    sc_tw_cancel(tw, t);
    t->expires = e > tw->tick ? e : tw->tick + 1;
    place(tw, t);
}

/* The first tick after tw->tick at which level l has work (a slot to fire at
 * level 0, a slot to cascade above), or UINT64_MAX. */
static uint64_t
next_event(const struct sc_tw *tw, unsigned l)
{
    unsigned sh = LEVEL_SHIFT * l;
    uint64_t pos = (tw->tick >> sh) + 1, rot, bits = tw->occupied[l];
    unsigned r = (unsigned)(pos & (SC_TW_SLOTS - 1));

    if (!bits)
        return UINT64_MAX;
    rot = r ? (bits >> r) | (bits << (SC_TW_SLOTS - r)) : bits;
    return (pos + (uint64_t)__builtin_ctzll(rot)) << sh;
}

uint64_t
sc_tw_next_ns(const struct sc_tw *tw)
{
    uint64_t best = UINT64_MAX;

    for (unsigned l = 0; l < SC_TW_LEVELS; l++) {
        uint64_t e = next_event(tw, l);
        if (e < best)
            best = e;
    }
    return best == UINT64_MAX ? best : best << SC_TW_TICK_SHIFT;
}

int
sc_tw_expire(struct sc_tw *tw, uint64_t now_ns)
{
    const uint64_t target = now_ns >> SC_TW_TICK_SHIFT;
    int fired = 0;

    /* The common call -- a busy loop, or a packet's arrival -- finds nothing
     * due: one comparison instead of a scan of the six levels' bitmaps. */
    if (target < tw->next_tick) {
        if (tw->tick < target)
            tw->tick = target; /* nothing happens in between */
        return 0;
    }
    while (tw->tick < target && tw->armed) {
        uint64_t t = UINT64_MAX;
        unsigned s0;

        for (unsigned l = 0; l < SC_TW_LEVELS; l++) {
            uint64_t e = next_event(tw, l);
            if (e < t)
                t = e;
        }
        if (t > target) {
            tw->next_tick = t; /* exact: nothing has run since it was found */
            break;
        }
        tw->tick = t;
        /* cascade every level whose slot boundary this tick is, highest first */
        for (unsigned l = SC_TW_LEVELS - 1; l >= 1; l--) {
            unsigned sh = LEVEL_SHIFT * l, s;
            struct sc_timer *list;
            if (t & ((UINT64_C(1) << sh) - 1))
                continue;
            s = (unsigned)(t >> sh) & (SC_TW_SLOTS - 1);
            list = tw->slot[l][s];
            tw->slot[l][s] = NULL;
            tw->occupied[l] &= ~(UINT64_C(1) << s);
            while (list) {
                struct sc_timer *n = list->next;
                tw->armed--;
                place(tw, list);
                list = n;
            }
        }
        /* fire level 0's slot for this tick */
        s0 = (unsigned)t & (SC_TW_SLOTS - 1);
        while (tw->slot[0][s0]) {
            struct sc_timer *x = tw->slot[0][s0];
            unlink_timer(tw, x, 0, s0);
            x->fn(x, now_ns);
            fired++;
        }
    }
    if (!tw->armed)
        tw->next_tick = UINT64_MAX;
    else if (tw->next_tick <= tw->tick)
        tw->next_tick = tw->tick + 1; /* (stale) a lower bound; the next call refines it */
    if (tw->tick < target)
        tw->tick = target;
    return fired;
}
