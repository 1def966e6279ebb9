/* Inside an order server, for tests, tools and other agents: its journal (to
 * inject I/O failures through the journal's system-call hooks), and a server
 * whose sequenced messages come from a source other than a journal (the
 * archive's rewind). */
#ifndef SC_ENGINE_ORDER_INT_H
#define SC_ENGINE_ORDER_INT_H

#include <seqcast/order.h>

struct sc_journal;

struct sc_journal *sc_osrv_journal(struct sc_osrv *s);

/* Sequenced messages 1..last() as a server may send them; read forward in
 * runs (one session's catch-up at a time). */
struct sc_osrv_source {
    void *ctx;
    /* the last message that may be sent (0: none yet); it only grows */
    uint64_t (*last)(void *ctx);
    /* message seq (<= last()) for reader (the session's slot, below the
     * session's max_connections: a source may keep a reading position per
     * reader, and a reader asks seq, seq + 1, ... until it asks elsewhere);
     * *msg: its bytes, good until the next get for that reader. @return its
     * length; or -ENODATA (never received), -EBADMSG (damaged), -ERANGE (no
     * longer held) with *to the last sequence of that missing range; another
     * negative errno: unreadable now */
    int (*get)(void *ctx, uint32_t reader, uint64_t seq, const void **msg, uint64_t *to);
};

/* A server for session sc (listen address, users, heartbeat, limits) that
 * serves src instead of a journal: no journal is opened, sc_osrv_send is
 * -EPERM, unsequenced messages are counted and dropped, and with no users
 * configured any login is accepted. A session whose next message the source
 * lacks gets a Debug packet "gap FROM TO REASON" (REASON: not_received,
 * damaged, not_held) and is closed after it (closed_gap): the stream's
 * sequence numbers are implicit, so it cannot skip them; a client reconnects
 * at TO + 1 for what follows, or asks another server for FROM..TO. */
int sc_osrv_create_source(struct sc_osrv **out, const struct sc_session_cfg *sc,
                          const struct sc_osrv_source *src, struct sc_err *err);

/* Parse the Debug packet above (FROM and TO decimal digits, 1 <= FROM <= TO <
 * UINT64_MAX). @return 0 and the range, -EINVAL if it is not one. */
int sc_osrv_parse_gap(const void *payload, size_t len, uint64_t *from, uint64_t *to,
                      char *reason, size_t cap);

#endif
