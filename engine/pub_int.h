/* Publisher internals shared with tests and tools: creating a publisher on a
 * transport the caller built (mem/loss for simulations) and with a fixed seed. */
#ifndef SC_ENGINE_PUB_INT_H
#define SC_ENGINE_PUB_INT_H

#include <seqcast/pub.h>

#include "engine/transport/transport.h"

/* Takes ownership of x (closed by sc_pub_destroy). seed picks the GSI, the TSI
 * port and nothing else. */
int sc_pub_create_on(struct sc_pub **out, const struct sc_channel_cfg *ch, struct sc_xport *x,
                     uint64_t seed, struct sc_err *err);

/* The source identity (GSI, TSI port) a publisher uses. */
void sc_pub_tsi(const struct sc_pub *p, uint8_t gsi[6], uint16_t *sport);

#endif
