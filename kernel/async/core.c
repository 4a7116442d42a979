// SPDX-License-Identifier: GPL-2.0
/*
 * Asynchronous system call chains: validation and execution of atoms.
 *
 * A chain is copied into the kernel in one piece and validated before the
 * first atom runs. From then on no user memory is read: arguments are
 * either immediates or results of earlier atoms, kept in the chain.
 */
#include <linux/async_syscalls.h>
#include <linux/audit.h>
#include <linux/errno.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task_stack.h>
#include <linux/seccomp.h>
#include <linux/slab.h>
#include <linux/task_work.h>
#include <linux/uaccess.h>
#include <linux/unistd.h>
#include <asm/syscall.h>
#include <trace/events/syscalls.h>

#include "internal.h"

/*
 * The one decision on which system calls may run as an atom. Refused:
 * calls that change the shape of the process or of the calling thread
 * (they would act on whichever task happens to run the chain), the
 * asynchronous calls themselves and the numbers reserved next to them,
 * and calls that change credentials. The list is documented in
 * Documentation/userspace-api/async.rst.
 */
bool async_nr_denied(unsigned int nr)
{
	switch (nr) {
#ifdef __NR_fork
	case __NR_fork:
#endif
#ifdef __NR_vfork
	case __NR_vfork:
#endif
#ifdef __NR_arch_prctl
	case __NR_arch_prctl:
#endif
#ifdef __NR_rt_sigreturn
	case __NR_rt_sigreturn:
#endif
#ifdef __NR_sigreturn
	case __NR_sigreturn:
#endif
#ifdef __NR_sigprocmask
	case __NR_sigprocmask:
#endif
#ifdef __NR_sigsuspend
	case __NR_sigsuspend:
#endif
#ifdef __NR_s390_runtime_instr
	case __NR_s390_runtime_instr:
#endif
#ifdef __NR_s390_guarded_storage
	case __NR_s390_guarded_storage:
#endif
#ifdef __NR_swapcontext
	case __NR_swapcontext:
#endif
#ifdef __NR_switch_endian
	case __NR_switch_endian:
#endif
	case __NR_clone:
	case __NR_clone3:
	case __NR_execve:
	case __NR_execveat:
	case __NR_exit:
	case __NR_exit_group:
	case __NR_async_exec:
	case __NR_async_wait:
	case __NR_async_cancel:
	case __NR_async_thread:
	case __NR_async_thread_return:
	case __NR_vas_create:
	case __NR_vas_attach:
	case __NR_vas_switch:
	case __NR_setuid:
	case __NR_setgid:
	case __NR_setreuid:
	case __NR_setregid:
	case __NR_setresuid:
	case __NR_setresgid:
	case __NR_setfsuid:
	case __NR_setfsgid:
	case __NR_setgroups:
	case __NR_capset:
	case __NR_keyctl:
	case __NR_unshare:
	case __NR_setns:
	case __NR_personality:
	case __NR_prctl:
	case __NR_seccomp:
	case __NR_set_tid_address:
	case __NR_set_robust_list:
	case __NR_rseq:
	case __NR_sigaltstack:
	case __NR_rt_sigprocmask:
	case __NR_rt_sigsuspend:
		return true;
	default:
		return false;
	}
}

/* May @nr run as an atom of a chain submitted through this ABI? */
bool async_syscall_allowed(unsigned int nr, bool compat)
{
	if (nr >= arch_async_nr_syscalls(compat))
		return false;
	if (compat)
		return !arch_async_compat_nr_denied(nr);
	return !async_nr_denied(nr);
}

/*
 * True while @tsk runs a chain atom or a threadlet: its user context may
 * move to a pool thread, which runs in the process's own mm (mm/vas/).
 */
bool async_task_in_chain(struct task_struct *tsk)
{
	return tsk->async_chain;
}

/*
 * A chain with room for @nr_atoms atoms (none for a threadlet), its
 * header cleared. The results and the scratch registers are not: each
 * result is written by its atom before a later atom can refer to it, and
 * arch_async_syscall() sets the registers it passes on.
 */
struct async_chain *async_chain_alloc(unsigned int nr_atoms)
{
	struct async_chain *chain;

	chain = kmalloc(struct_size(chain, atoms, nr_atoms), GFP_KERNEL_ACCOUNT);
	if (chain) {
		memset(chain, 0, offsetof(struct async_chain, results));
		chain->nr_atoms = nr_atoms;
	}
	return chain;
}

static int async_validate_atom(const struct async_chain *chain,
			       unsigned int idx, bool compat)
{
	const struct async_atom *atom = &chain->atoms[idx];
	unsigned int i;

	if (atom->reserved || atom->ref_mask & ~ASYNC_ARG_REF_MASK)
		return -EINVAL;
	if (atom->stop >= ASYNC_STOP_NR)
		return -EINVAL;
	if (!async_syscall_allowed(atom->nr, compat))
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(atom->args); i++) {
		/* Only earlier atoms: the chain stays linear. */
		if (atom->ref_mask & ASYNC_ARG_REF(i) && atom->args[i] >= idx)
			return -EINVAL;
	}
	if (atom->result) {
		if (!IS_ALIGNED(atom->result, sizeof(s64)))
			return -EINVAL;
		if (!access_ok(u64_to_user_ptr(atom->result), sizeof(s64)))
			return -EFAULT;
	}
	return 0;
}

int async_validate_chain(struct async_chain *chain, bool compat)
{
	unsigned int i;
	int ret;

	for (i = 0; i < chain->nr_atoms; i++) {
		ret = async_validate_atom(chain, i, compat);
		if (ret)
			return ret;
	}
	return 0;
}

static bool async_should_stop(u16 stop, s64 ret)
{
	switch (stop) {
	case ASYNC_STOP_ZERO:
		return ret == 0;
	case ASYNC_STOP_NONZERO:
		return ret != 0;
	case ASYNC_STOP_NEGATIVE:
		return ret < 0;
	case ASYNC_STOP_NONPOSITIVE:
		return ret <= 0;
	case ASYNC_STOP_ERROR:
		return IS_ERR_VALUE((unsigned long)ret);
	default:
		return false;
	}
}

/* Syscall entry and exit work that applies to the atoms of this task. */
enum {
	ASYNC_WORK_TRACE	= BIT(0),	/* ptrace syscall stops */
	ASYNC_WORK_EMU		= BIT(1),	/* PTRACE_SYSEMU */
	ASYNC_WORK_TRACEPOINT	= BIT(2),	/* sys_enter, sys_exit */
	ASYNC_WORK_SECCOMP	= BIT(3),
	ASYNC_WORK_AUDIT	= BIT(4),
};

static unsigned int async_atom_work(void)
{
	unsigned int work = 0;
#ifdef CONFIG_GENERIC_ENTRY
	unsigned long sw = READ_ONCE(current_thread_info()->syscall_work);

	if (sw & SYSCALL_WORK_SYSCALL_TRACE)
		work |= ASYNC_WORK_TRACE;
	if (sw & SYSCALL_WORK_SYSCALL_EMU)
		work |= ASYNC_WORK_EMU;
	if (sw & SYSCALL_WORK_SYSCALL_TRACEPOINT)
		work |= ASYNC_WORK_TRACEPOINT;
#else
	if (test_thread_flag(TIF_SYSCALL_TRACE))
		work |= ASYNC_WORK_TRACE;
#ifdef TIF_SYSCALL_EMU
	if (test_thread_flag(TIF_SYSCALL_EMU))
		work |= ASYNC_WORK_EMU;
#endif
#ifdef TIF_SYSCALL_TRACEPOINT
	if (test_thread_flag(TIF_SYSCALL_TRACEPOINT))
		work |= ASYNC_WORK_TRACEPOINT;
#endif
#endif
#ifdef CONFIG_SECCOMP
	if (READ_ONCE(current->seccomp.mode) != SECCOMP_MODE_DISABLED)
		work |= ASYNC_WORK_SECCOMP;
#endif
	if (audit_context())
		work |= ASYNC_WORK_AUDIT;
	return work;
}

/*
 * One atom on its way through the system call entry and exit work. While
 * that work runs, the registers user space saved at async_exec() show the
 * atom (number, arguments, then its return value), because that is where
 * ptrace, seccomp and tracepoints read them and where a tracer changes
 * them; the caller's registers are put back before the call runs and
 * after the exit work, so a handoff never sees the atom's.
 */
struct async_atom_call {
	unsigned int		work;
	unsigned int		nr;
	bool			compat;
	u64			args[6];
	struct audit_nested_syscall audit;
	struct pt_regs		user;		/* the caller's registers */
};

/*
 * What a tracer left as the atom's result. A compat task's tracer writes
 * 32 bits, and an error it sets may arrive zero-extended (powerpc): give
 * that its sign back, as a 32-bit caller would read it.
 */
static long async_atom_traced_result(const struct async_atom_call *call,
				     struct pt_regs *regs)
{
	long ret = syscall_get_return_value(current, regs);

	if (call->compat && (unsigned long)ret == (u32)ret &&
	    IS_ERR_VALUE((long)(s32)ret))
		return (s32)ret;
	return ret;
}

static void async_atom_show(struct async_atom_call *call, struct pt_regs *regs)
{
	call->user = *regs;
	arch_async_atom_regs(regs, call->nr, call->args);
}

/*
 * The entry work of a direct system call, in syscall_trace_enter()'s
 * order: ptrace, seccomp, tracepoint, audit. Returns false when the atom
 * must not run; *ret then holds what it returns instead.
 */
static bool async_atom_enter(struct async_chain *chain,
			     struct async_atom_call *call, long *ret)
{
	struct pt_regs *regs = current_pt_regs();
	unsigned long args[6];
	unsigned int i;
	long nr;

	async_atom_show(call, regs);
	if (call->work & (ASYNC_WORK_TRACE | ASYNC_WORK_EMU)) {
		if (ptrace_report_syscall_entry(regs) ||
		    (call->work & ASYNC_WORK_EMU))
			goto skip;
	}
	/* After ptrace, to judge what the tracer left. */
	if (call->work & ASYNC_WORK_SECCOMP) {
		if (__secure_computing(NULL) == -1)
			goto skip;
	}
	nr = syscall_get_nr(current, regs);
	if (call->work & ASYNC_WORK_TRACEPOINT) {
		trace_sys_enter(regs, nr);
		nr = syscall_get_nr(current, regs);
	}
	if (nr == -1)
		goto skip;
	/* A tracer may change the call, but not into one atoms may not make. */
	if (nr != call->nr && !async_syscall_allowed(nr, chain->compat)) {
		arch_async_atom_nosys(regs);
		goto skip;
	}
	syscall_get_arguments(current, regs, args);
	call->nr = nr;
	for (i = 0; i < ARRAY_SIZE(call->args); i++)
		call->args[i] = args[i];
	if (call->work & ASYNC_WORK_AUDIT)
		audit_nested_syscall_entry(&call->audit, nr, args[0], args[1],
					   args[2], args[3]);
	*regs = call->user;
	return true;
skip:
	*ret = async_atom_traced_result(call, regs);
	*regs = call->user;
	return false;
}

/* The exit work, in syscall_exit_work()'s order. Returns the result. */
static long async_atom_exit(struct async_atom_call *call, bool ran, long ret)
{
	struct pt_regs *regs = current_pt_regs();

	/* Only a single-step report follows an emulated call. */
	if (!ran && (call->work & ASYNC_WORK_EMU))
		return ret;
	async_atom_show(call, regs);
	syscall_set_return_value(current, regs, 0, ret);
	if (ran && (call->work & ASYNC_WORK_AUDIT))
		audit_nested_syscall_exit(&call->audit, ret);
	if (call->work & ASYNC_WORK_TRACEPOINT)
		trace_sys_exit(regs, ret);
	if (call->work & ASYNC_WORK_TRACE)
		ptrace_report_syscall_exit(regs, 0);
	/* A tracer may change the result at the exit stop. */
	ret = async_atom_traced_result(call, regs);
	*regs = call->user;
	return ret;
}

static long async_atom_call(struct async_chain *chain, unsigned int nr,
			    const u64 *args)
{
	long ret;

	/* Armed only around the call itself: its sleeps are the cachemisses. */
	if (chain->may_hand_off &&
	    !test_bit(ASYNC_CHAIN_WENT_ASYNC, &chain->flags)) {
		current->async_chain = chain;
		current->flags |= PF_ASYNC_ATOM;
	}
	ret = arch_async_syscall(&chain->atom_regs, nr, args);
	current->flags &= ~PF_ASYNC_ATOM;
	current->async_chain = NULL;
	/* The user state is the carrier's once it has settled. */
	if (test_bit(ASYNC_CHAIN_WENT_ASYNC, &chain->flags))
		async_detach(chain);
	return ret;
}

/*
 * The atom with the entry and exit work of a direct call. Out of line:
 * its frame holds the caller's registers, which a stack cleared on entry
 * (CONFIG_INIT_STACK_ALL_ZERO) would otherwise clear for every atom.
 */
static noinline long async_run_atom_work(struct async_chain *chain,
					 unsigned int work, unsigned int nr,
					 const u64 *args)
{
	struct async_atom_call call;
	long ret;
	bool ran;

	call.work = work;
	call.nr = nr;
	call.compat = chain->compat;
	memcpy(call.args, args, sizeof(call.args));
	ran = async_atom_enter(chain, &call, &ret);
	if (ran)
		ret = async_atom_call(chain, call.nr, call.args);
	return async_atom_exit(&call, ran, ret);
}

/*
 * Run one atom as the system call it is: whatever would see, filter,
 * change or refuse a direct call (ptrace, seccomp, syscall tracepoints,
 * audit) does the same to the atom. A task without such work takes the
 * short path.
 */
static long async_run_atom(struct async_chain *chain, unsigned int nr,
			   const u64 *args)
{
	unsigned int work = async_atom_work();

	if (likely(!work))
		return async_atom_call(chain, nr, args);
	return async_run_atom_work(chain, work, nr, args);
}

/*
 * Undo the per system call state an atom may leave behind, so the next
 * atom starts like a fresh system call: restart requests cannot be
 * honoured inside a chain and become -EINTR, and a signal mask saved by
 * ppoll() and friends is restored now.
 */
static long async_atom_cleanup(long ret)
{
	switch (ret) {
	case -ERESTARTSYS:
	case -ERESTARTNOINTR:
	case -ERESTARTNOHAND:
	case -ERESTART_RESTARTBLOCK:
		ret = -EINTR;
		break;
	}
	current->restart_block.fn = do_no_restart_syscall;
	restore_saved_sigmask();
	arch_async_atom_reset();
	return ret;
}

/* A cancellation interrupted us like a signal; consume the notification. */
static void async_chain_ack_cancel(void)
{
	if (test_thread_flag(TIF_NOTIFY_SIGNAL)) {
		clear_notify_signal();
		if (task_work_pending(current))
			task_work_run();
	}
}

void async_run_chain(struct async_chain *chain)
{
	unsigned int i, a;
	u64 args[6];
	long ret = 0;

	for (i = 0; i < chain->nr_atoms; i++) {
		const struct async_atom *atom = &chain->atoms[i];
		bool stop;

		for (a = 0; a < ARRAY_SIZE(args); a++) {
			if (atom->ref_mask & ASYNC_ARG_REF(a))
				args[a] = chain->results[atom->args[a]];
			else
				args[a] = atom->args[a];
		}
		ret = async_atom_cleanup(async_run_atom(chain, atom->nr, args));
		stop = async_should_stop(atom->stop, ret);
		if (test_bit(ASYNC_CHAIN_CANCELED, &chain->flags)) {
			async_chain_ack_cancel();
			if (ret == -EINTR)
				ret = -ECANCELED;
			stop = true;
		}
		chain->results[i] = ret;
		chain->last = i;
		if (atom->result &&
		    put_user((s64)ret, (s64 __user *)u64_to_user_ptr(atom->result))) {
			set_bit(ASYNC_CHAIN_RESULT_FAULT, &chain->flags);
			stop = true;
		}
		if (stop || fatal_signal_pending(current))
			break;
		cond_resched();
	}
	/*
	 * From here async_cancel() answers -EALREADY, so the cancelled bit
	 * is final and status and flags agree.
	 */
	spin_lock(&chain->ctx->lock);
	chain->state = ASYNC_CHAIN_COMPLETING;
	spin_unlock(&chain->ctx->lock);
	chain->status = ret;
	if (test_bit(ASYNC_CHAIN_CANCELED, &chain->flags)) {
		/* Cancelled after the last atom ended: drop the notification. */
		async_chain_ack_cancel();
		chain->status = -ECANCELED;
	}
}
