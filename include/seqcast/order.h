/* seqcast order sessions: SoupBinTCP 4.0 over TCP or a Unix socket.
 *
 * Server (an order gateway): accepts clients, checks their login against the
 * session's users, journals every sequenced message and sends it only once the
 * journal holds it durably (per `fsync`), replays from any sequence number a
 * client asks for (across a server restart), sends a heartbeat after
 * `heartbeat` without output and ends a connection after `timeout` without
 * input. Connections not logged in yet are a table of their own
 * (`max_pending`, the oldest closed for a new one when full) with a deadline
 * from the accept (`login_timeout`); logged-in ones are capped apart
 * (`max_connections`); an address with `lockout.failures` failed logins is
 * locked out (`lockout.*`). Every limit has a counter in sc_osrv_stats.
 * Client: connects, logs in, delivers sequenced messages with their sequence
 * numbers, reconnects with back-off and resumes from its next expected
 * sequence.
 *
 * Both are agents (do_work(now) + a pollable fd, no threads). Output is queued
 * during a do_work and written once at its end (one system call per burst,
 * TCP_NODELAY always).
 */
#ifndef SEQCAST_ORDER_H
#define SEQCAST_ORDER_H

#include <stddef.h>
#include <stdint.h>

#include <seqcast/config.h>
#include <seqcast/err.h>

/* ---------------------------------------------------------------- server */

struct sc_osrv;

/* An unsequenced message (an order) from a logged-in client; conn identifies
 * the connection for this call only, user is its login name. */
typedef void sc_osrv_msg_fn(void *ctx, uint32_t conn, const char *user, const void *msg,
                            size_t len);

/* Sequenced messages first..last were journaled (sc_osrv_send returned their
 * numbers) but the journal's fdatasync failed (err, e.g. -EIO) before they
 * were durable: they are rolled back -- never sent, no longer in the journal,
 * and their numbers go to the next messages sent. The application forgets
 * them (an order gateway: those orders are not acknowledged). Runs in
 * sc_osrv_do_work. */
typedef void sc_osrv_lost_fn(void *ctx, uint64_t first, uint64_t last, int err);

struct sc_osrv_stats {
    uint64_t accepted, logins, login_rejected_auth, login_rejected_session;
    uint64_t closed_timeout, closed_logout, closed_protocol, closed_peer;
    uint64_t rx_msgs, tx_sequenced, tx_heartbeats, replayed;
    uint64_t rx_bad[13];    /* protocol errors by class (-enum sc_perr) */
    uint64_t journal_msgs, journal_torn_bytes, journal_syncs;
    uint64_t connections;   /* open now, logged in or not */
    uint64_t pending;       /* open now, not logged in yet */
    /* limits (config key in brackets) */
    uint64_t closed_login_timeout; /* no login within login_timeout of the accept [login_timeout] */
    uint64_t pending_evicted;      /* oldest not-logged-in connection closed for a new one [max_pending] */
    uint64_t refused_full;         /* a good login closed: max_connections logged in already */
    uint64_t login_locked_out;     /* connections closed unheard: their address is locked out */
    uint64_t lockouts;             /* addresses locked out [lockout.failures, .window, .duration] */
    uint64_t lockout_table_full;   /* failures counted in the shared entry [lockout.addresses] */
    uint64_t login_seq_ahead;      /* logins asking for more than the journal holds */
    uint64_t accept_errors, epoll_errors;
    /* the journal: a failed write appends nothing, a failed sync rolls back what
     * was not durable (sc_osrv_lost_fn); neither is ever sent */
    uint64_t journal_durable;      /* messages durable (and so sendable) */
    uint64_t journal_write_errors, journal_sync_errors, journal_rolled_back;
    uint64_t journal_read_errors;  /* a record read back from disk failed its CRC (or the read) */
    uint64_t closed_journal;       /* connections closed for that: they cannot catch up */
};

/* On failure err says why: a bad config, a journal that cannot be opened or is
 * damaged before its end (-EUCLEAN: the file, byte offset and record are
 * named), the listen address, memory, file descriptors. */
int sc_osrv_create(struct sc_osrv **out, const struct sc_config *cfg, const char *session,
                   sc_osrv_msg_fn *on_msg, void *ctx, struct sc_err *err);

/* Called (with create's ctx) when a failed journal sync rolls messages back. */
void sc_osrv_on_lost(struct sc_osrv *s, sc_osrv_lost_fn *on_lost);

/* Journal one sequenced message; it goes to every logged-in client once it is
 * durable (fsync none: written; message: synced here; batch: synced in the
 * next sc_osrv_do_work, between reading and sending -- or rolled back, see
 * sc_osrv_lost_fn).
 * @return its sequence number (>= 1), or a negative errno (-ENOSPC, -EIO, ...:
 * the journal did not take it; nothing was appended and nothing will be sent;
 * counted in journal_write_errors / journal_sync_errors). */
int64_t sc_osrv_send(struct sc_osrv *s, const void *msg, size_t len, uint64_t now_ns);

/* Messages 1..sc_osrv_durable() are durable: sent, or on their way. */
uint64_t sc_osrv_durable(const struct sc_osrv *s);

/* Copy journaled message seq (1..journal_msgs) into buf: how an application
 * rebuilds its state from the journal after a restart.
 * @return its length, or -ERANGE, -ENOSPC (cap), -EIO, -EBADMSG (damaged on disk). */
int sc_osrv_read(struct sc_osrv *s, uint64_t seq, void *buf, size_t cap);

/* End of Session to every client, after the messages journaled so far
 * (then they disconnect). */
void sc_osrv_end_session(struct sc_osrv *s, uint64_t now_ns);

/* Accept, read (the message callback runs here), journal, and write what is
 * queued -- sc_osrv_send's messages included -- with heartbeats and timeouts.
 * Wait between calls, at most 10 ms or so (timers): in sc_osrv_wait, or in
 * your own poll/epoll on sc_osrv_fd (input) when it serves more than this.
 * @return > 0 if more output is ready at once (a replay that fills the
 * socket's buffer in steps): call again before waiting; 0 otherwise. */
int sc_osrv_do_work(struct sc_osrv *s, uint64_t now_ns);

/* Sleep until input arrives or timeout_ms passes, in the one system call that
 * also says which sockets have it (the next sc_osrv_do_work uses that answer
 * instead of asking again): a round trip costs a system call less than
 * poll(sc_osrv_fd) + do_work. @return > 0 if input is waiting, 0 otherwise
 * (the timeout, or a signal). */
int sc_osrv_wait(struct sc_osrv *s, int timeout_ms);
int sc_osrv_fd(const struct sc_osrv *s);
void sc_osrv_get_stats(const struct sc_osrv *s, struct sc_osrv_stats *st);
void sc_osrv_destroy(struct sc_osrv *s);

/* ---------------------------------------------------------------- client */

struct sc_ocli;

enum sc_ocli_event {
    SC_OCLI_LOGGED_IN = 1,  /* arg: the sequence the stream starts at (Login Accepted's) */
    SC_OCLI_REJECTED,       /* arg: 'A' not authorized, 'S' no such session (no retry) */
    SC_OCLI_DISCONNECTED,   /* arg: 0 peer closed, 1 timeout, 2 protocol error; retrying */
    SC_OCLI_END_OF_SESSION, /* the server ended the session (no retry) */
    SC_OCLI_GAP,            /* the server started after what we asked for: arg = first missing */
    SC_OCLI_REWOUND,        /* the server no longer has messages we received from it (its
                             * journal was repaired or replaced): arg = the sequence it resumes
                             * at; the numbers from there are given to other messages */
};

typedef void sc_ocli_msg_fn(void *ctx, uint64_t seq, const void *msg, size_t len);
typedef void sc_ocli_event_fn(void *ctx, enum sc_ocli_event ev, uint64_t arg);

struct sc_ocli_stats {
    uint64_t connects, logins, reconnects, timeouts, rx_sequenced, tx_unsequenced;
    uint64_t tx_heartbeats, rx_heartbeats, rx_bad[13];
    uint64_t next_seq; /* the next sequenced message expected */
};

/* first_seq: the sequence to resume from (1 = from the start, 0 = only new). */
int sc_ocli_create(struct sc_ocli **out, const struct sc_config *cfg, const char *session,
                   uint64_t first_seq, sc_ocli_msg_fn *on_msg, sc_ocli_event_fn *on_event,
                   void *ctx, struct sc_err *err);

/* Queue an unsequenced message (an order). @return 0, or -ENOTCONN when not
 * logged in (the caller keeps it and sends again after SC_OCLI_LOGGED_IN). */
int sc_ocli_send(struct sc_ocli *c, const void *msg, size_t len, uint64_t now_ns);

/* Logout request, then close; no reconnect. */
void sc_ocli_logout(struct sc_ocli *c, uint64_t now_ns);

/* Read what the server sent (callbacks run here), heartbeat, time out,
 * reconnect, and write what is queued. @return > 0 if it did anything. */
int sc_ocli_do_work(struct sc_ocli *c, uint64_t now_ns);

/* Write what sc_ocli_send queued, now, without reading: the order goes out in
 * one system call (sc_ocli_do_work would read the socket first). Output the
 * kernel cannot take yet stays queued for the next flush or do_work.
 * @return 1 if it wrote (or the write failed: the connection is dropped and
 * SC_OCLI_DISCONNECTED reported), 0 if there was nothing to write. */
int sc_ocli_flush(struct sc_ocli *c, uint64_t now_ns);
int sc_ocli_fd(const struct sc_ocli *c); /* -1 while disconnected: poll with a timeout */

/* Sleep until the server's next bytes arrive or timeout_ns passes, reading
 * them in that same system call (the next sc_ocli_do_work parses them): a
 * round trip costs a system call less than poll(sc_ocli_fd) + do_work. The
 * socket turns blocking for it (every other read and write stays
 * non-blocking); the timeout is rounded up to whole milliseconds (the kernel
 * counts it in scheduler ticks): for heartbeats, not microsecond timers.
 * @return 1 if bytes (or the peer's close) wait for do_work, 0 at the
 * timeout or a signal, -1 while not connected: sleep some other way. */
int sc_ocli_wait(struct sc_ocli *c, uint64_t timeout_ns);
int sc_ocli_logged_in(const struct sc_ocli *c);
void sc_ocli_get_stats(const struct sc_ocli *c, struct sc_ocli_stats *st);
void sc_ocli_destroy(struct sc_ocli *c);

#endif
