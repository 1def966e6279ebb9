/* seqcast pcap: captures written and read, and captures as transports.
 *
 * The pcap library (replay/ in the source tree), part of libseqcast: what
 * seqcast-replay, seqcast-sub --pcap and --record are made of, for programs of
 * your own.
 *
 *   sc_pcapw_*   write pcap files through libpcap's dumper (ns timestamps)
 *   sc_pcapr_*   read pcap and pcapng files down to their IPv4/UDP datagrams
 *   sc_xport_record_wrap   a transport wrapper writing every packet to pcap
 *   sc_xport_pcap_open     a capture read as the network
 *   sc_pacer_*   when each record of a capture is due (seqcast-replay's timing)
 */
#ifndef SEQCAST_PCAP_H
#define SEQCAST_PCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <seqcast/err.h>
#include <seqcast/xport.h>

/* ------------------------------------------------------------ files */

/* pcap files through libpcap: written with its dumper (nanosecond
 * timestamps), read with pcap_open_offline (pcap and pcapng, any timestamp
 * precision, a BPF filter) down to the IPv4/UDP datagrams inside.
 *
 * Link types read: Ethernet (VLAN tags skipped), raw IPv4, Linux cooked
 * (SLL and SLL2) and BSD loopback. Anything else is refused when the file is
 * opened, with its name; frames that are not IPv4/UDP, fragments, frames cut
 * short by the capture's snap length and damaged headers are skipped and
 * counted, never returned. */

struct sc_pcapw;

/* Create (truncate) path as a pcap of linktype (DLT_EN10MB = 1 for Ethernet). */
struct sc_pcapw *sc_pcapw_open(const char *path, int linktype, struct sc_err *err);

/* Append one frame captured at ts_ns (ns since the epoch). @return 0 or -EIO. */
int sc_pcapw_write(struct sc_pcapw *w, uint64_t ts_ns, const void *frame, size_t len);

/* Push buffered records to the file. @return 0 or -EIO. */
int sc_pcapw_flush(struct sc_pcapw *w);

/* Flush and close; NULL is fine. @return 0 or -EIO if anything failed to reach disk. */
int sc_pcapw_close(struct sc_pcapw *w);

struct sc_pcapr;

/* One UDP datagram from a capture; pointers are valid until the next call. */
struct sc_capd {
    uint64_t ts_ns;         /* capture time, ns since the epoch */
    uint64_t index;         /* 0-based position of the record in the file */
    uint32_t src_ip, dst_ip; /* network order */
    uint16_t src_port, dst_port;
    const uint8_t *payload;
    uint16_t len;
    const uint8_t *frame;   /* the record as captured (its link layer); NULL for the
                               second and later packets split out of one record */
    uint32_t frame_len;
};

struct sc_pcapr_stats {
    uint64_t records;   /* records read (filter and skips included) */
    uint64_t filtered;  /* rejected by the BPF filter */
    uint64_t not_udp;   /* not IPv4/UDP (ARP, IPv6, TCP, ...) */
    uint64_t truncated; /* cut short by the capture's snap length */
    uint64_t malformed; /* IPv4/UDP headers that do not parse, fragments */
    uint64_t datagrams; /* returned */
    uint64_t gso_split; /* datagrams that were UDP GSO sends seen on the sending host,
                           returned as the PGM packets they carry */
};

/* Open path; filter is a BPF expression (tcpdump syntax) or NULL.
 * @return the reader, or NULL with err->msg naming the file and the reason. */
struct sc_pcapr *sc_pcapr_open(const char *path, const char *filter, struct sc_err *err);

/* Next datagram. @return 1, 0 at the end of the file, or -EIO with a message
 * (sc_pcapr_error) when the file is damaged past that point. */
int sc_pcapr_next(struct sc_pcapr *r, struct sc_capd *d);

/* Back to the first record (for --loop); @return 0 or -EIO. */
int sc_pcapr_rewind(struct sc_pcapr *r, struct sc_err *err);

const char *sc_pcapr_error(const struct sc_pcapr *r);
/* "N records: N filtered, N not IPv4/UDP, N cut short, N malformed" into buf. */
void sc_pcapr_describe(const struct sc_pcapr_stats *st, char *buf, size_t len);
const struct sc_pcapr_stats *sc_pcapr_stats(const struct sc_pcapr *r);
int sc_pcapr_linktype(const struct sc_pcapr *r);
void sc_pcapr_close(struct sc_pcapr *r);

/* ------------------------------------------------------------ transports */

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

#endif
