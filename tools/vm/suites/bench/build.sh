#!/usr/bin/env bash
# build.sh STAGE_DIR HDR_DIR, called by tools/vm/vm-test.sh: the guest half of `make bench`
# (tools/bench/README.md). The programs' sources are in src/ (not *.c here, which vm-test.sh
# would build without liburing and the shim): bench_guest (B1-B5: syslet chains, direct
# calls, io_uring through liburing linked statically, glibc's POSIX AIO and the asyncaio
# shim) and bench_mem (B7: kernel memory of pending chains). BENCH_MODE=smoke on the kernel
# command line (KAPPEND) makes both short.
set -euo pipefail
stage=$1 hdr=$2
: "${TOP:?}"
if [ "${ARCH:-x86_64}" != x86_64 ]; then
	echo "bench: the benchmark programs are built for x86_64 only" >&2
	exit 1
fi
"$TOP/tools/bench/build-progs.sh" "$stage" "$hdr" bench_guest bench_mem
strip "$stage/bench_guest" "$stage/bench_mem"
echo bench_guest
echo bench_mem
