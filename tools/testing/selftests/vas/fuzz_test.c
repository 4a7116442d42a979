// SPDX-License-Identifier: GPL-2.0
/*
 * Seeded ABI fuzzer for vas_create(), vas_attach() and vas_switch().
 *
 * Calls are built from a pseudo-random stream: mostly valid requests,
 * with mutations of every field the ABI has (unknown flags and reserved
 * bits, bad, kernel, unmapped and misaligned argument pointers, struct
 * sizes and non-zero tails, bad, closed and wrong-kind descriptors,
 * pidfds of this process, of a child, of a dead child, misaligned,
 * wrapping, huge and out-of-range addresses and lengths, protections,
 * sources that may or may not be attached). After each call the result
 * must be success or an errno that Documentation/userspace-api/vas-man.rst
 * lists for that call, and where the outcome is certain (an argument
 * check, a switch of a thread that cannot run in the target) it must be
 * exactly that outcome. A failure prints the seed, the iteration and the
 * call.
 *
 * Environment:
 *   VAS_FUZZ_SEED     seed (default 0x5eed; "random" takes the time)
 *   VAS_FUZZ_ITERS    calls of each test (default below)
 *   VAS_FUZZ_VERBOSE  1: print every call
 *
 * The "single" test is single-threaded and replays exactly from the seed.
 * In "threads" the calls of each thread are the same for a seed, their
 * interleaving is not: a second thread keeps unmapping, remapping and
 * truncating memory that is being attached, and a third, whose stack and
 * the program's text are attached to some of the spaces, switches
 * between spaces, half-built spaces and home, and checks after every
 * switch, through a page mapped at one address with different contents
 * in each space, where it is.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/auxv.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "vas_util.h"

#ifndef __NR_pidfd_open
#define __NR_pidfd_open		434
#endif
#ifndef P_PIDFD
#define P_PIDFD			3
#endif
#ifndef PIDFD_THREAD
#define PIDFD_THREAD		O_EXCL
#endif
#ifndef __NR_close_range
#define __NR_close_range	436
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE	0x0010
#endif

/*
 * Calls of each test when VAS_FUZZ_ITERS is not set: about 30 s in all
 * under TCG on x86_64 (20000-35000 calls/s single-threaded, about 15000/s
 * with the switcher and the flapper running). ppc64 under TCG makes
 * 2300-2600 calls/s: 250000 took over three minutes there, so powerpc
 * runs 100000 (about 80 s). A debug kernel run sets VAS_FUZZ_ITERS.
 */
#ifdef __powerpc__
#define FUZZ_DEFAULT_ITERS	100000
#else
#define FUZZ_DEFAULT_ITERS	250000
#endif
#define FUZZ_DEFAULT_SEED	0x5eedULL
#define FUZZ_TIMEOUT		3600
#define WATCHDOG_SECS		60

#define PG			VAS_PAGE
#define RW			(PROT_READ | PROT_WRITE)
#define RX			(PROT_READ | PROT_EXEC)
#define NR_SLOTS		6
#define ARENA_PAGES		1024
#define HOLE_PAGES		16
#define FILE_PAGES		16
#define FLAP_PAGES		8
#define ARGS_AREA		(2 * PG)
#define MARK_PAGES		16
/* Marker ids: 0 home, 1-3 the switcher's spaces, POOL_ID + slot the pool's. */
#define NR_RUN			3
#define POOL_ID			8
#define SW_OPS			48
#define COMPAT			(sizeof(long) == 4)

/* Argument pointers that are never readable user memory. */
static const uintptr_t bad_ptrs[] = {
	0, 1, 8, 0x1000, 0x10000,
#if UINTPTR_MAX > 0xffffffffUL
	0xffff888000000000UL, 0xffffffff81000000UL, 0xffffffffff600000UL,
	0xfffffffffffff000UL, 0xfffffffffffffff8UL, 0x0000800000000000UL,
	0x00007ffffffff000UL, 0x8000000000000000UL, 0xdead000000000000UL,
#else
	0xc0000000UL, 0xf0000000UL, 0xffffe000UL, 0xfffff000UL, 0xfffffff8UL,
#endif
};

/* Addresses for src and dst that are not where the test's memory is. */
static const uint64_t odd_addrs[] = {
	0, VAS_PAGE_MAX, 0x10000, 0xc0000000ULL, 0xffffe000ULL, 0xfffff000ULL,
	0x100000000ULL, 0x00007ffffffff000ULL, 0x0000800000000000ULL,
	0x00ff000000000000ULL, 0x0100000000000000ULL, 0xffff800000000000ULL,
	0xffffffff81000000ULL, 0xfffffffffffff000ULL, 0x8000000000000000ULL,
};

/*
 * Lengths that cannot fit. A 64-bit caller gets none of a few GiB: from
 * the arena they could cover the stack of a thread in a space that has
 * the text, and a switch there would succeed, rightly.
 */
static const uint64_t odd_lens[] = {
	0, 1, VAS_PAGE_MAX - 1, VAS_PAGE_MAX + 1, 0x0000800000000000ULL, 0x8000000000000000ULL,
	0xfffffffffffff000ULL, ~0ULL,
#if UINTPTR_MAX == 0xffffffffUL
	0x7ffff000ULL, 0x100000000ULL, 0xfffff000ULL,
#endif
};

static const uint64_t odd_sizes[] = {
	0, 1, 8, 40, 47, 49, 56, 64, 128, VAS_PAGE_MAX, 2 * VAS_PAGE_MAX,
	2 * VAS_PAGE_MAX + 8,
	1ULL << 30, ~0ULL,
};

/*
 * The errnos vas-man.rst documents for each call, but for "not
 * configured": the tests skip then.
 */
static const int create_errnos[] = { EINVAL, EMFILE, ENFILE, ENOMEM };

static const int attach_errnos[] = {
	EINVAL, E2BIG, EFAULT, EBADF, EACCES, EPERM, ESRCH, ENODEV, EEXIST,
	ENOMEM, EOVERFLOW,
};

static const int switch_errnos[] = { EINVAL, EBADF, EFAULT, EBUSY, EOPNOTSUPP };

static const unsigned int prots[] = {
	PROT_READ, RW, RW, RX, PROT_NONE, RW | PROT_EXEC,
};

/* Memory of this process that sources point into. */
enum { M_SHARED, M_MEMFD, M_FILE, M_FILE_PRIV, M_FILE_WRITTEN, M_ANON,
	M_TEXT, M_STACK, M_VDSO, M_HOLE, M_FLAP, M_REGION, M_NR };
static const char * const m_names[M_NR] = {
	"shared-anon", "memfd-map", "file-shared", "file-private",
	"file-written", "private-anon", "text", "main-stack", "vdso", "hole",
	"flap", "switcher-region",
};

struct area {
	uintptr_t addr;
	unsigned long pages;
};

/* One switch of the switcher thread, planned by the main thread. */
struct sw_op {
	int fd;
	unsigned int flags;
	int want_ret;		/* 1: not known in advance */
	int want_at;		/* marker after a success; -1: a pool id */
	int before;		/* marker before and after the call */
	int after;
	long ret;
};

/* Lives in the switcher's vas_ctl buffer: read and written while switched. */
struct sw_plan {
	int seq;		/* batch posted by the main thread */
	int done;		/* batch finished by the switcher */
	int stop;
	int cur;
	int nr;
	int home_at;
	long home_ret;
	const int *mark;
	struct sw_op op[SW_OPS];
};

static_assert(sizeof(struct sw_plan) <= VAS_BUF_SIZE, "sw_plan too large");

struct fz {
	const char *name;
	uint64_t seed;
	uint64_t rng;
	uint64_t sw_rng;
	unsigned long iters;
	unsigned long iter;
	unsigned long calls;
	unsigned long ok[3];
	unsigned long refused[3];
	unsigned long errs[3][4096 / 8];
	bool verbose;
	bool threads;

	/* Resources. */
	int slot[NR_SLOTS];
	bool slot_text[NR_SLOTS];
	int memfd, seal_fd, fseal_fd, file_rw, file_ro, file_wo, dir_fd;
	int pipe_fd[2], efd, flap_fd, mark_fd;
	int self_pidfd, child_pidfd, dead_pidfd, thread_pidfd, kthread_pidfd;
	pid_t child;
	char *arena, *hole, *child_hole, *args, *mark;
	struct area m[M_NR];
	unsigned long text_start[8], text_end[8];
	int nr_text;

	/* The switcher, its spaces (runnable, then half-built ones). */
	struct vas_thread sw;
	struct sw_plan *plan;
	int run_fd[NR_RUN];
	int half_fd[5];
	int sw_seq;
	unsigned long sw_batches;
	unsigned long sw_switches;
	unsigned long sw_entered;

	/* The call being made, for the report. */
	char what[32];
	char muts[256];
	struct vas_attach_args call;
	uint64_t uargs;
	uint64_t size;
	int sw_fd;
	unsigned int sw_flags;
	bool must_fail;		/* a mutation no valid call has */
	int want;		/* the exact errno (0: success), or -1 */
};

static int fuzz_failed;
static bool keep_going;
static struct fz *watched;

/* splitmix64 */
static uint64_t rnd64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rnd(struct fz *f)
{
	return rnd64(&f->rng);
}

static unsigned int rn(struct fz *f, unsigned int n)
{
	return rnd(f) % n;
}

static bool one_in(struct fz *f, unsigned int n)
{
	return rn(f, n) == 0;
}

static void mut(struct fz *f, const char *m)
{
	size_t len = strlen(f->muts);

	snprintf(f->muts + len, sizeof(f->muts) - len, "%s%s",
		 len ? "," : "", m);
}

static unsigned long env_ulong(const char *name, unsigned long def)
{
	const char *s = getenv(name);

	if (!s || !*s)
		return def;
	if (!strcmp(s, "random"))
		return (unsigned long)time(NULL) ^ ((unsigned long)getpid() << 16);
	return strtoull(s, NULL, 0);
}

static void dump_call(struct fz *f)
{
	const struct vas_attach_args *a = &f->call;

	fprintf(stderr, "#   muts: %s\n", f->muts[0] ? f->muts : "none");
	if (!strcmp(f->what, "vas_attach")) {
		fprintf(stderr, "#   args=%#llx size=%llu\n",
			(unsigned long long)f->uargs,
			(unsigned long long)f->size);
		fprintf(stderr,
			"#   flags=%#llx dst_fd=%d src_fd=%d src=%#llx dst=%#llx len=%#llx prot=%#x reserved=%#x\n",
			(unsigned long long)a->flags, a->dst_fd, a->src_fd,
			(unsigned long long)a->src, (unsigned long long)a->dst,
			(unsigned long long)a->len, a->prot, a->__reserved);
	} else {
		fprintf(stderr, "#   fd=%d flags=%#x\n", f->sw_fd, f->sw_flags);
	}
}

/* Failures by call, reason and errno: each kind is printed in full once. */
static struct {
	const char *why;
	char what[32];
	int err;
	unsigned long count;
} kinds[32];
static pthread_mutex_t kinds_lock = PTHREAD_MUTEX_INITIALIZER;

static void fail(struct fz *f, const char *why, long ret, int err)
{
	bool first = false;
	unsigned int i;

	pthread_mutex_lock(&kinds_lock);
	for (i = 0; i < ARRAY_SIZE(kinds) && kinds[i].why; i++)
		if (kinds[i].why == why && kinds[i].err == err &&
		    !strcmp(kinds[i].what, f->what))
			break;
	if (i < ARRAY_SIZE(kinds)) {
		if (!kinds[i].why) {
			kinds[i].why = why;
			kinds[i].err = err;
			snprintf(kinds[i].what, sizeof(kinds[i].what), "%s", f->what);
			first = true;
		}
		kinds[i].count++;
	}
	pthread_mutex_unlock(&kinds_lock);
	__sync_fetch_and_add(&fuzz_failed, 1);
	if (!first)
		return;
	fprintf(stderr,
		"# FUZZ FAILURE [%s] seed=%#llx iteration=%lu: %s: %s returned %ld, errno %d (%s)\n",
		f->name, (unsigned long long)f->seed, f->iter, why, f->what, ret,
		err, strerror(err));
	dump_call(f);
	fprintf(stderr, "#   replay: VAS_FUZZ_SEED=%#llx VAS_FUZZ_ITERS=%lu\n",
		(unsigned long long)f->seed, f->iter);
}

static void fail_summary(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(kinds) && kinds[i].why; i++)
		fprintf(stderr, "# failure kind %u: %s: %s, errno %d: %lu times\n",
			i, kinds[i].what, kinds[i].why, kinds[i].err,
			kinds[i].count);
}

static bool errno_ok(const int *tab, size_t n, int err)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (tab[i] == err)
			return true;
	return false;
}

/* Check a result against the documented errnos and the exact expectation. */
static void check(struct fz *f, long ret, int err, const int *tab, size_t n,
		  int call)
{
	f->calls++;
	if (ret == 0) {
		f->ok[call]++;
		if (f->must_fail)
			fail(f, "succeeded with an invalid argument", ret, 0);
		else if (f->want > 0)
			fail(f, "succeeded, expected an error", ret, f->want);
		return;
	}
	f->refused[call]++;
	if (err > 0 && err < (int)ARRAY_SIZE(f->errs[0]))
		f->errs[call][err]++;
	if (ret != -1)
		fail(f, "unknown return value", ret, err);
	else if (!errno_ok(tab, n, err))
		fail(f, "undocumented errno", ret, err);
	else if (f->want >= 0 && err != f->want)
		fail(f, "not the errno the arguments call for", ret, err);
}

static int count_fds(void)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir("/proc/self/fd");

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int pidfd_open(pid_t pid, unsigned int flags)
{
	return syscall(__NR_pidfd_open, pid, flags);
}

/* A descriptor number that is not open; below RLIMIT_NOFILE, never reached. */
static int closed_fd(struct fz *f)
{
	int fd = 1000 + rn(f, 20);

	while (fcntl(fd, F_GETFD) != -1)
		fd++;
	return fd;
}

/* --- setup ------------------------------------------------------------ */

static char *map_anon(size_t len, int prot, int flags)
{
	char *p = mmap(NULL, len, prot, flags | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static int file_new(size_t len)
{
	char path[] = "/tmp/vas-fuzz-XXXXXX";
	char page[PG];
	size_t i;
	int fd = mkstemp(path);

	if (fd < 0)
		return -1;
	unlink(path);
	memset(page, 0x3c, sizeof(page));
	for (i = 0; i < len; i += PG)
		if (write(fd, page, PG) != PG)
			return -1;
	return fd;
}

static int reopen(int fd, int flags)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return open(path, flags);
}

static int sealed_memfd(unsigned int seal)
{
	int fd = memfd_create("vas-fuzz-sealed", MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, FILE_PAGES * PG) ||
	    fcntl(fd, F_ADD_SEALS, seal))
		return -1;
	return fd;
}

/* A child that sits in read() until it is killed; its hole is left free. */
static int child_start(struct fz *f)
{
	int p[2];
	char c;

	if (pipe(p))
		return -1;
	f->child = fork();
	if (f->child < 0)
		return -1;
	if (!f->child) {
		/* No references to our spaces: keep only the pipe. */
		syscall(__NR_close_range, 3, p[0] - 1, 0);
		syscall(__NR_close_range, p[0] + 1, ~0U, 0);
		munmap(f->child_hole, HOLE_PAGES * PG);
		while (read(p[0], &c, 1) != 0)
			;
		_exit(0);
	}
	close(p[0]);
	f->child_pidfd = pidfd_open(f->child, 0);
	/* The write end stays open until the child is replaced. */
	return f->child_pidfd < 0 ? -1 : p[1];
}

static int child_pipe = -1;

static void child_stop(struct fz *f);

static int res_init(struct fz *f)
{
	unsigned char vec;
	char *p;
	int i;

	for (i = 0; i < NR_SLOTS; i++)
		f->slot[i] = -1;
	f->dead_pidfd = -1;
	f->kthread_pidfd = -1;
	f->thread_pidfd = -1;
	for (i = 0; i < NR_RUN; i++)
		f->run_fd[i] = -1;
	for (i = 0; i < (int)ARRAY_SIZE(f->half_fd); i++)
		f->half_fd[i] = -1;

	/* Arena, holes and the argument area, each between guard pages. */
	p = vas_reserve((ARENA_PAGES + 2) * PG);
	f->arena = p ? p + PG : NULL;
	f->hole = vas_reserve(HOLE_PAGES * PG);
	f->child_hole = vas_reserve(HOLE_PAGES * PG);
	p = vas_reserve(ARGS_AREA + 2 * PG);
	if (!f->arena || !f->hole || !f->child_hole || !p ||
	    mprotect(p + PG, ARGS_AREA, RW))
		return -1;
	f->args = p + PG;

	f->memfd = vas_memfd(FILE_PAGES * PG, 0x1111);
	f->seal_fd = sealed_memfd(F_SEAL_WRITE);
	f->fseal_fd = sealed_memfd(F_SEAL_FUTURE_WRITE);
	f->file_rw = file_new(FILE_PAGES * PG);
	if (f->memfd < 0 || f->seal_fd < 0 || f->fseal_fd < 0 || f->file_rw < 0)
		return -1;
	f->file_ro = reopen(f->file_rw, O_RDONLY);
	f->file_wo = reopen(f->file_rw, O_WRONLY);
	f->dir_fd = open("/", O_RDONLY | O_DIRECTORY);
	f->efd = eventfd(0, 0);
	f->flap_fd = vas_memfd(FLAP_PAGES * PG, 0xf1a9);
	f->mark_fd = vas_memfd(MARK_PAGES * PG, 0);
	if (f->file_ro < 0 || f->file_wo < 0 || f->dir_fd < 0 || f->efd < 0 ||
	    f->flap_fd < 0 || f->mark_fd < 0 || pipe(f->pipe_fd))
		return -1;

	/* Marker page i holds i; home maps page 0 (see the switcher). */
	p = mmap(NULL, MARK_PAGES * PG, RW, MAP_SHARED, f->mark_fd, 0);
	if (p == MAP_FAILED)
		return -1;
	for (i = 0; i < MARK_PAGES; i++)
		*(int *)(p + i * PG) = i;
	munmap(p, MARK_PAGES * PG);
	f->mark = mmap(NULL, PG, PROT_READ, MAP_SHARED, f->mark_fd, 0);
	if (f->mark == MAP_FAILED)
		return -1;

	/* Source memory, see m_names. */
	f->m[M_SHARED] = (struct area){ (uintptr_t)map_anon(16 * PG, RW, MAP_SHARED), 16 };
	p = mmap(NULL, FILE_PAGES * PG, RW, MAP_SHARED, f->memfd, 0);
	f->m[M_MEMFD] = (struct area){ p == MAP_FAILED ? 0 : (uintptr_t)p, FILE_PAGES };
	p = mmap(NULL, 8 * PG, RW, MAP_SHARED, f->file_rw, 0);
	f->m[M_FILE] = (struct area){ p == MAP_FAILED ? 0 : (uintptr_t)p, 8 };
	p = mmap(NULL, 8 * PG, PROT_READ, MAP_PRIVATE, f->file_ro, 0);
	f->m[M_FILE_PRIV] = (struct area){ p == MAP_FAILED ? 0 : (uintptr_t)p, 8 };
	p = mmap(NULL, 4 * PG, RW, MAP_PRIVATE, f->file_rw, 4 * PG);
	if (p != MAP_FAILED)
		memset(p, 1, 4 * PG);
	f->m[M_FILE_WRITTEN] = (struct area){ p == MAP_FAILED ? 0 : (uintptr_t)p, 4 };
	p = map_anon(8 * PG, RW, MAP_PRIVATE);
	if (p)
		memset(p, 2, 8 * PG);
	f->m[M_ANON] = (struct area){ (uintptr_t)p, 8 };
	f->nr_text = vas_text_ranges(f->text_start, f->text_end, 8);
	if (f->nr_text <= 0)
		return -1;
	f->m[M_TEXT] = (struct area){ f->text_start[0],
		(f->text_end[0] - f->text_start[0]) / PG };
	f->m[M_STACK] = (struct area){ ((uintptr_t)&vec) & ~(PG - 1), 1 };
	f->m[M_VDSO] = (struct area){ getauxval(AT_SYSINFO_EHDR), 1 };
	/* Between two reserved pages, so that no later mapping fills it. */
	p = vas_reserve(6 * PG);
	if (!p || munmap(p + PG, 4 * PG))
		return -1;
	f->m[M_HOLE] = (struct area){ (uintptr_t)p + PG, 4 };
	p = mmap(NULL, FLAP_PAGES * PG, RW, MAP_SHARED, f->flap_fd, 0);
	f->m[M_FLAP] = (struct area){ p == MAP_FAILED ? 0 : (uintptr_t)p, FLAP_PAGES };
	for (i = 0; i < M_NR; i++)
		if (!f->m[i].addr && i != M_VDSO && i != M_REGION)
			return -1;
	if (!f->m[M_VDSO].addr)
		f->m[M_VDSO] = f->m[M_HOLE];

	f->self_pidfd = pidfd_open(getpid(), 0);
	if (f->self_pidfd < 0)
		return -1;
	/* kthreadd: a process without an mm. */
	f->kthread_pidfd = pidfd_open(2, 0);
	return 0;
}

/* After the switcher's region exists: the child is a copy of all of it. */
static int res_child(struct fz *f)
{
	child_pipe = child_start(f);
	return child_pipe < 0 ? -1 : 0;
}

/*
 * Kill the child; while it is a zombie (no mm), use its pidfd once as a
 * source and once as a target; reap it; keep the pidfd of the dead child.
 */
static void child_stop(struct fz *f)
{
	struct vas_attach_args a;
	int i, vfd = vas_create(0);
	siginfo_t si;
	long ret;

	if (f->child <= 0) {
		close(vfd);
		return;
	}
	kill(f->child, SIGKILL);
	memset(&si, 0, sizeof(si));
	waitid(P_PIDFD, f->child_pidfd, &si, WEXITED | WNOWAIT);
	for (i = 0; vfd >= 0 && i < 2; i++) {
		snprintf(f->what, sizeof(f->what), "vas_attach");
		f->muts[0] = 0;
		mut(f, i ? "dst.zombie" : "src.zombie");
		if (i)
			vas_args(&a, VAS_ATTACH_SRC_FD | VAS_ATTACH_DST_PIDFD,
				 f->child_pidfd, f->memfd, 0,
				 (uintptr_t)f->child_hole, PG, PROT_READ);
		else
			vas_args(&a, VAS_ATTACH_SRC_PIDFD, vfd, f->child_pidfd, f->m[M_SHARED].addr,
				 (uintptr_t)f->arena, PG, PROT_READ);
		f->call = a;
		f->uargs = (uintptr_t)&a;
		f->size = sizeof(a);
		f->must_fail = true;
		f->want = ESRCH;
		if (f->verbose)
			fprintf(stderr, "# [%s] %lu attach %s\n", f->name,
				f->iter, f->muts);
		ret = vas_attach(&a, sizeof(a));
		check(f, ret, errno, attach_errnos, ARRAY_SIZE(attach_errnos), 1);
	}
	close(vfd);
	waitpid(f->child, NULL, 0);
	close(child_pipe);
	child_pipe = -1;
	if (f->dead_pidfd >= 0)
		close(f->dead_pidfd);
	f->dead_pidfd = f->child_pidfd;
	f->child_pidfd = -1;
	f->child = 0;
}

static void res_fini(struct fz *f)
{
	int i;

	child_stop(f);
	for (i = 0; i < NR_SLOTS; i++)
		if (f->slot[i] >= 0)
			close(f->slot[i]);
	for (i = 0; i < NR_RUN; i++)
		if (f->run_fd[i] >= 0)
			close(f->run_fd[i]);
	for (i = 0; i < (int)ARRAY_SIZE(f->half_fd); i++)
		if (f->half_fd[i] >= 0)
			close(f->half_fd[i]);
	close(f->memfd);
	close(f->seal_fd);
	close(f->fseal_fd);
	close(f->file_rw);
	close(f->file_ro);
	close(f->file_wo);
	close(f->dir_fd);
	close(f->efd);
	close(f->flap_fd);
	close(f->mark_fd);
	close(f->pipe_fd[0]);
	close(f->pipe_fd[1]);
	close(f->self_pidfd);
	if (f->dead_pidfd >= 0)
		close(f->dead_pidfd);
	if (f->thread_pidfd >= 0)
		close(f->thread_pidfd);
	if (f->kthread_pidfd >= 0)
		close(f->kthread_pidfd);
}

/* --- spaces ------------------------------------------------------------ */

static int attach_fd(int vfd, int fd, uint64_t off, uintptr_t dst, size_t len, int prot)
{
	struct vas_attach_args a;

	vas_args(&a, VAS_ATTACH_SRC_FD, vfd, fd, off, dst, len, prot);
	return vas_attach_ret(&a);
}

/* The program's text, at the same addresses, with @prot. */
static int attach_text(struct fz *f, int vfd, int prot)
{
	int i, ret;

	for (i = 0; i < f->nr_text; i++) {
		ret = vas_attach_self(vfd, (void *)f->text_start[i],
				      f->text_end[i] - f->text_start[i], prot);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * What the switcher needs to run in @vfd, and marker page @id. The
 * switcher may try a pool space's number at any time, so the space
 * becomes runnable only with the last attach, when the marker is there.
 */
static int make_runnable(struct fz *f, int vfd, int id)
{
	return attach_fd(vfd, f->mark_fd, id * PG, (uintptr_t)f->mark, PG,
			 PROT_READ) ?:
	       attach_text(f, vfd, RX) ?:
	       vas_attach_self(vfd, f->sw.region, f->sw.len, RW);
}

/* A new space for a slot: sometimes with text, runnable when threaded. */
static void slot_fill(struct fz *f, int s, int vfd)
{
	if (f->slot[s] >= 0)
		close(f->slot[s]);
	f->slot[s] = vfd;
	f->slot_text[s] = false;
	if (vfd < 0 || !one_in(f, 2))
		return;
	snprintf(f->what, sizeof(f->what), "setup attach");
	f->muts[0] = 0;
	if (f->threads ? make_runnable(f, vfd, POOL_ID + s) : attach_text(f, vfd, RX))
		fail(f, "valid attach of text failed", -1, errno);
	f->slot_text[s] = true;
}

/* --- vas_attach -------------------------------------------------------- */

static uint64_t pick_len(struct fz *f, unsigned long max_pages)
{
	if (one_in(f, 8))
		return (1 + rn(f, 64)) * PG;
	return (1 + rn(f, max_pages < 8 ? max_pages : 8)) * PG;
}

/* A source range of this process's memory: [src, src + len). */
static bool pick_self(struct fz *f, __u64 *src, uint64_t len)
{
	const struct area *m;
	unsigned long pages = len / PG, first;
	int k;

	do {
		k = rn(f, M_NR);
	} while (!f->m[k].addr);
	m = &f->m[k];
	first = pages < m->pages ? rn(f, m->pages - pages + 1) : 0;
	*src = m->addr + first * PG;
	mut(f, m_names[k]);
	/* Private anonymous or written, not a file, not mapped. */
	return k == M_ANON || k == M_FILE_WRITTEN || k == M_STACK ||
	       k == M_VDSO || k == M_HOLE;
}

static int pick_pidfd(struct fz *f, bool dst)
{
	unsigned int k = rn(f, 20);

	if (k < 8) {
		mut(f, dst ? "dst.pidfd.self" : "src.pidfd.self");
		return f->self_pidfd;
	}
	if (k < 14 && f->child_pidfd >= 0) {
		mut(f, dst ? "dst.pidfd.child" : "src.pidfd.child");
		return f->child_pidfd;
	}
	f->must_fail = true;
	if (k < 16 && f->dead_pidfd >= 0) {
		mut(f, "pidfd.dead");
		return f->dead_pidfd;
	}
	if (k == 16 && f->thread_pidfd >= 0) {
		mut(f, "pidfd.thread");
		return f->thread_pidfd;
	}
	if (k == 17 && f->kthread_pidfd >= 0) {
		mut(f, "pidfd.kthreadd");
		return f->kthread_pidfd;
	}
	if (k < 19) {
		int fds[] = { f->memfd, f->pipe_fd[0], f->efd, f->slot[0] };

		mut(f, "pidfd.not-a-pidfd");
		return fds[rn(f, ARRAY_SIZE(fds))];
	}
	mut(f, "pidfd.closed");
	return one_in(f, 2) ? closed_fd(f) : -2 - (int)rn(f, 100);
}

static uint64_t hi_garbage(struct fz *f)
{
	return (uint64_t)(1 + rn(f, 0xfffffffe)) << 32;
}

static void do_attach(struct fz *f)
{
	struct vas_attach_args a;
	bool args_ok = true, home_dst = false, compat_hi = false;
	bool src_bad = false, dst_bad = false, src_fd_bad, dst_fd_bad;
	uint64_t len, size = sizeof(a), src_flag, dst_flag;
	unsigned long pages;
	unsigned int k;
	char *at;
	int s, err;
	long ret;

	snprintf(f->what, sizeof(f->what), "vas_attach");
	memset(&a, 0, sizeof(a));
	len = pick_len(f, ARENA_PAGES);
	pages = len / PG;

	/* Source. */
	k = rn(f, 10);
	if (k < 4) {
		/* Mappable files, then files without mmap. */
		int files[] = { f->memfd, f->memfd, f->memfd, f->seal_fd,
				f->fseal_fd, f->file_rw, f->file_ro, f->file_wo,
				f->flap_fd, f->dir_fd, f->pipe_fd[0], f->efd,
				f->self_pidfd, f->slot[0] };
		unsigned int i = rn(f, ARRAY_SIZE(files) + 1);

		a.flags = VAS_ATTACH_SRC_FD;
		if (i == ARRAY_SIZE(files)) {
			a.src_fd = one_in(f, 2) ? closed_fd(f) : -1 - (int)rn(f, 5);
			f->must_fail = true;
			mut(f, "src_fd.bad");
		} else {
			a.src_fd = files[i];
			if (i >= 9)
				f->must_fail = true;	/* no mmap */
		}
		a.src = rn(f, FILE_PAGES) * PG;
		switch (rn(f, 30)) {
		case 0:
			a.src = (uint64_t)rn(f, 1 << 20) * PG;
			mut(f, "src.beyond-eof");
			break;
		case 1:
			a.src = 1ULL << (40 + rn(f, 24));
			mut(f, "src.offset.huge");
			break;
		case 2:
			a.src += 1 + rn(f, PG - 1);
			src_bad = true;
			mut(f, "src.misaligned");
			break;
		default:
			break;
		}
		if (one_in(f, 4))
			a.flags |= VAS_ATTACH_PRIVATE;
	} else if (k < 8) {
		a.flags = VAS_ATTACH_SRC_SELF;
		a.src_fd = -1;
		src_bad = pick_self(f, &a.src, len);
	} else {
		a.flags = VAS_ATTACH_SRC_PIDFD;
		a.src_fd = pick_pidfd(f, false);
		src_bad = pick_self(f, &a.src, len);
	}
	/* A descriptor that cannot serve as this source, unless the flags change. */
	src_fd_bad = f->must_fail;
	f->must_fail = false;
	src_flag = a.flags;

	/* Target. */
	k = rn(f, 20);
	s = rn(f, NR_SLOTS);
	a.dst = (uintptr_t)f->arena +
		(pages < ARENA_PAGES ? rn(f, ARENA_PAGES - pages + 1) : 0) * PG;
	if (k < 12) {
		a.dst_fd = f->slot[s];
		if (a.dst_fd < 0)
			f->must_fail = true;
		/* Over the text: only where it is, and then EEXIST. */
		if (f->slot_text[s] && one_in(f, 10)) {
			a.dst = f->text_start[0];
			mut(f, "dst.text");
			dst_bad = true;
		}
	} else if (k < 14 && f->threads) {
		a.dst_fd = one_in(f, 2) ? f->run_fd[rn(f, NR_RUN)] :
					  f->half_fd[rn(f, ARRAY_SIZE(f->half_fd))];
		mut(f, "dst.switcher-space");
	} else if (k < 15) {
		int fds[] = { f->memfd, f->pipe_fd[1], f->self_pidfd, f->efd };

		a.dst_fd = fds[rn(f, ARRAY_SIZE(fds))];
		f->must_fail = true;
		mut(f, "dst_fd.not-a-vas");
	} else if (k < 16) {
		a.dst_fd = one_in(f, 2) ? closed_fd(f) : -1 - (int)rn(f, 5);
		f->must_fail = true;
		mut(f, "dst_fd.bad");
	} else {
		a.flags |= VAS_ATTACH_DST_PIDFD;
		a.dst_fd = pick_pidfd(f, true);
		if (a.dst_fd == f->self_pidfd) {
			home_dst = true;
			if (!one_in(f, 3)) {
				if (len > HOLE_PAGES * PG)
					len = (1 + rn(f, HOLE_PAGES)) * PG;
				a.dst = (uintptr_t)f->hole +
					rn(f, HOLE_PAGES - len / PG + 1) * PG;
				mut(f, "dst.home-hole");
			}
		} else if (a.dst_fd == f->child_pidfd && f->child_pidfd >= 0) {
			if (len > HOLE_PAGES * PG)
				len = (1 + rn(f, HOLE_PAGES)) * PG;
			a.dst = (uintptr_t)f->child_hole +
				rn(f, HOLE_PAGES - len / PG + 1) * PG;
		}
	}
	a.len = len;
	dst_fd_bad = f->must_fail;
	f->must_fail = false;
	dst_flag = a.flags & VAS_ATTACH_DST_PIDFD;

	a.prot = prots[rn(f, ARRAY_SIZE(prots))];

	/* Mutations of single fields. */
	if (one_in(f, 12)) {
		switch (rn(f, 5)) {
		case 0:
			a.flags |= 1ULL << (5 + rn(f, 59));
			f->must_fail = true;
			mut(f, "flags.unknown");
			break;
		case 1:
			a.flags &= ~(VAS_ATTACH_SRC_SELF | VAS_ATTACH_SRC_FD |
				     VAS_ATTACH_SRC_PIDFD);
			a.flags |= 1ULL << rn(f, 3);
			if (one_in(f, 2))
				a.flags |= 1ULL << rn(f, 3);
			mut(f, "flags.src");
			if (__builtin_popcountll(a.flags & 7) != 1)
				f->must_fail = true;
			break;
		case 2:
			a.flags = rnd(f);
			mut(f, "flags.random");
			if (a.flags & ~0x1fULL)
				f->must_fail = true;
			break;
		case 3:
			a.flags |= VAS_ATTACH_PRIVATE;
			mut(f, "flags.private");
			break;
		default:
			a.flags = 0;
			f->must_fail = true;
			mut(f, "flags.none");
			break;
		}
		/* Whatever it became, PRIVATE needs SRC_FD. */
		if ((a.flags & VAS_ATTACH_PRIVATE) &&
		    (a.flags & 7) != VAS_ATTACH_SRC_FD)
			f->must_fail = true;
		if ((a.flags & 7) == VAS_ATTACH_SRC_SELF && a.src_fd != -1)
			f->must_fail = true;
	}
	if (one_in(f, 25)) {
		a.__reserved = 1 + rn(f, 0xffff);
		f->must_fail = true;
		mut(f, "reserved");
	}
	if (one_in(f, 20)) {
		a.prot |= 1U << (3 + rn(f, 29));
		f->must_fail = true;
		mut(f, "prot.unknown");
	}
	switch (rn(f, 40)) {
	case 0:
		a.len = odd_lens[rn(f, ARRAY_SIZE(odd_lens))];
		mut(f, "len.odd");
		if (!a.len || a.len & (PG - 1))
			f->must_fail = true;
		break;
	case 1:
		a.dst += 1 + rn(f, PG - 1);
		f->must_fail = true;
		mut(f, "dst.misaligned");
		break;
	case 2:
		a.dst = odd_addrs[rn(f, ARRAY_SIZE(odd_addrs))];
		dst_bad = false;
		mut(f, "dst.odd");
		break;
	case 3:
		a.src = odd_addrs[rn(f, ARRAY_SIZE(odd_addrs))];
		src_bad = false;
		mut(f, "src.odd");
		break;
	case 4:
		/* Wraps. */
		a.dst = -(uint64_t)PG * (1 + rn(f, 4));
		a.len = PG * (5 + rn(f, 4));
		f->must_fail = true;
		mut(f, "dst.wraps");
		break;
	case 5:
	case 6:
		/* A 32-bit caller cannot name these: EINVAL, not truncation. */
		k = rn(f, 3);
		if (k == 1 && COMPAT) {
			a.len |= hi_garbage(f);
		} else if (k == 2 && (a.flags & 7) != VAS_ATTACH_SRC_FD) {
			a.src |= hi_garbage(f);
			src_bad = false;
		} else {
			a.dst |= hi_garbage(f);
			dst_bad = false;
		}
		compat_hi = COMPAT;
		if (COMPAT)
			f->must_fail = true;
		mut(f, "addr.upper-32-bits");
		break;
	default:
		break;
	}
	/* A source or target that cannot work, if the fields still name it. */
	if (((src_bad || src_fd_bad) && (a.flags & 7) == (src_flag & 7)) ||
	    (dst_fd_bad && (a.flags & VAS_ATTACH_DST_PIDFD) == dst_flag) ||
	    dst_bad)
		f->must_fail = true;

	/*
	 * Place the struct so that it ends where the argument area does, with
	 * whatever tail @size asks for in between.
	 */
	if (one_in(f, 10)) {
		size = odd_sizes[rn(f, ARRAY_SIZE(odd_sizes))];
		mut(f, "size.odd");
		/* Too small, or running into the guard page. */
		if (size < sizeof(a) || size > ARGS_AREA)
			f->must_fail = true;
		if (size != sizeof(a))
			args_ok = args_ok && size >= sizeof(a) && size <= ARGS_AREA;
	}
	at = f->args + ARGS_AREA - (size <= ARGS_AREA && size >= sizeof(a) ? size : sizeof(a));
	memset(f->args, 0, ARGS_AREA);
	memcpy(at, &a, sizeof(a));
	if (size > sizeof(a) && size <= ARGS_AREA && one_in(f, 3)) {
		at[sizeof(a) + rn(f, size - sizeof(a))] = 1 + rn(f, 255);
		f->must_fail = true;
		args_ok = false;
		mut(f, "size.tail.nonzero");
	}
	f->uargs = (uintptr_t)at;
	switch (rn(f, 40)) {
	case 0:
		f->uargs = bad_ptrs[rn(f, ARRAY_SIZE(bad_ptrs))];
		f->must_fail = true;
		args_ok = false;
		mut(f, "args.bad");
		break;
	case 1:
		/* Runs into the guard page. */
		f->uargs = (uintptr_t)f->args + ARGS_AREA - 8 * (1 + rn(f, 5));
		f->must_fail = true;
		args_ok = false;
		mut(f, "args.guard");
		break;
	case 2:
		if (f->threads && size == sizeof(a) && args_ok) {
			/* In memory the flapper unmaps: may fault. */
			uint64_t off = 8 * rn(f, (FLAP_PAGES * PG - sizeof(a)) / 8);

			if (pwrite(f->flap_fd, &a, sizeof(a), off) == sizeof(a)) {
				f->uargs = f->m[M_FLAP].addr + off;
				size = sizeof(a);
				args_ok = false;
				mut(f, "args.flap");
			}
		}
		break;
	case 3:
		/* Misaligned but readable: fine. */
		if (size == sizeof(a) && args_ok) {
			char *to = f->args + 1 + rn(f, 7);

			memmove(to, at, sizeof(a));
			f->uargs = (uintptr_t)to;
			mut(f, "args.misaligned");
		}
		break;
	default:
		break;
	}
	f->call = a;
	f->size = size;
	f->want = compat_hi && args_ok ? EINVAL : -1;
	if (f->verbose)
		fprintf(stderr, "# [%s] %lu attach %s\n", f->name, f->iter, f->muts);

	if (home_dst && !f->must_fail && a.dst >= (uintptr_t)f->hole &&
	    a.dst < (uintptr_t)f->hole + HOLE_PAGES * PG)
		munmap(f->hole, HOLE_PAGES * PG);
	ret = syscall(__NR_vas_attach, (long)f->uargs, (long)size);
	err = errno;
	check(f, ret, err, attach_errnos, ARRAY_SIZE(attach_errnos), 1);
	if (home_dst) {
		/* Mapped at home: [dst, dst + len) was free, so it is ours. */
		if (!ret)
			munmap((void *)(uintptr_t)a.dst, a.len);
		mmap(f->hole, HOLE_PAGES * PG, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
	}
}

/* --- vas_create, and vas_switch from a thread that cannot run elsewhere -- */

static void do_create(struct fz *f)
{
	unsigned int flags = 0;
	int fd, err;

	snprintf(f->what, sizeof(f->what), "vas_create");
	if (one_in(f, 4)) {
		flags = one_in(f, 2) ? 1U << rn(f, 32) : (unsigned int)rnd(f) | 1;
		f->want = EINVAL;
		mut(f, "flags");
	}
	f->sw_fd = -1;
	f->sw_flags = flags;
	if (f->verbose)
		fprintf(stderr, "# [%s] %lu create %#x\n", f->name, f->iter, flags);
	fd = syscall(__NR_vas_create, flags);
	err = errno;
	check(f, fd < 0 ? -1 : 0, err, create_errnos, ARRAY_SIZE(create_errnos), 0);
	if (fd >= 0) {
		if (flags)
			close(fd);
		else
			slot_fill(f, rn(f, NR_SLOTS), fd);
	}
}

/*
 * The main thread's stack is private memory that no space has: switching
 * it anywhere but home must fail, and exactly as the arguments say.
 */
static void do_switch(struct fz *f)
{
	unsigned int flags = 0, k = rn(f, 12);
	int fd, err;
	long ret;

	snprintf(f->what, sizeof(f->what), "vas_switch");
	if (k < 5) {
		/* An empty slot is -1: home. */
		fd = f->slot[rn(f, NR_SLOTS)];
		f->want = fd >= 0 ? EFAULT : 0;
	} else if (k < 7 && f->threads) {
		fd = one_in(f, 2) ? f->run_fd[rn(f, NR_RUN)] :
				    f->half_fd[rn(f, ARRAY_SIZE(f->half_fd))];
		f->want = EFAULT;
	} else if (k < 8) {
		fd = VAS_HOME;
		f->want = 0;
	} else if (k < 10) {
		int fds[] = { f->memfd, f->pipe_fd[0], f->self_pidfd, f->efd,
			      f->dir_fd };

		fd = fds[rn(f, ARRAY_SIZE(fds))];
		f->want = EINVAL;
		mut(f, "fd.not-a-vas");
	} else {
		fd = one_in(f, 2) ? closed_fd(f) :
		     one_in(f, 2) ? -2 - (int)rn(f, 1000) : (int)(0x80000000U | rn(f, 1 << 20));
		f->want = EBADF;
		mut(f, "fd.bad");
	}
	if (one_in(f, 8)) {
		flags = one_in(f, 2) ? 1U << rn(f, 32) : (unsigned int)rnd(f) | 1;
		f->want = EINVAL;
		mut(f, "flags");
	}
	f->sw_fd = fd;
	f->sw_flags = flags;
	if (f->verbose)
		fprintf(stderr, "# [%s] %lu switch %d %#x %s\n", f->name,
			f->iter, fd, flags, f->muts);
	ret = syscall(__NR_vas_switch, fd, flags);
	err = errno;
	check(f, ret, err, switch_errnos, ARRAY_SIZE(switch_errnos), 2);
	if (!ret && fd != VAS_HOME) {
		/* Not reached: the thread would have no stack. */
		fail(f, "main thread switched away", ret, 0);
	}
}

/* The kernel still answers plain system calls and /proc. */
static void check_alive(struct fz *f)
{
	snprintf(f->what, sizeof(f->what), "liveness check");
	f->muts[0] = 0;
	if (syscall(SYS_getpid) != getpid() ||
	    (f->slot[0] >= 0 && vas_fdinfo(f->slot[0], "vas-threads") < 0))
		fail(f, "kernel not answering", 0, errno);
}

/* --- the switcher thread ----------------------------------------------- */

/*
 * Runs on the thread's shared region; switched, it touches only that
 * region, the marker page and its stack, and makes raw system calls.
 */
static int fn_switcher(struct vas_ctl *c)
{
	struct sw_plan *p = (struct sw_plan *)c->buf;
	int seq = 0, i;

	for (;;) {
		while (vas_load(&p->seq) == seq && !vas_load(&p->stop))
			RAW0(__NR_sched_yield);
		if (vas_load(&p->stop))
			return 0;
		seq = vas_load(&p->seq);
		for (i = 0; i < READ_ONCE(p->nr); i++) {
			struct sw_op *o = &p->op[i];

			WRITE_ONCE(p->cur, i);
			o->before = READ_ONCE(*p->mark);
			o->ret = RAW2(__NR_vas_switch, o->fd, o->flags);
			o->after = READ_ONCE(*p->mark);
		}
		p->home_ret = vas_switch_raw(VAS_HOME);
		p->home_at = READ_ONCE(*p->mark);
		vas_store(&p->done, seq);
	}
}

static unsigned int sw_rn(struct fz *f, unsigned int n)
{
	return rnd64(&f->sw_rng) % n;
}

static void sw_post(struct fz *f)
{
	struct sw_plan *p = f->plan;
	int i;

	p->nr = 8 + sw_rn(f, SW_OPS - 8);
	for (i = 0; i < p->nr; i++) {
		struct sw_op *o = &p->op[i];
		unsigned int k = sw_rn(f, 20), r;

		o->flags = 0;
		o->want_ret = 1;
		o->want_at = -1;
		if (k < 6) {
			r = sw_rn(f, NR_RUN);
			o->fd = f->run_fd[r];
			o->want_ret = 0;
			o->want_at = 1 + r;
		} else if (k < 8) {
			o->fd = VAS_HOME;
			o->want_ret = 0;
			o->want_at = 0;
		} else if (k < 12) {
			o->fd = f->half_fd[sw_rn(f, ARRAY_SIZE(f->half_fd))];
			o->want_ret = -EFAULT;
		} else if (k < 13) {
			o->fd = sw_rn(f, 2) ? f->mark_fd : f->pipe_fd[1];
			o->want_ret = -EINVAL;
		} else if (k < 14) {
			o->fd = sw_rn(f, 2) ? 1010 + (int)sw_rn(f, 10) : -2;
			o->want_ret = -EBADF;
		} else if (k < 15) {
			o->fd = f->run_fd[sw_rn(f, NR_RUN)];
			o->flags = 1U << sw_rn(f, 32);
			o->want_ret = -EINVAL;
		} else {
			/* A pool slot's number: the main thread changes it meanwhile. */
			o->fd = f->slot[sw_rn(f, NR_SLOTS)];
			if (o->fd == VAS_HOME) {
				o->want_ret = 0;
				o->want_at = 0;
			}
		}
	}
	f->sw_seq++;
	vas_store(&p->seq, f->sw_seq);
}

/* Where may the thread be after op @o? Report what is wrong. */
static void sw_check(struct fz *f)
{
	struct sw_plan *p = f->plan;
	int i;

	snprintf(f->what, sizeof(f->what), "vas_switch (switcher)");
	for (i = 0; i < p->nr; i++) {
		const struct sw_op *o = &p->op[i];
		int err = o->ret < 0 ? (int)-o->ret : 0;

		f->muts[0] = 0;
		snprintf(f->muts, sizeof(f->muts),
			 "batch %d op %d, at %d before, %d after; expected ret %d at %d",
			 f->sw_seq, i, o->before, o->after, o->want_ret, o->want_at);
		f->sw_fd = o->fd;
		f->sw_flags = o->flags;
		f->sw_switches++;
		if (o->ret > 0 ||
		    (err && !errno_ok(switch_errnos, ARRAY_SIZE(switch_errnos), err)))
			fail(f, "undocumented errno", o->ret, err);
		else if (o->want_ret != 1 && o->ret != o->want_ret)
			fail(f, "not the result the target calls for", o->ret, err);
		else if (o->ret && o->after != o->before)
			fail(f, "a failed switch moved the thread", o->ret, err);
		else if (!o->ret && o->want_at >= 0 && o->after != o->want_at)
			fail(f, "switched into the wrong space", o->ret, o->after);
		else if (!o->ret && o->want_at < 0 &&
			 (o->after < POOL_ID || o->after >= POOL_ID + NR_SLOTS))
			fail(f, "switched into a space that is not runnable", o->ret,
			     o->after);
		if (!o->ret && o->after)
			f->sw_entered++;
	}
	if (p->home_ret || p->home_at)
		fail(f, "could not go home", p->home_ret, p->home_at);
	f->sw_batches++;
}

/* Half-built spaces the switcher cannot run in: each must be EFAULT. */
static int half_spaces(struct fz *f)
{
	int i, fd, ret = 0;

	for (i = 0; i < (int)ARRAY_SIZE(f->half_fd) && !ret; i++) {
		if (f->half_fd[i] >= 0)
			close(f->half_fd[i]);
		fd = vas_create(0);
		if (fd < 0)
			return -1;
		f->half_fd[i] = fd;
		switch (i) {
		case 0:		/* empty */
			break;
		case 1:
			/*
			 * Text, and the stack's range taken by an inaccessible
			 * mapping, so that no attach makes it runnable.
			 */
			ret = attach_text(f, fd, RX) ?:
			      attach_fd(fd, f->memfd, 0, (uintptr_t)f->sw.region,
					f->sw.len, PROT_NONE);
			break;
		case 2:		/* stack, no text */
			ret = vas_attach_self(fd, f->sw.region, f->sw.len, RW);
			break;
		case 3:		/* a read-only stack */
			ret = attach_text(f, fd, RX) ?:
			      vas_attach_self(fd, f->sw.region, f->sw.len, PROT_READ);
			break;
		default:	/* text that is not executable */
			ret = attach_text(f, fd, PROT_READ) ?:
			      vas_attach_self(fd, f->sw.region, f->sw.len, RW);
			break;
		}
		if (!ret)
			ret = attach_fd(fd, f->mark_fd, (MARK_PAGES - 1) * PG,
					(uintptr_t)f->mark, PG, PROT_READ);
	}
	return ret;
}

/* Replace runnable space @i, or the half-built ones (@i == NR_RUN). */
static void sw_renew(struct fz *f, int i)
{
	snprintf(f->what, sizeof(f->what), "setup attach");
	f->muts[0] = 0;
	if (i == NR_RUN) {
		if (half_spaces(f))
			fail(f, "valid attach for a half-built space failed", -1, errno);
		return;
	}
	close(f->run_fd[i]);
	f->run_fd[i] = vas_create(0);
	if (f->run_fd[i] < 0 || make_runnable(f, f->run_fd[i], 1 + i))
		fail(f, "valid attach for a runnable space failed", -1, errno);
}

/* --- the flapper -------------------------------------------------------- */

static int flap_stop;

/* Unmap, replace, reprotect and resize the memory attached from. */
static void *flapper(void *arg)
{
	struct fz *f = arg;
	char *flap = (char *)f->m[M_FLAP].addr;
	uint64_t r = f->seed ^ 0xf1a9;
	unsigned long n = 0;
	void *p;

	while (!__atomic_load_n(&flap_stop, __ATOMIC_ACQUIRE)) {
		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		switch ((r >> 33) % 5) {
		case 0:
			munmap(flap, FLAP_PAGES * PG);
			p = mmap(flap, FLAP_PAGES * PG, RW,
				 MAP_SHARED | MAP_FIXED_NOREPLACE, f->flap_fd, 0);
			if (p != flap) {
				/* Somebody took the hole: stop. */
				__atomic_store_n(&flap_stop, 2, __ATOMIC_RELEASE);
				return (void *)(uintptr_t)n;
			}
			break;
		case 1:
			/* Private anonymous memory in its place, then the file. */
			mmap(flap, FLAP_PAGES * PG, PROT_NONE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			sched_yield();
			mmap(flap, FLAP_PAGES * PG, RW, MAP_SHARED | MAP_FIXED,
			     f->flap_fd, 0);
			break;
		case 2:
			mprotect(flap, FLAP_PAGES * PG, PROT_READ);
			sched_yield();
			mprotect(flap, FLAP_PAGES * PG, RW);
			break;
		case 3:
			/* Half of it goes away in the middle. */
			munmap(flap + PG * 2, PG * 2);
			sched_yield();
			mmap(flap + PG * 2, PG * 2, RW,
			     MAP_SHARED | MAP_FIXED_NOREPLACE, f->flap_fd, PG * 2);
			break;
		default:
			if (ftruncate(f->flap_fd, PG * ((r >> 40) % (2 * FLAP_PAGES))) ||
			    ftruncate(f->flap_fd, FLAP_PAGES * PG))
				break;
			usleep((r >> 45) % 200);
			break;
		}
		n++;
	}
	return (void *)(uintptr_t)n;
}

/* --- the loop ----------------------------------------------------------- */

static void fuzz_one(struct fz *f)
{
	unsigned int op = rn(f, 100);

	f->muts[0] = 0;
	f->must_fail = false;
	f->want = -1;
	if (op < 74) {
		do_attach(f);
	} else if (op < 82) {
		do_create(f);
	} else if (op < 94) {
		do_switch(f);
	} else if (op < 97) {
		int s = rn(f, NR_SLOTS);

		if (f->slot[s] >= 0)
			close(f->slot[s]);
		f->slot[s] = -1;
		f->slot_text[s] = false;
	} else if (!(f->iter % 4)) {
		/* A new child, after using the old one as a zombie. */
		child_stop(f);
		if (res_child(f))
			fail(f, "cannot start a child", -1, errno);
	}
	if (!(f->iter % 256))
		check_alive(f);
	if (f->threads && vas_load(&f->plan->done) == f->sw_seq) {
		sw_check(f);
		/* The switcher is home: its spaces fill up, renew them. */
		if (!(f->sw_batches % 64))
			sw_renew(f, f->sw_batches / 64 % (NR_RUN + 1));
		sw_post(f);
	}
}

static void fz_loop(struct fz *f)
{
	for (f->iter = 1; f->iter <= f->iters &&
	     (keep_going || !__atomic_load_n(&fuzz_failed, __ATOMIC_RELAXED));
	     f->iter++)
		fuzz_one(f);
}

static void *watchdog(void *arg)
{
	unsigned long last = 0;
	int still = 0;

	for (;;) {
		sleep(1);
		if (!watched)
			continue;
		if (watched->iter + watched->sw_batches != last) {
			last = watched->iter + watched->sw_batches;
			still = 0;
			continue;
		}
		if (++still < WATCHDOG_SECS)
			continue;
		fail(watched, "no progress: a call hangs", 0, 0);
		if (watched->threads)
			fprintf(stderr, "#   switcher at batch %d op %d\n",
				watched->sw_seq, watched->plan->cur);
		fail_summary();
		_exit(KSFT_FAIL);
	}
	return NULL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fz_report(struct fz *f, double secs)
{
	static const char * const calls[] = { "create", "attach", "switch" };
	int call, e;

	fprintf(stderr,
		"# [%s] %lu calls in %.1f s (%.0f/s): create %lu ok/%lu refused, attach %lu/%lu, switch %lu/%lu\n",
		f->name, f->calls, secs, secs > 0 ? f->calls / secs : 0.0,
		f->ok[0], f->refused[0], f->ok[1], f->refused[1], f->ok[2],
		f->refused[2]);
	for (call = 0; call < 3; call++) {
		char line[256] = "";
		size_t len = 0;

		for (e = 1; e < (int)ARRAY_SIZE(f->errs[0]); e++)
			if (f->errs[call][e] && len < sizeof(line) - 32)
				len += snprintf(line + len, sizeof(line) - len,
						" %s:%lu", strerrorname_np(e),
						f->errs[call][e]);
		fprintf(stderr, "# [%s] %s errnos:%s\n", f->name,
			calls[call], line);
	}
	if (f->threads)
		fprintf(stderr,
			"# [%s] switcher: %lu batches, %lu switches, %lu into a space\n",
			f->name, f->sw_batches, f->sw_switches, f->sw_entered);
}

FIXTURE(fuzz) {
	int fds;
	uint64_t seed;
	unsigned long iters;
};

FIXTURE_SETUP(fuzz)
{
	int fd, err, nosys = vas_nosys_errno();
	pthread_t t;

	fd = vas_create(0);
	err = errno;
	if (fd < 0 && err == nosys)
		SKIP(return, NO_VAS);
	ASSERT_LE(0, fd);
	close(fd);
	self->fds = count_fds();
	self->seed = env_ulong("VAS_FUZZ_SEED", FUZZ_DEFAULT_SEED);
	self->iters = env_ulong("VAS_FUZZ_ITERS", FUZZ_DEFAULT_ITERS) ?: 1;
	keep_going = env_ulong("VAS_FUZZ_KEEP_GOING", 0);
	TH_LOG("seed=%#llx iterations=%lu (VAS_FUZZ_SEED, VAS_FUZZ_ITERS)",
	       (unsigned long long)self->seed, self->iters);
	ASSERT_EQ(0, pthread_create(&t, NULL, watchdog, NULL));
	pthread_detach(t);
}

FIXTURE_TEARDOWN(fuzz)
{
}

static int fz_init(struct fz *f, const char *name, uint64_t seed,
		   unsigned long iters, bool threads)
{
	memset(f, 0, sizeof(*f));
	f->name = name;
	f->seed = seed;
	f->rng = seed ^ (threads ? 1 : 0);
	f->sw_rng = seed ^ 2;
	f->iters = iters;
	f->threads = threads;
	f->verbose = env_ulong("VAS_FUZZ_VERBOSE", 0);
	return res_init(f);
}

/* Single-threaded: replays exactly from the seed. */
TEST_F_TIMEOUT(fuzz, single, FUZZ_TIMEOUT)
{
	static struct fz f;
	double t0;

	ASSERT_EQ(0, fz_init(&f, "single", self->seed, self->iters, false));
	f.m[M_FLAP].addr = 0;	/* nothing flaps it here */
	ASSERT_EQ(0, res_child(&f));
	watched = &f;
	t0 = now();
	fz_loop(&f);
	fz_report(&f, now() - t0);
	watched = NULL;
	fail_summary();
	EXPECT_EQ(0, fuzz_failed);
	res_fini(&f);
	EXPECT_EQ(self->fds, count_fds());
}

/*
 * The main thread fuzzes as above, a thread flaps memory it attaches
 * from, and a thread on a shared stack switches between spaces.
 */
TEST_F_TIMEOUT(fuzz, threads, FUZZ_TIMEOUT)
{
	static struct fz f;
	pthread_t ft;
	void *flaps;
	double t0;
	int i;

	ASSERT_EQ(0, fz_init(&f, "threads", self->seed, self->iters, true));
	ASSERT_EQ(0, vas_thread_init(&f.sw));
	f.m[M_REGION] = (struct area){ (uintptr_t)f.sw.region, f.sw.len / PG };
	f.plan = (struct sw_plan *)f.sw.ctl->buf;
	f.plan->mark = (const int *)f.mark;
	for (i = 0; i < NR_RUN; i++) {
		f.run_fd[i] = vas_create(0);
		ASSERT_LE(0, f.run_fd[i]);
		ASSERT_EQ(0, make_runnable(&f, f.run_fd[i], 1 + i));
	}
	ASSERT_EQ(0, half_spaces(&f));
	ASSERT_EQ(0, res_child(&f));
	ASSERT_EQ(0, vas_thread_start(&f.sw, fn_switcher));
	ASSERT_EQ(0, pthread_create(&ft, NULL, flapper, &f));
	for (i = 0; i < 10000 && !vas_load(&f.sw.ctl->tid); i++)
		usleep(1000);
	/* A thread that is not a leader: pidfd_get_task() finds no process. */
	f.thread_pidfd = pidfd_open(f.sw.ctl->tid, PIDFD_THREAD);
	sw_post(&f);
	watched = &f;
	t0 = now();
	fz_loop(&f);
	fz_report(&f, now() - t0);
	__atomic_store_n(&flap_stop, 1, __ATOMIC_RELEASE);
	pthread_join(ft, &flaps);
	TH_LOG("flapper: %lu changes", (unsigned long)(uintptr_t)flaps);
	while (vas_load(&f.plan->done) != f.sw_seq && !fuzz_failed)
		usleep(1000);
	if (vas_load(&f.plan->done) == f.sw_seq)
		sw_check(&f);
	vas_store(&f.plan->stop, 1);
	EXPECT_EQ(0, vas_thread_join(&f.sw, 30));
	watched = NULL;
	fail_summary();
	EXPECT_EQ(0, fuzz_failed);
	res_fini(&f);
	EXPECT_EQ(self->fds, count_fds());
}

TEST_HARNESS_MAIN
