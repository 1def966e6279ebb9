#include "engine/archive/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <seqcast/proto/endian.h>

#include "engine/record.h"

#define MAGIC "SCA1"
#define MAGIC_LEN 4
#define HDR SC_REC_V2_HDR
#define GAP_REC (HDR + 8)
#define BUF_CAP (GAP_REC + HDR + SC_REC_MAX_LEN)

static int
fail(struct sc_err *err, int rc, const char *dir, const char *what)
{
    if (err) {
        err->code = rc;
        snprintf(err->msg, sizeof(err->msg), "archive %.150s: %s: %s", dir, what, strerror(-rc));
    }
    return rc;
}

static void
seg_name(char *b, size_t n, uint64_t id)
{
    snprintf(b, n, "%020llu.seg", (unsigned long long)id);
}

static int
grow(void **p, size_t *cap, size_t n, size_t each)
{
    size_t c;
    void *q;

    if (n < *cap)
        return 0;
    c = *cap ? 2 * *cap : 64;
    if (!(q = realloc(*p, c * each)))
        return -ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

static int
push_ix(struct sc_astore *s, uint64_t seq, uint64_t seg, uint64_t off)
{
    if (grow((void **)&s->ix, &s->ixcap, s->nix, sizeof(*s->ix)) < 0)
        return -ENOMEM;
    s->ix[s->nix++] = (struct sc_astore_ix){seq, seg, off};
    s->since_ix = 0;
    return 0;
}

static int
push_dmg(struct sc_astore *s, uint64_t from, uint64_t to)
{
    if (grow((void **)&s->dmg, &s->dmgcap, s->ndmg, sizeof(*s->dmg)) < 0)
        return -ENOMEM;
    s->dmg[s->ndmg++] = (struct sc_astore_range){from, to};
    s->st.damaged_ranges++;
    s->st.damaged_seqs += to - from + 1;
    return 0;
}

static struct sc_astore_seg *
active(struct sc_astore *s)
{
    return &s->seg[s->nseg - 1];
}

/* Account for a record now in segment g at off: index it when it starts a
 * stretch (fresh) or index_bytes have passed since the last entry. */
static int
note_record(struct sc_astore *s, struct sc_astore_seg *g, uint64_t off, const struct sc_rec *r,
            bool fresh)
{
    uint64_t end = sc_rec_span_end(r);

    if ((fresh || g->first > g->last || s->since_ix >= s->cfg.index_bytes) &&
        push_ix(s, r->seq, g->id, off) < 0)
        return -ENOMEM;
    s->since_ix += HDR + r->len;
    if (g->first > g->last)
        g->first = r->seq;
    g->last = end;
    if (!s->last)
        s->first = r->seq;
    s->last = end;
    return 0;
}

/* ------------------------------------------------------------- recovery */

struct load {
    struct sc_astore *s;
    struct sc_astore_seg *g;
    bool fresh;       /* the next record starts a stretch */
    char where[160];  /* the bad bytes that ended the last stretch, if any */
};

static int
load_record(void *arg, uint64_t pos, const struct sc_rec *r)
{
    struct load *l = arg;
    struct sc_astore *s = l->s;
    int rc;

    if (s->last && r->seq > s->last + 1) { /* sequences neither held nor a gap: damage */
        if ((rc = push_dmg(s, s->last + 1, r->seq - 1)) < 0)
            return rc;
        if (!s->damage_msg[0])
            snprintf(s->damage_msg, sizeof(s->damage_msg),
                     "archive %.100s: sequences %llu-%llu are damaged: %.170s", s->dir,
                     (unsigned long long)s->last + 1, (unsigned long long)r->seq - 1,
                     l->where[0] ? l->where : "missing between segments");
    }
    l->where[0] = 0;
    rc = note_record(s, l->g, pos, r, l->fresh);
    l->fresh = false;
    if (r->flags & SC_REC_GAP) {
        s->st.gaps++;
        s->st.gap_seqs += sc_rec_span_end(r) - r->seq + 1;
    }
    return rc;
}

static int
new_seg(struct sc_astore *s, struct sc_err *err);
static int
collect(struct sc_astore *s, bool wait);

/* Scan segment id (is_last: the newest file) into the index. */
static int
load_seg(struct sc_astore *s, uint64_t id, bool is_last, struct load *l, struct sc_err *err)
{
    char name[32];
    struct stat st;
    struct sc_astore_seg *g;
    struct sc_rec_scan r;
    uint8_t *m;
    uint64_t pos = MAGIC_LEN;
    int fd, rc;

    seg_name(name, sizeof(name), id);
    if ((fd = openat(s->dirfd, name, O_RDWR | O_CLOEXEC)) < 0)
        return fail(err, -errno, s->dir, name);
    if (fstat(fd, &st) < 0) {
        close(fd);
        return fail(err, -errno, s->dir, name);
    }
    if (grow((void **)&s->seg, &s->segcap, s->nseg, sizeof(*s->seg)) < 0) {
        close(fd);
        return fail(err, -ENOMEM, s->dir, "segments");
    }
    g = &s->seg[s->nseg++];
    *g = (struct sc_astore_seg){id, fd, (uint64_t)st.st_size, s->last + 1, s->last, false};
    l->g = g;
    l->fresh = true;
    if (g->size < MAGIC_LEN) {
        uint8_t b[MAGIC_LEN] = {0};
        if (is_last && (!g->size || (pread(fd, b, g->size, 0) == (ssize_t)g->size &&
                                     !memcmp(b, MAGIC, g->size)))) {
            /* made just before a crash: start it again */
            s->st.torn_bytes += g->size;
            if (ftruncate(fd, 0) < 0 || pwrite(fd, MAGIC, MAGIC_LEN, 0) != MAGIC_LEN)
                return fail(err, errno ? -errno : -EIO, s->dir, name);
            g->size = MAGIC_LEN;
            return 0;
        }
        g->damaged = true;
        snprintf(l->where, sizeof(l->where), "%s is %llu bytes long, not a segment", name,
                 (unsigned long long)g->size);
        return 0;
    }
    m = mmap(NULL, (size_t)g->size, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED)
        return fail(err, -errno, s->dir, name);
    if (memcmp(m, MAGIC, MAGIC_LEN)) {
        g->damaged = true;
        snprintf(l->where, sizeof(l->where), "%s is not an archive segment", name);
        munmap(m, (size_t)g->size);
        return 0;
    }
    for (;;) {
        if ((rc = sc_rec_scan(m, g->size, pos, 2, SC_REC_GAP, false, s->last + 1, load_record, l,
                              &r)) < 0) {
            munmap(m, (size_t)g->size);
            return fail(err, rc, s->dir, name);
        }
        if (r.good_end >= g->size)
            break;
        snprintf(l->where, sizeof(l->where), "%s byte %llu: %s", name,
                 (unsigned long long)r.good_end, r.why);
        if (r.damaged) { /* skip to the next valid record and carry on */
            g->damaged = true;
            l->fresh = true;
            pos = r.next_good;
            if (!s->damage_msg[0] && r.next_seq > r.last + 1)
                snprintf(s->damage_msg, sizeof(s->damage_msg),
                         "archive %.100s: %.170s: sequences %llu-%llu unreadable, valid records "
                         "follow from byte %llu",
                         s->dir, l->where, (unsigned long long)r.last + 1,
                         (unsigned long long)r.next_seq - 1, (unsigned long long)r.next_good);
            else if (!s->damage_msg[0])
                snprintf(s->damage_msg, sizeof(s->damage_msg),
                         "archive %.100s: %.170s: no sequence lost, valid records follow from "
                         "byte %llu",
                         s->dir, l->where, (unsigned long long)r.next_good);
            if (s->last && r.next_seq == s->last + 1) {
                l->where[0] = 0; /* bad bytes, but no sequence lost */
                s->st.damaged_ranges++;
            }
            continue;
        }
        if (is_last && !g->damaged) { /* a torn tail */
            s->st.torn_bytes += g->size - r.good_end;
            if (ftruncate(fd, (off_t)r.good_end) < 0) {
                rc = -errno;
                munmap(m, (size_t)g->size);
                return fail(err, rc, s->dir, "cutting the torn tail");
            }
            munmap(m, (size_t)g->size);
            g->size = r.good_end;
            l->where[0] = 0;
            return 0;
        }
        g->damaged = true; /* an older segment cut short: the next one shows what is lost */
        break;
    }
    munmap(m, (size_t)g->size);
    return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int
list_segs(struct sc_astore *s, uint64_t **ids, size_t *n, struct sc_err *err)
{
    int fd = dup(s->dirfd);
    size_t cap = 0;
    struct dirent *e;
    DIR *d;

    *ids = NULL;
    *n = 0;
    if (fd < 0 || !(d = fdopendir(fd))) {
        if (fd >= 0)
            close(fd);
        return fail(err, -errno, s->dir, "reading the directory");
    }
    while ((e = readdir(d))) {
        char *end;
        unsigned long long v;
        if (strlen(e->d_name) != 24 || strcmp(e->d_name + 20, ".seg"))
            continue;
        v = strtoull(e->d_name, &end, 10);
        if (end != e->d_name + 20 || !v)
            continue;
        if (grow((void **)ids, &cap, *n, sizeof(**ids)) < 0) {
            closedir(d);
            return fail(err, -ENOMEM, s->dir, "listing");
        }
        (*ids)[(*n)++] = v;
    }
    closedir(d);
    if (*n)
        qsort(*ids, *n, sizeof(**ids), cmp_u64);
    return 0;
}

/* Start segment (last id + 1) and make it the one written. */
static int
new_seg(struct sc_astore *s, struct sc_err *err)
{
    uint64_t id = s->nseg ? active(s)->id + 1 : 1;
    char name[32];
    int fd, rc;

    seg_name(name, sizeof(name), id);
    if (grow((void **)&s->seg, &s->segcap, s->nseg, sizeof(*s->seg)) < 0)
        return fail(err, -ENOMEM, s->dir, "segments");
    if ((fd = openat(s->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0)
        return fail(err, -errno, s->dir, name);
    errno = 0;
    if (s->sys_pwrite(fd, MAGIC, MAGIC_LEN, 0) != MAGIC_LEN ||
        (s->cfg.fsync != SC_FSYNC_NONE && (s->sys_fdatasync(fd) < 0 || fsync(s->dirfd) < 0))) {
        rc = errno ? -errno : -ENOSPC;
        close(fd);
        unlinkat(s->dirfd, name, 0);
        return fail(err, rc, s->dir, name);
    }
    s->seg[s->nseg++] = (struct sc_astore_seg){id, fd, MAGIC_LEN, s->last + 1, s->last, false};
    s->bytes += MAGIC_LEN;
    s->st.segments_made++;
    s->durable_end = MAGIC_LEN;
    s->durable_last = s->last;
    s->durable_nix = s->nix;
    return 0;
}

int
sc_astore_open(struct sc_astore *s, const char *dir, const struct sc_astore_cfg *cfg,
               struct sc_err *err)
{
    struct load l = {.s = s};
    uint64_t *ids = NULL;
    size_t n = 0;
    int rc;

    memset(s, 0, sizeof(*s));
    s->dirfd = -1;
    s->sys_pwrite = pwrite;
    s->sys_pread = pread;
    s->sys_fdatasync = fdatasync;
    s->sys_ftruncate = ftruncate;
    s->cfg = *cfg;
    if (!s->cfg.segment_bytes)
        s->cfg.segment_bytes = 64ull << 20;
    if (!s->cfg.index_bytes)
        s->cfg.index_bytes = 4096;
    if (strlen(dir) >= sizeof(s->dir))
        return fail(err, -ENAMETOOLONG, dir, "directory name");
    snprintf(s->dir, sizeof(s->dir), "%s", dir);
    if (s->cfg.fsync == SC_FSYNC_MESSAGE)
        s->cfg.write_buffer = 0;
    if (s->cfg.write_buffer && s->cfg.write_buffer < BUF_CAP)
        s->cfg.write_buffer = BUF_CAP;
    if (!(s->wbuf = malloc(BUF_CAP)) ||
        (s->cfg.write_buffer && !(s->pend = malloc(s->cfg.write_buffer)))) {
        free(s->wbuf);
        return fail(err, -ENOMEM, dir, "buffer");
    }
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        rc = fail(err, -errno, dir, "mkdir");
        goto bad;
    }
    if ((s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        rc = fail(err, -errno, dir, "open");
        goto bad;
    }
    if (flock(s->dirfd, LOCK_EX | LOCK_NB) < 0) {
        rc = -errno;
        fail(err, rc, dir, rc == -EWOULDBLOCK ? "in use by another process" : "flock");
        goto bad;
    }
    if ((rc = list_segs(s, &ids, &n, err)) < 0)
        goto bad;
    for (size_t i = 0; i < n; i++) {
        if ((rc = load_seg(s, ids[i], i + 1 == n, &l, err)) < 0)
            goto bad;
        s->bytes += s->seg[s->nseg - 1].size;
    }
    if (l.where[0] && !s->damage_msg[0]) /* the newest data lost, nothing after it */
        snprintf(s->damage_msg, sizeof(s->damage_msg), "archive %.100s: %.170s", s->dir, l.where);
    if (!s->nseg || active(s)->damaged) {
        if ((rc = new_seg(s, err)) < 0)
            goto bad;
    } else if (fdatasync(active(s)->fd) < 0) { /* a crashed process's page cache: durable now */
        rc = fail(err, -errno, dir, "fdatasync");
        goto bad;
    }
    s->durable_end = active(s)->size;
    s->durable_last = s->last;
    s->durable_nix = s->nix;
    free(ids);
    return 0;
bad:
    free(ids);
    sc_astore_close(s);
    return rc;
}

void
sc_astore_close(struct sc_astore *s)
{
    if (s->nseg) {
        collect(s, true);
        sc_astore_flush(s);
    }
    if (s->dirty)
        sc_astore_sync(s);
    if (s->syncer) {
        pthread_mutex_lock(&s->syncer->mu);
        s->syncer->stop = true;
        pthread_cond_broadcast(&s->syncer->cv);
        pthread_mutex_unlock(&s->syncer->mu);
        pthread_join(s->syncer->th, NULL);
        pthread_cond_destroy(&s->syncer->cv);
        pthread_mutex_destroy(&s->syncer->mu);
        free(s->syncer);
    }
    for (size_t i = 0; i < s->nseg; i++)
        close(s->seg[i].fd);
    if (s->dirfd >= 0)
        close(s->dirfd);
    free(s->seg);
    free(s->ix);
    free(s->dmg);
    free(s->wbuf);
    free(s->pend);
    sc_astore_cursor_free(&s->cur);
    memset(s, 0, sizeof(*s));
    s->dirfd = -1;
}

/* --------------------------------------------------------------- append */

static int
cut_back(struct sc_astore *s, uint64_t to)
{
    int rc = s->sys_ftruncate(active(s)->fd, (off_t)to) < 0 ? (errno ? -errno : -EIO) : 0;

    s->cut_pending = rc < 0;
    return rc;
}

static int
write_error(struct sc_astore *s, int rc)
{
    s->st.write_errors++;
    if (rc == -ENOSPC || rc == -EDQUOT)
        s->st.disk_full++;
    return rc;
}

/* Write a gap record (gap_to >= gap_from, or none: gap_to == 0) and a data
 * record (msg, or none) as one write at the end of the segment being written. */
static int
write_records(struct sc_astore *s, uint64_t gap_from, uint64_t gap_to, uint64_t seq,
              const void *msg, uint16_t len)
{
    uint8_t *p;
    size_t need = (gap_to ? GAP_REC : 0) + (msg ? HDR + len : 0), at = 0;
    struct sc_astore_seg *g;
    struct sc_rec gr = {0}, dr = {0};
    ssize_t n;
    int rc;

    if (s->cut_pending && (rc = cut_back(s, active(s)->size)) < 0)
        return write_error(s, rc);
    g = active(s);
    if (g->size > MAGIC_LEN && g->size + need > s->cfg.segment_bytes) {
        if ((rc = sc_astore_flush(s)) < 0)
            return rc;
        if (s->cfg.fsync == SC_FSYNC_BATCH && (rc = sc_astore_sync(s)) < 0)
            return rc;
        if ((rc = new_seg(s, NULL)) < 0)
            return write_error(s, rc);
        g = active(s);
    }
    if (s->pend && s->npend + need > s->cfg.write_buffer && (rc = sc_astore_flush(s)) < 0)
        return rc;
    /* encoded where it is written from: the write buffer, or wbuf */
    p = s->pend ? s->pend + s->npend : s->wbuf;
    if (gap_to) {
        sc_store_be64(p + HDR, gap_to - gap_from + 1);
        sc_rec_put_header(p, 2, gap_from, p + HDR, SC_REC_GAP | 8);
        gr = (struct sc_rec){gap_from, SC_REC_GAP, 8, p + HDR};
        at = GAP_REC;
    }
    if (msg) {
        memcpy(p + at + HDR, msg, len);
        sc_rec_put_header(p + at, 2, seq, p + at + HDR, len);
        dr = (struct sc_rec){seq, 0, len, p + at + HDR};
    }
    if (s->pend) {
        if (!s->npend) {
            s->pend_off = g->size;
            s->written_last = s->last;
            s->written_nix = s->nix;
        }
        s->npend += need;
    } else {
        errno = 0;
        n = s->sys_pwrite(g->fd, p, need, (off_t)g->size);
        if (n != (ssize_t)need) {
            rc = n < 0 && errno ? -errno : -ENOSPC; /* a short write: the disk filled up */
            cut_back(s, g->size);
            return write_error(s, rc);
        }
    }
    if (s->cfg.fsync == SC_FSYNC_MESSAGE) {
        if (s->sys_fdatasync(g->fd) < 0) {
            rc = errno ? -errno : -EIO;
            s->st.sync_errors++;
            cut_back(s, g->size);
            return rc;
        }
        s->st.syncs++;
    } else if (s->cfg.fsync == SC_FSYNC_BATCH) {
        s->dirty = true;
    }
    if (gap_to) {
        if ((rc = note_record(s, g, g->size, &gr, false)) < 0)
            return rc;
        s->st.gaps++;
        s->st.gap_seqs += gap_to - gap_from + 1;
    }
    if (msg) {
        if ((rc = note_record(s, g, g->size + (gap_to ? GAP_REC : 0), &dr, false)) < 0)
            return rc;
        s->st.appended++;
        s->st.append_bytes += len;
    }
    g->size += need;
    s->bytes += need;
    if (s->cfg.fsync != SC_FSYNC_BATCH && !s->pend) {
        s->durable_end = g->size;
        s->durable_last = s->last;
        s->durable_nix = s->nix;
    }
    return 0;
}

int
sc_astore_append(struct sc_astore *s, uint64_t seq, const void *msg, uint16_t len)
{
    if (!seq)
        return -EINVAL;
    if (s->last && seq <= s->last) {
        s->st.duplicates++;
        return -EEXIST;
    }
    if (s->last && seq > s->last + 1)
        return write_records(s, s->last + 1, seq - 1, seq, msg, len);
    return write_records(s, 0, 0, seq, msg, len);
}

int
sc_astore_gap(struct sc_astore *s, uint64_t from, uint64_t to)
{
    if (!from || to < from)
        return -EINVAL;
    if (s->last) {
        if (to <= s->last)
            return 0;
        from = s->last + 1;
    }
    return write_records(s, from, to, 0, NULL, 0);
}

int
sc_astore_flush(struct sc_astore *s)
{
    struct sc_astore_seg *g = active(s);
    ssize_t n;
    int rc;

    if (!s->npend)
        return 0;
    errno = 0;
    n = s->sys_pwrite(g->fd, s->pend, s->npend, (off_t)s->pend_off);
    s->npend = 0;
    if (n == (ssize_t)(g->size - s->pend_off)) {
        if (s->cfg.fsync == SC_FSYNC_NONE) {
            s->durable_end = g->size;
            s->durable_last = s->last;
            s->durable_nix = s->nix;
        }
        return 0;
    }
    /* a failed or short write: what was gathered is given up, as a failed sync's */
    rc = n < 0 && errno ? -errno : -ENOSPC;
    s->st.rolled_back += s->last - s->written_last;
    s->bytes -= g->size - s->pend_off;
    g->size = s->pend_off;
    g->last = s->written_last;
    s->last = s->written_last;
    s->nix = s->written_nix;
    s->since_ix = s->cfg.index_bytes;
    s->gen++;
    s->dirty = s->cfg.fsync == SC_FSYNC_BATCH && g->size > s->durable_end;
    cut_back(s, g->size);
    return write_error(s, rc);
}

/* A failed sync, as the journal's: what was not durable is given up, and the
 * cut stays dirty until a sync succeeds. */
static void
give_up_undurable(struct sc_astore *s)
{
    struct sc_astore_seg *g = active(s);

    s->dirty = true;
    s->npend = 0;
    s->st.sync_errors++;
    s->st.rolled_back += s->last - s->durable_last;
    s->bytes -= g->size - s->durable_end;
    g->size = s->durable_end;
    g->last = s->durable_last;
    s->last = s->durable_last;
    s->nix = s->durable_nix;
    s->since_ix = s->cfg.index_bytes;
    s->gen++;
    cut_back(s, g->size);
}

static void *
syncer_main(void *arg)
{
    struct sc_astore *s = arg;
    struct sc_astore_syncer *y = s->syncer;
    int rc;

    pthread_mutex_lock(&y->mu);
    for (;;) {
        while (!y->stop && !(y->busy && !y->done))
            pthread_cond_wait(&y->cv, &y->mu);
        if (y->stop)
            break;
        pthread_mutex_unlock(&y->mu);
        errno = 0;
        rc = s->sys_fdatasync(y->fd) < 0 ? (errno ? -errno : -EIO) : 0;
        pthread_mutex_lock(&y->mu);
        y->rc = rc;
        y->done = true;
        pthread_cond_broadcast(&y->cv);
    }
    pthread_mutex_unlock(&y->mu);
    return NULL;
}

/* Collect the sync in flight (waiting for it if wait). */
static int
collect(struct sc_astore *s, bool wait)
{
    struct sc_astore_syncer *y = s->syncer;
    int rc;

    if (!y || !y->busy)
        return 0;
    pthread_mutex_lock(&y->mu);
    while (wait && !y->done)
        pthread_cond_wait(&y->cv, &y->mu);
    if (!y->done) {
        pthread_mutex_unlock(&y->mu);
        return 0;
    }
    y->busy = false;
    rc = y->rc;
    pthread_mutex_unlock(&y->mu);
    if (rc < 0) {
        give_up_undurable(s);
        return rc;
    }
    s->st.syncs++;
    if (y->seg == active(s)->id && y->end > s->durable_end) {
        s->durable_end = y->end;
        s->durable_last = y->last;
        s->durable_nix = y->nix;
    }
    return 0;
}

int
sc_astore_sync_poll(struct sc_astore *s)
{
    return collect(s, false);
}

bool
sc_astore_syncing(const struct sc_astore *s)
{
    return s->syncer && s->syncer->busy;
}

int
sc_astore_sync_start(struct sc_astore *s)
{
    struct sc_astore_syncer *y = s->syncer;
    struct sc_astore_seg *g;
    int rc;

    if (s->cfg.fsync != SC_FSYNC_BATCH || (y && y->busy))
        return sc_astore_flush(s);
    if ((rc = sc_astore_flush(s)) < 0 || !s->dirty)
        return rc;
    if (!y) {
        if (!(y = calloc(1, sizeof(*y))))
            return sc_astore_sync(s); /* here, then */
        pthread_mutex_init(&y->mu, NULL);
        pthread_cond_init(&y->cv, NULL);
        s->syncer = y;
        if (pthread_create(&y->th, NULL, syncer_main, s) != 0) {
            pthread_cond_destroy(&y->cv);
            pthread_mutex_destroy(&y->mu);
            free(y);
            s->syncer = NULL;
            return sc_astore_sync(s);
        }
    }
    g = active(s);
    pthread_mutex_lock(&y->mu);
    y->fd = g->fd;
    y->seg = g->id;
    y->end = g->size;
    y->last = s->last;
    y->nix = s->nix;
    y->busy = true;
    y->done = false;
    pthread_cond_broadcast(&y->cv);
    pthread_mutex_unlock(&y->mu);
    s->dirty = false;
    return 0;
}

int
sc_astore_sync(struct sc_astore *s)
{
    struct sc_astore_seg *g = active(s);
    int rc;

    if ((rc = collect(s, true)) < 0 || (rc = sc_astore_flush(s)) < 0)
        return rc;
    if (!s->dirty)
        return 0;
    errno = 0;
    if (s->sys_fdatasync(g->fd) == 0) {
        s->dirty = false;
        s->st.syncs++;
        s->durable_end = g->size;
        s->durable_last = s->last;
        s->durable_nix = s->nix;
        return 0;
    }
    rc = errno ? -errno : -EIO;
    give_up_undurable(s);
    return rc;
}

/* ------------------------------------------------------------ retention */

int
sc_astore_retain(struct sc_astore *s, time_t now)
{
    int n = 0;

    while (s->nseg > 1) {
        struct sc_astore_seg *g = &s->seg[0];
        bool del = s->cfg.retain_bytes && s->bytes > s->cfg.retain_bytes;
        char name[32];
        size_t k = 0;
        struct stat st;

        if (!del && s->cfg.retain_age_s && fstat(g->fd, &st) == 0)
            del = (uint64_t)st.st_mtime + s->cfg.retain_age_s <= (uint64_t)now;
        if (!del)
            break;
        seg_name(name, sizeof(name), g->id);
        if (unlinkat(s->dirfd, name, 0) < 0)
            return -errno;
        close(g->fd);
        s->bytes -= g->size;
        while (k < s->nix && s->ix[k].seg == g->id)
            k++;
        if (k)
            memmove(s->ix, s->ix + k, (s->nix - k) * sizeof(*s->ix));
        s->nix -= k;
        s->durable_nix -= k;
        memmove(s->seg, s->seg + 1, (s->nseg - 1) * sizeof(*s->seg));
        s->nseg--;
        s->first = s->seg[0].first;
        k = 0;
        while (k < s->ndmg && s->dmg[k].to < s->first)
            k++;
        if (k) {
            memmove(s->dmg, s->dmg + k, (s->ndmg - k) * sizeof(*s->dmg));
            s->ndmg -= k;
        }
        s->gen++;
        s->st.segments_deleted++;
        n++;
    }
    if (n && s->cfg.fsync != SC_FSYNC_NONE && fsync(s->dirfd) < 0)
        return -errno;
    return n;
}

/* ----------------------------------------------------------------- read */

static struct sc_astore_seg *
find_seg(struct sc_astore *s, uint64_t id, size_t *i)
{
    for (*i = 0; *i < s->nseg; (*i)++)
        if (s->seg[*i].id == id)
            return &s->seg[*i];
    return NULL;
}

/* Make [off, off + need) of segment g readable in c's block. @return a pointer
 * to it, or NULL (-EIO: *rc). */
static const uint8_t *
block(const struct sc_astore *s, struct sc_astore_cursor *c, const struct sc_astore_seg *g,
      uint64_t off, size_t need, int *rc)
{
    size_t want;
    ssize_t n;

    if (c->blen && c->bseg == g->id && off >= c->boff && off + need <= c->boff + c->blen)
        return c->blk + (off - c->boff);
    if (!c->blk && !(c->blk = malloc(SC_ASTORE_BLOCK))) {
        *rc = -ENOMEM;
        return NULL;
    }
    /* bytes past g->size may be a write being rolled back: never cached */
    want = g->size - off < SC_ASTORE_BLOCK ? (size_t)(g->size - off) : SC_ASTORE_BLOCK;
    c->blen = 0;
    if (want < need || (n = s->sys_pread(g->fd, c->blk, want, (off_t)off)) < (ssize_t)need) {
        *rc = -EIO;
        return NULL;
    }
    c->bseg = g->id;
    c->boff = off;
    c->blen = (size_t)n;
    return c->blk;
}

int
sc_astore_read_at(struct sc_astore *s, struct sc_astore_cursor *c, uint64_t seq,
                  const void **msg, struct sc_astore_rec *r)
{
    struct sc_astore_seg *g;
    const uint8_t *h;
    uint64_t segid, off, end, rseq;
    size_t lo = 0, hi = s->nix, i;
    uint32_t lenf, len;
    int rc = -EIO;

    if (s->npend)
        sc_astore_flush(s); /* (a failure rolls back: then seq may be past the last) */
    if (!s->last || seq < s->first || seq > s->last)
        return -ERANGE;
    for (size_t k = 0; k < s->ndmg; k++)
        if (seq >= s->dmg[k].from && seq <= s->dmg[k].to) {
            r->from = s->dmg[k].from;
            r->to = s->dmg[k].to;
            return -EBADMSG;
        }
    if (c->gen != s->gen) { /* bytes were cut or deleted since: its block and place may be gone */
        c->gen = s->gen;
        c->seq = 0;
        c->blen = 0;
    }
    if (c->seq && c->seq == seq) {
        segid = c->seg;
        off = c->off;
    } else if (c->seq && c->pseq == seq) {
        segid = c->seg;
        off = c->poff;
    } else {
        while (hi - lo > 1) { /* the last entry at or before seq */
            size_t mid = (lo + hi) / 2;
            if (s->ix[mid].seq <= seq)
                lo = mid;
            else
                hi = mid;
        }
        if (!s->nix || s->ix[lo].seq > seq)
            return -ERANGE;
        segid = s->ix[lo].seg;
        off = s->ix[lo].off;
    }
    if (!(g = find_seg(s, segid, &i)))
        return -ERANGE;
    for (;;) {
        if (off >= g->size) {
            if (++i >= s->nseg)
                return -ERANGE;
            g = &s->seg[i];
            off = MAGIC_LEN;
            continue;
        }
        if (!(h = block(s, c, g, off, HDR, &rc)))
            goto io;
        lenf = sc_load_be32(h);
        len = lenf & SC_REC_LEN_MASK;
        if (lenf & ~(SC_REC_LEN_MASK | SC_REC_GAP))
            goto bad;
        if (off + HDR + len > g->size)
            goto bad;
        if (!(h = block(s, c, g, off, HDR + len, &rc)))
            goto io;
        if (!sc_rec_check(h, 2, 0, h + HDR) || ((lenf & SC_REC_GAP) && len != 8))
            goto bad;
        rseq = sc_load_be64(h + 4);
        end = lenf & SC_REC_GAP ? rseq + sc_load_be64(h + HDR) - 1 : rseq;
        if (rseq > seq)
            goto bad;
        off += HDR + len;
        if (end < seq)
            continue;
        c->seq = end + 1;
        c->seg = g->id;
        c->pseq = rseq;
        c->poff = off - HDR - len;
        c->off = off;
        if (lenf & SC_REC_GAP) {
            r->from = rseq;
            r->to = end;
            return -ENODATA;
        }
        *msg = h + HDR;
        r->from = r->to = seq;
        return (int)len;
    }
io:
    if (rc == -EIO)
        s->st.read_errors++;
    c->seq = 0;
    return rc;
bad:
    s->st.read_errors++;
    c->seq = 0;
    c->blen = 0;
    r->from = r->to = seq;
    return -EBADMSG;
}

void
sc_astore_cursor_free(struct sc_astore_cursor *c)
{
    free(c->blk);
    memset(c, 0, sizeof(*c));
}

int
sc_astore_read(struct sc_astore *s, uint64_t seq, void *buf, size_t cap, struct sc_astore_rec *r)
{
    const void *m;
    int n = sc_astore_read_at(s, &s->cur, seq, &m, r);

    if (n < 0)
        return n;
    if ((size_t)n > cap)
        return -ENOSPC;
    memcpy(buf, m, (size_t)n);
    return n;
}
