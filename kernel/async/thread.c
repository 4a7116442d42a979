// SPDX-License-Identifier: GPL-2.0
/*
 * Threadlets: a user function that goes async only if it blocks.
 *
 * async_thread() saves the caller's user context (registers and FPU
 * state), points the task's user registers at fn(arg) on the given
 * stack, with the restorer as return address, and returns to user space
 * there. The function runs in the caller's task, like a function call.
 *
 * If it returns without having blocked, the restorer calls
 * async_thread_return(), which puts the caller's context back: the
 * caller's async_thread() returns ASYNC_EXEC_DONE with the value in
 * args->status. If it blocks before that, the scheduler hook hands the
 * *saved* context to a pool thread, exactly as for a chain: the caller
 * goes on under its own thread id with ASYNC_EXEC_WENT_ASYNC, while the
 * function finishes in the original task, which from then on has the
 * pool thread's old id, blocks all signals but SIGKILL and SIGSTOP, and
 * has dropped the per-thread user state that went with the context
 * (async_detach(), on its next return to user space). Its
 * async_thread_return() posts the completion and joins the pool.
 */
#include <linux/async_syscalls.h>
#include <linux/compat.h>
#include <linux/eventfd.h>
#include <linux/mm.h>
#include <linux/mmspace.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/syscalls.h>
#include <linux/uaccess.h>
#include <asm/syscall.h>

#include "internal.h"

static void async_thread_free(struct async_chain *chain)
{
	if (chain->thread) {
		if (chain->thread->saved)
			arch_async_free_user(chain->thread->saved);
		kfree(chain->thread);
	}
	if (chain->eventfd)
		eventfd_ctx_put(chain->eventfd);
	kfree(chain);
}

/*
 * The address a function pointer of the caller's ABI branches to. It is
 * the pointer itself unless the ABI uses function descriptors (ppc64
 * ELFv1), which the architecture reads from user memory.
 */
int __weak arch_async_func_entry(u64 fn, u64 *entry)
{
	*entry = fn;
	return 0;
}

/* @fn and @restorer must lead to code, the stack's top be writable memory. */
static int async_thread_check_vmas(const struct async_thread_args *args)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	u64 fn, restorer;
	int ret;

	/* Descriptors are read before mmap_lock is taken: they may fault. */
	ret = arch_async_func_entry(args->fn, &fn);
	if (!ret)
		ret = arch_async_func_entry(args->restorer, &restorer);
	if (ret)
		return ret;
	ret = -EFAULT;
	if (mmap_read_lock_killable(mm))
		return -EINTR;
	vma = vma_lookup(mm, fn);
	if (!vma || !(vma->vm_flags & VM_EXEC))
		goto out;
	vma = vma_lookup(mm, restorer);
	if (!vma || !(vma->vm_flags & VM_EXEC))
		goto out;
	vma = vma_lookup(mm, args->stack + args->stack_size - 1);
	if (!vma || !(vma->vm_flags & VM_WRITE))
		goto out;
	ret = 0;
out:
	mmap_read_unlock(mm);
	return ret;
}

static int async_thread_check(const struct async_thread_args *args)
{
	if (args->flags)
		return -EINVAL;
	if (args->stack_size < ASYNC_THREAD_MIN_STACK ||
	    args->stack_size > TASK_SIZE ||
	    args->stack + args->stack_size < args->stack)
		return -EINVAL;
	if (args->result && !IS_ALIGNED(args->result, sizeof(s64)))
		return -EINVAL;
	if (!access_ok(u64_to_user_ptr(args->stack), args->stack_size))
		return -EFAULT;
	if (args->result &&
	    !access_ok(u64_to_user_ptr(args->result), sizeof(s64)))
		return -EFAULT;
	return async_thread_check_vmas(args);
}

static struct async_chain *async_thread_alloc(const struct async_thread_args *args,
					      struct async_thread_args __user *uargs)
{
	struct async_chain *chain;

	chain = async_chain_alloc(0);
	if (!chain)
		return ERR_PTR(-ENOMEM);
	chain->thread = kzalloc(sizeof(*chain->thread), GFP_KERNEL_ACCOUNT);
	if (!chain->thread) {
		async_thread_free(chain);
		return ERR_PTR(-ENOMEM);
	}
	chain->cookie = args->cookie;
	chain->thread->uargs = uargs;
	chain->thread->result = args->result;
	if (args->eventfd != ASYNC_NO_EVENTFD) {
		chain->eventfd = eventfd_ctx_fdget(args->eventfd);
		if (IS_ERR(chain->eventfd)) {
			long ret = PTR_ERR(chain->eventfd);

			chain->eventfd = NULL;
			async_thread_free(chain);
			return ERR_PTR(ret);
		}
	}
	return chain;
}

/**
 * sys_async_thread - run a user function, going async only if it blocks
 * @uargs: struct async_thread_args
 * @size:  sizeof(struct async_thread_args) as user space knows it
 *
 * Does not return to the caller directly: the caller's context comes
 * back from async_thread_return() (ASYNC_EXEC_DONE, value in
 * @uargs->status) or, if the function blocked, through the pool
 * (ASYNC_EXEC_WENT_ASYNC, the value comes in a completion).
 *
 * Return: -errno when refused, with the function not run.
 */
SYSCALL_DEFINE2(async_thread, struct async_thread_args __user *, uargs,
		size_t, size)
{
	struct async_thread_args args;
	struct async_chain *chain;
	long ret;

	if (size < ASYNC_THREAD_ARGS_SIZE_VER0)
		return -EINVAL;
	ret = copy_struct_from_user(&args, sizeof(args), uargs, size);
	if (ret)
		return ret;
	if (arch_async_refuse_caller())
		return -EOPNOTSUPP;
	if (in_compat_syscall() && async_thread_args_from_compat(&args))
		return -EINVAL;
	/* One chain or threadlet per task at a time. */
	if (current->async_chain)
		return -EBUSY;
	/*
	 * The pool threads run in the process's own mm, not in a space.
	 * Checked before the arguments, which are read in the current mm.
	 */
	if (mmspace_switched(current))
		return -EBUSY;
	ret = async_thread_check(&args);
	if (ret)
		return ret;

	chain = async_thread_alloc(&args, uargs);
	if (IS_ERR(chain))
		return PTR_ERR(chain);
	ret = async_chain_attach(chain, args.ring);
	if (ret)
		goto out_free;
	chain->thread->saved = arch_async_save_user();
	if (IS_ERR(chain->thread->saved)) {
		ret = PTR_ERR(chain->thread->saved);
		chain->thread->saved = NULL;
		goto out_unreserve;
	}
	ret = arch_async_enter_user(current_pt_regs(), &args);
	if (ret)
		goto out_unreserve;

	/* As for chains: the leader's thread id is the process id. */
	async_chain_start(chain, !thread_group_leader(current));
	current->async_chain = chain;
	if (chain->may_hand_off)
		current->flags |= PF_ASYNC_ATOM;
	/*
	 * The function's registers are set. Where the return value register
	 * is also the first argument register (s390, powerpc), the value
	 * returned is what arch_async_enter_user() put there: the argument.
	 */
	return syscall_get_return_value(current, current_pt_regs());

out_unreserve:
	async_ring_unreserve(chain->ctx, chain->ring);
out_free:
	async_thread_free(chain);
	return ret;
}

/* The threadlet is over: take it off its task and off the ring's list. */
static void async_thread_end(struct async_chain *chain)
{
	current->flags &= ~PF_ASYNC_ATOM;
	current->async_chain = NULL;
	spin_lock(&chain->ctx->lock);
	chain->state = ASYNC_CHAIN_COMPLETING;
	spin_unlock(&chain->ctx->lock);
	async_chain_del(chain);
}

static void async_thread_post(struct async_chain *chain, long value)
{
	chain->status = value;
	chain->last = 0;
	if (chain->thread->result &&
	    put_user((s64)value, (s64 __user *)u64_to_user_ptr(chain->thread->result)))
		set_bit(ASYNC_CHAIN_RESULT_FAULT, &chain->flags);
	async_post_completion(chain);
}

/**
 * sys_async_thread_return - end a threadlet (called by its restorer)
 * @value: the function's return value
 *
 * Return: in the caller's context, ASYNC_EXEC_DONE (or -EFAULT if
 * args->status could not be written) when the function never blocked;
 * otherwise the task joins the pool and returns, in the next context it
 * carries, ASYNC_EXEC_WENT_ASYNC. -EINVAL outside a threadlet.
 */
SYSCALL_DEFINE1(async_thread_return, long, value)
{
	struct async_chain *chain = current->async_chain;
	struct async_ctx *ctx;
	long ret;

	if (!chain || !chain->thread)
		return -EINVAL;
	/* A 32-bit function returned an int-sized long: keep its sign. */
	if (in_compat_syscall())
		value = (s32)value;
	ctx = chain->ctx;
	async_thread_end(chain);
	if (test_bit(ASYNC_CHAIN_WENT_ASYNC, &chain->flags)) {
		async_detach(chain);
		async_thread_post(chain, value);
		async_thread_free(chain);
		return async_pool_park(ctx);
	}
	async_ring_unreserve(ctx, chain->ring);
	ret = ASYNC_EXEC_DONE;
	if (put_user((s64)value, &chain->thread->uargs->status))
		ret = -EFAULT;
	if (chain->thread->result &&
	    put_user((s64)value, (s64 __user *)u64_to_user_ptr(chain->thread->result)))
		ret = -EFAULT;
	arch_async_restore_user(chain->thread->saved, ret);
	async_thread_free(chain);
	return ret;
}

/*
 * Back to user space after a handoff: drop the user state that went with
 * the caller's context before running more of the function.
 */
void async_thread_resume(void)
{
	struct async_chain *chain = current->async_chain;

	if (chain->thread && test_bit(ASYNC_CHAIN_WENT_ASYNC, &chain->flags))
		async_detach(chain);
}

/*
 * The task of a running threadlet exits or execs. If the caller's context
 * went on elsewhere it is told, with -ESRCH; otherwise it is this task's
 * own context and ends with it.
 */
void async_thread_exit(void)
{
	struct async_chain *chain = current->async_chain;
	struct async_ctx *ctx;

	if (!chain || !chain->thread)
		return;
	ctx = chain->ctx;
	async_thread_end(chain);
	if (test_bit(ASYNC_CHAIN_WENT_ASYNC, &chain->flags)) {
		async_detach(chain);
		async_thread_post(chain, -ESRCH);
	} else {
		async_ring_unreserve(ctx, chain->ring);
	}
	async_thread_free(chain);
}
