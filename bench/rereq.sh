#!/usr/bin/env bash
# make bench, re-request server section: how many messages a second a MoldUDP64
# publisher's re-request server (engine/rereq_srv.c) serves from its window.
# A publisher (bench/peer seqcast send, protocol: moldudp64) sends N messages
# and lingers holding them all; bench/rereq keeps D requests in flight from one
# address over loopback, each for 1,000 messages from a random first message
# within the window, and counts the messages in the responses (every one
# checked against its sequence number) for BENCH_REREQ_SECONDS (default 3).
# The server's defences are raised out of the way -- rtx.budget (messages per
# address per second) to 4e9, rtx.rate to unlimited, window.time to a minute --
# so the figure is the server's own cost: what a flood would meet if the
# budgets let it through. Publisher and client are pinned to different vCPUs.
# Then SIGTERM ends the publisher's linger and its counters are read.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
out=$ROOT/$BUILD/bench
SECS=${BENCH_REREQ_SECONDS:-3}
tmp=$(mktemp -d /tmp/seqcast-bench-rr-XXXXXX)
trap 'jobs -p | xargs -r kill 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir -p "$out"
P=$((43000 + $$ % 2000))
rc=0
: >"$tmp/results"
SPIN=() CPIN=() PIN_NOTE=""
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    SPIN=(taskset -c 0) CPIN=(taskset -c 1) PIN_NOTE=", publisher and client pinned to different vCPUs"
fi

# one row: SIZE MESSAGES DEPTH (the messages fit the window: 16,384 packets)
row() {
    local size=$1 n=$2 depth=$3 pp
    P=$((P + 4))
    "${SPIN[@]}" "$PEER" seqcast send --group 239.192.9.3:$P --size "$size" --count "$n" --linger 60 \
        --set protocol=moldudp64 --set mold.session=BENCHRR --set rtx.budget=4000000000 \
        --set rtx.rate=0 --set window.time=1min >"$tmp/pub.json" 2>"$tmp/pub.err" &
    pp=$!
    "${CPIN[@]}" "$ROOT/$BUILD/bench/rereq" --server 127.0.0.1:$P --session BENCHRR --msgs "$n" \
        --count 1000 --depth "$depth" --seconds "$SECS" >"$tmp/c.json" 2>"$tmp/c.err" ||
        { rc=1; echo "rereq: $size B, depth $depth: $(cat "$tmp/c.err") $(cat "$tmp/c.json")" >&2; }
    kill -TERM "$pp" 2>/dev/null
    wait "$pp"
    grep '^{' "$tmp/c.json" | tail -1 | sed "s/}\$/, \"system\": \"seqcast-mold\", \"size\": $size, \"transport\": \"udp-loopback\", \"srv_requests\": $(jget "$tmp/pub.json" mold_requests), \"srv_answered\": $(jget "$tmp/pub.json" mold_req_answered), \"srv_resp_msgs\": $(jget "$tmp/pub.json" mold_resp_msgs), \"srv_dropped\": $(jget "$tmp/pub.json" mold_req_dropped), \"srv_over_budget\": $(jget "$tmp/pub.json" mold_req_over_budget), \"srv_not_in_window\": $(jget "$tmp/pub.json" mold_not_in_window)}/" >>"$tmp/results"
}

for spec in 32:500000:1 32:500000:16 32:500000:256 288:60000:256; do
    IFS=: read -r size n depth <<<"$spec"
    row "$size" "$n" "$depth"
done

{
echo "One address asks, over loopback, for 1,000 messages a request (a response holds one packet's worth), $SECS s per row$PIN_NOTE; budgets and rate limit raised."
echo
echo "| message | messages held | requests in flight | responses/s | messages served/s | MB/s | messages per response | unanswered in 20 ms | server: requests read / answered / dropped (queue) |"
echo "|---|---|---|---|---|---|---|---|---|"
awk "$JAWK"'{ printf("| %s B | %s | %s | %s | %s | %s | %s | %s | %s / %s / %s |\n", j("size"), j("msgs"), j("depth"),
    j("responses_per_s"), j("msgs_per_s"), j("mb_per_s"), j("msgs_per_response"), j("timeouts"),
    j("srv_requests"), j("srv_answered"), j("srv_dropped")) }' "$tmp/results"
} | tee "$out/rereq-table.md"
{ echo "["; paste -sd, "$tmp/results"; echo "]"; } >"$out/rereq.json"
exit $rc
