#!/usr/bin/env bash
# Rewinds from seqcast-archive --rewind (SoupBinTCP 4.0 on loopback TCP), read
# with seqcast-rewind (MoldUDP64 channel):
#   1. 100,000 messages archived; a rewind from 1 to 100,000 is byte for byte
#      what seqcast-pub sent (cmp);
#   2. a rewind joined while the publisher still sends: history, then live
#      messages as the archive records them, to the last -- every sequence once,
#      in order, verified (no gap, no duplicate at the seam);
#   3. a range the archive lacks (it joined after message 1) is reported as
#      not_in_archive (exit 1), and what it holds is delivered after it;
#   4. failover: two archives record the same live channel; the one a rewind
#      reads from is kill -9ed mid-rewind; the rewind carries on from the other
#      with nothing lost or repeated.
# The subscriber (recovery.rewind, seqcast-sub --archive, --late-join archive):
#   5. a late joiner (--late-join archive) a second and a half into the data:
#      from message 1 by rewind, merged into the live stream; its output is
#      cmp-equal to what the publisher sent; another with --count 1000 ends
#      with exactly the first 1,000 (a rewind delivers many in one cycle);
#   6. a subscriber losing 10 % of packets from a publisher whose window is 16
#      packets: every loss the publisher can no longer repair is fetched from
#      the archive -- no loss event, output cmp-equal; the control without
#      --archive loses messages (not_in_window);
#   7. a late joiner whose archive itself started late: 1..its first reported
#      lost as not_in_archive, everything after delivered;
#   8. late_join: archive on a PGM channel (framing: batched), cmp-equal.
# Hostile clients of the rewind server:
#   9. malformed SoupBinTCP (lengths 0, 1, 65535, a short packet then a stall,
#      Login Requests with a non-numeric, 20-digit, 2^64, negative, blank-split
#      or left-justified sequence, a wrong session, a second login, data before
#      the login, a Logout then data): each closed, at once or at the login
#      deadline, never sent a message; 2^64 - 1 starts at the next archived;
#  10. while 200,000 live messages are recorded: 300 connections that never log
#      in, 40 logins from 1 that never read (half keep heartbeating, one reads a
#      byte a second) and 5 rewinds from 1: the recording loses nothing, every
#      rewind gets all 200,000 verified, the non-readers are closed (closed_slow,
#      closed_timeout), the crowd evicted (pending_evicted).
#  12. a rewind session that requires a login (--rewind-session with users): a
#      late joiner logging in with its channel's recovery.user/password is
#      whole (cmp); one without them is refused (login_rejected_auth) and, no
#      archive delivering, reports not_in_archive after recovery.timeout.
# Failover between archives on different hosts: rewind_netns.sh.
set -u
. "$(dirname "$0")/../support/tap.sh" "seqcast-rewind" 13
P=$((26000 + $$ % 20000))
R1=$((P + 1)) R2=$((P + 2))
LIVE=(--set protocol=moldudp64 --group 239.198.18.81:$P --interface 127.0.0.1)

# archive NAME PORT [CHANNEL OPTIONS]: seqcast-archive recording into $tmp/NAME
# (the channel: LIVE) and serving rewinds on PORT, in the background ($!)
archive() {
    local n=$1 port=$2
    shift 2
    [ $# -gt 0 ] || set -- "${LIVE[@]}"
    "$B/seqcast-archive" --dir "$tmp/$n" "$@" --rewind 127.0.0.1:$port --timeout 30 --quiet \
        >"$tmp/$n.json" 2>"$tmp/$n.err" &
}
# show NAME...: after a failed check, the last words of those runs and the first one's summary
show() {
    { for n in "$@"; do tail -n 3 "$tmp/$n.err"; done; cat "$tmp/$1.json"; } | sed 's/^/# /'
}

# --- 1. 100,000 from 1, byte for byte
"$B/seqcast-pub" --count 100000 --size 40 --write "$tmp/sent.bin" >/dev/null 2>&1
archive a1 $R1
arc=$!
sleep 0.3
"$B/seqcast-pub" "${LIVE[@]}" --count 100000 --size 40 --rate 200000 --linger 0.5 \
    >"$tmp/p1.json" 2>"$tmp/p1.err"
timeout 20 "$B/seqcast-rewind" --server 127.0.0.1:$R1 --from 1 --until 100000 \
    --output "$tmp/got.bin" --timeout 15 >"$tmp/r1.json" 2>"$tmp/r1.err"
rc=$?
kill $arc 2>/dev/null; wait $arc
[ $rc -eq 0 ] && cmp -s "$tmp/sent.bin" "$tmp/got.bin" && [ "$(field "$tmp/r1.json" msgs)" = 100000 ]; r=$?
check "a rewind from 1 of 100,000: $(field "$tmp/r1.json" msgs) messages, cmp-equal to what seqcast-pub sent (exit $rc)" $r
[ $r -eq 0 ] || show r1 a1

# --- 2. joined while live data flows
N=60000
archive a2 $R1
arc=$!
sleep 0.3
"$B/seqcast-pub" "${LIVE[@]}" --count $N --rate 20000 --linger 0.5 >"$tmp/p2.json" 2>"$tmp/p2.err" &
pub=$!
sleep 1
timeout 20 "$B/seqcast-rewind" --server 127.0.0.1:$R1 --from 1 --until $N --verify --timeout 15 \
    >"$tmp/r2.json" 2>"$tmp/r2.err"
rc=$?
wait $pub
kill $arc 2>/dev/null; wait $arc
[ $rc -eq 0 ] && [ "$(field "$tmp/r2.json" msgs)" = $N ] && [ "$(field "$tmp/r2.json" out_of_order)" = 0 ] &&
    [ "$(field "$tmp/r2.json" duplicates)" = 0 ] && [ "$(field "$tmp/r2.json" verify_errors)" = 0 ]; r=$?
check "a rewind joined a second into 3 s of live data: $(field "$tmp/r2.json" msgs) of $N, each once, in order, verified (exit $rc)" $r
[ $r -eq 0 ] || show r2 a2

# --- 3. not_in_archive: the archive starts after the data did
"$B/seqcast-pub" "${LIVE[@]}" --count 40000 --rate 20000 --linger 0.5 >"$tmp/p3.json" 2>"$tmp/p3.err" &
pub=$!
sleep 0.7
archive a3 $R1
arc=$!
wait $pub
sleep 0.3
timeout 20 "$B/seqcast-rewind" --server 127.0.0.1:$R1 --from 1 --until 40000 --verify --timeout 10 \
    >"$tmp/r3.json" 2>"$tmp/r3.err"
rc=$?
kill $arc 2>/dev/null; wait $arc
first=$(grep -o '"not_in_archive": \[{"first": [0-9]*, "last": [0-9]*' "$tmp/r3.json" | grep -o '[0-9]*' | head -1)
last=$(grep -o '"not_in_archive": \[{"first": [0-9]*, "last": [0-9]*' "$tmp/r3.json" | grep -o '[0-9]*' | tail -1)
[ $rc -eq 1 ] && [ "$first" = 1 ] && [ -n "$last" ] && [ "$last" -gt 1 ] &&
    [ "$(field "$tmp/r3.json" msgs)" = $((40000 - last)) ] && [ "$(field "$tmp/r3.json" verify_errors)" = 0 ] &&
    grep -q "not_in_archive" "$tmp/r3.err"; r=$?
check "an archive that joined late: 1-${last:-?} reported not_in_archive, the $(field "$tmp/r3.json" msgs) after it delivered (exit $rc)" $r
[ $r -eq 0 ] || show r3 a3

# --- 4. failover between two archives mid-rewind
N=80000
archive a4 $R1
arcA=$!
archive b4 $R2
arcB=$!
sleep 0.3
"$B/seqcast-pub" "${LIVE[@]}" --count $N --rate 20000 --linger 0.5 >"$tmp/p4.json" 2>"$tmp/p4.err" &
pub=$!
sleep 0.5
timeout 25 "$B/seqcast-rewind" --server 127.0.0.1:$R1,127.0.0.1:$R2 --from 1 --until $N --verify \
    --timeout 20 >"$tmp/r4.json" 2>"$tmp/r4.err" &
rew=$!
sleep 1.5
kill -9 $arcA; wait $arcA 2>/dev/null
wait $rew; rc=$?
wait $pub
kill $arcB 2>/dev/null; wait $arcB
[ $rc -eq 0 ] && [ "$(field "$tmp/r4.json" msgs)" = $N ] && [ "$(field "$tmp/r4.json" out_of_order)" = 0 ] &&
    [ "$(field "$tmp/r4.json" verify_errors)" = 0 ] && [ "$(field "$tmp/r4.json" failovers)" -ge 1 ]; r=$?
check "failover: the archive being read kill -9ed mid-rewind; $(field "$tmp/r4.json" msgs) of $N from the two, each once, in order, verified ($(field "$tmp/r4.json" failovers) failovers, exit $rc)" $r
[ $r -eq 0 ] || show r4 b4

# --- 5. late_join: archive, merged into the live stream
N=60000
"$B/seqcast-pub" --count $N --size 40 --write "$tmp/sent5.bin" >/dev/null 2>&1
archive a5 $R1
arc=$!
sleep 0.3
"$B/seqcast-pub" "${LIVE[@]}" --count $N --size 40 --rate 20000 --linger 0.5 >"$tmp/p5.json" 2>"$tmp/p5.err" &
pub=$!
sleep 1.5
timeout 25 "$B/seqcast-sub" "${LIVE[@]}" --archive 127.0.0.1:$R1 --late-join archive --count 1000 \
    --output "$tmp/got5c.bin" --timeout 20 --quiet >"$tmp/s5c.json" 2>"$tmp/s5c.err" &
sub5c=$!
timeout 25 "$B/seqcast-sub" "${LIVE[@]}" --archive 127.0.0.1:$R1 --late-join archive --count $N \
    --output "$tmp/got5.bin" --timeout 20 --quiet >"$tmp/s5.json" 2>"$tmp/s5.err"
rc=$?
wait $sub5c; rc5c=$?
wait $pub
kill $arc 2>/dev/null; wait $arc
[ $rc -eq 0 ] && cmp -s "$tmp/sent5.bin" "$tmp/got5.bin" && [ "$(field "$tmp/s5.json" msgs_rewind)" -gt 1000 ] &&
    [ "$(field "$tmp/s5.json" lost_messages)" = 0 ]; r=$?
check "late_join: archive 1.5 s into the data: $(field "$tmp/s5.json" received) of $N, $(field "$tmp/s5.json" msgs_rewind) by rewind, $(field "$tmp/s5.json" msgs_held) held then merged, the rest live; cmp-equal to what was sent (exit $rc)" $r
[ $r -eq 0 ] || show s5 a5
# the rewind delivers its history in large cycles: --count 1000 stops at 1000
head -c $((1000 * 42)) "$tmp/sent5.bin" >"$tmp/sent5c.bin"
[ $rc5c -eq 0 ] && [ "$(field "$tmp/s5c.json" received)" = 1000 ] && cmp -s "$tmp/sent5c.bin" "$tmp/got5c.bin"; r=$?
check "late_join: archive with --count 1000: exactly the first 1,000 written, $(field "$tmp/s5c.json" past_count) delivered past the count dropped (exit $rc5c)" $r
[ $r -eq 0 ] || show s5c a5

# --- 6. losses the publisher's window cannot repair, fetched from the archive
N=40000
"$B/seqcast-pub" --count $N --size 40 --write "$tmp/sent6.bin" >/dev/null 2>&1
archive a6 $R1
arc=$!
timeout 25 "$B/seqcast-sub" "${LIVE[@]}" --archive 127.0.0.1:$R1 --loss 10 --count $N \
    --output "$tmp/got6.bin" --timeout 20 --quiet >"$tmp/s6.json" 2>"$tmp/s6.err" &
sub=$!
timeout 25 "$B/seqcast-sub" "${LIVE[@]}" --loss 10 --count $N --timeout 8 --quiet \
    >"$tmp/c6.json" 2>"$tmp/c6.err" &
ctl=$!
sleep 0.5
"$B/seqcast-pub" "${LIVE[@]}" --set window.packets=16 --count $N --size 40 --rate 20000 --linger 1 \
    >"$tmp/p6.json" 2>"$tmp/p6.err"
wait $sub; rc=$?
wait $ctl
kill $arc 2>/dev/null; wait $arc
[ $rc -eq 0 ] && cmp -s "$tmp/sent6.bin" "$tmp/got6.bin" && [ "$(field "$tmp/s6.json" loss_events)" = 0 ] &&
    [ "$(field "$tmp/s6.json" recoveries)" -gt 0 ]; r=$?
check "10 % loss, the publisher's window 16 packets: $(field "$tmp/s6.json" recoveries) recoveries from the archive ($(field "$tmp/s6.json" msgs_rewind) messages by rewind), no loss event, output cmp-equal (exit $rc)" $r
[ $r -eq 0 ] || show s6 a6
[ "$(field "$tmp/c6.json" lost_messages)" -gt 0 ] && grep -q 'not_in_window' "$tmp/c6.json"; r=$?
check "the control without --archive: $(field "$tmp/c6.json" lost_messages) messages lost, not_in_window" $r

# --- 7. not_in_archive: the archive started after the data did
"$B/seqcast-pub" "${LIVE[@]}" --count 40000 --rate 20000 --linger 0.5 >"$tmp/p7.json" 2>"$tmp/p7.err" &
pub=$!
sleep 0.7
archive a7 $R1
arc=$!
sleep 0.5
timeout 25 "$B/seqcast-sub" "${LIVE[@]}" --archive 127.0.0.1:$R1 --late-join archive --count 40000 \
    --verify --timeout 8 >"$tmp/s7.json" 2>"$tmp/s7.err"
rc=$?
wait $pub
kill $arc 2>/dev/null; wait $arc
afirst=$(field "$tmp/a7.json" first_seq)
lost=$(field "$tmp/s7.json" lost_messages)
[ -n "$afirst" ] && [ "$afirst" -gt 1 ] && [ "$lost" = $((afirst - 1)) ] &&
    grep -q '"first": 1, "last": '$((afirst - 1))', "reason": "not_in_archive"' "$tmp/s7.json" &&
    [ "$(field "$tmp/s7.json" received)" = $((40000 - afirst + 1)) ] && [ "$(field "$tmp/s7.json" verify_errors)" = 0 ]; r=$?
check "an archive holding from $afirst: 1-$((${afirst:-1} - 1)) reported not_in_archive, $(field "$tmp/s7.json" received) after it delivered and verified (exit $rc)" $r
[ $r -eq 0 ] || show s7 a7

# --- 8. a PGM channel (framing: batched)
N=60000
PGM=(--group 239.198.18.81:$((P + 3)) --interface 127.0.0.1)
archive a8 $R2 "${PGM[@]}"
arc=$!
sleep 0.3
# a window of 64 packets (~2,000 messages): message 1 is out of it when the
# subscriber joins, so history can only come by rewind (with the default
# window a join could be served from it: one run got 0 by rewind)
"$B/seqcast-pub" "${PGM[@]}" --set window.packets=64 --count $N --size 40 --rate 20000 --linger 0.5 \
    >"$tmp/p8.json" 2>"$tmp/p8.err" &
pub=$!
sleep 1.5
timeout 25 "$B/seqcast-sub" "${PGM[@]}" --archive 127.0.0.1:$R2 --late-join archive --count $N \
    --output "$tmp/got8.bin" --timeout 20 --quiet >"$tmp/s8.json" 2>"$tmp/s8.err"
rc=$?
wait $pub
kill $arc 2>/dev/null; wait $arc
[ $rc -eq 0 ] && cmp -s "$tmp/sent5.bin" "$tmp/got8.bin" && [ "$(field "$tmp/s8.json" msgs_rewind)" -gt 1000 ]; r=$?
check "PGM batched, late_join: archive: $(field "$tmp/s8.json" received) of $N, $(field "$tmp/s8.json" msgs_rewind) by rewind, cmp-equal (exit $rc)" $r
[ $r -eq 0 ] || show s8 a8

# --- 9. malformed SoupBinTCP from hostile clients
cat >"$tmp/rw.yaml" <<EOC
sessions:
  - name: rw
    listen: unix:/unused
    heartbeat: 200ms
    timeout: 2s
    login_timeout: 1s
EOC
RWS=(--config "$tmp/rw.yaml" --rewind-session rw)
archive a9 $R1 "${LIVE[@]}" "${RWS[@]}"
arc=$!
sleep 0.3
"$B/seqcast-pub" "${LIVE[@]}" --count 1000 --rate 20000 --linger 0.3 >/dev/null 2>&1
python3 - $R1 >"$tmp/h9.out" 2>&1 <<'EOP'
import socket, struct, sys, time
port = int(sys.argv[1])
def login(seq, session=b''):
    body = b'L' + b' ' * 16 + session.rjust(10) + seq.rjust(20)
    return struct.pack('>H', len(body)) + body
def run(name, payload, within, want_first=None):
    s = socket.create_connection(('127.0.0.1', port)); s.settimeout(within + 1)
    s.sendall(payload); t0 = time.time(); data = b''
    try:
        while True:
            d = s.recv(65536)
            if not d: break
            data += d
    except socket.timeout:
        print('FAIL', name, 'still open after', within + 1, 's'); return
    except ConnectionResetError:
        pass
    dt = time.time() - t0
    types = []
    while len(data) >= 3:
        n = struct.unpack('>H', data[:2])[0]; types.append(chr(data[2])); data = data[2 + n:]
    ok = dt <= within and 'S' not in types and (want_first is None or types[:1] == [want_first])
    print('ok  ' if ok else 'FAIL', name, 'closed after %.2f s' % dt, 'packets', ''.join(types))
run('length 0', b'\x00\x00', 0.5)
run('length 1, unknown type', b'\x00\x01Z', 0.5)
run('length 65535', b'\xff\xff+abc', 0.5)
run('a short packet, then a stall', b'\x00\x64+' + b'x' * 10, 1.8)
run('login, non-numeric', login(b'abc'), 0.5)
run('login, 20 digits', login(b'99999999999999999999'), 0.5)
run('login, 2^64', login(b'18446744073709551616'), 0.5)
run('login, negative', login(b'-1'), 0.5)
run('login, blank inside', login(b'12 34'), 0.5)
run('login, left-justified', b'\x00\x2fL' + b' ' * 26 + b'1'.ljust(20), 0.5)
run('login, wrong session', login(b'1', b'NOPE'), 0.5, 'J')
run('data before login', b'\x00\x04Uabc', 0.5)
run('two logins', login(b'0') + login(b'0'), 0.5, 'A')
run('a Logout, then data', login(b'0') + b'\x00\x01O' + b'\x00\x04Uabc', 0.5, 'A')
s = socket.create_connection(('127.0.0.1', port)); s.settimeout(2)
s.sendall(login(b'18446744073709551615')); d = s.recv(33)
print('ok  ' if d[2:3] == b'A' and d[13:33].strip() == b'1001' else 'FAIL',
      'login 2^64 - 1 starts at', d[13:33].strip())
EOP
kill $arc 2>/dev/null; wait $arc
! grep -q FAIL "$tmp/h9.out" && [ "$(grep -c '^ok' "$tmp/h9.out")" = 15 ] &&
    [ "$(field "$tmp/a9.json" closed_protocol)" -ge 10 ] && [ "$(field "$tmp/a9.json" tx_sequenced)" = 0 ]; r=$?
check "malformed SoupBinTCP: $(grep -c '^ok' "$tmp/h9.out") of 15 hostile clients closed unserved ($(field "$tmp/a9.json" closed_protocol) closed_protocol, $(field "$tmp/a9.json" closed_login_timeout) closed_login_timeout)" $r
[ $r -eq 0 ] || { sed 's/^/# /' "$tmp/h9.out"; show a9; }

# --- 10. a hostile crowd while the archive records
# every connection the server accepted, closed by one of its defences or logged out
# (how many of the crowd log in before the pending ones are evicted depends on timing:
# in one loaded run 29 of 46 did, 189 were evicted pending)
closed_all() {
    local t=0 k
    for k in closed_timeout closed_logout closed_protocol closed_peer closed_login_timeout \
             pending_evicted closed_slow closed_gap refused_full; do
        t=$((t + $(field "$1" $k)))
    done
    echo $t
}
N=200000
archive a10 $R1 "${LIVE[@]}" "${RWS[@]}"
arc=$!
sleep 0.3
"$B/seqcast-pub" "${LIVE[@]}" --count $N --rate 40000 --linger 0.5 >"$tmp/p10.json" 2>"$tmp/p10.err" &
pub=$!
sleep 1
python3 - $R1 >"$tmp/h10.out" 2>&1 <<'EOP' &
import socket, struct, sys, time
port = int(sys.argv[1])
login = struct.pack('>H', 47) + b'L' + b' ' * 26 + b'1'.rjust(20)
def mk(rcvbuf=None):
    s = socket.socket()
    if rcvbuf: s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(('127.0.0.1', port)); s.setblocking(False); return s
crowd = [mk() for _ in range(300)]
for s in crowd:
    try: s.send(b'\x00')
    except OSError: pass
idle = [mk(4096) for _ in range(40)]
for s in idle: s.send(login)
slow = mk(4096); slow.send(login)
for k in range(8):
    for s in idle[::2] + [slow]:
        try: s.send(b'\x00\x01R' * 2)
        except OSError: pass
    try: slow.recv(1)
    except OSError: pass
    time.sleep(1)
EOP
crowd=$!
rews=()
for i in 1 2 3 4 5; do
    timeout 40 "$B/seqcast-rewind" --server 127.0.0.1:$R1 --from 1 --until $N --verify --timeout 15 \
        >"$tmp/r10.$i.json" 2>"$tmp/r10.$i.err" &
    rews+=($!)
done
wait $pub
wait $crowd
wait "${rews[@]}"
sleep 0.5
kill $arc 2>/dev/null; wait $arc
full=0
for i in 1 2 3 4 5; do
    [ "$(field "$tmp/r10.$i.json" msgs)" = $N ] && [ "$(field "$tmp/r10.$i.json" verify_errors)" = 0 ] &&
        [ "$(field "$tmp/r10.$i.json" out_of_order)" = 0 ] && full=$((full + 1))
done
[ "$(field_first "$tmp/a10.json" msgs_archived)" = $N ] && [ "$(field_first "$tmp/a10.json" gaps_recorded)" = 0 ] &&
    [ $full = 5 ] && { [ "$(field "$tmp/a10.json" closed_slow)" -ge 1 ] || [ "$(field "$tmp/a10.json" logins)" -le 5 ]; } &&
    [ "$(field "$tmp/a10.json" pending_evicted)" -gt 0 ] && [ "$(field "$tmp/a10.json" connections)" = 0 ] &&
    [ "$(field "$tmp/a10.json" accepted)" = "$(closed_all "$tmp/a10.json")" ]; r=$?
check "a hostile crowd (300 never logging in, 40 logged in never reading, a byte-a-second reader) and 5 rewinds from 1 while recording: $(field_first "$tmp/a10.json" msgs_archived) of $N archived, $(field_first "$tmp/a10.json" gaps_recorded) gaps; $full of 5 rewinds whole and verified; closed_slow $(field "$tmp/a10.json" closed_slow), closed_timeout $(field "$tmp/a10.json" closed_timeout), pending_evicted $(field "$tmp/a10.json" pending_evicted); $(closed_all "$tmp/a10.json") of $(field "$tmp/a10.json" accepted) accepted closed" $r
[ $r -eq 0 ] || show a10

# --- 12. rewinds that require a login: recovery.user and recovery.password
cat >"$tmp/auth.yaml" <<EOC
sessions:
  - name: rw
    listen: unix:/unused
    users: [ { name: DESK1, password: pw1 } ]
EOC
N=40000
"$B/seqcast-pub" --count $N --size 40 --write "$tmp/sent12.bin" >/dev/null 2>&1
archive a12 $R1 "${LIVE[@]}" --config "$tmp/auth.yaml" --rewind-session rw
arc=$!
sleep 0.3
"$B/seqcast-pub" "${LIVE[@]}" --count $N --size 40 --rate 20000 --linger 0.5 >"$tmp/p12.json" 2>"$tmp/p12.err" &
pub=$!
sleep 1
"$B/seqcast-sub" "${LIVE[@]}" --archive 127.0.0.1:$R1 --late-join archive --set recovery.user=DESK1 \
    --set recovery.password=pw1 --count $N --output "$tmp/got12.bin" --timeout 15 --quiet \
    >"$tmp/s12.json" 2>"$tmp/s12.err" &
sub=$!
"$B/seqcast-sub" "${LIVE[@]}" --archive 127.0.0.1:$R1 --late-join archive --set recovery.timeout=1s \
    --count $N --timeout 4 --quiet >"$tmp/s12n.json" 2>"$tmp/s12n.err" &
subn=$!
wait $sub; rc=$?
wait $subn
wait $pub
kill $arc 2>/dev/null; wait $arc
[ $rc -eq 0 ] && cmp -s "$tmp/sent12.bin" "$tmp/got12.bin" && [ "$(field "$tmp/s12.json" msgs_rewind)" -gt 1000 ] &&
    [ "$(field "$tmp/s12n.json" lost_not_in_archive)" -gt 1000 ] && grep -q not_in_archive "$tmp/s12n.err" &&
    [ "$(field "$tmp/a12.json" login_rejected_auth)" -ge 1 ]; r=$?
check "a rewind session requiring a login: with recovery.user/password $(field "$tmp/s12.json" received) of $N, $(field "$tmp/s12.json" msgs_rewind) by rewind, cmp-equal (exit $rc); without, refused ($(field "$tmp/a12.json" login_rejected_auth) login_rejected_auth) and $(field "$tmp/s12n.json" lost_not_in_archive) reported not_in_archive" $r
[ $r -eq 0 ] || show s12 a12
