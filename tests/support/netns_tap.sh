# Shared start of the two-namespace TAP tests (tests/integration/outage.sh,
# ablines.sh): source it with ROOT and tmp set, then
#   netns_tap_begin NAME CHECKS PREFIX SUBNET
# prints the TAP plan, and without root, nftables or namespaces reports every
# check skipped and exits; else brings up ${NS}a (SUBNET.1) and ${NS}b
# (SUBNET.2) joined by a veth (scripts/netns.sh: NSA/NSB run commands there),
# torn down (with any background job and $tmp) on exit.
#   json_field FILE KEY   the last numeric/word value of "KEY" in FILE

netns_tap_begin() {
    TAP_NAME=$1 CHECKS=$2
    echo "TAP version 13"
    echo "1..$CHECKS"
    [ "$(id -u)" -eq 0 ] || tap_skip_all "needs root (network namespaces, nftables)"
    command -v nft >/dev/null || tap_skip_all "needs nftables"
    . "$ROOT/scripts/netns.sh"
    trap 'jobs -p | xargs -r kill -9 2>/dev/null; netns_down; rm -rf "$tmp"' EXIT
    netns_up "$3" "$4" || tap_skip_all "cannot create network namespaces here"
}

tap_skip_all() {
    for i in $(seq 1 "$CHECKS"); do echo "ok $i - $TAP_NAME # SKIP $1"; done
    rm -rf "$tmp"
    exit 0
}

json_field() { grep -o "\"$2\": [0-9a-z]*" "$1" | tail -1 | awk '{print $2}'; }
