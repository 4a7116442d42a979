/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* aio_copy SRC DST: copy a file with POSIX AIO, up to 16 blocks in flight,
 * reads and writes overlapping; finishes with aio_fsync(O_SYNC).
 * Plain POSIX: builds against glibc's <aio.h>; runs on the shim when linked
 * with -lasyncaio or LD_PRELOADed. */
#define _GNU_SOURCE
#include <aio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "asyncaio/asyncaio.h"

#define NSLOT 16
#define BLK (64 * 1024)

struct slot {
	struct aiocb cb;
	char *buf;
	int writing;
	int busy;
};

static int wait_done(struct aiocb *cb)
{
	const struct aiocb *l[1] = { cb };
	while (aio_error(cb) == EINPROGRESS)
		if (aio_suspend(l, 1, NULL) < 0 && errno != EINTR)
			return -1;
	return aio_error(cb);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s SRC DST\n", argv[0]);
		return 2;
	}
	int in = open(argv[1], O_RDONLY);
	int out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (in < 0 || out < 0) {
		perror("open");
		return 1;
	}
	struct stat st;
	fstat(in, &st);
	static struct slot s[NSLOT];
	off_t next = 0;
	long copied = 0;
	for (;;) {
		int active = 0;
		for (int i = 0; i < NSLOT; i++) {
			if (!s[i].busy && next < st.st_size) {
				if (!s[i].buf)
					s[i].buf = malloc(BLK);
				memset(&s[i].cb, 0, sizeof s[i].cb);
				s[i].cb.aio_fildes = in;
				s[i].cb.aio_buf = s[i].buf;
				s[i].cb.aio_nbytes = BLK;
				s[i].cb.aio_offset = next;
				next += BLK;
				if (aio_read(&s[i].cb) < 0) {
					perror("aio_read");
					return 1;
				}
				s[i].busy = 1;
				s[i].writing = 0;
			}
			if (s[i].busy)
				active++;
		}
		if (!active)
			break;
		for (int i = 0; i < NSLOT; i++) {
			if (!s[i].busy || aio_error(&s[i].cb) == EINPROGRESS)
				continue;
			int err = wait_done(&s[i].cb);
			ssize_t n = aio_return(&s[i].cb);
			if (err) {
				fprintf(stderr, "%s: %s\n", s[i].writing ? "write" : "read", strerror(err));
				return 1;
			}
			if (!s[i].writing && n > 0) {
				s[i].cb.aio_fildes = out;
				s[i].cb.aio_nbytes = (size_t)n;
				if (aio_write(&s[i].cb) < 0) {
					perror("aio_write");
					return 1;
				}
				s[i].writing = 1;
			} else {
				if (s[i].writing)
					copied += n;
				s[i].busy = 0;
			}
		}
		const struct aiocb *l[NSLOT];
		int k = 0;
		for (int i = 0; i < NSLOT; i++)
			if (s[i].busy)
				l[k++] = &s[i].cb;
		if (k)
			aio_suspend(l, k, NULL);
	}
	struct aiocb f;
	memset(&f, 0, sizeof f);
	f.aio_fildes = out;
	if (aio_fsync(O_SYNC, &f) < 0 || wait_done(&f) != 0) {
		perror("aio_fsync");
		return 1;
	}
	aio_return(&f);
	printf("copied %ld bytes via the %s backend\n", copied, asyncaio_backend());
	return 0;
}
