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
# The subscriber (recovery.rewind, seqcast-sub --archive, --late-join archive):
#   5. a late joiner (--late-join archive) a second and a half into the data:
#      from message 1 by rewind, merged into the live stream; its output is
#      cmp-equal to what the publisher sent;
#   6. a subscriber losing 10 % of packets from a publisher whose window is 16
#      packets: every loss the publisher can no longer repair is fetched from
#      the archive -- no loss event, output cmp-equal; the control without
#      --archive loses messages (not_in_window);
#   7. a late joiner whose archive itself started late: 1..its first reported
#      lost as not_in_archive, everything after delivered;
#   8. late_join: archive on a PGM channel (framing: batched), cmp-equal.
# Failover between archives on different hosts: rewind_netns.sh.
set -u
. "$(dirname "$0")/../support/tap.sh" "seqcast-rewind" 9
P=$((26000 + $$ % 20000))
R1=$((P + 1)) R2=$((P + 2))
LIVE=(--set protocol=moldudp64 --group 239.198.18.81:$P --interface 127.0.0.1)

# archive NAME PORT [CHANNEL OPTIONS]: seqcast-archive recording into $tmp/NAME
# (the channel: LIVE) and serving rewinds on PORT, in the background ($!)
archive() {
    local n=$1 port=$2
    shift 2
    [ $# -gt 0 ] || set -- "${LIVE[@]}"
    "$B/seqcast-archive" --dir "$tmp/$n" "$@" --rewind 127.0.0.1:$port --timeout 30 --quiet \
        >"$tmp/$n.json" 2>"$tmp/$n.err" &
}
# show NAME...: after a failed check, the last words of those runs and the first one's summary
show() {
    { for n in "$@"; do tail -n 3 "$tmp/$n.err"; done; cat "$tmp/$1.json"; } | sed 's/^/# /'
}

# --- 1. 100,000 from 1, byte for byte
"$B/seqcast-pub" --count 100000 --size 40 --write "$tmp/sent.bin" >/dev/null 2>&1
archive a1 $R1
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
[ $r -eq 0 ] || show r1 a1

# --- 2. joined while live data flows
N=60000
archive a2 $R1
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
[ $r -eq 0 ] || show r2 a2

# --- 3. not_in_archive: the archive starts after the data did
"$B/seqcast-pub" "${LIVE[@]}" --count 40000 --rate 20000 --linger 0.5 >"$tmp/p3.json" 2>"$tmp/p3.err" &
pub=$!
sleep 0.7
archive a3 $R1
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
[ $r -eq 0 ] || show r3 a3

# --- 4. failover between two archives mid-rewind
N=80000
archive a4 $R1
arcA=$!
archive b4 $R2
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
[ $r -eq 0 ] || show r4 b4

# --- 5. late_join: archive, merged into the live stream
N=60000
"$B/seqcast-pub" --count $N --size 40 --write "$tmp/sent5.bin" >/dev/null 2>&1
archive a5 $R1
arc=$!
sleep 0.3
"$B/seqcast-pub" "${LIVE[@]}" --count $N --size 40 --rate 20000 --linger 0.5 >"$tmp/p5.json" 2>"$tmp/p5.err" &
pub=$!
sleep 1.5
timeout 25 "$B/seqcast-sub" "${LIVE[@]}" --archive 127.0.0.1:$R1 --late-join archive --count $N \
    --output "$tmp/got5.bin" --timeout 20 --quiet >"$tmp/s5.json" 2>"$tmp/s5.err"
rc=$?
wait $pub
kill $arc 2>/dev/null; wait $arc
[ $rc -eq 0 ] && cmp -s "$tmp/sent5.bin" "$tmp/got5.bin" && [ "$(field "$tmp/s5.json" msgs_rewind)" -gt 1000 ] &&
    [ "$(field "$tmp/s5.json" lost_messages)" = 0 ]; r=$?
check "late_join: archive 1.5 s into the data: $(field "$tmp/s5.json" received) of $N, $(field "$tmp/s5.json" msgs_rewind) by rewind, $(field "$tmp/s5.json" msgs_held) held then merged, the rest live; cmp-equal to what was sent (exit $rc)" $r
[ $r -eq 0 ] || show s5 a5

# --- 6. losses the publisher's window cannot repair, fetched from the archive
N=40000
"$B/seqcast-pub" --count $N --size 40 --write "$tmp/sent6.bin" >/dev/null 2>&1
archive a6 $R1
arc=$!
timeout 25 "$B/seqcast-sub" "${LIVE[@]}" --archive 127.0.0.1:$R1 --loss 10 --count $N \
    --output "$tmp/got6.bin" --timeout 20 --quiet >"$tmp/s6.json" 2>"$tmp/s6.err" &
sub=$!
timeout 25 "$B/seqcast-sub" "${LIVE[@]}" --loss 10 --count $N --timeout 8 --quiet \
    >"$tmp/c6.json" 2>"$tmp/c6.err" &
ctl=$!
sleep 0.5
"$B/seqcast-pub" "${LIVE[@]}" --set window.packets=16 --count $N --size 40 --rate 20000 --linger 1 \
    >"$tmp/p6.json" 2>"$tmp/p6.err"
wait $sub; rc=$?
wait $ctl
kill $arc 2>/dev/null; wait $arc
[ $rc -eq 0 ] && cmp -s "$tmp/sent6.bin" "$tmp/got6.bin" && [ "$(field "$tmp/s6.json" loss_events)" = 0 ] &&
    [ "$(field "$tmp/s6.json" recoveries)" -gt 0 ]; r=$?
check "10 % loss, the publisher's window 16 packets: $(field "$tmp/s6.json" recoveries) recoveries from the archive ($(field "$tmp/s6.json" msgs_rewind) messages by rewind), no loss event, output cmp-equal (exit $rc)" $r
[ $r -eq 0 ] || show s6 a6
[ "$(field "$tmp/c6.json" lost_messages)" -gt 0 ] && grep -q 'not_in_window' "$tmp/c6.json"; r=$?
check "the control without --archive: $(field "$tmp/c6.json" lost_messages) messages lost, not_in_window" $r

# --- 7. not_in_archive: the archive started after the data did
"$B/seqcast-pub" "${LIVE[@]}" --count 40000 --rate 20000 --linger 0.5 >"$tmp/p7.json" 2>"$tmp/p7.err" &
pub=$!
sleep 0.7
archive a7 $R1
arc=$!
sleep 0.5
timeout 25 "$B/seqcast-sub" "${LIVE[@]}" --archive 127.0.0.1:$R1 --late-join archive --count 40000 \
    --verify --timeout 8 >"$tmp/s7.json" 2>"$tmp/s7.err"
rc=$?
wait $pub
kill $arc 2>/dev/null; wait $arc
afirst=$(field "$tmp/a7.json" first_seq)
lost=$(field "$tmp/s7.json" lost_messages)
[ -n "$afirst" ] && [ "$afirst" -gt 1 ] && [ "$lost" = $((afirst - 1)) ] &&
    grep -q '"first": 1, "last": '$((afirst - 1))', "reason": "not_in_archive"' "$tmp/s7.json" &&
    [ "$(field "$tmp/s7.json" received)" = $((40000 - afirst + 1)) ] && [ "$(field "$tmp/s7.json" verify_errors)" = 0 ]; r=$?
check "an archive holding from $afirst: 1-$((${afirst:-1} - 1)) reported not_in_archive, $(field "$tmp/s7.json" received) after it delivered and verified (exit $rc)" $r
[ $r -eq 0 ] || show s7 a7

# --- 8. a PGM channel (framing: batched)
N=60000
PGM=(--group 239.198.18.81:$((P + 3)) --interface 127.0.0.1)
archive a8 $R2 "${PGM[@]}"
arc=$!
sleep 0.3
"$B/seqcast-pub" "${PGM[@]}" --count $N --size 40 --rate 20000 --linger 0.5 >"$tmp/p8.json" 2>"$tmp/p8.err" &
pub=$!
sleep 1.5
timeout 25 "$B/seqcast-sub" "${PGM[@]}" --archive 127.0.0.1:$R2 --late-join archive --count $N \
    --output "$tmp/got8.bin" --timeout 20 --quiet >"$tmp/s8.json" 2>"$tmp/s8.err"
rc=$?
wait $pub
kill $arc 2>/dev/null; wait $arc
[ $rc -eq 0 ] && cmp -s "$tmp/sent5.bin" "$tmp/got8.bin" && [ "$(field "$tmp/s8.json" msgs_rewind)" -gt 1000 ]; r=$?
check "PGM batched, late_join: archive: $(field "$tmp/s8.json" received) of $N, $(field "$tmp/s8.json" msgs_rewind) by rewind, cmp-equal (exit $rc)" $r
[ $r -eq 0 ] || show s8 a8
