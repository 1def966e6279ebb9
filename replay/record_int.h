/* Inside the record wrapper, for tests: its clock and a pause in its writer
 * thread (to fill the ring on purpose). */
#ifndef SC_REPLAY_RECORD_INT_H
#define SC_REPLAY_RECORD_INT_H

#include <stdint.h>

#include <seqcast/xport.h>

struct sc_record_hooks {
    uint64_t (*clock)(void *arg);     /* each packet's timestamp (CLOCK_REALTIME ns);
                                         called on the sending/receiving thread */
    void (*before_write)(void *arg);  /* the writer thread, before each packet it takes */
    void *arg;
};

/* Set x's hooks (x as sc_xport_record_wrap returned it); before its first
 * packet, on the thread that sends and receives. */
void sc_xport_record_set_hooks(struct sc_xport *x, const struct sc_record_hooks *h);

#endif
