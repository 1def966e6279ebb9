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
#   ingest     seqcast-pub at its full rate, batched 32 B, as the throughput
#              section's seqcast-cli publisher row runs it (the same count,
#              BENCH_MSGS x 20), recorded by seqcast-archive with fsync: batch
#              (rcvbuf 256 MiB: an archive's socket absorbs the disk's stalls),
#              REPS times (median): messages a second from the archive's first
#              wake-up that archived to its last, the messages lost (must be 0:
#              any loss fails the section), and the ratio to that publisher
#              row's rate in the same make bench run ($out/throughput.json).
#   catch-up   a feed at BENCH_ARCHIVE_LIVE msg/s (default 1,000,000, the issue's;
#              QUICK 200,000, and the table says which; seqcast-pub --rate: the
#              messages due within batch_delay, 10 us, share a packet) recorded by
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
    LIVE_RATE=${BENCH_ARCHIVE_LIVE:-200000} # (QUICK: the issue's 1,000,000 is the full run's)
else
    N=${BENCH_ARCHIVE_MSGS:-3000000} J=${BENCH_ARCHIVE_JOIN:-1000000} REPS=${BENCH_ARCHIVE_REPS:-3}
    LIVE_RATE=${BENCH_ARCHIVE_LIVE:-1000000}
fi
RATE=${BENCH_ARCHIVE_RATE:-500000}
tmp=$(mktemp -d /tmp/seqcast-bench-arc-XXXXXX)
trap 'jobs -p | xargs -r kill 2>/dev/null; wait; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
mkdir -p "$out"
P=$((45000 + $$ % 2000))
G=(--group 239.192.9.7:$P --interface 127.0.0.1)
rc=0
: >"$tmp/results"
now() { date +%s.%N; }

# --- ingest: the publisher at its full rate, batched 32 B
IN=$((${BENCH_MSGS:-300000} * 20))
for i in $(seq 1 "$REPS"); do
    P=$((P + 4))
    GI=(--group 239.192.9.8:$P --interface 127.0.0.1 --set nak_port=$((P + 1)) --set framing=batched
        --set rcvbuf=32MiB)
    "$B/seqcast-archive" --dir "$tmp/i$i" "${GI[@]}" --set rcvbuf=256MiB --fsync batch --count "$IN" \
        --timeout 60 --quiet >"$tmp/i$i.json" 2>"$tmp/i$i.err" &
    arc=$!
    sleep 0.3
    "$B/seqcast-pub" "${GI[@]}" --count "$IN" --size 32 --linger 0.2 >"$tmp/ip$i.json" 2>"$tmp/ip$i.err"
    wait $arc
    rm -rf "$tmp/i$i"
done
best=$(median_run msgs_per_s 0 "$tmp"/i[0-9]*.json)
lost=0
for f in "$tmp"/i[0-9]*.json; do
    n=$(jget "$f" msgs_archived)
    lost=$((lost + IN - ${n:-0}))
done
[ "$lost" = 0 ] || { rc=1; echo "ingest: the archive LOST $lost of $((IN * REPS)) messages ($REPS runs)" >&2; }
pubrow=$(grep -o '{[^{}]*"system": "seqcast-cli", "transport": "udp-loopback", "framing": "batched", "size": 32,[^{}]*}' \
    "$out/throughput.json" 2>/dev/null | grep -o '"msgs_per_s": [0-9.]*' | head -1 | sed 's/.*: //')
printf '{"case": "ingest", "size": 32, "msgs": %s, "reps": %s, "msgs_per_s": %s, "seconds": %s, "lost": %s, "publisher_msgs_per_s": %s, "times_publisher": %s}\n' \
    "$IN" "$REPS" "$(jget "$best" msgs_per_s)" "$(jget "$best" seconds)" "$lost" "${pubrow:-0}" \
    "$(awk -v a="$(jget "$best" msgs_per_s)" -v p="${pubrow:-0}" 'BEGIN { if (p > 0) printf("%.2f", a / p); else printf("null") }')" \
    >>"$tmp/results"

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

# --- a late joiner's catch-up while the feed runs (REPS times: the median)
T=$((J + LIVE_RATE * 2)) # the feed outlasts the catch-up
: >"$tmp/cu"
for i in $(seq 1 "$REPS"); do
    rm -rf "$tmp/a"
    P=$((P + 4))
    G=(--group 239.192.9.7:$P --interface 127.0.0.1)
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
    printf '{"case": "catch-up", "size": 32, "msgs": %s, "live_rate": %s, "reps": %s, "seconds": %s, "msgs_per_s": %s, "times_live": %s, "msgs_rewind": %s, "lost": %s}\n' \
        "$J" "$LIVE_RATE" "$REPS" "$secs" "$(awk -v j="$J" -v s="$secs" 'BEGIN { printf("%.0f", j / s) }')" \
        "$(awk -v j="$J" -v s="$secs" -v r="$LIVE_RATE" 'BEGIN { printf("%.1f", j / s / r) }')" \
        "$(jget "$tmp/s.json" msgs_rewind)" "$(jget "$tmp/s.json" lost_packets)" >"$tmp/cu$i.json"
done
cat "$(median_run msgs_per_s 0 "$tmp"/cu[0-9]*.json)" >>"$tmp/results"

{
echo "32 B messages, PGM batched, over loopback; fsync: batch. Rewind: seqcast-rewind from 1 to the last of $N sent at $RATE msg/s and archived, median of $REPS. Catch-up: a subscriber joining after $J messages with --late-join archive while the feed runs at $LIVE_RATE msg/s$([ "${QUICK:-0}" = 1 ] && echo " (make bench QUICK=1: the issue's 1,000,000 msg/s is the full run's)"); its time to deliver those $J (process start included), median of $REPS."
echo
echo "| case | messages | seconds | messages/s | against the live rate |"
echo "|---|---|---|---|---|"
awk "$JAWK"'j("case") != "ingest" { printf("| %s | %s | %s | %s | %s |\n", j("case"), j("msgs") (j("case") == "rewind" ? " (of '"$N"' sent)" : ""), j("seconds"), j("msgs_per_s"),
    j("case") == "catch-up" ? j("times_live") " x " j("live_rate") " msg/s" : "") }' "$tmp/results"
echo
echo "Ingest: seqcast-pub at its full rate, batched 32 B, $IN messages (the seqcast-cli batched 32 B publisher row's count), recorded by seqcast-archive with fsync: batch and a 256 MiB socket buffer, median of $REPS; messages/s from the archive's first wake-up that archived to its last; lost: all runs together."
echo
echo "| case | messages | seconds | messages/s | lost | publisher row (seqcast-cli batched 32 B) msgs/s | archive ÷ publisher row |"
echo "|---|---|---|---|---|---|---|"
awk "$JAWK"'j("case") == "ingest" { printf("| ingest, fsync: batch | %s | %s | %s | %s | %s | %s |\n", j("msgs"), j("seconds"), j("msgs_per_s"),
    j("lost") == 0 ? "0" : j("lost") " LOST", j("publisher_msgs_per_s") > 0 ? j("publisher_msgs_per_s") : "(not measured in this run)",
    j("times_publisher") == "null" ? "-" : j("times_publisher") " x") }' "$tmp/results"
echo
awk "$JAWK"'j("case") == "ingest" { printf("* Archive ingest of the publisher'"'"'s full-rate batched 32 B, fsync: batch: %.1f M msg/s, %s lost%s\n", j("msgs_per_s") / 1e6, j("lost"),
    j("lost") == 0 ? "" : " (target: no loss: does not hold)") }
  j("case") == "rewind" { v = j("msgs_per_s") + 0
    printf("* Rewind over loopback TCP, 32 B: %.1f M msg/s (target at least 10 M msg/s: %s)\n", v / 1e6, v >= 1e7 ? "holds" : "does not hold") }
  j("case") == "catch-up" { v = j("times_live") + 0
    printf("* Late joiner catch-up, %s messages of history: %.1f times the live rate (target 5 times or better: %s)\n", j("msgs"), v, v >= 5 ? "holds" : "does not hold") }' "$tmp/results"
} | tee "$out/archive-table.md"
{ echo "["; paste -sd, "$tmp/results"; echo "]"; } >"$out/archive.json"
exit $rc
