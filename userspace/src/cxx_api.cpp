// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include "asyncaio/asyncaio.hpp"
#include "backends.hpp"
#include "core.hpp"
#include "cxx_impl.hpp"

#define EXPORT __attribute__((visibility("default")))

namespace asyncaio {

using detail::Op;

EXPORT std::int64_t result::value() const {
  if (status < 0) throw std::system_error(error(), "asyncaio: chain failed at atom " + std::to_string(index));
  return status;
}

EXPORT atom atom::syscall(long nr, std::initializer_list<std::uint64_t> args) {
  if (nr < 0 || nr > 0xffff) throw std::invalid_argument("asyncaio::atom: syscall number out of range (16 bits)");
  if (args.size() > 6) throw std::invalid_argument("asyncaio::atom: a syscall takes at most 6 arguments");
  atom a;
  a.nr_ = nr;
  int i = 0;
  for (auto v : args) a.args_[i++] = v;
  return a;
}
EXPORT atom atom::pread(int fd, std::span<std::byte> buf, off_t offset) {
  return syscall(SYS_pread64, {static_cast<std::uint64_t>(fd), reinterpret_cast<std::uint64_t>(buf.data()),
                               buf.size(), static_cast<std::uint64_t>(offset)});
}
EXPORT atom atom::pwrite(int fd, std::span<const std::byte> buf, off_t offset) {
  return syscall(SYS_pwrite64, {static_cast<std::uint64_t>(fd), reinterpret_cast<std::uint64_t>(buf.data()),
                                buf.size(), static_cast<std::uint64_t>(offset)});
}
EXPORT atom atom::fsync(int fd) { return syscall(SYS_fsync, {static_cast<std::uint64_t>(fd)}); }
EXPORT atom atom::fdatasync(int fd) { return syscall(SYS_fdatasync, {static_cast<std::uint64_t>(fd)}); }
EXPORT atom atom::close(int fd) { return syscall(SYS_close, {static_cast<std::uint64_t>(fd)}); }

EXPORT atom& atom::arg_from_previous(unsigned i) {
  if (i >= 6) throw std::out_of_range("asyncaio::atom::arg_from_previous: argument index must be 0..5");
  from_[i] = -2;
  return *this;
}
EXPORT atom& atom::arg_from(unsigned i, unsigned k) {
  if (i >= 6) throw std::out_of_range("asyncaio::atom::arg_from: argument index must be 0..5");
  if (k >= max_atoms) throw std::out_of_range("asyncaio::atom::arg_from: atom index must be below max_atoms");
  from_[i] = static_cast<std::int8_t>(k);
  return *this;
}

EXPORT chain::chain(std::initializer_list<atom> atoms) {
  for (const auto& a : atoms) then(a);
}
EXPORT chain& chain::then(const atom& a) {
  if (atoms_.size() >= max_atoms)
    throw std::length_error("asyncaio::chain: at most " + std::to_string(max_atoms) + " atoms per chain");
  for (int j = 0; j < 6; j++) {
    if (a.from_[j] == -2 && atoms_.empty())
      throw std::invalid_argument("asyncaio::chain: the first atom has no previous result to take");
    if (a.from_[j] >= 0 && static_cast<std::size_t>(a.from_[j]) >= atoms_.size())
      throw std::invalid_argument("asyncaio::chain: an atom can only take the result of an earlier atom");
  }
  atoms_.push_back(a);
  return *this;
}


EXPORT context::context() : impl_(std::make_unique<impl>()) {
  impl_->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl_->efd < 0) throw std::system_error(errno, std::system_category(), "asyncaio::context: eventfd");
}

EXPORT context::~context() {
  std::vector<Op*> ops;
  {
    std::lock_guard lk(impl_->m);
    for (auto& [id, p] : impl_->inflight) {
      if (!p.op) continue;  // a threadlet: cannot be cancelled, waited for below
      p.op->get();
      ops.push_back(p.op);
    }
  }
  for (Op* op : ops) {
    detail::cancel_op(op);
    op->put();
  }
  {
    std::unique_lock lk(impl_->m);
    impl_->cv.wait(lk, [&] { return impl_->ready.size() >= impl_->inflight.size(); });
    for (auto& [id, p] : impl_->inflight)
      if (p.op) p.op->put();
  }
  ::close(impl_->efd);
}

EXPORT std::uint64_t context::submit(const chain& c, callback cb, std::error_code& ec) noexcept {
  ec.clear();
  if (c.empty()) { ec = std::make_error_code(std::errc::invalid_argument); return 0; }
  if (!detail::backend()) { ec = std::error_code(detail::backend_errno(), std::system_category()); return 0; }
  if (!detail::admit(1)) { ec = std::make_error_code(std::errc::resource_unavailable_try_again); return 0; }
  Op* op = detail::op_alloc();
  if (!op) { detail::release(1); ec = std::make_error_code(std::errc::not_enough_memory); return 0; }
  op->kind = detail::Kind::chain;
  op->fd = -1;
  int i = 0;
  for (const atom& a : c.atoms()) {
    auto& d = op->atoms[i++];
    d.nr = static_cast<std::uint32_t>(a.nr_);
    for (int j = 0; j < 6; j++) d.args[j] = a.args_[j];
    for (int j = 0; j < 6; j++)
      d.from[j] = a.from_[j] == -2 ? static_cast<std::int8_t>(i - 2) : a.from_[j];
    d.stop = static_cast<detail::Stop>(a.stop_);
    d.result = a.result_;
  }
  op->natoms = i;
  op->sink = impl_.get();
  std::uint64_t id;
  try {
    std::lock_guard lk(impl_->m);
    id = impl_->next_id++;
    op->cookie = id;
    op->get();  // the context's reference
    impl_->inflight.emplace(id, impl::pending{std::move(cb), op, nullptr});
  } catch (...) {
    op->put();
    detail::release(1);
    ec = std::make_error_code(std::errc::not_enough_memory);
    return 0;
  }
  detail::submit(op);
  return id;
}

EXPORT std::uint64_t context::submit(const chain& c, callback cb) {
  std::error_code ec;
  auto id = submit(c, std::move(cb), ec);
  if (ec) throw std::system_error(ec, "asyncaio::context::submit");
  return id;
}

EXPORT std::vector<std::uint64_t> context::submit_batch(std::span<const chain> chains, callback cb) {
  for (const auto& c : chains)
    if (c.empty()) throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                                           "asyncaio::context::submit_batch: empty chain");
  if (!detail::admit(static_cast<long>(chains.size())))
    throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again),
                            "asyncaio::context::submit_batch: batch exceeds ASYNCAIO_MAX_REQUESTS");
  detail::release(static_cast<long>(chains.size()));
  std::vector<std::uint64_t> ids;
  ids.reserve(chains.size());
  for (const auto& c : chains) ids.push_back(submit(c, cb));
  return ids;
}

EXPORT bool context::cancel(std::uint64_t id) noexcept {
  Op* op = nullptr;
  {
    std::lock_guard lk(impl_->m);
    auto it = impl_->inflight.find(id);
    if (it == impl_->inflight.end()) return false;
    op = it->second.op;
    if (!op) return false;  // threadlets cannot be cancelled
    op->get();
  }
  bool ok = detail::cancel_op(op) == AIO_CANCELED;
  op->put();
  return ok;
}

EXPORT std::size_t context::poll() {
  std::size_t n = 0;
  for (;;) {
    impl::pending p;
    result r;
    {
      std::lock_guard lk(impl_->m);
      if (impl_->ready.empty()) {
        std::uint64_t v;
        ssize_t rd = ::read(impl_->efd, &v, sizeof v);
        (void)rd;
        if (impl_->ready.empty()) break;
        continue;
      }
      auto [id, res] = impl_->ready.front();
      impl_->ready.pop_front();
      auto it = impl_->inflight.find(id);
      p = std::move(it->second);
      impl_->inflight.erase(it);
      r = res;
    }
    if (p.op) p.op->put();
    p.job.reset();  // a threadlet's callable dies in the thread that runs the callback
    n++;
    if (p.cb) p.cb(r);
  }
  return n;
}

EXPORT std::size_t context::wait(std::size_t min_completions, std::chrono::nanoseconds timeout) {
  std::size_t n = poll();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (n < min_completions) {
    {
      std::unique_lock lk(impl_->m);
      if (impl_->inflight.empty()) break;
      auto ready = [&] { return !impl_->ready.empty(); };
      if (timeout.count() < 0) impl_->cv.wait(lk, ready);
      else if (!impl_->cv.wait_until(lk, deadline, ready)) break;
    }
    n += poll();
  }
  return n;
}

EXPORT std::size_t context::run() {
  std::size_t n = 0;
  while (in_flight() > 0) n += wait(1);
  return n;
}

EXPORT int context::event_fd() const noexcept { return impl_->efd; }
EXPORT std::size_t context::in_flight() const noexcept {
  std::lock_guard lk(impl_->m);
  return impl_->inflight.size();
}
EXPORT const char* context::backend() noexcept { return detail::backend_name(); }

EXPORT bool op_awaitable::await_suspend(std::coroutine_handle<> h) {
  ctx_->submit(chain_, [this, h](const result& r) {
    res_ = r;
    h.resume();
  }, submit_error_);
  return !submit_error_;  // not suspended if submission failed
}

EXPORT result op_awaitable::await_resume() {
  if (submit_error_) throw std::system_error(submit_error_, "asyncaio: co_await submission");
  return res_;
}

}  // namespace asyncaio
