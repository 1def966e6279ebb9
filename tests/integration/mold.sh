#!/usr/bin/env bash
# Native MoldUDP64 channels (protocol: moldudp64) end to end, with seqcast on
# both sides (the independent spec peer is tests/interop/mold_*interop.sh):
#   1-2. tests/data/mold_feed.pcap, a feed as an exchange's link carries it
#        (802.1Q tags, a source port that changes, sequences from 14,000,000,
#        heartbeats, another feed on the link, End of Session): seqcast-sub
#        --pcap delivers exactly its 3,000 messages, every byte verified; with
#        ten packets missing it reports exactly their messages, 14000900..14000929;
#   3. seqcast-replay --list decodes it;
#   4. seqcast-replay puts it on loopback into a live seqcast-sub: all 3,000,
#      verified, and the End of Session ends the session;
#   4b. the capture with the hole, live, with a re-request server that is not there:
#      exactly 14000900..14000929 lost (retries), and seqcast-sub says once, with the
#      likely fix, that its re-requests get no answer;
#   4c. seqcast-pub --count (the generated mix, whose every thousandth message is
#      3000 bytes: cut to what one packet holds) -> seqcast-sub --verify on loopback;
#   5-6. seqcast-pub -> two seqcast-sub in another network namespace with 2 %
#      nftables loss on the publisher's link: both outputs equal the input,
#      repaired by re-requests (the publisher answered them); one of them --records,
#      and its capture shows its requests leaving from the port the answers reach;
#   7. A/B lines: line A dropped entirely, everything through B, no request.
# 1-4b need no root; 5-7 need network namespaces.
set -u
. "$(dirname "$0")/../support/tap.sh" "MoldUDP64 channels" 10
D=$ROOT/tests/data
FEED=(--set protocol=moldudp64 --group 239.198.18.77:26400)

# --- 1-2. the exchange's capture, read
"$B/seqcast-sub" "${FEED[@]}" --pcap "$D/mold_feed.pcap" --verify --quiet >"$tmp/p1.json" 2>"$tmp/p1.err"
rc=$?
[ $rc -eq 0 ] && [ "$(field "$tmp/p1.json" received)" = 3000 ] && [ "$(field "$tmp/p1.json" complete)" = true ] &&
    [ "$(field "$tmp/p1.json" verify_errors)" = 0 ] && [ "$(field "$tmp/p1.json" link_rx_filtered)" -gt 0 ]; r=$?
check "seqcast-sub --pcap mold_feed.pcap: $(field "$tmp/p1.json" received) of 3000 messages from 14000000, every byte verified, the other feed filtered ($(field "$tmp/p1.json" link_rx_filtered) datagrams), exit $rc" $r
"$B/seqcast-sub" "${FEED[@]}" --pcap "$D/mold_feed_hole.pcap" --verify --quiet >"$tmp/p2.json" 2>"$tmp/p2.err"
rc=$?
ranges=$(grep -o '"lost_ranges": \[[^]]*\]' "$tmp/p2.json")
[ $rc -eq 1 ] && [ "$(field "$tmp/p2.json" received)" = 2970 ] &&
    [ "$ranges" = '"lost_ranges": [{"first": 14000900, "last": 14000929, "reason": "retries"}]' ]; r=$?
check "mold_feed_hole.pcap: exactly messages 14000900..14000929 reported lost, the other $(field "$tmp/p2.json" received) delivered, exit $rc" $r

# --- 3. --list
"$B/seqcast-replay" --list "$D/mold_feed.pcap" >"$tmp/list" 2>&1
[ "$(grep -c ' mold NSDQ00042A msgs ' "$tmp/list")" = 1000 ] && grep -q ' mold NSDQ00042A heartbeat 14000295$' "$tmp/list" &&
    [ "$(grep -c ' mold NSDQ00042A eos 14003000$' "$tmp/list")" = 3 ]; r=$?
check "seqcast-replay --list decodes the feed: $(grep -c ' msgs ' "$tmp/list") data packets, $(grep -c ' heartbeat ' "$tmp/list") heartbeats, $(grep -c ' eos ' "$tmp/list") End of Session" $r

# --- 4. replayed into a live subscriber (loopback)
P=$((21000 + $$ % 20000))
LIVE=(--set protocol=moldudp64 --group 239.198.18.78:$P --interface 127.0.0.1)
"$B/seqcast-sub" "${LIVE[@]}" --count 3000 --verify --timeout 20 --quiet >"$tmp/r.json" 2>"$tmp/r.err" &
sub=$!
sleep 0.3
"$B/seqcast-replay" "${LIVE[@]}" --pps 20000 "$D/mold_feed.pcap" >"$tmp/rp.json" 2>"$tmp/rp.err"
wait $sub; rc=$?
[ $rc -eq 0 ] && [ "$(field "$tmp/r.json" received)" = 3000 ] && [ "$(field "$tmp/r.json" verify_errors)" = 0 ]; r=$?
check "seqcast-replay of the capture into a live seqcast-sub: $(field "$tmp/r.json" received) of 3000, verified (exit $rc)" $r

# --- 4b. the hole, live, and nobody answers re-requests (nothing listens on port 9)
"$B/seqcast-sub" "${LIVE[@]}" --set mold.request_servers=127.0.0.1:9 --set nak.data_retries=3 \
    --verify --timeout 20 --quiet >"$tmp/h.json" 2>"$tmp/h.err" &
sub=$!
sleep 0.3
"$B/seqcast-replay" "${LIVE[@]}" --pps 20000 "$D/mold_feed_hole.pcap" >"$tmp/hp.json" 2>"$tmp/hp.err"
wait $sub; rc=$?
[ "$(field "$tmp/h.json" received)" = 2970 ] && [ "$(field "$tmp/h.json" lost_messages)" = 30 ] &&
    grep -q 'LOSS from .*: messages 14000900..14000929: retries' "$tmp/h.err" &&
    [ "$(grep -c 're-requests to 127.0.0.1:9 get no answer' "$tmp/h.err")" = 1 ]; r=$?
check "the hole live, no re-request server: $(field "$tmp/h.json" received) delivered, $(field "$tmp/h.json" lost_messages) lost as 14000900..14000929 (retries), said once: $(grep -o 're-requests to [^ ]* get no answer ([^)]*)' "$tmp/h.err" | head -1)" $r

# --- 4c. the generated mix on a MoldUDP64 channel
"$B/seqcast-sub" "${LIVE[@]}" --count 5000 --verify --timeout 20 --quiet >"$tmp/g.json" 2>"$tmp/g.err" &
sub=$!
sleep 0.3
"$B/seqcast-pub" "${LIVE[@]}" --count 5000 --rate 50000 --linger 0.5 >"$tmp/gp.json" 2>"$tmp/gp.err"
prc=$?
wait $sub; rc=$?
[ $prc -eq 0 ] && [ $rc -eq 0 ] && [ "$(field "$tmp/g.json" received)" = 5000 ] &&
    [ "$(field "$tmp/g.json" verify_errors)" = 0 ]; r=$?
check "seqcast-pub --count 5000 (mixed sizes, the big ones cut to a packet) -> seqcast-sub --verify: $(field "$tmp/g.json" received) verified (exits $prc $rc)" $r

# --- 5-7. seqcast on both sides across namespaces, with loss
netns_pair "smo$$" 198.18.22
N=100000
# mixed sizes that fit a packet (MoldUDP64 has no fragments: seqcast-pub's generated mix
# holds 3000-byte messages), from the spec peer's generator when it is built
"$ROOT/$BUILD/tests/mold_peer" gen --count $N --seed 9 --output "$tmp/in.bin" 2>/dev/null ||
    "$B/seqcast-pub" --count $N --size 48 --write "$tmp/in.bin"
CH=(--set protocol=moldudp64 --group 239.198.18.79:26500 --set rcvbuf=16MiB)
$NSA nft add table netdev loss
$NSA nft add chain netdev loss eg "{ type filter hook egress device eth0 priority 0; }"
$NSA nft add rule netdev loss eg meta protocol ip numgen random mod 1000 '<' 20 counter drop
for i in 1 2; do
    $NSB "$B/seqcast-sub" "${CH[@]}" --interface 198.18.22.2 --count $N --output "$tmp/out$i.bin" \
        --timeout 60 --quiet $([ $i = 1 ] && echo --record "$tmp/s1.pcap") >"$tmp/s$i.json" 2>"$tmp/s$i.err" &
done
sleep 0.5
$NSA "$B/seqcast-pub" "${CH[@]}" --interface 198.18.22.1 --input "$tmp/in.bin" --rate 50000 \
    --linger 2 >"$tmp/pub.json" 2>"$tmp/pub.err"
prc=$?
wait
dropped=$($NSA nft list table netdev loss | grep -o 'packets [0-9]*' | awk '{print $2}')
cmp -s "$tmp/in.bin" "$tmp/out1.bin" && cmp -s "$tmp/in.bin" "$tmp/out2.bin"; r=$?
check "seqcast-pub -> 2 x seqcast-sub, MoldUDP64 under 2 % loss (${dropped:-0} packets dropped): both outputs equal the input ($N messages; publisher exit $prc)" $r
[ "${dropped:-0}" -gt 0 ] && [ "$(field "$tmp/s1.json" requests_sent)" -gt 0 ] && [ "$(field "$tmp/s1.json" repaired)" -gt 0 ] &&
    [ "$(field "$tmp/pub.json" mold_req_answered)" -gt 0 ] && [ "$(field "$tmp/s1.json" lost_messages)" = 0 ]; r=$?
check "  repaired by re-requests: subscriber 1 sent $(field "$tmp/s1.json" requests_sent) requests, $(field "$tmp/s1.json" repaired) messages repaired; the publisher answered $(field "$tmp/pub.json" mold_req_answered) of $(field "$tmp/pub.json" mold_requests)" $r
# subscriber 1's --record: its requests leave from the port the answers come back to
if command -v tshark >/dev/null; then
    from=$(tshark -r "$tmp/s1.pcap" -Y 'ip.src == 198.18.22.2' -T fields -e udp.srcport 2>/dev/null | sort -u | paste -sd,)
    to=$(tshark -r "$tmp/s1.pcap" -Y 'ip.dst == 198.18.22.2' -T fields -e udp.dstport 2>/dev/null | sort -u | paste -sd,)
    [ -n "$from" ] && [ "$from" = "$to" ] && [ "$from" != 26500 ]; r=$?
    check "  seqcast-sub --record: its requests recorded from port $from, the port the answers reach ($to)" $r
else
    skip "seqcast-sub --record's ports" "tshark not installed"
fi
$NSA nft delete table netdev loss

# --- 7. A/B lines: line A gone
$NSA nft add table netdev ab
$NSA nft add chain netdev ab eg "{ type filter hook egress device eth0 priority 0; }"
$NSA nft add rule netdev ab eg ip daddr 239.198.18.80 counter drop
AB=(--set protocol=moldudp64 --group 239.198.18.80:26600 --set group_b=239.198.18.81)
$NSB "$B/seqcast-sub" "${AB[@]}" --interface 198.18.22.2 --count 20000 --verify --timeout 30 --quiet \
    >"$tmp/ab.json" 2>"$tmp/ab.err" &
sub=$!
sleep 0.5
$NSA "$B/seqcast-pub" "${AB[@]}" --interface 198.18.22.1 --count 20000 --size 64 --rate 20000 \
    --linger 0.5 >"$tmp/abp.json" 2>"$tmp/abp.err"
wait $sub; rc=$?
adrop=$($NSA nft list table netdev ab | grep -o 'packets [0-9]*' | awk '{print $2}')
[ $rc -eq 0 ] && [ "$(field "$tmp/ab.json" received)" = 20000 ] && [ "$(field "$tmp/ab.json" requests_sent)" = 0 ] &&
    [ "${adrop:-0}" -gt 0 ]; r=$?
check "A/B lines, line A dropped (${adrop:-0} packets): all 20000 through line B, verified, $(field "$tmp/ab.json" requests_sent) requests (exit $rc)" $r
for f in "$tmp"/*.err; do sed "s|^|# $(basename "$f"): |" "$f" | head -3; done
exit 0
