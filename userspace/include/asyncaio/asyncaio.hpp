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
// Threadlets: context::threadlet(callable, callback) runs the callable in
// the calling thread on a stack of the library's (Boost.Context); only if it
// blocks does the caller get control back while the callable finishes in the
// background (kernel: sys_async_thread). See "Threadlets" below for what is
// safe inside one.
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
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
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

// ---------------------------------------------------------------------------
// Threadlets
//
//   aa::threadlet_started s = ctx.threadlet([&]() -> long {
//     return aa::raw_syscall(SYS_read, fd, buf, n);   // may block
//   }, [](const aa::result& r) { /* r.status: the value, r.id == s.id */ });
//   if (s.done) { /* ran to its end without blocking: s.value */ }
//   ctx.run();                                         // the callback runs here
//
// Kernel path (kernel backend and sys_async_thread present, x86-64): the
// callable runs at once in the calling thread, on a stack from the
// library's pool (boost::context::protected_fixedsize_stack,
// threadlet_stack_size bytes, guard page below). If it returns without
// blocking, threadlet() returns with done = true and the value. If it
// blocks, threadlet() returns at once (done = false) in the same thread
// (same thread id), and the callable goes on concurrently in another
// kernel task; its value comes with the completion. A stack is reused only
// after its threadlet's completion (or synchronous return) arrived.
// The thread-group leader's (main thread's) threadlets never go async: the
// kernel runs them to their end, blocking or not (done = true). Call
// threadlet() from another thread to get the asynchronous behaviour.
//
// Fallback (thread-pool backend, a kernel without the syscalls, or a
// sanitizer build, which cannot follow the kernel switching stacks): the
// callable runs in a worker of a thread pool (done = false), and its value
// is delivered the same way. threadlets_in_kernel() says which one is used,
// threadlet_reason() why.
//
// Either way the callback runs exactly once, from poll()/wait()/run() of
// the context, with result{status = value, index = 0, id}; a negative value
// is taken as -errno by result::value()/error(), like a system call's.
//
// WHAT IS SAFE INSIDE A THREADLET. Until it blocks, a threadlet is a plain
// function call of the calling thread. After the handoff it runs
// concurrently with the caller on the *same* thread-local storage: errno,
// the C library's per-thread state (malloc arenas and tcache, stdio
// locks' owner, pthread_self(), cancellation), any thread_local variable
// are shared with the caller. So, inside the callable:
//   * make system calls with asyncaio::raw_syscall() (returns -errno, never
//     touches errno), not through libc wrappers that set errno;
//   * touch only memory the caller set aside for it (captures, buffers),
//     which must stay valid until the callback ran;
//   * no malloc/new, no locks (std::mutex, stdio, iostream), no exceptions
//     (an escaping exception calls std::terminate), no thread_local,
//     no asyncaio calls;
//   * stay within threadlet_stack_size bytes of stack.
// The callable object itself is moved to the heap by threadlet() before it
// runs, and destroyed in the thread that runs the callback.
inline constexpr std::size_t threadlet_stack_size = 64 * 1024;

// What threadlet() knows when it returns.
struct threadlet_started {
  std::uint64_t id = 0;     // the callback's result.id
  bool done = false;        // ran to its end in the caller, without blocking
  std::int64_t value = 0;   // the callable's value if done
};

// A system call without libc: returns the kernel's value (-errno on error)
// and never touches errno. Safe inside a threadlet.
long raw_syscall(long nr, long a0 = 0, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0,
                 long a5 = 0) noexcept;

namespace detail {
struct threadlet_job {
  virtual long run() noexcept = 0;
  virtual ~threadlet_job() = default;
};
template <class F>
struct threadlet_callable final : threadlet_job {
  explicit threadlet_callable(F&& fn) : f(std::move(fn)) {}
  explicit threadlet_callable(const F& fn) : f(fn) {}
  long run() noexcept override { return static_cast<long>(f()); }
  F f;
};
template <class T> struct is_std_function : std::false_type {};
template <class R, class... A> struct is_std_function<std::function<R(A...)>> : std::true_type {};
}  // namespace detail

// co_await ctx.async_threadlet(callable): the value (result.status).
class threadlet_awaitable {
 public:
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h);
  result await_resume();  // throws std::system_error if the threadlet could not start

 private:
  friend class context;
  threadlet_awaitable(context* c, std::unique_ptr<detail::threadlet_job> j) : ctx_(c), job_(std::move(j)) {}
  context* ctx_;
  std::unique_ptr<detail::threadlet_job> job_;
  result res_{};
  std::error_code start_error_{};
};

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

  // Threadlets (see above). The callable takes no argument and returns
  // something convertible to long. Throws std::invalid_argument for an
  // empty callable (null function pointer, empty std::function) and
  // std::system_error when the threadlet could not start (EBUSY: called
  // from inside a threadlet; ENOSYS: ASYNCAIO_BACKEND=kernel without the
  // kernel; ENOMEM: no stack) -- nothing ran then, and no callback comes.
  template <class F>
  threadlet_started threadlet(F&& fn, callback cb) {
    std::error_code ec;
    auto s = start_threadlet(make_threadlet_job(std::forward<F>(fn)), std::move(cb), true, ec);
    if (ec) throw std::system_error(ec, "asyncaio::context::threadlet");
    return s;
  }
  // ... or reports through ec (id 0; std::invalid_argument for an empty
  // callable becomes errc::invalid_argument).
  template <class F>
  threadlet_started threadlet(F&& fn, callback cb, std::error_code& ec) noexcept {
    ec.clear();
    try {
      return start_threadlet(make_threadlet_job(std::forward<F>(fn)), std::move(cb), true, ec);
    } catch (const std::invalid_argument&) {
      ec = std::make_error_code(std::errc::invalid_argument);
    } catch (...) {
      ec = std::make_error_code(std::errc::not_enough_memory);
    }
    return {};
  }
  // The C shape the kernel calls: fn(arg).
  threadlet_started threadlet(long (*fn)(void*), void* arg, callback cb) {
    if (!fn) throw std::invalid_argument("asyncaio::context::threadlet: null function");
    return threadlet([fn, arg]() noexcept { return fn(arg); }, std::move(cb));
  }
  template <class F>
  threadlet_awaitable async_threadlet(F&& fn) {
    return threadlet_awaitable(this, make_threadlet_job(std::forward<F>(fn)));
  }
  // true: threadlets run on the kernel's async_thread(); false: thread pool.
  static bool threadlets_in_kernel() noexcept;
  static const char* threadlet_reason() noexcept;
  // Stacks the kernel path allocated so far (0 on the thread pool); they
  // are reused, so this stays at the most threadlets ever in flight at once.
  static std::size_t threadlet_stacks_allocated() noexcept;

  struct impl;

 private:
  friend class op_awaitable;
  friend class threadlet_awaitable;
  template <class F>
  static std::unique_ptr<detail::threadlet_job> make_threadlet_job(F&& fn) {
    using D = std::decay_t<F>;
    static_assert(std::is_invocable_r_v<long, D&>,
                  "asyncaio: a threadlet is a callable without arguments returning something convertible to long");
    if constexpr (std::is_pointer_v<D> || detail::is_std_function<D>::value) {
      if (!fn) throw std::invalid_argument("asyncaio::context::threadlet: empty callable");
    }
    return std::make_unique<detail::threadlet_callable<D>>(std::forward<F>(fn));
  }
  // deliver_done: also queue the callback when it ran synchronously.
  threadlet_started start_threadlet(std::unique_ptr<detail::threadlet_job> job, callback cb, bool deliver_done,
                                    std::error_code& ec) noexcept;
  std::unique_ptr<impl> impl_;
};

}  // namespace asyncaio
