// SPDX-License-Identifier: GPL-2.0
/*
 * Asynchronous system call chains: completion rings, waiting and
 * cancellation.
 *
 * A ring lives in user memory; its kernel side (struct async_ring_ctx)
 * is created the first time a process names the ring and stays until
 * exec or exit. The kernel keeps its own copy of the tail and counts the
 * slots reserved by chains in flight, so a completion always has a slot.
 */
#include <linux/async_syscalls.h>
#include <linux/eventfd.h>
#include <linux/log2.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "internal.h"

struct async_ctx *async_get_ctx(void)
{
	struct signal_struct *sig = current->signal;
	struct async_ctx *ctx = READ_ONCE(sig->async_ctx);

	if (ctx)
		return ctx;
	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return NULL;
	spin_lock_init(&ctx->lock);
	INIT_LIST_HEAD(&ctx->rings);
	async_pool_init(ctx);
	if (cmpxchg(&sig->async_ctx, NULL, ctx)) {
		kfree(ctx);
		ctx = READ_ONCE(sig->async_ctx);
	}
	return ctx;
}

/* Called once the thread group is gone, or after exec killed it. */
void async_ctx_free(struct signal_struct *sig)
{
	struct async_ctx *ctx = sig->async_ctx;
	struct async_ring_ctx *ring, *tmp;

	if (!ctx)
		return;
	/* /proc readers may still look (after exec): see async_proc_status(). */
	WRITE_ONCE(sig->async_ctx, NULL);
	list_for_each_entry_safe(ring, tmp, &ctx->rings, node) {
		WARN_ON_ONCE(!list_empty(&ring->chains));
		kfree(ring);
	}
	kfree_rcu(ctx, rcu);
}

static struct async_ring_ctx *__async_ring_find(struct async_ctx *ctx, u64 uaddr)
{
	struct async_ring_ctx *ring;

	list_for_each_entry(ring, &ctx->rings, node) {
		if (ring->uaddr == uaddr)
			return ring;
	}
	return NULL;
}

/*
 * Find the kernel side of the ring at @uaddr, creating it on first use.
 * The header is read once here; entries must not change afterwards.
 */
struct async_ring_ctx *async_ring_lookup(struct async_ctx *ctx, u64 uaddr)
{
	struct async_ring __user *uring = u64_to_user_ptr(uaddr);
	struct async_ring_ctx *ring, *found;
	struct async_ring hdr;

	if (!uaddr || !IS_ALIGNED(uaddr, sizeof(u64)))
		return ERR_PTR(-EINVAL);
	if (copy_from_user(&hdr, uring, sizeof(hdr)))
		return ERR_PTR(-EFAULT);
	if (hdr.reserved || !is_power_of_2(hdr.entries) ||
	    hdr.entries > ASYNC_MAX_RING_ENTRIES)
		return ERR_PTR(-EINVAL);
	if (!access_ok(uring, struct_size(uring, cqes, hdr.entries)))
		return ERR_PTR(-EFAULT);

	spin_lock(&ctx->lock);
	found = __async_ring_find(ctx, uaddr);
	spin_unlock(&ctx->lock);
	if (found)
		return found->entries == hdr.entries ? found : ERR_PTR(-EINVAL);

	ring = kzalloc(sizeof(*ring), GFP_KERNEL_ACCOUNT);
	if (!ring)
		return ERR_PTR(-ENOMEM);
	ring->uaddr = uaddr;
	ring->entries = hdr.entries;
	ring->tail = hdr.tail;
	INIT_LIST_HEAD(&ring->chains);
	mutex_init(&ring->post_lock);
	init_waitqueue_head(&ring->wait);

	spin_lock(&ctx->lock);
	found = __async_ring_find(ctx, uaddr);
	if (!found && ctx->nr_rings >= ASYNC_MAX_RINGS)
		found = ERR_PTR(-ENOSPC);
	if (!found) {
		list_add(&ring->node, &ctx->rings);
		ctx->nr_rings++;
	}
	spin_unlock(&ctx->lock);
	if (found) {
		kfree(ring);
		if (!IS_ERR(found) && found->entries != hdr.entries)
			return ERR_PTR(-EINVAL);
		return found;
	}
	return ring;
}

static int async_ring_read_head(struct async_ring_ctx *ring, u32 *head)
{
	struct async_ring __user *uring = u64_to_user_ptr(ring->uaddr);

	if (get_user(*head, &uring->head))
		return -EFAULT;
	return 0;
}

/*
 * Is @head, read from user space, ahead of ring->tail or more than the
 * ring size behind it?
 * A post publishes the user's tail before the kernel's (both under
 * post_lock), so a consumer can have moved its head past ring->tail by
 * the completion being posted: let that post finish before deciding.
 */
static bool async_ring_head_invalid(struct async_ring_ctx *ring, u32 head)
{
	if ((u32)(READ_ONCE(ring->tail) - head) <= ring->entries)
		return false;
	mutex_lock(&ring->post_lock);
	mutex_unlock(&ring->post_lock);
	return (u32)(READ_ONCE(ring->tail) - head) > ring->entries;
}

/*
 * Reserve the slot the chain's completion will use. Entries not yet
 * consumed plus slots already reserved must leave one free, else -EAGAIN.
 * The arithmetic is on free-running u32 indices and is correct across
 * the wrap at 2^32.
 */
static int async_ring_reserve(struct async_ctx *ctx,
			      struct async_ring_ctx *ring)
{
	u32 head, used;
	int ret = 0;

	if (async_ring_read_head(ring, &head))
		return -EFAULT;
	if (async_ring_head_invalid(ring, head))
		return -EINVAL;
	spin_lock(&ctx->lock);
	used = ring->tail - head;
	if (used + ring->reserved >= ring->entries)
		ret = -EAGAIN;
	else
		ring->reserved++;
	spin_unlock(&ctx->lock);
	return ret;
}

void async_ring_unreserve(struct async_ctx *ctx, struct async_ring_ctx *ring)
{
	spin_lock(&ctx->lock);
	ring->reserved--;
	spin_unlock(&ctx->lock);
}

/**
 * async_chain_attach - give a submission its ring and a slot in it
 * @chain: the chain or threadlet being submitted
 * @uring: the user address of the ring the submission names
 *
 * Return: 0 with chain->ctx and chain->ring set and a completion slot
 * reserved (released by async_ring_unreserve() if the submission is
 * then refused), or -errno with nothing reserved.
 */
int async_chain_attach(struct async_chain *chain, u64 uring)
{
	struct async_ring_ctx *ring;
	struct async_ctx *ctx;
	int ret;

	ctx = async_get_ctx();
	if (!ctx)
		return -ENOMEM;
	ring = async_ring_lookup(ctx, uring);
	if (IS_ERR(ring))
		return PTR_ERR(ring);
	ret = async_ring_reserve(ctx, ring);
	if (ret)
		return ret;
	chain->ctx = ctx;
	chain->ring = ring;
	return 0;
}

/*
 * An attached chain starts running in current: from now on async_cancel()
 * finds it, and if @may_hand_off a blocking atom hands the user context to
 * a pool thread, so make sure one is there.
 */
void async_chain_start(struct async_chain *chain, bool may_hand_off)
{
	chain->task = current;
	chain->state = ASYNC_CHAIN_RUNNING;
	chain->user_blocked = current->blocked;
	chain->may_hand_off = may_hand_off;
	if (may_hand_off)
		async_pool_fill(chain->ctx);
	spin_lock(&chain->ctx->lock);
	list_add_tail(&chain->node, &chain->ring->chains);
	spin_unlock(&chain->ctx->lock);
}

void async_chain_del(struct async_chain *chain)
{
	spin_lock(&chain->ctx->lock);
	list_del(&chain->node);
	spin_unlock(&chain->ctx->lock);
}

/*
 * Write the completion of a chain that went async into its reserved
 * slot, then publish it by advancing the tail. If the ring is no longer
 * mapped, nothing is written anywhere and the completion is counted as
 * lost.
 */
void async_post_completion(struct async_chain *chain)
{
	struct async_ring_ctx *ring = chain->ring;
	struct async_ring __user *uring = u64_to_user_ptr(ring->uaddr);
	struct async_completion cqe = {
		.cookie = chain->cookie,
		.status = chain->status,
		.index = chain->last,
	};
	bool posted = false;
	u32 tail;

	if (test_bit(ASYNC_CHAIN_CANCELED, &chain->flags))
		cqe.flags |= ASYNC_COMPLETION_CANCELED;
	if (test_bit(ASYNC_CHAIN_RESULT_FAULT, &chain->flags))
		cqe.flags |= ASYNC_COMPLETION_RESULT_FAULT;
	if (chain->thread)
		cqe.flags |= ASYNC_COMPLETION_THREADLET;

	mutex_lock(&ring->post_lock);
	tail = READ_ONCE(ring->tail);
	if (!copy_to_user(&uring->cqes[tail & (ring->entries - 1)], &cqe,
			  sizeof(cqe))) {
		/* The entry must be visible before the new tail. */
		smp_wmb();
		posted = !put_user(tail + 1, &uring->tail);
	}
	spin_lock(&chain->ctx->lock);
	if (posted) {
		WRITE_ONCE(ring->tail, tail + 1);
	} else {
		ring->lost++;
		chain->ctx->nr_lost++;
	}
	ring->reserved--;
	spin_unlock(&chain->ctx->lock);
	mutex_unlock(&ring->post_lock);

	wake_up_all(&ring->wait);
	if (posted && chain->eventfd)
		eventfd_signal(chain->eventfd);
}

static bool async_ring_ready(struct async_ring_ctx *ring, u32 head, u32 min)
{
	return (u32)(READ_ONCE(ring->tail) - head) >= min;
}

/*
 * Wait until at least @min_complete completions are ready, counting from
 * the head user space had published when the call started.
 */
long async_ring_wait(struct async_ring_ctx *ring, u32 min_complete,
		     const struct timespec64 *timeout)
{
	u32 head;
	long ret;

	if (min_complete > ring->entries)
		return -EINVAL;
	if (async_ring_read_head(ring, &head))
		return -EFAULT;
	if (async_ring_head_invalid(ring, head))
		return -EINVAL;

	if (!timeout) {
		ret = wait_event_interruptible(ring->wait,
					       async_ring_ready(ring, head, min_complete));
	} else {
		ktime_t t = timespec64_to_ktime(*timeout);

		ret = wait_event_interruptible_hrtimeout(ring->wait,
							 async_ring_ready(ring, head, min_complete),
							 t);
		if (ret == -ERESTARTSYS)
			ret = -EINTR;
	}
	if (ret)
		return ret;
	return (u32)(READ_ONCE(ring->tail) - head);
}

/*
 * Interrupt the pending chain with @cookie the way a signal would: the
 * atom that sleeps wakes up with -EINTR and the chain ends with
 * -ECANCELED.
 */
int async_chain_cancel(struct async_ctx *ctx, u64 uaddr, u64 cookie)
{
	struct async_ring_ctx *ring;
	struct async_chain *chain;
	int ret = -ENOENT;

	spin_lock(&ctx->lock);
	ring = __async_ring_find(ctx, uaddr);
	if (!ring)
		goto out;
	list_for_each_entry(chain, &ring->chains, node) {
		if (chain->cookie != cookie)
			continue;
		if (chain->state == ASYNC_CHAIN_COMPLETING ||
		    test_bit(ASYNC_CHAIN_CANCELED, &chain->flags)) {
			ret = -EALREADY;
			continue;
		}
		set_bit(ASYNC_CHAIN_CANCELED, &chain->flags);
		set_notify_signal(chain->task);
		ret = 0;
		break;
	}
out:
	spin_unlock(&ctx->lock);
	return ret;
}

/*
 * The Async* lines of /proc/PID/status. The task pins its signal_struct;
 * the context in it is freed an RCU grace period after it was unhooked
 * (exec frees it while readers may look).
 */
void async_proc_status(struct seq_file *m, struct task_struct *task)
{
	unsigned long handoffs = 0, lost = 0;
	unsigned int threads = 0, idle = 0;
	struct async_ctx *ctx;

	rcu_read_lock();
	ctx = READ_ONCE(task->signal->async_ctx);
	if (ctx) {
		threads = READ_ONCE(ctx->nr_threads);
		idle = READ_ONCE(ctx->nr_idle);
		handoffs = READ_ONCE(ctx->nr_handoffs);
		lost = READ_ONCE(ctx->nr_lost);
	}
	rcu_read_unlock();
	seq_put_decimal_ull(m, "AsyncPoolThreads:\t", threads);
	seq_put_decimal_ull(m, "\nAsyncPoolIdle:\t", idle);
	seq_put_decimal_ull(m, "\nAsyncHandoffs:\t", handoffs);
	seq_put_decimal_ull(m, "\nAsyncLostCompletions:\t", lost);
	seq_putc(m, '\n');
}
