/* The archive's store: a segmented, append-only log of sequenced messages.
 *
 *   DIR/00000000000000000001.seg, ...0002.seg, ...   (ids increase; the last is written)
 *   segment:  "SCA1" | record | record | ...   records: engine/record.h, v2
 *
 * Sequences increase along the log. Between the first and the last sequence
 * every one is accounted for: a message (a data record), part of a gap (a gap
 * record, SC_REC_GAP: messages the archive never received, or lost when a
 * write failed) or part of a damaged range (bytes on disk that no longer pass
 * their CRC). Reads tell the three apart; a gap or damage is never served as
 * data.
 *
 * The sparse index (sequence -> segment, offset: the first record of each
 * segment, of each stretch after damage, and one record every index_bytes) is
 * kept in memory only and rebuilt at open by scanning the segments: nothing
 * but the segment files must survive a crash.
 *
 * Recovery at open: a bad record at the end of the last segment with nothing
 * valid after it is a torn tail -- cut and counted (torn_bytes). A bad record
 * followed by valid ones, a segment cut short before the next one starts, or
 * a segment that is not one: damage -- the store opens, the sequences between
 * the last good record and the next are a damaged range (reads answer
 * -EBADMSG), counted, and the first one described in damage_msg (file, byte
 * offset, sequences). Damaged files are never written to or cut.
 *
 * Durability as the order journal's (enum sc_fsync): none -- left to the
 * kernel; message -- fdatasync after every append; batch -- sc_astore_sync.
 * A segment is synced (unless none) before the next is started, and the
 * directory after a file is made. A failed write (-ENOSPC when the disk is
 * full) or sync is rolled back: the segment is cut back to the end of the last
 * good (durable, for a sync) record and the store is as it was; should the cut
 * fail, the next append tries it again first. The messages given up are not
 * held: a later append records them as a gap.
 *
 * Retention (sc_astore_retain): whole oldest segments are deleted while the
 * store is larger than retain_bytes or the oldest segment was last written
 * more than retain_age_s ago. The segment being written is never deleted.
 *
 * One process at a time: open takes an exclusive flock on the directory.
 */
#ifndef SC_ENGINE_ARCHIVE_STORE_H
#define SC_ENGINE_ARCHIVE_STORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <seqcast/config.h>
#include <seqcast/err.h>

struct sc_astore_cfg {
    uint64_t segment_bytes; /* start a new segment past this size (0: 64 MiB) */
    uint64_t index_bytes;   /* an index entry every this many bytes (0: 4 KiB) */
    uint64_t retain_bytes;  /* 0: no size limit */
    uint64_t retain_age_s;  /* 0: no age limit */
    enum sc_fsync fsync;
    /* fsync none or batch: records gather in memory and reach the file in one
     * pwrite per this many bytes (and at every sync, read, roll and close); 0:
     * a pwrite per append. A failed flush rolls back everything gathered since
     * the last one (rolled_back), as a failed sync does. fsync message: 0. */
    uint32_t write_buffer;
};

struct sc_astore_seg {
    uint64_t id;
    int fd;
    uint64_t size;  /* bytes used */
    uint64_t first; /* sequences it covers; first > last: none */
    uint64_t last;
    bool damaged;   /* never written to */
};

struct sc_astore_ix {
    uint64_t seq; /* the first sequence of the record at off */
    uint64_t seg; /* segment id */
    uint64_t off;
};

struct sc_astore_range {
    uint64_t from, to;
};

/* A reading position: where the sequence after its last read is, and a block
 * of the segment read around it. Each reader keeps its own (a rewind session,
 * the re-request server, a dump), so readers that take turns cost no search:
 * reading forward is one pread a block (SC_ASTORE_BLOCK bytes, many records),
 * not two a record. A cursor is only good with the store it was used on;
 * whatever cuts or deletes segment bytes (a rolled back sync, retention)
 * makes every cursor search again (gen). Zeroed: at no position. */
#define SC_ASTORE_BLOCK (256u << 10)
struct sc_astore_cursor {
    uint64_t seq, seg, off;   /* seq 0: none */
    uint64_t pseq, poff;      /* the last message read, at (seg, poff): read again
                               * (a reader whose output was full) costs no search */
    uint64_t gen;             /* the store's gen when it was last used */
    uint64_t bseg, boff;      /* the block: segment id, file offset, */
    size_t blen;              /* bytes held (0: none) */
    uint8_t *blk;             /* SC_ASTORE_BLOCK bytes, allocated on first use */
};

struct sc_astore_stats {
    uint64_t appended, append_bytes;  /* data records written */
    uint64_t gaps, gap_seqs;          /* gap records written, sequences they cover */
    uint64_t duplicates;              /* appends refused: at or below the last sequence */
    uint64_t syncs, write_errors, disk_full, sync_errors, rolled_back;
    uint64_t segments_made, segments_deleted;
    uint64_t torn_bytes, damaged_ranges, damaged_seqs; /* found at open */
    uint64_t read_errors;             /* records that failed their CRC when read */
};

/* fsync batch off the appending thread (sc_astore_sync_start): one
 * fdatasync at a time, of the segment being written up to a point. */
struct sc_astore_syncer {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool busy, done, stop; /* busy: one asked, not collected; done: its rc is set */
    int fd, rc;
    uint64_t seg, end, last, nix; /* what it makes durable */
};

struct sc_astore {
    char dir[200];
    int dirfd;
    struct sc_astore_cfg cfg;
    struct sc_astore_seg *seg; /* oldest first; the last is written */
    size_t nseg, segcap;
    struct sc_astore_ix *ix;
    size_t nix, ixcap;
    struct sc_astore_range *dmg;
    size_t ndmg, dmgcap;
    uint64_t first, last;    /* sequences held; empty: last == 0 */
    uint64_t bytes;          /* all segments */
    uint64_t since_ix;       /* bytes appended since the last index entry */
    uint64_t durable_end;    /* the written segment's durable bytes, and */
    uint64_t durable_last;   /* ... the last sequence they cover */
    uint64_t durable_nix;    /* ... and index entries */
    bool dirty, cut_pending;
    struct sc_astore_cursor cur; /* sc_astore_read's */
    uint64_t gen;            /* bumped whenever bytes cursors may hold are cut or deleted */
    struct sc_astore_stats st;
    char damage_msg[400];    /* the first damage found at open, or "" */
    uint8_t *wbuf;           /* a gap record and a data record, encoded */
    uint8_t *pend;           /* records gathered, not written yet (cfg.write_buffer) */
    size_t npend;
    uint64_t pend_off;       /* where pend[0] goes in the segment being written */
    uint64_t written_last, written_nix; /* last and nix when pend was empty */
    struct sc_astore_syncer *syncer; /* made by the first sc_astore_sync_start */
    /* replaceable by tests to inject errors */
    ssize_t (*sys_pwrite)(int fd, const void *buf, size_t n, off_t off);
    ssize_t (*sys_pread)(int fd, void *buf, size_t n, off_t off); /* cursors' reads */
    int (*sys_fdatasync)(int fd);
    int (*sys_ftruncate)(int fd, off_t len);
};

/* What a read found */
struct sc_astore_rec {
    uint64_t from, to; /* a message: from == to == seq; a gap or damage: its range */
};

/* Open DIR (created if missing; its parent must exist) and recover.
 * @return 0, or a negative errno with err filled (-EWOULDBLOCK: in use). */
int sc_astore_open(struct sc_astore *s, const char *dir, const struct sc_astore_cfg *cfg,
                   struct sc_err *err);
/* Sync what is not durable yet, close, free. */
void sc_astore_close(struct sc_astore *s);

/* Append message seq. A seq above last + 1 records last + 1 .. seq - 1 as a
 * gap first (in the same write). @return 0, -EEXIST (seq <= last: nothing
 * written, counted in duplicates), -EINVAL (seq 0), or a negative errno from
 * the disk (-ENOSPC, -EIO...): nothing appended, the store as before. */
int sc_astore_append(struct sc_astore *s, uint64_t seq, const void *msg, uint16_t len);
/* Record from .. to as a gap (the part above last; the store empty: from on).
 * @return 0 or as for append. */
int sc_astore_gap(struct sc_astore *s, uint64_t from, uint64_t to);
/* fsync batch: make everything durable. @return 0 or the negative errno of a
 * failed fdatasync: what was not durable is rolled back (rolled_back). */
int sc_astore_sync(struct sc_astore *s);
/* fsync batch without waiting: write what is gathered and have a thread of
 * the store's fdatasync the segment up to here; one at a time (while one runs
 * this only writes). sc_astore_sync_poll collects it: durable_last moves on,
 * or a failure rolls back as sc_astore_sync's does (the same -errno); a roll
 * and sc_astore_sync wait for it first. fsync none: a flush. @return 0 or a
 * negative errno (the flush's, or one collected). */
int sc_astore_sync_start(struct sc_astore *s);
int sc_astore_sync_poll(struct sc_astore *s);
/* A sync started and not collected yet. */
bool sc_astore_syncing(const struct sc_astore *s);
/* Write the records gathered in memory (cfg.write_buffer). @return 0 or the
 * negative errno of the failed write: what was gathered is rolled back
 * (rolled_back) and the next append records it as a gap. Reads, syncs, rolls
 * and close flush first. */
int sc_astore_flush(struct sc_astore *s);
/* Delete whole oldest segments per the retention limits, now: wall-clock
 * seconds. @return segments deleted, or a negative errno. */
int sc_astore_retain(struct sc_astore *s, time_t now);

/* Sequence seq: its payload into buf (cap bytes). @return its length (r->from
 * == r->to == seq); -ENODATA: a gap, -EBADMSG: damaged (r: the range, or the
 * record that failed its CRC now); -ERANGE: outside first .. last; -ENOSPC:
 * cap too small; -EIO. Reading forward from the last read costs no search. */
int sc_astore_read(struct sc_astore *s, uint64_t seq, void *buf, size_t cap,
                   struct sc_astore_rec *r);

/* As sc_astore_read, through cursor c (its own block and position); on
 * success *msg points at the payload inside c's block, good until c is used
 * again. @return as sc_astore_read (never -ENOSPC), -ENOMEM. */
int sc_astore_read_at(struct sc_astore *s, struct sc_astore_cursor *c, uint64_t seq,
                      const void **msg, struct sc_astore_rec *r);
/* Free c's block. */
void sc_astore_cursor_free(struct sc_astore_cursor *c);

#endif
