/* SPDX-License-Identifier: GPL-2.0 */
/* kmemleak's debugfs interface, shared by kmemleak.c and ../kmemleak-clear/. */
#ifndef VM_KMEMLEAK_H
#define VM_KMEMLEAK_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define KMEMLEAK "/sys/kernel/debug/kmemleak"
#define KSFT_SKIP 4

/* Mount debugfs; 0 if kmemleak is there, else prints the SKIP reason and returns 4. */
static int kmemleak_available(void)
{
	mkdir("/sys/kernel/debug", 0755);
	mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	if (access(KMEMLEAK, F_OK)) {
		printf("SKIP: kernel without kmemleak (%s)\n", strerror(errno));
		return KSFT_SKIP;
	}
	return 0;
}

/* Write one command ("scan", "clear", ...); 0, or -1 after printing why. */
static int kmemleak_cmd(const char *cmd)
{
	int fd = open(KMEMLEAK, O_WRONLY);
	ssize_t n = -1;

	if (fd >= 0) {
		n = write(fd, cmd, strlen(cmd));
		close(fd);
	}
	if (n < 0) {
		printf("kmemleak: %s: %s\n", cmd, strerror(errno));
		return -1;
	}
	return 0;
}

#endif
