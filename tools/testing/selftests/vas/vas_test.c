// SPDX-License-Identifier: GPL-2.0
/*
 * Tests for switchable address spaces (vas_create, vas_attach,
 * vas_switch). Test names carry the review requirement they check
 * (vNN_*), see Documentation/userspace-api/vas.rst.
 *
 * Code that runs while switched follows the rules in vas_util.h: it
 * runs on a thread whose stack region and the program's text are
 * attached into the space, makes raw system calls only and leaves its
 * results in struct vas_ctl, which the test body checks after joining.
 */
#define _GNU_SOURCE
#include <alloca.h>
#include <dirent.h>
#include <elf.h>
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
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/rseq.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "vas_util.h"

#ifndef __NR_pidfd_open
#define __NR_pidfd_open		434
#endif
#ifndef __NR_pidfd_getfd
#define __NR_pidfd_getfd	438
#endif
#ifndef __NR_clone3
#define __NR_clone3		435
#endif
#ifndef __NR_async_exec
#define __NR_async_exec		463
#endif
#ifndef __NR_async_thread
#define __NR_async_thread	466
#define __NR_async_thread_return 467
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE	0x0010
#endif

#define RW		(PROT_READ | PROT_WRITE)
#define MIB		(1024 * 1024UL)
/*
 * The memory that lifetime tests hand to a space, and the slack allowed:
 * 1 MiB, or 32 pages where pages are larger, since what other tests free
 * or allocate meanwhile comes in pages.
 */
#define SHM_SIZE	(8 * MIB)
#define SHM_SLACK_KB	((long)(VAS_PAGE > 32768 ? 32 * VAS_PAGE / 1024 : 1024))

FIXTURE(vas) {
	char path[64];
};

/*
 * Without the system calls every test skips. With them, vas_create(0)
 * must give a vas fd, or something else sits at its number.
 */
FIXTURE_SETUP(vas)
{
	char link[64] = "";
	int nosys, fd;

	nosys = vas_nosys_errno();
	fd = vas_create(0);
	if (fd < 0 && errno == nosys)
		SKIP(return, NO_VAS);
	ASSERT_LE(0, fd) {
		TH_LOG("vas_create(0): errno %d; syscall %d is not vas_create?",
		       errno, __NR_vas_create);
	}
	snprintf(self->path, sizeof(self->path), "/proc/self/fd/%d", fd);
	ASSERT_LT(0, readlink(self->path, link, sizeof(link) - 1));
	close(fd);
	ASSERT_STREQ("anon_inode:[vas]", link);
}

FIXTURE_TEARDOWN(vas)
{
}

static int pidfd_open(pid_t pid)
{
	return syscall(__NR_pidfd_open, pid, 0);
}

/* Is @addr in [@start, @start + @len)? */
static bool within(long addr, const void *start, size_t len)
{
	return (uintptr_t)addr >= (uintptr_t)start &&
	       (uintptr_t)addr < (uintptr_t)start + len;
}

/* A file descriptor number that is not open (and that open() will not soon reuse). */
static int closed_fd(void)
{
	int fd = 900;

	while (fcntl(fd, F_GETFD) != -1)
		fd++;
	return fd;
}

/* Pages of the program's text mappings, as vas_attach_text() attaches them. */
static long text_pages(void)
{
	unsigned long s[8], e[8];
	long pages = 0;
	int i, n = vas_code_ranges(s, e, 8);

	for (i = 0; i < n; i++)
		pages += (e[i] - s[i]) / VAS_PAGE;
	return pages;
}

/* R14: without CONFIG_MMSPACE all three system calls exist and return ENOSYS. */
TEST(r14_enosys_without_config)
{
	struct vas_attach_args a = {};
	int nosys = vas_nosys_errno(), fd;

	fd = vas_create(0);
	if (fd >= 0 || errno != nosys) {
		if (fd >= 0)
			close(fd);
		SKIP(return, "CONFIG_MMSPACE=y: covered by the =n build");
	}
	EXPECT_EQ(-1, vas_attach(&a, sizeof(a)));
	EXPECT_EQ(nosys, errno);
	EXPECT_EQ(-1, vas_switch(VAS_HOME, 0));
	EXPECT_EQ(nosys, errno);
	EXPECT_EQ(-1, vas_create(1));
	EXPECT_EQ(nosys, errno);
}

/*
 * v02: a memfd attached with SRC_FD is shared with home, PRIVATE gives a
 * copy-on-write view; switching into the space already in returns 0.
 */
static int fn_roundtrip(struct vas_ctl *c)
{
	__u64 *d = (__u64 *)c->arg[0];
	__u64 *p = (__u64 *)c->arg[1];

	c->res[0] = vas_switch_raw(c->fd[0]);
	if (c->res[0])
		return 1;
	c->res[1] = READ_ONCE(d[0]);
	WRITE_ONCE(d[0], 0xabcd0001);
	c->res[2] = READ_ONCE(d[0]);
	c->res[3] = READ_ONCE(d[c->page / 8]);
	c->res[4] = READ_ONCE(p[0]);
	WRITE_ONCE(p[0], 0x77770001);
	c->res[5] = READ_ONCE(p[0]);
	c->res[6] = READ_ONCE(d[0]);
	c->res[7] = vas_probe(c->home_page);
	c->res[8] = vas_switch_raw(c->fd[0]);
	c->res[9] = vas_switch_raw(VAS_HOME);
	c->res[10] = vas_probe(c->home_page);
	return 0;
}

TEST_F(vas, v02_memfd_attach_switch_roundtrip)
{
	struct vas_thread t;
	void *d = vas_reserve(2 * VAS_PAGE), *p = vas_reserve(VAS_PAGE);
	int m = vas_memfd(2 * VAS_PAGE, 0x1111);
	__u64 v = 0;
	long tv;
	int vfd;

	ASSERT_NE(NULL, d);
	ASSERT_NE(NULL, p);
	ASSERT_LE(0, m);
	ASSERT_EQ(0, vas_thread_init(&t));
	vfd = vas_space_new(&t);
	ASSERT_LE(0, vfd);
	tv = vas_fdinfo(vfd, "vas-total-vm");
	EXPECT_EQ(text_pages() + (long)(t.len / VAS_PAGE), tv);
	ASSERT_EQ(0, vas_attach_file(vfd, m, 0, d, 2 * VAS_PAGE, RW, false));
	ASSERT_EQ(0, vas_attach_file(vfd, m, 0, p, VAS_PAGE, RW, true));
	EXPECT_EQ(tv + 3, vas_fdinfo(vfd, "vas-total-vm"));
	EXPECT_EQ(0, vas_fdinfo(vfd, "vas-threads"));

	t.ctl->fd[0] = vfd;
	t.ctl->arg[0] = (long)d;
	t.ctl->arg[1] = (long)p;
	ASSERT_EQ(0, vas_thread_run(&t, fn_roundtrip, 20));
	ASSERT_EQ(0, t.ctl->res[0]);
	EXPECT_EQ(0x1111, t.ctl->res[1]);
	EXPECT_EQ(0xabcd0001, t.ctl->res[2]);
	EXPECT_EQ(0x1111, t.ctl->res[3]);
	/* The private view shows the file until it is written. */
	EXPECT_EQ(0xabcd0001, t.ctl->res[4]);
	EXPECT_EQ(0x77770001, t.ctl->res[5]);
	EXPECT_EQ(0xabcd0001, t.ctl->res[6]);
	EXPECT_EQ(-ENOMEM, t.ctl->res[7]);
	EXPECT_EQ(0, t.ctl->res[8]);
	EXPECT_EQ(0, t.ctl->res[9]);
	EXPECT_EQ(0, t.ctl->res[10]);
	EXPECT_EQ(0, vas_fdinfo(vfd, "vas-threads"));
	/* Home sees the shared write through the memfd, not the private one. */
	ASSERT_EQ(sizeof(v), pread(m, &v, sizeof(v), 0));
	EXPECT_EQ(0xabcd0001, v);
	close(vfd);
	close(m);
}

/* Switch into A, read X, wait, switch straight into B, read X, wait, go home. */
static int fn_a_to_b(struct vas_ctl *c)
{
	__u64 *x = (__u64 *)c->arg[0];

	c->res[0] = vas_switch_raw(c->fd[0]);
	if (c->res[0])
		return 1;
	c->res[1] = READ_ONCE(*x);
	vas_store(&c->state, 1);
	c->res[5] = vas_wait_for(&c->go, 1, 20000);
	c->res[2] = vas_switch_raw(c->fd[1]);
	c->res[3] = READ_ONCE(*x);
	vas_store(&c->state, 2);
	c->res[6] = vas_wait_for(&c->go, 2, 20000);
	c->res[4] = vas_switch_raw(VAS_HOME);
	return 0;
}

/* v02: a thread moves from one space straight into another. */
TEST_F(vas, v02_switch_from_space_to_space)
{
	struct vas_thread t;
	void *x = vas_reserve(VAS_PAGE);
	int ma = vas_memfd(VAS_PAGE, 0xaaaa), mb = vas_memfd(VAS_PAGE, 0xbbbb), a, b;

	ASSERT_NE(NULL, x);
	ASSERT_LE(0, ma);
	ASSERT_LE(0, mb);
	ASSERT_EQ(0, vas_thread_init(&t));
	a = vas_space_new(&t);
	b = vas_space_new(&t);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, vas_attach_file(a, ma, 0, x, VAS_PAGE, PROT_READ, false));
	ASSERT_EQ(0, vas_attach_file(b, mb, 0, x, VAS_PAGE, PROT_READ, false));
	t.ctl->fd[0] = a;
	t.ctl->fd[1] = b;
	t.ctl->arg[0] = (long)x;
	ASSERT_EQ(0, vas_thread_start(&t, fn_a_to_b));
	ASSERT_EQ(0, vas_wait_for(&t.ctl->state, 1, 10000));
	EXPECT_EQ(1, vas_fdinfo(a, "vas-threads"));
	EXPECT_EQ(0, vas_fdinfo(b, "vas-threads"));
	vas_store(&t.ctl->go, 1);
	ASSERT_EQ(0, vas_wait_for(&t.ctl->state, 2, 10000));
	EXPECT_EQ(0, vas_fdinfo(a, "vas-threads"));
	EXPECT_EQ(1, vas_fdinfo(b, "vas-threads"));
	vas_store(&t.ctl->go, 2);
	ASSERT_EQ(0, vas_thread_join(&t, 10));
	EXPECT_EQ(0, t.ctl->res[0]);
	EXPECT_EQ(0xaaaa, t.ctl->res[1]);
	EXPECT_EQ(0, t.ctl->res[2]);
	EXPECT_EQ(0xbbbb, t.ctl->res[3]);
	EXPECT_EQ(0, t.ctl->res[4]);
	EXPECT_EQ(0, vas_fdinfo(a, "vas-threads"));
	EXPECT_EQ(0, vas_fdinfo(b, "vas-threads"));
	close(a);
	close(b);
}

/*
 * v03: home's private memory (heap, main stack, anonymous pages) is not
 * in a space; a shared mapping attached there shows the same bytes.
 */
static int fn_isolation(struct vas_ctl *c)
{
	__u64 *s = (__u64 *)c->arg[2];
	unsigned char byte = 0;

	c->res[0] = vas_switch_raw(c->fd[0]);
	if (c->res[0])
		return 1;
	c->res[1] = RAW3(__NR_write, c->fd[1], c->arg[0], 1);
	c->res[2] = RAW3(__NR_write, c->fd[1], c->arg[1], 1);
	c->res[3] = RAW3(__NR_write, c->fd[1], c->home_page, 1);
	c->res[4] = READ_ONCE(s[0]);
	WRITE_ONCE(s[1], 0xa5a5);
	c->res[5] = RAW3(__NR_write, c->fd[1], s, 1);
	c->res[6] = RAW3(__NR_read, c->fd[2], &byte, 1);
	c->res[7] = byte;
	c->res[8] = vas_probe((void *)(c->arg[0] & -(long)c->page));
	c->res[9] = vas_switch_raw(VAS_HOME);
	return 0;
}

TEST_F(vas, v03_home_private_memory_not_in_space)
{
	struct vas_thread t;
	char *heap = malloc(64);
	char on_stack[64] = "main thread stack";
	__u64 *s = mmap(NULL, VAS_PAGE, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char byte;
	int p[2], vfd;
	long fill;

	ASSERT_NE(NULL, heap);
	ASSERT_NE(MAP_FAILED, s);
	snprintf(heap, 64, "heap");
	s[0] = 0x5a5a5a5a5a5a5a5a;
	ASSERT_EQ(0, pipe2(p, O_NONBLOCK));
	ASSERT_EQ(0, vas_thread_init(&t));
	vfd = vas_space_new(&t);
	ASSERT_LE(0, vfd);
	ASSERT_EQ(0, vas_attach_self(vfd, s, VAS_PAGE, RW));

	t.ctl->fd[0] = vfd;
	t.ctl->fd[1] = p[1];
	t.ctl->fd[2] = p[0];
	t.ctl->arg[0] = (long)heap;
	t.ctl->arg[1] = (long)on_stack;
	t.ctl->arg[2] = (long)s;
	ASSERT_EQ(0, vas_thread_run(&t, fn_isolation, 20));
	ASSERT_EQ(0, t.ctl->res[0]);
	EXPECT_EQ(-EFAULT, t.ctl->res[1]);
	EXPECT_EQ(-EFAULT, t.ctl->res[2]);
	EXPECT_EQ(-EFAULT, t.ctl->res[3]);
	memset(&fill, 0x5a, sizeof(fill));
	EXPECT_EQ(fill, t.ctl->res[4]);
	EXPECT_EQ(1, t.ctl->res[5]);
	EXPECT_EQ(1, t.ctl->res[6]);
	EXPECT_EQ(0x5a, t.ctl->res[7]);
	EXPECT_EQ(-ENOMEM, t.ctl->res[8]);
	EXPECT_EQ(0, t.ctl->res[9]);
	EXPECT_EQ(0xa5a5, s[1]);
	/* Nothing else reached the pipe. */
	EXPECT_EQ(-1, read(p[0], &byte, 1));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_STREQ("heap", heap);
	close(vfd);
	free(heap);
}

/*
 * v05: the same virtual address holds different data in home and in two
 * spaces. A thread in each space and one at home hammer it at once, the
 * switched ones going home and back every 32 rounds.
 */
#define HAMMER_PAGES	4
#define HAMMER_ROUNDS	1000000
#define HOME_ID		0x4844ULL

static int fn_hammer(struct vas_ctl *c)
{
	char *x = (char *)c->arg[0];
	__u64 id = c->arg[1], v;
	long n = c->arg[2], i, bad = 0, bad_home = 0;
	bool switched = c->fd[0] >= 0;
	int p;

	vas_store(&c->state, 1);
	if (vas_wait_for(&c->go, 1, 20000))
		return 1;
	if (switched) {
		c->res[0] = vas_switch_raw(c->fd[0]);
		if (c->res[0])
			return 1;
	}
	for (i = 0; i < n; i++) {
		long w = (i % 64) * 8;

		if (switched && i % 32 == 31) {
			if (vas_switch_raw(VAS_HOME)) {
				c->res[5]++;
				break;
			}
			for (p = 0; p < HAMMER_PAGES; p++) {
				v = READ_ONCE(*(__u64 *)(x + p * c->page + w));
				if (v >> 32 != HOME_ID && !bad_home++)
					c->res[6] = v;
			}
			if (vas_switch_raw(c->fd[0])) {
				c->res[5]++;
				break;
			}
		}
		for (p = 0; p < HAMMER_PAGES; p++)
			WRITE_ONCE(*(__u64 *)(x + p * c->page + w), id << 32 | i);
		for (p = 0; p < HAMMER_PAGES; p++) {
			v = READ_ONCE(*(__u64 *)(x + p * c->page + w));
			if (v != (id << 32 | i) && !bad++)
				c->res[7] = v;
			v = READ_ONCE(*(__u64 *)(x + p * c->page + ((i + 7) % 64) * 8));
			if (v >> 32 != id && !bad++)
				c->res[7] = v;
		}
	}
	c->res[1] = bad;
	c->res[2] = bad_home;
	c->res[3] = i;
	c->res[4] = switched ? vas_switch_raw(VAS_HOME) : 0;
	return 0;
}

TEST_F_TIMEOUT(vas, v05_same_address_different_data, 120)
{
	const size_t len = HAMMER_PAGES * VAS_PAGE;
	const __u64 ids[3] = { 0x4141, 0x4242, HOME_ID };
	struct vas_thread t[3];
	int m[3], vfd[2], i;
	__u64 *buf = malloc(len);
	char *x = vas_reserve(len);
	long start = vas_now_ms();
	size_t w;

	ASSERT_NE(NULL, x);
	ASSERT_NE(NULL, buf);
	for (i = 0; i < 3; i++) {
		m[i] = vas_memfd(len, ids[i] << 32);
		ASSERT_LE(0, m[i]);
		ASSERT_EQ(0, vas_thread_init(&t[i]));
		t[i].ctl->arg[0] = (long)x;
		t[i].ctl->arg[1] = ids[i];
		t[i].ctl->arg[2] = HAMMER_ROUNDS;
		t[i].ctl->fd[0] = -1;
	}
	ASSERT_NE(NULL, vas_map_at(x, len, RW, m[2]));
	for (i = 0; i < 2; i++) {
		vfd[i] = vas_space_new(&t[i]);
		ASSERT_LE(0, vfd[i]);
		ASSERT_EQ(0, vas_attach_file(vfd[i], m[i], 0, x, len, RW, false));
		t[i].ctl->fd[0] = vfd[i];
	}
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, vas_thread_start(&t[i], fn_hammer));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, vas_wait_for(&t[i].ctl->state, 1, 10000));
	for (i = 0; i < 3; i++)
		vas_store(&t[i].ctl->go, 1);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, vas_thread_join(&t[i], 100));
	TH_LOG("%d rounds in %ld ms", HAMMER_ROUNDS, vas_now_ms() - start);
	for (i = 0; i < 3; i++) {
		struct vas_ctl *c = t[i].ctl;

		TH_LOG("thread %d: switch %ld, bad %ld (0x%lx), bad at home %ld (0x%lx)",
		       i, c->res[0], c->res[1], c->res[7], c->res[2], c->res[6]);
		EXPECT_EQ(0, c->res[0]);
		EXPECT_EQ(0, c->res[1]);
		EXPECT_EQ(0, c->res[2]);
		EXPECT_EQ(HAMMER_ROUNDS, c->res[3]);
		EXPECT_EQ(0, c->res[4]);
		EXPECT_EQ(0, c->res[5]);
		/* Each memfd holds only its own thread's words. */
		ASSERT_EQ(len, pread(m[i], buf, len, 0));
		for (w = 0; w < len / 8; w++)
			if (buf[w] >> 32 != ids[i])
				break;
		EXPECT_EQ(len / 8, w);
	}
	close(vfd[0]);
	close(vfd[1]);
	free(buf);
}

/*
 * v05: TLB shootdown within a space. One thread in the space replaces
 * the mapping at X (mmap MAP_FIXED, alternating two memfds) while another
 * thread in the same space reads X. A read bracketed by the same even
 * generation must see that generation's file; a stale TLB entry would
 * show the other one.
 */
#define REMAPS		50000

static int fn_remapper(struct vas_ctl *c)
{
	char *x = (char *)c->arg[0];
	int *gen = (int *)c->arg[1], *done = gen + 1;
	long k, r;

	vas_store(&c->state, 1);
	if (vas_wait_for(&c->go, 1, 20000))
		goto out;
	c->res[0] = vas_switch_raw(c->fd[0]);
	if (c->res[0])
		goto out;
	for (k = 1; k <= REMAPS; k++) {
		vas_store(gen, 2 * k - 1);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		r = vas_mmap_raw((long)x, HAMMER_PAGES * c->page, PROT_READ,
				 MAP_SHARED | MAP_FIXED, c->fd[(k & 1) ? 2 : 1], 0);
		if (r != (long)x) {
			c->res[1] = r;
			break;
		}
		vas_store(gen, 2 * k);
		/* Give the reader time to read this generation. */
		RAW0(__NR_sched_yield);
		if (k % 16 == 0 &&
		    (vas_switch_raw(VAS_HOME) || vas_switch_raw(c->fd[0]))) {
			c->res[2]++;
			break;
		}
	}
	c->res[3] = k - 1;
	c->res[4] = vas_switch_raw(VAS_HOME);
out:
	vas_store(done, 1);
	return 0;
}

static int fn_reader(struct vas_ctl *c)
{
	char *x = (char *)c->arg[0];
	int *gen = (int *)c->arg[1], *done = gen + 1;
	long i = 0, checks = 0, stale = 0;
	int g1, g2;
	__u64 v;

	vas_store(&c->state, 1);
	if (vas_wait_for(&c->go, 1, 20000))
		return 1;
	c->res[0] = vas_switch_raw(c->fd[0]);
	if (c->res[0])
		return 1;
	while (!vas_load(done)) {
		g1 = vas_load(gen);
		if (g1 & 1)
			continue;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		v = READ_ONCE(*(__u64 *)(x + (i % HAMMER_PAGES) * c->page));
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		g2 = vas_load(gen);
		if (g1 == g2) {
			checks++;
			if (v != (((g1 / 2) & 1) ? 2 : 1) && !stale++) {
				c->res[5] = g1;
				c->res[6] = v;
			}
		}
		if (++i % 64 == 0 &&
		    (vas_switch_raw(VAS_HOME) || vas_switch_raw(c->fd[0]))) {
			c->res[2]++;
			break;
		}
	}
	c->res[1] = stale;
	c->res[3] = checks;
	c->res[4] = vas_switch_raw(VAS_HOME);
	return 0;
}

/* @cross_process: the reader is a thread of a child process, in the same space. */
static void tlb_shootdown(struct __test_metadata *_metadata, bool cross_process)
{
	const size_t len = HAMMER_PAGES * VAS_PAGE;
	struct vas_thread r, s;
	char *x = vas_reserve(len);
	int *gen = mmap(NULL, VAS_PAGE, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int m1 = vas_memfd(len, 1), m2 = vas_memfd(len, 2), vfd, i, status;
	struct vas_thread *th[2] = { &r, &s };
	long start = vas_now_ms();
	pid_t pid = 0;

	ASSERT_NE(NULL, x);
	ASSERT_NE(MAP_FAILED, gen);
	ASSERT_LE(0, m1);
	ASSERT_LE(0, m2);
	ASSERT_EQ(0, vas_thread_init(&r));
	ASSERT_EQ(0, vas_thread_init(&s));
	vfd = vas_space_new(&r);
	ASSERT_LE(0, vfd);
	ASSERT_EQ(0, vas_attach_self(vfd, s.region, s.len, RW));
	ASSERT_EQ(0, vas_attach_self(vfd, gen, VAS_PAGE, RW));
	ASSERT_EQ(0, vas_attach_file(vfd, m1, 0, x, len, PROT_READ, false));
	for (i = 0; i < 2; i++) {
		th[i]->ctl->fd[0] = vfd;
		th[i]->ctl->fd[1] = m1;
		th[i]->ctl->fd[2] = m2;
		th[i]->ctl->arg[0] = (long)x;
		th[i]->ctl->arg[1] = (long)gen;
	}
	if (cross_process) {
		/* s's region is MAP_SHARED: the child's thread uses the same pages. */
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0)
			_exit(vas_thread_run(&s, fn_reader, 100) ? 1 : 0);
	} else {
		ASSERT_EQ(0, vas_thread_start(&s, fn_reader));
	}
	ASSERT_EQ(0, vas_thread_start(&r, fn_remapper));
	ASSERT_EQ(0, vas_wait_for(&s.ctl->state, 1, 10000));
	ASSERT_EQ(0, vas_wait_for(&r.ctl->state, 1, 10000));
	vas_store(&s.ctl->go, 1);
	vas_store(&r.ctl->go, 1);
	ASSERT_EQ(0, vas_thread_join(&r, 100));
	if (cross_process) {
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_EQ(0, status);
	} else {
		ASSERT_EQ(0, vas_thread_join(&s, 20));
	}
	TH_LOG("remaps %ld, checks %ld, stale %ld (gen %ld read %ld), %ld ms",
	       r.ctl->res[3], s.ctl->res[3], s.ctl->res[1], s.ctl->res[5],
	       s.ctl->res[6], vas_now_ms() - start);
	EXPECT_EQ(0, r.ctl->res[0]);
	EXPECT_EQ(0, r.ctl->res[1]);
	EXPECT_EQ(0, r.ctl->res[2]);
	EXPECT_EQ(REMAPS, r.ctl->res[3]);
	EXPECT_EQ(0, r.ctl->res[4]);
	EXPECT_EQ(0, s.ctl->res[0]);
	EXPECT_EQ(0, s.ctl->res[1]);
	EXPECT_EQ(0, s.ctl->res[2]);
	EXPECT_LE(1000, s.ctl->res[3]);
	EXPECT_EQ(0, s.ctl->res[4]);
	close(vfd);
}

TEST_F_TIMEOUT(vas, v05_tlb_shootdown_between_threads_in_a_space, 120)
{
	tlb_shootdown(_metadata, false);
}

/* The same with the two threads in two processes (the fd inherited by fork). */
TEST_F_TIMEOUT(vas, v05_tlb_shootdown_between_processes_in_a_space, 120)
{
	tlb_shootdown(_metadata, true);
}

/*
 * v07: vas_switch() into a space where the caller could not run (no
 * text, no stack, no rseq area) fails with EFAULT and leaves the thread
 * at home. The thread reports its layout, the test body builds one space
 * per case, the thread tries each.
 */
#define TRY_SPACES	4

static int fn_try_switch(struct vas_ctl *c)
{
	char *pad = alloca(8 * c->page);
	int k;

	WRITE_ONCE(pad[0], 0);
	c->arg[10] = (long)vas_tp() + __rseq_offset;
	c->arg[11] = (long)pad;
	vas_store(&c->state, 1);
	for (k = 0; k < TRY_SPACES; k++) {
		if (vas_wait_for(&c->go, k + 1, 20000))
			return 1;
		c->res[3 * k] = vas_switch_raw(c->fd[k]);
		c->res[3 * k + 1] = vas_probe(c->home_page);
		c->res[3 * k + 2] = vas_switch_raw(VAS_HOME);
		vas_store(&c->state, k + 2);
	}
	return 0;
}

TEST_F(vas, v07_switch_where_caller_cannot_run_efault)
{
	struct vas_thread t;
	struct vas_ctl *c;
	unsigned long rseq_page, end;
	bool rseq = __rseq_size > 0;
	int k;

	ASSERT_EQ(0, vas_thread_init(&t));
	c = t.ctl;
	for (k = 0; k < TRY_SPACES; k++) {
		c->fd[k] = vas_create(0);
		ASSERT_LE(0, c->fd[k]);
	}
	ASSERT_EQ(0, vas_thread_start(&t, fn_try_switch));
	ASSERT_EQ(0, vas_wait_for(&c->state, 1, 10000));
	rseq_page = c->arg[10] & -VAS_PAGE;
	end = (unsigned long)t.region + t.len;
	ASSERT_TRUE(within(c->arg[10], t.region, t.len));
	ASSERT_LE(c->arg[11] + 4 * VAS_PAGE, rseq_page);
	/* 0: the stack region, no text. */
	ASSERT_EQ(0, vas_attach_self(c->fd[0], t.region, t.len, RW));
	/* 1: text and the top of the region with the rseq area, not the stack. */
	ASSERT_EQ(0, vas_attach_text(c->fd[1]));
	ASSERT_EQ(0, vas_attach_self(c->fd[1], (void *)rseq_page, end - rseq_page, RW));
	/* 2: text and the whole region but the page of the rseq area. */
	ASSERT_EQ(0, vas_attach_text(c->fd[2]));
	ASSERT_EQ(0, vas_attach_self(c->fd[2], t.region, rseq_page - (long)t.region, RW));
	if (end > rseq_page + VAS_PAGE)
		ASSERT_EQ(0, vas_attach_self(c->fd[2], (void *)(rseq_page + VAS_PAGE),
					     end - rseq_page - VAS_PAGE, RW));
	/* 3: everything: the switch works. */
	ASSERT_EQ(0, vas_attach_text(c->fd[3]));
	ASSERT_EQ(0, vas_attach_self(c->fd[3], t.region, t.len, RW));

	for (k = 0; k < TRY_SPACES; k++) {
		vas_store(&c->go, k + 1);
		ASSERT_EQ(0, vas_wait_for(&c->state, k + 2, 10000));
	}
	ASSERT_EQ(0, vas_thread_join(&t, 10));
	for (k = 0; k < 3; k++) {
		TH_LOG("case %d: switch %ld, home probe %ld", k, c->res[3 * k],
		       c->res[3 * k + 1]);
		if (k == 2 && !rseq)
			continue;
		EXPECT_EQ(-EFAULT, c->res[3 * k]);
		/* Still at home. */
		EXPECT_EQ(0, c->res[3 * k + 1]);
		EXPECT_EQ(0, c->res[3 * k + 2]);
		EXPECT_EQ(0, vas_fdinfo(c->fd[k], "vas-threads"));
	}
	EXPECT_EQ(0, c->res[9]);
	EXPECT_EQ(-ENOMEM, c->res[10]);
	EXPECT_EQ(0, c->res[11]);
	for (k = 0; k < TRY_SPACES; k++)
		close(c->fd[k]);
	if (!rseq)
		SKIP(return, "glibc registered no rseq area: rseq case not run");
}

/* v03, v07: the main thread cannot run in a new (empty) space, nor in one without its stack. */
TEST_F(vas, v03_main_thread_into_empty_space_efault)
{
	struct vas_thread t;
	int vfd = vas_create(0);

	ASSERT_LE(0, vfd);
	EXPECT_EQ(0, vas_fdinfo(vfd, "vas-total-vm"));
	EXPECT_EQ(-1, vas_switch(vfd, 0));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(0, vas_thread_init(&t));
	ASSERT_EQ(0, vas_attach_text(vfd));
	ASSERT_EQ(0, vas_attach_self(vfd, t.region, t.len, RW));
	/* Text is there now, the main thread's stack is not. */
	EXPECT_EQ(-1, vas_switch(vfd, 0));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, vas_fdinfo(vfd, "vas-threads"));
	close(vfd);
}

/*
 * v07: going home is checked the same way: with the thread's stack
 * unmapped at home, VAS_HOME fails with EFAULT and the thread stays in
 * the space; once the stack is back, it goes home.
 */
static int fn_home_gone(struct vas_ctl *c)
{
	int *hs = (int *)c->arg[0];
	long *r = (long *)(hs + 4);

	r[0] = vas_switch_raw(c->fd[0]);
	if (r[0]) {
		vas_store(&hs[0], 99);
		return 1;
	}
	vas_store(&hs[0], 1);
	r[5] = vas_wait_for(&hs[1], 1, 20000);
	r[1] = vas_switch_raw(VAS_HOME);
	r[2] = vas_probe(c->home_page);
	vas_store(&hs[0], 2);
	r[6] = vas_wait_for(&hs[1], 2, 20000);
	r[3] = vas_switch_raw(VAS_HOME);
	r[4] = vas_probe(c->home_page);
	return 0;
}

TEST_F(vas, v07_switch_home_without_stack_at_home_efault)
{
	int *hs = mmap(NULL, VAS_PAGE, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	long *r = (long *)(hs + 4);
	struct vas_thread t;
	int m, vfd;

	ASSERT_NE(MAP_FAILED, hs);
	ASSERT_EQ(0, vas_thread_init(&t));
	/* A memfd-backed stack region, so that it can be mapped back. */
	m = vas_memfd(t.len, 0);
	ASSERT_LE(0, m);
	ASSERT_NE(NULL, vas_map_at(t.region, t.len, RW, m));
	t.ctl->home_page = vas_home_only;
	vfd = vas_space_new(&t);
	ASSERT_LE(0, vfd);
	ASSERT_EQ(0, vas_attach_self(vfd, hs, VAS_PAGE, RW));
	t.ctl->fd[0] = vfd;
	t.ctl->arg[0] = (long)hs;
	ASSERT_EQ(0, vas_thread_start(&t, fn_home_gone));
	ASSERT_EQ(0, vas_wait_for(&hs[0], 1, 10000));
	ASSERT_EQ(0, munmap(t.region, t.len));
	vas_store(&hs[1], 1);
	ASSERT_EQ(0, vas_wait_for(&hs[0], 2, 10000));
	ASSERT_EQ(t.region, mmap(t.region, t.len, RW, MAP_SHARED | MAP_FIXED_NOREPLACE, m, 0));
	vas_store(&hs[1], 2);
	ASSERT_EQ(0, vas_thread_join(&t, 10));
	EXPECT_EQ(0, r[0]);
	EXPECT_EQ(-EFAULT, r[1]);
	EXPECT_EQ(-ENOMEM, r[2]);
	EXPECT_EQ(0, r[3]);
	EXPECT_EQ(0, r[4]);
	EXPECT_EQ(0, r[5]);
	EXPECT_EQ(0, r[6]);
	close(vfd);
	close(m);
}

/* vas_attach(@args) must fail with @err. */
#define EXPECT_ATTACH(err, args) do {					\
		errno = 0;						\
		EXPECT_EQ(-1, vas_attach(args, VAS_ATTACH_ARGS_SIZE_VER0)); \
		EXPECT_EQ(err, errno);					\
	} while (0)

/* v07: vas_attach() argument checks, one field wrong at a time: EINVAL. */
TEST_F(vas, v07_attach_invalid_args_einval)
{
	struct vas_attach_args a, base;
	void *d = vas_reserve(4 * VAS_PAGE);
	void *s = mmap(NULL, 2 * VAS_PAGE, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int m = vas_memfd(2 * VAS_PAGE, 0), vfd = vas_create(0), p[2];
	const __u64 bad_flags[] = {
		1ULL << 5, 1ULL << 63, 0, VAS_ATTACH_DST_PIDFD, VAS_ATTACH_PRIVATE,
		VAS_ATTACH_SRC_FD | VAS_ATTACH_SRC_SELF,
		VAS_ATTACH_SRC_FD | VAS_ATTACH_SRC_PIDFD,
		VAS_ATTACH_SRC_SELF | VAS_ATTACH_SRC_PIDFD,
		VAS_ATTACH_SRC_FD | VAS_ATTACH_SRC_SELF | VAS_ATTACH_SRC_PIDFD,
		VAS_ATTACH_SRC_FD | (1ULL << 40),
	};
	const __u32 bad_prot[] = { PROT_READ | 0x8, 0x10, 0x80000000, PROT_GROWSDOWN };
	unsigned int i;

	ASSERT_NE(NULL, d);
	ASSERT_NE(MAP_FAILED, s);
	ASSERT_LE(0, m);
	ASSERT_LE(0, vfd);
	ASSERT_EQ(0, pipe(p));
	vas_args(&base, VAS_ATTACH_SRC_FD, vfd, m, 0, (uintptr_t)d, VAS_PAGE, RW);

	for (i = 0; i < ARRAY_SIZE(bad_flags); i++) {
		a = base;
		a.flags = bad_flags[i];
		EXPECT_ATTACH(EINVAL, &a);
	}
	/* PRIVATE only with SRC_FD. */
	vas_args(&a, VAS_ATTACH_SRC_SELF | VAS_ATTACH_PRIVATE, vfd, -1,
		 (uintptr_t)s, (uintptr_t)d, VAS_PAGE, RW);
	EXPECT_ATTACH(EINVAL, &a);
	a = base;
	a.__reserved = 1;
	EXPECT_ATTACH(EINVAL, &a);
	for (i = 0; i < ARRAY_SIZE(bad_prot); i++) {
		a = base;
		a.prot = bad_prot[i];
		EXPECT_ATTACH(EINVAL, &a);
	}
	a = base;
	a.len = 0;
	EXPECT_ATTACH(EINVAL, &a);
	a = base;
	a.len = VAS_PAGE + 1;
	EXPECT_ATTACH(EINVAL, &a);
	a = base;
	a.len = VAS_PAGE - 1;
	EXPECT_ATTACH(EINVAL, &a);
	a = base;
	a.src = 1;
	EXPECT_ATTACH(EINVAL, &a);
	a = base;
	a.dst += 8;
	EXPECT_ATTACH(EINVAL, &a);
	/* dst + len and src + len wrap around. */
	a = base;
	a.dst = -(__u64)VAS_PAGE;
	a.len = 2 * VAS_PAGE;
	EXPECT_ATTACH(EINVAL, &a);
	a = base;
	a.src = -(__u64)VAS_PAGE;
	a.len = 2 * VAS_PAGE;
	EXPECT_ATTACH(EINVAL, &a);
	vas_args(&a, VAS_ATTACH_SRC_SELF, vfd, -1, -(__u64)VAS_PAGE, (uintptr_t)d,
		 2 * VAS_PAGE, RW);
	EXPECT_ATTACH(EINVAL, &a);
	if (sizeof(long) == 4) {
		/* A compat caller's range must end within 4 GiB, too. */
		a = base;
		a.dst = 0x100000000ULL - VAS_PAGE;
		a.len = 2 * VAS_PAGE;
		EXPECT_ATTACH(EINVAL, &a);
		vas_args(&a, VAS_ATTACH_SRC_SELF, vfd, -1,
			 0x100000000ULL - VAS_PAGE, (uintptr_t)d, 2 * VAS_PAGE, RW);
		EXPECT_ATTACH(EINVAL, &a);
	}
	/* SRC_SELF needs src_fd == -1. */
	vas_args(&a, VAS_ATTACH_SRC_SELF, vfd, m, (uintptr_t)s, (uintptr_t)d,
		 VAS_PAGE, RW);
	EXPECT_ATTACH(EINVAL, &a);
	a.src_fd = 0;
	EXPECT_ATTACH(EINVAL, &a);
	/* dst_fd is open but not a vas. */
	a = base;
	a.dst_fd = p[0];
	EXPECT_ATTACH(EINVAL, &a);
	a.dst_fd = m;
	EXPECT_ATTACH(EINVAL, &a);

	/* None of that mapped anything: the valid request still fits. */
	EXPECT_EQ(0, vas_fdinfo(vfd, "vas-total-vm"));
	EXPECT_EQ(0, vas_attach(&base, sizeof(base)));
	EXPECT_EQ(1, vas_fdinfo(vfd, "vas-total-vm"));
	close(vfd);
	close(m);
	close(p[0]);
	close(p[1]);
}

/*
 * v07: bad file descriptors: EBADF when not open (or not a pidfd where a
 * pidfd is wanted), EINVAL for a dst_fd that is not a vas, ENODEV for a
 * source file without mmap.
 */
TEST_F(vas, v07_attach_bad_fds)
{
	struct vas_attach_args a, base;
	void *d = vas_reserve(VAS_PAGE);
	void *s = mmap(NULL, VAS_PAGE, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int m = vas_memfd(VAS_PAGE, 0), vfd = vas_create(0), bad = closed_fd(), p[2];

	ASSERT_NE(NULL, d);
	ASSERT_NE(MAP_FAILED, s);
	ASSERT_LE(0, m);
	ASSERT_LE(0, vfd);
	ASSERT_EQ(0, pipe(p));
	vas_args(&base, VAS_ATTACH_SRC_FD, vfd, m, 0, (uintptr_t)d, VAS_PAGE, PROT_READ);

	a = base;
	a.dst_fd = bad;
	EXPECT_ATTACH(EBADF, &a);
	a.dst_fd = -1;
	EXPECT_ATTACH(EBADF, &a);
	a = base;
	a.src_fd = bad;
	EXPECT_ATTACH(EBADF, &a);
	a.src_fd = -1;
	EXPECT_ATTACH(EBADF, &a);
	/* A file without mmap. */
	a = base;
	a.src_fd = p[0];
	EXPECT_ATTACH(ENODEV, &a);
	/* Pidfds: not open, or open but not a pidfd: EBADF, as for pidfd_getfd(). */
	vas_args(&a, VAS_ATTACH_SRC_PIDFD, vfd, bad, (uintptr_t)s, (uintptr_t)d,
		 VAS_PAGE, PROT_READ);
	EXPECT_ATTACH(EBADF, &a);
	a.src_fd = p[0];
	EXPECT_ATTACH(EBADF, &a);
	a.src_fd = vfd;
	EXPECT_ATTACH(EBADF, &a);
	a = base;
	a.flags |= VAS_ATTACH_DST_PIDFD;
	a.dst_fd = bad;
	EXPECT_ATTACH(EBADF, &a);
	a.dst_fd = p[0];
	EXPECT_ATTACH(EBADF, &a);
	a.dst_fd = vfd;
	EXPECT_ATTACH(EBADF, &a);
	EXPECT_EQ(0, vas_fdinfo(vfd, "vas-total-vm"));
	EXPECT_EQ(0, vas_attach(&base, sizeof(base)));
	close(vfd);
	close(m);
}

/* v07: vas_attach() never replaces: EEXIST for any overlap, and nothing is mapped then. */
TEST_F(vas, v07_attach_occupied_target_eexist)
{
	char *d = vas_reserve(4 * VAS_PAGE);
	int m = vas_memfd(4 * VAS_PAGE, 0), vfd = vas_create(0);
	unsigned long ts[8], te[8];

	ASSERT_NE(NULL, d);
	ASSERT_LE(0, m);
	ASSERT_LE(0, vfd);
	ASSERT_EQ(0, vas_attach_file(vfd, m, 0, d + VAS_PAGE, VAS_PAGE, RW, false));
	EXPECT_EQ(-EEXIST, vas_attach_file(vfd, m, 0, d + VAS_PAGE, VAS_PAGE, RW, false));
	/* The second of two pages is taken. */
	EXPECT_EQ(-EEXIST, vas_attach_file(vfd, m, 0, d, 2 * VAS_PAGE, RW, false));
	EXPECT_EQ(-EEXIST, vas_attach_file(vfd, m, 0, d, 4 * VAS_PAGE, RW, false));
	EXPECT_EQ(-EEXIST, vas_attach_file(vfd, m, 0, d + VAS_PAGE, 2 * VAS_PAGE, RW, false));
	EXPECT_EQ(1, vas_fdinfo(vfd, "vas-total-vm"));
	/* So the first page is still free, and so is the third. */
	EXPECT_EQ(0, vas_attach_file(vfd, m, 0, d, VAS_PAGE, RW, false));
	EXPECT_EQ(0, vas_attach_file(vfd, m, 0, d + 2 * VAS_PAGE, 2 * VAS_PAGE, RW, false));
	/* Over attached text. */
	ASSERT_EQ(0, vas_attach_text(vfd));
	ASSERT_LT(0, vas_text_ranges(ts, te, 8));
	EXPECT_EQ(-EEXIST, vas_attach_file(vfd, m, 0, (void *)ts[0], VAS_PAGE, RW, false));
	EXPECT_EQ(-EEXIST, vas_attach_text(vfd));
	close(vfd);
	close(m);
}

/* v07: the source range must be mapped, and the args readable: EFAULT. */
TEST_F(vas, v07_attach_unmapped_source_efault)
{
	struct vas_attach_args a;
	char *d = vas_reserve(2 * VAS_PAGE);
	char *s = mmap(NULL, 3 * VAS_PAGE, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char *two = mmap(NULL, 2 * VAS_PAGE, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *hole = vas_reserve(VAS_PAGE);
	struct vas_attach_args *edge;
	int vfd = vas_create(0);

	ASSERT_NE(NULL, d);
	ASSERT_NE(MAP_FAILED, s);
	ASSERT_NE(MAP_FAILED, two);
	ASSERT_NE(NULL, hole);
	ASSERT_LE(0, vfd);
	ASSERT_EQ(0, munmap(hole, VAS_PAGE));
	ASSERT_EQ(0, munmap(s + 2 * VAS_PAGE, VAS_PAGE));
	vas_args(&a, VAS_ATTACH_SRC_SELF, vfd, -1, (uintptr_t)hole, (uintptr_t)d,
		 VAS_PAGE, RW);
	EXPECT_ATTACH(EFAULT, &a);
	/* The first page is mapped, the second is not. */
	a.src = (uintptr_t)s + VAS_PAGE;
	a.len = 2 * VAS_PAGE;
	EXPECT_ATTACH(EFAULT, &a);
	EXPECT_EQ(0, vas_fdinfo(vfd, "vas-total-vm"));
	/* Bad pointers to the arguments. */
	errno = 0;
	EXPECT_EQ(-1, vas_attach(NULL, sizeof(a)));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, vas_attach(hole, sizeof(a)));
	EXPECT_EQ(EFAULT, errno);
	/* Arguments that run off the end of a mapping. */
	ASSERT_EQ(0, munmap(two + VAS_PAGE, VAS_PAGE));
	edge = (void *)(two + VAS_PAGE - 32);
	memcpy(edge, &a, 32);
	EXPECT_EQ(-1, vas_attach(edge, sizeof(a)));
	EXPECT_EQ(EFAULT, errno);
	/* All or nothing: the failed attach left d free. */
	EXPECT_EQ(0, vas_attach_self(vfd, s + VAS_PAGE, VAS_PAGE, RW));
	vas_args(&a, VAS_ATTACH_SRC_SELF, vfd, -1, (uintptr_t)s, (uintptr_t)d,
		 VAS_PAGE, RW);
	EXPECT_EQ(0, vas_attach(&a, sizeof(a)));
	close(vfd);
}

/* v07: extensible struct: EINVAL below VER0, E2BIG for non-zero unknown bytes. */
TEST_F(vas, v07_attach_struct_size)
{
	char big[VAS_PAGE];
	struct vas_attach_args a;
	char *d = vas_reserve(4 * VAS_PAGE);
	int m = vas_memfd(VAS_PAGE, 0), vfd = vas_create(0);

	ASSERT_NE(NULL, d);
	ASSERT_LE(0, m);
	ASSERT_LE(0, vfd);
	EXPECT_EQ(48, sizeof(a));
	EXPECT_EQ(VAS_ATTACH_ARGS_SIZE_VER0, sizeof(a));
	vas_args(&a, VAS_ATTACH_SRC_FD, vfd, m, 0, (uintptr_t)d, VAS_PAGE, RW);
	memset(big, 0, sizeof(big));
	memcpy(big, &a, sizeof(a));
	errno = 0;
	EXPECT_EQ(-1, vas_attach(&a, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, vas_attach(&a, 40));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, vas_attach(&a, 47));
	EXPECT_EQ(EINVAL, errno);
	big[sizeof(a) + 3] = 1;
	EXPECT_EQ(-1, vas_attach(big, sizeof(a) + 8));
	EXPECT_EQ(E2BIG, errno);
	big[sizeof(a) + 3] = 0;
	big[sizeof(big) - 1] = 1;
	EXPECT_EQ(-1, vas_attach(big, sizeof(big)));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(0, vas_fdinfo(vfd, "vas-total-vm"));
	/* Zero trailing bytes are fine. */
	big[sizeof(big) - 1] = 0;
	EXPECT_EQ(0, vas_attach(big, sizeof(a) + 8));
	((struct vas_attach_args *)big)->dst += VAS_PAGE;
	EXPECT_EQ(0, vas_attach(big, sizeof(big)));
	EXPECT_EQ(2, vas_fdinfo(vfd, "vas-total-vm"));
	close(vfd);
	close(m);
}

/*
 * v07: the usual mmap permission checks: a read-only file cannot be
 * mapped shared for writing (EACCES), seals apply (EPERM), prot may not
 * exceed what the source mapping may ever have (EACCES), noexec mounts
 * refuse PROT_EXEC (EPERM).
 */
TEST_F(vas, v07_attach_permissions)
{
	char path[64], dir[] = "/tmp/vas-noexec-XXXXXX";
	char *d = vas_reserve(16 * VAS_PAGE);
	int m = vas_memfd(VAS_PAGE, 0), vfd = vas_create(0), ro, sealed, fd;
	void *map;

	ASSERT_NE(NULL, d);
	ASSERT_LE(0, m);
	ASSERT_LE(0, vfd);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", m);
	ro = open(path, O_RDONLY);
	ASSERT_LE(0, ro);
	EXPECT_EQ(-EACCES, vas_attach_file(vfd, ro, 0, d, VAS_PAGE, RW, false));
	EXPECT_EQ(0, vas_attach_file(vfd, ro, 0, d, VAS_PAGE, PROT_READ, false));
	/* A private mapping of a read-only file may be written. */
	EXPECT_EQ(0, vas_attach_file(vfd, ro, 0, d + VAS_PAGE, VAS_PAGE, RW, true));
	/* A shared read-only mapping of it may never become writable. */
	map = mmap(NULL, VAS_PAGE, PROT_READ, MAP_SHARED, ro, 0);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(-EACCES, vas_attach_self(vfd, map, VAS_PAGE, RW));
	EXPECT_EQ(0, vas_attach_self(vfd, map, VAS_PAGE, PROT_READ));

	sealed = syscall(__NR_memfd_create, "vas-sealed", MFD_ALLOW_SEALING);
	ASSERT_LE(0, sealed);
	ASSERT_EQ(0, ftruncate(sealed, VAS_PAGE));
	ASSERT_EQ(0, fcntl(sealed, F_ADD_SEALS, F_SEAL_WRITE));
	EXPECT_EQ(-EPERM, vas_attach_file(vfd, sealed, 0, d + 2 * VAS_PAGE, VAS_PAGE,
					  RW, false));
	EXPECT_EQ(0, vas_attach_file(vfd, sealed, 0, d + 2 * VAS_PAGE, VAS_PAGE,
				     PROT_READ, false));
	close(sealed);
	sealed = syscall(__NR_memfd_create, "vas-sealed", MFD_ALLOW_SEALING);
	ASSERT_LE(0, sealed);
	ASSERT_EQ(0, ftruncate(sealed, VAS_PAGE));
	ASSERT_EQ(0, fcntl(sealed, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
	EXPECT_EQ(-EPERM, vas_attach_file(vfd, sealed, 0, d + 3 * VAS_PAGE, VAS_PAGE,
					  RW, false));
	EXPECT_EQ(4, vas_fdinfo(vfd, "vas-total-vm"));
	close(sealed);

	/* noexec: needs a tmpfs mount, so root. */
	if (!mkdtemp(dir) || mount("vas", dir, "tmpfs", MS_NOEXEC, NULL)) {
		rmdir(dir);
		close(vfd);
		SKIP(return, "cannot mount a noexec tmpfs (not root?): noexec cases not run");
	}
	snprintf(path, sizeof(path), "%s/f", dir);
	fd = open(path, O_RDWR | O_CREAT, 0700);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, VAS_PAGE));
	EXPECT_EQ(-EPERM, vas_attach_file(vfd, fd, 0, d + 4 * VAS_PAGE, VAS_PAGE,
					  PROT_READ | PROT_EXEC, false));
	map = mmap(NULL, VAS_PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(-EACCES, vas_attach_self(vfd, map, VAS_PAGE, PROT_READ | PROT_EXEC));
	EXPECT_EQ(0, vas_attach_self(vfd, map, VAS_PAGE, RW));
	munmap(map, VAS_PAGE);
	close(fd);
	umount2(dir, MNT_DETACH);
	rmdir(dir);
	close(vfd);
}

/*
 * v03: only shared memory and clean private file mappings can be
 * attached from a space: private anonymous memory (heap, main stack,
 * written .data, copy-on-write pages) and the vDSO give EINVAL.
 */
static char written_data[2 * VAS_PAGE_MAX] = { 1 };

TEST_F(vas, v03_attach_private_memory_einval)
{
	char *heap = malloc(4 * VAS_PAGE);
	char *anon = mmap(NULL, VAS_PAGE, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *d = vas_reserve(16 * VAS_PAGE);
	int m = vas_memfd(2 * VAS_PAGE, 0), vfd = vas_create(0), i = 0;
	char on_stack[64];
	unsigned long vdso = getauxval(AT_SYSINFO_EHDR);
	char *priv, *shared, *data = (char *)(((uintptr_t)written_data + VAS_PAGE - 1) & -VAS_PAGE);
	const void *bad[4];

	ASSERT_NE(NULL, heap);
	ASSERT_NE(MAP_FAILED, anon);
	ASSERT_NE(NULL, d);
	ASSERT_LE(0, m);
	ASSERT_LE(0, vfd);
	memset(heap, 1, 4 * VAS_PAGE);
	anon[0] = 1;
	WRITE_ONCE(on_stack[0], 1);
	data[0] = 2;
	bad[i++] = (void *)(((uintptr_t)heap + VAS_PAGE - 1) & -VAS_PAGE);
	bad[i++] = anon;
	bad[i++] = (void *)((uintptr_t)on_stack & -VAS_PAGE);
	bad[i++] = data;
	for (i = 0; i < 4; i++) {
		TH_LOG("source %d at %p", i, bad[i]);
		EXPECT_EQ(-EINVAL, vas_attach_self(vfd, bad[i], VAS_PAGE, PROT_READ));
	}
	if (vdso)
		EXPECT_EQ(-EINVAL, vas_attach_self(vfd, (void *)vdso, VAS_PAGE, PROT_READ));
	/* A private file mapping: fine while clean, EINVAL once written. */
	priv = mmap(NULL, 2 * VAS_PAGE, RW, MAP_PRIVATE, m, 0);
	ASSERT_NE(MAP_FAILED, priv);
	EXPECT_EQ(0, vas_attach_self(vfd, priv, VAS_PAGE, RW));
	priv[VAS_PAGE] = 1;
	EXPECT_EQ(-EINVAL, vas_attach_self(vfd, priv + VAS_PAGE, VAS_PAGE, RW));
	/* Shared anonymous memory is fine. */
	shared = mmap(NULL, VAS_PAGE, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, shared);
	shared[0] = 1;
	EXPECT_EQ(0, vas_attach_self(vfd, shared, VAS_PAGE, RW));
	EXPECT_EQ(2, vas_fdinfo(vfd, "vas-total-vm"));
	close(vfd);
	close(m);
	free(heap);
}

/*
 * v07: all or nothing: a source range whose second half is private
 * anonymous memory maps nothing, so its first half can then be attached
 * at the same target.
 */
TEST_F(vas, v07_attach_all_or_nothing)
{
	char *s = mmap(NULL, 3 * VAS_PAGE, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char *d = vas_reserve(3 * VAS_PAGE);
	int vfd = vas_create(0);

	ASSERT_NE(MAP_FAILED, s);
	ASSERT_NE(NULL, d);
	ASSERT_LE(0, vfd);
	ASSERT_EQ(s + VAS_PAGE, mmap(s + VAS_PAGE, VAS_PAGE, RW,
				     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	s[VAS_PAGE] = 1;
	ASSERT_EQ(0, munmap(s + 2 * VAS_PAGE, VAS_PAGE));
	struct vas_attach_args a;

	vas_args(&a, VAS_ATTACH_SRC_SELF, vfd, -1, (uintptr_t)s, (uintptr_t)d,
		 2 * VAS_PAGE, RW);
	EXPECT_ATTACH(EINVAL, &a);
	EXPECT_EQ(0, vas_fdinfo(vfd, "vas-total-vm"));
	/* Shared, private, then a hole. */
	a.len = 3 * VAS_PAGE;
	EXPECT_ATTACH(EINVAL, &a);
	EXPECT_EQ(0, vas_fdinfo(vfd, "vas-total-vm"));
	a.len = VAS_PAGE;
	EXPECT_EQ(0, vas_attach(&a, sizeof(a)));
	/* The second target page is still free too. */
	vas_args(&a, VAS_ATTACH_SRC_SELF, vfd, -1, (uintptr_t)s, (uintptr_t)d + VAS_PAGE,
		 VAS_PAGE, RW);
	EXPECT_EQ(0, vas_attach(&a, sizeof(a)));
	EXPECT_EQ(2, vas_fdinfo(vfd, "vas-total-vm"));
	close(vfd);
}

/* v07: a target beyond the task size: ENOMEM. */
TEST_F(vas, v07_attach_beyond_task_size_enomem)
{
	int m = vas_memfd(VAS_PAGE, 0), vfd = vas_create(0);

	ASSERT_LE(0, m);
	ASSERT_LE(0, vfd);
#ifdef __s390__
	close(vfd);
	close(m);
	/* Its page tables grow up to the top: no range lies beyond. */
	SKIP(return, "s390's task size is all but the last page");
#elif __SIZEOF_LONG__ == 8
	EXPECT_EQ(-ENOMEM, vas_attach_file(vfd, m, 0, (void *)0xffff800000000000UL,
					   VAS_PAGE, RW, false));
	EXPECT_EQ(-ENOMEM, vas_attach_file(vfd, m, 0, (void *)0xffffffff00000000UL,
					   VAS_PAGE, RW, false));
#else
	/*
	 * The last page below 4 GiB, above every compat task size: ia32,
	 * 32-bit powerpc, 31-bit s390.
	 */
	EXPECT_EQ(-ENOMEM, vas_attach_file(vfd, m, 0,
					   (void *)(uintptr_t)(0x100000000ULL - VAS_PAGE),
					   VAS_PAGE, RW, false));
#endif
	EXPECT_EQ(0, vas_fdinfo(vfd, "vas-total-vm"));
	close(vfd);
	close(m);
}

#if __SIZEOF_LONG__ == 8
/* /dev/kmsg, positioned after the last record, for kmsg_says(). */
static int kmsg_at_end(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/* Has the kernel logged @what since kmsg_at_end()? */
static bool kmsg_says(int fd, const char *what)
{
	char rec[1024];
	ssize_t n;

	while ((n = read(fd, rec, sizeof(rec) - 1)) != 0) {
		if (n < 0 && errno == EPIPE)
			continue;
		if (n < 0)
			break;
		rec[n] = '\0';
		if (strstr(rec, what))
			return true;
	}
	return false;
}
#endif

/*
 * v08: spaces whose only mappings lie far above the program. On s390 the
 * first such mapping grows the page table of a space that maps nothing
 * yet, by one or two levels; the table the space began with must go with
 * the space ("BUG: non-zero pgtables_bytes on freeing mm" if it leaks).
 */
/* 64 TiB is the top of a 64-bit powerpc task with 4 KiB pages. */
#ifdef __powerpc__
#define HIGH_MAPPING	0x200000000000UL	/* 32 TiB */
#else
#define HIGH_MAPPING	0x400000000000UL	/* 64 TiB */
#endif

TEST_F(vas, v08_high_mappings_in_empty_space_freed)
{
#if __SIZEOF_LONG__ == 8
	static const unsigned long high[][2] = {
		{ HIGH_MAPPING, 0 },
#ifdef __s390__
		{ 1UL << 43, 0 },		/* 4 levels */
		{ 1UL << 54, 0 },		/* 5 levels at once */
		{ 1UL << 43, 1UL << 54 },	/* 4, then 5 with a VMA */
		{ 1UL << 30, 1UL << 54 },	/* low first, then high */
#endif
	};
	int m = vas_memfd(VAS_PAGE, 0x5a), kmsg = kmsg_at_end();
	unsigned int i, j, round;

	ASSERT_LE(0, m);
	ASSERT_LE(0, kmsg);
	for (round = 0; round < 50; round++) {
		for (i = 0; i < ARRAY_SIZE(high); i++) {
			int vfd = vas_create(0), pages = 0;

			ASSERT_LE(0, vfd);
			for (j = 0; j < 2 && high[i][j]; j++, pages++)
				ASSERT_EQ(0, vas_attach_file(vfd, m, 0, (void *)high[i][j],
							     VAS_PAGE, RW, false)) {
					TH_LOG("attach at %#lx", high[i][j]);
				}
			EXPECT_EQ(pages, vas_fdinfo(vfd, "vas-total-vm"));
			close(vfd);
		}
	}
	/* The last space may still be on its way out: give it a moment. */
	usleep(200000);
	EXPECT_FALSE(kmsg_says(kmsg, "pgtables_bytes"));
	close(kmsg);
	close(m);
#else
	SKIP(return, "a 32-bit caller has no address above 4 GiB");
#endif
}

/* v04: vas_create() and its fd; vas_switch() argument checks. */
TEST_F(vas, v04_create_fd_and_switch_args)
{
	char path[64], link[64] = "";
	int vfd, m = vas_memfd(VAS_PAGE, 0), bad = closed_fd(), p[2];

	ASSERT_LE(0, m);
	ASSERT_EQ(0, pipe(p));
	errno = 0;
	EXPECT_EQ(-1, vas_create(1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, vas_create(~0U));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, vas_create(1U << 31));
	EXPECT_EQ(EINVAL, errno);
	vfd = vas_create(0);
	ASSERT_LE(0, vfd);
	EXPECT_EQ(FD_CLOEXEC, fcntl(vfd, F_GETFD) & FD_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", vfd);
	ASSERT_LT(0, readlink(path, link, sizeof(link) - 1));
	EXPECT_STREQ("anon_inode:[vas]", link);
	EXPECT_EQ(0, vas_fdinfo(vfd, "vas-threads"));
	EXPECT_EQ(0, vas_fdinfo(vfd, "vas-total-vm"));

	EXPECT_EQ(-1, vas_switch(vfd, 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, vas_switch(vfd, 1U << 31));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, vas_switch(VAS_HOME, 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, vas_switch(-5, 0));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, vas_switch(-2, 0));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, vas_switch(INT32_MIN, 0));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, vas_switch(bad, 0));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, vas_switch(p[0], 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, vas_switch(m, 0));
	EXPECT_EQ(EINVAL, errno);
	/* At home already. */
	EXPECT_EQ(0, vas_switch(VAS_HOME, 0));
	EXPECT_EQ(0, vas_fdinfo(vfd, "vas-threads"));
	close(vfd);
	close(m);
}

/* SCM_RIGHTS helpers. */
static int send_fd(int sock, int fd)
{
	char c = 'f';
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char c, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* Switch in, write arg[1] at arg[0], read it back, go home. */
static int fn_write_word(struct vas_ctl *c)
{
	__u64 *d = (__u64 *)c->arg[0];

	c->res[0] = vas_switch_raw(c->fd[0]);
	if (c->res[0])
		return 1;
	WRITE_ONCE(*d, c->arg[1]);
	c->res[1] = READ_ONCE(*d);
	c->res[2] = vas_probe(c->home_page);
	c->res[3] = vas_switch_raw(VAS_HOME);
	return 0;
}

/* Switch in, read the word at arg[0], go home. */
static int fn_read_word(struct vas_ctl *c)
{
	c->res[0] = vas_switch_raw(c->fd[0]);
	if (c->res[0])
		return 1;
	c->res[1] = READ_ONCE(*(__u64 *)c->arg[0]);
	c->res[2] = vas_probe(c->home_page);
	c->res[3] = vas_switch_raw(VAS_HOME);
	return 0;
}

/*
 * v04: a space is reached through its fd alone: passed over SCM_RIGHTS
 * to another process (after the sender closed its copy) it works there.
 */
TEST_F(vas, v04_fd_over_scm_rights_works_in_other_process)
{
	void *d = vas_reserve(VAS_PAGE);
	int m = vas_memfd(VAS_PAGE, 0), sv[2], status, vfd;
	__u64 v = 0;
	pid_t pid;

	ASSERT_NE(NULL, d);
	ASSERT_LE(0, m);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct vas_thread t;

		close(sv[0]);
		vfd = recv_fd(sv[1]);
		ASSERT_LE(0, vfd);
		ASSERT_EQ(0, vas_thread_init(&t));
		/* The sender attached its text (the same file, same addresses). */
		ASSERT_EQ(0, vas_attach_self(vfd, t.region, t.len, RW));
		t.ctl->fd[0] = vfd;
		t.ctl->arg[0] = (long)d;
		t.ctl->arg[1] = 0x5c5c0004;
		ASSERT_EQ(0, vas_thread_run(&t, fn_write_word, 20));
		EXPECT_EQ(0, t.ctl->res[0]);
		EXPECT_EQ(0x5c5c0004, t.ctl->res[1]);
		EXPECT_EQ(-ENOMEM, t.ctl->res[2]);
		EXPECT_EQ(0, t.ctl->res[3]);
		_exit(0);
	}
	close(sv[1]);
	vfd = vas_create(0);
	ASSERT_LE(0, vfd);
	ASSERT_EQ(0, vas_attach_text(vfd));
	ASSERT_EQ(0, vas_attach_file(vfd, m, 0, d, VAS_PAGE, RW, false));
	ASSERT_EQ(0, send_fd(sv[0], vfd));
	close(vfd);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(sizeof(v), pread(m, &v, sizeof(v), 0));
	EXPECT_EQ(0x5c5c0004, v);
	close(m);
}

/* Fault private anonymous memory in, inside the space. */
static int fn_anon_inside(struct vas_ctl *c)
{
	long p, off;

	c->res[0] = vas_switch_raw(c->fd[0]);
	if (c->res[0])
		return 1;
	p = vas_mmap_raw(0, 4 * MIB, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* An address above 2 GiB is a negative long on 32-bit machines. */
	c->res[1] = (unsigned long)p >= -4095UL ? p : 0;
	if (!c->res[1]) {
		for (off = 0; off < (long)(4 * MIB); off += c->page)
			WRITE_ONCE(*(char *)(p + off), 1);
		c->res[2] = RAW2(__NR_munmap, p, 4 * MIB);
	}
	c->res[3] = vas_switch_raw(VAS_HOME);
	return 0;
}

/*
 * v04: a space outlives the process that made it: sent over SCM_RIGHTS,
 * it is used (and charges new memory) after its creator has exited.
 */
TEST_F(vas, v04_space_outlives_its_creator)
{
	struct vas_thread t;
	int sv[2], status, vfd;
	pid_t pid;

	ASSERT_EQ(0, vas_thread_init(&t));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		vfd = vas_space_new(&t);
		_exit(vfd < 0 || send_fd(sv[1], vfd));
	}
	vfd = recv_fd(sv[0]);
	ASSERT_LE(0, vfd);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	t.ctl->fd[0] = vfd;
	ASSERT_EQ(0, vas_thread_run(&t, fn_anon_inside, 20));
	EXPECT_EQ(0, t.ctl->res[0]);
	EXPECT_EQ(0, t.ctl->res[1]);
	EXPECT_EQ(0, t.ctl->res[2]);
	EXPECT_EQ(0, t.ctl->res[3]);
	close(vfd);
}

/* v04: pidfd_getfd() of a vas fd works like any other fd. */
TEST_F(vas, v04_fd_by_pidfd_getfd)
{
	void *d = vas_reserve(VAS_PAGE);
	int m = vas_memfd(VAS_PAGE, 0), p[2], q[2], status, pidfd, vfd;
	struct vas_thread t;
	__u64 v = 0;
	char c;
	pid_t pid;

	ASSERT_NE(NULL, d);
	ASSERT_LE(0, m);
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, pipe(q));
	ASSERT_EQ(0, vas_thread_init(&t));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		vfd = vas_space_new(&t);
		if (vfd < 0 || vas_attach_file(vfd, m, 0, d, VAS_PAGE, RW, false))
			_exit(1);
		if (write(p[1], &vfd, sizeof(vfd)) != sizeof(vfd))
			_exit(2);
		/* Wait for the parent, then exit, closing the fd. */
		if (read(q[0], &c, 1) != 1)
			_exit(3);
		_exit(0);
	}
	ASSERT_EQ(sizeof(vfd), read(p[0], &vfd, sizeof(vfd)));
	pidfd = pidfd_open(pid);
	ASSERT_LE(0, pidfd);
	vfd = syscall(__NR_pidfd_getfd, pidfd, vfd, 0);
	ASSERT_LE(0, vfd);
	ASSERT_EQ(1, write(q[1], "x", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	/* The child and its fd are gone; ours keeps the space. */
	t.ctl->fd[0] = vfd;
	t.ctl->arg[0] = (long)d;
	t.ctl->arg[1] = 0x9e7f0d;
	ASSERT_EQ(0, vas_thread_run(&t, fn_write_word, 20));
	EXPECT_EQ(0, t.ctl->res[0]);
	EXPECT_EQ(0x9e7f0d, t.ctl->res[1]);
	EXPECT_EQ(0, t.ctl->res[3]);
	ASSERT_EQ(sizeof(v), pread(m, &v, sizeof(v), 0));
	EXPECT_EQ(0x9e7f0d, v);
	close(vfd);
	close(pidfd);
	close(m);
}

/*
 * A space that alone holds SHM_SIZE of memfd memory: attached at a fresh
 * address, the memfd closed. Returns the fd of the space (with t's
 * region and the text) and the address, or -1.
 */
static int shm_space(struct vas_thread *t, char **addr)
{
	int m = vas_memfd(SHM_SIZE, 0x3c3c3c3c3c3c3c3c), vfd;

	*addr = vas_reserve(SHM_SIZE);
	if (m < 0 || !*addr)
		return -1;
	vfd = vas_space_new(t);
	if (vfd < 0 || vas_attach_file(vfd, m, 0, *addr, SHM_SIZE, RW, false))
		return -1;
	close(m);
	return vfd;
}

/* Check every page of the region at arg[0] while parked in the space. */
static long shm_check(struct vas_ctl *c)
{
	char *d = (char *)c->arg[0];
	long off, bad = 0;

	for (off = 0; off < (long)SHM_SIZE; off += c->page)
		if (READ_ONCE(*(__u64 *)(d + off)) != 0x3c3c3c3c3c3c3c3c)
			bad++;
	return bad;
}

static int fn_keep_working(struct vas_ctl *c)
{
	int i;

	c->res[0] = vas_switch_raw(c->fd[0]);
	if (c->res[0])
		return 1;
	c->res[1] = shm_check(c);
	vas_store(&c->state, 1);
	c->res[5] = vas_wait_for(&c->go, 1, 20000);
	/* The last fd is closed now; the space must go on working. */
	for (i = 0; i < 4; i++)
		c->res[2] += shm_check(c);
	c->res[3] = vas_probe(c->home_page);
	vas_store(&c->state, 2);
	c->res[6] = vas_wait_for(&c->go, 2, 20000);
	c->res[4] = vas_switch_raw(VAS_HOME);
	return 0;
}

/*
 * v04: the last fd closed while a thread is in the space: the thread
 * goes on, and the space (and the memfd only it holds) is freed when the
 * thread leaves. fdinfo counts the thread while it is inside.
 */
TEST_F(vas, v04_last_close_while_inside_frees_on_leave)
{
	struct vas_thread t;
	long before, during, after;
	char *d;
	int vfd;

	ASSERT_EQ(0, vas_thread_init(&t));
	before = vas_meminfo_kb("Shmem");
	ASSERT_LE(0, before);
	vfd = shm_space(&t, &d);
	ASSERT_LE(0, vfd);
	EXPECT_LE(before + (long)(SHM_SIZE / 1024) - SHM_SLACK_KB, vas_meminfo_kb("Shmem"));
	t.ctl->fd[0] = vfd;
	t.ctl->arg[0] = (long)d;
	ASSERT_EQ(0, vas_thread_start(&t, fn_keep_working));
	ASSERT_EQ(0, vas_wait_for(&t.ctl->state, 1, 10000));
	EXPECT_EQ(1, vas_fdinfo(vfd, "vas-threads"));
	ASSERT_EQ(0, close(vfd));
	vas_store(&t.ctl->go, 1);
	ASSERT_EQ(0, vas_wait_for(&t.ctl->state, 2, 20000));
	during = vas_meminfo_kb("Shmem");
	vas_store(&t.ctl->go, 2);
	ASSERT_EQ(0, vas_thread_join(&t, 20));
	after = vas_shmem_wait_below(before + SHM_SLACK_KB, 5000);
	TH_LOG("Shmem: before %ld kB, closed but inside %ld kB, after leaving %ld kB",
	       before, during, after);
	EXPECT_EQ(0, t.ctl->res[0]);
	EXPECT_EQ(0, t.ctl->res[1]);
	EXPECT_EQ(0, t.ctl->res[2]);
	EXPECT_EQ(-ENOMEM, t.ctl->res[3]);
	EXPECT_EQ(0, t.ctl->res[4]);
	EXPECT_EQ(0, t.ctl->res[5]);
	EXPECT_EQ(0, t.ctl->res[6]);
	EXPECT_LE(before + (long)(SHM_SIZE / 1024) - SHM_SLACK_KB, during);
	EXPECT_GE(before + SHM_SLACK_KB, after);
}

/* Switch into fd[0], wait, switch straight into fd[1], wait, go home. */
static int fn_leave_sideways(struct vas_ctl *c)
{
	c->res[0] = vas_switch_raw(c->fd[0]);
	if (c->res[0])
		return 1;
	vas_store(&c->state, 1);
	c->res[1] = vas_wait_for(&c->go, 1, 20000);
	c->res[2] = vas_switch_raw(c->fd[1]);
	vas_store(&c->state, 2);
	c->res[3] = vas_wait_for(&c->go, 2, 20000);
	c->res[4] = vas_switch_raw(VAS_HOME);
	return 0;
}

/*
 * v04: a space whose fds are closed dies when its last thread moves
 * straight on into another space, too.
 */
TEST_F(vas, v04_last_close_then_switch_elsewhere_frees)
{
	struct vas_thread t;
	long before, during, after;
	char *d;
	int a, b;

	ASSERT_EQ(0, vas_thread_init(&t));
	before = vas_meminfo_kb("Shmem");
	a = shm_space(&t, &d);
	ASSERT_LE(0, a);
	b = vas_space_new(&t);
	ASSERT_LE(0, b);
	t.ctl->fd[0] = a;
	t.ctl->fd[1] = b;
	ASSERT_EQ(0, vas_thread_start(&t, fn_leave_sideways));
	ASSERT_EQ(0, vas_wait_for(&t.ctl->state, 1, 10000));
	ASSERT_EQ(0, close(a));
	during = vas_meminfo_kb("Shmem");
	vas_store(&t.ctl->go, 1);
	ASSERT_EQ(0, vas_wait_for(&t.ctl->state, 2, 10000));
	after = vas_shmem_wait_below(before + SHM_SLACK_KB, 5000);
	EXPECT_EQ(1, vas_fdinfo(b, "vas-threads"));
	vas_store(&t.ctl->go, 2);
	ASSERT_EQ(0, vas_thread_join(&t, 10));
	TH_LOG("Shmem: before %ld kB, closed but inside %ld kB, after moving on %ld kB",
	       before, during, after);
	EXPECT_EQ(0, t.ctl->res[0]);
	EXPECT_EQ(0, t.ctl->res[2]);
	EXPECT_EQ(0, t.ctl->res[4]);
	EXPECT_LE(before + (long)(SHM_SIZE / 1024) - SHM_SLACK_KB, during);
	EXPECT_GE(before + SHM_SLACK_KB, after);
	EXPECT_EQ(0, vas_fdinfo(b, "vas-threads"));
	close(b);
}

/* Switch in, report, wait at go == 1, go home, report. */
static int fn_park(struct vas_ctl *c)
{
	c->res[0] = vas_switch_raw(c->fd[0]);
	if (c->res[0]) {
		vas_store(&c->state, 99);
		return 1;
	}
	vas_store(&c->state, 1);
	c->res[1] = vas_wait_for(&c->go, 1, 20000);
	c->res[2] = vas_switch_raw(VAS_HOME);
	vas_store(&c->state, 2);
	return 0;
}

/* v04: fdinfo counts the threads inside a space and the pages mapped in it. */
TEST_F(vas, v04_fdinfo_counts_threads)
{
	struct vas_thread a, b;
	int vfd, dfd;
	long tv;

	ASSERT_EQ(0, vas_thread_init(&a));
	ASSERT_EQ(0, vas_thread_init(&b));
	vfd = vas_space_new(&a);
	ASSERT_LE(0, vfd);
	ASSERT_EQ(0, vas_attach_self(vfd, b.region, b.len, RW));
	tv = text_pages() + (long)(a.len + b.len) / (long)VAS_PAGE;
	EXPECT_EQ(tv, vas_fdinfo(vfd, "vas-total-vm"));
	dfd = dup(vfd);
	ASSERT_LE(0, dfd);
	a.ctl->fd[0] = vfd;
	b.ctl->fd[0] = dfd;
	EXPECT_EQ(0, vas_fdinfo(vfd, "vas-threads"));
	ASSERT_EQ(0, vas_thread_start(&a, fn_park));
	ASSERT_EQ(0, vas_wait_for(&a.ctl->state, 1, 10000));
	EXPECT_EQ(1, vas_fdinfo(vfd, "vas-threads"));
	ASSERT_EQ(0, vas_thread_start(&b, fn_park));
	ASSERT_EQ(0, vas_wait_for(&b.ctl->state, 1, 10000));
	EXPECT_EQ(2, vas_fdinfo(vfd, "vas-threads"));
	EXPECT_EQ(2, vas_fdinfo(dfd, "vas-threads"));
	vas_store(&a.ctl->go, 1);
	ASSERT_EQ(0, vas_wait_for(&a.ctl->state, 2, 10000));
	EXPECT_EQ(1, vas_fdinfo(vfd, "vas-threads"));
	vas_store(&b.ctl->go, 1);
	ASSERT_EQ(0, vas_wait_for(&b.ctl->state, 2, 10000));
	EXPECT_EQ(0, vas_fdinfo(vfd, "vas-threads"));
	ASSERT_EQ(0, vas_thread_join(&a, 10));
	ASSERT_EQ(0, vas_thread_join(&b, 10));
	EXPECT_EQ(0, a.ctl->res[0]);
	EXPECT_EQ(0, b.ctl->res[0]);
	EXPECT_EQ(0, a.ctl->res[2]);
	EXPECT_EQ(0, b.ctl->res[2]);
	EXPECT_EQ(tv, vas_fdinfo(vfd, "vas-total-vm"));
	close(vfd);
	close(dfd);
}

/*
 * Switch in, tell the test body, wait for go, then exit_group(arg[2])
 * from inside; with arg[2] == 0 stay inside until killed.
 */
static int fn_exit_group_inside(struct vas_ctl *c)
{
	int *hs = (int *)c->arg[1];

	if (vas_switch_raw(c->fd[0]))
		RAW1(__NR_exit_group, 10);
	vas_store(&hs[0], 1);
	if (vas_wait_for(&hs[1], 1, 20000))
		RAW1(__NR_exit_group, 11);
	if (c->arg[2])
		RAW1(__NR_exit_group, c->arg[2]);
	vas_wait_for(&hs[3], 1, 30000);
	RAW1(__NR_exit_group, 12);
	return 0;
}

/*
 * A child process's thread is in a space that alone holds SHM_SIZE of
 * memory; the process exits with code 37 (exit_group() from that thread)
 * or 38 (exit_group() from the main thread at home, which kills the one
 * inside). The space must die with it.
 */
static void exit_group_while_switched(struct __test_metadata *_metadata, bool by_other)
{
	int *hs = mmap(NULL, VAS_PAGE, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	long before, during, after;
	int status;
	pid_t pid;

	ASSERT_NE(MAP_FAILED, hs);
	before = vas_meminfo_kb("Shmem");
	ASSERT_LE(0, before);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct vas_thread t;
		char *d;
		int vfd;

		if (vas_thread_init(&t))
			_exit(2);
		vfd = shm_space(&t, &d);
		if (vfd < 0 || vas_attach_self(vfd, hs, VAS_PAGE, RW))
			_exit(3);
		t.ctl->fd[0] = vfd;
		t.ctl->arg[1] = (long)hs;
		t.ctl->arg[2] = by_other ? 0 : 37;
		if (vas_thread_start(&t, fn_exit_group_inside))
			_exit(4);
		vas_wait_for(&hs[0], 1, 10000);
		/* Only the thread inside keeps the space now. */
		close(vfd);
		vas_store(&hs[2], 1);
		if (by_other) {
			vas_wait_for(&hs[1], 1, 10000);
			_exit(38);
		}
		pthread_join(t.th, NULL);
		_exit(5);
	}
	ASSERT_EQ(0, vas_wait_for(&hs[2], 1, 10000));
	during = vas_meminfo_kb("Shmem");
	vas_store(&hs[1], 1);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	after = vas_shmem_wait_below(before + SHM_SLACK_KB, 5000);
	TH_LOG("Shmem: before %ld kB, inside %ld kB, after exit %ld kB", before, during, after);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(by_other ? 38 : 37, WEXITSTATUS(status));
	EXPECT_LE(before + (long)(SHM_SIZE / 1024) - SHM_SLACK_KB, during);
	EXPECT_GE(before + SHM_SLACK_KB, after);
}

/* v04, v08: exit_group() from a thread inside a space. */
TEST_F(vas, v08_exit_group_while_switched_frees_space)
{
	exit_group_while_switched(_metadata, false);
}

/* v04, v08: exit_group() from home while another thread is inside a space. */
TEST_F(vas, v08_exit_group_by_other_thread_frees_space)
{
	exit_group_while_switched(_metadata, true);
}

/*
 * The last live thread of a process: wait until the main thread has
 * exited (hs[2], its clear_child_tid, is 0), then exit_group() from
 * inside the space (arg[2] == 1) or after going home.
 */
static int fn_last_thread_exits(struct vas_ctl *c)
{
	int *hs = (int *)c->arg[1];

	if (vas_switch_raw(c->fd[0]))
		RAW1(__NR_exit_group, 10);
	vas_store(&hs[0], 1);
	if (vas_wait_for(&hs[2], 0, 20000))
		RAW1(__NR_exit_group, 11);
	if (!c->arg[2] && vas_switch_raw(VAS_HOME))
		RAW1(__NR_exit_group, 12);
	RAW1(__NR_exit_group, 0);
	return 0;
}

#define RSS_SIZE	(32 * MIB)

/* ru_maxrss (KiB) of a child that used RSS_SIZE at home and whose last thread exits. */
static long maxrss_of_child(struct __test_metadata *_metadata, bool inside)
{
	int *hs = mmap(NULL, VAS_PAGE, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct rusage ru;
	int status;
	pid_t pid;

	if (hs == MAP_FAILED)
		return -1;
	pid = fork();
	if (pid == 0) {
		struct vas_thread t;
		char *big = mmap(NULL, RSS_SIZE, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		int vfd;

		if (big == MAP_FAILED)
			_exit(2);
		memset(big, 1, RSS_SIZE);
		if (vas_thread_init(&t))
			_exit(3);
		vfd = vas_space_new(&t);
		if (vfd < 0 || vas_attach_self(vfd, hs, VAS_PAGE, RW))
			_exit(4);
		t.ctl->fd[0] = vfd;
		t.ctl->arg[1] = (long)hs;
		t.ctl->arg[2] = inside;
		hs[2] = 1;
		if (vas_thread_start(&t, fn_last_thread_exits) ||
		    vas_wait_for(&hs[0], 1, 10000))
			_exit(5);
		/* The main thread goes first: the other one is the group's last. */
		syscall(SYS_set_tid_address, &hs[2]);
		syscall(SYS_exit, 0);
	}
	if (pid < 0 || wait4(pid, &status, 0, &ru) != pid)
		return -1;
	EXPECT_EQ(0, status);
	return ru.ru_maxrss;
}

/*
 * v08: exit takes a switched thread home first, so what is accounted at
 * exit is the process's own mm: the peak RSS of a process whose last
 * thread exits inside a small space is still the home mm's.
 */
TEST_F(vas, v08_exit_while_switched_accounts_home_rss)
{
	long home = maxrss_of_child(_metadata, false);
	long inside = maxrss_of_child(_metadata, true);

	TH_LOG("ru_maxrss: last thread exits at home %ld kB, inside a space %ld kB",
	       home, inside);
	/* The test itself: at home the peak shows. */
	ASSERT_LE((long)(RSS_SIZE / 1024), home);
	EXPECT_LE((long)(RSS_SIZE / 1024), inside);
}

/* v08: a thread exits (SYS_exit) while switched: pthread_join() returns. */
static int fn_exit_inside(struct vas_ctl *c)
{
	c->res[0] = vas_switch_raw(c->fd[0]);
	c->res[1] = vas_probe(c->home_page);
	RAW1(__NR_exit, 0);
	return 1;
}

TEST_F(vas, v08_thread_exit_while_switched_join_returns)
{
	struct vas_thread t;
	int vfd;

	ASSERT_EQ(0, vas_thread_init(&t));
	vfd = vas_space_new(&t);
	ASSERT_LE(0, vfd);
	t.ctl->fd[0] = vfd;
	t.ctl->ret = -1;
	/* pthread_join() waits for clear_child_tid. */
	ASSERT_EQ(0, vas_thread_run(&t, fn_exit_inside, 10));
	EXPECT_EQ(0, t.ctl->res[0]);
	EXPECT_EQ(-ENOMEM, t.ctl->res[1]);
	EXPECT_EQ(-1, t.ctl->ret);
	EXPECT_EQ(0, vas_fdinfo(vfd, "vas-threads"));
	close(vfd);
}

/* Point clear_child_tid at arg[0] (mapped at home only), switch in, exit there. */
static int fn_exit_clear_tid(struct vas_ctl *c)
{
	int *tidp = (int *)c->arg[0];

	WRITE_ONCE(*tidp, c->tid);
	RAW1(__NR_set_tid_address, tidp);
	c->res[0] = vas_switch_raw(c->fd[0]);
	c->res[1] = vas_probe(tidp);
	vas_store(&c->state, 1);
	RAW1(__NR_exit, 0);
	return 1;
}

/*
 * v08, v09: clear_child_tid is cleared and woken in the process's own
 * mm: with the word mapped at home only, a thread exiting inside a
 * space still clears it and wakes its waiter.
 */
TEST_F(vas, v09_clear_child_tid_at_home_when_exiting_inside)
{
	int *tidp = mmap(NULL, VAS_PAGE, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct __kernel_timespec ts = { .tv_sec = 1 };
	struct vas_thread t;
	long end = vas_now_ms() + 10000;
	int vfd, v;

	ASSERT_NE(MAP_FAILED, tidp);
	ASSERT_EQ(0, vas_thread_init(&t));
	vfd = vas_space_new(&t);
	ASSERT_LE(0, vfd);
	t.ctl->fd[0] = vfd;
	t.ctl->arg[0] = (long)tidp;
	ASSERT_EQ(0, vas_thread_start(&t, fn_exit_clear_tid));
	ASSERT_EQ(0, vas_wait_for(&t.ctl->state, 1, 10000));
	/* The thread set its own clear_child_tid: pthread_join() would not return. */
	while ((v = vas_load(tidp)) && vas_now_ms() < end)
		vas_futex(tidp, FUTEX_WAIT, v, &ts);
	EXPECT_EQ(0, t.ctl->res[0]);
	EXPECT_EQ(-ENOMEM, t.ctl->res[1]);
	EXPECT_EQ(0, vas_load(tidp));
	EXPECT_EQ(0, vas_fdinfo(vfd, "vas-threads"));
	close(vfd);
}

/* Lock the robust mutex at arg[0] at home, switch in, exit there. */
static int fn_die_holding_lock(struct vas_ctl *c)
{
	c->res[0] = pthread_mutex_lock((pthread_mutex_t *)c->arg[0]);
	vas_store(&c->state, 1);
	if (vas_wait_for(&c->go, 1, 20000))
		return 1;
	c->res[1] = vas_switch_raw(c->fd[0]);
	c->res[2] = vas_probe(c->home_page);
	RAW1(__NR_exit, 0);
	return 1;
}

/* Lock the robust mutex @arg: EOWNERDEAD, then make it consistent and unlock it. */
static void *lock_waiter(void *arg)
{
	struct timespec ts;
	long ret;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 15;
	ret = pthread_mutex_timedlock(arg, &ts);
	if (ret == EOWNERDEAD && (pthread_mutex_consistent(arg) || pthread_mutex_unlock(arg)))
		ret = -1;
	return (void *)ret;
}

/* The state letter of a thread of this process, from /proc. */
static char task_state(pid_t tid)
{
	char path[64], buf[256], *p;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] ? p[2] : 0;
}

/*
 * v09: the robust futex list is walked in the process's own mm: a thread
 * that dies inside a space while holding a robust mutex (which lies in
 * memory the space does not map) hands EOWNERDEAD to the waiter.
 */
TEST_F(vas, v09_robust_mutex_owner_dies_while_switched)
{
	pthread_mutex_t *mx = mmap(NULL, VAS_PAGE, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pthread_mutexattr_t ma;
	struct vas_thread t;
	pthread_t w;
	void *wret;
	int vfd;

	ASSERT_NE(MAP_FAILED, mx);
	pthread_mutexattr_init(&ma);
	ASSERT_EQ(0, pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST));
	ASSERT_EQ(0, pthread_mutex_init(mx, &ma));
	ASSERT_EQ(0, vas_thread_init(&t));
	vfd = vas_space_new(&t);
	ASSERT_LE(0, vfd);
	t.ctl->fd[0] = vfd;
	t.ctl->arg[0] = (long)mx;
	ASSERT_EQ(0, vas_thread_start(&t, fn_die_holding_lock));
	ASSERT_EQ(0, vas_wait_for(&t.ctl->state, 1, 10000));
	ASSERT_EQ(0, pthread_create(&w, NULL, lock_waiter, mx));
	/* Let the waiter block in the kernel. */
	usleep(200000);
	vas_store(&t.ctl->go, 1);
	ASSERT_EQ(0, pthread_join(w, &wret));
	EXPECT_EQ(EOWNERDEAD, (long)wret);
	ASSERT_EQ(0, vas_thread_join(&t, 10));
	EXPECT_EQ(0, t.ctl->res[0]);
	EXPECT_EQ(0, t.ctl->res[1]);
	EXPECT_EQ(-ENOMEM, t.ctl->res[2]);
	EXPECT_EQ(0, pthread_mutex_lock(mx));
	EXPECT_EQ(0, pthread_mutex_unlock(mx));
	close(vfd);
}

/* Touch a page that only home maps: SIGSEGV. */
static int fn_fault_inside(struct vas_ctl *c)
{
	if (vas_switch_raw(c->fd[0]))
		RAW1(__NR_exit_group, 10);
	c->res[0] = READ_ONCE(*(char *)c->home_page);
	RAW1(__NR_exit_group, 11);
	return 0;
}

/* v08: a fatal signal while switched kills the process as usual. */
TEST_F(vas, v08_fatal_signal_while_switched)
{
	int status;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct rlimit rl = { 0, 0 };
		struct vas_thread t;
		int vfd;

		setrlimit(RLIMIT_CORE, &rl);
		if (vas_thread_init(&t))
			_exit(2);
		vfd = vas_space_new(&t);
		if (vfd < 0)
			_exit(3);
		t.ctl->fd[0] = vfd;
		vas_thread_run(&t, fn_fault_inside, 20);
		_exit(4);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status)) {
		TH_LOG("exited with %d", WEXITSTATUS(status));
	}
	EXPECT_EQ(SIGSEGV, WTERMSIG(status));
}

#if defined(__x86_64__)
/*
 * Process creation from code that may run in a space. A child, if one
 * is created, exits at once (exit, code 99) without touching memory.
 */
static __always_inline
long clone_probe(long nr, long a, long b, long c, long d, long e)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	long ret;

	__asm__ volatile ("syscall\n\t"
			  "test %%rax, %%rax\n\t"
			  "jnz 1f\n\t"
			  "mov %[exit], %%eax\n\t"
			  "mov $99, %%edi\n\t"
			  "syscall\n\t"
			  "1:"
			  : "=a" (ret)
			  : "0" (nr), "D" (a), "S" (b), "d" (c), "r" (r10), "r" (r8),
			    [exit] "i" (__NR_exit)
			  : "rcx", "r11", "memory");
	return ret;
}
#elif defined(__s390__)
static __always_inline
long clone_probe(long nr, long a, long b, long c, long d, long e)
{
	register long r1 __asm__("1") = nr;
	register long r2 __asm__("2") = a;
	register long r3 __asm__("3") = b;
	register long r4 __asm__("4") = c;
	register long r5 __asm__("5") = d;
	register long r6 __asm__("6") = e;

	__asm__ volatile ("svc 0\n\t"
			  "ltgr %%r2,%%r2\n\t"
			  "jnz 1f\n\t"
			  "lghi %%r1,%[exit]\n\t"
			  "lghi %%r2,99\n\t"
			  "svc 0\n\t"
			  "1:"
			  : "+d" (r2), "+d" (r1)
			  : "d" (r3), "d" (r4), "d" (r5), "d" (r6),
			    [exit] "i" (__NR_exit)
			  : "cc", "memory");
	return r2;
}
#elif defined(__powerpc__)
/*
 * Process creation from code that may run in a space. A child, if one
 * is created, exits at once (exit, code 99) without touching memory.
 */
static __always_inline
long clone_probe(long nr, long a, long b, long c, long d, long e)
{
	register long r0 __asm__("r0") = nr;
	register long r3 __asm__("r3") = a;
	register long r4 __asm__("r4") = b;
	register long r5 __asm__("r5") = c;
	register long r6 __asm__("r6") = d;
	register long r7 __asm__("r7") = e;

	__asm__ volatile ("sc\n\t"
			  "bso- 2f\n\t"
			  "cmpwi %1,0\n\t"
			  "bne 1f\n\t"
			  "li 0,%[exit]\n\t"
			  "li 3,99\n\t"
			  "sc\n"
			  "2:\tneg %1,%1\n"
			  "1:"
			  : "+r" (r0), "+r" (r3), "+r" (r4), "+r" (r5),
			    "+r" (r6), "+r" (r7)
			  : [exit] "i" (__NR_exit)
			  : "r8", "r9", "r10", "r11", "r12", "cr0", "ctr",
			    "xer", "memory");
	return r3;
}
#endif

#if defined(__x86_64__) || defined(__s390__) || defined(__powerpc__)
/* clone(): s390 takes the stack before the flags (CLONE_BACKWARDS2). */
static __always_inline long clone_probe_clone(long flags, const void *stack)
{
#ifdef __s390__
	return clone_probe(__NR_clone, (long)stack, flags, 0, 0, 0);
#else
	return clone_probe(__NR_clone, flags, (long)stack, 0, 0, 0);
#endif
}

struct clone_args_v0 {
	__u64 flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

#define THREAD_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | \
		      CLONE_THREAD | CLONE_SYSVSEM)

/* Try every way of creating a task; results from res[@at]. */
static __always_inline void clone_all(struct vas_ctl *c, int at)
{
	struct clone_args_v0 ca;
	char *stack = c->buf + 8192;
	__u64 *z = (__u64 *)&ca;
	unsigned int i;

	/* No memset(): its PLT slot is not mapped in a space. */
	for (i = 0; i < sizeof(ca) / 8; i++)
		WRITE_ONCE(z[i], 0);
	ca.exit_signal = SIGCHLD;
	c->res[at] = clone_probe(__NR_fork, 0, 0, 0, 0, 0);
	c->res[at + 1] = clone_probe(__NR_vfork, 0, 0, 0, 0, 0);
	c->res[at + 2] = clone_probe_clone(SIGCHLD, NULL);
	c->res[at + 3] = clone_probe_clone(CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
	c->res[at + 4] = clone_probe_clone(THREAD_FLAGS, stack);
	c->res[at + 5] = clone_probe(__NR_clone3, (long)&ca, sizeof(ca), 0, 0, 0);
}

static int fn_clone_inside(struct vas_ctl *c)
{
	c->res[0] = vas_switch_raw(c->fd[0]);
	if (c->res[0])
		return 1;
	clone_all(c, 1);
	c->res[7] = vas_probe(c->home_page);
	c->res[8] = vas_switch_raw(VAS_HOME);
	if (c->res[8])
		return 1;
	clone_all(c, 10);
	return 0;
}

/* v08: fork, vfork, clone and clone3 while switched: EBUSY; at home they work again. */
TEST_F(vas, v08_fork_clone_while_switched_ebusy)
{
	struct vas_thread t;
	int vfd, i, status;

	ASSERT_EQ(0, vas_thread_init(&t));
	vfd = vas_space_new(&t);
	ASSERT_LE(0, vfd);
	t.ctl->fd[0] = vfd;
	ASSERT_EQ(0, vas_thread_run(&t, fn_clone_inside, 20));
	ASSERT_EQ(0, t.ctl->res[0]);
	for (i = 1; i <= 6; i++) {
		TH_LOG("in the space, clone variant %d: %ld", i, t.ctl->res[i]);
		EXPECT_EQ(-EBUSY, t.ctl->res[i]);
	}
	EXPECT_EQ(-ENOMEM, t.ctl->res[7]);
	ASSERT_EQ(0, t.ctl->res[8]);
	for (i = 10; i <= 15; i++) {
		if (t.ctl->res[i] <= 0) {
			TH_LOG("at home, clone variant %d: %ld", i - 9, t.ctl->res[i]);
			EXPECT_LT(0, t.ctl->res[i]);
			continue;
		}
		/* A thread (variant 5) exits by itself, no one reaps it. */
		if (i == 14)
			continue;
		EXPECT_EQ(t.ctl->res[i], waitpid(t.ctl->res[i], &status, __WALL));
		EXPECT_TRUE(WIFEXITED(status));
		EXPECT_EQ(99, WEXITSTATUS(status));
	}
	close(vfd);
}
#else
TEST_F(vas, v08_fork_clone_while_switched_ebusy)
{
	SKIP(return, "the clone probes are x86-64, s390 and powerpc assembly");
}
#endif

/*
 * v08: execve() while switched: the file name and argv are read in the
 * space, a failed exec leaves the thread there; otherwise the thread
 * goes home, exec replaces the process's mm, the close-on-exec vas fd is
 * gone and with it the space (and the memfd only the space held). The
 * new image checks that and reports with its exit code: 42 if all is well.
 */
static int fn_exec_inside(struct vas_ctl *c)
{
	long r = vas_switch_raw(c->fd[0]);

	if (r)
		RAW1(__NR_exit_group, 10);
	/* A failed exec leaves the thread where it was. */
	r = RAW3(__NR_execve, c->buf + 1280, &c->arg[4], &c->arg[8]);
	if (r != -ENOENT)
		RAW1(__NR_exit_group, 11);
	if (vas_probe(c->home_page) != -ENOMEM)
		RAW1(__NR_exit_group, 12);
	/* argv is read in the space: an argv mapped at home only is a fault. */
	r = RAW3(__NR_execve, c->buf, c->home_page, &c->arg[8]);
	if (r != -EFAULT)
		RAW1(__NR_exit_group, 13);
	if (vas_probe(c->home_page) != -ENOMEM)
		RAW1(__NR_exit_group, 14);
	r = RAW3(__NR_execve, c->buf, &c->arg[4], &c->arg[8]);
	RAW1(__NR_exit_group, 100 + (-r & 0x7f));
	return 1;
}

#define EXEC_CHILD_ARG "--vas-exec-child"
#define EXEC_COST_ARG "--vas-exec-cost"

/* Shmem in KiB once the per-CPU counts are folded in. */
static long shmem_settled_kb(void)
{
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);

	if (fd >= 0) {
		if (write(fd, "1", 1) != 1)
			perror("stat_refresh");
		close(fd);
	}
	return vas_meminfo_kb("Shmem");
}

/*
 * What exec'ing @path adds to Shmem by itself, with no space anywhere, in
 * KiB, into *@kb; 0, or -1 if it could not be measured. The exec'd image
 * is on tmpfs here, and running it holds some 50 to 80 pages of Shmem
 * more until it exits (seen on x86-64 as on ppc64): a few hundred KiB
 * with 4 KiB pages, over 3 MiB with 64 KiB pages. The exec tests below
 * allow for it, then look for the space's SHM_SIZE.
 */
static int exec_shmem_cost(const char *path, long *kb)
{
	char fdstr[16], basestr[32];
	int p[2], status, ret = 0;
	pid_t pid;
	FILE *f;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(p[0]);
		snprintf(fdstr, sizeof(fdstr), "%d", p[1]);
		snprintf(basestr, sizeof(basestr), "%ld", shmem_settled_kb());
		execl(path, "vas_test", EXEC_COST_ARG, fdstr, basestr, (char *)NULL);
		_exit(6);
	}
	close(p[1]);
	f = fdopen(p[0], "r");
	if (!f || fscanf(f, "%ld", kb) != 1)
		ret = -1;
	if (f)
		fclose(f);
	else
		close(p[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		ret = -1;
	return ret;
}

/* The exec'd image of exec_shmem_cost(): report what it holds. */
static int exec_cost_child(const char *fdstr, const char *basestr)
{
	long base = atol(basestr);
	FILE *f = fdopen(atoi(fdstr), "w");

	if (!f)
		return 1;
	/* Let the exec settle as the exec tests do before they measure. */
	usleep(100000);
	fprintf(f, "%ld\n", shmem_settled_kb() - base);
	return fclose(f) ? 1 : 0;
}

/* @by_other: another thread execs while t's thread is inside the space. */
static void exec_while_switched(struct __test_metadata *_metadata, const char *path,
				bool by_other)
{
	long cost = 0;
	int status;
	pid_t pid;

	ASSERT_EQ(0, exec_shmem_cost(path, &cost)) {
		TH_LOG("could not measure what a plain exec of %s costs in Shmem", path);
	}
	/* Counts that lag can make it a little negative. */
	if (cost < 0)
		cost = 0;
	ASSERT_GT((long)(SHM_SIZE / 1024) / 2, cost) {
		TH_LOG("a plain exec of %s holds %ld kB of Shmem", path, cost);
	}
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct vas_thread t;
		struct vas_ctl *c;
		long base;
		char *d;
		int vfd;

		if (vas_thread_init(&t))
			_exit(2);
		/* The exec'd image's own share is not the space's. */
		base = vas_meminfo_kb("Shmem") + cost;
		vfd = shm_space(&t, &d);
		if (vfd < 0)
			_exit(3);
		c = t.ctl;
		c->fd[0] = vfd;
		/* Everything execve() reads is in the region, mapped in both. */
		snprintf(c->buf, 1024, "%s", path);
		snprintf(c->buf + 1024, 64, "vas_test");
		snprintf(c->buf + 1088, 64, EXEC_CHILD_ARG);
		snprintf(c->buf + 1152, 64, "%d", vfd);
		snprintf(c->buf + 1216, 64, "%ld", base);
		snprintf(c->buf + 1280, 64, "/nonexistent/vas_test");
		/* The same argv, at home only. */
		memcpy(c->home_page, &c->arg[4], 6 * sizeof(long));
		c->arg[4] = (long)(c->buf + 1024);
		c->arg[5] = (long)(c->buf + 1088);
		c->arg[6] = (long)(c->buf + 1152);
		c->arg[7] = (long)(c->buf + 1216);
		c->arg[8] = 0;
		c->arg[9] = 0;
		if (!by_other) {
			vas_thread_run(&t, fn_exec_inside, 20);
			_exit(4);
		}
		if (vas_thread_start(&t, fn_park) || vas_wait_for(&c->state, 1, 10000))
			_exit(5);
		execv(c->buf, (char **)&c->arg[4]);
		_exit(6);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status)) {
		TH_LOG("killed by signal %d", WTERMSIG(status));
	}
	EXPECT_EQ(42, WEXITSTATUS(status));
}

/*
 * What the exec'd image checks: the vas fd is closed (43), one thread
 * (45), Shmem back to what it was before the space got its memory, plus
 * what a plain exec of the image holds (46).
 */
static int exec_child(const char *fdstr, const char *basestr)
{
	long base = atol(basestr), end = vas_now_ms() + 3000;
	int fd = atoi(fdstr);
	DIR *d;
	struct dirent *de;
	int n = 0;

	if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
		return 43;
	d = opendir("/proc/self/task");
	if (!d)
		return 44;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	if (n != 1)
		return 45;
	while (vas_meminfo_kb("Shmem") > base + SHM_SLACK_KB) {
		if (vas_now_ms() > end) {
			long now = vas_meminfo_kb("Shmem");

			/* Fold the per-CPU counts, which lag by pages, and look again. */
			if (shmem_settled_kb() <= base + SHM_SLACK_KB)
				break;
			fprintf(stderr,
				"# exec'd image: Shmem %ld kB (%ld kB refreshed), before the space plus a plain exec's share %ld kB, own RssShmem %ld kB\n",
				now, vas_meminfo_kb("Shmem"), base,
				vas_proc_long("/proc/self/status", "RssShmem"));
			return 46;
		}
		usleep(10000);
	}
	return 42;
}

TEST_F(vas, v08_exec_while_switched)
{
	char path[512];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);

	ASSERT_LT(0, n);
	path[n] = 0;
	exec_while_switched(_metadata, path, false);
}

/* The same through /proc/self/exe, which names the process's own mm's file. */
TEST_F(vas, v08_exec_proc_self_exe_while_switched)
{
	exec_while_switched(_metadata, "/proc/self/exe", false);
}

/* Another thread execs while one is inside a space: de_thread() takes it down. */
TEST_F(vas, v08_exec_by_other_thread_while_one_is_switched)
{
	exec_while_switched(_metadata, "/proc/self/exe", true);
}

/*
 * powerpc has no SA_RESTORER: without a vDSO, which a new space lacks,
 * a handler returns through a trampoline the kernel writes on the
 * signal stack, so the region is executable in the space there. An
 * ELFv1 handler is a function descriptor (data, not text): the one given
 * to sigaction() is a copy in the region.
 */
#ifdef __powerpc__
#define SIG_REGION_PROT	(PROT_READ | PROT_WRITE | PROT_EXEC)
#else
#define SIG_REGION_PROT	(PROT_READ | PROT_WRITE)
#endif

/*
 * v08, v09: a signal to a thread inside a space runs its handler there
 * (program text, shared stack, glibc's SA_RESTORER trampoline) and the
 * thread carries on in the space.
 */
static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	struct vas_ctl *c = vas_self;
	int local;

	c->res[21] = (long)&local;
	c->res[22] = vas_probe(c->home_page);
	c->res[23] = si->si_pid;
	__atomic_store_n(&c->res[20], sig, __ATOMIC_RELEASE);
}

static int fn_wait_signal(struct vas_ctl *c)
{
	long end;

	/* SIGUSR2 is for sigtimedwait() below. */
	RAW4(__NR_rt_sigprocmask, SIG_BLOCK, c->arg[0], NULL, 8);
	c->res[0] = vas_switch_raw(c->fd[0]);
	if (c->res[0])
		return 1;
	vas_store(&c->state, 1);
	end = vas_now_ms() + 20000;
	while (!__atomic_load_n(&c->res[20], __ATOMIC_ACQUIRE) && vas_now_ms() < end)
		RAW0(__NR_sched_yield);
	c->res[1] = vas_probe(c->home_page);
	/* And a signal that interrupts a system call inside. */
	vas_store(&c->state, 2);
	c->res[3] = RAW4(VAS_NR_SIGTIMEDWAIT, c->arg[0], NULL, c->arg[1], 8);
	c->res[2] = vas_switch_raw(VAS_HOME);
	return 0;
}

#ifdef __s390__
#ifndef SA_RESTORER
#define SA_RESTORER	0x04000000
#endif

/* The kernel's struct sigaction for rt_sigaction() on s390x. */
struct s390_ksigaction {
	void (*handler)(int sig, siginfo_t *si, void *uc);
	unsigned long flags;
	void *restorer;
	unsigned long mask;
};

/* The address of an rt_sigreturn() trampoline in the program text. */
static void *rt_restorer(void)
{
	void *p;

	__asm__ ("larl	%0,1f\n\t"
		 "j	2f\n"
		 "1:	svc	%[nr]\n"
		 "2:"
		 : "=a" (p)
		 : [nr] "i" (__NR_rt_sigreturn));
	return p;
}

/*
 * glibc leaves the signal return trampoline to the kernel on s390, and
 * the kernel's is in the vDSO, which a space does not have: install the
 * handler with a trampoline in the program text, as glibc does on x86.
 */
static int sigaction_in_text(int sig, void (*fn)(int, siginfo_t *, void *))
{
	struct s390_ksigaction ksa = {
		.handler = fn,
		.flags = SA_SIGINFO | SA_RESTORER,
		.restorer = rt_restorer(),
	};

	return syscall(SYS_rt_sigaction, sig, &ksa, NULL, 8);
}
#else
static int sigaction_in_text(int sig, void (*fn)(int, siginfo_t *, void *))
{
	return vas_sigaction(sig, fn);
}
#endif

TEST_F(vas, v08_signal_while_switched)
{
	struct __kernel_timespec ts = { .tv_sec = 20 };
	struct vas_thread t;
	void (*handler)(int, siginfo_t *, void *) = on_usr1;
	sigset_t *set;
	int vfd;

	ASSERT_EQ(0, vas_thread_init(&t));
#if defined(__PPC64__) && (!defined(_CALL_ELF) || _CALL_ELF == 1)
	memcpy(t.ctl->buf + 1024, (void *)on_usr1, 3 * sizeof(long));
	handler = (void *)(t.ctl->buf + 1024);
#endif
	ASSERT_EQ(0, sigaction_in_text(SIGUSR1, handler));
	vfd = vas_space_new_prot(&t, SIG_REGION_PROT);
	ASSERT_LE(0, vfd);
	/* sigtimedwait()'s arguments, in the region. */
	set = (sigset_t *)t.ctl->buf;
	sigemptyset(set);
	sigaddset(set, SIGUSR2);
	memcpy(t.ctl->buf + 512, &ts, sizeof(ts));
	t.ctl->arg[0] = (long)set;
	t.ctl->arg[1] = (long)(t.ctl->buf + 512);
	t.ctl->fd[0] = vfd;
	ASSERT_EQ(0, vas_thread_start(&t, fn_wait_signal));
	ASSERT_EQ(0, vas_wait_for(&t.ctl->state, 1, 10000));
	ASSERT_EQ(0, syscall(SYS_tgkill, getpid(), t.ctl->tid, SIGUSR1));
	ASSERT_EQ(0, vas_wait_for(&t.ctl->state, 2, 20000));
	ASSERT_EQ(0, syscall(SYS_tgkill, getpid(), t.ctl->tid, SIGUSR2));
	ASSERT_EQ(0, vas_thread_join(&t, 20));
	EXPECT_EQ(0, t.ctl->res[0]);
	EXPECT_EQ(SIGUSR1, t.ctl->res[20]);
	EXPECT_TRUE(within(t.ctl->res[21], t.region, t.len));
	EXPECT_EQ(-ENOMEM, t.ctl->res[22]);
	EXPECT_EQ(getpid(), t.ctl->res[23]);
	EXPECT_EQ(-ENOMEM, t.ctl->res[1]);
	EXPECT_EQ(SIGUSR2, t.ctl->res[3]);
	EXPECT_EQ(0, t.ctl->res[2]);
	close(vfd);
}

/* Wake the shared futex at arg[0] from inside until someone is woken. */
static int fn_futex_wake_shared(struct vas_ctl *c)
{
	long end, r = 0;

	c->res[0] = vas_switch_raw(c->fd[0]);
	if (c->res[0])
		return 1;
	end = vas_now_ms() + 20000;
	while (vas_now_ms() < end) {
		c->res[2]++;
		r = RAW6(__NR_futex, c->arg[0], FUTEX_WAKE, 1, NULL, NULL, 0);
		if (r)
			break;
		vas_sleep_ms(1);
	}
	c->res[1] = r;
	c->res[3] = vas_switch_raw(VAS_HOME);
	return 0;
}

/*
 * v09: a shared futex (no FUTEX_PRIVATE_FLAG) on a memfd page reaches
 * across spaces, even at a different address: a FUTEX_WAKE from inside
 * wakes a FUTEX_WAIT at home.
 */
TEST_F(vas, v09_shared_futex_wakes_across_spaces)
{
	struct __kernel_timespec ts = { .tv_sec = 20 };
	char *in = vas_reserve(VAS_PAGE);
	int m = vas_memfd(VAS_PAGE, 0), vfd;
	struct vas_thread t;
	__u32 *home;
	long r;

	ASSERT_NE(NULL, in);
	ASSERT_LE(0, m);
	home = mmap(NULL, VAS_PAGE, RW, MAP_SHARED, m, 0);
	ASSERT_NE(MAP_FAILED, home);
	ASSERT_EQ(0, vas_thread_init(&t));
	vfd = vas_space_new(&t);
	ASSERT_LE(0, vfd);
	ASSERT_EQ(0, vas_attach_file(vfd, m, 0, in, VAS_PAGE, RW, false));
	t.ctl->fd[0] = vfd;
	t.ctl->arg[0] = (long)in + 64;
	ASSERT_EQ(0, vas_thread_start(&t, fn_futex_wake_shared));
	r = vas_futex(home + 16, FUTEX_WAIT, 0, &ts);
	EXPECT_EQ(0, r) {
		TH_LOG("FUTEX_WAIT: errno %d", errno);
	}
	ASSERT_EQ(0, vas_thread_join(&t, 20));
	EXPECT_EQ(0, t.ctl->res[0]);
	EXPECT_EQ(1, t.ctl->res[1]);
	EXPECT_EQ(0, t.ctl->res[3]);
	close(vfd);
	close(m);
}

/*
 * Once the main thread sleeps in FUTEX_WAIT_PRIVATE on arg[0], wake it
 * from inside the space (private and shared: neither reaches it), then
 * from home (it does).
 */
static int fn_futex_wake_private(struct vas_ctl *c)
{
	pid_t waiter = c->arg[1];
	int i;

	/* At home: libc is fine here. */
	for (i = 0; i < 2000 && task_state(waiter) != 'S'; i++)
		usleep(10000);
	usleep(100000);
	c->res[5] = task_state(waiter);
	c->res[0] = vas_switch_raw(c->fd[0]);
	if (c->res[0])
		return 1;
	c->res[1] = RAW6(__NR_futex, c->arg[0], FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	c->res[2] = RAW6(__NR_futex, c->arg[0], FUTEX_WAKE, 1, NULL, NULL, 0);
	c->res[3] = vas_switch_raw(VAS_HOME);
	if (c->res[3])
		return 1;
	c->res[6] = task_state(waiter);
	c->res[4] = RAW6(__NR_futex, c->arg[0], FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	return 0;
}

/* v09: private futexes are keyed by mm: a wake from inside a space does not reach home. */
TEST_F(vas, v09_private_futex_keyed_by_mm)
{
	struct __kernel_timespec ts = { .tv_sec = 30 };
	__u32 *w = mmap(NULL, VAS_PAGE, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct vas_thread t;
	long r;
	int vfd;

	ASSERT_NE(MAP_FAILED, w);
	ASSERT_EQ(0, vas_thread_init(&t));
	vfd = vas_space_new(&t);
	ASSERT_LE(0, vfd);
	ASSERT_EQ(0, vas_attach_self(vfd, w, VAS_PAGE, RW));
	t.ctl->fd[0] = vfd;
	t.ctl->arg[0] = (long)w;
	t.ctl->arg[1] = syscall(SYS_gettid);
	ASSERT_EQ(0, vas_thread_start(&t, fn_futex_wake_private));
	r = vas_futex(w, FUTEX_WAIT_PRIVATE, 0, &ts);
	EXPECT_EQ(0, r) {
		TH_LOG("FUTEX_WAIT_PRIVATE: errno %d", errno);
	}
	ASSERT_EQ(0, vas_thread_join(&t, 20));
	EXPECT_EQ('S', t.ctl->res[5]);
	EXPECT_EQ(0, t.ctl->res[0]);
	EXPECT_EQ(0, t.ctl->res[1]);
	EXPECT_EQ(0, t.ctl->res[2]);
	EXPECT_EQ(0, t.ctl->res[3]);
	/* The waiter was still asleep after the wakes from inside. */
	EXPECT_EQ('S', t.ctl->res[6]);
	EXPECT_EQ(1, t.ctl->res[4]);
	close(vfd);
}

/* Read a file into [buf, buf + len) with raw calls; the path is at @path. */
static __always_inline
long raw_read_file(const char *path, char *buf, long len)
{
	long fd = RAW4(__NR_openat, AT_FDCWD, path, O_RDONLY, 0), n, got = 0;

	if (fd < 0)
		return fd;
	while (got < len - 1) {
		n = RAW3(__NR_read, fd, buf + got, len - 1 - got);
		if (n <= 0)
			break;
		got += n;
	}
	buf[got] = 0;
	RAW1(__NR_close, fd);
	return got;
}

#define MAPS_LEN	16384

/* Read /proc/thread-self/maps (path at buf) inside into buf + 4096, wait, then at home. */
static int fn_read_maps(struct vas_ctl *c)
{
	c->res[0] = vas_switch_raw(c->fd[0]);
	if (c->res[0])
		return 1;
	c->res[1] = raw_read_file(c->buf, c->buf + 4096, MAPS_LEN);
	vas_store(&c->state, 1);
	c->res[4] = vas_wait_for(&c->go, 1, 20000);
	c->res[2] = vas_switch_raw(VAS_HOME);
	c->res[3] = raw_read_file(c->buf, c->buf + 4096 + MAPS_LEN, MAPS_LEN);
	return 0;
}

/* Lines of a maps dump; each must lie within one of @n ranges. -1 if one does not. */
static int maps_lines(const char *maps, const unsigned long *s, const unsigned long *e, int n)
{
	const char *l;
	unsigned long a, b;
	int lines = 0, i;

	for (l = maps; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (sscanf(l, "%lx-%lx", &a, &b) != 2)
			return -1;
		for (i = 0; i < n; i++)
			if (a >= s[i] && b <= e[i])
				break;
		if (i == n)
			return -1;
		lines++;
	}
	return lines;
}

static void read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n, got = 0;

	buf[0] = 0;
	if (fd < 0)
		return;
	while (got < (ssize_t)len - 1 && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += n;
	buf[got] = 0;
	close(fd);
}

/*
 * v03, v09: /proc/thread-self/maps of a thread inside a space lists
 * exactly what was attached (no heap, stack or vDSO: nothing is copied);
 * /proc/PID/task/TID/maps read from home shows the same; at home the
 * thread sees home again.
 */
TEST_F(vas, v03_v09_proc_maps_shows_current_space)
{
	unsigned long s[10], e[10];
	struct vas_thread t;
	char *inside, *outside = malloc(MAPS_LEN), path[64];
	int n, vfd;

	ASSERT_NE(NULL, outside);
	ASSERT_EQ(0, vas_thread_init(&t));
	vfd = vas_space_new(&t);
	ASSERT_LE(0, vfd);
	n = vas_code_ranges(s, e, 8);
	ASSERT_LT(0, n);
	s[n] = (uintptr_t)t.region;
	e[n] = (uintptr_t)t.region + t.len;
	snprintf(t.ctl->buf, 64, "/proc/thread-self/maps");
	t.ctl->fd[0] = vfd;
	ASSERT_EQ(0, vas_thread_start(&t, fn_read_maps));
	ASSERT_EQ(0, vas_wait_for(&t.ctl->state, 1, 10000));
	snprintf(path, sizeof(path), "/proc/self/task/%d/maps", t.ctl->tid);
	read_file(path, outside, MAPS_LEN);
	vas_store(&t.ctl->go, 1);
	ASSERT_EQ(0, vas_thread_join(&t, 20));
	inside = t.ctl->buf + 4096;
	TH_LOG("inside:\n%s", inside);
	ASSERT_EQ(0, t.ctl->res[0]);
	EXPECT_LT(0, t.ctl->res[1]);
	EXPECT_EQ(0, t.ctl->res[2]);
	EXPECT_EQ(n + 1, maps_lines(inside, s, e, n + 1));
	EXPECT_EQ(NULL, strstr(inside, "[stack]"));
	EXPECT_EQ(NULL, strstr(inside, "[heap]"));
	EXPECT_EQ(NULL, strstr(inside, "[vdso]"));
	EXPECT_EQ(NULL, strstr(inside, "[vvar]"));
	EXPECT_STREQ(inside, outside);
	/* Back home: the process's own maps again. */
	EXPECT_LT(0, t.ctl->res[3]);
	EXPECT_NE(NULL, strstr(t.ctl->buf + 4096 + MAPS_LEN, "[stack]"));
	read_file("/proc/self/maps", outside, MAPS_LEN);
	EXPECT_NE(NULL, strstr(outside, "[stack]"));
	close(vfd);
	free(outside);
}

/*
 * v09: rseq inside a space: the area (in the thread's TLS, attached with
 * the stack) keeps being updated: cpu_id agrees with getcpu(), mm_cid is
 * a valid concurrency id.
 */
struct rseq_v0 {
	__u32 cpu_id_start, cpu_id;
	__u64 rseq_cs;
	__u32 flags, node_id, mm_cid;
};

static int fn_rseq(struct vas_ctl *c)
{
	struct rseq_v0 *rs = (struct rseq_v0 *)((char *)vas_tp() + c->arg[0]);
	unsigned int cpu, a, b;
	int i;

	c->res[0] = vas_switch_raw(c->fd[0]);
	if (c->res[0])
		return 1;
	c->res[1] = (int)READ_ONCE(rs->cpu_id);
	c->res[2] = (int)READ_ONCE(rs->cpu_id_start);
	for (i = 0; i < 200; i++) {
		a = READ_ONCE(rs->cpu_id);
		if (RAW3(__NR_getcpu, &cpu, NULL, NULL))
			c->res[3]++;
		b = READ_ONCE(rs->cpu_id);
		if (a == b && a != cpu)
			c->res[4]++;
		if (a == b)
			c->res[5]++;
		if ((int)a < 0)
			c->res[6]++;
		if (c->arg[1] && READ_ONCE(rs->mm_cid) >= (unsigned int)c->arg[2])
			c->res[7]++;
		RAW0(__NR_sched_yield);
	}
	c->res[8] = vas_switch_raw(VAS_HOME);
	return 0;
}

TEST_F(vas, v09_rseq_updated_inside_space)
{
	struct vas_thread t;
	int vfd;

	if (!__rseq_size)
		SKIP(return, "glibc registered no rseq area");
	ASSERT_EQ(0, vas_thread_init(&t));
	vfd = vas_space_new(&t);
	ASSERT_LE(0, vfd);
	t.ctl->fd[0] = vfd;
	t.ctl->arg[0] = __rseq_offset;
	t.ctl->arg[1] = __rseq_size >= offsetof(struct rseq_v0, mm_cid) + 4;
	t.ctl->arg[2] = sysconf(_SC_NPROCESSORS_CONF);
	ASSERT_EQ(0, vas_thread_run(&t, fn_rseq, 30));
	ASSERT_EQ(0, t.ctl->res[0]);
	TH_LOG("cpu_id %ld, cpu_id_start %ld, agreeing reads %ld", t.ctl->res[1],
	       t.ctl->res[2], t.ctl->res[5]);
	EXPECT_LE(0, t.ctl->res[1]);
	EXPECT_LE(0, t.ctl->res[2]);
	EXPECT_EQ(0, t.ctl->res[3]);
	EXPECT_EQ(0, t.ctl->res[4]);
	EXPECT_LT(100, t.ctl->res[5]);
	EXPECT_EQ(0, t.ctl->res[6]);
	EXPECT_EQ(0, t.ctl->res[7]);
	EXPECT_EQ(0, t.ctl->res[8]);
	close(vfd);
}

/* membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) at home, in A (registering there), in B. */
static int fn_membarrier(struct vas_ctl *c)
{
	c->res[0] = RAW3(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
	c->res[1] = vas_switch_raw(c->fd[0]);
	if (c->res[1])
		return 1;
	c->res[2] = RAW3(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
	c->res[3] = RAW3(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0);
	c->res[4] = RAW3(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
	c->res[5] = vas_switch_raw(c->fd[1]);
	if (c->res[5])
		return 1;
	c->res[6] = RAW3(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
	c->res[7] = vas_switch_raw(VAS_HOME);
	c->res[8] = RAW3(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
	return 0;
}

/*
 * v09: membarrier's private commands act on the mm the caller is in:
 * each space registers by itself.
 */
TEST_F(vas, v09_membarrier_registration_per_space)
{
	struct vas_thread t;
	int a, b;

	if (syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0))
		SKIP(return, "no private expedited membarrier: errno %d", errno);
	ASSERT_EQ(0, vas_thread_init(&t));
	a = vas_space_new(&t);
	b = vas_space_new(&t);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	t.ctl->fd[0] = a;
	t.ctl->fd[1] = b;
	ASSERT_EQ(0, vas_thread_run(&t, fn_membarrier, 20));
	EXPECT_EQ(0, t.ctl->res[0]);
	ASSERT_EQ(0, t.ctl->res[1]);
	EXPECT_EQ(-EPERM, t.ctl->res[2]);
	EXPECT_EQ(0, t.ctl->res[3]);
	EXPECT_EQ(0, t.ctl->res[4]);
	ASSERT_EQ(0, t.ctl->res[5]);
	EXPECT_EQ(-EPERM, t.ctl->res[6]);
	EXPECT_EQ(0, t.ctl->res[7]);
	EXPECT_EQ(0, t.ctl->res[8]);
	close(a);
	close(b);
}

/*
 * v09: /proc/PID/task/TID/mem and process_vm_readv() of a thread that is
 * in a space read that space; the process (its leader, at home) reads home.
 */
TEST_F(vas, v09_proc_mem_reads_thread_current_space)
{
	struct vas_thread t;
	char path[64];
	__u64 v = 0, *x = vas_reserve(VAS_PAGE);
	int m = vas_memfd(VAS_PAGE, 0x6d656d), h = vas_memfd(VAS_PAGE, 0x686f6d65), vfd, fd;
	struct iovec local = { .iov_base = &v, .iov_len = sizeof(v) };
	struct iovec remote = { .iov_base = x, .iov_len = sizeof(v) };
	ssize_t n;

	ASSERT_NE(NULL, x);
	ASSERT_LE(0, m);
	ASSERT_LE(0, h);
	ASSERT_NE(NULL, vas_map_at(x, VAS_PAGE, PROT_READ, h));
	ASSERT_EQ(0, vas_thread_init(&t));
	vfd = vas_space_new(&t);
	ASSERT_LE(0, vfd);
	ASSERT_EQ(0, vas_attach_file(vfd, m, 0, x, VAS_PAGE, PROT_READ, false));
	t.ctl->fd[0] = vfd;
	ASSERT_EQ(0, vas_thread_start(&t, fn_park));
	ASSERT_EQ(0, vas_wait_for(&t.ctl->state, 1, 10000));
	snprintf(path, sizeof(path), "/proc/self/task/%d/mem", t.ctl->tid);
	fd = open(path, O_RDONLY);
	EXPECT_LE(0, fd);
	EXPECT_EQ(sizeof(v), pread(fd, &v, sizeof(v), (uintptr_t)x));
	EXPECT_EQ(0x6d656d, v);
	close(fd);
	/* The process's mem is home's. */
	fd = open("/proc/self/mem", O_RDONLY);
	EXPECT_LE(0, fd);
	EXPECT_EQ(sizeof(v), pread(fd, &v, sizeof(v), (uintptr_t)x));
	EXPECT_EQ(0x686f6d65, v);
	close(fd);
	v = 0;
	n = process_vm_readv(t.ctl->tid, &local, 1, &remote, 1, 0);
	if (n < 0 && errno == vas_nosys_errno()) {
		TH_LOG("no process_vm_readv (CONFIG_CROSS_MEMORY_ATTACH=n): not checked");
	} else {
		EXPECT_EQ(sizeof(v), n);
		EXPECT_EQ(0x6d656d, v);
		EXPECT_EQ(sizeof(v), process_vm_readv(getpid(), &local, 1, &remote, 1, 0));
		EXPECT_EQ(0x686f6d65, v);
	}
	vas_store(&t.ctl->go, 1);
	ASSERT_EQ(0, vas_thread_join(&t, 10));
	EXPECT_EQ(0, t.ctl->res[0]);
	EXPECT_EQ(0, t.ctl->res[2]);
	close(vfd);
	close(m);
	close(h);
}

#if defined(__x86_64__)
/* Where a threadlet's function returns to: async_thread_return(rax). */
__attribute__((naked)) static void thr_restorer(void)
{
	__asm__ volatile ("mov %rax, %rdi\n\t"
			  "mov $467, %eax\n\t"
			  "syscall\n\t"
			  "ud2");
}
#elif defined(__s390__)
/* The function's return value arrives in r2, the first argument. */
static void thr_restorer(long value)
{
	syscall(__NR_async_thread_return, value);
	__builtin_trap();
}
#elif defined(__powerpc__)
/*
 * Where a threadlet's function returns to, with its return value in r3,
 * which is this function's argument: async_thread_return(value).
 */
static void thr_restorer(long value)
{
	vas_sys(__NR_async_thread_return, value, 0, 0, 0, 0, 0);
	__builtin_trap();
}
#endif

#if defined(__x86_64__) || defined(__s390__) || defined(__powerpc__)

/* A threadlet's function: try to switch. */
static long thr_switch(void *arg)
{
	return vas_switch_raw((long)arg);
}

static void thr_args(struct async_thread_args *a, long (*fn)(void *), long arg,
		     char *stack, struct async_ring *ring)
{
	memset(a, 0, sizeof(*a));
	a->fn = (uintptr_t)fn;
	a->arg = arg;
	a->stack = (uintptr_t)stack;
	a->stack_size = ASYNC_THREAD_MIN_STACK;
	a->restorer = (uintptr_t)thr_restorer;
	a->ring = (uintptr_t)ring;
	a->eventfd = ASYNC_NO_EVENTFD;
}

/* One getppid atom. */
static void async_args_init(struct async_args *args, struct async_atom *atom,
			    struct async_ring *ring)
{
	memset(atom, 0, sizeof(*atom));
	atom->nr = __NR_getppid;
	memset(args, 0, sizeof(*args));
	args->atoms = (uintptr_t)atom;
	args->nr_atoms = 1;
	args->ring = (uintptr_t)ring;
	args->eventfd = ASYNC_NO_EVENTFD;
}

/* Inside a space: async_exec() and async_thread() with valid arguments. */
static int fn_async_inside(struct vas_ctl *c)
{
	c->res[0] = vas_switch_raw(c->fd[0]);
	if (c->res[0])
		return 1;
	c->res[1] = RAW2(__NR_async_exec, c->arg[0], sizeof(struct async_args));
	c->res[2] = RAW2(__NR_async_thread, c->arg[1], sizeof(struct async_thread_args));
	c->res[3] = vas_switch_raw(VAS_HOME);
	return 0;
}

/*
 * v08: threadlets and async chains do not mix with switching: vas_*
 * atoms are refused at submission (EINVAL), vas_switch() inside
 * a threadlet fails with EBUSY, and async_exec()/async_thread() from a
 * switched thread fail with EBUSY (their workers belong to the home mm).
 */
TEST_F(vas, v08_async_and_threadlets_refuse_switching)
{
	struct vas_thread t;
	struct vas_ctl *c;
	struct async_thread_args *ta;
	struct async_args *args;
	struct async_atom *atom;
	struct async_ring *ring;
	char *stack;
	int vfd;

	ASSERT_EQ(0, vas_thread_init(&t));
	c = t.ctl;
	vfd = vas_space_new(&t);
	ASSERT_LE(0, vfd);
	/* Everything the calls read lives in the region, mapped in both. */
	ring = (struct async_ring *)c->buf;
	ring->entries = 8;
	args = (struct async_args *)(c->buf + 1024);
	atom = (struct async_atom *)(c->buf + 2048);
	ta = (struct async_thread_args *)(c->buf + 3072);
	stack = c->buf + 8192;
	async_args_init(args, atom, ring);
	if (syscall(__NR_async_exec, args, sizeof(*args)) < 0 && errno == vas_nosys_errno())
		SKIP(return, "no async system calls (CONFIG_ASYNC_SYSCALLS=n)");
	ring->head = ring->tail;

	/* vas_* atoms. */
	atom->nr = __NR_vas_switch;
	atom->args[0] = vfd;
	errno = 0;
	EXPECT_EQ(-1, syscall(__NR_async_exec, args, sizeof(*args)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, vas_fdinfo(vfd, "vas-threads"));
	atom->nr = __NR_vas_create;
	atom->args[0] = 0;
	EXPECT_EQ(-1, syscall(__NR_async_exec, args, sizeof(*args)));
	EXPECT_EQ(EINVAL, errno);
	atom->nr = __NR_vas_attach;
	EXPECT_EQ(-1, syscall(__NR_async_exec, args, sizeof(*args)));
	EXPECT_EQ(EINVAL, errno);

	/* vas_switch() in a threadlet (the leader's never go async). */
	thr_args(ta, thr_switch, vfd, stack, ring);
	EXPECT_EQ(ASYNC_EXEC_DONE, syscall(__NR_async_thread, ta, sizeof(*ta))) {
		TH_LOG("async_thread: %s", strerror(errno));
	}
	EXPECT_EQ(-EBUSY, ta->status);
	EXPECT_EQ(0, vas_fdinfo(vfd, "vas-threads"));

	/* From inside a space. */
	async_args_init(args, atom, ring);
	thr_args(ta, thr_switch, VAS_HOME, stack, ring);
	c->fd[0] = vfd;
	c->arg[0] = (long)args;
	c->arg[1] = (long)ta;
	ASSERT_EQ(0, vas_thread_run(&t, fn_async_inside, 20));
	EXPECT_EQ(0, c->res[0]);
	EXPECT_EQ(-EBUSY, c->res[1]);
	EXPECT_EQ(-EBUSY, c->res[2]);
	EXPECT_EQ(0, c->res[3]);
	close(vfd);
}
#endif

/* Change this thread's credentials (raw: this thread only) inside the space. */
static int fn_setuid_inside(struct vas_ctl *c)
{
	c->res[0] = vas_switch_raw(c->fd[0]);
	if (c->res[0])
		return 1;
	c->res[1] = RAW3(__NR_setresuid, 65534, 65534, 65534);
	c->res[2] = RAW2(__NR_prctl, PR_GET_DUMPABLE, 0);
	c->res[3] = vas_switch_raw(VAS_HOME);
	c->res[4] = RAW2(__NR_prctl, PR_GET_DUMPABLE, 0);
	return 0;
}

/*
 * v09: a credential change marks the process's memory undumpable
 * (commit_creds() -> set_dumpable(task->mm)), so that a less privileged
 * user cannot ptrace it and read what it read with its old rights. The
 * process's memory is its own mm, wherever the thread was when its
 * credentials changed: either the change is refused while switched, or
 * home ends up undumpable.
 */
TEST_F(vas, v09_credential_change_while_switched_marks_home_undumpable)
{
	struct vas_thread t;
	int vfd;

	if (geteuid())
		SKIP(return, "needs root to change credentials");
	ASSERT_EQ(0, prctl(PR_SET_DUMPABLE, 1));
	ASSERT_EQ(1, prctl(PR_GET_DUMPABLE));
	ASSERT_EQ(0, vas_thread_init(&t));
	vfd = vas_space_new(&t);
	ASSERT_LE(0, vfd);
	t.ctl->fd[0] = vfd;
	ASSERT_EQ(0, vas_thread_run(&t, fn_setuid_inside, 20));
	ASSERT_EQ(0, t.ctl->res[0]);
	EXPECT_EQ(0, t.ctl->res[3]);
	TH_LOG("setresuid inside: %ld, dumpable inside %ld, at home %ld", t.ctl->res[1],
	       t.ctl->res[2], t.ctl->res[4]);
	if (t.ctl->res[1] == -EBUSY) {
		EXPECT_EQ(1, prctl(PR_GET_DUMPABLE));
	} else {
		EXPECT_EQ(0, t.ctl->res[1]);
		EXPECT_EQ(0, t.ctl->res[4]);
		EXPECT_EQ(0, prctl(PR_GET_DUMPABLE));
	}
	close(vfd);
}

/* PR_SET_DUMPABLE and PR_GET_DUMPABLE from inside a space. */
static int fn_dumpable_inside(struct vas_ctl *c)
{
	c->res[0] = vas_switch_raw(c->fd[0]);
	if (c->res[0])
		return 1;
	c->res[1] = RAW2(__NR_prctl, PR_SET_DUMPABLE, 0);
	c->res[2] = RAW2(__NR_prctl, PR_GET_DUMPABLE, 0);
	c->res[3] = vas_switch_raw(VAS_HOME);
	c->res[4] = RAW2(__NR_prctl, PR_GET_DUMPABLE, 0);
	return 0;
}

/* v09: PR_SET_DUMPABLE and PR_GET_DUMPABLE act on the process's own mm, also from a space. */
TEST_F(vas, v09_prctl_dumpable_acts_on_process_mm)
{
	struct vas_thread t;
	int vfd;

	ASSERT_EQ(0, prctl(PR_SET_DUMPABLE, 1));
	ASSERT_EQ(0, vas_thread_init(&t));
	vfd = vas_space_new(&t);
	ASSERT_LE(0, vfd);
	t.ctl->fd[0] = vfd;
	ASSERT_EQ(0, vas_thread_run(&t, fn_dumpable_inside, 20));
	ASSERT_EQ(0, t.ctl->res[0]);
	EXPECT_EQ(0, t.ctl->res[1]);
	EXPECT_EQ(0, t.ctl->res[2]);
	EXPECT_EQ(0, t.ctl->res[3]);
	EXPECT_EQ(0, t.ctl->res[4]);
	EXPECT_EQ(0, prctl(PR_GET_DUMPABLE));
	close(vfd);
}

/*
 * Core dumps. Each run leaves two markers of CORE_MARKER_LEN letters that
 * depend on the child's pid: 'H' in private anonymous memory at home,
 * 'S' in a memfd that only the space maps. The 'S' marker is never
 * assembled in the child's own memory: it goes into the memfd a byte at
 * a time.
 */
#define CORE_PATTERN		"/proc/sys/kernel/core_pattern"
#define CORE_FILE		"/tmp/vascore"
#define CORE_MARKER_LEN		64
#define CORE_UNSET		0x7eadbeefL

static __always_inline char core_marker_byte(char kind, long pid, int i)
{
	uint64_t x = (uint64_t)pid * 2654435761UL +
		     (uint64_t)kind * 40503UL + (uint64_t)i * 7919UL;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 32;
	return 'a' + x % 26;
}

/*
 * res is arg[0], a page shared with the test body. Inside the space
 * (arg[3]), check that the home marker (arg[4]) is not there and the
 * space marker (arg[1]) is; then SIGABRT this thread, from where it is.
 */
static int fn_abort(struct vas_ctl *c)
{
	long *res = (long *)c->arg[0];
	const char *space = (const char *)c->arg[1];
	long pid = c->arg[2], n = 0;
	int i;

	if (c->arg[3]) {
		WRITE_ONCE(res[0], vas_switch_raw(c->fd[0]));
		if (READ_ONCE(res[0]))
			return 1;
		WRITE_ONCE(res[1], vas_probe((void *)c->arg[4]));
		for (i = 0; i < CORE_MARKER_LEN; i++)
			n += READ_ONCE(space[i]) == core_marker_byte('S', pid, i);
		WRITE_ONCE(res[2], n);
	}
	WRITE_ONCE(res[3], 1);
	WRITE_ONCE(res[4], RAW3(__NR_tgkill, pid, c->tid, SIGABRT));
	return 1;
}

/* The child: dumpable, no core size limit; a thread at home or inside aborts. */
static void core_child(long *res, bool inside)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	long pid = getpid();
	struct vas_thread t;
	unsigned char vec;
	char *home, *space, b;
	int i, m, vfd;

	if (setrlimit(RLIMIT_CORE, &rl) || prctl(PR_SET_DUMPABLE, 1))
		_exit(2);
	home = mmap(NULL, VAS_PAGE, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (home == MAP_FAILED)
		_exit(3);
	for (i = 0; i < CORE_MARKER_LEN; i++)
		home[i] = core_marker_byte('H', pid, i);
	if (vas_thread_init(&t))
		_exit(4);
	vfd = vas_space_new(&t);
	m = syscall(__NR_memfd_create, "vas-core", 0);
	if (vfd < 0 || m < 0 || ftruncate(m, VAS_PAGE))
		_exit(5);
	for (i = 0; i < CORE_MARKER_LEN; i++) {
		b = core_marker_byte('S', pid, i);
		if (pwrite(m, &b, 1, i) != 1)
			_exit(6);
	}
	/* An address that home does not map: the memfd is there in the space only. */
	space = vas_reserve(VAS_PAGE);
	if (!space || munmap(space, VAS_PAGE) ||
	    vas_attach_file(vfd, m, 0, space, VAS_PAGE, RW, false) ||
	    vas_attach_self(vfd, res, VAS_PAGE, RW))
		_exit(7);
	if (mincore(space, VAS_PAGE, &vec) != -1 || errno != ENOMEM)
		_exit(8);
	t.ctl->fd[0] = vfd;
	t.ctl->arg[0] = (long)res;
	t.ctl->arg[1] = (long)space;
	t.ctl->arg[2] = pid;
	t.ctl->arg[3] = inside;
	t.ctl->arg[4] = (long)home;
	vas_thread_run(&t, fn_abort, 20);
	_exit(9);
}

/* The start of an ELF header, the same for both classes. */
struct elf_start {
	unsigned char ident[EI_NIDENT];
	__u16 type;
};

struct core_run {
	long res[8];		/* what fn_abort() left */
	int status;
	bool reaped;		/* within 20 s */
	bool file;		/* CORE_FILE.pid exists */
	bool elf_core;		/* an ELF file of type ET_CORE */
	bool home_marker, space_marker;
};

/* Run core_child() and look at its core file, which is then removed. */
static void core_run(struct core_run *r, bool inside)
{
	long *res = mmap(NULL, VAS_PAGE, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char path[64], home[CORE_MARKER_LEN], space[CORE_MARKER_LEN];
	char *buf = NULL;
	struct stat st;
	int i, fd;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (res == MAP_FAILED)
		return;
	for (i = 0; i < 8; i++)
		res[i] = CORE_UNSET;
	pid = fork();
	if (pid == 0)
		core_child(res, inside);
	if (pid < 0)
		goto out;
	for (i = 0; i < 2000 && !r->reaped; i++) {
		r->reaped = waitpid(pid, &r->status, WNOHANG) == pid;
		if (!r->reaped)
			usleep(10000);
	}
	if (!r->reaped) {
		kill(pid, SIGKILL);
		waitpid(pid, &r->status, 0);
	}
	memcpy(r->res, res, sizeof(r->res));

	snprintf(path, sizeof(path), CORE_FILE ".%d", pid);
	fd = open(path, O_RDONLY);
	r->file = fd >= 0;
	if (fd < 0)
		goto out;
	if (!fstat(fd, &st) && st.st_size >= (off_t)sizeof(struct elf_start))
		buf = malloc(st.st_size);
	if (buf && read(fd, buf, st.st_size) == st.st_size) {
		struct elf_start *eh = (struct elf_start *)buf;

		for (i = 0; i < CORE_MARKER_LEN; i++) {
			home[i] = core_marker_byte('H', pid, i);
			space[i] = core_marker_byte('S', pid, i);
		}
		r->elf_core = !memcmp(eh->ident, ELFMAG, SELFMAG) && eh->type == ET_CORE;
		r->home_marker = memmem(buf, st.st_size, home, sizeof(home));
		r->space_marker = memmem(buf, st.st_size, space, sizeof(space));
	}
	free(buf);
	close(fd);
	unlink(path);
out:
	munmap(res, VAS_PAGE);
}

static void core_log(struct __test_metadata *_metadata, const char *what,
		     const struct core_run *r)
{
	TH_LOG("%s: reaped %d, status 0x%x, signal %d, core dumped %d", what, r->reaped,
	       r->status, WIFSIGNALED(r->status) ? WTERMSIG(r->status) : 0,
	       WCOREDUMP(r->status) ? 1 : 0);
	TH_LOG("%s: core file %d, ELF core %d, home marker %d, space marker %d", what,
	       r->file, r->elf_core, r->home_marker, r->space_marker);
}

/*
 * v09: a thread that is switched into a space and gets a fatal signal
 * with a core dump is taken home first: the core file is a dump of the
 * process's own address space (it holds the home-only marker), not of
 * the space (no space-only marker). A control run at home first shows
 * that core dumps work here at all.
 */
TEST_F_TIMEOUT(vas, v09_core_dump_is_of_home_mm, 90)
{
	const char *pattern = CORE_FILE ".%p";
	struct core_run home = {}, inside = {};
	bool mounted = false;
	char old[256];
	ssize_t n;
	int fd;

	fd = open(CORE_PATTERN, O_RDWR);
	if (fd < 0)
		SKIP(return, "no writable " CORE_PATTERN " (CONFIG_COREDUMP=n or not root)");
	n = read(fd, old, sizeof(old) - 1);
	ASSERT_LT(0, n);
	old[n] = 0;
	if (access("/tmp", W_OK)) {
		if (mount("vas", "/tmp", "tmpfs", 0, NULL)) {
			close(fd);
			SKIP(return, "/tmp is not writable and no tmpfs could be mounted there");
		}
		mounted = true;
	}
	ASSERT_EQ((ssize_t)strlen(pattern), pwrite(fd, pattern, strlen(pattern), 0));

	core_run(&home, false);
	if (home.file || WCOREDUMP(home.status))
		core_run(&inside, true);

	/* Put things back before any check can end the test. */
	EXPECT_EQ(n, pwrite(fd, old, n, 0));
	close(fd);
	if (mounted)
		umount2("/tmp", MNT_DETACH);

	core_log(_metadata, "control, at home", &home);
	if (!home.file && !WCOREDUMP(home.status))
		SKIP(return, "core dumps not available: the control run at home dumped no core");
	ASSERT_TRUE(home.reaped);
	ASSERT_TRUE(WIFSIGNALED(home.status));
	EXPECT_EQ(SIGABRT, WTERMSIG(home.status));
	EXPECT_TRUE(WCOREDUMP(home.status));
	ASSERT_TRUE(home.file);
	EXPECT_TRUE(home.elf_core);
	EXPECT_TRUE(home.home_marker);
	EXPECT_FALSE(home.space_marker);
	/* The signal is taken on the way out of tgkill(): it never returns. */
	EXPECT_EQ(1, home.res[3]);
	EXPECT_EQ(CORE_UNSET, home.res[4]);

	core_log(_metadata, "switched into the space", &inside);
	TH_LOG("inside: switch %ld, probe of the home marker %ld, tgkill returned %d",
	       inside.res[0], inside.res[1], inside.res[4] != CORE_UNSET);
	TH_LOG("inside: %ld of %d space marker bytes read", inside.res[2], CORE_MARKER_LEN);
	ASSERT_TRUE(inside.reaped);
	ASSERT_EQ(0, inside.res[0]);
	EXPECT_EQ(-ENOMEM, inside.res[1]);
	EXPECT_EQ(CORE_MARKER_LEN, inside.res[2]);
	EXPECT_EQ(1, inside.res[3]);
	EXPECT_EQ(CORE_UNSET, inside.res[4]);
	ASSERT_TRUE(WIFSIGNALED(inside.status));
	EXPECT_EQ(SIGABRT, WTERMSIG(inside.status));
	EXPECT_TRUE(WCOREDUMP(inside.status));
	ASSERT_TRUE(inside.file);
	EXPECT_TRUE(inside.elf_core);
	EXPECT_TRUE(inside.home_marker);
	EXPECT_FALSE(inside.space_marker);
}

/* Stay inside until hs[4] is 1. */
static int fn_wait_inside(struct vas_ctl *c)
{
	int *hs = (int *)c->arg[0];

	c->res[0] = vas_switch_raw(c->fd[0]);
	if (c->res[0])
		return 1;
	vas_store(&hs[3], 1);
	vas_wait_for(&hs[4], 1, 30000);
	c->res[1] = vas_switch_raw(VAS_HOME);
	return 0;
}

/* Open /proc/@pid/task/@tid/mem: 0 or errno. */
static int open_task_mem(pid_t pid, pid_t tid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/mem", pid, tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/*
 * v06, v09: access to a switched thread's memory needs both the space it
 * is in and its process's own mm to allow it: once the process makes
 * itself undumpable at home, another process of the same user cannot open
 * the thread's /proc mem, although the space it is in is dumpable.
 */
TEST_F(vas, v06_switched_thread_mem_needs_home_dumpable)
{
	int *hs = mmap(NULL, VAS_PAGE, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t c, u;
	int status;

	if (geteuid())
		SKIP(return, "needs root to drop to another user");
	ASSERT_NE(MAP_FAILED, hs);
	c = fork();
	ASSERT_LE(0, c);
	if (c == 0) {
		struct vas_thread t;
		int vfd;

		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534) ||
		    prctl(PR_SET_DUMPABLE, 1) || vas_thread_init(&t))
			_exit(2);
		vfd = vas_space_new(&t);
		if (vfd < 0 || vas_attach_self(vfd, hs, VAS_PAGE, RW))
			_exit(3);
		t.ctl->fd[0] = vfd;
		t.ctl->arg[0] = (long)hs;
		if (vas_thread_start(&t, fn_wait_inside) || vas_wait_for(&hs[3], 1, 10000))
			_exit(4);
		hs[10] = t.ctl->tid;
		vas_store(&hs[0], 1);
		vas_wait_for(&hs[1], 1, 10000);
		prctl(PR_SET_DUMPABLE, 0);
		vas_store(&hs[0], 2);
		vas_wait_for(&hs[1], 2, 10000);
		vas_store(&hs[4], 1);
		if (vas_thread_join(&t, 10) || t.ctl->res[0] || t.ctl->res[1])
			_exit(5);
		_exit(0);
	}
	u = fork();
	ASSERT_LE(0, u);
	if (u == 0) {
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(2);
		vas_wait_for(&hs[0], 1, 10000);
		hs[11] = open_task_mem(c, hs[10]);
		vas_store(&hs[1], 1);
		vas_wait_for(&hs[0], 2, 10000);
		hs[12] = open_task_mem(c, hs[10]);
		vas_store(&hs[1], 2);
		_exit(0);
	}
	ASSERT_EQ(u, waitpid(u, &status, 0));
	EXPECT_EQ(0, status);
	ASSERT_EQ(c, waitpid(c, &status, 0));
	EXPECT_EQ(0, status);
	/* Control: all dumpable, same user: allowed. */
	EXPECT_EQ(0, hs[11]);
	EXPECT_EQ(EACCES, hs[12]);
}

/*
 * v06: reaching into another process's address space (SRC_PIDFD,
 * DST_PIDFD) needs ptrace access: an unprivileged process gets EPERM
 * against root, a process of the same user succeeds; ESRCH once the
 * process is gone.
 */
static void v06_unprivileged(struct __test_metadata *_metadata, pid_t root)
{
	int rootfd = pidfd_open(root), m = vas_memfd(VAS_PAGE, 0xbeef), vfd, p[2], q[2];
	unsigned long addrs[2], ts[8], te[8];
	struct vas_attach_args a;
	struct vas_thread t;
	int status, cfd;
	char *d;
	pid_t c;

	ASSERT_LE(0, rootfd);
	ASSERT_LE(0, m);
	ASSERT_EQ(0, vas_thread_init(&t));
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, pipe(q));
	ASSERT_EQ(0, setresgid(65534, 65534, 65534));
	ASSERT_EQ(0, setresuid(65534, 65534, 65534));
	/* Changing credentials cleared it; same-user access needs it. */
	ASSERT_EQ(0, prctl(PR_SET_DUMPABLE, 1));
	vfd = vas_space_new(&t);
	ASSERT_LE(0, vfd);
	d = vas_reserve(VAS_PAGE);
	ASSERT_NE(NULL, d);

	/* Against root: EPERM both ways. Our text is mapped in root too. */
	ASSERT_LT(0, vas_text_ranges(ts, te, 8));
	vas_args(&a, VAS_ATTACH_SRC_PIDFD, vfd, rootfd, ts[0], (uintptr_t)d,
		 VAS_PAGE, PROT_READ);
	EXPECT_ATTACH(EPERM, &a);
	vas_args(&a, VAS_ATTACH_SRC_FD | VAS_ATTACH_DST_PIDFD, rootfd, m, 0,
		 (uintptr_t)d, VAS_PAGE, PROT_READ);
	EXPECT_ATTACH(EPERM, &a);

	/* Same user: a child with a shared memfd mapping. */
	c = fork();
	ASSERT_LE(0, c);
	if (c == 0) {
		int cm = vas_memfd(VAS_PAGE, 0xc0ffee);
		char *cmap = mmap(NULL, VAS_PAGE, PROT_READ, MAP_SHARED, cm, 0);
		char *free_at = vas_reserve(VAS_PAGE);
		long end = vas_now_ms() + 20000;
		char x;

		if (cm < 0 || cmap == MAP_FAILED || !free_at)
			_exit(1);
		munmap(free_at, VAS_PAGE);
		addrs[0] = (uintptr_t)cmap;
		addrs[1] = (uintptr_t)free_at;
		if (write(p[1], addrs, sizeof(addrs)) != sizeof(addrs))
			_exit(2);
		/* The parent maps its memfd at free_at in our space. */
		while (vas_probe(free_at) && vas_now_ms() < end)
			usleep(10000);
		if (vas_probe(free_at))
			_exit(3);
		if (READ_ONCE(*(__u64 *)free_at) != 0xbeef)
			_exit(4);
		if (read(q[0], &x, 1) != 1)
			_exit(5);
		_exit(0);
	}
	ASSERT_EQ(sizeof(addrs), read(p[0], addrs, sizeof(addrs)));
	cfd = pidfd_open(c);
	ASSERT_LE(0, cfd);
	vas_args(&a, VAS_ATTACH_SRC_PIDFD, vfd, cfd, addrs[0], addrs[0], VAS_PAGE, PROT_READ);
	EXPECT_EQ(0, vas_attach(&a, sizeof(a)));
	vas_args(&a, VAS_ATTACH_SRC_FD | VAS_ATTACH_DST_PIDFD, cfd, m, 0, addrs[1],
		 VAS_PAGE, PROT_READ);
	EXPECT_EQ(0, vas_attach(&a, sizeof(a)));
	/* The child's page, read in our space. */
	t.ctl->fd[0] = vfd;
	t.ctl->arg[0] = addrs[0];
	ASSERT_EQ(0, vas_thread_run(&t, fn_read_word, 20));
	EXPECT_EQ(0, t.ctl->res[0]);
	EXPECT_EQ(0xc0ffee, t.ctl->res[1]);
	EXPECT_EQ(0, t.ctl->res[3]);
	ASSERT_EQ(1, write(q[1], "x", 1));
	ASSERT_EQ(c, waitpid(c, &status, 0));
	EXPECT_EQ(0, status);
	/* It is gone now. */
	EXPECT_ATTACH(ESRCH, &a);
	vas_args(&a, VAS_ATTACH_SRC_PIDFD, vfd, cfd, addrs[0], (uintptr_t)d, VAS_PAGE,
		 PROT_READ);
	EXPECT_ATTACH(ESRCH, &a);
	/* Our own pidfd: our own mm, no check needed. */
	cfd = pidfd_open(getpid());
	ASSERT_LE(0, cfd);
	vas_args(&a, VAS_ATTACH_SRC_FD | VAS_ATTACH_DST_PIDFD, cfd, m, 0, (uintptr_t)d,
		 VAS_PAGE, PROT_READ);
	EXPECT_ATTACH(EEXIST, &a);
	ASSERT_EQ(0, munmap(d, VAS_PAGE));
	EXPECT_EQ(0, vas_attach(&a, sizeof(a)));
	EXPECT_EQ(0xbeef, READ_ONCE(*(__u64 *)d));
}

TEST_F(vas, v06_pidfd_needs_ptrace_access)
{
	int status;
	pid_t pid;

	if (geteuid())
		SKIP(return, "needs root to drop to another user");
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		v06_unprivileged(_metadata, getppid());
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status);
}

/* 100,000 round trips in and out. */
#define ROUND_TRIPS	100000

static int fn_round_trips(struct vas_ctl *c)
{
	long i;

	for (i = 0; i < ROUND_TRIPS; i++) {
		if (vas_switch_raw(c->fd[0])) {
			c->res[0]++;
			break;
		}
		if ((i & 1023) == 0 && READ_ONCE(*(__u64 *)c->arg[0]) != 0x3c3c3c3c3c3c3c3c)
			c->res[1]++;
		if (vas_switch_raw(VAS_HOME)) {
			c->res[2]++;
			break;
		}
	}
	c->res[3] = i;
	return 0;
}

/* v08: many round trips leak nothing: no thread count left, the space is still freed on close. */
TEST_F_TIMEOUT(vas, v08_100k_switches_no_leak, 300)
{
	struct vas_thread t;
	long before, during, after, start;
	char *d;
	int vfd;

	ASSERT_EQ(0, vas_thread_init(&t));
	before = vas_meminfo_kb("Shmem");
	vfd = shm_space(&t, &d);
	ASSERT_LE(0, vfd);
	t.ctl->fd[0] = vfd;
	t.ctl->arg[0] = (long)d;
	start = vas_now_ms();
	ASSERT_EQ(0, vas_thread_run(&t, fn_round_trips, 280));
	TH_LOG("%d round trips in %ld ms", ROUND_TRIPS, vas_now_ms() - start);
	EXPECT_EQ(0, t.ctl->res[0]);
	EXPECT_EQ(0, t.ctl->res[1]);
	EXPECT_EQ(0, t.ctl->res[2]);
	EXPECT_EQ(ROUND_TRIPS, t.ctl->res[3]);
	EXPECT_EQ(0, vas_fdinfo(vfd, "vas-threads"));
	during = vas_meminfo_kb("Shmem");
	close(vfd);
	after = vas_shmem_wait_below(before + SHM_SLACK_KB, 5000);
	TH_LOG("Shmem: before %ld kB, with the space %ld kB, after close %ld kB",
	       before, during, after);
	EXPECT_LE(before + (long)(SHM_SIZE / 1024) - SHM_SLACK_KB, during);
	EXPECT_GE(before + SHM_SLACK_KB, after);
}

#define CG_ROOT		"/sys/fs/cgroup"
#define OOM_LIMIT	(32UL << 20)

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

/* The "oom_kill" count of a cgroup's memory.events, -1 if unreadable. */
static long cg_oom_kills(const char *cg)
{
	char path[256], line[128];
	long n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/memory.events", cg);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "oom_kill %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

/* A new memory cgroup below the root: NULL, or why there is none. */
static const char *memcg_new(char *cg, size_t len, const char *name)
{
	char path[256];

	mkdir(CG_ROOT, 0755);
	if (access(CG_ROOT "/cgroup.controllers", F_OK) &&
	    mount("cgroup2", CG_ROOT, "cgroup2", 0, NULL))
		return "no cgroup2 hierarchy";
	cg_write(CG_ROOT, "cgroup.subtree_control", "+memory");
	snprintf(cg, len, CG_ROOT "/%s-%d", name, getpid());
	if (mkdir(cg, 0755))
		return "cannot create a cgroup";
	snprintf(path, sizeof(path), "%s/memory.max", cg);
	if (access(path, F_OK)) {
		rmdir(cg);
		return "no memory controller (CONFIG_MEMCG)";
	}
	return NULL;
}

/* Switch in and stay until told (go == 1), polling every 10 ms for @arg[0] polls. */
static int fn_stay_inside(struct vas_ctl *c)
{
	long i;

	c->res[0] = vas_switch_raw(c->fd[0]);
	if (c->res[0])
		return 1;
	vas_store(&c->state, 1);
	for (i = 0; i < c->arg[0] && vas_load(&c->go) != 1; i++)
		vas_sleep_ms(10);
	c->res[1] = vas_load(&c->go);
	c->res[2] = vas_switch_raw(VAS_HOME);
	return 0;
}

/* Once the leader has gone, allocate until the memory cgroup's OOM killer strikes. */
static void *oom_hog(void *leader)
{
	pthread_join(*(pthread_t *)leader, NULL);
	usleep(200 * 1000);
	for (;;) {
		char *p = mmap(NULL, 1UL << 20, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p != MAP_FAILED)
			memset(p, 1, 1UL << 20);
	}
	return NULL;
}

/*
 * v09: the OOM killer scores, kills and reaps the process's own mm. A
 * process in a tight memory cgroup has a thread in a space that this
 * process is in too; its leader is gone, so the OOM killer finds it by the
 * switched thread first. Taking that thread's mm would mark the space as
 * the victim's and kill every process with a thread in it: this one.
 */
TEST_F_TIMEOUT(vas, v09_oom_killer_kills_process_not_space_users, 120)
{
	static const char marker[] = "vmtest: expecting oom-killer\n";
	struct vas_thread tp, ta;
	char cg[128], val[32], c;
	int vfd, status, ready[2], kmsg;
	const char *why;
	pid_t pid;

	if (geteuid())
		SKIP(return, "needs root for a memory cgroup");
	why = memcg_new(cg, sizeof(cg), "vas-oom");
	if (why)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, vas_thread_init(&tp));
	vfd = vas_space_new(&tp);
	ASSERT_LE(0, vfd);
	tp.ctl->fd[0] = vfd;
	tp.ctl->arg[0] = 10000;
	ASSERT_EQ(0, vas_thread_start(&tp, fn_stay_inside));
	ASSERT_EQ(0, vas_wait_for(&tp.ctl->state, 1, 20000));
	ASSERT_EQ(0, tp.ctl->res[0]);
	snprintf(val, sizeof(val), "%lu", OOM_LIMIT);
	ASSERT_EQ(0, cg_write(cg, "memory.max", val));
	/* The console judge lets the OOM report's stack dump through after this. */
	kmsg = open("/dev/kmsg", O_WRONLY);
	ASSERT_LE(0, kmsg);
	ASSERT_EQ(sizeof(marker) - 1, write(kmsg, marker, sizeof(marker) - 1));
	close(kmsg);
	ASSERT_EQ(0, pipe(ready));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		pthread_t leader = pthread_self(), hog;

		close(ready[0]);
		snprintf(val, sizeof(val), "%d", getpid());
		if (cg_write(cg, "cgroup.procs", val))
			_exit(10);
		if (vas_thread_init(&ta) || vas_attach_self(vfd, ta.region, ta.len, RW))
			_exit(11);
		ta.ctl->fd[0] = vfd;
		ta.ctl->arg[0] = 100000;
		if (vas_thread_start(&ta, fn_stay_inside) ||
		    vas_wait_for(&ta.ctl->state, 1, 20000) || ta.ctl->res[0])
			_exit(12);
		if (pthread_create(&hog, NULL, oom_hog, &leader))
			_exit(13);
		if (write(ready[1], "r", 1) != 1)
			_exit(14);
		pthread_exit(NULL);
	}
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &c, 1));
	close(ready[0]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	TH_LOG("child status %#x", status);
	ASSERT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(SIGKILL, WTERMSIG(status));
	/*
	 * The cgroup's own OOM killer did it: the process's memory stayed
	 * charged to its cgroup after the leader left (mm->owner was found
	 * past the thread in the space).
	 */
	EXPECT_EQ(1, cg_oom_kills(cg));

	/* Still here, still inside: only the other process's thread left the space. */
	EXPECT_EQ(1, vas_fdinfo(vfd, "vas-threads"));
	vas_store(&tp.ctl->go, 1);
	ASSERT_EQ(0, vas_thread_join(&tp, 20));
	EXPECT_EQ(1, tp.ctl->res[1]);
	EXPECT_EQ(0, tp.ctl->res[2]);
	EXPECT_EQ(0, vas_fdinfo(vfd, "vas-threads"));
	close(vfd);
	/* The cgroup empties once the killed process is reaped. */
	for (c = 0; c < 50 && rmdir(cg); c++)
		usleep(100 * 1000);
	EXPECT_GT(50, c);
}

#define KMEMLEAK "/sys/kernel/debug/kmemleak"

/* Is a kmemleak report (object and backtrace) about a vas allocation? */
static bool leak_is_ours(const char *entry)
{
	return strstr(entry, "mmspace") || strstr(entry, "vas_");
}

/*
 * v08: after everything above, kmemleak (when the kernel has it) finds
 * no leaked object that was allocated on a vas path. Runs last.
 */
TEST_F_TIMEOUT(vas, v08_zz_no_kmemleak_reports, 120)
{
	char line[512], entry[4096] = "";
	int leaks = 0, ours = 0;
	size_t used = 0;
	FILE *f;

	mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	f = fopen(KMEMLEAK, "w");
	if (!f)
		SKIP(return, "no " KMEMLEAK " (CONFIG_DEBUG_KMEMLEAK=n or not root)");
	/* Objects are reported once they are 5 s old and seen unreferenced. */
	fputs("scan", f);
	fclose(f);
	sleep(6);
	f = fopen(KMEMLEAK, "w");
	ASSERT_NE(NULL, f);
	fputs("scan", f);
	fclose(f);
	f = fopen(KMEMLEAK, "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "unreferenced object", 19)) {
			if (leaks++ && leak_is_ours(entry) && ++ours)
				TH_LOG("%s", entry);
			used = 0;
			entry[0] = 0;
		}
		if (used < sizeof(entry) - 1)
			used += snprintf(entry + used, sizeof(entry) - used, "%s", line);
	}
	fclose(f);
	if (leaks && leak_is_ours(entry) && ++ours)
		TH_LOG("%s", entry);
	TH_LOG("kmemleak: %d suspected leaks, %d on vas paths", leaks, ours);
	EXPECT_EQ(0, ours);
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], EXEC_CHILD_ARG))
		return exec_child(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], EXEC_COST_ARG))
		return exec_cost_child(argv[2], argv[3]);
	return test_harness_run(argc, argv);
}
