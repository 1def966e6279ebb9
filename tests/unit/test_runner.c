/* The runner: one clock reading per cycle for every agent, agents in the order
 * added, each strategy's idling (sleep until the earliest deadline or input;
 * one agent sleeps in its own wait; a poll-mode agent forces a spin; an agent
 * without input -- an application's -- neither spins nor keeps the one with
 * input from its wait), stop conditions. Fake agents count calls; a pipe is
 * their input. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <seqcast/agent.h>

struct fake {
    int calls, waits;
    uint64_t last_now;
    uint64_t deadline_in; /* deadline = now + this (UINT64_MAX: none) */
    int work;             /* what do_work reports */
    int pipe[2];          /* input; -1: a poll-mode agent */
    bool own_wait;        /* offers wait() */
    bool no_input;        /* offers neither wait() nor fd() */
    int *order, *norder, id;
};

static int
f_work(void *self, uint64_t now)
{
    struct fake *f = self;
    char b[64];

    f->calls++;
    f->last_now = now;
    if (f->order)
        f->order[(*f->norder)++] = f->id;
    if (f->pipe[0] >= 0)
        while (read(f->pipe[0], b, sizeof(b)) > 0)
            ;
    return f->work;
}

static uint64_t
f_deadline(const void *self, uint64_t now)
{
    const struct fake *f = self;
    return f->deadline_in == UINT64_MAX ? UINT64_MAX : now + f->deadline_in;
}

static int
f_fd(const void *self)
{
    return ((const struct fake *)self)->pipe[0];
}

static int
f_wait(void *self, uint64_t ns)
{
    struct fake *f = self;
    (void)ns;
    f->waits++;
    return 0;
}

static const struct sc_agent_ops ops = { "fake", f_work, f_deadline, NULL, f_fd };
static const struct sc_agent_ops ops_wait = { "fake", f_work, f_deadline, f_wait, f_fd };
static const struct sc_agent_ops ops_app = { "app", f_work, f_deadline, NULL, NULL };

static struct fake
fake(bool with_input)
{
    struct fake f = { .deadline_in = UINT64_MAX, .pipe = { -1, -1 } };
    if (with_input)
        cr_assert_eq(pipe2(f.pipe, O_NONBLOCK), 0);
    return f;
}

static struct sc_agent
agent(struct fake *f)
{
    return (struct sc_agent){ f->no_input ? &ops_app : f->own_wait ? &ops_wait : &ops, f };
}

static uint64_t
elapsed_since(uint64_t t0)
{
    return sc_clock_now() - t0;
}

Test(runner, one_cycle_calls_every_agent_once_in_order_with_one_time)
{
    struct sc_runner *r;
    struct fake a = fake(true), b = fake(true);
    int order[8], n = 0;

    a.order = b.order = order;
    a.norder = b.norder = &n;
    a.id = 1;
    b.id = 2;
    a.work = 3;
    b.work = 4;
    cr_assert_eq(sc_runner_create(&r, SC_IDLE_SPIN, NULL), 0);
    cr_assert_eq(sc_runner_add(r, agent(&a)), 0);
    cr_assert_eq(sc_runner_add(r, agent(&b)), 0);
    cr_assert_eq(sc_runner_run_once(r, 0), 7);
    cr_assert_eq(n, 2);
    cr_assert_eq(order[0], 1);
    cr_assert_eq(order[1], 2);
    cr_assert_eq(a.last_now, b.last_now);
    cr_assert_eq(a.last_now, sc_runner_now(r));
    sc_runner_destroy(r);
}

Test(runner, sleep_lasts_until_the_earliest_deadline)
{
    struct sc_runner *r;
    struct fake a = fake(true), b = fake(true);
    uint64_t t0, dt;

    a.deadline_in = 30000000; /* 30 ms */
    b.deadline_in = 5000000;  /*  5 ms: the one that counts */
    cr_assert_eq(sc_runner_create(&r, SC_IDLE_SLEEP, NULL), 0);
    sc_runner_add(r, agent(&a));
    sc_runner_add(r, agent(&b));
    t0 = sc_clock_now();
    sc_runner_run_once(r, 1000000000);
    dt = elapsed_since(t0);
    cr_assert_geq(dt, 4000000, "woke after %llu ns", (unsigned long long)dt);
    cr_assert_lt(dt, 25000000, "slept %llu ns: past the earliest deadline", (unsigned long long)dt);
    sc_runner_destroy(r);
}

Test(runner, input_on_any_agent_ends_the_sleep)
{
    struct sc_runner *r;
    struct fake a = fake(true), b = fake(true);
    uint64_t t0, dt;

    cr_assert_eq(sc_runner_create(&r, SC_IDLE_SLEEP, NULL), 0);
    sc_runner_add(r, agent(&a));
    sc_runner_add(r, agent(&b));
    if (fork() == 0) { /* input 20 ms into the sleep */
        usleep(20000);
        _exit(write(b.pipe[1], "x", 1) == 1 ? 0 : 1);
    }
    t0 = sc_clock_now();
    sc_runner_run_once(r, 2000000000);
    dt = elapsed_since(t0);
    cr_assert_lt(dt, 1000000000, "input did not wake the runner (%llu ns)", (unsigned long long)dt);
    cr_assert_geq(dt, 15000000, "woke before the input came (%llu ns)", (unsigned long long)dt);
    sc_runner_run_once(r, 0); /* the next cycle gives b its input */
    cr_assert_eq(b.calls, 2);
    wait(NULL);
    sc_runner_destroy(r);
}

Test(runner, max_wait_caps_a_sleep_without_deadline)
{
    struct sc_runner *r;
    struct fake a = fake(true);
    uint64_t t0, dt;

    cr_assert_eq(sc_runner_create(&r, SC_IDLE_SLEEP, NULL), 0);
    sc_runner_add(r, agent(&a));
    t0 = sc_clock_now();
    sc_runner_run_once(r, 20000000);
    dt = elapsed_since(t0);
    cr_assert_geq(dt, 15000000, "%llu ns", (unsigned long long)dt);
    cr_assert_lt(dt, 500000000, "%llu ns", (unsigned long long)dt);
    sc_runner_destroy(r);
}

Test(runner, a_single_agent_sleeps_in_its_own_wait)
{
    struct sc_runner *r;
    struct fake a = fake(true);

    a.own_wait = true;
    a.deadline_in = 10000000;
    cr_assert_eq(sc_runner_create(&r, SC_IDLE_SLEEP, NULL), 0);
    sc_runner_add(r, agent(&a));
    sc_runner_run_once(r, 1000000000);
    cr_assert_eq(a.waits, 1);
    sc_runner_destroy(r);
}

Test(runner, a_near_deadline_or_a_poll_mode_agent_spins)
{
    struct sc_runner *r;
    struct fake a = fake(true), poll_mode = fake(false);
    uint64_t t0, dt;

    a.own_wait = true;
    a.deadline_in = 10000; /* 10 us: closer than a sleep can be timed */
    cr_assert_eq(sc_runner_create(&r, SC_IDLE_SLEEP, NULL), 0);
    sc_runner_add(r, agent(&a));
    sc_runner_run_once(r, 1000000000);
    cr_assert_eq(a.waits, 0);
    a.deadline_in = UINT64_MAX;
    a.own_wait = false;
    sc_runner_destroy(r);
    /* a DPDK-like agent beside one with an fd: nothing may sleep */
    cr_assert_eq(sc_runner_create(&r, SC_IDLE_SLEEP, NULL), 0);
    sc_runner_add(r, agent(&a));
    sc_runner_add(r, agent(&poll_mode));
    t0 = sc_clock_now();
    for (int i = 0; i < 100; i++)
        sc_runner_run_once(r, 1000000000);
    dt = elapsed_since(t0);
    cr_assert_lt(dt, 200000000, "100 cycles took %llu ns: it slept", (unsigned long long)dt);
    cr_assert_eq(poll_mode.calls, 100);
    sc_runner_destroy(r);
}

/* An application's agent (no wait, no fd) beside one agent with input: the
 * runner still sleeps in that one's wait (it spun before: the agent without
 * an fd was taken for a poll-mode one). */
Test(runner, an_agent_without_input_leaves_the_sleep_to_the_one_with_input)
{
    struct sc_runner *r;
    struct fake io = fake(true), app = fake(false);

    io.own_wait = true;
    app.no_input = true;
    app.deadline_in = 10000000;
    cr_assert_eq(sc_runner_create(&r, SC_IDLE_SLEEP, NULL), 0);
    sc_runner_add(r, agent(&app));
    sc_runner_add(r, agent(&io));
    sc_runner_run_once(r, 1000000000);
    cr_assert_eq(io.waits, 1, "the agent with input did not sleep in its wait");
    sc_runner_destroy(r);
}

/* Beside agents with fds (no wait of their own), an agent without input
 * takes no part in the ppoll: the sleep lasts to its deadline, or until
 * input comes on the others. */
Test(runner, an_agent_without_input_joins_no_poll_and_its_deadline_ends_the_sleep)
{
    struct sc_runner *r;
    struct fake a = fake(true), b = fake(true), app = fake(false);
    uint64_t t0, dt;

    app.no_input = true;
    app.deadline_in = 20000000; /* 20 ms */
    cr_assert_eq(sc_runner_create(&r, SC_IDLE_SLEEP, NULL), 0);
    sc_runner_add(r, agent(&a));
    sc_runner_add(r, agent(&app));
    sc_runner_add(r, agent(&b));
    t0 = sc_clock_now();
    sc_runner_run_once(r, 1000000000);
    dt = elapsed_since(t0);
    cr_assert_geq(dt, 15000000, "did not sleep (%llu ns): taken for a poll-mode agent",
                  (unsigned long long)dt);
    cr_assert_lt(dt, 500000000, "slept %llu ns: past the deadline", (unsigned long long)dt);
    sc_runner_destroy(r);
}

/* Only agents without input: a plain sleep until the earliest deadline. */
Test(runner, agents_without_input_sleep_until_the_earliest_deadline)
{
    struct sc_runner *r;
    struct fake a = fake(false), b = fake(false);
    uint64_t t0, dt;

    a.no_input = b.no_input = true;
    a.deadline_in = 200000000; /* 200 ms */
    b.deadline_in = 20000000;  /*  20 ms: the one that counts */
    cr_assert_eq(sc_runner_create(&r, SC_IDLE_SLEEP, NULL), 0);
    sc_runner_add(r, agent(&a));
    sc_runner_add(r, agent(&b));
    t0 = sc_clock_now();
    sc_runner_run_once(r, 1000000000);
    dt = elapsed_since(t0);
    cr_assert_geq(dt, 15000000, "did not sleep (%llu ns)", (unsigned long long)dt);
    cr_assert_lt(dt, 150000000, "slept %llu ns: past the earliest deadline",
                 (unsigned long long)dt);
    sc_runner_destroy(r);
}

static bool
after_five(void *ctx)
{
    return ((struct fake *)ctx)->calls >= 5;
}

Test(runner, run_stops_on_its_condition_or_flag)
{
    struct sc_runner *r;
    struct fake a = fake(false);
    volatile int flag = 1;

    a.work = 1;
    cr_assert_eq(sc_runner_create(&r, SC_IDLE_YIELD, NULL), 0);
    sc_runner_add(r, agent(&a));
    cr_assert_eq(sc_runner_run(r, after_five, &a, NULL, 1000000), 5);
    cr_assert_eq(a.calls, 5);
    cr_assert_eq(sc_runner_run(r, NULL, NULL, &flag, 1000000), 0); /* flag already up */
    cr_assert_eq(a.calls, 5);
    sc_runner_destroy(r);
}

Test(runner, bad_input_is_refused)
{
    struct sc_runner *r;
    struct sc_err err = { 0 };
    struct fake f[SC_RUNNER_MAX_AGENTS + 1];
    struct sc_agent_ops none = { "none", NULL, NULL, NULL, NULL };

    cr_assert_eq(sc_runner_create(&r, (enum sc_idle)42, &err), -EINVAL);
    cr_assert(err.msg[0]);
    cr_assert_eq(sc_runner_create(&r, SC_IDLE_SPIN, NULL), 0);
    cr_assert_eq(sc_runner_add(r, (struct sc_agent){ &none, NULL }), -EINVAL);
    for (int i = 0; i < SC_RUNNER_MAX_AGENTS; i++) {
        f[i] = fake(false);
        cr_assert_eq(sc_runner_add(r, agent(&f[i])), 0);
    }
    f[SC_RUNNER_MAX_AGENTS] = fake(false);
    cr_assert_eq(sc_runner_add(r, agent(&f[SC_RUNNER_MAX_AGENTS])), -ENOSPC);
    sc_runner_destroy(r);
    sc_runner_destroy(NULL);
}

/* Two poll-mode runners (SC_IDLE_SLEEP, an agent that cannot sleep) on one
 * CPU that take turns -- each can work only after the other has -- hand over
 * at once: a cycle that could not sleep and did no work yields the CPU. Without
 * the yield each turn waited for the scheduler's time slice to end (a memif
 * publisher spinning on a ring its subscriber, on the same CPU, drains: 5.4 M
 * msg/s instead of 40-60 M). */
struct turn {
    volatile unsigned *ball; /* whose turn: the low bit */
    unsigned me, rounds;
};

static int
turn_work(void *self, uint64_t now)
{
    struct turn *t = self;
    unsigned b = __atomic_load_n(t->ball, __ATOMIC_ACQUIRE);

    (void)now;
    if ((b & 1) != t->me || b >= t->rounds)
        return 0;
    __atomic_store_n(t->ball, b + 1, __ATOMIC_RELEASE);
    return 1;
}

static int
turn_wait(void *self, uint64_t ns)
{
    (void)self, (void)ns;
    return -1; /* poll-mode: cannot sleep */
}

static bool
turn_done(void *ctx)
{
    const struct turn *t = ctx;
    return __atomic_load_n(t->ball, __ATOMIC_ACQUIRE) >= t->rounds;
}

static void *
turn_run(void *arg)
{
    static const struct sc_agent_ops turn_ops = { "turn", turn_work, NULL, turn_wait, NULL };
    struct turn *t = arg;
    struct sc_runner *r;
    cpu_set_t one;

    CPU_ZERO(&one);
    CPU_SET(0, &one);
    cr_assert_eq(pthread_setaffinity_np(pthread_self(), sizeof(one), &one), 0);
    cr_assert_eq(sc_runner_create(&r, SC_IDLE_SLEEP, NULL), 0);
    sc_runner_add(r, (struct sc_agent){ &turn_ops, t });
    sc_runner_run(r, turn_done, t, NULL, 1000000);
    sc_runner_destroy(r);
    return NULL;
}

Test(runner, two_poll_mode_runners_on_one_cpu_take_turns_at_once, .timeout = 60)
{
    enum { ROUNDS = 400 };
    volatile unsigned ball = 0;
    struct turn t[2] = { { &ball, 0, ROUNDS }, { &ball, 1, ROUNDS } };
    pthread_t th[2];
    uint64_t t0 = sc_clock_now(), took;

    for (int i = 0; i < 2; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, turn_run, &t[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    took = sc_clock_now() - t0;
    cr_assert_eq(ball, ROUNDS);
    /* a turn at a time slice's end is 0.75-4 ms: 400 of them 0.3-1.6 s */
    cr_assert_lt(took, 150000000u, "%u turns took %.1f ms", ROUNDS, (double)took / 1e6);
}
