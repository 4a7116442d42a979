// SPDX-License-Identifier: GPL-2.0
/*
 * R14: on a kernel built with CONFIG_ASYNC_SYSCALLS=n and CONFIG_MMSPACE=n the new system
 * calls still exist (COND_SYSCALL) and fail with ENOSYS, whatever their arguments.
 */
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "kselftest_harness.h"

/* async_exec, async_wait, async_cancel, async_thread, async_thread_return */
static const long async_nrs[] = { 463, 464, 465, 466, 467 };
/* vas_create, vas_attach, vas_switch */
static const long vas_nrs[] = { 468, 469, 470 };

static void expect_enosys(struct __test_metadata *_metadata, const long *nrs, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		errno = 0;
		EXPECT_EQ(-1, syscall(nrs[i], 0, 0, 0, 0, 0, 0));
		EXPECT_EQ(ENOSYS, errno) TH_LOG("syscall %ld", nrs[i]);
		errno = 0;
		EXPECT_EQ(-1, syscall(nrs[i], -1L, -1L, -1L, -1L, -1L, -1L));
		EXPECT_EQ(ENOSYS, errno) TH_LOG("syscall %ld", nrs[i]);
	}
}

TEST(r14_async_syscalls_return_enosys)
{
	expect_enosys(_metadata, async_nrs, sizeof(async_nrs) / sizeof(async_nrs[0]));
}

TEST(vas_syscalls_return_enosys)
{
	expect_enosys(_metadata, vas_nrs, sizeof(vas_nrs) / sizeof(vas_nrs[0]));
}

TEST_HARNESS_MAIN
