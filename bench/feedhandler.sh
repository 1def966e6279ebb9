#!/usr/bin/env bash
# make bench, feed-handler section: order books built from an ITCH 5.0 file on
# one core. seqcast-itchgen writes a deterministic day (BENCH_FH_MSGS messages,
# default 10,000,000; QUICK: 1,000,000) for 100, 1,000 and 8,000 symbols into
# a file under /tmp (the page cache: the figure is the decoder and the books,
# not the disk), then seqcast-feedhandler --input builds its books, pinned to
# one vCPU, BENCH_FH_REPS times (default 3); the row is the median run. Its own
# summary gives the rate (first to last message), the live orders at the end,
# the books and the memory its tables took (sized once, at start, from
# --max-orders/--max-books/--max-levels: the figure per configured order is
# what an operator sizes by). Then one run more with the tables sized to the
# day (its peak of live orders, its books, the most levels a side held): the
# memory the day needs, and per live order.
#
# Parse-only (its own block below): the ITCH codec alone, bench/itch_parse on
# the same kind of day (1,000 symbols) held in memory, every message decoded
# (sc_itch_decode, and sc_itch_decode_portable beside it), the median of 7
# passes on CPU time; the row is the median of BENCH_FH_REPS runs, pinned.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
out=$ROOT/$BUILD/bench
B=$ROOT/$BUILD/bin
N=${BENCH_FH_MSGS:-10000000}
[ "${QUICK:-0}" = 1 ] && N=${BENCH_FH_MSGS:-1000000}
REPS=${BENCH_FH_REPS:-3}
[ "${QUICK:-0}" = 1 ] && REPS=1
MAXO=4194304 MAXB=8192 MAXL=1024
tmp=$(mktemp -d /tmp/seqcast-bench-fh-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
rc=0
: >"$tmp/results"
PIN=()
command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ] && PIN=(taskset -c 1)

# reps NAME FIELD VALUE -- CMD...: CMD (pinned) REPS times, a run good when its
# JSON's FIELD is VALUE; the median run (by msgs_per_s) -> $tmp/NAME.json, the
# rates -> $tmp/NAME.runs ("9.1M / 9.3M / ..."). @return 1 when no run was good
reps() {
    local name=$1 field=$2 value=$3 rep med
    shift 4
    : >"$tmp/runs"
    for rep in $(seq 1 "$REPS"); do
        if "${PIN[@]}" "$@" >"$tmp/$name-$rep.json" 2>"$tmp/$name.err" &&
            [ "$(jget "$tmp/$name-$rep.json" "$field")" = "$value" ]; then
            echo "$(jget "$tmp/$name-$rep.json" msgs_per_s) $rep" >>"$tmp/runs"
        else
            rc=1
            echo "$name, run $rep failed: $(head -3 "$tmp/$name.err")" >&2
        fi
    done
    [ -s "$tmp/runs" ] || return 1
    med=$(sort -n "$tmp/runs" | awk '{ a[NR] = $2 } END { print a[int((NR + 1) / 2)] }')
    cp "$tmp/$name-$med.json" "$tmp/$name.json"
    sort -n "$tmp/runs" | awk '{ printf("%s%.1fM", NR > 1 ? " / " : "", $1 / 1e6) }' >"$tmp/$name.runs"
}

for syms in 100 1000 8000; do
    "$B/seqcast-itchgen" --messages "$N" --symbols "$syms" --seed 7 --output "$tmp/day.itch" \
        >"$tmp/gen.json" 2>"$tmp/gen.err" || { rc=1; cat "$tmp/gen.err" >&2; continue; }
    cat "$tmp/day.itch" >/dev/null # into the page cache
    reps "feedhandler-$syms" unknown_refs 0 -- "$B/seqcast-feedhandler" --input "$tmp/day.itch" \
        --quiet --max-orders $MAXO --max-books $MAXB --max-levels $MAXL || continue
    f=$tmp/feedhandler-$syms.json
    # memory for the day: the tables sized to what it needed (its peak of live
    # orders, its books, the most levels one side held, the level pool its deeper
    # sides took), the same books built
    fo=$(jget "$f" orders_peak) fb=$(jget "$f" books) fl=$(jget "$f" levels_side_peak)
    fp=$(jget "$f" level_pool_taken)
    [ "${fp:-0}" -gt 0 ] 2>/dev/null || fp=1
    fit_mem=0 fit_rate=0
    if "${PIN[@]}" "$B/seqcast-feedhandler" --input "$tmp/day.itch" --quiet --max-orders "$fo" \
        --max-books "$fb" --max-levels "$fl" --level-pool "$fp" >"$tmp/fit.json" 2>"$tmp/fit.err" &&
        [ "$(jget "$tmp/fit.json" unknown_refs)" = 0 ] && [ "$(jget "$tmp/fit.json" orders_full)" = 0 ] &&
        [ "$(jget "$tmp/fit.json" levels_full)" = 0 ] && [ "$(jget "$tmp/fit.json" books_full)" = 0 ] &&
        [ "$(jget "$tmp/fit.json" level_pool_full)" = 0 ] &&
        [ "$(jget "$tmp/fit.json" bbo_updates)" = "$(jget "$f" bbo_updates)" ] &&
        [ "$(jget "$tmp/fit.json" live_orders)" = "$(jget "$f" live_orders)" ]; then
        fit_mem=$(jget "$tmp/fit.json" memory_bytes) fit_rate=$(jget "$tmp/fit.json" msgs_per_s)
    else
        rc=1
        echo "feedhandler: $syms symbols, tables sized to the day ($fo orders, $fb books, $fl levels): not the same books: $(head -3 "$tmp/fit.err")" >&2
    fi
    printf '{"system": "seqcast-feedhandler", "test": "book-build", "symbols": %s, "msgs": %s, "msgs_per_s": %s, "ns_per_msg": %.1f, "live_orders": %s, "orders_peak": %s, "books": %s, "memory_bytes": %s, "max_orders": %s, "bbo_updates": %s, "runs": "%s", "levels_side_peak": %s, "fit_memory_bytes": %s, "fit_msgs_per_s": %s}\n' \
        "$syms" "$(jget "$f" messages)" "$(jget "$f" msgs_per_s)" \
        "$(awk -v r="$(jget "$f" msgs_per_s)" 'BEGIN { print (r > 0 ? 1e9 / r : 0) }')" \
        "$(jget "$f" live_orders)" "$fo" "$(jget "$f" books)" \
        "$(jget "$f" memory_bytes)" $MAXO "$(jget "$f" bbo_updates)" \
        "$(cat "$tmp/feedhandler-$syms.runs")" "$fl" "$fit_mem" "$fit_rate" >>"$tmp/results"
done

# ---- parse-only: the codec alone (bench/itch_parse), 1,000 symbols
: >"$tmp/parse.json"
: >"$tmp/parse.md"
if "$B/seqcast-itchgen" --messages "$N" --symbols 1000 --seed 7 --output "$tmp/day.itch" \
    >/dev/null 2>"$tmp/gen.err"; then
    for mode in decode portable; do
        reps "p-$mode" bad 0 -- "$out/itch_parse" "$tmp/day.itch" $([ $mode = portable ] && echo --portable)
    done
    if [ -s "$tmp/p-decode.json" ]; then
        f=$tmp/p-decode.json
        pm=$([ -s "$tmp/p-portable.json" ] && jget "$tmp/p-portable.json" msgs_per_s || echo 0)
        printf '{"system": "seqcast", "test": "parse-only", "decode": "%s", "symbols": 1000, "msgs": %s, "msgs_per_s": %s, "ns_per_msg": %s, "runs": "%s", "portable_msgs_per_s": %s, "portable_ns_per_msg": %s, "portable_runs": "%s"}\n' \
            "$(jget "$f" decode)" "$(jget "$f" msgs)" "$(jget "$f" msgs_per_s)" "$(jget "$f" ns_per_msg)" \
            "$(cat "$tmp/p-decode.runs")" "$pm" \
            "$([ -s "$tmp/p-portable.json" ] && jget "$tmp/p-portable.json" ns_per_msg || echo 0)" \
            "$(cat "$tmp/p-portable.runs" 2>/dev/null)" >"$tmp/parse.json"
        awk "$JAWK"'{ printf("\nParse-only: sc_itch_decode alone (bench/itch_parse) on the day of 1,000 symbols held in memory, every message decoded, the median of 7 passes on CPU time, the median of '"$REPS"' runs: %.1fM msg/s, %s ns/msg (runs %s; path %s). The portable type switch (sc_itch_decode_portable): %.1fM msg/s, %s ns/msg (runs %s).\n\n* ITCH parse-only: %.1f M msg/s (target ≥ 100 M msg/s: %s)\n",
            j("msgs_per_s") / 1e6, j("ns_per_msg"), j("runs"), j("decode"), j("portable_msgs_per_s") / 1e6,
            j("portable_ns_per_msg"), j("portable_runs"), j("msgs_per_s") / 1e6,
            j("msgs_per_s") + 0 >= 100e6 ? "holds" : "does not hold") }' "$tmp/parse.json" >"$tmp/parse.md"
    fi
else
    rc=1
    cat "$tmp/gen.err" >&2
fi
# ---- end of parse-only

{
echo "A seqcast-itchgen day of $N messages (seed 7), read from the page cache by seqcast-feedhandler --input$([ ${#PIN[@]} -gt 0 ] && echo ", pinned to one vCPU"); the median of $REPS runs. Tables sized at start for $MAXO orders, $MAXB books and $MAXL levels a side."
echo
echo "| symbols | messages | msgs/s | ns/msg | runs | books | live orders at the end (peak) | BBO updates | memory | bytes per configured order |"
echo "|---|---|---|---|---|---|---|---|---|---|"
awk "$JAWK"'{ printf("| %s | %s | %.1fM | %s | %s | %s | %s (%s) | %s | %.0f MB | %.0f |\n", j("symbols"), j("msgs"),
    j("msgs_per_s") / 1e6, j("ns_per_msg"), j("runs"), j("books"), j("live_orders"), j("orders_peak"),
    j("bbo_updates"), j("memory_bytes") / 1e6, j("memory_bytes") / j("max_orders")) }' "$tmp/results"
echo
echo "Memory for the day: the same day again with the tables sized to what it needed -- its peak of live orders (--max-orders), its books, the most levels one side of a book held (--max-levels), the level-pool levels its sides deeper than 32 took (--level-pool) -- and the same books built (BBO updates and live orders equal, nothing refused). Per live order: that memory over the peak of live orders (the ring of recent orders, two slots an order, and the overflow map at load <= 0.7, each rounded up to a power of two, every book's first 32 levels a side, and the level pool)."
echo
echo "| symbols | peak live orders | books | levels a side (most) | memory | bytes per live order (peak) | msgs/s with these tables |"
echo "|---|---|---|---|---|---|---|"
awk "$JAWK"'{ printf("| %s | %s | %s | %s | %.1f MB | %.0f | %.1fM |\n", j("symbols"), j("orders_peak"), j("books"),
    j("levels_side_peak"), j("fit_memory_bytes") / 1e6, j("orders_peak") > 0 ? j("fit_memory_bytes") / j("orders_peak") : 0,
    j("fit_msgs_per_s") / 1e6) }' "$tmp/results"
echo
awk "$JAWK"'{ if (j("symbols") == 1000) printf("* book build, 1,000 symbols: %.1f M msg/s (target ≥ 25 M msg/s: %s)\n",
    j("msgs_per_s") / 1e6, j("msgs_per_s") + 0 >= 25e6 ? "holds" : "does not hold") }' "$tmp/results"
cat "$tmp/parse.md"
} | tee "$out/feedhandler-table.md"
{ echo "["; cat "$tmp/results" "$tmp/parse.json" | paste -sd,; echo "]"; } >"$out/feedhandler.json"
exit $rc
