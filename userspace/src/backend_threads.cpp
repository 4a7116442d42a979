// SPDX-License-Identifier: LGPL-2.1-or-later
// Thread-pool backend: used when the kernel has no syslets (ENOSYS) or when
// ASYNCAIO_BACKEND=threads. One FIFO shared by all fds: no per-fd
// serialisation. Workers are created on demand up to ASYNCAIO_THREADS and
// retire after ASYNCAIO_IDLE_TIME seconds idle. A queued request can be
// cancelled (it is skipped when popped); a running one cannot
// (AIO_NOTCANCELED, truthfully).
#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "backends.hpp"

namespace asyncaio::detail {
namespace {

class ThreadPool final : public Backend {
 public:
  ThreadPool(ExecFn exec, void* ctx, const char* name) : exec_(exec), ctx_(ctx), name_(name) {}
  const char* name() const noexcept override { return name_; }

  int submit(Op* op) noexcept override {
    op->get();  // the queue's reference
    std::unique_lock lk(m_);
    try {
      q_.push_back(op);
    } catch (...) {
      lk.unlock();
      op->put();
      return EAGAIN;
    }
    if (idle_ > wakeups_) {
      wakeups_++;
      cv_.notify_one();
    } else if (nthreads_ < tunables().max_threads) {
      if (!spawn_locked()) {
        if (nthreads_ == 0) {
          q_.pop_back();
          lk.unlock();
          op->put();
          return EAGAIN;
        }
      }
    }
    return 0;
  }

  void reset_after_fork() noexcept override {
    // The parent's workers do not exist in the child. Leak the old queue
    // (its mutex may be held by a thread that is gone) and start afresh.
    new (&m_) std::mutex;
    new (&cv_) std::condition_variable;
    new (&q_) std::deque<Op*>;
    nthreads_ = idle_ = wakeups_ = 0;
  }

 private:
  bool spawn_locked() noexcept {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);  // workers never take signals
    bool ok = true;
    try {
      std::thread(&ThreadPool::worker, this).detach();
      nthreads_++;
    } catch (...) {
      ok = false;
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return ok;
  }

  void worker() noexcept {
    const auto idle = std::chrono::seconds(tunables().idle_seconds);
    std::unique_lock lk(m_);
    for (;;) {
      while (q_.empty()) {
        idle_++;
        bool timed_out = cv_.wait_for(lk, idle) == std::cv_status::timeout;
        idle_--;
        if (wakeups_ > 0) wakeups_--;
        if (timed_out && q_.empty()) {
          nthreads_--;
          return;
        }
      }
      Op* op = q_.front();
      q_.pop_front();
      lk.unlock();
      int expected = QUEUED;
      if (op->state.compare_exchange_strong(expected, RUNNING, std::memory_order_seq_cst)) {
        if (exec_) {
          exec_(op, ctx_);
        } else {
          run_chain(op);
          finish(op);
        }
      }
      op->put();
      lk.lock();
    }
  }

  ExecFn exec_;
  void* ctx_;
  const char* name_;
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<Op*> q_;
  int nthreads_ = 0;
  int idle_ = 0;
  int wakeups_ = 0;  // notifications sent to idle workers not yet consumed
};

}  // namespace

Backend* make_thread_pool_backend(ExecFn exec, void* ctx, const char* name) {
  return new ThreadPool(exec, ctx, name);
}

}  // namespace asyncaio::detail
