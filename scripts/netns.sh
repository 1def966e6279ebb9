# Sourced by tests and benchmarks: two network namespaces joined by a veth
# pair, for multicast that must not leave the machine.
#
#   netns_up PREFIX SUBNET   namespaces ${PREFIX}a (SUBNET.1) and ${PREFIX}b
#                            (SUBNET.2), e.g. netns_up scb123 198.18.2; each has
#                            eth0 (the veth end) and lo up. Sets NSA and NSB to
#                            "ip netns exec ${PREFIX}a" / "...b". Returns 1 if
#                            namespaces cannot be created (not root, no support).
#   netns_down               removes both, and their hosts files
#
# OpenPGM (and ZeroMQ's epgm, which is OpenPGM) take their own address from
# the host name, so each namespace gets a hosts file mapping the host name to
# that namespace's address (ip netns exec mounts /etc/netns/NAME/hosts over
# /etc/hosts).

netns_up() {
    NS=$1
    NET=$2
    ip netns add "${NS}a" 2>/dev/null || return 1
    ip netns add "${NS}b"
    ip link add "${NS}x" type veth peer name "${NS}y"
    ip link set "${NS}x" netns "${NS}a"
    ip link set "${NS}y" netns "${NS}b"
    ip -n "${NS}a" link set "${NS}x" name eth0
    ip -n "${NS}b" link set "${NS}y" name eth0
    ip -n "${NS}a" addr add "$NET.1/24" dev eth0
    ip -n "${NS}b" addr add "$NET.2/24" dev eth0
    local n
    for n in a b; do
        ip -n "$NS$n" link set eth0 up
        ip -n "$NS$n" link set lo up
    done
    mkdir -p "/etc/netns/${NS}a" "/etc/netns/${NS}b"
    printf '%s %s\n127.0.0.1 localhost\n' "$NET.1" "$(hostname)" >"/etc/netns/${NS}a/hosts"
    printf '%s %s\n127.0.0.1 localhost\n' "$NET.2" "$(hostname)" >"/etc/netns/${NS}b/hosts"
    NSA="ip netns exec ${NS}a"
    NSB="ip netns exec ${NS}b"
}

netns_down() {
    [ -n "${NS:-}" ] || return 0
    ip netns del "${NS}a" 2>/dev/null
    ip netns del "${NS}b" 2>/dev/null
    rm -rf "/etc/netns/${NS}a" "/etc/netns/${NS}b"
}
