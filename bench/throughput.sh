#!/usr/bin/env bash
# make bench, throughput section: one publisher -> one subscriber over loopback
# multicast, kernel UDP, 32 / 288 / 1344-byte messages, seqcast batched and raw
# framing, beside the raw-UDP floor (bench/udpfloor.c: sendmmsg/recvmmsg, no
# reliability) in the same run, and what the publisher's --record costs. Every
# seqcast transfer must deliver every message, verified byte for byte; a transfer
# that loses or damages data fails the section.
# Still to come (issue 7): OpenPGM and ZeroMQ epgm beside these, and the veth pair.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/$BUILD/bin
out=$ROOT/$BUILD/bench
N=${BENCH_MSGS:-500000}
tmp=$(mktemp -d /tmp/seqcast-bench-tp-XXXXXX)
trap 'jobs -p | xargs -r kill 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir -p "$out"
P=$((40000 + $$ % 10000))
f() { grep -o "\"$2\": [0-9.]*" "$1" | head -1 | awk '{print $2}'; }
rc=0
: >"$tmp/results"
{
echo "| size | system | framing | msgs/s | MB/s | lost | duplicates delivered |"
echo "|---|---|---|---|---|---|---|"
for size in 32 288 1344; do
    P=$((P + 4))
    "$ROOT/$BUILD/bench/udpfloor" recv 239.192.9.1:$P "$size" "$N" 60 >"$tmp/floor.json" &
    sleep 0.3
    "$ROOT/$BUILD/bench/udpfloor" send 239.192.9.1:$P "$size" "$N"
    wait
    printf '| %s | raw UDP floor | - | %s | %s | %s | %s |\n' "$size" "$(f "$tmp/floor.json" msgs_per_s)" \
        "$(f "$tmp/floor.json" mb_per_s)" "$(f "$tmp/floor.json" lost)" "$(f "$tmp/floor.json" duplicates)"
    printf '{"system": "udp-floor", "transport": "udp-loopback", "size": %s, "test": "throughput", "msgs_per_s": %s, "mb_per_s": %s, "lost": %s, "duplicates": %s}\n' \
        "$size" "$(f "$tmp/floor.json" msgs_per_s)" "$(f "$tmp/floor.json" mb_per_s)" "$(f "$tmp/floor.json" lost)" "$(f "$tmp/floor.json" duplicates)" >>"$tmp/results"
    # the last row: batched again, with the publisher recording every packet (--record)
    for framing in batched raw batched+record; do
        P=$((P + 4))
        rec=(); [ "$framing" = batched+record ] && rec=(--record "$tmp/rec.pcap")
        G=(--group 239.192.9.2:$P --set nak_port=$((P + 1)) --set framing=${framing%+record} --set rcvbuf=32MiB)
        "$B/seqcast-sub" "${G[@]}" --count "$N" --verify --timeout 120 -q >"$tmp/sub.json" 2>"$tmp/sub.err" &
        s=$!
        sleep 0.3
        "$B/seqcast-pub" "${G[@]}" "${rec[@]}" --count "$N" --size "$size" --linger 1 >"$tmp/pub.json" 2>/dev/null
        rm -f "$tmp/rec.pcap"
        wait $s; src=$?
        got=$(f "$tmp/sub.json" received); lost=$(f "$tmp/sub.json" lost_messages); bad=$(f "$tmp/sub.json" verify_errors)
        mps=$(f "$tmp/sub.json" msgs_per_s)
        mbs=$(awk -v m="$mps" -v s="$size" 'BEGIN {printf "%.1f", m * s / 1e6}')
        [ "$src" -eq 0 ] && [ "$got" = "$N" ] && [ "$bad" = 0 ] || { rc=1; mps="FAILED ($got of $N, $bad damaged)"; }
        printf '| %s | seqcast | %s | %s | %s | %s | 0 |\n' "$size" "$framing" "$mps" "$mbs" "$lost"
        printf '{"system": "seqcast", "transport": "udp-loopback", "framing": "%s", "size": %s, "test": "throughput", "msgs_per_s": %s, "mb_per_s": %s, "lost": %s, "duplicates": 0}\n' \
            "$framing" "$size" "$(f "$tmp/sub.json" msgs_per_s)" "$mbs" "${lost:-0}" >>"$tmp/results"
    done
done
echo
# ratios from this run (issue 7 targets: raw >= 1.5 x OpenPGM, close to the floor; >= 0.8 x the
# floor in bytes/s at 1344 B)
awk '{ line = $0 }
     /"udp-floor"/ { match(line, /"size": [0-9]+/); sz = substr(line, RSTART + 8, RLENGTH - 8);
                     match(line, /"msgs_per_s": [0-9.]+/); fl[sz] = substr(line, RSTART + 14, RLENGTH - 14) }
     /"seqcast"/ { match(line, /"size": [0-9]+/); sz = substr(line, RSTART + 8, RLENGTH - 8);
                   match(line, /"framing": "[a-z+]+"/); fr = substr(line, RSTART + 12, RLENGTH - 13);
                   match(line, /"msgs_per_s": [0-9.]+/); v = substr(line, RSTART + 14, RLENGTH - 14);
                   if (fl[sz] > 0) printf "* %s B, %s: %.2f x the floor (msgs/s and bytes/s alike: same message size)\n", sz, fr, v / fl[sz] }' "$tmp/results"
} | tee "$out/throughput-table.md"
{ echo "["; paste -sd, "$tmp/results"; echo "]"; } >"$out/throughput.json"
exit $rc
