/* Order-session plumbing shared by server and client: the session's config,
 * endpoints
 * ("tcp:HOST:PORT", "unix:/path"), non-blocking listen/connect with
 * TCP_NODELAY, and an output buffer written once per do_work. */
#ifndef SC_ENGINE_OSOCK_H
#define SC_ENGINE_OSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <seqcast/config.h>
#include <seqcast/err.h>

/* The session called name (NULL: the first) of cfg, which must have a listen
 * address (server) or a connect address (client); else NULL with err filled
 * (-ENOENT). What sc_osrv_create and sc_ocli_create look up. */
const struct sc_session_cfg *sc_session_find(const struct sc_config *cfg, const char *name,
                                             bool server, struct sc_err *err);

int sc_osock_listen(const char *endpoint, struct sc_err *err);
/* Starts a non-blocking connect; *in_progress set when it has not finished. */
int sc_osock_connect(const char *endpoint, bool *in_progress, struct sc_err *err);
/* Who a connection comes from, for per-address limits: an IPv4 address (an
 * IPv4-mapped IPv6 one too), an IPv6 /64 (one host usually holds a whole /64),
 * or a Unix-socket peer's uid (SO_PEERCRED). */
struct sc_opeer {
    uint8_t family;  /* AF_INET, AF_INET6, AF_UNIX; 0 if unknown */
    uint8_t addr[8]; /* IPv4: 4 bytes; IPv6: the first 8; Unix: the uid, 4 bytes BE */
};

/* Accept one connection (non-blocking, TCP_NODELAY) and say who it is from.
 * @return the fd, -EAGAIN when none is waiting, or another negative errno
 * (-EMFILE ...). */
int sc_osock_accept(int lfd, struct sc_opeer *peer);

/* epoll_wait with a timeout in nanoseconds: epoll_pwait2 (Linux 5.11), else
 * whole milliseconds, rounded up (a timer is never woken for early). */
struct epoll_event;
int sc_osock_epoll_wait(int epfd, struct epoll_event *evs, int maxev, uint64_t timeout_ns);

struct sc_obuf {
    uint8_t *b;
    size_t len, cap;
};

int sc_obuf_init(struct sc_obuf *o, size_t cap);
void sc_obuf_fini(struct sc_obuf *o);
/* Append a SoupBinTCP packet (type + payload). @return 0, or -ENOBUFS when full. */
int sc_obuf_packet(struct sc_obuf *o, uint8_t type, const void *payload, size_t len);
int sc_obuf_raw(struct sc_obuf *o, const void *data, size_t len);
/* Write what is queued (one write). @return 0 (rest kept), -EPIPE etc. on a dead peer. */
int sc_obuf_flush(struct sc_obuf *o, int fd);

#endif
