#!/usr/bin/env bash
# Reserve 2 MB hugepages and mount hugetlbfs for DPDK (make hugepages [HUGEPAGES=N]).
# Without hugepages, DPDK still runs with dpdk.no_huge: true (EAL --no-huge): slower
# memory, no other difference for seqcast. This script says which case you are in.
set -u
want=${1:-512}
sys=/sys/kernel/mm/hugepages/hugepages-2048kB
if [ ! -d "$sys" ]; then
    echo "hugepages: this kernel offers no 2 MB hugepages ($sys is missing)." >&2
    echo "hugepages: run DPDK channels with 'dpdk: { no_huge: true }' (or --set dpdk.no_huge=true)." >&2
    exit 1
fi
have=$(cat "$sys/nr_hugepages")
if [ "$(id -u)" -ne 0 ]; then
    echo "hugepages: $have reserved; reserving needs root: sudo $0 $want" >&2
    [ "$have" -ge "$want" ] && exit 0 || exit 1
fi
if [ "$have" -lt "$want" ]; then
    echo "$want" >"$sys/nr_hugepages"
    have=$(cat "$sys/nr_hugepages")
fi
if ! mount | grep -q 'type hugetlbfs'; then
    mkdir -p /dev/hugepages
    mount -t hugetlbfs nodev /dev/hugepages || {
        echo "hugepages: cannot mount hugetlbfs on /dev/hugepages" >&2; exit 1; }
fi
free=$(cat "$sys/free_hugepages")
echo "hugepages: $have reserved ($free free), hugetlbfs mounted on $(mount | awk '/type hugetlbfs/ {print $3; exit}')"
if [ "$have" -lt "$want" ]; then
    echo "hugepages: wanted $want, the kernel gave $have (memory fragmented?); DPDK may still" >&2
    echo "hugepages: fit, or use dpdk.no_huge: true" >&2
    exit 1
fi
