/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* aio_pipe_demo: POSIX AIO through the shim, shown step by step (make run).
 *
 * An aio_read on an empty pipe would block a plain read() forever here, as
 * nobody else writes the pipe: the caller itself writes it, after aio_read
 * has returned. On a kernel with syslets the shim runs the read as a syslet
 * chain (kernel backend): it blocks in the kernel, the submitting thread gets
 * its user context back at once, and the completion arrives on the ring when
 * the data is there. Elsewhere the thread pool does the same job.
 *
 * Plain POSIX plus the shim's introspection calls; exit 0 only if every step
 * behaved as POSIX says and the right bytes arrived. */
#define _GNU_SOURCE
#include <aio.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "asyncaio/asyncaio.h"

static double ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1e3 + (t.tv_nsec - t0->tv_nsec) / 1e6;
}

#define FAIL(...) do { printf("aio demo: FAILED: " __VA_ARGS__); putchar('\n'); return 1; } while (0)

int main(void)
{
	static const char msg[] = "hello from the caller, through a pipe";
	static char buf[128];
	const struct aiocb *list[1];
	struct asyncaio_stats st;
	struct timespec t0, limit = { .tv_sec = 10 };
	struct aiocb cb;
	int p[2], r, err;
	ssize_t n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("aio demo: POSIX AIO through libasyncaio, backend '%s' (%s)\n", asyncaio_backend(),
	       asyncaio_backend_reason());
	if (pipe(p))
		FAIL("pipe: %s", strerror(errno));

	memset(&cb, 0, sizeof(cb));
	cb.aio_fildes = p[0];
	cb.aio_buf = buf;
	cb.aio_nbytes = sizeof(buf);
	cb.aio_sigevent.sigev_notify = SIGEV_NONE;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = aio_read(&cb);
	if (r != 0)
		FAIL("aio_read: %s", strerror(errno));
	err = aio_error(&cb);
	printf("aio demo: aio_read(empty pipe, %zu bytes) returned %d after %.2f ms; aio_error = %s\n",
	       sizeof(buf), r, ms_since(&t0), err == EINPROGRESS ? "EINPROGRESS" : strerror(err));
	if (err != EINPROGRESS)
		FAIL("the read on an empty pipe is not in progress (aio_error %d)", err);
	printf("aio demo: the read is in flight and the caller goes on\n");

	printf("aio demo: caller writes \"%s\" (%zu bytes) into the pipe\n", msg, strlen(msg));
	if (write(p[1], msg, strlen(msg)) != (ssize_t)strlen(msg))
		FAIL("write: %s", strerror(errno));

	list[0] = &cb;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((err = aio_error(&cb)) == EINPROGRESS)
		if (aio_suspend(list, 1, &limit) != 0 && errno != EINTR)
			FAIL("aio_suspend: %s", strerror(errno));
	n = aio_return(&cb);
	printf("aio demo: completion arrived after %.2f ms: aio_error = %d, aio_return = %zd\n",
	       ms_since(&t0), err, n);
	if (err != 0 || n != (ssize_t)strlen(msg))
		FAIL("expected aio_error 0 and aio_return %zu", strlen(msg));
	printf("aio demo: the buffer holds \"%.*s\"\n", (int)n, buf);
	if (memcmp(buf, msg, n) != 0)
		FAIL("the buffer does not hold what the caller wrote");

	/* The result is visible (aio_error/aio_return) a moment before the shim
	 * has counted the completion: give its completion thread up to 1 s. */
	asyncaio_get_stats(&st);
	for (int i = 0; i < 1000 && st.completed < st.submitted; i++) {
		struct timespec ms = { .tv_nsec = 1000 * 1000 };

		nanosleep(&ms, NULL);
		asyncaio_get_stats(&st);
	}
	printf("aio demo: the shim served it: submitted=%llu completed=%llu\n",
	       (unsigned long long)st.submitted, (unsigned long long)st.completed);
	if (st.submitted != 1 || st.completed != 1)
		FAIL("the shim's counters do not show exactly this one request");
	close(p[0]);
	close(p[1]);
	printf("aio demo: done\n");
	return 0;
}
