// SPDX-License-Identifier: GPL-2.0
/*
 * On a kernel built with CONFIG_MMSPACE=n, vas_create, vas_attach and vas_switch still
 * exist (COND_SYSCALL) and fail with ENOSYS, whatever their arguments.
 */
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "kselftest_harness.h"

/* vas_create, vas_attach, vas_switch */
static const long nrs[] = { 468, 469, 470 };

TEST(vas_syscalls_return_enosys)
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
