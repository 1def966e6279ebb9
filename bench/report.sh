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
machine; this file is written by \`bench/report.sh\` from that run. Raw results:
\`$BUILD/bench/results.json\` (system, transport, size, test, msgs/s or round-trip percentiles,
lost, duplicates). Still to come (issue 7): OpenPGM and ZeroMQ beside the throughput figures,
the veth pair, latency, recovery under loss, the plot.

## Machine

| | |
|---|---|
| CPU | $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) vCPUs (a VM) |
| kernel | $(uname -r) |
| memory | $(free -g | awk '/Mem:/ {print $2}') GiB |
| DPDK | $(pkg-config --modversion libdpdk 2>/dev/null || echo none) (Debian libdpdk-dev), EAL \`--no-huge\` |
| run | $(date -u '+%F %H:%M UTC') |

## Kernel UDP throughput over loopback multicast (\`bench/throughput.sh\`)

One publisher → one subscriber, two processes on the same machine, \`BENCH_MSGS\` (default
500,000) generated messages per transfer, the subscriber verifying every byte (a transfer that
loses or damages a message fails the section); msgs/s at the subscriber, first to last message.
The raw-UDP floor is \`bench/udpfloor.c\`: sendmmsg/recvmmsg of datagrams carrying only a
sequence number, no reliability, 32 MiB receive buffer.

$(cat "$out/throughput-table.md" 2>/dev/null || echo "(section not run)")

* **batched** packs MoldUDP64 messages into each packet, so at 32 B it moves several times the kernel's
  packet rate; **raw** is one message per packet and should sit near the floor's packet rate.
* **batched+record** is the batched transfer again with \`seqcast-pub --record\` writing every
  packet to a pcap file on the publisher's thread: what recording costs.
* The ratio lines under the table are computed from this run. Not profiled yet: at 1344 B the
  per-packet cost on the publisher (window copy, checksum) is the first suspect.
* OpenPGM and ZeroMQ epgm are not in this table yet (issue 7).

Changes made because of these figures (each measured before and after on this machine):

| change | figure | before | after |
|---|---|---|---|
| the test-message generator (\`apps/msggen.c\`, used by \`seqcast-pub --count\` and \`--verify\`) writes and checks 8 bytes at a time instead of one: \`perf\` showed it at 29 % of the publisher's time at 1344 B, more than the engine | 1344 B batched, msgs/s | 121,000–165,000 | 171,000–181,000 |

## DPDK data path: publisher → subscriber throughput (\`bench/dpdk.sh\`)

Batched framing (MoldUDP64 blocks in PGM ODATA, MTU 1500), 1,000,000 generated messages per
transfer; the subscriber verifies every byte and must receive all of them (a transfer that loses
data is retried at a lower published rate, and a note says so); msgs/s are measured at the
subscriber from its first to its last message. Publisher and subscriber are two processes on the
same 2-vCPU machine.

$(cat "$out/dpdk-table.md")

* **net_null** is DPDK's own ceiling: a port that drops everything, so the figure is the publisher
  alone (batching, ODATA encoding, framing, \`rte_eth_tx_burst\`). How close a transport gets to it
  is what its link costs.
* At **32 B** (~40 messages a packet) the per-message path dominates; at **288 B** (5 a packet) the
  packet rate does, and memif (shared memory) moves the most packets.
* af_packet on a veth crosses the kernel on both ends: it is the way to reach a kernel interface,
  not a speed-up over kernel UDP. A NIC with a DPDK driver, the case the PMD exists for, is not
  available on this machine.
* Two processes share 2 vCPUs of a VM: figures move by tens of percent between runs (32 B over
  af_packet measured 7.8M and 3.2M msg/s in two runs on the same day). Compare within one run.

## Order session: order → acknowledgement round trip (\`bench/order.sh\`)

\`seqcast-order\` (one order in flight) against \`seqcast-orderd\` (journal in memory, \`fsync: none\`:
the protocol, not the disk), 32-byte orders, beside a plain TCP ping-pong of the same size with
TCP_NODELAY, in the same run.

$(cat "$out/order-table.md")

* The median is within a few microseconds of the socket floor. The gateway's p99.9 shows
  millisecond stalls that the bare ping-pong (whose server also sleeps, in \`read\`) does not; not
  yet explained -- candidates are its wake-up through \`poll\` on an epoll descriptor, several
  more system calls per order, and the doubling growth of the order-id set and the in-memory
  journal. Finding it, and the ≤ 1.2 × target on the median, is issue 7's work.
* With \`fsync: batch\` or \`message\` every acknowledgement also waits for \`fdatasync\` (the journal
  is written before the acknowledgement is sent): the round trip is then the disk's.
EOM
