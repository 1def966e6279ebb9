/* The seqcast API in one file: a publisher and a subscriber on loopback, in one
 * process and one thread. Both are agents -- nothing runs unless something
 * calls them -- and a runner calls them, with the application's own work (the
 * feed of quotes) as a third agent. Build against an installed libseqcast:
 *
 *   cc pubsub.c $(pkg-config --cflags --libs seqcast) -o pubsub && ./pubsub
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <seqcast/agent.h>
#include <seqcast/config.h>
#include <seqcast/pub.h>
#include <seqcast/sub.h>

#define MESSAGES 10000

/* ---- the subscriber's side: what arrives, in order, or what was lost */

struct counts {
    uint64_t received, next, out_of_order, lost;
};

static void
on_msg(void *ctx, const struct sc_source *src, uint64_t seq, const void *msg, size_t len)
{
    struct counts *c = ctx;

    (void)src;
    (void)msg;
    (void)len;
    if (seq != c->next)
        c->out_of_order++;
    c->next = seq + 1;
    c->received++;
}

static void
on_event(void *ctx, const struct sc_sub_event *ev)
{
    struct counts *c = ctx;

    if (ev->type == SC_EV_SOURCE_UP)
        printf("source %s up\n", ev->src->name);
    if (ev->type == SC_EV_LOSS) { /* never silent: say exactly what is gone */
        printf("lost messages %llu..%llu\n", (unsigned long long)ev->loss.first,
               (unsigned long long)ev->loss.last);
        c->lost += ev->loss.last - ev->loss.first + 1;
        c->next = ev->loss.last + 1;
    }
}

/* ---- the application's work as an agent: one quote per cycle, then the end */

struct feed {
    struct sc_pub *pub;
    int next;
    bool closed;
};

static int
feed_work(void *self, uint64_t now)
{
    struct feed *f = self;
    char msg[64];
    int n;

    if (f->next > MESSAGES) {
        if (!f->closed) { /* the end of the session: do_work sends the rest, then the FIN */
            sc_pub_close(f->pub, now);
            f->closed = true;
        }
        return 0;
    }
    n = snprintf(msg, sizeof(msg), "quote %d", f->next);
    if (sc_pub_send(f->pub, msg, (size_t)n, now) < 0) /* batched into packets */
        return 0; /* the window is full of unsent data: the publisher's cycle sends it */
    f->next++;
    return 1;
}

static uint64_t
feed_deadline(const void *self, uint64_t now)
{
    const struct feed *f = self;
    return f->closed ? UINT64_MAX : now; /* more to send: no sleeping */
}

static const struct sc_agent_ops feed_ops = { "feed", feed_work, feed_deadline, NULL, NULL };

int
main(void)
{
    struct sc_config cfg;
    struct sc_err err;
    struct sc_pub *pub;
    struct sc_sub *sub;
    struct sc_runner *run;
    struct counts c = { .next = 1 };
    struct sc_sub_callbacks cb = { on_msg, on_event, &c };
    struct feed feed = { .next = 1 };
    uint64_t give_up;

    sc_config_init(&cfg); /* built-in defaults: loopback, 239.192.0.1 */
    if (sc_config_set(&cfg, "port=3156", &err) < 0 || sc_config_set(&cfg, "nak_port=3155", &err) < 0 ||
        sc_sub_create(&sub, &cfg, NULL, &cb, &err) < 0 || sc_pub_create(&pub, &cfg, NULL, &err) < 0 ||
        sc_runner_create(&run, SC_IDLE_SLEEP, &err) < 0) {
        fprintf(stderr, "pubsub: %s\n", err.msg);
        return 1;
    }
    feed.pub = pub;
    sc_runner_add(run, (struct sc_agent){ &feed_ops, &feed });
    sc_runner_add(run, sc_pub_agent(pub)); /* sends, repairs, heartbeats */
    sc_runner_add(run, sc_sub_agent(sub)); /* receives, repairs, delivers */
    /* cycles until everything arrived (or was reported lost) and the session
     * is closed; each sleeps at most 1 ms when there is nothing to do */
    give_up = sc_clock_now() + 5000000000u;
    while ((c.received + c.lost < MESSAGES || !sc_pub_closed(pub)) && sc_clock_now() < give_up)
        sc_runner_run_once(run, 1000000);
    printf("received %llu of %d messages, %llu out of order, %llu lost\n",
           (unsigned long long)c.received, MESSAGES, (unsigned long long)c.out_of_order,
           (unsigned long long)c.lost);
    sc_runner_destroy(run);
    sc_pub_destroy(pub);
    sc_sub_destroy(sub);
    return c.received == MESSAGES && !c.out_of_order ? 0 : 1;
}
