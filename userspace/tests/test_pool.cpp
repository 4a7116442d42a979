// SPDX-License-Identifier: LGPL-2.1-or-later
// The thread-pool backend's scheduling (backend_threads.cpp, issue 8 / B6):
// only ASYNCAIO_CONCURRENCY workers are kept active, so these check that
// blocked workers never starve or deadlock the queue, that ASYNCAIO_THREADS
// still bounds the pool, that requests start in submission order, and that no
// wake-up is lost when workers go to sleep and submitters race them.
#include <dirent.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "helpers.hpp"

using namespace t;

namespace {

// The pool's workers are named "aio-threads" (sanitizer runtimes have
// threads of their own, so the process's thread count will not do).
int count_threads() {
  DIR* d = opendir("/proc/self/task");
  if (!d) return -1;
  int n = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string path = std::string("/proc/self/task/") + e->d_name + "/comm";
    FILE* f = fopen(path.c_str(), "r");
    if (!f) continue;
    char comm[32] = {};
    if (fgets(comm, sizeof comm, f) && strncmp(comm, "aio-threads\n", 12) == 0) n++;
    fclose(f);
  }
  closedir(d);
  return n;
}

// n one-byte reads that block on a pipe until release().
struct BlockedReads {
  Pipe p;
  std::vector<aiocb> cbs;
  std::vector<char> bytes;
  explicit BlockedReads(int n) : cbs(static_cast<size_t>(n)), bytes(static_cast<size_t>(n)) {
    for (int i = 0; i < n; i++) {
      cbs[i] = make_cb(p.r, &bytes[i], 1, 0);
      if (aio_read(&cbs[i]) != 0) abort();
    }
  }
  int in_progress() {
    int k = 0;
    for (auto& cb : cbs) k += aio_error(&cb) == EINPROGRESS;
    return k;
  }
  // Returns how many completed with one byte.
  int release() {
    std::vector<char> d(cbs.size(), 'x');
    if (write(p.w, d.data(), d.size()) != static_cast<ssize_t>(d.size())) abort();
    int ok = 0;
    for (auto& cb : cbs) {
      if (wait_cb(&cb) == 0 && aio_return(&cb) == 1) ok++;
      else aio_return(&cb);
    }
    cbs.clear();
    return ok;
  }
  ~BlockedReads() {
    if (!cbs.empty()) release();
  }
};

}  // namespace

TEST_CASE("pool: a request queued behind blocked workers still runs", "[pool]") {
  if (backend() != "threads") ASYNCAIO_SKIP("thread-pool scheduling");
  // More blocked reads than CPUs (the active workers) on small machines, but
  // fewer than ASYNCAIO_THREADS (16): the watchdog must bring more workers.
  BlockedReads blocked(8);
  TempFile f(4096);
  char buf[64];
  aiocb cb = make_cb(f.fd, buf, sizeof buf, 100);
  REQUIRE(aio_read(&cb) == 0);
  CHECK(wait_cb(&cb, 10000) == 0);
  CHECK(aio_return(&cb) == static_cast<ssize_t>(sizeof buf));
  CHECK(buf[0] == static_cast<char>(pattern(100)));
  CHECK(blocked.in_progress() == 8);  // still blocked: the file read did not wait for them
  CHECK(blocked.release() == 8);
}

TEST_CASE("pool: reads blocked on a pipe and the queued write that feeds them do not deadlock", "[pool]") {
  if (backend() != "threads") ASYNCAIO_SKIP("thread-pool scheduling");
  constexpr int K = 6;
  Pipe p;
  char got[K] = {};
  aiocb rd[K];
  for (int i = 0; i < K; i++) {
    rd[i] = make_cb(p.r, &got[i], 1, 0);
    REQUIRE(aio_read(&rd[i]) == 0);
  }
  const char msg[K + 1] = "abcdef";
  aiocb wr = make_cb(p.w, const_cast<char*>(msg), K, 0);
  REQUIRE(aio_write(&wr) == 0);
  CHECK(wait_cb(&wr, 10000) == 0);
  CHECK(aio_return(&wr) == K);
  std::string seen;
  for (int i = 0; i < K; i++) {
    CHECK(wait_cb(&rd[i], 10000) == 0);
    CHECK(aio_return(&rd[i]) == 1);
    seen += got[i];
  }
  std::sort(seen.begin(), seen.end());
  CHECK(seen == "abcdef");
}

TEST_CASE("pool: no lost wake-up when submitters race workers going to sleep", "[pool]") {
  if (backend() != "threads") ASYNCAIO_SKIP("thread-pool scheduling");
  TempFile f(4096);
  constexpr int kThreads = 4, kIter = 2000;
  std::atomic<int> stuck{0}, bad{0};
  std::vector<std::thread> th;
  for (int t = 0; t < kThreads; t++)
    th.emplace_back([&, t] {
      char b[8];
      for (int i = 0; i < kIter; i++) {
        aiocb cb = make_cb(f.fd, b, sizeof b, (t * 64 + i) % 4000);
        if (aio_read(&cb) != 0) {
          bad++;
          continue;
        }
        // Ten seconds is forever here: a request that takes that long was
        // queued with every worker asleep (a lost wake-up).
        int e = wait_cb(&cb, 10000);
        if (e == -2) {
          stuck++;
          return;  // cb is still in flight: leave it, do not reuse it
        }
        if (e != 0 || aio_return(&cb) != static_cast<ssize_t>(sizeof b)) bad++;
        // Now and then pause long enough for the workers to stop spinning
        // and go to sleep, so that the next submission must wake one.
        if (i % 8 == t) std::this_thread::sleep_for(std::chrono::microseconds(200 + 50 * t));
      }
    });
  for (auto& x : th) x.join();
  CHECK(stuck == 0);
  CHECK(bad == 0);
}

TEST_CASE("pool: a burst on one fd and a burst over many fds complete, each exactly once", "[pool]") {
  if (backend() != "threads") ASYNCAIO_SKIP("thread-pool scheduling");
  constexpr int N = 2000, SZ = 512;
  TempFile f(static_cast<size_t>(N) * SZ);
  std::vector<int> fds(50);
  for (auto& fd : fds) fd = open(f.path.c_str(), O_RDONLY);
  for (int nfd : {1, 50}) {
    std::vector<aiocb> cbs(N);
    std::vector<unsigned char> bufs(static_cast<size_t>(N) * SZ);
    for (int i = 0; i < N; i++) {
      cbs[i] = make_cb(fds[i % nfd], &bufs[static_cast<size_t>(i) * SZ], SZ, static_cast<off_t>(i) * SZ);
      REQUIRE(aio_read(&cbs[i]) == 0);
    }
    int bad = 0;
    for (int i = 0; i < N; i++) {
      if (wait_cb(&cbs[i]) != 0 || aio_return(&cbs[i]) != SZ) {
        bad++;
        continue;
      }
      if (bufs[static_cast<size_t>(i) * SZ + 7] != pattern(static_cast<size_t>(i) * SZ + 7)) bad++;
    }
    CHECK(bad == 0);
    asyncaio_stats st;
    asyncaio_get_stats(&st);
    CHECK(st.completed <= st.submitted);
  }
  for (int fd : fds) close(fd);
}

// Hidden: CTest runs it with ASYNCAIO_THREADS=3 (tests/CMakeLists.txt).
TEST_CASE("pool: ASYNCAIO_THREADS bounds the workers (named aio-threads), blocked ones included", "[.pool_threads3]") {
  if (backend() != "threads") ASYNCAIO_SKIP("thread-pool scheduling");
  const char* env = getenv("ASYNCAIO_THREADS");
  REQUIRE(env != nullptr);
  const int cap = atoi(env);
  REQUIRE(cap >= 1);
  const int before = count_threads();
  BlockedReads blocked(cap + 5);
  // The watchdog brings workers for the queued reads within milliseconds;
  // allow a loaded machine two seconds to reach the cap.
  int grown = 0;
  for (int i = 0; i < 200 && (grown = count_threads() - before) < cap; i++) sleep_ms(10);
  sleep_ms(50);
  grown = count_threads() - before;
  CHECK(grown == cap);
  CHECK(blocked.in_progress() == cap + 5);
  // All workers blocked: a file read stays queued (and can be cancelled).
  TempFile f(4096);
  char b[16];
  aiocb cb = make_cb(f.fd, b, sizeof b, 0);
  REQUIRE(aio_read(&cb) == 0);
  sleep_ms(50);
  CHECK(aio_error(&cb) == EINPROGRESS);
  CHECK(aio_cancel(f.fd, &cb) == AIO_CANCELED);
  CHECK(aio_error(&cb) == ECANCELED);
  aio_return(&cb);
  CHECK(blocked.release() == cap + 5);
}

// Hidden: CTest runs it with ASYNCAIO_THREADS=1. The queue is FIFO: with one
// worker, requests run (and complete) in submission order, so the last write
// to an offset wins.
TEST_CASE("pool: requests start in submission order (one worker: last write wins)", "[.pool_fifo]") {
  if (backend() != "threads") ASYNCAIO_SKIP("thread-pool scheduling");
  REQUIRE(getenv("ASYNCAIO_THREADS") != nullptr);
  REQUIRE(atoi(getenv("ASYNCAIO_THREADS")) == 1);
  TempFile f(0);
  constexpr int N = 500;
  std::vector<aiocb> cbs(N);
  std::vector<std::array<char, 4>> data(N);
  for (int i = 0; i < N; i++) {
    snprintf(data[i].data(), 4, "%03d", i);
    cbs[i] = make_cb(f.fd, data[i].data(), 3, 0);
    REQUIRE(aio_write(&cbs[i]) == 0);
  }
  // Completion order: once the last is done, every earlier one is.
  REQUIRE(wait_cb(&cbs[N - 1]) == 0);
  int out_of_order = 0;
  for (int i = 0; i < N - 1; i++) out_of_order += aio_error(&cbs[i]) == EINPROGRESS;
  for (int i = 0; i < N; i++) REQUIRE(wait_cb(&cbs[i]) == 0);
  for (auto& cb : cbs) CHECK(aio_return(&cb) == 3);
  char got[4] = {};
  REQUIRE(pread(f.fd, got, 3, 0) == 3);
  CHECK(std::string(got) == "499");
  CHECK(out_of_order == 0);
}
