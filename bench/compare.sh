#!/usr/bin/env bash
# bench/compare.sh PREVIOUS.md: this run's figures against those of a previous
# docs/BENCHMARKS.md, row by row, for the rows both have (throughput, latency,
# latency and throughput under loss, tail loss, order round trip), as a
# markdown table on stdout; bench/run.sh keeps the file it replaces and
# report.sh puts this table in the new one.
#
# "within noise" is judged against what this VM does to the same code from run
# to run (docs/BENCHMARKS.md, the A/A rows and the notes): a rate within
# 0.7-1.43 x, a p50 within 0.8-1.25 x, a p99 (or a tail-loss repair time)
# within 0.5-2 x -- the floor's median-of-five p99 against itself has spanned
# 0.93-2.11 x, its single runs 0.45-1.84 x. Anything outside says which way
# it moved; read it beside the floor's own move in the same case.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
out=$ROOT/$BUILD/bench
prev=${1:?usage: compare.sh PREVIOUS.md}
[ -s "$prev" ] || { echo "(no previous figures to compare with)"; exit 0; }
new=()
for t in throughput latency recovery order; do
    [ -s "$out/$t-table.md" ] && new+=("$out/$t-table.md")
done
[ ${#new[@]} -gt 0 ] || { echo "(no figures in this run to compare)"; exit 0; }

echo "| table | row | figure | previous run | this run | this ÷ previous | |"
echo "|---|---|---|---|---|---|---|"
awk -F'|' '
    function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
    # the kind of table a header row starts, and which columns are figures
    function header(l) {
        if (l ~ /^\| link \| size \| system \| framing \| msgs\/s/) return "throughput"
        if (l ~ /^\| size × rate \| receivers \| system \| p50/) return "latency"
        if (l ~ /^\| subscribers \| system \| loss \| p50/) return "loss"
        if (l ~ /^\| test \| system \| msgs\/s/) return "loss-tput"
        if (l ~ /^\| round trip/) return "order"
        return ""
    }
    FNR == 1 { file++; kind = "" }
    /^\|/ {
        h = header($0); if (h != "") { kind = h; next }
        if ($0 ~ /^\|---/ || kind == "") next
        if (kind == "throughput") { key = trim($2) " " trim($3) " B, " trim($4) (trim($5) == "-" ? "" : " " trim($5)); add(kind, key, "msgs/s", trim($6), "rate") }
        if (kind == "latency") { key = trim($2) ", " trim($3) ", " trim($4); add(kind, key, "p50 µs", trim($5), "p50"); add(kind, key, "p99 µs", trim($6), "p99") }
        if (kind == "loss") { key = trim($2) " sub., " trim($3) ", loss " trim($4); add(kind, key, "p50 µs", trim($5), "p50"); add(kind, key, "p99 µs", trim($6), "p99") }
        if (kind == "loss-tput") { key = trim($2) ", " trim($3)
            if (trim($4) != "-") add(kind, key, "msgs/s", trim($4), "rate"); else add(kind, key, "final message after µs", trim($9), "p99") }
        if (kind == "order") { key = trim($2); add(kind, key, "p50 µs", trim($3), "p50"); add(kind, key, "p99 µs", trim($4), "p99") }
        next
    }
    !/^\|/ { kind = "" }
    function add(k, key, fig, v, how,   id) {
        id = k SUBSEP key SUBSEP fig
        if (file == 1) { old[id] = v; return }
        if (!(id in old) || (id in done)) return
        done[id] = 1
        o = old[id] + 0; n = v + 0
        if (o <= 0 || n <= 0 || v !~ /^[0-9.]+$/ || old[id] !~ /^[0-9.]+$/) {
            printf("| %s | %s | %s | %s | %s | - | not comparable |\n", k, key, fig, old[id], v); return }
        r = n / o
        lo = how == "rate" ? 0.7 : how == "p50" ? 0.8 : 0.5
        hi = how == "rate" ? 1.43 : how == "p50" ? 1.25 : 2
        better = how == "rate" ? r > 1 : r < 1
        verdict = r >= lo && r <= hi ? "within noise" : better ? "**better**" : "**worse**"
        printf("| %s | %s | %s | %s | %s | %.2f | %s |\n", k, key, fig, old[id], v, r, verdict)
    }' "$prev" "${new[@]}"
