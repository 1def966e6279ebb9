/* Live counters in a shared-memory file (<seqcast/shmstat.h>): the writer
 * agent, the loss log, and the checking reader.
 *
 * On-file structs are fixed-size, native-endian (a reader runs on the
 * writer's host), and every offset is checked by the reader against the file
 * size before use. The writer maps the file; the reader only preads it, so a
 * file truncated under it gives a short read, never SIGBUS.
 *
 * Sequence lock of a block (one writer):
 *   writer: seq = odd (relaxed); release fence; values (relaxed); seq = even (release)
 *   reader: pread seq -> odd: retry; pread values; pread seq again -> changed: retry
 * A loss-log entry carries its ordinal at both ends (begin written first, end
 * last); an entry whose two ends differ, or do not say the ordinal the ring
 * position expects, is being written and is skipped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <seqcast/archive.h>
#include <seqcast/config.h>
#include <seqcast/order.h>
#include <seqcast/pub.h>
#include <seqcast/shmstat.h>
#include <seqcast/sub.h>

#include "engine/clock.h"
#include "engine/seterr.h"

#define HDR_SIZE 512u
#define META_SIZE 256u
#define LOSS_SIZE 256u
#define DEFAULT_INTERVAL_NS 100000000ull
#define DEFAULT_LOSS 256u
#define MAX_LOSS 65536u
#define READ_TRIES 1000

/* ------------------------------------------------------------ file layout */

struct file_hdr {
    uint32_t magic; /* SC_SHMSTAT_MAGIC, written last of all */
    uint32_t version;
    uint32_t hdr_size;
    uint32_t nblocks;
    uint64_t file_size;
    int32_t pid;
    uint32_t loss_cap;
    uint64_t start_ticks;
    uint64_t created_ns;
    uint64_t interval_ns;
    uint64_t table_off;  /* nblocks x struct file_block */
    uint64_t loss_off;   /* loss_cap x struct file_loss */
    uint64_t updated_ns; /* atomic: the last publication */
    uint64_t loss_head;  /* atomic: events ever logged */
    char program[SC_SHMSTAT_PROGRAM];
    char name[SC_SHMSTAT_NAME];
    uint64_t repairs_unlogged; /* atomic: repair events over the per-second budget */
};

struct file_block {
    uint32_t set;
    uint32_t n;
    uint64_t meta_off;   /* n x struct file_meta */
    uint64_t values_off; /* u64 seq, then n x u64 */
    char labels[SC_SHMSTAT_LABELS];
};

struct file_meta {
    char name[48];
    char unit[16];
    char kind, show;
    char pad[6];
    char help[184];
};

struct file_loss {
    uint64_t begin; /* ordinal + 1 */
    uint64_t time_ns, first, last, count, repair_ns;
    uint32_t type, reason, block, pad;
    char source[48];
    char peer[32];
    char spare[LOSS_SIZE - 8 * 6 - 16 - 48 - 32 - 8];
    uint64_t end;   /* ordinal + 1, written last */
};

_Static_assert(sizeof(struct file_hdr) <= HDR_SIZE, "header");
_Static_assert(sizeof(struct file_meta) == META_SIZE, "meta");
_Static_assert(sizeof(struct file_loss) == LOSS_SIZE, "loss entry");
_Static_assert(sizeof(struct file_block) % 8 == 0, "block");

/* ------------------------------------------------------------ small parts */

static const char *const set_names[SC_COUNTERS_SETS] = {
    [SC_COUNTERS_PUB] = "pub",         [SC_COUNTERS_SUB] = "sub",
    [SC_COUNTERS_LINK] = "link",       [SC_COUNTERS_OSRV] = "osrv",
    [SC_COUNTERS_OCLI] = "ocli",       [SC_COUNTERS_BOOK] = "book",
    [SC_COUNTERS_BOOK_INSTR] = "book_instr", [SC_COUNTERS_ITCH_FEED] = "itch_feed",
    [SC_COUNTERS_ITCHGEN] = "itchgen", [SC_COUNTERS_ARCHIVE] = "archive",
    [SC_COUNTERS_REWIND] = "rewind",   [SC_COUNTERS_SUB_SOURCE] = "source",
};

const char *
sc_shmstat_set_name(uint32_t set)
{
    return set < SC_COUNTERS_SETS ? set_names[set] : NULL;
}

const char *
sc_shmstat_ev_name(uint32_t type)
{
    switch (type) {
    case SC_SHMSTAT_EV_LOSS: return "loss";
    case SC_SHMSTAT_EV_NAK_UNANSWERED: return "nak_unanswered";
    case SC_SHMSTAT_EV_SOURCE_UP: return "source_up";
    case SC_SHMSTAT_EV_SOURCE_DOWN: return "source_down";
    case SC_SHMSTAT_EV_REPAIR: return "repair";
    }
    return "unknown";
}

const char *
sc_shmstat_reason_name(uint32_t type, uint32_t r)
{
    switch (type) {
    case SC_SHMSTAT_EV_LOSS:
        return r == SC_LOSS_RETRIES         ? "retries"
               : r == SC_LOSS_NOT_IN_WINDOW ? "not_in_window"
               : r == SC_LOSS_RX_WINDOW     ? "rx_window"
               : r == SC_LOSS_SOURCE_GONE   ? "source_gone"
               : r == SC_LOSS_NOT_IN_ARCHIVE ? "not_in_archive"
                                            : "unknown";
    case SC_SHMSTAT_EV_NAK_UNANSWERED:
        return r == SC_NAK_UNREACHABLE ? "unreachable" : r == SC_NAK_NO_NCF ? "no_ncf" : "unknown";
    case SC_SHMSTAT_EV_SOURCE_UP:
        return r == SC_JOIN_FROM_START ? "from_start"
               : r == SC_JOIN_LIVE     ? "live"
               : r == SC_JOIN_WINDOW   ? "window"
               : r == SC_JOIN_RESUMED  ? "resumed"
               : r == SC_JOIN_FIRST    ? "first"
                                       : "unknown";
    case SC_SHMSTAT_EV_SOURCE_DOWN:
        return r == SC_DOWN_TIMEOUT ? "timeout"
               : r == SC_DOWN_FIN   ? "fin"
               : r == SC_DOWN_EVICTED ? "evicted"
                                      : "unknown";
    case SC_SHMSTAT_EV_REPAIR:
        return r == SC_REPAIR_NAK         ? "nak"
               : r == SC_REPAIR_LATE      ? "late"
               : r == SC_REPAIR_REREQUEST ? "rerequest"
               : r == SC_REPAIR_REWIND    ? "rewind"
                                          : "unknown";
    }
    return "unknown";
}

const char *
sc_shmstat_dir(const char *dir)
{
    const char *e;

    if (dir && *dir)
        return dir;
    e = getenv(SC_SHMSTAT_ENV);
    return e && *e ? e : SC_SHMSTAT_DIR;
}

/* Field 22 of /proc/PID/stat, the start time in clock ticks since boot; 0
 * when it cannot be read. The command (field 2) may hold spaces and ')':
 * fields are counted after its last ')'. */
static uint64_t
start_ticks(int pid)
{
    char path[64], buf[1024], *p;
    unsigned long long v = 0;
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return 0;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    if (!(p = strrchr(buf, ')')))
        return 0;
    p++;
    for (int field = 3; field < 22 && p; field++) /* p at the space before field 3 */
        p = strchr(p + 1, ' ');
    if (!p || sscanf(p, " %llu", &v) != 1)
        return 0;
    return v;
}

bool
sc_shmstat_alive(int pid, uint64_t ticks)
{
    uint64_t now;

    if (pid <= 0)
        return false;
    if (kill(pid, 0) < 0 && errno == ESRCH)
        return false;
    now = start_ticks(pid);
    return !now || !ticks || now == ticks; /* unreadable: assume it is the one */
}

/* Copy a C string into a fixed field, NUL-terminated, truncated to fit. */
static void
put_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* A peer as "ADDR:PORT", or "ADDR" with port 0 (addr in network order) */
static void
put_peer(char *dst, size_t cap, uint32_t addr, uint16_t port)
{
    struct in_addr a = { addr };
    char ip[INET_ADDRSTRLEN];

    inet_ntop(AF_INET, &a, ip, sizeof(ip));
    if (port)
        snprintf(dst, cap, "%s:%u", ip, port);
    else
        snprintf(dst, cap, "%s", ip);
}

/* A file-name part: [A-Za-z0-9_.:-] kept, anything else '_'. */
static void
name_part(char *dst, size_t cap, const char *src)
{
    size_t i = 0;

    for (; src && *src && i + 1 < cap; src++, i++) {
        char c = *src;
        dst[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                         c == '_' || c == '-' || c == ':'
                     ? c
                     : '_';
    }
    dst[i] = '\0';
}


/* --------------------------------------------------------------- writer */

struct wblock {
    struct sc_shmstat_block b;
    char labels[SC_SHMSTAT_LABELS];
    /* a place of a subscriber's source table (set SC_COUNTERS_SUB_SOURCE):
     * labels are base + the source's, written with the values ("": vacant) */
    bool source;
    unsigned place;
    char base[SC_SHMSTAT_LABELS];
    char *flabels;   /* the labels in the mapping */
    const struct sc_counter_desc *d;
    size_t nd;       /* counters from the list */
    uint32_t n;      /* nd, + SC_PERR_COUNT with rx_bad */
    void *scratch;   /* the struct get fills */
    uint64_t *seq;   /* in the mapping */
    uint64_t *values;
};

struct sc_shmstat {
    char dir[256];
    char program[SC_SHMSTAT_PROGRAM];
    char name[SC_SHMSTAT_NAME];
    char path[512];
    uint64_t interval_ns, next;
    uint32_t loss_cap;
    uint32_t nblocks;
    struct wblock blocks[SC_SHMSTAT_MAX_BLOCKS];
    uint8_t *map;
    size_t size;
    struct file_hdr *hdr;
    struct file_loss *loss;
    uint64_t rep_second;   /* the second (monotonic) repair entries are counted in */
    uint32_t rep_in_second;
};

int
sc_shmstat_create(struct sc_shmstat **out, const struct sc_shmstat_params *p, struct sc_err *err)
{
    struct sc_shmstat *s;

    *out = NULL;
    if (!p || !p->program || !*p->program)
        return sc_err_set(err, -EINVAL, "shmstat: a program name is required");
    if (p->loss_log > MAX_LOSS)
        return sc_err_set(err, -EINVAL, "shmstat: loss log of %u entries: at most %u", p->loss_log,
                       MAX_LOSS);
    if (!(s = calloc(1, sizeof(*s))))
        return sc_err_set(err, -ENOMEM, "shmstat: out of memory");
    put_str(s->dir, sizeof(s->dir), sc_shmstat_dir(p->dir));
    name_part(s->program, sizeof(s->program), p->program);
    name_part(s->name, sizeof(s->name), p->name && *p->name ? p->name : "-");
    s->interval_ns = p->interval_ns ? p->interval_ns : DEFAULT_INTERVAL_NS;
    s->loss_cap = p->loss_log ? p->loss_log : DEFAULT_LOSS;
    sc_shmstat_clean(s->dir);
    *out = s;
    return 0;
}

int
sc_shmstat_create_cfg(struct sc_shmstat **out, const struct sc_stats_cfg *cfg,
                      const char *program, const char *name, struct sc_err *err)
{
    struct sc_shmstat_params p = { cfg->shm_dir, program, name, cfg->shm_interval_ns,
                                   cfg->loss_log };

    *out = NULL;
    return cfg->shm ? sc_shmstat_create(out, &p, err) : 0;
}

int
sc_shmstat_add(struct sc_shmstat *s, const struct sc_shmstat_block *b, struct sc_err *err)
{
    struct wblock *w;
    size_t nd, end = 0;
    const struct sc_counter_desc *d;

    if (!s)
        return 0;
    d = sc_counter_descs(b->set, &nd);
    if (s->map)
        return sc_err_set(err, -EINVAL, "shmstat: blocks are added before sc_shmstat_open");
    if (!d || !b->get || !b->size || b->off >= b->size)
        return sc_err_set(err, -EINVAL, "shmstat: block of set %u: bad set, getter or size",
                       (unsigned)b->set);
    for (size_t i = 0; i < nd; i++)
        if (d[i].off + sizeof(uint64_t) > end)
            end = d[i].off + sizeof(uint64_t);
    if (b->off + end > b->size ||
        (b->rx_bad && b->rx_bad_off + (SC_PERR_COUNT + 1) * sizeof(uint64_t) > b->size))
        return sc_err_set(err, -EINVAL, "shmstat: block of set %s: counters outside its struct",
                       set_names[b->set]);
    if (nd + SC_PERR_COUNT > SC_SHMSTAT_MAX_COUNTERS)
        return sc_err_set(err, -EINVAL, "shmstat: set %s: too many counters", set_names[b->set]);
    if (s->nblocks == SC_SHMSTAT_MAX_BLOCKS)
        return sc_err_set(err, -ENOSPC, "shmstat: more than %d blocks", SC_SHMSTAT_MAX_BLOCKS);
    w = &s->blocks[s->nblocks];
    memset(w, 0, sizeof(*w));
    if (!(w->scratch = calloc(1, b->size)))
        return sc_err_set(err, -ENOMEM, "shmstat: out of memory");
    w->b = *b;
    put_str(w->labels, sizeof(w->labels), b->labels);
    w->b.labels = w->labels;
    w->d = d;
    w->nd = nd;
    w->n = (uint32_t)(nd + (b->rx_bad ? SC_PERR_COUNT : 0));
    return (int)s->nblocks++;
}

static void
get_pub(const void *o, void *st)
{
    sc_pub_get_stats(o, st);
}
static void
get_sub(const void *o, void *st)
{
    sc_sub_get_stats(o, st);
}
static void
get_osrv(const void *o, void *st)
{
    sc_osrv_get_stats(o, st);
}
static void
get_ocli(const void *o, void *st)
{
    sc_ocli_get_stats(o, st);
}
static void
get_archive(const void *o, void *st)
{
    sc_archive_get_stats(o, st);
}

int
sc_shmstat_add_pub(struct sc_shmstat *s, const struct sc_pub *p, const char *labels,
                   struct sc_err *err)
{
    struct sc_shmstat_block b = { SC_COUNTERS_PUB, labels, get_pub, p,
                                  sizeof(struct sc_pub_stats), 0, true,
                                  offsetof(struct sc_pub_stats, rx_bad) };
    int rc = sc_shmstat_add(s, &b, err);

    if (rc < 0)
        return rc;
    b.set = SC_COUNTERS_LINK;
    b.off = offsetof(struct sc_pub_stats, link);
    b.rx_bad = false;
    return sc_shmstat_add(s, &b, err) < 0 ? -EINVAL : rc;
}

int
sc_shmstat_add_sub(struct sc_shmstat *s, const struct sc_sub *sub, const char *labels,
                   struct sc_err *err)
{
    struct sc_shmstat_block b = { SC_COUNTERS_SUB, labels, get_sub, sub,
                                  sizeof(struct sc_sub_stats), 0, true,
                                  offsetof(struct sc_sub_stats, rx_bad) };
    struct sc_sub_source_stats st;
    int rc = sc_shmstat_add(s, &b, err);

    if (rc < 0)
        return rc;
    b.set = SC_COUNTERS_LINK;
    b.off = offsetof(struct sc_sub_stats, link);
    b.rx_bad = false;
    if (sc_shmstat_add(s, &b, err) < 0)
        return -EINVAL;
    /* a block per place of its source table, SC_SHMSTAT_SOURCES at most */
    b = (struct sc_shmstat_block){ SC_COUNTERS_SUB_SOURCE, NULL, get_sub, sub,
                                   sizeof(struct sc_sub_source_stats), 0, false, 0 };
    for (unsigned i = 0; s && i < SC_SHMSTAT_SOURCES && sc_sub_get_source(sub, i, &st) >= 0;
         i++) {
        int k = sc_shmstat_add(s, &b, err);
        if (k < 0)
            return k;
        s->blocks[k].source = true;
        s->blocks[k].place = i;
        put_str(s->blocks[k].base, sizeof(s->blocks[k].base), labels);
        s->blocks[k].labels[0] = '\0';
    }
    return rc;
}

/* "base,source=NAME,gsi=HEX,port=N" (MoldUDP64: "base,source=NAME,session=NAME");
 * ',' '=' '"' '\\' in a name become '_' so the labels split as written. */
static void
source_labels(char *out, size_t cap, const char *base, const struct sc_source *src, bool mold)
{
    char name[sizeof(src->name)];
    size_t i;

    for (i = 0; i + 1 < sizeof(name) && src->name[i]; i++)
        name[i] = strchr(",=\"\\", src->name[i]) ? '_' : src->name[i];
    name[i] = '\0';
    if (mold)
        snprintf(out, cap, "%s%ssource=%s,session=%s", base, *base ? "," : "", name, name);
    else
        snprintf(out, cap, "%s%ssource=%s,gsi=%02x%02x%02x%02x%02x%02x,port=%u", base,
                 *base ? "," : "", name, src->gsi[0], src->gsi[1], src->gsi[2], src->gsi[3],
                 src->gsi[4], src->gsi[5], src->sport);
}

int
sc_shmstat_add_osrv(struct sc_shmstat *s, const struct sc_osrv *o, const char *labels,
                    struct sc_err *err)
{
    struct sc_shmstat_block b = { SC_COUNTERS_OSRV, labels, get_osrv, o,
                                  sizeof(struct sc_osrv_stats), 0, true,
                                  offsetof(struct sc_osrv_stats, rx_bad) };
    return sc_shmstat_add(s, &b, err);
}

int
sc_shmstat_add_ocli(struct sc_shmstat *s, const struct sc_ocli *o, const char *labels,
                    struct sc_err *err)
{
    struct sc_shmstat_block b = { SC_COUNTERS_OCLI, labels, get_ocli, o,
                                  sizeof(struct sc_ocli_stats), 0, true,
                                  offsetof(struct sc_ocli_stats, rx_bad) };
    return sc_shmstat_add(s, &b, err);
}

int
sc_shmstat_add_archive(struct sc_shmstat *s, const struct sc_archive *a, const char *labels,
                       struct sc_err *err)
{
    struct sc_shmstat_block b = { SC_COUNTERS_ARCHIVE, labels, get_archive, a,
                                  sizeof(struct sc_archive_stats), 0, false, 0 };
    return sc_shmstat_add(s, &b, err);
}

/* The directory, made if missing; the default one world-writable and sticky,
 * as /tmp, so every user's processes keep their files there. */
static int
make_dir(const char *dir, bool shared)
{
    char tmp[256];

    snprintf(tmp, sizeof(tmp), "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(tmp, shared ? 01777 : 0755) < 0) {
        if (errno != EEXIST)
            return -errno;
    } else if (shared) {
        chmod(tmp, 01777); /* past the umask */
    }
    return 0;
}

static void
fill_meta(struct file_meta *m, const struct sc_counter_desc *d)
{
    put_str(m->name, sizeof(m->name), d->name);
    put_str(m->unit, sizeof(m->unit), d->unit);
    put_str(m->help, sizeof(m->help), d->help);
    m->kind = d->kind;
    m->show = d->show;
}

int
sc_shmstat_open(struct sc_shmstat *s, struct sc_err *err)
{
    char tmp[600];
    size_t table_off = HDR_SIZE, off;
    struct file_block *fb;
    int fd, rc;

    if (!s || s->map)
        return 0;
    if ((rc = make_dir(s->dir, !strcmp(s->dir, SC_SHMSTAT_DIR))) < 0)
        return sc_err_set(err, rc, "shmstat: %s: %s", s->dir, strerror(-rc));
    off = table_off + s->nblocks * sizeof(struct file_block);
    for (uint32_t i = 0; i < s->nblocks; i++)
        off += s->blocks[i].n * (size_t)META_SIZE + 8 + s->blocks[i].n * 8u;
    off = (off + 63) & ~(size_t)63;
    s->size = off + (size_t)s->loss_cap * LOSS_SIZE;
    snprintf(s->path, sizeof(s->path), "%s/%s.%d.%s" SC_SHMSTAT_SUFFIX, s->dir, s->program,
             (int)getpid(), s->name);
    snprintf(tmp, sizeof(tmp), "%s/.%s.%d.tmp", s->dir, s->program, (int)getpid());
    if ((fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
        rc = -errno;
        s->path[0] = '\0';
        return sc_err_set(err, rc, "shmstat: %s: %s", tmp, strerror(-rc));
    }
    fchmod(fd, 0644);
    if (ftruncate(fd, (off_t)s->size) < 0 ||
        (s->map = mmap(NULL, s->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
        rc = -errno;
        s->map = NULL;
        close(fd);
        unlink(tmp);
        s->path[0] = '\0';
        return sc_err_set(err, rc, "shmstat: %s: %s", tmp, strerror(-rc));
    }
    close(fd);
    s->hdr = (struct file_hdr *)(void *)s->map;
    s->hdr->version = SC_SHMSTAT_VERSION;
    s->hdr->hdr_size = HDR_SIZE;
    s->hdr->nblocks = s->nblocks;
    s->hdr->file_size = s->size;
    s->hdr->pid = (int32_t)getpid();
    s->hdr->loss_cap = s->loss_cap;
    s->hdr->start_ticks = start_ticks((int)getpid());
    s->hdr->created_ns = sc_clock_realtime_ns();
    s->hdr->interval_ns = s->interval_ns;
    s->hdr->table_off = table_off;
    s->hdr->loss_off = s->size - (size_t)s->loss_cap * LOSS_SIZE;
    put_str(s->hdr->program, sizeof(s->hdr->program), s->program);
    put_str(s->hdr->name, sizeof(s->hdr->name), s->name);
    s->loss = (struct file_loss *)(void *)(s->map + s->hdr->loss_off);
    fb = (struct file_block *)(void *)(s->map + table_off);
    off = table_off + s->nblocks * sizeof(struct file_block);
    for (uint32_t i = 0; i < s->nblocks; i++) {
        struct wblock *w = &s->blocks[i];
        struct file_meta *m = (struct file_meta *)(void *)(s->map + off);
        fb[i].set = w->b.set;
        fb[i].n = w->n;
        fb[i].meta_off = off;
        put_str(fb[i].labels, sizeof(fb[i].labels), w->labels);
        for (size_t k = 0; k < w->nd; k++)
            fill_meta(&m[k], &w->d[k]);
        for (int k = 1; w->b.rx_bad && k <= SC_PERR_COUNT; k++) {
            struct sc_counter_desc rd = { NULL, "packets", "dropped by codec class (rx_bad)", 0,
                                          'c', 'z' };
            char nm[48];
            snprintf(nm, sizeof(nm), "rx_bad_%s", sc_perr_name(-k));
            rd.name = nm;
            fill_meta(&m[w->nd + (size_t)k - 1], &rd);
        }
        off += w->n * (size_t)META_SIZE;
        fb[i].values_off = off;
        w->flabels = fb[i].labels;
        w->seq = (uint64_t *)(void *)(s->map + off);
        w->values = w->seq + 1;
        off += 8 + w->n * 8u;
    }
    sc_shmstat_publish(s, 0);
    __atomic_store_n(&s->hdr->magic, SC_SHMSTAT_MAGIC, __ATOMIC_RELEASE);
    if (rename(tmp, s->path) < 0) {
        rc = -errno;
        munmap(s->map, s->size);
        s->map = NULL;
        unlink(tmp);
        snprintf(tmp, sizeof(tmp), "%s", s->path);
        s->path[0] = '\0';
        return sc_err_set(err, rc, "shmstat: %s: %s", tmp, strerror(-rc));
    }
    return 0;
}

static void
publish_block(struct wblock *w)
{
    uint64_t seq = __atomic_load_n(w->seq, __ATOMIC_RELAXED);
    const char *base = (const char *)w->scratch + w->b.off;

    if (w->source) {
        struct sc_sub_source_stats *st = w->scratch;
        if (sc_sub_get_source(w->b.obj, w->place, st) == 1)
            source_labels(w->labels, sizeof(w->labels), w->base, &st->src,
                          !st->src.gsi[0] && !st->src.gsi[1] && !st->src.sport &&
                              st->src.session[0]);
        else
            w->labels[0] = '\0';
    } else {
        w->b.get(w->b.obj, w->scratch);
    }
    __atomic_store_n(w->seq, seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    if (w->source)
        for (size_t k = 0; k < SC_SHMSTAT_LABELS; k++) /* relaxed: the readers' copy races */
            __atomic_store_n(&w->flabels[k], w->labels[k], __ATOMIC_RELAXED);
    for (size_t k = 0; k < w->nd; k++)
        __atomic_store_n(&w->values[k], sc_counter_get(&w->d[k], base), __ATOMIC_RELAXED);
    if (w->b.rx_bad) {
        const uint64_t *rb = (const uint64_t *)(const void *)((const char *)w->scratch +
                                                              w->b.rx_bad_off);
        for (int k = 1; k <= SC_PERR_COUNT; k++)
            __atomic_store_n(&w->values[w->nd + (size_t)k - 1], rb[k], __ATOMIC_RELAXED);
    }
    __atomic_store_n(w->seq, seq + 2, __ATOMIC_RELEASE);
}

void
sc_shmstat_publish(struct sc_shmstat *s, uint64_t now)
{
    if (!s || !s->map)
        return;
    for (uint32_t i = 0; i < s->nblocks; i++)
        publish_block(&s->blocks[i]);
    __atomic_store_n(&s->hdr->updated_ns, sc_clock_realtime_ns(), __ATOMIC_RELEASE);
    s->next = now + s->interval_ns;
}

int
sc_shmstat_do_work(struct sc_shmstat *s, uint64_t now)
{
    if (!s || !s->map || now < s->next)
        return 0;
    sc_shmstat_publish(s, now);
    return 1;
}

uint64_t
sc_shmstat_deadline(const struct sc_shmstat *s, uint64_t now)
{
    (void)now;
    return s && s->map ? s->next : UINT64_MAX;
}

static int
agent_do_work(void *self, uint64_t now)
{
    return sc_shmstat_do_work(self, now);
}

static uint64_t
agent_deadline(const void *self, uint64_t now)
{
    return sc_shmstat_deadline(self, now);
}

struct sc_agent
sc_shmstat_agent(struct sc_shmstat *s)
{
    static const struct sc_agent_ops ops = { "shmstat", agent_do_work, agent_deadline, NULL,
                                             NULL };
    return (struct sc_agent){ &ops, s };
}

const char *
sc_shmstat_path(const struct sc_shmstat *s)
{
    return s ? s->path : "";
}

void
sc_shmstat_destroy(struct sc_shmstat *s)
{
    if (!s)
        return;
    if (s->map) {
        munmap(s->map, s->size);
        unlink(s->path);
    }
    for (uint32_t i = 0; i < s->nblocks; i++)
        free(s->blocks[i].scratch);
    free(s);
}

/* ------------------------------------------------------------- loss log */

/* A sixteenth of the ring (4 at least): a burst of repairs takes 16 s to
 * flush the ring of the losses it holds. */
static uint32_t
repairs_per_second(const struct sc_shmstat *s)
{
    return s->loss_cap / 16 > 4 ? s->loss_cap / 16 : 4;
}

void
sc_shmstat_log(struct sc_shmstat *s, const struct sc_shmstat_event *ev)
{
    uint64_t ord;
    struct file_loss *e;

    if (!s || !s->map)
        return;
    if (ev->type == SC_SHMSTAT_EV_REPAIR) {
        /* at most REPAIRS_PER_SECOND a second: repairs under steady loss must
         * not flush the losses out of the ring; the rest are counted */
        uint64_t sec = sc_clock_now() / 1000000000u;
        if (sec != s->rep_second) {
            s->rep_second = sec;
            s->rep_in_second = 0;
        }
        if (++s->rep_in_second > repairs_per_second(s)) {
            __atomic_store_n(&s->hdr->repairs_unlogged, s->hdr->repairs_unlogged + 1,
                             __ATOMIC_RELAXED);
            return;
        }
    }
    ord = __atomic_load_n(&s->hdr->loss_head, __ATOMIC_RELAXED);
    e = &s->loss[ord % s->loss_cap];
    __atomic_store_n(&e->begin, ord + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    e->time_ns = ev->time_ns ? ev->time_ns : sc_clock_realtime_ns();
    e->first = ev->first;
    e->last = ev->last;
    e->count = ev->count;
    e->repair_ns = ev->repair_ns;
    e->type = ev->type;
    e->reason = ev->reason;
    e->block = ev->block;
    put_str(e->source, sizeof(e->source), ev->source);
    put_str(e->peer, sizeof(e->peer), ev->peer);
    __atomic_store_n(&e->end, ord + 1, __ATOMIC_RELEASE);
    __atomic_store_n(&s->hdr->loss_head, ord + 1, __ATOMIC_RELEASE);
}

void
sc_shmstat_log_sub(struct sc_shmstat *s, int block, const struct sc_sub_event *ev)
{
    struct sc_shmstat_event e = { 0 };

    if (!s || !s->map)
        return;
    e.block = block < 0 ? 0 : (uint32_t)block;
    if (ev->src)
        put_str(e.source, sizeof(e.source), ev->src->name);
    switch (ev->type) {
    case SC_EV_REPAIR:
        e.type = SC_SHMSTAT_EV_REPAIR;
        e.reason = ev->repair.how;
        e.first = ev->repair.first;
        e.last = ev->repair.last;
        e.count = ev->repair.packets;
        e.repair_ns = ev->repair.wait_ns ? ev->repair.wait_ns : 1;
        if (ev->repair.addr)
            put_peer(e.peer, sizeof(e.peer), ev->repair.addr, ev->repair.port);
        break;
    case SC_EV_LOSS:
        e.type = SC_SHMSTAT_EV_LOSS;
        e.reason = ev->loss.reason;
        e.first = ev->loss.first;
        e.last = ev->loss.last;
        e.count = ev->loss.packets;
        break;
    case SC_EV_NAK_UNANSWERED:
        e.type = SC_SHMSTAT_EV_NAK_UNANSWERED;
        e.reason = ev->nak.reason;
        e.count = ev->nak.naks;
        put_peer(e.peer, sizeof(e.peer), ev->nak.addr, ev->nak.port);
        break;
    case SC_EV_SOURCE_UP:
        e.type = SC_SHMSTAT_EV_SOURCE_UP;
        e.reason = ev->up.join;
        e.first = ev->up.first_packet;
        break;
    case SC_EV_SOURCE_DOWN:
        e.type = SC_SHMSTAT_EV_SOURCE_DOWN;
        e.reason = ev->down.reason;
        break;
    default: return;
    }
    sc_shmstat_log(s, &e);
}

/* --------------------------------------------------------------- reader */

static int
read_at(int fd, void *buf, size_t len, uint64_t off)
{
    ssize_t n = pread(fd, buf, len, (off_t)off);

    if (n < 0)
        return -errno;
    return (size_t)n == len ? 0 : -EBADMSG;
}

/* A fixed string field ends within its size. */
static bool
terminated(const char *f, size_t cap)
{
    return memchr(f, '\0', cap) != NULL;
}

static bool
in_file(uint64_t off, uint64_t len, uint64_t size)
{
    return off <= size && len <= size - off;
}

void
sc_shmstat_snap_free(struct sc_shmstat_snap *snap)
{
    if (!snap)
        return;
    for (uint32_t i = 0; i < snap->nblocks; i++)
        free(snap->blocks[i].c);
    free(snap->blocks);
    free(snap->loss);
    free(snap);
}

/* The values, and the labels (at labels_off: a source's change with it),
 * under the block's sequence lock. */
static int
read_values(int fd, const struct file_block *fb, uint64_t *vals, uint64_t labels_off,
            char *labels)
{
    for (int t = 0; t < READ_TRIES; t++) {
        uint64_t s1, s2;
        int rc;
        if ((rc = read_at(fd, &s1, 8, fb->values_off)) < 0)
            return rc;
        if (s1 & 1) {
            sched_yield();
            continue;
        }
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if ((rc = read_at(fd, vals, fb->n * 8u, fb->values_off + 8)) < 0 ||
            (rc = read_at(fd, labels, SC_SHMSTAT_LABELS, labels_off)) < 0 ||
            (rc = read_at(fd, &s2, 8, fb->values_off)) < 0)
            return rc;
        if (s1 == s2)
            return 0;
    }
    return -EAGAIN;
}

static int
read_loss(int fd, const struct file_hdr *h, struct sc_shmstat_snap *snap)
{
    uint64_t head = snap->loss_total, n = head < h->loss_cap ? head : h->loss_cap;
    struct file_loss *ring;
    int rc;

    if (!n)
        return 0;
    if (!(ring = malloc((size_t)h->loss_cap * LOSS_SIZE)) ||
        !(snap->loss = calloc(n, sizeof(*snap->loss)))) {
        free(ring);
        return -ENOMEM;
    }
    if ((rc = read_at(fd, ring, (size_t)h->loss_cap * LOSS_SIZE, h->loss_off)) < 0) {
        free(ring);
        return rc;
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    for (uint64_t ord = head - n; ord < head; ord++) {
        const struct file_loss *e = &ring[ord % h->loss_cap];
        struct sc_shmstat_event *o = &snap->loss[snap->nloss];
        if (e->begin != ord + 1 || e->end != ord + 1 || !terminated(e->source, sizeof(e->source)) ||
            !terminated(e->peer, sizeof(e->peer)))
            continue; /* being overwritten, or damaged */
        o->time_ns = e->time_ns;
        o->first = e->first;
        o->last = e->last;
        o->count = e->count;
        o->repair_ns = e->repair_ns;
        o->type = e->type;
        o->reason = e->reason;
        o->block = e->block < h->nblocks ? e->block : 0;
        memcpy(o->source, e->source, sizeof(o->source));
        memcpy(o->peer, e->peer, sizeof(o->peer));
        snap->nloss++;
    }
    free(ring);
    return 0;
}

static int
read_blocks(int fd, const struct file_hdr *h, struct sc_shmstat_snap *snap, const char *path,
            struct sc_err *err)
{
    struct file_block *fb = NULL;
    struct file_meta *meta = NULL;
    uint64_t *vals = NULL;
    int rc = 0;

    if (!(fb = calloc(h->nblocks ? h->nblocks : 1, sizeof(*fb))) ||
        !(snap->blocks = calloc(h->nblocks ? h->nblocks : 1, sizeof(*snap->blocks))) ||
        !(meta = malloc(SC_SHMSTAT_MAX_COUNTERS * sizeof(*meta))) ||
        !(vals = malloc(SC_SHMSTAT_MAX_COUNTERS * sizeof(*vals)))) {
        rc = sc_err_set(err, -ENOMEM, "%s: out of memory", path);
        goto out;
    }
    if ((rc = read_at(fd, fb, h->nblocks * sizeof(*fb), h->table_off)) < 0) {
        rc = sc_err_set(err, rc, "%s: block table cut short", path);
        goto out;
    }
    for (uint32_t i = 0; i < h->nblocks; i++) {
        struct sc_shmstat_rblock *rb = &snap->blocks[i];
        if (fb[i].set >= SC_COUNTERS_SETS || fb[i].n > SC_SHMSTAT_MAX_COUNTERS ||
            !in_file(fb[i].meta_off, (uint64_t)fb[i].n * META_SIZE, h->file_size) ||
            !in_file(fb[i].values_off, 8 + (uint64_t)fb[i].n * 8, h->file_size) ||
            (fb[i].values_off & 7) || !terminated(fb[i].labels, sizeof(fb[i].labels))) {
            rc = sc_err_set(err, -EBADMSG, "%s: block %u: out of bounds", path, i);
            goto out;
        }
        if ((rc = read_at(fd, meta, fb[i].n * (size_t)META_SIZE, fb[i].meta_off)) < 0) {
            rc = sc_err_set(err, -EBADMSG, "%s: block %u: cut short", path, i);
            goto out;
        }
        if ((rc = read_values(fd, &fb[i], vals,
                              h->table_off + i * sizeof(*fb) + offsetof(struct file_block, labels),
                              fb[i].labels)) < 0 ||
            (!rc && !terminated(fb[i].labels, sizeof(fb[i].labels)) && (rc = -EBADMSG))) {
            rc = sc_err_set(err, rc, "%s: block %u: %s", path, i,
                         rc == -EAGAIN ? "always being written" : "cut short");
            goto out;
        }
        if (!(rb->c = calloc(fb[i].n ? fb[i].n : 1, sizeof(*rb->c)))) {
            rc = sc_err_set(err, -ENOMEM, "%s: out of memory", path);
            goto out;
        }
        snap->nblocks = i + 1;
        rb->set = fb[i].set;
        rb->n = fb[i].n;
        memcpy(rb->labels, fb[i].labels, sizeof(rb->labels));
        rb->vacant = fb[i].set == SC_COUNTERS_SUB_SOURCE && !rb->labels[0];
        for (uint32_t k = 0; k < fb[i].n; k++) {
            const struct file_meta *m = &meta[k];
            if (!terminated(m->name, sizeof(m->name)) || !m->name[0] ||
                !terminated(m->unit, sizeof(m->unit)) || !terminated(m->help, sizeof(m->help)) ||
                (m->kind != 'c' && m->kind != 'g')) {
                rc = sc_err_set(err, -EBADMSG, "%s: block %u counter %u: bad description", path, i,
                             k);
                goto out;
            }
            memcpy(rb->c[k].name, m->name, sizeof(m->name));
            memcpy(rb->c[k].unit, m->unit, sizeof(m->unit));
            memcpy(rb->c[k].help, m->help, sizeof(m->help));
            rb->c[k].kind = m->kind;
            rb->c[k].show = m->show;
            rb->c[k].value = vals[k];
        }
    }
out:
    free(fb);
    free(meta);
    free(vals);
    return rc;
}

int
sc_shmstat_read(const char *path, struct sc_shmstat_snap **out, struct sc_err *err)
{
    struct sc_shmstat_snap *snap;
    struct file_hdr h;
    struct stat st;
    int fd, rc;

    *out = NULL;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
        return sc_err_set(err, -errno, "%s: %s", path, strerror(errno));
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return sc_err_set(err, -EBADMSG, "%s: not a regular file", path);
    }
    if ((rc = read_at(fd, &h, sizeof(h), 0)) < 0) {
        close(fd);
        return sc_err_set(err, -EBADMSG, "%s: shorter than a header", path);
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (h.magic != SC_SHMSTAT_MAGIC || h.version != SC_SHMSTAT_VERSION ||
        h.hdr_size != HDR_SIZE) {
        close(fd);
        return sc_err_set(err, -EBADMSG, "%s: not a seqcast counters file (version %u)", path,
                       SC_SHMSTAT_VERSION);
    }
    if (h.file_size != (uint64_t)st.st_size || h.nblocks > SC_SHMSTAT_MAX_BLOCKS ||
        h.loss_cap > MAX_LOSS || h.table_off < HDR_SIZE ||
        !in_file(h.table_off, (uint64_t)h.nblocks * sizeof(struct file_block), h.file_size) ||
        !in_file(h.loss_off, (uint64_t)h.loss_cap * LOSS_SIZE, h.file_size) ||
        !terminated(h.program, sizeof(h.program)) || !terminated(h.name, sizeof(h.name))) {
        close(fd);
        return sc_err_set(err, -EBADMSG, "%s: header out of bounds (size %lld, file %llu)", path,
                       (long long)st.st_size, (unsigned long long)h.file_size);
    }
    if (!(snap = calloc(1, sizeof(*snap)))) {
        close(fd);
        return sc_err_set(err, -ENOMEM, "%s: out of memory", path);
    }
    snap->pid = h.pid;
    snap->start_ticks = h.start_ticks;
    snap->created_ns = h.created_ns;
    snap->updated_ns = h.updated_ns;
    snap->interval_ns = h.interval_ns;
    snap->loss_total = h.loss_head;
    snap->repairs_unlogged = h.repairs_unlogged;
    memcpy(snap->program, h.program, sizeof(snap->program));
    memcpy(snap->name, h.name, sizeof(snap->name));
    snap->stale = !sc_shmstat_alive(h.pid, h.start_ticks);
    if ((rc = read_blocks(fd, &h, snap, path, err)) < 0 ||
        ((rc = read_loss(fd, &h, snap)) < 0 &&
         sc_err_set(err, rc, "%s: loss log: %s", path, rc == -ENOMEM ? "out of memory" : "cut short"))) {
        close(fd);
        sc_shmstat_snap_free(snap);
        return rc;
    }
    close(fd);
    *out = snap;
    return 0;
}

bool
sc_shmstat_value(const struct sc_shmstat_rblock *b, const char *name, uint64_t *v)
{
    for (uint32_t i = 0; i < b->n; i++)
        if (!strcmp(b->c[i].name, name)) {
            *v = b->c[i].value;
            return true;
        }
    return false;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int
sc_shmstat_list(const char *dir, char ***paths)
{
    const char *d = sc_shmstat_dir(dir);
    size_t dl = strlen(d), sl = strlen(SC_SHMSTAT_SUFFIX), n = 0, bytes = 0;
    struct dirent *de;
    char **v, *p;
    DIR *dh;

    *paths = NULL;
    if (!(dh = opendir(d)))
        return errno == ENOENT ? 0 : -errno;
    while ((de = readdir(dh))) {
        size_t l = strlen(de->d_name);
        if (de->d_name[0] != '.' && l > sl && !strcmp(de->d_name + l - sl, SC_SHMSTAT_SUFFIX))
            n++, bytes += dl + 1 + l + 1;
    }
    if (!n || !(v = malloc(n * sizeof(*v) + bytes))) {
        closedir(dh);
        return n ? -ENOMEM : 0;
    }
    rewinddir(dh);
    p = (char *)(v + n);
    size_t i = 0;
    while ((de = readdir(dh)) && i < n) {
        size_t l = strlen(de->d_name);
        if (de->d_name[0] == '.' || l <= sl || strcmp(de->d_name + l - sl, SC_SHMSTAT_SUFFIX))
            continue;
        if ((size_t)(p - (char *)(v + n)) + dl + l + 2 > bytes)
            break; /* the directory grew between the passes */
        v[i++] = p;
        p += sprintf(p, "%s/%s", d, de->d_name) + 1;
    }
    closedir(dh);
    qsort(v, i, sizeof(*v), cmp_str);
    *paths = v;
    return (int)i;
}

int
sc_shmstat_clean(const char *dir)
{
    char **paths;
    int n = sc_shmstat_list(dir, &paths), removed = 0;

    for (int i = 0; i < n; i++) {
        struct file_hdr h;
        int fd = open(paths[i], O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
            continue;
        /* only a file that is ours in form: a foreign file is left alone */
        if (read_at(fd, &h, sizeof(h), 0) == 0 && h.magic == SC_SHMSTAT_MAGIC &&
            !sc_shmstat_alive(h.pid, h.start_ticks) && unlink(paths[i]) == 0)
            removed++;
        close(fd);
    }
    if (n > 0)
        free(paths);
    return removed;
}
