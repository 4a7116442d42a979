/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Asynchronous system call chains ("syslets").
 *
 * See Documentation/userspace-api/async.rst for the full description.
 * Every structure here is made of fixed-size fields only, so that the
 * layout is the same for 32-bit and 64-bit user space.
 */
#ifndef _UAPI_LINUX_ASYNC_H
#define _UAPI_LINUX_ASYNC_H

#include <linux/types.h>

/* Longest chain accepted by async_exec(). */
#define ASYNC_MAX_ATOMS		64

/* Largest completion ring, in entries. */
#define ASYNC_MAX_RING_ENTRIES	(1U << 16)

/*
 * Stop conditions, tested against an atom's return value after it ran.
 * When the condition holds, the chain stops after that atom.
 */
enum async_stop {
	ASYNC_STOP_NONE = 0,		/* never stop: run the next atom */
	ASYNC_STOP_ZERO,		/* stop if the result is 0 */
	ASYNC_STOP_NONZERO,		/* stop if the result is not 0 */
	ASYNC_STOP_NEGATIVE,		/* stop if the result is < 0 */
	ASYNC_STOP_NONPOSITIVE,		/* stop if the result is <= 0 */
	ASYNC_STOP_ERROR,		/* stop if the result is -4095..-1 */
	ASYNC_STOP_NR,			/* first invalid value */
};

/* ref_mask bits: argument i holds the index of an earlier atom. */
#define ASYNC_ARG_REF(i)	(1U << (i))
#define ASYNC_ARG_REF_MASK	0x3fU

/*
 * One system call of a chain.
 * @nr:       system call number of the caller's ABI (16 bits)
 * @reserved: must be 0
 * @stop:     an enum async_stop value
 * @ref_mask: bit i set: @args[i] is the index of an earlier atom of the
 *            same chain whose return value is passed as argument i.
 *            Bits 6-15 must be 0.
 * @args:     the six arguments
 * @result:   user address of a __s64 that receives the return value,
 *            or 0 for none
 */
struct async_atom {
	__u16	nr;
	__u16	reserved;
	__u16	stop;
	__u16	ref_mask;
	__u64	args[6];
	__u64	result;
};

/* One completion, posted to the ring when a chain that went async ends. */
struct async_completion {
	__u64	cookie;		/* the cookie given to async_exec() */
	__s64	status;		/* return value of the last atom run */
	__u32	index;		/* index of the last atom run */
	__u32	flags;		/* ASYNC_COMPLETION_* */
};

/* The chain was stopped by async_cancel(); status is -ECANCELED. */
#define ASYNC_COMPLETION_CANCELED	(1U << 0)
/* The result address of the last atom run could not be written. */
#define ASYNC_COMPLETION_RESULT_FAULT	(1U << 1)
/* A threadlet ended: status is its return value, its stack is free again. */
#define ASYNC_COMPLETION_THREADLET	(1U << 2)

/*
 * Completion ring, in user memory. @entries is set by user space before
 * the first use and never changes afterwards. @head is written by user
 * space only, @tail by the kernel only; both run freely and wrap at
 * 2^32. The number of completions ready is (__u32)(tail - head).
 */
struct async_ring {
	__u32	head;
	__u32	tail;
	__u32	entries;	/* power of two, 1..ASYNC_MAX_RING_ENTRIES */
	__u32	reserved;	/* must be 0 */
	struct async_completion	cqes[];
};

/* async_exec() flags */
#define ASYNC_EXEC_SYNC		(1ULL << 0)	/* never hand off: run to the end */
#define ASYNC_EXEC_FLAGS	ASYNC_EXEC_SYNC

/*
 * Argument of async_exec(), extensible like clone_args: the size is
 * passed along, fields added later must be zero for old behaviour.
 * @atoms:     user address of an array of struct async_atom
 * @nr_atoms:  1..ASYNC_MAX_ATOMS
 * @flags:     ASYNC_EXEC_*
 * @ring:      user address of a struct async_ring
 * @cookie:    copied into the completion
 * @eventfd:   eventfd signalled for each completion, or (__u32)-1
 * @reserved:  must be 0
 * @status:    out: return value of the last atom run (when completed)
 * @index:     out: index of the last atom run (when completed)
 * @out_flags: out: ASYNC_COMPLETION_* flags (when completed)
 */
struct async_args {
	__u64	atoms;
	__u32	nr_atoms;
	__u32	eventfd;
	__u64	flags;
	__u64	ring;
	__u64	cookie;
	__u64	reserved;
	__s64	status;
	__u32	index;
	__u32	out_flags;
};

#define ASYNC_ARGS_SIZE_VER0	64	/* sizeof first published struct */

#define ASYNC_NO_EVENTFD	0xffffffffU

/*
 * Argument of async_thread(): run fn(arg) on the given stack, as if the
 * caller had called it, going async only if it blocks. Extensible like
 * struct async_args.
 * @fn:         the function (where a function pointer points)
 * @arg:        its one argument
 * @stack:      lowest address of the stack it runs on
 * @stack_size: at least ASYNC_THREAD_MIN_STACK bytes
 * @restorer:   where @fn returns to; it must call
 *              async_thread_return() with @fn's return value, like
 *              sa_restorer calls rt_sigreturn()
 * @ring:       user address of a struct async_ring
 * @cookie:     copied into the completion
 * @result:     0, or a user address that receives @fn's return value
 * @flags:      must be 0
 * @eventfd:    eventfd signalled for the completion, or (__u32)-1
 * @status:     out: @fn's return value when it ran without blocking
 */
struct async_thread_args {
	__u64	fn;
	__u64	arg;
	__u64	stack;
	__u64	stack_size;
	__u64	restorer;
	__u64	ring;
	__u64	cookie;
	__u64	result;
	__u32	flags;
	__u32	eventfd;
	__s64	status;
};

#define ASYNC_THREAD_ARGS_SIZE_VER0	80	/* sizeof first published struct */
#define ASYNC_THREAD_MIN_STACK		16384

/* async_exec() and async_thread() return values besides -errno */
#define ASYNC_EXEC_WENT_ASYNC	0	/* a completion will be posted */
#define ASYNC_EXEC_DONE		1	/* ran to its end, see status/index */

#endif /* _UAPI_LINUX_ASYNC_H */
