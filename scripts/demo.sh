#!/usr/bin/env bash
# make demo: seqcast's codecs at work, decoded by Wireshark's own dissectors.
# (Publisher -> subscriber recovery on loopback replaces this once the
# multicast core lands.)
set -euo pipefail
BUILD=${BUILD:-build}
out=$(mktemp -d /tmp/seqcast-demo-XXXXXX)
trap 'rm -rf "$out"' EXIT

echo "== seqcast-pcapgen: one packet of every type, built by seqcast's encoders"
"$BUILD/bin/seqcast-pcapgen" --out "$out" --corrupt
echo
echo "== PGM (RFC 3208) over UDP, as tshark dissects it"
tshark -r "$out/pgm.pcap" -d udp.port==3055-3056,pgm 2>/dev/null
echo
echo "== a NAK carrying OPT_NAK_LIST, in full"
tshark -r "$out/pgm.pcap" -d udp.port==3055-3056,pgm -Y frame.number==8 -O pgm 2>/dev/null |
    sed -n '/^Pragmatic/,$p'
echo
echo "== SoupBinTCP 4.0 order session"
tshark -r "$out/soupbintcp.pcap" -d tcp.port==15000,soupbintcp -Y soupbintcp 2>/dev/null
echo
echo "== MoldUDP64 blocks"
tshark -r "$out/moldudp64.pcap" -d udp.port==30001,moldudp64 2>/dev/null
echo
echo "== warnings or malformed frames in the good captures (want 0):"
for f in pgm soupbintcp moldudp64; do
    n=$(tshark -r "$out/$f.pcap" -d udp.port==3055-3056,pgm -d tcp.port==15000,soupbintcp \
        -d udp.port==30001,moldudp64 -Y '_ws.expert.severity >= "Warning" or _ws.malformed' 2>/dev/null | wc -l)
    echo "   $f.pcap: $n"
done
echo "== and the deliberately corrupted ones, which must be flagged:"
tshark -r "$out/pgm_bad.pcap" -d udp.port==3055-3056,pgm -Y pgm -q -z expert,error 2>/dev/null | grep -E 'Bad|Errors'
tshark -r "$out/soupbintcp_bad.pcap" -d tcp.port==15000,soupbintcp -Y soupbintcp -q -z expert,error 2>/dev/null | grep -E 'Malformed|Errors'
echo
echo "== a deployment file checked: seqcast-config --config examples/netns.yaml"
"$BUILD/bin/seqcast-config" --config examples/netns.yaml
