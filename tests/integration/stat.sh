#!/usr/bin/env bash
# Live counters end to end: programs run with stats.shm publish their counters
# in files that seqcast-stat reads while they run.
#   - a subscriber killed with SIGKILL leaves its file: seqcast-stat finds it
#     stale and removes it; a foreign and a truncated file are refused with a
#     reason (exit 1), never followed;
#   - a publisher and a subscriber in two network namespaces, nftables dropping
#     5 % of what the publisher sends: seqcast-stat --once --json sees both,
#     their counters move between two reads, NAKs among them; --loss shows the
#     subscriber's log; the live view in a real terminal (tmux) shows both with
#     their rates, and q quits it;
#   - seqcast-stat --prometheus: promtool accepts the exposition, and a real
#     Prometheus server scraping it answers a query with the publisher's NAKs;
#   - the files go when the programs end;
#   - the alert rules of docs/OPERATIONS.md pass promtool check rules;
#   - an order gateway (seqcast-orderd) and its client (seqcast-order) on
#     loopback TCP: one block per session, labelled session=NAME, whose
#     counters say what went through (orders in, acknowledgements out);
#   - a subscriber and an archive with two publishers, one across namespaces
#     (nftables drops its ODATA packets 1000-1009 once and, for a while, every
#     NAK to it), one beside them: one source line per session labelled with its
#     GSI and port (JSON and Prometheus); the lag behind the first above 0 while
#     the gap holds delivery, 0 once the NAKs pass, and 0 all along behind the
#     other; a repair entry 1000..1009 in the subscriber's loss log, NAKed to the
#     publisher; the archive's subscriber's events in the archive's log.
#     (Two publishers of a channel on one host share its NAK port: NAKs reach
#     one of them, hence one in each namespace.)
# Speaks TAP; without root or namespaces the network checks are skipped, as are
# the tmux and Prometheus ones without those programs.
set -u
. "$(dirname "$0")/../support/tap.sh" "stat test" 15

D=$tmp/shm
mkdir -p "$D"
SHM=(--set stats.shm=on --set "stats.shm_dir=$D" --set stats.shm_interval=50ms)
S=("$B/seqcast-stat" --dir "$D")

wait_file() { # PATTERN: wait up to 5 s for a file
    local i
    for i in $(seq 50); do
        compgen -G "$D/$1" >/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# HTTP GET over bash's /dev/tcp: HOST PORT PATH -> the body on stdout
http_get() {
    exec 3<>"/dev/tcp/$1/$2" || return 1
    printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$3" "$1" >&3
    timeout 5 cat <&3 | sed '1,/^\r$/d'
    exec 3<&-
}

# 1. a killed process's file is stale and removed
"$B/seqcast-sub" "${SHM[@]}" --group 239.198.18.81:32310 --timeout 30 -q >/dev/null 2>&1 &
victim=$!
wait_file "seqcast-sub.$victim.*"; r=$?
kill -9 $victim
wait $victim 2>/dev/null
[ $r -eq 0 ] && compgen -G "$D/seqcast-sub.$victim.*" >/dev/null \
    && "${S[@]}" --once --json >"$tmp/stale.json" && grep -q '"stale_removed": 1' "$tmp/stale.json" \
    && ! compgen -G "$D/seqcast-sub.$victim.*" >/dev/null; r=$?
check "the file of a subscriber killed with SIGKILL is found stale and removed by seqcast-stat" $r

# 2. hostile files: refused with a reason, no crash
head -c 3000 /dev/urandom >"$D/evil.1.x.scstat"
"$B/seqcast-sub" "${SHM[@]}" --group 239.198.18.81:32310 --timeout 30 -q >/dev/null 2>&1 &
live=$!
wait_file "seqcast-sub.$live.*"
f=$(compgen -G "$D/seqcast-sub.$live.*")
head -c 700 "$f" >"$D/seqcast-sub.$live.cut.scstat"
"${S[@]}" --once >"$tmp/hostile.out" 2>"$tmp/hostile.err"; rc=$?
sed 's/^/#   /' "$tmp/hostile.err"
[ $rc -eq 1 ] && grep -q 'evil.1.x.scstat: not a seqcast counters file' "$tmp/hostile.err" \
    && grep -q 'cut.scstat: header out of bounds' "$tmp/hostile.err" \
    && grep -q "seqcast-sub *$live " "$tmp/hostile.out"; r=$?
check "a foreign and a truncated file are refused with a reason (exit $rc), the live one still listed" $r
kill $live
wait $live 2>/dev/null
rm -f "$D/evil.1.x.scstat" "$D/seqcast-sub.$live.cut.scstat"

# 3. the alert rules the operations guide gives
if command -v promtool >/dev/null; then
    sed -n '/^<!-- alert-rules -->$/,/^<!-- \/alert-rules -->$/p' "$ROOT/docs/OPERATIONS.md" \
        | grep -v '^<!--' | grep -v '^```' >"$tmp/rules.yml"
    promtool check rules "$tmp/rules.yml" >"$tmp/rules.out" 2>&1; r=$?
    sed 's/^/#   /' "$tmp/rules.out"
    [ $r -eq 0 ] && grep -q 'SUCCESS: [1-9][0-9]* rules found' "$tmp/rules.out"; r=$?
    check "the alert rules in docs/OPERATIONS.md pass promtool check rules" $r
else
    skip "the alert rules in docs/OPERATIONS.md" "needs promtool (Debian package prometheus)"
fi

# 4. order sessions: a block per session, from the gateway and from the client
OP=$((33000 + $$ % 2000))
cat >"$tmp/orders.yaml" <<EOC
sessions:
  - name: gw1
    session_id: GW1
    listen: tcp:127.0.0.1:$OP
    connect: tcp:127.0.0.1:$OP
    heartbeat: 200ms
    timeout: 2s
    users: [ { name: DESK1, password: pw1 } ]
    login: { user: DESK1, password: pw1 }
    journal: $tmp/orders.journal
EOC
"$B/seqcast-orderd" --config "$tmp/orders.yaml" "${SHM[@]}" >"$tmp/orderd.json" 2>"$tmp/orderd.err" &
od=$!
wait_file "seqcast-orderd.$od.*"
"$B/seqcast-order" --config "$tmp/orders.yaml" "${SHM[@]}" --count 2000 --rate 2000 --timeout 20 \
    >"$tmp/order.json" 2>"$tmp/order.err" &
oc=$!
wait_file "seqcast-order.$oc.*"
sleep 0.5
"${S[@]}" --once --json --pid $od >"$tmp/od.json"
"${S[@]}" --once --json --pid $oc >"$tmp/oc.json"
wait $oc; orc=$?
# the gateway's block is a copy made every stats.shm_interval (50 ms): read until it has caught up
for i in $(seq 40); do
    "${S[@]}" --once --json --pid $od >"$tmp/od2.json"
    [ "$(field_first "$tmp/od2.json" tx_sequenced)" = 2000 ] && break
    sleep 0.05
done
kill -INT $od; wait $od 2>/dev/null
sed 's/^/#   /' "$tmp/order.err" | tail -2
grep -q '"session": "gw1"' "$tmp/od.json" && grep -q '"session": "gw1"' "$tmp/oc.json"; r1=$?
in_mid=$(field_first "$tmp/od.json" rx_msgs); in_end=$(field_first "$tmp/od2.json" rx_msgs)
acks=$(field_first "$tmp/od2.json" tx_sequenced)
[ $r1 -eq 0 ] && [ $orc -eq 0 ] && [ "${in_mid:-0}" -gt 0 ] && [ "${in_mid:-0}" -lt 2000 ] \
    && [ "${in_end:-0}" -eq 2000 ] && [ "${acks:-0}" -eq 2000 ]; r=$?
check "order sessions: the gateway's and the client's block labelled session=gw1; orders in mid-run $in_mid, at the end ${in_end:-?} of 2000, ${acks:-?} acknowledged" $r

# 5-11: pub and sub across namespaces, with loss
netns_pair "sst$$" 198.18.24
N=400000
CH=(--group 239.198.18.82:32320 --set nak_port=32321)
$NSB "$B/seqcast-sub" "${CH[@]}" "${SHM[@]}" --interface 198.18.24.2 --count $N --timeout 60 -q \
    >"$tmp/sub.json" 2>"$tmp/sub.err" &
sub=$!
sleep 0.5
$NSA nft add table netdev loss
$NSA nft add chain netdev loss eg "{ type filter hook egress device eth0 priority 0; }"
$NSA nft add rule netdev loss eg meta protocol ip numgen random mod 100 '<' 5 counter drop
$NSA "$B/seqcast-pub" "${CH[@]}" "${SHM[@]}" --interface 198.18.24.1 --count $N --size 32 \
    --rate 20000 --linger 3 >"$tmp/pub.json" 2>"$tmp/pub.err" &
pub=$!
wait_file "seqcast-pub.*"
sleep 1.5
# the namespaces' pids are ours: ip netns exec execs the program
"${S[@]}" --once --json >"$tmp/one.json"
sleep 1
"${S[@]}" --once --json >"$tmp/two.json"
"${S[@]}" --once --json --pid $pub >"$tmp/pub1.json"
"${S[@]}" --once --json --pid $sub >"$tmp/sub1.json"
grep -q "\"program\": \"seqcast-pub\", \"pid\": $pub," "$tmp/one.json" \
    && grep -q "\"program\": \"seqcast-sub\", \"pid\": $sub," "$tmp/one.json" \
    && grep -q '"labels": {"channel": "default", "group": "239.198.18.82:32320"' "$tmp/one.json"; r=$?
check "seqcast-stat --once --json lists the publisher ($pub) and the subscriber ($sub) with their labels" $r

sent1=$(field_first "$tmp/one.json" msgs_sent); sent2=$(field_first "$tmp/two.json" msgs_sent)
got1=$(field_first "$tmp/one.json" msgs_delivered); got2=$(field_first "$tmp/two.json" msgs_delivered)
naks=$(field_first "$tmp/sub1.json" naks_sent); nakr=$(field_first "$tmp/pub1.json" naks_received)
echo "# msgs_sent $sent1 -> $sent2, msgs_delivered $got1 -> $got2, naks_sent $naks, naks_received $nakr"
[ "${sent2:-0}" -gt "${sent1:-0}" ] && [ "${got2:-0}" -gt "${got1:-0}" ] && [ "${naks:-0}" -gt 0 ] \
    && [ "${nakr:-0}" -gt 0 ]; r=$?
check "the counters move between two reads a second apart, NAKs among them (5 % dropped)" $r

"${S[@]}" --loss >"$tmp/loss.txt"
"${S[@]}" --loss --json --pid $sub >"$tmp/loss.json"
sed 's/^/#   /' "$tmp/loss.txt" | head -4
grep -q "seqcast-sub *$sub *source_up *from_start" "$tmp/loss.txt" \
    && grep -q '"event": "source_up", "reason": "from_start", "source": "[0-9a-f]*\.[0-9]*"' "$tmp/loss.json"; r=$?
check "seqcast-stat --loss shows the subscriber's log: the source up, from its start" $r

# the live view in a real terminal
if command -v tmux >/dev/null; then
    TM=(tmux -L "sst$$")
    on_exit "${TM[*]} kill-server 2>/dev/null"
    "${TM[@]}" new-session -d -s stat -x 200 -y 20 "$B/seqcast-stat --dir $D --interval 0.5"
    sleep 2
    "${TM[@]}" capture-pane -p -J -t stat >"$tmp/pane.txt"
    sed 's/^/#   /' "$tmp/pane.txt" | grep -v '^#   $' | head -5
    # the subscriber's line: MSG/S (5th column) is a rate above 0
    rate=$(awk -v p="$sub" '$1 == "seqcast-sub" && $2 == p && $4 == "sub" { print $5 }' "$tmp/pane.txt")
    # and its source's line, labelled with the source
    srate=$(awk -v p="$sub" '$1 == "seqcast-sub" && $2 == p && $4 == "source" && /,source=[0-9a-f]*\.[0-9]*,gsi=[0-9a-f]*,port=[0-9]*/ { print $5 }' "$tmp/pane.txt")
    grep -q 'MSG/S *PKT/S *NAK/S *NCF/S *RPR/S .* LAG' "$tmp/pane.txt" \
        && [ -n "$srate" ] && [ "$srate" != - ] \
        && grep -q "^seqcast-pub *$pub " "$tmp/pane.txt" && [ -n "$rate" ] && [ "$rate" != 0 ] \
        && [ "$rate" != - ]; r=$?
    "${TM[@]}" send-keys -t stat q
    for i in $(seq 20); do "${TM[@]}" has-session -t stat 2>/dev/null || break; sleep 0.1; done
    ! "${TM[@]}" has-session -t stat 2>/dev/null; q=$?
    check "the live view in tmux shows the publisher, the subscriber at $rate msg/s and its source's line at $srate msg/s, and q quits it ($q)" $((r | q))
else
    skip "the live view in tmux" "needs tmux"
fi

# Prometheus
PP=$((20000 + $$ % 20000))
"${S[@]}" --prometheus 127.0.0.1:$PP 2>"$tmp/prom-stat.err" &
exporter=$!
sleep 0.5
http_get 127.0.0.1 $PP /metrics >"$tmp/metrics.txt"
grep -E '^seqcast_(pub_naks_received|sub_naks_sent)_total' "$tmp/metrics.txt" | sed 's/^/#   /'
# promtool: exit 1 is a format error; 3 is its lint, of which only one kind is
# accepted -- names with "_b_" (line_b: the B line, not bytes)
if command -v promtool >/dev/null; then
    promtool check metrics <"$tmp/metrics.txt" >"$tmp/promtool.out" 2>&1; pr=$?
    sed 's/^/#   promtool: /' "$tmp/promtool.out" | head -5
    [ $pr -eq 3 ] && ! grep -v '_line_b_[a-z]*_total metric names should not contain abbreviated units' \
        "$tmp/promtool.out" | grep -q . && pr=0
else
    pr=0
fi
[ $pr -eq 0 ] && grep -q '^# TYPE seqcast_sub_naks_sent_total counter$' "$tmp/metrics.txt" \
    && grep -q '^# TYPE seqcast_pub_window_lead gauge$' "$tmp/metrics.txt" \
    && grep -q "^seqcast_sub_naks_sent_total{program=\"seqcast-sub\",pid=\"$sub\",name=\"default\",channel=\"default\",group=\"239.198.18.82:32320\"" "$tmp/metrics.txt" \
    && [ "$(grep -c '^# TYPE seqcast_pub_msgs_sent_total ' "$tmp/metrics.txt")" = 1 ]; r=$?
check "--prometheus serves every counter with HELP, TYPE and labels (promtool check metrics: $pr)" $r

if command -v prometheus >/dev/null; then
    QP=$((PP + 1))
    cat >"$tmp/prom.yml" <<EOF
global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: seqcast
    static_configs: [ { targets: ['127.0.0.1:$PP'] } ]
EOF
    prometheus --config.file="$tmp/prom.yml" --storage.tsdb.path="$tmp/tsdb" \
        --web.listen-address=127.0.0.1:$QP >"$tmp/prometheus.log" 2>&1 &
    prom=$!
    val=
    for i in $(seq 40); do
        sleep 0.5
        ans=$(http_get 127.0.0.1 $QP "/api/v1/query?query=seqcast_pub_naks_received_total" 2>/dev/null)
        val=$(echo "$ans" | grep -o '"value":\[[0-9.]*,"[0-9]*"' | sed 's/.*,"//; s/"//')
        [ -n "$val" ] && [ "$val" -gt 0 ] && break
    done
    echo "# Prometheus answered: ${ans:-nothing}" | cut -c1-300
    live=$("${S[@]}" --once --json --pid $pub | grep -o '"naks_received": [0-9]*' | awk '{print $2}')
    [ -n "$val" ] && [ "$val" -gt 0 ] && [ "${live:-0}" -ge "$val" ]; r=$?
    check "a real Prometheus scraping it answers seqcast_pub_naks_received_total = $val (live now: $live)" $r
    [ $r -eq 0 ] || tail -5 "$tmp/prometheus.log" | sed 's/^/#   /'
    kill $prom
    wait $prom 2>/dev/null
else
    skip "a real Prometheus scrapes the endpoint" "needs prometheus (Debian package prometheus)"
fi

kill $exporter
wait $exporter
wait $sub; rc=$?
wait $pub
$NSA nft delete table netdev loss
echo "# subscriber: exit $rc, $(field "$tmp/sub.json" received) received, $(field "$tmp/sub.json" naks_sent) NAKs"
! compgen -G "$D/seqcast-pub.$pub.*" >/dev/null && ! compgen -G "$D/seqcast-sub.$sub.*" >/dev/null; r=$?
check "the files go when the programs end (subscriber exit $rc)" $r

# 12-15: two sources, a range lost, repaired once the NAKs pass; the archive's log
CH2=(--group 239.198.18.83:32330 --set nak_port=32331)
NAKS=(--set nak.repeat=100ms --set nak.ncf_retries=200 --set nak.ramp=false)
$NSB nft add table netdev hold
$NSB nft add chain netdev hold eg "{ type filter hook egress device eth0 priority 0; }"
$NSB nft add rule netdev hold eg udp dport 32331 counter drop
# ODATA (PGM type 4, byte 4) whose sequence (bytes 16-19 of PGM) is 1000-1009
$NSA nft add table netdev range
$NSA nft add chain netdev range eg "{ type filter hook egress device eth0 priority 0; }"
$NSA nft add rule netdev range eg udp dport 32330 @th,96,8 4 @th,192,32 1000-1009 counter drop
$NSB "$B/seqcast-sub" "${CH2[@]}" "${SHM[@]}" "${NAKS[@]}" --interface 198.18.24.2 --timeout 12 \
    -q >"$tmp/sub2.json" 2>"$tmp/sub2.err" &
sub2=$!
$NSB "$B/seqcast-archive" --dir "$tmp/arc" "${CH2[@]}" "${SHM[@]}" "${NAKS[@]}" \
    --interface 198.18.24.2 --timeout 12 -q >"$tmp/arc.json" 2>"$tmp/arc.err" &
arc=$!
wait_file "seqcast-sub.$sub2.*"
wait_file "seqcast-archive.$arc.*"
$NSA "$B/seqcast-pub" "${CH2[@]}" --set gso=false --interface 198.18.24.1 --count 14000 \
    --size 32 --rate 2000 --linger 2 >"$tmp/pub2.1.json" 2>&1 &
pubs=($!)
$NSB "$B/seqcast-pub" "${CH2[@]}" --set gso=false --set loop=true --interface 198.18.24.2 \
    --count 14000 --size 32 --rate 2000 --linger 2 >"$tmp/pub2.2.json" 2>&1 &
pubs+=($!)
sleep 3.5
"${S[@]}" --once --json --pid $sub2 >"$tmp/held.json"
"${S[@]}" --prometheus 127.0.0.1:$((PP + 2)) 2>/dev/null &
exporter=$!
sleep 0.5
http_get 127.0.0.1 $((PP + 2)) /metrics >"$tmp/metrics2.txt"
kill $exporter
wait $exporter
$NSB nft delete table netdev hold
sleep 2
"${S[@]}" --once --json --pid $sub2 >"$tmp/after.json"
"${S[@]}" --once --json --pid $arc >"$tmp/arc-log.json"
"${S[@]}" --loss >"$tmp/loss2.txt"
grep -E ' repair ' "$tmp/loss2.txt" | sed 's/^/#   /'
# per source: "name gsi port lag missing", and the sources of the loss log's source_up events
sources() {
    python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for p in d["processes"]:
    for b in p["blocks"]:
        if b["set"] == "source":
            l, c = b["labels"], b["counters"]
            print(l.get("source"), l.get("gsi"), l.get("port"), l.get("channel"), c["lag"],
                  c["missing"], c["msgs_delivered"])
    for e in p["loss"]:
        if e["event"] == "source_up":
            print("up", e["source"])
PY
}
sources "$tmp/held.json" >"$tmp/held.txt"
sources "$tmp/after.json" >"$tmp/after.txt"
sed 's/^/#   held: /' "$tmp/held.txt"
sed 's/^/#   after: /' "$tmp/after.txt"
# two source lines, each labelled source=GSI.PORT, gsi=GSI, port=PORT, channel, and
# the two are the sessions that came up
awk '$1 != "up" { n++; if ($1 != $2 "." $3 || $4 != "default" || length($2) != 12 || $2 ~ /[^0-9a-f]/) bad++ }
     $1 == "up" { up[$2]++ }
     END { exit !(n == 2 && !bad) }' "$tmp/held.txt" \
    && [ "$(awk '$1 == "up" {print $2}' "$tmp/held.txt" | sort)" = \
         "$(awk '$1 != "up" {print $1}' "$tmp/held.txt" | sort)" ] \
    && [ "$(grep -c "^seqcast_source_msgs_delivered_total{program=\"seqcast-sub\",pid=\"$sub2\",name=\"default\",channel=\"default\",group=\"239.198.18.83:32330\",.*source=\"[0-9a-f]*\.[0-9]*\",gsi=\"[0-9a-f]*\",port=\"[0-9]*\"}" "$tmp/metrics2.txt")" = 2 ]; r=$?
check "one source line per session, labelled with its GSI and port (JSON, Prometheus)" $r

# the held source: lag and 10 missing; the other: none
lag_held=$(awk '$1 != "up" && $5 > 0 && $6 == 10 { n++ } END { print n + 0 }' "$tmp/held.txt")
lag_none=$(awk '$1 != "up" && $5 == 0 && $6 == 0 && $7 > 0 { n++ } END { print n + 0 }' "$tmp/held.txt")
lag_after=$(awk '$1 != "up" && $5 == 0 && $6 == 0 && $7 > 0 { n++ } END { print n + 0 }' "$tmp/after.txt")
sublag=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print([b["counters"]["lag"] for p in d["processes"] for b in p["blocks"] if b["set"] == "sub"][0])' "$tmp/held.json")
grep -E "^seqcast_source_lag\{.*pid=\"$sub2\"" "$tmp/metrics2.txt" | sed 's/^/#   /'
[ "$lag_held" = 1 ] && [ "$lag_none" = 1 ] && [ "$lag_after" = 2 ] && [ "${sublag:-0}" -gt 0 ] \
    && [ "$(grep -cE "^seqcast_source_lag\{.*pid=\"$sub2\".*\} [1-9][0-9]*$" "$tmp/metrics2.txt")" = 1 ]; r=$?
check "the lag behind the source whose gap holds delivery above 0 (sub $sublag), behind the other 0; both 0 once repaired ($lag_held, $lag_none, $lag_after)" $r

python3 - "$tmp/after.json" "$tmp/held.txt" >"$tmp/repairs.txt" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
names = [l.split()[0] for l in open(sys.argv[2]) if not l.startswith("up")]
for p in d["processes"]:
    for e in p["loss"]:
        if e["event"] == "repair" and e["source"] in names:
            print(e["source"], e["reason"], e["first"], e["last"], e["count"], e["peer"],
                  e["repair_ns"])
PY
sed 's/^/#   /' "$tmp/repairs.txt"
[ "$(awk '$2 == "nak" && $3 == 1000 && $4 == 1009 && $5 == 10 && $6 == "198.18.24.1:32331" \
          && $7 > 1000000000' "$tmp/repairs.txt" | wc -l)" = 1 ]; r=$?
check "a repair entry in the loss log: packets 1000..1009, NAKed to 198.18.24.1:32331, waited over 1 s" $r

python3 - "$tmp/arc-log.json" >"$tmp/arc-log.txt" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for p in d["processes"]:
    for e in p["loss"]:
        print(p["program"], e["event"], e["reason"], e["first"], e["last"], e["source"])
PY
sed 's/^/#   /' "$tmp/arc-log.txt" | head -6
grep -q '^seqcast-archive source_up ' "$tmp/arc-log.txt" \
    && grep -q '^seqcast-archive repair nak 1000 1009 ' "$tmp/arc-log.txt"; r=$?
check "the archive's subscriber writes its events to the archive's loss log (source up, repair 1000..1009)" $r
for p in "${pubs[@]}"; do wait $p; done
wait $sub2 $arc
$NSA nft delete table netdev range
exit 0
