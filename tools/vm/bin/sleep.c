// SPDX-License-Identifier: GPL-2.0
/* /bin/sleep for the test VMs (some kselftests exec it): sleep SECONDS[.fraction]. */
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	double s = argc > 1 ? strtod(argv[1], NULL) : 0;
	struct timespec ts = { .tv_sec = (time_t)s, .tv_nsec = (long)((s - (time_t)s) * 1e9) };

	if (argc != 2 || s < 0)
		return 1;
	while (nanosleep(&ts, &ts))
		;
	return 0;
}
