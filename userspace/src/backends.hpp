// SPDX-License-Identifier: LGPL-2.1-or-later
#pragma once
#include "core.hpp"

namespace asyncaio::detail {
// exec: runs a RUNNING op and calls finish(); default: run_chain + finish.
using ExecFn = void (*)(Op* op, void* ctx);
Backend* make_thread_pool_backend(ExecFn exec = nullptr, void* ctx = nullptr, const char* name = "threads");
// nullptr + errno-ish reason if the kernel lacks the syslet syscalls.
Backend* make_kernel_backend(int* err, const char** why);
// Reads ASYNCAIO_BACKEND (auto|threads|kernel) and probes the kernel.
void select_backend(Backend*& be, const char*& name, int& err);
const char* kernel_probe_reason() noexcept;
void stats_install_exit_report() noexcept;
void prepare_siginfo(siginfo_t* info, const sigevent& sev) noexcept;
void notify(const sigevent& sev, siginfo_t* info) noexcept;
}  // namespace asyncaio::detail
