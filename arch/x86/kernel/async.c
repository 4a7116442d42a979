// SPDX-License-Identifier: GPL-2.0
/*
 * x86 part of asynchronous system call chains: running an atom through
 * the architecture's own dispatch, so generic code never sees a table.
 */
#include <linux/async_syscalls.h>
#include <linux/compat.h>
#include <linux/nospec.h>
#include <linux/ptrace.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/async.h>
#include <asm/async.h>
#include <asm/fsgsbase.h>
#include <asm/prctl.h>
#include <asm/syscall.h>
#include <asm/unistd.h>

unsigned int arch_async_nr_syscalls(bool compat)
{
#ifdef CONFIG_IA32_EMULATION
	if (compat)
		return IA32_NR_syscalls;
#endif
	return compat ? 0 : NR_syscalls;
}

/*
 * x32 callers are refused: their system call numbers carry a flag bit
 * and their arguments are 64-bit, which fits neither path.
 */
bool arch_async_refuse_caller(void)
{
	return in_x32_syscall();
}

#ifdef CONFIG_IA32_EMULATION
/*
 * async_nr_denied() of kernel/async/core.c in ia32 numbers, plus the
 * calls only ia32 has: the 32-bit uid variants, the old signal mask
 * calls and sigreturn, and the thread's TLS descriptors.
 */
bool arch_async_compat_nr_denied(unsigned int nr)
{
	switch (nr) {
	case __NR_ia32_fork:
	case __NR_ia32_vfork:
	case __NR_ia32_clone:
	case __NR_ia32_clone3:
	case __NR_ia32_execve:
	case __NR_ia32_execveat:
	case __NR_ia32_exit:
	case __NR_ia32_exit_group:
	case __NR_ia32_arch_prctl:
	case __NR_ia32_set_thread_area:
	case __NR_ia32_sigreturn:
	case __NR_ia32_rt_sigreturn:
	case __NR_ia32_async_exec:
	case __NR_ia32_async_wait:
	case __NR_ia32_async_cancel:
	case __NR_ia32_async_thread:
	case __NR_ia32_async_thread_return:
	case __NR_ia32_vas_create:
	case __NR_ia32_vas_attach:
	case __NR_ia32_vas_switch:
	case __NR_ia32_setuid:
	case __NR_ia32_setuid32:
	case __NR_ia32_setgid:
	case __NR_ia32_setgid32:
	case __NR_ia32_setreuid:
	case __NR_ia32_setreuid32:
	case __NR_ia32_setregid:
	case __NR_ia32_setregid32:
	case __NR_ia32_setresuid:
	case __NR_ia32_setresuid32:
	case __NR_ia32_setresgid:
	case __NR_ia32_setresgid32:
	case __NR_ia32_setfsuid:
	case __NR_ia32_setfsuid32:
	case __NR_ia32_setfsgid:
	case __NR_ia32_setfsgid32:
	case __NR_ia32_setgroups:
	case __NR_ia32_setgroups32:
	case __NR_ia32_capset:
	case __NR_ia32_keyctl:
	case __NR_ia32_unshare:
	case __NR_ia32_setns:
	case __NR_ia32_personality:
	case __NR_ia32_prctl:
	case __NR_ia32_seccomp:
	case __NR_ia32_set_tid_address:
	case __NR_ia32_set_robust_list:
	case __NR_ia32_rseq:
	case __NR_ia32_sigaltstack:
	case __NR_ia32_sigprocmask:
	case __NR_ia32_rt_sigprocmask:
	case __NR_ia32_ssetmask:
	case __NR_ia32_sigsuspend:
	case __NR_ia32_rt_sigsuspend:
		return true;
	default:
		return false;
	}
}

static void ia32_async_atom_args(struct pt_regs *regs, unsigned int nr,
				 const u64 *args)
{
	regs->orig_ax = nr;
	regs->bx = args[0];
	regs->cx = args[1];
	regs->dx = args[2];
	regs->si = args[3];
	regs->di = args[4];
	regs->bp = args[5];
}
#else
bool arch_async_compat_nr_denied(unsigned int nr)
{
	return true;
}
#endif

/* Make @regs return what a number without a system call returns. */
void arch_async_atom_nosys(struct pt_regs *regs)
{
	regs->ax = __x64_sys_ni_syscall(regs);
}

static void x86_async_atom_args(struct pt_regs *regs, unsigned int nr,
				const u64 *args)
{
	regs->orig_ax = nr;
	regs->di = args[0];
	regs->si = args[1];
	regs->dx = args[2];
	regs->r10 = args[3];
	regs->r8 = args[4];
	regs->r9 = args[5];
}

/*
 * Show an atom in @regs the way a direct system call shows there: number,
 * arguments, and arch_async_atom_nosys()'s value until it returns.
 */
void arch_async_atom_regs(struct pt_regs *regs, unsigned int nr, const u64 *args)
{
#ifdef CONFIG_IA32_EMULATION
	if (in_ia32_syscall())
		ia32_async_atom_args(regs, nr, args);
	else
#endif
		x86_async_atom_args(regs, nr, args);
	arch_async_atom_nosys(regs);
}

/*
 * Run atom @nr through x64_sys_call(), or ia32_sys_call() for a chain an
 * ia32 task submitted (the atoms run inside its async_exec(), so
 * in_ia32_syscall() still says so). The system call wrappers read only
 * the argument registers of @scratch, so the other ones are left as they
 * are: a chain passes the same scratch registers for all its atoms.
 */
long arch_async_syscall(struct pt_regs *scratch, unsigned int nr,
			const u64 *args)
{
#ifdef CONFIG_IA32_EMULATION
	if (in_ia32_syscall()) {
		if (WARN_ON_ONCE(nr >= IA32_NR_syscalls))
			return -EINVAL;
		nr = array_index_nospec(nr, IA32_NR_syscalls);
		ia32_async_atom_args(scratch, nr, args);
		return ia32_sys_call(scratch, nr);
	}
#endif
	/* Checked at submission; array_index_nospec() needs the bound. */
	if (WARN_ON_ONCE(nr >= NR_syscalls))
		return -EINVAL;
	nr = array_index_nospec(nr, NR_syscalls);
	x86_async_atom_args(scratch, nr, args);
	return x64_sys_call(scratch, nr);
}

/*
 * The user context can move to another task unless it holds state that
 * is tied to this task: dynamic FPU features (AMX), an I/O permission
 * bitmap, a shadow stack.
 */
bool arch_async_can_hand_off(struct task_struct *tsk)
{
	if (!fpu_async_can_carry(tsk))
		return false;
	if (tsk->thread.io_bitmap)
		return false;
#ifdef CONFIG_X86_USER_SHADOW_STACK
	if (tsk->thread.features & ARCH_SHSTK_SHSTK)
		return false;
#endif
	return true;
}

/* In the scheduler hook: leave the user context where the carrier finds it. */
void arch_async_handoff_prepare(void)
{
	fpu_async_freeze();
	current_save_fsgs();
}

/* A threadlet's caller: its registers and FPU/vector state at the call. */
struct async_user_state {
	struct pt_regs	regs;
	unsigned int	fpu_size;
	void		*fpu;
};

/*
 * In the carrier: registers, FPU and vector state, segments and TLS; the
 * registers and FPU state from @saved for a threadlet's caller, whose
 * task runs the threadlet with registers of its own.
 */
void arch_async_take_user_context(struct task_struct *from,
				  struct async_user_state *saved)
{
	if (saved) {
		*current_pt_regs() = saved->regs;
		fpu_async_load(saved->fpu, saved->fpu_size);
	} else {
		*current_pt_regs() = *task_pt_regs(from);
		fpu_async_take(from);
	}
	x86_async_take_segments(from);
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
	state->fpu = fpu_async_snapshot(&state->fpu_size);
	if (!state->fpu) {
		kfree(state);
		return ERR_PTR(-ENOMEM);
	}
	state->regs = *current_pt_regs();
	return state;
}

void arch_async_restore_user(struct async_user_state *state, long ret)
{
	*current_pt_regs() = state->regs;
	fpu_async_load(state->fpu, state->fpu_size);
}

void arch_async_free_user(struct async_user_state *state)
{
	kfree(state->fpu);
	kfree(state);
}

/*
 * The user-entry helper: make @regs enter args->fn(args->arg) on the
 * given stack, as if called from args->restorer. As for signal delivery,
 * the direction, resume and trap flags are cleared. The x86-64 ABI wants
 * the stack pointer plus 8 16-byte aligned at a function's first
 * instruction, with the return address at the stack pointer and the
 * argument in %rdi. The i386 ABI has the argument on the stack above the
 * return address, and that argument 16-byte aligned. async_thread()
 * returns the value left in the return register.
 */
int arch_async_enter_user(struct pt_regs *regs,
			  const struct async_thread_args *args)
{
	unsigned long sp = (args->stack + args->stack_size) & ~15UL;

	if (in_ia32_syscall()) {
		u32 frame[2] = { args->restorer, args->arg };

		sp -= 16 + sizeof(u32);
		if (copy_to_user((void __user *)sp, frame, sizeof(frame)))
			return -EFAULT;
	} else {
		sp -= sizeof(u64);
		if (put_user(args->restorer, (u64 __user *)sp))
			return -EFAULT;
		regs->di = args->arg;
	}
	regs->ip = args->fn;
	regs->sp = sp;
	/* What async_thread() returns, in a register the function ignores. */
	regs->ax = 0;
	regs->flags &= ~(X86_EFLAGS_DF | X86_EFLAGS_RF | X86_EFLAGS_TF);
	return 0;
}

/* Nothing on x86 forces a syscall's return value beyond the syscall. */
void arch_async_atom_reset(void)
{
}
