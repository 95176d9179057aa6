#!/usr/bin/env bash
# Run wirestate's tests and print one closing line: "N passed, N failed".
#   tests/run.sh all      every test (the README's `make test` runs this)
#   tests/run.sh unit     native tests only (no root, no kernel)
#   tests/run.sh kernel   tests that load BPF or build namespaces (root); also run in the VM
#   tests/run.sh sanitize the unit tests built with ASan/UBSan (build/san, `make san-build`)
#   tests/run.sh valgrind the unit tests under valgrind
# Each test program is a cmocka binary in build/tests; its own summary is printed too.
# `all` also runs the sanitize and valgrind passes (building build/san first); a
# sanitizer report or a valgrind error fails the program it comes from.
set -u
cd "$(dirname "$0")/.."
mode=${1:-all}
# tests that need root and a BPF-capable kernel; every other build/tests/test_* is a unit test
kernel_tests=" test_bpf test_e2e test_cli test_sockets test_fuzzdiff test_hostile test_views test_follow test_faults "
case "$mode" in unit | kernel | all | sanitize | valgrind) ;;
*) echo "usage: tests/run.sh [all|unit|kernel|sanitize|valgrind]" >&2; exit 2 ;; esac
# entries are KIND:TEST, KIND plain (build/tests), san (build/san/tests) or vg (valgrind)
list= units=
for bin in build/tests/test_*; do
	[ -x "$bin" ] || continue
	t=${bin##*/}
	case "$kernel_tests" in *" $t "*) kind=kernel ;; *) kind=unit units="$units $t" ;; esac
	[ "$mode" = all ] || [ "$mode" = "$kind" ] || continue
	list="$list plain:$t"
done
pass=0 fail=0
if [ "$mode" = all ] || [ "$mode" = sanitize ]; then
	if [ "$mode" = all ] && ! make --no-print-directory san-build; then
		echo "run.sh: make san-build failed" >&2
		fail=$((fail + 1))
	fi
	for t in $units; do list="$list san:$t"; done
fi
if [ "$mode" = all ] || [ "$mode" = valgrind ]; then
	if command -v valgrind >/dev/null; then
		for t in $units; do list="$list vg:$t"; done
	else
		echo "run.sh: valgrind is not installed (scripts/deps.sh installs it)" >&2
		fail=$((fail + 1))
	fi
fi
for e in $list; do
	kind=${e%%:*} t=${e#*:}
	case $kind in
	plain) echo "=== $t"
		out=$("build/tests/$t" 2>&1) ;;
	san) echo "=== $t (ASan+UBSan)"
		out=$(ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 "build/san/tests/$t" 2>&1) ;;
	vg) echo "=== $t (valgrind)"
		out=$(valgrind -q --leak-check=full --errors-for-leak-kinds=definite \
			--error-exitcode=99 "build/tests/$t" 2>&1) ;;
	esac
	rc=$?
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	# a sanitizer's or valgrind's report, whatever the exit status says
	report=$(printf '%s\n' "$out" | grep -E -m1 'ERROR: (Address|Leak)Sanitizer|runtime error: ')
	[ "$kind" = vg ] && [ $rc -eq 99 ] && report="valgrind reported errors (see above)"
	pass=$((pass + ${p:-0}))
	if [ -n "$f" ]; then
		fail=$((fail + f))
	elif [ -n "$report" ]; then
		echo "$t ($kind): $report" >&2
		fail=$((fail + 1))
	elif [ $rc -ne 0 ]; then
		echo "$t ($kind): exited with status $rc without a cmocka summary" >&2
		fail=$((fail + 1))
	fi
done
echo "tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
