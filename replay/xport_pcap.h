/* Transports made of captures, for the CLIs and tests (they need libpcap,
 * which the engine never links):
 *
 *   record  wraps any transport and writes every packet it receives and sends
 *           to pcap, as Ethernet/IPv4/UDP frames with nanosecond timestamps;
 *           bounded by size or count per file, rotating through numbered files;
 *           flushed when idle, so a reader of the growing file sees whole records.
 *   pcap    a capture as the network: rx_burst returns the capture's datagrams
 *           for the endpoint's group and port, in order and as fast as asked;
 *           what the engine sends (NAKs) goes nowhere and is counted. A
 *           subscriber on it reports exactly which ranges the capture lacks.
 */
#ifndef SC_REPLAY_XPORT_PCAP_H
#define SC_REPLAY_XPORT_PCAP_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/transport/transport.h"

struct sc_pcapr_stats;

struct sc_record_params {
    const char *path;     /* NULL: no recording */
    uint64_t max_bytes;   /* per file, 0 = unbounded */
    uint64_t max_packets; /* per file, 0 = unbounded */
    unsigned files;       /* with a bound: keep this many files, oldest overwritten
                             (0 = never overwrite) */
};

struct sc_record_stats {
    uint64_t packets, bytes, files_opened, write_errors;
};

/* Files are path, path.1, path.2, ... Takes ownership of inner (also on failure). */
int sc_xport_record_wrap(struct sc_xport **out, struct sc_xport *inner,
                         const struct sc_xport_params *xp, const struct sc_record_params *rp,
                         struct sc_err *err);
const struct sc_record_stats *sc_xport_record_stats(const struct sc_xport *x);

/* The capture at path (BPF filter may be NULL) as a transport for xp's group
 * and port. */
int sc_xport_pcap_open(struct sc_xport **out, const char *path, const char *filter,
                       const struct sc_xport_params *xp, struct sc_err *err);
/* True once the capture has been read to its end. */
bool sc_xport_pcap_done(const struct sc_xport *x);
/* Why the capture ended early (damaged past some record), or NULL. */
const char *sc_xport_pcap_error(const struct sc_xport *x);
const struct sc_pcapr_stats *sc_xport_pcap_stats(const struct sc_xport *x);

/* Command-line options shared by seqcast-pub and seqcast-sub. */
#define SC_RECORD_OPTS                                                                    \
    { "record", required_argument, NULL, 0x201 },                                         \
        { "record-size", required_argument, NULL, 0x202 },                                \
        { "record-count", required_argument, NULL, 0x203 },                               \
        { "record-files", required_argument, NULL, 0x204 }
#define SC_RECORD_HELP                                                                    \
    "      --record FILE       write every packet sent and received to FILE (pcap, ns\n"   \
    "                          timestamps; read it with tshark or seqcast-replay)\n"      \
    "      --record-size MB    start a new file (FILE.1, FILE.2, ...) after MB megabytes\n" \
    "      --record-count N    ... or after N packets\n"                                   \
    "      --record-files K    keep only K files, overwriting the oldest (default: all)\n"
/* @return 1 if opt was a record option, 0 if not, -1 (message printed) if bad. */
int sc_record_option(struct sc_record_params *rp, const char *prog, int opt, const char *arg);

#endif
