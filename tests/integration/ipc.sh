#!/usr/bin/env bash
# transport: ipc with real processes: seqcast-pub writes a channel's log in a
# shared memory-mapped file, seqcast-sub processes read it.
#   1. 4 readers, 100,000,000 messages of mixed sizes (8-64 bytes, every
#      thousandth 3000), each verified byte for byte (seqcast-sub --verify:
#      the bytes are a function of the number), in order, none lost
#      (ipc.backpressure: block, --wait-readers 4)
#   2. a reader kill -9'd mid-stream holds a blocked writer only until the
#      writer finds its process gone; restarted with late_join: live it joins
#      at the live edge; the other readers get everything
#   3. writer kill -9: readers report SOURCE_DOWN (timeout) within
#      source_timeout; a restarted writer is a new source
#   4. a reader stopped (SIGSTOP) while the writer laps it: a not_in_window
#      loss under drop; under block no loss and the writer's stall counted
#   5. damaged, truncated, wrong-version files refused with a clear error;
#      damage mid-stream ends the reading of that log, no crash
#   6. a non-root reader without read permission: a clear error (user sctest)
#   7. seqcast-sub --republish ipc:NAME: a network channel (PGM over loopback
#      multicast) fanned out to two local readers, every message verified
#   8. seqcast-feedhandler --publish ipc:NAME: every BBO change and trade as a
#      <seqcast/mdrec.h> record, the same as its JSON lines say
#   9. a loss on the network that cannot be repaired (PGM, the publisher's
#      window 16 packets, 10 % dropped at the bridge) reaches the local reader
#      as its own loss events: the same reasons and ranges as the bridge's, and
#      the same network source named for each
set -u
. "$(dirname "$0")/../support/tap.sh" "ipc channel" 22
chmod 0711 "$tmp"
for d in 1 2 3 drop block 5 6 7 8 9 10; do mkdir -p "$tmp/shm$d" && chmod 0755 "$tmp/shm$d"; done
IPC="--set transport=ipc"
N=${IPC_MESSAGES:-100000000}

show() { for f in "$@"; do sed "s/^/  # $(basename "$f"): /" "$f" | head -4; done; }
ok_sub() { # FILE.json RECEIVED: complete, RECEIVED messages, no verify error
    [ "$(field_first "$1" complete)" = true ] && [ "$(field_first "$1" received)" = "$2" ] &&
        [ "$(field_first "$1" verify_errors)" = 0 ] && [ "$(field_first "$1" lost_messages)" = 0 ]
}
wait_for() { # FILE PATTERN SECONDS
    local k
    for k in $(seq 1 $(($3 * 20))); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# ---------------------------------------------------------------- 1. 4 x N
S1="$IPC --set ipc.dir=$tmp/shm1 --set ipc.backpressure=block --set late_join=window"
for i in 1 2 3 4; do
    timeout 120 "$B/seqcast-sub" $S1 --verify --quiet >"$tmp/r$i.json" 2>"$tmp/r$i.err" &
    eval "r$i=\$!"
done
t0=$(date +%s%N)
timeout 120 "$B/seqcast-pub" $S1 --count "$N" --linger 0 --wait-readers 4 >"$tmp/p1.json" \
    2>"$tmp/p1.err"
prc=$?
for i in 1 2 3 4; do
    eval "wait \$r$i"
    rc=$?
    ok_sub "$tmp/r$i.json" "$N" && [ $rc -eq 0 ]
    r=$?
    check "reader $i of 4: all $N messages, verified, in order, none lost (status $rc, $(field_first "$tmp/r$i.json" msgs_per_s) msg/s)" $r
done
ms=$((($(date +%s%N) - t0) / 1000000))
[ $prc -eq 0 ] && [ "$(field_first "$tmp/p1.json" msgs_sent)" = "$N" ]
r=$?
check "the writer sent $N in $ms ms (status $prc, blocked $(field_first "$tmp/p1.json" ipc_blocked) times)" $r
[ $prc -eq 0 ] || show "$tmp/p1.err" "$tmp/r1.err"

# ------------------------------------------- 2. a reader kill -9'd, restarted
S2="$IPC --set ipc.dir=$tmp/shm2 --set ipc.backpressure=block --set ipc.size=1MiB --set late_join=window"
M=300000
for i in 1 2 3; do
    "$B/seqcast-sub" $S2 --verify --quiet --timeout 60 >"$tmp/k$i.json" 2>"$tmp/k$i.err" &
    eval "k$i=\$!"
done
timeout 60 "$B/seqcast-pub" $S2 --count $M --rate 100000 --linger 0 --wait-readers 3 \
    >"$tmp/p2.json" 2>"$tmp/p2.err" &
p2=$!
sleep 1
kill -9 "$k3"
{ wait "$k3"; } 2>/dev/null
sleep 0.5
timeout 60 "$B/seqcast-sub" $S2 --set late_join=live --verify >"$tmp/k3b.json" 2>"$tmp/k3b.err" &
k3b=$!
wait $p2
prc=$?
wait "$k1"; rc1=$?
wait "$k2"; rc2=$?
wait $k3b; rc3=$?
ok_sub "$tmp/k1.json" $M && ok_sub "$tmp/k2.json" $M && [ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && [ $prc -eq 0 ] &&
    [ "$(field_first "$tmp/p2.json" ipc_readers_reaped)" -ge 1 ]
r=$?
check "reader kill -9'd: the writer released its slot ($(field_first "$tmp/p2.json" ipc_readers_reaped) reaped) and the other two got all $M" $r
first=$(grep -o 'joined live, first packet [0-9]*' "$tmp/k3b.err" | awk '{print $NF}')
[ -n "$first" ] && [ "$first" -gt 1 ] && ok_sub "$tmp/k3b.json" $((M - first + 1)) && [ $rc3 -eq 0 ]
r=$?
check "restarted (late_join: live): joined at the live edge, message ${first:-?}, and got the $((M - ${first:-1} + 1)) after it" $r
[ $r -eq 0 ] || show "$tmp/k3b.err" "$tmp/p2.err"

# ---------------------------------------------------------- 3. writer kill -9
S3="$IPC --set ipc.dir=$tmp/shm3 --set spm.ambient=500ms --set source_timeout=1s --set late_join=window"
for i in 1 2; do
    timeout 60 "$B/seqcast-sub" $S3 --verify >"$tmp/w$i.json" 2>"$tmp/w$i.err" &
    eval "w$i=\$!"
done
"$B/seqcast-pub" $S3 --count 100000000 --rate 20000 >"$tmp/p3.json" 2>/dev/null &
p3=$!
wait_for "$tmp/w1.err" " up " 5 && wait_for "$tmp/w2.err" " up " 5
sleep 0.5
kill -9 $p3
{ wait $p3; } 2>/dev/null
t0=$(date +%s%N)
wait_for "$tmp/w1.err" "down (timeout)" 5 && wait_for "$tmp/w2.err" "down (timeout)" 5
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
[ $rc -eq 0 ] && [ $ms -le 1600 ]
r=$?
check "writer kill -9: both readers report SOURCE_DOWN (timeout) after $ms ms (source_timeout 1 s)" $r
old=$(grep -o 'source [0-9a-f.]* up' "$tmp/w1.err" | head -1 | awk '{print $2}')
timeout 60 "$B/seqcast-pub" $S3 --count 1000 --linger 0 >"$tmp/p3b.json" 2>"$tmp/p3b.err"
wait "$w1"; rc1=$?
wait "$w2"; rc2=$?
new=$(grep -o 'source [0-9a-f.]* up' "$tmp/w1.err" | tail -1 | awk '{print $2}')
[ -n "$new" ] && [ "$new" != "$old" ] && grep -q "$new up (from its start" "$tmp/w1.err" &&
    grep -q "down (end of session)" "$tmp/w2.err" && [ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] &&
    [ "$(field_first "$tmp/w1.json" verify_errors)" = 0 ]
r=$?
check "the restarted writer is a new source ($old -> $new), read from its start to its end" $r
[ $r -eq 0 ] || show "$tmp/w1.err" "$tmp/w2.err"

# ------------------------------------------------ 4. a slow reader: drop, block
for bp in drop block; do
    S4="$IPC --set ipc.dir=$tmp/shm$bp --set ipc.size=1MiB --set ipc.backpressure=$bp --set late_join=window"
    "$B/seqcast-sub" $S4 --verify --timeout 60 >"$tmp/$bp.json" 2>"$tmp/$bp.err" &
    sr=$!
    timeout 60 "$B/seqcast-pub" $S4 --count 200000 --rate 200000 --linger 0 \
        --wait-readers $([ $bp = block ] && echo 1 || echo 0) >"$tmp/p$bp.json" 2>"$tmp/p$bp.err" &
    pp=$!
    sleep 0.3
    kill -STOP $sr # the reader sleeps for a second
    sleep 1
    kill -CONT $sr
    wait $pp
    prc=$?
    wait $sr
    src=$?
    if [ $bp = drop ]; then
        grep -q '"reason": "not_in_window"' "$tmp/drop.json" && [ $src -eq 1 ] &&
            [ "$(field_first "$tmp/drop.json" ipc_lapped)" -ge 1 ] && [ $prc -eq 0 ] &&
            [ "$(field_first "$tmp/drop.json" verify_errors)" = 0 ] &&
            [ $(($(field_first "$tmp/drop.json" received) + $(field_first "$tmp/drop.json" lost_messages))) -eq 200000 ]
        r=$?
        check "drop: the stopped reader gets a typed loss (not_in_window, $(field_first "$tmp/drop.json" lost_messages) messages) and the rest, verified" $r
    else
        stall=$(field_first "$tmp/pblock.json" ipc_stall)
        ok_sub "$tmp/block.json" 200000 && [ $src -eq 0 ] && [ $prc -eq 0 ] &&
            [ "$(field_first "$tmp/pblock.json" ipc_blocked)" -ge 1 ] && [ "${stall:-0}" -ge 500000000 ]
        r=$?
        check "block: the stopped reader loses nothing; the writer's stall is counted ($((${stall:-0} / 1000000)) ms)" $r
    fi
    [ $r -eq 0 ] || show "$tmp/$bp.err" "$tmp/p$bp.err"
done

# ------------------------------------------------- 5. files that are not right
S5="$IPC --set ipc.dir=$tmp/shm5 --set late_join=window"
"$B/seqcast-pub" $S5 --count 100 --size 100 --linger 0 >/dev/null 2>&1
LOG=$tmp/shm5/seqcast.default
cp "$LOG" "$tmp/good"
refuse() { # DESCRIPTION PATTERN: seqcast-sub refuses $LOG, saying PATTERN
    timeout 10 "$B/seqcast-sub" $S5 --timeout 1 >"$tmp/f.json" 2>"$tmp/f.err"
    local rc=$?
    grep -q "$2" "$tmp/f.err" && grep -q "$LOG" "$tmp/f.err" && [ $rc -eq 1 ]
    r=$?
    check "$1: refused, status $rc: $(head -1 "$tmp/f.err" | cut -c1-150)" $r
}
printf '\x02' | dd of="$LOG" bs=1 seek=8 conv=notrunc status=none
refuse "a log of format version 2" "version 2, this build reads version 3"
cp "$tmp/good" "$LOG"
truncate -s 5000 "$LOG"
refuse "a truncated log" "truncated: 5000 bytes"
cp "$tmp/good" "$LOG"
printf 'JUNK' | dd of="$LOG" bs=1 seek=0 conv=notrunc status=none
refuse "a file that is not a log" "not a seqcast IPC log"
cp "$tmp/good" "$LOG"
printf '\xff\xff' | dd of="$LOG" bs=1 seek=$((4096 + 3 * 128 + 2)) conv=notrunc status=none
timeout 10 "$B/seqcast-sub" $S5 --timeout 1 >"$tmp/f.json" 2>"$tmp/f.err"
rc=$?
grep -q "down (its log fails its checks" "$tmp/f.err" && [ "$(field_first "$tmp/f.json" received)" = 3 ] &&
    [ "$(field_first "$tmp/f.json" ipc_bad_logs)" = 1 ] && [ $rc -eq 1 ]
r=$?
check "a record damaged mid-log: the 3 before it delivered, then SOURCE_DOWN (bad log), status $rc" $r

# ------------------------------------------------------- 6. no permission
if id sctest >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
    S6="$IPC --set ipc.dir=$tmp/shm6 --set ipc.mode=0600"
    "$B/seqcast-pub" $S6 --count 10 --linger 0 >/dev/null 2>&1
    runuser -u sctest -- timeout 10 "$B/seqcast-sub" $S6 --timeout 1 >"$tmp/perm.json" 2>"$tmp/perm.err"
    rc=$?
    grep -q "cannot open $tmp/shm6/seqcast.default: Permission denied (ipc.mode and ipc.group" "$tmp/perm.err" && [ $rc -eq 1 ]
    r=$?
    check "a non-root reader (sctest) without permission: $(cut -c1-140 "$tmp/perm.err" | head -1)" $r
    S6="$IPC --set ipc.dir=$tmp/shm7 --set ipc.mode=0644 --set late_join=window"
    "$B/seqcast-pub" $S6 --count 10 --linger 0 >/dev/null 2>&1
    runuser -u sctest -- timeout 10 "$B/seqcast-sub" $S6 --timeout 1 --verify >"$tmp/perm.json" 2>"$tmp/perm.err"
    [ "$(field_first "$tmp/perm.json" received)" = 10 ] && [ "$(field_first "$tmp/perm.json" verify_errors)" = 0 ]
    r=$?
    check "with ipc.mode 0644 the same user reads it (10 messages)" $r
else
    skip "a non-root reader without permission" "needs root and the user sctest"
    skip "with ipc.mode 0644 the same user reads it" "needs root and the user sctest"
fi

# ------------------------------------------------ 7. the network bridged
S8="$IPC --set ipc.dir=$tmp/shm8 --set ipc.backpressure=block --set late_join=window --set name=bridge"
NET="--group 239.192.23.1:32356 --set nak_port=32355"
M=200000
for i in 1 2; do
    timeout 60 "$B/seqcast-sub" $S8 --verify >"$tmp/b$i.json" 2>"$tmp/b$i.err" &
    eval "b$i=\$!"
done
timeout 60 "$B/seqcast-sub" $NET --count $M --republish ipc:bridge --set ipc.dir="$tmp/shm8" \
    --set ipc.backpressure=block --quiet >"$tmp/bridge.json" 2>"$tmp/bridge.err" &
br=$!
wait_for "$tmp/b1.err" " up (from its start" 5 && wait_for "$tmp/b2.err" " up (from its start" 5
timeout 60 "$B/seqcast-pub" $NET --count $M --linger 0.5 >"$tmp/netpub.json" 2>"$tmp/netpub.err"
wait $br; brc=$?
wait "$b1"; rc1=$?
wait "$b2"; rc2=$?
ok_sub "$tmp/b1.json" $M && ok_sub "$tmp/b2.json" $M && [ $brc -eq 0 ] && [ $rc1 -eq 0 ] && [ $rc2 -eq 0 ]
r=$?
check "seqcast-sub --republish ipc:bridge: two local readers got all $M network messages, verified (status $brc, $rc1, $rc2)" $r
[ $r -eq 0 ] || show "$tmp/bridge.err" "$tmp/b1.err" "$tmp/netpub.err"

# ------------------------------------------- 8. the feed handler's records
"$B/seqcast-itchgen" --messages 20000 --symbols 10 --seed 7 --output "$tmp/day.itch" >/dev/null
S9="$IPC --set ipc.dir=$tmp/shm9 --set ipc.backpressure=block --set late_join=window --set name=md"
timeout 30 "$B/seqcast-sub" $S9 -o "$tmp/recs" --timeout 20 >"$tmp/md.json" 2>"$tmp/md.err" &
md=$!
timeout 30 "$B/seqcast-feedhandler" --input "$tmp/day.itch" --publish ipc:md --set ipc.dir="$tmp/shm9" \
    --set ipc.backpressure=block >"$tmp/fh.out" 2>"$tmp/fh.err"
frc=$?
wait $md
bbo=$(grep -c '"type": "bbo"' "$tmp/fh.out") trades=$(grep -c '"type": "trade"' "$tmp/fh.out")
recs=$(od -An -v -tu1 -w58 "$tmp/recs" | awk '$1 == 0 && $2 == 56 { n[$3]++ } END { printf("%d %d", n[81], n[84]) }')
bids=$(od -An -v -tu1 -w58 "$tmp/recs" | awk '$3 == 81 { s += $27 + $28 * 256 + $29 * 65536 + $30 * 16777216 } END { printf("%.0f", s) }')
jbids=$(grep '"type": "bbo"' "$tmp/fh.out" | grep -o '"bid": [0-9.]*' | awk '{ gsub(/\./, "", $2); s += $2 } END { printf("%.0f", s) }')
[ $frc -eq 0 ] && [ "$recs" = "$bbo $trades" ] && [ "$bbo" -gt 0 ] && [ "$trades" -gt 0 ] && [ "$bids" = "$jbids" ] &&
    [ "$(field_first "$tmp/md.json" received)" = $((bbo + trades)) ]
r=$?
check "seqcast-feedhandler --publish ipc:md: $bbo BBO and $trades trade records (read: $recs), bid prices summing as its JSON lines ($bids)" $r
[ $r -eq 0 ] || show "$tmp/fh.err" "$tmp/md.err"

# ------------------------------------------- 9. a loss upstream of the bridge
S10="$IPC --set ipc.dir=$tmp/shm10 --set ipc.backpressure=block --set late_join=window --set name=gap"
NET="--group 239.192.23.2:32358 --set nak_port=32357"
M=20000
timeout 60 "$B/seqcast-sub" $S10 -o "$tmp/gap-local.out" --timeout 30 >"$tmp/gl.json" 2>"$tmp/gl.err" &
gl=$!
timeout 60 "$B/seqcast-sub" $NET --count $M --loss 10 --republish ipc:gap --set ipc.dir="$tmp/shm10" \
    --set ipc.backpressure=block --timeout 30 --quiet -o "$tmp/gap-bridge.out" >"$tmp/gb.json" 2>"$tmp/gb.err" &
gb=$!
wait_for "$tmp/gl.err" " up (from its start" 5
timeout 60 "$B/seqcast-pub" $NET --set window.packets=16 --count $M --size 40 --rate 20000 --linger 1 \
    >"$tmp/gp.json" 2>"$tmp/gp.err"
wait $gb; gbrc=$?
wait $gl; glrc=$?
ranges() { grep -o '"lost_ranges": \[[^]]*\]' "$1" | sed 's/, "upstream": "[^"]*"//g'; }
# "NAME FIRST..LAST" per LOSS line: the network source a loss was the bridge's
# from, and the local reader's (upstream, through the log)
losses() { sed -n 's/^seqcast-sub: LOSS from \([^ :]*\).*messages \([0-9]*\.\.[0-9]*\).*/\1 \2/p' "$1"; }
bl=$(field_first "$tmp/gb.json" loss_events) ll=$(field_first "$tmp/gl.json" loss_events)
[ "${bl:-0}" -gt 0 ] && [ "$(ranges "$tmp/gb.json")" = "$(ranges "$tmp/gl.json")" ] &&
    grep -q '"reason": "not_in_window"' "$tmp/gl.json" && [ "$ll" = "$bl" ] &&
    [ "$(field_first "$tmp/gl.json" ipc_upstream_losses)" = "$bl" ] &&
    [ "$(field_first "$tmp/gl.json" lost_messages)" = "$(field_first "$tmp/gb.json" lost_messages)" ]
r=$?
check "a loss upstream: the local reader's loss events are the bridge's ($ll of $bl, $(field_first "$tmp/gl.json" lost_messages) messages, not_in_window, the same ranges)" $r
[ $r -eq 0 ] || { show "$tmp/gb.err" "$tmp/gl.err"; ranges "$tmp/gb.json" | cut -c1-300 | sed 's/^/  # bridge: /'; ranges "$tmp/gl.json" | cut -c1-300 | sed 's/^/  # local: /'; }
up=$(losses "$tmp/gb.err" | head -1 | cut -d' ' -f1)
[ -n "$up" ] && [ "$(losses "$tmp/gb.err")" = "$(losses "$tmp/gl.err")" ] &&
    [ "$(grep -c "LOSS from $up (upstream, through the log of " "$tmp/gl.err")" = "$bl" ] &&
    [ "$(grep -o '"upstream": "[^"]*"' "$tmp/gl.json" | sort -u)" = "\"upstream\": \"$up\"" ]
r=$?
check "the local reader names the network source of each loss ($up), as the bridge does" $r
[ $r -eq 0 ] || { losses "$tmp/gb.err" | head -3 | sed 's/^/  # bridge: /'; grep LOSS "$tmp/gl.err" | head -3 | sed 's/^/  # local: /'; }
cmp -s "$tmp/gap-bridge.out" "$tmp/gap-local.out" && [ $gbrc -eq 1 ] && [ $glrc -eq 1 ] &&
    grep -q "down (end of session)" "$tmp/gl.err"
r=$?
check "around the losses the local reader got what the bridge delivered, byte for byte ($(field_first "$tmp/gl.json" received) messages; status $gbrc, $glrc: loss)" $r
[ $r -eq 0 ] || show "$tmp/gb.err" "$tmp/gl.err" "$tmp/gp.err"
