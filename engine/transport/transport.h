/* The engine's transports, behind the public transport API
 * (include/seqcast/xport.h: the ops table, the wrapper base, sc_xport_open):
 *
 *   udp   kernel sockets: recvmmsg/sendmmsg, group join on a chosen interface
 *   dpdk  raw Ethernet through a DPDK port (dpdk_stub.c when built without)
 *   mem   a deterministic in-process network for simulations (struct sc_memnet)
 *
 * sc_xport_open picks udp or dpdk for a channel; the wrappers (loss, record)
 * and the capture transport are in replay/.
 */
#ifndef SC_ENGINE_TRANSPORT_H
#define SC_ENGINE_TRANSPORT_H

#include <seqcast/xport.h>

/* udp.c */
int sc_xport_udp_open(struct sc_xport **out, const struct sc_xport_params *p, struct sc_err *err);

/* dpdk.c (dpdk_stub.c when built without DPDK): raw Ethernet through a DPDK
 * port; p->interface is our own IPv4 address on that link. */
int sc_xport_dpdk_open(struct sc_xport **out, const struct sc_xport_params *p,
                       const struct sc_dpdk_cfg *cfg, struct sc_err *err);

/* mem.c: a network in one process. Endpoints get addresses of their own;
 * multicast reaches every subscriber endpoint joined to group:port (never the
 * sender), unicast reaches the endpoint owning addr:port (a publisher's NAK
 * or data port; a subscriber's port 40000, which it sends from, when
 * sub_unicast). Each endpoint queues
 * up to queue_len packets; more are dropped and counted, like a full socket. */
struct sc_memnet;
struct sc_memnet *sc_memnet_create(unsigned max_endpoints, unsigned queue_len);
void sc_memnet_destroy(struct sc_memnet *net);
int sc_memnet_open(struct sc_memnet *net, struct sc_xport **out, uint32_t addr,
                   const struct sc_xport_params *p);
/* Inject raw bytes as if sent by from_addr:from_port (hostile-input tests). */
void sc_memnet_inject(struct sc_memnet *net, uint32_t from_addr, uint16_t from_port, uint32_t to,
                      uint16_t to_port, const void *data, uint16_t len);
uint64_t sc_memnet_queued(const struct sc_memnet *net);

#endif
