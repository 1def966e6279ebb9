#!/usr/bin/env bash
# seqcast-itchgen, the program: --help names every option; bad options exit 2
# with a reason; the same seed writes the same file (to a file or to stdout)
# and another seed another; the file holds --messages records of NASDAQ's
# framing, starting with start of messages; the JSON summary counts them.
set -u
cd "$(dirname "$0")/../.."
. tests/support/tap.sh "itchgen" 9
G=$B/seqcast-itchgen

help=$("$G" --help); r=$?
missing=$(grep -oE '^ *\{ "[a-z-]+",' apps/main_itchgen.c | grep -oE '[a-z-]+' |
          while read -r o; do grep -q -- "--$o" <<<"$help" || echo "$o"; done)
check "--help exits 0 and names every option${missing:+ (missing: $missing)}" \
    "$([ $r -eq 0 ] && [ -z "$missing" ]; echo $?)"

bad=0
for args in "-n abc -o $tmp/x" "-n 10 -o $tmp/x" "-s 0 -o $tmp/x" "-s 70000 -o $tmp/x" \
            "--seed x -o $tmp/x" "-n 1M" "-o $tmp/x extra" "--bogus -o $tmp/x" "-n 5Q -o $tmp/x"; do
    # shellcheck disable=SC2086
    err=$("$G" $args 2>&1 >/dev/null); r=$?
    if [ $r -ne 2 ] || [ -z "$err" ]; then
        echo "  # '$args': exit $r, said '$err'"
        bad=1
    fi
done
check "bad options exit 2 with a reason" $bad
check "... and write nothing" "$([ -e "$tmp/x" ] && echo 1 || echo 0)"

"$G" -n 200k -s 20 --seed 7 -o "$tmp/a.itch" >"$tmp/a.json"; ra=$?
"$G" -n 200k -s 20 --seed 7 -o "$tmp/b.itch" >/dev/null; rb=$?
"$G" -n 200k -s 20 --seed 8 -o "$tmp/c.itch" >/dev/null; rc=$?
check "three days written" "$([ $ra -eq 0 ] && [ $rb -eq 0 ] && [ $rc -eq 0 ]; echo $?)"
cmp -s "$tmp/a.itch" "$tmp/b.itch"; check "the same seed: the same bytes" $?
! cmp -s "$tmp/a.itch" "$tmp/c.itch"; check "another seed: other bytes" $?

"$G" -n 200k -s 20 --seed 7 -o - >"$tmp/d.itch" 2>"$tmp/d.json"
cmp -s "$tmp/a.itch" "$tmp/d.itch"
check "-o - writes the same bytes to stdout, the summary to stderr" \
    "$([ $? -eq 0 ] && [ "$(field "$tmp/d.json" messages)" = 200000 ]; echo $?)"

# the records: walk the 2-byte big-endian lengths to the end of the file
"$G" -n 20k -s 5 -o "$tmp/e.itch" >/dev/null
records=$(od -An -v -tu1 -w1 "$tmp/e.itch" | awk '
    { b[NR - 1] = $1 } END { i = 0; n = 0
      while (i + 2 <= NR) { len = b[i] * 256 + b[i + 1]; if (len == 0 || i + 2 + len > NR) break
                            n++; i += 2 + len }
      print (i == NR ? n : -1) }')
first=$(od -An -tx1 -N3 "$tmp/e.itch" | tr -d ' ')
check "20,000 whole records (got $records), the first a system event (got $first)" \
    "$([ "$records" = 20000 ] && [ "$first" = 000c53 ]; echo $?)"

sum=0
for k in system_events directory trading_actions reg_sho adds adds_mpid executes executes_price \
         cancels deletes replaces trades crosses noii; do
    sum=$((sum + $(field "$tmp/a.json" "$k")))
done
check "the summary's types add up to its messages ($sum), 20 symbols, orders live" \
    "$([ "$sum" = 200000 ] && [ "$(field "$tmp/a.json" messages)" = 200000 ] &&
       [ "$(field "$tmp/a.json" symbols)" = 20 ] && [ "$(field "$tmp/a.json" orders_live)" -gt 0 ] &&
       grep -q '"by_type": {"S": 6, "R": 20,' "$tmp/a.json"; echo $?)"
