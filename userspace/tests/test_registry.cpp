// SPDX-License-Identifier: LGPL-2.1-or-later
// The request bookkeeping behind the POSIX calls: recycled request objects,
// the aiocb registry, aio_cancel(fd, NULL) finding requests through it, all
// under concurrency.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "helpers.hpp"

using namespace t;

namespace {
bool data_ok(const unsigned char* b, std::size_t n, std::size_t off) {
  for (std::size_t i = 0; i < n; i++)
    if (b[i] != pattern(off + i)) return false;
  return true;
}

std::atomic<int> g_reg_sigs{0};
void count_reg_sig(int) { g_reg_sigs++; }
}  // namespace

TEST_CASE("registry: one aiocb reused after aio_return, with and without a signal", "[registry]") {
  // Request objects are recycled: a request that sent a signal (two atoms)
  // followed by ones that must not, different sizes and offsets, must each
  // see only their own parameters.
  struct sigaction sa {}, old {};
  sa.sa_handler = count_reg_sig;
  sigemptyset(&sa.sa_mask);
  REQUIRE(sigaction(SIGRTMIN + 3, &sa, &old) == 0);
  g_reg_sigs = 0;
  TempFile f(8192);
  unsigned char buf[256];
  aiocb cb = make_cb(f.fd, buf, sizeof buf, 0);
  int want_sigs = 0;
  for (int i = 0; i < 600; i++) {
    std::size_t n = 1 + static_cast<std::size_t>(i * 37) % sizeof buf;
    off_t off = static_cast<off_t>((i * 131) % 7000);
    memset(buf, 0, sizeof buf);
    cb = make_cb(f.fd, buf, n, off);
    if (i % 3 == 0) {
      cb.aio_sigevent.sigev_notify = SIGEV_SIGNAL;
      cb.aio_sigevent.sigev_signo = SIGRTMIN + 3;
      want_sigs++;
    }
    REQUIRE(aio_read(&cb) == 0);
    REQUIRE(wait_cb(&cb) == 0);
    REQUIRE(aio_return(&cb) == static_cast<ssize_t>(n));
    CHECK(data_ok(buf, n, static_cast<std::size_t>(off)));
    if (n < sizeof buf) CHECK(buf[n] == 0);  // nothing past n
    errno = 0;
    CHECK(aio_error(&cb) == -1);  // retrieved: unknown again
    CHECK(errno == EINVAL);
    errno = 0;
    CHECK(aio_return(&cb) == -1);
    CHECK(errno == EINVAL);
  }
  for (int i = 0; i < 400 && g_reg_sigs < want_sigs; i++) sleep_ms(5);
  sleep_ms(20);  // a stray extra signal would arrive by now
  CHECK(g_reg_sigs == want_sigs);
  sigaction(SIGRTMIN + 3, &old, nullptr);
}

TEST_CASE("registry: thousands of aiocbs in flight, recycled over rounds", "[registry]") {
  // More requests than any per-thread cache of request objects holds, and
  // more than the registry's initial buckets: recycling through the shared
  // list and growing the table, round after round.
  constexpr int N = 5000;
  constexpr std::size_t B = 64;
  TempFile f(N * B);
  std::vector<aiocb> cbs(N);
  std::vector<unsigned char> bufs(N * B);
  asyncaio_stats before{}, after{};
  asyncaio_get_stats(&before);
  for (int round = 0; round < 3; round++) {
    std::fill(bufs.begin(), bufs.end(), 0);
    for (int i = 0; i < N; i++) {
      // Each round its own offsets, so a stale request would read wrong data.
      std::size_t blk = static_cast<std::size_t>((i + round * 17) % N);
      cbs[i] = make_cb(f.fd, &bufs[i * B], B, static_cast<off_t>(blk * B));
      REQUIRE(aio_read(&cbs[i]) == 0);
    }
    int bad = 0;
    for (int i = 0; i < N; i++) {
      if (wait_cb(&cbs[i]) != 0 || aio_return(&cbs[i]) != static_cast<ssize_t>(B)) bad++;
      else if (!data_ok(&bufs[i * B], B, static_cast<std::size_t>((i + round * 17) % N) * B)) bad++;
    }
    CHECK(bad == 0);
  }
  asyncaio_get_stats(&after);
  CHECK(after.submitted - before.submitted >= 3u * N);
}

TEST_CASE("registry: resubmitting a finished, unreturned aiocb replaces the old request", "[registry]") {
  TempFile f(100);
  char a[10], b[20];
  aiocb cb = make_cb(f.fd, a, 10, 0);
  REQUIRE(aio_read(&cb) == 0);
  REQUIRE(wait_cb(&cb) == 0);
  // Not returned; reuse it for a different request.
  cb = make_cb(f.fd, b, 20, 50);
  REQUIRE(aio_read(&cb) == 0);
  REQUIRE(wait_cb(&cb) == 0);
  CHECK(aio_return(&cb) == 20);  // the new request's result
  CHECK(data_ok(reinterpret_cast<unsigned char*>(b), 20, 50));
  errno = 0;
  CHECK(aio_return(&cb) == -1);
  CHECK(errno == EINVAL);
  // (Resubmitting one still in flight: EINVAL, test_read_write.cpp.)
}

TEST_CASE("registry: aio_cancel(fd, NULL) cancels queued reads, writes and a waiting fsync", "[registry][aio_cancel]") {
  if (!pool_submission()) ASYNCAIO_SKIP("needs requests that stay queued behind blocked workers: thread pool only");
  BlockWorkers busy;
  TempFile f(100), other(100);
  char r1[10], r2[10], w1[10] = "written!!", ob[10];
  aiocb rd1 = make_cb(f.fd, r1, 10, 0);
  aiocb wr = make_cb(f.fd, w1, 10, 0);
  aiocb fs = make_cb(f.fd, nullptr, 0, 0);
  aiocb rd2 = make_cb(f.fd, r2, 10, 20);
  aiocb ocb = make_cb(other.fd, ob, 10, 0);
  REQUIRE(aio_read(&rd1) == 0);
  REQUIRE(aio_write(&wr) == 0);
  REQUIRE(aio_fsync(O_SYNC, &fs) == 0);  // waits for wr
  REQUIRE(aio_read(&rd2) == 0);
  REQUIRE(aio_read(&ocb) == 0);
  CHECK(aio_cancel(f.fd, nullptr) == AIO_CANCELED);
  for (aiocb* cb : {&rd1, &wr, &fs, &rd2}) {
    CHECK(aio_error(cb) == ECANCELED);
    CHECK(aio_return(cb) == -1);
  }
  CHECK(aio_cancel(f.fd, nullptr) == AIO_ALLDONE);  // nothing left on fd
  CHECK(aio_error(&ocb) == EINPROGRESS);
  busy.release();
  CHECK(wait_cb(&ocb) == 0);
  CHECK(aio_return(&ocb) == 10);
  unsigned char first = 0;
  REQUIRE(pread(f.fd, &first, 1, 0) == 1);
  CHECK(first == pattern(0));  // the cancelled write never ran
}

TEST_CASE("registry: concurrent submit, complete, cancel and aio_error from several threads", "[registry][stress]") {
  // Threads submit and retrieve their own aiocbs on one file while another
  // thread keeps cancelling everything on that fd and a third polls
  // aio_error on the submitters' aiocbs. Every request ends exactly once:
  // with its data or with ECANCELED, and aio_return succeeds once.
  constexpr int kThreads = 3, kPerThread = 1500, kInFlight = 32;
  constexpr std::size_t B = 32;
  TempFile f(4096);
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, canceled{0}, bad{0};
  std::vector<std::vector<aiocb>> all(kThreads, std::vector<aiocb>(kInFlight));
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; t++)
    ts.emplace_back([&, t] {
      std::vector<aiocb>& cbs = all[t];
      std::vector<unsigned char> bufs(kInFlight * B);
      for (int done = 0; done < kPerThread; done += kInFlight) {
        for (int i = 0; i < kInFlight; i++) {
          std::size_t off = static_cast<std::size_t>((t * 997 + done + i) * 7) % (4096 - B);
          cbs[i] = make_cb(f.fd, &bufs[i * B], B, static_cast<off_t>(off));
          if (aio_read(&cbs[i]) != 0) bad++;
        }
        for (int i = 0; i < kInFlight; i++) {
          int e = wait_cb(&cbs[i]);
          ssize_t r = aio_return(&cbs[i]);
          std::size_t off = static_cast<std::size_t>(cbs[i].aio_offset);
          if (e == 0 && r == static_cast<ssize_t>(B) && data_ok(&bufs[i * B], B, off)) ok++;
          else if (e == ECANCELED && r == -1) canceled++;
          else bad++;
          if (aio_return(&cbs[i]) != -1) bad++;  // exactly once
        }
      }
    });
  std::thread canceller([&] {
    while (!stop.load()) {
      int r = aio_cancel(f.fd, nullptr);
      if (r != AIO_CANCELED && r != AIO_NOTCANCELED && r != AIO_ALLDONE) bad++;
      std::this_thread::yield();
    }
  });
  std::thread poller([&] {
    // aio_error on aiocbs other threads submit and retrieve: any of the
    // documented answers, never a crash or a stale result.
    while (!stop.load())
      for (auto& cbs : all)
        for (auto& cb : cbs) {
          int e = aio_error(&cb);
          if (e != 0 && e != EINPROGRESS && e != ECANCELED && !(e == -1 && errno == EINVAL)) bad++;
        }
  });
  for (auto& th : ts) th.join();
  stop = true;
  canceller.join();
  poller.join();
  INFO("ok " << ok << " canceled " << canceled);
  CHECK(bad == 0);
  CHECK(ok + canceled == kThreads * ((kPerThread + kInFlight - 1) / kInFlight) * kInFlight);
}
