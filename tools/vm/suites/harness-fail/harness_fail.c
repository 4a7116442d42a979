// SPDX-License-Identifier: GPL-2.0
/* Harness self-test: this program must fail, and the run with it must fail. */
#include <unistd.h>
#include "kselftest_harness.h"

TEST(deliberate_failure)
{
	ASSERT_EQ(0, getppid()) TH_LOG("failing on purpose: the VM run must be judged FAIL");
}

TEST_HARNESS_MAIN
