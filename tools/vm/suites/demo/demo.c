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
#include <fcntl.h>
#include <linux/memfd.h>
#include <signal.h>
#include <sys/mman.h>

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

/*
 * make run: switchable address spaces (vas_create, vas_attach, vas_switch).
 *
 * Two new spaces, A and B, each get a different memfd at the same virtual
 * address, plus the program text and one MAP_SHARED region that holds the
 * job description and a thread's stack (and with it the thread's TLS and
 * rseq area). That thread switches into A, reads the string at the address,
 * switches into B, reads it again and switches home. While it is switched
 * it touches only the text, its stack and the job: no globals, no stdio, no
 * malloc(), no vDSO, only raw syscall(). Needs a static build (syscall()
 * must lie in the program text).
 */

#if __has_include(<linux/vas.h>)
#include <linux/vas.h>
#define HAVE_VAS_H 1
#endif

#define NR_VAS_CREATE	468
#define NR_VAS_ATTACH	469
#define NR_VAS_SWITCH	470

#ifdef HAVE_VAS_H
#define VAS_DEMO_STACK	(256 * 1024)	/* the thread's stack, TLS and rseq area */
#define VAS_DEMO_STRLEN	32

/* Lives in the shared region: the only data the switched thread touches. */
struct vas_demo_job {
	int space[2];			/* vas fds of A and B */
	unsigned long addr;		/* where each space has its memfd */
	long tid;
	int failed;			/* 0, or 1 + the index of the switch that failed */
	int err;			/* its errno */
	char got[2][VAS_DEMO_STRLEN];
};

static void *vas_demo_thread(void *arg)
{
	struct vas_demo_job *job = arg;
	const volatile char *src;
	volatile char *dst;
	int i, j;

	job->tid = syscall(SYS_gettid);
	for (i = 0; i < 2; i++) {
		if (syscall(NR_VAS_SWITCH, (long)job->space[i], 0L)) {
			job->failed = i + 1;
			job->err = errno;	/* errno is in the TLS, on this stack */
			break;
		}
		/* volatile: a plain loop could become a call to memcpy() through the GOT */
		src = (const volatile char *)job->addr;
		dst = job->got[i];
		for (j = 0; j < VAS_DEMO_STRLEN - 1 && src[j]; j++)
			dst[j] = src[j];
		dst[j] = 0;
	}
	if (syscall(NR_VAS_SWITCH, (long)VAS_HOME, 0L) && !job->failed) {
		job->failed = 3;
		job->err = errno;
	}
	return NULL;
}

static int vas_demo_attach(int space, __u64 flags, int src_fd, unsigned long src,
			   unsigned long dst, unsigned long len, unsigned int prot,
			   const char *what)
{
	struct vas_attach_args a = {
		.flags = flags, .dst_fd = space, .src_fd = src_fd,
		.src = src, .dst = dst, .len = len, .prot = prot,
	};

	if (syscall(NR_VAS_ATTACH, &a, sizeof(a)) == 0)
		return 0;
	printf("demo: vas: vas_attach(%s at %#lx, %lu bytes) failed: %s\n",
	       what, dst, len, strerror(errno));
	return -1;
}

/* The r-xp mapping of /proc/self/maps that holds the thread's code. */
static int vas_demo_text(unsigned long *start, unsigned long *end)
{
	unsigned long code = (unsigned long)vas_demo_thread, s, e;
	char line[512], perms[8];
	FILE *f = fopen("/proc/self/maps", "r");
	int found = -1;

	if (!f)
		return -1;
	while (found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %7s", &s, &e, perms) == 3 &&
		    !strcmp(perms, "r-xp") && s <= code && code < e) {
			*start = s;
			*end = e;
			found = 0;
		}
	}
	fclose(f);
	return found;
}

/* "anon_inode:[vas], vas-threads 0, vas-total-vm 75" for the fd of a space. */
static void vas_demo_fdinfo(int fd, char *buf, size_t size)
{
	char path[64], link[64] = "?", line[128], threads[32] = "?", vm[32] = "?";
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 1] = 0;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	/* "vas-threads:\t<n>" and "vas-total-vm:\t<pages>" */
	while (f && fgets(line, sizeof(line), f)) {
		char *v = strchr(line, '\t');

		if (!v)
			continue;
		*v++ = 0;
		v[strcspn(v, "\n")] = 0;
		if (!strcmp(line, "vas-threads:"))
			snprintf(threads, sizeof(threads), "%s", v);
		else if (!strcmp(line, "vas-total-vm:"))
			snprintf(vm, sizeof(vm), "%s", v);
	}
	if (f)
		fclose(f);
	snprintf(buf, size, "%s, vas-threads %s, vas-total-vm %s pages", link, threads, vm);
}

void demo_vas(void)
{
	static const char *const names[2] = { "space A", "space B" };
	long page = sysconf(_SC_PAGESIZE);
	unsigned long region_len = page + VAS_DEMO_STACK, text_start, text_end;
	int space[2] = { -1, -1 }, mfd[2] = { -1, -1 }, i, r;
	char *region = MAP_FAILED, *at = MAP_FAILED, info[2][160];
	struct vas_demo_job *job;
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t t;

	errno = 0;
	space[0] = syscall(NR_VAS_CREATE, 0);
	if (space[0] < 0) {
		if (errno == ENOSYS)
			printf("demo: vas: vas_create: not in this kernel (ENOSYS)\n");
		else
			printf("demo: vas: vas_create failed: %s\n", strerror(errno));
		return;
	}
	space[1] = syscall(NR_VAS_CREATE, 0);
	if (space[1] < 0) {
		printf("demo: vas: vas_create failed: %s\n", strerror(errno));
		goto out;
	}
	if (vas_demo_text(&text_start, &text_end)) {
		printf("demo: vas: no r-xp mapping holds the demo's code in /proc/self/maps\n");
		goto out;
	}
	/* The job, then the thread's stack; pthread puts its TLS at the top. */
	region = mmap(NULL, region_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	/* An address that is free in both spaces: reserved, and inaccessible, at home. */
	at = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED || at == MAP_FAILED) {
		printf("demo: vas: mmap failed: %s\n", strerror(errno));
		goto out;
	}
	job = (struct vas_demo_job *)region;
	job->addr = (unsigned long)at;
	for (i = 0; i < 2; i++) {
		char *home;

		job->space[i] = space[i];
		mfd[i] = syscall(SYS_memfd_create, names[i], MFD_CLOEXEC);
		if (mfd[i] < 0 || ftruncate(mfd[i], page)) {
			printf("demo: vas: memfd: %s\n", strerror(errno));
			goto out;
		}
		/* Written from home, through the memfd's own mapping here. */
		home = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, mfd[i], 0);
		if (home == MAP_FAILED) {
			printf("demo: vas: mmap of the memfd failed: %s\n", strerror(errno));
			goto out;
		}
		snprintf(home, page, "%s", names[i]);
		munmap(home, page);
		if (vas_demo_attach(space[i], VAS_ATTACH_SRC_FD, mfd[i], 0, job->addr, page,
				    PROT_READ, "memfd") ||
		    vas_demo_attach(space[i], VAS_ATTACH_SRC_SELF, -1, text_start, text_start,
				    text_end - text_start, PROT_READ | PROT_EXEC, "text") ||
		    vas_demo_attach(space[i], VAS_ATTACH_SRC_SELF, -1, (unsigned long)region,
				    (unsigned long)region, region_len, PROT_READ | PROT_WRITE,
				    "stack"))
			goto out;
		vas_demo_fdinfo(space[i], info[i], sizeof(info[i]));
	}
	printf("demo: vas: space A is fd %d (%s)\n", space[0], info[0]);
	printf("demo: vas: space B is fd %d (%s)\n", space[1], info[1]);

	pthread_attr_init(&attr);
	pthread_attr_setstack(&attr, region + page, VAS_DEMO_STACK);
	/* No signal handler is mapped in the spaces: the thread starts with all blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&t, &attr, vas_demo_thread, job);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (r) {
		printf("demo: vas: pthread_create failed: %s\n", strerror(r));
		goto out;
	}
	pthread_join(t, NULL);
	if (job->failed)
		printf("demo: vas: thread %ld: vas_switch(%s) failed: %s\n", job->tid,
		       job->failed == 3 ? "VAS_HOME" : names[job->failed - 1],
		       strerror(job->err));
	else
		printf("demo: vas: thread %ld read '%s' at %#lx in space A and '%s' at the same address in space B\n",
		       job->tid, job->got[0], job->addr, job->got[1]);
out:
	for (i = 0; i < 2; i++) {
		if (mfd[i] >= 0)
			close(mfd[i]);
		if (space[i] >= 0)
			close(space[i]);
	}
	if (at != MAP_FAILED)
		munmap(at, page);
	if (region != MAP_FAILED)
		munmap(region, region_len);
}
#else
void demo_vas(void)
{
	long fd;

	errno = 0;
	fd = syscall(NR_VAS_CREATE, 0);
	if (fd < 0 && errno == ENOSYS) {
		printf("demo: vas: vas_create: not in this kernel (ENOSYS)\n");
		return;
	}
	if (fd >= 0)
		close(fd);
	printf("demo: vas: vas_create exists but this demo was built without <linux/vas.h>\n");
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
	} else {
#ifdef HAVE_ASYNC_H
		pthread_t t;

		demo_sync_chain();
		pthread_create(&t, NULL, demo_blocking_chain, NULL);
		pthread_join(t, NULL);
#else
		printf("demo: async_exec exists (%s) but this demo was built without <linux/async.h>\n",
		       strerror(errno));
#endif
	}
	demo_vas();
	return 0;
}
