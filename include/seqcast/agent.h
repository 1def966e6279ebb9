/* seqcast agents, and the runner that drives them.
 *
 * Everything in seqcast that does work -- publisher, subscriber, order server,
 * order client -- is an agent with one contract (Aeron's Agent, DPDK's lcore
 * loop): nothing runs unless the application calls it, there is no hidden
 * thread, and time is always a parameter (CLOCK_MONOTONIC nanoseconds; the
 * library never reads the clock except in the runner, which is the loop):
 *
 *   do_work(self, now)    do what is due: read, repair, send, time out.
 *                         @return the work done (0 = idle), never negative
 *   deadline(self, now)   the latest time do_work must run again, for timers:
 *                         <= now = at once (work is waiting), UINT64_MAX = only
 *                         when input arrives
 *   wait(self, ns)        sleep until input arrives or ns pass, in the cheapest
 *                         way the agent knows (a subscriber sleeps in its read).
 *                         @return 1 input waits, 0 nothing came (the timeout, a
 *                         signal), -1 it cannot sleep (a poll-mode transport
 *                         such as DPDK: spin on do_work)
 *   fd(self)              readable when input arrives (for your own epoll), -1
 *                         for a poll-mode agent
 *
 * Every agent type offers these as sc_<type>_do_work, _deadline, _wait, _fd,
 * and as a struct sc_agent (sc_pub_agent(), sc_sub_agent(), ...) for a runner.
 * An application's own work -- a feed to publish, orders to send -- can be an
 * agent too: fill a struct sc_agent_ops.
 *
 * The runner runs any number of agents on the caller's thread, Aeron's
 * AgentRunner without the thread: each duty cycle reads the clock once, calls
 * every agent's do_work with that time, then idles by its strategy:
 *
 *   SC_IDLE_SLEEP  sleep until the earliest deadline or input on any agent:
 *                  one agent sleeps in its own wait(); several in one ppoll
 *                  on their fds. A cycle whose deadline is under 50 us away
 *                  spins instead (closer than the scheduler wakes a thread)
 *   SC_IDLE_YIELD  sched_yield() after a cycle that did no work
 *   SC_IDLE_SPIN   never sleep (lowest latency, one core at 100 %)
 *
 * A poll-mode agent (its wait returns -1 and its fd is -1: DPDK) makes SLEEP
 * spin -- yielding (sched_yield) after a cycle that did no work, as it does
 * when a deadline has already passed and the cycle did no work (the
 * transport refused what was due): the nearest it can come to the sleep it
 * would take, and what lets a peer on the same CPU (a memif subscriber
 * draining the ring a refused publisher waits on) run before the scheduler's
 * time slice ends. An agent with neither a wait nor an fd op has no input (an
 * application's own work: orders to send, a feed): only its deadline wakes it,
 * so it takes no part in the sleep -- the one agent with input beside it still
 * sleeps in its own wait(); with none, the runner sleeps until the deadline.
 *
 *   struct sc_runner *r;
 *   sc_runner_create(&r, SC_IDLE_SLEEP, &err);
 *   sc_runner_add(r, sc_pub_agent(pub));
 *   sc_runner_add(r, sc_sub_agent(sub));
 *   while (!done)
 *       sc_runner_run_once(r, 100000000);   // at most 100 ms asleep
 *   sc_runner_destroy(r);
 */
#ifndef SEQCAST_AGENT_H
#define SEQCAST_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include <seqcast/err.h>

struct sc_agent_ops {
    const char *name; /* "pub", "sub", "osrv", "ocli", or the application's */
    int (*do_work)(void *self, uint64_t now_ns);
    uint64_t (*deadline)(const void *self, uint64_t now_ns); /* NULL: only on input */
    int (*wait)(void *self, uint64_t timeout_ns);            /* NULL: ppoll on fd */
    int (*fd)(const void *self); /* NULL: none (and wait NULL too: the agent has no input) */
};

struct sc_agent {
    const struct sc_agent_ops *ops;
    void *self;
};

/* Define `struct sc_agent sc_<name>_agent(type *x)` for a type whose calls
 * follow the contract -- sc_<name>_do_work, _deadline, _wait, _fd -- as every
 * seqcast agent does, in one line at file scope:
 *
 *   SC_AGENT_DEFINE(pub, struct sc_pub)     // defines sc_pub_agent()
 */
#define SC_AGENT_DEFINE(name, type)                                                       \
    static int name##_agent_do_work(void *self, uint64_t now)                            \
    {                                                                                     \
        return sc_##name##_do_work((type *)self, now);                                    \
    }                                                                                     \
    static uint64_t name##_agent_deadline(const void *self, uint64_t now)                \
    {                                                                                     \
        return sc_##name##_deadline((const type *)self, now);                             \
    }                                                                                     \
    static int name##_agent_wait(void *self, uint64_t ns)                                 \
    {                                                                                     \
        return sc_##name##_wait((type *)self, ns);                                        \
    }                                                                                     \
    static int name##_agent_fd(const void *self)                                          \
    {                                                                                     \
        return sc_##name##_fd((const type *)self);                                        \
    }                                                                                     \
    struct sc_agent sc_##name##_agent(type *x)                                            \
    {                                                                                     \
        static const struct sc_agent_ops ops = { #name, name##_agent_do_work,             \
                                                 name##_agent_deadline, name##_agent_wait, \
                                                 name##_agent_fd };                       \
        return (struct sc_agent){ &ops, x };                                              \
    }

enum sc_idle {
    SC_IDLE_SLEEP = 0,
    SC_IDLE_YIELD,
    SC_IDLE_SPIN,
};

#define SC_RUNNER_MAX_AGENTS 32 /* every session of a deployment, and a program's own */

struct sc_runner;

/* @return 0, or -ENOMEM / -EINVAL (an unknown strategy) with err filled. */
int sc_runner_create(struct sc_runner **out, enum sc_idle idle, struct sc_err *err);

/* Add an agent; the runner calls them in the order added. @return 0, -ENOSPC
 * past SC_RUNNER_MAX_AGENTS, -EINVAL for an agent without do_work. */
int sc_runner_add(struct sc_runner *r, struct sc_agent a);

/* One duty cycle: read the clock, call every agent's do_work with that time,
 * then idle per the strategy -- a sleep lasts until the earliest deadline,
 * input on any agent, or max_wait_ns, whichever comes first.
 * @return the work the agents did. */
int sc_runner_run_once(struct sc_runner *r, uint64_t max_wait_ns);

/* Duty cycles until stop() returns true (checked before each cycle) or *flag
 * becomes non-zero (a signal handler's; NULL for none). Sleeps are capped at
 * max_wait_ns so both are seen. @return the total work done. */
uint64_t sc_runner_run(struct sc_runner *r, bool (*stop)(void *ctx), void *ctx,
                       volatile const int *flag, uint64_t max_wait_ns);

/* The time the last cycle passed to the agents (CLOCK_MONOTONIC ns). */
uint64_t sc_runner_now(const struct sc_runner *r);

/* The clock the runner reads (CLOCK_MONOTONIC ns), for applications that
 * call agents themselves. */
uint64_t sc_clock_now(void);

/* Safe on NULL. The agents are the caller's: not destroyed here. */
void sc_runner_destroy(struct sc_runner *r);

#endif
