#!/usr/bin/env bash
# make bench, DPDK section: publisher -> subscriber throughput in msgs/s for 32 and
# 288-byte messages (batched), all in one run, side by side:
#   kernel UDP over loopback | DPDK net_af_packet over a veth pair (two namespaces)
#   | DPDK net_af_xdp over the same veth pair | DPDK net_memif between two processes
#   | DPDK net_null (publisher only) | the reference publisher into net_null
#   (bench/dpdk_ref.c: the same packets built in mbufs, no window, repair or timers),
# and the issue's ratios: net_null publisher / reference, memif / net_null publisher.
# Every transfer must deliver every message (the subscriber verifies each byte); a
# run that loses data fails. Writes build/bench/dpdk.json and a table for
# docs/BENCHMARKS.md. Needs root for the namespaces.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/$BUILD/bin
# (not BENCH_MSGS's small counts of make bench QUICK=1: a memif transfer of
# 50,000 messages was over before the subscriber's link was up)
N=${BENCH_DPDK_MSGS:-1000000}
LINGER=${BENCH_DPDK_LINGER:-2} # the publisher's repairs after its last message (QUICK: 1)
# net_null: messages a run (a run of 1,000,000 lasts ~0.03 s, as long as a VM hiccup), and
# runs of each publisher, alternating (QUICK: one)
NN=${BENCH_DPDK_NULL_MSGS:-5000000}
NULL_REPS=${BENCH_DPDK_NULL_REPS:-5}
out=$ROOT/$BUILD/bench
mkdir -p "$out"
tmp=$(mktemp -d /tmp/seqcast-bench-XXXXXX)
T=sb$$
cleanup() {
    jobs -p | xargs -r kill -9 2>/dev/null
    ip netns del "${T}a" 2>/dev/null
    ip netns del "${T}b" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
field() { grep -o "\"$2\": [0-9.a-z]*" "$1" | head -1 | awk '{print $2}'; }
DP=(--set transport=dpdk --set dpdk.no_huge=true)
: >"$tmp/results"

# one transfer: name size order pub-args... -- sub-args...; prints msgs/s or FAIL.
# order "sub-first" or "pub-first" (a memif client must start after its server).
# Multicast has no flow control: a publisher at full speed can overrun a receiver,
# and then repairs cannot keep up (a typed loss, correctly). The figure is the rate
# delivered with no loss: full speed first, then up to two retries each publishing
# at 70% of what the previous try delivered. A try that fails waits out the
# subscriber's --timeout (20 s: a transfer takes 1-4 s, and 10 s at the slowest
# retry rate); with 60 s, one overrun put make bench at 596 s of its 600.
run() {
    local name=$1 size=$2 order=$3; shift 3
    local try rate=0 got
    for try in 1 2 3; do
        got=$(transfer "$name" "$size" "$order" "$rate" "$@")
        case $got in
        FAIL*) rate=$(awk -v r="${got#FAIL }" 'BEGIN{printf "%.0f", r * 0.7}')
               [ "$rate" -gt 0 ] || rate=100000 ;;
        *) [ "$try" -gt 1 ] && echo "note: $name $size B: full speed overran the receiver; $got msg/s published at $rate msg/s" >&2
           echo "$got"; return ;;
        esac
    done
    echo FAIL
}

transfer() {
    local name=$1 size=$2 order=$3 prate=$4; shift 4
    local pubargs=() subargs=() seen=0
    for a in "$@"; do
        if [ "$a" = "--" ]; then seen=1; continue; fi
        if [ $seen = 0 ]; then pubargs+=("$a"); else subargs+=("$a"); fi
    done
    local sp pp rc rate
    if [ "$order" = pub-first ]; then
        timeout 90 "${pubargs[@]}" --count "$N" --size "$size" --rate "$prate" --linger "$LINGER" >"$tmp/pub.json" 2>"$tmp/pub.err" &
        pp=$!
        sleep 1
        timeout 90 "${subargs[@]}" --count "$N" --verify --timeout 20 --quiet >"$tmp/sub.json" 2>"$tmp/sub.err"
        rc=$?
        wait "$pp"
    else
        timeout 90 "${subargs[@]}" --count "$N" --verify --timeout 20 --quiet >"$tmp/sub.json" 2>"$tmp/sub.err" &
        sp=$!
        sleep 1
        timeout 90 "${pubargs[@]}" --count "$N" --size "$size" --rate "$prate" --linger "$LINGER" >"$tmp/pub.json" 2>"$tmp/pub.err"
        wait "$sp"
        rc=$?
    fi
    rate=$(field "$tmp/sub.json" msgs_per_s)
    if [ "$rc" -ne 0 ] || [ "$(field "$tmp/sub.json" received)" != "$N" ]; then
        # what went wrong goes to the log: a try that fails costs up to 20 s
        echo "note: $name $size B at rate ${prate:-0} failed (subscriber exit $rc): received" \
             "$(field "$tmp/sub.json" received) of $N, $(field "$tmp/sub.json" lost_messages) lost in" \
             "$(field "$tmp/sub.json" loss_events) events, $(field "$tmp/sub.json" seconds) s;" \
             "publisher: $(field "$tmp/pub.json" nak_over_budget) NAKed sequences over budget" >&2
        echo "FAIL ${rate:-0}"
        return
    fi
    echo "{\"system\": \"seqcast\", \"transport\": \"$name\", \"size\": $size, \"test\": \"throughput\", \"msgs_per_s\": $rate, \"mb_per_s\": $(awk -v m="$rate" -v s="$size" 'BEGIN {printf "%.1f", m * s / 1e6}'), \"published_rate\": $prate, \"lost\": 0, \"duplicates\": $(field "$tmp/sub.json" duplicates_dropped), \"repaired\": $(field "$tmp/sub.json" repaired)}" >>"$tmp/results"
    echo "$rate"
}
# the DPDK pair over a veth, in two namespaces (no addresses: DPDK owns the links)
ip netns add "${T}a" && ip netns add "${T}b" || { echo "bench/dpdk.sh: needs root" >&2; exit 2; }
ip link add "${T}x" type veth peer name "${T}y"
ip link set "${T}x" netns "${T}a"
ip link set "${T}y" netns "${T}b"
for s in a b; do
    ip -n "$T$s" link set lo up
done
ip -n "${T}a" link set "${T}x" name eth0 && ip -n "${T}a" link set eth0 up
ip -n "${T}b" link set "${T}y" name eth0 && ip -n "${T}b" link set eth0 up

# the reference publisher's packets are seqcast's: a seqcast subscriber takes and verifies them
REF=$ROOT/$BUILD/bench/dpdk_ref
"$REF" --device "net_pcap0,tx_pcap=$tmp/ref.pcap" --count 1000 --size 32 >/dev/null 2>&1 &&
    timeout 20 "$B/seqcast-sub" --group 239.198.18.11:34001 --pcap "$tmp/ref.pcap" --count 1000 --verify \
        --quiet >"$tmp/refsub.json" 2>/dev/null && [ "$(field "$tmp/refsub.json" received)" = 1000 ] ||
    { echo "bench/dpdk.sh: the reference publisher's packets did not verify in seqcast-sub" >&2; exit 1; }
median() { sort -n "$1" | awk '{v[NR] = $1} END {if (NR) printf "%.0f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; else print "FAIL"}'; }

PIN0=() PIN1=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    PIN0=(taskset -c 0) PIN1=(taskset -c 1)
fi
declare -A R
for size in 32 288; do
    G=(--group 239.198.18.11:34001 --set nak_port=34000)
    # the kernel's socket buffer as in bench/throughput.sh (32 MiB): at full speed
    # the 8 MiB default overran the subscriber in a noisy stretch (3 tries of 288 B failed)
    R[udp,$size]=$(run "udp-loopback" $size sub-first "$B/seqcast-pub" "${G[@]}" -- "$B/seqcast-sub" "${G[@]}" --set rcvbuf=32MiB)
    AF=net_af_packet0,iface=eth0,framecnt=4096
    R[afp,$size]=$(run "dpdk-af_packet" $size sub-first \
        ip netns exec "${T}a" "$B/seqcast-pub" "${G[@]}" "${DP[@]}" --set "dpdk.device=$AF" --interface 198.18.4.1 -- \
        ip netns exec "${T}b" "$B/seqcast-sub" "${G[@]}" "${DP[@]}" --set "dpdk.device=$AF" --interface 198.18.4.2)
    XDP=net_af_xdp0,iface=eth0 # (libbpf/libxdp's warnings: OPERATIONS.md, DPDK)
    R[xdp,$size]=$(run "dpdk-af_xdp" $size sub-first \
        ip netns exec "${T}a" "$B/seqcast-pub" "${G[@]}" "${DP[@]}" --set "dpdk.device=$XDP" --interface 198.18.4.1 -- \
        ip netns exec "${T}b" "$B/seqcast-sub" "${G[@]}" "${DP[@]}" --set "dpdk.device=$XDP" --interface 198.18.4.2)
    MS=$tmp/memif.sock
    # publisher and subscriber pinned to different vCPUs (EAL maps its lcore to the CPUs it
    # may use): both poll, and when the scheduler put them on one CPU they took turns a
    # time slice at a time -- 5.4M msg/s against 40-60M, the row's old second mode
    R[memif,$size]=$(run "dpdk-memif" $size pub-first \
        "${PIN0[@]}" "$B/seqcast-pub" "${G[@]}" "${DP[@]}" --set "dpdk.device=net_memif0,role=server,socket=$MS" --interface 198.18.5.1 -- \
        "${PIN1[@]}" "$B/seqcast-sub" "${G[@]}" "${DP[@]}" --set "dpdk.device=net_memif0,role=client,socket=$MS" --interface 198.18.5.2)
    # net_null: the seqcast publisher and the reference publisher (bench/dpdk_ref.c:
    # the same packets built in mbufs, nothing else), alternating, NULL_REPS each;
    # the medians, and the ratio of the medians
    : >"$tmp/null.$size" && : >"$tmp/ref.$size"
    for rep in $(seq 1 "$NULL_REPS"); do
        "$B/seqcast-pub" "${G[@]}" "${DP[@]}" --set dpdk.device=net_null0,no-rx=1 --interface 198.18.6.1 \
            --count "$NN" --size "$size" --linger 0 >"$tmp/null.json" 2>/dev/null &&
            awk -v n="$NN" -v s="$(field "$tmp/null.json" seconds)" 'BEGIN{printf "%.0f\n", n/s}' >>"$tmp/null.$size"
        "$REF" --device net_null0,no-rx=1 --count "$NN" --size "$size" >"$tmp/ref.json" 2>/dev/null &&
            field "$tmp/ref.json" msgs_per_s >>"$tmp/ref.$size"
    done
    R[null,$size]=$(median "$tmp/null.$size")
    R[ref,$size]=$(median "$tmp/ref.$size")
    R[nullruns,$size]=$(sort -n "$tmp/null.$size" | awk '{printf "%s%.1f", (NR > 1 ? "/" : ""), $1/1e6}')
    R[refruns,$size]=$(sort -n "$tmp/ref.$size" | awk '{printf "%s%.1f", (NR > 1 ? "/" : ""), $1/1e6}')
    for k in null ref; do
        [ "${R[$k,$size]}" = FAIL ] && continue
        echo "{\"system\": \"$([ $k = ref ] && echo reference || echo seqcast)\", \"transport\": \"dpdk-net_null (publisher only)\", \"size\": $size, \"test\": \"throughput\", \"msgs_per_s\": ${R[$k,$size]}, \"mb_per_s\": $(awk -v m="${R[$k,$size]}" -v s="$size" 'BEGIN {printf "%.1f", m * s / 1e6}'), \"lost\": 0, \"duplicates\": 0}" >>"$tmp/results"
    done
done

fmt() { [ "$1" = FAIL ] && echo FAIL || awk -v v="$1" 'BEGIN{printf "%.2fM", v/1e6}'; }
ratio() { case "$1$2" in *FAIL*) echo FAIL ;; *) awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}' ;; esac; }
holds() { case $1 in FAIL) echo "does not hold" ;; *) awk -v r="$1" -v t="$2" 'BEGIN{print ((r >= t) ? "holds" : "does not hold")}' ;; esac; }
{
    echo "| message | kernel UDP loopback | DPDK net_af_packet (veth) | DPDK net_af_xdp (veth) | DPDK net_memif | DPDK net_null (publisher only) | reference publisher, net_null | net_null ÷ reference | memif ÷ net_null |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for size in 32 288; do
        R[rr,$size]=$(ratio "${R[null,$size]}" "${R[ref,$size]}")
        R[mr,$size]=$(ratio "${R[memif,$size]}" "${R[null,$size]}")
        echo "| $size B | $(fmt "${R[udp,$size]}") msg/s | $(fmt "${R[afp,$size]}") msg/s | $(fmt "${R[xdp,$size]}") msg/s | $(fmt "${R[memif,$size]}") msg/s | $(fmt "${R[null,$size]}") msg/s (runs ${R[nullruns,$size]}M) | $(fmt "${R[ref,$size]}") msg/s (runs ${R[refruns,$size]}M) | ${R[rr,$size]} × | ${R[mr,$size]} × |"
    done
    echo
    echo "* DPDK publisher into net_null ÷ the reference publisher, batched 32 B: ${R[rr,32]} × (target ≥ 0.7 ×: $(holds "${R[rr,32]}" 0.7))"
    echo "* DPDK net_memif publisher → subscriber, every byte verified ÷ the net_null publisher, batched 32 B: ${R[mr,32]} × (target ≥ 0.8 ×: $(holds "${R[mr,32]}" 0.8))$([ ${#PIN0[@]} -gt 0 ] && echo "; memif publisher and subscriber pinned to vCPUs 0 and 1")"
} >"$out/dpdk-table.md"
{ echo "["; paste -sd, "$tmp/results"; echo "]"; } >"$out/dpdk.json"
cat "$out/dpdk-table.md"
grep -q FAIL "$out/dpdk-table.md" && exit 1
exit 0
