#!/usr/bin/env bash
# make bench, order-session section: order -> acknowledgement round trip (one in
# flight), seqcast-order against seqcast-orderd over TCP loopback and over a Unix
# socket, beside a plain TCP ping-pong of the same 32-byte size, in one run; all
# blocking (each side sleeps until the other's message arrives). Three
# interleaved repetitions; each row shows the one with the median p50.
# The journal is in memory (fsync: none): this measures the protocol, not the disk.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/$BUILD/bin
out=$ROOT/$BUILD/bench
N=${BENCH_ORDERS:-30000}
REPS=${BENCH_ORDER_REPS:-3}
tmp=$(mktemp -d /tmp/seqcast-bench-order-XXXXXX)
trap 'jobs -p | xargs -r kill 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir -p "$out"
PORT=$((30000 + $$ % 10000))
rc=0
# client and server on different vCPUs (as a gateway on another host would be):
# left to the scheduler, the ping-pong sometimes shared one vCPU (16 µs instead
# of 25) while the gateway did not, and the ratio was a draw between placements
CPIN=() SPIN=() PIN_NOTE=""
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    CPIN=(taskset -c 0) SPIN=(taskset -c 1) PIN_NOTE=" Client and server are pinned to different vCPUs."
fi
pct() { grep -o "\"$2\": [0-9.]*" "$1" | head -1 | awk '{print $2}'; }
# the run with the median p50 of NAME's repetitions
median() {
    for f in "$tmp/$1".*.json; do echo "$(pct "$f" p50) $f"; done | sort -n |
        awk '{ a[NR] = $2 } END { if (NR) print a[int((NR + 1) / 2)] }'
}
row() { # label json system transport
    printf '| %s | %s | %s | %s | %s |\n' "$1" "$(pct "$2" p50)" "$(pct "$2" p99)" "$(pct "$2" p999)" "$(pct "$2" max)"
    printf '{"system": "%s", "transport": "%s", "size": 32, "test": "rtt", "p50_us": %s, "p99_us": %s, "p999_us": %s, "max_us": %s, "lost": 0, "duplicates": 0}\n' \
        "$3" "$4" "$(pct "$2" p50)" "$(pct "$2" p99)" "$(pct "$2" p999)" "$(pct "$2" max)" >>"$tmp/results"
}
: >"$tmp/results"
for rep in $(seq 1 "$REPS"); do
    PORT=$((PORT + 3))
    "${SPIN[@]}" "$ROOT/$BUILD/bench/pingpong" server "tcp:127.0.0.1:$PORT" 32 &
    s=$!
    sleep 0.2
    "${CPIN[@]}" "$ROOT/$BUILD/bench/pingpong" client "tcp:127.0.0.1:$PORT" 32 "$N" >"$tmp/pp.$rep.json"
    kill $s 2>/dev/null; wait $s 2>/dev/null
    for ep in "tcp:127.0.0.1:$((PORT + 1))" "unix:$tmp/o$rep.sock"; do
        name=${ep%%:*}
        printf 'sessions:\n  - name: gw1\n    session_id: GW1\n    listen: %s\n    connect: %s\n    users: [ { name: DESK1, password: pw1 } ]\n    login: { user: DESK1, password: pw1 }\n    fsync: none\n' "$ep" "$ep" >"$tmp/$name.yaml"
        "${SPIN[@]}" "$B/seqcast-orderd" --config "$tmp/$name.yaml" >/dev/null 2>&1 &
        d=$!
        sleep 0.3
        if ! "${CPIN[@]}" "$B/seqcast-order" --config "$tmp/$name.yaml" --count "$N" >"$tmp/$name.$rep.json" ||
            ! grep -q '"complete": true' "$tmp/$name.$rep.json"; then
            rc=1
            echo "order: seqcast-order over $name did not get every acknowledgement exactly once" >&2
        fi
        kill -INT "$d"; wait "$d" 2>/dev/null
    done
done
{
    echo "| round trip, 32 B, one in flight, blocking | p50 µs | p99 µs | p99.9 µs | max µs |"
    echo "|---|---|---|---|---|"
    row "plain TCP ping-pong (the floor)" "$(median pp)" plain-tcp tcp
    row "seqcast order → ack, TCP loopback" "$(median tcp)" seqcast tcp
    row "seqcast order → ack, Unix socket" "$(median unix)" seqcast unix
} | tee "$out/order-table.md"
awk -v a="$(pct "$(median tcp)" p50)" -v b="$(pct "$(median pp)" p50)" \
    'BEGIN{r = a / b; printf "\n* order p50 = %.2f × plain TCP ping-pong p50 (target ≤ 1.2: %s)\n", r, r <= 1.2 ? "holds" : "does not hold"}' | tee -a "$out/order-table.md"
[ -n "$PIN_NOTE" ] && echo "*${PIN_NOTE# }*" | tee -a "$out/order-table.md"
{ echo "["; paste -sd, "$tmp/results"; echo "]"; } >"$out/order.json"
exit $rc
