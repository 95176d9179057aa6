#!/usr/bin/env bash
# wirestate benchmarks (`make bench`, root): prints one table.  See bench/README.md.
#
#   1. XDP (and TC ingress) cost per frame with BPF_PROG_TEST_RUN, next to the empty program
#   2. bulk TCP throughput (iperf3) over a veth pair between two namespaces,
#      with no observer, wirestate, tcpdump, tcpstates
#   3. connection storm (bench/connstorm.c) with and without wirestate
#   4. flow-table pressure: 1e6 distinct SYNs into the 65536-entry LRU
#
# Knobs (environment): BENCH_REPEAT (1000000) BENCH_RUNS (5) BENCH_FLOWS (1000000)
# BENCH_IPERF_SECS (4, after 1 s omitted) BENCH_ROUNDS (3) BENCH_STORM_SECS (10)
# BENCH_STORM_CONNS (8) BENCH_STORM_RINGBUF (16M) BENCH_ONLY ("1 2 3 4": which sections).
# Traffic stays inside two namespaces this script creates; everything it
# created (namespaces, processes, attached programs, files) goes away on exit,
# also on failure or Ctrl-C.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

REPEAT=${BENCH_REPEAT:-1000000}
RUNS=${BENCH_RUNS:-5}
NFLOWS=${BENCH_FLOWS:-1000000}
IPERF_SECS=${BENCH_IPERF_SECS:-4}
ROUNDS=${BENCH_ROUNDS:-3}
STORM_SECS=${BENCH_STORM_SECS:-10}
STORM_CONNS=${BENCH_STORM_CONNS:-8}
STORM_RINGBUF=${BENCH_STORM_RINGBUF:-16M}
ONLY=${BENCH_ONLY:-1 2 3 4}

WS=build/wirestate
XC=build/bench/xdp_cost
CS=build/bench/connstorm
LOG=build/bench/last-run.log

die() { echo "bench: $*" >&2; exit 1; }
say() { echo "bench: $*" >&2; echo "$(date +%T) $*" >>"$LOG"; }
want() { case " $ONLY " in *" $1 "*) return 0 ;; esac; return 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (BPF_PROG_TEST_RUN, namespaces, XDP)"
for b in "$WS" "$XC" "$CS"; do [ -x "$b" ] || die "$b missing: run 'make bench'"; done

# ---- what the network sections need, from Debian's packages ----
need_pkgs=()
command -v iperf3 >/dev/null || need_pkgs+=(iperf3)
command -v tcpdump >/dev/null || need_pkgs+=(tcpdump)
dpkg-query -W -f='${Status}' libbpf-tools 2>/dev/null | grep -q "install ok installed" ||
	need_pkgs+=(libbpf-tools)
if [ ${#need_pkgs[@]} -gt 0 ] && { want 2 || want 3; }; then
	say "installing ${need_pkgs[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null 2>&1 || true
	# one at a time: a package that cannot be had leaves its row "n/a", not the run failed
	for p in "${need_pkgs[@]}"; do
		apt-get install -y -qq --no-install-recommends "$p" >/dev/null 2>&1 ||
			say "could not install $p"
	done
fi

# ---- cleanup: everything this run made, whatever happens ----
TMP=$(mktemp -d /tmp/wsbench.XXXXXX)
NSA=wsb$$a
NSB=wsb$$b
PIDS=()
MOUNTED_TRACEFS=
STATS_WAS=

# Is PID still a child of this script (not a number since given to another process)?
ours() { [ "$(awk '{ print $4 }' "/proc/$1/stat" 2>/dev/null)" = "$$" ]; }
# ... and still running (not a zombie waiting to be reaped)?
alive() { ours "$1" && [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]; }

stop_pid() {   # stop_pid PID [SIGNAL]: ask, wait up to 5 s, then insist
	local pid=$1 sig=${2:-INT} _
	if ours "$pid"; then
		kill "-$sig" "$pid" 2>/dev/null
		for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
		ours "$pid" && kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	# forget it: once reaped, its number may be given to someone else's process
	local keep=() p
	for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
	return 0
}

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do stop_pid "$pid" TERM; done 2>/dev/null
	ip netns del "$NSA" 2>/dev/null
	ip netns del "$NSB" 2>/dev/null
	[ -n "$MOUNTED_TRACEFS" ] && umount /sys/kernel/tracing 2>/dev/null
	[ -n "$STATS_WAS" ] && [ "$STATS_WAS" != 0 ] &&
		echo "$STATS_WAS" >/proc/sys/kernel/bpf_stats_enabled 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# kernel.bpf_stats_enabled=1 makes the kernel read the clock twice around
# every BPF program run (for bpftool's run_time_ns).  That is ~90 ns per run
# on a VM whose sched_clock is kvm-clock: added to the empty program as much
# as to ws_xdp, it doubles the baseline and hides most of wirestate's own
# cost behind it, and it slows every packet of the network rows.  Debian's
# default is 0; measure with 0 and put back what was there.
STATS_FILE=/proc/sys/kernel/bpf_stats_enabled
if [ -r "$STATS_FILE" ]; then
	STATS_WAS=$(cat "$STATS_FILE")
	if [ "$STATS_WAS" != 0 ]; then
		if echo 0 >"$STATS_FILE" 2>/dev/null && [ "$(cat "$STATS_FILE")" = 0 ]; then
			STATS_NOTE="kernel.bpf_stats_enabled was $STATS_WAS: set to 0 for this run, restored after"
		else
			STATS_NOTE="kernel.bpf_stats_enabled is $(cat "$STATS_FILE") and could not be turned off" \
"(a process holds BPF_ENABLE_STATS): every program run pays two clock reads, the ratios of section 1 are too low"
		fi
	else
		STATS_NOTE="kernel.bpf_stats_enabled 0 (the default)"
	fi
else
	STATS_NOTE="kernel.bpf_stats_enabled: not readable"
fi

mkdir -p build/bench
: >"$LOG"
ROWS=$TMP/rows
: >"$ROWS"

row() {   # row SECTION MEASUREMENT RESULT BASELINE RATIO TARGET VERDICT NOTES
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$ROWS"
}

median() {   # numbers on stdin -> median
	sort -g | awk '{v[NR]=$1} END {if (!NR) print ""; else if (NR%2) print v[(NR+1)/2]; else printf "%.6g\n", (v[NR/2]+v[NR/2+1])/2}'
}

to_bytes() { awk -v v="$1" 'BEGIN { n = v + 0; u = toupper(substr(v, length(v)));
	if (u == "K") n *= 1024; else if (u == "M") n *= 1048576; else if (u == "G") n *= 1073741824; printf "%d", n }'; }
cpu_of() { awk '{ print $14, $15 }' "/proc/$1/stat" 2>/dev/null; }
secs() { awk -v t="$(getconf CLK_TCK)" -v u="$1" -v s="$2" 'BEGIN { printf "%.2f s user + %.2f s sys", u / t, s / t }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.3fx", a / b }'; }

# ---- sections 1 and 4: BPF_PROG_TEST_RUN ----
if want 1; then
	say "1/4 XDP cost: $RUNS runs x $REPEAT repeats per kind of frame"
	# the rows measured before a failure are kept (the floors run last)
	"$XC" cost --repeat "$REPEAT" --runs "$RUNS" >"$TMP/cost" 2>>"$LOG" ||
		row 1 "XDP cost" "failed" "-" "-" "-" "FAILED" "see $LOG"
	sed -n '/^ROW\tfloor:/!s/^ROW\t/1\t/p' "$TMP/cost" >>"$ROWS"
	# the floors go last in section 1, after the new-flow rows of section 4's run
	sed -n 's/^ROW\t\(floor:\)/1\t\1/p' "$TMP/cost" >"$TMP/floors"
	grep -v '^ROW' "$TMP/cost" >>"$LOG"
fi
if want 4; then
	say "4/4 flow table: $NFLOWS distinct SYNs through ws_xdp (default 65536 flows)"
	if "$XC" flows --count "$NFLOWS" >"$TMP/flows" 2>>"$LOG"; then
		# the new-flow SYN cost is an XDP cost row; the table's fate is section 4
		awk -F'\t' -v OFS='\t' '$1 == "ROW" { $1 = ($2 ~ /^Flow table/) ? 4 : 1; print }' \
			"$TMP/flows" >>"$ROWS"
	else
		row 4 "Flow table pressure" "failed" "-" "-" "-" "FAILED" "see $LOG"
	fi
	grep -v '^ROW' "$TMP/flows" >>"$LOG"
fi
[ -s "$TMP/floors" ] && cat "$TMP/floors" >>"$ROWS"

# ---- sections 2 and 3: two namespaces joined by one veth pair ----
IPA=10.203.0.1
IPB=10.203.0.2

topo_up() {
	ip netns add "$NSA" && ip netns add "$NSB" || return 1
	local ns
	for ns in "$NSA" "$NSB"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
		ip -n "$ns" link set lo up
	done
	ip link add name va netns "$NSA" type veth peer name vb netns "$NSB" || return 1
	ip -n "$NSA" addr add "$IPA/24" dev va
	ip -n "$NSB" addr add "$IPB/24" dev vb
	ip -n "$NSA" link set va up
	ip -n "$NSB" link set vb up
	# client ports: the whole range, so a 10 s storm never runs out
	ip netns exec "$NSA" sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
	# both ends up (no ping on minimal systems): the link state says it
	wait_for 5 carrier
}

# wait_for SECONDS CMD...: until CMD succeeds
wait_for() {
	local t=$1 _
	shift
	for _ in $(seq $((t * 20))); do "$@" && return 0; sleep 0.05; done
	return 1
}

carrier() { ip -n "$NSB" link show dev vb 2>/dev/null | grep -q 'state UP'; }
# wirestate attaches its ingress program, then TC egress (or detaches both and exits); its
# ingress may be a tcx link, which neither Debian 12's ip nor bpftool 7.1 shows by device
hooks() { ip netns exec "$NSB" "$XC" hooks vb 2>/dev/null; }
ws_attached() {
	case $(hooks) in
	*tcx_egress:ws_tc_egress*) return 0 ;;
	*xdp:ws_xdp*) sleep 0.5; return 0 ;;   # no tcx: TC egress is a clsact filter, right after
	esac
	return 1
}
xdp_attached() { ip -n "$NSB" link show dev vb 2>/dev/null | grep -q 'xdp'; }
listening() { ip netns exec "$NSB" ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

OBS_PID=
OBS_WHY=
# in_b OUT ERR CMD...: run CMD in namespace B in the background as the observer
in_b() {
	local out=$1 err=$2
	shift 2
	ip netns exec "$NSB" "$@" >"$out" 2>"$err" &
	OBS_PID=$!
	PIDS+=("$OBS_PID")
}
# live ERR TEST...: wait up to 10 s for TEST; else OBS_WHY quotes ERR and it fails
live() {
	local err=$1
	shift
	wait_for 10 "$@" || { OBS_WHY="did not attach: $(head -c 200 "$err")"; return 1; }
}
# start_observer NAME: start it watching vb (or the host, for tcpstates) and wait until it is live
start_observer() {
	OBS_PID="" OBS_WHY=""
	case $1 in
	none) return 0 ;;
	wirestate)
		in_b /dev/null "$TMP/ws.err" "$WS" -i vb --json
		live "$TMP/ws.err" ws_attached || return 1
		HOOKS[$1]=$(hooks)
		;;
	emptyxdp | emptygeneric)
		local mode=native
		[ "$1" = emptygeneric ] && mode=generic
		in_b "$TMP/ae.out" "$TMP/ae.err" "$XC" attach-empty vb 3600 "$mode"
		live "$TMP/ae.err" xdp_attached || return 1
		;;
	emptyhooks)
		# empty programs on the hooks wirestate picks on vb (tcx in and out where the kernel has tcx)
		in_b "$TMP/ae.out" "$TMP/ae.err" "$XC" attach-empty vb 3600 auto
		live "$TMP/ae.err" grep -q attached "$TMP/ae.out" || return 1
		HOOKS[$1]=$(hooks)
		;;
	wsxdp)
		# the product itself with XDP ingress (generic on a veth), the default before tcx
		in_b /dev/null "$TMP/wt.err" "$WS" -i vb --json --ingress xdp
		live "$TMP/wt.err" ws_attached || return 1
		HOOKS[$1]=$(hooks)
		;;
	wskernel)
		# the hooks wirestate itself picks on vb (auto: TC ingress where the kernel has tcx)
		in_b "$TMP/aw.out" "$TMP/aw.err" "$XC" attach-ws vb 3600 "$(to_bytes "$STORM_RINGBUF")" auto
		live "$TMP/aw.err" grep -q attached "$TMP/aw.out" || return 1
		HOOKS[$1]=$(hooks)
		;;
	tcpdump)
		command -v tcpdump >/dev/null || { OBS_WHY="tcpdump not installed"; return 1; }
		ip netns exec "$NSB" tcpdump -i vb -s 128 -w /dev/null \
			'tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst) != 0 or arp' 2>"$TMP/td.err" &
		OBS_PID=$!
		PIDS+=("$OBS_PID")
		wait_for 10 grep -q 'listening on' "$TMP/td.err" ||
			{ OBS_WHY="did not start: $(head -c 200 "$TMP/td.err")"; return 1; }
		;;
	tcpstates)
		local bin
		bin=$(dpkg -L libbpf-tools 2>/dev/null | grep -m1 '/tcpstates$')
		[ -n "$bin" ] && [ -x "$bin" ] || bin=$(command -v tcpstates)
		[ -n "$bin" ] || { OBS_WHY="libbpf-tools' tcpstates not installed"; return 1; }
		# its tracepoint sock/inet_sock_set_state is found through tracefs
		if [ ! -d /sys/kernel/tracing/events ] && [ ! -d /sys/kernel/debug/tracing/events ]; then
			mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null && MOUNTED_TRACEFS=1
		fi
		# host-wide: the tracepoint sees every namespace's sockets
		"$bin" >"$TMP/tcpstates.out" 2>"$TMP/tcpstates.err" &
		OBS_PID=$!
		PIDS+=("$OBS_PID")
		sleep 1.5
		kill -0 "$OBS_PID" 2>/dev/null ||
			{ OBS_WHY="$(grep -m1 -v '^libbpf: prog' "$TMP/tcpstates.err" | head -c 160)"; OBS_PID=; return 1; }
		;;
	esac
}

stop_observer() {
	[ -n "$OBS_PID" ] && stop_pid "$OBS_PID" INT
	OBS_PID=
}

# one iperf3 run: Mbit/s received into $TMP/v, empty on failure
iperf_once() {
	local port=$1 out
	: >"$TMP/v"
	ip netns exec "$NSB" iperf3 -s -1 -p "$port" >"$TMP/iperf-s.log" 2>&1 &
	local spid=$!
	PIDS+=("$spid")
	wait_for 5 listening "$port" || { stop_pid "$spid" TERM; return 1; }
	out=$(timeout $((IPERF_SECS + 20)) ip netns exec "$NSA" iperf3 -c "$IPB" -p "$port" \
		-t "$IPERF_SECS" -O 1 -f m 2>&1)
	echo "$out" >>"$LOG"
	stop_pid "$spid" TERM
	awk '/receiver/ { for (i = 2; i <= NF; i++) if ($i == "Mbits/sec") v = $(i - 1) } END { if (v != "") print v }' \
		<<<"$out" >"$TMP/v"
}

declare -A OBS_LABEL=(
	[none]="iperf3 bulk TCP, no observer"
	[wirestate]="iperf3 + wirestate on the receiver's veth (--json >/dev/null)"
	[emptyhooks]="iperf3 + empty programs on wirestate's hooks (control)"
	[emptygeneric]="iperf3 + empty XDP program, generic mode as --ingress xdp attaches it (control)"
	[emptyxdp]="iperf3 + empty XDP program, native mode (control)"
	[wsxdp]="iperf3 + wirestate --ingress xdp (generic XDP + TC egress)"
	[tcpdump]="iperf3 + tcpdump -s128 of SYN/FIN/RST/ARP -w /dev/null"
	[tcpstates]="iperf3 + libbpf-tools tcpstates (tracepoint)"
)
declare -A STORM_LABEL=(
	[none]="Connection storm, no observer"
	[emptyhooks]="empty programs on wirestate's hooks on the server's veth (control)"
	[wskernel]="wirestate's programs on wirestate's hooks, events read and discarded (control)"
)
OBSERVERS=${BENCH_OBSERVERS:-none wirestate emptyhooks wsxdp emptygeneric emptyxdp tcpdump tcpstates}
declare -A HOOKS=()   # the programs on vb while each observer ran (xdp_cost hooks)

if want 2 || want 3; then
	topo_up || die "could not build the namespaces $NSA/$NSB"
fi

if want 2; then
	if ! command -v iperf3 >/dev/null; then
		row 2 "iperf3 bulk TCP" "n/a" "-" "-" "-" "-" "iperf3 could not be installed"
	else
		say "2/4 iperf3: $ROUNDS rounds x {$OBSERVERS}, ${IPERF_SECS}s each"
		declare -A WHY=()
		port=5201
		for r in $(seq "$ROUNDS"); do
			for o in $OBSERVERS; do
				[ -n "${WHY[$o]:-}" ] && continue
				if ! start_observer "$o"; then
					WHY[$o]=$OBS_WHY
					stop_observer
					say "  $o: n/a: $OBS_WHY"
					continue
				fi
				port=$((port + 1))
				iperf_once "$port"
				v=$(cat "$TMP/v")
				stop_observer
				echo "iperf round $r $o: ${v:-failed} Mbit/s" >>"$LOG"
				[ -n "$v" ] && echo "$v" >>"$TMP/iperf.$o"
			done
		done
		base=$( [ -s "$TMP/iperf.none" ] && median <"$TMP/iperf.none")
		for o in $OBSERVERS; do
			tgt=- verdict=-
			[ "$o" = wirestate ] && tgt=">= 0.97x"
			if [ -n "${WHY[$o]:-}" ]; then
				row 2 "${OBS_LABEL[$o]}" "n/a" "-" "-" "$tgt" "-" "${WHY[$o]}"
				continue
			fi
			if [ ! -s "$TMP/iperf.$o" ]; then
				row 2 "${OBS_LABEL[$o]}" "failed" "-" "-" "$tgt" "FAILED" "iperf3 gave no result; see $LOG"
				continue
			fi
			m=$(median <"$TMP/iperf.$o")
			all=$(awk '{ printf "%s%.2f", (NR > 1 ? " " : ""), $1 / 1000 }' "$TMP/iperf.$o")
			res=$(awk -v m="$m" 'BEGIN { printf "%.2f Gbit/s", m / 1000 }')
			bres=$(awk -v m="$base" 'BEGIN { printf "%.2f Gbit/s", m / 1000 }')
			rt=$(ratio "$m" "$base")
			if [ "$o" = wirestate ]; then
				verdict=$(awk -v a="$m" -v b="$base" 'BEGIN { print (b > 0 && a / b >= 0.97) ? "ok" : "MISSED" }')
			fi
			[ "$o" = none ] && bres=- rt=-
			row 2 "${OBS_LABEL[$o]}" "$res" "$bres" "$rt" "$tgt" "$verdict" \
				"median of $ROUNDS rounds, interleaved (Gbit/s: $all); -t $IPERF_SECS -O 1${HOOKS[$o]:+; on vb: ${HOOKS[$o]}}"
		done
	fi
fi

# ---- section 3: connection storm ----
storm_once() {   # storm_once PORT: connstorm's result line into $TMP/storm
	local port=$1
	: >"$TMP/storm"
	ip netns exec "$NSB" "$CS" server "$IPB" "$port" --threads 2 --max-seconds $((STORM_SECS + 15)) \
		>"$TMP/storm-s.out" 2>&1 &
	local spid=$!
	PIDS+=("$spid")
	wait_for 5 grep -q ready "$TMP/storm-s.out" || { stop_pid "$spid" TERM; return 1; }
	timeout $((STORM_SECS + 10)) ip netns exec "$NSA" "$CS" client "$IPB" "$port" \
		--conns "$STORM_CONNS" --seconds "$STORM_SECS" >"$TMP/storm" 2>>"$LOG"
	stop_pid "$spid" TERM
}

field() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'; }
jfield() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }


if want 3; then
	say "3/4 connection storm: ${STORM_SECS}s each: no observer, empty programs on wirestate's hooks, wirestate's kernel side alone, wirestate"
	r0=
	port=7000
	for o in none emptyhooks wskernel; do
		port=$((port + 1))
		if ! start_observer "$o"; then
			row 3 "  + ${STORM_LABEL[$o]}" "n/a" "-" "-" "-" "-" "$OBS_WHY"
			stop_observer
			continue
		fi
		storm_once "$port"
		res=$(cat "$TMP/storm")
		extra=
		if [ "$o" = wskernel ]; then
			read -r ut st < <(cpu_of "$OBS_PID")
			stop_observer
			cstats=$(grep '"type":"stats"' "$TMP/aw.out" | tail -n1)
			extra="; events $(jfield events <<<"$cstats"), received $(jfield events_received <<<"$cstats"), lost $(jfield ringbuf_drops <<<"$cstats"); reader CPU $(secs $ut $st); on vb: ${HOOKS[wskernel]:-?}"
		else
			stop_observer
			[ -n "${HOOKS[$o]:-}" ] && extra="; on vb: ${HOOKS[$o]}"
		fi
		echo "storm, $o: $res$extra" >>"$LOG"
		r=$(field rate <<<"$res")
		if [ "$o" = none ]; then
			r0=$r
			row 3 "${STORM_LABEL[$o]}" "${r:-failed} conn/s" "-" "-" "-" "$([ -n "$r" ] && echo - || echo FAILED)" \
				"${STORM_SECS}s, $STORM_CONNS client loops; $(field connections <<<"$res") connections, $(field errors <<<"$res") errors"
		else
			row 3 "  + ${STORM_LABEL[$o]}" "${r:-failed} conn/s" "${r0:-?} conn/s" "$(ratio "$r" "$r0")" "-" \
				"$([ -n "$r" ] && echo - || echo FAILED)" "$(field connections <<<"$res") connections, $(field errors <<<"$res") errors$extra"
		fi
	done

	# wirestate itself, its JSON to /dev/null as the issue asks; the counters come from
	# the summary line it also prints on stderr
	ip netns exec "$NSB" "$WS" -i vb --json --ringbuf-size "$STORM_RINGBUF" >/dev/null 2>"$TMP/ws3.err" &
	wpid=$!
	PIDS+=("$wpid")
	withws="" stats=""
	if wait_for 10 ws_attached; then
		HOOKS[storm]=$(hooks)
		storm_once $((port + 1))
		withws=$(cat "$TMP/storm")
		echo "storm with wirestate: $withws" >>"$LOG"
		# CPU when the storm ends, then while it drains what is still in the ring and exits
		read -r ut st < <(cpu_of "$wpid")
		ut2=$ut st2=$st
		t0=$(date +%s.%N)
		kill -INT "$wpid" 2>/dev/null
		for _ in $(seq 600); do
			alive "$wpid" || break
			read -r u s < <(cpu_of "$wpid")
			[ -n "$s" ] && ut2=$u st2=$s
			sleep 0.1
		done
		drain=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
		stop_pid "$wpid" INT
		stats=$(grep '^wirestate: .* events (' "$TMP/ws3.err" | tail -n1)
		echo "wirestate stats: $stats" >>"$LOG"
	else
		say "  wirestate did not attach: $(head -c 200 "$TMP/ws3.err")"
		stop_pid "$wpid" INT
	fi
	cat "$TMP/ws3.err" >>"$LOG"

	r1=$(field rate <<<"$withws")
	if [ -n "$r1" ]; then
		row 3 "  + wirestate -i vb --json --ringbuf-size $STORM_RINGBUF" "$r1 conn/s" \
			"${r0:-?} conn/s" "$(ratio "$r1" "$r0")" "-" "-" \
			"$(field connections <<<"$withws") connections, $(field errors <<<"$withws") errors; on vb: ${HOOKS[storm]:-?}"
	else
		row 3 "  + wirestate" "failed" "-" "-" "-" "FAILED" "see $LOG"
	fi
	if [ -n "$stats" ]; then
		# "wirestate: E events (R received), D lost (ring buffer full), P parse errors,
		#  K packets, F flows[, V evicted (...)][, X flow inserts failed, B skipped (flow busy)]
		#  [, T TIME_WAIT not followed to CLOSED (M were pending; --time-wait-max)]"
		ev=$(sed -n 's/^wirestate: \([0-9]*\) events.*/\1/p' <<<"$stats")
		rcv=$(sed -n 's/.* (\([0-9]*\) received).*/\1/p' <<<"$stats")
		drops=$(sed -n 's/.*, \([0-9]*\) lost (ring buffer full).*/\1/p' <<<"$stats")
		pk=$(sed -n 's/.*, \([0-9]*\) packets.*/\1/p' <<<"$stats")
		fl=$(sed -n 's/.*, \([0-9]*\) flows.*/\1/p' <<<"$stats")
		busy=$(sed -n 's/.*, \([0-9]*\) skipped (flow busy).*/\1/p' <<<"$stats")
		evicted=$(sed -n 's/.*, \([0-9]*\) evicted (.*/\1/p' <<<"$stats")
		untw=$(sed -n 's/.*, \([0-9]*\) TIME_WAIT not followed.*/\1/p' <<<"$stats")
		produced=$((ev + drops))
		lost=$((drops + ev - rcv))
		row 3 "    wirestate events: received / produced" "$rcv / $produced" "-" "-" "0 lost" \
			"$([ "$lost" -eq 0 ] && echo ok || echo MISSED)" \
			"lost $lost (ring buffer full: $drops); $pk packets, $fl flows (${evicted:-0} evicted), lock_busy ${busy:-0}; TIME_WAITs not followed to CLOSED (past --time-wait-max): ${untw:-0}"
		row 3 "    wirestate CPU during the ${STORM_SECS}s storm" "$(secs $ut $st)" "-" "-" "-" "-" \
			"/proc/PID/stat; with the drain after it: $(secs $ut2 $st2), exit ${drain}s after SIGINT"
	else
		row 3 "    wirestate events" "n/a" "-" "-" "0 lost" "FAILED" "no summary line on stderr; see $LOG"
	fi
fi

# ---- the table ----
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
echo
echo "wirestate benchmarks  $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "machine: ${cpu:-unknown CPU}, $(nproc) cores, kernel $(uname -r), $(awk '/MemTotal/ {printf "%.0f GiB RAM", $2 / 1048576}' /proc/meminfo)"
echo "$STATS_NOTE"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine makes every number noisy)"
echo
awk -F'\t' '
	BEGIN { name[1] = "1. cost per frame (BPF_PROG_TEST_RUN): XDP, TC ingress, floors"; name[2] = "2. bulk TCP over veth (iperf3)";
		name[3] = "3. connection storm (veth)"; name[4] = "4. flow-table pressure" }
	{ n++; for (i = 1; i <= 8; i++) c[n, i] = $i
	  for (i = 2; i <= 7; i++) if (length($i) > w[i]) w[i] = length($i) }
	END {
		h[2] = "measurement"; h[3] = "result"; h[4] = "baseline"; h[5] = "ratio"; h[6] = "target"; h[7] = "ok"
		for (i = 2; i <= 7; i++) if (length(h[i]) > w[i]) w[i] = length(h[i])
		fmt = "%-" w[2] "s  %" w[3] "s  %" w[4] "s  %" w[5] "s  %-" w[6] "s  %s\n"
		printf fmt, h[2], h[3], h[4], h[5], h[6], h[7]
		line = ""; for (i = 0; i < w[2] + w[3] + w[4] + w[5] + w[6] + w[7] + 10; i++) line = line "-"
		for (r = 1; r <= n; r++) {
			if (c[r, 1] != last) { print line; print name[c[r, 1]]; last = c[r, 1] }
			printf fmt, c[r, 2], c[r, 3], c[r, 4], c[r, 5], c[r, 6], c[r, 7]
			if (c[r, 8] != "") printf "    %s\n", c[r, 8]
		}
		print line
	}' <(sort -t$'\t' -s -k1,1n "$ROWS")
echo "ratio: result / baseline (XDP: ws_xdp / ws_xdp_empty, same run; network: / no observer)."
echo "details of every run: $LOG"
! grep -q $'\tFAILED\t' "$ROWS"
