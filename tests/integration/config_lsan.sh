#!/usr/bin/env bash
# seqcast-config frees everything on every exit: built with AddressSanitizer
# (its own build directory, $BUILD-asan), each error exit and each normal one
# must end with the expected status and without a LeakSanitizer report.
set -u
. "$(dirname "$0")/../support/tap.sh" "seqcast-config under LeakSanitizer" 12
ABUILD=$BUILD-asan
CONFIG=$ROOT/$ABUILD/bin/seqcast-config
# status, arguments...
CASES=(
    "2 --bogus-option"
    "2 stray-argument"
    "1 --config $tmp/missing.yaml"
    "1 --config $tmp/syntax.yaml"
    "1 --config $tmp/range.yaml"
    "1 --set no.such.key=1"
    "1 --set dpdk.burst=129"
    "1 --config $tmp/ok.yaml --set rtx.budget=0"
    "0 --config $tmp/ok.yaml --print"
    "0 --reference"
    "0 --counters"
    "0 --help"
)
# the sanitizer runtime, and a leak it must see (LeakSanitizer cannot run under
# ptrace, e.g. inside strace or gdb)
printf '#include <stdlib.h>\nvoid *p;\nint main(void){p = malloc(7); p = 0; return 0;}\n' >"$tmp/leak.c"
${CC:-cc} -fsanitize=address -g -o "$tmp/leak" "$tmp/leak.c" 2>"$tmp/cc.log" ||
    skip_all "no AddressSanitizer runtime here ($(head -1 "$tmp/cc.log"))"
ASAN_OPTIONS=detect_leaks=1 "$tmp/leak" 2>"$tmp/leak.log"
grep -q LeakSanitizer "$tmp/leak.log" || skip_all "LeakSanitizer does not report leaks here (ptrace?)"
env -u MAKEFLAGS -u MFLAGS make -C "$ROOT" -j2 BUILD="$ABUILD" SAN=address "$ABUILD/bin/seqcast-config" \
    >"$tmp/make.log" 2>&1 || skip_all "the ASan build failed: $(grep -m1 -i error "$tmp/make.log")"

cat >"$tmp/ok.yaml" <<'EOF'
channels:
  - name: feed
    group: 239.192.7.1
EOF
printf 'channels:\n  - name: feed\n    group: [239.192.7.1\n' >"$tmp/syntax.yaml"
printf 'channels:\n  - name: feed\n    mtu: 99\n' >"$tmp/range.yaml"

for c in "${CASES[@]}"; do
    want=${c%% *} args=${c#* }
    # shellcheck disable=SC2086
    ASAN_OPTIONS=detect_leaks=1:exitcode=99 "$CONFIG" $args >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ "$rc" -eq "$want" ] && ! grep -q Sanitizer "$tmp/err"; r=$?
    check "seqcast-config $args: status $rc (want $want)$([ $r -eq 0 ] && echo ', nothing leaked')" $r
    [ $r -eq 0 ] || grep -E 'Sanitizer|SUMMARY|#[0-9]+ ' "$tmp/err" | head -12 | sed 's/^/  # /'
done
[ "$n" -eq "$TAP_PLAN" ] || echo "not ok $((n + 1)) - internal: $n cases for a plan of $TAP_PLAN"
