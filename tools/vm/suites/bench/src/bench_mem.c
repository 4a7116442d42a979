// SPDX-License-Identifier: GPL-2.0
/*
 * make bench, in the guest: case B7, kernel memory per pending chain and per pooled
 * thread. Kernel memory counters from /proc/meminfo (Slab, SUnreclaim, KernelStack,
 * PageTables) and /proc/slabinfo when the kernel has it, read:
 *
 *   before   nothing of ours exists
 *   pending  N chains pending, each a read() of an empty pipe (each holds a task)
 *   idle     the chains released and completed; their tasks wait in the pools (idle
 *            pool threads retire after 5 s, we read well before)
 *   after    every process gone, counters settled
 *
 * and, for reference, "threads": N plain pthreads blocked in the same read().
 *
 * A process's pool has at most ASYNC_POOL_MAX (4096) threads and each pending chain
 * holds one, so N chains are spread over several processes of at most PER_PROC each.
 * A chain that found no pool thread would run in the caller and block the submitter
 * for good; every child has an alarm so that this shows as a failure, never a hang.
 * Raw numbers: BENCH B7 <variant> <metric> 0 <value>.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/async.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include "bench_common.h"

#define NR_ASYNC_EXEC 463
#define NR_ASYNC_WAIT 464
#define PER_PROC 3400
#define MAXPROC 8

struct counters {
	long slab, sunreclaim, kstack, ptables;	/* kB */
	long slabinfo;				/* bytes of active objects, -1 if none */
};

/* The number after "KEY:" in a /proc file of KEY: VALUE lines, -1 if absent. */
static long proc_field(const char *path, const char *key)
{
	char line[256];
	size_t n = strlen(key);
	long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':') {
			v = atol(line + n + 1);
			break;
		}
	fclose(f);
	return v;
}

static long meminfo(const char *key)
{
	return proc_field("/proc/meminfo", key);
}

static long slabinfo_bytes(void)
{
	char line[512], name[128];
	long active, num, size, total = 0;
	FILE *f = fopen("/proc/slabinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%127s %ld %ld %ld", name, &active, &num, &size) == 4)
			total += active * size;
	fclose(f);
	return total;
}

static void read_counters(struct counters *c)
{
	c->slab = meminfo("Slab");
	c->sunreclaim = meminfo("SUnreclaim");
	c->kstack = meminfo("KernelStack");
	c->ptables = meminfo("PageTables");
	c->slabinfo = slabinfo_bytes();
}

static void print_counters(const char *var, const char *phase, const struct counters *c)
{
	printf("BENCH B7 %s %s_slab_kb 0 %ld\n", var, phase, c->slab);
	printf("BENCH B7 %s %s_sunreclaim_kb 0 %ld\n", var, phase, c->sunreclaim);
	printf("BENCH B7 %s %s_kernelstack_kb 0 %ld\n", var, phase, c->kstack);
	printf("BENCH B7 %s %s_pagetables_kb 0 %ld\n", var, phase, c->ptables);
	if (c->slabinfo >= 0)
		printf("BENCH B7 %s %s_slabinfo_bytes 0 %ld\n", var, phase, c->slabinfo);
}

static long status_field(pid_t pid, const char *key)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	return proc_field(path, key);
}

/* ---- child: n chains (or n threads) blocked on one pipe ------------------------------ */
static int data_pipe[2];
static int n_ops, use_threads;
static struct async_ring *ring;
static unsigned int ring_entries;
static char *bufs;
static volatile long submitted;
static volatile int submit_err;

static void *submitter(void *unused)
{
	struct async_atom atom = { .nr = __NR_read };
	struct async_args a = { .atoms = (uintptr_t)&atom, .nr_atoms = 1,
				.eventfd = ASYNC_NO_EVENTFD };

	(void)unused;
	a.ring = (uintptr_t)ring;
	for (int i = 0; i < n_ops; i++) {
		long r;

		atom.args[0] = data_pipe[0];
		atom.args[1] = (uintptr_t)&bufs[i];
		atom.args[2] = 1;
		a.cookie = i;
		r = syscall(NR_ASYNC_EXEC, &a, sizeof(a));
		if (r != ASYNC_EXEC_WENT_ASYNC) {
			submit_err = r < 0 ? errno : EPROTO;
			break;
		}
		submitted = i + 1;
	}
	return NULL;
}

static void *blocked_reader(void *arg)
{
	char *b = arg;

	return (void *)(intptr_t)(read(data_pipe[0], b, 1) == 1);
}

/* ctl: parent -> child commands ('r' release, 'x' exit); rep: child -> parent reports */
static void child(int ctl, int rep)
{
	char cmd, msg[128];
	long done = 0;
	static pthread_t *threads;

	alarm(240);
	if (pipe(data_pipe))
		_exit(1);
	bufs = calloc(n_ops, 1);
	if (use_threads) {
		pthread_attr_t attr;

		threads = calloc(n_ops, sizeof(*threads));
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 16384 + 4096);
		for (; submitted < n_ops; submitted++)
			if ((submit_err = pthread_create(&threads[submitted], &attr, blocked_reader,
							 &bufs[submitted])))
				break;
	} else {
		pthread_t t;

		ring_entries = 4096;
		ring = calloc(1, sizeof(*ring) + ring_entries * sizeof(struct async_completion));
		ring->entries = ring_entries;
		/* From a thread that is not the leader: the leader's chains never go async. */
		pthread_create(&t, NULL, submitter, NULL);
		pthread_join(t, NULL);
	}
	snprintf(msg, sizeof(msg), "%ld %d\n", submitted, submit_err);
	if (write(rep, msg, strlen(msg)) < 0)
		_exit(1);
	if (read(ctl, &cmd, 1) != 1 || cmd != 'r')
		_exit(1);
	/* Release: one byte per blocked read; then collect what completed. */
	for (long i = 0; i < submitted; i++)
		if (write(data_pipe[1], "x", 1) != 1)
			_exit(1);
	if (use_threads) {
		for (long i = 0; i < submitted; i++) {
			void *ok;

			pthread_join(threads[i], &ok);
			done += !!ok;
		}
	} else {
		while (done < submitted) {
			uint32_t head = ring->head;
			uint32_t tail = __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE);

			if (head == tail) {
				if (syscall(NR_ASYNC_WAIT, ring, 1, NULL, 0) < 0 && errno != EINTR)
					break;
				continue;
			}
			for (; head != tail; head++)
				done += ring->cqes[head & (ring_entries - 1)].status == 1;
			__atomic_store_n(&ring->head, head, __ATOMIC_RELEASE);
		}
	}
	snprintf(msg, sizeof(msg), "%ld\n", done);
	if (write(rep, msg, strlen(msg)) < 0)
		_exit(1);
	if (read(ctl, &cmd, 1) != 1 || cmd != 'x')
		_exit(1);
	_exit(0);
}

static int read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;

	while (n + 1 < len && read(fd, &buf[n], 1) == 1)
		if (buf[n++] == '\n')
			break;
	buf[n] = '\0';
	return n > 0 ? 0 : -1;
}

/* Wait until the counters stop moving (tasks are freed after an RCU grace period). */
static void settle(struct counters *c)
{
	struct counters prev;

	read_counters(c);
	for (int i = 0; i < 40; i++) {
		usleep(250000);
		prev = *c;
		read_counters(c);
		if (i >= 3 && c->slab == prev.slab && c->kstack == prev.kstack)
			break;
	}
}

/* One variant: N chains or N threads; returns -1 if it could not run at all. */
static int measure(const char *var, long n, int threads)
{
	int nproc = (n + PER_PROC - 1) / PER_PROC, ctl[MAXPROC][2], rep[MAXPROC][2];
	pid_t pids[MAXPROC];
	long pending = 0, done = 0, pool = 0, nthreads = 0;
	struct counters before, pend, idle, after;
	char line[128];
	double t0;
	int ok = 1;

	if (nproc > MAXPROC)
		nproc = MAXPROC;
	settle(&before);
	t0 = now_ns();
	use_threads = threads;
	for (int p = 0; p < nproc; p++) {
		n_ops = n / nproc + (p < n % nproc);
		if (pipe(ctl[p]) || pipe(rep[p]))
			return -1;
		pids[p] = fork();
		if (pids[p] == 0) {
			close(ctl[p][1]);
			close(rep[p][0]);
			child(ctl[p][0], rep[p][1]);
		}
		close(ctl[p][0]);
		close(rep[p][1]);
	}
	for (int p = 0; p < nproc; p++) {
		long s = 0;
		int e = 0;

		if (read_line(rep[p][0], line, sizeof(line)) || sscanf(line, "%ld %d", &s, &e) < 1) {
			bench_skip("B7", var, "child %d died while submitting", p);
			ok = 0;
			continue;
		}
		if (e)
			printf("BENCHINFO B7 %s child %d stopped after %ld of %ld: %s\n", var, p, s,
			       n / nproc + (p < n % nproc), strerror(e));
		pending += s;
	}
	printf("BENCH B7 %s setup_s 0 %.2f\n", var, (now_ns() - t0) / 1e9);
	sleep(1);
	read_counters(&pend);
	for (int p = 0; p < nproc; p++)
		nthreads += status_field(pids[p], "Threads");
	for (int p = 0; p < nproc; p++)
		if (write(ctl[p][1], "r", 1) != 1)
			ok = 0;
	for (int p = 0; p < nproc; p++) {
		if (read_line(rep[p][0], line, sizeof(line))) {
			ok = 0;
			continue;
		}
		done += atol(line);
	}
	usleep(500000);
	read_counters(&idle);
	for (int p = 0; p < nproc; p++) {
		long t = status_field(pids[p], "AsyncPoolThreads");

		pool += t > 0 ? t : 0;
	}
	for (int p = 0; p < nproc; p++) {
		if (write(ctl[p][1], "x", 1) != 1)
			kill(pids[p], SIGKILL);
		close(ctl[p][1]);
		close(rep[p][0]);
	}
	for (int p = 0; p < nproc; p++) {
		int st;

		waitpid(pids[p], &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			bench_skip("B7", var, "child %d ended with status %#x", p, st);
			ok = 0;
		}
	}
	settle(&after);
	printf("BENCH B7 %s processes 0 %d\n", var, nproc);
	printf("BENCH B7 %s requested 0 %ld\n", var, n);
	printf("BENCH B7 %s pending 0 %ld\n", var, pending);
	printf("BENCH B7 %s completed 0 %ld\n", var, done);
	printf("BENCH B7 %s threads_while_pending 0 %ld\n", var, nthreads);
	if (!threads)
		printf("BENCH B7 %s pool_threads_idle 0 %ld\n", var, pool);
	print_counters(var, "before", &before);
	print_counters(var, "pending", &pend);
	if (!threads)
		print_counters(var, "idle", &idle);
	print_counters(var, "after", &after);
	fflush(stdout);
	return ok && pending > 0 ? 0 : -1;
}

int main(void)
{
	const char *why;
	long n = bench_smoke() ? 300 : 10000;
	int fails = 0;
	FILE *f;

	setvbuf(stdout, NULL, _IOLBF, 0);
	bench_info_kernel();
	/* 10,000 blocked tasks need more than the default threads-max of a 1 GiB guest. */
	f = fopen("/proc/sys/kernel/threads-max", "r+");
	if (f) {
		long tm = 0;

		if (fscanf(f, "%ld", &tm) == 1 && tm < 4 * n) {
			rewind(f);
			fprintf(f, "%ld\n", 4 * n);
		}
		fclose(f);
	}
	printf("BENCHINFO B7 slabinfo %s\n", access("/proc/slabinfo", R_OK) ? "absent" : "present");
	if (have_syslets(&why))
		fails += measure("chains", n, 0) < 0;
	else
		bench_skip("B7", "chains", "%s", why);
	fails += measure("threads", n < 3000 ? n : 3000, 1) < 0;
	printf("BENCHINFO done bench_mem\n");
	return fails ? 1 : 0;
}
