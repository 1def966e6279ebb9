#!/usr/bin/env bash
# The independent MoldUDP64 server (tests/interop/mold_peer.c `serve`, written
# from the spec alone) feeding seqcast-sub (protocol: moldudp64), across two
# network namespaces (${T}a: the server, 198.18.23.1; ${T}b: seqcast-sub,
# 198.18.23.2), with 2 % nftables loss on the server's egress -- live
# multicast and unicast answers alike:
#   A. 100,000 mixed-size messages, re-requests to mold.request_servers (the
#      server's own port): the output is the input (cmp), gaps were repaired by
#      the peer's unicast answers (counted on both sides). gso: false -- the
#      subscriber reads without UDP GRO (B, C: with it), and its requests leave
#      one per datagram, so that a capture on this host shows them as the wire
#      does (E; a GSO send is one large datagram to a tap on the sending host).
#      late_join: first -- there before the server starts, the subscriber
#      joins at message 1 if its packet arrives; if the 2 % took it (the
#      server's first 1 ms tick sends message 1 alone) it asks for it instead
#      of starting at message 2
#   B. a subscriber started after the last message left, late_join: first:
#      all 100,000 recovered by re-requests alone, the source ended by End of
#      Session
#   C. a session numbered from 14,000,000, mold.session set, requests to the
#      default place (auto: the data's source address at the data port, where
#      this server listens): all 20,000 from exactly 14,000,000
#   D. the same into seqcast-sub on DPDK (net_af_packet on ${T}b's veth, an
#      address of its own, 198.18.23.3): requests leave from its own port and
#      the unicast answers come back there (skipped when built without DPDK)
#   E. tshark reads a capture of A (in ${T}b): seqcast-sub's requests and the
#      answers dissect as MoldUDP64 with no warning
set -u
. "$(dirname "$0")/../support/tap.sh" "MoldUDP64 server -> seqcast-sub" 9
PEER=$ROOT/$BUILD/tests/mold_peer
N=${MOLDSUB_MSGS:-100000}
T=sms$$
netns_pair "$T" 198.18.23
[ -x "$PEER" ] || skip_all "mold_peer not built ($PEER)"
[ -x "$B/seqcast-sub" ] || skip_all "seqcast-sub not built"

SA=198.18.23.1 SB=198.18.23.2
GA=239.198.18.51 GB=239.198.18.52 GC=239.198.18.53 GD=239.198.18.54
GPORT=36201 LPORT=36301
FIRST_C=14000000
# 2 % of what the server's namespace sends, except C's first data packet
# (MoldUDP64 sequence at UDP payload bytes 10-17 = 14,000,000): a live
# subscriber starts where its first packet is
$NSA nft add table netdev loss
$NSA nft add counter netdev loss first_c
$NSA nft add counter netdev loss rnd
$NSA nft add chain netdev loss eg "{ type filter hook egress device eth0 priority 0; }"
$NSA nft add rule netdev loss eg meta protocol ip ip daddr $GC udp dport $GPORT \
    @th,144,64 $FIRST_C counter name first_c accept
$NSA nft add rule netdev loss eg meta protocol ip numgen random mod 1000 '<' 20 counter name rnd drop
nft_count() { $NSA nft list counter netdev loss "$1" | grep -o 'packets [0-9]*' | awk '{print $2}'; }

"$PEER" gen --count "$N" --seed 1 --output "$tmp/in.bin"
"$PEER" gen --count 20000 --seed 3 --output "$tmp/inc.bin"
f() { field "$1" "$2"; }
fs() { grep -o "\"$2\": \"[^\"]*\"" "$1" | tail -1 | cut -d\" -f4; }
wait_sent() { # the server's "all N messages sent" line, up to 30 s
    for _ in $(seq 300); do grep -q 'messages sent' "$1" && return 0; sleep 0.1; done
    return 1
}
SUB=("$B/seqcast-sub" --interface $SB --set protocol=moldudp64 --quiet --timeout 60)
M=(-d udp.port==$GPORT,moldudp64 -d udp.port==$LPORT,moldudp64)
tsc() { tshark -r "$tmp/a.pcap" "${M[@]}" -Y "$1" 2>/dev/null | wc -l; }   # frames shown by filter $1

# --- A. live, under loss, requests to the configured server (captured for E)
cap=
if command -v tcpdump >/dev/null && command -v tshark >/dev/null; then
    $NSB tcpdump -i eth0 --immediate-mode -U -w "$tmp/a.pcap" udp >/dev/null 2>"$tmp/tcpdump.err" &
    cap=$!
    for _ in $(seq 50); do grep -q listening "$tmp/tcpdump.err" && break; sleep 0.1; done
fi
$NSB "${SUB[@]}" --group $GA:$GPORT --set mold.request_servers=$SA:$LPORT --set gso=false \
    --set late_join=first --count "$N" \
    --output "$tmp/outa.bin" >"$tmp/suba.json" 2>"$tmp/suba.err" &
sub=$!
sleep 0.3
rnd0=$(nft_count rnd)
$NSA "$PEER" serve --group $GA:$GPORT --interface $SA --listen $SA:$LPORT --session MOLDSUB01 \
    --input "$tmp/in.bin" --rate 50000 --heartbeat-ms 100 --linger 1 --eos-seconds 2 \
    >"$tmp/srva.json" 2>"$tmp/srva.err" &
srv=$!
wait $sub; rc=$?
wait $srv
[ -n "$cap" ] && { sleep 0.2; kill -INT "$cap"; wait "$cap"; }
rnd1=$(nft_count rnd)
cmp -s "$tmp/in.bin" "$tmp/outa.bin"; r=$?
check "A: mold_peer serve -> seqcast-sub, $N mixed-size messages under 2 % loss arrived intact and in order (cmp; exit $rc, $(f "$tmp/suba.json" received) received)" $((r + rc))
[ $((rnd1 - rnd0)) -gt 0 ] && [ "$(f "$tmp/suba.json" requests_sent)" -gt 0 ] &&
    [ "$(f "$tmp/suba.json" rdata_received)" -gt 0 ] && [ "$(f "$tmp/suba.json" repaired)" -gt 0 ] &&
    [ "$(f "$tmp/suba.json" lost_packets)" -eq 0 ] &&
    [ "$(f "$tmp/srva.json" requests_answered)" -gt 0 ] &&
    [ "$(f "$tmp/srva.json" ignored_total)" -eq 0 ] && [ "$(f "$tmp/suba.json" rx_bad_total)" -eq 0 ]; r=$?
check "  repaired by re-request: nftables dropped $((rnd1 - rnd0)) packets; seqcast-sub saw $(f "$tmp/suba.json" gaps) gaps, sent $(f "$tmp/suba.json" requests_sent) requests ($(f "$tmp/suba.json" request_retries) retries, $(f "$tmp/suba.json" request_msgs) messages asked, $(f "$tmp/suba.json" request_continued) asked again at once), got $(f "$tmp/suba.json" rdata_received) answers, repaired $(f "$tmp/suba.json" repaired) messages; the peer answered $(f "$tmp/srva.json" requests_answered) and ignored $(f "$tmp/srva.json" ignored_total)" $r

# --- B. after the last message: late_join first, everything by re-request. 40
#      tries, not the lan profile's 10 (~31 ms): the peer, one thread on this
#      2-vCPU VM beside a spinning subscriber, answered its first 17 requests
#      after 3.3 ms in one run (a tcpdump), and a stall as long as the budget
#      would end the backfill with a loss that is the machine's, not the
#      protocol's
$NSA "$PEER" serve --group $GB:$GPORT --interface $SA --listen $SA:$LPORT --session MOLDSUB02 \
    --input "$tmp/in.bin" --rate 200000 --heartbeat-ms 100 --linger 2 --eos-seconds 30 \
    >"$tmp/srvb.json" 2>"$tmp/srvb.err" &
srv=$!
wait_sent "$tmp/srvb.err"
$NSB "${SUB[@]}" --group $GB:$GPORT --set mold.request_servers=$SA:$LPORT --set late_join=first \
    --set nak.data_retries=40 \
    --output "$tmp/outb.bin" >"$tmp/subb.json" 2>"$tmp/subb.err"
rc=$?
kill -INT $srv; wait $srv
cmp -s "$tmp/in.bin" "$tmp/outb.bin"; r=$?
check "B: seqcast-sub started after the last message, late_join: first, recovered all $N (cmp; exit $rc; $(f "$tmp/subb.json" received) received in $(f "$tmp/subb.json" seconds) s)" $((r + rc))
[ "$(f "$tmp/subb.json" odata_received)" -eq 0 ] && [ "$(f "$tmp/subb.json" rdata_received)" -gt 0 ] &&
    [ "$(f "$tmp/subb.json" sources_down)" -eq 1 ] && [ "$(f "$tmp/subb.json" lost_packets)" -eq 0 ]; r=$?
check "  by re-requests alone: $(f "$tmp/subb.json" odata_received) live data packets, $(f "$tmp/subb.json" heartbeats_received) heartbeats, $(f "$tmp/subb.json" eos_received) End of Session, $(f "$tmp/subb.json" requests_sent) requests ($(f "$tmp/subb.json" request_retries) retries), $(f "$tmp/subb.json" rdata_received) answers; source ended: $(f "$tmp/subb.json" sources_down)" $r

# --- C. from 14,000,000, auto: requests to the data's source at the data port
$NSB "${SUB[@]}" --group $GC:$GPORT --set mold.session=MOLDSUB03 --count 20000 \
    --output "$tmp/outc.bin" >"$tmp/subc.json" 2>"$tmp/subc.err" &
sub=$!
sleep 0.3
$NSA "$PEER" serve --group $GC:$GPORT --interface $SA --listen $SA:$GPORT --session MOLDSUB03 \
    --input "$tmp/inc.bin" --first-seq $FIRST_C --rate 50000 --heartbeat-ms 50 --linger 1 \
    --eos-seconds 1 >"$tmp/srvc.json" 2>"$tmp/srvc.err" &
srv=$!
wait $sub; rc=$?
wait $srv
cmp -s "$tmp/inc.bin" "$tmp/outc.bin"; r=$? # (a later start would lack the first messages)
check "C: a session from $FIRST_C, mold.session set, requests to the default place (auto): all 20000 from $FIRST_C (cmp; exit $rc)" $((r + rc))
[ "$(nft_count first_c)" -eq 1 ] && [ "$(f "$tmp/subc.json" requests_sent)" -gt 0 ] &&
    [ "$(f "$tmp/srvc.json" requests_answered)" -gt 0 ] &&
    [ "$(f "$tmp/subc.json" rx_wrong_session)" -eq 0 ]; r=$?
check "  $(f "$tmp/subc.json" gaps) gaps, $(f "$tmp/subc.json" requests_sent) requests to $SA:$GPORT, $(f "$tmp/srvc.json" requests_answered) answered, $(f "$tmp/subc.json" rdata_received) answers received" $r

# --- D. DPDK
if ! grep -q 'DPDK=1' "$ROOT/$BUILD/.flags" 2>/dev/null; then
    skip "D: mold_peer serve -> seqcast-sub on DPDK" "built without DPDK"
    skip "  its requests and the answers" "built without DPDK"
else
    SD=198.18.23.3
    $NSB "$B/seqcast-sub" --interface $SD --set protocol=moldudp64 --quiet --timeout 60 \
        --set transport=dpdk --set dpdk.no_huge=true \
        --set dpdk.device=net_af_packet0,iface=eth0,qdisc_bypass=0 --group $GD:$GPORT \
        --set mold.request_servers=$SA:$LPORT --set late_join=first --count 20000 \
        --output "$tmp/outd.bin" \
        >"$tmp/subd.json" 2>"$tmp/subd.err" &
    sub=$!
    sleep 1.5
    $NSA "$PEER" serve --group $GD:$GPORT --interface $SA --listen $SA:$LPORT --session MOLDSUB04 \
        --input "$tmp/inc.bin" --rate 20000 --heartbeat-ms 50 --linger 1 --eos-seconds 1 \
        >"$tmp/srvd.json" 2>"$tmp/srvd.err" &
    srv=$!
    wait $sub; rc=$?
    wait $srv
    cmp -s "$tmp/inc.bin" "$tmp/outd.bin"; r=$?
    check "D: mold_peer serve -> seqcast-sub on DPDK (net_af_packet), 2 % loss: all 20000 intact (cmp; exit $rc)" $((r + rc))
    [ "$(f "$tmp/subd.json" requests_sent)" -gt 0 ] && [ "$(f "$tmp/subd.json" rdata_received)" -gt 0 ] &&
        [ "$(f "$tmp/srvd.json" requests_answered)" -gt 0 ] &&
        [ "$(f "$tmp/subd.json" link_arp_replies)" -gt 0 ]; r=$?
    check "  from $SD: $(f "$tmp/subd.json" requests_sent) requests, $(f "$tmp/srvd.json" requests_answered) answered, $(f "$tmp/subd.json" rdata_received) answers back at its own port; $(f "$tmp/subd.json" link_arp_replies) ARP replies for its address" $r
fi

# --- E. tshark on A's capture
if [ -z "$cap" ]; then
    skip "E: tshark dissection" "tcpdump or tshark not installed"
else
    req=$(tsc "ip.src == $SB and moldudp64.count > 0 and moldudp64.count < 0xffff and not moldudp64.msgblock")
    ans=$(tsc "ip.dst == $SB and moldudp64.msgblock")
    udp_from=$(tsc "ip.src == $SB and udp")
    bad=$(tsc '_ws.expert.severity >= "Warning" or _ws.malformed')
    [ "$req" -gt 0 ] && [ "$req" -eq "$udp_from" ] && [ "$ans" -gt 0 ] && [ "$bad" -eq 0 ]; r=$?
    check "E: tshark dissects A's capture: $req of seqcast-sub's $udp_from captured datagrams are MoldUDP64 requests (it counted $(f "$tmp/suba.json" requests_sent) sent), $ans unicast answers, $bad malformed/warnings" $r
fi

for x in "$tmp"/*.json; do sed "s|^|# $(basename "$x"): |" "$x"; done
for x in "$tmp"/*.err; do [ -s "$x" ] && sed "s|^|# $(basename "$x"): |" "$x" | head -5; done
exit 0
