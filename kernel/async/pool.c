// SPDX-License-Identifier: GPL-2.0
/*
 * Asynchronous system call chains: the cachemiss handoff.
 *
 * A chain runs in the task that submitted it. While an atom runs, the
 * task carries PF_ASYNC_ATOM. If it is about to sleep, sched_submit_work()
 * calls async_sched_sleeping(), which must neither block nor allocate: it
 * takes an idle thread from the process's pool and wakes it. That thread
 * takes over the submitter's user context (registers, FPU state, TLS,
 * signal mask, thread id and the other per-thread user state) and
 * returns to user space with 0 from async_exec(): "went async". The
 * submitter finishes the chain in the kernel, posts the completion and
 * parks itself in the pool, ready to carry the next user context.
 *
 * Pool threads are made ahead of time, at submission, never from the
 * scheduler hook; they are bounded by RLIMIT_NPROC (they are charged to
 * the submitter like any thread) and by ASYNC_POOL_MAX, and retire after
 * ASYNC_POOL_IDLE_TIMEOUT without work.
 */
#include <linux/async_syscalls.h>
#include <linux/pid.h>
#include <linux/rseq.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/signal.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>

#include "internal.h"

struct async_worker {
	struct list_head	node;		/* on async_ctx.idle while idle */
	struct async_ctx	*ctx;
	struct task_struct	*task;
	struct async_chain	*chain;		/* set when picked for a handoff */
};

void async_pool_init(struct async_ctx *ctx)
{
	raw_spin_lock_init(&ctx->pool_lock);
	INIT_LIST_HEAD(&ctx->idle);
}

/*
 * A pool thread may carry a user context only if it would not change
 * what that context is allowed to do: same credentials, same seccomp
 * filter, same no_new_privs.
 */
static bool async_worker_fits(struct task_struct *worker, struct task_struct *tsk)
{
	if (rcu_access_pointer(worker->cred) != rcu_access_pointer(tsk->cred))
		return false;
	if (task_no_new_privs(worker) != task_no_new_privs(tsk))
		return false;
#ifdef CONFIG_SECCOMP
	if (READ_ONCE(worker->seccomp.mode) != READ_ONCE(tsk->seccomp.mode) ||
	    READ_ONCE(worker->seccomp.filter) != READ_ONCE(tsk->seccomp.filter))
		return false;
#endif
	return true;
}

static bool async_pool_has_idle(struct async_ctx *ctx)
{
	struct async_worker *w;
	bool found = false;

	raw_spin_lock(&ctx->pool_lock);
	list_for_each_entry(w, &ctx->idle, node) {
		if (async_worker_fits(w->task, current)) {
			found = true;
			break;
		}
	}
	raw_spin_unlock(&ctx->pool_lock);
	return found;
}

/*
 * Called from sched_submit_work() for a task that runs an atom and is
 * about to sleep. Runs under LD_WAIT_CONFIG: no sleeping, no allocation.
 */
void async_sched_sleeping(struct task_struct *tsk)
{
	struct async_chain *chain = tsk->async_chain;
	struct async_ctx *ctx = chain->ctx;
	struct async_worker *w, *found = NULL;
	struct task_struct *carrier;

	/* Stopped and traced tasks are not blocked on a resource. */
	if (!(READ_ONCE(tsk->__state) & (TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE)))
		return;
	/*
	 * A tracer is attached to this task_struct, not to the thread id:
	 * a traced task keeps its user context and runs the chain through.
	 */
	if (tsk->ptrace)
		return;
	/* PI futex state names this task_struct as owner: stay put. */
	if (!list_empty(&tsk->pi_state_list))
		return;
	if (!arch_async_can_hand_off(tsk))
		return;

	raw_spin_lock(&ctx->pool_lock);
	list_for_each_entry(w, &ctx->idle, node) {
		if (async_worker_fits(w->task, tsk)) {
			found = w;
			list_del_init(&w->node);
			ctx->nr_idle--;
			ctx->nr_handoffs++;
			break;
		}
	}
	raw_spin_unlock(&ctx->pool_lock);
	if (!found)
		return;

	/* One handoff per chain. */
	tsk->flags &= ~PF_ASYNC_ATOM;
	/* A threadlet drops the context's state on its way back to user. */
	if (chain->thread)
		set_tsk_thread_flag(tsk, TIF_NOTIFY_RESUME);
	arch_async_handoff_prepare();
	chain->handoff = ASYNC_HANDOFF_PENDING;
	set_bit(ASYNC_CHAIN_WENT_ASYNC, &chain->flags);
	/* Dropped by the carrier once it is done with us. */
	get_task_struct(tsk);
	/* Once the chain is published the worker may run, and even exit. */
	carrier = get_task_struct(found->task);
	/* Pairs with async_pool_idle(): the state above is ready for it. */
	smp_store_release(&found->chain, chain);
	wake_up_process(carrier);
	put_task_struct(carrier);
}

static void async_handoff_finish(struct async_chain *chain, enum async_handoff state)
{
	struct task_struct *from = chain->task;

	/* Pairs with async_detach(): the user state is ours from here. */
	smp_store_release(&chain->handoff, state);
	wake_up_var(&chain->handoff);
	put_task_struct(from);
}

/* Our own sighand: it only changes when we exec. */
static struct sighand_struct *async_own_sighand(void)
{
	return rcu_dereference_protected(current->sighand, 1);
}

/*
 * Become the user context of chain->task. Runs in the pool thread, with
 * the submitter either asleep in its atom or running the rest of the
 * chain; neither touches the state copied here until async_detach() has
 * seen ASYNC_HANDOFF_DONE.
 */
static bool async_take_user_context(struct async_chain *chain)
{
	struct task_struct *from = chain->task;
	struct task_struct *me = current;
	sigset_t kill_only;

	if (!try_get_task_stack(from)) {
		async_handoff_finish(chain, ASYNC_HANDOFF_FAILED);
		return false;
	}
	arch_async_take_user_context(from, chain->thread ?
				     chain->thread->saved : NULL);
	put_task_stack(from);

	me->sas_ss_sp = from->sas_ss_sp;
	me->sas_ss_size = from->sas_ss_size;
	me->sas_ss_flags = from->sas_ss_flags;
	me->set_child_tid = from->set_child_tid;
	me->clear_child_tid = from->clear_child_tid;
#ifdef CONFIG_FUTEX
	me->robust_list = from->robust_list;
#ifdef CONFIG_COMPAT
	me->compat_robust_list = from->compat_robust_list;
#endif
#endif
#ifdef CONFIG_RSEQ
	me->rseq = from->rseq;
	me->rseq_len = from->rseq_len;
	me->rseq_sig = from->rseq_sig;
	rseq_set_notify_resume(me);
#endif
	me->personality = from->personality;
	me->timer_slack_ns = from->timer_slack_ns;
	set_user_nice(me, task_nice(from));
	set_task_comm(me, from->comm);

	/*
	 * Swap thread ids, and with them whatever is addressed to the id:
	 * signals already pending on the submitter move along, and from now
	 * on only we take the user context's signals.
	 */
	siginitsetinv(&kill_only, sigmask(SIGKILL) | sigmask(SIGSTOP));
	write_lock_irq(&tasklist_lock);
	spin_lock(&async_own_sighand()->siglock);
	exchange_tids(me, from);
	me->blocked = chain->user_blocked;
	list_splice_tail_init(&from->pending.list, &me->pending.list);
	sigorsets(&me->pending.signal, &me->pending.signal, &from->pending.signal);
	sigemptyset(&from->pending.signal);
	from->blocked = kill_only;
	me->flags &= ~PF_USER_WORKER;
	recalc_sigpending();
	spin_unlock(&async_own_sighand()->siglock);
	write_unlock_irq(&tasklist_lock);

	async_handoff_finish(chain, ASYNC_HANDOFF_DONE);
	return true;
}

/* Leave the idle list unless a handoff picked us; true if we left. */
static bool async_pool_leave(struct async_worker *w)
{
	struct async_ctx *ctx = w->ctx;
	bool left = false;

	raw_spin_lock(&ctx->pool_lock);
	if (!list_empty(&w->node)) {
		list_del_init(&w->node);
		ctx->nr_idle--;
		ctx->nr_threads--;
		left = true;
	}
	raw_spin_unlock(&ctx->pool_lock);
	return left;
}

/*
 * Wait idle in the pool. Returns true once this task carries a user
 * context (it must then return to user space), false if it must exit.
 * Frees @w either way.
 */
static bool async_pool_idle(struct async_worker *w)
{
	long timeout = ASYNC_POOL_IDLE_TIMEOUT;
	struct async_chain *chain;
	bool took = false;

	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		/* Pairs with async_sched_sleeping() publishing the chain. */
		chain = smp_load_acquire(&w->chain);
		if (chain)
			break;
		if (signal_pending(current)) {
			__set_current_state(TASK_RUNNING);
			if (!fatal_signal_pending(current)) {
				struct ksignal ksig;

				/* Group stop; all else is blocked. */
				get_signal(&ksig);
			}
			if (fatal_signal_pending(current) && async_pool_leave(w))
				break;
			continue;
		}
		if (!timeout) {
			__set_current_state(TASK_RUNNING);
			if (async_pool_leave(w))
				break;
			/* Picked just now: the chain is being published. */
			timeout = MAX_SCHEDULE_TIMEOUT;
			continue;
		}
		timeout = schedule_timeout(timeout);
	}
	__set_current_state(TASK_RUNNING);

	if (chain) {
		if (fatal_signal_pending(current))
			async_handoff_finish(chain, ASYNC_HANDOFF_FAILED);
		else
			took = async_take_user_context(chain);
	}
	kfree(w);
	return took;
}

static int async_pool_thread(void *arg)
{
	if (!async_pool_idle(arg))
		do_exit(0);
	/* Back to user space through ret_from_fork, which returns 0. */
	return 0;
}

/*
 * Make sure an idle pool thread that fits the caller exists before the
 * chain runs. Failing is not an error: the chain then cannot go async.
 */
void async_pool_fill(struct async_ctx *ctx)
{
	unsigned long flags = CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
			      CLONE_THREAD | CLONE_SYSVSEM | CLONE_IO;
	struct kernel_clone_args args = {
		.flags		= (flags | CLONE_VM | CLONE_UNTRACED) & ~CSIGNAL,
		.fn		= async_pool_thread,
		.name		= "async-pool",
		.user_worker	= 1,
	};
	struct task_struct *tsk;
	struct async_worker *w;

	if (async_pool_has_idle(ctx))
		return;
	if (READ_ONCE(ctx->nr_threads) >= ASYNC_POOL_MAX)
		return;
	w = kzalloc(sizeof(*w), GFP_KERNEL_ACCOUNT);
	if (!w)
		return;
	w->ctx = ctx;
	INIT_LIST_HEAD(&w->node);
	args.fn_arg = w;
	tsk = copy_process(NULL, 0, NUMA_NO_NODE, &args);
	if (IS_ERR(tsk)) {
		kfree(w);
		return;
	}
	w->task = tsk;
	raw_spin_lock(&ctx->pool_lock);
	list_add(&w->node, &ctx->idle);
	ctx->nr_idle++;
	ctx->nr_threads++;
	raw_spin_unlock(&ctx->pool_lock);
	wake_up_new_task(tsk);
}

static bool async_handoff_settled(struct async_chain *chain)
{
	/* Pairs with async_handoff_finish(). */
	return smp_load_acquire(&chain->handoff) != ASYNC_HANDOFF_PENDING;
}

/*
 * The submitter after a handoff: wait until the new carrier holds the
 * user context, then drop every piece of user state so that nothing of it
 * is acted on twice (robust futexes, clear_child_tid, rseq, signals).
 */
void async_detach(struct async_chain *chain)
{
	struct task_struct *me = current;

	if (test_and_set_bit(ASYNC_CHAIN_DETACHED, &chain->flags))
		return;
	/*
	 * Not killable: the carrier was woken and settles promptly, and until
	 * it has, it may still use the chain.
	 */
	wait_var_event(&chain->handoff, async_handoff_settled(chain));
	me->robust_list = NULL;
#ifdef CONFIG_COMPAT
	me->compat_robust_list = NULL;
#endif
	me->set_child_tid = NULL;
	me->clear_child_tid = NULL;
#ifdef CONFIG_RSEQ
	me->rseq = NULL;
	me->rseq_len = 0;
	me->rseq_sig = 0;
#endif
	me->sas_ss_sp = 0;
	me->sas_ss_size = 0;
	me->sas_ss_flags = SS_DISABLE;
	spin_lock_irq(&async_own_sighand()->siglock);
	recalc_sigpending();
	spin_unlock_irq(&async_own_sighand()->siglock);
}

/*
 * The submitter's chain is done and posted: join the pool and wait to
 * carry somebody else's user context. Returns what async_exec() returns
 * to that context; does not return when the thread retires.
 */
long async_pool_park(struct async_ctx *ctx)
{
	struct async_worker *w = kzalloc(sizeof(*w), GFP_KERNEL);

	if (!w)
		goto retire;
	w->ctx = ctx;
	w->task = current;
	INIT_LIST_HEAD(&w->node);
	current->flags |= PF_USER_WORKER;
	set_task_comm(current, "async-pool");
	raw_spin_lock(&ctx->pool_lock);
	list_add(&w->node, &ctx->idle);
	ctx->nr_idle++;
	raw_spin_unlock(&ctx->pool_lock);
	if (async_pool_idle(w))
		return ASYNC_EXEC_WENT_ASYNC;
	do_exit(0);
retire:
	raw_spin_lock(&ctx->pool_lock);
	ctx->nr_threads--;
	raw_spin_unlock(&ctx->pool_lock);
	do_exit(0);
}
