#!/usr/bin/env bash
# make bench: run every benchmark section in one go, plot the latency curves and
# write docs/BENCHMARKS.md and $BUILD/bench/results.json. Sections that need
# root (network namespaces) say SKIPPED in their table without it.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
out=$ROOT/$BUILD/bench
mkdir -p "$out"
rm -rf "$out/curves" "$out"/*.json "$out"/*-table.md
rc=0
t0=$(date +%s)
section() { # NAME SCRIPT
    local s=$(date +%s)
    echo "== $1 (bench/$2)"
    BUILD=$BUILD "$ROOT/bench/$2" || { rc=1; echo "== $1: FAILED" >&2; }
    echo "== $1: $(( $(date +%s) - s )) s"
}
section "kernel UDP throughput: seqcast, the raw-UDP floor, OpenPGM, ZeroMQ; loopback and veth" throughput.sh
section "one-way latency" latency.sh
section "recovery under 1 % loss, tail loss" recovery.sh
section "DPDK data path" dpdk.sh
section "order sessions" order.sh
BUILD=$BUILD "$ROOT/bench/plot.sh" "$ROOT/docs/bench-latency.png" || rc=1
BUILD=$BUILD "$ROOT/bench/report.sh" >"$ROOT/docs/BENCHMARKS.md" || rc=1
echo "== targets (issue 7) in this run; details in docs/BENCHMARKS.md"
sed -n '/^## Targets/,/^## Kernel UDP/p' "$ROOT/docs/BENCHMARKS.md" | grep '^|'
{ echo "["; for f in "$out"/{throughput,latency,recovery,dpdk,order}.json; do [ -s "$f" ] && sed '1d;$d' "$f"; done | paste -sd, ; echo "]"; } >"$out/results.json"
echo "== wrote docs/BENCHMARKS.md, docs/bench-latency.png and $BUILD/bench/results.json in $(( $(date +%s) - t0 )) s"
[ $rc -eq 0 ] || echo "== some section FAILED (see above)" >&2
exit $rc
