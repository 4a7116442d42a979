// SPDX-License-Identifier: LGPL-2.1-or-later
// C++20 API: chains (atoms, stop conditions, passing results, result
// addresses), batches, callbacks, co_await, cancellation, RAII, misuse.
#include <poll.h>
#include <sys/syscall.h>

#include <array>
#include <catch2/catch.hpp>

#include "asyncaio/asyncaio.hpp"
#include "helpers.hpp"

using namespace t;
namespace aa = asyncaio;

TEST_CASE("chain: pread with result address, callback gets last atom's status and index", "[cxx]") {
  TempFile f(4096);
  aa::context ctx;
  std::array<std::byte, 100> buf{};
  std::int64_t res = 0;
  aa::result got;
  int calls = 0;
  auto id = ctx.submit(aa::chain{aa::atom::pread(f.fd, buf, 10).result_to(&res)}, [&](const aa::result& r) {
    got = r;
    calls++;
  });
  CHECK(id != 0);
  CHECK(ctx.run() == 1);
  CHECK(calls == 1);
  CHECK(got.status == 100);
  CHECK(got.index == 0);
  CHECK(got.id == id);
  CHECK(res == 100);
  CHECK(static_cast<unsigned char>(buf[0]) == pattern(10));
  CHECK(ctx.in_flight() == 0);
}

TEST_CASE("chain: openat -> pread(fd from previous) -> close(fd from previous)", "[cxx]") {
  TempFile f(1000);
  aa::context ctx;
  std::array<std::byte, 50> buf{};
  std::int64_t fd_res = -1, read_res = -1;
  aa::chain c;
  c.then(aa::atom::syscall(SYS_openat, {static_cast<std::uint64_t>(AT_FDCWD),
                                         reinterpret_cast<std::uint64_t>(f.path.c_str()), O_RDONLY})
             .result_to(&fd_res)
             .stop_if(aa::stop::on_error))
      .then(aa::atom::pread(-1, buf, 500).arg_from_previous(0).result_to(&read_res))
      .then(aa::atom::close(-1).arg_from(0, 0));
  aa::result got;
  ctx.submit(c, [&](const aa::result& r) { got = r; });
  ctx.run();
  CHECK(fd_res >= 0);
  CHECK(read_res == 50);
  CHECK(static_cast<unsigned char>(buf[0]) == pattern(500));
  CHECK(got.index == 2);
  CHECK(got.status == 0);  // close() of the fd openat() returned
  errno = 0;
  CHECK(fcntl(static_cast<int>(fd_res), F_GETFD) == -1);
  CHECK(errno == EBADF);
  CHECK_THROWS_AS(aa::chain{aa::atom::close(-1).arg_from_previous(0)}, std::invalid_argument);
  CHECK_THROWS_AS(aa::chain{}.then(aa::atom::fsync(0)).then(aa::atom::close(-1).arg_from(0, 1)), std::invalid_argument);
}

TEST_CASE("chain: stop on error ends the chain at the failing atom", "[cxx]") {
  aa::context ctx;
  std::array<std::byte, 8> buf{};
  std::int64_t second = 12345;
  aa::chain c{aa::atom::pread(-1, buf, 0).stop_if(aa::stop::on_error),
              aa::atom::syscall(SYS_getpid, {}).result_to(&second)};
  aa::result got;
  ctx.submit(c, [&](const aa::result& r) { got = r; });
  ctx.run();
  CHECK(got.index == 0);
  CHECK(got.status == -EBADF);
  CHECK(got.error() == std::error_code(EBADF, std::system_category()));
  CHECK(second == 12345);  // never ran
  CHECK_THROWS_AS(got.value(), std::system_error);
}

TEST_CASE("batch submission and event_fd readiness", "[cxx]") {
  TempFile f(64 * 100);
  aa::context ctx;
  std::vector<std::array<std::byte, 64>> bufs(100);
  std::vector<aa::chain> chains;
  for (int i = 0; i < 100; i++) chains.push_back(aa::chain{aa::atom::pread(f.fd, bufs[i], i * 64)});
  int done = 0;
  auto ids = ctx.submit_batch(chains, [&](const aa::result& r) { done += r.status == 64; });
  CHECK(ids.size() == 100);
  pollfd p{ctx.event_fd(), POLLIN, 0};
  CHECK(::poll(&p, 1, 5000) == 1);
  ctx.run();
  CHECK(done == 100);
  for (int i = 0; i < 100; i++) CHECK(static_cast<unsigned char>(bufs[i][1]) == pattern(i * 64 + 1));
}

TEST_CASE("co_await read and write", "[cxx]") {
  TempFile f(0);
  aa::context ctx;
  const std::string msg = "awaited";
  std::array<std::byte, 7> back{};
  std::int64_t wrote = 0, got = 0;
  // The closure must outlive the coroutine (captures live in the closure).
  auto body = [&]() -> aa::task {
    aa::result w = co_await ctx.write(f.fd, std::as_bytes(std::span(msg.data(), msg.size())), 0);
    wrote = w.value();
    aa::result s = co_await ctx.fsync(f.fd);
    s.value();
    aa::result r = co_await ctx.read(f.fd, back, 0);
    got = r.value();
  };
  aa::task task = body();
  CHECK_FALSE(task.done());
  ctx.run();
  CHECK(task.done());
  task.get();
  CHECK(wrote == 7);
  CHECK(got == 7);
  CHECK(memcmp(back.data(), "awaited", 7) == 0);
}

TEST_CASE("co_await propagates failures as exceptions inside the coroutine", "[cxx]") {
  aa::context ctx;
  std::array<std::byte, 4> buf{};
  auto body = [&]() -> aa::task {
    aa::result r = co_await ctx.read(-1, buf, 0);
    r.value();  // throws
  };
  aa::task task = body();
  ctx.run();
  CHECK(task.done());
  CHECK_THROWS_AS(task.get(), std::system_error);
}

TEST_CASE("cancel a queued chain - destructor with requests in flight", "[cxx]") {
  if (!pool_submission()) ASYNCAIO_SKIP("needs requests that stay queued behind blocked workers: thread pool only (kernel: see the next test)");
  BlockWorkers busy;
  TempFile f(100);
  std::array<std::byte, 8> buf{};
  aa::result got;
  {
    aa::context ctx;
    CHECK(ctx.poll() == 0);
    auto id = ctx.submit(aa::chain{aa::atom::pread(f.fd, buf, 0)}, [&](const aa::result& r) { got = r; });
    CHECK(ctx.cancel(id));
    CHECK_FALSE(ctx.cancel(id + 1000));
    ctx.run();
    CHECK(got.canceled());
    CHECK(got.error() == std::errc::operation_canceled);
    // Still queued at destruction: cancelled, callback not run, no leak.
    bool ran = false;
    ctx.submit(aa::chain{aa::atom::pread(f.fd, buf, 0)}, [&](const aa::result&) { ran = true; });
    CHECK(ctx.in_flight() == 1);
    (void)ran;
  }
  busy.release();
}

TEST_CASE("kernel backend: cancel a blocked chain - destructor with a blocked chain in flight", "[cxx]") {
  if (backend() != "kernel") ASYNCAIO_SKIP("needs the kernel backend (async_cancel, R25)");
  Pipe p;
  std::array<std::byte, 8> buf{};
  aa::result got;
  bool ran = false;
  {
    aa::context ctx;
    auto id = ctx.submit(aa::chain{aa::atom::syscall(SYS_read, {static_cast<std::uint64_t>(p.r), reinterpret_cast<std::uint64_t>(buf.data()), buf.size()})}, [&](const aa::result& r) { got = r; });
    sleep_ms(50);  // the chain went async and is blocked in read()
    CHECK(ctx.in_flight() == 1);
    CHECK(ctx.cancel(id));
    ctx.run();
    CHECK(got.canceled());
    CHECK(got.error() == std::errc::operation_canceled);
    // Blocked at destruction: cancelled, callback not run, no leak, no hang.
    ctx.submit(aa::chain{aa::atom::syscall(SYS_read, {static_cast<std::uint64_t>(p.r), reinterpret_cast<std::uint64_t>(buf.data()), buf.size()})}, [&](const aa::result&) { ran = true; });
    sleep_ms(50);
    CHECK(ctx.in_flight() == 1);
  }
  CHECK_FALSE(ran);
}

TEST_CASE("misuse gives exceptions and error codes with clear messages", "[cxx]") {
  aa::chain c;
  for (std::size_t i = 0; i < aa::max_atoms; i++) c.then(aa::atom::syscall(SYS_getpid, {}));
  CHECK_THROWS_WITH(c.then(aa::atom::syscall(SYS_getpid, {})), Catch::Contains("at most 8 atoms"));
  CHECK_THROWS_AS(aa::atom::syscall(SYS_getpid, {}).arg_from_previous(6), std::out_of_range);
  CHECK_THROWS_AS(aa::atom::syscall(1 << 20, {}), std::invalid_argument);
  CHECK_THROWS_AS(aa::atom::syscall(SYS_read, {1, 2, 3, 4, 5, 6, 7}), std::invalid_argument);
  aa::context ctx;
  std::error_code ec;
  CHECK(ctx.submit(aa::chain{}, nullptr, ec) == 0);
  CHECK(ec == std::errc::invalid_argument);
  CHECK_THROWS_AS(ctx.submit(aa::chain{}, nullptr), std::system_error);
  CHECK(std::string(aa::context::backend()) == asyncaio_backend());
}
