#!/usr/bin/env bash
# Plots the latency percentile curves the latency and recovery sections left in
# $BUILD/bench/curves/ (bench/hist.h's "percentile value_us 1/(1-p)" rows) into
# one PNG with gnuplot: x is the percentile on a scale of nines, y microseconds.
#   bench/plot.sh OUT.png
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
c=$ROOT/$BUILD/bench/curves
png=${1:-$ROOT/docs/bench-latency.png}
command -v gnuplot >/dev/null || { echo "plot: gnuplot not installed (apt-get install gnuplot-nox)" >&2; exit 1; }
ls "$c"/*.dat >/dev/null 2>&1 || { echo "plot: no curves in $c (run the latency section)" >&2; exit 1; }

# one panel: TITLE FILE-PATTERN (with %s for the system)
panel() {
    local title=$1 pat=$2 plots=() sys f
    for sys in udp seqcast openpgm zmq; do
        f=$c/$(printf "$pat" "$sys")
        [ -s "$f" ] || continue
        plots+=("'$f' using 3:2 with linespoints title '$( [ $sys = udp ] && echo raw-UDP floor || echo $sys)'")
    done
    [ ${#plots[@]} -gt 0 ] || plots=("1/0 notitle")
    echo "set title '$title'"
    echo "plot $(IFS=,; echo "${plots[*]}")"
}

{
cat <<EOF
set terminal pngcairo size 1400,1500 font ',10'
set output '$png'
set multiplot layout 3,2 title 'One-way latency percentiles (make bench, $(date -u '+%F'), $(nproc) vCPUs)'
set logscale xy
set xrange [1:1e6]
set xtics ('50%%' 2, '90%%' 10, '99%%' 100, '99.9%%' 1000, '99.99%%' 10000, '99.999%%' 100000, 'max' 1e6)
set ylabel 'µs'
set grid
set key top left
EOF
panel '24 B × 50,000/s, blocking receivers, loopback' '%s-24-blocking.dat'
panel '24 B × 50,000/s, busy-polling receivers, loopback' '%s-24-busy-poll.dat'
panel '32 B × 100,000/s, blocking receivers, loopback' '%s-32-blocking.dat'
panel '32 B × 100,000/s, busy-polling receivers, loopback' '%s-32-busy-poll.dat'
panel '24 B × 10,000/s, 1 % loss (floor: none), 1 subscriber, veth' 'loss-%s-1.dat'
panel '24 B × 10,000/s, 1 % loss (floor: none), 8 subscribers, veth' 'loss-%s-8.dat'
echo "unset multiplot"
} | gnuplot && echo "plot: wrote $png"
