#!/usr/bin/env bash
# pcap record and replay, real processes:
#  1. seqcast-pcapgen makes tests/data/ byte for byte (the captures are ours, reproducible)
#  2. a capture as the network: seqcast-sub --pcap reads feed.pcap whole, every byte verified;
#     pcapng, raw-IP and Linux-cooked versions of it too
#  3. a hole no one can repair (feed_hole.pcap): one typed loss event with the exact range
#     (messages 101..110), then normal delivery of the rest
#  4. record -> replay round trip: what seqcast-pub --record wrote, replayed to another group,
#     arrives at a recording subscriber as identical payloads in identical order
#  5. replay with --loss 5 into a live subscriber while the publisher that made the capture
#     serves the NAKs (its own SPM and ODATA are dropped by nftables, so the subscriber
#     learns of the stream from the replay alone; the replay sends the capture's SPM and
#     ODATA, read while the publisher's recording still grows): all delivered
#  6. --speed 1 on a 10,000-packet capture: the gap error, reported (median, p99), not asserted
#  7. truncated, garbage, empty and unsupported-link-type files: a clear error, no crash
#  9. --loop 2 with --reorder and --duplicate into a live subscriber: every message once, in
#     order (the second pass and the copies are dropped as duplicates); --burst-loss drops in
#     runs of N
#  8. --record-count with --record-files rotates through a bounded set of files; on a tty
#     seqcast-replay shows a progress line (packets, %, rate, ETA), and none when piped
# 10. a capture taken with tshark on the sending host's loopback, where the publisher's UDP GSO
#     sends appear as single datagrams holding many PGM packets: seqcast-sub --pcap splits
#     them and delivers every message, verified
# Checks 5 and 10 need root (namespaces, capturing); without it they are skipped, loudly.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$ROOT/$BUILD/bin
D=$ROOT/tests/data
tmp=$(mktemp -d /tmp/seqcast-replay-XXXXXX)
NS=scrp$$
trap 'jobs -p | xargs -r kill -9 2>/dev/null; ip netns del $NS 2>/dev/null; rm -rf "$tmp"' EXIT
P=$((30000 + $$ % 10000))
echo "TAP version 13"
echo "1..22"
n=0
check() { n=$((n + 1)); if [ "$2" -eq 0 ]; then echo "ok $n - $1"; else echo "not ok $n - $1"; fi; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
field() { grep -o "\"$2\": [0-9a-z.]*" "$1" | tail -1 | awk '{print $2}'; }
# the payload sequence of a capture: length, hash and PGM fields, no times or addresses
payloads() { "$B/seqcast-replay" --list "$@" | sed -E 's/^[0-9]+ [0-9.]+ [^ ]+ > [^ ]+ //'; }

# --- 1. the generator reproduces tests/data
"$B/seqcast-pcapgen" -o "$tmp/gen" >/dev/null
r=0; for f in "$D"/*.pcap; do cmp -s "$f" "$tmp/gen/$(basename "$f")" || { r=1; echo "# differs: $f"; }; done
check "seqcast-pcapgen reproduces every capture in tests/data ($(ls "$D"/*.pcap | wc -l) files) byte for byte" $r

# --- 2. a capture as the network
"$B/seqcast-sub" --pcap "$D/feed.pcap" --verify -q >"$tmp/s2.json" 2>"$tmp/s2.err"; rc=$?
[ $rc -eq 0 ] && [ "$(field "$tmp/s2.json" received)" = 1000 ] && [ "$(field "$tmp/s2.json" verify_errors)" = 0 ] \
    && [ "$(field "$tmp/s2.json" lost_messages)" = 0 ]; r=$?
check "seqcast-sub --pcap feed.pcap: 1000 of 1000 messages, every byte verified, nothing lost" $r
# the delivery rate is measured from the first message to the last, even when the whole
# capture goes through in one run of engine passes (it was reported as 0 then)
[ "$(field "$tmp/s2.json" msgs_per_s)" -gt 0 ] 2>/dev/null; r=$?
check "  its delivery rate is reported ($(field "$tmp/s2.json" msgs_per_s) msgs/s, not 0)" $r
r=0; for f in feed_rawip feed_sll; do
    "$B/seqcast-sub" --pcap "$D/$f.pcap" --verify -q >"$tmp/$f.json" 2>&1 || r=1
    [ "$(field "$tmp/$f.json" received)" = 1000 ] || r=1; done
check "raw-IP and Linux-cooked captures of the same feed read the same (1000 messages each)" $r
if command -v editcap >/dev/null; then
    editcap -F pcapng "$D/feed.pcap" "$tmp/feed.pcapng" 2>/dev/null
    "$B/seqcast-sub" --pcap "$tmp/feed.pcapng" --verify -q >"$tmp/ng.json" 2>&1; rc=$?
    [ $rc -eq 0 ] && [ "$(field "$tmp/ng.json" received)" = 1000 ]; r=$?
    check "a pcapng file (editcap -F pcapng): 1000 messages" $r
else
    skip "a pcapng file" "editcap (wireshark-common) not installed"
fi

# --- 3. a hole no one can repair
"$B/seqcast-sub" --pcap "$D/feed_hole.pcap" --verify -q -o "$tmp/hole.msgs" >"$tmp/s3.json" 2>"$tmp/s3.err"; rc=$?
ranges=$(grep -o '"lost_ranges": \[[^]]*\]' "$tmp/s3.json")
want=$("$B/seqcast-replay" --list "$D/feed.pcap" | awk '$10=="ODATA" && $12>=100 && $12<=109 {split($16,a,"+"); if (!f) f=a[1]; l=a[1]+a[2]-1} END {print f".."l}')
[ $rc -eq 1 ] && [ "$ranges" = '"lost_ranges": [{"first": 101, "last": 110, "reason": "retries"}]' ] \
    && [ "$want" = "101..110" ] && grep -q "LOSS .*messages 101..110 (10 packets): retries" "$tmp/s3.err"; r=$?
check "feed_hole.pcap: exactly one typed loss event, messages $want (the capture's missing ODATA 100-109), exit status 1" $r
[ "$(field "$tmp/s3.json" received)" = 990 ] && [ "$(field "$tmp/s3.json" verify_errors)" = 0 ] \
    && [ "$(stat -c %s "$tmp/hole.msgs")" = $((990 * 34)) ]; r=$?
check "  then normal delivery: the other 990 messages, in order, every byte verified" $r

# --- 4. record -> replay round trip
G1=239.192.5.1:$P G2=239.192.5.2:$((P + 2))
"$B/seqcast-pub" --count 3000 --size 100 --rate 30000 --linger 0.3 --group $G1 --record "$tmp/pub.pcap" >"$tmp/p4.json" 2>/dev/null
# (--count above what arrives: it listens until --timeout, recording the trailing SPMs too)
"$B/seqcast-sub" --group $G2 --count 3001 --verify --timeout 2.5 -q --record "$tmp/sub.pcap" >"$tmp/s4.json" 2>"$tmp/s4.err" &
s=$!
sleep 0.3
"$B/seqcast-replay" --max -q --group $G2 --filter "udp dst port $P" "$tmp/pub.pcap" >"$tmp/r4.json" 2>"$tmp/r4.err"
wait $s; rc=$?
payloads --filter "udp dst port $P" "$tmp/pub.pcap" >"$tmp/a.list"
payloads --filter "udp dst port $((P + 2))" "$tmp/sub.pcap" >"$tmp/b.list"
[ -s "$tmp/a.list" ] && cmp -s "$tmp/a.list" "$tmp/b.list"; r=$?
check "record -> replay -> record: $(wc -l <"$tmp/b.list") of $(wc -l <"$tmp/a.list") datagrams, identical payloads (FNV-1a) in identical order" $r
[ "$(field "$tmp/s4.json" received)" = 3000 ] && [ "$(field "$tmp/s4.json" lost_messages)" = 0 ] && [ "$(field "$tmp/s4.json" verify_errors)" = 0 ]; r=$?
check "  the subscriber on the replay got all 3000 messages, verified" $r

# --- 5. --loss 5 into a live subscriber; the original publisher repairs
if [ "$(id -u)" -ne 0 ] || ! command -v nft >/dev/null || ! ip netns add $NS 2>/dev/null; then
    skip "replay --loss 5 into a live subscriber, publisher serving NAKs" "needs root, nftables and network namespaces"
    skip "  the repairs came from the publisher" "needs root"
else
    X="ip netns exec $NS"
    $X ip link set lo up
    $X ip route add 239.0.0.0/8 dev lo
    # the publisher's own multicast SPM (type 0) and ODATA (4) never arrive; NCF and RDATA do
    $X nft -f - <<EON
table inet sc_replay_test {
    chain out { type filter hook output priority 0;
        ip daddr 239.192.6.1 udp sport $((P + 5)) @th,96,8 { 0, 4 } counter drop
    }
}
EON
    G=239.192.6.1:$((P + 4))
    $X "$B/seqcast-pub" --count 5000 --size 100 --rate 50000 --linger 12 --group $G --set nak_port=$((P + 5)) \
        --record "$tmp/live.pcap" >"$tmp/p5.json" 2>/dev/null &
    p=$!
    sleep 0.5
    $X "$B/seqcast-sub" --group $G --set nak_port=$((P + 5)) --count 5000 --verify --timeout 20 -q >"$tmp/s5.json" 2>"$tmp/s5.err" &
    s=$!
    sleep 0.3
    $X "$B/seqcast-replay" --loss 5 --seed 11 -q --group $G --filter "udp dst port $((P + 4)) and (udp[12] = 0 or udp[12] = 4)" "$tmp/live.pcap" >"$tmp/r5.json" 2>"$tmp/r5.err"
    wait $s; rc=$?
    kill -INT $p 2>/dev/null; wait $p 2>/dev/null
    dropped=$($X nft list table inet sc_replay_test | grep -o 'packets [0-9]*' | awk '{print $2}')
    $X nft delete table inet sc_replay_test
    [ $rc -eq 0 ] && [ "$(field "$tmp/s5.json" received)" = 5000 ] && [ "$(field "$tmp/s5.json" lost_messages)" = 0 ] \
        && [ "$(field "$tmp/s5.json" verify_errors)" = 0 ]; r=$?
    check "replay --loss 5 (dropped $(field "$tmp/r5.json" dropped) of $(field "$tmp/r5.json" datagrams)) into a live subscriber: 5000 of 5000 delivered, verified, none lost" $r
    # the replay dropped SPMs too, which need no repair: every repair is RDATA from the publisher
    [ "$(field "$tmp/s5.json" rdata_received)" -gt 0 ] 2>/dev/null && [ "$(field "$tmp/s5.json" naks_sent)" -gt 0 ] \
        && [ "$(field "$tmp/s5.json" repaired)" -gt 0 ] && [ "$(field "$tmp/r5.json" dropped)" -gt 0 ] \
        && [ "${dropped:-0}" -gt 0 ]; r=$?
    check "  the repairs came from the publisher: $(field "$tmp/s5.json" repaired) repaired, $(field "$tmp/s5.json" rdata_received) RDATA for $(field "$tmp/s5.json" naks_sent) NAKs; its own data dropped by nftables: ${dropped:-0} packets" $r
fi

# --- 6. timing: --speed 1 on a 10,000-packet capture
"$B/seqcast-pub" --count 10000 --size 64 --rate 20000 --linger 0.1 --group 239.192.5.3:$((P + 6)) --set framing=raw \
    --record "$tmp/t.pcap" >/dev/null 2>&1
"$B/seqcast-replay" -q --group 239.192.5.4:$((P + 8)) --filter "udp dst port $((P + 6))" "$tmp/t.pcap" >"$tmp/r6.json"
g=$(grep -o '"gap_error_us": {[^}]*}' "$tmp/r6.json")
gaps=$(echo "$g" | grep -o '"gaps": [0-9]*' | awk '{print $2}')
[ "$(field "$tmp/r6.json" sent)" = "$(field "$tmp/r6.json" datagrams)" ] && [ "${gaps:-0}" -ge 10000 ]; r=$?
check "--speed 1 over $(field "$tmp/r6.json" datagrams) datagrams in $(field "$tmp/r6.json" seconds) s: gap error $(echo "$g" | sed 's/"gap_error_us": //') (figure, not asserted)" $r

# --- 7. damaged and foreign files
head -c 50000 "$D/feed.pcap" >"$tmp/trunc.pcap"
"$B/seqcast-replay" --max -q --group 239.192.5.5:$((P + 9)) "$tmp/trunc.pcap" >"$tmp/r7.json" 2>"$tmp/r7.err"; rc=$?
[ $rc -eq 1 ] && grep -q "damaged after record" "$tmp/r7.err" && [ "$(field "$tmp/r7.json" damaged_file)" = true ] \
    && [ "$(field "$tmp/r7.json" sent)" -gt 0 ]; r=$?
check "a truncated capture: what was readable is sent ($(field "$tmp/r7.json" sent) datagrams), then '$(head -1 "$tmp/r7.err" | cut -c1-70)...', exit 1" $r
"$B/seqcast-sub" --pcap "$tmp/trunc.pcap" -q >"$tmp/s7.json" 2>"$tmp/s7.err"; rc=$?
[ $rc -eq 1 ] && grep -q "damaged after record" "$tmp/s7.err"; r=$?
check "  seqcast-sub --pcap on it: the same clear message, the readable part delivered, no crash" $r
head -c 3000 /dev/urandom >"$tmp/garbage.pcap"; : >"$tmp/empty.pcap"; printf '\xd4\xc3\xb2\xa1' >"$tmp/hdr.pcap"
r=0; for f in garbage empty hdr; do
    "$B/seqcast-replay" -q "$tmp/$f.pcap" >/dev/null 2>"$tmp/$f.err"; rc=$?
    [ $rc -eq 1 ] && grep -q "^seqcast-replay: $tmp/$f.pcap: " "$tmp/$f.err" || { r=1; echo "# $f: rc=$rc $(cat "$tmp/$f.err")"; }; done
check "garbage, empty and header-only files: exit 1 with the file named ($(head -1 "$tmp/garbage.err" | sed "s|$tmp/||"))" $r
"$B/seqcast-replay" -q "$D/wifi.pcap" >/dev/null 2>"$tmp/w.err"; rc=$?
[ $rc -eq 1 ] && grep -q "link type 105 (IEEE802_11) is not supported" "$tmp/w.err"; r=$?
check "an 802.11 capture: refused by name ($(sed "s|$D/||" "$tmp/w.err"))" $r

# --- 9. loop, reorder, duplicate, burst loss
G9=239.192.5.8:$((P + 14))
"$B/seqcast-sub" --group $G9 --count 1001 --verify --timeout 2.5 -q >"$tmp/s9.json" 2>"$tmp/s9.err" &
s=$!
sleep 0.3
# (ODATA only: with the SPMs, the first pass's FIN would end the session and the second pass
#  would be a new session of the same source, delivered again)
"$B/seqcast-replay" --loop 2 --reorder 5 --duplicate 5 --seed 5 --pps 20000 -q --group $G9 --filter 'udp[12] = 4' \
    "$D/feed.pcap" >"$tmp/r9.json" 2>&1
wait $s
[ "$(field "$tmp/s9.json" received)" = 1000 ] && [ "$(field "$tmp/s9.json" verify_errors)" = 0 ] \
    && [ "$(field "$tmp/s9.json" lost_messages)" = 0 ] && [ "$(field "$tmp/r9.json" reordered)" -gt 0 ] \
    && [ "$(field "$tmp/r9.json" duplicated)" -gt 0 ] \
    && [ "$(field "$tmp/r9.json" sent)" = $((2 * 1000 + $(field "$tmp/r9.json" duplicated))) ] \
    && [ "$(field "$tmp/s9.json" duplicates_dropped)" -ge 1000 ]; r=$?
check "--loop 2 --reorder 5 --duplicate 5: $(field "$tmp/r9.json" sent) datagrams sent ($(field "$tmp/r9.json" reordered) reordered, $(field "$tmp/r9.json" duplicated) duplicated); the subscriber delivered 1000 once, in order, verified ($(field "$tmp/s9.json" duplicates_dropped) duplicates dropped)" $r
"$B/seqcast-replay" --max --burst-loss 10@1 --seed 9 -q --group 239.192.5.9:$((P + 16)) --loop 5 "$D/feed.pcap" >"$tmp/r9b.json" 2>&1
bd=$(field "$tmp/r9b.json" burst_dropped)
[ "${bd:-0}" -gt 0 ] && [ $((bd % 10)) -eq 0 ] && [ "$(field "$tmp/r9b.json" dropped)" = 0 ] \
    && [ "$(field "$tmp/r9b.json" sent)" = $((5 * 1012 - bd)) ]; r=$?
check "--burst-loss 10@1 over 5 loops: $bd datagrams dropped, in whole runs of 10; the rest sent" $r

# --- 8. rotation; progress on a tty
"$B/seqcast-pub" --count 3000 --size 64 --rate 50000 --linger 0.1 --group 239.192.5.6:$((P + 10)) \
    --record "$tmp/rot.pcap" --record-count 400 --record-files 3 >/dev/null 2>&1
r=0; tot=0; for f in "$tmp/rot.pcap" "$tmp/rot.pcap.1" "$tmp/rot.pcap.2"; do
    k=$("$B/seqcast-replay" --list "$f" | wc -l); tot=$((tot + k)); [ "$k" -ge 1 ] && [ "$k" -le 400 ] || r=1; done
[ -e "$tmp/rot.pcap.3" ] && r=1
check "--record-count 400 --record-files 3: three files of at most 400 packets ($tot in all), the oldest overwritten, no fourth" $r
"$B/seqcast-pub" --count 2000 --size 64 --rate 50000 --linger 0.1 --group 239.192.5.6:$((P + 10)) \
    --record "$tmp/sz.pcap" --record-size 0.05 >/dev/null 2>&1
nf=$(ls "$tmp"/sz.pcap* | wc -l); big=$(stat -c %s "$tmp"/sz.pcap* | sort -n | tail -1)
tot=$(for f in "$tmp"/sz.pcap*; do "$B/seqcast-replay" --list --filter "udp dst port $((P + 10))" "$f"; done |
      awk '$10=="ODATA" {split($16, a, "+"); s += a[2]} END {print s + 0}')
[ "$nf" -ge 3 ] && [ "$big" -le 51600 ] && [ "$tot" = 2000 ]; r=$?
check "--record-size 0.05 (50 kB): $nf files, the largest $big bytes; their ODATA hold all $tot of 2000 messages (none lost to rotation)" $r
if command -v script >/dev/null; then
    script -qec "$B/seqcast-replay --pps 2000 --group 239.192.5.7:$((P + 12)) $D/feed.pcap" /dev/null >"$tmp/tty.out" 2>&1
    "$B/seqcast-replay" --pps 20000 --group 239.192.5.7:$((P + 12)) "$D/feed.pcap" >"$tmp/notty.out" 2>&1
    grep -q 'datagrams (100%).*ETA' "$tmp/tty.out" && ! grep -q ETA "$tmp/notty.out"; r=$?
    check "progress line on a tty ('$(tr '\r' '\n' <"$tmp/tty.out" | grep ETA | tail -1 | sed 's/ *$//')'), none when piped" $r
else
    skip "progress line on a tty" "script (util-linux) not installed"
fi
# --- 10. a capture on the sending host shows UDP GSO sends whole
if [ "$(id -u)" -eq 0 ] && command -v tshark >/dev/null; then
    tshark -i lo -f "udp port $((P + 14))" -F pcap -w "$tmp/lo.pcap" -q 2>/dev/null &
    ts=$!
    for i in $(seq 1 50); do [ -s "$tmp/lo.pcap" ] && break; sleep 0.1; done # capturing
    sleep 0.5
    "$B/seqcast-pub" --count 3000 --size 100 --set framing=raw --group 239.192.5.8:$((P + 14)) \
        --linger 0.3 >"$tmp/gp.json" 2>/dev/null
    sleep 0.5; kill -INT $ts; wait $ts 2>/dev/null
    recs=$(tshark -r "$tmp/lo.pcap" 2>/dev/null | wc -l)
    dgrams=$("$B/seqcast-replay" --list "$tmp/lo.pcap" 2>/dev/null | wc -l)
    "$B/seqcast-sub" --pcap "$tmp/lo.pcap" --group 239.192.5.8:$((P + 14)) --set framing=raw --verify -q \
        >"$tmp/g.json" 2>&1; rc=$?
    [ "$(field "$tmp/gp.json" link_tx_gso_sends)" -gt 0 ] && [ "$dgrams" -gt "$recs" ] && [ $rc -eq 0 ] \
        && [ "$(field "$tmp/g.json" received)" = 3000 ] && [ "$(field "$tmp/g.json" verify_errors)" = 0 ]; r=$?
    check "tshark on the sender's loopback: $recs records hold $dgrams PGM packets ($(field "$tmp/gp.json" link_tx_gso_sends) GSO sends); seqcast-sub --pcap splits them: $(field "$tmp/g.json" received) of 3000 messages, verified" $r
else
    skip "a capture on the sending host with UDP GSO sends" "needs root and tshark to capture on lo"
fi
exit 0
