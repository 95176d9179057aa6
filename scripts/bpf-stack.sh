#!/usr/bin/env bash
# bpf-stack.sh OBJECT...: fail when a chain of BPF-to-BPF calls in OBJECT
# needs more than 512 bytes of stack the way older verifiers count it.
#
# Older kernels (Debian 12's 6.1 among them) round every frame of a call
# chain up to 32 bytes (at least 32, even for a frame of 0) and refuse the
# program when the sum passes 512: "combined stack size of N calls is M.
# Too large".  Newer ones count closer to the bytes used, so a program that
# loads on this machine's 6.18 can still fail on 6.1; this finds it at build
# time instead of in `make vmtest`.
#
# Each function's frame is the deepest "r10 - N" it touches; its callees are
# the relocations of its pseudo calls (R_BPF_64_32) and of the functions it
# takes the address of (bpf_loop callbacks, R_BPF_64_64), counted as calls
# to stay on the safe side.
set -euo pipefail
OBJDUMP=${LLVM_OBJDUMP:-llvm-objdump}
command -v "$OBJDUMP" >/dev/null || { echo "bpf-stack.sh: $OBJDUMP not found (package llvm)" >&2; exit 1; }
rc=0
for obj in "$@"; do
	"$OBJDUMP" -dr "$obj" | awk -v obj="$obj" '
	function frame(n) { n = stack[n] < 1 ? 1 : stack[n]; return int((n + 31) / 32) * 32 }
	function depth(f,   best, c, d, i) {
		if (f in memo) return memo[f]
		if (f in busy) return 0              # recursion: the verifier refuses it anyway
		busy[f] = 1
		best = 0
		for (i = 1; i <= ncall[f]; i++) {
			c = callee[f, i]
			if (!(c in stack)) continue      # a section symbol, not a function
			d = depth(c)
			if (d > best) { best = d; via[f] = c }
		}
		delete busy[f]
		memo[f] = frame(f) + best
		return memo[f]
	}
	/^[0-9a-f]+ <[A-Za-z_][A-Za-z0-9_]*>:$/ {
		name = $2; gsub(/[<>:]/, "", name)
		if (name ~ /^LBB[0-9_]+$/) next     # a branch target inside the function
		fn = name; stack[fn] = 0; ncall[fn] = 0; next
	}
	fn != "" && match($0, /r10 - [0-9]+/) {
		v = substr($0, RSTART + 6, RLENGTH - 6) + 0
		if (v > stack[fn]) stack[fn] = v
	}
	fn != "" && /R_BPF_64_(32|64)[ \t]/ { callee[fn, ++ncall[fn]] = $NF }
	END {
		worst = 0
		for (f in stack) if (depth(f) > worst) { worst = depth(f); top = f }
		chain = top; f = top
		while (f in via) { f = via[f]; chain = chain " -> " f }
		if (worst > 512) {
			printf "%s: the call chain %s needs %d bytes of stack as 6.1 counts it (frames rounded up to 32); they refuse more than 512\n", obj, chain, worst > "/dev/stderr"
			exit 1
		}
		printf "  STACK    %s: deepest chain %d of 512 bytes (%s)\n", obj, worst, chain
	}' || rc=1
done
exit $rc
