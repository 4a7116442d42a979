// SPDX-License-Identifier: GPL-2.0
/*
 * Run first in a debug-kernel VM (suite kmemleak-clear): scan once and clear, so
 * that whatever early boot left unreferenced is not blamed on the tests; kmemleak.c
 * checks at the end. SKIP on a kernel without kmemleak.
 */
#include "../kmemleak/kmemleak.h"

int main(void)
{
	int ret = kmemleak_available();

	if (ret)
		return ret;
	if (kmemleak_cmd("scan") || kmemleak_cmd("clear"))
		return 1;
	printf("kmemleak: boot-time suspects cleared\n");
	return 0;
}
