// SPDX-License-Identifier: LGPL-2.1-or-later
// asyncaio C++ API demo: a chain with a result address and stop condition,
// a callback, a batch, and co_await.
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "asyncaio/asyncaio.hpp"

int main() {
  char path[] = "/tmp/asyncaio-demo-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return 1;
  unlink(path);

  asyncaio::context ctx;
  std::printf("backend: %s\n", asyncaio::context::backend());

  // 1. write, then fsync only if the write succeeded; both results visible.
  const std::string msg = "hello from a syslet chain\n";
  std::int64_t wrote = 0;
  auto bytes = std::as_bytes(std::span(msg.data(), msg.size()));
  asyncaio::chain c;
  c.then(asyncaio::atom::pwrite(fd, bytes, 0).result_to(&wrote).stop_if(asyncaio::stop::on_error))
      .then(asyncaio::atom::fsync(fd));
  ctx.submit(c, [&](const asyncaio::result& r) {
    std::printf("chain done: last atom %d status %lld, pwrite wrote %lld\n", r.index,
                static_cast<long long>(r.status), static_cast<long long>(wrote));
  });
  ctx.run();

  // 2. co_await a read
  std::array<std::byte, 64> buf{};
  // Keep the closure alive while the coroutine runs: its captures live there.
  auto reader = [&]() -> asyncaio::task {
    asyncaio::result r = co_await ctx.read(fd, buf, 0);
    std::printf("co_await read %lld bytes: %.*s", static_cast<long long>(r.value()),
                static_cast<int>(r.value()), reinterpret_cast<const char*>(buf.data()));
  };
  asyncaio::task t = reader();
  ctx.run();
  t.get();

  // 3. misuse is an exception with a clear message
  try {
    asyncaio::chain big;
    for (int i = 0; i < 9; i++) big.then(asyncaio::atom::fsync(fd));
  } catch (const std::length_error& e) {
    std::printf("expected error: %s\n", e.what());
  }
  close(fd);
  return 0;
}
