#!/usr/bin/env bash
# seqcast-pub ends its session with the real clock (kernel UDP on loopback).
# With data_rate set, most of the messages are still unsent when the last one
# is queued: closing sends them within the rate, then the End of Session block
# and the FIN, then it lingers serving repairs. The subscriber gets every
# message (verified) and sees the end of the session. (seqcast-pub used to
# linger, then close with a frozen clock: the rate let nothing more out, the
# backlog was given up on and the FIN announced the end before it.)
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$ROOT/$BUILD/bin
N=3000 SIZE=1000 RATE=8 # Mbit/s: 3,000 packets of 1,074 bytes on the wire take 3.2 s
GROUP=239.192.16.1:31656 NAKP=31655
tmp=$(mktemp -d /tmp/seqcast-close-XXXXXX)
trap 'jobs -p | xargs -r kill 2>/dev/null; rm -rf "$tmp"' EXIT
echo "TAP version 13"
echo "1..4"
n=0 failed=0
check() { # description, exit status of the condition
    n=$((n + 1))
    if [ "$2" -eq 0 ]; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=1; fi
}
field() { grep -o "\"$2\": [0-9a-z.]*" "$1" | head -1 | awk '{print $2}'; }

timeout 30 "$B/seqcast-sub" --group $GROUP --set nak_port=$NAKP --verify --quiet \
    >"$tmp/sub.json" 2>"$tmp/sub.err" &
sub=$!
sleep 0.5
timeout 30 "$B/seqcast-pub" --group $GROUP --set nak_port=$NAKP --count $N --size $SIZE \
    --set data_rate=${RATE}Mbit --linger 0.5 >"$tmp/pub.json" 2>"$tmp/pub.err"
prc=$?
wait $sub
src=$?

unsent=$(field "$tmp/pub.json" close_unsent)
odata=$(field "$tmp/pub.json" odata_sent)
secs=$(field "$tmp/pub.json" seconds)
[ "$prc" -eq 0 ] && [ "$unsent" = 0 ]
check "seqcast-pub exits 0 with nothing unsent (status $prc, close_unsent ${unsent:-?})" $?
[ "$odata" = $((N + 1)) ]
check "every packet and the End of Session block sent: $odata ODATA for $N messages" $?
awk -v s="${secs:-0}" 'BEGIN { exit !(s >= 3.0) }'
check "within data_rate: the backlog took ${secs:-?} s (3.2 s at $RATE Mbit/s, then the linger)" $?
# without --count, seqcast-sub ends when every source has ended its session
[ "$src" -eq 0 ] && [ "$(field "$tmp/sub.json" received)" = $N ] &&
    [ "$(field "$tmp/sub.json" complete)" = true ] && [ "$(field "$tmp/sub.json" sources_down)" = 1 ]
check "the subscriber got all $N messages, verified, then the end of the session (status $src)" $?
if [ "$failed" -ne 0 ]; then
    for f in pub.err sub.err pub.json sub.json; do sed "s/^/  # $f: /" "$tmp/$f" | head -5; done
fi
