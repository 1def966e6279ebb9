/* The rewind client: sequenced messages from an archive's rewind server
 * (seqcast-archive --rewind: SoupBinTCP 4.0, engine/order_server.c with the
 * archive as its source), from a given sequence on, with failover between
 * several archives.
 *
 * It logs in asking for its next sequence and delivers each message once, in
 * order (what a server sends below it is counted, not delivered). A lost
 * connection, a timeout without input, a refused connect or login: the next
 * archive is tried, from the same next sequence (failovers); after a whole
 * round of failures it waits reconnect_ns first. A server that lacks the next
 * message says so in a Debug packet ("gap FROM TO REASON") and closes: the
 * other archives are asked in turn; when every one lacks it, the range (up to
 * the smallest TO any gave) is reported final through on_gap and the stream
 * goes on after it. A Login Accepted past the sequence asked counts as such a
 * gap (reason "skipped"); a server's connections count as failures until one
 * delivers a message. With `until` set it stops after that sequence (logs out:
 * done). An agent (<seqcast/agent.h>): time is a parameter. */
#ifndef SEQCAST_REWIND_H
#define SEQCAST_REWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <seqcast/agent.h>
#include <seqcast/config.h>
#include <seqcast/counters.h>
#include <seqcast/err.h>

#define SC_REWIND_MAX_SERVERS 4

struct sc_rewind_cfg {
    uint32_t nservers;
    char servers[SC_REWIND_MAX_SERVERS][SC_CFG_PATH_MAX]; /* "tcp:HOST:PORT", "unix:/path" */
    char user[7], password[11];                           /* "": blanks */
    uint64_t heartbeat_ns; /* a Client Heartbeat after this long without output */
    uint64_t timeout_ns;   /* no input this long: the next server */
    uint64_t reconnect_ns; /* after a round of failures */
};

struct sc_rewind_stats {
    SC_REWIND_COUNTERS(SC_COUNTER_FIELD)
};

typedef void sc_rewind_msg_fn(void *ctx, uint64_t seq, const void *msg, size_t len);
/* from..to are in no archive (reason: the last server's word). */
typedef void sc_rewind_gap_fn(void *ctx, uint64_t from, uint64_t to, const char *reason);

struct sc_rewind;

/* from >= 1; until 0: no end (follow the archive live). @return 0 or -errno. */
int sc_rewind_create(struct sc_rewind **out, const struct sc_rewind_cfg *cfg, uint64_t from,
                     uint64_t until, sc_rewind_msg_fn *on_msg, sc_rewind_gap_fn *on_gap,
                     void *ctx, struct sc_err *err);
int sc_rewind_do_work(struct sc_rewind *r, uint64_t now_ns);
uint64_t sc_rewind_deadline(const struct sc_rewind *r, uint64_t now_ns);
/* readable on input (an epoll fd holding the connection) */
int sc_rewind_fd(const struct sc_rewind *r);
/* sleep until input or timeout_ns. @return 1 input, 0 none */
int sc_rewind_wait(struct sc_rewind *r, uint64_t timeout_ns);
struct sc_agent sc_rewind_agent(struct sc_rewind *r);
/* the next sequence it will deliver */
uint64_t sc_rewind_next(const struct sc_rewind *r);
/* until was reached */
bool sc_rewind_done(const struct sc_rewind *r);
/* which server it is on (or tries next) */
uint32_t sc_rewind_server(const struct sc_rewind *r);
void sc_rewind_get_stats(const struct sc_rewind *r, struct sc_rewind_stats *st);
void sc_rewind_destroy(struct sc_rewind *r);

#endif
