#!/usr/bin/env bash
# make mutate: mutation-test the unit, simulation and fuzz-replay suites.
#
#   scripts/mutate.sh [-j N] [-t SECONDS] [-f FILE] [-a] [-n] [ID...]
#
#   -a          run every suite on each mutant (default: stop at the first
#               suite that catches it; suites run fastest first)
#   -n          only check that each mutant still applies (STALE otherwise)
#   -j N        mutants built and tested at once, each in its own copy (default 1)
#   -t SECONDS  timeout of each test binary (default 120)
#   -f FILE     the mutant list (default tests/mutants/mutants.txt; format there)
#   ID...       only these mutants
#
# Each mutant is one exact text replacement in one source file: a bug the
# tests should catch. The tree is copied to $BUILD/mutate/w<k>/ (never
# touched itself), built there with the same make, compiler and flags as a
# normal build (CC, OPT, SAN... pass through), and the baseline run once; then
# for each mutant: apply it, rebuild, run the tests/unit and tests/sim
# binaries and every fuzz-replay-* (not tests/integration: real sockets and
# tools), each under the timeout, record the tests that fail (but passed on the
# baseline), restore the file. A mutant is CAUGHT when a test fails; a mutant
# whose original text is no longer in its file (or not exactly once) is STALE,
# one that does not compile is NOBUILD: neither counts as caught.
# Prints a table and "N of M caught" (the table in Markdown too:
# $BUILD/mutate/table.md); logs in $BUILD/mutate/logs/<id>/.
# Exit status: 0 when every mutant not marked equivalent is caught, else 1.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
JOBS=1 TMO=120 LIST=tests/mutants/mutants.txt CHECK=false RUN_ALL=false
while getopts "j:t:f:anh" o; do
    case $o in
    j) JOBS=$OPTARG ;;
    t) TMO=$OPTARG ;;
    f) LIST=$OPTARG ;;
    n) CHECK=true ;;
    a) RUN_ALL=true ;;
    *) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
case $JOBS$TMO in *[!0-9]*) echo "mutate: -j and -t take numbers" >&2; exit 2 ;; esac
[ "$JOBS" -ge 1 ] || JOBS=1
case $LIST in /*) ;; *) LIST=$ROOT/$LIST ;; esac
case $BUILD in /*) OUT=$BUILD/mutate ;; *) OUT=$ROOT/$BUILD/mutate ;; esac
mkdir -p "$OUT"

# ---------------------------------------------------------------- the list
# perl (Essential in Debian): "list FILE" prints id, file, equivalent?, desc
# (tab-separated) and checks the format; "apply FILE ID TREE" replaces the
# mutant's text in TREE/file, prints the line, exits 3 when the text is not
# there (STALE), 4 when it is there more than once.
read -r -d '' MUTPL <<'PERL'
use strict; use warnings;
my ($cmd, $list, $want, $tree) = @ARGV;
open(my $fh, '<', $list) or die "mutate: $list: $!\n";
my (@m, %seen, $cur, $part);
while (my $l = <$fh>) {
    chomp $l;
    if (defined $part) {
        if ($l eq '===' && $part eq 'old') { $part = 'new'; $cur->{new} = []; next }
        if ($l eq '>>>' && $part eq 'new') { undef $part; next }
        push @{$cur->{$part}}, $l; next;
    }
    next if $l =~ /^\s*(#|$)/;
    if ($l =~ /^@@ (\S+)$/) {
        die "mutate: $list:$.: mutant $1 twice\n" if $seen{$1}++;
        $cur = { id => $1, line => $. }; push @m, $cur; next;
    }
    die "mutate: $list:$.: expected '@@ id' first\n" unless $cur;
    if ($l =~ /^(file|desc|equivalent): (.+)$/) { $cur->{$1} = $2; next }
    if ($l eq '<<<') { $part = 'old'; $cur->{old} = []; next }
    die "mutate: $list:$.: cannot read '$l'\n";
}
die "mutate: $list: unterminated text at the end\n" if defined $part;
for my $x (@m) {
    for my $k (qw(file desc old new)) {
        die "mutate: $list:$x->{line}: mutant $x->{id} has no $k\n" unless defined $x->{$k};
    }
}
if ($cmd eq 'list') {
    printf "%s\t%s\t%s\t%s\n", $_->{id}, $_->{file}, defined $_->{equivalent} ? 1 : 0,
        $_->{desc} for @m;
    exit 0;
}
my ($x) = grep { $_->{id} eq $want } @m;
die "mutate: no mutant $want in $list\n" unless $x;
if ($cmd eq 'equivalent') { print $x->{equivalent} // ''; exit 0 }
my $old = join("\n", @{$x->{old}});
my $new = join("\n", @{$x->{new}});
my $path = "$tree/$x->{file}";
open(my $sf, '<', $path) or exit 3;
my $s = do { local $/; <$sf> };
close $sf;
my $n = () = $s =~ /\Q$old\E/g;
exit 3 if $n == 0;
exit 4 if $n > 1;
my $at = index($s, $old);
my $line = 1 + (substr($s, 0, $at) =~ tr/\n//);
substr($s, $at, length $old) = $new;
open(my $wf, '>', $path) or die "mutate: $path: $!\n";
print $wf $s;
close $wf or die "mutate: $path: $!\n";
print "$line\n";
PERL

LISTING=$(perl -e "$MUTPL" list "$LIST") || exit 2
mapfile -t ALL < <(printf '%s\n' "$LISTING" | cut -f1)
if [ $# -gt 0 ]; then
    for id in "$@"; do
        printf '%s\n' "${ALL[@]}" | grep -qxF -- "$id" || { echo "mutate: no mutant $id" >&2; exit 2; }
    done
    IDS=("$@")
else
    IDS=("${ALL[@]}")
fi
[ ${#IDS[@]} -gt 0 ] || { echo "mutate: no mutants in $LIST" >&2; exit 2; }
[ "$JOBS" -le ${#IDS[@]} ] || JOBS=${#IDS[@]}

if $CHECK; then # each on a fresh copy of its file
    bad=0
    for id in "${IDS[@]}"; do
        file=$(printf '%s\n' "$LISTING" | awk -F'\t' -v id="$id" '$1 == id {print $2}')
        rm -rf "$OUT/check"
        mkdir -p "$OUT/check/$(dirname "$file")"
        cp "$file" "$OUT/check/$file" 2>/dev/null
        if line=$(perl -e "$MUTPL" apply "$LIST" "$id" "$OUT/check"); then
            printf '%-34s %s:%s\n' "$id" "$file" "$line"
        else
            printf '%-34s %s STALE\n' "$id" "$file"
            bad=$((bad + 1))
        fi
    done
    rm -rf "$OUT/check"
    echo "$((${#IDS[@]} - bad)) of ${#IDS[@]} apply"
    [ "$bad" -eq 0 ]
    exit
fi

# ---------------------------------------------------------------- the suites
TESTS=()
for f in tests/unit/test_*.c tests/sim/test_*.c; do
    TESTS+=("build/tests/$(basename "$f" .c)")
done
for f in tests/fuzz/fuzz_*.c; do
    f=$(basename "$f" .c)
    TESTS+=("build/tests/fuzz-replay-${f#fuzz_}")
done

# the programs the suites run (test_mold_sub: seqcast-sub --pcap)
mapfile -t PROGS < <(grep -ohE 'bin/seqcast-[a-z]+' tests/unit/*.c tests/sim/*.c | sort -u |
                     sed 's#^#build/#')

# build in tree $1 (log $2, make -j$3)
build() {
    (cd "$1" && make -j"${3:-1}" BUILD=build "${PROGS[@]}" "${TESTS[@]}") >"$2" 2>&1
}

# run suite $1 in tree $2, logs in dir $3; the failures into $3/fails, one a
# line: suite::test from the TAP, else "<binary> (timeout)" / "(exit N)"; its
# time (ms) appended to $3/times
run_one() {
    local t=$1 tree=$2 logs=$3 name rc start
    name=$(basename "$t")
    start=$(date +%s%N)
    case $name in
    test_*) (cd "$tree" && BUILD=build timeout -k 5 "$TMO" "$t" --tap="$logs/$name.tap" \
                 >"$logs/$name.log" 2>&1) ;;
    *) (cd "$tree" && timeout -k 5 "$TMO" "$t" >"$logs/$name.tap" 2>"$logs/$name.log") ;;
    esac
    rc=$?
    echo "$((($(date +%s%N) - start) / 1000000)) $t" >>"$logs/times"
    if grep -q '^not ok' "$logs/$name.tap" 2>/dev/null; then
        sed -nE 's/^not ok [0-9]* *- *([^ ]+).*/\1/p' "$logs/$name.tap" | sed "s/^fuzz$/$name/"
    elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        echo "$name (timeout)"
    elif [ "$rc" -ne 0 ]; then
        echo "$name (exit $rc)"
    fi | grep -vxF -f "$OUT/baseline-failures" -e '' >"$logs/fails" # not what fails unmutated
}

# run the suites in tree $1, logs in dir $2, until one fails (with $3 = all:
# every one); prints the failures. A suite that fails is run again: a failure
# that does not repeat is a flaky test (a crash under load), noted in
# $2/flaky, not a catch.
run_suites() {
    local tree=$1 logs=$2 t failed=false
    mkdir -p "$logs"
    : >"$logs/times"
    for t in "${TESTS[@]}"; do
        $failed && [ "${3:-}" != all ] && break
        run_one "$t" "$tree" "$logs"
        [ -s "$logs/fails" ] || continue
        mv "$logs/fails" "$logs/fails.1"
        run_one "$t" "$tree" "$logs"
        if [ -s "$logs/fails" ]; then
            cat "$logs/fails"
            failed=true
        else
            cat "$logs/fails.1" >>"$logs/flaky"
        fi
    done
    rm -f "$logs/fails" "$logs/fails.1"
}

# ---------------------------------------------------------------- scratch trees
rm -rf "$OUT/w"* "$OUT/logs" "$OUT/results"
mkdir -p "$OUT/w1" "$OUT/logs" "$OUT/results"
for e in "$ROOT"/* "$ROOT"/.[!.]*; do
    b=$(basename "$e")
    if [ -e "$e" ] && [ "$b" != "$BUILD" ] && [ "$b" != build ] && [ "$b" != .git ]; then
        cp -a "$e" "$OUT/w1/"
    fi
done
echo "mutate: building the baseline in $BUILD/mutate/w1 ..."
if ! build "$OUT/w1" "$OUT/logs/baseline-build.log" "$JOBS"; then
    tail -20 "$OUT/logs/baseline-build.log"
    echo "mutate: the unmutated tree does not build" >&2
    exit 2
fi
echo "mutate: running the baseline (${#TESTS[@]} suites) ..."
: >"$OUT/baseline-failures"
run_suites "$OUT/w1" "$OUT/logs/baseline" all >"$OUT/baseline-failures.new"
mv "$OUT/baseline-failures.new" "$OUT/baseline-failures"
# fastest first: most mutants are caught by a unit test in a fraction of a second
mapfile -t TESTS < <(sort -n "$OUT/logs/baseline/times" | cut -d' ' -f2-)
if [ -s "$OUT/baseline-failures" ]; then
    echo "mutate: failing without a mutant (not counted as catching):"
    sed 's/^/    /' "$OUT/baseline-failures"
fi
for k in $(seq 2 "$JOBS"); do
    cp -a "$OUT/w1" "$OUT/w$k"
done

# worker k of JOBS: mutants k, k+JOBS, ... in tree w<k>
worker() {
    local k=$1 tree=$OUT/w$1 i=$(($1 - 1 - JOBS)) id file line rc res logs fails
    while i=$((i + JOBS)); [ "$i" -lt ${#IDS[@]} ]; do
        id=${IDS[$i]}
        file=$(printf '%s\n' "$LISTING" | awk -F'\t' -v id="$id" '$1 == id {print $2}')
        logs=$OUT/logs/$id
        mkdir -p "$logs"
        cp -p "$tree/$file" "$logs/orig" 2>/dev/null
        line=$(perl -e "$MUTPL" apply "$LIST" "$id" "$tree")
        rc=$?
        if [ "$rc" -eq 3 ] || [ "$rc" -eq 4 ]; then
            [ "$rc" -eq 3 ] && res="STALE	text not found" || res="STALE	text found more than once"
            printf '%s\t%s\n' "$file" "$res" >"$OUT/results/$id"
            echo "  $id: ${res%%	*}"
            continue
        elif [ "$rc" -ne 0 ]; then
            printf '%s\tSTALE\tcannot apply\n' "$file" >"$OUT/results/$id"
            continue
        fi
        if ! build "$tree" "$logs/build.log"; then
            res="NOBUILD	does not compile"
        else
            fails=$(run_suites "$tree" "$logs" "$($RUN_ALL && echo all)")
            if [ -n "$fails" ]; then
                res="CAUGHT	$(printf '%s\n' "$fails" | paste -sd' ')"
            else
                res="MISSED	"
            fi
        fi
        # restore (a new mtime: the next build recompiles it)
        cat "$logs/orig" >"$tree/$file"
        touch "$tree/$file"
        printf '%s\t%s\n' "$file:$line" "$res" >"$OUT/results/$id"
        echo "  $id: ${res%%	*}"
    done
}

echo "mutate: ${#IDS[@]} mutants, $JOBS at a time, ${TMO}s per suite$($RUN_ALL || echo ", to the first suite that fails")"
for k in $(seq 1 "$JOBS"); do
    worker "$k" &
done
wait

# ---------------------------------------------------------------- the table
caught=0 equiv=0 equiv_caught=0 stale=0
printf '\n%-34s %-32s %-8s %s\n' "mutant" "file:line" "result" "caught by"
printf '| mutant | file:line | bug | result |\n|---|---|---|---|\n' >"$OUT/table.md"
for id in "${IDS[@]}"; do
    IFS=$'\t' read -r where res by <"$OUT/results/$id"
    eq=$(printf '%s\n' "$LISTING" | awk -F'\t' -v id="$id" '$1 == id {print $3}')
    if [ "$res" = CAUGHT ]; then
        caught=$((caught + 1))
        [ "$eq" = 1 ] && equiv_caught=$((equiv_caught + 1))
        set -- $by
        [ $# -gt 3 ] && by="$1 $2 $3 (+$(($# - 3)))"
    elif [ "$res" = MISSED ]; then
        [ "$eq" = 1 ] && res=EQUIV by="(marked equivalent)"
    else
        stale=$((stale + 1)) # STALE, NOBUILD
    fi
    [ "$eq" = 1 ] && equiv=$((equiv + 1))
    printf '%-34s %-32s %-8s %s\n' "$id" "$where" "$res" "$by"
    desc=$(printf '%s\n' "$LISTING" | awk -F'\t' -v id="$id" '$1 == id {print $4}')
    case $res in
    CAUGHT) md="caught by $(printf '%s\n' "$by" | sed -E 's/([A-Za-z0-9_]+)::/\1\//g; s/ ([a-z])/, \1/g')" ;;
    EQUIV) md="equivalent: $(perl -e "$MUTPL" equivalent "$LIST" "$id")" ;;
    MISSED) md="**not caught**" ;;
    *) md="**$res** ($by)" ;;
    esac
    printf '| %s | %s | %s | %s |\n' "$id" "$where" "$desc" "$md" >>"$OUT/table.md"
done
n=${#IDS[@]}
echo
echo "$caught of $n caught ($stale stale or not compiling, $equiv marked equivalent)"
if [ "$equiv" -gt 0 ]; then
    real=$((n - equiv)) rc=$((caught - equiv_caught))
    echo "$rc of $real non-equivalent mutants caught ($((real ? 100 * rc / real : 100)) %)"
fi
[ "$((caught - equiv_caught))" -eq "$((n - equiv))" ]
