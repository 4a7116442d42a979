/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Guest-side launcher for the static test binary (asyncaio_tests_static):
 * runs the conformance, C++ and stress suites on the kernel backend.
 * The VM's /init passes no environment or arguments, hence this program.
 * Exit 77 from the test binary (kernel backend unavailable) becomes the
 * kselftest SKIP code 4.
 * Build: gcc -O2 -static -o kernel run_kernel_suite.c; put it next to
 * asyncaio_tests_static in the guest's /tests/asyncaio/.
 */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	setenv("ASYNCAIO_BACKEND", "kernel", 1);
	setenv("ASYNCAIO_REQUIRE_BACKEND", "kernel", 1);
	char *argv[] = { "asyncaio_tests_static", "-r", "compact", "-d", "yes",
			 "[conformance],[cxx],[stress]", 0 };
	pid_t pid = fork();
	if (pid == 0) {
		execv("/tests/asyncaio/asyncaio_tests_static", argv);
		_exit(127);
	}
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return 1;
	return WEXITSTATUS(st) == 77 ? 4 : WEXITSTATUS(st);
}
