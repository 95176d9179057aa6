#!/usr/bin/env bash
# vm/vmtest.sh - run the project's tests inside a qemu VM on a second kernel
# (Debian 12's cloud kernel, fetched with apt), so the same suite runs on the
# host kernel and on the distro kernel (the "kernel matrix").
#
# Usage (as root):   vm/vmtest.sh [PAYLOAD_DIR...]
#
# Environment (all optional):
#   PAYLOAD_DIRS     dirs copied to /work/<basename> in the guest; relative
#                    ones are taken from PAYLOAD_ROOT (default: "build tests scripts";
#                    positional arguments override it)
#   PAYLOAD_ROOT     base of relative PAYLOAD_DIRS (default: the repo root)
#   VM_CMD           guest command, run by bash (or sh) in /work
#                    (default: "cd /work && tests/run.sh kernel")
#   VM_TIMEOUT       seconds before the VM is killed (default: 600)
#   VM_MEM, VM_SMP   guest memory / cpus (default: 2G / 2)
#   VM_ACCEL         auto | kvm | tcg (default: auto = kvm when usable)
#   VM_KERNEL_PKG    Debian kernel package to boot (default: the dependency
#                    of linux-image-cloud-amd64, its -unsigned variant)
#   VM_MODULES       modules to load in the guest (deps resolved from
#                    modules.dep; built-in or absent ones are skipped)
#   VM_EXTRA_MODULES appended to VM_MODULES
#   VM_BINS          host programs copied into the guest with their libraries
#   VM_EXTRA_BINS    appended to VM_BINS (must exist on the host)
#   VM_PASS_ENV      names of host environment variables exported in the guest
#   VM_APPEND        extra kernel command line
#   VM_OUT           output dir (default: <repo>/build/vm): console.log,
#                    initramfs, rootfs staging
#   VM_CACHE         download/extract cache (default: /var/cache/wirestate-vm)
#
# Exit status: the guest command's exit status; 124 when the VM timed out,
# 125 when the guest ended without printing its exit marker.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)

VM_CACHE=${VM_CACHE:-/var/cache/wirestate-vm}
VM_OUT=${VM_OUT:-$REPO/build/vm}
PAYLOAD_ROOT=${PAYLOAD_ROOT:-$REPO}
PAYLOAD_DIRS=${PAYLOAD_DIRS:-build tests scripts}
if [ $# -gt 0 ]; then PAYLOAD_DIRS="$*"; fi
VM_CMD=${VM_CMD:-cd /work && tests/run.sh kernel}
VM_TIMEOUT=${VM_TIMEOUT:-600}
VM_MEM=${VM_MEM:-2G}
VM_SMP=${VM_SMP:-2}
VM_ACCEL=${VM_ACCEL:-auto}
VM_KERNEL_PKG=${VM_KERNEL_PKG:-}
VM_MODULES=${VM_MODULES:-veth bridge 8021q dummy ifb macvlan ipvlan vxlan tun \
sch_ingress sch_netem sch_prio sch_htb sch_fq cls_bpf cls_u32 cls_matchall \
act_bpf act_gact act_mirred}
VM_EXTRA_MODULES=${VM_EXTRA_MODULES:-}
VM_BINS=${VM_BINS:-/usr/sbin/ip /usr/sbin/tc /usr/bin/ss /usr/sbin/bpftool /usr/bin/bash}
VM_EXTRA_BINS=${VM_EXTRA_BINS:-}
VM_PASS_ENV=${VM_PASS_ENV:-}
VM_APPEND=${VM_APPEND:-}

T0=$(date +%s)
log() { printf 'vmtest: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (apt-get, mknod, module staging)"
case $VM_TIMEOUT in ''|*[!0-9]*) die "VM_TIMEOUT must be a number of seconds";; esac

# ---------------------------------------------------------------- packages
APT_UPDATED=0
apt_update_once() {
	if [ "$APT_UPDATED" = 0 ]; then
		log "apt-get update"
		apt-get update -qq >&2
		APT_UPDATED=1
	fi
}

# ensure_pkg PKG [TEST-PATH]: install PKG unless TEST-PATH (or the package) is there
ensure_pkg() {
	local pkg=$1 path=${2:-}
	if [ -n "$path" ] && [ -e "$path" ]; then return 0; fi
	if [ -z "$path" ] && dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
		return 0
	fi
	log "installing $pkg"
	if ! apt-cache show "$pkg" >/dev/null 2>&1; then apt_update_once; fi
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >&2; then
		apt_update_once
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >&2
	fi
}

ensure_pkg qemu-system-x86 /usr/bin/qemu-system-x86_64
ensure_pkg busybox-static /bin/busybox
ensure_pkg cpio /usr/bin/cpio
ensure_pkg iproute2 /usr/sbin/ip
ensure_pkg bpftool /usr/sbin/bpftool

# ------------------------------------------------------------------ kernel
mkdir -p "$VM_CACHE" "$VM_OUT"
exec 9>"$VM_CACHE/.lock"
flock 9 # one fetch/extract at a time

pick_kernel_pkg() {
	local dep
	dep=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
	if [ -z "$dep" ]; then
		apt_update_once
		dep=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
			awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
	fi
	[ -n "$dep" ] || return 1
	if apt-cache show "$dep-unsigned" >/dev/null 2>&1; then
		echo "$dep-unsigned"
	else
		echo "$dep"
	fi
}

if [ -z "$VM_KERNEL_PKG" ]; then
	VM_KERNEL_PKG=$(pick_kernel_pkg) || true
	if [ -z "$VM_KERNEL_PKG" ]; then
		# apt metadata unavailable: fall back to the newest kernel already cached
		VM_KERNEL_PKG=$(ls -1 "$VM_CACHE/kernels" 2>/dev/null | sort -V | tail -n1)
		[ -n "$VM_KERNEL_PKG" ] || die "cannot find linux-image-cloud-amd64's kernel package"
		log "apt metadata unavailable, using cached $VM_KERNEL_PKG"
	fi
fi

KDIR=$VM_CACHE/kernels/$VM_KERNEL_PKG
if [ ! -e "$KDIR/.done" ]; then
	log "fetching $VM_KERNEL_PKG"
	rm -rf "$KDIR" "$VM_CACHE/dl"
	mkdir -p "$VM_CACHE/dl"
	chown _apt "$VM_CACHE/dl" 2>/dev/null || true # apt's download sandbox user
	if ! (cd "$VM_CACHE/dl" && apt-get download -qq "$VM_KERNEL_PKG" >&2); then
		apt_update_once
		(cd "$VM_CACHE/dl" && apt-get download -qq "$VM_KERNEL_PKG" >&2)
	fi
	mkdir -p "$KDIR.tmp"
	dpkg-deb -x "$VM_CACHE"/dl/*.deb "$KDIR.tmp"
	KVER=$(ls -1 "$KDIR.tmp/lib/modules" | head -n1)
	[ -n "$KVER" ] && [ -f "$KDIR.tmp/boot/vmlinuz-$KVER" ] || die "no kernel in $VM_KERNEL_PKG"
	busybox depmod -b "$KDIR.tmp" "$KVER" # the .deb ships no modules.dep
	# keep what we use: kernel, config, modules; drop the rest of the package
	rm -rf "$KDIR.tmp/usr" "$VM_CACHE/dl"
	echo "$KVER" >"$KDIR.tmp/kver"
	touch "$KDIR.tmp/.done"
	mv "$KDIR.tmp" "$KDIR"
fi
KVER=$(cat "$KDIR/kver")
VMLINUZ=$KDIR/boot/vmlinuz-$KVER
MODDIR=$KDIR/lib/modules/$KVER
flock -u 9

# ------------------------------------------------------------ base rootfs
# Base = busybox + host programs + their libraries + kernel modules + /init.
# It is cached in $VM_OUT/base.cpio.gz and rebuilt when an input changes.

# resolve_modules NAME...: print module paths (relative to $MODDIR) in load order
declare -A MOD_SEEN=()
MOD_ORDER=()
mod_visit() { # $1 = path relative to MODDIR
	local p=$1 d
	[ -z "${MOD_SEEN[$p]:-}" ] || return 0
	MOD_SEEN[$p]=1
	for d in $(awk -F': *' -v m="$p" '$1 == m { print $2; exit }' "$MODDIR/modules.dep"); do
		mod_visit "$d"
	done
	MOD_ORDER+=("$p")
}
resolve_modules() {
	local m p
	for m in "$@"; do
		m=${m//-/_}
		p=$(awk -F: -v m="$m" '{ n = $1; sub(/.*\//, "", n); sub(/\.ko(\.[a-z]+)?$/, "", n);
			gsub(/-/, "_", n); if (n == m) { print $1; exit } }' "$MODDIR/modules.dep")
		if [ -n "$p" ]; then
			mod_visit "$p"
		elif grep -qE "/${m}\.ko\$" "$MODDIR/modules.builtin" 2>/dev/null ||
			grep -qE "/${m//_/[-_]}\.ko\$" "$MODDIR/modules.builtin" 2>/dev/null; then
			: # built in
		else
			log "warning: module $m not found in $KVER (skipped)"
		fi
	done
}
# shellcheck disable=SC2086
resolve_modules $VM_MODULES $VM_EXTRA_MODULES

BINS=()
for b in $VM_BINS; do
	if [ -e "$b" ]; then BINS+=("$b"); else log "warning: $b not on host (skipped)"; fi
done
for b in $VM_EXTRA_BINS; do
	[ -e "$b" ] || b=$(command -v "$b") || die "VM_EXTRA_BINS: $b not found"
	BINS+=("$b")
done

BASE_KEY=$({
	sha256sum "$0"
	echo "$VM_KERNEL_PKG $KVER"
	printf '%s\n' "${MOD_ORDER[@]}"
	for b in /bin/busybox "${BINS[@]}"; do stat -L -c '%n %s %Y' "$b"; done
	stat -c '%Y' /var/lib/dpkg/status
} | sha256sum | cut -d' ' -f1)

ROOT=$VM_OUT/rootfs
BASE=$VM_OUT/base.cpio.gz

# copy_libs FILE...: copy the shared libraries of ELF files into $1's root
# (first argument is the destination root)
copy_libs() {
	local dst=$1 f lib g
	shift
	for f in "$@"; do
		ldd "$f" 2>/dev/null | awk '/=> \// { print $3 } $1 ~ /^\// { print $1 }' || true
	done | sort -u | while read -r lib; do
		# the guest is /usr-merged (/lib -> usr/lib, ...): store under usr/ so a
		# second cpio archive never turns those symlinks into directories
		case $lib in
		/lib/* | /lib64/* | /bin/* | /sbin/*) g=/usr$lib ;;
		*) g=$lib ;;
		esac
		[ -e "$dst$g" ] && continue
		[ -n "${LIBS_IN:-}" ] && [ -e "$LIBS_IN$g" ] && continue # already in the base
		mkdir -p "$dst$(dirname "$g")"
		cp -L "$lib" "$dst$g"
	done
}

make_cpio() { # make_cpio DIR OUT.cpio.gz
	(cd "$1" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc --quiet -R 0:0) | gzip -1 >"$2.tmp"
	mv "$2.tmp" "$2"
}

write_init() {
	cat >"$1" <<'EOF'
#!/bin/sh
# wirestate vmtest guest init (generated by vm/vmtest.sh)
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb VMTEST=1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -t bpf bpf /sys/fs/bpf
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mkdir -p /run/netns
hostname vmtest
ip link set lo up
ulimit -l unlimited 2>/dev/null
kver=$(uname -r)
while read -r m; do
	[ -n "$m" ] || continue
	out=$(insmod "/lib/modules/$kver/$m" 2>&1) || case $out in
		*exist*) ;;
		*) echo "vmtest-init: insmod $m: $out" ;;
	esac
done </etc/vmtest/modules
[ -f /etc/vmtest/env ] && . /etc/vmtest/env
echo; echo "VMTEST-UNAME=$kver"
echo "vmtest-init: up $(cut -d' ' -f1 /proc/uptime)s, running: $(cat /etc/vmtest/cmd)"
cd /work 2>/dev/null || cd /
sh=/bin/sh
[ -x /usr/bin/bash ] && sh=/usr/bin/bash
"$sh" -c "$(cat /etc/vmtest/cmd)" </dev/null
rc=$?
if [ "$rc" != 0 ]; then
	echo "--- vmtest-init: guest dmesg (last 40 lines) ---"
	dmesg | tail -n 40
fi
echo
echo "VMTEST-EXIT=$rc"
sync
poweroff -f
sleep 5
EOF
	chmod 755 "$1"
}

build_base() {
	log "building base initramfs ($KVER)"
	rm -rf "$ROOT"
	mkdir -p "$ROOT"/usr/{bin,sbin,lib/x86_64-linux-gnu,lib64} \
		"$ROOT"/{dev,proc,sys,run,tmp,work,etc/vmtest,root,var,boot}
	ln -s usr/bin "$ROOT/bin"
	ln -s usr/sbin "$ROOT/sbin"
	ln -s usr/lib "$ROOT/lib"
	ln -s usr/lib64 "$ROOT/lib64"
	ln -s ../run "$ROOT/var/run"
	ln -s ../tmp "$ROOT/var/tmp"
	chmod 1777 "$ROOT/tmp"
	mknod -m 600 "$ROOT/dev/console" c 5 1
	mknod -m 666 "$ROOT/dev/null" c 1 3

	# busybox and its applets (as absolute symlinks to /usr/bin/busybox)
	cp -L /bin/busybox "$ROOT/usr/bin/busybox"
	copy_libs "$ROOT" /bin/busybox
	local a
	/bin/busybox --list-full | while read -r a; do
		case $a in bin/*|sbin/*|usr/bin/*|usr/sbin/*) ;; *) continue ;; esac
		[ "$a" = bin/busybox ] && continue
		ln -sf /usr/bin/busybox "$ROOT/$a"
	done

	# host programs replace busybox applets of the same name
	local b n
	for b in "${BINS[@]}"; do
		n=$(basename "$b")
		rm -f "$ROOT/usr/bin/$n" "$ROOT/usr/sbin/$n"
		mkdir -p "$ROOT$(dirname "$b")"
		cp -L "$b" "$ROOT$b"
	done
	copy_libs "$ROOT" "${BINS[@]}"
	# Debian's busybox ash runs its own applets before $PATH (ip, tc, ...):
	# make /bin/sh bash so scripts get the real iproute2 tools.
	if [ -x "$ROOT/usr/bin/bash" ]; then ln -sf bash "$ROOT/usr/bin/sh"; fi
	[ -d /etc/iproute2 ] && cp -a /etc/iproute2 "$ROOT/etc/"
	[ -d /usr/share/iproute2 ] && mkdir -p "$ROOT/usr/share" && cp -a /usr/share/iproute2 "$ROOT/usr/share/"
	cp -a /etc/ld.so.conf "$ROOT/etc/" 2>/dev/null || true
	cp -a /etc/ld.so.conf.d "$ROOT/etc/" 2>/dev/null || true

	# kernel modules (uncompressed: busybox insmod may lack xz/zstd support)
	local m src dst
	: >"$ROOT/etc/vmtest/modules"
	for m in "${MOD_ORDER[@]}"; do
		src=$MODDIR/$m
		dst=$ROOT/lib/modules/$KVER/${m%.xz}
		dst=${dst%.zst}
		mkdir -p "$(dirname "$dst")"
		case $m in
		*.xz) if command -v xz >/dev/null; then xz -dc "$src"; else busybox xzcat "$src"; fi >"$dst" ;;
		*.zst) zstd -qdc "$src" >"$dst" ;;
		*) cp "$src" "$dst" ;;
		esac
		echo "${dst#"$ROOT/lib/modules/$KVER/"}" >>"$ROOT/etc/vmtest/modules"
	done
	mkdir -p "$ROOT/lib/modules/$KVER"
	cp "$MODDIR"/modules.builtin* "$MODDIR/modules.order" "$ROOT/lib/modules/$KVER/" 2>/dev/null || true
	busybox depmod -b "$ROOT" "$KVER" # modules.dep/alias for the staged subset
	cp "$KDIR/boot/config-$KVER" "$ROOT/boot/" # for bpftool feature probe

	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$ROOT/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$ROOT/etc/group"
	echo vmtest >"$ROOT/etc/hostname"
	printf '127.0.0.1 localhost vmtest\n::1 localhost\n' >"$ROOT/etc/hosts"
	: >"$ROOT/etc/fstab"
	ldconfig -r "$ROOT" 2>/dev/null || true
	write_init "$ROOT/init"

	make_cpio "$ROOT" "$BASE"
	echo "$BASE_KEY" >"$VM_OUT/base.key"
}

if [ ! -f "$BASE" ] || [ "$(cat "$VM_OUT/base.key" 2>/dev/null)" != "$BASE_KEY" ]; then
	build_base
else
	log "base initramfs up to date ($KVER)"
fi

# ---------------------------------------------------------------- payload
PROOT=$VM_OUT/payload
rm -rf "$PROOT"
mkdir -p "$PROOT/work" "$PROOT/etc/vmtest"
VM_OUT_ABS=$(cd "$VM_OUT" && pwd -P)
for d in $PAYLOAD_DIRS; do
	case $d in /*) ;; *) d=$PAYLOAD_ROOT/$d ;; esac
	if [ ! -d "$d" ]; then
		log "warning: payload dir $d does not exist (skipped)"
		continue
	fi
	d=$(cd "$d" && pwd -P)
	parent=$(dirname "$d")
	name=$(basename "$d")
	excl=()
	case $VM_OUT_ABS/ in "$d"/*) excl=(--anchored --exclude="$name${VM_OUT_ABS#"$d"}") ;; esac
	tar -C "$parent" "${excl[@]}" -cf - "$name" | tar -C "$PROOT/work" -xf -
done
printf '%s\n' "$VM_CMD" >"$PROOT/etc/vmtest/cmd"
{
	for v in $VM_PASS_ENV; do
		[ -n "${!v+x}" ] || continue
		printf "export %s='%s'\n" "$v" "$(printf '%s' "${!v}" | sed "s/'/'\\\\''/g")"
	done
} >"$PROOT/etc/vmtest/env"
# shared libraries of every ELF in the payload (libbpf, libelf, ...)
mapfile -t ELFS < <(find "$PROOT/work" -type f -size +52c -print0 |
	xargs -0 -r sh -c 'for f; do [ "$(od -An -tx1 -N4 "$f" | tr -d " \n")" = 7f454c46 ] && echo "$f"; done; true' sh)
if [ ${#ELFS[@]} -gt 0 ]; then LIBS_IN=$ROOT copy_libs "$PROOT" "${ELFS[@]}"; fi
make_cpio "$PROOT" "$VM_OUT/payload.cpio.gz"
cat "$BASE" "$VM_OUT/payload.cpio.gz" >"$VM_OUT/initramfs.cpio.gz"

# ------------------------------------------------------------------- boot
# kvm_cpu: print the first -cpu model KVM can start a vCPU with (nested KVM
# may refuse MSRs, e.g. "failed to set MSR 0x10a" for -cpu host)
kvm_cpu() {
	[ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
	local c
	for c in host host,-arch-capabilities; do
		if echo quit | timeout 20 qemu-system-x86_64 -enable-kvm -cpu "$c" -M pc -m 64 \
			-nodefaults -display none -monitor stdio -S >/dev/null 2>&1; then
			echo "$c"
			return 0
		fi
	done
	return 1
}
# kvm_smoke CPU: boot the guest under KVM running only `true`. Nested KVM can
# start a vCPU and still die in the guest ("KVM internal error ... emulation
# failure"), where qemu pauses instead of exiting, so only a real boot tells.
kvm_smoke() {
	local d=$VM_OUT/kvmprobe out
	rm -rf "$d"
	mkdir -p "$d/etc/vmtest"
	echo true >"$d/etc/vmtest/cmd"
	: >"$d/etc/vmtest/env"
	make_cpio "$d" "$d.cpio.gz"
	cat "$BASE" "$d.cpio.gz" >"$d.initrd"
	out=$(timeout -k 5 "${VM_KVM_PROBE_TIMEOUT:-20}" qemu-system-x86_64 -enable-kvm -cpu "$1" \
		-nographic -nodefaults -no-reboot -serial stdio -monitor none -m 512M -smp "$VM_SMP" \
		-kernel "$VMLINUZ" -initrd "$d.initrd" -append "console=ttyS0 panic=-1 quiet" \
		</dev/null 2>&1) || true
	rm -rf "$d" "$d.cpio.gz" "$d.initrd"
	printf '%s\n' "$out" | tr -d '\r' | grep -aq '^VMTEST-EXIT=0$'
}
# pick_accel: "kvm CPU" or "tcg", cached per host kernel, qemu and guest kernel
pick_accel() {
	local key verdict cpu cache=$VM_CACHE/accel-verdicts
	key="$(uname -r)|$(qemu-system-x86_64 --version | head -n1)|$KVER"
	verdict=$(awk -F'\t' -v k="$key" '$1 == k { v = $2 } END { print v }' "$cache" 2>/dev/null)
	if [ -z "$verdict" ]; then
		verdict=tcg
		if cpu=$(kvm_cpu); then
			log "probing KVM (-cpu $cpu) with a smoke boot"
			if kvm_smoke "$cpu"; then verdict="kvm $cpu"; else log "KVM smoke boot failed: using TCG"; fi
		fi
		printf '%s\t%s\n' "$key" "$verdict" >>"$cache"
	fi
	echo "$verdict"
}
CPU=
case $VM_ACCEL in
auto)
	v=$(pick_accel)
	VM_ACCEL=${v%% *}
	[ "$VM_ACCEL" = kvm ] && CPU=${v#kvm }
	;;
kvm) CPU=$(kvm_cpu) || die "VM_ACCEL=kvm but KVM is not usable" ;;
tcg) ;;
*) die "VM_ACCEL must be auto, kvm or tcg" ;;
esac
if [ "$VM_ACCEL" = kvm ]; then
	ACCEL=(-enable-kvm -cpu "$CPU")
else
	ACCEL=(-accel tcg -cpu max)
fi

LOG=$VM_OUT/console.log
T1=$(date +%s)
log "booting $KVER ($VM_ACCEL ${ACCEL[*]: -1}, ${VM_MEM} RAM, $VM_SMP cpus, timeout ${VM_TIMEOUT}s); prep took $((T1 - T0))s; log: $LOG"
set +e
timeout -k 10 "$VM_TIMEOUT" qemu-system-x86_64 "${ACCEL[@]}" \
	-nographic -nodefaults -no-reboot -serial stdio -monitor none \
	-m "$VM_MEM" -smp "$VM_SMP" \
	-kernel "$VMLINUZ" -initrd "$VM_OUT/initramfs.cpio.gz" \
	-append "console=ttyS0 panic=-1 oops=panic quiet mitigations=off $VM_APPEND" \
	</dev/null 2>&1 | sed -u -e 's/\r//g' -e 's/\x1bc//g' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' | tee "$LOG"
QRC=${PIPESTATUS[0]}
set -e
T2=$(date +%s)

GUEST_KVER=$(grep -a -E '^VMTEST-UNAME=' "$LOG" | tail -n1 | cut -d= -f2-) || true
GUEST_KVER=${GUEST_KVER:-$KVER}
MARK=$(grep -a -E '^VMTEST-EXIT=[0-9]+$' "$LOG" | tail -n1 | cut -d= -f2) || true
if [ -n "$MARK" ]; then
	RC=$MARK
elif [ "$QRC" = 124 ] || [ "$QRC" = 137 ]; then
	log "VM timed out after ${VM_TIMEOUT}s"
	RC=124
else
	log "guest ended without VMTEST-EXIT marker (qemu exit $QRC)"
	RC=125
fi
log "boot+run took $((T2 - T1))s (total $((T2 - T0))s)"
if [ "$RC" = 0 ]; then
	echo "vmtest: kernel $GUEST_KVER: PASS"
else
	echo "vmtest: kernel $GUEST_KVER: FAIL (exit $RC)"
fi
exit "$RC"
