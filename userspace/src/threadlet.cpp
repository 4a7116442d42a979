// SPDX-License-Identifier: LGPL-2.1-or-later
// Threadlets: context::threadlet(callable).
//
// Kernel path: sys_async_thread (466) runs asyncaio_threadlet_entry(job) --
// a trampoline with C linkage, because the kernel enters it as fn(arg) -- in
// the calling thread, on a stack of our pool (Boost.Context's
// protected_fixedsize_stack), with asyncaio_threadlet_restorer as its return
// address; the restorer passes the return value to async_thread_return
// (467), like sa_restorer calls rt_sigreturn. ASYNC_EXEC_DONE: it ran to its
// end, the value is in args.status and the stack is free again at once.
// ASYNC_EXEC_WENT_ASYNC: it blocked; its completion (cookie = our Run,
// ASYNC_COMPLETION_THREADLET, status = value) arrives on our ring and
// eventfd, and only then does the reaper put the stack back and deliver the
// value to the context. A full ring (EAGAIN) sends the threadlet to the
// thread pool instead.
//
// The kernel path is used only when the library's kernel backend was chosen
// (so the syslet probe, which refuses kernels >= 6.13 where 463-467 are other
// calls, has passed) and async_thread itself probes like ours: EINVAL for a
// size below 80, before it reads anything. Otherwise, and in sanitizer
// builds, the callable runs in a worker of a thread pool.
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <boost/context/protected_fixedsize_stack.hpp>
#include <boost/context/stack_traits.hpp>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <vector>

#include "backends.hpp"
#include "cxx_impl.hpp"
#include "kernel_ring.hpp"
#include "syslet_abi.h"

#define EXPORT __attribute__((visibility("default")))

// The entry the kernel calls: fn(arg). Nothing here but the virtual call:
// after a handoff this runs concurrently with the caller on its TLS.
extern "C" long asyncaio_threadlet_entry(void* arg) noexcept {
  return static_cast<asyncaio::detail::threadlet_job*>(arg)->run();
}

#if defined(__x86_64__)
// Where the threadlet's function returns to: its value (rax) becomes the
// argument of async_thread_return(), which never returns here.
asm(R"(
	.pushsection .text
	.p2align 4
	.globl asyncaio_threadlet_restorer
	.hidden asyncaio_threadlet_restorer
	.type asyncaio_threadlet_restorer, @function
asyncaio_threadlet_restorer:
	mov %rax, %rdi
	mov $467, %eax
	syscall
	ud2
	.size asyncaio_threadlet_restorer, .-asyncaio_threadlet_restorer
	.popsection
)");
extern "C" void asyncaio_threadlet_restorer();
#endif

namespace asyncaio {

EXPORT long raw_syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5) noexcept {
#if defined(__x86_64__)
  register long r10 asm("r10") = a3;
  register long r8 asm("r8") = a4;
  register long r9 asm("r9") = a5;
  long ret;
  asm volatile("syscall"
               : "=a"(ret)
               : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9)
               : "rcx", "r11", "memory");
  return ret;
#else
  // No kernel threadlets here, so this runs only on the thread pool, where
  // errno is the worker's own.
  long r = ::syscall(nr, a0, a1, a2, a3, a4, a5);
  return r == -1 ? -errno : r;
#endif
}

namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ASYNCAIO_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define ASYNCAIO_SANITIZED 1
#endif
#endif

namespace bctx = boost::context;

// Stacks for the kernel path: allocated by Boost.Context, reused after the
// threadlet that had one is over (synchronous return or its completion).
class StackPool {
 public:
  StackPool() : alloc_(threadlet_stack_size) {}
  bctx::stack_context get() {  // throws std::bad_alloc
    {
      std::lock_guard lk(m_);
      if (!free_.empty()) {
        bctx::stack_context s = free_.back();
        free_.pop_back();
        return s;
      }
    }
    bctx::stack_context s = alloc_.allocate();
    allocated_.fetch_add(1, std::memory_order_relaxed);
    return s;
  }
  void put(bctx::stack_context s) noexcept {
    std::lock_guard lk(m_);
    try {
      free_.push_back(s);
    } catch (...) {
      alloc_.deallocate(s);
      allocated_.fetch_sub(1, std::memory_order_relaxed);
    }
  }
  // In a fork child: the lock may be held by a thread that is gone.
  void reset_after_fork() noexcept { new (&m_) std::mutex; }
  std::size_t allocated() const noexcept { return allocated_.load(std::memory_order_relaxed); }
  // protected_fixedsize_stack: [sp - size, sp), its lowest page the guard.
  static std::uint64_t bottom(const bctx::stack_context& s) noexcept {
    return reinterpret_cast<std::uint64_t>(s.sp) - s.size + bctx::stack_traits::page_size();
  }
  static std::uint64_t usable(const bctx::stack_context& s) noexcept {
    return s.size - bctx::stack_traits::page_size();
  }

 private:
  bctx::protected_fixedsize_stack alloc_;
  std::mutex m_;
  std::vector<bctx::stack_context> free_;
  std::atomic<std::size_t> allocated_{0};
};

static_assert(threadlet_stack_size >= AA_ASYNC_THREAD_MIN_STACK, "threadlet stacks below ASYNC_THREAD_MIN_STACK");

struct Run {  // one threadlet on the kernel path; the completion's cookie
  context::impl* ctx;
  std::uint64_t id;
  bctx::stack_context stack;
};

constexpr unsigned kRingEntries = 4096;

struct KernelThreadlets {
  detail::KernelRing kr;
  std::once_flag reaper_once;
  StackPool stacks;

  bool setup() noexcept { return kr.open(kRingEntries); }

  void ensure_reaper() noexcept {
    std::call_once(reaper_once, [this] {
      kr.start_reaper([this](const aa_async_completion& c) {
        Run* r = reinterpret_cast<Run*>(c.cookie);
        stacks.put(r->stack);  // the completion says the stack is free
        r->ctx->complete_threadlet(r->id, c.status);
        delete r;
      });
    });
  }
};

struct Choice {
  KernelThreadlets* kernel = nullptr;
  char reason[256] = "";
};

Choice& choice() noexcept;

Choice decide() noexcept {
  Choice c;
#if defined(ASYNCAIO_SANITIZED)
  snprintf(c.reason, sizeof c.reason,
           "sanitizer build: ASan/TSan cannot follow the stack switches the kernel makes for threadlets; "
           "threadlets run on the thread pool");
  return c;
#elif !defined(ASYNCAIO_NR_async_thread)
  snprintf(c.reason, sizeof c.reason, "no threadlet syscall numbers for this architecture; thread pool");
  return c;
#else
  const char* be = detail::backend_name();
  if (strcmp(be, "kernel") != 0) {
    snprintf(c.reason, sizeof c.reason, "backend '%s' (%s): threadlets run on the thread pool", be,
             detail::kernel_probe_reason());
    return c;
  }
  // The kernel backend's probe passed, so 463-467 are this series' calls.
  errno = 0;
  long r = syscall(ASYNCAIO_NR_async_thread, nullptr, 0);
  if (r == -1 && errno == ENOSYS) {
    snprintf(c.reason, sizeof c.reason, "sys_async_thread returned ENOSYS (kernel without threadlets); thread pool");
    return c;
  }
  if (!(r == -1 && errno == EINVAL)) {
    snprintf(c.reason, sizeof c.reason, "syscall 466 does not behave like sys_async_thread; thread pool");
    return c;
  }
  auto* k = new (std::nothrow) KernelThreadlets;
  if (!k || !k->setup()) {
    snprintf(c.reason, sizeof c.reason, "no memory or eventfd for the threadlet ring; thread pool");
    return c;
  }
  c.kernel = k;
  // The child of a fork has no reaper and the kernel does not know our ring
  // there: a fresh ring, eventfd and (lazily) reaper. Threadlets in flight in
  // the parent are not inherited (their stacks stay with the parent's).
  pthread_atfork(nullptr, nullptr, [] {
    KernelThreadlets* kt = choice().kernel;
    new (&kt->reaper_once) std::once_flag;
    kt->stacks.reset_after_fork();
    kt->setup();
  });
  snprintf(c.reason, sizeof c.reason, "kernel threadlets (sys_async_thread)");
  return c;
#endif
}

Choice& choice() noexcept {
  static Choice c = decide();
  return c;
}

// --- fallback: a worker of a thread pool runs the callable -------------------

thread_local bool tl_in_pool_threadlet = false;

struct PoolRun {
  context::impl* ctx;
  std::uint64_t id;
  detail::threadlet_job* job;
};

void exec_pool(Op* op, void*) {
  auto* r = static_cast<PoolRun*>(op->backend_priv);
  tl_in_pool_threadlet = true;
  long v = r->job->run();
  tl_in_pool_threadlet = false;
  op->state.store(detail::DONE, std::memory_order_seq_cst);
  r->ctx->complete_threadlet(r->id, v);
  delete r;
}

detail::Backend* g_pool = nullptr;
std::once_flag g_pool_once;

detail::Backend* pool() noexcept {
  std::call_once(g_pool_once, [] {
    g_pool = detail::make_thread_pool_backend(&exec_pool, nullptr, "threadlets");
    pthread_atfork(nullptr, nullptr, [] {
      if (g_pool) g_pool->reset_after_fork();
    });
  });
  return g_pool;
}

}  // namespace

EXPORT bool context::threadlets_in_kernel() noexcept { return choice().kernel != nullptr; }
EXPORT const char* context::threadlet_reason() noexcept { return choice().reason; }
EXPORT std::size_t context::threadlet_stacks_allocated() noexcept {
  Choice& c = choice();
  return c.kernel ? c.kernel->stacks.allocated() : 0;
}

EXPORT threadlet_started context::start_threadlet(std::unique_ptr<detail::threadlet_job> job, callback cb,
                                                  bool deliver_done, std::error_code& ec) noexcept {
  ec.clear();
  if (!job) {
    ec = std::make_error_code(std::errc::invalid_argument);
    return {};
  }
  if (tl_in_pool_threadlet) {  // the kernel says EBUSY for the same misuse
    ec = std::error_code(EBUSY, std::system_category());
    return {};
  }
  if (!detail::backend()) {
    ec = std::error_code(detail::backend_errno(), std::system_category());
    return {};
  }
  Choice& c = choice();
  detail::threadlet_job* j = job.get();
  std::uint64_t id;
  try {
    std::lock_guard lk(impl_->m);
    id = impl_->next_id++;
    impl_->inflight.emplace(id, impl::pending{std::move(cb), nullptr, std::move(job)});
  } catch (...) {
    ec = std::make_error_code(std::errc::not_enough_memory);
    return {};
  }
  auto forget = [&] {
    std::lock_guard lk(impl_->m);
    impl_->inflight.erase(id);  // destroys the callable and the callback
  };

#if defined(ASYNCAIO_NR_async_thread) && defined(__x86_64__)
  if (c.kernel) {
    Run* r = new (std::nothrow) Run{impl_.get(), id, {}};
    bool have_stack = false;
    if (r) {
      try {
        r->stack = c.kernel->stacks.get();
        have_stack = true;
      } catch (...) {
      }
    }
    if (!have_stack) {
      delete r;
      forget();
      ec = std::make_error_code(std::errc::not_enough_memory);
      return {};
    }
    c.kernel->ensure_reaper();
    aa_async_thread_args a;
    memset(&a, 0, sizeof a);
    a.fn = reinterpret_cast<std::uint64_t>(&asyncaio_threadlet_entry);
    a.arg = reinterpret_cast<std::uint64_t>(j);
    a.stack = StackPool::bottom(r->stack);
    a.stack_size = StackPool::usable(r->stack);
    a.restorer = reinterpret_cast<std::uint64_t>(&asyncaio_threadlet_restorer);
    a.ring = reinterpret_cast<std::uint64_t>(c.kernel->kr.ring);
    a.cookie = reinterpret_cast<std::uint64_t>(r);
    a.eventfd = static_cast<std::uint32_t>(c.kernel->kr.evfd);
    long rc = syscall(ASYNCAIO_NR_async_thread, &a, sizeof a);
    if (rc == AA_ASYNC_EXEC_WENT_ASYNC) return {id, false, 0};  // r belongs to the reaper now
    int err = rc < 0 ? errno : 0;
    c.kernel->stacks.put(r->stack);
    delete r;
    if (rc == AA_ASYNC_EXEC_DONE) {
      if (deliver_done) impl_->complete_threadlet(id, a.status);
      else forget();
      return {id, true, a.status};
    }
    if (err != EAGAIN) {  // nothing ran
      forget();
      ec = std::error_code(err ? err : EIO, std::system_category());
      return {};
    }
    // Ring full: nothing ran; the thread pool runs it.
  }
#else
  (void)c;
#endif

  Op* op = detail::op_alloc();
  PoolRun* pr = op ? new (std::nothrow) PoolRun{impl_.get(), id, j} : nullptr;
  int e = pr ? pool()->submit((op->backend_priv = pr, op)) : ENOMEM;
  if (op) op->put();  // the pool holds its own reference
  if (e) {
    delete pr;
    forget();
    ec = std::error_code(e, std::system_category());
    return {};
  }
  return {id, false, 0};
}

EXPORT bool threadlet_awaitable::await_suspend(std::coroutine_handle<> h) {
  threadlet_started s = ctx_->start_threadlet(std::move(job_), [this, h](const result& r) {
    res_ = r;
    h.resume();
  }, false, start_error_);
  if (start_error_) return false;
  if (s.done) {
    res_ = result{s.value, 0, s.id};
    return false;  // not suspended: the value is here
  }
  return true;
}

EXPORT result threadlet_awaitable::await_resume() {
  if (start_error_) throw std::system_error(start_error_, "asyncaio: co_await threadlet");
  return res_;
}

}  // namespace asyncaio
