/* Subscriber internals shared with tests: a subscriber on a caller-built
 * transport with a fixed seed (simulations). */
#ifndef SC_ENGINE_SUB_INT_H
#define SC_ENGINE_SUB_INT_H

#include <seqcast/sub.h>

#include "engine/transport/transport.h"


/* Tests: behave as if memory ran out once the buffer pool has `chunks` windows
 * (1 = what create allocates, at most max_sources), so the shared-pool path
 * can be driven. */
void sc_sub_cap_pool(struct sc_sub *s, unsigned chunks);

#endif
