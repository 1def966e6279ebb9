/* The order session's journal: every sequenced message, appended and made
 * durable (per the fsync policy) before it is sent, so a client can resume
 * from any sequence number across a server restart.
 *
 *   file:       "SCJ" version | record | record | ...   version: the ASCII digit '2' (or '1')
 *   v2 record:  length u32 BE | sequence u64 BE | CRC-32 u32 BE | payload
 *               the CRC covers length, sequence and payload: a damaged header,
 *               a record out of place and zero-filled blocks all fail it
 *   v1 record:  length u32 BE | CRC-32 of the payload u32 BE | payload
 *
 * The record codec is engine/record.h (shared with the archive).
 * New journals are version 2. A version 1 file keeps its format: it is read,
 * checked (without the sequence check) and appended to in v1 records.
 *
 *   sequence:  1 ............. durable ............. count
 *              | durable: may be sent | written, not synced |
 *
 * durable: fsync none -- a record once written; message -- once its own
 * fdatasync returned; batch -- once sc_journal_sync's fdatasync returned.
 * Only durable records may be sent. A failed write, or a failed fdatasync, is
 * rolled back: the records concerned are no longer counted and the file is cut
 * back to the end of the last good one (for a sync, the durable end), so nothing
 * half written stays for a later append or a restart to misread. Should the
 * cut itself fail, the next append tries it again first and fails until it
 * works.
 *
 * Recovery at open: a bad record with nothing valid after it (cut short by a
 * crash, a final record whose CRC fails, zero-filled blocks to the end) is a
 * torn tail: cut and counted. A bad record followed by any valid record is
 * damage: open fails with -EUCLEAN and a message naming the file, the byte
 * offset and the record number; sc_journal_repair salvages the records before
 * it after copying the file aside. Nothing is ever cut silently.
 *
 * The newest bytes of the file are kept in memory as well (a bounded tail), so
 * sending a recent record costs no pread; older ones are read from the file,
 * their CRC checked. An empty path keeps the whole journal in memory only
 * (every record durable at once). One process at a time: open takes an
 * exclusive flock.
 */
#ifndef SC_ENGINE_JOURNAL_H
#define SC_ENGINE_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <seqcast/config.h>
#include <seqcast/err.h>
#include <seqcast/order.h> /* struct sc_journal_repair */

struct sc_journal {
    int fd;               /* -1: memory only */
    enum sc_fsync fsync;
    int version;          /* 1 or 2 */
    uint64_t count;       /* records held: sequences 1..count */
    uint64_t durable;     /* 1..durable are durable (<= count) */
    uint64_t *off;        /* record offsets in the file, index seq - 1 */
    uint64_t cap;
    uint64_t end;         /* file bytes used: where record count + 1 goes */
    uint64_t durable_end; /* the end of record durable */
    uint8_t *mem;         /* file bytes [base, end); memory only: the whole journal */
    uint64_t base, memcap;
    bool dirty;           /* written since the last successful fdatasync (batch) */
    bool cut_pending;     /* the file may hold bytes past end: cut before appending */
    uint64_t torn_bytes;  /* cut off the tail at open */
    uint64_t syncs, write_errors, sync_errors, rolled_back, read_errors;
    /* the system calls that can fail under a full or failing disk, replaceable
     * by tests to inject errors (set after open) */
    ssize_t (*sys_pwrite)(int fd, const void *buf, size_t n, off_t off);
    int (*sys_fdatasync)(int fd);
    int (*sys_ftruncate)(int fd, off_t len);
};

/* Open (creating a v2 file if there is none) and recover. @return 0, or a
 * negative errno with err filled: -EUCLEAN for damage before the end (see
 * above), -EWOULDBLOCK when another process holds it, -EINVAL when the file
 * is not a journal. */
int sc_journal_open(struct sc_journal *j, const char *path, enum sc_fsync fsync,
                    struct sc_err *err);
/* Sync what is not durable yet (rolled back if that fails), close, free. */
void sc_journal_close(struct sc_journal *j);

/* Append one message as sequence count + 1; with fsync: message it is durable
 * when this returns. @return 0, or a negative errno (-ENOSPC, -EIO, ...,
 * -ENOMEM): then nothing was appended and the file is as it was before. */
int sc_journal_append(struct sc_journal *j, const void *msg, uint16_t len);

/* Message seq (1..count): a pointer into the in-memory tail when it is there,
 * else read into buf (cap bytes) with its CRC checked.
 * @return its length (*msg set), -ERANGE, -ENOSPC (cap too small), -EIO or
 * -EBADMSG (the record on disk no longer matches its CRC). */
int sc_journal_get(struct sc_journal *j, uint64_t seq, void *buf, size_t cap, const void **msg);
/* The same, always copied into buf. */
int sc_journal_read(struct sc_journal *j, uint64_t seq, void *buf, size_t cap);

/* fsync: batch -- make everything appended so far durable. @return 0 (durable
 * == count), or the fdatasync's negative errno: then records durable + 1 ..
 * count (as they were before the call) are rolled back (count = durable) and
 * counted in rolled_back. The dirty state is kept until a sync succeeds. */
int sc_journal_sync(struct sc_journal *j);

/* Salvage a damaged journal: copy it aside to PATH.damaged-STAMP (fsynced,
 * never overwriting), then cut the original after the last good record before
 * the damage. A journal without damage is left alone (r->damaged false).
 * @return 0 or a negative errno with err filled. */
int sc_journal_repair(const char *path, time_t stamp, struct sc_journal_repair *r,
                      struct sc_err *err);

#endif
