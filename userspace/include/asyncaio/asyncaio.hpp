// SPDX-License-Identifier: LGPL-2.1-or-later
//
// asyncaio C++20 API.
//
//   asyncaio::context ctx;                       // picks the backend
//   std::array<std::byte, 4096> buf;
//   ctx.submit(asyncaio::chain{}.then(asyncaio::atom::pread(fd, buf, 0)),
//              [](const asyncaio::result& r) { ... });
//   ctx.wait();                                  // runs the callback
//
//   auto body = [&]() -> asyncaio::task {      // keep the closure alive:
//     asyncaio::result r = co_await ctx.read(fd, buf, 0);   // captures live in it
//   };
//   asyncaio::task t = body();
//   ctx.run();                                   // until nothing is in flight
//
// A chain is a short linear list of syscall atoms (at most max_atoms), with a
// stop condition per atom, an optional "take argument i from the previous
// atom's result" and an optional result address: exactly what the kernel's
// syslet chains offer; the thread-pool backend runs the same chains in a
// worker thread. Completions are delivered only from poll()/wait()/run() in
// the thread that calls them, or through event_fd() in an epoll loop.
//
// Threadlets (a callable on a Boost.Context stack that continues in the
// background when it blocks) will be context::threadlet(); see
// docs in README. Not available yet.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace asyncaio {

inline constexpr std::size_t max_atoms = 8;

// When to stop a chain after an atom (the kernel's enum async_stop).
enum class stop : std::uint8_t { never = 0, on_zero, on_nonzero, on_negative, on_nonpositive, on_error };

// What a completion says (R17): status of the last atom that ran, its index,
// and the chain's cookie (the id submit() returned).
struct result {
  std::int64_t status = 0;
  int index = -1;
  std::uint64_t id = 0;
  bool ok() const noexcept { return status >= 0; }
  bool canceled() const noexcept { return status == -125; /* ECANCELED */ }
  std::error_code error() const noexcept {
    return status < 0 ? std::error_code(static_cast<int>(-status), std::system_category()) : std::error_code{};
  }
  // The value, or throws std::system_error carrying the error.
  std::int64_t value() const;
};

class atom {
 public:
  static atom syscall(long nr, std::initializer_list<std::uint64_t> args);
  static atom pread(int fd, std::span<std::byte> buf, off_t offset);
  static atom pwrite(int fd, std::span<const std::byte> buf, off_t offset);
  static atom fsync(int fd);
  static atom fdatasync(int fd);
  static atom close(int fd);

  atom& stop_if(stop s) noexcept { stop_ = s; return *this; }
  // Argument i (0..5) is replaced, when the chain runs, by the result of the
  // previous atom / of the earlier atom at index k (R02). Checked at submit.
  atom& arg_from_previous(unsigned i);
  atom& arg_from(unsigned i, unsigned k);
  // The atom's return value is also stored at *addr (R20). The address must
  // stay valid until the chain completes.
  atom& result_to(std::int64_t* addr) noexcept { result_ = addr; return *this; }

  long number() const noexcept { return nr_; }

 private:
  friend class context;
  friend class chain;
  long nr_ = 0;
  std::uint64_t args_[6] = {};
  std::int8_t from_[6] = {-1, -1, -1, -1, -1, -1};  // -2: previous atom
  stop stop_ = stop::never;
  std::int64_t* result_ = nullptr;
};

class chain {
 public:
  chain() = default;
  chain(std::initializer_list<atom> atoms);
  // Throws std::length_error past max_atoms.
  chain& then(const atom& a);
  std::size_t size() const noexcept { return atoms_.size(); }
  bool empty() const noexcept { return atoms_.empty(); }
  const std::vector<atom>& atoms() const noexcept { return atoms_; }

 private:
  std::vector<atom> atoms_;
};

class context;

// co_await context::async(chain) / read() / write() / fsync().
class op_awaitable {
 public:
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h);
  result await_resume();  // throws std::system_error if submission failed

 private:
  friend class context;
  op_awaitable(context* c, chain ch) : ctx_(c), chain_(std::move(ch)) {}
  context* ctx_;
  chain chain_;
  result res_{};
  std::error_code submit_error_{};
};

// Minimal eager, detached-until-destroyed coroutine type for co_await users.
class task {
 public:
  struct promise_type {
    std::exception_ptr error;
    bool done = false;
    task get_return_object() { return task{std::coroutine_handle<promise_type>::from_promise(*this)}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { done = true; return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { error = std::current_exception(); }
  };
  task(task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  task& operator=(task&&) = delete;
  ~task() { if (h_) h_.destroy(); }
  bool done() const noexcept { return h_ && h_.promise().done; }
  // Rethrows an exception that escaped the coroutine.
  void get() const { if (h_ && h_.promise().error) std::rethrow_exception(h_.promise().error); }

 private:
  explicit task(std::coroutine_handle<promise_type> h) : h_(h) {}
  std::coroutine_handle<promise_type> h_;
};

class context {
 public:
  using callback = std::function<void(const result&)>;

  context();
  ~context();  // cancels what is still queued, waits for the rest; callbacks not run
  context(const context&) = delete;
  context& operator=(const context&) = delete;

  // Submit one chain; returns its id (the completion's cookie).
  // Throws std::system_error (EAGAIN: too many requests; ENOSYS: no backend;
  // EINVAL: empty chain) ...
  std::uint64_t submit(const chain& c, callback cb);
  // ... or reports through ec and returns 0.
  std::uint64_t submit(const chain& c, callback cb, std::error_code& ec) noexcept;
  // Batch submission: all or nothing with respect to admission (EAGAIN).
  std::vector<std::uint64_t> submit_batch(std::span<const chain> chains, callback cb);

  // Cancel a submitted chain that has not started: true if it will complete
  // with ECANCELED.
  bool cancel(std::uint64_t id) noexcept;

  // Run the callbacks of completed chains. poll() never blocks; wait() blocks
  // until at least min_completions ran or the timeout passed; run() until
  // nothing is in flight. They return the number of completions handled.
  std::size_t poll();
  std::size_t wait(std::size_t min_completions = 1,
                   std::chrono::nanoseconds timeout = std::chrono::nanoseconds(-1));
  std::size_t run();

  // Readable (EPOLLIN) whenever completions are ready to be polled (R21).
  int event_fd() const noexcept;
  std::size_t in_flight() const noexcept;
  static const char* backend() noexcept;

  // Awaitables: the coroutine is resumed from poll()/wait()/run().
  op_awaitable async(chain c) { return op_awaitable(this, std::move(c)); }
  op_awaitable read(int fd, std::span<std::byte> buf, off_t offset) { return async(chain{atom::pread(fd, buf, offset)}); }
  op_awaitable write(int fd, std::span<const std::byte> buf, off_t offset) { return async(chain{atom::pwrite(fd, buf, offset)}); }
  op_awaitable fsync(int fd) { return async(chain{atom::fsync(fd)}); }

  struct impl;

 private:
  friend class op_awaitable;
  std::unique_ptr<impl> impl_;
};

}  // namespace asyncaio
