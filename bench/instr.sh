#!/usr/bin/env bash
# make bench, instructions per message (issue 22): valgrind's callgrind counts
# the instructions a program runs, which, unlike time, does not move with the
# machine or its neighbours. Batched 32 B, both ends:
#   publish  seqcast-pub --size 32 into DPDK's net_null (no-rx=1: a port that
#            takes every frame and receives none), no link cost at all;
#   receive  seqcast-sub --verify reading a capture of the same stream
#            (--pcap: no socket either; the stream sent on loopback and
#            recorded with --record).
# Each is run for two message counts and the difference is divided by the
# difference of counts, so start-up (EAL, the window's memory) cancels out.
# Shown per message: the whole program, and the engine alone (the library
# calls, inclusive: sc_pub_send + sc_pub_do_work; sc_sub_do_work less the
# application's on_msg callback and the capture reader). Writes
# build/bench/instr.json and a table for docs/BENCHMARKS.md.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/$BUILD/bin
out=$ROOT/$BUILD/bench
mkdir -p "$out"
tmp=$(mktemp -d /tmp/seqcast-instr-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
if [ "${QUICK:-0}" = 1 ]; then N1=10000 N2=60000; else N1=200000 N2=1200000; fi
G=(--group 239.198.18.13:34201)

# the inclusive instructions of each function named, and the total, of a
# callgrind output: "total N" then "name N" lines
costs() {
    callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null | awk '
        /PROGRAM TOTALS/ { gsub(",", "", $1); print "total", $1; next }
        /^ *[0-9,]+ \( *[0-9.]+%\) / {
            n = $1; gsub(",", "", n)
            f = $0; sub(/^ *[0-9,]+ \( *[0-9.]+%\) +/, "", f)
            if (f ~ /^=>/) next
            sub(/ \[.*/, "", f); sub(/.*:/, "", f)
            if (!(f in seen)) { seen[f] = 1; print f, n }
        }'
}
per_msg() { # FILE1 FILE2 FUNC... -> instructions per message of the sum of FUNCs (or "total")
    local a=$1 b=$2; shift 2
    awk -v n1="$N1" -v n2="$N2" -v want="$*" '
        BEGIN { k = split(want, w, " "); for (i = 1; i <= k; i++) { sign[w[i]] = 1
                if (substr(w[i], 1, 1) == "-") { sign[substr(w[i], 2)] = -1; delete sign[w[i]] } } }
        FNR == 1 { f++ }
        ($1 in sign) { v[f] += sign[$1] * $2 }
        END { printf "%.0f", (v[2] - v[1]) / (n2 - n1) }' "$a" "$b"
}
command -v valgrind >/dev/null || { echo "bench/instr.sh: valgrind missing" >&2; exit 1; }

# --- publish
pub_total=SKIPPED pub_engine=SKIPPED
if grep -q 'DPDK=1' "$ROOT/$BUILD/.flags" 2>/dev/null; then
    for n in $N1 $N2; do
        valgrind --tool=callgrind --callgrind-out-file="$tmp/pub.$n" "$B/seqcast-pub" "${G[@]}" \
            --set transport=dpdk --set dpdk.no_huge=true --set dpdk.device=net_null0,no-rx=1 \
            --interface 198.18.6.1 --count "$n" --size 32 --linger 0 >"$tmp/pub.$n.json" 2>"$tmp/pub.$n.err" ||
            { echo "bench/instr.sh: seqcast-pub under callgrind failed:" >&2; tail -3 "$tmp/pub.$n.err" >&2; exit 1; }
        costs "$tmp/pub.$n" >"$tmp/pub.$n.costs"
    done
    pub_total=$(per_msg "$tmp/pub.$N1.costs" "$tmp/pub.$N2.costs" total)
    pub_engine=$(per_msg "$tmp/pub.$N1.costs" "$tmp/pub.$N2.costs" sc_pub_send sc_pub_do_work)
fi

# --- receive: a capture of each count (the capture reader reads ahead, so one
# capture cut short by --count would deliver more than asked), then the
# subscriber reading it to its end
for n in $N1 $N2; do
    "$B/seqcast-pub" "${G[@]}" --interface 127.0.0.1 --count "$n" --size 32 --linger 0 \
        --record "$tmp/$n.pcap" >/dev/null 2>"$tmp/rec.err" ||
        { echo "bench/instr.sh: recording the stream failed:" >&2; tail -3 "$tmp/rec.err" >&2; exit 1; }
    valgrind --tool=callgrind --callgrind-out-file="$tmp/sub.$n" "$B/seqcast-sub" "${G[@]}" \
        --pcap "$tmp/$n.pcap" --count "$n" --verify --quiet >"$tmp/sub.$n.json" 2>"$tmp/sub.$n.err"
    grep -q "\"received\": $n," "$tmp/sub.$n.json" && grep -q '"verify_errors": 0,' "$tmp/sub.$n.json" ||
        { echo "bench/instr.sh: seqcast-sub did not verify $n messages:" >&2; tail -3 "$tmp/sub.$n.err" >&2; exit 1; }
    costs "$tmp/sub.$n" >"$tmp/sub.$n.costs"
done
sub_total=$(per_msg "$tmp/sub.$N1.costs" "$tmp/sub.$N2.costs" total)
sub_engine=$(per_msg "$tmp/sub.$N1.costs" "$tmp/sub.$N2.costs" sc_sub_do_work -on_msg -cap_rx)

{
    echo "| batched 32 B | whole program, instructions / message | the engine alone | what else the program does |"
    echo "|---|---|---|---|"
    echo "| publish (\`seqcast-pub\` into net_null) | $pub_total | $pub_engine | the message generator, the feed loop |"
    echo "| receive (\`seqcast-sub --verify\` from a capture) | $sub_total | $sub_engine | checking every byte (\`on_msg\`), reading the capture |"
} >"$out/instr-table.md"
q() { case $1 in *[!0-9]*) echo "null" ;; *) echo "$1" ;; esac; }
cat >"$out/instr.json" <<EOF
[
{"system": "seqcast", "test": "instructions", "side": "publish", "size": 32, "per_msg": $(q "$pub_total"), "engine_per_msg": $(q "$pub_engine")},
{"system": "seqcast", "test": "instructions", "side": "receive", "size": 32, "per_msg": $(q "$sub_total"), "engine_per_msg": $(q "$sub_engine")}
]
EOF
cat "$out/instr-table.md"
