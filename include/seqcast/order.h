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
 * Both are agents (<seqcast/agent.h>: do_work, deadline, wait, fd; no threads,
 * time a parameter), alone or beside others on one runner:
 *
 *   sc_runner_add(r, sc_osrv_agent(srv));
 *   sc_runner_add(r, sc_ocli_agent(cli));
 *   while (!done)
 *       sc_runner_run_once(r, 100000000);
 *
 * Output is queued during a do_work and written once at its end (one system
 * call per burst, TCP_NODELAY always).
 */
#ifndef SEQCAST_ORDER_H
#define SEQCAST_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <seqcast/agent.h>
#include <seqcast/config.h>
#include <seqcast/counters.h>
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

/* Every counter is in SC_OSRV_COUNTERS (<seqcast/counters.h>), with what it
 * means and the config key of the limit it belongs to; docs/COUNTERS.md
 * lists them. */
struct sc_osrv_stats {
    SC_OSRV_COUNTERS(SC_COUNTER_FIELD)
    uint64_t rx_bad[SC_PERR_COUNT + 1]; /* closed, by codec class: -enum sc_perr */
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
 * @return the work done: connections accepted, read and written, timers acted
 * on (0 = idle). */
int sc_osrv_do_work(struct sc_osrv *s, uint64_t now_ns);

/* The latest time sc_osrv_do_work must run again: <= now_ns while a replay
 * larger than the socket's buffer has more output ready (the fd wakes no one
 * for that: it is readable on input only), or when sc_osrv_send or
 * sc_osrv_end_session was called since the last do_work; else the earliest
 * timer -- a heartbeat due, a session's timeout, a login deadline, output or a
 * journal sync to try again; UINT64_MAX if none (no connection). A lockout's
 * end needs no call: the address's next connection is input. */
uint64_t sc_osrv_deadline(const struct sc_osrv *s, uint64_t now_ns);

/* Sleep until input arrives or timeout_ns passes, in the one system call that
 * also says which sockets have it (the next sc_osrv_do_work uses that answer
 * instead of asking again): a round trip costs a system call less than
 * poll(sc_osrv_fd) + do_work. Nanoseconds (epoll_pwait2; whole milliseconds,
 * rounded up, on kernels before 5.11). @return 1 if input is waiting, 0
 * otherwise (the timeout, or a signal); never -1. */
int sc_osrv_wait(struct sc_osrv *s, uint64_t timeout_ns);
/* Readable when input arrives (an epoll fd): for your own poll or epoll. */
int sc_osrv_fd(const struct sc_osrv *s);
/* The server as an agent, for a runner (<seqcast/agent.h>). */
struct sc_agent sc_osrv_agent(struct sc_osrv *s);
void sc_osrv_get_stats(const struct sc_osrv *s, struct sc_osrv_stats *st);
void sc_osrv_destroy(struct sc_osrv *s);

/* What sc_osrv_repair did to a journal. */
struct sc_journal_repair {
    bool damaged;             /* false: nothing to salvage (a torn tail is create's to cut) */
    uint64_t kept;            /* records 1..kept remain */
    uint64_t dropped_bytes;   /* cut from the file */
    uint64_t dropped_records; /* valid records found among those bytes (after the damage) */
    char aside[SC_CFG_PATH_MAX + 32]; /* the untouched copy: JOURNAL.damaged-STAMP */
};

/* Salvage a session's journal that sc_osrv_create refuses as damaged before
 * its end (-EUCLEAN): copy it aside to JOURNAL.damaged-STAMP (stamp: Unix
 * seconds; fsynced, never overwriting), then cut the original after the last
 * good record before the damage. A journal without damage is left alone
 * (r->damaged false). The records after the damage are lost to the server
 * (the copy keeps them): their sequence numbers go to new messages. Not while
 * a server has it open (the journal's lock says so).
 * @return 0, or a negative errno with err filled (-EINVAL: the journal is in
 * memory only). */
int sc_osrv_repair(const struct sc_session_cfg *session, time_t stamp,
                   struct sc_journal_repair *r, struct sc_err *err);

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

/* Every counter is in SC_OCLI_COUNTERS (<seqcast/counters.h>). */
struct sc_ocli_stats {
    SC_OCLI_COUNTERS(SC_COUNTER_FIELD)
    uint64_t rx_bad[SC_PERR_COUNT + 1]; /* dropped, by codec class: -enum sc_perr */
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
 * reconnect, and write what is queued. @return the work done: connection
 * steps, packets read, writes (0 = idle). */
int sc_ocli_do_work(struct sc_ocli *c, uint64_t now_ns);

/* Write what sc_ocli_send queued, now, without reading: the order goes out in
 * one system call (sc_ocli_do_work would read the socket first). Output the
 * kernel cannot take yet stays queued for the next flush or do_work.
 * @return 1 if it wrote (or the write failed: the connection is dropped and
 * SC_OCLI_DISCONNECTED reported), 0 if there was nothing to write. */
int sc_ocli_flush(struct sc_ocli *c, uint64_t now_ns);

/* The latest time sc_ocli_do_work must run again: <= now_ns when a wait read
 * bytes or sc_ocli_send queued output since the last write; else the earliest
 * of the reconnect back-off, the connect's or the session's timeout, the next
 * heartbeat, a write to try again; UINT64_MAX once done (rejected, ended,
 * logged out). */
uint64_t sc_ocli_deadline(const struct sc_ocli *c, uint64_t now_ns);

/* Sleep until the server's next bytes arrive or timeout_ns passes. Logged in
 * (or logging in), a wait of 10 ms or more reads them in that same system
 * call (the next sc_ocli_do_work parses them): a round trip costs a system
 * call less than poll + do_work. The socket turns blocking for it (every
 * other read and write stays non-blocking) and the kernel times it in
 * scheduler ticks (rounded up to whole milliseconds, woken up to a tick
 * late); a shorter wait is a ppoll, to the microsecond. Connecting, it wakes
 * when the connect completes; between connections nothing can arrive: it
 * sleeps timeout_ns. @return 1 if bytes (or the peer's close, or the
 * connect's end) wait for do_work, 0 at the timeout or a signal; never -1. */
int sc_ocli_wait(struct sc_ocli *c, uint64_t timeout_ns);

/* Readable when the server's bytes arrive, or while connecting when the
 * connect completes (an epoll fd holding the connection's socket, valid from
 * create to destroy: between connections it never becomes readable). */
int sc_ocli_fd(const struct sc_ocli *c);
bool sc_ocli_logged_in(const struct sc_ocli *c);
/* The client as an agent, for a runner (<seqcast/agent.h>). */
struct sc_agent sc_ocli_agent(struct sc_ocli *c);
void sc_ocli_get_stats(const struct sc_ocli *c, struct sc_ocli_stats *st);
void sc_ocli_destroy(struct sc_ocli *c);

#endif
