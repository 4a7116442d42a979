// SPDX-License-Identifier: GPL-2.0
/*
 * make run: what the booted kernel offers, shown step by step. Each capability of the
 * series adds its demonstration here as it lands; a kernel without it says so.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#if __has_include(<linux/async.h>)
#include <linux/async.h>
#define HAVE_ASYNC_H 1
#endif

#define NR_ASYNC_EXEC	463
#define NR_ASYNC_WAIT	464

#ifdef HAVE_ASYNC_H
#define RING_ENTRIES 8

static struct {
	struct async_ring r;
	struct async_completion cqes[RING_ENTRIES];
} ring = { .r.entries = RING_ENTRIES };

static long async_exec(struct async_args *a)
{
	return syscall(NR_ASYNC_EXEC, a, sizeof(*a));
}

static void demo_sync_chain(void)
{
	struct async_atom atoms[3] = {
		{ .nr = __NR_getpid },
		{ .nr = __NR_getppid },
		{ .nr = __NR_gettid },
	};
	struct async_args a = {
		.atoms = (unsigned long)atoms, .nr_atoms = 3,
		.ring = (unsigned long)&ring, .eventfd = ASYNC_NO_EVENTFD, .cookie = 1,
	};
	long r = async_exec(&a);

	printf("demo: chain getpid, getppid, gettid: async_exec returned %ld (%s), last atom %u returned %lld (my tid %ld)\n",
	       r, r == ASYNC_EXEC_DONE ? "done synchronously" : r == 0 ? "went async" : strerror(errno),
	       a.index, (long long)a.status, syscall(__NR_gettid));
}

/*
 * Runs on a second thread: a chain submitted by the thread-group leader runs
 * synchronously (its TID is the process id, which is never exchanged).
 */
static void *demo_blocking_chain(void *unused)
{
	static char buf[128];
	long long nread = 0;
	int p[2];
	/* read() from an empty pipe blocks; its result is the length write() uses. */
	struct async_atom atoms[2] = {
		{ .nr = __NR_read, .stop = ASYNC_STOP_NONPOSITIVE,
		  .result = (unsigned long)&nread },
		{ .nr = __NR_write, .ref_mask = ASYNC_ARG_REF(2) },
	};
	struct async_args a = {
		.atoms = (unsigned long)atoms, .nr_atoms = 2,
		.ring = (unsigned long)&ring, .eventfd = ASYNC_NO_EVENTFD, .cookie = 0xc0ffee,
	};
	const char msg[] = "demo:   (this line was read from a pipe and written by the chain)\n";
	long tid = syscall(__NR_gettid), r;
	struct async_completion *c;

	(void)unused;
	if (pipe(p))
		return NULL;
	atoms[0].args[0] = p[0];
	atoms[0].args[1] = (unsigned long)buf;
	atoms[0].args[2] = sizeof(buf);
	atoms[1].args[0] = 1;
	atoms[1].args[1] = (unsigned long)buf;
	atoms[1].args[2] = 0;	/* index of the atom whose result is the length */

	printf("demo: chain read(empty pipe) -> write(stdout, result of atom 0 bytes), cookie 0xc0ffee\n");
	fflush(stdout);
	r = async_exec(&a);
	if (r < 0) {
		printf("demo: async_exec failed: %s\n", strerror(errno));
		return NULL;
	}
	printf("demo: async_exec returned %ld (%s); caller goes on, tid %ld -> %ld\n", r,
	       r == ASYNC_EXEC_WENT_ASYNC ? "went async" : "done synchronously", tid,
	       syscall(__NR_gettid));
	printf("demo: caller writes the pipe now\n");
	fflush(stdout);
	if (write(p[1], msg, sizeof(msg) - 1) < 0)
		return NULL;
	if (r == ASYNC_EXEC_WENT_ASYNC) {
		if (syscall(NR_ASYNC_WAIT, &ring, 1, NULL, 0) < 0) {
			printf("demo: async_wait failed: %s\n", strerror(errno));
			return NULL;
		}
		c = &ring.r.cqes[ring.r.head & (RING_ENTRIES - 1)];
		printf("demo: completion: cookie %#llx, last atom %u, status %lld; read() had returned %lld\n",
		       (unsigned long long)c->cookie, c->index, (long long)c->status, nread);
		__atomic_store_n(&ring.r.head, ring.r.head + 1, __ATOMIC_RELEASE);
	}
	close(p[0]);
	close(p[1]);
	return NULL;
}
#endif

int main(void)
{
	struct utsname u;
	long r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	uname(&u);
	printf("demo: running on %s %s %s\n", u.sysname, u.release, u.machine);
	errno = 0;
	r = syscall(NR_ASYNC_EXEC, NULL, 0);
	if (r < 0 && errno == ENOSYS) {
		printf("demo: async_exec: not in this kernel (ENOSYS)\n");
		return 0;
	}
#ifdef HAVE_ASYNC_H
	pthread_t t;

	demo_sync_chain();
	pthread_create(&t, NULL, demo_blocking_chain, NULL);
	pthread_join(t, NULL);
#else
	printf("demo: async_exec exists (%s) but this demo was built without <linux/async.h>\n",
	       strerror(errno));
#endif
	return 0;
}
