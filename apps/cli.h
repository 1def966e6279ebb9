/* What the programs share: one scheme for option codes, loading a deployment
 * with its --set overrides, the channel options of seqcast-pub and
 * seqcast-sub, stats output (human on a tty, JSON lines with --json) from the
 * counter lists, and signals. A program's main reads as parse, run, report;
 * these are the parts of parse and report that are the same everywhere. */
#ifndef SC_APPS_CLI_H
#define SC_APPS_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <seqcast/config.h>
#include <seqcast/pub.h>
#include <seqcast/pcap.h>
#include <seqcast/shmstat.h>
#include <seqcast/sub.h>

#define SC_CLI_MAX_SETS 64

struct sc_cli {
    const char *prog;
    const char *config;    /* --config FILE */
    const char *channel;   /* --channel NAME */
    const char *group;     /* --group ADDR:PORT */
    const char *interface; /* --interface ADDR */
    const char *sets[SC_CLI_MAX_SETS]; /* --set KEY=VALUE, in order */
    int nsets;
    bool json;             /* --json: stats lines as JSON */
    bool spin;             /* --spin: busy-poll instead of sleeping in epoll */
    double stats_every;    /* --stats SECONDS (0 = only at the end) */
};

/* Codes of the long options that have no letter, for every program: one
 * enum, so no two options -- shared or a program's own -- ever get the same
 * code (they were three hand-kept ranges). A program's own go at the end. */
enum sc_cli_opt {
    SC_OPT_CHANNEL = 0x100, /* the channel options (SC_CLI_OPTS) */
    SC_OPT_GROUP,
    SC_OPT_INTERFACE,
    SC_OPT_SET,
    SC_OPT_JSON,
    SC_OPT_SPIN,
    SC_OPT_STATS,
    SC_OPT_RECORD, /* --record (SC_RECORD_OPTS) */
    SC_OPT_RECORD_SIZE,
    SC_OPT_RECORD_COUNT,
    SC_OPT_RECORD_FILES,
    SC_OPT_RECORD_RING,
    SC_OPT_RECORD_FULL,
    SC_OPT_PCAP, /* seqcast-sub */
    SC_OPT_PCAP_FILTER,
    SC_OPT_LOSS, /* seqcast-sub, seqcast-replay */
    SC_OPT_BURST_LOSS, /* seqcast-replay */
    SC_OPT_REORDER,
    SC_OPT_DUPLICATE,
    SC_OPT_SEED,
    SC_OPT_COUNTERS, /* seqcast-config */
    SC_OPT_REPAIR,   /* seqcast-orderd */
    SC_OPT_RESEND_AFTER, /* seqcast-order */
    SC_OPT_SPIN_ORDER,
    SC_OPT_CSV, /* seqcast-feedhandler */
    SC_OPT_SYMBOLS,
    SC_OPT_DEPTH,
    SC_OPT_EVERY,
    SC_OPT_MAX_ORDERS,
    SC_OPT_MAX_BOOKS,
    SC_OPT_MAX_LEVELS,
    SC_OPT_LEVEL_POOL,
    SC_OPT_SEGMENT_SIZE, /* seqcast-archive */
    SC_OPT_INDEX_EVERY,
    SC_OPT_RETAIN_SIZE,
    SC_OPT_RETAIN_AGE,
    SC_OPT_FSYNC,
    SC_OPT_FSYNC_INTERVAL,
    SC_OPT_DUMP,
    SC_OPT_LIST,
    SC_OPT_SERVE,
    SC_OPT_REWIND,
    SC_OPT_REWIND_SESSION,
    SC_OPT_ARCHIVE, /* seqcast-sub */
    SC_OPT_LATE_JOIN,
    SC_OPT_ONCE, /* seqcast-stat */
    SC_OPT_LOSS_LOG,
    SC_OPT_PROMETHEUS,
    SC_OPT_PID,
    SC_OPT_REPUBLISH, /* seqcast-sub */
    SC_OPT_WAIT_READERS, /* seqcast-pub */
    SC_OPT_PUBLISH,      /* seqcast-feedhandler */
};

/* getopt_long entries for the channel options and their help text, to be
 * merged into seqcast-pub's and seqcast-sub's own. */
#define SC_CLI_OPTS                                                                        \
    { "config", required_argument, NULL, 'c' },                                           \
        { "channel", required_argument, NULL, SC_OPT_CHANNEL },                           \
        { "group", required_argument, NULL, SC_OPT_GROUP },                               \
        { "interface", required_argument, NULL, SC_OPT_INTERFACE },                       \
        { "set", required_argument, NULL, SC_OPT_SET },                                   \
        { "json", no_argument, NULL, SC_OPT_JSON }, { "spin", no_argument, NULL, SC_OPT_SPIN }, \
        { "stats", required_argument, NULL, SC_OPT_STATS }

#define SC_CLI_HELP                                                                        \
    "  -c, --config FILE       YAML deployment (default: built-in lan defaults, one channel\n" \
    "                          on 239.192.0.1:3056 over 127.0.0.1)\n"                         \
    "      --channel NAME      channel of the file to use (default: the first)\n"             \
    "      --group ADDR:PORT   multicast group and data port (overrides the file)\n"          \
    "      --interface ADDR    local address of the multicast interface (default 127.0.0.1)\n" \
    "      --set KEY=VALUE     any configuration key, e.g. --set nak.backoff=100us\n"         \
    "                          (repeatable; keys in docs/CONFIG.md)\n"                        \
    "      --stats SECONDS     print stats every SECONDS (human on a tty, else JSON lines)\n" \
    "      --json              stats lines as JSON even on a tty\n"                           \
    "      --spin              busy-poll (lowest latency, one core at 100%%)\n"                \
    "  -h, --help              this text\n"

/* Handle a common option; @return true if it was one. */
bool sc_cli_option(struct sc_cli *c, int opt, const char *arg);

/* Load a deployment (NULL: the built-in defaults) and apply each --set
 * KEY=VALUE in order: what every program does first. @return 0, or -1 after
 * printing "prog: file:line:col: ..." */
int sc_cli_load(const char *prog, const char *file, const char *const *sets, int nsets,
                struct sc_config *cfg);

/* Add one --set to a list of at most SC_CLI_MAX_SETS (exits 2 past it). */
void sc_cli_add_set(const char *prog, const char **sets, int *nsets, const char *arg);

/* Load the configuration the channel options describe (sc_cli_load, then
 * --group and --interface) and pick the channel.
 * @return the channel, or NULL after printing the reason. */
const struct sc_channel_cfg *sc_cli_config(struct sc_cli *c, struct sc_config *cfg);

/* Stats: one line, JSON or human. */
void sc_cli_pub_stats(FILE *out, const struct sc_pub_stats *st, bool json);
void sc_cli_sub_stats(FILE *out, const struct sc_sub_stats *st, bool json);
/* A subscriber's sources (sc_sub_get_source), from their counter list, a line
 * each after sc_cli_sub_stats's: JSON ({"stats": "source", "source": NAME,
 * counters...}) or human ("sub source NAME: ..."). Not in the programs' JSON
 * summaries: their counter names would repeat the subscriber's there. */
void sc_cli_sub_sources(FILE *out, const struct sc_sub *sub, bool json);

/* Every counter of a stats struct as JSON members ("name": value, ...). */
void sc_cli_json_pub(FILE *out, const struct sc_pub_stats *st);
void sc_cli_json_sub(FILE *out, const struct sc_sub_stats *st);
/* The same for any agent's stats struct st, whose list is set: its counters,
 * then (rx_bad not NULL) "rx_bad": {by class}, "rx_bad_total". */
void sc_cli_json_stats(FILE *out, enum sc_counter_set set, const void *st,
                       const uint64_t *rx_bad);

/* Warn (once) when the kernel clamped the receive buffer. */
void sc_cli_warn_rcvbuf(const char *prog, uint64_t requested, uint64_t effective);

/* Command-line options shared by seqcast-pub and seqcast-sub. */
#define SC_RECORD_OPTS                                                                    \
    { "record", required_argument, NULL, SC_OPT_RECORD },                                 \
        { "record-size", required_argument, NULL, SC_OPT_RECORD_SIZE },                   \
        { "record-count", required_argument, NULL, SC_OPT_RECORD_COUNT },                 \
        { "record-files", required_argument, NULL, SC_OPT_RECORD_FILES },                 \
        { "record-ring", required_argument, NULL, SC_OPT_RECORD_RING },                   \
        { "record-full", required_argument, NULL, SC_OPT_RECORD_FULL }
#define SC_RECORD_HELP                                                                    \
    "      --record FILE       write every packet sent and received to FILE (pcap, ns\n"   \
    "                          timestamps; read it with tshark or seqcast-replay)\n"      \
    "      --record-size MB    start a new file (FILE.1, FILE.2, ...) after MB megabytes\n" \
    "      --record-count N    ... or after N packets\n"                                   \
    "      --record-files K    keep only K files, overwriting the oldest (default: all)\n"   \
    "      --record-ring MIB   the ring between the traffic and the thread writing FILE\n"  \
    "                          (default 64; 0.25 to 1024, rounded up to a power of 2)\n"   \
    "      --record-full block|drop  when that ring is full: wait for room (default: every\n" \
    "                          packet recorded) or leave the packet out (the traffic never\n" \
    "                          waits for the disk); counted in record_waited / record_dropped\n"
/* @return 1 if opt was a record option, 0 if not, -1 (message printed) if bad. */
int sc_cli_record_option(struct sc_record_params *rp, const char *prog, int opt, const char *arg);

/* When a subscriber's input is all said. Every source ended its session (a FIN
 * or an End of Session waits for the gaps before it to be repaired or given
 * up) -- with a capture (--pcap), once it is read. A capture may have no end:
 * NAKs and re-requests to it are never answered, so after it is read open gaps
 * run out their retries, and the run ends once the subscriber has been quiet --
 * no NAK, request, loss or delivery, and no timer due soon -- for longer than
 * its longest wait between two tries: measured from its last progress, not
 * from the end of the capture, so a process that the machine did not run for a
 * while still declares every gap. capture: the capture transport, NULL when
 * live; q: zeroed once, the quiet timer (q->end: 0, or when it runs out). */
struct sc_cli_quiet {
    uint64_t end, progress;
};
bool sc_cli_sub_ended(struct sc_cli_quiet *q, const struct sc_sub *sub,
                      const struct sc_channel_cfg *ch, const struct sc_xport *capture,
                      bool sources_ended, uint64_t now);

/* Live counters (stats.shm): a block's labels for a channel
 * ("channel=NAME,group=ADDR:PORT,interface=ADDR,protocol=pgm"), and opening
 * a writer whose blocks are added and putting its agent on the runner (s NULL,
 * stats.shm off: nothing). @return 0, or -1 after printing why. */
void sc_cli_shm_labels(const struct sc_channel_cfg *ch, char *buf, size_t len);
int sc_cli_shm_open(struct sc_shmstat *s, struct sc_runner *run, const char *prog);

/* An input in NASDAQ's file framing (seqcast-pub and seqcast-feedhandler
 * --input): "-" is stdin; a gzip file (1f 8b: NASDAQ publishes its days as
 * .gz) is read through `gzip -dc` (Debian's gzip is Essential). @return an fd
 * to read, *size the bytes it holds when known (an uncompressed regular file;
 * else 0), *child gzip's pid (0: none); -1 after printing why. */
int sc_cli_input_open(const char *prog, const char *path, uint64_t *size, pid_t *child);
/* Close it. @return 0; -1 when gzip found the file damaged or cut (gzip said
 * why on stderr): the input was not read whole. */
int sc_cli_input_close(int fd, pid_t child);

extern volatile int sc_cli_stop; /* set by SIGINT/SIGTERM */
/* SIGINT/SIGTERM stop the loop, SIGPIPE ignored; timer slack 1 ns. */
void sc_cli_signals(void);

#endif
