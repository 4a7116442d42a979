/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the async selftests. */
#ifndef ASYNC_UTIL_H
#define ASYNC_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/async.h>
#include <sys/mman.h>
#include <sys/syscall.h>

/*
 * R08: the user structures have one layout on every architecture, in
 * both byte orders and for 32-bit (compat) programs as well. Checked
 * wherever these tests are built, against the numbers in the
 * documentation: each field's offset, and each structure's size.
 */
#define ABI_FIELD(type, field, offset)					\
	static_assert(offsetof(struct type, field) == (offset),		\
		      #type "." #field " moved")
ABI_FIELD(async_atom, nr, 0);
ABI_FIELD(async_atom, reserved, 2);
ABI_FIELD(async_atom, stop, 4);
ABI_FIELD(async_atom, ref_mask, 6);
ABI_FIELD(async_atom, args, 8);
ABI_FIELD(async_atom, result, 56);
static_assert(sizeof(struct async_atom) == 64, "async_atom size");
ABI_FIELD(async_completion, cookie, 0);
ABI_FIELD(async_completion, status, 8);
ABI_FIELD(async_completion, index, 16);
ABI_FIELD(async_completion, flags, 20);
static_assert(sizeof(struct async_completion) == 24, "async_completion size");
ABI_FIELD(async_ring, head, 0);
ABI_FIELD(async_ring, tail, 4);
ABI_FIELD(async_ring, entries, 8);
ABI_FIELD(async_ring, reserved, 12);
ABI_FIELD(async_ring, cqes, 16);
static_assert(sizeof(struct async_ring) == 16, "async_ring size");
ABI_FIELD(async_args, atoms, 0);
ABI_FIELD(async_args, nr_atoms, 8);
ABI_FIELD(async_args, eventfd, 12);
ABI_FIELD(async_args, flags, 16);
ABI_FIELD(async_args, ring, 24);
ABI_FIELD(async_args, cookie, 32);
ABI_FIELD(async_args, reserved, 40);
ABI_FIELD(async_args, status, 48);
ABI_FIELD(async_args, index, 56);
ABI_FIELD(async_args, out_flags, 60);
static_assert(sizeof(struct async_args) == ASYNC_ARGS_SIZE_VER0, "async_args size");
ABI_FIELD(async_thread_args, fn, 0);
ABI_FIELD(async_thread_args, arg, 8);
ABI_FIELD(async_thread_args, stack, 16);
ABI_FIELD(async_thread_args, stack_size, 24);
ABI_FIELD(async_thread_args, restorer, 32);
ABI_FIELD(async_thread_args, ring, 40);
ABI_FIELD(async_thread_args, cookie, 48);
ABI_FIELD(async_thread_args, result, 56);
ABI_FIELD(async_thread_args, flags, 64);
ABI_FIELD(async_thread_args, eventfd, 68);
ABI_FIELD(async_thread_args, status, 72);
static_assert(sizeof(struct async_thread_args) == ASYNC_THREAD_ARGS_SIZE_VER0,
	      "async_thread_args size");

/* A 32-bit build of these tests runs as a compat task. */
#define COMPAT_TASK	(sizeof(long) == 4)

#ifndef __NR_async_exec
#define __NR_async_exec		463
#define __NR_async_wait		464
#define __NR_async_cancel	465
#endif

static inline long async_exec(struct async_args *args)
{
	return syscall(__NR_async_exec, args, sizeof(*args));
}

static inline long async_wait(struct async_ring *ring, unsigned int min,
			      struct timespec *ts, unsigned int flags)
{
	return syscall(__NR_async_wait, ring, min, ts, flags);
}

static inline long async_cancel(struct async_ring *ring, uint64_t cookie,
				unsigned int flags)
{
	return syscall(__NR_async_cancel, ring, cookie, flags);
}

static inline pid_t gettid_raw(void)
{
	return syscall(SYS_gettid);
}

/* The errno of a system call that does not exist. */
static inline int nosys_errno(void)
{
	syscall(-1L);
	return errno;
}

static inline bool async_available(void)
{
	struct async_args a = {};
	int nosys = nosys_errno();

	return !(syscall(__NR_async_exec, &a, sizeof(a)) < 0 && errno == nosys);
}

#define NO_ASYNC "kernel built without CONFIG_ASYNC_SYSCALLS"

/* A counter from the Async* lines of /proc/self/status, -1 if absent. */
static inline long async_status(const char *key)
{
	char line[128];
	size_t len = strlen(key);
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && line[len] == ':') {
			v = strtol(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* Entries in a /proc directory (tasks, fds), -1 if it cannot be read. */
static inline int count_dir(const char *path)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(path);

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static inline struct async_ring *ring_new(unsigned int entries, uint32_t start)
{
	size_t len = sizeof(struct async_ring) +
		     entries * sizeof(struct async_completion);
	struct async_ring *r;

	r = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED)
		return NULL;
	r->entries = entries;
	r->head = start;
	r->tail = start;
	return r;
}

static inline void atom_set(struct async_atom *a, long nr, unsigned int stop,
			    uint64_t a0, uint64_t a1, uint64_t a2)
{
	memset(a, 0, sizeof(*a));
	a->nr = nr;
	a->stop = stop;
	a->args[0] = a0;
	a->args[1] = a1;
	a->args[2] = a2;
}

static inline void args_set(struct async_args *args, struct async_atom *atoms,
			    unsigned int n, struct async_ring *ring,
			    uint64_t cookie)
{
	memset(args, 0, sizeof(*args));
	args->atoms = (uintptr_t)atoms;
	args->nr_atoms = n;
	args->ring = (uintptr_t)ring;
	args->cookie = cookie;
	args->eventfd = ASYNC_NO_EVENTFD;
}

/* Is task @tid of process @pid a kernel thread (PF_KTHREAD)? */
static inline bool task_is_kthread(const char *pid, const char *tid)
{
	char path[2 * 256 + 32], buf[512], *p;
	unsigned long flags = 0;
	bool kthread = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/task/%s/stat", pid, tid);
	f = fopen(path, "r");
	if (!f)
		return false;
	/* The flags are the sixth field after the command's ")". */
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	if (p && sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) == 1)
		kthread = flags & 0x00200000;
	fclose(f);
	return kthread;
}

/*
 * Tasks in the system that are not kernel threads: every thread of every
 * process, pool threads included. Kernel threads (kworkers) come and go
 * on their own, so they are not counted.
 */
static inline int count_system_threads(void)
{
	DIR *proc = opendir("/proc"), *task;
	struct dirent *pe, *te;
	char path[256 + 16];
	int total = 0;

	if (!proc)
		return -1;
	while ((pe = readdir(proc))) {
		if (pe->d_name[0] < '1' || pe->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/task", pe->d_name);
		task = opendir(path);
		if (!task)
			continue;	/* it has just exited */
		while ((te = readdir(task)))
			if (te->d_name[0] != '.' &&
			    !task_is_kthread(pe->d_name, te->d_name))
				total++;
		closedir(task);
	}
	closedir(proc);
	return total;
}

/* Pop one completion; -1 if the ring is empty. */
static inline int ring_pop(struct async_ring *ring, struct async_completion *out)
{
	uint32_t head = ring->head;

	if (__atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE) == head)
		return -1;
	*out = ring->cqes[head & (ring->entries - 1)];
	__atomic_store_n(&ring->head, head + 1, __ATOMIC_RELEASE);
	return 0;
}

/*
 * Handoff tests run their body in a second thread: the leader's chains
 * never go async. CHECK() returns the failing line to the test.
 */
static __thread long failed_line;

static inline bool check(bool ok, const char *file, const char *what,
			 int line)
{
	if (!ok) {
		fprintf(stderr, "%s:%d: %s failed (errno %d)\n",
			file, line, what, errno);
		if (!failed_line)
			failed_line = line;
	}
	return ok;
}

#define CHECK(c) check(c, __FILE__, #c, __LINE__)

/* What a CHECK()ed thread returns: 0, or the line of its first failure. */
static inline void *failed(void)
{
	return (void *)failed_line;
}

#define FAILED() failed()

static inline long in_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	void *ret;

	if (pthread_create(&t, NULL, fn, arg))
		return -1;
	pthread_join(t, &ret);
	return (long)ret;
}

#ifdef __powerpc__
/*
 * System call @nr issued by hand with live FP, VMX and VSX registers and
 * an FPSCR rounding mode: @in (8 doublewords) goes to
 * v18, v19 (vs50, vs51) and f28-f31 (the first doublewords of vs28-vs31)
 * before the call, @out gets them after it, @rn_out the rounding mode
 * after it. Round to nearest is set again before returning. Returns what
 * the call returns, -errno on error.
 */
static inline long ppc_fp_syscall(long nr, long a0, long a1, long a2,
				  const uint64_t *in, uint64_t *out,
				  unsigned int rn_in, unsigned int *rn_out)
{
	register long r0 asm("r0") = nr;
	register long r3 asm("r3") = a0;
	register long r4 asm("r4") = a1;
	register long r5 asm("r5") = a2;
	uint64_t fpscr_in = rn_in & 3, fpscr_out = 0;

	asm volatile(".machine push\n\t"
		     ".machine \"power7\"\n\t"
		     "lxvd2x 50,0,%[in]\n\t"
		     "lxvd2x 51,%[o16],%[in]\n\t"
		     "lfd 28,32(%[in])\n\t"
		     "lfd 29,40(%[in])\n\t"
		     "lfd 30,48(%[in])\n\t"
		     "lfd 31,56(%[in])\n\t"
		     "lfd 0,0(%[fi])\n\t"
		     "mtfsf 1,0\n\t"
		     "sc\n\t"
		     "bns+ 1f\n\t"
		     "neg %[r3],%[r3]\n"
		     "1:\n\t"
		     "stxvd2x 50,0,%[out]\n\t"
		     "stxvd2x 51,%[o16],%[out]\n\t"
		     "stfd 28,32(%[out])\n\t"
		     "stfd 29,40(%[out])\n\t"
		     "stfd 30,48(%[out])\n\t"
		     "stfd 31,56(%[out])\n\t"
		     "mffs 0\n\t"
		     "stfd 0,0(%[fo])\n\t"
		     "mtfsfi 7,0\n\t"
		     ".machine pop"
		     : [r3] "+r" (r3), "+r" (r0), "+r" (r4), "+r" (r5)
		     : [in] "b" (in), [out] "b" (out), [o16] "r" (16L),
		       [fi] "b" (&fpscr_in), [fo] "b" (&fpscr_out)
		     : "r6", "r7", "r8", "r9", "r10", "r11", "r12", "cr0",
		       "ctr", "xer", "memory", "fr0", "fr28", "fr29", "fr30",
		       "fr31", "v18", "v19");
	*rn_out = fpscr_out & 3;
	return r3;
}
#endif

#endif /* ASYNC_UTIL_H */
