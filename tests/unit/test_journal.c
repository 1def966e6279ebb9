/* Journal: round trip, recovery after reopen, a torn tail (a crash mid-write)
 * and a damaged record cut at open, appends continuing after them; memory mode. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/journal.h"

static char path[64];

static void
setup(void)
{
    snprintf(path, sizeof(path), "/tmp/seqcast-journal-test-%d.bin", (int)getpid());
    unlink(path);
}

static void
teardown(void)
{
    unlink(path);
}

static void
fill(struct sc_journal *j, int from, int to)
{
    char m[64];
    for (int i = from; i <= to; i++) {
        int n = snprintf(m, sizeof(m), "message %d", i);
        cr_assert_eq(sc_journal_append(j, m, (uint16_t)n), 0);
    }
}

static void
check(struct sc_journal *j, int upto)
{
    char m[64], want[64];
    cr_assert_eq(j->count, (uint64_t)upto);
    for (int i = 1; i <= upto; i++) {
        int n = sc_journal_read(j, (uint64_t)i, m, sizeof(m));
        int w = snprintf(want, sizeof(want), "message %d", i);
        cr_assert_eq(n, w, "seq %d", i);
        cr_assert_eq(memcmp(m, want, (size_t)n), 0, "seq %d", i);
    }
}

Test(journal, survives_reopen, .init = setup, .fini = teardown)
{
    struct sc_journal j;
    struct sc_err err;

    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_BATCH, &err), 0, "%s", err.msg);
    fill(&j, 1, 1000);
    cr_assert_eq(sc_journal_sync(&j), 0);
    sc_journal_close(&j);
    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_MESSAGE, &err), 0, "%s", err.msg);
    check(&j, 1000);
    cr_assert_eq(j.torn_bytes, 0);
    fill(&j, 1001, 1010);
    sc_journal_close(&j);
    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_NONE, &err), 0);
    check(&j, 1010);
    cr_assert_lt(sc_journal_read(&j, 0, NULL, 0), 0);
    cr_assert_lt(sc_journal_read(&j, 1011, NULL, 0), 0);
    sc_journal_close(&j);
}

Test(journal, torn_tail_is_cut_and_appends_continue, .init = setup, .fini = teardown)
{
    struct sc_journal j;
    struct sc_err err;
    struct stat st;

    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_NONE, &err), 0);
    fill(&j, 1, 100);
    sc_journal_close(&j);
    stat(path, &st);
    cr_assert_eq(truncate(path, st.st_size - 3), 0); /* a crash in the middle of record 100 */
    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_NONE, &err), 0, "%s", err.msg);
    check(&j, 99);
    cr_assert_gt(j.torn_bytes, 0);
    fill(&j, 100, 120); /* the cut record is written again, and more */
    sc_journal_close(&j);
    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_NONE, &err), 0);
    check(&j, 120);
    cr_assert_eq(j.torn_bytes, 0);
    sc_journal_close(&j);
}

Test(journal, damaged_record_ends_the_good_part, .init = setup, .fini = teardown)
{
    struct sc_journal j;
    struct sc_err err;
    int fd;
    char x = 'X';

    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_NONE, &err), 0);
    fill(&j, 1, 50);
    cr_assert_gt(j.count, 40);
    {
        uint64_t off = j.off[39]; /* record 40 */
        sc_journal_close(&j);
        fd = open(path, O_WRONLY);
        cr_assert_eq(pwrite(fd, &x, 1, (off_t)off + 8 + 2), 1); /* a flipped payload byte */
        close(fd);
    }
    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_NONE, &err), 0);
    check(&j, 39); /* the CRC catches it: everything from record 40 is the tail */
    cr_assert_gt(j.torn_bytes, 0);
    sc_journal_close(&j);
    cr_assert_eq(truncate(path, 2), 0); /* not even the magic left: a fresh journal */
    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_NONE, &err), 0);
    cr_assert_eq(j.count, 0);
    sc_journal_close(&j);
    fd = open(path, O_WRONLY | O_TRUNC);
    cr_assert_eq(write(fd, "NOPE", 4), 4);
    close(fd);
    cr_assert_lt(sc_journal_open(&j, path, SC_FSYNC_NONE, &err), 0);
    cr_assert(strstr(err.msg, "not a seqcast journal") != NULL, "%s", err.msg);
}

Test(journal, memory_only)
{
    struct sc_journal j;

    cr_assert_eq(sc_journal_open(&j, "", SC_FSYNC_MESSAGE, NULL), 0);
    fill(&j, 1, 50000);
    check(&j, 50000);
    sc_journal_close(&j);
}

/* The torn tail is cut from the file itself, not only skipped in memory: after
 * reopening, the file ends exactly after the last good record (stat), and an
 * append smaller than the torn bytes leaves no garbage behind it. */
Test(journal, a_torn_tail_is_cut_from_the_file, .init = setup, .fini = teardown)
{
    struct sc_journal j;
    struct sc_err err;
    struct stat st;
    uint64_t good_end;
    int fd;

    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_NONE, &err), 0, "%s", err.msg);
    fill(&j, 1, 20);
    good_end = j.end;
    sc_journal_close(&j);
    /* a crash while writing a record: its header and a few bytes made it */
    fd = open(path, O_WRONLY | O_APPEND);
    cr_assert_eq(write(fd, "\x00\x00\x00\x40\x12\x34\x56\x78partial", 15), 15);
    close(fd);
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq((uint64_t)st.st_size, good_end + 15);

    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_NONE, &err), 0, "%s", err.msg);
    check(&j, 20);
    cr_assert_eq(j.torn_bytes, 15);
    cr_assert_eq(j.end, good_end);
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq((uint64_t)st.st_size, good_end, "the torn tail is still in the file: %lld bytes",
                 (long long)st.st_size);
    cr_assert_eq(sc_journal_append(&j, "x", 1), 0); /* 9 bytes: fewer than the 15 torn */
    sc_journal_close(&j);
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq((uint64_t)st.st_size, good_end + 8 + 1, "the append is not right after the "
                 "last good record");
    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_NONE, &err), 0, "%s", err.msg);
    cr_assert_eq(j.count, 21);
    cr_assert_eq(j.torn_bytes, 0, "garbage after the new record");
    {
        char m[16];
        cr_assert_eq(sc_journal_read(&j, 21, m, sizeof(m)), 1);
        cr_assert_eq(m[0], 'x');
        cr_assert_eq(sc_journal_read(&j, 20, m, sizeof(m)), 10);
        cr_assert_eq(memcmp(m, "message 20", 10), 0);
    }
    sc_journal_close(&j);
}

/* Reads outside 1..count are -ERANGE exactly (on file and in memory), one too
 * short a buffer -ENOSPC, whatever the index holds beyond count. */
Test(journal, reads_outside_the_journal_are_out_of_range, .init = setup, .fini = teardown)
{
    struct sc_journal j;
    struct sc_err err;
    char m[64];

    for (int mem = 0; mem < 2; mem++) {
        cr_assert_eq(sc_journal_open(&j, mem ? "" : path, SC_FSYNC_NONE, &err), 0, "%s", err.msg);
        cr_assert_eq(sc_journal_read(&j, 1, m, sizeof(m)), -ERANGE, "an empty journal");
        fill(&j, 1, 10);
        cr_assert_eq(sc_journal_read(&j, 0, m, sizeof(m)), -ERANGE);
        cr_assert_eq(sc_journal_read(&j, 11, m, sizeof(m)), -ERANGE);
        cr_assert_eq(sc_journal_read(&j, 12, m, sizeof(m)), -ERANGE);
        cr_assert_eq(sc_journal_read(&j, UINT64_MAX, m, sizeof(m)), -ERANGE);
        cr_assert_eq(sc_journal_read(&j, 10, m, 10), 10, "\"message 10\" fits in 10");
        cr_assert_eq(sc_journal_read(&j, 10, m, 9), -ENOSPC);
        sc_journal_close(&j);
        unlink(path);
    }
}
