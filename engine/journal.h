/* The order session's journal: every sequenced message, appended before it is
 * sent, so a client can resume from any sequence number across a server restart.
 *
 *   file:   "SCJ1" | record | record | ...
 *   record: length (u32 BE) | CRC-32 of the payload (u32 BE) | payload
 *
 * Opening a journal reads it back and checks every record; a torn tail (a
 * record cut short by a crash, or whose CRC does not match) is cut off and
 * counted. Sequence numbers start at 1 (SoupBinTCP's first sequenced message).
 * An empty path keeps the journal in memory only.
 */
#ifndef SC_ENGINE_JOURNAL_H
#define SC_ENGINE_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include <seqcast/config.h>
#include <seqcast/err.h>

struct sc_journal {
    int fd;               /* -1: memory only */
    enum sc_fsync fsync;
    uint64_t count;       /* messages held: sequences 1..count */
    uint64_t *off;        /* record offsets (file or memory), index seq - 1 */
    uint64_t cap;
    uint64_t end;         /* bytes used */
    uint8_t *mem;         /* memory-only storage */
    uint64_t memcap;
    int dirty;            /* appended since the last sync */
    uint64_t torn_bytes;  /* cut off the tail at open */
    uint64_t syncs;
};

int sc_journal_open(struct sc_journal *j, const char *path, enum sc_fsync fsync,
                    struct sc_err *err);
void sc_journal_close(struct sc_journal *j);

/* Append one message (sequence count + 1). With fsync: message, it is on disk
 * when this returns. @return 0 or a negative errno. */
int sc_journal_append(struct sc_journal *j, const void *msg, uint16_t len);

/* Copy message seq (1..count) into buf. @return its length, or a negative errno. */
int sc_journal_read(const struct sc_journal *j, uint64_t seq, void *buf, size_t cap);

/* fsync: batch -- make everything appended so far durable. */
int sc_journal_sync(struct sc_journal *j);

#endif
