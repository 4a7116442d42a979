// SPDX-License-Identifier: GPL-2.0
/*
 * Asynchronous system call chains: what a compat task hands in.
 *
 * The user structures hold fixed-size fields only, so a compat task's
 * copy has the native layout and is copied in the same way. What differs
 * is what the fields may hold. An address must fit in 32 bits and goes
 * through compat_ptr(), which s390 needs for 31-bit ones. An atom's
 * argument must be a 32-bit value, zero- or sign-extended: C code on a
 * 32-bit machine that stores -1 or AT_FDCWD into a __u64 sign-extends
 * it. Anything else above bit 31 is -EINVAL, never truncated. Once these
 * functions have converted a submission, it takes the native paths; only
 * the dispatch of its atoms still tells compat apart.
 */
#include <linux/async_syscalls.h>
#include <linux/compat.h>
#include <linux/syscalls.h>

#include "internal.h"

static int async_compat_addr(u64 *addr)
{
	if (upper_32_bits(*addr))
		return -EINVAL;
	*addr = (u64)(unsigned long)compat_ptr(lower_32_bits(*addr));
	return 0;
}

static bool async_compat_value_ok(u64 v)
{
	return !upper_32_bits(v) || v == (u64)(s64)(s32)v;
}

/* The addresses in a compat task's struct async_args. */
int async_args_from_compat(struct async_args *args)
{
	if (async_compat_addr(&args->atoms) || async_compat_addr(&args->ring))
		return -EINVAL;
	return 0;
}

/*
 * The arguments and result addresses of a compat chain's atoms. An
 * argument that names an earlier atom is an index, checked with the
 * chain.
 */
int async_atoms_from_compat(struct async_atom *atoms, unsigned int nr_atoms)
{
	struct async_atom *atom;
	unsigned int i;

	for (atom = atoms; atom < atoms + nr_atoms; atom++) {
		for (i = 0; i < ARRAY_SIZE(atom->args); i++) {
			if (!(atom->ref_mask & ASYNC_ARG_REF(i)) &&
			    !async_compat_value_ok(atom->args[i]))
				return -EINVAL;
		}
		if (async_compat_addr(&atom->result))
			return -EINVAL;
	}
	return 0;
}

/*
 * The addresses, the size and the argument (a pointer-sized value) in a
 * compat task's struct async_thread_args.
 */
int async_thread_args_from_compat(struct async_thread_args *args)
{
	if (!async_compat_value_ok(args->arg) || upper_32_bits(args->stack_size))
		return -EINVAL;
	if (async_compat_addr(&args->fn) || async_compat_addr(&args->stack) ||
	    async_compat_addr(&args->restorer) ||
	    async_compat_addr(&args->ring) || async_compat_addr(&args->result))
		return -EINVAL;
	return 0;
}

/*
 * A compat task passes the 64-bit cookie in two registers, in the order
 * compat_arg_u64_dual() gives, as for fallocate().
 */
COMPAT_SYSCALL_DEFINE4(async_cancel, struct async_ring __user *, uring,
		       compat_arg_u64_dual(cookie), unsigned int, flags)
{
	return do_async_cancel(uring, compat_arg_u64_glue(cookie), flags);
}
