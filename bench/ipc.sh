#!/usr/bin/env bash
# make bench, IPC section: one writer to 1 and to 4 reader processes on this
# host, 32 B and 288 B messages, through a transport: ipc channel (bench/ipc
# seqcast: the public API, a 4 MiB log, ipc.backpressure: block, every message
# numbered and checked) and through a bare single-producer ring doing the same
# copies (bench/ipc bare), in the same run, alternating. BENCH_IPC_MSGS
# messages per run (default 20,000,000; QUICK: 2,000,000), BENCH_IPC_REPS runs
# of each case (default 5; QUICK: 1); the row is the median run.
#
# Placement: the writer is pinned to one CPU and every reader to another
# (BENCH_IPC_PIN=W,R, default 0,1 on two or more CPUs; "none" to let the
# scheduler choose), for both systems. Unpinned, the figure was the scheduler's
# draw: a writer and reader that share a core hand it over at a yield with the
# 4 MiB log full, a batch in which no cache line crosses cores (60-80M msg/s
# at 32 B for both systems); on two cores every line crosses per message
# (15-40M). A run took one or the other, each system its own, so the ratio
# swung from 0.3 to 2 (the runs column showed 11.8M / 12.2M / 59.9M).
#
# Then round trips through two IPC channels beside a Unix-socket ping-pong
# (BENCH_IPC_RTT, default 200,000; QUICK: 100,000), and the feed handler to a
# strategy: bench/peer's feed sender (an ITCH day, 1,000 symbols, 100,000
# msg/s, each message stamped with its send time) over loopback multicast
# (MoldUDP64) to seqcast-feedhandler --publish ipc:md, whose records a
# strategy process (bench/ipc mdlat, asleep in sc_sub_wait between records)
# reads: now - the stamp per record, BENCH_IPC_FHLAT_SECONDS of feed (default
# 2; QUICK: 0.5), BENCH_IPC_FHLAT_REPS runs (default 3; QUICK: 1), the run with
# the median p99.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
out=$ROOT/$BUILD/bench
N=${BENCH_IPC_MSGS:-20000000}
[ "${QUICK:-0}" = 1 ] && N=${BENCH_IPC_MSGS:-2000000}
REPS=${BENCH_IPC_REPS:-5}
[ "${QUICK:-0}" = 1 ] && REPS=${BENCH_IPC_REPS:-1}
PIN=${BENCH_IPC_PIN:-0,1}
[ "$(nproc)" -lt 2 ] && PIN=none
if [ "$PIN" = none ]; then unset BENCH_IPC_PIN; else export BENCH_IPC_PIN=$PIN; fi
tmp=$(mktemp -d /dev/shm/seqcast-bench-ipc-XXXXXX 2>/dev/null || mktemp -d /tmp/seqcast-bench-ipc-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
rc=0
: >"$tmp/results"

for readers in 1 4; do
    for size in 32 288; do
        for rep in $(seq 1 "$REPS"); do
            for sys in seqcast bare; do
                rm -rf "$tmp/log" && mkdir "$tmp/log"
                if [ $sys = seqcast ]; then
                    set -- seqcast "$tmp/log" $readers $size "$N"
                else
                    set -- bare $readers $size "$N"
                fi
                if ! timeout 120 "$ROOT/$BUILD/bench/ipc" "$@" >"$tmp/$sys-$rep.json" 2>"$tmp/$sys.err"; then
                    rc=1
                    echo "ipc: $sys, $readers readers, $size B, run $rep failed: $(head -3 "$tmp/$sys.err") $(cat "$tmp/$sys-$rep.json")" >&2
                    rm -f "$tmp/$sys-$rep.json"
                fi
            done
        done
        s=$(median_run msgs_per_s 0 "$tmp"/seqcast-*.json)
        b=$(median_run msgs_per_s 0 "$tmp"/bare-*.json)
        if [ -n "$s" ] && [ -n "$b" ]; then
            echo "{\"readers\": $readers, \"size\": $size, \"msgs\": $N, \"seqcast\": $(jget "$s" msgs_per_s), \"bare\": $(jget "$b" msgs_per_s), \"seqcast_runs\": \"$(for f in "$tmp"/seqcast-*.json; do jget "$f" msgs_per_s; done | sort -n | awk '{ printf("%s%.1fM", NR > 1 ? " / " : "", $1 / 1e6) }')\", \"bare_runs\": \"$(for f in "$tmp"/bare-*.json; do jget "$f" msgs_per_s; done | sort -n | awk '{ printf("%s%.1fM", NR > 1 ? " / " : "", $1 / 1e6) }')\", \"writer_blocked\": $(jget "$s" writer_blocked)}" >>"$tmp/results"
        fi
        rm -f "$tmp"/seqcast-*.json "$tmp"/bare-*.json
    done
done

# ---- round trips: two IPC channels (both sides spinning) beside a Unix-socket
# ping-pong (bench/pingpong, blocking reads) in the same run
PPN=${BENCH_IPC_RTT:-200000}
[ "${QUICK:-0}" = 1 ] && PPN=${BENCH_IPC_RTT:-100000}
rm -rf "$tmp/log" && mkdir "$tmp/log"
timeout 120 "$ROOT/$BUILD/bench/ipc" pingpong "$tmp/log" "$PPN" >"$tmp/rtt-ipc.json" 2>"$tmp/rtt.err" || {
    rc=1; echo "ipc: pingpong failed: $(head -3 "$tmp/rtt.err")" >&2; }
"$ROOT/$BUILD/bench/pingpong" server "unix:$tmp/pp.sock" 32 &
srv=$!
sleep 0.2
timeout 120 "$ROOT/$BUILD/bench/pingpong" client "unix:$tmp/pp.sock" 32 "$PPN" >"$tmp/rtt-unix.json" 2>>"$tmp/rtt.err" || rc=1
kill $srv 2>/dev/null
wait $srv 2>/dev/null

# ---- the feed handler to a strategy process: p50/p99/p99.9 one-way
FHS=${BENCH_IPC_FHLAT_SECONDS:-2}
FHR=${BENCH_IPC_FHLAT_REPS:-3}
[ "${QUICK:-0}" = 1 ] && { FHS=${BENCH_IPC_FHLAT_SECONDS:-0.5}; FHR=${BENCH_IPC_FHLAT_REPS:-1}; }
FHN=$(awk -v s="$FHS" 'BEGIN { printf "%d", 100000 * s }')
P=$((45000 + $$ % 4000))
for rep in $(seq 1 "$FHR"); do
    P=$((P + 2))
    rm -rf "$tmp/md" && mkdir "$tmp/md"
    timeout 60 "$ROOT/$BUILD/bench/ipc" mdlat "$tmp/md" md 30 >"$tmp/fhlat-$rep.json" 2>"$tmp/fhlat.err" &
    md=$!
    timeout 60 "$ROOT/$BUILD/bin/seqcast-feedhandler" --group 239.192.9.23:$P --set protocol=moldudp64 \
        --quiet --publish ipc:md --set ipc.dir="$tmp/md" >/dev/null 2>"$tmp/fh.err" &
    fh=$!
    # the feed handler's log is there once it runs (its channel joined just before):
    # a sender that started before the join made it miss message 1 and exit 1
    for i in $(seq 100); do [ -e "$tmp/md/seqcast.md.lock" ] && break; sleep 0.05; done
    sleep 0.2
    timeout 60 "$PEER" feed send --group 239.192.9.23:$P --rate 100000 --count "$FHN" --symbols 1000 \
        --set protocol=moldudp64 --set mold.session=IPCLAT --linger 0.2 >/dev/null 2>"$tmp/fhsend.err"
    wait $fh; frc=$?
    wait $md; mrc=$?
    if [ $frc -ne 0 ] || [ $mrc -ne 0 ]; then
        rc=1
        echo "ipc: feed handler to strategy, run $rep: status $frc, $mrc: $(head -2 "$tmp/fh.err" "$tmp/fhlat.err" "$tmp/fhsend.err")" >&2
        rm -f "$tmp/fhlat-$rep.json"
    fi
done
fhl=$(median_run p99_us 0 "$tmp"/fhlat-*.json)

{
echo "One writer process, 1 or 4 reader processes, $N messages a run, the median of $REPS runs; msgs/s from the first send to the last reader's last message (every reader gets every message: back-pressure holds the writer). **seqcast IPC**: \`transport: ipc\` through the public API (\`sc_pub_send\`; readers \`sc_sub_do_work\`), a 4 MiB log in /dev/shm, \`ipc.backpressure: block\`. **bare ring**: a single-producer ring in shared memory doing the same copies (16-byte header and the message in, the message out), no checks, no session, no liveness. Both check each message's number and yield the CPU when they must wait. Placement: $([ "$PIN" = none ] && echo "the scheduler's (not pinned)" || echo "the writer pinned to CPU ${PIN%,*}, every reader to CPU ${PIN#*,} (2 vCPUs: 4 readers share one), both systems alike: every cache line crosses between two cores")."
echo
echo "| readers | size | seqcast IPC msgs/s | runs | bare ring msgs/s | runs | seqcast / bare | writer held (seqcast) |"
echo "|---|---|---|---|---|---|---|---|"
awk "$JAWK"'{ printf("| %s | %s B | %.1fM | %s | %.1fM | %s | %.2f | %s |\n", j("readers"), j("size"), j("seqcast") / 1e6,
    j("seqcast_runs"), j("bare") / 1e6, j("bare_runs"), j("bare") > 0 ? j("seqcast") / j("bare") : 0, j("writer_blocked")) }' "$tmp/results"
echo
awk "$JAWK"'{ printf("* IPC, 1 writer to %s reader%s at %s B: %.2f × the bare ring (%.1fM msg/s) (target ≥ 0.7 ×: %s)\n", j("readers"),
    j("readers") > 1 ? "s" : "", j("size"), j("bare") > 0 ? j("seqcast") / j("bare") : 0, j("seqcast") / 1e6,
    j("bare") > 0 && j("seqcast") / j("bare") >= 0.7 ? "holds" : "does not hold") }' "$tmp/results"
echo
echo "Round trips, 32 B, one message in flight, $PPN of them: **seqcast IPC** through two channels (ping: writer → reader in the other process, pong: back), both sides spinning on \`sc_sub_do_work\`; **Unix socket**: \`bench/pingpong\` over a Unix stream socket, blocking reads (a wake-up per message: the kernel path an IPC channel avoids). Loopback UDP: one-way figures in the latency section (no UDP round trip here)."
echo
echo "| round trip | p50 | p99 | p99.9 | max |"
echo "|---|---|---|---|---|"
[ -s "$tmp/rtt-ipc.json" ] && printf "| seqcast IPC, spinning | %s µs | %s µs | %s µs | %s µs |\n" "$(jget "$tmp/rtt-ipc.json" p50_us)" \
    "$(jget "$tmp/rtt-ipc.json" p99_us)" "$(jget "$tmp/rtt-ipc.json" p999_us)" "$(jget "$tmp/rtt-ipc.json" max_us)"
[ -s "$tmp/rtt-unix.json" ] && printf "| Unix socket, blocking | %s µs | %s µs | %s µs | %s µs |\n" "$(jget "$tmp/rtt-unix.json" p50)" \
    "$(jget "$tmp/rtt-unix.json" p99)" "$(jget "$tmp/rtt-unix.json" p999)" "$(jget "$tmp/rtt-unix.json" max)"
echo
echo "Feed handler to strategy, one-way: bench/peer's feed sender (an ITCH day, 1,000 symbols, 100,000 msg/s, each message stamped with its send time) → loopback multicast (MoldUDP64) → \`seqcast-feedhandler --publish ipc:md\` (books, a <seqcast/mdrec.h> record per BBO change and trade) → a strategy process reading the records, asleep in \`sc_sub_wait\` (a futex) between them; now − the stamp per record; $FHS s of feed a run, the run with the median p99 of $FHR."
echo
echo "| path | records | p50 | p99 | p99.9 | max |"
echo "|---|---|---|---|---|---|"
[ -n "$fhl" ] && printf "| publisher → network → feed handler → IPC → strategy | %s | %s µs | %s µs | %s µs | %s µs |\n" \
    "$(jget "$fhl" records)" "$(jget "$fhl" p50_us)" "$(jget "$fhl" p99_us)" "$(jget "$fhl" p999_us)" "$(jget "$fhl" max_us)"
} | tee "$out/ipc-table.md"
{ echo "["; { cat "$tmp/results"; [ -n "$fhl" ] && cat "$fhl"; } | paste -sd, ; echo "]"; } >"$out/ipc.json"
exit $rc
