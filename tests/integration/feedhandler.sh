#!/usr/bin/env bash
# seqcast-feedhandler end to end. A small ITCH 5.0 file (tests/integration/itch_file.c:
# every type, 8 symbols, one unknown type and one message cut short) is the reference:
#   1.   --input FILE: every message applied, the two bad ones counted, exit 0;
#   2.   bad usage exits 2 with a reason; --symbols and --csv; a file cut mid-record exits 1;
#   3-6. seqcast-pub --input FILE on loopback, PGM (framing batched) and MoldUDP64, into a
#        live seqcast-feedhandler: its final books (--depth 10 at the end) equal the
#        reference's; and --pcap of the publisher's capture (--record) gives them too;
#   7.   a feed handler that joins late by recovering the publisher's window (a window of 64
#        packets: message 1 long gone) says every book is stale, and exits 1;
#   8-9. the same as 3-6 across network namespaces with 2 % nftables loss on the publisher's
#        link, PGM and MoldUDP64: every loss repaired, the same books;
#   10.  seqcast-itchgen's day (200,000 messages, 20 symbols) -> seqcast-pub (MoldUDP64)
#        -> 2 % loss -> seqcast-feedhandler: the books seqcast-feedhandler --input builds.
#   11.  a feed handler that joins late (the publisher's window of 64 packets long past
#        message 1) with late_join: archive: a seqcast-archive that recorded from the start
#        rewinds it from message 1 into the live stream -- the books are the reference's,
#        none stale, exit 0.
#   12.  NASDAQ publishes its days gzip-compressed: --input FILE.gz (seqcast-feedhandler and
#        seqcast-pub, through gzip -dc) gives the reference's books; a .gz cut short exits 1
#        saying so.
#   13.  tables too small for the day (--max-levels 2, --max-orders 50): each limit said once
#        on stderr as first hit, naming the option to raise, counted in the summary, exit 1;
#        the file through a pipe (read, not mapped) gives the reference's books.
set -u
. "$(dirname "$0")/../support/tap.sh" "seqcast-feedhandler" 13
N=30000
F=$tmp/day.itch
"$ROOT/$BUILD/tests/itch_file" "$F" $N 7 || skip_all "tests/itch_file not built"
FH=(--quiet --depth 10 --max-orders 65536 --max-books 64 --max-levels 1024)
books() { grep '"type": "depth"' "$1"; }

# --- 1. the reference, from the file
"$B/seqcast-feedhandler" --input "$F" "${FH[@]}" >"$tmp/ref.json" 2>"$tmp/ref.err"
rc=$?
msgs=$(field "$tmp/ref.json" msgs)
[ $rc -eq 0 ] && [ "$(field "$tmp/ref.json" complete)" = true ] && [ "$(books "$tmp/ref.json" | wc -l)" = 8 ] &&
    [ "$msgs" -gt $N ] && [ "$(field "$tmp/ref.json" bad_msgs)" = 2 ] && [ "$(field "$tmp/ref.json" type)" = 1 ] &&
    [ "$(field "$tmp/ref.json" short)" = 1 ] && [ "$(field "$tmp/ref.json" unknown_refs)" = 0 ] &&
    [ "$(field "$tmp/ref.json" live_orders)" -gt 0 ]; r=$?
check "--input: $msgs messages into $(books "$tmp/ref.json" | wc -l) books ($(field "$tmp/ref.json" live_orders) live orders, $(field "$tmp/ref.json" bbo_updates) BBO updates), the unknown type and the cut message counted and skipped, exit $rc" $r

# --- 2. usage, filters, a cut file
bad=0
for args in "--bogus" "--input $F --pcap $F" "--every 1" "--depth 0" "--input $F --group 239.1.1.1:1" "--max-books 70000" "extra"; do
    "$B/seqcast-feedhandler" $args >/dev/null 2>"$tmp/u.err"
    [ $? -eq 2 ] && [ -s "$tmp/u.err" ] || { bad=1; echo "# '$args' did not exit 2 with a reason"; }
done
"$B/seqcast-feedhandler" --input "$F" --symbols MSFT,SPY --csv "${FH[@]:1}" >"$tmp/csv" 2>/dev/null
syms=$(grep -E '^(bbo|trade|depth),' "$tmp/csv" | cut -d, -f4 | sort -u | tr '\n' ' ')
"$B/seqcast-feedhandler" --input "$F" --symbols MSFT "${FH[@]:3}" >"$tmp/sym.json" 2>/dev/null
head -c $(($(stat -c %s "$F") - 3)) "$F" >"$tmp/cut.itch"
"$B/seqcast-feedhandler" --input "$tmp/cut.itch" --quiet >"$tmp/cut.json" 2>"$tmp/cut.err"
crc=$?
[ $bad -eq 0 ] && [ "$syms" = "MSFT SPY " ] && head -1 "$tmp/csv" | grep -q '^event,ts,locate,symbol' &&
    [ "$(grep -c '"type": "bbo"' "$tmp/sym.json")" -gt 0 ] &&
    [ "$(grep '"type": "bbo"' "$tmp/sym.json" | grep -vc '"symbol": "MSFT"')" = 0 ] &&
    [ $crc -eq 1 ] && grep -q 'cut short' "$tmp/cut.err" && [ "$(field "$tmp/cut.json" truncated)" -gt 0 ]; r=$?
check "bad usage exits 2 with a reason; --symbols MSFT,SPY --csv shows only them ($syms); a file cut mid-record: exit $crc, $(field "$tmp/cut.json" truncated) bytes counted" $r

# --- 3-6. loopback, live and from the capture
P=$((22000 + $$ % 20000))
live() { # NAME CHANNEL-ARGS...: publish the file on loopback into a live feed handler, recording
    local name=$1
    shift
    "$B/seqcast-feedhandler" "$@" --interface 127.0.0.1 "${FH[@]}" --timeout 30 \
        >"$tmp/$name.json" 2>"$tmp/$name.err" &
    local fh=$!
    sleep 0.3
    "$B/seqcast-pub" "$@" --interface 127.0.0.1 --input "${IN:-$F}" --rate 50000 --linger 0.5 \
        --record "$tmp/$name.pcap" >"$tmp/$name.pub.json" 2>"$tmp/$name.pub.err"
    wait $fh
    echo $? >"$tmp/$name.rc"
}
same_books() { # RESULT: its books are the reference's, with every message and no loss
    diff <(books "$tmp/ref.json") <(books "$1") >"$1.diff" &&
        [ "$(field "$1" msgs)" = "$msgs" ] && [ "$(field "$1" loss_events)" = 0 ] &&
        [ "$(field "$1" complete)" = true ]
}
for proto in pgm moldudp64; do
    P=$((P + 1))
    CH=(--set protocol=$proto --group 239.198.19.$((P % 200 + 20)):$P)
    live "$proto" "${CH[@]}"
    same_books "$tmp/$proto.json"; r=$?
    check "$proto on loopback: seqcast-pub --input -> seqcast-feedhandler: $(field "$tmp/$proto.json" msgs) of $msgs messages, the same $(books "$tmp/$proto.json" | wc -l) books (exit $(cat "$tmp/$proto.rc"))" $r
    [ $r -eq 0 ] || { head -5 "$tmp/$proto.json.diff"; sed 's/^/# /' "$tmp/$proto.err" | head -5; }
    "$B/seqcast-feedhandler" "${CH[@]}" --pcap "$tmp/$proto.pcap" "${FH[@]}" >"$tmp/$proto.cap.json" 2>"$tmp/$proto.cap.err"
    rc=$?
    same_books "$tmp/$proto.cap.json" && [ $rc -eq 0 ]; r=$?
    check "  --pcap of the publisher's capture: the same books, $(field "$tmp/$proto.cap.json" msgs) messages (exit $rc)" $r
    [ $r -eq 0 ] || sed 's/^/# /' "$tmp/$proto.cap.err" | head -5
done

# --- 7. a late join from the window, which no longer holds message 1
P=$((P + 1))
CH=(--set protocol=pgm --group 239.198.19.$((P % 200 + 20)):$P)
"$B/seqcast-pub" "${CH[@]}" --interface 127.0.0.1 --input "$F" --rate 10000 --set window.packets=64 \
    --set window.time=1s --linger 0.5 >"$tmp/late.pub.json" 2>"$tmp/late.pub.err" &
pub=$!
sleep 1.2
"$B/seqcast-feedhandler" "${CH[@]}" --set late_join=window --interface 127.0.0.1 "${FH[@]}" \
    --timeout 30 >"$tmp/late.json" 2>"$tmp/late.err"
rc=$?
wait $pub
nb=$(books "$tmp/late.json" | wc -l)
[ $rc -eq 1 ] && [ "$nb" -gt 0 ] && [ "$(field "$tmp/late.json" stale_books)" = "$nb" ] &&
    grep -q "joined at message" "$tmp/late.err"; r=$?
check "a late join from a window that no longer holds message 1: $(field "$tmp/late.json" stale_books) of $nb books stale ($(grep -o 'joined at message [0-9]*' "$tmp/late.err" | head -1), exit $rc)" $r
[ $r -eq 0 ] || sed 's/^/# /' "$tmp/late.err" | head -5

# --- 8-9. namespaces, 2 % loss on the publisher's link
netns_pair "sfh$$" 198.18.23
$NSA nft add table netdev loss
$NSA nft add chain netdev loss eg "{ type filter hook egress device eth0 priority 0; }"
$NSA nft add rule netdev loss eg meta protocol ip numgen random mod 1000 '<' 20 counter drop
for proto in pgm moldudp64; do
    P=$((P + 1))
    CH=(--set protocol=$proto --group 239.198.19.$((P % 200 + 20)):$P --set rcvbuf=16MiB)
    $NSA nft reset counters table netdev loss >/dev/null
    $NSB "$B/seqcast-feedhandler" "${CH[@]}" --interface 198.18.23.2 "${FH[@]}" --timeout 60 \
        >"$tmp/n$proto.json" 2>"$tmp/n$proto.err" &
    fh=$!
    sleep 0.5
    $NSA "$B/seqcast-pub" "${CH[@]}" --interface 198.18.23.1 --input "$F" --rate 30000 --linger 2 \
        >"$tmp/n$proto.pub.json" 2>"$tmp/n$proto.pub.err"
    wait $fh; rc=$?
    dropped=$($NSA nft list table netdev loss | grep -o 'packets [0-9]*' | awk '{print $2}')
    same_books "$tmp/n$proto.json" && [ "${dropped:-0}" -gt 0 ] && [ "$(field "$tmp/n$proto.json" repaired)" -gt 0 ]; r=$?
    check "$proto across namespaces, 2 % loss (${dropped:-0} packets dropped, $(field "$tmp/n$proto.json" repaired) messages repaired): the same books as from the file (exit $rc)" $r
    [ $r -eq 0 ] || { head -5 "$tmp/n$proto.json.diff"; sed 's/^/# /' "$tmp/n$proto.err" | head -5; }
done

# --- 10. a generated day, end to end
"$B/seqcast-itchgen" --messages 200000 --symbols 20 --seed 3 --output "$tmp/gen.itch" >/dev/null
"$B/seqcast-feedhandler" --input "$tmp/gen.itch" "${FH[@]}" >"$tmp/ref.json" 2>"$tmp/gref.err"
msgs=$(field "$tmp/ref.json" msgs)
P=$((P + 1))
CH=(--set protocol=moldudp64 --group 239.198.19.$((P % 200 + 20)):$P --set rcvbuf=16MiB)
$NSA nft reset counters table netdev loss >/dev/null
$NSB "$B/seqcast-feedhandler" "${CH[@]}" --interface 198.18.23.2 "${FH[@]}" --timeout 60 \
    >"$tmp/gen.json" 2>"$tmp/gen.err" &
fh=$!
sleep 0.5
$NSA "$B/seqcast-pub" "${CH[@]}" --interface 198.18.23.1 --input "$tmp/gen.itch" --rate 100000 \
    --linger 2 >"$tmp/gen.pub.json" 2>"$tmp/gen.pub.err"
wait $fh; rc=$?
dropped=$($NSA nft list table netdev loss | grep -o 'packets [0-9]*' | awk '{print $2}')
same_books "$tmp/gen.json" && [ "$msgs" = 200000 ] && [ "$(books "$tmp/ref.json" | wc -l)" = 20 ] &&
    [ "${dropped:-0}" -gt 0 ]; r=$?
check "seqcast-itchgen's day ($msgs messages, $(books "$tmp/ref.json" | wc -l) books) -> seqcast-pub (MoldUDP64) -> 2 % loss (${dropped:-0} packets dropped, $(field "$tmp/gen.json" repaired) messages repaired) -> seqcast-feedhandler: the books --input builds (exit $rc)" $r
[ $r -eq 0 ] || { head -5 "$tmp/gen.json.diff"; sed 's/^/# /' "$tmp/gen.err" | head -5; }

# --- 11. (see the top) the late join of 7, from the archives (10 replaced the
# reference: the small file's again)
"$B/seqcast-feedhandler" --input "$F" "${FH[@]}" >"$tmp/ref.json" 2>"$tmp/ref.err"
msgs=$(field "$tmp/ref.json" msgs)
P=$((P + 1)); R=$((P + 7))
CH=(--set protocol=moldudp64 --group 239.198.19.$((P % 200 + 20)):$P)
"$B/seqcast-archive" "${CH[@]}" --interface 127.0.0.1 --dir "$tmp/arc" --rewind 127.0.0.1:$R \
    --timeout 60 --quiet >"$tmp/arc.json" 2>"$tmp/arc.err" &
arc=$!
sleep 0.5
"$B/seqcast-pub" "${CH[@]}" --interface 127.0.0.1 --input "$F" --rate 10000 --set window.packets=64 \
    --set window.time=1s --linger 0.5 >"$tmp/ar.pub.json" 2>"$tmp/ar.pub.err" &
pub=$!
sleep 1.5
"$B/seqcast-feedhandler" "${CH[@]}" --set max_sources=1 --set recovery.rewind=127.0.0.1:$R --set late_join=archive \
    --interface 127.0.0.1 "${FH[@]}" --timeout 30 >"$tmp/ar.json" 2>"$tmp/ar.err"
rc=$?
wait $pub
kill -TERM $arc 2>/dev/null; wait $arc
same_books "$tmp/ar.json" && [ $rc -eq 0 ] && [ "$(field "$tmp/ar.json" stale_books)" = 0 ] &&
    [ "$(field "$tmp/ar.json" msgs_rewind)" -gt 1000 ]; r=$?
check "a late join with late_join: archive: $(field "$tmp/ar.json" msgs_rewind) messages from the archive's rewind, the rest live: the same books as from the file, $(field "$tmp/ar.json" stale_books) stale (exit $rc)" $r
[ $r -eq 0 ] || { head -3 "$tmp/ar.json.diff" 2>/dev/null; sed 's/^/# /' "$tmp/ar.err" "$tmp/arc.err" | head -8; }

# --- 12. gzip-compressed input (the reference is the small file's, from 11)
gzip -c "$F" >"$tmp/day.itch.gz"
head -c $(($(stat -c %s "$tmp/day.itch.gz") / 2)) "$tmp/day.itch.gz" >"$tmp/cut.itch.gz"
"$B/seqcast-feedhandler" --input "$tmp/day.itch.gz" "${FH[@]}" >"$tmp/gz.json" 2>"$tmp/gz.err"
grc=$?
"$B/seqcast-feedhandler" --input "$tmp/cut.itch.gz" "${FH[@]}" >"$tmp/gzcut.json" 2>"$tmp/gzcut.err"
gcrc=$?
P=$((P + 1))
IN=$tmp/day.itch.gz live gzpub --set protocol=moldudp64 --group 239.198.19.$((P % 200 + 20)):$P
same_books "$tmp/gz.json" && [ $grc -eq 0 ] && [ $gcrc -eq 1 ] &&
    grep -q 'gzip could not decompress it whole' "$tmp/gzcut.err" &&
    [ "$(field "$tmp/gzcut.json" complete)" = false ] && same_books "$tmp/gzpub.json" &&
    [ "$(cat "$tmp/gzpub.rc")" = 0 ]; r=$?
check "gzip input: seqcast-feedhandler --input FILE.gz the reference's books (exit $grc); cut short: exit $gcrc, said; seqcast-pub --input FILE.gz -> seqcast-feedhandler: the same books (exit $(cat "$tmp/gzpub.rc"))" $r
[ $r -eq 0 ] || sed 's/^/# /' "$tmp/gz.err" "$tmp/gzcut.err" "$tmp/gzpub.err" "$tmp/gzpub.pub.err" | head -8

# --- 13. the tables' limits said; the file through a pipe
"$B/seqcast-feedhandler" --input "$F" --quiet --max-levels 2 --max-orders 50 >"$tmp/lim.json" 2>"$tmp/lim.err"
lrc=$?
"$B/seqcast-feedhandler" --input - "${FH[@]}" <"$F" >"$tmp/pipe.json" 2>"$tmp/pipe.err"
prc=$?
[ $lrc -eq 1 ] && [ "$(grep -c 'warning: a side of a book reached --max-levels 2: .*raise --max-levels' "$tmp/lim.err")" = 1 ] &&
    [ "$(grep -c 'warning: the live orders reached --max-orders 50: .*raise --max-orders' "$tmp/lim.err")" = 1 ] &&
    grep -q -- '--max-levels 2: [0-9]* messages refused' "$tmp/lim.err" &&
    [ "$(field "$tmp/lim.json" levels_full)" -gt 0 ] && [ "$(field "$tmp/lim.json" orders_full)" -gt 0 ] &&
    [ "$(field "$tmp/lim.json" stale_books)" -gt 0 ] && ! grep -q max-books "$tmp/lim.err" &&
    [ $prc -eq 0 ] && same_books "$tmp/pipe.json"; r=$?
check "tables too small: each limit said once as first hit and counted ($(field "$tmp/lim.json" levels_full) refused for --max-levels, $(field "$tmp/lim.json" orders_full) for --max-orders), exit $lrc; the file through a pipe: the reference's books (exit $prc)" $r
[ $r -eq 0 ] || sed 's/^/# /' "$tmp/lim.err" "$tmp/pipe.err" | head -8
exit 0
