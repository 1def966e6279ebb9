/* Hierarchical timing wheel (Varghese & Lauck) with intrusive timers.
 *
 * One tick is 1024 ns. Six levels of 64 slots; a slot of level l spans 64^l ticks:
 *
 *   level  slot width      span of the level
 *     0    1 tick (~1 us)       65 us
 *     1    64     (~66 us)      4.2 ms
 *     2    4096   (~4.2 ms)     268 ms
 *     3    2^18   (~268 ms)     17 s
 *     4    2^24   (~17 s)       18 min
 *     5    2^30   (~18 min)     19 h     (later expiries are clamped to this)
 *
 * A timer goes to the lowest level whose span covers its distance; when time
 * reaches a higher-level slot, its timers cascade down, so every timer fires at
 * its own tick (exact to ~1 us: NAK back-offs of tens of microseconds keep their
 * meaning). Arm and cancel are O(1); occupancy bitmaps let an advance skip
 * empty stretches instead of stepping every tick.
 */
#ifndef SC_ENGINE_TIMERWHEEL_H
#define SC_ENGINE_TIMERWHEEL_H

#include <stdbool.h>
#include <stdint.h>

#define SC_TW_LEVELS 6
#define SC_TW_SLOTS 64
#define SC_TW_TICK_SHIFT 10 /* ns per tick = 1024 */

struct sc_timer;
typedef void sc_timer_fn(struct sc_timer *t, uint64_t now_ns);

struct sc_timer { /* embedded in its owner; reach the owner with sc_container_of */
    struct sc_timer *next;
    struct sc_timer **pprev; /* NULL when not armed */
    uint64_t expires;        /* tick */
    sc_timer_fn *fn;
    uint8_t level, slot; /* where it is armed */
};

struct sc_tw {
    uint64_t tick; /* every timer with expires <= tick has fired */
    uint64_t next_tick; /* no timer fires or cascades before it (a lower bound):
                         * an expire before it returns at once */
    uint64_t occupied[SC_TW_LEVELS];
    struct sc_timer *slot[SC_TW_LEVELS][SC_TW_SLOTS];
    uint32_t armed;
};

void sc_tw_init(struct sc_tw *tw, uint64_t now_ns);
void sc_timer_init(struct sc_timer *t, sc_timer_fn *fn);

/* (Re-)arm t to fire at expires_ns; a time already past fires on the next expire. */
void sc_tw_arm(struct sc_tw *tw, struct sc_timer *t, uint64_t expires_ns);
void sc_tw_cancel(struct sc_tw *tw, struct sc_timer *t);

static inline bool
sc_timer_pending(const struct sc_timer *t)
{
    return t->pprev != 0;
}

/* When an armed timer fires (its tick, in ns; rounded down to a tick). */
static inline uint64_t
sc_timer_due_ns(const struct sc_timer *t)
{
    return t->expires << SC_TW_TICK_SHIFT;
}

/* Fire every timer due at now_ns, in expiry order. Callbacks may arm and
 * cancel timers. @return the number of timers fired. */
int sc_tw_expire(struct sc_tw *tw, uint64_t now_ns);

/* Earliest time anything can fire (a lower bound), UINT64_MAX when idle. */
uint64_t sc_tw_next_ns(const struct sc_tw *tw);

#endif
