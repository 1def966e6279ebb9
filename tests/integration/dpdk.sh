#!/usr/bin/env bash
# The DPDK data path without a NIC (EAL with --no-huge: no hugepages needed):
#  A. DPDK publisher on net_af_packet over a veth -> two kernel-UDP subscribers in
#     two other namespaces, 2% loss (nftables egress on the bridge ports towards the
#     subscribers: the af_packet PMD's frames skip its own veth's egress hook): every --output
#     equals the input; the subscribers ARPed for the DPDK side and their unicast
#     NAKs reached it and were repaired.
#  B. kernel publisher -> DPDK subscriber on net_af_packet, with loss: all delivered.
#  C. net_memif: DPDK publisher and DPDK subscriber in two processes, 1,000,000
#     messages in order. In A and C the publisher's window packets (data and, in A,
#     repairs) left attached to mbufs, none copied (dpdk.tx_zero_copy: true).
#  D. net_pcap: the capture of run A fed in as a DPDK RX port delivers exactly the
#     messages the kernel subscribers got live.
#  E. that capture dissects in tshark as well-formed PGM.
#  F. seqcast-replay through DPDK: tests/data/feed.pcap over net_memif into a DPDK
#     subscriber in another process: all 1000 messages, verified (the subscriber is the
#     memif server, up first, and the replay waits 1 s after connecting: frames sent while
#     a memif connection is still settling can vanish, and a capture repairs nothing);
#     then --raw-frames: the captured Ethernet frames byte for byte, to their own group.
#  H. MoldUDP64 (protocol: moldudp64): the DPDK publisher as the exchange, its re-request
#     server on the DPDK port -> the two kernel subscribers of A under the same 2% loss:
#     both outputs equal the input, repaired by unicast requests answered by unicast.
#  I. net_af_xdp (AF_XDP sockets, DPDK's PMD over libxdp): A again on it -- the DPDK
#     publisher in a private mount namespace with a bpffs (what OPERATIONS.md says to
#     give it) -> the two kernel subscribers under 2% loss, outputs equal the input, their
#     NAKs (received through the XDP program) repaired.
#  J. B again on net_af_xdp, without a bpffs (libxdp falls back to a single program):
#     kernel publisher -> DPDK subscriber, 2% loss, all delivered.
set -u
. "$(dirname "$0")/../support/tap.sh" "DPDK test" 19
N=${DPDK_MSGS:-100000}
T=sd$$
grep -q 'DPDK=1' "$ROOT/$BUILD/.flags" 2>/dev/null || skip_all "built without DPDK (libdpdk-dev missing or DPDK=0)"
need_root "network namespaces, AF_PACKET, nftables"
ip netns add "${T}probe" 2>/dev/null || skip_all "cannot create network namespaces here"
ip netns del "${T}probe"
on_exit 'for ns in sw dp s1 s2 kp ds; do ip netns del "$T$ns" 2>/dev/null; done'
nse() { ip netns exec "$T$1" "${@:2}"; }

# --- a bridge in its own namespace; host NAME [ADDR]: a veth into it (no ADDR: the
#     kernel side gets no address, the DPDK process owns the link)
ip netns add "${T}sw"
nse sw ip link add br0 type bridge mcast_snooping 0
nse sw ip link set br0 up
host() {
    ip netns add "$T$1"
    ip link add "${T}$1a" type veth peer name "${T}$1b"
    ip link set "${T}$1a" netns "$T$1"
    ip link set "${T}$1b" netns "${T}sw"
    nse "$1" ip link set "${T}$1a" name eth0
    [ -n "${2:-}" ] && nse "$1" ip addr add "$2/24" dev eth0
    nse "$1" ip link set eth0 up
    nse "$1" ip link set lo up
    nse sw ip link set "${T}$1b" master br0
    nse sw ip link set "${T}$1b" up
}
loss() { # 2% of what leaves device $2 in namespace $1
    nse "$1" nft add table netdev "loss$2"
    nse "$1" nft add chain netdev "loss$2" eg "{ type filter hook egress device $2 priority 0; }"
    nse "$1" nft add rule netdev "loss$2" eg meta protocol ip numgen random mod 1000 '<' 20 counter drop
}
host dp          # DPDK publisher: 198.18.2.1, owned by DPDK
host s1 198.18.2.11
host s2 198.18.2.12
host kp 198.18.2.2
host ds          # DPDK subscriber: 198.18.2.21, owned by DPDK
loss sw "${T}s1b"   # the switch's links to the subscribers of A
loss sw "${T}s2b"
loss kp eth0        # the kernel publisher of B
AFP=net_af_packet0,iface=eth0,qdisc_bypass=0
DPDK=(--set transport=dpdk --set dpdk.no_huge=true)
"$B/seqcast-pub" --count "$N" --write "$tmp/in.bin"

# --- A: DPDK publisher -> kernel subscribers
# The subscribers may retry for longer than the lan default (10 tries, ~16 ms with the ramp): the
# DPDK publisher spins on a vCPU beside two subscribers, tcpdump and the loss, and one CI-like
# run lost a message to "retries" (1 in ~17 runs) -- a stall of the 2-vCPU VM outlasting them,
# as far as the counters tell. What this checks is the DPDK path under loss, not that budget.
CHA=(--group 239.198.18.5:32001 --set nak_port=32000 --set loop=false --set nak.ncf_retries=40
     --set nak.data_retries=40)
for i in 1 2; do
    ip netns exec "${T}s$i" "$B/seqcast-sub" "${CHA[@]}" --interface "198.18.2.1$i" --count "$N" \
        --output "$tmp/a$i.bin" --timeout 60 --quiet >"$tmp/a$i.json" 2>"$tmp/a$i.err" &
done
ip netns exec "${T}dp" tcpdump -i eth0 -w "$tmp/cap.pcap" -U udp 2>/dev/null &
cap=$!
sleep 0.5
nse dp "$B/seqcast-pub" "${CHA[@]}" "${DPDK[@]}" --set "dpdk.device=$AFP" --interface 198.18.2.1 \
    --set dpdk.tx_zero_copy=true --input "$tmp/in.bin" --rate 50000 --linger 3 >"$tmp/apub.json" 2>"$tmp/apub.err"
rcp=$?
wait %1; rc1=$?
wait %2; rc2=$?
sleep 0.3
kill "$cap" 2>/dev/null; wait "$cap" 2>/dev/null
cmp -s "$tmp/in.bin" "$tmp/a1.bin" && cmp -s "$tmp/in.bin" "$tmp/a2.bin"; r=$?
check "A: DPDK publisher (net_af_packet) -> 2 kernel subscribers, 2% loss: both outputs equal the input (exits $rc1 $rc2, publisher $rcp)" $(( r + rc1 + rc2 + rcp ))
[ "$(field_first "$tmp/apub.json" naks_received)" -gt 0 ] && [ "$(field_first "$tmp/apub.json" rdata_sent)" -gt 0 ]; r=$?
check "A: the kernel subscribers' unicast NAKs reached the DPDK publisher: $(field_first "$tmp/apub.json" naks_received) NAKs -> $(field_first "$tmp/apub.json" rdata_sent) RDATA; $(field_first "$tmp/a1.json" repaired) repaired at subscriber 1" $r
[ "$(field_first "$tmp/apub.json" link_arp_replies)" -gt 0 ]; r=$?
check "A: the DPDK side answered ARP for its address ($(field_first "$tmp/apub.json" link_arp_replies) replies; $(field_first "$tmp/apub.json" link_rx_filtered) frames filtered, $(field_first "$tmp/apub.json" link_no_mbuf) mbuf shortages)" $r
# zero copy (dpdk.tx_zero_copy: true, set above): the repairs went out attached too
zc() { # JSON: every ODATA and RDATA sent left from a window buffer, not a copy; some RDATA if $2
    local z o d
    z=$(field_first "$1" link_tx_zero_copy) o=$(field_first "$1" odata_sent) d=$(field_first "$1" rdata_sent)
    echo "$z of $o ODATA + $d RDATA"
    [ "${z:-0}" -gt 0 ] && [ "$z" -eq $((o + d)) ] && { [ "$2" = 0 ] || [ "$d" -gt 0 ]; }
}
r=0; m=$(zc "$tmp/apub.json" 1) || r=1
check "A: zero copy: every packet of the publisher's window left attached to an mbuf, repairs included ($m)" $r

# --- H: MoldUDP64, the DPDK publisher as the exchange (requests to its data port: auto)
NH=$(( N / 2 ))
"$ROOT/$BUILD/tests/mold_peer" gen --count $NH --seed 5 --output "$tmp/hin.bin" 2>/dev/null ||
    "$B/seqcast-pub" --count $NH --size 48 --write "$tmp/hin.bin"
# gso=false on the kernel subscribers: several requests sent in one burst leave as one GSO
# datagram, which a NIC would cut into frames but a veth hands to AF_PACKET whole (the DPDK
# side counts it as a request of the wrong length: rx_bad "length"), as for B's publisher
CHH=(--set protocol=moldudp64 --group 239.198.18.9:32005 --set loop=false --set rcvbuf=16MiB
     --set nak.data_retries=40)
for i in 1 2; do
    ip netns exec "${T}s$i" "$B/seqcast-sub" "${CHH[@]}" --set gso=false --interface "198.18.2.1$i" --count "$NH" \
        --output "$tmp/h$i.bin" --timeout 60 --quiet >"$tmp/h$i.json" 2>"$tmp/h$i.err" &
    hsub[$i]=$!
done
sleep 0.5
nse dp "$B/seqcast-pub" "${CHH[@]}" "${DPDK[@]}" --set "dpdk.device=$AFP" --interface 198.18.2.1 \
    --input "$tmp/hin.bin" --rate 50000 --linger 2 >"$tmp/hpub.json" 2>"$tmp/hpub.err"
rcp=$?
wait "${hsub[1]}"; rc1=$?
wait "${hsub[2]}"; rc2=$?
cmp -s "$tmp/hin.bin" "$tmp/h1.bin" && cmp -s "$tmp/hin.bin" "$tmp/h2.bin"; r=$?
check "H: MoldUDP64, DPDK publisher (net_af_packet) -> 2 kernel subscribers, 2% loss: both outputs equal the input ($NH messages; exits $rc1 $rc2, publisher $rcp)" $(( r + rc1 + rc2 + rcp ))
[ "$(field "$tmp/hpub.json" mold_req_answered)" -gt 0 ] && [ "$(field "$tmp/h1.json" requests_sent)" -gt 0 ] &&
    [ "$(field "$tmp/h1.json" repaired)" -gt 0 ] && [ "$(field "$tmp/h2.json" lost_messages)" = 0 ]; r=$?
check "H: the subscribers' requests reached the DPDK re-request server and were answered: $(field "$tmp/hpub.json" mold_req_answered) of $(field "$tmp/hpub.json" mold_requests) requests; subscriber 1 sent $(field "$tmp/h1.json" requests_sent), $(field "$tmp/h1.json" repaired) messages repaired" $r

# --- B: kernel publisher -> DPDK subscriber
# gso=false on the kernel publisher, as OPERATIONS.md says for a DPDK af_packet receiver on
# the same host: it would get each GSO run (ODATA, and RDATA repaired together) as one
# oversized frame -- malformed, and under load a repair could fail its every retry
# (the retries raised as for A: a spinning DPDK subscriber on a loaded 2-vCPU VM once lost
# four messages to "retries", 60 NAKs in a row unanswered while the publisher heard them all)
CHB=(--group 239.198.18.7:32003 --set nak_port=32002 --set loop=false --set nak.ncf_retries=40
     --set nak.data_retries=40)
nse ds "$B/seqcast-sub" "${CHB[@]}" "${DPDK[@]}" --set "dpdk.device=$AFP" --interface 198.18.2.21 \
    --count "$N" --output "$tmp/b.bin" --timeout 60 --quiet >"$tmp/b.json" 2>"$tmp/b.err" &
dsub=$!
sleep 1.5
ip netns exec "${T}kp" "$B/seqcast-pub" "${CHB[@]}" --set gso=false --interface 198.18.2.2 --input "$tmp/in.bin" \
    --rate 50000 --linger 3 >"$tmp/bpub.json" 2>"$tmp/bpub.err"
wait "$dsub"; rc=$?
cmp -s "$tmp/in.bin" "$tmp/b.bin"; r=$?
check "B: kernel publisher -> DPDK subscriber (net_af_packet), 2% loss: output equals the input (exit $rc)" $(( r + rc ))
[ "$(field_first "$tmp/b.json" naks_sent)" -gt 0 ] && [ "$(field_first "$tmp/b.json" repaired)" -gt 0 ] && [ "$(field_first "$tmp/bpub.json" naks_received)" -gt 0 ]; r=$?
check "B: the DPDK subscriber's NAKs reached the kernel publisher: $(field_first "$tmp/b.json" naks_sent) sent, $(field_first "$tmp/bpub.json" naks_received) received, $(field_first "$tmp/b.json" repaired) repaired" $r

# --- I, J: net_af_xdp (the same runs as A and B on AF_XDP sockets). The PMD binds
# queue 0 of eth0 (a veth: one queue); libbpf/libxdp print warnings on stderr that
# OPERATIONS.md explains (a bpffs or not, the dispatcher refused: harmless here).
XDP=net_af_xdp0,iface=eth0
BPFFS=(unshare -m sh -c 'mount -t bpf bpf /sys/fs/bpf && exec "$@"' sh) # a command prefix
CHI=(--group 239.198.18.11:32007 --set nak_port=32006 --set loop=false --set nak.ncf_retries=40
     --set nak.data_retries=40)
for i in 1 2; do
    ip netns exec "${T}s$i" "$B/seqcast-sub" "${CHI[@]}" --interface "198.18.2.1$i" --count "$N" \
        --output "$tmp/i$i.bin" --timeout 60 --quiet >"$tmp/i$i.json" 2>"$tmp/i$i.err" &
    isub[$i]=$!
done
sleep 0.5
nse dp "${BPFFS[@]}" "$B/seqcast-pub" "${CHI[@]}" "${DPDK[@]}" --set "dpdk.device=$XDP" --interface 198.18.2.1 \
    --input "$tmp/in.bin" --rate 50000 --linger 3 >"$tmp/ipub.json" 2>"$tmp/ipub.err"
rcp=$?
wait "${isub[1]}"; rc1=$?
wait "${isub[2]}"; rc2=$?
cmp -s "$tmp/in.bin" "$tmp/i1.bin" && cmp -s "$tmp/in.bin" "$tmp/i2.bin"; r=$?
check "I: DPDK publisher on net_af_xdp (bpffs mounted) -> 2 kernel subscribers, 2% loss: both outputs equal the input (exits $rc1 $rc2, publisher $rcp)" $(( r + rc1 + rc2 + rcp ))
[ "$(field_first "$tmp/ipub.json" naks_received)" -gt 0 ] && [ "$(field_first "$tmp/ipub.json" rdata_sent)" -gt 0 ]; r=$?
check "I: the subscribers' NAKs came in through the XDP program: $(field_first "$tmp/ipub.json" naks_received) NAKs -> $(field_first "$tmp/ipub.json" rdata_sent) RDATA ($(field_first "$tmp/ipub.json" link_rx_filtered) frames filtered)" $r

nse ds "$B/seqcast-sub" "${CHB[@]}" "${DPDK[@]}" --set "dpdk.device=$XDP" --interface 198.18.2.21 \
    --count "$N" --output "$tmp/j.bin" --timeout 60 --quiet >"$tmp/j.json" 2>"$tmp/j.err" &
dsub=$!
sleep 1.5
ip netns exec "${T}kp" "$B/seqcast-pub" "${CHB[@]}" --set gso=false --interface 198.18.2.2 --input "$tmp/in.bin" \
    --rate 50000 --linger 3 >"$tmp/jpub.json" 2>"$tmp/jpub.err"
wait "$dsub"; rc=$?
cmp -s "$tmp/in.bin" "$tmp/j.bin"; r=$?
check "J: kernel publisher -> DPDK subscriber on net_af_xdp (no bpffs), 2% loss: output equals the input ($(field_first "$tmp/j.json" naks_sent) NAKs, $(field_first "$tmp/j.json" repaired) repaired; exit $rc)" $(( r + rc ))

# --- C: memif, two DPDK processes
MSOCK=$tmp/memif.sock
CHC=(--group 239.198.18.9:33001 --set nak_port=33000 "${DPDK[@]}")
"$B/seqcast-pub" "${CHC[@]}" --set "dpdk.device=net_memif0,role=server,socket=$MSOCK" \
    --set dpdk.tx_zero_copy=true --interface 198.18.3.1 --count 1000000 --size 32 --linger 3 >"$tmp/cpub.json" 2>"$tmp/cpub.err" &
cpub=$!
sleep 1
"$B/seqcast-sub" "${CHC[@]}" --set "dpdk.device=net_memif0,role=client,socket=$MSOCK" \
    --interface 198.18.3.2 --count 1000000 --verify --timeout 60 --quiet >"$tmp/c.json" 2>"$tmp/c.err"
rc=$?
wait "$cpub"
[ "$rc" -eq 0 ] && [ "$(field_first "$tmp/c.json" received)" -eq 1000000 ] && [ "$(field_first "$tmp/c.json" verify_errors)" -eq 0 ]; r=$?
check "C: net_memif, DPDK publisher -> DPDK subscriber in another process: 1,000,000 messages in order, verified ($(field_first "$tmp/c.json" received) received in $(grep -o '"seconds": [0-9.]*' "$tmp/c.json" | awk '{print $2}') s)" $r
r=0; m=$(zc "$tmp/cpub.json" 0) || r=1
check "C: zero copy over net_memif: every packet of the publisher's window left attached to an mbuf ($m)" $r

# --- F: seqcast-replay through DPDK (memif client) into a DPDK subscriber (server, up first)
"$B/seqcast-sub" "${CHC[@]}" --set "dpdk.device=net_memif0,role=server,socket=$tmp/memif-f.sock" \
    --interface 198.18.3.2 --count 1000 --verify --timeout 30 --quiet >"$tmp/f.json" 2>"$tmp/f.err" &
fsub=$!
sleep 2
"$B/seqcast-replay" "${CHC[@]}" --set "dpdk.device=net_memif0,role=client,socket=$tmp/memif-f.sock" \
    --interface 198.18.3.1 -q --wait 1 "$ROOT/tests/data/feed.pcap" >"$tmp/f-replay.json" 2>"$tmp/f-replay.err"
rrc=$?
wait "$fsub"; rc=$?
[ "$rc" -eq 0 ] && [ "$rrc" -eq 0 ] && [ "$(field_first "$tmp/f.json" received)" -eq 1000 ] && [ "$(field_first "$tmp/f.json" verify_errors)" -eq 0 ]; r=$?
check "F: seqcast-replay of tests/data/feed.pcap through DPDK (net_memif) -> DPDK subscriber: $(field_first "$tmp/f.json" received) of 1000 messages, verified" $r

CHF=(--set nak_port=33010 "${DPDK[@]}") # feed.pcap's own group and port: 239.192.0.1:3056
"$B/seqcast-sub" "${CHF[@]}" --set "dpdk.device=net_memif0,role=server,socket=$tmp/memif-g.sock" \
    --interface 198.18.3.2 --count 1000 --verify --timeout 30 --quiet >"$tmp/g.json" 2>"$tmp/g.err" &
fsub=$!
sleep 2
"$B/seqcast-replay" "${CHF[@]}" --set "dpdk.device=net_memif0,role=client,socket=$tmp/memif-g.sock" \
    --interface 198.18.3.1 -q --wait 1 --raw-frames "$ROOT/tests/data/feed.pcap" >"$tmp/g-replay.json" 2>"$tmp/g-replay.err"
rrc=$?
wait "$fsub"; rc=$?
[ "$rc" -eq 0 ] && [ "$rrc" -eq 0 ] && [ "$(field_first "$tmp/g.json" received)" -eq 1000 ] && [ "$(field_first "$tmp/g.json" verify_errors)" -eq 0 ]; r=$?
check "F: seqcast-replay --raw-frames (captured frames byte for byte) through net_memif -> DPDK subscriber: $(field_first "$tmp/g.json" received) of 1000, verified" $r

# --- D: the capture of A fed in through net_pcap
if [ -s "$tmp/cap.pcap" ]; then
    "$B/seqcast-sub" "${CHA[@]}" "${DPDK[@]}" \
        --set "dpdk.device=net_pcap0,rx_pcap=$tmp/cap.pcap,tx_pcap=$tmp/pcap-tx.pcap" \
        --interface 198.18.2.11 --count "$N" --output "$tmp/d.bin" --timeout 30 --quiet \
        >"$tmp/d.json" 2>"$tmp/d.err"
    rc=$?
    cmp -s "$tmp/in.bin" "$tmp/d.bin"; r=$?
else
    rc=1 r=1
fi
check "D: net_pcap: run A's capture as a DPDK RX port delivers exactly what the kernel subscribers got live (exit $rc, $(field_first "$tmp/d.json" received) messages)" $(( r + rc ))

# --- E: the capture dissects as PGM
if command -v tshark >/dev/null; then
    total=$(tshark -r "$tmp/cap.pcap" -d udp.port==32000-32001,pgm -Y udp 2>/dev/null | wc -l)
    pgm=$(tshark -r "$tmp/cap.pcap" -d udp.port==32000-32001,pgm -Y pgm 2>/dev/null | wc -l)
    bad=$(tshark -r "$tmp/cap.pcap" -d udp.port==32000-32001,pgm -Y '_ws.expert.severity >= "Warning" or _ws.malformed' 2>/dev/null | wc -l)
    [ "$total" -gt 1000 ] && [ "$total" -eq "$pgm" ] && [ "$bad" -eq 0 ]; r=$?
    check "E: the veth capture while the DPDK publisher ran: $pgm of $total UDP frames dissect as PGM, $bad with warnings" $r
else
    skip "E: tshark dissection" "tshark not installed"
fi
[ "$(field_first "$tmp/a1.json" received)" = "$N" ]; r=$?
check "A: subscriber 1 counted $(field_first "$tmp/a1.json" received) of $N messages, $(field_first "$tmp/a1.json" duplicates_dropped) duplicates dropped" $r
[ "$(field_first "$tmp/b.json" rx_pkts)" -gt 0 ] && [ "$(field_first "$tmp/b.json" link_rx_filtered)" -ge 0 ] \
    && [ "$(field_first "$tmp/b.json" link_rx_malformed)" -eq 0 ]; r=$?
check "B: the DPDK subscriber filtered $(field_first "$tmp/b.json" link_rx_filtered) frames that were not for it, $(field_first "$tmp/b.json" link_rx_malformed) malformed" $r

for f in "$tmp"/*.err; do sed "s|^|# $(basename "$f"): |" "$f" | grep -v '^# [a-z0-9]*.err: *$' | head -4; done
exit 0
