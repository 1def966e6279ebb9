#!/usr/bin/env bash
# The floors of the house (docs/ARCHITECTURE.md), checked on the sources. Arrows
# run one way:
#
#   apps (every program's main) -> feedhandler, replay -> config -> engine -> proto
#
#   proto/       its own headers (include/seqcast/proto/) and libc, nothing else
#   engine/      never <yaml.h>, <pcap.h>, nor config/, replay/, feedhandler/, apps/
#   config/      never replay/, feedhandler/, apps/ (nor <pcap.h>)
#   replay/      the pcap library: public headers, its own, engine/compiler.h;
#                never feedhandler/, apps/, nor engine/config internals
#   feedhandler/ the feed-handler library: never replay/ or apps/
#   every program's main is in apps/ (main_<name>.c): no library floor defines main
#   programs     (apps/*.c: every program's main) build as a library user's
#                would: public headers <seqcast/...> and their own apps/
#                helpers, nothing else of ours
#   public headers include only libc and <seqcast/...>
#   libseqcast exports only sc_* symbols (never clashes with OpenPGM's pgm_*)
set -u
cd "$(dirname "$0")/.."
. tests/support/tap.sh "layers" 10

# lines of FILES that include one of our headers not matching ALLOWED (a regex
# on the path between the quotes or brackets)
ours_except() { # ALLOWED FILES...
    local allowed=$1
    shift
    grep -HnE '#include +("|<seqcast/)' "$@" 2>/dev/null |
        grep -vE "#include +[\"<]($allowed)[\">]"
}
layer_check() { # DESCRIPTION OFFENDING-LINES
    check "$1" "$([ -z "$2" ]; echo $?)"
    [ -z "$2" ] || printf '%s\n' "$2" | sed 's/^/  # /'
}

layer_check "proto/ (and its public headers, include/seqcast/proto/) includes only its own headers and libc" \
    "$(for f in proto/*.c include/seqcast/proto/*.h; do
           grep -HnE '#include +"' "$f" | while IFS= read -r l; do
               h=$(sed -E 's/.*#include +"([^"]+)".*/\1/' <<<"$l")
               [ -f "include/seqcast/proto/$h" ] || echo "$l"
           done
       done
       grep -HnE '#include +<(yaml|pcap|rte_|criterion|seqcast)' proto/*.c include/seqcast/proto/*.h)"
layer_check "engine/ never includes yaml, pcap, or the floors above it" \
    "$(grep -rHnE '#include +[<"](yaml\.h|pcap|config/|feedhandler/|replay/|apps/)' engine/)"
layer_check "config/ never includes pcap, replay, feedhandler or apps" \
    "$(grep -rHnE '#include +[<"](pcap|replay/|feedhandler/|apps/)' config/)"
layer_check "replay/ (the pcap library) includes public headers, its own and engine/compiler.h only" \
    "$(ours_except 'seqcast/[a-z_/]+\.h|replay/[a-z_]+\.h|engine/compiler\.h' replay/*.c)"
layer_check "feedhandler/'s library never includes replay or apps" \
    "$(grep -HnE '#include +"(replay|apps)/' feedhandler/*.c 2>/dev/null)"
layer_check "programs (apps/) include only public headers and apps/ helpers" \
    "$(ours_except 'seqcast/[a-z_/]+\.h|apps/[a-z_]+\.h' apps/*.[ch])"
layer_check "every program's main is in apps/ (no library floor defines main)" \
    "$(grep -HnE '^(int )?main\(' proto/*.c engine/*.c engine/transport/*.c engine/archive/*.c config/*.c replay/*.c \
           feedhandler/*.c 2>/dev/null)"
layer_check "examples/ include only public headers" \
    "$(ours_except 'seqcast/[a-z_/]+\.h' examples/*.c)"
layer_check "public headers include only libc and seqcast/ headers" \
    "$(grep -HnE '#include +"' include/seqcast/*.h)"
if [ -f "$BUILD/libseqcast.a" ]; then
    layer_check "libseqcast exports only sc_* symbols" \
        "$(nm -g --defined-only "$BUILD/libseqcast.a" | awk 'NF==3 {print $3}' |
           grep -vE '^(sc_|__odr_asan|__asan|__ubsan)')"
else
    layer_check "libseqcast exports only sc_* symbols" "$BUILD/libseqcast.a not built"
fi
exit 0
