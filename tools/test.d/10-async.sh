# Sourced by tools/test-all.sh: the syslet selftests, and R14 on a kernel built without
# CONFIG_ASYNC_SYSCALLS and CONFIG_MMSPACE (a second kernel, built once and then
# incremental), where every new system call must return ENOSYS.
step vm-x86_64-async pass vm x86_64 async
step vm-x86_64-async-off pass env KCONFIG_OFF="ASYNC_SYSCALLS MMSPACE" tools/vm/vm-test.sh x86_64 async-off
# The same collection built as 32-bit (ia32) programs: the compat ABI of every call (R08).
step vm-x86_64-async-compat pass vm x86_64 async-compat
