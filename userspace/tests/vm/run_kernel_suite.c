/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Guest-side launcher: the library's test suite on the kernel (syslet)
 * backend, inside the QEMU guest of tools/vm (suite tools/vm/suites/asyncaio).
 *
 * The VM's /init runs programs without arguments or environment and judges
 * them by exit code, so this program sets the environment and runs
 * asyncaio_tests_static (next to it in the guest's /tests/asyncaio/) the way
 * CTest runs it on the host: every Catch2 test case of [conformance], [cxx]
 * and [stress] in its own process, then the request-limit case ([.limits],
 * ASYNCAIO_MAX_REQUESTS=8), then the drop-in program (dropin.c statically
 * linked with libasyncaio.a; its ASYNCAIO_STATS report must show that the
 * kernel backend served all its requests).
 *
 * Output is kselftest-style TAP (/init prefixes it with "# "): one
 * "ok N name", "ok N name # SKIP reason" or "not ok N name # why" per case,
 * then "# Totals: pass:P fail:F xfail:0 xpass:0 skip:S error:0".
 *
 * Exit: 1 if any case failed or timed out; 4 (kselftest SKIP) if the kernel
 * backend is not available at all (the test binary's exit 77, with its
 * reason) or every case skipped; 0 otherwise.  A case that cannot run on
 * this kernel skips with a reason (the test's "SKIP: ..." line, exit 77);
 * it never counts as a pass.
 *
 * Built by tools/vm/suites/asyncaio/build.sh: gcc -static -O2 run_kernel_suite.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TESTS "./asyncaio_tests_static"
#define DROPIN "./dropin_static"
#define FILTER "[conformance],[cxx],[stress],[threadlet]"
/* -DBACKEND='"threads"' gives a host dry run of this launcher on the thread pool. */
#ifndef BACKEND
#define BACKEND "kernel"
#endif
#define CASE_TIMEOUT 240	/* seconds per test case; stress under TCG takes tens */
#define MAX_CASES 256

struct outcome {
	int status;		/* wait status, or -1 on timeout */
	char reason[256];	/* text after "SKIP: " in the output, if any */
};

static pid_t child;

static void on_alarm(int sig)
{
	(void)sig;
	if (child > 0)
		kill(-child, SIGKILL);
}

/*
 * Run argv with extra environment entries ("NAME=value", NULL-terminated),
 * copy its output to ours, remember the first "SKIP: " reason.
 * If capture is given, the output goes there instead of to stdout.
 */
static struct outcome run(char *const argv[], const char *const env[], int timeout, FILE *capture)
{
	struct outcome o = { .status = 1 << 8 };
	struct sigaction sa = { .sa_handler = on_alarm };
	char line[4096];
	int pfd[2];
	FILE *in;

	fflush(stdout);
	if (pipe(pfd))
		return o;
	child = fork();
	if (child < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return o;
	}
	if (child == 0) {
		setpgid(0, 0);
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		close(pfd[0]);
		close(pfd[1]);
		for (; env && *env; env++)
			putenv((char *)*env);
		execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	sigaction(SIGALRM, &sa, NULL);
	alarm(timeout);
	in = fdopen(pfd[0], "r");
	while (in && fgets(line, sizeof(line), in)) {
		const char *s = strstr(line, "SKIP: ");

		if (s && !o.reason[0]) {
			snprintf(o.reason, sizeof(o.reason), "%s", s + 6);
			o.reason[strcspn(o.reason, "\r\n")] = '\0';
		}
		fputs(line, capture ? capture : stdout);
	}
	if (in)
		fclose(in);
	else
		close(pfd[0]);
	while (waitpid(child, &o.status, 0) < 0 && errno == EINTR)
		;
	if (alarm(0) == 0 && WIFSIGNALED(o.status) && WTERMSIG(o.status) == SIGKILL)
		o.status = -1;
	kill(-child, SIGKILL);	/* anything the case left in its process group */
	child = 0;
	return o;
}

/* A Catch2 test name as a test spec: ',', '[', ']' and '\' escaped. */
static char *spec(const char *name)
{
	char *s = malloc(2 * strlen(name) + 1), *p = s;

	for (; s && *name; name++) {
		if (strchr(",[]\\", *name))
			*p++ = '\\';
		*p++ = *name;
	}
	if (s)
		*p = '\0';
	return s;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int n, pass, fail, skip;

/* Judge one case: exit 0 passes, 77 skips (with its reason), anything else fails. */
static void report(const char *name, struct outcome o, double secs)
{
	n++;
	printf("%s: %.1f s\n", name, secs);
	if (o.status == -1) {
		printf("not ok %d %s # TIMEOUT %d seconds\n", n, name, CASE_TIMEOUT);
		fail++;
	} else if (WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0) {
		printf("ok %d %s\n", n, name);
		pass++;
	} else if (WIFEXITED(o.status) && WEXITSTATUS(o.status) == 77) {
		printf("ok %d %s # SKIP %s\n", n, name, o.reason[0] ? o.reason : "(no reason given)");
		skip++;
	} else {
		printf("not ok %d %s # %s=%d\n", n, name, WIFEXITED(o.status) ? "exit" : "signal",
		       WIFEXITED(o.status) ? WEXITSTATUS(o.status) : WTERMSIG(o.status));
		fail++;
	}
	fflush(stdout);
}

/* The drop-in program, linked statically with the shim, on the kernel backend. */
static void dropin(void)
{
	static const char *const env[] = { "ASYNCAIO_STATS=/tmp/asyncaio-dropin.stats",
					   "ASYNCAIO_BACKEND=" BACKEND, NULL };
	char *argv[] = { DROPIN, NULL };
	char stats[512] = "";
	struct outcome o;
	double t0 = now();
	FILE *f;

	unlink("/tmp/asyncaio-dropin.stats");
	o = run(argv, env, CASE_TIMEOUT, NULL);
	f = fopen("/tmp/asyncaio-dropin.stats", "r");
	if (f) {
		if (!fgets(stats, sizeof(stats), f))
			stats[0] = '\0';
		fclose(f);
	}
	printf("stats: %s%s", stats[0] ? stats : "(no report)", stats[0] ? "" : "\n");
	/* 4 writes + 1 fsync + 4 reads, 4 SIGEV_SIGNALs (see tests/dropin/check.sh). */
	if (o.status == 0 && !(strstr(stats, " backend=" BACKEND " ") &&
			       strstr(stats, " submitted=9 completed=9 ") && strstr(stats, " signals=4 "))) {
		printf("FAIL: the report does not show 9 requests and 4 signals on the " BACKEND " backend\n");
		o.status = 1 << 8;
	}
	report("drop-in: dropin.c linked statically, " BACKEND " backend", o, now() - t0);
}

int main(void)
{
	static const char *const env[] = { "ASYNCAIO_BACKEND=" BACKEND, "ASYNCAIO_REQUIRE_BACKEND=" BACKEND,
					   "ASYNCAIO_TEST_SKIP_EXIT=1", NULL };
	static const char *const limits_env[] = { "ASYNCAIO_BACKEND=" BACKEND,
						  "ASYNCAIO_REQUIRE_BACKEND=" BACKEND,
						  "ASYNCAIO_TEST_SKIP_EXIT=1",
						  "ASYNCAIO_MAX_REQUESTS=8", NULL };
	char *names[MAX_CASES], line[1024];
	int ncases = 0;
	struct outcome o;
	FILE *list;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);

	/* Is the kernel backend there? A filter matching nothing: 0 yes, 77 no (and why). */
	{
		char *argv[] = { TESTS, "[.asyncaio-preflight]", NULL };

		o = run(argv, env, 60, NULL);
		if (WIFEXITED(o.status) && WEXITSTATUS(o.status) == 77) {
			printf("SKIP: " BACKEND " backend not available: %s\n", o.reason);
			return 4;
		}
		if (o.status != 0) {
			printf("FAIL: preflight of %s exited with status %#x\n", TESTS, o.status);
			return 1;
		}
	}

	/* The test cases, one process each, as CTest runs them on the host. */
	{
		char *argv[] = { TESTS, "--list-test-names-only", FILTER, NULL };

		list = tmpfile();
		if (!list)
			return 1;
		o = run(argv, env, 60, list);
		/* Catch2 v2 exits with the number of test cases listed. */
		if (o.status == -1 || !WIFEXITED(o.status)) {
			printf("FAIL: listing the test cases exited with status %#x\n", o.status);
			return 1;
		}
		rewind(list);
		while (fgets(line, sizeof(line), list) && ncases < MAX_CASES - 1) {
			line[strcspn(line, "\r\n")] = '\0';
			if (line[0])
				names[ncases++] = strdup(line);
		}
		fclose(list);
	}
	if (ncases == 0) {
		printf("FAIL: no test case matches %s\n", FILTER);
		return 1;
	}

	printf("TAP version 13\n1..%d\n", ncases + 2);
	for (int i = 0; i < ncases; i++) {
		char *argv[] = { TESTS, spec(names[i]), "-w", "NoTests", NULL };
		double t0 = now();

		o = run(argv, env, CASE_TIMEOUT, NULL);
		report(names[i], o, now() - t0);
		free(argv[1]);
	}
	{
		char *argv[] = { TESTS, "[.limits]", "-w", "NoTests", NULL };
		double t0 = now();

		o = run(argv, limits_env, CASE_TIMEOUT, NULL);
		report("request limit: EAGAIN beyond ASYNCAIO_MAX_REQUESTS=8", o, now() - t0);
	}
	dropin();

	printf("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0\n", pass, fail, skip);
	if (fail)
		return 1;
	return pass ? 0 : 4;
}
