/* The seqcast API in one file: a publisher and a subscriber on loopback, in one
 * process and one thread (both are agents: nothing runs unless do_work is
 * called). Build against an installed libseqcast:
 *
 *   cc pubsub.c $(pkg-config --cflags --libs seqcast) -o pubsub && ./pubsub
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <seqcast/config.h>
#include <seqcast/pub.h>
#include <seqcast/sub.h>

#define MESSAGES 10000

static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct counts {
    uint64_t received, next, out_of_order, lost;
    int ended; /* the publisher's FIN arrived */
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
    if (ev->type == SC_EV_SOURCE_DOWN && ev->down.reason == SC_DOWN_FIN)
        c->ended = 1; /* the end of the session, everything before it delivered */
    if (ev->type == SC_EV_LOSS) { /* never silent: say exactly what is gone */
        printf("lost messages %llu..%llu\n", (unsigned long long)ev->loss.first,
               (unsigned long long)ev->loss.last);
        c->lost += ev->loss.last - ev->loss.first + 1;
        c->next = ev->loss.last + 1;
    }
}

int
main(void)
{
    struct sc_config cfg;
    struct sc_err err;
    struct sc_pub *pub;
    struct sc_sub *sub;
    struct counts c = { .next = 1 };
    struct sc_sub_callbacks cb = { on_msg, on_event, &c };
    char msg[64];
    uint64_t deadline;

    sc_config_init(&cfg); /* built-in defaults: loopback, 239.192.0.1:3056 */
    if (sc_config_set(&cfg, "port=3156", &err) < 0 || sc_config_set(&cfg, "nak_port=3155", &err) < 0 ||
        sc_sub_create(&sub, &cfg, NULL, &cb, &err) < 0 || sc_pub_create(&pub, &cfg, NULL, &err) < 0) {
        fprintf(stderr, "pubsub: %s\n", err.msg);
        return 1;
    }
    for (int i = 1; i <= MESSAGES; i++) {
        int n = snprintf(msg, sizeof(msg), "quote %d", i);
        uint64_t now = now_ns();
        sc_pub_send(pub, msg, (size_t)n, now); /* batched into packets */
        sc_pub_do_work(pub, now);               /* sends, repairs, heartbeats */
        sc_sub_do_work(sub, now);               /* receives, repairs, delivers */
    }
    sc_pub_flush(pub, now_ns());
    deadline = now_ns() + 2000000000u;
    while (c.received + c.lost < MESSAGES && now_ns() < deadline) {
        uint64_t now = now_ns(), d;
        sc_pub_do_work(pub, now);
        sc_sub_do_work(sub, now);
        /* sleep until more packets come or a timer is due -- but at most 1 ms:
         * the publisher shares this thread (alone, a subscriber would wait
         * until its deadline) */
        now = now_ns();
        d = sc_sub_deadline(sub);
        d = d < sc_pub_deadline(pub) ? d : sc_pub_deadline(pub);
        if (d > now)
            sc_sub_wait(sub, d - now < 1000000 ? d - now : 1000000);
    }
    /* the end: sc_pub_close only marks the session closing; do_work sends what
     * is left, the End of Session block and the FIN, with the real time, and
     * goes on repairing after that (a subscriber that lost the tail NAKs it):
     * here until the subscriber has seen the end */
    sc_pub_close(pub, now_ns());
    deadline = now_ns() + 2000000000u;
    while ((!sc_pub_closed(pub) || !c.ended) && now_ns() < deadline) {
        uint64_t now = now_ns(), d;
        sc_pub_do_work(pub, now);
        sc_sub_do_work(sub, now);
        now = now_ns();
        d = sc_sub_deadline(sub);
        d = d < sc_pub_deadline(pub) ? d : sc_pub_deadline(pub);
        if (d > now)
            sc_sub_wait(sub, d - now < 1000000 ? d - now : 1000000);
    }
    printf("received %llu of %d messages, %llu out of order, %llu lost; session %s\n",
           (unsigned long long)c.received, MESSAGES, (unsigned long long)c.out_of_order,
           (unsigned long long)c.lost, c.ended ? "ended" : "not ended");
    sc_pub_destroy(pub);
    sc_sub_destroy(sub);
    return c.received == MESSAGES && !c.out_of_order && c.ended ? 0 : 1;
}
