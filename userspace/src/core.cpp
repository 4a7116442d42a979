// SPDX-License-Identifier: LGPL-2.1-or-later
#include "core.hpp"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "backends.hpp"
#include "registry.hpp"

namespace asyncaio::detail {

namespace {

constexpr int kShards = 64;

struct FdEntry {
  Op* head = nullptr;
  Op* tail = nullptr;
  int nwrites = 0;
  std::vector<Op*> parked;  // fsyncs waiting for earlier writes
};

struct FdShard {
  std::mutex m;
  std::unordered_map<int, FdEntry> map;
};

// A thread blocked in wait_until(): its eventfd, and whether a wake-up was
// already written to it and not yet consumed (one write() is enough until the
// waiter comes back to check its predicate).
struct Waiter {
  int fd = -1;
  std::atomic<bool> signaled{false};
};

struct WaitHub {
  std::mutex m;
  std::vector<Waiter*> waiters;
  std::atomic<int> n{0};
};

// Recycled Ops. A request's Op is allocated by the submitting thread and
// usually freed by it too (aio_return drops the last reference), so each
// thread keeps a small cache; the shared list (under a mutex) only evens out
// threads that free more than they allocate (e.g. the pool's workers).
constexpr int kOpCacheMax = 64;    // Ops a thread keeps
constexpr int kOpBatch = 32;       // moved to/from the shared list at a time
constexpr size_t kOpSharedMax = 4096;  // beyond that, freed Ops go back to the heap

struct OpFreeList {
  std::mutex m;
  Op* head = nullptr;
  size_t n = 0;
};

struct GState {
  FdShard fd[kShards];
  OpFreeList ops;
  WaitHub hub;
  // Written per request: seq by submitters, outstanding by submitters and
  // workers; each on its own cache line, away from the read-mostly fields.
  alignas(64) std::atomic<uint64_t> seq{1};
  alignas(64) std::atomic<long> outstanding{0};
  Stats stats;
  Tunables tun;
  Backend* be = nullptr;
  const char* be_name = "none";
  int be_errno = 0;
};

// Never destroyed: worker threads may outlive static destruction at exit.
GState* g_state = nullptr;
std::once_flag g_once;

int env_int(const char* name, int dflt, int lo, int hi) {
  const char* s = getenv(name);
  if (!s || !*s) return dflt;
  char* end = nullptr;
  long v = strtol(s, &end, 10);
  if (*end || v < lo || v > hi) return dflt;
  return static_cast<int>(v);
}

void child_after_fork() noexcept;

void init_state() {
  auto* st = new GState;
  st->tun.max_threads = env_int("ASYNCAIO_THREADS", 16, 1, 4096);
  {
    unsigned ncpu = std::thread::hardware_concurrency();
    st->tun.concurrency = env_int("ASYNCAIO_CONCURRENCY", ncpu ? static_cast<int>(ncpu) : 1, 1, 4096);
  }
  st->tun.idle_seconds = env_int("ASYNCAIO_IDLE_TIME", 1, 0, 86400);
  st->tun.max_requests = env_int("ASYNCAIO_MAX_REQUESTS", 1 << 17, 1, 1 << 30);
  st->tun.listio_max = env_int("ASYNCAIO_LISTIO_MAX", 1 << 16, 2, 1 << 30);
  g_state = st;
  select_backend(st->be, st->be_name, st->be_errno);
  pthread_atfork(nullptr, nullptr, child_after_fork);
  stats_install_exit_report();
}

inline GState& S() {
  std::call_once(g_once, init_state);
  return *g_state;
}

// POSIX: outstanding operations are not inherited by the child. Forget them
// (the parent's memory is leaked in the child, never touched) and start over
// with fresh locks, a fresh registry and fresh worker threads.
void child_after_fork() noexcept {
  GState* old = g_state;
  auto* st = new GState;
  st->tun = old->tun;
  st->be = old->be;
  st->be_name = old->be_name;
  st->be_errno = old->be_errno;
  g_state = st;
  registry_reset_after_fork();
  if (st->be) st->be->reset_after_fork();
}

FdShard& shard_for(int fd) { return S().fd[static_cast<unsigned>(fd) % kShards]; }

bool is_write(const Op* op) { return op->kind == Kind::write; }
// Only what aio_fsync's ordering needs is on the per-fd lists: writes and
// the fsyncs that may wait for them. Reads never take the fd shard lock.
bool on_fd_lists(const Op* op) { return op->kind != Kind::read; }

bool write_before(const FdEntry& e, uint64_t seq) {
  for (Op* o = e.head; o && o->seq < seq; o = o->fd_next)
    if (is_write(o)) return true;
  return false;
}

void fd_list_add(FdEntry& e, Op* op) {
  op->fd_prev = e.tail;
  op->fd_next = nullptr;
  if (e.tail) e.tail->fd_next = op; else e.head = op;
  e.tail = op;
  op->on_fd_list = true;
  if (is_write(op)) e.nwrites++;
}

void fd_list_del(FdEntry& e, Op* op) {
  if (op->fd_prev) op->fd_prev->fd_next = op->fd_next; else e.head = op->fd_next;
  if (op->fd_next) op->fd_next->fd_prev = op->fd_prev; else e.tail = op->fd_prev;
  op->fd_prev = op->fd_next = nullptr;
  op->on_fd_list = false;
  if (is_write(op)) e.nwrites--;
}

void dispatch(Op* op) noexcept {
  Backend* be = S().be;
  int err = be ? be->submit(op) : S().be_errno;
  if (err) {
    // Could not start it after all: it completes with the error.
    int expected = QUEUED;
    if (op->state.compare_exchange_strong(expected, RUNNING)) {
      op->last_status = -err;
      op->last_index = 0;
      __atomic_store_n(&op->io_result, static_cast<int64_t>(-err), __ATOMIC_SEQ_CST);
      finish(op);
    }
  }
}

long raw_sigqueue(const sigevent& sev, siginfo_t* info) {
  pid_t pid = info->si_pid;
  if (sev.sigev_notify == SIGEV_THREAD_ID)
    return syscall(SYS_rt_tgsigqueueinfo, pid, sev._sigev_un._tid, sev.sigev_signo, info);
  return syscall(SYS_rt_sigqueueinfo, pid, sev.sigev_signo, info);
}

void* notify_thread_start(void* p) {
  auto* sev = static_cast<sigevent*>(p);
  void (*fn)(sigval) = sev->sigev_notify_function;
  sigval v = sev->sigev_value;
  delete sev;
  fn(v);
  return nullptr;
}

}  // namespace

Stats& stats() noexcept { return S().stats; }
Tunables& tunables() noexcept { return S().tun; }
Backend* backend() noexcept { return S().be; }
const char* backend_name() noexcept { return S().be_name; }
int backend_errno() noexcept { return S().be_errno; }

int64_t now_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

bool admit(long n) noexcept {
  GState& s = S();
  long cur = s.outstanding.fetch_add(n, std::memory_order_relaxed) + n;
  if (cur > s.tun.max_requests) {
    s.outstanding.fetch_sub(n, std::memory_order_relaxed);
    return false;
  }
  return true;
}
void release(long n) noexcept { S().outstanding.fetch_sub(n, std::memory_order_relaxed); }

namespace {
// The calling thread's cache, linked through Op::pool_next (unused while an
// Op is free). Its destructor hands the Ops to the shared list.
struct OpCache {
  Op* head = nullptr;
  int n = 0;
  bool dead = false;  // thread exiting: free to the shared list only
  ~OpCache() {
    dead = true;
    flush(n);
  }
  // Move up to k Ops to the shared list (the heap if that is full).
  void flush(int k) noexcept {
    if (k <= 0 || !head) return;
    Op* first = head;
    Op* last = head;
    int moved = 1;
    while (moved < k && last->pool_next) {
      last = last->pool_next;
      moved++;
    }
    head = last->pool_next;
    n -= moved;
    last->pool_next = nullptr;
    OpFreeList& fl = S().ops;
    {
      std::lock_guard lk(fl.m);
      if (fl.n < kOpSharedMax) {
        last->pool_next = fl.head;
        fl.head = first;
        fl.n += static_cast<size_t>(moved);
        return;
      }
    }
    while (first) {
      Op* next = first->pool_next;
      delete first;
      first = next;
    }
  }
  // Take up to kOpBatch Ops from the shared list.
  void refill() noexcept {
    OpFreeList& fl = S().ops;
    std::lock_guard lk(fl.m);
    while (fl.head && n < kOpBatch) {
      Op* o = fl.head;
      fl.head = o->pool_next;
      fl.n--;
      o->pool_next = head;
      head = o;
      n++;
    }
  }
};
thread_local OpCache t_ops;

// Back to the state of a default-constructed Op. Atoms past natoms are
// always default (nobody writes them without raising natoms), so only the
// used ones are reset: a POSIX request clears one or two, not all eight.
void op_reset(Op* op) noexcept {
  op->refs.store(1, std::memory_order_relaxed);
  op->state.store(QUEUED, std::memory_order_relaxed);
  op->kind = Kind::chain;
  op->fd = -1;
  op->seq = 0;
  for (int i = 0; i < op->natoms && i < kMaxAtoms; i++) op->atoms[i] = Atom{};
  op->natoms = 0;
  op->last_status = kPending;
  op->last_index = -1;
  op->io_result = kPending;
  op->cb = nullptr;
  op->sev = sigevent{};
  // sinfo is written whole (prepare_siginfo) before any use.
  op->group = nullptr;
  op->sink = nullptr;
  op->cookie = 0;
  op->user = nullptr;
  op->backend_priv = nullptr;
  op->pool_next = nullptr;
  op->fd_prev = op->fd_next = nullptr;
  op->parked = false;
  op->on_fd_list = false;
  op->submitted.store(false, std::memory_order_relaxed);
  op->reg_next = nullptr;
}
}  // namespace

Op* op_alloc() noexcept {
  OpCache& c = t_ops;
  if (!c.head && !c.dead) c.refill();
  Op* op = c.dead ? nullptr : c.head;
  if (!op) return new (std::nothrow) Op;
  c.head = op->pool_next;
  c.n--;
  op_reset(op);
  return op;
}

void Op::put() noexcept {
  if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    if (group) group->put();
    group = nullptr;
    OpCache& c = t_ops;
    if (c.dead) {
      delete this;
      return;
    }
    pool_next = c.head;
    c.head = this;
    if (++c.n > kOpCacheMax) c.flush(kOpBatch);
  }
}

// Fill a siginfo exactly as glibc's __aio_sigqueue does.
void prepare_siginfo(siginfo_t* info, const sigevent& sev) noexcept {
  memset(info, 0, sizeof *info);
  info->si_signo = sev.sigev_signo;
  info->si_code = SI_ASYNCIO;
  info->si_pid = getpid();
  info->si_uid = getuid();
  info->si_value = sev.sigev_value;
}

void notify(const sigevent& sev, siginfo_t* info) noexcept {
  switch (sev.sigev_notify) {
    case SIGEV_SIGNAL:
    case SIGEV_THREAD_ID:
      raw_sigqueue(sev, info);
      S().stats.signals.fetch_add(1, std::memory_order_relaxed);
      break;
    case SIGEV_THREAD: {
      auto* copy = new sigevent(sev);
      pthread_t t;
      pthread_attr_t local;
      pthread_attr_t* attr = sev.sigev_notify_attributes;
      if (!attr) {
        pthread_attr_init(&local);
        attr = &local;
      }
      // Always detached, as POSIX requires for notification threads.
      pthread_attr_t mine;
      pthread_attr_init(&mine);
      size_t ss = 0;
      if (pthread_attr_getstacksize(attr, &ss) == 0 && ss) pthread_attr_setstacksize(&mine, ss);
      pthread_attr_setdetachstate(&mine, PTHREAD_CREATE_DETACHED);
      sigset_t all, old;
      sigfillset(&all);
      pthread_sigmask(SIG_SETMASK, &all, &old);
      int err = pthread_create(&t, &mine, notify_thread_start, copy);
      pthread_sigmask(SIG_SETMASK, &old, nullptr);
      pthread_attr_destroy(&mine);
      if (attr == &local) pthread_attr_destroy(&local);
      if (err) notify_thread_start(copy);  // last resort: call it here
      S().stats.threads_notified.fetch_add(1, std::memory_order_relaxed);
      break;
    }
    default:
      break;
  }
}

void run_chain(Op* op) noexcept {
  int64_t results[kMaxAtoms] = {};
  for (int i = 0; i < op->natoms; i++) {
    const Atom& a = op->atoms[i];
    uint64_t x[6];
    for (int j = 0; j < 6; j++)
      x[j] = a.from[j] >= 0 && a.from[j] < i ? static_cast<uint64_t>(results[a.from[j]]) : a.args[j];
    long r = syscall(a.nr, x[0], x[1], x[2], x[3], x[4], x[5]);
    int64_t res = r == -1 ? -static_cast<int64_t>(errno) : r;
    if (i == 0 && res == -ESPIPE && (op->kind == Kind::read || op->kind == Kind::write)) {
      // Not seekable: POSIX says aio_offset is ignored.
      r = syscall(op->kind == Kind::read ? SYS_read : SYS_write, x[0], x[1], x[2]);
      res = r == -1 ? -static_cast<int64_t>(errno) : r;
    }
    op->last_status = res;
    op->last_index = i;
    if (a.result) __atomic_store_n(a.result, res, __ATOMIC_SEQ_CST);
    results[i] = res;
    bool stop = false;
    switch (a.stop) {
      case Stop::never: break;
      case Stop::on_zero: stop = res == 0; break;
      case Stop::on_nonzero: stop = res != 0; break;
      case Stop::on_negative: stop = res < 0; break;
      case Stop::on_nonpositive: stop = res <= 0; break;
      case Stop::on_error: stop = res < 0 && res >= -4095; break;
    }
    if (stop) break;
  }
}

int submit(Op* op) noexcept {
  GState& s = S();
  op->seq = s.seq.fetch_add(1, std::memory_order_relaxed);
  bool park = false;
  if (op->fd >= 0 && on_fd_lists(op)) {
    FdShard& sh = shard_for(op->fd);
    std::lock_guard lk(sh.m);
    FdEntry& e = sh.map[op->fd];
    if ((op->kind == Kind::fsync || op->kind == Kind::fdatasync) && e.nwrites > 0) {
      park = true;
      op->parked = true;
      e.parked.push_back(op);
    }
    fd_list_add(e, op);
  }
  s.stats.submitted.fetch_add(1, std::memory_order_relaxed);
  op->submitted.store(true, std::memory_order_release);
  if (!park) dispatch(op);
  return 0;
}

void finish(Op* op) noexcept {
  GState& s = S();
  bool canceled = op->state.load(std::memory_order_seq_cst) == CANCELED;
  if (canceled) {
    op->last_status = -ECANCELED;
    __atomic_store_n(&op->io_result, static_cast<int64_t>(-ECANCELED), __ATOMIC_SEQ_CST);
    s.stats.canceled.fetch_add(1, std::memory_order_relaxed);
  } else {
    if (op->load_io() == kPending)
      __atomic_store_n(&op->io_result, op->last_status, __ATOMIC_SEQ_CST);
    op->state.store(DONE, std::memory_order_seq_cst);
  }
  if (op->cb) {
    // The kernel chain / pool already ran the signal atom unless cancelled.
    int n = op->sev.sigev_notify;
    if (n == SIGEV_THREAD || (canceled && (n == SIGEV_SIGNAL || n == SIGEV_THREAD_ID)))
      notify(op->sev, &op->sinfo);
    else if (n == SIGEV_SIGNAL || n == SIGEV_THREAD_ID)
      s.stats.signals.fetch_add(1, std::memory_order_relaxed);  // sent by the chain's atom
  }
  std::vector<Op*> unparked;
  if (op->fd >= 0 && on_fd_lists(op)) {
    FdShard& sh = shard_for(op->fd);
    std::lock_guard lk(sh.m);
    auto it = sh.map.find(op->fd);
    if (it != sh.map.end()) {
      FdEntry& e = it->second;
      if (op->on_fd_list) fd_list_del(e, op);
      if (op->parked) {
        for (auto p = e.parked.begin(); p != e.parked.end(); ++p)
          if (*p == op) { e.parked.erase(p); break; }
        op->parked = false;
      }
      if (is_write(op) && !e.parked.empty()) {
        for (auto p = e.parked.begin(); p != e.parked.end();) {
          if (!write_before(e, (*p)->seq)) {
            (*p)->parked = false;
            unparked.push_back(*p);
            p = e.parked.erase(p);
          } else {
            ++p;
          }
        }
      }
      if (!e.head && e.parked.empty()) sh.map.erase(it);
    }
  }
  for (Op* u : unparked) dispatch(u);
  if (op->group) {
    ListGroup* g = op->group;
    if (g->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1 && g->notify)
      notify(g->sev, &g->sinfo);
  }
  if (op->sink) op->sink->complete(op);
  s.stats.completed.fetch_add(1, std::memory_order_relaxed);
  release(1);
  wake_waiters();
  op->put();  // the in-flight reference
}

int cancel_op(Op* op) noexcept {
  if (op->finished()) return AIO_ALLDONE;
  int expected = QUEUED;
  if (op->state.compare_exchange_strong(expected, CANCELED, std::memory_order_seq_cst)) {
    finish(op);
    return AIO_CANCELED;
  }
  if (expected == RUNNING && !op->finished()) {
    Backend* be = S().be;
    int r = be ? be->cancel_running(op) : AIO_NOTCANCELED;
    if (r == AIO_NOTCANCELED) S().stats.notcanceled.fetch_add(1, std::memory_order_relaxed);
    return r;
  }
  return AIO_ALLDONE;
}

int cancel_fd(int fd) noexcept {
  // Every POSIX request in flight is in the registry (referenced there until
  // aio_return); reads are on no per-fd list. Cancel in submission order.
  std::vector<Op*> ops;
  registry_collect_fd(fd, ops);
  std::sort(ops.begin(), ops.end(), [](const Op* a, const Op* b) { return a->seq < b->seq; });
  bool any_canceled = false, any_not = false;
  for (Op* o : ops) {
    int r = cancel_op(o);
    if (r == AIO_CANCELED) any_canceled = true;
    else if (r == AIO_NOTCANCELED) any_not = true;
    o->put();
  }
  if (any_not) return AIO_NOTCANCELED;
  if (any_canceled) return AIO_CANCELED;
  return AIO_ALLDONE;
}

// ---- waiting --------------------------------------------------------------

namespace {
struct TlsEventFd {
  int fd = -1;
  ~TlsEventFd() {
    if (fd >= 0) close(fd);
  }
  int get() {
    if (fd < 0) fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return fd;
  }
};
thread_local TlsEventFd tls_evfd;
}  // namespace

void wake_waiters() noexcept {
  WaitHub& h = S().hub;
  if (h.n.load(std::memory_order_seq_cst) == 0) return;
  std::lock_guard lk(h.m);
  uint64_t one = 1;
  for (Waiter* w : h.waiters) {
    // A waiter clears signaled (seq_cst) before it checks its predicate, and
    // the completion was stored (seq_cst) before this exchange: either the
    // waiter sees the completion, or this exchange sees false and writes.
    if (w->signaled.exchange(true, std::memory_order_seq_cst)) continue;
    ssize_t wr = write(w->fd, &one, sizeof one);
    (void)wr;
  }
}

int wait_until(bool (*pred)(void*), void* arg, int64_t deadline_ns) noexcept {
  WaitHub& h = S().hub;
  Waiter self;
  self.fd = tls_evfd.get();
  if (self.fd >= 0) {
    std::lock_guard lk(h.m);
    h.waiters.push_back(&self);
    h.n.fetch_add(1, std::memory_order_seq_cst);
  }
  int ret = 0;
  for (;;) {
    self.signaled.store(false, std::memory_order_seq_cst);
    if (pred(arg)) break;
    timespec ts, *tsp = nullptr;
    if (deadline_ns >= 0) {
      int64_t left = deadline_ns - now_ns();
      if (left <= 0) { ret = EAGAIN; break; }
      ts.tv_sec = left / 1000000000LL;
      ts.tv_nsec = left % 1000000000LL;
      tsp = &ts;
    }
    if (self.fd < 0) {
      // No eventfd (EMFILE): poll the predicate every millisecond.
      timespec ms{0, 1000000};
      if (!tsp || ms.tv_sec < tsp->tv_sec || (ms.tv_sec == tsp->tv_sec && ms.tv_nsec < tsp->tv_nsec)) tsp = &ms;
      if (ppoll(nullptr, 0, tsp, nullptr) < 0 && errno == EINTR) { ret = EINTR; break; }
      continue;
    }
    pollfd p{self.fd, POLLIN, 0};
    // ppoll is never restarted after a signal handler, whatever SA_RESTART
    // says: exactly the EINTR that aio_suspend and lio_listio promise.
    int r = ppoll(&p, 1, tsp, nullptr);
    if (r < 0 && errno == EINTR) { ret = EINTR; break; }
    if (r > 0) {
      uint64_t v;
      ssize_t rd = read(self.fd, &v, sizeof v);
      (void)rd;
    }
  }
  if (self.fd >= 0) {
    std::lock_guard lk(h.m);
    for (auto it = h.waiters.begin(); it != h.waiters.end(); ++it)
      if (*it == &self) { h.waiters.erase(it); break; }
    h.n.fetch_sub(1, std::memory_order_seq_cst);
  }
  // A wake-up written after our last read stays in the eventfd: harmless,
  // the next wait just checks its predicate once more.
  return ret;
}

}  // namespace asyncaio::detail
