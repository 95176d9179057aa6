#!/usr/bin/env bash
# Record tests/pcaps/real_v4.pcap: one real TCP connection between two network
# namespaces (scripts/topo.sh), captured with tcpdump on the client's eth0.
# The client sends 5 bytes and closes first; the server then closes.
# Run as root from anywhere; needs tcpdump and build/wsconn.  Everything it
# creates is removed at the end.  The golden outputs of this capture are then
# regenerated with: WS_UPDATE_GOLDEN=1 build/tests/test_views
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" -eq 0 ] || { echo "record_real.sh: run as root" >&2; exit 1; }
command -v tcpdump >/dev/null || { echo "record_real.sh: tcpdump is needed" >&2; exit 1; }
[ -x build/wsconn ] || make build/wsconn

P=wsv
out=tests/pcaps/real_v4.pcap
tmp=$(mktemp -d)
td=
cleanup() {
	[ -n "$td" ] && kill -INT "$td" 2>/dev/null && wait "$td" 2>/dev/null
	scripts/topo.sh down "$P"
	rm -rf "$tmp"
}
trap cleanup EXIT

scripts/topo.sh up "$P" 2
ip netns exec "${P}c1" tcpdump -i eth0 --immediate-mode -U -s 0 -w "$tmp/real.pcap" \
	tcp port 6666 2>"$tmp/tcpdump.err" &
td=$!
for _ in $(seq 50); do grep -q listening "$tmp/tcpdump.err" && break; sleep 0.1; done
ip netns exec "${P}c2" build/wsconn serve 172.17.0.3 6666 >/dev/null &
srv=$!
sleep 0.3
ip netns exec "${P}c1" build/wsconn connect 172.17.0.3 6666 --send 5
wait "$srv"
sleep 1
kill -INT "$td"
wait "$td" || true
td=
# classic pcap, microsecond timestamps: what ws_pcap_open reads
cp "$tmp/real.pcap" "$out"
tcpdump -nr "$out" 2>/dev/null
echo "record_real.sh: wrote $out"
