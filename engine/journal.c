#include "engine/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <seqcast/proto/endian.h>

#define MAGIC "SCJ1"
#define HDR 8

static uint32_t
crc32(const uint8_t *p, size_t n)
{
    static uint32_t table[256];
    uint32_t c = 0xFFFFFFFFu;

    if (!table[1])
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t v = i;
            for (int k = 0; k < 8; k++)
                v = v & 1 ? 0xEDB88320u ^ (v >> 1) : v >> 1;
            table[i] = v;
        }
    while (n--)
        c = table[(c ^ *p++) & 0xFF] ^ (c >> 8);
    return ~c;
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

static int
fail(struct sc_err *err, int rc, const char *path, const char *what)
{
    if (err) {
        err->code = rc;
        snprintf(err->msg, sizeof(err->msg), "journal %.150s: %s: %s", path, what, strerror(-rc));
    }
    return rc;
}

/* Read the file back, index every good record, cut a torn tail. */
static int
recover(struct sc_journal *j, const char *path, struct sc_err *err)
{
    struct stat st;
    uint8_t hdr[HDR], *buf = NULL;
    uint64_t pos = 4, size;
    int rc = 0;

    if (fstat(j->fd, &st) < 0)
        return fail(err, -errno, path, "fstat");
    size = (uint64_t)st.st_size;
    if (size < 4) { /* new (or torn before the magic): start it */
        if (ftruncate(j->fd, 0) < 0 || pwrite(j->fd, MAGIC, 4, 0) != 4)
            return fail(err, -errno, path, "write");
        j->end = 4;
        return 0;
    }
    if (pread(j->fd, hdr, 4, 0) != 4 || memcmp(hdr, MAGIC, 4))
        return fail(err, -EINVAL, path, "not a seqcast journal");
    if (!(buf = malloc(65536)))
        return -ENOMEM;
    while (pos + HDR <= size) {
        uint32_t len, crc;
        if (pread(j->fd, hdr, HDR, (off_t)pos) != HDR)
            break;
        len = sc_load_be32(hdr);
        crc = sc_load_be32(hdr + 4);
        if (len > 65535 || pos + HDR + len > size ||
            pread(j->fd, buf, len, (off_t)(pos + HDR)) != (ssize_t)len || crc32(buf, len) != crc)
            break; /* torn or damaged: everything from here is the tail */
        if (j->count == j->cap && (rc = grow_index(j)) < 0)
            break;
        j->off[j->count++] = pos;
        pos += HDR + len;
    }
    free(buf);
    if (rc < 0)
        return rc;
    if (pos < size) {
        j->torn_bytes = size - pos;
        if (ftruncate(j->fd, (off_t)pos) < 0 || fsync(j->fd) < 0)
            return fail(err, -errno, path, "cutting the torn tail");
    }
    j->end = pos;
    return 0;
}

int
sc_journal_open(struct sc_journal *j, const char *path, enum sc_fsync fsync, struct sc_err *err)
{
    memset(j, 0, sizeof(*j));
    j->fd = -1;
    j->fsync = fsync;
    if (!path || !path[0])
        return 0;
    j->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (j->fd < 0)
        return fail(err, -errno, path, "open");
    if (recover(j, path, err) < 0) {
        int rc = err ? err->code : -EIO;
        sc_journal_close(j);
        return rc;
    }
    return 0;
}

void
sc_journal_close(struct sc_journal *j)
{
    if (j->fd >= 0) {
        if (j->dirty)
            fdatasync(j->fd);
        close(j->fd);
    }
    free(j->off);
    free(j->mem);
    memset(j, 0, sizeof(*j));
    j->fd = -1;
}

int
sc_journal_append(struct sc_journal *j, const void *msg, uint16_t len)
{
    uint8_t hdr[HDR];
    int rc;

    if (j->count == j->cap && (rc = grow_index(j)) < 0)
        return rc;
    sc_store_be32(hdr, len);
    sc_store_be32(hdr + 4, crc32(msg, len));
    if (j->fd < 0) {
        if (j->end + HDR + len > j->memcap) {
            uint64_t cap = j->memcap ? 2 * j->memcap : 1 << 20;
            uint8_t *m;
            while (cap < j->end + HDR + len)
                cap *= 2;
            if (!(m = realloc(j->mem, cap)))
                return -ENOMEM;
            j->mem = m;
            j->memcap = cap;
        }
        memcpy(j->mem + j->end, hdr, HDR);
        memcpy(j->mem + j->end + HDR, msg, len);
    } else {
        if (pwrite(j->fd, hdr, HDR, (off_t)j->end) != HDR ||
            pwrite(j->fd, msg, len, (off_t)(j->end + HDR)) != (ssize_t)len)
            return -errno ? -errno : -EIO;
        if (j->fsync == SC_FSYNC_MESSAGE) {
            if (fdatasync(j->fd) < 0)
                return -errno;
            j->syncs++;
        } else {
            j->dirty = 1;
        }
    }
    j->off[j->count++] = j->end;
    j->end += HDR + len;
    return 0;
}

int
sc_journal_read(const struct sc_journal *j, uint64_t seq, void *buf, size_t cap)
{
    uint8_t hdr[HDR];
    uint64_t o;
    uint32_t len;

    if (seq < 1 || seq > j->count)
        return -ERANGE;
    o = j->off[seq - 1];
    if (j->fd < 0) {
        memcpy(hdr, j->mem + o, HDR);
    } else if (pread(j->fd, hdr, HDR, (off_t)o) != HDR) {
        return -EIO;
    }
    len = sc_load_be32(hdr);
    if (len > cap)
        return -ENOSPC;
    if (j->fd < 0)
        memcpy(buf, j->mem + o + HDR, len);
    else if (pread(j->fd, buf, len, (off_t)(o + HDR)) != (ssize_t)len)
        return -EIO;
    return (int)len;
}

int
sc_journal_sync(struct sc_journal *j)
{
    if (j->fd < 0 || !j->dirty || j->fsync != SC_FSYNC_BATCH)
        return 0;
    j->dirty = 0;
    j->syncs++;
    return fdatasync(j->fd) < 0 ? -errno : 0;
}
