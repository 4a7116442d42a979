// SPDX-License-Identifier: GPL-2.0
/*
 * Asynchronous system call chains: the system call entry points.
 */
#include <linux/async_syscalls.h>
#include <linux/compat.h>
#include <linux/eventfd.h>
#include <linux/mmspace.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/syscalls.h>
#include <linux/time64.h>
#include <linux/uaccess.h>

#include "internal.h"

static void async_chain_free(struct async_chain *chain)
{
	if (chain->eventfd)
		eventfd_ctx_put(chain->eventfd);
	kfree(chain);
}

/* Copy and check everything; nothing has run when this fails. */
static struct async_chain *async_chain_copy(const struct async_args *args,
					    bool compat)
{
	struct async_atom __user *uatoms = u64_to_user_ptr(args->atoms);
	struct async_chain *chain;
	int ret;

	if (args->flags & ~ASYNC_EXEC_FLAGS || args->reserved)
		return ERR_PTR(-EINVAL);
	if (!args->nr_atoms || args->nr_atoms > ASYNC_MAX_ATOMS)
		return ERR_PTR(-EINVAL);

	chain = async_chain_alloc(args->nr_atoms);
	if (!chain)
		return ERR_PTR(-ENOMEM);
	chain->compat = compat;
	chain->cookie = args->cookie;
	if (copy_from_user(chain->atoms, uatoms,
			   array_size(args->nr_atoms, sizeof(*uatoms)))) {
		ret = -EFAULT;
		goto err;
	}
	if (compat) {
		ret = async_atoms_from_compat(chain->atoms, chain->nr_atoms);
		if (ret)
			goto err;
	}
	ret = async_validate_chain(chain, compat);
	if (ret)
		goto err;
	if (args->eventfd != ASYNC_NO_EVENTFD) {
		chain->eventfd = eventfd_ctx_fdget(args->eventfd);
		if (IS_ERR(chain->eventfd)) {
			ret = PTR_ERR(chain->eventfd);
			chain->eventfd = NULL;
			goto err;
		}
	}
	return chain;
err:
	async_chain_free(chain);
	return ERR_PTR(ret);
}

static int async_report_sync(struct async_args __user *uargs,
			     const struct async_chain *chain)
{
	struct {
		__s64	status;
		__u32	index;
		__u32	out_flags;
	} out = {
		.status = chain->status,
		.index = chain->last,
	};

	BUILD_BUG_ON(offsetofend(struct async_args, out_flags) -
		     offsetof(struct async_args, status) != sizeof(out));
	if (test_bit(ASYNC_CHAIN_CANCELED, &chain->flags))
		out.out_flags |= ASYNC_COMPLETION_CANCELED;
	if (test_bit(ASYNC_CHAIN_RESULT_FAULT, &chain->flags))
		out.out_flags |= ASYNC_COMPLETION_RESULT_FAULT;
	if (copy_to_user(&uargs->status, &out, sizeof(out)))
		return -EFAULT;
	return ASYNC_EXEC_DONE;
}

/**
 * sys_async_exec - run a chain of system calls, going async if one blocks
 * @uargs: struct async_args
 * @size:  sizeof(struct async_args) as user space knows it
 *
 * Return: ASYNC_EXEC_DONE when the chain ran to its end in the caller
 * (status and index are in @uargs), ASYNC_EXEC_WENT_ASYNC when an atom
 * blocked and a completion will be posted to the ring, -errno when the
 * submission was refused and no atom ran.
 */
SYSCALL_DEFINE2(async_exec, struct async_args __user *, uargs, size_t, size)
{
	bool compat = in_compat_syscall();
	struct async_chain *chain;
	struct async_args args;
	struct async_ctx *ctx;
	long ret;

	if (size < ASYNC_ARGS_SIZE_VER0)
		return -EINVAL;
	ret = copy_struct_from_user(&args, sizeof(args), uargs, size);
	if (ret)
		return ret;
	if (arch_async_refuse_caller())
		return -EOPNOTSUPP;
	if (compat && async_args_from_compat(&args))
		return -EINVAL;
	/* Not from inside a threadlet: one per task at a time. */
	if (current->async_chain)
		return -EBUSY;
	/* The pool threads run in the process's own mm, not in a space. */
	if (mmspace_switched(current))
		return -EBUSY;

	chain = async_chain_copy(&args, compat);
	if (IS_ERR(chain))
		return PTR_ERR(chain);
	ret = async_chain_attach(chain, args.ring);
	if (ret)
		goto out_free;
	ctx = chain->ctx;
	/*
	 * The thread-group leader keeps its user context: its thread id is
	 * the process id, which must stay with the leader (wait(), SIGCHLD).
	 */
	async_chain_start(chain, !(args.flags & ASYNC_EXEC_SYNC) &&
			  !thread_group_leader(current));

	async_run_chain(chain);
	async_chain_del(chain);
	if (test_bit(ASYNC_CHAIN_WENT_ASYNC, &chain->flags)) {
		/* Our user context went on elsewhere; report through the ring. */
		async_post_completion(chain);
		async_chain_free(chain);
		return async_pool_park(ctx);
	}
	async_ring_unreserve(ctx, chain->ring);
	ret = async_report_sync(uargs, chain);
out_free:
	async_chain_free(chain);
	return ret;
}

/**
 * sys_async_wait - wait for completions on a ring
 * @uring:        the ring
 * @min_complete: completions to wait for, 0..entries
 * @utimeout:     relative timeout, NULL to wait without one
 * @flags:        must be 0
 *
 * Return: the number of completions ready (at least @min_complete),
 * -ETIME on timeout, -EINTR or -ERESTARTSYS on a signal.
 */
SYSCALL_DEFINE4(async_wait, struct async_ring __user *, uring,
		unsigned int, min_complete,
		const struct __kernel_timespec __user *, utimeout,
		unsigned int, flags)
{
	struct async_ring_ctx *ring;
	struct timespec64 ts;
	struct async_ctx *ctx;

	if (flags)
		return -EINVAL;
	if (utimeout) {
		if (get_timespec64(&ts, utimeout))
			return -EFAULT;
		if (!timespec64_valid(&ts))
			return -EINVAL;
	}
	ctx = async_get_ctx();
	if (!ctx)
		return -ENOMEM;
	ring = async_ring_lookup(ctx, (u64)(unsigned long)uring);
	if (IS_ERR(ring))
		return PTR_ERR(ring);
	return async_ring_wait(ring, min_complete, utimeout ? &ts : NULL);
}

/**
 * sys_async_cancel - cancel a pending chain
 * @uring:  the ring the chain was submitted with
 * @cookie: its cookie
 * @flags:  must be 0
 *
 * Return: 0 when the chain was told to stop (its completion will say
 * -ECANCELED), -ENOENT when no such chain is pending, -EALREADY when it
 * is already completing.
 */
long do_async_cancel(struct async_ring __user *uring, u64 cookie,
		     unsigned int flags)
{
	struct async_ctx *ctx;

	if (flags)
		return -EINVAL;
	if (!uring || !IS_ALIGNED((unsigned long)uring, sizeof(u64)))
		return -EINVAL;
	ctx = READ_ONCE(current->signal->async_ctx);
	if (!ctx)
		return -ENOENT;
	/* Only a ring chains were submitted with can have one pending. */
	return async_chain_cancel(ctx, (u64)(unsigned long)uring, cookie);
}

SYSCALL_DEFINE3(async_cancel, struct async_ring __user *, uring,
		__u64, cookie, unsigned int, flags)
{
	return do_async_cancel(uring, cookie, flags);
}
