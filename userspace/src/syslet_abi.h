/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Private copy of the syslet ABI the kernel backend needs, so the library
 * builds without kernel headers. MUST match include/uapi/linux/async.h of
 * the kernel series (copied from the async worktree, commit 9e2c2c3
 * "async: add the uapi header and syscall numbers for syscall chains").
 * Names are prefixed so that a system <linux/async.h> cannot clash.
 *
 * NOTE: on x86_64 the numbers 463-465 are taken upstream since Linux 6.13
 * (setxattrat, getxattrat, listxattrat), and 466/467 since Linux 6.14
 * (removexattrat, open_tree_attr). The series is on 6.12, where they are
 * free; the probes never trust "not ENOSYS" alone on a kernel >= 6.13.
 */
#ifndef ASYNCAIO_SYSLET_ABI_H
#define ASYNCAIO_SYSLET_ABI_H

#include <stdint.h>

#if defined(__x86_64__)
#define ASYNCAIO_NR_async_exec 463
#define ASYNCAIO_NR_async_wait 464
#define ASYNCAIO_NR_async_cancel 465
#define ASYNCAIO_NR_async_thread 466
#define ASYNCAIO_NR_async_thread_return 467
#endif

#define AA_ASYNC_MAX_ATOMS 64
#define AA_ASYNC_MAX_RING_ENTRIES (1U << 16)

enum aa_async_stop {
	AA_ASYNC_STOP_NONE = 0,
	AA_ASYNC_STOP_ZERO,
	AA_ASYNC_STOP_NONZERO,
	AA_ASYNC_STOP_NEGATIVE,
	AA_ASYNC_STOP_NONPOSITIVE,
	AA_ASYNC_STOP_ERROR,
	AA_ASYNC_STOP_NR,
};

#define AA_ASYNC_ARG_REF(i) (1U << (i))

struct aa_async_atom {
	uint16_t nr;
	uint16_t reserved;
	uint16_t stop;
	uint16_t ref_mask;
	uint64_t args[6];
	uint64_t result;
};

struct aa_async_completion {
	uint64_t cookie;
	int64_t status;
	uint32_t index;
	uint32_t flags;
};

#define AA_ASYNC_COMPLETION_CANCELED (1U << 0)
#define AA_ASYNC_COMPLETION_RESULT_FAULT (1U << 1)
#define AA_ASYNC_COMPLETION_THREADLET (1U << 2)

struct aa_async_ring {
	uint32_t head;
	uint32_t tail;
	uint32_t entries;
	uint32_t reserved;
	struct aa_async_completion cqes[];
};

#define AA_ASYNC_EXEC_SYNC (1ULL << 0)

struct aa_async_args {
	uint64_t atoms;
	uint32_t nr_atoms;
	uint32_t eventfd;
	uint64_t flags;
	uint64_t ring;
	uint64_t cookie;
	uint64_t reserved;
	int64_t status;
	uint32_t index;
	uint32_t out_flags;
};

#define AA_ASYNC_ARGS_SIZE_VER0 64
#define AA_ASYNC_NO_EVENTFD 0xffffffffU
/* Threadlets: async_thread() runs fn(arg) on a stack of ours. */
struct aa_async_thread_args {
	uint64_t fn;
	uint64_t arg;
	uint64_t stack;
	uint64_t stack_size;
	uint64_t restorer;
	uint64_t ring;
	uint64_t cookie;
	uint64_t result;
	uint32_t flags;
	uint32_t eventfd;
	int64_t status;
};

#define AA_ASYNC_THREAD_ARGS_SIZE_VER0 80
#define AA_ASYNC_THREAD_MIN_STACK 16384

#define AA_ASYNC_EXEC_WENT_ASYNC 0
#define AA_ASYNC_EXEC_DONE 1

#ifdef __cplusplus
static_assert(sizeof(struct aa_async_atom) == 64, "async_atom layout");
static_assert(sizeof(struct aa_async_completion) == 24, "async_completion layout");
static_assert(sizeof(struct aa_async_ring) == 16, "async_ring layout");
static_assert(sizeof(struct aa_async_args) == AA_ASYNC_ARGS_SIZE_VER0, "async_args layout");
static_assert(sizeof(struct aa_async_thread_args) == AA_ASYNC_THREAD_ARGS_SIZE_VER0, "async_thread_args layout");
#endif

#endif
