// SPDX-License-Identifier: GPL-2.0
/*
 * make bench, on the host: case B6, the shim's thread-pool backend against glibc's
 * POSIX AIO, both with their default settings, in one static program (aio_read & co.
 * are the shim's, linked first; glibc's are called by their strong names in libc.a,
 * __aio_read & co.). 1,000 cached 4 KiB reads in flight, spread over 100 descriptors
 * of one file or all on one descriptor; all submitted, then waited for in order with
 * aio_suspend. Sample = ns per batch of 1,000 requests; variants interleaved in rotating order.
 * Usage: bench_host [FILE-DIR]   (default $TMPDIR or /tmp)
 */
#define _GNU_SOURCE
#include <aio.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include "bench_common.h"
#include "bench_aio.h"


#define NREQ 1000
#define SZ 4096
#define NFD 100

static int fds[NFD];
static char (*buf)[SZ];
static struct aiocb cb[NREQ];
static int nfd_now;

static void setup(int nfd)
{
	for (int i = 0; i < NREQ; i++)
		cb[i] = (struct aiocb){ .aio_fildes = fds[i % nfd], .aio_buf = buf[i],
			.aio_nbytes = SZ, .aio_offset = (off_t)i * SZ,
			.aio_sigevent.sigev_notify = SIGEV_NONE };
	nfd_now = nfd;
}

#define AIO_ALL(NAME, READ, ERROR, RETURN, SUSPEND)					\
static int NAME(void)									\
{											\
	for (int j = 0; j < NREQ; j++)							\
		if (READ(&cb[j]))							\
			return -errno;							\
	for (int j = 0; j < NREQ; j++) {						\
		const struct aiocb *l[1] = { &cb[j] };					\
		int e;									\
		while ((e = ERROR(&cb[j])) == EINPROGRESS)				\
			if (SUSPEND(l, 1, NULL) && errno != EINTR)			\
				return -errno;						\
		if (e || RETURN(&cb[j]) != SZ)						\
			return e ? -e : -EPROTO;					\
	}										\
	return 0;									\
}
AIO_ALL(all_glibc, __aio_read, __aio_error, __aio_return, __aio_suspend)
AIO_ALL(all_shim, aio_read, aio_error, aio_return, aio_suspend)

#define VARIANT(NAME, FN, NFDS)								\
static int NAME(long iters)								\
{											\
	if (nfd_now != NFDS)								\
		setup(NFDS);								\
	for (long i = 0; i < iters; i++) {						\
		int r = FN();								\
		if (r)									\
			return r;							\
	}										\
	return 0;									\
}
VARIANT(shim_100fd, all_shim, NFD)
VARIANT(glibc_100fd, all_glibc, NFD)
VARIANT(shim_1fd, all_shim, 1)
VARIANT(glibc_1fd, all_glibc, 1)

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	int smoke = bench_smoke(), fd;
	char path[4096];
	struct variant v[] = {
		{ "shim_100fd", shim_100fd },
		{ "glibc_100fd", glibc_100fd },
		{ "shim_1fd", shim_1fd },
		{ "glibc_1fd", glibc_1fd },
	};
	/* BENCH_TAG=x names the variants shim_100fd_x & co. (a second run with other settings) */
	const char *tag = getenv("BENCH_TAG");
	static char names[4][64];

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 0; tag && *tag && i < 4; i++) {
		snprintf(names[i], sizeof(names[i]), "%s_%s", v[i].name, tag);
		v[i].name = names[i];
	}
	/* The host kernel has no syslets; say so rather than rely on the probe. */
	setenv("ASYNCAIO_BACKEND", "threads", 1);
	bench_info_kernel();
	snprintf(path, sizeof(path), "%s/bench-b6-XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0) {
		fprintf(stderr, "bench_host: %s: %s\n", path, strerror(errno));
		return 1;
	}
	buf = aligned_alloc(4096, (size_t)NREQ * SZ);
	memset(buf, 'h', (size_t)NREQ * SZ);
	if (write(fd, buf, (size_t)NREQ * SZ) != (ssize_t)NREQ * SZ) {
		fprintf(stderr, "bench_host: writing %s failed\n", path);
		return 1;
	}
	for (int i = 0; i < NFD; i++)
		if ((fds[i] = open(path, O_RDONLY)) < 0) {
			fprintf(stderr, "bench_host: open: %s\n", strerror(errno));
			return 1;
		}
	unlink(path);
	close(fd);
	/* Warm the page cache and start both libraries' workers. */
	setup(NFD);
	if (all_shim() || all_glibc()) {
		fprintf(stderr, "bench_host: warm-up failed\n");
		return 1;
	}
	printf("BENCHINFO shim_backend %s (%s)\n", asyncaio_backend(), asyncaio_backend_reason());
	printf("BENCHINFO unit B6 ns per batch of %d cached 4 KiB reads in flight\n", NREQ);
	if (run_case("B6", "ns", v, 4, smoke ? 3 : 31, smoke ? 5 : 150))
		return 1;
	printf("BENCHINFO done bench_host\n");
	return 0;
}
