#!/usr/bin/env bash
# Run wirestate's tests and print one closing line: "N passed, N failed".
#   tests/run.sh all      every test (the README's `make test` runs this)
#   tests/run.sh unit     native tests only (no root, no kernel)
#   tests/run.sh kernel   tests that load BPF or build namespaces (root); also run in the VM
# Each test program is a cmocka binary in build/tests; its own summary is printed too.
set -u
cd "$(dirname "$0")/.."
mode=${1:-all}
# tests that need root and a BPF-capable kernel; every other build/tests/test_* is a unit test
kernel_tests=" test_bpf test_e2e test_cli test_sockets test_fuzzdiff test_hostile test_views test_follow "
case "$mode" in unit | kernel | all) ;; *) echo "usage: tests/run.sh [all|unit|kernel]" >&2; exit 2 ;; esac
list=
for bin in build/tests/test_*; do
	[ -x "$bin" ] || continue
	t=${bin##*/}
	case "$kernel_tests" in *" $t "*) kind=kernel ;; *) kind=unit ;; esac
	[ "$mode" = all ] || [ "$mode" = "$kind" ] || continue
	list="$list $t"
done
pass=0 fail=0
for t in $list; do
	bin=build/tests/$t
	echo "=== $t"
	out=$("$bin" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	pass=$((pass + ${p:-0}))
	if [ -n "$f" ]; then
		fail=$((fail + f))
	elif [ $rc -ne 0 ]; then
		echo "$t: exited with status $rc without a cmocka summary" >&2
		fail=$((fail + 1))
	fi
done
echo "tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
