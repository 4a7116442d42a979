// SPDX-License-Identifier: LGPL-2.1-or-later
// aio_read / aio_write / *64 aliases, from POSIX.1-2017 aio_read(), aio_write().
#include <limits.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>

#include "helpers.hpp"

using namespace t;

TEST_CASE("aio_read reads nbytes at aio_offset", "[conformance][aio_read]") {
  TempFile f(8192);
  char buf[1000];
  aiocb cb = make_cb(f.fd, buf, sizeof buf, 3000);
  REQUIRE(aio_read(&cb) == 0);
  REQUIRE(wait_cb(&cb) == 0);
  REQUIRE(aio_return(&cb) == 1000);
  for (int i = 0; i < 1000; i++) REQUIRE(static_cast<unsigned char>(buf[i]) == pattern(3000 + i));
}

TEST_CASE("aio_read near and past EOF: short count, then 0", "[conformance][aio_read]") {
  TempFile f(100);
  char buf[64];
  aiocb cb = make_cb(f.fd, buf, sizeof buf, 90);
  REQUIRE(aio_read(&cb) == 0);
  REQUIRE(wait_cb(&cb) == 0);
  CHECK(aio_return(&cb) == 10);
  cb = make_cb(f.fd, buf, sizeof buf, 500);
  REQUIRE(aio_read(&cb) == 0);
  REQUIRE(wait_cb(&cb) == 0);
  CHECK(aio_return(&cb) == 0);
}

// POSIX: EBADF may be detected synchronously (aio_read returns -1) or
// asynchronously (the request completes with it). The shim, like glibc,
// reports it asynchronously: no fcntl() per request.
static void check_async_ebadf(aiocb* cb, int (*submit)(aiocb*)) {
  errno = 0;
  REQUIRE(submit(cb) == 0);
  CHECK(wait_cb(cb) == EBADF);
  CHECK(aio_return(cb) == -1);
  errno = 0;
  CHECK(aio_error(cb) == -1);  // returned: the aiocb is unknown again
  CHECK(errno == EINVAL);
}

TEST_CASE("aio_read EBADF: invalid fd, closed fd, write-only fd", "[conformance][aio_read]") {
  char buf[8];
  aiocb cb = make_cb(-1, buf, sizeof buf, 0);
  check_async_ebadf(&cb, aio_read);
  int fd = dup(0);
  close(fd);
  cb = make_cb(fd, buf, sizeof buf, 0);
  check_async_ebadf(&cb, aio_read);
  TempFile f(10, O_WRONLY);
  cb = make_cb(f.fd, buf, sizeof buf, 0);
  check_async_ebadf(&cb, aio_read);
}

TEST_CASE("aio_read EINVAL: offset, reqprio, nbytes, sigevent", "[conformance][aio_read]") {
  TempFile f(10);
  char buf[8];
  aiocb cb = make_cb(f.fd, buf, sizeof buf, -1);
  errno = 0;
  CHECK(aio_read(&cb) == -1);
  CHECK(errno == EINVAL);

  cb = make_cb(f.fd, buf, sizeof buf, 0);
  cb.aio_reqprio = AIO_PRIO_DELTA_MAX + 1;
  errno = 0;
  CHECK(aio_read(&cb) == -1);
  CHECK(errno == EINVAL);
  cb.aio_reqprio = -1;
  errno = 0;
  CHECK(aio_read(&cb) == -1);
  CHECK(errno == EINVAL);

  cb = make_cb(f.fd, buf, static_cast<size_t>(SSIZE_MAX) + 1, 0);
  errno = 0;
  CHECK(aio_read(&cb) == -1);
  CHECK(errno == EINVAL);

  cb = make_cb(f.fd, buf, sizeof buf, 0);
  cb.aio_sigevent.sigev_notify = 12345;
  errno = 0;
  CHECK(aio_read(&cb) == -1);
  CHECK(errno == EINVAL);
  cb.aio_sigevent.sigev_notify = SIGEV_SIGNAL;
  cb.aio_sigevent.sigev_signo = 1000;
  errno = 0;
  CHECK(aio_read(&cb) == -1);
  CHECK(errno == EINVAL);
  cb.aio_sigevent.sigev_notify = SIGEV_THREAD;
  cb.aio_sigevent.sigev_notify_function = nullptr;
  errno = 0;
  CHECK(aio_read(&cb) == -1);
  CHECK(errno == EINVAL);
}

TEST_CASE("aio_read with a zeroed aiocb (SIGEV_SIGNAL, signal 0) is accepted", "[conformance][aio_read]") {
  TempFile f(10);
  char buf[4];
  aiocb cb;
  memset(&cb, 0, sizeof cb);
  cb.aio_fildes = f.fd;
  cb.aio_buf = buf;
  cb.aio_nbytes = 4;
  REQUIRE(cb.aio_sigevent.sigev_notify == SIGEV_SIGNAL);
  REQUIRE(aio_read(&cb) == 0);
  REQUIRE(wait_cb(&cb) == 0);
  CHECK(aio_return(&cb) == 4);
}

TEST_CASE("aio_read on a directory completes with EISDIR", "[conformance][aio_read]") {
  int d = open("/tmp", O_RDONLY | O_DIRECTORY);
  REQUIRE(d >= 0);
  char buf[8];
  aiocb cb = make_cb(d, buf, sizeof buf, 0);
  REQUIRE(aio_read(&cb) == 0);
  CHECK(wait_cb(&cb) == EISDIR);
  CHECK(aio_return(&cb) == -1);
  close(d);
}

TEST_CASE("aio_read on a pipe ignores aio_offset", "[conformance][aio_read]") {
  Pipe p;
  char buf[5] = {};
  aiocb cb = make_cb(p.r, buf, 5, 123456);
  REQUIRE(aio_read(&cb) == 0);
  sleep_ms(20);
  CHECK(aio_error(&cb) == EINPROGRESS);
  REQUIRE(write(p.w, "hello", 5) == 5);
  REQUIRE(wait_cb(&cb) == 0);
  CHECK(aio_return(&cb) == 5);
  CHECK(memcmp(buf, "hello", 5) == 0);
}

TEST_CASE("resubmitting an aiocb that is still in flight fails with EINVAL", "[conformance][aio_read]") {
  Pipe p;
  char buf[1];
  aiocb cb = make_cb(p.r, buf, 1, 0);
  REQUIRE(aio_read(&cb) == 0);
  errno = 0;
  CHECK(aio_read(&cb) == -1);
  CHECK(errno == EINVAL);
  REQUIRE(write(p.w, "z", 1) == 1);
  REQUIRE(wait_cb(&cb) == 0);
  CHECK(aio_return(&cb) == 1);
  // Reuse after completion is fine.
  REQUIRE(write(p.w, "y", 1) == 1);
  REQUIRE(aio_read(&cb) == 0);
  REQUIRE(wait_cb(&cb) == 0);
  CHECK(aio_return(&cb) == 1);
  CHECK(buf[0] == 'y');
}

TEST_CASE("no per-fd serialisation: a write overtakes a blocked read on the same fd", "[conformance][aio_read]") {
  int sv[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  char rbuf[4], wbuf[4] = {'p', 'i', 'n', 'g'};
  aiocb rd = make_cb(sv[0], rbuf, 4, 0);
  aiocb wr = make_cb(sv[0], wbuf, 4, 0);
  REQUIRE(aio_read(&rd) == 0);  // blocks: nothing to read on sv[0]
  sleep_ms(20);
  REQUIRE(aio_write(&wr) == 0);  // glibc would queue this behind the read
  CHECK(wait_cb(&wr, 3000) == 0);
  CHECK(aio_return(&wr) == 4);
  CHECK(aio_error(&rd) == EINPROGRESS);
  char got[4];
  REQUIRE(read(sv[1], got, 4) == 4);
  REQUIRE(write(sv[1], "pong", 4) == 4);
  REQUIRE(wait_cb(&rd) == 0);
  CHECK(aio_return(&rd) == 4);
  CHECK(memcmp(rbuf, "pong", 4) == 0);
  close(sv[0]);
  close(sv[1]);
}

TEST_CASE("aio_write writes at aio_offset", "[conformance][aio_write]") {
  TempFile f(100);
  const char msg[] = "ABCDEFGH";
  aiocb cb = make_cb(f.fd, const_cast<char*>(msg), 8, 40);
  REQUIRE(aio_write(&cb) == 0);
  REQUIRE(wait_cb(&cb) == 0);
  REQUIRE(aio_return(&cb) == 8);
  char back[8];
  REQUIRE(pread(f.fd, back, 8, 40) == 8);
  CHECK(memcmp(back, msg, 8) == 0);
  unsigned char before;
  REQUIRE(pread(f.fd, &before, 1, 39) == 1);
  CHECK(before == pattern(39));
}

TEST_CASE("aio_write with O_APPEND appends regardless of aio_offset", "[conformance][aio_write]") {
  TempFile f(100, O_WRONLY | O_APPEND);
  const char msg[] = "tail";
  aiocb cb = make_cb(f.fd, const_cast<char*>(msg), 4, 0);
  REQUIRE(aio_write(&cb) == 0);
  REQUIRE(wait_cb(&cb) == 0);
  REQUIRE(aio_return(&cb) == 4);
  int r = open(f.path.c_str(), O_RDONLY);
  char back[4];
  REQUIRE(pread(r, back, 4, 100) == 4);
  CHECK(memcmp(back, "tail", 4) == 0);
  unsigned char first;
  REQUIRE(pread(r, &first, 1, 0) == 1);
  CHECK(first == pattern(0));
  close(r);
}

TEST_CASE("aio_write EBADF: read-only fd and invalid fd", "[conformance][aio_write]") {
  TempFile f(10, O_RDONLY);
  char buf[4] = {};
  aiocb cb = make_cb(f.fd, buf, 4, 0);
  check_async_ebadf(&cb, aio_write);
  cb.aio_fildes = -5;
  check_async_ebadf(&cb, aio_write);
  // The file is untouched.
  unsigned char first = 0;
  REQUIRE(pread(f.fd, &first, 1, 0) == 1);
  CHECK(first == pattern(0));
}

TEST_CASE("aio_write EINVAL: negative offset", "[conformance][aio_write]") {
  TempFile f(10);
  char buf[4] = {};
  aiocb cb = make_cb(f.fd, buf, 4, -100);
  errno = 0;
  CHECK(aio_write(&cb) == -1);
  CHECK(errno == EINVAL);
}

TEST_CASE("aio_write to a pipe without reader completes with EPIPE", "[conformance][aio_write]") {
  signal(SIGPIPE, SIG_IGN);
  Pipe p;
  close(p.r);
  p.r = -1;
  char buf[4] = {};
  aiocb cb = make_cb(p.w, buf, 4, 0);
  REQUIRE(aio_write(&cb) == 0);
  CHECK(wait_cb(&cb) == EPIPE);
  CHECK(aio_return(&cb) == -1);
}

TEST_CASE("the 64-bit aliases (aio_read64 and friends) are the same functions", "[conformance][aio64]") {
  TempFile f(4096);
  char buf[16];
  aiocb64 cb;
  memset(&cb, 0, sizeof cb);
  cb.aio_fildes = f.fd;
  cb.aio_buf = buf;
  cb.aio_nbytes = 16;
  cb.aio_offset = 100;
  cb.aio_sigevent.sigev_notify = SIGEV_NONE;
  REQUIRE(aio_read64(&cb) == 0);
  const aiocb64* l[1] = {&cb};
  while (aio_error64(&cb) == EINPROGRESS) aio_suspend64(l, 1, nullptr);
  CHECK(aio_error64(&cb) == 0);
  CHECK(aio_return64(&cb) == 16);
  CHECK(static_cast<unsigned char>(buf[0]) == pattern(100));
  REQUIRE(aio_write64(&cb) == 0);
  while (aio_error64(&cb) == EINPROGRESS) aio_suspend64(l, 1, nullptr);
  CHECK(aio_return64(&cb) == 16);
  REQUIRE(aio_fsync64(O_SYNC, &cb) == 0);
  while (aio_error64(&cb) == EINPROGRESS) aio_suspend64(l, 1, nullptr);
  CHECK(aio_return64(&cb) == 0);
  CHECK(aio_cancel64(f.fd, &cb) == AIO_ALLDONE);
  aiocb64* list[1] = {&cb};
  cb.aio_lio_opcode = LIO_READ;
  CHECK(lio_listio64(LIO_WAIT, list, 1, nullptr) == 0);
  CHECK(aio_return64(&cb) == 16);
}

TEST_CASE("requests go through the shim", "[conformance][shim]") {
  asyncaio_stats before, after;
  asyncaio_get_stats(&before);
  TempFile f(10);
  char buf[4];
  aiocb cb = make_cb(f.fd, buf, 4, 0);
  REQUIRE(aio_read(&cb) == 0);
  REQUIRE(wait_cb(&cb) == 0);
  aio_return(&cb);
  asyncaio_get_stats(&after);
  CHECK(after.submitted == before.submitted + 1);
  CHECK(asyncaio_present == 1);
  CHECK((backend() == "threads" || backend() == "kernel"));
}
