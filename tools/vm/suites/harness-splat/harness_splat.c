// SPDX-License-Identifier: GPL-2.0
/*
 * Harness self-test: the program passes, but the kernel log shows a WARNING line (written
 * through /dev/kmsg, so it carries a printk timestamp like a real splat). The run must
 * be judged FAIL on the splat alone. It is logged at KERN_WARNING, the level of WARN()
 * and lockdep reports, so it also proves the console shows that level.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "kselftest_harness.h"

TEST(fake_warning_in_kernel_log)
{
	const char *msg = "<4>WARNING: CPU: 0 PID: 1 at harness-self-test (deliberate)\n";
	int fd = open("/dev/kmsg", O_WRONLY);

	ASSERT_GE(fd, 0);
	ASSERT_EQ((ssize_t)strlen(msg), write(fd, msg, strlen(msg)));
	close(fd);
	usleep(200000);
}

TEST_HARNESS_MAIN
