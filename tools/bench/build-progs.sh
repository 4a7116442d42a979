#!/usr/bin/env bash
# build-progs.sh OUT_DIR HDR_DIR PROG...: build make-bench programs (tools/vm/suites/bench/src)
# statically: bench_guest (B1-B5, for the guest), bench_mem (B7, guest), bench_host (B6, host).
# HDR_DIR has <linux/async.h> (the test kernel's headers; the repo's include/uapi will do on
# the host). Build output goes to stderr.
#
# The shim (libasyncaio_fully_static.a) is built from userspace/ in the working tree; the
# programs report which commit (BENCHINFO shim_source).
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
out=$1 hdr=$2
shift 2
src=$TOP/tools/vm/suites/bench/src
cc=${TARGET_CC:-gcc}
mkdir -p "$out" "$TOP/build/bench"

build_lib() { # SRC_DIR BUILD_DIR
	{
		cmake -S "$1" -B "$2" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DASYNCAIO_STATIC_TESTS=ON \
			-DASYNCAIO_BUILD_TESTS=OFF -DASYNCAIO_BUILD_EXAMPLES=OFF >/dev/null &&
			nice -n 5 cmake --build "$2" -j2 --target asyncaio_fully_static
	} >&2
}

need_shim=0
for p in "$@"; do [ "$p" = bench_mem ] || need_shim=1; done
if [ $need_shim = 1 ]; then
	lib=$TOP/build/bench/userspace-static
	build_lib "$TOP/userspace" "$lib"
	shim_source="working tree $(git -C "$TOP" rev-parse --short HEAD)$(git -C "$TOP" diff --quiet HEAD -- userspace || echo ' + uncommitted changes')"
fi

cflags=(-std=gnu11 -O2 -Wall -Wextra -Wno-missing-field-initializers -isystem "$hdr")
for p in "$@"; do
	case $p in
	bench_mem)
		$cc -static "${cflags[@]}" -o "$out/$p" "$src/$p.c" -lpthread >&2
		;;
	bench_guest | bench_host)
		$cc "${cflags[@]}" -DSHIM_SOURCE="\"$shim_source\"" -c -o "$out/$p.o" "$src/$p.c" >&2
		# The shim first: its strong aio_read & co. win over libc.a's weak ones; glibc's
		# own are reached as __aio_read & co.
		g++ -static -o "$out/$p" "$out/$p.o" "$lib/libasyncaio_fully_static.a" \
			/usr/lib/x86_64-linux-gnu/libboost_context.a -luring -lpthread >&2
		rm -f "$out/$p.o"
		;;
	*)
		echo "build-progs: unknown program $p" >&2
		exit 2
		;;
	esac
done
