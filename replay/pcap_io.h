/* pcap files through libpcap: written with its dumper (nanosecond
 * timestamps), read with pcap_open_offline (pcap and pcapng, any timestamp
 * precision, a BPF filter) down to the IPv4/UDP datagrams inside.
 *
 * Link types read: Ethernet (VLAN tags skipped), raw IPv4, Linux cooked
 * (SLL and SLL2) and BSD loopback. Anything else is refused when the file is
 * opened, with its name; frames that are not IPv4/UDP, fragments, frames cut
 * short by the capture's snap length and damaged headers are skipped and
 * counted, never returned. */
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

#endif
