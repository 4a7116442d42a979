// SPDX-License-Identifier: GPL-2.0
/*
 * Run last in a debug-kernel VM: ask kmemleak for a scan and fail on any unreferenced
 * object. kmemleak reports an object only once it has been unreferenced through a scan
 * and is older than its minimum age (5 s), so the scan runs twice with a pause, as
 * Documentation/dev-tools/kmemleak.rst recommends. Leaks reported before the tests ran
 * (early boot) are cleared by the first program of the run, kmemleak_clear (see
 * kmemleak_clear.c), so what is left was leaked by the tests. SKIP on a kernel without
 * kmemleak.
 */
#include "kmemleak.h"

int main(void)
{
	int ret = kmemleak_available(), leaks = 0;
	char line[512];
	FILE *f;

	if (ret)
		return ret;
	/* Let objects freed late (RCU, retiring pool threads) go, then scan twice. */
	sleep(6);
	if (kmemleak_cmd("scan"))
		return 1;
	sleep(6);
	if (kmemleak_cmd("scan"))
		return 1;
	f = fopen(KMEMLEAK, "r");
	if (!f) {
		printf("kmemleak: %s\n", strerror(errno));
		return 1;
	}
	/* The report is printed whole; each object starts with this line. */
	while (fgets(line, sizeof(line), f)) {
		fputs(line, stdout);
		if (!strncmp(line, "unreferenced object", 19))
			leaks++;
	}
	fclose(f);
	printf("kmemleak: %d unreferenced object(s)\n", leaks);
	return leaks ? 1 : 0;
}
