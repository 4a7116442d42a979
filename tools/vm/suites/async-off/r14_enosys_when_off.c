// SPDX-License-Identifier: GPL-2.0
/*
 * R14: on a kernel built with CONFIG_ASYNC_SYSCALLS=n the new system calls still exist
 * (COND_SYSCALL) and fail with ENOSYS, whatever their arguments.
 */
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "kselftest_harness.h"

/* async_exec, async_wait, async_cancel, async_thread, async_thread_return */
static const long nrs[] = { 463, 464, 465, 466, 467 };

TEST(r14_async_syscalls_return_enosys)
{
	for (unsigned int i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++) {
		errno = 0;
		EXPECT_EQ(-1, syscall(nrs[i], 0, 0, 0, 0, 0, 0));
		EXPECT_EQ(ENOSYS, errno) TH_LOG("syscall %ld", nrs[i]);
		errno = 0;
		EXPECT_EQ(-1, syscall(nrs[i], -1L, -1L, -1L, -1L, -1L, -1L));
		EXPECT_EQ(ENOSYS, errno) TH_LOG("syscall %ld", nrs[i]);
	}
}

TEST_HARNESS_MAIN
