// SPDX-License-Identifier: LGPL-2.1-or-later
// asyncaio core: operations, chains, per-fd bookkeeping, completion and waiting.
//
// Every request, POSIX or C++, is an Op: a short linear chain of syscall atoms
// (at most kMaxAtoms), exactly the shape a syslet chain has (REVIEW R01/R03).
// A backend runs the chain; the core owns everything around it.
#pragma once

#include <aio.h>
#include <signal.h>
#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

namespace asyncaio::detail {

inline constexpr int kMaxAtoms = 8;
// Sentinel in a result slot: "not written yet".
inline constexpr int64_t kPending = INT64_MIN;

// Same values as the kernel's enum async_stop.
enum class Stop : uint8_t {
  never = 0,        // always run the next atom
  on_zero = 1,      // stop if result == 0
  on_nonzero = 2,   // stop if result != 0
  on_negative = 3,  // stop if result < 0
  on_nonpositive = 4,
  on_error = 5,     // stop if result is -4095..-1
};

struct Atom {
  uint32_t nr = 0;            // syscall number
  Stop stop = Stop::never;    // condition checked after this atom
  // from[i] >= 0: args[i] := result of earlier atom from[i] (R02); -1: literal
  int8_t from[6] = {-1, -1, -1, -1, -1, -1};
  uint64_t args[6] = {};
  int64_t* result = nullptr;  // optional result address (R20)
};

enum class Kind : uint8_t { read, write, fsync, fdatasync, chain };

enum State : int { QUEUED = 0, RUNNING = 1, DONE = 2, CANCELED = 3 };

struct ListGroup;
struct Sink;

struct Op {
  std::atomic<int> refs{1};
  std::atomic<int> state{QUEUED};
  Kind kind = Kind::chain;
  int fd = -1;
  uint64_t seq = 0;

  Atom atoms[kMaxAtoms];
  int natoms = 0;
  // Completion record (R17): status of the last atom run and its index.
  int64_t last_status = kPending;
  int last_index = -1;
  // Result slot of the I/O atom; written before any notification atom runs,
  // so aio_error/aio_suspend see completion as soon as it happened.
  int64_t io_result = kPending;

  // POSIX side
  aiocb* cb = nullptr;
  sigevent sev{};     // copy taken at submission
  siginfo_t sinfo{};  // for the rt_(tg)sigqueueinfo notification atom
  ListGroup* group = nullptr;

  // C++ side
  Sink* sink = nullptr;
  uint64_t cookie = 0;
  void* user = nullptr;

  // Backend private
  void* backend_priv = nullptr;
  Op* pool_next = nullptr;  // thread pool: link in its submission stack / queue

  // Per-fd list, in submission order (guarded by the fd shard lock). Only
  // writes and fsyncs are on it: it exists for aio_fsync's ordering; reads
  // never touch the fd shard (aio_cancel(fd, NULL) walks the registry).
  Op* fd_prev = nullptr;
  Op* fd_next = nullptr;
  bool parked = false;  // fsync waiting for earlier writes
  bool on_fd_list = false;
  // Set (release) by submit() once the fd bookkeeping is done: from then on
  // aio_cancel(fd, NULL) may cancel it.
  std::atomic<bool> submitted{false};

  // POSIX registry: chain in its hash bucket (guarded by the registry shard lock)
  Op* reg_next = nullptr;

  void get() noexcept { refs.fetch_add(1, std::memory_order_relaxed); }
  void put() noexcept;

  int64_t load_io() const noexcept { return __atomic_load_n(&io_result, __ATOMIC_SEQ_CST); }
  bool finished() const noexcept {
    return state.load(std::memory_order_seq_cst) == CANCELED || load_io() != kPending;
  }
};

// A fresh Op (one reference, every field as default-constructed), from a
// free list of recycled Ops; nullptr if out of memory. Op::put() recycles it.
Op* op_alloc() noexcept;

// Completion sink for non-POSIX users (the C++ context).
struct Sink {
  virtual void complete(Op* op) noexcept = 0;
  virtual ~Sink() = default;
};

// lio_listio group
struct ListGroup {
  std::atomic<int> remaining{0};
  std::atomic<int> refs{1};
  bool notify = false;
  sigevent sev{};
  siginfo_t sinfo{};
  void put() noexcept {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const noexcept = 0;
  // Start the chain. 0, or an errno (EAGAIN, ENOSYS). On success the backend
  // holds one reference and calls run_chain()/core finish when done.
  virtual int submit(Op* op) noexcept = 0;
  // The op is RUNNING (owned by the backend). Try to interrupt it:
  // AIO_CANCELED if it will complete with ECANCELED, else AIO_NOTCANCELED.
  virtual int cancel_running(Op*) noexcept { return AIO_NOTCANCELED; }
  // Called in the child after fork: forget everything, start afresh.
  virtual void reset_after_fork() noexcept {}
};

// Run an op's chain synchronously in the calling thread (used by the thread
// pool, and the reference semantics for the kernel backend).
void run_chain(Op* op) noexcept;

// Called by a backend exactly once per submitted op, after the chain ran
// (state RUNNING) or when it was cancelled while queued.
void finish(Op* op) noexcept;

// Submission through the core: fd bookkeeping, fsync barriers, backend.
int submit(Op* op) noexcept;

// Try to cancel one op: AIO_CANCELED / AIO_NOTCANCELED / AIO_ALLDONE.
int cancel_op(Op* op) noexcept;

// Cancel everything on fd; returns aggregated AIO_* value.
int cancel_fd(int fd) noexcept;

Backend* backend() noexcept;        // nullptr if the selected one is unavailable
const char* backend_name() noexcept;
int backend_errno() noexcept;       // errno to report when backend() is null

// Waiting: block until pred() is true, deadline (CLOCK_MONOTONIC ns, or -1),
// or a signal. Returns 0, EAGAIN (timeout) or EINTR.
int wait_until(bool (*pred)(void*), void* arg, int64_t deadline_ns) noexcept;
void wake_waiters() noexcept;

struct Tunables {
  int max_threads = 16;
  int concurrency = 1;  // thread pool: workers kept active (default: CPUs)
  int idle_seconds = 1;
  long max_requests = 1L << 17;
  int listio_max = 1 << 16;
};
Tunables& tunables() noexcept;

// Admission control for AIO_MAX-like limit. false: EAGAIN.
bool admit(long n) noexcept;
void release(long n) noexcept;

struct Stats {
  // submitted is counted by the submitting threads, completed by the workers:
  // separate cache lines, so that the two sides do not bounce one between them.
  alignas(64) std::atomic<uint64_t> submitted{0};
  alignas(64) std::atomic<uint64_t> completed{0};
  alignas(64) std::atomic<uint64_t> canceled{0}, notcanceled{0}, signals{0}, threads_notified{0};
};
Stats& stats() noexcept;

int64_t now_ns() noexcept;

}  // namespace asyncaio::detail
