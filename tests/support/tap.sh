# The start every TAP test script shares. Source it first:
#
#   . "$(dirname "$0")/../support/tap.sh" NAME PLAN
#
# It sets BUILD, ROOT (the tree), B (the binaries), tmp (a temporary
# directory), prints the TAP header and the plan, and at exit kills every
# background job, runs what on_exit added, and removes $tmp. It gives:
#
#   check DESCRIPTION STATUS   "ok N - DESCRIPTION" if STATUS is 0, else "not ok"
#   skip DESCRIPTION REASON    "ok N - DESCRIPTION # SKIP REASON"
#   skip_all REASON            every check not reported yet skipped, then exit 0
#   need_root WHAT             skip_all "needs root (WHAT)" unless root
#   need_cmd WHY CMD...        skip_all "needs WHY" unless every CMD is installed
#   on_exit COMMAND...         run COMMAND at exit as well (before $tmp goes)
#   field FILE KEY             the last value of "KEY": in FILE (a JSON summary)
#   field_first FILE KEY       the first one
#   netns_pair PREFIX SUBNET   two namespaces ${PREFIX}a (SUBNET.1) and
#                              ${PREFIX}b (SUBNET.2) joined by a veth; NSA and NSB
#                              run commands in them; torn down at exit; without
#                              root, nftables or namespaces: skip_all
TAP_NAME=$1
TAP_PLAN=$2
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=$ROOT/$BUILD/bin
tmp=$(mktemp -d "/tmp/seqcast-$(basename "$0" .sh)-XXXXXX")
n=0
tap_exit_hooks=()

tap_exit() {
    jobs -p | xargs -r kill -9 2>/dev/null
    wait 2>/dev/null
    for h in "${tap_exit_hooks[@]}"; do eval "$h"; done
    rm -rf "$tmp"
}
trap tap_exit EXIT

on_exit() { tap_exit_hooks+=("$*"); }

echo "TAP version 13"
echo "1..$TAP_PLAN"

check() {
    n=$((n + 1))
    if [ "$2" -eq 0 ]; then echo "ok $n - $1"; else echo "not ok $n - $1"; fi
}

skip() {
    n=$((n + 1))
    echo "ok $n - $1 # SKIP $2"
}

skip_all() {
    while [ "$n" -lt "$TAP_PLAN" ]; do skip "$TAP_NAME" "$1"; done
    exit 0
}

need_root() { [ "$(id -u)" -eq 0 ] || skip_all "needs root ($1)"; }

need_cmd() {
    local why=$1 c
    shift
    for c in "$@"; do command -v "$c" >/dev/null || skip_all "needs $why"; done
}

field() { grep -o "\"$2\": [0-9a-z.]*" "$1" | tail -1 | awk '{print $2}'; }
field_first() { grep -o "\"$2\": [0-9a-z.]*" "$1" | head -1 | awk '{print $2}'; }

netns_pair() {
    need_root "network namespaces, nftables"
    command -v nft >/dev/null || skip_all "needs nftables"
    . "$ROOT/scripts/netns.sh"
    on_exit netns_down
    netns_up "$1" "$2" || skip_all "cannot create network namespaces here"
}
