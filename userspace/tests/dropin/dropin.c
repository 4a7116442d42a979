/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A plain POSIX AIO program, compiled against glibc's <aio.h> and nothing
 * else. Run as is it uses glibc; run with LD_PRELOAD=libasyncaio.so (or
 * linked with -lasyncaio) it uses the shim. Exit 0 on success.
 * Built twice: with and without -D_FILE_OFFSET_BITS=64 (aio_read64 etc.). */
#define _GNU_SOURCE
#include <aio.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "dropin: FAILED %s (line %d, errno %d)\n", #c, __LINE__, errno); return 1; } } while (0)

int main(void)
{
	char path[] = "/tmp/asyncaio-dropin-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	unlink(path);
	static char wbuf[4][1024], rbuf[4][1024];
	struct aiocb cbs[4], *list[4];
	for (int i = 0; i < 4; i++) {
		memset(wbuf[i], 'a' + i, sizeof wbuf[i]);
		memset(&cbs[i], 0, sizeof cbs[i]);
		cbs[i].aio_fildes = fd;
		cbs[i].aio_buf = wbuf[i];
		cbs[i].aio_nbytes = sizeof wbuf[i];
		cbs[i].aio_offset = i * 1024;
		cbs[i].aio_lio_opcode = LIO_WRITE;
		list[i] = &cbs[i];
	}
	CHECK(lio_listio(LIO_WAIT, list, 4, NULL) == 0);
	for (int i = 0; i < 4; i++)
		CHECK(aio_return(&cbs[i]) == 1024);

	struct aiocb fs;
	memset(&fs, 0, sizeof fs);
	fs.aio_fildes = fd;
	CHECK(aio_fsync(O_DSYNC, &fs) == 0);
	const struct aiocb *w[1] = { &fs };
	while (aio_error(&fs) == EINPROGRESS)
		aio_suspend(w, 1, NULL);
	CHECK(aio_return(&fs) == 0);

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (int i = 0; i < 4; i++) {
		cbs[i].aio_buf = rbuf[i];
		cbs[i].aio_sigevent.sigev_notify = SIGEV_SIGNAL;
		cbs[i].aio_sigevent.sigev_signo = SIGRTMIN;
		cbs[i].aio_sigevent.sigev_value.sival_int = i;
		CHECK(aio_read(&cbs[i]) == 0);
	}
	int seen = 0;
	for (int n = 0; n < 4; n++) {
		siginfo_t si;
		struct timespec ts = { 10, 0 };
		CHECK(sigtimedwait(&set, &si, &ts) == SIGRTMIN);
		CHECK(si.si_code == SI_ASYNCIO);
		seen |= 1 << si.si_value.sival_int;
	}
	CHECK(seen == 15);
	for (int i = 0; i < 4; i++) {
		CHECK(aio_error(&cbs[i]) == 0);
		CHECK(aio_return(&cbs[i]) == 1024);
		CHECK(rbuf[i][0] == 'a' + i && rbuf[i][1023] == 'a' + i);
	}
	CHECK(aio_cancel(fd, NULL) == AIO_ALLDONE);
	errno = 0;
	CHECK(aio_cancel(-1, NULL) == -1 && errno == EBADF);
	close(fd);
	printf("dropin: ok\n");
	return 0;
}
