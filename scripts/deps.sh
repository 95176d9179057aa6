#!/usr/bin/env bash
# Install what wirestate needs to build and test, from Debian's packages only.
# Quiet and quick when everything is already there.  Usage: deps.sh [build|test|all]
set -euo pipefail
what=${1:-all}
build_pkgs="make gcc clang llvm libbpf-dev libelf-dev zlib1g-dev pkg-config"
tools_pkgs="bpftool iproute2"
test_pkgs="libcmocka-dev libclang-rt-dev tshark valgrind iperf3"
case "$what" in
build) want="$build_pkgs $tools_pkgs" ;;
test | all) want="$build_pkgs $tools_pkgs $test_pkgs" ;;
*) echo "usage: $0 [build|test|all]" >&2; exit 2 ;;
esac
missing=()
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "wirestate: missing packages: ${missing[*]}; run as root (or: apt-get install ${missing[*]})" >&2
	exit 1
fi
echo "wirestate: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture: answer no, non-interactively
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
