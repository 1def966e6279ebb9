/* What publisher and subscriber share about a channel: finding it, its NAK
 * port, seeds, link counters. (Opening its transport is public:
 * sc_xport_open, include/seqcast/xport.h.) */
#ifndef SC_ENGINE_CHANNEL_H
#define SC_ENGINE_CHANNEL_H

#include <seqcast/config.h>
#include <seqcast/stats.h>

#include "engine/transport/transport.h"

/* The channel called name (NULL: the first); else NULL with err filled (-ENOENT). */
const struct sc_channel_cfg *sc_channel_find(const struct sc_config *cfg, const char *name,
                                             struct sc_err *err);

/* The NAK port of a channel for a role. nak_port, or when it is auto (0):
 * a subscriber NAKs to port, the data port -- where an OpenPGM sender reads
 * NAKs (its socket bound to 0.0.0.0:mcast port; it sends from ephemeral ports,
 * so the data's source port is no address), and where a seqcast publisher
 * listens too; a publisher keeps SC_NAK_PORT_COMPAT, what subscribers before
 * `auto` NAK to by default, as the port it sends from and also listens on. */
#define SC_NAK_PORT_COMPAT 3055
uint16_t sc_channel_nak_port(const struct sc_channel_cfg *ch, enum sc_xport_role role);

/* A seed for a new publisher (GSI, TSI port) or subscriber (NAK back-off):
 * getrandom, or the stack address and clock if that fails. */
uint64_t sc_seed_random(void);

/* The link counters a publisher or subscriber reports, from its transport's. */
void sc_link_stats_from(struct sc_link_stats *l, const struct sc_xport_stats *x);

#endif
