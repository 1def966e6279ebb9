#!/usr/bin/env bash
# make demo: a publisher and two subscribers on loopback, the subscribers
# dropping packets on purpose; gaps are detected, NAKed and repaired, and each
# subscriber checks that every message arrived once, in order, intact.
# No root needed; nothing leaves the machine (interface 127.0.0.1, TTL 1).
set -euo pipefail
BUILD=${BUILD:-build}
B=$BUILD/bin
N=${DEMO_MSGS:-500000}
RATE=${DEMO_RATE:-250000}
tmp=$(mktemp -d /tmp/seqcast-demo-XXXXXX)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

field() { grep -o "\"$2\": [0-9a-z]*" "$1" | head -1 | awk '{print $2}'; }

echo "== seqcast demo: reliable multicast on loopback (239.192.0.1:3056 via 127.0.0.1)"
echo "   publisher: $N generated messages at $RATE msg/s, batched (MoldUDP64 blocks in PGM ODATA)"
echo "   subscriber A drops 2% and subscriber B 5% of the packets it receives, on purpose"
echo
"$B/seqcast-sub" --count "$N" --verify --timeout 25 --loss 2 >"$tmp/a.json" 2>"$tmp/a.err" &
pids+=($!)
"$B/seqcast-sub" --count "$N" --verify --timeout 25 --loss 5 >"$tmp/b.json" 2>"$tmp/b.err" &
pids+=($!)
sleep 0.3
"$B/seqcast-pub" --count "$N" --rate "$RATE" --linger 1 >"$tmp/pub.json" 2>"$tmp/pub.err"
ok=0
for s in a b; do wait "${pids[0]}" && ok=$((ok + 1)) || true; pids=("${pids[@]:1}"); done

for s in a b; do
    f=$tmp/$s.json
    name=$([ $s = a ] && echo "A (2% loss)" || echo "B (5% loss)")
    printf '== subscriber %s: %s gaps detected, %s NAKs sent (%s suppressed by NCFs), %s packets repaired, %s lost\n' \
        "$name" "$(field "$f" gaps)" "$(field "$f" naks_sent)" "$(field "$f" nak_suppressed)" \
        "$(field "$f" repaired)" "$(field "$f" lost_packets)"
    printf '   %s of %s messages delivered, %s duplicates dropped, %s damaged, complete: %s\n' \
        "$(field "$f" received)" "$N" "$(field "$f" duplicates_dropped)" \
        "$(field "$f" verify_errors)" "$(field "$f" complete)"
    grep -h 'LOSS' "$tmp/$s.err" || true
done
f=$tmp/pub.json
printf '== publisher: %s ODATA packets, %s NAKs received -> %s NCFs and %s repairs (RDATA), %s heartbeat SPMs\n' \
    "$(field "$f" odata_sent)" "$(field "$f" naks_received)" "$(field "$f" ncf_sent)" \
    "$(field "$f" rdata_sent)" "$(field "$f" spm_sent)"
echo
if [ "$ok" -eq 2 ]; then
    echo "== RESULT: both subscribers received every one of the $N messages exactly once, in order, byte for byte"
else
    echo "== RESULT: FAILED -- see above"; cat "$tmp"/*.err; exit 1
fi
echo
if [ "$(id -u)" -eq 0 ] && grep -q 'DPDK=1' "$BUILD/.flags" 2>/dev/null; then
    echo "== the same engine over DPDK (kernel bypass, no NIC needed): two processes joined by net_memif"
    D=(--group 239.192.0.9:3066 --set nak_port=3065 --set transport=dpdk --set dpdk.no_huge=true)
    "$B/seqcast-pub" "${D[@]}" --set "dpdk.device=net_memif0,role=server,socket=$tmp/memif.sock" \
        --interface 198.18.3.1 --count 1000000 --size 32 --linger 1 >"$tmp/dpub.json" 2>"$tmp/dpub.err" &
    pids+=($!)
    sleep 1
    if "$B/seqcast-sub" "${D[@]}" --set "dpdk.device=net_memif0,role=client,socket=$tmp/memif.sock" \
        --interface 198.18.3.2 --count 1000000 --verify --timeout 20 --quiet >"$tmp/dsub.json" 2>"$tmp/dsub.err"; then
        printf '   1000000 messages of 32 bytes, verified, at %s msg/s\n' "$(field "$tmp/dsub.json" msgs_per_s)"
    else
        echo "   DPDK run failed:"; cat "$tmp/dsub.err"
    fi
    echo "   (af_packet on a veth, hugepages and the rest: docs/OPERATIONS.md)"
else
    echo "== DPDK (kernel bypass) part skipped: it needs root and a DPDK build; docs/OPERATIONS.md shows how"
fi
echo
echo "== what is on the wire (seqcast-pcapgen + tshark; Wireshark: -d udp.port==3055-3056,pgm)"
"$B/seqcast-pcapgen" --out "$tmp/cap"
tshark -r "$tmp/cap/pgm.pcap" -d udp.port==3055-3056,pgm 2>/dev/null | sed -n '1,2p;6,11p' || true
