#!/usr/bin/env bash
# Order sessions, real processes on loopback (TCP) with a journal on disk:
#  1. kill -9 of the gateway in the middle of 100,000 orders, restart: the client
#     resumes; every acknowledgement arrives exactly once, in order, none lost.
#  2. the same for the client: a new client resumes from sequence 1 and finishes.
#  3. a stopped client (SIGSTOP) is declared dead within its timeout +-10 %.
#  4. a capture of a session dissects in tshark as SoupBinTCP, with no malformed frames.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$ROOT/$BUILD/bin
tmp=$(mktemp -d /tmp/seqcast-order-XXXXXX)
trap 'jobs -p | xargs -r kill -9 2>/dev/null; rm -rf "$tmp"' EXIT
PORT=$((20000 + $$ % 20000))
N=100000
echo "TAP version 13"
echo "1..8"
n=0
check() { n=$((n + 1)); if [ "$2" -eq 0 ]; then echo "ok $n - $1"; else echo "not ok $n - $1"; fi; }
field() { grep -o "\"$2\": [0-9a-z.]*" "$1" | tail -1 | awk '{print $2}'; }
cfg() { # journal path -> a deployment
    cat <<EOC
sessions:
  - name: gw1
    session_id: GW1
    listen: tcp:127.0.0.1:$PORT
    connect: tcp:127.0.0.1:$PORT
    heartbeat: 200ms
    timeout: 2s
    reconnect: { min: 50ms, max: 500ms }
    users: [ { name: DESK1, password: pw1 } ]
    login: { user: DESK1, password: pw1 }
    journal: $1
    fsync: batch
EOC
}

# --- 1. kill -9 the gateway mid-stream
cfg "$tmp/j1.bin" >"$tmp/o1.yaml"
"$B/seqcast-orderd" --config "$tmp/o1.yaml" >"$tmp/d1a.json" 2>"$tmp/d1a.err" &
d=$!
sleep 0.3
"$B/seqcast-order" --config "$tmp/o1.yaml" --count $N --rate 50000 --timeout 60 >"$tmp/c1.json" 2>"$tmp/c1.err" &
c=$!
sleep 0.8
kill -9 "$d"; wait "$d" 2>/dev/null
sleep 0.3
"$B/seqcast-orderd" --config "$tmp/o1.yaml" >"$tmp/d1b.json" 2>"$tmp/d1b.err" &
d=$!
wait "$c"; rc=$?
kill -INT "$d"; wait "$d"
[ "$rc" -eq 0 ] && [ "$(field "$tmp/c1.json" acknowledged)" = $N ] && [ "$(field "$tmp/c1.json" duplicate_acks)" = 0 ] && [ "$(field "$tmp/c1.json" out_of_order)" = 0 ]; r=$?
check "gateway killed (-9) and restarted mid-stream: $(field "$tmp/c1.json" acknowledged) of $N orders acknowledged exactly once, in order ($(field "$tmp/c1.json" reconnects) reconnects, $(field "$tmp/c1.json" resent) resent)" $r
[ "$(field "$tmp/d1b.json" journal_msgs)" = $N ] && [ "$(field "$tmp/c1.json" reconnects)" -ge 1 ]; r=$?
check "  the journal holds exactly $N acknowledgements after the crash (recovered: $(grep -o 'journal .*' "$tmp/d1b.err" | head -1); torn bytes cut: $(field "$tmp/d1b.json" journal_torn_bytes))" $r

# --- 2. kill -9 the client mid-stream, start a new one
cfg "$tmp/j2.bin" >"$tmp/o2.yaml"
"$B/seqcast-orderd" --config "$tmp/o2.yaml" >"$tmp/d2.json" 2>"$tmp/d2.err" &
d=$!
sleep 0.3
"$B/seqcast-order" --config "$tmp/o2.yaml" --count $N --rate 50000 --timeout 60 >"$tmp/c2a.json" 2>"$tmp/c2a.err" &
c=$!
sleep 0.8
kill -9 "$c"; wait "$c" 2>/dev/null
"$B/seqcast-order" --config "$tmp/o2.yaml" --count $N --rate 50000 --timeout 60 >"$tmp/c2b.json" 2>"$tmp/c2b.err"
rc=$?
kill -INT "$d"; wait "$d"
[ "$rc" -eq 0 ] && [ "$(field "$tmp/c2b.json" acknowledged)" = $N ] && [ "$(field "$tmp/c2b.json" duplicate_acks)" = 0 ]; r=$?
check "client killed (-9), a new one resumes: $(field "$tmp/c2b.json" acknowledged) of $N acknowledged exactly once ($(field "$tmp/c2b.json" resent) resent after catching up)" $r
[ "$(field "$tmp/d2.json" journal_msgs)" = $N ] && [ "$(field "$tmp/d2.json" acks)" = $N ]; r=$?
check "  the gateway acknowledged each order once: $(field "$tmp/d2.json" acks) acks, $(field "$tmp/d2.json" duplicate_orders) resent orders recognised" $r

# --- 3. a stopped client is declared dead within timeout (2 s) +- 10 %
cfg "$tmp/j3.bin" >"$tmp/o3.yaml"
"$B/seqcast-orderd" --config "$tmp/o3.yaml" >"$tmp/d3.json" 2>"$tmp/d3.err" &
d=$!
sleep 0.3
"$B/seqcast-order" --config "$tmp/o3.yaml" --count 1000000 --rate 10 --timeout 60 >/dev/null 2>&1 &
c=$!
sleep 1
t_stop=$(date +%s.%N)
kill -STOP "$c"
sleep 3
kill -CONT "$c"; kill -9 "$c" 2>/dev/null
kill -INT "$d"; wait "$d"
t_dead=$(grep -o '^seqcast-orderd: [0-9.]* session gw1: 1 connection' "$tmp/d3.err" | head -1 | awk '{print $2}')
dt=$(awk -v a="$t_stop" -v b="${t_dead:-0}" 'BEGIN{printf "%.3f", b - a}')
awk -v d="$dt" 'BEGIN{exit !(d >= 1.8 && d <= 2.2)}'; r=$?
check "SIGSTOPped client declared dead after ${dt} s of silence (timeout 2 s, +-10 %)" $r
[ "$(field "$tmp/d3.json" heartbeats)" -gt 0 ]; r=$?
check "  heartbeats flowed while it was alive ($(field "$tmp/d3.json" heartbeats) from the gateway)" $r

# --- many sessions at once: one gateway, two sessions, two clients concurrently
cat >"$tmp/o5.yaml" <<EOC
sessions:
  - name: gwA
    listen: tcp:127.0.0.1:$((PORT + 1))
    connect: tcp:127.0.0.1:$((PORT + 1))
    users: [ { name: DESKA, password: pa } ]
    login: { user: DESKA, password: pa }
    journal: $tmp/ja.bin
  - name: gwB
    listen: unix:$tmp/b.sock
    connect: unix:$tmp/b.sock
    users: [ { name: DESKB, password: pb } ]
    login: { user: DESKB, password: pb }
    journal: $tmp/jb.bin
EOC
"$B/seqcast-orderd" --config "$tmp/o5.yaml" >"$tmp/d5.json" 2>"$tmp/d5.err" &
d=$!
sleep 0.3
"$B/seqcast-order" --config "$tmp/o5.yaml" --session gwA --count 20000 --rate 20000 >"$tmp/c5a.json" 2>/dev/null &
ca=$!
"$B/seqcast-order" --config "$tmp/o5.yaml" --session gwB --count 20000 --rate 20000 >"$tmp/c5b.json" 2>/dev/null
rb=$?
wait "$ca"; ra=$?
kill -INT "$d"; wait "$d"
[ "$ra" -eq 0 ] && [ "$rb" -eq 0 ] && [ "$(grep -c '"acks": 20000' "$tmp/d5.json")" -eq 2 ]; r=$?
check "one gateway, two sessions (TCP and Unix socket) at once: $(field "$tmp/c5a.json" acknowledged) + $(field "$tmp/c5b.json" acknowledged) orders acknowledged, each session journaled apart" $r

# --- 4. tshark sees well-formed SoupBinTCP
if [ "$(id -u)" -ne 0 ]; then
    n=$((n + 1)); echo "ok $n - capture check # SKIP needs root (tcpdump captures on lo)"
elif command -v tshark >/dev/null && command -v tcpdump >/dev/null; then
    cfg "" >"$tmp/o4.yaml"
    tcpdump -i lo -w "$tmp/soup.pcap" -U "tcp port $PORT" 2>/dev/null &
    t=$!
    sleep 0.5
    "$B/seqcast-orderd" --config "$tmp/o4.yaml" >/dev/null 2>&1 &
    d=$!
    sleep 0.3
    "$B/seqcast-order" --config "$tmp/o4.yaml" --count 100 >/dev/null 2>&1
    sleep 0.3
    kill -INT "$d"; wait "$d"; kill "$t"; wait "$t" 2>/dev/null
    total=$(tshark -r "$tmp/soup.pcap" -d tcp.port==$PORT,soupbintcp -Y soupbintcp 2>/dev/null | wc -l)
    bad=$(tshark -r "$tmp/soup.pcap" -d tcp.port==$PORT,soupbintcp -Y '_ws.malformed or _ws.expert.severity >= "Warning"' 2>/dev/null | wc -l)
    [ "$total" -gt 10 ] && [ "$bad" -eq 0 ]; r=$?
    check "a captured session: $total frames dissect as SoupBinTCP, $bad malformed or with warnings" $r
else
    n=$((n + 1)); echo "ok $n - capture check # SKIP tshark or tcpdump not installed"
fi
for f in "$tmp"/*.err; do sed "s|^|# $(basename "$f"): |" "$f" | head -3; done
exit 0
