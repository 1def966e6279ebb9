#!/usr/bin/env bash
# Writes docs/BENCHMARKS.md (stdout) from the tables the bench sections left in
# $BUILD/bench/, with the machine described.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
out=$ROOT/$BUILD/bench
cat <<EOM
# Benchmarks

Figures come from \`make bench\` only (never from timed tests), every comparison in one run on one
machine; this file is written by \`bench/report.sh\` from that run, and the plot
(\`docs/bench-latency.png\`) by \`bench/plot.sh\`. Raw results: \`$BUILD/bench/results.json\`
(system, transport, size, test, msgs/s, MB/s, latency percentiles, lost, duplicates).

Every system is driven by one program, \`bench/peer\` (\`bench/peer.c\`): the same pacing,
timestamps, sequence checks and HDR-style histogram (\`bench/hist.h\`, 64 buckets per power of
two: every value kept within 1.6 %) for the raw-UDP floor (sendmmsg/recvmmsg, no reliability),
seqcast (its library API; PGM channels, and MoldUDP64 channels -- \`protocol: moldudp64\`), OpenPGM (libpgm 5.3, Debian) and ZeroMQ PUB/SUB over \`epgm://\`
(libzmq 4.3, Debian, which is OpenPGM underneath). Every receiver counts lost and duplicated
messages; a seqcast transfer that loses or duplicates anything fails \`make bench\`.

**Read the ratios, not the absolute numbers, and read them with the noise in mind.** This is a
2-vCPU Firecracker VM: publisher and subscriber share the two vCPUs, and an idle vCPU that
blocks waits for the hypervisor to wake it, which puts millisecond steps into every blocking
receiver's tail at low rates (the floor's own p99 moves from 30 µs to 2 ms between identical
runs). The latency section therefore runs each case five times, the loss section three, and
each shows the run with the median p99; the targets below are evaluated on those figures, as
the issue asks. The reps run apart in time (\`bench/run.sh\`: latency and loss reps between the
other sections), because the VM's noise comes in stretches of about a minute: traced with ftrace,
a bad stretch showed the benchmark's own processes appearing to run 1–3 ms at a time (normally
~10 µs a wake-up) with the guest's steal counter silent, and 8-subscriber p99 under loss went
from ~0.3 ms to ~2 ms in 3 of 10 runs in a row, then in none of the next 40; the guest's own
agent (PID 1's tokio workers) also takes a vCPU for ~2 ms about once a second. Receivers report
ready (\`peer --ready\`) before the sender starts, so no run measures a receiver still setting up,
and each rep starts with a discarded second of the floor, which takes the after-effects of the
section before it (without it, the first run of a rep -- the floor's -- once read 2.8–5.6 ms at p99
in 3 of 5 reps while its A/A copy read 35 µs).

## Machine

| | |
|---|---|
| CPU | $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) vCPUs (a VM) |
| kernel | $(uname -r), clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null) |
| memory | $(free -g | awk '/Mem:/ {print $2}') GiB |
| OpenPGM | $(dpkg-query -W -f='${Version}' libpgm-dev 2>/dev/null || echo none) (Debian libpgm-dev) |
| ZeroMQ | $(pkg-config --modversion libzmq 2>/dev/null || echo none) (Debian libzmq3-dev) |
| DPDK | $(pkg-config --modversion libdpdk 2>/dev/null || echo none) (Debian libdpdk-dev), EAL \`--no-huge\` |
| run | $(date -u -r "$out/latency-table.md" '+%F %H:%M UTC' 2>/dev/null || date -u '+%F %H:%M UTC') |

## Targets (issues 7, 18, 19 and 20), from this run

| measured in this run | target | |
|---|---|---|
$(cat "$out"/throughput-table.md "$out"/latency-table.md "$out"/recovery-table.md "$out"/order-table.md \
      "$out"/feedhandler-table.md "$out"/ipc-table.md "$out"/archive-table.md "$out"/dpdk-table.md 2>/dev/null |
  grep -E '^\* .*(holds|does not hold)\)$' | sed -E 's/^\* (.*) \(target (.*): (holds|does not hold)\)$/| \1 | \2 | \3 |/')

## Kernel UDP throughput (\`bench/throughput.sh\`)

One publisher → one subscriber, two processes, over loopback multicast and across a veth pair
between two network namespaces; msgs/s at the receiver from its first message to its last;
\`BENCH_MSGS\` (default 300,000) messages per transfer for one-message-a-packet systems, more for
the batching ones. **seqcast-cli** rows are \`seqcast-pub → seqcast-sub --verify\` (the CLIs, every
byte of every message generated and checked), **batched+record-tmpfs** the same with
\`seqcast-pub --record\` writing every packet to a pcap file in tmpfs (\`BENCH_RECORD_DIR\`,
default /dev/shm; the row names the file system used): what recording itself costs the
publisher, no disk in the way -- issue 22's ≥ 0.9 × is judged on these, as the target is about
the hot path; **batched+record-disk** the same writing to the run's directory on disk, for
information, beside the disk's own write rate (\`dd oflag=direct bs=4M\`) and the rate the capture
came at in the targets below: a disk slower than the capture is a sizing matter
(docs/OPERATIONS.md gives the capture's bytes a message).

$(cat "$out/throughput-table.md" 2>/dev/null || echo "(section not run)")

* The **raw-UDP floor** is the issue's: plain sendmmsg/recvmmsg, a system call per 64 datagrams
  but a trip through the stack per datagram. **UDP + GSO/GRO** is the same with UDP_SEGMENT sends
  and UDP_GRO reads, the kernel's best path for runs of equal-size datagrams and the one seqcast's
  udp transport takes (\`gso: true\`, the default): that row, not the plain floor, is the ceiling
  to compare raw framing with.
* **batched** packs MoldUDP64 messages into each packet (about 40 of 32 B at MTU 1500), so at
  32 B it moves many times the kernel's packet rate; **raw** is one message per packet (OpenPGM's
  format) and should sit near the floor's packet rate.
* OpenPGM runs with its rate limit at 200 MB/s (not the limit here) and a 1M-packet window;
  ZeroMQ with ZMQ_RATE 2 Gbit/s at 32 B and 1 Gbit/s above, 32 MiB socket buffers and unbounded
  high-water marks -- faster rates overran its receiver into unrecoverable loss (lost rows),
  lower ones cap it. ZeroMQ batches small messages too: it is the peer to beat at 32 B.
* At 1344 B the floor is a byte rate: raw 1344 B is compared with it in bytes/s (same size, so
  the same ratio). Batched at 1344 B is one message a packet plus a MoldUDP64 header.
* **seqcast MoldUDP64** is a \`protocol: moldudp64\` channel (issue 18): the same blocks as
  batched PGM, but as the whole UDP payload (20 bytes of header a packet instead of PGM's 44), so
  a packet holds as many or more messages (288 B: 5 instead of 4). Its ratio to PGM batched is
  taken from the interleaved pinned pairs below the main table, not from the single transfers
  in it: one transfer each is a draw between the VM's modes (single unpinned 288 B transfers of
  the same code read 2.0--7.0M msg/s minutes apart).

## One-way latency (\`bench/latency.sh\`)

Paced publisher (\`clock_nanosleep\` to each message's slot, the send time stamped in the
message just before the send call), one receiver; loopback; each message flushed at once
(seqcast: \`sc_pub_flush\` after every message). **blocking** receivers sleep in
poll/recv until data comes; **busy-poll** receivers spin on non-blocking reads; the same mode for
every system in a row. Median-p99 run of five per row.

$(cat "$out/latency-table.md" 2>/dev/null || echo "(section not run)")

![latency percentiles](bench-latency.png)

* **raw-UDP floor, again (A/A)** is the floor run a second time in every rep, beside seqcast:
  its ratio to the floor is what the noise alone does to a ratio in this run (in the target
  lines too). Before it was added, 10 interleaved runs each at 32 B × 100,000/s busy-poll: floor
  against floor per run 0.45–1.84 × in p99, median of five 0.94–1.21 ×; seqcast against the
  same floor runs, median of five, 1.19–1.32 ×. A p99 target of 1.3 × sits inside that spread.
* Busy-polling removes the wake-up: there the medians show each stack's own cost (seqcast within
  ~0.2–1.7 µs of the floor), and the tails are the VM's: with a 5–7 µs floor p99, 1.3 × is a
  2 µs budget, and the same code has measured 1.01–2.1 × across runs (change table: what was
  done about the part that was seqcast's).
* What decides the 32 B × 100,000/s busy-poll p99 (a per-message trace, 200,000 messages, 3–5
  runs per system): the receiving vCPU stops for 10–20 µs about a thousand times a second
  (receive-loop gaps of 10–50 µs: ~2,000–2,500 a run, floor and seqcast alike; late messages
  recur every 100 messages, i.e. every 1 ms), which touches 1–1.5 % of the messages. The 99th
  percentile sits on the edge of that population: in the body (~6 µs) or inside it (~12 µs),
  run by run, for either system. Now and then the vCPU stops for 0.5, 1.5 or 2.1 ms (the host
  scheduler's steps), again for both. seqcast's own part is a fixed shift: its minimum and every
  percentile up to p95 sit above the floor's -- 0.6–0.8 µs before this round's hot-path work,
  0.4–0.6 µs after it (interleaved runs, p50 means 4.30 vs 3.65–3.70 µs): building and handing
  over the packet before \`sendmmsg\` (~800 instructions, was ~1,250, and a cache miss on the
  window buffer, now prefetched) and from \`recvmmsg\` to the callback (~850 instructions: GRO
  buffer copy, parsing, checksum, ordering) -- which puts more of its messages over that edge.
  Which side of the edge a run's p99 lands on is a draw for both systems (pinning the two
  processes to different vCPUs did not change that: floor p99 6.7–15.5 µs over 5 pinned runs).
* ZeroMQ hands every message through its I/O thread on both sides: two more thread hops.

## Recovery under loss (\`bench/recovery.sh\`)

A veth pair between two namespaces; nftables drops 1 % of every UDP packet leaving the
publisher's side (data, repairs and heartbeats alike: this kernel has no netem); NAK packets are
counted arriving at the publisher by an nftables counter. OpenPGM's receivers use NAK timers of
2/20/20 ms (back-off, repeat, RDATA wait); ZeroMQ's are its built-in ones. Blocking receivers.

$(cat "$out/recovery-table.md" 2>/dev/null || echo "(section not run)")

* At 10,000 msg/s a lost packet is noticed only when the next packet (data or the heartbeat SPM,
  100 µs after data) arrives, then NAKed after a back-off of up to 50 µs and repaired a round trip
  later, while the messages behind it wait (in-order delivery): each loss delays two or three
  messages by 150–300 µs even with no scheduling noise. With 1 % of packets dropped that is
  2–3 % of all messages, so **the p99 under loss is the repair time by arithmetic**, and "p99 ≤
  1.5 × the floor's p99 without loss" can hold only when the floor's own p99 is a VM wake-up of
  several hundred µs. The ratio to OpenPGM's p99 (whose repairs wait on its 2 ms back-off) is the
  meaningful one for NAK repair.
* **seqcast, A/B lines** is the market-data answer to that arithmetic: \`group_b\` sends every
  packet to a second group and the subscriber takes the first copy, so a message waits for a
  repair only when both copies were dropped (0.01 % here), at twice the packets. Here both lines
  cross the same veth and nftables drops each copy independently, which is what separate A and B
  paths give; copies lost together (one congested path carrying both) would not be hidden.
* p99.9 and max are a lost NCF or repair: the receiver waits before NAKing again. With
  \`nak.ramp\` (lan default) the first waits are 1/8, 1/4, 1/2 of \`nak.repeat\`/\`nak.rdata\`
  (250/500 µs first) instead of 2/4 ms.
* 8 subscribers in one namespace see the same drops; NAK suppression (a subscriber that hears
  another's NAK or the NCF holds its own) is what keeps NAKs per dropped packet well below 8.
* Tail loss: the last message's ODATA is dropped and the publisher goes quiet; only its
  heartbeat SPMs (\`spm.heartbeat\`, first 100 µs after data on the lan profile) reveal the gap.
* **seqcast MoldUDP64 (re-request)**: the same stream on a \`protocol: moldudp64\` channel (lan
  profile): a gap is seen at the next packet, requested after the back-off (one draw per gap)
  by unicast to the publisher's data port and answered by unicast -- no NCF, so a lost request
  or response is found only when \`nak.rdata\` (ramped) runs out. Requests are counted arriving at
  the publisher (UDP payloads of 20 bytes). With unicast answers one subscriber never sees
  another's repair, so nothing suppresses its request: with 8 subscribers missing the same
  packet, expect about 8 requests per dropped packet (PGM's NAK suppression keeps NAKs well
  below that); \`mold.response: multicast\` would let the first answer serve all.

## MoldUDP64 re-request server capacity (\`bench/rereq.sh\`)

A publisher on a \`protocol: moldudp64\` channel sends N messages and lingers with all of them in
its window; \`bench/rereq\` (\`bench/rereq.c\`) keeps a number of requests in flight from one
address, each for 1,000 messages from a random first message, and counts the messages in the
responses (each checked against its sequence number). The server answers a request with one
packet: at most \`mold.response_bytes\` (\`auto\`: one MTU) of blocks, so a response holds 42
messages of 32 B or 5 of 288 B -- the rest is the requester's to ask for again. \`rtx.budget\`
(messages per address per second; lan 20,000) and \`rtx.rate\` (lan 1 Gbit/s) are raised out of
the way: with them, one address is served at most 20,000 messages a second by design. A request
unanswered in 20 ms is given up by the client (the VM stops a vCPU for milliseconds now and then)
and its answer, when it comes, still counted.

$(cat "$out/rereq-table.md" 2>/dev/null || echo "(section not run)")

* One request in flight is a round trip per packet (two wake-ups); with 256 in flight the server
  reads up to \`SC_BURST\` (32) requests per \`do_work\` and answers them in one \`sendmmsg\`,
  and the client is the other half of the machine. 1,024 queued responses is the admission
  limit (\`SC_REREQ_QUEUE\`): past it one address adds only while it holds fewer than 4
  (\`mold_req_dropped\`).

## Archive: rewind and a late joiner's catch-up (\`bench/archive.sh\`)

\`seqcast-archive --rewind\` records a feed of 32 B messages (\`fsync: batch\`);
\`seqcast-rewind --from 1\` reads it all back over loopback TCP (SoupBinTCP, the order
server's code; each session reads the store through its own cursor, a 256 KiB block per
\`pread\`, so the rate is the client's and the socket's), and a subscriber joining a live feed
with \`--late-join archive\` gets the history by rewind, merged into the live stream. Issue 20's
targets: a rewind of at least 10,000,000 msg/s at 32 B, and a late joiner catching up at 5
times the live rate or better. The catch-up row's time includes starting the process, joining
the group and the rewind's connect and login (about 0.2 s here): the larger the history, the
nearer its rate comes to the rewind's as the subscriber delivers it. The feeds are
\`seqcast-pub --rate\` with the lan profile's \`batch_delay\` of 10 µs: the messages due within
each 10 µs share a packet (about ten at 1,000,000 msg/s, ~100,000 packets a second).

$(cat "$out/archive-table.md" 2>/dev/null || echo "(section not run)")

## Feed handler: order books from an ITCH 5.0 file (\`bench/feedhandler.sh\`)

seqcast-itchgen writes a deterministic day; \`seqcast-feedhandler --input\` decodes every message
(proto/itch.c) and applies it to the order-level books (feedhandler/book.c) through the glue
(feedhandler/itch_feed.c), on one core: what a feed handler costs per message before any
network. Issue 19's target is at least 25 M msg/s; published open-source ITCH book builders
reach 11-16 M msg/s a core.

$(cat "$out/feedhandler-table.md" 2>/dev/null || echo "(section not run)")

* Where a message's time goes (docs/ARCHITECTURE.md, "The order-book engine", takes it apart):
  about a third is decoding and dispatch (the type switch mispredicts on a real mix), the rest
  the books' cache misses -- the order's slot in the map and the top of its book's side, both
  prefetched a few messages ahead -- and the branches that depend on the data (a new level or
  not, a BBO change or not). More symbols and more live orders: lower rates. The tables are
  sized once, at start: the first table's memory is what the configured maxima take, whatever
  the day uses; the second table sizes them to the day.

## Feed handler: publisher to BBO callback (\`bench/fh_latency.sh\`)

End to end, one way: a paced seqcast publisher sends a seqcast-itchgen day over loopback
multicast, each message stamped just before its send call with the send time in its own ITCH
timestamp field (CLOCK_MONOTONIC mod 2^48, shared by both processes); the receiver -- a seqcast
subscriber, \`sc_itch_feed_msg\`, the order books -- takes now minus that stamp inside the book's
\`on_bbo\` callback, once per message that moves a best bid or offer (\`bench/peer\`'s \`feed\`
system). MoldUDP64 is NASDAQ's own framing for ITCH, PGM batched the other seqcast channel; both
flush each message at once (one a packet). The floor is the raw-UDP pair of the latency section
at 32 B and the same rate, run in the same reps; p50 and p99 are also given as a multiple of it.

$(cat "$out/fh_latency-table.md" 2>/dev/null || echo "(section not run)")

## Live counters: their cost on the hot path (\`bench/shm.sh\`)

Issue 21's rules: publishing the counters in shared memory (\`stats.shm: on\`, a copy every
100 ms from the agents' own stats) must leave throughput within noise, and so must a reader at
1,000 reads a second (\`bench/statread\`: every file read as seqcast-stat reads it). Three
variants of the throughput section's batched 32 B loopback row, interleaved, both ends with the
same setting.

$(cat "$out/shm-table.md" 2>/dev/null || echo "(section not run)")

EOM
cat <<EOM
## DPDK data path: publisher → subscriber throughput (\`bench/dpdk.sh\`)

Batched framing (MoldUDP64 blocks in PGM ODATA, MTU 1500), 1,000,000 generated messages per
transfer; the subscriber verifies every byte and must receive all of them (a transfer that loses
data is retried at a lower published rate, and a note says so); msgs/s are measured at the
subscriber from its first to its last message. Publisher and subscriber are two processes on the
same 2-vCPU machine; the kernel subscriber gets a 32 MiB socket buffer, as in the throughput
section (with the 8 MiB default one run overran it at 288 B in all three tries).

$(cat "$out/dpdk-table.md")

* **net_null** is a port that drops everything, so the figure is the publisher alone (batching,
  ODATA encoding, framing, \`rte_eth_tx_burst\`). How close a transport gets to it is what its link
  costs: **memif ÷ net_null** (issue 22's target: ≥ 0.8 × at 32 B) is the memif transfer, every byte
  verified at the subscriber, against the median net_null run of the same run.
* The **reference publisher** (\`bench/dpdk_ref.c\`) is the practical limit of a publisher into
  that port: the same frames (PGM ODATA with its checksum around a MoldUDP64 block of as many
  messages as fit, the IPv4 checksum as the transport does it; a seqcast subscriber verifies a
  capture of them before the section runs) and the same application work per message (the
  test-message generator, the copy into the block), but each packet built directly in an mbuf
  and sent 32 at a time -- no window, no repair, no timers. The net_null columns are the medians
  of runs of ${BENCH_DPDK_NULL_MSGS:-5,000,000} messages, the two publishers alternating (each run's
  figure in brackets); **net_null ÷ reference** is issue 22's target (≥ 0.7 × at 32 B).
* At **32 B** (~40 messages a packet) the per-message path dominates; at **288 B** (5 a packet) the
  packet rate does, and memif (shared memory) moves the most packets.
* af_packet on a veth crosses the kernel on both ends: it is the way to reach a kernel interface,
  not a speed-up over kernel UDP. A NIC with a DPDK driver, the case the PMD exists for, is not
  available on this machine.
* af_xdp on the same veth: the frames go through an XDP program to AF_XDP sockets, in copy
  mode (a veth has no zero-copy driver), one queue; the way to reach a kernel interface without
  AF_PACKET's per-frame socket path. On a NIC with zero-copy AF_XDP support it skips the copy.
* Two processes share 2 vCPUs of a VM: figures move by tens of percent between runs (32 B over
  af_packet measured 7.8M and 3.2M msg/s in two runs on the same day). Compare within one run.

## Instructions per message (\`bench/instr.sh\`)

\`valgrind --tool=callgrind\` counts the instructions a program runs: unlike time, the count does not
move with the machine or its neighbours, so it is the figure to cut and to compare between
changes. Batched 32 B, each program run for two message counts (200,000 and 1,200,000) and the
difference divided by the difference, so start-up cancels out. Publish: \`seqcast-pub --size 32\`
into DPDK's net_null with \`no-rx=1\` (no link cost at all). Receive: \`seqcast-sub --verify\`
reading a capture of that stream (\`--pcap\`: no socket). "The engine alone" is the library's
calls, inclusive (\`sc_pub_send\` + \`sc_pub_do_work\`; \`sc_sub_do_work\` less the application's
\`on_msg\` and the capture reader).

$(cat "$out/instr-table.md" 2>/dev/null || echo "(section not run)")

## Order session: order → acknowledgement round trip (\`bench/order.sh\`)

\`seqcast-order\` (one order in flight) against \`seqcast-orderd\` (journal in memory, \`fsync: none\`:
the protocol, not the disk), 32-byte orders, beside a plain TCP ping-pong of the same size with
TCP_NODELAY, in the same run; every side blocks until the other's message arrives (the client's
\`--spin\` would busy-poll instead). Three interleaved repetitions, the median-p50 one shown.

$(cat "$out/order-table.md")

* What separates the gateway from the bare socket is system calls: per order the gateway sleeps
  in \`epoll_wait\` (\`sc_osrv_wait\`: the wait and the readiness in one call), reads once and
  writes once (the ping-pong server: one read, one write); the client writes the order with one
  \`send\` (\`sc_ocli_flush\`) and sleeps in the read of the acknowledgement itself
  (\`sc_ocli_wait\`) -- five system calls a round trip to the ping-pong's four. They used to
  be seven (\`poll\` before \`epoll_wait\` on the gateway, \`poll\` before the read on the
  client), and before that the gateway also tried \`accept\` and a second \`read\` (to hear
  EAGAIN) on every pass and the client spun; the millisecond p99.9 stalls measured before went
  with those changes (see the change table).
* With \`fsync: batch\` or \`message\` every acknowledgement also waits for \`fdatasync\` (the journal
  is written before the acknowledgement is sent): the round trip is then the disk's.

## Same-host IPC: one writer to local readers (\`bench/ipc.sh\`)

\`transport: ipc\` (issue 23): a channel in a shared memory-mapped file, one writer, reader
processes that follow it without a system call or a lock per message (docs/ARCHITECTURE.md,
engine/ipc.c). Beside it in the same run, alternating, a bare single-producer ring doing the same
copies -- the ceiling for this design on this machine.

$(cat "$out/ipc-table.md" 2>/dev/null || echo "(section not run)")

* Two vCPUs carry the writer and up to four readers, pinned: the writer on one CPU, the readers
  on the other (with 4 they take turns on it). Unpinned, the placement was the scheduler's draw:
  a writer and reader on one core hand it over at a yield with the log full, a batch in which no
  cache line crosses cores (60–80 M msg/s at 32 B for either system); on two cores every line
  crosses per message. Each system took its own draw per run, so the 1-reader ratio swung from
  0.30 (make bench) to 1.98 (alone) with the code unchanged. Pinned, both pay the crossing every
  run; other work on the VM still moves both (read the ratio and the runs column). Aeron's IPC
  publications measured 29–31 M msg/s at 32 B on this class of machine (one reader); the
  issue's target is the ratio to the bare ring, ≥ 0.7 ×.
* Feed handler to strategy: the strategy sleeps in a futex between records and shares 2 vCPUs
  with the sender (pacing by spinning) and the feed handler; the p50 is mostly the feed
  handler's network wake-up and the strategy's, the tail the VM's scheduling.

## This run against the previous one (\`bench/compare.sh\`)

Every row that this run and the \`docs/BENCHMARKS.md\` it replaced both have, figure by figure.
"within noise": a rate within 0.7--1.43 ×, a p50 within 0.8--1.25 ×, a p99 (or tail-loss repair
time) within 0.5--2 × of the previous run -- the spread this VM gives the same code from run to
run (the floor's median-of-five p99 against itself has spanned 0.93--2.11 ×). A move outside it
is marked; read it beside the floor's own move in the same case.

$(cat "$out/compare-table.md" 2>/dev/null || echo "(no comparison)")

## Changes made because of these figures

Each measured before and after on this machine (same commands, several runs).

| change | figure | before | after |
|---|---|---|---|
| the test-message generator (\`apps/msggen.c\`, used by \`seqcast-pub --count\` and \`--verify\`) writes and checks 8 bytes at a time instead of one: \`perf\` showed it at 29 % of the publisher's time at 1344 B, more than the engine | seqcast-cli 1344 B batched, msgs/s | 121,000–165,000 | 171,000–181,000 |
| \`sc_pub_do_work\` sends new data before it reads the socket for NAKs (a system call), then serves repairs in the same call: a live message no longer waits behind the NAK read | busy-poll p50, 32 B × 100,000/s | 6.3–7.0 µs | 5.0–5.7 µs |
| the publisher re-arms its heartbeat timer when data resumes after a pause (\`data_sent\` in \`engine/pub.c\`): the timer was left at the pause's long heartbeat step, so a lost tail of the next burst waited for it; found by the tail-loss benchmark, pinned by a simulation test | final message lost, repaired after | 171 ms (up to \`spm.ambient\`) | ~0.2–2 ms |
| the order gateway asks epoll which sockets are ready and reads only those, and stops reading at a short read instead of reading again for EAGAIN; the client stops at a short read too and blocks in \`poll\` instead of spinning (\`--spin\` keeps spinning available); \`bench/order.sh\` compares blocking with blocking | order p50 / TCP ping-pong p50; p99.9 | 1.66 (client spinning vs blocking ping-pong); 3.7 ms | 1.1–1.2 (both blocking); 0.1 ms |
| kernel UDP sends runs of equal-size packets as one UDP GSO send (\`gso\`, \`engine/transport/udp.c\`): the stack is crossed once per run of up to 32 packets instead of once per packet | raw 32 B / raw 1344 B / batched 32 B, msgs/s | 0.9 × / 0.8 × the floor; 6.2M | 2–3 × / 2.1–2.6 × the floor; 6.5–8.3M |
| NAK retries ramp up (\`nak.ramp\`, lan): the first waits for an NCF / a repair are 1/8 of \`nak.repeat\` / \`nak.rdata\`, then 1/4, 1/2, full; a lost repair no longer costs 4 ms. Needed the timeout fix below first (the ramp changed a simulation's random pattern into a 9 s outage) | 1 subscriber, 1 % loss, 24 B × 10,000/s: p99.9 / max, blocking; busy-poll | 3.0–3.6 ms / 4.5 ms; 3.6 / 4.3 ms | 1.1 ms / 3.1 ms; 0.47 / 1.1 ms |
| a session heard again after its source timeout resumes (\`SC_JOIN_RESUMED\`) and its gaps are held for a grace of another \`source_timeout\`: before, it was started afresh (delivered again from message 1, or joined live skipping the gap) | correctness, \`tests/sim/test_sim.c\` | duplicates or a silent gap | every message once |
| the benchmark receiver reads the clock once per receive call, not per message, when it is not measuring latency (\`perf\`: \`clock_gettime\` was 20–30 % of both sides at 32 B) -- a harness fix, not an engine one | bench/peer batched 32 B, msgs/s | 4.8M | 6.2–6.7M |
| on a steady stream the publisher sends at most one heartbeat SPM per 2 × the mean gap between data (\`data_sent\`/\`spm_fire\` in \`engine/pub.c\`): the next data reveals a loss anyway, and each SPM woke every subscriber | SPMs per data packet, lan, 1,000 / 10,000 msg/s (\`tests/sim\`, \`tests/integration/outage.sh\`) | 3 / ~1 (28,022 packets dropped in the 7 s outage) | 1 / 0 (14,018); tail repair at 10,000/s 0.15 → 0.25 ms |
| RDATA at once on the lan (\`rtx.delay\` 20 µs → 0) with a hold-off instead (\`rtx.holdoff\`, 300 µs): a NAK arriving soon after a repair gets the NCF only | 1 subscriber, 1 % loss, p99 | 266–270 µs | 166–186 µs (with the timer-slack change below) |
| \`bench/peer\` sets its timer slack to 1 ns (\`PR_SET_TIMERSLACK\`) for every system: the kernel's default 50 µs slack delayed every timed wake-up, NAK back-offs of tens of µs included -- a harness setting, recommended to applications in OPERATIONS.md | 1 / 8 subscribers, 1 % loss, p99 | 215 / 270 µs | 178 / 252 µs |
| the publisher's 24 MB retransmit window and the subscriber's buffer pool are touched at creation (\`engine/txw.c\`, \`engine/sub.c\`): the first pass through the window took a page fault every ~3 packets on the send path (6,465 faults in a 200k-message run, now all at start) | busy-poll p99, 32 B × 100,000/s | 6–19 µs | 5.4–13 µs (noisy) |
| A/B lines (\`group_b\`): every packet on two groups, the first copy wins | 1 / 8 subscribers, 1 % loss, p99 × the floor without loss | 10.2 / 5.4 (NAK repair) | 1.6 / 1.9 (2 × the packets) |
| the window and the pool come from \`engine/bigmem.c\`: 2 MiB-aligned with \`MADV_HUGEPAGE\` (THP is "madvise" on Debian), so the 24 MB ring is 12 huge pages rather than 6,000 4 KiB pages, each new one a TLB miss on the send path | busy-poll one-way p99, 32 B × 100,000/s (\`bench/peer\` as in \`bench/latency.sh\`, 6 interleaved runs each, median) | 15.6 µs (10.8–16.1) | 11.7 µs (8.1–18.2); within the noise, kept because it cannot cost |
| order sessions: two system calls fewer per round trip -- \`seqcast-order\` writes a queued order with \`sc_ocli_flush\` (no read that only hears EAGAIN) and \`seqcast-orderd\` no longer runs a second \`do_work\` pass (one more \`epoll_wait\`) after every acknowledgement (\`sc_osrv_do_work\` asks for another pass only during a large replay) | order round trip p50 × plain TCP ping-pong (\`bench/order.sh\`, 4 interleaved runs each); Unix-socket p50 | 1.10–1.25, mean 1.18; 14.9–16.5 µs | 1.02–1.18, mean 1.10; 13.8–14.9 µs |
| fewer system calls per message: every burst sent re-arms the heartbeat timer (it fired and re-armed itself every packet or two on a steady stream: 5,000 needless publisher wake-ups a second at 10,000 msg/s); the publisher asks its epoll fd which of its two sockets has anything instead of reading both; the subscriber's GRO reader stops after a short read; \`bench/peer\` runs \`do_work\` once per wake-up (the loop documented in \`seqcast/sub.h\`). Per message at 10,000 msg/s: subscriber 3 \`recvmmsg\` + 1 \`ppoll\` → 1 + 1; publisher ~2 \`recvmmsg\` per pass and the heartbeat wake-ups → 1 \`epoll_wait\` | one-way p50 / p99, 4 interleaved runs each (floor in brackets): 24 B × 50,000/s blocking; 32 B × 100,000/s busy-poll (median p99); 8 subscribers under 1 % loss, worst receiver's p99 (median) | 10.4–11.6 / 23.8–28.7 µs (8.6–9.7 / 21.8–24.3); 9.5 µs (7.3); 200.7 µs | 9.6–10.5 / 19.7–26.6 µs; 7.7 µs; 186 µs |
| A/B lines: a burst of up to 16 packets sends its A and B copies in one \`sendmmsg\` (both queued at a receiver before it runs: one wake-up for the pair instead of two); \`link_tx_calls\` counts transport calls | 8 subscribers, A/B, 1 % loss: worst receiver's p99, 3 interleaved runs each (before = the code at the start of this round, so the syscall changes above are in the after column too) | 114–240 µs | 92–104 µs |
| the subscriber keeps the burst of buffers it offers the transport from one \`do_work\` to the next (only those packets kept are replaced) instead of taking 32 from the pool and putting back the unused ones on every call | \`valgrind --tool=callgrind\` of \`bench/peer seqcast recv\`, 32 B × 20,000/s, blocking: instructions per \`sc_sub_do_work\` call (inclusive) / per message | 1,997 / 1,556 | 1,588 / 1,330 |
| the test-message generator makes 16 bytes at a time (byte vectors: the ramp from a 256-byte table plus the base in every lane; the sequence in one big-endian store) -- it was 205 of the 399 instructions a message of \`seqcast-pub --size 32\` into net_null, more than the engine's whole send path; and the net_null row runs with \`no-rx=1\` (net_null otherwise makes up 32 dummy frames a poll that the publisher parses and filters: ~25 instructions a message that no real port costs) | DPDK publisher into net_null, batched 32 B: \`valgrind --tool=callgrind\` instructions per message (1.2M minus 0.2M messages); msgs/s (5M messages, 3 runs) | 399 (generator 205, engine's \`sc_pub_send\` 173); 26.6–27.3M (these runs) | 261 (generator 65, \`sc_pub_send\` 173); 36.9–37.0M (one run of three 23.9M, a helper busy) |
| the per-message path, by \`bench/instr.sh\`'s counts: the Internet checksum adds 64-bit words and counts their wraps (add + adc: 12 instructions per 32 bytes, was 19); \`sc_mold_enc_add\` and \`sc_mold_iter_next\` inline, the encoder copying up to 64 bytes in overlapping moves instead of calling \`memcpy\`; \`sc_pub_send\`'s common case (an open block with room after the message) handled before anything that needs saved registers; the publisher's largest message kept at create; the batched subscriber checks a block's repeated numbers once per block | batched 32 B, instructions per message (callgrind, \`bench/instr.sh\`): publish / receive, engine alone (whole program) | 162 (378) / 97 (384) at the start of this round (the generator row above included) | 103 (203) / 68 (216) |
| \`sc_sub_wait\` (new API, used by \`bench/peer\` and \`seqcast-sub\`): a blocking subscriber sleeps in the read itself (with UDP GRO: \`recvmmsg\` MSG_WAITFORONE into the GRO buffers, consumed by the next \`do_work\`), one system call per wake-up instead of \`ppoll\` + \`recvmmsg\` | blocking one-way latency 24 B × 50,000/s, 6 interleaved runs each, median p50 / p99 (floor in brackets) | 12.5 / 28.8 µs (10.5 / 26.2) | 10.8 / 25.9 µs |
| fewer instructions between the timestamp and \`sendmmsg\`, and per receive pass: ODATA from a per-source header template with its checksum partial sum (\`sc_pgm_encode_odata\`: encode 386 → 117 instructions at 32 B); \`batch_delay\` a due time instead of a wheel timer armed and cancelled for every flushed block; the timer wheel caches its next event, so an expire with nothing due (every busy-poll pass) is one comparison (87 → 29 instructions with the call); a read buffer a packet kept is replaced in place instead of moving the rest of the burst down (~250 instructions per packet kept) | callgrind of \`bench/peer seqcast\`, 32 B: publisher \`send\` + \`flush\` per message; subscriber per idle busy-poll pass. One-way p50, busy-poll, 32 B × 100,000/s, 6 interleaved runs each, mean (floor in brackets) | 1,746; 274 instructions; 4.85 µs (3.92) | 1,344; 186 instructions; 4.60 µs |
| the publisher prefetches the next window buffer (two cache lines) when it commits a packet (\`sc_txw_commit\`): that buffer was last written a whole window (24 MB) ago, so building the next packet missed the cache on the send path | one-way p50 / min, busy-poll, 32 B × 100,000/s, 6 + 6 interleaved runs, mean (floor in brackets); raw 32 B msgs/s, 3 interleaved runs | 4.67–4.75 / 3.33–3.44 µs (3.65–3.70); 2.5–3.1M | 4.30–4.34 / 3.11–3.16 µs; 3.3–5.4M |
| a subscriber's buffer pool grows by one window for each further source holding buffers at once (\`pool_fit\`, \`engine/sub.c\`), and a dry pool keeps reading (only the next packet in order is kept, the rest NAKed again): four sources with losses on a pool of one window wedged -- every buffer waited for a repair that could no longer be read | \`tests/sim/test_sim.c\` \`four_sources_*\`: 4 × 200,000 messages, 5 % loss, slow repairs: delivered; and with the pool capped at one window | 76,290 of 800,000 delivered (17,700–21,300 per source), the rest reported lost | all 800,000, none lost; capped: every source reaches its end, 225,000 delivered, the rest reported lost |
| order sessions: the gateway sleeps in \`epoll_wait\` itself (\`sc_osrv_wait\`, used by \`seqcast-orderd\` serving one session) and the client in the read of the acknowledgement (\`sc_ocli_wait\`, used by \`seqcast-order\`): a round trip is 5 system calls instead of 7 (\`strace -c\`: client 1 \`sendto\` + 1 \`recvfrom\` per order); \`bench/order.sh\` pins client and server to different vCPUs, as the throughput-under-loss pairs are | order p50 / TCP ping-pong p50, \`/tmp\` script of \`bench/order.sh\`'s commands, interleaved runs | 1.10–1.15 (4 runs, unpinned) | 0.90–1.11 (6 runs, pinned to different vCPUs) |
| the throughput-under-loss pairs (\`bench/recovery.sh\`) move 9M messages instead of 3M and pin receiver and sender to different vCPUs: unpinned, runs fell into two modes (~12M and ~19M msg/s, with or without loss alike), so the ratio of two medians was a draw between modes; a transfer of 0.2 s was also moved by a third by one VM stall | batched 32 B under 1 % loss ÷ without, veth | 0.75–1.00 between runs (unpinned, 3M); unpinned 10M pairs 0.65–0.94 | pinned 10M pairs 0.89–0.96 in 3 of 4 (one 0.71: its no-loss run reached 15.5M) |
| the publisher confirms a sequence with one NCF per half \`rtx.holdoff\` instead of one per NAK (\`sc_rtx_confirm\`, \`engine/rtx.c\`): the NAKs of receivers the first NCF had not reached yet are counted (\`nak_ncf_held\`), not answered with NCFs that each go to every receiver | NCFs per repaired packet with 32 subscribers: \`tests/sim\` \`nak_suppression_bounds_implosion\` (2 % shared loss); \`bench/peer\`, 32 receivers in one namespace, 2,000 msg/s, 1 % loss (publisher's \`ncf_sent\`) | 1.61; 26 (3,662 for 140) | 1.00; 1.0 (163 for 161) -- worst receiver's p99 (1.3–1.5 ms) and CPU unchanged here: 32 receivers on 2 vCPUs are bound by the fan-out |
| \`bench/run.sh\` runs the latency and loss reps apart in time, between the other sections, and receivers report ready (\`peer --ready\`) instead of a fixed sleep; the latency section runs the floor twice (A/A) | make bench time; what a p99 ratio means | 534 s; no measure of the noise | 542 s with the A/A rows; the floor against itself 0.93–2.11 × in one run |
| zero copy on send, first cut (\`dpdk.tx_zero_copy\`, \`engine/transport/dpdk.c\`): the publisher's window keeps 128 bytes in front of each buffer for the frame and a refcount, and a window packet goes out attached to an mbuf (\`rte_pktmbuf_attach_extbuf\`) instead of copied; attached and detached at every send | DPDK publisher into net_null, batched 32 B: CPU time (user + sys) per message, 42M minus 2M messages, 5 interleaved runs, median (range); callgrind instructions per message (1.2M minus 0.2M), whole program | copy: 16.75 ns (14.25–24.25); 206 | 19.50 ns (18.75–22.50); 205 -- the 178-instruction \`memcpy\` per packet is gone, but attach, detach and the atomic refcount cost as much, and the busy check at each new window buffer read a line last touched a window (24 MB) ago |
| zero copy, second cut: each window buffer keeps its mbuf attached for good (one per buffer, a window-sized pool; a device's free only drops the count to 1), the mbufs a device still holds after its tx burst are remembered so the window's busy check touches no memory when there are none (every software PMD), the headroom lines prefetched (a later prefetch of the next packet's mbuf in the same burst is not measured: the shared lock was held by other runs) | as above, 5 interleaved runs each | copy: 16.25 ns (15.50–19.00) | 17.25 ns (17.00–19.50): still no faster than the copy of cache-hot bytes it saves, so \`dpdk.tx_zero_copy\` is off by default; the reference publisher in the same runs: 12.50 ns (12.00–13.00), so the copying publisher is at 0.77 × the reference by CPU time (0.72 × by wall-clock medians of 7 interleaved 5M-message runs, a loaded machine) |
| recording (\`--record\`) at 288 and 1344 B, where the time goes (no change kept): the capture holds 315.5 B a message at 288 B and 1,448 B at 1344 B, so the runs without recording (5.98M and 1.56M msg/s) would need 1.89 and 2.26 GB/s of disk; the writer thread alone (\`sc_pcapw\`, 300,000 frames of 1,402 B, ext4 with \`O_DIRECT\`) writes 1.51 GB/s (1.39–1.57, 5 runs), \`dd oflag=direct bs=4M\` 1.1 GB/s; in a recording run at 1344 B the writer was in \`pwrite\` 0.374 s for 434 MB (1.16 GB/s), the publisher waited for ring room 317 times, and \`perf record -a\` found 23–35 % of the two CPUs idle, the writer thread at 10–18 % of the samples: disk-bound, not CPU-bound. Tried: asynchronous direct writes (Linux AIO, one write in flight while the next 4 MiB is formatted) | the writer alone, GB/s, 5 interleaved runs, median (range) | synchronous: 1.51 (1.39–1.57) | AIO: 1.25 (1.12–1.33): slower on this VM's ext4/virtio disk, reverted; leaving the UDP checksum of recorded frames out (the writer's largest CPU cost) left the recording rate unchanged (disk-bound), not kept |
| receive in place (\`rx_lend\`/\`rx_release\` in the transport ops, \`engine/transport/dpdk.c\`, \`engine/sub.c\`): a PGM subscriber on DPDK parses and delivers from the received mbufs, copying only the packets it keeps | DPDK subscriber, batched 32 B, a capture fed through \`net_pcap\`: callgrind instructions per message (600,000 minus 100,000), \`sc_sub_do_work\` with the transport, less \`on_msg\` | 106.6 | 101.4 |
| \`sc_pub_send\`'s common case appends the message itself (an open block already implies \`batch_delay\` and an open session, so \`sc_mold_enc_add\`'s checks are not repeated; the block's count goes into its header once, when it closes) | publish engine, bench/instr.sh's method (\`sc_pub_send\` + \`sc_pub_do_work\` into net_null, batched 32 B, 1.2M minus 0.2M messages) | 105.5 | 86.4 |
| a MoldUDP64 block's lengths checked with one comparison a message (offsets, \`sc_mold_iter_init\`) and delivered without the iterator's checks, the delivery counters moved once a block (\`deliver_apdu\`) | receive engine, bench/instr.sh's method (\`sc_sub_do_work\` less \`on_msg\` and the capture reader, batched 32 B, 600,000 minus 100,000 messages) | 68.6 | 49.4 |
| the Internet checksum with AVX2 where the CPU has it (run-time check; 128 bytes and more): 16 bytes a step as native 16-bit words into 32-bit lanes, 13 instructions per 64 bytes against 22; shorter buffers and CPUs without AVX2 keep the scalar loop | publish / receive engine, as above | 86.4 / 49.4 | 82.8 / 44.5 |
| \`sc_pub_send\`: a message of up to 64 bytes appended inline without a call, a longer one by a tail call, so the common path saves and restores no registers (10 instructions a message of prologue and epilogue) | publish engine, as above | 82.8 | 72.7 (target 81); receive 44.5 (target 48.5); a DPDK subscriber through \`net_pcap\`, the transport included: 106.6 before this issue's round, 77.6 after |
| (check) this round's changes on kernel UDP (\`sc_pub_send\`'s append, the AVX2 checksum, the MoldUDP64 receive walk; receive in place and \`dpdk.burst\` do not touch it) | \`seqcast-pub → seqcast-sub --verify\` over loopback, batched, msgs/s, 5 interleaved runs each, median | 32 B 20.54M, 288 B 5.19M, 1344 B 1.43M | 20.76M, 5.17M, 1.45M: unchanged within the noise (ranges 14.5–25.3M, 3.5–6.2M, 0.62–1.68M) |
| \`dpdk.burst\` sizes the engine's bursts too (1 to 128; publisher's sends, subscriber's reads) | DPDK publisher into net_null, msgs/s, 32 B / 288 B, medians of 5 interleaved 5M-message runs | burst 32: 59.5M / 12.6M | 64: 58.8M / 12.5M; 128: 53.8M / 12.3M -- no gain into net_null, the default stays 32 |
| the memif row's second mode (about 5.5M msg/s against 40-60M) is publisher and subscriber on one CPU: both poll (DPDK), so they took turns only when the scheduler's slice ended, a 1024-packet ring per ~8 ms. The runner now yields the CPU after a cycle that could not sleep (a poll-mode agent, or a deadline already passed) and did no work (\`engine/runner.c\`), and \`bench/dpdk.sh\` pins the memif publisher and subscriber to vCPUs 0 and 1 | memif 32 B, 1M messages, msgs/s: both pinned to vCPU 0, 3 runs each; 10 interleaved runs as the bench ran them (unpinned, main's build) and as it runs now (pinned, this build), beside the net_null publisher (median, range); 8 more interleaved triples; 6 pairs with a CPU hog running | one CPU: 5.43 / 5.50 / 5.43M; unpinned 42.9M (36.8-52.1); net_null 43.1M (36.5-56.2) | one CPU: 11.21 / 11.17 / 11.27M; pinned 40.1M (36.4-49.8), then 49.6M (38.4-59.8) beside main's build pinned 41.2M (37.6-60.2) and this one unpinned 46.7M (36.0-60.3): no run of the 18 pinned below 36M; with a hog, main's unpinned 24.0M (10.3-31.0), pinned 29.8M (16.4-33.5) |
| recording (\`--record\`) to tmpfs (/dev/shm) against to disk (ext4 /tmp), to split seqcast's own cost from this disk's: tmpfs is no faster. The earlier "disk-bound" reading was wrong: the 23-35 % idle CPU in its profile was the publisher's 0.2 s \`--linger\` at the end of a 0.5 s run; with \`--linger 0.02\` the writer thread (\`sc-record\`) is busy the whole transfer, ~1 vCPU for 1.2-1.9 GB/s to tmpfs (half of it the kernel's tmpfs write, the copy into the page cache and its bookkeeping; the UDP checksum a third; the ring copy on the publisher's thread 9 % of its time), beside a publisher and subscriber that use ~1.5 of the 2 vCPUs without recording | \`seqcast-pub --record → seqcast-sub --verify\`, loopback, batched, main's build, 5 interleaved runs, medians, msgs/s: without / tmpfs / ext4; process CPU (user + sys) of the publisher with its writer thread | 1344 B: 1.46M / 0.89M (0.61 ×) / 0.84M (0.58 ×); 288 B: 5.54M / 4.12M (0.74 ×) / 4.31M (0.78 ×); 32 B: 29.4M / 22.7M (0.77 ×) / 24.5M (0.83 ×); CPU at 1344 B 0.21 s without, 0.58 s to tmpfs | (the same runs) recording's CPU at 1344 B, 0.37 s for 300,000 messages (434 MB of capture), is more than the 2 vCPUs have left over: 0.9 × is out of reach here at 288 and 1344 B whatever the storage |
| recording: one clock reading a burst instead of one a packet (\`rec_put\`), and a PGM packet's UDP checksum made from its headers -- the publisher flags its PGM data packets \`SC_PKT_PGM_CSUM\` (a PGM packet with its checksum sums to zero), so the writer adds the pseudo-header and UDP header only (\`SC_NF_SUMS_ZERO\`); every checksum still right (tshark: 50,022 of 50,022 good). Tried and taken out: a recorder that left a publisher's packets in its window instead of copying them into the ring (the wrapper's \`tx_busy\` holding a buffer until written) -- the publisher's thread no longer copied, but the writer took the cache misses instead, no gain to tmpfs (1344 B 0.95M against 0.90M msg/s) and a loss to disk, the window (~23 MB) a smaller buffer than the 64 MiB ring (1344 B to ext4 0.69M against 0.90M) | as above, this build against main's, 5 interleaved runs each, medians: with --record to tmpfs / to ext4 (÷ the same build without) | 1344 B 0.89M (0.61 ×) / 0.84M (0.58 ×); 288 B 4.12M (0.74 ×) / 4.31M (0.78 ×); 32 B 22.7M (0.77 ×) / 24.5M (0.83 ×); CPU at 1344 B to tmpfs 0.58 s | 1344 B 0.96M (0.52 ×) / 0.98M (0.53 ×); 288 B 4.44M (0.85 ×) / 4.37M (0.84 ×); 32 B 21.1M (0.91 ×) / 20.3M (0.88 ×); CPU 0.53 s: the recording rates within the noise of main's (the runs without recording moved by ±20 % between builds in the same minutes), 0.9 × still not held at 288 and 1344 B |
EOM
