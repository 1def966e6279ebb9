#!/usr/bin/env bash
# Layering rules of DESIGN.md s.2, checked on the sources (TAP output):
#   proto/  includes nothing of ours but its own siblings, and only libc;
#   engine/ never includes <yaml.h> or <pcap.h>, nor config/ feedhandler/ replay/ apps/;
#   config/ never includes feedhandler/ replay/ apps/;
#   every exported symbol of libseqcast starts with sc_ (never clashes with pgm_*).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
n=0 fail=0
check() { # description, offending lines
    n=$((n + 1))
    if [ -z "$2" ]; then echo "ok $n - $1"; else
        echo "not ok $n - $1"; printf '%s\n' "$2" | sed 's/^/  # /'; fail=1; fi
}
echo "TAP version 13"
echo "1..5"
check "proto/ (and its public headers, include/seqcast/proto/) includes only its own headers and libc" \
    "$(for f in proto/*.c include/seqcast/proto/*.h; do
           grep -HnE '#include +"' "$f" | while IFS= read -r l; do
               h=$(sed -E 's/.*#include +"([^"]+)".*/\1/' <<<"$l")
               [ -f "include/seqcast/proto/$h" ] || echo "$l"
           done
       done
       grep -HnE '#include +<(yaml|pcap|rte_|criterion|seqcast)' proto/*.c include/seqcast/proto/*.h)"
check "engine/ never includes yaml, pcap, or the layers above it" \
    "$(grep -rHnE '#include +[<"](yaml\.h|pcap|config/|feedhandler/|replay/|apps/)' engine/ 2>/dev/null)"
check "config/ never includes feedhandler, replay or apps" \
    "$(grep -rHnE '#include +"(feedhandler|replay|apps)/' config/)"
check "public headers include only libc and seqcast/ headers" \
    "$(grep -HnE '#include +"' include/seqcast/*.h)"

if [ -f "$BUILD/libseqcast.a" ]; then
    check "libseqcast exports only sc_* symbols" \
        "$(nm -g --defined-only "$BUILD/libseqcast.a" | awk 'NF==3 {print $3}' |
          grep -vE '^(sc_|__odr_asan|__asan|__ubsan)')"
else
    check "libseqcast exports only sc_* symbols" "$BUILD/libseqcast.a not built"
fi
exit $fail
