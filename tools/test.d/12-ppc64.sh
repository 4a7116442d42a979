# Sourced by tools/test-all.sh: the ppc64 port (big-endian pseries, ELFv1 user space) in
# QEMU. The harness must catch a splat on this console too; then the syslet and the
# address-space selftests (vas_test and the vas fuzzer), natively and built as 32-bit
# powerpc programs (the compat ABI, R08), in one boot, and R14 (ENOSYS) on a kernel without
# either feature.
step vm-ppc64-harness-detects-splat fail vm ppc64 harness-splat
step vm-ppc64-async-vas pass vm ppc64 async async-compat vas vas-compat
step vm-ppc64-async-off pass env KCONFIG_OFF="ASYNC_SYSCALLS MMSPACE" tools/vm/vm-test.sh ppc64 async-off
