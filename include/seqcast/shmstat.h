/* seqcast live counters: a process's counters and loss log in a shared-memory
 * file that other processes read while it runs (seqcast-stat; Aeron's
 * counters file and AeronStat/LossStat).
 *
 * One file per process and name (a channel, a session): DIR/PROGRAM.PID.NAME.scstat,
 * DIR from the caller, else $SEQCAST_STAT_DIR, else SC_SHMSTAT_DIR (created
 * mode 1777, like /tmp, so every user keeps files there). The file holds
 * blocks: one counter list of <seqcast/counters.h> each, with labels
 * ("channel=md,group=239.1.1.1:3056"). Its layout is generated from the lists
 * (sc_counter_descs): each block carries its counters' names, units, kinds and
 * help, so a reader needs no list of its own and never names a counter.
 *
 * Writing costs the hot path nothing: agents keep their plain stats structs,
 * and a shmstat agent (sc_shmstat_agent, on the program's runner) copies each
 * block's struct into the file every interval (100 ms by default) through the
 * block's getter (sc_pub_get_stats, ...). One writer; a block is published
 * under a sequence lock (odd while being written), so readers never take a
 * lock and never see a torn block, and never disturb the writer.
 *
 * The loss log: a ring of the last events (losses, repairs, NAKs unanswered,
 * sources up and down) with time, source, sequence range, reason and, when known,
 * repair latency and the peer NAKed.
 *
 * Readers (sc_shmstat_read) use pread on the file, never a mapping, and check
 * every field: a truncated, foreign or hostile file is refused with an error,
 * never followed. A file whose process is gone (kill(pid, 0) says ESRCH, or
 * the pid now belongs to a process started at another time) is stale;
 * sc_shmstat_clean removes those.
 *
 *   file:  header (SC_SHMSTAT_HDR bytes)
 *          block table: nblocks x struct (set, ncounters, meta_off, values_off, labels)
 *          per block: ncounters x 256-byte meta (name, unit, kind, show, help)
 *          per block: u64 seq | ncounters x u64 values
 *          loss ring: loss_cap x 256-byte entries (begin ordinal ... end ordinal)
 */
#ifndef SEQCAST_SHMSTAT_H
#define SEQCAST_SHMSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <seqcast/agent.h>
#include <seqcast/counters.h>
#include <seqcast/err.h>

#define SC_SHMSTAT_DIR "/dev/shm/seqcast"
#define SC_SHMSTAT_ENV "SEQCAST_STAT_DIR"
#define SC_SHMSTAT_SUFFIX ".scstat"
#define SC_SHMSTAT_MAGIC 0x31545353u /* "SST1" */
#define SC_SHMSTAT_VERSION 1u
#define SC_SHMSTAT_MAX_BLOCKS 64
#define SC_SHMSTAT_MAX_COUNTERS 512 /* per block */
#define SC_SHMSTAT_LABELS 160       /* a block's labels, NUL included */
#define SC_SHMSTAT_NAME 64          /* the file's name part (channel, session) */
#define SC_SHMSTAT_PROGRAM 32
#define SC_SHMSTAT_SOURCES 16       /* source blocks of a subscriber, at most */

/* --------------------------------------------------------------- writing */

struct sc_shmstat;

struct sc_shmstat_params {
    const char *dir;      /* NULL or "": $SEQCAST_STAT_DIR, else SC_SHMSTAT_DIR */
    const char *program;  /* "seqcast-sub" */
    const char *name;     /* a channel, a session: in the file name and the header */
    uint64_t interval_ns; /* between two publications (0: 100 ms) */
    uint32_t loss_log;    /* loss-log entries (0: 256; at most 65,536) */
};

/* Fill a stats struct (size bytes at stats) from obj: sc_pub_get_stats, ... */
typedef void sc_shmstat_get_fn(const void *obj, void *stats);

struct sc_shmstat_block {
    enum sc_counter_set set; /* the list its counters come from */
    const char *labels;      /* "key=value,key=value" (Prometheus labels); may be NULL */
    sc_shmstat_get_fn *get;
    const void *obj;
    size_t size;             /* of the struct get fills */
    size_t off;              /* where the set's struct starts in it (a pub's link: offsetof) */
    bool rx_bad;             /* the struct holds uint64_t rx_bad[SC_PERR_COUNT + 1] ... */
    size_t rx_bad_off;       /* ... here: published as rx_bad_<class> counters */
};

/* Start a writer: nothing on disk until sc_shmstat_open. Stale files in the
 * directory are removed (sc_shmstat_clean). @return 0, -EINVAL (no program)
 * or -ENOMEM, with err filled. */
int sc_shmstat_create(struct sc_shmstat **out, const struct sc_shmstat_params *p,
                      struct sc_err *err);

/* As sc_shmstat_create, from a deployment's stats section (<seqcast/config.h>):
 * *out stays NULL, and 0 is returned, when stats.shm is off -- every call
 * below is a no-op on NULL, so a program needs no test of its own. */
struct sc_stats_cfg;
int sc_shmstat_create_cfg(struct sc_shmstat **out, const struct sc_stats_cfg *cfg,
                          const char *program, const char *name, struct sc_err *err);

/* Add a block, before sc_shmstat_open. @return its index, or -EINVAL (an
 * unknown set, size or offsets outside the struct), -ENOSPC past
 * SC_SHMSTAT_MAX_BLOCKS, -ENOMEM, with err filled. */
int sc_shmstat_add(struct sc_shmstat *s, const struct sc_shmstat_block *b, struct sc_err *err);

/* Blocks for the engine's agents, labelled with labels, as sc_shmstat_add:
 * pub and sub give two blocks (their set and their link's); sub then one block
 * per place of its source table (SC_COUNTERS_SUB_SOURCE, SC_SHMSTAT_SOURCES at
 * most), labelled labels + "source=NAME,gsi=HEX,port=N" (MoldUDP64:
 * "source=NAME,session=NAME") while a source holds the place, "" (vacant)
 * while none does. @return the index of the first block (pub, sub). */
struct sc_pub;
struct sc_sub;
struct sc_osrv;
struct sc_ocli;
struct sc_archive;
int sc_shmstat_add_pub(struct sc_shmstat *s, const struct sc_pub *p, const char *labels,
                       struct sc_err *err);
int sc_shmstat_add_sub(struct sc_shmstat *s, const struct sc_sub *sub, const char *labels,
                       struct sc_err *err);
int sc_shmstat_add_osrv(struct sc_shmstat *s, const struct sc_osrv *o, const char *labels,
                        struct sc_err *err);
int sc_shmstat_add_ocli(struct sc_shmstat *s, const struct sc_ocli *o, const char *labels,
                        struct sc_err *err);
int sc_shmstat_add_archive(struct sc_shmstat *s, const struct sc_archive *a, const char *labels,
                           struct sc_err *err);

/* Write the file (under a temporary name, renamed into place whole: a reader
 * never sees it half made) and publish every block once. @return 0 or a
 * negative errno with err filled (the directory cannot be made or written). */
int sc_shmstat_open(struct sc_shmstat *s, struct sc_err *err);

/* Publish every block now (the agent does it every interval; a program calls
 * it once more before it ends, so the file's last values are its last). */
void sc_shmstat_publish(struct sc_shmstat *s, uint64_t now_ns);

/* The agent: do_work publishes when the interval is up (@return 1 then, else
 * 0); the deadline is the next publication. No input, no fd. */
int sc_shmstat_do_work(struct sc_shmstat *s, uint64_t now_ns);
uint64_t sc_shmstat_deadline(const struct sc_shmstat *s, uint64_t now_ns);
struct sc_agent sc_shmstat_agent(struct sc_shmstat *s);

/* The file's path ("" before sc_shmstat_open). */
const char *sc_shmstat_path(const struct sc_shmstat *s);

/* Remove the file, free everything. Safe on NULL (as sc_shmstat_add*,
 * _open, _publish, _log, _log_sub: they do nothing on NULL). */
void sc_shmstat_destroy(struct sc_shmstat *s);

/* ------------------------------------------------------------- loss log */

enum sc_shmstat_ev {
    SC_SHMSTAT_EV_LOSS = 1,      /* reason: enum sc_loss_reason */
    SC_SHMSTAT_EV_NAK_UNANSWERED, /* reason: enum sc_nak_fault; peer: where the NAKs went */
    SC_SHMSTAT_EV_SOURCE_UP,     /* reason: enum sc_join; first: its first packet */
    SC_SHMSTAT_EV_SOURCE_DOWN,   /* reason: enum sc_down_reason */
    SC_SHMSTAT_EV_REPAIR,        /* first..last repaired (reason: enum sc_repair_how);
                                    repair_ns: the longest wait of them since found missing;
                                    peer: where we NAKed or asked; at most loss_log / 16 a
                                    second (4 at least), the rest counted (repairs_unlogged) */
};

struct sc_shmstat_event {
    uint64_t time_ns;   /* CLOCK_REALTIME ns (sc_shmstat_log fills it when 0) */
    uint64_t first, last; /* sequence range, inclusive (last UINT64_MAX: unknown end) */
    uint64_t count;     /* packets (MoldUDP64: messages) */
    uint64_t repair_ns; /* repair latency, 0 when not known */
    uint32_t type;      /* enum sc_shmstat_ev */
    uint32_t reason;    /* see enum sc_shmstat_ev */
    uint32_t block;     /* the block it belongs to (its labels) */
    char source[48];    /* the source ("9c5f102344a1.4660", a MoldUDP64 session) */
    char peer[32];      /* who was NAKed or asked again ("198.18.0.1:3055"), "" unknown */
};

/* Append to the ring (the oldest entry goes when it is full). Any time after
 * sc_shmstat_open; ignored before. */
void sc_shmstat_log(struct sc_shmstat *s, const struct sc_shmstat_event *ev);

struct sc_sub_event;
/* A subscriber's event (its on_event callback, or on_repair: SC_EV_REPAIR)
 * into the log, for block. */
void sc_shmstat_log_sub(struct sc_shmstat *s, int block, const struct sc_sub_event *ev);

/* "loss", "nak_unanswered", ...; the reason of an event as a word
 * ("retries", "not_in_window", "timeout", ...). */
const char *sc_shmstat_ev_name(uint32_t type);
const char *sc_shmstat_reason_name(uint32_t type, uint32_t reason);

/* "pub", "sub", "link", "osrv", ... (metric prefixes); NULL for an unknown set. */
const char *sc_shmstat_set_name(uint32_t set);

/* -------------------------------------------------------------- reading */

struct sc_shmstat_counter {
    char name[48];
    char unit[16];
    char kind; /* 'c' counter, 'g' gauge */
    char show; /* 'a', 'z', 'n' as in struct sc_counter_desc */
    char help[184];
    uint64_t value;
};

struct sc_shmstat_rblock {
    uint32_t set;
    char labels[SC_SHMSTAT_LABELS];
    uint32_t n;
    struct sc_shmstat_counter *c;
    bool vacant; /* a source block whose place holds no source now: skip it */
};

struct sc_shmstat_snap {
    int pid;
    uint64_t start_ticks;  /* the process's start time (/proc/PID/stat, clock ticks) */
    uint64_t created_ns;   /* CLOCK_REALTIME */
    uint64_t updated_ns;   /* the last publication, CLOCK_REALTIME */
    uint64_t interval_ns;
    char program[SC_SHMSTAT_PROGRAM];
    char name[SC_SHMSTAT_NAME];
    bool stale;            /* its process is gone */
    uint32_t nblocks;
    struct sc_shmstat_rblock *blocks;
    uint64_t loss_total;   /* events ever logged */
    uint32_t nloss;        /* of them still in the ring, oldest first */
    uint64_t repairs_unlogged; /* repair events over the per-second budget: not logged */
    struct sc_shmstat_event *loss;
};

/* Read and check a file. @return 0 and *out (free with sc_shmstat_snap_free),
 * or -EBADMSG (not a seqcast counters file, a version this reader does not
 * know, a field out of bounds), -EAGAIN (the writer held a block for every
 * try), or open/read's errno, with err filled. */
int sc_shmstat_read(const char *path, struct sc_shmstat_snap **out, struct sc_err *err);
void sc_shmstat_snap_free(struct sc_shmstat_snap *snap);

/* The value of counter name in block b; false when it has none. */
bool sc_shmstat_value(const struct sc_shmstat_rblock *b, const char *name, uint64_t *v);

/* Is the process pid, started at start_ticks, still running? (kill(pid, 0),
 * then /proc/PID/stat's start time; another user's process counts as alive.) */
bool sc_shmstat_alive(int pid, uint64_t start_ticks);

/* The counters files of a directory (NULL: as sc_shmstat_params.dir), sorted:
 * paths[i] points into one allocation; free(*paths) frees all.
 * @return the count, or a negative errno (no directory: 0). */
int sc_shmstat_list(const char *dir, char ***paths);

/* Remove the stale files of a directory (those this user may remove).
 * @return how many were removed. */
int sc_shmstat_clean(const char *dir);

/* The directory a writer or reader uses for dir (NULL or "": the env, else
 * the default). */
const char *sc_shmstat_dir(const char *dir);

#endif
