#!/usr/bin/env bash
# Real network: seqcast-pub in one network namespace, three seqcast-sub in three
# others, joined by a bridge that lives in a namespace of its own (the host's
# namespace is not touched). 2% loss on the publisher's link, injected by an
# nftables rule in the netdev egress hook of its veth (this kernel has no
# netem), which the sender sees as ordinary wire loss. 200,000 messages of
# mixed sizes (some fragmented) from an --input file; every --output must equal
# the input (cmp); kill -9 of one subscriber must not disturb the others.
#
# Hosts 198.18.0.0/24, group 239.198.18.1: nothing leaves the namespaces.
# Speaks TAP; without root or `ip netns` it reports every check as skipped.
set -u
. "$(dirname "$0")/../support/tap.sh" "netns test" 7
N=${NETNS_MSGS:-200000}
T=sc$$            # namespace prefix, unique per run
need_root "network namespaces, nftables"
need_cmd "iproute2 and nftables" ip nft
ip netns add "${T}probe" 2>/dev/null || skip_all "cannot create network namespaces here"
ip netns del "${T}probe"

pids=()
on_exit 'for ns in pub sub1 sub2 sub3 sw; do ip netns del "$T$ns" 2>/dev/null; done'

. "$(dirname "$0")/../support/netns.sh"

# --- topology: a bridge in ${T}sw, one veth per host
bridge_ns
host pub 198.18.0.1
host sub1 198.18.0.11
host sub2 198.18.0.12
host sub3 198.18.0.13

# --- 2% loss on everything the publisher sends
ns pub nft add table netdev loss
ns pub nft add chain netdev loss eg "{ type filter hook egress device eth0 priority 0; }"
ns pub nft add rule netdev loss eg meta protocol ip numgen random mod 1000 '<' 20 counter drop

CH=(--group 239.198.18.1:31001 --set nak_port=31000 --set loop=false)
"$B/seqcast-pub" --count "$N" --write "$tmp/in.bin"

for i in 1 2 3; do
    # ip netns exec execs in place: $! is the subscriber itself (kill -9 must reach it)
    ip netns exec "${T}sub$i" "$B/seqcast-sub" "${CH[@]}" --interface "198.18.0.1$i" --count "$N" \
        --output "$tmp/out$i.bin" --timeout 60 --quiet >"$tmp/sub$i.json" 2>"$tmp/sub$i.err" &
    pids+=($!)
done
sleep 0.5
ip netns exec "${T}pub" "$B/seqcast-pub" "${CH[@]}" --interface 198.18.0.1 --input "$tmp/in.bin" \
    --rate 100000 --linger 3 >"$tmp/pub.json" 2>"$tmp/pub.err" &
pubpid=$!
pids+=($pubpid)
sleep 1
kill -9 "${pids[2]}" 2>/dev/null   # subscriber 3 dies mid-stream
wait "${pids[2]}" 2>/dev/null
wait "${pids[0]}"; rc1=$?
wait "${pids[1]}"; rc2=$?
wait "$pubpid"; rcp=$?

dropped=$(ns pub nft list table netdev loss 2>/dev/null | grep -o 'packets [0-9]*' | awk '{print $2}')

for i in 1 2; do
    cmp -s "$tmp/in.bin" "$tmp/out$i.bin"; r=$?
    check "subscriber $i: output equals the input ($N messages; $(field_first "$tmp/sub$i.json" repaired) packets repaired, $(field_first "$tmp/sub$i.json" naks_sent) NAKs)" $r
    [ "$(eval echo \$rc$i)" -eq 0 ] && [ "$(field_first "$tmp/sub$i.json" complete)" = true ]; r=$?
    check "subscriber $i: exit 0, complete, no loss, $(field_first "$tmp/sub$i.json" duplicates_dropped) duplicates dropped" $r
done
[ "${dropped:-0}" -gt 0 ] && [ "$(field_first "$tmp/sub1.json" repaired)" -gt 0 ]; r=$?
check "loss was real: nftables dropped ${dropped:-0} of the publisher's packets, and they were repaired" $r
[ "$rcp" -eq 0 ] && [ "$(field_first "$tmp/pub.json" naks_received)" -gt 0 ]; r=$?
check "publisher: exit 0, $(field_first "$tmp/pub.json" naks_received) NAKs served with $(field_first "$tmp/pub.json" rdata_sent) repairs despite subscriber 3's kill -9" $r
in=$(stat -c %s "$tmp/in.bin"); out3=$(stat -c %s "$tmp/out3.bin" 2>/dev/null || echo 0)
[ "$out3" -lt "$in" ]; r=$?
check "subscriber 3 really died mid-stream (its output stopped at $out3 of $in bytes)" $r
for f in "$tmp"/*.err; do sed "s|^|# $(basename "$f"): |" "$f" | head -5; done
exit 0
