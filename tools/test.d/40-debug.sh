# Sourced by tools/test-all.sh: make test-debug, the syslet, threadlet and address-space
# selftests and a million ABI-fuzzer calls on a kernel with KASAN, lockdep, DEBUG_ATOMIC_SLEEP,
# DEBUG_OBJECTS, slab debugging and kmemleak (tools/configs/debug.config). Any splat fails
# the run; so does any object kmemleak finds unreferenced after the tests.
step vm-x86_64-debug pass tools/vm/test-debug.sh
