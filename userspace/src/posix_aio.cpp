// SPDX-License-Identifier: LGPL-2.1-or-later
// The POSIX AIO C ABI. Exported unversioned with default visibility so that
// LD_PRELOAD interposes on glibc's aio_* (libc.so.6 / librt).
#include <aio.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstddef>
#include <mutex>

#include "asyncaio/asyncaio.h"
#include "backends.hpp"
#include "registry.hpp"

#define EXPORT extern "C" __attribute__((visibility("default")))

using namespace asyncaio::detail;

// ---- registry -------------------------------------------------------------
// aiocb address -> Op: a hash table chained through Op::reg_next (keyed by
// Op::cb), in 64 shards, each under its own mutex. No allocation per request
// (a shard's bucket array doubles when it holds more Ops than buckets). Only
// the POSIX functions of the calling threads take these locks; the workers
// never do.
namespace asyncaio::detail {
namespace {
constexpr int kRegShards = 64;
constexpr size_t kRegMinBuckets = 64;
struct RegShard {
  std::mutex m;
  Op** b = nullptr;  // nb buckets (a power of two), or nullptr
  size_t nb = 0;
  size_t n = 0;
};
RegShard* g_reg = new RegShard[kRegShards];

inline uint64_t reg_hash(const aiocb* cb) {
  return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(cb)) * 0x9E3779B97F4A7C15ULL;
}
RegShard& reg_for(const aiocb* cb) { return g_reg[reg_hash(cb) >> 58]; }  // top 6 bits: 64 shards
inline Op** bucket(RegShard& r, const aiocb* cb) { return &r.b[reg_hash(cb) & (r.nb - 1)]; }

// The link that points to cb's Op, or nullptr. Lock held.
Op** find_locked(RegShard& r, const aiocb* cb) {
  if (!r.b) return nullptr;
  for (Op** l = bucket(r, cb); *l; l = &(*l)->reg_next)
    if ((*l)->cb == cb) return l;
  return nullptr;
}

// Lock held. On allocation failure the chains just get longer.
void grow_locked(RegShard& r) {
  size_t nb = r.nb ? r.nb * 2 : kRegMinBuckets;
  Op** nbk = new (std::nothrow) Op*[nb]();
  if (!nbk) return;
  Op** old = r.b;
  size_t onb = r.nb;
  r.b = nbk;
  r.nb = nb;
  for (size_t i = 0; i < onb; i++)
    for (Op* o = old[i]; o;) {
      Op* next = o->reg_next;
      Op** l = bucket(r, o->cb);
      o->reg_next = *l;
      *l = o;
      o = next;
    }
  delete[] old;
}
}  // namespace

int registry_insert(aiocb* cb, Op* op) noexcept {
  RegShard& r = reg_for(cb);
  Op* old = nullptr;
  op->cb = cb;
  {
    std::lock_guard lk(r.m);
    if (Op** l = find_locked(r, cb)) {
      if (!(*l)->finished()) return EINVAL;  // aiocb still in flight
      old = *l;  // finished, never returned: the new request replaces it
      *l = old->reg_next;
      old->reg_next = nullptr;
      r.n--;
    }
    if (r.n >= r.nb) grow_locked(r);
    if (!r.b) return EAGAIN;
    Op** l = bucket(r, cb);
    op->reg_next = *l;
    *l = op;
    r.n++;
    op->get();
  }
  if (old) old->put();
  return 0;
}

void registry_erase(aiocb* cb, Op* op) noexcept {
  RegShard& r = reg_for(cb);
  {
    std::lock_guard lk(r.m);
    Op** l = find_locked(r, cb);
    if (!l || *l != op) return;
    *l = op->reg_next;
    op->reg_next = nullptr;
    r.n--;
  }
  op->put();
}

Op* registry_get(const aiocb* cb) noexcept {
  RegShard& r = reg_for(cb);
  std::lock_guard lk(r.m);
  Op** l = find_locked(r, cb);
  if (!l) return nullptr;
  (*l)->get();
  return *l;
}

Op* registry_take(aiocb* cb, bool* in_progress) noexcept {
  RegShard& r = reg_for(cb);
  std::lock_guard lk(r.m);
  *in_progress = false;
  Op** l = find_locked(r, cb);
  if (!l) return nullptr;
  Op* op = *l;
  if (!op->finished()) {
    *in_progress = true;
    return nullptr;
  }
  *l = op->reg_next;  // the registry's reference moves to the caller
  op->reg_next = nullptr;
  r.n--;
  return op;
}

void registry_collect_fd(int fd, std::vector<Op*>& out) noexcept {
  for (int i = 0; i < kRegShards; i++) {
    RegShard& r = g_reg[i];
    std::lock_guard lk(r.m);
    for (size_t j = 0; j < r.nb; j++)
      for (Op* o = r.b[j]; o; o = o->reg_next)
        if (o->submitted.load(std::memory_order_acquire) && o->fd == fd) {
          o->get();
          out.push_back(o);
        }
  }
}

void registry_reset_after_fork() noexcept { g_reg = new RegShard[kRegShards]; }

}  // namespace asyncaio::detail

// ---- helpers --------------------------------------------------------------
namespace {

// glibc's <aio.h> declares the arguments nonnull; callers still pass NULL.
// Hide the pointer from the optimiser so the check survives.
inline bool is_null(const void* p) {
  asm("" : "+r"(p));
  return p == nullptr;
}

inline int fail(int e) {
  errno = e;
  return -1;
}

bool valid_sigevent(const sigevent* sev) {
  switch (sev->sigev_notify) {
    case SIGEV_NONE:
      return true;
    case SIGEV_SIGNAL:
    case SIGEV_THREAD_ID:
      // SIGEV_SIGNAL is 0 on Linux, so a memset-zeroed aiocb asks for
      // "signal 0": accepted (as glibc does), and nothing is sent.
      return sev->sigev_signo >= 0 && sev->sigev_signo < NSIG;
    case SIGEV_THREAD:
      return sev->sigev_notify_function != nullptr;
    default:
      return false;
  }
}

// Build and submit one POSIX request: a chain of the I/O atom, followed by
// the notification atom for SIGEV_SIGNAL (Ingo's "one more atom", R03).
//
// The file descriptor is not checked here: a bad one (not open, or not open
// for reading/writing) fails the request itself with EBADF, reported by
// aio_error and aio_return, as POSIX allows ("detected synchronously ... or
// asynchronously") and as glibc does. Checking it here cost an fcntl() per
// request, and in a threaded process that fcntl takes a reference on the
// file that the workers' preads of the same file also take (a cache line
// bouncing between CPUs).
int enqueue(aiocb* cb, Kind kind, ListGroup* group) {
  if (cb->aio_reqprio < 0 || cb->aio_reqprio > AIO_PRIO_DELTA_MAX) return EINVAL;
  if (!valid_sigevent(&cb->aio_sigevent)) return EINVAL;
  if (kind == Kind::read || kind == Kind::write) {
    if (cb->aio_offset < 0 || cb->aio_nbytes > static_cast<size_t>(SSIZE_MAX)) return EINVAL;
  }
  if (!admit(1)) return EAGAIN;
  static const bool kernel_backend = backend() && strcmp(backend()->name(), "kernel") == 0;

  Op* op = op_alloc();
  if (!op) {
    release(1);
    return EAGAIN;
  }
  op->kind = kind;
  op->fd = cb->aio_fildes;
  op->cb = cb;
  op->sev = cb->aio_sigevent;
  Atom& a = op->atoms[0];
  switch (kind) {
    case Kind::read:
    case Kind::write:
      a.nr = kind == Kind::read ? SYS_pread64 : SYS_pwrite64;
      // POSIX: on a file that cannot seek, aio_offset is ignored. A kernel
      // chain cannot retry pread's ESPIPE with read(), so choose up front.
      // (The thread pool retries, sparing this lseek.)
      if (kernel_backend && lseek(cb->aio_fildes, 0, SEEK_CUR) < 0 && errno == ESPIPE)
        a.nr = kind == Kind::read ? SYS_read : SYS_write;
      a.args[0] = static_cast<uint64_t>(cb->aio_fildes);
      a.args[1] = reinterpret_cast<uint64_t>(const_cast<void*>(cb->aio_buf));
      a.args[2] = cb->aio_nbytes;
      a.args[3] = static_cast<uint64_t>(cb->aio_offset);
      break;
    case Kind::fsync:
    case Kind::fdatasync:
      a.nr = kind == Kind::fsync ? SYS_fsync : SYS_fdatasync;
      a.args[0] = static_cast<uint64_t>(cb->aio_fildes);
      break;
    default:
      break;
  }
  a.result = &op->io_result;
  op->natoms = 1;
  int n = op->sev.sigev_notify;
  if ((n == SIGEV_SIGNAL || n == SIGEV_THREAD_ID) && op->sev.sigev_signo == 0) {
    op->sev.sigev_notify = SIGEV_NONE;
    n = SIGEV_NONE;
  }
  if (n == SIGEV_SIGNAL || n == SIGEV_THREAD_ID) {
    prepare_siginfo(&op->sinfo, op->sev);
    Atom& s = op->atoms[1];
    if (n == SIGEV_THREAD_ID) {
      s.nr = SYS_rt_tgsigqueueinfo;
      s.args[0] = static_cast<uint64_t>(op->sinfo.si_pid);
      s.args[1] = static_cast<uint64_t>(op->sev._sigev_un._tid);
      s.args[2] = static_cast<uint64_t>(op->sev.sigev_signo);
      s.args[3] = reinterpret_cast<uint64_t>(&op->sinfo);
    } else {
      s.nr = SYS_rt_sigqueueinfo;
      s.args[0] = static_cast<uint64_t>(op->sinfo.si_pid);
      s.args[1] = static_cast<uint64_t>(op->sev.sigev_signo);
      s.args[2] = reinterpret_cast<uint64_t>(&op->sinfo);
    }
    op->natoms = 2;
  }
  if (group) {
    group->refs.fetch_add(1, std::memory_order_relaxed);
    op->group = group;
  }
  int err = registry_insert(cb, op);
  if (err) {
    op->put();
    release(1);
    return err;
  }
  submit(op);  // from here on the op completes exactly once
  return 0;
}

int submit_one(aiocb* cb, Kind kind) {
  if (is_null(cb)) return fail(EINVAL);
  if (!backend()) return fail(backend_errno());
  int err = enqueue(cb, kind, nullptr);
  return err ? fail(err) : 0;
}

bool any_done(void* p);
struct SuspendArgs {
  const aiocb* const* list;
  int n;
};
bool any_done(void* p) {
  auto* a = static_cast<SuspendArgs*>(p);
  for (int i = 0; i < a->n; i++) {
    if (!a->list[i]) continue;
    Op* op = registry_get(a->list[i]);
    if (!op) return true;  // not in flight (finished and returned, or never)
    bool done = op->finished();
    op->put();
    if (done) return true;
  }
  // Nothing listed at all (nent == 0 or only NULLs): nothing to wait for.
  for (int i = 0; i < a->n; i++)
    if (a->list[i]) return false;
  return true;
}

bool group_done(void* p) { return static_cast<ListGroup*>(p)->remaining.load(std::memory_order_seq_cst) == 0; }

}  // namespace

// ---- the POSIX functions ----------------------------------------------------

EXPORT int aio_read(struct aiocb* cb) { return submit_one(cb, Kind::read); }
EXPORT int aio_write(struct aiocb* cb) { return submit_one(cb, Kind::write); }

EXPORT int aio_fsync(int op, struct aiocb* cb) {
  if (is_null(cb)) return fail(EINVAL);
  if (op != O_SYNC && op != O_DSYNC) return fail(EINVAL);
  return submit_one(cb, op == O_SYNC ? Kind::fsync : Kind::fdatasync);
}

EXPORT int aio_error(const struct aiocb* cb) {
  if (is_null(cb)) return fail(EINVAL);
  Op* op = registry_get(cb);
  if (!op) return fail(EINVAL);
  int r;
  if (op->state.load(std::memory_order_seq_cst) == CANCELED) {
    r = ECANCELED;
  } else {
    int64_t v = op->load_io();
    r = v == kPending ? EINPROGRESS : v < 0 ? static_cast<int>(-v) : 0;
  }
  op->put();
  return r;
}

EXPORT ssize_t aio_return(struct aiocb* cb) {
  if (is_null(cb)) return fail(EINVAL);
  bool in_progress = false;
  Op* op = registry_take(cb, &in_progress);
  if (!op) return fail(EINVAL);
  int64_t v = op->state.load() == CANCELED ? -ECANCELED : op->load_io();
  op->put();
  return v < 0 ? -1 : static_cast<ssize_t>(v);
}

EXPORT int aio_suspend(const struct aiocb* const list[], int nent, const struct timespec* timeout) {
  if (nent < 0 || (nent > 0 && is_null(list))) return fail(EINVAL);
  if (timeout && (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000L))
    return fail(EINVAL);
  SuspendArgs a{list, nent};
  int64_t deadline = -1;
  if (timeout) deadline = now_ns() + timeout->tv_sec * 1000000000LL + timeout->tv_nsec;
  // No entry at all in flight: POSIX returns at once.
  int r = wait_until(any_done, &a, deadline);
  if (r == 0) return 0;
  return fail(r);
}

EXPORT int aio_cancel(int fd, struct aiocb* cb) {
  if (fcntl(fd, F_GETFD) < 0) return fail(EBADF);
  if (cb) {
    if (cb->aio_fildes != fd) return fail(EINVAL);
    Op* op = registry_get(cb);
    if (!op) return AIO_ALLDONE;
    int r = cancel_op(op);
    op->put();
    return r;
  }
  return cancel_fd(fd);
}

EXPORT int lio_listio(int mode, struct aiocb* const list[], int nent, struct sigevent* sig) {
  if (mode != LIO_WAIT && mode != LIO_NOWAIT) return fail(EINVAL);
  if (nent < 0 || nent > tunables().listio_max || (nent > 0 && is_null(list))) return fail(EINVAL);
  if (mode == LIO_NOWAIT && sig && !valid_sigevent(sig)) return fail(EINVAL);
  if (!backend()) return fail(backend_errno());

  auto* g = new (std::nothrow) ListGroup;
  if (!g) return fail(EAGAIN);
  int valid = 0;
  for (int i = 0; i < nent; i++)
    if (list[i] && list[i]->aio_lio_opcode != LIO_NOP) valid++;
  // Resource check for the whole list first: EAGAIN and nothing queued.
  if (!admit(valid)) {
    g->put();
    return fail(EAGAIN);
  }
  release(valid);
  if (mode == LIO_NOWAIT && sig && sig->sigev_notify != SIGEV_NONE &&
      !((sig->sigev_notify == SIGEV_SIGNAL || sig->sigev_notify == SIGEV_THREAD_ID) && sig->sigev_signo == 0)) {
    g->notify = true;
    g->sev = *sig;
    prepare_siginfo(&g->sinfo, *sig);
  }
  // Hold one extra count so the group cannot complete while we submit.
  g->remaining.store(valid + 1, std::memory_order_relaxed);
  bool any_failed = false;
  for (int i = 0; i < nent; i++) {
    aiocb* cb = list[i];
    if (!cb) continue;
    Kind k;
    switch (cb->aio_lio_opcode) {
      case LIO_NOP: continue;
      case LIO_READ: k = Kind::read; break;
      case LIO_WRITE: k = Kind::write; break;
      default: k = Kind::chain; break;
    }
    int err = k == Kind::chain ? EINVAL : enqueue(cb, k, g);
    if (err) {
      any_failed = true;
      g->remaining.fetch_sub(1, std::memory_order_relaxed);
      // The request was not queued: record its error where aio_error finds it.
      Op* dead = op_alloc();
      if (dead) {
        dead->state.store(DONE);
        dead->io_result = -err;
        if (registry_insert(cb, dead) == 0) { /* registry holds it */ }
        dead->put();
      }
    }
  }
  bool last = g->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1;
  if (last && g->notify) notify(g->sev, &g->sinfo);
  if (mode == LIO_WAIT) {
    int r = wait_until(group_done, g, -1);
    if (r == EINTR) {
      g->put();
      return fail(EINTR);
    }
    for (int i = 0; i < nent && !any_failed; i++) {
      aiocb* cb = list[i];
      if (!cb || cb->aio_lio_opcode == LIO_NOP) continue;
      int e = aio_error(cb);
      if (e != 0) any_failed = true;
    }
  }
  wake_waiters();
  g->put();
  return any_failed ? fail(EIO) : 0;
}

EXPORT void aio_init(const struct aioinit* init) {
  if (is_null(init)) return;
  if (init->aio_threads > 0) tunables().max_threads = init->aio_threads;
  if (init->aio_idle_time > 0) tunables().idle_seconds = init->aio_idle_time;
}

// *64 aliases: on LP64 struct aiocb64 has the same layout as struct aiocb.
static_assert(sizeof(struct aiocb) == sizeof(struct aiocb64));
static_assert(offsetof(struct aiocb, aio_offset) == offsetof(struct aiocb64, aio_offset));
#define CB(p) reinterpret_cast<struct aiocb*>(p)
#define CCB(p) reinterpret_cast<const struct aiocb*>(p)
EXPORT int aio_read64(struct aiocb64* cb) { return aio_read(CB(cb)); }
EXPORT int aio_write64(struct aiocb64* cb) { return aio_write(CB(cb)); }
EXPORT int aio_fsync64(int op, struct aiocb64* cb) { return aio_fsync(op, CB(cb)); }
EXPORT int aio_error64(const struct aiocb64* cb) { return aio_error(CCB(cb)); }
EXPORT ssize_t aio_return64(struct aiocb64* cb) { return aio_return(CB(cb)); }
EXPORT int aio_suspend64(const struct aiocb64* const list[], int nent, const struct timespec* timeout) {
  return aio_suspend(reinterpret_cast<const struct aiocb* const*>(list), nent, timeout);
}
EXPORT int aio_cancel64(int fd, struct aiocb64* cb) { return aio_cancel(fd, CB(cb)); }
EXPORT int lio_listio64(int mode, struct aiocb64* const list[], int nent, struct sigevent* sig) {
  return lio_listio(mode, reinterpret_cast<struct aiocb* const*>(list), nent, sig);
}

// ---- introspection ------------------------------------------------------------

EXPORT const int asyncaio_present = 1;

EXPORT const char* asyncaio_backend(void) { return backend_name(); }
EXPORT const char* asyncaio_backend_reason(void) {
  (void)backend();
  return kernel_probe_reason();
}

EXPORT void asyncaio_get_stats(struct asyncaio_stats* out) {
  Stats& s = stats();
  out->submitted = s.submitted.load();
  out->completed = s.completed.load();
  out->canceled = s.canceled.load();
  out->notcanceled = s.notcanceled.load();
  out->signals = s.signals.load();
  out->threads = s.threads_notified.load();
}

namespace asyncaio::detail {
namespace {
void exit_report() {
  const char* path = getenv("ASYNCAIO_STATS");
  if (!path || !*path) return;
  // A request's result (and its signal atom) can be visible to the program
  // before the backend has reaped its completion (kernel: ring entry not yet
  // read). Let such completions land, so that the report counts what the
  // program saw; requests that really are still in flight are reported as
  // such after at most a second.
  asyncaio_stats st;
  asyncaio_get_stats(&st);
  for (int i = 0; i < 1000 && st.completed < st.submitted; i++) {
    struct timespec ms = {0, 1000 * 1000};
    nanosleep(&ms, nullptr);
    asyncaio_get_stats(&st);
  }
  FILE* f = (path[0] == '-' && !path[1]) ? stderr : fopen(path, "a");
  if (!f) return;
  fprintf(f,
          "asyncaio pid=%d backend=%s submitted=%llu completed=%llu canceled=%llu "
          "notcanceled=%llu signals=%llu threads=%llu\n",
          static_cast<int>(getpid()), backend_name(), static_cast<unsigned long long>(st.submitted),
          static_cast<unsigned long long>(st.completed), static_cast<unsigned long long>(st.canceled),
          static_cast<unsigned long long>(st.notcanceled), static_cast<unsigned long long>(st.signals),
          static_cast<unsigned long long>(st.threads));
  if (f != stderr) fclose(f);
}
}  // namespace
void stats_install_exit_report() noexcept { atexit(exit_report); }
}  // namespace asyncaio::detail
