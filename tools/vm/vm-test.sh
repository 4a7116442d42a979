#!/usr/bin/env bash
# vm-test.sh ARCH SUITE...: build the kernel and the suites' static test programs, boot them in
# QEMU and judge the console log. Exit 0 only if the run finished, no test failed and the
# kernel printed no splat.
#
# Kernel programs and the guest's /bin helpers come from tools/vm/bin/*.c.
# A suite is either a kselftest collection of the kernel tree (tools/testing/selftests/SUITE,
# built with its own Makefile through kselftest's `install`; SUITE-compat builds the same
# collection with the arch's COMPAT_CC, static, for the compat ABI), or a project suite in
# tools/vm/suites/SUITE/ (every *.c there becomes one static program; an executable
# build.sh there, if present, is called as `build.sh STAGE_DIR HDR_DIR` with ARCH, TARGET_CC
# and TOP in its environment, puts prebuilt static programs and their support files into
# STAGE_DIR (the suite's /tests/SUITE/ in the guest) and prints on stdout the names of the
# programs /init runs, one a line; its build output goes to stderr).
#
# Environment:
#   KSRC      kernel tree to build and test (default: base + patches/, see testtree.sh)
#   KVARIANT  extra config fragments from tools/configs/, space separated (e.g. "debug")
#   KCONFIG_OFF  symbols to force off on top of the fragments (e.g. ASYNC_SYSCALLS)
#   TIMEOUT   seconds before the VM is killed (default 1500)
#   V=1       show the whole console while it runs (default: TAP results only)
#   LOGNAME_SUFFIX  appended to the log's name
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$TOP/build
arch=${1:?usage: vm-test.sh ARCH SUITE...}
shift
[ $# -gt 0 ] || { echo "usage: vm-test.sh ARCH SUITE..." >&2; exit 2; }
[ -f "$TOP/tools/vm/arch/$arch.sh" ] || { echo "vm-test: unknown ARCH $arch (have: $(ls "$TOP/tools/vm/arch" | sed 's/\.sh//' | xargs))" >&2; exit 2; }
. "$TOP/tools/vm/arch/$arch.sh"
suites=("$@")
tag=$(IFS=+; echo "${suites[*]}")

ksrc=${KSRC:-$("$TOP/tools/series/testtree.sh")}
ksrc=$(cd "$ksrc" && pwd)
kname=$arch
[ -z "${KSRC:-}" ] || kname+=-$(basename "$ksrc")
for v in ${KVARIANT:-}; do kname+=-$v; done
for v in ${KCONFIG_OFF:-}; do kname+=-no-$(echo "$v" | tr 'A-Z_' 'a-z-'); done
kout=$BUILD/kbuild/$kname

echo "== kernel: $ksrc -> $kout"
frags=()
for v in ${KVARIANT:-}; do frags+=("$v"); done
if [ -n "${KCONFIG_OFF:-}" ]; then
	mkdir -p "$BUILD/configs"
	off=$BUILD/configs/off-$(echo "$KCONFIG_OFF" | tr ' ' '-').config
	for s in $KCONFIG_OFF; do echo "# CONFIG_$s is not set"; done >"$off"
	frags+=("$off")
fi
kimage=$("$TOP/tools/vm/kbuild.sh" "$arch" "$ksrc" "$kout" "${frags[@]}" | tail -1)
hdr=$kout/hdr/include

# --- user space: /init and the suites --------------------------------------------------
stage=$BUILD/vm/$kname-$tag
rm -rf "$stage"
mkdir -p "$stage/tests" "$stage/dev" "$stage/proc" "$stage/sys" "$stage/tmp"
tcc="$TARGET_CC -static"
$tcc -O2 -Wall -o "$stage/init" "$TOP/tools/vm/init.c"
mkdir -p "$stage/bin"
for c in "$TOP"/tools/vm/bin/*.c; do
	$tcc -O2 -Wall -o "$stage/bin/$(basename "$c" .c)" "$c"
done
: >"$stage/tests/kselftest-list.txt"

# kselftest COLLECTION NAME CC: build the tree's selftests/COLLECTION with CC and stage it as
# the guest's /tests/NAME (NAME is COLLECTION-compat for the compat ABI's build of it).
kselftest() {
	local c=$1 name=$2 cc=$3 kst=$BUILD/kselftest/$kname-$2
	rm -rf "$kst"
	mkdir -p "$kst"
	make -s -C "$ksrc/tools/testing/selftests" TARGETS="$c" ARCH="$KARCH" CC="$cc" \
		KHDR_INCLUDES="-isystem $hdr" O="$kst" INSTALL_PATH="$kst/install" install >"$kst.log" 2>&1 ||
		{ cat "$kst.log"; echo "vm-test: building selftests/$c for $name failed" >&2; exit 1; }
	mkdir -p "$stage/tests/$name"
	(cd "$kst/install/$c" && tar -cf - .) | tar -xf - -C "$stage/tests/$name"
	sed "s/^$c:/$name:/" "$kst/install/kselftest-list.txt" >>"$stage/tests/kselftest-list.txt"
	# The collection's own timeout is for real hardware; tools/vm/settings/ may raise it for TCG.
	[ ! -f "$TOP/tools/vm/settings/$c" ] || cp "$TOP/tools/vm/settings/$c" "$stage/tests/$name/settings"
}

for s in "${suites[@]}"; do
	if [ -d "$TOP/tools/vm/suites/$s" ]; then
		mkdir -p "$stage/tests/$s"
		progs=()
		for c in "$TOP/tools/vm/suites/$s"/*.c; do
			[ -e "$c" ] || continue
			p=$(basename "$c" .c)
			$tcc -O2 -Wall -isystem "$hdr" -I "$ksrc/tools/testing/selftests" -o "$stage/tests/$s/$p" "$c" -lpthread
			progs+=("$p")
		done
		if [ -x "$TOP/tools/vm/suites/$s/build.sh" ]; then
			built=$(ARCH=$arch TARGET_CC=$TARGET_CC TOP=$TOP "$TOP/tools/vm/suites/$s/build.sh" \
				"$stage/tests/$s" "$hdr") || { echo "vm-test: $s/build.sh failed" >&2; exit 1; }
			for p in $built; do
				[ -x "$stage/tests/$s/$p" ] ||
					{ echo "vm-test: $s/build.sh named '$p', which it did not build" >&2; exit 1; }
				progs+=("$p")
			done
		fi
		[ ${#progs[@]} -gt 0 ] || { echo "vm-test: suite $s has no programs" >&2; exit 2; }
		for p in "${progs[@]}"; do
			echo "$s:$p" >>"$stage/tests/kselftest-list.txt"
		done
		[ ! -f "$TOP/tools/vm/suites/$s/settings" ] || cp "$TOP/tools/vm/suites/$s/settings" "$stage/tests/$s/"
	elif [ -d "$ksrc/tools/testing/selftests/$s" ]; then
		kselftest "$s" "$s" "$tcc"
	elif [ "${s%-compat}" != "$s" ] && [ -d "$ksrc/tools/testing/selftests/${s%-compat}" ]; then
		[ -n "${COMPAT_CC:-}" ] || { echo "vm-test: ARCH $arch has no compat compiler for $s" >&2; exit 2; }
		kselftest "${s%-compat}" "$s" "$COMPAT_CC -static -D_FILE_OFFSET_BITS=64 -D_TIME_BITS=64"
	else
		echo "vm-test: no suite '$s' (neither tools/vm/suites/$s nor $ksrc/tools/testing/selftests/$s)" >&2
		exit 2
	fi
done
initrd=$BUILD/vm/$kname-$tag.cpio.gz
(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) >"$initrd"

# --- boot ----------------------------------------------------------------------------------
mkdir -p "$BUILD/logs"
log=$BUILD/logs/$arch-$tag${LOGNAME_SUFFIX:-}.log
accel=$(qemu_accel "$kimage")
echo "== boot: $QEMU $accel, $(grep -c . "$stage/tests/kselftest-list.txt") program(s), log $log"
set +e
timeout --foreground -k 10 "${TIMEOUT:-1500}" $QEMU $accel $QEMU_MACHINE -smp 2 -m "$QEMU_MEM" \
	-nographic -no-reboot -kernel "$kimage" -initrd "$initrd" \
	-append "console=$QEMU_CONSOLE panic=-1 oops=panic loglevel=5 ${KAPPEND:-}" </dev/null 2>&1 |
	tr -d '\r' | tee "$log" | if [ "${V:-0}" = 1 ]; then cat; else grep -E --line-buffered '^(ok|not ok) |^VMTEST-DONE'; fi
qrc=${PIPESTATUS[0]}
set -e
"$TOP/tools/vm/judge.sh" "$log" ${qrc:+--qemu-rc $qrc}
