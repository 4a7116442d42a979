#!/usr/bin/env bash
# userspace-test.sh BUILDDIR [SANITIZER]: configure, build and run the library's CTest suite
# on the host (where the kernel lacks the syscalls, so the thread-pool backend is tested;
# kernel-backend tests SKIP with their reason).
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
dir=$1 san=${2:-}
args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
[ -z "$san" ] || args+=(-DASYNCAIO_SANITIZE="$san")
cmake -S "$TOP/userspace" -B "$dir" "${args[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)"
ctest --test-dir "$dir" --output-on-failure -j2
