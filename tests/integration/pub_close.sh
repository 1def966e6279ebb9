#!/usr/bin/env bash
# seqcast-pub ends its session with the real clock (kernel UDP on loopback).
# With data_rate set, most of the messages are still unsent when the last one
# is queued: closing sends them within the rate, then the End of Session block
# and the FIN, then it lingers serving repairs. The subscriber gets every
# message (verified) and sees the end of the session. (seqcast-pub used to
# linger, then close with a frozen clock: the rate let nothing more out, the
# backlog was given up on and the FIN announced the end before it.)
set -u
. "$(dirname "$0")/../support/tap.sh" "closing with the real clock" 4
N=3000 SIZE=1000 RATE=8 # Mbit/s: 3,000 packets of 1,074 bytes on the wire take 3.2 s
GROUP=239.192.16.1:31656 NAKP=31655

timeout 30 "$B/seqcast-sub" --group $GROUP --set nak_port=$NAKP --verify --quiet \
    >"$tmp/sub.json" 2>"$tmp/sub.err" &
sub=$!
sleep 0.5
timeout 30 "$B/seqcast-pub" --group $GROUP --set nak_port=$NAKP --count $N --size $SIZE \
    --set data_rate=${RATE}Mbit --linger 0.5 >"$tmp/pub.json" 2>"$tmp/pub.err"
prc=$?
wait $sub
src=$?

unsent=$(field_first "$tmp/pub.json" close_unsent)
odata=$(field_first "$tmp/pub.json" odata_sent)
secs=$(field_first "$tmp/pub.json" seconds)
[ "$prc" -eq 0 ] && [ "$unsent" = 0 ]
check "seqcast-pub exits 0 with nothing unsent (status $prc, close_unsent ${unsent:-?})" $?
[ "$odata" = $((N + 1)) ]
check "every packet and the End of Session block sent: $odata ODATA for $N messages" $?
awk -v s="${secs:-0}" 'BEGIN { exit !(s >= 3.0) }'
check "within data_rate: the backlog took ${secs:-?} s (3.2 s at $RATE Mbit/s, then the linger)" $?
# without --count, seqcast-sub ends when every source has ended its session
[ "$src" -eq 0 ] && [ "$(field_first "$tmp/sub.json" received)" = $N ] &&
    [ "$(field_first "$tmp/sub.json" complete)" = true ] && [ "$(field_first "$tmp/sub.json" sources_down)" = 1 ]
check "the subscriber got all $N messages, verified, then the end of the session (status $src)" $?
for f in pub.err sub.err pub.json sub.json; do sed "s/^/  # $f: /" "$tmp/$f" | head -3; done
