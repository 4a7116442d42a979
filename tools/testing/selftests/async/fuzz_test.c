// SPDX-License-Identifier: GPL-2.0
/*
 * Seeded ABI fuzzer for async_exec(), async_wait() and async_cancel().
 *
 * Every call is built from a pseudo-random stream: mostly valid chains of
 * harmless atoms, with mutations of every field the ABI has (bad, kernel
 * and misaligned pointers, reserved bits, counts, references, stop values,
 * system call numbers, result addresses, ring headers and indices,
 * eventfds, struct sizes, wait and cancel arguments). After each call the
 * result must be success or an errno documented for that call in
 * Documentation/userspace-api/async.rst; anything else fails the test and
 * prints the seed, the iteration and the call.
 *
 * Environment:
 *   ASYNC_FUZZ_SEED     seed (default 0x5eed; "random" takes the time)
 *   ASYNC_FUZZ_ITERS    calls in all, spread over the tests (default below)
 *   ASYNC_FUZZ_VERBOSE  1: print every call
 *
 * A run is replayed by setting the seed and the iteration count it
 * printed. The "leader" test is single-threaded and replays exactly; in
 * the "threads" test the calls of each thread are the same for a seed, the
 * interleaving with the other threads is not.
 *
 * Only harmless system calls run as atoms: getpid and friends, reads and
 * writes on pipes the test owns, dup2 onto and close of one scratch
 * descriptor, tiny nanosleeps. Every address handed to the kernel for
 * writing is in memory the test keeps for that purpose, or not mapped.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/async.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "../kselftest_harness.h"
#include "async_util.h"

/*
 * Calls in all when ASYNC_FUZZ_ITERS is not set: about 15 s under TCG
 * (half from the leader, at about 15000/s; a quarter from a second thread
 * whose chains go async, at about 3000/s; a quarter from the leader at the
 * same time). Longer runs set ASYNC_FUZZ_ITERS.
 */
#define FUZZ_DEFAULT_ITERS	100000
#define FUZZ_DEFAULT_SEED	0x5eedULL
/* Generous: the debug kernel run scales the count up. */
#define FUZZ_TIMEOUT		3600

/* The page size, read when a test starts: areas and guards are in pages. */
static size_t fz_pg = 4096;
#define PG			((uintptr_t)fz_pg)
#define ATOM_AREA		(4 * PG)
#define BUF_AREA		(17 * PG)
#define SCRATCH_AREA		(16 * PG)
#define NR_RINGS		4
#define SCRATCH_FD_BASE		900
#define MAX_PENDING		8192
#define POISON			0xa5

/* The flapping region: a ring, an atom array and result slots. */
#define FLAP_PAGES		4
#define FLAP_RING_ENTRIES	8
#define FLAP_ATOMS_OFF		PG
#define FLAP_RES_OFF		(3 * PG)

/* Addresses that are never mapped in user space, or not user space. */
static const uint64_t bad_ptrs[] = {
	0, 1, 8, 0x1000, 0x10000,
	0xffff888000000000ULL,		/* the direct map */
	0xffffffff81000000ULL,		/* kernel text */
	0xffffffffff600000ULL,		/* vsyscall page */
	0xfffffffffffff000ULL, 0xfffffffffffffff8ULL,
	0x0000800000000000ULL,		/* first non-canonical */
	0x00007ffffffff000ULL,		/* TASK_SIZE */
	0x8000000000000000ULL, 0xdead000000000000ULL,
#ifdef __PPC64__
	0xc000000000000000ULL,		/* the powerpc linear map */
#endif
};

/* Refused atoms, from the list in async.rst. */
static const uint16_t denied_nrs[] = {
	__NR_fork, __NR_vfork, __NR_clone, __NR_clone3, __NR_execve,
	__NR_execveat, __NR_exit, __NR_exit_group, __NR_unshare, __NR_setns,
	__NR_set_tid_address, __NR_set_robust_list, __NR_rseq,
	__NR_sigaltstack, __NR_rt_sigprocmask, __NR_rt_sigsuspend,
	__NR_rt_sigreturn,
#ifdef __NR_swapcontext
	__NR_swapcontext,
#endif
#ifdef __NR_switch_endian
	__NR_switch_endian,
#endif
	__NR_prctl, __NR_personality,
	__NR_seccomp, 463, 464, 465, 466, 467, 468, 469, __NR_setuid,
	__NR_setgid, __NR_setreuid, __NR_setregid, __NR_setresuid,
	__NR_setresgid, __NR_setfsuid, __NR_setfsgid, __NR_setgroups,
	__NR_capset, __NR_keyctl,
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

/* Numbers beyond the table (refused), and unused ones inside (ENOSYS). */
static const uint16_t odd_nrs[] = {
	470, 471, 511, 512, 547, 1000, 0x7fff, 0x8000, 0xfffe, 0xffff,
#ifdef __s390__
	17, 18, 423,
#elif defined(__powerpc__)
	224, 257, 366, 389,
#else
	335, 400, 423,
#endif
};

static const uint64_t odd_sizes[] = {
	0, 1, 32, 63, 72, 128, 4096, 1ULL << 30, ~0ULL,
};

static const unsigned int odd_mins[] = {
	2, 8, 64, 1024, 65536, 65537, 0xffffffff,
};

/* The documented errnos of each call. */
static const int exec_errnos[] = {
	EINVAL, E2BIG, EFAULT, EBADF, EAGAIN, ENOSPC, ENOMEM,
};

static const int wait_errnos[] = {
	EINVAL, EFAULT, ENOSPC, ENOMEM, ETIME, EINTR
};

static const int cancel_errnos[] = { ENOENT, EALREADY, EINVAL };

enum kind {
	K_GETPID, K_GETPPID, K_GETTID, K_GETUID, K_YIELD, K_UNAME, K_CLOCK,
	K_RANDOM, K_READ_NB, K_WRITE, K_DUP2, K_CLOSE, K_LSEEK, K_NANOSLEEP,
	K_READ_BLOCK,	/* non-leader threads only */
	K_NR,
};

/* Arguments that may be replaced by an earlier atom's result. */
static const uint8_t ref_safe[K_NR] = {
	[K_GETPID] = 0x3f, [K_GETPPID] = 0x3f, [K_GETTID] = 0x3f,
	[K_GETUID] = 0x3f, [K_YIELD] = 0x3f, [K_UNAME] = 0x01,
	[K_CLOCK] = 0x03, [K_RANDOM] = 0x03, [K_READ_NB] = 0x06,
	[K_WRITE] = 0x06, [K_DUP2] = 0x01, [K_LSEEK] = 0x06,
	[K_NANOSLEEP] = 0x03, [K_READ_BLOCK] = 0x06,
};

struct pending {
	uint64_t cookie;
	unsigned int nr_atoms;
	int ring;		/* index, NR_RINGS: flap ring, -1: unwritable ring */
};

struct fz {
	const char *name;
	uint64_t seed;
	uint64_t rng;
	unsigned long iters;
	unsigned long iter;
	unsigned long calls;
	bool leader;
	bool verbose;

	/* Memory the kernel may write to, each area followed by a guard page. */
	char *base;
	size_t base_len;
	char *atoms;
	char *args;
	char *ro;
	char *buf;
	char *res;
	char *scratch;
	char *guard;
	struct async_ring *ring[NR_RINGS];
	unsigned int ring_len[NR_RINGS];
	char *flap;		/* shared with the flapping thread, or NULL */

	int nb[2];		/* non-blocking pipe: data for K_READ_NB */
	int sink[2];		/* non-blocking pipe: K_WRITE output */
	int blk[2];		/* blocking read end, non-blocking write end */
	int efd;
	int junk;
	int scratch_fd;

	/* The call being made, for the report. */
	char what[64];
	struct async_args call_args;
	struct async_atom call_atoms[ASYNC_MAX_ATOMS + 1];
	unsigned int call_natoms;
	uint64_t call_uargs;
	uint64_t call_size;
	uint64_t wait_ring;
	uint64_t wait_ts;
	unsigned int wait_min;
	unsigned int wait_flags;
	uint64_t cancel_cookie;
	char muts[160];

	/* Chains that went async, and what came back. */
	struct pending pend[MAX_PENDING];
	unsigned int nr_pend;
	unsigned long went_async;
	unsigned long received;
	unsigned long done_sync;
	unsigned long refused;
	unsigned long canceled;
	unsigned long result_faults;
	unsigned long flap_received;
};

/* Failures so far; how far the flapping thread is (see threads). */
static int fuzz_failed;
static int flap_stop;

static int load(int *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* The contexts the watchdog reports on when calls stop returning. */
static struct fz *watched[2];

/* splitmix64 */
static uint64_t rnd(struct fz *f)
{
	uint64_t z = (f->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int rn(struct fz *f, unsigned int n)
{
	return rnd(f) % n;
}

static bool one_in(struct fz *f, unsigned int n)
{
	return rn(f, n) == 0;
}

static uint64_t pick_bad(struct fz *f)
{
	switch (rn(f, 4)) {
	case 0:
		return (uintptr_t)f->guard + rn(f, PG);
	case 1:
		return bad_ptrs[rn(f, ARRAY_SIZE(bad_ptrs))] + 8 * rn(f, 4);
	default:
		return bad_ptrs[rn(f, ARRAY_SIZE(bad_ptrs))];
	}
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
	const struct async_args *a = &f->call_args;
	unsigned int i;

	fprintf(stderr, "#   muts: %s\n", f->muts[0] ? f->muts : "none");
	if (strcmp(f->what, "async_exec")) {
		fprintf(stderr,
			"#   ring=%#llx min=%u ts=%#llx flags=%#x cookie=%#llx\n",
			(unsigned long long)f->wait_ring, f->wait_min,
			(unsigned long long)f->wait_ts, f->wait_flags,
			(unsigned long long)f->cancel_cookie);
		return;
	}
	fprintf(stderr, "#   args=%#llx size=%llu\n",
		(unsigned long long)f->call_uargs,
		(unsigned long long)f->call_size);
	fprintf(stderr,
		"#   atoms=%#llx nr_atoms=%u eventfd=%#x flags=%#llx ring=%#llx cookie=%#llx reserved=%#llx\n",
		(unsigned long long)a->atoms, a->nr_atoms, a->eventfd,
		(unsigned long long)a->flags, (unsigned long long)a->ring,
		(unsigned long long)a->cookie, (unsigned long long)a->reserved);
	for (i = 0; i < f->call_natoms; i++) {
		const struct async_atom *t = &f->call_atoms[i];

		fprintf(stderr,
			"#   [%u] nr=%u rsv=%#x stop=%u ref=%#x args=%#llx,%#llx,%#llx,%#llx,%#llx,%#llx res=%#llx\n",
			i, t->nr, t->reserved, t->stop, t->ref_mask,
			(unsigned long long)t->args[0],
			(unsigned long long)t->args[1],
			(unsigned long long)t->args[2],
			(unsigned long long)t->args[3],
			(unsigned long long)t->args[4],
			(unsigned long long)t->args[5],
			(unsigned long long)t->result);
	}
}

/* Failures seen, by call, reason and errno: each kind is printed once. */
static struct {
	const char *why;
	char what[64];
	int err;
	unsigned long count;
} kinds[32];
static pthread_mutex_t kinds_lock = PTHREAD_MUTEX_INITIALIZER;
static bool keep_going;

static void fail(struct fz *f, const char *why, long ret, int err)
{
	unsigned int i;
	bool first = false;

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
	if (first) {
		fprintf(stderr,
			"# FUZZ FAILURE [%s] seed=%#llx iteration=%lu: %s: %s returned %ld, errno %d (%s)\n",
			f->name, (unsigned long long)f->seed, f->iter, why,
			f->what, ret, err,
			strerror(err));
		dump_call(f);
		fprintf(stderr,
			"#   replay: ASYNC_FUZZ_SEED=%#llx ASYNC_FUZZ_ITERS=%s\n",
			(unsigned long long)f->seed,
			getenv("ASYNC_FUZZ_ITERS") ?: "(default)");
	}
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

/* --- memory ------------------------------------------------------------ */

static char *carve(char **p, size_t len, int prot)
{
	char *area = *p;

	if (mprotect(area, len, prot))
		return NULL;
	*p = area + len + PG;		/* leave a guard page */
	return area;
}

static int mem_init(struct fz *f)
{
	static const unsigned int ring_entries[NR_RINGS] = { 1, 8, 64, 256 };
	struct timespec *ts;
	char *p;
	int i;

	f->base_len = PG + ATOM_AREA + PG + PG + PG + PG + PG + BUF_AREA + PG +
		      PG + PG + SCRATCH_AREA + PG + PG;
	f->base = mmap(NULL, f->base_len, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (f->base == MAP_FAILED)
		return -1;
	p = f->base + PG;
	f->atoms = carve(&p, ATOM_AREA, PROT_READ | PROT_WRITE);
	f->args = carve(&p, PG, PROT_READ | PROT_WRITE);
	f->ro = carve(&p, PG, PROT_READ | PROT_WRITE);
	f->buf = carve(&p, BUF_AREA, PROT_READ | PROT_WRITE);
	f->res = carve(&p, PG, PROT_READ | PROT_WRITE);
	f->scratch = carve(&p, SCRATCH_AREA, PROT_READ | PROT_WRITE);
	f->guard = p - PG;
	if (!f->atoms || !f->args || !f->ro || !f->buf || !f->res ||
	    !f->scratch)
		return -1;
	memset(f->atoms, POISON, ATOM_AREA);
	/* Read-only page: timespecs for nanosleep, a valid ring header. */
	ts = (struct timespec *)f->ro;
	for (i = 0; i < 8; i++) {
		ts[i].tv_sec = 0;
		ts[i].tv_nsec = i * 10000;
	}
	((struct async_ring *)(f->ro + 2048))->entries = 4;
	if (mprotect(f->ro, PG, PROT_READ))
		return -1;
	for (i = 0; i < NR_RINGS; i++) {
		f->ring[i] = ring_new(ring_entries[i], rn(f, 4) ? 0 : -rn(f, 8));
		if (!f->ring[i])
			return -1;
		f->ring_len[i] = ring_entries[i];
	}
	return 0;
}

static void mem_fini(struct fz *f)
{
	int i;

	munmap(f->base, f->base_len);
	for (i = 0; i < NR_RINGS; i++)
		munmap(f->ring[i], sizeof(struct async_ring) +
		       f->ring_len[i] * sizeof(struct async_completion));
}

static int fds_init(struct fz *f)
{
	if (pipe2(f->nb, O_NONBLOCK) || pipe2(f->sink, O_NONBLOCK) ||
	    pipe(f->blk))
		return -1;
	if (fcntl(f->blk[1], F_SETFL, O_NONBLOCK))
		return -1;
	f->efd = eventfd(0, EFD_NONBLOCK);
	f->junk = dup(f->sink[0]);
	return f->efd < 0 || f->junk < 0 ? -1 : 0;
}

static void fds_fini(struct fz *f)
{
	close(f->nb[0]);
	close(f->nb[1]);
	close(f->sink[0]);
	close(f->sink[1]);
	close(f->blk[0]);
	close(f->blk[1]);
	close(f->efd);
	close(f->junk);
	close(f->scratch_fd);
}

/* Write what fits: a full pipe is fine. */
static void feed(int fd, const void *b, size_t n)
{
	ssize_t ret = write(fd, b, n);

	(void)ret;
}

static void drain_fd(int fd)
{
	char b[4096];

	while (read(fd, b, sizeof(b)) > 0)
		;
}

/* --- chains ------------------------------------------------------------ */

static uint64_t buf_ptr(struct fz *f, size_t len)
{
	return (uintptr_t)f->buf + rn(f, BUF_AREA - len + 1);
}

static uint64_t result_ptr(struct fz *f)
{
	if (f->flap && one_in(f, 16))
		return (uintptr_t)f->flap + FLAP_RES_OFF + 8 * rn(f, PG / 8);
	return (uintptr_t)f->res + 8 * rn(f, PG / 8);
}

static void atom_build(struct fz *f, struct async_atom *a, unsigned int idx,
		       enum kind k, int last_dup)
{
	memset(a, 0, sizeof(*a));
	switch (k) {
	case K_GETPID:
		a->nr = __NR_getpid;
		break;
	case K_GETPPID:
		a->nr = __NR_getppid;
		break;
	case K_GETTID:
		a->nr = __NR_gettid;
		break;
	case K_GETUID:
		a->nr = __NR_getuid;
		break;
	case K_YIELD:
		a->nr = __NR_sched_yield;
		break;
	case K_UNAME:
		a->nr = __NR_uname;
		a->args[0] = buf_ptr(f, 512);
		break;
	case K_CLOCK:
		a->nr = __NR_clock_gettime;
		a->args[0] = one_in(f, 8) ? rn(f, 16) : CLOCK_MONOTONIC;
		a->args[1] = buf_ptr(f, 16);
		break;
	case K_RANDOM:
		a->nr = __NR_getrandom;
		a->args[1] = rn(f, 257);
		a->args[0] = buf_ptr(f, a->args[1]);
		a->args[2] = 1;		/* GRND_NONBLOCK */
		break;
	case K_READ_NB:
	case K_READ_BLOCK:
		a->nr = __NR_read;
		a->args[0] = k == K_READ_NB ? f->nb[0] : f->blk[0];
		a->args[2] = rn(f, k == K_READ_NB ? 4097 : 17);
		a->args[1] = buf_ptr(f, a->args[2]);
		break;
	case K_WRITE:
		a->nr = __NR_write;
		a->args[0] = one_in(f, 2) ? f->nb[1] : f->sink[1];
		a->args[2] = rn(f, 257);
		a->args[1] = one_in(f, 2) ? (uintptr_t)f->ro : buf_ptr(f, 256);
		break;
	case K_DUP2:
		a->nr = __NR_dup2;
		a->args[0] = f->junk;
		a->args[1] = f->scratch_fd;
		break;
	case K_CLOSE:
		a->nr = __NR_close;
		if (last_dup >= 0) {
			a->ref_mask = ASYNC_ARG_REF(0);
			a->args[0] = last_dup;
		} else {
			a->args[0] = f->scratch_fd;
		}
		break;
	case K_LSEEK:
		a->nr = __NR_lseek;
		a->args[0] = f->sink[0];
		a->args[2] = rn(f, 4);
		break;
	case K_NANOSLEEP:
		a->nr = __NR_nanosleep;
		a->args[0] = (uintptr_t)f->ro + sizeof(struct timespec) * rn(f, 8);
		a->args[1] = one_in(f, 2) ? 0 : buf_ptr(f, 16);
		break;
	default:
		break;
	}
	/* Stop conditions: never right after a dup2, which close undoes. */
	if (k != K_DUP2 && one_in(f, 4))
		a->stop = rn(f, ASYNC_STOP_NR);
	else if (k == K_DUP2 && one_in(f, 4))
		a->stop = ASYNC_STOP_NEGATIVE;
	if (one_in(f, 3))
		a->result = result_ptr(f);
	/* A valid reference to an earlier atom, in an argument that may take one. */
	if (idx && ref_safe[k] && one_in(f, 6)) {
		unsigned int arg = rn(f, 6);

		if (ref_safe[k] & (1U << arg)) {
			a->ref_mask |= ASYNC_ARG_REF(arg);
			a->args[arg] = rn(f, idx);
		}
	}
}

static unsigned int chain_len(struct fz *f)
{
	switch (rn(f, 16)) {
	case 0:
		return 1 + rn(f, ASYNC_MAX_ATOMS);
	case 1:
		return ASYNC_MAX_ATOMS;
	default:
		return 1 + rn(f, 6);
	}
}

static enum kind pick_kind(struct fz *f, bool blocking_ok)
{
	static const enum kind common[] = {
		K_GETPID, K_GETPPID, K_GETTID, K_GETUID, K_YIELD, K_UNAME,
		K_CLOCK, K_RANDOM, K_READ_NB, K_READ_NB, K_WRITE, K_WRITE,
		K_DUP2, K_LSEEK, K_NANOSLEEP,
	};

	if (blocking_ok && one_in(f, 5))
		return one_in(f, 3) ? K_NANOSLEEP : K_READ_BLOCK;
	return common[rn(f, ARRAY_SIZE(common))];
}

/* Break one thing in the chain; the kernel must refuse it (or not). */
static void mutate_atoms(struct fz *f, struct async_atom *at, unsigned int n)
{
	unsigned int i = rn(f, n), arg = rn(f, 6);
	struct async_atom *a = &at[i];

	switch (rn(f, 11)) {
	case 0:
		a->reserved = 1 + rn(f, 0xffff);
		mut(f, "atom.reserved");
		break;
	case 1:
		a->ref_mask |= (1U << (6 + rn(f, 10)));
		mut(f, "ref_mask.high");
		break;
	case 2:
		a->ref_mask |= ASYNC_ARG_REF(arg);
		a->args[arg] = i;
		mut(f, "ref.self");
		break;
	case 3:
		a->ref_mask |= ASYNC_ARG_REF(arg);
		a->args[arg] = i + 1 + (one_in(f, 2) ? rn(f, 70) : rnd(f) >> 1);
		mut(f, "ref.forward");
		break;
	case 4:
		a->stop = ASYNC_STOP_NR + rn(f, 0x10000 - ASYNC_STOP_NR);
		mut(f, "stop.range");
		break;
	case 5:
		a->nr = odd_nrs[rn(f, ARRAY_SIZE(odd_nrs))];
		mut(f, "nr.odd");
		break;
	case 6:
		a->nr = denied_nrs[rn(f, ARRAY_SIZE(denied_nrs))];
		mut(f, "nr.denied");
		break;
	case 7:
		a->result = result_ptr(f) + 1 + rn(f, 7);
		mut(f, "result.misaligned");
		break;
	case 8:
		a->result = pick_bad(f) & ~7ULL;
		if (!a->result)
			a->result = 8;
		mut(f, "result.bad");
		break;
	case 9:
		a->result = (uintptr_t)f->ro + 8 * rn(f, PG / 8);
		mut(f, "result.readonly");
		break;
	default:
		/* An argument that is a pointer becomes a bad one. */
		if (a->nr == __NR_uname || a->nr == __NR_nanosleep ||
		    a->nr == __NR_clock_gettime || a->nr == __NR_getrandom ||
		    a->nr == __NR_read || a->nr == __NR_write) {
			unsigned int p = a->nr == __NR_uname ||
					 a->nr == __NR_nanosleep ||
					 a->nr == __NR_getrandom ? 0 : 1;

			if (!(a->ref_mask & ASYNC_ARG_REF(p)))
				a->args[p] = pick_bad(f);
			mut(f, "atom.badptr");
		}
		break;
	}
}

/* --- rings ------------------------------------------------------------- */

struct ring_save {
	struct async_ring *r;
	struct async_ring hdr;
	bool tail;
};

static void ring_restore(struct ring_save *s)
{
	if (!s->r)
		return;
	s->r->entries = s->hdr.entries;
	s->r->reserved = s->hdr.reserved;
	if (s->tail)
		s->r->tail = s->hdr.tail;
	__atomic_store_n(&s->r->head, s->hdr.head, __ATOMIC_RELEASE);
	s->r = NULL;
}

/*
 * The ring address of a call. Persistent rings may get a broken header
 * for the call's duration; the tail only in rings that never see a
 * completion (the leader's).
 */
static uint64_t pick_ring(struct fz *f, struct ring_save *s, int *idx,
			  bool for_exec)
{
	unsigned int k = rn(f, 100);
	struct async_ring *r;

	*idx = -2;
	s->r = NULL;
	if (k < 70) {
		*idx = rn(f, NR_RINGS);
		r = f->ring[*idx];
		if (one_in(f, 6)) {
			s->r = r;
			s->hdr = *r;
			s->tail = f->leader;
			switch (rn(f, f->leader ? 6 : 5)) {
			case 0:
				r->entries = one_in(f, 2) ? rnd(f) : 3 + 2 * rn(f, 100);
				mut(f, "ring.entries");
				break;
			case 1:
				r->entries = 1U << (17 + rn(f, 15));
				mut(f, "ring.entries.big");
				break;
			case 2:
				r->reserved = 1 + rn(f, 0xffff);
				mut(f, "ring.reserved");
				break;
			case 3:
				/*
				 * A head that says unread entries were read
				 * gives their slots away (documented): for a
				 * submission, put it so far beyond the tail
				 * that completions posted meanwhile cannot
				 * make it plausible, and it must be refused.
				 */
				if (for_exec)
					r->head = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) +
						  f->ring_len[*idx] + 1 +
						  rn(f, f->ring_len[*idx]);
				else
					r->head = s->hdr.head + 1 +
						  rn(f, 2 * f->ring_len[*idx]);
				mut(f, "ring.head.ahead");
				break;
			case 4:
				r->head = s->hdr.head - (one_in(f, 2) ? rnd(f) : rn(f, 2048));
				mut(f, "ring.head.behind");
				break;
			default:
				r->tail = rnd(f);
				mut(f, "ring.tail");
				break;
			}
		}
		return (uintptr_t)r;
	}
	if (k < 76) {
		mut(f, "ring.bad");
		return pick_bad(f);
	}
	if (k < 80) {
		mut(f, "ring.misaligned");
		return (uintptr_t)f->ring[rn(f, NR_RINGS)] + 1 + rn(f, 7);
	}
	if (k < 83) {
		mut(f, "ring.readonly");
		*idx = -1;
		return (uintptr_t)f->ro + 2048;
	}
	if (k < 90 && f->flap) {
		mut(f, "ring.flap");
		*idx = NR_RINGS;
		return (uintptr_t)f->flap;
	}
	if (f->leader || !for_exec) {
		/* A new ring somewhere in the scratch area: 64 at most. */
		uint64_t off = 8 * rn(f, (SCRATCH_AREA - 64) / 8);

		r = (struct async_ring *)(f->scratch + off);
		r->entries = one_in(f, 4) ? rn(f, 9) : 1U << rn(f, 6);
		r->reserved = one_in(f, 8);
		r->head = rnd(f);
		r->tail = r->head + (one_in(f, 8) ? rn(f, 100) : 0);
		mut(f, "ring.scratch");
		return (uintptr_t)r;
	}
	*idx = rn(f, NR_RINGS);
	return (uintptr_t)f->ring[*idx];
}

static struct async_ring *ring_of(struct fz *f, int idx)
{
	if (idx == NR_RINGS)
		return (struct async_ring *)f->flap;
	return f->ring[idx];
}

static void pending_add(struct fz *f, uint64_t cookie, unsigned int n,
			int ring)
{
	if (f->nr_pend >= MAX_PENDING) {
		fail(f, "too many pending chains", 0, 0);
		return;
	}
	f->pend[f->nr_pend].cookie = cookie;
	f->pend[f->nr_pend].nr_atoms = n;
	f->pend[f->nr_pend].ring = ring;
	f->nr_pend++;
}

static int pending_find(struct fz *f, uint64_t cookie, int ring)
{
	unsigned int i;

	for (i = 0; i < f->nr_pend; i++)
		if (f->pend[i].cookie == cookie && f->pend[i].ring == ring)
			return i;
	return -1;
}

static bool cqe_check(struct fz *f, const struct async_completion *c,
		      unsigned int nr_atoms)
{
	if (c->index >= nr_atoms)
		fail(f, "completion index beyond the chain", c->index, 0);
	else if (c->flags & ~(ASYNC_COMPLETION_CANCELED |
			      ASYNC_COMPLETION_RESULT_FAULT))
		fail(f, "unknown completion flags", c->flags, 0);
	else if ((c->flags & ASYNC_COMPLETION_CANCELED) && c->status != -ECANCELED)
		fail(f, "canceled completion without -ECANCELED", c->status, 0);
	else
		return true;
	fprintf(stderr,
		"#   completion: cookie=%#llx status=%lld index=%u flags=%#x\n",
		(unsigned long long)c->cookie, (long long)c->status, c->index,
		c->flags);
	return false;
}

/*
 * Take every completion of one ring; check each against what we sent.
 * Chains on the flapping ring are not tracked one by one: only counted.
 */
static void ring_drain(struct fz *f, int idx)
{
	struct async_ring *r = ring_of(f, idx);
	struct async_completion c;
	uint32_t head, tail;
	int p;

	head = r->head;
	tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	snprintf(f->what, sizeof(f->what), "completion on ring %d", idx);
	if ((uint32_t)(tail - head) > r->entries) {
		fail(f, "tail beyond head + entries", tail - head, 0);
		return;
	}
	while (head != tail) {
		c = r->cqes[head & (r->entries - 1)];
		head++;
		__atomic_store_n(&r->head, head, __ATOMIC_RELEASE);
		if (c.flags & ASYNC_COMPLETION_CANCELED)
			f->canceled++;
		if (idx == NR_RINGS) {
			f->flap_received++;
			cqe_check(f, &c, ASYNC_MAX_ATOMS);
			continue;
		}
		f->received++;
		p = pending_find(f, c.cookie, idx);
		if (p < 0) {
			fail(f, "completion for a chain never submitted", c.status, 0);
			continue;
		}
		cqe_check(f, &c, f->pend[p].nr_atoms);
		f->pend[p] = f->pend[--f->nr_pend];
	}
}

static void drain_all(struct fz *f)
{
	int i;

	for (i = 0; i < NR_RINGS; i++)
		ring_drain(f, i);
	/* The flapping ring: by the flapper, and by us once it is done. */
	if (f->flap && load(&flap_stop) == 2)
		ring_drain(f, NR_RINGS);
}

/* --- the three calls ------------------------------------------------------- */

static void do_exec(struct fz *f)
{
	struct async_atom *at = f->call_atoms;
	struct async_args *a = &f->call_args;
	bool blocking = false;
	unsigned int n, built, i, nmut;
	uint64_t uargs, size = sizeof(*a);
	char *atoms_at, *args_at;
	struct ring_save save;
	int last_dup = -1, ring_idx;
	long ret;
	int err;

	snprintf(f->what, sizeof(f->what), "async_exec");
	n = chain_len(f);
	built = n;
	for (i = 0; i < n; i++) {
		enum kind k = pick_kind(f, !f->leader);

		if (k == K_DUP2 && i + 1 < n && one_in(f, 2)) {
			atom_build(f, &at[i], i, k, -1);
			last_dup = i;
			i++;
			k = K_CLOSE;
		}
		atom_build(f, &at[i], i, k, last_dup);
		last_dup = -1;
		blocking |= k == K_READ_BLOCK;
	}
	memset(a, 0, sizeof(*a));
	a->nr_atoms = n;
	a->eventfd = ASYNC_NO_EVENTFD;
	a->cookie = f->iter | ((uint64_t)f->leader << 63) |
		    ((uint64_t)rn(f, 0x100) << 40);
	a->ring = pick_ring(f, &save, &ring_idx, true);

	nmut = one_in(f, 3) ? 0 : 1 + rn(f, 3);
	while (nmut--) {
		switch (rn(f, 14)) {
		case 0:
		case 1:
		case 2:
		case 3:
			mutate_atoms(f, at, n);
			break;
		case 4:
			a->nr_atoms = one_in(f, 2) ? 0 : ASYNC_MAX_ATOMS + 1 +
				      (one_in(f, 2) ? 0 : rn(f, 0xffffff));
			mut(f, "nr_atoms.range");
			break;
		case 5:
			a->flags = one_in(f, 2) ? rnd(f) : 1ULL << rn(f, 64);
			mut(f, "flags");
			break;
		case 6:
			a->reserved = one_in(f, 2) ? rnd(f) : 1;
			mut(f, "args.reserved");
			break;
		case 7:
			switch (rn(f, 5)) {
			case 0:
				a->eventfd = f->efd;
				break;
			case 1:
				a->eventfd = f->nb[0];
				mut(f, "eventfd.notefd");
				break;
			case 2:
				a->eventfd = 1000 + rn(f, 100);
				mut(f, "eventfd.closed");
				break;
			case 3:
				a->eventfd = rnd(f);
				mut(f, "eventfd.random");
				break;
			default:
				a->eventfd = (uint32_t)-2;
				mut(f, "eventfd.-2");
				break;
			}
			break;
		case 8:
			size = odd_sizes[rn(f, ARRAY_SIZE(odd_sizes))];
			mut(f, "size");
			break;
		case 9:
			a->cookie = rnd(f);
			break;
		default:
			/* The common case stays the valid one. */
			break;
		}
	}
	if (a->flags == ASYNC_EXEC_SYNC && blocking) {
		/* A chain that runs through would wait for ever on the pipe. */
		a->flags = 0;
	}

	/* Place the atoms. */
	atoms_at = f->atoms + 64 * rn(f, 8);
	if (one_in(f, 20)) {
		atoms_at += 1 + rn(f, 63);
		mut(f, "atoms.misaligned");
	}
	if (n > ASYNC_MAX_ATOMS)
		built = ASYNC_MAX_ATOMS;
	if (one_in(f, 25)) {
		/* The array runs into the guard page. */
		atoms_at = f->atoms + ATOM_AREA - 64 * (built - rn(f, built));
		mut(f, "atoms.guard");
	}
	if (atoms_at + 64 * built > f->atoms + ATOM_AREA)
		built = (f->atoms + ATOM_AREA - atoms_at) / 64;
	memcpy(atoms_at, at, 64 * built);
	f->call_natoms = built;
	a->atoms = (uintptr_t)atoms_at;
	if (f->flap && one_in(f, 10)) {
		char *fa = f->flap + FLAP_ATOMS_OFF;

		/* Copy while the other thread flaps the mapping: may fault. */
		if (!blocking && n <= 2 * PG / 64) {
			a->atoms = (uintptr_t)fa;
			mut(f, "atoms.flap");
		}
	}
	if (one_in(f, 30)) {
		a->atoms = pick_bad(f);
		mut(f, "atoms.bad");
	}

	/* Place the arguments. */
	args_at = f->args + PG - 128;
	if (one_in(f, 20)) {
		args_at += 1 + rn(f, 7);
		mut(f, "args.misaligned");
	}
	memset(args_at, 0, f->args + PG - args_at);
	if (size == 72 || size == 128 || size == PG) {
		if (one_in(f, 2) && size != PG) {
			size_t room = f->args + PG - args_at;

			/* Within the page: the byte after the struct that is not zero. */
			args_at[sizeof(*a) + rn(f, room - sizeof(*a))] = 1 + rn(f, 255);
			mut(f, "args.tail.nonzero");
		}
	}
	memcpy(args_at, a, sizeof(*a));
	uargs = (uintptr_t)args_at;
	switch (rn(f, 40)) {
	case 0:
		uargs = pick_bad(f);
		mut(f, "args.bad");
		break;
	case 1:
		uargs = (uintptr_t)f->args + PG - 32;
		mut(f, "args.guard");
		break;
	default:
		break;
	}
	f->call_uargs = uargs;
	f->call_size = size;

	ret = syscall(__NR_async_exec, uargs, size);
	err = errno;
	f->calls++;
	ring_restore(&save);
	memset(atoms_at, POISON, 64 * built);

	if (ret < 0) {
		f->refused++;
		if (!errno_ok(exec_errnos, ARRAY_SIZE(exec_errnos), err))
			fail(f, "undocumented errno", ret, err);
	} else if (strstr(f->muts, "ring.head.ahead")) {
		/* Beyond anything completions could explain: see pick_ring(). */
		fail(f, "submission with the head beyond the tail accepted", ret, 0);
	} else if (ret == ASYNC_EXEC_DONE) {
		const struct async_args *out = (void *)(uintptr_t)uargs;

		f->done_sync++;
		if (uargs != (uintptr_t)args_at)
			fail(f, "success with bad args pointer", ret, 0);
		else if (out->index >= n)
			fail(f, "index beyond the chain", out->index, 0);
		else if (out->out_flags & ~(ASYNC_COMPLETION_CANCELED |
					    ASYNC_COMPLETION_RESULT_FAULT))
			fail(f, "unknown out_flags", out->out_flags, 0);
		if (out->out_flags & ASYNC_COMPLETION_RESULT_FAULT)
			f->result_faults++;
	} else if (ret == ASYNC_EXEC_WENT_ASYNC) {
		f->went_async++;
		if (f->leader)
			fail(f, "the thread-group leader went async", ret, 0);
		else if (ring_idx < -1)
			fail(f, "went async on a ring not ours", ret, 0);
		else if (ring_idx >= 0 && ring_idx < NR_RINGS)
			pending_add(f, a->cookie, n, ring_idx);
	} else {
		fail(f, "unknown return value", ret, 0);
	}
}

static void do_wait(struct fz *f)
{
	/* Not in buf: chains running in the background write there. */
	struct timespec *ts = (struct timespec *)f->args;
	struct ring_save save;
	unsigned int min;
	uint64_t ring, uts;
	int idx, err;
	long ret;

	snprintf(f->what, sizeof(f->what), "async_wait");
	ring = pick_ring(f, &save, &idx, false);
	min = rn(f, 3) ? 0 : 1;
	if (one_in(f, 8))
		min = odd_mins[rn(f, ARRAY_SIZE(odd_mins))];
	ts->tv_sec = 0;
	ts->tv_nsec = rn(f, 200000);
	uts = (uintptr_t)ts;
	switch (rn(f, 12)) {
	case 0:
		ts->tv_nsec = 1000000000 + rn(f, 1000);
		mut(f, "ts.nsec");
		break;
	case 1:
		ts->tv_sec = -1 - (long)rn(f, 100);
		mut(f, "ts.sec.negative");
		break;
	case 2:
		ts->tv_nsec = -1;
		mut(f, "ts.nsec.negative");
		break;
	case 3:
		/* Not NULL: that would wait for ever. */
		uts = pick_bad(f) ?: 8;
		mut(f, "ts.bad");
		break;
	case 4:
		uts = (uintptr_t)f->args + PG - 8;
		mut(f, "ts.guard");
		break;
	case 5:
		if (!min) {
			uts = 0;
			mut(f, "ts.null");
		}
		break;
	case 6:
		if (!min) {
			ts->tv_sec = (time_t)1 << 40;
			mut(f, "ts.huge");
		}
		break;
	default:
		break;
	}
	f->wait_flags = one_in(f, 12) ? (one_in(f, 2) ? rnd(f) : 1U << rn(f, 32)) : 0;
	f->wait_ring = ring;
	f->wait_min = min;
	f->wait_ts = uts;
	if (f->verbose)
		fprintf(stderr, "#   wait ring=%#llx min=%u ts=%#llx {%lld,%ld} flags=%#x %s\n",
			(unsigned long long)ring, min, (unsigned long long)uts,
			(long long)ts->tv_sec, ts->tv_nsec, f->wait_flags,
			f->muts);
	ret = syscall(__NR_async_wait, ring, min, uts, f->wait_flags);
	err = errno;
	f->calls++;
	ring_restore(&save);
	if (ret < 0) {
		if (!errno_ok(wait_errnos, ARRAY_SIZE(wait_errnos), err))
			fail(f, "undocumented errno", ret, err);
	} else if (ret < min || ret > ASYNC_MAX_RING_ENTRIES) {
		fail(f, "bad count", ret, 0);
	}
}

static void do_cancel(struct fz *f)
{
	struct ring_save save;
	uint64_t ring, cookie;
	unsigned int flags;
	int idx, err;
	long ret;

	snprintf(f->what, sizeof(f->what), "async_cancel");
	ring = pick_ring(f, &save, &idx, false);
	if (f->nr_pend && rn(f, 2))
		cookie = f->pend[rn(f, f->nr_pend)].cookie;
	else if (one_in(f, 2))
		cookie = f->iter - rn(f, 32);
	else
		cookie = rnd(f);
	flags = one_in(f, 12) ? (one_in(f, 2) ? rnd(f) : 1U << rn(f, 32)) : 0;
	f->wait_ring = ring;
	f->cancel_cookie = cookie;
	f->wait_flags = flags;
	ret = syscall(__NR_async_cancel, ring, cookie, flags);
	err = errno;
	f->calls++;
	ring_restore(&save);
	if (ret < 0) {
		if (!errno_ok(cancel_errnos, ARRAY_SIZE(cancel_errnos), err))
			fail(f, "undocumented errno", ret, err);
	} else if (ret != 0) {
		fail(f, "unknown return value", ret, 0);
	}
}

/* The kernel still answers plain system calls and /proc. */
static void check_alive(struct fz *f)
{
	snprintf(f->what, sizeof(f->what), "liveness check");
	f->muts[0] = 0;
	if (syscall(SYS_getpid) != getpid() || async_status("AsyncPoolThreads") < 0)
		fail(f, "kernel not answering", 0, errno);
}

static void fuzz_one(struct fz *f)
{
	unsigned int op = rn(f, 100);

	f->muts[0] = 0;
	if (f->verbose)
		fprintf(stderr, "# [%s] %lu op %u\n", f->name, f->iter, op);
	if (op < 68)
		do_exec(f);
	else if (op < 80)
		do_wait(f);
	else if (op < 90)
		do_cancel(f);
	else if (!f->leader)
		feed(f->blk[1], f->buf, 1 + rn(f, 64));
	if (f->verbose && f->muts[0])
		fprintf(stderr, "#   muts: %s\n", f->muts);
	if (!(f->iter % 64)) {
		drain_fd(f->sink[0]);
		drain_fd(f->nb[0]);
		feed(f->nb[1], f->buf, 1 + rn(f, 64));
	}
	if (!f->leader && !(f->iter % 8))
		drain_all(f);
	if (!(f->iter % 1024))
		check_alive(f);
}

static int ring_name(void *ring)
{
	struct timespec ts = { 0, 0 };

	return syscall(__NR_async_wait, ring, 0, &ts, 0) < 0 ? -1 : 0;
}

static int fz_init(struct fz *f, const char *name, uint64_t seed,
		   uint64_t stream, unsigned long iters, bool leader,
		   int scratch_fd)
{
	int i;

	memset(f, 0, sizeof(*f));
	f->name = name;
	f->seed = seed;
	f->rng = seed ^ stream;
	f->iters = iters;
	f->leader = leader;
	f->verbose = env_ulong("ASYNC_FUZZ_VERBOSE", 0);
	f->scratch_fd = scratch_fd;
	if (mem_init(f) || fds_init(f))
		return -1;
	/* Name every persistent ring once, so header mutations are temporary. */
	for (i = 0; i < NR_RINGS; i++)
		if (ring_name(f->ring[i]))
			return -1;
	return 0;
}

static void fz_loop(struct fz *f)
{
	for (f->iter = 1; f->iter <= f->iters && (keep_going || !load(&fuzz_failed));
	     f->iter++)
		fuzz_one(f);
}

static void fz_report(struct fz *f, double secs)
{
	fprintf(stderr,
		"# [%s] %lu calls in %.1f s (%.0f/s): %lu done, %lu went async, %lu refused, %lu completions (%lu canceled), %lu result faults\n",
		f->name, f->calls, secs, secs > 0 ? f->calls / secs : 0.0,
		f->done_sync, f->went_async, f->refused, f->received,
		f->canceled, f->result_faults);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t fuzz_seed(void)
{
	return env_ulong("ASYNC_FUZZ_SEED", FUZZ_DEFAULT_SEED);
}

static unsigned long fuzz_iters(void)
{
	unsigned long n = env_ulong("ASYNC_FUZZ_ITERS", FUZZ_DEFAULT_ITERS);

	return n ? n : 1;
}

/* Wait until only @tasks tasks are left and no pool thread. */
static bool settle(int tasks)
{
	int i;

	for (i = 0; i < 300; i++) {
		if (count_dir("/proc/self/task") == tasks &&
		    async_status("AsyncPoolThreads") == 0)
			return true;
		usleep(50 * 1000);
	}
	return false;
}

/*
 * A call that does not return within WATCHDOG_SECS is a failure too: print
 * what every fuzzing thread is doing and end the test.
 */
#define WATCHDOG_SECS	60

static void *watchdog(void *arg)
{
	unsigned long last = 0, calls;
	int still = 0;
	unsigned int i;

	for (;;) {
		sleep(1);
		calls = 0;
		for (i = 0; i < ARRAY_SIZE(watched); i++)
			if (watched[i] && watched[i]->iter <= watched[i]->iters)
				calls += watched[i]->calls + watched[i]->iter;
		if (calls != last) {
			last = calls;
			still = 0;
			continue;
		}
		if (++still < WATCHDOG_SECS)
			continue;
		for (i = 0; i < ARRAY_SIZE(watched); i++)
			if (watched[i] && watched[i]->iter <= watched[i]->iters)
				fail(watched[i], "no progress: call hangs", 0, 0);
		fail_summary();
		_exit(KSFT_FAIL);
	}
	return NULL;
}

static void watchdog_start(struct fz *a, struct fz *b)
{
	pthread_t t;

	watched[0] = a;
	watched[1] = b;
	pthread_create(&t, NULL, watchdog, NULL);
	pthread_detach(t);
}

FIXTURE(fuzz) {
	int fds;
	uint64_t seed;
	unsigned long iters;
};

FIXTURE_SETUP(fuzz)
{
	fz_pg = sysconf(_SC_PAGESIZE);
	if (!async_available())
		SKIP(return, NO_ASYNC);
	self->fds = count_dir("/proc/self/fd");
	self->seed = fuzz_seed();
	self->iters = fuzz_iters();
	keep_going = env_ulong("ASYNC_FUZZ_KEEP_GOING", 0);
	TH_LOG("seed=%#llx iterations=%lu (ASYNC_FUZZ_SEED, ASYNC_FUZZ_ITERS)",
	       (unsigned long long)self->seed, self->iters);
}

FIXTURE_TEARDOWN(fuzz)
{
}

/* Single-threaded, from the thread-group leader: exactly replayable. */
TEST_F_TIMEOUT(fuzz, leader, FUZZ_TIMEOUT)
{
	static struct fz f;
	double t0;

	ASSERT_EQ(0, fz_init(&f, "leader", self->seed, 0, self->iters / 2 + 1,
			     true, SCRATCH_FD_BASE));
	watchdog_start(&f, NULL);
	t0 = now();
	fz_loop(&f);
	fz_report(&f, now() - t0);
	fail_summary();
	EXPECT_EQ(0, load(&fuzz_failed));
	EXPECT_EQ(0, f.went_async);
	EXPECT_EQ(0, async_status("AsyncLostCompletions"));
	mem_fini(&f);
	fds_fini(&f);
	EXPECT_TRUE(settle(2));	/* us and the watchdog */
	EXPECT_EQ(self->fds, count_dir("/proc/self/fd"));
}

/* Replace the flapping region's mapping, again and again. */
static void *flapper(void *arg)
{
	struct fz *f = arg;	/* its own: only flap, junk and seed are set */
	unsigned int n = 0;
	int memfd = f->junk;	/* the memfd, see below */
	uint64_t r = f->seed ^ 0xf1a9;
	void *p;

	while (!load(&flap_stop)) {
		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		switch ((r >> 33) % 4) {
		case 0:
			/* Unmap, and map the same file pages back. */
			munmap(f->flap, FLAP_PAGES * PG);
			p = mmap(f->flap, FLAP_PAGES * PG, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_FIXED_NOREPLACE, memfd, 0);
			if (p != f->flap) {
				/* Somebody took the hole: stop using it. */
				__atomic_store_n(&flap_stop, 3, __ATOMIC_RELEASE);
				return NULL;
			}
			break;
		case 1:
			/* An inaccessible mapping in its place, then the file again. */
			mmap(f->flap, FLAP_PAGES * PG, PROT_NONE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			sched_yield();
			mmap(f->flap, FLAP_PAGES * PG, PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_FIXED, memfd, 0);
			break;
		case 2:
			mprotect(f->flap, FLAP_PAGES * PG, PROT_READ);
			sched_yield();
			mprotect(f->flap, FLAP_PAGES * PG, PROT_READ | PROT_WRITE);
			break;
		default:
			ring_drain(f, NR_RINGS);
			usleep((r >> 40) % 200);
			break;
		}
		n++;
	}
	return (void *)(uintptr_t)n;
}

static struct fz flap_ctx;

static void *worker(void *arg)
{
	struct fz *f = arg;
	unsigned long lost0 = async_status("AsyncLostCompletions");
	long lost;
	double t0 = now();
	int i;

	fz_loop(f);
	fz_report(f, now() - t0);
	/* The flapper stops (the main thread), then every chain must end. */
	while (load(&flap_stop) < 2)
		usleep(1000);
	if (load(&flap_stop) == 3)
		f->flap = NULL;
	snprintf(f->what, sizeof(f->what), "final drain");
	f->muts[0] = 0;
	for (i = 0; i < 2000; i++) {
		feed(f->blk[1], f->buf, 4096);
		drain_fd(f->sink[0]);
		drain_all(f);
		lost = async_status("AsyncLostCompletions") - lost0;
		if (f->received + f->flap_received + flap_ctx.flap_received +
		    lost == f->went_async)
			break;
		usleep(10 * 1000);
	}
	lost = async_status("AsyncLostCompletions") - lost0;
	fprintf(stderr,
		"# [%s] %lu went async: %lu completions, %lu on the flapping ring, %ld lost\n",
		f->name, f->went_async, f->received,
		f->flap_received + flap_ctx.flap_received, lost);
	if (load(&flap_stop) == 3)
		return NULL;	/* the flapping ring was given up: no sum */
	if (f->received + f->flap_received + flap_ctx.flap_received + lost !=
	    f->went_async)
		fail(f, "chains went async but never completed", f->went_async, 0);
	return NULL;
}

/*
 * A non-leader thread fuzzes with blocking atoms (its chains go async),
 * the leader fuzzes at the same time, and a third thread keeps unmapping
 * and mapping back a region with a ring, atoms and result slots.
 */
TEST_F_TIMEOUT(fuzz, threads, FUZZ_TIMEOUT)
{
	static struct fz w, l;
	pthread_t wt, ft;
	unsigned int i;
	void *flaps;
	double t0;
	int memfd;

	ASSERT_EQ(0, fz_init(&w, "worker", self->seed, 1, self->iters / 4 + 1,
			     false, SCRATCH_FD_BASE + 1));
	ASSERT_EQ(0, fz_init(&l, "leader+", self->seed, 2, self->iters / 4 + 1,
			     true, SCRATCH_FD_BASE + 2));
	memfd = memfd_create("async-fuzz", 0);
	ASSERT_LE(0, memfd);
	ASSERT_EQ(0, ftruncate(memfd, FLAP_PAGES * PG));
	w.flap = mmap(NULL, FLAP_PAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
		      memfd, 0);
	ASSERT_NE(MAP_FAILED, w.flap);
	((struct async_ring *)w.flap)->entries = FLAP_RING_ENTRIES;
	memset(w.flap + FLAP_ATOMS_OFF, 0, 2 * PG);
	for (i = 0; i < 2 * PG / 64; i++)
		((struct async_atom *)(w.flap + FLAP_ATOMS_OFF))[i].nr = __NR_getppid;
	ASSERT_EQ(0, ring_name(w.flap));
	l.flap = w.flap;
	close(w.junk);
	w.junk = memfd;		/* dup2 source for the worker, and the flapper's file */

	watchdog_start(&w, &l);
	flap_ctx.name = "flapper";
	flap_ctx.seed = w.seed;
	flap_ctx.flap = w.flap;
	flap_ctx.junk = memfd;
	ASSERT_EQ(0, pthread_create(&ft, NULL, flapper, &flap_ctx));
	ASSERT_EQ(0, pthread_create(&wt, NULL, worker, &w));
	t0 = now();
	fz_loop(&l);
	fz_report(&l, now() - t0);
	/* The leader is done: let the flapper finish once the worker is. */
	while (w.iter <= w.iters && (keep_going || !load(&fuzz_failed)))
		usleep(10 * 1000);
	if (!load(&flap_stop))
		__atomic_store_n(&flap_stop, 1, __ATOMIC_RELEASE);
	pthread_join(ft, &flaps);
	/* Mapped and writable again for the final drain. */
	if (load(&flap_stop) != 3) {
		mmap(w.flap, FLAP_PAGES * PG, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_FIXED, memfd, 0);
		__atomic_store_n(&flap_stop, 2, __ATOMIC_RELEASE);
	}
	pthread_join(wt, NULL);
	TH_LOG("flapper: %lu remaps", (unsigned long)(uintptr_t)flaps);
	fail_summary();
	EXPECT_EQ(0, load(&fuzz_failed));
	EXPECT_EQ(0, l.went_async);
	munmap(w.flap, FLAP_PAGES * PG);
	mem_fini(&w);
	mem_fini(&l);
	fds_fini(&w);
	fds_fini(&l);
	EXPECT_TRUE(settle(2));	/* us and the watchdog */
	EXPECT_EQ(0, async_status("AsyncPoolThreads"));
	EXPECT_EQ(self->fds, count_dir("/proc/self/fd"));
}

TEST_HARNESS_MAIN
