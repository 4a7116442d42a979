// SPDX-License-Identifier: LGPL-2.1-or-later
// aio_fsync, aio_error, aio_return, aio_suspend (POSIX.1-2017).
#include <pthread.h>

#include <atomic>
#include <catch2/catch.hpp>

#include "helpers.hpp"

using namespace t;

TEST_CASE("aio_fsync O_SYNC and O_DSYNC complete with 0", "[conformance][aio_fsync]") {
  TempFile f(100);
  for (int op : {O_SYNC, O_DSYNC}) {
    aiocb cb = make_cb(f.fd, nullptr, 0, 0);
    REQUIRE(aio_fsync(op, &cb) == 0);
    REQUIRE(wait_cb(&cb) == 0);
    CHECK(aio_return(&cb) == 0);
  }
}

TEST_CASE("aio_fsync EINVAL: op is neither O_SYNC nor O_DSYNC", "[conformance][aio_fsync]") {
  TempFile f(10);
  aiocb cb = make_cb(f.fd, nullptr, 0, 0);
  for (int op : {0, O_RDWR, O_APPEND, 12345}) {
    errno = 0;
    CHECK(aio_fsync(op, &cb) == -1);
    CHECK(errno == EINVAL);
  }
}

TEST_CASE("aio_fsync EBADF: invalid fd", "[conformance][aio_fsync]") {
  // Reported by the request (POSIX allows either; see test_read_write.cpp).
  aiocb cb = make_cb(-1, nullptr, 0, 0);
  errno = 0;
  REQUIRE(aio_fsync(O_SYNC, &cb) == 0);
  CHECK(wait_cb(&cb) == EBADF);
  CHECK(aio_return(&cb) == -1);
  aiocb cb2 = make_cb(-1, nullptr, 0, 0);
  REQUIRE(aio_fsync(O_DSYNC, &cb2) == 0);
  CHECK(wait_cb(&cb2) == EBADF);
  CHECK(aio_return(&cb2) == -1);
}

TEST_CASE("aio_fsync on a pipe completes with EINVAL (no synchronized I/O)", "[conformance][aio_fsync]") {
  Pipe p;
  aiocb cb = make_cb(p.w, nullptr, 0, 0);
  REQUIRE(aio_fsync(O_DSYNC, &cb) == 0);
  CHECK(wait_cb(&cb) == EINVAL);
  CHECK(aio_return(&cb) == -1);
}

TEST_CASE("aio_fsync waits for writes queued before it on the same fd", "[conformance][aio_fsync]") {
  Pipe p;
  // Fill the pipe so the next write blocks.
  fcntl(p.w, F_SETFL, O_NONBLOCK);
  char junk[4096] = {};
  while (write(p.w, junk, sizeof junk) > 0) {
  }
  fcntl(p.w, F_SETFL, 0);
  char data[100] = {};
  aiocb wr = make_cb(p.w, data, sizeof data, 0);
  REQUIRE(aio_write(&wr) == 0);
  sleep_ms(30);
  REQUIRE(aio_error(&wr) == EINPROGRESS);
  aiocb fs = make_cb(p.w, nullptr, 0, 0);
  REQUIRE(aio_fsync(O_SYNC, &fs) == 0);
  sleep_ms(50);
  CHECK(aio_error(&fs) == EINPROGRESS);  // barrier: the write has not finished
  // Drain the pipe: the write finishes, then the fsync (EINVAL on a pipe).
  fcntl(p.r, F_SETFL, O_NONBLOCK);
  char sink[65536];
  for (int i = 0; i < 100 && aio_error(&wr) == EINPROGRESS; i++) {
    while (read(p.r, sink, sizeof sink) > 0) {
    }
    sleep_ms(5);
  }
  CHECK(wait_cb(&wr) == 0);
  CHECK(aio_return(&wr) == 100);
  CHECK(wait_cb(&fs) == EINVAL);
  CHECK(aio_return(&fs) == -1);
}

TEST_CASE("aio_error: EINPROGRESS, 0, the errno - EINVAL for unknown aiocb", "[conformance][aio_error]") {
  aiocb never = make_cb(0, nullptr, 0, 0);
  errno = 0;
  CHECK(aio_error(&never) == -1);
  CHECK(errno == EINVAL);

  Pipe p;
  char c;
  aiocb cb = make_cb(p.r, &c, 1, 0);
  REQUIRE(aio_read(&cb) == 0);
  CHECK(aio_error(&cb) == EINPROGRESS);
  REQUIRE(write(p.w, "k", 1) == 1);
  CHECK(wait_cb(&cb) == 0);
  CHECK(aio_error(&cb) == 0);  // repeatable until aio_return
  CHECK(aio_return(&cb) == 1);
}

TEST_CASE("aio_return: EINVAL while in progress and after it was retrieved", "[conformance][aio_return]") {
  Pipe p;
  char c;
  aiocb cb = make_cb(p.r, &c, 1, 0);
  REQUIRE(aio_read(&cb) == 0);
  errno = 0;
  CHECK(aio_return(&cb) == -1);
  CHECK(errno == EINVAL);
  REQUIRE(write(p.w, "k", 1) == 1);
  REQUIRE(wait_cb(&cb) == 0);
  CHECK(aio_return(&cb) == 1);
  errno = 0;
  CHECK(aio_return(&cb) == -1);
  CHECK(errno == EINVAL);
  errno = 0;
  CHECK(aio_error(&cb) == -1);
  CHECK(errno == EINVAL);
}

TEST_CASE("aio_suspend returns at once if an entry is already complete", "[conformance][aio_suspend]") {
  TempFile f(10);
  Pipe p;
  char a[4], b[1];
  aiocb done = make_cb(f.fd, a, 4, 0);
  aiocb pending = make_cb(p.r, b, 1, 0);
  REQUIRE(aio_read(&done) == 0);
  REQUIRE(wait_cb(&done) == 0);
  REQUIRE(aio_read(&pending) == 0);
  const aiocb* l[3] = {&pending, nullptr, &done};
  timespec ts{5, 0};
  auto t0 = std::chrono::steady_clock::now();
  CHECK(aio_suspend(l, 3, &ts) == 0);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(1));
  REQUIRE(write(p.w, "x", 1) == 1);
  wait_cb(&pending);
  aio_return(&pending);
  aio_return(&done);
}

TEST_CASE("aio_suspend times out with EAGAIN", "[conformance][aio_suspend]") {
  Pipe p;
  char b;
  aiocb cb = make_cb(p.r, &b, 1, 0);
  REQUIRE(aio_read(&cb) == 0);
  const aiocb* l[1] = {&cb};
  timespec ts{0, 150 * 1000 * 1000};
  auto t0 = std::chrono::steady_clock::now();
  errno = 0;
  CHECK(aio_suspend(l, 1, &ts) == -1);
  CHECK(errno == EAGAIN);
  CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(140));
  timespec zero{0, 0};
  errno = 0;
  CHECK(aio_suspend(l, 1, &zero) == -1);
  CHECK(errno == EAGAIN);
  REQUIRE(write(p.w, "x", 1) == 1);
  CHECK(wait_cb(&cb) == 0);
  aio_return(&cb);
}

TEST_CASE("aio_suspend wakes when a listed request completes", "[conformance][aio_suspend]") {
  Pipe p;
  char b;
  aiocb cb = make_cb(p.r, &b, 1, 0);
  REQUIRE(aio_read(&cb) == 0);
  std::atomic<ssize_t> wr{0};
  std::thread t([&] {  // no Catch assertions off the main thread
    sleep_ms(100);
    wr = write(p.w, "x", 1);
  });
  const aiocb* l[1] = {&cb};
  auto t0 = std::chrono::steady_clock::now();
  CHECK(aio_suspend(l, 1, nullptr) == 0);
  auto dt = std::chrono::steady_clock::now() - t0;
  CHECK(dt >= std::chrono::milliseconds(90));
  CHECK(dt < std::chrono::seconds(5));
  CHECK(aio_error(&cb) == 0);
  t.join();
  CHECK(wr == 1);
  aio_return(&cb);
}

static std::atomic<int> g_usr1{0};
static void on_usr1(int) { g_usr1++; }

TEST_CASE("aio_suspend fails with EINTR when a signal handler runs, even with SA_RESTART", "[conformance][aio_suspend]") {
  struct sigaction sa {};
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  REQUIRE(sigaction(SIGUSR1, &sa, nullptr) == 0);
  Pipe p;
  char b;
  aiocb cb = make_cb(p.r, &b, 1, 0);
  REQUIRE(aio_read(&cb) == 0);
  pthread_t self = pthread_self();
  std::thread t([&] {
    sleep_ms(100);
    pthread_kill(self, SIGUSR1);
  });
  const aiocb* l[1] = {&cb};
  timespec ts{10, 0};
  errno = 0;
  int before = g_usr1;
  CHECK(aio_suspend(l, 1, &ts) == -1);
  CHECK(errno == EINTR);
  CHECK(g_usr1 == before + 1);
  CHECK(aio_error(&cb) == EINPROGRESS);  // not cancelled
  t.join();
  REQUIRE(write(p.w, "x", 1) == 1);
  CHECK(wait_cb(&cb) == 0);
  aio_return(&cb);
}

TEST_CASE("aio_suspend with no entries returns 0 - bad timeout is EINVAL", "[conformance][aio_suspend]") {
  const aiocb* l[2] = {nullptr, nullptr};
  CHECK(aio_suspend(l, 2, nullptr) == 0);
  timespec bad{0, 2000000000L};
  TempFile f(1);
  Pipe p;
  char b;
  aiocb cb = make_cb(p.r, &b, 1, 0);
  REQUIRE(aio_read(&cb) == 0);
  l[0] = &cb;
  errno = 0;
  CHECK(aio_suspend(l, 1, &bad) == -1);
  CHECK(errno == EINVAL);
  REQUIRE(write(p.w, "x", 1) == 1);
  CHECK(wait_cb(&cb) == 0);
  aio_return(&cb);
}
