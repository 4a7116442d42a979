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
	return compat ? 0 : NR_syscalls;
}

/*
 * ia32 and x32 callers are refused for now: their chains need the
 * compat copy-in, which comes together with the other architectures.
 */
bool arch_async_refuse_caller(void)
{
	return in_compat_syscall();
}

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
	x86_async_atom_args(regs, nr, args);
	arch_async_atom_nosys(regs);
}

/*
 * Run atom @nr through x64_sys_call(). The system call wrappers read only
 * the argument registers of @scratch, so the other ones are left as they
 * are: a chain passes the same scratch registers for all its atoms.
 */
long arch_async_syscall(struct pt_regs *scratch, unsigned int nr,
			const u64 *args)
{
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

void arch_async_restore_user(struct async_user_state *state)
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
 * instruction, with the return address at the stack pointer.
 */
int arch_async_enter_user(struct pt_regs *regs,
			  const struct async_thread_args *args)
{
	unsigned long sp = (args->stack + args->stack_size) & ~15UL;

	sp -= sizeof(u64);
	if (put_user(args->restorer, (u64 __user *)sp))
		return -EFAULT;
	regs->ip = args->fn;
	regs->sp = sp;
	regs->di = args->arg;
	regs->flags &= ~(X86_EFLAGS_DF | X86_EFLAGS_RF | X86_EFLAGS_TF);
	return 0;
}

/* Nothing on x86 forces a syscall's return value beyond the syscall. */
void arch_async_atom_reset(void)
{
}
