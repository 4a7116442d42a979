// SPDX-License-Identifier: GPL-2.0
/*
 * Tests for asynchronous system call chains (async_exec, async_wait,
 * async_cancel). Test names carry the review requirement they check
 * (rNN_*), see Documentation/userspace-api/async.rst.
 *
 * Chains submitted by the thread-group leader never go async, so tests
 * of the cachemiss handoff run their body in a second thread.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/async.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "async_util.h"

/* Bytes waiting in a pipe whose read end is non-blocking. */
static int pipe_pending(int fd)
{
	char buf[64];
	int n = read(fd, buf, sizeof(buf));

	return n < 0 ? (errno == EAGAIN ? 0 : -1) : n;
}

static int count_tasks(void)
{
	return count_dir("/proc/self/task");
}

/*
 * A refused submission must run nothing: the first atom of every bad
 * chain writes one byte to a pipe, which must stay empty.
 */
struct refused {
	int p[2];
	char byte;
	struct async_atom atoms[ASYNC_MAX_ATOMS + 2];
	struct async_args args;
	struct async_ring *ring;
};

static void refused_init(struct refused *r, unsigned int n)
{
	unsigned int i;

	pipe2(r->p, O_NONBLOCK);
	r->byte = 'x';
	r->ring = ring_new(8, 0);
	atom_set(&r->atoms[0], __NR_write, 0, r->p[1], (uintptr_t)&r->byte, 1);
	for (i = 1; i < ASYNC_MAX_ATOMS + 2; i++)
		atom_set(&r->atoms[i], __NR_getppid, 0, 0, 0, 0);
	args_set(&r->args, r->atoms, n, r->ring, 1);
}

static void expect_refused(struct __test_metadata *_metadata,
			   struct refused *r, int err)
{
	errno = 0;
	EXPECT_EQ(-1, async_exec(&r->args));
	EXPECT_EQ(err, errno);
	EXPECT_EQ(0, pipe_pending(r->p[0]));
}

#define EXPECT_REFUSED(r, err) expect_refused(_metadata, r, err)

TEST(r14_enosys_without_config)
{
	struct async_args a = {};
	int nosys = nosys_errno();

	if (async_available())
		SKIP(return, "CONFIG_ASYNC_SYSCALLS=y: covered by the =n build");
	EXPECT_EQ(-1, syscall(__NR_async_exec, &a, sizeof(a)));
	EXPECT_EQ(nosys, errno);
	EXPECT_EQ(-1, syscall(__NR_async_wait, NULL, 0, NULL, 0));
	EXPECT_EQ(nosys, errno);
	EXPECT_EQ(-1, syscall(__NR_async_cancel, NULL, 0, 0));
	EXPECT_EQ(nosys, errno);
}

TEST(r10_unknown_flags_and_reserved_fields)
{
	struct refused r;

	if (!async_available())
		SKIP(return, NO_ASYNC);
	refused_init(&r, 2);
	r.args.flags = 1ULL << 40;
	EXPECT_REFUSED(&r, EINVAL);
	refused_init(&r, 2);
	r.args.reserved = 1;
	EXPECT_REFUSED(&r, EINVAL);
	refused_init(&r, 2);
	r.atoms[1].ref_mask = 1 << 6;
	EXPECT_REFUSED(&r, EINVAL);
	refused_init(&r, 2);
	r.atoms[1].stop = ASYNC_STOP_NR;
	EXPECT_REFUSED(&r, EINVAL);
	refused_init(&r, 2);
	r.atoms[1].stop = 0x8000;
	EXPECT_REFUSED(&r, EINVAL);
}

TEST(r10_struct_size)
{
	struct refused r;
	char big[sizeof(struct async_args) + 16];

	if (!async_available())
		SKIP(return, NO_ASYNC);
	refused_init(&r, 1);
	errno = 0;
	EXPECT_EQ(-1, syscall(__NR_async_exec, &r.args, 8));
	EXPECT_EQ(EINVAL, errno);
	memset(big, 0, sizeof(big));
	memcpy(big, &r.args, sizeof(r.args));
	big[sizeof(big) - 1] = 1;
	EXPECT_EQ(-1, syscall(__NR_async_exec, big, sizeof(big)));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(0, pipe_pending(r.p[0]));
	/* A larger struct with a zero tail is fine. */
	big[sizeof(big) - 1] = 0;
	EXPECT_EQ(ASYNC_EXEC_DONE, syscall(__NR_async_exec, big, sizeof(big)));
	EXPECT_EQ(1, pipe_pending(r.p[0]));
}

TEST(r16_reserved_atom_bits)
{
	struct refused r;

	if (!async_available())
		SKIP(return, NO_ASYNC);
	refused_init(&r, 3);
	r.atoms[2].reserved = 1;
	EXPECT_REFUSED(&r, EINVAL);
	refused_init(&r, 3);
	r.atoms[2].reserved = 0x8000;
	EXPECT_REFUSED(&r, EINVAL);
}

TEST(r16_nr_out_of_range)
{
	struct refused r;

	if (!async_available())
		SKIP(return, NO_ASYNC);
	refused_init(&r, 2);
	r.atoms[1].nr = 1000;
	EXPECT_REFUSED(&r, EINVAL);
	refused_init(&r, 2);
	r.atoms[1].nr = 0xffff;
	EXPECT_REFUSED(&r, EINVAL);
}

TEST(r01_atom_count_bounds)
{
	struct refused r;

	if (!async_available())
		SKIP(return, NO_ASYNC);
	refused_init(&r, 0);
	EXPECT_REFUSED(&r, EINVAL);
	refused_init(&r, ASYNC_MAX_ATOMS + 1);
	EXPECT_REFUSED(&r, EINVAL);
	refused_init(&r, ASYNC_MAX_ATOMS);
	EXPECT_EQ(ASYNC_EXEC_DONE, async_exec(&r.args));
	EXPECT_EQ(ASYNC_MAX_ATOMS - 1, r.args.index);
	EXPECT_EQ(getppid(), r.args.status);
	EXPECT_EQ(1, pipe_pending(r.p[0]));
}

TEST(r02_reference_to_later_atom)
{
	struct refused r;

	if (!async_available())
		SKIP(return, NO_ASYNC);
	refused_init(&r, 3);
	r.atoms[1].ref_mask = ASYNC_ARG_REF(0);
	r.atoms[1].args[0] = 1;		/* itself */
	EXPECT_REFUSED(&r, EINVAL);
	refused_init(&r, 3);
	r.atoms[1].ref_mask = ASYNC_ARG_REF(2);
	r.atoms[1].args[2] = 2;		/* a later atom */
	EXPECT_REFUSED(&r, EINVAL);
}

TEST(r12_bad_chain_pointer)
{
	struct refused r;
	long pg = sysconf(_SC_PAGESIZE);
	struct async_atom *atoms;
	char *map;

	if (!async_available())
		SKIP(return, NO_ASYNC);
	refused_init(&r, 2);
	r.args.atoms = 0;
	EXPECT_REFUSED(&r, EFAULT);
	/*
	 * The chain's last atom lies on an unmapped page (set up after
	 * refused_init(), whose ring could reuse the hole).
	 */
	refused_init(&r, 2);
	map = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	munmap(map + pg, pg);
	atoms = (struct async_atom *)(map + pg) - 1;
	memcpy(atoms, r.atoms, sizeof(*atoms));
	r.args.atoms = (uintptr_t)atoms;
	EXPECT_REFUSED(&r, EFAULT);
}

/*
 * R08: what a 32-bit (compat) task passes in a 64-bit field must fit in
 * 32 bits: garbage above is refused, never truncated. A native task's
 * values are taken whole, so the same chains run or fault there.
 */
TEST(r08_compat_upper_32_bits_refused)
{
	const uint64_t garbage = 0xdead000000000000ULL;
	struct refused r;

	if (!async_available())
		SKIP(return, NO_ASYNC);
	/* An immediate argument: getppid() ignores it natively. */
	refused_init(&r, 2);
	r.atoms[1].args[0] |= garbage;
	if (COMPAT_TASK) {
		EXPECT_REFUSED(&r, EINVAL);
	} else {
		EXPECT_EQ(ASYNC_EXEC_DONE, async_exec(&r.args));
		EXPECT_EQ(getppid(), r.args.status);
	}
	/* A result address, the atoms and the ring. */
	refused_init(&r, 2);
	r.atoms[1].result |= garbage | 8;
#ifdef __s390__
	/* Any address may be a user one there: only the write faults. */
	if (!COMPAT_TASK) {
		EXPECT_EQ(ASYNC_EXEC_DONE, async_exec(&r.args));
		EXPECT_TRUE(r.args.out_flags & ASYNC_COMPLETION_RESULT_FAULT);
	} else {
		EXPECT_REFUSED(&r, EINVAL);
	}
#else
	EXPECT_REFUSED(&r, COMPAT_TASK ? EINVAL : EFAULT);
#endif
	refused_init(&r, 2);
	r.args.atoms |= garbage;
	EXPECT_REFUSED(&r, COMPAT_TASK ? EINVAL : EFAULT);
	refused_init(&r, 2);
	r.args.ring |= garbage;
	EXPECT_REFUSED(&r, COMPAT_TASK ? EINVAL : EFAULT);
	/* An argument naming an earlier atom is an index, not a value. */
	refused_init(&r, 2);
	r.atoms[1].ref_mask = ASYNC_ARG_REF(0);
	r.atoms[1].args[0] = 0;
	EXPECT_EQ(ASYNC_EXEC_DONE, async_exec(&r.args));
}

TEST(r20_bad_result_pointer)
{
	struct refused r;

	if (!async_available())
		SKIP(return, NO_ASYNC);
	refused_init(&r, 2);
	r.atoms[1].result = 0xffff800000000000ULL;
	if (COMPAT_TASK) {
		/* A compat task cannot even name it (r08_compat_upper_32_bits_refused). */
		EXPECT_REFUSED(&r, EINVAL);
	} else {
#ifdef __s390__
		/*
		 * User and kernel have separate address spaces on s390: any
		 * address may be a user one, so only writing the result finds
		 * it unmapped.
		 */
		EXPECT_EQ(ASYNC_EXEC_DONE, async_exec(&r.args));
		EXPECT_EQ(1, r.args.index);
		EXPECT_TRUE(r.args.out_flags & ASYNC_COMPLETION_RESULT_FAULT);
#else
		EXPECT_REFUSED(&r, EFAULT);
#endif
	}
	refused_init(&r, 2);
	r.atoms[1].result = (uintptr_t)&r.byte;	/* not 8-byte aligned */
	if (!(r.atoms[1].result & 7))
		r.atoms[1].result++;
	EXPECT_REFUSED(&r, EINVAL);
}

TEST(r27_bad_ring)
{
	struct refused r;
	struct async_ring *ring;

	if (!async_available())
		SKIP(return, NO_ASYNC);
	refused_init(&r, 1);
	r.args.ring = 0;
	EXPECT_REFUSED(&r, EINVAL);
	refused_init(&r, 1);
	r.args.ring = 0x1000;		/* unmapped */
	EXPECT_REFUSED(&r, EFAULT);
	refused_init(&r, 1);
	r.args.ring = 0xffff800000000000ULL;
	EXPECT_REFUSED(&r, COMPAT_TASK ? EINVAL : EFAULT);
	ring = ring_new(8, 0);
	ring->entries = 3;
	refused_init(&r, 1);
	r.args.ring = (uintptr_t)ring;
	EXPECT_REFUSED(&r, EINVAL);
	ring->entries = 0;
	EXPECT_REFUSED(&r, EINVAL);
	ring->entries = 8;
	ring->reserved = 1;
	EXPECT_REFUSED(&r, EINVAL);
	ring->reserved = 0;
	EXPECT_EQ(ASYNC_EXEC_DONE, async_exec(&r.args));
	EXPECT_EQ(1, pipe_pending(r.p[0]));
	/* Once in use, the size of a ring cannot change. */
	ring->entries = 16;
	EXPECT_REFUSED(&r, EINVAL);
}

TEST(r21_bad_eventfd)
{
	struct refused r;

	if (!async_available())
		SKIP(return, NO_ASYNC);
	refused_init(&r, 1);
	r.args.eventfd = r.p[0];	/* not an eventfd */
	EXPECT_REFUSED(&r, EINVAL);
	refused_init(&r, 1);
	r.args.eventfd = 1000;		/* not open */
	EXPECT_REFUSED(&r, EBADF);
}

TEST(r19_process_shape_calls_refused)
{
	static const long denied[] = {
		__NR_fork, __NR_vfork, __NR_clone, __NR_clone3, __NR_execve,
		__NR_execveat, __NR_exit, __NR_exit_group, __NR_async_exec,
		__NR_async_wait, __NR_async_cancel, 466, 467, 468, 469,
		__NR_unshare, __NR_setns, __NR_set_tid_address,
		__NR_set_robust_list, __NR_rseq, __NR_sigaltstack,
		__NR_rt_sigprocmask, __NR_rt_sigreturn,
#ifdef __NR_swapcontext
		__NR_swapcontext,
#endif
#ifdef __NR_switch_endian
		__NR_switch_endian,
#endif
		__NR_prctl, __NR_seccomp,
#ifdef __NR_arch_prctl
		__NR_arch_prctl,
#endif
#ifdef __NR_sigreturn
		__NR_sigreturn,
#endif
#ifdef __NR_sigprocmask
		__NR_sigprocmask, __NR_sigsuspend,
#endif
#ifdef __NR_s390_runtime_instr
		__NR_s390_runtime_instr, __NR_s390_guarded_storage,
#endif
	};
	struct refused r;
	unsigned int i;

	if (!async_available())
		SKIP(return, NO_ASYNC);
	for (i = 0; i < ARRAY_SIZE(denied); i++) {
		refused_init(&r, 2);
		r.atoms[1].nr = denied[i];
		TH_LOG("syscall %ld", denied[i]);
		EXPECT_REFUSED(&r, EINVAL);
	}
}

TEST(r26_credential_calls_refused)
{
	static const long denied[] = {
		__NR_setuid, __NR_setgid, __NR_setreuid, __NR_setregid,
		__NR_setresuid, __NR_setresgid, __NR_setfsuid, __NR_setfsgid,
		__NR_setgroups, __NR_capset, __NR_keyctl,
	};
	struct refused r;
	unsigned int i;

	if (!async_available())
		SKIP(return, NO_ASYNC);
	for (i = 0; i < ARRAY_SIZE(denied); i++) {
		refused_init(&r, 2);
		r.atoms[1].nr = denied[i];
		TH_LOG("syscall %ld", denied[i]);
		EXPECT_REFUSED(&r, EINVAL);
	}
}

/*
 * atom 0: write(fd, buf, len) with a stop condition, atom 1: write one
 * more byte. Returns how many atoms ran.
 */
static int run_stop(int wfd, int rfd, long len, int fd0, unsigned int stop,
		    long *status)
{
	struct async_ring *ring = ring_new(4, 0);
	struct async_atom atoms[2];
	struct async_args args;
	char buf[8] = "abcdefg";
	int ran;

	atom_set(&atoms[0], __NR_write, stop, fd0 < 0 ? fd0 : wfd,
		 (uintptr_t)buf, len);
	atom_set(&atoms[1], __NR_write, 0, wfd, (uintptr_t)"Z", 1);
	args_set(&args, atoms, 2, ring, 7);
	if (async_exec(&args) != ASYNC_EXEC_DONE)
		return -1;
	*status = args.status;
	ran = args.index + 1;
	pipe_pending(rfd);
	munmap(ring, 4096);
	return ran;
}

TEST(r11_stop_conditions)
{
	static const struct {
		unsigned int stop;
		long len;
		int fd;
		int ran;
	} cases[] = {
		{ ASYNC_STOP_NONE,		0, 0,  2 },
		{ ASYNC_STOP_NONE,		-1, -1, 2 },
		{ ASYNC_STOP_ZERO,		0, 0,  1 },
		{ ASYNC_STOP_ZERO,		3, 0,  2 },
		{ ASYNC_STOP_ZERO,		1, -1, 2 },
		{ ASYNC_STOP_NONZERO,		3, 0,  1 },
		{ ASYNC_STOP_NONZERO,		1, -1, 1 },
		{ ASYNC_STOP_NONZERO,		0, 0,  2 },
		{ ASYNC_STOP_NEGATIVE,		1, -1, 1 },
		{ ASYNC_STOP_NEGATIVE,		0, 0,  2 },
		{ ASYNC_STOP_NEGATIVE,		3, 0,  2 },
		{ ASYNC_STOP_NONPOSITIVE,	0, 0,  1 },
		{ ASYNC_STOP_NONPOSITIVE,	1, -1, 1 },
		{ ASYNC_STOP_NONPOSITIVE,	3, 0,  2 },
		{ ASYNC_STOP_ERROR,		1, -1, 1 },
		{ ASYNC_STOP_ERROR,		0, 0,  2 },
		{ ASYNC_STOP_ERROR,		3, 0,  2 },
	};
	unsigned int i;
	long status = 0, want;
	int p[2];

	if (!async_available())
		SKIP(return, NO_ASYNC);
	ASSERT_EQ(0, pipe2(p, O_NONBLOCK));
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		TH_LOG("case %u", i);
		EXPECT_EQ(cases[i].ran, run_stop(p[1], p[0], cases[i].len,
						 cases[i].fd, cases[i].stop,
						 &status));
		want = 1;
		if (cases[i].ran == 1 && cases[i].fd < 0)
			want = -EBADF;
		else if (cases[i].ran == 1)
			want = cases[i].len;
		EXPECT_EQ(want, status);
	}
}

TEST(r02_result_passing)
{
	struct async_ring *ring = ring_new(4, 0);
	struct async_atom atoms[3];
	struct async_args args;
	char buf[8] = {};
	int p[2];
	int64_t dupfd;

	if (!async_available())
		SKIP(return, NO_ASYNC);
	ASSERT_EQ(0, pipe2(p, O_NONBLOCK));
	/* fd = dup(p[1]); write(fd, "abc", 3); close(fd) */
	atom_set(&atoms[0], __NR_dup, ASYNC_STOP_NEGATIVE, p[1], 0, 0);
	atom_set(&atoms[1], __NR_write, ASYNC_STOP_NEGATIVE, 0,
		 (uintptr_t)"abc", 3);
	atoms[1].ref_mask = ASYNC_ARG_REF(0);
	atoms[1].args[0] = 0;
	atom_set(&atoms[2], __NR_close, 0, 0, 0, 0);
	atoms[2].ref_mask = ASYNC_ARG_REF(0);
	atoms[2].result = (uintptr_t)&dupfd;
	args_set(&args, atoms, 3, ring, 1);
	dupfd = 1234;
	ASSERT_EQ(ASYNC_EXEC_DONE, async_exec(&args));
	EXPECT_EQ(2, args.index);
	EXPECT_EQ(0, args.status);
	EXPECT_EQ(0, dupfd);
	EXPECT_EQ(3, read(p[0], buf, sizeof(buf)));
	EXPECT_STREQ("abc", buf);
	/* The dup()ed descriptor was closed by the third atom. */
	EXPECT_EQ(-1, fcntl(p[1] + 1, F_GETFD));
}

TEST(r20_result_addresses)
{
	struct async_ring *ring = ring_new(4, 0);
	struct async_atom atoms[3];
	struct async_args args;
	int64_t res[3] = { 111, 222, 333 };

	if (!async_available())
		SKIP(return, NO_ASYNC);
	atom_set(&atoms[0], __NR_getpid, 0, 0, 0, 0);
	atom_set(&atoms[1], __NR_close, 0, -1, 0, 0);
	atom_set(&atoms[2], __NR_getppid, 0, 0, 0, 0);
	atoms[0].result = (uintptr_t)&res[0];
	atoms[1].result = (uintptr_t)&res[1];
	/* atoms[2] has no result address: res[2] is left alone. */
	args_set(&args, atoms, 3, ring, 1);
	ASSERT_EQ(ASYNC_EXEC_DONE, async_exec(&args));
	EXPECT_EQ(getpid(), res[0]);
	EXPECT_EQ(-EBADF, res[1]);
	EXPECT_EQ(333, res[2]);
	EXPECT_EQ(getppid(), args.status);
	EXPECT_EQ(2, args.index);
	EXPECT_EQ(0, args.out_flags);
}

TEST(r17_sync_completion_reports_last_atom)
{
	struct async_ring *ring = ring_new(4, 0);
	struct async_atom atoms[4];
	struct async_args args;

	if (!async_available())
		SKIP(return, NO_ASYNC);
	atom_set(&atoms[0], __NR_getpid, 0, 0, 0, 0);
	atom_set(&atoms[1], __NR_close, ASYNC_STOP_ERROR, -1, 0, 0);
	atom_set(&atoms[2], __NR_getpid, 0, 0, 0, 0);
	atom_set(&atoms[3], __NR_getpid, 0, 0, 0, 0);
	args_set(&args, atoms, 4, ring, 1);
	ASSERT_EQ(ASYNC_EXEC_DONE, async_exec(&args));
	EXPECT_EQ(1, args.index);
	EXPECT_EQ(-EBADF, args.status);
	/* A synchronous chain posts nothing to the ring. */
	EXPECT_EQ(0, ring->tail);
}

TEST(r27_full_ring_refused)
{
	struct refused r;
	struct timespec ts = { 0, 0 };

	if (!async_available())
		SKIP(return, NO_ASYNC);
	refused_init(&r, 1);
	/* Register the ring, then pretend all 8 entries are unconsumed. */
	EXPECT_EQ(0, async_wait(r.ring, 0, &ts, 0));
	r.ring->head = (uint32_t)-8;
	EXPECT_REFUSED(&r, EAGAIN);
	/* A head that is ahead of the kernel's tail is a corrupt ring. */
	r.ring->head = 1;
	EXPECT_REFUSED(&r, EINVAL);
	r.ring->head = (uint32_t)-7;
	EXPECT_EQ(ASYNC_EXEC_DONE, async_exec(&r.args));
	EXPECT_EQ(1, pipe_pending(r.p[0]));
}

TEST(async_wait_errors_and_timeout)
{
	struct async_ring *ring = ring_new(8, 0);
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	struct timespec bad = { 0, 2000 * 1000 * 1000L };

	if (!async_available())
		SKIP(return, NO_ASYNC);
	EXPECT_EQ(-1, async_wait(ring, 1, &ts, 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, async_wait(ring, 9, &ts, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, async_wait(ring, 1, &bad, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, async_wait(ring, 1, (void *)8, 0));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, async_wait((void *)0x1000, 1, &ts, 0));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, async_wait(ring, 0, &ts, 0));
	EXPECT_EQ(-1, async_wait(ring, 1, &ts, 0));
	EXPECT_EQ(ETIME, errno);
}

static void on_alarm(int sig)
{
}

TEST(async_wait_interrupted_by_signal)
{
	struct async_ring *ring = ring_new(8, 0);
	struct sigaction sa = { .sa_handler = on_alarm };
	struct timespec ts = { 5, 0 };

	if (!async_available())
		SKIP(return, NO_ASYNC);
	sigaction(SIGALRM, &sa, NULL);
	alarm(1);
	EXPECT_EQ(-1, async_wait(ring, 1, &ts, 0));
	EXPECT_EQ(EINTR, errno);
	/* Without a timeout and without SA_RESTART, too. */
	alarm(1);
	EXPECT_EQ(-1, async_wait(ring, 1, NULL, 0));
	EXPECT_EQ(EINTR, errno);
}

TEST(r25_cancel_unknown_chain)
{
	struct async_ring *ring = ring_new(8, 0);
	struct async_atom atom;
	struct async_args args;

	if (!async_available())
		SKIP(return, NO_ASYNC);
	EXPECT_EQ(-1, async_cancel(ring, 42, 0));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, async_cancel(ring, 42, 1));
	EXPECT_EQ(EINVAL, errno);
	/* Once the process has rings: cancelling only ever looks rings up. */
	atom_set(&atom, __NR_getppid, 0, 0, 0, 0);
	args_set(&args, &atom, 1, ring, 1);
	ASSERT_EQ(ASYNC_EXEC_DONE, async_exec(&args));
	EXPECT_EQ(-1, async_cancel(ring, 1, 0));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, async_cancel((void *)((char *)ring + 8), 1, 0));
	EXPECT_EQ(ENOENT, errno);
	if (!COMPAT_TASK) {
		EXPECT_EQ(-1, async_cancel((void *)0xffff888000000000ULL, 1, 0));
		EXPECT_EQ(ENOENT, errno);
	}
	EXPECT_EQ(-1, async_cancel(NULL, 1, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, async_cancel((void *)((char *)ring + 4), 1, 0));
	EXPECT_EQ(EINVAL, errno);
}

static int install_filter(int nr, unsigned int action)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, action),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = 4, .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

TEST(r24_seccomp_errno_applies_to_atoms)
{
	struct async_ring *ring = ring_new(4, 0);
	struct async_atom atoms[2];
	struct async_args args;
	int64_t res = 0;

	if (!async_available())
		SKIP(return, NO_ASYNC);
	ASSERT_EQ(0, install_filter(__NR_getppid,
				    SECCOMP_RET_ERRNO | 77));
	errno = 0;
	EXPECT_EQ(-1, syscall(__NR_getppid));
	EXPECT_EQ(77, errno);
	atom_set(&atoms[0], __NR_getppid, 0, 0, 0, 0);
	atoms[0].result = (uintptr_t)&res;
	atom_set(&atoms[1], __NR_getpid, 0, 0, 0, 0);
	args_set(&args, atoms, 2, ring, 1);
	ASSERT_EQ(ASYNC_EXEC_DONE, async_exec(&args));
	EXPECT_EQ(-77, res);
	EXPECT_EQ(getpid(), args.status);
}

TEST(r24_seccomp_kill_applies_to_atoms)
{
	struct async_ring *ring = ring_new(4, 0);
	struct async_atom atom;
	struct async_args args;
	int status;
	pid_t pid;

	if (!async_available())
		SKIP(return, NO_ASYNC);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (install_filter(__NR_getppid, SECCOMP_RET_KILL_PROCESS))
			_exit(1);
		atom_set(&atom, __NR_getppid, 0, 0, 0, 0);
		args_set(&args, &atom, 1, ring, 1);
		async_exec(&args);
		_exit(2);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(SIGSYS, WTERMSIG(status));
}

TEST(r22_leader_runs_synchronously)
{
	struct async_ring *ring = ring_new(4, 0);
	struct async_atom atom;
	struct async_args args;
	char buf[8] = {};
	int p[2];
	pid_t pid;

	if (!async_available())
		SKIP(return, NO_ASYNC);
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		usleep(100 * 1000);
		write(p[1], "late", 4);
		_exit(0);
	}
	/* We are the thread-group leader: the chain waits for the data. */
	atom_set(&atom, __NR_read, 0, p[0], (uintptr_t)buf, sizeof(buf));
	args_set(&args, &atom, 1, ring, 1);
	EXPECT_EQ(ASYNC_EXEC_DONE, async_exec(&args));
	EXPECT_EQ(4, args.status);
	EXPECT_STREQ("late", buf);
	waitpid(pid, NULL, 0);
}

/* One chain: read(rfd, buf, len) -> write(wfd, buf, <result of atom 0>). */
struct rw_chain {
	struct async_atom atoms[2];
	struct async_args args;
	int64_t res0;
	char buf[64];
};

static void rw_chain_init(struct rw_chain *c, struct async_ring *ring,
			  int rfd, int wfd, size_t len, uint64_t cookie)
{
	atom_set(&c->atoms[0], __NR_read, ASYNC_STOP_NONPOSITIVE, rfd,
		 (uintptr_t)c->buf, len);
	c->atoms[0].result = (uintptr_t)&c->res0;
	atom_set(&c->atoms[1], __NR_write, 0, wfd, (uintptr_t)c->buf, 0);
	c->atoms[1].ref_mask = ASYNC_ARG_REF(2);
	c->atoms[1].args[2] = 0;
	args_set(&c->args, c->atoms, 2, ring, cookie);
}

static void *blocking_read_goes_async(void *arg)
{
	struct async_ring *ring = ring_new(8, 0);
	struct timespec ts = { 10, 0 };
	struct async_completion cqe = {};
	struct rw_chain c;
	char out[16] = {};
	int in[2], o[2];
	long handoffs = async_status("AsyncHandoffs");

	CHECK(!pipe(in) && !pipe(o));
	rw_chain_init(&c, ring, in[0], o[1], sizeof(c.buf), 0xc0ffee);
	CHECK(async_exec(&c.args) == ASYNC_EXEC_WENT_ASYNC);
	/* We run on while the chain waits for data. */
	CHECK(ring->tail == 0);
	CHECK(async_status("AsyncHandoffs") == handoffs + 1);
	CHECK(write(in[1], "hello", 5) == 5);
	CHECK(async_wait(ring, 1, &ts, 0) == 1);
	CHECK(!ring_pop(ring, &cqe));
	CHECK(cqe.cookie == 0xc0ffee);
	CHECK(cqe.index == 1);
	CHECK(cqe.status == 5);
	CHECK(cqe.flags == 0);
	CHECK(c.res0 == 5);
	CHECK(read(o[0], out, sizeof(out)) == 5);
	CHECK(!strcmp(out, "hello"));
	return FAILED();
}

TEST(r04_blocking_read_goes_async)
{
	if (!async_available())
		SKIP(return, NO_ASYNC);
	EXPECT_EQ(0, in_thread(blocking_read_goes_async, NULL));
}

static long task_ctxt_switches(pid_t tid)
{
	char path[64], line[128];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "voluntary_ctxt_switches: %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* The pool thread: the task that is neither the leader nor us. */
static pid_t find_other_task(pid_t a, pid_t b)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	pid_t t, found = -1;

	while (d && (de = readdir(d))) {
		t = atoi(de->d_name);
		if (t > 0 && t != a && t != b)
			found = t;
	}
	if (d)
		closedir(d);
	return found;
}

static void *sync_chain_wakes_no_thread(void *arg)
{
	struct async_ring *ring = ring_new(8, 0);
	struct async_atom atom;
	struct async_args args;
	long before, after;
	int tasks, i;
	pid_t pool;

	atom_set(&atom, __NR_getppid, 0, 0, 0, 0);
	args_set(&args, &atom, 1, ring, 1);
	/* The first submission makes the process's first pool thread. */
	CHECK(async_exec(&args) == ASYNC_EXEC_DONE);
	tasks = count_tasks();
	CHECK(tasks == 3);
	pool = find_other_task(getpid(), gettid_raw());
	CHECK(pool > 0);
	CHECK(async_status("AsyncPoolThreads") == 1);
	CHECK(async_status("AsyncPoolIdle") == 1);
	CHECK(async_status("AsyncHandoffs") == 0);
	usleep(100 * 1000);
	before = task_ctxt_switches(pool);
	CHECK(before >= 0);
	for (i = 0; i < 200; i++) {
		args_set(&args, &atom, 1, ring, 1);
		CHECK(async_exec(&args) == ASYNC_EXEC_DONE);
	}
	after = task_ctxt_switches(pool);
	CHECK(count_tasks() == tasks);
	CHECK(async_status("AsyncPoolThreads") == 1);
	CHECK(async_status("AsyncHandoffs") == 0);
	/* The idle thread was never woken. */
	CHECK(after == before);
	return FAILED();
}

TEST(r04_sync_chain_wakes_no_thread)
{
	if (!async_available())
		SKIP(return, NO_ASYNC);
	EXPECT_EQ(1, count_tasks());
	EXPECT_EQ(0, async_status("AsyncPoolThreads"));
	EXPECT_EQ(0, in_thread(sync_chain_wakes_no_thread, NULL));
}

static __thread int got_usr1;
static __thread pid_t usr1_tid;

static void on_usr1(int sig)
{
	__atomic_store_n(&usr1_tid, gettid_raw(), __ATOMIC_RELAXED);
	__atomic_store_n(&got_usr1, 1, __ATOMIC_RELEASE);
}

static void *tid_and_mutex_survive(void *arg)
{
	struct async_ring *ring = ring_new(8, 0);
	struct timespec ts = { 10, 0 };
	struct sigaction sa = { .sa_handler = on_usr1 };
	pthread_mutexattr_t ma;
	pthread_mutex_t m, pi;
	struct async_completion cqe = {};
	struct rw_chain c;
	pid_t tid = gettid_raw();
	pthread_t self = pthread_self();
	int in[2], o[2], i;

	CHECK(!pipe(in) && !pipe(o));
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	CHECK(!pthread_mutex_init(&m, &ma));
	pthread_mutexattr_setprotocol(&ma, PTHREAD_PRIO_INHERIT);
	CHECK(!pthread_mutex_init(&pi, &ma));
	CHECK(!pthread_mutex_lock(&m));
	CHECK(!pthread_mutex_lock(&pi));
	sigaction(SIGUSR1, &sa, NULL);

	for (i = 0; i < 3; i++) {
		rw_chain_init(&c, ring, in[0], o[1], 8, i);
		CHECK(async_exec(&c.args) == ASYNC_EXEC_WENT_ASYNC);
		CHECK(gettid_raw() == tid);
		CHECK(pthread_equal(pthread_self(), self));
		/* A signal to our thread id reaches us, not the chain. */
		__atomic_store_n(&got_usr1, 0, __ATOMIC_RELAXED);
		CHECK(!syscall(SYS_tgkill, getpid(), tid, SIGUSR1));
		CHECK(__atomic_load_n(&got_usr1, __ATOMIC_ACQUIRE));
		CHECK(__atomic_load_n(&usr1_tid, __ATOMIC_RELAXED) == tid);
		CHECK(write(in[1], "x", 1) == 1);
		CHECK(async_wait(ring, 1, &ts, 0) == 1);
		CHECK(!ring_pop(ring, &cqe));
		CHECK(cqe.status == 1 && cqe.cookie == (uint64_t)i);
	}
	/* Locks taken before the handoffs are still ours. */
	CHECK(pthread_mutex_unlock(&m) == 0);
	CHECK(pthread_mutex_unlock(&pi) == 0);
	CHECK(pthread_mutex_unlock(&m) == EPERM);
	return FAILED();
}

TEST(r22_tid_mutex_and_signals_survive_handoff)
{
	if (!async_available())
		SKIP(return, NO_ASYNC);
	EXPECT_EQ(0, in_thread(tid_and_mutex_survive, NULL));
}

#ifdef __x86_64__
#define X86_FPU_TEST
#elif defined(__i386__)
#define X86_FPU_TEST
#endif

#if defined(X86_FPU_TEST)
#define HAVE_FPU_TEST	1
#define FPC_RTZ		(0x7f80 | 0x6000)	/* MXCSR: round toward zero */

static inline void fpc_reset(void)
{
	asm volatile("ldmxcsr %0" : : "m" ((uint32_t){ 0x1f80 }));
}

static inline double fp_opaque(double x)
{
	asm volatile("" : "+x" (x));
	return x;
}

/* async_exec() issued by hand with live xmm9 (xmm7 for ia32) and MXCSR values. */
static long async_exec_fpu(struct async_args *a, const uint64_t in[2],
			   uint64_t out[2], uint32_t mxcsr_in,
			   uint32_t *mxcsr_out)
{
	long ret;

#ifdef __x86_64__
	asm volatile("ldmxcsr %[mxin]\n\t"
		     "movdqu (%[in]), %%xmm9\n\t"
		     "syscall\n\t"
		     "movdqu %%xmm9, (%[out])\n\t"
		     "stmxcsr %[mxout]\n\t"
		     : "=a" (ret), [mxout] "=m" (*mxcsr_out)
		     : "a" ((long)__NR_async_exec), "D" (a), "S" (sizeof(*a)),
		       [in] "r" (in), [out] "r" (out), [mxin] "m" (mxcsr_in)
		     : "rcx", "r11", "xmm9", "memory");
#else
	asm volatile("ldmxcsr %[mxin]\n\t"
		     "movdqu (%[in]), %%xmm7\n\t"
		     "int $0x80\n\t"
		     "movdqu %%xmm7, (%[out])\n\t"
		     "stmxcsr %[mxout]\n\t"
		     : "=a" (ret), [mxout] "=m" (*mxcsr_out)
		     : "a" ((long)__NR_async_exec), "b" (a), "c" (sizeof(*a)),
		       [in] "r" (in), [out] "r" (out), [mxin] "m" (mxcsr_in)
		     : "xmm7", "memory");
#endif
	return ret;
}

#elif defined(__s390__)
#define HAVE_FPU_TEST	1
#define FPC_RTZ		0x00000001	/* FPC: round toward zero */

static inline void fpc_reset(void)
{
	asm volatile("lfpc %0" : : "Q" ((uint32_t){ 0 }));
}

static inline double fp_opaque(double x)
{
	asm volatile("" : "+f" (x));
	return x;
}

/* async_exec() issued by hand with live v24, f8 and FPC values. */
static long async_exec_fpu(struct async_args *a, const uint64_t in[2],
			   uint64_t out[2], uint32_t fpc_in,
			   uint32_t *fpc_out)
{
	register long r1 asm("1") = __NR_async_exec;
	register long r2 asm("2") = (long)a;
	register long r3 asm("3") = sizeof(*a);
	uint64_t f8 = 0;

	asm volatile("lfpc	%[fi]\n\t"
		     "ld	%%f8,8(%[in])\n\t"
		     ".machine push\n\t"
		     ".machine \"z13\"\n\t"
		     "vl	%%v24,0(%[in])\n\t"
		     "svc	0\n\t"
		     "vst	%%v24,0(%[out])\n\t"
		     ".machine pop\n\t"
		     "std	%%f8,%[f8]\n\t"
		     "stfpc	%[fo]\n\t"
		     : "+d" (r2), [fo] "=Q" (*fpc_out), [f8] "=R" (f8)
		     : "d" (r1), "d" (r3), [in] "a" (in), [out] "a" (out),
		       [fi] "Q" (fpc_in)
		     : "f8", "memory");
	if (f8 != in[1])
		out[1] ^= 1;
	return r2;
}

#elif defined(__powerpc__)
#define HAVE_FPU_TEST	1
#define PPC_FPU_TEST
#else
#define HAVE_FPU_TEST	0
#endif

#if HAVE_FPU_TEST && !defined(PPC_FPU_TEST)
static void *fpu_survives(void *arg)
{
	struct async_ring *ring = ring_new(8, 0);
	struct timespec ts = { 10, 0 };
	const uint64_t in[2] = { 0x0123456789abcdefULL, 0xfedcba9876543210ULL };
	uint64_t out[2] = { 0, 0 };
	uint32_t mx_in = FPC_RTZ, mx_out = 0;
	double x = 1.0, y = 3.0;
	struct rw_chain c;
	int p[2], o[2];
	long ret;

	CHECK(!pipe(p) && !pipe(o));
	rw_chain_init(&c, ring, p[0], o[1], 8, 1);
	ret = async_exec_fpu(&c.args, in, out, mx_in, &mx_out);
	fpc_reset();
	CHECK(ret == ASYNC_EXEC_WENT_ASYNC);
	CHECK(out[0] == in[0] && out[1] == in[1]);
	CHECK(mx_out == mx_in);
	/* Keep the division at run time, under the restored MXCSR. */
	x = fp_opaque(x);
	y = fp_opaque(y);
	CHECK(x / y > 0.333 && x / y < 0.334);
	CHECK(write(p[1], "z", 1) == 1);
	CHECK(async_wait(ring, 1, &ts, 0) == 1);
	return FAILED();
}
#endif

#ifdef PPC_FPU_TEST
static void *fpu_survives(void *arg)
{
	struct async_ring *ring = ring_new(8, 0);
	struct timespec ts = { 10, 0 };
	uint64_t in[8];
	uint64_t out[8] = {};
	unsigned int rn_out = 0;	/* FPSCR[RN] 1: round toward zero */
	double x = 1.0, y = 3.0;
	struct rw_chain c;
	int p[2], o[2];
	long ret, i;

	for (i = 0; i < 8; i++)
		in[i] = 0x0123456789abcdefULL + i;
	CHECK(!pipe(p) && !pipe(o));
	rw_chain_init(&c, ring, p[0], o[1], 8, 1);
	ret = ppc_fp_syscall(__NR_async_exec, (long)&c.args, sizeof(c.args),
			     0, in, out, 1, &rn_out);
	CHECK(ret == ASYNC_EXEC_WENT_ASYNC);
	CHECK(!memcmp(in, out, sizeof(in)));
	CHECK(rn_out == 1);
	/* Keep the division at run time: the FPU still computes. */
	asm volatile("" : "+d" (x), "+d" (y));
	CHECK(x / y > 0.333 && x / y < 0.334);
	CHECK(write(p[1], "z", 1) == 1);
	CHECK(async_wait(ring, 1, &ts, 0) == 1);
	return FAILED();
}
#endif

TEST(r28_fpu_state_survives_handoff)
{
	if (!async_available())
		SKIP(return, NO_ASYNC);
#if HAVE_FPU_TEST
#ifdef __s390__
	if (!(getauxval(AT_HWCAP) & HWCAP_S390_VXRS))
		SKIP(return, "no vector facility");
#endif
	EXPECT_EQ(0, in_thread(fpu_survives, NULL));
#else
	SKIP(return, "no FPU register test for this architecture");
#endif
}

static void *ring_wraps(void *arg)
{
	struct async_ring *ring = ring_new(4, UINT32_MAX - 2);
	struct timespec ts = { 10, 0 };
	struct async_completion cqe = {};
	struct rw_chain c[3];
	int p[2], o[2], i, round;
	uint64_t seen;

	CHECK(!pipe(p) && !pipe(o));
	for (round = 0; round < 3; round++) {
		/* Three chains in flight, completing across the wrap. */
		for (i = 0; i < 3; i++) {
			rw_chain_init(&c[i], ring, p[0], o[1], 1, round * 10 + i);
			CHECK(async_exec(&c[i].args) == ASYNC_EXEC_WENT_ASYNC);
		}
		CHECK(write(p[1], "abc", 3) == 3);
		CHECK(async_wait(ring, 3, &ts, 0) == 3);
		seen = 0;
		for (i = 0; i < 3; i++) {
			CHECK(!ring_pop(ring, &cqe));
			CHECK(cqe.cookie / 10 == (uint64_t)round);
			CHECK(cqe.status == 1 && cqe.index == 1);
			seen |= 1ULL << (cqe.cookie % 10);
		}
		CHECK(seen == 7);
		CHECK(ring_pop(ring, &cqe) == -1);
	}
	/* The indices wrapped: 3 rounds of 3 from UINT32_MAX - 2. */
	CHECK(ring->tail == 6 && ring->head == 6);
	return FAILED();
}

TEST(r05_ring_wraps_at_u32_max)
{
	if (!async_available())
		SKIP(return, NO_ASYNC);
	EXPECT_EQ(0, in_thread(ring_wraps, NULL));
}

#define POSTED_ROUNDS	5000

/*
 * A post shows the completion to user space a moment before the kernel's
 * own tail moves. A consumer that pops it at once and then waits or
 * submits must be served from its new head, not refused with -EINVAL.
 */
static void *head_at_posted_tail(void *arg)
{
	struct async_ring *ring = ring_new(4, 0);
	struct timespec zero = { 0, 0 };
	struct async_completion cqe = {};
	struct rw_chain c;
	int p[2], o[2], round, spins;
	char sink;

	CHECK(ring && !pipe(p) && !pipe(o));
	for (round = 0; round < POSTED_ROUNDS && !failed_line; round++) {
		rw_chain_init(&c, ring, p[0], o[1], 1, round);
		CHECK(async_exec(&c.args) == ASYNC_EXEC_WENT_ASYNC);
		CHECK(write(p[1], "x", 1) == 1);
		for (spins = 0; __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE) ==
				ring->head; spins++) {
			if (!(spins % 256))
				sched_yield();
		}
		CHECK(!ring_pop(ring, &cqe));
		CHECK(cqe.cookie == (uint64_t)round && cqe.status == 1);
		/* Odd rounds go straight to the next submission instead. */
		if (!(round % 2))
			CHECK(async_wait(ring, 0, &zero, 0) == 0);
		CHECK(read(o[0], &sink, 1) == 1);
	}
	CHECK(ring->head == POSTED_ROUNDS && ring->tail == POSTED_ROUNDS);
	return FAILED();
}

TEST(r05_head_moved_past_a_tail_being_posted)
{
	if (!async_available())
		SKIP(return, NO_ASYNC);
	EXPECT_EQ(0, in_thread(head_at_posted_tail, NULL));
}

static void *full_ring(void *arg)
{
	struct async_ring *ring = ring_new(4, 0);
	struct timespec ts = { 10, 0 };
	struct async_completion cqe = {};
	struct rw_chain c[5];
	int p[2], o[2], i;
	uint64_t seen = 0;

	CHECK(!pipe(p) && !pipe(o));
	for (i = 0; i < 4; i++) {
		rw_chain_init(&c[i], ring, p[0], o[1], 1, i);
		CHECK(async_exec(&c[i].args) == ASYNC_EXEC_WENT_ASYNC);
	}
	/* All four slots are reserved: the fifth is refused, runs nothing. */
	rw_chain_init(&c[4], ring, p[0], o[1], 1, 4);
	errno = 0;
	CHECK(async_exec(&c[4].args) == -1 && errno == EAGAIN);
	CHECK(write(p[1], "abcd", 4) == 4);
	CHECK(async_wait(ring, 4, &ts, 0) == 4);
	for (i = 0; i < 4; i++) {
		CHECK(!ring_pop(ring, &cqe));
		seen |= 1ULL << cqe.cookie;
	}
	CHECK(seen == 0xf);
	/* Nothing consumed the byte the refused chain would have read. */
	CHECK(write(p[1], "e", 1) == 1);
	CHECK(async_exec(&c[4].args) == ASYNC_EXEC_WENT_ASYNC ||
	      c[4].args.status == 1);
	return FAILED();
}

TEST(r27_full_ring_eagain_loses_nothing)
{
	if (!async_available())
		SKIP(return, NO_ASYNC);
	EXPECT_EQ(0, in_thread(full_ring, NULL));
}

/*
 * A completion the kernel cannot write (the ring was made read-only while
 * the chain was pending) is not dropped silently: it is counted.
 */
static void *unwritable_ring(void *arg)
{
	size_t len = sizeof(struct async_ring) + sizeof(struct async_completion);
	struct async_ring *ring = ring_new(1, 0);
	long lost = async_status("AsyncLostCompletions");
	struct async_atom atom;
	struct async_args args;
	struct rw_chain c;
	int in[2], o[2], i;

	CHECK(lost >= 0);
	CHECK(!pipe(in) && !pipe(o));
	rw_chain_init(&c, ring, in[0], o[1], 8, 9);
	CHECK(async_exec(&c.args) == ASYNC_EXEC_WENT_ASYNC);
	/* The one slot is held by the pending chain. */
	atom_set(&atom, __NR_getppid, 0, 0, 0, 0);
	args_set(&args, &atom, 1, ring, 10);
	CHECK(async_exec(&args) == -1 && errno == EAGAIN);
	CHECK(!mprotect(ring, len, PROT_READ));
	CHECK(write(in[1], "z", 1) == 1);
	for (i = 0; i < 1000; i++) {
		if (async_status("AsyncLostCompletions") == lost + 1)
			break;
		usleep(10 * 1000);
	}
	CHECK(async_status("AsyncLostCompletions") == lost + 1);
	CHECK(!mprotect(ring, len, PROT_READ | PROT_WRITE));
	CHECK(ring->tail == 0);
	/* The slot it held is free again. */
	args_set(&args, &atom, 1, ring, 11);
	CHECK(async_exec(&args) == ASYNC_EXEC_DONE);
	return FAILED();
}

TEST(r27_unwritable_ring_counts_lost_completion)
{
	if (!async_available())
		SKIP(return, NO_ASYNC);
	EXPECT_EQ(0, in_thread(unwritable_ring, NULL));
}

static void *eventfd_epoll(void *arg)
{
	struct async_ring *ring = ring_new(8, 0);
	struct epoll_event ev = { .events = EPOLLIN };
	struct rw_chain c;
	uint64_t count = 0;
	int p[2], o[2], efd, ep;

	CHECK(!pipe(p) && !pipe(o));
	efd = eventfd(0, EFD_NONBLOCK);
	ep = epoll_create1(0);
	CHECK(efd >= 0 && ep >= 0);
	CHECK(!epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev));
	rw_chain_init(&c, ring, p[0], o[1], 8, 5);
	c.args.eventfd = efd;
	CHECK(async_exec(&c.args) == ASYNC_EXEC_WENT_ASYNC);
	CHECK(epoll_wait(ep, &ev, 1, 100) == 0);
	CHECK(write(p[1], "q", 1) == 1);
	CHECK(epoll_wait(ep, &ev, 1, 10000) == 1);
	CHECK(read(efd, &count, sizeof(count)) == sizeof(count));
	CHECK(count == 1);
	CHECK(ring->tail == 1);
	return FAILED();
}

TEST(r21_eventfd_with_epoll)
{
	if (!async_available())
		SKIP(return, NO_ASYNC);
	EXPECT_EQ(0, in_thread(eventfd_epoll, NULL));
}

static void *cancel_blocked(void *arg)
{
	struct async_ring *ring = ring_new(8, 0);
	struct timespec ts = { 10, 0 };
	struct async_completion cqe = {};
	struct rw_chain c;
	int p[2], o[2];

	CHECK(!pipe(p) && !pipe(o));
	rw_chain_init(&c, ring, p[0], o[1], 8, 77);
	CHECK(async_exec(&c.args) == ASYNC_EXEC_WENT_ASYNC);
	CHECK(async_cancel(ring, 78, 0) == -1 && errno == ENOENT);
	CHECK(async_cancel(ring, 77, 0) == 0);
	CHECK(async_wait(ring, 1, &ts, 0) == 1);
	CHECK(!ring_pop(ring, &cqe));
	CHECK(cqe.cookie == 77);
	CHECK(cqe.status == -ECANCELED);
	CHECK(cqe.index == 0);
	CHECK(cqe.flags & ASYNC_COMPLETION_CANCELED);
	CHECK(c.res0 == -ECANCELED);
	CHECK(async_cancel(ring, 77, 0) == -1 && errno == ENOENT);
	/* The pipe still works: nothing was left reading it. */
	CHECK(write(p[1], "k", 1) == 1);
	CHECK(read(p[0], c.buf, 1) == 1);
	return FAILED();
}

TEST(r25_cancel_blocked_chain)
{
	if (!async_available())
		SKIP(return, NO_ASYNC);
	EXPECT_EQ(0, in_thread(cancel_blocked, NULL));
}

#define MANY 1000

static void *many_blocked(void *arg)
{
	struct async_ring *ring = ring_new(1024, 0);
	struct timespec ts = { 60, 0 };
	static struct rw_chain c[MANY];
	static char bytes[MANY];
	struct async_completion cqe = {};
	static unsigned char seen[MANY];
	int p[2], o[2], i, n;

	CHECK(!pipe(p) && !pipe(o));
	CHECK(fcntl(o[1], F_SETPIPE_SZ, 1 << 16) > 0);
	for (i = 0; i < MANY; i++) {
		rw_chain_init(&c[i], ring, p[0], o[1], 1, i);
		if (!CHECK(async_exec(&c[i].args) == ASYNC_EXEC_WENT_ASYNC))
			break;
	}
	CHECK(write(p[1], bytes, MANY) == MANY);
	for (n = 0; n < MANY;) {
		if (!CHECK(async_wait(ring, 1, &ts, 0) >= 1))
			break;
		while (!ring_pop(ring, &cqe)) {
			CHECK(cqe.cookie < MANY && !seen[cqe.cookie]);
			CHECK(cqe.status == 1);
			seen[cqe.cookie] = 1;
			n++;
		}
	}
	return FAILED();
}

TEST(r23_thousand_blocked_chains_complete)
{
	if (!async_available())
		SKIP(return, NO_ASYNC);
	EXPECT_EQ(0, in_thread(many_blocked, NULL));
}

static void *many_blocked_then_die(void *arg)
{
	struct async_ring *ring = ring_new(1024, 0);
	int *p = arg, i;
	static struct rw_chain c[MANY];

	for (i = 0; i < MANY; i++) {
		rw_chain_init(&c[i], ring, p[0], p[1], 1, i);
		if (!CHECK(async_exec(&c[i].args) == ASYNC_EXEC_WENT_ASYNC))
			break;
	}
	CHECK(write(p[2], "r", 1) == 1);
	pause();
	return FAILED();
}

TEST(r23_sigkill_with_thousand_pending_chains)
{
	int before, after, p[3], ready[2], status, tries;
	char ch;
	pid_t pid;

	if (!async_available())
		SKIP(return, NO_ASYNC);
	before = count_system_threads();
	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int q[2];

		if (pipe(q))
			_exit(1);
		p[0] = q[0];
		p[1] = q[1];
		p[2] = ready[1];
		_exit(in_thread(many_blocked_then_die, p) ? 1 : 0);
	}
	ASSERT_EQ(1, read(ready[0], &ch, 1));
	EXPECT_GE(count_system_threads(), before + MANY);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	/* Every task of the child is gone (reaping may lag a little). */
	for (tries = 0; tries < 50; tries++) {
		after = count_system_threads();
		if (after <= before)
			break;
		usleep(100 * 1000);
	}
	EXPECT_LE(after, before);
}

static void *nproc_limited(void *arg)
{
	struct async_ring *ring = ring_new(8, 0);
	struct rw_chain c;
	int *p = arg;
	int tasks = count_tasks();

	/* No pool thread can be made: the chain runs to its end here. */
	rw_chain_init(&c, ring, p[0], p[1], 8, 1);
	CHECK(async_exec(&c.args) == ASYNC_EXEC_DONE);
	CHECK(c.args.status == 4);
	CHECK(count_tasks() == tasks);
	return FAILED();
}

TEST(r23_rlimit_nproc_respected)
{
	struct rlimit rl;
	int in[2], o[2], p[2];
	pid_t pid;

	if (!async_available())
		SKIP(return, NO_ASYNC);
	ASSERT_EQ(0, pipe(in));
	ASSERT_EQ(0, pipe(o));
	/* RLIMIT_NPROC does not bind root: become nobody first. */
	ASSERT_EQ(0, setresgid(65534, 65534, 65534));
	ASSERT_EQ(0, setresuid(65534, 65534, 65534));
	/* Us, the writer child and our thread: no room for a pool thread. */
	rl.rlim_cur = 3;
	rl.rlim_max = 3;
	ASSERT_EQ(0, setrlimit(RLIMIT_NPROC, &rl));
	pid = fork();
	if (pid == 0) {
		/* A separate writer, outside the limit's reach: already forked. */
		usleep(300 * 1000);
		_exit(write(in[1], "data", 4) == 4 ? 0 : 1);
	}
	if (pid < 0)
		SKIP(return, "cannot fork under the limit");
	p[0] = in[0];
	p[1] = o[1];
	EXPECT_EQ(0, in_thread(nproc_limited, p));
	waitpid(pid, NULL, 0);
}

/*
 * R26: what pending chains cost the kernel (the chains and the pool
 * threads that carry the callers' contexts on) is charged to the
 * submitter's memory cgroup, and all of it is given back when they end.
 */
#define CG_ROOT		"/sys/fs/cgroup"
#define MEMCG_CHAINS	200

/*
 * memory.current counts what a CPU has charged ahead for a cgroup in its
 * per-CPU stock (MEMCG_CHARGE_BATCH, 64 pages) as used, and a stock can
 * keep that after the cgroup's tasks are gone: allow that much per CPU,
 * 512 KiB on the two 4 KiB-page CPUs of the test VMs, well under what
 * MEMCG_CHAINS pending chains take.
 */
static long memcg_slack(void)
{
	return 64L * sysconf(_SC_PAGESIZE) * sysconf(_SC_NPROCESSORS_ONLN);
}

struct memcg_run {
	char cg[128];
	int p[2];		/* the pipe every chain reads a byte from */
	long before, during;	/* memory.current */
	int tasks;		/* tasks of the process with the chains pending */
	int went_async, completed;
};

/* A number from a cgroup file (memory.current), -1 if unreadable. */
static long cg_read(const char *cg, const char *file)
{
	char path[256], buf[64];
	int fd, n;

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

static int cg_write(const char *cg, const char *file, const char *val)
{
	char path[256];
	int fd, n;

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -1 : 0;
}

/* A new memory cgroup below the root: NULL, or why there is none. */
static const char *memcg_new(char *cg, size_t len, const char *name)
{
	char ctrl[256] = "";
	int fd, n;

	mkdir(CG_ROOT, 0755);
	if (access(CG_ROOT "/cgroup.controllers", F_OK) &&
	    mount("cgroup2", CG_ROOT, "cgroup2", 0, NULL))
		return "no cgroup2 hierarchy";
	fd = open(CG_ROOT "/cgroup.controllers", O_RDONLY);
	n = fd < 0 ? -1 : read(fd, ctrl, sizeof(ctrl) - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0 || !strstr(ctrl, "memory"))
		return "kernel without the memory controller (CONFIG_MEMCG)";
	cg_write(CG_ROOT, "cgroup.subtree_control", "+memory");
	snprintf(cg, len, CG_ROOT "/%s-%d", name, getpid());
	if (mkdir(cg, 0755))
		return "cannot create a cgroup";
	snprintf(ctrl, sizeof(ctrl), "%s/memory.current", cg);
	if (access(ctrl, F_OK)) {
		rmdir(cg);
		return "memory controller not available below the root";
	}
	return NULL;
}

/* Remove a cgroup once the tasks that were in it are all gone. */
static int memcg_remove(const char *cg)
{
	int i;

	for (i = 0; i < 100; i++) {
		if (!rmdir(cg))
			return 0;
		usleep(100 * 1000);
	}
	return -1;
}

/* In a process of its own, in the cgroup: pend chains, then finish them. */
static void *memcg_pending(void *arg)
{
	struct async_ring *ring = ring_new(256, 0);
	static struct rw_chain c[MEMCG_CHAINS];
	static char bytes[MEMCG_CHAINS];
	struct timespec ts = { 60, 0 };
	struct async_completion cqe;
	struct memcg_run *m = arg;
	int o[2], i;

	CHECK(ring && !pipe(o));
	CHECK(fcntl(o[1], F_SETPIPE_SZ, 1 << 16) > 0);
	m->before = cg_read(m->cg, "memory.current");
	for (i = 0; i < MEMCG_CHAINS; i++) {
		rw_chain_init(&c[i], ring, m->p[0], o[1], 1, i);
		if (!CHECK(async_exec(&c[i].args) == ASYNC_EXEC_WENT_ASYNC))
			break;
		m->went_async++;
	}
	m->during = cg_read(m->cg, "memory.current");
	m->tasks = count_tasks();
	CHECK(write(m->p[1], bytes, m->went_async) == m->went_async);
	while (m->completed < m->went_async) {
		if (!CHECK(async_wait(ring, 1, &ts, 0) >= 1))
			break;
		while (!ring_pop(ring, &cqe)) {
			CHECK(cqe.status == 1);
			m->completed++;
		}
	}
	return FAILED();
}

static struct memcg_run *memcg_run_new(void)
{
	struct memcg_run *m = mmap(NULL, sizeof(*m), PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return m == MAP_FAILED ? NULL : m;
}

/* Fork a child into @m->cg that runs @fn in a second thread. */
static pid_t memcg_child(struct memcg_run *m, void *(*fn)(void *))
{
	char self[16];
	pid_t pid = fork();

	if (pid)
		return pid;
	snprintf(self, sizeof(self), "%d", getpid());
	if (cg_write(m->cg, "cgroup.procs", self) || pipe(m->p))
		_exit(2);
	_exit(in_thread(fn, m) ? 1 : 0);
}

TEST(r26_pending_chains_charged_to_submitters_memcg)
{
	struct memcg_run *m = memcg_run_new();
	long after = -1;
	const char *why;
	int status, i;
	pid_t pid;

	if (!async_available())
		SKIP(return, NO_ASYNC);
	ASSERT_NE(NULL, m);
	why = memcg_new(m->cg, sizeof(m->cg), "async-r26");
	if (why)
		SKIP(return, "%s", why);
	pid = memcg_child(m, memcg_pending);
	ASSERT_LE(0, pid);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(MEMCG_CHAINS, m->went_async);
	EXPECT_EQ(m->went_async, m->completed);
	/* Each pending chain keeps its submitting task in the kernel. */
	EXPECT_GE(m->tasks, MEMCG_CHAINS + 2);
	/*
	 * A pool thread's kernel stack alone is THREAD_SIZE (16 KiB on
	 * x86-64, at least 8 KiB everywhere), charged to the cgroup of the
	 * process it belongs to, like its task_struct and the chains.
	 */
	TH_LOG("memory.current %ld before, %ld with %d chains pending",
	       m->before, m->during, m->went_async);
	EXPECT_GE(m->during - m->before, (long)MEMCG_CHAINS * 8192);
	/*
	 * All of it is uncharged once the process is gone (RCU may lag),
	 * but for what per-CPU stocks hold (memcg_slack()) and page cache
	 * the child was first to touch.
	 */
	for (i = 0; i < 100; i++) {
		after = cg_read(m->cg, "memory.current");
		if (after >= 0 && after <= m->before)
			break;
		usleep(100 * 1000);
	}
	TH_LOG("memory.current %ld after the process is gone", after);
	EXPECT_LE(after, m->before + memcg_slack());
	EXPECT_EQ(0, memcg_remove(m->cg));
}

#define TIGHT_CHAINS	2000
#define TIGHT_ROOM	(6L << 20)

/* The value of @key in a flat-keyed cgroup file, -1 if there is none. */
static long cg_read_key(const char *cg, const char *file, const char *key)
{
	char path[256], line[128];
	size_t len = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, len) && line[len] == ' ') {
			v = strtol(line + len + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

/* Shared between the test and its child in a cgroup with a tight memory.max. */
struct tight_run {
	char cg[128];
	int in[2];		/* the pipe every chain reads a byte from */
	int state;		/* 1: child in the cgroup, 2: limit set */
	int went_async, completed, stopped, sync_done, refused;
};

static struct rw_chain tight_chains[TIGHT_CHAINS];

/* Pend chains until the cgroup cannot hold another, then finish them. */
static void *tight_pending(void *arg)
{
	struct async_ring *ring = ring_new(4096, 0);
	struct rw_chain *c = tight_chains;
	struct timespec ts = { 60, 0 };
	struct async_completion cqe;
	struct tight_run *m = arg;
	int o[2], i;
	long ret;

	CHECK(ring && !pipe(o));
	CHECK(fcntl(o[1], F_SETPIPE_SZ, 1 << 16) > 0);
	for (i = 0; i < TIGHT_CHAINS && !failed_line; i++) {
		rw_chain_init(&c[i], ring, m->in[0], o[1], 1, i);
		ret = async_exec(&c[i].args);
		if (ret == ASYNC_EXEC_WENT_ASYNC) {
			__atomic_add_fetch(&m->went_async, 1, __ATOMIC_RELEASE);
			continue;
		}
		/* No pool thread could be had: the chain ran in the caller. */
		if (ret == ASYNC_EXEC_DONE) {
			CHECK(c[i].args.status == 1);
			m->sync_done = 1;
		} else {
			m->refused = errno;
			CHECK(errno == ENOMEM || errno == EAGAIN);
		}
		break;
	}
	__atomic_store_n(&m->stopped, 1, __ATOMIC_RELEASE);
	while (m->completed < m->went_async && !failed_line) {
		if (!CHECK(async_wait(ring, 1, &ts, 0) >= 1))
			break;
		while (!ring_pop(ring, &cqe)) {
			CHECK(cqe.status == 1);
			m->completed++;
		}
	}
	return FAILED();
}

/*
 * R26 under memory pressure: a process whose pending chains fill its
 * memory cgroup is refused, runs the next chain itself, or is killed by
 * the cgroup's OOM killer. Whichever it is, no completion of a chain
 * that went async is lost while it lives, and once it is gone its tasks
 * and its charges are gone too.
 */
/* Only for the longer timeout: cgroup reclaim and OOM are slow under emulation. */
FIXTURE(pressure) {
};

FIXTURE_SETUP(pressure)
{
}

FIXTURE_TEARDOWN(pressure)
{
}

TEST_F_TIMEOUT(pressure, r26_chains_under_a_tight_memory_max, 120)
{
	static const char marker[] = "vmtest: expecting oom-killer\n";
	struct tight_run *m = mmap(NULL, sizeof(*m), PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	static char bytes[TIGHT_CHAINS];
	int before, after, status, last = -1, still = 0, kmsg, i;
	long base, left = -1;
	bool reaped = false;
	const char *why;
	char val[32];
	pid_t pid;

	if (!async_available())
		SKIP(return, NO_ASYNC);
	ASSERT_NE(MAP_FAILED, m);
	why = memcg_new(m->cg, sizeof(m->cg), "async-tight");
	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, pipe(m->in));
	/* The console judge lets an OOM report through after this line. */
	kmsg = open("/dev/kmsg", O_WRONLY);
	if (kmsg >= 0) {
		write(kmsg, marker, sizeof(marker) - 1);
		close(kmsg);
	}
	before = count_system_threads();
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Gone with the test if one of its assertions ends it early. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		snprintf(val, sizeof(val), "%d", getpid());
		if (cg_write(m->cg, "cgroup.procs", val))
			_exit(2);
		/* Charge the chains' memory here, so that it is in the base. */
		memset(tight_chains, 1, sizeof(tight_chains));
		__atomic_store_n(&m->state, 1, __ATOMIC_RELEASE);
		while (__atomic_load_n(&m->state, __ATOMIC_ACQUIRE) != 2)
			usleep(1000);
		_exit(in_thread(tight_pending, m) ? 1 : 0);
	}
	while (__atomic_load_n(&m->state, __ATOMIC_ACQUIRE) != 1)
		usleep(1000);
	base = cg_read(m->cg, "memory.current");
	ASSERT_LE(0, base);
	snprintf(val, sizeof(val), "%ld", base + TIGHT_ROOM);
	ASSERT_EQ(0, cg_write(m->cg, "memory.max", val));
	__atomic_store_n(&m->state, 2, __ATOMIC_RELEASE);

	/* Until the child stops submitting, dies, or makes no progress for 3 s. */
	for (i = 0; i < 600 && still < 15; i++) {
		usleep(200 * 1000);
		if (__atomic_load_n(&m->stopped, __ATOMIC_ACQUIRE))
			break;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			reaped = true;
			break;
		}
		if (__atomic_load_n(&m->went_async, __ATOMIC_ACQUIRE) == last) {
			still++;
		} else {
			last = m->went_async;
			still = 0;
		}
	}
	TH_LOG("%d chains went async, then %s", m->went_async,
	       m->refused ? strerror(m->refused) :
	       m->sync_done ? "one ran in the caller" : "no more progress");
	/* The limit was really reached. */
	EXPECT_LT(0, cg_read_key(m->cg, "memory.events", "max"));
	ASSERT_EQ((ssize_t)sizeof(bytes), write(m->in[1], bytes, sizeof(bytes)));
	if (!reaped)
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
	if (WIFSIGNALED(status)) {
		TH_LOG("the child was killed by signal %d (the cgroup's OOM killer)",
		       WTERMSIG(status));
		EXPECT_EQ(SIGKILL, WTERMSIG(status));
	} else {
		EXPECT_TRUE(WIFEXITED(status));
		EXPECT_EQ(0, WEXITSTATUS(status));
		EXPECT_EQ(m->went_async, m->completed);
	}
	/* No task of the child is left, nor any of its charges. */
	for (i = 0; i < 100; i++) {
		after = count_system_threads();
		left = cg_read(m->cg, "memory.current");
		if (after <= before && left >= 0 && left <= base)
			break;
		usleep(100 * 1000);
	}
	EXPECT_LE(after, before);
	EXPECT_LE(left, base);
	EXPECT_EQ(0, memcg_remove(m->cg));
}

static void *pool_retires(void *arg)
{
	struct async_ring *ring = ring_new(8, 0);
	struct timespec ts = { 10, 0 };
	struct rw_chain c;
	int p[2], o[2];

	CHECK(!pipe(p) && !pipe(o));
	rw_chain_init(&c, ring, p[0], o[1], 8, 1);
	CHECK(async_exec(&c.args) == ASYNC_EXEC_WENT_ASYNC);
	CHECK(write(p[1], "z", 1) == 1);
	CHECK(async_wait(ring, 1, &ts, 0) == 1);
	/* Leader, us, and the parked runner of the chain. */
	usleep(200 * 1000);
	CHECK(count_tasks() == 3);
	sleep(7);
	CHECK(count_tasks() == 2);
	return FAILED();
}

TEST(r23_idle_pool_threads_retire)
{
	if (!async_available())
		SKIP(return, NO_ASYNC);
	EXPECT_EQ(0, in_thread(pool_retires, NULL));
}

static void *exec_with_pending(void *arg)
{
	struct async_ring *ring = ring_new(8, 0);
	static struct rw_chain c[4];
	int p[2], o[2], i;
	static const char * const argv[] = { "/proc/self/exe", NULL };
	static const char * const envp[] = { "ASYNC_TEST_EXEC_CHILD=1", NULL };

	CHECK(!pipe(p) && !pipe(o));
	for (i = 0; i < 4; i++) {
		rw_chain_init(&c[i], ring, p[0], o[1], 8, i);
		CHECK(async_exec(&c[i].args) == ASYNC_EXEC_WENT_ASYNC);
	}
	execve(argv[0], (char **)argv, (char **)envp);
	CHECK(0);
	return FAILED();
}

__attribute__((constructor)) static void exec_child(void)
{
	if (getenv("ASYNC_TEST_EXEC_CHILD"))
		_exit(count_tasks() == 1 ? 42 : 43);
}

TEST(exec_with_chains_pending)
{
	int status;
	pid_t pid;

	if (!async_available())
		SKIP(return, NO_ASYNC);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(in_thread(exec_with_pending, NULL) ? 1 : 2);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(42, WEXITSTATUS(status));
}

static __thread int got_usr2;

static void on_usr2(int sig)
{
	__atomic_store_n(&got_usr2, 1, __ATOMIC_RELEASE);
}

/*
 * POSIX AIO's SIGEV_SIGNAL is one more atom: read, then signal the
 * submitting thread. It reaches the user context, wherever that runs.
 */
static void *notify_atom(void *arg)
{
	struct async_ring *ring = ring_new(8, 0);
	struct sigaction sa = { .sa_handler = on_usr2 };
	struct timespec ts = { 10, 0 };
	struct async_atom atoms[2];
	struct async_args args;
	char buf[8];
	long ret;
	int p[2];

	CHECK(!pipe(p));
	sigaction(SIGUSR2, &sa, NULL);
	atom_set(&atoms[0], __NR_read, ASYNC_STOP_NONPOSITIVE, p[0],
		 (uintptr_t)buf, sizeof(buf));
	atom_set(&atoms[1], __NR_tgkill, 0, getpid(), gettid_raw(), SIGUSR2);
	args_set(&args, atoms, 2, ring, 3);
	CHECK(async_exec(&args) == ASYNC_EXEC_WENT_ASYNC);
	CHECK(!__atomic_load_n(&got_usr2, __ATOMIC_ACQUIRE));
	CHECK(write(p[1], "n", 1) == 1);
	/* The signal may interrupt the wait itself (EINTR with a timeout). */
	do {
		ret = async_wait(ring, 1, &ts, 0);
	} while (ret == -1 && errno == EINTR);
	CHECK(ret == 1);
	CHECK(ring->cqes[0].status == 0 && ring->cqes[0].index == 1);
	/* The signal was sent before the completion was posted. */
	CHECK(__atomic_load_n(&got_usr2, __ATOMIC_ACQUIRE));
	return FAILED();
}

TEST(r03_signal_notification_is_an_atom)
{
	if (!async_available())
		SKIP(return, NO_ASYNC);
	EXPECT_EQ(0, in_thread(notify_atom, NULL));
}

TEST_HARNESS_MAIN
