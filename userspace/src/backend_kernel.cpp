// SPDX-License-Identifier: LGPL-2.1-or-later
// Kernel (syslet) backend and backend selection.
//
// The kernel backend turns each Op's atom chain (core.hpp: at most
// kMaxAtoms atoms, stop conditions, arg_from_prev, result addresses) into the
// kernel's atom array, submits it with async_exec (cookie = Op*), and a reaper
// thread blocked on the completion eventfd (R21) calls async_wait and then
// finish(op) for each completion (R17: status, index, cookie).
// cancel_running() maps to async_cancel(cookie) (R25).
//
// Status: the kernel ABI header (include/uapi/linux/async.h) had not been
// published when this was written, so only the probe is implemented; the
// backend is never selected unless the probe finds the syscalls, and then
// reports itself unavailable (ENOSYS) until the ABI is wired in here.
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "backends.hpp"
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
}  // namespace

const char* kernel_probe_reason() noexcept { return g_reason; }

Backend* make_kernel_backend(int* err, const char** why) {
#ifdef ASYNCAIO_NR_async_exec
  if (!kernel_numbers_are_ours()) {
    *err = ENOSYS;
    *why = "kernel >= 6.13: syscall numbers 463-465 are the xattrat calls, not syslets";
    return nullptr;
  }
  errno = 0;
  long r = syscall(ASYNCAIO_NR_async_exec, 0, 0, 0, 0, 0, 0);
  if (r == -1 && errno == ENOSYS) {
    *err = ENOSYS;
    *why = "sys_async_exec returned ENOSYS (kernel without syslets)";
    return nullptr;
  }
  *err = ENOSYS;
  *why = "sys_async_exec present, but this build of the library has no kernel ABI wired in yet";
  return nullptr;
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
