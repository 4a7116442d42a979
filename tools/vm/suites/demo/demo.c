// SPDX-License-Identifier: GPL-2.0
/*
 * make run: what the booted kernel offers, shown step by step. Each capability of the
 * series adds its demonstration here as it lands; a kernel without it says so.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

static const struct {
	const char *name;
	long nr;
} calls[] = {
	{ "async_exec", 463 },
	{ "async_wait", 464 },
	{ "async_cancel", 465 },
};

int main(void)
{
	struct utsname u;

	uname(&u);
	printf("demo: running on %s %s %s\n", u.sysname, u.release, u.machine);
	for (unsigned int i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		/* All-zero arguments: a kernel with the call rejects them with EINVAL or EFAULT. */
		long r = syscall(calls[i].nr, 0, 0, 0, 0, 0, 0);

		printf("demo: %s (nr %ld): %s\n", calls[i].name, calls[i].nr,
		       r < 0 && errno == ENOSYS ? "not in this kernel (ENOSYS)" :
		       r < 0 ? strerror(errno) : "returned success");
	}
	return 0;
}
