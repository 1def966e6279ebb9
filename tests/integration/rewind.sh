#!/usr/bin/env bash
# Rewinds from seqcast-archive --rewind (SoupBinTCP 4.0 on loopback TCP), read
# with seqcast-rewind (MoldUDP64 channel):
#   1. 100,000 messages archived; a rewind from 1 to 100,000 is byte for byte
#      what seqcast-pub sent (cmp);
#   2. a rewind joined while the publisher still sends: history, then live
#      messages as the archive records them, to the last -- every sequence once,
#      in order, verified (no gap, no duplicate at the seam);
#   3. a range the archive lacks (it joined after message 1) is reported as
#      not_in_archive (exit 1), and what it holds is delivered after it;
#   4. failover: two archives record the same live channel; the one a rewind
#      reads from is kill -9ed mid-rewind; the rewind carries on from the other
#      with nothing lost or repeated.
set -u
. "$(dirname "$0")/../support/tap.sh" "seqcast-rewind" 4
P=$((26000 + $$ % 20000))
R1=$((P + 1)) R2=$((P + 2))
LIVE=(--set protocol=moldudp64 --group 239.198.18.81:$P --interface 127.0.0.1)

# --- 1. 100,000 from 1, byte for byte
"$B/seqcast-pub" --count 100000 --size 40 --write "$tmp/sent.bin" >/dev/null 2>&1
"$B/seqcast-archive" --dir "$tmp/a1" "${LIVE[@]}" --rewind 127.0.0.1:$R1 --timeout 30 --quiet \
    >"$tmp/a1.json" 2>"$tmp/a1.err" &
arc=$!
sleep 0.3
"$B/seqcast-pub" "${LIVE[@]}" --count 100000 --size 40 --rate 200000 --linger 0.5 \
    >"$tmp/p1.json" 2>"$tmp/p1.err"
timeout 20 "$B/seqcast-rewind" --server 127.0.0.1:$R1 --from 1 --until 100000 \
    --output "$tmp/got.bin" --timeout 15 >"$tmp/r1.json" 2>"$tmp/r1.err"
rc=$?
kill $arc 2>/dev/null; wait $arc
[ $rc -eq 0 ] && cmp -s "$tmp/sent.bin" "$tmp/got.bin" && [ "$(field "$tmp/r1.json" msgs)" = 100000 ]; r=$?
check "a rewind from 1 of 100,000: $(field "$tmp/r1.json" msgs) messages, cmp-equal to what seqcast-pub sent (exit $rc)" $r
[ $r -eq 0 ] || { tail -3 "$tmp/r1.err" "$tmp/a1.err"; cat "$tmp/r1.json"; } | sed 's/^/# /'

# --- 2. joined while live data flows
N=60000
"$B/seqcast-archive" --dir "$tmp/a2" "${LIVE[@]}" --rewind 127.0.0.1:$R1 --timeout 30 --quiet \
    >"$tmp/a2.json" 2>"$tmp/a2.err" &
arc=$!
sleep 0.3
"$B/seqcast-pub" "${LIVE[@]}" --count $N --rate 20000 --linger 0.5 >"$tmp/p2.json" 2>"$tmp/p2.err" &
pub=$!
sleep 1
timeout 20 "$B/seqcast-rewind" --server 127.0.0.1:$R1 --from 1 --until $N --verify --timeout 15 \
    >"$tmp/r2.json" 2>"$tmp/r2.err"
rc=$?
wait $pub
kill $arc 2>/dev/null; wait $arc
[ $rc -eq 0 ] && [ "$(field "$tmp/r2.json" msgs)" = $N ] && [ "$(field "$tmp/r2.json" out_of_order)" = 0 ] &&
    [ "$(field "$tmp/r2.json" duplicates)" = 0 ] && [ "$(field "$tmp/r2.json" verify_errors)" = 0 ]; r=$?
check "a rewind joined a second into 3 s of live data: $(field "$tmp/r2.json" msgs) of $N, each once, in order, verified (exit $rc)" $r
[ $r -eq 0 ] || { tail -3 "$tmp/r2.err" "$tmp/a2.err"; cat "$tmp/r2.json"; } | sed 's/^/# /'

# --- 3. not_in_archive: the archive starts after the data did
"$B/seqcast-pub" "${LIVE[@]}" --count 40000 --rate 20000 --linger 0.5 >"$tmp/p3.json" 2>"$tmp/p3.err" &
pub=$!
sleep 0.7
"$B/seqcast-archive" --dir "$tmp/a3" "${LIVE[@]}" --rewind 127.0.0.1:$R1 --timeout 30 --quiet \
    >"$tmp/a3.json" 2>"$tmp/a3.err" &
arc=$!
wait $pub
sleep 0.3
timeout 20 "$B/seqcast-rewind" --server 127.0.0.1:$R1 --from 1 --until 40000 --verify --timeout 10 \
    >"$tmp/r3.json" 2>"$tmp/r3.err"
rc=$?
kill $arc 2>/dev/null; wait $arc
first=$(grep -o '"not_in_archive": \[{"first": [0-9]*, "last": [0-9]*' "$tmp/r3.json" | grep -o '[0-9]*' | head -1)
last=$(grep -o '"not_in_archive": \[{"first": [0-9]*, "last": [0-9]*' "$tmp/r3.json" | grep -o '[0-9]*' | tail -1)
[ $rc -eq 1 ] && [ "$first" = 1 ] && [ -n "$last" ] && [ "$last" -gt 1 ] &&
    [ "$(field "$tmp/r3.json" msgs)" = $((40000 - last)) ] && [ "$(field "$tmp/r3.json" verify_errors)" = 0 ] &&
    grep -q "not_in_archive" "$tmp/r3.err"; r=$?
check "an archive that joined late: 1-${last:-?} reported not_in_archive, the $(field "$tmp/r3.json" msgs) after it delivered (exit $rc)" $r
[ $r -eq 0 ] || { tail -3 "$tmp/r3.err" "$tmp/a3.err"; cat "$tmp/r3.json"; } | sed 's/^/# /'

# --- 4. failover between two archives mid-rewind
N=80000
"$B/seqcast-archive" --dir "$tmp/a4" "${LIVE[@]}" --rewind 127.0.0.1:$R1 --timeout 30 --quiet \
    >"$tmp/a4.json" 2>"$tmp/a4.err" &
arcA=$!
"$B/seqcast-archive" --dir "$tmp/b4" "${LIVE[@]}" --rewind 127.0.0.1:$R2 --timeout 30 --quiet \
    >"$tmp/b4.json" 2>"$tmp/b4.err" &
arcB=$!
sleep 0.3
"$B/seqcast-pub" "${LIVE[@]}" --count $N --rate 20000 --linger 0.5 >"$tmp/p4.json" 2>"$tmp/p4.err" &
pub=$!
sleep 0.5
timeout 25 "$B/seqcast-rewind" --server 127.0.0.1:$R1,127.0.0.1:$R2 --from 1 --until $N --verify \
    --timeout 20 >"$tmp/r4.json" 2>"$tmp/r4.err" &
rew=$!
sleep 1.5
kill -9 $arcA; wait $arcA 2>/dev/null
wait $rew; rc=$?
wait $pub
kill $arcB 2>/dev/null; wait $arcB
[ $rc -eq 0 ] && [ "$(field "$tmp/r4.json" msgs)" = $N ] && [ "$(field "$tmp/r4.json" out_of_order)" = 0 ] &&
    [ "$(field "$tmp/r4.json" verify_errors)" = 0 ] && [ "$(field "$tmp/r4.json" failovers)" -ge 1 ]; r=$?
check "failover: the archive being read kill -9ed mid-rewind; $(field "$tmp/r4.json" msgs) of $N from the two, each once, in order, verified ($(field "$tmp/r4.json" failovers) failovers, exit $rc)" $r
[ $r -eq 0 ] || { tail -3 "$tmp/r4.err" "$tmp/b4.err"; cat "$tmp/r4.json"; } | sed 's/^/# /'
