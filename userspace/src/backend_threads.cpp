// SPDX-License-Identifier: LGPL-2.1-or-later
// Thread-pool backend: used when the kernel has no syslets (ENOSYS) or when
// ASYNCAIO_BACKEND=threads (also the threadlet pool and the kernel backend's
// submitters).
//
// Design (issue 8, B6)
// --------------------
// One FIFO shared by all fds: requests start in submission order, with no
// per-fd serialisation (two requests on one fd may run at once and complete
// in either order, as POSIX allows). Before issue 8 every submission took the
// pool's one mutex and, with a worker idle, signalled the condition variable:
// on a burst up to 16 workers woke and fought over the lock (B6: 0.2x glibc on
// 2 CPUs). Now:
//
// - Submission takes no lock in the common case: the request is pushed on
//   inbox_, a lock-free stack (Treiber, linked through Op::pool_next). Workers
//   move it, under the mutex, to the tail of the FIFO (qhead_/qtail_) in
//   submission order (drain_locked) when the FIFO is empty, or when a
//   submitter takes the slow path. The FIFO is intrusive: no allocation, so
//   submit() cannot fail for want of memory.
// - Two limits. ASYNCAIO_THREADS (default 16) is the most threads there can
//   be, as before. ASYNCAIO_CONCURRENCY (default: the number of CPUs,
//   std::thread::hardware_concurrency) is how many workers a submitter keeps
//   "active" (running a request, or awake looking for one). A submitter wakes
//   (or creates) a worker only if fewer than that many are active and the
//   queue holds more requests than there are workers spinning for one. On a
//   burst of 1,000 cached reads that is one or two futex wakes, not 1,000, and
//   only CONCURRENCY workers contend for the lock. The submitter's fast path
//   (push, then read spinning_, active_ and watch_ without the lock) is safe
//   against a worker going to sleep at the same time because both sides use
//   seq_cst: the worker decrements spinning_/active_ and then re-reads
//   inbox_; the submitter pushes to inbox_ and then reads the counters. One
//   of the two sees the other (Dekker), so a request is never left with no
//   active worker and no wake-up. Counters are only written under the mutex.
// - Workers never sleep while the queue has work: after a request they take
//   the next one at once; when the queue is empty they spin briefly (kSpin
//   polls of inbox_ and the queue length, without the lock) before sleeping, so a
//   request submitted right after is taken without a wake-up. A spinning
//   worker counts as active, and a submitter that sees one wakes nobody.
// - Requests may block (pipes, sockets, locks): CONCURRENCY workers all
//   blocked must not starve the queue (or deadlock a program whose blocked
//   reads wait for its queued writes). So whenever a submitter leaves a
//   request queued behind CONCURRENCY active workers, a watchdog is armed: one
//   idle worker (or a new thread, within ASYNCAIO_THREADS) waits on its own
//   condition variable for kStallWindow. If in that time no worker took a
//   request from the queue (the dequeue counter did not move) and the queue is
//   not empty, every active worker is taken to be blocked: the watchdog turns
//   worker and wakes or creates one more worker per queued request, up to
//   ASYNCAIO_THREADS. Thus blocking requests still get up to ASYNCAIO_THREADS
//   workers (after one stall window, 5 ms), and CPU-bound ones get CONCURRENCY.
// - Wake-ups are tokens: a submitter that wants a worker (or the watchdog)
//   increments work_tokens_ (wd_tokens_) under the lock and notifies cv_; a
//   worker woken from cv_ (or timed out) takes a token if there is one. So a
//   notification is never lost and a worker never idles while counted active.
// - Idle workers exit after ASYNCAIO_IDLE_TIME seconds, as before.
//
// A queued request can be cancelled (it is skipped when popped: the QUEUED ->
// RUNNING compare-and-swap fails); a running one cannot (AIO_NOTCANCELED,
// truthfully). After fork() the child starts with an empty pool. Workers are
// named "aio-<backend name>" (e.g. aio-threads) for ps, top and debuggers.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "backends.hpp"

namespace asyncaio::detail {
namespace {

// Polls of the queue before an idle worker sleeps (a few microseconds): long
// enough to catch the next request of a burst, short enough not to take the CPU
// from the submitting thread on a small machine (longer spins measured slower).
constexpr int kSpin = 200;
constexpr auto kStallWindow = std::chrono::milliseconds(5);

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#else
  std::atomic_signal_fence(std::memory_order_seq_cst);
#endif
}

class ThreadPool final : public Backend {
  enum class Mode { work, watch, idle };

 public:
  ThreadPool(ExecFn exec, void* ctx, const char* name) : exec_(exec), ctx_(ctx), name_(name) {}
  const char* name() const noexcept override { return name_; }

  int submit(Op* op) noexcept override {
    op->get();  // the queue's reference
    Op* head = inbox_.load(std::memory_order_relaxed);
    do {
      op->pool_next = head;
    } while (!inbox_.compare_exchange_weak(head, op, std::memory_order_seq_cst, std::memory_order_relaxed));
    // Fast path, no lock: a spinning worker will see the push; or enough
    // workers are active and a watchdog is armed. (The push and these loads
    // are seq_cst, as are a worker's decrement and its re-check of inbox_
    // before it sleeps: one of the two sides sees the other.)
    if (spinning_.load(std::memory_order_seq_cst) > 0) return 0;
    const int maxt = tunables().max_threads;
    const int target = concurrency(maxt);
    if (active_.load(std::memory_order_seq_cst) >= target && watch_.load(std::memory_order_seq_cst)) return 0;

    std::unique_lock lk(m_);
    drain_locked();
    if (qlen_ <= static_cast<size_t>(spinning_.load(std::memory_order_relaxed))) return 0;
    if (active_.load(std::memory_order_relaxed) < target) {
      if (wake_locked(Mode::work)) return 0;
      if (nthreads_ == 0 && unlink_locked(op)) {  // no worker at all and none can be made
        lk.unlock();
        op->put();
        return EAGAIN;
      }
      // else: the existing workers will get to it (ASYNCAIO_THREADS reached)
    } else if (!watch_.load(std::memory_order_relaxed)) {
      // Queued behind CONCURRENCY active workers, which may all block.
      if (wake_locked(Mode::watch)) watch_.store(true, std::memory_order_seq_cst);
    }
    return 0;
  }

  void reset_after_fork() noexcept override {
    // The parent's workers do not exist in the child. Leak the old queue
    // (its mutex may be held by a thread that is gone) and start afresh.
    new (&m_) std::mutex;
    new (&cv_) std::condition_variable;
    new (&cv_wd_) std::condition_variable;
    inbox_.store(nullptr, std::memory_order_relaxed);
    qhead_ = qtail_ = nullptr;
    qlen_ = 0;
    qhint_.store(0, std::memory_order_relaxed);
    active_.store(0, std::memory_order_relaxed);
    spinning_.store(0, std::memory_order_relaxed);
    watch_.store(false, std::memory_order_relaxed);
    nthreads_ = sleepers_ = work_tokens_ = wd_tokens_ = 0;
    dequeued_ = 0;
  }

 private:
  static int concurrency(int maxt) noexcept {
    int c = tunables().concurrency;
    if (c < 1) c = 1;
    return c < maxt ? c : maxt;
  }

  // Move the submission stack (newest first) to the tail of the FIFO, in
  // submission order. Lock held.
  void drain_locked() noexcept {
    Op* l = inbox_.exchange(nullptr, std::memory_order_seq_cst);
    if (!l) return;
    Op* tail = l;
    Op* rev = nullptr;
    size_t n = 0;
    while (l) {
      Op* next = l->pool_next;
      l->pool_next = rev;
      rev = l;
      l = next;
      n++;
    }
    if (qtail_) qtail_->pool_next = rev; else qhead_ = rev;
    qtail_ = tail;
    qlen_ += n;
    qhint_.store(qlen_, std::memory_order_relaxed);
  }

  Op* pop_locked() noexcept {
    if (!qhead_) drain_locked();
    Op* op = qhead_;
    if (!op) return nullptr;
    qhead_ = op->pool_next;
    if (!qhead_) qtail_ = nullptr;
    op->pool_next = nullptr;
    qlen_--;
    qhint_.store(qlen_, std::memory_order_relaxed);
    dequeued_++;
    return op;
  }

  bool unlink_locked(Op* op) noexcept {
    Op* prev = nullptr;
    for (Op* o = qhead_; o; prev = o, o = o->pool_next) {
      if (o != op) continue;
      if (prev) prev->pool_next = o->pool_next; else qhead_ = o->pool_next;
      if (qtail_ == o) qtail_ = prev;
      o->pool_next = nullptr;
      qlen_--;
      qhint_.store(qlen_, std::memory_order_relaxed);
      return true;
    }
    return false;
  }

  bool has_work_locked() noexcept {
    return qhead_ != nullptr || inbox_.load(std::memory_order_seq_cst) != nullptr;
  }

  // Sleeping workers not already claimed by a token.
  int sleepers_free() const noexcept { return sleepers_ - work_tokens_ - wd_tokens_; }

  // Get a worker into mode (work or watch): wake a free sleeper, else create
  // a thread within ASYNCAIO_THREADS. Lock held. false: neither possible.
  bool wake_locked(Mode mode) noexcept {
    if (sleepers_free() > 0) {
      if (mode == Mode::work) {
        work_tokens_++;
        active_.fetch_add(1, std::memory_order_seq_cst);
      } else {
        wd_tokens_++;
      }
      cv_.notify_one();
      return true;
    }
    if (nthreads_ >= tunables().max_threads) return false;
    if (!spawn_locked(mode)) return false;
    if (mode == Mode::work) active_.fetch_add(1, std::memory_order_seq_cst);
    return true;
  }

  bool spawn_locked(Mode mode) noexcept {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);  // workers never take signals
    bool ok = true;
    try {
      std::thread(&ThreadPool::worker, this, mode).detach();
      nthreads_++;
    } catch (...) {
      ok = false;
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return ok;
  }

  void run(Op* op) noexcept {
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
  }

  // The watchdog: lock held, watch_ set. Returns the next mode.
  Mode watch(std::unique_lock<std::mutex>& lk) noexcept {
    uint64_t seen = dequeued_;
    for (;;) {
      drain_locked();
      if (!qhead_) {
        watch_.store(false, std::memory_order_seq_cst);
        if (inbox_.load(std::memory_order_seq_cst) == nullptr) return Mode::idle;
        watch_.store(true, std::memory_order_seq_cst);  // a submitter relied on us
        continue;
      }
      cv_wd_.wait_for(lk, kStallWindow);
      drain_locked();
      if (!qhead_) continue;
      if (dequeued_ != seen) {  // progress: the active workers are not stuck
        seen = dequeued_;
        continue;
      }
      // Stalled: every active worker is blocked. Join them, and bring one
      // more worker per further queued request, within ASYNCAIO_THREADS.
      watch_.store(false, std::memory_order_seq_cst);
      active_.fetch_add(1, std::memory_order_seq_cst);
      size_t more = qlen_ - 1;
      while (more > static_cast<size_t>(spinning_.load(std::memory_order_relaxed)) && wake_locked(Mode::work))
        more--;
      return Mode::work;
    }
  }

  void worker(Mode mode) noexcept {
    {
      char comm[16];  // "aio-threads", "aio-threadlets", "aio-kernel": visible in ps/top/gdb
      snprintf(comm, sizeof comm, "aio-%s", name_);
      pthread_setname_np(pthread_self(), comm);
    }
    const auto idle = std::chrono::seconds(tunables().idle_seconds);
    std::unique_lock lk(m_);
    for (;;) {
      if (mode == Mode::work) {
        if (Op* op = pop_locked()) {
          lk.unlock();
          run(op);
          lk.lock();
          continue;
        }
        // Nothing queued: spin a little before sleeping; a submitter that
        // sees us spinning wakes nobody.
        spinning_.fetch_add(1, std::memory_order_seq_cst);
        lk.unlock();
        for (int i = 0; i < kSpin && inbox_.load(std::memory_order_relaxed) == nullptr &&
                        qhint_.load(std::memory_order_relaxed) == 0;
             i++)
          cpu_relax();
        lk.lock();
        spinning_.fetch_sub(1, std::memory_order_seq_cst);
        if (has_work_locked()) continue;
        active_.fetch_sub(1, std::memory_order_seq_cst);
        if (inbox_.load(std::memory_order_seq_cst) != nullptr) {  // pushed meanwhile
          active_.fetch_add(1, std::memory_order_seq_cst);
          continue;
        }
        mode = Mode::idle;
      }
      if (mode == Mode::watch) {
        mode = watch(lk);
        continue;
      }
      // idle
      sleepers_++;
      bool timed_out = cv_.wait_for(lk, idle) == std::cv_status::timeout;
      sleepers_--;
      if (work_tokens_ > 0) {
        work_tokens_--;  // active_ was counted by whoever woke us
        mode = Mode::work;
      } else if (wd_tokens_ > 0) {
        wd_tokens_--;
        mode = Mode::watch;
      } else if (has_work_locked() &&
                 active_.load(std::memory_order_relaxed) < concurrency(tunables().max_threads)) {
        active_.fetch_add(1, std::memory_order_seq_cst);  // woken without a token, work to do
        mode = Mode::work;
      } else if (timed_out) {
        nthreads_--;
        return;
      }
    }
  }

  ExecFn exec_;
  void* ctx_;
  const char* name_;
  // Each group on its own cache line: submitters write inbox_ and read the
  // counters (which change seldom); workers write the queue fields on every pop.
  alignas(64) std::atomic<Op*> inbox_{nullptr};  // submitted, not yet in the FIFO: a stack, newest first
  alignas(64) std::atomic<int> active_{0};     // workers in work mode (running, spinning, or woken to work)
  std::atomic<int> spinning_{0};   // active workers polling an empty queue
  std::atomic<bool> watch_{false}; // a watchdog is armed (woken, spawned, or watching)
  alignas(64) std::mutex m_;
  std::condition_variable cv_;     // idle workers
  std::condition_variable cv_wd_;  // the watchdog's timed wait (never notified)
  // Written under m_ (as are active_, spinning_, watch_); atomic so that
  // submitters and spinners may read them without it.
  std::atomic<size_t> qhint_{0};   // qlen_
  // Guarded by m_.
  Op* qhead_ = nullptr;  // the FIFO, linked through Op::pool_next
  Op* qtail_ = nullptr;
  size_t qlen_ = 0;
  int nthreads_ = 0;     // threads alive
  int sleepers_ = 0;     // in cv_.wait
  int work_tokens_ = 0;  // wake-ups to work sent to sleepers, not yet taken
  int wd_tokens_ = 0;    // the same, to watch
  uint64_t dequeued_ = 0;
};

}  // namespace

Backend* make_thread_pool_backend(ExecFn exec, void* ctx, const char* name) {
  return new ThreadPool(exec, ctx, name);
}

}  // namespace asyncaio::detail
