#!/usr/bin/env bash
# make bench: run every benchmark section in one go and write docs/BENCHMARKS.md.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
out=$ROOT/$BUILD/bench
mkdir -p "$out"
rc=0
echo "== kernel UDP throughput beside the raw-UDP floor (bench/throughput.sh)"
BUILD=$BUILD "$ROOT/bench/throughput.sh" || rc=1
echo "== DPDK data path (bench/dpdk.sh)"
BUILD=$BUILD "$ROOT/bench/dpdk.sh" || rc=1
echo "== order sessions (bench/order.sh)"
BUILD=$BUILD "$ROOT/bench/order.sh" || rc=1
BUILD=$BUILD "$ROOT/bench/report.sh" >"$ROOT/docs/BENCHMARKS.md" || rc=1
{ echo "["; for f in "$out"/throughput.json "$out"/dpdk.json "$out"/order.json; do sed '1d;$d' "$f"; done | paste -sd, ; echo "]"; } >"$out/results.json"
echo "== wrote docs/BENCHMARKS.md and $BUILD/bench/results.json"
exit $rc
