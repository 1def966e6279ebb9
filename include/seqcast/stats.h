/* seqcast: counters shared by publisher and subscriber statistics. */
#ifndef SEQCAST_STATS_H
#define SEQCAST_STATS_H

#include <stdint.h>

#include <seqcast/counters.h>

/* The link under a channel (SC_LINK_COUNTERS in <seqcast/counters.h> says
 * what each counts). */
struct sc_link_stats {
    SC_LINK_COUNTERS(SC_COUNTER_FIELD)
};

#endif
