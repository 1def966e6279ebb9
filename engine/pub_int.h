/* Publisher internals shared with tests and tools: creating a publisher on a
 * transport the caller built (mem/loss for simulations) and with a fixed seed. */
#ifndef SC_ENGINE_PUB_INT_H
#define SC_ENGINE_PUB_INT_H

#include <seqcast/pub.h>

#include "engine/transport/transport.h"


/* The source identity (GSI, TSI port) a publisher uses. */
void sc_pub_tsi(const struct sc_pub *p, uint8_t gsi[6], uint16_t *sport);

#endif
