#!/usr/bin/env bash
# Every tool that a test, `make demo` or `make bench` runs must come from a
# package scripts/deps.sh installs -- or from one every Debian 12 system has
# (Essential, Priority: required), or one those packages depend on. A tool a
# fresh machine lacks makes a test fail or skip there (tcpdump did: "165
# passed, 2 failed, 1 skipped" on a fresh machine, fine on a used one).
#
# The commands are found statically: each shell script is normalised by
# `bash --pretty-print`, split into simple commands (pipes, lists, command
# substitutions), and the first word of each is taken -- looking through
# wrappers such as `ip netns exec NS`, `timeout`, `taskset`, `xargs`. Words
# that are variables ("$B/seqcast-pub": our own binaries), shell builtins,
# keywords and the scripts' own functions are not tools. Make recipes and the
# commands C tests run through system()/popen() are read the same way.
# Each tool's file is mapped to its package with dpkg; a tool that is not
# installed here must be declared in `scripts/deps.sh --tools` (a bench tool
# on a machine that never ran make bench), else it fails.
set -u
cd "$(dirname "$0")/.."
echo "TAP version 13"

if ! command -v dpkg-query >/dev/null; then
    echo "1..1"
    echo "ok 1 - tool check # SKIP not a Debian system (no dpkg-query)"
    exit 0
fi

SCRIPTS=(scripts/*.sh tests/*.sh tests/integration/*.sh tests/interop/*.sh tests/support/*.sh
         bench/*.sh .ci/run)
CSRC=(tests/unit/*.c tests/sim/*.c tests/integration/*.c)

# ---------------------------------------------------------------- allowed packages
# the listed ones, plus everything they depend on (recursively, alternatives
# and virtual packages included), plus Essential and Priority: required
allowed=$(
    { scripts/deps.sh --list test bench | sed 's/^/L /'
      dpkg-query -W -f='P ${Package}\t${Essential}\t${Priority}\t${Provides}\t${Depends}, ${Pre-Depends}\n' 2>/dev/null
    } | awk -F'\t' '
    function clean(s) { gsub(/\([^)]*\)/, "", s); gsub(/:[a-z0-9]+/, "", s); gsub(/[ \t]/, "", s); return s }
    /^L / { want[substr($0, 3)] = 1; next }
    {
        pkg = substr($1, 3)
        if ($2 == "yes" || $3 == "required") want[pkg] = 1
        deps[pkg] = $5
        n = split($4, pv, ",")
        for (i = 1; i <= n; i++) { v = clean(pv[i]); if (v != "") prov[v] = prov[v] " " pkg }
    }
    END {
        do {
            grew = 0
            for (p in want) {
                if (done[p]) continue
                done[p] = 1
                n = split(deps[p], d, /[,|]/)
                for (i = 1; i <= n; i++) {
                    q = clean(d[i]); if (q == "") continue
                    if (!want[q]) { want[q] = 1; grew = 1 }
                    m = split(prov[q], pp, " ")
                    for (k = 1; k <= m; k++) if (!want[pp[k]]) { want[pp[k]] = 1; grew = 1 }
                }
            }
        } while (grew)
        for (p in want) print p
    }' | sort -u)
declared=$(scripts/deps.sh --tools)

# ---------------------------------------------------------------- commands used
# stdin: shell text (pretty-printed); stdout: one command word per line.
# A small lexer: quoted text is data (a single-quoted awk program is not
# shell), but a $(...) inside double quotes is code again; heredoc bodies,
# comments, ${...} and $((...)) are data; case patterns and function heads
# are not commands.
commands_of() {
    awk -v builtins="$(compgen -b; compgen -k)" '
    BEGIN {
        n = split(builtins, b, "\n"); for (i = 1; i <= n; i++) skip[b[i]] = 1
        split("{ } ( ) ! [[ ]] Q", x, " "); for (i in x) skip[x[i]] = 1
    }
    # pass 1: lines -> text, minus heredoc bodies, case patterns and function heads
    {
        line = $0
        if (hd != "") { t = line; gsub(/^[ \t]+|[ \t]+$/, "", t); if (t == hd) hd = ""; next }
        if (match(line, /<<-?[ \t]*["\047]?[A-Za-z_]+["\047]?/)) {
            hd = substr(line, RSTART, RLENGTH); gsub(/^<<-?[ \t]*["\047]?|["\047]$/, "", hd)
            line = substr(line, 1, RSTART - 1)
        }
        if (line ~ /^[ \t]*[A-Za-z_][A-Za-z0-9_-]* \(\) *$/) { f = line; gsub(/[ \t()]/, "", f); fn[f] = 1; next }
        if (line ~ /^[ \t]*[^ \t()]+\)[ \t]*$/) next          # a case pattern
        text = text line "\n"
    }
    # a command substitution: the enclosing word and command wait on a stack
    function push() { wsave[d] = word; csave[d] = cur; word = ""; cur = ""; d++; ctx[d] = "c"; par[d] = 0 }
    function pop() { d--; word = wsave[d] "Q"; cur = csave[d] }
    function emit(w) { if (w != "") cur = cur (cur == "" ? "" : " ") w }
    function endseg() { if (cur != "") segs[++nseg] = cur; cur = "" }
    END {
        # pass 2: the lexer. ctx[d]: "c" code, "d" double quotes; word: the word
        # being read in code ("Q" stands for quoted or expanded text in it)
        d = 1; ctx[1] = "c"; word = ""; L = length(text)
        for (i = 1; i <= L; i++) {
            ch = substr(text, i, 1); nx = substr(text, i + 1, 1)
            if (ctx[d] == "d") {
                if (ch == "\\") { i++; continue }
                if (ch == "\"") { d--; continue }
                if (ch == "$" && nx == "(" && substr(text, i + 2, 1) != "(") { push(); i++; continue }
                continue
            }
            # code
            if (ch == "\\") { word = word "Q"; i++; continue }
            if (ch == "\047") { j = index(substr(text, i + 1), "\047"); i += j; word = word "Q"; continue }
            if (ch == "\"") { word = word "Q"; d++; ctx[d] = "d"; continue }
            if (ch == "$" && nx == "(" && substr(text, i + 2, 1) == "(") {     # $((arith))
                depth = 0
                for (i += 1; i <= L; i++) { c2 = substr(text, i, 1); if (c2 == "(") depth++; else if (c2 == ")" && --depth == 0) break }
                word = word "Q"; continue
            }
            if (ch == "$" && nx == "{") {
                depth = 0
                for (i += 1; i <= L; i++) { c2 = substr(text, i, 1); if (c2 == "{") depth++; else if (c2 == "}" && --depth == 0) break }
                word = word "Q"; continue
            }
            if (ch == "$" && nx == "(") { push(); i++; continue }
            if (ch == "$") { word = word "Q"; continue }
            if (ch == "#" && word == "") { while (i <= L && substr(text, i, 1) != "\n") i++; emit(word); word = ""; endseg(); continue }
            if (ch == "(" && word ~ /=$/) {                                 # name=(array)
                depth = 0
                for (; i <= L; i++) { c2 = substr(text, i, 1); if (c2 == "(") depth++; else if (c2 == ")" && --depth == 0) break }
                word = word "Q"; continue
            }
            if (ch == "(") { emit(word); word = ""; endseg(); par[d]++; continue }
            if (ch == ")") {
                emit(word); word = ""; endseg()
                if (par[d] > 0) par[d]--; else if (d > 1) pop()
                continue
            }
            if (ch == "`" || ch == ";" || ch == "|" || ch == "&" || ch == "\n") { emit(word); word = ""; endseg(); continue }
            if (ch == " " || ch == "\t") { emit(word); word = ""; continue }
            if ((ch == "<" || ch == ">") && word ~ /^[0-9]*$/) {                # a redirection and its target
                emit(word); word = ""
                while (substr(text, i + 1, 1) ~ /[<>&]/) i++
                while (substr(text, i + 1, 1) ~ /[ \t]/) i++
                while (i < L && substr(text, i + 1, 1) !~ /[ \t\n;|&)]/) i++
                continue
            }
            word = word ch
        }
        emit(word); endseg()
        for (s = 1; s <= nseg; s++) { if (ENVIRON["CHECK_TOOLS_DEBUG"] != "") print "SEG: " segs[s] > "/dev/stderr"; first(segs[s]) }
    }
    function first(seg,    w, n, i, k, v) {
        n = split(seg, w, " ")
        i = 1
        while (i <= n && (w[i] ~ /^[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=/ || w[i] == "!" || w[i] == "{" || w[i] == "then" || w[i] == "do" || w[i] == "else" || w[i] == "if" || w[i] == "while" || w[i] == "until" || w[i] == "elif" || w[i] == "time"))
            i++
        for (;;) {
            if (i > n) return
            v = w[i]
            if (v == "ip" && w[i + 1] == "netns" && w[i + 2] == "exec") { print "ip"; i += 4; continue }
            if (v == "timeout") { print v; i++; while (w[i] ~ /^-/) { if (w[i] ~ /^-[sk]$/) i++; i++ } i++; continue }
            if (v == "taskset") { print v; i++; if (w[i] ~ /^-/) i++; i++; continue }
            if (v == "nice" || v == "xargs" || v == "stdbuf" || v == "setsid" || v == "nohup" || v == "env" || v == "flock" || v == "chrt" || v == "runuser" || v == "sudo") {
                print v
                k = v; i++
                while (i <= n && (w[i] ~ /^-/ || w[i] ~ /^[A-Za-z_][A-Za-z0-9_]*=/)) { if ((k == "nice" && w[i] == "-n") || (k == "runuser" && w[i] == "-u") || (k == "sudo" && w[i] == "-u") || (k == "env" && (w[i] == "-u" || w[i] == "-C")) || (k == "xargs" && w[i] ~ /^-[IPnLs]$/)) i++; i++ }
                if (k == "flock" || k == "chrt") i++
                continue
            }
            if (v == "exec" || v == "command" || v == "builtin") { if (w[i + 1] ~ /^-/) return; i++; continue }
            break
        }
        if (v == "" || v ~ /Q/ || v ~ /\// || v ~ /^[0-9-]/ || v ~ /[=$(){}]/ || skip[v] || fn[v]) return
        print v
    }'
}

# a shell script, and the function names of the files it sources: ". $ROOT/x",
# ". tests/x" (from the tree's root) or ". "$(dirname "$0")/x" (from its own)
script_commands() {
    local f=$1 src fns
    fns=$(for src in $(grep -oE '^[[:space:]]*\. +("\$\(dirname "\$0"\)/|"?\$ROOT/)?[^" ]+' "$f" |
                       sed -E 's#^[[:space:]]*\. +##; s#^"\$\(dirname "\$0"\)/#'"$(dirname "$f")"'/#;
                              s#^"?\$ROOT/##'); do
              [ -f "$src" ] && grep -oE '^[A-Za-z_][A-Za-z0-9_-]*\(\)' "$src" | tr -d '()'
          done)
    { for x in $fns; do printf '%s () \n' "$x"; done; bash --pretty-print "$f" 2>/dev/null; } | commands_of
}

# recipes of the Makefile (tab-indented lines, make variables blanked)
make_commands() {
    grep -P '^\t' Makefile | sed -E 's/^\t@?//; s/\$\$/$/g; s/\$\((Q|QUIET_[A-Z]+)\)//g; :a; s/\$\([^()]*\)/$X/g; ta; s/\\$//' |
        commands_of
}

# commands that C tests run through system(), popen() or their run() helpers
c_commands() {
    grep -hoE '(system|popen|run)\("([^"\\]|\\.)*' "$@" | sed -E 's/^[a-z]+\("//; s/\\"/"/g; s/%s/X/g' |
        commands_of
}

# ---------------------------------------------------------------- the check
package_of() { # tool -> package, or empty
    local p r
    p=$(type -P "$1") || return 0
    for r in "$p" "$(readlink -f "$p")" "${p#/usr}" "/usr$p"; do
        dpkg-query -S "$r" 2>/dev/null | awk -F': ' 'NR==1 {split($1, a, ", "); print a[1]; exit}' | sed 's/:.*//' && \
            dpkg-query -S "$r" >/dev/null 2>&1 && return 0
    done
}

n=0 failed=0
declare -A pkg_cache
check_source() { # label, commands
    local label=$1 cmds=$2 bad=() t p
    for t in $(printf '%s\n' "$cmds" | sort -u); do
        if [ -z "${pkg_cache[$t]+x}" ]; then
            p=$(package_of "$t")
            if [ -z "$p" ]; then
                p=$(printf '%s\n' "$declared" | awk -v t="$t" '$1 == t {print $2}')
                [ -n "$p" ] || p="-"
            fi
            pkg_cache[$t]=$p
        fi
        p=${pkg_cache[$t]}
        if [ "$p" = "-" ]; then
            bad+=("$t (not installed here, not declared in scripts/deps.sh --tools)")
        elif ! printf '%s\n' "$allowed" | grep -qxF "$p"; then
            bad+=("$t (package $p is not in scripts/deps.sh)")
        fi
    done
    n=$((n + 1))
    if [ ${#bad[@]} -eq 0 ]; then
        echo "ok $n - $label: every tool it runs comes from a listed package ($(printf '%s\n' "$cmds" | sort -u | wc -l) tools)"
    else
        echo "not ok $n - $label runs tools no listed package provides: ${bad[*]}"
        failed=1
    fi
}

total=$(( ${#SCRIPTS[@]} + 2 ))
echo "1..$total"
for s in "${SCRIPTS[@]}"; do
    check_source "$s" "$(script_commands "$s")"
done
check_source "Makefile recipes" "$(make_commands)"
check_source "commands C tests run (${#CSRC[@]} files)" "$(c_commands "${CSRC[@]}")"
exit $failed
