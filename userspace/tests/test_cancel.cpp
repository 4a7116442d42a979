// SPDX-License-Identifier: LGPL-2.1-or-later
// aio_cancel (POSIX.1-2017): AIO_CANCELED, AIO_NOTCANCELED, AIO_ALLDONE, EBADF.
#include <atomic>
#include <catch2/catch.hpp>

#include "helpers.hpp"

using namespace t;

TEST_CASE("aio_cancel EBADF for an invalid fd", "[conformance][aio_cancel]") {
  errno = 0;
  CHECK(aio_cancel(-1, nullptr) == -1);
  CHECK(errno == EBADF);
  aiocb cb = make_cb(987654, nullptr, 0, 0);
  errno = 0;
  CHECK(aio_cancel(987654, &cb) == -1);
  CHECK(errno == EBADF);
}

TEST_CASE("aio_cancel EINVAL when aio_fildes differs from fd", "[conformance][aio_cancel]") {
  TempFile f(10);
  aiocb cb = make_cb(f.fd, nullptr, 0, 0);
  errno = 0;
  CHECK(aio_cancel(0, &cb) == -1);
  CHECK(errno == EINVAL);
}

TEST_CASE("aio_cancel AIO_ALLDONE for completed and unknown requests", "[conformance][aio_cancel]") {
  TempFile f(10);
  char b[4];
  aiocb cb = make_cb(f.fd, b, 4, 0);
  REQUIRE(aio_read(&cb) == 0);
  REQUIRE(wait_cb(&cb) == 0);
  CHECK(aio_cancel(f.fd, &cb) == AIO_ALLDONE);
  CHECK(aio_error(&cb) == 0);  // untouched
  CHECK(aio_return(&cb) == 4);
  CHECK(aio_cancel(f.fd, &cb) == AIO_ALLDONE);  // returned already
  CHECK(aio_cancel(f.fd, nullptr) == AIO_ALLDONE);  // nothing outstanding
}

TEST_CASE("aio_cancel of a queued request: AIO_CANCELED, ECANCELED, -1, notification", "[conformance][aio_cancel]") {
  if (!pool_submission()) ASYNCAIO_SKIP("needs requests that stay queued behind blocked workers: thread pool only (kernel: see the async_cancel tests)");
  BlockWorkers busy;  // every worker blocked: the next requests stay queued
  TempFile f(100);
  char b[10];
  static std::atomic<int> notified{0};
  notified = 0;
  aiocb cb = make_cb(f.fd, b, 10, 0);
  cb.aio_sigevent.sigev_notify = SIGEV_THREAD;
  cb.aio_sigevent.sigev_notify_function = [](sigval v) { notified += v.sival_int; };
  cb.aio_sigevent.sigev_value.sival_int = 7;
  REQUIRE(aio_read(&cb) == 0);
  CHECK(aio_error(&cb) == EINPROGRESS);
  CHECK(aio_cancel(f.fd, &cb) == AIO_CANCELED);
  CHECK(aio_error(&cb) == ECANCELED);
  CHECK(aio_return(&cb) == -1);
  for (int i = 0; i < 200 && notified == 0; i++) sleep_ms(5);
  CHECK(notified == 7);  // normal notification happens for cancelled requests
  busy.release();
}

TEST_CASE("aio_cancel of a running request: AIO_NOTCANCELED, it completes normally", "[conformance][aio_cancel]") {
  if (backend() != "threads") {
    ASYNCAIO_SKIP("the kernel backend can interrupt running requests (R25)");
  }
  Pipe p;
  char b;
  aiocb cb = make_cb(p.r, &b, 1, 0);
  REQUIRE(aio_read(&cb) == 0);
  sleep_ms(50);  // a worker is now blocked in read()
  CHECK(aio_cancel(p.r, &cb) == AIO_NOTCANCELED);
  CHECK(aio_error(&cb) == EINPROGRESS);
  CHECK(aio_cancel(p.r, nullptr) == AIO_NOTCANCELED);
  REQUIRE(write(p.w, "q", 1) == 1);
  CHECK(wait_cb(&cb) == 0);
  CHECK(aio_return(&cb) == 1);
  CHECK(b == 'q');
}

TEST_CASE("aio_cancel(fd, NULL) cancels every queued request on fd and only on fd", "[conformance][aio_cancel]") {
  if (!pool_submission()) ASYNCAIO_SKIP("needs requests that stay queued behind blocked workers: thread pool only (kernel: see the async_cancel tests)");
  BlockWorkers busy;
  TempFile f(1000), other(1000);
  char bufs[5][10], ob[10];
  aiocb cbs[5];
  for (int i = 0; i < 5; i++) {
    cbs[i] = make_cb(f.fd, bufs[i], 10, i * 10);
    REQUIRE(aio_read(&cbs[i]) == 0);
  }
  aiocb ocb = make_cb(other.fd, ob, 10, 0);
  REQUIRE(aio_read(&ocb) == 0);
  CHECK(aio_cancel(f.fd, nullptr) == AIO_CANCELED);
  for (auto& cb : cbs) {
    CHECK(aio_error(&cb) == ECANCELED);
    CHECK(aio_return(&cb) == -1);
  }
  CHECK(aio_error(&ocb) == EINPROGRESS);  // other fd untouched
  busy.release();
  CHECK(wait_cb(&ocb) == 0);
  CHECK(aio_return(&ocb) == 10);
}

TEST_CASE("aio_cancel(fd, NULL) with a running and a queued request: AIO_NOTCANCELED", "[conformance][aio_cancel]") {
  if (backend() != "threads") ASYNCAIO_SKIP("the kernel backend cancels the running request (R25)");
  // One pipe: the first read runs (blocked), the rest are queued behind
  // the other blocked workers.
  Pipe p;
  char b1, b2;
  aiocb running = make_cb(p.r, &b1, 1, 0);
  REQUIRE(aio_read(&running) == 0);
  sleep_ms(30);
  BlockWorkers busy(15);
  aiocb queued = make_cb(p.r, &b2, 1, 0);
  REQUIRE(aio_read(&queued) == 0);
  CHECK(aio_cancel(p.r, nullptr) == AIO_NOTCANCELED);
  CHECK(aio_error(&queued) == ECANCELED);
  CHECK(aio_error(&running) == EINPROGRESS);
  REQUIRE(write(p.w, "r", 1) == 1);
  CHECK(wait_cb(&running) == 0);
  aio_return(&running);
  aio_return(&queued);
  busy.release();
}

TEST_CASE("kernel backend: a running (blocked) request is cancelled: AIO_CANCELED, ECANCELED", "[conformance][aio_cancel]") {
  if (backend() != "kernel") ASYNCAIO_SKIP("needs the kernel backend (async_cancel, R25)");
  Pipe p;
  char b;
  aiocb cb = make_cb(p.r, &b, 1, 0);
  REQUIRE(aio_read(&cb) == 0);
  sleep_ms(50);  // the chain went async and is blocked in read()
  CHECK(aio_error(&cb) == EINPROGRESS);
  CHECK(aio_cancel(p.r, &cb) == AIO_CANCELED);
  CHECK(aio_error(&cb) == ECANCELED);
  CHECK(aio_return(&cb) == -1);
}

TEST_CASE("kernel backend: aio_cancel(fd, NULL) cancels every blocked request on fd and only on fd", "[conformance][aio_cancel]") {
  if (backend() != "kernel") ASYNCAIO_SKIP("needs the kernel backend (async_cancel, R25)");
  Pipe p, other;
  char bufs[5], ob;
  aiocb cbs[5];
  for (int i = 0; i < 5; i++) {
    cbs[i] = make_cb(p.r, &bufs[i], 1, 0);
    REQUIRE(aio_read(&cbs[i]) == 0);
  }
  aiocb ocb = make_cb(other.r, &ob, 1, 0);
  REQUIRE(aio_read(&ocb) == 0);
  sleep_ms(50);  // every chain went async and is blocked in read()
  for (auto& cb : cbs) CHECK(aio_error(&cb) == EINPROGRESS);
  CHECK(aio_cancel(p.r, nullptr) == AIO_CANCELED);
  for (auto& cb : cbs) {
    CHECK(aio_error(&cb) == ECANCELED);
    CHECK(aio_return(&cb) == -1);
  }
  CHECK(aio_error(&ocb) == EINPROGRESS);  // other fd untouched
  CHECK(aio_cancel(p.r, nullptr) == AIO_ALLDONE);
  REQUIRE(write(other.w, "o", 1) == 1);
  CHECK(wait_cb(&ocb) == 0);
  CHECK(aio_return(&ocb) == 1);
  CHECK(ob == 'o');
}
