// SPDX-License-Identifier: LGPL-2.1-or-later
// Notification: SIGEV_NONE, SIGEV_SIGNAL (si_code SI_ASYNCIO, si_value),
// SIGEV_THREAD, SIGEV_THREAD_ID (Linux).
#include <pthread.h>
#include <sys/syscall.h>

#include <atomic>
#include <catch2/catch.hpp>

#include "helpers.hpp"

using namespace t;

namespace {
struct BlockSig {
  sigset_t set;
  explicit BlockSig(int sig) {
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    drain();
  }
  void drain() {
    siginfo_t si;
    timespec z{0, 0};
    while (sigtimedwait(&set, &si, &z) > 0) {
    }
  }
  ~BlockSig() {
    drain();
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  }
};
}  // namespace

TEST_CASE("SIGEV_NONE: no signal", "[conformance][sigevent]") {
  BlockSig bs(SIGRTMIN);
  TempFile f(10);
  char b[4];
  aiocb cb = make_cb(f.fd, b, 4, 0);
  REQUIRE(aio_read(&cb) == 0);
  REQUIRE(wait_cb(&cb) == 0);
  sleep_ms(20);
  siginfo_t si;
  timespec z{0, 0};
  CHECK(sigtimedwait(&bs.set, &si, &z) == -1);
  aio_return(&cb);
}

TEST_CASE("SIGEV_SIGNAL: si_signo, si_code SI_ASYNCIO, si_value, si_pid - status final first", "[conformance][sigevent]") {
  BlockSig bs(SIGRTMIN);
  TempFile f(100);
  for (int k = 0; k < 3; k++) {
    char b[10];
    aiocb cb = make_cb(f.fd, b, 10, k);
    cb.aio_sigevent.sigev_notify = SIGEV_SIGNAL;
    cb.aio_sigevent.sigev_signo = SIGRTMIN;
    cb.aio_sigevent.sigev_value.sival_ptr = &cb;
    REQUIRE(aio_read(&cb) == 0);
    siginfo_t si{};
    timespec ts{10, 0};
    REQUIRE(sigtimedwait(&bs.set, &si, &ts) == SIGRTMIN);
    CHECK(si.si_signo == SIGRTMIN);
    CHECK(si.si_code == SI_ASYNCIO);
    CHECK(si.si_value.sival_ptr == &cb);
    CHECK(si.si_pid == getpid());
    CHECK(aio_error(&cb) == 0);  // completion visible before the signal
    CHECK(aio_return(&cb) == 10);
    CHECK(static_cast<unsigned char>(b[0]) == pattern(k));
  }
}

TEST_CASE("SIGEV_SIGNAL for a failed request carries the same information", "[conformance][sigevent]") {
  BlockSig bs(SIGRTMIN + 2);
  int d = open("/tmp", O_RDONLY | O_DIRECTORY);
  char b[4];
  aiocb cb = make_cb(d, b, 4, 0);
  cb.aio_sigevent.sigev_notify = SIGEV_SIGNAL;
  cb.aio_sigevent.sigev_signo = SIGRTMIN + 2;
  cb.aio_sigevent.sigev_value.sival_int = -3;
  REQUIRE(aio_read(&cb) == 0);
  siginfo_t si{};
  timespec ts{10, 0};
  REQUIRE(sigtimedwait(&bs.set, &si, &ts) == SIGRTMIN + 2);
  CHECK(si.si_code == SI_ASYNCIO);
  CHECK(si.si_value.sival_int == -3);
  CHECK(aio_error(&cb) == EISDIR);
  aio_return(&cb);
  close(d);
}

TEST_CASE("SIGEV_THREAD: the function runs once, in another thread, with sigev_value", "[conformance][sigevent]") {
  static std::atomic<int> calls{0};
  static std::atomic<long> tid{0};
  static std::atomic<int> status_seen{-1};
  static aiocb* watched = nullptr;
  calls = 0;
  TempFile f(10);
  char b[4];
  aiocb cb = make_cb(f.fd, b, 4, 0);
  watched = &cb;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  cb.aio_sigevent.sigev_notify = SIGEV_THREAD;
  cb.aio_sigevent.sigev_notify_attributes = &attr;
  cb.aio_sigevent.sigev_value.sival_int = 99;
  cb.aio_sigevent.sigev_notify_function = [](sigval v) {
    tid = syscall(SYS_gettid);
    status_seen = aio_error(watched);
    calls += v.sival_int;
  };
  REQUIRE(aio_read(&cb) == 0);
  for (int i = 0; i < 400 && calls == 0; i++) sleep_ms(5);
  CHECK(calls == 99);
  CHECK(tid != syscall(SYS_gettid));
  CHECK(status_seen == 0);
  CHECK(aio_return(&cb) == 4);
  pthread_attr_destroy(&attr);
}

TEST_CASE("SIGEV_THREAD_ID: the signal goes to the named thread", "[conformance][sigevent]") {
  static std::atomic<long> got_in{0};
  std::atomic<bool> ready{false};
  std::atomic<long> target_tid{0};
  std::atomic<int> result_sig{0};
  std::thread target([&] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN + 3);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    target_tid = syscall(SYS_gettid);
    ready = true;
    siginfo_t si{};
    timespec ts{10, 0};
    result_sig = sigtimedwait(&set, &si, &ts);
    got_in = syscall(SYS_gettid);
  });
  // The main thread blocks it too, so only the target can take it.
  BlockSig bs(SIGRTMIN + 3);
  while (!ready) sleep_ms(1);
  TempFile f(10);
  char b[4];
  aiocb cb = make_cb(f.fd, b, 4, 0);
  cb.aio_sigevent.sigev_notify = SIGEV_THREAD_ID;
  cb.aio_sigevent.sigev_signo = SIGRTMIN + 3;
  cb.aio_sigevent._sigev_un._tid = static_cast<pid_t>(target_tid.load());
  REQUIRE(aio_read(&cb) == 0);
  target.join();
  CHECK(result_sig == SIGRTMIN + 3);
  CHECK(got_in == target_tid);
  CHECK(wait_cb(&cb) == 0);
  aio_return(&cb);
}
