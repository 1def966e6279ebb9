/* make bench, IPC section: one writer to R reader processes on one host.
 *
 *   ipc seqcast DIR R SIZE N   a transport: ipc channel (log in DIR, 4 MiB,
 *                              ipc.backpressure: block) through the public API
 *   ipc bare R SIZE N          a bare single-producer ring in shared memory
 *                              doing the same copies: the writer copies each
 *                              message behind a 16-byte header into a 4 MiB
 *                              ring and publishes its tail; each reader copies
 *                              the records out and publishes its position; the
 *                              writer waits for the slowest reader
 *
 *   ipc mdlat DIR NAME SECS    a strategy's view of seqcast-feedhandler
 *                              --publish ipc:NAME: reads <seqcast/mdrec.h>
 *                              records, sleeping in sc_sub_wait between them,
 *                              and takes now - the record's ts (bench/peer's
 *                              feed sender stamps each ITCH message with its
 *                              send time, CLOCK_MONOTONIC mod 2^48) per record:
 *                              p50/p99/p99.9/max in us, until the channel ends
 *                              or SECS pass
 *
 *   ipc pingpong DIR N         round trips through two IPC channels (ping:
 *                              parent -> child, pong: child -> parent), one
 *                              32-byte message in flight, both sides spinning
 *                              on do_work: p50/p99/p99.9/max in us
 *
 * Both wait the same way (a spin with sched_yield: two vCPUs, R + 1
 * processes), both check every message's number in its first 8 bytes. The
 * rate is N messages from the writer's first send to the last reader's last
 * message. Prints one JSON line; exits 1 if any reader missed a message.
 */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/hist.h"

#include <seqcast/agent.h>
#include <seqcast/config.h>
#include <seqcast/mdrec.h>
#include <seqcast/proto/itch.h>
#include <seqcast/pub.h>
#include <seqcast/sub.h>

#define RING (4u << 20)
#define MAX_READERS 8

/* what the readers tell the parent: shared, written once at the end */
struct shared {
    _Atomic uint32_t ready;
    struct {
        _Atomic uint64_t got, bad, end_ns;
    } r[MAX_READERS];
};

static struct shared *sh;

/* BENCH_IPC_PIN=W,R: the writer on CPU W, every reader on CPU R (distinct
 * cores: where the scheduler put them otherwise decided the figure -- on one
 * core a yield hands the CPU over with the ring full, a batch no cache line
 * crosses; on two the lines cross per message). Unset or on one CPU: no pin. */
static int pin_w = -1, pin_r = -1;

static void
pin(int cpu)
{
    cpu_set_t set;

    if (cpu < 0)
        return;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) < 0)
        perror("ipc bench: sched_setaffinity");
}

/* ---------------------------------------------------------- bare ring */

struct bare {
    _Alignas(64) _Atomic uint64_t tail;
    _Alignas(64) struct {
        _Atomic uint64_t pos;
        uint8_t pad[56];
    } rd[MAX_READERS];
    _Alignas(64) uint8_t ring[RING];
};

static inline uint64_t
rsize(uint32_t len)
{
    return (16u + len + 15u) & ~15ull;
}

static void
bare_reader(struct bare *b, int id, uint64_t n)
{
    static uint8_t buf[65536];
    uint64_t pos = 0, got = 0, bad = 0, t;

    atomic_fetch_add(&sh->ready, 1);
    while (got < n) {
        t = atomic_load_explicit(&b->tail, memory_order_acquire);
        if (t == pos) {
            sched_yield();
            continue;
        }
        while (pos < t) {
            uint64_t off = pos & (RING - 1), seq;
            uint32_t len;
            memcpy(&len, b->ring + off, 4);
            if (len == UINT32_MAX) { /* padding to the ring's end */
                pos += RING - off;
                continue;
            }
            memcpy(buf, b->ring + off + 16, len);
            memcpy(&seq, buf, 8);
            bad += seq != got + 1;
            got++;
            pos += rsize(len);
        }
        atomic_store_explicit(&b->rd[id].pos, pos, memory_order_release);
    }
    sh->r[id].got = got;
    sh->r[id].bad = bad;
    sh->r[id].end_ns = sc_clock_now();
}

static void
bare_writer(struct bare *b, int readers, uint32_t size, uint64_t n)
{
    static uint8_t msg[65536];
    uint64_t tail = 0, min = 0;

    for (uint64_t s = 1; s <= n; s++) {
        uint64_t off = tail & (RING - 1), pad = 0, end;
        if (RING - off < rsize(size))
            pad = RING - off;
        end = tail + pad + rsize(size);
        while (end > min + RING) { /* the slowest reader */
            min = UINT64_MAX;
            for (int i = 0; i < readers; i++) {
                uint64_t p = atomic_load_explicit(&b->rd[i].pos, memory_order_acquire);
                if (p < min)
                    min = p;
            }
            if (end > min + RING)
                sched_yield();
        }
        if (pad) {
            uint32_t m = UINT32_MAX;
            memcpy(b->ring + off, &m, 4);
        }
        off = (tail + pad) & (RING - 1);
        memcpy(msg, &s, 8);
        memcpy(b->ring + off, &size, 4);
        memcpy(b->ring + off + 16, msg, size);
        tail = end;
        atomic_store_explicit(&b->tail, tail, memory_order_release);
    }
}

/* ---------------------------------------------------------- seqcast */

struct rd {
    uint64_t got, bad, n;
};

static void
on_msg(void *ctx, const struct sc_source *src, uint64_t seq, const void *msg, size_t len)
{
    struct rd *r = ctx;
    uint64_t s;

    (void)src;
    memcpy(&s, msg, 8);
    r->bad += s != seq || len < 8 || seq != r->got + 1;
    r->got++;
}

static int
sc_reader(const struct sc_config *cfg, int id, uint64_t n)
{
    struct rd r = { .n = n };
    struct sc_sub_callbacks cb = { on_msg, NULL, &r };
    struct sc_sub *sub;
    struct sc_err err;

    if (sc_sub_create(&sub, cfg, NULL, &cb, &err) < 0) {
        fprintf(stderr, "ipc bench reader: %s\n", err.msg);
        return 1;
    }
    atomic_fetch_add(&sh->ready, 1);
    while (r.got < n)
        if (!sc_sub_do_work(sub, sc_clock_now()))
            sched_yield();
    sh->r[id].got = r.got;
    sh->r[id].bad = r.bad;
    sh->r[id].end_ns = sc_clock_now();
    sc_sub_destroy(sub);
    return 0;
}

static int
sc_writer(const struct sc_config *cfg, int readers, uint32_t size, uint64_t n, uint64_t *blocked,
          uint64_t *t0)
{
    static uint8_t msg[65536];
    struct sc_pub *pub;
    struct sc_pub_stats st;
    struct sc_err err;

    if (sc_pub_create(&pub, cfg, NULL, &err) < 0) {
        fprintf(stderr, "ipc bench writer: %s\n", err.msg);
        return 1;
    }
    do { /* every reader registered: none misses the start */
        sc_pub_get_stats(pub, &st);
    } while (st.ipc_readers < (uint64_t)readers && !usleep(1000));
    *t0 = sc_clock_now();
    for (uint64_t s = 1; s <= n;) {
        memcpy(msg, &s, 8);
        if (sc_pub_send(pub, msg, size, 0) == 0) {
            s++;
            continue;
        }
        sched_yield(); /* a reader is a log behind: as the bare writer waits */
    }
    sc_pub_get_stats(pub, &st);
    *blocked = st.ipc_blocked;
    sc_pub_close(pub, sc_clock_now());
    sc_pub_destroy(pub);
    return 0;
}

/* ---------------------------------------------------------- ping-pong */

struct pp {
    uint64_t got, last;
};

static void
pp_msg(void *ctx, const struct sc_source *src, uint64_t seq, const void *msg, size_t len)
{
    struct pp *p = ctx;

    (void)src;
    (void)seq;
    if (len >= 8)
        memcpy(&p->last, msg, 8);
    p->got++;
}

static int
pp_open(const char *dir, const char *name, struct sc_pub **pub, struct sc_sub **sub, struct pp *p)
{
    static struct sc_config cfg[2];
    static int n;
    struct sc_config *c = &cfg[n++ & 1];
    struct sc_sub_callbacks cb = { pp_msg, NULL, p };
    struct sc_err err;
    char set[300];

    sc_config_init(c);
    snprintf(set, sizeof(set), "ipc.dir=%s", dir);
    if (sc_config_set(c, "transport=ipc", &err) < 0 || sc_config_set(c, set, &err) < 0 ||
        sc_config_set(c, "ipc.size=1MiB", &err) < 0 ||
        sc_config_set(c, "late_join=window", &err) < 0) { /* from message 1, whenever joined */
        fprintf(stderr, "ipc pingpong: %s\n", err.msg);
        return -1;
    }
    snprintf(set, sizeof(set), "name=%s", name);
    sc_config_set(c, set, &err);
    if (pub && sc_pub_create(pub, c, name, &err) < 0) {
        fprintf(stderr, "ipc pingpong: %s\n", err.msg);
        return -1;
    }
    if (sub && sc_sub_create(sub, c, name, &cb, &err) < 0) {
        fprintf(stderr, "ipc pingpong: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int
u64cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int
pingpong(const char *dir, uint64_t n)
{
    struct sc_pub *ping, *pong;
    struct sc_sub *rping, *rpong;
    struct pp a = { 0 }, b = { 0 };
    uint8_t msg[32] = { 0 };
    uint64_t *rtt = malloc(n * sizeof(*rtt)), warm = n / 10 + 1000;
    pid_t pid;
    int status;

    if (!rtt || pp_open(dir, "ping", &ping, NULL, NULL) < 0 || pp_open(dir, "pong", &pong, NULL, NULL) < 0)
        return 1;
    if ((pid = fork()) == 0) { /* the echo: every ping back as a pong */
        if (pp_open(dir, "ping", NULL, &rping, &b) < 0)
            _exit(1);
        while (b.got < n + warm) {
            uint64_t seen = b.got;
            sc_sub_do_work(rping, sc_clock_now());
            if (b.got != seen) {
                memcpy(msg, &b.last, 8);
                if (sc_pub_send(pong, msg, sizeof(msg), 0) < 0)
                    _exit(1);
            }
        }
        _exit(0);
    }
    if (pp_open(dir, "pong", NULL, &rpong, &a) < 0)
        return 1;
    for (uint64_t i = 0; i < n + warm; i++) {
        uint64_t t = sc_clock_now(), want = a.got + 1;
        memcpy(msg, &t, 8);
        sc_pub_send(ping, msg, sizeof(msg), 0);
        while (a.got < want)
            sc_sub_do_work(rpong, 0);
        if (i >= warm)
            rtt[i - warm] = sc_clock_now() - a.last;
    }
    waitpid(pid, &status, 0);
    qsort(rtt, n, sizeof(*rtt), u64cmp);
    printf("{\"system\": \"seqcast-ipc\", \"test\": \"pingpong\", \"size\": 32, \"count\": %llu, "
           "\"p50_us\": %.3f, \"p99_us\": %.3f, \"p999_us\": %.3f, \"max_us\": %.3f}\n",
           (unsigned long long)n, rtt[n / 2] / 1e3, rtt[n * 99 / 100] / 1e3,
           rtt[n * 999 / 1000] / 1e3, rtt[n - 1] / 1e3);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

/* ---------------------------------------------------------- mdlat */

struct md {
    struct hist lat;
    uint64_t bbo, trades, other;
    bool over;
};

static void
md_msg(void *ctx, const struct sc_source *src, uint64_t seq, const void *msg, size_t len)
{
    struct md *m = ctx;
    const uint8_t *b = msg;
    uint64_t ts, now = sc_clock_now();

    (void)src;
    (void)seq;
    if (len < sizeof(struct sc_mdrec_bbo) || (b[0] != SC_MDREC_BBO && b[0] != SC_MDREC_TRADE)) {
        m->other++;
        return;
    }
    memcpy(&ts, b + offsetof(struct sc_mdrec_bbo, ts), 8); /* the same offset in both */
    hist_add(&m->lat, (now - ts) & SC_ITCH_TS_MAX);
    if (b[0] == SC_MDREC_BBO)
        m->bbo++;
    else
        m->trades++;
}

static void
md_event(void *ctx, const struct sc_sub_event *ev)
{
    if (ev->type == SC_EV_SOURCE_DOWN)
        ((struct md *)ctx)->over = true;
}

static int
mdlat(const char *dir, const char *name, double secs)
{
    static struct md m;
    static struct sc_config cfg;
    struct sc_sub_callbacks cb = { md_msg, md_event, &m };
    struct sc_sub *sub;
    struct sc_err err;
    char set[300];
    uint64_t end = sc_clock_now() + (uint64_t)(secs * 1e9);

    sc_config_init(&cfg);
    snprintf(set, sizeof(set), "ipc.dir=%s", dir);
    if (sc_config_set(&cfg, "transport=ipc", &err) < 0 || sc_config_set(&cfg, set, &err) < 0 ||
        sc_config_set(&cfg, "late_join=window", &err) < 0 ||
        (snprintf(set, sizeof(set), "name=%s", name), sc_config_set(&cfg, set, &err) < 0) ||
        sc_sub_create(&sub, &cfg, NULL, &cb, &err) < 0) {
        fprintf(stderr, "ipc mdlat: %s\n", err.msg);
        return 1;
    }
    while (!m.over && sc_clock_now() < end) {
        uint64_t now = sc_clock_now(), d;
        if (sc_sub_do_work(sub, now))
            continue;
        d = sc_sub_deadline(sub, now);
        if (d > now)
            sc_sub_wait(sub, d - now < 100000000 ? d - now : 100000000);
    }
    sc_sub_destroy(sub);
    printf("{\"system\": \"seqcast-ipc\", \"test\": \"fh-to-strategy\", \"records\": %llu, "
           "\"bbo\": %llu, \"trades\": %llu, \"p50_us\": %.2f, \"p99_us\": %.2f, "
           "\"p999_us\": %.2f, \"max_us\": %.2f}\n",
           (unsigned long long)m.lat.n, (unsigned long long)m.bbo, (unsigned long long)m.trades,
           hist_pct(&m.lat, 50) / 1e3, hist_pct(&m.lat, 99) / 1e3, hist_pct(&m.lat, 99.9) / 1e3,
           m.lat.max / 1e3);
    return m.lat.n && !m.other ? 0 : 1;
}

int
main(int argc, char **argv)
{
    bool bare = argc == 5 && !strcmp(argv[1], "bare");
    int readers, rc = 0, status;
    uint32_t size;
    uint64_t n, t0, end = 0, got = 0, bad = 0, blocked = 0;
    pid_t pid[MAX_READERS];
    static struct sc_config cfg;
    struct bare *b = NULL;

    if (getenv("BENCH_IPC_PIN") && sscanf(getenv("BENCH_IPC_PIN"), "%d,%d", &pin_w, &pin_r) != 2)
        pin_w = pin_r = -1;
    if (argc == 5 && !strcmp(argv[1], "mdlat"))
        return mdlat(argv[2], argv[3], atof(argv[4]));
    if (argc == 4 && !strcmp(argv[1], "pingpong"))
        return pingpong(argv[2], strtoull(argv[3], NULL, 10));
    if (!(bare || (argc == 6 && !strcmp(argv[1], "seqcast")))) {
        fprintf(stderr, "usage: ipc seqcast DIR READERS SIZE N | ipc bare READERS SIZE N\n");
        return 2;
    }
    readers = atoi(argv[bare ? 2 : 3]);
    size = (uint32_t)atoi(argv[bare ? 3 : 4]);
    n = strtoull(argv[bare ? 4 : 5], NULL, 10);
    if (readers < 1 || readers > MAX_READERS || size < 8 || size > 65000)
        return 2;
    sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (bare) {
        b = mmap(NULL, sizeof(*b), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE,
                 -1, 0);
        if (sh == MAP_FAILED || b == MAP_FAILED)
            return 1;
    } else {
        struct sc_err err;
        char set[300];
        snprintf(set, sizeof(set), "ipc.dir=%s", argv[2]);
        sc_config_init(&cfg);
        if (sc_config_set(&cfg, "transport=ipc", &err) < 0 || sc_config_set(&cfg, set, &err) < 0 ||
            sc_config_set(&cfg, "ipc.size=4MiB", &err) < 0 ||
            sc_config_set(&cfg, "ipc.backpressure=block", &err) < 0 ||
            sc_config_set(&cfg, "late_join=window", &err) < 0) {
            fprintf(stderr, "ipc bench: %s\n", err.msg);
            return 1;
        }
    }
    for (int i = 0; i < readers; i++)
        if ((pid[i] = fork()) == 0) {
            pin(pin_r);
            if (bare) {
                bare_reader(b, i, n);
                _exit(0);
            }
            _exit(sc_reader(&cfg, i, n));
        }
    pin(pin_w);
    if (bare)
        while (atomic_load(&sh->ready) < (uint32_t)readers)
            usleep(1000);
    t0 = sc_clock_now();
    if (bare)
        bare_writer(b, readers, size, n);
    else
        rc |= sc_writer(&cfg, readers, size, n, &blocked, &t0);
    for (int i = 0; i < readers; i++) {
        rc |= waitpid(pid[i], &status, 0) != pid[i] || !WIFEXITED(status) ||
              WEXITSTATUS(status) != 0;
        got += sh->r[i].got;
        bad += sh->r[i].bad;
        if (sh->r[i].end_ns > end)
            end = sh->r[i].end_ns;
    }
    rc |= got != n * (uint64_t)readers || bad != 0;
    printf("{\"system\": \"%s\", \"readers\": %d, \"size\": %u, \"msgs\": %llu, \"seconds\": %.4f, "
           "\"msgs_per_s\": %.0f, \"lost\": %llu, \"bad\": %llu, \"writer_blocked\": %llu}\n",
           bare ? "bare-ring" : "seqcast-ipc", readers, size, (unsigned long long)n,
           (double)(end - t0) / 1e9, (double)n * 1e9 / (double)(end - t0),
           (unsigned long long)(n * (uint64_t)readers - got), (unsigned long long)bad,
           (unsigned long long)blocked);
    return rc;
}
