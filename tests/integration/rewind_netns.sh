#!/usr/bin/env bash
# Failover between two archives on different hosts, in network namespaces: a
# publisher (198.18.2.1), archives A (.21) and B (.22) recording the same
# MoldUDP64 channel and serving rewinds, and a late subscriber (.11) listing
# both (--archive A,B --late-join archive), joined by a bridge in a namespace
# of its own. A's rewind output is slowed by an nftables rule (so the rewind is
# still running a second later), then A is kill -9ed mid-rewind: the
# subscriber fails over to B and its output is byte for byte what the
# publisher sent, with no loss event.
#
# Hosts 198.18.2.0/24, group 239.198.18.2: nothing leaves the namespaces.
set -u
. "$(dirname "$0")/../support/tap.sh" "rewind failover in namespaces" 3
N=160000
T=sr$$
need_root "network namespaces, nftables"
need_cmd "iproute2 and nftables" ip nft
ip netns add "${T}probe" 2>/dev/null || skip_all "cannot create network namespaces here"
ip netns del "${T}probe"
on_exit 'for ns in pub arca arcb sub sw; do ip netns del "$T$ns" 2>/dev/null; done'

. "$(dirname "$0")/../support/netns.sh"
bridge_ns
host pub 198.18.2.1
host arca 198.18.2.21
host arcb 198.18.2.22
host sub 198.18.2.11

# A's rewind output: 256 KiB/s (the subscriber's rewind from it is far from done a second later)
ns arca nft add table inet slow
ns arca nft add chain inet slow out "{ type filter hook output priority 0; }"
ns arca nft add rule inet slow out tcp sport 31100 limit rate over 256 kbytes/second drop

CH=(--set protocol=moldudp64 --group 239.198.18.2:31001 --set loop=false)
"$B/seqcast-pub" --count $N --size 40 --write "$tmp/in.bin" >/dev/null 2>&1
ip netns exec "${T}arca" "$B/seqcast-archive" --dir "$tmp/a" "${CH[@]}" --interface 198.18.2.21 \
    --rewind 198.18.2.21:31100 --timeout 40 --quiet >"$tmp/a.json" 2>"$tmp/a.err" &
arca=$!
ip netns exec "${T}arcb" "$B/seqcast-archive" --dir "$tmp/b" "${CH[@]}" --interface 198.18.2.22 \
    --rewind 198.18.2.22:31100 --timeout 40 --quiet >"$tmp/b.json" 2>"$tmp/b.err" &
arcb=$!
sleep 0.5
ip netns exec "${T}pub" "$B/seqcast-pub" "${CH[@]}" --interface 198.18.2.1 --count $N --size 40 \
    --rate 20000 --linger 1 >"$tmp/p.json" 2>"$tmp/p.err" &
pub=$!
sleep 3
ip netns exec "${T}sub" timeout 40 "$B/seqcast-sub" "${CH[@]}" --interface 198.18.2.11 \
    --archive 198.18.2.21:31100,198.18.2.22:31100 --late-join archive --count $N \
    --output "$tmp/out.bin" --timeout 30 --quiet >"$tmp/s.json" 2>"$tmp/s.err" &
sub=$!
sleep 1
early=$(stat -c %s "$tmp/out.bin" 2>/dev/null || echo 0)
kill -9 $arca; wait $arca 2>/dev/null
wait $sub; rc=$?
wait $pub
kill $arcb 2>/dev/null; wait $arcb

in=$(stat -c %s "$tmp/in.bin")
[ "$early" -gt 0 ] && [ "$early" -lt $((in / 3)) ]; r=$?
check "archive A killed mid-rewind: the subscriber had $early of $in bytes (from A, slowed) when it died" $r
[ $rc -eq 0 ] && cmp -s "$tmp/in.bin" "$tmp/out.bin" && [ "$(field "$tmp/s.json" loss_events)" = 0 ]; r=$?
check "the subscriber failed over to B: $(field "$tmp/s.json" received) of $N, cmp-equal to what was sent, no loss event (exit $rc)" $r
[ $r -eq 0 ] || { tail -n 3 "$tmp/s.err" "$tmp/b.err"; cat "$tmp/s.json"; } | sed 's/^/# /'
[ "$(field "$tmp/s.json" rewind_failovers)" -ge 1 ] && [ "$(field "$tmp/s.json" msgs_rewind)" -gt 50000 ]; r=$?
check "$(field "$tmp/s.json" rewind_failovers) failover(s); $(field "$tmp/s.json" msgs_rewind) messages by rewind, $(field "$tmp/s.json" msgs_held) held then merged" $r
exit 0
