#!/usr/bin/env bash
# seqcast-archive on loopback (MoldUDP64):
#   1. seqcast-pub publishes 30,000 generated 40-byte messages; the archive records all
#      of them; --dump's output is byte for byte what the publisher sent
#      (seqcast-pub --write), across several segments;
#   1b. a PGM channel (framing: batched): 20,000 of the generated mix -- every
#      thousandth message 3,000 bytes, fragmented on the wire -- archived and
#      every byte verified from the dump;
#   2-3. the archive is kill -9ed at random points and restarted 6 times while the
#      publisher runs (late_join: first -- each restart re-requests what it missed
#      from the publisher's window): after every kill its contents are a prefix
#      from message 1 plus recorded gaps, every record valid (CRC, verified
#      payload), no sequence twice (a repeated sequence is damage at open), and at
#      the end it holds every message to the last;
#   4-6. re-requests from the archive: a publisher whose window is 16 packets;
#      two subscribers with their mold.request_servers pointed at
#      seqcast-archive --serve, late_join: first, default timers: one joins
#      while the data flows, one after it; each gets all 20,000, verified; one
#      that joins a second into the data asking the publisher loses what its
#      window no longer holds (not_in_window): the control; one that joins with
#      it asking the publisher first and two archives as its second line
#      (recovery.request_servers), the first of them down, gets all 20,000, the
#      ones the publisher no longer holds from the other (requests_second_line);
#   7-8. disk full (a 192 KiB tmpfs in a private mount namespace: root): appends
#      stop with a clear message and exit status 1, what is there stays whole.
#   9-10. several channels in one process (the configuration's archive: list):
#      two MoldUDP64 channels and a PGM one, each into its own directory, each
#      with its own re-request and rewind servers; each dump and each rewind
#      cmp-equal to what that channel's publisher sent (sizes differ per
#      channel), and a late subscriber of each MoldUDP64 channel (publisher's
#      window 16 packets) made whole by re-requests to that channel's server.
#   13. a restarted publisher (a new PGM source, numbering from 1 again): the
#      archive keeps the first source's session (one sequence space: 1..2000),
#      counts the other's messages (msgs_other_source) and says once on stderr
#      that a new session needs an archive of its own.
#   14. fsync: batch with --fsync-interval 100ms: a second of feed takes at most ~15 syncs
#      (with 0: one after another, several times as many), and the tail is made durable by
#      the interval's deadline, with nothing more arriving: a rewind from 1 right after the
#      feed gets every message (rewinds serve what is durable), cmp-equal to what was sent.
set -u
. "$(dirname "$0")/../support/tap.sh" "seqcast-archive" 14
P=$((23000 + $$ % 20000))
LIVE=(--set protocol=moldudp64 --group 239.198.18.80:$P --interface 127.0.0.1)

# the dump of DIR is whole: a prefix from 1, every sequence a message or a gap,
# no damage, every payload the generator's for its sequence
dump_ok() { # DIR JSON -> 0 if whole
    "$B/seqcast-archive" --dump "$1" --verify >"$2" 2>"$2.err" || return 1
    local first last msgs gaps
    first=$(field_first "$2" first) last=$(field_first "$2" last)
    msgs=$(field "$2" messages) gaps=$(field "$2" gap_msgs)
    [ "$(field "$2" damaged_ranges)" = 0 ] && [ "$(field "$2" verify_errors)" = 0 ] &&
        { [ "$last" = 0 ] || { [ "$first" = 1 ] && [ $((msgs + gaps)) -eq "$last" ]; }; }
}

# --- 1. everything, byte for byte
"$B/seqcast-pub" --count 30000 --size 40 --write "$tmp/sent.bin" >/dev/null 2>&1
"$B/seqcast-archive" --dir "$tmp/a1" "${LIVE[@]}" --segment-size 64K --count 30000 --timeout 20 \
    --quiet >"$tmp/a1.json" 2>"$tmp/a1.err" &
arc=$!
sleep 0.3
"$B/seqcast-pub" "${LIVE[@]}" --count 30000 --size 40 --rate 60000 --linger 0.5 >"$tmp/p1.json" 2>"$tmp/p1.err"
wait $arc; rc=$?
"$B/seqcast-archive" --dump "$tmp/a1" --verify --output "$tmp/got.bin" >"$tmp/d1.json" 2>"$tmp/d1.err"
drc=$?
[ $rc -eq 0 ] && [ $drc -eq 0 ] && [ "$(field "$tmp/a1.json" msgs_archived)" = 30000 ] &&
    [ "$(field "$tmp/d1.json" messages)" = 30000 ] && [ "$(field "$tmp/d1.json" segments)" -gt 5 ] &&
    cmp -s "$tmp/sent.bin" "$tmp/got.bin"; r=$?
check "30,000 published, $(field "$tmp/a1.json" msgs_archived) archived in $(field "$tmp/d1.json" segments) segments, --dump cmp-equal to what seqcast-pub sent (exits $rc $drc)" $r

# --- 1b. a PGM channel
PGM=(--group 239.198.18.80:$((P + 2)) --interface 127.0.0.1)
"$B/seqcast-archive" --dir "$tmp/ap" "${PGM[@]}" --count 20000 --timeout 20 --quiet \
    >"$tmp/ap.json" 2>"$tmp/ap.err" &
arc=$!
sleep 0.3
"$B/seqcast-pub" "${PGM[@]}" --count 20000 --rate 50000 --linger 0.5 >"$tmp/pp.json" 2>"$tmp/pp.err"
wait $arc; rc=$?
"$B/seqcast-archive" --dump "$tmp/ap" --verify >"$tmp/dp.json" 2>"$tmp/dp.err"
drc=$?
[ $rc -eq 0 ] && [ $drc -eq 0 ] && [ "$(field "$tmp/dp.json" messages)" = 20000 ] &&
    [ "$(field_first "$tmp/dp.json" last)" = 20000 ] && [ "$(field "$tmp/dp.json" verify_errors)" = 0 ]; r=$?
check "PGM batched: $(field "$tmp/dp.json" messages) of 20,000 (the 3,000-byte ones fragmented on the wire) archived, every byte verified from the dump (exits $rc $drc)" $r

# --- 2-3. kill -9 at random points while the publisher runs
N=160000 # 8 s at 20,000/s: room for six kill cycles and their dumps on a slow machine
"$B/seqcast-pub" "${LIVE[@]}" --count $N --rate 20000 --linger 3 >"$tmp/p2.json" 2>"$tmp/p2.err" &
pub=$!
bad=0 kills=0 prev=0 shrank=0
for i in 1 2 3 4 5 6; do
    "$B/seqcast-archive" --dir "$tmp/a2" "${LIVE[@]}" --set late_join=first --segment-size 256K \
        --quiet >>"$tmp/a2.json" 2>>"$tmp/a2.err" &
    arc=$!
    sleep "0.$((RANDOM % 6 + 3))"
    kill -9 $arc 2>/dev/null && kills=$((kills + 1))
    wait $arc 2>/dev/null
    if dump_ok "$tmp/a2" "$tmp/d2.$i.json"; then
        last=$(field_first "$tmp/d2.$i.json" last)
        [ "$last" -ge "$prev" ] || shrank=1
        prev=$last
        echo "# kill $i: 1..$last held, $(field "$tmp/d2.$i.json" gap_msgs) in gaps, torn $(field "$tmp/d2.$i.json" torn_bytes) bytes" >&2
    else
        bad=$((bad + 1))
        echo "# kill $i: not whole: $(cat "$tmp/d2.$i.json" "$tmp/d2.$i.json.err")" >&2
    fi
done
[ $bad -eq 0 ] && [ $kills -eq 6 ] && [ $shrank -eq 0 ] && [ "$prev" -gt 0 ]; r=$?
check "kill -9 six times mid-stream: after each, a prefix from 1 plus recorded gaps, every record valid and verified, none twice, never shrinking (last $prev, $bad not whole)" $r
# the last run sees the publisher to its end (End of Session) and the window's repairs
"$B/seqcast-archive" --dir "$tmp/a2" "${LIVE[@]}" --set late_join=first --segment-size 256K \
    --quiet >"$tmp/a2f.json" 2>>"$tmp/a2.err" &
arc=$!
wait $pub
sleep 1
kill -TERM $arc
wait $arc; rc=$?
dump_ok "$tmp/a2" "$tmp/d2.json"; r=$?
[ $r -eq 0 ] && [ $rc -eq 0 ] && [ "$(field_first "$tmp/d2.json" last)" = $N ]; r=$?
check "restarted a 7th time until the publisher ended: 1..$(field_first "$tmp/d2.json" last) of $N held, $(field "$tmp/d2.json" messages) messages + $(field "$tmp/d2.json" gap_msgs) in recorded gaps ($(field "$tmp/a2f.json" msgs_duplicate) re-delivered duplicates not written twice), exit $rc" $r

# --- 4-5. re-requests answered from the archive
S=$((P + 1))
# (rtx.budget: a subscriber may fetch 100,000 messages a second from the archive;
# the lan profile's 20,000 is a publisher's, sized for repairs, and a late
# joiner recovering the whole history by re-requests asks for more in its first
# second: refused requests go unanswered, as NASDAQ's servers do, and are lost
# after the retries -- a rewind is the way to fetch a long history)
"$B/seqcast-archive" --dir "$tmp/a3" "${LIVE[@]}" --serve 127.0.0.1:$S --set rtx.budget=100000 \
    --timeout 60 --quiet >"$tmp/a3.json" 2>"$tmp/a3.err" &
arc=$!
sleep 1 # the archive must hear message 1, or the late subscriber cannot be made whole
# The publisher's data ends after 2 s; its End of Session repeats for 10 s more.
# One late subscriber comes while the data flows (s4): it asks the archive for
# the start while the live messages go past. Another comes once the data is
# over (s3): all it hears live is the End of Session, and all 20,000 come from
# the archive. Both with the default timers (nak.rdata 4 ms): the archive's
# answers take longer than that once requests queue up, and the subscriber's
# wait follows them (answer_wait_peak) instead of giving up on, or reading
# as not held, what the archive holds. The control asks the publisher, during
# the data.
"$B/seqcast-pub" "${LIVE[@]}" --set window.packets=16 --set mold.eos_time=10s --count 20000 \
    --rate 10000 --linger 10 >"$tmp/p3.json" 2>"$tmp/p3.err" &
pub=$!
sleep 1
"$B/seqcast-sub" "${LIVE[@]}" --set late_join=first --count 20000 --verify --timeout 30 --quiet \
    >"$tmp/c3.json" 2>"$tmp/c3.err" &
ctl=$!
"$B/seqcast-sub" "${LIVE[@]}" --set late_join=first --set mold.request_servers=127.0.0.1:$S \
    --count 20000 --verify --timeout 30 --quiet >"$tmp/s4.json" 2>"$tmp/s4.err" &
sub4=$!
"$B/seqcast-sub" "${LIVE[@]}" --set late_join=first --set recovery.request_servers=127.0.0.1:$((P + 19)),127.0.0.1:$S \
    --count 20000 --verify --timeout 30 --quiet >"$tmp/s5.json" 2>"$tmp/s5.err" &
sub5=$!
sleep 1.5
"$B/seqcast-sub" "${LIVE[@]}" --set late_join=first --set mold.request_servers=127.0.0.1:$S \
    --count 20000 --verify --timeout 30 --quiet >"$tmp/s3.json" 2>"$tmp/s3.err" &
sub=$!
wait $sub; src=$?
wait $sub4; src4=$?
wait $sub5; src5=$?
wait $ctl
wait $pub
kill -TERM $arc 2>/dev/null # (it serves until the subscribers are done, however slow the machine)
wait $arc
whole() { # $1: exit status, $2: the subscriber's JSON
    [ "$1" -eq 0 ] && [ "$(field "$2" received)" = 20000 ] && [ "$(field "$2" lost_messages)" = 0 ] &&
        [ "$(field "$2" verify_errors)" = 0 ]
}
whole $src "$tmp/s3.json" && [ "$(field "$tmp/a3.json" mold_resp_msgs)" -gt 1000 ]; r=$?
check "a late subscriber re-requesting from the archive after the data: $(field "$tmp/s3.json" received) of 20000 verified, none lost (answer wait up to $(field "$tmp/s3.json" answer_wait_peak) us); the archive (holding from message $(field "$tmp/a3.json" first_seq)) answered $(field "$tmp/a3.json" mold_req_answered) requests with $(field "$tmp/a3.json" mold_resp_msgs) messages (exit $src)" $r
[ $r -eq 0 ] || tail -n 3 "$tmp/s3.err" "$tmp/a3.err" | sed 's/^/# /'
whole $src4 "$tmp/s4.json"; r=$?
check "a late subscriber re-requesting from the archive while the data flows: $(field "$tmp/s4.json" received) of 20000 verified, none lost (answer wait up to $(field "$tmp/s4.json" answer_wait_peak) us, exit $src4)" $r
[ $r -eq 0 ] || tail -n 3 "$tmp/s4.err" | sed 's/^/# /'
whole $src5 "$tmp/s5.json" && [ "$(field "$tmp/s5.json" requests_second_line)" -gt 1000 ] &&
    [ "$(field "$tmp/s5.json" request_retries)" -gt 0 ]; r=$?
check "a late subscriber asking the publisher, two archives its second line (recovery.request_servers), the first down: $(field "$tmp/s5.json" received) of 20000 verified, none lost, $(field "$tmp/s5.json" requests_second_line) messages the publisher no longer held asked of the archives, $(field "$tmp/s5.json" request_retries) requests retried past the one down (exit $src5)" $r
[ $r -eq 0 ] || tail -n 3 "$tmp/s5.err" | sed 's/^/# /'
[ "$(field "$tmp/c3.json" lost_messages)" -gt 1000 ] && grep -q 'not_in_window' "$tmp/c3.err"; r=$?
check "the control, asking the publisher (window 16 packets): $(field "$tmp/c3.json" lost_messages) messages lost, not_in_window" $r

# --- 6-7. disk full
if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null; then
    skip "disk full" "needs root (a tmpfs in a private mount namespace)"
    skip "disk full: contents whole" "needs root"
else
    mkdir -p "$tmp/full"
    unshare -m bash -c "
        mount --make-rprivate / && mount -t tmpfs -o size=192k tmpfs '$tmp/full' || exit 99
        '$B/seqcast-archive' --dir '$tmp/full/a' ${LIVE[*]} --segment-size 32K --timeout 6 \
            --quiet >'$tmp/f.json' 2>'$tmp/f.err' &
        arc=\$!
        sleep 0.3
        '$B/seqcast-pub' ${LIVE[*]} --count 40000 --rate 40000 --linger 0.5 >/dev/null 2>&1
        wait \$arc; echo \$? >'$tmp/f.rc'
        '$B/seqcast-archive' --dump '$tmp/full/a' --verify >'$tmp/fd.json' 2>'$tmp/fd.err'
        echo \$? >'$tmp/fd.rc'
    "
    frc=$(cat "$tmp/f.rc" 2>/dev/null)
    [ "$frc" = 1 ] && grep -q 'appends stopped at sequence [0-9]*: No space left on device' "$tmp/f.err" &&
        [ "$(field "$tmp/f.json" disk_full)" -ge 1 ] && [ "$(field "$tmp/f.json" msgs_not_archived)" -gt 0 ]; r=$?
    check "disk full: '$(grep -o 'appends stopped[^;]*' "$tmp/f.err" | head -1)', disk_full $(field "$tmp/f.json" disk_full), $(field "$tmp/f.json" msgs_not_archived) not archived, exit $frc" $r
    fd=$(cat "$tmp/fd.rc" 2>/dev/null)
    [ "$fd" = 0 ] && [ "$(field "$tmp/fd.json" damaged_ranges)" = 0 ] && [ "$(field "$tmp/fd.json" verify_errors)" = 0 ] &&
        [ "$(field "$tmp/fd.json" torn_bytes)" = 0 ] && [ "$(field "$tmp/fd.json" messages)" = "$(field "$tmp/f.json" msgs_archived)" ]; r=$?
    check "disk full: what is there is whole -- $(field "$tmp/fd.json" messages) messages (1..$(field_first "$tmp/fd.json" last)), none torn or damaged, every one verified" $r
fi

# --- 9-10. several channels in one process, from the archive: section
cat >"$tmp/multi.yaml" <<EOC
channels:
  - name: m1
    protocol: moldudp64
    group: 239.198.18.82
    port: $((P + 10))
    interface: 127.0.0.1
    mold: { session: MULTI1 }
    rtx: { budget: 100000 }
  - name: m2
    protocol: moldudp64
    group: 239.198.18.83
    port: $((P + 11))
    interface: 127.0.0.1
    mold: { session: MULTI2 }
    rtx: { budget: 100000 }
  - name: pg
    group: 239.198.18.84
    port: $((P + 12))
    interface: 127.0.0.1
archive:
  - channel: m1
    dir: $tmp/mm1
    serve: [127.0.0.1:$((P + 13))]
    rewind: tcp:127.0.0.1:$((P + 14))
  - channel: m2
    dir: $tmp/mm2
    serve: [127.0.0.1:$((P + 15))]
    rewind: tcp:127.0.0.1:$((P + 16))
  - channel: pg
    dir: $tmp/mpg
    rewind: tcp:127.0.0.1:$((P + 17))
    segment_size: 64KiB
EOC
N=10000
for c in m1:40 m2:24 pg:32; do
    "$B/seqcast-pub" --count $N --size "${c#*:}" --write "$tmp/sent-${c%:*}.bin" >/dev/null 2>&1
done
"$B/seqcast-archive" --config "$tmp/multi.yaml" --timeout 40 --quiet >"$tmp/am.json" 2>"$tmp/am.err" &
arc=$!
sleep 0.5
pubs=()
for c in m1:40 m2:24 pg:32; do
    "$B/seqcast-pub" --config "$tmp/multi.yaml" --channel "${c%:*}" --set window.packets=16 \
        --set mold.eos_time=6s --count $N --size "${c#*:}" --rate 10000 --linger 6 \
        >"$tmp/pm-${c%:*}.json" 2>"$tmp/pm-${c%:*}.err" &
    pubs+=($!)
done
sleep 0.5
subs=()
for c in m1:13 m2:15; do # late, the publishers' windows 16 packets: made whole by their archive
    "$B/seqcast-sub" --config "$tmp/multi.yaml" --channel "${c%:*}" --set "channels.${c%:*}.late_join=first" \
        --set "channels.${c%:*}.mold.request_servers=127.0.0.1:$((P + ${c#*:}))" --count $N --output "$tmp/gotm-${c%:*}.bin" \
        --timeout 25 --quiet >"$tmp/sm-${c%:*}.json" 2>"$tmp/sm-${c%:*}.err" &
    subs+=($!)
done
wait "${subs[@]}"
rws=0
for c in m1:14 m2:16 pg:17; do
    timeout 20 "$B/seqcast-rewind" --server 127.0.0.1:$((P + ${c#*:})) --from 1 --until $N \
        --output "$tmp/rwm-${c%:*}.bin" --timeout 10 >"$tmp/rwm-${c%:*}.json" 2>"$tmp/rwm-${c%:*}.err" &&
        cmp -s "$tmp/sent-${c%:*}.bin" "$tmp/rwm-${c%:*}.bin" && rws=$((rws + 1))
done
kill -TERM $arc "${pubs[@]}" 2>/dev/null
wait $arc; arc_rc=$?
wait "${pubs[@]}" 2>/dev/null
dumps=0
for c in m1:mm1 m2:mm2 pg:mpg; do
    "$B/seqcast-archive" --dump "$tmp/${c#*:}" --output "$tmp/dm-${c%:*}.bin" >"$tmp/dm-${c%:*}.json" 2>&1 &&
        cmp -s "$tmp/sent-${c%:*}.bin" "$tmp/dm-${c%:*}.bin" && dumps=$((dumps + 1))
done
[ $arc_rc -eq 0 ] && [ $dumps -eq 3 ] && [ $rws -eq 3 ] && [ "$(grep -c '"seqcast-archive"' "$tmp/am.json")" = 3 ]; r=$?
check "three channels in one seqcast-archive (archive: list): $dumps of 3 dumps and $rws of 3 rewinds from 1 cmp-equal to their own channel's publisher (exit $arc_rc)" $r
[ $r -eq 0 ] || { tail -n 3 "$tmp/am.err" "$tmp"/rwm-*.err; head -c 600 "$tmp/am.json"; } | sed 's/^/# /'
subs_ok=0
for c in m1 m2; do
    cmp -s "$tmp/sent-$c.bin" "$tmp/gotm-$c.bin" && [ "$(field "$tmp/sm-$c.json" lost_messages)" = 0 ] &&
        subs_ok=$((subs_ok + 1))
done
ans=$(grep -o '"mold_resp_msgs": [0-9]*' "$tmp/am.json" | awk '$2 > 100' | wc -l)
[ $subs_ok -eq 2 ] && [ "$ans" -eq 2 ]; r=$?
check "re-requests per channel: $subs_ok of 2 late MoldUDP64 subscribers (16-packet windows) cmp-equal, $ans of 2 channels' servers answered from their own store" $r
[ $r -eq 0 ] || { tail -n 3 "$tmp"/sm-*.err; grep -o '"channel": "[a-z0-9]*"\|"mold_resp_msgs": [0-9]*\|"msgs_archived": [0-9]*' "$tmp/am.json"; } | sed 's/^/# /'

# --- 13. a restarted publisher: a new source
NS=(--group 239.198.18.85:$((P + 21)) --interface 127.0.0.1 --set framing=batched)
"$B/seqcast-archive" --dir "$tmp/ans" "${NS[@]}" --timeout 20 --quiet >"$tmp/ans.json" 2>"$tmp/ans.err" &
arc=$!
sleep 0.3
"$B/seqcast-pub" "${NS[@]}" --count 2000 --size 40 --rate 20000 --linger 0.3 >/dev/null 2>&1
"$B/seqcast-pub" "${NS[@]}" --count 3000 --size 40 --rate 20000 --linger 0.3 >/dev/null 2>&1
kill -TERM $arc 2>/dev/null
wait $arc
[ "$(field "$tmp/ans.json" msgs_archived)" = 2000 ] && [ "$(field "$tmp/ans.json" last_seq)" = 2000 ] &&
    [ "$(field "$tmp/ans.json" msgs_other_source)" = 3000 ] &&
    [ "$(grep -c "another source's messages are not recorded" "$tmp/ans.err")" = 1 ]; r=$?
check "a restarted publisher (a new source from 1): the first session kept ($(field "$tmp/ans.json" msgs_archived) archived, last $(field "$tmp/ans.json" last_seq)), the new one's $(field "$tmp/ans.json" msgs_other_source) counted (msgs_other_source) and said once" $r
[ $r -eq 0 ] || sed 's/^/# /' "$tmp/ans.err" | head -5

# --- 14. fsync: batch, a sync at most every --fsync-interval; the tail synced by its deadline
FI=(--group 239.198.18.86:$((P + 23)) --interface 127.0.0.1 --set framing=batched)
"$B/seqcast-pub" --count 20000 --size 40 --write "$tmp/fi-sent.bin" >/dev/null 2>&1
syncs=()
for iv in 100ms 0; do
    rm -rf "$tmp/afi"
    "$B/seqcast-archive" --dir "$tmp/afi" "${FI[@]}" --fsync-interval $iv --rewind 127.0.0.1:$((P + 24)) \
        --timeout 20 --quiet >"$tmp/afi.json" 2>"$tmp/afi.err" &
    arc=$!
    sleep 0.3
    "$B/seqcast-pub" "${FI[@]}" --count 20000 --size 40 --rate 20000 --linger 0.1 >/dev/null 2>&1
    timeout 10 "$B/seqcast-rewind" --server 127.0.0.1:$((P + 24)) --from 1 --until 20000 \
        --output "$tmp/fi-rw-$iv.bin" --timeout 5 >"$tmp/fi-rw-$iv.json" 2>"$tmp/fi-rw-$iv.err"
    kill -TERM $arc 2>/dev/null
    wait $arc
    syncs+=("$(field "$tmp/afi.json" syncs)")
done
cmp -s "$tmp/fi-sent.bin" "$tmp/fi-rw-100ms.bin" && [ "${syncs[0]:-99}" -le 15 ] 2>/dev/null &&
    [ "${syncs[1]:-0}" -gt $((3 * ${syncs[0]:-99})) ] 2>/dev/null; r=$?
check "fsync: batch, --fsync-interval 100ms: ${syncs[0]:-?} syncs for a second of feed (0: ${syncs[1]:-?}); a rewind from 1 right after it: $(stat -c %s "$tmp/fi-rw-100ms.bin" 2>/dev/null || echo 0) bytes, cmp-equal to what was sent" $r
[ $r -eq 0 ] || sed 's/^/# /' "$tmp/afi.err" "$tmp/fi-rw-100ms.err" | head -6
