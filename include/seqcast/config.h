/* seqcast: deployment configuration as plain data.
 *
 * A deployment is one YAML file (docs/CONFIG.md documents every key and its
 * default): channels (multicast feeds), DPDK settings, and order sessions. The
 * loader turns it into the structs below; the engine reads only these structs
 * and never sees YAML. Every struct is plain data with fixed-size arrays, so a
 * config can be copied, zeroed and stored without ownership rules.
 *
 * Times are nanoseconds, sizes bytes, rates bits per second (0 = unlimited),
 * addresses network order (struct in_addr).
 */
#ifndef SEQCAST_CONFIG_H
#define SEQCAST_CONFIG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <seqcast/err.h>

#define SC_CFG_NAME_MAX 32
#define SC_CFG_PATH_MAX 256
#define SC_CFG_MAX_CHANNELS 16
#define SC_CFG_MAX_SESSIONS 16
#define SC_CFG_MAX_USERS 16
#define SC_CFG_MAX_HEARTBEATS 16
#define SC_CFG_MAX_EAL_ARGS 32
#define SC_CFG_EAL_ARG_MAX 128
#define SC_CFG_MAX_SOURCE_ALLOW 16
#define SC_CFG_DPDK_BURST_MAX 128 /* dpdk.burst: frames per call, the engine's largest burst (SC_BURST_MAX) */
#define SC_CFG_MAX_REQUEST_SERVERS 8 /* mold.request_servers */
#define SC_CFG_MOLD_SESSION_MAX 10   /* mold.session: the wire field's width */

enum sc_transport {
    SC_TRANSPORT_UDP = 0, /* kernel sockets */
    SC_TRANSPORT_DPDK,    /* raw Ethernet through DPDK */
    SC_TRANSPORT_IPC,     /* same host: a shared-memory log (ipc.*), no network */
};

enum sc_framing {
    SC_FRAMING_BATCHED = 0, /* MoldUDP64 block per ODATA: many messages, 64-bit sequences */
    SC_FRAMING_RAW,         /* one APDU per ODATA (what OpenPGM sends and expects) */
};

/* What a channel speaks on the wire. */
enum sc_protocol {
    SC_PROTOCOL_PGM = 0,   /* PGM (RFC 3208) over UDP; framing batched or raw inside ODATA */
    SC_PROTOCOL_MOLDUDP64, /* NASDAQ MoldUDP64 1.00: blocks as the UDP payload, re-requests */
};

enum sc_late_join {
    SC_LATE_JOIN_LIVE = 0, /* start at the live edge */
    SC_LATE_JOIN_WINDOW,   /* recover what the publisher's window still holds */
    SC_LATE_JOIN_FIRST,    /* MoldUDP64: request everything from message 1 */
    SC_LATE_JOIN_ARCHIVE,  /* a rewind from an archive (recovery.rewind) from recovery.from,
                              merged into the live stream */
};

enum sc_mold_response {
    SC_MOLD_RESPONSE_UNICAST = 0, /* to the request's source address and port (NASDAQ's way) */
    SC_MOLD_RESPONSE_MULTICAST,   /* to the group: every listener missing them takes them */
};

enum sc_fsync {
    SC_FSYNC_BATCH = 0, /* fsync once per do_work batch of journal appends */
    SC_FSYNC_MESSAGE,   /* fsync after every sequenced message */
    SC_FSYNC_NONE,      /* leave it to the kernel */
};

struct sc_nak_cfg {
    uint64_t backoff_ns;   /* NAK_BO_IVL: random back-off in (0, backoff] before a NAK */
    uint64_t repeat_ns;    /* NAK_RPT_IVL: wait for an NCF before NAKing again */
    uint64_t rdata_ns;     /* NAK_RDATA_IVL: wait for the repair after an NCF */
    uint32_t ncf_retries;  /* NAKs without an NCF before the gap is declared lost */
    uint32_t data_retries; /* NCFs without data before the gap is declared lost */
    bool ramp;             /* first waits 1/8, 1/4, 1/2 of repeat/rdata, then the full value */
};

struct sc_rtx_cfg {
    uint64_t delay_ns;   /* NCF at once; RDATA after this delay, coalescing duplicate NAKs */
    uint64_t holdoff_ns; /* a packet repaired less than this ago is not repaired again */
    uint64_t rate_bps; /* retransmit rate limit, separate from the data rate */
    uint32_t budget;   /* sequences one receiver may NAK per second */
    uint32_t ncf_rate; /* NCF packets per second, all receivers together (0 = unlimited) */
};

struct sc_spm_cfg {
    uint64_t ambient_ns;                            /* SPM interval when idle */
    uint32_t nheartbeat;                            /* entries in heartbeat_ns */
    uint64_t heartbeat_ns[SC_CFG_MAX_HEARTBEATS];   /* schedule after data, then ambient */
    uint64_t answer_interval_ns; /* SPMs answering SPMRs and NAKs for data no longer held:
                                    at most one per interval */
};

/* An IPv4 prefix: addr (network order, host bits zero) / prefix (0-32). */
struct sc_cidr {
    struct in_addr addr;
    uint8_t prefix;
};

/* A unicast UDP endpoint: address (network order) and port (host order). */
struct sc_addr_port {
    struct in_addr addr;
    uint16_t port;
};

/* MoldUDP64 channels (protocol: moldudp64). */
struct sc_mold_cfg {
    char session[SC_CFG_MOLD_SESSION_MAX + 1]; /* "" = publisher: from its random identity;
                                                  subscriber: the first session seen */
    uint64_t heartbeat_ns;   /* publisher: a heartbeat when no data left for this long */
    uint64_t eos_time_ns;    /* publisher: End of Session repeated for this long at close */
    enum sc_mold_response response;
    uint32_t request_max;    /* server: larger requests are ignored (counted) */
    uint32_t response_bytes; /* server: bytes of blocks per response; 0 = what fits the MTU */
    uint32_t nrequest_allow; /* server: 0 = requests from any address */
    struct sc_cidr request_allow[SC_CFG_MAX_SOURCE_ALLOW]; /* else only from these */
    uint32_t nrequest_servers; /* client: 0 = the data's source address at `port` */
    struct sc_addr_port request_servers[SC_CFG_MAX_REQUEST_SERVERS]; /* tried in turn */
    uint32_t request_count;  /* client: most messages one request asks for */
};

#define SC_CFG_MAX_REWIND 4 /* recovery.rewind */

/* Subscriber: recovery from archives (seqcast-archive --rewind). */
struct sc_recovery_cfg {
    uint32_t nrewind;
    struct sc_addr_port rewind[SC_CFG_MAX_REWIND]; /* rewind servers, in turn */
    uint64_t from;       /* late_join: archive starts here */
    uint64_t hold_bytes; /* live messages held while a rewind catches up */
    uint64_t timeout_ns; /* a recovery that makes no progress this long reports the loss */
    char user[7], password[11]; /* the rewinds' Login Request ("": blanks) */
    /* MoldUDP64: re-request servers (archives' serve) asked, in turn, for what
     * a mold.request_servers server says it no longer holds */
    uint32_t nrequest_servers;
    struct sc_addr_port request_servers[SC_CFG_MAX_REQUEST_SERVERS];
};

/* transport: ipc channels (engine/ipc.h: the log's format). */
enum sc_ipc_backpressure {
    SC_IPC_DROP = 0, /* the writer never waits: a reader it laps gets a not_in_window loss */
    SC_IPC_BLOCK,    /* the writer waits for the slowest registered reader (counted) */
};

struct sc_ipc_cfg {
    char dir[SC_CFG_PATH_MAX];    /* where the log lives: DIR/seqcast.CHANNEL */
    uint64_t size;                /* the log's ring, bytes: a power of two */
    uint32_t mode;                /* the log's permission bits (readers need read) */
    char group[SC_CFG_NAME_MAX];  /* the log's group; "" = the writer's */
    enum sc_ipc_backpressure backpressure;
};

struct sc_channel_cfg {
    char name[SC_CFG_NAME_MAX];
    char profile[SC_CFG_NAME_MAX]; /* the profile its defaults came from */
    struct in_addr group;          /* multicast group */
    struct in_addr group_b;        /* the B line: every packet also sent here (0 = none) */
    uint16_t port;                 /* UDP port of the multicast data (OpenPGM: mcast port) */
    uint16_t nak_port;             /* UDP port NAKs are sent to; 0 = auto: subscribers NAK to
                                      port, a publisher also listens on 3055 (sc_channel_nak_port) */
    uint16_t pgm_port;             /* PGM data-destination port in every header */
    struct in_addr interface;      /* multicast interface: IP_MULTICAST_IF and joins */
    struct in_addr source;         /* unicast address advertised for NAKs; 0 = interface */
    enum sc_transport transport;
    enum sc_framing framing;
    enum sc_protocol protocol;
    uint8_t ttl;
    bool loop;           /* IP_MULTICAST_LOOP: same-host subscribers see the data */
    bool gso;            /* kernel UDP: UDP_SEGMENT sends of equal-size packet runs */
    uint32_t mtu;        /* largest IP datagram sent */
    uint32_t window_packets; /* transmit window: packets kept for repair ... */
    uint64_t window_ns;      /* ... and for at most this long */
    uint32_t rx_window_packets; /* receive window per source */
    uint64_t data_rate_bps;     /* 0 = unlimited */
    uint64_t batch_delay_ns;    /* implicit batching: longest a message waits to be sent */
    struct sc_rtx_cfg rtx;
    struct sc_nak_cfg nak;
    struct sc_spm_cfg spm;
    uint64_t source_timeout_ns; /* a source silent this long is reported gone */
    uint32_t max_sources;       /* subscriber: sources followed or remembered at once */
    uint32_t nsource_allow;     /* subscriber: 0 = packets from any address */
    struct sc_cidr source_allow[SC_CFG_MAX_SOURCE_ALLOW]; /* else only from these */
    uint64_t close_timeout_ns;  /* a closing publisher whose transport takes nothing this
                                   long gives up on what is unsent */
    enum sc_late_join late_join;
    uint64_t rcvbuf; /* SO_RCVBUF bytes */
    uint64_t sndbuf; /* SO_SNDBUF bytes */
    struct sc_mold_cfg mold;
    struct sc_recovery_cfg recovery;
    struct sc_ipc_cfg ipc;
};

struct sc_dpdk_cfg {
    uint32_t neal_args;
    char eal_args[SC_CFG_MAX_EAL_ARGS][SC_CFG_EAL_ARG_MAX]; /* added to the built-in ones */
    char device[SC_CFG_PATH_MAX]; /* --vdev or PCI device, e.g. net_af_packet0,iface=veth0 */
    uint16_t port_id;
    uint32_t mempool_size; /* mbufs */
    uint32_t mempool_cache;
    uint16_t burst;
    uint16_t rx_desc;
    uint16_t tx_desc;
    bool no_huge; /* run EAL with --no-huge (no hugepages needed, slower) */
    bool tx_zero_copy; /* send the publisher's window buffers attached to mbufs, not copied (off) */
};

struct sc_user_cfg {
    char name[7];      /* SoupBinTCP username: up to 6 printable characters */
    char password[11]; /* up to 10 printable characters */
};

struct sc_session_cfg {
    char name[SC_CFG_NAME_MAX];
    char session_id[11];            /* SoupBinTCP session; defaults to the name */
    char listen[SC_CFG_PATH_MAX];   /* server: "tcp:HOST:PORT" or "unix:/path" */
    char connect[SC_CFG_PATH_MAX];  /* client: "tcp:HOST:PORT" or "unix:/path" */
    uint64_t heartbeat_ns;          /* send a heartbeat after this long without output */
    uint64_t timeout_ns;            /* end the session after this long without input */
    uint32_t nusers;
    struct sc_user_cfg users[SC_CFG_MAX_USERS]; /* server: who may log in */
    struct sc_user_cfg login;                   /* client: the credentials it uses */
    char journal[SC_CFG_PATH_MAX];  /* sequenced-message journal; "" = memory only */
    enum sc_fsync fsync;
    uint64_t reconnect_min_ns;      /* client back-off, doubling up to max */
    uint64_t reconnect_max_ns;
    uint32_t max_message;           /* largest payload accepted */
    uint32_t max_connections;       /* server: logged-in connections at most */
    uint32_t max_pending;           /* server: connections not logged in yet, at most */
    uint64_t login_timeout_ns;      /* server: the login must come this long after the accept */
    uint32_t lockout_failures;      /* server: failed logins from one address within */
    uint64_t lockout_window_ns;     /*   this long lock it out */
    uint64_t lockout_ns;            /*   for this long */
    uint32_t lockout_addresses;     /* server: addresses whose failures are tracked */
};

/* Live counters (<seqcast/shmstat.h>): a program that honours them publishes
 * its counters and loss log in a shared-memory file that seqcast-stat reads. */
struct sc_stats_cfg {
    bool shm;                      /* publish them */
    char shm_dir[SC_CFG_PATH_MAX]; /* "" = $SEQCAST_STAT_DIR, else /dev/shm/seqcast */
    uint64_t shm_interval_ns;      /* between two publications */
    uint32_t loss_log;             /* loss-log entries */
};

#define SC_CFG_MAX_ARCHIVES 8

/* seqcast-archive: one channel it records (the archive: list), into its own
 * directory, serving re-requests and rewinds of that channel. */
struct sc_archive_cfg {
    char channel[SC_CFG_NAME_MAX];       /* a channels[] name */
    char dir[SC_CFG_PATH_MAX];           /* the store (created; its parent must exist) */
    uint64_t segment_bytes, index_bytes; /* a new segment past this; an index entry per this */
    uint64_t retain_bytes;               /* 0: no size limit */
    uint64_t retain_age_ns;              /* 0: no age limit */
    enum sc_fsync fsync;
    uint64_t fsync_interval_ns;          /* fsync batch: a sync starts at most this often */
    uint32_t nserve;                     /* 0 or 1: MoldUDP64 re-requests on this address */
    struct sc_addr_port serve[1];
    char rewind[SC_CFG_PATH_MAX];        /* rewinds: "tcp:HOST:PORT", "unix:/path"; "": none */
    char rewind_session[SC_CFG_NAME_MAX]; /* a sessions[] name: its users and limits; "": defaults */
};

struct sc_config {
    char origin[SC_CFG_PATH_MAX]; /* the file it was loaded from, or "<defaults>" */
    uint32_t nchannels;
    struct sc_channel_cfg channels[SC_CFG_MAX_CHANNELS];
    struct sc_dpdk_cfg dpdk;
    uint32_t nsessions;
    struct sc_session_cfg sessions[SC_CFG_MAX_SESSIONS];
    struct sc_stats_cfg stats;
    uint32_t narchives;
    struct sc_archive_cfg archives[SC_CFG_MAX_ARCHIVES];
};

/* Built-in defaults: one channel "default" (lan profile, group 239.192.0.1,
 * interface 127.0.0.1 so nothing leaves the machine), no order sessions. */
void sc_config_init(struct sc_config *cfg);

/* Load a YAML deployment over the built-in defaults. A file with a channels:
 * list replaces the default channel.
 * @return 0, or -EINVAL / -ENOENT / ... with err->msg naming file:line:column,
 *         the key path, the bad value and what was expected. */
int sc_config_load_file(struct sc_config *cfg, const char *path, struct sc_err *err);

/* The same from memory; name is used in error messages. */
int sc_config_load_string(struct sc_config *cfg, const char *name, const char *text, size_t len,
                          struct sc_err *err);

/* A size as the keys take it: "65536" (bytes), "64KiB", "8MiB", "1GB", or K, M,
 * G (binary: "64M" = 64MiB). @return 0, -EINVAL (not a size), -ERANGE */
int sc_config_parse_size(const char *s, uint64_t *bytes);

/* A duration as the keys take it: "250us", "10s", "2min" (or "2m"), "3h", "7d";
 * a bare number only when 0. @return 0 and *ns, -EINVAL, -ERANGE */
int sc_config_parse_duration(const char *s, uint64_t *ns);

/* Override one key: "KEY=VALUE". KEY is a channel key (applies to every
 * channel, e.g. "nak.backoff=100us"), or "channels.NAME.KEY", "sessions.NAME.KEY",
 * "dpdk.KEY". Lists take comma-separated values.
 * @return 0 or -EINVAL with err->msg. */
int sc_config_set(struct sc_config *cfg, const char *assignment, struct sc_err *err);

/* Cross-field checks (also run by load and set). @return 0 or -EINVAL. */
int sc_config_validate(const struct sc_config *cfg, struct sc_err *err);

/* Look-ups by name; NULL name gives the first entry. NULL if absent. */
struct sc_channel_cfg *sc_config_channel(struct sc_config *cfg, const char *name);
struct sc_session_cfg *sc_config_session(struct sc_config *cfg, const char *name);

/* Print the effective configuration as YAML that loads back to the same values. */
void sc_config_print(const struct sc_config *cfg, FILE *out);

/* Print the markdown reference of every key: its type, its lan and wan
 * defaults and what it means (docs/CONFIG.md embeds it). */
void sc_config_print_reference(FILE *out);

#endif
