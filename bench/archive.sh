#!/usr/bin/env bash
# make bench, archive section (issue 20): how fast history comes back out of
# seqcast-archive.
#   rewind     seqcast-pub sends N messages of 32 B (PGM, batched) at
#              BENCH_ARCHIVE_RATE (default 500,000 msg/s); seqcast-archive
#              --rewind records them (fsync: batch; what it misses on this shared
#              machine is a gap, and the table says how many it holds); then
#              seqcast-rewind --from 1 --until N over loopback TCP, --verify off,
#              REPS times (median): messages a second from its first message to
#              its last (seqcast-rewind's msgs_per_s); each rep must get every
#              message archived.
#   catch-up   a feed at BENCH_ARCHIVE_LIVE msg/s (default 200,000) recorded by
#              the archive; after J messages a subscriber joins with --late-join
#              archive: its time to deliver those J messages (from 1, by rewind,
#              while the live ones are held and merged), and that rate against
#              the live rate (the issue's target: 5 times or better).
# Publisher, archive and readers share this machine's vCPUs (no pinning: four
# processes on two).
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
B=$ROOT/$BUILD/bin
out=$ROOT/$BUILD/bench
if [ "${QUICK:-0}" = 1 ]; then
    N=${BENCH_ARCHIVE_MSGS:-300000} J=${BENCH_ARCHIVE_JOIN:-200000} REPS=${BENCH_ARCHIVE_REPS:-1}
else
    N=${BENCH_ARCHIVE_MSGS:-3000000} J=${BENCH_ARCHIVE_JOIN:-1000000} REPS=${BENCH_ARCHIVE_REPS:-3}
fi
RATE=${BENCH_ARCHIVE_RATE:-500000} LIVE_RATE=${BENCH_ARCHIVE_LIVE:-200000}
tmp=$(mktemp -d /tmp/seqcast-bench-arc-XXXXXX)
trap 'jobs -p | xargs -r kill 2>/dev/null; wait; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
mkdir -p "$out"
P=$((45000 + $$ % 2000))
G=(--group 239.192.9.7:$P --interface 127.0.0.1)
rc=0
: >"$tmp/results"
now() { date +%s.%N; }

# --- rewind throughput
"$B/seqcast-archive" --dir "$tmp/a" "${G[@]}" --rewind 127.0.0.1:$((P + 1)) --timeout 120 --quiet \
    >"$tmp/a.json" 2>"$tmp/a.err" &
arc=$!
sleep 0.3
"$B/seqcast-pub" "${G[@]}" --count "$N" --size 32 --rate "$RATE" --linger 0.3 >"$tmp/p.json" 2>"$tmp/p.err"
sleep 0.2 # the last batch synced
for i in $(seq 1 "$REPS"); do
    # (exit 1 when the archive lacks a range -- it missed some of the feed: below)
    timeout 60 "$B/seqcast-rewind" --server 127.0.0.1:$((P + 1)) --from 1 --until "$N" --timeout 10 \
        >"$tmp/r$i.json" 2>"$tmp/r$i.err"
done
kill $arc 2>/dev/null
wait $arc
archived=$(jget "$tmp/a.json" msgs_archived)
best=$(median_run msgs_per_s 0 "$tmp"/r*.json)
# every message archived comes back, whatever the archive missed
for f in "$tmp"/r*.json; do
    [ "$(jget "$f" msgs)" = "${archived:-x}" ] && [ "$(jget "$f" done)" = true ] ||
        { rc=1; echo "rewind: $(jget "$f" msgs) of ${archived:-?} archived: $(tail -2 "${f%.json}.err")" >&2; }
done
printf '{"case": "rewind", "size": 32, "msgs": %s, "archived": %s, "reps": %s, "msgs_per_s": %s, "seconds": %s}\n' \
    "$(jget "$best" msgs)" "${archived:-0}" "$REPS" "$(jget "$best" msgs_per_s)" "$(jget "$best" seconds)" >>"$tmp/results"

# --- a late joiner's catch-up while the feed runs
rm -rf "$tmp/a"
T=$((J + LIVE_RATE * 4)) # the feed outlasts the catch-up
"$B/seqcast-archive" --dir "$tmp/a" "${G[@]}" --rewind 127.0.0.1:$((P + 1)) --timeout 120 --quiet \
    >"$tmp/a2.json" 2>"$tmp/a2.err" &
arc=$!
sleep 0.3
"$B/seqcast-pub" "${G[@]}" --count "$T" --size 32 --rate "$LIVE_RATE" --linger 0.3 >"$tmp/p2.json" 2>"$tmp/p2.err" &
pub=$!
sleep "$(awk -v j="$J" -v r="$LIVE_RATE" 'BEGIN { printf("%.3f", j / r) }')"
t0=$(now)
timeout 60 "$B/seqcast-sub" "${G[@]}" --archive 127.0.0.1:$((P + 1)) --late-join archive \
    --count "$J" --verify --quiet >"$tmp/s.json" 2>"$tmp/s.err"
t1=$(now) # (its exit status: --count is exact, and the merge hands over the held messages at once)
[ "$(jget "$tmp/s.json" verify_errors)" = 0 ] && [ "$(jget "$tmp/s.json" lost_messages)" = 0 ] &&
    [ "$(jget "$tmp/s.json" received)" -ge "$J" ] 2>/dev/null ||
    { rc=1; echo "late joiner: $(tail -2 "$tmp/s.err") $(head -c 300 "$tmp/s.json")" >&2; }
kill $pub $arc 2>/dev/null
wait $pub $arc 2>/dev/null
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf("%.3f", b - a) }')
printf '{"case": "catch-up", "size": 32, "msgs": %s, "live_rate": %s, "seconds": %s, "msgs_per_s": %s, "times_live": %s, "msgs_rewind": %s, "lost": %s}\n' \
    "$J" "$LIVE_RATE" "$secs" "$(awk -v j="$J" -v s="$secs" 'BEGIN { printf("%.0f", j / s) }')" \
    "$(awk -v j="$J" -v s="$secs" -v r="$LIVE_RATE" 'BEGIN { printf("%.1f", j / s / r) }')" \
    "$(jget "$tmp/s.json" msgs_rewind)" "$(jget "$tmp/s.json" lost_packets)" >>"$tmp/results"

{
echo "32 B messages, PGM batched, over loopback; fsync: batch. Rewind: seqcast-rewind from 1 to the last of $N sent at $RATE msg/s and archived, median of $REPS. Catch-up: a subscriber joining after $J messages with --late-join archive while the feed runs at $LIVE_RATE msg/s; its time to deliver those $J (process start included)."
echo
echo "| case | messages | seconds | messages/s | against the live rate |"
echo "|---|---|---|---|---|"
awk "$JAWK"'{ printf("| %s | %s | %s | %s | %s |\n", j("case"), j("msgs") (j("case") == "rewind" ? " (of '"$N"' sent)" : ""), j("seconds"), j("msgs_per_s"),
    j("case") == "catch-up" ? j("times_live") " x " j("live_rate") " msg/s" : "") }' "$tmp/results"
echo
awk "$JAWK"'j("case") == "rewind" { v = j("msgs_per_s") + 0
    printf("* Rewind over loopback TCP, 32 B: %.1f M msg/s (target at least 10 M msg/s: %s)\n", v / 1e6, v >= 1e7 ? "holds" : "does not hold") }
  j("case") == "catch-up" { v = j("times_live") + 0
    printf("* Late joiner catch-up, %s messages of history: %.1f times the live rate (target 5 times or better: %s)\n", j("msgs"), v, v >= 5 ? "holds" : "does not hold") }' "$tmp/results"
} | tee "$out/archive-table.md"
{ echo "["; paste -sd, "$tmp/results"; echo "]"; } >"$out/archive.json"
exit $rc
