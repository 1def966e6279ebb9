#!/usr/bin/env bash
# make bench, live counters section (issue 21): what publishing the counters in
# shared memory costs, and what reading them costs the writer. seqcast batched
# 32 B over loopback (bench/peer, the throughput section's row), three ways,
# interleaved BENCH_SHM_REPS times (default 5), receiver and sender pinned to
# different vCPUs: without live counters; with stats.shm on at both ends (the
# default 100 ms interval); and with them on while bench/statread reads every
# file 1,000 times a second. The median of each is reported, with every run.
# A window of 131072 packets, as the throughput section's pairs: with the
# default 16384, one run without live counters lost 392,460 of 27M messages to
# a stall of the receiver's vCPU (not_in_window).
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
out=$ROOT/$BUILD/bench
N=${BENCH_MSGS:-300000}
REPS=${BENCH_SHM_REPS:-5}
tmp=$(mktemp -d /tmp/seqcast-bench-shm-XXXXXX)
trap 'jobs -p | xargs -r kill 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir -p "$out" "$tmp/shm"
P=$((30000 + $$ % 10000))
rc=0 WARM=0
: >"$tmp/results"
rp="" sp=""
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then rp="taskset -c 1" sp="taskset -c 0"; fi
COUNT=$((N * 90))

# one transfer: VARIANT (off, on, on+reader)
transfer() {
    local v=$1 set=() reader=
    P=$((P + 4))
    [ "$v" != off ] && set=(--set stats.shm=on --set "stats.shm_dir=$tmp/shm")
    pair "$rp" "$sp" "$tmp/r.json" seqcast --group 239.192.9.3:$P --size 32 --count $COUNT \
        --framing batched --set window.packets=131072 "${set[@]}" -- --iface 127.0.0.1 --timeout 120 --idle 3 -- \
        --iface 127.0.0.1 --linger 0.2 &
    local p=$!
    if [ "$v" = on+reader ]; then
        sleep 0.3
        "$ROOT/$BUILD/bench/statread" "$tmp/shm" 1000 >"$tmp/reader.json" &
        reader=$!
    fi
    wait $p || rc=1
    if [ -n "$reader" ]; then kill -TERM $reader; wait $reader; fi
    local mps lost reads=0
    mps=$(jget "$tmp/r.json" msgs_per_s); lost=$(jget "$tmp/r.json" lost)
    [ -n "$reader" ] && reads=$(jget "$tmp/reader.json" reads_per_s)
    [ "${lost:-1}" = 0 ] || [ "$WARM" = 1 ] || { rc=1; echo "shm: $v: lost ${lost:-?} of $COUNT" >&2; }
    printf '{"system": "seqcast", "transport": "udp-loopback", "framing": "batched", "size": 32, "test": "shm", "variant": "%s", "msgs_per_s": %s, "lost": %s, "reads": %s}\n' \
        "$v" "${mps:-0}" "${lost:-$COUNT}" "${reads:-0}" >>"$tmp/results"
}

# a warm-up transfer, not reported: twice the first transfer of a run (always
# the "off" one) lost about a million messages to a stalled receiver, never a later one
WARM=1 transfer off
WARM=0
: >"$tmp/results"
for rep in $(seq 1 "$REPS"); do
    for v in off on on+reader; do transfer "$v"; done
done

{
echo "seqcast batched 32 B over loopback, $COUNT messages a transfer, $REPS interleaved runs of each$([ -n "$rp" ] && echo ", receiver and sender pinned to different vCPUs"), the median of each:"
echo
echo "| live counters | msgs/s (median) | × without | runs (M msg/s) | reader's reads/s |"
echo "|---|---|---|---|---|"
awk "$JAWK"'
    function med(v,   n, i, m, t, a) { n = cnt[v]; for (i = 1; i <= n; i++) a[i] = val[v, i]
        for (i = 1; i <= n; i++) for (m = i + 1; m <= n; m++) if (a[m] < a[i]) { t = a[i]; a[i] = a[m]; a[m] = t }
        return n ? a[int((n + 1) / 2)] : 0 }
    { v = j("variant"); n = ++cnt[v]; val[v, n] = j("msgs_per_s") + 0
      runs[v] = runs[v] (runs[v] == "" ? "" : ", ") sprintf("%.1f", j("msgs_per_s") / 1e6); reads[v] += j("reads") }
    END { off = med("off")
          split("off on on+reader", vs, " ")
          name["off"] = "off"; name["on"] = "stats.shm on (100 ms)"; name["on+reader"] = "on, a reader at 1,000 reads/s"
          for (i = 1; i <= 3; i++) { v = vs[i]; m = med(v)
            printf("| %s | %.0f | %s | %s | %s |\n", name[v], m, off > 0 ? sprintf("%.2f", m / off) : "-", runs[v],
                   v == "on+reader" ? sprintf("%.0f", reads[v] / (cnt[v] ? cnt[v] : 1)) : "-") } }' "$tmp/results"
} | tee "$out/shm-table.md"
{ echo "["; paste -sd, "$tmp/results"; echo "]"; } >"$out/shm.json"
exit $rc
