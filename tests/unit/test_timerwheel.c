/* Timer wheel: exact expiry across every level, ordering, cancel, re-arm from
 * callbacks, and agreement with a brute-force model on random workloads. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "engine/compiler.h"
#include "engine/timerwheel.h"
#include "tests/support/testutil.h"

struct rec {
    struct sc_timer t;
    uint64_t want_ns;
    uint64_t fired_ns; /* now_ns passed to the callback */
    uint64_t fired_tick;
    int fired;
    struct sc_tw *tw;
};

static uint64_t last_tick;

static void
on_fire(struct sc_timer *t, uint64_t now_ns)
{
    struct rec *r = sc_container_of(t, struct rec, t);
    r->fired++;
    r->fired_ns = now_ns;
    r->fired_tick = r->tw->tick;
    cr_assert_geq(r->tw->tick, last_tick, "fired out of order");
    last_tick = r->tw->tick;
}

Test(timerwheel, fires_at_its_own_tick_on_every_level)
{
    static const uint64_t d[] = { 1,       500,      1024,     50000,     65000,   70000,
                                  4000000, 5000000,  268000000, 300000000, 17000000000ull,
                                  20000000000ull, 3600000000000ull };
    struct sc_tw tw;
    struct rec r[SC_ARRAY_SIZE(d)];
    const uint64_t t0 = 123456789;

    sc_tw_init(&tw, t0);
    last_tick = 0;
    for (size_t i = 0; i < SC_ARRAY_SIZE(d); i++) {
        memset(&r[i], 0, sizeof(r[i]));
        r[i].tw = &tw;
        sc_timer_init(&r[i].t, on_fire);
        r[i].want_ns = t0 + d[i];
        sc_tw_arm(&tw, &r[i].t, r[i].want_ns);
    }
    /* step time in uneven strides; every timer must fire exactly at its tick */
    for (uint64_t now = t0; now < t0 + 3700000000000ull; now += 333 + now % 777777)
        sc_tw_expire(&tw, now);
    sc_tw_expire(&tw, t0 + 3700000000000ull);
    for (size_t i = 0; i < SC_ARRAY_SIZE(d); i++) {
        uint64_t want_tick = r[i].want_ns >> SC_TW_TICK_SHIFT;
        cr_assert_eq(r[i].fired, 1, "timer %zu (+%llu ns) fired %d times", i,
                     (unsigned long long)d[i], r[i].fired);
        if (want_tick <= (t0 >> SC_TW_TICK_SHIFT))
            want_tick = (t0 >> SC_TW_TICK_SHIFT) + 1;
        cr_assert_eq(r[i].fired_tick, want_tick, "timer %zu at tick %llu, want %llu", i,
                     (unsigned long long)r[i].fired_tick, (unsigned long long)want_tick);
        cr_assert_geq(r[i].fired_ns, r[i].want_ns, "fired early");
    }
    cr_assert_eq(tw.armed, 0);
    cr_assert_eq(sc_tw_next_ns(&tw), UINT64_MAX);
}

Test(timerwheel, cancel_and_rearm)
{
    struct sc_tw tw;
    struct rec a = { .tw = &tw }, b = { .tw = &tw };

    sc_tw_init(&tw, 0);
    last_tick = 0;
    sc_timer_init(&a.t, on_fire);
    sc_timer_init(&b.t, on_fire);
    sc_tw_arm(&tw, &a.t, 1000000);
    sc_tw_arm(&tw, &b.t, 2000000);
    cr_assert(sc_timer_pending(&a.t));
    sc_tw_cancel(&tw, &a.t);
    cr_assert(!sc_timer_pending(&a.t));
    sc_tw_cancel(&tw, &a.t); /* twice is harmless */
    sc_tw_arm(&tw, &b.t, 500000); /* re-arm earlier */
    cr_assert_leq(sc_tw_next_ns(&tw), 500000);
    cr_assert_eq(sc_tw_expire(&tw, 499000), 0);
    cr_assert_eq(sc_tw_expire(&tw, 501000), 1);
    cr_assert_eq(b.fired, 1);
    cr_assert_eq(sc_tw_expire(&tw, 5000000), 0);
    cr_assert_eq(a.fired, 0);
    sc_tw_arm(&tw, &a.t, 1); /* in the past: fires on the next expire */
    cr_assert_eq(sc_tw_expire(&tw, 5001024), 1);
}

/* a timer that re-arms itself: a periodic 30 us tick for 10 ms */
static int periodic_count;
static struct sc_tw *periodic_tw;
static void
periodic(struct sc_timer *t, uint64_t now_ns)
{
    periodic_count++;
    if (periodic_count < 333)
        sc_tw_arm(periodic_tw, t, now_ns + 30000);
}

Test(timerwheel, callbacks_rearm)
{
    struct sc_tw tw;
    struct sc_timer t;

    sc_tw_init(&tw, 0);
    periodic_tw = &tw;
    sc_timer_init(&t, periodic);
    sc_tw_arm(&tw, &t, 30000);
    for (uint64_t now = 0; now <= 20000000; now += 1000)
        sc_tw_expire(&tw, now);
    cr_assert_eq(periodic_count, 333);
}

/* random arm/cancel/advance against a brute-force model: after every advance,
 * no due timer is still pending, and each timer fired exactly once, at its tick
 * (or the next tick when it was armed in the past) */
#define MODEL_MAX 400
static void
run_model(int N, uint64_t max_step_ns, uint64_t seed, int min_fired)
{
    static struct rec r[MODEL_MAX];
    static uint64_t due_tick[MODEL_MAX];
    static int armed[MODEL_MAX];
    struct sc_tw tw;
    uint64_t now = 1000000;
    int fired_total = 0, expected_total = 0;

    sc_tw_init(&tw, now);
    last_tick = 0;
    for (int i = 0; i < N; i++) {
        memset(&r[i], 0, sizeof(r[i]));
        armed[i] = 0;
        r[i].tw = &tw;
        sc_timer_init(&r[i].t, on_fire);
    }
    for (int step = 0; step < 20000; step++) {
        int i = (int)(tu_rand(&seed) % N);
        uint64_t op = tu_rand(&seed) % 10;
        if (op < 5) {
            uint64_t span = UINT64_C(1) << (tu_rand(&seed) % 36), w;
            r[i].want_ns = now + tu_rand(&seed) % span - (op == 0 ? tu_rand(&seed) % 5000 : 0);
            w = r[i].want_ns >> SC_TW_TICK_SHIFT;
            due_tick[i] = w > tw.tick ? w : tw.tick + 1;
            if (due_tick[i] - tw.tick > (UINT64_C(1) << 36) - 1)
                due_tick[i] = tw.tick + (UINT64_C(1) << 36) - 1;
            r[i].fired = 0;
            armed[i] = 1;
            sc_tw_arm(&tw, &r[i].t, r[i].want_ns);
        } else if (op < 6) {
            sc_tw_cancel(&tw, &r[i].t);
            armed[i] = 0;
        } else {
            now += tu_rand(&seed) % max_step_ns;
            fired_total += sc_tw_expire(&tw, now);
            for (int k = 0; k < N; k++) {
                if (!armed[k])
                    continue;
                if (due_tick[k] <= now >> SC_TW_TICK_SHIFT) {
                    cr_assert(!sc_timer_pending(&r[k].t), "timer %d due at tick %llu pending", k,
                              (unsigned long long)due_tick[k]);
                    cr_assert_eq(r[k].fired, 1);
                    cr_assert_eq(r[k].fired_tick, due_tick[k], "timer %d fired at %llu, want %llu",
                                 k, (unsigned long long)r[k].fired_tick,
                                 (unsigned long long)due_tick[k]);
                    armed[k] = 0;
                    expected_total++;
                } else {
                    cr_assert(sc_timer_pending(&r[k].t) && r[k].fired == 0, "timer %d early", k);
                }
            }
        }
    }
    cr_assert_eq(fired_total, expected_total);
    cr_assert_gt(expected_total, min_fired);
}

Test(timerwheel, matches_a_model)
{
    run_model(400, 200000, 99, 1000);
}

/* A few timers and small steps, as in a subscriber's busy loop: most expires
 * find nothing due and return from the cached next event (next_tick), which
 * must never hide a due timer or a cascade, whatever arm and cancel did. */
Test(timerwheel, matches_a_model_with_few_timers_and_small_steps)
{
    run_model(3, 3000, 5, 300);
    run_model(1, 700, 6, 50);
    run_model(8, 70000, 7, 1000);
}
