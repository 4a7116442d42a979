// SPDX-License-Identifier: GPL-2.0
/*
 * /init of the test VMs: mounts the pseudo filesystems, runs every program listed in
 * /tests/kselftest-list.txt ("collection:program", as kselftest's own install writes it)
 * and prints TAP the way tools/testing/selftests/run_kselftest.sh does: each program's
 * output prefixed with "# ", then "ok N selftests: coll: prog" or "not ok ...".
 * Exit code 4 is a SKIP (kselftest's KSFT_SKIP). A program that outlives its timeout
 * (the collection's "settings" file, else 120 s) is killed and fails.
 *
 * The last line is "VMTEST-DONE pass=P fail=F skip=S"; the host's runner needs it to
 * tell a finished run from a hung or crashed kernel. Then the VM reboots (with
 * -no-reboot QEMU exits; a tinyconfig kernel has no ACPI, so power-off would hang).
 *
 * Built statically with the target's compiler; no libc beyond what any toolchain has.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LIST "/tests/kselftest-list.txt"
#define DEFAULT_TIMEOUT 120

static void mount_fs(const char *src, const char *dir, const char *type)
{
	mkdir(dir, 0755);
	if (mount(src, dir, type, 0, NULL) && errno != EBUSY)
		printf("# init: mount %s on %s: %s\n", type, dir, strerror(errno));
}

static int coll_timeout(const char *coll)
{
	char path[512], line[128];
	int t = DEFAULT_TIMEOUT;
	FILE *f;

	snprintf(path, sizeof(path), "/tests/%s/settings", coll);
	f = fopen(path, "r");
	if (!f)
		return t;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "timeout=%d", &t) == 1 && t <= 0)
			t = DEFAULT_TIMEOUT;
	fclose(f);
	return t;
}

/* Copy the child's output to the console, each line prefixed with "# ". */
static void relay(int fd)
{
	char buf[4096];
	int bol = 1;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
		for (ssize_t i = 0; i < n; i++) {
			if (bol)
				fputs("# ", stdout);
			putchar(buf[i]);
			bol = buf[i] == '\n';
		}
		fflush(stdout);
	}
	if (!bol)
		putchar('\n');
}

static pid_t running;

static void on_alarm(int sig)
{
	(void)sig;
	if (running > 0)
		kill(-running, SIGKILL);
}

/* Returns the wait status, or -1 when the program timed out. */
static int run_one(const char *coll, const char *prog, int timeout)
{
	char dir[512], path[1024];
	int pfd[2], status = 0, timed_out;
	struct sigaction sa = { .sa_handler = on_alarm };

	snprintf(dir, sizeof(dir), "/tests/%s", coll);
	snprintf(path, sizeof(path), "./%s", prog);
	if (pipe(pfd))
		return 1 << 8;
	running = fork();
	if (running == 0) {
		setpgid(0, 0);
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		close(pfd[0]);
		close(pfd[1]);
		if (chdir(dir) == 0)
			execl(path, prog, (char *)NULL);
		fprintf(stderr, "exec %s/%s: %s\n", dir, prog, strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	sigaction(SIGALRM, &sa, NULL);
	alarm(timeout);
	relay(pfd[0]);
	close(pfd[0]);
	while (waitpid(running, &status, 0) < 0 && errno == EINTR)
		;
	timed_out = alarm(0) == 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
	/* Reap anything the test left behind in its process group. */
	kill(-running, SIGKILL);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	running = 0;
	return timed_out ? -1 : status;
}

int main(void)
{
	char line[512];
	int total = 0, n = 0, pass = 0, fail = 0, skip = 0;
	struct timespec t0, t1;
	FILE *list;

	mount_fs("proc", "/proc", "proc");
	mount_fs("sysfs", "/sys", "sysfs");
	mount_fs("devtmpfs", "/dev", "devtmpfs");
	mount_fs("tmpfs", "/tmp", "tmpfs");
	mount_fs("tmpfs", "/run", "tmpfs");
	setenv("PATH", "/bin:/sbin:/usr/bin", 1);
	setenv("TMPDIR", "/tmp", 1);
	setvbuf(stdout, NULL, _IOLBF, 0);

	list = fopen(LIST, "r");
	if (!list) {
		printf("# init: %s: %s\n", LIST, strerror(errno));
		fail = 1;
		goto out;
	}
	while (fgets(line, sizeof(line), list))
		total += strchr(line, ':') != NULL;
	rewind(list);
	printf("TAP version 13\n1..%d\n", total);
	while (fgets(line, sizeof(line), list)) {
		char *prog = strchr(line, ':');
		const char *coll = line;
		int st;

		if (!prog)
			continue;
		*prog++ = '\0';
		prog[strcspn(prog, "\r\n")] = '\0';
		n++;
		printf("# selftests: %s: %s\n", coll, prog);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		st = run_one(coll, prog, coll_timeout(coll));
		clock_gettime(CLOCK_MONOTONIC, &t1);
		/* Guest time: how close the program came to its timeout. */
		printf("# selftests: %s: %s took %.1f s (timeout %d s)\n", coll, prog,
		       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
		       coll_timeout(coll));
		if (st < 0) {
			printf("not ok %d selftests: %s: %s # TIMEOUT %d seconds\n", n, coll, prog,
			       coll_timeout(coll));
			fail++;
		} else if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			printf("ok %d selftests: %s: %s\n", n, coll, prog);
			pass++;
		} else if (WIFEXITED(st) && WEXITSTATUS(st) == 4) {
			printf("ok %d selftests: %s: %s # SKIP\n", n, coll, prog);
			skip++;
		} else {
			printf("not ok %d selftests: %s: %s # %s=%d\n", n, coll, prog,
			       WIFEXITED(st) ? "exit" : "signal",
			       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
			fail++;
		}
	}
	fclose(list);
out:
	printf("VMTEST-DONE pass=%d fail=%d skip=%d\n", pass, fail, skip);
	fflush(stdout);
	sync();
	reboot(RB_AUTOBOOT);
	return 0;
}
