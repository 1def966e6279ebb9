/* Live counters (engine/shmstat.c): the file's layout is the counter lists,
 * a reader never sees a torn block while a writer thread publishes, hostile
 * and truncated files are refused with an error, the loss log keeps the last
 * events in order, and the files of dead processes are found stale and
 * removed. Every test works in a directory of its own under /tmp. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <seqcast/order.h>
#include <seqcast/pub.h>
#include <seqcast/shmstat.h>
#include <seqcast/sub.h>

static char dir[64];

static void
mkdir_tmp(void)
{
    snprintf(dir, sizeof(dir), "/tmp/sc-shmstat-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void
rm_tmp(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(shmstat, .init = mkdir_tmp, .fini = rm_tmp, .timeout = 30);

/* A getter that fills every counter (and rx_bad) of a sub stats struct with
 * base + its index, base read from obj. */
static void
get_sub_fake(const void *obj, void *st)
{
    uint64_t base = *(const uint64_t *)obj, *w = st;
    for (size_t i = 0; i < sizeof(struct sc_sub_stats) / 8; i++)
        w[i] = base + i;
}

static struct sc_shmstat *
make_writer(const char *name, uint64_t *base, uint32_t loss)
{
    struct sc_shmstat_params p = { dir, "test-prog", name, 1000000, loss };
    struct sc_shmstat_block b = { SC_COUNTERS_SUB, "channel=c1,group=239.1.2.3:4000",
                                  get_sub_fake, base, sizeof(struct sc_sub_stats), 0, true,
                                  offsetof(struct sc_sub_stats, rx_bad) };
    struct sc_shmstat *s;
    struct sc_err err = { 0 };

    cr_assert_eq(sc_shmstat_create(&s, &p, &err), 0, "%s", err.msg);
    cr_assert_eq(sc_shmstat_add(s, &b, &err), 0, "%s", err.msg);
    b.set = SC_COUNTERS_LINK;
    b.off = offsetof(struct sc_sub_stats, link);
    b.rx_bad = false;
    cr_assert_eq(sc_shmstat_add(s, &b, &err), 1, "%s", err.msg);
    cr_assert_eq(sc_shmstat_open(s, &err), 0, "%s", err.msg);
    return s;
}

Test(shmstat, layout_is_the_counter_lists)
{
    uint64_t base = 1000;
    struct sc_shmstat *s = make_writer("c1", &base, 0);
    struct sc_shmstat_snap *snap;
    struct sc_err err = { 0 };
    size_t n, nl;
    const struct sc_counter_desc *d = sc_counter_descs(SC_COUNTERS_SUB, &n);
    const struct sc_counter_desc *dl = sc_counter_descs(SC_COUNTERS_LINK, &nl);
    char want[256];

    snprintf(want, sizeof(want), "%s/test-prog.%d.c1.scstat", dir, (int)getpid());
    cr_assert_str_eq(sc_shmstat_path(s), want);
    cr_assert_eq(sc_shmstat_read(want, &snap, &err), 0, "%s", err.msg);
    cr_assert_eq(snap->pid, getpid());
    cr_assert_not(snap->stale);
    cr_assert_str_eq(snap->program, "test-prog");
    cr_assert_str_eq(snap->name, "c1");
    cr_assert_eq(snap->nblocks, 2);
    cr_assert_eq(snap->blocks[0].set, SC_COUNTERS_SUB);
    cr_assert_str_eq(snap->blocks[0].labels, "channel=c1,group=239.1.2.3:4000");
    cr_assert_eq(snap->blocks[0].n, n + SC_PERR_COUNT);
    for (size_t i = 0; i < n; i++) {
        const struct sc_shmstat_counter *c = &snap->blocks[0].c[i];
        cr_assert_str_eq(c->name, d[i].name);
        cr_assert_str_eq(c->unit, d[i].unit);
        cr_assert_eq(c->kind, d[i].kind);
        cr_assert_eq(strncmp(c->help, d[i].help, sizeof(c->help) - 1), 0, "%s", d[i].name);
        cr_assert_eq(c->value, base + d[i].off / 8, "%s", d[i].name);
    }
    for (int k = 1; k <= SC_PERR_COUNT; k++) {
        const struct sc_shmstat_counter *c = &snap->blocks[0].c[n + (size_t)k - 1];
        char nm[48];
        snprintf(nm, sizeof(nm), "rx_bad_%s", sc_perr_name(-k));
        cr_assert_str_eq(c->name, nm);
        cr_assert_eq(c->value, base + offsetof(struct sc_sub_stats, rx_bad) / 8 + (size_t)k);
    }
    cr_assert_eq(snap->blocks[1].n, nl);
    for (size_t i = 0; i < nl; i++) {
        cr_assert_str_eq(snap->blocks[1].c[i].name, dl[i].name);
        cr_assert_eq(snap->blocks[1].c[i].value,
                     base + (offsetof(struct sc_sub_stats, link) + dl[i].off) / 8);
    }
    sc_shmstat_snap_free(snap);

    /* the agent publishes once its interval (1 ms here) is up, not before */
    base = 5000;
    sc_shmstat_publish(s, 1000);
    base = 7000;
    cr_assert_eq(sc_shmstat_deadline(s, 1000), 1000 + 1000000);
    cr_assert_eq(sc_shmstat_do_work(s, 1000 + 999999), 0);
    cr_assert_eq(sc_shmstat_read(want, &snap, &err), 0, "%s", err.msg);
    cr_assert_eq(snap->blocks[0].c[0].value, 5000);
    sc_shmstat_snap_free(snap);
    cr_assert_eq(sc_shmstat_do_work(s, 1000 + 1000000), 1);
    cr_assert_eq(sc_shmstat_read(want, &snap, &err), 0, "%s", err.msg);
    cr_assert_eq(snap->blocks[0].c[0].value, 7000);
    sc_shmstat_snap_free(snap);

    sc_shmstat_destroy(s);
    cr_assert_eq(access(want, F_OK), -1, "destroy removes the file");
}

Test(shmstat, bad_blocks_refused)
{
    struct sc_shmstat_params p = { dir, "t", "x", 0, 0 };
    struct sc_shmstat *s;
    struct sc_err err = { 0 };
    uint64_t base = 0;
    struct sc_shmstat_block b = { SC_COUNTERS_SUB, NULL, get_sub_fake, &base,
                                  offsetof(struct sc_sub_stats, rx_bad) - 8, 0, false, 0 };

    cr_assert_eq(sc_shmstat_create(&s, &(struct sc_shmstat_params){ dir, NULL, NULL, 0, 0 }, &err),
                 -EINVAL);
    cr_assert_eq(sc_shmstat_create(&s, &p, &err), 0);
    cr_assert_eq(sc_shmstat_add(s, &b, &err), -EINVAL, "a struct smaller than its list");
    b.size = sizeof(struct sc_sub_stats);
    b.set = SC_COUNTERS_SETS;
    cr_assert_eq(sc_shmstat_add(s, &b, &err), -EINVAL, "an unknown set");
    sc_shmstat_destroy(s);
}

/* --------------------------------------------------------------- tearing */

struct tear {
    struct sc_shmstat *s;
    volatile int stop;
    uint64_t base;
};

static void *
writer(void *arg)
{
    struct tear *t = arg;
    uint64_t now = 0;

    while (!t->stop) {
        t->base += 1000003;
        sc_shmstat_publish(t->s, now++);
    }
    return NULL;
}

Test(shmstat, reader_never_sees_a_torn_block)
{
    struct tear t = { 0 };
    pthread_t th;
    struct sc_err err = { 0 };
    uint64_t last = 0, changes = 0;

    t.s = make_writer("tear", &t.base, 0);
    cr_assert_eq(pthread_create(&th, NULL, writer, &t), 0);
    for (int i = 0; i < 3000; i++) {
        struct sc_shmstat_snap *snap;
        int rc = sc_shmstat_read(sc_shmstat_path(t.s), &snap, &err);
        if (rc == -EAGAIN)
            continue;
        cr_assert_eq(rc, 0, "%s", err.msg);
        /* every value of a snapshot is from one publication: value - index is
           the same base throughout, block 0 and its rx_bad alike */
        const struct sc_shmstat_rblock *b = &snap->blocks[0];
        uint64_t base0 = b->c[0].value;
        size_t n;
        sc_counter_descs(SC_COUNTERS_SUB, &n);
        for (uint32_t k = 1; k < n; k++)
            cr_assert_eq(b->c[k].value - k, base0, "torn: counter %u is from another publication",
                         k);
        cr_assert_geq(base0, last, "a snapshot older than the one before");
        changes += base0 != last;
        last = base0;
        sc_shmstat_snap_free(snap);
    }
    t.stop = 1;
    pthread_join(th, NULL);
    cr_assert_gt(changes, 10, "the writer must have moved under the reader (%llu)",
                 (unsigned long long)changes);
    sc_shmstat_destroy(t.s);
}

/* --------------------------------------------------------------- hostile */

static size_t
slurp(const char *path, unsigned char **buf)
{
    struct stat st;
    int fd = open(path, O_RDONLY);
    cr_assert_geq(fd, 0);
    cr_assert_eq(fstat(fd, &st), 0);
    *buf = malloc((size_t)st.st_size);
    cr_assert_eq(read(fd, *buf, (size_t)st.st_size), st.st_size);
    close(fd);
    return (size_t)st.st_size;
}

static int
read_bytes(const unsigned char *buf, size_t len, struct sc_err *err)
{
    char path[128];
    struct sc_shmstat_snap *snap = NULL;
    int fd, rc;

    snprintf(path, sizeof(path), "%s/hostile.scstat", dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, buf, len), (ssize_t)len);
    close(fd);
    memset(err, 0, sizeof(*err));
    rc = sc_shmstat_read(path, &snap, err);
    if (rc == 0) {
        cr_assert_not_null(snap);
        /* whatever it accepted is within its own bounds */
        for (uint32_t i = 0; i < snap->nblocks; i++)
            for (uint32_t k = 0; k < snap->blocks[i].n; k++)
                cr_assert_lt(strlen(snap->blocks[i].c[k].name), 48);
        sc_shmstat_snap_free(snap);
    } else {
        cr_assert_null(snap);
        cr_assert(err->msg[0], "an error says why");
    }
    return rc;
}

static void
put64(unsigned char *buf, size_t off, uint64_t v)
{
    memcpy(buf + off, &v, 8);
}

Test(shmstat, hostile_and_truncated_files_refused)
{
    uint64_t base = 1;
    struct sc_shmstat *s = make_writer("h", &base, 8);
    struct sc_err err;
    unsigned char *good, *bad;
    size_t len = slurp(sc_shmstat_path(s), &good);
    uint64_t table_off, meta_off;

    bad = malloc(len);
    cr_assert_eq(read_bytes(good, len, &err), 0, "%s", err.msg);

    /* every truncation, from empty to one byte short */
    for (size_t cut = 0; cut < len; cut += cut < 1024 ? 1 : 97)
        cr_assert_eq(read_bytes(good, cut, &err), -EBADMSG, "cut at %zu: %s", cut, err.msg);
    /* the magic, the version */
    memcpy(bad, good, len);
    bad[0] ^= 1;
    cr_assert_eq(read_bytes(bad, len, &err), -EBADMSG);
    memcpy(bad, good, len);
    bad[4] = 99;
    cr_assert_eq(read_bytes(bad, len, &err), -EBADMSG);
    /* a block count past the limit, a block table beyond the file */
    memcpy(bad, good, len);
    memset(bad + 12, 0xff, 4);
    cr_assert_eq(read_bytes(bad, len, &err), -EBADMSG);
    memcpy(&table_off, good + 56, 8);
    cr_assert_eq(table_off, 512);
    memcpy(bad, good, len);
    put64(bad, 56, UINT64_MAX - 8);
    cr_assert_eq(read_bytes(bad, len, &err), -EBADMSG);
    /* a block's counters beyond the file; a huge count */
    memcpy(&meta_off, good + table_off + 8, 8);
    memcpy(bad, good, len);
    put64(bad, table_off + 8, len - 100);
    cr_assert_eq(read_bytes(bad, len, &err), -EBADMSG, "%s", err.msg);
    memcpy(bad, good, len);
    memset(bad + table_off + 4, 0xff, 4);
    cr_assert_eq(read_bytes(bad, len, &err), -EBADMSG, "%s", err.msg);
    /* an unterminated counter name, a kind that is neither */
    memcpy(bad, good, len);
    memset(bad + meta_off, 'A', 48);
    cr_assert_eq(read_bytes(bad, len, &err), -EBADMSG, "%s", err.msg);
    memcpy(bad, good, len);
    bad[meta_off + 64] = 'x';
    cr_assert_eq(read_bytes(bad, len, &err), -EBADMSG, "%s", err.msg);
    /* unterminated labels */
    memcpy(bad, good, len);
    memset(bad + table_off + 24, 'L', SC_SHMSTAT_LABELS);
    cr_assert_eq(read_bytes(bad, len, &err), -EBADMSG, "%s", err.msg);
    /* a file grown past what its header says */
    {
        unsigned char *big = calloc(1, len + 4096);
        memcpy(big, good, len);
        cr_assert_eq(read_bytes(big, len + 4096, &err), -EBADMSG);
        free(big);
    }
    /* random damage: refused or read within bounds, never a crash */
    srand(42);
    for (int i = 0; i < 3000; i++) {
        memcpy(bad, good, len);
        for (int k = 0; k < 1 + i % 8; k++)
            bad[(size_t)rand() % (i % 2 ? 1024 : len)] = (unsigned char)rand();
        read_bytes(bad, len, &err);
    }
    /* not a regular file */
    {
        struct sc_shmstat_snap *snap;
        cr_assert_lt(sc_shmstat_read(dir, &snap, &err), 0);
        cr_assert_lt(sc_shmstat_read("/nonexistent/x.scstat", &snap, &err), 0);
    }
    free(good);
    free(bad);
    sc_shmstat_destroy(s);
}

/* -------------------------------------------------------------- loss log */

Test(shmstat, loss_log_keeps_the_last_events_in_order)
{
    uint64_t base = 1;
    struct sc_shmstat *s = make_writer("loss", &base, 16);
    struct sc_shmstat_snap *snap;
    struct sc_err err = { 0 };
    struct sc_source src = { .name = "9c5f102344a1.4660" };

    for (uint64_t i = 0; i < 40; i++) {
        struct sc_shmstat_event e = { .time_ns = 1000 + i, .first = i * 10, .last = i * 10 + 3,
                                      .count = 4, .repair_ns = i, .type = SC_SHMSTAT_EV_LOSS,
                                      .reason = SC_LOSS_RETRIES, .block = 0 };
        snprintf(e.source, sizeof(e.source), "src%llu", (unsigned long long)i);
        sc_shmstat_log(s, &e);
    }
    cr_assert_eq(sc_shmstat_read(sc_shmstat_path(s), &snap, &err), 0, "%s", err.msg);
    cr_assert_eq(snap->loss_total, 40);
    cr_assert_eq(snap->nloss, 16);
    for (uint32_t k = 0; k < 16; k++) {
        uint64_t i = 24 + k;
        char want[16];
        snprintf(want, sizeof(want), "src%llu", (unsigned long long)i);
        cr_assert_eq(snap->loss[k].first, i * 10);
        cr_assert_eq(snap->loss[k].last, i * 10 + 3);
        cr_assert_eq(snap->loss[k].time_ns, 1000 + i);
        cr_assert_str_eq(snap->loss[k].source, want);
    }
    sc_shmstat_snap_free(snap);

    /* a subscriber's events, as its on_event gives them */
    struct sc_sub_event ev = { .type = SC_EV_LOSS, .src = &src };
    ev.loss.reason = SC_LOSS_NOT_IN_WINDOW;
    ev.loss.first = 77;
    ev.loss.last = 90;
    ev.loss.packets = 14;
    sc_shmstat_log_sub(s, 1, &ev);
    ev.type = SC_EV_NAK_UNANSWERED;
    ev.nak.reason = SC_NAK_UNREACHABLE;
    ev.nak.addr = htonl(0xc6120001); /* 198.18.0.1 */
    ev.nak.port = 3055;
    sc_shmstat_log_sub(s, 0, &ev);
    cr_assert_eq(sc_shmstat_read(sc_shmstat_path(s), &snap, &err), 0, "%s", err.msg);
    cr_assert_eq(snap->loss_total, 42);
    const struct sc_shmstat_event *a = &snap->loss[14], *b = &snap->loss[15];
    cr_assert_eq(a->type, SC_SHMSTAT_EV_LOSS);
    cr_assert_str_eq(sc_shmstat_reason_name(a->type, a->reason), "not_in_window");
    cr_assert_eq(a->first, 77);
    cr_assert_eq(a->count, 14);
    cr_assert_eq(a->block, 1);
    cr_assert_str_eq(a->source, "9c5f102344a1.4660");
    cr_assert_gt(a->time_ns, 1000000000ull * 1600000000ull, "real time filled in");
    cr_assert_str_eq(sc_shmstat_ev_name(b->type), "nak_unanswered");
    cr_assert_str_eq(b->peer, "198.18.0.1:3055");
    sc_shmstat_snap_free(snap);
    sc_shmstat_destroy(s);
}

/* A subscriber's repair events: one entry each, with range, count, wait, how
 * and where it NAKed; at most loss_log / 16 (4 at least) a second, the rest
 * counted, and losses are logged whatever the repairs did. */
Test(shmstat, repair_entries_within_their_budget)
{
    uint64_t base = 1;
    struct sc_shmstat *s = make_writer("repair", &base, 64);
    struct sc_shmstat_snap *snap;
    struct sc_err err = { 0 };
    struct sc_source src = { .name = "9c5f102344a1.4660" };
    struct sc_sub_event ev = { .type = SC_EV_REPAIR, .src = &src };
    const struct sc_shmstat_event *e;

    ev.repair.how = SC_REPAIR_NAK;
    ev.repair.first = 1000;
    ev.repair.last = 1009;
    ev.repair.packets = 10;
    ev.repair.wait_ns = 3500000000ull;
    ev.repair.addr = htonl(0xc6120001); /* 198.18.0.1 */
    ev.repair.port = 3055;
    sc_shmstat_log_sub(s, 0, &ev);
    cr_assert_eq(sc_shmstat_read(sc_shmstat_path(s), &snap, &err), 0, "%s", err.msg);
    cr_assert_eq(snap->nloss, 1);
    e = &snap->loss[0];
    cr_assert_str_eq(sc_shmstat_ev_name(e->type), "repair");
    cr_assert_str_eq(sc_shmstat_reason_name(e->type, e->reason), "nak");
    cr_assert_eq(e->first, 1000);
    cr_assert_eq(e->last, 1009);
    cr_assert_eq(e->count, 10);
    cr_assert_eq(e->repair_ns, 3500000000ull);
    cr_assert_str_eq(e->peer, "198.18.0.1:3055");
    cr_assert_str_eq(e->source, "9c5f102344a1.4660");
    sc_shmstat_snap_free(snap);

    /* a MoldUDP64 answer: the server's address, no port */
    ev.repair.how = SC_REPAIR_REREQUEST;
    ev.repair.port = 0;
    for (int i = 0; i < 100; i++)
        sc_shmstat_log_sub(s, 0, &ev);
    ev.type = SC_EV_LOSS;
    ev.loss.reason = SC_LOSS_RETRIES;
    ev.loss.first = ev.loss.last = ev.loss.packets = 1;
    sc_shmstat_log_sub(s, 0, &ev);
    cr_assert_eq(sc_shmstat_read(sc_shmstat_path(s), &snap, &err), 0, "%s", err.msg);
    /* within one second (the test takes far less; at a second's edge the
     * budget starts again once): 4 repairs, then the loss */
    cr_assert(snap->loss_total == 5 || snap->loss_total == 9, "%llu",
              (unsigned long long)snap->loss_total);
    cr_assert_eq(snap->repairs_unlogged, 101 - (snap->loss_total - 1));
    cr_assert_str_eq(sc_shmstat_reason_name(snap->loss[1].type, snap->loss[1].reason),
                     "rerequest");
    cr_assert_str_eq(snap->loss[1].peer, "198.18.0.1");
    cr_assert_eq(snap->loss[snap->nloss - 1].type, SC_SHMSTAT_EV_LOSS);
    sc_shmstat_snap_free(snap);
    sc_shmstat_destroy(s);
}

/* ----------------------------------------------------------------- stale */

Test(shmstat, dead_process_file_is_stale_and_cleaned)
{
    uint64_t base = 1;
    struct sc_shmstat *live = make_writer("live", &base, 0);
    struct sc_shmstat_snap *snap;
    struct sc_err err = { 0 };
    char dead[256], **paths;
    pid_t pid = fork();
    int st, n;

    cr_assert_geq(pid, 0);
    if (pid == 0) { /* a process that dies without destroying its writer */
        uint64_t b2 = 2;
        struct sc_shmstat_params p = { dir, "test-prog", "dead", 0, 0 };
        struct sc_shmstat_block b = { SC_COUNTERS_SUB, "", get_sub_fake, &b2,
                                      sizeof(struct sc_sub_stats), 0, false, 0 };
        struct sc_shmstat *s;
        if (sc_shmstat_create(&s, &p, NULL) || sc_shmstat_add(s, &b, NULL) ||
            sc_shmstat_open(s, NULL))
            _exit(1);
        _exit(0);
    }
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    snprintf(dead, sizeof(dead), "%s/test-prog.%d.dead.scstat", dir, (int)pid);
    cr_assert_eq(sc_shmstat_read(dead, &snap, &err), 0, "%s", err.msg);
    cr_assert(snap->stale, "pid %d is gone", (int)pid);
    sc_shmstat_snap_free(snap);
    cr_assert_eq(sc_shmstat_read(sc_shmstat_path(live), &snap, &err), 0, "%s", err.msg);
    cr_assert_not(snap->stale);
    sc_shmstat_snap_free(snap);

    /* our own pid, but another start time: a reused pid */
    cr_assert(sc_shmstat_alive(getpid(), 0));
    cr_assert_not(sc_shmstat_alive(getpid(), 1));
    cr_assert_not(sc_shmstat_alive(pid, 0));

    n = sc_shmstat_list(dir, &paths);
    cr_assert_eq(n, 2);
    free(paths);
    cr_assert_eq(sc_shmstat_clean(dir), 1);
    cr_assert_eq(access(dead, F_OK), -1, "the stale file is gone");
    cr_assert_eq(access(sc_shmstat_path(live), F_OK), 0, "the live one stays");
    n = sc_shmstat_list(dir, &paths);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(paths[0], sc_shmstat_path(live));
    free(paths);
    sc_shmstat_destroy(live);
}
