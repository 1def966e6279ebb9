/* The runner: agents on the caller's thread, with an idle strategy.
 *
 * A duty cycle calls every agent's do_work once with one clock reading, then
 * idles. Agents are never called again until they report no work: a second
 * call would cost each a read that only hears EAGAIN, and a sleep returns at
 * once when input is already there (poll semantics), so "once, then wait" is
 * as fast and cheaper. Sleeping:
 *
 *   one agent     its own wait() -- a subscriber's sleeps in the read itself,
 *                 one system call per wake-up instead of poll + read
 *   several       one ppoll over every agent's fd, timeout at the earliest
 *                 deadline (nanoseconds, not poll's milliseconds)
 *   poll-mode     an agent whose wait says -1 and whose fd is -1 (DPDK)
 *                 makes the runner spin: its input would never wake a sleeper
 *
 * A cycle that cannot sleep (poll-mode, or a deadline already passed) and did
 * no work yields the CPU: two poll-mode processes on one CPU (a memif
 * publisher spinning on a full ring and the subscriber that drains it) took
 * turns only when the scheduler's slice ended -- a 1024-packet ring per ~8 ms,
 * 5.4 M msg/s instead of 40-60 M. A deadline under SPIN_UNDER_NS away is spun
 * for without yielding (the timer's precision).
 *
 * "One agent" and "several" count the agents that have input. One with
 * neither a wait nor an fd op (an application's own work: orders to send, a
 * feed) has none -- only its deadline wakes it -- so it neither joins the
 * ppoll nor stops the one agent with input from sleeping in its wait; with
 * no agent having input the runner sleeps until the earliest deadline.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <seqcast/agent.h>

#include "engine/clock.h"

/* A deadline closer than this is spun for, not slept for: a thread woken from
 * a sleep runs tens of microseconds late anyway. */
#define SPIN_UNDER_NS 50000u

struct sc_runner {
    enum sc_idle idle;
    unsigned n;
    uint64_t now;
    struct sc_agent a[SC_RUNNER_MAX_AGENTS];
};

uint64_t
sc_clock_now(void)
{
    return sc_clock_ns();
}

int
sc_runner_create(struct sc_runner **out, enum sc_idle idle, struct sc_err *err)
{
    struct sc_runner *r;
    int rc = 0;

    if (idle != SC_IDLE_SLEEP && idle != SC_IDLE_YIELD && idle != SC_IDLE_SPIN)
        rc = -EINVAL;
    else if (!(r = calloc(1, sizeof(*r))))
        rc = -ENOMEM;
    if (rc < 0) {
        if (err) {
            err->code = rc;
            snprintf(err->msg, sizeof(err->msg), "runner: %s",
                     rc == -EINVAL ? "unknown idle strategy" : "out of memory");
        }
        return rc;
    }
    r->idle = idle;
    *out = r;
    return 0;
}

int
sc_runner_add(struct sc_runner *r, struct sc_agent a)
{
    if (!a.ops || !a.ops->do_work)
        return -EINVAL;
    if (r->n == SC_RUNNER_MAX_AGENTS)
        return -ENOSPC;
    r->a[r->n++] = a;
    return 0;
}

static bool
has_input(const struct sc_agent *a)
{
    return a->ops->wait || a->ops->fd;
}

/* Sleep until deadline (absolute), input, or max_wait from now. @return
 * false when it could not sleep at all: the deadline has passed, or an agent
 * is poll-mode. */
static bool
sleep_until(struct sc_runner *r, uint64_t deadline, uint64_t max_wait)
{
    struct pollfd p[SC_RUNNER_MAX_AGENTS];
    const struct sc_agent *in = NULL; /* the agent with input, when there is one */
    uint64_t now = sc_clock_ns(), wait;
    unsigned np = 0, nin = 0;

    if (deadline <= now)
        return false;
    if (deadline <= now + SPIN_UNDER_NS)
        return true; /* spun for */
    wait = deadline - now < max_wait ? deadline - now : max_wait;
    if (wait < SPIN_UNDER_NS)
        return true;
    for (unsigned i = 0; i < r->n; i++)
        if (has_input(&r->a[i])) {
            in = &r->a[i];
            nin++;
        }
    if (nin == 1 && in->ops->wait)
        return in->ops->wait(in->self, wait) >= 0; /* -1: cannot sleep -- spin */
    for (unsigned i = 0; i < r->n; i++) {
        const struct sc_agent *a = &r->a[i];
        int fd;
        if (!has_input(a))
            continue;
        if (!a->ops->fd || (fd = a->ops->fd(a->self)) < 0)
            return false; /* a poll-mode agent: its input would not wake us */
        p[np++] = (struct pollfd){ .fd = fd, .events = POLLIN };
    }
    ppoll(p, np, &(struct timespec){ (time_t)(wait / 1000000000u), (long)(wait % 1000000000u) },
          NULL);
    return true;
}

int
sc_runner_run_once(struct sc_runner *r, uint64_t max_wait_ns)
{
    uint64_t deadline = UINT64_MAX;
    int work = 0;

    r->now = sc_clock_ns();
    for (unsigned i = 0; i < r->n; i++)
        work += r->a[i].ops->do_work(r->a[i].self, r->now);
    switch (r->idle) {
    case SC_IDLE_SPIN:
        break;
    case SC_IDLE_YIELD:
        if (!work)
            sched_yield();
        break;
    case SC_IDLE_SLEEP:
        for (unsigned i = 0; i < r->n; i++) {
            const struct sc_agent *a = &r->a[i];
            uint64_t d = a->ops->deadline ? a->ops->deadline(a->self, r->now) : UINT64_MAX;
            if (d < deadline)
                deadline = d;
        }
        if (!sleep_until(r, deadline, max_wait_ns) && !work)
            sched_yield();
        break;
    }
    return work;
}

uint64_t
sc_runner_run(struct sc_runner *r, bool (*stop)(void *ctx), void *ctx, volatile const int *flag,
              uint64_t max_wait_ns)
{
    uint64_t total = 0;

    while (!(flag && *flag) && !(stop && stop(ctx)))
        total += (uint64_t)sc_runner_run_once(r, max_wait_ns);
    return total;
}

uint64_t
sc_runner_now(const struct sc_runner *r)
{
    return r->now;
}

void
sc_runner_destroy(struct sc_runner *r)
{
    free(r);
}
