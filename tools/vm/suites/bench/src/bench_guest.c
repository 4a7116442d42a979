// SPDX-License-Identifier: GPL-2.0
/*
 * make bench, in the guest: cases B1-B5 (see tools/bench/README.md). Every case runs
 * its variants interleaved and repeated (bench_common.h) and prints raw samples;
 * tools/bench/report.py turns them into ratios and checks the targets. Nothing is
 * judged here: a variant that cannot run says why (BENCHSKIP), the program fails
 * only if a case cannot run at all.
 *
 * Peers: direct system calls, io_uring through liburing (linked statically), glibc's
 * own POSIX AIO (called as __aio_read & co., the strong names in libc.a, because
 * aio_read itself is the shim's in this program: libasyncaio is linked first), and the
 * asyncaio shim (aio_read & co.).
 *
 * Everything runs in a second thread: chains of the thread-group leader never go
 * async (Documentation/userspace-api/async.rst).
 */
#define _GNU_SOURCE
#include <aio.h>
#include <fcntl.h>
#include <linux/async.h>
#include <linux/futex.h>
#include <liburing.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include "bench_common.h"
#include "bench_aio.h"

/* Switchable address spaces (B5); the copy below when the test kernel has no <linux/vas.h>. */
#if __has_include(<linux/vas.h>)
#include <linux/vas.h>
#else
#include <linux/types.h>
#define VAS_HOME		(-1)
#define VAS_ATTACH_SRC_SELF	(1ULL << 0)
struct vas_attach_args {
	__u64 flags;
	__s32 dst_fd;
	__s32 src_fd;
	__u64 src;
	__u64 dst;
	__u64 len;
	__u32 prot;
	__u32 __reserved;
};
#endif
_Static_assert(sizeof(struct vas_attach_args) == 48, "struct vas_attach_args, version 0");
#define NR_VAS_CREATE 468
#define NR_VAS_ATTACH 469
#define NR_VAS_SWITCH 470


#define NR_ASYNC_EXEC 463
#define NR_ASYNC_WAIT 464
#define RING_ENTRIES 1024
#define BATCH 64
#define B4_OPS 256

static int syslets;			/* sys_async_exec is there */
static const char *no_syslets_why = "";
static int uring_ok;
static struct io_uring uring;
static int smoke;

static struct {
	struct async_ring r;
	struct async_completion c[RING_ENTRIES];
} ring __attribute__((aligned(64))) = { .r.entries = RING_ENTRIES };

static long async_exec(struct async_args *a)
{
	return syscall(NR_ASYNC_EXEC, a, sizeof(*a));
}

static void chain_init(struct async_args *a, struct async_atom *atoms, unsigned int n)
{
	memset(a, 0, sizeof(*a));
	a->atoms = (uintptr_t)atoms;
	a->nr_atoms = n;
	a->eventfd = ASYNC_NO_EVENTFD;
	a->ring = (uintptr_t)&ring;
	a->cookie = 1;
}

/* Run a chain that must complete in the caller; its last atom must return @want. */
static int chain_run_sync(struct async_args *a, long want)
{
	long r = async_exec(a);

	if (r < 0)
		return -errno;
	if (r != ASYNC_EXEC_DONE || a->status != want || a->index != a->nr_atoms - 1)
		return -EPROTO;
	return 0;
}

static long raw_getppid(void)
{
	return syscall(SYS_getppid);
}

/* ---- B1: 64 cheap atoms ------------------------------------------------------------ */
static struct async_atom b1_atoms[BATCH];
static struct async_args b1_args;
static long ppid;

static int b1_chain(long iters)
{
	for (long i = 0; i < iters; i++) {
		int r = chain_run_sync(&b1_args, ppid);

		if (r)
			return r;
	}
	return 0;
}

static int b1_direct(long iters)
{
	for (long i = 0; i < iters; i++)
		for (int j = 0; j < BATCH; j++)
			if (raw_getppid() != ppid)
				return -EPROTO;
	return 0;
}

/* Reap exactly @n completions; each must have result @want (or any >= 0 if want < 0). */
static int uring_reap(unsigned int n, int want)
{
	struct io_uring_cqe *cqe;
	unsigned int got = 0, head;
	int r = io_uring_wait_cqe_nr(&uring, &cqe, n);

	if (r < 0)
		return r;
	io_uring_for_each_cqe(&uring, head, cqe) {
		if ((want >= 0 && cqe->res != want) || cqe->res < 0)
			r = cqe->res < 0 ? cqe->res : -EPROTO;
		if (++got == n)
			break;
	}
	io_uring_cq_advance(&uring, got);
	return got == n ? r : -EPROTO;
}

static int b1_uring(long iters)
{
	for (long i = 0; i < iters; i++) {
		int r;

		for (int j = 0; j < BATCH; j++)
			io_uring_prep_nop(io_uring_get_sqe(&uring));
		r = io_uring_submit_and_wait(&uring, BATCH);
		if (r != BATCH)
			return r < 0 ? r : -EPROTO;
		r = uring_reap(BATCH, 0);
		if (r)
			return r;
	}
	return 0;
}

static void case_b1(int reps, double ms)
{
	struct variant v[] = {
		{ "chain64", b1_chain, !syslets },
		{ "direct64", b1_direct },
		{ "io_uring64_nop", b1_uring, !uring_ok },
	};

	printf("BENCHINFO unit B1 ns per 64 getppid (one chain / 64 calls / 64 NOPs in one submit)\n");
	for (int i = 0; i < BATCH; i++)
		b1_atoms[i].nr = __NR_getppid;
	chain_init(&b1_args, b1_atoms, BATCH);
	if (!syslets)
		bench_skip("B1", "chain64", "%s", no_syslets_why);
	if (!uring_ok)
		bench_skip("B1", "io_uring64_nop", "not measured: io_uring unavailable");
	run_case("B1", "ns", v, 3, reps, ms);
}

/* ---- B2: 64 cached 4 KiB preads ---------------------------------------------------- */
#define B2_SZ 4096
static int b2_fd;
static char (*b2_buf)[B2_SZ];
static struct async_atom b2_atoms[BATCH];
static struct async_args b2_args;
static struct aiocb b2_cb[BATCH];

static int b2_chain(long iters)
{
	for (long i = 0; i < iters; i++) {
		int r = chain_run_sync(&b2_args, B2_SZ);

		if (r)
			return r;
	}
	return 0;
}

static int b2_direct(long iters)
{
	for (long i = 0; i < iters; i++)
		for (int j = 0; j < BATCH; j++)
			if (pread(b2_fd, b2_buf[j], B2_SZ, (off_t)j * B2_SZ) != B2_SZ)
				return errno ? -errno : -EPROTO;
	return 0;
}

static int b2_uring(long iters)
{
	for (long i = 0; i < iters; i++) {
		int r;

		for (int j = 0; j < BATCH; j++)
			io_uring_prep_read(io_uring_get_sqe(&uring), b2_fd, b2_buf[j], B2_SZ,
					   (uint64_t)j * B2_SZ);
		r = io_uring_submit_and_wait(&uring, BATCH);
		if (r != BATCH)
			return r < 0 ? r : -EPROTO;
		r = uring_reap(BATCH, B2_SZ);
		if (r)
			return r;
	}
	return 0;
}

/* 64 aio_read, then aio_suspend on each in turn until it is done, then aio_return. */
#define AIO_BATCH(NAME, READ, ERROR, RETURN, SUSPEND)					\
static int NAME(long iters)								\
{											\
	for (long i = 0; i < iters; i++) {						\
		for (int j = 0; j < BATCH; j++)						\
			if (READ(&b2_cb[j]))						\
				return -errno;						\
		for (int j = 0; j < BATCH; j++) {					\
			const struct aiocb *l[1] = { &b2_cb[j] };			\
			int e;								\
			while ((e = ERROR(&b2_cb[j])) == EINPROGRESS)			\
				if (SUSPEND(l, 1, NULL) && errno != EINTR)		\
					return -errno;					\
			if (e || RETURN(&b2_cb[j]) != B2_SZ)				\
				return e ? -e : -EPROTO;				\
		}									\
	}										\
	return 0;									\
}
AIO_BATCH(b2_glibc_aio, __aio_read, __aio_error, __aio_return, __aio_suspend)
AIO_BATCH(b2_shim_aio, aio_read, aio_error, aio_return, aio_suspend)

/*
 * The shim with ASYNCAIO_KERNEL_SUBMIT=inline (async_exec straight from the calling
 * thread, no submitter thread): the shim reads its settings once per process, so this
 * variant runs in a child forked before this process first used the shim, driven over
 * two pipes (the round trip is included in its time, a fraction of a per mille).
 */
static int inl_cmd[2] = { -1, -1 }, inl_rep[2] = { -1, -1 };
static pid_t inl_pid = -1;

static void *inline_child_loop(void *unused)
{
	long iters;
	int r;

	(void)unused;
	r = b2_shim_aio(1);
	if (!r && strcmp(asyncaio_backend(), "kernel"))
		r = -ENOSYS;
	if (write(inl_rep[1], &r, sizeof(r)) != sizeof(r) || r)
		return NULL;
	while (read(inl_cmd[0], &iters, sizeof(iters)) == sizeof(iters)) {
		r = b2_shim_aio(iters);
		if (write(inl_rep[1], &r, sizeof(r)) != sizeof(r))
			break;
	}
	return NULL;
}

static int inline_child_start(void)
{
	int r = -EPIPE;

	if (pipe(inl_cmd) || pipe(inl_rep))
		return -errno;
	inl_pid = fork();
	if (inl_pid < 0)
		return -errno;
	if (inl_pid == 0) {
		pthread_t t;

		close(inl_cmd[1]);
		close(inl_rep[0]);
		setenv("ASYNCAIO_KERNEL_SUBMIT", "inline", 1);
		/* not the thread-group leader, like the parent's bench thread */
		pthread_create(&t, NULL, inline_child_loop, NULL);
		pthread_join(t, NULL);
		_exit(0);
	}
	close(inl_cmd[0]);
	close(inl_rep[1]);
	if (read(inl_rep[0], &r, sizeof(r)) != sizeof(r))
		r = -EPIPE;
	return r;
}

static void inline_child_stop(void)
{
	if (inl_pid <= 0)
		return;
	close(inl_cmd[1]);
	close(inl_rep[0]);
	waitpid(inl_pid, NULL, 0);
	inl_pid = -1;
}

static int b2_shim_aio_inline(long iters)
{
	int r;

	if (write(inl_cmd[1], &iters, sizeof(iters)) != sizeof(iters) ||
	    read(inl_rep[0], &r, sizeof(r)) != sizeof(r))
		return -EPIPE;
	return r;
}

static void case_b2(int reps, double ms)
{
	struct variant v[] = {
		{ "chain64", b2_chain, !syslets },
		{ "direct64", b2_direct },
		{ "io_uring64", b2_uring, !uring_ok },
		{ "glibc_aio64", b2_glibc_aio },
		{ "shim_aio64", b2_shim_aio },
		{ "shim_aio64_inline", b2_shim_aio_inline },
	};
	char path[] = "/tmp/bench-b2-XXXXXX";
	int r;
	static char block[B2_SZ];

	printf("BENCHINFO unit B2 ns per 64 cached 4 KiB preads of one file (tmpfs)\n");
	b2_fd = mkstemp(path);
	if (b2_fd < 0) {
		bench_skip("B2", "all", "cannot create %s: %s", path, strerror(errno));
		return;
	}
	unlink(path);
	memset(block, 'b', sizeof(block));
	for (int j = 0; j < BATCH; j++)
		if (write(b2_fd, block, sizeof(block)) != sizeof(block))
			return;
	b2_buf = aligned_alloc(4096, (size_t)BATCH * B2_SZ);
	for (int j = 0; j < BATCH; j++) {
		b2_atoms[j] = (struct async_atom){ .nr = __NR_pread64,
			.args = { b2_fd, (uintptr_t)b2_buf[j], B2_SZ, (uint64_t)j * B2_SZ } };
		b2_cb[j] = (struct aiocb){ .aio_fildes = b2_fd, .aio_buf = b2_buf[j],
			.aio_nbytes = B2_SZ, .aio_offset = (off_t)j * B2_SZ,
			.aio_sigevent.sigev_notify = SIGEV_NONE };
	}
	chain_init(&b2_args, b2_atoms, BATCH);
	if (!syslets)
		bench_skip("B2", "chain64", "%s", no_syslets_why);
	if (!uring_ok)
		bench_skip("B2", "io_uring64", "not measured: io_uring unavailable");
	/* Before this process first uses the shim, which then reads its settings. */
	r = syslets ? inline_child_start() : -ENOSYS;
	if (r) {
		v[5].skip = 1;
		bench_skip("B2", "shim_aio64_inline", "not measured: %s",
			   r == -ENOSYS ? "needs the shim's kernel backend" : strerror(-r));
	}
	b2_shim_aio(1);
	printf("BENCHINFO shim_backend %s (%s); shim_aio64 submits through the shim's "
	       "submitter threads (ASYNCAIO_KERNEL_SUBMIT=pool, the default), shim_aio64_inline "
	       "calls async_exec in the caller (=inline)\n", asyncaio_backend(), asyncaio_backend_reason());
	run_case("B2", "ns", v, 6, reps, ms);
	inline_child_stop();
}

/* ---- B3: one atom that does not block vs the same direct call ----------------------- */
static struct async_atom b3_atom_ppid, b3_atom_pread;
static struct async_args b3_args_ppid, b3_args_pread;

static int b3_chain_getppid(long iters)
{
	for (long i = 0; i < iters; i++) {
		int r = chain_run_sync(&b3_args_ppid, ppid);

		if (r)
			return r;
	}
	return 0;
}

static struct async_args b3_args_ppid_sync;

/* With ASYNC_EXEC_SYNC: no pool thread is made sure of (async_pool_fill). */
static int b3_chain_getppid_sync(long iters)
{
	for (long i = 0; i < iters; i++) {
		int r = chain_run_sync(&b3_args_ppid_sync, ppid);

		if (r)
			return r;
	}
	return 0;
}

static int b3_direct_getppid(long iters)
{
	for (long i = 0; i < iters; i++)
		if (raw_getppid() != ppid)
			return -EPROTO;
	return 0;
}

static int b3_chain_pread(long iters)
{
	for (long i = 0; i < iters; i++) {
		int r = chain_run_sync(&b3_args_pread, B2_SZ);

		if (r)
			return r;
	}
	return 0;
}

static int b3_direct_pread(long iters)
{
	for (long i = 0; i < iters; i++)
		if (pread(b2_fd, b2_buf[0], B2_SZ, 0) != B2_SZ)
			return errno ? -errno : -EPROTO;
	return 0;
}

static void case_b3(int reps, double ms)
{
	struct variant v[] = {
		{ "chain1_getppid", b3_chain_getppid, !syslets },
		{ "chain1_getppid_sync", b3_chain_getppid_sync, !syslets },
		{ "direct_getppid", b3_direct_getppid },
		{ "chain1_pread4k", b3_chain_pread, !syslets || b2_fd < 0 },
		{ "direct_pread4k", b3_direct_pread, b2_fd < 0 },
	};

	printf("BENCHINFO unit B3 ns per call (one-atom chain / direct call)\n");
	b3_atom_ppid.nr = __NR_getppid;
	chain_init(&b3_args_ppid, &b3_atom_ppid, 1);
	chain_init(&b3_args_ppid_sync, &b3_atom_ppid, 1);
	b3_args_ppid_sync.flags = ASYNC_EXEC_SYNC;
	b3_atom_pread = (struct async_atom){ .nr = __NR_pread64,
		.args = { b2_fd, (uintptr_t)b2_buf[0], B2_SZ, 0 } };
	chain_init(&b3_args_pread, &b3_atom_pread, 1);
	if (!syslets) {
		bench_skip("B3", "chain1_getppid", "%s", no_syslets_why);
		bench_skip("B3", "chain1_getppid_sync", "%s", no_syslets_why);
		bench_skip("B3", "chain1_pread4k", "%s", no_syslets_why);
	}
	run_case("B3", "ns", v, 5, reps, ms);
}

/* ---- B4: 256 operations that each block about 10 ms --------------------------------- */
static int b4_pipe[B4_OPS][2];
static char b4_buf[B4_OPS];
static sem_t b4_go, b4_submitted, b4_released;
static double b4_release_at, b4_submit_end;
static volatile int b4_quit;
static struct async_atom b4_atoms[B4_OPS];
static struct async_args b4_args[B4_OPS];
static struct aiocb b4_cb[B4_OPS];

/*
 * Writes one byte to every pipe 10 ms after the round started, or once all 256 reads
 * are submitted if that takes longer (under TCG, creating pool threads or pthreads can):
 * every operation is pending at the same time and blocks at least 10 ms.
 */
static void *b4_releaser(void *unused)
{
	(void)unused;
	for (;;) {
		struct timespec ts;
		double at;

		while (sem_wait(&b4_go) && errno == EINTR)
			;
		if (b4_quit)
			return NULL;
		at = b4_release_at;
		ts.tv_sec = (time_t)(at / 1e9);
		ts.tv_nsec = (long)(at - ts.tv_sec * 1e9);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		while (sem_wait(&b4_submitted) && errno == EINTR)
			;
		for (int i = 0; i < B4_OPS; i++)
			if (write(b4_pipe[i][1], "x", 1) != 1)
				abort();
		sem_post(&b4_released);
	}
}

static int b4_went_async;	/* chains of the last async_exec round that went async */

/* A variant has submitted all its reads (and only then waits for them). */
static int b4_marked;

static void b4_mark_submitted(void)
{
	b4_marked = 1;
	b4_submit_end = now_ns();
	sem_post(&b4_submitted);
}

static int b4_async_exec(void)
{
	int pending = 0, got = 0;

	for (int i = 0; i < B4_OPS; i++) {
		long r = async_exec(&b4_args[i]);

		if (r < 0)
			return -errno;
		if (r == ASYNC_EXEC_WENT_ASYNC)
			pending++;
		else if (b4_args[i].status != 1)
			return -EPROTO;
	}
	b4_mark_submitted();
	while (got < pending) {
		uint32_t head = ring.r.head;
		uint32_t tail = __atomic_load_n(&ring.r.tail, __ATOMIC_ACQUIRE);

		if (tail == head) {
			if (syscall(NR_ASYNC_WAIT, &ring, pending - got, NULL, 0) < 0 && errno != EINTR)
				return -errno;
			continue;
		}
		for (; head != tail; head++, got++)
			if (ring.r.cqes[head & (RING_ENTRIES - 1)].status != 1)
				return -EPROTO;
		__atomic_store_n(&ring.r.head, head, __ATOMIC_RELEASE);
	}
	b4_went_async = pending;
	return 0;
}

static int b4_uring(void)
{
	for (int i = 0; i < B4_OPS; i++)
		io_uring_prep_read(io_uring_get_sqe(&uring), b4_pipe[i][0], &b4_buf[i], 1, 0);
	if (io_uring_submit(&uring) != B4_OPS) {
		b4_mark_submitted();
		return -EPROTO;
	}
	b4_mark_submitted();
	return uring_reap(B4_OPS, 1);
}

static int b4_glibc_aio(void)
{
	for (int i = 0; i < B4_OPS; i++)
		if (__aio_read(&b4_cb[i]))
			return -errno;
	b4_mark_submitted();
	for (int i = 0; i < B4_OPS; i++) {
		const struct aiocb *l[1] = { &b4_cb[i] };
		int e;

		while ((e = __aio_error(&b4_cb[i])) == EINPROGRESS)
			if (__aio_suspend(l, 1, NULL) && errno != EINTR)
				return -errno;
		if (e || __aio_return(&b4_cb[i]) != 1)
			return e ? -e : -EPROTO;
	}
	return 0;
}

static void *b4_reader(void *arg)
{
	int i = (int)(intptr_t)arg;

	return (void *)(intptr_t)(read(b4_pipe[i][0], &b4_buf[i], 1) == 1);
}

static int b4_threads(void)
{
	static pthread_t t[B4_OPS];
	pthread_attr_t attr;
	int bad = 0, n = 0, e = 0;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (; n < B4_OPS; n++)
		if ((e = pthread_create(&t[n], &attr, b4_reader, (void *)(intptr_t)n)))
			break;
	pthread_attr_destroy(&attr);
	b4_mark_submitted();
	for (int i = 0; i < n; i++) {
		void *ok;

		pthread_join(t[i], &ok);
		bad += !ok;
	}
	if (e) {
		/* the reads of the threads never made are still to be drained */
		for (int i = n; i < B4_OPS; i++)
			while (read(b4_pipe[i][0], &b4_buf[i], 1) != 1 && errno == EINTR)
				;
		return -e;
	}
	return bad ? -EPROTO : 0;
}

/* One round: returns 0 with the wall and submit times and the tasks created, or -errno. */
static int b4_round(int (*fn)(void), double *wall, double *submit, long *forks)
{
	long f0 = forks_since_boot();
	double t0 = now_ns();
	int r;

	b4_release_at = t0 + 10e6;
	b4_marked = 0;
	sem_post(&b4_go);
	r = fn();
	if (!b4_marked)		/* failed early: let the releaser go on all the same */
		b4_mark_submitted();
	*wall = now_ns() - t0;
	*submit = b4_submit_end - t0;
	while (sem_wait(&b4_released) && errno == EINTR)
		;
	*forks = forks_since_boot() - f0;
	return r;
}

static void case_b4(int reps)
{
	struct {
		const char *name;
		int (*fn)(void);
		int skip;
	} v[] = {
		{ "async_exec", b4_async_exec, !syslets },
		{ "io_uring", b4_uring, !uring_ok },
		{ "glibc_aio", b4_glibc_aio },
		{ "thread_per_op", b4_threads },
	};
	const int nv = sizeof(v) / sizeof(v[0]);
	pthread_t rel;

	printf("BENCHINFO unit B4 wall ms for %d pipe reads released 10 ms after the round started "
	       "(or once all are submitted, if later); submit ms; tasks created (the 'processes' "
	       "line of /proc/stat) per round\n", B4_OPS);
	for (int i = 0; i < B4_OPS; i++) {
		if (pipe(b4_pipe[i])) {
			bench_skip("B4", "all", "pipe: %s", strerror(errno));
			return;
		}
		b4_atoms[i] = (struct async_atom){ .nr = __NR_read,
			.args = { b4_pipe[i][0], (uintptr_t)&b4_buf[i], 1 } };
		chain_init(&b4_args[i], &b4_atoms[i], 1);
		b4_args[i].cookie = i;
		b4_cb[i] = (struct aiocb){ .aio_fildes = b4_pipe[i][0], .aio_buf = &b4_buf[i],
			.aio_nbytes = 1, .aio_sigevent.sigev_notify = SIGEV_NONE };
	}
	if (!syslets)
		bench_skip("B4", "async_exec", "%s", no_syslets_why);
	if (!uring_ok)
		bench_skip("B4", "io_uring", "not measured: io_uring unavailable");
	sem_init(&b4_go, 0, 0);
	sem_init(&b4_released, 0, 0);
	sem_init(&b4_submitted, 0, 0);
	pthread_create(&rel, NULL, b4_releaser, NULL);
	/* Each repetition: every variant does two rounds back to back, in rotating order. */
	for (int rep = 0; rep < reps; rep++) {
		for (int k = 0; k < nv; k++) {
			int i = (rep + k) % nv;

			if (v[i].skip)
				continue;
			for (int round = 1; round <= 2; round++) {
				double wall, submit;
				long forks;
				int r = b4_round(v[i].fn, &wall, &submit, &forks);

				if (r) {
					bench_skip("B4", v[i].name, "failed in repetition %d: %s", rep,
						   strerror(-r));
					v[i].skip = 1;
					break;
				}
				printf("BENCH B4 %s wall_ms_r%d %d %.3f\n", v[i].name, round, rep, wall / 1e6);
				printf("BENCH B4 %s submit_ms_r%d %d %.3f\n", v[i].name, round, rep, submit / 1e6);
				printf("BENCH B4 %s tasks_created_r%d %d %ld\n", v[i].name, round, rep, forks);
				/* the others ran in the submitter, which then waited for the data */
				if (v[i].fn == b4_async_exec)
					printf("BENCH B4 %s went_async_r%d %d %d\n", v[i].name, round,
					       rep, b4_went_async);
			}
			fflush(stdout);
		}
	}
	b4_quit = 1;
	sem_post(&b4_go);
	pthread_join(rel, NULL);
	for (int i = 0; i < B4_OPS; i++) {
		close(b4_pipe[i][0]);
		close(b4_pipe[i][1]);
	}
}

/* ---- B5: round trips ----------------------------------------------------------------- */
/*
 * Each peer pair runs twice: free to use both CPUs, and with both peers on CPU 0 (the
 * switch that vas_switch replaces happens on one CPU; across CPUs, TCG adds the cost of
 * waking a halted vCPU, which the host's own load makes erratic).
 */
static int b5_to[2][2], b5_from[2][2];	/* [0]: any CPU, [1]: CPU 0 */
static _Atomic int b5_turn[2];
static cpu_set_t b5_saved;

static void pin_cpu0(int on)
{
	cpu_set_t one;

	if (on) {
		sched_getaffinity(0, sizeof(b5_saved), &b5_saved);
		CPU_ZERO(&one);
		CPU_SET(0, &one);
		sched_setaffinity(0, sizeof(one), &one);
	} else {
		sched_setaffinity(0, sizeof(b5_saved), &b5_saved);
	}
}

static int b5_pipe(int k, long iters)
{
	char c = 'p';

	for (long i = 0; i < iters; i++)
		if (write(b5_to[k][1], &c, 1) != 1 || read(b5_from[k][0], &c, 1) != 1)
			return errno ? -errno : -EPROTO;
	return 0;
}

static int b5_pipe_pingpong(long iters)
{
	return b5_pipe(0, iters);
}

static int b5_pipe_pingpong_cpu0(long iters)
{
	int r;

	pin_cpu0(1);
	r = b5_pipe(1, iters);
	pin_cpu0(0);
	return r;
}

static long futex(_Atomic int *w, int op, int val)
{
	return syscall(SYS_futex, w, op, val, NULL, NULL, 0);
}

static void *b5_futex_partner(void *arg)
{
	_Atomic int *turn = arg;

	if (turn == &b5_turn[1])
		pin_cpu0(1);
	for (;;) {
		int t;

		while ((t = atomic_load(turn)) == 0)
			futex(turn, FUTEX_WAIT_PRIVATE, 0);
		if (t == 2)
			return NULL;
		atomic_store(turn, 0);
		futex(turn, FUTEX_WAKE_PRIVATE, 1);
	}
}

static int b5_futex(_Atomic int *turn, long iters)
{
	for (long i = 0; i < iters; i++) {
		atomic_store(turn, 1);
		futex(turn, FUTEX_WAKE_PRIVATE, 1);
		while (atomic_load(turn) == 1)
			futex(turn, FUTEX_WAIT_PRIVATE, 1);
	}
	return 0;
}

static int b5_futex_pingpong(long iters)
{
	return b5_futex(&b5_turn[0], iters);
}

static int b5_futex_pingpong_cpu0(long iters)
{
	int r;

	pin_cpu0(1);
	r = b5_futex(&b5_turn[1], iters);
	pin_cpu0(0);
	return r;
}

/*
 * vas_switch round trip: vas_switch(space, 0), then vas_switch(VAS_HOME, 0), on one
 * thread (so on one CPU, like the "cpu0" peers' switch). The space gets, at the same
 * addresses, only (a) the r-xp mapping of this static program that holds
 * b5_vas_thread() and syscall(), and (b) a MAP_SHARED|MAP_ANONYMOUS region: a page
 * for struct b5_vas_job, then the stack of the thread that switches, where glibc also
 * puts that thread's TLS (errno, the stack protector's canary) and rseq area. While
 * switched, the thread touches nothing else: raw syscall() only, no globals, no vDSO
 * (the clock is read at home, before and after the loop). A thread is started for
 * every sample; its start and join are not timed (run_timed, bench_common.h).
 */
#define B5_VAS_STACK (256 * 1024)

struct b5_vas_job {			/* in the shared region */
	long fd;			/* the space */
	long iters;
	unsigned long probe;		/* a page of this program's data: not in the space */
	long page;
	int err;			/* 0, or the errno of the call that failed ... */
	const char *what;		/* ... and which one (a string constant: read at home) */
	long round;			/* the round trip it failed in (-1: the check) */
	double ns;			/* the time of @iters round trips */
};

static struct {
	int fd;				/* the space, or -1 */
	char *region;			/* job page + stack, MAP_SHARED */
	size_t len;
} b5_vas = { .fd = -1, .region = MAP_FAILED };

static void *b5_vas_thread(void *arg)
{
	struct b5_vas_job *job = arg;
	const long fd = job->fd, iters = job->iters;
	unsigned char vec[1];
	struct timespec t0, t1;
	long i, r;

	/*
	 * One checked round trip first: in the space, mincore() finds no page of this
	 * program's data (ENOMEM); at home it does. Proves that the thread switched.
	 */
	job->round = -1;
	if (syscall(NR_VAS_SWITCH, fd, 0L)) {
		job->err = errno;
		job->what = "vas_switch(space)";
		return NULL;
	}
	r = syscall(SYS_mincore, job->probe, job->page, vec);
	if (syscall(NR_VAS_SWITCH, (long)VAS_HOME, 0L))
		goto stuck;
	/* at home: a successful syscall() leaves errno alone */
	if (r != -1 || errno != ENOMEM) {
		job->err = r ? errno : EPROTO;	/* EPROTO: the data was mapped, no switch */
		job->what = "mincore(program data) in the space";
		return NULL;
	}
	if (syscall(SYS_mincore, job->probe, job->page, vec)) {
		job->err = errno;
		job->what = "mincore(program data) at home";
		return NULL;
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);	/* at home: the vDSO is there */
	for (i = 0; i < iters; i++) {
		if (syscall(NR_VAS_SWITCH, fd, 0L)) {
			job->err = errno;
			job->what = "vas_switch(space)";
			job->round = i;
			return NULL;		/* nothing changed: still at home */
		}
		if (syscall(NR_VAS_SWITCH, (long)VAS_HOME, 0L)) {
			job->round = i;
			goto stuck;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	job->ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
	return NULL;

stuck:
	/*
	 * Still in the space: glibc's thread exit would touch memory that is not mapped
	 * there. The kernel takes an exiting thread home first (and then clears its tid
	 * for pthread_join), so leave with a bare exit. errno is in this thread's TLS, in
	 * the shared region (__errno_location() only adds the TLS offset to %fs).
	 */
	job->err = errno;
	job->what = "vas_switch(VAS_HOME)";
	syscall(SYS_exit, 0L);
	return NULL;
}

static int b5_vas_roundtrip(long iters, double *ns)
{
	struct b5_vas_job *job = (struct b5_vas_job *)b5_vas.region;
	long page = sysconf(_SC_PAGESIZE);
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t t;
	int r;

	*job = (struct b5_vas_job){ .fd = b5_vas.fd, .iters = iters, .page = page,
		.probe = (uintptr_t)&ppid & ~(uintptr_t)(page - 1) };
	pthread_attr_init(&attr);
	r = pthread_attr_setstack(&attr, b5_vas.region + page, B5_VAS_STACK);
	/* No signal handler is mapped in the space: the thread runs with all blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (!r)
		r = pthread_create(&t, &attr, b5_vas_thread, job);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (r) {
		bench_skip("B5", "vas_switch_roundtrip", "failed: pthread_create: %s", strerror(r));
		return -r;
	}
	pthread_join(t, NULL);
	if (job->err) {
		bench_skip("B5", "vas_switch_roundtrip", "failed: %s: %s (%s)", job->what,
			   strerror(job->err), job->round < 0 ? "in the checked round trip" :
			   "in a timed round trip");
		return -job->err;
	}
	*ns = job->ns;
	return 0;
}

/* The r-xp mapping of /proc/self/maps that holds @code. */
static int text_mapping(uintptr_t code, uintptr_t *start, uintptr_t *end)
{
	char line[512], perms[8];
	unsigned long s, e;
	FILE *f = fopen("/proc/self/maps", "r");
	int r = -ENOENT;

	if (!f)
		return -errno;
	while (r && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx %7s", &s, &e, perms) == 3 && !strcmp(perms, "r-xp") &&
		    s <= code && code < e) {
			*start = s;
			*end = e;
			r = 0;
		}
	fclose(f);
	return r;
}

static int vas_attach_self(int fd, uintptr_t addr, size_t len, unsigned int prot)
{
	struct vas_attach_args a = { .flags = VAS_ATTACH_SRC_SELF, .dst_fd = fd, .src_fd = -1,
		.src = addr, .dst = addr, .len = len, .prot = prot };

	return syscall(NR_VAS_ATTACH, &a, sizeof(a)) ? -errno : 0;
}

/* The space for b5_vas_roundtrip(): 0, or 1 after a BENCHSKIP saying why not. */
static int b5_vas_setup(void)
{
	const char *var = "vas_switch_roundtrip";
	long page = sysconf(_SC_PAGESIZE);
	uintptr_t ts = 0, te = 0;
	struct utsname u;
	int major = 0, minor = 0, r;

	/* 468-470 are other calls (file_getattr & co.) from Linux 6.17 on. */
	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2 ||
	    major > 6 || (major == 6 && minor >= 17)) {
		bench_skip("B5", var, "not measured: no vas_switch in this kernel (%s: 468-470 are other calls)",
			   u.release);
		return 1;
	}
	errno = 0;
	b5_vas.fd = syscall(NR_VAS_CREATE, 0L);
	if (b5_vas.fd < 0) {
		r = errno;
		b5_vas.fd = -1;
		if (r == ENOSYS)
			bench_skip("B5", var, "not measured: vas_switch is not in this kernel (vas_create: ENOSYS)");
		else
			bench_skip("B5", var, "failed: vas_create: %s", strerror(r));
		return 1;
	}
	r = text_mapping((uintptr_t)b5_vas_thread, &ts, &te);
	if (r) {
		bench_skip("B5", var, "failed: no r-xp mapping in /proc/self/maps holds the code: %s",
			   strerror(-r));
		return 1;
	}
	r = vas_attach_self(b5_vas.fd, ts, te - ts, PROT_READ | PROT_EXEC);
	if (r) {
		bench_skip("B5", var, "failed: vas_attach(text %#lx-%#lx): %s", (unsigned long)ts,
			   (unsigned long)te, strerror(-r));
		return 1;
	}
	b5_vas.len = page + B5_VAS_STACK;
	b5_vas.region = mmap(NULL, b5_vas.len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (b5_vas.region == MAP_FAILED) {
		bench_skip("B5", var, "failed: mmap: %s", strerror(errno));
		return 1;
	}
	r = vas_attach_self(b5_vas.fd, (uintptr_t)b5_vas.region, b5_vas.len, PROT_READ | PROT_WRITE);
	if (r) {
		bench_skip("B5", var, "failed: vas_attach(stack): %s", strerror(-r));
		return 1;
	}
	printf("BENCHINFO vas B5 vas_switch_roundtrip: a space with the text (%lu KiB) and one shared "
	       "region (%lu KiB: stack, TLS, rseq of the switching thread), nothing else\n",
	       (unsigned long)(te - ts) / 1024, (unsigned long)b5_vas.len / 1024);
	return 0;
}

static void b5_vas_teardown(void)
{
	if (b5_vas.fd >= 0)
		close(b5_vas.fd);
	if (b5_vas.region != MAP_FAILED)
		munmap(b5_vas.region, b5_vas.len);
	b5_vas.fd = -1;
	b5_vas.region = MAP_FAILED;
}

static void case_b5(int reps, double ms)
{
	struct variant v[] = {
		{ "pipe_pingpong_processes", b5_pipe_pingpong },
		{ "futex_pingpong_threads", b5_futex_pingpong },
		{ "pipe_pingpong_processes_cpu0", b5_pipe_pingpong_cpu0 },
		{ "futex_pingpong_threads_cpu0", b5_futex_pingpong_cpu0 },
		{ "getppid", b3_direct_getppid },
		{ .name = "vas_switch_roundtrip", .run_timed = b5_vas_roundtrip },
	};
	pthread_t partner[2];
	pid_t child[2];

	printf("BENCHINFO unit B5 ns per round trip (getppid: per call; vas_switch_roundtrip: "
	       "vas_switch into a space and vas_switch(VAS_HOME) back)\n");
	v[5].skip = b5_vas_setup();
	for (int k = 0; k < 2; k++) {
		if (pipe(b5_to[k]) || pipe(b5_from[k])) {
			bench_skip("B5", "all", "pipe: %s", strerror(errno));
			return;
		}
	}
	for (int k = 0; k < 2; k++) {
		child[k] = fork();
		if (child[k] == 0) {
			char c;

			if (k)
				pin_cpu0(1);
			for (int j = 0; j < 2; j++) {
				close(b5_to[j][1]);
				close(b5_from[j][0]);
			}
			while (read(b5_to[k][0], &c, 1) == 1 && write(b5_from[k][1], &c, 1) == 1)
				;
			_exit(0);
		}
	}
	for (int k = 0; k < 2; k++)
		pthread_create(&partner[k], NULL, b5_futex_partner, &b5_turn[k]);
	run_case("B5", "ns", v, 6, reps, ms);
	b5_vas_teardown();
	for (int k = 0; k < 2; k++) {
		atomic_store(&b5_turn[k], 2);
		futex(&b5_turn[k], FUTEX_WAKE_PRIVATE, 1);
		pthread_join(partner[k], NULL);
		close(b5_to[k][1]);
		waitpid(child[k], NULL, 0);
		close(b5_to[k][0]);
		close(b5_from[k][0]);
		close(b5_from[k][1]);
	}
}

static void *bench_main(void *unused)
{
	int reps = smoke ? 3 : 41, b4reps = smoke ? 1 : 21;
	double ms = smoke ? 2 : 50;

	(void)unused;
	case_b1(reps, ms);
	case_b2(reps, ms);
	case_b3(reps, ms);
	case_b4(b4reps);
	case_b5(reps, ms);
	return NULL;
}

int main(void)
{
	pthread_t t;
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	smoke = bench_smoke();
	bench_info_kernel();
	ppid = raw_getppid();
	syslets = have_syslets(&no_syslets_why);
	printf("BENCHINFO syslets %s\n", syslets ? "yes" : no_syslets_why);
	r = io_uring_queue_init(512, &uring, 0);
	uring_ok = r == 0;
	printf("BENCHINFO io_uring %s\n", uring_ok ? "yes" : strerror(-r));
	/* SIGPIPE would only hide a broken peer. */
	signal(SIGPIPE, SIG_IGN);
	pthread_create(&t, NULL, bench_main, NULL);
	pthread_join(t, NULL);
	printf("BENCHINFO done bench_guest\n");
	return 0;
}
