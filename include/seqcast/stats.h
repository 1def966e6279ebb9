/* seqcast: counters shared by publisher and subscriber statistics. */
#ifndef SEQCAST_STATS_H
#define SEQCAST_STATS_H

#include <stdint.h>

/* The link under a channel (the rx/arp/mbuf/neighbour counters are for
 * raw-Ethernet transports and 0 on kernel UDP; the gso ones are kernel UDP's). */
struct sc_link_stats {
    uint64_t rx_filtered;  /* frames not for this channel */
    uint64_t rx_malformed; /* frames failing Ethernet/IPv4/UDP checks */
    uint64_t arp_replies;  /* ARP answered for our own address */
    uint64_t no_mbuf;      /* packet buffers exhausted */
    uint64_t no_neighbour; /* unicast to a MAC not known yet (ARP asked) */
    uint64_t tx_dropped;   /* frames the device or kernel refused */
    uint64_t tx_gso_sends; /* sends that carried a run of equal-size packets (UDP GSO) */
    uint64_t gso_disabled; /* 1 if the kernel refused UDP GSO and it was turned off */
    uint64_t rx_gro_msgs;  /* reads that carried a run of datagrams (UDP GRO) */
    uint64_t tx_calls;     /* send calls into the transport (one sendmmsg each on kernel
                              UDP): packets sent / tx_calls is the batching achieved */
};

#endif
