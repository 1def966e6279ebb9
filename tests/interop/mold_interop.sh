#!/usr/bin/env bash
# seqcast's MoldUDP64 publisher against the independent spec peer
# (tests/interop/mold_peer.c, written from the MoldUDP64 1.00 text without
# seqcast's code), across two network namespaces (${T}a: seqcast-pub,
# 198.18.22.1; ${T}b: the peer's listener, 198.18.22.2), with 2 % nftables
# loss on the publisher's egress (data, heartbeats, End of Session and the
# unicast responses alike):
#   A. seqcast-pub --set protocol=moldudp64 -> mold_peer listen --start 1:
#      50,000 mixed-size messages arrive intact and in order (cmp), repaired by
#      re-requests answered by seqcast-pub's server (counted on both sides),
#      nothing ignored or malformed; End of Session ends the listener
#   B. a listener started after the last message (during End of Session,
#      mold.eos_time 10 s), --start 1: finds the gap in End of Session and
#      backfills the whole session by re-requests alone
#   C. the publisher's --record capture and a tcpdump capture in ${T}b dissect
#      in tshark as MoldUDP64: data, heartbeats, End of Session, requests and
#      responses, no malformed frame, no warning
#   D. hand-made requests seqcast-pub must ignore (short, another session,
#      sequence 0, count 0, over mold.request_max, not sent yet, from outside
#      mold.request_allow) are each ignored under their own counter
# (The other direction, mold_peer serve -> seqcast-sub, is the subscriber's.)
set -u
. "$(dirname "$0")/../support/tap.sh" "MoldUDP64 interop (publisher)" 7
PEER=$ROOT/$BUILD/tests/mold_peer
N=${MOLDINTEROP_MSGS:-50000}
T=smi$$
netns_pair "$T" 198.18.22
[ -x "$PEER" ] || skip_all "mold_peer not built ($PEER)"

SA=198.18.22.1 SB=198.18.22.2
GA=239.198.18.51 GB=239.198.18.52 GC=239.198.18.53 GD=239.198.18.54
GPORT=36201
$NSA nft add table netdev loss
$NSA nft add counter netdev loss rnd
$NSA nft add chain netdev loss eg "{ type filter hook egress device eth0 priority 0; }"
$NSA nft add rule netdev loss eg meta protocol ip numgen random mod 1000 '<' 20 counter name rnd drop
nft_count() { $NSA nft list counter netdev loss "$1" | grep -o 'packets [0-9]*' | awk '{print $2}'; }

"$PEER" gen --count "$N" --seed 1 --output "$tmp/in.bin"
"$PEER" gen --count 5000 --seed 5 --output "$tmp/ind.bin"

f() { field "$1" "$2"; }
fs() { grep -o "\"$2\": \"[^\"]*\"" "$1" | tail -1 | cut -d\" -f4; }
# the channel: a window of 64 Ki packets (--rate flushes each message: 2.6 s of
# them at 25,000/s), gso off so every datagram is one packet on the veth
# (tcpdump in ${T}b sees what the listener reads)
pub() { # GROUP SESSION OUT.json ARGS...
    local g=$1 s=$2 out=$3
    shift 3
    $NSA "$B/seqcast-pub" --group "$g:$GPORT" --interface $SA --set protocol=moldudp64 \
        --set mold.session="$s" --set window.packets=65536 --set gso=false "$@" \
        >"$out" 2>"${out%.json}.err"
}
listen() { # GROUP OUT.json ARGS...
    local g=$1 out=$2
    shift 2
    $NSB "$PEER" listen --group "$g:$GPORT" --interface $SB --server $SA:$GPORT "$@" \
        >"$out" 2>"${out%.json}.err"
}
mold_ignored() { # the sum of seqcast-pub's mold_req_* counters in a summary
    local k t=0
    for k in mold_req_denied mold_req_wrong_session mold_req_seq_zero mold_req_count_zero \
        mold_req_over_max mold_req_not_sent mold_req_over_budget mold_req_dropped; do
        t=$((t + $(f "$1" $k)))
    done
    echo $t
}

# --- A. seqcast-pub -> mold_peer listen under loss
cap=
if command -v tcpdump >/dev/null && command -v tshark >/dev/null; then
    $NSB tcpdump -i eth0 --immediate-mode -U -w "$tmp/b.pcap" udp >/dev/null 2>"$tmp/tcpdump.err" &
    cap=$!
    for _ in $(seq 50); do grep -q listening "$tmp/tcpdump.err" && break; sleep 0.1; done
fi
listen $GA "$tmp/lisa.json" --session MOLDPUB001 --start 1 --output "$tmp/outa.bin" --timeout 60 &
lis=$!
sleep 0.3
rnd0=$(nft_count rnd)
pub $GA MOLDPUB001 "$tmp/puba.json" --input "$tmp/in.bin" --rate 25000 --linger 5 \
    --record "$tmp/puba.pcap"
prc=$?
wait $lis; rc=$?
rnd1=$(nft_count rnd)
[ -n "$cap" ] && { sleep 0.2; kill -INT "$cap"; wait "$cap"; }
cmp -s "$tmp/in.bin" "$tmp/outa.bin"; r=$?
[ "$(fs "$tmp/lisa.json" reason)" = eos ] || r=1
check "A: seqcast-pub -> mold_peer listen, $N mixed-size messages under 2 % loss arrived intact and in order (cmp; listener exit $rc, ended on $(fs "$tmp/lisa.json" reason), $(f "$tmp/lisa.json" messages) messages, seq $(f "$tmp/lisa.json" first_seq)..$(f "$tmp/lisa.json" last_seq); seqcast-pub exit $prc)" $((r + rc + prc))
[ $((rnd1 - rnd0)) -gt 0 ] && [ "$(f "$tmp/lisa.json" gaps)" -gt 0 ] &&
    [ "$(f "$tmp/lisa.json" requests_sent)" -gt 0 ] && [ "$(f "$tmp/lisa.json" responses)" -gt 0 ] &&
    [ "$(f "$tmp/puba.json" mold_requests)" -gt 0 ] &&
    [ "$(f "$tmp/puba.json" mold_req_answered)" -gt 0 ] &&
    [ "$(f "$tmp/puba.json" mold_resp_msgs)" -gt 0 ] &&
    [ "$(mold_ignored "$tmp/puba.json")" -eq 0 ] &&
    [ "$(f "$tmp/puba.json" mold_not_in_window)" -eq 0 ] &&
    [ "$(f "$tmp/puba.json" rx_bad_total)" -eq 0 ] &&
    [ "$(f "$tmp/lisa.json" malformed)" -eq 0 ] && [ "$(f "$tmp/lisa.json" other_session)" -eq 0 ] &&
    [ "$(f "$tmp/lisa.json" heartbeats)" -gt 0 ] && [ "$(f "$tmp/lisa.json" eos_packets)" -gt 0 ]; r=$?
check "  repaired by re-requests: nftables dropped $((rnd1 - rnd0)) packets; the listener saw $(f "$tmp/lisa.json" gaps) gaps ($(f "$tmp/lisa.json" gaps_heartbeat) by a heartbeat, $(f "$tmp/lisa.json" gaps_eos) by End of Session), sent $(f "$tmp/lisa.json" requests_sent) requests ($(f "$tmp/lisa.json" request_retries) retries), got $(f "$tmp/lisa.json" responses) responses, $(f "$tmp/lisa.json" heartbeats) heartbeats, $(f "$tmp/lisa.json" eos_packets) End of Session; seqcast-pub took $(f "$tmp/puba.json" mold_requests) requests, answered $(f "$tmp/puba.json" mold_req_answered) with $(f "$tmp/puba.json" mold_resp_msgs) messages, ignored $(mold_ignored "$tmp/puba.json"), rx_bad $(f "$tmp/puba.json" rx_bad_total); listener malformed $(f "$tmp/lisa.json" malformed)" $r

# --- B. a listener that starts during End of Session, --start 1
pub $GB MOLDPUB002 "$tmp/pubb.json" --input "$tmp/in.bin" --linger 10 \
    --set mold.eos_time=10s &
pb=$!
sleep 1.5 # all sent (as fast as it goes) and closed: End of Session every 100 ms
listen $GB "$tmp/lisb.json" --start 1 --output "$tmp/outb.bin" --timeout 30
rc=$?
kill -INT $pb 2>/dev/null; wait $pb
cmp -s "$tmp/in.bin" "$tmp/outb.bin"; r=$?
[ "$(fs "$tmp/lisb.json" reason)" = eos ] && [ "$(f "$tmp/lisb.json" data_packets)" -eq 0 ] &&
    [ "$(f "$tmp/lisb.json" gaps_eos)" -eq 1 ] || r=1
check "B: a listener started during End of Session, --start 1, backfilled all $N by re-requests alone (cmp; exit $rc, ended on $(fs "$tmp/lisb.json" reason) after $(f "$tmp/lisb.json" elapsed_ms) ms, $(f "$tmp/lisb.json" data_packets) live data packets, gap found by End of Session: $(f "$tmp/lisb.json" gaps_eos))" $((r + rc))
[ "$(f "$tmp/lisb.json" response_messages)" -ge "$N" ] &&
    [ "$(f "$tmp/lisb.json" request_continuations)" -gt 0 ] &&
    [ "$(f "$tmp/pubb.json" mold_resp_msgs)" -ge "$N" ]; r=$?
check "  $(f "$tmp/lisb.json" requests_sent) requests ($(f "$tmp/lisb.json" request_continuations) continuations of one-packet answers, $(f "$tmp/lisb.json" request_retries) retries), $(f "$tmp/lisb.json" response_messages) messages in $(f "$tmp/lisb.json" responses) responses; seqcast-pub answered $(f "$tmp/pubb.json" mold_req_answered) requests with $(f "$tmp/pubb.json" mold_resp_msgs) messages, $(f "$tmp/pubb.json" mold_rate_limited) waits for rtx.rate" $r

# --- C. tshark on A's captures
M=(-d udp.port==$GPORT,moldudp64 -d udp.port==3055,moldudp64)
tsc() { tshark -r "$1" "${M[@]}" -Y "$2" 2>/dev/null | wc -l; }
tshark_check() { # NAME PCAP
    local udp mold data hb eos req resp bad
    udp=$(tsc "$2" udp) mold=$(tsc "$2" moldudp64) data=$(tsc "$2" "moldudp64.msgblock and ip.dst == $GA")
    hb=$(tsc "$2" 'moldudp64.count == 0') eos=$(tsc "$2" 'moldudp64.count == 0xffff')
    req=$(tsc "$2" 'moldudp64.count > 0 and moldudp64.count < 0xffff and not moldudp64.msgblock')
    resp=$(tsc "$2" "moldudp64.msgblock and ip.dst == $SB")
    bad=$(tsc "$2" '_ws.expert.severity >= "Warning" or _ws.malformed')
    [ "$udp" -gt 0 ] && [ "$mold" -eq "$udp" ] && [ "$data" -gt 0 ] && [ "$hb" -gt 0 ] &&
        [ "$eos" -gt 0 ] && [ "$req" -gt 0 ] && [ "$resp" -gt 0 ] && [ "$bad" -eq 0 ]
    check "C: $1 dissects as MoldUDP64: $mold of $udp UDP frames ($data data, $resp responses, $hb heartbeats, $eos End of Session, $req requests), $bad malformed/warnings" $?
}
if ! command -v tshark >/dev/null; then
    skip "C: tshark dissection" "tshark not installed"
    skip "C: tshark dissection" "tshark not installed"
else
    tshark_check "seqcast-pub's --record capture" "$tmp/puba.pcap"
    if [ -z "$cap" ]; then skip "C: tcpdump capture" "tcpdump not installed"
    else tshark_check "a tcpdump capture at the listener" "$tmp/b.pcap"; fi
fi

# --- D. requests seqcast-pub must ignore
# datagram files: SESSION(10) SEQ(8, big-endian) COUNT(2)
mkreq() { # FILE SESSION SEQ COUNT [TRUNCATE_TO]
    {
        printf '%-10s' "$2"
        for sh in 56 48 40 32 24 16 8 0; do printf "\\x$(printf %02x $((($3 >> sh) & 255)))"; done
        printf "\\x$(printf %02x $((($4 >> 8) & 255)))\\x$(printf %02x $(($4 & 255)))"
    } | head -c "${5:-20}" >"$1"
}
mkreq "$tmp/q_short" MOLDPUB004 10 1 19
mkreq "$tmp/q_session" MOLDPUB099 10 1
mkreq "$tmp/q_zero" MOLDPUB004 0 1
mkreq "$tmp/q_count" MOLDPUB004 10 0
mkreq "$tmp/q_max" MOLDPUB004 10 1001
mkreq "$tmp/q_sent" MOLDPUB004 900000 1
mkreq "$tmp/q_good" MOLDPUB004 10 5
pub $GD MOLDPUB004 "$tmp/pubd.json" --input "$tmp/ind.bin" --linger 3 \
    --set mold.request_max=1000 --set mold.request_allow=$SB/32 &
pd=$!
sleep 1
for q in short session zero count max sent good; do
    $NSB bash -c 'cat "$1" >/dev/udp/'$SA/$GPORT _ "$tmp/q_$q"
done
# the same good request from an address outside request_allow (a's own, lo)
$NSA bash -c 'cat "$1" >/dev/udp/'$SA/$GPORT _ "$tmp/q_good"
wait $pd
bad=
for k in wrong_session:1 seq_zero:1 count_zero:1 over_max:1 not_sent:1 denied:1; do
    [ "$(f "$tmp/pubd.json" mold_req_${k%:*})" = "${k#*:}" ] ||
        bad="$bad ${k%:*}=$(f "$tmp/pubd.json" mold_req_${k%:*})"
done
[ "$(f "$tmp/pubd.json" short)" = 1 ] || bad="$bad short=$(f "$tmp/pubd.json" short)"
[ "$(f "$tmp/pubd.json" mold_req_answered)" = 1 ] ||
    bad="$bad answered=$(f "$tmp/pubd.json" mold_req_answered)"
[ -z "$bad" ]; r=$?
check "D: each hand-made bad request ignored under its own counter (short, session, seq 0, count 0, over request_max, not sent, outside request_allow: one each), the good one answered${bad:+; wrong:$bad}" $r

for x in "$tmp"/*.json; do sed "s|^|# $(basename "$x"): |" "$x"; done
for x in "$tmp"/*.err; do [ -s "$x" ] && sed "s|^|# $(basename "$x"): |" "$x" | head -5; done
exit 0
