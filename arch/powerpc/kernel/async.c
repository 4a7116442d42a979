// SPDX-License-Identifier: GPL-2.0
/*
 * powerpc part of asynchronous system call chains: running an atom through
 * the architecture's own dispatch, handing a user context to another task,
 * and entering a threadlet the way signal delivery enters a handler.
 *
 * A user context that moves to another task, or that comes back to its
 * own task at the end of a threadlet, returns to user space with every
 * register taken from pt_regs (TIF_RESTOREALL, as for sigreturn): the
 * non-volatile GPRs the CPU holds at the system call exit are those of
 * whichever task and function happened to enter the kernel, not the
 * context's.
 */
#include <linux/async_syscalls.h>
#include <linux/compat.h>
#include <linux/elf.h>
#include <linux/nospec.h>
#include <linux/ptrace.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/async.h>
#include <asm/async.h>
#include <asm/switch_to.h>
#include <asm/syscall.h>
#include <asm/syscalls.h>
#include <asm/unistd.h>

/* CR0[SO], a system call's error flag for the "sc" instruction. */
#define PPC_SYSCALL_ERROR	0x10000000UL

/* The native and compat tables have the same numbers and length. */
unsigned int arch_async_nr_syscalls(bool compat)
{
#ifdef CONFIG_COMPAT
	return NR_syscalls;
#else
	return compat ? 0 : NR_syscalls;
#endif
}

/* 64-bit and 32-bit (compat) callers alike. */
bool arch_async_refuse_caller(void)
{
	return false;
}

/*
 * A 32-bit task's numbers are the native ones, so the native list
 * applies, plus the calls that only 32-bit tasks have: the old signal
 * mask calls, sigreturn and the debug variant of swapcontext.
 */
bool arch_async_compat_nr_denied(unsigned int nr)
{
	switch (nr) {
	case __NR_sigreturn:
	case __NR_sigsuspend:
	case __NR_sigprocmask:
	case __NR_sys_debug_setcontext:
		return true;
	default:
		return !async_syscall_allowed(nr, false);
	}
}

/*
 * Make @regs return what a number without a system call returns. On
 * powerpc that is whatever r3 holds when the call is skipped: a direct
 * call skipped at its entry work returns r3, with sys_ni_syscall()'s
 * value put there.
 */
void arch_async_atom_nosys(struct pt_regs *regs)
{
#ifdef CONFIG_ARCH_HAS_SYSCALL_WRAPPER
	regs->gpr[3] = sys_ni_syscall(regs);
#else
	regs->gpr[3] = sys_ni_syscall();
#endif
	regs->ccr &= ~PPC_SYSCALL_ERROR;
}

/*
 * Show an atom in @regs the way a direct system call shows there at its
 * entry: number in r0, arguments in r3-r8, the first one also in
 * orig_gpr3, which is where syscall_get_arguments() reads it. r3 doubles
 * as the return value a tracer or seccomp may set to skip the call.
 */
void arch_async_atom_regs(struct pt_regs *regs, unsigned int nr, const u64 *args)
{
	unsigned int i;

	regs->gpr[0] = nr;
	for (i = 0; i < 6; i++)
		regs->gpr[3 + i] = args[i];
	regs->orig_gpr3 = args[0];
	regs->ccr &= ~PPC_SYSCALL_ERROR;
}

/*
 * Run atom @nr the way system_call_exception() runs a system call: with
 * the syscall wrapper, the entry point reads its arguments from the
 * registers of @scratch, which a chain passes for all its atoms; without
 * it, the arguments are passed directly, a 32-bit task's through the
 * compat table and cut to 32 bits.
 */
long arch_async_syscall(struct pt_regs *scratch, unsigned int nr,
			const u64 *args)
{
	syscall_fn f;

	/* Checked at submission; array_index_nospec() needs the bound. */
	if (WARN_ON_ONCE(nr >= NR_syscalls))
		return -EINVAL;
	nr = array_index_nospec(nr, NR_syscalls);
#ifdef CONFIG_ARCH_HAS_SYSCALL_WRAPPER
	arch_async_atom_regs(scratch, nr, args);
	f = sys_call_table[nr];
	return f(scratch);
#else
	if (is_compat_task()) {
		f = compat_sys_call_table[nr];
		return f(lower_32_bits(args[0]), lower_32_bits(args[1]),
			 lower_32_bits(args[2]), lower_32_bits(args[3]),
			 lower_32_bits(args[4]), lower_32_bits(args[5]));
	}
	f = sys_call_table[nr];
	return f(args[0], args[1], args[2], args[3], args[4], args[5]);
#endif
}

/*
 * The user context can move to another task unless it holds state that
 * is tied to this task: a transaction (active or suspended), whose
 * checkpointed state stays with the task, or event-based branches, whose
 * perf events are attached to it.
 */
bool arch_async_can_hand_off(struct task_struct *tsk)
{
	if (!tsk->thread.regs)
		return false;
	if (MSR_TM_ACTIVE(tsk->thread.regs->msr))
		return false;
	if (tsk->thread.used_ebb)
		return false;
	return true;
}

/*
 * In the scheduler hook, which must not sleep or allocate: leave the FP,
 * VMX and VSX state and the user SPRs in thread_struct, where the carrier
 * copies them from.
 */
void arch_async_handoff_prepare(void)
{
	ppc_async_freeze();
}

/* A threadlet's caller: its registers and FP/VMX/VSX state at the call. */
struct async_user_state {
	struct pt_regs		regs;
	struct ppc_async_math	math;
};

/*
 * Return to user space with the whole of @src as current's registers and
 * @ret as the system call's result, in the convention of the caller's sc
 * or scv (@src's trap) for an -errno. The FP, VEC and VSX
 * MSR bits are cleared because the CPU does not hold this context's
 * state: it is loaded from thread_struct on the way out or on first use.
 * The call is not restarted by a signal that comes on the way out.
 */
static void ppc_async_return_to(const struct pt_regs *src, long ret)
{
	struct pt_regs *regs = current_pt_regs();

	*regs = *src;
	regs->msr &= ~(MSR_FP | MSR_FE0 | MSR_FE1 | MSR_VEC | MSR_VSX);
	if (IS_ERR_VALUE(ret) && !trap_is_scv(regs)) {
		/* sc returns a positive errno, with CR0[SO] set */
		regs->gpr[3] = -ret;
		regs->ccr |= PPC_SYSCALL_ERROR;
	} else {
		regs->gpr[3] = ret;
		regs->ccr &= ~PPC_SYSCALL_ERROR;
	}
	set_trap_norestart(regs);
	set_return_regs_changed();
	set_thread_flag(TIF_RESTOREALL);
}

/*
 * In the carrier: registers, FP/VMX/VSX state and user SPRs; from @saved
 * for a threadlet's caller, whose task runs the threadlet with registers
 * of its own. The carrier returns ASYNC_EXEC_WENT_ASYNC to the context.
 */
void arch_async_take_user_context(struct task_struct *from,
				  struct async_user_state *saved)
{
	if (saved) {
		ppc_async_load(&saved->math);
		ppc_async_return_to(&saved->regs, ASYNC_EXEC_WENT_ASYNC);
	} else {
		ppc_async_take(from);
		ppc_async_return_to(from->thread.regs, ASYNC_EXEC_WENT_ASYNC);
	}
}

struct async_user_state *arch_async_save_user(void)
{
	struct async_user_state *state;

	/* State tied to the task could not go with a handoff. */
	if (!arch_async_can_hand_off(current))
		return ERR_PTR(-EOPNOTSUPP);
	state = kmalloc(sizeof(*state), GFP_KERNEL_ACCOUNT);
	if (!state)
		return ERR_PTR(-ENOMEM);
	ppc_async_snapshot(&state->math);
	state->regs = *current_pt_regs();
	return state;
}

/*
 * Back to the threadlet's caller, which async_thread_return() tells that
 * the function ran to its end: ASYNC_EXEC_DONE, or -EFAULT if its result
 * could not be written. With every register restored from pt_regs, the
 * value the system call returns does not reach r3, so it is set here.
 */
void arch_async_restore_user(struct async_user_state *state, long ret)
{
	ppc_async_load(&state->math);
	ppc_async_return_to(&state->regs, ret);
}

void arch_async_free_user(struct async_user_state *state)
{
	kfree(state);
}

/*
 * A function pointer of the task's ABI as the address to branch to: an
 * ELFv1 64-bit task passes the address of a function descriptor {entry,
 * TOC, environment}, whose TOC goes to *toc; ELFv2 and 32-bit tasks pass
 * the entry address itself.
 */
static int ppc_async_func(u64 fn, unsigned long *entry, unsigned long *toc)
{
	struct func_desc __user *desc;

	if (is_32bit_task() || is_elf2_task()) {
		*entry = fn;
		return 0;
	}
	desc = (struct func_desc __user *)(unsigned long)fn;
	if (get_user(*entry, &desc->addr))
		return -EFAULT;
	if (toc && get_user(*toc, &desc->toc))
		return -EFAULT;
	return 0;
}

/* For the generic checks: where an ELFv1 descriptor leads. */
int arch_async_func_entry(u64 fn, u64 *entry)
{
	unsigned long addr;
	int ret;

	ret = ppc_async_func(fn, &addr, NULL);
	*entry = addr;
	return ret;
}

/*
 * The user-entry helper: make @regs enter args->fn(args->arg) on the
 * given stack, as if called from args->restorer, the way signal delivery
 * enters a handler (arch/powerpc/kernel/signal_64.c, signal_32.c).
 *
 * args->fn and args->restorer are function pointers of the task's ABI:
 * for an ELFv1 task, function descriptors. The function is entered with
 * r2 set to its descriptor's TOC (ELFv1) or r12 to its entry (ELFv2);
 * the link register holds the restorer's entry address, and the restorer
 * runs with the function's TOC, so it must not use its own (it only
 * passes r3 to async_thread_return()). The stack gets a minimal frame
 * with a NULL back chain below its 16-byte aligned top.
 */
int arch_async_enter_user(struct pt_regs *regs,
			  const struct async_thread_args *args)
{
	unsigned long entry, restorer, toc = regs->gpr[2];
	unsigned long sp = (args->stack + args->stack_size) & ~15UL;
	int err;

	err = ppc_async_func(args->fn, &entry, &toc);
	if (!err)
		err = ppc_async_func(args->restorer, &restorer, NULL);
	if (err)
		return err;
	if (is_32bit_task()) {
		sp -= __SIGNAL_FRAMESIZE32;
		err = put_user(0U, (u32 __user *)sp);
	} else {
		sp -= __SIGNAL_FRAMESIZE;
		err = put_user(0UL, (unsigned long __user *)sp);
	}
	if (err)
		return -EFAULT;

	regs->gpr[1] = sp;
	regs->gpr[2] = toc;
	regs->gpr[3] = args->arg;
	regs->gpr[12] = entry;
	regs->ctr = entry;
	regs->link = restorer;
	regs->ccr &= ~PPC_SYSCALL_ERROR;
	regs_set_return_ip(regs, entry);
	set_trap_norestart(regs);
	/* r3 is the argument, not async_thread()'s return value. */
	set_thread_flag(TIF_RESTOREALL);
	return 0;
}

/*
 * An atom that forced its success (force_successful_syscall_return())
 * must not force the next atom's, nor the return value of the system
 * call that runs the chain.
 */
void arch_async_atom_reset(void)
{
	clear_thread_flag(TIF_NOERROR);
}
