/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the make-bench programs (tools/vm/suites/bench/src/): timing, the
 * interleaved and repeated measurement loop, and the output format that
 * tools/bench/report.py parses:
 *
 *   BENCH <case> <variant> <metric> <rep> <value>   one raw sample
 *   BENCHSKIP <case> <variant> <reason...>          a variant that could not run
 *   BENCHINFO <key> <text...>                       context (kernel, mode, units)
 *
 * Every sample is measured with CLOCK_MONOTONIC. In each repetition every variant
 * of a case runs once, in an order that rotates from one repetition to the next,
 * so that slow drifts of the (emulated) machine hit all variants alike.
 * BENCH_MODE=smoke (environment; in the guest from the kernel command line) makes
 * every case short: it then only proves that the programs run.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static inline double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static inline int bench_smoke(void)
{
	const char *m = getenv("BENCH_MODE");

	return m && strcmp(m, "smoke") == 0;
}

static inline void bench_skip(const char *cas, const char *var, const char *fmt, ...)
{
	va_list ap;

	printf("BENCHSKIP %s %s ", cas, var);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/*
 * One variant of a case: run() performs @iters operations, returns 0 or -errno.
 * A variant whose operations cannot run in the calling thread (B5's vas_switch round
 * trip runs on a thread of its own, in memory attached to an address space) has
 * run_timed() instead: it performs @iters operations and stores in *ns their time,
 * read with CLOCK_MONOTONIC just before the first and just after the last, so that
 * starting and joining that thread is not counted.
 */
struct variant {
	const char *name;
	int (*run)(long iters);
	int skip;		/* set by the case when the variant cannot run */
	long iters;		/* calibrated */
	int (*run_timed)(long iters, double *ns);
};

/* One sample of @v: returns 0 or -errno, *ns the time of @iters operations. */
static inline int run_variant(struct variant *v, long iters, double *ns)
{
	double t;
	int r;

	if (v->run_timed)
		return v->run_timed(iters, ns);
	t = now_ns();
	r = v->run(iters);
	*ns = now_ns() - t;
	return r;
}

/*
 * Calibrate each variant so that one sample takes about @sample_ms, then take
 * @reps samples of each variant, interleaved in rotating order. Prints
 * "BENCH case variant metric rep ns-per-operation". A variant whose run() fails is
 * reported with BENCHSKIP and dropped; returns the number of failures.
 */
static inline int run_case(const char *cas, const char *metric, struct variant *v, int nv,
			   int reps, double sample_ms)
{
	int failed = 0;

	for (int i = 0; i < nv; i++) {
		long it = 1;
		double t;
		int r;

		if (v[i].skip)
			continue;
		for (;;) {
			r = run_variant(&v[i], it, &t);
			if (r < 0) {
				bench_skip(cas, v[i].name, "failed: %s", strerror(-r));
				v[i].skip = 1;
				failed++;
				break;
			}
			if (t >= sample_ms * 1e6 / 4 || it >= (1L << 24))
				break;
			it *= 4;
		}
		if (!v[i].skip) {
			v[i].iters = (long)(it * (sample_ms * 1e6) / (t > 1 ? t : 1));
			if (v[i].iters < 1)
				v[i].iters = 1;
		}
	}
	for (int rep = 0; rep < reps; rep++) {
		for (int k = 0; k < nv; k++) {
			struct variant *x = &v[(rep + k) % nv];
			double t;
			int r;

			if (x->skip)
				continue;
			r = run_variant(x, x->iters, &t);
			if (r < 0) {
				bench_skip(cas, x->name, "failed in repetition %d: %s", rep, strerror(-r));
				x->skip = 1;
				failed++;
				continue;
			}
			printf("BENCH %s %s %s %d %.1f\n", cas, x->name, metric, rep, t / x->iters);
		}
		fflush(stdout);
	}
	return failed;
}

/* The syslet numbers 463-467 are other calls (the xattrat family) from Linux 6.13 on. */
static inline int kernel_numbers_are_ours(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return 0;
	return major < 6 || (major == 6 && minor < 13);
}

/* 1 if sys_async_exec is there (a size of 0 is EINVAL), else 0 with *why set. */
static inline int have_syslets(const char **why)
{
	long r;

	if (!kernel_numbers_are_ours()) {
		*why = "not measured: no syslets in this kernel (>= 6.13, 463 is another call)";
		return 0;
	}
	errno = 0;
	r = syscall(463, NULL, 0);
	if (r == -1 && errno == EINVAL)
		return 1;
	*why = "not measured: no syslets in this kernel (async_exec: ENOSYS)";
	return 0;
}

static inline void bench_info_kernel(void)
{
	struct utsname u;

	uname(&u);
	printf("BENCHINFO kernel %s %s %s, %ld cpus\n", u.sysname, u.release, u.machine,
	       sysconf(_SC_NPROCESSORS_ONLN));
	printf("BENCHINFO mode %s\n", bench_smoke() ? "smoke" : "full");
#ifdef SHIM_SOURCE
	printf("BENCHINFO shim_source %s\n", SHIM_SOURCE);
#endif
	fflush(stdout);
}

/* The "processes" line of /proc/stat: tasks (processes and threads) created since boot. */
static inline long forks_since_boot(void)
{
	char line[256];
	long n = -1;
	FILE *f = fopen("/proc/stat", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "processes %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

#endif
