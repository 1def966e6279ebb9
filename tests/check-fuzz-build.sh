#!/usr/bin/env bash
# `make fuzz` builds on this machine: every libFuzzer target compiles and links
# with clang (with DPDK installed too -- the fuzz build once compiled the DPDK
# transport without DPDK's flags), and each runs over its committed corpus.
# The fuzzing itself is `make fuzz`; the corpora are also replayed, without
# clang, by the fuzz-replay-* suites.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
echo "TAP version 13"
mapfile -t names < <(ls tests/fuzz/fuzz_*.c | sed -E 's|.*/fuzz_(.*)\.c|\1|')
echo "1..$(( ${#names[@]} + 1 ))"
if ! command -v "${CLANG:-clang}" >/dev/null; then
    for i in $(seq 1 $(( ${#names[@]} + 1 ))); do echo "ok $i - fuzz build # SKIP clang not installed (make deps installs it)"; done
    exit 0
fi
log=$BUILD/test-results/fuzz-build.log
mkdir -p "$(dirname "$log")"
if ${MAKE:-make} --no-print-directory BUILD="$BUILD" fuzz-build >"$log" 2>&1; then
    echo "ok 1 - make fuzz-build: ${#names[@]} targets compile and link with clang (DPDK=$(pkg-config --exists libdpdk && echo installed || echo absent))"
else
    echo "not ok 1 - make fuzz-build failed"; tail -15 "$log" | sed 's/^/  # /'
fi
n=1
for f in "${names[@]}"; do
    n=$((n + 1))
    if "$BUILD/fuzz/fuzz_$f" -runs=0 "tests/fuzz/corpus/$f" >"$log.$f" 2>&1; then
        echo "ok $n - fuzz_$f runs over its corpus ($(ls "tests/fuzz/corpus/$f" | wc -l) inputs)"
    else
        echo "not ok $n - fuzz_$f failed on its corpus"; tail -10 "$log.$f" | sed 's/^/  # /'
    fi
done
