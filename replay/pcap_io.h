/* pcap files written through libpcap's dumper, with nanosecond timestamps. */
#ifndef SC_REPLAY_PCAP_IO_H
#define SC_REPLAY_PCAP_IO_H

#include <stddef.h>
#include <stdint.h>

#include <seqcast/err.h>

struct sc_pcapw;

/* Create (truncate) path as a pcap of linktype (DLT_EN10MB = 1 for Ethernet). */
struct sc_pcapw *sc_pcapw_open(const char *path, int linktype, struct sc_err *err);

/* Append one frame captured at ts_ns (ns since the epoch). @return 0 or -EIO. */
int sc_pcapw_write(struct sc_pcapw *w, uint64_t ts_ns, const void *frame, size_t len);

/* Flush and close; NULL is fine. @return 0 or -EIO if anything failed to reach disk. */
int sc_pcapw_close(struct sc_pcapw *w);

#endif
