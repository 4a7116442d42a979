# Sourced by tools/test-all.sh: the syslet and address-space selftests on s390x, natively
# and as 31-bit (compat) programs, in one boot, and R14 on an s390x kernel without
# CONFIG_ASYNC_SYSCALLS and CONFIG_MMSPACE. s390x runs under TCG; the VM run takes a few
# minutes (the vas fuzzer is most of it), the rest is kernel builds.
step vm-s390x-async pass vm s390x async async-compat vas vas-compat
step vm-s390x-async-off pass env KCONFIG_OFF="ASYNC_SYSCALLS MMSPACE" tools/vm/vm-test.sh s390x async-off
