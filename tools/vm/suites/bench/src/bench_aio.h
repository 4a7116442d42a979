/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The two POSIX AIO implementations in one program: aio_read & co. are the asyncaio
 * shim's (libasyncaio is linked first), glibc's own are called by their strong names in
 * libc.a, __aio_read & co.
 */
#ifndef BENCH_AIO_H
#define BENCH_AIO_H

#include <aio.h>
#include <sys/types.h>
#include <time.h>

int __aio_read(struct aiocb *);
int __aio_error(const struct aiocb *);
ssize_t __aio_return(struct aiocb *);
int __aio_suspend(const struct aiocb *const[], int, const struct timespec *);

/* from the shim (userspace/include/asyncaio/asyncaio.h) */
const char *asyncaio_backend(void);
const char *asyncaio_backend_reason(void);

#endif
