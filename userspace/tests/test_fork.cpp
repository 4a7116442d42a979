// SPDX-License-Identifier: LGPL-2.1-or-later
// fork with requests in flight. Documented behaviour (POSIX: outstanding
// asynchronous I/O is not inherited by the child):
//  - in the child, aio_error() on a request submitted by the parent fails
//    with EINVAL and the request's buffer is never written by the child;
//    aio_cancel(fd, NULL) reports AIO_ALLDONE;
//  - the child can submit new requests at once (fresh worker threads);
//  - the parent's requests complete normally in the parent.
#include <sys/wait.h>

#include <catch2/catch.hpp>

#include "helpers.hpp"

using namespace t;

TEST_CASE("fork with requests in flight", "[conformance][fork]") {
#if defined(__SANITIZE_THREAD__)
  ASYNCAIO_SKIP("ThreadSanitizer cannot start threads after fork() of a multithreaded process");
#endif
  Pipe p;
  char c = 0;
  aiocb cb = make_cb(p.r, &c, 1, 0);
  REQUIRE(aio_read(&cb) == 0);
  sleep_ms(20);
  TempFile f(100);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int code = 0;
    errno = 0;
    if (aio_error(&cb) != -1 || errno != EINVAL) code |= 1;
    if (aio_cancel(p.r, nullptr) != AIO_ALLDONE) code |= 2;
    char b[10];
    aiocb mine = make_cb(f.fd, b, 10, 0);
    if (aio_read(&mine) != 0) code |= 4;
    if (wait_cb(&mine, 5000) != 0 || aio_return(&mine) != 10) code |= 8;
    if (static_cast<unsigned char>(b[3]) != pattern(3)) code |= 16;
    if (c != 0) code |= 32;
    _exit(code);
  }
  int st = 0;
  REQUIRE(waitpid(pid, &st, 0) == pid);
  REQUIRE(WIFEXITED(st));
  CHECK(WEXITSTATUS(st) == 0);
  CHECK(aio_error(&cb) == EINPROGRESS);
  REQUIRE(write(p.w, "P", 1) == 1);
  CHECK(wait_cb(&cb) == 0);
  CHECK(aio_return(&cb) == 1);
  CHECK(c == 'P');
}
