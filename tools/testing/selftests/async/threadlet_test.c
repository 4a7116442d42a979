// SPDX-License-Identifier: GPL-2.0
/*
 * Threadlets: async_thread() runs a function of ours on a stack of ours,
 * synchronously; only if it blocks does our context come back at once
 * ("went async", same thread id, same FPU state), while the function
 * finishes on its own task and posts its return value to the ring.
 * Test names carry the review requirement they check (rNN_*).
 *
 * The function's return address is thr_restorer, which hands the return
 * value to async_thread_return(), the way sa_restorer calls
 * rt_sigreturn(). The restorer and the register checks are written
 * for x86-64, i386, s390x and powerpc.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "async_util.h"

#ifndef __NR_async_thread
#define __NR_async_thread		466
#define __NR_async_thread_return	467
#endif

#define NO_ASYNC "kernel built without CONFIG_ASYNC_SYSCALLS"
#define STACK_SIZE (64 * 1024)

#ifdef __x86_64__
#define NO_ARCH NULL
/* The function's return value is in rax: make it the argument. */
__attribute__((naked)) static void thr_restorer(void)
{
	asm volatile("mov %rax, %rdi\n\t"
		     "mov $467, %eax\n\t"
		     "syscall\n\t"
		     "ud2");
}
#elif defined(__i386__)
#define NO_ARCH NULL
/* The same for an ia32 task: eax into ebx, the system call by int $0x80. */
__attribute__((naked)) static void thr_restorer(void)
{
	asm volatile("mov %eax, %ebx\n\t"
		     "mov $467, %eax\n\t"
		     "int $0x80\n\t"
		     "ud2");
}
#elif defined(__s390__)
#define NO_ARCH NULL
/*
 * The function's return value is in r2, where a call takes its first
 * argument: an ordinary function passes it on.
 */
static void thr_restorer(long value)
{
	syscall(__NR_async_thread_return, value);
	__builtin_trap();
}
#elif defined(__powerpc__)
#define NO_ARCH NULL
/*
 * The function returns to the restorer with its return value in r3,
 * where the restorer's own argument is: the restorer is a C function of
 * one argument. args->restorer is a plain function pointer (for ELFv1, a
 * function descriptor) like args->fn.
 */
static void thr_restorer(long value)
{
	register long r0 asm("r0") = __NR_async_thread_return;
	register long r3 asm("r3") = value;

	asm volatile("sc\n\t"
		     "trap" : : "r" (r0), "r" (r3) : "memory");
	__builtin_unreachable();
}
#else
#define NO_ARCH "threadlet tests have no restorer for this architecture"
static void thr_restorer(void) { }
#endif

static void *stack_new(void)
{
	void *s = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return s == MAP_FAILED ? NULL : s;
}

static void thr_args(struct async_thread_args *a, long (*fn)(void *),
		     void *arg, void *stack, struct async_ring *ring,
		     uint64_t cookie)
{
	memset(a, 0, sizeof(*a));
	a->fn = (uintptr_t)fn;
	a->arg = (uintptr_t)arg;
	a->stack = (uintptr_t)stack;
	a->stack_size = STACK_SIZE;
	a->restorer = (uintptr_t)thr_restorer;
	a->ring = (uintptr_t)ring;
	a->cookie = cookie;
	a->eventfd = ASYNC_NO_EVENTFD;
}

static long async_thread(struct async_thread_args *a)
{
	return syscall(__NR_async_thread, a, sizeof(*a));
}

/* Why threadlets cannot be tested here, or NULL. */
static const char *threadlets_missing(void)
{
	if (!async_available())
		return NO_ASYNC;
	return NO_ARCH;
}

/* --- functions run as threadlets ----------------------------------- */

static int ran;

static long fn_double(void *arg)
{
	__atomic_add_fetch(&ran, 1, __ATOMIC_RELAXED);
	return 2 * (long)(uintptr_t)arg;
}

struct rd {
	int fd;
	int out;
	char buf[16];
	long n;
	long ppid;
};

/* Raw system calls only: errno and the rest of our TLS are shared. */
static long fn_read(void *arg)
{
	struct rd *r = arg;

	r->n = syscall(SYS_read, r->fd, r->buf, sizeof(r->buf) - 1);
	return r->n;
}

/* Several calls, blocking and not; reads and writes its argument. */
static long fn_several(void *arg)
{
	struct rd *r = arg;
	long n;

	r->ppid = syscall(SYS_getppid);
	if (syscall(SYS_write, r->out, "ping", 4) != 4)
		return -1;
	n = syscall(SYS_read, r->fd, r->buf, sizeof(r->buf) - 1);
	if (n <= 0)
		return -2;
	if (syscall(SYS_write, r->out, r->buf, n) != n)
		return -3;
	r->n = n;
	return 1000 + n;
}

static long fn_read_then_exit(void *arg)
{
	struct rd *r = arg;

	syscall(SYS_read, r->fd, r->buf, 1);
	syscall(SYS_exit, 0);
	return 0;
}

static long fn_nested(void *arg)
{
	struct async_thread_args *inner = arg;
	struct async_args args = {};

	if (syscall(__NR_async_thread, inner, sizeof(*inner)) != -1 ||
	    errno != EBUSY)
		return 1;
	if (syscall(__NR_async_exec, &args, sizeof(args)) != -1 ||
	    errno != EBUSY)
		return 2;
	return 0;
}

/* --- synchronous threadlets ---------------------------------------- */

struct sync_case {
	bool leader;
};

static void *nonblocking_returns_value(void *arg)
{
	struct async_ring *ring = ring_new(8, 0);
	struct async_thread_args a;
	void *stack = stack_new();
	long handoffs = async_status("AsyncHandoffs");
	pid_t tid = gettid_raw();
	int64_t result = 0;
	int i, returns = 0;

	CHECK(ring && stack);
	for (i = 0; i < 100; i++) {
		thr_args(&a, fn_double, (void *)21, stack, ring, i);
		a.result = (uintptr_t)&result;
		CHECK(async_thread(&a) == ASYNC_EXEC_DONE);
		returns++;
		CHECK(a.status == 42);
		CHECK(result == 42);
	}
	/* It returned exactly once per call, in our context. */
	CHECK(returns == 100);
	CHECK(__atomic_load_n(&ran, __ATOMIC_RELAXED) >= 100);
	CHECK(gettid_raw() == tid);
	CHECK(ring->tail == 0);
	if (handoffs >= 0)
		CHECK(async_status("AsyncHandoffs") == handoffs);
	return FAILED();
}

TEST(r18_nonblocking_threadlet_returns_its_value)
{
	if (threadlets_missing())
		SKIP(return, "%s", threadlets_missing());
	EXPECT_EQ(0, (long)nonblocking_returns_value(NULL));
	EXPECT_EQ(0, in_thread(nonblocking_returns_value, NULL));
}

struct protect {
	void *page;
	size_t len;
};

/* Makes its page read-only, then returns 7. */
static long fn_protect(void *arg)
{
	struct protect *p = arg;

	syscall(SYS_mprotect, p->page, p->len, PROT_READ);
	return 7;
}

/*
 * R18: a threadlet that never blocked, but whose result cannot be
 * written, returns -EFAULT in its caller's context, as a system call
 * whose output cannot be written does; status still has the value, and
 * no completion is posted.
 */
TEST(r18_unwritable_result_efault)
{
	struct async_ring *ring = ring_new(8, 0);
	struct async_thread_args a;
	void *stack = stack_new();
	struct protect p;

	if (threadlets_missing())
		SKIP(return, "%s", threadlets_missing());
	ASSERT_TRUE(ring && stack);
	p.len = getpagesize();
	p.page = mmap(NULL, p.len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p.page);

	thr_args(&a, fn_protect, &p, stack, ring, 1);
	a.result = (uintptr_t)p.page;
	errno = 0;
	EXPECT_EQ(-1, async_thread(&a));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(7, a.status);
	EXPECT_EQ(0, ring->tail);

	/* Writable again: the same threadlet is done and its result there. */
	ASSERT_EQ(0, mprotect(p.page, p.len, PROT_READ | PROT_WRITE));
	thr_args(&a, fn_double, (void *)21, stack, ring, 2);
	a.result = (uintptr_t)p.page;
	EXPECT_EQ(ASYNC_EXEC_DONE, async_thread(&a));
	EXPECT_EQ(42, *(int64_t *)p.page);
	EXPECT_EQ(0, ring->tail);
	munmap(p.page, p.len);
}

/* The leader's threadlets never go async: a blocking one just blocks. */
TEST(r22_leader_threadlet_runs_synchronously)
{
	struct async_ring *ring = ring_new(8, 0);
	struct async_thread_args a;
	void *stack = stack_new();
	struct rd r = {};
	int p[2];
	pid_t pid;

	if (threadlets_missing())
		SKIP(return, "%s", threadlets_missing());
	ASSERT_EQ(0, pipe(p));
	r.fd = p[0];
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		usleep(100 * 1000);
		_exit(write(p[1], "late", 4) != 4);
	}
	thr_args(&a, fn_read, &r, stack, ring, 1);
	EXPECT_EQ(ASYNC_EXEC_DONE, async_thread(&a));
	EXPECT_EQ(4, a.status);
	EXPECT_STREQ("late", r.buf);
	waitpid(pid, NULL, 0);
}

/* --- threadlets that block ------------------------------------------ */

static __thread int got_usr1;
static __thread pid_t usr1_tid;

static void on_usr1(int sig)
{
	__atomic_store_n(&usr1_tid, gettid_raw(), __ATOMIC_RELAXED);
	__atomic_store_n(&got_usr1, 1, __ATOMIC_RELEASE);
}

static void *blocking_goes_async(void *arg)
{
	struct async_ring *ring = ring_new(8, 0);
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct timespec ts = { 10, 0 };
	struct async_completion cqe = {};
	struct async_thread_args a;
	void *stack = stack_new();
	pid_t tid = gettid_raw();
	int64_t result = 0;
	struct rd r = {};
	int p[2];

	CHECK(ring && stack && !pipe(p));
	sigaction(SIGUSR1, &sa, NULL);
	r.fd = p[0];
	thr_args(&a, fn_read, &r, stack, ring, 0xfeed);
	a.result = (uintptr_t)&result;
	CHECK(async_thread(&a) == ASYNC_EXEC_WENT_ASYNC);
	/* Our context, our thread id; the function waits elsewhere. */
	CHECK(gettid_raw() == tid);
	CHECK(ring->tail == 0);
	CHECK(!syscall(SYS_tgkill, getpid(), tid, SIGUSR1));
	CHECK(__atomic_load_n(&got_usr1, __ATOMIC_ACQUIRE));
	CHECK(__atomic_load_n(&usr1_tid, __ATOMIC_RELAXED) == tid);
	CHECK(write(p[1], "hello", 5) == 5);
	CHECK(async_wait(ring, 1, &ts, 0) == 1);
	CHECK(!ring_pop(ring, &cqe));
	CHECK(cqe.cookie == 0xfeed);
	CHECK(cqe.status == 5);
	CHECK(cqe.flags == ASYNC_COMPLETION_THREADLET);
	CHECK(result == 5);
	CHECK(!strcmp(r.buf, "hello"));
	return FAILED();
}

TEST(r22_blocking_threadlet_goes_async_keeping_tid)
{
	if (threadlets_missing())
		SKIP(return, "%s", threadlets_missing());
	EXPECT_EQ(0, in_thread(blocking_goes_async, NULL));
}

static void *several_syscalls(void *arg)
{
	struct async_ring *ring = ring_new(8, 0);
	struct timespec ts = { 10, 0 };
	struct async_completion cqe = {};
	struct async_thread_args a;
	void *stack = stack_new();
	char out[16] = {};
	struct rd r = {};
	int in[2], o[2];

	CHECK(ring && stack && !pipe(in) && !pipe(o));
	r.fd = in[0];
	r.out = o[1];
	thr_args(&a, fn_several, &r, stack, ring, 3);
	CHECK(async_thread(&a) == ASYNC_EXEC_WENT_ASYNC);
	/* The calls before the blocking one have run. */
	CHECK(read(o[0], out, 4) == 4);
	CHECK(!memcmp(out, "ping", 4));
	CHECK(r.ppid == getppid());
	CHECK(write(in[1], "data", 4) == 4);
	CHECK(async_wait(ring, 1, &ts, 0) == 1);
	CHECK(!ring_pop(ring, &cqe));
	CHECK(cqe.cookie == 3 && cqe.status == 1004);
	CHECK(r.n == 4);
	CHECK(read(o[0], out, 4) == 4);
	CHECK(!memcmp(out, "data", 4));
	return FAILED();
}

TEST(r15_threadlet_makes_several_syscalls)
{
	if (threadlets_missing())
		SKIP(return, "%s", threadlets_missing());
	EXPECT_EQ(0, in_thread(several_syscalls, NULL));
}

#ifdef __x86_64__
#define MXCSR_CALLER	0x7f80	/* round toward zero, all masked */
#define MXCSR_THREADLET	0x3f80	/* round up, all masked */

struct fpu_arg {
	int fd;
	unsigned int mxcsr;
};

static const unsigned int mxcsr_default = 0x1f80;

/* xmm6-xmm9 and MXCSR set, one system call, then read back. */
static long xmm_syscall(long nr, long a0, long a1, long a2,
			const uint64_t *in, uint64_t *out, unsigned int mi,
			unsigned int *mo)
{
	long ret;

	asm volatile("ldmxcsr %[mxi]\n\t"
		     "movdqu 0(%[pi]), %%xmm6\n\t"
		     "movdqu 16(%[pi]), %%xmm7\n\t"
		     "movdqu 32(%[pi]), %%xmm8\n\t"
		     "movdqu 48(%[pi]), %%xmm9\n\t"
		     "syscall\n\t"
		     "movdqu %%xmm6, 0(%[po])\n\t"
		     "movdqu %%xmm7, 16(%[po])\n\t"
		     "movdqu %%xmm8, 32(%[po])\n\t"
		     "movdqu %%xmm9, 48(%[po])\n\t"
		     "stmxcsr %[mxo]\n\t"
		     "ldmxcsr %[mxd]\n\t"
		     : "=a"(ret), [mxo] "=m"(*mo)
		     : "0"(nr), "D"(a0), "S"(a1), "d"(a2),
		       [pi] "r"(in), [po] "r"(out), [mxi] "m"(mi),
		       [mxd] "m"(mxcsr_default)
		     : "rcx", "r11", "memory", "xmm6", "xmm7", "xmm8", "xmm9");
	return ret;
}

static long fn_fpu(void *arg)
{
	struct fpu_arg *f = arg;
	uint64_t in[8], out[8] = {};
	unsigned int mo = 0;
	long n, i;
	char c;

	for (i = 0; i < 8; i++)
		in[i] = 0x7468726561646c00ULL + i;
	n = xmm_syscall(SYS_read, f->fd, (long)&c, 1, in, out, f->mxcsr, &mo);
	return n == 1 && !memcmp(in, out, sizeof(in)) && mo == f->mxcsr;
}

static void *fpu_both_sides(void *arg)
{
	struct async_ring *ring = ring_new(8, 0);
	struct timespec ts = { 10, 0 };
	struct async_completion cqe = {};
	struct async_thread_args a;
	void *stack = stack_new();
	struct fpu_arg f = { .mxcsr = MXCSR_THREADLET };
	unsigned int mi = MXCSR_CALLER, mo = 0;
	uint64_t in[8], out[8] = {};
	long ret, i;
	int p[2];

	CHECK(ring && stack && !pipe(p));
	f.fd = p[0];
	for (i = 0; i < 8; i++)
		in[i] = 0x63616c6c65720000ULL + i;
	thr_args(&a, fn_fpu, &f, stack, ring, 7);
	ret = xmm_syscall(__NR_async_thread, (long)&a, sizeof(a), 0, in, out,
			  mi, &mo);
	CHECK(ret == ASYNC_EXEC_WENT_ASYNC);
	/* Ours, as we left them, although the threadlet changed its own. */
	CHECK(!memcmp(in, out, sizeof(in)));
	CHECK(mo == MXCSR_CALLER);
	CHECK(write(p[1], "x", 1) == 1);
	CHECK(async_wait(ring, 1, &ts, 0) == 1);
	CHECK(!ring_pop(ring, &cqe));
	/* And the threadlet's survived its own sleep. */
	CHECK(cqe.status == 1);
	return FAILED();
}
#elif defined(__powerpc__)
/* FPSCR[RN] values: round toward zero, round toward +infinity. */
#define RN_CALLER	1
#define RN_THREADLET	2

struct fpu_arg {
	int fd;
	unsigned int rn;
};

static long fn_fpu(void *arg)
{
	struct fpu_arg *f = arg;
	uint64_t in[8];
	uint64_t out[8] = {};
	unsigned int rn = 0;
	long n, i;
	char c;

	for (i = 0; i < 8; i++)
		in[i] = 0x7468726561646c00ULL + i;
	n = ppc_fp_syscall(SYS_read, f->fd, (long)&c, 1, in, out, f->rn, &rn);
	return n == 1 && !memcmp(in, out, sizeof(in)) && rn == f->rn;
}

static void *fpu_both_sides(void *arg)
{
	struct async_ring *ring = ring_new(8, 0);
	struct timespec ts = { 10, 0 };
	struct async_completion cqe = {};
	struct async_thread_args a;
	void *stack = stack_new();
	struct fpu_arg f = { .rn = RN_THREADLET };
	uint64_t in[8];
	uint64_t out[8] = {};
	unsigned int rn = 0;
	long ret, i;
	int p[2];

	CHECK(ring && stack && !pipe(p));
	f.fd = p[0];
	for (i = 0; i < 8; i++)
		in[i] = 0x63616c6c65720000ULL + i;
	thr_args(&a, fn_fpu, &f, stack, ring, 7);
	ret = ppc_fp_syscall(__NR_async_thread, (long)&a, sizeof(a), 0, in,
			     out, RN_CALLER, &rn);
	CHECK(ret == ASYNC_EXEC_WENT_ASYNC);
	/* Ours, as we left them, although the threadlet changed its own. */
	CHECK(!memcmp(in, out, sizeof(in)));
	CHECK(rn == RN_CALLER);
	CHECK(write(p[1], "x", 1) == 1);
	CHECK(async_wait(ring, 1, &ts, 0) == 1);
	CHECK(!ring_pop(ring, &cqe));
	/* And the threadlet's survived its own sleep. */
	CHECK(cqe.status == 1);
	return FAILED();
}
#endif

#if defined(__x86_64__) || defined(__powerpc__)
TEST(r28_fpu_state_kept_by_caller_and_threadlet)
{
	if (threadlets_missing())
		SKIP(return, "%s", threadlets_missing());
	EXPECT_EQ(0, in_thread(fpu_both_sides, NULL));
}
#elif defined(__s390__)
#define FPC_CALLER	0x00000001	/* round toward zero */
#define FPC_THREADLET	0x00000002	/* round toward +infinity */

struct fpu_arg {
	int fd;
	unsigned int fpc;
};

/*
 * f8-f15, v16-v19 and the FPC set, one system call, then read back. A
 * vector register that came back changed spoils out[0].
 */
static long fpr_syscall(long nr, long a0, long a1, long a2,
			const uint64_t *in, uint64_t *out, unsigned int mi,
			unsigned int *mo)
{
	register long r1 asm("1") = nr;
	register long r2 asm("2") = a0;
	register long r3 asm("3") = a1;
	register long r4 asm("4") = a2;
	const unsigned int fpc_default = 0;
	uint64_t vout[8] = {};

	asm volatile("lfpc	%[mi]\n\t"
		     "ld	%%f8,0(%[pi])\n\t"
		     "ld	%%f9,8(%[pi])\n\t"
		     "ld	%%f10,16(%[pi])\n\t"
		     "ld	%%f11,24(%[pi])\n\t"
		     "ld	%%f12,32(%[pi])\n\t"
		     "ld	%%f13,40(%[pi])\n\t"
		     "ld	%%f14,48(%[pi])\n\t"
		     "ld	%%f15,56(%[pi])\n\t"
		     ".machine push\n\t"
		     ".machine \"z13\"\n\t"
		     "vl	%%v16,0(%[pi])\n\t"
		     "vl	%%v17,16(%[pi])\n\t"
		     "vl	%%v18,32(%[pi])\n\t"
		     "vl	%%v19,48(%[pi])\n\t"
		     "svc	0\n\t"
		     "vst	%%v16,0(%[pv])\n\t"
		     "vst	%%v17,16(%[pv])\n\t"
		     "vst	%%v18,32(%[pv])\n\t"
		     "vst	%%v19,48(%[pv])\n\t"
		     ".machine pop\n\t"
		     "std	%%f8,0(%[po])\n\t"
		     "std	%%f9,8(%[po])\n\t"
		     "std	%%f10,16(%[po])\n\t"
		     "std	%%f11,24(%[po])\n\t"
		     "std	%%f12,32(%[po])\n\t"
		     "std	%%f13,40(%[po])\n\t"
		     "std	%%f14,48(%[po])\n\t"
		     "std	%%f15,56(%[po])\n\t"
		     "stfpc	%[mo]\n\t"
		     "lfpc	%[md]\n\t"
		     : "+d"(r2), [mo] "=Q"(*mo)
		     : "d"(r1), "d"(r3), "d"(r4), [pi] "a"(in), [po] "a"(out),
		       [pv] "a"(vout), [mi] "Q"(mi), [md] "Q"(fpc_default)
		     : "memory", "f8", "f9", "f10", "f11", "f12", "f13", "f14",
		       "f15");
	if (memcmp(in, vout, sizeof(vout)))
		out[0] ^= 1;
	return r2;
}

static long fn_fpu(void *arg)
{
	struct fpu_arg *f = arg;
	uint64_t in[8], out[8] = {};
	unsigned int mo = 0;
	long n, i;
	char c;

	for (i = 0; i < 8; i++)
		in[i] = 0x7468726561646c00ULL + i;
	n = fpr_syscall(SYS_read, f->fd, (long)&c, 1, in, out, f->fpc, &mo);
	return n == 1 && !memcmp(in, out, sizeof(in)) && mo == f->fpc;
}

static void *fpu_both_sides(void *arg)
{
	struct async_ring *ring = ring_new(8, 0);
	struct timespec ts = { 10, 0 };
	struct async_completion cqe = {};
	struct async_thread_args a;
	void *stack = stack_new();
	struct fpu_arg f = { .fpc = FPC_THREADLET };
	unsigned int mi = FPC_CALLER, mo = 0;
	uint64_t in[8], out[8] = {};
	long ret, i;
	int p[2];

	CHECK(ring && stack && !pipe(p));
	f.fd = p[0];
	for (i = 0; i < 8; i++)
		in[i] = 0x63616c6c65720000ULL + i;
	thr_args(&a, fn_fpu, &f, stack, ring, 7);
	ret = fpr_syscall(__NR_async_thread, (long)&a, sizeof(a), 0, in, out,
			  mi, &mo);
	CHECK(ret == ASYNC_EXEC_WENT_ASYNC);
	/* Ours, as we left them, although the threadlet changed its own. */
	CHECK(!memcmp(in, out, sizeof(in)));
	CHECK(mo == FPC_CALLER);
	CHECK(write(p[1], "x", 1) == 1);
	CHECK(async_wait(ring, 1, &ts, 0) == 1);
	CHECK(!ring_pop(ring, &cqe));
	/* And the threadlet's survived its own sleep. */
	CHECK(cqe.status == 1);
	return FAILED();
}

TEST(r28_fpu_state_kept_by_caller_and_threadlet)
{
	if (threadlets_missing())
		SKIP(return, "%s", threadlets_missing());
	if (!(getauxval(AT_HWCAP) & HWCAP_S390_VXRS))
		SKIP(return, "no vector facility");
	EXPECT_EQ(0, in_thread(fpu_both_sides, NULL));
}
#endif

#define WAVE	100
#define WAVES	100

static void *waves(void *arg)
{
	struct async_ring *ring = ring_new(128, 0);
	struct timespec ts = { 30, 0 };
	struct async_completion cqe;
	static struct rd r[WAVE];
	static void *stacks[WAVE];
	static int p[WAVE][2];
	static char seen[WAVE];
	struct async_thread_args a;
	long threads, max_threads = 0;
	int w, i, got;

	CHECK(ring);
	for (i = 0; i < WAVE; i++) {
		stacks[i] = stack_new();
		CHECK(stacks[i] && !pipe(p[i]));
		r[i].fd = p[i][0];
	}
	for (w = 0; w < WAVES && !failed_line; w++) {
		for (i = 0; i < WAVE; i++) {
			/* A stack is reused once its completion came. */
			thr_args(&a, fn_read, &r[i], stacks[i], ring,
				 (uint64_t)w * WAVE + i);
			CHECK(async_thread(&a) == ASYNC_EXEC_WENT_ASYNC);
		}
		threads = async_status("AsyncPoolThreads");
		if (threads > max_threads)
			max_threads = threads;
		for (i = 0; i < WAVE; i++)
			CHECK(write(p[i][1], "w", 1) == 1);
		memset(seen, 0, sizeof(seen));
		for (got = 0; got < WAVE && !failed_line;) {
			CHECK(async_wait(ring, 1, &ts, 0) >= 1);
			while (!ring_pop(ring, &cqe)) {
				CHECK(cqe.cookie / WAVE == (uint64_t)w);
				CHECK(cqe.status == 1);
				CHECK(cqe.flags == ASYNC_COMPLETION_THREADLET);
				seen[cqe.cookie % WAVE]++;
				got++;
			}
		}
		for (i = 0; i < WAVE; i++)
			CHECK(seen[i] == 1);
	}
	/* Threads are reused: a wave's worth, plus the idle spare. */
	CHECK(max_threads > 0 && max_threads <= WAVE + 2);
	fprintf(stderr, "%d rounds of %d threadlets, at most %ld pool threads\n",
		w, WAVE, max_threads);
	return FAILED();
}

/*
 * Ten thousand threadlets take seconds on a plain kernel but minutes on a
 * KASAN and lockdep kernel under emulation: give them more than the
 * harness's default 30 s.
 */
FIXTURE(stress) {};
FIXTURE_SETUP(stress) {}
FIXTURE_TEARDOWN(stress) {}

TEST_F_TIMEOUT(stress, r23_ten_thousand_threadlets_in_waves, 400)
{
	if (threadlets_missing())
		SKIP(return, "%s", threadlets_missing());
	EXPECT_EQ(0, in_thread(waves, NULL));
}

/* The threadlet's task exits before its function returns. */
static void *task_exits(void *arg)
{
	struct async_ring *ring = ring_new(8, 0);
	struct timespec ts = { 10, 0 };
	struct async_completion cqe = {};
	struct async_thread_args a;
	void *stack = stack_new();
	struct rd r = {};
	int p[2];

	CHECK(ring && stack && !pipe(p));
	r.fd = p[0];
	thr_args(&a, fn_read_then_exit, &r, stack, ring, 11);
	CHECK(async_thread(&a) == ASYNC_EXEC_WENT_ASYNC);
	CHECK(write(p[1], "e", 1) == 1);
	CHECK(async_wait(ring, 1, &ts, 0) == 1);
	CHECK(!ring_pop(ring, &cqe));
	CHECK(cqe.cookie == 11 && cqe.status == -ESRCH);
	return FAILED();
}

TEST(r18_threadlet_task_exit_is_reported)
{
	if (threadlets_missing())
		SKIP(return, "%s", threadlets_missing());
	EXPECT_EQ(0, in_thread(task_exits, NULL));
}

/* --- refused calls run nothing --------------------------------------- */

static void expect_refused(struct __test_metadata *_metadata,
			   struct async_thread_args *a, size_t size, int err)
{
	int before = __atomic_load_n(&ran, __ATOMIC_RELAXED);

	errno = 0;
	EXPECT_EQ(-1, syscall(__NR_async_thread, a, size));
	EXPECT_EQ(err, errno);
	EXPECT_EQ(before, __atomic_load_n(&ran, __ATOMIC_RELAXED));
}

TEST(r06_bad_threadlet_arguments)
{
	struct async_ring *ring = ring_new(8, 0);
	struct async_thread_args a, inner;
	void *stack = stack_new();
	void *ro = stack_new();
	char data[64];
	int64_t result;

	if (threadlets_missing())
		SKIP(return, "%s", threadlets_missing());
	ASSERT_TRUE(ring && stack && ro);
	ASSERT_EQ(0, mprotect(ro, STACK_SIZE, PROT_READ));
#define REFUSED(field, value, err) do {					\
		thr_args(&a, fn_double, NULL, stack, ring, 1);		\
		a.field = (value);					\
		expect_refused(_metadata, &a, sizeof(a), err);		\
	} while (0)
	REFUSED(flags, 1, EINVAL);
	REFUSED(stack_size, ASYNC_THREAD_MIN_STACK - 1, EINVAL);
	REFUSED(stack_size, ~0ULL, EINVAL);
	REFUSED(stack, (uintptr_t)ro, EFAULT);
	REFUSED(stack, 0x10000, EFAULT);
	/* A compat task cannot even name it (r08_threadlet_compat_values). */
	REFUSED(stack, 0xffff888000000000ULL, COMPAT_TASK ? EINVAL : EFAULT);
	REFUSED(fn, 0x1000, EFAULT);
	REFUSED(fn, (uintptr_t)data, EFAULT);
	REFUSED(fn, 0, EFAULT);
	REFUSED(restorer, 0, EFAULT);
	REFUSED(restorer, (uintptr_t)data, EFAULT);
	REFUSED(result, (uintptr_t)&result + 1, EINVAL);
#ifdef __s390__
	/*
	 * User and kernel have separate address spaces on s390: any address
	 * may be a user one, so the function runs and only writing its
	 * result finds the address unmapped (a compat task cannot name it).
	 */
	if (!COMPAT_TASK) {
		thr_args(&a, fn_double, NULL, stack, ring, 1);
		a.result = 0xffff888000000000ULL;
		errno = 0;
		EXPECT_EQ(-1, async_thread(&a));
		EXPECT_EQ(EFAULT, errno);
	}
#else
	REFUSED(result, 0xffff888000000000ULL, COMPAT_TASK ? EINVAL : EFAULT);
#endif
	REFUSED(eventfd, 0, EINVAL);
	REFUSED(ring, 0, EINVAL);
	REFUSED(ring, 0x10000, EFAULT);
#undef REFUSED
	thr_args(&a, fn_double, NULL, stack, ring, 1);
	expect_refused(_metadata, &a, ASYNC_THREAD_ARGS_SIZE_VER0 - 8, EINVAL);
	expect_refused(_metadata, NULL, sizeof(a), EFAULT);

	/* No threadlet to return from. */
	errno = 0;
	EXPECT_EQ(-1, syscall(__NR_async_thread_return, 0L));
	EXPECT_EQ(EINVAL, errno);

	/* Inside a threadlet: no other threadlet or chain. */
	thr_args(&inner, fn_double, NULL, stack_new(), ring, 2);
	thr_args(&a, fn_nested, &inner, stack, ring, 3);
	EXPECT_EQ(ASYNC_EXEC_DONE, async_thread(&a));
	EXPECT_EQ(0, a.status);
}

/* SIGKILL with a thousand threadlets pending leaves no task behind. */
#define PENDING 1000

static void *start_blocked(void *arg)
{
	struct async_ring *ring = ring_new(1024, 0);
	static struct rd r[PENDING];
	struct async_thread_args a;
	int *ready = arg, i, p[2];

	/* Every threadlet waits for a byte of the same pipe. */
	if (!ring || pipe(p))
		return (void *)1;
	for (i = 0; i < PENDING; i++) {
		void *stack = stack_new();

		if (!stack)
			return (void *)1;
		r[i].fd = p[0];
		thr_args(&a, fn_read, &r[i], stack, ring, i);
		if (async_thread(&a) != ASYNC_EXEC_WENT_ASYNC)
			return (void *)2;
	}
	if (write(*ready, "r", 1) != 1)
		return (void *)3;
	pause();
	return NULL;
}

TEST_F_TIMEOUT(stress, r23_sigkill_with_pending_threadlets, 300)
{
	int before, after = -1, ready[2], i, status;
	char c;
	pid_t pid;

	if (threadlets_missing())
		SKIP(return, "%s", threadlets_missing());
	ASSERT_EQ(0, pipe(ready));
	before = count_system_threads();
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(in_thread(start_blocked, &ready[1]) ? 1 : 0);
	/* A child that fails before it is ready gives EOF, not a hang. */
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &c, 1));
	/* Each pending threadlet holds its task; the contexts, pool threads. */
	EXPECT_GE(count_system_threads(), before + PENDING);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	/* A thousand tasks take a while to go, on a debug kernel more so. */
	for (i = 0; i < 6000; i++) {
		after = count_system_threads();
		if (after <= before)
			break;
		usleep(10 * 1000);
	}
	EXPECT_LE(after, before);
}

/*
 * R08 for threadlets: a compat task's addresses and its one argument
 * must fit in 32 bits (a native task's addresses there just fault), and
 * its function's int-sized return value keeps its sign.
 */
TEST(r08_threadlet_compat_values)
{
	static const size_t fields[] = {
		offsetof(struct async_thread_args, fn),
		offsetof(struct async_thread_args, restorer),
		offsetof(struct async_thread_args, stack),
		offsetof(struct async_thread_args, ring),
		offsetof(struct async_thread_args, result),
	};
	const uint64_t garbage = 0xdead000000000000ULL;
	const int bad = COMPAT_TASK ? EINVAL : EFAULT;
	struct async_ring *ring = ring_new(8, 0);
	struct async_thread_args a;
	void *stack = stack_new();
	unsigned int i;

	if (threadlets_missing())
		SKIP(return, "%s", threadlets_missing());
	ASSERT_TRUE(ring && stack);
	thr_args(&a, fn_double, (void *)(uintptr_t)-3, stack, ring, 1);
	ASSERT_EQ(ASYNC_EXEC_DONE, async_thread(&a));
	EXPECT_EQ(-6, a.status);
	for (i = 0; i < ARRAY_SIZE(fields); i++) {
#ifdef __s390__
		/* Any address may be a user one: r06_bad_threadlet_arguments. */
		if (!COMPAT_TASK && fields[i] == offsetof(struct async_thread_args, result))
			continue;
#endif
		thr_args(&a, fn_double, NULL, stack, ring, 1);
		*(uint64_t *)((char *)&a + fields[i]) |= garbage;
		expect_refused(_metadata, &a, sizeof(a), bad);
	}
	if (COMPAT_TASK) {
		thr_args(&a, fn_double, NULL, stack, ring, 1);
		a.arg |= garbage;
		expect_refused(_metadata, &a, sizeof(a), EINVAL);
	}
}

TEST_HARNESS_MAIN
