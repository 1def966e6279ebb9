#!/usr/bin/env bash
# A subscriber cut off for longer than source_timeout, on a real network: the
# publisher in one namespace sends 12,000 messages at 1,000/s to a subscriber
# in another; after 2 s nftables drops everything the publisher sends for 7 s
# (lan source_timeout is 5 s; the window holds 10 s), then the link is back.
# The subscriber must report the source down (timeout), then up again as
# "resuming", and deliver all 12,000 messages once, in order, verified, with no
# loss event -- not start the session afresh or skip the outage.
# Speaks TAP; without root or network namespaces both checks are skipped.
set -u
. "$(dirname "$0")/../support/tap.sh" "outage test" 2
netns_pair "so$$" 198.18.3

N=12000
CH=(--group 239.198.18.9:32100 --set nak_port=32101)
$NSB "$B/seqcast-sub" "${CH[@]}" --interface 198.18.3.2 --count $N --verify --timeout 60 \
    >"$tmp/sub.json" 2>"$tmp/sub.err" &
sub=$!
sleep 0.5
$NSA "$B/seqcast-pub" "${CH[@]}" --interface 198.18.3.1 --count $N --size 64 --rate 1000 \
    --linger 5 >"$tmp/pub.json" 2>"$tmp/pub.err" &
pub=$!
sleep 2
$NSA nft add table netdev cut
$NSA nft add chain netdev cut eg "{ type filter hook egress device eth0 priority 0; }"
$NSA nft add rule netdev cut eg meta protocol ip counter drop
sleep 7
dropped=$($NSA nft list table netdev cut | grep -o 'packets [0-9]*' | awk '{print $2}')
$NSA nft delete table netdev cut
wait $sub; rc=$?
wait $pub
[ $rc -eq 0 ] && [ "$(field "$tmp/sub.json" received)" = $N ] && [ "$(field "$tmp/sub.json" verify_errors)" = 0 ] \
    && [ "$(field "$tmp/sub.json" lost_messages)" = 0 ] && [ "$(field "$tmp/sub.json" loss_events)" = 0 ]; r=$?
echo "# $(grep -c . "$tmp/sub.err") lines from the subscriber:"
sed 's/^/#   /' "$tmp/sub.err" | head -6
check "7 s outage ($dropped packets dropped): all $N messages delivered once, in order, verified, no loss event (exit $rc; $(field "$tmp/sub.json" repaired) packets repaired)" $r
grep -q 'down (timeout)' "$tmp/sub.err" && grep -q 'heard again after a timeout, resuming' "$tmp/sub.err"; r=$?
check "the subscriber said the source went down (timeout) and came back resuming" $r
exit 0
