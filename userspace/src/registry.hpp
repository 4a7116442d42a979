// SPDX-License-Identifier: LGPL-2.1-or-later
// aiocb* -> Op map for the POSIX layer.
#pragma once
#include <vector>

#include "core.hpp"

namespace asyncaio::detail {
// 0, or EINVAL if the aiocb is still in flight. Takes its own reference.
int registry_insert(aiocb* cb, Op* op) noexcept;
// Remove a (failed-to-submit) op again.
void registry_erase(aiocb* cb, Op* op) noexcept;
// A referenced Op, or nullptr if this aiocb is unknown.
Op* registry_get(const aiocb* cb) noexcept;
// For aio_return: remove and return the op (referenced) if it is finished;
// nullptr and *in_progress=true if not finished; nullptr if unknown.
Op* registry_take(aiocb* cb, bool* in_progress) noexcept;
// Append (referenced) every registered, submitted request on fd.
void registry_collect_fd(int fd, std::vector<Op*>& out) noexcept;
void registry_reset_after_fork() noexcept;
}  // namespace asyncaio::detail
