// SPDX-License-Identifier: LGPL-2.1-or-later
// Kernel (syslet) backend and backend selection.
//
// Each Op's atom chain (core.hpp: stop conditions, results of earlier atoms
// as arguments, result addresses) becomes an array of struct async_atom and
// is submitted with async_exec() from the submitting thread: the cachemiss
// model (R04). If no atom blocks, the chain ran to its end in the caller
// (ASYNC_EXEC_DONE: status and index come back in async_args) and no thread
// was involved. If an atom blocked, the kernel handed the caller's user
// context off (ASYNC_EXEC_WENT_ASYNC) and posts a completion (R17: cookie =
// the Op, status and index of the last atom) to our ring and signals our
// eventfd (R21); a reaper thread sleeping on the eventfd publishes it.
// A running chain is cancelled with async_cancel() (R25): its completion
// carries ASYNC_COMPLETION_CANCELED and -ECANCELED. A full ring (-EAGAIN,
// R27) sends the request to the thread pool instead, so none is refused.
//
// Submission modes (ASYNCAIO_KERNEL_SUBMIT):
//   pool   (default) async_exec is called by submitter threads of a pool,
//          so a kernel without the cachemiss handoff (chains that block run
//          synchronously to the end) never blocks the application thread.
//   inline async_exec is called by the application thread itself: R04's
//          fast path, for kernels with the handoff.
// Environment: ASYNCAIO_KERNEL_RING (ring entries, power of two, default
// 16384).
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "backends.hpp"
#include "kernel_ring.hpp"
#include "syslet_abi.h"

namespace asyncaio::detail {
namespace {
char g_reason[256] = "not probed";

bool kernel_numbers_are_ours() {
  utsname u;
  if (uname(&u) != 0) return false;
  int major = 0, minor = 0;
  if (sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
  return major < 6 || (major == 6 && minor < 13);
}

#ifdef ASYNCAIO_NR_async_exec
long sys_async_exec(aa_async_args* a) { return syscall(ASYNCAIO_NR_async_exec, a, sizeof *a); }
long sys_async_cancel(aa_async_ring* r, uint64_t cookie) { return syscall(ASYNCAIO_NR_async_cancel, r, cookie, 0); }

class KernelBackend final : public Backend {
 public:
  KernelBackend(unsigned entries, bool inline_submit) : entries_(entries), inline_(inline_submit) {
    setup();
    if (!inline_) submitters_ = make_thread_pool_backend(&KernelBackend::exec_trampoline, this, "kernel");
  }

  const char* name() const noexcept override { return "kernel"; }

  int submit(Op* op) noexcept override {
    if (!inline_) return submitters_->submit(op);  // a submitter runs exec_running()
    int expected = QUEUED;
    if (!op->state.compare_exchange_strong(expected, RUNNING, std::memory_order_seq_cst))
      return 0;  // cancelled meanwhile: the canceller finishes it
    exec_running(op);
    return 0;
  }

  static void exec_trampoline(Op* op, void* self) { static_cast<KernelBackend*>(self)->exec_running(op); }

  // op is RUNNING: run it as a kernel chain and see that finish() is called.
  void exec_running(Op* op) noexcept {
    int expected;
    ensure_reaper();
    aa_async_atom atoms[kMaxAtoms];
    memset(atoms, 0, sizeof atoms);
    for (int i = 0; i < op->natoms; i++) {
      const Atom& a = op->atoms[i];
      atoms[i].nr = static_cast<uint16_t>(a.nr);
      atoms[i].stop = static_cast<uint16_t>(a.stop);
      for (int j = 0; j < 6; j++) {
        if (a.from[j] >= 0) {
          atoms[i].ref_mask |= static_cast<uint16_t>(AA_ASYNC_ARG_REF(j));
          atoms[i].args[j] = static_cast<uint64_t>(a.from[j]);
        } else {
          atoms[i].args[j] = a.args[j];
        }
      }
      atoms[i].result = reinterpret_cast<uint64_t>(a.result);
    }
    aa_async_args args;
    memset(&args, 0, sizeof args);
    args.atoms = reinterpret_cast<uint64_t>(atoms);
    args.nr_atoms = static_cast<uint32_t>(op->natoms);
    args.eventfd = static_cast<uint32_t>(kr_.evfd);
    args.ring = reinterpret_cast<uint64_t>(kr_.ring);
    args.cookie = reinterpret_cast<uint64_t>(op);
    op->get();  // the kernel's reference, dropped when the completion is reaped
    long r = sys_async_exec(&args);
    if (r == AA_ASYNC_EXEC_WENT_ASYNC) return;
    if (r == AA_ASYNC_EXEC_DONE) {
      complete(op, args.status, args.index, args.out_flags);
      return;
    }
    int err = r < 0 ? errno : EIO;
    if (err == EAGAIN) {
      // Ring full (R27): nothing ran. Let the thread pool run it.
      op->state.store(QUEUED, std::memory_order_seq_cst);
      int e = fallback()->submit(op);
      op->put();
      if (e == 0) return;
      expected = QUEUED;
      if (!op->state.compare_exchange_strong(expected, RUNNING)) return;
      err = e;
      op->get();
    }
    // Refused at submission: nothing ran; the request completes with it.
    op->last_status = -err;
    op->last_index = 0;
    __atomic_store_n(&op->io_result, static_cast<int64_t>(-err), __ATOMIC_SEQ_CST);
    finish(op);
    op->put();
  }

  int cancel_running(Op* op) noexcept override {
    long r = sys_async_cancel(kr_.ring, reinterpret_cast<uint64_t>(op));
    if (r != 0) return AIO_NOTCANCELED;  // ENOENT (finishing / in the pool) or EALREADY
    // The chain was told to stop; POSIX wants the error status to be
    // ECANCELED when aio_cancel returns, so wait for its completion (the
    // blocked atom is interrupted as by a signal: this is short).
    for (int i = 0; i < 50000 && !op->finished(); i++) usleep(100);
    return AIO_CANCELED;
  }

  void reset_after_fork() noexcept override {
    // The kernel's state belongs to the parent's thread group; the child
    // starts with a fresh ring, eventfd and (lazily) reaper.
    new (&reaper_once_) std::once_flag;
    setup();
    if (submitters_) submitters_->reset_after_fork();
  }

 private:
  void setup() noexcept {
    kr_.open(entries_);
    fallback_ = nullptr;
  }

  Backend* fallback() noexcept {
    std::lock_guard lk(fb_m_);
    if (!fallback_) fallback_ = make_thread_pool_backend();
    return fallback_;
  }

  static void complete(Op* op, int64_t status, uint32_t index, uint32_t flags) noexcept {
    op->last_status = status;
    op->last_index = static_cast<int>(index);
    if (flags & AA_ASYNC_COMPLETION_CANCELED) op->state.store(CANCELED, std::memory_order_seq_cst);
    finish(op);
    op->put();
  }

  void ensure_reaper() noexcept {
    std::call_once(reaper_once_, [this] {
      kr_.start_reaper([](const aa_async_completion& c) {
        complete(reinterpret_cast<Op*>(c.cookie), c.status, c.index, c.flags);
      });
    });
  }

  unsigned entries_;
  bool inline_;
  Backend* submitters_ = nullptr;
  KernelRing kr_;
  std::once_flag reaper_once_;
  std::mutex fb_m_;
  Backend* fallback_ = nullptr;
};
#endif

unsigned ring_entries_from_env() {
  const char* s = getenv("ASYNCAIO_KERNEL_RING");
  unsigned long v = s ? strtoul(s, nullptr, 10) : 16384;
  if (v < 1 || v > AA_ASYNC_MAX_RING_ENTRIES || (v & (v - 1))) v = 16384;
  return static_cast<unsigned>(v);
}
}  // namespace

const char* kernel_probe_reason() noexcept { return g_reason; }

Backend* make_kernel_backend(int* err, const char** why) {
#ifdef ASYNCAIO_NR_async_exec
  if (!kernel_numbers_are_ours()) {
    *err = ENOSYS;
    *why = "kernel >= 6.13: syscall numbers 463-465 are the xattrat calls, not syslets";
    return nullptr;
  }
  // A size below ASYNC_ARGS_SIZE_VER0 is refused with EINVAL before
  // anything else; a kernel without the syscalls says ENOSYS.
  errno = 0;
  long r = syscall(ASYNCAIO_NR_async_exec, nullptr, 0);
  if (r == -1 && errno == ENOSYS) {
    *err = ENOSYS;
    *why = "sys_async_exec returned ENOSYS (kernel without syslets)";
    return nullptr;
  }
  if (!(r == -1 && errno == EINVAL)) {
    *err = ENOSYS;
    *why = "syscall 463 does not behave like sys_async_exec";
    return nullptr;
  }
  const char* mode = getenv("ASYNCAIO_KERNEL_SUBMIT");
  auto* k = new KernelBackend(ring_entries_from_env(), mode && strcmp(mode, "inline") == 0);
  *err = 0;
  *why = "sys_async_exec present";
  return k;
#else
  *err = ENOSYS;
  *why = "no syslet syscall numbers for this architecture";
  return nullptr;
#endif
}

void select_backend(Backend*& be, const char*& name, int& err) {
  const char* want = getenv("ASYNCAIO_BACKEND");
  if (!want || !*want) want = "auto";
  const char* why = "";
  int kerr = 0;
  if (strcmp(want, "threads") == 0) {
    be = make_thread_pool_backend();
    name = be->name();
    snprintf(g_reason, sizeof g_reason, "thread pool forced by ASYNCAIO_BACKEND=threads");
    return;
  }
  Backend* k = make_kernel_backend(&kerr, &why);
  if (k) {
    be = k;
    name = k->name();
    snprintf(g_reason, sizeof g_reason, "kernel syslets available");
    return;
  }
  if (strcmp(want, "kernel") == 0) {
    be = nullptr;
    name = "none";
    err = kerr;
    snprintf(g_reason, sizeof g_reason, "ASYNCAIO_BACKEND=kernel but %s", why);
    return;
  }
  be = make_thread_pool_backend();
  name = be->name();
  snprintf(g_reason, sizeof g_reason, "%s; using the thread pool", why);
}

}  // namespace asyncaio::detail
