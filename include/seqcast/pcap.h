/* seqcast pcap: captures written and read, and captures as transports.
 *
 * The pcap library (replay/ in the source tree), part of libseqcast: what
 * seqcast-replay, seqcast-sub --pcap and --record are made of, for programs of
 * your own.
 *
 *   sc_pcapw_*   write pcap files as libpcap's dumper does (ns timestamps)
 *   sc_pcapr_*   read pcap and pcapng files down to their IPv4/UDP datagrams
 *   sc_xport_record_wrap   a transport wrapper writing every packet to pcap
 *   sc_xport_pcap_open     a capture read as the network
 *   sc_replay_*  a capture played onto a transport at its own pace, a chosen
 *                rate or at once, looped, damaged: the replay agent
 *                (seqcast-replay is a main around it)
 *   sc_capd_format         one line describing a captured datagram (--list)
 */
#ifndef SEQCAST_PCAP_H
#define SEQCAST_PCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <seqcast/agent.h>
#include <seqcast/err.h>
#include <seqcast/xport.h>

/* ------------------------------------------------------------ files */

/* pcap files through libpcap: written as its dumper writes them, byte for
 * byte (nanosecond timestamps), in 4 MiB buffers and whole blocks (O_DIRECT
 * where the file system takes it); read with pcap_open_offline (pcap and pcapng, any timestamp
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

/* Append one frame captured at ts_ns (ns since the epoch): buffered, written
 * when 4 MiB are. @return 0, or -EIO once any write failed (nothing more is
 * written). */
int sc_pcapw_write(struct sc_pcapw *w, uint64_t ts_ns, const void *frame, size_t len);

/* Push buffered records to the file: it ends at the last whole record
 * (readers of the growing file). @return 0 or -EIO. */
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

/* One line (no newline) describing d into buf, as seqcast-replay --list prints
 * it: index, capture time, addresses, length, FNV-1a hash of the payload (equal
 * bytes, equal hash), then the PGM type and sequence numbers, fragment, and
 * the MoldUDP64 messages of a block, or "not-pgm".
 * @return the length of the whole line, as snprintf. */
int sc_capd_format(char *buf, size_t len, const struct sc_capd *d);

/* ------------------------------------------------------------ transports */

/* Transports made of captures, for the CLIs and tests (they need libpcap,
 * which the engine never links):
 *
 *   record  wraps any transport and writes every packet it receives and sends
 *           to pcap, as Ethernet/IPv4/UDP frames with nanosecond timestamps;
 *           bounded by size or count per file, rotating through numbered files;
 *           flushed when idle, so a reader of the growing file sees whole records.
 *           The sending/receiving thread only stamps (once a burst) and copies
 *           each packet into a single-producer ring; a writer thread of the
 *           wrapper's own builds the frames and writes the file (4 MiB writes;
 *           a PGM packet's UDP checksum from its headers, SC_PKT_PGM_CSUM). When
 *           the ring is full, the packet waits for room (SC_RECORD_BLOCK,
 *           counted in waited) or is not recorded (SC_RECORD_DROP, counted in
 *           dropped). Closing writes everything in the ring, then closes the file.
 *   pcap    a capture as the network: rx_burst returns the capture's datagrams
 *           for the endpoint's group and port, in order and as fast as asked;
 *           what the engine sends (NAKs) goes nowhere and is counted. A
 *           subscriber on it reports exactly which ranges the capture lacks.
 */

/* What a full ring does to the packet that finds no room. */
enum sc_record_full {
    SC_RECORD_BLOCK = 0, /* the sender/receiver waits for the writer: every packet recorded */
    SC_RECORD_DROP,      /* the packet is not recorded (the traffic never waits for the disk) */
};

struct sc_record_params {
    const char *path;     /* NULL: no recording */
    uint64_t max_bytes;   /* per file, 0 = unbounded */
    uint64_t max_packets; /* per file, 0 = unbounded */
    unsigned files;       /* with a bound: keep this many files, oldest overwritten
                             (0 = never overwrite) */
    uint64_t ring_bytes;  /* the ring between the traffic and the writer thread, rounded up
                             to a power of 2 in [256 KiB, 1 GiB]; 0 = 64 MiB */
    enum sc_record_full full; /* when the ring is full */
};

/* Every packet offered is recorded (packets), dropped (dropped) or counted in
 * write_errors (a frame that could not be written; after a rotation that
 * failed to open its file, every packet). write_errors also counts files that
 * failed to close or open. */
struct sc_record_stats {
    uint64_t packets, bytes, files_opened, write_errors;
    uint64_t dropped; /* SC_RECORD_DROP: packets that found the ring full, not recorded */
    uint64_t waited;  /* SC_RECORD_BLOCK: packets that found the ring full and waited */
};

/* Files are path, path.1, path.2, ... Takes ownership of inner (also on failure).
 * @return 0, -EINVAL (ring_bytes or full out of range), -ENOMEM, -EIO (the
 * first file cannot be created), or the error of starting the writer thread;
 * err filled. */
int sc_xport_record_wrap(struct sc_xport **out, struct sc_xport *inner,
                         const struct sc_xport_params *xp, const struct sc_record_params *rp,
                         struct sc_err *err);
/* A snapshot of x's counters (x as sc_xport_record_wrap returned it); any
 * thread. packets, bytes, files_opened and write_errors grow as the writer
 * thread works: final once x is closed. The link counters of the stats of a
 * publisher or subscriber on x (record_*) carry them too. */
void sc_xport_record_stats(const struct sc_xport *x, struct sc_record_stats *st);

/* The capture at path (BPF filter may be NULL) as a transport for xp's group
 * and port. */
int sc_xport_pcap_open(struct sc_xport **out, const char *path, const char *filter,
                       const struct sc_xport_params *xp, struct sc_err *err);
/* True once the capture has been read to its end. */
bool sc_xport_pcap_done(const struct sc_xport *x);
/* Why the capture ended early (damaged past some record), or NULL. */
const char *sc_xport_pcap_error(const struct sc_xport *x);
const struct sc_pcapr_stats *sc_xport_pcap_stats(const struct sc_xport *x);

/* ------------------------------------------------------------ replay */

/* The replay agent: a capture's UDP datagrams sent through a transport, each
 * when it is due. Pacing gives every datagram of a pass a due time from the
 * pass's start t0:
 *
 *   capture  t0 + (its timestamp - the pass's first timestamp) / speed
 *            (a timestamp before the first: due at t0)
 *   pps      t0 + i / pps for the i-th datagram of the pass (0-based)
 *   max      at once; sent SC_BURST at a time
 *
 * The first pass starts at params.start_ns (0: the first do_work's now), each
 * further pass at the do_work that finds the end of the one before. A pass that
 * selects nothing ends the replay.
 *
 * As an agent (<seqcast/agent.h>): do_work(now) sends the datagrams due at
 * now, one transport call each (SC_BURST per call with max), at most 256 per
 * call; a late call sends what it owes at once. deadline(now) is the next
 * datagram's due time (now while sent ones wait for the transport, UINT64_MAX
 * when done). Time is a parameter only: nothing here reads the clock.
 * wait(ns) sleeps in clock_nanosleep -- to 100 us short of a wait over 200 us,
 * so the runner's cycles spin the rest (a thread woken from a sleep runs tens
 * of microseconds late). The replay's one input is its own end: wait returns
 * 1 and fd() (an eventfd) is readable from the do_work that ends the replay
 * to the next one, so a runner wakes for it at once (and sleeps in one ppoll
 * until the earliest deadline when it runs several agents).
 *
 * Back-pressure (the transport takes nothing) keeps the datagram; it is offered
 * again at the next do_work. Damage (params.loss) is the loss wrapper on what
 * is sent (on_tx), stacked by the replay; deterministic for a seed, because
 * the transport calls are (one per datagram, or per SC_BURST with max).
 *
 *   sc_replay_create(&rp, x, &params, &err);   // owns x from here on
 *   sc_runner_add(run, sc_replay_agent(rp));
 *   while (!sc_replay_done(rp))
 *       sc_runner_run_once(run, 100000000);
 *   sc_replay_stats(rp, &st);
 *   sc_replay_destroy(rp);
 */
struct sc_replay;

struct sc_replay_params {
    const char *path;   /* the capture: pcap or pcapng (sc_pcapr_open) */
    const char *filter; /* BPF expression (tcpdump syntax) selecting datagrams; NULL: all */
    /* pacing: max, else pps, else the capture's own gaps / speed */
    double speed;       /* > 0; 0 = 1 (the capture's own gaps) */
    double pps;         /* > 0: pps datagrams a second, evenly spaced */
    bool max;           /* as fast as the transport takes them (excludes pps) */
    unsigned long loops; /* passes over the capture; 0 = 1 */
    bool forever;       /* pass after pass until sc_replay_stop (loops ignored) */
    uint64_t start_ns;  /* the first pass's t0 (CLOCK_MONOTONIC ns); 0: the first do_work's now */
    /* destination */
    bool keep_dest;     /* each datagram to its captured address and port ... */
    uint32_t group;     /* ... else all to group (network order) */
    uint16_t port;      /*     and port */
    bool raw_frames;    /* send each record's captured frame as it is (MACs, VLAN tags,
                           TTL and all) through the transport's tx_frames: Ethernet
                           captures and raw-Ethernet transports (DPDK) only; implies
                           keep_dest. A record split into the PGM packets of a UDP GSO
                           send goes once, whole */
    const struct sc_loss_params *loss; /* damage what is sent (on_tx implied); NULL: none */
};

struct sc_replay_stats {
    uint64_t passes;        /* passes over the capture begun */
    uint64_t taken;         /* datagrams read from the capture (every pass) */
    uint64_t sent;          /* handed to the transport (to the loss wrapper, with loss) */
    uint64_t pieces_skipped; /* raw frames: later packets of a split record (sent whole) */
    uint64_t too_big;       /* raw frames: records over SC_PKT_MAX bytes, not sent */
    /* timing: |actual gap - intended gap| between consecutive sends of a pass,
       actual = the do_work's now; not measured with max */
    uint64_t gaps;          /* gaps measured */
    uint64_t gap_error_median_ns, gap_error_p99_ns; /* within 0.4 % (a histogram) */
    uint64_t gap_error_max_ns;
    struct sc_pcapr_stats capture; /* the reader's (records, filtered, skipped, ...) */
    struct sc_loss_stats loss;     /* the loss wrapper's; zero without params.loss */
    struct sc_xport_stats link;    /* the transport's own: link.tx_pkts went out */
};

/* Open params->path and stack the transport for x: x, then an adapter that
 * sends frames (raw_frames), then the loss wrapper (loss). x is owned from
 * the call on: closed by sc_replay_destroy, or before returning on failure.
 * p and *p->loss are copied; path and filter are read during the call only.
 * @return 0; -EINVAL (pacing out of range, pps with max), -ENOTSUP
 * (raw_frames through a transport without tx_frames or from a capture that is
 * not Ethernet), -ENOMEM, or the reader's error (the file cannot be read, the filter does
 * not compile, an unsupported link type) -- each with err filled. */
int sc_replay_create(struct sc_replay **out, struct sc_xport *x,
                     const struct sc_replay_params *p, struct sc_err *err);

/* Send what is due at now. @return the datagrams handled (0 = nothing due). */
int sc_replay_do_work(struct sc_replay *r, uint64_t now);
/* The next due time: <= now at once, UINT64_MAX when done. */
uint64_t sc_replay_deadline(const struct sc_replay *r, uint64_t now);
/* Sleep for most of timeout_ns (see above). @return 1 the replay has ended
 * since the last do_work, else 0. */
int sc_replay_wait(struct sc_replay *r, uint64_t timeout_ns);
/* Readable while the replay's end is unseen by do_work (above). */
int sc_replay_fd(const struct sc_replay *r);
struct sc_agent sc_replay_agent(struct sc_replay *r);

/* True once every pass is sent (or the capture turned out damaged, or
 * sc_replay_stop), what was batched included. */
bool sc_replay_done(const struct sc_replay *r);
/* End early (a signal): what is batched is offered to the transport, the loss
 * wrapper releases what it holds back; done afterwards. */
void sc_replay_stop(struct sc_replay *r);
/* Why the replay ended early -- the capture damaged past some record, or it
 * could not be rewound for the next pass -- or NULL. */
const char *sc_replay_error(const struct sc_replay *r);
void sc_replay_stats(const struct sc_replay *r, struct sc_replay_stats *st);
/* Closes the transport stack and the capture. Safe on NULL. */
void sc_replay_destroy(struct sc_replay *r);

#endif
