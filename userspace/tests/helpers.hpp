// SPDX-License-Identifier: LGPL-2.1-or-later
#pragma once
#include <aio.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "asyncaio/asyncaio.h"

namespace t {

// A temporary file filled with a known pattern: byte i == pattern(i).
inline unsigned char pattern(std::size_t i) { return static_cast<unsigned char>((i * 7 + i / 251) & 0xff); }

struct TempFile {
  int fd = -1;
  std::string path;
  explicit TempFile(std::size_t size = 0, int flags = O_RDWR) {
    char p[] = "/tmp/asyncaio-test-XXXXXX";
    int f = mkstemp(p);
    path = p;
    std::vector<unsigned char> d(size);
    for (std::size_t i = 0; i < size; i++) d[i] = pattern(i);
    if (size && write(f, d.data(), size) != static_cast<ssize_t>(size)) abort();
    close(f);
    fd = open(p, flags);
  }
  ~TempFile() {
    if (fd >= 0) close(fd);
    unlink(path.c_str());
  }
  TempFile(const TempFile&) = delete;
};

struct Pipe {
  int r = -1, w = -1;
  Pipe() {
    int p[2];
    if (pipe(p) != 0) abort();
    r = p[0];
    w = p[1];
  }
  ~Pipe() {
    if (r >= 0) close(r);
    if (w >= 0) close(w);
  }
};

inline aiocb make_cb(int fd, void* buf, std::size_t n, off_t off) {
  aiocb cb;
  memset(&cb, 0, sizeof cb);
  cb.aio_fildes = fd;
  cb.aio_buf = buf;
  cb.aio_nbytes = n;
  cb.aio_offset = off;
  cb.aio_sigevent.sigev_notify = SIGEV_NONE;
  return cb;
}

// Wait (with aio_suspend) until cb is no longer in progress; returns aio_error.
inline int wait_cb(const aiocb* cb, int timeout_ms = 10000) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (aio_error(cb) == EINPROGRESS) {
    if (std::chrono::steady_clock::now() > end) return -2;
    const aiocb* l[1] = {cb};
    timespec ts{0, 100 * 1000 * 1000};
    aio_suspend(l, 1, &ts);
  }
  return aio_error(cb);
}

inline void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

inline std::string backend() { return asyncaio_backend(); }

// Requests beyond the busy workers stay queued (cancellable) only on the
// thread pool. On the kernel backend a submitter thread is never held by a
// blocked request: the chain hands off (async_exec returns as soon as an atom
// blocks), so BlockWorkers holds no submitter and later requests run at once.
// The kernel-backend counterparts of these tests cancel blocked requests
// (async_cancel, R25) instead.
inline bool pool_submission() { return backend() == "threads"; }

// A test that cannot run here. Under CTest (ASYNCAIO_TEST_SKIP_EXIT=1, one
// process per test case) it exits with 77, which CTest reports as skipped;
// in a manual run of the whole binary it prints SKIP and returns.
#define ASYNCAIO_SKIP(reason)                                   \
  do {                                                          \
    printf("SKIP: %s\n", reason);                               \
    fflush(stdout);                                             \
    if (getenv("ASYNCAIO_TEST_SKIP_EXIT")) std::_Exit(77);      \
    WARN("SKIP: " << reason);                                   \
    return;                                                     \
  } while (0)

// Occupy every worker of the thread pool (at most ASYNCAIO_THREADS, default
// 16) with reads that block on a pipe, so that later requests stay queued.
struct BlockWorkers {
  Pipe p;
  std::vector<aiocb> cbs;
  std::vector<char> bytes;
  explicit BlockWorkers(int n = 16) : cbs(n), bytes(n) {
    for (int i = 0; i < n; i++) {
      cbs[i] = make_cb(p.r, &bytes[i], 1, 0);
      if (aio_read(&cbs[i]) != 0) abort();
    }
    sleep_ms(50);  // let the workers pick them up
  }
  void release() {
    std::vector<char> d(cbs.size(), 'x');
    if (write(p.w, d.data(), d.size()) != static_cast<ssize_t>(d.size())) abort();
    for (auto& cb : cbs) {
      wait_cb(&cb);
      aio_return(&cb);
    }
    cbs.clear();
  }
  ~BlockWorkers() {
    if (!cbs.empty()) release();
  }
};

}  // namespace t
