/* Inside an order server, for tests and tools: its journal (to inject I/O
 * failures through the journal's system-call hooks). */
#ifndef SC_ENGINE_ORDER_INT_H
#define SC_ENGINE_ORDER_INT_H

#include <seqcast/order.h>

struct sc_journal;

struct sc_journal *sc_osrv_journal(struct sc_osrv *s);

#endif
