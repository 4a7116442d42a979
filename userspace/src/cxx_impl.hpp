// SPDX-License-Identifier: LGPL-2.1-or-later
// The C++ context's state, shared by cxx_api.cpp (chains) and threadlet.cpp.
#pragma once
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "asyncaio/asyncaio.hpp"
#include "core.hpp"

namespace asyncaio {

using detail::Op;

struct context::impl final : detail::Sink {
  struct pending {
    callback cb;
    Op* op;                                     // null for a threadlet
    std::unique_ptr<detail::threadlet_job> job;  // a threadlet's callable
  };
  std::mutex m;
  std::condition_variable cv;
  std::unordered_map<std::uint64_t, pending> inflight;
  std::deque<std::pair<std::uint64_t, result>> ready;
  std::uint64_t next_id = 1;
  int efd = -1;

  void complete(Op* op) noexcept override {
    std::lock_guard lk(m);
    ready.emplace_back(op->cookie, result{op->last_status, op->last_index, op->cookie});
    signal_locked();
  }

  // A threadlet ended: its value, delivered like a chain's completion.
  void complete_threadlet(std::uint64_t id, std::int64_t value) noexcept {
    std::lock_guard lk(m);
    try {
      ready.emplace_back(id, result{value, 0, id});
    } catch (...) {
      std::terminate();  // cannot lose a completion
    }
    signal_locked();
  }

  void signal_locked() noexcept {
    std::uint64_t one = 1;
    ssize_t w = ::write(efd, &one, sizeof one);
    (void)w;
    cv.notify_all();
  }
};

}  // namespace asyncaio
