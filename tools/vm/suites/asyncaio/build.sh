#!/usr/bin/env bash
# build.sh STAGE_DIR HDR_DIR, called by tools/vm/vm-test.sh: the C++ library's test suite on
# the kernel (syslet) backend, in the guest's /tests/asyncaio/.
#  - checks at compile time that the library's private copy of the syslet ABI
#    (userspace/src/syslet_abi.h) matches the test kernel's <linux/async.h> (HDR_DIR);
#  - stages asyncaio_tests_static (the same Catch2 suites CTest runs on the host, including
#    the [threadlet] cases, which here run on sys_async_thread with Boost.Context stacks;
#    linked with libboost_context.a) and
#    dropin_static (the drop-in C program, linked statically with the library);
#  - builds the launcher, userspace/tests/vm/run_kernel_suite.c, the one program /init runs:
#    every test case in its own process on the kernel backend, TAP per case, SKIP (never a
#    pass) for what cannot run here.
set -euo pipefail
stage=$1 hdr=$2
: "${TOP:?} ${TARGET_CC:?}"
$TARGET_CC -std=gnu11 -Wall -Wextra -Werror -fsyntax-only -isystem "$hdr" -I "$TOP/userspace/src" \
	"$TOP/userspace/tests/vm/abi_check.c" >&2
bdir=$("$TOP/tools/vm/userspace-static.sh" asyncaio_tests_static dropin_static)
# Debug info is most of their size; the initramfs does not need it.
objcopy --strip-debug "$bdir/tests/asyncaio_tests_static" "$stage/asyncaio_tests_static"
objcopy --strip-debug "$bdir/tests/dropin_static" "$stage/dropin_static"
$TARGET_CC -static -O2 -Wall -Wextra -o "$stage/run_kernel_suite" "$TOP/userspace/tests/vm/run_kernel_suite.c"
echo run_kernel_suite
