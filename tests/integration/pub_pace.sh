#!/usr/bin/env bash
# seqcast-pub --rate batches as the channel's batch_delay says (kernel UDP on
# loopback, batched framing, 32 B): the messages due within one batch_delay
# share a packet, and batch_delay: 0 sends each in its own. The publisher's
# odata_sent counts the packets (its End of Session block is one more).
# (seqcast-pub used to flush after every paced cycle: at 100,000 msg/s with
# batch_delay 1ms each message went alone, ~20,000 packets instead of ~600,
# and at 1,000,000 msg/s one or two a packet -- a packet a microsecond for the
# publisher and every receiver.)
set -u
. "$(dirname "$0")/../support/tap.sh" "paced publishing honours batch_delay" 5
GROUP=239.192.16.2:31676 NAKP=31675
CH=(--group $GROUP --interface 127.0.0.1 --set nak_port=$NAKP --size 32 --linger 0)

# pub NAME COUNT RATE [--set ...]: a paced run; its JSON in $tmp/NAME.json
pub() {
    local name=$1 count=$2 rate=$3
    shift 3
    timeout 30 "$B/seqcast-pub" "${CH[@]}" --count "$count" --rate "$rate" "$@" \
        >"$tmp/$name.json" 2>"$tmp/$name.err"
}

# 1 ms at 100,000 msg/s: 100 messages a tick, three packets (41 of 32 B fill one)
N=20000
timeout 30 "$B/seqcast-sub" --group $GROUP --interface 127.0.0.1 --set nak_port=$NAKP \
    --count $N --verify --quiet >"$tmp/sub.json" 2>"$tmp/sub.err" &
sub=$!
sleep 0.3
pub ms $N 100000 --set batch_delay=1ms
prc=$?
wait $sub
src=$?
odata=$(field_first "$tmp/ms.json" odata_sent)
secs=$(field_first "$tmp/ms.json" seconds)
[ "$prc" -eq 0 ] && [ "${odata:-$N}" -le $((N / 20)) ]
check "batch_delay 1ms, 100,000 msg/s: $N messages in ${odata:-?} packets (at most $((N / 20)); status $prc)" $?
# paced still: 0.2 s of messages, none held past the end
awk -v s="${secs:-0}" 'BEGIN { exit !(s >= 0.19 && s < 2) }'
check "still paced: the run took ${secs:-?} s (0.2 s of messages)" $?
[ "$src" -eq 0 ] && [ "$(field_first "$tmp/sub.json" received)" = $N ] &&
    [ "$(field_first "$tmp/sub.json" verify_errors)" = 0 ]
check "the subscriber got all $N, verified (status $src)" $?

# batch_delay 0: one message a packet, however late a cycle runs
pub zero $N 100000 --set batch_delay=0
odata=$(field_first "$tmp/zero.json" odata_sent)
[ "${odata:-0}" = $((N + 1)) ]
check "batch_delay 0: one message a packet: ${odata:-?} ODATA for $N messages and the End of Session" $?

# the default (10us) at the issue's 1,000,000 msg/s: about ten a packet
N=200000
pub dflt $N 1000000
odata=$(field_first "$tmp/dflt.json" odata_sent)
[ "${odata:-$N}" -le $((N / 5)) ]
check "default batch_delay, 1,000,000 msg/s: $N messages in ${odata:-?} packets (at most $((N / 5)))" $?
for f in ms.err sub.err zero.err dflt.err ms.json dflt.json; do sed "s/^/  # $f: /" "$tmp/$f" | head -3; done
