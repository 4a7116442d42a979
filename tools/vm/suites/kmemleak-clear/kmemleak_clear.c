// SPDX-License-Identifier: GPL-2.0
/*
 * Run first in a debug-kernel VM (suite kmemleak-clear): scan once and clear, so
 * that whatever early boot left unreferenced is not blamed on the tests; kmemleak.c
 * checks at the end. SKIP on a kernel without kmemleak.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define KMEMLEAK "/sys/kernel/debug/kmemleak"

int main(void)
{
	const char *cmds[] = { "scan", "clear" };
	unsigned int i;
	int fd;

	mkdir("/sys/kernel/debug", 0755);
	mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	if (access(KMEMLEAK, F_OK)) {
		printf("SKIP: kernel without kmemleak (%s)\n", strerror(errno));
		return 4;
	}
	for (i = 0; i < 2; i++) {
		fd = open(KMEMLEAK, O_WRONLY);
		if (fd < 0 || write(fd, cmds[i], strlen(cmds[i])) < 0) {
			printf("kmemleak: %s: %s\n", cmds[i], strerror(errno));
			return 1;
		}
		close(fd);
	}
	printf("kmemleak: boot-time suspects cleared\n");
	return 0;
}
