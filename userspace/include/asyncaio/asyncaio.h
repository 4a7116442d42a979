/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * asyncaio: POSIX AIO for Linux built out of syslet chains, with a
 * thread-pool fallback. The POSIX functions themselves (aio_read, ...) are
 * declared by the system's <aio.h>; this header adds the library's own
 * introspection calls.
 */
#ifndef ASYNCAIO_ASYNCAIO_H
#define ASYNCAIO_ASYNCAIO_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ASYNCAIO_VERSION_MAJOR 0
#define ASYNCAIO_VERSION_MINOR 1

/* "threads" or "kernel"; "none" if ASYNCAIO_BACKEND=kernel was forced on a
 * kernel without the syslet syscalls (requests then fail with ENOSYS). */
const char *asyncaio_backend(void);

/* Why the kernel backend is or is not in use (human readable). */
const char *asyncaio_backend_reason(void);

struct asyncaio_stats {
	uint64_t submitted;      /* requests accepted (POSIX and C++) */
	uint64_t completed;      /* finished, including cancelled */
	uint64_t canceled;       /* completed with ECANCELED */
	uint64_t notcanceled;    /* aio_cancel found them running */
	uint64_t signals;        /* SIGEV_SIGNAL / SIGEV_THREAD_ID sent */
	uint64_t threads;        /* SIGEV_THREAD notifications */
};
void asyncaio_get_stats(struct asyncaio_stats *out);

/* Always 1: lets a program (or a test) see that the shim, not glibc,
 * provides aio_* (e.g. via dlsym(RTLD_DEFAULT, "asyncaio_present")). */
extern const int asyncaio_present;

#ifdef __cplusplus
}
#endif

#endif
