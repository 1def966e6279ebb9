/* transport: ipc -- the writer and the reader of a channel's shared-memory
 * log (the format: engine/ipc.h; docs/ARCHITECTURE.md says why this is a
 * strategy of the publisher and subscriber agents, not a struct sc_xport).
 *
 * Writer: sc_pub_send appends a record and publishes tail -- a few stores, no
 * system call. Before it overwrites the oldest records it raises head. Under
 * ipc.backpressure: block it first makes sure no registered reader still
 * needs them (a cached lower bound of the readers' positions, the slots read
 * again only when the bound is in the way), else -EAGAIN. do_work writes the
 * heartbeat, wakes readers asleep (one futex call per do_work, only when
 * someone sleeps and something new was written) and, while blocked, releases
 * slots whose process is gone.
 *
 * Reader: each do_work copies up to READ_BATCH bytes of records into its own
 * buffer, checks head again (lapped: the copy is dropped, the loss reported
 * from the oldest record retained), then checks every record of the copy and
 * delivers from it. Every field read from the file is checked before use; a
 * failed check ends the reading of that log (SOURCE_DOWN, SC_DOWN_BAD_LOG),
 * never a crash or a loop. Every loop is bounded.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "engine/clock.h"
#include "engine/channel.h"
#include "engine/compiler.h"
#include "engine/ipc.h"

#define READ_BATCH (128u << 10)         /* bytes copied per look at the log */
#define READ_BATCHES 8                  /* looks per do_work */
#define LOOK_EVERY_NS (100u * 1000000u) /* an ended or silent log: stat again */
#define LOOK_ABSENT_NS (10u * 1000000u) /* no log yet: open again */
#define BLOCKED_POLL_NS (1000u * 1000u) /* a blocked writer's deadline (readers wake it) */
#define REAP_EVERY_NS (10u * 1000000u)  /* a blocked writer looks for dead readers */
#define HB_MIN_NS (1000000u)            /* the heartbeat word is written at most this often */
#define NO_POKE_POLL_NS (200u * 1000u)  /* a polled reader that cannot count itself: looks again */

static uint64_t
fnv1a(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ull;

    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

uint64_t
sc_ipc_hdr_check(const struct sc_ipc_hdr *h)
{
    return fnv1a(h, offsetof(struct sc_ipc_hdr, hdr_check));
}

static inline uint64_t
rec_size(uint32_t len)
{
    return ((uint64_t)SC_IPC_REC_HDR + len + SC_IPC_ALIGN - 1) & ~(uint64_t)(SC_IPC_ALIGN - 1);
}

int
sc_ipc_path(char *buf, size_t len, const struct sc_channel_cfg *ch, const char *suffix)
{
    int n = snprintf(buf, len, "%s/seqcast.%s%s", ch->ipc.dir[0] ? ch->ipc.dir : ".", ch->name,
                     suffix);

    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int
sc_ipc_check_header(const void *map, uint64_t file_size, struct sc_ipc_info *out, char *why,
                    size_t why_len)
{
    struct sc_ipc_hdr h;

    if (file_size < SC_IPC_HDR_SIZE) {
        snprintf(why, why_len, "truncated: %llu bytes, shorter than the %u-byte header",
                 (unsigned long long)file_size, SC_IPC_HDR_SIZE);
        return -EBADF;
    }
    memcpy(&h, map, offsetof(struct sc_ipc_hdr, tail)); /* the fixed fields, once */
    if (memcmp(h.magic, SC_IPC_MAGIC, 8)) {
        snprintf(why, why_len, "not a seqcast IPC log (no %s magic)", SC_IPC_MAGIC);
        return -EPROTO;
    }
    if (h.version != SC_IPC_VERSION) {
        snprintf(why, why_len, "log format version %u, this build reads version %u", h.version,
                 SC_IPC_VERSION);
        return -EPROTONOSUPPORT;
    }
    if (h.hdr_check != sc_ipc_hdr_check(&h)) {
        snprintf(why, why_len, "damaged header (check sum mismatch)");
        return -EPROTO;
    }
    if (h.hdr_size != SC_IPC_HDR_SIZE || h.log_size < SC_IPC_MIN_LOG ||
        (h.log_size & (h.log_size - 1)) || h.log_size > (1ull << 40) ||
        h.file_size != h.hdr_size + h.log_size || h.max_msg == 0 ||
        h.max_msg > SC_IPC_MAX_MSG || rec_size(h.max_msg) > h.log_size / 4 || h.epoch == 0 ||
        (h.flags & ~SC_IPC_F_BLOCK)) {
        snprintf(why, why_len, "damaged header (geometry: header %u, log %llu, file %llu, "
                               "max_msg %u, flags %#x)",
                 h.hdr_size, (unsigned long long)h.log_size, (unsigned long long)h.file_size,
                 h.max_msg, h.flags);
        return -EPROTO;
    }
    if (file_size < h.file_size) {
        snprintf(why, why_len, "truncated: %llu bytes, the header says %llu",
                 (unsigned long long)file_size, (unsigned long long)h.file_size);
        return -EBADF;
    }
    if (out) {
        out->log_size = h.log_size;
        out->file_size = h.file_size;
        out->epoch = h.epoch;
        out->max_msg = h.max_msg;
        out->flags = h.flags;
        out->writer_pid = h.writer_pid;
        memcpy(out->channel, h.channel, sizeof(out->channel));
        out->channel[sizeof(out->channel) - 1] = '\0';
    }
    return 0;
}

long
sc_ipc_parse_record(const uint8_t *p, size_t avail, uint64_t ring_left, uint32_t max_msg,
                    struct sc_ipc_rec *rec, char *why, size_t why_len)
{
    uint64_t size;

    if (avail < SC_IPC_REC_HDR)
        return 0;
    memcpy(&rec->len, p, 4);
    memcpy(&rec->kind, p + 4, 4);
    memcpy(&rec->seq, p + 8, 8);
    rec->payload = p + SC_IPC_REC_HDR;
    if (rec->kind == SC_IPC_PAD) {
        if ((uint64_t)rec->len + SC_IPC_REC_HDR != ring_left) {
            snprintf(why, why_len, "a padding record of %u bytes where %llu are left of the ring",
                     rec->len, (unsigned long long)ring_left);
            return -EPROTO;
        }
        return (long)ring_left; /* the rest of the ring, whether copied or not */
    }
    if (rec->kind != SC_IPC_DATA && rec->kind != SC_IPC_LOSS) {
        snprintf(why, why_len, "a record of unknown kind %#x", rec->kind);
        return -EPROTO;
    }
    if (rec->kind == SC_IPC_LOSS && rec->len != SC_IPC_LOSS_LEN) {
        snprintf(why, why_len, "a loss record of %u bytes, not %u", rec->len, SC_IPC_LOSS_LEN);
        return -EPROTO;
    }
    if (rec->len > max_msg || (size = rec_size(rec->len)) > ring_left) {
        snprintf(why, why_len, "a record of %u bytes (largest %u, %llu left of the ring)",
                 rec->len, max_msg, (unsigned long long)ring_left);
        return -EPROTO;
    }
    if (rec->seq == 0 || rec->seq == UINT64_MAX) {
        snprintf(why, why_len, "a record numbered %llu", (unsigned long long)rec->seq);
        return -EPROTO;
    }
    return size <= avail ? (long)size : 0;
}

static int
futex(_Atomic uint32_t *addr, int op, uint32_t val, const struct timespec *ts)
{
    return (int)syscall(SYS_futex, addr, op, val, ts, NULL, 0);
}

#define set_err(err, rc, ...)                                                              \
    do {                                                                                   \
        if (err) {                                                                         \
            (err)->code = (rc);                                                            \
            snprintf((err)->msg, sizeof((err)->msg), __VA_ARGS__);                         \
        }                                                                                  \
    } while (0)

/* ================================================================ writer */

struct sc_ipc_writer {
    struct sc_channel_cfg ch;
    struct sc_pub_stats *st;
    int fd, sfd, lfd; /* lfd: DIR/seqcast.NAME.lock, flock'ed for the writer's life */
    struct sc_ipc_hdr *h;
    uint8_t *ring;
    size_t map_len, smap_len;
    struct sc_ipc_slots_hdr *sh;
    struct sc_ipc_slot *slots;
    uint64_t log_size, mask, epoch;
    uint32_t max_msg;
    uint64_t tail, head, next_seq; /* the writer's own copies */
    /* bnd[k]: the first record boundary at or past the chunk start c with
     * (c / chunk) % SC_IPC_CHUNKS == k, for the last c written over -- where
     * head may move to without reading the old records' headers (which the
     * writer would otherwise load from the line it is about to overwrite,
     * one per record) */
    /* a record ending at or before fast_end needs no padding, no head moved,
     * no chunk start marked, no stall counted: sc_ipcw_send writes it
     * straight (0 while closed or after a refused send: append decides) */
    uint64_t fast_end;
    uint64_t chunk; /* log_size / SC_IPC_CHUNKS, a power of two */
    unsigned cshift;
    uint64_t bnd[SC_IPC_CHUNKS];
    uint64_t min_reader;           /* block: no registered reader is below this ... */
    uint32_t registrations;        /* ... unless the slot file's count moved from this */
    unsigned slots_used;           /* slots past this held no reader of this session at
                                      the last registration (a reader registers after it
                                      takes its slot: the count moves, all are read) */
    bool block, closed;
    uint64_t hb_ns, hb_every;
    uint64_t woken_tail;
    uint64_t blocked_since; /* 0: not blocked */
    uint64_t blocked_need;  /* what the refused send needed freed */
    uint64_t last_reap;
};

/* A file made whole under a temporary name, then renamed over path: a reader
 * never sees one half made. */
static int
make_file(const struct sc_channel_cfg *ch, const char *path, uint64_t size, uint32_t mode,
          gid_t gid, char *tmp, size_t tmplen, struct sc_err *err)
{
    int fd;

    snprintf(tmp, tmplen, "%s.tmp%ld", path, (long)getpid());
    unlink(tmp);
    if ((fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
        set_err(err, -errno, "ipc writer: cannot create %.200s: %s", tmp, strerror(errno));
        return -errno;
    }
    if (gid != (gid_t)-1 && fchown(fd, (uid_t)-1, gid) < 0) {
        int e = errno;
        set_err(err, -e, "ipc writer: %.200s: cannot give it to group ipc.group: %s", tmp, strerror(e));
        goto fail;
    }
    if (fchmod(fd, mode) < 0 || ftruncate(fd, (off_t)size) < 0) {
        int e = errno;
        set_err(err, -e, "ipc writer: %.200s: %s", tmp, strerror(e));
        goto fail;
    }
    (void)ch;
    return fd;
fail:
    close(fd);
    unlink(tmp);
    return err ? err->code : -EIO;
}

int
sc_ipcw_create(struct sc_ipc_writer **out, const struct sc_channel_cfg *ch,
               struct sc_pub_stats *st, struct sc_err *err)
{
    char path[SC_CFG_PATH_MAX + 64], spath[sizeof(path) + 16], tmp[sizeof(spath) + 32],
        stmp[sizeof(tmp)], lpath[sizeof(spath)];
    struct sc_ipc_writer *w;
    gid_t gid = (gid_t)-1;
    uint64_t seed;
    int lfd, rc;

    if (sc_ipc_path(path, sizeof(path), ch, "") < 0 ||
        sc_ipc_path(spath, sizeof(spath), ch, ".readers") < 0) {
        set_err(err, -ENAMETOOLONG, "ipc writer %s: ipc.dir too long%s", ch->name, "");
        return -ENAMETOOLONG;
    }
    if (ch->ipc.group[0]) {
        struct group *g = getgrnam(ch->ipc.group);
        if (!g) {
            set_err(err, -EINVAL, "ipc writer %s: ipc.group: no group '%s'", ch->name,
                    ch->ipc.group);
            return -EINVAL;
        }
        gid = g->gr_gid;
    }
    /* one writer per log: the live one holds an flock on DIR/seqcast.NAME.lock,
     * a file never replaced nor removed, so every writer locks the same inode
     * (the log itself is replaced by rename: a lock on it cannot exclude a
     * writer that looked before the rename) */
    if (sc_ipc_path(lpath, sizeof(lpath), ch, ".lock") < 0) {
        set_err(err, -ENAMETOOLONG, "ipc writer %s: ipc.dir too long%s", ch->name, "");
        return -ENAMETOOLONG;
    }
    if ((lfd = open(lpath, O_RDONLY | O_CREAT | O_CLOEXEC, ch->ipc.mode & 0666)) < 0) {
        rc = -errno;
        set_err(err, rc, "ipc writer: cannot open the writer's lock %.200s: %s", lpath,
                strerror(errno));
        return rc;
    }
    if (flock(lfd, LOCK_EX | LOCK_NB) < 0) {
        rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
        if (rc == -EBUSY)
            set_err(err, rc, "ipc writer: %.160s has a live writer already (channel %s)", path,
                    ch->name);
        else
            set_err(err, rc, "ipc writer: cannot lock %.200s: %s", lpath, strerror(-rc));
        close(lfd);
        return rc;
    }
    if (!(w = calloc(1, sizeof(*w)))) {
        close(lfd);
        return -ENOMEM;
    }
    w->ch = *ch;
    w->st = st;
    w->fd = w->sfd = -1;
    w->lfd = lfd;
    w->log_size = ch->ipc.size;
    w->mask = w->log_size - 1;
    w->chunk = w->log_size / SC_IPC_CHUNKS;
    w->cshift = (unsigned)__builtin_ctzll(w->chunk);
    w->max_msg = SC_IPC_MAX_MSG;
    while (rec_size(w->max_msg) > w->log_size / 4)
        w->max_msg /= 2;
    w->block = ch->ipc.backpressure == SC_IPC_BLOCK;
    w->hb_every = ch->source_timeout_ns / 4 > HB_MIN_NS ? ch->source_timeout_ns / 4 : HB_MIN_NS;
    w->next_seq = 1;
    w->min_reader = UINT64_MAX;
    seed = sc_seed_random();
    w->epoch = seed ? seed : 1;

    /* the reader slots: written by readers, so a file of its own */
    w->smap_len = sizeof(struct sc_ipc_slots_hdr) + SC_IPC_NSLOTS * sizeof(struct sc_ipc_slot);
    if ((w->sfd = make_file(ch, spath, w->smap_len,
                            ch->ipc.mode | ((ch->ipc.mode & 0444) >> 1), gid, stmp, sizeof(stmp),
                            err)) < 0) {
        rc = w->sfd;
        goto fail;
    }
    w->sh = mmap(NULL, w->smap_len, PROT_READ | PROT_WRITE, MAP_SHARED, w->sfd, 0);
    if (w->sh == MAP_FAILED) {
        rc = -errno;
        set_err(err, rc, "ipc writer: mmap %.200s: %s", stmp, strerror(errno));
        w->sh = NULL;
        unlink(stmp);
        goto fail;
    }
    memcpy(w->sh->magic, SC_IPC_SLOTS_MAGIC, 8);
    w->sh->version = SC_IPC_VERSION;
    w->sh->nslots = SC_IPC_NSLOTS;
    w->sh->epoch = w->epoch;
    w->slots = (struct sc_ipc_slot *)(w->sh + 1);

    if ((w->fd = make_file(ch, path, SC_IPC_HDR_SIZE + w->log_size, ch->ipc.mode, gid, tmp,
                           sizeof(tmp), err)) < 0) {
        rc = w->fd;
        unlink(stmp);
        goto fail;
    }
    w->map_len = SC_IPC_HDR_SIZE + w->log_size;
    w->h = mmap(NULL, w->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, w->fd, 0);
    if (w->h == MAP_FAILED) {
        rc = -errno;
        set_err(err, rc, "ipc writer: mmap %.200s: %s", tmp, strerror(errno));
        w->h = NULL;
        unlink(stmp);
        unlink(tmp);
        goto fail;
    }
    w->ring = (uint8_t *)w->h + SC_IPC_HDR_SIZE;
    memcpy(w->h->magic, SC_IPC_MAGIC, 8);
    w->h->version = SC_IPC_VERSION;
    w->h->hdr_size = SC_IPC_HDR_SIZE;
    w->h->file_size = w->map_len;
    w->h->log_size = w->log_size;
    w->h->max_msg = w->max_msg;
    w->h->flags = w->block ? SC_IPC_F_BLOCK : 0;
    w->h->epoch = w->epoch;
    w->h->created_ns = sc_clock_realtime_ns();
    w->h->writer_pid = (uint32_t)getpid();
    snprintf(w->h->channel, sizeof(w->h->channel), "%s", ch->name);
    w->h->hdr_check = sc_ipc_hdr_check(w->h);
    atomic_store(&w->h->next_seq, 1);
    if (rename(stmp, spath) < 0 || rename(tmp, path) < 0) {
        rc = -errno;
        set_err(err, rc, "ipc writer: cannot put the log at %.200s: %s", path, strerror(errno));
        unlink(stmp);
        unlink(tmp);
        goto fail;
    }
    *out = w;
    return 0;
fail:
    sc_ipcw_destroy(w);
    return rc;
}

size_t
sc_ipcw_max_msg(const struct sc_ipc_writer *w)
{
    return w->max_msg;
}

/* Size of the record the writer wrote at pos (its own file: checked anyway,
 * a damaged length moves head to `need` at once). */
static uint64_t
size_at(const struct sc_ipc_writer *w, uint64_t pos)
{
    uint64_t off = pos & w->mask;
    uint32_t len, kind;

    memcpy(&len, w->ring + off, 4);
    memcpy(&kind, w->ring + off + 4, 4);
    if (kind == SC_IPC_PAD)
        return w->log_size - off;
    return (kind == SC_IPC_DATA || kind == SC_IPC_LOSS) && len <= w->max_msg ? rec_size(len) : 0;
}

/* block: may the records below need be overwritten? */
static bool
readers_allow(struct sc_ipc_writer *w, uint64_t need)
{
    uint64_t min = UINT64_MAX;
    uint32_t regs = atomic_load(&w->sh->registrations);
    unsigned n = w->slots_used;

    if (regs != w->registrations) { /* someone registered: every slot */
        w->registrations = regs;
        n = SC_IPC_NSLOTS;
        w->slots_used = 0;
    }
    for (unsigned i = 0; i < n; i++) {
        struct sc_ipc_slot *s = &w->slots[i];
        uint64_t pos;
        if (!atomic_load_explicit(&s->pid, memory_order_acquire) ||
            atomic_load_explicit(&s->epoch, memory_order_relaxed) != w->epoch)
            continue;
        if (n == SC_IPC_NSLOTS)
            w->slots_used = i + 1;
        pos = atomic_load_explicit(&s->pos, memory_order_acquire);
        if (pos > w->tail) /* nonsense: holds nothing back */
            continue;
        if (pos < min)
            min = pos;
    }
    w->min_reader = min;
    return need <= min;
}

/* A record [start, end) written: the chunk starts it covers get their first
 * boundary (start itself if it is one, else end). */
static inline void
mark(struct sc_ipc_writer *w, uint64_t start, uint64_t end)
{
    uint64_t c = (start + w->chunk - 1) & ~(w->chunk - 1);

    for (; unlikely(c < end); c += w->chunk)
        w->bnd[(c >> w->cshift) & (SC_IPC_CHUNKS - 1)] = c == start ? start : end;
}

/* Where head goes so that the bytes below need may be overwritten: the first
 * record boundary at or past the chunk start at or past need (a jump of up
 * to a chunk beyond need, so head moves once a chunk, not once a record). A
 * table entry not of this lap (never: the chunk start is below tail, see
 * append) falls back to the records' own lengths. */
static uint64_t
next_head(const struct sc_ipc_writer *w, uint64_t need)
{
    uint64_t c = (need + w->chunk - 1) & ~(w->chunk - 1), h = w->bnd[(c >> w->cshift) & (SC_IPC_CHUNKS - 1)];

    if (likely(h >= c && h <= w->tail))
        return h;
    for (h = w->head; h < need;) {
        uint64_t s = size_at(w, h);
        h = s ? h + s : need;
    }
    return h;
}

/* fast_end after a record ending at end: below the next chunk start (and so
 * the ring's end), and below what head lets be overwritten. A record ending
 * on a chunk start leaves the next one to append (it starts on one). */
static inline void
set_fast_end(struct sc_ipc_writer *w, uint64_t end)
{
    uint64_t next = (end | (w->chunk - 1)) + 1;

    if (!(end & (w->chunk - 1)))
        next = end;
    w->fast_end = next < w->head + w->log_size ? next : w->head + w->log_size;
}

/* One record of kind (DATA: numbered next_seq, which moves on; LOSS: numbered
 * as the message after it): every case (sc_ipcw_send takes the common one
 * itself). */
static __attribute__((noinline)) int
append(struct sc_ipc_writer *w, uint32_t kind, const void *msg, size_t len, uint64_t now_ns)
{
    uint64_t off = w->tail & w->mask, pad = 0, rs, end, at;
    uint8_t *r;

    if (unlikely(w->closed))
        return -EPIPE;
    if (unlikely(len > w->max_msg))
        return -EMSGSIZE;
    rs = rec_size((uint32_t)len);
    if (w->log_size - off < rs)
        pad = w->log_size - off;
    end = w->tail + pad + rs;
    if (unlikely(end > w->head + w->log_size)) { /* the oldest records go */
        /* need + a chunk <= tail: rs + pad <= log_size / 2, chunk <= log_size / 64 */
        uint64_t nh = next_head(w, end - w->log_size);
        if (w->block &&
            (nh > w->min_reader ||
             atomic_load_explicit(&w->sh->registrations, memory_order_acquire) !=
                 w->registrations) &&
            !readers_allow(w, nh)) {
            w->st->ipc_blocked++;
            w->blocked_need = nh;
            w->fast_end = 0; /* the next send counts the stall */
            if (!w->blocked_since)
                w->blocked_since = now_ns ? now_ns : 1;
            return -EAGAIN;
        }
        w->head = nh;
        atomic_store_explicit(&w->h->head, w->head, memory_order_relaxed);
        /* head is out before the bytes it frees change (x86: stores in order;
         * elsewhere the fence) */
        atomic_thread_fence(memory_order_release);
    }
    if (pad)
        mark(w, w->tail, w->tail + pad);
    mark(w, w->tail + pad, end);
    atomic_store_explicit(&w->h->gen, w->tail * 2 + 1, memory_order_relaxed);
    if (pad) {
        uint32_t plen = (uint32_t)(pad - SC_IPC_REC_HDR), pkind = SC_IPC_PAD;
        uint64_t zero = 0;
        r = w->ring + off;
        memcpy(r, &plen, 4);
        memcpy(r + 4, &pkind, 4);
        memcpy(r + 8, &zero, 8);
    }
    at = (w->tail + pad) & w->mask;
    r = w->ring + at;
    {
        uint32_t l = (uint32_t)len;
        memcpy(r, &l, 4);
        memcpy(r + 4, &kind, 4);
        memcpy(r + 8, &w->next_seq, 8);
        memcpy(r + SC_IPC_REC_HDR, msg, len);
    }
    w->tail = end;
    if (kind == SC_IPC_DATA) {
        w->next_seq++;
        atomic_store_explicit(&w->h->next_seq, w->next_seq, memory_order_relaxed);
    }
    atomic_store_explicit(&w->h->tail, end, memory_order_release);
    atomic_store_explicit(&w->h->gen, end * 2, memory_order_release);
    if (kind == SC_IPC_DATA) {
        w->st->msgs_sent++;
        w->st->bytes_sent += len;
    } else {
        w->st->ipc_loss_records++;
    }
    if (unlikely(w->blocked_since)) {
        w->st->ipc_stall += now_ns > w->blocked_since ? now_ns - w->blocked_since : 0;
        w->blocked_since = 0;
    }
    set_fast_end(w, end);
    return 0;
}

int
sc_ipcw_send(struct sc_ipc_writer *w, const void *msg, size_t len, uint64_t now_ns)
{
    uint64_t end = w->tail + rec_size((uint32_t)len);

    if (likely(len <= w->max_msg && end <= w->fast_end)) { /* append's common case */
        uint8_t *r = w->ring + (w->tail & w->mask);
        uint32_t l = (uint32_t)len, kind = SC_IPC_DATA;

        atomic_store_explicit(&w->h->gen, w->tail * 2 + 1, memory_order_relaxed);
        memcpy(r, &l, 4);
        memcpy(r + 4, &kind, 4);
        memcpy(r + 8, &w->next_seq, 8);
        memcpy(r + SC_IPC_REC_HDR, msg, len);
        w->tail = end;
        w->next_seq++;
        atomic_store_explicit(&w->h->next_seq, w->next_seq, memory_order_relaxed);
        atomic_store_explicit(&w->h->tail, end, memory_order_release);
        atomic_store_explicit(&w->h->gen, end * 2, memory_order_release);
        w->st->msgs_sent++;
        w->st->bytes_sent += len;
        return 0;
    }
    return append(w, SC_IPC_DATA, msg, len, now_ns);
}

int
sc_ipcw_loss(struct sc_ipc_writer *w, const struct sc_sub_event *ev, uint64_t now_ns)
{
    struct sc_ipc_loss l = { .reason = (uint32_t)ev->loss.reason,
                             .first = ev->loss.first,
                             .last = ev->loss.last,
                             .packets = ev->loss.packets };

    if (ev->type != SC_EV_LOSS)
        return -EINVAL;
    if (ev->loss.upstream) /* a bridge of a bridge: the network source's name goes on */
        snprintf(l.source, sizeof(l.source), "%s", ev->loss.upstream);
    else if (ev->src)
        memcpy(l.source, ev->src->name, sizeof(l.source));
    l.source[sizeof(l.source) - 1] = '\0';
    return append(w, SC_IPC_LOSS, &l, sizeof(l), now_ns);
}

/* The lock a reader holds on its slot's bytes in the slots file for as long
 * as it has the slot: an open file description lock (F_OFD_SETLK), which the
 * kernel drops when the reader's process ends however it ends, and which any
 * process that has the file open sees (F_OFD_GETLK), whatever PID namespace
 * it or the reader is in -- a pid, which a reader in another namespace
 * reports in its own numbering, is not evidence of anything here. */
static struct flock
slot_range(unsigned i, short type)
{
    return (struct flock){ .l_type = type,
                           .l_whence = SEEK_SET,
                           .l_start = (off_t)(sizeof(struct sc_ipc_slots_hdr) +
                                              i * sizeof(struct sc_ipc_slot)),
                           .l_len = (off_t)sizeof(struct sc_ipc_slot) };
}

/* Is the reader in slot i (pid as it wrote it) alive? Its lock says; where
 * the file system has no such locks (none taken either), kill(pid, 0). */
static bool
slot_alive(const struct sc_ipc_writer *w, unsigned i, uint32_t pid)
{
    struct flock fl = slot_range(i, F_WRLCK);

    if (fcntl(w->sfd, F_OFD_GETLK, &fl) == 0)
        return fl.l_type != F_UNLCK;
    return pid <= INT_MAX && !(kill((pid_t)pid, 0) < 0 && errno == ESRCH);
}

/* block: release the slots of readers that are gone (kill -9), so a dead
 * reader does not hold the writer for ever. */
static int
reap(struct sc_ipc_writer *w)
{
    int n = 0;

    for (unsigned i = 0; i < SC_IPC_NSLOTS; i++) {
        struct sc_ipc_slot *s = &w->slots[i];
        uint32_t pid = atomic_load(&s->pid);
        if (pid && !slot_alive(w, i, pid) && atomic_compare_exchange_strong(&s->pid, &pid, 0)) {
            w->st->ipc_readers_reaped++;
            n++;
        }
    }
    w->min_reader = 0; /* read the slots again */
    return n;
}

/* Wake readers asleep: pollers by a write to the log (their inotify watch
 * fires), then the wake word raised and FUTEX_WAKE for those in sc_ipcr_wait.
 * The poke comes first: a reader that sees the new wake count finds the
 * event queued when it drains (sc_ipcr_do_work). */
static void
wake(struct sc_ipc_writer *w, bool poke, bool futex_too)
{
    uint64_t n = atomic_load_explicit(&w->h->wake, memory_order_relaxed) + 1ull;

    if (poke) {
        if (pwrite(w->fd, &n, sizeof(n), SC_IPC_POKE_OFF) == (ssize_t)sizeof(n))
            w->st->ipc_pokes++;
    }
    atomic_fetch_add_explicit(&w->h->wake, 1, memory_order_release);
    if (futex_too)
        futex(&w->h->wake, FUTEX_WAKE, INT_MAX, NULL);
    w->woken_tail = w->tail;
    w->st->ipc_wakeups++;
}

int
sc_ipcw_do_work(struct sc_ipc_writer *w, uint64_t now_ns)
{
    int work = 0;

    if (now_ns - w->hb_ns >= HB_MIN_NS) {
        w->hb_ns = now_ns;
        atomic_store_explicit(&w->h->heartbeat_ns, now_ns, memory_order_release);
    }
    if (w->tail != w->woken_tail) {
        /* tail is out; a reader going to sleep counts itself, then reads
         * tail: one of us sees the other */
        atomic_thread_fence(memory_order_seq_cst);
        uint32_t sleepers = atomic_load_explicit(&w->sh->waiters, memory_order_relaxed);
        uint32_t pollers = atomic_load_explicit(&w->sh->pollers, memory_order_relaxed);
        if (sleepers || pollers) {
            wake(w, pollers != 0, sleepers != 0);
            work++;
        } else {
            w->woken_tail = w->tail;
        }
    }
    if (w->blocked_since && now_ns - w->last_reap >= REAP_EVERY_NS) {
        w->last_reap = now_ns;
        work += reap(w);
    }
    return work;
}

uint64_t
sc_ipcw_deadline(const struct sc_ipc_writer *w, uint64_t now_ns)
{
    if (w->tail != w->woken_tail)
        return 0;
    if (w->blocked_since)
        return now_ns + BLOCKED_POLL_NS;
    return w->hb_ns + w->hb_every;
}

int
sc_ipcw_wait(struct sc_ipc_writer *w, uint64_t timeout_ns)
{
    struct timespec ts = { (time_t)(timeout_ns / 1000000000u), (long)(timeout_ns % 1000000000u) };
    uint32_t m;
    int got;

    if (!w->blocked_since) {
        nanosleep(&ts, NULL); /* nothing comes in: only time */
        return 0;
    }
    /* blocked: sleep until a reader moves on (it wakes us when it sees
     * writer_waits after publishing its position) */
    atomic_store(&w->sh->writer_waits, 1);
    m = atomic_load(&w->sh->moved);
    if (!(got = readers_allow(w, w->blocked_need)))
        futex(&w->sh->moved, FUTEX_WAIT, m, &ts);
    atomic_store(&w->sh->writer_waits, 0);
    return got || readers_allow(w, w->blocked_need);
}

void
sc_ipcw_close(struct sc_ipc_writer *w, uint64_t now_ns)
{
    if (w->closed)
        return;
    w->closed = true;
    w->fast_end = 0;
    atomic_store_explicit(&w->h->heartbeat_ns, now_ns, memory_order_relaxed);
    atomic_store_explicit(&w->h->closed, 1, memory_order_release);
    wake(w, true, true);
}

void
sc_ipcw_stats(const struct sc_ipc_writer *w, struct sc_pub_stats *st)
{
    st->ipc_readers = 0;
    for (unsigned i = 0; i < SC_IPC_NSLOTS; i++)
        st->ipc_readers += atomic_load(&w->slots[i].pid) &&
                           atomic_load(&w->slots[i].epoch) == w->epoch;
    st->next_msg_seq = w->next_seq;
    st->window_trail = w->head;
    st->window_lead = w->tail;
}

void
sc_ipcw_destroy(struct sc_ipc_writer *w)
{
    if (!w)
        return;
    if (w->h)
        munmap(w->h, w->map_len);
    if (w->sh)
        munmap(w->sh, w->smap_len);
    if (w->fd >= 0)
        close(w->fd);
    if (w->sfd >= 0)
        close(w->sfd);
    if (w->lfd >= 0)
        close(w->lfd); /* the lock goes with it (the file stays: see sc_ipcw_create) */
    free(w);
}

/* ================================================================ reader */

enum rstate { R_NONE, R_UP, R_DOWN /* timed out: may resume */, R_OVER /* ended or bad */ };

struct sc_ipc_reader {
    struct sc_channel_cfg ch;
    struct sc_sub_callbacks cb;
    struct sc_sub_stats *st;
    char path[SC_CFG_PATH_MAX + 64], spath[SC_CFG_PATH_MAX + 80];
    bool mem; /* a log in memory: nothing to open */

    /* the log followed */
    int fd, sfd;
    const uint8_t *map;
    size_t map_len, smap_len;
    const struct sc_ipc_hdr *h;
    const uint8_t *ring;
    struct sc_ipc_info info;
    uint64_t mask;
    dev_t dev;
    ino_t ino;
    struct sc_ipc_slots_hdr *sh;
    struct sc_ipc_slot *slot;
    enum rstate state;
    bool up_said; /* SOURCE_UP emitted for this log */
    enum sc_join join;
    uint64_t pos, expect; /* expect: the next sequence; 0 = the first seen */
    struct sc_source src;
    char upstream[sizeof(((struct sc_ipc_loss *)0)->source)]; /* a loss record's source */

    uint64_t next_look_ns;
    char error[768];
    uint8_t *buf;

    /* polled (sc_ipcr_fd asked for): an inotify watch of the log, which the
     * writer pokes while this reader counts itself among sh->pollers (from
     * an idle do_work to the next) */
    struct inotify_inst *in; /* the process's instance (sc_ipcr_fd), shared */
    int wd;
    bool polled, armed;
    uint64_t drained_wake; /* the log's wake count when the watch was last drained */
};

/* One inotify instance per process for all its polled readers, each reader
 * a watch in it (readers of one log share the watch: the kernel gives one wd
 * per inode, counted here). The instances a user may have are few
 * (fs.inotify.max_user_instances, 128 by default) and one per reader ran out
 * at 128 readers; one per process runs out at 128 processes. Then the
 * process's readers get an eventfd no one writes (ipc_no_inotify, and
 * sc_ipcr_error says so): a runner sleeps in ppoll to their deadline, at most
 * NO_POKE_POLL_NS away, instead of spinning. Any reader of the instance may
 * drain all of its events: they only say "look at tail", which every reader
 * in the runner does each cycle. A child after fork makes its own. */
struct inotify_inst {
    int fd;
    bool inotify; /* false: the eventfd in its place */
    pid_t pid;
    unsigned users, nw, cap;
    struct {
        int wd;
        unsigned refs;
    } *w;
};

static pthread_mutex_t inst_mu = PTHREAD_MUTEX_INITIALIZER;
static struct inotify_inst *inst_cur;

static struct inotify_inst *
inst_get(int *err)
{
    struct inotify_inst *in;

    *err = 0;
    pthread_mutex_lock(&inst_mu);
    if (!inst_cur || inst_cur->pid != getpid()) {
        if ((in = calloc(1, sizeof(*in)))) {
            in->pid = getpid();
            in->inotify = (in->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) >= 0;
            if (!in->inotify) {
                *err = errno;
                in->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); /* -1: a runner spins */
            }
        }
        inst_cur = in;
    } else if (!inst_cur->inotify) {
        *err = EMFILE;
    }
    if ((in = inst_cur))
        in->users++;
    pthread_mutex_unlock(&inst_mu);
    return in;
}

static void
inst_put(struct inotify_inst *in)
{
    if (!in)
        return;
    pthread_mutex_lock(&inst_mu);
    if (--in->users == 0) {
        if (in->fd >= 0)
            close(in->fd);
        if (inst_cur == in)
            inst_cur = NULL;
        free(in->w);
        free(in);
    }
    pthread_mutex_unlock(&inst_mu);
}

static void unwatch(struct sc_ipc_reader *r);

static void
emit(struct sc_ipc_reader *r, struct sc_sub_event *ev)
{
    ev->src = &r->src;
    if (r->cb.on_event)
        r->cb.on_event(r->cb.ctx, ev);
}

static void
source_up(struct sc_ipc_reader *r, enum sc_join join, uint64_t first)
{
    struct sc_sub_event ev = { .type = SC_EV_SOURCE_UP };

    ev.up.join = join;
    ev.up.first_packet = first;
    r->up_said = true;
    r->state = R_UP;
    r->st->sources_up++;
    emit(r, &ev);
}

static void
source_down(struct sc_ipc_reader *r, enum sc_down_reason why)
{
    struct sc_sub_event ev = { .type = SC_EV_SOURCE_DOWN };

    ev.down.reason = why;
    r->st->sources_down++;
    emit(r, &ev);
}

static void
disarm(struct sc_ipc_reader *r)
{
    if (r->armed && r->sh)
        atomic_fetch_sub(&r->sh->pollers, 1);
    r->armed = false;
}

static void
detach(struct sc_ipc_reader *r)
{
    disarm(r);
    unwatch(r);
    if (r->slot)
        atomic_store(&r->slot->pid, 0);
    r->slot = NULL;
    if (r->sh)
        munmap(r->sh, r->smap_len);
    r->sh = NULL;
    if (r->map && !r->mem)
        munmap((void *)(uintptr_t)r->map, r->map_len);
    if (r->fd >= 0)
        close(r->fd);
    if (r->sfd >= 0)
        close(r->sfd);
    r->map = NULL;
    r->h = NULL;
    r->fd = r->sfd = -1;
    r->state = R_NONE;
}

/* The log can no longer be read: said once, then a new one is looked for. */
static void
bad_log(struct sc_ipc_reader *r, const char *what)
{
    snprintf(r->error, sizeof(r->error), "%.300s: %.400s", r->mem ? "log" : r->path, what);
    r->st->ipc_bad_logs++;
    if (r->up_said && r->state != R_OVER)
        source_down(r, SC_DOWN_BAD_LOG);
    r->state = R_OVER;
}

/* tail and the next sequence as one pair (the writer's gen word): @return
 * true if they were read between two equal even gens. */
static bool
snapshot(const struct sc_ipc_reader *r, uint64_t *tail, uint64_t *seq)
{
    for (int i = 0; i < 1000; i++) {
        uint64_t g1 = atomic_load_explicit(&r->h->gen, memory_order_acquire), g2;
        if (g1 & 1)
            continue;
        *tail = atomic_load_explicit(&r->h->tail, memory_order_acquire);
        *seq = atomic_load_explicit(&r->h->next_seq, memory_order_acquire);
        atomic_thread_fence(memory_order_acquire);
        g2 = atomic_load_explicit(&r->h->gen, memory_order_relaxed);
        if (g1 == g2 && (g1 == 0 || g1 == *tail * 2))
            return true;
    }
    return false;
}

/* Move to the oldest record retained: pos and the sequence there. Bounded
 * tries (a writer lapping faster than this: the next do_work tries again).
 * @return 1 found, 0 not now, -1 the log is bad (said). */
static int
seek_head(struct sc_ipc_reader *r, uint64_t *seq)
{
    char why[160];

    for (int i = 0; i < 16; i++) {
        uint64_t g = atomic_load_explicit(&r->h->gen, memory_order_acquire), t, n;
        uint64_t hd = atomic_load_explicit(&r->h->head, memory_order_acquire);
        uint64_t off = hd & r->mask;
        uint8_t hdr[SC_IPC_REC_HDR];
        struct sc_ipc_rec rec;
        long rc;

        if (!snapshot(r, &t, &n))
            return 0;
        if (hd % SC_IPC_ALIGN || t < hd || t - hd > r->info.log_size) {
            if (atomic_load_explicit(&r->h->gen, memory_order_acquire) != g)
                continue; /* read while the writer moved: again */
            bad_log(r, "head and tail out of order");
            return -1;
        }
        if (hd == t) { /* nothing retained: the next one written */
            r->pos = t;
            *seq = n;
            return 1;
        }
        memcpy(hdr, r->ring + off, sizeof(hdr));
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&r->h->head, memory_order_relaxed) != hd)
            continue; /* moved while read */
        rc = sc_ipc_parse_record(hdr, sizeof(hdr), r->info.log_size - off, r->info.max_msg,
                                 &rec, why, sizeof(why));
        if (rc < 0) {
            bad_log(r, why);
            return -1;
        }
        if (rec.kind == SC_IPC_PAD) {
            if (hd + (r->info.log_size - off) == t) {
                r->pos = t;
                *seq = n;
                return 1;
            }
            /* the record after the padding is the oldest: its header */
            off = 0;
            memcpy(hdr, r->ring, sizeof(hdr));
            atomic_thread_fence(memory_order_acquire);
            if (atomic_load_explicit(&r->h->head, memory_order_relaxed) != hd)
                continue;
            rc = sc_ipc_parse_record(hdr, sizeof(hdr), r->info.log_size, r->info.max_msg, &rec,
                                     why, sizeof(why));
            if (rc < 0 || rec.kind == SC_IPC_PAD) {
                bad_log(r, rc < 0 ? why : "two padding records in a row");
                return -1;
            }
            hd += r->info.log_size - (hd & r->mask);
        }
        r->pos = hd;
        *seq = rec.seq;
        return 1;
    }
    return 0;
}

/* The writer overwrote what this reader had yet to read: go on from the
 * oldest record retained, the rest a loss (not_in_window). */
static int
lapped(struct sc_ipc_reader *r)
{
    uint64_t seq;
    int rc;

    r->st->ipc_lapped++;
    if ((rc = seek_head(r, &seq)) <= 0)
        return rc;
    if (r->expect && seq > r->expect) {
        struct sc_sub_event ev = { .type = SC_EV_LOSS };
        ev.loss.reason = SC_LOSS_NOT_IN_WINDOW;
        ev.loss.first = r->expect;
        ev.loss.last = seq - 1;
        ev.loss.packets = seq - r->expect;
        r->st->lost_packets += ev.loss.packets;
        r->st->loss_events++;
        r->st->gaps++;
        emit(r, &ev);
    }
    r->expect = seq;
    return 1;
}

static void
publish_pos(struct sc_ipc_reader *r)
{
    if (!r->slot || atomic_load_explicit(&r->slot->pos, memory_order_relaxed) == r->pos)
        return;
    atomic_store(&r->slot->pos, r->pos);
    if (atomic_load(&r->sh->writer_waits)) { /* a blocked writer sleeps: wake it */
        atomic_fetch_add(&r->sh->moved, 1);
        futex(&r->sh->moved, FUTEX_WAKE, 1, NULL);
    }
}

/* A loss the writer's own source could not recover (a bridge's): this
 * reader's SC_EV_LOSS, with the upstream reason and range. It is numbered as
 * the message after it. @return 0, -1 if it fails its checks (said). */
static int
upstream_loss(struct sc_ipc_reader *r, const struct sc_ipc_rec *rec)
{
    struct sc_sub_event ev = { .type = SC_EV_LOSS };
    struct sc_ipc_loss l;

    memcpy(&l, rec->payload, sizeof(l));
    if ((r->expect && rec->seq != r->expect) || l.reason < SC_LOSS_RETRIES ||
        l.reason > SC_LOSS_NOT_IN_ARCHIVE || l.first > l.last) {
        char why[160];
        snprintf(why, sizeof(why), "a loss record (reason %u, %llu..%llu) numbered %llu where "
                                   "%llu was next",
                 l.reason, (unsigned long long)l.first, (unsigned long long)l.last,
                 (unsigned long long)rec->seq, (unsigned long long)r->expect);
        bad_log(r, why);
        return -1;
    }
    ev.loss.reason = (enum sc_loss_reason)l.reason;
    ev.loss.first = l.first;
    ev.loss.last = l.last;
    ev.loss.packets = l.packets;
    /* the upstream source's name, as printable text without quotes or
     * backslashes (JSON as it is) whatever the file holds */
    for (size_t i = 0; i < sizeof(l.source) - 1; i++) {
        char c = l.source[i];
        r->upstream[i] = !c ? '\0' : c > ' ' && c < 0x7f && c != '"' && c != '\\' ? c : '?';
    }
    r->upstream[sizeof(r->upstream) - 1] = '\0';
    if (r->upstream[0])
        ev.loss.upstream = r->upstream;
    r->st->lost_packets += l.packets;
    r->st->loss_events++;
    r->st->ipc_upstream_losses++;
    emit(r, &ev);
    return 0;
}

/* One look: copy, check, deliver. @return messages delivered (1 for a lap
 * caught), -1 when the log can no longer be read; *more: tail, as read for
 * this look (once: the line the writer stores it into per record), is
 * further still. */
static int
read_batch(struct sc_ipc_reader *r, bool *more)
{
    uint64_t t = atomic_load_explicit(&r->h->tail, memory_order_acquire), off, n, hd, done = 0;
    char why[160];
    int msgs = 0;

    *more = false;
    if (t == r->pos)
        return 0;
    off = r->pos & r->mask;
    if (t < r->pos || t % SC_IPC_ALIGN) {
        bad_log(r, "tail out of order");
        return -1;
    }
    if (t - r->pos > r->info.log_size)
        return lapped(r) < 0 ? -1 : (*more = true);
    n = t - r->pos;
    if (n > r->info.log_size - off)
        n = r->info.log_size - off;
    if (n > READ_BATCH)
        n = READ_BATCH;
    memcpy(r->buf, r->ring + off, n);
    atomic_thread_fence(memory_order_acquire);
    hd = atomic_load_explicit(&r->h->head, memory_order_relaxed);
    if (hd > r->pos)
        return lapped(r) < 0 ? -1 : (*more = true);
    while (done < n) {
        struct sc_ipc_rec rec;
        const uint8_t *p = r->buf + done;
        uint32_t len, kind;
        uint64_t seq, size;

        if (likely(n - done >= SC_IPC_REC_HDR)) { /* the common case, checked inline: the
                                                     next message, whole in the copy */
            memcpy(&len, p, 4);
            memcpy(&kind, p + 4, 4);
            memcpy(&seq, p + 8, 8);
            if (likely(kind == SC_IPC_DATA && len <= r->info.max_msg && seq == r->expect &&
                       (size = rec_size(len)) <= n - done)) {
                r->expect = seq + 1;
                r->st->msgs_delivered++;
                r->st->bytes_delivered += len;
                r->cb.on_msg(r->cb.ctx, &r->src, seq, p + SC_IPC_REC_HDR, len);
                msgs++;
                done += size;
                continue;
            }
        }
        long rc = sc_ipc_parse_record(r->buf + done, n - done, r->info.log_size - off - done,
                                      r->info.max_msg, &rec, why, sizeof(why));
        if (rc < 0) {
            bad_log(r, why);
            return -1;
        }
        if (rc > 0 && rec.kind == SC_IPC_PAD) {
            done = r->info.log_size - off; /* the rest of the ring */
            break;
        }
        if (rc == 0) {
            if (n == READ_BATCH)
                break; /* the rest of the batch: the next look */
            bad_log(r, "a record runs past tail");
            return -1;
        }
        if (rec.kind == SC_IPC_DATA) {
            if (r->expect && rec.seq != r->expect) {
                snprintf(why, sizeof(why), "message %llu where %llu was next",
                         (unsigned long long)rec.seq, (unsigned long long)r->expect);
                bad_log(r, why);
                return -1;
            }
            r->expect = rec.seq + 1;
            r->st->msgs_delivered++;
            r->st->bytes_delivered += rec.len;
            r->cb.on_msg(r->cb.ctx, &r->src, rec.seq, rec.payload, rec.len);
            msgs++;
        } else if (rec.kind == SC_IPC_LOSS) {
            if (upstream_loss(r, &rec) < 0)
                return -1;
            msgs++;
        }
        done += (uint64_t)rc;
    }
    r->pos += done;
    *more = r->pos != t;
    return msgs;
}

/* A polled reader watches the log it maps: the inode, not whatever the name
 * holds by now. */
static void
watch(struct sc_ipc_reader *r)
{
    struct inotify_inst *in = r->in;
    char fdp[40];
    unsigned i;

    if (!in || !in->inotify || r->fd < 0 || !r->h || r->wd >= 0)
        return;
    snprintf(fdp, sizeof(fdp), "/proc/self/fd/%d", r->fd);
    pthread_mutex_lock(&inst_mu);
    if ((r->wd = inotify_add_watch(in->fd, fdp, IN_MODIFY)) >= 0) {
        for (i = 0; i < in->nw && in->w[i].wd != r->wd; i++)
            ;
        if (i == in->nw) {
            void *w = in->nw == in->cap ? realloc(in->w, (in->cap * 2 + 8) * sizeof(*in->w)) : in->w;
            if (!w) { /* cannot count it: not kept */
                inotify_rm_watch(in->fd, r->wd);
                r->wd = -1;
                goto out;
            }
            if (in->nw == in->cap)
                in->cap = in->cap * 2 + 8;
            in->w = w;
            in->w[in->nw++].refs = 0;
            in->w[i].wd = r->wd;
        }
        in->w[i].refs++;
    }
out:
    pthread_mutex_unlock(&inst_mu);
    r->drained_wake = atomic_load(&r->h->wake);
}

/* The reader's watch given back: removed once no reader of the log needs it. */
static void
unwatch(struct sc_ipc_reader *r)
{
    struct inotify_inst *in = r->in;

    if (r->wd < 0 || !in)
        return;
    pthread_mutex_lock(&inst_mu);
    for (unsigned i = 0; i < in->nw; i++)
        if (in->w[i].wd == r->wd) {
            if (--in->w[i].refs == 0) {
                inotify_rm_watch(in->fd, r->wd);
                in->w[i] = in->w[--in->nw];
            }
            break;
        }
    pthread_mutex_unlock(&inst_mu);
    r->wd = -1;
}

/* Map the log at r->path. @return 1 attached, 0 absent (or the same log as
 * before), negative: refused (r->error says why). */
static int
attach(struct sc_ipc_reader *r, uint64_t now_ns)
{
    struct stat sb;
    char why[400];
    bool stale = false;
    int fd, rc;

    r->st->ipc_polls++;
    if ((fd = open(r->path, O_RDONLY | O_CLOEXEC)) < 0) {
        if (errno == ENOENT)
            return 0;
        rc = -errno;
        snprintf(r->error, sizeof(r->error), "cannot open %.300s: %s%s", r->path, strerror(errno),
                 errno == EACCES ? " (ipc.mode and ipc.group say who may read it)" : "");
        return rc;
    }
    if (fstat(fd, &sb) < 0 || (r->map && sb.st_ino == r->ino && sb.st_dev == r->dev)) {
        close(fd);
        return 0; /* the one followed */
    }
    detach(r);
    r->fd = fd;
    r->dev = sb.st_dev;
    r->ino = sb.st_ino;
    if ((uint64_t)sb.st_size < SC_IPC_HDR_SIZE) {
        snprintf(why, sizeof(why), "truncated: %lld bytes, shorter than the %u-byte header",
                 (long long)sb.st_size, SC_IPC_HDR_SIZE);
        goto refuse;
    }
    r->map_len = (size_t)sb.st_size;
    r->map = mmap(NULL, r->map_len, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
    if (r->map == MAP_FAILED) {
        r->map = NULL;
        snprintf(why, sizeof(why), "mmap: %s", strerror(errno));
        goto refuse;
    }
    if ((rc = sc_ipc_check_header(r->map, (uint64_t)sb.st_size, &r->info, why, sizeof(why))) < 0)
        goto refuse;
    r->h = (const struct sc_ipc_hdr *)r->map;
    r->ring = r->map + SC_IPC_HDR_SIZE;
    r->mask = r->info.log_size - 1;
    /* the slots: a reader registers under block, and counts itself asleep */
    if ((r->sfd = open(r->spath, O_RDWR | O_CLOEXEC)) >= 0) {
        struct stat ss;
        if (fstat(r->sfd, &ss) == 0 &&
            (uint64_t)ss.st_size >= sizeof(struct sc_ipc_slots_hdr) +
                                        SC_IPC_NSLOTS * sizeof(struct sc_ipc_slot)) {
            r->smap_len = sizeof(struct sc_ipc_slots_hdr) +
                          SC_IPC_NSLOTS * sizeof(struct sc_ipc_slot);
            r->sh = mmap(NULL, r->smap_len, PROT_READ | PROT_WRITE, MAP_SHARED, r->sfd, 0);
            if (r->sh == MAP_FAILED)
                r->sh = NULL;
        }
        if (r->sh && (memcmp(r->sh->magic, SC_IPC_SLOTS_MAGIC, 8) ||
                      r->sh->epoch != r->info.epoch)) {
            /* another session's (a writer replacing both files between our
             * two opens, or a stale log under a new writer's), or damaged */
            stale = !memcmp(r->sh->magic, SC_IPC_SLOTS_MAGIC, 8);
            munmap(r->sh, r->smap_len);
            r->sh = NULL;
        }
    }
    if (r->info.flags & SC_IPC_F_BLOCK) {
        if (!r->sh && stale) { /* the files are being replaced: look again soon */
            detach(r);
            r->dev = 0;
            r->ino = 0;
            return 0;
        }
        if (!r->sh) {
            snprintf(why, sizeof(why), "ipc.backpressure is block: a reader registers in %.200s, "
                                       "which it cannot open for writing",
                     r->spath);
            goto refuse;
        }
        /* a slot is this reader's once it holds the slot's lock (slot_range:
         * the writer reaps a slot whose lock no one holds; a pid left there
         * is a dead reader's), or, on a file system without such locks, once
         * it put its pid in a free one */
        for (unsigned i = 0; i < SC_IPC_NSLOTS && !r->slot; i++) {
            struct sc_ipc_slot *sl = (struct sc_ipc_slot *)(r->sh + 1) + i;
            struct flock fl = slot_range(i, F_WRLCK);
            uint32_t free_ = 0;
            if (fcntl(r->sfd, F_OFD_SETLK, &fl) == 0) {
                atomic_store(&sl->pid, (uint32_t)getpid());
                r->slot = sl;
            } else if (errno != EAGAIN && errno != EACCES &&
                       atomic_compare_exchange_strong(&sl->pid, &free_, (uint32_t)getpid())) {
                r->slot = sl;
            }
        }
        if (!r->slot) {
            snprintf(why, sizeof(why), "all %u reader slots are taken", SC_IPC_NSLOTS);
            goto refuse;
        }
        /* registered before it looks where to start: the writer cannot pass
         * the oldest record from here on */
        atomic_store(&r->slot->epoch, r->info.epoch);
        atomic_store(&r->slot->pos, atomic_load(&r->h->head));
        atomic_fetch_add(&r->sh->registrations, 1);
    }
    watch(r);
    r->up_said = false;
    goto join;
refuse:
    snprintf(r->error, sizeof(r->error), "%.300s: %.400s", r->path, why);
    r->st->ipc_bad_logs++;
    r->state = R_OVER; /* keep dev/ino: the same file is not tried again */
    return -EPROTO;
join:
    (void)now_ns;
    return 1;
}

/* Where a reader of an attached log starts (late_join), and SOURCE_UP. */
static int
join(struct sc_ipc_reader *r)
{
    uint64_t seq, t;
    int rc;

    for (int i = 0; i < 6; i++)
        r->src.gsi[i] = (uint8_t)(r->info.epoch >> (8 * i));
    r->src.sport = (uint16_t)(r->info.epoch >> 48);
    snprintf(r->src.name, sizeof(r->src.name), "%02x%02x%02x%02x%02x%02x.%u", r->src.gsi[0],
             r->src.gsi[1], r->src.gsi[2], r->src.gsi[3], r->src.gsi[4], r->src.gsi[5],
             r->src.sport);
    if (r->ch.late_join == SC_LATE_JOIN_LIVE) {
        if (!snapshot(r, &t, &seq))
            return 0;
        if (t % SC_IPC_ALIGN || seq == 0) {
            bad_log(r, "tail out of order");
            return -1;
        }
        r->pos = t;
        r->join = seq == 1 ? SC_JOIN_FROM_START : SC_JOIN_LIVE;
    } else {
        if ((rc = seek_head(r, &seq)) <= 0)
            return rc;
        r->join = seq == 1 ? SC_JOIN_FROM_START : SC_JOIN_WINDOW;
    }
    r->expect = seq;
    publish_pos(r);
    source_up(r, r->join, seq);
    return 1;
}

/* A polled reader woken (or merely called again): no longer among the
 * pollers; the watch's events drained if the writer woke readers since the
 * last drain (else there is nothing to read: no system call). */
static void
wake_up(struct sc_ipc_reader *r)
{
    uint64_t wk;

    disarm(r);
    if (!r->h || r->wd < 0 ||
        (wk = atomic_load_explicit(&r->h->wake, memory_order_acquire)) == r->drained_wake)
        return;
    r->drained_wake = wk;
    for (int i = 0; i < 4; i++) {
        char ev[1024];
        if (read(r->in->fd, ev, sizeof(ev)) < (ssize_t)sizeof(ev))
            break;
    }
}

/* An idle polled reader: counted among the pollers before the runner looks
 * at tail again (sc_ipcr_deadline) and sleeps; the writer, having published
 * tail, reads pollers: one of us sees the other. */
static void
arm(struct sc_ipc_reader *r)
{
    if (r->armed || !r->polled || r->wd < 0 || !r->sh || !r->h ||
        r->state == R_OVER)
        return;
    atomic_fetch_add(&r->sh->pollers, 1);
    r->armed = true;
}

int
sc_ipcr_fd(struct sc_ipc_reader *r)
{
    if (!r->polled && !r->mem) {
        int e;
        r->polled = true;
        r->in = inst_get(&e);
        if (!r->in || !r->in->inotify) {
            r->st->ipc_no_inotify++;
            snprintf(r->error, sizeof(r->error),
                     "%.300s: no inotify instance for this process (%s: "
                     "fs.inotify.max_user_instances): its readers look at the log every %u us",
                     r->path, strerror(e ? e : ENOMEM), NO_POKE_POLL_NS / 1000);
        }
        watch(r);
    }
    if (r->h && atomic_load(&r->h->tail) == r->pos)
        arm(r);
    return r->in ? r->in->fd : -1;
}

int
sc_ipcr_do_work(struct sc_ipc_reader *r, uint64_t now_ns)
{
    int work = 0, n;

    if (r->armed)
        wake_up(r);

    if (!r->mem && r->state != R_UP && now_ns >= r->next_look_ns) {
        /* absent, ended, silent or bad: a (new) log under the name? */
        r->next_look_ns = now_ns + (r->map ? LOOK_EVERY_NS : LOOK_ABSENT_NS);
        attach(r, now_ns);
    }
    if (r->h && r->state == R_NONE) {
        if ((n = join(r)) <= 0)
            return work;
        work++;
    }
    if (r->state == R_OVER || !r->h)
        return work;
    for (int b = 0; b < READ_BATCHES; b++) {
        bool more;
        if ((n = read_batch(r, &more)) < 0)
            return work;
        work += n;
        if (!more)
            break; /* caught up with the tail it read: the next do_work reads it again */
        if (r->slot)
            publish_pos(r); /* each batch: a writer held by this reader goes on sooner */
    }
    publish_pos(r);
    {
        uint64_t hb = atomic_load_explicit(&r->h->heartbeat_ns, memory_order_acquire);
        bool closed = atomic_load_explicit(&r->h->closed, memory_order_acquire);
        bool silent = hb && (int64_t)(now_ns - hb) > (int64_t)r->ch.source_timeout_ns;

        if (closed && r->pos == atomic_load_explicit(&r->h->tail, memory_order_acquire)) {
            if (r->state != R_OVER) {
                source_down(r, SC_DOWN_FIN);
                r->state = R_OVER;
                r->next_look_ns = now_ns + LOOK_EVERY_NS;
                work++;
            }
        } else if (r->state == R_UP && silent) {
            source_down(r, SC_DOWN_TIMEOUT);
            r->state = R_DOWN;
            r->next_look_ns = now_ns;
            work++;
        } else if (r->state == R_DOWN && hb && !silent) {
            source_up(r, SC_JOIN_RESUMED, r->expect);
            work++;
        }
    }
    if (r->polled && r->state != R_OVER &&
        atomic_load_explicit(&r->h->tail, memory_order_relaxed) == r->pos)
        arm(r);
    return work;
}

uint64_t
sc_ipcr_deadline(const struct sc_ipc_reader *r, uint64_t now_ns)
{
    uint64_t hb, d;

    if (!r->h || r->state == R_OVER || r->state == R_DOWN)
        return r->mem ? UINT64_MAX : r->next_look_ns;
    if (atomic_load_explicit(&r->h->tail, memory_order_acquire) != r->pos)
        return 0;
    hb = atomic_load_explicit(&r->h->heartbeat_ns, memory_order_relaxed);
    d = hb ? hb + r->ch.source_timeout_ns + 1 : now_ns + LOOK_EVERY_NS;
    d = d > now_ns ? d : now_ns + LOOK_EVERY_NS;
    if (r->polled && !r->armed && d > now_ns + NO_POKE_POLL_NS)
        d = now_ns + NO_POKE_POLL_NS; /* nothing will poke its fd: look at tail anyway */
    return d;
}

int
sc_ipcr_wait(struct sc_ipc_reader *r, uint64_t timeout_ns)
{
    struct timespec ts = { (time_t)(timeout_ns / 1000000000u), (long)(timeout_ns % 1000000000u) };
    uint32_t w;
    int got;

    if (!r->h || r->state == R_OVER || !r->sh) { /* nothing to sleep on: only time */
        if (r->h && r->state != R_OVER &&
            atomic_load_explicit(&r->h->tail, memory_order_acquire) != r->pos)
            return 1;
        if (ts.tv_sec == 0 && ts.tv_nsec > 200000)
            ts.tv_nsec = 200000; /* a writer with no slot file: poll at 200 us */
        else if (ts.tv_sec)
            ts = (struct timespec){ 0, 200000 };
        nanosleep(&ts, NULL);
        return r->h && r->state != R_OVER &&
               atomic_load_explicit(&r->h->tail, memory_order_acquire) != r->pos;
    }
    atomic_fetch_add(&r->sh->waiters, 1);
    w = atomic_load_explicit(&r->h->wake, memory_order_acquire);
    if (atomic_load(&r->h->tail) == r->pos && !atomic_load(&r->h->closed))
        futex((_Atomic uint32_t *)(uintptr_t)&r->h->wake, FUTEX_WAIT, w, &ts);
    atomic_fetch_sub(&r->sh->waiters, 1);
    got = atomic_load_explicit(&r->h->tail, memory_order_acquire) != r->pos;
    return got;
}

const char *
sc_ipcr_error(const struct sc_ipc_reader *r)
{
    return r->error;
}

static int
reader_new(struct sc_ipc_reader **out, const struct sc_channel_cfg *ch,
           const struct sc_sub_callbacks *cb, struct sc_sub_stats *st)
{
    struct sc_ipc_reader *r = calloc(1, sizeof(*r));

    if (!r || !(r->buf = malloc(READ_BATCH))) {
        free(r);
        return -ENOMEM;
    }
    r->ch = *ch;
    r->cb = *cb;
    r->st = st;
    r->fd = r->sfd = -1;
    r->wd = -1;
    *out = r;
    return 0;
}

int
sc_ipcr_create(struct sc_ipc_reader **out, const struct sc_channel_cfg *ch,
               const struct sc_sub_callbacks *cb, struct sc_sub_stats *st, struct sc_err *err)
{
    struct sc_ipc_reader *r;
    int rc;

    if ((rc = reader_new(&r, ch, cb, st)) < 0) {
        set_err(err, rc, "ipc reader %s: out of memory%s", ch->name, "");
        return rc;
    }
    if (sc_ipc_path(r->path, sizeof(r->path), ch, "") < 0 ||
        sc_ipc_path(r->spath, sizeof(r->spath), ch, ".readers") < 0) {
        set_err(err, -ENAMETOOLONG, "ipc reader %s: ipc.dir too long%s", ch->name, "");
        sc_ipcr_destroy(r);
        return -ENAMETOOLONG;
    }
    if ((rc = attach(r, 0)) < 0) { /* a log there now must be one it can read */
        set_err(err, rc, "ipc reader %s: %.200s", ch->name, r->error);
        sc_ipcr_destroy(r);
        return rc;
    }
    if (rc == 0)
        r->state = R_NONE; /* not there yet: looked for in do_work */
    *out = r;
    return 0;
}

int
sc_ipcr_create_mem(struct sc_ipc_reader **out, const struct sc_channel_cfg *ch, const void *map,
                   uint64_t file_size, const struct sc_sub_callbacks *cb,
                   struct sc_sub_stats *st, struct sc_err *err)
{
    struct sc_ipc_reader *r;
    char why[160];
    int rc;

    if ((rc = sc_ipc_check_header(map, file_size, NULL, why, sizeof(why))) < 0) {
        set_err(err, rc, "ipc reader: %s", why);
        return rc;
    }
    if ((rc = reader_new(&r, ch, cb, st)) < 0)
        return rc;
    r->mem = true;
    sc_ipc_check_header(map, file_size, &r->info, why, sizeof(why));
    r->map = map;
    r->map_len = (size_t)file_size;
    r->h = map;
    r->ring = r->map + SC_IPC_HDR_SIZE;
    r->mask = r->info.log_size - 1;
    *out = r;
    return 0;
}

void
sc_ipcr_destroy(struct sc_ipc_reader *r)
{
    if (!r)
        return;
    detach(r);
    inst_put(r->in);
    free(r->buf);
    free(r);
}
