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
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define KMEMLEAK "/sys/kernel/debug/kmemleak"

static int kmemleak_cmd(const char *cmd)
{
	int fd = open(KMEMLEAK, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, cmd, strlen(cmd));
	close(fd);
	return n < 0 ? -errno : 0;
}

int main(void)
{
	char buf[4096];
	int fd, leaks = 0, bytes = 0;
	ssize_t n;

	mkdir("/sys/kernel/debug", 0755);
	mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	if (access(KMEMLEAK, F_OK)) {
		printf("SKIP: kernel without kmemleak (%s)\n", strerror(errno));
		return 4;
	}
	/* Let objects freed late (RCU, retiring pool threads) go, then scan twice. */
	sleep(6);
	if (kmemleak_cmd("scan")) {
		printf("kmemleak: scan failed: %s\n", strerror(errno));
		return 1;
	}
	sleep(6);
	kmemleak_cmd("scan");
	fd = open(KMEMLEAK, O_RDONLY);
	if (fd < 0) {
		printf("kmemleak: %s\n", strerror(errno));
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		char *p = buf;

		buf[n] = '\0';
		bytes += n;
		fputs(buf, stdout);
		while ((p = strstr(p, "unreferenced object"))) {
			leaks++;
			p++;
		}
	}
	close(fd);
	printf("kmemleak: %d unreferenced object(s) (%d bytes of report)\n", leaks, bytes);
	return leaks ? 1 : 0;
}
