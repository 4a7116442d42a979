// SPDX-License-Identifier: GPL-2.0
/*
 * Threadlets in a 64-bit powerpc task of the ELFv2 ABI, where a function
 * pointer is the function's entry address, not the address of a
 * descriptor as in ELFv1. Big-endian ELFv2 is what musl uses; the
 * distribution's C library here is ELFv1, so this program is built with
 * nolibc and -mabi=elfv2.
 *
 * The kernel must take args->fn and args->restorer as entry addresses in
 * such a task, and enter the function with r12 holding that address:
 * the global entry point of position-independent code computes the TOC
 * pointer (r2) from r12. (In this static executable the linker has made
 * that computation absolute, so r12 is checked directly.)
 */
#include <linux/async.h>
#include <asm/unistd.h>

#include "../kselftest.h"

#if _CALL_ELF != 2
#error "elfv2_test is built for 64-bit powerpc with -mabi=elfv2 only"
#endif

#ifndef __NR_async_thread
#define __NR_async_thread		466
#define __NR_async_thread_return	467
#endif

#define STACK_SIZE	(64 * 1024)
#define RING_ENTRIES	8

/* Read through the TOC. Not static, so that it is loaded, not folded in. */
long toc_magic = 0x5ca1ab1e;

static struct {
	struct async_ring ring;
	struct async_completion cqes[RING_ENTRIES];
} ring;

static char stack[STACK_SIZE];
static long result;

/*
 * The function returns here with its value in r3, which is where the
 * restorer's own argument is and where async_thread_return() takes it.
 * It is entered through the link register with the function's r2 and
 * whatever r12 the function left, and uses no TOC.
 */
static void elfv2_restorer(long value)
{
	register long r0 asm("r0") = __NR_async_thread_return;
	register long r3 asm("r3") = value;

	asm volatile("sc\n\t"
		     "trap" : : "r" (r0), "r" (r3) : "memory");
	__builtin_unreachable();
}

/* Only ever called through its address, by the kernel's entry. */
static long fn_toc(long arg)
{
	return arg * 2 + toc_magic;
}

/* What r12 held on entry, before anything else could change it. */
static long fn_r12(long arg)
{
	register long r12 asm("r12");

	asm volatile("" : "=r" (r12));
	return r12;
}

/* An ELFv1 descriptor {entry, TOC, environment} of fn_toc, in data. */
static unsigned long fake_desc[3];

static long async_thread(struct async_thread_args *a)
{
	return my_syscall2(__NR_async_thread, a, sizeof(*a));
}

static void thr_args(struct async_thread_args *a, unsigned long fn,
		     unsigned long restorer, long arg)
{
	memset(a, 0, sizeof(*a));
	a->fn = fn;
	a->arg = arg;
	a->stack = (unsigned long)stack;
	a->stack_size = STACK_SIZE;
	a->restorer = restorer;
	a->ring = (unsigned long)&ring.ring;
	a->cookie = 1;
	a->result = (unsigned long)&result;
	a->eventfd = ASYNC_NO_EVENTFD;
}

/* The function is entered at its entry address, with its TOC. */
static void test_runs_with_its_toc(void)
{
	struct async_thread_args a;
	long ret;

	result = 0;
	thr_args(&a, (unsigned long)fn_toc, (unsigned long)elfv2_restorer, 21);
	ret = async_thread(&a);
	if (ret != ASYNC_EXEC_DONE || a.status != 42 + toc_magic ||
	    result != 42 + toc_magic || ring.ring.tail != 0) {
		ksft_test_result_fail("%s: returned %ld, status %lld, result %ld, tail %u\n",
				      "elfv2_threadlet_runs_with_its_toc", ret,
				      (long long)a.status, result,
				      ring.ring.tail);
		return;
	}
	ksft_test_result_pass("elfv2_threadlet_runs_with_its_toc\n");
}

/* ... and with that address in r12, as the ELFv2 ABI's callers pass it. */
static void test_entered_with_r12(void)
{
	struct async_thread_args a;
	long ret;

	result = 0;
	thr_args(&a, (unsigned long)fn_r12, (unsigned long)elfv2_restorer, 0);
	ret = async_thread(&a);
	if (ret != ASYNC_EXEC_DONE || result != (long)fn_r12) {
		ksft_test_result_fail("%s: returned %ld, r12 %#lx, entry %p\n",
				      "elfv2_threadlet_entered_with_r12", ret,
				      result, fn_r12);
		return;
	}
	ksft_test_result_pass("elfv2_threadlet_entered_with_r12\n");
}

/* A threadlet with @fn and @restorer must be refused with EFAULT. */
static void expect_efault(const char *name, unsigned long fn,
			  unsigned long restorer)
{
	struct async_thread_args a;
	long ret;

	result = 0;
	thr_args(&a, fn, restorer, 1);
	ret = async_thread(&a);
	if (ret != -EFAULT || result != 0) {
		ksft_test_result_fail("%s: returned %ld, result %ld\n", name,
				      ret, result);
		return;
	}
	ksft_test_result_pass("%s\n", name);
}

/*
 * Function pointers to data that holds valid ELFv1 descriptors of the
 * function and the restorer: an ELFv1 task would run the threadlet, an
 * ELFv2 task must be told that its pointers lead to no code. Then only
 * the restorer as a descriptor: refused all the same.
 */
static void test_descriptors_not_followed(void)
{
	unsigned long restorer_desc[3] = { (unsigned long)elfv2_restorer };

	fake_desc[0] = (unsigned long)fn_toc;
	expect_efault("elfv2_descriptors_not_followed",
		      (unsigned long)fake_desc, (unsigned long)restorer_desc);
	expect_efault("elfv2_restorer_descriptor_refused",
		      (unsigned long)fn_toc, (unsigned long)restorer_desc);
}

int main(void)
{
	struct async_thread_args a = {};

	ksft_print_header();
	/*
	 * Nothing valid in it: the kernel's answer says whether it is there,
	 * by being the same as for a system call number that does not exist.
	 */
	if (my_syscall2(__NR_async_thread, &a, sizeof(a)) == my_syscall0(-1L))
		ksft_exit_skip("kernel built without CONFIG_ASYNC_SYSCALLS\n");
	ksft_set_plan(4);
	ring.ring.entries = RING_ENTRIES;
	test_runs_with_its_toc();
	test_entered_with_r12();
	test_descriptors_not_followed();
	ksft_finished();
}
