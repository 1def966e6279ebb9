#!/usr/bin/env bash
# `make fuzz` builds on this machine: every libFuzzer target compiles and links
# with clang (with DPDK installed too -- the fuzz build once compiled the DPDK
# transport without DPDK's flags), and each runs over its committed corpus.
# The fuzzing itself is `make fuzz`; the corpora are also replayed, without
# clang, by the fuzz-replay-* suites.
set -u
cd "$(dirname "$0")/.."
mapfile -t names < <(ls tests/fuzz/fuzz_*.c | sed -E 's|.*/fuzz_(.*)\.c|\1|')
. tests/support/tap.sh "fuzz build" $(( ${#names[@]} + 1 ))
need_cmd "clang (make deps installs it)" "${CLANG:-clang}"
log=$tmp/fuzz-build.log
${MAKE:-make} --no-print-directory BUILD="$BUILD" fuzz-build >"$log" 2>&1; r=$?
check "make fuzz-build: ${#names[@]} targets compile and link with clang (DPDK=$(pkg-config --exists libdpdk && echo installed || echo absent))" $r
[ $r -eq 0 ] || tail -15 "$log" | sed 's/^/  # /'
for f in "${names[@]}"; do
    "$BUILD/fuzz/fuzz_$f" -runs=0 "tests/fuzz/corpus/$f" >"$log.$f" 2>&1; r=$?
    check "fuzz_$f runs over its corpus ($(ls "tests/fuzz/corpus/$f" | wc -l) inputs)" $r
    [ $r -eq 0 ] || tail -10 "$log.$f" | sed 's/^/  # /'
done
