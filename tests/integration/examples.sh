#!/usr/bin/env bash
# Every program in examples/ builds from the public headers alone and runs to success.
set -u
cd "$(dirname "$0")/../.."
ex=(examples/*.c)
. tests/support/tap.sh "examples" ${#ex[@]}
for src in "${ex[@]}"; do
    bin=$BUILD/examples/$(basename "$src" .c)
    out=$(timeout 30 "$bin" 2>&1); r=$?
    check "$src: $(echo "$out" | tail -1)" $r
    [ $r -eq 0 ] || echo "$out" | sed 's/^/  # /'
done
