# Namespaces joined by a bridge, for tests/integration scripts (source it after
# tap.sh, with T set to a prefix unique to the run). Needs root, iproute2.
#
#   ns NAME CMD...      run CMD in namespace $T$NAME
#   bridge_ns           namespace ${T}sw holding bridge br0 (no multicast snooping)
#   host NAME ADDR      namespace $T$NAME with eth0 = ADDR/24, plugged into br0

ns() { ip netns exec "$T$1" "${@:2}"; }

bridge_ns() {
    ip netns add "${T}sw"
    ns sw ip link add br0 type bridge mcast_snooping 0
    ns sw ip link set br0 up
    ns sw ip link set lo up
}

host() { # name address
    ip netns add "$T$1"
    ip link add "${T}$1a" type veth peer name "${T}$1b"
    ip link set "${T}$1a" netns "$T$1"
    ip link set "${T}$1b" netns "${T}sw"
    ns "$1" ip link set "${T}$1a" name eth0
    ns "$1" ip addr add "$2/24" dev eth0
    ns "$1" ip link set eth0 up
    ns "$1" ip link set lo up
    ns sw ip link set "${T}$1b" master br0
    ns sw ip link set "${T}$1b" up
}
