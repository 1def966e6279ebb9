/* The archive's store (engine/archive/store.c): appends and reads across
 * segments; the sparse index rebuilt at reopen; gaps recorded explicitly
 * (given, and implied by a jump) and read back as gaps, never as data;
 * retention by size and by age (whole oldest segments); a torn tail cut and
 * counted; damage in the middle of a segment named (file, byte) with the
 * damaged sequences never served and the records around them still read; a
 * full disk (a real 64 KiB tmpfs in a private mount namespace) and injected
 * write and sync failures leaving nothing half written. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/archive/store.h"
#include "engine/record.h"

static char dir[64];

static void
setup(void)
{
    char cmd[128];
    snprintf(dir, sizeof(dir), "/tmp/seqcast-astore-test-%d", (int)getpid());
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

static void
teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd)) {
    }
}

static int
msg(uint64_t seq, char *m)
{
    /* lengths vary from 1 to ~80 bytes, contents depend on seq */
    int n = snprintf(m, 128, "message %llu ", (unsigned long long)seq);
    for (uint64_t k = 0; k < seq % 60; k++)
        m[n++] = (char)('a' + (seq + k) % 26);
    return n;
}

static void
open_store(struct sc_astore *s, const struct sc_astore_cfg *cfg)
{
    struct sc_err err = {0};
    cr_assert_eq(sc_astore_open(s, dir, cfg, &err), 0, "%s", err.msg);
}

static void
fill(struct sc_astore *s, uint64_t from, uint64_t to)
{
    char m[128];
    for (uint64_t i = from; i <= to; i++) {
        int n = msg(i, m);
        cr_assert_eq(sc_astore_append(s, i, m, (uint16_t)n), 0, "append %llu",
                     (unsigned long long)i);
    }
}

static void
expect_msg(struct sc_astore *s, uint64_t seq)
{
    char m[128], want[128];
    struct sc_astore_rec r;
    int w = msg(seq, want), n = sc_astore_read(s, seq, m, sizeof(m), &r);
    cr_assert_eq(n, w, "seq %llu: read %d, want %d bytes", (unsigned long long)seq, n, w);
    cr_assert_eq(memcmp(m, want, (size_t)n), 0, "seq %llu", (unsigned long long)seq);
    cr_assert_eq(r.from, seq);
}

static void
expect_range(struct sc_astore *s, uint64_t from, uint64_t to)
{
    for (uint64_t i = from; i <= to; i++)
        expect_msg(s, i);
}

static void
expect_gap(struct sc_astore *s, uint64_t seq, uint64_t from, uint64_t to)
{
    char m[128];
    struct sc_astore_rec r;
    cr_assert_eq(sc_astore_read(s, seq, m, sizeof(m), &r), -ENODATA, "seq %llu",
                 (unsigned long long)seq);
    cr_assert_eq(r.from, from);
    cr_assert_eq(r.to, to);
}

static int
count_segs(void)
{
    char cmd[160];
    FILE *f;
    int n = -1;
    snprintf(cmd, sizeof(cmd), "ls %s | grep -c '\\.seg$'", dir);
    f = popen(cmd, "r");
    cr_assert(f);
    cr_assert_eq(fscanf(f, "%d", &n), 1);
    pclose(f);
    return n;
}

static void
seg_path(char *p, size_t n, uint64_t id)
{
    snprintf(p, n, "%s/%020llu.seg", dir, (unsigned long long)id);
}

static off_t
seg_size(uint64_t id)
{
    char p[128];
    struct stat st;
    seg_path(p, sizeof(p), id);
    cr_assert_eq(stat(p, &st), 0, "%s", p);
    return st.st_size;
}

static void
poke(uint64_t id, off_t off, const void *b, size_t n)
{
    char p[128];
    int fd;
    seg_path(p, sizeof(p), id);
    fd = open(p, O_WRONLY);
    cr_assert(fd >= 0);
    cr_assert_eq(pwrite(fd, b, n, off), (ssize_t)n);
    close(fd);
}

static void
peek(uint64_t id, off_t off, void *b, size_t n)
{
    char p[128];
    int fd;
    seg_path(p, sizeof(p), id);
    fd = open(p, O_RDONLY);
    cr_assert(fd >= 0);
    cr_assert_eq(pread(fd, b, n, off), (ssize_t)n);
    close(fd);
}

static const struct sc_astore_cfg small = {.segment_bytes = 4096, .index_bytes = 512,
                                           .fsync = SC_FSYNC_NONE};

TestSuite(astore, .init = setup, .fini = teardown, .timeout = 30);

Test(astore, appends_and_reads_across_segments)
{
    struct sc_astore s;
    char m[128];
    struct sc_astore_rec r;

    open_store(&s, &small);
    fill(&s, 1, 2000);
    cr_assert_gt(s.nseg, 10, "%zu segments", s.nseg);
    cr_assert_eq(count_segs(), (int)s.nseg);
    for (size_t i = 0; i < s.nseg; i++)
        cr_assert_leq(s.seg[i].size, small.segment_bytes);
    cr_assert_gt(s.nix, s.nseg); /* sparse: more than one entry a segment, */
    cr_assert_lt(s.nix, 2000 / 4); /* far fewer than one a record */
    expect_range(&s, 1, 2000);
    /* random order: each read through the index, not the forward cursor */
    for (uint64_t k = 1, v = 7; k <= 500; k++) {
        v = v * 6364136223846793005ull + 1442695040888963407ull;
        expect_msg(&s, 1 + (v >> 33) % 2000);
    }
    cr_assert_eq(sc_astore_read(&s, 0, m, sizeof(m), &r), -ERANGE);
    cr_assert_eq(sc_astore_read(&s, 2001, m, sizeof(m), &r), -ERANGE);
    cr_assert_eq(sc_astore_read(&s, 1999, m, 4, &r), -ENOSPC);
    cr_assert_eq(s.st.appended, 2000);
    cr_assert_eq(sc_astore_append(&s, 2000, "x", 1), -EEXIST);
    cr_assert_eq(sc_astore_append(&s, 17, "x", 1), -EEXIST);
    cr_assert_eq(s.st.duplicates, 2);
    sc_astore_close(&s);
}

Test(astore, the_index_is_rebuilt_at_reopen)
{
    struct sc_astore s;
    struct sc_astore_ix *ix;
    size_t nix, nseg;

    open_store(&s, &small);
    fill(&s, 100, 1500); /* an archive may start anywhere */
    nix = s.nix;
    nseg = s.nseg;
    ix = malloc(nix * sizeof(*ix));
    memcpy(ix, s.ix, nix * sizeof(*ix));
    sc_astore_close(&s);

    open_store(&s, &small);
    cr_assert_eq(s.first, 100);
    cr_assert_eq(s.last, 1500);
    cr_assert_eq(s.nseg, nseg);
    cr_assert_eq(s.nix, nix);
    cr_assert_eq(memcmp(s.ix, ix, nix * sizeof(*ix)), 0);
    cr_assert_eq(s.st.torn_bytes, 0);
    cr_assert_eq(s.st.damaged_ranges, 0);
    cr_assert_str_empty(s.damage_msg);
    expect_range(&s, 100, 1500);
    fill(&s, 1501, 1600); /* and appends carry on */
    sc_astore_close(&s);
    open_store(&s, &small);
    expect_range(&s, 100, 1600);
    sc_astore_close(&s);
    free(ix);
}

Test(astore, gaps_are_recorded_and_read_as_gaps)
{
    struct sc_astore s;
    struct sc_astore_rec r_unused;
    char m[128];

    open_store(&s, &small);
    fill(&s, 1, 10);
    cr_assert_eq(sc_astore_gap(&s, 11, 20), 0);     /* a loss event */
    cr_assert_eq(sc_astore_gap(&s, 5, 15), 0);      /* already covered: nothing */
    fill(&s, 25, 30);                                /* a jump: 21-24 recorded as a gap */
    cr_assert_eq(sc_astore_gap(&s, 40, 41), 0);      /* 31-39 too: nothing goes unaccounted */
    fill(&s, 42, 42);
    for (int pass = 0; pass < 2; pass++) {
        cr_assert_eq(s.st.gaps, 3);
        cr_assert_eq(s.st.gap_seqs, 10 + 4 + 11);
        expect_range(&s, 1, 10);
        for (uint64_t i = 11; i <= 20; i++)
            expect_gap(&s, i, 11, 20);
        expect_gap(&s, 22, 21, 24);
        expect_range(&s, 25, 30);
        expect_gap(&s, 35, 31, 41);
        expect_msg(&s, 42);
        cr_assert_eq(sc_astore_read(&s, 43, m, sizeof(m), &r_unused), -ERANGE);
        sc_astore_close(&s);
        open_store(&s, &small); /* and the same after reopen */
    }
    fill(&s, 43, 43);
    sc_astore_close(&s);
}

Test(astore, retention_by_size_deletes_whole_oldest_segments)
{
    struct sc_astore_cfg cfg = small;
    struct sc_astore s;
    char m[128];
    struct sc_astore_rec r;
    int n;

    cfg.retain_bytes = 5 * 4096;
    open_store(&s, &cfg);
    fill(&s, 1, 3000);
    cr_assert_gt(s.bytes, cfg.retain_bytes);
    n = sc_astore_retain(&s, time(NULL));
    cr_assert_gt(n, 0);
    cr_assert_leq(s.bytes, cfg.retain_bytes, "%llu bytes", (unsigned long long)s.bytes);
    cr_assert_gt(s.bytes, cfg.retain_bytes - 4096); /* whole segments only: no more than needed */
    cr_assert_eq(count_segs(), (int)s.nseg);
    cr_assert_eq(s.st.segments_deleted, (uint64_t)n);
    cr_assert_eq(s.first, s.seg[0].first);
    cr_assert_gt(s.first, 1);
    cr_assert_eq(sc_astore_read(&s, s.first - 1, m, sizeof(m), &r), -ERANGE);
    expect_range(&s, s.first, 3000);
    uint64_t first = s.first;
    sc_astore_close(&s);
    open_store(&s, &cfg);
    cr_assert_eq(s.first, first);
    expect_range(&s, first, 3000);
    sc_astore_close(&s);
}

Test(astore, retention_by_age_never_deletes_the_segment_being_written)
{
    struct sc_astore_cfg cfg = small;
    struct sc_astore s;
    time_t now = time(NULL);

    cfg.retain_age_s = 3600;
    open_store(&s, &cfg);
    fill(&s, 1, 1000);
    cr_assert_gt(s.nseg, 4);
    cr_assert_eq(sc_astore_retain(&s, now), 0); /* all young */
    /* the three oldest were last written two hours ago */
    for (size_t i = 0; i < 3; i++) {
        struct timespec t[2] = {{now - 7200, 0}, {now - 7200, 0}};
        cr_assert_eq(futimens(s.seg[i].fd, t), 0);
    }
    uint64_t want_first = s.seg[3].first;
    cr_assert_eq(sc_astore_retain(&s, now), 3);
    cr_assert_eq(s.first, want_first);
    expect_range(&s, want_first, 1000);
    /* everything old: all but the segment being written go */
    for (size_t i = 0; i < s.nseg; i++) {
        struct timespec t[2] = {{now - 7200, 0}, {now - 7200, 0}};
        cr_assert_eq(futimens(s.seg[i].fd, t), 0);
    }
    cr_assert_gt(sc_astore_retain(&s, now), 0);
    cr_assert_eq(s.nseg, 1);
    cr_assert_eq(count_segs(), 1);
    expect_range(&s, s.first, 1000);
    fill(&s, 1001, 1010);
    sc_astore_close(&s);
}

Test(astore, a_torn_tail_is_cut_and_counted)
{
    struct sc_astore s;
    uint8_t junk[40];
    off_t size;
    uint64_t id;

    open_store(&s, &small);
    fill(&s, 1, 300);
    id = s.seg[s.nseg - 1].id;
    sc_astore_close(&s);
    size = seg_size(id);
    /* a record cut short: a whole header for 301, half its payload */
    memset(junk, 0x5a, sizeof(junk));
    sc_rec_put_header(junk, 2, 301, junk + 16, 24);
    poke(id, size, junk, sizeof(junk) - 10);
    open_store(&s, &small);
    cr_assert_eq(s.st.torn_bytes, sizeof(junk) - 10);
    cr_assert_eq(seg_size(id), size, "the file is really cut");
    cr_assert_eq(s.last, 300);
    cr_assert_str_empty(s.damage_msg);
    expect_range(&s, 1, 300);
    fill(&s, 301, 320);
    sc_astore_close(&s);
    /* zero-filled blocks at the end are a torn tail too */
    uint8_t zeros[512] = {0};
    poke(id, seg_size(id), zeros, sizeof(zeros));
    open_store(&s, &small);
    cr_assert_eq(s.st.torn_bytes, sizeof(zeros));
    expect_range(&s, 1, 320);
    sc_astore_close(&s);
}

Test(astore, damage_mid_segment_is_named_and_never_served)
{
    struct sc_astore s;
    char m[128];
    struct sc_astore_rec r;
    uint64_t id, off50 = 0;
    uint8_t x;

    open_store(&s, &small);
    fill(&s, 1, 40);
    id = s.seg[0].id;
    cr_assert_eq(s.nseg, 1);
    /* record 20's offset: read 19, the cursor then points at 20 */
    expect_msg(&s, 19);
    off50 = s.cur.off;
    sc_astore_close(&s);
    peek(id, (off_t)off50 + 20, &x, 1);
    x ^= 0x01;
    poke(id, (off_t)off50 + 20, &x, 1); /* a flipped bit in record 20's payload */
    open_store(&s, &small);
    cr_assert_eq(s.st.damaged_ranges, 1);
    cr_assert_eq(s.st.damaged_seqs, 1);
    cr_assert(strstr(s.damage_msg, "00000000000000000001.seg"), "%s", s.damage_msg);
    cr_assert(strstr(s.damage_msg, "byte"), "%s", s.damage_msg);
    cr_assert(strstr(s.damage_msg, "20-20"), "%s", s.damage_msg);
    cr_assert_eq(sc_astore_read(&s, 20, m, sizeof(m), &r), -EBADMSG);
    cr_assert_eq(r.from, 20);
    cr_assert_eq(r.to, 20);
    expect_range(&s, 1, 19);
    expect_range(&s, 21, 40);
    cr_assert_eq(s.last, 40);
    /* the damaged segment is left alone: appends go to a new one */
    cr_assert_eq(s.nseg, 2);
    fill(&s, 41, 60);
    sc_astore_close(&s);
    open_store(&s, &small);
    cr_assert_eq(sc_astore_read(&s, 20, m, sizeof(m), &r), -EBADMSG);
    expect_range(&s, 1, 19);
    expect_range(&s, 21, 60);
    sc_astore_close(&s);
}

/* A full disk, for real: a 64 KiB tmpfs mounted in a private mount namespace
 * (this test's own process; Criterion runs each test in one). */
Test(astore, a_full_disk_stops_appends_and_corrupts_nothing)
{
    struct sc_astore_cfg cfg = small;
    struct sc_astore s;
    struct sc_err err;
    char m[128];
    uint64_t seq = 1, ok;
    int rc = 0, n;

    if (geteuid() != 0)
        cr_skip_test("needs root (a tmpfs in a private mount namespace)");
    cr_assert_eq(unshare(CLONE_NEWNS), 0, "unshare: %s", strerror(errno));
    cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
    cr_assert_eq(mkdir(dir, 0755), 0);
    cr_assert_eq(mount("tmpfs", dir, "tmpfs", 0, "size=64k"), 0, "mount: %s", strerror(errno));
    strcat(dir, "/a");
    cfg.fsync = SC_FSYNC_MESSAGE;
    open_store(&s, &cfg);
    while (seq < 100000) {
        n = msg(seq, m);
        if ((rc = sc_astore_append(&s, seq, m, (uint16_t)n)) < 0)
            break;
        seq++;
    }
    cr_assert_eq(rc, -ENOSPC, "append %llu: %d", (unsigned long long)seq, rc);
    ok = seq - 1;
    cr_assert_gt(ok, 100);
    cr_assert_eq(s.last, ok);
    cr_assert_eq(s.st.disk_full, 1);
    cr_assert_eq(s.st.write_errors, 1);
    /* it stays full: each attempt fails the same way, nothing appended */
    cr_assert_eq(sc_astore_append(&s, seq, m, (uint16_t)n), -ENOSPC);
    cr_assert_eq(s.st.disk_full, 2);
    cr_assert_eq(s.last, ok);
    expect_range(&s, 1, ok);
    sc_astore_close(&s);
    /* what is there is whole: no torn bytes, no damage, every record reads */
    cr_assert_eq(sc_astore_open(&s, dir, &cfg, &err), 0, "%s", err.msg);
    cr_assert_eq(s.st.torn_bytes, 0);
    cr_assert_eq(s.st.damaged_ranges, 0);
    cr_assert_eq(s.last, ok);
    expect_range(&s, 1, ok);
    sc_astore_close(&s);
    dir[strlen(dir) - 2] = 0;
    umount(dir);
}

static int fail_writes, fail_syncs;

static ssize_t
short_pwrite(int fd, const void *b, size_t n, off_t off)
{
    if (fail_writes) {
        fail_writes--;
        return pwrite(fd, b, n / 2, off); /* half of it reaches the disk */
    }
    return pwrite(fd, b, n, off);
}

static int
failing_fdatasync(int fd)
{
    if (fail_syncs) {
        fail_syncs--;
        errno = EIO;
        return -1;
    }
    return fdatasync(fd);
}

Test(astore, a_short_write_is_rolled_back)
{
    struct sc_astore s;
    uint64_t id;
    off_t size;
    char m[128];
    int n;

    open_store(&s, &small);
    fill(&s, 1, 10);
    s.sys_pwrite = short_pwrite;
    id = s.seg[s.nseg - 1].id;
    size = seg_size(id);
    fail_writes = 1;
    n = msg(11, m);
    cr_assert_eq(sc_astore_append(&s, 11, m, (uint16_t)n), -ENOSPC);
    cr_assert_eq(seg_size(id), size, "the half record is cut off");
    cr_assert_eq(s.last, 10);
    cr_assert_eq(s.st.disk_full, 1);
    fill(&s, 11, 20);
    expect_range(&s, 1, 20);
    sc_astore_close(&s);
    open_store(&s, &small);
    cr_assert_eq(s.st.torn_bytes, 0);
    expect_range(&s, 1, 20);
    sc_astore_close(&s);
}

Test(astore, a_failed_batch_sync_rolls_back_and_the_loss_becomes_a_gap)
{
    struct sc_astore_cfg cfg = small;
    struct sc_astore s;

    cfg.fsync = SC_FSYNC_BATCH;
    open_store(&s, &cfg);
    fill(&s, 1, 10);
    cr_assert_eq(sc_astore_sync(&s), 0);
    fill(&s, 11, 15);
    s.sys_fdatasync = failing_fdatasync;
    fail_syncs = 1;
    cr_assert_eq(sc_astore_sync(&s), -EIO);
    cr_assert_eq(s.last, 10);
    cr_assert_eq(s.st.rolled_back, 5);
    fill(&s, 16, 20); /* 11-15 are given up: a gap, not a hole */
    cr_assert_eq(sc_astore_sync(&s), 0);
    expect_range(&s, 1, 10);
    expect_gap(&s, 13, 11, 15);
    expect_range(&s, 16, 20);
    sc_astore_close(&s);
    open_store(&s, &cfg);
    expect_range(&s, 1, 10);
    expect_gap(&s, 11, 11, 15);
    expect_range(&s, 16, 20);
    cr_assert_eq(s.st.damaged_ranges, 0);
    sc_astore_close(&s);
}

Test(astore, one_process_at_a_time)
{
    struct sc_astore a, b;
    struct sc_err err;

    open_store(&a, &small);
    cr_assert_eq(sc_astore_open(&b, dir, &small, &err), -EWOULDBLOCK);
    cr_assert(strstr(err.msg, "in use"), "%s", err.msg);
    sc_astore_close(&a);
}

static unsigned preads;

static ssize_t
counting_pread(int fd, void *b, size_t n, off_t off)
{
    preads++;
    return pread(fd, b, n, off);
}

static void
expect_at(struct sc_astore *s, struct sc_astore_cursor *c, uint64_t seq)
{
    char want[128];
    const void *m;
    struct sc_astore_rec r;
    int w = msg(seq, want), n = sc_astore_read_at(s, c, seq, &m, &r);

    cr_assert_eq(n, w, "seq %llu: read %d, want %d bytes", (unsigned long long)seq, n, w);
    cr_assert_eq(memcmp(m, want, (size_t)n), 0, "seq %llu", (unsigned long long)seq);
}

/* Two readers taking turns (rewind sessions) each read forward through their
 * own cursor: a pread a block, not two a record, and no search; a record read
 * again (a session whose output was full) costs nothing. */
Test(astore, cursors_read_forward_a_block_at_a_time)
{
    struct sc_astore_cfg cfg = {.segment_bytes = 1u << 20, .index_bytes = 4096,
                                .fsync = SC_FSYNC_NONE};
    struct sc_astore s;
    struct sc_astore_cursor a = {0}, b = {0};
    unsigned most;

    open_store(&s, &cfg);
    fill(&s, 1, 30000);
    cr_assert_geq(s.nseg, 2);
    s.sys_pread = counting_pread;
    for (uint64_t i = 1; i <= 30000; i++) {
        expect_at(&s, &a, i);
        expect_at(&s, &a, i); /* again */
        expect_at(&s, &b, i);
    }
    /* each cursor: the blocks of its bytes, and one more a segment */
    most = 2 * (unsigned)(s.bytes / SC_ASTORE_BLOCK + 2 * s.nseg);
    cr_assert_leq(preads, most, "%u preads for 2 x 30,000 records (%llu bytes): at most %u",
                  preads, (unsigned long long)s.bytes, most);
    sc_astore_cursor_free(&a);
    sc_astore_cursor_free(&b);
    sc_astore_close(&s);
}

/* A failed batch sync cuts bytes a cursor's block may hold; what is written in
 * their place is read, never the block's stale copy. */
Test(astore, a_rolled_back_sync_is_not_read_from_a_cursors_block)
{
    struct sc_astore_cfg cfg = small;
    struct sc_astore s;
    struct sc_astore_cursor c = {0};
    struct sc_astore_rec r;
    const void *m;

    cfg.fsync = SC_FSYNC_BATCH;
    open_store(&s, &cfg);
    fill(&s, 1, 10);
    cr_assert_eq(sc_astore_sync(&s), 0);
    fill(&s, 11, 15);
    for (uint64_t i = 1; i <= 15; i++)
        expect_at(&s, &c, i);
    s.sys_fdatasync = failing_fdatasync;
    fail_syncs = 1;
    cr_assert_eq(sc_astore_sync(&s), -EIO);
    fill(&s, 16, 20); /* a gap record for 11-15 where 11 was */
    cr_assert_eq(sc_astore_read_at(&s, &c, 15, &m, &r), -ENODATA);
    cr_assert_eq(sc_astore_read_at(&s, &c, 11, &m, &r), -ENODATA);
    cr_assert_eq(r.from, 11);
    cr_assert_eq(r.to, 15);
    for (uint64_t i = 16; i <= 20; i++)
        expect_at(&s, &c, i);
    sc_astore_cursor_free(&c);
    sc_astore_close(&s);
}

static unsigned pwrites;

static ssize_t
counting_pwrite(int fd, const void *b, size_t n, off_t off)
{
    pwrites++;
    return short_pwrite(fd, b, n, off);
}

/* With a write buffer the records reach the file a pwrite per buffer, not one
 * per append (one per record held the archive to ~2 M msg/s and lost a third
 * of a full-rate feed); reads, syncs and close see every record appended. */
Test(astore, a_write_buffer_writes_a_buffer_at_a_time)
{
    struct sc_astore_cfg cfg = {.segment_bytes = 8u << 20, .index_bytes = 4096,
                                .fsync = SC_FSYNC_BATCH, .write_buffer = 64u << 10};
    struct sc_astore s;
    unsigned most;

    open_store(&s, &cfg);
    s.sys_pwrite = counting_pwrite;
    fill(&s, 1, 20000);
    most = (unsigned)(s.bytes / cfg.write_buffer) + 1;
    cr_assert_leq(pwrites, most, "%u pwrites for 20,000 appends (%llu bytes): at most %u", pwrites,
                  (unsigned long long)s.bytes, most);
    expect_range(&s, 1, 20000); /* read: flushed first */
    fill(&s, 20001, 20100);
    cr_assert_eq(sc_astore_sync(&s), 0);
    cr_assert_eq(s.durable_last, 20100);
    fill(&s, 20101, 20200); /* written at close */
    sc_astore_close(&s);
    open_store(&s, &cfg);
    cr_assert_eq(s.st.torn_bytes, 0);
    expect_range(&s, 1, 20200);
    sc_astore_close(&s);
}

/* A flush that fails gives up what was gathered since the last one (as a failed
 * sync does); the next append records it as a gap, nothing torn is left. */
Test(astore, a_failed_flush_rolls_back_and_the_loss_becomes_a_gap)
{
    struct sc_astore_cfg cfg = small;
    struct sc_astore s;

    cfg.write_buffer = 64u << 10;
    open_store(&s, &cfg);
    fill(&s, 1, 10);
    cr_assert_eq(sc_astore_flush(&s), 0);
    fill(&s, 11, 15);
    s.sys_pwrite = short_pwrite;
    fail_writes = 1;
    cr_assert_eq(sc_astore_flush(&s), -ENOSPC);
    cr_assert_eq(s.last, 10);
    cr_assert_eq(s.st.rolled_back, 5);
    cr_assert_eq(s.st.disk_full, 1);
    fill(&s, 16, 20);
    expect_range(&s, 1, 10);
    expect_gap(&s, 13, 11, 15);
    expect_range(&s, 16, 20);
    sc_astore_close(&s);
    open_store(&s, &cfg);
    cr_assert_eq(s.st.torn_bytes, 0);
    cr_assert_eq(s.st.damaged_ranges, 0);
    expect_range(&s, 1, 10);
    expect_gap(&s, 11, 11, 15);
    expect_range(&s, 16, 20);
    sc_astore_close(&s);
}

/* fsync batch off the appending thread: appends go on while the store's thread
 * syncs; durable_last moves when the sync is collected, and a failed one rolls
 * back everything not durable, as sc_astore_sync's does. */
Test(astore, a_sync_in_the_background_moves_durable_last_or_rolls_back)
{
    struct sc_astore_cfg cfg = small;
    struct sc_astore s;
    int rc = 0;

    cfg.fsync = SC_FSYNC_BATCH;
    cfg.write_buffer = 64u << 10;
    open_store(&s, &cfg);
    fill(&s, 1, 10);
    cr_assert_eq(sc_astore_sync_start(&s), 0);
    cr_assert(sc_astore_syncing(&s));
    fill(&s, 11, 12); /* while it runs */
    cr_assert_eq(sc_astore_sync_start(&s), 0, "one at a time: this one only writes");
    for (int i = 0; i < 5000 && sc_astore_syncing(&s); i++) {
        cr_assert_eq(sc_astore_sync_poll(&s), 0);
        usleep(1000);
    }
    cr_assert(!sc_astore_syncing(&s));
    cr_assert_eq(s.durable_last, 10);
    cr_assert(s.dirty);
    s.sys_fdatasync = failing_fdatasync;
    fail_syncs = 1;
    cr_assert_eq(sc_astore_sync_start(&s), 0);
    fill(&s, 13, 15);
    for (int i = 0; i < 5000 && sc_astore_syncing(&s) && !rc; i++) {
        rc = sc_astore_sync_poll(&s);
        usleep(1000);
    }
    cr_assert_eq(rc, -EIO);
    cr_assert_eq(s.last, 10, "11-15 were not durable");
    cr_assert_eq(s.st.rolled_back, 5);
    fill(&s, 16, 20);
    cr_assert_eq(sc_astore_sync(&s), 0);
    expect_range(&s, 1, 10);
    expect_gap(&s, 13, 11, 15);
    expect_range(&s, 16, 20);
    sc_astore_close(&s);
    open_store(&s, &cfg);
    cr_assert_eq(s.st.torn_bytes, 0);
    expect_range(&s, 1, 10);
    expect_gap(&s, 11, 11, 15);
    expect_range(&s, 16, 20);
    sc_astore_close(&s);
}

/* The records' CRC-32 (IEEE, reflected): the check value, and every length
 * and alignment against a byte at a time (the table steps of 8 and 4). */
Test(astore, crc32_is_the_standard_one_at_every_length)
{
    uint8_t b[80];

    cr_assert_eq(sc_crc32(0, "123456789", 9), 0xCBF43926u);
    for (unsigned i = 0; i < sizeof(b); i++)
        b[i] = (uint8_t)(i * 37 + 11);
    for (unsigned off = 0; off < 8; off++)
        for (unsigned n = 0; off + n <= sizeof(b); n++) {
            uint32_t c = 0xFFFFFFFFu;
            for (unsigned i = 0; i < n; i++) {
                c ^= b[off + i];
                for (int k = 0; k < 8; k++)
                    c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }
            cr_assert_eq(sc_crc32(0, b + off, n), ~c, "offset %u length %u", off, n);
            cr_assert_eq(sc_crc32(sc_crc32(0, b + off, n / 3), b + off + n / 3, n - n / 3), ~c,
                         "in two calls: offset %u length %u", off, n);
        }
}
