// SPDX-License-Identifier: LGPL-2.1-or-later
// The kernel's completion ring as both kernel paths use it (the syslet
// backend and threadlets): the ring mapped in our memory, the eventfd the
// kernel signals after each completion, and one reaper thread, started with
// every signal blocked, that drains the ring each time the eventfd fires.
#pragma once

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <thread>

#include "syslet_abi.h"

namespace asyncaio::detail {

struct KernelRing {
  aa_async_ring* ring = nullptr;
  int evfd = -1;

  // Map a ring of `entries` (a power of two) slots and open its eventfd.
  // Any old ring is forgotten, not unmapped: after fork() the child calls
  // this again while the parent's completions may still be on their way.
  bool open(unsigned entries) noexcept {
    size_t bytes = sizeof(aa_async_ring) + static_cast<size_t>(entries) * sizeof(aa_async_completion);
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ring = p == MAP_FAILED ? nullptr : static_cast<aa_async_ring*>(p);
    if (ring) ring->entries = entries;
    evfd = eventfd(0, EFD_CLOEXEC);
    return ring && evfd >= 0;
  }

  // Start the reaper: `on_completion(const aa_async_completion&)` runs for
  // every completion, in order, after its slot was given back to the kernel.
  // The thread never takes a signal meant for the program. Call it once.
  template <class F>
  void start_reaper(F on_completion) noexcept {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    try {
      std::thread([r = ring, fd = evfd, f = std::move(on_completion)]() mutable { reap(r, fd, f); }).detach();
    } catch (...) {
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }

 private:
  template <class F>
  static void reap(aa_async_ring* ring, int evfd, F& on_completion) noexcept {
    for (;;) {
      uint64_t n;
      if (read(evfd, &n, sizeof n) < 0 && errno != EINTR) return;
      uint32_t head = ring->head;
      uint32_t tail = __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE);
      while (head != tail) {
        aa_async_completion c = ring->cqes[head & (ring->entries - 1)];
        head++;
        __atomic_store_n(&ring->head, head, __ATOMIC_RELEASE);  // slot free again
        on_completion(c);
        if (head == tail) tail = __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE);
      }
    }
  }
};

}  // namespace asyncaio::detail
