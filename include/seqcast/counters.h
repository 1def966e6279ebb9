/* seqcast counters: every counter of every agent, declared once.
 *
 * Each list below is an X-macro, X(name, kind, unit, show, help):
 *
 *   kind  C: a counter (only grows); G: a gauge (a level: goes up and down)
 *   unit  what it counts ("packets", "bytes", ...)
 *   show  A: always on the programs' human stats line; Z: there when not zero
 *         (what a healthy run keeps at zero); N: JSON only
 *   help  what it means, for docs/COUNTERS.md
 *
 * One list makes the fields of the public stats structs (struct sc_pub_stats,
 * sc_sub_stats, sc_osrv_stats, sc_ocli_stats, sc_link_stats), the names in the
 * programs' JSON summaries and stats lines, the human stats line, and the
 * reference table in docs/COUNTERS.md (`seqcast-config --counters`; make test
 * fails when the document and the lists disagree). A counter added to its
 * list appears in all of them. sc_counter_descs() gives each list as data:
 * name, unit, meaning and offset in its struct.
 *
 * Besides its list, a stats struct holds rx_bad[SC_PERR_COUNT + 1]: packets
 * dropped by codec class, indexed by -enum sc_perr (<seqcast/proto/perr.h>,
 * whose list names them), and the link counters of its transport.
 */
#ifndef SEQCAST_COUNTERS_H
#define SEQCAST_COUNTERS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <seqcast/proto/perr.h>

/* ------------------------------------------------------------------- link */

/* The transport under a channel: rx/arp/mbuf/neighbour counters are for
 * raw-Ethernet transports (0 on kernel UDP), the gso ones for kernel UDP,
 * record_* for the --record wrapper (sc_xport_record_wrap, <seqcast/pcap.h>).
 * Named link_<name> in JSON. */
#define SC_LINK_COUNTERS(X)                                                                \
    X(rx_filtered, C, "frames", Z, "frames not for this channel (raw Ethernet)")           \
    X(rx_malformed, C, "frames", Z, "frames failing Ethernet/IPv4/UDP checks")             \
    X(arp_replies, C, "packets", N, "ARP requests for our own address answered")           \
    X(no_mbuf, C, "packets", Z, "packet buffers (mbufs) exhausted: not sent")              \
    X(no_neighbour, C, "packets", Z, "unicast to a MAC not known yet (ARP asked)")         \
    X(tx_zero_copy, C, "packets", N, "packets sent from the window's buffer itself (DPDK: attached, not copied)") \
    X(tx_dropped, C, "packets", Z, "packets the device or the kernel refused")             \
    X(tx_gso_sends, C, "calls", N, "sends that carried a run of equal-size packets (UDP GSO)") \
    X(gso_disabled, G, "flag", Z, "1 if the kernel refused UDP GSO and it was turned off") \
    X(rx_gro_msgs, C, "reads", N, "reads that carried a run of datagrams (UDP GRO)")       \
    X(tx_calls, C, "calls", N, "send calls into the transport (packets / calls = batching)") \
    X(record_packets, C, "packets", N, "--record: packets written to the capture")         \
    X(record_dropped, C, "packets", Z,                                                     \
      "--record --record-full drop: packets that found the writer's ring full, not recorded") \
    X(record_waited, C, "packets", Z,                                                      \
      "--record (--record-full block): packets that found the writer's ring full and waited") \
    X(record_write_errors, C, "events", Z,                                                 \
      "--record: packets not written and files not opened or closed (the disk refused)")

/* -------------------------------------------------------------- publisher */

#define SC_PUB_COUNTERS(X)                                                                 \
    X(msgs_sent, C, "messages", A, "messages accepted by sc_pub_send")                     \
    X(bytes_sent, C, "bytes", N, "their payload bytes")                                    \
    X(odata_sent, C, "packets", A, "ODATA packets sent (MoldUDP64: downstream data packets)") \
    X(rdata_sent, C, "packets", A, "repairs (RDATA) sent")                                 \
    X(ncf_sent, C, "packets", A, "NCFs sent")                                              \
    X(ncf_rate_limited, C, "sequences", Z,                                                 \
      "sequences whose NCF rtx.ncf_rate held back (still repaired)")                       \
    X(spm_sent, C, "packets", A, "SPMs sent (heartbeats, answers, FIN)")                   \
    X(naks_received, C, "packets", A, "NAK packets accepted")                              \
    X(nak_sqns, C, "sequences", A, "sequence numbers they asked for")                      \
    X(nak_coalesced, C, "sequences", N, "asked for while a repair was already pending")    \
    X(nak_held_off, C, "sequences", N,                                                     \
      "asked for within rtx.holdoff of its last repair: not repaired again")               \
    X(nak_ncf_held, C, "sequences", N,                                                     \
      "asked for within rtx.holdoff / 2 of the NCF that confirmed it: no second NCF")      \
    X(line_b_sent, C, "packets", N, "copies sent to group_b, the B line")                  \
    X(line_b_dropped, C, "packets", Z, "B-line copies the transport refused (not retried)") \
    X(nak_out_of_window, C, "sequences", Z,                                                \
      "no longer held: answered with an SPM so the receiver gives up at once")             \
    X(nak_over_budget, C, "sequences", Z, "a receiver over its per-second rtx.budget")     \
    X(nak_budget_shared, C, "sequences", Z,                                                \
      "charged to the shared budget: the address found no room in the receiver table")    \
    X(nak_bad_nla, C, "packets", Z,                                                        \
      "NAKs whose source NLA is not this publisher's (IPv6 or another address): dropped")  \
    X(nak_rtx_overflow, C, "sequences", Z, "repair queue full")                            \
    X(spmr_received, C, "packets", N, "SPMRs received")                                    \
    X(spm_answers_held, C, "requests", Z,                                                  \
      "SPMRs and out-of-window NAKs served by another's SPM (spm.answer_interval)")         \
    X(rtx_rate_limited, C, "events", Z, "repairs delayed by rtx.rate")                     \
    X(data_rate_limited, C, "events", Z, "packets delayed by data_rate")                   \
    X(window_evicted, C, "packets", N, "packets that left the transmit window (size or age)") \
    X(tx_backpressure, C, "events", Z, "sends the transport refused for now (retried)")    \
    X(close_unsent, C, "packets", Z,                                                       \
      "left unsent when closing gave up (the transport took nothing for close_timeout)")   \
    X(mold_heartbeats, C, "packets", Z,                                                    \
      "MoldUDP64 heartbeats sent (the session's start, then after mold.heartbeat idle)")   \
    X(mold_eos_sent, C, "packets", Z, "MoldUDP64 End of Session packets sent")             \
    X(mold_requests, C, "packets", Z, "MoldUDP64 re-requests received (20 bytes)")         \
    X(mold_req_answered, C, "requests", Z,                                                 \
      "answered: a response sent (messages, or a heartbeat when none is held)")            \
    X(mold_resp_msgs, C, "messages", Z, "messages in the responses")                       \
    X(mold_resp_bytes, C, "bytes", N, "UDP payload bytes of the responses")                \
    X(mold_not_in_window, C, "requests", Z,                                                \
      "asked for messages older than the window: answered from its oldest message, or "    \
      "with a heartbeat carrying it")                                                      \
    X(mold_req_denied, C, "requests", Z, "from an address outside mold.request_allow: ignored") \
    X(mold_req_wrong_session, C, "requests", Z, "for another session: ignored")            \
    X(mold_req_seq_zero, C, "requests", Z, "for sequence 0: ignored")                      \
    X(mold_req_count_zero, C, "requests", Z, "for 0 messages: ignored")                    \
    X(mold_req_over_max, C, "requests", Z, "for more than mold.request_max messages: ignored") \
    X(mold_req_not_sent, C, "requests", Z, "for messages not sent yet: ignored")           \
    X(mold_req_not_held, C, "requests", Z,                                                 \
      "seqcast-archive: starting in a gap of the archive (never received): ignored")       \
    X(mold_req_over_budget, C, "requests", Z,                                              \
      "from an address past its rtx.budget messages this second: ignored")                 \
    X(mold_budget_shared, C, "requests", Z,                                                \
      "charged to the shared budget: the address found no room in the requester table")   \
    X(mold_req_dropped, C, "requests", Z,                                                  \
      "the response queue congested and the address holding its share: ignored")          \
    X(mold_rate_limited, C, "events", Z, "responses delayed by rtx.rate")                  \
    X(mold_resp_unsent, C, "packets", Z,                                                   \
      "responses the transport refused: dropped (the requester asks again)")               \
    X(mold_resp_queued, G, "responses", N,                                                 \
      "responses waiting for rtx.rate (at most 1,024, + 4 per requester when congested)")  \
    X(rx_not_ours, C, "packets", Z, "well-formed, but for another session or port")        \
    X(rx_wrong_type, C, "packets", Z, "well-formed, but not something a publisher takes")  \
    X(rx_pkts, C, "packets", N, "packets received (NAKs, SPMRs, anything)")                \
    X(rx_bytes, C, "bytes", N, "their bytes")                                              \
    X(tx_pkts, C, "packets", N, "packets sent")                                            \
    X(tx_bytes, C, "bytes", N, "their bytes")                                              \
    X(window_trail, G, "sequence", A, "oldest packet sequence held for repair")            \
    X(window_lead, G, "sequence", A, "newest packet sequence held")                        \
    X(next_msg_seq, G, "sequence", N, "sequence number the next message gets")             \
    X(rcvbuf_requested, G, "bytes", N, "SO_RCVBUF asked for (rcvbuf)")                     \
    X(rcvbuf_effective, G, "bytes", N, "SO_RCVBUF the kernel granted")                    \
    X(ipc_blocked, C, "calls", Z,                                                          \
      "transport: ipc, backpressure: block: sends refused (-EAGAIN) while a reader held the log") \
    X(ipc_stall, C, "nanoseconds", Z, "time from such a refusal to the next message accepted") \
    X(ipc_readers_reaped, C, "readers", Z,                                                 \
      "reader slots released because their process was gone (it held the writer)")         \
    X(ipc_wakeups, C, "calls", N, "wake-ups of readers asleep on the log (futex, poke)")    \
    X(ipc_readers, G, "readers", N,                                                        \
      "transport: ipc: readers registered in the slot file (backpressure: block)") \
    X(ipc_pokes, C, "calls", N,                                                            \
      "writes to the log that wake readers polling its inotify watch (sc_sub_fd)")        \
    X(ipc_loss_records, C, "records", Z,                                                   \
      "losses upstream written to the log for its readers (seqcast-sub --republish)")

/* ------------------------------------------------------------- subscriber */

#define SC_SUB_COUNTERS(X)                                                                 \
    X(msgs_delivered, C, "messages", A, "messages delivered to on_msg")                    \
    X(bytes_delivered, C, "bytes", N, "their bytes")                                       \
    X(odata_received, C, "packets", N, "ODATA packets accepted (MoldUDP64: data packets)") \
    X(rdata_received, C, "packets", N,                                                     \
      "RDATA (repair) packets accepted (MoldUDP64: answers to our requests, by unicast)")  \
    X(duplicates, C, "packets", A, "packets already held or delivered: dropped")           \
    X(gaps, C, "events", A, "holes detected (each a run of missing packets)")              \
    X(naks_sent, C, "packets", A, "NAK packets sent")                                      \
    X(nak_sqns, C, "sequences", N, "sequence numbers NAKed, retries included")             \
    X(ncf_received, C, "packets", N, "NCFs received")                                      \
    X(nak_suppressed, C, "sequences", A, "NAKs not sent: an NCF or a peer's NAK came first") \
    X(repaired, C, "packets", A,                                                           \
      "packets that arrived after being NAKed or found missing (MoldUDP64: messages)")     \
    X(lost_packets, C, "packets", A,                                                       \
      "packets given up on, reported in loss events (MoldUDP64: messages)")                \
    X(loss_events, C, "events", Z, "loss events raised")                                   \
    X(spm_received, C, "packets", N, "SPMs received")                                      \
    X(sources_up, C, "events", N, "sources started or resumed")                            \
    X(sources_down, C, "events", N, "sources ended, timed out or evicted")                 \
    X(rx_bad_payload, C, "packets", Z, "ODATA whose MoldUDP64 block is malformed")         \
    X(rx_not_ours, C, "packets", N, "well-formed PGM for another session or port")         \
    X(rx_wrong_type, C, "packets", Z, "well-formed, but not for a subscriber")             \
    X(rx_before_join, C, "packets", N,                                                     \
      "older than where this subscriber started (a late joiner's stream starts later)")    \
    X(rx_pool_empty, C, "packets", Z, "no buffer free: dropped (NAKed again later)")       \
    X(rx_pool_grow_failed, C, "events", Z,                                                 \
      "a further source's window of buffers could not be allocated: the pool is shared")   \
    X(source_table_full, C, "packets", Z,                                                  \
      "a new source's packets refused: every place holds a source that sent data")         \
    X(sources_evicted, C, "events", Z, "sources that never sent data, evicted for a newcomer") \
    X(sources_forgotten, C, "events", Z, "remembered (timed-out) sessions dropped for a newcomer") \
    X(rx_source_denied, C, "packets", Z, "packets from an address outside source_allow")   \
    X(nak_unreachable, C, "events", Z, "ICMP unreachable errors returned for our NAKs")    \
    X(nak_unanswered, C, "packets", Z,                                                     \
      "given up on after nak.ncf_retries NAKs that got neither NCF nor repair")            \
    X(requests_sent, C, "packets", Z, "MoldUDP64 re-requests sent")                       \
    X(request_msgs, C, "messages", N, "messages they asked for, retries included")         \
    X(request_retries, C, "packets", Z,                                                    \
      "re-requests asking again for messages whose request got no answer in nak.rdata")    \
    X(request_continued, C, "messages", N,                                                 \
      "asked for again at once: an answer held only part of its request (one datagram)")   \
    X(request_suppressed, C, "messages", Z,                                                \
      "requests not sent: the messages arrived during the back-off (A/B copy, reordering, " \
      "a multicast answer to another listener)")                                           \
    X(answer_wait_peak, G, "microseconds", Z,                                           \
      "the longest wait for an answer a slow re-request server made the subscriber use "    \
      "(above nak.rdata: its answers took that long; 0: none was slower)")                 \
    X(not_in_window_answers, C, "packets", Z,                                              \
      "answers saying the server no longer holds messages asked for (loss: not_in_window)") \
    X(requests_second_line, C, "messages", Z,                                              \
      "messages a server no longer held, asked for again of recovery.request_servers")     \
    X(heartbeats_received, C, "packets", N, "MoldUDP64 heartbeats received")               \
    X(eos_received, C, "packets", N, "MoldUDP64 End of Session packets received")          \
    X(msg_duplicates, C, "messages", N,                                                    \
      "MoldUDP64 messages already held or delivered (A/B copies, overlapping answers)")    \
    X(rx_wrong_session, C, "packets", Z, "MoldUDP64 packets of a session other than mold.session") \
    X(rx_session_ended, C, "packets", N,                                                   \
      "MoldUDP64 packets of a session that ended, or its End of Session to a live joiner")  \
    X(rx_seq_jump, C, "packets", Z,                                                        \
      "MoldUDP64 packets numbered over 2^31 messages past the highest known: dropped")     \
    X(rx_beyond_window, C, "packets", Z,                                                   \
      "MoldUDP64 data reaching past rx_window: the rest dropped, requested in its turn")   \
    X(rx_pkts, C, "packets", N, "packets received")                                        \
    X(rx_bytes, C, "bytes", N, "their bytes")                                              \
    X(tx_pkts, C, "packets", N, "packets sent (NAKs)")                                     \
    X(tx_bytes, C, "bytes", N, "their bytes")                                              \
    X(rcvbuf_requested, G, "bytes", N, "SO_RCVBUF asked for (rcvbuf)")                     \
    X(rcvbuf_effective, G, "bytes", N, "SO_RCVBUF the kernel granted")                    \
    X(msgs_rewind, C, "messages", Z,                                                       \
      "of msgs_delivered: from an archive's rewind (recovery.rewind, late_join: archive)")  \
    X(msgs_held, C, "messages", Z,                                                         \
      "of msgs_delivered: live messages held while a rewind caught up, then delivered")    \
    X(recoveries, C, "events", Z,                                                          \
      "losses fetched from archives instead of reported, and late_join: archive starts")   \
    X(recovery_hold_restarts, C, "events", Z,                                              \
      "holds of live messages started again (recovery.hold full, or a gap in the live stream)") \
    X(recovery_dropped, C, "messages", Z,                                                  \
      "live messages not kept while a rewind ran (the rewind delivers them, or had)")      \
    X(lost_not_in_archive, C, "messages", Z, "reported lost: not_in_archive")             \
    X(rewind_failovers, C, "events", Z, "rewinds moved to the next archive")             \
    X(repair_wait, C, "microseconds", N,                                                   \
      "time from finding each repaired packet missing to its arrival, summed (/ repaired: " \
      "the mean repair latency)")                                                          \
    X(repair_wait_max, G, "microseconds", N, "the longest of those times")                 \
    X(lag, G, "packets", Z,                                                                \
      "the largest lag of its sources now: known to exist, not delivered yet (per source: "  \
      "source_lag; MoldUDP64: messages)")                                                  \
    X(ipc_lapped, C, "events", Z,                                                          \
      "transport: ipc: the writer overwrote messages before this reader read them (loss: "  \
      "not_in_window)")                                                                    \
    X(ipc_bad_logs, C, "files", Z,                                                         \
      "transport: ipc: logs refused or given up on (damaged, truncated, another version)") \
    X(ipc_polls, C, "calls", N, "transport: ipc: looks for the log (it was absent or replaced)") \
    X(ipc_upstream_losses, C, "events", Z,                                                 \
      "transport: ipc: losses of the writer's own source (a bridge's) reported from the log") \
    X(ipc_no_inotify, C, "readers", Z,                                                     \
      "transport: ipc: polled readers whose process has no inotify instance "              \
      "(fs.inotify.max_user_instances): they look at the log every 200 us")

/* One source of a subscriber (struct sc_sub_source_stats, sc_sub_get_source): a PGM
 * session (GSI and TSI port) or a MoldUDP64 session. Kept per source on events
 * (gaps, NAKs, repairs, losses), read from the source's state when asked. */
#define SC_SUB_SOURCE_COUNTERS(X)                                                          \
    X(msgs_delivered, C, "messages", A, "its messages delivered to on_msg")                \
    X(gaps, C, "events", A, "holes detected in its stream")                                \
    X(naks_sent, C, "packets", A, "NAK packets sent to it (MoldUDP64: re-requests)")       \
    X(repaired, C, "packets", A,                                                           \
      "its packets that arrived after being found missing (MoldUDP64: messages)")          \
    X(lost_packets, C, "packets", A,                                                       \
      "its packets reported lost in loss events (MoldUDP64: messages; with recovery.rewind " \
      "also those an archive then served)")                                                \
    X(loss_events, C, "events", Z, "its loss events (before recovery.rewind takes them)")  \
    X(repair_runs, C, "events", N,                                                         \
      "repair events said: a gap's repairs each (a repair entry of the loss log)")          \
    X(last_seq, G, "sequence", A,                                                          \
      "the last sequence delivered (batched: message; raw: packet; MoldUDP64: message; "    \
      "0: none)")                                                                          \
    X(lead, G, "sequence", N,                                                              \
      "the highest packet sequence it sent or advertised (ODATA, SPM; MoldUDP64: the "      \
      "highest message known from data, heartbeats, End of Session)")                      \
    X(lag, G, "packets", A,                                                                \
      "how far delivery is behind lead: packets known to exist, not delivered yet "        \
      "(MoldUDP64: messages)")                                                             \
    X(missing, G, "packets", N, "of them, missing now (NAKs or re-requests pending)")       \
    X(up, G, "flag", N, "1 while followed; 0 timed out and held for its grace")

/* ----------------------------------------------------------- order server */

/* One set per session (struct sc_osrv_stats). The order gateway's JSON
 * summary (seqcast-orderd) names them so. */
#define SC_OSRV_COUNTERS(X)                                                                \
    X(accepted, C, "connections", A, "connections accepted")                               \
    X(logins, C, "logins", A, "logins accepted")                                           \
    X(login_rejected_auth, C, "logins", Z,                                                 \
      "logins rejected: unknown user or wrong password (they count toward the lockout)")   \
    X(login_rejected_session, C, "logins", Z, "logins rejected: a session not served here") \
    X(closed_timeout, C, "connections", Z, "sessions closed after timeout without input")  \
    X(closed_logout, C, "connections", N, "sessions the client ended with a Logout Request") \
    X(closed_protocol, C, "connections", Z,                                                \
      "connections closed for a malformed or unexpected packet (rx_bad says which)")       \
    X(closed_peer, C, "connections", N, "connections the peer closed or reset, or a write failed") \
    X(rx_msgs, C, "messages", A, "unsequenced messages (orders) from logged-in clients")   \
    X(tx_sequenced, C, "messages", A, "sequenced messages sent, replays included")         \
    X(heartbeats, C, "packets", N, "Server Heartbeats sent (after heartbeat without output)") \
    X(replayed, C, "messages", N, "of tx_sequenced: journaled before the client's login")  \
    X(journal_msgs, G, "messages", A, "messages the journal holds")                        \
    X(journal_torn_bytes, C, "bytes", Z,                                                   \
      "a torn tail (the last record cut short by a crash) cut from the journal at open")   \
    X(journal_syncs, C, "calls", N, "fdatasync calls on the journal")                      \
    X(connections, G, "connections", A, "connections open now, logged in or not")          \
    X(pending, G, "connections", N, "of them, not logged in yet")                          \
    X(closed_login_timeout, C, "connections", Z,                                           \
      "no login within login_timeout of the accept")                                       \
    X(pending_evicted, C, "connections", Z,                                                \
      "the oldest not-logged-in connection closed for a new one (max_pending)")            \
    X(refused_full, C, "connections", Z,                                                   \
      "a good login closed: max_connections are logged in already")                        \
    X(login_locked_out, C, "connections", Z,                                               \
      "connections closed unheard: their address is locked out")                           \
    X(lockouts, C, "events", Z, "addresses locked out (lockout.failures within lockout.window)") \
    X(lockout_table_full, C, "logins", Z,                                                  \
      "failures counted in the shared entry: no room in the table (lockout.addresses)")    \
    X(login_seq_ahead, C, "logins", Z, "logins asking for more than the journal holds")    \
    X(accept_errors, C, "calls", Z, "accept failures (out of file descriptors, ...)")      \
    X(epoll_errors, C, "calls", Z, "epoll calls that failed")                              \
    X(journal_durable, G, "messages", N, "messages durable (and so sendable): 1..this")    \
    X(journal_write_errors, C, "messages", Z,                                              \
      "appends the journal refused (a full disk, ...): nothing appended, nothing sent")    \
    X(journal_sync_errors, C, "calls", Z,                                                  \
      "failed fdatasyncs: what was not durable is rolled back (sc_osrv_lost_fn)")          \
    X(journal_rolled_back, C, "messages", Z, "messages those rolled back: never sent")     \
    X(journal_read_errors, C, "records", Z,                                                \
      "records read back from disk that failed their CRC (or the read)")                   \
    X(closed_journal, C, "connections", Z,                                                 \
      "sessions closed for a record they needed that could not be read back")          \
    X(output_full, C, "events", Z,                                                         \
      "a session's output buffer full (1 MiB): its catch-up waits for the reader")          \
    X(closed_slow, C, "connections", Z,                                                    \
      "sessions closed: their output took nothing for timeout (a reader hopelessly behind)") \
    X(closed_gap, C, "connections", Z,                                                     \
      "rewind sessions ended at a range the archive lacks (a Debug packet names it)")

/* ----------------------------------------------------------- order client */

/* struct sc_ocli_stats; seqcast-order's JSON summary names them so. */
#define SC_OCLI_COUNTERS(X)                                                                \
    X(connects, C, "calls", A, "connection attempts")                                      \
    X(logins, C, "logins", A, "logins accepted")                                           \
    X(disconnects, C, "events", Z,                                                         \
      "connections lost or refused (timeouts included): a reconnect follows the back-off") \
    X(timeouts, C, "events", Z,                                                            \
      "connections (logged in, or logging in) dropped after timeout without input")        \
    X(rx_sequenced, C, "messages", A, "sequenced messages delivered")                      \
    X(tx_unsequenced, C, "messages", A, "unsequenced messages (orders) queued by sc_ocli_send") \
    X(tx_heartbeats, C, "packets", N, "Client Heartbeats sent")                            \
    X(rx_heartbeats, C, "packets", N, "Server Heartbeats received")                        \
    X(next_seq, G, "sequence", N, "the next sequenced message expected")

/* ------------------------------------------------------------ order books */

/* The order-book engine (<seqcast/book.h>), all books together (struct
 * sc_book_stats). Every refused or adjusted operation has its counter. */
#define SC_BOOK_COUNTERS(X)                                                                \
    X(adds, C, "orders", A, "orders added (A, F)")                                         \
    X(executes, C, "messages", A, "executions of book orders (E, C)")                      \
    X(executes_price, C, "messages", N, "of them, at a price of their own (C)")           \
    X(cancels, C, "messages", A, "partial cancels (X)")                                    \
    X(deletes, C, "messages", A, "orders deleted (D)")                                     \
    X(replaces, C, "messages", A, "orders replaced (U)")                                   \
    X(trades, C, "messages", N, "trades reported without a book change (P, Q, B)")        \
    X(bbo_updates, C, "events", A, "best bid or offer changes (price or shares)")          \
    X(unknown_execute, C, "messages", Z, "executions of an order not in the book")         \
    X(unknown_cancel, C, "messages", Z, "cancels of an order not in the book")             \
    X(unknown_delete, C, "messages", Z, "deletes of an order not in the book")             \
    X(unknown_replace, C, "messages", Z,                                                   \
      "replaces of an order not in the book (its new reference stays unknown)")           \
    X(exec_clamped, C, "messages", Z,                                                      \
      "executions of more shares than the order held: clamped, the order removed")        \
    X(cancel_clamped, C, "messages", Z,                                                    \
      "cancels of more shares than the order held: clamped, the order removed")           \
    X(dup_ref, C, "orders", Z,                                                             \
      "adds (or a replace's new reference) whose reference is already live: refused")     \
    X(zero_shares, C, "orders", Z, "adds or replaces of 0 shares: not kept")               \
    X(bad_side, C, "orders", Z, "adds with a side that is neither bid nor ask: refused")   \
    X(orders_full, C, "orders", Z, "adds refused: max_orders live (the book marked stale)") \
    X(books_full, C, "messages", Z,                                                        \
      "operations refused: a new instrument past max_books")                              \
    X(levels_full, C, "orders", Z,                                                         \
      "adds refused: a new price past max_levels on its side (the book marked stale)")    \
    X(level_pool_full, C, "orders", Z,                                                     \
      "adds refused: a side outgrew its block and the level pool had no larger one "      \
      "(the book marked stale; raise level_pool)")                                       \
    X(stale_marks, C, "events", Z, "books marked stale (a loss, a limit)")                 \
    X(session_stale, C, "events", Z, "every book marked stale at once (a session gap)")   \
    X(rebuilt, C, "events", Z, "stale books declared rebuilt")                             \
    X(cleared_orders, C, "orders", N, "orders removed by a clear (a rebuild's start)")    \
    X(orders_overflowed, C, "orders", N,                                                   \
      "orders moved from the ring to the overflow map (they outlived the ring's span of "  \
      "later references, or shared a ring slot)")                                         \
    X(state_changes, C, "messages", N, "trading state messages (H)")                       \
    X(reg_sho, C, "messages", N, "Reg SHO indicators (Y)")                                 \
    X(system_events, C, "messages", N, "system events (S)")                                \
    X(orders_live, G, "orders", A, "orders in the books now")                              \
    X(orders_peak, G, "orders", N, "the most orders live at once")                         \
    X(levels_live, G, "levels", N, "price levels in the books now (both sides)")           \
    X(levels_side_peak, G, "levels", N,                                                    \
      "the most price levels one side of one book has held (max_levels: its bound)")      \
    X(sides_grown, C, "events", N,                                                         \
      "sides moved to a block twice as large (past 32, 64, ... levels)")                  \
    X(level_pool_taken, G, "levels", N,                                                    \
      "level-pool levels handed out (blocks of grown sides, free ones reused first; "     \
      "level_pool: its bound)")                                                           \
    X(books, G, "books", A, "instruments known")                                           \
    X(stale_books, G, "books", Z, "books stale now")

/* One instrument's book (struct sc_book_instr_stats, in struct sc_book_info). */
#define SC_BOOK_INSTR_COUNTERS(X)                                                          \
    X(adds, C, "orders", A, "orders added (A, F)")                                         \
    X(executes, C, "messages", A, "executions (E, C)")                                     \
    X(cancels, C, "messages", N, "partial cancels (X)")                                    \
    X(deletes, C, "messages", N, "orders deleted (D)")                                     \
    X(replaces, C, "messages", N, "orders replaced (U)")                                   \
    X(trades, C, "messages", N, "trades reported without a book change (P, Q)")           \
    X(bbo_updates, C, "events", A, "best bid or offer changes")                            \
    X(refused, C, "orders", Z, "adds refused by a limit (max_orders, max_levels)")         \
    X(stale_periods, C, "events", Z, "times the book went stale")                          \
    X(orders, G, "orders", A, "orders in the book now")                                    \
    X(bid_levels, G, "levels", N, "bid price levels now")                                  \
    X(ask_levels, G, "levels", N, "ask price levels now")

/* The ITCH 5.0 feed glue (<seqcast/itch.h>, struct sc_itch_feed_stats):
 * messages by type, what was skipped, and the losses reported to it. Besides
 * these: bad[] by codec class, as rx_bad. */
#define SC_ITCH_FEED_COUNTERS(X)                                                           \
    X(msgs, C, "messages", A, "ITCH messages decoded and applied (every type)")            \
    X(bad_msgs, C, "messages", Z,                                                          \
      "messages malformed or of an unknown type: skipped by their framing's length")      \
    X(bad_blocks, C, "packets", Z, "MoldUDP64 blocks that do not parse: skipped whole")    \
    X(truncated, C, "bytes", Z, "bytes of a file's last record cut short (its end)")       \
    X(loss_events, C, "events", Z, "losses the transport reported: every book marked stale") \
    X(lost_msgs, C, "messages", Z, "messages in them (a loss without an end counts none)")  \
    X(msgs_S, C, "messages", N, "system events (S)")                                       \
    X(msgs_R, C, "messages", N, "stock directory (R)")                                     \
    X(msgs_H, C, "messages", N, "stock trading action (H)")                                \
    X(msgs_Y, C, "messages", N, "Reg SHO restriction (Y)")                                 \
    X(msgs_L, C, "messages", N, "market participant position (L): counted only")          \
    X(msgs_V, C, "messages", N, "MWCB decline levels (V): counted only")                   \
    X(msgs_W, C, "messages", N, "MWCB status (W): counted only")                           \
    X(msgs_K, C, "messages", N, "IPO quoting period update (K): counted only")             \
    X(msgs_J, C, "messages", N, "LULD auction collar (J): counted only")                   \
    X(msgs_h, C, "messages", N, "operational halt (h): counted only")                      \
    X(msgs_A, C, "messages", N, "add order (A)")                                           \
    X(msgs_F, C, "messages", N, "add order with MPID (F)")                                 \
    X(msgs_E, C, "messages", N, "order executed (E)")                                      \
    X(msgs_C, C, "messages", N, "order executed with price (C)")                           \
    X(msgs_X, C, "messages", N, "order cancel (X)")                                        \
    X(msgs_D, C, "messages", N, "order delete (D)")                                        \
    X(msgs_U, C, "messages", N, "order replace (U)")                                       \
    X(msgs_P, C, "messages", N, "trade, non-cross (P)")                                    \
    X(msgs_Q, C, "messages", N, "cross trade (Q)")                                         \
    X(msgs_B, C, "messages", N, "broken trade (B)")                                        \
    X(msgs_I, C, "messages", N, "net order imbalance indicator (I): counted only")         \
    X(msgs_N, C, "messages", N, "retail price improvement indicator (N): counted only")    \
    X(msgs_O, C, "messages", N, "direct listing with capital raise (O): counted only")
/* The ITCH generator (struct sc_itchgen_stats, <seqcast/itchgen.h>): messages by type. */
#define SC_ITCHGEN_COUNTERS(X)                                                             \
    X(messages, C, "messages", A, "messages generated, every type")                        \
    X(system_events, C, "messages", N, "system events (S)")                                \
    X(directory, C, "messages", N, "stock directory entries (R)")                          \
    X(trading_actions, C, "messages", N, "trading actions (H)")                            \
    X(reg_sho, C, "messages", N, "Reg SHO indicators (Y)")                                 \
    X(adds, C, "messages", A, "orders added without an MPID (A)")                          \
    X(adds_mpid, C, "messages", N, "orders added with an MPID (F)")                        \
    X(executes, C, "messages", A, "executions at the order's price (E)")                   \
    X(executes_price, C, "messages", N, "executions with a price (C)")                     \
    X(cancels, C, "messages", N, "partial cancels (X)")                                    \
    X(deletes, C, "messages", A, "deletes (D)")                                            \
    X(replaces, C, "messages", A, "replaces (U)")                                          \
    X(trades, C, "messages", N, "non-cross trades (P)")                                    \
    X(crosses, C, "messages", N, "cross trades (Q: the opening and closing crosses)")      \
    X(noii, C, "messages", N, "net order imbalance indicators (I)")                        \
    X(adds_capped, C, "messages", N,                                                       \
      "adds turned into deletes: the live orders at their bound")                          \
    X(deletes_filled, C, "messages", N,                                                    \
      "deletes turned into adds: the live orders under their bound")                       \
    X(price_moves, C, "events", N, "mid-price moves (an execution emptied the next level)") \
    X(symbols, G, "symbols", A, "symbols in the directory")                                  \
    X(orders_live, G, "orders", A, "orders live in the generated day now")                 \
    X(orders_peak, G, "orders", N, "the most orders live at once")

/* The archive (struct sc_archive_stats, <seqcast/archive.h>, seqcast-archive): what it
 * recorded, what it could not, and its store. */
#define SC_ARCHIVE_COUNTERS(X)                                                             \
    X(msgs_archived, C, "messages", A, "messages appended to the archive")                 \
    X(bytes_archived, C, "bytes", N, "their payload bytes")                                \
    X(msgs_duplicate, C, "messages", Z,                                                    \
      "delivered again at or below the last archived sequence (after a restart): not written twice") \
    X(msgs_other_source, C, "messages", Z,                                                 \
      "from a source (session) other than the one being archived: dropped")                \
    X(msgs_too_long, C, "messages", Z, "longer than a record holds (65,535 bytes): dropped") \
    X(msgs_not_archived, C, "messages", Z,                                                 \
      "dropped while appends were stopped (disk full or failing): later a recorded gap")   \
    X(gaps_recorded, C, "ranges", Z, "gap records written (losses and jumps in sequence)") \
    X(gap_msgs, C, "messages", Z, "sequences they cover: never received")                  \
    X(loss_unbounded, C, "events", Z,                                                      \
      "loss events with no known end (source gone): the gap is recorded when data resumes") \
    X(write_errors, C, "writes", Z, "appends that failed (rolled back: nothing half written)") \
    X(disk_full, C, "writes", Z, "of which the disk was full (ENOSPC, EDQUOT)")           \
    X(appends_stopped, C, "events", Z, "times appends stopped on an error (retried every second)") \
    X(syncs, C, "calls", N, "fdatasync calls that succeeded")                              \
    X(sync_errors, C, "calls", Z, "fdatasync calls that failed")                           \
    X(rolled_back, C, "messages", Z, "written but given up when their sync failed (later a gap)") \
    X(segments_made, C, "files", N, "segment files started")                               \
    X(segments_deleted, C, "files", N, "oldest segments deleted by retention")             \
    X(torn_bytes, C, "bytes", Z, "a torn tail cut at open (a crash mid-write)")            \
    X(damaged_ranges, C, "ranges", Z, "damage found at open: sequences never served")      \
    X(damaged_msgs, C, "messages", Z, "sequences in them")                                 \
    X(read_errors, C, "records", Z, "records that failed their CRC or could not be read when served") \
    X(segments, G, "files", A, "segment files held")                                       \
    X(bytes_stored, G, "bytes", A, "their size")                                           \
    X(first_seq, G, "sequence", N, "the first sequence held (0: none)")                    \
    X(last_seq, G, "sequence", A, "the last sequence held (0: none)")

/* -------------------------------------------------------- rewind client */

/* struct sc_rewind_stats (<seqcast/rewind.h>, seqcast-rewind) */
#define SC_REWIND_COUNTERS(X)                                                              \
    X(msgs, C, "messages", A, "messages delivered, in order, each once")                   \
    X(bytes, C, "bytes", N, "their payload bytes")                                         \
    X(duplicates, C, "messages", Z, "sent below the next sequence (after a failover): not delivered") \
    X(connects, C, "calls", N, "connection attempts")                                      \
    X(logins, C, "logins", A, "logins accepted")                                           \
    X(failovers, C, "events", Z,                                                           \
      "moves to the next archive: a lost connection, a timeout, a refusal, a range lacked") \
    X(timeouts, C, "events", Z, "connections dropped after timeout without input")         \
    X(rejected, C, "logins", Z, "logins an archive rejected")                              \
    X(gaps_seen, C, "ranges", Z, "Debug gap packets: a range one archive lacks")           \
    X(gaps_final, C, "ranges", Z, "ranges every archive lacked: reported, skipped")        \
    X(gap_msgs, C, "messages", Z, "sequences in them")                                     \
    X(protocol_errors, C, "packets", Z, "malformed or unexpected packets (the next archive)")

/* ------------------------------------------------------------- machinery */

/* A field of a stats struct, from a list entry. */
#define SC_COUNTER_FIELD(name, kind, unit, show, help) uint64_t name;

struct sc_counter_desc {
    const char *name; /* the field's name: the JSON key, the docs' row */
    const char *unit;
    const char *help;
    uint32_t off;     /* byte offset of the field in its stats struct */
    char kind;        /* 'c' counter, 'g' gauge */
    char show;        /* 'a' always on the human line, 'z' when not zero, 'n' JSON only */
};

enum sc_counter_set {
    SC_COUNTERS_PUB = 0, /* struct sc_pub_stats */
    SC_COUNTERS_SUB,     /* struct sc_sub_stats */
    SC_COUNTERS_LINK,    /* struct sc_link_stats (the link member of pub and sub stats) */
    SC_COUNTERS_OSRV,    /* struct sc_osrv_stats */
    SC_COUNTERS_OCLI,    /* struct sc_ocli_stats */
    SC_COUNTERS_BOOK,    /* struct sc_book_stats (<seqcast/book.h>) */
    SC_COUNTERS_BOOK_INSTR, /* struct sc_book_instr_stats: one instrument's book */
    SC_COUNTERS_ITCH_FEED,  /* struct sc_itch_feed_stats (<seqcast/itch.h>) */
    SC_COUNTERS_ITCHGEN, /* struct sc_itchgen_stats (<seqcast/itchgen.h>) */
    SC_COUNTERS_ARCHIVE, /* struct sc_archive_stats (<seqcast/archive.h>) */
    SC_COUNTERS_REWIND,  /* struct sc_rewind_stats (<seqcast/rewind.h>) */
    SC_COUNTERS_SUB_SOURCE, /* struct sc_sub_source_stats: one source of a subscriber */
    SC_COUNTERS_SETS
};

/* The list of a set as data, in declaration order. @return it, and its
 * length in *n; NULL for an unknown set. */
const struct sc_counter_desc *sc_counter_descs(enum sc_counter_set set, size_t *n);

/* Print the markdown reference of every list (docs/COUNTERS.md embeds it;
 * `seqcast-config --counters`). */
void sc_counters_print_reference(FILE *out);

/* The value of d's counter in a stats struct of its set. */
static inline uint64_t
sc_counter_get(const struct sc_counter_desc *d, const void *stats)
{
    return *(const uint64_t *)(const void *)((const char *)stats + d->off);
}

#endif
