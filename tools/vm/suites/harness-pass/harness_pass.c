// SPDX-License-Identifier: GPL-2.0
/* Harness self-test: a passing kselftest_harness program, including a SKIP. */
#include <unistd.h>
#include "kselftest_harness.h"

TEST(init_mounted_proc_and_tmp)
{
	/* /init mounts the pseudo filesystems the suites rely on. */
	ASSERT_EQ(0, access("/proc/self/status", R_OK));
	ASSERT_EQ(0, access("/tmp", W_OK));
	ASSERT_EQ(0, access("/dev/null", W_OK));
}

TEST(vm_has_two_cpus)
{
	/* vm-test boots -smp 2 so that tests exercise cross-CPU races. */
	ASSERT_EQ(2, sysconf(_SC_NPROCESSORS_ONLN));
}

TEST(skip_reports_skip)
{
	SKIP(return, "harness self-test: a skip must not count as a failure");
}

TEST_HARNESS_MAIN
