#!/usr/bin/env bash
# Docker-like test topology: "containers" are network namespaces, each with an
# eth0 whose host-side veth peer sits on one bridge (no address on the host).
#
#   topo.sh up PREFIX N     containers PREFIXc1..N: eth0 172.17.0.(i+1)/16,
#                           fd17::(i+1)/64, MAC 02:42:ac:11:00:0(i+1);
#                           host-side veths PREFIXh1..N on bridge PREFIXbr
#   topo.sh down PREFIX     remove every namespace and link named PREFIX*
#
# Used by `make demo` and the namespace tests; PREFIX keeps parallel users apart.
set -euo pipefail

up() {
	local p=$1 n=$2 i ns host ip
	[ ${#p} -le 10 ] || { echo "topo.sh: prefix '$p' too long" >&2; exit 2; }
	ip link add "${p}br" type bridge
	ip link set "${p}br" up
	for i in $(seq 1 "$n"); do
		ns="${p}c$i" host="${p}h$i" ip=$((i + 1))
		ip netns add "$ns"
		ip link add "$host" type veth peer name eth0 netns "$ns"
		sysctl -qw "net.ipv6.conf.$host.disable_ipv6=1" 2>/dev/null || true
		ip link set "$host" master "${p}br" up
		ip -n "$ns" link set lo up
		ip -n "$ns" link set eth0 address "02:42:ac:11:00:0$ip"
		ip -n "$ns" addr add "172.17.0.$ip/16" dev eth0
		ip -n "$ns" addr add "fd17::$ip/64" dev eth0 nodad
		ip -n "$ns" link set eth0 up
	done
}

down() {
	local p=$1 ns l
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		case "$ns" in "$p"*) ip netns del "$ns" 2>/dev/null || true ;; esac
	done
	for l in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
		case "$l" in "$p"*) ip link del "$l" 2>/dev/null || true ;; esac
	done
}

case "${1:-}" in
up) [ $# -eq 3 ] || { echo "usage: topo.sh up PREFIX N" >&2; exit 2; }; down "$2"; up "$2" "$3" ;;
down) [ $# -eq 2 ] || { echo "usage: topo.sh down PREFIX" >&2; exit 2; }; down "$2" ;;
*) echo "usage: topo.sh up PREFIX N | down PREFIX" >&2; exit 2 ;;
esac
