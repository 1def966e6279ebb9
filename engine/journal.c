#include "engine/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <seqcast/proto/endian.h>

#include "engine/record.h"

#define MAGIC "SCJ"
#define MAGIC_LEN 4
#define V2_HDR SC_REC_V2_HDR
#define MAX_LEN SC_REC_MAX_LEN
#define TAIL_CAP (1u << 20) /* the in-memory tail: > 2 x the largest record */

static int
fail(struct sc_err *err, int rc, const char *path, const char *what)
{
    if (err) {
        err->code = rc;
        snprintf(err->msg, sizeof(err->msg), "journal %.150s: %s: %s", path, what, strerror(-rc));
    }
    return rc;
}

static int
grow_index(struct sc_journal *j)
{
    uint64_t cap = j->cap ? 2 * j->cap : 4096;
    uint64_t *o = realloc(j->off, cap * sizeof(*o)); /* 8 bytes a message, amortised */

    if (!o)
        return -ENOMEM;
    j->off = o;
    j->cap = cap;
    return 0;
}

/* fsync the directory holding path, so a file just created survives a crash */
static int
sync_dir(const char *path)
{
    char d[4096];
    int fd, rc = 0;

    snprintf(d, sizeof(d), "%s", path);
    fd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fsync(fd) < 0)
        rc = -errno;
    close(fd);
    return rc;
}

/* ------------------------------------------------------------- recovery */

static bool
all_zero(const uint8_t *p, uint64_t n)
{
    while (n && !*p)
        p++, n--;
    return n == 0;
}

static int
index_record(void *arg, uint64_t pos, const struct sc_rec *rec)
{
    struct sc_journal *j = arg;
    int rc;

    (void)rec;
    if (j->count == j->cap && (rc = grow_index(j)) < 0)
        return rc;
    j->off[j->count++] = pos;
    return 0;
}

/* Walk the records (sequences 1, 2, ...), indexing each good one into j (when
 * given); classify what stops the walk. */
static int
scan(const uint8_t *m, uint64_t size, int version, struct sc_journal *j, struct sc_rec_scan *r)
{
    return sc_rec_scan(m, size, MAGIC_LEN, version, 0, true, 1, j ? index_record : NULL, j, r);
}

/* The file's version from its first 4 bytes. @return 1, 2, or -EINVAL. */
static int
file_version(const uint8_t *m, const char *path, struct sc_err *err)
{
    if (memcmp(m, MAGIC, 3))
        return fail(err, -EINVAL, path, "not a seqcast journal");
    if (m[3] == '1' || m[3] == '2')
        return m[3] - '0';
    if (err) {
        err->code = -EINVAL;
        snprintf(err->msg, sizeof(err->msg),
                 "journal %.150s: format version '%c' is newer than this program reads (1, 2)",
                 path, m[3]);
    }
    return -EINVAL;
}

static int
open_locked(const char *path, int flags, struct sc_err *err)
{
    int fd = open(path, flags | O_CLOEXEC, 0644);

    if (fd < 0)
        return fail(err, -errno, path, "open");
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int rc = -errno;
        close(fd);
        return fail(err, rc, path, rc == -EWOULDBLOCK ? "in use by another process" : "flock");
    }
    return fd;
}

/* Read the file back, index every good record, cut a torn tail, refuse damage. */
static int
recover(struct sc_journal *j, const char *path, struct sc_err *err)
{
    struct stat st;
    struct sc_rec_scan r;
    uint8_t *m;
    uint64_t size;
    int rc;

    if (fstat(j->fd, &st) < 0)
        return fail(err, -errno, path, "fstat");
    size = (uint64_t)st.st_size;
    if (size < MAGIC_LEN) { /* new (or torn before the magic): start a v2 file */
        uint8_t b[MAGIC_LEN];
        if (size && (pread(j->fd, b, size, 0) != (ssize_t)size ||
                     (memcmp(b, MAGIC, size) && !all_zero(b, size))))
            return fail(err, -EINVAL, path, "not a seqcast journal");
        if (ftruncate(j->fd, 0) < 0 || pwrite(j->fd, MAGIC "2", MAGIC_LEN, 0) != MAGIC_LEN ||
            fdatasync(j->fd) < 0)
            return fail(err, errno ? -errno : -EIO, path, "write");
        if ((rc = sync_dir(path)) < 0)
            return fail(err, rc, path, "fsync of its directory");
        j->end = MAGIC_LEN;
        return 0;
    }
    m = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, j->fd, 0);
    if (m == MAP_FAILED)
        return fail(err, -errno, path, "mmap");
    if ((rc = file_version(m, path, err)) < 0)
        goto out;
    j->version = rc;
    if ((rc = scan(m, size, j->version, j, &r)) < 0) {
        fail(err, rc, path, "index");
        goto out;
    }
    if (r.damaged) {
        rc = -EUCLEAN;
        if (err) {
            err->code = rc;
            snprintf(err->msg, sizeof(err->msg),
                     "journal %.100s: record %llu at byte %llu is damaged (%s) and %llu valid "
                     "record(s) follow from byte %llu: not cutting them (repair keeps 1-%llu)",
                     path, (unsigned long long)r.records + 1, (unsigned long long)r.good_end,
                     r.why, (unsigned long long)r.after, (unsigned long long)r.next_good,
                     (unsigned long long)r.records);
        }
        goto out;
    }
    if (r.good_end < size) { /* a torn tail: nothing valid after it */
        j->torn_bytes = size - r.good_end;
        if (ftruncate(j->fd, (off_t)r.good_end) < 0) {
            rc = fail(err, -errno, path, "cutting the torn tail");
            goto out;
        }
    }
    j->end = r.good_end;
    /* what a crashed process left in the page cache is durable from here on */
    if (fdatasync(j->fd) < 0)
        rc = fail(err, -errno, path, "fdatasync");
    else
        rc = 0;
out:
    munmap(m, (size_t)size);
    return rc;
}

/* Load the newest records (up to half the tail's room) into memory. */
static int
load_tail(struct sc_journal *j)
{
    uint64_t keep = j->end - MAGIC_LEN < TAIL_CAP / 2 ? j->end - MAGIC_LEN : TAIL_CAP / 2;

    j->base = j->end - keep;
    if (keep && pread(j->fd, j->mem, keep, (off_t)j->base) != (ssize_t)keep)
        return -EIO;
    return 0;
}

int
sc_journal_open(struct sc_journal *j, const char *path, enum sc_fsync fsync, struct sc_err *err)
{
    int rc;

    memset(j, 0, sizeof(*j));
    j->fd = -1;
    j->fsync = fsync;
    j->version = 2;
    j->sys_pwrite = pwrite;
    j->sys_fdatasync = fdatasync;
    j->sys_ftruncate = ftruncate;
    if (!(j->mem = malloc(TAIL_CAP)))
        return fail(err, -ENOMEM, path ? path : "", "tail buffer");
    j->memcap = TAIL_CAP;
    if (!path || !path[0])
        return 0;
    if ((j->fd = open_locked(path, O_RDWR | O_CREAT, err)) < 0) {
        rc = j->fd;
        j->fd = -1;
        sc_journal_close(j);
        return rc;
    }
    if ((rc = recover(j, path, err)) < 0 || (rc = load_tail(j)) < 0) {
        if (rc == -EIO)
            fail(err, rc, path, "reading its tail");
        sc_journal_close(j);
        return rc;
    }
    j->durable = j->count;
    j->durable_end = j->end;
    return 0;
}

/* Cut the file back to `to` (after a failed write or sync); if even that
 * fails, the next append tries again first. @return 0 or -errno. */
static int
cut_back(struct sc_journal *j, uint64_t to)
{
    int rc = j->sys_ftruncate(j->fd, (off_t)to) < 0 ? (errno ? -errno : -EIO) : 0;

    j->cut_pending = rc < 0;
    return rc;
}

void
sc_journal_close(struct sc_journal *j)
{
    if (j->fd >= 0) {
        if (j->dirty)
            sc_journal_sync(j); /* fails: rolled back, as in a running server */
        close(j->fd);
    }
    free(j->off);
    free(j->mem);
    memset(j, 0, sizeof(*j));
    j->fd = -1;
}

/* Room for need bytes at end in the tail: a file journal drops its oldest
 * bytes (they stay in the file), a memory one grows. */
static int
reserve(struct sc_journal *j, uint64_t need)
{
    uint64_t used = j->end - j->base, keep;
    uint8_t *m;

    if (used + need <= j->memcap)
        return 0;
    if (j->fd >= 0) {
        keep = used < j->memcap / 2 ? used : j->memcap / 2;
        memmove(j->mem, j->mem + (used - keep), keep);
        j->base = j->end - keep;
        return 0; /* need <= MAX_LEN + header < memcap / 2 */
    }
    keep = j->memcap;
    while (used + need > keep)
        keep *= 2;
    if (!(m = realloc(j->mem, keep)))
        return -ENOMEM;
    j->mem = m;
    j->memcap = keep;
    return 0;
}

int
sc_journal_append(struct sc_journal *j, const void *msg, uint16_t len)
{
    size_t h = sc_rec_hdr_len(j->version), need = h + len;
    uint8_t *p;
    ssize_t n;
    int rc;

    if (j->count == j->cap && (rc = grow_index(j)) < 0)
        return rc;
    if (j->fd >= 0 && j->cut_pending && (rc = cut_back(j, j->end)) < 0) {
        j->write_errors++;
        return rc;
    }
    if ((rc = reserve(j, need)) < 0)
        return rc;
    p = j->mem + (j->end - j->base);
    memcpy(p + h, msg, len);
    sc_rec_put_header(p, j->version, j->count + 1, p + h, len);
    if (j->fd >= 0) {
        n = j->sys_pwrite(j->fd, p, need, (off_t)j->end); /* one write: header and payload */
        if (n != (ssize_t)need) {
            rc = n < 0 ? -errno : -ENOSPC; /* a short write: the disk filled up */
            j->write_errors++;
            cut_back(j, j->end);
            return rc;
        }
        if (j->fsync == SC_FSYNC_MESSAGE) {
            if (j->sys_fdatasync(j->fd) < 0) {
                rc = -errno;
                j->sync_errors++;
                cut_back(j, j->end);
                return rc;
            }
            j->syncs++;
        } else if (j->fsync == SC_FSYNC_BATCH) {
            j->dirty = true;
        }
    }
    j->off[j->count++] = j->end;
    j->end += need;
    if (j->fd < 0 || j->fsync != SC_FSYNC_BATCH) { /* none, message, memory only: durable now */
        j->durable = j->count;
        j->durable_end = j->end;
    }
    return 0;
}

int
sc_journal_sync(struct sc_journal *j)
{
    int rc;

    if (j->fd < 0 || !j->dirty)
        return 0;
    if (j->sys_fdatasync(j->fd) == 0) {
        j->dirty = false;
        j->syncs++;
        j->durable = j->count;
        j->durable_end = j->end;
        return 0;
    }
    /* The kernel may have dropped the pages it failed to write, and a second
     * fdatasync would then report success: what was not durable is given up.
     * Still dirty: the cut is durable only after a successful sync. */
    rc = errno ? -errno : -EIO;
    j->sync_errors++;
    j->rolled_back += j->count - j->durable;
    j->count = j->durable;
    j->end = j->durable_end;
    if (j->base > j->end)
        j->base = j->end;
    cut_back(j, j->end);
    return rc;
}

int
sc_journal_get(struct sc_journal *j, uint64_t seq, void *buf, size_t cap, const void **msg)
{
    size_t h = sc_rec_hdr_len(j->version);
    uint8_t hdr[V2_HDR];
    uint64_t o;
    uint32_t len;

    if (seq < 1 || seq > j->count)
        return -ERANGE;
    o = j->off[seq - 1];
    if (o >= j->base) { /* the tail in memory (memory only: everything) */
        const uint8_t *p = j->mem + (o - j->base);
        *msg = p + h;
        return (int)sc_load_be32(p);
    }
    if (pread(j->fd, hdr, h, (off_t)o) != (ssize_t)h)
        goto io;
    len = sc_load_be32(hdr);
    if (len > cap)
        return -ENOSPC;
    if (pread(j->fd, buf, len, (off_t)(o + h)) != (ssize_t)len)
        goto io;
    if (!sc_rec_check(hdr, j->version, j->version == 2 ? seq : 0, buf)) {
        j->read_errors++;
        return -EBADMSG;
    }
    *msg = buf;
    return (int)len;
io:
    j->read_errors++;
    return -EIO;
}

int
sc_journal_read(struct sc_journal *j, uint64_t seq, void *buf, size_t cap)
{
    const void *p;
    int n = sc_journal_get(j, seq, buf, cap, &p);

    if (n < 0 || p == buf)
        return n;
    if ((size_t)n > cap)
        return -ENOSPC;
    memcpy(buf, p, (size_t)n);
    return n;
}

/* -------------------------------------------------------------- repair */

static int
copy_aside(const uint8_t *m, uint64_t size, const char *to, struct sc_err *err)
{
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    uint64_t done = 0;
    int rc = 0;

    if (out < 0)
        return fail(err, -errno, to, "creating the copy");
    while (done < size) {
        ssize_t n = write(out, m + done, size - done);
        if (n <= 0) {
            rc = fail(err, n < 0 ? -errno : -EIO, to, "copying");
            break;
        }
        done += (uint64_t)n;
    }
    if (!rc && fsync(out) < 0)
        rc = fail(err, -errno, to, "fsync");
    close(out);
    if (!rc && (rc = sync_dir(to)) < 0)
        fail(err, rc, to, "fsync of its directory");
    if (rc)
        unlink(to);
    return rc;
}

int
sc_journal_repair(const char *path, time_t stamp, struct sc_journal_repair *r, struct sc_err *err)
{
    struct stat st;
    struct sc_rec_scan s;
    uint8_t *m;
    int fd, rc, version;

    memset(r, 0, sizeof(*r));
    if ((fd = open_locked(path, O_RDWR, err)) < 0)
        return fd;
    if (fstat(fd, &st) < 0) {
        rc = fail(err, -errno, path, "fstat");
        goto out_fd;
    }
    if ((uint64_t)st.st_size < MAGIC_LEN) {
        rc = 0; /* nothing in it: open starts it afresh */
        goto out_fd;
    }
    m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        rc = fail(err, -errno, path, "mmap");
        goto out_fd;
    }
    if ((rc = version = file_version(m, path, err)) < 0)
        goto out_map;
    scan(m, (uint64_t)st.st_size, version, NULL, &s);
    r->kept = s.records;
    if (!s.damaged) {
        rc = 0;
        goto out_map;
    }
    r->damaged = true;
    r->dropped_bytes = (uint64_t)st.st_size - s.good_end;
    r->dropped_records = s.after;
    snprintf(r->aside, sizeof(r->aside), "%s.damaged-%lld", path, (long long)stamp);
    if ((rc = copy_aside(m, (uint64_t)st.st_size, r->aside, err)) < 0)
        goto out_map;
    if (ftruncate(fd, (off_t)s.good_end) < 0 || fsync(fd) < 0)
        rc = fail(err, -errno, path, "cutting after the last good record");
out_map:
    munmap(m, (size_t)st.st_size);
out_fd:
    close(fd);
    return rc;
}
