/* Same-host fan-out: one publisher and four local reader processes on an IPC
 * channel (transport: ipc -- a log in a shared memory-mapped file, no
 * network, no system call per message). The reader below is written against
 * the public headers alone, exactly as a strategy process would be: the
 * channel is a config, the callbacks are those of any network channel.
 *
 *   cc ipc.c $(pkg-config --cflags --libs seqcast) -o ipc && ./ipc
 *
 * With ipc.backpressure: block every reader registers its position and the
 * publisher never overwrites what one still has to read (sc_pub_send says
 * -EAGAIN meanwhile); with drop (the default) it never waits, and a reader
 * that falls a whole log behind gets a loss event instead.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <seqcast/agent.h>
#include <seqcast/config.h>
#include <seqcast/pub.h>
#include <seqcast/sub.h>

#define MESSAGES 1000000
#define READERS 4

/* ---- a reader: every quote once, in order, or a loss event saying which */

struct reader {
    uint64_t received, next, wrong, lost;
    bool ended;
};

static void
on_msg(void *ctx, const struct sc_source *src, uint64_t seq, const void *msg, size_t len)
{
    struct reader *r = ctx;
    char want[32];
    int n = snprintf(want, sizeof(want), "quote %llu", (unsigned long long)seq);

    (void)src;
    if (seq != r->next || len != (size_t)n || memcmp(msg, want, len))
        r->wrong++;
    r->next = seq + 1;
    r->received++;
}

static void
on_event(void *ctx, const struct sc_sub_event *ev)
{
    struct reader *r = ctx;

    if (ev->type == SC_EV_SOURCE_UP)
        r->next = ev->up.first_packet;
    if (ev->type == SC_EV_LOSS) {
        r->lost += ev->loss.last - ev->loss.first + 1;
        r->next = ev->loss.last + 1;
    }
    if (ev->type == SC_EV_SOURCE_DOWN) /* the publisher closed (or died: timeout) */
        r->ended = true;
}

static int
reader_main(const struct sc_config *cfg, int id)
{
    struct reader r = { 0 };
    struct sc_sub_callbacks cb = { on_msg, on_event, &r };
    struct sc_sub *sub;
    struct sc_runner *run;
    struct sc_err err;
    uint64_t give_up = sc_clock_now() + 30000000000u;

    if (sc_sub_create(&sub, cfg, NULL, &cb, &err) < 0 ||
        sc_runner_create(&run, SC_IDLE_SLEEP, &err) < 0) {
        fprintf(stderr, "reader %d: %s\n", id, err.msg);
        return 1;
    }
    sc_runner_add(run, sc_sub_agent(sub)); /* sleeps on the log's wake word when idle */
    while (!r.ended && sc_clock_now() < give_up)
        sc_runner_run_once(run, 10000000);
    printf("reader %d: %llu quotes, %llu wrong, %llu lost\n", id,
           (unsigned long long)r.received, (unsigned long long)r.wrong,
           (unsigned long long)r.lost);
    fflush(stdout); /* the process ends in _exit */
    sc_runner_destroy(run);
    sc_sub_destroy(sub);
    return r.received == MESSAGES && !r.wrong && !r.lost ? 0 : 1;
}

/* ---- the publisher: waits for its readers, then sends as fast as it may */

static int
publisher_main(const struct sc_config *cfg)
{
    struct sc_pub *pub;
    struct sc_pub_stats st;
    struct sc_err err;
    uint64_t n = 1, give_up = sc_clock_now() + 30000000000u;
    char msg[32];

    if (sc_pub_create(&pub, cfg, NULL, &err) < 0) {
        fprintf(stderr, "publisher: %s\n", err.msg);
        return 1;
    }
    do { /* the readers register in the log's slot file */
        sc_pub_do_work(pub, sc_clock_now());
        sc_pub_get_stats(pub, &st);
    } while (st.ipc_readers < READERS && sc_clock_now() < give_up && !usleep(1000));
    while (n <= MESSAGES && sc_clock_now() < give_up) {
        uint64_t now = sc_clock_now();
        int len = snprintf(msg, sizeof(msg), "quote %llu", (unsigned long long)n);
        int rc = sc_pub_send(pub, msg, (size_t)len, now);
        if (rc == -EAGAIN) { /* a reader is a whole log behind: its turn */
            sc_pub_do_work(pub, now);
            sc_pub_wait(pub, 1000000); /* until a reader moves on */
            continue;
        }
        if ((n & 1023) == 0)
            sc_pub_do_work(pub, now); /* heartbeat, readers asleep woken */
        n++;
    }
    sc_pub_close(pub, sc_clock_now()); /* the readers see the end at once */
    sc_pub_get_stats(pub, &st);
    printf("publisher: %llu quotes, held back by readers %llu times\n",
           (unsigned long long)st.msgs_sent, (unsigned long long)st.ipc_blocked);
    sc_pub_destroy(pub);
    return n > MESSAGES ? 0 : 1;
}

int
main(void)
{
    static struct sc_config cfg;
    struct sc_err err;
    char dir[] = "/tmp/seqcast-ipc-example.XXXXXX", set[64];
    pid_t pid[READERS];
    int rc = 0, status;

    if (!mkdtemp(dir))
        return 1;
    snprintf(set, sizeof(set), "ipc.dir=%s", dir); /* the default is /dev/shm */
    sc_config_init(&cfg);
    if (sc_config_set(&cfg, "transport=ipc", &err) < 0 || sc_config_set(&cfg, set, &err) < 0 ||
        sc_config_set(&cfg, "ipc.size=4MiB", &err) < 0 ||
        sc_config_set(&cfg, "ipc.backpressure=block", &err) < 0 ||
        sc_config_set(&cfg, "late_join=window", &err) < 0) {
        fprintf(stderr, "ipc: %s\n", err.msg);
        return 1;
    }
    fflush(stdout);
    for (int i = 0; i < READERS; i++)
        if ((pid[i] = fork()) == 0)
            _exit(reader_main(&cfg, i + 1));
    rc |= publisher_main(&cfg);
    for (int i = 0; i < READERS; i++)
        rc |= waitpid(pid[i], &status, 0) != pid[i] || !WIFEXITED(status) ||
              WEXITSTATUS(status) != 0;
    snprintf(set, sizeof(set), "rm -rf %s", dir);
    if (system(set) != 0)
        rc = 1;
    printf("%d readers got all %d quotes: %s\n", READERS, MESSAGES, rc ? "no" : "yes");
    return rc;
}
