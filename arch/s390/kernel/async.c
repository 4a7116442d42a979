// SPDX-License-Identifier: GPL-2.0
/*
 * s390 part of asynchronous system call chains: running an atom through
 * the task's own system call table, handing the user context (registers,
 * floating point and vector registers, access registers) to a pool
 * thread, and entering a threadlet function the way signal delivery
 * enters a handler.
 */
#include <linux/async_syscalls.h>
#include <linux/compat.h>
#include <linux/fpu.h>
#include <linux/nospec.h>
#include <linux/preempt.h>
#include <linux/ptrace.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/async.h>
#include <asm/access-regs.h>
#include <asm/ptrace.h>
#include <asm/syscall.h>
#include <asm/unistd.h>

/* The register save area a function may use above its stack pointer. */
#define S390_ASYNC_FRAME	160
#define S390_ASYNC_FRAME_31	96

/* The 64-bit and the 31-bit table have the same length. */
unsigned int arch_async_nr_syscalls(bool compat)
{
	return NR_syscalls;
}

/* 31-bit callers are served: their numbers go to the 31-bit table. */
bool arch_async_refuse_caller(void)
{
	return false;
}

/*
 * Numbers only the 31-bit table has (abi "32" in syscall.tbl) that
 * change credentials: the 16-bit uid and gid calls.
 */
enum {
	S390_COMPAT_NR_setuid16		= 23,
	S390_COMPAT_NR_setgid16		= 46,
	S390_COMPAT_NR_setreuid16	= 70,
	S390_COMPAT_NR_setregid16	= 71,
	S390_COMPAT_NR_setgroups16	= 81,
	S390_COMPAT_NR_setfsuid16	= 138,
	S390_COMPAT_NR_setfsgid16	= 139,
	S390_COMPAT_NR_setresuid16	= 164,
	S390_COMPAT_NR_setresgid16	= 170,
};

/*
 * Every call both tables have has the same number in both, so the
 * native list applies to 31-bit callers as it is; the calls only the
 * 31-bit table has are refused where they change credentials.
 */
bool arch_async_compat_nr_denied(unsigned int nr)
{
	switch (nr) {
	case S390_COMPAT_NR_setuid16:
	case S390_COMPAT_NR_setgid16:
	case S390_COMPAT_NR_setreuid16:
	case S390_COMPAT_NR_setregid16:
	case S390_COMPAT_NR_setgroups16:
	case S390_COMPAT_NR_setfsuid16:
	case S390_COMPAT_NR_setfsgid16:
	case S390_COMPAT_NR_setresuid16:
	case S390_COMPAT_NR_setresgid16:
		return true;
	default:
		return async_nr_denied(nr);
	}
}

/* Make @regs return what a number without a system call returns. */
void arch_async_atom_nosys(struct pt_regs *regs)
{
	regs->gprs[2] = __s390x_sys_ni_syscall();
}

/*
 * The system call wrappers read the first argument from orig_gpr2 and
 * the others from gprs[3] to gprs[7]; syscall_get_nr() reads int_code.
 */
static void s390_async_atom_args(struct pt_regs *regs, unsigned int nr,
				 const u64 *args)
{
	regs->int_code = (regs->int_code & ~0xffffUL) | nr;
	regs->orig_gpr2 = args[0];
	regs->gprs[3] = args[1];
	regs->gprs[4] = args[2];
	regs->gprs[5] = args[3];
	regs->gprs[6] = args[4];
	regs->gprs[7] = args[5];
}

/*
 * Show an atom in @regs the way a direct system call shows there: number,
 * arguments, and arch_async_atom_nosys()'s value until it returns.
 */
void arch_async_atom_regs(struct pt_regs *regs, unsigned int nr, const u64 *args)
{
	s390_async_atom_args(regs, nr, args);
	arch_async_atom_nosys(regs);
}

/*
 * Run atom @nr through the task's system call table, which is the 64-bit
 * or the 31-bit one depending on the task. The wrappers read only the
 * argument registers of @scratch, so the other ones are left as they
 * are: a chain passes the same scratch registers for all its atoms.
 */
long arch_async_syscall(struct pt_regs *scratch, unsigned int nr,
			const u64 *args)
{
	/* Checked at submission; array_index_nospec() needs the bound. */
	if (WARN_ON_ONCE(nr >= NR_syscalls))
		return -EINVAL;
	nr = array_index_nospec(nr, NR_syscalls);
	s390_async_atom_args(scratch, nr, args);
	scratch->gprs[2] = args[0];
	return current->thread.sys_call_table[nr](scratch);
}

/*
 * The user context can move to another task unless it holds state that
 * is tied to this task: a guarded storage or runtime instrumentation
 * control block.
 */
bool arch_async_can_hand_off(struct task_struct *tsk)
{
	return !tsk->thread.gs_cb && !is_ri_task(tsk);
}

/*
 * In the scheduler hook, which must not sleep: put the user's floating
 * point, vector and access registers where the carrier reads them. The
 * carrier may run before this task is switched out.
 */
void arch_async_handoff_prepare(void)
{
	save_user_fpu_regs();
	save_access_regs(&current->thread.acrs[0]);
}

/* A threadlet's caller: its registers and FPU/vector state at the call. */
struct async_user_state {
	struct pt_regs	regs;
	struct fpu	fpu;
};

/*
 * Replace the user floating point and vector registers of the current
 * task: once saved, they are loaded from thread.ufpu on the way out.
 */
static void s390_async_load_fpu(const struct fpu *fpu)
{
	save_user_fpu_regs();
	current->thread.ufpu = *fpu;
}

/*
 * In the carrier: registers, floating point, vector and access registers
 * (the latter hold the thread pointer). For a threadlet's caller, whose
 * task runs the threadlet with registers of its own, the registers and
 * FPU state come from @saved. The context returns from async_exec() or
 * async_thread() with ASYNC_EXEC_WENT_ASYNC, which the return path of a
 * new thread does not set on s390.
 */
void arch_async_take_user_context(struct task_struct *from,
				  struct async_user_state *saved)
{
	struct pt_regs *regs = current_pt_regs();

	if (saved) {
		*regs = saved->regs;
		s390_async_load_fpu(&saved->fpu);
	} else {
		*regs = *task_pt_regs(from);
		s390_async_load_fpu(&from->thread.ufpu);
	}
	regs->gprs[2] = ASYNC_EXEC_WENT_ASYNC;
	/* A context switch saves the access registers over thread.acrs. */
	preempt_disable();
	memcpy(current->thread.acrs, from->thread.acrs,
	       sizeof(current->thread.acrs));
	restore_access_regs(&current->thread.acrs[0]);
	preempt_enable();
	current->thread.last_break = from->thread.last_break;
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
	save_user_fpu_regs();
	state->fpu = current->thread.ufpu;
	state->regs = *current_pt_regs();
	return state;
}

void arch_async_restore_user(struct async_user_state *state, long ret)
{
	*current_pt_regs() = state->regs;
	s390_async_load_fpu(&state->fpu);
}

void arch_async_free_user(struct async_user_state *state)
{
	kfree(state);
}

/*
 * The user-entry helper: make @regs enter args->fn(args->arg) on the
 * given stack, as if called from args->restorer. As for signal delivery
 * (signal.c, compat_signal.c): r14 holds the return address, r15 the
 * 8-byte aligned stack pointer below the register save area the ABI
 * gives a called function, with a zero back chain ending the stack, and
 * the address space control is reset. A 31-bit task's return address
 * carries the addressing mode bit and its save area is 96 bytes.
 * async_thread() returns the argument, since r2 carries both.
 */
int arch_async_enter_user(struct pt_regs *regs,
			  const struct async_thread_args *args)
{
	unsigned long sp = (args->stack + args->stack_size) & -8UL;
	unsigned long restorer = args->restorer;
	unsigned long amode = PSW_MASK_EA | PSW_MASK_BA;

	/*
	 * A 31-bit caller's addresses have been checked to fit in 32 bits
	 * and to lie in mappings, so below 2 GiB.
	 */
	if (is_compat_task()) {
		sp -= S390_ASYNC_FRAME_31;
		if (put_user(0U, (u32 __user *)sp))
			return -EFAULT;
		restorer |= PSW32_ADDR_AMODE;
		amode = PSW_MASK_BA;
	} else {
		sp -= S390_ASYNC_FRAME;
		if (put_user(0UL, (unsigned long __user *)sp))
			return -EFAULT;
	}
	regs->gprs[14] = restorer;
	regs->gprs[15] = sp;
	regs->gprs[2] = args->arg;
	regs->psw.mask = amode | (PSW_USER_BITS & PSW_MASK_ASC) |
			 (regs->psw.mask & ~PSW_MASK_ASC);
	regs->psw.addr = args->fn;
	return 0;
}

/* Nothing on s390 forces a syscall's return value beyond the syscall. */
void arch_async_atom_reset(void)
{
}
