#!/usr/bin/env bash
# Every program in examples/ builds from the public headers alone and runs to success.
set -u
BUILD=${BUILD:-build}
cd "$(dirname "$0")/../.."
ex=(examples/*.c)
echo "TAP version 13"
echo "1..${#ex[@]}"
n=0
for src in "${ex[@]}"; do
    n=$((n + 1))
    bin=$BUILD/examples/$(basename "$src" .c)
    if out=$(timeout 30 "$bin" 2>&1); then
        echo "ok $n - $src: $(echo "$out" | tail -1)"
    else
        echo "not ok $n - $src failed"
        echo "$out" | sed 's/^/  # /'
    fi
done
