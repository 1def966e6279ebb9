#!/usr/bin/env bash
# Run every test suite, each speaking TAP (Criterion binaries via --tap, scripts
# and fuzz-corpus replayers on stdout), and end with one line summing them all:
#   N passed, N failed, N skipped
# A suite that exits non-zero without reporting a failure (a crash, a timeout)
# counts as one failure. Skips are listed with their reasons: never silent.
set -u
BUILD=${BUILD:-build}
SUITE_TIMEOUT=${SUITE_TIMEOUT:-900}
export LSAN_OPTIONS="suppressions=$(cd "$(dirname "$0")" && pwd)/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
out=$BUILD/test-results
mkdir -p "$out"
P=0 F=0 S=0
failed_suites=()

for t in "$@"; do
    name=$(basename "$t")
    tap=$out/$name.tap log=$out/$name.log
    start=$(date +%s)
    case $name in
    test_*) timeout -k 10 "$SUITE_TIMEOUT" "$t" --tap="$tap" >"$log" 2>&1 ;;
    *)      timeout -k 10 "$SUITE_TIMEOUT" "$t" >"$tap" 2>"$log" ;;
    esac
    rc=$?
    p=$(grep -E '^ok ' "$tap" 2>/dev/null | grep -vc '# SKIP')
    s=$(grep -E '^ok .*# SKIP' "$tap" 2>/dev/null | wc -l)
    f=$(grep -Ec '^not ok' "$tap" 2>/dev/null)
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
        echo "not ok - $name exited with status $rc without reporting a failure" >>"$tap"
    fi
    P=$((P + p)) F=$((F + f)) S=$((S + s))
    printf '%-28s %4d passed %4d failed %4d skipped  (%ds)\n' "$name" "$p" "$f" "$s" \
        $(($(date +%s) - start))
    grep -E '^ok .*# SKIP' "$tap" 2>/dev/null | sed 's/^ok - /    SKIPPED: /'
    if [ "$f" -ne 0 ]; then
        failed_suites+=("$name")
        grep -E -A12 '^not ok' "$tap" | sed 's/^/    /' | head -60
        tail -20 "$log" | sed 's/^/    log: /'
    fi
done

[ ${#failed_suites[@]} -ne 0 ] && echo "failing suites: ${failed_suites[*]} (TAP and logs in $out/)"
echo "$P passed, $F failed, $S skipped"
[ "$F" -eq 0 ]
