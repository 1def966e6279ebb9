#!/usr/bin/env bash
# A/B lines (group_b) on a real network: a publisher in one namespace sends
# every packet to two groups, a subscriber in another takes whichever copy
# comes first.
#   1. line A dropped entirely (nftables, by destination group): every message
#      arrives through line B alone, verified, without a single NAK;
#   2. 5 % random loss on every packet of both lines: every message arrives,
#      and NAKs fall to a small fraction of the packets dropped (only packets
#      lost on both lines need a repair).
# Speaks TAP; without root or network namespaces the checks are skipped.
set -u
. "$(dirname "$0")/../support/tap.sh" "A/B lines" 2
netns_pair "sab$$" 198.18.4

N=20000
GA=239.198.18.11 GB=239.198.18.12
# run NAME RULE: the publisher's egress drops what RULE matches while N messages flow
run() {
    local name=$1 rule=$2 ch=(--group $GA:32200 --set nak_port=32201 --set group_b=$GB)
    $NSA nft add table netdev ab
    $NSA nft add chain netdev ab eg "{ type filter hook egress device eth0 priority 0; }"
    $NSA nft add rule netdev ab eg $rule counter drop
    $NSB "$B/seqcast-sub" "${ch[@]}" --interface 198.18.4.2 --count $N --verify --timeout 30 \
        >"$tmp/$name.sub" 2>"$tmp/$name.sub.err" &
    local sub=$!
    sleep 0.5
    $NSA "$B/seqcast-pub" "${ch[@]}" --interface 198.18.4.1 --count $N --size 64 --rate 20000 \
        --linger 1 >"$tmp/$name.pub" 2>"$tmp/$name.pub.err"
    wait $sub
    echo $? >"$tmp/$name.rc"
    $NSA nft list table netdev ab | grep -o 'packets [0-9]*' | awk '{print $2}' >"$tmp/$name.dropped"
    $NSA nft delete table netdev ab
}
complete() { # NAME: all N delivered, verified, no loss
    [ "$(cat "$tmp/$1.rc")" = 0 ] && [ "$(field "$tmp/$1.sub" received)" = $N ] &&
        [ "$(field "$tmp/$1.sub" verify_errors)" = 0 ] && [ "$(field "$tmp/$1.sub" lost_messages)" = 0 ]
}

run lineA "ip daddr $GA"
naks=$(field "$tmp/lineA.sub" naks_sent) dropped=$(cat "$tmp/lineA.dropped")
complete lineA && [ "$naks" = 0 ] && [ "${dropped:-0}" -gt 0 ] && [ "$(field "$tmp/lineA.pub" line_b_sent)" -gt 0 ]; r=$?
check "line A dropped ($dropped packets): all $N messages through line B, verified, $naks NAKs (exit $(cat "$tmp/lineA.rc"))" $r
[ $r -eq 0 ] || sed 's/^/#   /' "$tmp/lineA.sub.err" "$tmp/lineA.pub.err" | head -10

run random "meta l4proto udp numgen random mod 100 < 5"
naks=$(field "$tmp/random.sub" nak_sqns) dropped=$(cat "$tmp/random.dropped")
complete random && [ "${dropped:-0}" -gt 100 ] && [ $((naks * 5)) -lt "$dropped" ]; r=$?
check "5 % loss on both lines ($dropped packets dropped): all $N messages, verified, $naks packets NAKed (exit $(cat "$tmp/random.rc"); $(field "$tmp/random.sub" duplicates) second copies dropped)" $r
[ $r -eq 0 ] || sed 's/^/#   /' "$tmp/random.sub.err" "$tmp/random.pub.err" | head -10
exit 0
