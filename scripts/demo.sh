#!/usr/bin/env bash
# The demo (README: `scripts/demo.sh`, or `make demo`): two "containers" (network namespaces) on a bridge, like Docker's
# default network, one TCP connection between them, and wirestate watching the
# host-side veth of the first.  Everything it creates is removed at the end,
# also on Ctrl-C or failure.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (it creates namespaces and attaches BPF programs)" >&2; exit 1; }

# a fresh machine may lack even make and a compiler: install, then build
scripts/deps.sh build
make --no-print-directory build/wirestate build/wsconn

P=wsdemo
ws_pid=
cleanup() {
	[ -n "$ws_pid" ] && kill -INT "$ws_pid" 2>/dev/null && wait "$ws_pid" 2>/dev/null
	scripts/topo.sh down "$P"
	[ -n "${errf:-}" ] && rm -f "$errf"
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

scripts/topo.sh up "$P" 2
cat <<TXT
demo: container 1 = netns ${P}c1, eth0 172.17.0.2 (02:42:ac:11:00:02)
      container 2 = netns ${P}c2, eth0 172.17.0.3 (02:42:ac:11:00:03)
      both on bridge ${P}br; wirestate watches ${P}h1, the host side of container 1's veth
      (in = from container 1, out = towards it).  TIME_WAIT is shortened to 2 s.

TXT

# its stderr also goes to a file: the "watching" line says it is attached
# (XDP or, on a veth of a kernel with tcx, TC ingress: not always in `ip link`)
errf=$(mktemp /tmp/wsdemo.XXXXXX)
build/wirestate -i "${P}h1" --time-wait 2 2> >(tee "$errf" >&2) &
ws_pid=$!
for _ in $(seq 100); do
	grep -q watching "$errf" && break
	kill -0 "$ws_pid" 2>/dev/null || break
	sleep 0.1
done
grep -q watching "$errf" || { echo "demo: wirestate did not attach" >&2; exit 1; }

ip netns exec "${P}c2" build/wsconn serve 172.17.0.3 6666 >/dev/null &
srv=$!
sleep 0.3
# connect, send "hello", close: the client closes first, so it is the one in TIME_WAIT
ip netns exec "${P}c1" build/wsconn connect 172.17.0.3 6666 --send 5
wait "$srv"
sleep 2.5   # let the 2MSL timer (shortened) expire: TIME_WAIT -> CLOSED
kill -INT "$ws_pid"
wait "$ws_pid" || true
ws_pid=
echo
echo "demo: done; namespaces, veths and the bridge are being removed"
