# Sourced by tools/test-all.sh: the syslet selftests on s390x, natively and as 31-bit
# (compat) programs, and R14 on an s390x kernel without CONFIG_ASYNC_SYSCALLS and
# CONFIG_MMSPACE. Address spaces are not enabled on s390 in this series yet: the vas fuzzer
# found a page-table accounting leak there (see the cover letter). s390x runs under TCG; the
# VM run takes about a minute, the rest is kernel builds.
step vm-s390x-async pass vm s390x async async-compat
step vm-s390x-async-off pass env KCONFIG_OFF="ASYNC_SYSCALLS MMSPACE" tools/vm/vm-test.sh s390x async-off
