/* Subscriber internals shared with tests: a subscriber on a caller-built
 * transport with a fixed seed (simulations). */
#ifndef SC_ENGINE_SUB_INT_H
#define SC_ENGINE_SUB_INT_H

#include <seqcast/sub.h>

#include "engine/transport/transport.h"

/* Takes ownership of x. seed drives NAK back-off randomness only. */
int sc_sub_create_on(struct sc_sub **out, const struct sc_channel_cfg *ch, struct sc_xport *x,
                     const struct sc_sub_callbacks *cb, uint64_t seed, struct sc_err *err);

/* Tests: behave as if memory ran out once the buffer pool has `chunks` windows
 * (1 = what create allocates, at most max_sources), so the shared-pool path
 * can be driven. */
void sc_sub_cap_pool(struct sc_sub *s, unsigned chunks);

#endif
