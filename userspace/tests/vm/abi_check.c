/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Compile-time check that the shim's private copy of the syslet ABI
 * (src/syslet_abi.h) matches the kernel's exported <linux/async.h> and
 * <asm/unistd.h>. It produces no program: tools/vm/suites/asyncaio/build.sh
 * compiles it with -fsyntax-only -isystem <the test kernel's headers>, so a
 * series change to the ABI stops the VM suite before it boots.
 */
#include <stddef.h>
#include <asm/unistd.h>
#include <linux/async.h>

#include "syslet_abi.h"

#define SAME(a, b) _Static_assert((long long)(a) == (long long)(b), #a " != " #b)
#define FIELD(s, f) \
	SAME(offsetof(struct aa_##s, f), offsetof(struct s, f)); \
	SAME(sizeof(((struct aa_##s *)0)->f), sizeof(((struct s *)0)->f))

SAME(ASYNCAIO_NR_async_exec, __NR_async_exec);
SAME(ASYNCAIO_NR_async_wait, __NR_async_wait);
SAME(ASYNCAIO_NR_async_cancel, __NR_async_cancel);
SAME(ASYNCAIO_NR_async_thread, __NR_async_thread);
SAME(ASYNCAIO_NR_async_thread_return, __NR_async_thread_return);

SAME(AA_ASYNC_MAX_ATOMS, ASYNC_MAX_ATOMS);
SAME(AA_ASYNC_MAX_RING_ENTRIES, ASYNC_MAX_RING_ENTRIES);
SAME(AA_ASYNC_STOP_NONE, ASYNC_STOP_NONE);
SAME(AA_ASYNC_STOP_ZERO, ASYNC_STOP_ZERO);
SAME(AA_ASYNC_STOP_NONZERO, ASYNC_STOP_NONZERO);
SAME(AA_ASYNC_STOP_NEGATIVE, ASYNC_STOP_NEGATIVE);
SAME(AA_ASYNC_STOP_NONPOSITIVE, ASYNC_STOP_NONPOSITIVE);
SAME(AA_ASYNC_STOP_ERROR, ASYNC_STOP_ERROR);
SAME(AA_ASYNC_STOP_NR, ASYNC_STOP_NR);
SAME(AA_ASYNC_ARG_REF(5), ASYNC_ARG_REF(5));
SAME(AA_ASYNC_COMPLETION_CANCELED, ASYNC_COMPLETION_CANCELED);
SAME(AA_ASYNC_COMPLETION_RESULT_FAULT, ASYNC_COMPLETION_RESULT_FAULT);
SAME(AA_ASYNC_COMPLETION_THREADLET, ASYNC_COMPLETION_THREADLET);
SAME(AA_ASYNC_THREAD_ARGS_SIZE_VER0, ASYNC_THREAD_ARGS_SIZE_VER0);
SAME(AA_ASYNC_THREAD_MIN_STACK, ASYNC_THREAD_MIN_STACK);
SAME(AA_ASYNC_EXEC_SYNC, ASYNC_EXEC_SYNC);
SAME(AA_ASYNC_ARGS_SIZE_VER0, ASYNC_ARGS_SIZE_VER0);
SAME(AA_ASYNC_NO_EVENTFD, ASYNC_NO_EVENTFD);
SAME(AA_ASYNC_EXEC_WENT_ASYNC, ASYNC_EXEC_WENT_ASYNC);
SAME(AA_ASYNC_EXEC_DONE, ASYNC_EXEC_DONE);

SAME(sizeof(struct aa_async_atom), sizeof(struct async_atom));
FIELD(async_atom, nr);
FIELD(async_atom, reserved);
FIELD(async_atom, stop);
FIELD(async_atom, ref_mask);
FIELD(async_atom, args);
FIELD(async_atom, result);

SAME(sizeof(struct aa_async_completion), sizeof(struct async_completion));
FIELD(async_completion, cookie);
FIELD(async_completion, status);
FIELD(async_completion, index);
FIELD(async_completion, flags);

SAME(sizeof(struct aa_async_ring), sizeof(struct async_ring));
FIELD(async_ring, head);
FIELD(async_ring, tail);
FIELD(async_ring, entries);
FIELD(async_ring, reserved);
SAME(offsetof(struct aa_async_ring, cqes), offsetof(struct async_ring, cqes));

SAME(sizeof(struct aa_async_args), sizeof(struct async_args));
FIELD(async_args, atoms);
FIELD(async_args, nr_atoms);
FIELD(async_args, eventfd);
FIELD(async_args, flags);
FIELD(async_args, ring);
FIELD(async_args, cookie);
FIELD(async_args, reserved);
FIELD(async_args, status);
FIELD(async_args, index);
FIELD(async_args, out_flags);

SAME(sizeof(struct aa_async_thread_args), sizeof(struct async_thread_args));
FIELD(async_thread_args, fn);
FIELD(async_thread_args, arg);
FIELD(async_thread_args, stack);
FIELD(async_thread_args, stack_size);
FIELD(async_thread_args, restorer);
FIELD(async_thread_args, ring);
FIELD(async_thread_args, cookie);
FIELD(async_thread_args, result);
FIELD(async_thread_args, flags);
FIELD(async_thread_args, eventfd);
FIELD(async_thread_args, status);
