/* Configuration schema: the key tables, built-in defaults and profiles, value
 * parsing and formatting, validation, --set overrides and printing.
 * No YAML here (yaml.c walks the document and calls into this file).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_int.h"

#define NS_US UINT64_C(1000)
#define NS_MS UINT64_C(1000000)
#define NS_S UINT64_C(1000000000)

/* ------------------------------------------------------------------ tables */

static const char *const transport_names[] = { "udp", "dpdk", "ipc", NULL };
static const char *const ipc_backpressure_names[] = { "drop", "block", NULL };
static const char *const framing_names[] = { "batched", "raw", NULL };
static const char *const late_join_names[] = { "live", "window", "first", "archive", NULL };
static const char *const protocol_names[] = { "pgm", "moldudp64", NULL };
static const char *const mold_response_names[] = { "unicast", "multicast", NULL };
static const char *const fsync_names[] = { "batch", "message", "none", NULL };
const char *const sc_cfg_profile_names[] = { "lan", "wan", NULL };

#define FIELD(st, f) .off = offsetof(st, f), .size = sizeof(((st *)0)->f)
#define CH(f) FIELD(struct sc_channel_cfg, f)
#define DP(f) FIELD(struct sc_dpdk_cfg, f)
#define SS(f) FIELD(struct sc_session_cfg, f)
#define US(f) FIELD(struct sc_user_cfg, f)
#define ST(f) FIELD(struct sc_stats_cfg, f)
#define AR(f) FIELD(struct sc_archive_cfg, f)
#define U16MAX 65535
#define U32MAX UINT32_MAX

static const struct sc_cfg_key channel_keys[] = {
    { "name", SC_VT_STR, CH(name), .flags = SC_KEY_IDENTITY,
      .doc = "Channel name, unique in the file (required; --channel NAME selects it)." },
    { "profile", SC_VT_STR, CH(profile), .flags = SC_KEY_IDENTITY,
      .doc = "Profile the channel's defaults come from: `lan`, `wan` or one under `profiles:`." },
    { "group", SC_VT_MCAST, CH(group), .flags = SC_KEY_IDENTITY,
      .doc = "IPv4 multicast group of the feed." },
    { "group_b", SC_VT_MCAST, CH(group_b), .flags = SC_KEY_IDENTITY | SC_KEY_NONE_OK,
      .doc = "A second group, the B line: the publisher sends every packet to both groups and "
             "subscribers take whichever copy comes first (A/B arbitration; twice the "
             "bandwidth). `none` = one line. Kernel UDP transport only." },
    { "port", SC_VT_UINT, CH(port), .min = 1, .max = U16MAX, .flags = SC_KEY_IDENTITY,
      .doc = "UDP port of the multicast data (OpenPGM's mcast port)." },
    { "nak_port", SC_VT_UINT, CH(nak_port), .min = 1, .max = U16MAX,
      .flags = SC_KEY_IDENTITY | SC_KEY_AUTO_OK,
      .doc = "UDP port receivers send NAKs to. `auto`: subscribers NAK to `port`, the data port, "
             "where OpenPGM senders (at their default ports too) and seqcast publishers read "
             "them; a publisher sends from 3055 and listens there and on `port`. A number: "
             "subscribers NAK to it; a publisher sends from it and listens on it and on `port`." },
    { "pgm_port", SC_VT_UINT, CH(pgm_port), .min = 1, .max = U16MAX, .flags = SC_KEY_IDENTITY,
      .doc = "PGM data-destination port carried in every PGM header." },
    { "interface", SC_VT_IPV4, CH(interface), .flags = SC_KEY_IDENTITY,
      .doc = "Local address of the multicast interface (IP_MULTICAST_IF and group joins). "
             "The default keeps all traffic on this machine." },
    { "source", SC_VT_IPV4, CH(source), .flags = SC_KEY_IDENTITY,
      .doc = "Unicast address the publisher advertises for NAKs (SPM path NLA); 0.0.0.0 = "
             "`interface`." },
    { "transport", SC_VT_ENUM, CH(transport), .names = transport_names,
      .flags = SC_KEY_IDENTITY,
      .doc = "`udp` (kernel sockets), `dpdk` (raw Ethernet) or `ipc` (same host: a log in a "
             "shared memory-mapped file, `ipc.*`; one writer, any number of reader processes)." },
    { "framing", SC_VT_ENUM, CH(framing), .names = framing_names, .flags = SC_KEY_IDENTITY,
      .doc = "`batched`: a MoldUDP64 block per packet, 64-bit message sequences; `raw`: one "
             "message per packet (OpenPGM's format)." },
    { "protocol", SC_VT_ENUM, CH(protocol), .names = protocol_names, .flags = SC_KEY_IDENTITY,
      .doc = "`pgm`: PGM over UDP (the blocks of `framing` inside ODATA, repair by NAK); "
             "`moldudp64`: NASDAQ MoldUDP64 1.00, the blocks as the whole UDP payload, repair "
             "by re-request (the `mold.*` keys; PROTOCOL.md, MoldUDP64). `moldudp64` needs "
             "`framing: batched`; messages must fit one packet." },
    { "ttl", SC_VT_UINT, CH(ttl), .min = 0, .max = 255, .doc = "Multicast TTL." },
    { "loop", SC_VT_BOOL, CH(loop),
      .doc = "Multicast loopback: subscribers on the publisher's host see the data." },
    { "gso", SC_VT_BOOL, CH(gso),
      .doc = "Kernel UDP: send runs of equal-size packets as one UDP GSO send (UDP_SEGMENT), "
             "and let the subscriber's socket receive such runs whole (UDP_GRO); turned off by "
             "itself where the kernel or device refuses it." },
    { "mtu", SC_VT_UINT, CH(mtu), .min = 576, .max = U16MAX,
      .doc = "Largest IP datagram sent (bytes); PGM packets are sized to fit." },
    { "window.packets", SC_VT_UINT, CH(window_packets), .min = 16, .max = 1u << 24,
      .doc = "Transmit window: packets kept for retransmission (rounded up to a power of two)." },
    { "window.time", SC_VT_DURATION, CH(window_ns), .min = NS_MS, .max = 3600 * NS_S,
      .doc = "Transmit window: longest time a packet is kept." },
    { "rx_window", SC_VT_UINT, CH(rx_window_packets), .min = 16, .max = 1u << 24,
      .doc = "Receive window per source, in packets (rounded up to a power of two; MoldUDP64: "
             "in messages)." },
    { "data_rate", SC_VT_RATE, CH(data_rate_bps), .max = UINT64_MAX,
      .doc = "Data rate limit in bits per second (0 = unlimited)." },
    { "batch_delay", SC_VT_DURATION, CH(batch_delay_ns), .max = NS_S,
      .doc = "Implicit batching: longest a message waits for more to share its packet." },
    { "rtx.delay", SC_VT_DURATION, CH(rtx.delay_ns), .max = NS_S,
      .doc = "Delay before an RDATA, coalescing duplicate NAKs (the NCF goes at once)." },
    { "rtx.holdoff", SC_VT_DURATION, CH(rtx.holdoff_ns), .max = 60 * NS_S,
      .doc = "A packet repaired less than this ago is not repaired again, and one an NCF "
             "confirmed less than half of this ago gets no second NCF: late NAKs come from "
             "receivers the multicast repair or NCF had not reached yet (keep it below the "
             "receivers' first nak.rdata wait, and half of it below their first nak.repeat "
             "wait)." },
    { "rtx.rate", SC_VT_RATE, CH(rtx.rate_bps), .max = UINT64_MAX,
      .doc = "Retransmit rate limit in bits per second, separate from `data_rate` (0 = "
             "unlimited); MoldUDP64: the re-request server's responses, counted with their "
             "IP and UDP headers." },
    { "rtx.budget", SC_VT_UINT, CH(rtx.budget), .min = 1, .max = U32MAX,
      .doc = "Sequences one receiver (NAKing address) may NAK per second; the rest are dropped "
             "and counted (`nak_over_budget`). Addresses beyond the publisher's table of 1,024 "
             "active this second share one such budget (`nak_budget_shared`). MoldUDP64: "
             "messages one requesting address may be sent per second (`mold_req_over_budget`, "
             "`mold_budget_shared`)." },
    { "rtx.ncf_rate", SC_VT_UINT, CH(rtx.ncf_rate), .max = U32MAX,
      .doc = "NCF packets per second the publisher multicasts, all receivers together (0 = "
             "unlimited); each NCF confirms up to 63 sequences. NAKs whose NCF it holds back "
             "are still repaired (the repair itself tells the receivers), and counted "
             "(`ncf_rate_limited`)." },
    { "nak.backoff", SC_VT_DURATION, CH(nak.backoff_ns), .min = NS_US, .max = 10 * NS_S,
      .doc = "NAK_BO_IVL: a receiver waits a random time in (0, backoff] before NAKing." },
    { "nak.repeat", SC_VT_DURATION, CH(nak.repeat_ns), .min = NS_US, .max = 60 * NS_S,
      .doc = "NAK_RPT_IVL: wait for an NCF before NAKing again." },
    { "nak.rdata", SC_VT_DURATION, CH(nak.rdata_ns), .min = NS_US, .max = 60 * NS_S,
      .doc = "NAK_RDATA_IVL: wait for the repair after an NCF before NAKing again." },
    { "nak.ncf_retries", SC_VT_UINT, CH(nak.ncf_retries), .min = 1, .max = 255,
      .doc = "NAKs sent without an NCF before the gap is declared lost." },
    { "nak.data_retries", SC_VT_UINT, CH(nak.data_retries), .min = 1, .max = 255,
      .doc = "NCFs received without the data before the gap is declared lost." },
    { "nak.ramp", SC_VT_BOOL, CH(nak.ramp),
      .doc = "Retry sooner at first: the waits for an NCF and for the repair start at 1/8 of "
             "`nak.repeat` / `nak.rdata` and double up to them, so a lost NCF or repair costs "
             "a fraction of the full wait." },
    { "spm.ambient", SC_VT_DURATION, CH(spm.ambient_ns), .min = NS_MS, .max = 3600 * NS_S,
      .doc = "SPM interval while the source is idle." },
    { "spm.heartbeat", SC_VT_DURATION_LIST, CH(spm.heartbeat_ns[0]),
      .count_off = offsetof(struct sc_channel_cfg, spm.nheartbeat),
      .max_items = SC_CFG_MAX_HEARTBEATS, .min = NS_US, .max = 3600 * NS_S,
      .doc = "SPM schedule after data (each entry the gap to the next SPM), then `spm.ambient`; "
             "reveals tail loss quickly. On a steady stream (gap G <= 10 ms) at most one SPM "
             "per 2 G; at session start it runs once whatever the data does (PROTOCOL.md, "
             "Heartbeats)." },
    { "spm.answer_interval", SC_VT_DURATION, CH(spm.answer_interval_ns), .max = 60 * NS_S,
      .doc = "SPMs answering SPMRs and NAKs for data no longer held: at most one per interval "
             "(the first at once; one SPM answers everyone who asked meanwhile, counted in "
             "`spm_answers_held`); 0 = one for every request." },
    { "source_timeout", SC_VT_DURATION, CH(source_timeout_ns), .min = NS_MS,
      .max = 86400 * NS_S, .doc = "A source silent this long (no data, no SPM) is reported gone." },
    { "max_sources", SC_VT_UINT, CH(max_sources), .min = 1, .max = 4096,
      .doc = "Subscriber: sources (sessions) followed or remembered at once. Each costs its "
             "receive-window slots and NAK list (`rx_window` x 56 B) and a 64 KiB reassembly "
             "buffer, touched as used, plus a window of packet buffers (`rx_window` x 1472 B) "
             "once it sends data. A newcomer to a full table takes the place of a source that "
             "never sent data (SPMs only), least recently heard first; sources that sent data "
             "are never evicted (the newcomer is refused and counted)." },
    { "source_allow", SC_VT_CIDR_LIST, CH(source_allow[0]),
      .count_off = offsetof(struct sc_channel_cfg, nsource_allow),
      .max_items = SC_CFG_MAX_SOURCE_ALLOW,
      .doc = "Subscriber: IPv4 addresses or prefixes (`10.1.2.3`, `198.18.0.0/15`) whose "
             "packets are read; anything else is dropped before it is parsed and counted "
             "(`rx_source_denied`). `[]` = any." },
    { "close_timeout", SC_VT_DURATION, CH(close_timeout_ns), .min = NS_MS, .max = 3600 * NS_S,
      .doc = "A closing publisher whose transport takes nothing for this long (a peer gone) "
             "gives up on what is unsent (counted in `close_unsent`) and ends the session." },
    { "late_join", SC_VT_ENUM, CH(late_join), .names = late_join_names,
      .doc = "`live`: a new subscriber starts at the live edge; `window`: it recovers what the "
             "publisher still holds; `first` (`protocol: moldudp64` only): it requests "
             "everything from message 1 (what the server no longer holds is a loss event, "
             "`not_in_window`); `archive`: a rewind from `recovery.rewind` from "
             "`recovery.from`, merged into the live stream in order (PGM batched or MoldUDP64)." },
    { "rcvbuf", SC_VT_SIZE, CH(rcvbuf), .min = 4096, .max = 1ull << 31,
      .doc = "SO_RCVBUF (a warning is printed when the kernel clamps it)." },
    { "sndbuf", SC_VT_SIZE, CH(sndbuf), .min = 4096, .max = 1ull << 31, .doc = "SO_SNDBUF." },
    { "mold.session", SC_VT_ALPHA, CH(mold.session), .flags = SC_KEY_IDENTITY,
      .doc = "MoldUDP64 session, up to 10 printable characters (space-padded on the wire). "
             "Publisher: `\"\"` = derived from its random identity. Subscriber: `\"\"` follows "
             "every session that arrives, each a source (the source-table rules apply; "
             "`max_sources: 1` keeps to the first); set, only that session (the rest dropped, "
             "`rx_wrong_session`)." },
    { "mold.heartbeat", SC_VT_DURATION, CH(mold.heartbeat_ns), .min = NS_MS, .max = 3600 * NS_S,
      .doc = "MoldUDP64 publisher: a heartbeat (count 0, the next message number) when no data "
             "left for this long, so a lost tail shows within it; one at once when the session "
             "starts. NASDAQ sends one a second." },
    { "mold.eos_time", SC_VT_DURATION, CH(mold.eos_time_ns), .max = 3600 * NS_S,
      .doc = "MoldUDP64 publisher: at close, End of Session (count 0xFFFF) goes out after the "
             "backlog and again every `mold.heartbeat` for this long (requests are served "
             "meanwhile; keep the publisher running that long after `sc_pub_closed`)." },
    { "mold.response", SC_VT_ENUM, CH(mold.response), .names = mold_response_names,
      .doc = "MoldUDP64 re-request server: `unicast` answers to the request's source address "
             "and port (NASDAQ's way); `multicast` answers to the group, where every listener "
             "missing the same messages takes them (and drops its own pending request)." },
    { "mold.request_max", SC_VT_UINT, CH(mold.request_max), .min = 1, .max = 65534,
      .doc = "MoldUDP64 re-request server: most messages one request may ask for; larger "
             "requests are ignored and counted (`mold_req_over_max`)." },
    { "mold.response_bytes", SC_VT_UINT, CH(mold.response_bytes), .min = 64, .max = 65507,
      .flags = SC_KEY_AUTO_OK,
      .doc = "MoldUDP64 re-request server: most bytes of message blocks in one response "
             "(`auto`: what fits one packet, `mtu` - 48); a response always holds the first "
             "message asked for. What does not fit is requested again." },
    { "mold.request_allow", SC_VT_CIDR_LIST, CH(mold.request_allow[0]),
      .count_off = offsetof(struct sc_channel_cfg, mold.nrequest_allow),
      .max_items = SC_CFG_MAX_SOURCE_ALLOW,
      .doc = "MoldUDP64 re-request server: IPv4 addresses or prefixes whose requests are "
             "served; others are ignored and counted (`mold_req_denied`). `[]` = any. The "
             "per-address budget (`rtx.budget`, in messages) and `rtx.rate` apply as well." },
    { "mold.request_servers", SC_VT_ADDR_PORT_LIST, CH(mold.request_servers[0]),
      .count_off = offsetof(struct sc_channel_cfg, mold.nrequest_servers),
      .max_items = SC_CFG_MAX_REQUEST_SERVERS, .flags = SC_KEY_IDENTITY,
      .doc = "MoldUDP64 subscriber: re-request servers, `ADDR:PORT` each, tried in turn on "
             "retries. `[]` = the data's source address at `port` (where a seqcast publisher "
             "listens)." },
    { "mold.request_count", SC_VT_UINT, CH(mold.request_count), .min = 1, .max = 65534,
      .doc = "MoldUDP64 subscriber: most messages one request asks for (at most "
             "`mold.request_max`); a response holds one packet's worth, the rest is asked for "
             "again. Timers: `nak.backoff` before a request, `nak.rdata` for the response, "
             "`nak.data_retries` requests before the range is lost." },
    { "recovery.rewind", SC_VT_ADDR_PORT_LIST, CH(recovery.rewind[0]),
      .count_off = offsetof(struct sc_channel_cfg, recovery.nrewind),
      .max_items = SC_CFG_MAX_REWIND,
      .doc = "Subscriber: archives' rewind servers (`seqcast-archive --rewind`), `ADDR:PORT` "
             "each, for redundancy. A loss the publisher can no longer repair is fetched from "
             "them (the live stream held meanwhile) before it is reported; only a range every "
             "one lacks is a loss event, `not_in_archive`. `[]` = none (PGM batched or "
             "MoldUDP64 channels that follow one source -- `max_sources: 1`, or `mold.session` "
             "-- as an archive records one)." },
    { "recovery.from", SC_VT_UINT, CH(recovery.from), .min = 1, .max = UINT64_MAX >> 1,
      .doc = "Subscriber, `late_join: archive`: the first sequence wanted (1 = the start)." },
    { "recovery.hold", SC_VT_SIZE, CH(recovery.hold_bytes), .min = 4096, .max = 1ull << 34,
      .doc = "Subscriber: live messages held while a rewind catches up; when full the hold "
             "starts again at the newest (`recovery_hold_restarts`) and the rewind covers the "
             "rest." },
    { "recovery.timeout", SC_VT_DURATION, CH(recovery.timeout_ns), .min = NS_MS,
      .max = 3600 * NS_S,
      .doc = "Subscriber: a recovery that delivers nothing for this long (every archive "
             "unreachable) reports what it waits for as `not_in_archive`." },
    { "recovery.user", SC_VT_ALPHA, CH(recovery.user),
      .doc = "Subscriber: the username of the rewinds' Login Request (up to 6 characters; "
             "`\"\"` = blanks): one of the archive's `archive[].rewind_session` users when that "
             "session has any." },
    { "recovery.password", SC_VT_ALPHA, CH(recovery.password),
      .doc = "Subscriber: the rewinds' password (up to 10 characters)." },
    { "recovery.request_servers", SC_VT_ADDR_PORT_LIST, CH(recovery.request_servers[0]),
      .count_off = offsetof(struct sc_channel_cfg, recovery.nrequest_servers),
      .max_items = SC_CFG_MAX_REQUEST_SERVERS,
      .doc = "MoldUDP64 subscriber: re-request servers of the second line (archives' "
             "`archive[].serve`), `ADDR:PORT` each, several for redundancy, tried in turn on "
             "retries. Messages a `mold.request_servers` server (by default the publisher) "
             "answers it no longer holds are asked for here, with `nak.data_retries` "
             "requests of their own (`requests_second_line`), before they are lost "
             "(`not_in_window`). `[]` = none." },
    { "ipc.dir", SC_VT_STR, CH(ipc.dir), .flags = SC_KEY_IDENTITY,
      .doc = "`transport: ipc`: the directory of the log, `DIR/seqcast.CHANNEL` (and "
             "`DIR/seqcast.CHANNEL.readers`, the reader slots). /dev/shm keeps it in memory." },
    { "ipc.size", SC_VT_SIZE, CH(ipc.size), .min = 64 << 10, .max = 1ull << 40,
      .doc = "`transport: ipc`: bytes of the log's ring, a power of two; it retains the newest "
             "messages (16 bytes of header each, 16-byte aligned). A late joiner with "
             "`late_join: window` starts at the oldest retained message." },
    { "ipc.mode", SC_VT_MODE, CH(ipc.mode),
      .doc = "`transport: ipc`: permission bits of the log (octal); readers need read "
             "permission. The reader-slot file gets write permission wherever the log has "
             "read (readers register there under `ipc.backpressure: block`)." },
    { "ipc.group", SC_VT_STR, CH(ipc.group),
      .doc = "`transport: ipc`: group owning the log and the reader-slot file (a name); `\"\"` = "
             "the writer's." },
    { "ipc.backpressure", SC_VT_ENUM, CH(ipc.backpressure), .names = ipc_backpressure_names,
      .doc = "`transport: ipc`: `drop`: the writer never waits; a reader it laps loses the "
             "overwritten messages (a loss event, `not_in_window`). `block`: readers register "
             "their position and the writer waits for the slowest (sc_pub_send returns "
             "-EAGAIN; counted in `ipc_blocked`, `ipc_stall`); a reader that died is "
             "noticed and released." },
};

static const struct sc_cfg_key dpdk_keys[] = {
    { "eal_args", SC_VT_STR_LIST, DP(eal_args[0]),
      .count_off = offsetof(struct sc_dpdk_cfg, neal_args), .max_items = SC_CFG_MAX_EAL_ARGS,
      .doc = "Extra EAL arguments, after the built-in `--in-memory --no-pci --file-prefix`." },
    { "device", SC_VT_STR, DP(device),
      .doc = "Device to attach: a vdev such as `net_af_packet0,iface=veth0` or "
             "`net_memif0,role=server`, or a PCI address." },
    { "port_id", SC_VT_UINT, DP(port_id), .max = 1023, .doc = "DPDK port id to use." },
    { "mempool_size", SC_VT_UINT, DP(mempool_size), .min = 255, .max = 1u << 24,
      .doc = "mbufs in the pool." },
    { "mempool_cache", SC_VT_UINT, DP(mempool_cache), .max = 512, .doc = "Per-lcore mbuf cache." },
    { "burst", SC_VT_UINT, DP(burst), .min = 1, .max = SC_CFG_DPDK_BURST_MAX,
      .doc = "Frames per call to the port: the most one poll reads (`rte_eth_rx_burst`), and "
             "the size of the pieces a send is cut into (`rte_eth_tx_burst`). Also the engine's "
             "burst on this channel: a publisher queues and sends this many packets at a time, a "
             "subscriber reads this many (its buffer pool keeps two bursts spare). 1 to 128." },
    { "rx_desc", SC_VT_UINT, DP(rx_desc), .min = 32, .max = 16384, .doc = "RX ring descriptors." },
    { "tx_desc", SC_VT_UINT, DP(tx_desc), .min = 32, .max = 16384, .doc = "TX ring descriptors." },
    { "no_huge", SC_VT_BOOL, DP(no_huge),
      .doc = "Run without hugepages (`--no-huge`): works anywhere, slower." },
    { "tx_zero_copy", SC_VT_BOOL, DP(tx_zero_copy),
      .doc = "A publisher's data and repairs leave from its window's buffers themselves, "
             "attached to mbufs as external buffers (`rte_pktmbuf_attach_extbuf`), not copied; "
             "the window keeps room for the frame's headers in front of each packet. Off by "
             "default: on the software PMDs (af_packet, af_xdp, memif, pcap, null) the copy it "
             "saves is of cache-hot bytes, and into net_null it measured no faster (BENCHMARKS.md, "
             "change table). A NIC would also need the window's memory registered for DMA, "
             "which is not done." },
};

static const struct sc_cfg_key session_keys[] = {
    { "name", SC_VT_STR, SS(name), .doc = "Session name, unique in the file (required)." },
    { "session_id", SC_VT_ALPHA, SS(session_id),
      .doc = "SoupBinTCP session id (up to 10 characters); defaults to `name`." },
    { "listen", SC_VT_ENDPOINT, SS(listen),
      .doc = "Server address: `tcp:HOST:PORT` or `unix:/path`." },
    { "connect", SC_VT_ENDPOINT, SS(connect),
      .doc = "Address the client connects to: `tcp:HOST:PORT` or `unix:/path`." },
    { "heartbeat", SC_VT_DURATION, SS(heartbeat_ns), .min = NS_MS, .max = 3600 * NS_S,
      .doc = "Send a heartbeat after this long without output." },
    { "timeout", SC_VT_DURATION, SS(timeout_ns), .min = NS_MS, .max = 3600 * NS_S,
      .doc = "End the session after this long without input." },
    { "login.user", SC_VT_ALPHA, SS(login.name),
      .doc = "Client: username it logs in with (up to 6 characters)." },
    { "login.password", SC_VT_ALPHA, SS(login.password),
      .doc = "Client: password it logs in with (up to 10 characters)." },
    { "journal", SC_VT_STR, SS(journal),
      .doc = "Server: journal file of sequenced messages (\"\" keeps them in memory only)." },
    { "fsync", SC_VT_ENUM, SS(fsync), .names = fsync_names,
      .doc = "Journal durability: `batch` (once per batch), `message` (every message), `none`." },
    { "reconnect.min", SC_VT_DURATION, SS(reconnect_min_ns), .min = NS_MS, .max = 3600 * NS_S,
      .doc = "Client: first reconnect delay, doubling on each failure ..." },
    { "reconnect.max", SC_VT_DURATION, SS(reconnect_max_ns), .min = NS_MS, .max = 3600 * NS_S,
      .doc = "... up to this." },
    { "max_message", SC_VT_UINT, SS(max_message), .min = 1, .max = 65534,
      .doc = "Largest message payload accepted (bytes); larger packets end the session." },
    { "max_connections", SC_VT_UINT, SS(max_connections), .min = 1, .max = 65536,
      .doc = "Server: logged-in connections at most; a login beyond them is refused (the "
             "connection closed, counted in `refused_full`)." },
    { "max_pending", SC_VT_UINT, SS(max_pending), .min = 1, .max = 65536,
      .doc = "Server: connections not logged in yet, at most; when full, the oldest is closed "
             "to make room for a new one (`pending_evicted`)." },
    { "login_timeout", SC_VT_DURATION, SS(login_timeout_ns), .min = 10 * NS_MS, .max = 3600 * NS_S,
      .doc = "Server: a connection must log in this long after it is accepted, however many "
             "bytes it sends meanwhile (`closed_login_timeout`)." },
    { "lockout.failures", SC_VT_UINT, SS(lockout_failures), .min = 1, .max = 1000000,
      .doc = "Server: this many failed logins from one address (IPv4 address, IPv6 /64, or "
             "Unix-socket peer uid) ..." },
    { "lockout.window", SC_VT_DURATION, SS(lockout_window_ns), .min = NS_MS, .max = 86400 * NS_S,
      .doc = "... within this long ..." },
    { "lockout.duration", SC_VT_DURATION, SS(lockout_ns), .min = NS_MS, .max = 86400 * NS_S,
      .doc = "... lock it out this long: its connections are closed unheard (`login_locked_out`)." },
    { "lockout.addresses", SC_VT_UINT, SS(lockout_addresses), .min = 8, .max = 1u << 20,
      .doc = "Server: addresses tracked; when the table is full, failures from the rest share "
             "one entry (`lockout_table_full`), so the limit still holds." },
};

static const struct sc_cfg_key user_keys[] = {
    { "name", SC_VT_ALPHA, US(name), .doc = "Username (up to 6 characters)." },
    { "password", SC_VT_ALPHA, US(password), .doc = "Password (up to 10 characters)." },
};

static const struct sc_cfg_key stats_keys[] = {
    { "shm", SC_VT_BOOL, ST(shm),
      .doc = "Publish the program's counters and loss log in a shared-memory file "
             "(`DIR/PROGRAM.PID.NAME.scstat`) that `seqcast-stat` reads while it runs. Copied "
             "from the agents' stats every `shm_interval`: nothing on the hot path." },
    { "shm_dir", SC_VT_STR, ST(shm_dir),
      .doc = "Directory of the counters files. Empty: `$SEQCAST_STAT_DIR`, else "
             "`/dev/shm/seqcast` (made mode 1777, as /tmp)." },
    { "shm_interval", SC_VT_DURATION, ST(shm_interval_ns), .min = NS_MS, .max = 60 * NS_S,
      .doc = "Between two publications of the counters (a reader sees values this old at most)." },
    { "loss_log", SC_VT_UINT, ST(loss_log), .min = 1, .max = 65536,
      .doc = "Entries in the file's loss log: the last losses, NAKs unanswered and sources up "
             "and down (`seqcast-stat --loss`)." },
};

static const struct sc_cfg_key archive_keys[] = {
    { "channel", SC_VT_STR, AR(channel),
      .doc = "The channel recorded: a `channels[]` name (each at most once)." },
    { "dir", SC_VT_STR, AR(dir),
      .doc = "The channel's store: segment files, made if missing (its parent must exist); "
             "a directory per channel, one process at a time." },
    { "segment_size", SC_VT_SIZE, AR(segment_bytes), .min = 4096, .max = 1ull << 40,
      .doc = "A new segment file past this size." },
    { "index_every", SC_VT_SIZE, AR(index_bytes), .min = 64, .max = 1ull << 30,
      .doc = "One entry of the in-memory sparse index per this many bytes of records." },
    { "retain_size", SC_VT_SIZE, AR(retain_bytes), .max = UINT64_MAX >> 1,
      .doc = "Delete whole oldest segments while the store is larger (0 = keep all)." },
    { "retain_age", SC_VT_DURATION, AR(retain_age_ns), .max = 3650 * 86400 * NS_S,
      .doc = "... and those last written longer ago (0 = keep all)." },
    { "fsync", SC_VT_ENUM, AR(fsync), .names = fsync_names,
      .doc = "`batch`: one fdatasync per wake-up that appended; `message`: after every "
             "message; `none`: left to the kernel. Rewinds serve what is durable." },
    { "fsync_interval", SC_VT_DURATION, AR(fsync_interval_ns), .max = 10 * NS_S,
      .doc = "`fsync: batch`: a sync starts at most this often (what came meanwhile waits for "
             "the next; 0 = one after another as soon as the last is done, 2,000-5,000 a "
             "second at 1 M msg/s)." },
    { "serve", SC_VT_ADDR_PORT_LIST, AR(serve[0]),
      .count_off = offsetof(struct sc_archive_cfg, nserve), .max_items = 1,
      .doc = "MoldUDP64 channels: answer re-requests for anything archived on this unicast "
             "`ADDR:PORT` (the channel's `mold.request_*`, `rtx.budget` and `rtx.rate` are "
             "the defences). `[]` = none." },
    { "rewind", SC_VT_ENDPOINT, AR(rewind),
      .doc = "Serve rewinds (SoupBinTCP 4.0) on `tcp:HOST:PORT` or `unix:/path`: the "
             "archive's messages from the Login Request's sequence, then live ones. `\"\"` = "
             "none." },
    { "rewind_session", SC_VT_STR, AR(rewind_session),
      .doc = "A `sessions[]` name whose users (a login must match one), heartbeat, timeout "
             "and limits the rewinds use (its `listen` is ignored). `\"\"` = the session "
             "defaults, any login accepted." },
};

static const struct {
    const struct sc_cfg_key *keys;
    size_t n;
} sections[SC_SEC_COUNT] = {
    [SC_SEC_CHANNEL] = { channel_keys, sizeof(channel_keys) / sizeof(channel_keys[0]) },
    [SC_SEC_DPDK] = { dpdk_keys, sizeof(dpdk_keys) / sizeof(dpdk_keys[0]) },
    [SC_SEC_SESSION] = { session_keys, sizeof(session_keys) / sizeof(session_keys[0]) },
    [SC_SEC_USER] = { user_keys, sizeof(user_keys) / sizeof(user_keys[0]) },
    [SC_SEC_STATS] = { stats_keys, sizeof(stats_keys) / sizeof(stats_keys[0]) },
    [SC_SEC_ARCHIVE] = { archive_keys, sizeof(archive_keys) / sizeof(archive_keys[0]) },
};

const struct sc_cfg_key *
sc_cfg_keys(enum sc_cfg_section sec, size_t *n)
{
    *n = sections[sec].n;
    return sections[sec].keys;
}

const struct sc_cfg_key *
sc_cfg_key_find(enum sc_cfg_section sec, const char *name)
{
    for (size_t i = 0; i < sections[sec].n; i++)
        if (strcmp(sections[sec].keys[i].name, name) == 0)
            return &sections[sec].keys[i];
    return NULL;
}

bool
sc_cfg_is_group(enum sc_cfg_section sec, const char *name)
{
    size_t l = strlen(name);

    for (size_t i = 0; i < sections[sec].n; i++) {
        const char *k = sections[sec].keys[i].name;
        if (strncmp(k, name, l) == 0 && k[l] == '.')
            return true;
    }
    return false;
}

/* ------------------------------------------------------------- suggestions */

static size_t
edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[64];

    if (la >= 63 || lb >= 63)
        return 99;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t sub = prev + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
            size_t best = row[j] + 1 < row[j - 1] + 1 ? row[j] + 1 : row[j - 1] + 1;
            row[j] = sub < best ? sub : best;
            prev = cur;
        }
    }
    return row[lb];
}

static bool
close_enough(const char *bad, const char *cand, size_t d)
{
    size_t l = strlen(bad) > strlen(cand) ? strlen(bad) : strlen(cand);
    return d <= 2 || d * 3 <= l;
}

const char *
sc_cfg_suggest_word(const char *const *words, const char *bad)
{
    const char *best = NULL;
    size_t bd = 99;

    for (; *words; words++) {
        size_t d = edit_distance(bad, *words);
        if (d < bd && close_enough(bad, *words, d)) {
            bd = d;
            best = *words;
        }
    }
    return best;
}

const char *
sc_cfg_suggest(enum sc_cfg_section sec, const char *prefix, const char *bad, char *buf,
               size_t len)
{
    size_t pl = strlen(prefix), bd = 99;
    bool found = false;

    for (size_t i = 0; i < sections[sec].n; i++) {
        const char *k = sections[sec].keys[i].name, *dot;
        char cand[64];
        size_t d, cl;

        if (strncmp(k, prefix, pl) != 0)
            continue;
        k += pl; /* the component at this level */
        dot = strchr(k, '.');
        cl = dot ? (size_t)(dot - k) : strlen(k);
        if (cl >= sizeof(cand))
            continue;
        memcpy(cand, k, cl);
        cand[cl] = '\0';
        d = edit_distance(bad, cand);
        if (d < bd && close_enough(bad, cand, d)) {
            bd = d;
            snprintf(buf, len, "%s", cand);
            found = true;
        }
    }
    return found ? buf : NULL;
}

/* ------------------------------------------------------------ value parsing */

struct sc_cfg_unit {
    const char *name;
    uint64_t mult;
};

static const struct sc_cfg_unit duration_units[] = {
    { "ns", 1 },      { "us", NS_US },        { "ms", NS_MS },          { "s", NS_S },
    { "min", 60 * NS_S }, { "m", 60 * NS_S }, { "h", 3600 * NS_S }, { "d", 86400 * NS_S },
    { NULL, 0 }
};
/* K, M, G (binary, as command lines write them) last: values are printed
 * with the first of equal units */
static const struct sc_cfg_unit size_units[] = {
    { "B", 1 },          { "KB", 1000 },        { "KiB", 1024 },         { "MB", 1000000 },
    { "MiB", 1u << 20 }, { "GB", 1000000000 }, { "GiB", 1ull << 30 }, { "K", 1024 },
    { "M", 1u << 20 },   { "G", 1ull << 30 },  { NULL, 0 }
};
static const struct sc_cfg_unit rate_units[] = {
    { "bit", 1 }, { "kbit", 1000 }, { "Mbit", 1000000 }, { "Gbit", 1000000000 }, { NULL, 0 }
};

/* "<decimal>[.<fraction>][ ]<unit>"; a bare number is accepted only when
 * bare_ok (then the first unit applies) or the value is 0. */
static int
parse_units(const char *s, const struct sc_cfg_unit *units, bool bare_ok, uint64_t *out)
{
    uint64_t ip = 0, fp = 0, fscale = 1, mult = 0;
    const char *p = s;
    bool digits = false;

    while (isspace((unsigned char)*p))
        p++;
    for (; isdigit((unsigned char)*p); p++, digits = true) {
        if (ip > (UINT64_MAX - 9) / 10)
            return -ERANGE;
        ip = ip * 10 + (uint64_t)(*p - '0');
    }
    if (*p == '.') {
        p++;
        for (; isdigit((unsigned char)*p); p++, digits = true)
            if (fscale < UINT64_C(1000000000000)) {
                fp = fp * 10 + (uint64_t)(*p - '0');
                fscale *= 10;
            }
    }
    if (!digits)
        return -EINVAL;
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '\0') {
        if (!bare_ok && (ip || fp))
            return -EINVAL;
        mult = units[0].mult;
    } else {
        const char *e = p + strlen(p);
        while (e > p && isspace((unsigned char)e[-1]))
            e--;
        for (const struct sc_cfg_unit *u = units; u->name; u++)
            if (strlen(u->name) == (size_t)(e - p) && strncmp(u->name, p, (size_t)(e - p)) == 0)
                mult = u->mult;
        if (!mult)
            return -EINVAL;
    }
    if (ip > UINT64_MAX / mult)
        return -ERANGE;
    *out = ip * mult + (fp * mult) / fscale;
    if ((fp * mult) % fscale)
        return -EINVAL; /* finer than the smallest unit */
    return 0;
}

int
sc_config_parse_size(const char *s, uint64_t *bytes)
{
    return parse_units(s, size_units, true, bytes);
}

int
sc_config_parse_duration(const char *s, uint64_t *ns)
{
    return parse_units(s, duration_units, false, ns);
}

static void
format_units(uint64_t v, const struct sc_cfg_unit *units, char *buf, size_t len)
{
    const struct sc_cfg_unit *best = &units[0];

    if (v != 0)
        for (const struct sc_cfg_unit *u = units; u->name; u++)
            if (v % u->mult == 0 && u->mult > best->mult)
                best = u;
    snprintf(buf, len, "%llu%s", (unsigned long long)(v / best->mult), v ? best->name : "");
}

static bool
is_alpha_value(const char *s)
{
    for (; *s; s++)
        if (*s <= 0x20 || *s > 0x7E)
            return false;
    return true;
}

static int
check_endpoint(const char *s, char *why, size_t len)
{
    if (strncmp(s, "unix:", 5) == 0) {
        size_t l = strlen(s + 5);
        if (l == 0 || l >= 108) {
            snprintf(why, len, "expected unix:/path with a path of 1 to 107 characters");
            return -EINVAL;
        }
        return 0;
    }
    if (strncmp(s, "tcp:", 4) == 0) {
        const char *colon = strrchr(s + 4, ':');
        char *end;
        unsigned long port;
        if (colon && colon > s + 4) {
            port = strtoul(colon + 1, &end, 10);
            if (*end == '\0' && colon[1] && port >= 1 && port <= 65535)
                return 0;
        }
    }
    snprintf(why, len, "expected tcp:HOST:PORT (port 1-65535) or unix:/path");
    return -EINVAL;
}

static void *
field(const struct sc_cfg_key *k, void *base)
{
    return (char *)base + k->off;
}

static uint32_t *
list_count(const struct sc_cfg_key *k, void *base)
{
    return (uint32_t *)(void *)((char *)base + k->count_off);
}

void
sc_cfg_list_clear(const struct sc_cfg_key *k, void *base)
{
    *list_count(k, base) = 0;
}

static int
range_check(const struct sc_cfg_key *k, uint64_t v, char *why, size_t len)
{
    char lo[32], hi[32];

    if (v >= k->min && v <= k->max)
        return 0;
    if (k->type->units) {
        format_units(k->min, k->type->units, lo, sizeof(lo));
        format_units(k->max, k->type->units, hi, sizeof(hi));
    } else {
        snprintf(lo, sizeof(lo), "%llu", (unsigned long long)k->min);
        snprintf(hi, sizeof(hi), "%llu", (unsigned long long)k->max);
    }
    snprintf(why, len, "out of range: expected %s to %s%s", lo, hi,
             (k->flags & SC_KEY_AUTO_OK) ? ", or auto" : "");
    return -EINVAL;
}

/* A YAML double-quoted scalar: quotes, backslashes and control bytes escaped,
 * so any string loads back as itself. */
static void
quote(const char *s, char *buf, size_t len)
{
    size_t o = 0;

    if (len < 3) {
        if (len)
            buf[0] = '\0';
        return;
    }
    buf[o++] = '"';
    for (; *s && o + 6 < len; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)c;
        } else if (c < 0x20 || c == 0x7F) { /* bytes >= 0x80 (UTF-8) pass as they are */
            o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
        } else {
            buf[o++] = (char)c;
        }
    }
    buf[o++] = '"';
    buf[o] = '\0';
}

/* ------------------------------------------------- value types (parse, format)
 * One handler pair per type, as nginx's ngx_conf_set_*_slot: parse one value
 * into dst (the field, or a list's next element) or say why not; format one
 * value back to the text that parses to it. The key table names each key's
 * type; lists, ranges and errors are handled once, around the handlers. */

static int
parse_bool(const struct sc_cfg_key *k, const char *s, void *dst, char *why, size_t len)
{
    (void)k;
    if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"))
        *(bool *)dst = true;
    else if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off"))
        *(bool *)dst = false;
    else {
        snprintf(why, len, "expected true or false");
        return -EINVAL;
    }
    return 0;
}

static void
format_bool(const struct sc_cfg_key *k, const void *src, char *buf, size_t len)
{
    (void)k;
    snprintf(buf, len, "%s", *(const bool *)src ? "true" : "false");
}

static uint64_t
load_uint(const struct sc_cfg_key *k, const void *src)
{
    return k->size == 1   ? *(const uint8_t *)src
           : k->size == 2 ? *(const uint16_t *)src
           : k->size == 8 ? *(const uint64_t *)src : *(const uint32_t *)src;
}

static int
parse_uint(const struct sc_cfg_key *k, const char *s, void *dst, char *why, size_t len)
{
    uint64_t v = 0;
    char *end = NULL;
    int rc;

    if (!((k->flags & SC_KEY_AUTO_OK) && !strcmp(s, "auto"))) {
        errno = 0;
        if (isdigit((unsigned char)s[0]))
            v = strtoull(s, &end, 10);
        if (!end || *end || errno) {
            snprintf(why, len, "expected a whole number");
            return -EINVAL;
        }
        if ((rc = range_check(k, v, why, len)) < 0)
            return rc;
    }
    if (k->size == 1)
        *(uint8_t *)dst = (uint8_t)v;
    else if (k->size == 2)
        *(uint16_t *)dst = (uint16_t)v;
    else if (k->size == 8)
        *(uint64_t *)dst = v;
    else
        *(uint32_t *)dst = (uint32_t)v;
    return 0;
}

static void
format_uint(const struct sc_cfg_key *k, const void *src, char *buf, size_t len)
{
    uint64_t v = load_uint(k, src);

    if ((k->flags & SC_KEY_AUTO_OK) && !v)
        snprintf(buf, len, "auto");
    else
        snprintf(buf, len, "%llu", (unsigned long long)v);
}

/* permission bits: octal digits, "0640" or "640" */
static int
parse_mode(const struct sc_cfg_key *k, const char *s, void *dst, char *why, size_t len)
{
    uint64_t v = 0;
    const char *c = s;

    (void)k;
    for (; *c >= '0' && *c <= '7' && v <= 07777; c++)
        v = v * 8 + (uint64_t)(*c - '0');
    if (c == s || *c || v > 07777) {
        snprintf(why, len, "expected permission bits in octal, e.g. 0640");
        return -EINVAL;
    }
    *(uint32_t *)dst = (uint32_t)v;
    return 0;
}

static void
format_mode(const struct sc_cfg_key *k, const void *src, char *buf, size_t len)
{
    (void)k;
    snprintf(buf, len, "0%o", *(const uint32_t *)src);
}

/* durations, sizes and rates: a number and one of the type's units (a bare
 * number only for sizes, or 0) */
static int
parse_measure(const struct sc_cfg_key *k, const char *s, void *dst, char *why, size_t len)
{
    uint64_t v;
    int rc;

    if (parse_units(s, k->type->units, k->type->units == size_units, &v) < 0) {
        snprintf(why, len, "%s", k->type->expect);
        return -EINVAL;
    }
    if (k->type->units != rate_units && (rc = range_check(k, v, why, len)) < 0)
        return rc;
    *(uint64_t *)dst = v;
    return 0;
}

static void
format_measure(const struct sc_cfg_key *k, const void *src, char *buf, size_t len)
{
    format_units(*(const uint64_t *)src, k->type->units, buf, len);
}

static int
parse_addr(const struct sc_cfg_key *k, const char *s, void *dst, char *why, size_t len)
{
    const bool group = k->type == SC_VT_MCAST;
    struct in_addr a;
    bool mc;

    if ((k->flags & SC_KEY_NONE_OK) && !strcmp(s, "none")) {
        ((struct in_addr *)dst)->s_addr = 0;
        return 0;
    }
    if (inet_pton(AF_INET, s, &a) != 1) {
        snprintf(why, len, "expected an IPv4 address such as %s",
                 group ? "239.192.0.1" : "127.0.0.1");
        return -EINVAL;
    }
    mc = (ntohl(a.s_addr) >> 28) == 0xE;
    if (group != mc) {
        snprintf(why, len, "%s",
                 group ? "expected a multicast group (224.0.0.0/4), e.g. 239.192.0.1"
                       : "expected a unicast address, not a multicast group");
        return -EINVAL;
    }
    *(struct in_addr *)dst = a;
    return 0;
}

static void
format_addr(const struct sc_cfg_key *k, const void *src, char *buf, size_t len)
{
    if ((k->flags & SC_KEY_NONE_OK) && !((const struct in_addr *)src)->s_addr)
        snprintf(buf, len, "none");
    else
        inet_ntop(AF_INET, src, buf, (socklen_t)len);
}

static int
parse_enum(const struct sc_cfg_key *k, const char *s, void *dst, char *why, size_t len)
{
    size_t o;

    for (unsigned i = 0; k->names[i]; i++)
        if (!strcmp(s, k->names[i])) {
            *(unsigned *)dst = i;
            return 0;
        }
    o = (size_t)snprintf(why, len, "expected one of:");
    for (unsigned i = 0; k->names[i] && o < len; i++)
        o += (size_t)snprintf(why + o, len - o, " %s", k->names[i]);
    return -EINVAL;
}

static void
format_enum(const struct sc_cfg_key *k, const void *src, char *buf, size_t len)
{
    snprintf(buf, len, "%s", k->names[*(const unsigned *)src]);
}

/* strings: plain, ALPHA (SoupBinTCP fields: printable, no spaces) and
 * endpoints (tcp:HOST:PORT, unix:/path); the size is the buffer's */
static int
parse_string(const struct sc_cfg_key *k, const char *s, void *dst, char *why, size_t len)
{
    int rc;

    if (k->type == SC_VT_ALPHA && !is_alpha_value(s)) {
        snprintf(why, len, "expected printable ASCII without spaces");
        return -EINVAL;
    }
    if (strlen(s) >= k->size) {
        snprintf(why, len, "too long: at most %u characters", k->size - 1u);
        return -EINVAL;
    }
    if (k->type == SC_VT_ENDPOINT && s[0] && (rc = check_endpoint(s, why, len)) < 0)
        return rc;
    memcpy(dst, s, strlen(s) + 1);
    return 0;
}

static void
format_string(const struct sc_cfg_key *k, const void *src, char *buf, size_t len)
{
    (void)k;
    quote(src, buf, len);
}

/* "A.B.C.D" or "A.B.C.D/N" */
static int
parse_cidr(const struct sc_cfg_key *k, const char *s, void *dst, char *why, size_t len)
{
    struct sc_cidr c = { .prefix = 32 };
    const char *slash = strchr(s, '/');
    char a[INET_ADDRSTRLEN];
    uint32_t mask;

    (void)k;
    if ((slash ? (size_t)(slash - s) : strlen(s)) >= sizeof(a))
        goto bad;
    snprintf(a, sizeof(a), "%.*s", slash ? (int)(slash - s) : (int)strlen(s), s);
    if (inet_pton(AF_INET, a, &c.addr) != 1)
        goto bad;
    if (slash) {
        char *end;
        unsigned long p;
        if (!isdigit((unsigned char)slash[1]))
            goto bad;
        p = strtoul(slash + 1, &end, 10);
        if (*end || p > 32)
            goto bad;
        c.prefix = (uint8_t)p;
    }
    if ((ntohl(c.addr.s_addr) >> 28) == 0xE) {
        snprintf(why, len, "expected a unicast address or prefix, not a multicast group");
        return -EINVAL;
    }
    mask = c.prefix ? htonl(~0u << (32 - c.prefix)) : 0;
    if (c.addr.s_addr & ~mask) {
        struct in_addr net = { c.addr.s_addr & mask };
        inet_ntop(AF_INET, &net, a, sizeof(a));
        snprintf(why, len, "host bits set after the /%u prefix: did you mean %s/%u?", c.prefix, a,
                 c.prefix);
        return -EINVAL;
    }
    *(struct sc_cidr *)dst = c;
    return 0;

bad:
    snprintf(why, len, "expected an IPv4 address or prefix, e.g. 10.1.2.3 or 198.18.0.0/15");
    return -EINVAL;
}

static void
format_cidr(const struct sc_cfg_key *k, const void *src, char *buf, size_t len)
{
    const struct sc_cidr *c = src;

    (void)k;
    inet_ntop(AF_INET, &c->addr, buf, (socklen_t)len);
    if (c->prefix != 32)
        snprintf(buf + strlen(buf), len - strlen(buf), "/%u", c->prefix);
}

/* "A.B.C.D:PORT": a unicast address and a port 1-65535 */
static int
parse_addr_port(const struct sc_cfg_key *k, const char *s, void *dst, char *why, size_t len)
{
    const char *colon = strrchr(s, ':');
    struct sc_addr_port ap;
    char a[INET_ADDRSTRLEN], *end;
    unsigned long port;

    (void)k;
    if (!colon || (size_t)(colon - s) >= sizeof(a) || !isdigit((unsigned char)colon[1]))
        goto bad;
    snprintf(a, sizeof(a), "%.*s", (int)(colon - s), s);
    port = strtoul(colon + 1, &end, 10);
    if (*end || port < 1 || port > 65535 || inet_pton(AF_INET, a, &ap.addr) != 1)
        goto bad;
    if ((ntohl(ap.addr.s_addr) >> 28) == 0xE || !ap.addr.s_addr) {
        snprintf(why, len, "expected a unicast address, not a multicast group or 0.0.0.0");
        return -EINVAL;
    }
    ap.port = (uint16_t)port;
    *(struct sc_addr_port *)dst = ap;
    return 0;

bad:
    snprintf(why, len, "expected ADDR:PORT, e.g. 10.1.2.3:3056 (port 1-65535)");
    return -EINVAL;
}

static void
format_addr_port(const struct sc_cfg_key *k, const void *src, char *buf, size_t len)
{
    const struct sc_addr_port *ap = src;

    (void)k;
    inet_ntop(AF_INET, &ap->addr, buf, (socklen_t)len);
    snprintf(buf + strlen(buf), len - strlen(buf), ":%u", ap->port);
}

#define DURATION_EXPECT "expected a duration with a unit (ns, us, ms, s, min), e.g. 50us"
#define TYPE(n, ref, list, parse, format, units, expect)                                  \
    const struct sc_cfg_type sc_cfg_vt_##n = { ref, list, parse, format, units, expect }
TYPE(bool, "bool", false, parse_bool, format_bool, NULL, NULL);
TYPE(uint, "integer", false, parse_uint, format_uint, NULL, NULL);
TYPE(mode, "octal", false, parse_mode, format_mode, NULL, NULL);
TYPE(duration, "duration", false, parse_measure, format_measure, duration_units, DURATION_EXPECT);
TYPE(size, "size", false, parse_measure, format_measure, size_units,
     "expected a size in bytes, e.g. 65536, 64KiB, 8MiB");
TYPE(rate, "rate", false, parse_measure, format_measure, rate_units,
     "expected a rate in bits per second, e.g. 100Mbit or 1Gbit (0 = unlimited)");
TYPE(ipv4, "IPv4", false, parse_addr, format_addr, NULL, NULL);
TYPE(mcast, "IPv4 group", false, parse_addr, format_addr, NULL, NULL);
TYPE(enum, "enum", false, parse_enum, format_enum, NULL, NULL);
TYPE(str, "string", false, parse_string, format_string, NULL, NULL);
TYPE(alpha, "string", false, parse_string, format_string, NULL, NULL);
TYPE(endpoint, "endpoint", false, parse_string, format_string, NULL, NULL);
TYPE(duration_list, "durations", true, parse_measure, format_measure, duration_units,
     DURATION_EXPECT);
TYPE(str_list, "strings", true, parse_string, format_string, NULL, NULL);
TYPE(cidr_list, "IPv4 prefixes", true, parse_cidr, format_cidr, NULL, NULL);
TYPE(addr_port_list, "ADDR:PORT list", true, parse_addr_port, format_addr_port, NULL, NULL);

bool
sc_cfg_is_list(const struct sc_cfg_key *k)
{
    return k->type->list;
}

int
sc_cfg_parse(const struct sc_cfg_key *k, const char *s, void *base, char *why, size_t len)
{
    uint32_t *n;
    int rc;

    if (!k->type->list)
        return k->type->parse(k, s, field(k, base), why, len);
    n = list_count(k, base);
    if (*n >= k->max_items) {
        snprintf(why, len, "too many entries: at most %u", k->max_items);
        return -EINVAL;
    }
    if ((rc = k->type->parse(k, s, (char *)field(k, base) + (size_t)k->size * *n, why, len)) < 0)
        return rc;
    (*n)++;
    return 0;
}

void
sc_cfg_format(const struct sc_cfg_key *k, const void *base, char *buf, size_t len)
{
    const char *src = (const char *)base + k->off;
    const uint32_t *n = (const uint32_t *)(const void *)((const char *)base + k->count_off);
    size_t o;

    if (!k->type->list) {
        k->type->format(k, src, buf, len);
        return;
    }
    o = (size_t)snprintf(buf, len, "[");
    for (uint32_t i = 0; i < *n && o < len; i++) {
        char one[4 * SC_CFG_EAL_ARG_MAX + 8];
        k->type->format(k, src + (size_t)k->size * i, one, sizeof(one));
        o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "", one);
    }
    if (o < len)
        snprintf(buf + o, len - o, "]");
}

/* ---------------------------------------------------------------- defaults */

static void
channel_lan(struct sc_channel_cfg *c)
{
    static const uint64_t hb[] = { 100 * NS_US, 200 * NS_US, 500 * NS_US, 1 * NS_MS, 2 * NS_MS,
                                   5 * NS_MS,   10 * NS_MS,  50 * NS_MS,  100 * NS_MS,
                                   500 * NS_MS };

    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "default");
    snprintf(c->profile, sizeof(c->profile), "lan");
    inet_pton(AF_INET, "239.192.0.1", &c->group);
    c->port = 3056;
    c->nak_port = 0; /* auto */
    c->pgm_port = 7500;
    inet_pton(AF_INET, "127.0.0.1", &c->interface);
    c->source.s_addr = 0;
    c->transport = SC_TRANSPORT_UDP;
    c->framing = SC_FRAMING_BATCHED;
    c->ttl = 1;
    c->loop = true;
    c->gso = true;
    c->mtu = 1500;
    c->window_packets = 16384;
    c->window_ns = 10 * NS_S;
    c->rx_window_packets = 16384;
    c->data_rate_bps = 0;
    c->batch_delay_ns = 10 * NS_US;
    c->rtx.delay_ns = 0;
    c->rtx.holdoff_ns = 300 * NS_US;
    c->rtx.rate_bps = 1000000000;
    c->rtx.budget = 20000;
    c->rtx.ncf_rate = 20000;
    c->nak.backoff_ns = 50 * NS_US;
    c->nak.repeat_ns = 2 * NS_MS;
    c->nak.rdata_ns = 4 * NS_MS;
    c->nak.ncf_retries = 10;
    c->nak.data_retries = 10;
    c->nak.ramp = true;
    c->spm.ambient_ns = 1 * NS_S;
    c->spm.nheartbeat = sizeof(hb) / sizeof(hb[0]);
    memcpy(c->spm.heartbeat_ns, hb, sizeof(hb));
    c->spm.answer_interval_ns = 1 * NS_MS;
    c->source_timeout_ns = 5 * NS_S;
    c->max_sources = 16;
    c->close_timeout_ns = 1 * NS_S;
    c->late_join = SC_LATE_JOIN_LIVE;
    c->recovery.from = 1;
    c->recovery.hold_bytes = 16ull << 20;
    c->recovery.timeout_ns = 10 * NS_S;
    c->rcvbuf = 8u << 20;
    c->sndbuf = 4u << 20;
    c->protocol = SC_PROTOCOL_PGM;
    c->mold.heartbeat_ns = 100 * NS_MS;
    c->mold.eos_time_ns = 1 * NS_S;
    c->mold.response = SC_MOLD_RESPONSE_UNICAST;
    c->mold.request_max = 65534;
    c->mold.response_bytes = 0; /* auto */
    c->mold.request_count = 1000;
    snprintf(c->ipc.dir, sizeof(c->ipc.dir), "/dev/shm");
    c->ipc.size = 64u << 20;
    c->ipc.mode = 0640;
    c->ipc.backpressure = SC_IPC_DROP;
}

/* PGM's traditional timers (OpenPGM's examples): 50 ms back-off, seconds of
 * patience, the 100 ms .. 30 s SPM decay. For links with real RTTs. */
static void
channel_wan(struct sc_channel_cfg *c)
{
    static const uint64_t hb[] = { 100 * NS_MS, 100 * NS_MS, 100 * NS_MS, 100 * NS_MS,
                                   1300 * NS_MS, 7 * NS_S,   16 * NS_S,   25 * NS_S, 30 * NS_S };

    channel_lan(c);
    snprintf(c->profile, sizeof(c->profile), "wan");
    c->ttl = 16;
    c->batch_delay_ns = 1 * NS_MS;
    c->rtx.delay_ns = 10 * NS_MS;
    c->rtx.holdoff_ns = 100 * NS_MS;
    c->rtx.rate_bps = 100000000;
    c->rtx.budget = 2000;
    c->rtx.ncf_rate = 2000;
    c->nak.backoff_ns = 50 * NS_MS;
    c->nak.repeat_ns = 200 * NS_MS;
    c->nak.rdata_ns = 500 * NS_MS;
    c->nak.ncf_retries = 50;
    c->nak.data_retries = 50;
    c->nak.ramp = false; /* round trips vary too much for early retries */
    c->spm.ambient_ns = 30 * NS_S;
    c->spm.nheartbeat = sizeof(hb) / sizeof(hb[0]);
    memcpy(c->spm.heartbeat_ns, hb, sizeof(hb));
    c->spm.answer_interval_ns = 100 * NS_MS;
    c->source_timeout_ns = 300 * NS_S;
    c->close_timeout_ns = 10 * NS_S;
    c->window_ns = 60 * NS_S;
    c->mold.heartbeat_ns = 1 * NS_S; /* NASDAQ's */
    c->mold.eos_time_ns = 10 * NS_S;
}

bool
sc_cfg_profile_builtin(const char *name, struct sc_channel_cfg *out)
{
    if (!strcmp(name, "lan"))
        channel_lan(out);
    else if (!strcmp(name, "wan"))
        channel_wan(out);
    else
        return false;
    return true;
}

void
sc_cfg_apply_profile(struct sc_channel_cfg *ch, const struct sc_channel_cfg *tmpl,
                     bool keep_identity)
{
    struct sc_channel_cfg keep = *ch;

    *ch = *tmpl;
    if (!keep_identity)
        return;
    for (size_t i = 0; i < sections[SC_SEC_CHANNEL].n; i++) {
        const struct sc_cfg_key *k = &channel_keys[i];
        if (!(k->flags & SC_KEY_IDENTITY) || !strcmp(k->name, "profile"))
            continue;
        if (sc_cfg_is_list(k)) { /* every element, and the count */
            memcpy((char *)ch + k->off, (char *)&keep + k->off, (size_t)k->size * k->max_items);
            memcpy((char *)ch + k->count_off, (char *)&keep + k->count_off, sizeof(uint32_t));
        } else {
            memcpy((char *)ch + k->off, (char *)&keep + k->off, k->size);
        }
    }
}

static void
dpdk_defaults(struct sc_dpdk_cfg *d)
{
    memset(d, 0, sizeof(*d));
    d->mempool_size = 8191;
    d->mempool_cache = 256;
    d->burst = 32;
    d->rx_desc = 1024;
    d->tx_desc = 1024;
}

static void
stats_defaults(struct sc_stats_cfg *st)
{
    memset(st, 0, sizeof(*st));
    st->shm_interval_ns = 100 * NS_MS;
    st->loss_log = 256;
}

void
sc_cfg_archive_defaults(struct sc_archive_cfg *a)
{
    memset(a, 0, sizeof(*a));
    a->segment_bytes = 64ull << 20;
    a->index_bytes = 4096;
    a->fsync = SC_FSYNC_BATCH;
    a->fsync_interval_ns = 5 * NS_MS;
}

void
sc_cfg_session_defaults(struct sc_session_cfg *s)
{
    memset(s, 0, sizeof(*s));
    s->heartbeat_ns = 1 * NS_S;
    s->timeout_ns = 15 * NS_S;
    s->fsync = SC_FSYNC_BATCH;
    s->reconnect_min_ns = 100 * NS_MS;
    s->reconnect_max_ns = 5 * NS_S;
    s->max_message = 4096;
    s->max_connections = 64;
    s->max_pending = 64;
    s->login_timeout_ns = 3 * NS_S;
    s->lockout_failures = 5;
    s->lockout_window_ns = 60 * NS_S;
    s->lockout_ns = 60 * NS_S;
    s->lockout_addresses = 1024;
}

void
sc_config_init(struct sc_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->origin, sizeof(cfg->origin), "<defaults>");
    cfg->nchannels = 1;
    channel_lan(&cfg->channels[0]);
    dpdk_defaults(&cfg->dpdk);
    stats_defaults(&cfg->stats);
}

/* --------------------------------------------------------------- validation */

/* The MoldUDP64 keys against the rest of the channel. */
static int
check_mold(const struct sc_channel_cfg *c, char *path, size_t plen, char *msg, size_t mlen)
{
    const uint32_t fit = c->mtu - 28 - 20; /* bytes of blocks one packet holds */

    if (c->protocol != SC_PROTOCOL_MOLDUDP64) {
        if (c->late_join == SC_LATE_JOIN_FIRST) {
            snprintf(path, plen, "late_join");
            snprintf(msg, mlen, "`first` is for protocol: moldudp64 (PGM channels: `window`)");
            return -EINVAL;
        }
        return 0;
    }
    if (c->framing != SC_FRAMING_BATCHED) {
        snprintf(path, plen, "framing");
        snprintf(msg, mlen, "protocol: moldudp64 sends MoldUDP64 blocks: framing must be batched");
        return -EINVAL;
    }
    if (c->mold.response_bytes > fit) {
        snprintf(path, plen, "mold.response_bytes");
        snprintf(msg, mlen, "%u bytes do not fit one packet: at most %u at mtu %u",
                 c->mold.response_bytes, fit, c->mtu);
        return -EINVAL;
    }
    if (c->mold.request_count > c->mold.request_max) {
        snprintf(path, plen, "mold.request_count");
        snprintf(msg, mlen, "must not exceed mold.request_max (%u): a seqcast server ignores "
                            "larger requests", c->mold.request_max);
        return -EINVAL;
    }
    if (c->source_timeout_ns <= c->mold.heartbeat_ns) {
        snprintf(path, plen, "source_timeout");
        snprintf(msg, mlen, "must be longer than mold.heartbeat, or idle sources time out");
        return -EINVAL;
    }
    return 0;
}

int
sc_cfg_check_channel(const struct sc_channel_cfg *c, char *path, size_t plen, char *msg,
                     size_t mlen)
{
    if (c->name[0] == '\0') {
        snprintf(path, plen, "name");
        snprintf(msg, mlen, "a channel needs a name");
        return -EINVAL;
    }
    if (c->spm.nheartbeat == 0) {
        snprintf(path, plen, "spm.heartbeat");
        snprintf(msg, mlen, "the heartbeat schedule needs at least one interval");
        return -EINVAL;
    }
    if (c->group_b.s_addr && c->group_b.s_addr == c->group.s_addr) {
        snprintf(path, plen, "group_b");
        snprintf(msg, mlen, "the B line must be a different group from `group`");
        return -EINVAL;
    }
    if (c->group_b.s_addr && c->transport != SC_TRANSPORT_UDP) {
        snprintf(path, plen, "group_b");
        snprintf(msg, mlen, "A/B lines are supported on the kernel UDP transport only");
        return -EINVAL;
    }
    if (c->source_timeout_ns <= c->spm.ambient_ns) {
        snprintf(path, plen, "source_timeout");
        snprintf(msg, mlen, "must be longer than spm.ambient, or idle sources time out");
        return -EINVAL;
    }
    if (c->late_join == SC_LATE_JOIN_ARCHIVE && !c->recovery.nrewind) {
        snprintf(path, plen, "late_join");
        snprintf(msg, mlen, "`archive` needs recovery.rewind");
        return -EINVAL;
    }
    if (c->recovery.nrewind && c->protocol == SC_PROTOCOL_PGM && c->framing != SC_FRAMING_BATCHED) {
        snprintf(path, plen, "recovery.rewind");
        snprintf(msg, mlen, "archives serve message sequences: PGM channels need framing: batched");
        return -EINVAL;
    }
    if (c->recovery.nrequest_servers && c->protocol != SC_PROTOCOL_MOLDUDP64) {
        snprintf(path, plen, "recovery.request_servers");
        snprintf(msg, mlen, "re-requests are MoldUDP64's: a PGM channel's second line is "
                            "recovery.rewind");
        return -EINVAL;
    }
    /* an archive records one source (the first it hears) and a rewind is one
     * sequence space: recovering a second source from it would deliver the
     * first one's messages under the second's sequences */
    if (c->recovery.nrewind && c->max_sources != 1 &&
        !(c->protocol == SC_PROTOCOL_MOLDUDP64 && c->mold.session[0])) {
        snprintf(path, plen, "recovery.rewind");
        snprintf(msg, mlen, "an archive records one source: set max_sources: 1%s, so the "
                            "subscriber follows one source too",
                 c->protocol == SC_PROTOCOL_MOLDUDP64 ? " (or mold.session)" : "");
        return -EINVAL;
    }
    if (c->ipc.size & (c->ipc.size - 1)) {
        snprintf(path, plen, "ipc.size");
        snprintf(msg, mlen, "must be a power of two (e.g. 64MiB)");
        return -EINVAL;
    }
    return check_mold(c, path, plen, msg, mlen);
}

int
sc_cfg_check_session(const struct sc_session_cfg *s, char *path, size_t plen, char *msg,
                     size_t mlen)
{
    if (s->name[0] == '\0') {
        snprintf(path, plen, "name");
        snprintf(msg, mlen, "a session needs a name");
        return -EINVAL;
    }
    if (s->session_id[0] == '\0' && (strlen(s->name) > 10 || !is_alpha_value(s->name))) {
        snprintf(path, plen, "session_id");
        snprintf(msg, mlen, "the name '%s' cannot be a SoupBinTCP session id (10 printable "
                            "characters, no spaces): set session_id", s->name);
        return -EINVAL;
    }
    if (s->heartbeat_ns >= s->timeout_ns) {
        snprintf(path, plen, "timeout");
        snprintf(msg, mlen, "must be longer than heartbeat, or live sessions time out");
        return -EINVAL;
    }
    if (s->reconnect_min_ns > s->reconnect_max_ns) {
        snprintf(path, plen, "reconnect.max");
        snprintf(msg, mlen, "must not be below reconnect.min");
        return -EINVAL;
    }
    return 0;
}

/* The items of one section (channels, sessions): each passes its own check,
 * and no two share a name (the first field of both structs). */
typedef int section_check_fn(const void *item, char *path, size_t plen, char *msg, size_t mlen);

static int
check_items(const struct sc_config *cfg, const char *section, const void *items, size_t size,
            uint32_t n, section_check_fn *check, struct sc_err *err)
{
    char path[64], msg[160];

    for (uint32_t i = 0; i < n; i++) {
        const char *name = (const char *)items + size * i;
        bool bad = check(name, path, sizeof(path), msg, sizeof(msg)) < 0;
        for (uint32_t j = 0; j < i && !bad; j++)
            if (!strcmp(name, (const char *)items + size * j)) {
                snprintf(path, sizeof(path), "name");
                snprintf(msg, sizeof(msg), "duplicate %.10s name", section);
                bad = true;
            }
        if (bad) {
            if (err) {
                err->code = -EINVAL;
                snprintf(err->msg, sizeof(err->msg), "%.60s: %ss.%.31s.%.40s: %.90s", cfg->origin,
                         section, name, path, msg);
            }
            return -EINVAL;
        }
    }
    return 0;
}

static int
check_channel(const void *c, char *path, size_t plen, char *msg, size_t mlen)
{
    return sc_cfg_check_channel(c, path, plen, msg, mlen);
}

static int
check_session(const void *s, char *path, size_t plen, char *msg, size_t mlen)
{
    return sc_cfg_check_session(s, path, plen, msg, mlen);
}

_Static_assert(offsetof(struct sc_channel_cfg, name) == 0, "check_items: name comes first");
_Static_assert(offsetof(struct sc_session_cfg, name) == 0, "check_items: name comes first");

int
sc_cfg_check_archive(const struct sc_config *cfg, uint32_t i, char *path, size_t plen, char *msg,
                     size_t mlen)
{
    const struct sc_archive_cfg *a = &cfg->archives[i];
    const struct sc_channel_cfg *ch = NULL;

    for (uint32_t k = 0; k < cfg->nchannels; k++)
        if (!strcmp(cfg->channels[k].name, a->channel))
            ch = &cfg->channels[k];
    snprintf(path, plen, "channel");
    if (!a->channel[0]) {
        snprintf(msg, mlen, "an archive needs the channel it records (channel: NAME)");
        return -EINVAL;
    }
    if (!ch) {
        snprintf(msg, mlen, "bad value '%.32s': no channel so named in channels[]", a->channel);
        return -EINVAL;
    }
    if (ch->transport == SC_TRANSPORT_IPC || (ch->protocol == SC_PROTOCOL_PGM &&
                                              ch->framing != SC_FRAMING_BATCHED)) {
        snprintf(msg, mlen, "'%.32s': archives record message sequences: PGM batched or "
                            "MoldUDP64, over the network", a->channel);
        return -EINVAL;
    }
    snprintf(path, plen, "dir");
    if (!a->dir[0]) {
        snprintf(msg, mlen, "an archive needs its directory (dir: PATH)");
        return -EINVAL;
    }
    for (uint32_t k = 0; k < i; k++) {
        snprintf(path, plen, !strcmp(cfg->archives[k].channel, a->channel) ? "channel" : "dir");
        if (!strcmp(cfg->archives[k].channel, a->channel)) {
            snprintf(msg, mlen, "'%.32s' is recorded by archive[%u] already", a->channel, k);
            return -EINVAL;
        }
        if (!strcmp(cfg->archives[k].dir, a->dir)) {
            snprintf(msg, mlen, "'%.100s' is archive[%u]'s: a directory per channel", a->dir, k);
            return -EINVAL;
        }
        if (a->nserve && cfg->archives[k].nserve && a->serve[0].port == cfg->archives[k].serve[0].port &&
            a->serve[0].addr.s_addr == cfg->archives[k].serve[0].addr.s_addr) {
            snprintf(path, plen, "serve");
            snprintf(msg, mlen, "archive[%u] serves on this address already", k);
            return -EINVAL;
        }
        if (a->rewind[0] && !strcmp(cfg->archives[k].rewind, a->rewind)) {
            snprintf(path, plen, "rewind");
            snprintf(msg, mlen, "archive[%u] serves rewinds on '%.100s' already", k, a->rewind);
            return -EINVAL;
        }
    }
    if (a->nserve && ch->protocol != SC_PROTOCOL_MOLDUDP64) {
        snprintf(path, plen, "serve");
        snprintf(msg, mlen, "re-requests are MoldUDP64's: channel '%.32s' is not protocol: "
                            "moldudp64", a->channel);
        return -EINVAL;
    }
    if (a->rewind_session[0]) {
        bool found = false;
        for (uint32_t k = 0; k < cfg->nsessions; k++)
            found |= !strcmp(cfg->sessions[k].name, a->rewind_session);
        snprintf(path, plen, "rewind_session");
        if (!found) {
            snprintf(msg, mlen, "bad value '%.32s': no session so named in sessions[]",
                     a->rewind_session);
            return -EINVAL;
        }
        if (!a->rewind[0]) {
            snprintf(msg, mlen, "without rewind: set rewind: tcp:HOST:PORT, or remove it");
            return -EINVAL;
        }
    }
    return 0;
}

int
sc_config_validate(const struct sc_config *cfg, struct sc_err *err)
{
    int rc = check_items(cfg, "channel", cfg->channels, sizeof(cfg->channels[0]), cfg->nchannels,
                         check_channel, err);

    if (rc == 0)
        rc = check_items(cfg, "session", cfg->sessions, sizeof(cfg->sessions[0]), cfg->nsessions,
                         check_session, err);
    for (uint32_t i = 0; i < cfg->narchives && rc == 0; i++) {
        char path[32], msg[192];
        if ((rc = sc_cfg_check_archive(cfg, i, path, sizeof(path), msg, sizeof(msg))) < 0 && err) {
            err->code = rc;
            snprintf(err->msg, sizeof(err->msg), "%.50s: archive[%u].%.20s: %.150s", cfg->origin, i,
                     path, msg);
        }
    }
    return rc;
}

/* --------------------------------------------------------------- look-ups */

struct sc_channel_cfg *
sc_config_channel(struct sc_config *cfg, const char *name)
{
    for (uint32_t i = 0; i < cfg->nchannels; i++)
        if (!name || !strcmp(cfg->channels[i].name, name))
            return &cfg->channels[i];
    return NULL;
}

struct sc_session_cfg *
sc_config_session(struct sc_config *cfg, const char *name)
{
    for (uint32_t i = 0; i < cfg->nsessions; i++)
        if (!name || !strcmp(cfg->sessions[i].name, name))
            return &cfg->sessions[i];
    return NULL;
}

/* -------------------------------------------------------------------- --set */

static int
set_err(struct sc_err *err, const char *fmt, ...)
{
    va_list ap;

    if (err) {
        err->code = -EINVAL;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* Apply one value to one key of one section object (lists: comma-separated). */
static int
set_value(enum sc_cfg_section sec, void *obj, const char *where, const char *key,
          const char *value, struct sc_err *err)
{
    const struct sc_cfg_key *k = sc_cfg_key_find(sec, key);
    char why[160], sug[64];

    if (!k) {
        const char *dot = strrchr(key, '.');
        char prefix[64] = "";
        const char *s;
        if (dot && (size_t)(dot - key) < sizeof(prefix) - 1)
            snprintf(prefix, sizeof(prefix), "%.*s.", (int)(dot - key), key);
        s = sc_cfg_suggest(sec, prefix, dot ? dot + 1 : key, sug, sizeof(sug));
        return set_err(err, "--set %s%s: unknown key%s%s%s%s", where, key,
                       s ? " (did you mean '" : "", s ? prefix : "", s ? s : "", s ? "'?)" : "");
    }
    if (sec == SC_SEC_CHANNEL && !strcmp(key, "profile")) {
        struct sc_channel_cfg t;
        if (!sc_cfg_profile_builtin(value, &t))
            return set_err(err, "--set %s%s: bad value '%s': expected lan or wan", where, key,
                           value);
        sc_cfg_apply_profile(obj, &t, true);
        snprintf(((struct sc_channel_cfg *)obj)->profile, SC_CFG_NAME_MAX, "%s", value);
        return 0;
    }
    if (sc_cfg_is_list(k)) {
        char tmp[1024], *save = NULL, *tok;
        snprintf(tmp, sizeof(tmp), "%s", value);
        sc_cfg_list_clear(k, obj);
        for (tok = strtok_r(tmp, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            while (isspace((unsigned char)*tok))
                tok++;
            if (sc_cfg_parse(k, tok, obj, why, sizeof(why)) < 0)
                return set_err(err, "--set %s%s: bad value '%s': %s", where, key, tok, why);
        }
        return 0;
    }
    if (sc_cfg_parse(k, value, obj, why, sizeof(why)) < 0)
        return set_err(err, "--set %s%s: bad value '%s': %s", where, key, value, why);
    return 0;
}

int
sc_config_set(struct sc_config *cfg, const char *assignment, struct sc_err *err)
{
    char key[192], where[96];
    const char *eq = strchr(assignment, '='), *value, *rest;
    size_t kl;
    int rc;

    if (!eq || eq == assignment)
        return set_err(err, "--set %s: expected KEY=VALUE", assignment);
    kl = (size_t)(eq - assignment);
    if (kl >= sizeof(key))
        return set_err(err, "--set: key too long");
    memcpy(key, assignment, kl);
    key[kl] = '\0';
    value = eq + 1;

    if (!strncmp(key, "dpdk.", 5)) {
        rc = set_value(SC_SEC_DPDK, &cfg->dpdk, "dpdk.", key + 5, value, err);
    } else if (!strncmp(key, "stats.", 6)) {
        rc = set_value(SC_SEC_STATS, &cfg->stats, "stats.", key + 6, value, err);
    } else if (!strncmp(key, "channels.", 9) || !strncmp(key, "sessions.", 9)) {
        bool is_ch = key[0] == 'c';
        const char *dot = strchr(key + 9, '.');
        char name[SC_CFG_NAME_MAX];
        void *obj;
        if (!dot || (size_t)(dot - key - 9) >= sizeof(name))
            return set_err(err, "--set %s: expected %s.NAME.KEY=VALUE", key,
                           is_ch ? "channels" : "sessions");
        snprintf(name, sizeof(name), "%.*s", (int)(dot - key - 9), key + 9);
        rest = dot + 1;
        obj = is_ch ? (void *)sc_config_channel(cfg, name) : (void *)sc_config_session(cfg, name);
        if (!obj)
            return set_err(err, "--set %s: no %s named '%s'", key, is_ch ? "channel" : "session",
                           name);
        snprintf(where, sizeof(where), "%.*s", (int)(rest - key), key);
        rc = set_value(is_ch ? SC_SEC_CHANNEL : SC_SEC_SESSION, obj, where, rest, value, err);
    } else {
        rc = 0;
        for (uint32_t i = 0; i < cfg->nchannels && rc == 0; i++)
            rc = set_value(SC_SEC_CHANNEL, &cfg->channels[i], "", key, value, err);
    }
    if (rc < 0)
        return rc;
    return sc_config_validate(cfg, err);
}

/* ----------------------------------------------------------------- printing */

static void
print_section(FILE *out, enum sc_cfg_section sec, const void *obj, const char *indent,
              const char *first_prefix)
{
    char group[64] = "", val[SC_CFG_FORMAT_MAX];
    const char *pre = first_prefix;

    for (size_t i = 0; i < sections[sec].n; i++) {
        const struct sc_cfg_key *k = &sections[sec].keys[i];
        const char *dot = strchr(k->name, '.');

        sc_cfg_format(k, obj, val, sizeof(val));
        if (sec == SC_SEC_CHANNEL && !strcmp(k->name, "profile")) {
            /* informational: every value is printed, and a user profile's
             * definition is not, so the output must not depend on it */
            fprintf(out, "%s%s# profile: %s\n", pre, indent, val);
            pre = "";
            indent = "    ";
            continue;
        }
        if (dot) {
            size_t gl = (size_t)(dot - k->name);
            if (strlen(group) != gl || strncmp(group, k->name, gl)) {
                snprintf(group, sizeof(group), "%.*s", (int)gl, k->name);
                fprintf(out, "%s%s%s:\n", pre, indent, group);
                pre = "";
            }
            fprintf(out, "%s  %s: %s\n", indent, dot + 1, val);
        } else {
            group[0] = '\0';
            fprintf(out, "%s%s%s: %s\n", pre, indent, k->name, val);
        }
        pre = "";
        if (*first_prefix)
            indent = "    ";
    }
}

void
sc_config_print(const struct sc_config *cfg, FILE *out)
{
    fprintf(out, "# effective configuration (from %s)\nchannels:\n", cfg->origin);
    for (uint32_t i = 0; i < cfg->nchannels; i++)
        print_section(out, SC_SEC_CHANNEL, &cfg->channels[i], "", "  - ");
    fprintf(out, "dpdk:\n");
    print_section(out, SC_SEC_DPDK, &cfg->dpdk, "  ", "");
    fprintf(out, "stats:\n");
    print_section(out, SC_SEC_STATS, &cfg->stats, "  ", "");
    if (cfg->narchives)
        fprintf(out, "archive:\n");
    for (uint32_t i = 0; i < cfg->narchives; i++)
        print_section(out, SC_SEC_ARCHIVE, &cfg->archives[i], "", "  - ");
    fprintf(out, "sessions:%s\n", cfg->nsessions ? "" : " []");
    for (uint32_t i = 0; i < cfg->nsessions; i++) {
        const struct sc_session_cfg *s = &cfg->sessions[i];
        print_section(out, SC_SEC_SESSION, s, "", "  - ");
        fprintf(out, "    users:%s\n", s->nusers ? "" : " []");
        for (uint32_t u = 0; u < s->nusers; u++) {
            char name[32], pw[48];
            quote(s->users[u].name, name, sizeof(name));
            quote(s->users[u].password, pw, sizeof(pw));
            fprintf(out, "      - { name: %s, password: %s }\n", name, pw);
        }
    }
}

void
sc_config_print_reference(FILE *out)
{
    struct sc_channel_cfg lan, wan;
    struct sc_dpdk_cfg d;
    struct sc_session_cfg s;
    struct sc_user_cfg u = { "", "" };
    struct sc_stats_cfg st;
    struct sc_archive_cfg ar;
    char a[512], b[512];

    channel_lan(&lan);
    channel_wan(&wan);
    dpdk_defaults(&d);
    stats_defaults(&st);
    sc_cfg_session_defaults(&s);
    fprintf(out, "#### `channels[]`\n\n| key | type | lan | wan | meaning |\n|---|---|---|---|---|\n");
    for (size_t i = 0; i < sections[SC_SEC_CHANNEL].n; i++) {
        const struct sc_cfg_key *k = &channel_keys[i];
        sc_cfg_format(k, &lan, a, sizeof(a));
        sc_cfg_format(k, &wan, b, sizeof(b));
        fprintf(out, "| `%s` | %s | `%s` | `%s` | %s |\n", k->name, k->type->ref, a, b, k->doc);
    }
    fprintf(out, "\n#### `dpdk`\n\n| key | type | default | meaning |\n|---|---|---|---|\n");
    for (size_t i = 0; i < sections[SC_SEC_DPDK].n; i++) {
        sc_cfg_format(&dpdk_keys[i], &d, a, sizeof(a));
        fprintf(out, "| `%s` | %s | `%s` | %s |\n", dpdk_keys[i].name, dpdk_keys[i].type->ref,
                a, dpdk_keys[i].doc);
    }
    fprintf(out, "\n#### `sessions[]`\n\n| key | type | default | meaning |\n|---|---|---|---|\n");
    for (size_t i = 0; i < sections[SC_SEC_SESSION].n; i++) {
        sc_cfg_format(&session_keys[i], &s, a, sizeof(a));
        fprintf(out, "| `%s` | %s | `%s` | %s |\n", session_keys[i].name,
                session_keys[i].type->ref, a, session_keys[i].doc);
    }
    fprintf(out, "| `users` | list | `[]` | Server: who may log in, a list of `{name, password}`. |\n");
    fprintf(out, "\n#### `sessions[].users[]`\n\n| key | type | default | meaning |\n|---|---|---|---|\n");
    for (size_t i = 0; i < sections[SC_SEC_USER].n; i++) {
        sc_cfg_format(&user_keys[i], &u, a, sizeof(a));
        fprintf(out, "| `%s` | %s | `%s` | %s |\n", user_keys[i].name, user_keys[i].type->ref,
                a, user_keys[i].doc);
    }
    fprintf(out, "\n#### `stats`\n\n| key | type | default | meaning |\n|---|---|---|---|\n");
    for (size_t i = 0; i < sections[SC_SEC_STATS].n; i++) {
        sc_cfg_format(&stats_keys[i], &st, a, sizeof(a));
        fprintf(out, "| `%s` | %s | `%s` | %s |\n", stats_keys[i].name, stats_keys[i].type->ref,
                a, stats_keys[i].doc);
    }
    sc_cfg_archive_defaults(&ar);
    fprintf(out, "\n#### `archive[]` (seqcast-archive: the channels it records)\n\n"
                 "| key | type | default | meaning |\n|---|---|---|---|\n");
    for (size_t i = 0; i < sections[SC_SEC_ARCHIVE].n; i++) {
        sc_cfg_format(&archive_keys[i], &ar, a, sizeof(a));
        fprintf(out, "| `%s` | %s | `%s` | %s |\n", archive_keys[i].name,
                archive_keys[i].type->ref, a, archive_keys[i].doc);
    }
}
