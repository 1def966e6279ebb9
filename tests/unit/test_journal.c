/* Journal: round trip, recovery after reopen; a torn tail (a record cut short,
 * a final record whose CRC fails, zero-filled blocks) cut at open, the file
 * really shorter and appends continuing; damage before the end (a flipped
 * byte, a damaged length) refused with the file, offset and record named and
 * nothing cut; repair; version 1 files; failed writes, syncs and cuts (errors
 * injected through the journal's system-call hooks) rolled back with nothing
 * left behind; the in-memory tail and reads from disk; memory mode. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/journal.h"
#include <seqcast/proto/endian.h>

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
    char aside[128];
    unlink(path);
    snprintf(aside, sizeof(aside), "%s.damaged-1234", path);
    unlink(aside);
}

static void
fill(struct sc_journal *j, int from, int to)
{
    char m[64];
    for (int i = from; i <= to; i++) {
        int n = snprintf(m, sizeof(m), "message %d", i);
        cr_assert_eq(sc_journal_append(j, m, (uint16_t)n), 0, "append %d", i);
    }
}

static void
check(struct sc_journal *j, int upto)
{
    char m[64], want[64];
    cr_assert_eq(j->count, (uint64_t)upto, "count %llu, want %d", (unsigned long long)j->count,
                 upto);
    for (int i = 1; i <= upto; i++) {
        int n = sc_journal_read(j, (uint64_t)i, m, sizeof(m));
        int w = snprintf(want, sizeof(want), "message %d", i);
        cr_assert_eq(n, w, "seq %d: %d", i, n);
        cr_assert_eq(memcmp(m, want, (size_t)n), 0, "seq %d", i);
    }
}

static off_t
file_size(void)
{
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    return st.st_size;
}

static void
poke(off_t off, const void *b, size_t n)
{
    int fd = open(path, O_WRONLY);
    cr_assert_eq(pwrite(fd, b, n, off), (ssize_t)n);
    close(fd);
}

/* a journal of n records; returns record k's offset in *off_k */
static void
make(int n, int k, uint64_t *off_k)
{
    struct sc_journal j;
    struct sc_err err;

    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_NONE, &err), 0, "%s", err.msg);
    fill(&j, 1, n);
    if (off_k)
        *off_k = j.off[k - 1];
    sc_journal_close(&j);
}

Test(journal, survives_reopen, .init = setup, .fini = teardown)
{
    struct sc_journal j;
    struct sc_err err;

    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_BATCH, &err), 0, "%s", err.msg);
    cr_assert_eq(j.version, 2);
    fill(&j, 1, 1000);
    cr_assert_eq(j.durable, 0, "batch: nothing durable before the sync");
    cr_assert_eq(sc_journal_sync(&j), 0);
    cr_assert_eq(j.durable, 1000);
    sc_journal_close(&j);
    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_MESSAGE, &err), 0, "%s", err.msg);
    check(&j, 1000);
    cr_assert_eq(j.durable, 1000);
    cr_assert_eq(j.torn_bytes, 0);
    fill(&j, 1001, 1010);
    cr_assert_eq(j.durable, 1010, "message: durable at once");
    sc_journal_close(&j);
    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_NONE, &err), 0);
    check(&j, 1010);
    cr_assert_lt(sc_journal_read(&j, 0, NULL, 0), 0);
    cr_assert_lt(sc_journal_read(&j, 1011, NULL, 0), 0);
    sc_journal_close(&j);
}

Test(journal, one_process_at_a_time, .init = setup, .fini = teardown)
{
    struct sc_journal a, b;
    struct sc_err err;

    cr_assert_eq(sc_journal_open(&a, path, SC_FSYNC_NONE, &err), 0, "%s", err.msg);
    cr_assert_eq(sc_journal_open(&b, path, SC_FSYNC_NONE, &err), -EWOULDBLOCK);
    cr_assert(strstr(err.msg, "in use by another process") != NULL, "%s", err.msg);
    sc_journal_close(&a);
}

Test(journal, torn_tail_is_cut_and_appends_continue, .init = setup, .fini = teardown)
{
    struct sc_journal j;
    struct sc_err err;
    off_t full;

    make(100, 1, NULL);
    full = file_size();
    cr_assert_eq(truncate(path, full - 3), 0); /* a crash in the middle of record 100 */
    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_NONE, &err), 0, "%s", err.msg);
    check(&j, 99);
    cr_assert_gt(j.torn_bytes, 0);
    cr_assert_eq(file_size(), full - 3 - (off_t)j.torn_bytes, "the file was not cut");
    fill(&j, 100, 120); /* the cut record is written again, and more */
    sc_journal_close(&j);
    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_NONE, &err), 0);
    check(&j, 120);
    cr_assert_eq(j.torn_bytes, 0);
    sc_journal_close(&j);
}

Test(journal, zero_filled_blocks_at_the_end_are_a_torn_tail, .init = setup, .fini = teardown)
{
    static const uint8_t zeros[8192];
    struct sc_journal j;
    struct sc_err err;
    off_t full;

    make(50, 1, NULL);
    full = file_size();
    poke(full, zeros, sizeof(zeros)); /* blocks allocated, never written: a crash */
    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_NONE, &err), 0, "%s", err.msg);
    check(&j, 50);
    cr_assert_eq(j.torn_bytes, sizeof(zeros));
    cr_assert_eq(file_size(), full);
    sc_journal_close(&j);
}

Test(journal, a_final_record_with_a_bad_crc_is_a_torn_tail, .init = setup, .fini = teardown)
{
    struct sc_journal j;
    struct sc_err err;
    uint64_t off;
    off_t full;

    make(50, 50, &off);
    full = file_size();
    poke((off_t)off + 16 + 3, "X", 1); /* its payload was not all written */
    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_NONE, &err), 0, "%s", err.msg);
    check(&j, 49);
    cr_assert_eq(file_size(), (off_t)off);
    cr_assert_eq(j.torn_bytes, (uint64_t)(full - (off_t)off));
    sc_journal_close(&j);
}

Test(journal, damage_before_the_end_is_refused_and_nothing_is_cut, .init = setup,
     .fini = teardown)
{
    struct sc_journal j;
    struct sc_err err;
    char want[64];
    uint64_t off;
    off_t full;

    make(50, 40, &off);
    full = file_size();
    poke((off_t)off + 16 + 2, "X", 1); /* a flipped payload byte in record 40 of 50 */
    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_NONE, &err), -EUCLEAN);
    cr_assert_eq(err.code, -EUCLEAN);
    cr_assert(strstr(err.msg, path) != NULL, "%s", err.msg);
    snprintf(want, sizeof(want), "record 40 at byte %llu", (unsigned long long)off);
    cr_assert(strstr(err.msg, want) != NULL, "no '%s' in: %s", want, err.msg);
    cr_assert(strstr(err.msg, "CRC") != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, "10 valid record(s) follow") != NULL, "%s", err.msg);
    cr_assert_eq(file_size(), full, "a damaged journal was cut");
}

Test(journal, a_damaged_length_is_not_mistaken_for_a_torn_tail, .init = setup, .fini = teardown)
{
    struct sc_journal j;
    struct sc_err err;
    uint8_t len[4];
    uint64_t off;
    off_t full;

    make(200, 150, &off);
    full = file_size();
    /* record 150 now claims to run past the end of the file, as a torn one would */
    sc_store_be32(len, 60000);
    poke((off_t)off, len, 4);
    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_NONE, &err), -EUCLEAN, "%s", err.msg);
    cr_assert(strstr(err.msg, "record 150") != NULL, "%s", err.msg);
    cr_assert_eq(file_size(), full);
    /* a record in the wrong place: a copy of record 10 where 150 belongs */
    unlink(path);
    make(200, 150, &off);
    {
        struct sc_journal k;
        uint8_t rec[64];
        cr_assert_eq(sc_journal_open(&k, path, SC_FSYNC_NONE, &err), 0);
        cr_assert_eq(pread(k.fd, rec, (size_t)(k.off[10] - k.off[9]), (off_t)k.off[9]),
                     (ssize_t)(k.off[10] - k.off[9]));
        sc_journal_close(&k);
        poke((off_t)off, rec, 16 + 10); /* a whole valid record, with the wrong number */
    }
    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_NONE, &err), -EUCLEAN, "%s", err.msg);
    cr_assert(strstr(err.msg, "record 150") != NULL, "%s", err.msg);
}

Test(journal, repair_keeps_what_precedes_the_damage_and_copies_the_file_aside, .init = setup,
     .fini = teardown)
{
    struct sc_journal j;
    struct sc_journal_repair r;
    struct sc_err err;
    uint64_t off;
    off_t full, orig;
    char aside[128];
    struct stat st;

    make(10, 10, NULL);
    cr_assert_eq(sc_journal_repair(path, 1234, &r, &err), 0, "%s", err.msg);
    cr_assert(!r.damaged, "a sound journal needs no repair");
    cr_assert_eq(r.kept, 10);
    unlink(path);

    make(50, 40, &off);
    full = file_size();
    poke((off_t)off + 16 + 2, "X", 1);
    cr_assert_eq(sc_journal_repair(path, 1234, &r, &err), 0, "%s", err.msg);
    cr_assert(r.damaged);
    cr_assert_eq(r.kept, 39);
    cr_assert_eq(r.dropped_records, 10, "valid records after the damage: %llu",
                 (unsigned long long)r.dropped_records);
    cr_assert_eq(r.dropped_bytes, (uint64_t)(full - (off_t)off));
    snprintf(aside, sizeof(aside), "%s.damaged-1234", path);
    cr_assert_str_eq(r.aside, aside);
    cr_assert_eq(stat(aside, &st), 0, "no copy aside");
    cr_assert_eq(st.st_size, full, "the copy is not the whole original");
    cr_assert_eq(file_size(), (off_t)off);
    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_NONE, &err), 0, "%s", err.msg);
    check(&j, 39);
    cr_assert_eq(j.torn_bytes, 0);
    sc_journal_close(&j);
    /* damaged again: a second repair with the same stamp never overwrites the copy */
    poke((off_t)off / 2, "XXXX", 4);
    cr_assert_eq(stat(aside, &st), 0);
    orig = st.st_size;
    full = file_size();
    cr_assert_eq(sc_journal_repair(path, 1234, &r, &err), -EEXIST);
    cr_assert(strstr(err.msg, aside) != NULL, "%s", err.msg);
    cr_assert_eq(file_size(), full, "cut without a copy aside");
    cr_assert_eq(stat(aside, &st), 0);
    cr_assert_eq(st.st_size, orig, "the first copy was changed");
}

/* a version 1 file written byte by byte: "SCJ1", then length, CRC, payload */
static uint32_t
crc32_ref(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return ~c;
}

static void
write_v1(int n)
{
    FILE *f = fopen(path, "wb");
    fwrite("SCJ1", 1, 4, f);
    for (int i = 1; i <= n; i++) {
        uint8_t h[8];
        char m[64];
        int len = snprintf(m, sizeof(m), "message %d", i);
        sc_store_be32(h, (uint32_t)len);
        sc_store_be32(h + 4, crc32_ref((const uint8_t *)m, (size_t)len));
        fwrite(h, 1, 8, f);
        fwrite(m, 1, (size_t)len, f);
    }
    fclose(f);
}

Test(journal, version_1_files_load_and_keep_their_format, .init = setup, .fini = teardown)
{
    static const uint8_t zeros[4096];
    struct sc_journal j;
    struct sc_err err;
    off_t before;
    uint8_t h[8];
    int fd;

    write_v1(30);
    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_BATCH, &err), 0, "%s", err.msg);
    cr_assert_eq(j.version, 1);
    check(&j, 30);
    before = (off_t)j.end;
    fill(&j, 31, 40);
    cr_assert_eq(sc_journal_sync(&j), 0);
    sc_journal_close(&j);
    fd = open(path, O_RDONLY);
    cr_assert_eq(pread(fd, h, 8, before), 8);
    close(fd);
    cr_assert_eq(sc_load_be32(h), strlen("message 31"), "not a v1 record header");
    cr_assert_eq(sc_load_be32(h + 4), crc32_ref((const uint8_t *)"message 31", 10));
    poke(file_size(), zeros, sizeof(zeros)); /* zeros at the end: torn, not empty records */
    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_NONE, &err), 0, "%s", err.msg);
    check(&j, 40);
    cr_assert_eq(j.torn_bytes, sizeof(zeros));
    {
        uint64_t off = j.off[19];
        sc_journal_close(&j);
        poke((off_t)off + 8 + 1, "X", 1);
    }
    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_NONE, &err), -EUCLEAN);
    cr_assert(strstr(err.msg, "record 20") != NULL, "%s", err.msg);
}

Test(journal, foreign_files_are_refused, .init = setup, .fini = teardown)
{
    struct sc_journal j;
    struct sc_err err;
    int fd;

    make(5, 1, NULL);
    cr_assert_eq(truncate(path, 2), 0); /* torn before the magic: a fresh journal */
    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_NONE, &err), 0, "%s", err.msg);
    cr_assert_eq(j.count, 0);
    sc_journal_close(&j);
    fd = open(path, O_WRONLY | O_TRUNC);
    cr_assert_eq(write(fd, "NOPE", 4), 4);
    close(fd);
    cr_assert_lt(sc_journal_open(&j, path, SC_FSYNC_NONE, &err), 0);
    cr_assert(strstr(err.msg, "not a seqcast journal") != NULL, "%s", err.msg);
    fd = open(path, O_WRONLY | O_TRUNC);
    cr_assert_eq(write(fd, "NO", 2), 2); /* short, and not ours either: left alone */
    close(fd);
    cr_assert_lt(sc_journal_open(&j, path, SC_FSYNC_NONE, &err), 0);
    cr_assert_eq(file_size(), 2);
    fd = open(path, O_WRONLY | O_TRUNC);
    cr_assert_eq(write(fd, "SCJ7", 4), 4);
    close(fd);
    cr_assert_lt(sc_journal_open(&j, path, SC_FSYNC_NONE, &err), 0);
    cr_assert(strstr(err.msg, "newer") != NULL, "%s", err.msg);
}

/* ------------------------------------------------------ injected failures */

static int fail_syncs, fail_cuts;
static long write_room = -1; /* bytes the "disk" takes before it is full; -1: no limit */

static int
bad_fdatasync(int fd)
{
    if (fail_syncs > 0) {
        fail_syncs--;
        errno = EIO;
        return -1;
    }
    return fdatasync(fd);
}

static ssize_t
full_pwrite(int fd, const void *b, size_t n, off_t off)
{
    if (write_room >= 0 && (long)n > write_room) {
        ssize_t w;
        if (write_room == 0) {
            errno = ENOSPC;
            return -1;
        }
        w = pwrite(fd, b, (size_t)write_room, off); /* a short write, as a filling disk makes */
        write_room = 0;
        return w;
    }
    if (write_room >= 0)
        write_room -= (long)n;
    return pwrite(fd, b, n, off);
}

static int
bad_ftruncate(int fd, off_t len)
{
    if (fail_cuts > 0) {
        fail_cuts--;
        errno = EIO;
        return -1;
    }
    return ftruncate(fd, len);
}

static void
hooks(struct sc_journal *j)
{
    j->sys_fdatasync = bad_fdatasync;
    j->sys_pwrite = full_pwrite;
    j->sys_ftruncate = bad_ftruncate;
    fail_syncs = fail_cuts = 0;
    write_room = -1;
}

Test(journal, a_failed_batch_sync_rolls_back_to_the_durable_end, .init = setup, .fini = teardown)
{
    struct sc_journal j;
    struct sc_err err;
    off_t durable_size;

    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_BATCH, &err), 0, "%s", err.msg);
    hooks(&j);
    fill(&j, 1, 20);
    cr_assert_eq(sc_journal_sync(&j), 0);
    durable_size = file_size();
    fill(&j, 21, 30);
    cr_assert_eq(j.count, 30);
    cr_assert_eq(j.durable, 20);
    fail_syncs = 2;
    cr_assert_eq(sc_journal_sync(&j), -EIO, "the sync's error is not returned");
    cr_assert_eq(j.count, 20, "records not durable are still counted");
    cr_assert_eq(j.durable, 20);
    cr_assert_eq(j.rolled_back, 10);
    cr_assert_eq(j.sync_errors, 1);
    cr_assert_eq(file_size(), durable_size, "the file holds records that were rolled back");
    cr_assert(j.dirty, "the cut is not durable yet, but the journal says clean");
    cr_assert_eq(sc_journal_sync(&j), -EIO, "a second failure is hidden");
    cr_assert_eq(j.sync_errors, 2);
    cr_assert_eq(sc_journal_sync(&j), 0);
    cr_assert(!j.dirty);
    fill(&j, 21, 25); /* the same sequence numbers, written again */
    cr_assert_eq(sc_journal_sync(&j), 0);
    check(&j, 25);
    sc_journal_close(&j);
    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_BATCH, &err), 0, "%s", err.msg);
    check(&j, 25);
    cr_assert_eq(j.torn_bytes, 0);
    sc_journal_close(&j);
}

Test(journal, a_failed_message_sync_appends_nothing, .init = setup, .fini = teardown)
{
    struct sc_journal j;
    struct sc_err err;
    off_t before;

    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_MESSAGE, &err), 0, "%s", err.msg);
    hooks(&j);
    fill(&j, 1, 5);
    before = file_size();
    fail_syncs = 1;
    cr_assert_eq(sc_journal_append(&j, "message 6", 9), -EIO);
    cr_assert_eq(j.count, 5);
    cr_assert_eq(j.durable, 5);
    cr_assert_eq(file_size(), before);
    fill(&j, 6, 8);
    check(&j, 8);
    sc_journal_close(&j);
}

Test(journal, a_full_disk_leaves_no_partial_record, .init = setup, .fini = teardown)
{
    struct sc_journal j;
    struct sc_err err;
    off_t before;

    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_NONE, &err), 0, "%s", err.msg);
    hooks(&j);
    fill(&j, 1, 10);
    before = file_size();
    write_room = 7; /* 7 bytes of the next record fit */
    cr_assert_eq(sc_journal_append(&j, "message 11", 10), -ENOSPC);
    cr_assert_eq(file_size(), before, "a partial record was left in the file");
    cr_assert_eq(sc_journal_append(&j, "message 11", 10), -ENOSPC);
    cr_assert_eq(j.write_errors, 2);
    cr_assert_eq(j.count, 10);
    write_room = -1; /* room again */
    fill(&j, 11, 15);
    /* the cut after a failure fails too: appends fail until it works */
    write_room = 3;
    fail_cuts = 2;
    cr_assert_eq(sc_journal_append(&j, "message 16", 10), -ENOSPC);
    write_room = -1;
    cr_assert_eq(sc_journal_append(&j, "message 16", 10), -EIO, "appended after garbage");
    cr_assert(j.cut_pending);
    fill(&j, 16, 20);
    cr_assert(!j.cut_pending);
    sc_journal_close(&j);
    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_NONE, &err), 0, "%s", err.msg);
    check(&j, 20);
    cr_assert_eq(j.torn_bytes, 0);
    sc_journal_close(&j);
}

/* More than the in-memory tail holds: old records come from the file, each
 * checked against its CRC; a record damaged on disk after open is an error. */
Test(journal, records_beyond_the_memory_tail_are_read_from_disk, .init = setup,
     .fini = teardown)
{
    static uint8_t big[4000], got[4000];
    struct sc_journal j;
    struct sc_err err;
    const void *p;
    int n;

    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_NONE, &err), 0, "%s", err.msg);
    for (int i = 1; i <= 1000; i++) { /* 4 MB */
        memset(big, i & 0xFF, sizeof(big));
        cr_assert_eq(sc_journal_append(&j, big, sizeof(big)), 0);
    }
    cr_assert_gt(j.base, j.off[10], "everything is still in memory: the tail is unbounded");
    for (int i = 1; i <= 1000; i++) {
        n = sc_journal_get(&j, (uint64_t)i, got, sizeof(got), &p);
        cr_assert_eq(n, (int)sizeof(big), "seq %d: %d", i, n);
        memset(big, i & 0xFF, sizeof(big));
        cr_assert_eq(memcmp(p, big, sizeof(big)), 0, "seq %d", i);
        cr_assert_eq(p == got, j.off[i - 1] < j.base);
    }
    poke((off_t)j.off[4] + 100, "X", 1);
    cr_assert_eq(sc_journal_get(&j, 5, got, sizeof(got), &p), -EBADMSG);
    cr_assert_eq(j.read_errors, 1);
    cr_assert_eq(sc_journal_read(&j, 5, got, 10), -ENOSPC);
    { /* a whole valid record in the wrong place (6 over 5): its sequence number says so */
        static uint8_t rec[8192];
        size_t len = (size_t)(j.off[6] - j.off[5]);
        int fd = open(path, O_RDONLY);
        cr_assert_eq(pread(fd, rec, len, (off_t)j.off[5]), (ssize_t)len);
        close(fd);
        poke((off_t)j.off[4], rec, len);
    }
    cr_assert_eq(sc_journal_get(&j, 5, got, sizeof(got), &p), -EBADMSG);
    cr_assert_eq(j.read_errors, 2);
    sc_journal_close(&j);
}

/* The v2 format, byte for byte: "SCJ2", then per record length (be32),
 * sequence (be64) and the CRC-32 (zlib's) of those 12 bytes and the payload
 * -- a CRC over the payload alone would let a damaged header pass. */
Test(journal, v2_records_byte_for_byte, .init = setup, .fini = teardown)
{
    static const uint8_t want[] = {
        'S', 'C', 'J', '2',
        0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1, 0xbb, 0x31, 0x77, 0xb9,
        'm', 'e', 's', 's', 'a', 'g', 'e', ' ', '1',
        0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 2, 0xc9, 0x0f, 0x9d, 0x00,
        'm', 'e', 's', 's', 'a', 'g', 'e', ' ', '2',
    };
    uint8_t got[sizeof(want) + 1];
    int fd;

    make(2, 1, NULL);
    cr_assert_eq(file_size(), (off_t)sizeof(want));
    fd = open(path, O_RDONLY);
    cr_assert_eq(read(fd, got, sizeof(got)), (ssize_t)sizeof(want));
    close(fd);
    cr_assert_arr_eq(got, want, sizeof(want));
}

Test(journal, memory_only)
{
    struct sc_journal j;

    cr_assert_eq(sc_journal_open(&j, "", SC_FSYNC_MESSAGE, NULL), 0);
    fill(&j, 1, 50000);
    check(&j, 50000);
    cr_assert_eq(j.durable, 50000);
    cr_assert_eq(sc_journal_sync(&j), 0);
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
    cr_assert_eq(write(fd, "\x00\x00\x00\x40\x12\x34\x56\x78\0\0\0\0\0\0\0\x15partial", 23),
                 23);
    close(fd);
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq((uint64_t)st.st_size, good_end + 23);

    cr_assert_eq(sc_journal_open(&j, path, SC_FSYNC_NONE, &err), 0, "%s", err.msg);
    check(&j, 20);
    cr_assert_eq(j.torn_bytes, 23);
    cr_assert_eq(j.end, good_end);
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq((uint64_t)st.st_size, good_end, "the torn tail is still in the file: %lld bytes",
                 (long long)st.st_size);
    cr_assert_eq(sc_journal_append(&j, "x", 1), 0); /* 16 + 1 bytes: fewer than the torn */
    sc_journal_close(&j);
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq((uint64_t)st.st_size, good_end + 16 + 1, "the append is not right after the "
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
