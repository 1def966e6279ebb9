#!/usr/bin/env bash
# make deps: install the Debian packages seqcast builds and tests with.
# A quick no-op when everything is present; installs with apt-get as root;
# without root, prints the exact command and fails.
set -euo pipefail

# build + tests (DESIGN.md s.1); benchmarks add their own in `make bench`
PKGS=(build-essential pkg-config clang libdpdk-dev libpcap-dev libyaml-dev libcriterion-dev
      libpgm-dev tshark iproute2 nftables)
PKGS+=("$@")

missing=()
for p in "${PKGS[@]}"; do
    if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing Debian packages: ${missing[*]}" >&2
    echo "deps: run as root:  apt-get update && $cmd" >&2
    exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; the answer does not matter here
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
if ! apt-get install -y -q --no-install-recommends "${missing[@]}"; then
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
