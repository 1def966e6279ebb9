/* seqcast archive: records a channel to disk, every message with its 64-bit
 * sequence, and reads it back.
 *
 * An agent (<seqcast/agent.h>) holding a subscriber (<seqcast/sub.h>): each
 * message the subscriber delivers is appended to a store in a directory --
 * segment files of checksummed records, a sparse index rebuilt at open (so
 * nothing but the segments must survive a crash), retention by size and age,
 * and the order journal's fsync policies (docs/ARCHITECTURE.md, "The
 * archive"). What the archive never received is recorded as a gap: a loss
 * event's range, and any jump in sequence (the archive was down, appends
 * were stopped). Between its first and last sequence the archive accounts for
 * every one: a message, a gap, or (found damaged at open) a damaged range.
 *
 * The first source the subscriber reports is the one recorded; messages from
 * others are counted and dropped (msgs_other_source). A message at or below
 * the last sequence held -- a restarted archive whose subscriber starts from
 * message 1 (late_join: first) -- is counted, not written again.
 *
 * A failed append (a full disk: ENOSPC) stops appending: the store is left as
 * it was (nothing half written), sc_archive_error says why, messages are
 * counted in msgs_not_archived, and appends are tried again once a second;
 * when one succeeds, what was missed is recorded as a gap.
 *
 * Re-requests (serve_port set): the archive answers MoldUDP64 re-requests for
 * the session it records, from its store, with engine/rereq_srv.c -- the
 * publisher's server, whose source is here the archive instead of the
 * transmit window. A request starting in a gap of the archive gets no answer
 * (mold_req_not_held); a response stops before a gap. Its counters are the
 * publisher's mold_* ones (sc_archive_get_server_stats).
 *
 * Rewinds (rewind set): a SoupBinTCP 4.0 server (the order server's code:
 * engine/order_server.c, its heartbeats, timeouts, login limits and
 * lockout) whose sequenced messages are the archive's. The Login Request's
 * requested sequence number picks the start: 1 the first message (or the
 * first held), N from N, 0 the next message archived. A session streams from
 * the store up to the last message durable in it (per fsync) and then carries
 * on as the archive appends: the store is the one source, so the seam from
 * history to live has no gap and no duplicate. A session reaching a range the
 * archive lacks (a gap, damage, a segment retention deleted) gets a Debug
 * packet "gap FROM TO REASON" and is closed after it (closed_gap): a client
 * reconnects at TO + 1, or asks another archive for FROM..TO. Each session's
 * output is bounded (1 MiB; output_full) and read from disk as it drains, at
 * most 256 KiB a session per do_work, so a slow reader costs the recording
 * nothing; one whose output takes nothing for the session's timeout is closed
 * (closed_slow). Its counters: sc_archive_get_rewind_stats.
 *
 * Time: do_work's now (monotonic) paces syncs and retention; the age of a
 * segment is its file's modification time, compared with the wall clock read
 * once at create and carried forward by now.
 */
#ifndef SEQCAST_ARCHIVE_H
#define SEQCAST_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include <seqcast/agent.h>
#include <seqcast/config.h>
#include <seqcast/counters.h>
#include <seqcast/err.h>
#include <seqcast/order.h>
#include <seqcast/pub.h>
#include <seqcast/sub.h>

struct sc_archive;

struct sc_archive_params {
    const char *dir;        /* the archive's directory (created; its parent must exist) */
    uint64_t segment_bytes; /* start a new segment file past this size (0: 64 MiB) */
    uint64_t index_bytes;   /* one index entry per this many bytes of records (0: 4 KiB) */
    uint64_t retain_bytes;  /* delete whole oldest segments past this total (0: keep all) */
    uint64_t retain_age_s;  /* ... or once last written this long ago (0: keep all) */
    enum sc_fsync fsync;    /* batch: once per do_work that appended */
    uint64_t fsync_interval_ns; /* batch: a sync starts at most this often (0: one after
                                   another, as soon as the last is done) */
    /* MoldUDP64 channels: answer re-requests (the channel's request and
     * response format, mold.request_allow, mold.request_max,
     * mold.response_bytes, rtx.budget and rtx.rate: the publisher's server and
     * defences) for anything archived, on this unicast UDP address (network
     * order; serve_port 0: no server) */
    uint32_t serve_addr;
    uint16_t serve_port;
    /* rewinds over SoupBinTCP on this endpoint ("tcp:HOST:PORT", "unix:/path";
     * NULL: none), with rewind_session's users, heartbeat, timeout and
     * connection limits (its listen is ignored; no users: any login) */
    const char *rewind;
    const struct sc_session_cfg *rewind_session; /* needed with rewind */
    /* may be NULL: every event of its subscriber (sources, losses, NAKs
     * unanswered, and repairs: SC_EV_REPAIR), after the archive's own handling
     * -- a loss log (sc_shmstat_log_sub) */
    sc_sub_event_fn *on_sub_event;
    void *sub_event_ctx;
};

struct sc_archive_stats {
    SC_ARCHIVE_COUNTERS(SC_COUNTER_FIELD)
};

/* Open (and recover) the store, and subscribe to channel of cfg (NULL: the
 * first). @return 0 or a negative errno with err filled. Damage found at open
 * does not stop it: see sc_archive_damage. */
int sc_archive_create(struct sc_archive **out, const struct sc_config *cfg, const char *channel,
                      const struct sc_archive_params *p, struct sc_err *err);
int sc_archive_do_work(struct sc_archive *a, uint64_t now_ns);
uint64_t sc_archive_deadline(const struct sc_archive *a, uint64_t now_ns);
int sc_archive_wait(struct sc_archive *a, uint64_t timeout_ns);
int sc_archive_fd(const struct sc_archive *a);
struct sc_agent sc_archive_agent(struct sc_archive *a);
void sc_archive_get_stats(const struct sc_archive *a, struct sc_archive_stats *st);
/* The re-request server's counters: the mold_* members and rx_bad of a
 * publisher's stats (all zero without a server). */
void sc_archive_get_server_stats(const struct sc_archive *a, struct sc_pub_stats *st);
/* The rewind server's counters (all zero without one). */
void sc_archive_get_rewind_stats(const struct sc_archive *a, struct sc_osrv_stats *st);
/* Its subscriber (stats, configuration). */
struct sc_sub *sc_archive_sub(struct sc_archive *a);
/* 0 while appending; else the negative errno that stopped appends. */
int sc_archive_error(const struct sc_archive *a);
/* The first damage found at open, described (file, byte offset, sequences), or NULL. */
const char *sc_archive_damage(const struct sc_archive *a);
/* Sync, close the store, unsubscribe, free. */
void sc_archive_destroy(struct sc_archive *a);

/* Reading an archive that no process is writing (open takes the same lock
 * and recovers it as the archive would: a torn tail is cut). */
struct sc_archive_reader;
int sc_archive_reader_open(struct sc_archive_reader **out, const char *dir, struct sc_err *err);
/* The sequences held (first > last: none). */
void sc_archive_reader_range(const struct sc_archive_reader *r, uint64_t *first, uint64_t *last);
/* Sequence seq into buf. @return its length (*from = *to = seq); -ENODATA: a
 * gap, -EBADMSG: damaged (*from .. *to: the range); -ERANGE: not held;
 * -ENOSPC: cap too small; -EIO. */
int sc_archive_read(struct sc_archive_reader *r, uint64_t seq, void *buf, size_t cap,
                    uint64_t *from, uint64_t *to);
const char *sc_archive_reader_damage(const struct sc_archive_reader *r);
void sc_archive_reader_stats(const struct sc_archive_reader *r, struct sc_archive_stats *st);
void sc_archive_reader_close(struct sc_archive_reader *r);

#endif
