#!/usr/bin/env bash
# userspace-static.sh TARGET...: build fully static programs of the C++ library (userspace/,
# configured with -DASYNCAIO_STATIC_TESTS=ON) in build/userspace-static, for the QEMU guest,
# which has no shared libraries. Incremental. Build output goes to stderr (vm-test.sh reads
# the stdout of a suite's build.sh); prints the build directory on stdout.
# Used by tools/vm/suites/{asyncaio,demo}/build.sh.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
dir=$TOP/build/userspace-static
# CMake uses the host's compilers: the guest must run the host's architecture.
host=$(uname -m)
if [ -n "${ARCH:-}" ] && [ "$ARCH" != "$host" ]; then
	echo "userspace-static: the library's static programs are built for $host only, not $ARCH" >&2
	exit 1
fi
{
	cmake -S "$TOP/userspace" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DASYNCAIO_STATIC_TESTS=ON >/dev/null
	cmake --build "$dir" -j"$(nproc)" --target "$@"
} >&2
echo "$dir"
