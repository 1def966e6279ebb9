#!/usr/bin/env bash
# The independent MoldUDP64 peer (tests/interop/mold_peer.c) against itself,
# across two network namespaces (${T}a: the server, 198.18.21.1; ${T}b: the
# listener, 198.18.21.2), with 2 % nftables loss and 1 % duplication on the
# server's egress (live multicast and unicast answers alike):
#   A. serve -> listen, 100,000 mixed-size messages, the server also withholding
#      1 % of its multicast (--drop-pct): the output is the input (cmp), repairs
#      happened on both sides, and duplicates were dropped
#   B. a listener started after the last message was sent (it finds the gap in
#      a heartbeat), --start 1, dropping 2 % of what it receives: backfills all
#      100,000 by re-requests alone; then one started during End of Session
#      (it finds the gap there) does the same before the server stops
#   C. a session numbered from 14,000,000, listener --start first (the first
#      packet is kept from the loss, so where it starts is known), requests
#      from a socket of their own (--reply-socket own)
#   D. a capture of C (tcpdump in ${T}b) dissects in tshark as MoldUDP64:
#      data, heartbeat, End of Session, request and unicast answer; no malformed
#      frame, no warning
#   E. a server with --max-request 2: a listener asking for more is ignored
#      and ends incomplete (exit 1, lost ranges listed); hand-made requests
#      (short, other session, sequence 0, count 0, before the first sequence,
#      not sent yet) are each ignored under their own counter
set -u
. "$(dirname "$0")/../support/tap.sh" "MoldUDP64 peer" 10
PEER=$ROOT/$BUILD/tests/mold_peer
N=${MOLDPEER_MSGS:-100000}
T=smp$$
netns_pair "$T" 198.18.21
[ -x "$PEER" ] || skip_all "mold_peer not built ($PEER)"

SA=198.18.21.1 SB=198.18.21.2
GA=239.198.18.41 GB=239.198.18.42 GC=239.198.18.43 GE=239.198.18.44
GPORT=36001 LPORT=36101
FIRST_C=14000000
# the loss: 2 % of what the server's namespace sends, except C's first data
# packet (multicast to GC whose MoldUDP64 sequence, UDP payload bytes 10-17,
# is 14,000,000): a --start first listener starts where its first packet is.
# 1 % is sent twice (`dup` sends the copy at once, before the drop rule).
$NSA nft add table netdev loss
$NSA nft add counter netdev loss first_c
$NSA nft add counter netdev loss rnd
$NSA nft add counter netdev loss twice
$NSA nft add chain netdev loss eg "{ type filter hook egress device eth0 priority 0; }"
$NSA nft add rule netdev loss eg meta protocol ip ip daddr $GC udp dport $GPORT \
    @th,144,64 $FIRST_C counter name first_c accept
$NSA nft add rule netdev loss eg meta protocol ip ip protocol udp numgen random mod 100 '<' 1 \
    counter name twice dup to eth0
$NSA nft add rule netdev loss eg meta protocol ip numgen random mod 1000 '<' 20 counter name rnd drop
nft_count() { $NSA nft list counter netdev loss "$1" | grep -o 'packets [0-9]*' | awk '{print $2}'; }

"$PEER" gen --count "$N" --seed 1 --output "$tmp/in.bin"
"$PEER" gen --count 20000 --seed 3 --output "$tmp/inc.bin"
"$PEER" gen --count 5000 --seed 5 --output "$tmp/ine.bin"

f() { field "$1" "$2"; }
M=(-d udp.port==$GPORT,moldudp64 -d udp.port==$LPORT,moldudp64)
tsc() { tshark -r "$tmp/c.pcap" "${M[@]}" -Y "$1" 2>/dev/null | wc -l; }   # frames shown by filter $1
fs() { grep -o "\"$2\": \"[^\"]*\"" "$1" | tail -1 | cut -d\" -f4; }
# waits (up to 30 s) for the server's "all N messages sent" line
wait_sent() {
    for _ in $(seq 300); do grep -q 'messages sent' "$1" && return 0; sleep 0.1; done
    return 1
}

# --- A. serve -> listen under loss
$NSB "$PEER" listen --group $GA:$GPORT --interface $SB --server $SA:$LPORT --start 1 \
    --count "$N" --output "$tmp/outa.bin" --timeout 60 >"$tmp/lisa.json" 2>"$tmp/lisa.err" &
lis=$!
sleep 0.3
rnd0=$(nft_count rnd) dup0=$(nft_count twice)
$NSA "$PEER" serve --group $GA:$GPORT --interface $SA --listen $SA:$LPORT --session MOLDTEST01 \
    --input "$tmp/in.bin" --rate 50000 --drop-pct 1 --seed 7 --heartbeat-ms 100 --linger 0.5 \
    --eos-seconds 2 >"$tmp/srva.json" 2>"$tmp/srva.err"
wait $lis; rc=$?
rnd1=$(nft_count rnd) dup1=$(nft_count twice)
cmp -s "$tmp/in.bin" "$tmp/outa.bin"; r=$?
check "A: serve -> listen, $N mixed-size messages under loss arrived intact and in order (cmp; listener exit $rc, $(f "$tmp/lisa.json" messages) messages, seq $(f "$tmp/lisa.json" first_seq)..$(f "$tmp/lisa.json" last_seq))" $((r + rc))
[ "$(f "$tmp/srva.json" dropped_on_purpose)" -gt 0 ] && [ $((rnd1 - rnd0)) -gt 0 ] &&
    [ "$(f "$tmp/lisa.json" gaps)" -gt 0 ] && [ "$(f "$tmp/lisa.json" responses)" -gt 0 ] &&
    [ "$(f "$tmp/srva.json" messages_retransmitted)" -gt 0 ] &&
    [ "$(f "$tmp/srva.json" ignored_total)" -eq 0 ] && [ "$(f "$tmp/lisa.json" malformed)" -eq 0 ] &&
    [ "$(f "$tmp/lisa.json" other_session)" -eq 0 ] && [ $((dup1 - dup0)) -gt 0 ] &&
    [ "$(f "$tmp/lisa.json" duplicates)" -gt 0 ]; r=$?
check "  repaired: server withheld $(f "$tmp/srva.json" dropped_on_purpose), nftables dropped $((rnd1 - rnd0)) and doubled $((dup1 - dup0)) packets; listener saw $(f "$tmp/lisa.json" gaps) gaps, sent $(f "$tmp/lisa.json" requests_sent) requests ($(f "$tmp/lisa.json" request_retries) retries, $(f "$tmp/lisa.json" request_continuations) continuations), got $(f "$tmp/lisa.json" responses) answers, $(f "$tmp/lisa.json" duplicates) duplicates; server answered $(f "$tmp/srva.json" requests_answered), retransmitted $(f "$tmp/srva.json" messages_retransmitted), ignored $(f "$tmp/srva.json" ignored_total); listener malformed $(f "$tmp/lisa.json" malformed)" $r

# --- B. late listener, --start 1
$NSA "$PEER" serve --group $GB:$GPORT --interface $SA --listen $SA:$LPORT --session MOLDTEST02 \
    --input "$tmp/in.bin" --rate 100000 --heartbeat-ms 100 --linger 3 --eos-seconds 30 \
    >"$tmp/srvb.json" 2>"$tmp/srvb.err" &
srv=$!
wait_sent "$tmp/srvb.err"
$NSB "$PEER" listen --group $GB:$GPORT --interface $SB --server $SA:$LPORT --start 1 \
    --drop-pct 2 --seed 11 --output "$tmp/outb.bin" --timeout 60 >"$tmp/lisb.json" 2>"$tmp/lisb.err"
rc=$?
# the first listener ends on the first End of Session: the second joins during them
$NSB "$PEER" listen --group $GB:$GPORT --interface $SB --server $SA:$LPORT --start 1 \
    --output "$tmp/outb2.bin" --timeout 25 >"$tmp/lisb2.json" 2>"$tmp/lisb2.err"
rc2=$?
kill -INT $srv; wait $srv
cmp -s "$tmp/in.bin" "$tmp/outb.bin"; r=$?
[ "$(fs "$tmp/lisb.json" reason)" = eos ] || r=1
check "B: a listener started after the last message, --start 1, backfilled all $N (cmp; exit $rc, ended on $(fs "$tmp/lisb.json" reason) after $(f "$tmp/lisb.json" elapsed_ms) ms)" $((r + rc))
[ "$(f "$tmp/lisb.json" data_packets)" -eq 0 ] && [ "$(f "$tmp/lisb.json" gaps_heartbeat)" -eq 1 ] &&
    [ "$(f "$tmp/lisb.json" response_messages)" -ge "$N" ] &&
    [ "$(f "$tmp/lisb.json" request_retries)" -gt 0 ] &&
    [ "$(f "$tmp/lisb.json" request_continuations)" -gt 0 ]; r=$?
check "  by re-requests alone: $(f "$tmp/lisb.json" data_packets) live data packets, $(f "$tmp/lisb.json" heartbeats) heartbeats ($(f "$tmp/lisb.json" gaps_heartbeat) found the gap), $(f "$tmp/lisb.json" requests_sent) requests ($(f "$tmp/lisb.json" request_retries) retries after its own $(f "$tmp/lisb.json" dropped_on_purpose) drops, $(f "$tmp/lisb.json" request_continuations) continuations of short answers), $(f "$tmp/lisb.json" response_messages) messages in $(f "$tmp/lisb.json" responses) answers" $r

cmp -s "$tmp/in.bin" "$tmp/outb2.bin"; r=$?
[ "$(fs "$tmp/lisb2.json" reason)" = eos ] && [ "$(f "$tmp/lisb2.json" heartbeats)" -eq 0 ] &&
    [ "$(f "$tmp/lisb2.json" gaps_eos)" -eq 1 ] && [ "$(f "$tmp/lisb2.json" data_packets)" -eq 0 ] || r=1
check "  a listener started during End of Session backfilled all $N too (cmp; exit $rc2, gap found by End of Session: $(f "$tmp/lisb2.json" gaps_eos), $(f "$tmp/lisb2.json" heartbeats) heartbeats, $(f "$tmp/lisb2.json" response_messages) messages in $(f "$tmp/lisb2.json" responses) answers, $(f "$tmp/lisb2.json" elapsed_ms) ms; server stopped by SIGINT, summary printed: $(f "$tmp/srvb.json" requests_answered) answered)" $((r + rc2))

# --- C. sequence numbers from 14,000,000, captured for D
cap=
if command -v tcpdump >/dev/null && command -v tshark >/dev/null; then
    $NSB tcpdump -i eth0 --immediate-mode -U -w "$tmp/c.pcap" udp >/dev/null 2>"$tmp/tcpdump.err" &
    cap=$!
    for _ in $(seq 50); do grep -q listening "$tmp/tcpdump.err" && break; sleep 0.1; done
fi
$NSB "$PEER" listen --group $GC:$GPORT --interface $SB --server $SA:$LPORT --reply-socket own \
    --output "$tmp/outc.bin" --timeout 60 >"$tmp/lisc.json" 2>"$tmp/lisc.err" &
lis=$!
sleep 0.3
$NSA "$PEER" serve --group $GC:$GPORT --interface $SA --listen $SA:$LPORT --session MOLDTEST03 \
    --input "$tmp/inc.bin" --first-seq $FIRST_C --rate 50000 --heartbeat-ms 50 --linger 0.5 \
    --eos-seconds 1 >"$tmp/srvc.json" 2>"$tmp/srvc.err"
wait $lis; rc=$?
[ -n "$cap" ] && { sleep 0.2; kill -INT "$cap"; wait "$cap"; }
cmp -s "$tmp/inc.bin" "$tmp/outc.bin"; r=$?
[ "$(f "$tmp/lisc.json" first_seq)" -eq $FIRST_C ] &&
    [ "$(f "$tmp/lisc.json" last_seq)" -eq $((FIRST_C + 19999)) ]; r2=$?
check "C: a session from sequence $FIRST_C, listener --start first --reply-socket own: all 20000 intact, seq $(f "$tmp/lisc.json" first_seq)..$(f "$tmp/lisc.json" last_seq) (cmp; exit $rc, ended on $(fs "$tmp/lisc.json" reason))" $((r + rc + r2))
[ "$(nft_count first_c)" -eq 1 ] && [ "$(f "$tmp/lisc.json" requests_sent)" -gt 0 ] &&
    [ "$(f "$tmp/lisc.json" responses)" -gt 0 ] &&
    [ "$(f "$tmp/srvc.json" requests_answered)" -gt 0 ]; r=$?
check "  the first packet went through ($(nft_count first_c)), the rest under loss: $(f "$tmp/lisc.json" gaps) gaps, $(f "$tmp/lisc.json" requests_sent) requests, $(f "$tmp/srvc.json" requests_answered) answered, $(f "$tmp/lisc.json" responses) answers received on the request socket" $r

# --- D. tshark on C's capture
if [ -z "$cap" ]; then
    n=$((n + 1)); echo "ok $n - D: tshark dissection # SKIP tcpdump or tshark not installed"
else
    udp=$(tsc udp) mold=$(tsc moldudp64) data=$(tsc moldudp64.msgblock)
    hb=$(tsc 'moldudp64.count == 0') eos=$(tsc 'moldudp64.count == 0xffff')
    req=$(tsc 'moldudp64.count > 0 and moldudp64.count < 0xffff and not moldudp64.msgblock')
    ans=$(tsc "moldudp64.msgblock and ip.dst == $SB")
    bad=$(tsc '_ws.expert.severity >= "Warning" or _ws.malformed')
    seq1=$(tshark -r "$tmp/c.pcap" "${M[@]}" -Y "moldudp64.msgblock and ip.dst == $GC" \
        -T fields -e moldudp64.sequence 2>/dev/null | head -1)
    [ "$udp" -gt 0 ] && [ "$mold" -eq "$udp" ] && [ "$data" -gt 0 ] && [ "$hb" -gt 0 ] &&
        [ "$eos" -gt 0 ] && [ "$req" -gt 0 ] && [ "$ans" -gt 0 ] && [ "$bad" -eq 0 ] &&
        [ "$seq1" = "$FIRST_C" ]; r=$?
    check "D: tshark dissects C's capture as MoldUDP64: $mold of $udp UDP frames ($data data, $ans of them unicast answers, $hb heartbeats, $eos End of Session, $req requests), first sequence $seq1, $bad malformed/warnings" $r
fi

# --- E. requests the server must ignore
# datagram files: SESSION(10) SEQ(8, big-endian) COUNT(2)
mkreq() { # FILE SESSION SEQ COUNT [TRUNCATE_TO]
    {
        printf '%s' "$2"
        for sh in 56 48 40 32 24 16 8 0; do printf "\\x$(printf %02x $((($3 >> sh) & 255)))"; done
        printf "\\x$(printf %02x $((($4 >> 8) & 255)))\\x$(printf %02x $(($4 & 255)))"
    } | head -c "${5:-20}" >"$1"
}
mkreq "$tmp/q_len" MOLDTEST04 1000 1 19
mkreq "$tmp/q_session" MOLDTEST99 1000 1
mkreq "$tmp/q_zero" MOLDTEST04 0 1
mkreq "$tmp/q_count" MOLDTEST04 1000 0
mkreq "$tmp/q_held" MOLDTEST04 5 1
mkreq "$tmp/q_sent" MOLDTEST04 900000 1
$NSB "$PEER" listen --group $GE:$GPORT --interface $SB --server $SA:$LPORT --start 1000 \
    --count 5000 --request-max 1000 --timeout 3 --output "$tmp/oute.bin" \
    >"$tmp/lise.json" 2>"$tmp/lise.err" &
lis=$!
sleep 0.3
$NSA "$PEER" serve --group $GE:$GPORT --interface $SA --listen $SA:$LPORT --session MOLDTEST04 \
    --input "$tmp/ine.bin" --first-seq 1000 --drop-pct 5 --seed 13 --max-request 2 \
    --heartbeat-ms 100 --linger 1 --eos-seconds 3 >"$tmp/srve.json" 2>"$tmp/srve.err" &
srv=$!
wait_sent "$tmp/srve.err"
for q in len session zero count held sent; do
    $NSB bash -c 'cat "$1" >/dev/udp/'$SA/$LPORT _ "$tmp/q_$q"
done
wait $lis; rc=$?
wait $srv
[ "$rc" -eq 1 ] && [ "$(f "$tmp/lise.json" lost_messages)" -gt 0 ] &&
    grep -q '"complete": false' "$tmp/lise.json" &&
    [ "$(f "$tmp/srve.json" ignored_over_max)" -gt 0 ]; r=$?
check "E: a listener whose requests exceed the server's --max-request 2 ends incomplete (exit $rc, $(f "$tmp/lise.json" lost_messages) messages lost in $(f "$tmp/lise.json" lost_ranges_total) ranges; server ignored $(f "$tmp/srve.json" ignored_over_max) requests over the maximum)" $r
bad=
for k in length session seq_zero count_zero not_held not_sent; do
    [ "$(f "$tmp/srve.json" ignored_$k)" = 1 ] || bad="$bad $k=$(f "$tmp/srve.json" ignored_$k)"
done
[ -z "$bad" ]; r=$?
check "  each hand-made bad request ignored under its own reason (length, session, seq_zero, count_zero, not_held, not_sent: one each${bad:+; wrong:$bad})" $r

for x in "$tmp"/*.json; do sed "s|^|# $(basename "$x"): |" "$x"; done
for x in "$tmp"/*.err; do [ -s "$x" ] && sed "s|^|# $(basename "$x"): |" "$x" | head -5; done
exit 0
