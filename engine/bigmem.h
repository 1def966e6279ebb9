/* Memory for the engine's big rings (the publisher's retransmit window, the
 * subscriber's buffer pool): tens of MB walked through packet by packet.
 *
 * sc_mem_big_alloc() returns zeroed memory aligned to 2 MiB, asks the kernel
 * for transparent huge pages (MADV_HUGEPAGE: Debian's default THP mode is
 * "madvise") and touches every page before returning, so that
 *   - no page fault happens on the send/receive path (the first pass through a
 *     24 MB window used to take one every ~3 packets), and
 *   - a ring of 4 KiB pages does not miss the TLB on every new packet.
 * Where huge pages are unavailable it is ordinary pre-faulted memory.
 * Release with free(). */
#ifndef SC_ENGINE_BIGMEM_H
#define SC_ENGINE_BIGMEM_H

#include <stddef.h>

void *sc_mem_big_alloc(size_t bytes);

/* The same, but not touched: for memory added while running (a subscriber's
 * buffers for a new source), where faulting tens of MB in at once would stall
 * the receive loop for milliseconds; its pages fault in as they are first used. */
void *sc_mem_big_reserve(size_t bytes);

#endif
