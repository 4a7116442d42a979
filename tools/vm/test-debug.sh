#!/usr/bin/env bash
# make test-debug: the syslet and address-space selftests on an x86_64 kernel built with KASAN, lockdep
# (PROVE_LOCKING, PROVE_RCU), DEBUG_ATOMIC_SLEEP, DEBUG_OBJECTS, slab debugging and
# kmemleak (tools/configs/debug.config). judge.sh fails the run on any splat; the
# kmemleak-clear suite clears boot-time suspects first and the kmemleak suite fails on any
# object the tests leaked.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP"
# The ABI fuzzer runs a million calls here (issue 9), ten times its default; the guest's
# init passes the kernel command line's VAR=value words on to the tests' environment.
# The address-space fuzzer runs 100,000 of each kind (a fifth of its default: this
# kernel is about five times slower, and the collection has 300 s per program).
export KAPPEND="ASYNC_FUZZ_ITERS=${ASYNC_FUZZ_ITERS:-1000000} VAS_FUZZ_ITERS=${VAS_FUZZ_ITERS:-100000}${KAPPEND:+ $KAPPEND}"
KVARIANT="debug${KVARIANT:+ $KVARIANT}" exec tools/vm/vm-test.sh x86_64 \
	kmemleak-clear async vas kmemleak
