# Sourced by the bench sections: one way to run a sender/receiver pair of
# bench/peer, read its JSON line, and build the veth pair between two network
# namespaces (with nftables loss) that the veth and loss sections use.
#
# Needs: ROOT, BUILD set by the caller.

PEER=$ROOT/$BUILD/bench/peer

# jget FILE KEY: a number or string field of the last JSON line of FILE
# (OpenPGM prints warnings to stdout)
jget() {
    grep '^{' "$1" | tail -1 | grep -o "\"$2\": \"\?[^,}\"]*" | head -1 | sed 's/.*: "\?//'
}

# median_run KEY WORST FILE...: the FILE (of those that exist) whose JSON field
# KEY is the median -- the lower middle one of an even count; a run without the
# field (it failed) counts as WORST (e.g. 999999999 for a latency, 0 for a rate)
median_run() {
    local key=$1 worst=$2 f v
    shift 2
    for f in "$@"; do
        [ -e "$f" ] || continue
        v=$(jget "$f" "$key")
        echo "${v:-$worst} $f"
    done | sort -g | awk '{ a[NR] = $2 } END { if (NR) print a[int((NR + 1) / 2)] }'
}

# wait_ready FILE PID...: wait until every receiver PID has created its --ready
# FILE.1, FILE.2, ... (in PID order), at most 20 s, then let the group settle
# 0.1 s (ZeroMQ joins in its I/O thread after the call that started it). A
# receiver that exits first ends the wait: its JSON line tells why.
# Replaces a fixed sleep: 8 receivers set up in 65-100 ms here, but a run that
# starts sending while one is still faulting in its buffers measures that.
wait_ready() {
    local f=$1 i=0 n end
    shift
    end=$((SECONDS + 20))
    for n in $(seq 1 $#); do
        i=$((i + 1))
        while [ ! -e "$f.$i" ] && kill -0 "${!n}" 2>/dev/null && [ $SECONDS -lt $end ]; do
            sleep 0.01
        done
    done
    rm -f "$f".*
    sleep 0.1
}

# pair "RECV_PREFIX" "SEND_PREFIX" OUT_JSON SYSTEM ARGS... -- RECV_ARGS... -- SEND_ARGS...
# Runs `peer SYSTEM recv` (under RECV_PREFIX, e.g. "ip netns exec X"), then
# `peer SYSTEM send`; the receiver's JSON line goes to OUT_JSON. Returns the
# receiver's exit status (1 = lost or duplicated data).
pair() {
    local rp=$1 sp=$2 out=$3 sys=$4 common=() ra=() sa=() r
    shift 4
    while [ $# -gt 0 ] && [ "$1" != -- ]; do common+=("$1"); shift; done
    shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do ra+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    sa=("$@")
    $rp "$PEER" "$sys" recv "${common[@]}" "${ra[@]}" --ready "$out.ready.1" >"$out" 2>"$out.err" &
    r=$!
    wait_ready "$out.ready" $r
    $sp "$PEER" "$sys" send "${common[@]}" "${sa[@]}" >/dev/null 2>"$out.send.err"
    wait $r
}

# the veth pair (scripts/netns.sh): bench_netns_up -> ${NS}a 198.18.2.1, ${NS}b 198.18.2.2
. "$ROOT/scripts/netns.sh"
bench_netns_up() { netns_up "scb$$" 198.18.2; }


# netns_loss PER_MILLE [MATCH...]: drop that share (of the UDP leaving ${NS}a's
# eth0, or, with MATCH, every packet matching it) on the nftables egress hook
# (this kernel has no netem), and count the PGM NAKs and the MoldUDP64
# re-requests (UDP payloads of 20 bytes: no PGM packet is that short) arriving
# at ${NS}a. netns_loss 0 counts them and drops nothing.
netns_loss() {
    local pm=$1
    shift
    $NSA nft delete table netdev bloss 2>/dev/null
    $NSA nft add table netdev bloss
    $NSA nft add counter netdev bloss dropped
    $NSA nft add counter netdev bloss naks
    $NSA nft add counter netdev bloss reqs
    $NSA nft add chain netdev bloss eg "{ type filter hook egress device eth0 priority 0; }"
    $NSA nft add chain netdev bloss in "{ type filter hook ingress device eth0 priority 0; }"
    # the PGM type byte is at UDP offset 12 (0x08 = NAK)
    $NSA nft add rule netdev bloss in meta protocol ip ip protocol udp @th,96,8 0x08 counter name naks
    $NSA nft add rule netdev bloss in meta protocol ip ip protocol udp udp length 28 counter name reqs
    if [ $# -gt 0 ]; then
        $NSA nft add rule netdev bloss eg meta protocol ip ip protocol udp "$@" counter name dropped drop
    elif [ "$pm" -gt 0 ]; then
        $NSA nft add rule netdev bloss eg meta protocol ip ip protocol udp numgen random mod 1000 '<' "$pm" counter name dropped drop
    fi
}

# netns_count dropped|naks|reqs: packets counted so far by netns_loss's rules
netns_count() {
    $NSA nft list counter netdev bloss "$1" 2>/dev/null | grep -o 'packets [0-9]*' | awk '{print $2 + 0}'
}

# awk prelude: j("key") is that field of the JSON line in $0
JAWK='function j(k,  r) { if (match($0, "\"" k "\": \"?[^,}\"]*")) { r = substr($0, RSTART, RLENGTH); sub(/^[^:]*: "?/, "", r); return r } return "" }
'
