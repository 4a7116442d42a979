/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KERNEL_ASYNC_INTERNAL_H
#define _KERNEL_ASYNC_INTERNAL_H

#include <linux/list.h>
#include <linux/signal_types.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/ptrace.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <uapi/linux/async.h>

/* Rings one process may use at the same time. */
#define ASYNC_MAX_RINGS		64
/* Pool threads of one process (idle or finishing chains), besides RLIMIT_NPROC. */
#define ASYNC_POOL_MAX		4096
/* An idle pool thread retires after this long without work. */
#define ASYNC_POOL_IDLE_TIMEOUT	(5 * HZ)

/*
 * Kernel side of a completion ring. The user-visible tail is only ever
 * written from @tail, which the kernel owns: user space can corrupt its
 * own copy but not the accounting.
 */
struct async_ring_ctx {
	struct list_head	node;		/* on async_ctx.rings */
	u64			uaddr;
	u32			entries;
	u32			tail;		/* next entry the kernel fills */
	u32			reserved;	/* slots held by chains in flight */
	u64			lost;		/* completions that could not be written */
	struct list_head	chains;		/* chains in flight */
	struct mutex		post_lock;	/* serialises writers of the ring */
	wait_queue_head_t	wait;
};

/* Per thread group state, hung off signal_struct. */
struct async_ctx {
	spinlock_t		lock;		/* rings, chains, ring accounting */
	struct list_head	rings;
	unsigned int		nr_rings;
	raw_spinlock_t		pool_lock;	/* taken in the scheduler hook */
	struct list_head	idle;		/* idle pool threads */
	unsigned int		nr_idle;
	unsigned int		nr_threads;	/* idle or finishing a chain */
	unsigned long		nr_handoffs;	/* user contexts handed to the pool */
	unsigned long		nr_lost;	/* completions that could not be written */
	struct rcu_head		rcu;		/* freed after /proc readers */
};

/* async_chain.state */
enum async_chain_state {
	ASYNC_CHAIN_RUNNING,		/* atoms are running */
	ASYNC_CHAIN_COMPLETING,		/* last atom done, being posted */
};

/* async_chain.flags bits */
enum {
	ASYNC_CHAIN_CANCELED,		/* async_cancel() asked to stop */
	ASYNC_CHAIN_WENT_ASYNC,		/* user context was handed off */
	ASYNC_CHAIN_RESULT_FAULT,	/* a result address could not be written */
	ASYNC_CHAIN_DETACHED,		/* the runner dropped the user state */
};

/* async_chain.handoff */
enum async_handoff {
	ASYNC_HANDOFF_NONE,
	ASYNC_HANDOFF_PENDING,		/* a pool thread was woken to take over */
	ASYNC_HANDOFF_DONE,		/* it carries the user context now */
	ASYNC_HANDOFF_FAILED,		/* it died first (the group is exiting) */
};

/* What a threadlet has besides its chain (which has no atoms), see thread.c */
struct async_thread {
	struct async_user_state	*saved;		/* the caller's user context */
	struct async_thread_args __user *uargs;
	u64			result;		/* where fn's value goes, or 0 */
};

struct async_chain {
	struct async_ctx	*ctx;
	struct async_ring_ctx	*ring;
	struct list_head	node;		/* on async_ring_ctx.chains */
	struct task_struct	*task;		/* task running the atoms */
	struct eventfd_ctx	*eventfd;
	u64			cookie;
	enum async_chain_state	state;
	unsigned long		flags;
	enum async_handoff	handoff;
	bool			may_hand_off;
	bool			compat;		/* submitted by a compat task */
	struct async_thread	*thread;	/* a threadlet, not atoms */
	sigset_t		user_blocked;	/* caller's mask at submission */
	unsigned int		nr_atoms;
	unsigned int		last;		/* index of the last atom run */
	s64			status;		/* its return value */
	/* Not cleared at submission: each is written before it is read. */
	s64			results[ASYNC_MAX_ATOMS];
	struct pt_regs		atom_regs;	/* arch_async_syscall()'s scratch */
	struct async_atom	atoms[] __counted_by(nr_atoms);
};

/* compat.c */
int async_args_from_compat(struct async_args *args);
int async_atoms_from_compat(struct async_atom *atoms, unsigned int nr_atoms);
int async_thread_args_from_compat(struct async_thread_args *args);

/* core.c */
struct async_chain *async_chain_alloc(unsigned int nr_atoms);
int async_validate_chain(struct async_chain *chain, bool compat);
void async_run_chain(struct async_chain *chain);

/* pool.c */
void async_pool_init(struct async_ctx *ctx);
void async_pool_fill(struct async_ctx *ctx);
void async_detach(struct async_chain *chain);
long async_pool_park(struct async_ctx *ctx);

/* ring.c */
struct async_ctx *async_get_ctx(void);
struct async_ring_ctx *async_ring_lookup(struct async_ctx *ctx, u64 uaddr);
void async_ring_unreserve(struct async_ctx *ctx, struct async_ring_ctx *ring);
int async_chain_attach(struct async_chain *chain, u64 uring);
void async_chain_start(struct async_chain *chain, bool may_hand_off);
void async_chain_del(struct async_chain *chain);
void async_post_completion(struct async_chain *chain);
long async_ring_wait(struct async_ring_ctx *ring, u32 min_complete,
		     const struct timespec64 *timeout);
int async_chain_cancel(struct async_ctx *ctx, u64 uaddr, u64 cookie);

/* syscalls.c */
long do_async_cancel(struct async_ring __user *uring, u64 cookie,
		     unsigned int flags);

#endif /* _KERNEL_ASYNC_INTERNAL_H */
