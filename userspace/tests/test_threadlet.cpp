// SPDX-License-Identifier: LGPL-2.1-or-later
// Threadlets: context::threadlet(callable). On the kernel backend with
// sys_async_thread they run on the library's Boost.Context stacks through the
// kernel; elsewhere (the host's thread pool, sanitizer builds) on a pool
// worker. The common cases pass on both; the kernel-only ones SKIP with
// context::threadlet_reason().
//
// Inside a threadlet only raw system calls (aa::raw_syscall) and memory the
// caller set aside: after a handoff it runs concurrently with its caller on
// the caller's TLS. The cases that must not block the thread-group leader
// (whose threadlets never go async) run their caller in a std::thread and
// check the outcome in the main thread.
#include <sys/syscall.h>
#include <sys/wait.h>

#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <functional>
#include <thread>

#include "asyncaio/asyncaio.hpp"
#include "helpers.hpp"

using namespace t;
namespace aa = asyncaio;

namespace {
long gettid_raw() { return aa::raw_syscall(SYS_gettid); }
bool kernel_threadlets() { return aa::context::threadlets_in_kernel(); }
long twice(void* arg) { return 2 * reinterpret_cast<long>(arg); }
}  // namespace

TEST_CASE("threadlet: a callable that does not block returns its value", "[cxx][threadlet]") {
  INFO(aa::context::threadlet_reason());
  aa::context ctx;
  long ppid = getppid();
  int calls = 0;
  aa::result got;
  aa::threadlet_started s = ctx.threadlet([]() { return aa::raw_syscall(SYS_getppid) + 1000; },
                                          [&](const aa::result& r) { got = r; calls++; });
  CHECK(s.id != 0);
  if (kernel_threadlets()) {
    // Ran in this thread on a library stack and returned: no handoff.
    CHECK(s.done);
    CHECK(s.value == ppid + 1000);
  } else {
    CHECK_FALSE(s.done);  // a pool worker runs it
  }
  CHECK(ctx.run() == 1);
  CHECK(calls == 1);
  CHECK(got.id == s.id);
  CHECK(got.status == ppid + 1000);
  CHECK(got.index == 0);
  CHECK(ctx.in_flight() == 0);

  // The C shape fn(arg), and a value that is an error (-errno).
  s = ctx.threadlet(&twice, reinterpret_cast<void*>(21), [&](const aa::result& r) { got = r; });
  ctx.run();
  CHECK(got.status == 42);
  if (kernel_threadlets()) CHECK((s.done && s.value == 42));
  ctx.threadlet([]() { return aa::raw_syscall(SYS_close, -1); }, [&](const aa::result& r) { got = r; });
  ctx.run();
  CHECK(got.status == -EBADF);
  CHECK(got.error() == std::error_code(EBADF, std::system_category()));
  CHECK_THROWS_AS(got.value(), std::system_error);
}

TEST_CASE("threadlet: one blocked on a pipe lets its caller go on, the value comes later", "[cxx][threadlet]") {
  INFO(aa::context::threadlet_reason());
  Pipe p;
  std::array<char, 16> buf{};
  // Not the thread-group leader: its threadlets never go async.
  bool done = true, wrote = false;
  long tid_before = 0, tid_after = -1, waited = -1;
  std::int64_t id = 0;
  aa::result got;
  int calls = 0;
  std::thread([&] {
    aa::context ctx;
    tid_before = gettid_raw();
    auto s = ctx.threadlet([&]() { return aa::raw_syscall(SYS_read, p.r, reinterpret_cast<long>(buf.data()), 15); },
                           [&](const aa::result& r) { got = r; calls++; });
    // Back here while the threadlet waits for the pipe (it would deadlock
    // otherwise: only we write it).
    done = s.done;
    id = static_cast<std::int64_t>(s.id);
    tid_after = gettid_raw();
    wrote = write(p.w, "hello", 5) == 5;
    waited = static_cast<long>(ctx.wait(1, std::chrono::seconds(30)));
  }).join();
  CHECK_FALSE(done);
  CHECK(tid_after == tid_before);  // the caller keeps its thread id
  CHECK(wrote);
  CHECK(waited == 1);
  CHECK(calls == 1);
  CHECK(static_cast<std::int64_t>(got.id) == id);
  CHECK(got.status == 5);
  CHECK(std::string(buf.data()) == "hello");
}

TEST_CASE("threadlet: several in flight at once, each with its value, stacks reused", "[cxx][threadlet]") {
  INFO(aa::context::threadlet_reason());
  constexpr int N = 8;
  Pipe pipes[N];
  char bufs[2][N][8] = {};
  int not_done[2] = {0, 0};
  std::size_t stacks[3] = {};
  std::vector<std::pair<std::uint64_t, std::int64_t>> seen[2];
  std::uint64_t ids[2][N] = {};
  std::thread([&] {
    aa::context ctx;
    stacks[0] = aa::context::threadlet_stacks_allocated();
    for (int w = 0; w < 2; w++) {
      for (int i = 0; i < N; i++) {
        char* b = bufs[w][i];
        int fd = pipes[i].r;
        auto s = ctx.threadlet([b, fd]() { return aa::raw_syscall(SYS_read, fd, reinterpret_cast<long>(b), 7) * 10; },
                               [&, w](const aa::result& r) { seen[w].emplace_back(r.id, r.status); });
        ids[w][i] = s.id;
        if (!s.done) not_done[w]++;
      }
      // All N wait for their pipe: in flight together.
      for (int i = 0; i < N; i++) {
        char msg[8];
        int len = snprintf(msg, sizeof msg, "w%di%d", w, i);
        if (write(pipes[i].w, msg, static_cast<std::size_t>(len)) != len) abort();
      }
      while (seen[w].size() < N)
        if (ctx.wait(1, std::chrono::seconds(30)) == 0) break;
      stacks[w + 1] = aa::context::threadlet_stacks_allocated();
    }
  }).join();
  for (int w = 0; w < 2; w++) {
    CHECK(not_done[w] == N);
    REQUIRE(seen[w].size() == N);
    for (int i = 0; i < N; i++) {
      bool found = false;
      for (auto& [id, status] : seen[w])
        if (id == ids[w][i]) {
          found = true;
          CHECK(status == 40);
        }
      CHECK(found);
      CHECK(std::string(bufs[w][i]) == "w" + std::to_string(w) + "i" + std::to_string(i));
    }
  }
  if (kernel_threadlets()) {
    // Wave 1 had N stacks in use at once; wave 2 reused them.
    CHECK(stacks[1] >= static_cast<std::size_t>(N));
    CHECK(stacks[1] - stacks[0] <= static_cast<std::size_t>(N));
    CHECK(stacks[2] == stacks[1]);
  } else {
    CHECK(stacks[2] == 0);
  }
}

TEST_CASE("threadlet: the main thread's threadlets run to their end even when they block", "[cxx][threadlet]") {
  if (!kernel_threadlets()) ASYNCAIO_SKIP(aa::context::threadlet_reason());
  Pipe p;
  char buf[8] = {};
  aa::context ctx;
  std::thread writer([&] {
    sleep_ms(100);
    if (write(p.w, "late", 4) != 4) abort();
  });
  std::size_t before = aa::context::threadlet_stacks_allocated();
  auto s = ctx.threadlet([&]() { return aa::raw_syscall(SYS_read, p.r, reinterpret_cast<long>(buf), 7); },
                         [](const aa::result&) {});
  writer.join();
  // The leader's context is never handed off: done, with the value.
  CHECK(s.done);
  CHECK(s.value == 4);
  CHECK(std::string(buf) == "late");
  CHECK(ctx.run() == 1);
  // Its stack is free again at once: the next one reuses it.
  ctx.threadlet([]() { return 7L; }, [](const aa::result&) {});
  ctx.run();
  CHECK(aa::context::threadlet_stacks_allocated() == (before ? before : 1));
}

TEST_CASE("threadlet: blocked kernel threadlets hand off without a new stack per call", "[cxx][threadlet]") {
  if (!kernel_threadlets()) ASYNCAIO_SKIP(aa::context::threadlet_reason());
  // 20 waves of one blocking threadlet each, from a non-leader thread: each
  // goes async, and one stack serves them all.
  int went_async = 0, ok = 0;
  std::size_t before = 0, after = 0;
  std::thread([&] {
    aa::context ctx;
    Pipe p;
    before = aa::context::threadlet_stacks_allocated();
    for (int i = 0; i < 20; i++) {
      char c = 0;
      std::int64_t v = -1;
      auto s = ctx.threadlet([&]() { return aa::raw_syscall(SYS_read, p.r, reinterpret_cast<long>(&c), 1); },
                             [&](const aa::result& r) { v = r.status; });
      if (!s.done) went_async++;
      if (write(p.w, "x", 1) != 1) abort();
      ctx.wait(1, std::chrono::seconds(30));
      if (v == 1 && c == 'x') ok++;
    }
    after = aa::context::threadlet_stacks_allocated();
  }).join();
  CHECK(went_async == 20);
  CHECK(ok == 20);
  CHECK(after - before <= 1);
}

TEST_CASE("threadlet: co_await gives the value", "[cxx][threadlet]") {
  aa::context ctx;
  std::int64_t v = 0;
  auto body = [&]() -> aa::task {
    aa::result r = co_await ctx.async_threadlet([]() { return 6L * 7; });
    v = r.value();
  };
  aa::task tk = body();
  ctx.run();
  CHECK(tk.done());
  tk.get();
  CHECK(v == 42);
}

TEST_CASE("threadlet: misuse is reported", "[cxx][threadlet]") {
  aa::context ctx;
  long (*null_fn)(void*) = nullptr;
  CHECK_THROWS_AS(ctx.threadlet(null_fn, nullptr, [](const aa::result&) {}), std::invalid_argument);
  std::function<long()> empty;
  CHECK_THROWS_AS(ctx.threadlet(empty, [](const aa::result&) {}), std::invalid_argument);
  std::error_code ec;
  auto s = ctx.threadlet(empty, [](const aa::result&) {}, ec);
  CHECK(ec == std::errc::invalid_argument);
  CHECK(s.id == 0);
  CHECK(ctx.in_flight() == 0);

  // A threadlet inside a threadlet: EBUSY (the kernel's answer, and the
  // thread pool's), nothing started, no callback.
  std::error_code inner;
  std::uint64_t inner_id = 99;
  int inner_calls = 0;
  aa::result outer;
  ctx.threadlet([&]() {
        inner_id = ctx.threadlet([]() { return 1L; }, [&](const aa::result&) { inner_calls++; }, inner).id;
        return 5L;
      },
      [&](const aa::result& r) { outer = r; });
  ctx.run();
  CHECK(outer.status == 5);
  CHECK(inner == std::error_code(EBUSY, std::system_category()));
  CHECK(inner_id == 0);
  CHECK(inner_calls == 0);
  CHECK_THROWS_AS(ctx.async_threadlet(empty), std::invalid_argument);
}

TEST_CASE("threadlet: a forked child starts its own threadlets", "[cxx][threadlet]") {
#if defined(__SANITIZE_THREAD__)
  ASYNCAIO_SKIP("ThreadSanitizer cannot start threads after fork() of a multithreaded process");
#endif
  INFO(aa::context::threadlet_reason());
  {
    aa::context ctx;  // the parent uses threadlets first (ring, reaper)
    aa::result got;
    ctx.threadlet([]() { return 3L; }, [&](const aa::result& r) { got = r; });
    ctx.run();
    REQUIRE(got.status == 3);
  }
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // Not the child's leader: a blocking threadlet goes async here too, and
    // its completion must reach the child's context.
    int rc = 1;
    std::thread([&] {
      aa::context ctx;
      Pipe p;
      char c = 0;
      std::int64_t v = -1;
      auto s = ctx.threadlet([&]() { return aa::raw_syscall(SYS_read, p.r, reinterpret_cast<long>(&c), 1); },
                             [&](const aa::result& r) { v = r.status; });
      if (s.done) return;
      if (write(p.w, "y", 1) != 1) return;
      if (ctx.wait(1, std::chrono::seconds(20)) != 1) { rc = 2; return; }
      rc = (v == 1 && c == 'y') ? 0 : 3;
    }).join();
    _exit(rc);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
