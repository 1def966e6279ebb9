#!/usr/bin/env bash
# make bench, feed-handler latency section: end-to-end one-way latency from
# publisher to BBO callback at 100,000 msg/s, beside the raw-UDP floor of the
# same run. bench/peer's feed system: a paced seqcast publisher (the library,
# loopback multicast) sends the messages of a seqcast-itchgen day
# (BENCH_FHLAT_SYMBOLS symbols, default 1,000; seed 7), each stamped just
# before its send call with the send time in the ITCH timestamp field
# (CLOCK_MONOTONIC mod 2^48, the clock both processes share); the receiver (a
# seqcast subscriber, sc_itch_feed_msg, an order book) takes now - that stamp
# in the book's on_bbo callback, once per message that changes a best bid or
# offer, into bench/hist.h's histogram. Two channels carry it: MoldUDP64
# (protocol: moldudp64, NASDAQ's own feed framing: the natural path) and PGM
# with batched framing; each message is flushed at once, one a packet, as in
# the latency section. The floor is bench/peer udp at 32 B (the day's mean
# ITCH message is about 31 B) and the same rate, in the same rep.
#
# Blocking and busy-polling receivers. Each rep runs every case once, the
# systems interleaved (a noisy stretch of the VM hits all of them), after a
# discarded warm-up second of the floor; the table shows, per case, the run
# with the median p99 of BENCH_FHLAT_REPS (default 5; QUICK=1: 1 rep of 1 s).
# A feed run that loses or duplicates a message, or whose books do not mirror
# the day (an unknown reference, a refused or malformed message), fails the
# section.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
out=$ROOT/$BUILD/bench
RATE=100000
SECS=${BENCH_FHLAT_SECONDS:-2}
REPS=${BENCH_FHLAT_REPS:-5}
[ "${QUICK:-0}" = 1 ] && { SECS=${BENCH_FHLAT_SECONDS:-0.5}; REPS=${BENCH_FHLAT_REPS:-1}; }
SYMS=${BENCH_FHLAT_SYMBOLS:-1000}
N=$(awk -v r="$RATE" -v s="$SECS" 'BEGIN { printf "%d", r * s }')
tmp=$(mktemp -d /tmp/seqcast-bench-fhlat-XXXXXX)
trap 'jobs -p | xargs -r kill 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir -p "$out"
P=$((41000 + $$ % 4000))
rc=0
systems="udp feed-mold feed-pgm"

for rep in $(seq 1 "$REPS"); do
    sync
    P=$((P + 4))
    pair "" "" "$tmp/warm.json" udp --group 239.192.9.7:$P --size 32 --rate $RATE --count $RATE \
        -- --timeout 20 -- --linger 0.1
    for mode in blocking busy-poll; do
        busy=(); [ "$mode" = busy-poll ] && busy=(--busy)
        for sys in $systems; do
            P=$((P + 4))
            case $sys in
            udp) psys=udp extra=(--size 32) ;;
            feed-mold) psys=feed extra=(--symbols "$SYMS" --set protocol=moldudp64 --set mold.session=FHLAT) ;;
            feed-pgm) psys=feed extra=(--symbols "$SYMS") ;;
            esac
            pair "" "" "$tmp/$sys-$mode-$rep.json" "$psys" --group 239.192.9.7:$P --rate $RATE --count $N \
                "${extra[@]}" -- "${busy[@]}" --label "$sys" --test fh-latency --timeout 60 -- --linger 0.3
            if [ $? -ne 0 ] && [ "$sys" != udp ]; then
                rc=1
                echo "fh_latency: $sys ($mode, rep $rep) lost or duplicated data, or its books do not mirror the day: $(tail -2 "$tmp/$sys-$mode-$rep.json.err")" >&2
            fi
        done
    done
done

# per case: the run with the median p99, and every run's p99
: >"$tmp/results"
for mode in blocking busy-poll; do
    for sys in $systems; do
        best=$(median_run p99_us 999999999 "$tmp/$sys-$mode-"[0-9]*.json)
        runs=$(for f in "$tmp/$sys-$mode-"[0-9]*.json; do v=$(jget "$f" p99_us); echo "${v:-failed}"; done |
            sort -g | paste -sd/ | sed 's|/| / |g')
        if [ -z "$best" ] || [ -z "$(jget "$best" p99_us)" ]; then
            echo "{\"system\": \"$sys\", \"transport\": \"udp-loopback\", \"test\": \"fh-latency\", \"mode\": \"$mode\", \"rate\": $RATE, \"lost\": -1, \"failed\": 1}" >>"$tmp/results"
            continue
        fi
        grep '^{' "$best" | tail -1 | sed "s|}\$|, \"p99_runs\": \"$runs\"}|" >>"$tmp/results"
    done
done

{
echo "The first $N messages of a seqcast-itchgen day ($SYMS symbols, seed 7) at $RATE msg/s; BBO samples: the messages that changed a best bid or offer, each one latency sample. The floor: raw UDP, 32 B at the same rate, in the same reps. Each row is the run with the median p99 of $REPS."
echo
echo "| receivers | path | messages (mean size) | BBO samples | p50 µs | p99 µs | p99.9 µs | max µs | lost | p99 of the runs | p50, p99 × floor |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
awk "$JAWK"'
    { rows[NR] = $0; if (j("system") == "udp") { f50[j("mode")] = j("p50_us"); f99[j("mode")] = j("p99_us") } }
    END { for (i = 1; i <= NR; i++) { $0 = rows[i]; m = j("mode"); s = j("system")
            if (j("failed") == 1) { printf("| %s | %s | failed | | | | | | | | |\n", m, s); continue }
            printf("| %s | %s | %s (%s B) | %s | %s | %s | %s | %s | %s | %s | %s |\n", m,
              s == "udp" ? "raw-UDP floor" : s == "feed-mold" ? "seqcast MoldUDP64 → book → on_bbo" : "seqcast PGM batched → book → on_bbo",
              j("received"), s == "udp" ? j("size") : j("msg_bytes_mean"), s == "udp" ? "(every message)" : j("bbo_samples"),
              j("p50_us"), j("p99_us"), j("p999_us"), j("max_us"), j("lost"), j("p99_runs"),
              s == "udp" || f99[m] <= 0 ? "-" : sprintf("%.3g, %.3g", j("p50_us") / f50[m], j("p99_us") / f99[m])) } }' "$tmp/results"
} | tee "$out/fh_latency-table.md"
{ echo "["; paste -sd, "$tmp/results"; echo "]"; } >"$out/fh_latency.json"
exit $rc
