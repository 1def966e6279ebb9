/* The same-host IPC channel (transport: ipc): one writer's log in a shared
 * memory-mapped file, followed by any number of reader processes.
 *
 * Files (DIR = ipc.dir, NAME = the channel's name):
 *
 *   DIR/seqcast.NAME          the log, written by the writer only; readers map
 *                             it read-only (mode ipc.mode, group ipc.group)
 *   DIR/seqcast.NAME.readers  reader slots (ipc.backpressure: block only): the
 *                             one place readers write -- their position, and a
 *                             count of readers asleep; the writer reads it and
 *                             trusts nothing in it but as a bound to wait for
 *
 * The log (all fields little-endian, native: a same-host format):
 *
 *   0     struct sc_ipc_hdr: magic "SCIPCLOG", version, geometry, epoch (the
 *         session: a restarted writer is a new source), hdr_check (FNV-1a of
 *         the fixed fields), then on a line of its own tail (next byte
 *         position written), on the next head (oldest position retained: the
 *         writer raises it a chunk of log_size / SC_IPC_CHUNKS at a time),
 *         heartbeat (CLOCK_MONOTONIC ns), closed, wake (futex word)
 *   4096  the ring: log_size bytes (a power of two), records 16-byte aligned,
 *         never across the ring's end (a PAD record fills the rest):
 *           u32 len | u32 kind (SC_IPC_DATA / SC_IPC_PAD) | u64 seq | payload
 *
 * Positions are byte counts since the session began (the offset in the ring
 * is pos & (log_size - 1)). The writer raises head before it overwrites old
 * records and publishes tail (release) after a record is whole; a reader
 * copies records out, then reads head again: if head passed where it copied
 * from, the writer lapped it and the copy is thrown away (seqlock discipline;
 * no lock, no system call per message).
 */
#ifndef SC_ENGINE_IPC_H
#define SC_ENGINE_IPC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <seqcast/config.h>
#include <seqcast/pub.h>
#include <seqcast/sub.h>

#define SC_IPC_MAGIC "SCIPCLOG"
#define SC_IPC_SLOTS_MAGIC "SCIPCRDR"
#define SC_IPC_VERSION 3 /* 3: head off tail's cache line */
#define SC_IPC_HDR_SIZE 4096
#define SC_IPC_REC_HDR 16
#define SC_IPC_ALIGN 16
#define SC_IPC_MAX_MSG 65535
#define SC_IPC_MIN_LOG (64u << 10)
#define SC_IPC_NSLOTS 64
#define SC_IPC_CHUNKS 64 /* head moves by about log_size / SC_IPC_CHUNKS */
#define SC_IPC_DATA 0x44435353u /* "SSCD" */
#define SC_IPC_PAD 0x50435353u  /* "SSCP" */
#define SC_IPC_LOSS 0x4c435353u /* "SSCL": a loss upstream (struct sc_ipc_loss), numbered
                                   as the message after it: it takes no number */

struct sc_ipc_hdr {
    char magic[8];
    uint32_t version;
    uint32_t hdr_size;  /* SC_IPC_HDR_SIZE: where the ring starts */
    uint64_t file_size; /* hdr_size + log_size */
    uint64_t log_size;  /* the ring, a power of two >= SC_IPC_MIN_LOG */
    uint32_t max_msg;   /* the largest payload, <= SC_IPC_MAX_MSG */
    uint32_t flags;     /* SC_IPC_F_BLOCK: readers register in the slots file */
    uint64_t epoch;     /* the session: random, never 0 */
    uint64_t created_ns; /* CLOCK_REALTIME, for people */
    uint32_t writer_pid;
    uint32_t reserved;
    char channel[SC_CFG_NAME_MAX];
    uint64_t hdr_check; /* FNV-1a of the bytes above */
    /* the writer's words readers poll. tail, written per record, alone on its
     * line: a reader takes that line once per look. The rest on another,
     * written seldom (head a chunk at a time, the heartbeat at most once a
     * millisecond), so the reader's check of head after each copy, and of
     * heartbeat and closed, hits its own cache instead of taking the line
     * the writer is storing tail into. */
    _Alignas(64) _Atomic uint64_t tail;
    _Alignas(64) _Atomic uint64_t head;
    _Atomic uint64_t heartbeat_ns;
    _Atomic uint32_t closed;
    _Atomic uint32_t wake;
    /* for joiners only, on a line of their own: readers that follow poll the
     * line above, and the writer's stores here do not take it from them */
    _Alignas(64) _Atomic uint64_t next_seq;
    _Atomic uint64_t gen; /* odd while tail and next_seq change: a joiner reads both
                             between two equal even values */
};

#define SC_IPC_F_BLOCK 1u

/* The payload of a SC_IPC_LOSS record: what a bridge's own subscriber could
 * not recover (seqcast-sub --republish), as its SC_EV_LOSS said -- reason
 * and range in the upstream source's numbers. A reader reports it as its own
 * SC_EV_LOSS, where it stands in the log. */
struct sc_ipc_loss {
    uint32_t reason; /* enum sc_loss_reason */
    uint32_t reserved;
    uint64_t first, last, packets;
    char source[24]; /* the upstream source's name (struct sc_source), for tools */
};
#define SC_IPC_LOSS_LEN ((uint32_t)sizeof(struct sc_ipc_loss))

/* Where in the header page the writer pokes (pwrite of the wake count) to
 * wake readers polling an inotify watch of the log: past struct sc_ipc_hdr,
 * read by no one. */
#define SC_IPC_POKE_OFF (SC_IPC_HDR_SIZE - 8)

struct sc_ipc_slot {
    _Atomic uint32_t pid; /* 0 = free. A reader's while it holds an F_OFD_SETLK write lock on
                             this slot's bytes of the file (the writer reaps a slot whose lock
                             no one holds: namespace-safe, unlike the pid, kept for people);
                             where the file system has no such locks, claimed by
                             compare-and-swap and checked by kill(pid, 0) */
    uint32_t pad_;
    _Atomic uint64_t pos;   /* every byte before it is read */
    _Atomic uint64_t epoch; /* the session it follows */
    uint8_t pad2_[40];
};

struct sc_ipc_slots_hdr {
    char magic[8];
    uint32_t version;
    uint32_t nslots;
    uint64_t epoch;
    _Atomic uint32_t waiters; /* readers asleep on the log's wake word */
    _Atomic uint32_t registrations; /* a reader adds 1 once its slot holds its position:
                                       the writer reads the slots again */
    _Atomic uint32_t writer_waits; /* the writer, blocked, sleeps on moved ... */
    _Atomic uint32_t moved;        /* ... which a reader that moved on raises and wakes */
    _Atomic uint32_t pollers; /* readers about to sleep in poll on their inotify fd: the
                                 writer then writes SC_IPC_POKE_OFF (sc_ipcr_fd) */
    uint8_t pad_[20];
};

/* What a header says, once checked. */
struct sc_ipc_info {
    uint64_t log_size, file_size, epoch;
    uint32_t max_msg, flags, writer_pid;
    char channel[SC_CFG_NAME_MAX];
};

/* The header's check: FNV-1a of its fixed fields (up to hdr_check). */
uint64_t sc_ipc_hdr_check(const struct sc_ipc_hdr *h);

/* Check a log's header against the file's real size. @return 0, or -EPROTO
 * (not a log, damaged), -EPROTONOSUPPORT (another version), -EBADF (size:
 * truncated) with why saying which field and what it holds. Reads only the
 * fixed fields (copied out first). */
int sc_ipc_check_header(const void *map, uint64_t file_size, struct sc_ipc_info *out, char *why,
                        size_t why_len);

/* One record of a reader's private copy: @return its whole size (aligned), 0
 * if it needs more than avail bytes (end of a copy), or -EPROTO with why
 * filled. ring_left is what is left of the ring from the record: a PAD must
 * fill it exactly, data must fit in it. */
struct sc_ipc_rec {
    uint32_t len, kind;
    uint64_t seq;
    const uint8_t *payload;
};
long sc_ipc_parse_record(const uint8_t *p, size_t avail, uint64_t ring_left, uint32_t max_msg,
                         struct sc_ipc_rec *rec, char *why, size_t why_len);

/* The path of a channel's log. @return 0 or -ENAMETOOLONG. */
int sc_ipc_path(char *buf, size_t len, const struct sc_channel_cfg *ch, const char *suffix);

/* ------------------------------------------------------------- writer */

struct sc_ipc_writer;

int sc_ipcw_create(struct sc_ipc_writer **out, const struct sc_channel_cfg *ch,
                   struct sc_pub_stats *st, struct sc_err *err);
int sc_ipcw_send(struct sc_ipc_writer *w, const void *msg, size_t len, uint64_t now_ns);
/* A loss upstream, as a SC_IPC_LOSS record between the messages before and
 * after it. @return as sc_ipcw_send. */
int sc_ipcw_loss(struct sc_ipc_writer *w, const struct sc_sub_event *ev, uint64_t now_ns);
int sc_ipcw_do_work(struct sc_ipc_writer *w, uint64_t now_ns);
uint64_t sc_ipcw_deadline(const struct sc_ipc_writer *w, uint64_t now_ns);
int sc_ipcw_wait(struct sc_ipc_writer *w, uint64_t timeout_ns);
void sc_ipcw_close(struct sc_ipc_writer *w, uint64_t now_ns);
size_t sc_ipcw_max_msg(const struct sc_ipc_writer *w);
void sc_ipcw_stats(const struct sc_ipc_writer *w, struct sc_pub_stats *st);
void sc_ipcw_destroy(struct sc_ipc_writer *w);

/* ------------------------------------------------------------- reader */

struct sc_ipc_reader;

/* A reader of ch's log. The log may not exist yet: it is looked for until it
 * does. A log that exists and is refused (permission, damage, version) fails
 * the create with err saying why. */
int sc_ipcr_create(struct sc_ipc_reader **out, const struct sc_channel_cfg *ch,
                   const struct sc_sub_callbacks *cb, struct sc_sub_stats *st,
                   struct sc_err *err);
/* A reader of a log already in memory (tests, fuzzing): map is file_size
 * bytes; nothing is opened, no slot is taken. */
int sc_ipcr_create_mem(struct sc_ipc_reader **out, const struct sc_channel_cfg *ch,
                       const void *map, uint64_t file_size, const struct sc_sub_callbacks *cb,
                       struct sc_sub_stats *st, struct sc_err *err);
int sc_ipcr_do_work(struct sc_ipc_reader *r, uint64_t now_ns);
uint64_t sc_ipcr_deadline(const struct sc_ipc_reader *r, uint64_t now_ns);
int sc_ipcr_wait(struct sc_ipc_reader *r, uint64_t timeout_ns);
/* A descriptor readable when the writer wrote (an inotify watch of the log,
 * which the writer pokes while the reader counts itself among the pollers),
 * -1 if the system gives none. Asking for it makes this a polled reader: from
 * then on an idle do_work counts it among the pollers until the next one. */
int sc_ipcr_fd(struct sc_ipc_reader *r);
/* Why the last log was refused or given up on ("" if none). */
const char *sc_ipcr_error(const struct sc_ipc_reader *r);
void sc_ipcr_destroy(struct sc_ipc_reader *r);

#endif
