#!/usr/bin/env bash
# make deps: install the Debian packages seqcast builds, tests and benchmarks with.
#
#   scripts/deps.sh [GROUP...]         install what is missing (groups: test, the
#                                      default; bench)
#   scripts/deps.sh --list [GROUP...]  print the packages, one per line
#   scripts/deps.sh --tools            print "tool package" for tools whose package
#                                      may not be installed here (tests/check-tools.sh)
#
# A quick no-op when everything is present; installs with apt-get as root;
# without root, prints the exact command and fails. Every tool that a test,
# `make demo` or `make bench` runs comes from one of these packages, or from a
# package every Debian 12 system has (Essential or Priority: required):
# tests/check-tools.sh checks that.
set -euo pipefail

# build + tests (DESIGN.md s.1): the compiler, the libraries, OpenPGM for the
# interop tests, tshark/tcpdump for the capture checks, iproute2/nftables for
# the network-namespace tests; libclang-rt-dev holds libFuzzer and the
# sanitizer runtimes, which clang only recommends (make fuzz links them);
# prometheus scrapes seqcast-stat --prometheus and tmux is the real terminal of
# its live view (tests/integration/stat.sh); python3 drives rewind.sh's hostile
# SoupBinTCP clients (malformed byte sequences, a crowd of sockets)
TEST_PKGS=(build-essential pkg-config clang libclang-rt-dev libdpdk-dev libpcap-dev libyaml-dev libcriterion-dev
           libpgm-dev tshark tcpdump iproute2 nftables prometheus tmux python3)
# make bench adds ZeroMQ (its epgm column), gnuplot (the plot) and valgrind (callgrind:
# bench/instr.sh's instructions per message)
BENCH_PKGS=(libzmq3-dev gnuplot-nox valgrind)
# tools of packages above that a machine may lack until that group is installed
TOOLS=("gnuplot gnuplot-nox" "valgrind valgrind" "callgrind_annotate valgrind" "python3 python3")

list=false
case ${1:-} in
--list) list=true; shift ;;
--tools) printf '%s\n' "${TOOLS[@]}"; exit 0 ;;
esac
PKGS=()
[ $# -eq 0 ] && set -- test
for g in "$@"; do
    case $g in
    test) PKGS+=("${TEST_PKGS[@]}") ;;
    bench) PKGS+=("${TEST_PKGS[@]}" "${BENCH_PKGS[@]}") ;;
    *) echo "deps: unknown group '$g' (test, bench)" >&2; exit 2 ;;
    esac
done
if $list; then
    printf '%s\n' "${PKGS[@]}" | sort -u
    exit 0
fi

missing=()
for p in "${PKGS[@]}"; do
    if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing Debian packages: ${missing[*]}" >&2
    echo "deps: run as root:  apt-get update && $cmd" >&2
    exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; the answer does not matter here
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
if ! apt-get install -y -q --no-install-recommends "${missing[@]}"; then
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
